/*
 * ref_x86_64.c - the reference x86-64 linear-address translation (4-level
 * and 5-level paging), written from the Intel SDM Vol. 3A chapter 4.
 *
 * How it works: ref_x86_translate() follows the chapter's own order and
 * names, one function per section:
 *   - canonical check (4.5: a 4-level linear address is 48 bits, 57 with
 *     5-level paging; 3.3.7.1: bits 63 down to that width must be copies of
 *     its top bit) -> #GP, before any paging-structure entry is read;
 *   - CR0.PG = 0: no paging, the linear address is the physical address;
 *   - 4.5.4 / 4.5.5 translation: CR3 locates the PML5 table (CR4.LA57) or
 *     the PML4 table; each level selects an 8-byte entry with 9 linear-
 *     address bits (PML5: 56:48, PML4: 47:39, PDPT: 38:30, PD: 29:21,
 *     PT: 20:12); P = 0 stops the walk (#PF, P = 0 in the error code); a
 *     reserved bit set stops it (#PF, P = 1 and RSVD = 1); PS = 1 in a
 *     PDPTE maps a 1-GByte page, in a PDE a 2-MByte page; a PTE maps a
 *     4-KByte page. The reserved bits of each entry type are those of the
 *     SDM's format tables ("Format of a PML5 Entry", "... PML4 Entry ...",
 *     "... PDPTE that Maps a 1-GByte Page", "... that References a Page
 *     Directory", "... Page-Directory Entry that Maps a 2-MByte Page", "...
 *     that References a Page Table", "... Page-Table Entry that Maps a
 *     4-KByte Page"): bits 51:MAXPHYADDR of every entry, XD (bit 63) when
 *     IA32_EFER.NXE = 0 (4.5.x "If IA32_EFER.NXE = 0 and the P flag ... is
 *     1, the XD flag (bit 63) is reserved"), PS (bit 7) of a PML5E/PML4E,
 *     bits 29:13 of a 1-GByte PDPTE, bits 20:13 of a 2-MByte PDE. Every
 *     other bit the tables call "Ignored" is ignored here: 62:52 and 11:8
 *     (and 6) of entries that reference a table, 58:52 and 11:9 of entries
 *     that map a page, and 62:59 of those (the protection key, used only
 *     with CR4.PKE = 1, and never reserved);
 *   - 4.6 access rights on the rights combined over every entry used (R/W
 *     and U/S ANDed, XD ORed), under the current CPL, CR0.WP, CR4.SMEP,
 *     CR4.SMAP with RFLAGS.AC, EFER.NXE, and 4.6.2 protection keys (CR4.PKE,
 *     PKRU AD/WD) for data accesses to user-mode addresses -> #PF at the
 *     level of the entry that maps the page;
 *   - 4.8 on success: A set in every entry used, D in the entry that maps
 *     the page on a write (the model's RAM is written when `apply`).
 * Entries are assembled from eight byte reads of the model RAM
 * (little-endian), nothing is cached, and nothing is shared with core/.
 *
 * vmmem's choices where the SDM leaves room (vmmem/x86_64.h), followed here:
 *  - a paging-structure entry not wholly in RAM (unbacked, or MMIO) is an
 *    access fault (vector 18) at its level: the SDM defines no fault for it;
 *  - no A/D write on an access that faults (the SDM lets a processor set A
 *    in entries it used on the way to a fault but does not require it);
 *  - 1-GByte pages are always available (CPUID.80000001H:EDX.Page1GB = 1);
 *    CR4.PSE is ignored (4-level paging uses PS whatever CR4.PSE says);
 *  - every access is explicit (no implicit supervisor accesses), so SMAP's
 *    RFLAGS.AC exception always applies; no PKS, no CET, no HLAT (bit 11
 *    is an ignored bit); PWT/PCD/PAT take no part in translation;
 *  - CR0.PG = 0 is the identity with no canonical check (there is no
 *    linear-address width without paging in vmmem's model).
 *
 * The page-fault error code (4.7): P = 0 iff an entry with P = 0 stopped the
 * walk; W/R for a write; U/S for CPL 3; RSVD for a reserved bit; I/D for a
 * fetch when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1); PK when the
 * access was a data access to a user-mode address whose key PKRU denies it
 * (AD, or WD for a write at CPL 3 or with CR0.WP = 1). The PK conditions
 * need "a user-mode address with protection key i", which exists only once
 * the walk found the entry that maps the page, so a P = 0 or RSVD fault
 * has PK = 0; an access-rights fault sets PK whenever the conditions hold,
 * whichever check refused the access (the SDM states the bit's conditions,
 * not a cause).
 *
 * Rejected: a table-driven walker (the point is that a reader can put it
 * next to the SDM and tick off the steps); sharing entry-decoding helpers
 * with the core (a misreading would then be shared too).
 */
#include "ref_x86_64.h"

#include <stdio.h>

static bool bit(uint64_t v, unsigned n) { return (v >> n) & 1; }

/* Bits hi:lo of v (hi < 64). */
static uint64_t bits(uint64_t v, unsigned hi, unsigned lo)
{
    uint64_t width = hi - lo + 1;
    return width >= 64 ? v : (v >> lo) & ((UINT64_C(1) << width) - 1);
}

/* ---- Paging-structure entry fields (the format tables of 4.5) ---------- */
static bool e_p(uint64_t e) { return bit(e, 0); }
static bool e_rw(uint64_t e) { return bit(e, 1); }
static bool e_us(uint64_t e) { return bit(e, 2); }
static bool e_a(uint64_t e) { return bit(e, 5); }
static bool e_d(uint64_t e) { return bit(e, 6); }
static bool e_ps(uint64_t e) { return bit(e, 7); }
static bool e_g(uint64_t e) { return bit(e, 8); }
static bool e_xd(uint64_t e) { return bit(e, 63); }
static unsigned e_pkey(uint64_t e) { return (unsigned)bits(e, 62, 59); }
#define E_A (UINT64_C(1) << 5)
#define E_D (UINT64_C(1) << 6)

/* ---- Registers ------------------------------------------------------------- */

int ref_x86_maxphyaddr(const ref_x86_regs_t *r)
{
    return r->maxphyaddr ? r->maxphyaddr : 52;
}

bool ref_x86_paging(const ref_x86_regs_t *r)
{
    return bit(r->cr0, REF_X86_CR0_PG);
}

int ref_x86_levels(const ref_x86_regs_t *r)
{
    return bit(r->cr4, REF_X86_CR4_LA57) ? 5 : 4;
}

uint16_t ref_x86_current_pcid(const ref_x86_regs_t *r)
{
    /* 4.10.1: "If CR4.PCIDE = 0, the current PCID is always 000H;
     * otherwise, the current PCID is the value of bits 11:0 of CR3." */
    return bit(r->cr4, REF_X86_CR4_PCIDE) ? (uint16_t)bits(r->cr3, 11, 0) : 0;
}

bool ref_x86_canonical(const ref_x86_regs_t *r, uint64_t va)
{
    /* 4-level paging: linear addresses are 48 bits, bits 63:47 equal;
     * 5-level paging: 57 bits, bits 63:56 equal. */
    unsigned top = ref_x86_levels(r) == 5 ? 56 : 47;
    uint64_t upper = va >> top;                 /* bits 63:top */
    uint64_t ones = (UINT64_C(1) << (64 - top)) - 1;
    return upper == 0 || upper == ones;
}

int ref_x86_regs_check(const ref_x86_regs_t *prev, const ref_x86_regs_t *next, bool cr3_bit63)
{
    int verdict = REF_X86_REGS_OK;
    int m = next->maxphyaddr ? next->maxphyaddr : 52;
    bool pg = bit(next->cr0, REF_X86_CR0_PG);
    bool lma = bit(next->efer, REF_X86_EFER_LME) && pg;        /* EFER.LMA as computed */

    if (next->cpl < 0 || next->cpl > 3)
        verdict |= REF_X86_REGS_INVALID;
    if (next->maxphyaddr != 0 && (next->maxphyaddr < 36 || next->maxphyaddr > 52))
        verdict |= REF_X86_REGS_INVALID;
    else if (m < 63 && bits(next->cr3, 62, (unsigned)m) != 0)
        verdict |= REF_X86_REGS_INVALID;        /* CR3 bits 62:MAXPHYADDR */
    if (cr3_bit63 && !bit(next->cr4, REF_X86_CR4_PCIDE))
        verdict |= REF_X86_REGS_INVALID;        /* bit 63 reserved without PCIDE */
    if (pg && !bit(next->cr0, REF_X86_CR0_PE))
        verdict |= REF_X86_REGS_INVALID;        /* PG without PE */
    if (bit(next->cr4, REF_X86_CR4_PCIDE) && !lma)
        verdict |= REF_X86_REGS_INVALID;        /* PCIDE outside long mode */
    if (bit(next->cr4, REF_X86_CR4_PCIDE) && !bit(prev->cr4, REF_X86_CR4_PCIDE) && bits(next->cr3, 11, 0) != 0)
        verdict |= REF_X86_REGS_INVALID;        /* PCIDE 0 -> 1 with CR3[11:0] != 0 */
    if (pg && !(bit(next->cr4, REF_X86_CR4_PAE) && bit(next->efer, REF_X86_EFER_LME)))
        verdict |= REF_X86_REGS_UNSUPPORTED;    /* 32-bit or PAE paging */
    return verdict;
}

void ref_x86_regs_normalise(ref_x86_regs_t *r)
{
    r->efer &= ~(UINT64_C(1) << REF_X86_EFER_LMA);
    if (bit(r->efer, REF_X86_EFER_LME) && bit(r->cr0, REF_X86_CR0_PG))
        r->efer |= UINT64_C(1) << REF_X86_EFER_LMA;
    r->cr3 &= ~(UINT64_C(1) << 63);
    if (r->maxphyaddr == 52)
        r->maxphyaddr = 0;
}

/* ---- Outcomes -------------------------------------------------------------- */

const char *ref_x86_outcome_name(int outcome)
{
    switch (outcome) {
    case REF_X86_OK: return "ok";
    case REF_X86_PAGE_FAULT: return "page-fault";
    case REF_X86_GP_FAULT: return "general-protection";
    case REF_X86_ACCESS_FAULT: return "access-fault";
    case REF_X86_MISALIGNED: return "misaligned";
    default: return "?";
    }
}

uint32_t ref_x86_vector(int outcome)
{
    /* SDM Vol. 3A Table 6-1: #GP 13, #PF 14, #AC 17, #MC 18 (vmmem's
     * vector for an access with nothing behind it). */
    switch (outcome) {
    case REF_X86_PAGE_FAULT: return 14;
    case REF_X86_GP_FAULT: return 13;
    case REF_X86_ACCESS_FAULT: return 18;
    case REF_X86_MISALIGNED: return 17;
    default: return 0;
    }
}

void ref_x86_pfec_format(uint32_t pfec, char *buf, unsigned long len)
{
    snprintf(buf, len, "0x%x (%s%s%s%s%s%s)", pfec, pfec & REF_X86_PFEC_P ? "P" : "not-present",
             pfec & REF_X86_PFEC_W ? "|W" : "|R", pfec & REF_X86_PFEC_U ? "|U" : "|S",
             pfec & REF_X86_PFEC_RSVD ? "|RSVD" : "", pfec & REF_X86_PFEC_I ? "|I" : "",
             pfec & REF_X86_PFEC_PK ? "|PK" : "");
}

/* ---- 4.6 access rights, 4.7 error code ------------------------------------ */

uint32_t ref_x86_access_pfec(const ref_x86_regs_t *r, int access)
{
    uint32_t pfec = 0;
    /* "W/R flag (bit 1). If the access causing the page-fault exception
     * was a write, this flag is 1; otherwise, it is 0." */
    if (access == REF_WRITE)
        pfec |= REF_X86_PFEC_W;
    /* "U/S flag (bit 2). If a user-mode access caused the page-fault
     * exception, this flag is 1" (4.6: user mode is CPL = 3). */
    if (r->cpl == 3)
        pfec |= REF_X86_PFEC_U;
    /* "I/D flag (bit 4). This flag is 1 if (1) the access causing the
     * page-fault exception was an instruction fetch; and (2) either (a)
     * CR4.SMEP = 1; or (b) both (i) CR4.PAE = 1 ... and (ii) IA32_EFER.NXE
     * = 1." */
    if (access == REF_EXEC && (bit(r->cr4, REF_X86_CR4_SMEP) || (bit(r->cr4, REF_X86_CR4_PAE) && bit(r->efer, REF_X86_EFER_NXE))))
        pfec |= REF_X86_PFEC_I;
    return pfec;
}

/*
 * 4.7 PK flag: "(1) IA32_EFER.LMA = CR4.PKE = 1; (2) the access ... was a
 * data access; (3) the linear address was a user-mode address with
 * protection key i; and ... the PKRU register is such that either (a) ADi
 * = 1; or (b) ... (i) WDi = 1; (ii) the access is a write access; and
 * (iii) either CR0.WP = 1 or the access ... was a user-mode access."
 */
static bool pkru_denies(const ref_x86_regs_t *r, const ref_x86_rights_t *rights, int access)
{
    if (!bit(r->efer, REF_X86_EFER_LMA) || !bit(r->cr4, REF_X86_CR4_PKE) || access == REF_EXEC || !rights->us)
        return false;
    bool ad = (r->pkru >> (2 * rights->pkey)) & 1;
    bool wd = (r->pkru >> (2 * rights->pkey + 1)) & 1;
    if (ad)
        return true;
    return wd && access == REF_WRITE && (bit(r->cr0, REF_X86_CR0_WP) || r->cpl == 3);
}

uint32_t ref_x86_check_rights(const ref_x86_regs_t *r, const ref_x86_rights_t *rights,
                              int access, const char **why)
{
    const char *reason = NULL;
    bool user_access = r->cpl == 3;             /* 4.6: CPL < 3 is supervisor mode */
    bool user_address = rights->us;             /* U/S = 1 in every entry used */
    bool nxe = bit(r->efer, REF_X86_EFER_NXE);
    bool wp = bit(r->cr0, REF_X86_CR0_WP);
    bool smep = bit(r->cr4, REF_X86_CR4_SMEP), smap = bit(r->cr4, REF_X86_CR4_SMAP), ac = bit(r->rflags, REF_X86_RFLAGS_AC);

    if (access == REF_EXEC) {
        /* 4.6.1 "Instruction fetches": user mode fetches only from
         * user-mode addresses; supervisor mode from user-mode addresses
         * only with SMEP = 0; with NXE = 1 only where XD = 0 in every entry. */
        if (user_access && !user_address)
            reason = "4.6.1: user-mode fetch from a supervisor-mode address (U/S = 0 in some entry)";
        else if (!user_access && user_address && smep)
            reason = "4.6.1: supervisor-mode fetch from a user-mode address with CR4.SMEP = 1";
        else if (nxe && rights->xd)
            reason = "4.6.1: fetch with IA32_EFER.NXE = 1 and XD = 1 in some entry";
    } else if (user_access) {
        /* 4.6.1 "Data reads/writes" from user mode: user-mode addresses
         * only; writes need R/W = 1 in every entry (CR0.WP irrelevant). */
        if (!user_address)
            reason = "4.6.1: user-mode data access to a supervisor-mode address (U/S = 0 in some entry)";
        else if (access == REF_WRITE && !rights->rw)
            reason = "4.6.1: user-mode write with R/W = 0 in some entry";
    } else {
        /* Supervisor-mode data accesses: to a user-mode address only with
         * SMAP = 0, or an explicit access with RFLAGS.AC = 1; writes with
         * CR0.WP = 1 need R/W = 1 in every entry, with WP = 0 any address
         * the access may touch is writable. */
        if (user_address && smap && !ac)
            reason = "4.6.1: supervisor-mode data access to a user-mode address with CR4.SMAP = 1 and RFLAGS.AC = 0";
        else if (access == REF_WRITE && wp && !rights->rw)
            reason = "4.6.1: supervisor-mode write with CR0.WP = 1 and R/W = 0 in some entry";
    }
    bool pk = pkru_denies(r, rights, access);
    if (!reason && pk)
        reason = "4.6.2: the protection key's PKRU AD bit, or WD bit for this write, denies the data access";
    if (why)
        *why = reason;
    if (!reason)
        return 0;
    return REF_X86_PFEC_P | ref_x86_access_pfec(r, access) | (pk ? REF_X86_PFEC_PK : 0);
}

/* ---- 4.5 the walk -------------------------------------------------------------- */

static const char *const level_names[6] = { "?", "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

/* Read the 8-byte entry at pa from RAM, byte by byte, little-endian. */
static bool read_entry(const ref_mem_t *m, uint64_t pa, uint64_t *entry)
{
    if (!ref_mem_in_ram(m, pa, 8))
        return false;
    uint64_t v = 0;
    for (unsigned k = 0; k < 8; k++)
        v |= (uint64_t)m->ram[pa - m->base + k] << (8 * k);
    *entry = v;
    return true;
}

static void write_entry(ref_mem_t *m, uint64_t pa, uint64_t v)
{
    for (unsigned k = 0; k < 8; k++)
        m->ram[pa - m->base + k] = (uint8_t)(v >> (8 * k));
}

/* Does this entry map a page (PS = 1 in a PDPTE or PDE; every PTE)? Only
 * asked of an entry with no reserved bit set (PS is reserved above level 3). */
static bool maps_page(uint64_t e, int level)
{
    return level == 1 || ((level == 2 || level == 3) && e_ps(e));
}

/*
 * The reserved bits of a present entry at `level` (the format tables of
 * 4.5): NULL if none is set, else which.
 */
static const char *reserved_bits(const ref_x86_regs_t *r, uint64_t e, int level)
{
    int m = ref_x86_maxphyaddr(r);
    if (m < 52 && bits(e, 51, (unsigned)m) != 0)
        return "4.5: reserved bits 51:MAXPHYADDR set";
    if (!bit(r->efer, REF_X86_EFER_NXE) && e_xd(e))
        return "4.5: XD (bit 63) set with IA32_EFER.NXE = 0 (reserved)";
    if ((level == 5 || level == 4) && e_ps(e))
        return level == 5 ? "4.5: PS (bit 7) set in a PML5E (reserved)"
                          : "4.5: PS (bit 7) set in a PML4E (reserved)";
    if (level == 3 && e_ps(e) && bits(e, 29, 13) != 0)
        return "4.5: bits 29:13 set in a PDPTE that maps a 1-GByte page (reserved)";
    if (level == 2 && e_ps(e) && bits(e, 20, 13) != 0)
        return "4.5: bits 20:13 set in a PDE that maps a 2-MByte page (reserved)";
    return NULL;
}

/* Bits M-1:lo of an entry or CR3: the physical address it holds. */
static uint64_t address_field(const ref_x86_regs_t *r, uint64_t v, unsigned lo)
{
    unsigned m = (unsigned)ref_x86_maxphyaddr(r);
    return bits(v, m - 1, lo) << lo;
}

static void stop(ref_x86_walk_t *out, int outcome, uint32_t pfec, const char *why)
{
    out->outcome = outcome;
    out->pa = 0;
    out->pfec = pfec;
    out->why = why;
}

void ref_x86_translate(ref_mem_t *m, const ref_x86_regs_t *r, uint64_t va, int access,
                       bool apply, ref_x86_walk_t *out)
{
    *out = (ref_x86_walk_t){ 0 };
    out->outcome = REF_X86_OK;
    out->level = -1;
    out->paging = ref_x86_paging(r);
    out->levels = ref_x86_levels(r);

    /* No paging: the linear address is the physical address. */
    if (!out->paging) {
        out->pa = va;
        return;
    }
    /* The linear address must be canonical (#GP, not #PF: checked before
     * any paging-structure entry is used). */
    if (!ref_x86_canonical(r, va)) {
        stop(out, REF_X86_GP_FAULT, 0,
             out->levels == 5 ? "3.3.7.1/4.5: non-canonical (bits 63:56 differ, 5-level paging)"
                              : "3.3.7.1/4.5: non-canonical (bits 63:47 differ, 4-level paging)");
        return;
    }

    /* 4.5.4/4.5.5: "the PML5 table (or PML4 table) is located at the
     * physical address in CR3 bits M-1:12". */
    uint64_t table = address_field(r, r->cr3, 12);
    ref_x86_rights_t rights = { true, true, false, 0 };
    uint64_t entry = 0;
    int level = out->levels;
    const uint32_t access_bits = ref_x86_access_pfec(r, access);

    for (;;) {
        /* The entry selected by linear-address bits (12 + 9*level - 1):(12 +
         * 9*(level-1)): PML5 56:48, PML4 47:39, PDPT 38:30, PD 29:21, PT 20:12. */
        unsigned lo = 12 + 9 * (unsigned)(level - 1);
        uint64_t entry_addr = table + bits(va, lo + 8, lo) * 8;
        ref_x86_step_t *st = &out->steps[out->n_steps++];
        st->level = level;
        st->table = table;
        st->entry_addr = entry_addr;
        out->level = level;
        out->entry_addr = entry_addr;
        out->entry = 0; /* mmu.h: the entry value is 0 when its read failed */
        if (!read_entry(m, entry_addr, &entry)) {
            stop(out, REF_X86_ACCESS_FAULT, 0,
                 "vmmem: paging-structure entry outside RAM (no SDM fault; access fault)");
            return;
        }
        st->entry = entry;
        st->read_ok = true;
        out->entry = entry;

        /* "If the P flag ... is 0 ... a page-fault exception" with P = 0
         * in the error code; reserved bits are not checked then. */
        if (!e_p(entry)) {
            stop(out, REF_X86_PAGE_FAULT, access_bits,
                 level == 5   ? "4.5: PML5E not present (P = 0)"
                 : level == 4 ? "4.5: PML4E not present (P = 0)"
                 : level == 3 ? "4.5: PDPTE not present (P = 0)"
                 : level == 2 ? "4.5: PDE not present (P = 0)"
                              : "4.5: PTE not present (P = 0)");
            return;
        }
        const char *rsvd = reserved_bits(r, entry, level);
        if (rsvd) {
            /* 4.7 RSVD: "no translation ... because a reserved bit was set
             * in one of the paging-structure entries" (P is 1 then). */
            stop(out, REF_X86_PAGE_FAULT, REF_X86_PFEC_P | REF_X86_PFEC_RSVD | access_bits, rsvd);
            return;
        }

        /* 4.6: rights are combined over every entry used. */
        rights.rw = rights.rw && e_rw(entry);
        rights.us = rights.us && e_us(entry);
        rights.xd = rights.xd || e_xd(entry);

        if (maps_page(entry, level))
            break;
        /* An entry that references the next paging structure: its address
         * is bits M-1:12. */
        table = address_field(r, entry, 12);
        level--;
    }

    /* The entry that maps the page: 4 KByte (PTE), 2 MByte (PDE, PS = 1),
     * 1 GByte (PDPTE, PS = 1); its protection key is bits 62:59. */
    out->translated = true;
    out->page_shift = level == 1 ? 12 : level == 2 ? 21 : 30;
    out->page_base = address_field(r, entry, (unsigned)out->page_shift);
    rights.pkey = e_pkey(entry);
    out->rights = rights;
    out->g = e_g(entry);
    out->dirty = e_d(entry);

    const char *why = NULL;
    uint32_t denied = ref_x86_check_rights(r, &rights, access, &why);
    if (denied) {
        stop(out, REF_X86_PAGE_FAULT, denied, why);
        return;
    }

    /* 4.8: "Whenever the processor uses a paging-structure entry as part
     * of linear-address translation, it sets the accessed flag in that
     * entry"; "Whenever there is a write to a linear address, the
     * processor sets the dirty flag ... in the paging-structure entry that
     * identifies the final physical address". An entry used at two levels
     * (a self-referencing table) gets the union of both updates. */
    for (int k = 0; k < out->n_steps; k++) {
        const ref_x86_step_t *st = &out->steps[k];
        uint64_t want = E_A | (k == out->n_steps - 1 && access == REF_WRITE ? E_D : 0);
        int slot = -1;
        for (int j = 0; j < out->n_ad; j++)
            if (out->ad[j].addr == st->entry_addr)
                slot = j;
        if (slot < 0) {
            if ((st->entry & want) == want)
                continue;
            slot = out->n_ad++;
            out->ad[slot].addr = st->entry_addr;
            out->ad[slot].old = st->entry;
            out->ad[slot].updated = st->entry;
        }
        out->ad[slot].updated |= want;
    }
    if (apply)
        for (int j = 0; j < out->n_ad; j++)
            write_entry(m, out->ad[j].addr, out->ad[j].updated);

    out->outcome = REF_X86_OK;
    out->pa = out->page_base | bits(va, (unsigned)out->page_shift - 1, 0);
}

/* ---- The report ------------------------------------------------------------------ */

static const char *access_name(int access)
{
    return access == REF_READ ? "read" : access == REF_WRITE ? "write" : access == REF_EXEC ? "exec" : "?";
}

void ref_x86_walk_print(const ref_x86_walk_t *w, const ref_x86_regs_t *r, uint64_t va,
                        int access, void *FILE_stream)
{
    FILE *f = FILE_stream ? (FILE *)FILE_stream : stderr;
    fprintf(f, "  x86 walk: %s va=0x%llx cpl=%d cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx "
               "rflags=0x%llx pkru=0x%x maxphyaddr=%d (%s, pcid %u)\n",
            access_name(access), (unsigned long long)va, r->cpl, (unsigned long long)r->cr0,
            (unsigned long long)r->cr3, (unsigned long long)r->cr4, (unsigned long long)r->efer,
            (unsigned long long)r->rflags, r->pkru, ref_x86_maxphyaddr(r),
            !w->paging ? "paging off" : w->levels == 5 ? "5-level" : "4-level",
            ref_x86_current_pcid(r));
    for (int k = 0; k < w->n_steps; k++) {
        const ref_x86_step_t *st = &w->steps[k];
        uint64_t e = st->entry;
        fprintf(f, "    %-5s table=0x%llx entry@0x%llx=", level_names[st->level],
                (unsigned long long)st->table, (unsigned long long)st->entry_addr);
        if (!st->read_ok) {
            fprintf(f, "(not in RAM)\n");
            continue;
        }
        fprintf(f, "0x%016llx [%s %s %s %s %s %s %s %s] addr=0x%llx pkey=%u\n", (unsigned long long)e,
                e_p(e) ? "P" : "-", e_rw(e) ? "RW" : "RO", e_us(e) ? "U" : "S", e_a(e) ? "A" : "-",
                e_d(e) ? "D" : "-", e_ps(e) ? "PS" : "--", e_g(e) ? "G" : "-", e_xd(e) ? "XD" : "--",
                (unsigned long long)address_field(r, e, 12), e_pkey(e));
    }
    if (w->translated)
        fprintf(f, "    combined: %s %s %s pkey=%u page=%s base=0x%llx G=%d D=%d\n",
                w->rights.rw ? "RW" : "RO", w->rights.us ? "user" : "supervisor",
                w->rights.xd ? "XD" : "X", w->rights.pkey,
                w->page_shift == 30 ? "1G" : w->page_shift == 21 ? "2M" : "4K",
                (unsigned long long)w->page_base, w->g, w->dirty);
    if (w->outcome == REF_X86_OK) {
        fprintf(f, "    -> ok pa=0x%llx", (unsigned long long)w->pa);
        for (int j = 0; j < w->n_ad; j++)
            fprintf(f, " [entry@0x%llx := 0x%016llx]", (unsigned long long)w->ad[j].addr,
                    (unsigned long long)w->ad[j].updated);
        fprintf(f, "\n");
    } else if (w->outcome == REF_X86_PAGE_FAULT) {
        char pf[64];
        ref_x86_pfec_format(w->pfec, pf, sizeof pf);
        fprintf(f, "    -> page-fault error code %s level %d: %s\n", pf, w->level,
                w->why ? w->why : "");
    } else {
        fprintf(f, "    -> %s level %d: %s\n", ref_x86_outcome_name(w->outcome), w->level,
                w->why ? w->why : "");
    }
}
