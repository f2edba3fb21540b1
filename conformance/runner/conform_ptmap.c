/*
 * conform_ptmap.c - the page-table builder (vmmem/ptbuilder.h) as
 * vmmem-conform lines, with a model of its contract on the reference side.
 *
 *   ptbuilder NEXT                                   vm_ptbuilder_init(NEXT): tables come from here
 *   expect ptmap sv39|sv48|sv57 VA PA SIZE FLAGS ROOT -> ok | invalid-argument | invalid-address
 *
 * The model, from ptbuilder.h: SIZE is 4K, 2M, 1G or 512G (a level the
 * mode has); FLAGS are PTE bits 7:0 describing a leaf (R or X, W only with
 * R); VA canonical and aligned to SIZE, PA aligned and below 2^56, ROOT
 * 4 KiB aligned - else invalid-argument. Then the tree is walked from ROOT
 * to the target level: a valid PTE without R/X is a pointer and is followed
 * whatever its other bits, a valid leaf above the target is
 * invalid-argument, an invalid PTE makes the builder take the next table
 * page; a PTE slot or a new table outside RAM is invalid-address. Nothing
 * changes on an error. On success every new table is zeroed and linked
 * (top-down) by a pointer PTE (V and the PPN only), then the leaf is
 * written as (PA >> 12) << 10 | FLAGS | V, and the builder's next page
 * moves past the tables taken. The line checks the answer, the builder's
 * next page, and every byte the call may have written, core vs reference;
 * those writes break reservations like any RAM write.
 *
 * Rejected: writing a finding's page tables as raw `w64` lines only: a
 * builder call is one line a reader recognises ("map VA to PA, RWX"), and
 * a bug in the builder itself could not be replayed.
 */
#include "conform_ext_int.h"

#include <stdio.h>
#include <string.h>

#define PAGE 4096u

typedef struct ptmap_plan {
    vm_err_t err;
    int levels, target;
    uint64_t slot[REF_MAX_LEVELS];
    uint64_t new_table[REF_MAX_LEVELS];
    bool is_new[REF_MAX_LEVELS];
    uint64_t next;
} ptmap_plan_t;

static int target_of(uint64_t size)
{
    switch (size) {
    case UINT64_C(1) << 12: return 0;
    case UINT64_C(1) << 21: return 1;
    case UINT64_C(1) << 30: return 2;
    case UINT64_C(1) << 39: return 3;
    default: return -1;
    }
}

static bool canonical(uint64_t va, int levels)
{
    int bits = 12 + 9 * levels;
    int64_t sv = (int64_t)(va << (64 - bits)) >> (64 - bits);
    return (uint64_t)sv == va;
}

static uint64_t ref_u64(const conform_view_t *v, uint64_t pa)
{
    return conform_ref_load(v, pa, 8);
}

static void plan_map(const conform_view_t *v, int levels, uint64_t va, uint64_t pa, uint64_t size,
                     uint64_t flags, uint64_t root, ptmap_plan_t *p)
{
    memset(p, 0, sizeof *p);
    p->levels = levels;
    p->next = v->ext->ref_next;
    p->target = target_of(size);
    bool leaf_flags = (flags >> 8) == 0 && (flags & 0xa) != 0 && !((flags & 4) && !(flags & 2));
    if (p->target < 0 || p->target >= levels || !leaf_flags || (root & (PAGE - 1)) ||
        (va & (size - 1)) || (pa & (size - 1)) || (pa >> 56) || !canonical(va, levels)) {
        p->err = VM_ERR_INVALID_ARGUMENT;
        return;
    }
    uint64_t table = root;
    bool fresh = false;
    for (int i = levels - 1; i >= p->target; i--) {
        p->slot[i] = table + ((va >> (12 + 9 * i)) & 0x1ff) * 8;
        if (!fresh && !ref_mem_in_ram(v->mem, p->slot[i], 8)) {
            p->err = VM_ERR_INVALID_ADDRESS;
            return;
        }
        if (i == p->target)
            break;
        uint64_t pte = fresh ? 0 : ref_u64(v, p->slot[i]);
        if (pte & 1) {
            if (pte & 0xa) {   /* R or X: a leaf above the target level */
                p->err = VM_ERR_INVALID_ARGUMENT;
                return;
            }
            table = ((pte >> 10) & ((UINT64_C(1) << 44) - 1)) << 12;
            fresh = false;
            continue;
        }
        if (p->next > UINT64_MAX - PAGE || !ref_mem_in_ram(v->mem, p->next, PAGE)) {
            p->err = VM_ERR_INVALID_ADDRESS;
            return;
        }
        p->new_table[i] = p->next;
        p->is_new[i] = true;
        table = p->next;
        p->next += PAGE;
        fresh = true;
    }
    p->err = VM_OK;
}

static void ref_store_u64(const conform_view_t *v, uint64_t pa, uint64_t x)
{
    uint8_t b[8];
    for (unsigned i = 0; i < 8; i++)
        b[i] = (uint8_t)(x >> (8 * i));
    conform_ref_write(v, pa, b, 8);
}

static int line_ptmap(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    uint64_t va, pa, size, flags, root;
    int levels = 0;
    if (ntok >= 3)
        levels = !strcmp(tok[2], "sv39") ? 3 : !strcmp(tok[2], "sv48") ? 4
               : !strcmp(tok[2], "sv57") ? 5 : 0;
    conform_alts_t alts;
    if (ntok < 9 || !levels || !conform_parse_u64(tok[3], &va) || !conform_parse_u64(tok[4], &pa) ||
        !conform_parse_size(tok[5], &size) || !conform_parse_u64(tok[6], &flags) ||
        !conform_parse_u64(tok[7], &root))
        return conform_malformed(v, "expected: expect ptmap sv39|sv48|sv57 VA PA SIZE FLAGS ROOT "
                                    "-> ANSWER");
    if (!ext->builder_set)
        return conform_malformed(v, "ptmap before any 'ptbuilder NEXT' line");
    if (conform_parse_alts(v, tok, ntok, 8, &alts))
        return CONFORM_ERROR;

    ptmap_plan_t p;
    plan_map(v, levels, va, pa, size, flags, root, &p);
    vm_err_t got = VM_OK;
    uint64_t core_next = p.next;
    if (*v->core) {
        static const vm_paging_mode_t modes[6] = {VM_PAGING_BARE, VM_PAGING_BARE, VM_PAGING_BARE,
                                                  VM_PAGING_SV39, VM_PAGING_SV48, VM_PAGING_SV57};
        got = vm_ptbuilder_map(&ext->builder, *v->core, modes[levels], va, pa, size, flags, root);
        core_next = ext->builder.next;
    }
    if (p.err == VM_OK) {
        static const uint8_t zero[PAGE];
        for (int i = levels - 1; i > p.target; i--) {
            if (!p.is_new[i])
                continue;
            conform_ref_write(v, p.new_table[i], zero, PAGE);
            ref_store_u64(v, p.slot[i], 1 | (p.new_table[i] >> 12) << 10);
        }
        ref_store_u64(v, p.slot[p.target], (pa >> 12) << 10 | flags | 1);
        ext->ref_next = p.next;
    }
    char msg[200];
    const char *extra = NULL;
    if (*v->core && core_next != ext->ref_next) {
        snprintf(msg, sizeof msg, "the builder's next table page is 0x%llx in the core, 0x%llx in "
                                  "the reference",
                 (unsigned long long)core_next, (unsigned long long)ext->ref_next);
        extra = msg;
    }
    for (int i = levels - 1; p.target >= 0 && i >= p.target && !extra; i--) {
        if (p.is_new[i])
            extra = conform_ram_compare(v, p.new_table[i], PAGE, msg, sizeof msg);
        if (!extra && p.slot[i])
            extra = conform_ram_compare(v, p.slot[i], 8, msg, sizeof msg);
    }
    conform_judge(v, &alts, conform_err_name(p.err), conform_err_name(got), extra);
    return CONFORM_DONE;
}

int conform_ptmap_line(const conform_view_t *v, char **tok, int ntok)
{
    conform_ext_t *ext = v->ext;
    if (!strcmp(tok[0], "ptbuilder")) {
        uint64_t next;
        if (ntok != 2 || !conform_parse_u64(tok[1], &next) || (next & (PAGE - 1)))
            return conform_malformed(v, "expected: ptbuilder NEXT (a 4 KiB-aligned address)");
        vm_ptbuilder_init(&ext->builder, next);
        ext->ref_next = next;
        ext->builder_set = true;
        return CONFORM_DONE;
    }
    if (!strcmp(tok[0], "expect") && ntok > 1 && !strcmp(tok[1], "ptmap"))
        return line_ptmap(v, tok, ntok);
    return CONFORM_NOT_MINE;
}
