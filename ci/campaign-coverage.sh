#!/usr/bin/env bash
# ci/campaign-coverage.sh OUTDIR TARGET=CORPUS_DIR... - what a fuzzing
# campaign reached: every target's final corpus is replayed by the
# `<target>_replay` runner of a clang source-based coverage build
# (build/ci-campaign-cov, no sanitizer), and llvm-cov writes
#
#   OUTDIR/index.html        line/branch/region coverage of every source the
#                            targets ran (core/, the reference models, fuzz/)
#   OUTDIR/summary.txt       llvm-cov report of core/ over all targets
#
# and prints one row per target (core/ lines and branches its corpus alone
# covers) and the total. Called by `ci/fuzz.sh --html` and
# `ci/fuzz-afl.sh --html`; usable on any directories of inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
(($# >= 2)) || { echo "usage: ci/campaign-coverage.sh OUTDIR TARGET=CORPUS_DIR..." >&2; exit 2; }
outdir=$1
shift
bash ci/deps.sh

b=build/ci-campaign-cov
cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DVMMEM_COVERAGE=ON -DVMMEM_BUILD_TESTS=OFF >$b.cmake.log 2>&1 || { cat $b.cmake.log; exit 2; }
names=()
for spec in "$@"; do names+=("${spec%%=*}"); done
replays=()
for t in "${names[@]}"; do replays+=("${t}_replay"); done
ninja -C $b -j2 "${replays[@]}" >$b.build.log 2>&1 || { tail -20 $b.build.log; exit 2; }

rm -rf $b/profiles && mkdir -p $b/profiles
objs=()
core_only=(-ignore-filename-regex='(conformance|fuzz|bench)/')
printf '%-20s %8s %12s %12s\n' target inputs 'core lines' 'core branches'
status=0
for spec in "$@"; do
  t=${spec%%=*} dir=${spec#*=}
  exe=$b/fuzz/${t}_replay
  objs+=(-object "$exe")
  n=$(find "$dir" -type f 2>/dev/null | wc -l)
  if ! LLVM_PROFILE_FILE=$PWD/$b/profiles/$t-%p.profraw "$exe" "$dir" >"$b/replay-$t.log" 2>&1; then
    echo "  $t: the replay of $dir failed (see $b/replay-$t.log); its coverage is partial" >&2
    status=1
  fi
  llvm-profdata merge -sparse $b/profiles/"$t"-*.profraw -o "$b/$t.profdata"
  read -r lines branches < <(llvm-cov report "$exe" -instr-profile="$b/$t.profdata" "${core_only[@]}" |
    awk '/^TOTAL/ {print $10, $13}')
  printf '%-20s %8s %12s %12s\n' "$t" "$n" "$lines" "$branches"
done

llvm-profdata merge -sparse $b/profiles/*.profraw -o $b/campaign.profdata
first=${objs[1]}
rm -rf "$outdir" && mkdir -p "$outdir"
llvm-cov report "$first" "${objs[@]}" -instr-profile=$b/campaign.profdata "${core_only[@]}" >"$outdir/summary.txt"
llvm-cov show "$first" "${objs[@]}" -instr-profile=$b/campaign.profdata -ignore-filename-regex='^/usr/' \
  -format=html -output-dir="$outdir" -show-branches=count >/dev/null
read -r lines branches < <(awk '/^TOTAL/ {print $10, $13}' "$outdir/summary.txt")
printf '%-20s %8s %12s %12s\n' "all targets" - "$lines" "$branches"
echo "campaign coverage report: $outdir/index.html (core/ summary: $outdir/summary.txt)"
exit $status
