#!/usr/bin/env bash
# Makes crates/gridmatrix/tests/data/zint-single-class.jsonl: Grid Matrix symbols made by
# Debian's zint (`zint -b GRIDMATRIX --dump`) for inputs of one character class (digits,
# A-Z + space, a-z + space, GB 2312 characters) with version and ECC level forced, so that
# the bit stream is fixed by the standard and any correct encoder gives the same symbol.
# Covers every (version, ECC) pair at the largest input that fits, Numeral last-group
# lengths 1-3, and GB 2312 rows A1-A9 (symbols) and B0-F7 (hanzi, levels 1 and 2).
#
# Only cases where zint kept the requested ECC level (the data fit) are written.
# Byte-only inputs are left out on purpose: released zint writes them with the wrong start
# indicator (bug 1 in crates/gridmatrix/tests/zint_bugs.rs).
#
# Usage: scripts/gm-vectors/make.sh [OUT]   (needs: zint, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-crates/gridmatrix/tests/data/zint-single-class.jsonl}"
command -v zint >/dev/null || { echo "make.sh: zint not found (apt-get install zint)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
python3 - "$out" <<'PY'
import json, subprocess, sys, tempfile, os

out_path = sys.argv[1]
MIN_ECC = {1: 4, 2: 2}
DATA = [[0, 15, 13, 11, 9], [45, 40, 35, 30, 25], [89, 79, 69, 59, 49], [146, 130, 114, 98, 81],
        [218, 194, 170, 146, 121], [305, 271, 237, 203, 169], [405, 360, 315, 270, 225],
        [521, 463, 405, 347, 289], [650, 578, 506, 434, 361], [794, 706, 618, 530, 441],
        [953, 847, 741, 635, 529], [1125, 1000, 875, 750, 625], [1313, 1167, 1021, 875, 729]]
# zint 2.11.1 caps version 3 at 79 codewords (bug 3 in crates/gridmatrix/tests/zint_bugs.rs).
def cap(v, e):
    c = DATA[v - 1][e - 1]
    return min(c, 79) if v == 3 else c

# Bits for n characters of one class (start indicator, content, end-of-data code).
def bits(cls, n):
    if cls == "N":
        return 4 + 2 + 10 * (-(-n // 3)) + 10
    if cls in "UL":
        return 4 + 5 * n + 5
    return 4 + 13 * n + 13  # H

def max_len(cls, v, e):
    n = 0
    while bits(cls, n + 1) <= 7 * cap(v, e):
        n += 1
    return n

def ecc_from_rows(rows, v):
    c = 6 * v + 1
    centre = int(rows[c][c]) * 2 + int(rows[c][c + 1])
    ring1 = int(rows[c - 6][c]) * 2 + int(rows[c - 6][c + 1])
    return {(3, 2): 1, (3, 0): 2, (2, 3): 3, (1, 2): 4, (0, 1): 5}[(centre, ring1)]

def zint(data, flags):
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        name = f.name
    try:
        r = subprocess.run(["zint", "-b", "GRIDMATRIX", "--dump", *flags, "-i", name],
                           capture_output=True, check=True)
    finally:
        os.unlink(name)
    lines = [l for l in r.stdout.decode().splitlines() if l.strip()]
    rows = ["".join(f"{int(ch, 16):04b}" for ch in l.replace(" ", "")) for l in lines]
    n = len(rows)
    return [row[:n] for row in rows]

def gb_char(c1, c2):
    return bytes([c1, c2]).decode("gb2312")

HANZI1 = [gb_char(0xB0 + (i * 7) % 39, 0xA1 + (i * 13) % 94) for i in range(200)]
HANZI2 = [gb_char(0xD8 + (i * 5) % 32, 0xA1 + (i * 11) % 94) for i in range(200)]
# Row A1-A9 symbols, without A1A4/A1AA (mapped differently by GB2312.TXT and GB 18030).
SYMS = [gb_char(0xA1, c) for c in range(0xA1, 0xFF) if c not in (0xA4, 0xAA)] + \
       [gb_char(0xA3, c) for c in range(0xB0, 0xBA)] + [gb_char(0xA4, c) for c in range(0xA1, 0xF4)]

def text(cls, n, salt=0):
    if cls == "N":
        return "".join(str((i * 7 + salt) % 10) for i in range(n))
    if cls == "U":
        return "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ "[(i * 5 + salt) % 27] if i else "Q" for i in range(n))
    if cls == "L":
        return "".join("abcdefghijklmnopqrstuvwxyz "[(i * 5 + salt) % 27] if i else "q" for i in range(n))
    pool = {"H": HANZI1, "H2": HANZI2, "HS": SYMS}[cls]
    return "".join(pool[(i + salt) % len(pool)] for i in range(n))

cases = []
for v in range(1, 14):
    for e in range(MIN_ECC.get(v, 1), 6):
        cases.append((f"max-N-v{v}-e{e}", "N", max_len("N", v, e), v, e))
        if v in (1, 2, 3, 4, 6, 9, 13) or e in (1, 5):
            cases.append((f"max-U-v{v}-e{e}", "U", max_len("U", v, e), v, e))
        if v in (1, 2, 3, 5, 7, 10, 13):
            cases.append((f"max-L-v{v}-e{e}", "L", max_len("L", v, e), v, e))
        if v in (1, 2, 3, 4, 8, 11, 13) or e == 3:
            cases.append((f"max-H-v{v}-e{e}", "H", max_len("H", v, e), v, e))
for n in range(3, 13):
    cases.append((f"numeral-len{n}", "N", n, 1 if n < 12 else 2, 4))
for n in (1, 2, 5, 17, 40):
    cases.append((f"hanzi2-len{n}", "H2", n, 2 if n < 5 else 3, 4 if n < 17 else 2))
    cases.append((f"gbsym-len{n}", "HS", n, 2 if n < 5 else 3, 3 if n < 17 else 1))
for n in (1, 9, 30):
    cases.append((f"upper-len{n}", "U", n, 2, 2))
    cases.append((f"lower-len{n}", "L", n, 2, 5))

with open(out_path, "w") as out:
    written = 0
    for cid, cls, n, v, e in cases:
        if n == 0:
            continue
        s = text(cls, n, salt=len(cid))
        flags = [f"--vers={v}", f"--secure={e}"]
        rows = zint(s.encode("utf-8"), flags)
        size = 12 * v + 6
        assert len(rows) == size, (cid, len(rows))
        got_e = ecc_from_rows(rows, v)
        if got_e != e:
            continue  # zint lowered the level: the data did not fit as asked
        letter = cls[0]
        rec = {
            "id": cid, "input": s, "input_hex": s.encode("utf-8").hex(), "options": flags,
            "version": v, "ecc": e, "size": size, "modes": f"{letter}{n}",
            "canonical": "yes: one character class, version and ECC forced",
            "rows_hex": ["".join(f"{int(r[i:i + 4].ljust(4, '0'), 2):X}" for i in range(0, size, 4)) for r in rows],
            "zint": "Debian zint 2.11.1",
        }
        out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        written += 1
print(f"make.sh: wrote {written} vectors to {out_path}", file=sys.stderr)
PY
