/* White, pink (Kellet's -3 dB/octave filter) and brown (leaky integrator,
 * -6 dB/octave) noise, normalised to a requested RMS level. */
#include "ic/noise.h"
#include <math.h>

const char *ic_noise_name(ic_noise_color c) {
    return c == IC_NOISE_PINK ? "pink" : c == IC_NOISE_BROWN ? "brown" : "white";
}

void ic_noise_fill(float *x, size_t n, ic_noise_color color, float rms_db, ic_rng *rng) {
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, acc = 0;
    for (size_t i = 0; i < n; i++) {
        double w = ic_rng_normal(rng);
        if (color == IC_NOISE_PINK) { /* Paul Kellet's refined pink filter */
            b0 = 0.99886 * b0 + w * 0.0555179; b1 = 0.99332 * b1 + w * 0.0750759;
            b2 = 0.96900 * b2 + w * 0.1538520; b3 = 0.86650 * b3 + w * 0.3104856;
            b4 = 0.55000 * b4 + w * 0.5329522; b5 = -0.7616 * b5 - w * 0.0168980;
            x[i] = (float)(b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362);
            b6 = w * 0.115926;
        } else if (color == IC_NOISE_BROWN) {
            acc = 0.998 * acc + w * 0.05; /* leak keeps it from wandering off */
            x[i] = (float)acc;
        } else {
            x[i] = (float)w;
        }
    }
    double s = 0, mean = 0;
    for (size_t i = 0; i < n; i++) mean += x[i];
    mean = n ? mean / (double)n : 0;
    for (size_t i = 0; i < n; i++) s += (x[i] - mean) * (x[i] - mean);
    double rms = n ? sqrt(s / (double)n) : 0;
    double k = rms > 0 ? pow(10.0, rms_db / 20.0) / rms : 0;
    for (size_t i = 0; i < n; i++) x[i] = (float)((x[i] - mean) * k);
}
