/*
 * bench_vs_qemu - where vmmem stands against QEMU's soft-MMU, in one run.
 *
 * Prints markdown tables:
 *   1. translated 8-byte loads (RISC-V Sv39, S-mode): the same pointer chase
 *      and streams run by the native twin (host memory), by QEMU (Unicorn
 *      2.0.1, a real RV64 guest, bench_unicorn.c), by vm_mmu_read and by the
 *      inline API (bench_translated.c), over the same page tables and bytes
 *      (bench_world.c); ns per access and the ratio to the native twin;
 *   2. the host-side physical path: native, vm_physmem_read/write_u64, the
 *      seed's 16-shard rwlock design (bench_seed.c), uc_mem_read/write; 1 and
 *      2 threads, and the 2-thread scaling;
 *   3. 1 MiB bulk transfers against memcpy.
 * Before measuring it proves, on both guests, that the layout translates as
 * Sv39 says and that Unicorn's guest really runs in S-mode (bench_unicorn.c).
 * Every run's result (chase end page, stream sum, value written) is checked
 * against values computed from the layout alone; a wrong result fails the run.
 *
 * Timing: each cell is set up fresh (new MMU / new Unicorn hart), warmed up,
 * then timed `reps` times; the best run is reported. Timings on a shared
 * machine are noisy; instruction counts (ci/bench.sh --instructions) are not.
 *
 * usage: bench_vs_qemu [--reps N] [--scale F] [--only ID --iters N] [--list]
 *                      [--counts FILE] [--no-verify]
 *   --only ID --iters N  measure one cell with one timed run of N units
 *                        (callgrind: ci/bench.sh --instructions); prints "ID ns"
 *   --list               every cell: "ID units-of-the-short-count-run threads"
 *   --counts FILE        print the tables from FILE ("ID instructions-per-unit"
 *                        lines) instead of measuring
 *   --scale F            multiply every cell's units per run (quick look: 0.1)
 *
 * Design: a cell is one (row, column) measurement with an id such as
 * "chase4096.qemu". The translated rows are patterns and the columns engines
 * (struct bench_engine), so adding a column - e.g. a new API - is one engine
 * and one entry in `engines`; the other tables list their cells explicitly.
 * Rejected: one process per cell (Unicorn and the 128 MiB world would be set
 * up dozens of times) and timed assertions (timings are for people).
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the translated table ------------------------------------------------- */

static const struct bench_pattern patterns[] = {
    { "chase16", "chase over 16 pages (TLB hit)", BENCH_CHASE, 16, false, false,
      20000000, 100000, 64 },
    { "chase4096", "chase over 4096 pages, default TLB (every access misses)", BENCH_CHASE,
      4096, false, false, 1000000, 16384, 8192 },
    { "chase4096-grown", "chase over 4096 pages, TLB grown to hold them", BENCH_CHASE, 4096,
      false, true, 4000000, 16384, 8192 },
    { "seq-4k", "sequential 8-byte loads over 64 MiB, 4 KiB pages", BENCH_SEQ, 0, false,
      false, 16000000, 262144, 262144 },
    { "seq-2m", "sequential 8-byte loads over 64 MiB, 2 MiB pages", BENCH_SEQ, 0, true,
      false, 16000000, 262144, 262144 },
    { "rand-4k", "random 8-byte loads over 64 MiB, 4 KiB pages", BENCH_RAND, 0, false,
      false, 1000000, 16384, 65536 },
    { "rand-2m", "random 8-byte loads over 64 MiB, 2 MiB pages", BENCH_RAND, 0, true,
      false, 4000000, 16384, 65536 },
};
#define N_PATTERNS (sizeof patterns / sizeof patterns[0])

static const struct bench_engine *const engines[] = {
    &bench_engine_native, &bench_engine_unicorn, &bench_engine_vmmem, &bench_engine_inline,
};
#define N_ENGINES (sizeof engines / sizeof engines[0])

/* ---- the physical, scaling and bulk tables -------------------------------- */

#define PHYS(id, op, th, n) { id, bench_physical_measure, op, th, n, 16384 }
#define UCPHYS(id, op, n) { id, bench_unicorn_physical, op, 1, n, 16384 }
#define BULK(id, op, n) { id, bench_physical_measure, op, 1, n, 4 }
static const struct bench_cell others[] = {
    PHYS("phys-read-1t.native", PHYS_NATIVE_READ, 1, 50000000),
    PHYS("phys-read-1t.vmmem", PHYS_VMMEM_READ, 1, 20000000),
    PHYS("phys-read-1t.inline", PHYS_INLINE_READ, 1, 50000000),
    PHYS("phys-read-1t.view", PHYS_VIEW_READ, 1, 50000000),
    PHYS("phys-read-1t.seed", PHYS_SEED_READ, 1, 10000000),
    UCPHYS("phys-read-1t.qemu", 0, 2000000),
    PHYS("phys-write-1t.native", PHYS_NATIVE_WRITE, 1, 50000000),
    PHYS("phys-write-1t.vmmem", PHYS_VMMEM_WRITE, 1, 20000000),
    PHYS("phys-write-1t.inline", PHYS_INLINE_WRITE, 1, 50000000),
    PHYS("phys-write-1t.view", PHYS_VIEW_WRITE, 1, 50000000),
    PHYS("phys-write-1t.bound", PHYS_BOUND_WRITE, 1, 50000000),
    PHYS("phys-write-1t.seed", PHYS_SEED_WRITE, 1, 10000000),
    UCPHYS("phys-write-1t.qemu", 1, 2000000),
    PHYS("phys-read-2t.native", PHYS_NATIVE_READ, 2, 50000000),
    PHYS("phys-read-2t.vmmem", PHYS_VMMEM_READ, 2, 20000000),
    PHYS("phys-read-2t.seed", PHYS_SEED_READ, 2, 5000000),
    PHYS("phys-write-2t.native", PHYS_NATIVE_WRITE, 2, 50000000),
    PHYS("phys-write-2t.vmmem", PHYS_VMMEM_WRITE, 2, 20000000),
    PHYS("phys-write-2t.seed", PHYS_SEED_WRITE, 2, 2000000),
    PHYS("mmu-read-1t.vmmem", PHYS_MMU_READ, 1, 20000000),
    PHYS("mmu-read-2t.vmmem", PHYS_MMU_READ, 2, 20000000),
    BULK("bulk.memcpy", BULK_MEMCPY, 2000),
    BULK("bulk.phys-read", BULK_PHYS_READ, 2000),
    BULK("bulk.wide-read", BULK_WIDE_READ, 2000),
    BULK("bulk.phys-write", BULK_PHYS_WRITE, 2000),
    BULK("bulk.mmu-read", BULK_MMU_READ, 2000),
    BULK("bulk.mmu-write", BULK_MMU_WRITE, 2000),
};
#undef PHYS
#undef UCPHYS
#undef BULK
#define N_OTHERS (sizeof others / sizeof others[0])

/* ---- cells and their results --------------------------------------------- */

enum cell_state { CELL_NOT_RUN, CELL_OK, CELL_NA, CELL_FAILED };

struct cell {
    char id[48];
    const struct bench_pattern *pattern; /* translated cells */
    const struct bench_engine *engine;
    const struct bench_cell *other;      /* the rest */
    uint64_t n, n_count;
    unsigned threads;
    enum cell_state state;
    double value;                        /* ns (or instructions) per unit */
    const char *why;
};

#define N_CELLS (N_PATTERNS * N_ENGINES + N_OTHERS)
static struct cell cells[N_CELLS];

static void build_cells(void)
{
    size_t k = 0;
    for (size_t p = 0; p < N_PATTERNS; p++)
        for (size_t e = 0; e < N_ENGINES; e++, k++) {
            struct cell *c = &cells[k];
            snprintf(c->id, sizeof c->id, "%s.%s", patterns[p].key, engines[e]->key);
            c->pattern = &patterns[p];
            c->engine = engines[e];
            c->n = patterns[p].n;
            c->n_count = patterns[p].n_count;
            c->threads = 1;
        }
    for (size_t i = 0; i < N_OTHERS; i++, k++) {
        struct cell *c = &cells[k];
        snprintf(c->id, sizeof c->id, "%s", others[i].id);
        c->other = &others[i];
        c->n = others[i].n;
        c->n_count = others[i].n_count;
        c->threads = others[i].threads;
    }
}

static struct cell *find_cell(const char *id)
{
    for (size_t k = 0; k < N_CELLS; k++)
        if (!strcmp(cells[k].id, id))
            return &cells[k];
    return NULL;
}

/* ---- measuring ------------------------------------------------------------ */

static uint64_t expected(const struct bench_world *w, const struct bench_pattern *p, uint64_t n)
{
    switch (p->kind) {
    case BENCH_CHASE: return bw_expect_chase(w, n);
    case BENCH_SEQ: return bw_expect_seq(n);
    case BENCH_RAND: return bw_expect_rand(n);
    }
    return 0;
}

static bool measure_translated(struct bench_world *w, struct cell *c, uint64_t n, unsigned reps)
{
    const struct bench_pattern *p = c->pattern;
    if (!bw_set_chase(w, p->kind == BENCH_CHASE ? p->pages : 0))
        return false;
    void *st = NULL;
    c->why = NULL;
    if (!c->engine->prepare(w, p, &st, &c->why)) {
        c->state = c->why ? CELL_NA : CELL_FAILED;
        return c->why != NULL;
    }
    uint64_t check = 0, want_warm = expected(w, p, p->warm), want = expected(w, p, n);
    bool ok = c->engine->run(st, p, p->warm, &check) && check == want_warm;
    double best = 0;
    for (unsigned r = 0; ok && r < reps; r++) {
        bench_count_toggle();
        double t0 = bench_now_ns();
        ok = c->engine->run(st, p, n, &check);
        double t = bench_now_ns() - t0;
        bench_count_toggle();
        if (ok && check != want) {
            fprintf(stderr, "bench: %s: result %llu, expected %llu\n", c->id,
                    (unsigned long long)check, (unsigned long long)want);
            ok = false;
        }
        if (r == 0 || t < best)
            best = t;
    }
    c->engine->finish(st);
    c->value = n ? best / (double)n : 0;
    c->state = ok ? CELL_OK : CELL_FAILED;
    return ok;
}

static bool measure(struct bench_world *w, struct cell *c, uint64_t n, unsigned reps)
{
    if (c->pattern)
        return measure_translated(w, c, n, reps);
    if (!bw_set_chase(w, 0))
        return false;
    c->why = NULL;
    bool ok = c->other->measure(w, c->other, n, reps, &c->value, &c->why);
    c->state = ok ? CELL_OK : c->why ? CELL_NA : CELL_FAILED;
    return ok || c->why;
}

/* ---- printing --------------------------------------------------------------- */

static const char *unit_name = "ns";

static double value_of(const char *id, bool *have)
{
    const struct cell *c = find_cell(id);
    *have = c && c->state == CELL_OK;
    return *have ? c->value : 0;
}

/* "3.40 ns (2.8x)": the value and its ratio to the reference cell. */
static void print_cell(const char *id, const char *ref)
{
    const struct cell *c = find_cell(id);
    if (!c || c->state == CELL_NOT_RUN) {
        printf(" - |");
        return;
    }
    if (c->state == CELL_NA) {
        printf(" n/a (%s) |", c->why);
        return;
    }
    if (c->state == CELL_FAILED) {
        printf(" FAILED |");
        return;
    }
    bool have;
    double r = ref ? value_of(ref, &have) : 0;
    if (ref && have && r > 0 && strcmp(id, ref))
        printf(" %.1f %s (%.1fx) |", c->value, unit_name, c->value / r);
    else
        printf(" %.1f %s |", c->value, unit_name);
}

static void print_translated(void)
{
    printf("\n### Translated 8-byte loads (RISC-V Sv39, S-mode), %s per access (x native twin)\n\n",
           unit_name);
    printf("| case |");
    for (size_t e = 0; e < N_ENGINES; e++)
        printf(" %s |", engines[e]->title);
    printf("\n|---|");
    for (size_t e = 0; e < N_ENGINES; e++)
        printf("---|");
    printf("\n");
    for (size_t p = 0; p < N_PATTERNS; p++) {
        char ref[64];
        snprintf(ref, sizeof ref, "%s.%s", patterns[p].key, engines[0]->key);
        printf("| %s |", patterns[p].label);
        for (size_t e = 0; e < N_ENGINES; e++) {
            char id[64];
            snprintf(id, sizeof id, "%s.%s", patterns[p].key, engines[e]->key);
            print_cell(id, ref);
        }
        printf("\n");
    }
}

/* One line of the scaling table: 1 thread, 2 threads, and (timings only)
 * the scaling 2 x t1 / t2. */
static void print_scaling(const char *what, const char *one, const char *two, bool timing)
{
    bool h1, h2;
    double t1 = value_of(one, &h1), t2 = value_of(two, &h2);
    if (!h1 || !h2 || !(t2 > 0))
        return;
    printf("| %s | %.1f %s | %.1f %s |", what, t1, unit_name, t2, unit_name);
    if (timing)
        printf(" %.2fx |", 2 * t1 / t2);
    printf("\n");
}

static void print_others(void)
{
    static const char *const rows[][7] = {
        { "8-byte read, 1 thread", "phys-read-1t.native", "phys-read-1t.vmmem",
          "phys-read-1t.inline", "phys-read-1t.view", "phys-read-1t.seed", "phys-read-1t.qemu" },
        { "8-byte write, 1 thread", "phys-write-1t.native", "phys-write-1t.vmmem",
          "phys-write-1t.inline", "phys-write-1t.view", "phys-write-1t.seed",
          "phys-write-1t.qemu" },
        { "8-byte read, 2 threads (per thread)", "phys-read-2t.native", "phys-read-2t.vmmem",
          NULL, NULL, "phys-read-2t.seed", NULL },
        { "8-byte write, 2 threads (per thread)", "phys-write-2t.native", "phys-write-2t.vmmem",
          NULL, NULL, "phys-write-2t.seed", NULL },
    };
    const bool timing = !strcmp(unit_name, "ns");
    printf("\n### Host-side physical access, %s per access (x native)\n\n", unit_name);
    printf("| case | native | vmmem vm_physmem_*_u64 | vmmem inline | vmmem view | "
           "seed 16-shard rwlock | QEMU uc_mem_* |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        printf("| %s |", rows[r][0]);
        for (int k = 1; k < 7; k++)
            if (rows[r][k])
                print_cell(rows[r][k], rows[r][1]);
            else
                printf(" - |");
        printf("\n");
    }
    {
        /* Where the write's ratio comes from (README, "Where the physical
         * target stands"): the same loop without the reservation check. */
        bool hb, hn, hv;
        const double b = value_of("phys-write-1t.bound", &hb);
        const double n = value_of("phys-write-1t.native", &hn);
        const double v = value_of("phys-write-1t.view", &hv);
        if (hb && hn && hv && n > 0)
            printf("\nThe view write's floor (not an API: its bound test and store, without the "
                   "live-reservation check a store owes): %.3g %s (%.2fx native); the view write "
                   "%.3g %s (%.2fx)\n",
                   b, unit_name, b / n, v, unit_name, v / n);
    }
    if (timing)
        printf("\n### 2-thread scaling (throughput of 2 threads / 1 thread; 2.00x is perfect)\n\n"
               "| case | 1 thread | 2 threads, per thread | scaling |\n|---|---|---|---|\n");
    else
        printf("\n### 1 and 2 threads, %s per access per thread (callgrind runs threads one at a "
               "time: no contention here)\n\n| case | 1 thread | 2 threads |\n|---|---|---|\n",
               unit_name);
    print_scaling("native read", "phys-read-1t.native", "phys-read-2t.native", timing);
    print_scaling("vm_physmem_read_u64", "phys-read-1t.vmmem", "phys-read-2t.vmmem", timing);
    print_scaling("seed rwlock read", "phys-read-1t.seed", "phys-read-2t.seed", timing);
    print_scaling("vm_mmu_read Sv39 TLB hit, 1 vCPU per thread", "mmu-read-1t.vmmem",
                  "mmu-read-2t.vmmem", timing);
    print_scaling("native write", "phys-write-1t.native", "phys-write-2t.native", timing);
    print_scaling("vm_physmem_write_u64", "phys-write-1t.vmmem", "phys-write-2t.vmmem", timing);
    print_scaling("seed rwlock write", "phys-write-1t.seed", "phys-write-2t.seed", timing);
    bool h1, h2;
    double n1 = value_of("phys-read-1t.native", &h1), n2 = value_of("phys-read-2t.native", &h2);
    if (timing && h1 && h2 && n2 > 0 && 2 * n1 / n2 < 1.8)
        printf("\nThe native read scaled %.2fx only: the second CPU was busy (other load on this "
               "machine), so no 2-thread figure above says anything about vmmem.\n",
               2 * n1 / n2);
    static const char *const bulk[][2] = {
        { "memcpy", "bulk.memcpy" },
        { "vm_physmem_read_buf", "bulk.phys-read" },
        { "16-byte SSE2 loads out of RAM in C (not an API: the ceiling of a 16-byte copy)",
          "bulk.wide-read" },
        { "vm_physmem_write_buf", "bulk.phys-write" },
        { "vm_mmu_read_bulk (Sv39, 4 KiB pages)", "bulk.mmu-read" },
        { "vm_mmu_write_bulk (Sv39, 4 KiB pages)", "bulk.mmu-write" },
    };
    const bool ns = timing;
    printf("\n### Bulk transfer of 1 MiB, %s per MiB%s\n\n", unit_name,
           ns ? " (speed relative to memcpy: 1.00x = as fast)"
              : " (glibc memcpy uses rep movsb here, which callgrind counts once per byte:"
                " compare bulk by time)");
    printf("| case | per MiB | %s |\n|---|---|---|\n", ns ? "GB/s, x memcpy" : "x memcpy");
    bool hm;
    double m = value_of("bulk.memcpy", &hm);
    for (size_t r = 0; r < sizeof bulk / sizeof bulk[0]; r++) {
        bool h;
        double v = value_of(bulk[r][1], &h);
        if (!h) {
            printf("| %s | - | - |\n", bulk[r][0]);
            continue;
        }
        if (ns)
            printf("| %s | %.0f ns | %.2f GB/s, %.2fx |\n", bulk[r][0], v,
                   (double)BW_BULK_SIZE / v, hm ? m / v : 0);
        else
            printf("| %s | %.0f | %.2fx |\n", bulk[r][0], v, hm ? v / m : 0);
    }
}

static void print_tables(void)
{
    print_translated();
    print_others();
}

static bool load_counts(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return false;
    }
    char id[64];
    double v;
    while (fscanf(f, "%63s %lf", id, &v) == 2) {
        struct cell *c = find_cell(id);
        if (c) {
            c->value = v;
            c->state = CELL_OK;
        }
    }
    fclose(f);
    for (size_t k = 0; k < N_CELLS; k++) /* what was not counted */
        if (cells[k].state == CELL_NOT_RUN && cells[k].engine == &bench_engine_inline) {
            cells[k].state = CELL_NA;
            cells[k].why = "not counted";
        }
    return true;
}

int main(int argc, char **argv)
{
    const char *only = NULL, *counts = NULL;
    uint64_t iters = 0;
    unsigned reps = 3;
    double scale = 1.0;
    bool list = false, verify = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = (unsigned)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
            scale = strtod(argv[++i], NULL);
        else if (!strcmp(argv[i], "--counts") && i + 1 < argc)
            counts = argv[++i];
        else if (!strcmp(argv[i], "--list"))
            list = true;
        else if (!strcmp(argv[i], "--no-verify"))
            verify = false;
        else {
            fprintf(stderr, "usage: %s [--reps N] [--scale F] [--only ID --iters N] [--list] "
                            "[--counts FILE] [--no-verify]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || !(scale > 0))
        return 2;
    build_cells();
    if (list) {
        for (size_t k = 0; k < N_CELLS; k++)
            printf("%s %llu %u\n", cells[k].id, (unsigned long long)cells[k].n_count,
                   cells[k].threads);
        return 0;
    }
    if (counts) {
        unit_name = "instr";
        if (!load_counts(counts))
            return 1;
        print_tables();
        return 0;
    }
    struct bench_world w;
    if (!bw_init(&w))
        return 1;
    if (only) {
        struct cell *c = find_cell(only);
        if (!c || iters == 0) {
            fprintf(stderr, "bench: --only needs a cell id from --list and --iters N > 0\n");
            return 2;
        }
        bool ok = measure(&w, c, iters, 1);
        if (ok && c->state == CELL_OK)
            printf("%s %.3f\n", c->id, c->value);
        else if (ok)
            printf("%s n/a\n", c->id);
        bw_free(&w);
        return ok ? 0 : 1;
    }
    bool ok = true;
    if (verify) {
        printf("### Checks before measuring (same layout in both guests; Unicorn in S-mode)\n\n");
        bool v1 = bench_vmmem_verify(&w), v2 = bench_unicorn_verify(&w);
        ok = v1 && v2;
        if (!ok) {
            fprintf(stderr, "bench: the layout checks failed: nothing measured\n");
            bw_free(&w);
            return 1;
        }
    }
    for (size_t k = 0; k < N_CELLS; k++) {
        uint64_t n = (uint64_t)((double)cells[k].n * scale);
        if (!measure(&w, &cells[k], n ? n : 1, reps))
            ok = false;
    }
    print_tables();
    bw_free(&w);
    if (!ok)
        fprintf(stderr, "bench: some cells FAILED (see above)\n");
    return ok ? 0 : 1;
}
