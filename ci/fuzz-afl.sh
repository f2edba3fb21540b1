#!/usr/bin/env bash
# ci/fuzz-afl.sh [SECONDS] [--html] - the fuzzing job with AFL++ instead of libFuzzer.
#
# Builds every fuzz/fuzz_*.c with CC=afl-clang-fast (AFL_CC=afl-clang-lto to
# try LTO mode) and -DVMMEM_BUILD_FUZZ=ON: -fsanitize=fuzzer under afl-cc
# links AFL++'s libFuzzer driver, so the unchanged harness becomes a
# persistent-mode, shared-memory AFL target (STYLE.md). ASan+UBSan are on.
# Then, target after target, one -M and one -S afl-fuzz instance (2 cores)
# run for SECONDS (default 60) each on corpus/<t>/ with fuzz/<t>.dict, and a
# row per target is printed from their fuzzer_stats:
#
#   target            execs     exec/s  corpus  stability  crashes  hangs
#
# While a target runs, one line shows elapsed/budget, exec/s and edges found
# (both instances, live from AFL++'s StatsD feed: ci/afl-live-stats.py),
# queue size and crashes/hangs so far: redrawn in place on a terminal,
# printed every VMMEM_PROGRESS_SECONDS (5) otherwise (ci/progress.sh).
# --html: afterwards a coverage report of the campaign, the final queues of
# every target replayed by a coverage build (ci/campaign-coverage.sh), in
# out/afl/html/index.html.
#
# Crashes and hangs are copied to out/afl/findings/<t>/ with the command to
# replay them; the exit status is 1 if there is any crash, or if a target
# did not build or run. Hangs are reported but do not fail the job (a
# sanitizer build under a 1 s AFL timeout on a loaded machine is noisy).
# Build tree: build/ci-afl; outputs: out/afl/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=60 html=0
for a in "$@"; do
  case $a in
    --html) html=1 ;;
    ''|*[!0-9]*) echo "usage: ci/fuzz-afl.sh [SECONDS] [--html]" >&2; exit 2 ;;
    *) secs=$a ;;
  esac
done
# shellcheck source=ci/progress.sh
source ci/progress.sh
afl_cc=${AFL_CC:-afl-clang-fast}

need_pkgs=(afl++ clang libclang-rt-14-dev cmake ninja-build pkg-config)
if ! command -v afl-fuzz >/dev/null || ! command -v "$afl_cc" >/dev/null || ! command -v cmake >/dev/null ||
   ! command -v ninja >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ci/fuzz-afl.sh: need afl-fuzz, $afl_cc, cmake, ninja; run as root or: apt-get install -y ${need_pkgs[*]}" >&2
    exit 2
  fi
  echo "ci/fuzz-afl.sh: installing ${need_pkgs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

build=$root/build/ci-afl
out=$root/out/afl
rm -rf "$out" && mkdir -p "$out/findings"
targets=()
for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
if [[ -n ${VMMEM_FUZZ_TARGETS:-} ]]; then read -r -a targets <<<"$VMMEM_FUZZ_TARGETS"; fi

echo "==== building ${#targets[@]} AFL++ targets with $afl_cc (ASan+UBSan) in $build"
CC=$afl_cc cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVMMEM_SANITIZE=address -DVMMEM_BUILD_FUZZ=ON -DVMMEM_BUILD_TESTS=OFF >"$out/cmake.log" 2>&1 ||
  { cat "$out/cmake.log"; exit 2; }
declare -A status
for t in "${targets[@]}"; do
  if ninja -C "$build" -j2 "$t" "${t}_replay" >"$out/build-$t.log" 2>&1; then
    status[$t]=built
  else
    status[$t]=build-failed
    tail -20 "$out/build-$t.log" >&2
  fi
done

export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_ALLOW_TMP=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# a crashing corpus input is caught by the replay below; let afl-fuzz go on
export AFL_SKIP_CRASHES=1
export AFL_NO_AFFINITY=${AFL_NO_AFFINITY:-1} # other jobs share the cores
# afl-fuzz needs sanitizers to abort (not exit) on a finding
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0

# Live statistics: afl-fuzz sends StatsD gauges to a listener on loopback.
live=$out/live
live_pid=
if command -v python3 >/dev/null; then
  python3 ci/afl-live-stats.py "$live" &
  live_pid=$!
  for _ in $(seq 50); do [[ -f $live/port ]] && break; sleep 0.1; done
fi
if [[ -f $live/port ]]; then
  export AFL_STATSD=1 AFL_STATSD_HOST=127.0.0.1 AFL_STATSD_PORT
  export AFL_STATSD_TAGS_FLAVOR=dogstatsd
  AFL_STATSD_PORT=$(cat "$live/port")
else
  echo "ci/fuzz-afl.sh: no live statistics (python3 listener did not start); progress shows files only" >&2
fi
stop_live() {
  if [[ -n $live_pid ]]; then
    touch "$live/stop"
    wait "$live_pid" 2>/dev/null || true
    live_pid=
  fi
}
trap stop_live EXIT

# stat FILE NAME: one value of an afl-live-stats file (empty if none yet)
live_stat() { sed -n "s/^$2 //p" "$1" 2>/dev/null | head -1; }

# One progress line for target t: both instances' live gauges, the queue
# and crash/hang directories as they are now.
render_afl() {
  local t=$1 dir=$out/$1
  local start; start=$(cat "$dir/start" 2>/dev/null || date +%s)
  local eps=0 edges=0 inst e
  for inst in main sec; do
    e=$(live_stat "$live/$t-$inst.stats" execs_per_sec)
    [[ -n $e ]] && eps=$(awk -v a="$eps" -v b="$e" 'BEGIN { printf "%.0f", a + b }')
    e=$(live_stat "$live/$t-$inst.stats" edges_found)
    [[ -n $e ]] && ((e > edges)) && edges=$e
  done
  local queue; queue=$(find "$dir/sync/main/queue" -maxdepth 1 -type f -name 'id:*' 2>/dev/null | wc -l)
  local crashes; crashes=$(find "$dir/sync" -path '*/crashes/id:*' -type f 2>/dev/null | wc -l)
  local hangs; hangs=$(find "$dir/sync" -path '*/hangs/id:*' -type f 2>/dev/null | wc -l)
  printf '%-20s %s  %7s exec/s  edges %5s  queue %6s  crashes %s  hangs %s' "$t" \
    "$(progress_time $(($(date +%s) - start)) "$secs")" "$(progress_rate "$eps")" \
    "$edges" "$queue" "$crashes" "$hangs"
}

for t in "${targets[@]}"; do
  [[ ${status[$t]} == built ]] || continue
  in=$out/$t/in
  mkdir -p "$in"
  if [[ -d corpus/$t ]] && [[ -n $(ls -A "corpus/$t") ]]; then
    cp corpus/"$t"/* "$in"/
  else
    printf '\0\0\0\0\0\0\0\0' >"$in/empty" # afl-fuzz refuses an empty input directory
  fi
  # the corpus is a regression suite: an input that fails is a finding even
  # before fuzzing (-M would otherwise abort on it)
  if ! "$build/fuzz/${t}_replay" "$in" >"$out/$t/replay.log" 2>&1; then
    echo "  $t: the corpus itself fails (see out/afl/$t/replay.log)"
    status[$t]=corpus-fails
  fi
  dict=()
  [[ -f fuzz/$t.dict ]] && dict=(-x "$root/fuzz/$t.dict")
  echo "==== $t: afl-fuzz -M + -S for ${secs}s"
  common=(-i "$in" -o "$out/$t/sync" -V "$secs" -m none -t 1000 "${dict[@]}")
  date +%s >"$out/$t/start"
  afl-fuzz "${common[@]}" -M main -T "$t-main" -- "$build/fuzz/$t" >"$out/$t/main.log" 2>&1 &
  m=$!
  afl-fuzz "${common[@]}" -S sec -T "$t-sec" -- "$build/fuzz/$t" >"$out/$t/sec.log" 2>&1 &
  s=$!
  progress_watch render_afl $m $s -- "$t"
  wait $m || echo "  afl-fuzz -M exited $? (see out/afl/$t/main.log)"
  wait $s || echo "  afl-fuzz -S exited $? (see out/afl/$t/sec.log)"
done

field() { sed -n "s/^$2[[:space:]]*: *//p" "$1" 2>/dev/null | head -1; }
failed=0
printf '\n%-20s %10s %9s %7s %10s %8s %6s\n' target execs exec/s corpus stability crashes hangs
for t in "${targets[@]}"; do
  if [[ ${status[$t]} == build-failed ]]; then
    printf '%-20s %s\n' "$t" "BUILD FAILED ($out/build-$t.log)"
    failed=1
    continue
  fi
  if [[ ${status[$t]} == corpus-fails ]]; then
    printf '%-20s %s\n' "$t" "CORPUS REPLAY FAILS: $(grep -a -m1 'died while running' "$out/$t/replay.log" || echo see out/afl/$t/replay.log)"
    failed=1
  fi
  execs=0 eps=0 corpus=0 stab= crashes=0 hangs=0 ran=0
  for inst in main sec; do
    st=$out/$t/sync/$inst/fuzzer_stats
    [[ -f $st ]] || continue
    ran=$((ran + 1))
    execs=$((execs + $(field "$st" execs_done)))
    eps=$(awk -v a="$eps" -v b="$(field "$st" execs_per_sec)" 'BEGIN { printf "%.0f", a + b }')
    c=$(field "$st" corpus_count)
    ((c > corpus)) && corpus=$c
    stab="$stab${stab:+/}$(field "$st" stability)"
  done
  mkdir -p "$out/findings/$t"
  for f in "$out/$t"/sync/*/crashes/id:* "$out/$t"/sync/*/hangs/id:*; do
    [[ -f $f ]] || continue
    kind=$(basename "$(dirname "$f")")
    inst=$(basename "$(dirname "$(dirname "$f")")")
    dest=$out/findings/$t/$kind-$inst-$(basename "$f" | cut -d, -f1 | tr ':' '-')
    cp "$f" "$dest"
    if [[ $kind == crashes ]]; then crashes=$((crashes + 1)); else hangs=$((hangs + 1)); fi
  done
  if ((ran == 0)); then
    printf '%-20s %s\n' "$t" "DID NOT RUN (see out/afl/$t/main.log)"
    failed=1
    continue
  fi
  ((crashes)) && failed=1
  printf '%-20s %10s %9s %7s %10s %8s %6s\n' "$t" "$execs" "$eps" "$corpus" "${stab:--}" "$crashes" "$hangs"
done

for t in "${targets[@]}"; do
  [[ -d $out/findings/$t ]] || continue
  mapfile -t found < <(find "$out/findings/$t" -type f | sort)
  ((${#found[@]})) || continue
  echo
  echo "---- $t: ${#found[@]} finding(s) in out/afl/findings/$t/ (AFL counts paths, not bugs)"
  for f in "${found[@]:0:5}"; do
    echo "  ${f#$root/}"
    echo "    replay (decoded trace): build/ci-afl/fuzz/${t}_replay ${f#$root/}"
  done
  ((${#found[@]} > 5)) && echo "  ... and $((${#found[@]} - 5)) more"
done

stop_live

if ((html)); then
  echo
  echo "==== coverage report of the campaign (final queues of both instances)"
  corpora=()
  for t in "${targets[@]}"; do
    [[ -d $out/$t/sync ]] || continue
    final=$out/$t/final-queue
    rm -rf "$final" && mkdir -p "$final"
    for inst in main sec; do
      for f in "$out/$t/sync/$inst/queue"/id:*; do
        [[ -f $f ]] && cp "$f" "$final/$inst-$(basename "$f" | cut -d, -f1 | tr ':' '-')"
      done
    done
    corpora+=("$t=$final")
  done
  bash ci/campaign-coverage.sh "$out/html" "${corpora[@]}" || failed=1
fi

if ((failed)); then
  echo "ci/fuzz-afl.sh: FAILED"
  exit 1
fi
echo "ci/fuzz-afl.sh: no crashes"
