/* Forward and backward passes of an ic_net: walks the trunk's layers, then
 * every head, using the layer ops in src/nn on the net's arena. */
#include "ic/net.h"
#include "ic/conv2d.h"
#include "ic/pool.h"
#include "ic/batchnorm.h"
#include "ic/dense.h"
#include "ic/activation.h"
#include <string.h>

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f

static float *A(ic_net *net, size_t off) { return net->arena + off; }
static float *P(ic_net *net, int idx) { return idx < 0 ? NULL : net->param + net->params[idx].offset; }
static float *G(ic_net *net, int idx) { return idx < 0 ? NULL : net->grad + net->params[idx].offset; }
static float *B(ic_net *net, int idx) { return net->buf + net->bufs[idx].offset; }

float *ic_net_logits(ic_net *net, int h) { IC_ASSERT(h >= 0 && h < net->n_heads); return A(net, net->heads[h].logits); }
float *ic_net_dlogits(ic_net *net, int h) {
    IC_ASSERT(h >= 0 && h < net->n_heads && !net->eval_only);
    return A(net, net->heads[h].dlogits);
}

static const float *layer_input(ic_net *net, int i) {
    return i == 0 ? net->input : A(net, net->layers[i - 1].act);
}
static float *layer_dinput(ic_net *net, int i) {
    return i == 0 ? NULL : A(net, net->layers[i - 1].dact);
}
/* A batch norm directly followed by a ReLU runs as one fused op (one pass over
 * the activations instead of two each way; the BN's own output and gradient
 * buffers then go unused). */
static int bn_relu_fused(const ic_net *net, int i) {
    return net->layers[i].kind == IC_L_BN && i + 1 < net->n_layers && net->layers[i + 1].kind == IC_L_RELU;
}

static const float *trunk_output(ic_net *net) {
    return net->n_layers ? A(net, net->layers[net->n_layers - 1].act) : net->input;
}

void ic_net_forward(ic_net *net, const float *x, int n, int training, ic_rng *rng) {
    IC_ASSERT(n > 0 && n <= net->batch_cap);
    IC_ASSERT(!training || rng);
    IC_ASSERT(!training || !net->eval_only);   /* training needs ic_net_reserve's arena */
    net->input = x; net->batch = n; net->training = training;
    for (int i = 0; i < net->n_layers; i++) {
        ic_layer *L = &net->layers[i];
        const float *in = layer_input(net, i);
        float *out = A(net, L->act);
        size_t count = (size_t)n * L->c * L->h * L->w;
        switch (L->kind) {
        case IC_L_CONV: {
            ic_conv2d_dims d = {n, L->in_c, L->in_h, L->in_w, L->out, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, net->conv_threads};
            ic_conv2d_forward(&d, in, P(net, L->w_param), P(net, L->b_param), out, net->scratch);
            break;
        }
        case IC_L_BN: {
            const int fuse = bn_relu_fused(net, i);
            ic_bn_dims d = {n, L->c, L->h * L->w, BN_EPS, BN_MOMENTUM, fuse, 0};
            if (fuse) out = A(net, net->layers[i + 1].act);
            if (training) {
                float *save = A(net, L->aux);
                ic_batchnorm_forward_train(&d, in, P(net, L->w_param), P(net, L->b_param), out, save,
                                           save + L->c, B(net, L->mean_buf), B(net, L->var_buf));
            } else
                ic_batchnorm_forward_eval(&d, in, P(net, L->w_param), P(net, L->b_param),
                                          B(net, L->mean_buf), B(net, L->var_buf), out);
            i += fuse;   /* the ReLU is done */
            break;
        }
        case IC_L_RELU: ic_relu_forward(count, in, out); break;
        case IC_L_MAXPOOL: {
            ic_maxpool_dims d = {n, L->in_c, L->in_h, L->in_w, L->kh, L->kw, L->sh, L->sw};
            ic_maxpool_forward(&d, in, out, training ? (int32_t *)A(net, L->aux) : NULL);
            break;
        }
        case IC_L_GAP: ic_gap_forward(n, L->in_c, L->in_h * L->in_w, in, out); break;
        case IC_L_TIMEPOOL: ic_gap_forward(n, L->in_c * L->in_h, L->in_w, in, out); break; /* rows (c,h) */
        case IC_L_FLATTEN: memcpy(out, in, count * sizeof(float)); break;
        case IC_L_DENSE:
            ic_dense_forward(n, L->in_c * L->in_h * L->in_w, L->out, in, P(net, L->w_param), P(net, L->b_param), out);
            break;
        case IC_L_DROPOUT:
            if (training && L->p > 0) ic_dropout_forward(count, L->p, in, out, (uint8_t *)A(net, L->aux), rng);
            else memcpy(out, in, count * sizeof(float));
            break;
        }
    }
    const float *feat = trunk_output(net);
    for (int h = 0; h < net->n_heads; h++) {
        ic_head *H = &net->heads[h];
        ic_dense_forward(n, net->feat_dim, H->classes, feat, P(net, H->w_param), P(net, H->b_param), A(net, H->logits));
    }
}

/* Zeroes x (n floats) with every thread: one core alone leaves memory
 * bandwidth unused while the others wait (the activation gradients are
 * ~150 MB a step for the reference CNN at batch 36; 6% of a step serially). */
static void zero_floats(float *x, size_t n) {
    const size_t chunk = 16384;
    const long chunks = (long)((n + chunk - 1) / chunk);
    #pragma omp parallel for schedule(static) if (chunks > 4)
    for (long c = 0; c < chunks; c++) {
        size_t a = (size_t)c * chunk, len = n - a < chunk ? n - a : chunk;
        memset(x + a, 0, len * sizeof(float));
    }
}

/* Whether layer i's output gradient is written whole (not added to) by the
 * backward of the layer after it: batch norm and max pool overwrite their
 * input gradient, so that buffer needs no zeroing first.  (The trunk's last
 * output gradient is added to by every head.) */
static int dact_overwritten(const ic_net *net, int i) {
    if (i + 1 >= net->n_layers) return 0;
    const ic_layer_kind k = net->layers[i + 1].kind;
    return k == IC_L_BN || k == IC_L_MAXPOOL;
}

void ic_net_zero_grad(ic_net *net) {
    IC_ASSERT(!net->eval_only);
    memset(net->grad, 0, net->n_param_floats * sizeof(float));
    /* only the rows the backward pass will touch: a net reserved for a larger
     * inference batch than it trains with would otherwise zero them all */
    int n = net->batch > 0 && net->batch < net->batch_cap ? net->batch : net->batch_cap;
    for (int i = 0; i < net->n_layers; i++) {
        ic_layer *L = &net->layers[i];
        if (bn_relu_fused(net, i)) continue;   /* nothing reads or writes it */
        if (dact_overwritten(net, i)) continue;
        zero_floats(A(net, L->dact), (size_t)n * L->c * L->h * L->w);
    }
    for (int h = 0; h < net->n_heads; h++)
        memset(A(net, net->heads[h].dlogits), 0, (size_t)n * net->heads[h].classes * sizeof(float));
}

void ic_net_backward(ic_net *net) {
    int n = net->batch;
    IC_ASSERT(n > 0 && net->input);
    IC_ASSERT(net->training); /* backward needs the batch statistics and masks of a training forward */
    const float *feat = trunk_output(net);
    float *dfeat = net->n_layers ? A(net, net->layers[net->n_layers - 1].dact) : NULL;
    for (int h = 0; h < net->n_heads; h++) {
        ic_head *H = &net->heads[h];
        ic_dense_backward(n, net->feat_dim, H->classes, feat, P(net, H->w_param), A(net, H->dlogits), dfeat,
                          G(net, H->w_param), G(net, H->b_param));
    }
    for (int i = net->n_layers - 1; i >= 0; i--) {
        ic_layer *L = &net->layers[i];
        const float *in = layer_input(net, i);
        float *din = layer_dinput(net, i);
        const float *dout = A(net, L->dact);
        size_t count = (size_t)n * L->c * L->h * L->w;
        switch (L->kind) {
        case IC_L_CONV: {
            ic_conv2d_dims d = {n, L->in_c, L->in_h, L->in_w, L->out, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, net->conv_threads};
            ic_conv2d_backward(&d, in, P(net, L->w_param), dout, din, G(net, L->w_param), G(net, L->b_param), net->scratch);
            break;
        }
        case IC_L_BN: {
            const int fuse = bn_relu_fused(net, i);
            ic_bn_dims d = {n, L->c, L->h * L->w, BN_EPS, BN_MOMENTUM, fuse, 1};   /* dx overwritten */
            const float *save = A(net, L->aux);
            /* as layer 0 there is no input gradient: its own output, no longer read, takes it */
            float *dx = din ? din : A(net, L->act);
            if (fuse)
                ic_batchnorm_relu_backward(&d, in, P(net, L->w_param), save, save + L->c,
                                           A(net, net->layers[i + 1].act), A(net, net->layers[i + 1].dact),
                                           dx, G(net, L->w_param), G(net, L->b_param));
            else
                ic_batchnorm_backward(&d, in, P(net, L->w_param), save, save + L->c, dout, dx,
                                      G(net, L->w_param), G(net, L->b_param));
            break;
        }
        case IC_L_RELU:
            if (din && !(i > 0 && bn_relu_fused(net, i - 1))) ic_relu_backward(count, A(net, L->act), dout, din);
            break;
        case IC_L_MAXPOOL: {
            if (!din) break;
            ic_maxpool_dims d = {n, L->in_c, L->in_h, L->in_w, L->kh, L->kw, L->sh, L->sw};
            ic_maxpool_backward_set(&d, dout, (const int32_t *)A(net, L->aux), din);   /* overwrites */
            break;
        }
        case IC_L_GAP: if (din) ic_gap_backward(n, L->in_c, L->in_h * L->in_w, dout, din); break;
        case IC_L_TIMEPOOL: if (din) ic_gap_backward(n, L->in_c * L->in_h, L->in_w, dout, din); break;
        case IC_L_FLATTEN:
            if (din) for (size_t k = 0; k < count; k++) din[k] += dout[k];
            break;
        case IC_L_DENSE:
            ic_dense_backward(n, L->in_c * L->in_h * L->in_w, L->out, in, P(net, L->w_param), dout, din,
                              G(net, L->w_param), G(net, L->b_param));
            break;
        case IC_L_DROPOUT:
            if (!din) break;
            if (L->p > 0) ic_dropout_backward(count, L->p, (const uint8_t *)A(net, L->aux), dout, din);
            else for (size_t k = 0; k < count; k++) din[k] += dout[k];
            break;
        }
    }
}
