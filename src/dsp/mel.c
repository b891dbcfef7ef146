/* Mel scales, filterbank and floored log (include/ic/mel.h).  The formulas follow
 * Slaney's Auditory Toolbox and HTK as librosa implements them (librosa.core.convert
 * hz_to_mel / mel_to_hz, librosa.filters.mel); the golden tests check us against an
 * independent numpy implementation in tests/fixtures/dsp/make_golden.py. */
#include "ic/mel.h"
#include <math.h>
#include "ic/error.h"

/* Slaney: 200/3 Hz per mel up to 1000 Hz (mel 15), then 27 mels per factor 6.4 */
#define SLANEY_F_SP (200.0 / 3.0)
#define SLANEY_MIN_LOG_HZ 1000.0
#define SLANEY_MIN_LOG_MEL (SLANEY_MIN_LOG_HZ / SLANEY_F_SP)
#define SLANEY_LOGSTEP (log(6.4) / 27.0)

double ic_hz_to_mel(double hz, int htk) {
    if (htk) return 2595.0 * log10(1.0 + hz / 700.0);
    if (hz >= SLANEY_MIN_LOG_HZ) return SLANEY_MIN_LOG_MEL + log(hz / SLANEY_MIN_LOG_HZ) / SLANEY_LOGSTEP;
    return hz / SLANEY_F_SP;
}

double ic_mel_to_hz(double mel, int htk) {
    if (htk) return 700.0 * (pow(10.0, mel / 2595.0) - 1.0);
    if (mel >= SLANEY_MIN_LOG_MEL) return SLANEY_MIN_LOG_HZ * exp(SLANEY_LOGSTEP * (mel - SLANEY_MIN_LOG_MEL));
    return SLANEY_F_SP * mel;
}

void ic_mel_filterbank(double sr, size_t n_fft, size_t n_mels, double f_lo, double f_hi,
                       int htk, int slaney_norm, float *weights) {
    IC_ASSERT(n_mels >= 1 && n_fft >= 2 && f_hi > f_lo);
    const size_t n_bins = n_fft / 2 + 1, n_edges = n_mels + 2;
    /* edges as numpy.linspace(mel(fmin), mel(fmax), n_mels + 2) mapped back to Hz;
     * the last edge is set to mel(f_hi) exactly, as linspace does */
    const double mlo = ic_hz_to_mel(f_lo, htk), mhi = ic_hz_to_mel(f_hi, htk);
    const double step = (mhi - mlo) / (double)(n_edges - 1);
    for (size_t m = 0; m < n_mels; m++) {
        double e0 = ic_mel_to_hz(mlo + (double)m * step, htk);
        double e1 = ic_mel_to_hz(mlo + (double)(m + 1) * step, htk);
        double e2 = ic_mel_to_hz(m + 2 == n_edges - 1 ? mhi : mlo + (double)(m + 2) * step, htk);
        double scale = slaney_norm ? 2.0 / (e2 - e0) : 1.0;
        for (size_t k = 0; k < n_bins; k++) {
            double f = (double)k * (sr / (double)n_fft);
            double rise = (f - e0) / (e1 - e0), fall = (e2 - f) / (e2 - e1);
            double w = fmin(rise, fall);
            weights[m * n_bins + k] = w > 0.0 ? (float)(w * scale) : 0.0f;
        }
    }
}

void ic_mel_band_ranges(const float *weights, size_t n_mels, size_t n_bins, size_t *lo, size_t *hi) {
    for (size_t m = 0; m < n_mels; m++) {
        const float *w = weights + m * n_bins;
        size_t a = 0, b = n_bins;
        while (a < n_bins && w[a] == 0.0f) a++;
        while (b > a && w[b - 1] == 0.0f) b--;
        lo[m] = a < b ? a : 0;
        hi[m] = a < b ? b : 0;
    }
}

void ic_mel_apply(const float *weights, size_t n_mels, size_t n_bins, const size_t *lo,
                  const size_t *hi, const float *power, float *mel) {
    for (size_t m = 0; m < n_mels; m++) {
        const float *w = weights + m * n_bins;
        float s = 0.0f;
        for (size_t k = lo[m]; k < hi[m]; k++) s += w[k] * power[k];
        mel[m] = s;
    }
}

void ic_log_floor(float *x, size_t n, float floor, int db) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i] < floor ? floor : x[i];  /* a NaN fails the compare and stays NaN */
        x[i] = db ? 10.0f * log10f(v) : logf(v);
    }
}
