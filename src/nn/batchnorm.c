/* Batch normalisation kernels: training forward (batch statistics, running
 * estimate update), eval forward (running statistics) and the backward of the
 * training forward.  Layout is (n, c, hw) row-major; statistics are per channel
 * over the n*hw values.  Not a layer object: the caller owns every buffer.
 * Channels are independent, so each kernel is one OpenMP loop over channels.
 * Each image's plane is summed in float by a vectorised loop and the planes'
 * sums are added in double, so large batches do not drift; the element loops
 * are float and `omp simd` (in double they ran scalar: 9% of a training step). */
#include "ic/batchnorm.h"
#include "ic/error.h"
#include "ic/simd.h"
#include <math.h>
#include <stddef.h>

/* Below this many elements the thread start-up costs more than the work. */
#define IC_BN_PAR_MIN 32768

static void check_dims(const ic_bn_dims *d) {
    IC_ASSERT(d != NULL);
    IC_ASSERT(d->n > 0 && d->c > 0 && d->hw > 0);
    IC_ASSERT(d->eps >= 0.0f);
}

/* Channel ch of every image: y = (x - mean) * scale + shift, then max(0, .)
 * when d->relu.  Shared by the training and eval forwards. */
IC_VEC_CLONES
static void apply_channel(const ic_bn_dims *d, const float *x, float *y, int ch, float mean,
                          float scale, float shift) {
    const int n = d->n, c = d->c, hw = d->hw;
    for (int i = 0; i < n; i++) {
        const float *xc = x + ((size_t)i * c + ch) * hw;
        float *yc = y + ((size_t)i * c + ch) * hw;
        if (d->relu) {
            #pragma omp simd
            for (int j = 0; j < hw; j++) {
                const float v = (xc[j] - mean) * scale + shift;
                yc[j] = v > 0.0f ? v : 0.0f;
            }
        } else {
            #pragma omp simd
            for (int j = 0; j < hw; j++) yc[j] = (xc[j] - mean) * scale + shift;
        }
    }
}

/* Sums over a plane go to SUM_LANES fixed lanes (element j to lane j %
 * SUM_LANES) added in order at the end: the same bits from the baseline
 * build and the AVX2 clone, where `omp simd reduction` would follow the
 * vector width. */
#define SUM_LANES 8
static inline __attribute__((always_inline)) float lanes_total(const float *acc) {
    float s = 0.0f;
    for (int l = 0; l < SUM_LANES; l++) s += acc[l];
    return s;
}

/* Channel ch's mean, and its sum of squared deviations from the mean
 * (rounded to float, as the normalisation uses it). */
IC_VEC_CLONES
static void channel_stats(const ic_bn_dims *d, const float *x, int ch, double *mean_out, double *ss_out) {
    const int n = d->n, c = d->c, hw = d->hw, full = hw - hw % SUM_LANES;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *xc = x + ((size_t)i * c + ch) * hw;
        float acc[SUM_LANES] = {0};
        for (int j = 0; j < full; j += SUM_LANES)
            for (int l = 0; l < SUM_LANES; l++) acc[l] += xc[j + l];
        for (int j = full; j < hw; j++) acc[j - full] += xc[j];
        sum += lanes_total(acc);
    }
    const double mean = sum / ((double)n * hw);
    const float meanf = (float)mean;
    double ss = 0.0;
    for (int i = 0; i < n; i++) {
        const float *xc = x + ((size_t)i * c + ch) * hw;
        float acc[SUM_LANES] = {0};
        for (int j = 0; j < full; j += SUM_LANES)
            for (int l = 0; l < SUM_LANES; l++) { const float t = xc[j + l] - meanf; acc[l] += t * t; }
        for (int j = full; j < hw; j++) { const float t = xc[j] - meanf; acc[j - full] += t * t; }
        ss += lanes_total(acc);
    }
    *mean_out = mean;
    *ss_out = ss;
}

/* x,y (n,c,hw); gamma,beta,save_*,run_* (c).  With d->relu, y = max(0, .).
 *   mean = sum x / m,  var = sum (x-mean)^2 / m        (m = n*hw, biased)
 *   y = gamma * (x-mean) / sqrt(var+eps) + beta
 *   run_mean = (1-mom)*run_mean + mom*mean
 *   run_var  = (1-mom)*run_var  + mom*var*m/(m-1)     (unbiased)
 * With m == 1 the unbiased estimate is undefined (PyTorch refuses); the biased
 * one (0) is used instead so a stray batch of one cannot poison run_var. */
void ic_batchnorm_forward_train(const ic_bn_dims *d, const float *x, const float *gamma,
                                const float *beta, float *y, float *save_mean,
                                float *save_invstd, float *run_mean, float *run_var) {
    check_dims(d);
    const int n = d->n, c = d->c, hw = d->hw;
    const size_t m = (size_t)n * (size_t)hw;
    const double mom = d->momentum, eps = d->eps;
    const size_t total = m * (size_t)c;

#pragma omp parallel for if (total > IC_BN_PAR_MIN) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        double mean, ss;
        channel_stats(d, x, ch, &mean, &ss);
        const float meanf = (float)mean;
        const double var = ss / (double)m;
        const double invstd = 1.0 / sqrt(var + eps);
        const float scale = (float)(gamma[ch] * invstd), shift = beta[ch];
        apply_channel(d, x, y, ch, meanf, scale, shift);
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)invstd;
        const double unbiased = m > 1 ? var * (double)m / (double)(m - 1) : var;
        run_mean[ch] = (float)((1.0 - mom) * run_mean[ch] + mom * mean);
        run_var[ch] = (float)((1.0 - mom) * run_var[ch] + mom * unbiased);
    }
}

/* y = gamma * (x - run_mean) / sqrt(run_var + eps) + beta, per channel. */
void ic_batchnorm_forward_eval(const ic_bn_dims *d, const float *x, const float *gamma,
                               const float *beta, const float *run_mean,
                               const float *run_var, float *y) {
    check_dims(d);
    const int n = d->n, c = d->c, hw = d->hw;
    const size_t total = (size_t)n * (size_t)hw * (size_t)c;

#pragma omp parallel for if (total > IC_BN_PAR_MIN) schedule(static)
    for (int ch = 0; ch < c; ch++) {
        const float scale = (float)(gamma[ch] / sqrt((double)run_var[ch] + d->eps));
        const float mean = run_mean[ch], shift = beta[ch];
        apply_channel(d, x, y, ch, mean, scale, shift);
    }
}

/* Sums over one image's plane of channel ch, in fixed lanes: p = sum g,
 * q = sum g * xh, with g the gradient reaching the batch norm (dy, or dy
 * where y > 0 after a fused ReLU).  relu is a constant after inlining. */
static inline __attribute__((always_inline)) void plane_sums(const float *x, const float *y, const float *dy,
                                                             int hw, float mean, float inv, float *p_out,
                                                             float *q_out, const int relu) {
    float p[SUM_LANES] = {0}, q[SUM_LANES] = {0};
    const int full = hw - hw % SUM_LANES;
    for (int j = 0; j < full; j += SUM_LANES)
        for (int l = 0; l < SUM_LANES; l++) {
            const float g0 = dy[j + l], g = relu ? (y[j + l] > 0.0f ? g0 : 0.0f) : g0;
            p[l] += g;
            q[l] += g * ((x[j + l] - mean) * inv);
        }
    for (int j = full; j < hw; j++) {
        const float g0 = dy[j], g = relu ? (y[j] > 0.0f ? g0 : 0.0f) : g0;
        p[j - full] += g;
        q[j - full] += g * ((x[j] - mean) * inv);
    }
    *p_out = lanes_total(p);
    *q_out = lanes_total(q);
}

/* dx (+)= a*g - bb - xh*e over one plane; relu and assign are constants. */
static inline __attribute__((always_inline)) void plane_dx(const float *x, const float *y, const float *dy,
                                                           float *dx, int hw, float mean, float inv, float a,
                                                           float bb, float e, const int relu, const int assign) {
    #pragma omp simd
    for (int j = 0; j < hw; j++) {
        const float g0 = dy[j], g = relu ? (y[j] > 0.0f ? g0 : 0.0f) : g0;   /* loads unconditional: vectorises */
        const float xh = (x[j] - mean) * inv;
        const float v = a * g - bb - xh * e;
        if (assign) dx[j] = v;
        else dx[j] += v;
    }
}

/* One channel of the backward pass (see backward below). */
IC_VEC_CLONES
static void backward_channel(const ic_bn_dims *d, const float *x, const float *gamma,
                             const float *save_mean, const float *save_invstd, const float *y,
                             const float *dy, float *dx, float *dgamma, float *dbeta, int ch) {
    const int n = d->n, c = d->c, hw = d->hw;
    const size_t m = (size_t)n * (size_t)hw;
    const float mean = save_mean[ch], inv = save_invstd[ch];
    double sdy = 0.0, sdyxh = 0.0;
    for (int i = 0; i < n; i++) {
        const size_t o = ((size_t)i * c + ch) * hw;
        float p, q;
        if (y) plane_sums(x + o, y + o, dy + o, hw, mean, inv, &p, &q, 1);
        else plane_sums(x + o, NULL, dy + o, hw, mean, inv, &p, &q, 0);
        sdy += p;
        sdyxh += q;
    }
    dbeta[ch] += (float)sdy;
    dgamma[ch] += (float)sdyxh;
    if (!dx) return;
    /* dx += a*dy - b - xh*e, the formula above with m folded in */
    const float a = (float)(gamma[ch] * (double)inv), bb = (float)(gamma[ch] * (double)inv * sdy / (double)m),
                e = (float)(gamma[ch] * (double)inv * sdyxh / (double)m);
    for (int i = 0; i < n; i++) {
        const size_t o = ((size_t)i * c + ch) * hw;
        const float *yo = y ? y + o : NULL;
        if (y && d->assign) plane_dx(x + o, yo, dy + o, dx + o, hw, mean, inv, a, bb, e, 1, 1);
        else if (y) plane_dx(x + o, yo, dy + o, dx + o, hw, mean, inv, a, bb, e, 1, 0);
        else if (d->assign) plane_dx(x + o, NULL, dy + o, dx + o, hw, mean, inv, a, bb, e, 0, 1);
        else plane_dx(x + o, NULL, dy + o, dx + o, hw, mean, inv, a, bb, e, 0, 0);
    }
}

/* x,dy,dx (n,c,hw); gamma,save_*,dgamma,dbeta (c).  With xh = (x-mean)*invstd:
 *   dbeta  += sum dy
 *   dgamma += sum dy*xh
 *   dx     += gamma*invstd/m * (m*dy - sum dy - xh * sum dy*xh)
 * (the last two terms are the paths through the batch mean and variance).
 * dx may be NULL when the input needs no gradient.
 * With y != NULL the forward was fused with a ReLU whose output is y: the
 * gradient reaching the batch norm is dy where y > 0 and 0 elsewhere. */
static void backward(const ic_bn_dims *d, const float *x, const float *gamma,
                     const float *save_mean, const float *save_invstd, const float *y,
                     const float *dy, float *dx, float *dgamma, float *dbeta) {
    check_dims(d);
    const size_t total = (size_t)d->n * (size_t)d->hw * (size_t)d->c;
#pragma omp parallel for if (total > IC_BN_PAR_MIN) schedule(static)
    for (int ch = 0; ch < d->c; ch++)
        backward_channel(d, x, gamma, save_mean, save_invstd, y, dy, dx, dgamma, dbeta, ch);
}

void ic_batchnorm_backward(const ic_bn_dims *d, const float *x, const float *gamma,
                           const float *save_mean, const float *save_invstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta) {
    IC_ASSERT(!d->relu);
    backward(d, x, gamma, save_mean, save_invstd, NULL, dy, dx, dgamma, dbeta);
}

void ic_batchnorm_relu_backward(const ic_bn_dims *d, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *y,
                                const float *dy, float *dx, float *dgamma, float *dbeta) {
    IC_ASSERT(d->relu && y);
    backward(d, x, gamma, save_mean, save_invstd, y, dy, dx, dgamma, dbeta);
}
