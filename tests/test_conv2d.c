/* Check suite for src/nn/conv2d.c: the im2col+sgemm forward and backward
 * against the direct-loop reference over a table of shapes, finite-difference
 * gradient checks of dx, dw, db, and the "backward adds" contract.
 * Tolerances: fast vs naive |diff| <= 1e-4 * (1 + |naive|) (inputs in [-1,1];
 * the naive backward accumulates thousands of terms in float, so an absolute
 * bound would not fit db, whose values reach ~100); gradient checks in float32 with
 * h = 1e-2, atol 1e-3, rtol 1e-2 (the loss is linear in each parameter, so
 * the only error is float rounding of y). */
#include "testutil.h"
#include "ic/conv2d.h"
#include "ic/threads.h"

typedef struct { ic_conv2d_dims d; int bias; const char *name; } conv_case;

/* n, c_in, h_in, w_in, c_out, kh, kw, stride_h, stride_w, pad_h, pad_w, threads
 * (the threaded tests run every case again with 2 and 3 workers) */
static const conv_case CASES[] = {
    {{2, 3, 8, 9, 4, 3, 3, 1, 1, 1, 1, 0}, 1, "3x3 s1 p1"},
    {{3, 2, 9, 11, 5, 3, 3, 2, 2, 1, 1, 0}, 0, "3x3 s2 p1"},
    {{2, 2, 7, 6, 3, 5, 3, 1, 1, 2, 1, 0}, 1, "5x3 kernel"},
    {{2, 5, 4, 7, 3, 1, 1, 1, 1, 0, 0, 0}, 1, "1x1 pointwise"},
    {{2, 2, 13, 15, 4, 7, 7, 2, 2, 3, 3, 0}, 0, "7x7 s2 p3"},
    {{3, 3, 10, 9, 2, 3, 2, 1, 2, 0, 1, 0}, 1, "3x2 s(1,2) p(0,1)"},
    {{1, 2, 11, 13, 3, 5, 5, 3, 2, 2, 0, 0}, 1, "5x5 s(3,2) odd"},
    {{2, 2, 40, 60, 3, 3, 3, 1, 1, 1, 1, 0}, 0, "wide plane, row-block tiles"},
    {{5, 2, 15, 20, 3, 3, 3, 1, 1, 1, 1, 0}, 1, "grouped GEMM, partial last group"},
    {{2, 3, 7, 8, 2, 1, 1, 2, 2, 0, 0, 0}, 0, "1x1 s2"},
    {{3, 2, 4, 4, 3, 4, 4, 1, 1, 0, 0, 0}, 1, "kernel = input"},
    {{2, 1, 6, 5, 2, 3, 3, 4, 3, 2, 2, 0}, 1, "stride > kernel, pad 2"},
    {{2, 3, 48, 50, 4, 1, 1, 1, 1, 0, 0, 0}, 1, "1x1 pointwise, row-block tiles"},
    {{2, 2, 5, 1, 2, 3, 3, 2, 2, 1, 1, 0}, 1, "width 1: taps with no valid column"},
    {{2, 2, 100, 90, 3, 3, 3, 2, 2, 1, 1, 0}, 1, "3x3 s2, row-block tiles"},
    {{3, 1, 20, 37, 5, 3, 3, 1, 1, 1, 1, 0}, 1, "1 channel 3x3, odd width"},
    {{2, 1, 9, 12, 3, 5, 3, 1, 1, 2, 1, 0}, 0, "1 channel 5x3"},
    {{1, 1, 64, 126, 4, 3, 3, 1, 1, 1, 1, 0}, 0, "1 channel, the reference CNN's conv1 width"},
};
#define NCASES ((int)(sizeof CASES / sizeof CASES[0]))

/* All buffers of one case, filled from a seeded rng. */
typedef struct {
    ic_conv2d_dims d;
    size_t nx, nw, nb, ny, ns;
    float *x, *w, *b, *y, *r, *scratch;
} conv_bufs;

static void bufs_init(conv_bufs *c, const conv_case *cc, uint64_t seed, int threads) {
    ic_rng rng;
    ic_rng_seed(&rng, seed);
    c->d = cc->d;
    c->d.threads = threads;
    const ic_conv2d_dims *d = &c->d;
    c->nx = (size_t)d->n * d->c_in * d->h_in * d->w_in;
    c->nw = (size_t)d->c_out * d->c_in * d->kh * d->kw;
    c->nb = cc->bias ? (size_t)d->c_out : 0;
    c->ny = (size_t)d->n * d->c_out * ic_conv2d_out_h(d) * ic_conv2d_out_w(d);
    c->ns = ic_conv2d_scratch_floats(d);
    c->x = malloc(sizeof(float) * c->nx);
    c->w = malloc(sizeof(float) * c->nw);
    c->b = cc->bias ? malloc(sizeof(float) * c->nb) : NULL;
    c->y = malloc(sizeof(float) * c->ny);
    c->r = malloc(sizeof(float) * c->ny);
    c->scratch = c->ns ? malloc(sizeof(float) * c->ns) : NULL;
    ck_assert(c->x && c->w && c->y && c->r && (!cc->bias || c->b) && (!c->ns || c->scratch));
    ic_test_fill(c->x, c->nx, &rng, -1, 1);
    ic_test_fill(c->w, c->nw, &rng, -1, 1);
    if (c->b) ic_test_fill(c->b, c->nb, &rng, -1, 1);
    ic_test_fill(c->r, c->ny, &rng, -1, 1);
}

static void bufs_free(conv_bufs *c) {
    free(c->x); free(c->w); free(c->b); free(c->y); free(c->r); free(c->scratch);
}

/* max over i of |a - ref| / (1 + |ref|) */
static double max_scaled_diff(const float *a, const float *ref, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - ref[i]) / (1.0 + fabs((double)ref[i]));
        if (e > m) m = e;
    }
    return m;
}

static float *alloc_filled(size_t n, ic_rng *rng) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    ck_assert_ptr_nonnull(p);
    ic_test_fill(p, n, rng, -1, 1);
    return p;
}

START_TEST(test_out_size_and_macs) {
    ic_conv2d_dims d = {2, 3, 64, 128, 8, 3, 3, 1, 1, 1, 1, 0};
    ck_assert_int_eq(ic_conv2d_out_h(&d), 64);
    ck_assert_int_eq(ic_conv2d_out_w(&d), 128);
    ck_assert(ic_conv2d_macs(&d) == 2.0 * 8 * 64 * 128 * 3 * 9);
    ic_conv2d_dims e = {1, 1, 9, 10, 1, 7, 3, 2, 3, 3, 0, 0};
    ck_assert_int_eq(ic_conv2d_out_h(&e), (9 + 6 - 7) / 2 + 1);
    ck_assert_int_eq(ic_conv2d_out_w(&e), (10 - 3) / 3 + 1);
    ic_conv2d_dims p = {4, 16, 8, 8, 32, 1, 1, 1, 1, 0, 0, 0};
    ck_assert_uint_eq(ic_conv2d_scratch_floats(&p), 0);
    ck_assert_uint_gt(ic_conv2d_scratch_floats(&d), 0);
    /* one slot per worker; pointwise slots hold only the private dW */
    ic_conv2d_dims d2 = d;
    d2.threads = 2;
    ck_assert_uint_ge(ic_conv2d_scratch_floats(&d2), 2 * ic_conv2d_scratch_floats(&d));
    p.threads = 2;
    ck_assert_uint_ge(ic_conv2d_scratch_floats(&p), 2 * 32 * 16);
}
END_TEST

START_TEST(test_forward_matches_naive) {
    /* _i runs over the cases with 1, 2 and 3 workers (batch 1 and 2 cases
     * with 3 workers split output rows or leave a worker idle) */
    const int ci = _i % NCASES, threads = 1 + _i / NCASES;
    ic_threads_set(threads);
    conv_bufs c;
    bufs_init(&c, &CASES[ci], 100 + (uint64_t)ci, threads);
    float *ref = malloc(sizeof(float) * c.ny);
    ck_assert_ptr_nonnull(ref);
    ic_conv2d_forward_naive(&c.d, c.x, c.w, c.b, ref);
    for (size_t i = 0; i < c.ny; i++) c.y[i] = 1e30f;    /* forward must overwrite */
    ic_conv2d_forward(&c.d, c.x, c.w, c.b, c.y, c.scratch);
    double diff = max_scaled_diff(c.y, ref, c.ny);
    ck_assert_msg(diff <= 1e-4, "%s, %d workers: max scaled |fast - naive| = %g", CASES[ci].name, threads, diff);
    free(ref);
    bufs_free(&c);
}
END_TEST

/* A direct, hand-computed value: 1 input channel, 3x3 all-ones kernel,
 * pad 1 sums the 3x3 neighbourhood (zeros outside). */
START_TEST(test_forward_known_values) {
    ic_conv2d_dims d = {1, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 0};
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9], b[1] = {0.5f}, y[9];
    for (int i = 0; i < 9; i++) w[i] = 1;
    float *s = malloc(sizeof(float) * (ic_conv2d_scratch_floats(&d) + 1));
    ck_assert_ptr_nonnull(s);
    ic_conv2d_forward(&d, x, w, b, y, s);
    const float want[9] = {12.5f, 21.5f, 16.5f, 27.5f, 45.5f, 33.5f, 24.5f, 39.5f, 28.5f};
    for (int i = 0; i < 9; i++) ck_assert_float_eq_tol(y[i], want[i], 1e-6);
    free(s);
}
END_TEST

START_TEST(test_backward_matches_naive) {
    /* _i runs over the cases with 1, 2 and 3 workers (batch 1 and 2 cases
     * with 3 workers split output rows or leave a worker idle) */
    const int ci = _i % NCASES, threads = 1 + _i / NCASES;
    ic_threads_set(threads);
    conv_bufs c;
    bufs_init(&c, &CASES[ci], 200 + (uint64_t)ci, threads);
    ic_rng rng;
    ic_rng_seed(&rng, 300 + (uint64_t)_i);
    float *dy = alloc_filled(c.ny, &rng);
    /* both paths start from the same non-zero gradients: they must add */
    float *dx0 = alloc_filled(c.nx, &rng), *dw0 = alloc_filled(c.nw, &rng), *db0 = alloc_filled(c.nb, &rng);
    float *dx1 = malloc(sizeof(float) * c.nx), *dw1 = malloc(sizeof(float) * c.nw);
    float *db1 = malloc(sizeof(float) * (c.nb ? c.nb : 1));
    ck_assert(dx1 && dw1 && db1);
    memcpy(dx1, dx0, sizeof(float) * c.nx);
    memcpy(dw1, dw0, sizeof(float) * c.nw);
    memcpy(db1, db0, sizeof(float) * c.nb);
    float *db_a = c.b ? db0 : NULL, *db_b = c.b ? db1 : NULL;
    ic_conv2d_backward_naive(&c.d, c.x, c.w, dy, dx0, dw0, db_a);
    ic_conv2d_backward(&c.d, c.x, c.w, dy, dx1, dw1, db_b, c.scratch);
    double ex = max_scaled_diff(dx1, dx0, c.nx);
    double ew = max_scaled_diff(dw1, dw0, c.nw);
    double eb = max_scaled_diff(db1, db0, c.nb);
    ck_assert_msg(ex <= 1e-4, "%s, %d workers: dx max diff %g", CASES[ci].name, threads, ex);
    ck_assert_msg(ew <= 1e-4, "%s, %d workers: dw max diff %g", CASES[ci].name, threads, ew);
    ck_assert_msg(eb <= 1e-4, "%s, %d workers: db max diff %g", CASES[ci].name, threads, eb);

    /* dx = NULL (first layer): dw must still be right and nothing else touched */
    memcpy(dw1, dw0, sizeof(float) * c.nw);
    for (size_t i = 0; i < c.nw; i++) dw0[i] = 0;
    for (size_t i = 0; i < c.nw; i++) dw1[i] = 0;
    ic_conv2d_backward_naive(&c.d, c.x, c.w, dy, NULL, dw0, NULL);
    ic_conv2d_backward(&c.d, c.x, c.w, dy, NULL, dw1, NULL, c.scratch);
    ew = max_scaled_diff(dw1, dw0, c.nw);
    ck_assert_msg(ew <= 1e-4, "%s, %d workers: dw (dx NULL) max diff %g", CASES[ci].name, threads, ew);
    free(dy); free(dx0); free(dw0); free(db0); free(dx1); free(dw1); free(db1);
    bufs_free(&c);
}
END_TEST

/* backward(pre-filled) == pre-fill + backward(zeros), element for element. */
START_TEST(test_backward_adds) {
    conv_bufs c;
    const conv_case cc = {{2, 3, 6, 7, 4, 3, 3, 2, 1, 1, 1, 0}, 1, "adds"};
    bufs_init(&c, &cc, 400, 1);
    ic_rng rng;
    ic_rng_seed(&rng, 401);
    float *dy = alloc_filled(c.ny, &rng);
    float *gx = calloc(c.nx, sizeof(float)), *gw = calloc(c.nw, sizeof(float)), *gb = calloc(c.nb, sizeof(float));
    float *px = alloc_filled(c.nx, &rng), *pw = alloc_filled(c.nw, &rng), *pb = alloc_filled(c.nb, &rng);
    float *fx = malloc(sizeof(float) * c.nx), *fw = malloc(sizeof(float) * c.nw), *fb = malloc(sizeof(float) * c.nb);
    ck_assert(gx && gw && gb && fx && fw && fb);
    memcpy(fx, px, sizeof(float) * c.nx);
    memcpy(fw, pw, sizeof(float) * c.nw);
    memcpy(fb, pb, sizeof(float) * c.nb);
    ic_conv2d_backward(&c.d, c.x, c.w, dy, gx, gw, gb, c.scratch);
    ic_conv2d_backward(&c.d, c.x, c.w, dy, fx, fw, fb, c.scratch);
    for (size_t i = 0; i < c.nx; i++) ck_assert_float_eq_tol(fx[i], px[i] + gx[i], 1e-5);
    for (size_t i = 0; i < c.nw; i++) ck_assert_float_eq_tol(fw[i], pw[i] + gw[i], 1e-5);
    for (size_t i = 0; i < c.nb; i++) ck_assert_float_eq_tol(fb[i], pb[i] + gb[i], 1e-5);
    /* and the gradient is not trivially zero */
    ck_assert(gx[c.nx / 2] != 0 && gw[0] != 0 && gb[0] != 0);
    free(dy); free(gx); free(gw); free(gb); free(px); free(pw); free(pb); free(fx); free(fw); free(fb);
    bufs_free(&c);
}
END_TEST

/* L = sum(y * R) so dL/dy = R; forward through the fast path. */
static double conv_loss(void *ctx) {
    conv_bufs *c = ctx;
    ic_conv2d_forward(&c->d, c->x, c->w, c->b, c->y, c->scratch);
    double s = 0;
    for (size_t i = 0; i < c->ny; i++) s += (double)c->y[i] * c->r[i];
    return s;
}

START_TEST(test_gradcheck) {
    conv_bufs c;
    bufs_init(&c, &CASES[_i], 500 + (uint64_t)_i, 1);
    float *dx = calloc(c.nx, sizeof(float)), *dw = calloc(c.nw, sizeof(float));
    float *db = calloc(c.nb ? c.nb : 1, sizeof(float));
    ck_assert(dx && dw && db);
    ic_conv2d_backward(&c.d, c.x, c.w, c.r, dx, dw, c.b ? db : NULL, c.scratch);
    const float h = 1e-2f;
    const double atol = 1e-3, rtol = 1e-2;
    int f = ic_test_gradcheck("dx", conv_loss, &c, c.x, dx, c.nx, h, atol, rtol, 300);
    f += ic_test_gradcheck("dw", conv_loss, &c, c.w, dw, c.nw, h, atol, rtol, 300);
    if (c.b) f += ic_test_gradcheck("db", conv_loss, &c, c.b, db, c.nb, h, atol, rtol, 0);
    ck_assert_msg(f == 0, "%s: %d gradient mismatches", CASES[_i].name, f);
    free(dx); free(dw); free(db);
    bufs_free(&c);
}
END_TEST

/* The gradient checker itself must notice a wrong gradient. */
START_TEST(test_gradcheck_detects_error) {
    conv_bufs c;
    bufs_init(&c, &CASES[0], 600, 1);
    float *dw = calloc(c.nw, sizeof(float));
    ck_assert_ptr_nonnull(dw);
    ic_conv2d_backward(&c.d, c.x, c.w, c.r, NULL, dw, NULL, c.scratch);
    dw[3] += 0.1f;
    int f = ic_test_gradcheck("dw (corrupted)", conv_loss, &c, c.w, dw, c.nw, 1e-2f, 1e-3, 1e-2, 0);
    ck_assert_int_eq(f, 1);
    free(dw);
    bufs_free(&c);
}
END_TEST

static Suite *conv2d_suite(void) {
    Suite *s = suite_create("conv2d");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_out_size_and_macs);
    tcase_add_test(tc, test_forward_known_values);
    tcase_add_loop_test(tc, test_forward_matches_naive, 0, 3 * NCASES);
    tcase_add_loop_test(tc, test_backward_matches_naive, 0, 3 * NCASES);
    tcase_add_test(tc, test_backward_adds);
    tcase_add_loop_test(tc, test_gradcheck, 0, NCASES);
    tcase_add_test(tc, test_gradcheck_detects_error);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(conv2d_suite)
