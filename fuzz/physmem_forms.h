/*
 * physmem_forms.h - the three spellings of a MemoryAccess-form scalar
 * access (vmmem/physmem_inline.h): the function, the inline form through
 * pm and the inline form through a view taken afresh. One contract, so the
 * physical-memory fuzz targets (fuzz_physmem.c, fuzz_lrsc.c) drive them
 * in turn: which one an op uses follows from its number (fuzz_op_no), not
 * from the input's bytes, so the decoding - and every corpus file's
 * meaning - is the same as before the inline forms existed.
 * vmmem-conform's pread/pwrite name the form by a last operand
 * (conformance/runner/conform_phys.c); phys_form_vmc is that operand.
 */
#ifndef VMMEM_FUZZ_PHYSMEM_FORMS_H
#define VMMEM_FUZZ_PHYSMEM_FORMS_H

#include "vmmem/physmem_inline.h"

enum { PHYS_FORM_FUNCTION, PHYS_FORM_INLINE, PHYS_FORM_VIEW, PHYS_N_FORMS };

static const char *const phys_form_read_name[PHYS_N_FORMS] = {
    "vm_physmem_read", "vm_physmem_read_inline", "vm_physmem_view_read"};
static const char *const phys_form_write_name[PHYS_N_FORMS] = {
    "vm_physmem_write", "vm_physmem_write_inline", "vm_physmem_view_write"};
static const char *const phys_form_vmc[PHYS_N_FORMS] = {"", " inline", " view"};

/* The form of the op being decoded. */
static inline unsigned phys_form_of_op(unsigned op_no)
{
    return op_no % PHYS_N_FORMS;
}

static inline vm_err_t phys_read_form(vm_physmem_t *pm, unsigned form, uint64_t pa,
                                      unsigned size, uint64_t *v)
{
    if (form == PHYS_FORM_INLINE)
        return vm_physmem_read_inline(pm, pa, (uint8_t)size, v);
    if (form == PHYS_FORM_VIEW) {
        const vm_physmem_view_t view = vm_physmem_view(pm);
        return vm_physmem_view_read(&view, pa, (uint8_t)size, v);
    }
    return vm_physmem_read(pm, pa, (uint8_t)size, v);
}

static inline vm_err_t phys_write_form(vm_physmem_t *pm, unsigned form, uint64_t pa,
                                       unsigned size, uint64_t v)
{
    if (form == PHYS_FORM_INLINE)
        return vm_physmem_write_inline(pm, pa, v, (uint8_t)size);
    if (form == PHYS_FORM_VIEW) {
        const vm_physmem_view_t view = vm_physmem_view(pm);
        return vm_physmem_view_write(&view, pa, v, (uint8_t)size);
    }
    return vm_physmem_write(pm, pa, v, (uint8_t)size);
}

#endif /* VMMEM_FUZZ_PHYSMEM_FORMS_H */
