#!/usr/bin/env bash
# Bundle smoke test: start dist/Helios/Helios under Xvfb on a small folder, let the window
# analyze it with the tiny model through the bundled backend, check the database, and
# report the bundle's size and cold start time.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=dist/Helios/Helios
[ -x "$bundle" ] || { echo "no bundle: run 'make bundle' first"; exit 1; }
if ! command -v xvfb-run >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && apt-get install -y -qq xvfb xauth >/dev/null
  else
    echo "bundle-test needs xvfb-run: sudo apt-get install xvfb"; exit 1
  fi
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/folder" "$tmp/config/helios" "$tmp/runtime"
chmod 700 "$tmp/runtime"
for i in $(seq 1 20); do echo "Note $i: the shipment for depot $i arrived on time." > "$tmp/folder/note$i.txt"; done
printf 'model_path: %s\ndatabase: %s\nmax_output_tokens: 1200\n' "$PWD/models/tiny-llama" "$tmp/b.db" \
  > "$tmp/config/helios/config.yaml"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" \
  XDG_RUNTIME_DIR="$tmp/runtime"

start=$(date +%s.%N)
xvfb-run -a "$bundle" gui "$tmp/folder" --exit-when-ready | grep -q "window ready"
cold=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")

xvfb-run -a "$bundle" gui "$tmp/folder" --analyze-and-exit
python3 - "$tmp/b.db" <<'PY'
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
counts = dict(conn.execute("SELECT status, count(*) FROM files GROUP BY status").fetchall())
run = conn.execute("SELECT status FROM runs").fetchone()[0]
assert run == "completed", run
assert sum(counts.values()) == 20 and not counts.get("pending") and not counts.get("leased"), counts
print("bundle-test: database ok:", counts)
PY
echo "bundle-test: passed; bundle size $(du -sh dist/Helios | cut -f1), cold start to window ready ${cold}s"
