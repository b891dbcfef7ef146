/* Saving and loading networks (.icw kind "model") and training checkpoints
 * (kind "checkpoint": model + optimiser moments + training position).
 * Tensors are named after the parameter table; the loader checks every name
 * and shape against the architecture stored in the same file. */
#include "ic/net.h"
#include <inttypes.h>
#include <string.h>

static ic_icw_tensor tensor_of(const ic_param *p, const float *base, const char *prefix) {
    ic_icw_tensor t;
    memset(&t, 0, sizeof t);
    snprintf(t.name, sizeof t.name, "%s%s", prefix, p->name);
    t.dtype = IC_DTYPE_F32;
    t.ndim = p->ndim;
    for (int i = 0; i < p->ndim; i++) t.shape[i] = p->shape[i];
    t.nbytes = p->numel * sizeof(float);
    t.data = base + p->offset;
    return t;
}

/* meta = {"arch": ..., <extra fields>}; the extra object may not override "arch". */
static char *build_meta(const ic_net *net, const cJSON *extra, const char *train_json) {
    cJSON *meta = cJSON_CreateObject();
    IC_ASSERT(meta);
    cJSON_AddItemToObject(meta, "arch", cJSON_Duplicate(net->arch, 1));
    if (cJSON_IsObject(extra)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, extra)
            if (strcmp(it->string, "arch") && strcmp(it->string, "train"))
                cJSON_AddItemToObject(meta, it->string, cJSON_Duplicate(it, 1));
    }
    if (train_json) cJSON_AddItemToObject(meta, "train", cJSON_Parse(train_json));
    char *s = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    IC_ASSERT(s);
    return s;
}

static ic_status save(const ic_net *net, const ic_opt *opt, const char *kind, const char *path,
                      const cJSON *extra_meta, const char *train_json, const ic_icw_tensor *extra,
                      size_t n_extra, ic_error *err) {
    size_t per = opt ? (opt->v ? 3 : 2) : 1;
    size_t n = (size_t)net->n_params * per + (size_t)net->n_bufs + n_extra;
    ic_icw_tensor *t = ic_xcalloc(n ? n : 1, sizeof *t);
    size_t k = 0;
    for (int i = 0; i < net->n_params; i++) t[k++] = tensor_of(&net->params[i], net->param, "");
    for (int i = 0; i < net->n_bufs; i++) t[k++] = tensor_of(&net->bufs[i], net->buf, "");
    if (opt) {
        for (int i = 0; i < net->n_params; i++) t[k++] = tensor_of(&net->params[i], opt->m, "opt.m.");
        if (opt->v)
            for (int i = 0; i < net->n_params; i++) t[k++] = tensor_of(&net->params[i], opt->v, "opt.v.");
    }
    for (size_t i = 0; i < n_extra; i++) t[k++] = extra[i];
    char *meta = build_meta(net, extra_meta, train_json);
    ic_status st = ic_icw_write(path, kind, meta, t, k, err);
    free(meta);
    free(t);
    return st;
}

ic_status ic_net_save(const ic_net *net, const char *path, const cJSON *extra_meta,
                      const ic_icw_tensor *extra, size_t n_extra, ic_error *err) {
    return save(net, NULL, "model", path, extra_meta, NULL, extra, n_extra, err);
}

/* Copies one table's tensors from f, checking dtype and shape. */
static ic_status load_table(const ic_icw_file *f, const char *path, const ic_param *tab, int n,
                            float *base, const char *prefix, ic_error *err) {
    for (int i = 0; i < n; i++) {
        char name[IC_ICW_NAME_MAX];
        snprintf(name, sizeof name, "%s%s", prefix, tab[i].name);
        const ic_icw_tensor *t = ic_icw_find(f, name);
        if (!t) return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor \"%s\" missing", path, name);
        int same = t->dtype == IC_DTYPE_F32 && t->ndim == tab[i].ndim;
        for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == tab[i].shape[d];
        if (!same) {
            char got[96] = "", want[96] = "";
            for (int d = 0; d < t->ndim && d < 4; d++)
                snprintf(got + strlen(got), sizeof got - strlen(got), "%s%" PRId64, d ? "," : "", t->shape[d]);
            for (int d = 0; d < tab[i].ndim; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "," : "", tab[i].shape[d]);
            return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor \"%s\": %s shape [%s], expected f32 [%s]",
                                path, name, ic_dtype_name(t->dtype), got, want);
        }
        memcpy(base + tab[i].offset, t->data, t->nbytes);
    }
    return IC_OK;
}

ic_status ic_net_load_params(ic_net *net, const ic_icw_file *f, ic_error *err) {
    ic_status st = load_table(f, "model", net->params, net->n_params, net->param, "", err);
    if (!st) st = load_table(f, "model", net->bufs, net->n_bufs, net->buf, "", err);
    return st;
}

/* Opens path, builds the net from meta.arch and loads the parameters. */
static ic_net *open_net(const char *path, ic_icw_file **file_out, ic_error *err) {
    ic_icw_file *f = ic_icw_read(path, err);
    if (!f) return NULL;
    cJSON *meta = cJSON_Parse(f->meta_json);
    const cJSON *arch = meta ? cJSON_GetObjectItemCaseSensitive(meta, "arch") : NULL;
    ic_net *net = NULL;
    if (!arch) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: no architecture (\"arch\") in the file's meta", path);
    } else {
        net = ic_net_new(arch, err);
        if (!net) {
            char inner[sizeof err->msg];
            snprintf(inner, sizeof inner, "%s", err ? err->msg : "");
            ic_error_set(err, IC_ERR_FORMAT, "%s: %s", path, inner);
        } else {
            ic_status st = load_table(f, path, net->params, net->n_params, net->param, "", err);
            if (!st) st = load_table(f, path, net->bufs, net->n_bufs, net->buf, "", err);
            if (st) { ic_net_free(net); net = NULL; }
        }
    }
    cJSON_Delete(meta);
    if (net && file_out) *file_out = f;
    else ic_icw_free(f);
    return net;
}

ic_net *ic_net_load(const char *path, ic_icw_file **file_out, ic_error *err) {
    return open_net(path, file_out, err);
}

/* RNG state as 4 hex words: JSON numbers cannot hold 64-bit integers exactly. */
static void rng_to_hex(const ic_rng *r, char *out, size_t n) {
    snprintf(out, n, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, r->s[0], r->s[1], r->s[2], r->s[3]);
}

static int rng_from_hex(const char *s, ic_rng *r) {
    if (!s || strlen(s) != 64) return -1;
    for (int i = 0; i < 4; i++) {
        char w[17];
        memcpy(w, s + 16 * i, 16);
        w[16] = 0;
        char *end;
        r->s[i] = strtoull(w, &end, 16);
        if (*end) return -1;
    }
    return 0;
}

ic_status ic_net_save_checkpoint(const ic_net *net, const ic_opt *opt, const ic_train_state *st,
                                 const char *path, const cJSON *extra_meta, ic_error *err) {
    char rng[80], erng[80], train[512];
    rng_to_hex(&st->rng, rng, sizeof rng);
    rng_to_hex(&st->epoch_rng, erng, sizeof erng);
    snprintf(train, sizeof train,
             "{\"step\":%ld,\"epoch\":%d,\"position\":%ld,\"rng\":\"%s\",\"epoch_rng\":\"%s\","
             "\"best_metric\":%.9g,\"best_epoch\":%d,\"opt_step\":%ld,\"optimizer\":\"%s\"}",
             st->step, st->epoch, st->position, rng, erng, (double)st->best_metric, st->best_epoch,
             opt->step, opt->kind == IC_OPT_ADAMW ? "adamw" : "sgd");
    return save(net, opt, "checkpoint", path, extra_meta, train, NULL, 0, err);
}

static int get_long(const cJSON *o, const char *k, long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) return -1;
    *out = (long)v->valuedouble;
    return 0;
}

ic_status ic_net_load_checkpoint(ic_net *net, ic_opt *opt, ic_train_state *st, const char *path,
                                 ic_icw_file **file_out, ic_error *err) {
    ic_icw_file *f = ic_icw_read(path, err);
    if (!f) return err ? err->code : IC_ERR_FORMAT;
    ic_status rc = IC_OK;
    cJSON *meta = cJSON_Parse(f->meta_json);
    const cJSON *train = meta ? cJSON_GetObjectItemCaseSensitive(meta, "train") : NULL;
    const cJSON *optname = train ? cJSON_GetObjectItemCaseSensitive(train, "optimizer") : NULL;
    long step = 0, epoch = 0, pos = 0, best_epoch = 0, opt_step = 0;
    ic_rng rng, epoch_rng; /* parsed here, copied to st only when everything loaded */
    const cJSON *bm = train ? cJSON_GetObjectItemCaseSensitive(train, "best_metric") : NULL;
    if (strcmp(f->kind, "checkpoint")) {
        rc = ic_error_set(err, IC_ERR_FORMAT, "%s: a \"%s\" file, expected a training checkpoint", path, f->kind);
    } else if (!train || get_long(train, "step", &step) || get_long(train, "epoch", &epoch) ||
               get_long(train, "position", &pos) || get_long(train, "best_epoch", &best_epoch) ||
               get_long(train, "opt_step", &opt_step) || !cJSON_IsNumber(bm) || !cJSON_IsString(optname) ||
               rng_from_hex(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(train, "rng")), &rng) ||
               rng_from_hex(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(train, "epoch_rng")), &epoch_rng)) {
        rc = ic_error_set(err, IC_ERR_FORMAT, "%s: checkpoint training state missing or malformed", path);
    } else if (strcmp(optname->valuestring, opt->kind == IC_OPT_ADAMW ? "adamw" : "sgd")) {
        rc = ic_error_set(err, IC_ERR_FORMAT, "%s: checkpoint optimiser is %s, this run uses %s", path,
                          optname->valuestring, opt->kind == IC_OPT_ADAMW ? "adamw" : "sgd");
    } else {
        const cJSON *arch = cJSON_GetObjectItemCaseSensitive(meta, "arch");
        char *a = arch ? cJSON_PrintUnformatted(arch) : NULL;
        char *b = cJSON_PrintUnformatted(net->arch);
        if (!a || strcmp(a, b))
            rc = ic_error_set(err, IC_ERR_FORMAT, "%s: checkpoint architecture differs from this run's", path);
        free(a);
        free(b);
    }
    if (!rc) rc = load_table(f, path, net->params, net->n_params, net->param, "", err);
    if (!rc) rc = load_table(f, path, net->bufs, net->n_bufs, net->buf, "", err);
    if (!rc) rc = load_table(f, path, net->params, net->n_params, opt->m, "opt.m.", err);
    if (!rc && opt->v) rc = load_table(f, path, net->params, net->n_params, opt->v, "opt.v.", err);
    if (!rc) {
        st->step = step; st->epoch = (int)epoch; st->position = pos;
        st->best_metric = (float)bm->valuedouble; st->best_epoch = (int)best_epoch;
        st->rng = rng; st->epoch_rng = epoch_rng;
        opt->step = opt_step;
    }
    cJSON_Delete(meta);
    if (!rc && file_out) *file_out = f;
    else ic_icw_free(f);
    return rc;
}
