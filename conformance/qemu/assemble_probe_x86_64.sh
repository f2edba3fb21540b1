#!/usr/bin/env bash
# assemble_probe_x86_64.sh [--check] - assemble probe_x86_64.S into
# probe_x86_64.bytes (what qemu_answer_x86_64.py writes into QEMU's RAM at
# 0x800000, linked there: the probe runs at VA = PA), with the labels it
# needs. Needs binutils for x86-64 (as, ld, objcopy, nm).
# --check: assemble into a temporary file and fail if it differs from the
# committed probe_x86_64.bytes (so the bytes always match their source).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=x86_64-linux-gnu-
command -v ${bin}as >/dev/null || bin=
${bin}as --64 -o "$tmp/probe.o" probe_x86_64.S
${bin}ld -m elf_x86_64 -Ttext=0x800000 -e entry -o "$tmp/probe.elf" "$tmp/probe.o"
${bin}objcopy -O binary "$tmp/probe.elf" "$tmp/probe.bin"
{
  echo "# probe_x86_64.bytes - probe_x86_64.S assembled by conformance/qemu/assemble_probe_x86_64.sh"
  echo "# (as --64, ld -Ttext=0x800000): 'OFFSET HEX' lines of 16 bytes at their offset from 0x800000"
  echo "# (all-zero lines left out); 'label NAME OFFSET' lines give the offsets the answerer needs."
  ${bin}nm -n "$tmp/probe.elf" | python3 -c 'import sys
for l in sys.stdin:
    a, k, n = l.split()
    if k in "tT" and not n.startswith((".", "_")):
        print("label %s 0x%x" % (n, int(a, 16) - 0x800000))'
  python3 -c 'import sys
data = open(sys.argv[1], "rb").read()
for o in range(0, len(data), 16):
    chunk = data[o:o + 16]
    if any(chunk):
        print("0x%04x %s" % (o, chunk.hex()))
print("size 0x%x" % len(data))' "$tmp/probe.bin"
} > "$tmp/probe_x86_64.bytes"
if [[ ${1:-} == --check ]]; then
  diff -u probe_x86_64.bytes "$tmp/probe_x86_64.bytes"
  echo "probe_x86_64.bytes matches probe_x86_64.S"
else
  cp "$tmp/probe_x86_64.bytes" probe_x86_64.bytes
fi
