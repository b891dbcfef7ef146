/* icinfer: says which instrument family plays, when, and at what pitch, in any
 * recording the audio front end reads.  The recording is streamed block by block
 * (memory stays flat however long it is), cut into windows of the model's length,
 * and the windows go through the network in batches; features come from
 * ic_model_features, the path training uses.  With --notes the same samples also go
 * through the note transcriber (ic/transcribe.h) and each window lists the notes heard
 * in it.  Output: a table per file, or JSON. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <omp.h>
#include <cjson/cJSON.h>
#include "ic/audio.h"
#include "ic/model.h"
#include "ic/predict.h"
#include "ic/threads.h"
#include "ic/transcribe.h"

#define BATCH 16                 /* windows per forward pass */
#define MIN_PARTIAL_SECONDS 1.0  /* a shorter final window is dropped */
#define DEFAULT_WEIGHTS "ic-cnn.icw"
#define MAX_FAMILIES 256         /* family classes the summary tracks */
#define TEXT_NOTES 6             /* note names shown per window in the table */

static const char USAGE[] =
    "usage: icinfer [--weights FILE] [--window SECONDS] [--hop SECONDS] [--json]\n"
    "               [--notes] [--threads N] FILE...\n"
    "\n"
    "Classifies recordings (wav, flac, ogg, opus, mp3, m4a/aac, ...; '-' reads standard\n"
    "input) window by window: whether something is playing, the instrument family with\n"
    "its probability and the next best families, and the pitch.  Then a summary per file:\n"
    "the families heard and for how long.\n"
    "\n"
    "  --weights FILE   model file; default: $IC_WEIGHTS if set, else\n"
    "                   ../weights/ic-cnn.icw next to this program, else\n"
    "                   /usr/local/share/ic/ic-cnn.icw, else /usr/share/ic/ic-cnn.icw\n"
    "  --window SECONDS window length; must equal the model's (4 s for the shipped\n"
    "                   model): the network is built for one length\n"
    "  --hop SECONDS    step between window starts (default: the window length)\n"
    "  --json           JSON: one object for one file, an array for several\n"
    "  --notes          also transcribe the notes (monophonic, as icnotes does) and list\n"
    "                   those sounding in each window\n"
    "  --threads N      worker threads (default: all cores)\n"
    "  --help           this text\n"
    "\n"
    "Windows: every full window is classified.  After the last full window, the next\n"
    "window is classified zero-padded when it holds at least 1 s of audio (or the whole\n"
    "window, if that is shorter) and reaches past the last full window; otherwise the\n"
    "remainder is dropped.  A recording shorter than that minimum gets one padded\n"
    "window, so every readable file gets an answer.  A window is playing when the\n"
    "activity head gives p(playing) >= 0.5 (always, for a model without one).  The\n"
    "summary credits each playing window with the time up to the next window's start\n"
    "(the last one with its full length), so overlapping windows are not counted twice.\n"
    "\n"
    "JSON per file: {\"file\", \"sample_rate\" (the input's own rate), \"duration\" (s),\n"
    "\"window\", \"hop\", \"windows\": [{\"start\", \"end\", \"playing\", \"p_playing\", \"family\",\n"
    "\"confidence\", \"top\": [{\"family\", \"p\"}], \"pitch\": {\"midi\", \"note\", \"p\"}}],\n"
    "\"summary\": {\"families\": [{\"family\", \"seconds\", \"windows\"}], \"playing_seconds\",\n"
    "\"not_playing_seconds\"}}.  family, confidence and pitch are null and top is empty\n"
    "for windows where nothing is playing.  With --notes each window also has \"notes\":\n"
    "[{\"onset\", \"offset\", \"midi\", \"note\", \"cents\", \"velocity\"}] (times in s from\n"
    "the start of the file; a note overlapping several windows is listed in each).\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (a file that cannot be read or decoded\n"
    "is reported on standard error and left out; the other files are still processed),\n"
    "2 bad usage.\n";

typedef struct {
    const char *weights;
    double window, hop;          /* seconds; 0 = not given */
    int json, threads, notes;
    char **files;
    int n_files;
} options;

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "icinfer: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(icinfer --help for usage)\n");
    return 2;
}

static int parse_seconds(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 3600) return -1;
    *out = v;
    return 0;
}

/* Returns -1 to go on, else the exit status.  o->files points into argv. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->files = calloc((size_t)argc, sizeof *o->files);
    if (!o->files) { fprintf(stderr, "icinfer: out of memory\n"); return 1; }
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || (a[0] != '-' || a[1] == '\0')) {
            o->files[o->n_files++] = argv[i];
        } else if (strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--notes") == 0) {
            o->notes = 1;
        } else if (!strcmp(a, "--weights") || !strcmp(a, "--window") || !strcmp(a, "--hop") ||
                   !strcmp(a, "--threads")) {
            if (i + 1 >= argc) return usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--weights")) {
                if (!*v) return usage_error("%s needs a file name", a);
                o->weights = v;
            } else if (!strcmp(a, "--window")) {
                if (parse_seconds(v, &o->window)) return usage_error("--window wants seconds in (0, 3600], got '%s'", v);
            } else if (!strcmp(a, "--hop")) {
                if (parse_seconds(v, &o->hop)) return usage_error("--hop wants seconds in (0, 3600], got '%s'", v);
            } else {
                char *end;
                errno = 0;
                long t = strtol(v, &end, 10);
                if (errno || end == v || *end || t < 1 || t > 4096) return usage_error("--threads wants 1..4096, got '%s'", v);
                o->threads = (int)t;
            }
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (o->n_files == 0) return usage_error("%s", "no input file (use - for standard input)");
    return -1;
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Loads the model: --weights, else the first existing default place (see USAGE).
 * NULL after printing why, listing the places tried when none exists. */
static ic_model *load_model(const options *o) {
    ic_error err;
    ic_error_clear(&err);
    const char *path = o->weights;
    char tried[6][PATH_MAX + 32];
    int n_tried = 0;
    char exe_dir_path[PATH_MAX + 32];
    if (!path) {
        const char *env = getenv("IC_WEIGHTS");
        if (env && *env) {
            if (!is_file(env)) {
                fprintf(stderr, "icinfer: IC_WEIGHTS=%s: no such model file\n", env);
                return NULL;
            }
            path = env;
        }
    }
    if (!path) {
        char exe[PATH_MAX];
        ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (k > 0) {
            exe[k] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) *slash = '\0';
            snprintf(exe_dir_path, sizeof exe_dir_path, "%s/../weights/%s", exe, DEFAULT_WEIGHTS);
            snprintf(tried[n_tried++], sizeof tried[0], "%s", exe_dir_path);
        }
        snprintf(tried[n_tried++], sizeof tried[0], "/usr/local/share/ic/%s", DEFAULT_WEIGHTS);
        snprintf(tried[n_tried++], sizeof tried[0], "/usr/share/ic/%s", DEFAULT_WEIGHTS);
        for (int i = 0; i < n_tried && !path; i++)
            if (is_file(tried[i])) path = tried[i];
        if (!path) {
            fprintf(stderr, "icinfer: no model file found; give one with --weights FILE or IC_WEIGHTS, or install it. Tried:\n");
            for (int i = 0; i < n_tried; i++) fprintf(stderr, "  %s\n", tried[i]);
            return NULL;
        }
    }
    ic_model *m = ic_model_load(path, &err);
    if (!m) fprintf(stderr, "icinfer: %s\n", err.msg);
    return m;
}

/* ---- per-file work ---- */

typedef struct {
    long long start;             /* first sample (model rate) */
    size_t len;                  /* samples of audio in the window (< window: padded) */
    ic_prediction p;
} window_result;

typedef struct {
    window_result *w;
    size_t n, cap;
    ic_note_list notes;          /* with --notes: the file's notes in time order */
} results;

typedef struct {
    ic_model *m;
    ic_predictor *pred;
    size_t W, H, min_partial;    /* window, hop, shortest final window, in samples */
    float *raw;                  /* (BATCH, W) samples of the pending windows */
    size_t raw_len[BATCH];
    long long raw_start[BATCH];
    int pending;
    float **work;                /* per-thread feature scratch */
    int n_work;
    int notes;                   /* --notes */
} engine;

static int results_push(results *r, long long start, size_t len, const ic_prediction *p) {
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        window_result *w = realloc(r->w, cap * sizeof *w);
        if (!w) return -1;
        r->w = w;
        r->cap = cap;
    }
    r->w[r->n].start = start;
    r->w[r->n].len = len;
    r->w[r->n].p = *p;
    r->n++;
    return 0;
}

/* Feeds n samples to the note transcriber (n == 0: ends the input) and collects the
 * notes it has finished.  0, -1 with err set, -2 out of memory. */
static int transcribe(ic_transcriber *tr, results *r, const float *x, size_t n, ic_error *err) {
    if ((n ? ic_transcriber_process(tr, x, n, err) : ic_transcriber_finish(tr, err)) != IC_OK) return -1;
    return ic_transcriber_drain(tr, &r->notes) ? -2 : 0;
}

/* Features of the pending windows (threads), one forward, decode into r. */
static int flush(engine *e, results *r) {
    if (!e->pending) return 0;
    int n = e->pending;
    #pragma omp parallel for schedule(dynamic, 1) num_threads(e->n_work)
    for (int j = 0; j < n; j++) {
        ic_predictor_set_window(e->pred, j, e->raw + (size_t)j * e->W, e->raw_len[j], e->work[omp_get_thread_num()]);
    }
    ic_predictor_run(e->pred, n);
    e->pending = 0;
    for (int j = 0; j < n; j++) {
        ic_prediction p;
        ic_predictor_decode(e->pred, j, &p);
        if (results_push(r, e->raw_start[j], e->raw_len[j], &p)) return -1;
    }
    return 0;
}

static int add_window(engine *e, results *r, const float *x, size_t len, long long start) {
    memcpy(e->raw + (size_t)e->pending * e->W, x, len * sizeof *x);
    e->raw_len[e->pending] = len;
    e->raw_start[e->pending] = start;
    if (++e->pending == BATCH) return flush(e, r);
    return 0;
}

/* Streams one input through the windows.  0, or -1 with err set. */
static int run_file(engine *e, const char *path, results *r, ic_audio_info *info, long long *total,
                    ic_error *err) {
    ic_audio *a = ic_audio_open(path, e->m->fp.sample_rate, err);
    if (!a) return -1;
    ic_transcriber *tr = NULL;
    if (e->notes) {
        ic_transcriber_params tp;
        ic_transcriber_defaults(&tp, e->m->fp.sample_rate, 440.0);
        if (!(tr = ic_transcriber_new(&tp, err))) { ic_audio_close(a); return -1; }
    }
    *info = *ic_audio_get_info(a);
    size_t W = e->W, have = 0, skip = 0;
    long long start = 0, last_end = 0;
    float *buf = malloc(W * sizeof *buf);
    if (!buf) { ic_audio_close(a); ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return -1; }
    int eof = 0, rc = 0;
    *total = 0;
    while (!eof && rc == 0) {
        while (have < W && !eof) {
            /* a hop longer than the window skips the samples in between */
            size_t want = skip ? (skip < W ? skip : W) : W - have;
            long k = ic_audio_read(a, skip ? buf : buf + have, want, err);
            if (k < 0) { rc = -1; break; }
            if (k == 0) { eof = 1; break; }
            if (tr && (rc = transcribe(tr, r, skip ? buf : buf + have, (size_t)k, err)) != 0) break;
            *total += k;
            if (skip) skip -= (size_t)k;
            else have += (size_t)k;
        }
        if (rc == 0 && have == W) {
            if (add_window(e, r, buf, W, start)) rc = -2;
            last_end = start + (long long)W;
            if (e->H < W) {
                memmove(buf, buf + e->H, (W - e->H) * sizeof *buf);
                have = W - e->H;
            } else {
                have = 0;
                skip = e->H - W;
            }
            start += (long long)e->H;
        }
    }
    if (rc == 0 && have > 0 && start + (long long)have > last_end && (have >= e->min_partial || *total == (long long)have))
        if (add_window(e, r, buf, have, start)) rc = -2;
    if (rc == 0 && flush(e, r)) rc = -2;
    if (rc == 0 && tr) rc = transcribe(tr, r, NULL, 0, err);
    if (rc == -2) ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    ic_transcriber_free(tr);
    e->pending = 0;
    free(buf);
    ic_audio_close(a);
    return rc ? -1 : 0;
}

/* ---- output ---- */

typedef struct { int family; double seconds; long windows; } family_time;

/* Seconds each window stands for in the summary (see USAGE). */
static double owned_seconds(const engine *e, const results *r, size_t i) {
    double sr = e->m->fp.sample_rate;
    size_t len = r->w[i].len;
    if (i + 1 < r->n && e->H < len) len = e->H;
    return (double)len / sr;
}

/* Families heard, by falling time; returns the count in ft (cap classes). */
static int summarise(const engine *e, const results *r, family_time *ft, int cap, double *playing, double *silent) {
    int n = 0;
    *playing = *silent = 0;
    for (size_t i = 0; i < r->n; i++) {
        double s = owned_seconds(e, r, i);
        const ic_prediction *p = &r->w[i].p;
        if (!p->playing) { *silent += s; continue; }
        *playing += s;
        if (p->family < 0) continue;
        int j = 0;
        while (j < n && ft[j].family != p->family) j++;
        if (j == n) {
            if (n == cap) continue;
            ft[n].family = p->family;
            ft[n].seconds = 0;
            ft[n].windows = 0;
            n++;
        }
        ft[j].seconds += s;
        ft[j].windows++;
    }
    for (int i = 1; i < n; i++)   /* insertion sort: longest first, then class order */
        for (int j = i; j > 0 && (ft[j].seconds > ft[j - 1].seconds ||
                                  (ft[j].seconds == ft[j - 1].seconds && ft[j].family < ft[j - 1].family)); j--) {
            family_time t = ft[j]; ft[j] = ft[j - 1]; ft[j - 1] = t;
        }
    return n;
}

static double round_ms(double s) { return round(s * 1000.0) / 1000.0; }
static double round_p(double p) { return round(p * 10000.0) / 10000.0; }

/* 1 when note x sounds in [t0, t1) s. */
static int note_in(const ic_note *x, double t0, double t1) { return x->onset < t1 && x->offset > t0; }

/* "notes": [...] of one window into o. */
static void window_notes_json(cJSON *o, const results *r, double t0, double t1) {
    char note[8];
    cJSON *arr = cJSON_AddArrayToObject(o, "notes");
    for (size_t i = 0; arr && i < r->notes.n; i++) {
        const ic_note *x = &r->notes.v[i];
        if (!note_in(x, t0, t1)) continue;
        cJSON *n = cJSON_CreateObject();
        if (!n) return;
        cJSON_AddItemToArray(arr, n);
        cJSON_AddNumberToObject(n, "onset", round_ms(x->onset));
        cJSON_AddNumberToObject(n, "offset", round_ms(x->offset));
        cJSON_AddNumberToObject(n, "midi", x->midi);
        cJSON_AddStringToObject(n, "note", ic_midi_note_name(x->midi, note, sizeof note));
        cJSON_AddNumberToObject(n, "cents", round(x->cents * 10.0) / 10.0);
        cJSON_AddNumberToObject(n, "velocity", x->velocity);
    }
}

/* The window's note names for the table: "C4 D4 E4", at most TEXT_NOTES, then "+N". */
static void window_notes_text(char *buf, size_t cap, const results *r, double t0, double t1) {
    char note[8];
    size_t k = 0;
    int shown = 0, more = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->notes.n; i++) {
        if (!note_in(&r->notes.v[i], t0, t1)) continue;
        if (shown == TEXT_NOTES) { more++; continue; }
        int w = snprintf(buf + k, cap - k, "%s%s", shown ? " " : "", ic_midi_note_name(r->notes.v[i].midi, note, sizeof note));
        if (w < 0 || (size_t)w >= cap - k) break;
        k += (size_t)w;
        shown++;
    }
    if (more && k < cap) snprintf(buf + k, cap - k, " +%d", more);
    if (!shown) snprintf(buf, cap, "-");
}

static cJSON *file_json(const engine *e, const char *path, const ic_audio_info *info, long long total,
                        const results *r) {
    const ic_model *m = e->m;
    double sr = m->fp.sample_rate;
    char nb[32], note[8];
    cJSON *j = cJSON_CreateObject(), *ws = cJSON_CreateArray(), *sum = cJSON_CreateObject(), *fams = cJSON_CreateArray();
    if (!j || !ws || !sum || !fams) { cJSON_Delete(j); cJSON_Delete(ws); cJSON_Delete(sum); cJSON_Delete(fams); return NULL; }
    cJSON_AddStringToObject(j, "file", path);
    cJSON_AddNumberToObject(j, "sample_rate", info->sample_rate);
    cJSON_AddNumberToObject(j, "duration", round_ms((double)total / sr));
    cJSON_AddNumberToObject(j, "window", round_ms((double)e->W / sr));
    cJSON_AddNumberToObject(j, "hop", round_ms((double)e->H / sr));
    cJSON_AddItemToObject(j, "windows", ws);
    for (size_t i = 0; i < r->n; i++) {
        const window_result *w = &r->w[i];
        const ic_prediction *p = &w->p;
        cJSON *o = cJSON_CreateObject(), *top = cJSON_CreateArray();
        if (!o || !top) { cJSON_Delete(o); cJSON_Delete(top); cJSON_Delete(j); cJSON_Delete(sum); cJSON_Delete(fams); return NULL; }
        cJSON_AddItemToArray(ws, o);
        cJSON_AddNumberToObject(o, "start", round_ms((double)w->start / sr));
        cJSON_AddNumberToObject(o, "end", round_ms((double)(w->start + (long long)w->len) / sr));
        cJSON_AddBoolToObject(o, "playing", p->playing);
        cJSON_AddNumberToObject(o, "p_playing", round_p(p->p_playing));
        if (p->playing && p->family >= 0) {
            cJSON_AddStringToObject(o, "family", ic_predict_family_name(m, p->family, nb, sizeof nb));
            cJSON_AddNumberToObject(o, "confidence", round_p(p->family_p));
            for (int k = 0; k < p->n_top; k++) {
                cJSON *t = cJSON_CreateObject();
                cJSON_AddItemToArray(top, t);
                cJSON_AddStringToObject(t, "family", ic_predict_family_name(m, p->top[k], nb, sizeof nb));
                cJSON_AddNumberToObject(t, "p", round_p(p->top_p[k]));
            }
        } else {
            cJSON_AddNullToObject(o, "family");
            cJSON_AddNullToObject(o, "confidence");
        }
        cJSON_AddItemToObject(o, "top", top);
        if (p->playing && p->pitch_midi >= 0) {
            cJSON *pt = cJSON_CreateObject();
            cJSON_AddItemToObject(o, "pitch", pt);
            cJSON_AddNumberToObject(pt, "midi", p->pitch_midi);
            cJSON_AddStringToObject(pt, "note", ic_midi_note_name(p->pitch_midi, note, sizeof note));
            cJSON_AddNumberToObject(pt, "p", round_p(p->pitch_p));
        } else {
            cJSON_AddNullToObject(o, "pitch");
        }
        if (e->notes) window_notes_json(o, r, (double)w->start / sr, (double)(w->start + (long long)w->len) / sr);
    }
    family_time ft[MAX_FAMILIES];
    double playing, silent;
    int n = summarise(e, r, ft, MAX_FAMILIES, &playing, &silent);
    for (int i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddItemToArray(fams, f);
        cJSON_AddStringToObject(f, "family", ic_predict_family_name(m, ft[i].family, nb, sizeof nb));
        cJSON_AddNumberToObject(f, "seconds", round_ms(ft[i].seconds));
        cJSON_AddNumberToObject(f, "windows", (double)ft[i].windows);
    }
    cJSON_AddItemToObject(sum, "families", fams);
    cJSON_AddNumberToObject(sum, "playing_seconds", round_ms(playing));
    cJSON_AddNumberToObject(sum, "not_playing_seconds", round_ms(silent));
    cJSON_AddItemToObject(j, "summary", sum);
    return j;
}

static void file_text(FILE *f, const engine *e, const char *path, const ic_audio_info *info, long long total,
                      const results *r) {
    const ic_model *m = e->m;
    double sr = m->fp.sample_rate;
    char nb[32], note[8], top[160], notes[96];
    fprintf(f, "%s: %d Hz, %.2f s, %zu window%s of %.2f s, hop %.2f s\n", strcmp(path, "-") ? path : "stdin",
            info->sample_rate, (double)total / sr, r->n, r->n == 1 ? "" : "s", (double)e->W / sr, (double)e->H / sr);
    if (e->notes)
        fprintf(f, "  %8s %8s  %-7s %-12s %5s  %-44s %-14s %s\n", "start", "end", "playing", "family", "p", "top 3", "pitch",
                "notes");
    else
        fprintf(f, "  %8s %8s  %-7s %-12s %5s  %-44s %s\n", "start", "end", "playing", "family", "p", "top 3", "pitch");
    for (size_t i = 0; i < r->n; i++) {
        const window_result *w = &r->w[i];
        const ic_prediction *p = &w->p;
        double t0 = (double)w->start / sr, t1 = (double)(w->start + (long long)w->len) / sr;
        if (e->notes) window_notes_text(notes, sizeof notes, r, t0, t1);
        fprintf(f, "  %8.2f %8.2f  ", t0, t1);
        if (!p->playing) {
            if (e->notes) fprintf(f, "no      (p %.2f)%*s%s\n", p->p_playing, 72, "", notes);
            else fprintf(f, "no      (p %.2f)\n", p->p_playing);
            continue;
        }
        fprintf(f, "%-7s ", "yes");
        if (p->family >= 0) {
            size_t k = 0;
            top[0] = '\0';
            for (int t = 0; t < p->n_top && k < sizeof top; t++)
                k += (size_t)snprintf(top + k, sizeof top - k, "%s%s %.2f", t ? ", " : "",
                                      ic_predict_family_name(m, p->top[t], nb, sizeof nb), p->top_p[t]);
            fprintf(f, "%-12s %5.2f  %-44s ", ic_predict_family_name(m, p->family, nb, sizeof nb), p->family_p, top);
        } else {
            fprintf(f, "%-12s %5s  %-44s ", "-", "-", "-");
        }
        char pitch[32] = "-";
        if (p->pitch_midi >= 0)
            snprintf(pitch, sizeof pitch, "%s (%d) %.2f", ic_midi_note_name(p->pitch_midi, note, sizeof note), p->pitch_midi,
                     p->pitch_p);
        if (e->notes) fprintf(f, "%-14s %s\n", pitch, notes);
        else fprintf(f, "%s\n", pitch);
    }
    family_time ft[MAX_FAMILIES];
    double playing, silent;
    int n = summarise(e, r, ft, MAX_FAMILIES, &playing, &silent);
    fprintf(f, "  summary: ");
    if (n == 0) fprintf(f, "nothing playing");
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s %.1f s", i ? ", " : "", ic_predict_family_name(m, ft[i].family, nb, sizeof nb), ft[i].seconds);
    if (silent > 0) fprintf(f, "; not playing %.1f s", silent);
    fprintf(f, "\n");
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) { free(o.files); return rc; }
    rc = 0;
    ic_audio_quiet_backends();
    ic_threads_set(o.threads);
    ic_model *m = load_model(&o);
    if (!m) { free(o.files); return 1; }

    engine e;
    memset(&e, 0, sizeof e);
    e.m = m;
    e.W = m->window_samples;
    double sr = m->fp.sample_rate, model_window = (double)e.W / sr;
    if (o.window > 0 && fabs(o.window * sr - (double)e.W) > 0.5) {
        fprintf(stderr, "icinfer: --window %g does not match the model's window of %g s (the network is built "
                        "for that length); leave --window out or give %g\n", o.window, model_window, model_window);
        ic_model_free(m);
        free(o.files);
        return 2;
    }
    e.H = o.hop > 0 ? (size_t)llround(o.hop * sr) : e.W;
    if (e.H == 0) {
        fprintf(stderr, "icinfer: --hop %g is shorter than one sample at %g Hz\n(icinfer --help for usage)\n", o.hop, sr);
        ic_model_free(m);
        free(o.files);
        return 2;
    }
    e.min_partial = (size_t)llround(MIN_PARTIAL_SECONDS * sr);
    e.notes = o.notes;
    if (e.min_partial > e.W) e.min_partial = e.W;

    ic_error err;
    ic_error_clear(&err);
    e.pred = ic_predictor_new(m, BATCH, &err);
    e.n_work = ic_threads_get();
    if (e.n_work < 1) e.n_work = 1;
    e.raw = malloc((size_t)BATCH * e.W * sizeof *e.raw);
    e.work = calloc((size_t)e.n_work, sizeof *e.work);
    int ok = e.pred && e.raw && e.work;
    for (int t = 0; ok && t < e.n_work; t++) ok = (e.work[t] = malloc(ic_model_work_floats(m) * sizeof(float))) != NULL;
    if (!ok) {
        fprintf(stderr, "icinfer: %s\n", e.pred ? "out of memory" : err.msg);
        rc = 1;
    }

    cJSON *all = NULL;
    if (rc == 0 && o.json && o.n_files > 1 && !(all = cJSON_CreateArray())) rc = 1;
    int failed = 0, printed = 0;
    for (int i = 0; rc == 0 && i < o.n_files; i++) {
        results r = {0};
        ic_audio_info info;
        long long total = 0;
        ic_error_clear(&err);
        if (run_file(&e, o.files[i], &r, &info, &total, &err)) {
            fprintf(stderr, "icinfer: %s\n", err.msg);
            failed = 1;
        } else if (o.json) {
            cJSON *j = file_json(&e, o.files[i], &info, total, &r);
            if (!j) { fprintf(stderr, "icinfer: out of memory building JSON\n"); rc = 1; }
            else if (all) cJSON_AddItemToArray(all, j);
            else {
                char *s = cJSON_Print(j);
                cJSON_Delete(j);
                if (!s) { fprintf(stderr, "icinfer: out of memory building JSON\n"); rc = 1; }
                else { printf("%s\n", s); cJSON_free(s); }
            }
        } else {
            if (printed++) printf("\n");
            file_text(stdout, &e, o.files[i], &info, total, &r);
        }
        free(r.w);
        ic_note_list_free(&r.notes);
    }
    if (rc == 0 && all) {
        char *s = cJSON_Print(all);
        if (!s) { fprintf(stderr, "icinfer: out of memory building JSON\n"); rc = 1; }
        else { printf("%s\n", s); cJSON_free(s); }
    }
    cJSON_Delete(all);
    if (fflush(stdout) != 0) { fprintf(stderr, "icinfer: writing the results failed: %s\n", strerror(errno)); rc = 1; }
    if (rc == 0 && failed) rc = 1;
    for (int t = 0; e.work && t < e.n_work; t++) free(e.work[t]);
    free(e.work);
    free(e.raw);
    ic_predictor_free(e.pred);
    ic_model_free(m);
    free(o.files);
    return rc;
}
