/* File and process helpers for the suites that write files or run the programs: a
 * mkdtemp directory and paths in it, whole-file reads and writes, 16-bit WAV files,
 * shell commands, and bin/PROG run with its output captured.  When the plumbing
 * itself breaks (a file cannot be written, a program is not built) the helper fails
 * the running test with a message naming the culprit, so a test's own assertions stay
 * about the code under test.  Header-only like testutil.h; needs -D_GNU_SOURCE (nftw). */
#ifndef IC_TESTUTIL_IO_H
#define IC_TESTUTIL_IO_H
#include "testutil.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sndfile.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- temporary directories and paths ---- */

/* Makes a fresh directory /tmp/ic_test_TAG_XXXXXX and puts its path in dir (cap bytes). */
static inline void ic_test_mkdtemp(char *dir, size_t cap, const char *tag) {
    int n = snprintf(dir, cap, "/tmp/ic_test_%s_XXXXXX", tag);
    ck_assert_msg(n > 0 && (size_t)n < cap, "no room for the temporary directory name of '%s'", tag);
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

static inline int ic_test_rm_entry_(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it, links not followed; 0 when all of it went. */
static inline int ic_test_rmtree(const char *dir) {
    return nftw(dir, ic_test_rm_entry_, 16, FTW_DEPTH | FTW_PHYS);
}

static inline void ic_test_join_(char *buf, size_t cap, const char *dir, const char *name) {
    int n = snprintf(buf, cap, "%s/%s", dir, name);
    ck_assert_msg(n > 0 && (size_t)n < cap, "path too long: %s/%s", dir, name);
}

/* DIR/NAME in one of 32 rotating static buffers: valid until 32 more calls (the other
 * helpers here do not use them). */
static inline const char *ic_test_path(const char *dir, const char *name) {
    static char buf[32][1024];
    static unsigned k;
    k = (k + 1) % 32;
    ic_test_join_(buf[k], sizeof buf[k], dir, name);
    return buf[k];
}

/* ---- whole files ---- */

/* The whole file at path, malloc'd, with a NUL after the last byte (so text is a string);
 * its length in *n unless n is NULL.  Fails the test when the file cannot be read. */
static inline void *ic_test_slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    long len = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    ck_assert_msg(len >= 0 && fseek(f, 0, SEEK_SET) == 0, "cannot size %s", path);
    char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_msg(fread(b, 1, (size_t)len, f) == (size_t)len, "short read of %s", path);
    fclose(f);
    b[len] = 0;
    if (n) *n = (size_t)len;
    return b;
}

/* Writes n bytes to path (created or truncated); fails the test on any error. */
static inline void ic_test_write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot create %s: %s", path, strerror(errno));
    ck_assert_msg(fwrite(data, 1, n, f) == n, "short write to %s", path);
    ck_assert_msg(fclose(f) == 0, "cannot close %s: %s", path, strerror(errno));
}

/* Writes the string text (without its NUL) to path. */
static inline void ic_test_write_text(const char *path, const char *text) {
    ic_test_write_file(path, text, strlen(text));
}

/* ---- WAV files (16-bit PCM, the NSynth format) ---- */

static inline SNDFILE *ic_test_wav_create_(const char *path, int rate, int channels) {
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    ck_assert_msg(sf != NULL, "cannot write %s: %s", path, sf_strerror(NULL));
    return sf;
}

/* Writes `frames` frames of interleaved 16-bit samples x (frames x channels) to path as a
 * 16-bit PCM WAV at rate Hz; the samples land in the file exactly. */
static inline void ic_test_write_wav16(const char *path, int rate, int channels, const short *x, long frames) {
    SNDFILE *sf = ic_test_wav_create_(path, rate, channels);
    ck_assert_int_eq(sf_writef_short(sf, x, frames), frames);
    ck_assert_int_eq(sf_close(sf), 0);
}

/* The same from float samples in [-1, 1], which libsndfile scales to 16 bits. */
static inline void ic_test_write_wavf(const char *path, int rate, int channels, const float *x, long frames) {
    SNDFILE *sf = ic_test_wav_create_(path, rate, channels);
    ck_assert_int_eq(sf_writef_float(sf, x, frames), frames);
    ck_assert_int_eq(sf_close(sf), 0);
}

/* ---- shell commands ---- */

enum { IC_TEST_CMD_MAX = 8192 };

/* The command ic_test_sh ran last, for failure messages. */
static inline char *ic_test_sh_last(void) {
    static char cmd[IC_TEST_CMD_MAX];
    return cmd;
}

/* Runs the printf-style command with sh -c; its exit status, or -1 when it could not
 * run or was killed by a signal. */
static inline int ic_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int ic_test_sh(const char *fmt, ...) {
    char *cmd = ic_test_sh_last();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, IC_TEST_CMD_MAX, fmt, ap);
    va_end(ap);
    ck_assert_msg(n >= 0 && n < IC_TEST_CMD_MAX, "command too long: %.200s...", cmd);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

/* Runs the command like ic_test_sh and fails the test, naming the command, unless it exits 0. */
#define ic_test_sh_ok(...)                                                                     \
    do {                                                                                       \
        int ic_st_ = ic_test_sh(__VA_ARGS__);                                                  \
        ck_assert_msg(ic_st_ == 0, "command failed (status %d): %s", ic_st_, ic_test_sh_last()); \
    } while (0)

/* ---- the programs ---- */

/* Where the programs are: $IC_BIN, or "bin" when it is unset or empty (`make test` sets it). */
static inline const char *ic_test_bin_dir(void) {
    const char *b = getenv("IC_BIN");
    return b && *b ? b : "bin";
}

/* The path of program NAME in one of 4 rotating static buffers; fails the test when it is not built. */
static inline const char *ic_test_bin(const char *name) {
    static char buf[4][1024];
    static unsigned k;
    k = (k + 1) % 4;
    ic_test_join_(buf[k], sizeof buf[k], ic_test_bin_dir(), name);
    ck_assert_msg(access(buf[k], X_OK) == 0, "%s is not built (run make, or set IC_BIN)", buf[k]);
    return buf[k];
}

/* Runs exe with args (NULL-terminated, exe itself not included) and waits: standard input
 * from in_path (NULL: /dev/null), standard output to out_path and standard error to
 * err_path (the same path: both into one file), truncated first, or appended to when
 * append.  Returns the exit status; fails the test when the program is killed. */
static inline int ic_test_spawn(const char *exe, const char *const *args, const char *in_path,
                                const char *out_path, const char *err_path, int append) {
    const char *argv[64];
    int k = 0;
    argv[k++] = exe;
    for (; args[k - 1]; k++) {
        ck_assert_msg(k < 63, "too many arguments for %s", exe);
        argv[k] = args[k - 1];
    }
    argv[k] = NULL;
    int mode = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(out_path, mode, 0644);
        int err = strcmp(out_path, err_path) == 0 ? dup(out) : open(err_path, mode, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(127);
        dup2(in, 0); dup2(out, 1); dup2(err, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "%s died (signal %d)", exe, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    return WEXITSTATUS(st);
}

/* A finished run: exit status and everything it wrote (NUL-terminated, malloc'd). */
typedef struct { int status; char *out, *err; } ic_test_run_result;

/* Runs exe like ic_test_spawn with standard output and error captured through
 * DIR/stdout.txt and DIR/stderr.txt.  Free with ic_test_run_free. */
static inline ic_test_run_result ic_test_run(const char *exe, const char *const *args, const char *in_path,
                                             const char *dir) {
    char outp[1024], errp[1024];
    ic_test_join_(outp, sizeof outp, dir, "stdout.txt");
    ic_test_join_(errp, sizeof errp, dir, "stderr.txt");
    ic_test_run_result r;
    r.status = ic_test_spawn(exe, args, in_path, outp, errp, 0);
    r.out = ic_test_slurp(outp, NULL);
    r.err = ic_test_slurp(errp, NULL);
    return r;
}

/* Frees what ic_test_run captured. */
static inline void ic_test_run_free(ic_test_run_result *r) { free(r->out); free(r->err); }

#endif
