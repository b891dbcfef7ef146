/* MFCC: orthonormal DCT-II over the mel axis of a log-mel frame, first n_out
 * coefficients (scipy.fft.dct(type=2, norm="ortho"), as librosa.feature.mfcc uses).
 * Not here: the log-mel itself (ic/mel.h, ic/frontend.h). */
#ifndef IC_MFCC_H
#define IC_MFCC_H
#include <stddef.h>

/* dct (n_out, n_in) row-major, n_out <= n_in:
 *   dct[k, j] = s_k cos(pi k (2j + 1) / (2 n_in)),  s_0 = sqrt(1/n_in), s_k = sqrt(2/n_in).
 * Computed in double; the full square matrix is orthogonal. */
void ic_dct2_ortho_matrix(size_t n_in, size_t n_out, float *dct);
/* out = dct @ in.  dct (n_out, n_in), in (n_in), out (n_out). */
void ic_dct_apply(const float *dct, size_t n_out, size_t n_in, const float *in, float *out);

#endif
