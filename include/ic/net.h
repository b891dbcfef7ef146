/* A network built from an architecture description: a sequential trunk of
 * layers (conv, bn, relu, maxpool, gap, timepool, flatten, dense, dropout) followed by one
 * or more dense heads that read the trunk output (instrument family, pitch,
 * activity...).  The same code trains and runs inference.
 *
 * Memory: parameters, gradients and optimiser moments are each one block
 * carved by a parameter table; activations, their gradients and per-layer
 * saved state live in one arena sized for the largest batch; one im2col
 * scratch is shared by every conv layer.
 *
 * Architecture JSON (also stored in the model file):
 *   {"input": [C, H, W],
 *    "layers": [{"type": "conv", "out": 32, "k": 3, "stride": 1, "pad": 1, "bias": false},
 *               {"type": "bn"}, {"type": "relu"}, {"type": "maxpool", "k": 2, "stride": 2},
 *               {"type": "gap"}, {"type": "dropout", "p": 0.3},
 *               {"type": "dense", "out": 64}, {"type": "flatten"}],
 *    "heads": [{"name": "family", "classes": 11, "labels": ["bass", ...]}]}
 * "k", "stride", "pad" take a number or [h, w].  "input" may be [D] for vectors. */
#ifndef IC_NET_H
#define IC_NET_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "ic/error.h"
#include "ic/rng.h"
#include "ic/icw.h"

#define IC_NET_MAX_HEADS 8
#define IC_NAME_MAX 64

typedef enum { IC_L_CONV, IC_L_BN, IC_L_RELU, IC_L_MAXPOOL, IC_L_GAP, IC_L_FLATTEN,
               IC_L_DENSE, IC_L_DROPOUT, IC_L_TIMEPOOL } ic_layer_kind;

#define IC_NO_BUFFER ((size_t)-1)

typedef struct {
    char name[IC_NAME_MAX];
    int ndim;
    int shape[4];
    size_t offset;   /* into the parameter (or buffer) block, floats */
    size_t numel;
    int decay;       /* 1: weight decay applies (conv/dense weights), 0: bn, bias */
} ic_param;

typedef struct {
    ic_layer_kind kind;
    int c, h, w;            /* output shape per sample */
    int in_c, in_h, in_w;   /* input shape per sample */
    int kh, kw, sh, sw, ph, pw, out, bias;
    float p;                /* dropout probability */
    int w_param, b_param;   /* indices into params (-1: none); bn: gamma, beta */
    int mean_buf, var_buf;  /* bn running statistics: indices into buffers */
    size_t act, dact, aux;  /* arena offsets (floats) of output, its gradient, saved state
                               (IC_NO_BUFFER in an eval-only arena) */
} ic_layer;

typedef struct {
    char name[IC_NAME_MAX];
    int classes;
    char **labels;          /* classes names (may be NULL) */
    int w_param, b_param;
    size_t logits, dlogits; /* arena offsets */
} ic_head;

typedef struct ic_net {
    cJSON *arch;            /* the architecture description, owned */
    int in_c, in_h, in_w;
    int n_layers;
    ic_layer *layers;
    int n_heads;
    ic_head heads[IC_NET_MAX_HEADS];
    int feat_dim;           /* trunk output features per sample */

    int n_params;
    ic_param *params;
    size_t n_param_floats;
    float *param, *grad;    /* one block each */
    int n_bufs;
    ic_param *bufs;
    size_t n_buf_floats;
    float *buf;

    int batch_cap;          /* arena sized for this many samples */
    int eval_only;          /* the arena has no gradients or saved state (ic_net_reserve_eval) */
    float *arena;
    size_t arena_floats;
    float *scratch;         /* shared im2col scratch */
    size_t scratch_floats;
    int conv_threads;       /* conv workers the scratch holds (threads at reserve time) */
    int batch;              /* batch of the last forward */
    const float *input;     /* input of the last forward (caller owned) */
    int training;           /* mode of the last forward */
} ic_net;

/* Builds a network from an architecture object (copied); NULL + err on a bad description. */
ic_net *ic_net_new(const cJSON *arch, ic_error *err);
/* Same from JSON text. */
ic_net *ic_net_new_from_string(const char *arch_json, ic_error *err);
void ic_net_free(ic_net *net);
/* He-normal conv/dense weights, zero biases, bn gamma 1 beta 0, running var 1. */
void ic_net_init(ic_net *net, ic_rng *rng);
/* Sizes the activation arena for batches up to cap; IC_ERR_NOMEM on failure. */
ic_status ic_net_reserve(ic_net *net, int cap, ic_error *err);
/* The same for eval-mode forwards only (no gradients, no saved state: less than
 * half the memory); a later ic_net_reserve makes it a training arena. */
ic_status ic_net_reserve_eval(ic_net *net, int cap, ic_error *err);
/* Floats per input sample (C*H*W). */
size_t ic_net_input_size(const ic_net *net);
/* Head index by name, or -1. */
int ic_net_head(const ic_net *net, const char *name);

/* x (n, C, H, W) -> every head's logits.  training: batch-norm uses batch statistics
 * and updates running ones, dropout draws masks from rng (rng may be NULL when !training).
 * x must stay valid until ic_net_backward.  n <= reserved capacity. */
void ic_net_forward(ic_net *net, const float *x, int n, int training, ic_rng *rng);
/* Logits (n, classes) of head h from the last forward. */
float *ic_net_logits(ic_net *net, int h);
/* Gradient buffer (n, classes) of head h's logits: the caller fills it (e.g. with
 * ic_softmax_xent_backward) after ic_net_zero_grad and before ic_net_backward. */
float *ic_net_dlogits(ic_net *net, int h);
/* Zeroes parameter gradients and every activation gradient, the latter for the
 * batch of the last forward (its size; the whole capacity before any forward):
 * call it between the forward and the backward pass of a step. */
void ic_net_zero_grad(ic_net *net);
/* Back-propagates the head gradients to the parameter gradients (adds). */
void ic_net_backward(ic_net *net);

/* ---- optimiser ---- */
typedef enum { IC_OPT_SGD = 0, IC_OPT_ADAMW = 1 } ic_opt_kind;
typedef struct {
    ic_opt_kind kind;
    float momentum;      /* sgd */
    int nesterov;        /* sgd */
    float beta1, beta2, eps; /* adamw */
    float weight_decay;  /* applied only to parameters with decay = 1 */
    long step;           /* steps taken */
    float *m, *v;        /* moments, n_param_floats each (v NULL for sgd) */
    size_t n;
} ic_opt;

/* Optimiser state for net (moments zeroed). */
ic_opt *ic_opt_new(const ic_net *net, ic_opt_kind kind, float weight_decay);
void ic_opt_free(ic_opt *opt);
/* One update of every parameter from net->grad with learning rate lr. */
void ic_opt_step(ic_opt *opt, ic_net *net, float lr);

/* ---- files ---- */
/* Saves the model (kind "model"): architecture, head labels, parameters, running
 * statistics, plus the caller's extra meta fields (front end, training recipe...)
 * merged into "meta", and extra tensors (e.g. normalisation statistics). */
ic_status ic_net_save(const ic_net *net, const char *path, const cJSON *extra_meta,
                      const ic_icw_tensor *extra, size_t n_extra, ic_error *err);
/* Loads a model or checkpoint file: the network plus, when file_out is not NULL,
 * the open file so the caller can read its meta and extra tensors. */
ic_net *ic_net_load(const char *path, ic_icw_file **file_out, ic_error *err);
/* Copies a file's parameters and buffers into net, checking every name and shape
 * ("conv1.weight: shape [16,1,3,3], expected [32,1,3,3]"). */
ic_status ic_net_load_params(ic_net *net, const ic_icw_file *f, ic_error *err);

/* Training position saved in checkpoints so a run resumes exactly. */
typedef struct {
    long step;           /* optimiser steps done */
    int epoch;           /* epoch in progress (0-based) */
    long position;       /* samples of that epoch already consumed */
    ic_rng rng;          /* training RNG (dropout, augmentation) */
    ic_rng epoch_rng;    /* RNG that drew this epoch's shuffle */
    float best_metric;   /* best validation metric so far */
    int best_epoch;
} ic_train_state;

/* Checkpoint (kind "checkpoint"): model + optimiser moments + train state + extra meta. */
ic_status ic_net_save_checkpoint(const ic_net *net, const ic_opt *opt, const ic_train_state *st,
                                 const char *path, const cJSON *extra_meta, ic_error *err);
/* Restores net (built with the same architecture), opt and st from a checkpoint. */
ic_status ic_net_load_checkpoint(ic_net *net, ic_opt *opt, ic_train_state *st,
                                 const char *path, ic_icw_file **file_out, ic_error *err);
#endif
