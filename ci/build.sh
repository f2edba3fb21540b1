#!/usr/bin/env bash
# ci/build.sh - OSS-Fuzz / ClusterFuzzLite build script for vmmem.
#
# Follows the OSS-Fuzz build contract: honours $CC $CXX $CFLAGS
# $LIB_FUZZING_ENGINE $OUT $SRC (and $WORK for objects), compiles the core
# library, the reference models and every fuzz/fuzz_*.c with $CFLAGS, links
# each target with $LIB_FUZZING_ENGINE, and drops into $OUT:
#   <t>                     the fuzz target
#   <t>_seed_corpus.zip     corpus/<t>/ (seeds and regression inputs)
#   <t>.dict, <t>.options   when fuzz/ has them
# No CMake here on purpose: OSS-Fuzz base images need nothing beyond the
# compiler, and the flags must be exactly the ones the infrastructure passes.
#
# Local check (libFuzzer + ASan):
#   CC=clang CFLAGS="-fsanitize=address,fuzzer-no-link -g" \
#   LIB_FUZZING_ENGINE=-fsanitize=fuzzer OUT=/tmp/ossfuzz-out SRC=/path/to/vmmem \
#   bash ci/build.sh
set -euo pipefail

: "${CC:=clang}"
: "${CFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT to the output directory}"
# $SRC is the project checkout, or (as in OSS-Fuzz) the directory holding it.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${SRC:-} && -d $SRC/core/src ]]; then
  root=$SRC
elif [[ -n ${SRC:-} && -d $SRC/vmmem/core/src ]]; then
  root=$SRC/vmmem
else
  root=$here
fi
# OSS-Fuzz links with the C++ driver ($LIB_FUZZING_ENGINE may be a C++
# archive such as libAFLDriver.a), so link with $CXX when there is one.
link=${CXX:-$CC}
work=${WORK:-$(mktemp -d)}/vmmem-build
rm -rf "$work" && mkdir -p "$work" "$OUT"
OUT=$(cd "$OUT" && pwd)

# shellcheck disable=SC2206 # CFLAGS is a word list by contract
cflags=(-std=c11 $CFLAGS)
inc=(-I"$root/core/include" -I"$root/core/src" -I"$root/conformance/ref" -I"$root/fuzz")

objs=()
for f in "$root"/core/src/*.c; do
  o=$work/core-$(basename "$f" .c).o
  "$CC" "${cflags[@]}" -DVMMEM_BUILDING -D_GNU_SOURCE -fvisibility=hidden "${inc[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
for f in "$root"/conformance/ref/*.c; do
  o=$work/ref-$(basename "$f" .c).o
  "$CC" "${cflags[@]}" -I"$root/conformance/ref" -c "$f" -o "$o"
  objs+=("$o")
done
# Harness code the targets share, compiled once into the archive too: a
# target's world (fuzz/*_world.c: decoders, oracle, report) and the .vmc
# emitter (fuzz/vmc_*.c). Never a fuzz_*.c, which would be a target.
for f in "$root"/fuzz/*_world.c "$root"/fuzz/vmc_*.c; do
  [[ -e $f ]] || continue
  o=$work/fuzzlib-$(basename "$f" .c).o
  "$CC" "${cflags[@]}" "${inc[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
ar rcs "$work/libvmmem_fuzz.a" "${objs[@]}"

zip_dir() { # zip_dir ZIPFILE DIR: every regular file of DIR, flat
  rm -f "$1"
  if command -v zip >/dev/null; then
    (cd "$2" && find . -maxdepth 1 -type f -print0 | xargs -0 -r zip -q -j "$1")
  else
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
out, d = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for n in sorted(os.listdir(d)):
        p = os.path.join(d, n)
        if os.path.isfile(p):
            z.write(p, n)
PY
  fi
}

n=0
for f in "$root"/fuzz/fuzz_*.c; do
  t=$(basename "$f" .c)
  # the target source is compiled into the executable itself, never via a
  # library: AFL++'s driver needs LLVMFuzzerTestOneInput in the program
  "$CC" "${cflags[@]}" "${inc[@]}" -c "$f" -o "$work/$t.o"
  # shellcheck disable=SC2086 # LIB_FUZZING_ENGINE is a word list by contract
  "$link" $CFLAGS "$work/$t.o" "$work/libvmmem_fuzz.a" $LIB_FUZZING_ENGINE -lpthread -o "$OUT/$t"
  if [[ -d $root/corpus/$t ]] && [[ -n $(ls -A "$root/corpus/$t") ]]; then
    zip_dir "$OUT/${t}_seed_corpus.zip" "$root/corpus/$t"
  fi
  for ext in dict options; do
    [[ -f $root/fuzz/$t.$ext ]] && cp "$root/fuzz/$t.$ext" "$OUT/$t.$ext"
  done
  n=$((n + 1))
  echo "built $OUT/$t"
done
((n > 0)) || { echo "ci/build.sh: no fuzz/fuzz_*.c found under $root" >&2; exit 1; }
