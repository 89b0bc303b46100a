#!/usr/bin/env bash
# ofdrw's verifier and ours on the same files in one run (docs/benchmarks.md, "Verification").
#
#   OFDRW_CP=CLASSES:JARS scripts/load/verify-compare.sh [RUNS]
#   ECERT_BIN=path/to/ecert OFDRW_CP=… scripts/load/verify-compare.sh   # skip the ecert build
#
# OFDRW_CP is the class path of an ofdrw 2.4.0 build made outside the repository as
# docs/interop.md ("ofdrw-converter 2.4.0") describes, with the modules reader, sign, gm, crypto
# and what they need (Debian jars: dom4j, jaxen, bcprov, bcpkix, bcutil, commons-io,
# commons-compress, zip4j, slf4j-api, slf4j-nop). Nothing of it is in this repository.
#
# 1. makes a demo instance (`ecert demo`, four certificates and its trial root) in a temporary
#    folder,
# 2. ofdrw: scripts/load/OfdrwVerify.java (OFDValidator + SESV4ValidateContainer) on each
#    certificate, warm JVM, RUNS timed runs per file (default 200),
# 3. ecert: `cargo bench -p ecert --bench verify` with ECERT_VERIFY_FILES on the same files
#    (ses::verify::verify_bytes, all 12 checks, with the trial root), RUNS runs per file,
# 4. prints the ratio of the medians per file.
# Needs java and javac (Debian: default-jdk-headless).
set -euo pipefail

RUNS="${1:-200}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
: "${OFDRW_CP:?set OFDRW_CP to the class path of an ofdrw build (docs/interop.md)}"
for tool in java javac; do
    command -v "$tool" >/dev/null || { echo "需要 $tool (missing $tool): apt-get install -y default-jdk-headless" >&2; exit 1; }
done
if [ -n "${ECERT_BIN:-}" ]; then
    BIN="$ECERT_BIN"
else
    (cd "$ROOT" && cargo build --release -p ecert --locked)
    BIN="$TARGET/release/ecert"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$BIN" demo --dir "$WORK/demo" >/dev/null
FILES=("$WORK"/demo/certificates/*.ofd)
ROOTS="$WORK/demo/trial-ca/root.pem"
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for f in "${FILES[@]}"; do echo "   $(basename "$f"): $(stat -c %s "$f") bytes"; done

mkdir -p "$WORK/classes"
javac -nowarn -encoding UTF-8 -d "$WORK/classes" -cp "$OFDRW_CP" "$ROOT/scripts/load/OfdrwVerify.java"
java -cp "$WORK/classes:$OFDRW_CP" OfdrwVerify 50 "$RUNS" "${FILES[@]}" | tee "$WORK/ofdrw.txt"

LIST="$(printf '%s:' "${FILES[@]}")"
(cd "$ROOT" && ECERT_VERIFY_FILES="$LIST" ECERT_VERIFY_TRUST="$ROOTS" ECERT_BENCH_N="$RUNS" \
    cargo bench -q -p ecert --bench verify --locked) | tee "$WORK/ecert.txt"

echo "== ratio (ofdrw median / ecert median)"
awk '
    { for (i = 1; i <= NF; i++) if ($i ~ /^median_ms=/) { split($i, kv, "="); m[$1, $2] = kv[2]; names[$2] = 1 } }
    END { for (n in names) if (m["ecert", n] > 0) printf "   %s: ofdrw %.2f ms, ecert %.3f ms, %.1f×\n", n, m["ofdrw", n], m["ecert", n], m["ofdrw", n] / m["ecert", n] }
' "$WORK/ofdrw.txt" "$WORK/ecert.txt"
