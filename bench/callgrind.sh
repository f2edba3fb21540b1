#!/usr/bin/env bash
# bench/callgrind.sh - instructions per operation of each hot path, counted by
# valgrind --tool=callgrind (repeatable, unlike timings). Each case runs twice
# with different iteration counts; the difference divided by the extra
# iterations cancels setup cost.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh valgrind
cmake --preset bench >/dev/null && cmake --build --preset bench >/dev/null
bin=build/bench/bench/bench_hotpath
ir() {
  local out; out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" --only "$1" --iters "$2" >/dev/null 2>&1
  awk '/^summary:/ {print $2}' "$out"; rm -f "$out"
}
printf '%-14s %12s\n' case instr/op
for c in raw physmem seed-sharded mmu-bare mmu-sv39-hit translate-hit walk-sv39 miss-sv39 miss-x86 miss-arm64; do
  a=$(ir "$c" 100000); b=$(ir "$c" 300000)
  awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN { printf "%-14s %12.1f\n", c, (b - a) / 200000 }'
done
