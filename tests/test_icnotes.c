/* End-to-end tests of bin/icnotes (directory from $IC_BIN, default "bin", as `make
 * test` sets it): a melody of harmonic tones at 44.1 kHz stereo gives its notes in
 * JSON (fields and types, MIDI numbers, onsets, cents, tuning, tempo, beats,
 * steadiness), CSV and the table; --a4 moves the reference; --midi writes a format-0
 * file; standard input works redirected and piped; silence gives no notes and no
 * tempo; every bad input of the audio front end exits 1 naming the file with nothing
 * on stdout; bad usage exits 2; an unwritable --midi path exits 1.  And `icinfer
 * --notes` (with a small random model: the classification does not matter here) lists
 * the melody's notes in the windows they sound in, in JSON and in the table. */
#include "testutil_io.h"
#include <cjson/cJSON.h>
#include "ic/model.h"

static char g_dir[256];

static void setup(void) { ic_test_mkdtemp(g_dir, sizeof g_dir, "icnotes"); }
static void teardown(void) { ic_test_rmtree(g_dir); }

static const char *path(const char *name) { return ic_test_path(g_dir, name); }

/* A melody at 120 BPM: quarter notes C4 D4 E4 G4 C5 G4 E4 C4, the E4s 25 cents sharp,
 * 4 harmonics, in both channels; 0.3 s of silence first. */
#define N_MEL 8
static const int MEL[N_MEL] = {60, 62, 64, 67, 72, 67, 64, 60};
static double mel_onset(int i) { return 0.3 + 0.5 * i; }
static double mel_cents(int i) { return MEL[i] == 64 ? 25.0 : 0.0; }

static void write_melody(const char *p, int rate, int channels, double a4) {
    size_t n = (size_t)(4.8 * rate);
    float *x = calloc(n * (size_t)channels, sizeof *x);
    for (int k = 0; k < N_MEL; k++) {
        double f0 = a4 * pow(2.0, (MEL[k] + mel_cents(k) / 100.0 - 69.0) / 12.0);
        size_t a = (size_t)(mel_onset(k) * rate), len = (size_t)(0.42 * rate), ramp = (size_t)(0.01 * rate);
        for (size_t i = 0; i < len; i++) {
            double t = (double)i / rate, g = i < ramp ? (double)i / ramp : len - i < ramp ? (double)(len - i) / ramp : 1;
            double v = 0.3 * sin(2 * M_PI * f0 * t) + 0.15 * sin(4 * M_PI * f0 * t) + 0.08 * sin(6 * M_PI * f0 * t) +
                       0.04 * sin(8 * M_PI * f0 * t);
            for (int c = 0; c < channels; c++) x[(a + i) * (size_t)channels + (size_t)c] = (float)(g * v);
        }
    }
    ic_test_write_wavf(p, rate, channels, x, (long)n);
    free(x);
}

static ic_test_run_result run(const char *const *args, const char *in) {
    ic_test_run_result r = ic_test_run(ic_test_bin("icnotes"), args, in, g_dir);
    ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error"), "%s", r.err);
    return r;
}

static cJSON *run_json(const char *const *args, const char *in) {
    ic_test_run_result r = run(args, in);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON: %s", r.out);
    ic_test_run_free(&r);
    return j;
}

static const cJSON *item(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "\"%s\" missing", key);
    return v;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = item(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
    return v->valuedouble;
}

/* The melody's notes in a parsed report, cents against a reference `shift` cents away. */
static void check_melody(const cJSON *j, double shift) {
    const cJSON *notes = item(j, "notes");
    ck_assert_int_eq(cJSON_GetArraySize(notes), N_MEL);
    const char *names[N_MEL] = {"C4", "D4", "E4", "G4", "C5", "G4", "E4", "C4"};
    for (int i = 0; i < N_MEL; i++) {
        const cJSON *n = cJSON_GetArrayItem(notes, i);
        ck_assert_int_eq((int)num(n, "midi"), MEL[i]);
        ck_assert_str_eq(item(n, "note")->valuestring, names[i]);
        ck_assert_msg(fabs(num(n, "onset") - mel_onset(i)) < 0.03, "note %d onset %.3f", i, num(n, "onset"));
        ck_assert_msg(fabs(num(n, "offset") - (mel_onset(i) + 0.42)) < 0.06, "note %d offset %.3f", i, num(n, "offset"));
        ck_assert_msg(fabs(num(n, "cents") - (mel_cents(i) - shift)) < 2.0, "note %d: %.1f cents", i, num(n, "cents"));
        ck_assert(num(n, "velocity") >= 1 && num(n, "velocity") <= 127);
        ck_assert(num(n, "f0") > 200 && num(n, "f0") < 600);
        ck_assert(cJSON_IsNumber(item(n, "cents_tuned")));
    }
}

START_TEST(test_json) {
    const char *f = path("mel.wav");
    write_melody(f, 44100, 2, 440.0);
    cJSON *j = run_json((const char *[]){"--json", f, NULL}, NULL);
    ck_assert_str_eq(item(j, "file")->valuestring, f);
    ck_assert_double_eq_tol(num(j, "duration"), 4.8, 0.002);
    ck_assert_double_eq(num(j, "reference_a4"), 440.0);
    check_melody(j, 0.0);
    /* 6 of 8 notes in tune, 2 at +25: the circular mean lands a few cents sharp */
    ck_assert(num(j, "tuning_cents") > 0 && num(j, "tuning_cents") < 10);
    ck_assert_double_eq_tol(num(j, "tuning_a4"), 440.0 * pow(2.0, num(j, "tuning_cents") / 1200.0), 0.01);
    ck_assert_msg(fabs(num(j, "tempo_bpm") - 120.0) < 2.4, "tempo %.1f", num(j, "tempo_bpm"));
    ck_assert(num(j, "tempo_confidence") > 0.8);
    const cJSON *beats = item(j, "beats");
    ck_assert_int_ge(cJSON_GetArraySize(beats), 6);
    const cJSON *st = item(j, "steadiness");
    ck_assert_int_eq((int)num(st, "intervals"), N_MEL - 1);
    ck_assert_msg(num(st, "timing_ms") < 15, "timing %.1f ms", num(st, "timing_ms"));
    ck_assert_double_eq_tol(num(st, "ioi_mean_ms"), 500, 15);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_a4_csv_text_midi) {
    const char *f = path("mel442.wav"), *mid = path("out.mid");
    write_melody(f, 22050, 1, 442.0);
    /* played at A = 442: against 440 everything is 7.85 cents sharp; with --a4 442 it is not */
    cJSON *j = run_json((const char *[]){"--json", f, NULL}, NULL);
    check_melody(j, -1200.0 * log2(442.0 / 440.0));
    cJSON_Delete(j);
    j = run_json((const char *[]){f, "--a4", "442", "--json", "--midi", mid, NULL}, NULL);
    check_melody(j, 0.0);
    ck_assert_double_eq(num(j, "reference_a4"), 442.0);
    cJSON_Delete(j);
    size_t n;
    unsigned char *m = ic_test_slurp(mid, &n);
    ck_assert_int_gt(n, 22 + 7 + 4 + 8 * N_MEL);
    ck_assert(memcmp(m, "MThd\0\0\0\6\0\0\0\1\1\xE0MTrk", 18) == 0);
    ck_assert(memcmp(m + 22, "\0\xFF\x51\x03", 4) == 0);
    ck_assert(m[29] & 0x80);          /* first delta: 0.3 s, about 288 ticks, two VLQ bytes */
    ck_assert_int_eq(m[31], 0x90);   /* then note on C4 */
    ck_assert_int_eq(m[32], 60);
    ck_assert(memcmp(m + n - 4, "\0\xFF\x2F\0", 4) == 0);
    free(m);
    /* CSV: header and one row per note */
    ic_test_run_result r = run((const char *[]){"--csv", f, NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "onset,offset,midi,note,cents,cents_tuned,f0,velocity\n", 53) == 0);
    int lines = 0;
    for (const char *c = r.out; *c; c++) lines += *c == '\n';
    ck_assert_int_eq(lines, N_MEL + 1);
    ck_assert_ptr_nonnull(strstr(r.out, ",64,E4,"));
    ic_test_run_free(&r);
    /* the table */
    r = run((const char *[]){f, NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "8 notes"));
    ck_assert_ptr_nonnull(strstr(r.out, "tempo:"));
    ck_assert_ptr_nonnull(strstr(r.out, "steadiness:"));
    ck_assert_ptr_nonnull(strstr(r.out, "  C5 "));
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_stdin_and_silence) {
    const char *f = path("in.wav"), *quiet = path("quiet.wav");
    write_melody(f, 16000, 1, 440.0);
    cJSON *j = run_json((const char *[]){"--json", "-", NULL}, f);   /* redirected */
    check_melody(j, 0.0);
    ck_assert_str_eq(item(j, "file")->valuestring, "-");
    cJSON_Delete(j);
    const char *out = path("piped.json");
    ic_test_sh_ok("cat '%s' | '%s' --json - > '%s'", f, ic_test_bin("icnotes"), out);   /* a pipe */
    char *text = ic_test_slurp(out, NULL);
    j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    check_melody(j, 0.0);
    cJSON_Delete(j);
    free(text);
    float *z = calloc(16000 * 3, sizeof *z);
    ic_test_write_wavf(quiet, 16000, 1, z, 16000 * 3);
    free(z);
    j = run_json((const char *[]){"--json", quiet, NULL}, NULL);
    ck_assert_int_eq(cJSON_GetArraySize(item(j, "notes")), 0);
    ck_assert(cJSON_IsNull(item(j, "tempo_bpm")));
    ck_assert_int_eq(cJSON_GetArraySize(item(j, "beats")), 0);
    ck_assert_double_eq(num(j, "tuning_a4"), 440.0);
    cJSON_Delete(j);
    ic_test_run_result r = run((const char *[]){quiet, NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "0 notes"));
    ck_assert_ptr_nonnull(strstr(r.out, "none found"));
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_bad_inputs) {
    const char *empty = path("empty.wav"), *text = path("text.wav"), *cut = path("cut.wav"), *nan = path("nan.wav");
    const char *zero = path("zero.wav"), *missing = path("missing.wav"), *locked = path("locked.wav");
    ic_test_write_file(empty, "", 0);
    ic_test_write_text(text, "A shopping list, not a recording.\nMilk\nEggs\n");
    write_melody(cut, 16000, 2, 440.0);
    ck_assert_int_eq(truncate(cut, 44 + 4 * 30000), 0);
    {
        float *b = calloc(16000 * 2, sizeof *b);
        for (int i = 0; i < 32000; i++) b[i] = (float)sin(i * 0.1);
        b[20000] = NAN;
        SF_INFO in = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *sf = sf_open(nan, SFM_WRITE, &in);
        ck_assert_ptr_nonnull(sf);
        ck_assert_int_eq(sf_writef_float(sf, b, 32000), 32000);
        sf_close(sf);
        sf = sf_open(zero, SFM_WRITE, &in);
        sf_close(sf);
        free(b);
    }
    write_melody(locked, 16000, 1, 440.0);
    ck_assert_int_eq(chmod(locked, 0), 0);
    const char *cases[] = {empty, text, cut, nan, zero, missing, g_dir, geteuid() ? locked : NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!cases[i]) continue;
        for (int json = 0; json < 2; json++) {
            ic_test_run_result r = run((const char *[]){json ? "--json" : cases[i], json ? cases[i] : NULL, NULL}, NULL);
            ck_assert_msg(r.status == 1, "%s: exit %d", cases[i], r.status);
            ck_assert_msg(strcmp(r.out, "") == 0, "%s: stdout '%s'", cases[i], r.out);
            ck_assert_msg(strstr(r.err, cases[i]) != NULL, "message does not name %s: %s", cases[i], r.err);
            ck_assert_msg(strncmp(r.err, "icnotes: ", 9) == 0, "%s", r.err);
            ic_test_run_free(&r);
        }
    }
    ic_test_run_result r = run((const char *[]){"-", NULL}, text);   /* stdin that is not audio */
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "stdin"));
    ic_test_run_free(&r);
    /* a MIDI file that cannot be written */
    const char *good = path("good.wav");
    write_melody(good, 16000, 1, 440.0);
    r = run((const char *[]){good, "--midi", path("no/such/dir/x.mid"), NULL}, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "x.mid"));
    ck_assert_str_eq(r.out, "");
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_usage) {
    const char *f = path("u.wav");
    write_melody(f, 16000, 1, 440.0);
    const char *const bad[][5] = {
        {NULL}, {"--bogus", f, NULL}, {f, "--a4", NULL}, {f, "--a4", "abc", NULL}, {f, "--a4", "100", NULL},
        {f, "--json", "--csv", NULL}, {f, f, NULL}, {f, "--threads", "0", NULL}, {f, "--midi", NULL},
        {f, "--midi", "-", NULL}, {f, "--a4", "440x", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ic_test_run_result r = run(bad[i], NULL);
        ck_assert_msg(r.status == 2, "case %zu: exit %d (%s)", i, r.status, r.err);
        ck_assert_str_eq(r.out, "");
        ck_assert_ptr_nonnull(strstr(r.err, "icnotes --help"));
        ic_test_run_free(&r);
    }
    ic_test_run_result r = run((const char *[]){"--help", NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: icnotes"));
    ic_test_run_free(&r);
    r = run((const char *[]){"--threads", "1", "--", f, NULL}, NULL);
    ck_assert_int_eq(r.status, 0);
    ic_test_run_free(&r);
}
END_TEST

/* A random 16 kHz model with a family head: enough for icinfer to run. */
static void make_model(const char *p) {
    ic_frontend_params fp;
    ic_frontend_defaults(&fp);
    fp.sample_rate = 16000;
    fp.n_fft = 512;
    fp.win_length = 512;
    fp.hop = 512;
    fp.n_mels = 16;
    fp.fmax = 8000;
    size_t win = 4 * 16000;
    char json[400];
    snprintf(json, sizeof json,
             "{\"input\":[1,16,%zu],\"layers\":[{\"type\":\"conv\",\"out\":4,\"k\":3,\"pad\":1},{\"type\":\"relu\"},"
             "{\"type\":\"gap\"}],\"heads\":[{\"name\":\"family\",\"classes\":11}]}",
             ic_frontend_n_frames(&fp, win));
    cJSON *arch = cJSON_Parse(json);
    ck_assert_ptr_nonnull(arch);
    ic_error err;
    ic_model *m = ic_model_create(arch, &fp, win, 21, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    cJSON_Delete(arch);
    ic_rng r;
    ic_rng_seed(&r, 1);
    ic_net_init(m->net, &r);
    ck_assert_msg(ic_model_save(m, p, NULL, &err) == IC_OK, "%s", err.msg);
    ic_model_free(m);
}

START_TEST(test_icinfer_notes) {
    const char *f = path("mel.wav"), *model = path("m.icw");
    write_melody(f, 16000, 1, 440.0);
    make_model(model);
    ic_test_run_result r = ic_test_run(ic_test_bin("icinfer"), (const char *[]){"--weights", model, "--notes", "--json", f, NULL},
                                       NULL, g_dir);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    ic_test_run_free(&r);
    /* one window, 0-4 s, with all eight notes (the last 0.8 s is shorter than 1 s: dropped) */
    const cJSON *ws = item(j, "windows");
    ck_assert_int_eq(cJSON_GetArraySize(ws), 1);
    const cJSON *notes = item(cJSON_GetArrayItem(ws, 0), "notes");
    ck_assert_int_eq(cJSON_GetArraySize(notes), N_MEL);
    for (int i = 0; i < N_MEL; i++) {
        const cJSON *n = cJSON_GetArrayItem(notes, i);
        ck_assert_int_eq((int)num(n, "midi"), MEL[i]);
        ck_assert_msg(fabs(num(n, "onset") - mel_onset(i)) < 0.03, "note %d onset %.3f", i, num(n, "onset"));
        ck_assert_msg(fabs(num(n, "cents") - mel_cents(i)) < 2.5, "note %d cents %.1f", i, num(n, "cents"));
        ck_assert(cJSON_IsString(item(n, "note")) && cJSON_IsNumber(item(n, "velocity")) && cJSON_IsNumber(item(n, "offset")));
    }
    cJSON_Delete(j);
    /* hop 2 s: the window 2-6 s holds the notes from E4 (onset 1.3, sounding to 1.72) on */
    r = ic_test_run(ic_test_bin("icinfer"), (const char *[]){"--weights", model, "--notes", "--hop", "2", "--json", f, NULL},
                    NULL, g_dir);
    ck_assert_int_eq(r.status, 0);
    j = cJSON_Parse(r.out);
    ic_test_run_free(&r);
    ws = item(j, "windows");
    ck_assert_int_eq(cJSON_GetArraySize(ws), 2);
    notes = item(cJSON_GetArrayItem(ws, 1), "notes");
    ck_assert_int_eq(cJSON_GetArraySize(notes), N_MEL - 3);
    ck_assert_int_eq((int)num(cJSON_GetArrayItem(notes, 0), "midi"), 67);
    cJSON_Delete(j);
    /* the table gets a notes column (6 names, then +2); without --notes nothing changes */
    r = ic_test_run(ic_test_bin("icinfer"), (const char *[]){"--weights", model, "--notes", f, NULL}, NULL, g_dir);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, " notes\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "C4 D4 E4 G4 C5 G4 +2\n"));
    ic_test_run_free(&r);
    r = ic_test_run(ic_test_bin("icinfer"), (const char *[]){"--weights", model, "--json", f, NULL}, NULL, g_dir);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_null(strstr(r.out, "\"notes\""));
    ic_test_run_free(&r);
}
END_TEST

static Suite *icnotes_suite(void) {
    Suite *s = suite_create("icnotes");
    TCase *t = tcase_create("program");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_json);
    tcase_add_test(t, test_a4_csv_text_midi);
    tcase_add_test(t, test_stdin_and_silence);
    tcase_add_test(t, test_bad_inputs);
    tcase_add_test(t, test_usage);
    tcase_add_test(t, test_icinfer_notes);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(icnotes_suite)
