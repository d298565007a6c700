#!/usr/bin/env bash
# Context switches per request, per server thread (docs/benchmarks.md, "fsync always when
# context switches are dear"): starts podium-server with --fsync always (or redis-server with
# appendfsync always), runs REQUESTS ZINCRBYs from CLIENTS redis-benchmark clients, and prints
# each thread's voluntary and involuntary switches over the run, from /proc/<pid>/task/*/status.
#
# Usage: bench/context_switches.sh [build_dir | redis] [extra podium-server flags...]
#   env: REQUESTS=100000 CLIENTS=50 PORT=7799
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-build}
shift || true
requests=${REQUESTS:-100000}
clients=${CLIENTS:-50}
port=${PORT:-7799}
work=$(mktemp -d /tmp/podium-switches-XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "$target" = redis ]; then
  redis-server --port "$port" --save '' --appendonly yes --appendfsync always --dir "$work" \
    --daemonize no --logfile "$work/redis.log" &
else
  "$target/server/podium-server" --port "$port" --data_dir="$work/data" --fsync=always "$@" \
    >/dev/null 2>&1 &
fi
pid=$!
for _ in $(seq 400); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.01
done

switches() {  # tid voluntary involuntary, one line per thread
  for task in /proc/"$pid"/task/*; do
    echo "$(basename "$task") $(awk '/^voluntary_ctxt_switches/ {v = $2}
      /^nonvoluntary_ctxt_switches/ {n = $2} END {print v, n}' "$task/status")"
  done | sort
}
fsyncs() {  # Podium's fsyncs so far (Redis's INFO does not count its AOF fsyncs)
  if [ "$target" = redis ]; then echo 0; return; fi
  redis-cli -p "$port" info persistence | tr -d '\r' | awk -F: '/^wal_fsyncs:/ {print $2}'
}
switches >"$work/before"
fsyncs_before=$(fsyncs)
redis-benchmark -p "$port" -c "$clients" -n "$requests" -r 1000000 -q \
  zincrby board 1 __rand_int__ 2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1
switches >"$work/after"
fsyncs_after=$(fsyncs)
if [ "$target" != redis ]; then
  awk -v f=$((fsyncs_after - fsyncs_before)) -v r="$requests" \
    'BEGIN { if (f > 0) printf "%d fsyncs, %.1f requests per fsync\n", f, r / f }'
fi
join "$work/before" "$work/after" | awk -v requests="$requests" '
  { v = $4 - $2; n = $5 - $3; total += v + n
    if (v + n > 0) printf "thread %s: %d voluntary, %d involuntary\n", $1, v, n }
  END { printf "%.3f switches per request\n", total / requests }'
