/*
 * vmmem/pte.h - RISC-V page-table entry flag bits (Priv. spec, "Sv32",
 * Figure "Sv39 page table entry"); the same low 8 bits in Sv39/Sv48/Sv57.
 */
#ifndef VMMEM_PTE_H
#define VMMEM_PTE_H

#include <stdint.h>

#define VM_PTE_V (UINT64_C(1) << 0) /* valid */
#define VM_PTE_R (UINT64_C(1) << 1) /* readable */
#define VM_PTE_W (UINT64_C(1) << 2) /* writable */
#define VM_PTE_X (UINT64_C(1) << 3) /* executable */
#define VM_PTE_U (UINT64_C(1) << 4) /* user-mode accessible */
#define VM_PTE_G (UINT64_C(1) << 5) /* global mapping */
#define VM_PTE_A (UINT64_C(1) << 6) /* accessed */
#define VM_PTE_D (UINT64_C(1) << 7) /* dirty */

#define VM_PTE_RSW_SHIFT 8          /* bits 9:8, reserved for software: ignored */
#define VM_PTE_PPN_SHIFT 10         /* PPN in bits 53:10 */
#define VM_PTE_PPN_MASK (((UINT64_C(1) << 44) - 1) << VM_PTE_PPN_SHIFT)
#define VM_PTE_RESERVED_MASK (UINT64_C(0x3ff) << 54) /* 63:54: N, PBMT, reserved */

#endif /* VMMEM_PTE_H */
