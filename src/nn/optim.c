/* Optimiser steps on flat float arrays (SGD with momentum / Nesterov as in
 * PyTorch, AdamW with decoupled weight decay) and learning-rate schedules.
 * Not a parameter registry: the caller decides which arrays get decay and
 * owns the moment buffers (zeroed before the first step). */
#include "ic/optim.h"
#include "ic/error.h"
#include <math.h>

/* Below this many elements the thread start-up costs more than the work. */
#define IC_OPT_PAR_MIN 65536

/* p,g,v (n).  g' = g + wd*p; v = momentum*v + g';
 * p -= lr * (nesterov ? g' + momentum*v : v).
 * PyTorch starts its buffer at g' on the first step, which equals
 * momentum*0 + g' for a zeroed v.  v may be NULL when momentum is 0. */
void ic_sgd_step(size_t n, float *p, const float *g, float *v, float lr, float momentum,
                 float weight_decay, int nesterov) {
    IC_ASSERT(v != NULL || momentum == 0.0f);
#pragma omp parallel for if (n > IC_OPT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] + weight_decay * p[i];
        float vi = gi;
        if (v) {
            vi = momentum * v[i] + gi;
            v[i] = vi;
        }
        p[i] -= lr * (nesterov ? gi + momentum * vi : vi);
    }
}

/* p,g,m,v (n); t >= 1 is the 1-based step used for bias correction.
 *   p -= lr*wd*p   (decoupled: uses p before this step's update)
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps) */
void ic_adamw_step(size_t n, float *p, const float *g, float *m, float *v, float lr,
                   float beta1, float beta2, float eps, float weight_decay, long t) {
    IC_ASSERT(t >= 1);
    const float bc1 = (float)(1.0 - pow(beta1, (double)t));
    const float bc2 = (float)(1.0 - pow(beta2, (double)t));
    const float decay = 1.0f - lr * weight_decay;
#pragma omp parallel for if (n > IC_OPT_PAR_MIN) schedule(static)
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - lr * (mi / bc1) / (sqrtf(vi / bc2) + eps);
    }
}

/* Warmup (all kinds): step s < W gives base * (s+1)/W, a linear ramp whose
 * first step is already useful (not 0) and which reaches base at s = W-1.
 * After warmup, with u = s - W steps since warmup ended:
 *   constant: base
 *   cosine:   min + (base-min) * (1 + cos(pi * u / (T-W))) / 2, clamped to min
 *             from s = T on (T = total_steps, counted from step 0)
 *   step:     base * gamma^floor(u / step_size) */
float ic_lr_at(const ic_lr_schedule *s, long step) {
    IC_ASSERT(s != NULL && step >= 0 && s->warmup_steps >= 0);
    if (step < s->warmup_steps)
        return (float)((double)s->base_lr * (double)(step + 1) / (double)s->warmup_steps);
    const long u = step - s->warmup_steps;
    switch (s->kind) {
    case IC_SCHED_CONSTANT:
        return s->base_lr;
    case IC_SCHED_COSINE: {
        const long span = s->total_steps - s->warmup_steps;
        if (span <= 0 || u >= span) return s->min_lr;
        const double frac = (double)u / (double)span;
        const double c = 0.5 * (1.0 + cos(M_PI * frac));
        return (float)(s->min_lr + ((double)s->base_lr - s->min_lr) * c);
    }
    case IC_SCHED_STEP:
        IC_ASSERT(s->step_size > 0);
        return (float)((double)s->base_lr * pow(s->gamma, (double)(u / s->step_size)));
    }
    IC_ASSERT(!"unknown schedule kind");
    return 0.0f;
}
