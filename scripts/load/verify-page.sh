#!/usr/bin/env bash
# Load test of `ecert serve` (figures in docs/benchmarks.md, section "serve").
#
#   scripts/load/verify-page.sh [SECONDS]
#   ECERT_BIN=path/to/ecert scripts/load/verify-page.sh   # use that binary, skip the build
#
# 1. builds the release binary (cargo build --release -p ecert; CARGO_TARGET_DIR is honoured),
# 2. makes a demo instance (SQLite + local folders) with `ecert demo` in a temporary folder,
# 3. starts `ecert serve` on 127.0.0.1:18080 (logs at warn, rate limits off),
# 4. wrk, 64 connections: GET /v/{token} of a demo certificate (target ≥ 5,000 req/s, p99 ≤ 20 ms),
# 5. wrk, 16 connections: POST /verify with a demo certificate file (target ≥ 600/s, p99 ≤ 50 ms),
# 6. stops the server and checks the audit chain (`ecert audit verify`): every upload judged is
#    an entry of it (counted with sqlite3 when installed: Debian sqlite3).
#
# ECERT_LOAD_PAGE=0 skips step 4 (only the uploads are measured).
#
# Needs wrk (Debian: apt-get install -y wrk) and curl. Nothing outside the temporary folder is
# touched; the server is stopped at the end.
set -euo pipefail

DURATION="${1:-20}"
PORT="${ECERT_LOAD_PORT:-18080}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "需要 $tool (missing $tool): apt-get install -y $tool" >&2; exit 1; }
done

if [ -n "${ECERT_BIN:-}" ]; then
    BIN="$ECERT_BIN"
else
    (cd "$ROOT" && cargo build --release -p ecert)
    BIN="$TARGET/release/ecert"
fi

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN" demo --dir "$WORK/demo" > "$WORK/demo.txt"
# The calibration certificate: current, neither revised nor supplemented in the demo.
TOKEN="$(awk '/校准电子证书-/ {want=1} want && match($0, /\/v\/[a-z2-7]+/) {print substr($0, RSTART+3, RLENGTH-3); exit}' "$WORK/demo.txt")"
FILE="$(ls "$WORK"/demo/certificates/校准电子证书-*.ofd | head -n1)"
[ -n "$TOKEN" ] && [ -f "$FILE" ] || { echo "demo output without token or file" >&2; exit 1; }

METRICS_TOKEN="load-$RANDOM$RANDOM"
ECERT_LOG=warn ECERT_LOOKUP_PER_MINUTE=0 ECERT_VERIFY_PER_MINUTE=0 ECERT_METRICS_TOKEN="$METRICS_TOKEN" \
    "$BIN" --dir "$WORK/demo" serve --listen "127.0.0.1:$PORT" > "$WORK/serve.txt" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/v/$TOKEN" | grep -q '真实有效' || { echo "page check failed" >&2; exit 1; }
# Warm the preview (rendered once, then cached) as a phone would.
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v/$TOKEN/page/1.png" || echo "(preview not served: $?)"

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(date -u +%F); load: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "${ECERT_LOAD_PAGE:-1}" != 0 ]; then
    echo "== GET /v/{token}: 64 connections, ${DURATION}s"
    wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$PORT/v/$TOKEN"
fi

echo "== POST /verify: $(stat -c %s "$FILE") byte certificate, 16 connections, ${DURATION}s"
ECERT_UPLOAD_FILE="$FILE" wrk -t2 -c16 -d"${DURATION}s" --latency \
    -s "$ROOT/scripts/load/upload.lua" "http://127.0.0.1:$PORT/verify" | tee "$WORK/wrk.txt"

# Every upload above must have been judged genuine.
curl -fsS -H "Authorization: Bearer $METRICS_TOKEN" "http://127.0.0.1:$PORT/metrics" \
    | grep '^ecert_verify_uploads_total' | tee "$WORK/uploads.txt"

# ... and be in the audit chain, which must verify.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
"$BIN" --dir "$WORK/demo" audit verify
if command -v sqlite3 >/dev/null; then
    # (the server may judge a few uploads whose connection wrk closes at the end: those got
    # no answer, but their entries are written all the same — every upload judged has its
    # entry)
    judged="$(awk '{s += $NF} END {print s}' "$WORK/uploads.txt")"
    answered="$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")"
    logged="$(sqlite3 "$WORK/demo/data/ecert.db" "SELECT count(*) FROM audit_log WHERE action = 'verify.upload'")"
    echo "== uploads answered: $answered, judged: $judged; verify.upload entries in the audit chain: $logged"
    [ "$logged" -ge "$judged" ] && [ "$logged" -ge "$answered" ] || { echo "audit entries missing" >&2; exit 1; }
fi
