/* The feature front end (include/ic/frontend.h): parameters, their validation and
 * JSON form, and samples -> log-mel or MFCC matrix built from the dsp modules
 * (ic/stft.h, ic/mel.h, ic/mfcc.h).
 * ic_frontend_compute runs single-threaded on purpose: the callers (training, batch
 * inference) parallelise over clips, which scales better than splitting the ~300
 * frames of one clip, and the scratch size then does not depend on a thread count.
 * Not here: decoding, resampling, normalisation statistics (ic/featstats.h). */
#include "ic/frontend.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ic/fft.h"
#include "ic/mel.h"
#include "ic/mfcc.h"
#include "ic/stft.h"

#define SR_MIN 1000
#define SR_MAX 384000
#define NFFT_MIN 16
#define NFFT_MAX 65536

struct ic_frontend {
    ic_frontend_params p;
    size_t n_bins;        /* n_fft/2 + 1 */
    size_t n_feat;        /* rows of the output: n_mels or n_mfcc */
    ic_fft_plan *plan;
    float *window;        /* (n_fft) centred periodic Hann */
    float *mel;           /* (n_mels, n_bins) filterbank */
    size_t *mel_lo;       /* (n_mels) first nonzero bin of each filter */
    size_t *mel_hi;       /* (n_mels) one past the last */
    float *dct;           /* (n_mfcc, n_mels) orthonormal DCT-II rows, MFCC only */
};

void ic_frontend_defaults(ic_frontend_params *p) {
    memset(p, 0, sizeof *p);
    p->sample_rate = 16000;
    p->n_fft = 1024;
    p->hop = 512;
    p->win_length = 1024;
    p->center = 1;
    p->n_mels = 64;
    p->fmin = 0.0f;
    p->fmax = 8000.0f;
    p->mel_scale = IC_MEL_SLANEY;
    p->mel_norm = 1;
    p->kind = IC_FEAT_LOGMEL;
    p->log_db = 0;
    p->log_floor = 1e-6f;
    p->n_mfcc = 20;
}

static int is_flag(int v) { return v == 0 || v == 1; }

ic_status ic_frontend_validate(const ic_frontend_params *p, ic_error *err) {
    const char *e = "frontend params";
    if (p->sample_rate < SR_MIN || p->sample_rate > SR_MAX)
        return ic_error_set(err, IC_ERR_ARG, "%s: sample_rate must be in [%d, %d] Hz, got %d",
                            e, SR_MIN, SR_MAX, p->sample_rate);
    if (p->n_fft < NFFT_MIN || p->n_fft > NFFT_MAX || (p->n_fft & (p->n_fft - 1)) != 0)
        return ic_error_set(err, IC_ERR_ARG, "%s: n_fft must be a power of two in [%d, %d], got %d",
                            e, NFFT_MIN, NFFT_MAX, p->n_fft);
    if (p->hop < 1 || p->hop > p->n_fft)
        return ic_error_set(err, IC_ERR_ARG, "%s: hop must be in [1, n_fft = %d], got %d", e, p->n_fft, p->hop);
    if (p->win_length < 2 || p->win_length > p->n_fft)
        return ic_error_set(err, IC_ERR_ARG, "%s: win_length must be in [2, n_fft = %d], got %d",
                            e, p->n_fft, p->win_length);
    if (!is_flag(p->center))
        return ic_error_set(err, IC_ERR_ARG, "%s: center must be 0 or 1, got %d", e, p->center);
    if (p->n_mels < 1 || p->n_mels > p->n_fft / 2 + 1)
        return ic_error_set(err, IC_ERR_ARG, "%s: n_mels must be in [1, n_fft/2+1 = %d], got %d",
                            e, p->n_fft / 2 + 1, p->n_mels);
    if (!isfinite(p->fmin) || p->fmin < 0.0f)
        return ic_error_set(err, IC_ERR_ARG, "%s: fmin must be a finite frequency >= 0 Hz, got %g", e, (double)p->fmin);
    if (!isfinite(p->fmax) || p->fmax > 0.5f * (float)p->sample_rate)
        return ic_error_set(err, IC_ERR_ARG, "%s: fmax must be finite and <= sample_rate/2 = %g Hz, got %g",
                            e, 0.5 * p->sample_rate, (double)p->fmax);
    if (!(p->fmin < p->fmax))
        return ic_error_set(err, IC_ERR_ARG, "%s: fmax must be > fmin = %g Hz, got %g",
                            e, (double)p->fmin, (double)p->fmax);
    if ((int)p->mel_scale != IC_MEL_SLANEY && (int)p->mel_scale != IC_MEL_HTK)
        return ic_error_set(err, IC_ERR_ARG, "%s: mel_scale must be slaney (0) or htk (1), got %d", e, (int)p->mel_scale);
    if (!is_flag(p->mel_norm))
        return ic_error_set(err, IC_ERR_ARG, "%s: mel_norm must be 0 or 1, got %d", e, p->mel_norm);
    if ((int)p->kind != IC_FEAT_LOGMEL && (int)p->kind != IC_FEAT_MFCC)
        return ic_error_set(err, IC_ERR_ARG, "%s: kind must be logmel (0) or mfcc (1), got %d", e, (int)p->kind);
    if (!is_flag(p->log_db))
        return ic_error_set(err, IC_ERR_ARG, "%s: log_db must be 0 or 1, got %d", e, p->log_db);
    if (!isfinite(p->log_floor) || !(p->log_floor > 0.0f))
        return ic_error_set(err, IC_ERR_ARG, "%s: log_floor must be finite and > 0, got %g", e, (double)p->log_floor);
    if (p->kind == IC_FEAT_MFCC && (p->n_mfcc < 1 || p->n_mfcc > p->n_mels))
        return ic_error_set(err, IC_ERR_ARG, "%s: n_mfcc must be in [1, n_mels = %d] for MFCC features, got %d",
                            e, p->n_mels, p->n_mfcc);
    return IC_OK;
}

size_t ic_frontend_n_frames(const ic_frontend_params *p, size_t n_samples) {
    return ic_stft_n_frames(n_samples, (size_t)p->n_fft, (size_t)p->hop, p->center);
}

int ic_frontend_n_features(const ic_frontend_params *p) {
    return p->kind == IC_FEAT_MFCC ? p->n_mfcc : p->n_mels;
}

void ic_frontend_free(ic_frontend *f) {
    if (!f) return;
    ic_fft_plan_free(f->plan);
    free(f->window);
    free(f->mel);
    free(f->mel_lo);
    free(f->mel_hi);
    free(f->dct);
    free(f);
}

ic_frontend *ic_frontend_new(const ic_frontend_params *p, ic_error *err) {
    if (ic_frontend_validate(p, err) != IC_OK) return NULL;
    ic_frontend *f = calloc(1, sizeof *f);
    if (!f) { ic_error_set(err, IC_ERR_NOMEM, "frontend: out of memory"); return NULL; }
    f->p = *p;
    const size_t n_fft = (size_t)p->n_fft, n_mels = (size_t)p->n_mels;
    f->n_bins = n_fft / 2 + 1;
    f->n_feat = (size_t)ic_frontend_n_features(p);
    f->plan = ic_fft_plan_new(n_fft, err);
    if (!f->plan) { ic_frontend_free(f); return NULL; }
    f->window = malloc(n_fft * sizeof *f->window);
    f->mel = malloc(n_mels * f->n_bins * sizeof *f->mel);
    f->mel_lo = malloc(n_mels * sizeof *f->mel_lo);
    f->mel_hi = malloc(n_mels * sizeof *f->mel_hi);
    if (p->kind == IC_FEAT_MFCC) f->dct = malloc((size_t)p->n_mfcc * n_mels * sizeof *f->dct);
    if (!f->window || !f->mel || !f->mel_lo || !f->mel_hi || (p->kind == IC_FEAT_MFCC && !f->dct)) {
        ic_frontend_free(f);
        ic_error_set(err, IC_ERR_NOMEM, "frontend: out of memory for n_fft %d, %d mels", p->n_fft, p->n_mels);
        return NULL;
    }
    ic_hann_window((size_t)p->win_length, n_fft, f->window);
    ic_mel_filterbank((double)p->sample_rate, n_fft, n_mels, (double)p->fmin, (double)p->fmax,
                      p->mel_scale == IC_MEL_HTK, p->mel_norm, f->mel);
    ic_mel_band_ranges(f->mel, n_mels, f->n_bins, f->mel_lo, f->mel_hi);
    if (f->dct) ic_dct2_ortho_matrix(n_mels, (size_t)p->n_mfcc, f->dct);
    return f;
}

const ic_frontend_params *ic_frontend_params_of(const ic_frontend *f) { return &f->p; }

size_t ic_frontend_work_floats(const ic_frontend *f) {
    /* frame (n_fft), spectrum (n_fft + 2), power (n_bins), mel (n_mels), mfcc (n_feat) */
    return 2 * (size_t)f->p.n_fft + 2 + f->n_bins + (size_t)f->p.n_mels + f->n_feat;
}

void ic_frontend_compute(const ic_frontend *f, const float *samples, size_t n, float *out, float *work) {
    const ic_frontend_params *p = &f->p;
    const size_t n_fft = (size_t)p->n_fft, n_mels = (size_t)p->n_mels;
    const size_t n_frames = ic_frontend_n_frames(p, n);
    float *frame = work;                  /* (n_fft) */
    float *spec = frame + n_fft;          /* (n_fft + 2) */
    float *power = spec + n_fft + 2;      /* (n_bins) */
    float *mel = power + f->n_bins;       /* (n_mels) */
    float *coef = mel + n_mels;           /* (n_feat) */
    for (size_t t = 0; t < n_frames; t++) {
        ic_stft_frame(samples, n, t, n_fft, (size_t)p->hop, p->center, f->window, frame);
        ic_power_spectrum(f->plan, frame, spec, power);
        ic_mel_apply(f->mel, n_mels, f->n_bins, f->mel_lo, f->mel_hi, power, mel);
        ic_log_floor(mel, n_mels, p->log_floor, p->log_db);
        const float *col = mel;
        if (p->kind == IC_FEAT_MFCC) {
            ic_dct_apply(f->dct, f->n_feat, n_mels, mel, coef);
            col = coef;
        }
        for (size_t r = 0; r < f->n_feat; r++) out[r * n_frames + t] = col[r];
    }
}

/* ---- JSON ---- */

static const char *const FIELDS[] = {
    "sample_rate", "n_fft", "hop", "win_length", "center", "n_mels", "fmin", "fmax",
    "mel_scale", "mel_norm", "kind", "log_db", "log_floor", "n_mfcc",
};

cJSON *ic_frontend_to_json(const ic_frontend_params *p) {
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    int ok = cJSON_AddNumberToObject(j, "sample_rate", p->sample_rate)
          && cJSON_AddNumberToObject(j, "n_fft", p->n_fft)
          && cJSON_AddNumberToObject(j, "hop", p->hop)
          && cJSON_AddNumberToObject(j, "win_length", p->win_length)
          && cJSON_AddBoolToObject(j, "center", p->center != 0)
          && cJSON_AddNumberToObject(j, "n_mels", p->n_mels)
          && cJSON_AddNumberToObject(j, "fmin", (double)p->fmin)
          && cJSON_AddNumberToObject(j, "fmax", (double)p->fmax)
          && cJSON_AddStringToObject(j, "mel_scale", p->mel_scale == IC_MEL_HTK ? "htk" : "slaney")
          && cJSON_AddBoolToObject(j, "mel_norm", p->mel_norm != 0)
          && cJSON_AddStringToObject(j, "kind", p->kind == IC_FEAT_MFCC ? "mfcc" : "logmel")
          && cJSON_AddBoolToObject(j, "log_db", p->log_db != 0)
          && cJSON_AddNumberToObject(j, "log_floor", (double)p->log_floor)
          && cJSON_AddNumberToObject(j, "n_mfcc", p->n_mfcc);
    if (!ok) { cJSON_Delete(j); return NULL; }
    return j;
}

#define JE "frontend json"

static const cJSON *field(const cJSON *j, const char *name, ic_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!v) ic_error_set(err, IC_ERR_FORMAT, JE ": missing field \"%s\"", name);
    return v;
}

static ic_status get_int(const cJSON *j, const char *name, int *out, ic_error *err) {
    const cJSON *v = field(j, name, err);
    if (!v) return IC_ERR_FORMAT;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble)
        || v->valuedouble < INT_MIN || v->valuedouble > INT_MAX)
        return ic_error_set(err, IC_ERR_FORMAT, JE ": field \"%s\" must be an integer", name);
    *out = (int)v->valuedouble;
    return IC_OK;
}

static ic_status get_float(const cJSON *j, const char *name, float *out, ic_error *err) {
    const cJSON *v = field(j, name, err);
    if (!v) return IC_ERR_FORMAT;
    if (!cJSON_IsNumber(v))
        return ic_error_set(err, IC_ERR_FORMAT, JE ": field \"%s\" must be a number", name);
    *out = (float)v->valuedouble;  /* out-of-range values become inf and fail validation */
    return IC_OK;
}

static ic_status get_bool(const cJSON *j, const char *name, int *out, ic_error *err) {
    const cJSON *v = field(j, name, err);
    if (!v) return IC_ERR_FORMAT;
    if (!cJSON_IsBool(v))
        return ic_error_set(err, IC_ERR_FORMAT, JE ": field \"%s\" must be true or false", name);
    *out = cJSON_IsTrue(v) ? 1 : 0;
    return IC_OK;
}

/* String field that must be one of two names; *out = 0 for a, 1 for b. */
static ic_status get_choice(const cJSON *j, const char *name, const char *a, const char *b,
                            int *out, ic_error *err) {
    const cJSON *v = field(j, name, err);
    if (!v) return IC_ERR_FORMAT;
    const char *s = cJSON_GetStringValue(v);
    if (!s || (strcmp(s, a) != 0 && strcmp(s, b) != 0))
        return ic_error_set(err, IC_ERR_FORMAT, JE ": field \"%s\" must be \"%s\" or \"%s\"", name, a, b);
    *out = strcmp(s, b) == 0;
    return IC_OK;
}

ic_status ic_frontend_from_json(const cJSON *j, ic_frontend_params *p, ic_error *err) {
    if (!cJSON_IsObject(j)) return ic_error_set(err, IC_ERR_FORMAT, JE ": expected an object");
    for (const cJSON *c = j->child; c; c = c->next) {
        size_t i = 0, nf = sizeof FIELDS / sizeof FIELDS[0];
        while (i < nf && (!c->string || strcmp(c->string, FIELDS[i]) != 0)) i++;
        if (i == nf)
            return ic_error_set(err, IC_ERR_FORMAT, JE ": unknown field \"%s\"", c->string ? c->string : "");
        for (const cJSON *d = j->child; d != c; d = d->next)
            if (strcmp(d->string, c->string) == 0)
                return ic_error_set(err, IC_ERR_FORMAT, JE ": field \"%s\" appears twice", c->string);
    }
    ic_frontend_params q;
    ic_frontend_defaults(&q);
    int scale = 0, kind = 0;
    ic_status st;
    if ((st = get_int(j, "sample_rate", &q.sample_rate, err)) || (st = get_int(j, "n_fft", &q.n_fft, err))
        || (st = get_int(j, "hop", &q.hop, err)) || (st = get_int(j, "win_length", &q.win_length, err))
        || (st = get_bool(j, "center", &q.center, err)) || (st = get_int(j, "n_mels", &q.n_mels, err))
        || (st = get_float(j, "fmin", &q.fmin, err)) || (st = get_float(j, "fmax", &q.fmax, err))
        || (st = get_choice(j, "mel_scale", "slaney", "htk", &scale, err))
        || (st = get_bool(j, "mel_norm", &q.mel_norm, err))
        || (st = get_choice(j, "kind", "logmel", "mfcc", &kind, err))
        || (st = get_bool(j, "log_db", &q.log_db, err)) || (st = get_float(j, "log_floor", &q.log_floor, err))
        || (st = get_int(j, "n_mfcc", &q.n_mfcc, err)))
        return st;
    q.mel_scale = scale ? IC_MEL_HTK : IC_MEL_SLANEY;
    q.kind = kind ? IC_FEAT_MFCC : IC_FEAT_LOGMEL;
    if (ic_frontend_validate(&q, err) != IC_OK) {
        /* the model file is the untrusted input here: a format error, same message */
        if (err) {
            char why[sizeof err->msg];
            memcpy(why, err->msg, sizeof why);
            const char *w = strncmp(why, "frontend params: ", 17) == 0 ? why + 17 : why;
            ic_error_set(err, IC_ERR_FORMAT, JE ": %s", w);
        }
        return IC_ERR_FORMAT;
    }
    *p = q;
    return IC_OK;
}
