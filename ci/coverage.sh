#!/usr/bin/env bash
# ci/coverage.sh [--check | --corpus] - line and branch coverage of core/ from
# the unit tests, the conformance cases and the regression-corpus replay
# (everything ctest runs), with clang source-based coverage.
#
# --corpus: from the corpus replay alone (the ctests replay_fuzz_<target>:
# every file of corpus/<target>/ through <target>_replay), to see what the
# regression corpus by itself exercises; report in build/coverage/html-corpus.
#
# Writes an HTML report to build/coverage/html/index.html and prints a
# one-line summary. With --check, exits non-zero below the project's bar
# (VMMEM_COV_LINES, default 95 % of lines; VMMEM_COV_BRANCHES, default 90 %
# of branches).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0 corpus=0
case ${1:-} in
  --check) check=1 ;;
  --corpus) corpus=1 ;;
  '') ;;
  *) echo "usage: ci/coverage.sh [--check | --corpus]" >&2; exit 2 ;;
esac
bash ci/deps.sh llvm

b=build/coverage
cmake -S . -B $b -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DVMMEM_COVERAGE=ON >/dev/null
ninja -C $b -j"$(nproc)" >/dev/null
rm -rf $b/profiles && mkdir -p $b/profiles
tests_ok=1 select=() html=$b/html what="ctest"
if ((corpus)); then
  select=(-R '^replay_fuzz_') html=$b/html-corpus what="the corpus replay alone"
fi
LLVM_PROFILE_FILE=$PWD/$b/profiles/%p-%m.profraw ctest --test-dir $b -j"$(nproc)" "${select[@]}" --output-on-failure >$b/ctest.log \
  || { tests_ok=0; grep -A3 -E 'Failed|FAILED' $b/ctest.log | tail -30; echo "coverage: some tests failed (report still written)"; }
llvm-profdata merge -sparse $b/profiles/*.profraw -o $b/vmmem.profdata

# Every executable ctest ran (unit tests, vmmem-conform, replay runners).
objs=()
for exe in $(find $b -type f -executable \( -name 'test_*' -o -name 'vmmem-conform' -o -name '*_replay' \)); do
  objs+=(-object "$exe")
done
first=${objs[1]}
filter=(-ignore-filename-regex='(conformance|fuzz|bench)/')
llvm-cov report "$first" "${objs[@]}" -instr-profile=$b/vmmem.profdata "${filter[@]}" >$b/report.txt
llvm-cov show "$first" "${objs[@]}" -instr-profile=$b/vmmem.profdata "${filter[@]}" \
  -format=html -output-dir=$html -show-branches=count >/dev/null
cat $b/report.txt
# TOTAL row: Regions Missed Cover Functions Missed Executed Lines Missed Cover Branches Missed Cover
read -r lines branches < <(awk '/^TOTAL/ {print $10, $13}' $b/report.txt | tr -d '%')
echo "coverage of core/ from $what: lines ${lines}%  branches ${branches}%  (report: $html/index.html)"
((tests_ok)) || exit 1
if ((check)); then
  awk -v l="$lines" -v br="$branches" -v ml="${VMMEM_COV_LINES:-95}" -v mb="${VMMEM_COV_BRANCHES:-90}" \
    'BEGIN { if (l+0 < ml || br+0 < mb) { printf "below the bar (%s%% lines, %s%% branches)\n", ml, mb; exit 1 } }'
fi
