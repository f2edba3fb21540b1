/*
 * replay_main.c - a main() for the fuzz targets without a fuzzing engine.
 *
 * `<t>_replay [-v] PATH...` runs LLVMFuzzerTestOneInput once per file;
 * a directory is walked recursively in sorted name order (hidden entries
 * skipped), so a corpus replays the same way on every machine. It prints
 * "replayed N inputs" and exits 0 only if N > 0 and every path existed:
 * a ctest that replays a missing or empty corpus must fail, not pass
 * silently (STYLE.md: an AFL++ driver given a directory does nothing and
 * exits 0 - exactly the trap this runner exists to avoid).
 *
 * Each input is copied into a heap buffer of exactly its size, so a target
 * that reads past its input is caught by ASan as it would be by libFuzzer.
 * A target that finds a mismatch traps; a signal handler then names the
 * input being replayed before the process dies. -v names every input.
 *
 * `--vmc OUT.vmc INPUT` writes the scenario of one input as a .vmc case
 * (vmc_emit.h): the lines that perform its ops and state what the
 * reference models expect, ending at the op where the oracle reports a
 * mismatch (the process then traps as usual, after the file is written).
 * `--vmc-dir DIR PATH...` writes DIR/<input name>.vmc for every input.
 *
 * This file is built with gcc and clang alike (no libFuzzer needed), which
 * is why ctest's corpus replay runs in every configuration.
 *
 * Rejected: linking libFuzzer and calling it with -runs=0 (needs clang and
 * the fuzzer runtime; the gcc build would lose corpus replay), and reading
 * inputs with mmap (a zero-length file cannot be mapped).
 *
 * `<t>_replay --format-version` prints the input format version the target
 * declares (fuzz_format_version, fuzz_input.h) and fails if it declares
 * none; fuzz/input_format.py compares it with the corpus and the golden
 * decode traces (fuzz/README.md, "Input format versions").
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmc_emit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target; weak so that targets without it still link. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned long n_replayed;
static int n_errors;
static int verbose;
static const char *current_path;
static const char *vmc_file; /* --vmc: the one input's case */
static const char *vmc_dir;  /* --vmc-dir: one case per input */

static void on_fatal_signal(int sig)
{
    /* async-signal-safe: write(2) only, then die with the original signal */
    static const char msg[] = "replay: died while running ";
    if (current_path) {
        ssize_t r = write(2, msg, sizeof msg - 1);
        r = write(2, current_path, strlen(current_path));
        r = write(2, "\n", 1);
        (void)r;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    /* exact-size copy: reading one byte past the input is an ASan error */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);

    if (verbose)
        fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
    if (vmc_file) {
        vmc_request(vmc_file, path);
    } else if (vmc_dir) {
        char out[4096];
        const char *base = strrchr(path, '/');
        snprintf(out, sizeof out, "%s/%s.vmc", vmc_dir, base ? base + 1 : path);
        vmc_request(out, path);
    }
    current_path = path;
    LLVMFuzzerTestOneInput(exact, len);
    current_path = NULL;
    free(exact);
    n_replayed++;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_path(const char *path);

static int replay_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: cannot open directory %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **bigger = realloc(names, ncap * sizeof *names);
            if (!bigger) {
                rc = -1;
                break;
            }
            names = bigger;
            cap = ncap;
        }
        size_t plen = strlen(path) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(plen);
        if (!names[n]) {
            rc = -1;
            break;
        }
        snprintf(names[n], plen, "%s/%s", path, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, compare_names);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && replay_path(names[i]) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path);
    return replay_file(path);
}

/* Weak: a target without a declared version still links, and
 * --format-version then fails with a message instead. */
__attribute__((weak)) extern const unsigned fuzz_format_version;

static int print_format_version(const char *prog)
{
    if (&fuzz_format_version == NULL) {
        fprintf(stderr, "%s: this target declares no input format version "
                        "(fuzz_format_version, see fuzz/README.md)\n", prog);
        return 1;
    }
    printf("%u\n", fuzz_format_version);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--format-version") == 0)
        return print_format_version(argv[0]);

    /* SIGSEGV/SIGBUS/SIGFPE stay with ASan, whose report is worth more */
    static const int fatal[] = {SIGILL, SIGTRAP, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], on_fatal_signal);

    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);

    int first = 1;
    for (; first < argc; first++) {
        if (strcmp(argv[first], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[first], "--vmc") == 0 && first + 1 < argc)
            vmc_file = argv[++first];
        else if (strcmp(argv[first], "--vmc-dir") == 0 && first + 1 < argc)
            vmc_dir = argv[++first];
        else
            break;
    }
    if (first >= argc || (vmc_file && first + 1 != argc)) {
        fprintf(stderr, "usage: %s [-v] FILE_OR_DIR...\n"
                        "       %s --vmc OUT.vmc INPUT        (the input's scenario as a .vmc case)\n"
                        "       %s --vmc-dir DIR FILE_OR_DIR...  (DIR/<input>.vmc for each input)\n",
                argv[0], argv[0], argv[0]);
        return 2;
    }
    for (int i = first; i < argc; i++)
        if (replay_path(argv[i]) != 0)
            n_errors++;

    printf("replayed %lu inputs\n", n_replayed);
    if (n_errors) {
        fprintf(stderr, "replay: %d path(s) missing or unreadable\n", n_errors);
        return 1;
    }
    if (n_replayed == 0) {
        fprintf(stderr, "replay: no inputs found: refusing to pass an empty replay\n");
        return 1;
    }
    return 0;
}
