#!/usr/bin/env bash
# ci/bench.sh - where vmmem stands against QEMU's soft-MMU, in one run.
#
#   ci/bench.sh                      build (clang -O2 -gdwarf-4), check that both guests
#                                    translate the same Sv39 layout and that Unicorn's guest
#                                    runs in S-mode, print the timing tables (ns per access,
#                                    x native twin), then each fuzz target's exec/s
#   ci/bench.sh --instructions       callgrind instructions per access for every cell,
#                                    same tables (repeatable on a noisy machine)
#   ci/bench.sh --check              --instructions, then compare with bench/baseline-instructions.txt:
#                                    exit 1 naming every cell more than 10 % above its baseline
#   ci/bench.sh --update-baseline    --instructions, then rewrite that baseline file
# Options: --quick (timings: 1/10 of the accesses, one run each), --no-fuzz,
#          --fuzz-seconds N (default 10), --reps N (timed runs per cell, best kept).
#
# On a fresh Debian 12 machine, as root, it installs what it needs (ci/deps.sh:
# clang, cmake, ninja, ... plus libunicorn-dev and valgrind).
#
# Instruction counts: each cell runs twice under `valgrind --tool=callgrind
# --collect-atstart=no`, with N and 3N accesses; the program brackets only its
# timed region with callgrind's collect toggle, so setup, warm-up and result
# checks are never counted, and (count(3N) - count(N)) / 2N cancels what each
# run does once (Unicorn re-translating its loop, starting threads). Threaded
# cells divide by the accesses of all threads (valgrind runs threads one at a
# time, so lock contention is not what they show; timings show it).
# Fuzz exec/s: ci/fuzz.sh SECONDS with one target at a time (libFuzzer,
# ASan+UBSan, the corpus), its exec/s column; timings, so noisy too.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mode=time quick=0 fuzz=1 fuzz_secs=10 reps=3
while (($#)); do
  case $1 in
    --instructions) mode=instructions ;;
    --check) mode=check ;;
    --update-baseline) mode=update ;;
    --quick) quick=1 ;;
    --no-fuzz) fuzz=0 ;;
    --fuzz-seconds) fuzz_secs=${2:?}; shift ;;
    --reps) reps=${2:?}; shift ;;
    *) sed -n '2,20p' "$0" >&2; exit 2 ;;
  esac
  shift
done

bash ci/deps.sh libunicorn-dev valgrind

build=$root/build/ci-bench
out=$root/out/bench
mkdir -p "$out"
echo "==== building bench_vs_qemu (clang -O2 -gdwarf-4) in ${build#"$root"/}" >&2
cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG" -DCMAKE_C_FLAGS=-gdwarf-4 \
  -DVMMEM_BUILD_BENCH=ON -DVMMEM_BUILD_TESTS=OFF >"$out/cmake.log" 2>&1 ||
  { cat "$out/cmake.log"; exit 2; }
ninja -C "$build" -j2 bench_vs_qemu >"$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 2; }
bin=$build/bench/bench_vs_qemu

header() {
  echo "## vmmem vs QEMU soft-MMU ($1)"
  echo
  echo "- vmmem: $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)," \
       "QEMU: Unicorn $(dpkg-query -W -f='${Version}' libunicorn-dev 2>/dev/null || echo '?')," \
       "clang $(clang -dumpversion), -O2"
  echo "- host: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
       "$(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}

# ---- timings ------------------------------------------------------------------
if [[ $mode == time ]]; then
  header "timings: noisy on a shared machine, trust the instruction counts"
  args=(--reps "$reps")
  ((quick)) && args=(--reps 1 --scale 0.1)
  status=0
  "$bin" "${args[@]}" || status=$?
  if ((fuzz)); then
    echo
    echo "### Fuzz targets (libFuzzer + ASan/UBSan, ${fuzz_secs} s each, one at a time)"
    echo
    VMMEM_FUZZ_JOBS=1 bash ci/fuzz.sh "$fuzz_secs" >"$out/fuzz.log" 2>&1 || true
    if ! awk '
      # ci/fuzz.sh columns: target runs exec/s cov ft "before -> after" findings...
      /^target[[:space:]]+runs[[:space:]]+exec\/s/ { on = 1; print "| target | exec/s | runs | edges | findings |"; print "|---|---|---|---|---|"; next }
      on && NF == 0 { on = 0 }
      on { f = ""; for (i = 9; i <= NF; i++) f = f (i > 9 ? " " : "") $i; printf "| %s | %s | %s | %s | %s |\n", $1, $3, $2, $4, f; n++ }
      END { exit n ? 0 : 1 }' "$out/fuzz.log"; then
      echo "ci/bench.sh: ci/fuzz.sh printed no table (see ${out#"$root"/}/fuzz.log)" >&2
      tail -20 "$out/fuzz.log" >&2
      status=1
    fi
  fi
  exit "$status"
fi

# ---- instruction counts ------------------------------------------------------------
counts=$out/instructions.txt
: >"$counts"
ir() { # ir CELL N OUTFILE: instructions counted in the bracketed region
  valgrind --tool=callgrind --collect-atstart=no --smc-check=all-non-file \
    --callgrind-out-file="$3.cg" "$bin" --no-verify --only "$1" --iters "$2" >"$3.log" 2>&1 ||
    { echo "ci/bench.sh: $1 failed under callgrind (see $3.log)" >&2; return 1; }
  awk '/^summary:/ { print $2; found = 1 } END { exit !found }' "$3.cg" >"$3"
}
echo "==== counting instructions with callgrind (two runs per cell, two at a time)" >&2
failed=0
while read -r id n threads; do
  n2=$((3 * n))
  ir "$id" "$n" "$out/cg-$id-a" & pa=$!
  ir "$id" "$n2" "$out/cg-$id-b" & pb=$!
  okay=1
  wait "$pa" || okay=0
  wait "$pb" || okay=0
  if ((okay)) && grep -q ' n/a$' "$out/cg-$id-a.log"; then
    echo "  $id: not measurable in this build" >&2
    continue
  fi
  if ((!okay)); then failed=1; continue; fi
  a=$(cat "$out/cg-$id-a") b=$(cat "$out/cg-$id-b")
  if [[ $a == 0 && $b == 0 ]]; then
    echo "ci/bench.sh: callgrind counted nothing for $id: was bench_vs_qemu built without <valgrind/callgrind.h>?" >&2
    exit 2
  fi
  per=$(awk -v a="$a" -v b="$b" -v n="$n" -v t="$threads" 'BEGIN { printf "%.2f", (b - a) / (2 * n * t) }')
  printf '%s %s\n' "$id" "$per" >>"$counts"
  printf '  %-28s %10s instr/unit\n' "$id" "$per" >&2
  rm -f "$out/cg-$id-a.cg" "$out/cg-$id-b.cg"
done < <("$bin" --list)

header "instructions per access, callgrind; loop overhead included, as in the native twin"
"$bin" --counts "$counts"
((failed)) && { echo "ci/bench.sh: some cells failed under callgrind" >&2; exit 1; }

baseline=bench/baseline-instructions.txt
case $mode in
  update)
    {
      echo "# instructions per unit (callgrind), written by ci/bench.sh --update-baseline"
      echo "# $(git describe --always --dirty 2>/dev/null || echo unknown), clang $(clang -dumpversion) -O2, Unicorn $(dpkg-query -W -f='${Version}' libunicorn-dev 2>/dev/null)"
      cat "$counts"
    } >"$baseline"
    echo "ci/bench.sh: wrote $baseline" >&2
    ;;
  check)
    [[ -f $baseline ]] || { echo "ci/bench.sh: no $baseline (run --update-baseline)" >&2; exit 2; }
    echo
    echo "### Against $baseline (fail above +10 %)"
    echo
    awk '
      FNR == NR { if ($1 !~ /^#/ && NF >= 2) base[$1] = $2; next }
      { now[$1] = $2 }
      END {
        bad = 0
        for (id in now) {
          if (!(id in base)) { printf "- %s: %.2f (new, no baseline)\n", id, now[id]; continue }
          lim = base[id] * 1.10
          if (now[id] > lim) { printf "- REGRESSION %s: %.2f instr/unit, baseline %.2f (+%.1f %%)\n", id, now[id], base[id], 100 * (now[id] / base[id] - 1); bad++ }
        }
        for (id in base) if (!(id in now)) printf "- %s: in the baseline but not measured\n", id
        if (bad) { printf "\n%d cell(s) regressed by more than 10 %%\n", bad; exit 1 }
        print "- every cell within +10 % of its baseline"
      }' "$baseline" "$counts"
    ;;
esac
