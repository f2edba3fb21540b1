/*
 * ref_common.c - names and exception causes shared by the reference models.
 *
 * The cause numbers come from the Privileged spec's mcause table
 * ("Supervisor cause register (scause) values after trap"): fetch/load/
 * store-AMO address misaligned 0/4/6, access fault 1/5/7, page fault
 * 12/13/15. They are written out here rather than taken from
 * vmmem/mmu.h so that the reference shares nothing with core/.
 */
#include "ref_model.h"

/* The spelling used in .vmc files and in every mismatch report. */
const char *ref_outcome_name(int outcome)
{
    switch (outcome) {
    case REF_OK: return "ok";
    case REF_PAGE_FAULT: return "page-fault";
    case REF_ACCESS_FAULT: return "access-fault";
    case REF_MISALIGNED: return "misaligned";
    default: return "?";
    }
}

/*
 * RISC-V exception cause for (outcome, access); -1 for REF_OK or for an
 * outcome/access this table does not know.
 */
int ref_cause(int outcome, int access)
{
    /* Index by access: READ, WRITE, EXEC (Priv. spec, scause table). */
    static const int misaligned[3] = { 4, 6, 0 };
    static const int access_fault[3] = { 5, 7, 1 };
    static const int page_fault[3] = { 13, 15, 12 };

    if (access < REF_READ || access > REF_EXEC)
        return -1;
    switch (outcome) {
    case REF_MISALIGNED: return misaligned[access];
    case REF_ACCESS_FAULT: return access_fault[access];
    case REF_PAGE_FAULT: return page_fault[access];
    default: return -1;
    }
}
