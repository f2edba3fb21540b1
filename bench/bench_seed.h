/*
 * bench_seed.h - the seed's physical memory design, kept only as a
 * comparison point: guest RAM split into 16 shards, each behind its own
 * reader-writer lock (the seed API's `shards: Vec<RwLock<Vec<u8>>>`); every
 * access takes its shard's lock (read lock for loads, write lock for stores).
 */
#ifndef BENCH_SEED_H
#define BENCH_SEED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEED_SHARDS 16

struct seed_mem {
    pthread_rwlock_t lock[SEED_SHARDS];
    uint8_t *shard[SEED_SHARDS];
    size_t shard_size, total;
};

/* total must be a multiple of SEED_SHARDS. false when out of memory. */
bool seed_mem_init(struct seed_mem *m, size_t total);
void seed_mem_free(struct seed_mem *m);
/* 0 on success, -1 for an address outside [0, total - 8]. Little-endian. */
int seed_read_u64(struct seed_mem *m, size_t addr, uint64_t *out);
int seed_write_u64(struct seed_mem *m, size_t addr, uint64_t val);

#endif /* BENCH_SEED_H */
