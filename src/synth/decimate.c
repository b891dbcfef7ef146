/* Integer-factor decimation with a Kaiser-windowed sinc low-pass.  fluidsynth
 * interpolates samples without band limiting, so the generator renders at a multiple
 * of 16 kHz and filters here before keeping every factor-th sample.  Direct-form
 * convolution evaluated only at the kept samples; no allocation after init. */
#include "ic/synth.h"
#include <math.h>
#include <stdlib.h>

#define STOP_DB 90.0

/* Zeroth-order modified Bessel function of the first kind (power series). */
static double bessel_i0(double x) {
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    for (int k = 1; k < 200; k++) {
        term *= q / ((double)k * (double)k);
        sum += term;
        if (term < sum * 1e-17) break;
    }
    return sum;
}

ic_status ic_decimator_init(ic_decimator *d, int factor, ic_error *err) {
    d->h = NULL;
    d->taps = 0;
    d->factor = factor;
    if (factor < 1 || factor > 16) return ic_error_set(err, IC_ERR_ARG, "decimator: factor must be 1-16, found %d", factor);
    if (factor == 1) {
        d->taps = 1;
        d->h = malloc(sizeof *d->h);
        if (!d->h) return ic_error_set(err, IC_ERR_NOMEM, "decimator: out of memory");
        d->h[0] = 1.0f;
        return IC_OK;
    }
    /* In units of the input rate: cutoff fc = 1/(2 factor), transition width
     * dw = 2 * (1/16) / factor (+-1/16 of the output rate).  Kaiser's estimates:
     * beta = 0.1102 (A - 8.7), taps - 1 = (A - 7.95) / (14.36 dw). */
    double fc = 0.5 / factor, dw = 0.125 / factor;
    double beta = 0.1102 * (STOP_DB - 8.7);
    int half = (int)ceil((STOP_DB - 7.95) / (14.36 * dw) / 2.0);
    d->taps = 2 * half + 1;
    d->h = malloc((size_t)d->taps * sizeof *d->h);
    if (!d->h) return ic_error_set(err, IC_ERR_NOMEM, "decimator: out of memory");
    double sum = 0, i0b = bessel_i0(beta);
    double *tmp = malloc((size_t)d->taps * sizeof *tmp);
    if (!tmp) { free(d->h); d->h = NULL; return ic_error_set(err, IC_ERR_NOMEM, "decimator: out of memory"); }
    for (int k = 0; k < d->taps; k++) {
        double m = k - half;                       /* centred index */
        double x = 2.0 * fc * m;
        double sinc = m == 0 ? 1.0 : sin(M_PI * x) / (M_PI * x);
        double r = m / half;
        double w = bessel_i0(beta * sqrt(fmax(0.0, 1.0 - r * r))) / i0b;
        tmp[k] = 2.0 * fc * sinc * w;
        sum += tmp[k];
    }
    for (int k = 0; k < d->taps; k++) d->h[k] = (float)(tmp[k] / sum);   /* unit DC gain */
    for (int k = 0; k < half; k++) d->h[d->taps - 1 - k] = d->h[k];       /* exactly symmetric */
    free(tmp);
    return IC_OK;
}

void ic_decimator_free(ic_decimator *d) {
    if (!d) return;
    free(d->h);
    d->h = NULL;
}

size_t ic_decimator_input_len(const ic_decimator *d, size_t n_out) {
    IC_ASSERT(n_out > 0);
    return (size_t)d->factor * (n_out - 1) + (size_t)(d->taps - 1) / 2 + 1;
}

/* sum_k a[k] b[k] with 8 partial sums, which the compiler can keep in one vector. */
static float dot(const float *a, const float *b, int n) {
    float acc[8] = {0};
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[k + l] * b[k + l];
    float s = 0;
    for (; k < n; k++) s += a[k] * b[k];
    for (int l = 0; l < 8; l++) s += acc[l];
    return s;
}

void ic_decimate(const ic_decimator *d, const float *in, float *out, size_t n_out) {
    const long half = (d->taps - 1) / 2;
    /* h is symmetric, so out[j] = sum_k h[k] in[factor*j - half + k]: a forward dot
     * product over the window starting at factor*j - half (clipped at 0) */
    for (size_t j = 0; j < n_out; j++) {
        long start = (long)d->factor * (long)j - half;
        long k0 = start < 0 ? -start : 0;
        out[j] = dot(d->h + k0, in + start + k0, d->taps - (int)k0);
    }
}
