/* Synthetic room impulse responses and FFT convolution (ic/room.h).
 *
 * Convolution is overlap-add on the forward-only real FFT of ic/fft.h.  The inverse
 * transform uses the Hartley trick: for a Hermitian spectrum Y (the product of two
 * real signals' spectra) define the real length-N sequence
 *     Z[k] = Re Y[k] + Im Y[k],   Re/Im extended to k > N/2 by Y[N-k] = conj Y[k].
 * Re Y is even, so its DFT is real: sum_k Re Y[k] cos(2 pi jk/N); Im Y is odd, so its
 * DFT is imaginary: -i sum_k Im Y[k] sin(2 pi jk/N).  The inverse DFT of Y is
 *     y[j] = (1/N) sum_k (Re Y[k] cos - Im Y[k] sin) = (Re DFT(Z)[j] + Im DFT(Z)[j]) / N,
 * with DFT(Z)[j] = conj DFT(Z)[N-j] for j > N/2.  One forward real FFT per inverse. */
#include "ic/room.h"
#include "ic/fft.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LN1000 6.907755278982137 /* 3 ln 10: amplitude exp(-LN1000 t / rt60) is -60 dB in energy at rt60 */
#define MAX_IR ((size_t)1 << 22)
#define SINGLE_BLOCK_MAX ((size_t)1 << 16) /* FFT size up to which a whole input goes in one block */

static float uniform(ic_rng *r, float lo, float hi) { return lo + (hi - lo) * ic_rng_uniform(r); }

void ic_room_random(ic_room_params *p, int sample_rate, ic_rng *r) {
    p->sample_rate = sample_rate;
    p->rt60 = uniform(r, 0.3f, 1.5f);
    p->predelay = uniform(r, 0.005f, 0.030f);
    p->n_early = 3 + (int)ic_rng_below(r, 6);
    p->drr_db = uniform(r, -3.0f, 9.0f);
    p->cutoff = uniform(r, 2000.0f, 8000.0f);
    if (p->cutoff > 0.45f * (float)sample_rate) p->cutoff = 0.45f * (float)sample_rate;
}

ic_status ic_room_validate(const ic_room_params *p, ic_error *err) {
    if (p->sample_rate < 1000 || p->sample_rate > 768000)
        return ic_error_set(err, IC_ERR_ARG, "room: sample_rate %d outside [1000, 768000]", p->sample_rate);
    if (!(p->rt60 > 0 && p->rt60 <= 30))
        return ic_error_set(err, IC_ERR_ARG, "room: rt60 %g s outside (0, 30]", (double)p->rt60);
    if (!(p->predelay >= 0 && p->predelay <= 1))
        return ic_error_set(err, IC_ERR_ARG, "room: predelay %g s outside [0, 1]", (double)p->predelay);
    if (p->n_early < 0 || p->n_early > IC_ROOM_MAX_EARLY)
        return ic_error_set(err, IC_ERR_ARG, "room: n_early %d outside [0, %d]", p->n_early, IC_ROOM_MAX_EARLY);
    if (!(p->drr_db >= -40 && p->drr_db <= 60))
        return ic_error_set(err, IC_ERR_ARG, "room: drr_db %g outside [-40, 60]", (double)p->drr_db);
    if (!(p->cutoff > 0 && p->cutoff < 0.5f * (float)p->sample_rate))
        return ic_error_set(err, IC_ERR_ARG, "room: cutoff %g Hz outside (0, %g)", (double)p->cutoff,
                            0.5 * p->sample_rate);
    if (ic_room_ir_length(p) > MAX_IR)
        return ic_error_set(err, IC_ERR_ARG, "room: impulse response of %zu samples is longer than %zu",
                            ic_room_ir_length(p), MAX_IR);
    return IC_OK;
}

static size_t predelay_samples(const ic_room_params *p) {
    return (size_t)lround((double)p->predelay * p->sample_rate);
}

size_t ic_room_ir_length(const ic_room_params *p) {
    return predelay_samples(p) + (size_t)ceil((double)p->rt60 * p->sample_rate) + 1;
}

void ic_room_ir(const ic_room_params *p, ic_rng *r, float *ir) {
    size_t len = ic_room_ir_length(p), t0 = predelay_samples(p);
    double sr = p->sample_rate, decay = LN1000 / ((double)p->rt60 * sr); /* per sample, amplitude */
    memset(ir, 0, len * sizeof *ir);
    /* early reflections: discrete taps between 1 ms and the reverb onset */
    size_t lo = (size_t)ceil(0.001 * sr);
    if (lo < 1) lo = 1;
    for (int i = 0; i < p->n_early && t0 > lo; i++) {
        size_t d = lo + (size_t)ic_rng_below(r, t0 - lo);
        float g = uniform(r, 0.3f, 0.8f) * (float)exp(-decay * (double)d);
        ir[d] += (ic_rng_u64(r) & 1) ? g : -g;
    }
    /* late reverb: low-passed Gaussian noise under an exponential envelope */
    double a = 1.0 - exp(-2.0 * M_PI * p->cutoff / sr), lp = 0;
    for (size_t t = t0 + 1; t < len; t++) {
        lp += a * ((double)ic_rng_normal(r) - lp);
        ir[t] += (float)(lp * exp(-decay * (double)(t - t0)));
    }
    double e = 0;
    for (size_t t = 1; t < len; t++) e += (double)ir[t] * ir[t];
    if (e > 0) {
        float s = (float)sqrt(pow(10.0, -p->drr_db / 10.0) / e);
        for (size_t t = 1; t < len; t++) ir[t] *= s;
    }
    ir[0] = 1.0f;
}

static size_t next_pow2(size_t n) {
    size_t p = 2;
    while (p < n) p <<= 1;
    return p;
}

/* spec (N/2+1 complex, interleaved; overwritten) -> out (N) real inverse DFT; z (N) scratch. */
static void inverse_rfft(const ic_fft_plan *plan, size_t N, float *spec, float *z, float *out) {
    size_t h = N / 2;
    z[0] = spec[0];               /* Im Y[0] = 0 for a real signal */
    z[h] = spec[2 * h];           /* Im Y[N/2] = 0 too */
    for (size_t k = 1; k < h; k++) {
        float re = spec[2 * k], im = spec[2 * k + 1];
        z[k] = re + im;
        z[N - k] = re - im;       /* Y[N-k] = conj Y[k] */
    }
    float *zf = spec; /* spec is fully read into z: reuse it for DFT(Z) */
    ic_rfft(plan, z, zf);
    float inv = 1.0f / (float)N;
    for (size_t j = 0; j <= h; j++) out[j] = (zf[2 * j] + zf[2 * j + 1]) * inv;
    for (size_t j = h + 1; j < N; j++) out[j] = (zf[2 * (N - j)] - zf[2 * (N - j) + 1]) * inv;
}

static double peak_of(const float *x, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > m) m = fabs(x[i]);
    return m;
}

static double rms_of(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return n ? sqrt(s / (double)n) : 0;
}

ic_status ic_room_convolve(const float *x, size_t n, const float *ir, size_t m, float *y, size_t n_out,
                           ic_room_norm norm, ic_error *err) {
    if (m == 0 || m > MAX_IR)
        return ic_error_set(err, IC_ERR_ARG, "room: impulse response length %zu outside [1, %zu]", m, MAX_IR);
    if (n_out == 0) return IC_OK;
    double ref = norm == IC_ROOM_NORM_PEAK ? peak_of(x, n) : norm == IC_ROOM_NORM_RMS ? rms_of(x, n) : 0;
    size_t n_in = n < n_out ? n : n_out; /* input past n_out only reaches outputs past n_out */
    size_t N = next_pow2((n_in ? n_in : 1) + m - 1);
    if (N > SINGLE_BLOCK_MAX) {
        size_t nb = next_pow2(4 * m > 4096 ? 4 * m : 4096);
        N = nb > SINGLE_BLOCK_MAX ? (nb < N ? nb : N) : SINGLE_BLOCK_MAX;
    }
    size_t L = N - m + 1;         /* input samples per block */
    ic_fft_plan *plan = ic_fft_plan_new(N, err);
    if (!plan) return err ? err->code : IC_ERR_ARG;
    float *H = malloc((N + 2) * sizeof *H), *X = malloc((N + 2) * sizeof *X);
    float *seg = malloc(N * sizeof *seg), *blk = malloc(N * sizeof *blk), *tail = calloc(m, sizeof *tail);
    if (!H || !X || !seg || !blk || !tail) {
        free(H); free(X); free(seg); free(blk); free(tail);
        ic_fft_plan_free(plan);
        return ic_error_set(err, IC_ERR_NOMEM, "room: out of memory for a %zu-point convolution", N);
    }
    memcpy(seg, ir, m * sizeof *seg);
    memset(seg + m, 0, (N - m) * sizeof *seg);
    ic_rfft(plan, seg, H);
    /* block b: y[b, b+L) = (x[b, b+L) * ir)[0, L) + tail of the previous block */
    for (size_t b = 0; b < n_out; b += L) {
        size_t k = b < n_in ? (n_in - b < L ? n_in - b : L) : 0;
        size_t nout = n_out - b < L ? n_out - b : L;
        if (k) {
            memcpy(seg, x + b, k * sizeof *seg);
            memset(seg + k, 0, (N - k) * sizeof *seg);
            ic_rfft(plan, seg, X);
            for (size_t q = 0; q <= N / 2; q++) {
                float ar = X[2 * q], ai = X[2 * q + 1], br = H[2 * q], bi = H[2 * q + 1];
                X[2 * q] = ar * br - ai * bi;
                X[2 * q + 1] = ar * bi + ai * br;
            }
            inverse_rfft(plan, N, X, seg, blk);
        } else {
            memset(blk, 0, N * sizeof *blk);
        }
        for (size_t i = 0; i + 1 < m; i++) blk[i] += tail[i];
        /* blk[L, L+m-1) overlaps the next block: carry it */
        for (size_t i = 0; i + 1 < m; i++) tail[i] = blk[L + i];
        memcpy(y + b, blk, nout * sizeof *y);
    }
    free(H); free(X); free(seg); free(blk); free(tail);
    ic_fft_plan_free(plan);
    if (norm != IC_ROOM_NORM_NONE && ref > 0) {
        double got = norm == IC_ROOM_NORM_PEAK ? peak_of(y, n_out) : rms_of(y, n_out);
        if (got > 0) {
            float s = (float)(ref / got);
            for (size_t i = 0; i < n_out; i++) y[i] *= s;
        }
    }
    return IC_OK;
}

void ic_room_convolve_naive(const float *x, size_t n, const float *ir, size_t m, float *y, size_t n_out) {
    for (size_t i = 0; i < n_out; i++) {
        double s = 0;
        size_t j0 = i >= n ? i - n + 1 : 0;
        for (size_t j = j0; j < m && j <= i; j++) s += (double)ir[j] * x[i - j];
        y[i] = (float)s;
    }
}

ic_status ic_room_apply(const float *x, size_t n, int sample_rate, ic_rng *r, float *y, ic_error *err) {
    ic_room_params p;
    ic_room_random(&p, sample_rate, r);
    if (ic_room_validate(&p, err)) return err ? err->code : IC_ERR_ARG;
    size_t m = ic_room_ir_length(&p);
    float *ir = malloc(m * sizeof *ir);
    if (!ir) return ic_error_set(err, IC_ERR_NOMEM, "room: out of memory for a %zu-sample impulse response", m);
    ic_room_ir(&p, r, ir);
    ic_status st = ic_room_convolve(x, n, ir, m, y, n, IC_ROOM_NORM_RMS, err);
    free(ir);
    return st;
}
