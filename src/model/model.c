/* ic_model: network + front end + input kind + normalisation, saved and loaded as
 * one .icw (see ic/model.h for the two input kinds). */
#include "ic/model.h"
#include <math.h>
#include <string.h>

static const char *const SUMMARY_NAMES[IC_SUMMARY_N_STATS] = {"mean", "std", "delta_mean", "delta_std"};

int ic_summary_count(unsigned summary) {
    int n = 0;
    for (int s = 0; s < IC_SUMMARY_N_STATS; s++) n += (summary >> s) & 1u;
    return n;
}

/* Mean and population std of x[0], x[step], ... (n values, n >= 1). */
static void mean_std(const float *x, int n, int diff, float *mean, float *std) {
    double sum = 0, sq = 0;
    for (int t = 0; t < n; t++) sum += diff ? (double)x[t + 1] - x[t] : x[t];
    double mu = sum / n;
    for (int t = 0; t < n; t++) {
        double d = (diff ? (double)x[t + 1] - x[t] : x[t]) - mu;
        sq += d * d;
    }
    *mean = (float)mu;
    *std = (float)sqrt(sq / n);
}

void ic_summary_compute(unsigned summary, const float *mat, int bands, int frames, float *out) {
    IC_ASSERT(bands > 0 && frames > 0 && summary && summary < (1u << IC_SUMMARY_N_STATS));
    for (int b = 0; b < bands; b++) {
        const float *row = mat + (size_t)b * frames;
        float st[IC_SUMMARY_N_STATS] = {0, 0, 0, 0};
        mean_std(row, frames, 0, &st[0], &st[1]);
        if (frames >= 2) mean_std(row, frames - 1, 1, &st[2], &st[3]);
        int k = 0;
        for (int s = 0; s < IC_SUMMARY_N_STATS; s++)
            if (summary & (1u << s)) out[(size_t)(k++) * bands + b] = st[s];
    }
}

/* Front-end matrix shape and network input shape from fp, window and input kind. */
static void input_dims(ic_model *m) {
    m->fe_features = ic_frontend_n_features(&m->fp);
    m->fe_frames = (int)ic_frontend_n_frames(&m->fp, m->window_samples);
    if (m->input == IC_INPUT_SUMMARY) {
        m->n_features = m->fe_features * ic_summary_count(m->summary);
        m->n_frames = 1;
    } else {
        m->n_features = m->fe_features;
        m->n_frames = m->fe_frames;
    }
}

static ic_status check_shape(const ic_model *m, ic_error *err) {
    const ic_net *n = m->net;
    if (m->input == IC_INPUT_SUMMARY) {
        if (n->in_h != 1 || n->in_w != 1 || n->in_c != m->n_features)
            return ic_error_set(err, IC_ERR_FORMAT,
                                "model input [%d,%d,%d] does not match the summary statistics' [%d]",
                                n->in_c, n->in_h, n->in_w, m->n_features);
        return IC_OK;
    }
    if (n->in_c != 1 || n->in_h != m->n_features || n->in_w != m->n_frames)
        return ic_error_set(err, IC_ERR_FORMAT,
                            "model input [%d,%d,%d] does not match the front end's [1,%d,%d]",
                            n->in_c, n->in_h, n->in_w, m->n_features, m->n_frames);
    return IC_OK;
}

static ic_model *finish(ic_model *m, ic_error *err) {
    m->fe = ic_frontend_new(&m->fp, err);
    if (!m->fe) { ic_model_free(m); return NULL; }
    input_dims(m);
    if (check_shape(m, err)) { ic_model_free(m); return NULL; }
    m->head_family = ic_net_head(m->net, "family");
    m->head_pitch = ic_net_head(m->net, "pitch");
    m->head_activity = ic_net_head(m->net, "activity");
    return m;
}

static ic_model *create(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples, int pitch_base,
                        ic_input_kind input, unsigned summary, ic_error *err) {
    if (ic_frontend_validate(fp, err)) return NULL;
    if (window_samples == 0) { ic_error_set(err, IC_ERR_ARG, "window length must be positive"); return NULL; }
    if (input == IC_INPUT_SUMMARY && (summary == 0 || summary >= (1u << IC_SUMMARY_N_STATS))) {
        ic_error_set(err, IC_ERR_ARG, "summary statistics: bit set 0x%x is empty or unknown", summary);
        return NULL;
    }
    ic_model *m = ic_xcalloc(1, sizeof *m);
    m->fp = *fp;
    m->window_samples = window_samples;
    m->pitch_base = pitch_base;
    m->input = input;
    m->summary = input == IC_INPUT_SUMMARY ? summary : 0;
    m->net = ic_net_new(arch, err);
    if (!m->net) { ic_model_free(m); return NULL; }
    input_dims(m);
    m->norm_mean = ic_xcalloc((size_t)m->n_features, sizeof(float));
    m->norm_std = ic_xcalloc((size_t)m->n_features, sizeof(float));
    for (int i = 0; i < m->n_features; i++) m->norm_std[i] = 1.0f;
    return finish(m, err);
}

ic_model *ic_model_create(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                          int pitch_base, ic_error *err) {
    return create(arch, fp, window_samples, pitch_base, IC_INPUT_FRAMES, 0, err);
}

ic_model *ic_model_create_summary(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                                  int pitch_base, unsigned summary, ic_error *err) {
    return create(arch, fp, window_samples, pitch_base, IC_INPUT_SUMMARY, summary, err);
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
    static const char *const OWN[] = {"frontend", "window_samples", "pitch_base", "input", "summary"};
    for (size_t i = 0; i < sizeof OWN / sizeof OWN[0]; i++) cJSON_DeleteItemFromObjectCaseSensitive(meta, OWN[i]);
    cJSON_AddItemToObject(meta, "frontend", ic_frontend_to_json(&m->fp));
    cJSON_AddNumberToObject(meta, "window_samples", (double)m->window_samples);
    cJSON_AddNumberToObject(meta, "pitch_base", m->pitch_base);
    cJSON_AddStringToObject(meta, "input", m->input == IC_INPUT_SUMMARY ? "summary" : "frames");
    if (m->input == IC_INPUT_SUMMARY) {
        cJSON *list = cJSON_AddArrayToObject(meta, "summary");
        for (int s = 0; s < IC_SUMMARY_N_STATS; s++)
            if (m->summary & (1u << s)) cJSON_AddItemToArray(list, cJSON_CreateString(SUMMARY_NAMES[s]));
    }
    return meta;
}

void ic_model_norm_tensors(const ic_model *m, ic_icw_tensor t[2]) {
    memset(t, 0, 2 * sizeof *t);
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
}

ic_status ic_model_save(const ic_model *m, const char *path, const cJSON *extra_meta, ic_error *err) {
    cJSON *meta = ic_model_meta(m, extra_meta);
    ic_icw_tensor t[2];
    ic_model_norm_tensors(m, t);
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

/* meta "input" / "summary" -> m->input, m->summary.  Absent "input" means frames
 * (files written before summary inputs existed). */
static ic_status parse_input(const cJSON *meta, ic_model *m, const char *path, ic_error *err) {
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(meta, "input");
    m->input = IC_INPUT_FRAMES;
    m->summary = 0;
    if (!in) return IC_OK;
    if (cJSON_IsString(in) && !strcmp(in->valuestring, "frames")) return IC_OK;
    if (!cJSON_IsString(in) || strcmp(in->valuestring, "summary"))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: meta \"input\" must be \"frames\" or \"summary\"", path);
    m->input = IC_INPUT_SUMMARY;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(meta, "summary"), *it;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: meta \"summary\" must list the input's statistics", path);
    int last = -1;
    cJSON_ArrayForEach(it, list) {
        int s = -1;
        for (int k = 0; k < IC_SUMMARY_N_STATS && cJSON_IsString(it); k++)
            if (!strcmp(it->valuestring, SUMMARY_NAMES[k])) s = k;
        /* the vector's layout is the canonical order, so the list must be in it */
        if (s <= last)
            return ic_error_set(err, IC_ERR_FORMAT,
                                "%s: meta \"summary\": expected distinct statistics among mean, std, delta_mean, "
                                "delta_std in that order, found %s", path,
                                cJSON_IsString(it) ? it->valuestring : "a non-string");
        m->summary |= 1u << s;
        last = s;
    }
    return IC_OK;
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
    if (parse_input(meta, m, path, err)) goto fail;
    m->window_samples = (size_t)ws->valuedouble;
    m->pitch_base = (int)pb->valuedouble;
    input_dims(m);
    int nf = m->n_features;
    /* the shape first: a mismatch says more than the normalisation tensors would */
    if (check_shape(m, &inner)) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: %s", path, inner.msg);
        goto fail;
    }
    const float *mean = norm_tensor(f, "frontend.norm_mean", nf, path, err);
    const float *std = mean ? norm_tensor(f, "frontend.norm_std", nf, path, err) : NULL;
    if (!std) goto fail;
    m->norm_mean = ic_xmalloc((size_t)nf * sizeof(float));
    m->norm_std = ic_xmalloc((size_t)nf * sizeof(float));
    memcpy(m->norm_mean, mean, (size_t)nf * sizeof(float));
    memcpy(m->norm_std, std, (size_t)nf * sizeof(float));
    for (int i = 0; i < nf; i++)
        if (!isfinite(m->norm_mean[i]) || !(m->norm_std[i] > 0) || !isfinite(m->norm_std[i])) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: normalisation statistics of %s %d are invalid", path,
                         m->input == IC_INPUT_SUMMARY ? "element" : "band", i);
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

/* Scratch layout: [window (window_samples)] [front-end scratch] [matrix, summary only]. */
size_t ic_model_work_floats(const ic_model *m) {
    size_t n = ic_frontend_work_floats(m->fe) + m->window_samples;
    if (m->input == IC_INPUT_SUMMARY) n += (size_t)m->fe_features * (size_t)m->fe_frames;
    return n;
}

void ic_model_raw_features(const ic_model *m, const float *samples, size_t n, float *feat, float *work) {
    /* always a full window so every call yields exactly fe_frames frames */
    float *win = work;
    size_t k = n < m->window_samples ? n : m->window_samples;
    memcpy(win, samples, k * sizeof(float));
    memset(win + k, 0, (m->window_samples - k) * sizeof(float));
    float *fe_work = work + m->window_samples;
    if (m->input == IC_INPUT_FRAMES) {
        ic_frontend_compute(m->fe, win, m->window_samples, feat, fe_work);
        return;
    }
    float *mat = fe_work + ic_frontend_work_floats(m->fe);
    ic_frontend_compute(m->fe, win, m->window_samples, mat, fe_work);
    ic_summary_compute(m->summary, mat, m->fe_features, m->fe_frames, feat);
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
