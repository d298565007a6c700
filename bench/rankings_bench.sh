#!/usr/bin/env bash
# Rankings figures (issue 5's targets), Podium and Debian's redis-server in the same run, both
# without persistence (podium --data_dir=, redis --save '' --appendonly no), runs alternating
# (odd runs Podium first, even runs Redis first), REPEAT times; every run, the medians, the ratio.
# The model is docs/rankings.md; the Redis side is what shops do without Podium:
#   an event   EVALSHA <the script below> 2 event:<id> rank:<yyyyMMdd> <weight> <product>, i.e.
#              SET event:<id> 1 NX EX 172800 and, when it was set, ZINCRBY rank:<day> weight
#              product, atomically and in one round trip (the fair peer of RANK.EVENT); the same
#              two commands as two round trips are measured as well ("two-step"). Weights as
#              Podium's defaults (view 0.1, like 0.2, order 0.7 x ln(1 + qty x unit_price)). Not
#              in the Redis peer: the carry-over (Podium keeps tomorrow's carried part exact on
#              every event once tomorrow's window is open), the raw signals, expiry of the board.
#   rollover   ZUNIONSTORE rank:<tomorrow> 1 rank:<today> WEIGHTS 0.1 (a 23:50 cron).
# Product ids are 10^12 + k, k < PRODUCTS, so that redis-benchmark's "1__rand_int__" names them.
#
#  setup. A PRODUCTS-product board for today (UTC day), loaded through redis-cli --pipe: Podium
#     as RANK.EVENTS batches of 1000 ORDER events, Redis as ZADD batches with the same scores;
#     both cards checked. Parts 1 and 3 add to these boards.
#  1. Event ingestion, CLIENTS connections at depth 1, bench/rankings_driver.py (raw sockets,
#     DRIVER_PROCS processes, events pre-generated: zipf s=1.1 over the products, 85% VIEW, 10%
#     LIKE, 5% ORDER, unique ids, ts = now), the very same event sequence on both servers:
#     RANK.EVENT against the EVALSHA script (and the two-step). Every event must be applied
#     (answer 1). The driver prints its own CPU, the server's and the machine's: when the client
#     or the machine is saturated the figures are lower bounds (2 cores here, client and server
#     share them). Target: Podium >= 1.5x. The driver's ceiling: PING through the same driver.
#  1b. The same with redis-benchmark (C client, -P 1): a fixed shape, uniform products, a fixed
#     ts taken at start, VIEW only: RANK.EVENT all rb<run>:__rand_int__:__rand_int__ VIEW
#     1__rand_int__ <ts> against EVALSHA <sha> 2 event:rb<run>:__rand_int__:__rand_int__
#     rank:<today> 0.1 1__rand_int__ (-r PRODUCTS; 10^(2x6) ids, a repeat is a rare 0 answer).
#  2. RANK.TOP all <today> 0 20 against ZREVRANGE rank:<today> 0 19 WITHSCORES on the boards,
#     redis-benchmark, CLIENTS clients, -P 1, REQUESTS requests. Target: >= 1.5x.
#  3. Rollover, with a CLIENTS-client load recording every request's latency:
#     a. Redis: ZINCRBY rank:<today> (zipf) load; after QUIET s, ZUNIONSTORE into a fresh
#        rank:<tomorrow>:r<run>, timed on its own connection; the load goes on TAIL s. Latency
#        before / during (in flight while the ZUNIONSTORE ran) / after.
#     b. Podium: RANK.EVENT load on the main server (board present, no window being built) for
#        QUIET + TAIL s: the latency to compare the build's against.
#     c. Podium's real window build (ROLLOVER_BUILD=1): the server's clock cannot be moved, but
#        its ranking zone can be chosen. A second Podium (PODIUM2_PORT) starts with --ranking_tz
#        set to a one-type zone file (written by the driver, passed as an absolute path) whose
#        local 23:00:00 falls a few seconds after the board is loaded into it. At 23:00 local the
#        server, by its own clock and timer, opens tomorrow's window and copies carry x today's
#        score of every product into it in background slices (docs/rankings.md, "Carry-over"),
#        exactly as an hour before any midnight. RANK.CARD of tomorrow is polled every 20 ms (0
#        before, BUSY while building, the product count when done): the build's duration; and a
#        RANK.EVENT load runs from QUIET s before the opening until TAIL s after the build:
#        latency before / during / after. Then carried(tomorrow, p) = 0.1 x score(today, p) is
#        checked for a few products. A fresh server per run (a window is built once).
#        ROLLOVER_BUILD=0 skips this part; then only (b) stands for Podium, and the rollover
#        itself is covered by the in-process test (storage/ranking_test.cc) alone.
#
# Usage: bench/rankings_bench.sh [build_dir]
#   env: REPEAT=3 CLIENTS=50 PRODUCTS=1000000 EVENTS=200000 REQUESTS=200000 DRIVER_PROCS=4
#        QUIET=3 TAIL=2 TWO_STEP=1 ROLLOVER_BUILD=1 BUILD_WAIT=240
#        SECTIONS="1 1b 2 3" (which parts run; 3c: only part 3c), RATE=0 (part 3's load: 0 sends each request
#        when the previous reply arrives, saturating the machine; N paces the clients at N
#        requests/s in all, latency counted from when each request was due)
#        PODIUM_PORT=7771 PODIUM2_PORT=7772 REDIS_PORT=6371 PODIUM_FLAGS="--threads 1"
#        BENCH_THREADS=2 (redis-benchmark --threads, parts 1b and 2), PIPELINE=16 (its -P)
#        LOAD_CLIENT=cpp (part 3b's load from bench/rank_latency, paced at RATE, instead of the
#        Python driver), SLOW_MS (with LOAD_CLIENT=cpp: also where the requests slower than
#        this fell during the build, in 100 ms buckets)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeat=${REPEAT:-3}
clients=${CLIENTS:-50}
products=${PRODUCTS:-1000000}
events=${EVENTS:-200000}
requests=${REQUESTS:-200000}
procs=${DRIVER_PROCS:-4}
quiet=${QUIET:-3}
tail_s=${TAIL:-2}
two_step=${TWO_STEP:-1}
rollover_build=${ROLLOVER_BUILD:-1}
build_wait=${BUILD_WAIT:-240}
sections=" ${SECTIONS:-1 1b 2 3} "
rate=${RATE:-0}
run_section() { [[ "$sections" == *" $1 "* ]]; }
read -r -a podium_flags <<<"${PODIUM_FLAGS:-}"  # extra podium-server flags, e.g. --threads 1
bench_threads=()  # redis-benchmark's own threads (BENCH_THREADS=2): one is the ceiling otherwise
[ -n "${BENCH_THREADS:-}" ] && bench_threads=(--threads "$BENCH_THREADS")
[ -n "${PIPELINE:-}" ] && bench_threads+=(-P "$PIPELINE")  # redis-benchmark -P, parts 1b and 2
podium_port=${PODIUM_PORT:-7771}
podium2_port=${PODIUM2_PORT:-7772}
redis_port=${REDIS_PORT:-6371}
server="$build_dir/server/podium-server"
py=/usr/bin/python3
driver=bench/rankings_driver.py
work=$(mktemp -d /tmp/podium-rankings-XXXXXX)
podium_pid=
podium2_pid=

cleanup() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  for pid in "$podium_pid" "$podium2_pid"; do
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  done
  [ -n "${KEEP_WORK:-}" ] && echo "work files kept in $work" || rm -rf "$work"
}
trap cleanup EXIT

wait_ping() {
  for _ in $(seq 2000); do
    [ "$(redis-cli -p "$1" ping 2>/dev/null)" = PONG ] && return 0
    sleep 0.005
  done
  echo "nothing answers on port $1" >&2
  return 1
}
ports=("$podium_port" "$redis_port")
[ "$rollover_build" = 1 ] && ports+=("$podium2_port")
for port in "${ports[@]}"; do
  if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
done
"$server" --port "$podium_port" --data_dir= "${podium_flags[@]}" >"$work/podium.log" 2>&1 &
podium_pid=$!
redis-server --port "$redis_port" --save '' --appendonly no --dir "$work" --daemonize yes \
  --logfile "$work/redis.log"
wait_ping "$podium_port"
wait_ping "$redis_port"

P() { redis-cli -p "$podium_port" "$@"; }
R() { redis-cli -p "$redis_port" "$@"; }
expect() {  # what, expected, got: a reply that is not what the docs say stops the run
  if [ "$2" != "$3" ]; then echo "unexpected reply to $1: expected '$2', got '$3'" >&2; exit 1; fi
}
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
ms() { date +%s%3N; }
redis_pid=$(R info server | tr -d '\r' | awk -F: '/^process_id:/ {print $2}')
event_lua='-- KEYS[1] event:<id>, KEYS[2] rank:<yyyyMMdd>; ARGV[1] weight, ARGV[2] product
if redis.call("SET", KEYS[1], "1", "NX", "EX", 172800) then
  redis.call("ZINCRBY", KEYS[2], ARGV[1], ARGV[2])
  return 1
end
return 0'
sha=$(R script load "$event_lua")

# Setup: the boards.
ts0=$(ms)
today=$($py "$driver" board --products "$products" --ts "$ts0" --podium "$work/board.podium" \
  --redis "$work/board.redis")
tomorrow=$(date -u -d "${today:0:4}-${today:4:2}-${today:6:2} + 1 day" +%Y%m%d)
batches=$(( (products + 999) / 1000 ))
load_board() {  # port, file: prints the milliseconds it took
  local start end out
  start=$(ms)
  out=$(redis-cli -p "$1" --pipe <"$2" 2>&1 | tr -d '\r' | tail -1)
  end=$(ms)
  expect "--pipe of $2" "errors: 0, replies: $batches" "$out"
  echo $((end - start))
}
podium_load_ms=$(load_board "$podium_port" "$work/board.podium")
redis_load_ms=$(load_board "$redis_port" "$work/board.redis")
expect "RANK.CARD all $today" "$products" "$(P rank.card all "$today")"
expect "ZCARD rank:$today" "$products" "$(R zcard "rank:$today")"
echo "podium $(P info server | tr -d '\r' | grep -E '^io_threads:' || true), redis" \
     "$(redis-server --version | awk '{print $3}'), $clients clients, $repeat runs each," \
     "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "board of $products products for $today loaded: podium $podium_load_ms ms" \
     "($batches RANK.EVENTS of 1000), redis $redis_load_ms ms ($batches ZADD of 1000);" \
     "top 3: podium [$(P rank.top all "$today" 0 3 | tr '\n' ' ')] redis" \
     "[$(R zrevrange "rank:$today" 0 2 withscores | tr '\n' ' ')]"

driver_args=(--clients "$clients" --procs "$procs" --products "$products")
port_of() { if [ "$1" = podium ]; then echo "$podium_port"; else echo "$redis_port"; fi; }
pid_of() { if [ "$1" = podium ]; then echo "$podium_pid"; else echo "$redis_pid"; fi; }

if run_section 1; then
echo "== 1. event ingestion, $events events per run, zipf over $products products," \
     "$clients connections at depth 1 ($procs driver processes)"
contenders=(podium lua)
[ "$two_step" = 1 ] && contenders+=(two-step)
for name in "${contenders[@]}" ping; do : >"$work/ev.$name"; done
for run in $(seq "$repeat"); do
  order=("${contenders[@]}")
  if [ $((run % 2)) = 0 ]; then order=(); for name in "${contenders[@]}"; do order=("$name" "${order[@]}"); done; fi
  for name in "${order[@]}"; do
    line=$($py "$driver" events --port "$(port_of "$name")" --server-pid "$(pid_of "$name")" \
      --mode "$name" --sha "$sha" "${driver_args[@]}" --events "$events" --tag "$name$run" \
      --seed "$run")
    echo "  run $run $name: ${line#rate=}"
    echo "$line" | sed -nE 's/^rate=([0-9.]+).*/\1/p' >>"$work/ev.$name"
  done
  line=$($py "$driver" events --port "$podium_port" --server-pid "$podium_pid" --mode ping \
    "${driver_args[@]}" --events "$events" --tag "ping$run" --seed "$run")
  echo "  run $run driver ceiling, PING on podium: ${line#rate=}"
  echo "$line" | sed -nE 's/^rate=([0-9.]+).*/\1/p' >>"$work/ev.ping"
done
p=$(median <"$work/ev.podium")
for name in "${contenders[@]:1}"; do
  r=$(median <"$work/ev.$name")
  peer="EVALSHA (SET NX EX + ZINCRBY in one script, one round trip)"
  [ "$name" = two-step ] && peer="SET NX EX, then ZINCRBY (two round trips)"
  echo "RANK.EVENT vs redis $peer: podium $(tr '\n' ' ' <"$work/ev.podium")| redis $name" \
       "$(tr '\n' ' ' <"$work/ev.$name")| medians $p vs $r events/s, ratio $(ratio "$p" "$r")" \
       "(target 1.5)"
done
echo "driver ceiling (PING, same driver, podium): median $(median <"$work/ev.ping") requests/s"
fi

rps() {  # port, requests, keyspace, command...: redis-benchmark's requests per second
  local port=$1 n=$2 range=$3; shift 3
  local out
  out=$(redis-benchmark -p "$port" -c "$clients" -n "$n" -r "$range" -q "${bench_threads[@]}" "$@" 2>/dev/null |
    tr '\r' '\n' | grep 'requests per second' | tail -1 |
    sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
  if [ -z "$out" ]; then echo "redis-benchmark gave no figure on port $port for: $*" >&2; exit 1; fi
  echo "$out"
}
# compare label target range podium-words... -- redis-words...  (@RUN@ becomes the run number)
compare() {
  local label=$1 target=$2 range=$3; shift 3
  local -a pw=() rw=()
  while [ "$1" != -- ]; do pw+=("$1"); shift; done
  shift
  rw=("$@")
  : >"$work/podium.rps"; : >"$work/redis.rps"
  local run name first second
  for run in $(seq "$repeat"); do
    if [ $((run % 2)) = 1 ]; then first=podium second=redis; else first=redis second=podium; fi
    local line="run $run:"
    for name in $first $second; do
      local figure
      if [ "$name" = podium ]; then
        figure=$(rps "$podium_port" "$requests" "$range" "${pw[@]//@RUN@/$run}")
      else
        figure=$(rps "$redis_port" "$requests" "$range" "${rw[@]//@RUN@/$run}")
      fi
      echo "$figure" >>"$work/$name.rps"
      line+=" $name $figure"
    done
    echo "  $label $line"
  done
  local p r
  p=$(median <"$work/podium.rps"); r=$(median <"$work/redis.rps")
  echo "$label: podium $(tr '\n' ' ' <"$work/podium.rps")| redis $(tr '\n' ' ' <"$work/redis.rps")|" \
       "medians $p vs $r, ratio $(ratio "$p" "$r") (target $target)"
}

if run_section 1b; then
echo "== 1b. event ingestion with redis-benchmark: fixed shape, uniform products, VIEW," \
     "$requests requests, -P ${PIPELINE:-1}"
cards_before="podium $(P rank.card all "$today"), redis $(R zcard "rank:$today")"
compare "RANK.EVENT VIEW (redis-benchmark)" 1.5 "$products" \
  RANK.EVENT all "rb@RUN@:__rand_int__:__rand_int__" VIEW 1__rand_int__ "$ts0" -- \
  EVALSHA "$sha" 2 "event:rb@RUN@:__rand_int__:__rand_int__" "rank:$today" 0.1 1__rand_int__
echo "   board cards before 1b: $cards_before; after: podium $(P rank.card all "$today")," \
     "redis $(R zcard "rank:$today") (products beyond $products would mean a bad product id)"
compare "PING (redis-benchmark's ceiling here)" - 1 PING -- PING
fi

if run_section 2; then
echo "== 2. top 20 of the $products-product board, $requests requests, -P ${PIPELINE:-1}"
compare "RANK.TOP all $today 0 20" 1.5 1 RANK.TOP all "$today" 0 20 -- \
  ZREVRANGE "rank:$today" 0 19 WITHSCORES
echo "   replies: podium $(P rank.top all "$today" 0 20 | wc -l) lines, redis" \
     "$(R zrevrange "rank:$today" 0 19 withscores | wc -l) lines"
fi
run_section 3 || run_section 3c || exit 0
load_args=("${driver_args[@]}")
[ "$rate" != 0 ] && load_args+=(--rate "$rate")
summary_field() { sed -nE "s/.*[ ]$1=([0-9.]+).*/\1/p"; }
if run_section 3; then

echo "== 3. rollover under a $clients-client load (QUIET $quiet s, TAIL $tail_s s," \
     "$([ "$rate" = 0 ] && echo "closed loop" || echo "paced at $rate requests/s"))"
: >"$work/r.seconds"; : >"$work/r.during_max"; : >"$work/r.during_p999"; : >"$work/r.before_max"
for run in $(seq "$repeat"); do
  out=$($py "$driver" load --port "$redis_port" --server-pid "$redis_pid" --mode zincrby \
    "${load_args[@]}" --day "$today" --seed "$run" --label "  run $run redis ZINCRBY load" \
    --probe command --probe-at "$quiet" --tail "$tail_s" \
    --probe-command "ZUNIONSTORE rank:$tomorrow:r$run 1 rank:$today WEIGHTS 0.1")
  echo "$out" | grep -v '^summary '
  summary=$(echo "$out" | grep '^summary ')
  for f in seconds during_max during_p999 before_max; do
    echo "$summary" | summary_field "$f" >>"$work/r.$f"
  done
  R unlink "rank:$tomorrow:r$run" >/dev/null
  sleep 1
done
echo "redis ZUNIONSTORE of $products: $(tr '\n' ' ' <"$work/r.seconds")s, median" \
     "$(median <"$work/r.seconds") s; max latency during it, median $(median <"$work/r.during_max")" \
     "ms (p99.9 $(median <"$work/r.during_p999") ms), before it $(median <"$work/r.before_max") ms"

: >"$work/p.all_max"; : >"$work/p.all_p999"
for run in $(seq "$repeat"); do
  out=$($py "$driver" load --port "$podium_port" --server-pid "$podium_pid" --mode podium \
    "${load_args[@]}" --seed "$run" --tag "q$run" --duration $((quiet + tail_s)) \
    --label "  run $run podium RANK.EVENT load, $products-product board, no build")
  echo "$out" | grep -v '^summary '
  summary=$(echo "$out" | grep '^summary ')
  echo "$summary" | summary_field all_max >>"$work/p.all_max"
  echo "$summary" | summary_field all_p999 >>"$work/p.all_p999"
done
echo "podium RANK.EVENT load without a build: max latency median $(median <"$work/p.all_max")" \
     "ms, p99.9 median $(median <"$work/p.all_p999") ms"
fi

if [ "$rollover_build" != 1 ]; then
  echo "podium's window build is not measured here (ROLLOVER_BUILD=0): it is covered by the" \
       "in-process test, storage/ranking_test.cc"
  exit 0
fi
lead=$(( podium_load_ms * 3 / 1000 + quiet + 10 ))
: >"$work/b.seconds"; : >"$work/b.during_max"; : >"$work/b.during_p999"; : >"$work/b.before_max"
for run in $(seq "$repeat"); do
  read -r ztoday ztomorrow open_at offset < <($py "$driver" tzfile --path "$work/zone.$run" \
    --open-in "$lead")
  "$server" --port "$podium2_port" --data_dir= "${podium_flags[@]}" --ranking_tz="$work/zone.$run" \
    >"$work/podium2.$run.log" 2>&1 &
  podium2_pid=$!
  for _ in $(seq 2000); do
    [ "$(redis-cli -p "$podium2_port" ping 2>/dev/null)" = PONG ] && break
    kill -0 "$podium2_pid" 2>/dev/null || break
    sleep 0.005
  done
  if ! kill -0 "$podium2_pid" 2>/dev/null; then
    wait "$podium2_pid" 2>/dev/null || true; podium2_pid=
    echo "podium refused --ranking_tz=<a zone file's absolute path> ($(tail -1 "$work/podium2.$run.log"));" \
         "the window build is not measured: it is covered by the in-process test," \
         "storage/ranking_test.cc"
    exit 0
  fi
  load_board "$podium2_port" "$work/board.podium" >/dev/null
  expect "RANK.CARD all $ztoday (zone offset $offset s)" "$products" \
    "$(redis-cli -p "$podium2_port" rank.card all "$ztoday")"
  expect "RANK.CARD all $ztomorrow before 23:00 local" 0 \
    "$(redis-cli -p "$podium2_port" rank.card all "$ztomorrow")"
  wait_s=$(( open_at - $(date +%s) - quiet - 1 ))
  if [ "$wait_s" -lt 0 ]; then
    echo "  run $run: the board load ended too close to the opening; run skipped (raise QUIET)"
  else
    sleep "$wait_s"
    if [ "${LOAD_CLIENT:-python}" = cpp ]; then
      out=$("$build_dir/bench/rank_latency" --server "127.0.0.1:$podium2_port" \
        --connections "$clients" --rate "$rate" --products "$products" --window "$ztomorrow" \
        --tag "w$run:" --max_seconds "$build_wait" --tail "$tail_s" --slow_ms "${SLOW_MS:-0}" || true)
    else
      out=$($py "$driver" load --port "$podium2_port" --server-pid "$podium2_pid" --mode podium \
        "${load_args[@]}" --seed "$run" --tag "w$run" --probe build --window "$ztomorrow" \
        --duration "$build_wait" --tail "$tail_s" \
        --label "  run $run podium RANK.EVENT load across the opening of $ztomorrow at 23:00 local")
    fi
    echo "$out" | grep -v '^summary '
    summary=$(echo "$out" | grep '^summary ')
    for f in seconds during_max during_p999 before_max; do
      echo "$summary" | summary_field "$f" >>"$work/b.$f"
    done
    # The formula, for the top 3 of today and three fixed products.
    checked=0 wrong=0
    for product in $(redis-cli -p "$podium2_port" rank.top all "$ztoday" 0 3 | awk 'NR % 2 == 1') \
                   1000000000000 $((1000000000000 + products / 2)) $((1000000000000 + products - 1)); do
      score=$(redis-cli -p "$podium2_port" rank.signals all "$ztoday" "$product" | awk 'NR == 10')
      carried=$(redis-cli -p "$podium2_port" rank.signals all "$ztomorrow" "$product" | awk 'NR == 8')
      checked=$((checked + 1))
      awk -v s="$score" -v c="$carried" 'BEGIN {d = c - 0.1 * s; if (d < 0) d = -d; exit !(d <= 1e-9 * (s < 0 ? -s : s) + 1e-12)}' ||
        { wrong=$((wrong + 1)); echo "   product $product: today's score $score, tomorrow's carried $carried"; }
    done
    echo "   carried(tomorrow) = 0.1 x score(today): $((checked - wrong)) of $checked products"
  fi
  kill "$podium2_pid"; wait "$podium2_pid" 2>/dev/null || true; podium2_pid=
done
if [ -s "$work/b.seconds" ]; then
  echo "podium build of $ztomorrow ($products products carried): $(tr '\n' ' ' <"$work/b.seconds")s," \
       "median $(median <"$work/b.seconds") s, in the background; max latency during it, median" \
       "$(median <"$work/b.during_max") ms (p99.9 $(median <"$work/b.during_p999") ms), before it" \
       "$(median <"$work/b.before_max") ms"
  [ -s "$work/r.during_max" ] &&
    echo "max latency during the rollover: podium build $(median <"$work/b.during_max") ms vs" \
         "redis ZUNIONSTORE $(median <"$work/r.during_max") ms (medians)"
fi
