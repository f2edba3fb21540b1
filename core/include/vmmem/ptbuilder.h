/*
 * vmmem/ptbuilder.h - build page tables in guest memory (RISC-V Sv39/48/57,
 * x86-64 4/5-level, AArch64 with any granule), for tests, fuzzers and
 * firmware-less boot.
 *
 * The builder hands out table pages from a bump pointer starting at
 * `start` (4 KiB pages, or granule-sized and -aligned pages for Arm 16 KiB
 * and 64 KiB granules) and writes entries through the MMU's physical access
 * path. Every map call is checked in full (a dry run) before anything is
 * written: on any error neither guest memory nor the builder changes. It
 * never flushes the TLB: that is the caller's business, as after any PTE
 * change.
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
#define VM_PAGE_16K  (UINT64_C(1) << 14)
#define VM_PAGE_64K  (UINT64_C(1) << 16)
#define VM_PAGE_2M   (UINT64_C(1) << 21)
#define VM_PAGE_32M  (UINT64_C(1) << 25)
#define VM_PAGE_512M (UINT64_C(1) << 29)
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

/*
 * x86-64: map va -> pa with a page of page_size (VM_PAGE_4K, VM_PAGE_2M
 * with PDE.PS, VM_PAGE_1G with PDPTE.PS) in the 4-level (la57 false) or
 * 5-level tree at root (4 KiB aligned, below 2^52). flags are the bits of
 * the entry that maps the page other than P, PS and the address: RW, US,
 * PWT, PCD, A, D, G, PAT (bit 7 of a PTE, VM_X86_PTE_PAT_LARGE of a large
 * page), the protection key and XD. Missing paging-structure entries are
 * created as P|RW|US (A clear) over zeroed tables, so the mapping entry
 * decides the rights. Errors, all leaving memory and the builder unchanged:
 * VM_ERR_INVALID_ARGUMENT (NULL, bad page_size, root unaligned or at/above
 * 2^52, va non-canonical or unaligned, pa unaligned or at/above 2^52,
 * flags with P, PS (large pages; bit 7 of a PTE is PAT) or address bits -
 * bits 51:12, 51:13 for a large page, the reserved low bits included -, an
 * existing large page above the target level),
 * VM_ERR_INVALID_ADDRESS (root or a needed table outside RAM). An existing
 * entry at the target level is overwritten.
 */
VM_API VM_WUR vm_err_t vm_ptbuilder_map_x86_64(vm_ptbuilder_t *b, vm_mmu_t *mmu, bool la57,
                                               vm_gva_t va, vm_gpa_t pa, uint64_t page_size,
                                               uint64_t flags, vm_gpa_t root);

/*
 * AArch64: map va -> pa in the table tree at root for a range with the
 * given granule (12, 14 or 16: 4, 16 or 64 KiB) and TxSZ (16..39), so the
 * walk starts at the level those imply. va is in the lower range (bits
 * 63:64-txsz all 0, TTBR0) or the upper range (all 1, TTBR1); no tag in
 * the top byte. page_size is the granule (a level 3 page) or a block size
 * the granule allows: 2 MiB and 1 GiB with 4 KiB, 32 MiB with 16 KiB,
 * 512 MiB with 64 KiB. attrs are the descriptor bits other than bits[1:0]
 * and the output address (AttrIndx, NS, AP, SH, AF, nG, DBM, Contiguous,
 * PXN, UXN, software bits 58:55). Missing tables are allocated
 * granule-aligned and zeroed and linked by table descriptors with no
 * hierarchical restriction (APTable, XNTable clear). root must be aligned to
 * the size of the start-level table. Errors, all leaving memory and the
 * builder unchanged: VM_ERR_INVALID_ARGUMENT (NULL, bad granule, txsz,
 * page_size or attrs, va outside both ranges or unaligned, pa unaligned or
 * at/above 2^48, an existing block above the target level),
 * VM_ERR_INVALID_ADDRESS (root or a needed table outside RAM).
 */
VM_API VM_WUR vm_err_t vm_ptbuilder_map_arm64(vm_ptbuilder_t *b, vm_mmu_t *mmu,
                                              unsigned granule_shift, unsigned txsz, vm_gva_t va,
                                              vm_gpa_t pa, uint64_t page_size, uint64_t attrs,
                                              vm_gpa_t root);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_PTBUILDER_H */
