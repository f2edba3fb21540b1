# shellcheck shell=bash
# ci/progress.sh - live progress of fuzzing jobs; sourced by ci/fuzz.sh and
# ci/fuzz-afl.sh (not run on its own).
#
#   progress_watch RENDER PID... -- TARGET...
#
# While any PID is alive, calls `RENDER TARGET` for each target (it prints
# one line without a newline) and shows the lines:
#   - on a terminal: one line per target, redrawn in place every second;
#   - otherwise (CI logs, a pipe): all lines every VMMEM_PROGRESS_SECONDS
#     seconds (default 5), each prefixed with "progress:".
# VMMEM_PROGRESS=tty|lines|off forces a mode. The final state is always
# printed once more when the jobs end, so a log ends with the last figures.
#
# Why polling files rather than the fuzzers' own status output: libFuzzer
# prints a status line only on events (new coverage, power-of-two pulses)
# and AFL++ without its UI only writes fuzzer_stats every 60 s; the render
# functions combine what is live (corpus and findings directories, AFL++'s
# StatsD feed, libFuzzer's last status line) into one line.

# Sets progress_mode (not through $(...): stdout would then be a pipe).
progress_pick_mode() {
  case ${VMMEM_PROGRESS:-} in
    tty|lines|off) progress_mode=$VMMEM_PROGRESS ;;
    '') if [[ -t 1 ]]; then progress_mode='tty'; else progress_mode='lines'; fi ;;
    *) echo "VMMEM_PROGRESS must be tty, lines or off" >&2; progress_mode=lines ;;
  esac
}

# progress_time ELAPSED BUDGET: "elapsed/budget" and the percentage done.
progress_time() {
  local e=$1 b=$2
  ((e > b)) && e=$b
  printf '%4ss/%ss %3s%%' "$e" "$b" "$(( b > 0 ? e * 100 / b : 100 ))"
}

# progress_rate N: 31854 -> 31.9k
progress_rate() {
  awk -v n="${1:-0}" 'BEGIN { if (n == "" || n == "-") print "-"; else if (n >= 1000) printf "%.1fk", n / 1000; else printf "%d", n }'
}

progress_watch() {
  local render=$1
  shift
  local pids=() targets=()
  while (($#)) && [[ $1 != -- ]]; do pids+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  targets=("$@")
  local progress_mode
  progress_pick_mode
  local mode=$progress_mode
  local period=${VMMEM_PROGRESS_SECONDS:-5}
  local drawn=0 last_print=$SECONDS

  alive() {
    local p
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done
    return 1
  }
  draw() { # draw FINAL
    local t
    case $mode in
      tty)
        ((drawn)) && printf '\033[%dA' "${#targets[@]}"
        for t in "${targets[@]}"; do printf '\r\033[K  %s\n' "$("$render" "$t")"; done
        drawn=1 ;;
      lines)
        for t in "${targets[@]}"; do printf 'progress: %s\n' "$("$render" "$t")"; done ;;
      off) ;;
    esac
  }

  while alive; do
    if [[ $mode == tty ]] || ((SECONDS - last_print >= period)); then
      draw
      last_print=$SECONDS
    fi
    sleep 1
  done
  draw
  return 0
}
