#!/usr/bin/env bash
# ci/oss-fuzz/check-build.sh [SECONDS] - prove the OSS-Fuzz / ClusterFuzzLite
# build contract of ci/build.sh here, without Docker: for every engine and
# sanitizer that ci/oss-fuzz/project.yaml and the ClusterFuzzLite workflows
# list, run ci/build.sh with the environment the service's `compile` step
# gives it, check what lands in $OUT, and run every target it built for
# SECONDS (default 5) the way the service does:
#
#   engine     sanitizer  CC               LIB_FUZZING_ENGINE            run
#   libfuzzer  address    clang            -fsanitize=fuzzer             fuzz SECONDS on the seed corpus
#   libfuzzer  undefined  clang            -fsanitize=fuzzer             fuzz SECONDS on the seed corpus
#   libfuzzer  memory     clang            -fsanitize=fuzzer             fuzz SECONDS on the seed corpus
#   libfuzzer  coverage   clang            -fsanitize=fuzzer             replay seeds, llvm-cov report
#   afl        address    afl-clang-fast   /usr/lib/afl/libAFLDriver.a   afl-fuzz -V SECONDS
#
# CFLAGS are base-clang's defaults plus SANITIZER_FLAGS_<s> and
# COVERAGE_FLAGS(_coverage) exactly as the OSS-Fuzz base-builder image
# defines them (AFL++ builds get no coverage flags: afl-clang-fast
# instruments). honggfuzz is not packaged for Debian 12, so it is neither
# listed nor proven. What cannot be proven here: the service's own clang
# (newer than Debian's 14) and its Docker images.
#
# Outputs: out/oss-fuzz/<engine>-<sanitizer>/ ($OUT), logs next to them.
# Exit 0 iff every combination built every fuzz/fuzz_*.c and every target ran
# without a finding.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
secs=${1:-5}
[[ $secs =~ ^[0-9]+$ ]] || { echo "usage: ci/oss-fuzz/check-build.sh [SECONDS]" >&2; exit 2; }
bash ci/deps.sh afl++ zip unzip

base_cflags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
declare -A san_flags=(
  [address]="-fsanitize=address -fsanitize-address-use-after-scope"
  [undefined]="-fsanitize=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unsigned-integer-overflow,unreachable,vla-bound,vptr -fno-sanitize-recover=array-bounds,bool,builtin,enum,float-divide-by-zero,function,integer-divide-by-zero,null,object-size,return,returns-nonnull-attribute,shift,signed-integer-overflow,unreachable,vla-bound,vptr"
  [memory]="-fsanitize=memory -fsanitize-memory-track-origins"
  [coverage]=""
)
coverage_flags_libfuzzer="-fsanitize=fuzzer-no-link"
coverage_flags_coverage="-fprofile-instr-generate -fcoverage-mapping -pthread -Wl,--no-as-needed -Wl,-ldl -Wl,-lm -Wno-unused-command-line-argument"

targets=()
for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
outroot=$root/out/oss-fuzz
rm -rf "$outroot" && mkdir -p "$outroot"
failed=0
rows=()

# run_target ENGINE SANITIZER OUT TARGET: run one built target; prints a row
run_target() {
  local engine=$1 san=$2 out=$3 t=$4
  local work=$outroot/run-$engine-$san-$t
  rm -rf "$work" && mkdir -p "$work/seeds"
  if [[ -f $out/${t}_seed_corpus.zip ]]; then
    unzip -q -o "$out/${t}_seed_corpus.zip" -d "$work/seeds"
  else
    printf '\0\0\0\0\0\0\0\0' >"$work/seeds/empty"
  fi
  local log=$work/run.log dict=()
  case $engine-$san in
    libfuzzer-coverage)
      if LLVM_PROFILE_FILE=$work/%p.profraw "$out/$t" -runs=0 "$work/seeds" >"$log" 2>&1 &&
         llvm-profdata merge -sparse "$work"/*.profraw -o "$work/cov.profdata" >>"$log" 2>&1 &&
         llvm-cov report "$out/$t" -instr-profile="$work/cov.profdata" >"$work/report.txt" 2>>"$log"; then
        echo "ok   $(awk '/^TOTAL/ {print "lines " $10 " branches " $13}' "$work/report.txt") of what $t links"
      else
        echo "FAIL coverage replay/report (see ${log#"$root"/})"
        return 1
      fi ;;
    libfuzzer-*)
      [[ -f $out/$t.dict ]] && dict=(-dict="$out/$t.dict")
      if ASAN_OPTIONS=detect_leaks=1 MSAN_OPTIONS=halt_on_error=1 \
         UBSAN_OPTIONS=silence_unsigned_overflow=1:print_stacktrace=1:halt_on_error=1 \
         "$out/$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 "${dict[@]}" \
           -artifact_prefix="$work/" "$work/seeds" >"$log" 2>&1; then
        echo "ok   $(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log") runs"
      else
        echo "FAIL libFuzzer exit (see ${log#"$root"/})"
        return 1
      fi ;;
    afl-*)
      [[ -f $out/$t.dict ]] && dict=(-x "$out/$t.dict")
      AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
        ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 \
        afl-fuzz -i "$work/seeds" -o "$work/afl" -V "$secs" -m none -t 1000 "${dict[@]}" \
          -- "$out/$t" >"$log" 2>&1 || true
      local st=$work/afl/default/fuzzer_stats
      local execs crashes
      execs=$(sed -n 's/^execs_done[[:space:]]*: *//p' "$st" 2>/dev/null)
      crashes=$(sed -n 's/^saved_crashes[[:space:]]*: *//p' "$st" 2>/dev/null)
      if [[ -n $execs ]] && ((execs > 0)) && [[ ${crashes:-0} == 0 ]]; then
        echo "ok   $execs execs"
      else
        echo "FAIL afl-fuzz (execs ${execs:-none}, crashes ${crashes:-?}; see ${log#"$root"/})"
        return 1
      fi ;;
  esac
}

for combo in libfuzzer:address libfuzzer:undefined libfuzzer:memory libfuzzer:coverage afl:address; do
  engine=${combo%%:*} san=${combo#*:}
  out=$outroot/$engine-$san
  log=$outroot/build-$engine-$san.log
  if [[ $engine == afl ]]; then
    cc=afl-clang-fast cxx=afl-clang-fast++ lib=/usr/lib/afl/libAFLDriver.a cov=""
  else
    cc=clang cxx=clang++ lib=-fsanitize=fuzzer cov=$coverage_flags_libfuzzer
    [[ $san == coverage ]] && cov=$coverage_flags_coverage
  fi
  cflags="$base_cflags ${san_flags[$san]} $cov"
  echo "==== $engine / $san: ci/build.sh"
  mkdir -p "$out" "$outroot/work-$engine-$san"
  if ! env CC="$cc" CXX="$cxx" CFLAGS="$cflags" CXXFLAGS="$cflags" LIB_FUZZING_ENGINE="$lib" \
       SANITIZER="$san" FUZZING_ENGINE="$engine" FUZZING_LANGUAGE=c ARCHITECTURE=x86_64 \
       SRC="$root" OUT="$out" WORK="$outroot/work-$engine-$san" AFL_QUIET=1 \
       bash ci/build.sh >"$log" 2>&1; then
    rows+=("$(printf '%-10s %-10s %-20s %s' "$engine" "$san" '(build)' "FAIL: see ${log#"$root"/}")")
    tail -15 "$log"
    failed=1
    continue
  fi
  for t in "${targets[@]}"; do
    if [[ ! -x $out/$t ]]; then
      rows+=("$(printf '%-10s %-10s %-20s %s' "$engine" "$san" "$t" "FAIL: not built")")
      failed=1
      continue
    fi
    missing=""
    [[ -n $(ls -A "corpus/$t" 2>/dev/null) && ! -f $out/${t}_seed_corpus.zip ]] && missing+=" seed zip"
    [[ -f fuzz/$t.dict && ! -f $out/$t.dict ]] && missing+=" dict"
    [[ -f fuzz/$t.options && ! -f $out/$t.options ]] && missing+=" options"
    if [[ -n $missing ]]; then
      rows+=("$(printf '%-10s %-10s %-20s %s' "$engine" "$san" "$t" "FAIL: \$OUT lacks$missing")")
      failed=1
      continue
    fi
    # the binary carries the runtime the combination promises
    want=()
    case $san in
      address) want+=(__asan_init) ;;
      undefined) want+=(__ubsan_handle_) ;;
      memory) want+=(__msan_init) ;;
      coverage) want+=(__llvm_profile_) ;;
    esac
    if [[ $engine == afl ]]; then want+=(__afl_area_ptr); else want+=(LLVMFuzzerRunDriver); fi
    syms=$(nm "$out/$t" 2>/dev/null || true)
    lacks=""
    for w in "${want[@]}"; do grep -q "$w" <<<"$syms" || lacks+=" $w"; done
    # UBSan alone, as the service builds it: no ASan or MSan runtime
    if [[ $san == undefined ]] && grep -q -E '__asan_init|__msan_init' <<<"$syms"; then
      lacks+=" (has ASan/MSan: not UBSan alone)"
    fi
    if [[ -n $lacks ]]; then
      rows+=("$(printf '%-10s %-10s %-20s %s' "$engine" "$san" "$t" "FAIL: binary lacks$lacks")")
      failed=1
      continue
    fi
    if r=$(run_target "$engine" "$san" "$out" "$t"); then :; else failed=1; fi
    rows+=("$(printf '%-10s %-10s %-20s %s' "$engine" "$san" "$t" "$r")")
    echo "  $t: $r"
  done
done

echo
printf '%-10s %-10s %-20s %s\n' engine sanitizer target result
printf '%s\n' "${rows[@]}"
if ((failed)); then
  echo "ci/oss-fuzz/check-build.sh: FAILED"
  exit 1
fi
echo "ci/oss-fuzz/check-build.sh: every engine x sanitizer built and ran every target"
