/* End-to-end tests of bin/icfeatures (the directory comes from $IC_BIN, default "bin",
 * as `make test` sets it): report contents, the JSON fields, the PNG's size and
 * orientation, standard input, raw PCM, and the exit codes for bad files and bad usage.
 * Inputs are the m4a fixture and files written here into a mkdtemp directory. */
#include "testutil.h"
#include "testutil_io.h"
#include <cjson/cJSON.h>
#include <png.h>

#define M4A "tests/fixtures/audio/sine440_44k_stereo.m4a"

static char g_dir[64];

static void make_tmpdir(void) { ic_test_mkdtemp(g_dir, sizeof g_dir, "icfeatures"); }
static void remove_tmpdir(void) { ic_test_rmtree(g_dir); }
static const char *tmp_path(const char *name) { return ic_test_path(g_dir, name); }

/* Runs icfeatures with args (NULL-terminated); stdin from stdin_path (or /dev/null). */
static ic_test_run_result run(const char *stdin_path, const char *const *args) {
    return ic_test_run(ic_test_bin("icfeatures"), args, stdin_path, g_dir);
}

static void write_sine_wav(const char *path, int rate, int channels, double seconds) {
    long n = lrint(seconds * rate);
    float *x = malloc((size_t)n * (size_t)channels * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (long t = 0; t < n; t++)
        for (int c = 0; c < channels; c++) x[t * channels + c] = (float)(0.5 * sin(2 * M_PI * 440.0 * t / rate));
    ic_test_write_wavf(path, rate, channels, x, n);
    free(x);
}

START_TEST(test_text_report) {
    ic_test_run_result r = run(NULL, (const char *[]){ M4A, NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_ptr_nonnull(strstr(r.out, "44100 Hz, 2 channels"));
    ck_assert_ptr_nonnull(strstr(r.out, "ffmpeg"));
    ck_assert_ptr_nonnull(strstr(r.out, "aac"));
    ck_assert_ptr_nonnull(strstr(r.out, "16000 Hz mono, 8000 samples"));
    ck_assert_ptr_nonnull(strstr(r.out, "64 x 16 (n_features x n_frames)"));
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_json_report) {
    ic_test_run_result r = run(NULL, (const char *[]){ "--json", M4A, NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON: %s", r.out);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "sample_rate")->valueint, 44100);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "channels")->valueint, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "model_rate")->valueint, 16000);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "samples")->valueint, 8000);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(j, "duration")->valuedouble, 0.5, 1e-3);
    cJSON *dec = cJSON_GetObjectItem(j, "decoder");
    ck_assert_str_eq(cJSON_GetObjectItem(dec, "backend")->valuestring, "ffmpeg");
    ck_assert_str_eq(cJSON_GetObjectItem(dec, "codec")->valuestring, "aac");
    cJSON *ft = cJSON_GetObjectItem(j, "features");
    ck_assert_str_eq(cJSON_GetObjectItem(ft, "kind")->valuestring, "logmel");
    ck_assert_int_eq(cJSON_GetObjectItem(ft, "n_features")->valueint, 64);
    ck_assert_int_eq(cJSON_GetObjectItem(ft, "n_frames")->valueint, 16);
    cJSON *fe = cJSON_GetObjectItem(j, "frontend");
    ck_assert_ptr_nonnull(fe);
    ck_assert_int_eq(cJSON_GetObjectItem(fe, "n_mels")->valueint, 64);
    cJSON_Delete(j);
    ic_test_run_free(&r);
}
END_TEST

/* The picture: 64 bands x 4 px tall, 16 frames x 16 px wide; a 440 Hz tone is
 * brightest near the bottom (low frequencies at the bottom). */
START_TEST(test_png_output) {
    const char *png = tmp_path("spec.png");
    ic_test_run_result r = run(NULL, (const char *[]){ M4A, "--png", png, NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, png));
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    ck_assert(png_image_begin_read_from_file(&pi, png));
    ck_assert_int_eq(pi.width, 256);
    ck_assert_int_eq(pi.height, 256);
    pi.format = PNG_FORMAT_GRAY;   /* libpng converts to luminance */
    unsigned char *g = malloc(256 * 256);
    ck_assert(png_image_finish_read(&pi, NULL, g, 0, NULL));
    int best_y = -1;
    double best = -1;
    for (int y = 0; y < 256; y++) {
        double s = 0;
        for (int x = 64; x < 192; x++) s += g[y * 256 + x];
        if (s > best) { best = s; best_y = y; }
    }
    /* 440 Hz is mel band ~9 of 64 (Slaney, 0-8 kHz): pixel rows ~216-220 from the top */
    ck_assert_msg(best_y >= 200 && best_y < 240, "brightest row %d, expected the 440 Hz band near the bottom", best_y);
    free(g);
    ic_test_run_free(&r);
    /* an unwritable destination: exit 1, message names it, nothing left behind */
    const char *bad = tmp_path("no/such/dir/x.png");
    r = run(NULL, (const char *[]){ M4A, "--png", bad, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, bad));
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_stdin_and_raw) {
    const char *wav = tmp_path("in.wav"), *raw = tmp_path("in.raw");
    write_sine_wav(wav, 48000, 2, 1.0);
    ic_test_run_result r = run(wav, (const char *[]){ "-", NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "48000 Hz, 2 channels"));
    ck_assert_ptr_nonnull(strstr(r.out, "64 x 32"));
    ic_test_run_free(&r);
    unsigned char pcm[2 * 8000];   /* signed 16-bit little-endian */
    for (int t = 0; t < 8000; t++) {
        short v = (short)lrint(16000 * sin(2 * M_PI * 440.0 * t / 8000));
        pcm[2 * t] = (unsigned char)(v & 0xff);
        pcm[2 * t + 1] = (unsigned char)((unsigned short)v >> 8);
    }
    ic_test_write_file(raw, pcm, sizeof pcm);
    r = run(raw, (const char *[]){ "--raw", "8000", "-", NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "raw"));
    ck_assert_ptr_nonnull(strstr(r.out, "8000 Hz, 1 channel"));
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_failures_and_usage) {
    const char *missing = tmp_path("missing.wav"), *text = tmp_path("text.wav");
    ic_test_run_result r = run(NULL, (const char *[]){ missing, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, missing));
    ic_test_run_free(&r);
    ic_test_write_text(text, "not audio at all\n");
    r = run(NULL, (const char *[]){ "--json", text, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "not a recognised audio file"));
    ic_test_run_free(&r);
    const char *const *usage[] = {
        (const char *[]){ NULL },
        (const char *[]){ "--bogus", M4A, NULL },
        (const char *[]){ M4A, "--threads", "x", NULL },
        (const char *[]){ M4A, "--png", NULL },
        (const char *[]){ M4A, M4A, NULL },
        (const char *[]){ M4A, "--channels", "2", NULL },
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        r = run(NULL, usage[i]);
        ck_assert_msg(r.status == 2, "usage case %zu: exit %d", i, r.status);
        ck_assert_str_eq(r.out, "");
        ck_assert_ptr_nonnull(strstr(r.err, "--help"));
        ic_test_run_free(&r);
    }
    r = run(NULL, (const char *[]){ "--help", NULL });
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: icfeatures"));
    ic_test_run_free(&r);
}
END_TEST

static Suite *icfeatures_suite(void) {
    Suite *s = suite_create("icfeatures");
    TCase *t = tcase_create("program");
    tcase_add_unchecked_fixture(t, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_text_report);
    tcase_add_test(t, test_json_report);
    tcase_add_test(t, test_png_output);
    tcase_add_test(t, test_stdin_and_raw);
    tcase_add_test(t, test_failures_and_usage);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(icfeatures_suite)
