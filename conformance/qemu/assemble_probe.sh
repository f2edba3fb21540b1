#!/usr/bin/env bash
# assemble_probe.sh [--check] - assemble probe_rv64.S into probe_rv64.words
# (the 32-bit words qemu_answer.py loads into QEMU's boot ROM, with their
# disassembly and the labels it needs). Needs binutils-riscv64-linux-gnu.
# --check: assemble into a temporary file and fail if it differs from the
# committed probe_rv64.words (so the words always match their source).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
riscv64-linux-gnu-as -march=rv64ima_zicsr -o "$tmp/probe.o" probe_rv64.S
# Link at 0 to resolve the PC-relative relocations (the code is position-independent).
riscv64-linux-gnu-ld -Ttext=0 -e entry -o "$tmp/probe.elf" "$tmp/probe.o"
{
  echo "# probe_rv64.words - probe_rv64.S assembled by conformance/qemu/assemble_probe.sh"
  echo "# (riscv64-linux-gnu-as -march=rv64ima_zicsr, ld -Ttext=0): one little-endian 32-bit word a line,"
  echo "# position-independent, loaded at PROBE_BASE by qemu_answer.py. 'label NAME OFFSET'"
  echo "# lines give the offsets the answerer needs."
  riscv64-linux-gnu-nm "$tmp/probe.elf" | awk '$2 ~ /^[tT]$/ && $3 !~ /^_/ { sub(/^0+/, "", $1); printf "label %s 0x%s\n", $3, ($1 == "" ? "0" : $1) }' | sort -k3
  riscv64-linux-gnu-objdump -d "$tmp/probe.elf" |
    awk -F'\t' '/^ *[0-9a-f]+:\t[0-9a-f]+ / { gsub(/ /, "", $2); printf "%s  # %-4s %s %s\n", $2, $1, $3, $4 }'
} > "$tmp/probe_rv64.words"
if [[ ${1:-} == --check ]]; then
  diff -u probe_rv64.words "$tmp/probe_rv64.words"
  echo "probe_rv64.words matches probe_rv64.S"
else
  cp "$tmp/probe_rv64.words" probe_rv64.words
fi
