/*
 * vmc_emit.c - collects a fuzz input's scenario as .vmc lines and writes
 * them to the file the replay asked for (vmc_emit.h).
 *
 * How it works. vmc_request() (replay_main.c, --vmc) records a path; the
 * target's vmc_start() at the beginning of the input turns it into an
 * output buffer and clears the request, so a second run of the same input
 * (fuzz_report.h replays a mismatching input with the trace on) writes
 * nothing. Lines accumulate in a growing buffer; vmc_finish() or
 * vmc_mismatch() writes the file once: a header saying where the case comes
 * from, the lines, and on a mismatch the oracle's message as a comment.
 *
 * Rejected: writing each line as it comes (a failed write in the middle of
 * an input would leave half a case that looks complete); formatting lines
 * from the cheap op log (fm_log) after the fact: an op's expected answer
 * depends on the reference's state at the time of the op (remembered TLB
 * leaves, reservations), which the log does not keep.
 */
#include "vmc_emit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vmc_out {
    char *buf;
    size_t len, cap;
    char path[1024];
    char input[512];
    const char *target;
    bool failed;          /* out of memory: the case would be incomplete */
    bool diverged;        /* a write had several legal answers (vmc_note_divergence) */
};

struct vmc_out *vmc_current;
static char vmc_requested[1024];
static char vmc_requested_input[512];

void vmc_request(const char *path, const char *input_name)
{
    snprintf(vmc_requested, sizeof vmc_requested, "%s", path);
    snprintf(vmc_requested_input, sizeof vmc_requested_input, "%s", input_name ? input_name : "");
}

void vmc_start(const char *target)
{
    if (vmc_current) {   /* an input that never ended (its set-up failed): drop it */
        free(vmc_current->buf);
        free(vmc_current);
        vmc_current = NULL;
    }
    if (!vmc_requested[0])
        return;
    struct vmc_out *o = calloc(1, sizeof *o);
    if (!o) {
        fprintf(stderr, "vmc: out of memory\n");
        return;
    }
    snprintf(o->path, sizeof o->path, "%s", vmc_requested);
    snprintf(o->input, sizeof o->input, "%s", vmc_requested_input);
    o->target = target;
    vmc_requested[0] = 0;
    vmc_current = o;
}

static void append(struct vmc_out *o, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0 || o->failed)
        return;
    if (o->len + (size_t)n + 2 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + (size_t)n + 2)
            cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->failed = true;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    vsnprintf(o->buf + o->len, (size_t)n + 1, fmt, ap);
    o->len += (size_t)n;
    o->buf[o->len++] = '\n';
    o->buf[o->len] = 0;
}

void vmc_line(const char *fmt, ...)
{
    if (!vmc_current)
        return;
    va_list ap;
    va_start(ap, fmt);
    append(vmc_current, fmt, ap);
    va_end(ap);
}

static void write_out(const char *mismatch)
{
    struct vmc_out *o = vmc_current;
    vmc_current = NULL;
    if (!o)
        return;
    FILE *f = o->failed ? NULL : fopen(o->path, "w");
    if (!f) {
        fprintf(stderr, "vmc: cannot write %s\n", o->path);
    } else {
        const char *base = strrchr(o->input, '/');
        fprintf(f, "# The scenario of %s input %s, written by %s_replay --vmc:\n"
                   "# every line states what the reference models expect (conformance/README.md).\n",
                o->target, o->input[0] ? (base ? base + 1 : o->input) : "(unnamed)", o->target);
        if (mismatch)
            fprintf(f, "# The fuzz target found a mismatch at the last line; vmmem-conform\n"
                       "# fails there on the same core and passes on a correct one.\n");
        fwrite(o->buf ? o->buf : "", 1, o->len, f);
        if (mismatch) {
            fprintf(f, "# ^ the fuzz oracle: ");
            for (const char *p = mismatch; *p; p++) {
                fputc(*p, f);
                if (*p == '\n' && p[1])
                    fputs("#   ", f);
            }
            fputc('\n', f);
        }
        if (fclose(f) != 0)
            fprintf(stderr, "vmc: cannot write %s\n", o->path);
        else
            fprintf(stderr, "vmc: wrote %s\n", o->path);
    }
    free(o->buf);
    free(o);
}

void vmc_finish(void)
{
    write_out(NULL);
}

void vmc_mismatch(const char *fmt, ...)
{
    if (!vmc_current)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    write_out(msg);
}

/* ---- answers ------------------------------------------------------------ */

void vmc_alts_add(vmc_alts_t *a, const char *fmt, ...)
{
    char t[sizeof a->text[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    for (int k = 0; k < a->n; k++)
        if (!strcmp(a->text[k], t))
            return;
    if (a->n < VMC_MAX_ALTS)
        memcpy(a->text[a->n++], t, sizeof t);
}

const char *vmc_alts_text(const vmc_alts_t *a, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < a->n && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? " | " : "", a->text[k]);
    return buf;
}

const char *vmc_err_name(vm_err_t e)
{
    static const char *const names[] = {
        "ok", "invalid-address", "page-fault", "access-fault", "alignment-fault",
        "invalid-argument", "out-of-memory", "mmio", "unsupported", "gp-fault",
    };
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown-error";
}

void vmc_alts_errs(vmc_alts_t *a, unsigned mask)
{
    for (unsigned e = 0; e < 32; e++)
        if (mask & (1u << e))
            vmc_alts_add(a, "%s", vmc_err_name((vm_err_t)e));
}

void vmc_note_divergence(void)
{
    if (vmc_current)
        vmc_current->diverged = true;
}

bool vmc_diverged(void)
{
    return vmc_current && vmc_current->diverged;
}
