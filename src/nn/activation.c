/* Element-wise layer kernels: ReLU and inverted dropout, forward and backward.
 * Backward ADDS into dx.  The dropout mask is drawn serially from the caller's
 * ic_rng so a seed reproduces it exactly whatever the thread count; the scaling
 * loops are OpenMP-parallel only when the arrays are large. */
#include "ic/activation.h"
#include "ic/error.h"
#include <string.h>

/* Below this many elements the thread start-up costs more than the work. */
#define IC_ACT_PAR_MIN 65536

/* x,y (n); y may alias x (element i reads only x[i], so `omp simd` holds:
 * without it gcc emitted a scalar loop with a branch that mispredicts on
 * half of the values, 23% of a training step). */
void ic_relu_forward(size_t n, const float *x, float *y) {
#pragma omp parallel for simd if (n > IC_ACT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : 0.0f;
    }
}

/* y,dy,dx (n); the derivative at 0 is taken as 0 (y == 0 there). */
void ic_relu_backward(size_t n, const float *y, const float *dy, float *dx) {
#pragma omp parallel for simd if (n > IC_ACT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dy[i];   /* loaded unconditionally, or gcc keeps a scalar branch */
        dx[i] += y[i] > 0.0f ? g : 0.0f;
    }
}

/* x,y,mask (n); y may alias x.  mask[i] = 1 when u_i >= p for u_i uniform in
 * [0,1) (probability 1-p), then y = x * mask / (1-p), so E[y] = x.
 * p == 0 copies, marks every element kept and draws nothing from rng. */
void ic_dropout_forward(size_t n, float p, const float *x, float *y, uint8_t *mask, ic_rng *rng) {
    IC_ASSERT(p >= 0.0f && p < 1.0f);
    if (p == 0.0f) {
        if (y != x) memcpy(y, x, n * sizeof *y);
        memset(mask, 1, n);
        return;
    }
    IC_ASSERT(rng != NULL);
    for (size_t i = 0; i < n; i++) mask[i] = ic_rng_uniform(rng) >= p;
    const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd if (n > IC_ACT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = mask[i] ? x[i] * scale : 0.0f;
}

/* mask,dy,dx (n): dx += dy * mask / (1-p), the same mask as the forward. */
void ic_dropout_backward(size_t n, float p, const uint8_t *mask, const float *dy, float *dx) {
    IC_ASSERT(p >= 0.0f && p < 1.0f);
    const float scale = 1.0f / (1.0f - p);
#pragma omp parallel for simd if (n > IC_ACT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        const float g = dy[i] * scale;
        dx[i] += mask[i] ? g : 0.0f;
    }
}
