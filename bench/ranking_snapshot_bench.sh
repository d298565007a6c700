#!/usr/bin/env bash
# A snapshot of a server holding a PRODUCTS-product ranking window (docs/benchmarks.md, issues 4
# and 5): the board of `rankings_driver.py board` (one ORDER event per product) loaded through
# redis-cli --pipe, then REPEAT BGSAVEs; per run, INFO persistence's longest lock hold, duration
# and size. Run it with BIN=<another podium-server> to compare builds.
#
# Usage: bench/ranking_snapshot_bench.sh [build_dir]   env: PRODUCTS=1000000 REPEAT=3 PORT=7798
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
bin=${BIN:-$build_dir/server/podium-server}
products=${PRODUCTS:-1000000}
repeat=${REPEAT:-3}
port=${PORT:-7798}
work=$(mktemp -d /tmp/podium-ranking-snapshot-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

day=$(/usr/bin/python3 bench/rankings_driver.py board --products "$products" \
  --ts "$(date +%s%3N)" --podium "$work/board.podium" --redis "$work/board.redis")
if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
"$bin" --port "$port" --data_dir="$work/data" --snapshot_wal_bytes=0 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 500); do [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break; sleep 0.01; done
redis-cli -p "$port" --pipe <"$work/board.podium" >/dev/null
echo "RANK.CARD all $day: $(redis-cli -p "$port" RANK.CARD all "$day")"
field() { redis-cli -p "$port" INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }
for run in $(seq "$repeat"); do
  redis-cli -p "$port" BGSAVE >/dev/null
  for _ in $(seq 1000); do [ "$(field rdb_bgsave_in_progress)" = 0 ] && break; sleep 0.02; done
  echo "run $run: longest lock $(field last_snapshot_longest_lock_us) us," \
       "$(field last_snapshot_duration_ms) ms, $(field last_snapshot_bytes) bytes"
done
