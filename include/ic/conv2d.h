/* 2-D convolution, NCHW, float32.  Fast path: im2col + cblas_sgemm (a 1x1
 * kernel with stride 1 and no padding skips im2col); a naive direct
 * convolution is kept beside it as the reference the tests compare against.
 * Ops never allocate: the caller passes a scratch buffer of
 * ic_conv2d_scratch_floats() floats, one slot per worker thread (d->threads).
 * Workers run only when OpenBLAS is single-threaded (ic_threads_set).
 * Backward ADDS into dx, dw, db. */
#ifndef IC_CONV2D_H
#define IC_CONV2D_H
#include <stddef.h>

typedef struct {
    int n;                 /* batch */
    int c_in, h_in, w_in;  /* input */
    int c_out;             /* output channels */
    int kh, kw;            /* kernel */
    int stride_h, stride_w;
    int pad_h, pad_w;      /* zero padding on each side */
    int threads;           /* workers the scratch is sized for (0 or 1: one) */
} ic_conv2d_dims;

/* Output height/width: (h_in + 2*pad_h - kh) / stride_h + 1. */
int ic_conv2d_out_h(const ic_conv2d_dims *d);
int ic_conv2d_out_w(const ic_conv2d_dims *d);
/* Floats of scratch the forward and backward passes need (0 possible). */
size_t ic_conv2d_scratch_floats(const ic_conv2d_dims *d);
/* Multiply-adds of one forward pass (for GFLOP/s: 2 * this). */
double ic_conv2d_macs(const ic_conv2d_dims *d);

/* x (n,c_in,h_in,w_in), w (c_out,c_in,kh,kw), b (c_out) or NULL,
 * y (n,c_out,oh,ow) overwritten. */
void ic_conv2d_forward(const ic_conv2d_dims *d, const float *x, const float *w,
                       const float *b, float *y, float *scratch);
/* Same result by direct loops; slow reference. */
void ic_conv2d_forward_naive(const ic_conv2d_dims *d, const float *x, const float *w,
                             const float *b, float *y);
/* dy (n,c_out,oh,ow) -> dx += (may be NULL), dw += (c_out,c_in,kh,kw), db += (or NULL). */
void ic_conv2d_backward(const ic_conv2d_dims *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db, float *scratch);
/* Direct-loop reference of the backward pass. */
void ic_conv2d_backward_naive(const ic_conv2d_dims *d, const float *x, const float *w,
                              const float *dy, float *dx, float *dw, float *db);

#endif
