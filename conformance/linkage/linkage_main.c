/*
 * linkage_main.c - see linkage.h. Exit 0 when the three builds of one
 * round agree: the same values, errors and TLB hits and misses.
 */
#include <stdio.h>

#include "linkage.h"

static vm_mmu_t *new_mmu(void)
{
    vm_mmu_t *mmu = vm_mmu_new(UINT64_C(1) << 20, false);
    vm_ptbuilder_t b;

    if (!mmu)
        return NULL;
    vm_ptbuilder_init(&b, 0x10000);
    vm_gpa_t root = vm_ptbuilder_alloc_page(&b);
    if (vm_ptbuilder_map_sv39(&b, mmu, LINKAGE_VA, 0x3000,
                              VM_PTE_R | VM_PTE_W | VM_PTE_X | VM_PTE_A | VM_PTE_D, root) != VM_OK ||
        vm_mmu_write_phys(mmu, 0x3004, 0x13, 4) != VM_OK) {
        vm_mmu_free(mmu);
        return NULL;
    }
    vm_mmu_set_priv(mmu, VM_PRIV_S);
    vm_mmu_set_satp(mmu, (UINT64_C(8) << 60) | (root >> 12));
    return mmu;
}

int main(void)
{
    int (*const rounds[3])(vm_mmu_t *, uint64_t *) = {linkage_round_o2, linkage_round_o0,
                                                        linkage_round_gnu89};
    static const char *const names[3] = {"C11", "C11 -O0", "GNU89"};
    uint64_t out[3][3], hits[3], misses[3];

    for (int k = 0; k < 3; k++) {
        vm_mmu_t *mmu = new_mmu();
        if (!mmu) {
            fprintf(stderr, "linkage: setup failed\n");
            return 1;
        }
        /* twice: the first round misses, the second hits */
        for (int r = 0; r < 2; r++) {
            int line = rounds[k](mmu, out[k]);
            if (line) {
                fprintf(stderr, "linkage: %s build, round %d: unexpected result at line %d\n",
                        names[k], r, line);
                return 1;
            }
        }
        vm_mmu_tlb_stats(mmu, &hits[k], &misses[k]);
        vm_mmu_free(mmu);
    }
    if (out[0][0] != UINT64_C(0x1122334455667788) || out[0][1] != 0x5566 || out[0][2] != 0x13) {
        fprintf(stderr, "linkage: C11 build read %#llx %#llx %#llx\n",
                (unsigned long long)out[0][0], (unsigned long long)out[0][1],
                (unsigned long long)out[0][2]);
        return 1;
    }
    for (int k = 1; k < 3; k++)
        for (int i = 0; i < 3; i++)
            if (out[k][i] != out[0][i]) {
                fprintf(stderr, "linkage: %s build read %#llx, C11 build %#llx\n", names[k],
                        (unsigned long long)out[k][i], (unsigned long long)out[0][i]);
                return 1;
            }
    for (int k = 0; k < 3; k++)
        if (hits[k] != hits[0] || misses[k] != misses[0] || hits[k] == 0) {
            fprintf(stderr, "linkage: %s build: %llu hits, %llu misses; C11 build %llu, %llu\n",
                    names[k], (unsigned long long)hits[k], (unsigned long long)misses[k],
                    (unsigned long long)hits[0], (unsigned long long)misses[0]);
            return 1;
        }
    printf("linkage: C11, C11 -O0 and GNU89 builds agree (%llu hits, %llu misses each)\n",
           (unsigned long long)hits[0], (unsigned long long)misses[0]);
    return 0;
}
