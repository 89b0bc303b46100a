#!/usr/bin/env bash
# Backup, restore and scrub figures (docs/benchmarks.md, section "Backups and scrubbing").
#
#   scripts/load/backup.sh [CERTIFICATES]          # default 10000
#   ECERT_BIN=path/to/ecert scripts/load/backup.sh  # use that binary, skip the build
#
# 1. builds the release binary (cargo build --release -p ecert; CARGO_TARGET_DIR is honoured),
# 2. makes a demo instance (SQLite + two local replicas) in a temporary folder and issues
#    CERTIFICATES calibration certificates into it (`ecert issue DIR`),
# 3. times `ecert backup` (first, full), then 100 more certificates and a second, incremental
#    backup into the same folder, `ecert backup verify`, `ecert restore --into`, and `ecert scrub`
#    on the original (every copy on both replicas), printing sizes and rates.
# Nothing outside the temporary folder is touched.
set -euo pipefail

N="${1:-10000}"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
if [ -n "${ECERT_BIN:-}" ]; then
    BIN="$ECERT_BIN"
else
    (cd "$ROOT" && cargo build --release -p ecert --locked)
    BIN="$TARGET/release/ecert"
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
INST="$WORK/inst"
# (`ecert issue` writes a copy of each certificate into the current folder)
cd "$WORK"

secs() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(secs)" 'BEGIN { printf "%.1f", b - a }'; }
size() { du -sb "$1" | cut -f1; }

"$BIN" --dir "$INST" init --demo >/dev/null
contents() {  # contents FROM TO DIR
    mkdir -p "$3"
    python3 - "$ROOT/examples/calibration.json" "$1" "$2" "$3" <<'EOF'
import json, sys
base = json.load(open(sys.argv[1]))
for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    base["certificateNo"] = f"BK{i:07d}"
    json.dump(base, open(f"{sys.argv[4]}/BK{i:07d}.json", "w"), ensure_ascii=False)
EOF
}
contents 1 "$N" "$WORK/c1"
t=$(secs); "$BIN" --dir "$INST" issue "$WORK/c1" >/dev/null; echo "issued $N certificates: $(took "$t") s"
echo "instance: $(size "$INST/data") bytes (database + two replicas)"

B="$WORK/offline"
t=$(secs); "$BIN" --dir "$INST" backup "$B" >/dev/null; full=$(took "$t")
echo "full backup: $full s, $(size "$B") bytes"
contents $((N + 1)) $((N + 100)) "$WORK/c2"
"$BIN" --dir "$INST" issue "$WORK/c2" >/dev/null
before=$(size "$B")
t=$(secs); "$BIN" --dir "$INST" backup "$B" >/dev/null; inc=$(took "$t")
echo "incremental backup after 100 more: $inc s, +$(( $(size "$B") - before )) bytes"
t=$(secs); "$BIN" --dir "$INST" backup verify "$B" >/dev/null; echo "backup verify: $(took "$t") s"
t=$(secs); "$BIN" restore "$B" --into "$WORK/restored" --master-key-file "$INST/data/master.key" >/dev/null
echo "restore: $(took "$t") s"
files=$(( (N + 100) * 2 ))
bytes=$(( $(size "$INST/data/replica-a") + $(size "$INST/data/replica-b") ))
t=$(secs); "$BIN" --dir "$INST" scrub >/dev/null; s=$(took "$t")
awk -v f="$files" -v b="$bytes" -v s="$s" 'BEGIN { printf "scrub: %s s for %d copies, %.0f files/s, %.1f MB/s\n", s, f, f / s, b / s / 1e6 }'
