/*
 * probe_rv64.S - the bare-metal RISC-V probe that answers one `check` per run.
 *
 * It lives in QEMU virt's mask ROM (PA 0x1000..0xffff, written there through
 * the gdbstub), never in RAM: every RAM byte belongs to the case. It keeps no
 * data in memory; the answerer (qemu_answer.py) passes the inputs in
 * registers, sets pc to `entry`, continues, and reads the outputs from the
 * registers when the hart reaches `done` (a gdbstub breakpoint). Runs in
 * M-mode; medeleg = 0, so every trap of the access comes back here.
 *
 *   in:  a0 = VA, a1 = kind (0 load, 1 store, 2 fetch), a2 = satp,
 *        a3 = mstatus bits to set among MPRV|MPP|SUM|MXR, a4 = store value
 *   out: a5 = mcause (-1: no trap), a6 = mtval, a7 = loaded word / mepc
 *
 * Load and store: with mstatus.MPRV=1 and MPP = the case's privilege, an
 * M-mode lw/sw is translated and checked as if made in that privilege with
 * the current SUM/MXR (Priv. spec, mstatus "Memory Privilege"). Fetch: mepc =
 * VA, MPP = the case's privilege, mret: the hart really fetches at VA in
 * that mode. The answerer fills RAM with marker words that are illegal
 * instructions, so a successful fetch traps with cause 2 and mtval = the
 * marker, which names the PA it came from.
 */
    .option norvc
    .text
    .globl entry
entry:
    la      t0, trap
    csrw    mtvec, t0
    li      t1, -1              /* PMP entry 0: NAPOT over the whole space, RWX, */
    csrw    pmpaddr0, t1        /* so S/U accesses pass PMP as with any firmware */
    li      t1, 0x1f
    csrw    pmpcfg0, t1
    csrw    satp, a2
    sfence.vma zero, zero
    li      t1, 0xe1800         /* MXR (19) | SUM (18) | MPRV (17) | MPP (12:11) */
    csrc    mstatus, t1
    csrs    mstatus, a3
    li      a5, -1
    li      a6, 0
    li      a7, 0
    beqz    a1, do_load
    addi    t2, a1, -1
    beqz    t2, do_store
    csrw    mepc, a0            /* fetch: enter the case's mode at VA */
    mret
do_load:
    lw      a7, 0(a0)
    j       finish
do_store:
    sw      a4, 0(a0)
finish:
    li      t1, 0x20000         /* MPRV off again */
    csrc    mstatus, t1
done:
    j       done                /* the answerer's breakpoint */

    .balign 4
trap:
    csrr    a5, mcause
    csrr    a6, mtval
    csrr    a7, mepc
    j       finish
