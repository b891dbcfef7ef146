/* Max pooling (no padding, floor output size, argmax kept for backward) and
 * global average pooling, NCHW float32.  OpenMP over the n*c planes: planes
 * are independent, so the results do not depend on the thread count.
 * Not here: average pooling with a window, padding, ceil mode. */
#include "ic/pool.h"
#include "ic/error.h"
#include <stddef.h>
#include <string.h>

int ic_maxpool_out_h(const ic_maxpool_dims *d) { return (d->h - d->kh) / d->stride_h + 1; }
int ic_maxpool_out_w(const ic_maxpool_dims *d) { return (d->w - d->kw) / d->stride_w + 1; }

static void check_dims(const ic_maxpool_dims *d) {
    IC_ASSERT(d->n > 0 && d->c > 0 && d->kh > 0 && d->kw > 0);
    IC_ASSERT(d->stride_h > 0 && d->stride_w > 0 && d->h >= d->kh && d->w >= d->kw);
}

/* y[p][oy][ox] = max over the kh x kw window at (oy*sh, ox*sw) of plane p;
 * argmax holds the index iy*w + ix of the first maximum (row-major order).
 * A NaN in the window wins (it is propagated, not hidden).
 * The taps are the outer loops and the output columns the inner one, with
 * y and argmax rows as the running state, and the selects are bit masks
 * (gcc turns ?: into branches, which mispredict half the time on real
 * activations): the column loop then vectorises under `omp simd`.  Measured
 * single-threaded on (32,32,64,128), 2x2: 33 ms per-window with branches,
 * 20 ms with masks, 4.4 ms vectorised.  x must not overlap y or argmax. */
void ic_maxpool_forward(const ic_maxpool_dims *d, const float *x, float *y, int32_t *argmax) {
    check_dims(d);
    const int H = d->h, W = d->w, OH = ic_maxpool_out_h(d), OW = ic_maxpool_out_w(d);
    const int sh = d->stride_h, sw = d->stride_w, planes = d->n * d->c;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * H * W;
        for (int oy = 0; oy < OH; oy++) {
            float *yr = y + ((size_t)p * OH + oy) * OW;
            int32_t *ar = argmax + ((size_t)p * OH + oy) * OW;
            const int row0 = oy * sh * W;
            for (int ox = 0; ox < OW; ox++) {
                yr[ox] = xp[row0 + ox * sw];
                ar[ox] = row0 + ox * sw;
            }
            for (int ki = 0; ki < d->kh; ki++) {
                for (int kj = (ki == 0); kj < d->kw; kj++) {
                    const int base = row0 + ki * W + kj;
                    #pragma omp simd
                    for (int ox = 0; ox < OW; ox++) {
                        int idx = base + ox * sw;
                        float v = xp[idx], bv = yr[ox];
                        uint32_t m = 0u - (uint32_t)((v > bv) | ((v != v) & (bv == bv)));
                        uint32_t vb, bb;
                        memcpy(&vb, &v, sizeof vb);
                        memcpy(&bb, &bv, sizeof bb);
                        bb = (vb & m) | (bb & ~m);
                        memcpy(&yr[ox], &bb, sizeof bb);
                        ar[ox] = (int32_t)(((uint32_t)idx & m) | ((uint32_t)ar[ox] & ~m));
                    }
                }
            }
        }
    }
}

/* dx[p][argmax[p][o]] += dy[p][o].  Overlapping windows (stride < kernel)
 * may hit the same input twice; one plane is one thread, so no races. */
void ic_maxpool_backward(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx) {
    check_dims(d);
    const int HW = d->h * d->w, OHW = ic_maxpool_out_h(d) * ic_maxpool_out_w(d);
    const int planes = d->n * d->c;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *g = dy + (size_t)p * OHW;
        const int32_t *a = argmax + (size_t)p * OHW;
        float *xp = dx + (size_t)p * HW;
        for (int o = 0; o < OHW; o++) {
            IC_ASSERT(a[o] >= 0 && a[o] < HW);
            xp[a[o]] += g[o];
        }
    }
}

/* y[p] = (1/hw) sum_i x[p][i], summed in double. */
void ic_gap_forward(int n, int c, int hw, const float *x, float *y) {
    IC_ASSERT(n > 0 && c > 0 && hw > 0);
    const int planes = n * c;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *xp = x + (size_t)p * hw;
        double s = 0;
        for (int i = 0; i < hw; i++) s += xp[i];
        y[p] = (float)(s / hw);
    }
}

/* dx[p][i] += dy[p] / hw. */
void ic_gap_backward(int n, int c, int hw, const float *dy, float *dx) {
    IC_ASSERT(n > 0 && c > 0 && hw > 0);
    const int planes = n * c;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        float g = dy[p] / (float)hw;
        float *xp = dx + (size_t)p * hw;
        for (int i = 0; i < hw; i++) xp[i] += g;
    }
}
