/*
 * vmmem/ptbuilder.h - build RISC-V page tables in guest memory, for tests,
 * fuzzers and firmware-less boot.
 *
 * The builder hands out 4 KiB table pages from a bump pointer starting at
 * `start` (rounded up to 4 KiB) and writes PTEs through the MMU's physical
 * access path. It never flushes the TLB: that is the caller's business, as
 * after any PTE change.
 */
#ifndef VMMEM_PTBUILDER_H
#define VMMEM_PTBUILDER_H

#include "vmmem/mmu.h"
#include "vmmem/types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vm_ptbuilder {
    vm_gpa_t start; /* first table page handed out */
    vm_gpa_t next;  /* next table page to hand out */
} vm_ptbuilder_t;

#define VM_PAGE_4K   (UINT64_C(1) << 12)
#define VM_PAGE_2M   (UINT64_C(1) << 21)
#define VM_PAGE_1G   (UINT64_C(1) << 30)
#define VM_PAGE_512G (UINT64_C(1) << 39)

VM_API void vm_ptbuilder_init(vm_ptbuilder_t *b, vm_gpa_t start);
/* Hand out the next 4 KiB page (does not touch memory). */
VM_API vm_gpa_t vm_ptbuilder_alloc_page(vm_ptbuilder_t *b);

/*
 * Map one 4 KiB page va -> pa in the tree at root (Sv39/Sv48/Sv57 layout),
 * allocating and zeroing missing intermediate tables. flags are PTE bits
 * 7:0 (V is added); they must describe a leaf (R or X set, W only with R).
 * Errors, all leaving memory and the builder unchanged:
 * VM_ERR_INVALID_ARGUMENT (NULL, unaligned root/pa, non-canonical va, bad
 * flags, an existing leaf above the target level, pa wider than 56 bits),
 * VM_ERR_INVALID_ADDRESS (root or a needed table outside RAM).
 * An existing leaf at the target level is overwritten.
 */
VM_API VM_WUR vm_err_t vm_ptbuilder_map_sv39(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va,
                                             vm_gpa_t pa, uint64_t flags, vm_gpa_t root);
VM_API VM_WUR vm_err_t vm_ptbuilder_map_sv48(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va,
                                             vm_gpa_t pa, uint64_t flags, vm_gpa_t root);
VM_API VM_WUR vm_err_t vm_ptbuilder_map_sv57(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_gva_t va,
                                             vm_gpa_t pa, uint64_t flags, vm_gpa_t root);

/*
 * General form: mode is SV39/SV48/SV57, page_size one of VM_PAGE_4K,
 * VM_PAGE_2M, VM_PAGE_1G, VM_PAGE_512G (the last two need a mode with that
 * many levels: 512G needs Sv48 or Sv57); va and pa must be aligned to it.
 */
VM_API VM_WUR vm_err_t vm_ptbuilder_map(vm_ptbuilder_t *b, vm_mmu_t *mmu, vm_paging_mode_t mode,
                                        vm_gva_t va, vm_gpa_t pa, uint64_t page_size,
                                        uint64_t flags, vm_gpa_t root);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PTBUILDER_H */
