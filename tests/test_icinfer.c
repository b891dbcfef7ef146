/* End-to-end tests of bin/icinfer (directory from $IC_BIN, default "bin", as `make
 * test` sets it).  Models are tiny random networks (8 kHz, 16 mel bands, 4 s windows)
 * whose heads are rigged: head weights zero and chosen biases, so every window's
 * probabilities are known exactly (e.g. family logits 2 for guitar and 0 elsewhere:
 * p(guitar) = e^2 / (e^2 + 10)).  That checks the plumbing from the network's heads
 * to the output: label order, pitch_base, note names, the playing threshold.
 * Covered: JSON fields and types, window counts and times (full, partial, dropped,
 * short files, --hop shorter and longer than the window), the summary, text output,
 * standard input (redirected and piped), several files, every bad input of the
 * front end (exit 1, file named, nothing on stdout), bad usage (exit 2), and the
 * default model search.  A trained-model check (right family and pitch, not playing
 * for silence and noise) needs only a model path, wavs, and expect_family_pitch() /
 * expect_not_playing(). */
#include "testutil.h"
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <ftw.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ic/model.h"
#include "testutil_model.h"
#include "ic/predict.h"

#define RATE 8000
#define WINDOW_S 4

static char g_dir[256];

static void make_tmpdir(void) {
    snprintf(g_dir, sizeof g_dir, "/tmp/ic_test_icinfer_XXXXXX");
    if (!mkdtemp(g_dir)) { perror("mkdtemp"); exit(1); }
}

static int rm_entry(const char *p, const struct stat *s, int flag, struct FTW *f) { return remove(p); }
static void remove_tmpdir(void) { nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Paths stay valid for the next 15 calls. */
static char g_paths[16][512];
static int g_next_path;
static const char *tmp_path(const char *name) {
    char *b = g_paths[g_next_path];
    g_next_path = (g_next_path + 1) % 16;
    snprintf(b, sizeof g_paths[0], "%s/%s", g_dir, name);
    return b;
}

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

/* ---- models ---- */

typedef struct {
    int family, pitch, activity;  /* heads present */
    int random;                   /* 1: leave the heads as initialised (not rigged) */
    int family_class;             /* class given logit 2 (others 0) */
    int pitch_class;              /* class given logit 5 */
    float activity_logit;         /* playing - silent logit */
} model_spec;

static void make_model(const char *path, const model_spec *s) {
    ic_model *m = ic_test_tiny_model(RATE, (size_t)WINDOW_S * RATE, s->family, s->pitch, s->activity, 1);
    ic_error err;
    float bias[88] = {0};
    if (s->random) {
        ck_assert_msg(ic_model_save(m, path, NULL, &err) == IC_OK, "%s", err.msg);
        ic_model_free(m);
        return;
    }
    if (s->family) {
        memset(bias, 0, sizeof bias);
        bias[s->family_class] = 2.0f;
        ic_test_set_head(m, m->head_family, bias);
    }
    if (s->pitch) {
        memset(bias, 0, sizeof bias);
        bias[s->pitch_class] = 5.0f;
        ic_test_set_head(m, m->head_pitch, bias);
    }
    if (s->activity) {
        bias[0] = 0;
        bias[1] = s->activity_logit;
        ic_test_set_head(m, m->head_activity, bias);
    }
    ck_assert_msg(ic_model_save(m, path, NULL, &err) == IC_OK, "%s", err.msg);
    ic_model_free(m);
}

static const char *g_model, *g_silent_model, *g_family_only, *g_random;

/* guitar (class 3), pitch class 39 = MIDI 60 = C4, p(playing) = 1/(1+e^-3) */
static void make_models(void) {
    make_tmpdir();
    model_spec s = {1, 1, 1, 0, 3, 39, 3.0f};
    g_model = strdup(tmp_path("model.icw"));
    make_model(g_model, &s);
    s.activity_logit = -3.0f;
    g_silent_model = strdup(tmp_path("silent.icw"));
    make_model(g_silent_model, &s);
    model_spec f = {1, 0, 0, 0, 8, 0, 0};
    g_family_only = strdup(tmp_path("family_only.icw"));
    make_model(g_family_only, &f);
    model_spec rnd = {1, 1, 1, 1, 0, 0, 0};
    g_random = strdup(tmp_path("random.icw"));
    make_model(g_random, &rnd);
}

static void drop_models(void) {
    remove_tmpdir();
    free((void *)g_model);
    free((void *)g_silent_model);
    free((void *)g_family_only);
    free((void *)g_random);
}

/* ---- audio ---- */

static void write_wav(const char *path, int rate, int channels, double seconds, int format) {
    SF_INFO in = {.samplerate = rate, .channels = channels, .format = SF_FORMAT_WAV | format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    ck_assert_msg(sf != NULL, "%s: %s", path, sf_strerror(NULL));
    long n = lrint(seconds * rate);
    float v[8];
    for (long t = 0; t < n; t++) {
        for (int c = 0; c < channels; c++) v[c] = (float)(0.3 * sin(2 * M_PI * 261.63 * (double)t / rate));
        ck_assert_int_eq(sf_writef_float(sf, v, 1), 1);
    }
    sf_close(sf);
}

/* ---- running the program ---- */

typedef struct { int status; char *out, *err; } run_result;

static void run_free(run_result *r) { free(r->out); free(r->err); }

static char g_exe[512];
static const char *exe_path(void) {
    char *exe = g_exe;
    const char *bin = getenv("IC_BIN");
    snprintf(exe, sizeof g_exe, "%s/icinfer", bin && *bin ? bin : "bin");
    ck_assert_msg(access(exe, X_OK) == 0, "%s is not built (run make, or set IC_BIN)", exe);
    return exe;
}

/* Runs exe with args (NULL-terminated).  stdin: a file redirected (stdin_path), a
 * pipe fed from pipe_path by a child, or /dev/null.  env_weights: IC_WEIGHTS value
 * (NULL: unset). */
static run_result run_full(const char *exe, const char *stdin_path, const char *pipe_path, const char *env_weights,
                           const char *const *args) {
    char outp[600], errp[600];
    snprintf(outp, sizeof outp, "%s/stdout.txt", g_dir);
    snprintf(errp, sizeof errp, "%s/stderr.txt", g_dir);
    const char *argv[40];
    int k = 0;
    argv[k++] = exe;
    for (int i = 0; args[i] && k < 39; i++) argv[k++] = args[i];
    argv[k] = NULL;
    int pfd[2] = {-1, -1};
    pid_t feeder = -1;
    if (pipe_path) {
        ck_assert_int_eq(pipe(pfd), 0);
        feeder = fork();
        ck_assert_int_ge(feeder, 0);
        if (feeder == 0) {
            close(pfd[0]);
            int fd = open(pipe_path, O_RDONLY);
            char b[4096];
            ssize_t n;
            while (fd >= 0 && (n = read(fd, b, sizeof b)) > 0)
                if (write(pfd[1], b, (size_t)n) != n) break;
            _exit(0);
        }
    }
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int in = pipe_path ? pfd[0] : open(stdin_path ? stdin_path : "/dev/null", O_RDONLY);
        int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(127);
        dup2(in, 0); dup2(out, 1); dup2(err, 2);
        if (pipe_path) close(pfd[1]);
        if (env_weights) setenv("IC_WEIGHTS", env_weights, 1);
        else unsetenv("IC_WEIGHTS");
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    if (pipe_path) { close(pfd[0]); close(pfd[1]); }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    if (feeder > 0) waitpid(feeder, NULL, 0);
    ck_assert_msg(WIFEXITED(st), "icinfer died (signal %d)", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    run_result r = {WEXITSTATUS(st), slurp(outp), slurp(errp)};
    ck_assert_ptr_nonnull(r.out);
    ck_assert_ptr_nonnull(r.err);
    /* a sanitizer build reports through stderr (and may exit 1, like a runtime failure) */
    ck_assert_msg(!strstr(r.err, "Sanitizer") && !strstr(r.err, "runtime error"), "%s", r.err);
    return r;
}

static run_result run(const char *const *args) { return run_full(exe_path(), NULL, NULL, NULL, args); }

/* Runs with --json, expects success, returns the parsed document. */
static cJSON *run_json(const char *const *args) {
    const char *a[40];
    int k = 0;
    a[k++] = "--json";
    for (int i = 0; args[i] && k < 39; i++) a[k++] = args[i];
    a[k] = NULL;
    run_result r = run(a);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    cJSON *j = cJSON_Parse(r.out);
    ck_assert_msg(j != NULL, "not JSON: %s", r.out);
    run_free(&r);
    return j;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "\"%s\" is not a number", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(cJSON_IsString(v), "\"%s\" is not a string", key);
    return v->valuestring;
}

static const cJSON *item(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    ck_assert_msg(v != NULL, "\"%s\" missing", key);
    return v;
}

/* Every window of a file object: times as expected (ends[i] < 0: start + 4 s). */
static void check_times(const cJSON *file, int n, const double *starts, const double *ends) {
    const cJSON *ws = item(file, "windows");
    ck_assert(cJSON_IsArray(ws));
    ck_assert_int_eq(cJSON_GetArraySize(ws), n);
    for (int i = 0; i < n; i++) {
        const cJSON *w = cJSON_GetArrayItem(ws, i);
        ck_assert_double_eq_tol(num(w, "start"), starts[i], 1e-3);
        ck_assert_double_eq_tol(num(w, "end"), ends[i] < 0 ? starts[i] + WINDOW_S : ends[i], 1e-3);
    }
}

/* A playing window of the rigged model: guitar with p = e^2/(e^2+10), top 3 guitar,
 * bass, brass (ties by class order), C4 (60) with p = e^5/(e^5+87). */
static void check_window(const cJSON *w) {
    ck_assert(cJSON_IsTrue(item(w, "playing")));
    ck_assert_double_eq_tol(num(w, "p_playing"), 1 / (1 + exp(-3.0)), 1e-4);
    ck_assert_str_eq(str(w, "family"), "guitar");
    double pg = exp(2.0) / (exp(2.0) + 10);
    ck_assert_double_eq_tol(num(w, "confidence"), pg, 1e-4);
    const cJSON *top = item(w, "top");
    ck_assert_int_eq(cJSON_GetArraySize(top), 3);
    const char *want[3] = {"guitar", "bass", "brass"};
    for (int k = 0; k < 3; k++) {
        const cJSON *t = cJSON_GetArrayItem(top, k);
        ck_assert_str_eq(str(t, "family"), want[k]);
        ck_assert_double_eq_tol(num(t, "p"), k ? 1 / (exp(2.0) + 10) : pg, 1e-4);
    }
    const cJSON *p = item(w, "pitch");
    ck_assert_int_eq((int)num(p, "midi"), 60);
    ck_assert_str_eq(str(p, "note"), "C4");
    ck_assert_double_eq_tol(num(p, "p"), exp(5.0) / (exp(5.0) + 87), 1e-4);
}

/* For checks of a trained model (the end-to-end test that trains one): icinfer on
 * file with weights must exit 0, call every window playing, name `family` for each,
 * and give `midi` (when >= 0) as the pitch of each. */
static void expect_family_pitch(const char *weights, const char *file, const char *family, int midi) {
    cJSON *j = run_json((const char *[]){"--weights", weights, file, NULL});
    const cJSON *w;
    ck_assert_int_gt(cJSON_GetArraySize(item(j, "windows")), 0);
    cJSON_ArrayForEach(w, item(j, "windows")) {
        ck_assert_msg(cJSON_IsTrue(item(w, "playing")), "%s: a window at %.2f s is not playing", file, num(w, "start"));
        ck_assert_str_eq(str(w, "family"), family);
        if (midi >= 0) ck_assert_int_eq((int)num(item(w, "pitch"), "midi"), midi);
    }
    cJSON_Delete(j);
}

/* Same, for a file where nothing plays: every window not playing, no family heard. */
static void expect_not_playing(const char *weights, const char *file) {
    cJSON *j = run_json((const char *[]){"--weights", weights, file, NULL});
    const cJSON *w;
    ck_assert_int_gt(cJSON_GetArraySize(item(j, "windows")), 0);
    cJSON_ArrayForEach(w, item(j, "windows"))
        ck_assert_msg(cJSON_IsFalse(item(w, "playing")), "%s: window at %.2f s is playing (p %.3f)", file,
                      num(w, "start"), num(w, "p_playing"));
    ck_assert_int_eq(cJSON_GetArraySize(item(item(j, "summary"), "families")), 0);
    cJSON_Delete(j);
}

START_TEST(test_json_windows) {
    const char *f95 = tmp_path("a95.wav"), *f85 = tmp_path("a85.wav");
    write_wav(f95, 44100, 2, 9.5, SF_FORMAT_PCM_16);
    write_wav(f85, RATE, 1, 8.5, SF_FORMAT_PCM_16);
    cJSON *j = run_json((const char *[]){"--weights", g_model, f95, NULL});
    ck_assert(cJSON_IsObject(j));
    ck_assert_str_eq(str(j, "file"), f95);
    ck_assert_int_eq((int)num(j, "sample_rate"), 44100);
    ck_assert_double_eq_tol(num(j, "duration"), 9.5, 2e-3);
    ck_assert_double_eq_tol(num(j, "window"), 4, 1e-9);
    ck_assert_double_eq_tol(num(j, "hop"), 4, 1e-9);
    check_times(j, 3, (double[]){0, 4, 8}, (double[]){-1, -1, 9.5});
    const cJSON *w;
    cJSON_ArrayForEach(w, item(j, "windows")) check_window(w);
    const cJSON *sum = item(j, "summary"), *fams = item(sum, "families");
    ck_assert_int_eq(cJSON_GetArraySize(fams), 1);
    ck_assert_str_eq(str(cJSON_GetArrayItem(fams, 0), "family"), "guitar");
    ck_assert_double_eq_tol(num(cJSON_GetArrayItem(fams, 0), "seconds"), 9.5, 2e-3);
    ck_assert_int_eq((int)num(cJSON_GetArrayItem(fams, 0), "windows"), 3);
    ck_assert_double_eq_tol(num(sum, "playing_seconds"), 9.5, 2e-3);
    ck_assert_double_eq_tol(num(sum, "not_playing_seconds"), 0, 1e-9);
    cJSON_Delete(j);
    /* 8.5 s: the last 0.5 s is shorter than 1 s and dropped */
    j = run_json((const char *[]){"--weights", g_model, "--window", "4", f85, NULL});
    ck_assert_int_eq((int)num(j, "sample_rate"), RATE);
    ck_assert_double_eq_tol(num(j, "duration"), 8.5, 1e-3);
    check_times(j, 2, (double[]){0, 4}, (double[]){-1, -1});
    ck_assert_double_eq_tol(num(item(j, "summary"), "playing_seconds"), 8, 1e-3);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_hop_and_short) {
    const char *f95 = tmp_path("h95.wav"), *f8 = tmp_path("h8.wav"), *fs = tmp_path("short.wav"), *f52 = tmp_path("h52.wav");
    write_wav(f95, RATE, 1, 9.5, SF_FORMAT_PCM_16);
    write_wav(f8, RATE, 1, 8.0, SF_FORMAT_PCM_16);
    write_wav(fs, 16000, 1, 0.5, SF_FORMAT_PCM_16);
    write_wav(f52, RATE, 1, 5.2, SF_FORMAT_PCM_16);
    /* hop 2: full windows at 0, 2, 4, then 6-9.5 padded (3.5 s, reaches past 8) */
    cJSON *j = run_json((const char *[]){"--weights", g_model, "--hop", "2", f95, NULL});
    check_times(j, 4, (double[]){0, 2, 4, 6}, (double[]){-1, -1, -1, 9.5});
    ck_assert_double_eq_tol(num(j, "hop"), 2, 1e-9);
    /* each window stands for 2 s, the last for its 3.5 s: 9.5 s in all */
    ck_assert_double_eq_tol(num(item(j, "summary"), "playing_seconds"), 9.5, 2e-3);
    cJSON_Delete(j);
    /* hop 2 on 8 s: 6-8 adds nothing past the last full window (4-8) */
    j = run_json((const char *[]){"--weights", g_model, "--hop", "2", f8, NULL});
    check_times(j, 3, (double[]){0, 2, 4}, (double[]){-1, -1, -1});
    cJSON_Delete(j);
    /* hop 5: 0-4, 1 s skipped, 5-9; nothing starts at 10 */
    j = run_json((const char *[]){"--weights", g_model, "--hop", "5", f95, NULL});
    check_times(j, 2, (double[]){0, 5}, (double[]){-1, -1});
    ck_assert_double_eq_tol(num(item(j, "summary"), "playing_seconds"), 8, 2e-3);
    cJSON_Delete(j);
    /* hop 5 on 5.2 s: the window at 5 holds 0.2 s: dropped */
    j = run_json((const char *[]){"--weights", g_model, "--hop", "5", f52, NULL});
    check_times(j, 1, (double[]){0}, (double[]){-1});
    cJSON_Delete(j);
    /* a file shorter than 1 s gets one padded window */
    j = run_json((const char *[]){"--weights", g_model, fs, NULL});
    check_times(j, 1, (double[]){0}, (double[]){0.5});
    check_window(cJSON_GetArrayItem(item(j, "windows"), 0));
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_not_playing_and_heads) {
    const char *f = tmp_path("np.wav");
    write_wav(f, RATE, 1, 9.5, SF_FORMAT_PCM_16);
    cJSON *j = run_json((const char *[]){"--weights", g_silent_model, f, NULL});
    const cJSON *w;
    cJSON_ArrayForEach(w, item(j, "windows")) {
        ck_assert(cJSON_IsFalse(item(w, "playing")));
        ck_assert_double_eq_tol(num(w, "p_playing"), 1 / (1 + exp(3.0)), 1e-4);
        ck_assert(cJSON_IsNull(item(w, "family")));
        ck_assert(cJSON_IsNull(item(w, "confidence")));
        ck_assert(cJSON_IsNull(item(w, "pitch")));
        ck_assert_int_eq(cJSON_GetArraySize(item(w, "top")), 0);
    }
    const cJSON *sum = item(j, "summary");
    ck_assert_int_eq(cJSON_GetArraySize(item(sum, "families")), 0);
    ck_assert_double_eq_tol(num(sum, "not_playing_seconds"), 9.5, 2e-3);
    cJSON_Delete(j);
    expect_not_playing(g_silent_model, f);
    expect_family_pitch(g_model, f, "guitar", 60);
    /* family head only: always playing, no pitch */
    j = run_json((const char *[]){"--weights", g_family_only, f, NULL});
    cJSON_ArrayForEach(w, item(j, "windows")) {
        ck_assert(cJSON_IsTrue(item(w, "playing")));
        ck_assert_double_eq_tol(num(w, "p_playing"), 1, 1e-9);
        ck_assert_str_eq(str(w, "family"), "string");
        ck_assert(cJSON_IsNull(item(w, "pitch")));
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_text_output) {
    const char *f = tmp_path("t.wav");
    write_wav(f, RATE, 1, 9.5, SF_FORMAT_PCM_16);
    run_result r = run((const char *[]){"--weights", g_model, f, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.err, "");
    ck_assert_msg(strstr(r.out, "3 windows of 4.00 s") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "guitar 0.42, bass 0.06, brass 0.06") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "C4 (60) 0.63") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "    8.00     9.50  yes") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "summary: guitar 9.5 s\n") != NULL, "%s", r.out);
    run_free(&r);
    r = run((const char *[]){"--weights", g_silent_model, f, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "no      (p 0.05)") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "summary: nothing playing; not playing 9.5 s") != NULL, "%s", r.out);
    run_free(&r);
}
END_TEST

START_TEST(test_stdin_and_several_files) {
    const char *f = tmp_path("in.wav"), *g = tmp_path("in2.flac");
    write_wav(f, 22050, 1, 9.5, SF_FORMAT_PCM_16);
    SF_INFO in = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_FLAC | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(g, SFM_WRITE, &in);
    ck_assert_ptr_nonnull(sf);
    float z[1600] = {0};
    for (int i = 0; i < 30; i++) sf_writef_float(sf, z, 1600);   /* 3 s */
    sf_close(sf);
    /* redirected file and pipe */
    for (int piped = 0; piped < 2; piped++) {
        run_result r = run_full(exe_path(), piped ? NULL : f, piped ? f : NULL, NULL,
                                (const char *[]){"--json", "--weights", g_model, "-", NULL});
        ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
        cJSON *j = cJSON_Parse(r.out);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(str(j, "file"), "-");
        ck_assert_int_eq((int)num(j, "sample_rate"), 22050);
        check_times(j, 3, (double[]){0, 4, 8}, (double[]){-1, -1, 9.5});
        cJSON_Delete(j);
        run_free(&r);
    }
    /* two files: a JSON array in order */
    cJSON *j = run_json((const char *[]){"--weights", g_model, f, g, NULL});
    ck_assert(cJSON_IsArray(j));
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(j, 0), "file"), f);
    ck_assert_str_eq(str(cJSON_GetArrayItem(j, 1), "file"), g);
    check_times(cJSON_GetArrayItem(j, 1), 1, (double[]){0}, (double[]){3});
    cJSON_Delete(j);
    /* a bad file among good ones: the others are still done, exit 1 */
    const char *missing = tmp_path("nope.wav");
    run_result r = run((const char *[]){"--json", "--weights", g_model, f, missing, g, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, missing));
    j = cJSON_Parse(r.out);
    ck_assert(cJSON_IsArray(j));
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    cJSON_Delete(j);
    run_free(&r);
    /* text: one block per file */
    r = run((const char *[]){"--weights", g_model, f, g, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, f));
    ck_assert_ptr_nonnull(strstr(r.out, g));
    ck_assert_ptr_nonnull(strstr(r.out, "\n\n"));
    run_free(&r);
}
END_TEST

static void write_bytes(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

START_TEST(test_bad_inputs) {
    const char *empty = tmp_path("empty.wav"), *text = tmp_path("text.wav"), *cut = tmp_path("cut.wav");
    const char *nan = tmp_path("nan.wav"), *zero = tmp_path("zero.wav"), *missing = tmp_path("missing.wav");
    const char *locked = tmp_path("locked.wav");
    write_bytes(empty, "", 0);
    const char *t = "A shopping list, not a recording.\nMilk\nEggs\n";
    write_bytes(text, t, strlen(t));
    write_wav(cut, 16000, 2, 6.0, SF_FORMAT_PCM_16);
    ck_assert_int_eq(truncate(cut, 44 + 4 * 30000), 0);
    {
        SF_INFO in = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *sf = sf_open(nan, SFM_WRITE, &in);
        float *b = calloc(6 * RATE, sizeof *b);
        for (int i = 0; i < 6 * RATE; i++) b[i] = (float)sin(i * 0.1);
        b[5 * RATE] = NAN;   /* in the second window */
        ck_assert_int_eq(sf_writef_float(sf, b, 6 * RATE), 6 * RATE);
        free(b);
        sf_close(sf);
        sf = sf_open(zero, SFM_WRITE, &in);
        sf_close(sf);
    }
    write_wav(locked, RATE, 1, 1.0, SF_FORMAT_PCM_16);
    ck_assert_int_eq(chmod(locked, 0), 0);
    const char *cases[] = {empty, text, cut, nan, zero, missing, g_dir, geteuid() ? locked : NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!cases[i]) continue;
        for (int json = 0; json < 2; json++) {
            run_result r = run((const char *[]){"--weights", g_model, json ? "--json" : cases[i], json ? cases[i] : NULL, NULL});
            ck_assert_msg(r.status == 1, "%s: exit %d", cases[i], r.status);
            ck_assert_msg(strcmp(r.out, "") == 0, "%s: stdout '%s'", cases[i], r.out);
            ck_assert_msg(strstr(r.err, cases[i]) != NULL, "message does not name %s: %s", cases[i], r.err);
            ck_assert_msg(strncmp(r.err, "icinfer: ", 9) == 0, "%s", r.err);
            run_free(&r);
        }
    }
    /* stdin that is not audio names stdin */
    run_result r = run_full(exe_path(), text, NULL, NULL, (const char *[]){"--weights", g_model, "-", NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "stdin") != NULL, "%s", r.err);
    run_free(&r);
}
END_TEST

START_TEST(test_usage_and_weights) {
    const char *f = tmp_path("u.wav");
    write_wav(f, RATE, 1, 1.0, SF_FORMAT_PCM_16);
    const char *const *usage[] = {
        (const char *[]){"--weights", g_model, NULL},
        (const char *[]){"--bogus", f, NULL},
        (const char *[]){"--weights", g_model, "--window", "x", f, NULL},
        (const char *[]){"--weights", g_model, "--window", "3", f, NULL},   /* not the model's 4 s */
        (const char *[]){"--weights", g_model, "--hop", "0", f, NULL},
        (const char *[]){"--weights", g_model, "--hop", "0.00001", f, NULL},
        (const char *[]){"--weights", g_model, "--threads", "0", f, NULL},
        (const char *[]){f, "--weights", NULL},
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        run_result r = run(usage[i]);
        ck_assert_msg(r.status == 2, "usage case %zu: exit %d (%s)", i, r.status, r.err);
        ck_assert_str_eq(r.out, "");
        ck_assert_msg(strstr(r.err, "icinfer: ") != NULL, "%s", r.err);
        run_free(&r);
    }
    run_result r = run((const char *[]){"--weights", g_model, "--window", "3", f, NULL});
    ck_assert_msg(strstr(r.err, "model's window of 4 s") != NULL, "%s", r.err);
    run_free(&r);
    r = run((const char *[]){"--help", NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: icinfer"));
    run_free(&r);
    /* a model file that is not one */
    r = run((const char *[]){"--weights", f, f, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, f));
    run_free(&r);
    r = run((const char *[]){"--weights", tmp_path("none.icw"), f, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.err, tmp_path("none.icw")));
    run_free(&r);
    /* default search: a copy of the program in DIR/bin looks in DIR/bin/../weights */
    char bindir[600], copy[700], cmd[1600];
    snprintf(bindir, sizeof bindir, "%s/inst/bin", g_dir);
    snprintf(copy, sizeof copy, "%s/icinfer", bindir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s'", bindir, exe_path(), copy);
    ck_assert_int_eq(system(cmd), 0);
    r = run_full(copy, NULL, NULL, NULL, (const char *[]){f, NULL});
    if (access("/usr/local/share/ic/ic-cnn.icw", F_OK) != 0 && access("/usr/share/ic/ic-cnn.icw", F_OK) != 0) {
        ck_assert_int_eq(r.status, 1);
        ck_assert_str_eq(r.out, "");
        ck_assert_msg(strstr(r.err, "inst/bin/../weights/ic-cnn.icw") && strstr(r.err, "/usr/local/share/ic/ic-cnn.icw") &&
                      strstr(r.err, "/usr/share/ic/ic-cnn.icw") && strstr(r.err, "--weights"), "%s", r.err);
    }
    run_free(&r);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/inst/weights' && cp '%s' '%s/inst/weights/ic-cnn.icw'", g_dir, g_model, g_dir);
    ck_assert_int_eq(system(cmd), 0);
    r = run_full(copy, NULL, NULL, NULL, (const char *[]){"--json", f, NULL});
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "\"guitar\""));
    run_free(&r);
    /* IC_WEIGHTS wins over the file next to the program; a missing one is an error */
    r = run_full(copy, NULL, NULL, g_family_only, (const char *[]){"--json", f, NULL});
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "\"string\""));
    run_free(&r);
    r = run_full(copy, NULL, NULL, tmp_path("gone.icw"), (const char *[]){f, NULL});
    ck_assert_int_eq(r.status, 1);
    ck_assert_msg(strstr(r.err, "IC_WEIGHTS") && strstr(r.err, tmp_path("gone.icw")), "%s", r.err);
    run_free(&r);
}
END_TEST

/* ---- ic/predict.h ---- */

START_TEST(test_note_names_topk) {
    char b[8];
    ck_assert_str_eq(ic_midi_note_name(21, b, sizeof b), "A0");
    ck_assert_str_eq(ic_midi_note_name(60, b, sizeof b), "C4");
    ck_assert_str_eq(ic_midi_note_name(61, b, sizeof b), "C#4");
    ck_assert_str_eq(ic_midi_note_name(69, b, sizeof b), "A4");
    ck_assert_str_eq(ic_midi_note_name(108, b, sizeof b), "C8");
    ck_assert_str_eq(ic_midi_note_name(0, b, sizeof b), "C-1");
    ck_assert_str_eq(ic_midi_note_name(127, b, sizeof b), "G9");
    ck_assert_str_eq(ic_midi_note_name(128, b, sizeof b), "?");
    ck_assert_str_eq(ic_midi_note_name(-1, b, sizeof b), "?");
    const float x[6] = {0.1f, 0.7f, 0.3f, 0.7f, 0.0f, 0.3f};
    ck_assert_int_eq(ic_argmax(x, 6), 1);          /* first of the tied maxima */
    ck_assert_int_eq(ic_argmax(x, 1), 0);
    int idx[6];
    ck_assert_int_eq(ic_topk(x, 6, 4, idx), 4);
    const int want[4] = {1, 3, 2, 5};              /* ties by index */
    for (int i = 0; i < 4; i++) ck_assert_int_eq(idx[i], want[i]);
    ck_assert_int_eq(ic_topk(x, 2, 5, idx), 2);
    ck_assert_int_eq(idx[0], 1);
    ck_assert_int_eq(idx[1], 0);
}
END_TEST

/* The predictor on a random model: slot features are ic_model_features' output, a
 * batch gives each window what it gets alone, decode agrees with the probabilities. */
START_TEST(test_predictor) {
    ic_error err;
    ic_model *m = ic_model_load(g_random, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    ic_predictor *p = ic_predictor_new(m, 4, &err);
    ck_assert_msg(p != NULL, "%s", err.msg);
    ck_assert_int_eq(p->playing_class, 1);
    size_t W = m->window_samples;
    float *x = malloc(3 * W * sizeof *x), *work = malloc(ic_model_work_floats(m) * sizeof *work);
    float *feat = malloc(p->in_floats * sizeof *feat);
    ic_rng r;
    ic_rng_seed(&r, 5);
    for (size_t i = 0; i < 3 * W; i++) x[i] = 0.3f * (float)sin(0.01 * (double)i * (1 + (double)(i / W))) + 0.01f * ic_rng_normal(&r);
    size_t lens[3] = {W, W / 2, W};   /* the second window is padded */
    for (int i = 0; i < 3; i++) ic_predictor_set_window(p, i, x + (size_t)i * W, lens[i], work);
    ic_model_features(m, x + W, W / 2, feat, work);
    ck_assert(ic_test_max_abs_diff(feat, ic_predictor_slot(p, 1), p->in_floats) == 0);
    ic_predictor_run(p, 3);
    int heads = m->net->n_heads;
    float batch[3][IC_NET_MAX_HEADS][88];
    for (int i = 0; i < 3; i++)
        for (int h = 0; h < heads; h++)
            memcpy(batch[i][h], ic_predictor_probs(p, h, i), (size_t)m->net->heads[h].classes * sizeof(float));
    for (int i = 0; i < 3; i++) {
        ic_predictor_set_window(p, 0, x + (size_t)i * W, lens[i], work);
        ic_predictor_run(p, 1);
        for (int h = 0; h < heads; h++) {
            int k = m->net->heads[h].classes;
            const float *q = ic_predictor_probs(p, h, 0);
            ck_assert(ic_test_max_abs_diff(q, batch[i][h], (size_t)k) < 1e-5);
            double s = 0;
            for (int c = 0; c < k; c++) s += q[c];
            ck_assert_double_eq_tol(s, 1.0, 1e-5);
        }
        ic_prediction d;
        ic_predictor_decode(p, 0, &d);
        const float *pf = ic_predictor_probs(p, m->head_family, 0), *pp = ic_predictor_probs(p, m->head_pitch, 0);
        ck_assert_int_eq(d.family, ic_argmax(pf, 11));
        ck_assert_float_eq(d.family_p, pf[d.family]);
        ck_assert_int_eq(d.n_top, 3);
        ck_assert(d.top_p[0] >= d.top_p[1] && d.top_p[1] >= d.top_p[2]);
        ck_assert_int_eq(d.pitch_midi, 21 + ic_argmax(pp, 88));
        ck_assert_float_eq(d.p_playing, ic_predictor_probs(p, m->head_activity, 0)[1]);
        ck_assert_int_eq(d.playing, d.p_playing >= 0.5f);
    }
    char nb[32];
    ck_assert_str_eq(ic_predict_family_name(m, 9, nb, sizeof nb), "synth_lead");
    ck_assert_str_eq(ic_predict_family_name(m, 20, nb, sizeof nb), "class 20");
    free(x); free(work); free(feat);
    ic_predictor_free(p);
    ic_model_free(m);
}
END_TEST

static Suite *icinfer_suite(void) {
    Suite *s = suite_create("icinfer");
    TCase *t = tcase_create("program");
    tcase_add_unchecked_fixture(t, make_models, drop_models);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_json_windows);
    tcase_add_test(t, test_hop_and_short);
    tcase_add_test(t, test_not_playing_and_heads);
    tcase_add_test(t, test_text_output);
    tcase_add_test(t, test_stdin_and_several_files);
    tcase_add_test(t, test_bad_inputs);
    tcase_add_test(t, test_usage_and_weights);
    suite_add_tcase(s, t);
    TCase *u = tcase_create("predict");
    tcase_add_unchecked_fixture(u, make_models, drop_models);
    tcase_add_test(u, test_note_names_topk);
    tcase_add_test(u, test_predictor);
    suite_add_tcase(s, u);
    return s;
}

IC_TEST_MAIN(icinfer_suite)
