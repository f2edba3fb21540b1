#!/usr/bin/env bash
# ci/test.sh - vmmem's test command (what .ci/run and the README call).
#
#  1. clang, ASan+UBSan: every ctest test (cmocka unit tests, conformance
#     cases on core + reference, regression-corpus replay of every fuzz target)
#  1b. clang, MSan: the .vmc cases and the corpus replay (cmocka is not
#      MSan-instrumented, so no unit tests there); UBSan alone (the build
#      OSS-Fuzz runs next to ASan): the corpus replay
#  2. clang, TSan: the threaded tests (ctest label "threads")
#  3. gcc 12, -Werror, no sanitizer: full build and every test again
#  4. install with cmake --install and build a consumer via find_package and pkg-config
#
# Exits non-zero on any failure. Build trees go to build/ci-*.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash ci/deps.sh

jobs=$(nproc)
step() { printf '\n==== %s ====\n' "$*"; }

step "ASan+UBSan build (clang)"
cmake -S . -B build/ci-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
  -DVMMEM_SANITIZE=address >/dev/null
ninja -C build/ci-asan -j"$jobs"
step "ASan+UBSan tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/ci-asan --output-on-failure -j"$jobs"

step "MSan build (clang): .vmc cases and corpus replay"
cmake -S . -B build/ci-msan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DVMMEM_SANITIZE=memory >/dev/null
ninja -C build/ci-msan -j"$jobs"
MSAN_OPTIONS=halt_on_error=1 ctest --test-dir build/ci-msan --output-on-failure -j"$jobs" \
  -L 'conformance|corpus' --no-tests=error

step "UBSan-only build (clang): corpus replay"
cmake -S . -B build/ci-ubsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DVMMEM_SANITIZE=undefined >/dev/null
replays=()
for f in fuzz/fuzz_*.c; do replays+=("$(basename "$f" .c)_replay"); done
ninja -C build/ci-ubsan -j"$jobs" "${replays[@]}" vmmem-conform   # vmc_emit_<t>: corpus as .vmc
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/ci-ubsan --output-on-failure -j"$jobs" -L corpus --no-tests=error

step "TSan build (clang)"
cmake -S . -B build/ci-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DVMMEM_SANITIZE=thread >/dev/null
ninja -C build/ci-tsan -j"$jobs"
step "TSan threaded tests"
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
  ctest --test-dir build/ci-tsan --output-on-failure -L threads --no-tests=error

step "gcc -Werror build and tests"
cmake -S . -B build/ci-gcc -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=gcc >/dev/null
ninja -C build/ci-gcc -j"$jobs"
ctest --test-dir build/ci-gcc --output-on-failure -j"$jobs"

step "install + find_package/pkg-config consumer"
prefix=$root/build/ci-install
rm -rf "$prefix" build/ci-consumer
cmake --install build/ci-gcc --prefix "$prefix" >/dev/null
mkdir -p build/ci-consumer
cat > build/ci-consumer/main.c <<'C'
#include <vmmem/vmmem.h>
#include <stdio.h>
int main(void)
{
    vm_physmem_t *pm = vm_physmem_new(1 << 20, false);
    uint32_t v = 0;
    if (!pm || vm_physmem_write_u32(pm, 0x100, 0xdeadbeef) || vm_physmem_read_u32(pm, 0x100, &v))
        return 1;
    vm_physmem_free(pm);
    /* vm_mmu_read/write: inline in the header, exported by the library
     * (the pointer takes the library's definition) */
    vm_err_t (*volatile rd)(vm_mmu_t *, vm_gva_t, uint8_t, uint64_t *) = vm_mmu_read;
    vm_mmu_t *mmu = vm_mmu_new(1 << 20, false);
    uint64_t a = 0, b = 0;
    if (!mmu || vm_mmu_write(mmu, 0x200, 0x1122334455667788, 8) || vm_mmu_read(mmu, 0x200, 8, &a) ||
        vm_mmu_read(mmu, 0x204, 4, &a) || rd(mmu, 0x200, 2, &b) || a != 0x11223344 || b != 0x7788)
        return 1;
    vm_mmu_free(mmu);
    printf("consumer ok: %s\n", vm_strerror(VM_OK));
    return v == 0xdeadbeef ? 0 : 1;
}
C
cat > build/ci-consumer/CMakeLists.txt <<'C'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(vmmem REQUIRED)
add_executable(consumer_static main.c)
target_link_libraries(consumer_static PRIVATE vmmem::vmmem)
add_executable(consumer_shared main.c)
target_link_libraries(consumer_shared PRIVATE vmmem::vmmem_shared)
C
cmake -S build/ci-consumer -B build/ci-consumer/b -G Ninja -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
ninja -C build/ci-consumer/b >/dev/null
build/ci-consumer/b/consumer_static
LD_LIBRARY_PATH=$prefix/lib build/ci-consumer/b/consumer_shared
PKG_CONFIG_PATH=$prefix/lib/pkgconfig cc build/ci-consumer/main.c -o build/ci-consumer/pc \
  $(PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags --libs vmmem) -lpthread
LD_LIBRARY_PATH=$prefix/lib build/ci-consumer/pc

step "all test stages passed"
