/*
 * vmmem/vmmem.h - umbrella header: the whole public API of vmmem.
 */
#ifndef VMMEM_VMMEM_H
#define VMMEM_VMMEM_H

#include "vmmem/types.h"
#include "vmmem/physmem.h"
#include "vmmem/physmem_inline.h"
#include "vmmem/pte.h"
#include "vmmem/mmu.h"
#include "vmmem/mmu_inline.h"
#include "vmmem/x86_64.h"
#include "vmmem/arm64.h"
#include "vmmem/ptbuilder.h"

#define VMMEM_VERSION_MAJOR 0
#define VMMEM_VERSION_MINOR 1
#define VMMEM_VERSION_PATCH 0

#endif /* VMMEM_VMMEM_H */
