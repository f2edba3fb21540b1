/*
 * vmc_emit_rv.h - the .vmc lines of the RISC-V MMU fuzz targets' accesses
 * (fuzz_translate, fuzz_mmu_access): each states every answer the
 * reference allows (the fresh walk and the legal answers of the leaves the
 * core may have cached, with the PMA check the runner applies), computed
 * from the model before the core is called. Set-up ops write their lines
 * directly with vmc_line() (fuzz_mmu_common.h).
 */
#ifndef VMMEM_FUZZ_VMC_EMIT_RV_H
#define VMMEM_FUZZ_VMC_EMIT_RV_H

#include "fuzz_mmu_world.h"
#include "vmc_emit.h"

/* `expect read|write|exec VA -> ...` (vm_mmu_translate); fresh: the model's walk. */
void vmc_rv_translate(const fm_t *fm, uint64_t va, int acc, const ref_rv_walk_t *fresh);
/* `expect readN|writeN|exec4 VA [= V] -> ...` (vm_mmu_read/write/fetch_insn). */
void vmc_rv_scalar(const fm_t *fm, int acc, uint64_t va, unsigned size, uint64_t wval);
/* `expect readbulk|writebulk VA LEN [pattern SEED] -> ...`. */
void vmc_rv_bulk(const fm_t *fm, bool write, uint64_t va, uint64_t len, unsigned seed);
/* `expect lrN VA [= V] -> ...`, `expect scN VA = V -> ...`. */
void vmc_rv_lr(const fm_t *fm, uint64_t va, unsigned size);
void vmc_rv_sc(const fm_t *fm, uint64_t va, unsigned size, uint64_t val);
/* `satp V`, then `expect satp == V'` (the reference's satp) when paging is on. */
void vmc_rv_satp(const fm_t *fm, uint64_t written);

#endif /* VMMEM_FUZZ_VMC_EMIT_RV_H */
