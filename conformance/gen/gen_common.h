/*
 * gen_common.h - what vmmem-gen's architecture parts share: the seeded
 * random numbers (splitmix64, so case i of seed S is the same on every
 * machine) and the entry point of each part.
 */
#ifndef VMMEM_GEN_COMMON_H
#define VMMEM_GEN_COMMON_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rng { uint64_t s; } rng_t;

static inline uint64_t rng_next(rng_t *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (modulo bias is irrelevant here). */
static inline unsigned rng_below(rng_t *r, unsigned n) { return (unsigned)(rng_next(r) % n); }
static inline bool rng_bool(rng_t *r) { return rng_next(r) & 1; }

/* The per-case seed: case i of seed S depends only on (S, i). */
static inline void rng_seed_case(rng_t *r, uint64_t seed, unsigned index)
{
    r->s = seed * UINT64_C(0x100000001b3) ^ ((uint64_t)index << 20) ^ UINT64_C(0x5eed);
    rng_next(r);
}

/* An architecture part: writes DIR/gen-NNNNN.vmc for cases 0..count-1 and
 * prints its statistics; 0 on success, 2 on an error (already printed). */
int gen_arm64_run(uint64_t seed, unsigned count, int checks, const char *dir);
int gen_x86_64_run(uint64_t seed, unsigned count, int checks, const char *dir);

#endif /* VMMEM_GEN_COMMON_H */
