/* One examples.json entry -> ic_nsynth_example, with every field type- and
 * range-checked, plus NSynth's name tables.  Required: pitch, velocity, sample_rate,
 * the family (instrument_family and/or instrument_family_str, which must agree) and
 * the source (likewise), and a note_str (the entry's key serves when absent).
 * Optional but checked when present: note, instrument, instrument_str, qualities,
 * qualities_str, notes.  Unknown fields are ignored.  Not here: files, wavs. */
#include "ic/nsynth.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const FAMILIES[IC_NSYNTH_N_FAMILIES] = {
    "bass", "brass", "flute", "guitar", "keyboard", "mallet",
    "organ", "reed", "string", "synth_lead", "vocal"};
static const char *const SOURCES[IC_NSYNTH_N_SOURCES] = {"acoustic", "electronic", "synthetic"};
static const char *const QUALITIES[IC_NSYNTH_N_QUALITIES] = {
    "bright", "dark", "distortion", "fast_decay", "long_release",
    "multiphonic", "nonlinear_env", "percussive", "reverb", "tempo-synced"};

#define NAME_MAX_LEN 255

const char *ic_nsynth_family_name(int f) { return f >= 0 && f < IC_NSYNTH_N_FAMILIES ? FAMILIES[f] : NULL; }
const char *ic_nsynth_source_name(int s) { return s >= 0 && s < IC_NSYNTH_N_SOURCES ? SOURCES[s] : NULL; }
const char *ic_nsynth_quality_name(int q) { return q >= 0 && q < IC_NSYNTH_N_QUALITIES ? QUALITIES[q] : NULL; }

static int lookup(const char *const *table, int n, const char *name) {
    if (!name) return -1;
    for (int i = 0; i < n; i++)
        if (!strcmp(table[i], name)) return i;
    return -1;
}
int ic_nsynth_family_id(const char *name) { return lookup(FAMILIES, IC_NSYNTH_N_FAMILIES, name); }
int ic_nsynth_source_id(const char *name) { return lookup(SOURCES, IC_NSYNTH_N_SOURCES, name); }
int ic_nsynth_quality_id(const char *name) { return lookup(QUALITIES, IC_NSYNTH_N_QUALITIES, name); }

/* "number 1e+300", "string \"60\"", "an object", ...: what was found, for messages. */
static const char *describe(const cJSON *v, char *buf, size_t cap) {
    if (!v) snprintf(buf, cap, "nothing");
    else if (cJSON_IsNumber(v)) snprintf(buf, cap, "number %.15g", v->valuedouble);
    else if (cJSON_IsString(v)) snprintf(buf, cap, "string \"%.40s%s\"", v->valuestring,
                                         strlen(v->valuestring) > 40 ? "..." : "");
    else if (cJSON_IsBool(v)) snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v)) snprintf(buf, cap, "null");
    else if (cJSON_IsArray(v)) snprintf(buf, cap, "an array");
    else if (cJSON_IsObject(v)) snprintf(buf, cap, "an object");
    else snprintf(buf, cap, "an invalid value");
    return buf;
}

typedef struct {
    const char *name; /* entry name for messages */
    ic_error *err;
} ctx;

static ic_status fail_type(ctx *c, const char *field, const char *expected, const cJSON *found) {
    char d[80];
    return ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': %s: expected %s, found %s", c->name,
                        field, expected, describe(found, d, sizeof d));
}

static int is_integer_in(const cJSON *v, double lo, double hi) {
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
           v->valuedouble >= lo && v->valuedouble <= hi;
}

/* Integer field in [lo, hi].  0 ok, 1 absent and optional, -1 error. */
static int get_int(ctx *c, const cJSON *obj, const char *key, long long lo, long long hi, int required,
                   long long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (!required) return 1;
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': missing \"%s\"", c->name, key);
        return -1;
    }
    if (!is_integer_in(v, (double)lo, (double)hi)) {
        char exp[80];
        snprintf(exp, sizeof exp, "an integer %lld..%lld", lo, hi);
        fail_type(c, key, exp, v);
        return -1;
    }
    *out = (long long)v->valuedouble;
    return 0;
}

static int get_str(ctx *c, const cJSON *obj, const char *key, int required, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v) {
        if (!required) return 1;
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': missing \"%s\"", c->name, key);
        return -1;
    }
    if (!cJSON_IsString(v) || !v->valuestring) { fail_type(c, key, "a string", v); return -1; }
    *out = v->valuestring;
    return 0;
}

/* note_str names the wav file, so it must be a plain file name: no path separators,
 * no "." or "..", no control characters. */
static int safe_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\') return 0;
    }
    return 1;
}

/* An id field and its _str twin: at least one present; both must agree. */
static int get_class(ctx *c, const cJSON *obj, const char *key, const char *key_str,
                     const char *const *table, int n, const char *what, int *out) {
    long long id = -1;
    const char *s = NULL;
    int ri = get_int(c, obj, key, 0, n - 1, 0, &id);
    if (ri < 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        if (is_integer_in(v, -1e300, 1e300))
            ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': %s: unknown %s %.0f (known: 0..%d)",
                         c->name, key, what, v->valuedouble, n - 1);
        return -1;
    }
    int rs = get_str(c, obj, key_str, 0, &s);
    if (rs < 0) return -1;
    if (ri == 1 && rs == 1) {
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': missing \"%s\" and \"%s\"", c->name, key, key_str);
        return -1;
    }
    int sid = -1;
    if (rs == 0) {
        sid = lookup(table, n, s);
        if (sid < 0) {
            ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': %s: unknown %s \"%.40s\"", c->name,
                         key_str, what, s);
            return -1;
        }
    }
    if (ri == 0 && rs == 0 && sid != id) {
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': %s %lld (%s) does not match %s \"%.40s\"",
                     c->name, key, id, table[id], key_str, s);
        return -1;
    }
    *out = ri == 0 ? (int)id : sid;
    return 0;
}

static int get_qualities(ctx *c, const cJSON *obj, unsigned *out) {
    unsigned bits = 0, sbits = 0;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(obj, "qualities");
    const cJSON *qs = cJSON_GetObjectItemCaseSensitive(obj, "qualities_str");
    if (q) {
        char exp[64];
        snprintf(exp, sizeof exp, "an array of %d 0/1 values", IC_NSYNTH_N_QUALITIES);
        if (!cJSON_IsArray(q) || cJSON_GetArraySize(q) != IC_NSYNTH_N_QUALITIES) {
            fail_type(c, "qualities", exp, q);
            return -1;
        }
        int i = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, q) {
            if (!is_integer_in(v, 0, 1)) {
                char field[32];
                snprintf(field, sizeof field, "qualities[%d]", i);
                fail_type(c, field, "0 or 1", v);
                return -1;
            }
            if (v->valuedouble == 1) bits |= 1u << i;
            i++;
        }
    }
    if (qs) {
        if (!cJSON_IsArray(qs)) { fail_type(c, "qualities_str", "an array of strings", qs); return -1; }
        const cJSON *v;
        cJSON_ArrayForEach(v, qs) {
            int id = cJSON_IsString(v) ? lookup(QUALITIES, IC_NSYNTH_N_QUALITIES, v->valuestring) : -1;
            if (id < 0) {
                fail_type(c, "qualities_str", "known quality names", v);
                return -1;
            }
            sbits |= 1u << id;
        }
        if (q && sbits != bits) {
            ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': qualities and qualities_str disagree",
                         c->name);
            return -1;
        }
    }
    *out = q ? bits : sbits;
    return 0;
}

static int get_notes(ctx *c, const cJSON *obj, ic_nsynth_example *ex) {
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(obj, "notes");
    if (!list) return 0;
    if (!cJSON_IsArray(list)) { fail_type(c, "notes", "an array of note objects", list); return -1; }
    int n = cJSON_GetArraySize(list);
    if (n > IC_NSYNTH_MAX_NOTES) {
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': notes: %d notes, at most %d allowed", c->name,
                     n, IC_NSYNTH_MAX_NOTES);
        return -1;
    }
    if (n == 0) return 0;
    ex->notes = calloc((size_t)n, sizeof *ex->notes);
    if (!ex->notes) { ic_error_set(c->err, IC_ERR_NOMEM, "entry '%.200s': out of memory", c->name); return -1; }
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, list) {
        char field[48];
        ic_nsynth_note *nt = &ex->notes[i];
        snprintf(field, sizeof field, "notes[%d]", i);
        if (!cJSON_IsObject(v)) { fail_type(c, field, "an object", v); return -1; }
        const cJSON *on = cJSON_GetObjectItemCaseSensitive(v, "onset");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(v, "offset");
        snprintf(field, sizeof field, "notes[%d].onset", i);
        if (!cJSON_IsNumber(on) || !isfinite(on->valuedouble) || on->valuedouble < 0 || on->valuedouble > 1e6) {
            fail_type(c, field, "a time in seconds >= 0", on);
            return -1;
        }
        snprintf(field, sizeof field, "notes[%d].offset", i);
        if (!cJSON_IsNumber(off) || !isfinite(off->valuedouble) || off->valuedouble < on->valuedouble ||
            off->valuedouble > 1e6) {
            fail_type(c, field, "a time in seconds >= the onset", off);
            return -1;
        }
        long long pitch, vel = ex->velocity; /* a note's velocity defaults to the entry's */
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(v, "pitch");
        const cJSON *vv = cJSON_GetObjectItemCaseSensitive(v, "velocity");
        snprintf(field, sizeof field, "notes[%d].pitch", i);
        if (!is_integer_in(p, 0, 127)) { fail_type(c, field, "an integer 0..127", p); return -1; }
        pitch = (long long)p->valuedouble;
        if (vv) {
            snprintf(field, sizeof field, "notes[%d].velocity", i);
            if (!is_integer_in(vv, 0, 127)) { fail_type(c, field, "an integer 0..127", vv); return -1; }
            vel = (long long)vv->valuedouble;
        }
        nt->onset = (float)on->valuedouble;
        nt->offset = (float)off->valuedouble;
        nt->pitch = (int)pitch;
        nt->velocity = (int)vel;
        i++;
    }
    ex->n_notes = (size_t)n;
    return 0;
}

void ic_nsynth_example_clear(ic_nsynth_example *ex) {
    free(ex->note_str);
    free(ex->instrument_str);
    free(ex->notes);
    free(ex->wav);
    memset(ex, 0, sizeof *ex);
}

static int parse(ctx *c, const cJSON *e, const char *key, ic_nsynth_example *ex) {
    const char *ns = NULL;
    if (!cJSON_IsObject(e)) { fail_type(c, "entry", "an object", e); return -1; }
    int r = get_str(c, e, "note_str", key == NULL, &ns);
    if (r < 0) return -1;
    if (r == 1) ns = key;
    if (key && strcmp(ns, key)) {
        ic_error_set(c->err, IC_ERR_FORMAT, "entry '%.200s': note_str \"%.200s\" differs from its key",
                     c->name, ns);
        return -1;
    }
    c->name = ns;
    if (!safe_name(ns)) {
        ic_error_set(c->err, IC_ERR_FORMAT,
                     "entry '%.200s': note_str is not a usable file name (1..%d characters, no '/', '\\', "
                     "control characters, '.' or '..')", ns, NAME_MAX_LEN);
        return -1;
    }
    long long v;
    if (get_int(c, e, "pitch", 0, 127, 1, &v)) return -1;
    ex->pitch = (int)v;
    if (get_int(c, e, "velocity", 0, 127, 1, &v)) return -1;
    ex->velocity = (int)v;
    if (get_int(c, e, "sample_rate", 1, 768000, 1, &v)) return -1;
    ex->sample_rate = (int)v;
    if (get_class(c, e, "instrument_family", "instrument_family_str", FAMILIES, IC_NSYNTH_N_FAMILIES,
                  "family", &ex->family)) return -1;
    if (get_class(c, e, "instrument_source", "instrument_source_str", SOURCES, IC_NSYNTH_N_SOURCES,
                  "source", &ex->source)) return -1;
    ex->family_str = FAMILIES[ex->family];
    ex->source_str = SOURCES[ex->source];
    ex->note = -1;
    if ((r = get_int(c, e, "note", 0, 9007199254740992LL, 0, &v)) < 0) return -1;
    if (r == 0) ex->note = v;
    ex->instrument = -1;
    if ((r = get_int(c, e, "instrument", 0, INT_MAX, 0, &v)) < 0) return -1;
    if (r == 0) ex->instrument = (int)v;
    const char *is = "";
    if (get_str(c, e, "instrument_str", 0, &is) < 0) return -1;
    if (get_qualities(c, e, &ex->qualities)) return -1;
    if (get_notes(c, e, ex)) return -1;
    ex->note_str = strdup(ns);
    ex->instrument_str = strdup(is);
    if (!ex->note_str || !ex->instrument_str) {
        ic_error_set(c->err, IC_ERR_NOMEM, "entry '%.200s': out of memory", c->name);
        return -1;
    }
    ex->wav_frames = -1;
    return 0;
}

ic_status ic_nsynth_parse_entry(const cJSON *entry, const char *key, ic_nsynth_example *ex, ic_error *err) {
    memset(ex, 0, sizeof *ex);
    const cJSON *ns = cJSON_IsObject(entry) ? cJSON_GetObjectItemCaseSensitive(entry, "note_str") : NULL;
    ctx c = {key ? key : (cJSON_IsString(ns) ? ns->valuestring : "(unnamed)"), err};
    if (parse(&c, entry, key, ex)) {
        ic_status code = err ? err->code : IC_ERR_FORMAT;
        ic_nsynth_example_clear(ex);
        return code;
    }
    return IC_OK;
}
