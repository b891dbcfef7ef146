/* iceval: scores a model on one NSynth-format split: family accuracy, per-family
 * precision and recall, the confusion matrix (text, JSON, PNG), pitch and chroma
 * accuracy, and the activity head's miss and false-alarm rates.  Optionally every
 * clip is first played "in a room" (convolved with its own synthetic impulse
 * response, ic/room.h).  Features come from the clips' audio through
 * ic_model_features, exactly as icinfer computes them; it does not use the feature
 * cache, so it scores whatever front end the model file carries. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "ic/cli.h"
#include "ic/metrics.h"
#include "ic/model.h"
#include "ic/noise.h"
#include "ic/nsynth.h"
#include "ic/predict.h"
#include "ic/progress.h"
#include "ic/resample.h"
#include "ic/room.h"
#include "ic/threads.h"
#include "ic/timer.h"

#define BATCH 16               /* clips per feature pass and forward */
#define NEG_SEED 1             /* the non-playing windows are always the same */
#define NEG_PER_LEVEL 4

static const float NEG_LEVELS[] = {-70.0f, -50.0f, -30.0f, -20.0f}; /* dBFS RMS */
#define N_NEG_LEVELS (int)(sizeof NEG_LEVELS / sizeof NEG_LEVELS[0])
#define N_NEG_COLOURS 3

static const char USAGE[] =
    "usage: iceval --weights FILE --data DIR [--split test] [--kind notes|phrases|all]\n"
    "              [--room SEED] [--json] [--png CONFUSION.png] [--threads N] [--quiet]\n"
    "\n"
    "Scores a model on split NAME of an NSynth-format dataset (DIR/nsynth-NAME/ or\n"
    "DIR/nsynth-NAME.jsonwav.tar.gz).  Reports family accuracy, per-family precision and\n"
    "recall, the family confusion matrix, pitch accuracy (exact MIDI) and chroma accuracy\n"
    "(pitch class), and the activity head's miss and false-alarm rates.\n"
    "\n"
    "  --weights FILE  model file (.icw) to score (required)\n"
    "  --data DIR      dataset directory (required)\n"
    "  --split NAME    split to score (default test)\n"
    "  --kind K        notes: single notes only; phrases: entries with a notes list;\n"
    "                  all (default)\n"
    "  --room SEED     play every clip in a synthetic room first: clip i is convolved\n"
    "                  with an impulse response drawn from (SEED, i) (RT60 0.3-1.5 s,\n"
    "                  5-30 ms pre-delay, direct-to-reverberant -3..9 dB), RMS kept\n"
    "  --json          print the report as one JSON object\n"
    "  --png FILE      draw the confusion matrix (row-normalised) as a PNG\n"
    "  --threads N     worker threads (default: all cores)\n"
    "  --quiet         no progress on standard error\n"
    "  --help          this text\n"
    "\n"
    "Scoring: family accuracy counts every scored clip.  Pitch counts single notes whose\n"
    "pitch lies in the pitch head's range (phrases have no single pitch).  Activity: a\n"
    "clip is a miss when p(playing) < 0.5.  False alarms are counted on 49 generated\n"
    "windows of nothing playing, each one model window long: 1 of digital silence and\n"
    "4 each (seeded, always the same) of white, pink and brown noise at -70, -50, -30\n"
    "and -20 dBFS RMS.  Ratios with nothing to count are null in JSON.\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 bad usage.\n";

static const char PROG[] = "iceval";

typedef enum { KIND_ALL, KIND_NOTES, KIND_PHRASES } kind_filter;

typedef struct {
    const char *weights, *data, *split, *png;
    kind_filter kind;
    int json, threads, quiet, room;
    unsigned long long room_seed;
} options;

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->split = "test";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ic_cli_help(a, USAGE)) return 0;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (!strcmp(a, "--weights") || !strcmp(a, "--data") || !strcmp(a, "--split") ||
                   !strcmp(a, "--png") || !strcmp(a, "--kind") || !strcmp(a, "--room") ||
                   !strcmp(a, "--threads")) {
            if (i + 1 >= argc) return ic_cli_usage_error(PROG, "%s needs a value", a);
            const char *v = argv[++i];
            if (!*v) return ic_cli_usage_error(PROG, "%s needs a non-empty value", a);
            if (!strcmp(a, "--weights")) o->weights = v;
            else if (!strcmp(a, "--data")) o->data = v;
            else if (!strcmp(a, "--split")) o->split = v;
            else if (!strcmp(a, "--png")) o->png = v;
            else if (!strcmp(a, "--kind")) {
                if (!strcmp(v, "all")) o->kind = KIND_ALL;
                else if (!strcmp(v, "notes")) o->kind = KIND_NOTES;
                else if (!strcmp(v, "phrases")) o->kind = KIND_PHRASES;
                else return ic_cli_usage_error(PROG, "--kind wants notes, phrases or all, got '%s'", v);
            } else if (!strcmp(a, "--room")) {
                if (ic_cli_parse_u64(v, &o->room_seed))
                    return ic_cli_usage_error(PROG, "--room wants a seed (a number >= 0), got '%s'", v);
                o->room = 1;
            } else if (ic_cli_parse_int(v, 1, 4096, &o->threads)) {   /* --threads */
                return ic_cli_usage_error(PROG, "--threads wants 1..4096, got '%s'", v);
            }
        } else {
            return ic_cli_usage_error(PROG, "unexpected argument '%s'", a);
        }
    }
    if (!o->weights) return ic_cli_usage_error(PROG, "--weights FILE is required");
    if (!o->data) return ic_cli_usage_error(PROG, "--data DIR is required");
    return -1;
}

static const char *kind_name(kind_filter k) { return k == KIND_NOTES ? "notes" : k == KIND_PHRASES ? "phrases" : "all"; }

/* Keeps the examples the filter selects (in order); frees the rest. */
static void filter_split(ic_nsynth_split *s, kind_filter k) {
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        int phrase = s->ex[i].n_notes > 0;
        int keep = k == KIND_ALL || (k == KIND_PHRASES) == phrase;
        if (keep) s->ex[w++] = s->ex[i];
        else ic_nsynth_example_clear(&s->ex[i]);
    }
    s->n = w;
}

/* Whole-buffer resampling: *out (malloc'd) gets *n_out samples at out_rate. */
static ic_status resample_all(const float *in, size_t n, int in_rate, int out_rate, float **out, size_t *n_out,
                              ic_error *err) {
    *out = NULL;
    *n_out = 0;
    ic_resampler *r = ic_resampler_new(in_rate, out_rate, err);
    if (!r) return err->code;
    size_t cap = (size_t)((double)n * out_rate / in_rate) + 4096;
    float *y = malloc(cap * sizeof *y);
    if (!y) { ic_resampler_free(r); return ic_error_set(err, IC_ERR_NOMEM, "out of memory resampling"); }
    size_t pos = 0, got = 0;
    for (;;) {
        size_t used = 0, gen = 0;
        if (ic_resampler_process(r, in + pos, n - pos, &used, y + got, cap - got, &gen, 1, err)) {
            free(y);
            ic_resampler_free(r);
            return err->code;
        }
        pos += used;
        got += gen;
        if ((gen == 0 && used == 0) || got == cap) break;   /* drained */
    }
    ic_resampler_free(r);
    *out = y;
    *n_out = got;
    return IC_OK;
}

/* One clip of a batch: decoded audio, then the network input in a predictor slot. */
typedef struct {
    size_t index;         /* example index in the (filtered) split */
    float *samples;
    size_t n;
    int rate;
    ic_status st;
    ic_error err;
} clip;

typedef struct {
    ic_confusion *conf;            /* NSynth families x NSynth families */
    ic_pitch_score pitch;
    long long n, n_notes, n_phrases, misses;
    long long neg_n, neg_fa;
    long long neg_fa_by[N_NEG_COLOURS + 1][N_NEG_LEVELS]; /* [0]: silence (level 0 only) */
    const char *labels[IC_NSYNTH_N_FAMILIES];             /* NSynth family names */
} scores;

/* Features of clips[0..n) into the predictor's slots, in parallel. */
static void clip_features(ic_predictor *pred, clip *clips, int n, const options *o) {
    const ic_model *m = pred->model;
    size_t wf = ic_model_work_floats(m);
    #pragma omp parallel
    {
        float *work = malloc(wf * sizeof *work);
        #pragma omp for schedule(dynamic, 1)
        for (int j = 0; j < n; j++) {
            clip *c = &clips[j];
            if (!work) { c->st = ic_error_set(&c->err, IC_ERR_NOMEM, "out of memory for feature scratch"); continue; }
            float *x = c->samples;
            size_t len = c->n;
            float *owned = NULL;
            if (c->rate != m->fp.sample_rate) {
                c->st = resample_all(x, len, c->rate, m->fp.sample_rate, &owned, &len, &c->err);
                if (c->st) continue;
                x = owned;
            }
            if (o->room) {
                ic_rng r;
                ic_rng_seed(&r, o->room_seed ^ (0x9E3779B97F4A7C15ULL * (unsigned long long)(c->index + 1)));
                size_t k = len < m->window_samples ? len : m->window_samples;
                float *y = malloc((k ? k : 1) * sizeof *y);
                c->st = y ? ic_room_apply(x, k, m->fp.sample_rate, &r, y, &c->err)
                          : ic_error_set(&c->err, IC_ERR_NOMEM, "out of memory for the room");
                if (c->st) { free(y); free(owned); continue; }
                free(owned);
                owned = x = y;
                len = k;
            }
            ic_predictor_set_window(pred, j, x, len, work);
            free(owned);
        }
        free(work);
    }
}

/* Maps model family class -> NSynth family id; -1 when the model's label is unknown. */
static int family_map(const ic_model *m, int *map, ic_error *err) {
    const ic_head *H = &m->net->heads[m->head_family];
    for (int k = 0; k < H->classes; k++) {
        map[k] = H->labels ? ic_nsynth_family_id(H->labels[k]) : (k < IC_NSYNTH_N_FAMILIES ? k : -1);
        if (map[k] < 0)
            return ic_error_set(err, IC_ERR_FORMAT, "family class %d (%s) of the model is not an NSynth family", k,
                                H->labels ? H->labels[k] : "unnamed");
    }
    return IC_OK;
}

static void score_batch(const ic_predictor *pred, const ic_nsynth_split *s, const clip *clips, int n,
                        const int *fmap, scores *sc) {
    const ic_model *m = pred->model;
    int pitch_classes = m->head_pitch >= 0 ? m->net->heads[m->head_pitch].classes : 0;
    for (int j = 0; j < n; j++) {
        const ic_nsynth_example *e = &s->ex[clips[j].index];
        ic_prediction p;
        ic_predictor_decode(pred, j, &p);
        sc->n++;
        if (e->n_notes > 0) sc->n_phrases++;
        else sc->n_notes++;
        if (p.family >= 0) ic_confusion_add(sc->conf, e->family, fmap[p.family]);
        if (p.pitch_midi >= 0 && e->n_notes == 0 && e->pitch >= m->pitch_base && e->pitch < m->pitch_base + pitch_classes)
            ic_pitch_score_add(&sc->pitch, e->pitch, p.pitch_midi);
        if (m->head_activity >= 0 && !p.playing) sc->misses++;
    }
}

/* The generated non-playing windows (see USAGE), scored for false alarms. */
static void score_negatives(ic_predictor *pred, scores *sc) {
    const ic_model *m = pred->model;
    size_t W = m->window_samples, wf = ic_model_work_floats(m);
    float *buf = ic_xmalloc(W * sizeof *buf), *work = ic_xmalloc(wf * sizeof *work);
    ic_rng r;
    ic_rng_seed(&r, NEG_SEED);
    int slot_colour[BATCH], slot_level[BATCH], n = 0;
    int total = 1 + N_NEG_COLOURS * N_NEG_LEVELS * NEG_PER_LEVEL;
    for (int w = 0; w < total; w++) {
        int colour = 0, level = 0;
        if (w == 0) {
            memset(buf, 0, W * sizeof *buf);
        } else {
            int q = (w - 1) / NEG_PER_LEVEL;
            colour = 1 + q / N_NEG_LEVELS;
            level = q % N_NEG_LEVELS;
            ic_noise_color c = colour == 1 ? IC_NOISE_WHITE : colour == 2 ? IC_NOISE_PINK : IC_NOISE_BROWN;
            ic_noise_fill(buf, W, c, NEG_LEVELS[level], &r);
        }
        ic_predictor_set_window(pred, n, buf, W, work);
        slot_colour[n] = colour;
        slot_level[n] = level;
        if (++n == BATCH || w == total - 1) {
            ic_predictor_run(pred, n);
            for (int j = 0; j < n; j++) {
                ic_prediction p;
                ic_predictor_decode(pred, j, &p);
                sc->neg_n++;
                if (p.playing) {
                    sc->neg_fa++;
                    sc->neg_fa_by[slot_colour[j]][slot_level[j]]++;
                }
            }
            n = 0;
        }
    }
    free(buf);
    free(work);
}

static const char *const NEG_NAMES[N_NEG_COLOURS + 1] = {"silence", "white", "pink", "brown"};

static cJSON *report_json(const options *o, const char *split_path, const ic_model *m, const scores *sc,
                          double seconds) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    const char *const *labels = sc->labels;
    int fam = m->head_family >= 0, act = m->head_activity >= 0;
    cJSON_AddStringToObject(j, "weights", o->weights);
    cJSON_AddStringToObject(j, "split", o->split);
    cJSON_AddStringToObject(j, "source", split_path);
    cJSON_AddStringToObject(j, "kind", kind_name(o->kind));
    if (o->room) cJSON_AddNumberToObject(j, "room_seed", (double)o->room_seed);
    else cJSON_AddNullToObject(j, "room_seed");
    cJSON_AddNumberToObject(j, "n", (double)sc->n);
    cJSON_AddNumberToObject(j, "n_notes", (double)sc->n_notes);
    cJSON_AddNumberToObject(j, "n_phrases", (double)sc->n_phrases);
    cJSON_AddItemToObject(j, "accuracy", ic_json_number(fam ? ic_confusion_accuracy(sc->conf) : NAN));
    cJSON_AddItemToObject(j, "balanced_accuracy", ic_json_number(fam ? ic_confusion_mean_recall(sc->conf) : NAN));
    cJSON *lab = cJSON_CreateStringArray(labels, IC_NSYNTH_N_FAMILIES);
    cJSON_AddItemToObject(j, "labels", lab);
    cJSON_AddItemToObject(j, "per_family", fam ? ic_confusion_per_class_json(sc->conf, labels) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "confusion", fam ? ic_confusion_matrix_json(sc->conf) : cJSON_CreateNull());
    cJSON_AddItemToObject(j, "pitch_accuracy", ic_json_number(ic_ratio(sc->pitch.exact, sc->pitch.n)));
    cJSON_AddItemToObject(j, "chroma_accuracy", ic_json_number(ic_ratio(sc->pitch.chroma, sc->pitch.n)));
    cJSON_AddNumberToObject(j, "pitch_n", (double)sc->pitch.n);
    cJSON_AddItemToObject(j, "activity_miss", ic_json_number(act ? ic_ratio(sc->misses, sc->n) : NAN));
    cJSON_AddItemToObject(j, "activity_false_alarm", ic_json_number(act ? ic_ratio(sc->neg_fa, sc->neg_n) : NAN));
    cJSON_AddNumberToObject(j, "activity_n_negative", (double)sc->neg_n);
    cJSON *neg = cJSON_CreateArray();
    cJSON_AddItemToObject(j, "negatives", neg);
    for (int c = 0; act && c <= N_NEG_COLOURS; c++)
        for (int l = 0; l < (c ? N_NEG_LEVELS : 1); l++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddItemToArray(neg, e);
            cJSON_AddStringToObject(e, "kind", NEG_NAMES[c]);
            if (c) cJSON_AddNumberToObject(e, "dbfs", NEG_LEVELS[l]);
            else cJSON_AddNullToObject(e, "dbfs");
            cJSON_AddNumberToObject(e, "n", c ? NEG_PER_LEVEL : 1);
            cJSON_AddNumberToObject(e, "false_alarms", (double)sc->neg_fa_by[c][l]);
        }
    cJSON_AddNumberToObject(j, "seconds", seconds);
    return j;
}

static void print_pct(FILE *f, double v) {
    if (isnan(v)) fprintf(f, "-");
    else fprintf(f, "%.2f%%", 100 * v);
}

static void report_text(FILE *f, const options *o, const char *split_path, const ic_model *m, const scores *sc,
                        double seconds) {
    const char *const *labels = sc->labels;
    fprintf(f, "model            %s\n", o->weights);
    fprintf(f, "split            %s (%s), %s, ", o->split, split_path, kind_name(o->kind));
    if (o->room) fprintf(f, "in synthetic rooms (seed %llu)\n", o->room_seed);
    else fprintf(f, "dry\n");
    fprintf(f, "examples         %lld (%lld notes, %lld phrases), %.1f s\n", sc->n, sc->n_notes, sc->n_phrases, seconds);
    if (m->head_family >= 0) {
        fprintf(f, "family accuracy  ");
        print_pct(f, ic_confusion_accuracy(sc->conf));
        fprintf(f, " (balanced ");
        print_pct(f, ic_confusion_mean_recall(sc->conf));
        fprintf(f, ")\n");
    } else {
        fprintf(f, "family accuracy  - (the model has no family head)\n");
    }
    fprintf(f, "pitch accuracy   ");
    print_pct(f, ic_ratio(sc->pitch.exact, sc->pitch.n));
    fprintf(f, ", chroma ");
    print_pct(f, ic_ratio(sc->pitch.chroma, sc->pitch.n));
    fprintf(f, " (%lld notes in the pitch head's range)\n", sc->pitch.n);
    if (m->head_activity >= 0) {
        fprintf(f, "activity miss    ");
        print_pct(f, ic_ratio(sc->misses, sc->n));
        fprintf(f, " (%lld of %lld clips called not playing)\n", sc->misses, sc->n);
        fprintf(f, "false alarms     ");
        print_pct(f, ic_ratio(sc->neg_fa, sc->neg_n));
        fprintf(f, " (%lld of %lld silence/noise windows called playing)\n", sc->neg_fa, sc->neg_n);
    } else {
        fprintf(f, "activity         - (the model has no activity head)\n");
    }
    if (m->head_family >= 0) {
        fprintf(f, "\n");
        ic_confusion_print_per_class(f, sc->conf, labels);
        fprintf(f, "\nconfusion (rows: true family, columns: predicted)\n");
        ic_confusion_print(f, sc->conf, labels);
    }
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    ic_threads_set(o.threads);
    double t0 = ic_now();
    ic_error err;
    ic_error_clear(&err);

    ic_model *m = ic_model_load(o.weights, &err);
    if (!m) { fprintf(stderr, "iceval: %s\n", err.msg); return 1; }
    int fmap[256];
    if (m->head_family >= 0) {
        if (m->net->heads[m->head_family].classes > 256 || family_map(m, fmap, &err)) {
            fprintf(stderr, "iceval: %s: %s\n", o.weights, err.msg[0] ? err.msg : "too many family classes");
            ic_model_free(m);
            return 1;
        }
    }
    char split_path[4096];
    if (!ic_nsynth_locate(o.data, o.split, split_path, sizeof split_path)) {
        fprintf(stderr, "iceval: %s: no split '%s' (looked for nsynth-%s/ and nsynth-%s.jsonwav.tar.gz, .tar.gz, .tar)\n",
                o.data, o.split, o.split, o.split);
        ic_model_free(m);
        return 1;
    }
    ic_nsynth_opts nopts;
    ic_nsynth_opts_default(&nopts);
    nopts.expect_frames = -1;   /* any length: each clip's first window is scored */
    ic_nsynth_split *s = ic_nsynth_load_split(split_path, &nopts, &err);
    if (!s) { fprintf(stderr, "iceval: %s\n", err.msg); ic_model_free(m); return 1; }
    filter_split(s, o.kind);
    if (s->n == 0) {
        fprintf(stderr, "iceval: %s: no %s to score\n", split_path,
                o.kind == KIND_NOTES ? "single notes" : o.kind == KIND_PHRASES ? "phrases" : "examples");
        ic_nsynth_split_free(s);
        ic_model_free(m);
        return 1;
    }
    ic_predictor *pred = ic_predictor_new(m, BATCH, &err);
    ic_nsynth_stream *st = pred ? ic_nsynth_stream_open(s, &err) : NULL;
    if (!st) {
        fprintf(stderr, "iceval: %s\n", err.msg);
        ic_predictor_free(pred);
        ic_nsynth_split_free(s);
        ic_model_free(m);
        return 1;
    }

    scores sc;
    memset(&sc, 0, sizeof sc);
    sc.conf = ic_confusion_new(IC_NSYNTH_N_FAMILIES);
    for (int k = 0; k < IC_NSYNTH_N_FAMILIES; k++) sc.labels[k] = ic_nsynth_family_name(k);
    ic_progress prog;
    ic_progress_start(&prog, "iceval", "clips", s->n, o.quiet);
    clip clips[BATCH];
    rc = 0;
    for (int done = 0; !done && rc == 0;) {
        int n = 0;
        while (n < BATCH) {
            clip *c = &clips[n];
            memset(c, 0, sizeof *c);
            int r = ic_nsynth_stream_next(st, &c->index, &c->samples, &c->n, &c->rate, &err);
            if (r < 0) { fprintf(stderr, "\niceval: %s\n", err.msg); rc = 1; break; }
            if (r == 0) { done = 1; break; }
            n++;
        }
        if (rc == 0 && n > 0) {
            clip_features(pred, clips, n, &o);
            for (int j = 0; j < n && rc == 0; j++)
                if (clips[j].st) {
                    fprintf(stderr, "\niceval: %s: %s\n", s->ex[clips[j].index].wav, clips[j].err.msg);
                    rc = 1;
                }
            if (rc == 0) {
                ic_predictor_run(pred, n);
                score_batch(pred, s, clips, n, fmap, &sc);
                ic_progress_update(&prog, (size_t)sc.n);
            }
        }
        for (int j = 0; j < n; j++) free(clips[j].samples);
    }
    ic_nsynth_stream_close(st);
    if (rc == 0) {
        ic_progress_finish(&prog);
        if (m->head_activity >= 0) score_negatives(pred, &sc);
        double secs = ic_now() - t0;
        if (o.png && m->head_family >= 0) {
            char title[256];
            snprintf(title, sizeof title, "family confusion: %s %s%s, n=%lld, accuracy %.1f%%", o.split,
                     kind_name(o.kind), o.room ? ", in rooms" : "", sc.n, 100 * ic_confusion_accuracy(sc.conf));
            if (ic_confusion_png(sc.conf, sc.labels, title, o.png, &err)) {
                fprintf(stderr, "iceval: %s\n", err.msg);
                rc = 1;
            }
        } else if (o.png) {
            fprintf(stderr, "iceval: %s: the model has no family head, no confusion picture\n", o.weights);
            rc = 1;
        }
        if (o.json) {
            cJSON *j = report_json(&o, split_path, m, &sc, secs);
            char *text = j ? cJSON_Print(j) : NULL;
            cJSON_Delete(j);
            if (!text) { fprintf(stderr, "iceval: out of memory building JSON\n"); rc = 1; }
            else { printf("%s\n", text); cJSON_free(text); }
        } else {
            report_text(stdout, &o, split_path, m, &sc, secs);
        }
        if (fflush(stdout) != 0) { fprintf(stderr, "iceval: writing the report failed: %s\n", strerror(errno)); rc = 1; }
    }
    ic_confusion_free(sc.conf);
    ic_predictor_free(pred);
    ic_nsynth_split_free(s);
    ic_model_free(m);
    return rc;
}
