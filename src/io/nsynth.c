/* Loading one NSynth split from a folder or a .tar.gz (see ic/nsynth.h).
 *
 * examples.json can be 100+ MB for the real train split, so it is not parsed as one
 * cJSON tree (tens of millions of nodes): a small scanner walks the top-level object
 * or array, finds each entry's extent (strings, escapes and bracket nesting tracked),
 * and cJSON parses one entry at a time.  A malformed entry is therefore an entry
 * problem (skip or stop); a malformed top level (truncated, brackets mismatched, not
 * an object or array) is an error for the whole file.
 *
 * Archives are read in one streaming pass whatever the member order: wavs met before
 * examples.json have their headers checked on the spot and the results kept by member
 * name until the json arrives.  Not here: decoding for training (nsynth_audio.c),
 * balance and counts (nsynth_balance.c). */
#include "ic/nsynth.h"
#include "ic/tar_gz.h"
#include "strmap.h"
#include <errno.h>
#include <sndfile.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define JSON_MAX_BYTES ((size_t)4 << 30)
#define JSON_MAX_DEPTH 1000
#define WAV_MAX_BYTES ((size_t)1 << 30)

void ic_nsynth_opts_default(ic_nsynth_opts *o) {
    memset(o, 0, sizeof *o);
    o->on_error = IC_ON_ERROR_SKIP;
    o->check_audio = 1;
}

/* What a wav header check found, before it is compared with the entry. */
typedef struct {
    int seen;         /* 0 not found, 1 header read, 2 unreadable (msg) */
    long long frames;
    int rate, channels;
    char *msg;        /* seen == 2: why */
} wav_check;

typedef struct {
    const ic_nsynth_opts *o;
    ic_nsynth_split *s;
    char *json_name;       /* examples.json as named in messages */
    size_t cap;
    ic_strmap names;       /* note_str -> index (duplicates) */
    unsigned char *bad;    /* per example: failed a wav check, to drop */
    size_t bad_cap;
} loader;

static void default_warn(void *ctx, const char *msg) { fprintf(stderr, "warning: %s; entry skipped\n", msg); }

/* An entry-level problem: under SKIP report it and go on (0), under STOP fail (-1). */
static int problem(loader *L, ic_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int problem(loader *L, ic_error *err, const char *fmt, ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->o->on_error == IC_ON_ERROR_STOP) {
        ic_error_set(err, IC_ERR_FORMAT, "%s", msg);
        return -1;
    }
    L->s->n_skipped++;
    (L->o->warn ? L->o->warn : default_warn)(L->o->warn_ctx, msg);
    return 0;
}

/* ---- top-level JSON scanner ---------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

/* p at '"': returns just past the closing quote, NULL when unterminated. */
static const char *scan_string(const char *p, const char *end) {
    for (p++; p < end; p++) {
        if (*p == '\\') { p++; continue; }
        if (*p == '"') return p + 1;
    }
    return NULL;
}

/* Extent of one value; NULL + *why on truncation or mismatched brackets. */
static const char *scan_value(const char *p, const char *end, const char **why) {
    if (p >= end) { *why = "truncated: a value is missing"; return NULL; }
    if (*p == '"') {
        const char *q = scan_string(p, end);
        if (!q) *why = "truncated inside a string";
        return q;
    }
    if (*p != '{' && *p != '[') {
        while (p < end && !strchr(",}] \t\r\n", *p)) p++;
        return p;
    }
    char stack[JSON_MAX_DEPTH];
    int depth = 0;
    while (p < end) {
        char ch = *p;
        if (ch == '"') {
            p = scan_string(p, end);
            if (!p) { *why = "truncated inside a string"; return NULL; }
            continue;
        }
        if (ch == '{' || ch == '[') {
            if (depth == JSON_MAX_DEPTH) { *why = "nested too deeply"; return NULL; }
            stack[depth++] = ch == '{' ? '}' : ']';
        } else if (ch == '}' || ch == ']') {
            if (stack[depth - 1] != ch) { *why = "mismatched brackets"; return NULL; }
            if (--depth == 0) return p + 1;
        }
        p++;
    }
    *why = "truncated: an object or array is not closed";
    return NULL;
}

static size_t line_of(const char *start, const char *p) {
    size_t line = 1;
    for (const char *q = start; q < p; q++) line += *q == '\n';
    return line;
}

static ic_status add_entry(loader *L, const char *key, const char *val, size_t vlen, size_t ordinal,
                           ic_error *err);

/* Walks the top level ({"key": entry, ...} or [entry, ...]), handing each entry to
 * add_entry.  Fatal errors name the line. */
static ic_status scan_top(loader *L, const char *text, size_t len, ic_error *err) {
    const char *p = text, *end = text + len, *why = NULL;
    if (len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3;
    p = skip_ws(p, end);
    if (p >= end) return ic_error_set(err, IC_ERR_FORMAT, "%s: empty file, expected a JSON object", L->json_name);
    char open = *p, close = open == '{' ? '}' : ']';
    if (open != '{' && open != '[')
        return ic_error_set(err, IC_ERR_FORMAT, "%s: line %zu: expected a JSON object of examples, found '%c'",
                            L->json_name, line_of(text, p), *p);
    p = skip_ws(p + 1, end);
    size_t ordinal = 0;
    if (p < end && *p == close) goto done;
    for (;;) {
        char *key = NULL;
        if (open == '{') {
            if (p >= end || *p != '"') { why = p >= end ? "truncated" : "expected a quoted key"; goto bad; }
            const char *ke = scan_string(p, end);
            if (!ke) { why = "truncated inside a key"; goto bad; }
            cJSON *k = cJSON_ParseWithLength(p, (size_t)(ke - p));
            if (!cJSON_IsString(k)) { cJSON_Delete(k); why = "invalid key string"; goto bad; }
            key = strdup(k->valuestring);
            cJSON_Delete(k);
            if (!key) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->json_name);
            p = skip_ws(ke, end);
            if (p >= end || *p != ':') { free(key); why = p >= end ? "truncated" : "expected ':'"; goto bad; }
            p = skip_ws(p + 1, end);
        }
        const char *ve = scan_value(p, end, &why);
        if (!ve) { free(key); goto bad; }
        ic_status st = add_entry(L, key, p, (size_t)(ve - p), ordinal++, err);
        free(key);
        if (st) return st;
        p = skip_ws(ve, end);
        if (p < end && *p == ',') { p = skip_ws(p + 1, end); continue; }
        if (p < end && *p == close) break;
        why = p >= end ? "truncated: the top-level object is not closed" : "expected ',' or the closing bracket";
        goto bad;
    }
done:
    p = skip_ws(p + 1, end);
    if (p < end) { why = "unexpected text after the top-level value"; goto bad; }
    return IC_OK;
bad:
    return ic_error_set(err, IC_ERR_FORMAT, "%s: line %zu: %s", L->json_name, line_of(text, p < end ? p : end), why);
}

/* ---- entries ------------------------------------------------------------------- */

static ic_status add_entry(loader *L, const char *key, const char *val, size_t vlen, size_t ordinal,
                           ic_error *err) {
    ic_nsynth_split *s = L->s;
    char shown[80];
    if (key) snprintf(shown, sizeof shown, "'%.60s'", key);
    else snprintf(shown, sizeof shown, "#%zu", ordinal);
    cJSON *j = cJSON_ParseWithLength(val, vlen);
    if (!j) return problem(L, err, "%s: entry %s: not valid JSON", L->json_name, shown) ? IC_ERR_FORMAT : IC_OK;
    ic_nsynth_example ex;
    ic_error e;
    ic_error_clear(&e);
    ic_status st = ic_nsynth_parse_entry(j, key, &ex, &e);
    cJSON_Delete(j);
    if (st == IC_ERR_NOMEM) return ic_error_set(err, st, "%s: %s", L->json_name, e.msg);
    if (st) return problem(L, err, "%s: %s", L->json_name, e.msg) ? IC_ERR_FORMAT : IC_OK;
    if (s->n == L->cap) {
        size_t nc = L->cap ? 2 * L->cap : 1024;
        ic_nsynth_example *nx = realloc(s->ex, nc * sizeof *nx);
        if (!nx) { ic_nsynth_example_clear(&ex); return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->json_name); }
        s->ex = nx;
        L->cap = nc;
    }
    size_t first;
    int r = ic_strmap_put(&L->names, ex.note_str, s->n, &first);
    if (r < 0) { ic_nsynth_example_clear(&ex); return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->json_name); }
    if (r == 0) {
        int stop = problem(L, err, "%s: entry '%s': duplicate note_str (first seen as example %zu)", L->json_name,
                           ex.note_str, first);
        ic_nsynth_example_clear(&ex);
        return stop ? IC_ERR_FORMAT : IC_OK;
    }
    s->ex[s->n++] = ex;
    return IC_OK;
}

/* ---- wav checks ---------------------------------------------------------------- */

static int expected_rate(const loader *L, const ic_nsynth_example *ex) {
    return L->o->expect_rate > 0 ? L->o->expect_rate : ex->sample_rate;
}

/* Compares what was found for example i's wav with the entry; wav_name names the
 * file (or "archive: member") in messages.  0 go on, -1 stop. */
static int judge_wav(loader *L, size_t i, const wav_check *w, const char *wav_name, ic_error *err) {
    ic_nsynth_example *ex = &L->s->ex[i];
    int stop = 0;
    if (w->seen == 0) {
        stop = problem(L, err, "%s: missing wav for entry '%s'", wav_name, ex->note_str);
    } else if (w->seen == 2) {
        stop = problem(L, err, "%s (entry '%s'): %s", wav_name, ex->note_str, w->msg);
    } else {
        int rate = expected_rate(L, ex);
        long long frames = L->o->expect_frames > 0 ? L->o->expect_frames
                           : L->o->expect_frames == 0 ? 4LL * rate : -1;
        ex->wav_frames = w->frames;
        ex->wav_rate = w->rate;
        ex->wav_channels = w->channels;
        if (w->rate != rate)
            stop = problem(L, err, "%s (entry '%s'): sample rate %d Hz, expected %d Hz", wav_name, ex->note_str,
                           w->rate, rate);
        else if (frames >= 0 && w->frames != frames)
            stop = problem(L, err, "%s (entry '%s'): %lld samples (%.3f s), expected %lld (%.3f s at %d Hz)",
                           wav_name, ex->note_str, w->frames, (double)w->frames / w->rate, frames,
                           (double)frames / rate, rate);
        else
            return 0;
    }
    if (!stop) L->bad[i] = 1;
    return stop ? -1 : 0;
}

static int ensure_bad(loader *L, ic_error *err) {
    L->bad = calloc(L->s->n ? L->s->n : 1, 1);
    if (!L->bad) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->s->source); return -1; }
    return 0;
}

/* Header of a wav file on disk, without reading its samples.  libsndfile keeps the
 * reason a file failed to open in one global, so parallel callers pass with_reason 0
 * and a failure is checked again, alone, for its message. */
static void check_file(const char *path, wav_check *w, int with_reason) {
    memset(w, 0, sizeof *w);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            w->seen = 2;
            w->msg = strdup(strerror(errno));
        }
        return;
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open(path, SFM_READ, &info);
    if (!sf) {
        w->seen = 2;
        if (!with_reason) return;
        char m[300];
        snprintf(m, sizeof m, "not a readable audio file: %s", sf_strerror(NULL));
        w->msg = strdup(m);
        return;
    }
    sf_close(sf);
    w->seen = 1;
    w->frames = info.frames;
    w->rate = info.samplerate;
    w->channels = info.channels;
}

static void drop_bad(loader *L) {
    ic_nsynth_split *s = L->s;
    if (!L->bad) return;
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (L->bad[i]) ic_nsynth_example_clear(&s->ex[i]);
        else s->ex[k++] = s->ex[i];
    }
    s->n = k;
}

/* ---- folders ------------------------------------------------------------------- */

static ic_status read_whole(const char *path, size_t max, char **data, size_t *n, ic_error *err) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ic_error_set(err, IC_ERR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)sb.st_size > max) {
        fclose(f);
        return ic_error_set(err, IC_ERR_FORMAT, "%s: %lld bytes, more than the %zu allowed", path,
                            (long long)sb.st_size, max);
    }
    size_t len = (size_t)sb.st_size;
    char *buf = malloc(len + 1);
    if (!buf) { fclose(f); return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, len); }
    size_t got = fread(buf, 1, len, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != len) { free(buf); return ic_error_set(err, IC_ERR_IO, "%s: read error", path); }
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return IC_OK;
}

static char *join(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%s%s%s", a, b, c);
    return r;
}

static ic_status load_folder(loader *L, const char *dir, ic_error *err) {
    ic_nsynth_split *s = L->s;
    L->json_name = join(dir, "/examples.json", "");
    if (!L->json_name) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", dir);
    char *text;
    size_t len = 0;
    ic_status st = read_whole(L->json_name, JSON_MAX_BYTES, &text, &len, err);
    if (st) return st;
    st = scan_top(L, text, len, err);
    free(text);
    if (st) return st;
    for (size_t i = 0; i < s->n; i++) {
        s->ex[i].wav = join(dir, "/audio/", s->ex[i].note_str);
        char *w = s->ex[i].wav ? join(s->ex[i].wav, ".wav", "") : NULL;
        free(s->ex[i].wav);
        s->ex[i].wav = w;
        if (!w) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", dir);
    }
    if (!L->o->check_audio) return IC_OK;
    if (ensure_bad(L, err)) return IC_ERR_NOMEM;
    wav_check *checks = calloc(s->n ? s->n : 1, sizeof *checks);
    if (!checks) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", dir);
    /* header reads are independent file opens: overlap their latency */
    #pragma omp parallel for schedule(dynamic, 64)
    for (size_t i = 0; i < s->n; i++) check_file(s->ex[i].wav, &checks[i], 0);
    st = IC_OK;
    for (size_t i = 0; i < s->n && !st; i++) {
        if (checks[i].seen == 2 && !checks[i].msg) check_file(s->ex[i].wav, &checks[i], 1);
        if (checks[i].seen == 2 && !checks[i].msg)
            st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", dir);
        else if (judge_wav(L, i, &checks[i], s->ex[i].wav, err))
            st = IC_ERR_FORMAT;
    }
    for (size_t i = 0; i < s->n; i++) free(checks[i].msg);
    free(checks);
    return st;
}

/* ---- archives ------------------------------------------------------------------ */

/* "nsynth-train/audio/x.wav" -> the part before "audio/" ("nsynth-train/"), when the
 * member has that shape; NULL otherwise. */
static int audio_member(const char *name, size_t *prefix_len) {
    size_t n = strlen(name);
    if (n < 11 || strcmp(name + n - 4, ".wav")) return 0;
    const char *slash = strrchr(name, '/');
    if (!slash || slash - name < 5 || memcmp(slash - 5, "audio", 5)) return 0;
    const char *a = slash - 5;
    if (a != name && a[-1] != '/') return 0;
    *prefix_len = (size_t)(a - name);
    return 1;
}

typedef struct {
    char *name;
    wav_check w;
} pending_wav;

static ic_status load_archive(loader *L, const char *path, ic_error *err) {
    ic_nsynth_split *s = L->s;
    const int check = L->o->check_audio;
    ic_tar *t = ic_tar_open(path, err);
    if (!t) return err ? err->code : IC_ERR_IO;
    ic_tar_entry *e = malloc(sizeof *e);
    pending_wav *pend = NULL;
    size_t n_pend = 0, cap_pend = 0;
    ic_strmap members = {0};
    wav_check *checks = NULL;
    char *data = NULL;
    ic_status st = IC_OK;
    int have_json = 0, r;
    char prefix[IC_TAR_NAME_MAX] = "";
    if (!e) { st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
    while ((r = ic_tar_next(t, e, err)) == 1) {
        if (e->type != '0') continue;
        const char *base = strrchr(e->name, '/');
        base = base ? base + 1 : e->name;
        size_t plen;
        if (!strcmp(base, "examples.json")) {
            if (have_json) {
                st = ic_error_set(err, IC_ERR_FORMAT, "%s: a second examples.json (%s after %sexamples.json): one split per archive",
                                  path, e->name, prefix);
                goto out;
            }
            have_json = 1;
            size_t n;
            memcpy(prefix, e->name, (size_t)(base - e->name));
            prefix[base - e->name] = '\0';
            free(L->json_name);
            L->json_name = join(path, ": ", e->name);
            if (!L->json_name) { st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
            if ((st = ic_tar_read_all(t, JSON_MAX_BYTES, &data, &n, err))) goto out;
            st = scan_top(L, data, n, err);
            free(data);
            data = NULL;
            if (st) goto out;
            if (ic_strmap_init(&members, s->n)) { st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
            for (size_t i = 0; i < s->n; i++) {
                size_t len = strlen(prefix) + strlen(s->ex[i].note_str) + 11;
                s->ex[i].wav = malloc(len);
                if (s->ex[i].wav) snprintf(s->ex[i].wav, len, "%saudio/%s.wav", prefix, s->ex[i].note_str);
                if (!s->ex[i].wav || ic_strmap_put(&members, s->ex[i].wav, i, NULL) < 0) {
                    st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
                    goto out;
                }
            }
            if (!check) break; /* the json is all a trusting load needs */
            checks = calloc(s->n ? s->n : 1, sizeof *checks);
            if (!checks) { st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
            continue;
        }
        if (!check || !audio_member(e->name, &plen)) continue;
        size_t idx = 0;
        if (have_json && (!ic_strmap_get(&members, e->name, &idx) || checks[idx].seen)) continue;
        wav_check w;
        memset(&w, 0, sizeof w);
        size_t n;
        if ((st = ic_tar_read_all(t, WAV_MAX_BYTES, &data, &n, err))) goto out;
        ic_error de;
        if (ic_nsynth_decode_wav_mem(data, n, e->name, NULL, &w.frames, &w.rate, &w.channels, &de)) {
            w.seen = 2;
            const char *m = de.msg + strlen(e->name);  /* drop the repeated member name */
            w.msg = strdup(!strncmp(m, ": ", 2) ? m + 2 : de.msg);
            if (!w.msg) { st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
        } else {
            w.seen = 1;
        }
        free(data);
        data = NULL;
        if (have_json) {
            checks[idx] = w;
            continue;
        }
        if (n_pend == cap_pend) {
            size_t nc = cap_pend ? 2 * cap_pend : 256;
            pending_wav *np = realloc(pend, nc * sizeof *np);
            if (!np) { free(w.msg); st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
            pend = np;
            cap_pend = nc;
        }
        pend[n_pend].name = strdup(e->name);
        pend[n_pend].w = w;
        if (!pend[n_pend].name) { free(w.msg); st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); goto out; }
        n_pend++;
    }
    if (r < 0) { st = err ? err->code : IC_ERR_FORMAT; goto out; }
    if (!have_json) {
        st = ic_error_set(err, IC_ERR_FORMAT, "%s: no examples.json in the archive", path);
        goto out;
    }
    /* split name: the folder holding examples.json, else the archive's file name */
    {
        char nm[IC_TAR_NAME_MAX];
        snprintf(nm, sizeof nm, "%s", prefix);
        size_t k = strlen(nm);
        while (k && nm[k - 1] == '/') nm[--k] = '\0';
        if (k) {
            const char *b = strrchr(nm, '/');
            b = b ? b + 1 : nm;
            snprintf(s->name, sizeof s->name, "%.63s", strncmp(b, "nsynth-", 7) ? b : b + 7);
        }
    }
    if (!check) goto out;
    for (size_t k = 0; k < n_pend; k++) {
        size_t idx;
        if (ic_strmap_get(&members, pend[k].name, &idx) && !checks[idx].seen) {
            checks[idx] = pend[k].w;
            pend[k].w.msg = NULL;
        }
    }
    if (ensure_bad(L, err)) { st = IC_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < s->n; i++) {
        char shown[IC_TAR_NAME_MAX + 600];
        snprintf(shown, sizeof shown, "%s: member %s", path, s->ex[i].wav);
        if (judge_wav(L, i, &checks[i], shown, err)) { st = IC_ERR_FORMAT; goto out; }
    }
out:
    for (size_t k = 0; k < n_pend; k++) { free(pend[k].name); free(pend[k].w.msg); }
    free(pend);
    if (checks) for (size_t i = 0; i < s->n; i++) free(checks[i].msg);
    free(checks);
    free(data);
    free(e);
    ic_strmap_free(&members);
    ic_tar_close(t);
    return st;
}

/* ---- public -------------------------------------------------------------------- */

static void name_from_path(char *out, size_t cap, const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') tmp[--n] = '\0';
    const char *b = strrchr(tmp, '/');
    b = b ? b + 1 : tmp;
    if (!strncmp(b, "nsynth-", 7)) b += 7;
    snprintf(out, cap, "%s", b);
    static const char *const exts[] = {".jsonwav.tar.gz", ".tar.gz", ".tgz", ".tar"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t l = strlen(out), e = strlen(exts[i]);
        if (l > e && !strcmp(out + l - e, exts[i])) { out[l - e] = '\0'; break; }
    }
}

ic_nsynth_split *ic_nsynth_load_split(const char *path, const ic_nsynth_opts *opts, ic_error *err) {
    ic_nsynth_opts def;
    if (!opts) { ic_nsynth_opts_default(&def); opts = &def; }
    struct stat sb;
    if (stat(path, &sb) != 0) {
        ic_error_set(err, IC_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    ic_nsynth_split *s = calloc(1, sizeof *s);
    loader L = {.o = opts, .s = s};
    if (!s || !(s->source = strdup(path)) || ic_strmap_init(&L.names, 1024)) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
        ic_strmap_free(&L.names);
        ic_nsynth_split_free(s);
        return NULL;
    }
    name_from_path(s->name, sizeof s->name, path);
    ic_status st;
    if (S_ISDIR(sb.st_mode)) {
        st = load_folder(&L, path, err);
    } else {
        s->from_archive = 1;
        st = load_archive(&L, path, err);
    }
    ic_strmap_free(&L.names);
    if (!st) drop_bad(&L);
    free(L.bad);
    free(L.json_name);
    if (st) { ic_nsynth_split_free(s); return NULL; }
    return s;
}

void ic_nsynth_split_free(ic_nsynth_split *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) ic_nsynth_example_clear(&s->ex[i]);
    free(s->ex);
    free(s->source);
    free(s);
}

int ic_nsynth_locate(const char *dir, const char *name, char *path, size_t cap) {
    struct stat sb;
    char probe[8192];
    snprintf(probe, sizeof probe, "%s/nsynth-%s/examples.json", dir, name);
    if (stat(probe, &sb) == 0) {
        snprintf(path, cap, "%s/nsynth-%s", dir, name);
        return 1;
    }
    static const char *const exts[] = {".jsonwav.tar.gz", ".tar.gz", ".tar"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        snprintf(probe, sizeof probe, "%s/nsynth-%s%s", dir, name, exts[i]);
        if (stat(probe, &sb) == 0 && S_ISREG(sb.st_mode)) {
            snprintf(path, cap, "%s", probe);
            return 1;
        }
    }
    return 0;
}
