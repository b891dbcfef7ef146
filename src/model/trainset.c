/* Labelled splits over the feature cache, the bank of non-playing windows, and
 * batch assembly (see ic/trainset.h). */
#include "ic/trainset.h"
#include "ic/noise.h"
#include "ic/audio.h"
#include "ic/progress.h"
#include <dirent.h>
#include <math.h>
#include <string.h>

ic_trainsplit *ic_trainsplit_open(const char *data_dir, const char *name, const ic_model *m,
                                  const char *cache_dir, size_t balance, uint64_t seed, int quiet,
                                  ic_error *err) {
    char path[4096];
    if (!ic_nsynth_locate(data_dir, name, path, sizeof path)) {
        ic_error_set(err, IC_ERR_IO, "%s: no nsynth-%s split (folder or .jsonwav.tar.gz)", data_dir, name);
        return NULL;
    }
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    o.expect_rate = m->fp.sample_rate;
    ic_trainsplit *s = ic_xcalloc(1, sizeof *s);
    s->split = ic_nsynth_load_split(path, &o, err);
    if (!s->split) { free(s); return NULL; }
    if (s->split->n == 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: split has no usable examples", path);
        ic_trainsplit_free(s);
        return NULL;
    }
    if (balance) {
        ic_nsynth_counts before, after;
        ic_nsynth_count(s->split, &before);
        ic_rng r;
        ic_rng_seed(&r, seed);
        ic_nsynth_balance(s->split, balance, &r);
        ic_nsynth_count(s->split, &after);
        if (!quiet) {
            const char *cols[2] = {"before", "after"};
            ic_nsynth_counts c[2] = {before, after};
            char title[128];
            snprintf(title, sizeof title, "%s: --balance %zu", name, balance);
            ic_nsynth_print_counts(stderr, title, cols, c, 2);
        }
    } else if (!quiet) {
        ic_nsynth_counts c;
        ic_nsynth_count(s->split, &c);
        const char *cols[1] = {name};
        ic_nsynth_print_counts(stderr, name, cols, &c, 1);
    }
    ic_featcache_opts co = {cache_dir, m->window_samples, quiet};
    s->cache = ic_featcache_open(s->split, m->fe, &co, NULL, err);
    if (!s->cache) { ic_trainsplit_free(s); return NULL; }
    s->n = s->split->n;
    s->family = ic_xmalloc(s->n * sizeof(int));
    s->pitch = ic_xmalloc(s->n * sizeof(int));
    s->phrase = ic_xmalloc(s->n * sizeof(int));
    s->clip = ic_xmalloc(s->n * sizeof(size_t));
    int n_pitch = m->head_pitch >= 0 ? m->net->heads[m->head_pitch].classes : 0;
    for (size_t i = 0; i < s->n; i++) {
        const ic_nsynth_example *e = &s->split->ex[i];
        s->family[i] = e->family;
        s->phrase[i] = e->n_notes > 0;
        s->clip[i] = i;
        int p = e->pitch - m->pitch_base;
        s->pitch[i] = !s->phrase[i] && p >= 0 && p < n_pitch ? p : -1;
    }
    return s;
}

void ic_trainsplit_free(ic_trainsplit *s) {
    if (!s) return;
    ic_featcache_close(s->cache);
    ic_nsynth_split_free(s->split);
    free(s->family);
    free(s->pitch);
    free(s->phrase);
    free(s->clip);
    free(s);
}

void ic_trainsplit_subsample(ic_trainsplit *s, size_t n, ic_rng *r) {
    if (n >= s->n) return;
    size_t *idx = ic_xmalloc(s->n * sizeof(size_t));
    for (size_t i = 0; i < s->n; i++) idx[i] = i;
    ic_rng_shuffle(r, idx, s->n);
    char *keep = ic_xcalloc(s->n, 1);
    for (size_t i = 0; i < n; i++) keep[idx[i]] = 1;
    /* the cache stays indexed by split position: remap through a clip index */
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!keep[i]) continue;
        s->clip[k] = s->clip[i];
        s->family[k] = s->family[i];
        s->pitch[k] = s->pitch[i];
        s->phrase[k] = s->phrase[i];
        k++;
    }
    s->n = k;
    free(keep);
    free(idx);
}

size_t ic_epoch_size(const int *family, size_t n, size_t per_family) {
    if (!per_family) return n;
    size_t count[IC_NSYNTH_N_FAMILIES] = {0}, k = 0;
    for (size_t i = 0; i < n; i++) {
        IC_ASSERT(family[i] >= 0 && family[i] < IC_NSYNTH_N_FAMILIES);
        count[family[i]]++;
    }
    for (int f = 0; f < IC_NSYNTH_N_FAMILIES; f++) k += count[f] < per_family ? count[f] : per_family;
    return k;
}

/* A shuffle of every clip, then the first per_family of each family in that
 * order: a uniform draw per family, already in random order. */
size_t ic_epoch_order(const int *family, size_t n, size_t per_family, ic_rng *r, size_t *order) {
    for (size_t i = 0; i < n; i++) order[i] = i;
    ic_rng_shuffle(r, order, n);
    if (!per_family) return n;
    size_t count[IC_NSYNTH_N_FAMILIES] = {0}, k = 0;
    for (size_t i = 0; i < n; i++) {
        int f = family[order[i]];
        if (count[f]++ < per_family) order[k++] = order[i];
    }
    return k;
}

static uint64_t mix64(uint64_t a, uint64_t b) {
    uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Speech wavs of a directory, sorted by name so the bank is reproducible. */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static char **list_wavs(const char *dir, int *n) {
    *n = 0;
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) return NULL;
    char **names = NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".wav")) continue;
        names = realloc(names, (size_t)(*n + 1) * sizeof *names);
        IC_ASSERT(names);
        size_t need = strlen(dir) + l + 2;
        names[*n] = ic_xmalloc(need);
        snprintf(names[*n], need, "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n) qsort(names, (size_t)*n, sizeof *names, cmp_str);
    return names;
}

ic_negbank *ic_negbank_new(const ic_model *m, int n_noise, int n_silence, int n_speech,
                           const char *speech_dir, uint64_t seed, int quiet, ic_error *err) {
    int n_files = 0;
    char **files = list_wavs(speech_dir, &n_files);
    if (!n_files) n_speech = 0;
    ic_negbank *b = ic_xcalloc(1, sizeof *b);
    b->n_noise = n_noise;
    b->n = n_noise + n_silence + n_speech;
    size_t cell = (size_t)m->n_features * m->n_frames, W = m->window_samples;
    b->feat = ic_xmalloc((size_t)b->n * cell * sizeof(float));
    b->noise_power = ic_xmalloc((size_t)(n_noise ? n_noise : 1) * cell * sizeof(float));
    /* speech: each file decoded once; windows cut at seeded offsets */
    float **speech = ic_xcalloc((size_t)(n_files ? n_files : 1), sizeof *speech);
    size_t *speech_n = ic_xcalloc((size_t)(n_files ? n_files : 1), sizeof *speech_n);
    for (int f = 0; f < n_files; f++)
        if (ic_audio_load(files[f], m->fp.sample_rate, &speech[f], &speech_n[f], NULL, err)) {
            ic_error_set(err, IC_ERR_IO, "speech for activity training: %s", err->msg);
            for (int k = 0; k <= f; k++) free(speech[k]);
            for (int k = 0; k < n_files; k++) free(files[k]);
            free(files); free(speech); free(speech_n);
            ic_negbank_free(b);
            return NULL;
        }
    ic_augment *aug = ic_augment_new(&m->fp, m->n_frames, NULL);
    ic_progress pr;
    ic_progress_start(&pr, "non-playing windows", "win", (size_t)b->n, quiet);
    size_t done = 0;
#pragma omp parallel
    {
        float *wave = ic_xmalloc(W * sizeof(float));
        float *work = ic_xmalloc(ic_model_work_floats(m) * sizeof(float));
#pragma omp for schedule(dynamic, 4)
        for (int i = 0; i < b->n; i++) {
            ic_rng r;
            ic_rng_seed(&r, mix64(seed, (uint64_t)i));
            if (i < n_noise) {
                ic_noise_fill(wave, W, (ic_noise_color)(i % 3), -75.0f + 65.0f * ic_rng_uniform(&r), &r);
            } else if (i < n_noise + n_silence) {
                /* digital silence, or dither far below audibility */
                float lvl = (i - n_noise) % 2 ? -96.0f : -200.0f;
                ic_noise_fill(wave, W, IC_NOISE_WHITE, lvl, &r);
            } else {
                int f = (i - n_noise - n_silence) % n_files;
                size_t len = speech_n[f];
                size_t off = len > W ? (size_t)ic_rng_below(&r, len - W + 1) : 0;
                float g = powf(10.0f, (-30.0f + 30.0f * ic_rng_uniform(&r)) / 20.0f);
                for (size_t k = 0; k < W; k++) wave[k] = off + k < len ? g * speech[f][off + k] : 0.0f;
            }
            float *feat = b->feat + (size_t)i * cell;
            ic_model_raw_features(m, wave, W, feat, work);
            if (i < n_noise && aug) ic_augment_to_power(aug, feat, b->noise_power + (size_t)i * cell);
#pragma omp atomic
            done++;
            if (!quiet && (i & 15) == 0) {
#pragma omp critical
                ic_progress_update(&pr, done);
            }
        }
        free(wave);
        free(work);
    }
    ic_progress_update(&pr, (size_t)b->n);
    ic_progress_finish(&pr);
    ic_augment_free(aug);
    for (int f = 0; f < n_files; f++) { free(speech[f]); free(files[f]); }
    free(files); free(speech); free(speech_n);
    return b;
}

void ic_negbank_free(ic_negbank *b) {
    if (!b) return;
    free(b->feat);
    free(b->noise_power);
    free(b);
}

void ic_batcher_fill(const ic_batcher *bt, int epoch, size_t pos, const size_t *order, int n_pos,
                     float *x, int *y_family, int *y_pitch, int *y_activity) {
    const ic_model *m = bt->model;
    size_t cell = (size_t)m->n_features * m->n_frames;
    int B = bt->neg_per_batch + n_pos;
#pragma omp parallel
    {
        float *work = ic_xmalloc(2 * cell * sizeof(float));
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < B; i++) {
            ic_rng r;
            ic_rng_seed(&r, mix64(mix64(bt->seed, (uint64_t)epoch), pos * 64 + (uint64_t)i));
            float *xi = x + (size_t)i * cell;
            if (i < bt->neg_per_batch) {
                y_family[i] = -1; y_pitch[i] = -1; y_activity[i] = 0;
                /* a quarter: a real clip faded far below audibility (a release tail) */
                if (ic_rng_below(&r, 4) == 0 || !bt->neg || bt->neg->n == 0) {
                    size_t c = (size_t)ic_rng_below(&r, bt->data->n);
                    ic_featcache_get(bt->data->cache, bt->data->clip[c], xi);
                    IC_ASSERT(bt->aug); /* a tail must be faded, or it would be a playing clip labelled silent */
                    ic_augment_gain(bt->aug, xi, -55.0f - 30.0f * ic_rng_uniform(&r));
                } else {
                    int k = (int)ic_rng_below(&r, (uint64_t)bt->neg->n);
                    memcpy(xi, bt->neg->feat + (size_t)k * cell, cell * sizeof(float));
                    if (bt->augment) ic_augment_gain(bt->aug, xi, -6.0f + 12.0f * ic_rng_uniform(&r));
                }
            } else {
                size_t c = order[pos + (size_t)(i - bt->neg_per_batch)];
                ic_featcache_get(bt->data->cache, bt->data->clip[c], xi);
                y_family[i] = bt->data->family[c];
                y_pitch[i] = bt->data->pitch[c];
                y_activity[i] = 1;
                if (bt->augment) {
                    const float *noise = NULL;
                    if (bt->neg && bt->neg->n_noise)
                        noise = bt->neg->noise_power + (size_t)ic_rng_below(&r, (uint64_t)bt->neg->n_noise) * cell;
                    ic_augment_apply(bt->aug, &bt->aug_cfg, xi, noise, work, &r);
                }
            }
            ic_model_normalise(m, xi);
            if (bt->augment) ic_augment_masks(bt->aug, &bt->aug_cfg, xi, &r);
        }
        free(work);
    }
}
