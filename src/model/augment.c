/* Log-mel augmentation in the mel power domain (see ic/augment.h).
 * Power P = exp(x) (or 10^(x/10)); values at the floor count as silence (P = 0)
 * so that gains and mixing do not turn the floor into a fake noise bed. */
#include "ic/augment.h"
#include "ic/mel.h"
#include <math.h>
#include <string.h>

void ic_augment_defaults(ic_augment_config *c) {
    /* Moderate on purpose: a first recipe twice as strong kept the 16-wide CNN's
     * augmented training accuracy below its clean validation accuracy (underfitting). */
    memset(c, 0, sizeof *c);
    c->p_gain = 0.5f;   c->gain_db_lo = -12.0f; c->gain_db_hi = 6.0f;
    c->p_noise = 0.3f;  c->snr_db_lo = 15.0f;   c->snr_db_hi = 40.0f;
    c->p_eq = 0.3f;     c->eq_db = 6.0f;
    c->p_reverb = 0.3f; c->rt60_lo = 0.2f;      c->rt60_hi = 1.2f;
    c->p_shift = 0.3f;  c->shift_lo = -8;       c->shift_hi = 24;
    c->n_freq_masks = 1; c->freq_mask_max = 8;
    c->n_time_masks = 1; c->time_mask_max = 10;
}

ic_augment *ic_augment_new(const ic_frontend_params *fp, int n_frames, ic_error *err) {
    if (fp->kind != IC_FEAT_LOGMEL) {
        ic_error_set(err, IC_ERR_ARG, "augmentation needs log-mel features");
        return NULL;
    }
    ic_augment *a = ic_xcalloc(1, sizeof *a);
    a->fp = fp;
    a->n_bands = fp->n_mels;
    a->n_frames = n_frames;
    a->band_hz = ic_xcalloc((size_t)a->n_bands, sizeof(float));
    int htk = fp->mel_scale == IC_MEL_HTK;
    double lo = ic_hz_to_mel(fp->fmin, htk), hi = ic_hz_to_mel(fp->fmax, htk);
    for (int b = 0; b < a->n_bands; b++) /* band b peaks at mel point b+1 of n_mels+2 */
        a->band_hz[b] = (float)ic_mel_to_hz(lo + (hi - lo) * (b + 1) / (a->n_bands + 1), htk);
    return a;
}

void ic_augment_free(ic_augment *a) {
    if (!a) return;
    free(a->band_hz);
    free(a);
}

static size_t cells(const ic_augment *a) { return (size_t)a->n_bands * a->n_frames; }

void ic_augment_to_power(const ic_augment *a, const float *feat, float *power) {
    const ic_frontend_params *fp = a->fp;
    float lfloor = fp->log_db ? 10.0f * log10f(fp->log_floor) : logf(fp->log_floor);
    float thresh = lfloor + (fp->log_db ? 0.01f : 0.0023f); /* 0.01 dB above the floor */
    for (size_t i = 0; i < cells(a); i++) {
        float x = feat[i];
        power[i] = x <= thresh ? 0.0f : (fp->log_db ? powf(10.0f, x / 10.0f) : expf(x));
    }
}

void ic_augment_from_power(const ic_augment *a, const float *power, float *feat) {
    const ic_frontend_params *fp = a->fp;
    for (size_t i = 0; i < cells(a); i++) {
        float p = power[i] > fp->log_floor ? power[i] : fp->log_floor;
        feat[i] = fp->log_db ? 10.0f * log10f(p) : logf(p);
    }
}

double ic_augment_mean_power(const ic_augment *a, const float *power) {
    double s = 0;
    for (size_t i = 0; i < cells(a); i++) s += power[i];
    return s / (double)cells(a);
}

static float uniform(ic_rng *r, float lo, float hi) { return lo + (hi - lo) * ic_rng_uniform(r); }
static int chance(ic_rng *r, float p) { return ic_rng_uniform(r) < p; }

void ic_augment_gain(const ic_augment *a, float *feat, float gain_db) {
    const ic_frontend_params *fp = a->fp;
    float lfloor = fp->log_db ? 10.0f * log10f(fp->log_floor) : logf(fp->log_floor);
    float thresh = lfloor + (fp->log_db ? 0.01f : 0.0023f);
    float add = fp->log_db ? gain_db : gain_db * 0.23025851f; /* ln(10)/10 */
    for (size_t i = 0; i < cells(a); i++) {
        if (feat[i] <= thresh) continue; /* silence stays silence */
        float x = feat[i] + add;
        feat[i] = x > lfloor ? x : lfloor;
    }
}

/* A smooth random response in dB per band: tilt, low cut, high cut, one resonance. */
static void eq_curve(const ic_augment *a, float max_db, float *db, ic_rng *r) {
    float tilt = uniform(r, -max_db, max_db) * 0.5f;
    float lowcut = uniform(r, 40.0f, 400.0f), highcut = uniform(r, 3000.0f, 8000.0f);
    float peak_hz = expf(uniform(r, logf(300.0f), logf(5000.0f))), peak_db = uniform(r, -max_db, max_db);
    float peak_w = uniform(r, 0.3f, 1.0f); /* octaves */
    for (int b = 0; b < a->n_bands; b++) {
        float f = a->band_hz[b] > 1.0f ? a->band_hz[b] : 1.0f;
        float oct = log2f(f / 1000.0f);
        float d = tilt * oct / 3.0f;
        if (f < lowcut) d -= 12.0f * log2f(lowcut / f);   /* 12 dB/octave high-pass */
        if (f > highcut) d -= 18.0f * log2f(f / highcut); /* 18 dB/octave low-pass */
        float z = log2f(f / peak_hz) / peak_w;
        d += peak_db * expf(-0.5f * z * z);
        db[b] = d < -60.0f ? -60.0f : d;
    }
}

/* Late reverberation per band: power decays 60 dB in rt60 seconds (shorter in the
 * highs), mixed at a random direct-to-reverberant ratio. */
static void reverb(const ic_augment *a, float *P, float rt60, float drr_db) {
    double frame_s = (double)a->fp->hop / a->fp->sample_rate;
    float wet = powf(10.0f, -drr_db / 10.0f);
    for (int b = 0; b < a->n_bands; b++) {
        float rt = rt60 * (1.0f - 0.5f * (float)b / (float)a->n_bands);
        float d = (float)pow(10.0, -6.0 * frame_s / rt);
        float *row = P + (size_t)b * a->n_frames;
        float tail = 0.0f;
        for (int t = 0; t < a->n_frames; t++) {
            float direct = row[t];
            row[t] = direct + wet * (1.0f - d) * tail;
            tail = d * tail + direct;
        }
    }
}

static void shift(const ic_augment *a, float *P, int s, float *tmp) {
    int T = a->n_frames;
    for (int b = 0; b < a->n_bands; b++) {
        float *row = P + (size_t)b * T;
        for (int t = 0; t < T; t++) {
            int src = t - s;
            tmp[t] = src >= 0 && src < T ? row[src] : 0.0f;
        }
        memcpy(row, tmp, (size_t)T * sizeof(float));
    }
}

void ic_augment_apply(const ic_augment *a, const ic_augment_config *c, float *feat,
                      const float *noise, float *work, ic_rng *rng) {
    size_t n = cells(a);
    float *P = work, *tmp = work + n;
    ic_augment_to_power(a, feat, P);
    if (chance(rng, c->p_shift)) shift(a, P, c->shift_lo + (int)ic_rng_below(rng, (uint64_t)(c->shift_hi - c->shift_lo + 1)), tmp);
    if (chance(rng, c->p_reverb)) reverb(a, P, uniform(rng, c->rt60_lo, c->rt60_hi), uniform(rng, -6.0f, 12.0f));
    if (chance(rng, c->p_eq)) {
        eq_curve(a, c->eq_db, tmp, rng);
        for (int b = 0; b < a->n_bands; b++) {
            float g = powf(10.0f, tmp[b] / 10.0f);
            for (int t = 0; t < a->n_frames; t++) P[(size_t)b * a->n_frames + t] *= g;
        }
    }
    float gain = chance(rng, c->p_gain) ? powf(10.0f, uniform(rng, c->gain_db_lo, c->gain_db_hi) / 10.0f) : 1.0f;
    if (noise && chance(rng, c->p_noise)) {
        double ps = ic_augment_mean_power(a, P), pn = ic_augment_mean_power(a, noise);
        if (ps > 0 && pn > 0) {
            float snr = uniform(rng, c->snr_db_lo, c->snr_db_hi);
            float k = (float)(ps / pn * pow(10.0, -snr / 10.0));
            for (size_t i = 0; i < n; i++) P[i] += k * noise[i];
        }
    }
    for (size_t i = 0; i < n; i++) P[i] *= gain;
    ic_augment_from_power(a, P, feat);
}

void ic_augment_masks(const ic_augment *a, const ic_augment_config *c, float *x, ic_rng *rng) {
    for (int m = 0; m < c->n_freq_masks; m++) {
        int w = (int)ic_rng_below(rng, (uint64_t)c->freq_mask_max + 1);
        int b0 = (int)ic_rng_below(rng, (uint64_t)(a->n_bands - w + 1));
        for (int b = b0; b < b0 + w; b++) memset(x + (size_t)b * a->n_frames, 0, (size_t)a->n_frames * sizeof(float));
    }
    for (int m = 0; m < c->n_time_masks; m++) {
        int w = (int)ic_rng_below(rng, (uint64_t)c->time_mask_max + 1);
        int t0 = (int)ic_rng_below(rng, (uint64_t)(a->n_frames - w + 1));
        for (int b = 0; b < a->n_bands; b++) memset(x + (size_t)b * a->n_frames + t0, 0, (size_t)w * sizeof(float));
    }
}
