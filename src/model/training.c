/* Pieces every trainer shares: one training step and the recipe metadata
 * (see ic/training.h). */
#include "ic/training.h"
#include "ic/loss.h"

double ic_train_step(ic_net *net, ic_opt *opt, float lr, const float *x, int n, ic_rng *rng,
                     const ic_step_target *targets, int n_targets) {
    ic_net_forward(net, x, n, 1, rng);
    ic_net_zero_grad(net);
    double loss = 0;
    for (int t = 0; t < n_targets; t++) {
        const ic_step_target *g = &targets[t];
        const int k = net->heads[g->head].classes;
        loss += g->weight * ic_softmax_xent_forward(n, k, ic_net_logits(net, g->head), g->labels, NULL,
                                                    g->smoothing, g->probs);
        float *dl = ic_net_dlogits(net, g->head);
        ic_softmax_xent_backward(n, k, g->probs, g->labels, NULL, g->smoothing, dl);
        if (g->weight != 1.0f)
            for (int i = 0; i < n * k; i++) dl[i] *= g->weight;
    }
    ic_net_backward(net);
    ic_opt_step(opt, net, lr);
    return loss;
}

cJSON *ic_train_meta(const ic_train_recipe *r, cJSON **training) {
    cJSON *meta = cJSON_CreateObject();
    cJSON *t = cJSON_AddObjectToObject(meta, "training");
    cJSON_AddStringToObject(t, "program", "ictrain");
    cJSON_AddStringToObject(t, "model", r->model);
    cJSON_AddStringToObject(t, "data", r->data);
    cJSON_AddNumberToObject(t, "epochs", r->epochs);
    cJSON_AddNumberToObject(t, "epochs_done", r->epochs_done);
    cJSON_AddNumberToObject(t, "batch", r->batch);
    cJSON_AddNumberToObject(t, "lr", r->lr);
    cJSON_AddNumberToObject(t, "weight_decay", r->weight_decay);
    cJSON_AddNumberToObject(t, "balance", (double)r->balance);
    cJSON_AddNumberToObject(t, "per_family", (double)r->per_family);
    cJSON_AddNumberToObject(t, "seed", (double)r->seed);
    if (training) *training = t;
    return meta;
}
