#!/usr/bin/env python3
"""Oracle helper for tests/zint_bindings.rs: libzint (bundled in PyPI zint-bindings, a newer
zint than Debian's) encodes Grid Matrix symbols.

stdin: one JSON object a line: {"hex": input bytes, "vers": int|null, "secure": int|null,
"eci": int|null, "binary": bool}. stdout: one JSON object a line: {"rows": [...]} or
{"error": "..."}; the first line is {"zint": upstream version}.
"""
import json
import sys

try:
    import zint
except ImportError:
    sys.exit("zint_bindings_oracle.py: Python package zint-bindings is missing "
             "(see .ci/packages/gridmatrix.pip; run scripts/setup)")

print(json.dumps({"zint": zint.__upstream_version__}), flush=True)
for line in sys.stdin:
    if not line.strip():
        continue
    req = json.loads(line)
    sym = zint.Symbol()
    sym.symbology = zint.Symbology.GRIDMATRIX
    if req.get("vers"):
        sym.option_2 = req["vers"]
    if req.get("secure"):
        sym.option_1 = req["secure"]
    if req.get("eci"):
        sym.eci = req["eci"]
    data = bytes.fromhex(req["hex"])
    sym.input_mode = zint.InputMode.DATA if req.get("binary") else zint.InputMode.UNICODE
    try:
        sym.encode(data)
    except Exception as e:  # zint reports errors as exceptions
        print(json.dumps({"error": str(e)}), flush=True)
        continue
    m = sym.encoded_data
    rows = ["".join("1" if (m[y, x >> 3] >> (x & 7)) & 1 else "0" for x in range(sym.width))
            for y in range(sym.rows)]
    print(json.dumps({"rows": rows}), flush=True)
