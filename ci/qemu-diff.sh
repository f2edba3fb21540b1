#!/usr/bin/env bash
# ci/qemu-diff.sh [N] [--seed S] [--arch riscv|arm64|x86_64|all] - differential check
# of vmmem's MMU against QEMU 7.2, per architecture: generate N random cases
# (vmmem-gen, default 1000, seed 1), answer their `check` lines with real
# accesses by QEMU's emulated core (conformance/qemu/qemu_answer*.py), replay
# them on vmmem's core and reference (vmmem-conform), print the agreement and
# every disagreement with its class. Default: every architecture (RISC-V,
# Arm64, x86-64), one agreement line each at the end. x86-64 answers are
# replayed on vmmem like the others (conform_x86_64.c); a vmmem-conform
# without that part only checks QEMU's answers against what the generator
# built. Exit 0 iff, for every
# architecture, every disagreement is a QEMU deviation documented in
# conformance/QEMU.md. Installs what it needs on a fresh Debian 12 (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
n=1000
seed=1
arch=all
while (($#)); do
  case $1 in
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    --arch) arch=${2:?--arch needs a value}; shift 2 ;;
    [0-9]*) n=$1; shift ;;
    *) echo "usage: ci/qemu-diff.sh [N] [--seed S] [--arch riscv|arm64|x86_64|all]" >&2; exit 2 ;;
  esac
done
case $arch in
  all) arches=(riscv arm64 x86_64) ;;
  riscv|arm64|x86_64) arches=("$arch") ;;
  *) echo "ci/qemu-diff.sh: unknown --arch $arch (riscv, arm64, x86_64, all)" >&2; exit 2 ;;
esac
pkgs=()
for a in "${arches[@]}"; do
  case $a in
    riscv) pkgs+=(qemu-system-misc) ;;
    arm64) pkgs+=(qemu-system-arm) ;;
    x86_64) pkgs+=(qemu-system-x86) ;;
  esac
done
bash ci/deps.sh "${pkgs[@]}"
# The probes' committed words must match their sources (when the cross
# assemblers are there; the runs themselves do not need them).
if command -v riscv64-linux-gnu-as >/dev/null; then
  bash conformance/qemu/assemble_probe.sh --check
fi
if command -v aarch64-linux-gnu-as >/dev/null; then
  bash conformance/qemu/assemble_probe_arm64.sh --check
fi
if command -v as >/dev/null && [[ $(uname -m) == x86_64 ]] || command -v x86_64-linux-gnu-as >/dev/null; then
  bash conformance/qemu/assemble_probe_x86_64.sh --check
fi
cmake -S . -B build/qemu-diff -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVMMEM_BUILD_TESTS=ON >/dev/null
if ! out=$(ninja -C build/qemu-diff -j2 vmmem-gen vmmem-conform 2>&1); then
  echo "$out"
  echo "ci/qemu-diff.sh: the build failed" >&2
  exit 1
fi
status=0
summary=()
for a in "${arches[@]}"; do
  echo "======== $a"
  log=build/qemu-diff/$a.log
  set +e
  python3 conformance/qemu/qemu_diff.py --arch "$a" --gen build/qemu-diff/conformance/vmmem-gen \
    --conform build/qemu-diff/conformance/vmmem-conform --count "$n" --seed "$seed" \
    --work "build/qemu-diff/work-$a" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  ((rc == 0)) || status=1
  summary+=("$a: $(grep -m1 '^checks agreeing' "$log" || echo 'no result'); $(grep -m1 '^qemu-diff:' "$log" || echo 'qemu-diff: FAILED')")
done
echo "======== agreement per architecture (N=$n, seed $seed)"
printf '%s\n' "${summary[@]}"
exit $status
