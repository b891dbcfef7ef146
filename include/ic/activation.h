/* Element-wise layers: ReLU and inverted dropout.  Backward ADDS into dx. */
#ifndef IC_ACTIVATION_H
#define IC_ACTIVATION_H
#include <stddef.h>
#include <stdint.h>
#include "ic/rng.h"

/* y = max(x, 0); y may alias x. */
void ic_relu_forward(size_t n, const float *x, float *y);
/* dx += dy where y > 0 (y is the forward output). */
void ic_relu_backward(size_t n, const float *y, const float *dy, float *dx);

/* Training: keeps each element with probability 1-p and scales it by 1/(1-p);
 * mask (n) records the kept elements.  p == 0 copies. */
void ic_dropout_forward(size_t n, float p, const float *x, float *y, uint8_t *mask, ic_rng *rng);
/* dx += dy * mask / (1-p). */
void ic_dropout_backward(size_t n, float p, const uint8_t *mask, const float *dy, float *dx);
#endif
