/* ic_model: network + front end + normalisation, saved and loaded as one .icw. */
#include "ic/model.h"
#include <math.h>
#include <string.h>

static ic_status check_shape(const ic_model *m, ic_error *err) {
    const ic_net *n = m->net;
    if (n->in_c != 1 || n->in_h != m->n_features || n->in_w != m->n_frames)
        return ic_error_set(err, IC_ERR_FORMAT,
                            "model input [%d,%d,%d] does not match the front end's [1,%d,%d]",
                            n->in_c, n->in_h, n->in_w, m->n_features, m->n_frames);
    return IC_OK;
}

static ic_model *finish(ic_model *m, ic_error *err) {
    m->fe = ic_frontend_new(&m->fp, err);
    if (!m->fe) { ic_model_free(m); return NULL; }
    m->n_features = ic_frontend_n_features(&m->fp);
    m->n_frames = (int)ic_frontend_n_frames(&m->fp, m->window_samples);
    if (check_shape(m, err)) { ic_model_free(m); return NULL; }
    m->head_family = ic_net_head(m->net, "family");
    m->head_pitch = ic_net_head(m->net, "pitch");
    m->head_activity = ic_net_head(m->net, "activity");
    return m;
}

ic_model *ic_model_create(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                          int pitch_base, ic_error *err) {
    if (ic_frontend_validate(fp, err)) return NULL;
    if (window_samples == 0) { ic_error_set(err, IC_ERR_ARG, "window length must be positive"); return NULL; }
    ic_model *m = ic_xcalloc(1, sizeof *m);
    m->fp = *fp;
    m->window_samples = window_samples;
    m->pitch_base = pitch_base;
    m->net = ic_net_new(arch, err);
    if (!m->net) { ic_model_free(m); return NULL; }
    int nf = ic_frontend_n_features(fp);
    m->norm_mean = ic_xcalloc((size_t)nf, sizeof(float));
    m->norm_std = ic_xcalloc((size_t)nf, sizeof(float));
    for (int i = 0; i < nf; i++) m->norm_std[i] = 1.0f;
    return finish(m, err);
}

void ic_model_free(ic_model *m) {
    if (!m) return;
    ic_net_free(m->net);
    ic_frontend_free(m->fe);
    free(m->norm_mean);
    free(m->norm_std);
    free(m);
}

cJSON *ic_model_meta(const ic_model *m, const cJSON *extra_meta) {
    cJSON *meta = extra_meta ? cJSON_Duplicate(extra_meta, 1) : cJSON_CreateObject();
    IC_ASSERT(meta);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "frontend");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "window_samples");
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "pitch_base");
    cJSON_AddItemToObject(meta, "frontend", ic_frontend_to_json(&m->fp));
    cJSON_AddNumberToObject(meta, "window_samples", (double)m->window_samples);
    cJSON_AddNumberToObject(meta, "pitch_base", m->pitch_base);
    return meta;
}

ic_status ic_model_save(const ic_model *m, const char *path, const cJSON *extra_meta, ic_error *err) {
    cJSON *meta = ic_model_meta(m, extra_meta);
    ic_icw_tensor t[2];
    memset(t, 0, sizeof t);
    const char *names[2] = {"frontend.norm_mean", "frontend.norm_std"};
    const float *data[2] = {m->norm_mean, m->norm_std};
    for (int i = 0; i < 2; i++) {
        snprintf(t[i].name, sizeof t[i].name, "%s", names[i]);
        t[i].dtype = IC_DTYPE_F32;
        t[i].ndim = 1;
        t[i].shape[0] = m->n_features;
        t[i].nbytes = (size_t)m->n_features * sizeof(float);
        t[i].data = data[i];
    }
    ic_status st = ic_net_save(m->net, path, meta, t, 2, err);
    cJSON_Delete(meta);
    return st;
}

static const float *norm_tensor(const ic_icw_file *f, const char *name, int nf, const char *path, ic_error *err) {
    const ic_icw_tensor *t = ic_icw_find(f, name);
    if (!t || t->dtype != IC_DTYPE_F32 || t->ndim != 1 || t->shape[0] != nf) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: tensor \"%s\" missing or not f32 [%d]", path, name, nf);
        return NULL;
    }
    return t->data;
}

ic_model *ic_model_load(const char *path, ic_error *err) {
    ic_icw_file *f = NULL;
    ic_net *net = ic_net_load(path, &f, err);
    if (!net) return NULL;
    ic_model *m = ic_xcalloc(1, sizeof *m);
    m->net = net;
    cJSON *meta = cJSON_Parse(f->meta_json);
    const cJSON *fe = cJSON_GetObjectItemCaseSensitive(meta, "frontend");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(meta, "window_samples");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(meta, "pitch_base");
    ic_error inner = {0};
    if (!fe || ic_frontend_from_json(fe, &m->fp, &inner)) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: front-end parameters: %s", path, fe ? inner.msg : "missing");
        goto fail;
    }
    if (!cJSON_IsNumber(ws) || ws->valuedouble < 1 || ws->valuedouble > 1e9 || !cJSON_IsNumber(pb)) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: window_samples or pitch_base missing or invalid", path);
        goto fail;
    }
    m->window_samples = (size_t)ws->valuedouble;
    m->pitch_base = (int)pb->valuedouble;
    int nf = ic_frontend_n_features(&m->fp);
    const float *mean = norm_tensor(f, "frontend.norm_mean", nf, path, err);
    const float *std = mean ? norm_tensor(f, "frontend.norm_std", nf, path, err) : NULL;
    if (!std) goto fail;
    m->norm_mean = ic_xmalloc((size_t)nf * sizeof(float));
    m->norm_std = ic_xmalloc((size_t)nf * sizeof(float));
    memcpy(m->norm_mean, mean, (size_t)nf * sizeof(float));
    memcpy(m->norm_std, std, (size_t)nf * sizeof(float));
    for (int i = 0; i < nf; i++)
        if (!isfinite(m->norm_mean[i]) || !(m->norm_std[i] > 0) || !isfinite(m->norm_std[i])) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: normalisation statistics of band %d are invalid", path, i);
            goto fail;
        }
    cJSON_Delete(meta);
    ic_icw_free(f);
    m = finish(m, err);
    if (!m) return NULL;
    return m;
fail:
    cJSON_Delete(meta);
    ic_icw_free(f);
    ic_model_free(m);
    return NULL;
}

size_t ic_model_work_floats(const ic_model *m) {
    return ic_frontend_work_floats(m->fe) + m->window_samples;
}

void ic_model_raw_features(const ic_model *m, const float *samples, size_t n, float *feat, float *work) {
    /* always a full window so every call yields exactly n_frames frames */
    float *win = work;
    size_t k = n < m->window_samples ? n : m->window_samples;
    memcpy(win, samples, k * sizeof(float));
    memset(win + k, 0, (m->window_samples - k) * sizeof(float));
    ic_frontend_compute(m->fe, win, m->window_samples, feat, work + m->window_samples);
}

void ic_model_normalise(const ic_model *m, float *feat) {
    for (int b = 0; b < m->n_features; b++) {
        float mu = m->norm_mean[b], inv = 1.0f / m->norm_std[b];
        float *row = feat + (size_t)b * m->n_frames;
        for (int t = 0; t < m->n_frames; t++) row[t] = (row[t] - mu) * inv;
    }
}

void ic_model_features(const ic_model *m, const float *samples, size_t n, float *x, float *work) {
    ic_model_raw_features(m, samples, n, x, work);
    ic_model_normalise(m, x);
}
