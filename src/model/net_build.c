/* Building a network from its architecture JSON: shape inference, the
 * parameter/buffer tables, the activation arena and weight initialisation.
 * Forward/backward live in net_run.c, files in net_io.c. */
#include "ic/net.h"
#include "ic/threads.h"
#include "ic/conv2d.h"
#include "ic/pool.h"
#include <math.h>
#include <string.h>
#include <sys/mman.h>

/* Reads a number or [h, w] pair; def when absent. */
static int get_pair(const cJSON *o, const char *key, int def, int *a, int *b, ic_error *err, int li) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) { *a = *b = def; return 0; }
    if (cJSON_IsNumber(v) && v->valuedouble == (int)v->valuedouble) { *a = *b = (int)v->valuedouble; return 0; }
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
        const cJSON *x = cJSON_GetArrayItem(v, 0), *y = cJSON_GetArrayItem(v, 1);
        if (cJSON_IsNumber(x) && cJSON_IsNumber(y)) { *a = (int)x->valuedouble; *b = (int)y->valuedouble; return 0; }
    }
    ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: \"%s\" must be an integer or [h, w]", li, key);
    return -1;
}

static int get_int(const cJSON *o, const char *key, int def, int *out, ic_error *err, const char *where) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) { *out = def; return 0; }
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(int)v->valuedouble) {
        ic_error_set(err, IC_ERR_FORMAT, "architecture: %s: \"%s\" must be an integer", where, key);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int add_entry(ic_param **tab, int *n, size_t *total, const char *name, int ndim,
                     const int *shape, int decay) {
    *tab = realloc(*tab, (size_t)(*n + 1) * sizeof **tab);
    IC_ASSERT(*tab);
    ic_param *p = &(*tab)[*n];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < ndim; i++) { p->shape[i] = shape[i]; p->numel *= (size_t)shape[i]; }
    p->offset = *total;
    p->decay = decay;
    /* keep every tensor 16-float (64-byte) aligned inside its block */
    *total += (p->numel + 15) & ~(size_t)15;
    return (*n)++;
}

static const struct { const char *name; ic_layer_kind kind; } KINDS[] = {
    {"conv", IC_L_CONV}, {"bn", IC_L_BN}, {"relu", IC_L_RELU}, {"maxpool", IC_L_MAXPOOL},
    {"gap", IC_L_GAP}, {"flatten", IC_L_FLATTEN}, {"dense", IC_L_DENSE}, {"dropout", IC_L_DROPOUT}, {"timepool", IC_L_TIMEPOOL},
};

static int parse_layer(ic_net *net, int li, const cJSON *o, int c, int h, int w, ic_error *err) {
    ic_layer *L = &net->layers[li];
    memset(L, 0, sizeof *L);
    L->w_param = L->b_param = L->mean_buf = L->var_buf = -1;
    L->in_c = c; L->in_h = h; L->in_w = w;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");
    if (!cJSON_IsString(t)) return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d has no \"type\" string", li), -1;
    int found = 0;
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (!strcmp(t->valuestring, KINDS[i].name)) { L->kind = KINDS[i].kind; found = 1; }
    if (!found) return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: unknown type \"%s\"", li, t->valuestring), -1;
    char nm[IC_NAME_MAX + 16];
    switch (L->kind) {
    case IC_L_CONV: {
        if (get_int(o, "out", 0, &L->out, err, "conv") || get_pair(o, "k", 3, &L->kh, &L->kw, err, li) ||
            get_pair(o, "stride", 1, &L->sh, &L->sw, err, li) || get_pair(o, "pad", 0, &L->ph, &L->pw, err, li))
            return -1;
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bias");
        L->bias = b ? cJSON_IsTrue(b) : 1;
        if (L->out <= 0 || L->kh <= 0 || L->kw <= 0 || L->sh <= 0 || L->sw <= 0 || L->ph < 0 || L->pw < 0)
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: conv needs out, k, stride > 0 and pad >= 0", li), -1;
        L->h = (h + 2 * L->ph - L->kh) / L->sh + 1;
        L->w = (w + 2 * L->pw - L->kw) / L->sw + 1;
        if (h + 2 * L->ph < L->kh || w + 2 * L->pw < L->kw)
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: conv kernel %dx%d larger than padded input %dx%d", li, L->kh, L->kw, h + 2 * L->ph, w + 2 * L->pw), -1;
        L->c = L->out;
        int ws[4] = {L->out, c, L->kh, L->kw};
        snprintf(nm, sizeof nm, "l%d.conv.weight", li);
        L->w_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 4, ws, 1);
        if (L->bias) {
            snprintf(nm, sizeof nm, "l%d.conv.bias", li);
            L->b_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 1, &L->out, 0);
        }
        break;
    }
    case IC_L_BN:
        L->c = c; L->h = h; L->w = w;
        snprintf(nm, sizeof nm, "l%d.bn.weight", li);
        L->w_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 1, &c, 0);
        snprintf(nm, sizeof nm, "l%d.bn.bias", li);
        L->b_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 1, &c, 0);
        snprintf(nm, sizeof nm, "l%d.bn.running_mean", li);
        L->mean_buf = add_entry(&net->bufs, &net->n_bufs, &net->n_buf_floats, nm, 1, &c, 0);
        snprintf(nm, sizeof nm, "l%d.bn.running_var", li);
        L->var_buf = add_entry(&net->bufs, &net->n_bufs, &net->n_buf_floats, nm, 1, &c, 0);
        break;
    case IC_L_RELU:
        L->c = c; L->h = h; L->w = w;
        break;
    case IC_L_DROPOUT: {
        L->c = c; L->h = h; L->w = w;
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "p");
        L->p = cJSON_IsNumber(p) ? (float)p->valuedouble : 0.5f;
        if (!(L->p >= 0 && L->p < 1))
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: dropout p must be in [0, 1)", li), -1;
        break;
    }
    case IC_L_MAXPOOL:
        if (get_pair(o, "k", 2, &L->kh, &L->kw, err, li)) return -1;
        if (get_pair(o, "stride", L->kh, &L->sh, &L->sw, err, li)) return -1;
        if (!cJSON_GetObjectItemCaseSensitive(o, "stride")) { L->sh = L->kh; L->sw = L->kw; }
        if (L->kh <= 0 || L->kw <= 0 || L->sh <= 0 || L->sw <= 0 || L->kh > h || L->kw > w)
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: maxpool %dx%d does not fit input %dx%d", li, L->kh, L->kw, h, w), -1;
        L->c = c; L->h = (h - L->kh) / L->sh + 1; L->w = (w - L->kw) / L->sw + 1;
        break;
    case IC_L_GAP:
        L->c = c; L->h = 1; L->w = 1;
        break;
    case IC_L_TIMEPOOL:
        L->c = c; L->h = h; L->w = 1;
        break;
    case IC_L_FLATTEN:
        L->c = c * h * w; L->h = 1; L->w = 1;
        break;
    case IC_L_DENSE: {
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "bias");
        L->bias = b ? cJSON_IsTrue(b) : 1;
        if (get_int(o, "out", 0, &L->out, err, "dense")) return -1;
        if (L->out <= 0) return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d: dense needs out > 0", li), -1;
        int in = c * h * w;
        L->c = L->out; L->h = 1; L->w = 1;
        int ws[2] = {L->out, in};
        snprintf(nm, sizeof nm, "l%d.dense.weight", li);
        L->w_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 2, ws, 1);
        if (L->bias) {
            snprintf(nm, sizeof nm, "l%d.dense.bias", li);
            L->b_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, nm, 1, &L->out, 0);
        }
        break;
    }
    }
    if (L->c <= 0 || L->h <= 0 || L->w <= 0)
        return ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d leaves an empty output", li), -1;
    return 0;
}

static int parse_heads(ic_net *net, const cJSON *heads, ic_error *err) {
    if (!cJSON_IsArray(heads) || cJSON_GetArraySize(heads) < 1 || cJSON_GetArraySize(heads) > IC_NET_MAX_HEADS)
        return ic_error_set(err, IC_ERR_FORMAT, "architecture: \"heads\" must be an array of 1 to %d heads", IC_NET_MAX_HEADS), -1;
    const cJSON *hd;
    cJSON_ArrayForEach(hd, heads) {
        ic_head *H = &net->heads[net->n_heads];
        memset(H, 0, sizeof *H);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(hd, "name");
        if (!cJSON_IsString(nm) || !nm->valuestring[0] || strlen(nm->valuestring) >= 32)
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: head %d needs a short \"name\"", net->n_heads), -1;
        snprintf(H->name, sizeof H->name, "%s", nm->valuestring);
        for (int i = 0; i < net->n_heads; i++)
            if (!strcmp(net->heads[i].name, H->name))
                return ic_error_set(err, IC_ERR_FORMAT, "architecture: duplicate head \"%s\"", H->name), -1;
        if (get_int(hd, "classes", 0, &H->classes, err, H->name)) return -1;
        if (H->classes < 1 || H->classes > 100000)
            return ic_error_set(err, IC_ERR_FORMAT, "architecture: head \"%s\": classes must be 1..100000", H->name), -1;
        const cJSON *labels = cJSON_GetObjectItemCaseSensitive(hd, "labels");
        if (labels) {
            if (!cJSON_IsArray(labels) || cJSON_GetArraySize(labels) != H->classes)
                return ic_error_set(err, IC_ERR_FORMAT, "architecture: head \"%s\": labels must be an array of %d strings", H->name, H->classes), -1;
            H->labels = ic_xcalloc((size_t)H->classes, sizeof *H->labels);
            net->n_heads++; /* so a failure below frees the labels */
            int i = 0;
            const cJSON *l;
            cJSON_ArrayForEach(l, labels) {
                if (!cJSON_IsString(l))
                    return ic_error_set(err, IC_ERR_FORMAT, "architecture: head \"%s\": label %d is not a string", H->name, i), -1;
                H->labels[i++] = strdup(l->valuestring);
                IC_ASSERT(H->labels[i - 1]);
            }
            net->n_heads--;
        }
        char pn[IC_NAME_MAX + 16];
        int ws[2] = {H->classes, net->feat_dim};
        snprintf(pn, sizeof pn, "head.%s.weight", H->name);
        H->w_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, pn, 2, ws, 1);
        snprintf(pn, sizeof pn, "head.%s.bias", H->name);
        H->b_param = add_entry(&net->params, &net->n_params, &net->n_param_floats, pn, 1, &H->classes, 0);
        net->n_heads++;
    }
    return 0;
}

ic_net *ic_net_new(const cJSON *arch, ic_error *err) {
    if (!cJSON_IsObject(arch)) { ic_error_set(err, IC_ERR_FORMAT, "architecture: not a JSON object"); return NULL; }
    ic_net *net = ic_xcalloc(1, sizeof *net);
    net->arch = cJSON_Duplicate(arch, 1);
    IC_ASSERT(net->arch);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(arch, "input");
    int dims[3] = {1, 1, 1}, nd = cJSON_IsArray(in) ? cJSON_GetArraySize(in) : 0;
    if (nd != 1 && nd != 3) { ic_error_set(err, IC_ERR_FORMAT, "architecture: \"input\" must be [C, H, W] or [D]"); goto fail; }
    for (int i = 0; i < nd; i++) {
        const cJSON *d = cJSON_GetArrayItem(in, i);
        if (!cJSON_IsNumber(d) || d->valuedouble < 1 || d->valuedouble > 1e6) {
            ic_error_set(err, IC_ERR_FORMAT, "architecture: input dimension %d must be a positive integer", i);
            goto fail;
        }
        dims[i] = (int)d->valuedouble;
    }
    net->in_c = dims[0]; net->in_h = dims[1]; net->in_w = dims[2];
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(arch, "layers");
    if (layers && !cJSON_IsArray(layers)) { ic_error_set(err, IC_ERR_FORMAT, "architecture: \"layers\" must be an array"); goto fail; }
    net->n_layers = layers ? cJSON_GetArraySize(layers) : 0;
    net->layers = ic_xcalloc((size_t)net->n_layers + 1, sizeof *net->layers);
    int c = net->in_c, h = net->in_h, w = net->in_w;
    for (int i = 0; i < net->n_layers; i++) {
        if (parse_layer(net, i, cJSON_GetArrayItem(layers, i), c, h, w, err)) goto fail;
        c = net->layers[i].c; h = net->layers[i].h; w = net->layers[i].w;
        if ((double)c * h * w > 1e8) { ic_error_set(err, IC_ERR_FORMAT, "architecture: layer %d output too large", i); goto fail; }
    }
    net->feat_dim = c * h * w;
    if (parse_heads(net, cJSON_GetObjectItemCaseSensitive(arch, "heads"), err)) goto fail;
    net->param = ic_xcalloc(net->n_param_floats, sizeof(float));
    net->grad = ic_xcalloc(net->n_param_floats, sizeof(float));
    net->buf = ic_xcalloc(net->n_buf_floats, sizeof(float));
    return net;
fail:
    ic_net_free(net);
    return NULL;
}

ic_net *ic_net_new_from_string(const char *arch_json, ic_error *err) {
    cJSON *j = cJSON_Parse(arch_json);
    if (!j) { ic_error_set(err, IC_ERR_FORMAT, "architecture: invalid JSON"); return NULL; }
    ic_net *net = ic_net_new(j, err);
    cJSON_Delete(j);
    return net;
}

void ic_net_free(ic_net *net) {
    if (!net) return;
    cJSON_Delete(net->arch);
    for (int i = 0; i < net->n_heads; i++) {
        if (!net->heads[i].labels) continue;
        for (int k = 0; k < net->heads[i].classes; k++) free(net->heads[i].labels[k]);
        free(net->heads[i].labels);
    }
    free(net->layers);
    free(net->params);
    free(net->bufs);
    free(net->param);
    free(net->grad);
    free(net->buf);
    free(net->arena);
    free(net->scratch);
    free(net);
}

size_t ic_net_input_size(const ic_net *net) { return (size_t)net->in_c * net->in_h * net->in_w; }

int ic_net_head(const ic_net *net, const char *name) {
    for (int i = 0; i < net->n_heads; i++)
        if (!strcmp(net->heads[i].name, name)) return i;
    return -1;
}

static void fill_normal(float *x, size_t n, float std, ic_rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = std * ic_rng_normal(rng);
}

void ic_net_init(ic_net *net, ic_rng *rng) {
    memset(net->param, 0, net->n_param_floats * sizeof(float));
    memset(net->buf, 0, net->n_buf_floats * sizeof(float));
    for (int i = 0; i < net->n_layers; i++) {
        ic_layer *L = &net->layers[i];
        if (L->kind == IC_L_CONV || L->kind == IC_L_DENSE) {
            ic_param *p = &net->params[L->w_param];
            float fan_in = (float)(p->numel / (size_t)p->shape[0]);
            fill_normal(net->param + p->offset, p->numel, sqrtf(2.0f / fan_in), rng); /* He */
        } else if (L->kind == IC_L_BN) {
            ic_param *g = &net->params[L->w_param], *v = &net->bufs[L->var_buf];
            for (size_t k = 0; k < g->numel; k++) net->param[g->offset + k] = 1.0f;
            for (size_t k = 0; k < v->numel; k++) net->buf[v->offset + k] = 1.0f;
        }
    }
    for (int h = 0; h < net->n_heads; h++) {
        ic_param *p = &net->params[net->heads[h].w_param];
        fill_normal(net->param + p->offset, p->numel, sqrtf(1.0f / (float)net->feat_dim), rng);
    }
}

/* A float block for the arena or the scratch, 64-byte aligned; from 4 MB up,
 * 2 MB aligned and marked for transparent huge pages: with 4 KB pages the
 * training step of the reference CNN ran 10-14% slower (bench_engine, same run,
 * 270-277 against 298-319 samples/s; TLB misses over the ~150 MB it walks). */
static float *alloc_block(size_t floats) {
    const size_t bytes = (floats ? floats : 1) * sizeof(float);
    const int big = bytes >= ((size_t)4 << 20);
    void *p = NULL;
    if (posix_memalign(&p, big ? (size_t)2 << 20 : 64, bytes)) return NULL;
#ifdef MADV_HUGEPAGE
    if (big) (void)madvise(p, bytes, MADV_HUGEPAGE);   /* advice only: fine if refused */
#endif
    return p;
}

/* The arena: every layer's output, and for training its gradient and saved
 * state (batch-norm statistics, max-pool argmax, dropout mask); heads' logits
 * and their gradients.  An eval-only arena holds outputs and logits alone,
 * less than half the memory (icinfer at batch 16: ~90 MB less). */
static ic_status reserve(ic_net *net, int cap, int eval_only, ic_error *err) {
    /* a training arena serves eval forwards too */
    if (cap <= net->batch_cap && (eval_only || !net->eval_only)) return IC_OK;
    if (cap < net->batch_cap) cap = net->batch_cap;
    if (cap <= 0) return ic_error_set(err, IC_ERR_ARG, "batch size must be positive, got %d", cap);
    size_t total = 0, scratch = 0;
    int c = net->in_c, h = net->in_h, w = net->in_w;
    const int threads = ic_threads_get();
#define ALIGN16(x) (((x) + 15) & ~(size_t)15)
    for (int i = 0; i < net->n_layers; i++) {
        ic_layer *L = &net->layers[i];
        size_t out = (size_t)cap * L->c * L->h * L->w;
        L->act = total; total += ALIGN16(out);
        L->dact = L->aux = IC_NO_BUFFER;
        if (!eval_only) {
            L->dact = total; total += ALIGN16(out);
            L->aux = total;
            if (L->kind == IC_L_BN) total += ALIGN16(2 * (size_t)L->c);           /* mean, invstd */
            else if (L->kind == IC_L_MAXPOOL) total += ALIGN16(out);              /* int32 argmax */
            else if (L->kind == IC_L_DROPOUT) total += ALIGN16((out + 3) / 4);    /* u8 mask */
        }
        if (L->kind == IC_L_CONV) {
            ic_conv2d_dims d = {cap, c, h, w, L->out, L->kh, L->kw, L->sh, L->sw, L->ph, L->pw, threads};
            size_t s = ic_conv2d_scratch_floats(&d);
            if (s > scratch) scratch = s;
        }
        c = L->c; h = L->h; w = L->w;
    }
    for (int k = 0; k < net->n_heads; k++) {
        size_t out = (size_t)cap * net->heads[k].classes;
        net->heads[k].logits = total; total += ALIGN16(out);
        net->heads[k].dlogits = IC_NO_BUFFER;
        if (!eval_only) { net->heads[k].dlogits = total; total += ALIGN16(out); }
    }
#undef ALIGN16
    float *arena = alloc_block(total), *scr = alloc_block(scratch);
    if (!arena || !scr) {
        free(arena);
        free(scr);
        return ic_error_set(err, IC_ERR_NOMEM, "out of memory reserving activations for batch %d (%zu MB)",
                            cap, (total + scratch) * 4 >> 20);
    }
    memset(arena, 0, (total ? total : 1) * sizeof(float));
    free(net->arena);
    free(net->scratch);
    net->arena = arena; net->arena_floats = total;
    net->scratch = scr; net->scratch_floats = scratch; net->conv_threads = threads;
    net->batch_cap = cap;
    net->eval_only = eval_only;
    return IC_OK;
}

ic_status ic_net_reserve(ic_net *net, int cap, ic_error *err) { return reserve(net, cap, 0, err); }
ic_status ic_net_reserve_eval(ic_net *net, int cap, ic_error *err) { return reserve(net, cap, 1, err); }
