/*
 * conform_answer.c - the answer and data syntax of vmmem-conform's newer
 * line kinds, and how their verdicts are reported.
 *
 * How it works. An answer is a short text: a PA ("0x2000"), a translation
 * fault with its address ("page-fault @ 0x5000"), an error of a physical
 * call ("invalid-address", "mmio", ...), or the outcome of a conditional
 * store ("stored", "failed", "swapped", "kept"). The reference and the core
 * each produce the text of their answer; the line lists the legal ones after
 * "->", separated by "|". Numbers in the listed answers are normalised to
 * lower-case 0x hex when parsed, so "4096" and "0x1000" are the same answer;
 * a listed fault without "@" accepts any fault address. The verdict is the
 * runner's: the reference's answer must be listed (the case is the spec's
 * answer), the core's answer too, and no further complaint may stand.
 *
 * Rejected: a structured answer type per line kind (the kinds differ in
 * what an answer is; comparing normalised texts serves them all and prints
 * exactly what the case says).
 */
#include "conform_ext_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_where(FILE *f, const conform_view_t *v)
{
    if (v->line > 0)
        fprintf(f, "%s:%d: ", v->file, v->line);
    else
        fprintf(f, "%s:end: ", v->file);
}

int conform_malformed(const conform_view_t *v, const char *fmt, ...)
{
    va_list ap;
    print_where(stderr, v);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CONFORM_ERROR;
}

void conform_fail(const conform_view_t *v, const char *fmt, ...)
{
    va_list ap;
    print_where(stdout, v);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    (*v->failures)++;
}

void conform_pass(const conform_view_t *v)
{
    if (v->verbose) {
        print_where(stdout, v);
        printf("ok\n");
    }
}

const char *conform_err_name(vm_err_t e)
{
    static const char *const names[] = {
        "ok", "invalid-address", "page-fault", "access-fault", "alignment-fault",
        "invalid-argument", "out-of-memory", "mmio", "unsupported", "gp-fault",
    };
    return (unsigned)e < sizeof names / sizeof names[0] ? names[e] : "unknown-error";
}

void conform_outcome_text(char *buf, size_t len, int outcome, uint64_t pa, bool has_fva,
                          uint64_t fva)
{
    if (outcome == REF_OK)
        snprintf(buf, len, "0x%llx", (unsigned long long)pa);
    else if (has_fva)
        snprintf(buf, len, "%s @ 0x%llx", ref_outcome_name(outcome), (unsigned long long)fva);
    else
        snprintf(buf, len, "%s", ref_outcome_name(outcome));
}

int conform_parse_alts(const conform_view_t *v, char **tok, int ntok, int pos,
                       conform_alts_t *alts)
{
    memset(alts, 0, sizeof *alts);
    if (pos >= ntok || strcmp(tok[pos], "->"))
        return conform_malformed(v, "expected '->' before the answer");
    pos++;
    for (;;) {
        if (pos >= ntok || !strcmp(tok[pos], "|"))
            return conform_malformed(v, "missing answer after '->' or '|'");
        if (alts->n == CONFORM_MAX_ALTS)
            return conform_malformed(v, "at most %d alternatives", CONFORM_MAX_ALTS);
        char *out = alts->text[alts->n];
        size_t used = 0;
        for (; pos < ntok && strcmp(tok[pos], "|"); pos++) {
            char word[40];
            uint64_t n;
            if (conform_parse_u64(tok[pos], &n))
                snprintf(word, sizeof word, "0x%llx", (unsigned long long)n);
            else if (strlen(tok[pos]) < sizeof word)
                strcpy(word, tok[pos]);
            else
                return conform_malformed(v, "answer word '%s' is too long", tok[pos]);
            int k = snprintf(out + used, sizeof alts->text[0] - used, "%s%s", used ? " " : "", word);
            if (k < 0 || (size_t)k >= sizeof alts->text[0] - used)
                return conform_malformed(v, "an answer is too long");
            used += (size_t)k;
        }
        alts->n++;
        if (pos == ntok)
            return 0;
        pos++;   /* the '|' */
    }
}

bool conform_alts_match(const conform_alts_t *alts, const char *answer)
{
    const char *at = strstr(answer, " @ ");
    size_t head = at ? (size_t)(at - answer) : strlen(answer);
    for (int k = 0; k < alts->n; k++) {
        const char *a = alts->text[k];
        if (!strcmp(a, answer))
            return true;
        if (!strchr(a, '@') && strlen(a) == head && !strncmp(a, answer, head))
            return true;
    }
    return false;
}

void conform_alts_format(const conform_alts_t *alts, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int k = 0; k < alts->n && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k ? " | " : "", alts->text[k]);
}

void conform_judge(const conform_view_t *v, const conform_alts_t *alts, const char *ref_answer,
                   const char *core_answer, const char *extra)
{
    (*v->expectations)++;
    bool ok = !extra && conform_alts_match(alts, ref_answer);
    if (*v->core)
        ok = ok && conform_alts_match(alts, core_answer);
    if (ok) {
        conform_pass(v);
        return;
    }
    char want[8 * 56];
    conform_alts_format(alts, want, sizeof want);
    /* A case the reference contradicts is a wrong case, not a core failure. */
    conform_fail(v, "expected %s, core %s, reference %s%s%s%s", want, *v->core ? core_answer : "-",
                 ref_answer, extra ? ": " : "", extra ? extra : "",
                 conform_alts_match(alts, ref_answer)
                     ? "" : " [the case is wrong: the reference's answer is not listed]");
}

/* ---- data operands ------------------------------------------------------ */

uint8_t conform_pattern_byte(uint64_t k)
{
    return (uint8_t)(k * 13 + (k >> 8) + 7 * (k >> 16) + 1);
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int conform_parse_data(const conform_view_t *v, char **tok, int ntok, int pos, uint64_t pa,
                       uint8_t *buf, uint64_t len, bool *is_null)
{
    *is_null = false;
    if (pos >= ntok)
        return 0;
    const char *kw = tok[pos];
    uint64_t n;
    if (!strcmp(kw, "null")) {
        *is_null = true;
        return 1;
    }
    if (!strcmp(kw, "same")) {
        const ref_mem_t *m = v->mem;
        for (uint64_t i = 0; i < len; i++)
            buf[i] = ref_mem_in_ram(m, pa + i, 1) ? m->ram[pa + i - m->base] : 0;
        uint64_t off, mask;
        if (pos + 3 < ntok && !strcmp(tok[pos + 1], "^") && conform_parse_u64(tok[pos + 2], &off) &&
            conform_parse_u64(tok[pos + 3], &mask) && mask <= 0xff) {
            if (off < len)
                buf[off] ^= (uint8_t)mask;   /* `same ^ OFF MASK`: one byte changed */
            return 4;
        }
        return 1;
    }
    if ((!strcmp(kw, "pattern") || !strcmp(kw, "fill")) && pos + 1 < ntok &&
        conform_parse_u64(tok[pos + 1], &n)) {
        if (kw[0] == 'f' && n > 0xff)
            return -1;
        for (uint64_t i = 0; i < len; i++)
            buf[i] = kw[0] == 'f' ? (uint8_t)n : conform_pattern_byte(n + i);
        return 2;
    }
    if (!strcmp(kw, "hex") && pos + 1 < ntok) {
        const char *h = tok[pos + 1];
        if (h[0] == '0' && (h[1] == 'x' || h[1] == 'X'))
            h += 2;
        if (strlen(h) != 2 * len)
            return -1;
        for (uint64_t i = 0; i < len; i++) {
            int hi = hex_digit(h[2 * i]), lo = hex_digit(h[2 * i + 1]);
            if (hi < 0 || lo < 0)
                return -1;
            buf[i] = (uint8_t)(hi << 4 | lo);
        }
        return 2;
    }
    return -1;
}
