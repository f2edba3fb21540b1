/*
 * fuzz_lrsc.c - differential fuzz target: vmmem's LR/SC reservations
 * against the sequential Zalrsc model ref_resv_t plus a flat RAM model.
 *
 * Input: a 4-byte config header, then an op stream (opcode byte modulo the
 * op count, fixed little-endian arguments). Config: number of harts (2..4),
 * RAM size (16, 64, 4096 or 4100 bytes), the set of owner ids (including 0,
 * UINT64_MAX and 2^63: an owner id is an opaque key, nothing may treat one
 * value as "none"; with bit 7 of its byte and one more header byte, ids one
 * bit apart, so any bit can be all that tells two owners apart), the address window most accesses fall into (so harts
 * collide on the same granules), and whether a device is mapped right after
 * RAM (LR/SC there must fail without touching the device).
 *
 * Ops: LR (vm_physmem_load_reserved), reserve, SC of every size incl.
 * misaligned and invalid sizes, a fused LR+SC (so successful SCs are
 * common), write_uN, the MemoryAccess write (incl. bad sizes), write_buf,
 * a write of the value already there (must still break reservations;
 * write_uN or the inline forms), the MemoryAccess write going through the
 * function, inline and view spellings in turn (by op number),
 * restore (right and wrong length), invalidate, the internal 8-byte
 * compare-and-swap the MMU uses for A/D updates (physmem_cmpxchg_u64) and
 * the internal "SC faulted" clear (physmem_clear_reservation), reads, and
 * MMIO writes (which never break a reservation).
 *
 * Oracle (vmmem/physmem.h, Zalrsc): every SC's error and its *stored flag
 * are predicted by ref_resv_sc; every value an LR or read returns must equal
 * the model; failing calls change nothing; at the end every hart probes its
 * reservation with an SC whose outcome the model predicts, and RAM is
 * compared byte for byte with the model.
 *
 * No tolerance: physmem.h pins that a failed LR (vm_physmem_load_reserved)
 * changes no reservation, while invalid vm_physmem_reserve input leaves the
 * owner with none; the model follows both exactly.
 *
 * A mismatch replays the input with the trace on (decoded scenario, expected
 * vs actual per op) and traps. All state is static and reset per input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#define FUZZ_TARGET_NAME "fuzz_lrsc"
#include "fuzz_report.h"
#include "physmem_int.h"
#include "physmem_forms.h"
#include "ref_model.h"
#include "vmc_emit.h"
#include "vmmem/physmem.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 2;

#define MAX_HARTS 4
#define MAX_RAM 4100u
#define DEV_SIZE 64u

static const uint64_t ram_sizes[4] = {16, 64, 4096, 4100};
static const uint64_t owner_sets[4][MAX_HARTS] = {
    {0, 1, 2, 3},
    {1, 2, 3, 4},
    {UINT64_MAX, 0, UINT64_C(1) << 63, 42},
    {0x100000000u, 0x1, 0x200000000u, 0x2}, /* ids equal in their low 32 bits */
};

static uint8_t model_ram[MAX_RAM];
static uint8_t scratch[MAX_RAM + 16];
static ref_resv_t resv;
static const uint64_t *owners;
static uint64_t flip_owners[MAX_HARTS];
static int n_harts;
static uint64_t ram_size, window, dev_base;
static bool dev_mapped;
static int dev_calls, dev_destroyed;
static vm_physmem_t *pm;

static void print_reservations(void)
{
    fprintf(stderr, "    model reservations:");
    for (int h = 0; h < n_harts; h++) {
        if (resv.valid[h])
            fprintf(stderr, " h%d=0x%llx", h, (unsigned long long)resv.granule[h]);
        else
            fprintf(stderr, " h%d=none", h);
    }
    fputc('\n', stderr);
}

/* ---- the device: LR/SC must never reach it; writes must not break reservations */

static vm_err_t dev_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    (void)opaque;
    (void)size;
    dev_calls++;
    *val = offset & 0xFF;
    return VM_OK;
}

static vm_err_t dev_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    (void)opaque;
    (void)offset;
    (void)val;
    (void)size;
    dev_calls++;
    return VM_OK;
}

static void dev_destroy(void *opaque)
{
    (void)opaque;
    dev_destroyed++;
}

/* ---- model helpers ---------------------------------------------------------- */

static bool size_ok(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static bool in_ram(uint64_t pa, uint64_t len)
{
    return pa <= ram_size && len <= ram_size - pa;
}

static uint64_t model_load(uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)model_ram[pa + i] << (8 * i);
    return v;
}

/* A RAM write by anyone: memory and every reservation it touches. */
static void model_write(uint64_t pa, uint64_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        model_ram[pa + i] = (uint8_t)(val >> (8 * i));
    ref_resv_write(&resv, pa, size);
}

static bool in_device(uint64_t pa, unsigned size)
{
    return dev_mapped && pa >= dev_base && pa - dev_base < DEV_SIZE && size <= DEV_SIZE - (pa - dev_base);
}

/* ---- the .vmc scenario (vmc_emit.h): one line per op ------------------------- */

static int vmc_hart = -1; /* the hart the last emitted line acted as */

static void vmc_as_hart(int h)
{
    if (vmc_on() && h != vmc_hart) {
        vmc_line("hart %d", h);
        vmc_hart = h;
    }
}

/* The answer of a scalar access (physmem.h order), from the model's routing. */
static const char *scalar_answer(uint64_t pa, unsigned size)
{
    ref_mem_t m = {model_ram, ram_size, {{dev_base, DEV_SIZE}}, dev_mapped ? 1 : 0, 0};
    switch (ref_mem_scalar(&m, pa, size, NULL, NULL)) {
    case REF_SCALAR_RAM: case REF_SCALAR_DEVICE: return "ok";
    case REF_SCALAR_BAD_SIZE: return vmc_err_name(VM_ERR_INVALID_ARGUMENT);
    case REF_SCALAR_MMIO_ERROR: return vmc_err_name(VM_ERR_MMIO);
    default: return vmc_err_name(VM_ERR_INVALID_ADDRESS);
    }
}

/* ---- decoding ---------------------------------------------------------------- */

static int pick_hart(fuzz_input_t *in)
{
    return fin_u8(in) % (unsigned)n_harts;
}

static uint64_t pick_addr(fuzz_input_t *in)
{
    uint8_t sel = fin_u8(in), arg = fin_u8(in);
    switch (sel % 8) {
    case 5: return ram_size - 8 + arg % 16u;               /* around the end of RAM */
    case 6: return (arg & 1) ? UINT64_MAX - arg % 16u : fin_u64(in); /* near 2^64 / anywhere */
    case 7: return dev_mapped ? dev_base + arg % 16u : ram_size - 4 + arg % 8u;
    default: return window + arg % 40u;                    /* the shared window */
    }
}

static unsigned pick_size(fuzz_input_t *in)
{
    static const unsigned sizes[12] = {1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 5, 16};
    return sizes[fin_u8(in) % 12u];
}

/* ---- ops ----------------------------------------------------------------------- */

static void op_lr(int h, uint64_t pa, unsigned size)
{
    trace("LR h%d (owner 0x%llx) pa=0x%llx size=%u", h, (unsigned long long)owners[h],
          (unsigned long long)pa, size);
    unsigned allowed;
    if (!size_ok(size)) {
        allowed = BIT(VM_ERR_INVALID_ARGUMENT);
    } else {
        /* physmem.h: alignment, then RAM (MMIO included: INVALID_ADDRESS). */
        if (pa % size != 0)
            allowed = BIT(VM_ERR_ALIGNMENT_FAULT);
        else if (!in_ram(pa, size))
            allowed = BIT(VM_ERR_INVALID_ADDRESS);
        else
            allowed = BIT(VM_OK);
    }
    if (vmc_on()) {
        vmc_as_hart(h);
        char value[32] = "";
        if (allowed == BIT(VM_OK))
            snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)model_load(pa, size));
        for (unsigned e = 0; e < VM_ERR__COUNT; e++)
            if (allowed == BIT(e))
                vmc_line("expect plr 0x%llx %u%s -> %s", (unsigned long long)pa, size, value,
                         vmc_err_name((vm_err_t)e));
    }
    uint64_t val = 0;
    int calls = dev_calls;
    vm_err_t e = vm_physmem_load_reserved(pm, pa, (uint8_t)size, owners[h], &val);
    check_err("vm_physmem_load_reserved", e, allowed);
    if (dev_calls != calls)
        mismatch("LR at 0x%llx reached the device", (unsigned long long)pa);
    if (e == VM_OK) {
        uint64_t want = model_load(pa, size);
        if (val != want)
            mismatch("LR read 0x%llx, model 0x%llx", (unsigned long long)val, (unsigned long long)want);
        ref_resv_lr(&resv, h, pa);
    }
    /* On error no reservation changes (physmem.h, LR): the model keeps
     * whatever the hart held. */
}

static void op_reserve(int h, uint64_t pa, unsigned size)
{
    trace("reserve h%d pa=0x%llx size=%u", h, (unsigned long long)pa, size);
    /* physmem.h: size not 1/2/4/8, range not in RAM, or crossing the granule
     * -> the owner has no reservation (misalignment inside the granule is fine). */
    bool valid = size_ok(size) && in_ram(pa, size) && (pa % 8) + size <= 8;
    vmc_as_hart(h);
    if (vmc_on())
        vmc_line("preserve 0x%llx %u", (unsigned long long)pa, size);
    int calls = dev_calls;
    vm_physmem_reserve(pm, pa, owners[h], (uint8_t)size);
    if (dev_calls != calls)
        mismatch("reserve at 0x%llx reached the device", (unsigned long long)pa);
    if (valid)
        ref_resv_lr(&resv, h, pa);
    else
        resv.valid[h] = false;
}

static void op_sc(int h, uint64_t pa, unsigned size, uint64_t val, bool null_stored)
{
    trace("SC h%d (owner 0x%llx) pa=0x%llx size=%u val=0x%llx%s", h, (unsigned long long)owners[h],
          (unsigned long long)pa, size, (unsigned long long)val, null_stored ? " stored=NULL" : "");
    if (vmc_on()) {
        vmc_as_hart(h);
        const char *want;
        ref_resv_t r = resv;
        if (!size_ok(size) || null_stored)
            want = vmc_err_name(VM_ERR_INVALID_ARGUMENT);
        else if (pa % size)
            want = vmc_err_name(VM_ERR_ALIGNMENT_FAULT);
        else if (!in_ram(pa, size))
            want = vmc_err_name(VM_ERR_INVALID_ADDRESS);
        else
            want = ref_resv_sc(&r, h, pa, size) ? "stored" : "failed";
        vmc_line("expect psc 0x%llx %u = 0x%llx%s -> %s", (unsigned long long)pa, size,
                 (unsigned long long)val, null_stored ? " null" : "", want);
    }
    bool stored = false;
    int calls = dev_calls;
    vm_err_t e = vm_physmem_store_conditional(pm, pa, val, (uint8_t)size, owners[h],
                                              null_stored ? NULL : &stored);
    if (dev_calls != calls)
        mismatch("SC at 0x%llx reached the device", (unsigned long long)pa);

    /* Argument errors: the reservation is untouched (physmem.h, SC). */
    if (!size_ok(size) || null_stored) {
        check_err("vm_physmem_store_conditional", e, BIT(VM_ERR_INVALID_ARGUMENT));
        return;
    }
    /* Past the argument checks every path clears the owner's reservation. */
    unsigned allowed = 0;
    if (pa % size != 0)
        allowed = BIT(VM_ERR_ALIGNMENT_FAULT); /* checked before the address */
    else if (!in_ram(pa, size))
        allowed = BIT(VM_ERR_INVALID_ADDRESS);
    if (allowed) {
        check_err("vm_physmem_store_conditional", e, allowed);
        resv.valid[h] = false;
        return;
    }
    check_err("vm_physmem_store_conditional", e, BIT(VM_OK));
    if (fuzz_tracing)
        fprintf(stderr, "      -> stored=%d\n", stored);
    bool want = ref_resv_sc(&resv, h, pa, size); /* clears h; on success breaks others */
    if (stored != want)
        mismatch("SC stored=%d, Zalrsc model says %d", stored, want);
    if (want)
        for (unsigned i = 0; i < size; i++)
            model_ram[pa + i] = (uint8_t)(val >> (8 * i));
}

/* The MemoryAccess form's write has three spellings (physmem_forms.h);
 * each must break the reservations its bytes touch. */
static unsigned write_form(void)
{
    return phys_form_of_op(fuzz_op_no);
}

/* A scalar write, typed (w 1/2/4/8) or the MemoryAccess form (any size). */
static void op_write(uint64_t pa, unsigned size, uint64_t val, bool typed)
{
    trace("%s pa=0x%llx size=%u val=0x%llx", typed ? "write_uN" : phys_form_write_name[write_form()],
          (unsigned long long)pa, size, (unsigned long long)val);
    if (vmc_on()) {
        if (typed)
            vmc_line("expect pw%u 0x%llx = 0x%llx -> %s", 8 * size, (unsigned long long)pa,
                     (unsigned long long)val, scalar_answer(pa, size));
        else
            vmc_line("expect pwrite 0x%llx %u = 0x%llx%s -> %s", (unsigned long long)pa, size,
                     (unsigned long long)val, phys_form_vmc[write_form()], scalar_answer(pa, size));
    }
    vm_err_t e;
    if (typed) {
        switch (size) {
        case 1: e = vm_physmem_write_u8(pm, pa, (uint8_t)val); break;
        case 2: e = vm_physmem_write_u16(pm, pa, (uint16_t)val); break;
        case 4: e = vm_physmem_write_u32(pm, pa, (uint32_t)val); break;
        default: e = vm_physmem_write_u64(pm, pa, val); break;
        }
    } else {
        e = phys_write_form(pm, write_form(), pa, size, val);
    }
    if (size_ok(size) && in_ram(pa, size)) {
        check_err("write", e, BIT(VM_OK));
        model_write(pa, val, size);
    } else if (size_ok(size) && in_device(pa, size) && pa % size == 0) {
        check_err("write (MMIO)", e, BIT(VM_OK)); /* MMIO never breaks a reservation */
    } else if (e == VM_OK) {
        mismatch("write pa=0x%llx size=%u succeeded outside RAM/device", (unsigned long long)pa, size);
    }
}

static void op_write_buf(uint64_t pa, unsigned len, uint8_t seed)
{
    /* seed bit 7: write back the bytes already there - a reservation must
     * break on any write, not only on one that changes the granule */
    bool same = (seed & 0x80) && in_ram(pa, len);
    trace("write_buf pa=0x%llx len=%u %s 0x%02x", (unsigned long long)pa, len,
          same ? "same bytes, seed" : "seed", seed);
    for (unsigned i = 0; i < len; i++)
        scratch[i] = same ? model_ram[pa + i] : (uint8_t)(seed + i);
    if (vmc_on()) {
        char hex[2 * 24 + 8] = "fill 0";
        if (len) {
            strcpy(hex, "hex ");
            for (unsigned i = 0; i < len; i++)
                snprintf(hex + 4 + 2 * i, 3, "%02x", scratch[i]);
        }
        vmc_line("expect pwritebuf 0x%llx %u %s -> %s", (unsigned long long)pa, len, hex,
                 in_ram(pa, len) ? "ok" : vmc_err_name(VM_ERR_INVALID_ADDRESS));
    }
    vm_err_t e = vm_physmem_write_buf(pm, pa, scratch, len);
    check_err("vm_physmem_write_buf", e, in_ram(pa, len) ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ADDRESS));
    if (e == VM_OK && len > 0) {
        memcpy(model_ram + pa, scratch, len);
        ref_resv_write(&resv, pa, len);
    }
}

static void op_restore(uint8_t sel, uint64_t pa)
{
    size_t len = sel % 4 == 0 ? ram_size + 1 - (sel & 4) / 2 : ram_size; /* size+1, size-1, size */
    trace("restore len=%zu (size %llu), byte at 0x%llx flipped=%d", len,
          (unsigned long long)ram_size, (unsigned long long)pa, (sel & 8) != 0);
    /* the current contents, possibly with one byte changed: restore breaks
     * every reservation even when it writes back what was there */
    memcpy(scratch, model_ram, ram_size);
    scratch[ram_size] = 0;
    if ((sel & 8) && pa < ram_size)
        scratch[pa] ^= 0x5A;
    if (vmc_on()) {
        char flip[48] = "";
        if ((sel & 8) && pa < ram_size)
            snprintf(flip, sizeof flip, " ^ 0x%llx 0x5a", (unsigned long long)pa);
        vmc_line("expect restore %zu same%s -> %s", len, flip,
                 len == ram_size ? "ok" : vmc_err_name(VM_ERR_INVALID_ARGUMENT));
    }
    vm_err_t e = vm_physmem_restore(pm, scratch, len);
    check_err("vm_physmem_restore", e, len == ram_size ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ARGUMENT));
    if (e == VM_OK) {
        memcpy(model_ram, scratch, ram_size);
        ref_resv_reset(&resv);
    }
}

static void op_invalidate(uint64_t pa, uint8_t size)
{
    trace("invalidate pa=0x%llx size=%u", (unsigned long long)pa, size);
    if (vmc_on())
        vmc_line("pinvalidate 0x%llx %u", (unsigned long long)pa, size);
    vm_physmem_invalidate(pm, pa, size);
    ref_resv_invalidate(&resv, pa, size);
}

static void op_same_value(uint64_t pa, unsigned w)
{
    if (!in_ram(pa, w))
        return;
    /* the value already there: write_uN, or (2 ops in 3) the inline or view
     * form, whose only way to break the reservation is the count test */
    op_write(pa, w, model_load(pa, w), write_form() == 0);
}

static void op_cmpxchg(uint64_t pa, bool use_current, uint64_t expected, uint64_t desired)
{
    if (use_current && in_ram(pa, 8))
        expected = model_load(pa, 8);
    trace("physmem_cmpxchg_u64 pa=0x%llx expected=0x%llx desired=0x%llx", (unsigned long long)pa,
          (unsigned long long)expected, (unsigned long long)desired);
    if (vmc_on())
        vmc_line("expect pcas 0x%llx 0x%llx 0x%llx -> %s", (unsigned long long)pa,
                 (unsigned long long)expected, (unsigned long long)desired,
                 pa % 8 ? vmc_err_name(VM_ERR_ALIGNMENT_FAULT)
                 : !in_ram(pa, 8) ? vmc_err_name(VM_ERR_INVALID_ADDRESS)
                 : model_load(pa, 8) == expected ? "swapped" : "kept");
    bool swapped = false;
    vm_err_t e = physmem_cmpxchg_u64(pm, pa, expected, desired, &swapped);
    unsigned allowed = BIT(VM_OK);
    if (pa % 8 != 0)
        allowed = BIT(VM_ERR_ALIGNMENT_FAULT); /* physmem_int.h: checked before the address */
    else if (!in_ram(pa, 8))
        allowed = BIT(VM_ERR_INVALID_ADDRESS);
    check_err("physmem_cmpxchg_u64", e, allowed);
    if (e != VM_OK)
        return;
    bool want = model_load(pa, 8) == expected;
    if (fuzz_tracing)
        fprintf(stderr, "      -> swapped=%d\n", swapped);
    if (swapped != want)
        mismatch("cmpxchg swapped=%d, memory says %d", swapped, want);
    if (want)
        model_write(pa, desired, 8);
}

static void op_read(uint64_t pa, unsigned w)
{
    trace("read_u%u pa=0x%llx", 8 * w, (unsigned long long)pa);
    if (vmc_on()) {
        char value[32] = "";
        if (in_ram(pa, w))
            snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)model_load(pa, w));
        vmc_line("expect pread 0x%llx %u%s -> %s", (unsigned long long)pa, w, value,
                 scalar_answer(pa, w));
    }
    uint64_t v = 0;
    vm_err_t e = vm_physmem_read(pm, pa, (uint8_t)w, &v);
    if (in_ram(pa, w)) {
        check_err("vm_physmem_read", e, BIT(VM_OK));
        if (v != model_load(pa, w))
            mismatch("read 0x%llx, model 0x%llx", (unsigned long long)v,
                     (unsigned long long)model_load(pa, w));
    }
}

static void op_clear(int h)
{
    trace("physmem_clear_reservation h%d", h);
    vmc_as_hart(h);
    if (vmc_on())
        vmc_line("pclear");
    physmem_clear_reservation(pm, owners[h]);
    resv.valid[h] = false;
}

enum {
    OP_LR, OP_RESERVE, OP_SC, OP_LRSC, OP_WRITE_TYPED, OP_WRITE, OP_WRITE_BUF, OP_SAME_VALUE,
    OP_RESTORE, OP_INVALIDATE, OP_CMPXCHG, OP_READ, OP_CLEAR, OP_COUNT
};

static void run_op(fuzz_input_t *in)
{
    switch (fin_u8(in) % OP_COUNT) {
    case OP_LR: {
        int h = pick_hart(in);
        unsigned s = pick_size(in);
        op_lr(h, pick_addr(in), s);
        break;
    }
    case OP_RESERVE: {
        int h = pick_hart(in);
        unsigned s = pick_size(in);
        op_reserve(h, pick_addr(in), s);
        break;
    }
    case OP_SC: {
        uint8_t hb = fin_u8(in);
        unsigned s = pick_size(in);
        uint64_t pa = pick_addr(in);
        uint64_t v = fin_u64(in);
        op_sc(hb % (unsigned)n_harts, pa, s, v, (hb & 0xF0) == 0xF0); /* 1 in 16: stored=NULL */
        break;
    }
    case OP_LRSC: { /* LR then SC by the same hart: successes are common */
        int h = pick_hart(in);
        unsigned s = fin_size(in);
        uint64_t pa = pick_addr(in) & ~(uint64_t)(s - 1);
        uint8_t delta = fin_u8(in);
        uint64_t v = fin_u64(in);
        op_lr(h, pa, s);
        fuzz_op_no++;
        /* mostly the LR's own address; sometimes another slot (same or next granule) */
        uint64_t sc_pa = (delta & 0x80) ? pa + (delta & 7) * s : pa;
        op_sc(h, sc_pa, s, v, false);
        break;
    }
    case OP_WRITE_TYPED: {
        unsigned w = fin_size(in);
        uint64_t pa = pick_addr(in);
        op_write(pa, w, fin_u64(in), true);
        break;
    }
    case OP_WRITE: {
        unsigned s = pick_size(in);
        uint64_t pa = pick_addr(in);
        op_write(pa, s, fin_u64(in), false);
        break;
    }
    case OP_WRITE_BUF: {
        uint64_t pa = pick_addr(in);
        unsigned len = fin_u8(in) % 24u;
        op_write_buf(pa, len, fin_u8(in));
        break;
    }
    case OP_SAME_VALUE: {
        unsigned w = fin_size(in);
        op_same_value(pick_addr(in), w);
        break;
    }
    case OP_RESTORE: {
        uint8_t sel = fin_u8(in);
        op_restore(sel, pick_addr(in));
        break;
    }
    case OP_INVALIDATE: {
        uint64_t pa = pick_addr(in);
        op_invalidate(pa, fin_u8(in));
        break;
    }
    case OP_CMPXCHG: {
        uint8_t sel = fin_u8(in);
        uint64_t pa = pick_addr(in);
        if (sel & 1)
            pa &= ~UINT64_C(7);
        uint64_t x = fin_u64(in);
        op_cmpxchg(pa, (sel & 2) != 0, x, fin_u64(in));
        break;
    }
    case OP_READ: {
        unsigned w = fin_size(in);
        op_read(pick_addr(in), w);
        break;
    }
    default:
        op_clear(pick_hart(in));
        break;
    }
}

/* End of input: each hart's SC tells whether the core agrees on its reservation. */
static void probe_reservations(void)
{
    for (int h = 0; h < n_harts; h++) {
        fuzz_op_no++;
        uint64_t pa = resv.valid[h] ? resv.granule[h] : window;
        if (!in_ram(pa, 1))
            pa = 0;
        trace("final probe of h%d", h);
        op_sc(h, pa, 1, model_ram[pa], false);
    }
}

static void run(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fin_init(&in, data, size);
    uint8_t c_harts = fin_u8(&in), c_ram = fin_u8(&in), c_owners = fin_u8(&in), c_win = fin_u8(&in);

    n_harts = 2 + c_harts % 3;
    ram_size = ram_sizes[c_ram % 4];
    owners = owner_sets[c_owners % 4];
    if (c_owners & 0x80) {
        /* Owners one bit apart (one more header byte picks the bit): hart
         * 0 keeps the set's id, hart i flips bit k + 21 * i of it, so any
         * bit of an id can be the only difference between two owners. */
        unsigned k = fin_u8(&in);
        for (int h = 0; h < MAX_HARTS; h++)
            flip_owners[h] = h == 0 ? owners[0] : owners[0] ^ UINT64_C(1) << ((k + 21u * (unsigned)h) % 64);
        owners = flip_owners;
    }
    switch (c_win % 4) {
    case 0: window = 0; break;
    case 1: window = ram_size > 32 ? ram_size - 32 : 0; break;
    case 2: window = ram_size > 4096 ? 4064 : ram_size / 2; break; /* around a page edge */
    default: window = (ram_size / 2) & ~UINT64_C(7); break;
    }
    memset(model_ram, 0, ram_size);
    ref_resv_reset(&resv);
    dev_calls = dev_destroyed = 0;
    dev_mapped = false;
    fuzz_op_no = 0;
    if (fuzz_tracing)
        fprintf(stderr, "fuzz_lrsc scenario: %d harts (owners 0x%llx 0x%llx 0x%llx 0x%llx), RAM %llu, "
                        "window 0x%llx%s\n", n_harts, (unsigned long long)owners[0],
                (unsigned long long)owners[1], (unsigned long long)owners[2],
                (unsigned long long)owners[3], (unsigned long long)ram_size,
                (unsigned long long)window, c_harts & 0x80 ? ", device after RAM" : "");

    vmc_start("fuzz_lrsc");
    vmc_hart = -1;
    if (vmc_on()) {   /* RAM, the harts and their owner ids, the device */
        vmc_line("mem %llu", (unsigned long long)ram_size);
        for (int h = n_harts - 1; h >= 0; h--) {
            vmc_as_hart(h);
            vmc_line("owner 0x%llx", (unsigned long long)owners[h]);
        }
        if (c_harts & 0x80)
            vmc_line("expect mmio 0x%llx %u -> ok", (unsigned long long)((ram_size + 7) & ~UINT64_C(7)),
                     DEV_SIZE);
    }
    pm = vm_physmem_new((size_t)ram_size, false);
    if (!pm)
        mismatch("vm_physmem_new(%llu) failed", (unsigned long long)ram_size);
    if (c_harts & 0x80) {
        static const vm_mmio_ops_t ops = {dev_read, dev_write, NULL, dev_destroy};
        dev_base = (ram_size + 7) & ~UINT64_C(7);
        check_err("vm_physmem_map_mmio", vm_physmem_map_mmio(pm, dev_base, DEV_SIZE, &ops, NULL),
                  BIT(VM_OK));
        dev_mapped = true;
    }

    while (!fin_done(&in)) {
        fuzz_op_no++;
        run_op(&in);
    }
    probe_reservations();

    fuzz_op_no++;
    trace("final: dump and compare RAM");
    if (vmc_on())
        vmc_line("expect dump %llu -> ok", (unsigned long long)ram_size);
    vm_err_t e = vm_physmem_dump(pm, scratch, ram_size);
    check_err("vm_physmem_dump", e, BIT(VM_OK));
    /* memcmp first: a byte loop here would run coverage callbacks per byte */
    if (memcmp(scratch, model_ram, ram_size) != 0) {
        uint64_t i = 0;
        while (scratch[i] == model_ram[i])
            i++;
        mismatch("RAM byte 0x%llx is 0x%02x, model 0x%02x", (unsigned long long)i, scratch[i],
                 model_ram[i]);
    }
    vm_physmem_t *dying = pm;
    pm = NULL;
    vm_physmem_free(dying);
    if (dev_destroyed != (dev_mapped ? 1 : 0))
        mismatch("device destroyed %d times", dev_destroyed);
    vmc_finish();
}

static void release_run(void)
{
    vm_physmem_free(pm);
    pm = NULL;
}

/* VMMEM_FUZZ_TRACE=1 in the environment traces every input (for reading seeds). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_report_init();
    fuzz_on_mismatch = print_reservations;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_run_reporting(run, release_run, data, size);
}
