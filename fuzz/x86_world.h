/*
 * x86_world.h - the world of fuzz_translate_x86 (x86_world.c): the core
 * machine in VM_PAGING_X86_64 and the reference x86-64 model side by side,
 * the decoding of each op, and the oracle that checks every answer.
 *
 * fuzz_translate_x86.c holds only LLVMFuzzerTestOneInput (AFL++ needs it in
 * the executable's own source); everything else is here, compiled once into
 * the target (not a fuzz_*.c: that name makes a target).
 */
#ifndef VMMEM_FUZZ_X86_WORLD_H
#define VMMEM_FUZZ_X86_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_input.h"

/* Number of ops the target decodes (opcode byte % X86W_N_OPS). */
#define X86W_N_OPS 16
/* Bytes of the config header. */
#define X86W_CONFIG_BYTES 6

/* Create every machine once (LLVMFuzzerInitialize). */
void x86w_init(void);
/* Decode the config header and reset the world; false if the input is too
 * short or the host is out of memory. */
bool x86w_setup(fuzz_input_t *in);
/* Decode and run one op (checked against the reference; traps on a mismatch). */
void x86w_op(uint8_t opcode, fuzz_input_t *in);
/* End of input: compare memory, then reset what the input touched. */
void x86w_teardown(void);

#endif /* VMMEM_FUZZ_X86_WORLD_H */
