/*
 * test_sv57_rules.c - the RISC-V translation rules (rv_rules_common.h)
 * for Sv57: LEVELS = 5, 57-bit virtual addresses, satp.MODE = 10
 * (Priv. spec, "Sv57: Page-Based 57-bit Virtual-Memory System").
 * Every rule runs as test_sv57_<rule>; see the header for the rules.
 */
#include "rv_rules_common.h"

static const struct rv_mode rv_sv57 = {
    .name = "sv57",
    .mode = VM_PAGING_SV57,
    .satp_mode = 10,
    .levels = 5,
    .va_bits = 57,
};

int main(void)
{
    return rv_run_rules(&rv_sv57);
}
