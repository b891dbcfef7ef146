/* Fully connected layer kernels on caller-owned buffers: y = x W^T + b and its
 * backward, each a single cblas_sgemm (row-major).  No allocation, no layer
 * object; the naive loop version lives in tests/test_dense.c as the reference. */
#include "ic/dense.h"
#include "ic/error.h"
#include <cblas.h>
#include <stddef.h>
#include <string.h>

/* x (n,in), w (out,in), b (out) or NULL, y (n,out):
 *   y[i][o] = b[o] + sum_k x[i][k] * w[o][k]
 * y is pre-filled with the bias rows so sgemm can add the product (beta = 1). */
void ic_dense_forward(int n, int in, int out, const float *x, const float *w,
                      const float *b, float *y) {
    IC_ASSERT(n >= 0 && in >= 0 && out >= 0);
    if (n == 0 || out == 0) return;
    if (b) {
        for (int i = 0; i < n; i++) memcpy(y + (size_t)i * out, b, (size_t)out * sizeof *y);
    } else {
        memset(y, 0, (size_t)n * out * sizeof *y);
    }
    if (in == 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0f, x, in, w, in,
                1.0f, y, out);
}

/* dy (n,out):
 *   dx (n,in)   += dy W        (skipped when dx is NULL)
 *   dw (out,in) += dy^T x
 *   db (out)    += sum_i dy[i] (skipped when db is NULL) */
void ic_dense_backward(int n, int in, int out, const float *x, const float *w,
                       const float *dy, float *dx, float *dw, float *db) {
    IC_ASSERT(n >= 0 && in >= 0 && out >= 0);
    if (n == 0 || out == 0) return;
    if (in > 0) {
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0f, dy, out,
                        w, in, 1.0f, dx, in);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0f, dy, out, x, in,
                    1.0f, dw, in);
    }
    if (db) {
        for (int i = 0; i < n; i++) {
            const float *r = dy + (size_t)i * out;
            for (int o = 0; o < out; o++) db[o] += r[o];
        }
    }
}
