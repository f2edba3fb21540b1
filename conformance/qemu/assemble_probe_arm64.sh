#!/usr/bin/env bash
# assemble_probe_arm64.sh [--check] - assemble probe_arm64.S into
# probe_arm64.words (the 32-bit words qemu_answer_arm64.py writes into QEMU's
# RAM, with their disassembly and the labels it needs). Needs
# binutils-aarch64-linux-gnu.
# --check: assemble into a temporary file and fail if it differs from the
# committed probe_arm64.words (so the words always match their source).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
aarch64-linux-gnu-as -o "$tmp/probe.o" probe_arm64.S
# Link at 0 to resolve the PC-relative references (the code is position-independent).
aarch64-linux-gnu-ld -Ttext=0 -e entry -o "$tmp/probe.elf" "$tmp/probe.o"
{
  echo "# probe_arm64.words - probe_arm64.S assembled by conformance/qemu/assemble_probe_arm64.sh"
  echo "# (aarch64-linux-gnu-as, ld -Ttext=0): 'OFFSET WORD' lines, little-endian 32-bit words at"
  echo "# their byte offset in the probe (every other word of its 8 KiB is 0), position-independent."
  echo "# 'label NAME OFFSET' lines give the offsets the answerer needs."
  aarch64-linux-gnu-nm -n "$tmp/probe.elf" | awk '$2 ~ /^[tT]$/ && $3 !~ /^(_|\$)/ { sub(/^0+/, "", $1); printf "label %s 0x%s\n", $3, ($1 == "" ? "0" : $1) }'
  aarch64-linux-gnu-objdump -d "$tmp/probe.elf" |
    awk -F'\t' '/^ *[0-9a-f]+:\t[0-9a-f]+ / {
      o = $1; gsub(/[ :]/, "", o); gsub(/ /, "", $2)
      while (length(o) < 4) o = "0" o
      if ($2 != "00000000") printf "0x%s %s  # %s %s\n", o, $2, $3, $4 }'
} > "$tmp/probe_arm64.words"
if [[ ${1:-} == --check ]]; then
  diff -u probe_arm64.words "$tmp/probe_arm64.words"
  echo "probe_arm64.words matches probe_arm64.S"
else
  cp "$tmp/probe_arm64.words" probe_arm64.words
fi
