/*
 * vmmem-conform - replay .vmc conformance cases on the core and on the
 * reference models, and compare both with the case's expectations.
 *
 * Usage: vmmem-conform [--ref-only] [--answer-ref] [-v] FILE...
 *
 * How it works: each file is replayed from a fresh state on two machines
 * side by side: the core (a vm_mmu_t over its own vm_physmem_t) and the
 * reference (a calloc'd ref_mem_t, a ref_rv_state_t, a ref_tlb_t that
 * remembers what the core may have cached). Set-up lines (mode, satp, priv,
 * physical writes, flushes, ...) are applied to both. Each `expect` line
 * performs an access on both and checks:
 *   - the reference's answer (the spec's, from a fresh walk) is one of the
 *     answers the line lists: this validates the case itself;
 *   - the core's answer is one of the listed answers AND is legal under the
 *     TLB-aware acceptance rule (ref_tlb_legal): a listed stale answer is
 *     only accepted when the core could really hold that stale entry;
 *   - on a fault, the core's vm_mmu_last_fault() has the right cause and VA.
 * With --ref-only the core is not touched at all; every successful walk is
 * then recorded as cached, and every listed alternative must itself be legal
 * (so a case cannot list an answer the spec forbids).
 *
 * The file format, its extensions (sizes, `=` values, `|` alternatives,
 * `@` fault addresses, `mmio`, `expect satp`) and the acceptance rule are
 * documented in conformance/README.md.
 *
 * Exit status: 0 iff every expectation of every file held on both; 1 if
 * some expectation failed (each is reported as "file:line: expected X, core
 * Y, reference Z" plus the decoded reference walk, and the run continues);
 * 2 on a usage error or a malformed file (unknown keyword, bad number,
 * missing operand, a file with no expectation): reported as "file:line:
 * message", the rest of that file is not run, never silently skipped.
 *
 * `check ACCESS VA` lines ask an oracle (QEMU, through
 * conformance/qemu/qemu_answer.py, which rewrites them as `expect` lines).
 * A file that still has one is refused (exit 2) unless --answer-ref is
 * given: then the reference's fresh answer stands in for the oracle's.
 *
 * Rejected: comparing only the core with the expectation (a wrong case
 * would then test nothing); running the expectation through the core's
 * access functions for every line (the unsized form must not change data, so
 * it uses vm_mmu_translate, which is also the function whose PA can be
 * observed directly).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */

#include "conform_arch.h"
#include "conform_counts.h"
#include "conform_ext.h"
#include "mmu_int.h" /* white-box: the core's TLB entries (check_tlb_contents) */
#include "ref_model.h"
#include "vmmem/mmu.h"
#include "vmmem/physmem.h"
#include "vmmem/types.h"

#include <ctype.h>
#include <errno.h>
#include <sys/mman.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Answers other than the ref outcomes: a core error the format cannot
 * express (VM_ERR_INVALID_ADDRESS, ..., reported by name). */
#define OUT_CORE_ERR_BASE 100

#define MAX_ALTS 8
#define MAX_TOKENS 48   /* 8 alternatives of 3 words, their bars and the access words */
#define LINE_MAX_LEN 1024

typedef struct answer {
    int outcome;          /* REF_* or OUT_CORE_ERR_BASE + vm_err_t */
    uint64_t pa;          /* when REF_OK */
    bool has_fva;         /* fault VA given (`@ VA` in a case) */
    uint64_t fva;
} answer_t;

typedef struct options {
    bool ref_only;
    bool verbose;
    bool answer_ref;      /* `check` lines are answered by the reference */
} options_t;

/* The architecture parts (conform_arch.h): each sees every line first. */
static const conform_arch_t *const arch_parts[] = { &conform_arm64, &conform_x86_64 };
#define N_ARCH_PARTS (sizeof arch_parts / sizeof arch_parts[0])

/* The two machines of one file. */
typedef struct machine {
    const options_t *opt;
    const char *file;
    int line;
    /* core */
    vm_mmu_t *core;
    /* reference */
    ref_mem_t mem;
    ref_rv_state_t rv;
    ref_tlb_t *tlb;
    bool strict;
    /* `mem` and `base` header lines, applied when the machine starts */
    uint64_t hdr_size, hdr_base;
    /* TLB counters at the last `expect tlb`, plus the runner's own lookups */
    uint64_t hits_base, misses_base;
    /* results */
    int expectations;
    int failures;
    /* the architecture parts' per-file state */
    void *arch_state[N_ARCH_PARTS];
    /* the extension files' per-file state (conform_ext.h) */
    conform_ext_t *ext;
} machine_t;

/* ---- diagnostics ----------------------------------------------------- */

static int file_error(const machine_t *mc, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: ", mc->file, mc->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static void format_answer(char *buf, size_t len, const answer_t *a)
{
    if (a->outcome == REF_OK)
        snprintf(buf, len, "0x%llx", (unsigned long long)a->pa);
    else if (a->outcome >= OUT_CORE_ERR_BASE)
        snprintf(buf, len, "error(%s)", vm_strerror((vm_err_t)(a->outcome - OUT_CORE_ERR_BASE)));
    else if (a->has_fva)
        snprintf(buf, len, "%s @ 0x%llx", ref_outcome_name(a->outcome), (unsigned long long)a->fva);
    else
        snprintf(buf, len, "%s", ref_outcome_name(a->outcome));
}

static void format_alts(char *buf, size_t len, const answer_t *alts, int n)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < n && used < len; k++) {
        char one[96];
        format_answer(one, sizeof one, &alts[k]);
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? " | " : "", one);
    }
}

/* ---- numbers --------------------------------------------------------- */

/* Decimal or 0x hex, the whole token, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!isxdigit((unsigned char)s[0]) || (base == 10 && !isdigit((unsigned char)s[0])))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool conform_parse_u64(const char *s, uint64_t *out)
{
    return parse_u64(s, out);
}

/* A size with an optional K/M/G suffix (powers of 1024). */
static bool parse_size(const char *s, uint64_t *out)
{
    char tmp[64];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, s, n + 1);
    unsigned shift = 0;
    char last = tmp[n - 1];
    if (last == 'K' || last == 'k') shift = 10;
    else if (last == 'M' || last == 'm') shift = 20;
    else if (last == 'G' || last == 'g') shift = 30;
    if (shift)
        tmp[n - 1] = 0;
    uint64_t v;
    if (!parse_u64(tmp, &v) || (shift && v > (UINT64_MAX >> shift)))
        return false;
    *out = v << shift;
    return true;
}

bool conform_parse_size(const char *s, uint64_t *out)
{
    return parse_size(s, out);
}

static bool parse_bool(const char *s, bool *out)
{
    if (!strcmp(s, "0")) { *out = false; return true; }
    if (!strcmp(s, "1")) { *out = true; return true; }
    return false;
}

/* ---- the reference's physical memory --------------------------------- */

static bool ref_ram_range(const machine_t *mc, uint64_t pa, uint64_t size)
{
    return ref_mem_in_ram(&mc->mem, pa, size);
}

static uint64_t ref_ram_load(const machine_t *mc, uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < size; k++)
        v |= (uint64_t)mc->mem.ram[pa - mc->mem.base + k] << (8 * k);
    return v;
}

static void ref_ram_store(machine_t *mc, uint64_t pa, uint64_t v, unsigned size)
{
    for (unsigned k = 0; k < size; k++)
        mc->mem.ram[pa - mc->mem.base + k] = (uint8_t)(v >> (8 * k));
    conform_ext_ram_written(mc->ext, pa, size);     /* reservations there break */
}

/* A reference walk applied with its A/D write: that is a RAM write too. */
static void ref_walk_applied(machine_t *mc, const ref_rv_walk_t *w)
{
    if (w->outcome == REF_OK && w->ad_write)
        conform_ext_ram_written(mc->ext, w->pte_addr, 8);
}

/* The machine as the extension files see it (conform_ext.h). */
static conform_view_t view_of(machine_t *mc)
{
    conform_view_t v = { mc->file, mc->line, mc->opt->ref_only, mc->opt->verbose, &mc->core,
                         &mc->mem, &mc->rv, &mc->tlb, &mc->strict, &mc->hits_base,
                         &mc->misses_base, &mc->expectations, &mc->failures, mc->ext };
    return v;
}

/* ---- the dummy MMIO device (`mmio BASE SIZE`): reads 0, ignores writes */

static vm_err_t dummy_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    (void)opaque, (void)offset, (void)size;
    *val = 0;
    return VM_OK;
}

static vm_err_t dummy_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    (void)opaque, (void)offset, (void)val, (void)size;
    return VM_OK;
}

static const vm_mmio_ops_t dummy_ops = { dummy_read, dummy_write, NULL, NULL };

/* ---- machine set-up -------------------------------------------------- */

static bool machine_started(const machine_t *mc)
{
    return mc->mem.ram != NULL;
}

void *conform_zalloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void conform_zfree(void *p, size_t size)
{
    if (p)
        munmap(p, size);
}

static int machine_start(machine_t *mc, uint64_t mem_size, uint64_t base)
{
    if (mem_size == 0 || mem_size > (UINT64_C(1) << 32))
        return file_error(mc, "mem: size must be 1 byte .. 4G");
    if (base % 4096 || mem_size > UINT64_MAX - base)
        return file_error(mc, "base: must be a multiple of 4K with base + size <= 2^64 - 1");
    mc->mem.ram = conform_zalloc((size_t)mem_size);
    if (!mc->mem.ram)
        return file_error(mc, "mem: cannot allocate %llu bytes for the reference",
                          (unsigned long long)mem_size);
    mc->mem.size = mem_size;
    mc->mem.base = base;
    mc->mem.n_mmio = 0;
    memset(&mc->rv, 0, sizeof mc->rv);
    mc->rv.levels = 0;
    mc->rv.priv = 1;            /* the core's initial state: Bare, S, SUM=MXR=0, Svadu */
    mc->rv.ad_hardware = true;
    mc->strict = false;
    ref_tlb_reset(mc->tlb);
    if (!mc->opt->ref_only) {
        mc->core = vm_mmu_new_at(base, (size_t)mem_size, false);
        if (!mc->core)
            return file_error(mc, "mem: vm_mmu_new_at(0x%llx, %llu) failed",
                              (unsigned long long)base, (unsigned long long)mem_size);
        /* The initial strict setting comes from the environment; a case
         * starts from "off" and says `strict 1` when it wants it. */
        vm_mmu_set_strict_align(mc->core, false);
    }
    conform_view_t v = view_of(mc);
    mc->ext = conform_ext_start(&v);
    if (!mc->ext)
        return file_error(mc, "out of memory");
    return 0;
}

/* end_checks: the file ran to its end (not stopped by a malformed line). */
static void machine_stop(machine_t *mc, bool end_checks)
{
    if (mc->ext) {
        mc->line = 0;   /* end-of-file checks report as "file:end:" */
        conform_view_t v = view_of(mc);
        conform_ext_end(&v, end_checks);
    }
    for (size_t k = 0; k < N_ARCH_PARTS; k++)
        if (mc->arch_state[k])
            arch_parts[k]->stop(mc->arch_state[k]);
    memset(mc->arch_state, 0, sizeof mc->arch_state);
    if (mc->core)
        vm_mmu_free(mc->core);
    mc->core = NULL;
    if (mc->ext) {
        conform_view_t v = view_of(mc);
        conform_ext_free(&v);
        mc->ext = NULL;
    }
    conform_zfree(mc->mem.ram, (size_t)mc->mem.size);
    mc->mem.ram = NULL;
}

static int ensure_started(machine_t *mc)
{
    return machine_started(mc) ? 0
                               : machine_start(mc, mc->hdr_size ? mc->hdr_size : 16u << 20,
                                               mc->hdr_base);
}

/* ---- core answers ---------------------------------------------------- */

static int outcome_of_err(vm_err_t err)
{
    switch (err) {
    case VM_OK: return REF_OK;
    case VM_ERR_PAGE_FAULT: return REF_PAGE_FAULT;
    case VM_ERR_ACCESS_FAULT: return REF_ACCESS_FAULT;
    case VM_ERR_ALIGNMENT_FAULT: return REF_MISALIGNED;
    default: return OUT_CORE_ERR_BASE + (int)err;
    }
}

static vm_access_t vm_access_of(int access)
{
    return access == REF_WRITE ? VM_ACCESS_WRITE : access == REF_EXEC ? VM_ACCESS_EXEC : VM_ACCESS_READ;
}

static bool answers_equal(const answer_t *a, const answer_t *b)
{
    if (a->outcome != b->outcome)
        return false;
    if (a->outcome == REF_OK && a->pa != b->pa)
        return false;
    return true;
}

/* The same answer, a fault's address (stval) included. */
static bool same_answer(const answer_t *a, const answer_t *b)
{
    return answers_equal(a, b) && (a->outcome == REF_OK || a->fva == b->fva);
}

/* Does `got` match the listed alternative `want` (fault VA only if listed)? */
static bool matches_alt(const answer_t *want, const answer_t *got)
{
    if (!answers_equal(want, got))
        return false;
    if (want->outcome != REF_OK && want->has_fva && (!got->has_fva || got->fva != want->fva))
        return false;
    return true;
}

static bool in_alts(const answer_t *alts, int n, const answer_t *got)
{
    for (int k = 0; k < n; k++)
        if (matches_alt(&alts[k], got))
            return true;
    return false;
}

/* ---- one access on the reference ------------------------------------- */

/* Where the final PA lands: an access fault unless RAM or a well-formed
 * MMIO access (the PMA check of the data access, after translation). */
static bool backed(const machine_t *mc, uint64_t pa, uint64_t size)
{
    int region;
    uint64_t offset;
    int r = ref_mem_route(&mc->mem, pa, size, &region, &offset);
    return r == REF_ROUTE_RAM || r == REF_ROUTE_MMIO;
}

typedef struct ref_access_result {
    answer_t ans;
    /* the walks done, one per page part, for the report and the TLB record */
    int n_parts;
    uint64_t part_va[2], part_pa[2];
    unsigned part_size[2];
    ref_rv_walk_t walk[2];
    int walked;             /* how many walks were done */
    answer_t misaligned_alt; /* the lower-priority alternative to `misaligned` */
    bool has_misaligned_alt;
} ref_access_result_t;

/*
 * A sized access of `size` bytes at va on the reference, in the order vmmem
 * documents: strict alignment first, then translate every page part (a
 * page-crossing access translates both pages before touching memory; A/D
 * updates of a completed walk stay even if a later part faults), then the
 * PMA check of each part. Bit p of `apply` writes part p's A/D update into
 * the reference memory (the parts the core walked).
 */
static void ref_sized_access(machine_t *mc, uint64_t va, int access, unsigned size, unsigned apply,
                             ref_access_result_t *r)
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

    bool misaligned = mc->strict && size > 1 && (va % size) != 0;
    if (misaligned) {
        /* "Load/store/AMO address-misaligned exceptions may have either
         * higher or lower priority than load/store/AMO page-fault and
         * access-fault exceptions" (Priv. spec, exception priority). The
         * reference answers misaligned; the fault a translation would give
         * is the other legal answer. */
        r->ans.outcome = REF_MISALIGNED;
        r->ans.has_fva = true;
        r->ans.fva = va;
        for (int p = 0; p < r->n_parts; p++) {
            ref_rv_walk_t w;
            ref_rv_translate(&mc->mem, &mc->rv, r->part_va[p], access, false, &w);
            r->walk[p] = w;
            r->walked = p + 1;
            if (w.outcome != REF_OK) {
                r->misaligned_alt.outcome = w.outcome;
                r->misaligned_alt.has_fva = true;
                r->misaligned_alt.fva = r->part_va[p];
                r->has_misaligned_alt = true;
                break;
            }
        }
        return;
    }

    for (int p = 0; p < r->n_parts; p++) {
        bool apply_p = (apply >> p) & 1;
        ref_rv_translate(&mc->mem, &mc->rv, r->part_va[p], access, apply_p, &r->walk[p]);
        if (apply_p)
            ref_walk_applied(mc, &r->walk[p]);
        r->walked = p + 1;
        if (r->walk[p].outcome != REF_OK) {
            r->ans.outcome = r->walk[p].outcome;
            r->ans.has_fva = true;
            r->ans.fva = r->part_va[p];
            return;
        }
        r->part_pa[p] = r->walk[p].pa;
    }
    /* vmmem: "a misaligned MMIO access is an access fault" (mmu.h), so a
     * misaligned (in particular a page-crossing) access fails on the first
     * part that lands in MMIO even if that part alone is aligned. */
    bool whole_misaligned = (va % size) != 0;
    for (int p = 0; p < r->n_parts; p++) {
        int region;
        uint64_t offset;
        bool mmio = ref_mem_route(&mc->mem, r->part_pa[p], r->part_size[p], &region, &offset) ==
                    REF_ROUTE_MMIO;
        if (!backed(mc, r->part_pa[p], r->part_size[p]) || (mmio && whole_misaligned)) {
            r->ans.outcome = REF_ACCESS_FAULT;
            r->ans.has_fva = true;
            r->ans.fva = r->part_va[p];
            return;
        }
    }
    r->ans.outcome = REF_OK;
    r->ans.pa = r->part_pa[0];
}

/*
 * Load/store the data of a completed sized access in reference memory. An
 * MMIO part (never split: a misaligned MMIO access faults) goes to the
 * reference's device (conform_ext_ref_mmio) when `device` is true; the
 * probe that learns the bytes a store without `= VALUE` writes back does
 * not call a device and reads 0 there.
 */
static uint64_t ref_data_load(machine_t *mc, const ref_access_result_t *r, bool device)
{
    uint64_t v = 0;
    unsigned shift = 0;
    for (int p = 0; p < r->n_parts; p++) {
        uint64_t part = 0;
        if (ref_ram_range(mc, r->part_pa[p], r->part_size[p])) {
            part = ref_ram_load(mc, r->part_pa[p], r->part_size[p]);
        } else if (device) {
            conform_view_t view = view_of(mc);
            part = conform_ext_ref_mmio(&view, r->part_pa[p], r->part_size[p], false, 0);
        }
        v |= part << shift;
        shift += 8 * r->part_size[p];
    }
    return v;
}

static void ref_data_store(machine_t *mc, const ref_access_result_t *r, uint64_t v)
{
    unsigned shift = 0;
    for (int p = 0; p < r->n_parts; p++) {
        if (ref_ram_range(mc, r->part_pa[p], r->part_size[p])) {
            ref_ram_store(mc, r->part_pa[p], v >> shift, r->part_size[p]);
        } else {
            conform_view_t view = view_of(mc);
            conform_ext_ref_mmio(&view, r->part_pa[p], r->part_size[p], true, v >> shift);
        }
        shift += 8 * r->part_size[p];
    }
}

/* ---- expect ACCESS[SIZE] VA [= VALUE] -> ALT [| ALT]... ---------------- */

typedef struct access_line {
    int access;
    unsigned size;         /* 0: the unsized translate form */
    uint64_t va;
    bool has_value;
    uint64_t value;
    answer_t alts[MAX_ALTS];
    int n_alts;
} access_line_t;

/* Shared with the architecture parts (conform_arch.h). */
int conform_parse_access_kind(const char *tok, int *access, unsigned *size)
{
    const char *names[] = { "read", "write", "exec" };
    for (int k = 0; k < 3; k++) {
        size_t n = strlen(names[k]);
        if (strncmp(tok, names[k], n))
            continue;
        *access = k;    /* REF_READ, REF_WRITE, REF_EXEC in that order */
        const char *rest = tok + n;
        if (!*rest) { *size = 0; return 0; }
        if (!strcmp(rest, "1")) *size = 1;
        else if (!strcmp(rest, "2")) *size = 2;
        else if (!strcmp(rest, "4")) *size = 4;
        else if (!strcmp(rest, "8")) *size = 8;
        else return -1;
        if (k == REF_EXEC && *size != 4)
            return -1;      /* vm_mmu_fetch_insn fetches 4 bytes */
        return 0;
    }
    return -1;
}

static int parse_alt(machine_t *mc, char **tok, int ntok, int *pos, answer_t *a)
{
    memset(a, 0, sizeof *a);
    const char *t = tok[*pos];
    if (!strcmp(t, "page-fault")) a->outcome = REF_PAGE_FAULT;
    else if (!strcmp(t, "access-fault")) a->outcome = REF_ACCESS_FAULT;
    else if (!strcmp(t, "misaligned")) a->outcome = REF_MISALIGNED;
    else {
        a->outcome = REF_OK;
        if (!parse_u64(t, &a->pa))
            return file_error(mc, "bad answer '%s' (a PA, page-fault, access-fault or misaligned)", t);
    }
    (*pos)++;
    if (*pos < ntok && !strcmp(tok[*pos], "@")) {
        if (a->outcome == REF_OK)
            return file_error(mc, "'@ VA' only follows a fault");
        if (*pos + 1 >= ntok || !parse_u64(tok[*pos + 1], &a->fva))
            return file_error(mc, "'@' needs a fault VA");
        a->has_fva = true;
        *pos += 2;
    }
    return 0;
}

static int parse_access_line(machine_t *mc, char **tok, int ntok, access_line_t *L)
{
    memset(L, 0, sizeof *L);
    if (conform_parse_access_kind(tok[1], &L->access, &L->size))
        return file_error(mc, "bad access '%s' (read|write|exec, read1..8, write1..8, exec4)", tok[1]);
    if (ntok < 5)
        return file_error(mc, "expected: expect %s VA [= VALUE] -> ANSWER", tok[1]);
    if (!parse_u64(tok[2], &L->va))
        return file_error(mc, "bad virtual address '%s'", tok[2]);
    int pos = 3;
    if (!strcmp(tok[pos], "=")) {
        if (L->size == 0)
            return file_error(mc, "'= VALUE' needs a sized access (read4, write8, ...)");
        if (pos + 1 >= ntok || !parse_u64(tok[pos + 1], &L->value))
            return file_error(mc, "'=' needs a value");
        /* A store may name a value wider than its size: the core is given
         * it as is and must store (or send to a device) only its low
         * `size` bytes (physmem.h); a load's value must fit. */
        if (L->access != REF_WRITE && L->size < 8 && (L->value >> (8 * L->size)))
            return file_error(mc, "value 0x%llx does not fit in %u bytes",
                              (unsigned long long)L->value, L->size);
        L->has_value = true;
        pos += 2;
    }
    if (pos >= ntok || strcmp(tok[pos], "->"))
        return file_error(mc, "expected '->' before the answer");
    pos++;
    for (;;) {
        if (pos >= ntok)
            return file_error(mc, "missing answer after '->' or '|'");
        if (L->n_alts == MAX_ALTS)
            return file_error(mc, "at most %d alternatives", MAX_ALTS);
        if (parse_alt(mc, tok, ntok, &pos, &L->alts[L->n_alts]))
            return -1;
        L->n_alts++;
        if (pos == ntok)
            break;
        if (strcmp(tok[pos], "|"))
            return file_error(mc, "unexpected '%s' (alternatives are separated by '|')", tok[pos]);
        pos++;
    }
    return 0;
}

static void report_mismatch(machine_t *mc, const access_line_t *L, const char *core_text,
                            const answer_t *ref, const ref_access_result_t *rr,
                            const char *extra)
{
    char want[512], rtext[96];
    format_alts(want, sizeof want, L->alts, L->n_alts);
    format_answer(rtext, sizeof rtext, ref);
    /* A case the reference contradicts is reported as such: it is a wrong
     * case, not a core failure (ci/vmc-shrink.py tells the two apart). */
    printf("%s:%d: expected %s, core %s, reference %s%s%s%s\n", mc->file, mc->line, want,
           core_text, rtext, extra ? ": " : "", extra ? extra : "",
           in_alts(L->alts, L->n_alts, ref) ? "" : " [the case is wrong: the reference's answer is not listed]");
    for (int p = 0; p < rr->walked; p++)
        ref_rv_walk_print(&rr->walk[p], rr->part_va[p], L->access, stdout);
    if (mc->core) {
        const vm_fault_t *f = vm_mmu_last_fault(mc->core);
        if (f->kind != VM_FAULT_NONE)
            printf("  core fault record: va=0x%llx cause=%u level=%d pte@0x%llx=0x%016llx (%s)\n",
                   (unsigned long long)f->va, f->cause, f->level, (unsigned long long)f->pte_addr,
                   (unsigned long long)f->pte, f->reason ? f->reason : "");
    }
    mc->failures++;
}

/*
 * The verdict of one expectation: the reference's answer must be listed,
 * the core's too (unless --ref-only), and no extra complaint may stand.
 */
static void judge(machine_t *mc, const access_line_t *L, const char *core_text,
                  const answer_t *core, const answer_t *ref, const ref_access_result_t *rr,
                  const char *extra)
{
    bool ok = in_alts(L->alts, L->n_alts, ref) && !extra;
    if (mc->core)
        ok = ok && in_alts(L->alts, L->n_alts, core);
    if (!ok)
        report_mismatch(mc, L, core_text, ref, rr, extra);
    else if (mc->opt->verbose)
        printf("%s:%d: ok\n", mc->file, mc->line);
}

/* Check the core's fault record after an error return. NULL if it agrees. */
static const char *check_fault_record(machine_t *mc, const answer_t *core, int access,
                                      uint64_t want_fva, char *buf, size_t len)
{
    const vm_fault_t *f = vm_mmu_last_fault(mc->core);
    int want_cause = ref_cause(core->outcome, access);
    static const vm_fault_kind_t kinds[] = { VM_FAULT_NONE, VM_FAULT_PAGE, VM_FAULT_ACCESS,
                                             VM_FAULT_MISALIGNED };
    if (f->kind != kinds[core->outcome] || (int)f->cause != want_cause) {
        snprintf(buf, len, "core fault record has kind %d cause %u, want kind %d cause %d",
                 (int)f->kind, f->cause, (int)kinds[core->outcome], want_cause);
        return buf;
    }
    if (f->va != want_fva) {
        snprintf(buf, len, "core fault record has va 0x%llx, want 0x%llx (stval)",
                 (unsigned long long)f->va, (unsigned long long)want_fva);
        return buf;
    }
    return NULL;
}

/* Could a remembered leaf answer this access (so the core may not have walked)? */
static bool tlb_may_hit(const machine_t *mc, uint64_t va, int access)
{
    const ref_tlb_t *t = mc->tlb;
    for (int k = 0; k < t->n; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (e->valid && e->exec_side == (access == REF_EXEC) && e->levels == mc->rv.levels &&
            (e->global || e->asid == mc->rv.asid) && (e->va >> shift) == (va >> shift))
            return true;
    }
    return false;
}

/*
 * After a translation fault that the core must have found by walking (no
 * remembered leaf covers the VA): the fault record names the level, PTE
 * address and PTE value where the walk stopped (mmu.h, vm_fault_t), which
 * must be where the reference's walk stopped. NULL if it agrees.
 */
static const char *check_fault_walk(machine_t *mc, const ref_rv_walk_t *fresh, char *buf,
                                    size_t len)
{
    const vm_fault_t *f = vm_mmu_last_fault(mc->core);
    if (f->level != fresh->level ||
        (fresh->level >= 0 && (f->pte_addr != fresh->pte_addr || f->pte != fresh->pte))) {
        snprintf(buf, len,
                 "core fault record stops at level %d pte@0x%llx=0x%llx, the walk at level %d "
                 "pte@0x%llx=0x%llx",
                 f->level, (unsigned long long)f->pte_addr, (unsigned long long)f->pte,
                 fresh->level, (unsigned long long)fresh->pte_addr,
                 (unsigned long long)fresh->pte);
        return buf;
    }
    return NULL;
}

/* The unsized form: vm_mmu_translate, then the PMA check of one byte. */
static void run_translate(machine_t *mc, const access_line_t *L)
{
    ref_rv_walk_t fresh;
    ref_rv_translate(&mc->mem, &mc->rv, L->va, L->access, false, &fresh);

    conform_view_t view = view_of(mc);
    answer_t core = { 0 };
    bool core_walked_fresh = true;   /* in --ref-only: the reference stands for the core */
    char core_text[96] = "-";
    const char *extra = NULL;
    char extra_buf[200];
    if (mc->core) {
        vm_gpa_t cpa = 0;
        conform_lookup_t lk;
        conform_lookup_begin(&view, &lk);
        vm_err_t err = vm_mmu_translate(mc->core, L->va, vm_access_of(L->access), &cpa);
        conform_lookup_end(&view, &lk);
        /* The walk-or-hit rule (conform_ext.h): the miss counter says
         * whether the core walked. */
        bool walked = !lk.paged || lk.dm == 1;
        core.outcome = outcome_of_err(err);
        core.pa = cpa;
        /* The raw translation, before the PMA check, decides TLB legality. */
        answer_t raw = core;
        bool raw_fresh = raw.outcome == fresh.outcome && (raw.outcome != REF_OK || raw.pa == fresh.pa);
        if (lk.paged && lk.dh + lk.dm != 1) {
            snprintf(extra_buf, sizeof extra_buf,
                     "the TLB counters moved by hits +%llu misses +%llu for one translation "
                     "(mmu.h: one hit or miss per page translated with paging)",
                     (unsigned long long)lk.dh, (unsigned long long)lk.dm);
            extra = extra_buf;
        }
        if (!extra)
            extra = conform_counters_unpaged(&lk, extra_buf, sizeof extra_buf);
        if (core.outcome == REF_OK && !backed(mc, cpa, 1))
            core.outcome = REF_ACCESS_FAULT;
        else if (!extra && core.outcome != REF_OK && core.outcome < OUT_CORE_ERR_BASE) {
            extra = check_fault_record(mc, &core, L->access, L->va, extra_buf, sizeof extra_buf);
            if (!extra && core.outcome == fresh.outcome &&
                (lk.paged ? walked : !tlb_may_hit(mc, L->va, L->access)))
                extra = check_fault_walk(mc, &fresh, extra_buf, sizeof extra_buf);
        } else if (!extra && raw.outcome == REF_OK &&
                   vm_mmu_last_fault(mc->core)->kind != VM_FAULT_NONE) {
            extra = "a successful translation left a fault record (mmu.h: kind NONE)";
        }
        format_answer(core_text, sizeof core_text, &core);
        core_walked_fresh = walked && raw_fresh;
        if (!extra && raw.outcome < OUT_CORE_ERR_BASE) {
            if (lk.paged && walked && !raw_fresh)
                extra = "the core walked (a TLB miss) but its answer is not the fresh walk's";
            else if (lk.paged && !walked &&
                     !conform_hit_legal(&view, L->va, L->access, &fresh, raw.outcome, raw.pa))
                extra = "the core answered from its TLB (a hit) but no remembered leaf gives "
                        "that answer";
            else if (!ref_tlb_legal(mc->tlb, &mc->rv, L->va, L->access, &fresh, raw.outcome, raw.pa))
                extra = "the core's translation is neither the fresh walk nor a legal stale TLB hit";
            else if (!raw_fresh && !in_alts(L->alts, L->n_alts, &core))
                extra = "a legal stale TLB hit that the case does not list (add it with '|' or flush)";
        }
    }

    /* The reference: the fresh walk, applied (A/D into reference memory)
     * when the core walked too. */
    ref_access_result_t rr;
    memset(&rr, 0, sizeof rr);
    rr.n_parts = 1;
    rr.part_va[0] = L->va;
    rr.walked = 1;
    ref_rv_translate(&mc->mem, &mc->rv, L->va, L->access, core_walked_fresh, &rr.walk[0]);
    if (core_walked_fresh)
        ref_walk_applied(mc, &rr.walk[0]);
    answer_t ref = { 0 };
    ref.outcome = rr.walk[0].outcome;
    ref.pa = rr.walk[0].pa;
    if (ref.outcome == REF_OK && !backed(mc, ref.pa, 1))
        ref.outcome = REF_ACCESS_FAULT;

    if (core_walked_fresh && rr.walk[0].outcome == REF_OK)
        ref_tlb_record(mc->tlb, &mc->rv, L->va, L->access, &rr.walk[0]);
    /* The PTE words the walk read: the core wrote exactly what the
     * reference did (its A/D update if it walked, nothing on a hit). */
    if (mc->core && !extra)
        extra = conform_walk_memory(&view, &rr.walk[0], extra_buf, sizeof extra_buf);

    /* Case validation: every listed answer must be a legal one. */
    if (mc->opt->ref_only && !extra) {
        for (int k = 0; k < L->n_alts; k++) {
            const answer_t *a = &L->alts[k];
            if (a->outcome == REF_ACCESS_FAULT || a->outcome == REF_MISALIGNED)
                continue;   /* the PMA check, not the translation */
            if (!ref_tlb_legal(mc->tlb, &mc->rv, L->va, L->access, &fresh, a->outcome, a->pa)) {
                snprintf(extra_buf, sizeof extra_buf, "listed answer #%d is not a legal answer", k + 1);
                extra = extra_buf;
            }
        }
    }

    judge(mc, L, core_text, &core, &ref, &rr, extra);
}

/*
 * Which page parts of a sized access the core walked, from the TLB miss
 * counter (conform_ext.h): all of them, none, or - with some misses and
 * some hits over a page-crossing access - those whose PTE the core updated
 * as the fresh walk would (a part without an A/D update counts as walked:
 * it changes no memory either way).
 */
static unsigned walked_parts(machine_t *mc, const ref_access_result_t *probe,
                             const conform_lookup_t *lk)
{
    if (!lk->paged || lk->dm >= (uint64_t)probe->walked)
        return ~0u;
    if (lk->dm == 0)
        return 0;
    unsigned mask = 0;
    for (int p = 0; p < probe->walked; p++) {
        const ref_rv_walk_t *w = &probe->walk[p];
        uint64_t word = 0;
        if (w->outcome != REF_OK || !w->ad_write ||
            (vm_mmu_read_phys(mc->core, w->pte_addr, 8, &word) == VM_OK && word == w->ad_value))
            mask |= 1u << p;
    }
    return mask;
}

/*
 * A combination of per-page translations a correct core may have used for
 * a sized access when its answer is not the fresh one (conformance/README,
 * the TLB-staleness rule, applied page part by page part as the fuzz
 * oracle does): each part is the fresh walk (a TLB miss) or an answer a
 * remembered leaf legally gives (a hit; for the second part also the leaf
 * the first part's walk just filled). The answer follows vmmem's order
 * (translate every part, stopping at a fault, then the PMA check of each
 * part) and must equal the core's, and the core's TLB counters must count
 * exactly the combination's hits and misses (the core's actual choice).
 */
typedef struct part_pick {
    int outcome;
    uint64_t pa;
    bool walked;
} part_pick_t;

typedef struct combination {
    int n;                 /* parts translated (the last one may have faulted) */
    part_pick_t pick[2];
    ref_rv_walk_t walk[2]; /* the fresh walks (apply == false) */
} combination_t;

static int part_candidates(const machine_t *mc, uint64_t va, int access, const ref_rv_walk_t *fresh,
                           const ref_rv_walk_t *inflight, uint64_t inflight_va, part_pick_t *c)
{
    int n = 0;
    c[n++] = (part_pick_t){ fresh->outcome, fresh->pa, true };
    if (inflight && inflight->outcome == REF_OK && inflight->level >= 0 &&
        ((inflight_va ^ va) >> (12 + 9 * (unsigned)inflight->level)) == 0)
        c[n++] = (part_pick_t){ fresh->outcome, fresh->pa, false };
    ref_rv_walk_t never = *fresh;
    never.outcome = -1;   /* only remembered leaves may justify a hit */
    const ref_tlb_t *t = mc->tlb;
    for (int k = 0; k < t->n && n < 15; k++) {
        const ref_tlb_entry_t *e = &t->e[k];
        unsigned shift = 12 + 9 * (unsigned)e->level;
        if (!e->valid || e->exec_side != (access == REF_EXEC) || e->levels != mc->rv.levels ||
            (!e->global && e->asid != mc->rv.asid) || ((e->va ^ va) >> shift) != 0)
            continue;
        uint64_t mask = (UINT64_C(1) << shift) - 1;
        uint64_t pa = ((((e->pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12) & ~mask) | (va & mask);
        if (ref_tlb_legal(t, &mc->rv, va, access, &never, REF_OK, pa))
            c[n++] = (part_pick_t){ REF_OK, pa, false };
    }
    if (ref_tlb_legal(t, &mc->rv, va, access, &never, REF_PAGE_FAULT, 0))
        c[n++] = (part_pick_t){ REF_PAGE_FAULT, 0, false };
    return n;
}

/* The answer of a combination and whether it equals the core's answer and counters. */
static bool combination_matches(const machine_t *mc, const ref_access_result_t *probe,
                                unsigned size, combination_t *cb, const answer_t *core,
                                const conform_lookup_t *lk)
{
    uint64_t hits = 0, misses = 0;
    for (int p = 0; p < cb->n; p++)
        *(cb->pick[p].walked ? &misses : &hits) += 1;
    if (lk->dh != hits || lk->dm != misses)
        return false;
    answer_t a = { 0 };
    const part_pick_t *last = &cb->pick[cb->n - 1];
    if (last->outcome != REF_OK) {
        a.outcome = last->outcome;
        a.has_fva = true;
        a.fva = probe->part_va[cb->n - 1];
        return same_answer(&a, core);
    }
    bool whole_misaligned = (probe->part_va[0] % size) != 0;
    for (int p = 0; p < cb->n; p++) {
        int region;
        uint64_t offset;
        bool mmio = ref_mem_route(&mc->mem, cb->pick[p].pa, probe->part_size[p], &region,
                                  &offset) == REF_ROUTE_MMIO;
        if (!backed(mc, cb->pick[p].pa, probe->part_size[p]) || (mmio && whole_misaligned)) {
            a.outcome = REF_ACCESS_FAULT;
            a.has_fva = true;
            a.fva = probe->part_va[p];
            return same_answer(&a, core);
        }
    }
    a.outcome = REF_OK;
    a.pa = cb->pick[0].pa;
    return answers_equal(&a, core);
}

/* Find a legal combination that gives the core's answer; false if none. */
static bool find_combination(const machine_t *mc, const access_line_t *L,
                             const ref_access_result_t *probe, const answer_t *core,
                             const conform_lookup_t *lk, combination_t *cb)
{
    if (!lk->paged || core->outcome >= OUT_CORE_ERR_BASE)
        return false;
    for (int p = 0; p < probe->n_parts; p++)
        ref_rv_translate((ref_mem_t *)&mc->mem, &mc->rv, probe->part_va[p], L->access, false,
                         &cb->walk[p]);
    part_pick_t c0[16], c1[16];
    int n0 = part_candidates(mc, probe->part_va[0], L->access, &cb->walk[0], NULL, 0, c0);
    for (int i = 0; i < n0; i++) {
        cb->pick[0] = c0[i];
        cb->n = 1;
        if (probe->n_parts == 1 || c0[i].outcome != REF_OK) {
            if (combination_matches(mc, probe, L->size, cb, core, lk))
                return true;
            continue;
        }
        int n1 = part_candidates(mc, probe->part_va[1], L->access, &cb->walk[1],
                                 c0[i].walked ? &cb->walk[0] : NULL, probe->part_va[0], c1);
        for (int j = 0; j < n1; j++) {
            cb->pick[1] = c1[j];
            cb->n = 2;
            if (combination_matches(mc, probe, L->size, cb, core, lk))
                return true;
        }
    }
    return false;
}

/* The sized form: the core's access functions (vm_mmu_read/write/fetch_insn). */
static void run_sized(machine_t *mc, const access_line_t *L)
{
    /* The reference first, without side effects, to learn the data a
     * store without `= VALUE` writes back (the bytes already there). */
    ref_access_result_t probe;
    ref_sized_access(mc, L->va, L->access, L->size, 0, &probe);
    uint64_t store_value = L->has_value ? L->value
                           : probe.ans.outcome == REF_OK ? ref_data_load(mc, &probe, false) : 0;

    conform_view_t view = view_of(mc);
    answer_t core = { 0 };
    char core_text[96] = "-";
    const char *extra = NULL;
    char extra_buf[200];
    uint64_t core_loaded = 0;
    unsigned apply = ~0u;    /* the parts the core walked: the reference applies their A/D */
    conform_lookup_t lk;
    memset(&lk, 0, sizeof lk);
    bool uncovered_hit = false;
    if (mc->core) {
        vm_err_t err;
        conform_lookup_begin(&view, &lk);
        if (L->access == REF_READ)
            err = vm_mmu_read(mc->core, L->va, (uint8_t)L->size, &core_loaded);
        else if (L->access == REF_WRITE)
            err = vm_mmu_write(mc->core, L->va, store_value, (uint8_t)L->size);
        else
            err = vm_mmu_fetch_insn(mc->core, L->va, &core_loaded);
        conform_lookup_end(&view, &lk);
        if (probe.ans.outcome != REF_MISALIGNED) {
            apply = walked_parts(mc, &probe, &lk);
            /* A hit needs a remembered leaf covering its page. */
            uint64_t covered = conform_parts_covered(&view, probe.part_va, probe.walk,
                                                     probe.walked, L->access);
            if (lk.paged && lk.dh > covered) {
                snprintf(extra_buf, sizeof extra_buf,
                         "the core counted %llu TLB hit(s) but only %llu page(s) of the access "
                         "are covered by a remembered leaf",
                         (unsigned long long)lk.dh, (unsigned long long)covered);
                extra = extra_buf;
                uncovered_hit = true;
            }
            if (!extra)
                extra = conform_counters_unpaged(&lk, extra_buf, sizeof extra_buf);
        }
        core.outcome = outcome_of_err(err);
        if (err == VM_OK) {
            /* The PA of the first byte: translate again after the access.
             * The access already set A/D and filled the TLB, so this adds
             * no architectural side effect. */
            vm_gpa_t cpa = 0;
            vm_err_t e2 = conform_translate_hidden(mc->core, &mc->hits_base, &mc->misses_base,
                                                   L->va, vm_access_of(L->access), &cpa);
            if (e2 != VM_OK && !extra) {
                snprintf(extra_buf, sizeof extra_buf,
                         "the access succeeded but translating its VA again gave %s",
                         vm_strerror(e2));
                extra = extra_buf;
            }
            core.pa = cpa;
        } else if (core.outcome < OUT_CORE_ERR_BASE) {
            const vm_fault_t *f = vm_mmu_last_fault(mc->core);
            core.has_fva = true;
            core.fva = f->va;
        }
    }

    /* Not the fresh answer: a combination of fresh and stale page parts
     * that a correct core may have used (find_combination). It then
     * decides what the reference applies and records. */
    combination_t cb;
    bool combo = mc->core && probe.ans.outcome != REF_MISALIGNED &&
                 !same_answer(&core, &probe.ans) &&
                 find_combination(mc, L, &probe, &core, &lk, &cb);
    if (combo && uncovered_hit)
        extra = NULL;   /* the combination's hits are each justified by a leaf */
    ref_access_result_t rr;
    if (combo) {
        rr = probe;
        rr.walked = cb.n;
        for (int p = 0; p < cb.n; p++) {
            rr.walk[p] = cb.walk[p];
            if (cb.pick[p].walked) {
                ref_rv_translate(&mc->mem, &mc->rv, rr.part_va[p], L->access, true, &rr.walk[p]);
                ref_walk_applied(mc, &rr.walk[p]);
            }
            rr.part_pa[p] = cb.pick[p].pa;
        }
    } else {
        ref_sized_access(mc, L->va, L->access, L->size, apply, &rr);
    }
    answer_t ref = rr.ans;

    bool stale = false;
    if (combo) {
        format_answer(core_text, sizeof core_text, &core);
        if (!extra && core.outcome != REF_OK)
            extra = check_fault_record(mc, &core, L->access, core.fva, extra_buf, sizeof extra_buf);
        for (int p = 0; p < cb.n; p++)
            if (cb.pick[p].walked && rr.walk[p].outcome == REF_OK)
                ref_tlb_record(mc->tlb, &mc->rv, rr.part_va[p], L->access, &rr.walk[p]);
    } else if (mc->core) {
        format_answer(core_text, sizeof core_text, &core);
        /* Legal set: the reference's answer, or the other priority order
         * for a misaligned access. */
        bool legal = answers_equal(&core, &ref) ||
                     (rr.has_misaligned_alt && answers_equal(&core, &rr.misaligned_alt));
        /* A single-page access may also be answered by a stale TLB entry
         * (the acceptance rule; find_combination above covers the mixes of
         * fresh and stale parts the counters show). */
        if (!legal && probe.n_parts == 1 && probe.ans.outcome != REF_MISALIGNED &&
            (core.outcome == REF_OK || core.outcome == REF_PAGE_FAULT) && probe.walked == 1 &&
            (core.outcome != REF_OK || backed(mc, core.pa, L->size)))
            stale = legal = ref_tlb_legal(mc->tlb, &mc->rv, L->va, L->access, &probe.walk[0],
                                          core.outcome, core.pa);
        if (!legal && !extra)
            extra = "not the answer the spec gives";
        if (!extra && core.outcome != REF_OK && core.outcome < OUT_CORE_ERR_BASE) {
            uint64_t want_fva = stale ? L->va
                                : answers_equal(&core, &ref) ? ref.fva : rr.misaligned_alt.fva;
            extra = check_fault_record(mc, &core, L->access, want_fva, extra_buf, sizeof extra_buf);
        }
        if (answers_equal(&core, &ref) && ref.outcome != REF_MISALIGNED)
            for (int p = 0; p < rr.walked; p++)
                if (rr.walk[p].outcome == REF_OK && ((apply >> p) & 1))
                    ref_tlb_record(mc->tlb, &mc->rv, rr.part_va[p], L->access, &rr.walk[p]);
    } else if (ref.outcome != REF_MISALIGNED) {  /* misaligned: nothing was walked */
        for (int p = 0; p < rr.walked; p++)
            if (rr.walk[p].outcome == REF_OK)
                ref_tlb_record(mc->tlb, &mc->rv, rr.part_va[p], L->access, &rr.walk[p]);
    }

    /* The data, where the core legally accessed it: the fresh PA, or the
     * PA of the stale entry it used. */
    ref_access_result_t data = rr;
    if (stale && core.outcome == REF_OK)
        data.part_pa[0] = core.pa;
    uint64_t ref_loaded = 0;
    bool data_done = combo ? core.outcome == REF_OK
                           : ref.outcome == REF_OK || (stale && core.outcome == REF_OK);
    if (data_done) {
        if (L->access == REF_WRITE)
            ref_data_store(mc, &data, store_value);
        else
            ref_loaded = ref_data_load(mc, &data, true);
    }
    if (!extra && data_done && L->access != REF_WRITE && L->has_value &&
        ref_loaded != L->value) {
        snprintf(extra_buf, sizeof extra_buf, "reference loaded 0x%llx, want 0x%llx [the case is wrong]",
                 (unsigned long long)ref_loaded, (unsigned long long)L->value);
        extra = extra_buf;
    }
    if (mc->core && !extra && core.outcome == REF_OK && L->access != REF_WRITE) {
        if (L->has_value && core_loaded != L->value)
            snprintf(extra_buf, sizeof extra_buf, "core loaded 0x%llx, want 0x%llx",
                     (unsigned long long)core_loaded, (unsigned long long)L->value);
        else if (data_done && core_loaded != ref_loaded)
            snprintf(extra_buf, sizeof extra_buf, "core loaded 0x%llx, the reference 0x%llx",
                     (unsigned long long)core_loaded, (unsigned long long)ref_loaded);
        else
            extra_buf[0] = 0;
        if (extra_buf[0])
            extra = extra_buf;
    }
    /* Memory after the access: the PTE words of every walk, and every RAM
     * range a translated part reaches (nothing written on a fault). */
    if (mc->core && !extra) {
        for (int p = 0; p < rr.walked && !extra; p++) {
            extra = conform_walk_memory(&view, &rr.walk[p], extra_buf, sizeof extra_buf);
            uint64_t pa = combo ? rr.part_pa[p]
                        : p == 0 && stale && core.outcome == REF_OK ? core.pa : rr.walk[p].pa;
            bool reached = combo ? cb.pick[p].outcome == REF_OK
                                 : rr.walk[p].outcome == REF_OK || (p == 0 && stale);
            if (!extra && reached)
                extra = conform_ram_compare(&view, pa, rr.part_size[p], extra_buf, sizeof extra_buf);
        }
    }

    judge(mc, L, core_text, &core, &ref, &rr, extra);
}

/* ---- expect rN PA == V, expect satp == V ------------------------------ */

static int run_expect_phys(machine_t *mc, unsigned size, char **tok, int ntok)
{
    uint64_t pa, want;
    if (ntok != 5 || strcmp(tok[3], "=="))
        return file_error(mc, "expected: expect r%u PA == VALUE", 8 * size);
    if (!parse_u64(tok[2], &pa))
        return file_error(mc, "bad physical address '%s'", tok[2]);
    if (!parse_u64(tok[4], &want))
        return file_error(mc, "bad value '%s'", tok[4]);
    if (!ref_ram_range(mc, pa, size))
        return file_error(mc, "r%u 0x%llx: not inside RAM", 8 * size, (unsigned long long)pa);
    uint64_t ref = ref_ram_load(mc, pa, size);
    uint64_t core = 0;
    bool core_ok = true;
    char core_text[64] = "-";
    if (mc->core) {
        vm_err_t err = vm_mmu_read_phys(mc->core, pa, (uint8_t)size, &core);
        if (err) {
            core_ok = false;
            snprintf(core_text, sizeof core_text, "error(%s)", vm_strerror(err));
        } else {
            snprintf(core_text, sizeof core_text, "0x%llx", (unsigned long long)core);
        }
    }
    mc->expectations++;
    if (ref != want || (mc->core && (!core_ok || core != want))) {
        printf("%s:%d: expected 0x%llx, core %s, reference 0x%llx%s\n", mc->file, mc->line,
               (unsigned long long)want, core_text, (unsigned long long)ref,
               ref != want ? " [the case is wrong: the reference disagrees]" : "");
        mc->failures++;
    } else if (mc->opt->verbose) {
        printf("%s:%d: ok\n", mc->file, mc->line);
    }
    return 0;
}

/*
 * expect tlb hits H misses M: the core's TLB counters (vm_mmu_tlb_stats)
 * moved by exactly H hits and M misses since the previous `expect tlb` (or
 * the start of the file). Not a spec rule but vmmem's contract (mmu.h: one
 * hit or miss per page translated with paging; a superpage is one entry),
 * so a case can pin bug class 7 (superpage entries that always miss). The
 * reference has no counters: with --ref-only the line is parsed, not checked.
 */
static int run_expect_tlb(machine_t *mc, char **tok, int ntok)
{
    uint64_t want_h, want_m;
    if (ntok != 6 || strcmp(tok[2], "hits") || strcmp(tok[4], "misses") ||
        !parse_u64(tok[3], &want_h) || !parse_u64(tok[5], &want_m))
        return file_error(mc, "expected: expect tlb hits H misses M");
    mc->expectations++;
    if (!mc->core)
        return 0;
    uint64_t h, m;
    vm_mmu_tlb_stats(mc->core, &h, &m);
    uint64_t dh = h - mc->hits_base, dm = m - mc->misses_base;
    mc->hits_base = h;
    mc->misses_base = m;
    if (dh != want_h || dm != want_m) {
        printf("%s:%d: expected tlb hits %llu misses %llu, core hits %llu misses %llu\n", mc->file,
               mc->line, (unsigned long long)want_h, (unsigned long long)want_m,
               (unsigned long long)dh, (unsigned long long)dm);
        mc->failures++;
    } else if (mc->opt->verbose) {
        printf("%s:%d: ok\n", mc->file, mc->line);
    }
    return 0;
}

static uint64_t ref_satp(const ref_rv_state_t *s)
{
    uint64_t mode = s->levels == 3 ? 8 : s->levels == 4 ? 9 : s->levels == 5 ? 10 : 0;
    return mode << 60 | (uint64_t)s->asid << 44 | (s->root_ppn & ((UINT64_C(1) << 44) - 1));
}

static int run_expect_satp(machine_t *mc, char **tok, int ntok)
{
    uint64_t want;
    if (ntok != 4 || strcmp(tok[2], "==") || !parse_u64(tok[3], &want))
        return file_error(mc, "expected: expect satp == VALUE");
    uint64_t ref = ref_satp(&mc->rv);
    uint64_t core = mc->core ? vm_mmu_satp(mc->core) : 0;
    mc->expectations++;
    if (ref != want || (mc->core && core != want)) {
        printf("%s:%d: expected satp 0x%llx, core 0x%llx, reference 0x%llx%s\n", mc->file, mc->line,
               (unsigned long long)want, (unsigned long long)core, (unsigned long long)ref,
               ref != want ? " [the case is wrong: the reference disagrees]" : "");
        mc->failures++;
    } else if (mc->opt->verbose) {
        printf("%s:%d: ok\n", mc->file, mc->line);
    }
    return 0;
}

/*
 * check ACCESS VA: a question for an oracle. Unanswered, the file cannot be
 * judged (exit 2). With --answer-ref the reference answers it: the line
 * becomes `expect ACCESS VA -> X` where X is the fresh walk's answer plus
 * the PMA check of one byte, exactly what the unsized expect computes.
 */
static int run_check(machine_t *mc, char **tok, int ntok)
{
    access_line_t L;
    memset(&L, 0, sizeof L);
    if (ntok != 3 || conform_parse_access_kind(tok[1], &L.access, &L.size) || L.size != 0 ||
        !parse_u64(tok[2], &L.va))
        return file_error(mc, "expected: check read|write|exec VA");
    if (!mc->opt->answer_ref)
        return file_error(mc, "unanswered 'check' line: answer it with an oracle "
                              "(conformance/qemu/qemu_answer.py) or run with --answer-ref");
    ref_rv_walk_t fresh;
    ref_rv_translate(&mc->mem, &mc->rv, L.va, L.access, false, &fresh);
    L.alts[0].outcome = fresh.outcome;
    L.alts[0].pa = fresh.pa;
    if (fresh.outcome == REF_OK && !backed(mc, fresh.pa, 1))
        L.alts[0].outcome = REF_ACCESS_FAULT;
    L.n_alts = 1;
    mc->expectations++;
    run_translate(mc, &L);
    return 0;
}

/* ---- one line --------------------------------------------------------- */

/* White-box: is the core TLB entry e (ITLB if exec_side) one the reference
 * remembers: same side, page and size, physical page, paging mode, and
 * global only if the remembered leaf is, else the same ASID? */
static bool tlb_entry_remembered(const void *ref, const struct tlb_entry *e, bool exec_side)
{
    const machine_t *mc = ref;
    return ref_tlb_remembers(mc->tlb, exec_side, mc->rv.levels, e->tag, e->shift, e->pa_base,
                             e->asid_mask == 0, e->asid);
}

void conform_check_core_tlbs(const conform_env_t *env, const void *ref,
                             bool (*remembered)(const void *ref, const struct tlb_entry *e,
                                                bool exec_side),
                             const char *unit, const char *id, const char *justifier)
{
    bool exec_side;
    const struct tlb_entry *e =
        mmu_tlb_find_rejected((const struct vm_mmu *)env->core, remembered, ref, &exec_side);
    if (e == NULL)
        return;
    printf("%s:%d: after this line the core's %s still holds va 0x%llx (%u-bit %s) -> pa "
           "0x%llx %s%s %u, which no remembered %s justifies\n",
           env->file, env->line, exec_side ? "ITLB" : "DTLB", (unsigned long long)e->tag,
           e->shift, unit, (unsigned long long)e->pa_base, e->asid_mask == 0 ? "global, " : "",
           id, e->asid, justifier);
    (*env->failures)++;
}

static int set_levels(machine_t *mc, int levels)
{
    static const vm_paging_mode_t modes[6] = { VM_PAGING_BARE, VM_PAGING_BARE, VM_PAGING_BARE,
                                               VM_PAGING_SV39, VM_PAGING_SV48, VM_PAGING_SV57 };
    mc->rv.levels = levels;
    ref_tlb_flush_all(mc->tlb);     /* vm_mmu_set_paging_mode flushes both TLBs */
    if (mc->core)
        vm_mmu_set_paging_mode(mc->core, modes[levels]);
    return 0;
}

static conform_env_t env_of(machine_t *mc)
{
    conform_env_t env = { mc->file, mc->line, mc->opt->ref_only, mc->opt->verbose, mc->strict,
                          mc->core, &mc->mem, &mc->expectations, &mc->failures,
                          mc->opt->answer_ref, &mc->hits_base, &mc->misses_base };
    return env;
}

/*
 * White-box, after every line (conformance/README.md, "What is left after
 * a flush"): the part whose mode the core is in checks that each entry in
 * the core's TLBs is one its reference remembers.
 */
static void check_tlb_after_line(machine_t *mc)
{
    if (!mc->core)
        return;
    /* After every line in a RISC-V mode, the RISC-V reference: a flush
     * that keeps what it must drop fails at the flush, not only when a
     * later line comes back to that address space and page (BUG-CLASSES
     * 8, 9, 10); an entry filled under the wrong ASID or by a walk that
     * should have faulted fails at the access that filled it. */
    conform_env_t env = env_of(mc);
    vm_paging_mode_t mode = vm_mmu_paging_mode(mc->core);
    if (mode != VM_PAGING_ARM64 && mode != VM_PAGING_X86_64) {
        conform_check_core_tlbs(&env, mc, tlb_entry_remembered, "page", "asid", "leaf");
        return;
    }
    for (size_t k = 0; k < N_ARCH_PARTS; k++)
        if (mc->arch_state[k])
            arch_parts[k]->check_tlb(mc->arch_state[k], &env);
}

static int run_line(machine_t *mc, char **tok, int ntok)
{
    const char *kw = tok[0];
    uint64_t v;

    if (!strcmp(kw, "mem") || !strcmp(kw, "base")) {
        bool is_mem = kw[0] == 'm';
        if (ntok != 2 || (is_mem ? !parse_size(tok[1], &v) || v == 0 : !parse_u64(tok[1], &v)))
            return file_error(mc, is_mem ? "expected: mem SIZE (K/M/G suffix allowed)"
                                         : "expected: base ADDRESS");
        if (machine_started(mc))
            return file_error(mc, "%s must come before every other line", kw);
        *(is_mem ? &mc->hdr_size : &mc->hdr_base) = v;
        return 0;
    }
    if (ensure_started(mc))
        return -1;

    /* The extension files see every line first (conform_ext.h), then the
     * architecture parts (conform_arch.h). */
    conform_view_t view = view_of(mc);
    int claimed = conform_ext_line(&view, tok, ntok);
    if (claimed != CONFORM_NOT_MINE)
        return claimed == CONFORM_DONE ? 0 : -1;
    conform_env_t env = env_of(mc);
    for (size_t k = 0; k < N_ARCH_PARTS; k++) {
        if (!mc->arch_state[k] && !(mc->arch_state[k] = arch_parts[k]->start()))
            return file_error(mc, "%s: out of memory", arch_parts[k]->name);
        int r = arch_parts[k]->line(mc->arch_state[k], &env, tok, ntok);
        if (r != CONFORM_NOT_MINE)
            return r == CONFORM_DONE ? 0 : -1;
    }

    if (!strcmp(kw, "mode")) {
        if (ntok != 2)
            return file_error(mc, "expected: mode bare|sv39|sv48|sv57|arm64|x86_64|x86_64_la57");
        if (!strcmp(tok[1], "bare")) return set_levels(mc, 0);
        if (!strcmp(tok[1], "sv39")) return set_levels(mc, 3);
        if (!strcmp(tok[1], "sv48")) return set_levels(mc, 4);
        if (!strcmp(tok[1], "sv57")) return set_levels(mc, 5);
        return file_error(mc, "unknown mode '%s'", tok[1]);
    }
    if (!strcmp(kw, "satp")) {
        if (ntok != 2 || !parse_u64(tok[1], &v))
            return file_error(mc, "expected: satp VALUE");
        int old_levels = mc->rv.levels;
        if (ref_rv_write_satp(&mc->rv, v) && mc->rv.levels != old_levels)
            ref_tlb_flush_all(mc->tlb);     /* a MODE change flushes (mmu.h) */
        if (mc->core)
            vm_mmu_set_satp(mc->core, v);
        return 0;
    }
    if (!strcmp(kw, "priv")) {
        if (ntok != 2)
            return file_error(mc, "expected: priv U|S|M");
        int p;
        if (!strcmp(tok[1], "U")) p = 0;
        else if (!strcmp(tok[1], "S")) p = 1;
        else if (!strcmp(tok[1], "M")) p = 3;
        else return file_error(mc, "unknown privilege '%s'", tok[1]);
        mc->rv.priv = p;
        if (mc->core)
            vm_mmu_set_priv(mc->core, (vm_priv_t)p);
        return 0;
    }
    if (!strcmp(kw, "sum") || !strcmp(kw, "mxr") || !strcmp(kw, "strict")) {
        bool b;
        if (ntok != 2 || !parse_bool(tok[1], &b))
            return file_error(mc, "expected: %s 0|1", kw);
        if (kw[0] == 's' && kw[1] == 'u') {
            mc->rv.sum = b;
            if (mc->core) vm_mmu_set_sum(mc->core, b);
        } else if (kw[0] == 'm') {
            mc->rv.mxr = b;
            if (mc->core) vm_mmu_set_mxr(mc->core, b);
        } else {
            mc->strict = b;
            if (mc->core) vm_mmu_set_strict_align(mc->core, b);
        }
        return 0;
    }
    if (!strcmp(kw, "ad")) {
        if (ntok != 2 || (strcmp(tok[1], "hw") && strcmp(tok[1], "fault")))
            return file_error(mc, "expected: ad hw|fault");
        mc->rv.ad_hardware = !strcmp(tok[1], "hw");
        if (mc->core)
            vm_mmu_set_ad_mode(mc->core, mc->rv.ad_hardware ? VM_AD_HARDWARE : VM_AD_FAULT);
        return 0;
    }
    if (kw[0] == 'w' && (!strcmp(kw, "w8") || !strcmp(kw, "w16") || !strcmp(kw, "w32") ||
                         !strcmp(kw, "w64"))) {
        unsigned size = (unsigned)atoi(kw + 1) / 8;
        uint64_t pa;
        if (ntok != 3 || !parse_u64(tok[1], &pa) || !parse_u64(tok[2], &v))
            return file_error(mc, "expected: %s PA VALUE", kw);
        if (size < 8 && (v >> (8 * size)))
            return file_error(mc, "value 0x%llx does not fit in %s", (unsigned long long)v, kw);
        if (!ref_ram_range(mc, pa, size))
            return file_error(mc, "%s 0x%llx: not inside RAM", kw, (unsigned long long)pa);
        ref_ram_store(mc, pa, v, size);
        if (mc->core) {
            vm_err_t err = vm_mmu_write_phys(mc->core, pa, v, (uint8_t)size);
            if (err)
                return file_error(mc, "%s: the core refused a RAM write: %s", kw, vm_strerror(err));
        }
        return 0;
    }
    if (!strcmp(kw, "flush")) {
        if (ntok == 2 && !strcmp(tok[1], "all")) {
            ref_tlb_flush_all(mc->tlb);
            if (mc->core) vm_mmu_flush_tlb(mc->core);
            return 0;
        }
        if (ntok == 3 && !strcmp(tok[1], "asid") && parse_u64(tok[2], &v) && v <= 0xffff) {
            ref_tlb_flush_asid(mc->tlb, (uint16_t)v);
            if (mc->core) vm_mmu_flush_tlb_asid(mc->core, (uint16_t)v);
            return 0;
        }
        if (ntok == 3 && !strcmp(tok[1], "page") && parse_u64(tok[2], &v)) {
            ref_tlb_flush_page(mc->tlb, v);
            if (mc->core) vm_mmu_flush_tlb_page(mc->core, v);
            return 0;
        }
        return file_error(mc, "expected: flush all | flush asid N (0..65535) | flush page VA");
    }
    if (!strcmp(kw, "mmio")) {
        uint64_t base, size;
        if (ntok != 3 || !parse_u64(tok[1], &base) || !parse_size(tok[2], &size))
            return file_error(mc, "expected: mmio BASE SIZE");
        if (mc->mem.n_mmio == REF_MAX_MMIO || !ref_mem_region_ok(&mc->mem, base, size))
            return file_error(mc, "mmio: region rejected by the reference (overlap, empty, or too many)");
        mc->mem.mmio[mc->mem.n_mmio].base = base;
        mc->mem.mmio[mc->mem.n_mmio].size = size;
        mc->mem.n_mmio++;
        if (mc->core) {
            vm_err_t err = vm_mmu_map_mmio(mc->core, base, size, &dummy_ops, NULL);
            if (err)
                return file_error(mc, "mmio: the core refused the region: %s", vm_strerror(err));
        }
        return 0;
    }
    if (!strcmp(kw, "check"))
        return run_check(mc, tok, ntok);
    if (!strcmp(kw, "expect")) {
        if (ntok < 2)
            return file_error(mc, "expect what?");
        if (!strcmp(tok[1], "satp"))
            return run_expect_satp(mc, tok, ntok);
        if (!strcmp(tok[1], "tlb"))
            return run_expect_tlb(mc, tok, ntok);
        if (!strcmp(tok[1], "r8")) return run_expect_phys(mc, 1, tok, ntok);
        if (!strcmp(tok[1], "r16")) return run_expect_phys(mc, 2, tok, ntok);
        if (!strcmp(tok[1], "r32")) return run_expect_phys(mc, 4, tok, ntok);
        if (!strcmp(tok[1], "r64")) return run_expect_phys(mc, 8, tok, ntok);
        access_line_t L;
        if (parse_access_line(mc, tok, ntok, &L))
            return -1;
        mc->expectations++;
        if (L.size == 0)
            run_translate(mc, &L);
        else
            run_sized(mc, &L);
        return 0;
    }
    return file_error(mc, "unknown keyword '%s'", kw);
}

/* ---- files ------------------------------------------------------------ */

/* Returns 0 (all held), 1 (some expectation failed) or 2 (malformed). */
static int run_file(const options_t *opt, const char *path, int *n_expect, int *n_fail)
{
    machine_t mc;
    memset(&mc, 0, sizeof mc);
    mc.opt = opt;
    mc.file = path;
    mc.tlb = conform_zalloc(sizeof *mc.tlb);
    if (!mc.tlb) {
        fprintf(stderr, "%s: out of memory\n", path);
        return 2;
    }
    ref_tlb_reset(mc.tlb);

    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        conform_zfree(mc.tlb, sizeof *mc.tlb);
        return 2;
    }
    int status = 0;
    char buf[LINE_MAX_LEN];
    while (fgets(buf, sizeof buf, f)) {
        mc.line++;
        size_t len = strlen(buf);
        if (len == sizeof buf - 1 && buf[len - 1] != '\n' && !feof(f)) {
            file_error(&mc, "line longer than %d characters", LINE_MAX_LEN - 2);
            status = 2;
            break;
        }
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = 0;
        char *tok[MAX_TOKENS];
        int ntok = 0;
        bool too_many = false;
        for (char *p = strtok(buf, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
            if (ntok == MAX_TOKENS) {
                too_many = true;
                break;
            }
            tok[ntok++] = p;
        }
        if (too_many) {
            file_error(&mc, "too many words on one line (at most %d)", MAX_TOKENS);
            status = 2;
            break;
        }
        if (ntok == 0)
            continue;
        if (run_line(&mc, tok, ntok)) {
            status = 2;
            break;
        }
        check_tlb_after_line(&mc);
        if (mc.ext) {   /* checks after every line: device calls */
            conform_view_t v = view_of(&mc);
            conform_ext_after_line(&v);
        }
    }
    if (status == 0 && ferror(f)) {
        fprintf(stderr, "%s: read error\n", path);
        status = 2;
    }
    if (status == 0 && mc.expectations == 0) {
        fprintf(stderr, "%s: no expectation in the file\n", path);
        status = 2;
    }
    fclose(f);
    machine_stop(&mc, status == 0);
    conform_zfree(mc.tlb, sizeof *mc.tlb);
    *n_expect += mc.expectations;
    *n_fail += mc.failures;
    if (status)
        return status;
    return mc.failures ? 1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: vmmem-conform [--ref-only] [--answer-ref] [-v] FILE.vmc...\n"
                    "  --ref-only  check the cases against the reference models alone\n"
                    "  --answer-ref  answer `check` lines with the reference model\n"
                    "  -v          print every expectation that holds\n");
}

int main(int argc, char **argv)
{
    options_t opt = { false, false, false };
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--ref-only"))
            opt.ref_only = true;
        else if (!strcmp(argv[first], "--answer-ref"))
            opt.answer_ref = true;
        else if (!strcmp(argv[first], "-v"))
            opt.verbose = true;
        else if (!strcmp(argv[first], "--")) {
            first++;
            break;
        } else {
            usage();
            return 2;
        }
    }
    if (first == argc) {
        usage();
        return 2;
    }
    int worst = 0, n_expect = 0, n_fail = 0, n_files = 0;
    for (int k = first; k < argc; k++) {
        int r = run_file(&opt, argv[k], &n_expect, &n_fail);
        n_files++;
        if (r > worst)
            worst = r;
    }
    printf("vmmem-conform%s: %d files, %d expectations, %d failed%s\n",
           opt.ref_only ? " (reference only)" : "", n_files, n_expect, n_fail,
           worst == 2 ? ", malformed input" : "");
    return worst;
}
