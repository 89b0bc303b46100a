#!/usr/bin/env bash
# Load test of the customer portal (figures in docs/benchmarks.md, section "portal").
#
#   scripts/load/portal.sh [SECONDS]
#   ECERT_BIN=path/to/ecert scripts/load/portal.sh   # use that binary, skip the build
#
# 1. builds the release binary (cargo build --release -p ecert; CARGO_TARGET_DIR is honoured),
# 2. makes a demo instance with `ecert demo` (SQLite + local folders; it has a demo customer),
#    binds a preset download password (R-6.2f) to the calibration sample,
# 3. starts `ecert serve` on 127.0.0.1:18081 and logs the demo customer in with curl,
# 4. wrk, 64 connections: GET /portal, the logged-in list (target ≥ 2,000 req/s, p99 ≤ 50 ms),
# 5. wrk, 16 connections: POST /portal/download/confirm with the download password: identity
#    check, AES-256 ZIP of the certificate, audit entry (target ≥ 200/s),
# 6. stops the server, checks the audit chain and counts the downloads in it.
#
# ECERT_LOAD_FAST_HASH=1 binds the download password with the smallest argon2id parameters
# ([portal] password: 8 MiB, 1 pass), so that step 5 measures the delivery rather than the
# password check (with the defaults, 19 MiB and 2 passes, the check is the larger cost).
#
# Needs wrk and curl (Debian packages). Nothing outside the temporary folder is touched.
set -euo pipefail

DURATION="${1:-20}"
PORT="${ECERT_LOAD_PORT:-18081}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
NUMBER=JZ2024-000123
DOWNLOAD_PASSWORD="Load-Test-Download-2026"

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
EMAIL="$(sed -n 's/^演示客户[^:]*: \([^ ]*\) .*/\1/p' "$WORK/demo.txt" | head -n1)"
PASSWORD="$(sed -n 's/.*口令 (password): \([^ ]*\).*/\1/p' "$WORK/demo.txt" | head -n1)"
[ -n "$EMAIL" ] && [ -n "$PASSWORD" ] || { echo "demo output without the demo customer" >&2; exit 1; }
if [ "${ECERT_LOAD_FAST_HASH:-0}" = 1 ]; then
    # (the demo's ecert.toml has the table already: change its values)
    sed -i '/^\[portal.password\]/,/^\[/{s/^memory_kib = .*/memory_kib = 8192/;s/^iterations = .*/iterations = 1/}' "$WORK/demo/ecert.toml"
fi
printf '%s\n' "$DOWNLOAD_PASSWORD" > "$WORK/dl.txt"
"$BIN" --dir "$WORK/demo" customer bind "$NUMBER" --download-password-file "$WORK/dl.txt" > /dev/null
SIZE=$(stat -c %s "$WORK"/demo/certificates/校准电子证书-*.ofd | head -n1)

ECERT_LOG=warn "$BIN" --dir "$WORK/demo" serve --listen "127.0.0.1:$PORT" > "$WORK/serve.txt" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
BASE="http://127.0.0.1:$PORT"
JAR="$WORK/cookies"
csrf_of() { sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -n1; }
CSRF="$(curl -fsS -c "$JAR" -b "$JAR" "$BASE/portal/login" | csrf_of)"
curl -fsS -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$CSRF" \
    --data-urlencode "address=$EMAIL" --data-urlencode "password=$PASSWORD" "$BASE/portal/login"
SESSION="$(awk '$6 == "ecert_session" {print $7}' "$JAR")"
[ -n "$SESSION" ] || { echo "login failed" >&2; exit 1; }
LIST="$(curl -fsS -b "ecert_session=$SESSION" "$BASE/portal")"
CSRF="$(printf '%s' "$LIST" | csrf_of)"
ID="$(printf '%s' "$LIST" | tr '\n' ' ' | sed -n "s/.*<li id=\"c-$NUMBER\"><label class=\"choice\"><input type=\"checkbox\" name=\"id\" value=\"\([0-9a-f]*\)\".*/\1/p")"
COUNT="$(printf '%s' "$LIST" | grep -o '<li id="c-' | wc -l)"
[ -n "$ID" ] || { echo "the list does not offer $NUMBER" >&2; exit 1; }
BODY="csrf=$CSRF&id=$ID&method=password&download_password=$DOWNLOAD_PASSWORD"
curl -fsS -o "$WORK/one.zip" -b "ecert_session=$SESSION" --data "$BODY" "$BASE/portal/download/confirm"
ZIPSIZE=$(stat -c %s "$WORK/one.zip")

echo "== GET /portal (logged in, $COUNT certificates listed), 64 connections, ${DURATION}s =="
wrk -t2 -c64 -d"${DURATION}s" --latency -H "Cookie: ecert_session=$SESSION" "$BASE/portal"

cat > "$WORK/download.lua" <<LUA
wrk.method = "POST"
wrk.body = "$BODY"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "ecert_session=$SESSION"
LUA
echo "== POST /portal/download/confirm (certificate $SIZE bytes, package $ZIPSIZE bytes), 16 connections, ${DURATION}s =="
wrk -t2 -c16 -d"${DURATION}s" --latency -s "$WORK/download.lua" "$BASE/portal/download/confirm"

kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
"$BIN" --dir "$WORK/demo" audit verify | tail -n 3
if command -v sqlite3 >/dev/null; then
    echo "downloads in the audit chain: $(sqlite3 "$WORK/demo/data/ecert.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'portal.download'")"
fi
