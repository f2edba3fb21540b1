#!/usr/bin/env bash
# ci/mutants.sh [SECONDS] [--vmc [--save]] [NAME...] - the mutation check: proof that the
# harness finds bugs, and that each one shrinks to a short .vmc case.
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
# took) or survived. A header line "# budget: K" gives that mutant K times
# SECONDS (for bugs that need a rare combination; the header says why);
# "# host: avx" marks a mutant of code only Intel/AMD hosts with AVX run
# (skipped elsewhere, and said so). VMMEM_MUTANT_SEEDS=1 starts from corpus/<t>/seed-*
# instead (what continuous fuzzing does).
#
# Regression cases: conformance/cases/regress/mutant-<name>.vmc is the
# shrunk .vmc case of each mutant's finding. ctest runs it on the real tree,
# where it must pass; here, with the mutant applied, vmmem-conform is rebuilt
# in the same incremental tree and must FAIL it (column "case").
#
# --vmc: for each killed mutant, turn the finding into a case as ci/fuzz.sh
# does (<t>_replay --vmc, then ci/vmc-shrink.py against the mutant's
# vmmem-conform), check that it fails on the mutant and passes on the fixed
# tree (a vmmem-conform built before any patch), and print a table:
#   mutant  lines  fails-on-mutant  passes-on-fixed
# The cases are left in build/mutants/<name>/mutant-<name>.vmc; --save also
# copies them to conformance/cases/regress/ (review the diff, then commit).
#
# Exit status: 0 iff every mutant was killed, every committed case fails on
# its mutant, and (--vmc) every killed mutant gave a case that fails on the
# mutant and passes on the fixed tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=60 vmc=0 save=0 names=()
while (($#)); do
  case $1 in
    --vmc) vmc=1 ;;
    --save) save=1 ;;
    ''|*[!0-9]*) names+=("$1") ;;
    *) secs=$1 ;;
  esac
  shift
done
((save == 0 || vmc == 1)) || { echo "ci/mutants.sh: --save needs --vmc" >&2; exit 2; }
bash ci/deps.sh
work=${VMMEM_MUTANT_DIR:-$root/build/mutants}
rm -rf "$work" && mkdir -p "$work"

patches=()
if ((${#names[@]})); then
  for n in "${names[@]}"; do patches+=(ci/mutants/"$n".patch); done
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
# Build every target once, unmutated: later builds are incremental. The
# unmutated vmmem-conform is kept aside: it is "the fixed tree" of --vmc.
targets=$(sed -n 's/^# target: *//p' "${patches[@]}" | sort -u)
replays=""   # the replay executables write findings as .vmc: only --vmc needs them
((vmc)) && replays=$(for t in $targets; do echo "${t}_replay"; done)
# shellcheck disable=SC2086
if ! ninja -C "$b" $targets $replays vmmem-conform >"$work/build-base.log" 2>&1; then
  echo "mutants: the unmutated build failed ($work/build-base.log)"; exit 1
fi
conform=$(find "$b" -type f -executable -name vmmem-conform | head -1)
cp "$conform" "$work/vmmem-conform.fixed"
regress=$root/conformance/cases/regress
((save)) && mkdir -p "$regress"

printf '%-34s %-22s %-9s %-11s %s\n' mutant target result case time
killed=0 survived=0 broken=0 skipped=0 case_bad=0 vmc_bad=0
# The test physmem.c's constructor makes (physmem_probe_wide_copy).
host_has_avx() {
  [[ $(uname -m) == x86_64 ]] &&
    grep -q -E '^vendor_id[[:space:]]*: (GenuineIntel|AuthenticAMD)$' /proc/cpuinfo &&
    grep -q -E '^flags[[:space:]]*:.* avx( |$)' /proc/cpuinfo
}
vmc_rows=()
for p in "${patches[@]}"; do
  name=$(basename "$p" .patch)
  target=$(sed -n 's/^# target: *//p' "$p" | head -1)
  # "# budget: K" (an integer) gives a mutant whose bug needs a rare
  # combination K times SECONDS: measured kill times, not a guess (header).
  budget=$(sed -n 's/^# budget: *\([0-9][0-9]*\).*/\1/p' "$p" | head -1)
  msecs=$((secs * ${budget:-1}))
  # "# host: avx": the patched code runs only on an Intel or AMD host with
  # AVX (physmem.c's 16-byte bulk copies); elsewhere it is dead code that no
  # fuzzer can reach, so the mutant is skipped, not counted as a survivor.
  if grep -q '^# host: avx' "$p" && ! host_has_avx; then
    printf '%-34s %-22s %-9s %-11s %s\n' "$name" "$target" skipped - "this host has no AVX: the path never runs"
    skipped=$((skipped + 1)); continue
  fi
  log=$work/$name
  mkdir -p "$log"
  git -C "$src" checkout -q -- . # back to the committed tree
  # After applying, the reverse must apply: proof the bug is really planted.
  if ! { git -C "$src" apply "$root/$p" && git -C "$src" apply --check -R "$root/$p"; } \
       2>"$log/apply.log"; then
    printf '%-34s %-22s %-9s %-11s %s\n' "$name" "$target" BROKEN - "patch does not apply"
    broken=$((broken + 1)); continue
  fi
  if ! ninja -C "$b" "$target" >"$log/build.log" 2>&1; then
    printf '%-34s %-22s %-9s %-11s %s\n' "$name" "$target" BROKEN - "build failed ($log/build.log)"
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
  (cd "$log" && ASAN_OPTIONS=detect_leaks=0 "$exe" "${dict[@]}" -max_total_time="$msecs" \
     -timeout=10 -rss_limit_mb=4096 -print_final_stats=0 "$corp" >"$log/fuzz.log" 2>&1)
  rc=$?
  set -e
  t=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f s", e - s }')
  result=SURVIVED
  if ((rc != 0)) && grep -q -E 'ERROR: libFuzzer|Test unit written|SUMMARY: (Address|Undefined)' "$log/fuzz.log"; then
    result=killed
  fi

  # The committed regression case must fail on this mutant (vmmem-conform
  # rebuilt in the mutant tree: the patched file and a link).
  case_result=-
  if [[ -f $regress/mutant-$name.vmc ]] || ((vmc)); then
    extra=()
    ((vmc)) && extra=("${target}_replay")
    if ! ninja -C "$b" vmmem-conform "${extra[@]}" >"$log/build-conform.log" 2>&1; then
      case_result=BUILD-FAILED
    elif [[ -f $regress/mutant-$name.vmc ]]; then
      set +e
      ASAN_OPTIONS=detect_leaks=0 "$conform" "$regress/mutant-$name.vmc" >"$log/case.log" 2>&1
      crc=$?
      set -e
      if ((crc == 1)); then case_result=fails; else case_result="PASSES:$crc"; fi
    fi
  fi
  [[ $case_result == fails || $case_result == - ]] || case_bad=$((case_bad + 1))
  if [[ $result == killed ]]; then
    killed=$((killed + 1))
    printf '%-34s %-22s %-9s %-11s %s\n' "$name" "$target" killed "$case_result" "$t"
  else
    survived=$((survived + 1))
    printf '%-34s %-22s %-9s %-11s %s\n' "$name" "$target" SURVIVED "$case_result" "$t (log $log/fuzz.log)"
  fi

  # --vmc: the finding as a shrunk .vmc case (what ci/fuzz.sh does for a finding).
  if ((vmc)) && [[ $result == killed ]]; then
    finding=$(find "$log" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \
                -o -name 'leak-*' \) | sort | head -1)
    replay=$(find "$b" -type f -executable -name "${target}_replay" | head -1)
    lines=- on_mutant=- on_fixed=-
    if [[ -n $finding ]]; then
      # the replay traps at the mismatch, after writing the case
      (ulimit -c 0; ASAN_OPTIONS=detect_leaks=0 "$replay" --vmc "$log/finding.vmc" "$finding" \
         >"$log/emit.log" 2>&1) 2>/dev/null || true
    fi
    if [[ -f $log/finding.vmc ]] &&
       python3 "$root/ci/vmc-shrink.py" --conform "$conform" "$log/finding.vmc" \
         -o "$log/mutant-$name.vmc" >"$log/shrink.log" 2>&1; then
      lines=$(grep -c -v -E '^[[:space:]]*(#|$)' "$log/mutant-$name.vmc" || true)
      set +e
      ASAN_OPTIONS=detect_leaks=0 "$conform" "$log/mutant-$name.vmc" >"$log/vmc-mutant.log" 2>&1
      mrc=$?
      ASAN_OPTIONS=detect_leaks=0 "$work/vmmem-conform.fixed" "$log/mutant-$name.vmc" >"$log/vmc-fixed.log" 2>&1
      frc=$?
      set -e
      if ((mrc == 1)); then on_mutant=yes; else on_mutant="NO:$mrc"; fi
      if ((frc == 0)); then on_fixed=yes; else on_fixed="NO:$frc"; fi
      if [[ $on_mutant == yes && $on_fixed == yes ]]; then
        if ((save)); then
          { echo "# Regression case for the planted bug ci/mutants/$name.patch:"
            sed -n '1s/^# */#   /p' "$root/$p"
            echo "# It fails with that patch applied (ci/mutants.sh checks it) and passes on"
            echo "# the real tree (ctest conform_cases). Made by ci/mutants.sh --vmc --save."
            cat "$log/mutant-$name.vmc"; } >"$regress/mutant-$name.vmc"
        fi
      else
        vmc_bad=$((vmc_bad + 1))
      fi
    else
      vmc_bad=$((vmc_bad + 1))
      lines="none: see $log/emit.log, $log/shrink.log"
    fi
    vmc_rows+=("$(printf '%-34s %6s  %-16s %s' "$name" "$lines" "$on_mutant" "$on_fixed")")
  fi
done
git -C "$src" checkout -q -- .
echo "mutants: $killed killed, $survived survived, $broken broken$( ((skipped)) && echo ", $skipped skipped (no AVX)"); $case_bad committed case(s) not failing on their mutant"
if ((vmc)); then
  echo
  printf '%-34s %6s  %-16s %s\n' mutant lines fails-on-mutant passes-on-fixed
  for r in "${vmc_rows[@]}"; do echo "$r"; done
  echo "cases: $work/<mutant>/mutant-<mutant>.vmc$( ((save)) && echo ", copied to conformance/cases/regress/")"
fi
((survived == 0 && broken == 0 && case_bad == 0 && vmc_bad == 0))
