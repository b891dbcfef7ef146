/* 2-D convolution (NCHW, float32): im2col + cblas_sgemm fast path, and a
 * direct-loop reference for forward and backward that the tests compare with.
 * Not here: batch norm, activations, dilation, groups.
 *
 * Notation: K = c_in*kh*kw (rows of the column matrix), P = oh*ow (output
 * pixels of one image), M = c_out.  For one image the forward pass is
 *     col (K,P) = im2col(x_i),   y_i (M,P) = W (M,K) . col
 * and the backward pass
 *     dW (M,K) += dy_i (M,P) . col^T,   dcol (K,P) = W^T . dy_i,   dx_i += col2im(dcol).
 *
 * Batching: images are processed in groups of g; a group's columns sit side
 * by side in one (K, g*P) matrix so one GEMM covers the group.  With g > 1 the
 * GEMM result is (M, g*P) and needs a copy to NCHW (forward), and dy needs a
 * copy into that layout (backward).  Measured on the reference CNN (2-core
 * Zen 4, OpenBLAS 0.3.21 pthread): per-image GEMMs with a narrow P (conv4:
 * P=128) reach only ~55% of square-sgemm speed with 2 threads because OpenBLAS
 * splits a small N poorly, while g*P >= ~1024 columns reaches 80-90%; a wider
 * group (whole batch) gains nothing more, makes C leave L2 and needs tens of
 * MB of scratch.  So g = ceil(IC_CONV_GROUP_COLS / P), at most n: layers with
 * P >= 1024 run per image with no copies, narrow layers are grouped.
 * The 1x1/stride 1/pad 0 case always runs per image: x_i is already col.
 *
 * Threads: BLAS threads inside each GEMM; OpenMP over rows/images/channels in
 * im2col, col2im and the copies, never around a BLAS call. */
#include "ic/conv2d.h"
#include "ic/error.h"
#include <cblas.h>
#include <string.h>

#ifndef IC_CONV_GROUP_COLS
#define IC_CONV_GROUP_COLS 1024
#endif

int ic_conv2d_out_h(const ic_conv2d_dims *d) { return (d->h_in + 2 * d->pad_h - d->kh) / d->stride_h + 1; }
int ic_conv2d_out_w(const ic_conv2d_dims *d) { return (d->w_in + 2 * d->pad_w - d->kw) / d->stride_w + 1; }

static void check_dims(const ic_conv2d_dims *d) {
    IC_ASSERT(d->n > 0 && d->c_in > 0 && d->h_in > 0 && d->w_in > 0 && d->c_out > 0);
    IC_ASSERT(d->kh > 0 && d->kw > 0 && d->stride_h > 0 && d->stride_w > 0);
    IC_ASSERT(d->pad_h >= 0 && d->pad_w >= 0);
    IC_ASSERT(d->h_in + 2 * d->pad_h >= d->kh && d->w_in + 2 * d->pad_w >= d->kw);
}

static int is_pointwise(const ic_conv2d_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 &&
           d->pad_h == 0 && d->pad_w == 0;
}

/* Images per GEMM (see the top comment). */
static int group_size(const ic_conv2d_dims *d) {
    if (is_pointwise(d)) return 1;
    size_t P = (size_t)ic_conv2d_out_h(d) * (size_t)ic_conv2d_out_w(d);
    size_t g = (IC_CONV_GROUP_COLS + P - 1) / P;
    if (g < 1) g = 1;
    if (g > (size_t)d->n) g = (size_t)d->n;
    return (int)g;
}

/* Layout of the scratch buffer: col (K, g*P), then, only when g > 1, the
 * (M, g*P) staging matrix for y or dy. */
size_t ic_conv2d_scratch_floats(const ic_conv2d_dims *d) {
    check_dims(d);
    if (is_pointwise(d)) return 0;
    size_t K = (size_t)d->c_in * d->kh * d->kw;
    size_t gP = (size_t)group_size(d) * ic_conv2d_out_h(d) * ic_conv2d_out_w(d);
    return K * gP + (group_size(d) > 1 ? (size_t)d->c_out * gP : 0);
}

double ic_conv2d_macs(const ic_conv2d_dims *d) {
    return (double)d->n * d->c_out * ic_conv2d_out_h(d) * ic_conv2d_out_w(d) *
           d->c_in * d->kh * d->kw;
}

/* Output positions o in [0,out) whose input index o*stride - pad + k lies in
 * [0,in): the half-open range [*lo,*hi). */
static void valid_range(int out, int in, int stride, int pad, int k, int *lo, int *hi) {
    int a = pad - k;                 /* need o*stride >= a */
    int l = a > 0 ? (a + stride - 1) / stride : 0;
    int b = in - 1 + pad - k;        /* need o*stride <= b */
    int h = b >= 0 ? b / stride + 1 : 0;
    if (h > out) h = out;
    if (l > out) l = out;
    if (h < l) h = l;
    *lo = l; *hi = h;
}

/* x: g images (g, c_in, h_in, w_in) -> col (K, ldc): row r = (c,ki,kj), image i
 * fills columns [i*P, (i+1)*P).  col[r][i*P + oy*ow + ox] =
 * x[i][c][oy*sh - ph + ki][ox*sw - pw + kj], zero outside the image. */
static void im2col(const ic_conv2d_dims *d, const float *x, int g, float *col, size_t ldc) {
    const int H = d->h_in, W = d->w_in, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const int K = d->c_in * d->kh * d->kw, sh = d->stride_h, sw = d->stride_w;
    const size_t P = (size_t)OH * OW, img = (size_t)d->c_in * H * W;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < g; i++) {
        for (int r = 0; r < K; r++) {
            int c = r / (d->kh * d->kw), ki = (r / d->kw) % d->kh, kj = r % d->kw;
            int oy0, oy1, ox0, ox1;
            valid_range(OH, H, sh, d->pad_h, ki, &oy0, &oy1);
            valid_range(OW, W, sw, d->pad_w, kj, &ox0, &ox1);
            const float *xc = x + (size_t)i * img + (size_t)c * H * W;
            float *dst = col + (size_t)r * ldc + (size_t)i * P;
            memset(dst, 0, sizeof(float) * (size_t)oy0 * OW);
            for (int oy = oy0; oy < oy1; oy++) {
                const float *src = xc + (size_t)(oy * sh - d->pad_h + ki) * W + (kj - d->pad_w);
                float *o = dst + (size_t)oy * OW;
                memset(o, 0, sizeof(float) * ox0);
                if (sw == 1) {
                    memcpy(o + ox0, src + ox0, sizeof(float) * (ox1 - ox0));
                } else {
                    for (int ox = ox0; ox < ox1; ox++) o[ox] = src[ox * sw];
                }
                memset(o + ox1, 0, sizeof(float) * (OW - ox1));
            }
            memset(dst + (size_t)oy1 * OW, 0, sizeof(float) * (size_t)(OH - oy1) * OW);
        }
    }
}

/* Adjoint of im2col: dx (g, c_in, h_in, w_in) += scatter of col (K, ldc).
 * Parallel over (image, channel): every row of one channel writes the same
 * dx plane, so a channel belongs to one thread and there are no races. */
static void col2im_add(const ic_conv2d_dims *d, const float *col, size_t ldc, int g, float *dx) {
    const int H = d->h_in, W = d->w_in, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const int sh = d->stride_h, sw = d->stride_w, C = d->c_in;
    const size_t P = (size_t)OH * OW;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int i = 0; i < g; i++) {
        for (int c = 0; c < C; c++) {
            float *xc = dx + ((size_t)i * C + c) * H * W;
            for (int ki = 0; ki < d->kh; ki++) {
                for (int kj = 0; kj < d->kw; kj++) {
                    int r = (c * d->kh + ki) * d->kw + kj;
                    int oy0, oy1, ox0, ox1;
                    valid_range(OH, H, sh, d->pad_h, ki, &oy0, &oy1);
                    valid_range(OW, W, sw, d->pad_w, kj, &ox0, &ox1);
                    const float *src = col + (size_t)r * ldc + (size_t)i * P;
                    for (int oy = oy0; oy < oy1; oy++) {
                        float *o = xc + (size_t)(oy * sh - d->pad_h + ki) * W + (kj - d->pad_w);
                        const float *s = src + (size_t)oy * OW;
                        if (sw == 1) {
                            for (int ox = ox0; ox < ox1; ox++) o[ox] += s[ox];
                        } else {
                            for (int ox = ox0; ox < ox1; ox++) o[ox * sw] += s[ox];
                        }
                    }
                }
            }
        }
    }
}

void ic_conv2d_forward(const ic_conv2d_dims *d, const float *x, const float *w,
                       const float *b, float *y, float *scratch) {
    check_dims(d);
    const int M = d->c_out, K = d->c_in * d->kh * d->kw, g = group_size(d);
    const size_t P = (size_t)ic_conv2d_out_h(d) * ic_conv2d_out_w(d);
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)M * P, gP = g * P;
    const int point = is_pointwise(d);
    IC_ASSERT(point || scratch != NULL);
    float *col = scratch, *stage = point ? NULL : scratch + (size_t)K * gP;

    for (int n0 = 0; n0 < d->n; n0 += g) {
        int gi = d->n - n0 < g ? d->n - n0 : g;          /* images in this group */
        size_t ncol = (size_t)gi * P;
        const float *xi = x + (size_t)n0 * xs;
        if (point) {
            col = (float *)xi;                           /* read only below */
        } else {
            im2col(d, xi, gi, col, gP);
        }
        /* g == 1: GEMM straight into y_i (M,P); else into stage (M, gi*P). */
        float *out = g == 1 ? y + (size_t)n0 * ys : stage;
        size_t ldo = g == 1 ? P : gP;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, (int)ncol, K,
                    1.0f, w, K, col, (int)(point ? P : gP), 0.0f, out, (int)ldo);
        if (g == 1) {
            if (b) {
                #pragma omp parallel for schedule(static)
                for (int m = 0; m < M; m++)
                    for (size_t p = 0; p < P; p++) out[(size_t)m * P + p] += b[m];
            }
        } else {
            /* stage[m][i*P + p] (+ b[m]) -> y[n0+i][m][p] */
            #pragma omp parallel for collapse(2) schedule(static)
            for (int i = 0; i < gi; i++) {
                for (int m = 0; m < M; m++) {
                    const float *s = stage + (size_t)m * gP + (size_t)i * P;
                    float *o = y + (size_t)(n0 + i) * ys + (size_t)m * P;
                    if (b) {
                        for (size_t p = 0; p < P; p++) o[p] = s[p] + b[m];
                    } else {
                        memcpy(o, s, sizeof(float) * P);
                    }
                }
            }
        }
    }
}

void ic_conv2d_backward(const ic_conv2d_dims *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db, float *scratch) {
    check_dims(d);
    const int M = d->c_out, K = d->c_in * d->kh * d->kw, g = group_size(d);
    const size_t P = (size_t)ic_conv2d_out_h(d) * ic_conv2d_out_w(d);
    const size_t xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)M * P, gP = g * P;
    const int point = is_pointwise(d);
    IC_ASSERT(point || scratch != NULL);
    float *col = scratch, *stage = point ? NULL : scratch + (size_t)K * gP;

    if (db) {
        /* db[m] += sum over images and pixels of dy; images in order for a
         * result that does not depend on the thread count. */
        #pragma omp parallel for schedule(static)
        for (int m = 0; m < M; m++) {
            double s = 0;
            for (int i = 0; i < d->n; i++) {
                const float *v = dy + (size_t)i * ys + (size_t)m * P;
                for (size_t p = 0; p < P; p++) s += v[p];
            }
            db[m] += (float)s;
        }
    }
    if (!dw && !dx) return;

    for (int n0 = 0; n0 < d->n; n0 += g) {
        int gi = d->n - n0 < g ? d->n - n0 : g;
        int ncol = (int)((size_t)gi * P);
        const float *dyg = dy + (size_t)n0 * ys;         /* (M, P) when g == 1 */
        int lddy = (int)P;
        if (g > 1) {
            /* dy[n0+i][m][p] -> stage[m][i*P + p] */
            #pragma omp parallel for collapse(2) schedule(static)
            for (int i = 0; i < gi; i++)
                for (int m = 0; m < M; m++)
                    memcpy(stage + (size_t)m * gP + (size_t)i * P,
                           dy + (size_t)(n0 + i) * ys + (size_t)m * P, sizeof(float) * P);
            dyg = stage;
            lddy = (int)gP;
        }
        const float *xi = x + (size_t)n0 * xs;
        if (point) {
            /* x_i is the column matrix and dx_i the dcol matrix. */
            if (dw)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, ncol,
                            1.0f, dyg, lddy, xi, (int)P, 1.0f, dw, K);
            if (dx)
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, ncol, M,
                            1.0f, w, K, dyg, lddy, 1.0f, dx + (size_t)n0 * xs, (int)P);
            continue;
        }
        if (dw) {
            im2col(d, xi, gi, col, gP);
            /* dW (M,K) += dy_g (M, gi*P) . col^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, ncol,
                        1.0f, dyg, lddy, col, (int)gP, 1.0f, dw, K);
        }
        if (dx) {
            /* dcol (K, gi*P) = W^T (K,M) . dy_g, then scattered into dx. */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, ncol, M,
                        1.0f, w, K, dyg, lddy, 0.0f, col, (int)gP);
            col2im_add(d, col, gP, gi, dx + (size_t)n0 * xs);
        }
    }
}

/* Reference: y[n][m][oy][ox] = b[m] + sum_{c,ki,kj} w[m][c][ki][kj] *
 * x[n][c][oy*sh-ph+ki][ox*sw-pw+kj], accumulated in double. */
void ic_conv2d_forward_naive(const ic_conv2d_dims *d, const float *x, const float *w,
                             const float *b, float *y) {
    check_dims(d);
    const int OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d), H = d->h_in, W = d->w_in;
    for (int n = 0; n < d->n; n++)
    for (int m = 0; m < d->c_out; m++)
    for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
        double s = b ? b[m] : 0.0;
        for (int c = 0; c < d->c_in; c++)
        for (int ki = 0; ki < d->kh; ki++) {
            int iy = oy * d->stride_h - d->pad_h + ki;
            if (iy < 0 || iy >= H) continue;
            for (int kj = 0; kj < d->kw; kj++) {
                int ix = ox * d->stride_w - d->pad_w + kj;
                if (ix < 0 || ix >= W) continue;
                s += (double)w[((size_t)(m * d->c_in + c) * d->kh + ki) * d->kw + kj] *
                     x[(((size_t)n * d->c_in + c) * H + iy) * W + ix];
            }
        }
        y[(((size_t)n * d->c_out + m) * OH + oy) * OW + ox] = (float)s;
    }
}

/* Reference backward by the same loops: every (output, tap) pair adds
 * dy*w to dx, dy*x to dw; db sums dy. */
void ic_conv2d_backward_naive(const ic_conv2d_dims *d, const float *x, const float *w,
                              const float *dy, float *dx, float *dw, float *db) {
    check_dims(d);
    const int OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d), H = d->h_in, W = d->w_in;
    for (int n = 0; n < d->n; n++)
    for (int m = 0; m < d->c_out; m++)
    for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++) {
        float g = dy[(((size_t)n * d->c_out + m) * OH + oy) * OW + ox];
        if (db) db[m] += g;
        for (int c = 0; c < d->c_in; c++)
        for (int ki = 0; ki < d->kh; ki++) {
            int iy = oy * d->stride_h - d->pad_h + ki;
            if (iy < 0 || iy >= H) continue;
            for (int kj = 0; kj < d->kw; kj++) {
                int ix = ox * d->stride_w - d->pad_w + kj;
                if (ix < 0 || ix >= W) continue;
                size_t wi = ((size_t)(m * d->c_in + c) * d->kh + ki) * d->kw + kj;
                size_t xi = (((size_t)n * d->c_in + c) * H + iy) * W + ix;
                if (dx) dx[xi] += g * w[wi];
                if (dw) dw[wi] += g * x[xi];
            }
        }
    }
}
