#!/usr/bin/env python3
"""Times libzint encoding Grid Matrix on the inputs of benches/inputs.txt, for comparison with
`cargo bench -p gridmatrix --bench encode` in the same run.

Uses the PyPI package zint-bindings (libzint bundled; listed in .ci/packages/gridmatrix.pip):
    /opt/ecert-oracles/bin/python crates/gridmatrix/benches/zint_bench.py
Each timed call is Symbol.clear() + Symbol.encode(text): zint's whole job (UTF-8 -> GB 2312,
segmentation, codewords, RS, module matrix), plus the Python call overhead, which is not
subtracted (the cost of a lambda + clear() call is printed for reference). Wall time
(perf_counter) and the thread's CPU time (thread_time, CLOCK_THREAD_CPUTIME_ID) are both
reported, as in benches/encode.rs.
"""
import os
import statistics
import sys
import time
import timeit

try:
    import zint
except ImportError:
    sys.exit("zint_bench.py: Python package zint-bindings is missing (pip install zint-bindings; see .ci/packages/gridmatrix.pip)")

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "inputs.txt"), encoding="utf-8") as f:
    url, cn = [line.rstrip("\n") for line in f if line.strip()][:2]
assert (len(url), len(cn)) == (60, 200)

sym = zint.Symbol()
sym.symbology = zint.Symbology.GRIDMATRIX
sym.input_mode = zint.InputMode.UNICODE  # text: UTF-8 -> GB 2312, as gridmatrix::encode


def once(text):
    sym.clear()
    sym.encode(text)


def bench(name, text, number):
    once(text)
    size = sym.rows
    for label, timer in (("wall", time.perf_counter), ("cpu", time.thread_time)):
        times = timeit.repeat(lambda: once(text), number=number, repeat=9, timer=timer)
        per = [t / number * 1e6 for t in times]
        print(f"zint {name} ({label}): median {statistics.median(per):.2f} us, min {min(per):.2f} us "
              f"per encode ({size}x{size} modules, {number} x 9 runs)")


noop = timeit.repeat(lambda: sym.clear(), number=20000, repeat=5)
print(f"python overhead (lambda + clear()): {min(noop) / 20000 * 1e6:.3f} us")
bench("url60", url, 2000)
bench("chinese200", cn, 500)
