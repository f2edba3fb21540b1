/*
 * test_sv48_rules.c - the RISC-V translation rules (rv_rules_common.h)
 * for Sv48: LEVELS = 4, 48-bit virtual addresses, satp.MODE = 9
 * (Priv. spec, "Sv48: Page-Based 48-bit Virtual-Memory System").
 * Every rule runs as test_sv48_<rule>; see the header for the rules.
 */
#include "rv_rules_common.h"

static const struct rv_mode rv_sv48 = {
    .name = "sv48",
    .mode = VM_PAGING_SV48,
    .satp_mode = 9,
    .levels = 4,
    .va_bits = 48,
};

int main(void)
{
    return rv_run_rules(&rv_sv48);
}
