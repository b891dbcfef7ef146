/* Tempo estimate, DP beat tracking and steadiness (include/ic/tempo.h).
 * Lags and periods are in envelope frames (real-valued after interpolation).
 * Not here: the onset envelope, note segmentation. */
#include "ic/tempo.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_CAND 5              /* metrical levels tried: P, P/2, 2P, 2P/3, 3P/2 */
#define MIN_FRAMES_S 2.0      /* shortest envelope (s) worth a tempo */
#define MATCH_TOL 0.15         /* an onset is on a beat within this fraction of the period */
#define TIE 0.03              /* another metrical level must match the onsets this much better */
#define MIN_NOTES 4           /* marked notes needed to use them instead of the detected onsets */
#define FIT_AGREE 0.02        /* the beats' fitted period is used when within 2% of the chosen one */

struct ic_tempo {
    ic_tempo_params p;
    float *env;               /* (cap) envelope */
    unsigned char *onset;     /* (cap) onset flags */
    size_t n, cap;
    double *notes;            /* (cap_notes) note onsets marked, frames, ascending */
    size_t n_notes, cap_notes;
    double *beats;            /* result */
    size_t n_beats;
};

void ic_tempo_defaults(ic_tempo_params *p, double frame_rate) {
    memset(p, 0, sizeof *p);
    p->frame_rate = frame_rate;
    p->min_bpm = 40;
    p->max_bpm = 240;
    p->prior_bpm = 110;
    p->prior_octaves = 1.0;
    p->tightness = 100;
    p->window_s = 8;
}

ic_tempo *ic_tempo_new(const ic_tempo_params *p, ic_error *err) {
    if (!(p->frame_rate >= 10 && p->frame_rate <= 2000) || !(p->min_bpm >= 10 && p->min_bpm < p->max_bpm) ||
        !(p->max_bpm <= 60 * p->frame_rate / 4) || !(p->prior_bpm > 0) || !(p->prior_octaves > 0) ||
        !(p->tightness >= 0) || !(p->window_s > 0)) {
        ic_error_set(err, IC_ERR_ARG, "tempo: bad parameters (frame rate %g, %g..%g BPM)", p->frame_rate, p->min_bpm, p->max_bpm);
        return NULL;
    }
    ic_tempo *t = calloc(1, sizeof *t);
    if (!t) { ic_error_set(err, IC_ERR_NOMEM, "tempo: out of memory"); return NULL; }
    t->p = *p;
    return t;
}

void ic_tempo_free(ic_tempo *t) {
    if (!t) return;
    free(t->env);
    free(t->onset);
    free(t->notes);
    free(t->beats);
    free(t);
}

ic_status ic_tempo_add(ic_tempo *t, float strength, int onset, ic_error *err) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 4096;
        float *e = realloc(t->env, cap * sizeof *e);
        if (!e) return ic_error_set(err, IC_ERR_NOMEM, "tempo: out of memory");
        t->env = e;
        unsigned char *o = realloc(t->onset, cap);
        if (!o) return ic_error_set(err, IC_ERR_NOMEM, "tempo: out of memory");
        t->onset = o;
        t->cap = cap;
    }
    t->env[t->n] = strength > 0 ? strength : 0;
    t->onset[t->n] = onset ? 1 : 0;
    t->n++;
    return IC_OK;
}

ic_status ic_tempo_add_note(ic_tempo *t, double onset_s, ic_error *err) {
    if (t->n_notes == t->cap_notes) {
        size_t cap = t->cap_notes ? 2 * t->cap_notes : 256;
        double *v = realloc(t->notes, cap * sizeof *v);
        if (!v) return ic_error_set(err, IC_ERR_NOMEM, "tempo: out of memory");
        t->notes = v;
        t->cap_notes = cap;
    }
    double f = onset_s * t->p.frame_rate;
    size_t i = t->n_notes++;
    while (i > 0 && t->notes[i - 1] > f) { t->notes[i] = t->notes[i - 1]; i--; }   /* keep them sorted */
    t->notes[i] = f;
    return IC_OK;
}

static double lag_to_bpm(const ic_tempo *t, double lag) { return 60.0 * t->p.frame_rate / lag; }

static double prior(const ic_tempo *t, double lag) {
    double z = log2(lag_to_bpm(t, lag) / t->p.prior_bpm) / t->p.prior_octaves;
    return exp(-0.5 * z * z);
}

/* Best period (frames, interpolated) of env[from..to) by the prior-weighted
 * autocorrelation; 0 when none. */
static double acf_period(const ic_tempo *t, size_t from, size_t to) {
    size_t n = to - from;
    long lo = (long)floor(60.0 * t->p.frame_rate / t->p.max_bpm), hi = (long)ceil(60.0 * t->p.frame_rate / t->p.min_bpm);
    if (lo < 2) lo = 2;
    if ((size_t)hi + 2 >= n) hi = (long)n - 3;
    if (hi <= lo + 1) return 0;
    const float *e = t->env + from;
    double mean = 0;
    for (size_t i = 0; i < n; i++) mean += e[i];
    mean /= (double)n;
    double var = 0;
    for (size_t i = 0; i < n; i++) var += (e[i] - mean) * (e[i] - mean);
    if (var <= 0) return 0;
    double *ac = malloc((size_t)(hi + 2) * sizeof *ac);
    if (!ac) return 0;
    for (long L = lo - 1; L <= hi + 1; L++) {
        double s = 0;
        for (size_t i = 0; i + (size_t)L < n; i++) s += (e[i] - mean) * (e[i + (size_t)L] - mean);
        ac[L] = s / (double)(n - (size_t)L) / (var / (double)n);   /* unbiased, 1 at lag 0 */
    }
    long best = -1;
    double bv = 0;
    for (long L = lo; L <= hi; L++) {
        if (!(ac[L] > 0 && ac[L] >= ac[L - 1] && ac[L] >= ac[L + 1])) continue;
        double v = ac[L] * prior(t, (double)L);
        if (best < 0 || v > bv) { best = L; bv = v; }
    }
    double lag = 0;
    if (best >= 0) {
        double y0 = ac[best - 1], y1 = ac[best], y2 = ac[best + 1], den = y0 - 2 * y1 + y2, sh = 0;
        if (den < 0) sh = 0.5 * (y0 - y2) / den;
        if (sh > 0.5) sh = 0.5;
        if (sh < -0.5) sh = -0.5;
        lag = (double)best + sh;
    }
    free(ac);
    return lag;
}

/* Dynamic-programming beats at period P (frames) over e (n values) into out (cap >= n,
 * frames from the start of e); returns the count.  local, score: (n) scratch; back: (n). */
static size_t track(const ic_tempo *t, const float *e, size_t n_e, double P, double *local, double *score, long *back,
                    double *out) {
    long n = (long)n_e;
    long K = (long)ceil(P);
    long dlo = (long)lround(P / 2), dhi = (long)lround(2 * P);
    if (dlo < 1) dlo = 1;
    double *pen = malloc((size_t)(dhi + K + 2) * sizeof *pen);
    if (!pen) return 0;
    double *g = pen + dhi + 1;   /* (K + 1) Gaussian kernel */
    for (long k = 0; k <= K; k++) { double z = (double)k * 32.0 / P; g[k] = exp(-0.5 * z * z); }
    for (long i = 0; i < n; i++) {
        double s = 0;
        for (long k = -K; k <= K; k++)
            if (i + k >= 0 && i + k < n) s += e[i + k] * g[labs(k)];
        local[i] = s;
    }
    for (long d = dlo; d <= dhi; d++) { double l = log((double)d / P); pen[d] = t->p.tightness * l * l; }
    for (long i = 0; i < n; i++) {
        double best = 0;
        long arg = -1;
        for (long d = dlo; d <= dhi && i - d >= 0; d++) {
            double v = score[i - d] - pen[d];
            if (v > best) { best = v; arg = i - d; }
        }
        score[i] = local[i] + best;
        back[i] = arg;
    }
    free(pen);
    /* last beat: the last local maximum of the score at least half the median maximum */
    double *mx = out;   /* borrowed as scratch for the maxima */
    size_t nm = 0;
    for (long i = 1; i + 1 < n; i++)
        if (score[i] > score[i - 1] && score[i] >= score[i + 1]) mx[nm++] = score[i];
    if (nm == 0) return 0;
    for (size_t i = 1; i < nm; i++)   /* insertion sort is fine: few maxima per period */
        for (size_t j = i; j > 0 && mx[j] < mx[j - 1]; j--) { double x = mx[j]; mx[j] = mx[j - 1]; mx[j - 1] = x; }
    double med = mx[nm / 2];
    long last = -1;
    for (long i = n - 2; i >= 1 && last < 0; i--)
        if (score[i] > score[i - 1] && score[i] >= score[i + 1] && score[i] >= 0.5 * med) last = i;
    if (last < 0) return 0;
    size_t nb = 0;
    for (long i = last; i >= 0; i = back[i]) out[nb++] = (double)i;
    for (size_t i = 0; i < nb / 2; i++) { double x = out[i]; out[i] = out[nb - 1 - i]; out[nb - 1 - i] = x; }
    /* trim beats at either end that fall where nothing sounds */
    double rms = 0;
    for (size_t i = 0; i < nb; i++) rms += local[(long)out[i]] * local[(long)out[i]];
    rms = sqrt(rms / (double)nb);
    size_t a = 0, b = nb;
    while (a < b && local[(long)out[a]] < 0.5 * rms) a++;
    while (b > a && local[(long)out[b - 1]] < 0.5 * rms) b--;
    memmove(out, out + a, (b - a) * sizeof *out);
    return b - a;
}

typedef struct { double at, w; } event;   /* an onset: frame (from the span start), weight */

/* F-measure of beats (frames) against onsets ev (ascending), tolerance MATCH_TOL * P:
 * recall is the share of onset weight that falls on a beat, precision the share of
 * beats with an onset. */
static double match(const event *ev, size_t n_ev, const double *beats, size_t nb, double P) {
    double tol = MATCH_TOL * P, w_all = 0, w_hit = 0;
    size_t beat_hit = 0, j = 0, k = 0;
    if (nb == 0) return 0;
    for (size_t i = 0; i < n_ev; i++) {
        w_all += ev[i].w;
        while (j + 1 < nb && beats[j + 1] <= ev[i].at) j++;
        double d = fabs(beats[j] - ev[i].at);
        if (j + 1 < nb && fabs(beats[j + 1] - ev[i].at) < d) d = fabs(beats[j + 1] - ev[i].at);
        if (d <= tol) w_hit += ev[i].w;
    }
    for (size_t b = 0; b < nb; b++) {
        while (k < n_ev && ev[k].at < beats[b] - tol) k++;
        if (k < n_ev && ev[k].at <= beats[b] + tol) beat_hit++;
    }
    if (w_all <= 0 || w_hit <= 0 || beat_hit == 0) return 0;
    double r = w_hit / w_all, p = (double)beat_hit / (double)nb;
    return 2 * r * p / (r + p);
}

/* The onsets of env[from..to) to match beats against: the notes marked with
 * ic_tempo_add_note when there are at least MIN_NOTES of them (weight 1), else the
 * detected onsets weighted by their strength.  *n gets the count; NULL when out of memory. */
static event *onsets_of(const ic_tempo *t, size_t from, size_t to, size_t *n) {
    size_t k = 0, notes = 0;
    for (size_t i = 0; i < t->n_notes; i++) notes += t->notes[i] >= (double)from && t->notes[i] < (double)to;
    int use_notes = notes >= MIN_NOTES;
    event *ev = malloc(((use_notes ? notes : to - from) + 1) * sizeof *ev);
    if (!ev) return NULL;
    if (use_notes) {
        for (size_t i = 0; i < t->n_notes; i++)
            if (t->notes[i] >= (double)from && t->notes[i] < (double)to) ev[k++] = (event){t->notes[i] - (double)from, 1.0};
    } else {
        for (size_t i = from; i < to; i++)
            if (t->onset[i]) ev[k++] = (event){(double)(i - from), t->env[i]};
    }
    *n = k;
    return ev;
}

/* Least-squares slope of beat time (frames) against beat number. */
static double fitted_period(const double *b, size_t n) {
    if (n < 2) return 0;
    double mi = (double)(n - 1) / 2, mb = 0, sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) mb += b[i];
    mb /= (double)n;
    for (size_t i = 0; i < n; i++) { sxy += ((double)i - mi) * (b[i] - mb); sxx += ((double)i - mi) * ((double)i - mi); }
    return sxy / sxx;
}

/* Tempo of env[from..to): period in frames (0: none), beats (frames from `from`) into
 * beats (cap to - from) and their count, confidence.  -1 when out of memory. */
static int estimate(const ic_tempo *t, size_t from, size_t to, double *beats, size_t *n_beats, double *period,
                    double *confidence) {
    *n_beats = 0;
    *period = 0;
    *confidence = 0;
    size_t n = to - from;
    if ((double)n < MIN_FRAMES_S * t->p.frame_rate) return 0;
    double P0 = acf_period(t, from, to);
    if (P0 <= 0) return 0;
    const float *env = t->env + from;
    size_t n_ev = 0;
    event *ev = onsets_of(t, from, to, &n_ev);
    float *e = malloc(n * sizeof *e);
    double *local = malloc(n * sizeof *local), *score = malloc(n * sizeof *score), *cand = malloc(n * sizeof *cand);
    long *back = malloc(n * sizeof *back);
    int rc = ev && e && local && score && cand && back ? 0 : -1;
    if (rc == 0) {
        /* the envelope in units of its standard deviation (loudness does not matter) */
        double mean = 0, var = 0;
        for (size_t i = 0; i < n; i++) mean += env[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++) var += (env[i] - mean) * (env[i] - mean);
        double sd = sqrt(var / (double)(n - 1));
        for (size_t i = 0; i < n; i++) e[i] = sd > 0 ? (float)(env[i] / sd) : 0;
        double lag_lo = 60.0 * t->p.frame_rate / t->p.max_bpm, lag_hi = 60.0 * t->p.frame_rate / t->p.min_bpm;
        const double mult[N_CAND] = {1.0, 0.5, 2.0, 2.0 / 3.0, 1.5};
        double best_f = -1, best_P = 0;
        for (int c = 0; c < N_CAND; c++) {
            double P = P0 * mult[c];
            if (P < lag_lo * 0.98 || P > lag_hi * 1.02) continue;
            size_t nb = track(t, e, n, P, local, score, back, cand);
            if (nb < 2) continue;
            double f = match(ev, n_ev, cand, nb, P);
            /* candidate 0 is the autocorrelation's own choice: the others must beat it clearly */
            if (best_f < 0 || f > best_f + TIE) {
                best_f = f;
                best_P = P;
                memcpy(beats, cand, nb * sizeof *cand);
                *n_beats = nb;
            }
        }
        if (*n_beats >= 2) {
            /* the beats' own period when they keep to P (finer than the lag grid), else P:
             * a beat sequence that slips half a beat somewhere has a biased slope */
            double per = fitted_period(beats, *n_beats);
            *period = fabs(per / best_P - 1.0) < FIT_AGREE ? per : best_P;
            *confidence = best_f > 0 ? best_f : 0;
        } else {
            *n_beats = 0;
        }
    }
    free(ev); free(e); free(local); free(score); free(cand); free(back);
    return rc;
}

double ic_tempo_current(const ic_tempo *t) {
    size_t w = (size_t)lround(t->p.window_s * t->p.frame_rate);
    size_t from = t->n > w ? t->n - w : 0, nb;
    double *beats = malloc((t->n - from + 1) * sizeof *beats), per = 0, conf;
    if (!beats || estimate(t, from, t->n, beats, &nb, &per, &conf)) per = 0;
    free(beats);
    return per > 0 ? lag_to_bpm(t, per) : 0;
}

ic_status ic_tempo_finish(ic_tempo *t, ic_tempo_result *r, ic_error *err) {
    memset(r, 0, sizeof *r);
    free(t->beats);
    t->n_beats = 0;
    t->beats = malloc((t->n + 1) * sizeof *t->beats);
    double per, conf;
    if (!t->beats || estimate(t, 0, t->n, t->beats, &t->n_beats, &per, &conf))
        return ic_error_set(err, IC_ERR_NOMEM, "tempo: out of memory");
    if (t->n_beats == 0) return IC_OK;
    for (size_t i = 0; i < t->n_beats; i++) t->beats[i] /= t->p.frame_rate;
    r->bpm = lag_to_bpm(t, per);
    r->confidence = conf;
    r->beats = t->beats;
    r->n_beats = t->n_beats;
    return IC_OK;
}

void ic_tempo_steadiness(const double *onsets, size_t n, double bpm, ic_steadiness *s) {
    const double values[] = {0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0};
    memset(s, 0, sizeof *s);
    double beat = bpm > 0 ? 60.0 / bpm : 0, longest = beat > 0 ? 4.0 * beat * 1.1 : 4.0;
    double sum = 0, sum2 = 0, dev2 = 0;
    for (size_t i = 1; i < n; i++) {
        double ioi = onsets[i] - onsets[i - 1];
        if (!(ioi > 0) || ioi > longest) continue;
        s->n_intervals++;
        sum += ioi;
        sum2 += ioi * ioi;
        if (beat > 0) {
            double best = INFINITY;
            for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
                double d = ioi - values[k] * beat;
                if (fabs(d) < fabs(best)) best = d;
            }
            dev2 += best * best;
        }
    }
    if (s->n_intervals == 0) return;
    double m = sum / (double)s->n_intervals, var = sum2 / (double)s->n_intervals - m * m;
    s->ioi_mean_ms = 1000.0 * m;
    s->ioi_std_ms = 1000.0 * sqrt(var > 0 ? var : 0);
    s->ioi_cv = m > 0 ? s->ioi_std_ms / s->ioi_mean_ms : 0;
    if (beat > 0) s->timing_ms = 1000.0 * sqrt(dev2 / (double)s->n_intervals);
}
