#!/usr/bin/env bash
# ci/qemu-diff.sh [N] [--seed S] - differential check of vmmem's RISC-V MMU
# against QEMU 7.2: generate N random cases (vmmem-gen, default 1000, seed 1),
# answer their `check` lines with real accesses by QEMU's emulated hart
# (conformance/qemu/qemu_answer.py), replay them on vmmem's core and reference
# (vmmem-conform), print the agreement and every disagreement with its class.
# Exit 0 iff every disagreement is a QEMU deviation documented in
# conformance/QEMU.md. Installs what it needs on a fresh Debian 12 (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000
seed=1
while (($#)); do
  case $1 in
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) echo "usage: ci/qemu-diff.sh [N] [--seed S]" >&2; exit 2 ;;
  esac
done
bash ci/deps.sh qemu-system-misc
# The probe's committed words must match their source (when the cross
# assembler is there; the run itself does not need it).
if command -v riscv64-linux-gnu-as >/dev/null; then
  bash conformance/qemu/assemble_probe.sh --check
fi
cmake -S . -B build/qemu-diff -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMMEM_BUILD_TESTS=ON >/dev/null
ninja -C build/qemu-diff -j2 vmmem-gen vmmem-conform >/dev/null
python3 conformance/qemu/qemu_diff.py --gen build/qemu-diff/conformance/vmmem-gen \
  --conform build/qemu-diff/conformance/vmmem-conform --count "$n" --seed "$seed" \
  --work build/qemu-diff/work
