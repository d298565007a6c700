#!/usr/bin/env bash
# One hot board, two connections, podium-server's default two loops (docs/benchmarks.md, issue 3).
# The kernel (SO_REUSEPORT) puts each new connection on one of the loops, so a run either splits
# the two connections over both loops or puts both on one. Each round starts two podium-bench
# processes at once (one connection each, binary ZINCRBY, pipeline 256), tells the two cases
# apart by the loops' CPU time (/proc/PID/task: "split" when both loops worked), and adds up
# the two processes' rates. Several builds are measured side by side, in turn each round.
#
# Usage: bench/hot_board_loops.sh [build_dir...]   (default: build)
#   env: ROUNDS=16 RUN_SECONDS=2 PORT=7795 (the builds take PORT, PORT+1, ...)
#        KEYS="bench:board bench:board" (two different keys: the case where the loops share nothing)
set -euo pipefail
cd "$(dirname "$0")/.."
builds=("$@")
[ ${#builds[@]} -eq 0 ] && builds=(build)
rounds=${ROUNDS:-16}
run_seconds=${RUN_SECONDS:-2}
port0=${PORT:-7795}
read -r key1 key2 <<<"${KEYS:-bench:board bench:board}"
work=$(mktemp -d /tmp/podium-hot-board-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

cpu_ticks_by_thread() {  # pid: "user+system" clock ticks of each thread, one per line
  for task in /proc/"$1"/task/*; do awk '{print $14 + $15}' "$task/stat"; done
}

for i in "${!builds[@]}"; do
  port=$((port0 + i))
  if redis-cli -p "$port" ping >/dev/null 2>&1; then echo "port $port is taken" >&2; exit 1; fi
  "${builds[$i]}/server/podium-server" --port "$port" --data_dir= --threads 2 \
    >"$work/server-$i.log" 2>&1 &
  pids+=($!)
done
for i in "${!builds[@]}"; do
  port=$((port0 + i))
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  for key in $(printf '%s\n' "$key1" "$key2" | sort -u); do  # fill and warm each board: 1M members
    "${builds[$i]}/bench/podium-bench" --server "127.0.0.1:$port" --threads 1 --pipeline 256 \
      --seconds 6 --key "$key" >/dev/null
  done
done

for round in $(seq "$rounds"); do
  for i in "${!builds[@]}"; do
    port=$((port0 + i)); bench="${builds[$i]}/bench/podium-bench"; pid=${pids[$i]}
    runs=()
    for k in 1 2; do
      key=$key1; [ "$k" = 2 ] && key=$key2
      "$bench" --server "127.0.0.1:$port" --threads 1 --pipeline 256 --seconds "$run_seconds" \
        --key "$key" >"$work/run-$k.json" 2>&1 &
      runs+=($!)
    done
    sleep 0.4  # past the connections' start
    mapfile -t before < <(cpu_ticks_by_thread "$pid")
    sleep 1
    mapfile -t after < <(cpu_ticks_by_thread "$pid")
    wait "${runs[@]}"
    busy=0  # threads that used more than 15% of a core in the sampled second
    for t in "${!before[@]}"; do
      (( ${after[$t]:-0} - ${before[$t]} > 15 )) && busy=$((busy + 1))
    done
    rate=0
    for k in 1 2; do
      r=$(grep -o '"requests_per_second":[0-9]*' "$work/run-$k.json" | cut -d: -f2)
      rate=$((rate + ${r:-0}))
    done
    case_name=same; [ "$busy" -ge 2 ] && case_name=split
    echo "${builds[$i]} $case_name $rate" >>"$work/results"
  done
done

echo "two connections on $key1 and $key2, $rounds rounds of ${run_seconds} s, ZINCRBY/s (both added):"
for build in "${builds[@]}"; do
  for case_name in split same; do
    values=$(awk -v b="$build" -v c="$case_name" '$1 == b && $2 == c {print $3}' "$work/results" |
      sort -n)
    [ -z "$values" ] && continue
    count=$(wc -l <<<"$values")
    median=$(awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}' <<<"$values")
    echo "$build $case_name: $count runs, median $median ($(tr '\n' ' ' <<<"$values"| sed 's/ $//'))"
  done
done
