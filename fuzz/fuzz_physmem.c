/*
 * fuzz_physmem.c - differential fuzz target: vmmem's guest physical memory
 * (scalar RAM access, the MemoryAccess form in its function, inline and view
 * spellings, bulk transfers, dump/restore,
 * MMIO mapping, routing and polling) against the flat reference model
 * (conformance/ref: ref_mem_t, ref_mem_route, ref_mem_region_ok).
 *
 * Input: a 2-byte config header, then an op stream in the style of QEMU's
 * generic-fuzz: an opcode byte (through a weighted table, op_table), then
 * fixed little-endian arguments reduced modulo their valid range. Addresses are
 * drawn from a small menu of interesting places (near 0, around the end of
 * RAM, around the seed design's size/16 "shard" boundaries, inside and at
 * the edges of mapped regions, near 2^64, anything), so nearly every input
 * exercises an edge. The input running out ends the run.
 *
 * Config: byte 0 picks the RAM size (4096, 4100, 65536, 65552 and a few
 * odd ones: sizes that are not multiples of 8 or of 16 shards); byte 1
 * bit 0 asks for an MMIO "register file" device to be mapped right after
 * RAM before the ops start (so short inputs reach the device too).
 *
 * Oracle, per op: the error returned must be in the set the contract in
 * vmmem/physmem.h allows (exact where the contract is exact; where two
 * sentences of the contract both apply to one access, either answer is
 * accepted - see expect_scalar()); values read must equal the model's;
 * every device callback is logged and the log of each op must equal the
 * calls the routing model predicts (so a misrouted, duplicated, missing or
 * misaligned device access is caught); failing calls must leave memory
 * unchanged (checked at the end) and output buffers untouched. At the end:
 * dump must equal the model byte for byte, free must call each mapped
 * device's destroy exactly once and never one whose mapping failed.
 *
 * On a mismatch the input is run again from scratch with fuzz_tracing on, which
 * prints the decoded scenario op by op with expected vs actual results,
 * then the target traps (__builtin_trap). State lives in static storage
 * and is reset per input; RAM is capped at 1 MiB and the model and scratch
 * buffers are static, so there is no large allocation per input besides
 * the core's own (lazily touched) mapping.
 *
 * Rejected: comparing RAM after every op (a full memcmp per op would cut
 * throughput by orders of magnitude for large RAM; the end-of-input dump
 * plus read-back ops find the same bugs), and re-deriving the expected
 * errors from the core's own helpers (the oracle would share its bugs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#define FUZZ_TARGET_NAME "fuzz_physmem"
#include "fuzz_report.h"
#include "ref_model.h"
#include "vmc_emit.h"
#include "vmmem/physmem.h"
#include "physmem_forms.h"

/* What the bytes of an input mean, versioned (fuzz_input.h): bump it with
 * every change to this target's decoding. */
const unsigned fuzz_format_version = 1;

#define MAX_RAM (1u << 20)
#define SCRATCH_LEN (MAX_RAM + 256u)
#define DEV_REGS 64u
#define LOG_MAX 64
#define CANARY 0xA5u
#define CANARY_CHECK 64u /* bytes of an output buffer checked after a failed call */
#define DEV_ERROR VM_ERR_UNSUPPORTED /* what a device returns in its error window */

/*
 * RAM sizes: multiples and non-multiples of 8 and of 16 shards (4100/16 and
 * 65552/16 are not multiples of 8, 1040/16 = 65 is odd), tiny ones that
 * put every op near the end, and 1 MiB - rarely, since every full dump of
 * it costs as much as a thousand small runs.
 */
static const uint64_t ram_sizes[16] = {4096, 4100, 65536, 65552, 24, 4095, 1040, 8,
                                       4096, 4100, 8200, 4108, 12, 4104, 16400, MAX_RAM};

/* ---- the register-file device ---------------------------------------- */

static vm_physmem_t *pm;
static ref_mem_t model;

/*
 * A DMA-capable device (map flag 0x08) reaches back into guest RAM from
 * inside its callbacks, which the contract allows (callbacks run with no
 * vmmem lock held): an 8-byte write at DMA_STORE stores the value's high
 * 32 bits at the RAM address in its low 32 bits (mod RAM size), an 8-byte
 * read at DMA_LOAD returns the 8 RAM bytes at the address held in the
 * registers at DMA_ADDR. A vmmem lock held across a callback deadlocks
 * here (a libFuzzer timeout); a lost or misplaced DMA store shows in RAM.
 */
#define DMA_ADDR 0x28u
#define DMA_LOAD 0x30u
#define DMA_STORE 0x38u

enum call_kind { CALL_READ, CALL_WRITE, CALL_POLL };
static const char *const call_names[] = {"read", "write", "poll"};

struct dev_call {
    int dev;
    int kind;
    uint64_t offset;
    unsigned size;
    uint64_t val;
};

struct regdev {
    int id;
    bool fail_window; /* offsets with (offset & 0xf0) == 0xf0 fail with DEV_ERROR */
    bool dma;         /* DMA_LOAD / DMA_STORE registers reach into RAM */
    bool has_poll, has_destroy;
    int destroyed;
    uint8_t regs[DEV_REGS];
};

static struct regdev devs[REF_MAX_MMIO];
static int dev_of_region[REF_MAX_MMIO]; /* model region index -> devs[] slot */
static struct dev_call call_log[LOG_MAX], expected_log[LOG_MAX];
static int n_calls, n_expected;

/* The device's byte at offset o: stored registers first, then a fixed function. */
static uint8_t dev_byte(const struct regdev *d, uint64_t o)
{
    return o < DEV_REGS ? d->regs[o] : (uint8_t)(o * 31u + (unsigned)d->id * 7u + 0x5Au);
}

static uint64_t dev_value(const struct regdev *d, uint64_t o, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)dev_byte(d, o + i) << (8 * i);
    return v;
}

static bool dev_fails(const struct regdev *d, uint64_t o)
{
    return d->fail_window && (o & 0xF0u) == 0xF0u;
}

static void log_call(struct dev_call *log, int *n, int dev, int kind, uint64_t off, unsigned size,
                     uint64_t val)
{
    if (*n < LOG_MAX)
        log[*n] = (struct dev_call){dev, kind, off, size, val};
    (*n)++;
}

static uint64_t dma_load_addr(const struct regdev *d)
{
    return dev_value(d, DMA_ADDR, 8) % (model.size - 7); /* RAM is >= 8 bytes */
}

static uint64_t dma_store_addr(uint64_t val)
{
    return (val & 0xFFFFFFFFu) % (model.size - 3);
}

static bool is_dma_load(const struct regdev *d, uint64_t off, unsigned size)
{
    return d->dma && off == DMA_LOAD && size == 8;
}

static bool is_dma_store(const struct regdev *d, uint64_t off, unsigned size)
{
    return d->dma && off == DMA_STORE && size == 8;
}

static vm_err_t dev_read(void *opaque, uint64_t offset, uint8_t size, uint64_t *val)
{
    struct regdev *d = opaque;
    bool fails = dev_fails(d, offset);
    uint64_t v = fails || size > 8 ? 0 : dev_value(d, offset, size);
    if (is_dma_load(d, offset, size)) {
        uint8_t bytes[8];
        v = 0;
        if (vm_physmem_read_buf(pm, dma_load_addr(d), bytes, 8) == VM_OK)
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)bytes[i] << (8 * i);
        else
            v = 0xDEADDEADDEADDEADu; /* the log comparison reports it */
    }
    log_call(call_log, &n_calls, d->id, CALL_READ, offset, size, v);
    if (fails)
        return DEV_ERROR;
    *val = v;
    return VM_OK;
}

static vm_err_t dev_write(void *opaque, uint64_t offset, uint64_t val, uint8_t size)
{
    struct regdev *d = opaque;
    log_call(call_log, &n_calls, d->id, CALL_WRITE, offset, size, val);
    if (dev_fails(d, offset))
        return DEV_ERROR;
    for (unsigned i = 0; i < size && i < 8; i++)
        if (offset + i < DEV_REGS)
            d->regs[offset + i] = (uint8_t)(val >> (8 * i));
    if (is_dma_store(d, offset, size))
        return vm_physmem_write_u32(pm, dma_store_addr(val), (uint32_t)(val >> 32));
    return VM_OK;
}

static void dev_poll(void *opaque)
{
    struct regdev *d = opaque;
    log_call(call_log, &n_calls, d->id, CALL_POLL, 0, 0, 0);
}

static void dev_destroy(void *opaque)
{
    struct regdev *d = opaque;
    d->destroyed++;
}

/* ---- state of one run ------------------------------------------------- */

static uint8_t model_ram[MAX_RAM];
static uint8_t scratch[SCRATCH_LEN];
static uint8_t pattern[SCRATCH_LEN + 256]; /* position-dependent fill data, made once */
static bool pattern_made;
/*
 * What this run wrote, as a few byte ranges (neighbours merged, the last
 * one absorbing the rest when all are taken), so the end-of-run check can
 * read back just those in a large RAM; dirty_hi, the highest byte written,
 * also tells the next run how much of model_ram to re-zero.
 */
#define MAX_DIRTY 8
struct dirty_range {
    uint64_t lo, hi;
};
static struct dirty_range dirty[MAX_DIRTY];
static int n_dirty;
static uint64_t dirty_hi;
static int n_devs;       /* devs[] slots handed out (mapped or not) */

static void print_log(const char *title, const struct dev_call *log, int n)
{
    fprintf(stderr, "    %s (%d calls):\n", title, n);
    for (int i = 0; i < n && i < LOG_MAX; i++)
        fprintf(stderr, "      dev%d %s off=0x%llx size=%u val=0x%llx\n", log[i].dev,
                call_names[log[i].kind], (unsigned long long)log[i].offset, log[i].size,
                (unsigned long long)log[i].val);
}

static void expect_call(int dev, int kind, uint64_t off, unsigned size, uint64_t val)
{
    log_call(expected_log, &n_expected, dev, kind, off, size, val);
}

/* The device calls of this op must be exactly the predicted ones. */
static void check_calls(void)
{
    bool same = n_calls == n_expected && n_calls <= LOG_MAX;
    for (int i = 0; same && i < n_calls; i++)
        same = call_log[i].dev == expected_log[i].dev && call_log[i].kind == expected_log[i].kind &&
               call_log[i].offset == expected_log[i].offset &&
               call_log[i].size == expected_log[i].size && call_log[i].val == expected_log[i].val;
    if (!same || fuzz_tracing) {
        if (!same || n_calls) {
            print_log("device calls expected", expected_log, n_expected);
            print_log("device calls made", call_log, n_calls);
        }
    }
    if (!same)
        mismatch("device call log differs from the routing model");
    n_calls = n_expected = 0;
}

/* ---- the .vmc scenario (vmc_emit.h): one line per op ------------------- */

/* `HEAD -> E1 | E2 ...` for the set of errors the contract allows. */
static void vmc_expect(unsigned allowed, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vmc_expect(unsigned allowed, const char *fmt, ...)
{
    if (!vmc_on())
        return;
    char head[256], alts[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    vmc_alts_t a = {.n = 0};
    vmc_alts_errs(&a, allowed);
    vmc_line("%s -> %s", head, vmc_alts_text(&a, alts, sizeof alts));
}

/* ---- model helpers ----------------------------------------------------- */

static uint64_t model_load(uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)model_ram[pa + i] << (8 * i);
    return v;
}

static void mark_dirty(uint64_t pa, uint64_t len)
{
    uint64_t hi = pa + len;
    if (hi > dirty_hi)
        dirty_hi = hi;
    int i;
    for (i = 0; i < n_dirty; i++)
        if (pa <= dirty[i].hi + 64 && dirty[i].lo <= hi + 64)
            break;
    if (i == n_dirty) {
        if (n_dirty == MAX_DIRTY)
            i = MAX_DIRTY - 1;
        else
            dirty[n_dirty++] = (struct dirty_range){pa, hi};
    }
    if (pa < dirty[i].lo)
        dirty[i].lo = pa;
    if (hi > dirty[i].hi)
        dirty[i].hi = hi;
}

static void model_store(uint64_t pa, uint64_t val, unsigned size)
{
    mark_dirty(pa, size);
    for (unsigned i = 0; i < size; i++)
        model_ram[pa + i] = (uint8_t)(val >> (8 * i));
}

static uint64_t truncate_to(uint64_t v, unsigned size)
{
    return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

/* Does [pa, pa+size) (clipped at 2^64) share a byte with any mapped region? */
static bool touches_region(uint64_t pa, uint64_t size)
{
    uint64_t last = size - 1 > UINT64_MAX - pa ? UINT64_MAX : pa + size - 1;
    for (int i = 0; i < model.n_mmio; i++) {
        uint64_t rlast = model.mmio[i].base + (model.mmio[i].size - 1);
        if (pa <= rlast && model.mmio[i].base <= last)
            return true;
    }
    return false;
}

/*
 * Expected outcome of a scalar access of a valid size (physmem.h, "Scalar
 * accesses"). Returns the allowed error set; *region >= 0 when the access
 * must reach a device. Two sentences of the contract overlap, and then
 * either answer is accepted:
 *  - an access running from the end of RAM into an adjacent region is both
 *    "a RAM access running past its end" (INVALID_ADDRESS) and one that
 *    "straddles a region edge" (MMIO);
 *  - an access with some bytes in a region and some unbacked has "a byte
 *    outside RAM and outside every MMIO region" (INVALID_ADDRESS) and
 *    "straddles a region edge" (MMIO).
 */
static unsigned expect_scalar(uint64_t pa, unsigned size, int *region, uint64_t *offset)
{
    *region = -1;
    int r;
    switch (ref_mem_route(&model, pa, size, &r, offset)) {
    case REF_ROUTE_RAM:
        return BIT(VM_OK);
    case REF_ROUTE_MMIO:
        *region = r;
        return dev_fails(&devs[dev_of_region[r]], *offset) ? BIT(DEV_ERROR) : BIT(VM_OK);
    case REF_ROUTE_MMIO_BAD:
        return BIT(VM_ERR_MMIO);
    default:
        /* physmem.h pins the order: a wrapping range is INVALID_ADDRESS;
         * else touching a region without being wholly inside it is MMIO. */
        if (size > UINT64_MAX - pa)
            return BIT(VM_ERR_INVALID_ADDRESS);
        return touches_region(pa, size) ? BIT(VM_ERR_MMIO) : BIT(VM_ERR_INVALID_ADDRESS);
    }
}

/* ---- input decoding ------------------------------------------------------ */

/* An address from the menu of interesting places. */
static uint64_t pick_addr(fuzz_input_t *in)
{
    uint8_t sel = fin_u8(in);
    uint16_t arg = fin_u16(in);
    uint64_t size = model.size;
    switch (sel % 9) {
    case 0: /* near 0 */
        return arg % 64u;
    case 1: /* around the end of RAM, both sides */
        return size - 32 + arg % 64u;
    case 2: { /* around a size/16 "shard" boundary */
        uint64_t k = (arg >> 4) % 17u;
        return k * (size / 16) + (arg & 15u) - 8;
    }
    case 3: /* inside or around a mapped region */
        if (model.n_mmio > 0) {
            const struct ref_mmio *r = &model.mmio[(arg >> 8) % (unsigned)model.n_mmio];
            uint64_t span = r->size < 256 ? r->size + 32 : 288;
            uint64_t off = (arg & 0xFFu) % span;
            return (arg & 0x8000u) ? r->base + r->size - 16 + off % 32u : r->base - 16 + off;
        }
        return size + arg % 64u;
    case 4: /* near 2^64 */
        return UINT64_MAX - arg % 64u;
    case 5: /* anywhere */
        return fin_u64(in);
    case 6: /* anywhere in RAM or just past it */
        return (arg | (uint64_t)fin_u16(in) << 16) % (size + 16);
    case 7: /* the seed's UART address and its neighbourhood */
        return UINT64_C(0x10000000) + arg % 0x1100u - 0x80u;
    default: /* anywhere in RAM */
        return (arg | (uint64_t)fin_u16(in) << 16) % size;
    }
}

/* A scalar size for the MemoryAccess form: mostly valid, sometimes not. */
static unsigned pick_any_size(fuzz_input_t *in)
{
    static const unsigned sizes[16] = {1, 2, 4, 8, 1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 16, 255};
    return sizes[fin_u8(in) % 16u];
}

/* A bulk length relative to addr: empty, small, to the end, past it, huge. */
static uint64_t pick_len(fuzz_input_t *in, uint64_t addr)
{
    uint8_t sel = fin_u8(in);
    uint16_t arg = fin_u16(in);
    uint64_t size = model.size;
    switch (sel % 8) {
    case 0: return 0;
    case 1: return arg % 64u;
    case 2: return arg % (size / 4 + 64);
    case 3: return size - addr + (arg % 8u) - 4; /* to the end of RAM, +-4 */
    case 4: return SIZE_MAX - arg % 16u;         /* huge */
    case 5: return (0 - addr) + arg % 16u;       /* addr + len wraps (or ends at 2^64) */
    case 6: return size;
    default: return 16 + (arg % 64u);            /* across a size/16 boundary */
    }
}

/* ---- the ops ------------------------------------------------------------- */

static vm_err_t core_read_typed(uint64_t pa, unsigned w, uint64_t *v)
{
    vm_err_t e;
    switch (w) {
    case 1: { uint8_t x = 0; e = vm_physmem_read_u8(pm, pa, &x); *v = x; break; }
    case 2: { uint16_t x = 0; e = vm_physmem_read_u16(pm, pa, &x); *v = x; break; }
    case 4: { uint32_t x = 0; e = vm_physmem_read_u32(pm, pa, &x); *v = x; break; }
    default: { uint64_t x = 0; e = vm_physmem_read_u64(pm, pa, &x); *v = x; break; }
    }
    return e;
}

static vm_err_t core_write_typed(uint64_t pa, unsigned w, uint64_t v)
{
    switch (w) {
    case 1: return vm_physmem_write_u8(pm, pa, (uint8_t)v);
    case 2: return vm_physmem_write_u16(pm, pa, (uint16_t)v);
    case 4: return vm_physmem_write_u32(pm, pa, (uint32_t)v);
    default: return vm_physmem_write_u64(pm, pa, v);
    }
}

/* The MemoryAccess form's spelling for this op (physmem_forms.h). */
static unsigned access_form(void)
{
    return phys_form_of_op(fuzz_op_no);
}

/* One scalar read (typed or MemoryAccess form) checked against the model. */
static void op_read(uint64_t pa, unsigned size, bool typed)
{
    const char *what = typed ? "vm_physmem_read_uN" : phys_form_read_name[access_form()];
    trace("%s pa=0x%llx size=%u", what, (unsigned long long)pa, size);
    bool size_ok = size == 1 || size == 2 || size == 4 || size == 8;
    int region = -1;
    uint64_t off = 0;
    unsigned allowed = size_ok ? expect_scalar(pa, size, &region, &off) : BIT(VM_ERR_INVALID_ARGUMENT);
    uint64_t expect_val = 0;
    if (region >= 0) {
        const struct regdev *d = &devs[dev_of_region[region]];
        bool fails = dev_fails(d, off);
        expect_val = fails ? 0 : dev_value(d, off, size);
        if (is_dma_load(d, off, size))
            expect_val = model_load(dma_load_addr(d), 8);
        expect_call(d->id, CALL_READ, off, size, expect_val);
    } else if (allowed == BIT(VM_OK)) {
        expect_val = model_load(pa, size);
    }
    char value[32] = "";
    if (allowed == BIT(VM_OK))
        snprintf(value, sizeof value, " = 0x%llx", (unsigned long long)expect_val);
    if (typed)
        vmc_expect(allowed, "expect pr%u 0x%llx%s", 8 * size, (unsigned long long)pa, value);
    else
        vmc_expect(allowed, "expect pread 0x%llx %u%s%s", (unsigned long long)pa, size, value,
                   phys_form_vmc[access_form()]);
    uint64_t got = 0;
    vm_err_t e = typed ? core_read_typed(pa, size, &got) : phys_read_form(pm, access_form(), pa, size, &got);
    check_err(what, e, allowed);
    check_calls();
    if (e == VM_OK && got != expect_val)
        mismatch("%s pa=0x%llx size=%u read 0x%llx, model 0x%llx", what, (unsigned long long)pa,
                 size, (unsigned long long)got, (unsigned long long)expect_val);
}

static void op_write(uint64_t pa, unsigned size, uint64_t val, bool typed)
{
    const char *what = typed ? "vm_physmem_write_uN" : phys_form_write_name[access_form()];
    trace("%s pa=0x%llx size=%u val=0x%llx", what, (unsigned long long)pa, size,
          (unsigned long long)val);
    bool size_ok = size == 1 || size == 2 || size == 4 || size == 8;
    int region = -1;
    uint64_t off = 0;
    unsigned allowed = size_ok ? expect_scalar(pa, size, &region, &off) : BIT(VM_ERR_INVALID_ARGUMENT);
    const struct regdev *d = region >= 0 ? &devs[dev_of_region[region]] : NULL;
    if (d)
        expect_call(d->id, CALL_WRITE, off, size, truncate_to(val, size));
    if (typed)
        vmc_expect(allowed, "expect pw%u 0x%llx = 0x%llx", 8 * size, (unsigned long long)pa,
                   (unsigned long long)val);
    else
        vmc_expect(allowed, "expect pwrite 0x%llx %u = 0x%llx%s", (unsigned long long)pa, size,
                   (unsigned long long)val, phys_form_vmc[access_form()]);
    vm_err_t e = typed ? core_write_typed(pa, size, val) : phys_write_form(pm, access_form(), pa, size, val);
    check_err(what, e, allowed);
    check_calls();
    if (e == VM_OK && !d)
        model_store(pa, val, size);
    if (e == VM_OK && d && is_dma_store(d, off, size))
        model_store(dma_store_addr(val), val >> 32, 4);
}

static bool bulk_in_ram(uint64_t addr, uint64_t len)
{
    return addr <= model.size && len <= model.size - addr;
}

/*
 * Bulk traffic budget per input: RAM moved by bulk ops, dump and restore
 * beyond BULK_BUDGET bytes is skipped (the first such op always runs). It
 * bounds the cost of one input - a long input of 64 KiB restores would
 * otherwise run a hundred times slower than the rest - without hiding
 * anything: one transfer of a kind exercises what a hundred do.
 */
#define BULK_BUDGET (256u * 1024u)
static uint64_t bulk_used;
static bool final_check; /* the end-of-input comparison is never skipped */

static bool bulk_allowed(const char *what, uint64_t addr, uint64_t len)
{
    if (final_check || !bulk_in_ram(addr, len) || len <= 64)
        return true; /* refused or tiny: costs nothing */
    if (bulk_used > 0 && bulk_used + len > BULK_BUDGET) {
        trace("%s len=0x%llx skipped: bulk budget spent", what, (unsigned long long)len);
        return false;
    }
    bulk_used += len;
    return true;
}

static void fill_canary(size_t len)
{
    memset(scratch, CANARY, len < CANARY_CHECK ? len : CANARY_CHECK);
}

static void check_canary(const char *what, size_t len)
{
    size_t n = len < CANARY_CHECK ? len : CANARY_CHECK;
    for (size_t i = 0; i < n; i++)
        if (scratch[i] != CANARY)
            mismatch("%s failed but wrote its output buffer (byte %zu = 0x%02x)", what, i, scratch[i]);
}

static void op_read_buf(uint64_t addr, uint64_t len, bool null_buf)
{
    if (!bulk_allowed("vm_physmem_read_buf", addr, len))
        return;
    trace("vm_physmem_read_buf addr=0x%llx len=0x%llx%s", (unsigned long long)addr,
          (unsigned long long)len, null_buf ? " buf=NULL" : "");
    bool ok = bulk_in_ram(addr, len);
    unsigned allowed = ok ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ADDRESS);
    if (null_buf && len > 0)
        allowed = ok ? BIT(VM_ERR_INVALID_ARGUMENT) : allowed | BIT(VM_ERR_INVALID_ARGUMENT);
    vmc_expect(allowed, "expect preadbuf 0x%llx %llu%s", (unsigned long long)addr,
               (unsigned long long)len, null_buf ? " null" : "");
    fill_canary(len);
    vm_err_t e = vm_physmem_read_buf(pm, addr, null_buf ? NULL : scratch, (size_t)len);
    check_err("vm_physmem_read_buf", e, allowed);
    check_calls();
    if (e != VM_OK && !null_buf)
        check_canary("vm_physmem_read_buf", len);
    if (e == VM_OK && len > 0 && memcmp(scratch, model_ram + addr, len) != 0) {
        size_t i = 0;
        while (scratch[i] == model_ram[addr + i])
            i++;
        mismatch("read_buf byte at 0x%llx is 0x%02x, model 0x%02x",
                 (unsigned long long)(addr + i), scratch[i], model_ram[addr + i]);
    }
}

/*
 * Fill data: a window of the pattern table, chosen by seed. memcpy and no
 * per-byte loop here: the target is compiled with coverage callbacks on
 * every compare, and a byte loop over 1 MiB would dominate the run time.
 */
static void fill_pattern(uint8_t *buf, size_t len, uint8_t seed)
{
    memcpy(buf, pattern + seed, len);
}

/* The .vmc `pattern` generator (vmc_emit.h), so a finding's data can be
 * written as `pattern SEED`: no period below 16 MiB (> MAX_RAM). */
static void make_pattern(void)
{
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = vmc_pattern_byte(i);
}

static void op_write_buf(uint64_t addr, uint64_t len, uint8_t seed, bool null_buf)
{
    if (!bulk_allowed("vm_physmem_write_buf", addr, len))
        return;
    trace("vm_physmem_write_buf addr=0x%llx len=0x%llx seed=0x%02x%s", (unsigned long long)addr,
          (unsigned long long)len, seed, null_buf ? " buf=NULL" : "");
    bool ok = bulk_in_ram(addr, len);
    unsigned allowed = ok ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ADDRESS);
    if (null_buf && len > 0)
        allowed = ok ? BIT(VM_ERR_INVALID_ARGUMENT) : allowed | BIT(VM_ERR_INVALID_ARGUMENT);
    /* a length past the end of RAM must fail: fill only what could be read */
    fill_pattern(scratch, len < model.size + 16 ? (size_t)len : (size_t)model.size + 16, seed);
    if (null_buf)
        vmc_expect(allowed, "expect pwritebuf 0x%llx %llu null", (unsigned long long)addr,
                   (unsigned long long)len);
    else
        vmc_expect(allowed, "expect pwritebuf 0x%llx %llu pattern %u", (unsigned long long)addr,
                   (unsigned long long)len, seed);
    vm_err_t e = vm_physmem_write_buf(pm, addr, null_buf ? NULL : scratch, (size_t)len);
    check_err("vm_physmem_write_buf", e, allowed);
    check_calls();
    if (e == VM_OK && len > 0) {
        memcpy(model_ram + addr, scratch, len);
        mark_dirty(addr, len);
    }
}

/* dump/restore lengths: right, one off either way, zero, huge. */
static uint64_t pick_dump_len(uint8_t sel)
{
    switch (sel % 8) {
    case 0: return model.size + 1;
    case 1: return model.size - 1;
    case 2: return 0;
    case 3: return SIZE_MAX;
    default: return model.size;
    }
}

static void op_dump(uint8_t sel)
{
    uint64_t len = pick_dump_len(sel);
    if (!bulk_allowed("vm_physmem_dump", 0, len))
        return;
    trace("vm_physmem_dump len=0x%llx (size 0x%llx)", (unsigned long long)len,
          (unsigned long long)model.size);
    unsigned allowed = len == model.size ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ARGUMENT);
    vmc_expect(allowed, "expect dump %llu", (unsigned long long)len);
    fill_canary(len);
    vm_err_t e = vm_physmem_dump(pm, scratch, (size_t)len);
    check_err("vm_physmem_dump", e, allowed);
    check_calls();
    if (e != VM_OK)
        check_canary("vm_physmem_dump", len);
    else if (memcmp(scratch, model_ram, model.size) != 0) {
        size_t i = 0;
        while (scratch[i] == model_ram[i])
            i++;
        mismatch("dump byte at 0x%zx is 0x%02x, model 0x%02x", i, scratch[i], model_ram[i]);
    }
}

static void op_restore(uint8_t sel, uint8_t seed)
{
    uint64_t len = pick_dump_len(sel);
    if (!bulk_allowed("vm_physmem_restore", 0, len))
        return;
    trace("vm_physmem_restore len=0x%llx (size 0x%llx) seed=0x%02x", (unsigned long long)len,
          (unsigned long long)model.size, seed);
    unsigned allowed = len == model.size ? BIT(VM_OK) : BIT(VM_ERR_INVALID_ARGUMENT);
    fill_pattern(scratch, len == model.size ? model.size : 16, seed);
    vmc_expect(allowed, "expect restore %llu pattern %u", (unsigned long long)len, seed);
    vm_err_t e = vm_physmem_restore(pm, scratch, (size_t)len);
    check_err("vm_physmem_restore", e, allowed);
    check_calls();
    if (e == VM_OK) {
        memcpy(model_ram, scratch, model.size);
        mark_dirty(0, model.size);
    }
}

static uint64_t align_up8(uint64_t v)
{
    return (v + 7) & ~UINT64_C(7);
}

/*
 * map_mmio. Bases are kept 8-aligned: with an unaligned base, "naturally
 * aligned" (physmem.h, vm_mmio_ops_t) could mean the address or the offset,
 * and the contract does not say which.
 */
static void op_map(fuzz_input_t *in)
{
    uint8_t bsel = fin_u8(in), ssel = fin_u8(in), flags = fin_u8(in);
    uint32_t arg = fin_u32(in);
    uint64_t size;
    switch (ssel % 10) {
    case 0: size = 0; break;
    case 1: size = 1; break;
    case 2: size = 8; break;
    case 3: size = 64; break;
    case 4: size = 256; break;
    case 5: size = 4096; break;
    case 6: size = 1 + arg % 0x3000u; break;
    case 7: size = UINT64_MAX - arg % 16u; break;
    case 8: size = (uint64_t)arg << 12; break;
    default: size = 16 + arg % 512u; break;
    }
    uint64_t base;
    const struct ref_mmio *other = model.n_mmio ? &model.mmio[arg % (unsigned)model.n_mmio] : NULL;
    switch (bsel % 8) {
    case 0: base = align_up8(model.size); break;                       /* right after RAM */
    case 1: base = align_up8(model.size) + (arg % 16u) * 4096u; break; /* a hole above RAM */
    case 2: base = arg % model.size; break;                            /* overlaps RAM */
    case 3: base = other ? other->base + (arg >> 8) % 64u - 32 : 0x10000000; break; /* overlap */
    case 4: base = other ? other->base + other->size : model.size; break;            /* adjacent */
    case 5: base = (0 - size) + (arg % 5u) * 8 - 16; break; /* ends near 2^64: fits/exact/overflows */
    case 6: base = 0x10000000u + (arg % 0x200u) * 8; break;
    default: base = (uint64_t)arg << 16 | (arg & 0xFFFFu); break;
    }
    base &= ~UINT64_C(7);
    bool null_ops = (flags & 0x30u) == 0x30u; /* 1 in 4: NULL ops or a NULL callback */

    if (model.n_mmio >= REF_MAX_MMIO || n_devs >= REF_MAX_MMIO) {
        trace("map_mmio skipped: %d regions already", model.n_mmio);
        return;
    }
    struct regdev *d = &devs[n_devs];
    memset(d, 0, sizeof *d);
    d->id = n_devs;
    d->fail_window = flags & 1u;
    d->dma = flags & 8u;
    d->has_poll = flags & 2u;
    d->has_destroy = !(flags & 4u);
    vm_mmio_ops_t ops = {dev_read, dev_write, d->has_poll ? dev_poll : NULL,
                         d->has_destroy ? dev_destroy : NULL};
    const vm_mmio_ops_t *ops_arg = &ops;
    if (null_ops) {
        switch (flags >> 6) {
        case 0: ops_arg = NULL; break;
        case 1: ops.read = NULL; break;
        default: ops.write = NULL; break;
        }
    }
    trace("vm_physmem_map_mmio base=0x%llx size=0x%llx dev%d%s%s%s%s%s", (unsigned long long)base,
          (unsigned long long)size, d->id, d->fail_window ? " fail-window" : "", d->dma ? " dma" : "",
          d->has_poll ? " poll" : "", d->has_destroy ? " destroy" : "",
          null_ops ? ((flags >> 6) == 0 ? " ops=NULL" : (flags >> 6) == 1 ? " read=NULL" : " write=NULL") : "");

    unsigned allowed;
    /* physmem.h: a region may not include the last byte of the space, so
     * base + size == 2^64 is an overflow like any other. */
    if (null_ops || size == 0 || size > UINT64_MAX - base)
        allowed = BIT(VM_ERR_INVALID_ARGUMENT); /* argument errors come first */
    else
        allowed = ref_mem_region_ok(&model, base, size) ? BIT(VM_OK) : BIT(VM_ERR_MMIO);

    vmc_expect(allowed, "expect mmio 0x%llx 0x%llx regs %u%s%s%s%s%s", (unsigned long long)base,
               (unsigned long long)size, DEV_REGS, d->fail_window ? " fail" : "",
               d->dma ? " dma" : "", d->has_poll ? " poll" : "", d->has_destroy ? "" : " nodestroy",
               null_ops ? ((flags >> 6) == 0 ? " noops" : (flags >> 6) == 1 ? " noread" : " nowrite") : "");
    vm_err_t e = vm_physmem_map_mmio(pm, base, size, ops_arg, d);
    check_err("vm_physmem_map_mmio", e, allowed);
    check_calls();
    if (e == VM_OK) {
        model.mmio[model.n_mmio] = (struct ref_mmio){base, size};
        dev_of_region[model.n_mmio] = n_devs;
        model.n_mmio++;
    } else {
        d->has_destroy = false; /* a refused mapping must never see destroy */
    }
    n_devs++;
}

static void op_poll(void)
{
    trace("vm_physmem_poll_devices (%d regions)", model.n_mmio);
    for (int i = 0; i < model.n_mmio; i++) {
        const struct regdev *d = &devs[dev_of_region[i]];
        if (d->has_poll)
            expect_call(d->id, CALL_POLL, 0, 0, 0);
    }
    if (vmc_on())
        vmc_line("poll");
    vm_physmem_poll_devices(pm);
    check_calls();
}

/* NULL output pointers: INVALID_ARGUMENT, whatever the address. */
static void op_null_out(uint64_t pa, unsigned w)
{
    trace("vm_physmem_read(_u%u) pa=0x%llx out=NULL", 8 * w, (unsigned long long)pa);
    /* An implementation may route first; a device must then not be called
     * with a NULL result (that would crash here, under ASan). */
    int region;
    uint64_t off;
    unsigned route = expect_scalar(pa, w, &region, &off);
    unsigned tolerated = BIT(VM_ERR_INVALID_ARGUMENT) | (route & ~BIT(VM_OK)) |
                         (region >= 0 ? BIT(DEV_ERROR) : 0);
    if (w == 8)
        vmc_expect(tolerated, "expect pread 0x%llx 8 null", (unsigned long long)pa);
    else
        vmc_expect(tolerated, "expect pr%u 0x%llx null", 8 * w, (unsigned long long)pa);
    vm_err_t e;
    switch (w) {
    case 1: e = vm_physmem_read_u8(pm, pa, NULL); break;
    case 2: e = vm_physmem_read_u16(pm, pa, NULL); break;
    case 4: e = vm_physmem_read_u32(pm, pa, NULL); break;
    default: e = vm_physmem_read(pm, pa, 8, NULL); break;
    }
    check_err("read with out=NULL", e, tolerated);
    n_calls = n_expected = 0; /* a device read into a local buffer is tolerated */
}

enum {
    OP_READ_TYPED, OP_WRITE_TYPED, OP_READ, OP_WRITE, OP_READ_BUF, OP_WRITE_BUF,
    OP_DUMP, OP_RESTORE, OP_MAP, OP_POLL, OP_NULL_ARGS, OP_COUNT
};

/*
 * Opcode byte -> op, weighted: scalar accesses are cheap and where routing
 * bugs live; dump and restore move all of RAM through the (instrumented)
 * core and are made rare so that throughput stays high.
 */
static const uint8_t op_table[32] = {
    OP_READ_TYPED, OP_READ_TYPED, OP_READ_TYPED, OP_READ_TYPED, OP_READ_TYPED, OP_READ_TYPED,
    OP_WRITE_TYPED, OP_WRITE_TYPED, OP_WRITE_TYPED, OP_WRITE_TYPED, OP_WRITE_TYPED,
    OP_READ, OP_READ, OP_READ, OP_READ, OP_WRITE, OP_WRITE, OP_WRITE, OP_WRITE,
    OP_READ_BUF, OP_READ_BUF, OP_READ_BUF, OP_WRITE_BUF, OP_WRITE_BUF, OP_WRITE_BUF,
    OP_DUMP, OP_RESTORE, OP_MAP, OP_MAP, OP_POLL, OP_NULL_ARGS, OP_NULL_ARGS,
};

static void run_op(fuzz_input_t *in)
{
    uint8_t op = op_table[fin_u8(in) % 32u];
    switch (op) {
    case OP_READ_TYPED: {
        unsigned w = fin_size(in);
        op_read(pick_addr(in), w, true);
        break;
    }
    case OP_WRITE_TYPED: {
        unsigned w = fin_size(in);
        uint64_t pa = pick_addr(in);
        op_write(pa, w, fin_u64(in), true);
        break;
    }
    case OP_READ: {
        unsigned s = pick_any_size(in);
        op_read(pick_addr(in), s, false);
        break;
    }
    case OP_WRITE: {
        unsigned s = pick_any_size(in);
        uint64_t pa = pick_addr(in);
        op_write(pa, s, fin_u64(in), false);
        break;
    }
    case OP_READ_BUF: {
        uint64_t a = pick_addr(in);
        op_read_buf(a, pick_len(in, a), false);
        break;
    }
    case OP_WRITE_BUF: {
        uint64_t a = pick_addr(in);
        uint64_t len = pick_len(in, a);
        op_write_buf(a, len, fin_u8(in), false);
        break;
    }
    case OP_DUMP:
        op_dump(fin_u8(in));
        break;
    case OP_RESTORE: {
        uint8_t sel = fin_u8(in);
        op_restore(sel, fin_u8(in));
        break;
    }
    case OP_MAP:
        op_map(in);
        break;
    case OP_POLL:
        op_poll();
        break;
    default: {
        uint8_t sel = fin_u8(in);
        uint64_t a = pick_addr(in);
        switch (sel % 4) {
        case 0: op_null_out(a, fin_size(in)); break;
        case 1: op_read_buf(a, 0, true); break;  /* len 0: NULL is fine */
        case 2: op_write_buf(a, 0, 0, true); break;
        default: { /* NULL with a length: INVALID_ARGUMENT */
            uint64_t len = 1 + fin_u8(in) % 16u;
            if (sel & 4)
                op_read_buf(a, len, true);
            else
                op_write_buf(a, len, 0, true);
            break;
        }
        }
        break;
    }
    }
}

/* One whole run; returns normally or longjmps out through mismatch(). */
static void run(const uint8_t *data, size_t size)
{
    fuzz_input_t in;
    fin_init(&in, data, size);
    uint8_t cfg_size = fin_u8(&in), cfg_flags = fin_u8(&in);

    model.ram = model_ram;
    model.size = ram_sizes[cfg_size % 16u];
    model.n_mmio = 0;
    if (!pattern_made) {
        make_pattern();
        pattern_made = true;
    }
    memset(model_ram, 0, dirty_hi); /* only what the previous run wrote */
    dirty_hi = 0;
    n_dirty = 0;
    n_devs = 0;
    n_calls = n_expected = 0;
    bulk_used = 0;
    final_check = false;
    fuzz_op_no = 0;
    vmc_start("fuzz_physmem");
    if (vmc_on())
        vmc_line("mem %llu", (unsigned long long)model.size);
    if (fuzz_tracing)
        fprintf(stderr, "fuzz_physmem scenario: RAM %llu bytes%s\n",
                (unsigned long long)model.size, cfg_flags & 1 ? ", device after RAM" : "");

    pm = vm_physmem_new((size_t)model.size, false);
    if (!pm)
        mismatch("vm_physmem_new(%llu) returned NULL", (unsigned long long)model.size);
    if (vm_physmem_size(pm) != model.size)
        mismatch("vm_physmem_size %zu != %llu", vm_physmem_size(pm), (unsigned long long)model.size);
    if (vm_physmem_hugepages(pm) != VM_HUGEPAGES_NONE)
        mismatch("hugepages reported without being asked for");

    if (cfg_flags & 1) {
        /* the seed's UART example, moved next to RAM: 0x100 bytes, poll+destroy */
        static const uint8_t map_args[] = {0, 4, 2, 0, 0, 0, 0};
        fuzz_input_t fixed;
        fin_init(&fixed, map_args, sizeof map_args);
        op_map(&fixed);
    }
    while (!fin_done(&in)) {
        fuzz_op_no++;
        run_op(&in);
    }

    /*
     * Final comparison. Small RAM: dump all of it. Large RAM: dumping 64 KiB
     * or 1 MiB per input would cost more than the rest of the run, so read
     * back the ranges this run wrote (+-16 bytes) and both ends of RAM;
     * a stray write far away from everything written is still caught in the
     * small-RAM runs, and by every explicit dump op (a full compare).
     */
    fuzz_op_no++;
    final_check = true;
    if (model.size <= 8192 || (n_dirty == 1 && dirty[0].lo == 0 && dirty[0].hi == model.size)) {
        trace("final: dump and compare all of RAM");
        op_dump(4);
    } else {
        trace("final: read back what was written, and both ends of RAM");
        for (int i = 0; i < n_dirty; i++) {
            uint64_t lo = dirty[i].lo > 16 ? dirty[i].lo - 16 : 0;
            uint64_t hi = dirty[i].hi + 16 < model.size ? dirty[i].hi + 16 : model.size;
            op_read_buf(lo, hi - lo, false);
        }
        op_read_buf(0, 64, false);
        op_read_buf(model.size - 64, 64, false);
    }

    vm_physmem_t *dying = pm;
    pm = NULL;
    vm_physmem_free(dying);
    for (int i = 0; i < n_devs; i++) {
        int want = devs[i].has_destroy ? 1 : 0;
        if (devs[i].destroyed != want)
            mismatch("vm_physmem_free called destroy of dev%d %d times, expected %d", i,
                     devs[i].destroyed, want);
    }
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
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_run_reporting(run, release_run, data, size);
}
