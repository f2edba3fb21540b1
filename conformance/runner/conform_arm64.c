/*
 * conform_arm64.c - vmmem-conform's AArch64 part: the `mode arm64` lines
 * of .vmc cases, replayed on the core (vm_mmu_set_arm64_regs,
 * vm_mmu_translate, vm_mmu_read/write/fetch_insn, vm_mmu_arm64_tlbi) and on
 * the reference (ref_a64_translate, ref_a64_tlb_*), compared with each
 * other and with the case's expectations.
 *
 * How it works: the part keeps the reference's copy of the Arm registers
 * and its TLB oracle for the whole file. A register line (`ttbr0 V`,
 * `ttbr1 V`, `tcr V`, `sctlr V`, `el N`, `pan N`, `parange N`) changes that
 * one register: the core gets vm_mmu_set_arm64_regs with the current values
 * of all the others (read back from the core before the call), the
 * reference predicts from arm64.h's contract whether the write is accepted
 * (ref_a64_regs_check) and which TLB entries it drops (ref_a64_tlb_write_regs);
 * there is no implicit flush. `expect ACCESS VA -> ANSWER` translates on both
 * (or, sized, performs the access), and checks that the reference's fresh
 * answer is listed, that the core's is listed AND legal under the TLB
 * oracle, and that the core's fault record (kind, level, syndrome = FSC and
 * WnR, exception class, VA, descriptor where the walk stopped) is right.
 * The format is documented in conformance/README.md ("Arm64 cases").
 *
 * Walk or hit (conformance/README.md): the core's TLB counters, read
 * around each access (conform_counts.h), say which it did. A miss is a
 * walk: its answer must be the fresh walk's and it must leave exactly the
 * fresh walk's descriptor update in memory; only then does the reference apply
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
 * memory); a rejected register write must be announced in the case (`->
 * rejected`), otherwise it is a malformed case (exit 2), so a typo in a
 * register value cannot silently test nothing.
 *
 * Rejected: teaching the RISC-V paths of vmmem_conform.c about Arm (every
 * function there would need an `if (arm)`); one generic answer type for all
 * architectures (the Arm answer needs the fault level and FSC).
 */
#include "conform_arch.h"
#include "conform_counts.h"
#include "mmu_int.h" /* white-box: the fields of the core's TLB entries (entry_remembered) */
#include "ref_model.h"
#include "vmmem/arm64.h"
#include "vmmem/mmu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers beyond the reference's fault types. */
enum {
    A64_MISALIGNED = REF_A64_FAULT_COUNT, /* alignment fault (strict 1), FSC 0x21 */
    A64_ANY_ABORT,                        /* the case word access-fault: either external abort */
    A64_CORE_ERROR,                       /* a core error the format cannot express */
};
#define A64_MAX_ALTS 4

typedef struct a64_state {
    bool active;           /* `mode arm64` is the current mode */
    ref_a64_regs_t regs;   /* the reference's registers (all zero at the start) */
    ref_a64_tlb_t tlb;
} a64_state_t;

/* One answer: listed in a case, or observed. */
typedef struct a64_ans {
    int fault;             /* REF_A64_*, A64_* */
    uint64_t pa;           /* NO_FAULT */
    bool has_level, has_fsc, has_fva;
    int level;
    uint32_t fsc;
    uint64_t fva;
    vm_err_t err;          /* A64_CORE_ERROR */
} a64_ans_t;

typedef struct a64_expect {
    int access;
    unsigned size;         /* 0: the unsized translate form */
    uint64_t va;
    bool has_value;
    uint64_t value;
    a64_ans_t alts[A64_MAX_ALTS];
    int n_alts;
} a64_expect_t;

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

static const char *fault_word(int fault)
{
    switch (fault) {
    case A64_MISALIGNED: return "misaligned";
    case A64_ANY_ABORT: return "access-fault";
    case A64_CORE_ERROR: return "error";
    default: return ref_a64_fault_name(fault);
    }
}

static uint32_t ans_fsc(const a64_ans_t *a)
{
    return a->fault == A64_MISALIGNED ? 0x21 : ref_a64_fsc(a->fault, a->level);
}

static void format_ans(char *buf, size_t len, const a64_ans_t *a)
{
    if (a->fault == REF_A64_NO_FAULT) {
        snprintf(buf, len, "0x%llx", (unsigned long long)a->pa);
        return;
    }
    if (a->fault == A64_CORE_ERROR) {
        snprintf(buf, len, "error(%s)", vm_strerror(a->err));
        return;
    }
    int n = snprintf(buf, len, "%s", fault_word(a->fault));
    if (a->has_level && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " level %d", a->level);
    if (a->has_fsc && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, " fsc 0x%02x", a->fsc);
    if (a->has_fva && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, " @ 0x%llx", (unsigned long long)a->fva);
}

static void format_alts(char *buf, size_t len, const a64_ans_t *alts, int n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < n && used < len; k++) {
        char one[128];
        format_ans(one, sizeof one, &alts[k]);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? " | " : "", one);
    }
}

/* An observed answer with everything filled in (level, FSC, fault VA). */
static a64_ans_t observed(int fault, int level, uint64_t pa, uint64_t fva)
{
    a64_ans_t a = { 0 };
    a.fault = fault;
    a.pa = fault == REF_A64_NO_FAULT ? pa : 0;
    if (fault != REF_A64_NO_FAULT) {
        a.has_level = true;
        a.level = level;
        a.has_fsc = true;
        a.fsc = fault == A64_MISALIGNED ? 0x21 : ref_a64_fsc(fault, level);
        a.has_fva = true;
        a.fva = fva;
    }
    return a;
}

/* Does the observed answer `got` fit the listed `want`? */
static bool fits(const a64_ans_t *want, const a64_ans_t *got)
{
    if (want->fault == A64_ANY_ABORT) {
        if (got->fault != REF_A64_WALK_ABORT && got->fault != REF_A64_DATA_ABORT)
            return false;
    } else if (want->fault != got->fault) {
        return false;
    }
    if (got->fault == REF_A64_NO_FAULT)
        return want->pa == got->pa;
    if (want->has_level && got->level != want->level)
        return false;
    if (want->has_fsc && ans_fsc(got) != want->fsc)
        return false;
    if (want->has_fva && got->fva != want->fva)
        return false;
    return true;
}

static bool fits_any(const a64_expect_t *L, const a64_ans_t *got)
{
    for (int k = 0; k < L->n_alts; k++)
        if (fits(&L->alts[k], got))
            return true;
    return false;
}

/* ---- the core ----------------------------------------------------------- */

static vm_access_t vm_access_of(int access)
{
    return access == REF_WRITE ? VM_ACCESS_WRITE : access == REF_EXEC ? VM_ACCESS_EXEC : VM_ACCESS_READ;
}

/* The core's answer from its return code and fault record. */
static a64_ans_t core_answer(const conform_env_t *env, vm_err_t err, uint64_t pa)
{
    const vm_fault_t *f = vm_mmu_last_fault(env->core);
    switch (err) {
    case VM_OK:
        return observed(REF_A64_NO_FAULT, 0, pa, 0);
    case VM_ERR_PAGE_FAULT:
        switch (f->kind) {
        case VM_FAULT_TRANSLATION: return observed(REF_A64_TRANSLATION, f->level, 0, f->va);
        case VM_FAULT_ACCESS_FLAG: return observed(REF_A64_ACCESS_FLAG, f->level, 0, f->va);
        case VM_FAULT_PERMISSION: return observed(REF_A64_PERMISSION, f->level, 0, f->va);
        case VM_FAULT_ADDRESS_SIZE: return observed(REF_A64_ADDRESS_SIZE, f->level, 0, f->va);
        default: break;
        }
        break;
    case VM_ERR_ACCESS_FAULT:
        /* FSC 0b0101LL: on a table walk; otherwise the data access. */
        if ((f->syndrome & 0x3c) == 0x14)
            return observed(REF_A64_WALK_ABORT, f->level, 0, f->va);
        return observed(REF_A64_DATA_ABORT, -1, 0, f->va);
    case VM_ERR_ALIGNMENT_FAULT:
        return observed(A64_MISALIGNED, -1, 0, f->va);
    default:
        break;
    }
    a64_ans_t a = { 0 };
    a.fault = A64_CORE_ERROR;
    a.err = err;
    return a;
}

static vm_fault_kind_t vm_kind_of(int fault)
{
    switch (fault) {
    case REF_A64_TRANSLATION: return VM_FAULT_TRANSLATION;
    case REF_A64_ACCESS_FLAG: return VM_FAULT_ACCESS_FLAG;
    case REF_A64_PERMISSION: return VM_FAULT_PERMISSION;
    case REF_A64_ADDRESS_SIZE: return VM_FAULT_ADDRESS_SIZE;
    case REF_A64_WALK_ABORT:
    case REF_A64_DATA_ABORT: return VM_FAULT_ACCESS;
    case A64_MISALIGNED: return VM_FAULT_MISALIGNED;
    default: return VM_FAULT_NONE;
    }
}

/*
 * The fault record f of a core fault `got` (already judged legal): kind,
 * exception class, syndrome (FSC with the level, WnR for data aborts), the
 * access and the VA (arm64.h, mmu.h). NULL if it agrees.
 */
static const char *check_fault_record(const vm_fault_t *f, const a64_state_t *st,
                                      const a64_ans_t *got, int access, uint64_t want_fva,
                                      char *buf, size_t len)
{
    uint32_t want_cause = ref_a64_exception_class(st->regs.el, access);
    uint32_t want_syn = got->fault == A64_MISALIGNED
                            ? 0x21u | (access == REF_WRITE ? 1u << 6 : 0)
                            : ref_a64_syndrome(got->fault, got->level, access);
    if (f->kind != vm_kind_of(got->fault) || f->cause != want_cause || f->syndrome != want_syn) {
        snprintf(buf, len, "core fault record: kind %d EC 0x%x ISS 0x%x; want kind %d EC 0x%x ISS 0x%x",
                 (int)f->kind, f->cause, f->syndrome, (int)vm_kind_of(got->fault), want_cause, want_syn);
        return buf;
    }
    if (f->va != want_fva || (int)f->access != (int)vm_access_of(access)) {
        snprintf(buf, len, "core fault record: va 0x%llx access %d; want va 0x%llx access %d",
                 (unsigned long long)f->va, (int)f->access, (unsigned long long)want_fva, access);
        return buf;
    }
    return NULL;
}

/*
 * After a walk fault the core found by walking (no remembered entry covers
 * the VA): the record names the descriptor where the walk stopped (its
 * address and value; 0 when the read failed). NULL if it agrees.
 */
static const char *check_fault_walk(const conform_env_t *env, const ref_a64_walk_t *fresh,
                                    char *buf, size_t len)
{
    const vm_fault_t *f = vm_mmu_last_fault(env->core);
    if (fresh->n_steps == 0 && (f->pte_addr != 0 || f->pte != 0)) {
        snprintf(buf, len, "core fault record: desc@0x%llx=0x%llx for a fault found before any "
                           "descriptor read (arm64.h: 0, 0)",
                 (unsigned long long)f->pte_addr, (unsigned long long)f->pte);
        return buf;
    }
    for (int k = 0; k < fresh->n_steps; k++) {
        const ref_a64_step_t *s = &fresh->steps[k];
        if (s->level != fresh->level)
            continue;
        if (f->pte_addr != s->descaddr || f->pte != s->desc) {
            snprintf(buf, len, "core fault record: desc@0x%llx=0x%llx; the walk stopped at "
                               "desc@0x%llx=0x%llx (level %d)",
                     (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                     (unsigned long long)s->descaddr, (unsigned long long)s->desc, fresh->level);
            return buf;
        }
    }
    return NULL;
}

/* ---- registers ------------------------------------------------------------ */

static void to_vm_regs(const ref_a64_regs_t *r, vm_arm64_regs_t *v)
{
    memset(v, 0, sizeof *v);
    v->ttbr0 = r->ttbr0;
    v->ttbr1 = r->ttbr1;
    v->tcr = r->tcr;
    v->sctlr = r->sctlr;
    v->el = (uint8_t)r->el;
    v->pan = (uint8_t)r->pan;
    v->pa_bits = (uint8_t)r->pa_bits;
}

static bool regs_equal(const vm_arm64_regs_t *a, const ref_a64_regs_t *r)
{
    int pa = a->pa_bits ? a->pa_bits : 48;
    return a->ttbr0 == r->ttbr0 && a->ttbr1 == r->ttbr1 && a->tcr == r->tcr &&
           a->sctlr == r->sctlr && a->el == r->el && a->pan == r->pan && pa == ref_a64_pa_max(r);
}

static void fail_line(const conform_env_t *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

/* ---- what the core's TLBs hold (white-box) ------------------------------ */

/* Is the core TLB entry e (ITLB if exec_side) one the reference remembers:
 * same side, (normalised) page and size, output page, and global only if
 * the remembered one is, else the same ASID? */
static bool entry_remembered(const void *state, const struct tlb_entry *e, bool exec_side)
{
    const a64_state_t *st = state;
    return ref_a64_tlb_remembers(&st->tlb, exec_side, e->tag, e->shift, e->pa_base,
                                 e->asid_mask == 0, e->asid);
}

/*
 * conform_arch_t.check_tlb, after every line in Arm64 mode: every entry in
 * the core's TLBs must be one the reference remembers. A TLBI that keeps
 * what it must drop (BUG-CLASSES 8, 9, 10; nG ignored, a TTBR or TCR write
 * keeping entries of another ASID width) fails at that line, not only when
 * a later line comes back to that ASID and page; an entry filled under the
 * wrong ASID or by a walk that should have faulted fails at the access. So
 * a fuzz finding shrinks to a short case. The fuzz target runs the same
 * check after its non-translating ops (fuzz/arm64_world.c).
 */
static void check_tlb_contents(void *state, const conform_env_t *env)
{
    const a64_state_t *st = state;
    if (st->active && vm_mmu_paging_mode(env->core) == VM_PAGING_ARM64)
        conform_check_core_tlbs(env, st, entry_remembered, "block", "asid", "entry");
}

/* `ttbr0 V`, `ttbr1 V`, `tcr V`, `sctlr V`, `el N`, `pan N`, `parange N`,
 * each optionally followed by `-> rejected`. */
static int register_line(a64_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    const char *kw = tok[0];
    uint64_t v;
    bool want_reject = ntok == 4 && !strcmp(tok[2], "->") && !strcmp(tok[3], "rejected");
    if ((ntok != 2 && !want_reject) || !conform_parse_u64(tok[1], &v))
        return case_error(env, "expected: %s VALUE [-> rejected]", kw);
    ref_a64_regs_t next = st->regs;
    if (!strcmp(kw, "ttbr0")) next.ttbr0 = v;
    else if (!strcmp(kw, "ttbr1")) next.ttbr1 = v;
    else if (!strcmp(kw, "tcr")) next.tcr = v;
    else if (!strcmp(kw, "sctlr")) next.sctlr = v;
    else if (v > 255) return case_error(env, "%s: value %llu out of range", kw, (unsigned long long)v);
    else if (!strcmp(kw, "el")) next.el = (int)v;
    else if (!strcmp(kw, "pan")) next.pan = (int)v;
    else next.pa_bits = (int)v;

    int verdict = ref_a64_regs_check(&next);
    if (verdict && !want_reject)
        return case_error(env, "vmmem refuses this register state (arm64.h, vm_mmu_set_arm64_regs%s%s); "
                               "write '-> rejected' if that is the point",
                          verdict & REF_A64_REGS_INVALID ? ": invalid argument" : "",
                          verdict & REF_A64_REGS_UNSUPPORTED ? ": TCR.DS unsupported" : "");
    if (want_reject) {
        (*env->expectations)++;
        if (!verdict)
            fail_line(env, "expected the write to be rejected; the contract (reference) accepts it");
    }

    if (env->core) {
        vm_arm64_regs_t before, want, after;
        vm_mmu_arm64_regs(env->core, &before);
        if (!regs_equal(&before, &st->regs))
            fail_line(env, "the core's Arm registers before this write differ from the reference's");
        to_vm_regs(&next, &want);
        vm_err_t err = vm_mmu_set_arm64_regs(env->core, &want);
        bool err_ok = verdict == 0 ? err == VM_OK
                      : (err == VM_ERR_INVALID_ARGUMENT && (verdict & REF_A64_REGS_INVALID)) ||
                            (err == VM_ERR_UNSUPPORTED && (verdict & REF_A64_REGS_UNSUPPORTED));
        if (!err_ok)
            fail_line(env, "vm_mmu_set_arm64_regs returned %s; the contract says %s", vm_strerror(err),
                      verdict == 0 ? "VM_OK"
                      : verdict & REF_A64_REGS_INVALID ? "VM_ERR_INVALID_ARGUMENT"
                                                       : "VM_ERR_UNSUPPORTED");
        vm_mmu_arm64_regs(env->core, &after);
        if (!regs_equal(&after, verdict ? &st->regs : &next))
            fail_line(env, "after the write the core's registers read back ttbr0=0x%llx ttbr1=0x%llx "
                           "tcr=0x%llx sctlr=0x%llx el=%u pan=%u pa_bits=%u, expected %s",
                      (unsigned long long)after.ttbr0, (unsigned long long)after.ttbr1,
                      (unsigned long long)after.tcr, (unsigned long long)after.sctlr, after.el,
                      after.pan, after.pa_bits, verdict ? "no change" : "the new value");
    }
    if (!verdict) {
        ref_a64_tlb_write_regs(&st->tlb, &st->regs, &next);
        st->regs = next;
    } else if (env->verbose && want_reject) {
        printf("%s:%d: ok\n", env->file, env->line);
    }
    return CONFORM_DONE;
}

/* ---- flushes ------------------------------------------------------------ */

static const char *const tlbi_names[REF_A64_TLBI_COUNT] = { "vmalle1", "aside1", "vae1",
                                                            "vaae1",   "vale1",  "vaale1" };

/*
 * `tlbi vmalle1`, `tlbi aside1 ASID`, `tlbi vae1|vale1 VA ASID`,
 * `tlbi vaae1|vaale1 VA`, or any of them with a raw operand: `tlbi OP xt XT`.
 */
static int tlbi_line(a64_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    int op = -1;
    for (int k = 0; k < REF_A64_TLBI_COUNT; k++)
        if (ntok >= 2 && !strcmp(tok[1], tlbi_names[k]))
            op = k;
    if (op < 0)
        return case_error(env, "expected: tlbi vmalle1|aside1|vae1|vaae1|vale1|vaale1 ...");
    uint64_t xt = 0, va = 0, asid = 0;
    bool has_va = op == REF_A64_TLBI_VAE1 || op == REF_A64_TLBI_VALE1 ||
                  op == REF_A64_TLBI_VAAE1 || op == REF_A64_TLBI_VAALE1;
    bool has_asid = op == REF_A64_TLBI_ASIDE1 || op == REF_A64_TLBI_VAE1 || op == REF_A64_TLBI_VALE1;
    if (ntok == 4 && !strcmp(tok[2], "xt")) {
        if (!conform_parse_u64(tok[3], &xt))
            return case_error(env, "bad operand '%s'", tok[3]);
    } else {
        int want = 2 + has_va + has_asid;
        int pos = 2;
        if (ntok != want || (has_va && !conform_parse_u64(tok[pos++], &va)) ||
            (has_asid && (!conform_parse_u64(tok[pos++], &asid) || asid > 0xffff)))
            return case_error(env, "expected: tlbi %s%s%s (or tlbi %s xt OPERAND)", tlbi_names[op],
                              has_va ? " VA" : "", has_asid ? " ASID" : "", tlbi_names[op]);
        /* The operand: ASID in xt<63:48>, VA[55:12] in xt<43:0>. */
        xt = asid << 48 | ((va >> 12) & ((UINT64_C(1) << 44) - 1));
    }
    ref_a64_tlb_tlbi(&st->tlb, &st->regs, op, xt);
    if (env->core) {
        vm_err_t err = vm_mmu_arm64_tlbi(env->core, (vm_arm64_tlbi_t)op, xt);
        if (err != VM_OK)
            fail_line(env, "vm_mmu_arm64_tlbi(%s, 0x%llx) returned %s", tlbi_names[op],
                      (unsigned long long)xt, vm_strerror(err));
    }
    return CONFORM_DONE;
}

static int flush_line(a64_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    uint64_t v;
    if (ntok == 2 && !strcmp(tok[1], "all")) {
        ref_a64_tlb_flush_all(&st->tlb);
        if (env->core)
            vm_mmu_flush_tlb(env->core);
        return CONFORM_DONE;
    }
    if (ntok == 3 && !strcmp(tok[1], "asid") && conform_parse_u64(tok[2], &v) && v <= 0xffff) {
        ref_a64_tlb_flush_asid(&st->tlb, (uint16_t)v);
        if (env->core)
            vm_mmu_flush_tlb_asid(env->core, (uint16_t)v);
        return CONFORM_DONE;
    }
    if (ntok == 3 && !strcmp(tok[1], "page") && conform_parse_u64(tok[2], &v)) {
        ref_a64_tlb_flush_page(&st->tlb, v);
        if (env->core)
            vm_mmu_flush_tlb_page(env->core, v);
        return CONFORM_DONE;
    }
    /* vm_mmu_flush_tlb_page_asid (VA, ASID, and the global entries too with
     * `global`) and vm_mmu_flush_tlb_nonglobal: the generic flushes the fuzz
     * target issues, so its findings can be written as cases. */
    uint64_t asid;
    bool glob = ntok == 6 && !strcmp(tok[5], "global");
    if ((ntok == 5 || glob) && !strcmp(tok[1], "page") && conform_parse_u64(tok[2], &v) &&
        !strcmp(tok[3], "asid") && conform_parse_u64(tok[4], &asid) && asid <= 0xffff) {
        ref_a64_tlb_flush_page_asid(&st->tlb, v, (uint16_t)asid, glob);
        if (env->core)
            vm_mmu_flush_tlb_page_asid(env->core, v, (uint16_t)asid, glob);
        return CONFORM_DONE;
    }
    if (ntok == 2 && !strcmp(tok[1], "nonglobal")) {
        ref_a64_tlb_flush_nonglobal(&st->tlb);
        if (env->core)
            vm_mmu_flush_tlb_nonglobal(env->core);
        return CONFORM_DONE;
    }
    return case_error(env, "expected: flush all | flush asid N (0..65535) | flush page VA "
                           "[asid N [global]] | flush nonglobal");
}

/* ---- expect ACCESS VA [= V] -> ANSWER [| ANSWER]... ----------------------- */

/* ANSWER: PA | FAULT-WORD [level N] [fsc V] [@ VA] */
static int parse_alt(const conform_env_t *env, char **tok, int ntok, int *pos, a64_ans_t *a)
{
    static const struct { const char *word; int fault; } words[] = {
        { "translation-fault", REF_A64_TRANSLATION }, { "access-flag-fault", REF_A64_ACCESS_FLAG },
        { "permission-fault", REF_A64_PERMISSION },   { "address-size-fault", REF_A64_ADDRESS_SIZE },
        { "access-fault", A64_ANY_ABORT },           { "misaligned", A64_MISALIGNED },
    };
    memset(a, 0, sizeof *a);
    const char *t = tok[*pos];
    a->fault = -1;
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(t, words[k].word))
            a->fault = words[k].fault;
    if (a->fault < 0) {
        a->fault = REF_A64_NO_FAULT;
        if (!conform_parse_u64(t, &a->pa))
            return case_error(env, "bad answer '%s' (a PA, translation-fault, access-flag-fault, "
                                   "permission-fault, address-size-fault, access-fault or misaligned)", t);
        (*pos)++;
        return 0;
    }
    (*pos)++;
    while (*pos < ntok && strcmp(tok[*pos], "|")) {
        uint64_t v;
        const char *w = tok[*pos];
        if (*pos + 1 >= ntok || !conform_parse_u64(tok[*pos + 1], &v))
            return case_error(env, "'%s' needs a number", w);
        if (!strcmp(w, "level") && v <= 3) {
            a->has_level = true;
            a->level = (int)v;
        } else if (!strcmp(w, "fsc") && v <= 0x3f) {
            a->has_fsc = true;
            a->fsc = (uint32_t)v;
        } else if (!strcmp(w, "@")) {
            a->has_fva = true;
            a->fva = v;
        } else {
            return case_error(env, "unexpected '%s %s' (level 0..3, fsc 0..0x3f, @ VA)", w, tok[*pos + 1]);
        }
        *pos += 2;
    }
    return 0;
}

static int parse_expect(const conform_env_t *env, char **tok, int ntok, a64_expect_t *L)
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
        if (L->n_alts == A64_MAX_ALTS)
            return case_error(env, "at most %d alternatives", A64_MAX_ALTS);
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

/* The PMA check of the data access: RAM or a well-formed MMIO access. */
static bool backed(const conform_env_t *env, uint64_t pa, uint64_t size)
{
    int region;
    uint64_t offset;
    int r = ref_mem_route(env->mem, pa, size, &region, &offset);
    return r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO;
}

static void report(const conform_env_t *env, const a64_state_t *st, const a64_expect_t *L,
                   const char *core_text, const a64_ans_t *ref, const ref_a64_walk_t *walks,
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
        ref_a64_walk_print(&walks[p], part_va[p], L->access, stdout);
    ref_a64_tlb_print_covering(&st->tlb, &st->regs, L->va, stdout);
    if (env->core) {
        const vm_fault_t *f = vm_mmu_last_fault(env->core);
        if (f->kind != VM_FAULT_NONE)
            printf("  core fault record: kind=%d va=0x%llx EC=0x%x ISS=0x%x level=%d "
                   "desc@0x%llx=0x%016llx (%s)\n",
                   (int)f->kind, (unsigned long long)f->va, f->cause, f->syndrome, f->level,
                   (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                   f->reason ? f->reason : "");
    }
    (*env->failures)++;
}

static void judge(const conform_env_t *env, const a64_state_t *st, const a64_expect_t *L,
                  const a64_ans_t *core, const a64_ans_t *ref, const ref_a64_walk_t *walks,
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

static uint64_t ram_load(const conform_env_t *env, uint64_t pa, unsigned n)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)env->mem->ram[pa - env->mem->base + k] << (8 * k);
    return v;
}

static bool in_ram(const conform_env_t *env, uint64_t pa, uint64_t n)
{
    return ref_mem_in_ram(env->mem, pa, n);
}

/*
 * The core walked (its answer is the fresh one): remember the leaf. (On a
 * faulting access with a pending AF update, AFUPDATE, arm64.h pins vmmem's
 * choice - the model's: no update - so memory stays comparable with
 * `expect rN`.)
 */
static void after_walk(a64_state_t *st, int access, ref_a64_walk_t *w)
{
    ref_a64_tlb_record(&st->tlb, &st->regs, access, w, false);
}

/* In --ref-only: every listed answer must itself be legal (a case cannot
 * list an answer the architecture forbids). */
static const char *check_alts_legal(const a64_state_t *st, const a64_expect_t *L,
                                    const ref_a64_walk_t *fresh, char *buf, size_t len)
{
    for (int k = 0; k < L->n_alts; k++) {
        const a64_ans_t *a = &L->alts[k];
        if (a->fault == A64_ANY_ABORT || a->fault == A64_MISALIGNED)
            continue;  /* the data access / alignment, not the translation */
        bool legal = false;
        for (int level = 0; level <= 3 && !legal; level++) {
            ref_a64_answer_t cand = { a->fault, a->has_level ? a->level : level, a->pa };
            legal = ref_a64_tlb_legal(&st->tlb, &st->regs, L->va, L->access, fresh, &cand);
        }
        if (!legal) {
            snprintf(buf, len, "listed answer #%d is not a legal answer", k + 1);
            return buf;
        }
    }
    return NULL;
}

/*
 * Answers that need no TLB (arm64.h, mmu.h): stage 1 off (PA = VA), and a
 * VA outside both ranges or in a disabled one (a Translation fault before
 * any descriptor is read). The core may give them without counting a
 * lookup; every other translation counts exactly one hit or one miss.
 */
static bool tlb_free(const ref_a64_walk_t *fresh)
{
    return !fresh->s1_enabled ||
           (fresh->fault == REF_A64_TRANSLATION && fresh->n_steps == 0 && fresh->startlevel < 0);
}

static bool is_fresh(const ref_a64_walk_t *fresh, const ref_a64_answer_t *got)
{
    return got->fault == fresh->fault &&
           (got->fault == REF_A64_NO_FAULT ? got->pa == fresh->pa : got->level == fresh->level);
}

/*
 * The descriptors the walk read, core vs reference, after the reference
 * followed the core (its update applied only if the core walked): a walk
 * writes exactly the fresh update, a hit writes nothing. NULL if equal.
 */
static const char *check_descriptors(const conform_env_t *env, const ref_a64_walk_t *w,
                                     bool walked, char *buf, size_t len)
{
    if (!env->core)
        return NULL;
    for (int k = 0; k < w->n_steps; k++) {
        uint64_t a = w->steps[k].descaddr, core = 0;
        if (!in_ram(env, a, 8))
            continue;
        uint64_t ref = ram_load(env, a, 8);
        if (vm_mmu_read_phys(env->core, a, 8, &core) != VM_OK || core != ref) {
            snprintf(buf, len, "the descriptor at 0x%llx is 0x%llx in the core, 0x%llx in the "
                               "reference (after a %s)",
                     (unsigned long long)a, (unsigned long long)core, (unsigned long long)ref,
                     walked ? "walk: exactly its update" : "TLB hit: no write");
            return buf;
        }
    }
    return NULL;
}

/*
 * The walk-or-hit rule for one translated page (conformance/README.md,
 * "Walk or hit"): the counters moved by exactly one hit or one miss (or by
 * nothing for an answer that needs no TLB); a miss is a walk, whose answer
 * must be the fresh walk's (its level too); a hit must be justified by a
 * remembered entry re-checked under the current EL/PAN/WXN. NULL if the
 * answer `got` fits; *walked says which of the two the core did.
 */
static const char *walk_or_hit(const a64_state_t *st, const conform_counts_t *c,
                               const a64_expect_t *L, const ref_a64_walk_t *fresh,
                               const ref_a64_answer_t *got, bool *walked, char *buf, size_t len)
{
    bool free_answer = tlb_free(fresh);
    *walked = c->dm == 1 || (c->dh + c->dm == 0 && free_answer);
    if (c->dh + c->dm > 1 || (c->dh + c->dm == 0 && !free_answer)) {
        snprintf(buf, len, "the TLB counters moved by hits +%llu misses +%llu for one translation "
                           "(mmu.h: one hit or miss per page translated%s)",
                 (unsigned long long)c->dh, (unsigned long long)c->dm,
                 free_answer ? ", or none for an answer without the TLB" : "");
        return buf;
    }
    if (*walked && !is_fresh(fresh, got))
        return "the core walked (a TLB miss) but its answer is not the fresh walk's";
    if (!*walked && !ref_a64_tlb_hit_legal(&st->tlb, &st->regs, L->va, L->access, got))
        return "the core answered from its TLB (a hit) but no remembered entry gives that answer";
    return NULL;
}

/* The unsized form: vm_mmu_translate, then the PMA check of one byte. */
static void run_translate(a64_state_t *st, const conform_env_t *env, const a64_expect_t *L)
{
    ref_a64_walk_t fresh;
    ref_a64_translate(env->mem, &st->regs, L->va, L->access, false, &fresh);

    a64_ans_t core = { 0 };
    const char *extra = NULL;
    char buf[300];
    bool core_walked = true; /* --ref-only: the reference stands for the core */
    if (env->core) {
        vm_gpa_t cpa = 0;
        conform_counts_t counts;
        conform_counts_begin(env->core, &counts);
        vm_err_t err = vm_mmu_translate(env->core, L->va, vm_access_of(L->access), &cpa);
        conform_counts_end(env->core, &counts);
        a64_ans_t raw = core_answer(env, err, cpa);
        core = raw;
        ref_a64_answer_t got = { raw.fault, raw.level, raw.pa };
        bool walked = true;
        if (raw.fault == A64_CORE_ERROR || raw.fault == REF_A64_DATA_ABORT ||
            raw.fault == A64_MISALIGNED) {
            extra = "vm_mmu_translate gave an answer a translation cannot give";
        } else {
            extra = walk_or_hit(st, &counts, L, &fresh, &got, &walked, buf, sizeof buf);
            if (!extra && raw.fault != REF_A64_NO_FAULT) {
                extra = check_fault_record(vm_mmu_last_fault(env->core), st, &raw, L->access, L->va,
                                           buf, sizeof buf);
                if (!extra && walked)
                    extra = check_fault_walk(env, &fresh, buf, sizeof buf);
            }
        }
        /* Only a walk changes descriptors and fills the TLB: the reference
         * follows the core (a hit's answer may equal the fresh one while its
         * entry, not memory, decided it). */
        core_walked = walked && is_fresh(&fresh, &got);
        if (raw.fault == REF_A64_NO_FAULT && !backed(env, raw.pa, 1))
            core = observed(REF_A64_DATA_ABORT, -1, 0, L->va);
        if (!extra && !walked && !fits_any(L, &core))
            extra = "a legal TLB hit that the case does not list (add it with '|' or flush)";
    }

    /* The reference: its descriptor update applied, and its leaf
     * remembered, only when the core walked too. */
    ref_a64_walk_t w;
    ref_a64_translate(env->mem, &st->regs, L->va, L->access, core_walked, &w);
    a64_ans_t ref = observed(w.fault, w.level, w.pa, L->va);
    if (w.fault == REF_A64_NO_FAULT && !backed(env, w.pa, 1))
        ref = observed(REF_A64_DATA_ABORT, -1, 0, L->va);
    if (core_walked)
        after_walk(st, L->access, &w);
    if (!extra)
        extra = check_descriptors(env, &w, core_walked, buf, sizeof buf);

    if (env->ref_only && !extra)
        extra = check_alts_legal(st, L, &fresh, buf, sizeof buf);
    uint64_t part_va = L->va;
    judge(env, st, L, &core, &ref, &w, &part_va, 1, extra);
}

/*
 * The sized form on the reference, in the order vmmem documents (mmu.h):
 * alignment first (strict; Arm's AArch64.CheckAlignment precedes the
 * translation, so it is the only answer), every 4 KiB part translated before
 * any byte moves (a completed walk's descriptor update stays if a later part
 * faults), then the PMA check of each part (a misaligned access touching
 * MMIO is an access fault). Bit p of `apply` says whether part p's
 * descriptor update is written into the reference memory (the core walked
 * that part).
 */
typedef struct sized_result {
    a64_ans_t ans;
    int n_parts, walked;
    uint64_t part_va[2], part_pa[2];
    unsigned part_size[2];
    ref_a64_walk_t walk[2];
} sized_result_t;

static void ref_sized(a64_state_t *st, const conform_env_t *env, uint64_t va, int access,
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
    if (env->strict && size > 1 && va % size) {
        r->ans = observed(A64_MISALIGNED, -1, 0, va);
        return;
    }
    for (int p = 0; p < r->n_parts; p++) {
        ref_a64_translate(env->mem, &st->regs, r->part_va[p], access, (apply >> p) & 1,
                          &r->walk[p]);
        r->walked = p + 1;
        if (r->walk[p].fault != REF_A64_NO_FAULT) {
            r->ans = observed(r->walk[p].fault, r->walk[p].level, 0, r->part_va[p]);
            return;
        }
        r->part_pa[p] = r->walk[p].pa;
    }
    bool misaligned = va % size != 0;
    for (int p = 0; p < r->n_parts; p++) {
        int region;
        uint64_t offset;
        bool mmio = ref_mem_route(env->mem, r->part_pa[p], r->part_size[p], &region, &offset) ==
                    REF_ROUTE_MMIO;
        if (!backed(env, r->part_pa[p], r->part_size[p]) || (mmio && misaligned)) {
            r->ans = observed(REF_A64_DATA_ABORT, -1, 0, r->part_va[p]);
            return;
        }
    }
    r->ans = observed(REF_A64_NO_FAULT, 0, r->part_pa[0], 0);
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
            for (unsigned k = 0; k < r->part_size[p]; k++)
                env->mem->ram[r->part_pa[p] - env->mem->base + k] = (uint8_t)(v >> (shift + 8 * k));
        shift += 8 * r->part_size[p];
    }
}

/*
 * Which parts of a sized access the core walked, from the counters: all of
 * them (as many misses as parts, or an access without the TLB), none (no
 * miss), or - a page-crossing access with a hit and a miss - the parts
 * whose descriptor holds the fresh walk's update (a part without an update
 * counts as walked: memory is the same either way).
 */
static unsigned walked_parts(const conform_env_t *env, const sized_result_t *probe,
                             const conform_counts_t *c)
{
    if (tlb_free(&probe->walk[0]) || c->dm >= (uint64_t)probe->walked)
        return ~0u;
    if (c->dm == 0)
        return 0;
    unsigned mask = 0;
    for (int p = 0; p < probe->walked; p++) {
        const ref_a64_walk_t *w = &probe->walk[p];
        uint64_t word = 0;
        if (!w->desc_write ||
            (vm_mmu_read_phys(env->core, w->descaddr, 8, &word) == VM_OK && word == w->desc_new))
            mask |= 1u << p;
    }
    return mask;
}

/* How many parts a remembered entry (or an earlier part's fresh leaf) covers:
 * the most TLB hits the access can legally count. */
static uint64_t parts_covered(const a64_state_t *st, const sized_result_t *probe, int access)
{
    uint64_t covered = 0;
    for (int p = 0; p < probe->walked; p++) {
        bool c = ref_a64_tlb_covers(&st->tlb, &st->regs, probe->part_va[p], access);
        for (int q = 0; q < p && !c; q++) {
            const ref_a64_walk_t *w = &probe->walk[q];
            c = w->fault == REF_A64_NO_FAULT && w->blocksize_shift > 0 && w->blocksize_shift < 64 &&
                (probe->part_va[q] >> w->blocksize_shift) == (probe->part_va[p] >> w->blocksize_shift);
        }
        covered += c;
    }
    return covered;
}

/* The PMA check of a single-page data access at pa (ref_sized's): nothing
 * behind it, or a misaligned access touching MMIO. */
static bool data_aborts(const conform_env_t *env, uint64_t pa, uint64_t va, unsigned size)
{
    int region;
    uint64_t offset;
    bool mmio = ref_mem_route(env->mem, pa, size, &region, &offset) == REF_ROUTE_MMIO;
    return !backed(env, pa, size) || (mmio && va % size != 0);
}

static void run_sized(a64_state_t *st, const conform_env_t *env, const a64_expect_t *L)
{
    sized_result_t probe;
    ref_sized(st, env, L->va, L->access, L->size, 0, &probe);
    uint64_t store_value = L->has_value ? L->value
                           : probe.ans.fault == REF_A64_NO_FAULT ? sized_load(env, &probe) : 0;

    a64_ans_t core = { 0 };
    const char *extra = NULL;
    char buf[300];
    uint64_t loaded = 0;
    unsigned apply = ~0u; /* the parts the core walked (all in --ref-only) */
    uint64_t hit_pa = 0;  /* a data abort's PA, as the core translates it */
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
        if (probe.ans.fault != A64_MISALIGNED) {
            apply = walked_parts(env, &probe, &counts);
            uint64_t covered = parts_covered(st, &probe, L->access);
            if (counts.dh > covered) {
                snprintf(buf, sizeof buf, "the core counted %llu TLB hit(s) but only %llu page(s) "
                                          "of the access are covered by a remembered entry",
                         (unsigned long long)counts.dh, (unsigned long long)covered);
                extra = buf;
            }
        }
        uint64_t cpa = 0;
        core = core_answer(env, err, 0);
        record = *vm_mmu_last_fault(env->core); /* the access's, before translating again */
        if ((err == VM_OK || core.fault == REF_A64_DATA_ABORT) && !extra) {
            /* The PA of the first byte (for a data abort: where the access
             * went): translate again (the access already updated descriptors
             * and filled the TLB: no new side effect). */
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
        same = fits(&rr.ans, &core) && core.fault == rr.ans.fault;
        /* A single page answered from the TLB (no miss): judged by the
         * remembered entries alone, whatever the fresh walk says. */
        bool hit = probe.n_parts == 1 && probe.walked == 1 && probe.ans.fault != A64_MISALIGNED &&
                   !(apply & 1);
        if (hit) {
            same = false;
            if ((core.fault == REF_A64_NO_FAULT || core.fault == REF_A64_PERMISSION) &&
                (core.fault != REF_A64_NO_FAULT || backed(env, core.pa, L->size))) {
                ref_a64_answer_t got = { core.fault, core.level, core.pa };
                stale = ref_a64_tlb_hit_legal(&st->tlb, &st->regs, L->va, L->access, &got) &&
                        (core.fault == REF_A64_NO_FAULT || core.fva == L->va);
            } else if (core.fault == REF_A64_DATA_ABORT) {
                /* The entry's translation, then the data access's own check. */
                ref_a64_answer_t got = { REF_A64_NO_FAULT, 0, hit_pa };
                stale = ref_a64_tlb_hit_legal(&st->tlb, &st->regs, L->va, L->access, &got) &&
                        data_aborts(env, hit_pa, L->va, L->size) && core.fva == L->va;
            }
            if (!stale && !extra)
                extra = "the core answered from its TLB (a hit) but no remembered entry gives "
                        "that answer";
        } else if (!same && !extra) {
            extra = "not the answer the architecture gives";
        }
        if (!extra && core.fault != REF_A64_NO_FAULT && core.fault != A64_CORE_ERROR)
            extra = check_fault_record(&record, st, &core, L->access, stale ? L->va : rr.ans.fva,
                                       buf, sizeof buf);
        if (!extra && core.fault == REF_A64_NO_FAULT && L->access != REF_WRITE && L->has_value &&
            loaded != L->value) {
            snprintf(buf, sizeof buf, "core loaded 0x%llx, want 0x%llx", (unsigned long long)loaded,
                     (unsigned long long)L->value);
            extra = buf;
        }
        if (!extra && stale && !fits_any(L, &core))
            extra = "a legal TLB hit that the case does not list (add it with '|' or flush)";
    }
    /* Only the parts the core walked are remembered. */
    if ((same || stale) && rr.ans.fault != A64_MISALIGNED)
        for (int p = 0; p < rr.walked; p++)
            if ((apply >> p) & 1)
                after_walk(st, L->access, &rr.walk[p]);

    /* The data, where the core legally accessed it: the fresh PA, or the PA
     * of the remembered entry its hit used. */
    sized_result_t data = rr;
    if (stale && core.fault == REF_A64_NO_FAULT)
        data.part_pa[0] = core.pa;
    bool data_done = env->core ? (same && rr.ans.fault == REF_A64_NO_FAULT) ||
                                     (stale && core.fault == REF_A64_NO_FAULT)
                               : rr.ans.fault == REF_A64_NO_FAULT;
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
        extra = check_descriptors(env, &rr.walk[p], (apply >> p) & 1, buf, sizeof buf);
    if (!extra && rr.ans.fault == REF_A64_NO_FAULT && !stale && L->access != REF_WRITE &&
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
}

/*
 * `check ACCESS VA`: a question for an oracle (conformance/QEMU.md).
 * Unanswered, the file cannot be judged (exit 2); with --answer-ref the
 * reference answers it: the line runs as `expect ACCESS VA -> X` with X the
 * fresh walk's answer (its level and FSC too) plus the data access's check
 * of one byte, as the unsized expect computes it.
 */
static int check_line(a64_state_t *st, const conform_env_t *env, char **tok, int ntok)
{
    a64_expect_t L;
    memset(&L, 0, sizeof L);
    if (ntok != 3 || conform_parse_access_kind(tok[1], &L.access, &L.size) || L.size != 0 ||
        !conform_parse_u64(tok[2], &L.va))
        return case_error(env, "expected: check read|write|exec VA");
    if (!env->answer_ref)
        return case_error(env, "unanswered 'check' line: answer it with an oracle "
                               "(conformance/qemu/qemu_answer_arm64.py) or run with --answer-ref");
    ref_a64_walk_t fresh;
    ref_a64_translate(env->mem, &st->regs, L.va, L.access, false, &fresh);
    L.alts[0] = observed(fresh.fault, fresh.level, fresh.pa, L.va);
    if (fresh.fault == REF_A64_NO_FAULT && !backed(env, fresh.pa, 1))
        L.alts[0] = observed(REF_A64_DATA_ABORT, -1, 0, L.va);
    L.n_alts = 1;
    (*env->expectations)++;
    run_translate(st, env, &L);
    return CONFORM_DONE;
}

/* ---- the part ----------------------------------------------------------------- */

static void *arm64_start(void)
{
    a64_state_t *st = conform_zalloc(sizeof *st);
    if (st)
        ref_a64_tlb_reset(&st->tlb);
    return st;
}

static void arm64_stop(void *state)
{
    conform_zfree(state, sizeof(a64_state_t));
}

static bool is_register_word(const char *kw)
{
    static const char *const words[] = { "ttbr0", "ttbr1", "tcr", "sctlr", "el", "pan", "parange" };
    for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
        if (!strcmp(kw, words[k]))
            return true;
    return false;
}

static int arm64_line(void *state, const conform_env_t *env, char **tok, int ntok)
{
    a64_state_t *st = state;
    const char *kw = tok[0];

    if (!strcmp(kw, "mode") && ntok == 2) {
        /* Every vm_mmu_set_paging_mode flushes both TLBs (mmu.h). */
        ref_a64_tlb_flush_all(&st->tlb);
        st->active = !strcmp(tok[1], "arm64");
        if (!st->active)
            return CONFORM_NOT_MINE;
        if (env->core)
            vm_mmu_set_paging_mode(env->core, VM_PAGING_ARM64);
        return CONFORM_DONE;
    }
    if (is_register_word(kw))
        return register_line(st, env, tok, ntok);
    if (!st->active)
        return !strcmp(kw, "tlbi") ? case_error(env, "tlbi needs 'mode arm64'") : CONFORM_NOT_MINE;
    if (!strcmp(kw, "tlbi"))
        return tlbi_line(st, env, tok, ntok);
    if (!strcmp(kw, "flush"))
        return flush_line(st, env, tok, ntok);
    if (!strcmp(kw, "check"))
        return check_line(st, env, tok, ntok);
    if (!strcmp(kw, "expect") && ntok >= 2 &&
        (!strncmp(tok[1], "read", 4) || !strncmp(tok[1], "write", 5) || !strncmp(tok[1], "exec", 4))) {
        a64_expect_t L;
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

const conform_arch_t conform_arm64 = { "arm64", arm64_start, arm64_line, arm64_stop,
                                       check_tlb_contents };
