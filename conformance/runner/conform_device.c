/*
 * conform_device.c - the register-file MMIO device of vmmem-conform, and
 * the check that the core makes exactly the device calls the reference
 * predicts.
 *
 *   expect mmio BASE SIZE [regs N] [fail] [dma] [poll] [nodestroy]
 *                         [noops | noread | nowrite] -> ANSWER
 *   poll
 *
 * The device is the one the fuzz targets use, so a finding's device traffic
 * can be replayed: a register file of N bytes (default min(SIZE, 64 KiB)),
 * zero at map time; a read returns the little-endian bytes at its offset,
 * a write stores them. Bytes at offsets o >= N read as the fixed pattern
 * (31 o + 7 id + 0x5a) mod 256, where id is the ordinal of the device's
 * `expect mmio` line in the file (refused ones count), and ignore writes.
 * Options: `fail` - an access at an offset with bits 7:4 all set fails with
 * VM_ERR_UNSUPPORTED (the call is still made; a write stores nothing);
 * `dma` - the device reaches into RAM from its callbacks (a device may,
 * physmem.h): an 8-byte read at 0x30 returns the 8 RAM bytes at RAM base +
 * (the 8 register bytes at 0x28) mod (RAM size - 7), an 8-byte write at 0x38
 * stores the value's high 32 bits at RAM base + (its low 32 bits) mod (RAM
 * size - 3); `poll` - the device has a poll callback; `nodestroy` - it has
 * no destroy callback; `noops`, `noread`, `nowrite` - the map call gets a
 * NULL ops pointer or callback (VM_ERR_INVALID_ARGUMENT). ANSWER is ok,
 * invalid-argument or mmio (physmem.h, vm_physmem_map_mmio).
 *
 * How it works. The core's device (callbacks with the core's copy of the
 * registers) and the reference's (conform_device_ref_access, with its own
 * copy) both log every call: kind, offset, size, value. After every line
 * the two logs must be equal: a misrouted, split, misaligned, duplicated or
 * missing device access is a failure of that line. A read's logged value is
 * what the device returned; a write's is the value the device received
 * (the reference's truncated to the access size). At the end of the file
 * both copies of every register file must be equal, and each device mapped
 * with a destroy callback must have been destroyed exactly once (never one
 * whose mapping was refused).
 *
 * Rejected: one register array shared by core and reference (a write the
 * core misroutes would then show up in the reference too).
 */
#include "conform_ext_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DMA_ADDR 0x28u
#define DMA_LOAD 0x30u
#define DMA_STORE 0x38u

static const char *const call_names[] = {"read", "write", "poll"};

static void log_call(conform_call_log_t *log, int dev, int kind, uint64_t off, unsigned size,
                     uint64_t val)
{
    if (log->n < CONFORM_MAX_CALLS)
        log->call[log->n] = (conform_call_t){dev, kind, off, size, val};
    log->n++;
}

static uint8_t reg_byte(const conform_device_t *d, const uint8_t *regs, uint64_t o)
{
    return o < d->nregs ? regs[o] : (uint8_t)(o * 31u + (unsigned)d->id * 7u + 0x5Au);
}

static uint64_t reg_value(const conform_device_t *d, const uint8_t *regs, uint64_t o, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && i < 8; i++)
        v |= (uint64_t)reg_byte(d, regs, o + i) << (8 * i);
    return v;
}

static void reg_store(const conform_device_t *d, uint8_t *regs, uint64_t o, uint64_t val,
                      unsigned size)
{
    for (unsigned i = 0; i < size && i < 8; i++)
        if (o + i < d->nregs)
            regs[o + i] = (uint8_t)(val >> (8 * i));
}

static bool fails_at(const conform_device_t *d, uint64_t o)
{
    return d->fail && (o & 0xF0u) == 0xF0u;
}

static uint64_t truncated(uint64_t v, unsigned size)
{
    return size >= 8 ? v : v & ((UINT64_C(1) << (8 * size)) - 1);
}

/* ---- the core's device (callbacks) ------------------------------------ */

static uint64_t ram_size_of(const conform_device_t *d, uint64_t *base)
{
    vm_physmem_t *pm = d->ext->pm;
    *base = vm_physmem_base(pm);
    return vm_physmem_size(pm);
}

static vm_err_t core_read(void *opaque, uint64_t off, uint8_t size, uint64_t *val)
{
    conform_device_t *d = opaque;
    bool fails = fails_at(d, off);
    uint64_t v = fails || size > 8 ? 0 : reg_value(d, d->core_regs, off, size);
    if (d->dma && off == DMA_LOAD && size == 8) {
        uint64_t base, n = ram_size_of(d, &base);
        uint8_t b[8];
        v = 0xDEADDEADDEADDEADu;   /* shows in the call log if the DMA read fails */
        if (vm_physmem_read_buf(d->ext->pm, base + reg_value(d, d->core_regs, DMA_ADDR, 8) % (n - 7),
                                b, 8) == VM_OK) {
            v = 0;
            for (unsigned i = 0; i < 8; i++)
                v |= (uint64_t)b[i] << (8 * i);
        }
    }
    log_call(&d->ext->core_calls, d->id, CONFORM_CALL_READ, off, size, v);
    if (fails)
        return VM_ERR_UNSUPPORTED;
    *val = v;
    return VM_OK;
}

static vm_err_t core_write(void *opaque, uint64_t off, uint64_t val, uint8_t size)
{
    conform_device_t *d = opaque;
    log_call(&d->ext->core_calls, d->id, CONFORM_CALL_WRITE, off, size, val);
    if (fails_at(d, off))
        return VM_ERR_UNSUPPORTED;
    reg_store(d, d->core_regs, off, val, size);
    if (d->dma && off == DMA_STORE && size == 8) {
        uint64_t base, n = ram_size_of(d, &base);
        return vm_physmem_write_u32(d->ext->pm, base + (val & 0xFFFFFFFFu) % (n - 3),
                                    (uint32_t)(val >> 32));
    }
    return VM_OK;
}

static void core_poll(void *opaque)
{
    conform_device_t *d = opaque;
    log_call(&d->ext->core_calls, d->id, CONFORM_CALL_POLL, 0, 0, 0);
}

static void core_destroy(void *opaque)
{
    conform_device_t *d = opaque;
    d->destroyed++;
}

/* ---- the reference's device -------------------------------------------- */

vm_err_t conform_device_ref_access(const conform_view_t *v, int region, uint64_t off,
                                   unsigned size, bool write, uint64_t *val)
{
    conform_ext_t *ext = v->ext;
    conform_device_t *d = &ext->dev[ext->region_dev[region]];
    const ref_mem_t *m = v->mem;
    if (write) {
        log_call(&ext->ref_calls, d->id, CONFORM_CALL_WRITE, off, size, truncated(*val, size));
        if (fails_at(d, off))
            return VM_ERR_UNSUPPORTED;
        reg_store(d, d->ref_regs, off, *val, size);
        if (d->dma && off == DMA_STORE && size == 8) {
            uint8_t b[4];
            for (unsigned i = 0; i < 4; i++)
                b[i] = (uint8_t)(*val >> (32 + 8 * i));
            conform_ref_write(v, m->base + (*val & 0xFFFFFFFFu) % (m->size - 3), b, 4);
        }
        return VM_OK;
    }
    bool fails = fails_at(d, off);
    uint64_t x = fails ? 0 : reg_value(d, d->ref_regs, off, size);
    if (d->dma && off == DMA_LOAD && size == 8)
        x = conform_ref_load(v, m->base + reg_value(d, d->ref_regs, DMA_ADDR, 8) % (m->size - 7), 8);
    log_call(&ext->ref_calls, d->id, CONFORM_CALL_READ, off, size, x);
    *val = fails ? 0 : x;
    return fails ? VM_ERR_UNSUPPORTED : VM_OK;
}

/* ---- lines --------------------------------------------------------------- */

static int line_map(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t base, size, nregs = UINT64_MAX;
    if (ntok < 6 || !conform_parse_u64(tok[2], &base) || !conform_parse_size(tok[3], &size))
        return conform_malformed(v, "expected: expect mmio BASE SIZE [regs N] [fail] [dma] [poll] "
                                    "[nodestroy] [noops|noread|nowrite] -> ANSWER");
    bool fail = false, dma = false, poll = false, destroy = true;
    int null_ops = 0;   /* 1 ops, 2 read, 3 write */
    int pos = 4;
    for (; pos < ntok && strcmp(tok[pos], "->"); pos++) {
        const char *o = tok[pos];
        if (!strcmp(o, "regs") && pos + 1 < ntok && conform_parse_u64(tok[pos + 1], &nregs))
            pos++;
        else if (!strcmp(o, "fail")) fail = true;
        else if (!strcmp(o, "dma")) dma = true;
        else if (!strcmp(o, "poll")) poll = true;
        else if (!strcmp(o, "nodestroy")) destroy = false;
        else if (!strcmp(o, "noops")) null_ops = 1;
        else if (!strcmp(o, "noread")) null_ops = 2;
        else if (!strcmp(o, "nowrite")) null_ops = 3;
        else return conform_malformed(v, "unknown device option '%s'", o);
    }
    conform_alts_t alts;
    if (conform_parse_alts(v, tok, ntok, pos, &alts))
        return CONFORM_ERROR;
    if (ext->n_dev == CONFORM_MAX_DEVICES || v->mem->n_mmio == REF_MAX_MMIO)
        return conform_malformed(v, "at most %d devices and regions in a file", REF_MAX_MMIO);
    if (dma && v->mem->size < 8)
        return conform_malformed(v, "a dma device needs at least 8 bytes of RAM");
    if (nregs == UINT64_MAX)
        nregs = size < CONFORM_MAX_REGS ? size : CONFORM_MAX_REGS;
    if (nregs > CONFORM_MAX_REGS)
        return conform_malformed(v, "regs: at most %llu register bytes",
                                 (unsigned long long)CONFORM_MAX_REGS);

    conform_device_t *d = &ext->dev[ext->n_dev];
    memset(d, 0, sizeof *d);
    d->ext = ext;
    d->id = ext->n_dev++;
    d->base = base;
    d->size = size;
    d->nregs = nregs;
    d->fail = fail;
    d->dma = dma;
    d->poll = poll;
    d->destroy = destroy;
    d->core_regs = calloc(1, nregs ? nregs : 1);
    d->ref_regs = calloc(1, nregs ? nregs : 1);
    if (!d->core_regs || !d->ref_regs)
        return conform_malformed(v, "out of memory for the device's registers");

    /* physmem.h: argument errors first, then overlap. */
    vm_err_t want;
    if (null_ops || size == 0 || size > UINT64_MAX - base)
        want = VM_ERR_INVALID_ARGUMENT;
    else
        want = ref_mem_region_ok(v->mem, base, size) ? VM_OK : VM_ERR_MMIO;
    if (want == VM_OK) {
        ext->region_dev[v->mem->n_mmio] = d->id;
        v->mem->mmio[v->mem->n_mmio].base = base;
        v->mem->mmio[v->mem->n_mmio].size = size;
        v->mem->n_mmio++;
        d->mapped = true;
    }
    vm_err_t got = VM_OK;
    if (ext->pm) {
        vm_mmio_ops_t ops = {core_read, core_write, poll ? core_poll : NULL,
                             destroy ? core_destroy : NULL};
        if (null_ops == 2)
            ops.read = NULL;
        if (null_ops == 3)
            ops.write = NULL;
        got = vm_physmem_map_mmio(ext->pm, base, size, null_ops == 1 ? NULL : &ops, d);
    }
    conform_judge(v, &alts, conform_err_name(want), conform_err_name(got), NULL);
    return CONFORM_DONE;
}

static int line_poll(const conform_view_t *v, int ntok)
{
    conform_ext_t *ext = v->ext;
    if (ntok != 1)
        return conform_malformed(v, "expected: poll");
    for (int r = 0; r < v->mem->n_mmio; r++) {
        int k = ext->region_dev[r];
        if (k >= 0 && ext->dev[k].poll)
            log_call(&ext->ref_calls, ext->dev[k].id, CONFORM_CALL_POLL, 0, 0, 0);
    }
    if (ext->pm)
        vm_physmem_poll_devices(ext->pm);
    (*v->expectations)++;   /* the calls are compared after the line */
    return CONFORM_DONE;
}

int conform_device_line(const conform_view_t *v, char **tok, int ntok)
{
    if (!strcmp(tok[0], "expect") && ntok > 1 && !strcmp(tok[1], "mmio"))
        return line_map(v, tok, ntok);
    if (!strcmp(tok[0], "poll"))
        return line_poll(v, ntok);
    return CONFORM_NOT_MINE;
}

/* ---- checks --------------------------------------------------------------- */

static void print_log(const char *title, const conform_call_log_t *log)
{
    printf("  %s (%d call%s):\n", title, log->n, log->n == 1 ? "" : "s");
    for (int i = 0; i < log->n && i < CONFORM_MAX_CALLS; i++)
        printf("    device %d %s off=0x%llx size=%u val=0x%llx\n", log->call[i].dev,
               call_names[log->call[i].kind], (unsigned long long)log->call[i].off,
               log->call[i].size, (unsigned long long)log->call[i].val);
}

void conform_device_compare_calls(const conform_view_t *v)
{
    conform_ext_t *ext = v->ext;
    const conform_call_log_t *c = &ext->core_calls, *r = &ext->ref_calls;
    bool same = !ext->pm || (c->n == r->n && c->n <= CONFORM_MAX_CALLS);
    for (int i = 0; same && ext->pm && i < c->n; i++)
        same = c->call[i].dev == r->call[i].dev && c->call[i].kind == r->call[i].kind &&
               c->call[i].off == r->call[i].off && c->call[i].size == r->call[i].size &&
               c->call[i].val == r->call[i].val;
    if (!same) {
        conform_fail(v, "device calls differ: the core made %d, the reference predicts %d",
                     c->n, r->n);
        print_log("core", c);
        print_log("reference", r);
    }
    ext->core_calls.n = ext->ref_calls.n = 0;
}

void conform_device_end(const conform_view_t *v)
{
    conform_ext_t *ext = v->ext;
    for (int k = 0; k < ext->n_dev; k++) {
        const conform_device_t *d = &ext->dev[k];
        if (!d->mapped || !memcmp(d->core_regs, d->ref_regs, d->nregs))
            continue;
        uint64_t i = 0;
        while (d->core_regs[i] == d->ref_regs[i])
            i++;
        conform_fail(v, "device %d's register at offset 0x%llx is 0x%02x in the core, 0x%02x in "
                        "the reference",
                     d->id, (unsigned long long)i, d->core_regs[i], d->ref_regs[i]);
    }
}

void conform_device_free(const conform_view_t *v)
{
    conform_ext_t *ext = v->ext;
    for (int k = 0; k < ext->n_dev; k++) {
        conform_device_t *d = &ext->dev[k];
        int want = d->mapped && d->destroy ? 1 : 0;
        if (ext->end_checks && ext->pm && d->destroyed != want)
            conform_fail(v, "device %d: destroy called %d times, expected %d (physmem.h: once at "
                            "vm_physmem_free, never for a refused mapping)",
                         d->id, d->destroyed, want);
        free(d->core_regs);
        free(d->ref_regs);
    }
}
