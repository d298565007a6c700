#!/usr/bin/env bash
# podium-batch over a 30-day month of a million products a day (docs/benchmarks.md, issue 5):
#  1. a podium-server keeping 40 days of windows (--ranking-retention-days=40, so the month's
#     events are accepted now) gets DAYS days x PRODUCTS products of events from bench/rank_load
#     (one event per product per day: 30M events at the defaults), weights with carry 0 (a week
#     or month sums raw signals; with a carry, each event of a day would also re-score every
#     later window of the 40);
#  2. podium-batch monthly for that month, REPEAT times (the median, and each run's JSON line),
#     then podium-batch weekly for a week inside it; the server's RSS after loading.
# No Redis peer: the issue's target is an absolute one ("minutes, not hours").
#
# Usage: bench/batch_bench.sh [build_dir]    env: DAYS=30 PRODUCTS=1000000 REPEAT=3
#        FIRST_DAY=2026-11-01 (a 30-day month within the last 40 days)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
days=${DAYS:-30}
products=${PRODUCTS:-1000000}
repeat=${REPEAT:-3}
first_day=${FIRST_DAY:-$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%F)}
port=${PODIUM_PORT:-7796}
work=$(mktemp -d /tmp/podium-batch-bench-XXXXXX)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
"$build_dir/server/podium-server" --port "$port" --data_dir= --threads 2 \
  --ranking-retention-days=40 >"$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1000); do
  [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ] && break
  sleep 0.01
done
redis-cli -p "$port" RANK.WEIGHTS all 0.1 0.2 0.7 0 >/dev/null

echo "== loading $days days x $products products from $first_day"
"$build_dir/bench/rank_load" --server "127.0.0.1:$port" --first_day "$first_day" \
  --days "$days" --products "$products" 2>/dev/null
echo "server RSS after loading: $(awk '/VmRSS/ {printf "%.0f MiB", $2 / 1024}' /proc/$pid/status)"

echo "== podium-batch monthly --date $first_day, $repeat runs"
seconds=()
for _ in $(seq "$repeat"); do
  line=$("$build_dir/client/podium-batch" monthly --date "$first_day" --server "127.0.0.1:$port")
  echo "$line"
  seconds+=("$(echo "$line" | sed -E 's/.*"seconds":([0-9.e+-]+).*/\1/')")
done
printf '%s\n' "${seconds[@]}" | sort -g | awk '{v[NR]=$1} END {printf "monthly median: %.1f s\n", v[int((NR+1)/2)]}'
redis-cli -p "$port" RANK.TOP all "$(date -u -d "$first_day" +%Y%m)" 0 2

week_day=$(date -u -d "$first_day +10 days" +%F)
echo "== podium-batch weekly --date $week_day"
"$build_dir/client/podium-batch" weekly --date "$week_day" --server "127.0.0.1:$port"
