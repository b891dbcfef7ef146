/* Check suite for src/nn/pool.c: max pooling and global average pooling on
 * hand-computed examples (values, argmax, backward that adds), non-square
 * kernels and strides, overlapping windows, and finite-difference gradient
 * checks (float32, h = 1e-2, atol 1e-3, rtol 1e-2; maxpool inputs are
 * distinct and at least 0.05 apart so +-h never changes a winner). */
#include "testutil.h"
#include "ic/pool.h"

START_TEST(test_maxpool_known_2x2) {
    ic_maxpool_dims d = {1, 1, 4, 4, 2, 2, 2, 2};
    const float x[16] = {1, 5, 2, 0.5f,
                         3, 4, 8, 6,
                         7, -1, 1.5f, 2,
                         9, 3, -4, 2.5f};
    float y[4];
    int32_t am[4];
    ck_assert_int_eq(ic_maxpool_out_h(&d), 2);
    ck_assert_int_eq(ic_maxpool_out_w(&d), 2);
    ic_maxpool_forward(&d, x, y, am);
    const float wy[4] = {5, 8, 9, 2.5f};
    const int32_t wa[4] = {1, 6, 12, 15};
    for (int i = 0; i < 4; i++) {
        ck_assert_float_eq(y[i], wy[i]);
        ck_assert_int_eq(am[i], wa[i]);
    }
    const float dy[4] = {10, 20, 30, 40};
    float dx[16];
    for (int i = 0; i < 16; i++) dx[i] = 1;
    ic_maxpool_backward(&d, dy, am, dx);
    for (int i = 0; i < 16; i++) {
        float want = i == 1 ? 11 : i == 6 ? 21 : i == 12 ? 31 : i == 15 ? 41 : 1;
        ck_assert_float_eq(dx[i], want);
    }
}
END_TEST

/* kh=2, kw=3, stride (1,2) on a 3x5 plane, two planes (n=1, c=2; the second
 * plane is the first negated, so its maxima are the first plane's minima). */
START_TEST(test_maxpool_nonsquare) {
    ic_maxpool_dims d = {1, 2, 3, 5, 2, 3, 1, 2};
    float x[30] = {3, 1, 4, 15, 9,
                   2, 6, 5, -3, 5.5f,
                   8, 9.5f, 7, 0, 11};
    for (int i = 0; i < 15; i++) x[15 + i] = -x[i];
    ck_assert_int_eq(ic_maxpool_out_h(&d), 2);
    ck_assert_int_eq(ic_maxpool_out_w(&d), 2);
    float y[8];
    int32_t am[8];
    ic_maxpool_forward(&d, x, y, am);
    const float wy[8] = {6, 15, 9.5f, 11, -1, 3, -2, 3};
    const int32_t wa[8] = {6, 3, 11, 14, 1, 8, 5, 8};
    for (int i = 0; i < 8; i++) {
        ck_assert_msg(y[i] == wy[i], "y[%d] = %g, want %g", i, y[i], wy[i]);
        ck_assert_msg(am[i] == wa[i], "argmax[%d] = %d, want %d", i, am[i], wa[i]);
    }
    /* floor output size: a 4x6 plane with 3x3 stride 2 gives 1x2 */
    ic_maxpool_dims e = {1, 1, 4, 6, 3, 3, 2, 2};
    ck_assert_int_eq(ic_maxpool_out_h(&e), 1);
    ck_assert_int_eq(ic_maxpool_out_w(&e), 2);
}
END_TEST

/* Overlapping windows that pick the same input both send their gradient to it. */
START_TEST(test_maxpool_overlap_accumulates) {
    ic_maxpool_dims d = {1, 1, 1, 3, 1, 2, 1, 1};
    const float x[3] = {1, 5, 2}, dy[2] = {1, 2};
    float y[2], dx[3] = {0, 0, 0};
    int32_t am[2];
    ic_maxpool_forward(&d, x, y, am);
    ck_assert(y[0] == 5 && y[1] == 5 && am[0] == 1 && am[1] == 1);
    ic_maxpool_backward(&d, dy, am, dx);
    ck_assert(dx[0] == 0 && dx[1] == 3 && dx[2] == 0);
}
END_TEST

/* Ties go to the first element in row-major order; a NaN wins its window. */
START_TEST(test_maxpool_ties_and_nan) {
    ic_maxpool_dims d = {1, 2, 2, 2, 2, 2, 2, 2};
    const float x[8] = {1, 3, 3, 3,   2, NAN, 7, 1};
    float y[2];
    int32_t am[2];
    ic_maxpool_forward(&d, x, y, am);
    ck_assert(y[0] == 3 && am[0] == 1);
    ck_assert(isnan(y[1]) && am[1] == 1);
}
END_TEST

/* Window-by-window reference: first maximum in row-major order, NaN wins. */
static void maxpool_ref(const ic_maxpool_dims *d, const float *x, float *y, int32_t *am) {
    const int OH = ic_maxpool_out_h(d), OW = ic_maxpool_out_w(d);
    for (int p = 0; p < d->n * d->c; p++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                int at = -1;
                for (int ki = 0; ki < d->kh; ki++)
                    for (int kj = 0; kj < d->kw; kj++) {
                        int i = (oy * d->stride_h + ki) * d->w + ox * d->stride_w + kj;
                        float v = x[(size_t)p * d->h * d->w + i];
                        float b = at < 0 ? 0 : x[(size_t)p * d->h * d->w + at];
                        if (at < 0 || (!isnan(b) && (isnan(v) || v > b))) at = i;
                    }
                y[((size_t)p * OH + oy) * OW + ox] = x[(size_t)p * d->h * d->w + at];
                am[((size_t)p * OH + oy) * OW + ox] = at;
            }
}

/* The 2x2/stride-2 fast path and the generic loop against the reference, on
 * values with many ties and a few NaNs, odd sizes included; without argmax
 * (inference) y is the same. */
START_TEST(test_maxpool_matches_reference) {
    static const ic_maxpool_dims shapes[] = {
        {2, 3, 9, 13, 2, 2, 2, 2},     /* fast path, odd h and w (last row/column dropped) */
        {1, 2, 128, 126, 2, 2, 2, 2},  /* the reference CNN's first pool */
        {2, 2, 9, 11, 3, 2, 2, 3},     /* generic */
        {1, 3, 6, 8, 2, 2, 1, 1},      /* 2x2 but overlapping: generic */
    };
    const ic_maxpool_dims d = shapes[_i];
    const size_t nx = (size_t)d.n * d.c * d.h * d.w;
    const size_t ny = (size_t)d.n * d.c * ic_maxpool_out_h(&d) * ic_maxpool_out_w(&d);
    float *x = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny);
    float *yr = malloc(sizeof(float) * ny), *yn = malloc(sizeof(float) * ny);
    int32_t *am = malloc(sizeof(int32_t) * ny), *ar = malloc(sizeof(int32_t) * ny);
    ck_assert(x && y && yr && yn && am && ar);
    ic_rng rng;
    ic_rng_seed(&rng, 7 + (uint64_t)_i);
    for (size_t i = 0; i < nx; i++) {
        x[i] = (float)(int)(ic_rng_uniform(&rng) * 5) - 2;   /* 5 levels: ties everywhere */
        if (ic_rng_uniform(&rng) < 0.01) x[i] = NAN;
    }
    maxpool_ref(&d, x, yr, ar);
    ic_maxpool_forward(&d, x, y, am);
    ic_maxpool_forward(&d, x, yn, NULL);
    for (size_t i = 0; i < ny; i++) {
        ck_assert_msg(am[i] == ar[i], "shape %d: argmax[%zu] = %d, want %d", _i, i, am[i], ar[i]);
        ck_assert_msg(isnan(yr[i]) ? isnan(y[i]) && isnan(yn[i]) : y[i] == yr[i] && yn[i] == yr[i],
                      "shape %d: y[%zu] = %g / %g without argmax, want %g", _i, i, y[i], yn[i], yr[i]);
    }
    free(x); free(y); free(yr); free(yn); free(am); free(ar);
}
END_TEST

/* ic_maxpool_backward_set writes the whole input gradient: over NaNs it
 * gives what the adding backward gives on zeros, overlapping windows too. */
START_TEST(test_maxpool_backward_set) {
    static const ic_maxpool_dims shapes[] = {{2, 2, 7, 9, 2, 2, 2, 2}, {1, 2, 6, 5, 3, 2, 1, 1}};
    const ic_maxpool_dims d = shapes[_i];
    const size_t nx = (size_t)d.n * d.c * d.h * d.w;
    const size_t ny = (size_t)d.n * d.c * ic_maxpool_out_h(&d) * ic_maxpool_out_w(&d);
    float *x = malloc(sizeof(float) * nx), *y = malloc(sizeof(float) * ny), *dy = malloc(sizeof(float) * ny);
    float *add = calloc(nx, sizeof(float)), *set = malloc(sizeof(float) * nx);
    int32_t *am = malloc(sizeof(int32_t) * ny);
    ck_assert(x && y && dy && add && set && am);
    ic_rng rng;
    ic_rng_seed(&rng, 31 + (uint64_t)_i);
    for (size_t i = 0; i < nx; i++) { x[i] = ic_rng_normal(&rng); set[i] = NAN; }
    for (size_t i = 0; i < ny; i++) dy[i] = 1.0f + (float)i;
    ic_maxpool_forward(&d, x, y, am);
    ic_maxpool_backward(&d, dy, am, add);
    ic_maxpool_backward_set(&d, dy, am, set);
    double total = 0;
    for (size_t i = 0; i < nx; i++) {
        ck_assert_msg(set[i] == add[i], "shape %d: dx[%zu] = %g, want %g", _i, i, set[i], add[i]);
        total += add[i];
    }
    ck_assert_double_eq_tol(total, (double)ny * (ny + 1) / 2, 1e-6 * total);   /* every dy landed once */
    free(x); free(y); free(dy); free(add); free(set); free(am);
}
END_TEST

typedef struct {
    ic_maxpool_dims d;
    float *x, *y, *r;
    int32_t *am;
    size_t nx, ny;
} pool_ctx;

static double maxpool_loss(void *ctx) {
    pool_ctx *c = ctx;
    ic_maxpool_forward(&c->d, c->x, c->y, c->am);
    double s = 0;
    for (size_t i = 0; i < c->ny; i++) s += (double)c->y[i] * c->r[i];
    return s;
}

START_TEST(test_maxpool_gradcheck) {
    static const ic_maxpool_dims shapes[] = {
        {2, 3, 6, 7, 2, 2, 2, 2},
        {1, 2, 7, 9, 3, 2, 2, 3},
        {2, 1, 5, 5, 3, 3, 1, 1},
    };
    pool_ctx c;
    c.d = shapes[_i];
    c.nx = (size_t)c.d.n * c.d.c * c.d.h * c.d.w;
    c.ny = (size_t)c.d.n * c.d.c * ic_maxpool_out_h(&c.d) * ic_maxpool_out_w(&c.d);
    c.x = malloc(sizeof(float) * c.nx);
    c.y = malloc(sizeof(float) * c.ny);
    c.r = malloc(sizeof(float) * c.ny);
    c.am = malloc(sizeof(int32_t) * c.ny);
    float *dx = calloc(c.nx, sizeof(float));
    size_t *perm = malloc(sizeof(size_t) * c.nx);
    ck_assert(c.x && c.y && c.r && c.am && dx && perm);
    ic_rng rng;
    ic_rng_seed(&rng, 700 + (uint64_t)_i);
    for (size_t i = 0; i < c.nx; i++) perm[i] = i;
    ic_rng_shuffle(&rng, perm, c.nx);
    for (size_t i = 0; i < c.nx; i++) c.x[i] = 0.05f * (float)perm[i] - 1.0f;
    ic_test_fill(c.r, c.ny, &rng, -1, 1);
    ic_maxpool_forward(&c.d, c.x, c.y, c.am);
    ic_maxpool_backward(&c.d, c.r, c.am, dx);
    int f = ic_test_gradcheck("maxpool dx", maxpool_loss, &c, c.x, dx, c.nx, 1e-2f, 1e-3, 1e-2, 0);
    ck_assert_int_eq(f, 0);
    free(c.x); free(c.y); free(c.r); free(c.am); free(dx); free(perm);
}
END_TEST

START_TEST(test_gap_known) {
    const float x[8] = {1, 2, 3, 4, -1, 0, 5, 8};
    float y[2];
    ic_gap_forward(1, 2, 4, x, y);
    ck_assert_float_eq(y[0], 2.5f);
    ck_assert_float_eq(y[1], 3.0f);
    const float dy[2] = {4, -8};
    float dx[8];
    for (int i = 0; i < 8; i++) dx[i] = 1;
    ic_gap_backward(1, 2, 4, dy, dx);
    for (int i = 0; i < 4; i++) ck_assert_float_eq(dx[i], 2.0f);
    for (int i = 4; i < 8; i++) ck_assert_float_eq(dx[i], -1.0f);
}
END_TEST

typedef struct { int n, c, hw; float *x, *y, *r; } gap_ctx;

static double gap_loss(void *ctx) {
    gap_ctx *g = ctx;
    ic_gap_forward(g->n, g->c, g->hw, g->x, g->y);
    double s = 0;
    for (int i = 0; i < g->n * g->c; i++) s += (double)g->y[i] * g->r[i];
    return s;
}

START_TEST(test_gap_gradcheck) {
    gap_ctx g = {3, 4, 10, NULL, NULL, NULL};
    size_t nx = (size_t)g.n * g.c * g.hw, ny = (size_t)g.n * g.c;
    g.x = malloc(sizeof(float) * nx);
    g.y = malloc(sizeof(float) * ny);
    g.r = malloc(sizeof(float) * ny);
    float *dx = calloc(nx, sizeof(float));
    ck_assert(g.x && g.y && g.r && dx);
    ic_rng rng;
    ic_rng_seed(&rng, 800);
    ic_test_fill(g.x, nx, &rng, -1, 1);
    ic_test_fill(g.r, ny, &rng, -1, 1);
    ic_gap_backward(g.n, g.c, g.hw, g.r, dx);
    int f = ic_test_gradcheck("gap dx", gap_loss, &g, g.x, dx, nx, 1e-2f, 1e-3, 1e-2, 0);
    ck_assert_int_eq(f, 0);
    free(g.x); free(g.y); free(g.r); free(dx);
}
END_TEST

static Suite *pool_suite(void) {
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_maxpool_known_2x2);
    tcase_add_test(tc, test_maxpool_nonsquare);
    tcase_add_test(tc, test_maxpool_overlap_accumulates);
    tcase_add_test(tc, test_maxpool_ties_and_nan);
    tcase_add_loop_test(tc, test_maxpool_matches_reference, 0, 4);
    tcase_add_loop_test(tc, test_maxpool_backward_set, 0, 2);
    tcase_add_loop_test(tc, test_maxpool_gradcheck, 0, 3);
    tcase_add_test(tc, test_gap_known);
    tcase_add_test(tc, test_gap_gradcheck);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(pool_suite)
