/* pYIN pitch tracker with fixed-lag Viterbi smoothing (include/ic/pitch.h).
 *
 * Difference function by FFT: with a = x[0..W) and b = x[0..N), N = W + tau_max,
 *   r(tau) = sum_{j<W} x_j x_{j+tau} = IDFT(conj(A) B)(tau)     (no wrap when M >= N)
 *   d(tau) = sum_{j<W} x_j^2 + sum_{j<W} x_{j+tau}^2 - 2 r(tau)  (energies by prefix sums)
 * The inverse transform of the Hermitian spectrum R reuses the forward real FFT
 * (Hartley trick): z[k] = Re R[k] - Im R[k] over the whole circle, then
 * M r[n] = Re Z[n] - Im Z[n].
 * Lags: parabolic interpolation of d' is biased by several cents when the period is
 * only ~10 samples (2 kHz at 22 kHz), so the likely candidates are refined on d itself,
 * evaluated at fractional lags from R by the band-limited inverse DFT:
 *   r(tau) = (1/M) [R_0 + R_{M/2} cos(pi tau) + 2 sum_{0<k<M/2} Re(R_k e^{2 pi i k tau / M})]
 * (two parabola fits at spacings 0.25 and 0.05 samples).  Not here: note segmentation,
 * onsets. */
#include "ic/pitch.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ic/fft.h"
#include "framer.h"

#define N_THRESH 100          /* pYIN thresholds 0.01 .. 1.00 */
#define MAX_MINIMA 64         /* local minima of d' examined per frame */
#define MAX_CAND 8            /* candidates kept per frame (most probable) */
#define BIN_CENTS 20.0        /* HMM pitch resolution */
#define LOCAL_BINS 5          /* small steps: up to +-1 semitone per frame */
#define P_ABSENT 0.01         /* share of the "no minimum below threshold" mass given to the global minimum */
#define EMIT_FLOOR 1e-5       /* smallest emission probability */
#define REFINE_P 0.05         /* candidates at least this probable get the exact lag */
#define OCT_TOL 0.05          /* a dip within 5% of twice a lag is its octave below */
#define OCT_RATIO 0.6         /* octave check (see candidates()) */
#define OCT_DIFF 0.008

typedef struct { float f0, p, dprime; int bin; } cand;

typedef struct {
    long long index;
    float rms, voicing;
    int n_cand;
    cand c[MAX_CAND];
} frame_rec;

struct ic_pitch {
    ic_pitch_params p;
    size_t hop, W, tau_min, tau_max, N, M;
    ic_framer fr;
    ic_fft_plan *plan;
    float *a, *b, *A, *B, *z, *Z, *d;  /* (M) (M) (M+2) (M+2) (M) (M+2) (tau_max+1) */
    float *R;                          /* (M+2) conj(A) B of the current frame, re/im */
    double *energy;                    /* (N+1) prefix sums of x^2 */
    double cdf[N_THRESH + 1];          /* cdf[i]: prior mass of thresholds <= i/100 */
    double silence_rms;
    /* HMM: states 0..n_bins-1 voiced pitch bins, n_bins unvoiced */
    int n_bins, n_states, lag, ring;
    float log_local[LOCAL_BINS + 1], log_jump, log_stay_u, log_uv, log_vu, log_floor;
    float *delta, *delta_new;          /* (n_states) log scores, max 0 */
    float *logb;                       /* (n_states) emissions of the current frame */
    uint16_t *bp;                      /* (ring, n_states) back pointers */
    frame_rec *rec;                    /* (ring) analysed frames awaiting decoding */
    int *path;                         /* (ring) states, for the final backtrack */
    long long n_frames, n_emitted;
    ic_pitch_frame *q;                 /* decoded frames not yet popped */
    size_t q_head, q_len, q_cap;
};

void ic_pitch_defaults(ic_pitch_params *p, int rate) {
    memset(p, 0, sizeof *p);
    p->rate = rate;
    p->fmin = 40.0;
    p->fmax = rate / 4.0 < 2100.0 ? rate / 4.0 : 2100.0;
    p->hop_s = 0.01;
    p->window_s = 0.046;
    p->beta_a = 2.0;
    p->beta_b = 11.33;
    p->silence_db = -60.0;
    p->unvoiced_weight = 0.1;
    p->p_jump = 0.01;
    p->p_switch = 0.01;
    p->lag = 24;
}

double ic_hz_to_midi(double hz, double a4) { return 69.0 + 12.0 * log2(hz / a4); }
double ic_midi_to_hz(double midi, double a4) { return a4 * exp2((midi - 69.0) / 12.0); }

size_t ic_pitch_hop(const ic_pitch *t) { return t->hop; }
size_t ic_pitch_frame_len(const ic_pitch *t) { return t->N; }
size_t ic_pitch_tau_max(const ic_pitch *t) { return t->tau_max; }

void ic_pitch_free(ic_pitch *t) {
    if (!t) return;
    ic_framer_free(&t->fr);
    ic_fft_plan_free(t->plan);
    free(t->a); free(t->b); free(t->R); free(t->A); free(t->B); free(t->z); free(t->Z); free(t->d);
    free(t->energy);
    free(t->delta); free(t->delta_new); free(t->logb); free(t->bp); free(t->rec); free(t->path);
    free(t->q);
    free(t);
}

/* Discrete Beta(a, b) prior over the thresholds i/100, i = 1..100, as a CDF. */
static void threshold_prior(double a, double b, double *cdf) {
    double w[N_THRESH + 1], sum = 0;
    w[0] = 0;
    for (int i = 1; i <= N_THRESH; i++) {
        double s = i / (double)N_THRESH;
        if (s >= 1.0) s = 1.0 - 0.5 / N_THRESH;   /* the density may be infinite at 1 */
        w[i] = exp((a - 1) * log(s) + (b - 1) * log1p(-s));
        sum += w[i];
    }
    cdf[0] = 0;
    for (int i = 1; i <= N_THRESH; i++) cdf[i] = cdf[i - 1] + w[i] / sum;
    cdf[N_THRESH] = 1.0;
}

/* Prior mass of the thresholds s <= x. */
static double prior_cdf(const double *cdf, double x) {
    if (x >= 1.0) return 1.0;
    if (x < 1.0 / N_THRESH) return 0.0;
    int i = (int)floor(x * N_THRESH + 1e-9);
    return cdf[i > N_THRESH ? N_THRESH : i];
}

ic_pitch *ic_pitch_new(const ic_pitch_params *p, ic_error *err) {
    if (p->rate < 4000 || p->rate > 192000)
        { ic_error_set(err, IC_ERR_ARG, "pitch: sample rate must be 4000..192000 Hz, got %d", p->rate); return NULL; }
    if (!(p->fmin >= 20 && p->fmin < p->fmax && p->fmax <= p->rate / 4.0))
        { ic_error_set(err, IC_ERR_ARG, "pitch: need 20 <= fmin < fmax <= rate/4, got %g..%g Hz at %d Hz", p->fmin, p->fmax, p->rate); return NULL; }
    if (!(p->hop_s > 0 && p->hop_s <= 0.1) || !(p->window_s > 0 && p->window_s <= 1))
        { ic_error_set(err, IC_ERR_ARG, "pitch: hop must be in (0, 0.1] s and window in (0, 1] s"); return NULL; }
    if (!(p->beta_a > 0 && p->beta_b > 0 && p->unvoiced_weight > 0 && p->p_jump > 0 && p->p_switch > 0 &&
          p->p_jump + p->p_switch < 0.5 && p->p_switch < 0.5) || p->lag < 0 || p->lag > 1000)
        { ic_error_set(err, IC_ERR_ARG, "pitch: bad HMM parameters"); return NULL; }
    ic_pitch *t = calloc(1, sizeof *t);
    if (!t) { ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory"); return NULL; }
    t->p = *p;
    t->hop = (size_t)lround(p->hop_s * p->rate);
    if (t->hop < 1) t->hop = 1;
    t->W = (size_t)lround(p->window_s * p->rate);
    t->tau_min = (size_t)floor(p->rate / p->fmax);
    t->tau_max = (size_t)ceil(p->rate / p->fmin) + 1;
    if (t->tau_min < 2) t->tau_min = 2;
    if (t->W < t->tau_max) {
        ic_error_set(err, IC_ERR_ARG, "pitch: window %g s is shorter than one period of fmin %g Hz", p->window_s, p->fmin);
        ic_pitch_free(t);
        return NULL;
    }
    t->N = t->W + t->tau_max;
    t->M = 2;
    while (t->M < t->N) t->M *= 2;
    t->silence_rms = pow(10.0, p->silence_db / 20.0);
    threshold_prior(p->beta_a, p->beta_b, t->cdf);

    t->n_bins = (int)floor(1200.0 * log2(p->fmax / p->fmin) / BIN_CENTS) + 1;
    t->n_states = t->n_bins + 1;
    t->lag = p->lag;
    t->ring = p->lag + 1;
    /* transitions, as log probabilities */
    double stay = 1.0 - p->p_switch - p->p_jump, tri_sum = 0;
    for (int k = -LOCAL_BINS; k <= LOCAL_BINS; k++) tri_sum += LOCAL_BINS + 1 - abs(k);
    for (int k = 0; k <= LOCAL_BINS; k++) t->log_local[k] = (float)log(stay * (LOCAL_BINS + 1 - k) / tri_sum);
    t->log_jump = (float)log(p->p_jump / t->n_bins);
    t->log_vu = (float)log(p->p_switch);
    t->log_uv = (float)log(p->p_switch / t->n_bins);
    t->log_stay_u = (float)log(1.0 - p->p_switch);
    t->log_floor = (float)log(EMIT_FLOOR);

    size_t S = (size_t)t->n_states, R = (size_t)t->ring;
    t->plan = ic_fft_plan_new(t->M, err);
    t->a = malloc(t->M * sizeof(float));
    t->b = malloc(t->M * sizeof(float));
    t->z = malloc(t->M * sizeof(float));
    t->A = malloc((t->M + 2) * sizeof(float));
    t->B = malloc((t->M + 2) * sizeof(float));
    t->Z = malloc((t->M + 2) * sizeof(float));
    t->R = malloc((t->M + 2) * sizeof(float));
    t->d = malloc((t->tau_max + 1) * sizeof(float));
    t->energy = malloc((t->N + 1) * sizeof(double));
    t->delta = malloc(S * sizeof(float));
    t->delta_new = malloc(S * sizeof(float));
    t->logb = malloc(S * sizeof(float));
    t->bp = malloc(R * S * sizeof(uint16_t));
    t->rec = calloc(R, sizeof *t->rec);
    t->path = malloc(R * sizeof(int));
    if (!t->plan || !t->a || !t->b || !t->z || !t->A || !t->B || !t->Z || !t->R || !t->d || !t->energy || !t->delta ||
        !t->delta_new || !t->logb || !t->bp || !t->rec || !t->path || S > 65535 ||
        ic_framer_init(&t->fr, t->N, t->W / 2, t->hop)) {
        if (t->plan) ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory");
        ic_pitch_free(t);
        return NULL;
    }
    /* start: most likely unvoiced (the input begins with the zero padding) */
    for (int s = 0; s < t->n_bins; s++) t->delta[s] = (float)log(0.5 / t->n_bins);
    t->delta[t->n_bins] = (float)log(0.5);
    return t;
}

void ic_yin_cmnd_naive(const float *x, size_t W, size_t tau_max, float *d) {
    d[0] = 1.0f;
    double run = 0;
    for (size_t tau = 1; tau <= tau_max; tau++) {
        double s = 0;
        for (size_t j = 0; j < W; j++) { double e = (double)x[j] - (double)x[j + tau]; s += e * e; }
        run += s;
        d[tau] = run > 0 ? (float)(s * (double)tau / run) : 1.0f;
    }
}

void ic_pitch_cmnd(ic_pitch *t, const float *x, float *d) {
    size_t W = t->W, N = t->N, M = t->M;
    memcpy(t->a, x, W * sizeof *x);
    memset(t->a + W, 0, (M - W) * sizeof *x);
    memcpy(t->b, x, N * sizeof *x);
    memset(t->b + N, 0, (M - N) * sizeof *x);
    ic_rfft(t->plan, t->a, t->A);
    ic_rfft(t->plan, t->b, t->B);
    /* R = conj(A) B, then z over the whole circle (R[M-k] = conj R[k]) */
    for (size_t k = 0; k <= M / 2; k++) {
        float ar = t->A[2 * k], ai = t->A[2 * k + 1], br = t->B[2 * k], bi = t->B[2 * k + 1];
        float re = ar * br + ai * bi, im = ar * bi - ai * br;
        t->R[2 * k] = re;
        t->R[2 * k + 1] = im;
        t->z[k] = re - im;
        if (k > 0 && k < M / 2) t->z[M - k] = re + im;
    }
    ic_rfft(t->plan, t->z, t->Z);
    double *E = t->energy;
    E[0] = 0;
    for (size_t j = 0; j < N; j++) E[j + 1] = E[j] + (double)x[j] * (double)x[j];
    double ea = E[W], run = 0, inv_m = 1.0 / (double)M;
    d[0] = 1.0f;
    for (size_t tau = 1; tau <= t->tau_max; tau++) {
        double r = ((double)t->Z[2 * tau] - (double)t->Z[2 * tau + 1]) * inv_m;
        double dt = ea + (E[tau + W] - E[tau]) - 2.0 * r;
        if (dt < 0) dt = 0;
        run += dt;
        d[tau] = run > 0 ? (float)(dt * (double)tau / run) : 1.0f;
    }
}

/* d(tau) at a fractional lag 1 <= tau < tau_max of the frame last given to
 * ic_pitch_cmnd (its R and energies); the lagged energy is interpolated linearly. */
static double d_at(const ic_pitch *t, double tau) {
    size_t M = t->M, W = t->W;
    double th = 6.283185307179586476925286766559 * tau / (double)M;
    double ct = cos(th), st = sin(th), c = ct, s = st, sum = 0;
    for (size_t k = 1; k < M / 2; k++) {
        sum += (double)t->R[2 * k] * c - (double)t->R[2 * k + 1] * s;
        double cn = c * ct - s * st;
        s = s * ct + c * st;
        c = cn;
    }
    double r = ((double)t->R[0] + (double)t->R[M] * cos(3.14159265358979323846 * tau) + 2.0 * sum) / (double)M;
    size_t i = (size_t)floor(tau);
    double fr = tau - (double)i;
    const double *E = t->energy;
    double eb0 = E[i + W] - E[i], eb1 = E[i + 1 + W] - E[i + 1];
    return E[W] + eb0 + fr * (eb1 - eb0) - 2.0 * r;
}

/* Minimum of d near tau0 by two parabola fits. */
static double refine_lag(const ic_pitch *t, double tau0) {
    const double H[2] = {0.25, 0.05};
    double tau = tau0;
    for (int it = 0; it < 2; it++) {
        double h = H[it];
        if (tau - h < 1.0 || tau + h + 1.0 >= (double)t->tau_max) break;
        double y0 = d_at(t, tau - h), y1 = d_at(t, tau), y2 = d_at(t, tau + h), den = y0 - 2 * y1 + y2;
        if (!(den > 0)) break;
        double shift = 0.5 * h * (y0 - y2) / den;
        if (shift > 2 * h) shift = 2 * h;
        if (shift < -2 * h) shift = -2 * h;
        tau += shift;
    }
    return tau;
}

static int bin_of(const ic_pitch *t, double f0) {
    int b = (int)lround(1200.0 * log2(f0 / t->p.fmin) / BIN_CENTS);
    return b < 0 ? 0 : b >= t->n_bins ? t->n_bins - 1 : b;
}

typedef struct { size_t tau; float v; double p, lag, a; } minimum;

/* Lag of a minimum: parabolic interpolation of d', then (when refine) the exact
 * minimum of d; and its aperiodicity a = 1 - r^2 / (e_a e_b), the energy left after
 * the best gain: unlike d it does not grow with the lag when the level changes (attacks). */
static void settle(const ic_pitch *t, const float *d, minimum *m, int refine) {
    if (m->lag > 0 && !(refine && m->a < 0)) return;
    size_t tau = m->tau;
    double y0 = d[tau - 1], y1 = d[tau], y2 = d[tau + 1], den = y0 - 2 * y1 + y2, shift = 0;
    if (den > 0) shift = 0.5 * (y0 - y2) / den;
    if (shift > 1) shift = 1;
    if (shift < -1) shift = -1;
    m->lag = (double)tau + shift;
    m->a = -1;
    if (!refine) return;
    m->lag = refine_lag(t, m->lag);
    size_t i = (size_t)floor(m->lag);
    double fr = m->lag - (double)i;
    const double *E = t->energy;
    double eb = (E[i + t->W] - E[i]) + fr * ((E[i + 1 + t->W] - E[i + 1]) - (E[i + t->W] - E[i]));
    double ea = E[t->W], r = 0.5 * (ea + eb - d_at(t, m->lag));
    m->a = ea > 0 && eb > 0 ? 1.0 - r * r / (ea * eb) : 1.0;
}

/* pYIN candidates of one frame from d' into r (r->voicing = their total probability).
 * Octave check: YIN takes the first good dip, so a tone whose even harmonics dominate
 * (the fundamental and odd harmonics 20-30 dB down, as in some bassoon and cello
 * notes) reads an octave high.  Those odd harmonics leave an aperiodicity at the
 * half period that the full period does not have; when the dip at twice the lag is
 * clearly more periodic (a(2L) < OCT_RATIO a(L) and a(L) - a(2L) > OCT_DIFF, both at
 * exact lags), the candidate's probability moves to the longer lag. */
static void candidates(ic_pitch *t, const float *d, frame_rec *r) {
    size_t tau_lo = t->tau_min, tau_hi = t->tau_max - 1;
    minimum mins[MAX_MINIMA];
    int n = 0;
    size_t gmin = tau_lo;
    for (size_t tau = tau_lo; tau <= tau_hi; tau++) {
        if (d[tau] < d[gmin]) gmin = tau;
        if (n < MAX_MINIMA && d[tau] < d[tau - 1] && d[tau] <= d[tau + 1]) {
            mins[n] = (minimum){tau, d[tau], 0, -1, -1};
            n++;
        }
    }
    /* minimum j is the first below threshold s for v_j < s <= min_{i<j} v_i */
    double prev_min = 2.0, total = 0;
    for (int j = 0; j < n; j++) {
        if (mins[j].v < prev_min) {
            mins[j].p = prior_cdf(t->cdf, prev_min) - prior_cdf(t->cdf, mins[j].v);
            prev_min = mins[j].v;
        }
        total += mins[j].p;
    }
    /* thresholds below every minimum: mostly unvoiced, a little for the global minimum */
    double absent = prior_cdf(t->cdf, d[gmin]);
    for (int j = 0; j < n; j++)
        if (mins[j].tau == gmin) { mins[j].p += P_ABSENT * absent; total += P_ABSENT * absent; }
    for (int j = 0; j < n; j++) {
        if (mins[j].p < REFINE_P) continue;
        settle(t, d, &mins[j], 1);
        int k = -1;
        double want = 2.0 * mins[j].lag;
        for (int i = j + 1; i < n; i++)
            if (fabs((double)mins[i].tau - want) <= OCT_TOL * want &&
                (k < 0 || fabs((double)mins[i].tau - want) < fabs((double)mins[k].tau - want))) k = i;
        if (k < 0) continue;
        settle(t, d, &mins[k], 1);
        if (mins[k].a < OCT_RATIO * mins[j].a && mins[j].a - mins[k].a > OCT_DIFF) {
            mins[k].p += mins[j].p;
            mins[j].p = 0;
        }
    }
    r->n_cand = 0;
    r->voicing = (float)(total > 1 ? 1 : total);
    for (int j = 0; j < n; j++) {
        if (mins[j].p <= 0) continue;
        /* keep the MAX_CAND most probable */
        int slot = r->n_cand;
        if (slot == MAX_CAND) {
            slot = 0;
            for (int k = 1; k < MAX_CAND; k++) if (r->c[k].p < r->c[slot].p) slot = k;
            if (r->c[slot].p >= mins[j].p) continue;
        } else {
            r->n_cand++;
        }
        settle(t, d, &mins[j], mins[j].p >= REFINE_P);
        double f0 = t->p.rate / mins[j].lag;
        r->c[slot].f0 = (float)f0;
        r->c[slot].p = (float)mins[j].p;
        r->c[slot].dprime = mins[j].v;
        r->c[slot].bin = bin_of(t, f0);
    }
}

/* One Viterbi step with frame r's emissions; back pointers into bp[slot]. */
static void viterbi_step(ic_pitch *t, const frame_rec *r, uint16_t *bp) {
    int nb = t->n_bins, U = nb;
    float *lb = t->logb;
    for (int s = 0; s < nb; s++) lb[s] = t->log_floor;
    double voiced = 0;
    for (int c = 0; c < r->n_cand; c++) voiced += r->c[c].p;
    for (int c = 0; c < r->n_cand; c++) {
        double sum = 0;   /* candidates sharing a bin add up */
        for (int k = 0; k < r->n_cand; k++) if (r->c[k].bin == r->c[c].bin) sum += r->c[k].p;
        lb[r->c[c].bin] = (float)log(sum > EMIT_FLOOR ? sum : EMIT_FLOOR);
    }
    double pu = (1.0 - (voiced > 1 ? 1 : voiced)) * t->p.unvoiced_weight;
    lb[U] = (float)log(pu > EMIT_FLOOR ? pu : EMIT_FLOOR);

    const float *dl = t->delta;
    float *dn = t->delta_new;
    int vbest = 0;
    for (int s = 1; s < nb; s++) if (dl[s] > dl[vbest]) vbest = s;
    float from_jump = dl[vbest] + t->log_jump, from_u = dl[U] + t->log_uv;
    for (int s = 0; s < nb; s++) {
        float best = from_jump;
        int arg = vbest;
        if (from_u > best) { best = from_u; arg = U; }
        int lo = s - LOCAL_BINS < 0 ? 0 : s - LOCAL_BINS, hi = s + LOCAL_BINS >= nb ? nb - 1 : s + LOCAL_BINS;
        for (int i = lo; i <= hi; i++) {
            float v = dl[i] + t->log_local[abs(i - s)];
            if (v > best) { best = v; arg = i; }
        }
        dn[s] = best + lb[s];
        bp[s] = (uint16_t)arg;
    }
    float stay = dl[U] + t->log_stay_u, enter = dl[vbest] + t->log_vu;
    dn[U] = (stay >= enter ? stay : enter) + lb[U];
    bp[U] = (uint16_t)(stay >= enter ? U : vbest);
    float mx = dn[0];
    for (int s = 1; s <= U; s++) if (dn[s] > mx) mx = dn[s];
    for (int s = 0; s <= U; s++) t->delta[s] = dn[s] - mx;
}

static int queue_push(ic_pitch *t, const ic_pitch_frame *f) {
    if (t->q_head == t->q_len) t->q_head = t->q_len = 0;
    if (t->q_len == t->q_cap) {
        if (t->q_head > 0) {
            memmove(t->q, t->q + t->q_head, (t->q_len - t->q_head) * sizeof *t->q);
            t->q_len -= t->q_head;
            t->q_head = 0;
        }
        if (t->q_len == t->q_cap) {
            size_t cap = t->q_cap ? 2 * t->q_cap : 64;
            ic_pitch_frame *q = realloc(t->q, cap * sizeof *q);
            if (!q) return -1;
            t->q = q;
            t->q_cap = cap;
        }
    }
    t->q[t->q_len++] = *f;
    return 0;
}

/* Decoded frame from a record and its state. */
static int emit(ic_pitch *t, const frame_rec *r, int state) {
    ic_pitch_frame f = {r->index, (double)r->index * (double)t->hop / t->p.rate, 0, r->voicing, 0, r->rms};
    if (state < t->n_bins) {
        int best = -1;
        for (int c = 0; c < r->n_cand; c++) {
            int db = abs(r->c[c].bin - state);
            if (db > LOCAL_BINS) continue;
            if (best < 0) { best = c; continue; }
            int dbb = abs(r->c[best].bin - state);
            /* within two bins the most probable wins, else the nearest */
            if ((db <= 2 && dbb <= 2) ? r->c[c].p > r->c[best].p : db < dbb) best = c;
        }
        if (best >= 0) {
            f.f0 = r->c[best].f0;
            f.periodicity = 1.0f - r->c[best].dprime;
            if (f.periodicity < 0) f.periodicity = 0;
        } else {
            f.f0 = (float)(t->p.fmin * exp2(state * BIN_CENTS / 1200.0));
        }
    }
    t->n_emitted++;
    return queue_push(t, &f);
}

static int argmax_state(const ic_pitch *t) {
    int best = 0;
    for (int s = 1; s < t->n_states; s++) if (t->delta[s] > t->delta[best]) best = s;
    return best;
}

/* Analyses one frame and decodes the frame `lag` behind it. */
static int analyse(ic_pitch *t, const float *x, long long index) {
    int slot = (int)(index % t->ring);
    frame_rec *r = &t->rec[slot];
    r->index = index;
    double e = 0;
    const float *w = x;   /* the integration window */
    for (size_t j = 0; j < t->W; j++) e += (double)w[j] * w[j];
    r->rms = (float)sqrt(e / (double)t->W);
    if (r->rms < t->silence_rms) {
        r->n_cand = 0;
        r->voicing = 0;
    } else {
        ic_pitch_cmnd(t, x, t->d);
        candidates(t, t->d, r);
    }
    viterbi_step(t, r, t->bp + (size_t)slot * (size_t)t->n_states);
    t->n_frames++;
    if (index < t->lag) return 0;
    int s = argmax_state(t);
    for (long long k = index; k > index - t->lag; k--) s = t->bp[(size_t)(k % t->ring) * (size_t)t->n_states + (size_t)s];
    return emit(t, &t->rec[(index - t->lag) % t->ring], s);
}

static ic_status drain(ic_pitch *t, ic_error *err) {
    const float *x;
    long long k;
    int got;
    while ((got = ic_framer_next(&t->fr, &x, &k)) == 1)
        if (analyse(t, x, k)) return ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory");
    if (got < 0) return ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory");
    return IC_OK;
}

ic_status ic_pitch_process(ic_pitch *t, const float *x, size_t n, ic_error *err) {
    IC_ASSERT(!t->fr.finished);
    /* in slices, so the framer's buffer stays near one frame whatever the block size */
    size_t slice = 4 * t->N;
    for (size_t i = 0; i < n; i += slice) {
        size_t m = n - i < slice ? n - i : slice;
        if (ic_framer_push(&t->fr, x + i, m)) return ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory");
        ic_status st = drain(t, err);
        if (st != IC_OK) return st;
    }
    return IC_OK;
}

ic_status ic_pitch_finish(ic_pitch *t, ic_error *err) {
    if (t->fr.finished) return IC_OK;
    ic_framer_finish(&t->fr);
    ic_status st = drain(t, err);
    if (st != IC_OK) return st;
    /* the frames still inside the lag: backtrack from the best final state */
    long long n = t->n_frames, first = t->n_emitted;
    if (first >= n) return IC_OK;
    int s = argmax_state(t);
    for (long long k = n - 1; k >= first; k--) {
        t->path[k % t->ring] = s;
        if (k > first) s = t->bp[(size_t)(k % t->ring) * (size_t)t->n_states + (size_t)s];
    }
    for (long long k = first; k < n; k++)
        if (emit(t, &t->rec[k % t->ring], t->path[k % t->ring])) return ic_error_set(err, IC_ERR_NOMEM, "pitch: out of memory");
    return IC_OK;
}

int ic_pitch_pop(ic_pitch *t, ic_pitch_frame *f) {
    if (t->q_head == t->q_len) return 0;
    *f = t->q[t->q_head++];
    return 1;
}
