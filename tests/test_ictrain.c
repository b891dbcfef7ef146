/* End-to-end tests of ictrain on tiny data rendered in the test: a tiny CNN
 * trained on one soundfont must classify another soundfont's instruments well
 * above chance, an interrupted run must resume to byte-identical files, and bad
 * usage / missing data must fail cleanly.  Needs bin/icsynth and bin/ictrain
 * (IC_BIN, default "bin") and the Debian soundfonts make deps installs. */
#include "testutil.h"
#include "testutil_io.h"
#include <cjson/cJSON.h>
#include "ic/noise.h"

static char tmp[64];
static const char *bin(void) { return ic_test_bin_dir(); }

/* Renders DIR/d with icsynth: the train split from TimGM6mb at velocities train_vel,
 * valid and test from MuseScore at eval_vel; GM programs, every step-th key. */
static void render(const char *dir, const char *programs, const char *train_vel, const char *eval_vel, int step) {
    ck_assert_int_eq(ic_test_sh("%s/icsynth --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 --out %s/d --split train "
                                "--programs %s --velocities %s --pitch-step %d --jobs 2 2>/dev/null",
                                bin(), dir, programs, train_vel, step), 0);
    ck_assert_int_eq(ic_test_sh("%s/icsynth --soundfont /usr/share/sounds/sf3/MuseScore_General.sf3 --out %s/d "
                                "--split valid:1,test:1 --programs %s --velocities %s --pitch-step %d --jobs 2 2>/dev/null",
                                bin(), dir, programs, eval_vel, step), 0);
}

/* Three families (keyboard, brass, flute): train TimGM6mb, valid/test MuseScore. */
static void setup(void) {
    ic_test_mkdtemp(tmp, sizeof tmp, "ictrain");
    render(tmp, "0,56,73", "50,100", "75", 3);
}
static void teardown(void) { ck_assert_int_eq(ic_test_rmtree(tmp), 0); }

#define TINY "--epochs 4 --batch 16 --width 8 --mels 32 --quiet --threads 2"

START_TEST(test_learns_unseen_instruments) {
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out %s/m.icw " TINY " > %s/report.json",
                                bin(), tmp, tmp, tmp), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/report.json", tmp);
    char *txt = ic_test_slurp(path, NULL);
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
    ck_assert_int_eq(ic_test_sh("test -s %s/m.icw && test -s %s/m.icw.ckpt && ! ls %s/*.tmp 2>/dev/null",
                                tmp, tmp, tmp), 0);
}
END_TEST

START_TEST(test_resume_is_byte_identical) {
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out %s/a.icw " TINY " > /dev/null", bin(), tmp, tmp), 0);
    /* interrupted after 11 steps (inside epoch 2), then resumed */
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out %s/b.icw " TINY " --stop-after 11 > /dev/null 2>&1",
                                bin(), tmp, tmp), 130);
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out %s/b.icw " TINY " --resume %s/b.icw.ckpt > /dev/null",
                                bin(), tmp, tmp, tmp), 0);
    ck_assert_int_eq(ic_test_sh("cmp -s %s/a.icw.ckpt %s/b.icw.ckpt", tmp, tmp), 0);
    /* the model files differ only in their own name inside the training meta: compare tensors via the checkpoint */
    ck_assert_int_eq(ic_test_sh("cmp -s %s/a.icw %s/b.icw", tmp, tmp), 0);
}
END_TEST

START_TEST(test_bad_usage_and_input) {
    ck_assert_int_eq(ic_test_sh("%s/ictrain > /dev/null 2>&1", bin()), 2);
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out x.icw --epochs zero > /dev/null 2>&1", bin(), tmp), 2);
    ck_assert_int_eq(ic_test_sh("%s/ictrain --help | grep -q -- --resume", bin()), 0);
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/nowhere --out %s/x.icw --quiet 2> %s/err.txt",
                                bin(), tmp, tmp, tmp), 1);
    ck_assert_int_eq(ic_test_sh("grep -q 'nowhere' %s/err.txt", tmp), 0);
    /* a checkpoint that is not one */
    ck_assert_int_eq(ic_test_sh("echo junk > %s/junk.ckpt; "
                                "%s/ictrain --data %s/d --out %s/y.icw " TINY " --resume %s/junk.ckpt 2> %s/err2.txt",
                                tmp, bin(), tmp, tmp, tmp, tmp), 1);
    ck_assert_int_eq(ic_test_sh("grep -q 'junk.ckpt' %s/err2.txt", tmp), 0);
}
END_TEST

/* ---- a trained tiny model through icinfer: family, pitch, and "not playing" ---- */
static char tmp2[64];
static void setup_e2e(void) {
    ic_test_mkdtemp(tmp2, sizeof tmp2, "e2e");
    /* keyboard and flute, every 12th key, three velocities */
    render(tmp2, "0,73", "75,100,127", "100", 12);
    ck_assert_int_eq(ic_test_sh("%s/ictrain --data %s/d --out %s/m.icw --epochs 25 --batch 16 --neg-per-batch 8 --width 8 "
                                "--mels 32 --no-augment --quiet --threads 2 > /dev/null 2>&1",
                                bin(), tmp2, tmp2), 0);
}
static void teardown_e2e(void) { ck_assert_int_eq(ic_test_rmtree(tmp2), 0); }

/* Runs icinfer --json on one file and returns the first window (caller frees root). */
static const cJSON *first_window(const char *file, cJSON **root) {
    char out[128];
    snprintf(out, sizeof out, "%s/out.json", tmp2);
    ck_assert_int_eq(ic_test_sh("%s/icinfer --weights %s/m.icw --json %s > %s", bin(), tmp2, file, out), 0);
    char *txt = ic_test_slurp(out, NULL);
    ck_assert_ptr_nonnull(txt);
    *root = cJSON_Parse(txt);
    free(txt);
    ck_assert_ptr_nonnull(*root);
    const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItem(*root, "windows"), 0);
    ck_assert_ptr_nonnull(w);
    return w;
}

/* 4 s of noise at rms_db dBFS (-1000: digital silence), 16 kHz 16-bit. */
static void write_wav(const char *path, ic_noise_color color, float rms_db) {
    enum { N = 64000 };
    static float x[N];
    ic_rng r;
    ic_rng_seed(&r, 5);
    ic_noise_fill(x, N, color, rms_db, &r);
    ic_test_write_wavf(path, 16000, 1, x, N);
}

static void expect_note(const char *file, const char *family, int midi) {
    cJSON *root;
    const cJSON *w = first_window(file, &root);
    ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(w, "playing")), "%s: not playing", file);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(w, "family")), family);
    const cJSON *p = cJSON_GetObjectItem(w, "pitch");
    ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(p, "midi")), midi);
    cJSON_Delete(root);
}

static void expect_silent(const char *file) {
    cJSON *root;
    const cJSON *w = first_window(file, &root);
    ck_assert_msg(cJSON_IsFalse(cJSON_GetObjectItem(w, "playing")), "%s: said playing", file);
    ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(w, "family")), "%s: family on a silent window", file);
    cJSON_Delete(root);
}

START_TEST(test_icinfer_with_trained_model) {
    char f[256];
    /* training clips: the model must have learnt them, pitch included */
    snprintf(f, sizeof f, "%s/d/nsynth-train/audio/keyboard_acoustic_timgm6mb_000-081-100.wav", tmp2);
    expect_note(f, "keyboard", 81);
    snprintf(f, sizeof f, "%s/d/nsynth-train/audio/flute_acoustic_timgm6mb_073-080-100.wav", tmp2);
    expect_note(f, "flute", 80);
    /* an unseen instrument (MuseScore piano): the family */
    ck_assert_int_eq(ic_test_sh("ls %s/d/nsynth-*/audio/keyboard_acoustic_musescore_000-081-100.wav > %s/k.txt",
                                tmp2, tmp2), 0);
    snprintf(f, sizeof f, "%s/k.txt", tmp2);
    char *k = ic_test_slurp(f, NULL);
    k[strcspn(k, "\n")] = 0;
    cJSON *root;
    const cJSON *w = first_window(k, &root);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(w, "family")), "keyboard");
    cJSON_Delete(root);
    free(k);
    /* silence and noise: nothing is playing */
    snprintf(f, sizeof f, "%s/silence.wav", tmp2);
    write_wav(f, IC_NOISE_WHITE, -1000.0f);
    expect_silent(f);
    snprintf(f, sizeof f, "%s/white.wav", tmp2);
    write_wav(f, IC_NOISE_WHITE, -35.0f);
    expect_silent(f);
    snprintf(f, sizeof f, "%s/pink.wav", tmp2);
    write_wav(f, IC_NOISE_PINK, -25.0f);
    expect_silent(f);
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
    TCase *e2e = tcase_create("trained model through icinfer");
    tcase_add_unchecked_fixture(e2e, setup_e2e, teardown_e2e);
    tcase_set_timeout(e2e, 900);
    tcase_add_test(e2e, test_icinfer_with_trained_model);
    suite_add_tcase(s, e2e);
    return s;
}
IC_TEST_MAIN(ictrain_suite)
