/* Optimiser state for a whole network: moments in one block each, one update
 * per parameter tensor so weight decay skips batch-norm and bias parameters. */
#include "ic/net.h"
#include "ic/optim.h"
#include <string.h>

ic_opt *ic_opt_new(const ic_net *net, ic_opt_kind kind, float weight_decay) {
    ic_opt *o = ic_xcalloc(1, sizeof *o);
    o->kind = kind;
    o->momentum = 0.9f;
    o->nesterov = 0;
    o->beta1 = 0.9f; o->beta2 = 0.999f; o->eps = 1e-8f;
    o->weight_decay = weight_decay;
    o->n = net->n_param_floats;
    o->m = ic_xcalloc(o->n, sizeof(float));
    if (kind == IC_OPT_ADAMW) o->v = ic_xcalloc(o->n, sizeof(float));
    return o;
}

void ic_opt_free(ic_opt *opt) {
    if (!opt) return;
    free(opt->m);
    free(opt->v);
    free(opt);
}

void ic_opt_step(ic_opt *opt, ic_net *net, float lr) {
    IC_ASSERT(opt->n == net->n_param_floats);
    opt->step++;
    for (int i = 0; i < net->n_params; i++) {
        const ic_param *p = &net->params[i];
        float wd = p->decay ? opt->weight_decay : 0.0f;
        float *w = net->param + p->offset;
        const float *g = net->grad + p->offset;
        if (opt->kind == IC_OPT_ADAMW)
            ic_adamw_step(p->numel, w, g, opt->m + p->offset, opt->v + p->offset, lr, opt->beta1,
                          opt->beta2, opt->eps, wd, opt->step);
        else
            ic_sgd_step(p->numel, w, g, opt->m + p->offset, lr, opt->momentum, wd, opt->nesterov);
    }
}
