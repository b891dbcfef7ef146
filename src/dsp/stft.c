/* Framing, Hann window and power spectrogram (include/ic/stft.h).
 * Not here: mel, log, anything that depends on the front-end parameter struct. */
#include "ic/stft.h"
#include <math.h>
#include <string.h>

void ic_hann_window(size_t win_length, size_t n_fft, float *out) {
    IC_ASSERT(win_length >= 1 && win_length <= n_fft);
    const double two_pi = 6.283185307179586476925286766559;
    size_t lo = (n_fft - win_length) / 2;
    memset(out, 0, n_fft * sizeof *out);
    for (size_t i = 0; i < win_length; i++)
        out[lo + i] = (float)(0.5 - 0.5 * cos(two_pi * (double)i / (double)win_length));
}

size_t ic_stft_n_frames(size_t n, size_t n_fft, size_t hop, int center) {
    IC_ASSERT(hop >= 1);
    if (n == 0) return 0;
    /* centred: the padded length is n + 2*(n_fft/2) = n + n_fft for even n_fft */
    if (center) return 1 + n / hop;
    return n >= n_fft ? 1 + (n - n_fft) / hop : 0;
}

/* Index into x (n >= 1) of position p of the reflect-extended signal. */
static size_t reflect_index(long long p, size_t n) {
    if (n == 1) return 0;
    long long period = 2 * ((long long)n - 1);
    p %= period;
    if (p < 0) p += period;
    return (size_t)(p < (long long)n ? p : period - p);
}

void ic_stft_frame(const float *x, size_t n, size_t t, size_t n_fft, size_t hop, int center,
                   const float *window, float *frame) {
    IC_ASSERT(n >= 1);
    long long start = (long long)(t * hop) - (center ? (long long)(n_fft / 2) : 0);
    if (start >= 0 && start + (long long)n_fft <= (long long)n) {
        const float *src = x + start;
        for (size_t j = 0; j < n_fft; j++) frame[j] = src[j] * window[j];
        return;
    }
    IC_ASSERT(center);  /* uncentred frames always lie inside the signal */
    for (size_t j = 0; j < n_fft; j++)
        frame[j] = x[reflect_index(start + (long long)j, n)] * window[j];
}

void ic_power_spectrum(const ic_fft_plan *plan, const float *frame, float *spec, float *power) {
    size_t n_bins = ic_fft_plan_size(plan) / 2 + 1;
    ic_rfft(plan, frame, spec);
    for (size_t k = 0; k < n_bins; k++)
        power[k] = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
}

size_t ic_stft_work_floats(size_t n_fft) { return 2 * n_fft + 2; }

void ic_stft_power(const ic_fft_plan *plan, const float *window, const float *x, size_t n,
                   size_t hop, int center, float *out, float *work) {
    const size_t n_fft = ic_fft_plan_size(plan), n_bins = n_fft / 2 + 1;
    const size_t n_frames = ic_stft_n_frames(n, n_fft, hop, center);
    float *frame = work, *spec = work + n_fft;  /* (n_fft), (n_fft + 2) */
    for (size_t t = 0; t < n_frames; t++) {
        ic_stft_frame(x, n, t, n_fft, hop, center, window, frame);
        ic_rfft(plan, frame, spec);
        for (size_t k = 0; k < n_bins; k++)
            out[k * n_frames + t] = spec[2 * k] * spec[2 * k] + spec[2 * k + 1] * spec[2 * k + 1];
    }
}
