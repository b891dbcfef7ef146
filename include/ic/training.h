/* What every trainer shares (ictrain's CNN, the MFCC baselines, bench_engine):
 * one optimisation step of a multi-head net, and the recipe record saved in
 * a model file's metadata.  Sharing the step means the benchmark times exactly
 * the arithmetic that training runs. */
#ifndef IC_TRAINING_H
#define IC_TRAINING_H
#include "ic/net.h"
#include <cJSON.h>
#include <stddef.h>

/* One head's part of the loss: softmax cross-entropy on labels (-1: no label
 * for that sample), times weight, with label smoothing. */
typedef struct {
    int head;            /* index into net->heads */
    const int *labels;   /* (n) */
    float weight;        /* 1: plain */
    float smoothing;     /* in [0, 1) */
    float *probs;        /* (n, classes): receives the softmax, the caller's buffer */
} ic_step_target;

/* Forward x (n samples) in training mode, zero the gradients, the loss of
 * every target, backward, and one optimiser step at learning rate lr.
 * Returns the weighted loss sum. */
double ic_train_step(ic_net *net, ic_opt *opt, float lr, const float *x, int n, ic_rng *rng,
                     const ic_step_target *targets, int n_targets);

/* The recipe fields every trainer records. */
typedef struct {
    const char *model;   /* "cnn", "mfcc", ... */
    const char *data;
    int epochs, epochs_done, batch;
    double lr, weight_decay;
    size_t balance, per_family;
    unsigned long long seed;
} ic_train_recipe;

/* {"training": {"program": "ictrain", the recipe's fields}}; the caller adds
 * its own fields to the "training" object (returned in *training). */
cJSON *ic_train_meta(const ic_train_recipe *r, cJSON **training);

#endif
