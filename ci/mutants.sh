#!/usr/bin/env bash
# ci/mutants.sh [SECONDS] [NAME...] - the mutation check: proof that the harness finds bugs.
#
# Each ci/mutants/*.patch plants one known MMU/memory bug (from
# shared BUG-CLASSES: ignore the A bit, accept a misaligned superpage, keep
# TLB entries across an ASID flush, forget to break reservations on a bulk
# write, ...). Its header names the fuzz target expected to catch it:
#     # target: fuzz_translate
# For each patch: apply it to a scratch copy of the committed tree (never to
# the checkout), rebuild that target incrementally with libFuzzer +
# ASan+UBSan, fuzz it for at most SECONDS (default 60) starting from an
# EMPTY corpus (with only the dictionary), so the fuzzer must find the bug by
# itself rather than replay a hand-written seed that spells it out, and
# report killed (the target reported a mismatch/crash, with the time it
# took) or survived. VMMEM_MUTANT_SEEDS=1 starts from corpus/<t>/seed-*
# instead (what continuous fuzzing does).
# Exit status: 0 iff every mutant was killed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-60}
[[ $# -gt 0 ]] && shift
bash ci/deps.sh
work=${VMMEM_MUTANT_DIR:-$root/build/mutants}
rm -rf "$work" && mkdir -p "$work"

patches=()
if (($#)); then
  for n in "$@"; do patches+=(ci/mutants/"$n".patch); done
else
  patches=(ci/mutants/*.patch)
fi

# One scratch copy of the committed tree, its own repository (`git apply`
# run inside another repository's subdirectory would silently skip the
# paths), and one build tree: each mutant is applied, its target rebuilt
# incrementally (only what the patch touches recompiles), fuzzed, and
# reverted. A full build per mutant would cost most of CI's time budget.
src=$work/src
b=$work/build
mkdir -p "$src"
git archive HEAD | tar -x -C "$src"
git -C "$src" init -q
git -C "$src" add -A
git -C "$src" -c user.name=mutants -c user.email=mutants@localhost commit -q -m base
if ! cmake -S "$src" -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
     -DVMMEM_SANITIZE=address -DVMMEM_BUILD_FUZZ=ON -DVMMEM_BUILD_TESTS=OFF -DVMMEM_WERROR=OFF \
     >"$work/configure.log" 2>&1; then
  echo "mutants: configure failed ($work/configure.log)"; exit 1
fi
# Build every target once, unmutated: later builds are incremental.
targets=$(sed -n 's/^# target: *//p' "${patches[@]}" | sort -u)
# shellcheck disable=SC2086
if ! ninja -C "$b" $targets >"$work/build-base.log" 2>&1; then
  echo "mutants: the unmutated build failed ($work/build-base.log)"; exit 1
fi

printf '%-34s %-22s %-9s %s\n' mutant target result time
killed=0 survived=0 broken=0
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  target=$(sed -n 's/^# target: *//p' "$p" | head -1)
  log=$work/$name
  mkdir -p "$log"
  git -C "$src" checkout -q -- . # back to the committed tree
  # After applying, the reverse must apply: proof the bug is really planted.
  if ! { git -C "$src" apply "$root/$p" && git -C "$src" apply --check -R "$root/$p"; } \
       2>"$log/apply.log"; then
    printf '%-34s %-22s %-9s %s\n' "$name" "$target" BROKEN "patch does not apply"
    broken=$((broken + 1)); continue
  fi
  if ! ninja -C "$b" "$target" >"$log/build.log" 2>&1; then
    printf '%-34s %-22s %-9s %s\n' "$name" "$target" BROKEN "build failed ($log/build.log)"
    broken=$((broken + 1)); continue
  fi
  exe=$(find "$b" -type f -executable -name "$target" | head -1)
  corp=$log/corpus && mkdir -p "$corp"
  if [[ ${VMMEM_MUTANT_SEEDS:-0} == 1 ]]; then
    cp "$src"/corpus/"$target"/seed-* "$corp"/ 2>/dev/null || true
  fi
  dict=()
  [[ -f $src/fuzz/$target.dict ]] && dict=(-dict="$src/fuzz/$target.dict")
  start=$(date +%s.%N)
  set +e
  (cd "$log" && ASAN_OPTIONS=detect_leaks=0 "$exe" "${dict[@]}" -max_total_time="$secs" \
     -timeout=10 -rss_limit_mb=4096 -print_final_stats=0 "$corp" >"$log/fuzz.log" 2>&1)
  rc=$?
  set -e
  t=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f s", e - s }')
  if ((rc != 0)) && grep -q -E 'ERROR: libFuzzer|Test unit written|SUMMARY: (Address|Undefined)' "$log/fuzz.log"; then
    printf '%-34s %-22s %-9s %s\n' "$name" "$target" killed "$t"
    killed=$((killed + 1))
  else
    printf '%-34s %-22s %-9s %s\n' "$name" "$target" SURVIVED "$t (log $log/fuzz.log)"
    survived=$((survived + 1))
  fi
done
git -C "$src" checkout -q -- .
echo "mutants: $killed killed, $survived survived, $broken broken"
((survived == 0 && broken == 0))
