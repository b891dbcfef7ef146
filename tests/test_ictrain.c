/* End-to-end tests of ictrain on tiny data rendered in the test: a tiny CNN
 * trained on one soundfont must classify another soundfont's instruments well
 * above chance, an interrupted run must resume to byte-identical files, and bad
 * usage / missing data must fail cleanly.  Needs bin/icsynth and bin/ictrain
 * (IC_BIN, default "bin") and the Debian soundfonts make deps installs. */
#include "testutil.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <sys/wait.h>

static char tmp[64];
static const char *bin(void) { const char *b = getenv("IC_BIN"); return b ? b : "bin"; }

/* Runs a shell command; returns its exit status (or -1). */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    return s;
}

/* Three families (keyboard, brass, flute): train TimGM6mb, valid/test MuseScore. */
static void setup(void) {
    snprintf(tmp, sizeof tmp, "/tmp/ic_test_ictrain_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    ck_assert_int_eq(run("%s/icsynth --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 --out %s/d --split train "
                         "--programs 0,56,73 --velocities 50,100 --pitch-step 3 --jobs 2 2>/dev/null", bin(), tmp), 0);
    ck_assert_int_eq(run("%s/icsynth --soundfont /usr/share/sounds/sf3/MuseScore_General.sf3 --out %s/d "
                         "--split valid:1,test:1 --programs 0,56,73 --velocities 75 --pitch-step 3 --jobs 2 2>/dev/null",
                         bin(), tmp), 0);
}
static void teardown(void) { ck_assert_int_eq(run("rm -rf %s", tmp), 0); }

#define TINY "--epochs 4 --batch 16 --width 8 --mels 32 --quiet --threads 2"

START_TEST(test_learns_unseen_instruments) {
    ck_assert_int_eq(run("%s/ictrain --data %s/d --out %s/m.icw " TINY " > %s/report.json", bin(), tmp, tmp, tmp), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/report.json", tmp);
    char *txt = slurp(path);
    ck_assert_ptr_nonnull(txt);
    cJSON *j = cJSON_Parse(txt);
    ck_assert_ptr_nonnull(j);
    const cJSON *test = cJSON_GetObjectItem(j, "test");
    double acc = cJSON_GetNumberValue(cJSON_GetObjectItem(test, "family_accuracy"));
    double n = cJSON_GetNumberValue(cJSON_GetObjectItem(test, "n"));
    fprintf(stderr, "ictrain tiny: test family accuracy %.3f on %g clips of an unseen soundfont (chance 0.33)\n", acc, n);
    ck_assert_double_ge(n, 20);
    ck_assert_double_ge(acc, 0.55);
    cJSON_Delete(j);
    free(txt);
    /* the model and the checkpoint exist; no temporary files are left */
    ck_assert_int_eq(run("test -s %s/m.icw && test -s %s/m.icw.ckpt && ! ls %s/*.tmp 2>/dev/null", tmp, tmp, tmp), 0);
}
END_TEST

START_TEST(test_resume_is_byte_identical) {
    ck_assert_int_eq(run("%s/ictrain --data %s/d --out %s/a.icw " TINY " > /dev/null", bin(), tmp, tmp), 0);
    /* interrupted after 11 steps (inside epoch 2), then resumed */
    ck_assert_int_eq(run("%s/ictrain --data %s/d --out %s/b.icw " TINY " --stop-after 11 > /dev/null 2>&1", bin(), tmp, tmp), 130);
    ck_assert_int_eq(run("%s/ictrain --data %s/d --out %s/b.icw " TINY " --resume %s/b.icw.ckpt > /dev/null", bin(), tmp, tmp, tmp), 0);
    ck_assert_int_eq(run("cmp -s %s/a.icw.ckpt %s/b.icw.ckpt", tmp, tmp), 0);
    /* the model files differ only in their own name inside the training meta: compare tensors via the checkpoint */
    ck_assert_int_eq(run("cmp -s %s/a.icw %s/b.icw", tmp, tmp), 0);
}
END_TEST

START_TEST(test_bad_usage_and_input) {
    ck_assert_int_eq(run("%s/ictrain > /dev/null 2>&1", bin()), 2);
    ck_assert_int_eq(run("%s/ictrain --data %s/d --out x.icw --epochs zero > /dev/null 2>&1", bin(), tmp), 2);
    ck_assert_int_eq(run("%s/ictrain --help | grep -q -- --resume", bin()), 0);
    ck_assert_int_eq(run("%s/ictrain --data %s/nowhere --out %s/x.icw --quiet 2> %s/err.txt", bin(), tmp, tmp, tmp), 1);
    ck_assert_int_eq(run("grep -q 'nowhere' %s/err.txt", tmp), 0);
    /* a checkpoint that is not one */
    ck_assert_int_eq(run("echo junk > %s/junk.ckpt; %s/ictrain --data %s/d --out %s/y.icw " TINY " --resume %s/junk.ckpt 2> %s/err2.txt",
                         tmp, bin(), tmp, tmp, tmp, tmp), 1);
    ck_assert_int_eq(run("grep -q 'junk.ckpt' %s/err2.txt", tmp), 0);
}
END_TEST

static Suite *ictrain_suite(void) {
    Suite *s = suite_create("ictrain");
    TCase *tc = tcase_create("ictrain");
    tcase_add_unchecked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_learns_unseen_instruments);
    tcase_add_test(tc, test_resume_is_byte_identical);
    tcase_add_test(tc, test_bad_usage_and_input);
    suite_add_tcase(s, tc);
    return s;
}
IC_TEST_MAIN(ictrain_suite)
