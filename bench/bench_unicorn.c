/*
 * bench_unicorn.c - QEMU's soft-MMU, as packaged by Unicorn 2.0.1 (Debian
 * libunicorn-dev), as a column of bench_vs_qemu: a RISC-V RV64 guest running
 * in S-mode under Sv39 executes the same chase and streams that vmmem and the
 * native twin run (bench_translated.c), over the same page tables and bytes
 * (bench_world.c: Unicorn's RAM is the world's image, mapped with
 * uc_mem_map_ptr).
 *
 * Entering S-mode: Unicorn starts the hart in M-mode. The host writes
 * mstatus.MPP = S (bits 12:11 = 01), mepc = the landing VA and satp (Sv39,
 * root) through uc_reg_write - CSR ids UC_RISCV_REG_MSTATUS / _MEPC / _SATP
 * of <unicorn/riscv.h>, which Unicorn routes through QEMU's CSR write
 * (riscv_csrrw) with the hart's current privilege - and runs a one-word stub
 * at PA 0 holding `mret`: mret sets priv = MPP and pc = mepc (Priv. spec,
 * "Trap-Return Instructions"), so the next fetch is translated.
 *
 * Unicorn quirk, and the workaround: Unicorn 2.0.1 checks the *virtual*
 * address of every slow-path load, store and fetch against its list of
 * mapped regions (UC_ERR_READ_UNMAPPED / _FETCH_UNMAPPED otherwise, without
 * ever walking the page table), so the guest's VA window
 * [BW_VA_START, BW_VA_END) is also mapped as a zero-filled region. That
 * region is never what a translated access reads: bench_unicorn_verify()
 * shows that a load from BW_MAGIC_VA returns the magic at BW_MAGIC_PA while
 * the shadow region holds zero there, and that unmapped, read-only and user
 * pages fault as Sv39 says. The region lookup stays in Unicorn's slow path
 * (TLB refill), i.e. it is part of what "QEMU (Unicorn)" costs per miss.
 *
 * Proof of S-mode, since Unicorn 2.0.1 has no privilege register: (1) `csrr
 * t0, mstatus` raises illegal instruction (cause 2), so priv < M; (2) a load
 * from a U=0 page succeeds while a load from a U=1 page faults with SUM=0,
 * which is S-mode behaviour (U-mode would do the opposite; M-mode does not
 * translate at all); (3) satp reads back as written.
 *
 * Exceptions: Unicorn does not deliver guest traps to mtvec; it calls the
 * UC_HOOK_INTR hook with the exception number (QEMU's cause) and, when the
 * hook stops the emulation, returns. The verification installs such a hook;
 * the timed runs have none (a fault there ends the run early, which the
 * loop-counter check catches).
 *
 * Timing: every uc_emu_start() run starts at a program's first instruction
 * and stops at its end address (`until`). Unicorn flushes its translated
 * code at the end of each uc_emu_start, so every run translates its loop
 * again (a few microseconds against runs of 1-20 M accesses; callgrind's
 * two-length difference cancels it exactly).
 */
#include "bench.h"
#include "bench_rv64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicorn/unicorn.h>

/* Offsets of the S-mode programs inside the code page (VA BW_CODE_VA). */
enum {
    PROG_CHASE = 0x000, PROG_CHASE_END = 0x00c,
    PROG_SEQ = 0x040, PROG_SEQ_END = 0x05c,
    PROG_RAND = 0x080, PROG_RAND_END = 0x0a4,
    PROG_SFENCE = 0x0c0, PROG_SFENCE_END = 0x0c4,
    PROG_LOAD = 0x100, PROG_LOAD_END = 0x104,
    PROG_STORE = 0x140, PROG_STORE_END = 0x144,
    PROG_CSR = 0x180, PROG_CSR_END = 0x184,
    PROG_LANDING = 0x1c0,
};

/* QEMU's RISC-V exception numbers as the INTR hook reports them (= mcause). */
enum {
    EXC_ILLEGAL_INSN = 2,
    EXC_LOAD_PAGE_FAULT = 13,
    EXC_STORE_PAGE_FAULT = 15,
};

/* How many chase+sfence.vma rounds grow QEMU's TLB for the grown row: QEMU
 * resizes a TLB only when it is flushed, doubling it when more than 70 % of
 * it was in use (accel/tcg/cputlb.c, tlb_mmu_resize_locked), from 256
 * entries; 4096 pages need 5 doublings, 8 leave margin. */
enum { GROW_ROUNDS = 8 };

static bool check_encoders(void)
{
    /* Hand-checked against the base formats: ld a0,0(a0); sd a2,0(a0);
     * csrr t0,mstatus; bnez a1,-8 (= bne a1,x0,-8). */
    return rv_ld(RV_A0, RV_A0, 0) == 0x00053503u && rv_sd(RV_A2, RV_A0, 0) == 0x00c53023u &&
           rv_csrr(RV_T0, RV_CSR_MSTATUS) == 0x300022f3u &&
           rv_bne(RV_A1, RV_ZERO, -8) == 0xfe059ce3u;
}

static bool put(struct bench_world *w, uint64_t off, uint32_t insn)
{
    return bw_write_both(w, BW_CODE_PA + off, &insn, sizeof insn);
}

/* The stub and the S-mode programs, written into both guest copies. */
static bool install_code(struct bench_world *w)
{
    uint32_t mret = RV_MRET;
    bool ok = check_encoders() && bw_write_both(w, BW_STUB_PA, &mret, sizeof mret);
    /* chase: a0 = slot VA, a1 = count */
    ok = ok && put(w, PROG_CHASE + 0x0, rv_ld(RV_A0, RV_A0, 0))       /* ld   a0, 0(a0)   */
            && put(w, PROG_CHASE + 0x4, rv_addi(RV_A1, RV_A1, -1))    /* addi a1, a1, -1  */
            && put(w, PROG_CHASE + 0x8, rv_bne(RV_A1, RV_ZERO, -8))   /* bnez a1, chase   */
            && put(w, PROG_CHASE_END, RV_NOP);
    /* sequential: s0 = base, t0 = offset, s1 = sum, s2 = 64 MiB - 1, a1 = count */
    ok = ok && put(w, PROG_SEQ + 0x00, rv_add(RV_T1, RV_S0, RV_T0))   /* add  t1, s0, t0  */
            && put(w, PROG_SEQ + 0x04, rv_ld(RV_T2, RV_T1, 0))        /* ld   t2, 0(t1)   */
            && put(w, PROG_SEQ + 0x08, rv_add(RV_S1, RV_S1, RV_T2))   /* add  s1, s1, t2  */
            && put(w, PROG_SEQ + 0x0c, rv_addi(RV_T0, RV_T0, 8))      /* addi t0, t0, 8   */
            && put(w, PROG_SEQ + 0x10, rv_and(RV_T0, RV_T0, RV_S2))   /* and  t0, t0, s2  */
            && put(w, PROG_SEQ + 0x14, rv_addi(RV_A1, RV_A1, -1))     /* addi a1, a1, -1  */
            && put(w, PROG_SEQ + 0x18, rv_bne(RV_A1, RV_ZERO, -24))   /* bnez a1, seq     */
            && put(w, PROG_SEQ_END, RV_NOP);
    /* random: t0 = LCG state, s3 = A, s4 = C, s2 = 64 MiB - 8, s0 = base, s1 = sum */
    ok = ok && put(w, PROG_RAND + 0x00, rv_mul(RV_T0, RV_T0, RV_S3))  /* mul  t0, t0, s3  */
            && put(w, PROG_RAND + 0x04, rv_add(RV_T0, RV_T0, RV_S4))  /* add  t0, t0, s4  */
            && put(w, PROG_RAND + 0x08, rv_srli(RV_T1, RV_T0, 32))    /* srli t1, t0, 32  */
            && put(w, PROG_RAND + 0x0c, rv_and(RV_T1, RV_T1, RV_S2))  /* and  t1, t1, s2  */
            && put(w, PROG_RAND + 0x10, rv_add(RV_T1, RV_T1, RV_S0))  /* add  t1, t1, s0  */
            && put(w, PROG_RAND + 0x14, rv_ld(RV_T2, RV_T1, 0))       /* ld   t2, 0(t1)   */
            && put(w, PROG_RAND + 0x18, rv_add(RV_S1, RV_S1, RV_T2))  /* add  s1, s1, t2  */
            && put(w, PROG_RAND + 0x1c, rv_addi(RV_A1, RV_A1, -1))    /* addi a1, a1, -1  */
            && put(w, PROG_RAND + 0x20, rv_bne(RV_A1, RV_ZERO, -32))  /* bnez a1, rand    */
            && put(w, PROG_RAND_END, RV_NOP);
    ok = ok && put(w, PROG_SFENCE, RV_SFENCE_VMA_ALL)                 /* sfence.vma x0,x0 */
            && put(w, PROG_SFENCE_END, RV_NOP);
    ok = ok && put(w, PROG_LOAD, rv_ld(RV_A0, RV_A0, 0))              /* ld   a0, 0(a0)   */
            && put(w, PROG_LOAD_END, RV_NOP);
    ok = ok && put(w, PROG_STORE, rv_sd(RV_A2, RV_A0, 0))             /* sd   a2, 0(a0)   */
            && put(w, PROG_STORE_END, RV_NOP);
    ok = ok && put(w, PROG_CSR, rv_csrr(RV_T0, RV_CSR_MSTATUS))       /* csrr t0, mstatus */
            && put(w, PROG_CSR_END, RV_NOP);
    ok = ok && put(w, PROG_LANDING, RV_NOP);
    if (!ok)
        fprintf(stderr, "bench: writing the RISC-V programs failed (or an encoder is wrong)\n");
    return ok;
}

static bool uc_ok(uc_err e, const char *what)
{
    if (e == UC_ERR_OK)
        return true;
    fprintf(stderr, "bench: unicorn %s: %s\n", what, uc_strerror(e));
    return false;
}

static bool set_x(uc_engine *uc, unsigned reg, uint64_t v)
{
    return uc_ok(uc_reg_write(uc, UC_RISCV_REG_X0 + (int)reg, &v), "reg_write");
}

static uint64_t get_x(uc_engine *uc, unsigned reg)
{
    uint64_t v = 0;
    uc_reg_read(uc, UC_RISCV_REG_X0 + (int)reg, &v);
    return v;
}

static uint64_t get_reg(uc_engine *uc, int id)
{
    uint64_t v = 0;
    uc_reg_read(uc, id, &v);
    return v;
}

/* Run the program at code offset `from` until `to`; the run must end there. */
static bool run_prog(uc_engine *uc, unsigned from, unsigned to)
{
    if (!uc_ok(uc_emu_start(uc, BW_CODE_VA + from, BW_CODE_VA + to, 0, 0), "emu_start"))
        return false;
    uint64_t pc = get_reg(uc, UC_RISCV_REG_PC);
    if (pc != BW_CODE_VA + to) {
        fprintf(stderr, "bench: unicorn stopped at 0x%llx, not at 0x%llx\n",
                (unsigned long long)pc, (unsigned long long)(BW_CODE_VA + to));
        return false;
    }
    return true;
}

/* A fresh hart over the world's image, mapped RAM only (for uc_mem_read). */
static uc_engine *open_ram(struct bench_world *w)
{
    uc_engine *uc = NULL;
    if (!uc_ok(uc_open(UC_ARCH_RISCV, UC_MODE_RISCV64, &uc), "open"))
        return NULL;
    if (!uc_ok(uc_mem_map_ptr(uc, 0, BW_RAM_SIZE, UC_PROT_ALL, w->image), "mem_map_ptr")) {
        uc_close(uc);
        return NULL;
    }
    return uc;
}

/* A fresh hart in S-mode with satp = the world's Sv39 root, at the landing pad. */
static uc_engine *open_smode(struct bench_world *w, uint64_t *mstatus_written)
{
    if (!install_code(w))
        return NULL;
    uc_engine *uc = open_ram(w);
    if (!uc)
        return NULL;
    const uint64_t mpp_s = UINT64_C(1) << 11; /* mstatus.MPP (12:11) = 01: S */
    const uint64_t landing = BW_CODE_VA + PROG_LANDING;
    bool ok = uc_ok(uc_mem_map(uc, BW_VA_START, BW_VA_END - BW_VA_START, UC_PROT_ALL),
                    "mem_map (VA shadow)") &&
              uc_ok(uc_reg_write(uc, UC_RISCV_REG_MSTATUS, &mpp_s), "write mstatus") &&
              uc_ok(uc_reg_write(uc, UC_RISCV_REG_MEPC, &landing), "write mepc") &&
              uc_ok(uc_reg_write(uc, UC_RISCV_REG_SATP, &w->satp), "write satp");
    /* Read back while still in M-mode (QEMU refuses M-level CSR reads below M). */
    uint64_t mstatus = get_reg(uc, UC_RISCV_REG_MSTATUS);
    if (mstatus_written)
        *mstatus_written = mstatus;
    ok = ok && (mstatus >> 11 & 3) == 1 && get_reg(uc, UC_RISCV_REG_SATP) == w->satp;
    ok = ok && uc_ok(uc_emu_start(uc, BW_STUB_PA, landing, 0, 0), "emu_start (mret)") &&
         get_reg(uc, UC_RISCV_REG_PC) == landing;
    if (!ok) {
        fprintf(stderr, "bench: unicorn did not enter S-mode with satp 0x%llx\n",
                (unsigned long long)w->satp);
        uc_close(uc);
        return NULL;
    }
    return uc;
}

/* ---- the engine ------------------------------------------------------------ */

static bool run_pattern(uc_engine *uc, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    if (n == 0) { /* the guest loop counts down to zero: it needs n >= 1 */
        *check = 0;
        return true;
    }
    bool ok = set_x(uc, RV_A1, n);
    unsigned from = 0, to = 0, result = RV_S1;
    switch (p->kind) {
    case BENCH_CHASE:
        ok = ok && set_x(uc, RV_A0, bw_slot_va(0));
        from = PROG_CHASE, to = PROG_CHASE_END, result = RV_A0;
        break;
    case BENCH_SEQ:
        ok = ok && set_x(uc, RV_S0, bench_stream_base(p)) && set_x(uc, RV_T0, 0) &&
             set_x(uc, RV_S1, 0) && set_x(uc, RV_S2, BW_DATA_SIZE - 1);
        from = PROG_SEQ, to = PROG_SEQ_END;
        break;
    case BENCH_RAND:
        ok = ok && set_x(uc, RV_S0, bench_stream_base(p)) && set_x(uc, RV_T0, BW_LCG_SEED) &&
             set_x(uc, RV_S1, 0) && set_x(uc, RV_S2, BW_DATA_SIZE - 8) &&
             set_x(uc, RV_S3, BW_LCG_A) && set_x(uc, RV_S4, BW_LCG_C);
        from = PROG_RAND, to = PROG_RAND_END;
        break;
    }
    if (!ok || !run_prog(uc, from, to))
        return false;
    if (get_x(uc, RV_A1) != 0) {
        fprintf(stderr, "bench: unicorn run ended with %llu accesses left\n",
                (unsigned long long)get_x(uc, RV_A1));
        return false;
    }
    uint64_t r = get_x(uc, result);
    *check = p->kind == BENCH_CHASE ? (r - BW_DATA_VA) / BW_PAGE : r;
    return true;
}

static bool unicorn_prepare(struct bench_world *w, const struct bench_pattern *p, void **state,
                            const char **why)
{
    (void)why;
    uc_engine *uc = open_smode(w, NULL);
    if (!uc)
        return false;
    /* The grown row: chase, then sfence.vma, until QEMU's TLB has doubled
     * past the chase (see GROW_ROUNDS). */
    for (unsigned r = 0; p->grow_tlb && r < GROW_ROUNDS; r++) {
        uint64_t check;
        if (!run_pattern(uc, p, p->pages, &check) || !run_prog(uc, PROG_SFENCE, PROG_SFENCE_END)) {
            uc_close(uc);
            return false;
        }
    }
    *state = uc;
    return true;
}

static bool unicorn_run(void *state, const struct bench_pattern *p, uint64_t n, uint64_t *check)
{
    return run_pattern(state, p, n, check);
}

static void unicorn_finish(void *state)
{
    uc_close(state);
}

const struct bench_engine bench_engine_unicorn = {
    "qemu", "QEMU (Unicorn)", unicorn_prepare, unicorn_run, unicorn_finish,
};

/* ---- proof that the guest runs in S-mode under Sv39 -------------------------- */

static int last_exception;

static void on_exception(uc_engine *uc, uint32_t intno, void *user)
{
    (void)user;
    last_exception = (int)intno;
    uc_emu_stop(uc);
}

/* Run a one-instruction probe; the exception it raised, or -1 for none. */
static int probe(uc_engine *uc, unsigned from, unsigned to, uint64_t a0, uint64_t a2)
{
    last_exception = -1;
    set_x(uc, RV_A0, a0);
    set_x(uc, RV_A2, a2);
    if (uc_emu_start(uc, BW_CODE_VA + from, BW_CODE_VA + to, 0, 0) != UC_ERR_OK)
        return -2;
    return last_exception;
}

static bool say(bool ok, const char *what, const char *result)
{
    printf("  unicorn: %-44s %s\n", what, ok ? result : "WRONG");
    return ok;
}

bool bench_unicorn_verify(struct bench_world *w)
{
    unsigned major = 0, minor = 0;
    uc_version(&major, &minor);
    printf("  unicorn: library %u.%u (header %d.%d)\n", major, minor, UC_API_MAJOR, UC_API_MINOR);
    uint64_t mstatus = 0;
    uc_engine *uc = open_smode(w, &mstatus);
    if (!uc)
        return false;
    char buf[96];
    bool ok = true;
    snprintf(buf, sizeof buf, "mstatus 0x%llx (MPP = S), then mret", (unsigned long long)mstatus);
    ok &= say(true, "host wrote mstatus.MPP, mepc, satp:", buf);
    uint64_t satp = get_reg(uc, UC_RISCV_REG_SATP);
    snprintf(buf, sizeof buf, "0x%llx (Sv39)", (unsigned long long)satp);
    ok &= say(satp == w->satp, "satp read back after mret", buf);
    uc_hook hook;
    ok &= uc_ok(uc_hook_add(uc, &hook, UC_HOOK_INTR, (void *)on_exception, NULL, 1, 0), "hook_add");

    uint64_t shadow = 1;
    uc_mem_read(uc, BW_MAGIC_VA, &shadow, 8); /* what sits at PA == VA: the zero shadow */
    int e = probe(uc, PROG_LOAD, PROG_LOAD_END, BW_MAGIC_VA, 0);
    ok &= say(e == -1 && get_x(uc, RV_A0) == BW_MAGIC && shadow == 0,
              "ld from VA 0x40001000 (PA 0x2000)", "reads the PA's magic, not PA 0x40001000");
    e = probe(uc, PROG_LOAD, PROG_LOAD_END, BW_UNMAPPED_VA, 0);
    ok &= say(e == EXC_LOAD_PAGE_FAULT, "ld from an unmapped page", "load page fault (13)");
    e = probe(uc, PROG_STORE, PROG_STORE_END, BW_RO_VA, 1);
    ok &= say(e == EXC_STORE_PAGE_FAULT, "sd to a read-only page", "store page fault (15)");
    uint64_t before = 0, after = 0;
    uc_mem_read(uc, BW_MAGIC_PA, &before, 8);
    e = probe(uc, PROG_STORE, PROG_STORE_END, BW_MAGIC_VA, ~BW_MAGIC);
    uc_mem_read(uc, BW_MAGIC_PA, &after, 8);
    ok &= say(e == -1 && after == ~BW_MAGIC, "sd to a writable page", "lands at its PA");
    uint64_t magic = before;
    ok &= bw_write_both(w, BW_MAGIC_PA, &magic, 8);
    e = probe(uc, PROG_LOAD, PROG_LOAD_END, BW_USER_VA, 0);
    ok &= say(e == EXC_LOAD_PAGE_FAULT, "ld from a U page (SUM=0)", "load page fault: not U-mode");
    e = probe(uc, PROG_CSR, PROG_CSR_END, 0, 0);
    ok &= say(e == EXC_ILLEGAL_INSN, "csrr t0, mstatus", "illegal instruction: not M-mode");
    ok &= say(ok, "=> the guest runs in S-mode with Sv39 translating", "yes");
    uc_close(uc);
    return ok;
}

/* ---- uc_mem_read / uc_mem_write: the host-side physical path --------------- */

bool bench_unicorn_physical(struct bench_world *w, const struct bench_cell *c, uint64_t n,
                            unsigned reps, double *ns, const char **why)
{
    (void)why;
    uc_engine *uc = open_ram(w);
    if (!uc)
        return false;
    const bool write = c->op == 1;
    const uint64_t base = write ? BW_BULK_PA : BW_DATA_PA;
    uint64_t expect = 0;
    for (uint64_t i = 0; i < n && !write; i++)
        expect += bw_pattern(base + bench_phys_offset(i));
    bool ok = true;
    double best = 0;
    for (unsigned r = 0; ok && r <= reps; r++) { /* r == 0: warm-up */
        uint64_t units = r == 0 ? (n < 4096 ? n : 4096) : n, sum = 0, v = 0;
        if (r > 0)
            bench_count_toggle();
        double t0 = bench_now_ns();
        for (uint64_t i = 0; i < units; i++) {
            uint64_t pa = base + bench_phys_offset(i);
            if (write) {
                v = i ^ r;
                ok &= uc_mem_write(uc, pa, &v, 8) == UC_ERR_OK;
            } else {
                ok &= uc_mem_read(uc, pa, &v, 8) == UC_ERR_OK;
                sum += v;
            }
        }
        double t = (bench_now_ns() - t0) / (double)units;
        if (r == 0)
            continue;
        bench_count_toggle();
        if (write) {
            uint64_t last = base + bench_phys_offset(n - 1);
            ok &= uc_mem_read(uc, last, &v, 8) == UC_ERR_OK && v == ((n - 1) ^ r);
        } else {
            ok &= sum == expect;
        }
        if (r == 1 || t < best)
            best = t;
    }
    uc_close(uc);
    if (!ok)
        fprintf(stderr, "bench: %s: wrong result\n", c->id);
    *ns = best;
    return ok;
}
