/* Batched inference for the programs (ic/predict.h): slots of network input, an
 * eval-mode forward, per-head softmax, and decoding into a per-window prediction. */
#include "ic/predict.h"
#include "ic/loss.h"
#include "ic/nsynth.h"
#include <stdlib.h>
#include <string.h>

ic_predictor *ic_predictor_new(ic_model *m, int cap, ic_error *err) {
    if (cap < 1) { ic_error_set(err, IC_ERR_ARG, "predictor: batch of %d windows", cap); return NULL; }
    if (ic_net_reserve_eval(m->net, cap, err)) return NULL;
    ic_predictor *p = calloc(1, sizeof *p);
    if (!p) { ic_error_set(err, IC_ERR_NOMEM, "predictor: out of memory"); return NULL; }
    p->model = m;
    p->cap = cap;
    p->in_floats = (size_t)m->n_features * (size_t)m->n_frames;
    p->x = calloc((size_t)cap * p->in_floats, sizeof *p->x);
    int fail = !p->x;
    for (int h = 0; h < m->net->n_heads && !fail; h++) {
        p->probs[h] = calloc((size_t)cap * (size_t)m->net->heads[h].classes, sizeof(float));
        fail = !p->probs[h];
    }
    if (fail) {
        ic_predictor_free(p);
        ic_error_set(err, IC_ERR_NOMEM, "predictor: out of memory for %d windows", cap);
        return NULL;
    }
    p->playing_class = -1;
    if (m->head_activity >= 0) {
        const ic_head *H = &m->net->heads[m->head_activity];
        p->playing_class = H->classes > 1 ? 1 : 0;
        for (int k = 0; H->labels && k < H->classes; k++)
            if (strcmp(H->labels[k], "playing") == 0) p->playing_class = k;
    }
    return p;
}

void ic_predictor_free(ic_predictor *p) {
    if (!p) return;
    free(p->x);
    for (int h = 0; h < IC_NET_MAX_HEADS; h++) free(p->probs[h]);
    free(p);
}

float *ic_predictor_slot(ic_predictor *p, int i) {
    IC_ASSERT(i >= 0 && i < p->cap);
    return p->x + (size_t)i * p->in_floats;
}

void ic_predictor_set_window(ic_predictor *p, int i, const float *samples, size_t n, float *work) {
    ic_model_features(p->model, samples, n, ic_predictor_slot(p, i), work);
}

void ic_predictor_run(ic_predictor *p, int n) {
    IC_ASSERT(n > 0 && n <= p->cap);
    ic_net *net = p->model->net;
    ic_net_forward(net, p->x, n, 0, NULL);
    for (int h = 0; h < net->n_heads; h++)
        ic_softmax(n, net->heads[h].classes, ic_net_logits(net, h), p->probs[h]);
    p->n = n;
}

const float *ic_predictor_probs(const ic_predictor *p, int h, int i) {
    IC_ASSERT(h >= 0 && h < p->model->net->n_heads && i >= 0 && i < p->n);
    return p->probs[h] + (size_t)i * (size_t)p->model->net->heads[h].classes;
}

void ic_predictor_decode(const ic_predictor *p, int i, ic_prediction *out) {
    const ic_model *m = p->model;
    memset(out, 0, sizeof *out);
    out->p_playing = 1.0f;
    if (m->head_activity >= 0) out->p_playing = ic_predictor_probs(p, m->head_activity, i)[p->playing_class];
    out->playing = out->p_playing >= IC_PLAYING_THRESHOLD;
    out->family = -1;
    if (m->head_family >= 0) {
        const float *pf = ic_predictor_probs(p, m->head_family, i);
        int k = m->net->heads[m->head_family].classes;
        out->n_top = ic_topk(pf, k, IC_PREDICT_TOPK, out->top);
        for (int j = 0; j < out->n_top; j++) out->top_p[j] = pf[out->top[j]];
        out->family = out->top[0];
        out->family_p = out->top_p[0];
    }
    out->pitch_midi = -1;
    if (m->head_pitch >= 0) {
        const float *pp = ic_predictor_probs(p, m->head_pitch, i);
        int k = ic_argmax(pp, m->net->heads[m->head_pitch].classes);
        out->pitch_midi = m->pitch_base + k;
        out->pitch_p = pp[k];
    }
}

const char *ic_predict_family_name(const ic_model *m, int k, char *buf, size_t cap) {
    if (m->head_family >= 0) {
        const ic_head *H = &m->net->heads[m->head_family];
        if (H->labels && k >= 0 && k < H->classes) return H->labels[k];
    }
    const char *s = ic_nsynth_family_name(k);
    if (s) return s;
    snprintf(buf, cap, "class %d", k);
    return buf;
}

int ic_argmax(const float *x, int k) {
    IC_ASSERT(k > 0);
    int best = 0;
    for (int i = 1; i < k; i++) if (x[i] > x[best]) best = i;
    return best;
}

int ic_topk(const float *x, int k, int n, int *idx) {
    int got = 0;
    if (n > k) n = k;
    /* selection by repeated scans: k is a handful of classes */
    while (got < n) {
        int best = -1;
        for (int i = 0; i < k; i++) {
            int used = 0;
            for (int j = 0; j < got; j++) used |= idx[j] == i;
            if (!used && (best < 0 || x[i] > x[best])) best = i;
        }
        idx[got++] = best;
    }
    return got;
}

static const char *const NOTE_NAMES[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};

const char *ic_midi_note_name(int midi, char *buf, size_t cap) {
    if (midi < 0 || midi > 127) snprintf(buf, cap, "?");
    else snprintf(buf, cap, "%s%d", NOTE_NAMES[midi % 12], midi / 12 - 1);
    return buf;
}
