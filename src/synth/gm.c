/* Generator vocabulary and names: NSynth families and sources, the generator's pitch
 * range per family, the GM program table loader, flag list parsing, soundfont tags,
 * instrument names and ids, and split assignment by hash.  No audio here. */
#include "ic/synth.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const FAMILY[IC_SYNTH_N_FAMILIES] = {
    "bass", "brass", "flute", "guitar", "keyboard", "mallet",
    "organ", "reed", "string", "synth_lead", "vocal"};
static const char *const SOURCE[IC_SYNTH_N_SOURCES] = {"acoustic", "electronic", "synthetic"};

/* Issue 4's ranges (MIDI, inclusive), in family order. */
static const int RANGE[IC_SYNTH_N_FAMILIES][2] = {
    {28, 67}, {40, 84}, {55, 96}, {40, 88}, {21, 108}, {53, 108},
    {36, 96}, {36, 84}, {28, 96}, {36, 96}, {48, 84}};

const char *ic_synth_family_name(int f) { return f >= 0 && f < IC_SYNTH_N_FAMILIES ? FAMILY[f] : NULL; }
const char *ic_synth_source_name(int s) { return s >= 0 && s < IC_SYNTH_N_SOURCES ? SOURCE[s] : NULL; }

int ic_synth_family_id(const char *name) {
    for (int i = 0; i < IC_SYNTH_N_FAMILIES; i++) if (strcmp(name, FAMILY[i]) == 0) return i;
    return -1;
}

int ic_synth_source_id(const char *name) {
    for (int i = 0; i < IC_SYNTH_N_SOURCES; i++) if (strcmp(name, SOURCE[i]) == 0) return i;
    return -1;
}

void ic_synth_family_range(int f, int *lo, int *hi) {
    IC_ASSERT(f >= 0 && f < IC_SYNTH_N_FAMILIES);
    *lo = RANGE[f][0];
    *hi = RANGE[f][1];
}

int ic_synth_family_chords(int f) {
    return f == 3 || f == 4 || f == 5 || f == 6 || f == 8;   /* guitar keyboard mallet organ string */
}

/* ---- table ---- */

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = 0;
    return s;
}

/* Splits line at tabs into at most cap fields; returns the count. */
static int split_tabs(char *line, char **f, int cap) {
    int n = 0;
    char *p = line;
    while (n < cap) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

ic_status ic_gm_table_load(const char *path, ic_gm_table *t, ic_error *err) {
    FILE *fp = fopen(path, "r");
    if (!fp) return ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char seen[128] = {0};
    char line[512];
    int lineno = 0, header = 0, rows = 0;
    ic_status st = IC_OK;
    for (int i = 0; i < 128; i++) { t->prog[i].family = t->prog[i].source = -1; t->prog[i].name[0] = 0; }
    while (fgets(line, sizeof line, fp)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(fp)) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: line longer than %zu bytes", path, lineno, sizeof line - 2);
            break;
        }
        char *l = trim(line);
        if (!*l || *l == '#') continue;
        char *f[5];
        int nf = split_tabs(l, f, 5);
        if (!header) {
            if (nf != 4 || strcmp(f[0], "program") || strcmp(f[1], "family") || strcmp(f[2], "source") ||
                strcmp(f[3], "gm_name")) {
                st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: expected the header 'program<TAB>family<TAB>source<TAB>gm_name', found '%s'",
                                  path, lineno, l);
                break;
            }
            header = 1;
            continue;
        }
        if (nf != 4) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: expected 4 tab-separated fields, found %d", path, lineno, nf);
            break;
        }
        char *end;
        errno = 0;
        long p = strtol(f[0], &end, 10);
        if (errno || end == f[0] || *end || p < 0 || p > 127) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: expected a program 0-127, found '%s'", path, lineno, f[0]);
            break;
        }
        if (seen[p]) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: program %ld listed twice", path, lineno, p);
            break;
        }
        int fam = strcmp(f[1], "-") ? ic_synth_family_id(f[1]) : -1;
        int src = strcmp(f[2], "-") ? ic_synth_source_id(f[2]) : -1;
        if (strcmp(f[1], "-") && fam < 0) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: unknown NSynth family '%s'", path, lineno, f[1]);
            break;
        }
        if (strcmp(f[2], "-") && src < 0) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: unknown NSynth source '%s'", path, lineno, f[2]);
            break;
        }
        if ((fam < 0) != (src < 0)) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: family and source must both be '-' or both be set, found '%s' '%s'",
                              path, lineno, f[1], f[2]);
            break;
        }
        if (!*f[3] || strlen(f[3]) >= sizeof t->prog[0].name) {
            st = ic_error_set(err, IC_ERR_FORMAT, "%s:%d: expected a GM name of 1-%zu characters, found %zu",
                              path, lineno, sizeof t->prog[0].name - 1, strlen(f[3]));
            break;
        }
        seen[p] = 1;
        rows++;
        t->prog[p].family = fam;
        t->prog[p].source = src;
        snprintf(t->prog[p].name, sizeof t->prog[p].name, "%s", f[3]);
    }
    if (st == IC_OK && ferror(fp)) st = ic_error_set(err, IC_ERR_IO, "%s: read error", path);
    fclose(fp);
    if (st != IC_OK) return st;
    if (!header) return ic_error_set(err, IC_ERR_FORMAT, "%s: no header line found", path);
    if (rows != 128) {
        int missing = 0;
        while (missing < 128 && seen[missing]) missing++;
        return ic_error_set(err, IC_ERR_FORMAT, "%s: expected 128 programs, found %d (program %d missing)",
                            path, rows, missing);
    }
    return IC_OK;
}

/* ---- lists ---- */

/* Parses a non-negative decimal at *p, advancing it; -1 when there is none. */
static long read_uint(const char **p) {
    if (!isdigit((unsigned char)**p)) return -1;
    long v = 0;
    while (isdigit((unsigned char)**p)) {
        if (v > 100000000) return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    return v;
}

ic_status ic_synth_parse_programs(const char *s, unsigned char mask[128], ic_error *err) {
    memset(mask, 0, 128);
    const char *p = s;
    if (!*p) return ic_error_set(err, IC_ERR_ARG, "--programs: empty list");
    for (;;) {
        long a = read_uint(&p), b = a;
        if (a < 0) return ic_error_set(err, IC_ERR_ARG, "--programs '%s': expected a number at '%s'", s, p);
        if (*p == '-') {
            p++;
            b = read_uint(&p);
            if (b < 0) return ic_error_set(err, IC_ERR_ARG, "--programs '%s': expected a number after '-'", s);
        }
        if (a > 127 || b > 127 || b < a)
            return ic_error_set(err, IC_ERR_ARG, "--programs '%s': expected programs 0-127 and ranges low-high, found %ld-%ld", s, a, b);
        for (long i = a; i <= b; i++) mask[i] = 1;
        if (!*p) return IC_OK;
        if (*p != ',') return ic_error_set(err, IC_ERR_ARG, "--programs '%s': expected ',' at '%s'", s, p);
        p++;
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

ic_status ic_synth_parse_ints(const char *s, int lo, int hi, int *values, int cap, int *n, ic_error *err) {
    const char *p = s;
    int k = 0;
    for (;;) {
        long v = read_uint(&p);
        if (v < 0) return ic_error_set(err, IC_ERR_ARG, "'%s': expected a number at '%s'", s, p);
        if (v < lo || v > hi) return ic_error_set(err, IC_ERR_ARG, "'%s': expected values %d-%d, found %ld", s, lo, hi, v);
        if (k == cap) return ic_error_set(err, IC_ERR_ARG, "'%s': more than %d values", s, cap);
        values[k++] = (int)v;
        if (!*p) break;
        if (*p != ',') return ic_error_set(err, IC_ERR_ARG, "'%s': expected ',' at '%s'", s, p);
        p++;
    }
    qsort(values, (size_t)k, sizeof *values, cmp_int);
    int m = 0;
    for (int i = 0; i < k; i++) if (m == 0 || values[m - 1] != values[i]) values[m++] = values[i];
    *n = m;
    return IC_OK;
}

ic_status ic_split_spec_parse(const char *s, ic_split_spec *sp, ic_error *err) {
    memset(sp, 0, sizeof *sp);
    const char *p = s;
    for (;;) {
        if (sp->n == IC_SYNTH_MAX_SPLITS)
            return ic_error_set(err, IC_ERR_ARG, "--split '%s': more than %d splits", s, IC_SYNTH_MAX_SPLITS);
        size_t len = 0;
        while (p[len] && p[len] != ':' && p[len] != ',') {
            char c = p[len];
            if (!(isalnum((unsigned char)c) || c == '_' || c == '-'))
                return ic_error_set(err, IC_ERR_ARG, "--split '%s': split names use letters, digits, '_' and '-' only", s);
            len++;
        }
        if (len == 0 || len >= sizeof sp->name[0])
            return ic_error_set(err, IC_ERR_ARG, "--split '%s': expected a split name of 1-%zu characters", s, sizeof sp->name[0] - 1);
        memcpy(sp->name[sp->n], p, len);
        sp->name[sp->n][len] = 0;
        p += len;
        unsigned w = 1;
        if (*p == ':') {
            p++;
            long v = read_uint(&p);
            if (v < 1 || v > 1000)
                return ic_error_set(err, IC_ERR_ARG, "--split '%s': expected a weight 1-1000 after '%s:'", s, sp->name[sp->n]);
            w = (unsigned)v;
        }
        for (int i = 0; i < sp->n; i++)
            if (strcmp(sp->name[i], sp->name[sp->n]) == 0)
                return ic_error_set(err, IC_ERR_ARG, "--split '%s': split '%s' listed twice", s, sp->name[i]);
        sp->weight[sp->n++] = w;
        if (!*p) return IC_OK;
        if (*p != ',') return ic_error_set(err, IC_ERR_ARG, "--split '%s': expected ',' at '%s'", s, p);
        p++;
    }
}

uint64_t ic_synth_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 0x100000001b3ULL; }
    return h;
}

int ic_split_spec_pick(const ic_split_spec *sp, const char *note_str) {
    IC_ASSERT(sp->n > 0);
    if (sp->n == 1) return 0;
    unsigned total = 0;
    for (int i = 0; i < sp->n; i++) total += sp->weight[i];
    /* FNV-1a's low bits mix poorly for short keys differing at the end: fold the high half in */
    uint64_t h = ic_synth_hash(note_str);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 32;
    unsigned r = (unsigned)(h % total);
    for (int i = 0; i < sp->n; i++) {
        if (r < sp->weight[i]) return i;
        r -= sp->weight[i];
    }
    IC_ASSERT(0);
    return 0;
}

/* ---- names ---- */

void ic_synth_sf_tag(const char *path, char *tag, size_t cap) {
    IC_ASSERT(cap >= 3);
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t k = 0;
    for (const char *p = base; *p && *p != '_' && *p != '-' && *p != '.' && k + 1 < cap; p++)
        if (isalnum((unsigned char)*p)) tag[k++] = (char)tolower((unsigned char)*p);
    tag[k] = 0;
    if (k == 0) snprintf(tag, cap, "sf");
}

void ic_synth_instrument_str(int family, int source, const char *tag, int program, char *buf, size_t cap) {
    IC_ASSERT(ic_synth_family_name(family) && ic_synth_source_name(source) && program >= 0 && program < 128);
    snprintf(buf, cap, "%s_%s_%s_%03d", FAMILY[family], SOURCE[source], tag, program);
}

int ic_synth_instrument_id(const char *tag, int program) {
    uint32_t h = 2166136261u;
    for (const char *s = tag; *s; s++) { h ^= (unsigned char)*s; h *= 16777619u; }
    return (int)(h % 2000000u) * 1000 + program;
}
