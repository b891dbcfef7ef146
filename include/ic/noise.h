/* Coloured noise for "nothing is playing" training and evaluation windows. */
#ifndef IC_NOISE_H
#define IC_NOISE_H
#include <stddef.h>
#include "ic/rng.h"

typedef enum { IC_NOISE_WHITE = 0, IC_NOISE_PINK, IC_NOISE_BROWN } ic_noise_color;

/* Fills x (n) with noise of the given colour scaled to rms_db dBFS RMS. */
void ic_noise_fill(float *x, size_t n, ic_noise_color color, float rms_db, ic_rng *rng);
/* "white" / "pink" / "brown". */
const char *ic_noise_name(ic_noise_color color);
#endif
