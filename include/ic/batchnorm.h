/* Batch normalisation over (n, hw) per channel c; works for conv (hw>1) and
 * dense (hw=1) activations.  Training mode uses batch statistics and updates
 * the running ones (biased variance for normalising, unbiased for the running
 * estimate, as PyTorch); eval mode uses the running statistics.
 * Backward ADDS into dgamma, dbeta, and into dx unless d->assign. */
#ifndef IC_BATCHNORM_H
#define IC_BATCHNORM_H

typedef struct {
    int n, c, hw;
    float eps, momentum;
    int relu;   /* 1: the forward passes also apply a ReLU (one pass over memory) */
    int assign; /* 1: backward overwrites dx instead of adding (no zeroing pass first) */
} ic_bn_dims;

/* x,y (n,c,hw); gamma,beta,run_mean,run_var,save_mean,save_invstd (c).
 * run = (1-momentum)*run + momentum*batch. */
void ic_batchnorm_forward_train(const ic_bn_dims *d, const float *x, const float *gamma,
                                const float *beta, float *y, float *save_mean,
                                float *save_invstd, float *run_mean, float *run_var);
void ic_batchnorm_forward_eval(const ic_bn_dims *d, const float *x, const float *gamma,
                               const float *beta, const float *run_mean,
                               const float *run_var, float *y);
/* Gradient of the training-mode forward (d->relu == 0). */
void ic_batchnorm_backward(const ic_bn_dims *d, const float *x, const float *gamma,
                           const float *save_mean, const float *save_invstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta);
/* Gradient of the fused forward (d->relu == 1): y is its output and dy the
 * gradient with respect to y. */
void ic_batchnorm_relu_backward(const ic_bn_dims *d, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *y,
                                const float *dy, float *dx, float *dgamma, float *dbeta);
#endif
