/* Tests of the scoring code (ic/metrics.h) on hand-made predictions, and end-to-end
 * tests of bin/iceval (directory from $IC_BIN, default "bin") on a tiny NSynth-format
 * split written here: 16 kHz clips (the models run at 8 kHz, so clips are resampled),
 * notes of three families plus two phrases.  Rigged models (head weights zero, chosen
 * biases) make every number known in advance: always "guitar", always MIDI 60, always
 * or never playing.  A random model checks the report's internal consistency:
 * n, the confusion matrix's sum and trace, per-family recall. */
#include "testutil.h"
#include "testutil_io.h"
#include <cjson/cJSON.h>
#include <png.h>
#include "ic/metrics.h"
#include "ic/model.h"
#include "testutil_model.h"

/* ---- metrics on hand-made predictions ---- */

START_TEST(test_confusion_scores) {
    /* classes a, b, c; truth/prediction pairs */
    const int truth[] = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    const int pred[] = {0, 0, 1, 2, 1, 1, 0, 1, 1, 1};
    ic_confusion *c = ic_confusion_new(3);
    for (int i = 0; i < 10; i++) ic_confusion_add(c, truth[i], pred[i]);
    ck_assert_int_eq(c->n, 10);
    ck_assert_double_eq_tol(ic_confusion_accuracy(c), 0.4, 1e-12);         /* 2 + 2 + 0 right */
    ck_assert_int_eq(ic_confusion_support(c, 0), 4);
    ck_assert_int_eq(ic_confusion_predicted(c, 1), 6);
    ck_assert_double_eq_tol(ic_confusion_precision(c, 0), 2.0 / 3, 1e-12);  /* predicted a: 3, right 2 */
    ck_assert_double_eq_tol(ic_confusion_recall(c, 0), 0.5, 1e-12);
    ck_assert_double_eq_tol(ic_confusion_precision(c, 1), 2.0 / 6, 1e-12);
    ck_assert_double_eq_tol(ic_confusion_recall(c, 1), 2.0 / 3, 1e-12);
    ck_assert_double_eq_tol(ic_confusion_precision(c, 2), 0.0, 1e-12);      /* predicted once, wrong */
    ck_assert_double_eq_tol(ic_confusion_recall(c, 2), 0.0, 1e-12);
    ck_assert_double_eq_tol(ic_confusion_f1(c, 0), 2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), 1e-12);
    ck_assert_double_eq_tol(ic_confusion_f1(c, 2), 0.0, 1e-12);
    ck_assert_double_eq_tol(ic_confusion_mean_recall(c), (0.5 + 2.0 / 3 + 0) / 3, 1e-12);
    ck_assert_int_eq(c->cell[0 * 3 + 2], 1);
    ck_assert_int_eq(c->cell[2 * 3 + 1], 3);
    /* JSON: rows are true classes */
    const char *labels[3] = {"a", "b", "c"};
    cJSON *m = ic_confusion_matrix_json(c);
    ck_assert_int_eq(cJSON_GetArraySize(m), 3);
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(m, 0), 2)->valueint, 1);
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(m, 2), 1)->valueint, 3);
    cJSON_Delete(m);
    cJSON *pc = ic_confusion_per_class_json(c, labels);
    cJSON *b = cJSON_GetObjectItem(pc, "b");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(b, "recall")->valuedouble, 2.0 / 3, 1e-12);
    ck_assert_int_eq(cJSON_GetObjectItem(b, "support")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(b, "predicted")->valueint, 6);
    cJSON_Delete(pc);
    /* text table */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ic_confusion_print(f, c, labels);
    ic_confusion_print_per_class(f, c, labels);
    fclose(f);
    ck_assert_msg(strstr(buf, "c               0      3      0") != NULL, "%s", buf);
    ck_assert_msg(strstr(buf, "b         33.3%     66.7%") != NULL, "%s", buf);
    free(buf);
    ic_confusion_free(c);
}
END_TEST

START_TEST(test_undefined_ratios) {
    ic_confusion *c = ic_confusion_new(3);
    ck_assert(isnan(ic_confusion_accuracy(c)));
    ic_confusion_add(c, 0, 0);
    ic_confusion_add(c, 0, 0);
    ck_assert(isnan(ic_confusion_precision(c, 1)));   /* never predicted */
    ck_assert(isnan(ic_confusion_recall(c, 1)));      /* no examples */
    ck_assert(isnan(ic_confusion_f1(c, 1)));
    ck_assert_double_eq_tol(ic_confusion_mean_recall(c), 1.0, 1e-12);  /* over classes with examples */
    const char *labels[3] = {"a", "b", "c"};
    cJSON *pc = ic_confusion_per_class_json(c, labels);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(pc, "b"), "precision")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(cJSON_GetObjectItem(pc, "a"), "precision")));
    cJSON_Delete(pc);
    ic_confusion_free(c);
    ck_assert(isnan(ic_ratio(3, 0)));
    ck_assert_double_eq(ic_ratio(3, 4), 0.75);
    cJSON *nul = ic_json_number(NAN);
    ck_assert(cJSON_IsNull(nul));
    cJSON_Delete(nul);
}
END_TEST

START_TEST(test_pitch_scores) {
    ck_assert(ic_same_chroma(60, 72));
    ck_assert(ic_same_chroma(72, 48));
    ck_assert(ic_same_chroma(61, 61));
    ck_assert(!ic_same_chroma(60, 61));
    ck_assert(!ic_same_chroma(60, 67));
    ic_pitch_score s = {0};
    ic_pitch_score_add(&s, 60, 60);   /* exact */
    ic_pitch_score_add(&s, 60, 72);   /* octave: chroma only */
    ic_pitch_score_add(&s, 60, 48);
    ic_pitch_score_add(&s, 60, 61);   /* neither */
    ck_assert_int_eq(s.n, 4);
    ck_assert_int_eq(s.exact, 1);
    ck_assert_int_eq(s.chroma, 3);
}
END_TEST

START_TEST(test_confusion_png_unit) {
    char dir[64], path[128];
    ic_test_mkdtemp(dir, sizeof dir, "metrics");
    snprintf(path, sizeof path, "%s/c.png", dir);
    ic_confusion *c = ic_confusion_new(2);
    for (int i = 0; i < 9; i++) ic_confusion_add(c, 0, 0);
    ic_confusion_add(c, 0, 1);
    const char *labels[2] = {"yes", "no"};
    ic_error e;
    ck_assert_int_eq(ic_confusion_png(c, labels, "T", path, &e), IC_OK);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    ck_assert(png_image_begin_read_from_file(&pi, path));
    pi.format = PNG_FORMAT_RGB;
    unsigned char *rgb = malloc(PNG_IMAGE_SIZE(pi));
    ck_assert(png_image_finish_read(&pi, NULL, rgb, 0, NULL));
    ck_assert_int_ge((int)pi.width, 2 * IC_CONFUSION_CELL_PX);
    /* find the grid: the 90% cell is bright (viridis near yellow-green), the 10% cell dark
     * blue-purple, the row without examples grey; sample each cell's top-left corner area */
    int bright = 0, dark = 0, grey = 0;
    for (size_t i = 0; i < (size_t)pi.width * pi.height; i++) {
        unsigned char *p = rgb + 3 * i;
        if (p[0] > 100 && p[1] > 180 && p[2] < 120) bright++;
        if (p[0] > 60 && p[0] < 80 && p[1] < 60 && p[2] > 100) dark++;
        if (p[0] == 200 && p[1] == 200 && p[2] == 200) grey++;
    }
    ck_assert_int_gt(bright, IC_CONFUSION_CELL_PX * IC_CONFUSION_CELL_PX / 2);
    ck_assert_int_gt(dark, IC_CONFUSION_CELL_PX * IC_CONFUSION_CELL_PX / 2);
    ck_assert_int_ge(grey, 2 * (IC_CONFUSION_CELL_PX - 1) * (IC_CONFUSION_CELL_PX - 1));
    free(rgb);
    snprintf(path, sizeof path, "%s/no/such/c.png", dir);
    ck_assert_int_ne(ic_confusion_png(c, labels, NULL, path, &e), IC_OK);
    ck_assert_ptr_nonnull(strstr(e.msg, path));
    ic_confusion_free(c);
    ck_assert_int_eq(ic_test_rmtree(dir), 0);
}
END_TEST

/* ---- the program ---- */

#define RATE 8000
#define CLIP_RATE 16000

static char g_dir[64];

static const char *tmp_path(const char *name) { return ic_test_path(g_dir, name); }

typedef struct { int family, pitch, activity, family_class, pitch_class; float activity_logit; int rigged; } model_spec;

static void make_model(const char *path, const model_spec *s) {
    ic_model *m = ic_test_tiny_model(RATE, 4 * RATE, s->family, s->pitch, s->activity, 2);
    ic_error err;
    float bias[88] = {0};
    if (s->rigged && s->family) { bias[s->family_class] = 2; ic_test_set_head(m, m->head_family, bias); }
    memset(bias, 0, sizeof bias);
    if (s->rigged && s->pitch) { bias[s->pitch_class] = 5; ic_test_set_head(m, m->head_pitch, bias); }
    memset(bias, 0, sizeof bias);
    if (s->rigged && s->activity) { bias[1] = s->activity_logit; ic_test_set_head(m, m->head_activity, bias); }
    ck_assert_msg(ic_model_save(m, path, NULL, &err) == IC_OK, "%s", err.msg);
    ic_model_free(m);
}

typedef struct { const char *family; int pitch; int phrase; } clip_spec;

/* 9 clips: bass x3, guitar x3, string x1 notes; 2 phrases (guitar, string).
 * Pitches: 60 (exact for the rigged model), 72 (chroma), 61 (wrong), 10 (outside
 * the pitch head's 21..108: not scored). */
static const clip_spec CLIPS[] = {
    {"bass", 60, 0}, {"bass", 72, 0}, {"bass", 10, 0},
    {"guitar", 60, 0}, {"guitar", 61, 0}, {"guitar", 48, 0},
    {"string", 60, 0},
    {"guitar", 64, 1}, {"string", 55, 1},
};
#define N_CLIPS 9

static const char *g_rigged, *g_silent, *g_random, *g_family_only;

static void write_dataset(void) {
    char split[600], audio[700];
    snprintf(split, sizeof split, "%s/data/nsynth-test", g_dir);
    snprintf(audio, sizeof audio, "%s/audio", split);
    ic_test_sh_ok("mkdir -p '%s'", audio);
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < N_CLIPS; i++) {
        const clip_spec *c = &CLIPS[i];
        char name[128], wav[900];
        snprintf(name, sizeof name, "%s_acoustic_test_%03d-%03d-100", c->family, i, c->pitch);
        snprintf(wav, sizeof wav, "%s/%s.wav", audio, name);
        double f0 = 440.0 * pow(2.0, (c->pitch - 69) / 12.0);
        float *x = malloc(4 * CLIP_RATE * sizeof *x);
        for (int t = 0; t < 4 * CLIP_RATE; t++)
            x[t] = (float)(0.3 * exp(-t / (double)CLIP_RATE) * sin(2 * M_PI * f0 * (1 + 0.1 * i) * t / CLIP_RATE));
        ic_test_write_wavf(wav, CLIP_RATE, 1, x, 4 * CLIP_RATE);
        free(x);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "note_str", name);
        cJSON_AddNumberToObject(e, "pitch", c->pitch);
        cJSON_AddNumberToObject(e, "velocity", 100);
        cJSON_AddNumberToObject(e, "sample_rate", CLIP_RATE);
        cJSON_AddStringToObject(e, "instrument_family_str", c->family);
        cJSON_AddStringToObject(e, "instrument_source_str", "acoustic");
        if (c->phrase) {
            cJSON *notes = cJSON_CreateArray();
            for (int k = 0; k < 3; k++) {
                cJSON *n = cJSON_CreateObject();
                cJSON_AddNumberToObject(n, "onset", k);
                cJSON_AddNumberToObject(n, "offset", k + 0.8);
                cJSON_AddNumberToObject(n, "pitch", c->pitch + 2 * k);
                cJSON_AddNumberToObject(n, "velocity", 90);
                cJSON_AddItemToArray(notes, n);
            }
            cJSON_AddItemToObject(e, "notes", notes);
        }
        cJSON_AddItemToObject(root, name, e);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    char js[700];
    snprintf(js, sizeof js, "%s/examples.json", split);
    ic_test_write_text(js, text);
    free(text);
}

static void setup(void) {
    ic_test_mkdtemp(g_dir, sizeof g_dir, "iceval");
    write_dataset();
    model_spec rig = {1, 1, 1, 3, 39, 3.0f, 1};
    g_rigged = strdup(tmp_path("rigged.icw"));
    make_model(g_rigged, &rig);
    rig.activity_logit = -3.0f;
    g_silent = strdup(tmp_path("silent.icw"));
    make_model(g_silent, &rig);
    model_spec rnd = {1, 1, 1, 0, 0, 0, 0};
    g_random = strdup(tmp_path("random.icw"));
    make_model(g_random, &rnd);
    model_spec fo = {1, 0, 0, 3, 0, 0, 1};
    g_family_only = strdup(tmp_path("family_only.icw"));
    make_model(g_family_only, &fo);
}

static void teardown(void) {
    ic_test_rmtree(g_dir);
    free((void *)g_rigged);
    free((void *)g_silent);
    free((void *)g_random);
    free((void *)g_family_only);
}

/* Runs iceval with args (NULL-terminated), standard input /dev/null. */
static ic_test_run_result run(const char *const *args) {
    ic_test_run_result r = ic_test_run(ic_test_bin("iceval"), args, NULL, g_dir);
    /* a sanitizer build reports through stderr (and may exit 1, like a runtime failure) */
    ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error"), "%s", r.err);
    return r;
}

static const char *data_dir(void) { return tmp_path("data"); }

/* iceval --json --quiet --weights W --data DIR EXTRA...; expects success. */
static cJSON *eval_json(const char *weights, const char *const *extra) {
    const char *a[40] = {"--json", "--quiet", "--weights", weights, "--data", data_dir()};
    int k = 6;
    for (int i = 0; extra && extra[i] && k < 39; i++) a[k++] = extra[i];
    a[k] = NULL;
    ic_test_run_result r = run(a);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON: %s", r.out);
    ic_test_run_free(&r);
    return j;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
    return v->valuedouble;
}

static const cJSON *item(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "\"%s\" missing", key);
    return v;
}

static long long cell(const cJSON *j, int t, int p) {
    return (long long)cJSON_GetArrayItem(cJSON_GetArrayItem(item(j, "confusion"), t), p)->valuedouble;
}

START_TEST(test_rigged_scores) {
    cJSON *j = eval_json(g_rigged, NULL);
    ck_assert_int_eq((int)num(j, "n"), N_CLIPS);
    ck_assert_int_eq((int)num(j, "n_notes"), 7);
    ck_assert_int_eq((int)num(j, "n_phrases"), 2);
    /* always guitar: 4 guitar clips of 9 right; column 3 holds every row's support */
    ck_assert_double_eq_tol(num(j, "accuracy"), 4.0 / 9, 1e-9);
    ck_assert_int_eq(cell(j, 0, 3), 3);   /* bass */
    ck_assert_int_eq(cell(j, 3, 3), 4);   /* guitar */
    ck_assert_int_eq(cell(j, 8, 3), 2);   /* string */
    const cJSON *pf = item(j, "per_family");
    ck_assert_double_eq_tol(num(item(pf, "guitar"), "precision"), 4.0 / 9, 1e-9);
    ck_assert_double_eq_tol(num(item(pf, "guitar"), "recall"), 1.0, 1e-9);
    ck_assert_double_eq_tol(num(item(pf, "bass"), "recall"), 0.0, 1e-9);
    ck_assert(cJSON_IsNull(item(item(pf, "bass"), "precision")));   /* never predicted */
    ck_assert(cJSON_IsNull(item(item(pf, "flute"), "recall")));     /* no examples */
    /* pitch: always MIDI 60; notes 60, 72, 60, 61, 48, 60 in range (10 is not) */
    ck_assert_int_eq((int)num(j, "pitch_n"), 6);
    ck_assert_double_eq_tol(num(j, "pitch_accuracy"), 3.0 / 6, 1e-9);
    ck_assert_double_eq_tol(num(j, "chroma_accuracy"), 5.0 / 6, 1e-9);
    /* always playing: no misses, every generated silence/noise window a false alarm */
    ck_assert_double_eq_tol(num(j, "activity_miss"), 0.0, 1e-12);
    ck_assert_double_eq_tol(num(j, "activity_false_alarm"), 1.0, 1e-12);
    ck_assert_int_eq((int)num(j, "activity_n_negative"), 49);
    const cJSON *neg = item(j, "negatives");
    ck_assert_int_eq(cJSON_GetArraySize(neg), 13);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(neg, 0), "kind")->valuestring, "silence");
    ck_assert_int_eq((int)num(cJSON_GetArrayItem(neg, 12), "false_alarms"), 4);
    ck_assert(cJSON_IsNull(item(j, "room_seed")));
    ck_assert_int_eq(cJSON_GetArraySize(item(j, "labels")), 11);
    cJSON_Delete(j);
    j = eval_json(g_silent, NULL);
    ck_assert_double_eq_tol(num(j, "activity_miss"), 1.0, 1e-12);
    ck_assert_double_eq_tol(num(j, "activity_false_alarm"), 0.0, 1e-12);
    cJSON_Delete(j);
    /* a model without pitch and activity heads: those scores are null */
    j = eval_json(g_family_only, NULL);
    ck_assert_double_eq_tol(num(j, "accuracy"), 4.0 / 9, 1e-9);
    ck_assert(cJSON_IsNull(item(j, "pitch_accuracy")));
    ck_assert(cJSON_IsNull(item(j, "activity_miss")));
    ck_assert(cJSON_IsNull(item(j, "activity_false_alarm")));
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_kind_filter) {
    cJSON *j = eval_json(g_rigged, (const char *[]){"--kind", "notes", NULL});
    ck_assert_int_eq((int)num(j, "n"), 7);
    ck_assert_int_eq((int)num(j, "n_phrases"), 0);
    ck_assert_double_eq_tol(num(j, "accuracy"), 3.0 / 7, 1e-9);
    ck_assert_int_eq((int)num(j, "pitch_n"), 6);
    cJSON_Delete(j);
    j = eval_json(g_rigged, (const char *[]){"--kind", "phrases", "--split", "test", NULL});
    ck_assert_int_eq((int)num(j, "n"), 2);
    ck_assert_int_eq((int)num(j, "n_notes"), 0);
    ck_assert_double_eq_tol(num(j, "accuracy"), 0.5, 1e-9);
    ck_assert_int_eq((int)num(j, "pitch_n"), 0);
    ck_assert(cJSON_IsNull(item(j, "pitch_accuracy")));
    cJSON_Delete(j);
}
END_TEST

/* A random model: whatever it predicts, the report must add up. */
static void check_consistent(const cJSON *j, int n) {
    ck_assert_int_eq((int)num(j, "n"), n);
    const cJSON *conf = item(j, "confusion");
    ck_assert_int_eq(cJSON_GetArraySize(conf), 11);
    long long sum = 0, trace = 0;
    const cJSON *labels = item(j, "labels"), *pf = item(j, "per_family");
    for (int t = 0; t < 11; t++) {
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(conf, t)), 11);
        long long row = 0;
        for (int p = 0; p < 11; p++) row += cell(j, t, p);
        sum += row;
        trace += cell(j, t, t);
        const cJSON *fam = item(pf, cJSON_GetArrayItem(labels, t)->valuestring);
        ck_assert_int_eq((long long)num(fam, "support"), row);
        if (row) ck_assert_double_eq_tol(num(fam, "recall"), (double)cell(j, t, t) / row, 1e-9);
        else ck_assert(cJSON_IsNull(item(fam, "recall")));
    }
    ck_assert_int_eq(sum, n);
    ck_assert_double_eq_tol(num(j, "accuracy"), (double)trace / n, 1e-9);
    double pa = num(j, "pitch_accuracy"), ca = num(j, "chroma_accuracy");
    ck_assert(pa >= 0 && pa <= ca && ca <= 1);
}

START_TEST(test_random_model_consistent) {
    cJSON *j = eval_json(g_random, NULL);
    check_consistent(j, N_CLIPS);
    cJSON_Delete(j);
    j = eval_json(g_random, (const char *[]){"--room", "7", "--threads", "2", NULL});
    check_consistent(j, N_CLIPS);
    ck_assert_int_eq((int)num(j, "room_seed"), 7);
    cJSON *k = eval_json(g_random, (const char *[]){"--room", "7", "--threads", "1", NULL});
    /* a room is drawn per clip from the seed: same numbers whatever the thread count */
    char *a = cJSON_PrintUnformatted(item(j, "confusion")), *b = cJSON_PrintUnformatted(item(k, "confusion"));
    ck_assert_str_eq(a, b);
    ck_assert_double_eq_tol(num(j, "pitch_accuracy"), num(k, "pitch_accuracy"), 1e-12);
    free(a);
    free(b);
    cJSON_Delete(j);
    cJSON_Delete(k);
}
END_TEST

START_TEST(test_text_and_png) {
    const char *png = tmp_path("conf.png");
    ic_test_run_result r = run((const char *[]){"--quiet", "--weights", g_rigged, "--data", data_dir(), "--png", png, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "examples         9 (7 notes, 2 phrases)") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "family accuracy  44.44%") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "pitch accuracy   50.00%, chroma 83.33% (6 notes") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "false alarms     100.00% (49 of 49") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "guitar          0      0      0      4") != NULL, "%s", r.out);
    ic_test_run_free(&r);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    ck_assert(png_image_begin_read_from_file(&pi, png));
    ck_assert_int_ge((int)pi.width, 11 * IC_CONFUSION_CELL_PX);
    ck_assert_int_ge((int)pi.height, 11 * IC_CONFUSION_CELL_PX);
    png_image_free(&pi);
    /* progress goes to stderr, never stdout */
    r = run((const char *[]){"--json", "--weights", g_rigged, "--data", data_dir(), NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.err, "iceval"));
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_ptr_nonnull(j);
    cJSON_Delete(j);
    ic_test_run_free(&r);
}
END_TEST

START_TEST(test_failures_and_usage) {
    const char *const *usage[] = {
        (const char *[]){"--data", "x", NULL},
        (const char *[]){"--weights", "x", NULL},
        (const char *[]){"--weights", "x", "--data", "y", "--kind", "chords", NULL},
        (const char *[]){"--weights", "x", "--data", "y", "--room", "-1", NULL},
        (const char *[]){"--weights", "x", "--data", "y", "--threads", "many", NULL},
        (const char *[]){"--weights", "x", "--data", "y", "--bogus", NULL},
        (const char *[]){"--weights", "x", "--data", NULL},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        ic_test_run_result r = run(usage[i]);
        ck_assert_msg(r.status == 2, "usage case %zu: exit %d", i, r.status);
        ck_assert_str_eq(r.out, "");
        ck_assert_ptr_nonnull(strstr(r.err, "--help"));
        ic_test_run_free(&r);
    }
    ic_test_run_result r = run((const char *[]){"--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: iceval"));
    ic_test_run_free(&r);
    /* runtime failures: exit 1 with the culprit named */
    const char *missing = tmp_path("none.icw");
    r = run((const char *[]){"--weights", missing, "--data", data_dir(), NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, missing));
    ic_test_run_free(&r);
    r = run((const char *[]){"--weights", g_rigged, "--data", data_dir(), "--split", "valid", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "no split 'valid'") != NULL, "%s", r.err);
    ic_test_run_free(&r);
    r = run((const char *[]){"--weights", g_rigged, "--data", data_dir(), "--png", tmp_path("no/dir/c.png"), NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, "no/dir/c.png"));
    ic_test_run_free(&r);
}
END_TEST

static Suite *iceval_suite(void) {
    Suite *s = suite_create("iceval");
    TCase *m = tcase_create("metrics");
    tcase_add_test(m, test_confusion_scores);
    tcase_add_test(m, test_undefined_ratios);
    tcase_add_test(m, test_pitch_scores);
    tcase_add_test(m, test_confusion_png_unit);
    suite_add_tcase(s, m);
    TCase *p = tcase_create("program");
    tcase_add_unchecked_fixture(p, setup, teardown);
    tcase_set_timeout(p, 120);
    tcase_add_test(p, test_rigged_scores);
    tcase_add_test(p, test_kind_filter);
    tcase_add_test(p, test_random_model_consistent);
    tcase_add_test(p, test_text_and_png);
    tcase_add_test(p, test_failures_and_usage);
    suite_add_tcase(s, p);
    return s;
}

IC_TEST_MAIN(iceval_suite)
