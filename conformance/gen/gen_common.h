/*
 * gen_common.h - what vmmem-gen's architecture parts share: the seeded
 * random numbers (splitmix64, so case i of seed S is the same on every
 * machine), the tally of fault reasons, the case file's name and opening,
 * and the entry point of each part.
 */
#ifndef VMMEM_GEN_COMMON_H
#define VMMEM_GEN_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ref_model.h" /* REF_READ, REF_WRITE, REF_EXEC */

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

/* How often each reason (a fault's `why`, a static string) came up. */
#define GEN_MAX_WHY 96
typedef struct gen_why {
    const char *why[GEN_MAX_WHY];
    unsigned long n[GEN_MAX_WHY];
    int count;
} gen_why_t;

static inline void gen_count_why(gen_why_t *t, const char *why)
{
    for (int k = 0; k < t->count; k++)
        if (!strcmp(t->why[k], why)) {
            t->n[k]++;
            return;
        }
    if (t->count < GEN_MAX_WHY) {
        t->why[t->count] = why;
        t->n[t->count++] = 1;
    }
}

static inline void gen_print_why(const gen_why_t *t)
{
    for (int k = 0; k < t->count; k++)
        printf("  %7lu  %s\n", t->n[k], t->why[k]);
}

static inline const char *gen_access_word(int access)
{
    return access == REF_READ ? "read" : access == REF_WRITE ? "write" : "exec";
}

/* Open DIR/gen-NNNNN.vmc (its name left in path) for writing; NULL
 * (reason printed) on failure. */
static inline FILE *gen_open_case(const char *dir, unsigned index, char *path, size_t size)
{
    snprintf(path, size, "%s/gen-%05u.vmc", dir, index);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "vmmem-gen: %s: %s\n", path, strerror(errno));
    return f;
}

/* An architecture part: writes DIR/gen-NNNNN.vmc for cases 0..count-1 and
 * prints its statistics; 0 on success, 2 on an error (already printed). */
int gen_arm64_run(uint64_t seed, unsigned count, int checks, const char *dir);
int gen_x86_64_run(uint64_t seed, unsigned count, int checks, const char *dir);

#endif /* VMMEM_GEN_COMMON_H */
