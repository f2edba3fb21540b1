/*
 * errors.c - vm_strerror(): one static sentence per vm_err_t.
 *
 * A switch rather than a table indexed by the code: an out-of-range value
 * (a cast integer, a code from a newer header) can never index past the
 * end, and -Wswitch names any code added to vm_err_t without a message.
 */
#include "vmmem/types.h"

const char *vm_strerror(vm_err_t err)
{
    switch (err) {
    case VM_OK:
        return "success";
    case VM_ERR_INVALID_ADDRESS:
        return "physical address has no RAM or MMIO behind it, or address arithmetic overflows";
    case VM_ERR_PAGE_FAULT:
        return "page fault: address translation failed (see vm_mmu_last_fault)";
    case VM_ERR_ACCESS_FAULT:
        return "access fault: a page-table entry or data access hit no RAM or MMIO";
    case VM_ERR_ALIGNMENT_FAULT:
        return "misaligned access where natural alignment is required";
    case VM_ERR_INVALID_ARGUMENT:
        return "invalid argument: bad size, NULL pointer, bad length or bad flags";
    case VM_ERR_OUT_OF_MEMORY:
        return "host memory allocation failed";
    case VM_ERR_MMIO:
        return "MMIO error: region overlap, access straddling a region edge, "
               "misaligned device access, or device error";
    case VM_ERR_UNSUPPORTED:
        return "operation or paging mode not supported by this build";
    case VM_ERR_GP_FAULT:
        return "general-protection fault: non-canonical linear address (x86-64)";
    case VM_ERR__COUNT:
        break;
    }
    return "unknown error";
}
