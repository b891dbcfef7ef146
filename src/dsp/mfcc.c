/* DCT-II (orthonormal) by its matrix (include/ic/mfcc.h).  With 64 mels and 20
 * coefficients the product is 1280 multiply-adds per frame, far below the FFT, so
 * no fast DCT: the matrix is the definition and needs no separate naive check. */
#include "ic/mfcc.h"
#include <math.h>
#include "ic/error.h"

void ic_dct2_ortho_matrix(size_t n_in, size_t n_out, float *dct) {
    IC_ASSERT(n_in >= 1 && n_out <= n_in);
    const double pi = 3.14159265358979323846264338327950;
    for (size_t k = 0; k < n_out; k++) {
        double s = sqrt((k == 0 ? 1.0 : 2.0) / (double)n_in);
        for (size_t j = 0; j < n_in; j++)
            dct[k * n_in + j] = (float)(s * cos(pi * (double)k * (double)(2 * j + 1) / (double)(2 * n_in)));
    }
}

void ic_dct_apply(const float *dct, size_t n_out, size_t n_in, const float *in, float *out) {
    for (size_t k = 0; k < n_out; k++) {
        const float *row = dct + k * n_in;
        float s = 0.0f;
        for (size_t j = 0; j < n_in; j++) s += row[j] * in[j];
        out[k] = s;
    }
}
