#!/usr/bin/env bash
# Runs every fuzz target (the protocol decoders, the WAL reader and the snapshot loader) for <seconds>
# each on a scratch copy of its seed corpus (<folder>/fuzz/corpus/<target>/, which stays
# unchanged), and fails if any target finds a crash, a failed invariant, a leak or a timeout.
#
# The targets need clang (libFuzzer). Build them first, e.g. from the repository root:
#   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja \
#       -DPODIUM_BUILD_BENCH=OFF -DPODIUM_BUILD_TESTS=OFF
#   cmake --build build-fuzz -j2 --target podium_fuzzers
#   protocol/fuzz/run_fuzzers.sh build-fuzz 60
# (PODIUM_BUILD_FUZZERS is on by default with clang.) Crash reproducers are left in
# <build_dir>/fuzz-artifacts/<target>/; replay one with `<target> <file>`.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <build_dir> <seconds>" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
seconds=$2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# <folder>/fuzz/<target>, relative to both the repository and the build directory.
targets=(protocol/fuzz/fuzz_binary_request protocol/fuzz/fuzz_resp_request
         protocol/fuzz/fuzz_binary_reply protocol/fuzz/fuzz_resp_reply
         storage/fuzz/fuzz_wal_reader storage/fuzz/fuzz_snapshot_loader)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

failed=0
for target_path in "${targets[@]}"; do
  target=$(basename "$target_path")
  binary="$build_dir/$target_path"
  if [[ ! -x "$binary" ]]; then
    echo "missing $binary: build the podium_fuzzers target first" >&2
    exit 2
  fi
  corpus="$scratch/$target"
  artifacts="$build_dir/fuzz-artifacts/$target"
  mkdir -p "$corpus" "$artifacts"
  cp "$repo/$(dirname "$target_path")/corpus/$target/"* "$corpus/"
  log="$scratch/$target.log"
  options=(-max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
           -artifact_prefix="$artifacts/")
  [[ $target == fuzz_resp_* ]] && options+=(-dict="$here/resp.dict")
  echo "== $target: ${seconds}s"
  if "$binary" "${options[@]}" "$corpus" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "$log" || true
    grep -E '#[0-9]+.*(DONE|cov:)' "$log" | tail -1 || true
  else
    echo "!! $target FAILED; log follows, artifacts in $artifacts" >&2
    tail -60 "$log" >&2
    failed=1
  fi
done
exit "$failed"
