/*
 * physmem.c - guest RAM: allocation, scalar and bulk access, dump/restore.
 *
 * How it works
 * ------------
 * Guest RAM [base, base + size) is one anonymous host mapping; guest PA p
 * lives at pm->ram + (p - base) (physmem_host()). MAP_NORESERVE keeps a 1 GiB guest instant to create and
 * charges the host only for pages the guest touches. With use_hugepages we
 * first try explicit 2 MiB pages (MAP_HUGETLB, *without* MAP_NORESERVE:
 * a non-reserved hugetlb mapping is accepted and then SIGBUSes on first
 * touch when the pool is empty), then an ordinary mapping with
 * madvise(MADV_HUGEPAGE), and report which one we got.
 *
 * Every access to a RAM byte goes through a relaxed __atomic builtin, so
 * vCPU threads sharing the memory never have a data race in the C11 sense:
 *  - aligned 1/2/4/8-byte accesses are one atomic load/store
 *    (physmem_load_aligned / physmem_store_aligned, inline in
 *    physmem_int.h so the MMU's TLB-hit path can use them too);
 *  - misaligned scalar accesses are done byte by byte: each byte is atomic,
 *    the access as a whole is not (hardware gives no more for a misaligned
 *    access either: RVWMO only promises single-copy atomicity for aligned
 *    accesses);
 *  - bulk transfers, dump and restore use 8-byte atomics on the 8-aligned
 *    middle and byte atomics at the ragged edges. memcpy would be faster
 *    but a memcpy racing with another vCPU's atomic store is a data race
 *    (undefined behaviour, and TSan reports it).
 * Every range is validated completely before the first byte is written, so
 * a failing call never leaves a partial write behind. Address arithmetic
 * never wraps: pa + len beyond 2^64 is VM_ERR_INVALID_ADDRESS.
 *
 * After writing, a writer looks at pm->nres (live LR reservations) and only
 * when it is non-zero takes the locked slow path that breaks reservations
 * on the granules it wrote (reservation.c explains why that is enough).
 *
 * Rejected: the seed API's 16 RwLock shards (RwLock<Vec<u8>> per 1/16 of
 * RAM). Every access paid a lock round-trip, accesses straddling a shard
 * edge needed two locks, and two vCPUs writing the same shard serialised.
 * With lock-free atomics an aligned access costs one plain load/store on
 * x86-64 and AArch64 and nothing can deadlock; the bench compares both.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h> /* the bulk copies' 16-byte accesses */
#endif

#include "alloc_int.h"
#include "physmem_int.h"

#define HUGE_PAGE_SIZE ((size_t)2 << 20)

/* Round x up to a multiple of the power of two `align`; false on overflow. */
static bool round_up(size_t x, size_t align, size_t *out)
{
    if (x > SIZE_MAX - (align - 1))
        return false;
    *out = (x + align - 1) & ~(align - 1);
    return true;
}

/*
 * Obtain the RAM mapping. Sets pm->ram, pm->map_size, pm->hugepages.
 * The mapping is always at least page-rounded, so the 8-byte granule that
 * holds the last RAM byte is mapped even when size is not a multiple of 8
 * (reservation.c loads whole granules); the bytes past `size` stay zero.
 */
static bool map_ram(vm_physmem_t *pm, size_t size, bool use_hugepages)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t len;
    void *p;

    if (page <= 0)
        page = 4096;
    if (use_hugepages && round_up(size, HUGE_PAGE_SIZE, &len)) {
#ifdef MAP_HUGETLB
        p = alloc_mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p != MAP_FAILED) {
            pm->ram = p;
            pm->map_size = len;
            pm->hugepages = VM_HUGEPAGES_HUGETLB;
            return true;
        }
#endif
        p = alloc_mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p != MAP_FAILED) {
            pm->ram = p;
            pm->map_size = len;
            pm->hugepages = VM_HUGEPAGES_NONE;
#ifdef MADV_HUGEPAGE
            if (madvise(p, len, MADV_HUGEPAGE) == 0)
                pm->hugepages = VM_HUGEPAGES_MADVISE;
#endif
            return true;
        }
        /* Fall through: maybe a smaller, page-rounded mapping still fits. */
    }
    if (!round_up(size, (size_t)page, &len))
        return false;
    p = alloc_mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return false;
    pm->ram = p;
    pm->map_size = len;
    pm->hugepages = VM_HUGEPAGES_NONE;
    return true;
}

vm_physmem_t *vm_physmem_new(size_t size, bool use_hugepages)
{
    return vm_physmem_new_at(0, size, use_hugepages);
}

vm_physmem_t *vm_physmem_new_at(vm_gpa_t base, size_t size, bool use_hugepages)
{
    vm_physmem_t *pm;

    /* physmem.h: base 4 KiB aligned, and the last byte of the 64-bit space
     * is never addressable, so base + size <= 2^64 - 1. */
    if (size == 0 || (base & 0xfff) != 0 || (uint64_t)size > UINT64_MAX - base)
        return NULL;
    pm = alloc_calloc(1, sizeof(*pm));
    if (!pm)
        return NULL;
    if (pthread_mutex_init(&pm->res_lock, NULL) != 0)
        goto fail_free;
    if (pthread_mutex_init(&pm->mmio_lock, NULL) != 0)
        goto fail_res_lock;
    if (!map_ram(pm, size, use_hugepages))
        goto fail_mmio_lock;
    pm->ram_size = size;
    pm->ram_end8 = size >= 8 ? size - 7 : 0;
    pm->ram_end_page = size >= 4096 ? size - 4095 : 0;
    pm->ram_base = base;
    pm->ram_neg_base = 0 - base;
    return pm;

fail_mmio_lock:
    pthread_mutex_destroy(&pm->mmio_lock);
fail_res_lock:
    pthread_mutex_destroy(&pm->res_lock);
fail_free:
    alloc_free(pm);
    return NULL;
}

void vm_physmem_free(vm_physmem_t *pm)
{
    if (!pm)
        return;
    physmem_mmio_destroy_all(pm);
    alloc_munmap(pm->ram, pm->map_size);
    alloc_free(pm->res);
    pthread_mutex_destroy(&pm->mmio_lock);
    pthread_mutex_destroy(&pm->res_lock);
    alloc_free(pm);
}

size_t vm_physmem_size(const vm_physmem_t *pm)
{
    return pm ? (size_t)pm->ram_size : 0;
}

vm_gpa_t vm_physmem_base(const vm_physmem_t *pm)
{
    return pm ? pm->ram_base : 0;
}

vm_hugepage_mode_t vm_physmem_hugepages(const vm_physmem_t *pm)
{
    return pm ? pm->hugepages : VM_HUGEPAGES_NONE;
}

/* ---- RAM scalar access ------------------------------------------------ */

/* Byte-wise little-endian load: byte i of the access is bits 8i..8i+7. */
static uint64_t ram_load_bytes(const vm_physmem_t *pm, uint64_t pa, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)__atomic_load_n(physmem_host(pm, pa) + i, __ATOMIC_RELAXED) << (8 * i);
    return v;
}

static void ram_store_bytes(vm_physmem_t *pm, uint64_t pa, uint64_t val, unsigned size)
{
    for (unsigned i = 0; i < size; i++)
        __atomic_store_n(physmem_host(pm, pa) + i, (uint8_t)(val >> (8 * i)), __ATOMIC_RELAXED);
    if (__atomic_load_n(&pm->nres, __ATOMIC_RELAXED) != 0)
        physmem_break_reservations(pm, pa, size);
}

/* RAM access with range already checked; any alignment. */
static void ram_access(vm_physmem_t *pm, uint64_t pa, unsigned size, uint64_t *val, bool write)
{
    bool aligned = (pa & (size - 1)) == 0;

    if (write) {
        if (aligned)
            physmem_store_aligned(pm, pa, *val, size);
        else
            ram_store_bytes(pm, pa, *val, size);
    } else {
        *val = aligned ? physmem_load_aligned(pm, pa, size) : ram_load_bytes(pm, pa, size);
    }
}

vm_err_t physmem_access_slow(vm_physmem_t *pm, vm_gpa_t pa, unsigned size, uint64_t *val,
                             bool write)
{
    if (!pm || !val || !physmem_size_ok(size))
        return VM_ERR_INVALID_ARGUMENT;
    if (physmem_range_overflows(pa, size))
        return VM_ERR_INVALID_ADDRESS;
    if (physmem_ram_contains(pm, pa, size)) {
        uint64_t v = 0;
        if (write)
            v = *val & physmem_size_mask(size);
        ram_access(pm, pa, size, &v, write);
        if (!write)
            *val = v;
        return VM_OK;
    }
    return physmem_mmio_access(pm, pa, size, val, write);
}

/*
 * The common case inline: an aligned access wholly inside RAM is one atomic
 * load/store; everything else (misaligned, MMIO, errors) goes through
 * physmem_access_slow().
 */
static inline vm_err_t scalar_access(vm_physmem_t *pm, uint64_t pa, unsigned size, uint64_t *val,
                                     bool write)
{
    if (VM_LIKELY(pm && (pa & (size - 1)) == 0 && physmem_ram_contains(pm, pa, size))) {
        if (write)
            physmem_store_aligned(pm, pa, *val, size);
        else
            *val = physmem_load_aligned(pm, pa, size);
        return VM_OK;
    }
    return physmem_access_slow(pm, pa, size, val, write);
}

/*
 * The typed readers: the fast case straight into *out, with no local copy
 * (so no stack frame); the rest, the argument checks included, out of line.
 */
static VM_NOINLINE vm_err_t read_typed_slow(vm_physmem_t *pm, uint64_t addr, unsigned size,
                                            void *out)
{
    uint64_t v;
    if (!out)
        return VM_ERR_INVALID_ARGUMENT;
    vm_err_t err = physmem_access_slow(pm, addr, size, &v, false);
    if (err)
        return err;
    switch (size) {
    case 1: *(uint8_t *)out = (uint8_t)v; break;
    case 2: *(uint16_t *)out = (uint16_t)v; break;
    case 4: *(uint32_t *)out = (uint32_t)v; break;
    default: *(uint64_t *)out = v; break;
    }
    return VM_OK;
}

/* One compare for the bounds (ram_end8: the last 7 bytes of RAM take the
 * slow path, which serves them too). */
static inline bool physmem_fast_ok(const vm_physmem_t *pm, uint64_t addr, unsigned size)
{
    return VM_LIKELY(pm != NULL && (addr & (size - 1)) == 0 &&
                     addr - pm->ram_base < pm->ram_end8);
}

vm_err_t vm_physmem_read_u8(vm_physmem_t *pm, uint64_t addr, uint8_t *out)
{
    if (physmem_fast_ok(pm, addr, 1) && VM_LIKELY(out != NULL)) {
        *out = (uint8_t)physmem_load_aligned(pm, addr, 1);
        return VM_OK;
    }
    return read_typed_slow(pm, addr, 1, out);
}

vm_err_t vm_physmem_read_u16(vm_physmem_t *pm, uint64_t addr, uint16_t *out)
{
    if (physmem_fast_ok(pm, addr, 2) && VM_LIKELY(out != NULL)) {
        *out = (uint16_t)physmem_load_aligned(pm, addr, 2);
        return VM_OK;
    }
    return read_typed_slow(pm, addr, 2, out);
}

vm_err_t vm_physmem_read_u32(vm_physmem_t *pm, uint64_t addr, uint32_t *out)
{
    if (physmem_fast_ok(pm, addr, 4) && VM_LIKELY(out != NULL)) {
        *out = (uint32_t)physmem_load_aligned(pm, addr, 4);
        return VM_OK;
    }
    return read_typed_slow(pm, addr, 4, out);
}

vm_err_t vm_physmem_read_u64(vm_physmem_t *pm, uint64_t addr, uint64_t *out)
{
    if (physmem_fast_ok(pm, addr, 8) && VM_LIKELY(out != NULL)) {
        *out = physmem_load_aligned(pm, addr, 8);
        return VM_OK;
    }
    return read_typed_slow(pm, addr, 8, out);
}

void vm_physmem_fast_store_resv(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size)
{
    physmem_break_reservations(pm, pa, size);
}

/* The typed writers: the fast case inline, the rest out of line. */
static VM_NOINLINE vm_err_t write_typed_slow(vm_physmem_t *pm, uint64_t addr, unsigned size,
                                             uint64_t v)
{
    return physmem_access_slow(pm, addr, size, &v, true);
}

vm_err_t vm_physmem_write_u8(vm_physmem_t *pm, uint64_t addr, uint8_t val)
{
    if (physmem_fast_ok(pm, addr, 1)) {
        physmem_store_aligned(pm, addr, val, 1);
        return VM_OK;
    }
    return write_typed_slow(pm, addr, 1, val);
}

vm_err_t vm_physmem_write_u16(vm_physmem_t *pm, uint64_t addr, uint16_t val)
{
    if (physmem_fast_ok(pm, addr, 2)) {
        physmem_store_aligned(pm, addr, val, 2);
        return VM_OK;
    }
    return write_typed_slow(pm, addr, 2, val);
}

vm_err_t vm_physmem_write_u32(vm_physmem_t *pm, uint64_t addr, uint32_t val)
{
    if (physmem_fast_ok(pm, addr, 4)) {
        physmem_store_aligned(pm, addr, val, 4);
        return VM_OK;
    }
    return write_typed_slow(pm, addr, 4, val);
}

vm_err_t vm_physmem_write_u64(vm_physmem_t *pm, uint64_t addr, uint64_t val)
{
    if (physmem_fast_ok(pm, addr, 8)) {
        physmem_store_aligned(pm, addr, val, 8);
        return VM_OK;
    }
    return write_typed_slow(pm, addr, 8, val);
}

vm_err_t vm_physmem_read(vm_physmem_t *pm, vm_gpa_t pa, uint8_t size, uint64_t *val)
{
    uint64_t v;
    vm_err_t err;

    if (!val || !physmem_size_ok(size))
        return VM_ERR_INVALID_ARGUMENT;
    err = scalar_access(pm, pa, size, &v, false);
    if (!err)
        *val = v;
    return err;
}

vm_err_t vm_physmem_write(vm_physmem_t *pm, vm_gpa_t pa, uint64_t val, uint8_t size)
{
    uint64_t v;

    if (!physmem_size_ok(size))
        return VM_ERR_INVALID_ARGUMENT;
    v = val & physmem_size_mask(size); /* truncated to size (physmem.h) */
    return scalar_access(pm, pa, size, &v, true);
}

/* ---- Bulk transfers ----------------------------------------------------- */

/*
 * Wide copies for ram_copy_out and ram_copy_in. A vCPU may store to RAM
 * while a bulk read runs, or load while a bulk write runs, so every aligned
 * 8-byte word must still be read or written in one single-copy-atomic
 * access (physmem.h). C11 offers nothing wider than the 8-byte relaxed
 * atomics below, which the compiler never merges or vectorises, and those
 * copy 1 MiB at ~0.75x of memcpy. On x86-64 an aligned 16-byte (V)MOVDQA
 * load or store is atomic as a whole on processors that enumerate AVX
 * (CPUID.01H:ECX[28]): Intel SDM Vol. 3A, "Guaranteed Atomic Operations"
 * (9.1.1; 8.1.1 in editions before 2023), for Intel processors; the AMD64
 * APM Vol. 2 extends the atomicity of cacheable, naturally aligned single
 * loads and stores from a quadword to a double quadword on AMD processors
 * that report AVX. So on those two vendors' AVX processors the copies move
 * 16 aligned bytes at a time with one MOVDQA in inline assembly - one
 * access the compiler cannot split or widen, and so no C-level access that
 * could race - and every other host keeps the 8-byte atomics.
 * physmem_wide_copy is decided once (the constructor below); tests may
 * clear it to run the 8-byte paths.
 */
bool physmem_wide_copy;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((constructor)) static void physmem_probe_wide_copy(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    /* vendor string in EBX, EDX, ECX */
    const bool intel = b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e; /* GenuineIntel */
    const bool amd = b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163;   /* AuthenticAMD */
    if ((intel || amd) && __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 28)))
        physmem_wide_copy = true;
}

typedef long long wide16_t __attribute__((vector_size(16)));

/* One aligned 16-byte load from RAM (src 16-byte aligned). */
static inline wide16_t load16(const uint8_t *src)
{
    wide16_t v;
#if defined(__AVX__) /* VEX code around it: no SSE/AVX transition */
    __asm__("vmovdqa %1, %0" : "=x"(v) : "m"(*(const char(*)[16])(const void *)src));
#else
    __asm__("movdqa %1, %0" : "=x"(v) : "m"(*(const char(*)[16])(const void *)src));
#endif
    return v;
}

/* One aligned 16-byte store to RAM (dst 16-byte aligned). */
static inline void store16(uint8_t *dst, wide16_t v)
{
#if defined(__AVX__)
    __asm__("vmovdqa %1, %0" : "=m"(*(char(*)[16])(void *)dst) : "x"(v));
#else
    __asm__("movdqa %1, %0" : "=m"(*(char(*)[16])(void *)dst) : "x"(v));
#endif
}

/* n16 aligned 16-byte chunks from src (RAM, 16-byte aligned) to buf, the
 * caller's private buffer (plain accesses: no race). Four per iteration
 * so the loop overhead is a quarter of the copy's instructions, not half. */
static void copy_out_wide(const uint8_t *src, uint8_t *buf, size_t n16)
{
    for (; n16 >= 4; n16 -= 4, src += 64, buf += 64) {
        const wide16_t a = load16(src), b = load16(src + 16);
        const wide16_t c = load16(src + 32), d = load16(src + 48);
        memcpy(buf, &a, 16), memcpy(buf + 16, &b, 16);
        memcpy(buf + 32, &c, 16), memcpy(buf + 48, &d, 16);
    }
    for (; n16; n16--, src += 16, buf += 16) {
        const wide16_t a = load16(src);
        memcpy(buf, &a, 16);
    }
}

/* n16 chunks from buf to dst (RAM, 16-byte aligned); see copy_out_wide. */
static void copy_in_wide(uint8_t *dst, const uint8_t *buf, size_t n16)
{
    for (; n16 >= 4; n16 -= 4, dst += 64, buf += 64) {
        wide16_t a, b, c, d;
        memcpy(&a, buf, 16), memcpy(&b, buf + 16, 16);
        memcpy(&c, buf + 32, 16), memcpy(&d, buf + 48, 16);
        store16(dst, a), store16(dst + 16, b);
        store16(dst + 32, c), store16(dst + 48, d);
    }
    for (; n16; n16--, dst += 16, buf += 16) {
        wide16_t a;
        memcpy(&a, buf, 16);
        store16(dst, a);
    }
}
#else
static void copy_out_wide(const uint8_t *src, uint8_t *buf, size_t n16)
{
    (void)src, (void)buf, (void)n16; /* physmem_wide_copy is never set here */
}

static void copy_in_wide(uint8_t *dst, const uint8_t *buf, size_t n16)
{
    (void)dst, (void)buf, (void)n16;
}
#endif

/* Copy RAM [pa, pa+len) out to buf; range already checked. */
static void ram_copy_out(const vm_physmem_t *pm, uint64_t pa, uint8_t *buf, size_t len)
{
    const uint8_t *src = physmem_host(pm, pa);

    while (len && ((uintptr_t)src & 7)) {
        *buf++ = __atomic_load_n(src++, __ATOMIC_RELAXED);
        len--;
    }
    if (physmem_wide_copy && len >= 64) {
        if ((uintptr_t)src & 8) { /* one word to 16-byte alignment */
            uint64_t w = __atomic_load_n((const uint64_t *)(const void *)src, __ATOMIC_RELAXED);
            memcpy(buf, &w, 8);
            src += 8, buf += 8, len -= 8;
        }
        copy_out_wide(src, buf, len / 16);
        src += len & ~(size_t)15, buf += len & ~(size_t)15, len &= 15;
    }
    /* Four words per iteration: relaxed atomics are never merged or
     * vectorised by the compiler, so the loop overhead is ours to cut. */
    for (; len >= 32; len -= 32, src += 32, buf += 32)
        for (unsigned k = 0; k < 32; k += 8) {
            uint64_t w = __atomic_load_n((const uint64_t *)(const void *)(src + k), __ATOMIC_RELAXED);
            memcpy(buf + k, &w, 8); /* buf is the caller's private buffer: no race */
        }
    for (; len >= 8; len -= 8, src += 8, buf += 8) {
        uint64_t w = __atomic_load_n((const uint64_t *)(const void *)src, __ATOMIC_RELAXED);
        memcpy(buf, &w, 8);
    }
    while (len--)
        *buf++ = __atomic_load_n(src++, __ATOMIC_RELAXED);
}

/* Copy buf into RAM [pa, pa+len); range already checked. Does not break
 * reservations (the callers do, once, for the whole range). */
static void ram_copy_in(vm_physmem_t *pm, uint64_t pa, const uint8_t *buf, size_t len)
{
    uint8_t *dst = physmem_host(pm, pa);

    while (len && ((uintptr_t)dst & 7)) {
        __atomic_store_n(dst++, *buf++, __ATOMIC_RELAXED);
        len--;
    }
    if (physmem_wide_copy && len >= 64) {
        if ((uintptr_t)dst & 8) { /* one word to 16-byte alignment */
            uint64_t w;
            memcpy(&w, buf, 8);
            __atomic_store_n((uint64_t *)(void *)dst, w, __ATOMIC_RELAXED);
            dst += 8, buf += 8, len -= 8;
        }
        copy_in_wide(dst, buf, len / 16);
        dst += len & ~(size_t)15, buf += len & ~(size_t)15, len &= 15;
    }
    for (; len >= 32; len -= 32, dst += 32, buf += 32)
        for (unsigned k = 0; k < 32; k += 8) {
            uint64_t w;
            memcpy(&w, buf + k, 8);
            __atomic_store_n((uint64_t *)(void *)(dst + k), w, __ATOMIC_RELAXED);
        }
    for (; len >= 8; len -= 8, dst += 8, buf += 8) {
        uint64_t w;
        memcpy(&w, buf, 8);
        __atomic_store_n((uint64_t *)(void *)dst, w, __ATOMIC_RELAXED);
    }
    while (len--)
        __atomic_store_n(dst++, *buf++, __ATOMIC_RELAXED);
}

vm_err_t vm_physmem_read_buf(vm_physmem_t *pm, uint64_t addr, void *buf, size_t len)
{
    if (!pm || (!buf && len))
        return VM_ERR_INVALID_ARGUMENT;
    if (!physmem_ram_contains(pm, addr, len))
        return VM_ERR_INVALID_ADDRESS;
    if (len)
        ram_copy_out(pm, addr, buf, len);
    return VM_OK;
}

vm_err_t vm_physmem_write_buf(vm_physmem_t *pm, uint64_t addr, const void *buf, size_t len)
{
    if (!pm || (!buf && len))
        return VM_ERR_INVALID_ARGUMENT;
    if (!physmem_ram_contains(pm, addr, len))
        return VM_ERR_INVALID_ADDRESS;
    if (len == 0)
        return VM_OK;
    ram_copy_in(pm, addr, buf, len);
    if (__atomic_load_n(&pm->nres, __ATOMIC_RELAXED) != 0)
        physmem_break_reservations(pm, addr, len);
    return VM_OK;
}

vm_err_t vm_physmem_dump(vm_physmem_t *pm, void *out, size_t len)
{
    if (!pm || len != pm->ram_size || !out)
        return VM_ERR_INVALID_ARGUMENT;
    ram_copy_out(pm, pm->ram_base, out, len);
    return VM_OK;
}

vm_err_t vm_physmem_restore(vm_physmem_t *pm, const void *data, size_t len)
{
    if (!pm || len != pm->ram_size || !data)
        return VM_ERR_INVALID_ARGUMENT;
    ram_copy_in(pm, pm->ram_base, data, len);
    /* physmem.h: restore breaks every reservation, even where the restored
     * bytes happen to equal the old ones (a snapshot load is a new world). */
    physmem_break_all_reservations(pm);
    return VM_OK;
}

/* ---- PTE compare-and-swap for the MMU ---------------------------------- */

vm_err_t physmem_cmpxchg_u64(vm_physmem_t *pm, vm_gpa_t pa, uint64_t expected, uint64_t desired,
                             bool *swapped)
{
    uint64_t *p;

    if (!pm || !swapped)
        return VM_ERR_INVALID_ARGUMENT;
    *swapped = false;
    if (pa & 7)
        return VM_ERR_ALIGNMENT_FAULT;
    if (!physmem_ram_contains(pm, pa, 8))
        return VM_ERR_INVALID_ADDRESS;
    p = (uint64_t *)(void *)physmem_host(pm, pa);
    /* Priv. spec, "Virtual Address Translation Process" step 8: the A/D
     * update must be atomic with respect to the PTE check, so a concurrent
     * store to the PTE (e.g. another hart clearing V) is never overwritten. */
    if (!__atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST))
        return VM_OK;
    *swapped = true;
    if (__atomic_load_n(&pm->nres, __ATOMIC_RELAXED) != 0)
        physmem_break_reservations(pm, pa, 8);
    return VM_OK;
}
