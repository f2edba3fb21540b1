#!/usr/bin/env bash
# ci/deps.sh [extra packages...] - install what vmmem's scripts need on a
# fresh Debian 12 machine. Does nothing when everything is already there.
# Sourced or run by ci/test.sh, ci/fuzz.sh, ci/coverage.sh, ci/mutants.sh.
set -euo pipefail

need=(clang libclang-rt-14-dev llvm cmake ninja-build gcc libcmocka-dev pkg-config python3 python3-yaml "$@")
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ci/deps.sh: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "ci/deps.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
