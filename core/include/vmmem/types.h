/*
 * vmmem/types.h - basic types, error codes and the export macro shared by
 * every vmmem component.
 */
#ifndef VMMEM_TYPES_H
#define VMMEM_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VMMEM_BUILDING) && defined(__GNUC__)
#define VM_API __attribute__((visibility("default")))
#else
#define VM_API
#endif

#if defined(__GNUC__)
#define VM_WUR __attribute__((warn_unused_result))
#else
#define VM_WUR
#endif

/* Guest virtual and guest physical addresses. */
typedef uint64_t vm_gva_t;
typedef uint64_t vm_gpa_t;

/* The kind of a memory access; selects permission bits and the fault cause. */
typedef enum vm_access {
    VM_ACCESS_READ = 0,
    VM_ACCESS_WRITE = 1,
    VM_ACCESS_EXEC = 2,
} vm_access_t;

/*
 * Every public function that can fail returns one of these. VM_OK is 0 so
 * `if (err)` reads naturally.
 */
typedef enum vm_err {
    VM_OK = 0,
    VM_ERR_INVALID_ADDRESS,  /* physical address (range) has no RAM/MMIO behind it,
                                or address arithmetic would overflow */
    VM_ERR_PAGE_FAULT,       /* translation failed: see vm_mmu_last_fault() */
    VM_ERR_ACCESS_FAULT,     /* PTE or data access hit no RAM/MMIO (PMA/PMP class) */
    VM_ERR_ALIGNMENT_FAULT,  /* misaligned where alignment is required */
    VM_ERR_INVALID_ARGUMENT, /* bad size, NULL pointer, bad length, bad flags */
    VM_ERR_OUT_OF_MEMORY,    /* host allocation failed */
    VM_ERR_MMIO,             /* MMIO: region overlap, straddled region edge,
                                misaligned device access, or device error */
    VM_ERR_UNSUPPORTED,      /* operation/mode not supported by this build */
    VM_ERR_GP_FAULT,         /* x86-64 general-protection fault: non-canonical
                                linear address (see vm_mmu_last_fault()) */
    VM_ERR__COUNT
} vm_err_t;

/* A static, human-readable description of err; never NULL. */
VM_API const char *vm_strerror(vm_err_t err);

#ifdef __cplusplus
}
#endif

#endif /* VMMEM_TYPES_H */
