/*
 * arm64_world.h - the world of fuzz_translate_arm64 (arm64_world.c): the
 * core machine and the reference AArch64 model side by side, the input
 * decoding of each op, and the oracle that checks every answer.
 *
 * fuzz_translate_arm64.c holds only LLVMFuzzerTestOneInput (AFL++ needs it
 * in the executable's own source); everything else is here, compiled once
 * into the target (not a fuzz_*.c: that name makes a target).
 */
#ifndef VMMEM_FUZZ_ARM64_WORLD_H
#define VMMEM_FUZZ_ARM64_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_input.h"

/* Number of ops the target decodes (opcode byte % A64W_N_OPS). */
#define A64W_N_OPS 16
/* Bytes of the config header. */
#define A64W_CONFIG_BYTES 8

/* Create every machine once (LLVMFuzzerInitialize). */
void a64w_init(void);
/* Decode the config header and reset the world; false if the input is too
 * short or the host is out of memory. */
bool a64w_setup(fuzz_input_t *in);
/* Decode and run one op (checked against the reference; traps on a mismatch). */
void a64w_op(uint8_t opcode, fuzz_input_t *in);
/* End of input: compare memory, then reset what the input touched. */
void a64w_teardown(void);

#endif /* VMMEM_FUZZ_ARM64_WORLD_H */
