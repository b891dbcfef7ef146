/* Tests for the feature cache (src/io/featcache.c): f32 <-> f16 against exact bit
 * patterns, ties and the compiler's _Float16 as an oracle; cache round trip equal to
 * the front end's own output rounded to f16; staleness (front-end parameter, clip
 * length, a touched wav, a changed file list, a damaged cache file) rebuilds; a
 * failed rebuild leaves the old file intact and no temporary behind; archive and
 * folder splits give identical features. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/featcache.h"
#include "ic/frontend.h"
#include "ic/nsynth.h"
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[64];

static void setup(void) { ic_test_mkdtemp(g_dir, sizeof g_dir, "featcache"); }
static void teardown(void) { ic_test_rmtree(g_dir); }
static const char *tpath(const char *rel) { return ic_test_path(g_dir, rel); }

/* ---- f16 ----------------------------------------------------------------------- */

static float f32_of_bits(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t bits_of_f32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

START_TEST(test_f16_exact_values) {
    struct { float x; uint16_t h; } t[] = {
        {0.0f, 0x0000}, {-0.0f, 0x8000}, {1.0f, 0x3c00}, {-2.0f, 0xc000}, {0.5f, 0x3800},
        {1.5f, 0x3e00}, {65504.0f, 0x7bff}, {-65504.0f, 0xfbff}, {0x1p-14f, 0x0400},
        {0x1p-24f, 0x0001}, {3 * 0x1p-24f, 0x0003}, {0x3ffp-24f, 0x03ff}, {1024.0f, 0x6400},
        {INFINITY, 0x7c00}, {-INFINITY, 0xfc00},
        /* rounding to nearest, ties to even */
        {1.0f + 0x1p-11f, 0x3c00},               /* tie, down to even */
        {1.0f + 3 * 0x1p-11f, 0x3c02},           /* tie, up to even */
        {1.0f + 0x1p-11f + 0x1p-20f, 0x3c01},    /* just above the tie */
        {1.0f + 0x1p-11f - 0x1p-23f, 0x3c00},    /* just below */
        {65519.0f, 0x7bff}, {65520.0f, 0x7c00},  /* the tie above the maximum rounds to inf */
        {1e10f, 0x7c00}, {-1e10f, 0xfc00},
        /* subnormals and underflow */
        {0x1p-25f, 0x0000},                      /* half the smallest subnormal: tie to 0 */
        {0x1p-25f * 1.0001f, 0x0001}, {3 * 0x1p-25f, 0x0002}, {5 * 0x1p-25f, 0x0002},
        {0x1p-26f, 0x0000}, {1e-30f, 0x0000}, {-1e-30f, 0x8000},
        {0x1p-14f - 0x1p-25f, 0x0400},           /* largest subnormal tie rounds into the normals */
        {0x1p-149f, 0x0000},                     /* f32 subnormal */
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        ck_assert_msg(ic_f32_to_f16(t[i].x) == t[i].h, "%a -> %04x, want %04x", (double)t[i].x,
                      ic_f32_to_f16(t[i].x), t[i].h);
    ck_assert_float_eq(ic_f16_to_f32(0x3c00), 1.0f);
    ck_assert_float_eq(ic_f16_to_f32(0x0001), 0x1p-24f);
    ck_assert_float_eq(ic_f16_to_f32(0x03ff), 0x3ffp-24f);
    ck_assert_float_eq(ic_f16_to_f32(0x7bff), 65504.0f);
    ck_assert_float_eq(ic_f16_to_f32(0xc000), -2.0f);
    ck_assert_uint_eq(bits_of_f32(ic_f16_to_f32(0x8000)), 0x80000000u);
    ck_assert(isinf(ic_f16_to_f32(0x7c00)) && ic_f16_to_f32(0x7c00) > 0);
    ck_assert(isinf(ic_f16_to_f32(0xfc00)) && ic_f16_to_f32(0xfc00) < 0);
    /* NaN in, NaN out, both ways, sign kept, quiet */
    uint16_t hn = ic_f32_to_f16(NAN);
    ck_assert_uint_eq(hn & 0x7c00, 0x7c00);
    ck_assert_uint_ne(hn & 0x03ff, 0);
    ck_assert_uint_ne(hn & 0x0200, 0);
    ck_assert_uint_eq(ic_f32_to_f16(-NAN) & 0x8000, 0x8000);
    ck_assert_uint_ne(ic_f32_to_f16(f32_of_bits(0x7f800001u)) & 0x3ff, 0); /* payload below f16's bits */
    ck_assert(isnan(ic_f16_to_f32(0x7e00)));
    ck_assert(isnan(ic_f16_to_f32(0xfc01)));
}
END_TEST

START_TEST(test_f16_round_trip_all) {
    /* every f16 value widens exactly and narrows back to itself */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ic_f16_to_f32((uint16_t)h);
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) {
            ck_assert(isnan(f));
            continue;
        }
        ck_assert_msg(ic_f32_to_f16(f) == h, "%04x -> %a -> %04x", h, (double)f, ic_f32_to_f16(f));
        /* widening agrees with exact arithmetic */
        int e = (int)((h >> 10) & 0x1f);
        double m = (double)(h & 0x3ff);
        double want = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(1024 + m, e - 25);
        if (h & 0x8000) want = -want;
        ck_assert_msg((double)f == want, "%04x widened to %a, want %a", h, (double)f, want);
    }
}
END_TEST

START_TEST(test_f16_nearest) {
    /* every midpoint between neighbouring f16 values and the floats either side of it,
     * plus seeded random bit patterns, against the definition: the result is a nearest
     * f16 and, at a tie, the even one */
    ic_rng r;
    ic_rng_seed(&r, 5);
    for (uint32_t i = 0; i < 65536 * 3 + 200000; i++) {
        float x;
        if (i < 65536 * 3) {
            uint16_t h = (uint16_t)(i / 3);
            if ((h & 0x7fff) >= 0x7bff) continue; /* top of the range handled above */
            double mid = ((double)ic_f16_to_f32(h) + (double)ic_f16_to_f32((uint16_t)(h + 1))) / 2;
            x = (float)mid; /* exact: a midpoint has 12 significant bits */
            if (i % 3 == 1) x = nextafterf(x, -INFINITY);
            if (i % 3 == 2) x = nextafterf(x, INFINITY);
        } else {
            x = f32_of_bits((uint32_t)ic_rng_u64(&r));
        }
        uint16_t h = ic_f32_to_f16(x);
#ifdef __FLT16_MANT_DIG__
        _Float16 ref = (_Float16)x;
        uint16_t hr;
        memcpy(&hr, &ref, 2);
        if (!isnan(x)) ck_assert_msg(h == hr, "%a -> %04x, _Float16 gives %04x", (double)x, h, hr);
#endif
        if (isnan(x)) { ck_assert(isnan(ic_f16_to_f32(h))); continue; }
        if (fabsf(x) >= 65520.0f) { ck_assert(isinf(ic_f16_to_f32(h))); continue; }
        double y = ic_f16_to_f32(h), err = fabs((double)x - y);
        uint16_t up = (uint16_t)(h + 1), dn = (uint16_t)(h - 1);
        if ((h & 0x7fff) < 0x7bff) ck_assert(err <= fabs((double)x - ic_f16_to_f32(up)));
        if ((h & 0x7fff) > 0) {
            double e2 = fabs((double)x - ic_f16_to_f32(dn));
            ck_assert(err <= e2);
            if (err == e2 && (h & 0x7fff)) ck_assert_msg((h & 1) == 0, "tie %a went to odd %04x", (double)x, h);
        }
    }
}
END_TEST

/* ---- datasets ------------------------------------------------------------------ */

static void write_wav(const char *path, int rate, long frames, double freq) {
    short *buf = malloc((size_t)frames * sizeof *buf);
    for (long i = 0; i < frames; i++) {
        double env = exp(-2.0 * (double)i / rate); /* decaying, so frames differ */
        buf[i] = (short)(12000 * env * sin(2 * M_PI * freq * (double)i / rate));
    }
    ic_test_write_wav16(path, rate, 1, buf, frames);
    free(buf);
}

#define N_CLIPS 5

/* nsynth-train with N_CLIPS 4-second clips at 16 kHz, families 0, 3, 3, 4, 8. */
static void make_split(const char *dir) {
    static const int fam[N_CLIPS] = {0, 3, 3, 4, 8};
    char p[1024];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/audio", dir);
    mkdir(p, 0755);
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < N_CLIPS; i++) {
        char name[128];
        int pitch = 48 + 5 * i;
        snprintf(name, sizeof name, "%s_acoustic_%03d-%03d-100", ic_nsynth_family_name(fam[i]), i, pitch);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "pitch", pitch);
        cJSON_AddNumberToObject(e, "velocity", 100);
        cJSON_AddNumberToObject(e, "sample_rate", 16000);
        cJSON_AddNumberToObject(e, "instrument_family", fam[i]);
        cJSON_AddNumberToObject(e, "instrument_source", 0);
        cJSON_AddItemToObject(root, name, e);
        snprintf(p, sizeof p, "%s/audio/%s.wav", dir, name);
        write_wav(p, 16000, 64000, 440.0 * pow(2, (pitch - 69) / 12.0));
    }
    char *t = cJSON_Print(root);
    snprintf(p, sizeof p, "%s/examples.json", dir);
    ic_test_write_text(p, t);
    free(t);
    cJSON_Delete(root);
}

static ic_nsynth_split *load(const char *path) {
    ic_error err;
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    o.on_error = IC_ON_ERROR_STOP;
    ic_nsynth_split *s = ic_nsynth_load_split(path, &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    return s;
}

static ic_frontend *frontend(int n_mels) {
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    p.n_mels = n_mels;
    ic_error err;
    ic_frontend *fe = ic_frontend_new(&p, &err);
    ck_assert_msg(fe != NULL, "%s", err.msg);
    return fe;
}

static ic_featcache *open_cache(const ic_nsynth_split *s, const ic_frontend *fe, size_t clip, int *built) {
    ic_featcache_opts o = {.cache_dir = tpath("out/cache"), .clip_samples = clip, .quiet = 1};
    ic_error err;
    ic_featcache *c = ic_featcache_open(s, fe, &o, built, &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    return c;
}

/* Cached clip i equals the front end's output on the clip (cut/padded to clip
 * samples) rounded to f16, bit for bit. */
static void assert_clip_matches(const ic_featcache *c, const ic_nsynth_split *s, const ic_frontend *fe,
                                size_t i, size_t clip) {
    float *x;
    size_t n;
    int rate;
    ic_error err;
    ck_assert_int_eq(ic_nsynth_load_audio(s, i, &x, &n, &rate, &err), IC_OK);
    float *padded = calloc(clip, sizeof *padded);
    memcpy(padded, x, (n < clip ? n : clip) * sizeof *x);
    size_t nf = (size_t)ic_featcache_n_features(c), nt = ic_featcache_n_frames(c);
    ck_assert_uint_eq(nt, ic_frontend_n_frames(ic_frontend_params_of(fe), clip));
    float *want = malloc(nf * nt * sizeof *want), *got = malloc(nf * nt * sizeof *got);
    float *work = malloc(ic_frontend_work_floats(fe) * sizeof *work);
    ic_frontend_compute(fe, padded, clip, want, work);
    ic_featcache_get(c, i, got);
    const uint16_t *raw = ic_featcache_clip_f16(c, i);
    double max_rel = 0;
    for (size_t k = 0; k < nf * nt; k++) {
        ck_assert_msg(raw[k] == ic_f32_to_f16(want[k]), "clip %zu value %zu", i, k);
        ck_assert_float_eq(got[k], ic_f16_to_f32(raw[k]));
        double rel = fabs((double)got[k] - want[k]) / fmax(fabs((double)want[k]), 1e-3);
        if (rel > max_rel) max_rel = rel;
    }
    ck_assert_double_le(max_rel, 1.0 / 2048); /* half an f16 ulp */
    free(x); free(padded); free(want); free(got); free(work);
}

static size_t count_files(const char *dir, const char *containing) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, containing)) n++;
    closedir(d);
    return n;
}

START_TEST(test_cache_round_trip) {
    make_split(tpath("nsynth-train"));
    ic_nsynth_split *s = load(tpath("nsynth-train"));
    ic_frontend *fe = frontend(64);
    int built = -1;
    ic_featcache *c = open_cache(s, fe, 0, &built);
    ck_assert_int_eq(built, 1);
    ck_assert_uint_eq(ic_featcache_n_clips(c), N_CLIPS);
    ck_assert_int_eq(ic_featcache_n_features(c), 64);
    ck_assert_uint_eq(ic_featcache_n_frames(c), ic_frontend_n_frames(ic_frontend_params_of(fe), 64000));
    ck_assert_msg(strstr(ic_featcache_path(c), "/out/cache/train-") != NULL, "%s", ic_featcache_path(c));
    for (size_t i = 0; i < N_CLIPS; i++) assert_clip_matches(c, s, fe, i, 64000);
    uint64_t key = ic_featcache_key(c);
    char path[1024];
    snprintf(path, sizeof path, "%s", ic_featcache_path(c));
    ic_featcache_close(c);
    /* header on disk */
    FILE *f = fopen(path, "rb");
    unsigned char h[128];
    ck_assert_uint_eq(fread(h, 1, 128, f), 128);
    fclose(f);
    ck_assert_int_eq(memcmp(h, "ICFCACHE", 8), 0);
    ck_assert_uint_eq(h[8], 1);
    ck_assert_uint_eq(h[24], N_CLIPS);
    ck_assert_uint_eq(h[32], 64);
    uint64_t data_off = 0;
    for (int i = 7; i >= 0; i--) data_off = (data_off << 8) | h[48 + i];
    ck_assert_uint_eq(data_off % 4096, 0);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_uint_eq((uint64_t)sb.st_size, data_off + (uint64_t)N_CLIPS * 64 * ic_frontend_n_frames(ic_frontend_params_of(fe), 64000) * 2);
    /* second open: no rebuild, same key, same numbers */
    c = open_cache(s, fe, 0, &built);
    ck_assert_int_eq(built, 0);
    ck_assert_uint_eq(ic_featcache_key(c), key);
    assert_clip_matches(c, s, fe, 2, 64000);
    ic_featcache_close(c);
    ck_assert_uint_eq(count_files(tpath("out/cache"), ".icfc"), 1);
    ck_assert_uint_eq(count_files(tpath("out/cache"), ".tmp-"), 0);
    ic_frontend_free(fe);
    ic_nsynth_split_free(s);
}
END_TEST

START_TEST(test_cache_staleness) {
    make_split(tpath("nsynth-train"));
    ic_nsynth_split *s = load(tpath("nsynth-train"));
    ic_frontend *fe64 = frontend(64), *fe40 = frontend(40);
    int built;
    ic_featcache *c = open_cache(s, fe64, 0, &built);
    uint64_t k64 = ic_featcache_key(c);
    ic_featcache_close(c);
    ck_assert_int_eq(built, 1);
    /* a front-end parameter changes: rebuilt in the same file */
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    ck_assert_int_eq(ic_featcache_n_features(c), 40);
    ck_assert_uint_ne(ic_featcache_key(c), k64);
    assert_clip_matches(c, s, fe40, 1, 64000);
    ic_featcache_close(c);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 0);
    ic_featcache_close(c);
    ck_assert_uint_eq(count_files(tpath("out/cache"), ".icfc"), 1);
    /* the clip length changes: padded clips */
    c = open_cache(s, fe40, 70000, &built);
    ck_assert_int_eq(built, 1);
    assert_clip_matches(c, s, fe40, 4, 70000);
    ic_featcache_close(c);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    ic_featcache_close(c);
    /* a wav is touched (same content, new mtime) */
    struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 0}, {.tv_sec = 1000000000, .tv_nsec = 0}};
    ck_assert_int_eq(utimensat(AT_FDCWD, s->ex[3].wav, ts, 0), 0);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    ic_featcache_close(c);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 0);
    ic_featcache_close(c);
    /* the file list changes (balance drops examples) */
    ic_rng r;
    ic_rng_seed(&r, 1);
    ck_assert_uint_eq(ic_nsynth_balance(s, 1, &r), 1); /* two guitars -> one */
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    ck_assert_uint_eq(ic_featcache_n_clips(c), N_CLIPS - 1);
    for (size_t i = 0; i < s->n; i++) assert_clip_matches(c, s, fe40, i, 64000);
    char path[1024];
    snprintf(path, sizeof path, "%s", ic_featcache_path(c));
    ic_featcache_close(c);
    /* a damaged cache file (truncated, or overwritten) is rebuilt */
    ck_assert_int_eq(truncate(path, 5000), 0);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    ic_featcache_close(c);
    FILE *f = fopen(path, "r+b");
    fputs("garbage!", f);
    fclose(f);
    c = open_cache(s, fe40, 0, &built);
    ck_assert_int_eq(built, 1);
    assert_clip_matches(c, s, fe40, 0, 64000);
    ic_featcache_close(c);
    ic_frontend_free(fe64);
    ic_frontend_free(fe40);
    ic_nsynth_split_free(s);
}
END_TEST

START_TEST(test_cache_failed_rebuild_is_atomic) {
    make_split(tpath("nsynth-train"));
    ic_nsynth_split *s = load(tpath("nsynth-train"));
    ic_frontend *fe = frontend(64);
    int built;
    ic_featcache *c = open_cache(s, fe, 0, &built);
    char path[1024];
    snprintf(path, sizeof path, "%s", ic_featcache_path(c));
    ic_featcache_close(c);
    size_t n_before, n_after;
    char *before = ic_test_slurp(path, &n_before);
    /* the last wav becomes undecodable: the key changes (size), the rebuild fails */
    ic_test_write_text(s->ex[N_CLIPS - 1].wav, "RIFF not really a wav");
    ic_featcache_opts o = {.cache_dir = tpath("out/cache"), .quiet = 1};
    ic_error err;
    c = ic_featcache_open(s, fe, &o, &built, &err);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(built, 0);
    ck_assert_msg(strstr(err.msg, s->ex[N_CLIPS - 1].wav) && strstr(err.msg, "not a readable audio file"), "%s", err.msg);
    char *after = ic_test_slurp(path, &n_after);
    ck_assert_uint_eq(n_before, n_after);
    ck_assert_int_eq(memcmp(before, after, n_before), 0);
    ck_assert_uint_eq(count_files(tpath("out/cache"), ".tmp-"), 0);
    /* a missing wav: the key cannot be computed, an error naming it */
    unlink(s->ex[0].wav);
    c = ic_featcache_open(s, fe, &o, &built, &err);
    ck_assert_ptr_null(c);
    ck_assert_int_eq(err.code, IC_ERR_IO);
    ck_assert_msg(strstr(err.msg, s->ex[0].note_str), "%s", err.msg);
    free(before);
    free(after);
    ic_frontend_free(fe);
    ic_nsynth_split_free(s);
}
END_TEST

START_TEST(test_cache_archive_equals_folder) {
    make_split(tpath("nsynth-train"));
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd %s && tar czf nsynth-train.jsonwav.tar.gz nsynth-train/audio nsynth-train/examples.json", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    ic_nsynth_split *sf = load(tpath("nsynth-train")), *sa = load(tpath("nsynth-train.jsonwav.tar.gz"));
    ic_frontend *fe = frontend(32);
    int bf, ba;
    ic_featcache *cf = open_cache(sf, fe, 0, &bf), *ca = open_cache(sa, fe, 0, &ba);
    ck_assert_int_eq(bf, 1);
    ck_assert_int_eq(ba, 1);
    ck_assert_str_ne(ic_featcache_path(cf), ic_featcache_path(ca));
    size_t vals = (size_t)ic_featcache_n_features(cf) * ic_featcache_n_frames(cf);
    ck_assert_uint_eq(ic_featcache_n_clips(ca), N_CLIPS);
    for (size_t i = 0; i < N_CLIPS; i++)
        ck_assert_int_eq(memcmp(ic_featcache_clip_f16(cf, i), ic_featcache_clip_f16(ca, i), vals * 2), 0);
    ic_featcache_close(ca);
    ca = open_cache(sa, fe, 0, &ba);
    ck_assert_int_eq(ba, 0);
    ic_featcache_close(ca);
    /* touching the archive rebuilds its cache */
    struct timespec ts[2] = {{.tv_sec = 1200000000}, {.tv_sec = 1200000000}};
    ck_assert_int_eq(utimensat(AT_FDCWD, sa->source, ts, 0), 0);
    ca = open_cache(sa, fe, 0, &ba);
    ck_assert_int_eq(ba, 1);
    ic_featcache_close(ca);
    ic_featcache_close(cf);
    ic_frontend_free(fe);
    ic_nsynth_split_free(sf);
    ic_nsynth_split_free(sa);
}
END_TEST

START_TEST(test_cache_rate_mismatch_and_empty) {
    make_split(tpath("nsynth-train"));
    ic_nsynth_split *s = load(tpath("nsynth-train"));
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    p.sample_rate = 22050;
    p.fmax = 11025;
    ic_error err;
    ic_frontend *fe = ic_frontend_new(&p, &err);
    ck_assert_msg(fe != NULL, "%s", err.msg);
    ic_featcache_opts o = {.cache_dir = tpath("c"), .quiet = 1};
    ck_assert_ptr_null(ic_featcache_open(s, fe, &o, NULL, &err));
    ck_assert_msg(strstr(err.msg, "16000 Hz, the front end needs 22050 Hz"), "%s", err.msg);
    ic_frontend_free(fe);
    /* an empty split makes an empty, valid cache */
    fe = frontend(64);
    ic_rng r;
    ic_rng_seed(&r, 1);
    ic_nsynth_balance(s, 0, &r);
    ck_assert_uint_eq(s->n, 0);
    int built;
    ic_featcache *c = ic_featcache_open(s, fe, &o, &built, &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    ck_assert_uint_eq(ic_featcache_n_clips(c), 0);
    ic_featcache_close(c);
    ic_frontend_free(fe);
    ic_nsynth_split_free(s);
}
END_TEST

static Suite *featcache_suite(void) {
    Suite *s = suite_create("featcache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_f16_exact_values);
    tcase_add_test(tc, test_f16_round_trip_all);
    tcase_add_test(tc, test_f16_nearest);
    tcase_add_test(tc, test_cache_round_trip);
    tcase_add_test(tc, test_cache_staleness);
    tcase_add_test(tc, test_cache_failed_rebuild_is_atomic);
    tcase_add_test(tc, test_cache_archive_equals_folder);
    tcase_add_test(tc, test_cache_rate_mismatch_and_empty);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(featcache_suite)
