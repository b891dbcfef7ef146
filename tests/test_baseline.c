/* Tests of the MFCC baselines and the summary input of ic_model:
 *   - ic_summary_compute against hand-computed statistics;
 *   - a summary model round trips through save/load (kind, statistics, normalisation,
 *     parameters) and both copies compute the same network input, equal to the
 *     normalised statistics of the front-end matrix;
 *   - hostile or inconsistent summary meta is refused with a message; a file without
 *     meta "input" still loads as a frames model;
 *   - end to end (bin/icsynth, bin/ictrain, bin/iceval from $IC_BIN, default "bin"):
 *     both baselines train on a tiny rendered dataset (three families, training on
 *     TimGM6mb, testing on MuseScore's instruments) and beat chance by a wide margin,
 *     and iceval scores the saved model as ictrain's own test report did. */
#include "testutil.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <sys/wait.h>
#include "ic/baseline.h"
#include "ic/model.h"

static char tmp[64];
static const char *bin(void) { const char *b = getenv("IC_BIN"); return b ? b : "bin"; }

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

static cJSON *read_json(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    cJSON *j = cJSON_Parse(s);
    free(s);
    return j;
}

static void setup(void) {
    snprintf(tmp, sizeof tmp, "/tmp/ic_test_baseline_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
}
static void teardown(void) { ck_assert_int_eq(run("rm -rf %s", tmp), 0); }

/* ---- statistics ---- */

START_TEST(test_summary_statistics) {
    /* 2 bands x 4 frames */
    const float mat[8] = {1, 2, 4, 7, /* diffs 1 2 3 */ 5, 5, 5, 5};
    float out[8];
    ic_summary_compute(IC_SUMMARY_MEAN | IC_SUMMARY_STD | IC_SUMMARY_DELTA_MEAN | IC_SUMMARY_DELTA_STD, mat, 2, 4, out);
    const float want[8] = {3.5f, 5.0f,                       /* mean */
                           sqrtf(5.25f), 0.0f,               /* std: (6.25+2.25+0.25+12.25)/4 */
                           2.0f, 0.0f,                       /* delta mean */
                           sqrtf(2.0f / 3.0f), 0.0f};        /* delta std */
    for (int i = 0; i < 8; i++) ck_assert_msg(fabsf(out[i] - want[i]) < 1e-6f, "stat %d: %g, want %g", i, out[i], want[i]);
    /* a subset keeps the canonical order, packed */
    ic_summary_compute(IC_SUMMARY_STD | IC_SUMMARY_DELTA_MEAN, mat, 2, 4, out);
    ck_assert(fabsf(out[0] - sqrtf(5.25f)) < 1e-6f && out[1] == 0.0f && out[2] == 2.0f && out[3] == 0.0f);
    ck_assert_int_eq(ic_summary_count(IC_SUMMARY_MEAN), 1);
    ck_assert_int_eq(ic_summary_count(IC_SUMMARY_MEAN | IC_SUMMARY_STD | IC_SUMMARY_DELTA_STD), 3);
    /* one frame (mat read as 2 bands x 1 frame): no differences, deltas are 0 */
    ic_summary_compute(IC_SUMMARY_MEAN | IC_SUMMARY_DELTA_STD, mat, 2, 1, out);
    ck_assert(out[0] == 1.0f && out[1] == 2.0f && out[2] == 0.0f && out[3] == 0.0f);
}
END_TEST

/* ---- summary models in files ---- */

static ic_model *small_summary_model(unsigned summary, ic_error *err) {
    ic_frontend_params fp;
    ic_baseline_frontend(&fp);
    fp.sample_rate = 8000;
    fp.fmax = 4000;
    fp.n_fft = 512;
    fp.win_length = 512;
    fp.hop = 256;
    fp.n_mels = 32;
    fp.n_mfcc = 8;
    cJSON *arch = ic_baseline_arch(IC_BASELINE_MLP, fp.n_mfcc * ic_summary_count(summary));
    ic_model *m = ic_model_create_summary(arch, &fp, 8000, 21, summary, err);
    cJSON_Delete(arch);
    return m;
}

static void sine(float *x, size_t n, float f, float rate) {
    for (size_t i = 0; i < n; i++) x[i] = 0.3f * sinf(2 * (float)M_PI * f * (float)i / rate) + 0.01f * (float)(i % 7);
}

START_TEST(test_summary_model_round_trip) {
    ic_error err = {0};
    unsigned summary = IC_SUMMARY_MEAN | IC_SUMMARY_STD | IC_SUMMARY_DELTA_MEAN | IC_SUMMARY_DELTA_STD;
    ic_model *m = small_summary_model(summary, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_int_eq(m->input, IC_INPUT_SUMMARY);
    ck_assert_int_eq(m->n_features, 32);
    ck_assert_int_eq(m->n_frames, 1);
    ck_assert_int_eq(m->fe_features, 8);
    ck_assert_int_eq(m->fe_frames, 32); /* 8000 samples, hop 256, centred: 1 + 8000/256 */
    ck_assert_int_eq(m->head_family, 0);
    ck_assert_int_eq(m->head_pitch, -1);
    ic_rng r;
    ic_rng_seed(&r, 7);
    ic_net_init(m->net, &r);
    for (int i = 0; i < m->n_features; i++) {
        m->norm_mean[i] = 0.5f * (float)i - 3.0f;
        m->norm_std[i] = 1.0f + 0.25f * (float)i;
    }
    /* running statistics that differ from the init, so loading them is checked too */
    for (size_t i = 0; i < m->net->n_buf_floats; i++) m->net->buf[i] += 0.01f * (float)i;
    char path[128];
    snprintf(path, sizeof path, "%s/s.icw", tmp);
    ck_assert_msg(ic_model_save(m, path, NULL, &err) == IC_OK, "%s", err.msg);
    ic_model *l = ic_model_load(path, &err);
    ck_assert_msg(l != NULL, "%s", err.msg);
    ck_assert_int_eq(l->input, IC_INPUT_SUMMARY);
    ck_assert_uint_eq(l->summary, summary);
    ck_assert_int_eq(l->n_features, m->n_features);
    ck_assert_int_eq(l->n_frames, 1);
    ck_assert_int_eq(l->fe_frames, m->fe_frames);
    ck_assert(memcmp(l->norm_mean, m->norm_mean, 32 * sizeof(float)) == 0);
    ck_assert(memcmp(l->norm_std, m->norm_std, 32 * sizeof(float)) == 0);
    ck_assert(memcmp(l->net->param, m->net->param, m->net->n_param_floats * sizeof(float)) == 0);
    ck_assert(memcmp(l->net->buf, m->net->buf, m->net->n_buf_floats * sizeof(float)) == 0);

    /* the feature path: normalised statistics of the front end's matrix */
    float x[6000], a[32], b[32], want[32];
    sine(x, 6000, 440, 8000); /* shorter than the window: zero padded */
    size_t wf = ic_model_work_floats(m);
    float *work = malloc(wf * sizeof(float));
    ic_model_features(m, x, 6000, a, work);
    ic_model_features(l, x, 6000, b, work);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    float padded[8000] = {0};
    memcpy(padded, x, sizeof x);
    float *mat = malloc((size_t)m->fe_features * m->fe_frames * sizeof(float));
    ic_frontend_compute(m->fe, padded, 8000, mat, work);
    ic_summary_compute(summary, mat, m->fe_features, m->fe_frames, want);
    for (int i = 0; i < 32; i++) want[i] = (want[i] - m->norm_mean[i]) / m->norm_std[i];
    ck_assert_double_le(ic_test_max_abs_diff(a, want, 32), 1e-5);

    /* same logits from both copies */
    ck_assert_int_eq(ic_net_reserve(m->net, 1, &err), IC_OK);
    ck_assert_int_eq(ic_net_reserve(l->net, 1, &err), IC_OK);
    ic_net_forward(m->net, a, 1, 0, NULL);
    ic_net_forward(l->net, b, 1, 0, NULL);
    ck_assert(memcmp(ic_net_logits(m->net, 0), ic_net_logits(l->net, 0), 11 * sizeof(float)) == 0);
    free(mat);
    free(work);
    ic_model_free(l);
    ic_model_free(m);
}
END_TEST

/* Writes a model file whose meta fields are replaced by `edit` (JSON object text). */
static void save_with_meta(const ic_model *m, const char *path, const char *edit, int drop_input) {
    cJSON *meta = ic_model_meta(m, NULL);
    cJSON *e = cJSON_Parse(edit);
    ck_assert_ptr_nonnull(e);
    const cJSON *it;
    cJSON_ArrayForEach(it, e) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, it->string);
        cJSON_AddItemToObject(meta, it->string, cJSON_Duplicate(it, 1));
    }
    if (drop_input) {
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "input");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "summary");
    }
    ic_icw_tensor t[2];
    ic_model_norm_tensors(m, t);
    ic_error err = {0};
    ck_assert_msg(ic_net_save(m->net, path, meta, t, 2, &err) == IC_OK, "%s", err.msg);
    cJSON_Delete(e);
    cJSON_Delete(meta);
}

static void expect_load_error(const char *path, const char *needle) {
    ic_error err = {0};
    ic_model *l = ic_model_load(path, &err);
    ck_assert_msg(l == NULL, "%s loaded, expected an error naming %s", path, needle);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "error '%s' does not name '%s'", err.msg, needle);
    ck_assert_msg(strstr(err.msg, path) != NULL, "error '%s' does not name the file", err.msg);
}

START_TEST(test_summary_meta_checked) {
    ic_error err = {0};
    ic_model *m = small_summary_model(IC_SUMMARY_MEAN | IC_SUMMARY_STD, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    char path[128];
    snprintf(path, sizeof path, "%s/bad.icw", tmp);
    save_with_meta(m, path, "{\"summary\": [\"std\", \"mean\"]}", 0);
    expect_load_error(path, "summary");
    save_with_meta(m, path, "{\"summary\": [\"mean\", \"median\"]}", 0);
    expect_load_error(path, "median");
    save_with_meta(m, path, "{\"summary\": [\"mean\", \"mean\"]}", 0);
    expect_load_error(path, "summary");
    save_with_meta(m, path, "{\"summary\": []}", 0);
    expect_load_error(path, "summary");
    save_with_meta(m, path, "{\"input\": \"spectrum\"}", 0);
    expect_load_error(path, "input");
    /* statistics that no longer match the network input or the normalisation tensors */
    save_with_meta(m, path, "{\"summary\": [\"mean\", \"std\", \"delta_std\"]}", 0);
    expect_load_error(path, "[24]");
    /* without "input" the file is a frames model, whose [16] input does not fit the front end */
    save_with_meta(m, path, "{}", 1);
    expect_load_error(path, "front end");
    ic_model_free(m);

    /* a summary model whose architecture does not read the summary's size */
    ic_frontend_params fp;
    ic_baseline_frontend(&fp);
    cJSON *arch = ic_baseline_arch(IC_BASELINE_LOGREG, 21);
    ic_model *bad = ic_model_create_summary(arch, &fp, 64000, 21, IC_SUMMARY_MEAN, &err);
    ck_assert_ptr_null(bad);
    ck_assert_msg(strstr(err.msg, "[20]") != NULL, "%s", err.msg);
    bad = ic_model_create_summary(arch, &fp, 64000, 21, 0, &err);
    ck_assert_ptr_null(bad);
    cJSON_Delete(arch);
}
END_TEST

START_TEST(test_frames_model_without_input_field) {
    /* a CNN-style file written before "input" existed still loads as frames */
    ic_frontend_params fp;
    ic_frontend_defaults(&fp);
    fp.sample_rate = 8000;
    fp.fmax = 4000;
    fp.n_mels = 16;
    fp.n_fft = 256;
    fp.win_length = 256;
    fp.hop = 256;
    size_t win = 4096;
    int frames = (int)ic_frontend_n_frames(&fp, win);
    char arch_txt[256];
    snprintf(arch_txt, sizeof arch_txt,
             "{\"input\": [1, 16, %d], \"layers\": [{\"type\": \"gap\"}], \"heads\": [{\"name\": \"family\", \"classes\": 11}]}",
             frames);
    cJSON *arch = cJSON_Parse(arch_txt);
    ic_error err = {0};
    ic_model *m = ic_model_create(arch, &fp, win, 21, &err);
    cJSON_Delete(arch);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ck_assert_int_eq(m->input, IC_INPUT_FRAMES);
    ck_assert_int_eq(m->n_features, 16);
    ck_assert_int_eq(m->n_frames, frames);
    ck_assert_int_eq(m->fe_frames, frames);
    char path[128];
    snprintf(path, sizeof path, "%s/old.icw", tmp);
    save_with_meta(m, path, "{}", 1);
    ic_model *l = ic_model_load(path, &err);
    ck_assert_msg(l != NULL, "%s", err.msg);
    ck_assert_int_eq(l->input, IC_INPUT_FRAMES);
    ck_assert_int_eq(l->n_frames, frames);
    ck_assert_uint_eq(ic_model_work_floats(l), ic_model_work_floats(m));
    ic_model_free(l);
    ic_model_free(m);
}
END_TEST

/* ---- end to end: ictrain --model mfcc-logreg / mfcc, then iceval ---- */

static void render(void) {
    ck_assert_int_eq(run("%s/icsynth --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 --out %s/d --split train "
                         "--programs 0,56,73 --velocities 50,100 --pitch-step 4 --jobs 2 2>/dev/null", bin(), tmp), 0);
    ck_assert_int_eq(run("%s/icsynth --soundfont /usr/share/sounds/sf3/MuseScore_General.sf3 --out %s/d "
                         "--split valid:1,test:1 --programs 0,56,73 --velocities 75 --pitch-step 3 --jobs 2 2>/dev/null",
                         bin(), tmp), 0);
}

static void train_and_eval(const char *kind) {
    ck_assert_int_eq(run("%s/ictrain --model %s --data %s/d --out %s/%s.icw --epochs 30 --batch 16 --lr 0.01 "
                         "--weight-decay 0 --valid-max 0 --threads 2 --quiet > %s/%s-report.json",
                         bin(), kind, tmp, tmp, kind, tmp, kind), 0);
    char path[160];
    snprintf(path, sizeof path, "%s/%s-report.json", tmp, kind);
    cJSON *rep = read_json(path);
    ck_assert_ptr_nonnull(rep);
    const cJSON *test = cJSON_GetObjectItem(rep, "test");
    double acc = cJSON_GetNumberValue(cJSON_GetObjectItem(test, "family_accuracy"));
    double n = cJSON_GetNumberValue(cJSON_GetObjectItem(test, "n"));
    fprintf(stderr, "%s tiny: test family accuracy %.3f on %g clips of an unseen soundfont (chance 0.33)\n", kind, acc, n);
    ck_assert_double_ge(n, 20);
    ck_assert_double_ge(acc, 0.55);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rep, "kind")), kind);

    /* iceval reads the file like any model and computes features from the audio
     * (f32, not the f16 cache): the same accuracy up to a clip or two */
    ck_assert_int_eq(run("%s/iceval --weights %s/%s.icw --data %s/d --json --quiet --png %s/%s.png > %s/%s-eval.json",
                         bin(), tmp, kind, tmp, tmp, kind, tmp, kind), 0);
    snprintf(path, sizeof path, "%s/%s-eval.json", tmp, kind);
    cJSON *ev = read_json(path);
    ck_assert_ptr_nonnull(ev);
    ck_assert_double_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "n")), n);
    double eacc = cJSON_GetNumberValue(cJSON_GetObjectItem(ev, "accuracy"));
    ck_assert_msg(fabs(eacc - acc) <= 2.0 / n + 1e-9, "iceval %.4f vs ictrain %.4f", eacc, acc);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ev, "pitch_accuracy")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ev, "activity_miss")));
    ck_assert_int_eq(run("test -s %s/%s.png", tmp, kind), 0);
    /* and icinfer names a family for a clip */
    ck_assert_int_eq(run("%s/icinfer --weights %s/%s.icw --json %s/d/nsynth-test/audio/$(ls %s/d/nsynth-test/audio | head -1)"
                         " | grep -q '\"family\"'", bin(), tmp, kind, tmp, tmp), 0);
    cJSON_Delete(ev);
    cJSON_Delete(rep);
}

START_TEST(test_baselines_learn_unseen_instruments) {
    render();
    train_and_eval("mfcc-logreg");
    train_and_eval("mfcc");
    /* the MFCC cache lives apart from the CNN's (its own directory) */
    ck_assert_int_eq(run("ls %s/d/cache/mfcc/train-*.icfc > /dev/null", tmp), 0);
    /* usage errors */
    ck_assert_int_eq(run("%s/ictrain --model mfcc-svm --data %s/d --out %s/x.icw 2>/dev/null", bin(), tmp, tmp), 2);
    ck_assert_int_eq(run("%s/ictrain --model mfcc --data %s/d --out %s/x.icw --resume %s/x.ckpt 2>/dev/null", bin(), tmp,
                         tmp, tmp), 2);
    ck_assert_int_eq(run("%s/ictrain --model mfcc --data %s/nowhere --out %s/x.icw --quiet 2>/dev/null", bin(), tmp, tmp), 1);
}
END_TEST

static Suite *baseline_suite(void) {
    Suite *s = suite_create("baseline");
    TCase *tc = tcase_create("baseline");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_summary_statistics);
    tcase_add_test(tc, test_summary_model_round_trip);
    tcase_add_test(tc, test_summary_meta_checked);
    tcase_add_test(tc, test_frames_model_without_input_field);
    tcase_add_test(tc, test_baselines_learn_unseen_instruments);
    suite_add_tcase(s, tc);
    return s;
}
IC_TEST_MAIN(baseline_suite)
