/*
 * fuzz_report.h - reporting shared by the physical-memory-level targets
 * (fuzz_physmem, fuzz_lrsc): error-class names, the op-by-op trace, the
 * contract check of a returned error, and the entry point that replays a
 * mismatching input with the trace on before trapping.
 *
 * A target defines FUZZ_TARGET_NAME, includes this header, counts its ops
 * in fuzz_op_no, and may set fuzz_on_mismatch to print model state after
 * the message. Header-only: each target is one executable (STYLE.md: the
 * fuzz entry points live in the executable's own source).
 */
#ifndef VMMEM_FUZZ_REPORT_H
#define VMMEM_FUZZ_REPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "vmc_emit.h"
#include "vmmem/types.h"

#ifndef FUZZ_TARGET_NAME
#error "define FUZZ_TARGET_NAME before including fuzz_report.h"
#endif

#define BIT(e) (1u << (e))

static unsigned fuzz_op_no;            /* the op being decoded, for messages */
static bool fuzz_tracing;              /* print every decoded op */
static bool fuzz_trace_always;         /* VMMEM_FUZZ_TRACE=1 */
static jmp_buf fuzz_on_mismatch_jmp;
static void (*fuzz_on_mismatch)(void); /* extra state to print, or NULL */

static const char *err_name(vm_err_t e)
{
    static const char *const names[] = {
        "OK", "INVALID_ADDRESS", "PAGE_FAULT", "ACCESS_FAULT", "ALIGNMENT_FAULT",
        "INVALID_ARGUMENT", "OUT_OF_MEMORY", "MMIO", "UNSUPPORTED",
    };
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "?";
}

static void print_errs(unsigned mask)
{
    const char *sep = "";
    for (unsigned e = 0; e < VM_ERR__COUNT; e++)
        if (mask & BIT(e)) {
            fprintf(stderr, "%s%s", sep, err_name((vm_err_t)e));
            sep = "|";
        }
}

static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...)
{
    if (!fuzz_tracing)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "  #%u ", fuzz_op_no);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Report a disagreement with the model and abandon the run. */
static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void mismatch(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, FUZZ_TARGET_NAME ": MISMATCH at op #%u: ", fuzz_op_no);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (vmc_on()) {   /* a .vmc scenario was asked for: it ends at this op */
        char msg[1024];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        vmc_mismatch("%s", msg);
    }
    if (fuzz_on_mismatch)
        fuzz_on_mismatch();
    longjmp(fuzz_on_mismatch_jmp, 1);
}

/* The returned error must be one the contract allows (a set of BIT()s). */
static void check_err(const char *what, vm_err_t got, unsigned allowed)
{
    if (fuzz_tracing) {
        fprintf(stderr, "      -> %s (expected ", err_name(got));
        print_errs(allowed);
        fprintf(stderr, ")\n");
    }
    if ((unsigned)got >= VM_ERR__COUNT || !(allowed & BIT(got))) {
        char want[160];
        size_t used = 0;
        want[0] = 0;
        for (unsigned e = 0; e < VM_ERR__COUNT && used < sizeof want; e++)
            if (allowed & BIT(e))
                used += (size_t)snprintf(want + used, sizeof want - used, "%s%s", used ? "|" : "",
                                         err_name((vm_err_t)e));
        mismatch("wrong error class: %s returned %s, contract allows %s", what, err_name(got), want);
    }
}

static void fuzz_report_init(void)
{
    fuzz_trace_always = getenv("VMMEM_FUZZ_TRACE") != NULL;
}

/*
 * Run one input. On a mismatch, release what the run held, replay it with
 * the trace on (the decoded scenario, expected vs actual per op), then trap.
 */
static int fuzz_run_reporting(void (*run)(const uint8_t *, size_t), void (*release)(void),
                              const uint8_t *data, size_t size)
{
    fuzz_tracing = fuzz_trace_always;
    if (setjmp(fuzz_on_mismatch_jmp) == 0) {
        run(data, size);
        return 0;
    }
    release();
    fuzz_tracing = true;
    fprintf(stderr, "---- decoded scenario ----\n");
    if (setjmp(fuzz_on_mismatch_jmp) == 0) {
        run(data, size);
        fprintf(stderr, FUZZ_TARGET_NAME ": the mismatch did not repeat on replay (nondeterminism?)\n");
    }
    __builtin_trap();
}

#endif /* VMMEM_FUZZ_REPORT_H */
