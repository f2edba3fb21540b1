/*
 * ref_x86_64.h - the reference x86-64 4-level / 5-level paging walker and
 * its staleness-aware TLB oracle (ref_x86_64.c, ref_tlb_x86_64.c).
 *
 * Written from the Intel SDM Vol. 3A chapter 4 "Paging" in its own terms:
 * 4.5 (4-level and 5-level paging, the entry formats of Tables 4-14 to
 * 4-20), 4.6 (access rights, protection keys), 4.7 (page-fault exceptions
 * and the error code), 4.8 (accessed and dirty flags), 4.10 (TLBs: PCIDs,
 * global pages, what a TLB entry holds, the operations that invalidate).
 * Like the rest of conformance/ref/ it shares nothing with core/: it
 * includes ref_model.h (ref_mem_t, the access kinds) and the C library; the
 * register and entry bit positions are written out again from the manual.
 *
 * Where the SDM leaves vmmem a choice, the model follows vmmem's contract
 * (vmmem/x86_64.h), each choice named in ref_x86_64.c's design comment.
 */
#ifndef VMMEM_REF_X86_64_H
#define VMMEM_REF_X86_64_H

#include "ref_model.h"

#include <stdbool.h>
#include <stdint.h>

/* ---- The registers paging depends on ---------------------------------- */
typedef struct ref_x86_regs {
    uint64_t cr0;     /* PE 0, WP 16, PG 31 */
    uint64_t cr3;     /* table base M-1:12, PCID 11:0 with CR4.PCIDE (bit 63 never stored) */
    uint64_t cr4;     /* PAE 5, PGE 7, LA57 12, PCIDE 17, SMEP 20, SMAP 21, PKE 22 */
    uint64_t efer;    /* LME 8, LMA 10 (= LME and CR0.PG), NXE 11 */
    uint64_t rflags;  /* AC 18 */
    uint32_t pkru;    /* ADk = bit 2k, WDk = bit 2k+1 */
    int cpl;          /* 0..3; 3 is user mode */
    int maxphyaddr;   /* 36..52; 0 means 52 */
} ref_x86_regs_t;

/* Bit numbers of the register fields the model reads (SDM Vol. 3A 2.5
 * "Control Registers", 2.2.1 "Extended Feature Enable Register", Vol. 1 3.4.3
 * "EFLAGS"). */
enum ref_x86_reg_bit {
    REF_X86_CR0_PE = 0,
    REF_X86_CR0_WP = 16,
    REF_X86_CR0_PG = 31,
    REF_X86_CR4_PAE = 5,
    REF_X86_CR4_PGE = 7,
    REF_X86_CR4_LA57 = 12,
    REF_X86_CR4_PCIDE = 17,
    REF_X86_CR4_SMEP = 20,
    REF_X86_CR4_SMAP = 21,
    REF_X86_CR4_PKE = 22,
    REF_X86_EFER_LME = 8,
    REF_X86_EFER_LMA = 10,
    REF_X86_EFER_NXE = 11,
    REF_X86_RFLAGS_AC = 18,
};

/* MAXPHYADDR in force (52 when the field is 0). */
int ref_x86_maxphyaddr(const ref_x86_regs_t *r);
/* CR0.PG: paging on (then, by vmmem's contract, 4- or 5-level paging). */
bool ref_x86_paging(const ref_x86_regs_t *r);
/* 4, or 5 with CR4.LA57. */
int ref_x86_levels(const ref_x86_regs_t *r);
/* SDM 4.10.1: CR3[11:0] when CR4.PCIDE = 1, else 000H. */
uint16_t ref_x86_current_pcid(const ref_x86_regs_t *r);
/* Canonical for the paging depth in force: bits 63:47 (63:56 with LA57)
 * all equal (SDM 4.5: "the linear address must be canonical"). */
bool ref_x86_canonical(const ref_x86_regs_t *r, uint64_t va);

/*
 * vmmem's contract for a register write (vmmem/x86_64.h,
 * vm_mmu_set_x86_regs and vm_mmu_x86_load_cr3): 0 (accepted) or a mask of
 * the reasons the whole write is refused (nothing changes then; with both
 * reasons either error is a correct answer). `next` is the state asked for,
 * cr3_bit63 whether the CR3 operand has bit 63 (the no-flush bit) set;
 * `prev` the state before (CR4.PCIDE "turned on" is prev -> next).
 */
enum ref_x86_regs_verdict {
    REF_X86_REGS_OK = 0,
    REF_X86_REGS_INVALID = 1,     /* VM_ERR_INVALID_ARGUMENT (a #GP on hardware) */
    REF_X86_REGS_UNSUPPORTED = 2, /* VM_ERR_UNSUPPORTED: 32-bit or PAE paging */
};
int ref_x86_regs_check(const ref_x86_regs_t *prev, const ref_x86_regs_t *next, bool cr3_bit63);
/* The state as stored after an accepted write: EFER.LMA computed (LME and
 * CR0.PG), CR3 without bit 63. */
void ref_x86_regs_normalise(ref_x86_regs_t *r);

/* ---- Outcomes ------------------------------------------------------------ */
enum ref_x86_outcome {
    REF_X86_OK = 0,
    REF_X86_PAGE_FAULT,   /* #PF, vector 14 (SDM 4.7) */
    REF_X86_GP_FAULT,     /* #GP, vector 13: a non-canonical linear address */
    REF_X86_ACCESS_FAULT, /* vmmem's access fault, vector 18: a paging-structure entry
                             or the data with no RAM (or well-formed MMIO) behind it */
    REF_X86_MISALIGNED,   /* vmmem's strict alignment, vector 17 (#AC) */
    REF_X86_OUTCOME_COUNT
};
/* The .vmc spelling: ok, page-fault, general-protection, access-fault, misaligned. */
const char *ref_x86_outcome_name(int outcome);
/* The vector vmmem records in vm_fault_t.cause (13, 14, 17, 18; 0 for OK). */
uint32_t ref_x86_vector(int outcome);

/* Page-fault error code bits (SDM 4.7, Figure 4-12). */
#define REF_X86_PFEC_P 0x1u
#define REF_X86_PFEC_W 0x2u
#define REF_X86_PFEC_U 0x4u
#define REF_X86_PFEC_RSVD 0x8u
#define REF_X86_PFEC_I 0x10u
#define REF_X86_PFEC_PK 0x20u

/* The access rights of a translation (SDM 4.10.2.2: what a TLB entry holds). */
typedef struct ref_x86_rights {
    bool rw;        /* logical AND of R/W over every entry used */
    bool us;        /* logical AND of U/S: a user-mode address */
    bool xd;        /* logical OR of XD */
    unsigned pkey;  /* bits 62:59 of the entry that maps the page */
} ref_x86_rights_t;

/*
 * SDM 4.6 (4.6.1 access rights, 4.6.2 protection keys) for an access of
 * kind `access` (REF_READ / REF_WRITE / REF_EXEC) under the current CPL,
 * CR0.WP, CR4.SMEP/SMAP/PKE, EFER.NXE, RFLAGS.AC and PKRU: 0 if allowed,
 * else the page-fault error code of the violation (4.7: P = 1, W/R, U/S,
 * I/D, PK). *why names the rule (may be NULL). Shared by the walk and the
 * TLB oracle, which re-checks cached rights under the current registers.
 */
uint32_t ref_x86_check_rights(const ref_x86_regs_t *r, const ref_x86_rights_t *rights,
                              int access, const char **why);
/* SDM 4.7: the error-code bits that describe the access (W/R, U/S, I/D). */
uint32_t ref_x86_access_pfec(const ref_x86_regs_t *r, int access);

/* ---- One translation ------------------------------------------------------ */
#define REF_X86_MAX_LEVELS 5
typedef struct ref_x86_step {   /* one paging-structure entry read */
    int level;                  /* 5 PML5, 4 PML4, 3 PDPT, 2 PD, 1 PT */
    uint64_t table;             /* physical base of the paging structure */
    uint64_t entry_addr;
    uint64_t entry;             /* the value read (0 if the read failed) */
    bool read_ok;
} ref_x86_step_t;

typedef struct ref_x86_walk {
    int outcome;                /* REF_X86_OK, _PAGE_FAULT, _GP_FAULT, _ACCESS_FAULT */
    uint64_t pa;                /* when OK */
    uint32_t pfec;              /* page-fault error code (PAGE_FAULT) */
    int level;                  /* where the walk stopped, or the level of the entry
                                   that maps the page; -1 when no entry was read */
    uint64_t entry_addr, entry; /* the entry at `level` (as read) */
    const char *why;            /* which SDM rule decided a fault */

    bool paging;                /* CR0.PG */
    int levels;                 /* 4 or 5 */
    int n_steps;
    ref_x86_step_t steps[REF_X86_MAX_LEVELS];

    /* The translation (a leaf found with P = 1 and no reserved bit set in
     * any entry: 4.10.2.3 "there can be a TLB entry ... only if"). */
    bool translated;
    int page_shift;             /* 12, 21 or 30 */
    uint64_t page_base;         /* physical address of the page */
    ref_x86_rights_t rights;
    bool g;                     /* G in the entry that maps the page */
    bool dirty;                 /* D of that entry as read */

    /* SDM 4.8 on success: A in every entry used, D in the leaf on a write. */
    int n_ad;
    struct { uint64_t addr, old, updated; } ad[REF_X86_MAX_LEVELS];
} ref_x86_walk_t;

/*
 * Translate va for one access: canonical check (#GP), then with CR0.PG the
 * walk from CR3 through PML5 (LA57) / PML4 / PDPT / PD / PT, entries read
 * byte by byte from m (an entry outside RAM is an access fault at that
 * level), P and reserved bits per entry type, access rights combined over
 * the walk, and on success the A/D updates, written into m when `apply`.
 * With CR0.PG = 0 the answer is the identity. The final PA is not checked
 * for RAM (the caller's PMA check of the data access).
 */
void ref_x86_translate(ref_mem_t *m, const ref_x86_regs_t *r, uint64_t va, int access,
                       bool apply, ref_x86_walk_t *out);
/* The registers, then the walk level by level (entry decoded), then the answer. */
void ref_x86_walk_print(const ref_x86_walk_t *w, const ref_x86_regs_t *r, uint64_t va,
                        int access, void *FILE_stream);
/* The error code decoded, e.g. "P|W|U" (static buffer per call site: pass one). */
void ref_x86_pfec_format(uint32_t pfec, char *buf, unsigned long len);

/* ---- The TLB-aware acceptance rule (ref_tlb_x86_64.c) ---------------------- */
/* An observed answer. */
typedef struct ref_x86_answer {
    int outcome;
    uint64_t pa;                /* OK */
    uint32_t pfec;              /* PAGE_FAULT */
} ref_x86_answer_t;

/* >= the core's largest TLBs together (4096 + 4096), as REF_TLB_MAX. */
#define REF_X86_TLB_MAX 8192
typedef struct ref_x86_tlb_entry {
    bool exec_side;             /* ITLB (fetches) or DTLB (loads and stores) */
    uint64_t va;                /* the VA that filled it (full 64 bits) */
    int page_shift;             /* covers 2^page_shift bytes */
    int level;                  /* level of the entry that maps the page */
    int levels;                 /* paging depth at fill (reports) */
    uint16_t pcid;              /* the PCID current at fill (4.10.1) */
    bool global;                /* G in the mapping entry with CR4.PGE = 1 at fill */
    uint64_t page_base;
    ref_x86_rights_t rights;    /* combined over the walk */
    bool dirty;                 /* D after the fill's own update */
    uint64_t leaf_addr, leaf;   /* the mapping entry after the update (reports) */
} ref_x86_tlb_entry_t;

typedef struct ref_x86_tlb {
    ref_x86_tlb_entry_t e[REF_X86_TLB_MAX];
    int n;
} ref_x86_tlb_t;

void ref_x86_tlb_reset(ref_x86_tlb_t *t);
/*
 * Does t remember an entry of that side (ITLB when exec_side) mapping the
 * 2^shift-byte page at page_va to page_pa, that a cached entry may stand
 * for: a global entry (global) only for a global one, an entry tagged pcid
 * for a global one or one filled under that PCID?
 * (The white-box check of what the core's TLBs hold: every cached entry
 * must be one of these.)
 */
bool ref_x86_tlb_remembers(const ref_x86_tlb_t *t, bool exec_side, uint64_t page_va,
                           unsigned shift, uint64_t page_pa, bool global, uint16_t pcid);
/* Remember the translation of a successful walk the core may have cached. */
void ref_x86_tlb_record(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va, int access,
                        const ref_x86_walk_t *w);
/* vm_mmu_flush_tlb: everything. */
void ref_x86_tlb_flush_all(ref_x86_tlb_t *t);
/* vm_mmu_flush_tlb_asid(pcid), INVPCID type 1: the non-global entries of pcid. */
void ref_x86_tlb_flush_pcid(ref_x86_tlb_t *t, uint16_t pcid);
/* vm_mmu_flush_tlb_page: every entry covering va, any PCID, global too. */
void ref_x86_tlb_flush_page(ref_x86_tlb_t *t, uint64_t va);
/* vm_mmu_flush_tlb_page_asid: the entries of pcid covering va (non-global
 * ones; global ones of any PCID too when include_global). */
void ref_x86_tlb_flush_page_pcid(ref_x86_tlb_t *t, uint64_t va, uint16_t pcid,
                                 bool include_global);
/* vm_mmu_flush_tlb_nonglobal, INVPCID type 3: every non-global entry. */
void ref_x86_tlb_flush_nonglobal(ref_x86_tlb_t *t);
/* INVLPG (SDM 4.10.4.1): va's page in the current PCID, and global entries
 * for it whatever their PCID. */
void ref_x86_tlb_invlpg(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va);
/* vmmem's contract for vm_mmu_x86_invpcid: true iff the operands are accepted. */
bool ref_x86_invpcid_ok(const ref_x86_regs_t *r, int type, uint64_t pcid, uint64_t va);
/* INVPCID types 0-3 (SDM Vol. 2, INVPCID) with accepted operands. */
void ref_x86_tlb_invpcid(ref_x86_tlb_t *t, int type, uint16_t pcid, uint64_t va);
/*
 * An accepted register write prev -> next (both normalised), cr3_load
 * telling whether it is a MOV to CR3 (vm_mmu_x86_load_cr3, or a block
 * whose CR3 differs or has bit 63) and cr3_bit63 its no-flush bit: drop
 * exactly what SDM 4.10.4.1 says the writes invalidate (see the file).
 */
void ref_x86_tlb_write_regs(ref_x86_tlb_t *t, const ref_x86_regs_t *prev,
                            const ref_x86_regs_t *next, bool cr3_load, bool cr3_bit63);
/* SDM 4.10.4.1: a page fault for va invalidates the TLB entries for its page
 * associated with the current PCID. */
void ref_x86_tlb_page_fault(ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va);
/* Could a remembered entry answer this access at all (the core may not have walked)? */
bool ref_x86_tlb_covers(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                        int access);
/*
 * Is `got` a legal answer for this access now? fresh is the reference walk
 * just done (apply == false). Legal: the fresh answer; or, for a canonical
 * VA with paging on, what a remembered entry gives re-checked under the
 * current registers (an entry cannot answer a write while its D is 0).
 */
bool ref_x86_tlb_legal(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                       int access, const ref_x86_walk_t *fresh, const ref_x86_answer_t *got);
/* Only the remembered entries (a TLB hit must be justified by one). */
bool ref_x86_tlb_hit_legal(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                           int access, const ref_x86_answer_t *got);
/*
 * Every legal answer for this access now, the fresh one first (duplicates
 * removed): at most `max` are stored, the count of all is returned.
 */
int ref_x86_tlb_answers(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va, int access,
                        const ref_x86_walk_t *fresh, ref_x86_answer_t *out, int max);
/* Print the remembered entries covering va (reports). */
void ref_x86_tlb_print_covering(const ref_x86_tlb_t *t, const ref_x86_regs_t *r, uint64_t va,
                                void *FILE_stream);

#endif /* VMMEM_REF_X86_64_H */
