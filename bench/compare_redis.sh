#!/usr/bin/env bash
# Podium against Redis (Debian's redis-server), both without persistence, with redis-benchmark:
# the same workloads on both in the same run, alternating, REPEAT times each; prints each run and the
# medians with their ratio. The workloads are issue 3's targets (docs/benchmarks.md):
#   ZINCRBY board 1 __rand_int__ (-r 1000000), -P 1 and -P 16
#   ZREVRANGE board 0 19 WITHSCORES on a 1M-member board, -P 1 and -P 16
#   DECRBY counter 1, -P 1 and -P 16
#   PING, -P 1 and -P 16: what the one-threaded redis-benchmark itself can drive
# and the memory of a 1M-member board loaded over RESP (INFO used_memory before and after).
#
# Usage: bench/compare_redis.sh [build_dir]
#   env: REPEAT=3 REQUESTS=1000000 CLIENTS=50 PIPELINES="1 16" WORKLOADS="zincrby zrevrange decrby ping"
#        PODIUM_FLAGS="--threads 1" (extra podium-server flags: one loop leaves the client a core,
#        as one-threaded Redis does)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeat=${REPEAT:-3}
requests=${REQUESTS:-1000000}
clients=${CLIENTS:-50}
pipelines=${PIPELINES:-1 16}
workloads=" ${WORKLOADS:-zincrby zrevrange decrby ping} "
want() { [[ "$workloads" == *" $1 "* ]]; }
podium_port=${PODIUM_PORT:-7781}
redis_port=${REDIS_PORT:-6381}
work=$(mktemp -d)

cleanup() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  [ -n "${podium_pid:-}" ] && kill "$podium_pid" 2>/dev/null && wait "$podium_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2086  # PODIUM_FLAGS is a list of flags
"$build_dir/server/podium-server" --port "$podium_port" --data_dir= ${PODIUM_FLAGS:-} \
  >"$work/podium.log" 2>&1 &
podium_pid=$!
redis-server --port "$redis_port" --save '' --appendonly no --daemonize yes \
  --logfile "$work/redis.log"
for port in "$podium_port" "$redis_port"; do
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
done

# A 1M-member board with random scores, as RESP for redis-cli --pipe.
/usr/bin/python3 - "$work/board.resp" <<'EOF'
import random, sys
random.seed(9)
ids = list(range(1_000_000))
random.shuffle(ids)
with open(sys.argv[1], "w") as out:
    for i in ids:
        member, score = str(i), "%.1f" % (random.randrange(1_000_000) / 10)
        out.write("*4\r\n$4\r\nZADD\r\n$6\r\nboard1\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
                  % (len(score), score, len(member), member))
EOF

used_memory() { redis-cli -p "$1" info memory | tr -d '\r' | awk -F: '/^used_memory:/ {print $2}'; }
for name_port in "podium:$podium_port" "redis:$redis_port"; do
  name=${name_port%%:*}; port=${name_port##*:}
  before=$(used_memory "$port")
  redis-cli -p "$port" --pipe <"$work/board.resp" >/dev/null
  after=$(used_memory "$port")
  members=$(redis-cli -p "$port" zcard board1)
  echo "memory $name: $members members, used_memory +$((after - before)) bytes," \
       "$(( (after - before) / members )) bytes/member"
done

rps() {  # port, pipeline, command...
  local port=$1 pipeline=$2; shift 2
  redis-benchmark -p "$port" -c "$clients" -n "$requests" -r 1000000 -P "$pipeline" -q "$@" \
    2>/dev/null | tr '\r' '\n' | grep 'requests per second' | tail -1 |
    sed -E 's/.*: ([0-9.]+) requests per second.*/\1/'
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

run() {  # label, pipeline, command...
  local label=$1 pipeline=$2; shift 2
  : >"$work/p"; : >"$work/r"
  for _ in $(seq "$repeat"); do
    rps "$podium_port" "$pipeline" "$@" >>"$work/p"
    rps "$redis_port" "$pipeline" "$@" >>"$work/r"
  done
  local p r
  p=$(median <"$work/p"); r=$(median <"$work/r")
  echo "$label -P $pipeline: podium $(tr '\n' ' ' <"$work/p")| redis $(tr '\n' ' ' <"$work/r")|" \
       "medians $p vs $r, ratio $(awk -v p="$p" -v r="$r" 'BEGIN {printf "%.2f", p / r}')"
}

for pipeline in $pipelines; do
  want zincrby && run "ZINCRBY board 1 __rand_int__" "$pipeline" ZINCRBY board 1 __rand_int__
  want zrevrange && run "ZREVRANGE board1 0 19 WITHSCORES" "$pipeline" ZREVRANGE board1 0 19 WITHSCORES
  want decrby && run "DECRBY counter 1" "$pipeline" DECRBY counter 1
  want ping && run "PING (redis-benchmark's own ceiling)" "$pipeline" PING
done
