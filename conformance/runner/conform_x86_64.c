/*
 * conform_x86_64.c - vmmem-conform's x86-64 part: the `mode x86_64` and
 * `mode x86_64_la57` lines of .vmc cases, replayed on the core
 * (vm_mmu_set_x86_regs, vm_mmu_x86_load_cr3, vm_mmu_translate,
 * vm_mmu_read/write/fetch_insn, vm_mmu_x86_invlpg/invpcid, the generic
 * flushes) and on the reference (ref_x86_translate, ref_x86_tlb_*),
 * compared with each other and with the case's expectations.
 *
 * How it works: the part keeps the reference's copy of the x86 registers
 * and its TLB oracle for the whole file. A register line (`cr0 V`, `cr3 V`,
 * `cr4 V`, `efer V`, `cpl N`, `rflags V`, `pkru V`, `maxphyaddr N`) changes
 * that one register: `cr3 V` is a MOV to CR3 (vm_mmu_x86_load_cr3, a load
 * even of the current value; bit 63 is the no-flush bit), every other line
 * passes the current values of all the other registers to
 * vm_mmu_set_x86_regs (CR3 unchanged and without bit 63, so no CR3 load).
 * The reference predicts from x86_64.h's contract whether the write is
 * accepted (ref_x86_regs_check) and drops what SDM 4.10.4.1 says the write
 * invalidates (ref_x86_tlb_write_regs); there is no implicit flush. `expect
 * ACCESS VA -> ANSWER` translates on both (or, sized, performs the access)
 * and checks that the reference's fresh answer is listed, that the core's
 * is listed AND legal under the TLB oracle, and that the core's fault
 * record is right: kind, vector (cause), error code (syndrome), access, VA,
 * and, when the core must have walked, the level, entry address and entry
 * value where the walk stopped. A page fault then invalidates the page's
 * entries of the current PCID in the oracle (SDM 4.10.4.1), as it must in
 * the core. `check ACCESS VA` lines (questions for an oracle such as QEMU,
 * conformance/QEMU.md) are refused unless --answer-ref lets the reference
 * answer them. The format is documented in conformance/README.md ("x86-64").
 *
 * Walk or hit (conformance/README.md): the core's TLB counters, read
 * around each access (conform_counts.h), say which it did. A miss is a
 * walk: its answer must be the fresh walk's and it must leave exactly the
 * fresh walk's A/D update in memory; only then does the reference apply
 * that update and remember the translation. A hit must be justified by a
 * remembered entry alone and writes nothing. Rejected: deciding "walked"
 * by comparing the core's answer with the fresh one (what this part did
 * before): a hit on an entry cached with A (or AF, or D) set, after the
 * table was rewritten without it, gives the fresh PA, and the reference
 * would then set the flag where the core rightly did not (the end-of-file
 * RAM compare fails a correct core); and a hit on an entry that a flush
 * removed passed whenever its answer happened to be the fresh one.
 *
 * Choices: physical memory lines stay in the generic runner (same reference
 * memory); a register write or INVPCID the contract refuses must say so in
 * the case (`-> rejected`), else the file is malformed (exit 2), so a typo
 * in a register value cannot silently test nothing; the mode words also
 * write CR4.LA57 (0 for x86_64, 1 for x86_64_la57) so a case names its
 * depth once.
 *
 * Rejected: teaching the RISC-V paths of vmmem_conform.c about x86 (every
 * function there would need an `if (x86)`); reusing the Arm part's answer
 * type (x86 answers carry an error code, not an FSC).
 */
#include "conform_arch.h"
#include "conform_counts.h"
#include "mmu_int.h" /* white-box: the fields of the core's TLB entries (entry_remembered) */
#include "ref_model.h"
#include "vmmem/mmu.h"
#include "vmmem/x86_64.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers beyond the reference's outcomes. */
enum { X86_CORE_ERROR = REF_X86_OUTCOME_COUNT };
#define X86_MAX_ALTS 4
#define X86_MAX_LEGAL 16

typedef struct x86_state {
    bool active;           /* `mode x86_64[_la57]` is the current mode */
    ref_x86_regs_t regs;   /* the reference's registers (all zero at the start) */
    ref_x86_tlb_t tlb;
} x86_state_t;

/* One answer: listed in a case, or observed. */
typedef struct x86_ans {
    int outcome;           /* REF_X86_*, X86_CORE_ERROR */
    uint64_t pa;           /* OK */
    bool has_pfec, has_level, has_fva;
    uint32_t pfec;
    int level;
    uint64_t fva;
    vm_err_t err;          /* X86_CORE_ERROR */
} x86_ans_t;

typedef struct x86_expect {
    int access;
    unsigned size;         /* 0: the unsized translate form */
    uint64_t va;
    bool has_value;
    uint64_t value;
    x86_ans_t alts[X86_MAX_ALTS];
    int n_alts;
} x86_expect_t;

/* ---- diagnostics ---------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static int case_error(const conform_env_t *env, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", env->file, env->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CONFORM_ERROR;
}

__attribute__((format(printf, 2, 3)))
static void fail_line(const conform_env_t *env, const char *fmt, ...)
{
    va_list ap;
    printf("%s:%d: ", env->file, env->line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    (*env->failures)++;
}

/* ---- what the core's TLBs hold (white-box) ---------------------------------------- */

/* Is the core TLB entry e (ITLB if exec_side) one the reference remembers:
 * same side, page and size, physical page, and global only if the
 * remembered one is, else the same PCID? */
static bool entry_remembered(const void *state, const struct tlb_entry *e, bool exec_side)
{
    const x86_state_t *st = state;
    return ref_x86_tlb_remembers(&st->tlb, exec_side, e->tag, e->shift, e->pa_base,
                                 e->asid_mask == 0, e->asid);
}

/*
 * conform_arch_t.check_tlb, after every line in x86-64 mode: every entry in
 * the core's TLBs must be one the reference remembers. A flush that keeps
 * what it must drop (BUG-CLASSES 8, 9, 10; a CR3 write keeping another
 * PCID's entries, G honoured without CR4.PGE) fails at that line, not only
 * when a later line comes back to that PCID and page; an entry filled under
 * the wrong PCID or kept after a #PF fails at the access. So a fuzz finding
 * shrinks to a short case. The fuzz target runs the same check after its
 * non-translating ops (fuzz/x86_world.c).
 */
static void check_tlb_contents(void *state, const conform_env_t *env)
{
    const x86_state_t *st = state;
    if (st->active && vm_mmu_paging_mode(env->core) == VM_PAGING_X86_64)
        conform_check_core_tlbs(env, st, entry_remembered, "page", "pcid", "entry");
}

static void format_ans(char *buf, size_t len, const x86_ans_t *a)
{
    if (a->outcome == REF_X86_OK) {
        snprintf(buf, len, "0x%llx", (unsigned long long)a->pa);
        return;
    }
    if (a->outcome == X86_CORE_ERROR) {
        snprintf(buf, len, "error(%s)", vm_strerror(a->err));
        return;
    }
    int n = snprintf(buf, len, "%s", ref_x86_outcome_name(a->outcome));
    if (a->has_pfec && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " pfec 0x%x", a->pfec);
    if (a->has_level && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " level %d", a->level);
    if (a->has_fva && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " @ 0x%llx", (unsigned long long)a->fva);
}

static void format_alts(char *buf, size_t len, const x86_ans_t *alts, int n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < n && used < len; k++) {
        char one[128];
        format_ans(one, sizeof one, &alts[k]);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? " | " : "", one);
    }
}

/* An observed answer with everything filled in. */
static x86_ans_t observed(int outcome, uint64_t pa, uint32_t pfec, int level, uint64_t fva)
{
    x86_ans_t a = { 0 };
    a.outcome = outcome;
    if (outcome == REF_X86_OK) {
        a.pa = pa;
        return a;
    }
    a.has_pfec = true;
    a.pfec = outcome == REF_X86_PAGE_FAULT ? pfec : 0;
    a.has_level = true;
    a.level = level;
    a.has_fva = true;
    a.fva = fva;
    return a;
}

/* Does the observed answer `got` fit the listed `want`? */
static bool fits(const x86_ans_t *want, const x86_ans_t *got)
{
    if (want->outcome != got->outcome)
        return false;
    if (got->outcome == REF_X86_OK)
        return want->pa == got->pa;
    if (got->outcome == X86_CORE_ERROR)
        return false;
    if (want->has_pfec && got->pfec != want->pfec)
        return false;
    if (want->has_level && got->level != want->level)
        return false;
    if (want->has_fva && got->fva != want->fva)
        return false;
    return true;
}

static bool fits_any(const x86_expect_t *L, const x86_ans_t *got)
{
    for (int k = 0; k < L->n_alts; k++)
        if (fits(&L->alts[k], got))
            return true;
    return false;
}

/* ---- the core --------------------------------------------------------------- */

static vm_access_t vm_access_of(int access)
{
    return access == REF_WRITE ? VM_ACCESS_WRITE : access == REF_EXEC ? VM_ACCESS_EXEC : VM_ACCESS_READ;
}

/* The core's answer from its return code and fault record. */
static x86_ans_t core_answer(const conform_env_t *env, vm_err_t err, uint64_t pa)
{
    const vm_fault_t *f = vm_mmu_last_fault(env->core);
    switch (err) {
    case VM_OK: return observed(REF_X86_OK, pa, 0, 0, 0);
    case VM_ERR_PAGE_FAULT: return observed(REF_X86_PAGE_FAULT, 0, f->syndrome, f->level, f->va);
    case VM_ERR_GP_FAULT: return observed(REF_X86_GP_FAULT, 0, 0, f->level, f->va);
    case VM_ERR_ACCESS_FAULT: return observed(REF_X86_ACCESS_FAULT, 0, 0, f->level, f->va);
    case VM_ERR_ALIGNMENT_FAULT: return observed(REF_X86_MISALIGNED, 0, 0, f->level, f->va);
    default: break;
    }
    x86_ans_t a = { 0 };
    a.outcome = X86_CORE_ERROR;
    a.err = err;
    return a;
}

static vm_fault_kind_t vm_kind_of(int outcome)
{
    switch (outcome) {
    case REF_X86_PAGE_FAULT: return VM_FAULT_PAGE;
    case REF_X86_GP_FAULT: return VM_FAULT_GP;
    case REF_X86_ACCESS_FAULT: return VM_FAULT_ACCESS;
    case REF_X86_MISALIGNED: return VM_FAULT_MISALIGNED;
    default: return VM_FAULT_NONE;
    }
}

/*
 * The fault record f of a core fault (x86_64.h, mmu.h): kind, cause = the
 * vector, syndrome = the error code for #PF (0 otherwise), access, VA, and
 * level -1 for #GP (no table involved). NULL if it agrees.
 */
static const char *check_fault_record(const vm_fault_t *f, const x86_ans_t *got, int access,
                                      uint64_t want_fva, char *buf, size_t len)
{
    uint32_t want_syn = got->outcome == REF_X86_PAGE_FAULT ? got->pfec : 0;
    if (f->kind != vm_kind_of(got->outcome) || f->cause != ref_x86_vector(got->outcome) ||
        f->syndrome != want_syn) {
        snprintf(buf, len, "core fault record: kind %d cause %u syndrome 0x%x; want kind %d cause %u "
                           "syndrome 0x%x",
                 (int)f->kind, f->cause, f->syndrome, (int)vm_kind_of(got->outcome),
                 ref_x86_vector(got->outcome), want_syn);
        return buf;
    }
    if (f->va != want_fva || (int)f->access != (int)vm_access_of(access)) {
        snprintf(buf, len, "core fault record: va 0x%llx access %d; want va 0x%llx access %d",
                 (unsigned long long)f->va, (int)f->access, (unsigned long long)want_fva, access);
        return buf;
    }
    if (got->outcome == REF_X86_GP_FAULT && f->level != -1) {
        snprintf(buf, len, "core fault record of a #GP has level %d; want -1 (no table involved)",
                 f->level);
        return buf;
    }
    return NULL;
}

/*
 * After a fault the core found by walking (no remembered entry could
 * answer): the record names the level, entry address and entry value where
 * the walk stopped (x86_64.h). NULL if it agrees.
 */
static const char *check_fault_walk(const conform_env_t *env, const ref_x86_walk_t *fresh,
                                    char *buf, size_t len)
{
    const vm_fault_t *f = vm_mmu_last_fault(env->core);
    if (f->level != fresh->level ||
        (fresh->level >= 0 && (f->pte_addr != fresh->entry_addr || f->pte != fresh->entry))) {
        snprintf(buf, len, "core fault record stops at level %d entry@0x%llx=0x%llx; the walk stops "
                           "at level %d entry@0x%llx=0x%llx",
                 f->level, (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                 fresh->level, (unsigned long long)fresh->entry_addr,
                 (unsigned long long)fresh->entry);
        return buf;
    }
    return NULL;
}

/* ---- registers ----------------------------------------------------------------- */

static void to_vm_regs(const ref_x86_regs_t *r, vm_x86_regs_t *v)
{
    memset(v, 0, sizeof *v);
    v->cr0 = r->cr0;
    v->cr3 = r->cr3;
    v->cr4 = r->cr4;
    v->efer = r->efer;
    v->rflags = r->rflags;
    v->pkru = r->pkru;
    v->cpl = (uint8_t)r->cpl;
    v->maxphyaddr = (uint8_t)r->maxphyaddr;
}

/* The core's registers equal the reference's (normalised) ones? */
static bool regs_equal(const vm_x86_regs_t *v, const ref_x86_regs_t *r)
{
    int m = v->maxphyaddr ? v->maxphyaddr : 52;
    return v->cr0 == r->cr0 && v->cr3 == r->cr3 && v->cr4 == r->cr4 && v->efer == r->efer &&
           v->rflags == r->rflags && v->pkru == r->pkru && v->cpl == r->cpl &&
           m == ref_x86_maxphyaddr(r);
}

static void print_vm_regs(const char *what, const vm_x86_regs_t *v)
{
    printf("  %s: cr0=0x%llx cr3=0x%llx cr4=0x%llx efer=0x%llx rflags=0x%llx pkru=0x%x cpl=%u "
           "maxphyaddr=%u\n",
           what, (unsigned long long)v->cr0, (unsigned long long)v->cr3, (unsigned long long)v->cr4,
           (unsigned long long)v->efer, (unsigned long long)v->rflags, v->pkru, v->cpl,
           v->maxphyaddr);
}

static const char *const register_words[] = { "cr0", "cr3", "cr4", "efer", "cpl", "rflags", "pkru",
                                              "maxphyaddr" };

static bool is_register_word(const char *kw)
{
    for (size_t k = 0; k < sizeof register_words / sizeof register_words[0]; k++)
        if (!strcmp(kw, register_words[k]))
            return true;
    return false;
}

/*
 * Write one register, on the reference and the core. cr3_line: a MOV to CR3
 * (vm_mmu_x86_load_cr3) with operand v; otherwise vm_mmu_set_x86_regs with
 * `next`. want_reject: the case says the write must be refused.
 */
static int write_register(x86_state_t *st, const conform_env_t *env, const ref_x86_regs_t *next_in,
                          bool cr3_line, uint64_t cr3_operand, bool want_reject)
{
    ref_x86_regs_t next = *next_in;
    bool bit63 = cr3_line && (cr3_operand >> 63);
    int verdict = ref_x86_regs_check(&st->regs, &next, bit63);
    if (verdict && !want_reject)
        return case_error(env, "vmmem refuses this register state (x86_64.h%s%s); write '-> rejected' "
                               "if that is the point",
                          verdict & REF_X86_REGS_INVALID ? ": invalid argument" : "",
                          verdict & REF_X86_REGS_UNSUPPORTED ? ": 32-bit/PAE paging unsupported" : "");
    if (want_reject) {
        (*env->expectations)++;
        if (!verdict)
            fail_line(env, "expected the write to be rejected; the contract (reference) accepts it");
    }
    ref_x86_regs_normalise(&next);

    if (env->core) {
        vm_x86_regs_t before, want, after;
        vm_mmu_x86_regs(env->core, &before);
        if (!regs_equal(&before, &st->regs)) {
            fail_line(env, "the core's x86 registers before this write differ from the reference's");
            print_vm_regs("core", &before);
        }
        vm_err_t err;
        if (cr3_line) {
            err = vm_mmu_x86_load_cr3(env->core, cr3_operand);
        } else {
            to_vm_regs(next_in, &want);
            want.cr3 = st->regs.cr3; /* unchanged, no bit 63: no CR3 load */
            err = vm_mmu_set_x86_regs(env->core, &want);
        }
        bool err_ok = verdict == 0 ? err == VM_OK
                      : (err == VM_ERR_INVALID_ARGUMENT && (verdict & REF_X86_REGS_INVALID)) ||
                            (err == VM_ERR_UNSUPPORTED && (verdict & REF_X86_REGS_UNSUPPORTED));
        if (!err_ok)
            fail_line(env, "%s returned %s; the contract says %s",
                      cr3_line ? "vm_mmu_x86_load_cr3" : "vm_mmu_set_x86_regs", vm_strerror(err),
                      verdict == 0 ? "VM_OK"
                      : verdict & REF_X86_REGS_INVALID ? "VM_ERR_INVALID_ARGUMENT"
                                                       : "VM_ERR_UNSUPPORTED");
        vm_mmu_x86_regs(env->core, &after);
        if (!regs_equal(&after, verdict ? &st->regs : &next)) {
            fail_line(env, "after the write the core's registers are not %s",
                      verdict ? "unchanged" : "the new values");
            print_vm_regs("core", &after);
        }
    }
    if (!verdict) {
        if (st->active)
            ref_x86_tlb_write_regs(&st->tlb, &st->regs, &next, cr3_line, bit63);
        st->regs = next;
    } else if (env->verbose && want_reject) {
        printf("%s:%d: ok\n", env->file, env->line);
    }
    return CONFORM_DONE;
}

/* `cr0 V` ... `maxphyaddr N`, each optionally followed by `-> rejected`. */
static int register_line(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    const char *kw = tok[0];
    uint64_t v;
    bool want_reject = ntok == 4 && !strcmp(tok[2], "->") && !strcmp(tok[3], "rejected");
    if ((ntok != 2 && !want_reject) || !conform_parse_u64(tok[1], &v))
        return case_error(env, "expected: %s VALUE [-> rejected]", kw);
    ref_x86_regs_t next = st->regs;
    if (!strcmp(kw, "cr3")) {
        next.cr3 = v;
        return write_register(st, env, &next, true, v, want_reject);
    }
    if (!strcmp(kw, "cr0")) next.cr0 = v;
    else if (!strcmp(kw, "cr4")) next.cr4 = v;
    else if (!strcmp(kw, "efer")) next.efer = v;
    else if (!strcmp(kw, "rflags")) next.rflags = v;
    else if (!strcmp(kw, "pkru")) {
        if (v > UINT32_MAX)
            return case_error(env, "pkru: 32 bits");
        next.pkru = (uint32_t)v;
    } else if (v > 255) {
        return case_error(env, "%s: value %llu out of range", kw, (unsigned long long)v);
    } else if (!strcmp(kw, "cpl")) {
        next.cpl = (int)v;
    } else {
        next.maxphyaddr = (int)v;
    }
    return write_register(st, env, &next, false, 0, want_reject);
}

/* `expect cr0|cr3|cr4|efer|rflags|pkru|cpl|maxphyaddr == V`: the value read back. */
static int expect_register(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    uint64_t want;
    if (ntok != 4 || strcmp(tok[2], "==") || !conform_parse_u64(tok[3], &want))
        return case_error(env, "expected: expect %s == VALUE", tok[1]);
    const char *kw = tok[1];
    const ref_x86_regs_t *r = &st->regs;
    uint64_t ref = !strcmp(kw, "cr0") ? r->cr0 : !strcmp(kw, "cr3") ? r->cr3
                   : !strcmp(kw, "cr4") ? r->cr4 : !strcmp(kw, "efer") ? r->efer
                   : !strcmp(kw, "rflags") ? r->rflags : !strcmp(kw, "pkru") ? r->pkru
                   : !strcmp(kw, "cpl") ? (uint64_t)r->cpl : (uint64_t)ref_x86_maxphyaddr(r);
    uint64_t core = 0;
    if (env->core) {
        vm_x86_regs_t v;
        vm_mmu_x86_regs(env->core, &v);
        core = !strcmp(kw, "cr0") ? v.cr0 : !strcmp(kw, "cr3") ? v.cr3
               : !strcmp(kw, "cr4") ? v.cr4 : !strcmp(kw, "efer") ? v.efer
               : !strcmp(kw, "rflags") ? v.rflags : !strcmp(kw, "pkru") ? v.pkru
               : !strcmp(kw, "cpl") ? v.cpl : (uint64_t)(v.maxphyaddr ? v.maxphyaddr : 52);
    }
    (*env->expectations)++;
    if (ref != want || (env->core && core != want))
        fail_line(env, "expected %s 0x%llx, core 0x%llx, reference 0x%llx%s", kw,
                  (unsigned long long)want, (unsigned long long)core, (unsigned long long)ref,
                  ref != want ? " [the case is wrong: the reference disagrees]" : "");
    else if (env->verbose)
        printf("%s:%d: ok\n", env->file, env->line);
    return CONFORM_DONE;
}

/* ---- flushes --------------------------------------------------------------------- */

static int flush_line(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    uint64_t v;
    if (ntok == 2 && !strcmp(tok[1], "all")) {
        ref_x86_tlb_flush_all(&st->tlb);
        if (env->core)
            vm_mmu_flush_tlb(env->core);
        return CONFORM_DONE;
    }
    if (ntok == 2 && !strcmp(tok[1], "nonglobal")) {
        ref_x86_tlb_flush_nonglobal(&st->tlb);
        if (env->core)
            vm_mmu_flush_tlb_nonglobal(env->core);
        return CONFORM_DONE;
    }
    if (ntok == 3 && !strcmp(tok[1], "pcid") && conform_parse_u64(tok[2], &v) && v <= 0xffff) {
        ref_x86_tlb_flush_pcid(&st->tlb, (uint16_t)v);
        if (env->core)
            vm_mmu_flush_tlb_asid(env->core, (uint16_t)v);
        return CONFORM_DONE;
    }
    if (ntok == 3 && !strcmp(tok[1], "page") && conform_parse_u64(tok[2], &v)) {
        ref_x86_tlb_flush_page(&st->tlb, v);
        if (env->core)
            vm_mmu_flush_tlb_page(env->core, v);
        return CONFORM_DONE;
    }
    return case_error(env, "expected: flush all | flush nonglobal | flush pcid N | flush page VA");
}

/* `invlpg VA` */
static int invlpg_line(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    uint64_t va;
    if (ntok != 2 || !conform_parse_u64(tok[1], &va))
        return case_error(env, "expected: invlpg VA");
    ref_x86_tlb_invlpg(&st->tlb, &st->regs, va);
    if (env->core)
        vm_mmu_x86_invlpg(env->core, va);
    return CONFORM_DONE;
}

/* `invpcid TYPE PCID VA [-> rejected]` */
static int invpcid_line(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    uint64_t type, pcid, va;
    bool want_reject = ntok == 6 && !strcmp(tok[4], "->") && !strcmp(tok[5], "rejected");
    if ((ntok != 4 && !want_reject) || !conform_parse_u64(tok[1], &type) ||
        !conform_parse_u64(tok[2], &pcid) || !conform_parse_u64(tok[3], &va) || type > 255 ||
        pcid > 0xffff)
        return case_error(env, "expected: invpcid TYPE PCID VA [-> rejected] (TYPE 0..255, PCID 0..0xffff)");
    bool ok = ref_x86_invpcid_ok(&st->regs, (int)type, pcid, va);
    if (!ok && !want_reject)
        return case_error(env, "vmmem refuses these INVPCID operands (x86_64.h); write '-> rejected' "
                               "if that is the point");
    if (want_reject) {
        (*env->expectations)++;
        if (ok)
            fail_line(env, "expected INVPCID to be rejected; the contract (reference) accepts it");
    }
    if (ok)
        ref_x86_tlb_invpcid(&st->tlb, (int)type, (uint16_t)pcid, va);
    if (env->core) {
        vm_err_t err = vm_mmu_x86_invpcid(env->core, (vm_x86_invpcid_type_t)type, (uint16_t)pcid, va);
        if (ok ? err != VM_OK : err != VM_ERR_INVALID_ARGUMENT)
            fail_line(env, "vm_mmu_x86_invpcid(%llu, 0x%llx, 0x%llx) returned %s; the contract says %s",
                      (unsigned long long)type, (unsigned long long)pcid, (unsigned long long)va,
                      vm_strerror(err), ok ? "VM_OK" : "VM_ERR_INVALID_ARGUMENT");
    }
    if (want_reject && !ok && env->verbose)
        printf("%s:%d: ok\n", env->file, env->line);
    return CONFORM_DONE;
}

/* ---- expect ACCESS VA [= V] -> ANSWER [| ANSWER]... ------------------------- */

/* ANSWER: PA | OUTCOME [pfec V] [level N] [@ VA] */
static int parse_alt(const conform_env_t *env, char **tok, int ntok, int *pos, x86_ans_t *a)
{
    static const struct { const char *word; int outcome; } words[] = {
        { "page-fault", REF_X86_PAGE_FAULT },     { "general-protection", REF_X86_GP_FAULT },
        { "access-fault", REF_X86_ACCESS_FAULT }, { "misaligned", REF_X86_MISALIGNED },
    };
    memset(a, 0, sizeof *a);
    const char *t = tok[*pos];
    a->outcome = -1;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(t, words[k].word))
            a->outcome = words[k].outcome;
    if (a->outcome < 0) {
        a->outcome = REF_X86_OK;
        if (!conform_parse_u64(t, &a->pa))
            return case_error(env, "bad answer '%s' (a PA, page-fault, general-protection, "
                                   "access-fault or misaligned)", t);
        (*pos)++;
        return 0;
    }
    (*pos)++;
    while (*pos < ntok && strcmp(tok[*pos], "|")) {
        uint64_t v;
        const char *w = tok[*pos];
        if (*pos + 1 >= ntok || !conform_parse_u64(tok[*pos + 1], &v))
            return case_error(env, "'%s' needs a number", w);
        if (!strcmp(w, "pfec") && v <= 0xffff && a->outcome == REF_X86_PAGE_FAULT) {
            a->has_pfec = true;
            a->pfec = (uint32_t)v;
        } else if (!strcmp(w, "level") && v >= 1 && v <= 5) {
            a->has_level = true;
            a->level = (int)v;
        } else if (!strcmp(w, "@")) {
            a->has_fva = true;
            a->fva = v;
        } else {
            return case_error(env, "unexpected '%s %s' (pfec V after page-fault, level 1..5, @ VA)", w,
                              tok[*pos + 1]);
        }
        *pos += 2;
    }
    return 0;
}

static int parse_expect(const conform_env_t *env, char **tok, int ntok, x86_expect_t *L)
{
    memset(L, 0, sizeof *L);
    if (conform_parse_access_kind(tok[1], &L->access, &L->size))
        return case_error(env, "bad access '%s' (read|write|exec, read1..8, write1..8, exec4)", tok[1]);
    if (ntok < 5)
        return case_error(env, "expected: expect %s VA [= VALUE] -> ANSWER", tok[1]);
    if (!conform_parse_u64(tok[2], &L->va))
        return case_error(env, "bad virtual address '%s'", tok[2]);
    int pos = 3;
    if (!strcmp(tok[pos], "=")) {
        if (L->size == 0)
            return case_error(env, "'= VALUE' needs a sized access (read4, write8, ...)");
        if (pos + 1 >= ntok || !conform_parse_u64(tok[pos + 1], &L->value))
            return case_error(env, "'=' needs a value");
        if (L->size < 8 && (L->value >> (8 * L->size)))
            return case_error(env, "value does not fit in %u bytes", L->size);
        L->has_value = true;
        pos += 2;
    }
    if (pos >= ntok || strcmp(tok[pos], "->"))
        return case_error(env, "expected '->' before the answer");
    pos++;
    for (;;) {
        if (pos >= ntok)
            return case_error(env, "missing answer after '->' or '|'");
        if (L->n_alts == X86_MAX_ALTS)
            return case_error(env, "at most %d alternatives", X86_MAX_ALTS);
        if (parse_alt(env, tok, ntok, &pos, &L->alts[L->n_alts]))
            return CONFORM_ERROR;
        L->n_alts++;
        if (pos == ntok)
            break;
        if (strcmp(tok[pos], "|"))
            return case_error(env, "unexpected '%s' (alternatives are separated by '|')", tok[pos]);
        pos++;
    }
    return 0;
}

/* ---- reference memory ----------------------------------------------------------- */

static bool in_ram(const conform_env_t *env, uint64_t pa, uint64_t n)
{
    return ref_mem_in_ram(env->mem, pa, n);
}

static uint64_t ram_load(const conform_env_t *env, uint64_t pa, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)env->mem->ram[pa - env->mem->base + k] << (8 * k);
    return v;
}

static void ram_store(const conform_env_t *env, uint64_t pa, uint64_t v, unsigned n)
{
    for (unsigned k = 0; k < n; k++)
        env->mem->ram[pa - env->mem->base + k] = (uint8_t)(v >> (8 * k));
}

/* The PMA check of the data access: RAM or a well-formed MMIO access. */
static bool backed(const conform_env_t *env, uint64_t pa, uint64_t size)
{
    int region;
    uint64_t offset;
    int r = ref_mem_route(env->mem, pa, size, &region, &offset);
    return r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO;
}

/* ---- the verdict ------------------------------------------------------------------- */

static void report(const conform_env_t *env, const x86_state_t *st, const x86_expect_t *L,
                   const char *core_text, const x86_ans_t *ref, const ref_x86_walk_t *walks,
                   const uint64_t *part_va, int n_walks, const char *extra)
{
    char want[600], rtext[128];
    format_alts(want, sizeof want, L->alts, L->n_alts);
    format_ans(rtext, sizeof rtext, ref);
    /* A case the reference contradicts is reported as such: it is a wrong
     * case, not a core failure (ci/vmc-shrink.py tells the two apart and
     * never keeps a candidate whose failure is the case's own). */
    printf("%s:%d: expected %s, core %s, reference %s%s%s%s\n", env->file, env->line, want,
           core_text, rtext, extra ? ": " : "", extra ? extra : "",
           fits_any(L, ref) ? "" : " [the case is wrong: the reference's answer is not listed]");
    for (int p = 0; p < n_walks; p++)
        ref_x86_walk_print(&walks[p], &st->regs, part_va[p], L->access, stdout);
    ref_x86_tlb_print_covering(&st->tlb, &st->regs, L->va, stdout);
    if (env->core) {
        const vm_fault_t *f = vm_mmu_last_fault(env->core);
        if (f->kind != VM_FAULT_NONE)
            printf("  core fault record: kind=%d va=0x%llx cause=%u error code=0x%x level=%d "
                   "entry@0x%llx=0x%016llx (%s)\n",
                   (int)f->kind, (unsigned long long)f->va, f->cause, f->syndrome, f->level,
                   (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                   f->reason ? f->reason : "");
    }
    (*env->failures)++;
}

static void judge(const conform_env_t *env, const x86_state_t *st, const x86_expect_t *L,
                  const x86_ans_t *core, const x86_ans_t *ref, const ref_x86_walk_t *walks,
                  const uint64_t *part_va, int n_walks, const char *extra)
{
    char core_text[128] = "-";
    bool ok = fits_any(L, ref) && !extra;
    if (env->core) {
        format_ans(core_text, sizeof core_text, core);
        ok = ok && fits_any(L, core);
    }
    if (!ok)
        report(env, st, L, core_text, ref, walks, part_va, n_walks, extra);
    else if (env->verbose)
        printf("%s:%d: ok\n", env->file, env->line);
}

/* In --ref-only: every listed translation answer must itself be legal (a
 * case cannot list an answer the SDM forbids). */
static const char *check_alts_legal(const x86_state_t *st, const x86_expect_t *L,
                                    const ref_x86_walk_t *fresh, char *buf, size_t len)
{
    ref_x86_answer_t legal[X86_MAX_LEGAL];
    int n = ref_x86_tlb_answers(&st->tlb, &st->regs, L->va, L->access, fresh, legal, X86_MAX_LEGAL);
    if (n > X86_MAX_LEGAL)
        n = X86_MAX_LEGAL;
    for (int k = 0; k < L->n_alts; k++) {
        const x86_ans_t *a = &L->alts[k];
        if (a->outcome == REF_X86_ACCESS_FAULT || a->outcome == REF_X86_MISALIGNED)
            continue; /* the data access / alignment, not the translation */
        bool ok = false;
        for (int j = 0; j < n && !ok; j++) {
            x86_ans_t cand = observed(legal[j].outcome, legal[j].pa, legal[j].pfec,
                                      a->has_level ? a->level : 0, a->has_fva ? a->fva : L->va);
            ok = fits(a, &cand);
        }
        if (!ok) {
            snprintf(buf, len, "listed answer #%d is not a legal answer", k + 1);
            return buf;
        }
    }
    return NULL;
}

/* The answer after the translation: a successful one whose PA has nothing
 * behind it is an access fault of the data access (level -1). */
static x86_ans_t with_pma(const conform_env_t *env, x86_ans_t a, uint64_t va)
{
    if (a.outcome == REF_X86_OK && !backed(env, a.pa, 1))
        return observed(REF_X86_ACCESS_FAULT, 0, 0, -1, va);
    return a;
}

static bool is_fresh(const ref_x86_walk_t *fresh, const ref_x86_answer_t *got)
{
    return got->outcome == fresh->outcome && (got->outcome != REF_X86_OK || got->pa == fresh->pa) &&
           (got->outcome != REF_X86_PAGE_FAULT || got->pfec == fresh->pfec);
}

/*
 * The paging-structure entries the walk read, core vs reference, after the
 * reference followed the core (its A/D update applied only if the core
 * walked): a walk writes exactly the fresh update, a hit writes nothing.
 * NULL if equal.
 */
static const char *check_entries(const conform_env_t *env, const ref_x86_walk_t *w, bool walked,
                                 char *buf, size_t len)
{
    if (!env->core)
        return NULL;
    for (int k = 0; k < w->n_steps && k < REF_X86_MAX_LEVELS; k++) {
        uint64_t a = w->steps[k].entry_addr, core = 0;
        if (!in_ram(env, a, 8))
            continue;
        uint64_t ref = ram_load(env, a, 8);
        if (vm_mmu_read_phys(env->core, a, 8, &core) != VM_OK || core != ref) {
            snprintf(buf, len, "the entry at 0x%llx is 0x%llx in the core, 0x%llx in the reference "
                               "(after a %s)",
                     (unsigned long long)a, (unsigned long long)core, (unsigned long long)ref,
                     walked ? "walk: exactly its A/D update" : "TLB hit: no write");
            return buf;
        }
    }
    return NULL;
}

/*
 * The walk-or-hit rule for one translated page (conformance/README.md,
 * "Walk or hit"; mmu.h, vm_mmu_tlb_stats): without paging nothing is
 * counted and the answer is the identity; a non-canonical VA counts one
 * miss and is #GP whatever the TLB holds; any other translation counts
 * exactly one hit or one miss. A miss is a walk, whose answer (outcome, PA,
 * error code) must be the fresh walk's; a hit must be justified by a
 * remembered entry re-checked under the current registers. NULL if the
 * answer `got` fits; *walked says which of the two the core did.
 */
static const char *walk_or_hit(const x86_state_t *st, const conform_counts_t *c,
                               const x86_expect_t *L, const ref_x86_walk_t *fresh,
                               const ref_x86_answer_t *got, bool *walked, char *buf, size_t len)
{
    bool paged = ref_x86_paging(&st->regs);
    *walked = true;
    if (!paged || fresh->outcome == REF_X86_GP_FAULT) {
        if (c->dh != 0 || c->dm != (paged ? 1u : 0u)) {
            snprintf(buf, len, "the TLB counters moved by hits +%llu misses +%llu for %s",
                     (unsigned long long)c->dh, (unsigned long long)c->dm,
                     paged ? "a #GP (mmu.h: one miss, a check made before the first table read)"
                           : "a translation without paging (mmu.h: none)");
            return buf;
        }
        return is_fresh(fresh, got) ? NULL : "not the answer the SDM gives (no TLB can answer here)";
    }
    if (c->dh + c->dm != 1) {
        snprintf(buf, len, "the TLB counters moved by hits +%llu misses +%llu for one translation "
                           "(mmu.h: one hit or miss per page translated with paging)",
                 (unsigned long long)c->dh, (unsigned long long)c->dm);
        return buf;
    }
    *walked = c->dm == 1;
    if (*walked && !is_fresh(fresh, got))
        return "the core walked (a TLB miss) but its answer is not the fresh walk's";
    if (!*walked && !ref_x86_tlb_hit_legal(&st->tlb, &st->regs, L->va, L->access, got))
        return "the core answered from its TLB (a hit) but no remembered entry gives that answer";
    return NULL;
}

/* Every answer the line lists is a page fault. */
static bool only_page_faults(const x86_expect_t *L)
{
    for (int k = 0; k < L->n_alts; k++)
        if (L->alts[k].outcome != REF_X86_PAGE_FAULT)
            return false;
    return L->n_alts > 0;
}

/* The unsized form: vm_mmu_translate, then the PMA check of one byte. */
static void run_translate(x86_state_t *st, const conform_env_t *env, const x86_expect_t *L)
{
    ref_x86_walk_t fresh;
    ref_x86_translate(env->mem, &st->regs, L->va, L->access, false, &fresh);

    x86_ans_t core = { 0 };
    const char *extra = NULL;
    char buf[300];
    bool core_walked = true; /* --ref-only: the reference stands for the core */
    x86_ans_t raw = { 0 };
    if (env->core) {
        vm_gpa_t cpa = 0;
        conform_counts_t counts;
        conform_counts_begin(env->core, &counts);
        vm_err_t err = vm_mmu_translate(env->core, L->va, vm_access_of(L->access), &cpa);
        conform_counts_end(env->core, &counts);
        raw = core_answer(env, err, cpa);
        ref_x86_answer_t got = { raw.outcome, raw.pa, raw.pfec };
        bool walked = true;
        if (raw.outcome == X86_CORE_ERROR || raw.outcome == REF_X86_MISALIGNED) {
            extra = "vm_mmu_translate gave an answer a translation cannot give";
        } else {
            extra = walk_or_hit(st, &counts, L, &fresh, &got, &walked, buf, sizeof buf);
            if (!extra && raw.outcome != REF_X86_OK) {
                extra = check_fault_record(vm_mmu_last_fault(env->core), &raw, L->access, L->va, buf,
                                           sizeof buf);
                if (!extra && walked)
                    extra = check_fault_walk(env, &fresh, buf, sizeof buf);
            }
        }
        /* Only a walk sets A/D and fills the TLB: the reference follows the
         * core (a hit's answer may equal the fresh one while its entry, not
         * memory, decided it). */
        core_walked = walked && is_fresh(&fresh, &got);
        core = with_pma(env, raw, L->va);
        if (!extra && !walked && !fits_any(L, &core))
            extra = "a legal TLB hit that the case does not list (add it with '|' or flush)";
    }

    /* The reference: its A/D update applied, and its translation
     * remembered, only when the core walked too. */
    ref_x86_walk_t w;
    ref_x86_translate(env->mem, &st->regs, L->va, L->access, core_walked, &w);
    x86_ans_t ref = with_pma(env, observed(w.outcome, w.pa, w.pfec, w.level, L->va), L->va);
    if (core_walked)
        ref_x86_tlb_record(&st->tlb, &st->regs, L->va, L->access, &w);
    if (!extra)
        extra = check_entries(env, &w, core_walked, buf, sizeof buf);

    if (env->ref_only && !extra)
        extra = check_alts_legal(st, L, &fresh, buf, sizeof buf);
    uint64_t part_va = L->va;
    judge(env, st, L, &core, &ref, &w, &part_va, 1, extra);

    /* SDM 4.10.4.1: the page fault invalidates the page's entries in the
     * current PCID. With a core, the core's answer says whether it
     * faulted; in --ref-only the line does, and only when every answer it
     * lists is a #PF: when it also lists a stale entry's answer, a core
     * may have taken that one and kept its entries, and the later lines
     * may rely on them. */
    bool faulted = env->core ? raw.outcome == REF_X86_PAGE_FAULT : only_page_faults(L);
    if (faulted)
        ref_x86_tlb_page_fault(&st->tlb, &st->regs, L->va);
}

/*
 * The sized form on the reference, in the order vmmem documents (mmu.h):
 * strict alignment first (vmmem's own check, vector 17; the translation's
 * answer is the other legal order, as for RISC-V), then every 4 KiB part
 * translated before any byte moves (a completed walk's A/D updates stay if
 * a later part faults; a second part in the non-canonical hole is #GP at
 * its first byte), then the PMA check of each part (a misaligned access
 * touching MMIO is an access fault). Bit p of `apply` says whether part p's
 * A/D update is written into the reference memory (the core walked that
 * part).
 */
typedef struct sized_result {
    x86_ans_t ans;
    bool has_alt;          /* with strict alignment: the translation's own answer */
    x86_ans_t alt;
    int n_parts, walked;
    uint64_t part_va[2], part_pa[2];
    unsigned part_size[2];
    ref_x86_walk_t walk[2];
} sized_result_t;

static void ref_sized(x86_state_t *st, const conform_env_t *env, uint64_t va, int access,
                      unsigned size, unsigned apply, sized_result_t *r)
{
    memset(r, 0, sizeof *r);
    r->n_parts = 1;
    r->part_va[0] = va;
    r->part_size[0] = size;
    uint64_t in_page = va & 0xfff;
    if (in_page + size > 0x1000) {
        r->n_parts = 2;
        r->part_size[0] = (unsigned)(0x1000 - in_page);
        r->part_va[1] = va + r->part_size[0];
        r->part_size[1] = size - r->part_size[0];
    }
    bool strict_misaligned = env->strict && size > 1 && va % size;
    bool misaligned = va % size != 0;
    for (int p = 0; p < r->n_parts; p++) {
        ref_x86_translate(env->mem, &st->regs, r->part_va[p], access,
                          ((apply >> p) & 1) && !strict_misaligned, &r->walk[p]);
        r->walked = p + 1;
        if (r->walk[p].outcome != REF_X86_OK) {
            r->ans = observed(r->walk[p].outcome, 0, r->walk[p].pfec, r->walk[p].level,
                              r->part_va[p]);
            break;
        }
        r->part_pa[p] = r->walk[p].pa;
    }
    if (r->ans.outcome == REF_X86_OK) {
        for (int p = 0; p < r->n_parts; p++) {
            int region;
            uint64_t offset;
            bool mmio = ref_mem_route(env->mem, r->part_pa[p], r->part_size[p], &region, &offset) ==
                        REF_ROUTE_MMIO;
            if (!backed(env, r->part_pa[p], r->part_size[p]) || (mmio && misaligned)) {
                r->ans = observed(REF_X86_ACCESS_FAULT, 0, 0, -1, r->part_va[p]);
                break;
            }
        }
        if (r->ans.outcome == REF_X86_OK)
            r->ans = observed(REF_X86_OK, r->part_pa[0], 0, 0, 0);
    }
    if (strict_misaligned) {
        if (r->ans.outcome != REF_X86_OK) {
            r->has_alt = true;
            r->alt = r->ans;
        }
        r->ans = observed(REF_X86_MISALIGNED, 0, 0, -1, va);
    }
}

static uint64_t sized_load(const conform_env_t *env, const sized_result_t *r)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (int p = 0; p < r->n_parts; p++) {
        if (in_ram(env, r->part_pa[p], r->part_size[p]))
            v |= ram_load(env, r->part_pa[p], r->part_size[p]) << shift;
        shift += 8 * r->part_size[p]; /* MMIO: the dummy device reads 0 */
    }
    return v;
}

static void sized_store(const conform_env_t *env, const sized_result_t *r, uint64_t v)
{
    unsigned shift = 0;
    for (int p = 0; p < r->n_parts; p++) {
        if (in_ram(env, r->part_pa[p], r->part_size[p]))
            ram_store(env, r->part_pa[p], v >> shift, r->part_size[p]);
        shift += 8 * r->part_size[p];
    }
}

/*
 * Which parts of a sized access the core walked, from the counters: all of
 * them (as many misses as parts, or no paging), none (no miss), or - a
 * page-crossing access with a hit and a miss - the parts whose entries hold
 * the fresh walk's A/D update (a part without an update counts as walked:
 * memory is the same either way).
 */
static unsigned walked_parts(const x86_state_t *st, const conform_env_t *env,
                             const sized_result_t *probe, const conform_counts_t *c)
{
    if (!ref_x86_paging(&st->regs) || c->dm >= (uint64_t)probe->walked)
        return ~0u;
    if (c->dm == 0)
        return 0;
    unsigned mask = 0;
    for (int p = 0; p < probe->walked; p++) {
        const ref_x86_walk_t *w = &probe->walk[p];
        bool updated = true;
        for (int j = 0; j < w->n_ad && updated; j++) {
            uint64_t word = 0;
            updated = vm_mmu_read_phys(env->core, w->ad[j].addr, 8, &word) == VM_OK &&
                      word == w->ad[j].updated;
        }
        if (updated)
            mask |= 1u << p;
    }
    return mask;
}

/* How many parts a remembered entry (or an earlier part's fresh page)
 * covers: the most TLB hits the access can legally count. */
static uint64_t parts_covered(const x86_state_t *st, const sized_result_t *probe, int access)
{
    uint64_t covered = 0;
    for (int p = 0; p < probe->walked; p++) {
        bool c = ref_x86_tlb_covers(&st->tlb, &st->regs, probe->part_va[p], access);
        for (int q = 0; q < p && !c; q++) {
            const ref_x86_walk_t *w = &probe->walk[q];
            c = w->outcome == REF_X86_OK && w->translated && w->page_shift >= 12 &&
                w->page_shift < 64 &&
                (probe->part_va[q] >> w->page_shift) == (probe->part_va[p] >> w->page_shift);
        }
        covered += c;
    }
    return covered;
}

/* The PMA check of a single-page data access at pa (ref_sized's): nothing
 * behind it, or a misaligned access touching MMIO. */
static bool data_faults(const conform_env_t *env, uint64_t pa, uint64_t va, unsigned size)
{
    int region;
    uint64_t offset;
    bool mmio = ref_mem_route(env->mem, pa, size, &region, &offset) == REF_ROUTE_MMIO;
    return !backed(env, pa, size) || (mmio && va % size != 0);
}

static void run_sized(x86_state_t *st, const conform_env_t *env, const x86_expect_t *L)
{
    sized_result_t probe;
    ref_sized(st, env, L->va, L->access, L->size, 0, &probe);
    uint64_t store_value = L->has_value ? L->value
                           : probe.ans.outcome == REF_X86_OK ? sized_load(env, &probe) : 0;

    x86_ans_t core = { 0 };
    const char *extra = NULL;
    char buf[300];
    uint64_t loaded = 0;
    unsigned apply = ~0u; /* the parts the core walked (all in --ref-only) */
    uint64_t hit_pa = 0;  /* a data access fault's PA, as the core translates it */
    vm_fault_t record;
    memset(&record, 0, sizeof record);
    if (env->core) {
        vm_err_t err;
        conform_counts_t counts;
        conform_counts_begin(env->core, &counts);
        if (L->access == REF_READ)
            err = vm_mmu_read(env->core, L->va, (uint8_t)L->size, &loaded);
        else if (L->access == REF_WRITE)
            err = vm_mmu_write(env->core, L->va, store_value, (uint8_t)L->size);
        else
            err = vm_mmu_fetch_insn(env->core, L->va, &loaded);
        conform_counts_end(env->core, &counts);
        if (probe.ans.outcome != REF_X86_MISALIGNED) {
            apply = walked_parts(st, env, &probe, &counts);
            uint64_t covered = parts_covered(st, &probe, L->access);
            if (counts.dh > covered) {
                snprintf(buf, sizeof buf, "the core counted %llu TLB hit(s) but only %llu page(s) "
                                          "of the access are covered by a remembered entry",
                         (unsigned long long)counts.dh, (unsigned long long)covered);
                extra = buf;
            }
        }
        core = core_answer(env, err, 0);
        record = *vm_mmu_last_fault(env->core); /* the access's, before translating again */
        bool data_fault = core.outcome == REF_X86_ACCESS_FAULT && core.level == -1;
        if ((err == VM_OK || data_fault) && !extra) {
            /* The PA of the first byte (for a data access fault: where the
             * access went): translate again (the access already set A/D and
             * filled the TLB: no new side effect). */
            uint64_t cpa = 0;
            vm_err_t e2 = conform_translate_hidden(env->core, env->hits_base, env->misses_base,
                                                   L->va, vm_access_of(L->access), &cpa);
            if (e2 != VM_OK) {
                snprintf(buf, sizeof buf, "the access %s but translating its VA again gave %s",
                         err == VM_OK ? "succeeded" : "faulted after its translation",
                         vm_strerror(e2));
                extra = buf;
            }
            if (err == VM_OK)
                core = core_answer(env, err, cpa);
            else
                hit_pa = cpa;
        }
    }

    sized_result_t rr;
    ref_sized(st, env, L->va, L->access, L->size, apply, &rr);

    bool same = true, stale = false;
    if (env->core) {
        same = fits(&rr.ans, &core) && core.outcome == rr.ans.outcome;
        bool other_order = !same && rr.has_alt && fits(&rr.alt, &core);
        /* A single page answered from the TLB (no miss): judged by the
         * remembered entries alone, whatever the fresh walk says. */
        bool hit = probe.n_parts == 1 && probe.walked == 1 &&
                   probe.ans.outcome != REF_X86_MISALIGNED && ref_x86_paging(&st->regs) &&
                   probe.walk[0].outcome != REF_X86_GP_FAULT && !(apply & 1);
        if (hit) {
            same = false;
            ref_x86_answer_t got = { core.outcome, core.pa, core.pfec };
            if (core.outcome == REF_X86_OK)
                stale = backed(env, core.pa, L->size);
            else if (core.outcome == REF_X86_PAGE_FAULT)
                stale = core.fva == L->va;
            else if (core.outcome == REF_X86_ACCESS_FAULT && core.level == -1) {
                /* The entry's translation, then the data access's own check. */
                got = (ref_x86_answer_t){ REF_X86_OK, hit_pa, 0 };
                stale = data_faults(env, hit_pa, L->va, L->size) && core.fva == L->va;
            }
            stale = stale && ref_x86_tlb_hit_legal(&st->tlb, &st->regs, L->va, L->access, &got);
            if (!stale && !extra)
                extra = "the core answered from its TLB (a hit) but no remembered entry gives "
                        "that answer";
        } else if (!same && !other_order && !extra) {
            extra = "not the answer the architecture gives";
        }
        if (!extra && core.outcome != REF_X86_OK && core.outcome != X86_CORE_ERROR)
            extra = check_fault_record(&record, &core, L->access, core.fva, buf, sizeof buf);
        if (!extra && core.outcome == REF_X86_OK && L->access != REF_WRITE && L->has_value &&
            loaded != L->value) {
            snprintf(buf, sizeof buf, "core loaded 0x%llx, want 0x%llx", (unsigned long long)loaded,
                     (unsigned long long)L->value);
            extra = buf;
        }
        if (!extra && stale && !fits_any(L, &core))
            extra = "a legal TLB hit that the case does not list (add it with '|' or flush)";
    }
    /* Only the parts the core walked are remembered (misaligned first:
     * nothing walked). */
    if ((same || stale) && rr.ans.outcome != REF_X86_MISALIGNED)
        for (int p = 0; p < rr.walked; p++)
            if ((apply >> p) & 1)
                ref_x86_tlb_record(&st->tlb, &st->regs, rr.part_va[p], L->access, &rr.walk[p]);

    /* The data, where the core legally accessed it: the fresh PA, or the PA
     * of the remembered entry its hit used. */
    sized_result_t data = rr;
    if (stale && core.outcome == REF_X86_OK)
        data.part_pa[0] = core.pa;
    bool data_done = env->core ? (same && rr.ans.outcome == REF_X86_OK) ||
                                     (stale && core.outcome == REF_X86_OK)
                               : rr.ans.outcome == REF_X86_OK;
    uint64_t ref_loaded = 0;
    if (data_done) {
        if (L->access == REF_WRITE)
            sized_store(env, &data, store_value);
        else
            ref_loaded = sized_load(env, &data);
    }
    /* The table entries every walk read, after the access's own store (a
     * store through a mapping of a table may land on an entry of its own
     * walk: that is the store's write, not one the walk or a hit made). */
    for (int p = 0; p < rr.walked && !extra; p++)
        extra = check_entries(env, &rr.walk[p], (apply >> p) & 1, buf, sizeof buf);
    if (!extra && rr.ans.outcome == REF_X86_OK && !stale && L->access != REF_WRITE &&
        L->has_value && ref_loaded != L->value) {
        snprintf(buf, sizeof buf, "reference loaded 0x%llx, want 0x%llx [the case is wrong]",
                 (unsigned long long)ref_loaded, (unsigned long long)L->value);
        extra = buf;
    }
    if (!extra && env->core && data_done && L->access != REF_WRITE && loaded != ref_loaded) {
        snprintf(buf, sizeof buf, "core loaded 0x%llx, the reference 0x%llx",
                 (unsigned long long)loaded, (unsigned long long)ref_loaded);
        extra = buf;
    }
    judge(env, st, L, &core, &rr.ans, rr.walk, rr.part_va, rr.walked, extra);

    /* As for the unsized form: in --ref-only only a line whose every
     * answer is a #PF says the access faulted. */
    const x86_ans_t *taken = env->core ? &core : &rr.ans;
    if (taken->outcome == REF_X86_PAGE_FAULT && (env->core || only_page_faults(L)))
        ref_x86_tlb_page_fault(&st->tlb, &st->regs, taken->fva);
}

/*
 * `check ACCESS VA`: a question for an oracle (conformance/QEMU.md).
 * Unanswered, the file cannot be judged (exit 2); with --answer-ref the
 * reference answers it: the line runs as `expect ACCESS VA -> X` with X the
 * fresh walk's answer (its error code, level and fault address too) plus
 * the data access's check of one byte, as the unsized expect computes it.
 */
static int check_line(x86_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    x86_expect_t L;
    memset(&L, 0, sizeof L);
    if (ntok != 3 || conform_parse_access_kind(tok[1], &L.access, &L.size) || L.size != 0 ||
        !conform_parse_u64(tok[2], &L.va))
        return case_error(env, "expected: check read|write|exec VA");
    if (!env->answer_ref)
        return case_error(env, "unanswered 'check' line: answer it with an oracle "
                               "(conformance/qemu/qemu_answer_x86_64.py) or run with --answer-ref");
    ref_x86_walk_t fresh;
    ref_x86_translate(env->mem, &st->regs, L.va, L.access, false, &fresh);
    L.alts[0] = with_pma(env, observed(fresh.outcome, fresh.pa, fresh.pfec, fresh.level, L.va), L.va);
    L.n_alts = 1;
    (*env->expectations)++;
    run_translate(st, env, &L);
    return CONFORM_DONE;
}

/* ---- the part ------------------------------------------------------------------------- */

static void *x86_start(void)
{
    x86_state_t *st = conform_zalloc(sizeof *st);
    if (st)
        ref_x86_tlb_reset(&st->tlb);
    return st;
}

static void x86_stop(void *state)
{
    conform_zfree(state, sizeof(x86_state_t));
}

/* `mode x86_64` / `mode x86_64_la57`: select VM_PAGING_X86_64 (a full
 * flush) and write CR4.LA57 (a register write like `cr4`). */
static int mode_line(x86_state_t *st, const conform_env_t *env, bool la57)
{
    ref_x86_tlb_flush_all(&st->tlb);
    st->active = true;
    if (env->core)
        vm_mmu_set_paging_mode(env->core, VM_PAGING_X86_64);
    ref_x86_regs_t next = st->regs;
    uint64_t la57_bit = UINT64_C(1) << 12;
    next.cr4 = la57 ? next.cr4 | la57_bit : next.cr4 & ~la57_bit;
    if (next.cr4 == st->regs.cr4)
        return CONFORM_DONE;
    return write_register(st, env, &next, false, 0, false);
}

static int x86_line(void *state, const conform_env_t *env, char **tok, int ntok)
{
    x86_state_t *st = state;
    const char *kw = tok[0];

    if (!strcmp(kw, "mode") && ntok == 2) {
        if (!strcmp(tok[1], "x86_64"))
            return mode_line(st, env, false);
        if (!strcmp(tok[1], "x86_64_la57"))
            return mode_line(st, env, true);
        /* Every vm_mmu_set_paging_mode flushes both TLBs (mmu.h). */
        ref_x86_tlb_flush_all(&st->tlb);
        st->active = false;
        return CONFORM_NOT_MINE;
    }
    if (is_register_word(kw))
        return register_line(st, env, tok, ntok);
    if (!st->active)
        return !strcmp(kw, "invlpg") || !strcmp(kw, "invpcid")
                   ? case_error(env, "%s needs 'mode x86_64' or 'mode x86_64_la57'", kw)
                   : CONFORM_NOT_MINE;
    if (!strcmp(kw, "invlpg"))
        return invlpg_line(st, env, tok, ntok);
    if (!strcmp(kw, "invpcid"))
        return invpcid_line(st, env, tok, ntok);
    if (!strcmp(kw, "flush"))
        return flush_line(st, env, tok, ntok);
    if (!strcmp(kw, "check"))
        return check_line(st, env, tok, ntok);
    if (!strcmp(kw, "expect") && ntok >= 2 && is_register_word(tok[1]))
        return expect_register(st, env, tok, ntok);
    if (!strcmp(kw, "expect") && ntok >= 2 &&
        (!strncmp(tok[1], "read", 4) || !strncmp(tok[1], "write", 5) || !strncmp(tok[1], "exec", 4))) {
        x86_expect_t L;
        if (parse_expect(env, tok, ntok, &L))
            return CONFORM_ERROR;
        (*env->expectations)++;
        if (L.size == 0)
            run_translate(st, env, &L);
        else
            run_sized(st, env, &L);
        return CONFORM_DONE;
    }
    return CONFORM_NOT_MINE;
}

const conform_arch_t conform_x86_64 = { "x86_64", x86_start, x86_line, x86_stop,
                                        check_tlb_contents };
