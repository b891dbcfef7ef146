/* Feature cache (see ic/featcache.h): key, build (parallel over clips, atomic write),
 * open (mmap), and the f32 <-> f16 conversions it stores with.  Not here: the front
 * end itself (src/dsp), reading the dataset (nsynth*.c). */
#include "ic/featcache.h"
#include "ic/progress.h"
#include "strmap.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAGIC "ICFCACHE"
#define BOM 0x01020304u
#define HEADER_FIXED 128
#define ALIGN 4096
#define STREAM_BATCH 64 /* archive clips decoded ahead of each parallel compute */

/* ---- float16 ------------------------------------------------------------------- */

uint16_t ic_f32_to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t exp = (u >> 23) & 0xff, man = u & 0x7fffff;
    if (exp == 0xff) /* inf stays inf; NaN keeps its top payload bits and is made quiet */
        return (uint16_t)(sign | 0x7c00 | (man ? 0x200 | (man >> 13) : 0));
    int e = (int)exp - 127 + 15; /* f16 biased exponent */
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        /* subnormal result: value = man24 * 2^(exp-150) = m * 2^-24, so m = man24 >> (14 - e);
         * below half the smallest subnormal (2^-25) everything rounds to zero */
        if (e < -10) return sign;
        uint32_t man24 = man | 0x800000;
        int shift = 14 - e;
        uint32_t m = man24 >> shift, rem = man24 & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (m & 1))) m++; /* may carry into the smallest normal: still right */
        return (uint16_t)(sign | m);
    }
    uint16_t h = (uint16_t)(sign | ((uint32_t)e << 10) | (man >> 13));
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* a carry rolls into the exponent, up to inf */
    return h;
}

float ic_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        float v = ldexpf((float)man, -24); /* zero or subnormal: exact */
        return sign ? -v : v;
    }
    if (exp == 31) u = sign | 0x7f800000 | (man << 13);
    else u = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- key and path -------------------------------------------------------------- */

static uint64_t mix_u64(uint64_t h, uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    return ic_fnv1a(h, b, 8);
}

static uint64_t mix_str(uint64_t h, const char *s) { return ic_fnv1a(h, s, strlen(s) + 1); }

static char *frontend_json(const ic_frontend_params *p) {
    cJSON *j = ic_frontend_to_json(p);
    char *t = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return t;
}

static size_t clip_len(const ic_frontend_params *p, const ic_featcache_opts *o) {
    return o->clip_samples ? o->clip_samples : (size_t)4 * (size_t)p->sample_rate;
}

ic_status ic_featcache_compute_key(const ic_nsynth_split *s, const ic_frontend_params *p, size_t clip_samples,
                                   uint64_t *key, ic_error *err) {
    char *json = frontend_json(p);
    if (!json) return ic_error_set(err, IC_ERR_NOMEM, "feature cache: out of memory");
    uint64_t h = mix_str(IC_FNV1A_INIT, "ic feature cache");
    h = mix_u64(h, IC_FEATCACHE_VERSION);
    h = mix_str(h, json);
    free(json);
    h = mix_u64(h, clip_samples);
    h = mix_u64(h, s->n);
    struct stat sb;
    if (s->from_archive) {
        if (stat(s->source, &sb) != 0)
            return ic_error_set(err, IC_ERR_IO, "%s: %s", s->source, strerror(errno));
        h = mix_u64(h, (uint64_t)sb.st_size);
        h = mix_u64(h, (uint64_t)sb.st_mtim.tv_sec);
        h = mix_u64(h, (uint64_t)sb.st_mtim.tv_nsec);
    }
    for (size_t i = 0; i < s->n; i++) {
        h = mix_str(h, s->ex[i].wav);
        if (s->from_archive) continue;
        if (stat(s->ex[i].wav, &sb) != 0)
            return ic_error_set(err, IC_ERR_IO, "%s (entry '%s'): %s", s->ex[i].wav, s->ex[i].note_str,
                                strerror(errno));
        h = mix_u64(h, (uint64_t)sb.st_size);
        h = mix_u64(h, (uint64_t)sb.st_mtim.tv_sec);
        h = mix_u64(h, (uint64_t)sb.st_mtim.tv_nsec);
    }
    *key = h;
    return IC_OK;
}

ic_status ic_featcache_path_for(const ic_nsynth_split *s, const char *cache_dir, char *path, size_t cap,
                                ic_error *err) {
    char *abs = realpath(s->source, NULL);
    uint64_t h = mix_str(IC_FNV1A_INIT, abs ? abs : s->source);
    free(abs);
    int n = snprintf(path, cap, "%s/%s-%08x.icfc", cache_dir, s->name[0] ? s->name : "split",
                     (unsigned)(h & 0xffffffffu));
    if (n < 0 || (size_t)n >= cap) return ic_error_set(err, IC_ERR_ARG, "%s: cache path too long", cache_dir);
    return IC_OK;
}

/* ---- header -------------------------------------------------------------------- */

typedef struct {
    uint64_t key, n_clips, clip_samples, data_offset, data_bytes;
    uint32_t version, n_features, n_frames, json_len;
} header;

static void put32(unsigned char *b, uint32_t v) { for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i)); }
static void put64(unsigned char *b, uint64_t v) { for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i)); }
static uint32_t get32(const unsigned char *b) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}
static uint64_t get64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | b[i];
    return v;
}

static void encode_header(const header *h, unsigned char *b) {
    memset(b, 0, HEADER_FIXED);
    memcpy(b, MAGIC, 8);
    put32(b + 8, h->version);
    /* f16 data is written in host order; the mark tells a foreign-endian reader to rebuild */
    uint32_t bom = BOM;
    memcpy(b + 12, &bom, 4);
    put64(b + 16, h->key);
    put64(b + 24, h->n_clips);
    put32(b + 32, h->n_features);
    put32(b + 36, h->n_frames);
    put64(b + 40, h->clip_samples);
    put64(b + 48, h->data_offset);
    put64(b + 56, h->data_bytes);
    put32(b + 64, h->json_len);
}

/* NULL when b holds a usable header, else why not. */
static const char *decode_header(const unsigned char *b, header *h) {
    if (memcmp(b, MAGIC, 8)) return "not a feature cache";
    h->version = get32(b + 8);
    if (h->version != IC_FEATCACHE_VERSION) return "other cache format version";
    uint32_t bom;
    memcpy(&bom, b + 12, 4);
    if (bom != BOM) return "written on a host of other byte order";
    h->key = get64(b + 16);
    h->n_clips = get64(b + 24);
    h->n_features = get32(b + 32);
    h->n_frames = get32(b + 36);
    h->clip_samples = get64(b + 40);
    h->data_offset = get64(b + 48);
    h->data_bytes = get64(b + 56);
    h->json_len = get32(b + 64);
    return NULL;
}

/* ---- the open cache ------------------------------------------------------------ */

struct ic_featcache {
    char *path;
    unsigned char *map;
    size_t map_size;
    header h;
    size_t clip_values; /* n_features * n_frames */
};

static uint64_t data_bytes_for(uint64_t n, uint64_t nf, uint64_t nt, int *overflow) {
    __uint128_t b = (__uint128_t)n * nf * nt * 2;
    *overflow = b > (__uint128_t)SIZE_MAX / 2;
    return (uint64_t)b;
}

/* Maps path when it matches `want` exactly.  NULL with *why (stale: rebuild) or with
 * err set (a real I/O failure). */
static ic_featcache *try_map(const char *path, const header *want, const char **why, ic_error *err) {
    *why = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) *why = "not built yet";
        else ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat sb;
    unsigned char b[HEADER_FIXED];
    header h;
    if (fstat(fd, &sb) != 0) {
        ic_error_set(err, IC_ERR_IO, "%s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    if ((size_t)sb.st_size < HEADER_FIXED || pread(fd, b, HEADER_FIXED, 0) != HEADER_FIXED) *why = "truncated header";
    else if (!(*why = decode_header(b, &h))) {
        if (h.key != want->key) *why = "front-end parameters, clip length or files changed";
        else if (h.n_clips != want->n_clips || h.n_features != want->n_features || h.n_frames != want->n_frames ||
                 h.clip_samples != want->clip_samples)
            *why = "shape differs";
        else if (h.data_bytes != want->data_bytes || h.data_offset % ALIGN || h.data_offset < HEADER_FIXED ||
                 (uint64_t)sb.st_size != h.data_offset + h.data_bytes)
            *why = "size differs (truncated or damaged)";
    }
    if (*why) { close(fd); return NULL; }
    ic_featcache *c = calloc(1, sizeof *c);
    if (!c || !(c->path = strdup(path))) {
        free(c);
        close(fd);
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    c->map_size = (size_t)sb.st_size;
    c->map = mmap(NULL, c->map_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (c->map == MAP_FAILED) {
        ic_error_set(err, IC_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
        free(c->path);
        free(c);
        return NULL;
    }
    c->h = h;
    c->clip_values = (size_t)h.n_features * h.n_frames;
    return c;
}

void ic_featcache_close(ic_featcache *c) {
    if (!c) return;
    if (c->map && c->map != MAP_FAILED) munmap(c->map, c->map_size);
    free(c->path);
    free(c);
}

size_t ic_featcache_n_clips(const ic_featcache *c) { return (size_t)c->h.n_clips; }
int ic_featcache_n_features(const ic_featcache *c) { return (int)c->h.n_features; }
size_t ic_featcache_n_frames(const ic_featcache *c) { return c->h.n_frames; }
uint64_t ic_featcache_key(const ic_featcache *c) { return c->h.key; }
const char *ic_featcache_path(const ic_featcache *c) { return c->path; }

const uint16_t *ic_featcache_clip_f16(const ic_featcache *c, size_t i) {
    IC_ASSERT(i < c->h.n_clips);
    return (const uint16_t *)(c->map + c->h.data_offset) + i * c->clip_values;
}

void ic_featcache_get(const ic_featcache *c, size_t i, float *out) {
    const uint16_t *src = ic_featcache_clip_f16(c, i);
    for (size_t k = 0; k < c->clip_values; k++) out[k] = ic_f16_to_f32(src[k]);
}

/* ---- build --------------------------------------------------------------------- */

static int mkdir_p(const char *dir) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) { errno = ENAMETOOLONG; return -1; }
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int pwrite_all(int fd, const void *buf, size_t n, off_t off) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

/* Per-thread buffers for one clip. */
typedef struct {
    float *clip, *feat, *work;
    uint16_t *half;
} scratch;

typedef struct {
    const ic_nsynth_split *s;
    const ic_frontend *fe;
    int fd;
    uint64_t data_offset;
    size_t clip_samples, clip_values;
    int rate;
    int failed;            /* set once; later clips are skipped */
    ic_error first;        /* the first failure */
    ic_progress progress;
    size_t done;
} build_ctx;

static void record_failure(build_ctx *b, const ic_error *e) {
    #pragma omp critical(featcache_fail)
    {
        if (!b->failed) {
            b->first = *e;
            #pragma omp atomic write
            b->failed = 1;
        }
    }
}

/* Front end on one decoded clip (cut or zero-padded), f16, written at its slot. */
static void process_clip(build_ctx *b, scratch *w, size_t index, const float *x, size_t n, int rate) {
    ic_error e;
    if (rate != b->rate) {
        ic_error_set(&e, IC_ERR_FORMAT, "%s (entry '%s'): %d Hz, the front end needs %d Hz", b->s->ex[index].wav,
                     b->s->ex[index].note_str, rate, b->rate);
        record_failure(b, &e);
        return;
    }
    size_t k = n < b->clip_samples ? n : b->clip_samples;
    memcpy(w->clip, x, k * sizeof *x);
    memset(w->clip + k, 0, (b->clip_samples - k) * sizeof *x);
    ic_frontend_compute(b->fe, w->clip, b->clip_samples, w->feat, w->work);
    for (size_t i = 0; i < b->clip_values; i++) w->half[i] = ic_f32_to_f16(w->feat[i]);
    size_t bytes = b->clip_values * sizeof *w->half;
    if (pwrite_all(b->fd, w->half, bytes, (off_t)(b->data_offset + (uint64_t)index * bytes))) {
        ic_error_set(&e, IC_ERR_IO, "feature cache: write failed: %s", strerror(errno));
        record_failure(b, &e);
        return;
    }
    #pragma omp critical(featcache_progress)
    ic_progress_update(&b->progress, ++b->done);
}

static int scratch_alloc(scratch *w, const build_ctx *b) {
    w->clip = malloc(b->clip_samples * sizeof *w->clip);
    w->feat = malloc(b->clip_values * sizeof *w->feat);
    w->work = malloc((ic_frontend_work_floats(b->fe) + 1) * sizeof *w->work);
    w->half = malloc(b->clip_values * sizeof *w->half);
    return w->clip && w->feat && w->work && w->half ? 0 : -1;
}

static void scratch_free(scratch *w) {
    free(w->clip);
    free(w->feat);
    free(w->work);
    free(w->half);
}

/* Folders: every clip is independent (decode + features), one parallel loop. */
static void build_folder(build_ctx *b) {
    #pragma omp parallel
    {
        scratch w;
        if (scratch_alloc(&w, b)) {
            ic_error e;
            ic_error_set(&e, IC_ERR_NOMEM, "feature cache: out of memory for scratch");
            record_failure(b, &e);
        }
        #pragma omp for schedule(dynamic, 4)
        for (size_t i = 0; i < b->s->n; i++) {
            int failed;
            #pragma omp atomic read
            failed = b->failed;
            if (failed) continue;
            float *x;
            size_t n;
            int rate;
            ic_error e;
            if (ic_nsynth_load_audio(b->s, i, &x, &n, &rate, &e)) { record_failure(b, &e); continue; }
            process_clip(b, &w, i, x, n, rate);
            free(x);
        }
        scratch_free(&w);
    }
}

/* Archives: members arrive in archive order from one inflate stream; batches of
 * decoded clips are then processed in parallel. */
static void build_stream(build_ctx *b) {
    ic_error e;
    ic_nsynth_stream *st = ic_nsynth_stream_open(b->s, &e);
    if (!st) { record_failure(b, &e); return; }
    float *x[STREAM_BATCH];
    size_t idx[STREAM_BATCH], len[STREAM_BATCH];
    int rate[STREAM_BATCH];
    int r = 1;
    while (r == 1 && !b->failed) {
        int m = 0;
        while (m < STREAM_BATCH && (r = ic_nsynth_stream_next(st, &idx[m], &x[m], &len[m], &rate[m], &e)) == 1) m++;
        if (r < 0) record_failure(b, &e);
        #pragma omp parallel
        {
            scratch w;
            int ok = scratch_alloc(&w, b) == 0;
            if (!ok) {
                ic_error ee;
                ic_error_set(&ee, IC_ERR_NOMEM, "feature cache: out of memory for scratch");
                record_failure(b, &ee);
            }
            #pragma omp for schedule(dynamic, 1)
            for (int k = 0; k < m; k++)
                if (ok) process_clip(b, &w, idx[k], x[k], len[k], rate[k]);
            scratch_free(&w);
        }
        for (int k = 0; k < m; k++) free(x[k]);
    }
    ic_nsynth_stream_close(st);
}

static ic_status build(const ic_nsynth_split *s, const ic_frontend *fe, const char *path, const header *h,
                       const char *json, int quiet, ic_error *err) {
    const ic_frontend_params *p = ic_frontend_params_of(fe);
    for (size_t i = 0; i < s->n; i++) {
        int r = s->ex[i].wav_rate > 0 ? s->ex[i].wav_rate : s->ex[i].sample_rate;
        if (r != p->sample_rate)
            return ic_error_set(err, IC_ERR_FORMAT, "%s (entry '%s'): %d Hz, the front end needs %d Hz", s->ex[i].wav,
                                s->ex[i].note_str, r, p->sample_rate);
    }
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp-XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return IC_ERR_IO;
    }
    fchmod(fd, 0644); /* mkstemp makes 0600; the cache is ordinary shared data */
    build_ctx b = {.s = s, .fe = fe, .fd = fd, .data_offset = h->data_offset, .clip_samples = h->clip_samples,
                   .clip_values = (size_t)h->n_features * h->n_frames, .rate = p->sample_rate};
    unsigned char hb[HEADER_FIXED];
    encode_header(h, hb);
    if (pwrite_all(fd, hb, HEADER_FIXED, 0) || pwrite_all(fd, json, h->json_len, HEADER_FIXED) ||
        ftruncate(fd, (off_t)(h->data_offset + h->data_bytes))) {
        ic_error_set(&b.first, IC_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        b.failed = 1;
    }
    char label[96];
    snprintf(label, sizeof label, "features %s", s->name);
    ic_progress_start(&b.progress, label, "clips", s->n, quiet);
    if (!b.failed) {
        if (s->from_archive) build_stream(&b);
        else build_folder(&b);
    }
    if (!b.failed) ic_progress_finish(&b.progress);
    else if (!quiet && b.progress.tty) fputc('\n', stderr);
    if (!b.failed && b.done != s->n) {
        ic_error_set(&b.first, IC_ERR_FORMAT, "%s: %zu of %zu clips computed", s->source, b.done, s->n);
        b.failed = 1;
    }
    if (!b.failed && fsync(fd) != 0) {
        ic_error_set(&b.first, IC_ERR_IO, "%s: fsync failed: %s", tmp, strerror(errno));
        b.failed = 1;
    }
    if (close(fd) != 0 && !b.failed) {
        ic_error_set(&b.first, IC_ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
        b.failed = 1;
    }
    if (!b.failed && rename(tmp, path) != 0) {
        ic_error_set(&b.first, IC_ERR_IO, "%s: rename to %s failed: %s", tmp, path, strerror(errno));
        b.failed = 1;
    }
    if (b.failed) {
        unlink(tmp);
        if (err) *err = b.first;
    }
    free(tmp);
    return b.failed ? b.first.code : IC_OK;
}

ic_featcache *ic_featcache_open(const ic_nsynth_split *s, const ic_frontend *fe, const ic_featcache_opts *o,
                                int *built, ic_error *err) {
    if (built) *built = 0;
    if (!o || !o->cache_dir || !*o->cache_dir) {
        ic_error_set(err, IC_ERR_ARG, "feature cache: no cache directory given");
        return NULL;
    }
    const ic_frontend_params *p = ic_frontend_params_of(fe);
    header want;
    memset(&want, 0, sizeof want);
    want.version = IC_FEATCACHE_VERSION;
    want.clip_samples = clip_len(p, o);
    want.n_clips = s->n;
    want.n_features = (uint32_t)ic_frontend_n_features(p);
    size_t nt = ic_frontend_n_frames(p, (size_t)want.clip_samples);
    if (nt == 0 || nt > UINT32_MAX) {
        ic_error_set(err, IC_ERR_ARG, "feature cache: %zu frames for %llu-sample clips", nt,
                     (unsigned long long)want.clip_samples);
        return NULL;
    }
    want.n_frames = (uint32_t)nt;
    int overflow;
    want.data_bytes = data_bytes_for(want.n_clips, want.n_features, want.n_frames, &overflow);
    if (overflow) {
        ic_error_set(err, IC_ERR_ARG, "feature cache: %zu clips of %u x %u features do not fit in memory", s->n,
                     want.n_features, want.n_frames);
        return NULL;
    }
    char path[PATH_MAX];
    if (ic_featcache_compute_key(s, p, (size_t)want.clip_samples, &want.key, err) ||
        ic_featcache_path_for(s, o->cache_dir, path, sizeof path, err))
        return NULL;
    char *json = frontend_json(p);
    if (!json) { ic_error_set(err, IC_ERR_NOMEM, "feature cache: out of memory"); return NULL; }
    want.json_len = (uint32_t)strlen(json);
    want.data_offset = (HEADER_FIXED + want.json_len + ALIGN - 1) / ALIGN * ALIGN;
    const char *why;
    ic_error_clear(err);
    ic_featcache *c = try_map(path, &want, &why, err);
    if (!c && why) {
        if (!o->quiet) fprintf(stderr, "feature cache %s: %s; computing %zu clips\n", path, why, s->n);
        if (mkdir_p(o->cache_dir) != 0)
            ic_error_set(err, IC_ERR_IO, "%s: cannot create the cache directory: %s", o->cache_dir, strerror(errno));
        else if (!build(s, fe, path, &want, json, o->quiet, err)) {
            c = try_map(path, &want, &why, err);
            if (!c && why) ic_error_set(err, IC_ERR_IO, "%s: unreadable right after building it: %s", path, why);
            if (c && built) *built = 1;
        }
    }
    free(json);
    return c;
}
