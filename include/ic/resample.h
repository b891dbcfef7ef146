/* Streaming mono resampler (libsamplerate, SRC_SINC_MEDIUM_QUALITY: passband flat to
 * about 0.9 of Nyquist, ~97 dB stopband).  Feed input in blocks of any size; the
 * output does not depend on how the input is cut.  Equal rates pass samples through. */
#ifndef IC_RESAMPLE_H
#define IC_RESAMPLE_H
#include <stddef.h>
#include "ic/error.h"

typedef struct ic_resampler ic_resampler;

/* NULL + IC_ERR_ARG when a rate is not positive or out/in is outside [1/256, 256]. */
ic_resampler *ic_resampler_new(int in_rate, int out_rate, ic_error *err);
void ic_resampler_free(ic_resampler *r);

/* Consumes up to n_in samples of in (sets *used) and writes up to cap_out samples to
 * out (sets *gen).  eof = 1 says no input follows this block: call again with eof set
 * until *gen is 0 to drain the filter's tail.  IC_ERR_FORMAT on a libsamplerate error. */
ic_status ic_resampler_process(ic_resampler *r, const float *in, size_t n_in, size_t *used,
                               float *out, size_t cap_out, size_t *gen, int eof, ic_error *err);

#endif
