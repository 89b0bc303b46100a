#!/usr/bin/env bash
# Runs our criterion bench and the libzint timing (zint-bindings) on the same inputs,
# back to back in one run. Usage: crates/gridmatrix/benches/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
venv="${ECERT_ORACLE_VENV:-/opt/ecert-oracles}"
echo "== $(date -u +%FT%TZ) $(nproc) cores, $(uname -m)"
cargo bench -p gridmatrix --bench encode -- --warm-up-time 2 --measurement-time 5 2>&1 | grep -E "time:|modules"
"$venv/bin/python" crates/gridmatrix/benches/zint_bench.py
