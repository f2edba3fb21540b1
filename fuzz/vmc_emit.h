/*
 * vmc_emit.h - a fuzz input's scenario written as a .vmc case
 * (conformance/README.md, "The .vmc format"), so that a finding becomes a
 * readable case that vmmem-conform replays on the core and the reference,
 * independent of the fuzz input's byte encoding.
 *
 * Use: `<t>_replay --vmc OUT.vmc INPUT` (replay_main.c) asks for the next
 * input's scenario. Each op of a target calls vmc_line() with the line(s)
 * that perform it and state what the reference models expect of it,
 * computed before the core is called; the expectation the oracle then finds
 * violated is therefore the reference's answer, and the case fails on the
 * buggy core and passes on a correct one. When the input ends the lines are
 * written; on a mismatch (fm_fail, mismatch) they are written with the
 * oracle's message as a comment after the last line.
 *
 * Cost when not asked for: each op tests vmc_on() (a global pointer), and
 * nothing else runs; fuzzing never asks.
 *
 * A target's own op-to-line code: vmc_emit_rv.c for the MMU targets
 * (fuzz_translate, fuzz_mmu_access), inline in fuzz_physmem.c and
 * fuzz_lrsc.c. See fuzz/README.md for adding another target.
 */
#ifndef VMMEM_FUZZ_VMC_EMIT_H
#define VMMEM_FUZZ_VMC_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmmem/types.h"

struct vmc_out;
extern struct vmc_out *vmc_current;

/* Is a scenario being written for the current input? */
static inline bool vmc_on(void)
{
    return vmc_current != NULL;
}

/* replay_main.c: write the next input's scenario to path (once). */
void vmc_request(const char *path, const char *input_name);
/* A target, at the start of an input: begin if a scenario was requested. */
void vmc_start(const char *target);
/* One line of the case (no newline). */
void vmc_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The input ended: write the case. */
void vmc_finish(void);
/*
 * A write (store, SC, bulk write) listed several legal answers: the fuzz
 * world follows the core's choice, vmmem-conform --ref-only the fresh
 * one, so memory may differ between them from here on and the case states
 * no further read value (`= V`); with the core the runner still compares
 * every value read with its reference, which follows the core's choice.
 */
void vmc_note_divergence(void);
bool vmc_diverged(void);
/* The oracle found a mismatch: write the case with the message after the last line. */
void vmc_mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- answers -------------------------------------------------------- */
#define VMC_MAX_ALTS 8
typedef struct vmc_alts {
    char text[VMC_MAX_ALTS][48];
    int n;
} vmc_alts_t;
/* Add an alternative (duplicates and those past VMC_MAX_ALTS are dropped). */
void vmc_alts_add(vmc_alts_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "A | B | C" */
const char *vmc_alts_text(const vmc_alts_t *a, char *buf, size_t len);
/* vm_err_t as an answer word: ok, invalid-address, mmio, ... */
const char *vmc_err_name(vm_err_t e);
/* Every error of a set of (1u << vm_err_t) bits, as alternatives. */
void vmc_alts_errs(vmc_alts_t *a, unsigned mask);
/* The .vmc `pattern S` data generator: byte i of the data is vmc_pattern_byte(S + i),
 * P(k) = (13 k + (k >> 8) + 7 (k >> 16) + 1) mod 256, no period below 16 MiB. */
static inline uint8_t vmc_pattern_byte(uint64_t k)
{
    return (uint8_t)(k * 13 + (k >> 8) + 7 * (k >> 16) + 1);
}

#endif /* VMMEM_FUZZ_VMC_EMIT_H */
