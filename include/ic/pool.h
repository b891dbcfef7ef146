/* Max pooling (no padding, floor output size) and global average pooling, NCHW.
 * Backward ADDS into dx (ic_maxpool_backward_set overwrites it). */
#ifndef IC_POOL_H
#define IC_POOL_H
#include <stdint.h>

typedef struct { int n, c, h, w, kh, kw, stride_h, stride_w; } ic_maxpool_dims;

/* (h - kh) / stride_h + 1, and the same for w. */
int ic_maxpool_out_h(const ic_maxpool_dims *d);
int ic_maxpool_out_w(const ic_maxpool_dims *d);
/* x (n,c,h,w) -> y (n,c,oh,ow); argmax (n,c,oh,ow) records the winning input
 * index within its (h*w) plane for backward, or is NULL (inference). */
void ic_maxpool_forward(const ic_maxpool_dims *d, const float *x, float *y, int32_t *argmax);
/* dy (n,c,oh,ow) -> dx (n,c,h,w) += . */
void ic_maxpool_backward(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx);
/* The same gradient written over dx (zero off the maxima): no zeroing pass first. */
void ic_maxpool_backward_set(const ic_maxpool_dims *d, const float *dy, const int32_t *argmax, float *dx);

/* x (n,c,hw) -> y (n,c) mean over hw. */
void ic_gap_forward(int n, int c, int hw, const float *x, float *y);
/* dy (n,c) -> dx (n,c,hw) += dy / hw. */
void ic_gap_backward(int n, int c, int hw, const float *dy, float *dx);

#endif
