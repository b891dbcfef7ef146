/* Real FFT for the audio front end: a radix-2 complex FFT of n/2 points plus the
 * real-split post-processing, with twiddles and bit-reversal in a plan object.
 * Beside it, a plain O(n^2) DFT in double precision that the tests use as the
 * reference.  Not a general FFT library: power-of-two sizes, forward only. */
#ifndef IC_FFT_H
#define IC_FFT_H
#include <stddef.h>
#include "ic/error.h"

typedef struct ic_fft_plan ic_fft_plan;

/* Plan for real input of n samples; n a power of two, 2 <= n <= 2^24.  NULL + err otherwise. */
ic_fft_plan *ic_fft_plan_new(size_t n, ic_error *err);
/* Frees a plan; NULL is fine. */
void ic_fft_plan_free(ic_fft_plan *p);
/* The n the plan was made for. */
size_t ic_fft_plan_size(const ic_fft_plan *p);
/* in (n) real -> out (n/2+1 bins, interleaved re,im: 2*(n/2+1) = n+2 floats).
 * X[k] = sum_j in[j] exp(-2 pi i j k / n).  in and out must not overlap.
 * Reentrant: the plan is read-only, so threads may share it. */
void ic_rfft(const ic_fft_plan *p, const float *in, float *out);
/* Same transform by the O(n^2) definition, accumulated in double; any n >= 1. */
void ic_dft_real_naive(const float *in, size_t n, float *out);

#endif
