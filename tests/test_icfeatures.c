/* End-to-end tests of bin/icfeatures (the directory comes from $IC_BIN, default "bin",
 * as `make test` sets it): report contents, the JSON fields, the PNG's size and
 * orientation, standard input, raw PCM, and the exit codes for bad files and bad usage.
 * Inputs are the m4a fixture and files written here into a mkdtemp directory. */
#include "testutil.h"
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <ftw.h>
#include <png.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define M4A "tests/fixtures/audio/sine440_44k_stereo.m4a"

static char g_dir[256];

static void make_tmpdir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ic_test_icfeatures_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); exit(1); }
}

static int rm_entry(const char *p, const struct stat *s, int flag, struct FTW *f) { return remove(p); }
static void remove_tmpdir(void) { nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static void tmp_path(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", g_dir, name); }

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    if (n > 0 && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    return b;
}

typedef struct { int status; char *out, *err; } run_result;

static void run_free(run_result *r) { free(r->out); free(r->err); }

/* Runs icfeatures with args (NULL-terminated); stdin from stdin_path (or /dev/null). */
static run_result run(const char *stdin_path, const char *const *args) {
    const char *bin = getenv("IC_BIN");
    char exe[512], outp[512], errp[512];
    snprintf(exe, sizeof exe, "%s/icfeatures", bin && *bin ? bin : "bin");
    ck_assert_msg(access(exe, X_OK) == 0, "%s is not built (run make, or set IC_BIN)", exe);
    tmp_path(outp, sizeof outp, "stdout.txt");
    tmp_path(errp, sizeof errp, "stderr.txt");
    const char *argv[32];
    int k = 0;
    argv[k++] = exe;
    for (int i = 0; args[i] && k < 31; i++) argv[k++] = args[i];
    argv[k] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(127);
        dup2(in, 0); dup2(out, 1); dup2(err, 2);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st), "icfeatures died (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    run_result r = { WEXITSTATUS(st), slurp(outp), slurp(errp) };
    ck_assert_ptr_nonnull(r.out);
    ck_assert_ptr_nonnull(r.err);
    return r;
}

static void write_sine_wav(const char *path, int rate, int channels, double seconds) {
    SF_INFO in = { .samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    ck_assert_ptr_nonnull(sf);
    long n = lrint(seconds * rate);
    for (long t = 0; t < n; t++) {
        float v[8];
        for (int c = 0; c < channels; c++) v[c] = (float)(0.5 * sin(2 * M_PI * 440.0 * t / rate));
        ck_assert_int_eq(sf_writef_float(sf, v, 1), 1);
    }
    sf_close(sf);
}

START_TEST(test_text_report) {
    run_result r = run(NULL, (const char *[]){ M4A, NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_ptr_nonnull(strstr(r.out, "44100 Hz, 2 channels"));
    ck_assert_ptr_nonnull(strstr(r.out, "ffmpeg"));
    ck_assert_ptr_nonnull(strstr(r.out, "aac"));
    ck_assert_ptr_nonnull(strstr(r.out, "16000 Hz mono, 8000 samples"));
    ck_assert_ptr_nonnull(strstr(r.out, "64 x 16 (n_features x n_frames)"));
    run_free(&r);
}
END_TEST

START_TEST(test_json_report) {
    run_result r = run(NULL, (const char *[]){ "--json", M4A, NULL });
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
    run_free(&r);
}
END_TEST

/* The picture: 64 bands x 4 px tall, 16 frames x 16 px wide; a 440 Hz tone is
 * brightest near the bottom (low frequencies at the bottom). */
START_TEST(test_png_output) {
    char png[512];
    tmp_path(png, sizeof png, "spec.png");
    run_result r = run(NULL, (const char *[]){ M4A, "--png", png, NULL });
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
    run_free(&r);
    /* an unwritable destination: exit 1, message names it, nothing left behind */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.png", g_dir);
    r = run(NULL, (const char *[]){ M4A, "--png", bad, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, bad));
    run_free(&r);
}
END_TEST

START_TEST(test_stdin_and_raw) {
    char wav[512], raw[512];
    tmp_path(wav, sizeof wav, "in.wav");
    write_sine_wav(wav, 48000, 2, 1.0);
    run_result r = run(wav, (const char *[]){ "-", NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "48000 Hz, 2 channels"));
    ck_assert_ptr_nonnull(strstr(r.out, "64 x 32"));
    run_free(&r);
    tmp_path(raw, sizeof raw, "in.raw");
    FILE *f = fopen(raw, "wb");
    for (int t = 0; t < 8000; t++) {
        short v = (short)lrint(16000 * sin(2 * M_PI * 440.0 * t / 8000));
        unsigned char b[2] = { (unsigned char)(v & 0xff), (unsigned char)((unsigned short)v >> 8) };
        fwrite(b, 1, 2, f);
    }
    fclose(f);
    r = run(raw, (const char *[]){ "--raw", "8000", "-", NULL });
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "raw"));
    ck_assert_ptr_nonnull(strstr(r.out, "8000 Hz, 1 channel"));
    run_free(&r);
}
END_TEST

START_TEST(test_failures_and_usage) {
    char missing[512], text[512];
    tmp_path(missing, sizeof missing, "missing.wav");
    run_result r = run(NULL, (const char *[]){ missing, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, missing));
    run_free(&r);
    tmp_path(text, sizeof text, "text.wav");
    FILE *f = fopen(text, "w");
    fputs("not audio at all\n", f);
    fclose(f);
    r = run(NULL, (const char *[]){ "--json", text, NULL });
    ck_assert_int_eq(r.status, 1);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "not a recognised audio file"));
    run_free(&r);
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
        run_free(&r);
    }
    r = run(NULL, (const char *[]){ "--help", NULL });
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: icfeatures"));
    run_free(&r);
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
