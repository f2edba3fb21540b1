/*
 * conform_phys.c - vmmem-conform lines that call the physical-memory API
 * (vmmem/physmem.h) directly, each answered by the reference's routing and
 * reservation models: what fuzz_physmem and fuzz_lrsc do, as text.
 *
 *   expect pr8|pr16|pr32|pr64 PA [= V] [null] -> ERR    vm_physmem_read_uN (null: out = NULL)
 *   expect pw8|pw16|pw32|pw64 PA = V -> ERR             vm_physmem_write_uN
 *   expect pread PA SIZE [= V] [null] -> ERR            vm_physmem_read (SIZE 0..255)
 *   expect pwrite PA SIZE = V -> ERR                    vm_physmem_write
 *     (either with a last operand `inline` or `view`: vm_physmem_read_inline /
 *     _write_inline, or vm_physmem_view_read / _write through a fresh view,
 *     vmmem/physmem_inline.h; their contract is the function's, so the
 *     reference answers alike)
 *   expect preadbuf PA LEN [null] -> ERR                vm_physmem_read_buf
 *   expect pwritebuf PA LEN DATA -> ERR                 vm_physmem_write_buf
 *   expect dump LEN -> ERR                              vm_physmem_dump
 *   expect restore LEN DATA -> ERR                      vm_physmem_restore
 *   expect plr PA SIZE [= V] -> ERR                     vm_physmem_load_reserved
 *   preserve PA SIZE                                    vm_physmem_reserve
 *   expect psc PA SIZE = V [null] -> stored|failed|ERR  vm_physmem_store_conditional
 *   pinvalidate PA SIZE                                 vm_physmem_invalidate
 *   expect pcas PA EXPECTED DESIRED -> swapped|kept|ERR the MMU's A/D compare-and-swap
 *   pclear                                              drop the acting hart's reservation
 *
 * ERR is ok or an error name (conform_err_name). LR/SC use the acting
 * hart's `owner` id. `pcas` and `pclear` call the two internal physmem
 * functions the MMU uses (physmem_cmpxchg_u64 for A/D updates,
 * physmem_clear_reservation when an SC faults), so the reservation effects
 * of those paths can be stated too. DATA: conform_parse_data.
 *
 * The reference answers from physmem.h's text: scalar accesses check the
 * size, then "addr + size > 2^64 - 1", then RAM, then a region touched but
 * not wholly and naturally aligned inside (VM_ERR_MMIO), then the device,
 * else VM_ERR_INVALID_ADDRESS; bulk transfers need [addr, addr + len) in
 * RAM (len 0: base <= addr <= base + size) and a buffer when len > 0; dump
 * and restore need len == the RAM size, and restore breaks every
 * reservation; LR checks size, alignment, RAM (MMIO included: no device is
 * called) and changes nothing on error; SC checks size and its result
 * pointer (reservation untouched), then alignment and RAM (reservation
 * cleared), then Zalrsc (ref_resv_sc). Every value read is compared with
 * the reference's, and every range written is compared afterwards, core vs
 * reference; a failed call must leave the caller's buffer untouched.
 *
 * Rejected: giving these lines the MMU's answer syntax (PA / fault): the
 * physical API answers with error codes, and the case says which.
 */
#include "conform_ext_int.h"
#include "physmem_int.h" /* physmem_cmpxchg_u64, physmem_clear_reservation */
#include "vmmem/physmem_inline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5u
#define CANARY_CHECK 64u

static bool size_ok(uint64_t size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static int hart_of(const conform_view_t *v)
{
    return v->ext->cur;
}

static uint64_t owner_of(const conform_view_t *v)
{
    return v->ext->hart[v->ext->cur].owner;
}

/*
 * A scalar access on the reference (physmem.h, "Scalar accesses", in its
 * order: ref_mem_scalar). *val is the value to write, or receives the value
 * read.
 */
static vm_err_t ref_scalar(const conform_view_t *v, uint64_t pa, uint64_t size, bool write,
                           uint64_t *val)
{
    int region;
    uint64_t off;
    switch (ref_mem_scalar(v->mem, pa, size, &region, &off)) {
    case REF_SCALAR_RAM:
        if (write) {
            uint8_t b[8];
            for (unsigned i = 0; i < size; i++)
                b[i] = (uint8_t)(*val >> (8 * i));
            conform_ref_write(v, pa, b, size);
        } else {
            *val = conform_ref_load(v, pa, (unsigned)size);
        }
        return VM_OK;
    case REF_SCALAR_DEVICE:
        if (v->ext->region_dev[region] < 0) {   /* the `mmio` dummy */
            if (!write)
                *val = 0;
            return VM_OK;
        }
        return conform_device_ref_access(v, region, off, (unsigned)size, write, val);
    case REF_SCALAR_BAD_SIZE: return VM_ERR_INVALID_ARGUMENT;
    case REF_SCALAR_MMIO_ERROR: return VM_ERR_MMIO;
    default: return VM_ERR_INVALID_ADDRESS;
    }
}

/* ---- operand parsing ---------------------------------------------------- */

enum phys_form { FORM_FUNCTION, FORM_INLINE, FORM_VIEW };

typedef struct phys_line {
    uint64_t pa, size, value;
    bool has_value, null_ptr;
    enum phys_form form;
    conform_alts_t alts;
} phys_line_t;

/*
 * expect KW PA [SIZE] [= V] [null] [inline|view] -> ALTS (the SIZE operand
 * if with_size, `= V` required if need_value, `null` allowed if
 * may_be_null, the form operand only with SIZE and never with `null`: the
 * inline forms take no NULL result pointer).
 */
static int parse_phys(const conform_view_t *v, char **tok, int ntok, bool with_size,
                      bool need_value, bool may_be_null, phys_line_t *L)
{
    memset(L, 0, sizeof *L);
    int pos = 2;
    if (pos >= ntok || !conform_parse_u64(tok[pos++], &L->pa))
        return conform_malformed(v, "%s: bad or missing physical address", tok[1]);
    if (with_size && (pos >= ntok || !conform_parse_u64(tok[pos++], &L->size) || L->size > 255))
        return conform_malformed(v, "%s: bad or missing SIZE (0..255)", tok[1]);
    if (pos < ntok && !strcmp(tok[pos], "=")) {
        if (pos + 1 >= ntok || !conform_parse_u64(tok[pos + 1], &L->value))
            return conform_malformed(v, "'=' needs a value");
        L->has_value = true;
        pos += 2;
    }
    if (need_value && !L->has_value)
        return conform_malformed(v, "%s needs '= VALUE'", tok[1]);
    if (pos < ntok && !strcmp(tok[pos], "null")) {
        if (!may_be_null)
            return conform_malformed(v, "%s: 'null' is not an operand here", tok[1]);
        L->null_ptr = true;
        pos++;
    }
    if (pos < ntok && (!strcmp(tok[pos], "inline") || !strcmp(tok[pos], "view"))) {
        if (!with_size || L->null_ptr)
            return conform_malformed(v, "%s: '%s' only on pread/pwrite, without 'null'", tok[1],
                                     tok[pos]);
        L->form = !strcmp(tok[pos], "inline") ? FORM_INLINE : FORM_VIEW;
        pos++;
    }
    return conform_parse_alts(v, tok, ntok, pos, &L->alts) ? CONFORM_ERROR : 0;
}

static const char *value_extra(const char *who, uint64_t got, uint64_t want, char *buf, size_t len)
{
    snprintf(buf, len, "%s read 0x%llx, want 0x%llx%s", who, (unsigned long long)got,
             (unsigned long long)want, strcmp(who, "the reference") ? "" : " [the case is wrong]");
    return buf;
}

/* ---- scalar reads and writes ------------------------------------------- */

static vm_err_t core_read_typed(vm_physmem_t *pm, uint64_t pa, unsigned w, uint64_t *v, bool null)
{
    vm_err_t e;
    switch (w) {
    case 1: { uint8_t x = 0; e = vm_physmem_read_u8(pm, pa, null ? NULL : &x); *v = x; break; }
    case 2: { uint16_t x = 0; e = vm_physmem_read_u16(pm, pa, null ? NULL : &x); *v = x; break; }
    case 4: { uint32_t x = 0; e = vm_physmem_read_u32(pm, pa, null ? NULL : &x); *v = x; break; }
    default: { uint64_t x = 0; e = vm_physmem_read_u64(pm, pa, null ? NULL : &x); *v = x; break; }
    }
    return e;
}

static vm_err_t core_write_typed(vm_physmem_t *pm, uint64_t pa, unsigned w, uint64_t v)
{
    switch (w) {
    case 1: return vm_physmem_write_u8(pm, pa, (uint8_t)v);
    case 2: return vm_physmem_write_u16(pm, pa, (uint16_t)v);
    case 4: return vm_physmem_write_u32(pm, pa, (uint32_t)v);
    default: return vm_physmem_write_u64(pm, pa, v);
    }
}

static vm_err_t core_read_form(vm_physmem_t *pm, enum phys_form form, uint64_t pa, uint8_t size,
                               uint64_t *v)
{
    if (form == FORM_INLINE)
        return vm_physmem_read_inline(pm, pa, size, v);
    if (form == FORM_VIEW) {
        const vm_physmem_view_t view = vm_physmem_view(pm);
        return vm_physmem_view_read(&view, pa, size, v);
    }
    return vm_physmem_read(pm, pa, size, v);
}

static vm_err_t core_write_form(vm_physmem_t *pm, enum phys_form form, uint64_t pa, uint8_t size,
                                uint64_t v)
{
    if (form == FORM_INLINE)
        return vm_physmem_write_inline(pm, pa, v, size);
    if (form == FORM_VIEW) {
        const vm_physmem_view_t view = vm_physmem_view(pm);
        return vm_physmem_view_write(&view, pa, v, size);
    }
    return vm_physmem_write(pm, pa, v, size);
}

/* typed: the size comes from the keyword (pr8 .. pr64, pw8 .. pw64). */
static int line_scalar(const conform_view_t *v, char **tok, int ntok, bool write, unsigned typed)
{
    conform_ext_t *ext = v->ext;
    phys_line_t L;
    if (parse_phys(v, tok, ntok, typed == 0, write, !write, &L))
        return CONFORM_ERROR;
    if (typed)
        L.size = typed;
    char buf[160];
    const char *extra = NULL;

    uint64_t ref_val = L.value;
    vm_err_t want = L.null_ptr ? VM_ERR_INVALID_ARGUMENT : ref_scalar(v, L.pa, L.size, write, &ref_val);
    uint64_t core_val = 0;
    vm_err_t got = VM_OK;
    if (ext->pm) {
        if (write)
            got = typed ? core_write_typed(ext->pm, L.pa, typed, L.value)
                        : core_write_form(ext->pm, L.form, L.pa, (uint8_t)L.size, L.value);
        else if (typed)
            got = core_read_typed(ext->pm, L.pa, typed, &core_val, L.null_ptr);
        else if (L.null_ptr)
            got = vm_physmem_read(ext->pm, L.pa, (uint8_t)L.size, NULL);
        else
            got = core_read_form(ext->pm, L.form, L.pa, (uint8_t)L.size, &core_val);
    }
    if (L.null_ptr)
        ext->core_calls.n = 0;   /* a device read into the core's own buffer is tolerated */
    if (!write && want == VM_OK && L.has_value && ref_val != L.value)
        extra = value_extra("the reference", ref_val, L.value, buf, sizeof buf);
    else if (!write && ext->pm && got == VM_OK && want == VM_OK && core_val != ref_val)
        extra = value_extra("the core", core_val, ref_val, buf, sizeof buf);
    else if (write && ext->pm && want == VM_OK)
        extra = conform_ram_compare(v, L.pa, L.size, buf, sizeof buf);
    conform_judge(v, &L.alts, conform_err_name(want), conform_err_name(got), extra);
    return CONFORM_DONE;
}

/* ---- bulk transfers, dump and restore ---------------------------------- */

/* Host buffer for LEN bytes: the whole length when plausible, else enough
 * for any transfer that can succeed (a core that reads further is caught by
 * the sanitizers, as it would be in the fuzz target). */
static uint8_t *bulk_buffer(const conform_view_t *v, uint64_t len, uint64_t *have)
{
    uint64_t cap = v->mem->size + 4096;
    *have = len < cap ? len : cap;
    return malloc(*have ? *have : 1);
}

static bool bulk_in_ram(const conform_view_t *v, uint64_t pa, uint64_t len)
{
    return ref_mem_in_ram(v->mem, pa, len);
}

static const char *canary_extra(const uint8_t *buf, uint64_t have, char *out, size_t len)
{
    for (uint64_t i = 0; i < have && i < CANARY_CHECK; i++)
        if (buf[i] != CANARY) {
            snprintf(out, len, "the failed call wrote the caller's buffer at offset %llu",
                     (unsigned long long)i);
            return out;
        }
    return NULL;
}

static const char *buffer_vs_ram(const conform_view_t *v, const uint8_t *buf, uint64_t pa,
                                 uint64_t len, char *out, size_t olen)
{
    const ref_mem_t *m = v->mem;
    for (uint64_t i = 0; i < len; i++)
        if (buf[i] != m->ram[pa - m->base + i]) {
            snprintf(out, olen, "byte %llu read 0x%02x, the reference holds 0x%02x",
                     (unsigned long long)i, buf[i], m->ram[pa - m->base + i]);
            return out;
        }
    return NULL;
}

static int line_readbuf(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t pa, len;
    bool null_ptr = false;
    conform_alts_t alts;
    if (ntok < 5 || !conform_parse_u64(tok[2], &pa) || !conform_parse_u64(tok[3], &len))
        return conform_malformed(v, "expected: expect preadbuf PA LEN [null] -> ANSWER");
    int pos = 4;
    if (!strcmp(tok[pos], "null")) {
        null_ptr = true;
        pos++;
    }
    if (conform_parse_alts(v, tok, ntok, pos, &alts))
        return CONFORM_ERROR;
    char msg[160];
    const char *extra = NULL;
    vm_err_t want = null_ptr && len > 0 ? VM_ERR_INVALID_ARGUMENT
                  : bulk_in_ram(v, pa, len) ? VM_OK : VM_ERR_INVALID_ADDRESS;
    vm_err_t got = VM_OK;
    if (ext->pm) {
        uint64_t have;
        uint8_t *buf = bulk_buffer(v, len, &have);
        if (!buf)
            return conform_malformed(v, "out of memory");
        memset(buf, CANARY, have);
        got = vm_physmem_read_buf(ext->pm, pa, null_ptr ? NULL : buf, (size_t)len);
        if (got == VM_OK && want == VM_OK)
            extra = buffer_vs_ram(v, buf, pa, len, msg, sizeof msg);
        else if (got != VM_OK && !null_ptr)
            extra = canary_extra(buf, have, msg, sizeof msg);
        free(buf);
    }
    conform_judge(v, &alts, conform_err_name(want), conform_err_name(got), extra);
    return CONFORM_DONE;
}

/* expect pwritebuf PA LEN DATA -> ANSWER, expect restore LEN DATA -> ANSWER */
static int line_writebuf(const conform_view_t *v, char **tok, int ntok, bool restore)
{
    conform_ext_t *ext = v->ext;
    uint64_t pa = v->mem->base, len;
    int pos = 2;
    if (!restore && (pos >= ntok || !conform_parse_u64(tok[pos++], &pa)))
        return conform_malformed(v, "expected: expect pwritebuf PA LEN DATA -> ANSWER");
    if (pos >= ntok || !conform_parse_u64(tok[pos++], &len))
        return conform_malformed(v, "expected: expect %s LEN DATA -> ANSWER",
                                 restore ? "restore" : "pwritebuf PA");
    uint64_t have;
    uint8_t *buf = bulk_buffer(v, len, &have);
    if (!buf)
        return conform_malformed(v, "out of memory");
    bool null_ptr;
    int used = conform_parse_data(v, tok, ntok, pos, pa, buf, have, &null_ptr);
    conform_alts_t alts;
    if (used <= 0 || (restore && null_ptr)) {
        free(buf);
        return conform_malformed(v, "expected DATA: pattern S | fill B | hex HH.. (LEN bytes) | "
                                    "same%s", restore ? "" : " | null");
    }
    if (conform_parse_alts(v, tok, ntok, pos + used, &alts)) {
        free(buf);
        return CONFORM_ERROR;
    }
    vm_err_t want;
    if (restore)
        want = len == v->mem->size ? VM_OK : VM_ERR_INVALID_ARGUMENT;
    else
        want = null_ptr && len > 0 ? VM_ERR_INVALID_ARGUMENT
             : bulk_in_ram(v, pa, len) ? VM_OK : VM_ERR_INVALID_ADDRESS;
    vm_err_t got = VM_OK;
    if (ext->pm)
        got = restore ? vm_physmem_restore(ext->pm, buf, (size_t)len)
                      : vm_physmem_write_buf(ext->pm, pa, null_ptr ? NULL : buf, (size_t)len);
    if (want == VM_OK && len > 0) {
        conform_ref_write(v, pa, buf, len);
        if (restore) {   /* "restore breaks every reservation" */
            ref_resv_reset(&ext->resv);
            memset(ext->resv_unknown, 0, sizeof ext->resv_unknown);
        }
    }
    /* What the call may have written: [pa, pa + len) clipped to RAM. */
    char msg[160];
    const char *extra = NULL;
    const ref_mem_t *m = v->mem;
    if (ext->pm && pa >= m->base && pa - m->base < m->size) {
        uint64_t room = m->size - (pa - m->base);
        extra = conform_ram_compare(v, pa, len < room ? len : room, msg, sizeof msg);
    }
    free(buf);
    conform_judge(v, &alts, conform_err_name(want), conform_err_name(got), extra);
    return CONFORM_DONE;
}

static int line_dump(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t len;
    conform_alts_t alts;
    if (ntok < 4 || !conform_parse_u64(tok[2], &len))
        return conform_malformed(v, "expected: expect dump LEN -> ANSWER");
    if (conform_parse_alts(v, tok, ntok, 3, &alts))
        return CONFORM_ERROR;
    vm_err_t want = len == v->mem->size ? VM_OK : VM_ERR_INVALID_ARGUMENT;
    vm_err_t got = VM_OK;
    char msg[160];
    const char *extra = NULL;
    if (ext->pm) {
        uint64_t have;
        uint8_t *buf = bulk_buffer(v, len, &have);
        if (!buf)
            return conform_malformed(v, "out of memory");
        memset(buf, CANARY, have);
        got = vm_physmem_dump(ext->pm, buf, (size_t)len);
        if (got == VM_OK && want == VM_OK)
            extra = buffer_vs_ram(v, buf, v->mem->base, len, msg, sizeof msg);
        else if (got != VM_OK)
            extra = canary_extra(buf, have, msg, sizeof msg);
        free(buf);
    }
    conform_judge(v, &alts, conform_err_name(want), conform_err_name(got), extra);
    return CONFORM_DONE;
}

/* ---- LR/SC --------------------------------------------------------------- */

static int line_plr(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    phys_line_t L;
    if (parse_phys(v, tok, ntok, true, false, false, &L) || conform_resv_form(v, true))
        return CONFORM_ERROR;
    vm_err_t want = !size_ok(L.size) ? VM_ERR_INVALID_ARGUMENT
                  : L.pa % L.size ? VM_ERR_ALIGNMENT_FAULT
                  : !ref_mem_in_ram(v->mem, L.pa, L.size) ? VM_ERR_INVALID_ADDRESS : VM_OK;
    uint64_t ref_val = 0, core_val = 0;
    if (want == VM_OK) {
        ref_val = conform_ref_load(v, L.pa, (unsigned)L.size);
        ref_resv_lr(&ext->resv, hart_of(v), L.pa);
        ext->resv_unknown[hart_of(v)] = false;
    }
    vm_err_t got = VM_OK;
    if (ext->pm)
        got = vm_physmem_load_reserved(ext->pm, L.pa, (uint8_t)L.size, owner_of(v), &core_val);
    char msg[160];
    const char *extra = NULL;
    if (want == VM_OK && L.has_value && ref_val != L.value)
        extra = value_extra("the reference", ref_val, L.value, msg, sizeof msg);
    else if (ext->pm && want == VM_OK && got == VM_OK && core_val != ref_val)
        extra = value_extra("the core", core_val, ref_val, msg, sizeof msg);
    conform_judge(v, &L.alts, conform_err_name(want), conform_err_name(got), extra);
    return CONFORM_DONE;
}

static int line_preserve(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t pa, size;
    if (ntok != 3 || !conform_parse_u64(tok[1], &pa) || !conform_parse_u64(tok[2], &size) ||
        size > 255)
        return conform_malformed(v, "expected: preserve PA SIZE");
    if (conform_resv_form(v, true))
        return CONFORM_ERROR;
    /* physmem.h: invalid input (size, not RAM, crossing the granule) leaves
     * the owner with no reservation. */
    int h = hart_of(v);
    ext->resv_unknown[h] = false;
    if (size_ok(size) && ref_mem_in_ram(v->mem, pa, size) && (pa % 8) + size <= 8)
        ref_resv_lr(&ext->resv, h, pa);
    else
        ext->resv.valid[h] = false;
    if (ext->pm)
        vm_physmem_reserve(ext->pm, pa, owner_of(v), (uint8_t)size);
    return CONFORM_DONE;
}

static int line_psc(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    phys_line_t L;
    if (parse_phys(v, tok, ntok, true, true, true, &L) || conform_resv_form(v, true))
        return CONFORM_ERROR;
    int h = hart_of(v);
    bool core_stored = false;
    vm_err_t got = VM_OK;
    if (ext->pm)
        got = vm_physmem_store_conditional(ext->pm, L.pa, L.value, (uint8_t)L.size, owner_of(v),
                                           L.null_ptr ? NULL : &core_stored);
    const char *want;
    if (!size_ok(L.size) || L.null_ptr) {
        want = conform_err_name(VM_ERR_INVALID_ARGUMENT);   /* reservation untouched */
    } else if (L.pa % L.size || !ref_mem_in_ram(v->mem, L.pa, L.size)) {
        want = conform_err_name(L.pa % L.size ? VM_ERR_ALIGNMENT_FAULT : VM_ERR_INVALID_ADDRESS);
        ext->resv.valid[h] = false;
        ext->resv_unknown[h] = false;
    } else {
        bool stored = conform_resv_sc(ext, h, L.pa, (unsigned)L.size, core_stored);
        if (stored) {
            uint8_t b[8];
            for (unsigned i = 0; i < L.size; i++)
                b[i] = (uint8_t)(L.value >> (8 * i));
            conform_ref_write(v, L.pa, b, L.size);
        }
        want = stored ? "stored" : "failed";
    }
    const char *core = got != VM_OK ? conform_err_name(got) : core_stored ? "stored" : "failed";
    char msg[160];
    const char *extra = NULL;
    if (ext->pm && size_ok(L.size))
        extra = conform_ram_compare(v, L.pa, L.size, msg, sizeof msg);
    conform_judge(v, &L.alts, want, core, extra);
    return CONFORM_DONE;
}

static int line_pinvalidate(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t pa, size;
    if (ntok != 3 || !conform_parse_u64(tok[1], &pa) || !conform_parse_u64(tok[2], &size) ||
        size > 255)
        return conform_malformed(v, "expected: pinvalidate PA SIZE (0..255)");
    /* "Drop every owner's reservation whose granule overlaps [pa, pa+size)". */
    for (int h = 0; h < CONFORM_MAX_HARTS; h++) {
        uint64_t g = ext->resv.granule[h];
        uint64_t last = size == 0 ? 0 : size - 1 > UINT64_MAX - pa ? UINT64_MAX : pa + size - 1;
        if (size && ext->resv_unknown[h] && pa <= g + 7 && g <= last) {
            ext->resv_unknown[h] = false;
            ext->resv.valid[h] = false;
        }
    }
    ref_resv_invalidate(&ext->resv, pa, size);
    if (ext->pm)
        vm_physmem_invalidate(ext->pm, pa, (uint8_t)size);
    return CONFORM_DONE;
}

static int line_pcas(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t pa, expected, desired;
    conform_alts_t alts;
    if (ntok < 6 || !conform_parse_u64(tok[2], &pa) || !conform_parse_u64(tok[3], &expected) ||
        !conform_parse_u64(tok[4], &desired))
        return conform_malformed(v, "expected: expect pcas PA EXPECTED DESIRED -> ANSWER");
    if (conform_parse_alts(v, tok, ntok, 5, &alts))
        return CONFORM_ERROR;
    const char *want;
    if (pa % 8)
        want = conform_err_name(VM_ERR_ALIGNMENT_FAULT);
    else if (!ref_mem_in_ram(v->mem, pa, 8))
        want = conform_err_name(VM_ERR_INVALID_ADDRESS);
    else if (conform_ref_load(v, pa, 8) == expected) {
        uint8_t b[8];
        for (unsigned i = 0; i < 8; i++)
            b[i] = (uint8_t)(desired >> (8 * i));
        conform_ref_write(v, pa, b, 8);   /* a write: it breaks reservations */
        want = "swapped";
    } else {
        want = "kept";
    }
    const char *core = "-";
    char msg[160];
    const char *extra = NULL;
    if (ext->pm) {
        bool swapped = false;
        vm_err_t got = physmem_cmpxchg_u64(ext->pm, pa, expected, desired, &swapped);
        core = got != VM_OK ? conform_err_name(got) : swapped ? "swapped" : "kept";
        extra = conform_ram_compare(v, pa, 8, msg, sizeof msg);
    }
    conform_judge(v, &alts, want, core, extra);
    return CONFORM_DONE;
}

static int line_pclear(const conform_view_t *v, int ntok)
{
    conform_ext_t *ext = v->ext;
    if (ntok != 1)
        return conform_malformed(v, "expected: pclear");
    if (conform_resv_form(v, true))
        return CONFORM_ERROR;
    ext->resv.valid[hart_of(v)] = false;
    ext->resv_unknown[hart_of(v)] = false;
    if (ext->pm)
        physmem_clear_reservation(ext->pm, owner_of(v));
    return CONFORM_DONE;
}

int conform_phys_line(const conform_view_t *v, char **tok, int ntok)
{
    const char *kw = tok[0];
    if (!strcmp(kw, "preserve"))
        return line_preserve(v, tok, ntok);
    if (!strcmp(kw, "pinvalidate"))
        return line_pinvalidate(v, tok, ntok);
    if (!strcmp(kw, "pclear"))
        return line_pclear(v, ntok);
    if (strcmp(kw, "expect") || ntok < 2)
        return CONFORM_NOT_MINE;
    const char *what = tok[1];
    static const char *const typed_r[] = {"pr8", "pr16", "pr32", "pr64"};
    static const char *const typed_w[] = {"pw8", "pw16", "pw32", "pw64"};
    for (unsigned k = 0; k < 4; k++) {
        if (!strcmp(what, typed_r[k]))
            return line_scalar(v, tok, ntok, false, 1u << k);
        if (!strcmp(what, typed_w[k]))
            return line_scalar(v, tok, ntok, true, 1u << k);
    }
    if (!strcmp(what, "pread"))
        return line_scalar(v, tok, ntok, false, 0);
    if (!strcmp(what, "pwrite"))
        return line_scalar(v, tok, ntok, true, 0);
    if (!strcmp(what, "preadbuf"))
        return line_readbuf(v, tok, ntok);
    if (!strcmp(what, "pwritebuf"))
        return line_writebuf(v, tok, ntok, false);
    if (!strcmp(what, "restore"))
        return line_writebuf(v, tok, ntok, true);
    if (!strcmp(what, "dump"))
        return line_dump(v, tok, ntok);
    if (!strcmp(what, "plr"))
        return line_plr(v, tok, ntok);
    if (!strcmp(what, "psc"))
        return line_psc(v, tok, ntok);
    if (!strcmp(what, "pcas"))
        return line_pcas(v, tok, ntok);
    return CONFORM_NOT_MINE;
}
