/* Spectral-flux onset detector (include/ic/onset.h): framing by the shared framer,
 * Hann window, real FFT, log magnitude, max-filtered flux, causal peak picking with a
 * few frames of look-ahead.  Not here: tempo estimation, note segmentation. */
#include "ic/onset.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ic/fft.h"
#include "ic/stft.h"
#include "framer.h"

#define PRE_MAX 3            /* frames before a peak it must exceed */
#define PRE_AVG 10           /* frames before a peak in the local mean */
#define POST 3               /* look-ahead frames (latency) */
#define HIST (PRE_AVG + POST + 1)
#define MAX_HALF_LIFE_S 2.0  /* the running maximum halves in this time */

struct ic_onset {
    ic_onset_params p;
    size_t hop, n_fft, nb;       /* nb: bins 0..nb-1 used (up to fmax) */
    ic_framer fr;
    ic_fft_plan *plan;
    float *window, *frame, *spec;/* (n_fft) (n_fft) (n_fft+2) */
    float *prev, *cur;           /* (nb) log magnitudes of the previous / current frame */
    double mag_scale, win_energy, max_decay, running_max;
    int have_prev;
    /* the last HIST frames, by index modulo HIST */
    float env[HIST], level[HIST];
    long long n_env;             /* envelope values computed */
    long long n_out;             /* frames released */
    long long last_onset;        /* index of the last onset, -1 none */
    ic_onset_frame *q;
    size_t q_head, q_len, q_cap;
};

void ic_onset_defaults(ic_onset_params *p, int rate) {
    memset(p, 0, sizeof *p);
    p->rate = rate;
    p->hop_s = 0.01;
    p->window_s = 0.046;
    p->fmax = 8000;
    p->gamma = 100;
    p->delta = 0.005;
    p->rel = 0.05;
    p->min_gap_s = 0.05;
    p->silence_db = -55;
}

size_t ic_onset_hop(const ic_onset *o) { return o->hop; }
size_t ic_onset_fft_size(const ic_onset *o) { return o->n_fft; }

void ic_onset_free(ic_onset *o) {
    if (!o) return;
    ic_framer_free(&o->fr);
    ic_fft_plan_free(o->plan);
    free(o->window); free(o->frame); free(o->spec); free(o->prev); free(o->cur); free(o->q);
    free(o);
}

ic_onset *ic_onset_new(const ic_onset_params *p, ic_error *err) {
    if (p->rate < 4000 || p->rate > 192000)
        { ic_error_set(err, IC_ERR_ARG, "onset: sample rate must be 4000..192000 Hz, got %d", p->rate); return NULL; }
    if (!(p->hop_s > 0 && p->hop_s <= 0.1) || !(p->window_s >= 0.005 && p->window_s <= 1) || !(p->fmax > 0) ||
        !(p->gamma > 0) || !(p->delta >= 0) || !(p->rel >= 0 && p->rel < 1) || !(p->min_gap_s >= 0 && p->min_gap_s < 10))
        { ic_error_set(err, IC_ERR_ARG, "onset: bad parameters"); return NULL; }
    ic_onset *o = calloc(1, sizeof *o);
    if (!o) { ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory"); return NULL; }
    o->p = *p;
    o->hop = (size_t)lround(p->hop_s * p->rate);
    if (o->hop < 1) o->hop = 1;
    double want = p->window_s * p->rate;
    o->n_fft = 16;
    while ((double)o->n_fft * 1.4142135623730951 < want) o->n_fft *= 2;   /* nearest power of two in log */
    double fmax = p->fmax < p->rate / 2.0 ? p->fmax : p->rate / 2.0;
    o->nb = (size_t)floor(fmax * (double)o->n_fft / p->rate) + 1;
    if (o->nb > o->n_fft / 2 + 1) o->nb = o->n_fft / 2 + 1;
    o->plan = ic_fft_plan_new(o->n_fft, err);
    o->window = malloc(o->n_fft * sizeof(float));
    o->frame = malloc(o->n_fft * sizeof(float));
    o->spec = malloc((o->n_fft + 2) * sizeof(float));
    o->prev = calloc(o->nb, sizeof(float));
    o->cur = calloc(o->nb, sizeof(float));
    if (!o->plan || !o->window || !o->frame || !o->spec || !o->prev || !o->cur ||
        ic_framer_init(&o->fr, o->n_fft, o->n_fft / 2, o->hop)) {
        if (o->plan) ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory");
        ic_onset_free(o);
        return NULL;
    }
    ic_hann_window(o->n_fft, o->n_fft, o->window);
    double ws = 0, we = 0;
    for (size_t i = 0; i < o->n_fft; i++) { ws += o->window[i]; we += (double)o->window[i] * o->window[i]; }
    o->mag_scale = 2.0 / ws;     /* a sine of amplitude 1 peaks at |X| = 1 */
    o->win_energy = we;
    o->max_decay = exp2(-p->hop_s / MAX_HALF_LIFE_S);
    o->last_onset = -1;
    return o;
}

static int queue_push(ic_onset *o, const ic_onset_frame *f) {
    if (o->q_head == o->q_len) o->q_head = o->q_len = 0;
    if (o->q_len == o->q_cap) {
        if (o->q_head > 0) {
            memmove(o->q, o->q + o->q_head, (o->q_len - o->q_head) * sizeof *o->q);
            o->q_len -= o->q_head;
            o->q_head = 0;
        }
        if (o->q_len == o->q_cap) {
            size_t cap = o->q_cap ? 2 * o->q_cap : 64;
            ic_onset_frame *q = realloc(o->q, cap * sizeof *q);
            if (!q) return -1;
            o->q = q;
            o->q_cap = cap;
        }
    }
    o->q[o->q_len++] = *f;
    return 0;
}

/* Decides frame k (its look-ahead frames, as far as they exist, are computed). */
static int release(ic_onset *o, long long k) {
    float v = o->env[k % HIST];
    long long last = o->n_env - 1;
    int peak = v > 0;
    double sum = 0;
    int cnt = 0;
    for (long long j = k - PRE_AVG; j <= k + POST && j <= last; j++) {
        if (j < 0) continue;
        float e = o->env[j % HIST];
        sum += e;
        cnt++;
        if (j >= k - PRE_MAX && j != k && (j < k ? e >= v : e > v)) peak = 0;
    }
    if (v > o->running_max) o->running_max = v;
    if (peak && v < sum / cnt + o->p.delta) peak = 0;
    if (peak && v < o->p.rel * o->running_max) peak = 0;
    if (peak && o->last_onset >= 0 && (double)(k - o->last_onset) * o->p.hop_s < o->p.min_gap_s) peak = 0;
    if (peak) o->last_onset = k;
    o->running_max *= o->max_decay;
    ic_onset_frame f = {k, (double)k * (double)o->hop / o->p.rate, v, peak, o->level[k % HIST]};
    o->n_out++;
    return queue_push(o, &f);
}

static void analyse(ic_onset *o, const float *x) {
    size_t n = o->n_fft;
    double e = 0;
    for (size_t i = 0; i < n; i++) {
        o->frame[i] = x[i] * o->window[i];
        e += (double)o->frame[i] * o->frame[i];
    }
    double level = 10.0 * log10(e / o->win_energy + 1e-20);
    ic_rfft(o->plan, o->frame, o->spec);
    for (size_t b = 0; b < o->nb; b++) {
        double re = o->spec[2 * b], im = o->spec[2 * b + 1];
        o->cur[b] = (float)log1p(o->p.gamma * o->mag_scale * sqrt(re * re + im * im));
    }
    double flux = 0;
    if (o->have_prev && level >= o->p.silence_db) {
        for (size_t b = 0; b < o->nb; b++) {
            float ref = o->prev[b];
            if (b > 0 && o->prev[b - 1] > ref) ref = o->prev[b - 1];
            if (b + 1 < o->nb && o->prev[b + 1] > ref) ref = o->prev[b + 1];
            float dlt = o->cur[b] - ref;
            if (dlt > 0) flux += dlt;
        }
        flux /= (double)o->nb;
    }
    float *t = o->prev;
    o->prev = o->cur;
    o->cur = t;
    o->have_prev = 1;
    o->env[o->n_env % HIST] = (float)flux;
    o->level[o->n_env % HIST] = (float)level;
    o->n_env++;
}

static ic_status drain(ic_onset *o, ic_error *err) {
    const float *x;
    long long k;
    int got;
    while ((got = ic_framer_next(&o->fr, &x, &k)) == 1) {
        analyse(o, x);
        if (k >= POST && release(o, k - POST)) return ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory");
    }
    if (got < 0) return ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory");
    return IC_OK;
}

ic_status ic_onset_process(ic_onset *o, const float *x, size_t n, ic_error *err) {
    IC_ASSERT(!o->fr.finished);
    size_t slice = 4 * o->n_fft;
    for (size_t i = 0; i < n; i += slice) {
        size_t m = n - i < slice ? n - i : slice;
        if (ic_framer_push(&o->fr, x + i, m)) return ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory");
        ic_status st = drain(o, err);
        if (st != IC_OK) return st;
    }
    return IC_OK;
}

ic_status ic_onset_finish(ic_onset *o, ic_error *err) {
    if (o->fr.finished) return IC_OK;
    ic_framer_finish(&o->fr);
    ic_status st = drain(o, err);
    if (st != IC_OK) return st;
    while (o->n_out < o->n_env)
        if (release(o, o->n_out)) return ic_error_set(err, IC_ERR_NOMEM, "onset: out of memory");
    return IC_OK;
}

int ic_onset_pop(ic_onset *o, ic_onset_frame *f) {
    if (o->q_head == o->q_len) return 0;
    *f = o->q[o->q_head++];
    return 1;
}
