/* Mel scales, the triangular mel filterbank of librosa.filters.mel, its sparse
 * application to a power spectrum, and the floored log that makes log-mel features.
 * Not here: the STFT (ic/stft.h), the DCT of MFCCs (ic/mfcc.h). */
#ifndef IC_MEL_H
#define IC_MEL_H
#include <stddef.h>

/* Hz -> mel.  htk = 0: Slaney (linear 200/3 Hz per mel below 1000 Hz = mel 15, then
 * logarithmic with step ln(6.4)/27); htk = 1: 2595 log10(1 + hz/700). */
double ic_hz_to_mel(double hz, int htk);
/* mel -> Hz, the inverse of ic_hz_to_mel. */
double ic_mel_to_hz(double mel, int htk);

/* librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax, htk, norm="slaney" if slaney_norm
 * else None): n_mels + 2 edges evenly spaced in mel from f_lo to f_hi, triangle m rising
 * from edge m to m+1 and falling to m+2 over the bin frequencies k sr / n_fft; with
 * slaney_norm each triangle is scaled by 2 / (edge[m+2] - edge[m]) (unit area in Hz).
 * Computed in double.  weights: (n_mels, n_fft/2 + 1) row-major. */
void ic_mel_filterbank(double sr, size_t n_fft, size_t n_mels, double f_lo, double f_hi,
                       int htk, int slaney_norm, float *weights);

/* First nonzero bin lo[m] and one past the last hi[m] of each filter (lo = hi = 0 for an
 * all-zero filter).  weights (n_mels, n_bins); lo, hi: (n_mels). */
void ic_mel_band_ranges(const float *weights, size_t n_mels, size_t n_bins, size_t *lo, size_t *hi);
/* mel[m] = sum_k weights[m, k] power[k], summing only k in [lo[m], hi[m]).
 * weights (n_mels, n_bins), power (n_bins), mel (n_mels). */
void ic_mel_apply(const float *weights, size_t n_mels, size_t n_bins, const size_t *lo,
                  const size_t *hi, const float *power, float *mel);

/* In place: x = ln(max(x, floor)), or 10 log10(max(x, floor)) when db.  x: (n).
 * NaN stays NaN.  (librosa.power_to_db with amin = floor, ref 1, top_db None.) */
void ic_log_floor(float *x, size_t n, float floor, int db);

#endif
