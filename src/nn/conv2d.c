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
 * Tiles: the work is cut into tiles, one im2col and one GEMM per tile.
 *  - An image with P > IC_CONV_BLOCK_COLS is cut into blocks of whole output
 *    rows of at most that many columns; the GEMM writes straight into y
 *    (ldc = P).  This matters for OpenBLAS 0.3.21: dW with a small M x K and
 *    an inner dimension of 8192 (conv1) ran at 14-25 GFLOP/s, in slices of
 *    1024-2048 at 65-80.  Narrower blocks hurt conv2 (M=64, K=288): 75
 *    GFLOP/s with 512 columns against 120-130 with 1024-2048.
 *  - An image with P < IC_CONV_GROUP_COLS is grouped with others,
 *    g = ceil(IC_CONV_GROUP_COLS / P) of them side by side in one (K, g*P)
 *    matrix; the GEMM result (M, g*P) is copied to NCHW, and dy is copied into
 *    that layout for backward.  conv4 (P=128): ~145 GFLOP/s forward per image
 *    vs ~158 in groups of 4.  Whole-batch GEMMs (one K x n*P matrix) were
 *    slower for every layer of the reference CNN (conv2 73 vs 128, conv3 112
 *    vs 150, conv4 143 vs 159) and would need ~90 MB of scratch at batch 32.
 *  - Otherwise one image is one tile.
 * Measured at 2 threads on a 2-core Zen 4 shared with other jobs (+-10%),
 * sgemm 2048^3 at ~200 GFLOP/s; best of 3 rounds of 0.1 s each.
 * The 1x1/stride 1/pad 0 case needs no im2col (x_i is col) and no grouping.
 *
 * Threads: d->threads workers, each with its own scratch slot, run
 * single-threaded GEMMs on their own images (or, for fewer images than
 * workers, their own output rows) -- one OpenMP team and no BLAS pool.
 * Measured on the reference CNN at 2 threads (bench_engine): training 89 -> 132
 * samples/s, batch-64 inference 189 -> 410, with this change alone,
 * against BLAS threads inside each GEMM, whose pthread pool spent a third of
 * the time in sched_yield beside libgomp's spinning idle workers (~10 ms
 * after each parallel region by default): on 2 cores every GEMM after an
 * OpenMP loop ran at one-thread speed (conv3 forward 40-50 GFLOP/s with
 * parallel im2col vs 85-140 serial).  So when OpenBLAS is threaded
 * (ic_threads_set not called) the old way remains: one worker, BLAS threads
 * inside each GEMM, and our loops parallel only if OpenBLAS is not its own
 * pthread pool. */
#include "ic/conv2d.h"
#include "ic/error.h"
#include <cblas.h>
#include <omp.h>
#include <string.h>

#ifndef IC_CONV_BLOCK_COLS
#define IC_CONV_BLOCK_COLS 2048
#endif
#ifndef IC_CONV_GROUP_COLS
#define IC_CONV_GROUP_COLS 512
#endif

int ic_conv2d_out_h(const ic_conv2d_dims *d) { return (d->h_in + 2 * d->pad_h - d->kh) / d->stride_h + 1; }
int ic_conv2d_out_w(const ic_conv2d_dims *d) { return (d->w_in + 2 * d->pad_w - d->kw) / d->stride_w + 1; }

static void check_dims(const ic_conv2d_dims *d) {
    IC_ASSERT(d->n > 0 && d->c_in > 0 && d->h_in > 0 && d->w_in > 0 && d->c_out > 0);
    IC_ASSERT(d->kh > 0 && d->kw > 0 && d->stride_h > 0 && d->stride_w > 0);
    IC_ASSERT(d->pad_h >= 0 && d->pad_w >= 0);
    IC_ASSERT(d->h_in + 2 * d->pad_h >= d->kh && d->w_in + 2 * d->pad_w >= d->kw);
}

/* Whether the serial path's loops may use OpenMP beside a threaded BLAS
 * (see the top comment). */
static int loops_parallel(void) { return openblas_get_parallel() != 1; }

/* Worker threads that each run their own single-threaded GEMMs.  Only when
 * OpenBLAS itself runs one thread (ic_threads_set arranges it): a pthread
 * OpenBLAS pool beside libgomp's spinning workers halves both (see above). */
static int blas_single(void) { return openblas_get_num_threads() == 1; }

static int is_pointwise(const ic_conv2d_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->stride_h == 1 && d->stride_w == 1 &&
           d->pad_h == 0 && d->pad_w == 0;
}

/* A tile is g whole images (rows == oh) or a block of `rows` output rows of
 * one image (g == 1); cols = g * rows * ow is its widest column count.
 * imgs is how many images one worker handles (g never exceeds it). */
typedef struct { int g, rows; size_t cols; } tiling;

static tiling plan(const ic_conv2d_dims *d, int imgs) {
    const int OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const size_t P = (size_t)OH * OW;
    tiling t = {1, OH, P};
    if (P < IC_CONV_GROUP_COLS && !is_pointwise(d)) {
        size_t g = (IC_CONV_GROUP_COLS + P - 1) / P;
        t.g = g > (size_t)imgs ? imgs : (int)g;
    } else if (P > IC_CONV_BLOCK_COLS) {
        int r = (int)(IC_CONV_BLOCK_COLS / (size_t)OW);
        t.rows = r < 1 ? 1 : r > OH ? OH : r;
    }
    t.cols = (size_t)t.g * t.rows * OW;
    return t;
}

static int slots(const ic_conv2d_dims *d) { return d->threads > 1 ? d->threads : 1; }

/* One worker's slot of the scratch buffer: col (K, cols) at its start; the
 * (M, cols) staging matrix for y or dy when images are grouped, at `stage`;
 * with more than one slot, a private (M, K) dW accumulator at `dw`. */
typedef struct { size_t stage, dw, floats; } slot_layout;

static slot_layout layout(const ic_conv2d_dims *d) {
    const size_t K = (size_t)d->c_in * d->kh * d->kw, M = d->c_out;
    slot_layout s = {0, 0, 0};
    if (!is_pointwise(d)) {
        tiling t = plan(d, d->n);
        s.stage = K * t.cols;
        s.dw = s.stage + (t.g > 1 ? M * t.cols : 0);
    }
    s.floats = s.dw + (slots(d) > 1 ? M * K : 0);
    s.floats = (s.floats + 15) & ~(size_t)15;   /* keep every slot 64-byte aligned */
    return s;
}

size_t ic_conv2d_scratch_floats(const ic_conv2d_dims *d) {
    check_dims(d);
    return layout(d).floats * (size_t)slots(d);
}

/* Threads to run: the slots the scratch holds, at most OpenMP's team size,
 * and one when OpenBLAS is threaded itself. */
static int workers(const ic_conv2d_dims *d) {
    int nt = slots(d), mx = omp_get_max_threads();
    if (nt > mx) nt = mx;
    return nt > 1 && blas_single() ? nt : 1;
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

/* x: g images (g, c_in, h_in, w_in) -> col (K, ldc) for output rows
 * [r0, r1): row r = (c,ki,kj); image i fills columns [i*B, (i+1)*B) with
 * B = (r1-r0)*ow, and col[r][i*B + (oy-r0)*ow + ox] =
 * x[i][c][oy*sh - ph + ki][ox*sw - pw + kj], zero outside the image. */
static void im2col(const ic_conv2d_dims *d, const float *x, int g, int r0, int r1,
                   float *col, size_t ldc, int par) {
    const int H = d->h_in, W = d->w_in, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const int K = d->c_in * d->kh * d->kw, sh = d->stride_h, sw = d->stride_w;
    const size_t B = (size_t)(r1 - r0) * OW, img = (size_t)d->c_in * H * W;
    #pragma omp parallel for collapse(2) schedule(static) if(par)
    for (int i = 0; i < g; i++) {
        for (int r = 0; r < K; r++) {
            int c = r / (d->kh * d->kw), ki = (r / d->kw) % d->kh, kj = r % d->kw;
            int oy0, oy1, ox0, ox1;
            valid_range(OH, H, sh, d->pad_h, ki, &oy0, &oy1);
            valid_range(OW, W, sw, d->pad_w, kj, &ox0, &ox1);
            const float *xc = x + (size_t)i * img + (size_t)c * H * W;
            float *dst = col + (size_t)r * ldc + (size_t)i * B;
            for (int oy = r0; oy < r1; oy++) {
                float *o = dst + (size_t)(oy - r0) * OW;
                if (oy < oy0 || oy >= oy1 || ox0 == ox1) {
                    memset(o, 0, sizeof(float) * OW);
                    continue;
                }
                /* src[j] is the input under output column ox0 + j */
                const float *src = xc + (size_t)(oy * sh - d->pad_h + ki) * W +
                                   (ox0 * sw - d->pad_w + kj);
                memset(o, 0, sizeof(float) * ox0);
                if (sw == 1) {
                    memcpy(o + ox0, src, sizeof(float) * (ox1 - ox0));
                } else {
                    for (int ox = ox0; ox < ox1; ox++) o[ox] = src[(ox - ox0) * sw];
                }
                memset(o + ox1, 0, sizeof(float) * (OW - ox1));
            }
        }
    }
}

/* Adjoint of im2col (same layout and row range): dx += scatter of col.
 * Parallel over (image, channel): every row of one channel writes the same
 * dx plane, so a channel belongs to one thread and there are no races. */
static void col2im_add(const ic_conv2d_dims *d, const float *col, size_t ldc, int g,
                       int r0, int r1, float *dx, int par) {
    const int H = d->h_in, W = d->w_in, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const int sh = d->stride_h, sw = d->stride_w, C = d->c_in;
    const size_t B = (size_t)(r1 - r0) * OW;
    #pragma omp parallel for collapse(2) schedule(static) if(par)
    for (int i = 0; i < g; i++) {
        for (int c = 0; c < C; c++) {
            float *xc = dx + ((size_t)i * C + c) * H * W;
            for (int ki = 0; ki < d->kh; ki++) {
                for (int kj = 0; kj < d->kw; kj++) {
                    int r = (c * d->kh + ki) * d->kw + kj;
                    int oy0, oy1, ox0, ox1;
                    valid_range(OH, H, sh, d->pad_h, ki, &oy0, &oy1);
                    valid_range(OW, W, sw, d->pad_w, kj, &ox0, &ox1);
                    if (oy0 < r0) oy0 = r0;
                    if (oy1 > r1) oy1 = r1;
                    if (ox0 == ox1) continue;
                    const float *src = col + (size_t)r * ldc + (size_t)i * B;
                    for (int oy = oy0; oy < oy1; oy++) {
                        /* o[j] is the input under output column ox0 + j */
                        float *o = xc + (size_t)(oy * sh - d->pad_h + ki) * W +
                                   (ox0 * sw - d->pad_w + kj);
                        const float *s = src + (size_t)(oy - r0) * OW + ox0;
                        const int len = ox1 - ox0;
                        if (sw == 1) {
                            for (int j = 0; j < len; j++) o[j] += s[j];
                        } else {
                            for (int j = 0; j < len; j++) o[j * sw] += s[j];
                        }
                    }
                }
            }
        }
    }
}

/* Forward of images [i0,i1), output rows [ra,rb) (all rows unless one image
 * is split between workers), with the scratch slot `s`. */
static void forward_part(const ic_conv2d_dims *d, const float *x, const float *w, const float *b,
                         float *y, float *s, int i0, int i1, int ra, int rb, int par) {
    const int M = d->c_out, K = d->c_in * d->kh * d->kw, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const size_t P = (size_t)OH * OW, xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)M * P;
    const int point = is_pointwise(d);
    tiling t = plan(d, i1 - i0);
    if (rb - ra < OH) t.g = 1;
    float *stage = s ? s + layout(d).stage : NULL;

    for (int n0 = i0; n0 < i1; n0 += t.g) {
        const int gi = i1 - n0 < t.g ? i1 - n0 : t.g;   /* images in this tile */
        const float *xi = x + (size_t)n0 * xs;
        for (int r0 = ra; r0 < rb; r0 += t.rows) {
            const int r1 = r0 + t.rows < rb ? r0 + t.rows : rb;
            const size_t nc = (size_t)gi * (r1 - r0) * OW;  /* columns of this tile */
            const float *col = s;
            size_t ldcol = nc;
            if (point) {
                col = xi + (size_t)r0 * OW;
                ldcol = P;
            } else {
                im2col(d, xi, gi, r0, r1, s, nc, par);
            }
            /* one image: straight into y_i rows [r0,r1); grouped: into stage */
            float *out = t.g == 1 ? y + (size_t)n0 * ys + (size_t)r0 * OW : stage;
            const size_t ldo = t.g == 1 ? P : nc;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, (int)nc, K,
                        1.0f, w, K, col, (int)ldcol, 0.0f, out, (int)ldo);
            if (t.g == 1) {
                if (b) {
                    #pragma omp parallel for schedule(static) if(par)
                    for (int m = 0; m < M; m++)
                        for (size_t p = 0; p < nc; p++) out[(size_t)m * P + p] += b[m];
                }
                continue;
            }
            /* stage[m][i*P + p] (+ b[m]) -> y[n0+i][m][p] */
            #pragma omp parallel for collapse(2) schedule(static) if(par)
            for (int i = 0; i < gi; i++) {
                for (int m = 0; m < M; m++) {
                    const float *sp = stage + (size_t)m * nc + (size_t)i * P;
                    float *o = y + (size_t)(n0 + i) * ys + (size_t)m * P;
                    if (b) {
                        for (size_t p = 0; p < P; p++) o[p] = sp[p] + b[m];
                    } else {
                        memcpy(o, sp, sizeof(float) * P);
                    }
                }
            }
        }
    }
}

/* Workers split the batch into contiguous ranges of images; with fewer
 * images than workers (batch-1 latency) each image's output rows are split
 * instead.  Every output element is written by one worker. */
void ic_conv2d_forward(const ic_conv2d_dims *d, const float *x, const float *w,
                       const float *b, float *y, float *scratch) {
    check_dims(d);
    IC_ASSERT(is_pointwise(d) && slots(d) == 1 ? 1 : scratch != NULL);
    const int nt = workers(d), OH = ic_conv2d_out_h(d), n = d->n;
    if (nt == 1) {
        forward_part(d, x, w, b, y, scratch, 0, n, 0, OH, loops_parallel());
        return;
    }
    const size_t sf = layout(d).floats;
    #pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        float *s = scratch + (size_t)t * sf;
        if (n >= T) {
            forward_part(d, x, w, b, y, s, (int)((long)t * n / T), (int)((long)(t + 1) * n / T), 0, OH, 0);
        } else {
            const int k = (T + n - 1) / n;          /* row pieces per image */
            for (int u = t; u < n * k; u += T) {
                const int i = u / k, j = u % k, ra = j * OH / k, rb = (j + 1) * OH / k;
                if (ra < rb) forward_part(d, x, w, b, y, s, i, i + 1, ra, rb, 0);
            }
        }
    }
}

/* dx and dW of images [i0,i1) with the scratch slot `s`; dW goes into dwt
 * (the caller's dw, or the worker's private accumulator). */
static void backward_part(const ic_conv2d_dims *d, const float *x, const float *w, const float *dy,
                          float *dx, float *dwt, float *s, int i0, int i1, int par) {
    const int M = d->c_out, K = d->c_in * d->kh * d->kw, OH = ic_conv2d_out_h(d), OW = ic_conv2d_out_w(d);
    const size_t P = (size_t)OH * OW, xs = (size_t)d->c_in * d->h_in * d->w_in, ys = (size_t)M * P;
    const int point = is_pointwise(d);
    const tiling t = plan(d, i1 - i0);
    float *stage = s ? s + layout(d).stage : NULL;

    for (int n0 = i0; n0 < i1; n0 += t.g) {
        const int gi = i1 - n0 < t.g ? i1 - n0 : t.g;
        const float *xi = x + (size_t)n0 * xs;
        float *dxi = dx ? dx + (size_t)n0 * xs : NULL;
        for (int r0 = 0; r0 < OH; r0 += t.rows) {
            const int r1 = r0 + t.rows < OH ? r0 + t.rows : OH;
            const size_t nc = (size_t)gi * (r1 - r0) * OW;
            /* dy of this tile as an (M, nc) matrix */
            const float *dyt = dy + (size_t)n0 * ys + (size_t)r0 * OW;
            size_t lddy = P;
            if (t.g > 1) {
                /* dy[n0+i][m][p] -> stage[m][i*P + p] */
                #pragma omp parallel for collapse(2) schedule(static) if(par)
                for (int i = 0; i < gi; i++)
                    for (int m = 0; m < M; m++)
                        memcpy(stage + (size_t)m * nc + (size_t)i * P,
                               dy + (size_t)(n0 + i) * ys + (size_t)m * P, sizeof(float) * P);
                dyt = stage;
                lddy = nc;
            }
            if (point) {
                /* x_i's rows are the column matrix and dx_i's the dcol matrix. */
                if (dwt)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, (int)nc, 1.0f,
                                dyt, (int)lddy, xi + (size_t)r0 * OW, (int)P, 1.0f, dwt, K);
                if (dxi)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, (int)nc, M, 1.0f,
                                w, K, dyt, (int)lddy, 1.0f, dxi + (size_t)r0 * OW, (int)P);
                continue;
            }
            if (dwt) {
                /* dW (M,K) += dy_t (M,nc) . col^T */
                im2col(d, xi, gi, r0, r1, s, nc, par);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, (int)nc, 1.0f,
                            dyt, (int)lddy, s, (int)nc, 1.0f, dwt, K);
            }
            if (dxi) {
                /* dcol (K,nc) = W^T (K,M) . dy_t, then scattered into dx */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, (int)nc, M, 1.0f,
                            w, K, dyt, (int)lddy, 0.0f, s, (int)nc);
                col2im_add(d, s, nc, gi, r0, r1, dxi, par);
            }
        }
    }
}

/* Workers take contiguous ranges of whole images (a split image would have
 * two workers adding into the same dx rows), each with a private dW that is
 * then added to dw in worker order: for a given thread count the result is
 * the same on every run. */
void ic_conv2d_backward(const ic_conv2d_dims *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db, float *scratch) {
    check_dims(d);
    IC_ASSERT(is_pointwise(d) && slots(d) == 1 ? 1 : scratch != NULL);
    const int M = d->c_out, K = d->c_in * d->kh * d->kw, n = d->n;
    const size_t P = (size_t)ic_conv2d_out_h(d) * ic_conv2d_out_w(d), ys = (size_t)M * P;
    int nt = workers(d);
    if (nt > n) nt = n;
    const int par = nt > 1 || loops_parallel();

    if (db) {
        /* db[m] += sum over images and pixels of dy; images in order for a
         * result that does not depend on the thread count. */
        #pragma omp parallel for schedule(static) if(par)
        for (int m = 0; m < M; m++) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                const float *v = dy + (size_t)i * ys + (size_t)m * P;
                for (size_t p = 0; p < P; p++) sum += v[p];
            }
            db[m] += (float)sum;
        }
    }
    if (!dw && !dx) return;
    if (nt == 1) {
        backward_part(d, x, w, dy, dx, dw, scratch, 0, n, loops_parallel());
        return;
    }
    const slot_layout L = layout(d);
    int used = 1;
    #pragma omp parallel num_threads(nt)
    {
        const int t = omp_get_thread_num(), T = omp_get_num_threads();
        float *s = scratch + (size_t)t * L.floats;
        float *dwp = dw ? s + L.dw : NULL;
        if (dwp) memset(dwp, 0, sizeof(float) * (size_t)M * K);
        backward_part(d, x, w, dy, dx, dwp, s, (int)((long)t * n / T), (int)((long)(t + 1) * n / T), 0);
        if (t == 0) used = T;
    }
    if (dw) {
        #pragma omp parallel for schedule(static)
        for (size_t k = 0; k < (size_t)M * K; k++) {
            float a = 0;
            for (int t = 0; t < used; t++) a += scratch[(size_t)t * L.floats + L.dw + k];
            dw[k] += a;
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
