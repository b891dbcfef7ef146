/* Synthetic acoustic conditions for augmentation and evaluation: room impulse
 * responses (a direct sound, a few early reflections, then exponentially decaying
 * low-passed noise with a chosen RT60), FFT convolution of a clip with an IR (with a
 * direct convolution beside it for the tests).  Every random draw goes through an
 * ic_rng.  Not a room simulator: no geometry, no per-band decay times.  Background
 * noise lives in ic/noise.h. */
#ifndef IC_ROOM_H
#define IC_ROOM_H
#include <stddef.h>
#include "ic/error.h"
#include "ic/rng.h"

#define IC_ROOM_MAX_EARLY 16

typedef struct {
    int sample_rate;   /* Hz */
    float rt60;        /* s: the late reverb's energy falls by 60 dB in this time */
    float predelay;    /* s: direct sound -> onset of the late reverb; early reflections lie in between */
    int n_early;       /* early reflections, 0..IC_ROOM_MAX_EARLY */
    float drr_db;      /* direct-to-reverberant energy ratio (direct vs early + late), dB */
    float cutoff;      /* Hz: one-pole low-pass on the reverb noise (air and wall absorption) */
} ic_room_params;

/* Draws a room: rt60 U(0.3, 1.5) s, predelay U(5, 30) ms, 3..8 early reflections,
 * drr U(-3, 9) dB, cutoff U(2, 8) kHz (at most 0.45 * sample_rate). */
void ic_room_random(ic_room_params *p, int sample_rate, ic_rng *r);
/* IC_ERR_ARG naming the bad field (rt60 in (0, 30] s, predelay in [0, 1] s, ...). */
ic_status ic_room_validate(const ic_room_params *p, ic_error *err);
/* Samples of the IR: direct sound, predelay, then the late reverb down to -60 dB. */
size_t ic_room_ir_length(const ic_room_params *p);
/* Fills ir (ic_room_ir_length(p) floats) from validated params: ir[0] = 1 (direct),
 * early reflections with random delays in [1 ms, predelay) and signs, gains falling
 * with the same decay; from predelay on, low-passed Gaussian noise times
 * exp(-3 ln(10) t / rt60) (amplitude; energy -60 dB at rt60).  Early and late parts
 * are scaled together so their energy is 10^(-drr_db/10) of the direct sound's. */
void ic_room_ir(const ic_room_params *p, ic_rng *r, float *ir);

typedef enum {
    IC_ROOM_NORM_NONE = 0,  /* y as convolved */
    IC_ROOM_NORM_PEAK,      /* y scaled so max|y| = max|x| */
    IC_ROOM_NORM_RMS        /* y scaled so rms(y) = rms(x) (each over its own length) */
} ic_room_norm;

/* y (n_out) = the first n_out samples of x (n) convolved with ir (m), then scaled
 * by norm (an all-zero x or y is left unscaled).  FFT overlap-add with the
 * project's real FFT; y may alias x.  IC_ERR_ARG when m > 2^22, IC_ERR_NOMEM. */
ic_status ic_room_convolve(const float *x, size_t n, const float *ir, size_t m, float *y, size_t n_out,
                           ic_room_norm norm, ic_error *err);
/* The same convolution by the definition (double accumulation, no scaling); y must
 * not alias x.  O(n_out * m): for tests. */
void ic_room_convolve_naive(const float *x, size_t n, const float *ir, size_t m, float *y, size_t n_out);
/* Convenience for data pipelines: draws a room with r, convolves x (n samples at
 * sample_rate) into y (n samples, may alias x), RMS-normalised. */
ic_status ic_room_apply(const float *x, size_t n, int sample_rate, ic_rng *r, float *y, ic_error *err);

#endif
