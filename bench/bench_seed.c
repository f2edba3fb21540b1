/*
 * bench_seed.c - a faithful copy of the seed's sharded-rwlock physical memory
 * (see bench_seed.h), the design vmmem's lock-free vm_physmem_t replaced.
 *
 * What the seed API documents and this copy does: 16 shards of total/16 bytes,
 * each a separate allocation behind its own rwlock; an access computes
 * shard = addr / shard_size and offset = addr % shard_size, takes that
 * shard's lock (read for loads, write for stores) and copies the bytes
 * (little-endian host); an access crossing two shards is done byte by byte,
 * each byte under its own shard's lock ("automatically handles cross-shard
 * accesses").
 *
 * What it leaves out, in the seed's favour: the seed's accessors may also
 * consult the MMIO region list (itself behind an RwLock) and a store may scan
 * the reservation list (another RwLock); the API text does not say that the
 * u64 accessors do, so this copy takes only the shard lock. pthread rwlocks
 * stand in for Rust's std RwLock (both are futex-based: an uncontended read
 * lock is one atomic read-modify-write on the lock word).
 */
#include "bench_seed.h"

#include <stdlib.h>
#include <string.h>

bool seed_mem_init(struct seed_mem *m, size_t total)
{
    if (total < 8 * SEED_SHARDS || total % SEED_SHARDS)
        return false;
    memset(m, 0, sizeof *m);
    m->total = total;
    m->shard_size = total / SEED_SHARDS;
    for (int i = 0; i < SEED_SHARDS; i++) {
        pthread_rwlock_init(&m->lock[i], NULL);
        m->shard[i] = calloc(1, m->shard_size);
        if (!m->shard[i]) {
            seed_mem_free(m);
            return false;
        }
    }
    return true;
}

void seed_mem_free(struct seed_mem *m)
{
    for (int i = 0; i < SEED_SHARDS; i++) {
        pthread_rwlock_destroy(&m->lock[i]);
        free(m->shard[i]);
    }
    memset(m, 0, sizeof *m);
}

int seed_read_u64(struct seed_mem *m, size_t addr, uint64_t *out)
{
    if (addr > m->total - 8)
        return -1;
    size_t s = addr / m->shard_size, off = addr % m->shard_size;
    if (off + 8 <= m->shard_size) {
        pthread_rwlock_rdlock(&m->lock[s]);
        memcpy(out, m->shard[s] + off, 8);
        pthread_rwlock_unlock(&m->lock[s]);
        return 0;
    }
    uint8_t b[8];
    for (size_t i = 0; i < 8; i++) {
        size_t a = addr + i, si = a / m->shard_size;
        pthread_rwlock_rdlock(&m->lock[si]);
        b[i] = m->shard[si][a % m->shard_size];
        pthread_rwlock_unlock(&m->lock[si]);
    }
    memcpy(out, b, 8);
    return 0;
}

int seed_write_u64(struct seed_mem *m, size_t addr, uint64_t val)
{
    if (addr > m->total - 8)
        return -1;
    size_t s = addr / m->shard_size, off = addr % m->shard_size;
    if (off + 8 <= m->shard_size) {
        pthread_rwlock_wrlock(&m->lock[s]);
        memcpy(m->shard[s] + off, &val, 8);
        pthread_rwlock_unlock(&m->lock[s]);
        return 0;
    }
    uint8_t b[8];
    memcpy(b, &val, 8);
    for (size_t i = 0; i < 8; i++) {
        size_t a = addr + i, si = a / m->shard_size;
        pthread_rwlock_wrlock(&m->lock[si]);
        m->shard[si][a % m->shard_size] = b[i];
        pthread_rwlock_unlock(&m->lock[si]);
    }
    return 0;
}
