/* Fully connected layer y = x W^T + b via cblas_sgemm.  Backward ADDS. */
#ifndef IC_DENSE_H
#define IC_DENSE_H

/* x (n,in), w (out,in), b (out) or NULL, y (n,out) overwritten. */
void ic_dense_forward(int n, int in, int out, const float *x, const float *w,
                      const float *b, float *y);
/* dy (n,out) -> dx (n,in) += (may be NULL), dw (out,in) +=, db (out) += (or NULL). */
void ic_dense_backward(int n, int in, int out, const float *x, const float *w,
                       const float *dy, float *dx, float *dw, float *db);
#endif
