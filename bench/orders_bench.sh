#!/usr/bin/env bash
# Orders figures (issue 6's targets), Podium and Debian's redis-server in the same run, both
# without persistence, redis-benchmark driving both (CLIENTS clients, -P 1; but see 2b), runs
# alternating (odd runs Podium first, even runs Redis first), REPEAT times; every run, the
# medians, the ratio:
#  1. one hot product, every request reserving 1 unit: `STOCK.RESERVE 1000 1` against the usual
#     check-and-decrement script, `EVALSHA <bench/stock_reserve.lua> 1 stock:1000 1`. The stock is
#     10^9 on both, so a run never sells out. Target: Podium >= 1.5x.
#  2. a 3-item order (products 1, 2, 3 at 1000, 2000, 3000, 1 unit each) with 1 point, against
#     bench/order_place.lua, the same checks and writes as ORDER.PLACE (its header lists them).
#     Stocks are 10^9 and user 7 holds 10^12 points (1 per order), so nothing runs out; holds are
#     24 h, so nothing expires during the runs (no sweep work on either side). Target: >= 2x.
#     a. redis-benchmark, -P 1, points, no coupon: every request has a fresh order id (two
#        __rand_int__ in it, -r 10^6: 10^12 ids, a collision is a rare idempotent replay);
#     b. a coupon can be held by one order only, so every request needs its own coupon, and
#        redis-benchmark can only draw ids at random (__rand_int__, no counter); a random draw
#        that repeats a coupon is refused, and Debian's redis-benchmark 7.0.15 exits on the first
#        error reply. So this part writes its REQUESTS commands out, numbered: order q<run>:<i>
#        with coupon c<run>:<i>, the run's REQUESTS coupons (user 7, FIXED 500) issued on both
#        before either is timed (COUPON.ISSUE on Podium, HSET coupon:<id> on Redis, through
#        redis-cli --pipe, untimed). Command i goes to connection i % CLIENTS; each connection is
#        a `redis-cli --pipe` of its share (so deeply pipelined, not -P 1), all started at once;
#        req/s = REQUESTS / the wall time from the first start to the last exit. Every reply must
#        be a placement (0 errors), and the orders placed (points spent) are printed per run.
#        The same driver also runs the points-only order of (a), so the regime's effect on the
#        ratio is visible apart from the coupon's.
#     After the runs, each server's state is checked: for each product available + held = 10^9,
#     and held = points spent = orders placed (Redis: also the deadline zset and the user's list).
#  3. zero oversell, with a Python driver (redis-py, one connection per thread, CLIENTS threads),
#     as redis-benchmark counts no successes (and stops at an error reply): OVERSELL_STOCK units of one
#     product, OVERSELL_REQUESTS reservations of 1 unit: the successes must be exactly the stock,
#     their replies (units left) exactly 0 .. stock-1 once each, and the stock ends at 0; then
#     1500 3-item orders against stocks 1000, 2000, 3000: exactly 1000 placed, 500 SOLDOUT, the
#     stocks end at 0, 1000, 2000 with 1000 held each, 1000 points spent (all or nothing).
#
# Usage: bench/orders_bench.sh [build_dir]
#   env: REPEAT=3 REQUESTS=300000 CLIENTS=50
#        PIPELINE=16 (redis-benchmark -P for parts 1 and 2a; default 1), ONLY_RESERVE=1 (part 1
#        only)
#        OVERSELL_STOCK=100000 OVERSELL_REQUESTS=150000 PODIUM_PORT=7795 REDIS_PORT=6395
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
repeat=${REPEAT:-3}
requests=${REQUESTS:-300000}
clients=${CLIENTS:-50}
oversell_stock=${OVERSELL_STOCK:-100000}
oversell_requests=${OVERSELL_REQUESTS:-150000}
podium_port=${PODIUM_PORT:-7795}
redis_port=${REDIS_PORT:-6395}
server="$build_dir/server/podium-server"
work=$(mktemp -d /tmp/podium-orders-XXXXXX)
podium_pid=

cleanup() {
  redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
  if [ -n "$podium_pid" ]; then kill "$podium_pid" 2>/dev/null || true; wait "$podium_pid" 2>/dev/null || true; fi
  rm -rf "$work"
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
for port in "$podium_port" "$redis_port"; do
  if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
done
"$server" --port "$podium_port" --data_dir= >"$work/podium.log" 2>&1 &
podium_pid=$!
redis-server --port "$redis_port" --save '' --appendonly no --dir "$work" --daemonize yes \
  --logfile "$work/redis.log"
wait_ping "$podium_port"
wait_ping "$redis_port"

P() { redis-cli -p "$podium_port" "$@"; }
R() { redis-cli -p "$redis_port" "$@"; }
expect() {  # what, expected, got: a setup reply that is not what the docs say stops the run
  if [ "$2" != "$3" ]; then echo "unexpected reply to $1: expected '$2', got '$3'" >&2; exit 1; fi
}

stock0=1000000000
points0=1000000000000
reserve_sha=$(R script load "$(cat bench/stock_reserve.lua)")
order_sha=$(R script load "$(cat bench/order_place.lua)")
expect "BRAND.PUT 1 bench" OK "$(P brand.put 1 bench)"
for product in 1 2 3; do
  expect "PRODUCT.PUT $product 1 ${product}000" OK "$(P product.put "$product" 1 "${product}000" "item $product")"
  expect "STOCK.SET $product $stock0" "$stock0" "$(P stock.set "$product" "$stock0")"
  R hset "product:$product" brand 1 price "${product}000" name "item $product" >/dev/null
  R set "stock:$product" "$stock0" >/dev/null
done
expect "STOCK.SET 1000 $stock0" "$stock0" "$(P stock.set 1000 "$stock0")"
R set stock:1000 "$stock0" >/dev/null
expect "POINTS.CHARGE 7 $points0" "$points0" "$(P points.charge 7 "$points0")"
R set points:7 "$points0" >/dev/null
echo "podium $(P info server | tr -d '\r' | grep -E '^io_threads:'), redis $(redis-server --version | awk '{print $3}')," \
     "$clients clients, -P ${PIPELINE:-1}, $repeat runs each, load average $(cut -d' ' -f1-3 /proc/loadavg)"

rps() {  # port, requests, keyspace for __rand_int__, command...
  local port=$1 n=$2 range=$3; shift 3
  local out
  out=$(redis-benchmark -p "$port" -c "$clients" -n "$n" -r "$range" -P "${PIPELINE:-1}" -q "$@" 2>/dev/null |
    tr '\r' '\n' | grep 'requests per second' | tail -1 |
    sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
  if [ -z "$out" ]; then echo "redis-benchmark gave no figure on port $port for: $*" >&2; exit 1; fi
  echo "$out"
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
spent() {  # points user 7 has spent so far: one per order placed
  if [ "$1" = podium ]; then echo $((points0 - $(P points.get 7))); else echo $((points0 - $(R get points:7))); fi
}

# compare label target requests keyspace podium-words... -- redis-words...
# @RUN@ in a word becomes the run number; with count_orders=1 each run also reports the orders
# placed (points spent).
count_orders=0
compare() {
  local label=$1 target=$2 n=$3 range=$4; shift 4
  local -a pw=() rw=()
  while [ "$1" != -- ]; do pw+=("$1"); shift; done
  shift
  rw=("$@")
  : >"$work/podium.rps"; : >"$work/redis.rps"
  local run name first second placed=""
  for run in $(seq "$repeat"); do
    if [ $((run % 2)) = 1 ]; then first=podium second=redis; else first=redis second=podium; fi
    local line="run $run:"
    for name in $first $second; do
      local before after figure
      before=$(spent "$name")
      if [ "$name" = podium ]; then
        figure=$(rps "$podium_port" "$n" "$range" "${pw[@]//@RUN@/$run}")
      else
        figure=$(rps "$redis_port" "$n" "$range" "${rw[@]//@RUN@/$run}")
      fi
      after=$(spent "$name")
      echo "$figure" >>"$work/$name.rps"
      line+=" $name $figure"
      [ "$count_orders" = 1 ] && line+=" ($((after - before)) placed of $n)"
    done
    echo "  $label $line"
  done
  local p r
  p=$(median <"$work/podium.rps"); r=$(median <"$work/redis.rps")
  echo "$label: podium $(tr '\n' ' ' <"$work/podium.rps")| redis $(tr '\n' ' ' <"$work/redis.rps")|" \
       "medians $p vs $r, ratio $(awk -v p="$p" -v r="$r" 'BEGIN {printf "%.2f", p / r}') (target $target)"
}

echo "== 1. STOCK.RESERVE on one hot product, $requests requests"
compare "STOCK.RESERVE 1000 1" 1.5 "$requests" 1 STOCK.RESERVE 1000 1 -- \
  EVALSHA "$reserve_sha" 1 stock:1000 1
echo "   stock left: podium $(P stock.get 1000), redis $(R get stock:1000) (of $stock0)"
compare "PING (reference: the client's ceiling here)" - "$requests" 1 PING -- PING
[ "${ONLY_RESERVE:-0}" = 1 ] && exit 0

order_keys=(points:7 orders:7 order:deadlines stock:held stock:1 stock:2 stock:3
            product:1 product:2 product:3)
order_args=(7 86400000 3 1 1 2 1 3 1)
count_orders=1

echo "== 2a. ORDER.PLACE, 3 items and 1 point, no coupon, $requests requests"
compare "ORDER.PLACE 3 items + points" 2 "$requests" 1000000 \
  ORDER.PLACE "a@RUN@:__rand_int__-__rand_int__" "${order_args[@]}" POINTS 1 -- \
  EVALSHA "$order_sha" 11 "order:a@RUN@:__rand_int__-__rand_int__" "${order_keys[@]}" "${order_args[@]}" 1

# 2b: every request its own coupon, so no draw at random: REQUESTS commands written out per run,
# command i on connection i % CLIENTS, each connection a `redis-cli --pipe` of its share, all
# started together; req/s = REQUESTS / wall time from the first start to the last exit.
write_orders() {  # run, workload (points|coupon): the command files of both servers
  /usr/bin/python3 - "$1" "$2" "$requests" "$clients" "$order_sha" "$work" <<'PY'
import sys
run, workload, n, clients, sha, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
def resp(words):
    return "*%d\r\n%s" % (len(words), "".join("$%d\r\n%s\r\n" % (len(w), w) for w in words))
keys = ["points:7", "orders:7", "order:deadlines", "stock:held", "stock:1", "stock:2", "stock:3",
        "product:1", "product:2", "product:3"]
args = ["7", "86400000", "3", "1", "1", "2", "1", "3", "1"]
podium = [open("%s/podium.%d" % (work, c), "w") for c in range(clients)]
redis = [open("%s/redis.%d" % (work, c), "w") for c in range(clients)]
with open(work + "/coupons.podium", "w") as podium_coupons, open(work + "/coupons.redis", "w") as redis_coupons:
    for i in range(n):
        order = "%s%s:%d" % ("p" if workload == "points" else "q", run, i)
        if workload == "points":
            podium[i % clients].write(resp(["ORDER.PLACE", order] + args + ["POINTS", "1"]))
            redis[i % clients].write(resp(["EVALSHA", sha, "11", "order:" + order] + keys + args + ["1"]))
        else:
            coupon = "c%s:%d" % (run, i)
            podium_coupons.write(resp(["COUPON.ISSUE", coupon, "7", "FIXED", "500"]))
            redis_coupons.write(resp(["HSET", "coupon:" + coupon, "user", "7", "kind", "FIXED",
                                      "value", "500", "state", "AVAILABLE", "order", ""]))
            podium[i % clients].write(resp(["ORDER.PLACE", order] + args + ["COUPON", coupon, "POINTS", "1"]))
            redis[i % clients].write(resp(["EVALSHA", sha, "12", "order:" + order] + keys +
                                          ["coupon:" + coupon] + args + ["1"]))
for f in podium + redis: f.close()
PY
}
pipe_rps() {  # name, port: runs $work/<name>.0 .. .<clients-1> at once; prints req/s, errors
  local name=$1 port=$2 c start end
  local -a jobs=()
  start=$(date +%s%N)
  for c in $(seq 0 $((clients - 1))); do
    redis-cli -p "$port" --pipe <"$work/$name.$c" >"$work/$name.$c.out" 2>&1 &
    jobs+=($!)
  done
  for c in "${jobs[@]}"; do wait "$c" || true; done
  end=$(date +%s%N)
  local errors replies
  errors=$(cat "$work/$name".*.out | tr -d '\r' | awk '/^errors: / {gsub(",", "", $2); e += $2} END {print e + 0}')
  replies=$(cat "$work/$name".*.out | tr -d '\r' | awk '/^errors: / {r += $4} END {print r + 0}')
  if [ "$errors" != 0 ] || [ "$replies" != "$requests" ]; then
    echo "$name --pipe: $errors errors, $replies replies of $requests; first lines:" >&2
    cat "$work/$name".*.out | grep -v -e '^All data' -e '^Last reply' -e '^errors:' | sort | uniq -c | head -5 >&2
    exit 1
  fi
  awk -v n="$requests" -v ns=$((end - start)) 'BEGIN {printf "%.2f", n / (ns / 1e9)}'
}
pipe_compare() {  # label, workload (points|coupon)
  local label=$1 workload=$2 run name first second
  : >"$work/podium.rps"; : >"$work/redis.rps"
  for run in $(seq "$repeat"); do
    write_orders "$run" "$workload"
    if [ "$workload" = coupon ]; then  # this run's coupons on both, before either is timed
      local issued_p issued_r
      issued_p=$(redis-cli -p "$podium_port" --pipe <"$work/coupons.podium" 2>&1 | tr -d '\r' | tail -1)
      issued_r=$(redis-cli -p "$redis_port" --pipe <"$work/coupons.redis" 2>&1 | tr -d '\r' | tail -1)
      expect "run $run COUPON.ISSUE x $requests" "errors: 0, replies: $requests" "$issued_p"
      expect "run $run HSET coupon x $requests" "errors: 0, replies: $requests" "$issued_r"
    fi
    if [ $((run % 2)) = 1 ]; then first=podium second=redis; else first=redis second=podium; fi
    local line="run $run:"
    for name in $first $second; do
      local before after figure port=$podium_port
      [ "$name" = redis ] && port=$redis_port
      before=$(spent "$name")
      figure=$(pipe_rps "$name" "$port")
      after=$(spent "$name")
      echo "$figure" >>"$work/$name.rps"
      line+=" $name $figure ($((after - before)) placed of $requests)"
    done
    echo "  $label $line"
    rm -f "$work"/podium.[0-9]* "$work"/redis.[0-9]* "$work"/coupons.*
  done
  local p r
  p=$(median <"$work/podium.rps"); r=$(median <"$work/redis.rps")
  echo "$label: podium $(tr '\n' ' ' <"$work/podium.rps")| redis $(tr '\n' ' ' <"$work/redis.rps")|" \
       "medians $p vs $r, ratio $(awk -v p="$p" -v r="$r" 'BEGIN {printf "%.2f", p / r}') (target 2)"
}
echo "== 2b. ORDER.PLACE, $requests requests written out, each connection a redis-cli --pipe"
pipe_compare "ORDER.PLACE 3 items + points, --pipe" points
pipe_compare "ORDER.PLACE 3 items + points + coupon, --pipe" coupon
count_orders=0

echo "== 2. state after the order runs"
for name in podium redis; do
  placed=$(spent "$name")
  line="$name: $placed orders placed (points spent)"
  ok=yes
  for product in 1 2 3; do
    if [ "$name" = podium ]; then
      reply=($(P stock.get "$product" withheld))
      available=${reply[0]}; held=${reply[1]}
    else
      available=$(R get "stock:$product"); held=$(R hget stock:held "$product")
    fi
    line+="; product $product available $available held $held"
    [ $((available + held)) = "$stock0" ] && [ "$held" = "$placed" ] || ok=no
  done
  if [ "$name" = redis ]; then
    deadlines=$(R zcard order:deadlines); listed=$(R llen orders:7)
    line+="; deadline zset $deadlines, user list $listed"
    [ "$deadlines" = "$placed" ] && [ "$listed" = "$placed" ] || ok=no
  fi
  echo "$line; consistent: $ok"
done
echo "coupon c1:0: podium $(P coupon.get c1:0 | tr '\n' ' ')| redis $(R hgetall coupon:c1:0 | tr '\n' ' ')"

echo "== 3. oversell: $oversell_requests reservations of 1 against $oversell_stock units, then" \
     "1500 orders against stocks 1000/2000/3000, $clients threads"
cat >"$work/oversell.py" <<'PY'
import sys, threading, time
import redis

name, port, reserve_sha, order_sha = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
stock, requests, clients = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
podium = name == "podium"
admin = redis.Redis(port=port)

def run_threads(work, total):
    """work(client, i) -> ('ok', value) | ('soldout', msg) | ('error', msg) for i in 0..total-1."""
    results = [[] for _ in range(clients)]
    def body(t):
        client = redis.Redis(port=port, single_connection_client=True)
        for i in range(t, total, clients):
            try:
                results[t].append(("ok", work(client, i)))
            except redis.ResponseError as e:
                kind = "soldout" if str(e).startswith("SOLDOUT") else "error"
                results[t].append((kind, str(e)))
        client.close()
    threads = [threading.Thread(target=body, args=(t,)) for t in range(clients)]
    start = time.monotonic()
    for thread in threads: thread.start()
    for thread in threads: thread.join()
    flat = [r for rs in results for r in rs]
    return flat, time.monotonic() - start

def summary(flat):
    ok = [v for k, v in flat if k == "ok"]
    soldout = sum(1 for k, _ in flat if k == "soldout")
    errors = [v for k, v in flat if k == "error"]
    return ok, soldout, errors

# Reservations on one product.
if podium:
    admin.execute_command("STOCK.SET", 2001, stock)
    reserve = lambda c, i: c.execute_command("STOCK.RESERVE", 2001, 1)
else:
    admin.set("stock:2001", stock)
    reserve = lambda c, i: c.evalsha(reserve_sha, 1, "stock:2001", 1)
flat, seconds = run_threads(reserve, requests)
ok, soldout, errors = summary(flat)
final = int(admin.execute_command("STOCK.GET", 2001) if podium else admin.get("stock:2001"))
left = sorted(int(v) for v in ok)
exact = left == list(range(stock))
passed = final == 0 and len(ok) == stock and exact and not errors and len(ok) + soldout == requests
print("  %s reserve: %d requests in %.1f s: %d reserved, %d SOLDOUT, %d other errors%s;"
      " final stock %d; replies are %d..0 once each: %s; oversell check %s"
      % (name, requests, seconds, len(ok), soldout, len(errors),
         " (first: %s)" % errors[0] if errors else "", final, stock - 1,
         "yes" if exact else "no", "PASSED" if passed else "FAILED"))

# 3-item orders: stocks 1000, 2000, 3000; all or nothing.
units = {2002: 1000, 2003: 2000, 2004: 3000}
orders = 1500
if podium:
    admin.execute_command("BRAND.PUT", 2, "oversell")
    admin.execute_command("POINTS.CHARGE", 8, 1000000)
    for p, u in units.items():
        admin.execute_command("PRODUCT.PUT", p, 2, 100, "oversell %d" % p)
        admin.execute_command("STOCK.SET", p, u)
    words = ["8", "60000", "3", "2002", "1", "2003", "1", "2004", "1"]
    place = lambda c, i: c.execute_command("ORDER.PLACE", "ov-%d" % i, *words, "POINTS", 1)
else:
    admin.set("points:8", 1000000)
    for p, u in units.items():
        admin.hset("product:%d" % p, mapping={"brand": 2, "price": 100, "name": "oversell %d" % p})
        admin.set("stock:%d" % p, u)
    keys = ["points:8", "orders:8", "order:deadlines", "stock:held", "stock:2002", "stock:2003",
            "stock:2004", "product:2002", "product:2003", "product:2004"]
    args = ["8", "60000", "3", "2002", "1", "2003", "1", "2004", "1", "1"]
    place = lambda c, i: c.evalsha(order_sha, 11, "order:ov-%d" % i, *keys, *args)
flat, seconds = run_threads(place, orders)
ok, soldout, errors = summary(flat)
if podium:
    state = [[int(x) for x in admin.execute_command("STOCK.GET", p, "WITHHELD")] for p in units]
    points = int(admin.execute_command("POINTS.GET", 8))
else:
    state = [[int(admin.get("stock:%d" % p)), int(admin.hget("stock:held", p))] for p in units]
    points = int(admin.get("points:8"))
expected = [[0, 1000], [1000, 1000], [2000, 1000]]
passed = (len(ok) == 1000 and soldout == 500 and not errors and state == expected
          and points == 1000000 - 1000)
print("  %s orders: %d in %.1f s: %d placed, %d SOLDOUT, %d other errors%s;"
      " [available, held] %s (expected %s); points spent %d; all-or-nothing check %s"
      % (name, orders, seconds, len(ok), soldout, len(errors),
         " (first: %s)" % errors[0] if errors else "", state, expected,
         1000000 - points, "PASSED" if passed else "FAILED"))
PY
for name_port in "podium:$podium_port" "redis:$redis_port"; do
  /usr/bin/python3 "$work/oversell.py" "${name_port%%:*}" "${name_port##*:}" "$reserve_sha" \
    "$order_sha" "$oversell_stock" "$oversell_requests" "$clients"
done
