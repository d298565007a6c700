#!/usr/bin/env bash
# Durability figures (docs/benchmarks.md, issue 4), Podium and Debian's redis-server in the same
# run, with redis-benchmark driving both:
#  1. ZINCRBY board 1 __rand_int__ (-r 1000000), CLIENTS clients, -P 1: podium --fsync always
#     against redis --appendonly yes --appendfsync always, alternating, REPEAT times;
#  2. the same workload: podium --fsync everysec against podium without persistence;
#  3. recovery of a 1M-member board plus 1M stock counters: SAVE, SIGKILL, restart; the time
#     from exec to the first PING answered, and the server's own loading_time_ms. Redis: the
#     same board saved as RDB, restarted, timed the same way;
#  4. a snapshot of that state while 50 clients ZINCRBY the board: their max latency with and
#     without a BGSAVE running, and the snapshot's size against Redis's RDB of the same board.
#
# Usage: bench/durability_bench.sh [build_dir]
#   env: REPEAT=3 REQUESTS=200000 CLIENTS=50 SECTIONS="1 2 3" (3 runs 3 and 4, which share state)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeat=${REPEAT:-3}
requests=${REQUESTS:-200000}
clients=${CLIENTS:-50}
sections=" ${SECTIONS:-1 2 3} "
want() { [[ "$sections" == *" $1 "* ]]; }
podium_port=${PODIUM_PORT:-7791}
podium2_port=${PODIUM2_PORT:-7792}
redis_port=${REDIS_PORT:-6391}
work=$(mktemp -d /tmp/podium-durability-XXXXXX)
server="$build_dir/server/podium-server"
pids=()
declare -A pid_of

cleanup() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

wait_ping() {  # until PONG (Redis answers LOADING while it loads)
  for _ in $(seq 2000); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.005
  done
  echo "nothing answers on port $1" >&2
  return 1
}
start_podium() {  # port, data dir ("" for none), flags...
  local port=$1 dir=$2; shift 2
  if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
  "$server" --port "$port" --data_dir="$dir" "$@" >>"$work/podium-$port.log" 2>&1 &
  pids+=($!)
  pid_of[$port]=$!
  wait_ping "$port"
}
stop_podium() { kill "${pid_of[$1]}"; wait "${pid_of[$1]}" || true; }
kill_podium() { kill -9 "${pid_of[$1]}"; wait "${pid_of[$1]}" 2>/dev/null || true; }
rps() {  # port, command...
  local port=$1; shift
  redis-benchmark -p "$port" -c "$clients" -n "$requests" -r 1000000 -q "$@" 2>/dev/null |
    tr '\r' '\n' | grep 'requests per second' | tail -1 |
    sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
compare() {  # label, port a, name a, port b, name b
  local label=$1 pa=$2 na=$3 pb=$4 nb=$5
  : >"$work/a"; : >"$work/b"
  for _ in $(seq "$repeat"); do
    rps "$pa" zincrby board 1 __rand_int__ >>"$work/a"
    rps "$pb" zincrby board 1 __rand_int__ >>"$work/b"
  done
  local a b
  a=$(median <"$work/a"); b=$(median <"$work/b")
  echo "$label: $na $(tr '\n' ' ' <"$work/a")| $nb $(tr '\n' ' ' <"$work/b")|" \
       "medians $a vs $b, ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')"
}

if want 1; then
echo "== 1. fsync always, ZINCRBY, $clients clients, $requests requests, $repeat runs each"
start_podium "$podium_port" "$work/always" --fsync=always
redis-server --port "$redis_port" --save '' --appendonly yes --appendfsync always \
  --dir "$work" --daemonize yes --logfile "$work/redis.log"
wait_ping "$redis_port"
compare "ZINCRBY fsync always" "$podium_port" podium "$redis_port" redis
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
stop_podium "$podium_port"

fi

if want 2; then
echo "== 2. everysec against no persistence"
start_podium "$podium_port" "$work/everysec" --fsync=everysec
start_podium "$podium2_port" ""
compare "ZINCRBY everysec vs off" "$podium_port" everysec "$podium2_port" off
stop_podium "$podium2_port"
stop_podium "$podium_port"

fi

want 3 || exit 0
echo "== 3. recovery of a 1M-member board and 1M stock counters"
/usr/bin/python3 - "$work/state.resp" "$work/board.resp" <<'PY'
import random, sys
random.seed(9)
ids = list(range(1_000_000))
random.shuffle(ids)
board = []
for i in ids:
    member, score = str(i), str(random.randrange(1_000_000))
    board.append("*4\r\n$4\r\nZADD\r\n$5\r\nboard\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                 % (len(score), score, len(member), member))
with open(sys.argv[2], "w") as out:
    out.writelines(board)
with open(sys.argv[1], "w") as out:
    out.writelines(board)
    for product in range(1_000_000):
        p, u = str(product), str(random.randrange(1, 1000))
        out.write("*3\r\n$9\r\nSTOCK.SET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(p), p, len(u), u))
PY
start_podium "$podium_port" "$work/recovery" --fsync=everysec --snapshot_wal_bytes=0
redis-cli -p "$podium_port" --pipe <"$work/state.resp" >/dev/null
redis-cli -p "$podium_port" save >/dev/null
snapshot_bytes=$(redis-cli -p "$podium_port" info persistence | tr -d '\r' | awk -F: '/^last_snapshot_bytes:/ {print $2}')
kill_podium "$podium_port"
for run in $(seq "$repeat"); do
  start_ns=$(date +%s%N)
  start_podium "$podium_port" "$work/recovery" --fsync=everysec --snapshot_wal_bytes=0
  end_ns=$(date +%s%N)
  loading=$(redis-cli -p "$podium_port" info persistence | tr -d '\r' | awk -F: '/^loading_time_ms:/ {print $2}')
  echo "podium recovery run $run: $(( (end_ns - start_ns) / 1000000 )) ms from exec to PONG" \
       "(loading_time_ms $loading; $(redis-cli -p "$podium_port" zcard board) members," \
       "$(redis-cli -p "$podium_port" info keyspace | tr -d '\r' | awk -F: '/^stock_counters:/ {print $2}') counters)"
  kill_podium "$podium_port"
done
redis-server --port "$redis_port" --save '' --appendonly no --dir "$work" --dbfilename board.rdb \
  --daemonize yes --logfile "$work/redis.log"
wait_ping "$redis_port"
redis-cli -p "$redis_port" --pipe <"$work/board.resp" >/dev/null
redis-cli -p "$redis_port" save >/dev/null
redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
sleep 0.5
for run in $(seq "$repeat"); do
  start_ns=$(date +%s%N)
  redis-server --port "$redis_port" --save '' --appendonly no --dir "$work" \
    --dbfilename board.rdb --daemonize yes --logfile "$work/redis.log"
  wait_ping "$redis_port"
  end_ns=$(date +%s%N)
  echo "redis (board only) load run $run: $(( (end_ns - start_ns) / 1000000 )) ms from exec to PONG" \
       "($(redis-cli -p "$redis_port" zcard board) members)"
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  sleep 0.5
done
echo "snapshot of board + counters: $snapshot_bytes bytes; Redis RDB of the board alone:" \
     "$(stat -c %s "$work/board.rdb") bytes"

echo "== 4. snapshot while $clients clients ZINCRBY the 1M board"
start_podium "$podium_port" "$work/recovery" --fsync=everysec --snapshot_wal_bytes=0
max_latency() {  # prints redis-benchmark's max latency (ms) for a ZINCRBY run; $1: bgsave or not
  redis-benchmark -p "$podium_port" -c "$clients" -n "$requests" -r 1000000 zincrby board 1 __rand_int__ \
    >"$work/bench.out" 2>/dev/null &
  local bench=$!
  if [ "$1" = bgsave ]; then sleep 0.5; redis-cli -p "$podium_port" bgsave >/dev/null; fi
  wait "$bench"
  tr '\r' '\n' <"$work/bench.out" | awk '/latency summary/ {getline; getline; print $6}'
}
for run in $(seq "$repeat"); do
  quiet=$(max_latency none)
  during=$(max_latency bgsave)
  info=$(redis-cli -p "$podium_port" info persistence | tr -d '\r')
  echo "run $run: max latency without a snapshot $quiet ms, with a BGSAVE $during ms;" \
       "snapshot $(echo "$info" | awk -F: '/^last_snapshot_duration_ms:/ {print $2}') ms," \
       "$(echo "$info" | awk -F: '/^last_snapshot_bytes:/ {print $2}') bytes, longest shard lock" \
       "$(echo "$info" | awk -F: '/^last_snapshot_longest_lock_us:/ {print $2}') us"
done
stop_podium "$podium_port"
