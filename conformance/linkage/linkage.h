/*
 * linkage.h - the header-inline function API (vmmem/mmu_inline.h) linked
 * from translation units built three ways: C11 at the build's optimisation
 * (the hit inlined), C11 at -O0 (a call to the library's external
 * definition) and GNU89 (`extern inline`). A program holding all three
 * must link (no second definition of vm_mmu_read and friends) and each
 * must give the same answers and the same hit counts.
 */
#ifndef LINKAGE_H
#define LINKAGE_H

#include <stdint.h>

#include "vmmem/vmmem.h"

/* One round of accesses on a page mapped at LINKAGE_VA (read-write, with
 * a nop at +4 that is also executable): returns 0 and the values read in
 * out[0..2], or the line number of the first unexpected result. */
#define LINKAGE_VA UINT64_C(0x40000000)

int linkage_round_o2(vm_mmu_t *mmu, uint64_t *out);
int linkage_round_o0(vm_mmu_t *mmu, uint64_t *out);
int linkage_round_gnu89(vm_mmu_t *mmu, uint64_t *out);

#endif
