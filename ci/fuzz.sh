#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS] [--merge] [--afl] [--sanitizer S] [--html] - vmmem's fuzzing job.
#
# On a fresh Debian 12 machine (as root) it installs what it needs, builds
# every fuzz/fuzz_*.c as a libFuzzer binary with ASan+UBSan (or the
# sanitizer chosen with --sanitizer), fuzzes each for
# SECONDS (default 60), two at a time (the CI machines have 2 cores), each on
# a scratch copy of corpus/<t>/ with its dictionary, and prints one row per
# target:
#
#   target            runs     exec/s   cov   ft    corpus        findings
#
# runs/exec/s come from libFuzzer's -print_final_stats=1, cov (edges) and ft
# (features) from its last status line, corpus is the file count of the
# scratch corpus before -> after. Any crash, leak, timeout, OOM or oracle
# mismatch is a finding: the reproducer is kept under out/fuzz/findings/<t>/,
# the exact commands to replay it are printed, and the exit status is 1.
# An oracle mismatch is also turned into a minimal, readable .vmc case next
# to the reproducer: <t>_replay --vmc writes the input's scenario as .vmc
# lines (<reproducer>.vmc), ci/vmc-shrink.py removes every line the failure
# does not need (<reproducer>.min.vmc), and the vmmem-conform command that
# replays it is printed with the others. Once the bug is fixed, the case
# belongs in conformance/cases/regress/ (ctest runs it).
# Exit 0 iff every target built, ran, and found nothing.
#
#   --merge  fold inputs with new coverage back into corpus/<t>/: the seeds
#            stay, the cov-<sha1> files are recomputed as the minimal set
#            (libFuzzer -merge=1) adding coverage over the seeds
#   --afl    run the AFL++ job instead (ci/fuzz-afl.sh SECONDS [--html])
#   --sanitizer address|undefined|memory
#            address: ASan+UBSan (default); undefined: UBSan alone, as
#            OSS-Fuzz builds it; memory: MemorySanitizer (clang 14; vmmem
#            has no third-party code, so everything is instrumented).
#            Build tree build/ci-fuzz (address) or build/ci-fuzz-<S>.
#   --html   after the campaign, a coverage report of it: every target's
#            final corpus replayed by a coverage build, llvm-cov HTML in
#            out/fuzz/html/index.html (ci/campaign-coverage.sh)
#
# While the targets run, one line per running target shows elapsed/budget,
# exec/s, coverage (cov, ft), corpus size and findings so far: redrawn in
# place on a terminal, printed every VMMEM_PROGRESS_SECONDS (5) otherwise
# (ci/progress.sh; VMMEM_PROGRESS=tty|lines|off).
#
# Environment: VMMEM_FUZZ_JOBS (parallel targets, default min(2, nproc)),
# VMMEM_FUZZ_TARGETS (space-separated subset, default all).
# Build tree: build/ci-fuzz; outputs: out/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

usage="usage: ci/fuzz.sh [SECONDS] [--merge] [--afl] [--sanitizer address|undefined|memory] [--html]"
secs=60 merge=0 afl=0 html=0 sanitizer=address
while (($#)); do
  case $1 in
    --merge) merge=1 ;;
    --afl) afl=1 ;;
    --html) html=1 ;;
    --sanitizer) sanitizer=${2:-}; shift ;;
    --sanitizer=*) sanitizer=${1#--sanitizer=} ;;
    ''|*[!0-9]*) echo "$usage" >&2; exit 2 ;;
    *) secs=$1 ;;
  esac
  shift
done
case $sanitizer in
  address) san_flags=address,undefined ;;
  undefined) san_flags=undefined ;;
  memory) san_flags=memory ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
if ((afl)); then
  [[ $sanitizer == address ]] || { echo "ci/fuzz.sh: --afl builds with ASan+UBSan only" >&2; exit 2; }
  if ((html)); then exec bash ci/fuzz-afl.sh "$secs" --html; fi
  exec bash ci/fuzz-afl.sh "$secs"
fi
# shellcheck source=ci/progress.sh
source ci/progress.sh

# ---- dependencies --------------------------------------------------------
# libcmocka-dev is not needed by the fuzz build itself (tests are off there)
# but by ctest's corpus replay in the same checkout: install it alongside.
need_pkgs=(clang libclang-rt-14-dev cmake ninja-build libcmocka-dev pkg-config)
have_all() {
  command -v clang >/dev/null && command -v cmake >/dev/null && command -v ninja >/dev/null &&
    command -v pkg-config >/dev/null && pkg-config --exists cmocka &&
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
      clang -x c -fsanitize=fuzzer,"$san_flags" - -o /tmp/vmmem-fuzz-probe.$$ 2>/dev/null
}
if ! have_all; then
  if [[ $(id -u) -ne 0 ]]; then
    missing=()
    for p in "${need_pkgs[@]}"; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    echo "ci/fuzz.sh: cannot build libFuzzer targets; missing: ${missing[*]:-a working clang -fsanitize=fuzzer}" >&2
    echo "  run as root, or: apt-get install -y ${need_pkgs[*]}" >&2
    exit 2
  fi
  echo "ci/fuzz.sh: installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need_pkgs[@]}" >/dev/null
  have_all || { echo "ci/fuzz.sh: clang -fsanitize=fuzzer still does not link" >&2; exit 2; }
fi
rm -f /tmp/vmmem-fuzz-probe.$$

# ---- build ------------------------------------------------------------------
build=$root/build/ci-fuzz
[[ $sanitizer == address ]] || build=$root/build/ci-fuzz-$sanitizer
out=$root/out/fuzz
mkdir -p "$out"
targets=()
if [[ -n ${VMMEM_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$VMMEM_FUZZ_TARGETS"
else
  for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
((${#targets[@]})) || { echo "ci/fuzz.sh: no fuzz/fuzz_*.c targets" >&2; exit 2; }

echo "==== building ${#targets[@]} libFuzzer targets (-fsanitize=$san_flags) in $build"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DVMMEM_SANITIZE="$sanitizer" -DVMMEM_BUILD_FUZZ=ON -DVMMEM_BUILD_TESTS=OFF >"$out/cmake.log" 2>&1 ||
  { cat "$out/cmake.log"; exit 2; }
jobs=${VMMEM_FUZZ_JOBS:-$(($(nproc) < 2 ? 1 : 2))}
declare -A status
# vmmem-conform replays the .vmc cases findings are shrunk to
ninja -C "$build" -j"$jobs" vmmem-conform >"$out/build-vmmem-conform.log" 2>&1 ||
  echo "ci/fuzz.sh: vmmem-conform does not build ($out/build-vmmem-conform.log): findings stay binary" >&2
conform=$(find "$build" -type f -executable -name vmmem-conform 2>/dev/null | head -1)
for t in "${targets[@]}"; do
  if ninja -C "$build" -j"$jobs" "$t" "${t}_replay" >"$out/build-$t.log" 2>&1; then
    status[$t]=built
  else
    status[$t]=build-failed
    echo "ci/fuzz.sh: $t does not build: see $out/build-$t.log" >&2
    tail -20 "$out/build-$t.log" >&2
  fi
done

# ---- fuzz -------------------------------------------------------------------
opt() { # opt TARGET KEY: a value from fuzz/TARGET.options ([libfuzzer] section)
  if [[ -f fuzz/$1.options ]]; then
    sed -n "s/^[[:space:]]*$2[[:space:]]*=[[:space:]]*//p" "fuzz/$1.options" | head -1
  fi
}

fuzz_one() {
  local t=$1
  local dir=$out/$t exe=$build/fuzz/$t
  rm -rf "$dir" "$out/findings/$t"
  mkdir -p "$dir/corpus" "$out/findings/$t"
  if [[ -d corpus/$t ]]; then cp -r "corpus/$t/." "$dir/corpus/"; fi
  find "$dir/corpus" -type f | wc -l >"$dir/before"
  date +%s >"$dir/start"
  local args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$out/findings/$t/")
  local d; d=$(opt "$t" dict)
  [[ -n $d && -f fuzz/$d ]] && args+=(-dict="$root/fuzz/$d")
  local m; m=$(opt "$t" max_len)
  [[ -n $m ]] && args+=(-max_len="$m")
  echo "$exe ${args[*]} $dir/corpus" >"$dir/command"
  set +e
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    MSAN_OPTIONS=${MSAN_OPTIONS:-halt_on_error=1} \
    "$exe" "${args[@]}" "$dir/corpus" >"$dir/fuzz.log" 2>&1
  echo $? >"$dir/rc"
  set -e
  find "$dir/corpus" -type f | wc -l >"$dir/after"
}

# One progress line of target t, from what is live: libFuzzer's last status
# line (#execs, cov, ft, exec/s as of that event), the corpus directory
# libFuzzer adds to, and the findings directory.
render_libfuzzer() {
  local t=$1 dir=$out/$1
  local start; start=$(cat "$dir/start" 2>/dev/null || date +%s)
  local last eps cov ft
  if [[ -f $dir/rc ]]; then # finished: the final statistics (after a long dictionary)
    last=$(grep -a -E '^#[0-9]+' "$dir/fuzz.log" 2>/dev/null | tail -1 || true)
    eps=$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$dir/fuzz.log" 2>/dev/null | tail -1)
  else
    last=$(tail -n 40 "$dir/fuzz.log" 2>/dev/null | grep -a -E '^#[0-9]+' | tail -1 || true)
    # ending: libFuzzer is printing its recommended dictionary
    [[ -n $last ]] || last=$(grep -a -E '^#[0-9]+' "$dir/fuzz.log" 2>/dev/null | tail -1 || true)
    eps=$(sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
  fi
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  local now; now=$(find "$dir/corpus" -type f 2>/dev/null | wc -l)
  local found; found=$(find "$out/findings/$t" -type f ! -name '*.vmc' ! -name '*.vmc.log' 2>/dev/null | wc -l)
  printf '%-20s %s  %7s exec/s  cov %5s  ft %6s  corpus %5s -> %-6s findings %s' "$t" \
    "$(progress_time $(($(date +%s) - start)) "$secs")" "$(progress_rate "${eps:--}")" \
    "${cov:--}" "${ft:--}" "$(cat "$dir/before" 2>/dev/null || echo -)" "$now" "$found"
}

runnable=()
for t in "${targets[@]}"; do [[ ${status[$t]} == built ]] && runnable+=("$t"); done
echo "==== fuzzing ${#runnable[@]} targets for ${secs}s each, $jobs at a time (-fsanitize=$san_flags)"
i=0
while ((i < ${#runnable[@]})); do
  pids=() batch=()
  for ((k = 0; k < jobs && i < ${#runnable[@]}; k++, i++)); do
    fuzz_one "${runnable[$i]}" &
    pids+=($!)
    batch+=("${runnable[$i]}")
  done
  progress_watch render_libfuzzer "${pids[@]}" -- "${batch[@]}"
  for p in "${pids[@]}"; do wait "$p" || true; done
done

# ---- report -------------------------------------------------------------------
fstat() { sed -n "s/^stat::$2:[[:space:]]*//p" "$1" 2>/dev/null | tail -1 || true; }
failed=0
printf '\n%-20s %10s %9s %6s %7s %13s  %s   (-fsanitize=%s)\n' target runs exec/s cov ft corpus findings "$san_flags"
for t in "${targets[@]}"; do
  if [[ ${status[$t]} != built ]]; then
    printf '%-20s %10s %9s %6s %7s %13s  %s\n' "$t" - - - - - "BUILD FAILED ($out/build-$t.log)"
    failed=1
    continue
  fi
  dir=$out/$t log=$dir/fuzz.log
  if [[ ! -f $dir/rc ]]; then
    printf '%-20s %10s %9s %6s %7s %13s  %s\n' "$t" - - - - - "DID NOT RUN (see ${dir#$root/})"
    failed=1
    continue
  fi
  runs=$(fstat "$log" number_of_executed_units) eps=$(fstat "$log" average_exec_per_sec)
  last=$(grep -E '(DONE|pulse|NEW|REDUCE|INITED).*cov: ' "$log" 2>/dev/null | tail -1 || true)
  cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  rc=$(cat "$dir/rc")
  mapfile -t found < <(find "$out/findings/$t" -type f ! -name '*.vmc' ! -name '*.vmc.log' | sort)
  note=none
  if ((${#found[@]})); then
    note="${#found[@]}: ${found[*]#$root/}"
    failed=1
  elif ((rc != 0)); then
    note="libFuzzer exit $rc, no reproducer (see ${log#$root/})"
    failed=1
  fi
  printf '%-20s %10s %9s %6s %7s %13s  %s\n' "$t" "${runs:--}" "${eps:--}" "${cov:--}" "${ft:--}" \
    "$(cat "$dir/before") -> $(cat "$dir/after")" "$note"
done

# A finding as a minimal .vmc case: the scenario, then delta debugging.
# Only an oracle mismatch has one (a sanitizer crash stops the replay before
# the scenario is complete: its reproducer and trace are the report).
shrink_finding() { # shrink_finding TARGET REPRODUCER: prints what it made
  local t=$1 f=$2
  [[ -n $conform ]] || { echo "    .vmc: no vmmem-conform in $build"; return; }
  rm -f "$f.vmc" "$f.min.vmc"
  (ulimit -c 0; ASAN_OPTIONS=detect_leaks=0 MSAN_OPTIONS=halt_on_error=1 \
     "$build/fuzz/${t}_replay" --vmc "$f.vmc" "$f" >"$f.vmc.log" 2>&1) 2>/dev/null || true
  if [[ ! -s $f.vmc ]]; then
    echo "    .vmc: none (not an oracle mismatch: see the trace)"
    rm -f "$f.vmc" "$f.vmc.log"
    return
  fi
  if python3 ci/vmc-shrink.py -q --conform "$conform" "$f.vmc" -o "$f.min.vmc" >>"$f.vmc.log" 2>&1; then
    local n; n=$(grep -c -v -E '^[[:space:]]*(#|$)' "$f.min.vmc" || true)
    echo "    replay (.vmc, $n lines): ${conform#$root/} ${f#$root/}.min.vmc"
    echo "    scenario (all lines):    ${f#$root/}.vmc"
  else
    echo "    .vmc: ${f#$root/}.vmc does not fail under vmmem-conform; see ${f#$root/}.vmc.log"
  fi
}

for t in "${runnable[@]}"; do
  mapfile -t found < <(find "$out/findings/$t" -type f ! -name '*.vmc' ! -name '*.vmc.log' | sort)
  ((${#found[@]})) || continue
  echo
  echo "---- $t: findings (log: out/fuzz/$t/fuzz.log)"
  grep -m3 -E 'MISMATCH|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|WARNING: MemorySanitizer|runtime error' \
    "$out/$t/fuzz.log" | sed 's/^/  /' || true
  for f in "${found[@]}"; do
    echo "  reproducer: ${f#$root/}"
    echo "    replay (decoded trace): ${build#$root/}/fuzz/${t}_replay ${f#$root/}"
    echo "    replay (libFuzzer):     ${build#$root/}/fuzz/$t ${f#$root/}"
    shrink_finding "$t" "$f"
  done
done

if ((merge)); then
  # The committed corpus is the hand-written seeds (every file not named
  # cov-*) plus the fewest cov-* inputs that add coverage over them. Each
  # merge recomputes that set from scratch: libFuzzer -merge=1 into a
  # directory holding only the seeds, from the campaign's final corpus (which
  # started as a copy of corpus/<t>/, so earlier cov-* files compete again
  # and drop out when newer inputs subsume them). Merged files are named by
  # the SHA-1 of their content, so the same input always gets the same name.
  echo
  echo "==== merging new coverage into corpus/<target>/"
  for t in "${runnable[@]}"; do
    tmp=$(mktemp -d)
    mkdir -p "corpus/$t"
    find "corpus/$t" -maxdepth 1 -type f ! -name 'cov-*' ! -name '.*' -exec cp {} "$tmp/" \;
    before=$(find "corpus/$t" -maxdepth 1 -type f ! -name '.*' | wc -l)
    if ! "$build/fuzz/$t" -merge=1 -timeout=10 -rss_limit_mb=2048 "$tmp" "$out/$t/corpus" \
      >"$out/$t/merge.log" 2>&1; then
      echo "  $t: merge reported an error (see out/fuzz/$t/merge.log); corpus/$t/ left as it was"
      rm -rf "$tmp"
      failed=1
      continue
    fi
    find "corpus/$t" -maxdepth 1 -type f -name 'cov-*' -delete
    for f in "$tmp"/*; do
      n=$(basename "$f")
      [[ -e corpus/$t/$n ]] && continue
      cp "$f" "corpus/$t/cov-${n#cov-}"
    done
    after=$(find "corpus/$t" -maxdepth 1 -type f ! -name '.*' | wc -l)
    echo "  $t: $before -> $after files ($(grep -o 'MERGE-OUTER: [0-9]* new files.*' "$out/$t/merge.log" | tail -1))"
    rm -rf "$tmp"
  done
fi

if ((html)); then
  echo
  echo "==== coverage report of the campaign (final corpora)"
  corpora=()
  for t in "${runnable[@]}"; do corpora+=("$t=$out/$t/corpus"); done
  bash ci/campaign-coverage.sh "$out/html" "${corpora[@]}" || failed=1
fi

if ((failed)); then
  echo
  echo "ci/fuzz.sh: FAILED (findings above)"
  exit 1
fi
echo
echo "ci/fuzz.sh: no findings"
