/*
 * probe_arm64.S - the bare-metal AArch64 probe that answers one `check` per
 * run in QEMU's `virt` board (virtualization=on, so the core resets at EL2).
 *
 * Two 4 KiB pages, written by qemu_answer_arm64.py into QEMU RAM just past
 * the case's RAM (PROBE_PA), so no byte of the case's RAM is the probe's:
 *
 *   page 0 (offset 0x0000): the EL1 part and its vector table (at 0x800).
 *          It runs at EL1 at PROBE_VA, through the case's own translation
 *          tables: vmmem-gen maps PROBE_VA to PROBE_PA in every case (EL1
 *          executable, read-only, AF set), so the accesses are made by
 *          EL1 code under the case's registers.
 *   page 1 (offset 0x1000): the EL2 part and its vector table (at 0x1800).
 *          EL2 has stage 1 off (SCTLR_EL2.M = 0 from reset), so it runs at
 *          its PA whatever the case's tables hold: it loads the case's EL1
 *          registers and enters EL1 with ERET. Every run ends back at EL2
 *          (HVC from EL1) at `done`, the answerer's gdbstub breakpoint.
 *
 * Why EL2: the EL1 registers (SCTLR_EL1.M in particular) cannot be changed
 * by code that is itself translated by them without a mapping of that code
 * at VA = PA; QEMU 7.2's gdbstub cannot write system registers. EL2 code
 * never depends on the case.
 *
 *   in (set by the answerer with one `G` packet, pc = el2_entry):
 *     x0 = VA, x1 = kind (0 load, 1 store, 2 fetch), x2 = EL (0/1),
 *     x3 = PSTATE.PAN (0/1), x4 = TTBR0_EL1, x5 = TTBR1_EL1, x6 = TCR_EL1,
 *     x7 = SCTLR_EL1, x8 = PROBE_VA, x9 = the case's RAM base
 *   out (read with `g` at `done`):
 *     x20 = PAR_EL1 after the AT instruction (loads and stores)
 *     x21 = ESR_EL1 of an exception taken by the AT instruction itself (else 0)
 *     x22 = ESR_EL1 of the access's exception (else 0)
 *     x23 = FAR_EL1, x24 = ELR_EL1 of that exception
 *     x25 = the loaded word
 *     x26 = 1 the access completed, 2 it took an exception,
 *           3 an unexpected EL1 vector (x27 = its offset),
 *           4 an unexpected EL2 vector (x27 = its offset, x28 = ESR_EL2)
 *
 * The accesses. Loads and stores are first asked with the address
 * translation instructions (AT S1E1RP / S1E1WP at EL1, which apply
 * PSTATE.PAN - FEAT_PAN2 -, AT S1E0R / S1E0W for EL0), then made for real:
 * LDR / STR at EL1, LDTR / STTR at EL1 for EL0 (unprivileged: checked as
 * if at EL0 - Arm ARM C6.2, LDTR), so the hardware Access flag and dirty
 * state updates happen as for any access. A store writes the marker word
 * that is already there (computed from the PA AT returned), so data pages
 * never change. Fetches are made for real: BR to the VA at EL1, ERET to
 * EL0 at the VA; RAM holds BRK #page markers, so a successful fetch traps
 * at once with the page number in ESR.ISS.
 */
    .arch armv8.2-a
    .text
    .globl entry
entry:

/* ---- page 0: EL1, at PROBE_VA ------------------------------------------ */
el1_entry:
    cmp     x1, #2
    b.eq    el1_fetch
    cbnz    x1, el1_store
    cbz     x2, at_r0
    b       at_r1
el1_store:
    cbz     x2, at_w0
    b       at_w1

    /* The AT instructions, each followed by a branch: an exception taken
     * by one of them (a synchronous external abort on the walk may be
     * taken rather than reported in PAR_EL1) resumes at the next
     * instruction (el1_sync). */
at_block:
at_r1:
    at      s1e1rp, x0
    b       at_done
at_r0:
    at      s1e0r, x0
    b       at_done
at_w1:
    at      s1e1wp, x0
    b       at_done
at_w0:
    at      s1e0w, x0
    b       at_done
at_done:
    isb
    mrs     x20, par_el1
    cmp     x1, #1
    b.eq    do_store
    cbz     x2, ld_el0
    ldr     w25, [x0]
    b       access_done
ld_el0:
    ldtr    w25, [x0]
    b       access_done
do_store:
    /* The marker of the page AT found: BRK #((PA - RAM base) >> 12). */
    ubfx    x10, x20, #12, #36
    lsl     x10, x10, #12
    sub     x10, x10, x9
    lsr     x10, x10, #12
    and     x10, x10, #0xffff
    mov     w11, #0xd4200000
    orr     w11, w11, w10, lsl #5
    cbz     x2, st_el0
    str     w11, [x0]
    b       access_done
st_el0:
    sttr    w11, [x0]
access_done:
    mov     x26, #1
    hvc     #0

el1_fetch:
    cbz     x2, fetch_el0
    br      x0
fetch_el0:
    msr     elr_el1, x0
    mov     x10, #0x3c0             /* EL0t, DAIF masked */
    msr     spsr_el1, x10
    eret

/* Synchronous exceptions at EL1 (from EL1 or EL0). */
el1_sync:
    mrs     x10, esr_el1
    mrs     x11, elr_el1
    adr     x12, at_block
    adr     x13, at_done
    cmp     x11, x12
    b.lo    1f
    cmp     x11, x13
    b.hs    1f
    mov     x21, x10                /* taken by an AT instruction: resume after it */
    add     x11, x11, #4
    msr     elr_el1, x11
    eret
1:  mov     x22, x10
    mrs     x23, far_el1
    mov     x24, x11
    mov     x26, #2
    hvc     #0

el1_other:
    mov     x26, #3
    mrs     x28, esr_el1
    hvc     #0

/* The EL1 vector table: VBAR_EL1 = PROBE_VA + 0x800. */
    .balign 0x800, 0
el1_vectors:
    .irp    off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
    .balign 0x80, 0
    mov     x27, #\off
    .if     \off == 0x200 || \off == 0x400
    b       el1_sync
    .else
    b       el1_other
    .endif
    .endr

/* ---- page 1: EL2, at PROBE_PA + 0x1000 ----------------------------------- */
    .balign 0x1000, 0
el2_entry:
    mov     x10, #(1 << 31)         /* HCR_EL2.RW: EL1 is AArch64; no stage 2, no traps */
    msr     hcr_el2, x10
    adr     x10, el2_vectors
    msr     vbar_el2, x10
    mov     x10, #-1                /* MAIR_EL1: every AttrIndx is Normal write-back */
    msr     mair_el1, x10
    msr     ttbr0_el1, x4
    msr     ttbr1_el1, x5
    msr     tcr_el1, x6
    add     x10, x8, #0x800
    msr     vbar_el1, x10
    msr     sctlr_el1, x7
    isb
    tlbi    vmalle1                 /* every check starts from an empty TLB */
    dsb     nsh
    isb
    mov     x10, #0x3c5             /* SPSR_EL2: EL1h, DAIF masked, PAN from x3 */
    orr     x10, x10, x3, lsl #22
    msr     spsr_el2, x10
    msr     elr_el2, x8             /* el1_entry is at offset 0 of page 0 */
    mov     x20, #0
    mov     x21, #0
    mov     x22, #0
    mov     x23, #0
    mov     x24, #0
    mov     x25, #0
    mov     x26, #0
    mov     x27, #0
    mov     x28, #0
    eret

el2_hvc:
    mrs     x10, esr_el2
    lsr     x10, x10, #26
    cmp     x10, #0x16              /* EC 0x16: HVC from AArch64 */
    b.ne    el2_other
done:
    b       done                    /* the answerer's breakpoint */

el2_other:
    mrs     x28, esr_el2
    mov     x26, #4
    b       done

/* The EL2 vector table: VBAR_EL2 = PROBE_PA + 0x1800. */
    .balign 0x800, 0
el2_vectors:
    .irp    off, 0x000, 0x080, 0x100, 0x180, 0x200, 0x280, 0x300, 0x380, 0x400, 0x480, 0x500, 0x580, 0x600, 0x680, 0x700, 0x780
    .balign 0x80, 0
    mov     x27, #\off
    .if     \off == 0x400
    b       el2_hvc
    .else
    b       el2_other
    .endif
    .endr
