/*
 * fuzz_input.h - the byte-stream consumer every fuzz target decodes its
 * input with (QEMU generic-fuzz style): fixed-width little-endian fields,
 * values reduced modulo their valid range, and an input that runs out
 * simply yields zeros and ends the program (fin_done()).
 */
#ifndef VMMEM_FUZZ_INPUT_H
#define VMMEM_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * For the oracle's own search code (enumerating which TLB answers are legal,
 * undo logs, memory comparison): its branches say nothing about the code
 * under test, so it is kept out of the coverage map, and the fuzzer's time
 * and feedback go to core/ and the reference models. clang only (libFuzzer
 * and AFL++ builds); a no-op elsewhere.
 */
#if defined(__clang__)
#define FUZZ_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define FUZZ_NO_COVERAGE
#endif

/*
 * The version of the target's input encoding, defined once in each
 * fuzz/fuzz_<t>.c. Bump it in the same commit as any change to what the
 * bytes of an input mean (a decoder, a pool, an op table, the config
 * header); fuzz/README.md, "Input format versions", lists what else that
 * commit must do (corpus, golden decode traces).
 */
extern const unsigned fuzz_format_version;

typedef struct fuzz_input {
    const uint8_t *data;
    size_t size;
    size_t pos;
} fuzz_input_t;

static inline void fin_init(fuzz_input_t *in, const uint8_t *data, size_t size)
{
    in->data = data;
    in->size = size;
    in->pos = 0;
}

/* True once every byte has been consumed: the op loop stops here. */
static inline bool fin_done(const fuzz_input_t *in)
{
    return in->pos >= in->size;
}

static inline uint8_t fin_u8(fuzz_input_t *in)
{
    return in->pos < in->size ? in->data[in->pos++] : 0;
}

static inline uint16_t fin_u16(fuzz_input_t *in)
{
    uint16_t lo = fin_u8(in);
    return (uint16_t)(lo | (uint16_t)fin_u8(in) << 8);
}

static inline uint32_t fin_u32(fuzz_input_t *in)
{
    uint32_t lo = fin_u16(in);
    return lo | (uint32_t)fin_u16(in) << 16;
}

static inline uint64_t fin_u64(fuzz_input_t *in)
{
    uint64_t lo = fin_u32(in);
    return lo | (uint64_t)fin_u32(in) << 32;
}

/* A value in [0, n); n must be > 0. Modulo bias is irrelevant for fuzzing. */
static inline uint32_t fin_range(fuzz_input_t *in, uint32_t n)
{
    return n <= 256 ? fin_u8(in) % n : (n <= 65536 ? fin_u16(in) % n : fin_u32(in) % n);
}

static inline bool fin_bool(fuzz_input_t *in)
{
    return fin_u8(in) & 1;
}

/* One of the access sizes 1, 2, 4, 8. */
static inline uint8_t fin_size(fuzz_input_t *in)
{
    return (uint8_t)(1u << (fin_u8(in) & 3));
}

/*
 * v with one bit flipped, bit (next byte % width): two values of one input
 * can then differ in exactly one bit, whichever it is, so a core that
 * compares, masks or stores only part of a field is caught (fuzz/README.md,
 * "Value pools").
 */
static inline uint64_t fin_flip(fuzz_input_t *in, uint64_t v, unsigned width)
{
    return v ^ (UINT64_C(1) << (fin_u8(in) % width));
}

#endif /* VMMEM_FUZZ_INPUT_H */
