/*
 * test_sv39_rules.c - the RISC-V translation rules (rv_rules_common.h)
 * for Sv39: LEVELS = 3, 39-bit virtual addresses, satp.MODE = 8
 * (Priv. spec, "Sv39: Page-Based 39-bit Virtual-Memory System").
 * Every rule runs as test_sv39_<rule>; see the header for the rules.
 */
#include "rv_rules_common.h"

static const struct rv_mode rv_sv39 = {
    .name = "sv39",
    .mode = VM_PAGING_SV39,
    .satp_mode = 8,
    .levels = 3,
    .va_bits = 39,
};

int main(void)
{
    return rv_run_rules(&rv_sv39);
}
