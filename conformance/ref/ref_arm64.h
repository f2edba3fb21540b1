/*
 * ref_arm64.h - the reference AArch64 stage 1 EL1&0 translation and its
 * staleness-aware TLB oracle (ref_arm64.c, ref_tlb_arm64.c).
 *
 * Written from the Arm ARM pseudocode (DDI0487, the v8.5-A functions
 * AArch64.FirstStageTranslate, AArch64.TranslationTableWalk,
 * AArch64.CheckPermission, AArch64.CheckAndUpdateDescriptor,
 * AArch64.TranslateAddressS1Off, AddrTop) in their own terms. Like the rest
 * of conformance/ref/ it shares nothing with core/: it includes ref_model.h
 * (for ref_mem_t and the access kinds) and the C library only; the register
 * and descriptor bit positions are written out again here from the manual.
 */
#ifndef VMMEM_REF_ARM64_H
#define VMMEM_REF_ARM64_H

#include "ref_model.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- The registers of the EL1&0 regime ---------------------------------- */
typedef struct ref_a64_regs {
    uint64_t ttbr0, ttbr1; /* TTBRn_EL1: ASID 63:48, BADDR 47:1, CnP 0 */
    uint64_t tcr;          /* TCR_EL1 */
    uint64_t sctlr;        /* SCTLR_EL1: M (0), WXN (19) */
    int el;                /* PSTATE.EL: 0 or 1 */
    int pan;               /* PSTATE.PAN */
    int pa_bits;           /* PAMax() (ID_AA64MMFR0_EL1.PARange); 0 means 48 */
} ref_a64_regs_t;

/*
 * vmmem's contract for vm_mmu_set_arm64_regs (arm64.h), which the harness
 * must predict: 0 (accepted), or a mask of the reasons the whole write is
 * refused (nothing changes then). With both reasons either error is a
 * correct answer: the contract does not order them.
 */
enum ref_a64_regs_verdict {
    REF_A64_REGS_OK = 0,
    REF_A64_REGS_INVALID = 1,     /* VM_ERR_INVALID_ARGUMENT */
    REF_A64_REGS_UNSUPPORTED = 2, /* VM_ERR_UNSUPPORTED: TCR.DS = 1 */
};
int ref_a64_regs_check(const ref_a64_regs_t *r);

/* PAMax() for these registers (48 when pa_bits is 0). */
int ref_a64_pa_max(const ref_a64_regs_t *r);
/* The ASID the regime uses now: TTBR1's if TCR.A1 else TTBR0's, bits 7:0
 * only when TCR.AS = 0. */
uint16_t ref_a64_current_asid(const ref_a64_regs_t *r);
/*
 * The VA a TLB entry is tagged with: with top-byte ignore in force for
 * this address (AddrTop() = 55), VA[55:0] sign-extended from bit 55;
 * otherwise the VA itself (so a VA whose top byte is not a pure sign
 * extension can never match an entry of an in-range VA).
 */
uint64_t ref_a64_tag_va(const ref_a64_regs_t *r, uint64_t va);

/* ---- Faults (FaultRecord.statuscode) ------------------------------------ */
enum ref_a64_fault {
    REF_A64_NO_FAULT = 0,
    REF_A64_ADDRESS_SIZE,  /* FSC 0b0000LL */
    REF_A64_TRANSLATION,   /* FSC 0b0001LL */
    REF_A64_ACCESS_FLAG,   /* FSC 0b0010LL */
    REF_A64_PERMISSION,    /* FSC 0b0011LL */
    REF_A64_WALK_ABORT,    /* synchronous external abort on a table walk, FSC 0b0101LL */
    REF_A64_DATA_ABORT,    /* synchronous external abort (not on a walk), FSC 0b010000:
                              the data access found nothing at its PA (never from a walk) */
    REF_A64_FAULT_COUNT
};
/* The spelling in .vmc files and reports: "ok", "translation-fault", ...;
 * both external aborts are "access-fault". */
const char *ref_a64_fault_name(int fault);
/* EncodeLDFSC: the DFSC/IFSC of a fault at a level (0x10 for DATA_ABORT). */
uint32_t ref_a64_fsc(int fault, int level);
/* ESR_ELx.ISS bits vmmem reports (fault record .syndrome): FSC, and WnR
 * (bit 6) for data aborts caused by a write. */
uint32_t ref_a64_syndrome(int fault, int level, int access);
/* ESR_ELx.EC: instruction/data abort from a lower EL (EL0) or the same (EL1). */
uint32_t ref_a64_exception_class(int el, int access);

/* ---- One translation ----------------------------------------------------- */
#define REF_A64_MAX_STEPS 4
typedef struct ref_a64_step {  /* one descriptor read, for the report */
    int level;
    uint64_t table;            /* base address of the table at this level */
    uint64_t descaddr;
    uint64_t desc;             /* the value read (0 if the read failed) */
    bool read_ok;
} ref_a64_step_t;

typedef struct ref_a64_walk {
    int fault;                 /* REF_A64_* */
    int level;                 /* the fault's level, or the leaf's; -1 for stage 1 off */
    uint64_t pa;               /* output address when fault == NO_FAULT */
    const char *why;           /* which pseudocode check decided a fault */

    /* the regime decisions */
    bool s1_enabled;           /* SCTLR_EL1.M */
    int top;                   /* AddrTop(): 55 with top-byte ignore, else 63 */
    uint64_t tag_va;           /* ref_a64_tag_va() */
    int ttbr;                  /* 0 or 1: the range selected by inputaddr<top>; -1 if none */
    int grainsize, stride;     /* log2 granule (12/14/16), grainsize - 3 */
    int inputsize, outputsize; /* 64 - TxSZ; the IPS size capped at PAMax() */
    int startlevel;
    uint64_t baseaddress;      /* the start-level table */
    uint16_t asid;
    int n_steps;
    ref_a64_step_t steps[REF_A64_MAX_STEPS];

    /* the leaf (walk_done) */
    bool walk_done;            /* the table walk found a leaf with no walk fault: the
                                  TLBRecord exists (it may still fail the permission check) */
    uint64_t descaddr, desc;   /* the leaf as read */
    int blocksize_shift;       /* log2 of the page/block size */
    uint64_t oa_base;          /* desc<47:blocksize_shift> */
    bool perm_ap2, perm_ap1;   /* Permissions.ap<2:1> after APTable (and DBM) */
    bool perm_xn, perm_pxn;    /* after UXNTable / PXNTable */
    bool ng;                   /* nG: not global */
    bool update_af, update_ap; /* DescriptorUpdate.AF / .AP from the walk */

    /* AArch64.CheckAndUpdateDescriptor */
    bool desc_write;           /* the descriptor is written back ... */
    uint64_t desc_new;         /* ... with this value (AF set / AP[2] cleared) */
    bool af_unpredictable;     /* a faulting access with a pending AF update: whether AF
                                  is set is CONSTRAINED UNPREDICTABLE (AFUPDATE); the
                                  model does not set it, desc | AF is the other choice */
} ref_a64_walk_t;

/*
 * AArch64.FirstStageTranslate for one access (REF_READ / REF_WRITE /
 * REF_EXEC) at the current EL: the table walk (or the flat map with stage 1
 * off), the permission check, then the descriptor update. Descriptors are
 * read byte by byte from m->ram; a read outside RAM is a synchronous
 * external abort on the walk. With `apply`, a descriptor update is written
 * into m->ram. Does not check that the final PA is backed (the data access
 * does that: REF_A64_DATA_ABORT).
 */
void ref_a64_translate(ref_mem_t *m, const ref_a64_regs_t *r, uint64_t va, int access,
                       bool apply, ref_a64_walk_t *out);
/*
 * AArch64.CheckPermission for stage 1 permissions ap<2:1>, xn (UXN and
 * UXNTable), pxn (PXN and PXNTable) under the current EL, PSTATE.PAN and
 * SCTLR_EL1.WXN: true iff the access is allowed. Shared by the walk and the
 * TLB oracle, which re-checks cached entries under the current state.
 */
bool ref_a64_check_permission(bool ap2, bool ap1, bool xn, bool pxn, const ref_a64_regs_t *r,
                              int access);
/* The walk level by level: regime, each descriptor decoded, the answer. */
void ref_a64_walk_print(const ref_a64_walk_t *w, uint64_t va, int access, void *FILE_stream);

/* ---- The TLB-aware acceptance rule (ref_tlb_arm64.c) ---------------------- */
/* An observed answer: fault kind, its level (faults), the PA (success). */
typedef struct ref_a64_answer {
    int fault;
    int level;
    uint64_t pa;
} ref_a64_answer_t;

/* >= the core's largest TLBs together (4096 + 4096), as REF_TLB_MAX. */
#define REF_A64_TLB_MAX 8192
typedef struct ref_a64_tlb_entry {
    bool exec_side;            /* ITLB (fetches) or DTLB (loads/stores) */
    uint64_t tag_va;           /* ref_a64_tag_va() of the VA that filled it */
    int blocksize_shift;       /* the entry covers 2^blocksize_shift bytes */
    int level;
    uint16_t asid;
    bool global;               /* nG = 0 in the leaf */
    uint64_t oa_base;
    bool perm_ap2, perm_ap1, perm_xn, perm_pxn;
    bool dirty_pending;        /* writable-clean (DBM with TCR.HA/HD): a write needs the
                                  descriptor update, so the entry cannot answer it */
    uint64_t descaddr, desc;   /* the leaf after any update, for reports */
} ref_a64_tlb_entry_t;

typedef struct ref_a64_tlb {
    ref_a64_tlb_entry_t e[REF_A64_TLB_MAX];
    int n;
} ref_a64_tlb_t;

/* The TLB maintenance instructions, in arm64.h's order. */
enum ref_a64_tlbi {
    REF_A64_TLBI_VMALLE1 = 0,
    REF_A64_TLBI_ASIDE1,
    REF_A64_TLBI_VAE1,
    REF_A64_TLBI_VAAE1,
    REF_A64_TLBI_VALE1,
    REF_A64_TLBI_VAALE1,
    REF_A64_TLBI_COUNT
};

void ref_a64_tlb_reset(ref_a64_tlb_t *t);
/*
 * Does t remember an entry of that side (ITLB when exec_side) mapping the
 * 2^shift-byte block or page at (normalised) page_va to page_pa, that a
 * cached entry may stand for: a global entry (global) only for a global
 * one, an entry tagged asid for a global one or one of that ASID?
 * (The white-box check of what the core's TLBs hold: every cached entry
 * must be one of these.)
 */
bool ref_a64_tlb_remembers(const ref_a64_tlb_t *t, bool exec_side, uint64_t page_va,
                           unsigned shift, uint64_t page_pa, bool global, uint16_t asid);
/*
 * Remember the leaf of a walk the core may have cached: a completed table
 * walk (success or permission fault) whose descriptor has AF = 1 in memory
 * afterwards. after_af_set says whether a CONSTRAINED UNPREDICTABLE AF
 * update was done (see ref_a64_walk_t.af_unpredictable).
 */
void ref_a64_tlb_record(ref_a64_tlb_t *t, const ref_a64_regs_t *r, int access,
                        const ref_a64_walk_t *w, bool af_set_anyway);
void ref_a64_tlb_flush_all(ref_a64_tlb_t *t);
/* vm_mmu_flush_tlb_asid: the non-global entries tagged asid (exact compare). */
void ref_a64_tlb_flush_asid(ref_a64_tlb_t *t, uint16_t asid);
/* vm_mmu_flush_tlb_page: the entries covering va (VA[55:0] sign-extended),
 * every ASID, global too. */
void ref_a64_tlb_flush_page(ref_a64_tlb_t *t, uint64_t va);
/* vm_mmu_flush_tlb_page_asid: the non-global entries tagged asid covering
 * va, and the global ones covering va when include_global. */
void ref_a64_tlb_flush_page_asid(ref_a64_tlb_t *t, uint64_t va, uint16_t asid, bool include_global);
/* vm_mmu_flush_tlb_nonglobal: every non-global entry. */
void ref_a64_tlb_flush_nonglobal(ref_a64_tlb_t *t);
/* TLBI op with operand xt under the current TCR.AS (ASID xt<63:48>, 8 bits
 * xt<55:48> when TCR.AS = 0; VA[55:12] = xt<43:0>). Unknown op: nothing. */
void ref_a64_tlb_tlbi(ref_a64_tlb_t *t, const ref_a64_regs_t *r, int op, uint64_t xt);
/* vmmem's register-write rule (arm64.h): a change of SCTLR.M, any TCR bit
 * or pa_bits drops everything; nothing else drops anything. */
void ref_a64_tlb_write_regs(ref_a64_tlb_t *t, const ref_a64_regs_t *before,
                            const ref_a64_regs_t *after);
/* Could a remembered entry answer this access at all (so the core may not
 * have walked)? */
bool ref_a64_tlb_covers(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va, int access);
/*
 * Is `got` a legal answer for this access now? fresh is the reference walk
 * just done (apply == false). Legal: the fresh answer, or what a remembered
 * entry gives re-checked under the current EL/PAN/WXN (an entry that would
 * need an AF or dirty-state update cannot answer).
 */
bool ref_a64_tlb_legal(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va, int access,
                       const ref_a64_walk_t *fresh, const ref_a64_answer_t *got);
/* Only the remembered entries (a TLB hit must be justified by one). */
bool ref_a64_tlb_hit_legal(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va,
                           int access, const ref_a64_answer_t *got);
/* Print the remembered entries covering va (for reports). */
void ref_a64_tlb_print_covering(const ref_a64_tlb_t *t, const ref_a64_regs_t *r, uint64_t va,
                                void *FILE_stream);

#endif /* VMMEM_REF_ARM64_H */
