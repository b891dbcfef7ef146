/* Max pooling (no padding, floor output size, argmax kept for backward) and
 * global average pooling, NCHW float32.  OpenMP over the n*c planes: planes
 * are independent, so the results do not depend on the thread count.
 * Not here: average pooling with a window, padding, ceil mode. */
#include "ic/pool.h"
#include "ic/error.h"
#include "ic/simd.h"
#include <stddef.h>
#include <string.h>

int ic_maxpool_out_h(const ic_maxpool_dims *d) { return (d->h - d->kh) / d->stride_h + 1; }
int ic_maxpool_out_w(const ic_maxpool_dims *d) { return (d->w - d->kw) / d->stride_w + 1; }

static void check_dims(const ic_maxpool_dims *d) {
    IC_ASSERT(d->n > 0 && d->c > 0 && d->kh > 0 && d->kw > 0);
    IC_ASSERT(d->stride_h > 0 && d->stride_w > 0 && d->h >= d->kh && d->w >= d->kw);
}

/* Whether v replaces the running maximum bv, as an all-ones/all-zeros mask:
 * v is larger, or v is a NaN and bv is not (a NaN in the window wins, it is
 * propagated, not hidden).  Bit masks, not ?: -- gcc turns ?: into branches,
 * which mispredict half the time on real activations, and masks vectorise. */
static inline __attribute__((always_inline)) uint32_t takes(float v, float bv) {
    return 0u - (uint32_t)((v > bv) | ((v != v) & (bv == bv)));
}
static inline __attribute__((always_inline)) float pick(float v, float bv, uint32_t m) {
    uint32_t vb, bb;
    memcpy(&vb, &v, sizeof vb);
    memcpy(&bb, &bv, sizeof bb);
    bb = (vb & m) | (bb & ~m);
    memcpy(&bv, &bb, sizeof bb);
    return bv;
}

/* Any window: the taps are the outer loops and the output columns the inner
 * one, with y and argmax rows as the running state, so the column loop
 * vectorises under `omp simd`.  Measured single-threaded on (32,32,64,128),
 * 2x2: 33 ms per-window with branches, 20 ms with masks, 4.4 ms vectorised.
 * `keep` (a constant after inlining) says whether argmax is written. */
static inline __attribute__((always_inline)) void pool_plane(const ic_maxpool_dims *d, const float *xp, float *y, int32_t *am,
                              int OH, int OW, const int keep) {
    const int W = d->w, sh = d->stride_h, sw = d->stride_w;
    for (int oy = 0; oy < OH; oy++) {
        float *yr = y + (size_t)oy * OW;
        int32_t *ar = keep ? am + (size_t)oy * OW : NULL;
        const int row0 = oy * sh * W;
        for (int ox = 0; ox < OW; ox++) {
            yr[ox] = xp[row0 + ox * sw];
            if (keep) ar[ox] = row0 + ox * sw;
        }
        for (int ki = 0; ki < d->kh; ki++) {
            for (int kj = (ki == 0); kj < d->kw; kj++) {
                const int base = row0 + ki * W + kj;
                #pragma omp simd
                for (int ox = 0; ox < OW; ox++) {
                    const int idx = base + ox * sw;
                    const uint32_t m = takes(xp[idx], yr[ox]);
                    yr[ox] = pick(xp[idx], yr[ox], m);
                    if (keep) ar[ox] = (int32_t)(((uint32_t)idx & m) | ((uint32_t)ar[ox] & ~m));
                }
            }
        }
    }
}

/* 2x2 windows with stride 2 (every pool of the reference CNN): one pass per
 * output row with the four taps in registers, instead of four passes over
 * the y and argmax rows; on 1 thread at batch 1-2 the generic loop was 14%
 * of bench_engine's time. */
static inline __attribute__((always_inline)) void pool2x2_plane(const float *xp, int W, float *y, int32_t *am, int OH, int OW,
                                 const int keep) {
    for (int oy = 0; oy < OH; oy++) {
        const int r0 = 2 * oy * W;
        const float *a = xp + r0, *b = a + W;
        float *yr = y + (size_t)oy * OW;
        int32_t *ar = keep ? am + (size_t)oy * OW : NULL;
        #pragma omp simd
        for (int ox = 0; ox < OW; ox++) {
            float best = a[2 * ox];
            uint32_t at = (uint32_t)(r0 + 2 * ox), m;
            m = takes(a[2 * ox + 1], best);
            best = pick(a[2 * ox + 1], best, m);
            at = ((at + 1) & m) | (at & ~m);
            m = takes(b[2 * ox], best);
            best = pick(b[2 * ox], best, m);
            at = ((uint32_t)(r0 + W + 2 * ox) & m) | (at & ~m);
            m = takes(b[2 * ox + 1], best);
            best = pick(b[2 * ox + 1], best, m);
            at = ((uint32_t)(r0 + W + 2 * ox + 1) & m) | (at & ~m);
            yr[ox] = best;
            if (keep) ar[ox] = (int32_t)at;
        }
    }
}

/* One plane, in the variant its shape and argmax ask for. */
IC_VEC_CLONES
static void pool_one(const ic_maxpool_dims *d, const float *xp, float *yp, int32_t *ap, int OH, int OW) {
    const int two = d->kh == 2 && d->kw == 2 && d->stride_h == 2 && d->stride_w == 2;
    if (two && ap) pool2x2_plane(xp, d->w, yp, ap, OH, OW, 1);
    else if (two) pool2x2_plane(xp, d->w, yp, NULL, OH, OW, 0);
    else if (ap) pool_plane(d, xp, yp, ap, OH, OW, 1);
    else pool_plane(d, xp, yp, NULL, OH, OW, 0);
}

/* y[p][oy][ox] = max over the kh x kw window at (oy*sh, ox*sw) of plane p;
 * argmax, when not NULL (training), holds the index iy*w + ix of the first
 * maximum in row-major order.  x must not overlap y or argmax. */
void ic_maxpool_forward(const ic_maxpool_dims *d, const float *x, float *y, int32_t *argmax) {
    check_dims(d);
    const int H = d->h, W = d->w, OH = ic_maxpool_out_h(d), OW = ic_maxpool_out_w(d);
    const int planes = d->n * d->c;
    const size_t po = (size_t)OH * OW;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++)
        pool_one(d, x + (size_t)p * H * W, y + (size_t)p * po, argmax ? argmax + (size_t)p * po : NULL, OH, OW);
}

/* dx[p][argmax[p][o]] += dy[p][o], after zeroing each plane when assign
 * (in cache, just before its scatter: cheaper than a separate zeroing pass).
 * Overlapping windows (stride < kernel) may hit the same input twice; one
 * plane is one thread, so no races. */
static void backward(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx, int assign) {
    check_dims(d);
    const int HW = d->h * d->w, OHW = ic_maxpool_out_h(d) * ic_maxpool_out_w(d);
    const int planes = d->n * d->c;
    #pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; p++) {
        const float *g = dy + (size_t)p * OHW;
        const int32_t *a = argmax + (size_t)p * OHW;
        float *xp = dx + (size_t)p * HW;
        if (assign) memset(xp, 0, sizeof(float) * (size_t)HW);
        for (int o = 0; o < OHW; o++) {
            IC_ASSERT(a[o] >= 0 && a[o] < HW);
            xp[a[o]] += g[o];
        }
    }
}

void ic_maxpool_backward(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx) {
    backward(d, dy, argmax, dx, 0);
}

void ic_maxpool_backward_set(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx) {
    backward(d, dy, argmax, dx, 1);
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
