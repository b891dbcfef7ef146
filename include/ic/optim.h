/* Optimisers (SGD with momentum, AdamW) on flat float arrays, and learning-rate
 * schedules.  Which parameters get weight decay is the caller's choice (the
 * network skips batch-norm and bias parameters); pass weight_decay 0 for them. */
#ifndef IC_OPTIM_H
#define IC_OPTIM_H
#include <stddef.h>

/* PyTorch SGD: g' = g + wd*p; v = momentum*v + g'; p -= lr * (nesterov ? g' + momentum*v : v). */
void ic_sgd_step(size_t n, float *p, const float *g, float *v, float lr, float momentum,
                 float weight_decay, int nesterov);
/* AdamW (decoupled decay), t = 1-based step number:
 * p -= lr*wd*p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps). */
void ic_adamw_step(size_t n, float *p, const float *g, float *m, float *v, float lr,
                   float beta1, float beta2, float eps, float weight_decay, long t);

typedef enum { IC_SCHED_CONSTANT = 0, IC_SCHED_COSINE, IC_SCHED_STEP } ic_sched_kind;
typedef struct {
    ic_sched_kind kind;
    float base_lr;
    long warmup_steps;   /* linear ramp from 0 to base_lr over these steps */
    long total_steps;    /* cosine: decays to min_lr at total_steps */
    float min_lr;
    long step_size;      /* step: multiply by gamma every step_size steps */
    float gamma;
} ic_lr_schedule;

/* Learning rate for 0-based step number `step`. */
float ic_lr_at(const ic_lr_schedule *s, long step);
#endif
