/* Tests for src/nn/activation.c: ReLU values and gradient, dropout statistics,
 * scaling, mask reuse in backward and reproducibility from a seed. */
#include "testutil.h"
#include "ic/activation.h"

START_TEST(test_relu_values) {
    float x[6] = {-2.0f, -0.5f, 0.0f, 0.5f, 3.0f, -1e-7f};
    const float want[6] = {0, 0, 0, 0.5f, 3.0f, 0};
    float y[6];
    ic_relu_forward(6, x, y);
    ck_assert_double_eq(ic_test_max_abs_diff(y, want, 6), 0);
    ic_relu_forward(6, x, x); /* in place */
    ck_assert_double_eq(ic_test_max_abs_diff(x, want, 6), 0);
}
END_TEST

/* dx += dy where y > 0: y = [0, 2, 0, 1], dy = [1,2,3,4], dx starts at 10s. */
START_TEST(test_relu_backward_hand) {
    const float y[4] = {0, 2, 0, 1}, dy[4] = {1, 2, 3, 4};
    float dx[4] = {10, 10, 10, 10};
    const float want[4] = {10, 12, 10, 14};
    ic_relu_backward(4, y, dy, dx);
    ck_assert_double_eq(ic_test_max_abs_diff(dx, want, 4), 0);
}
END_TEST

typedef struct { size_t n; float *x, *y, *R; } relu_ctx;

static double relu_loss(void *p) {
    relu_ctx *c = p;
    ic_relu_forward(c->n, c->x, c->y);
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += (double)c->y[i] * c->R[i];
    return s;
}

/* Inputs kept at |x| >= 0.1 so x +- h never crosses the kink at 0. */
START_TEST(test_relu_gradcheck) {
    enum { N = 64 };
    float x[N], y[N], R[N], dx[N] = {0};
    ic_rng r;
    ic_rng_seed(&r, 41);
    for (int i = 0; i < N; i++) {
        float m = 0.1f + 0.9f * ic_rng_uniform(&r);
        x[i] = (ic_rng_u64(&r) & 1) ? m : -m;
    }
    ic_test_fill(R, N, &r, -1, 1);
    relu_ctx c = {N, x, y, R};
    relu_loss(&c);
    ic_relu_backward(N, y, R, dx);
    ck_assert_int_eq(ic_test_gradcheck("relu dx", relu_loss, &c, x, dx, N, 1e-3f, 1e-4, 1e-3, 0), 0);
}
END_TEST

/* p = 0: y == x exactly, every mask entry 1, backward passes dy straight through. */
START_TEST(test_dropout_p0_identity) {
    enum { N = 100 };
    float x[N], y[N], dy[N], dx[N] = {0};
    uint8_t mask[N];
    ic_rng r;
    ic_rng_seed(&r, 42);
    ic_test_fill(x, N, &r, -3, 3);
    ic_test_fill(dy, N, &r, -3, 3);
    memset(mask, 0, sizeof mask);
    ic_dropout_forward(N, 0.0f, x, y, mask, &r);
    ck_assert_double_eq(ic_test_max_abs_diff(x, y, N), 0);
    for (int i = 0; i < N; i++) ck_assert_int_eq(mask[i], 1);
    ic_dropout_backward(N, 0.0f, mask, dy, dx);
    ck_assert_double_eq(ic_test_max_abs_diff(dx, dy, N), 0);
}
END_TEST

/* n = 100000, p = 0.3.  Kept count ~ Binomial(n, 0.7): sd of the fraction
 * sqrt(.21/n) = 0.00145, bound 0.01 (~7 sd).  mean(y) - mean(x) for x in
 * [0.5,1.5]: sd ~ sqrt(E[x^2] p/(1-p) / n) = 0.0022, bound 0.015 (~7 sd). */
START_TEST(test_dropout_statistics) {
    const size_t n = 100000;
    const float p = 0.3f, scale = 1.0f / (1.0f - p);
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    uint8_t *mask = malloc(n);
    ic_rng r;
    ic_rng_seed(&r, 43);
    ic_test_fill(x, n, &r, 0.5f, 1.5f);
    ic_dropout_forward(n, p, x, y, mask, &r);
    size_t kept = 0;
    double sx = 0, sy = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert(mask[i] == 0 || mask[i] == 1);
        if (mask[i]) {
            kept++;
            ck_assert_float_eq_tol(y[i], x[i] * scale, 1e-6f * x[i] * scale);
        } else {
            ck_assert_float_eq(y[i], 0.0f);
        }
        sx += x[i];
        sy += y[i];
    }
    double frac = (double)kept / n;
    ck_assert_double_le(fabs(frac - (1.0 - p)), 0.01);
    ck_assert_double_le(fabs(sy / n - sx / n), 0.015);
    free(x); free(y); free(mask);
}
END_TEST

/* Backward: dx += dy/(1-p) exactly where the forward kept, untouched elsewhere. */
START_TEST(test_dropout_backward_mask) {
    enum { N = 1000 };
    const float p = 0.5f;
    float x[N], y[N], dy[N], dx[N];
    uint8_t mask[N];
    ic_rng r;
    ic_rng_seed(&r, 44);
    ic_test_fill(x, N, &r, -1, 1);
    ic_test_fill(dy, N, &r, -1, 1);
    for (int i = 0; i < N; i++) dx[i] = 5.0f;
    ic_dropout_forward(N, p, x, y, mask, &r);
    ic_dropout_backward(N, p, mask, dy, dx);
    int kept = 0;
    for (int i = 0; i < N; i++) {
        float want = mask[i] ? 5.0f + dy[i] * 2.0f : 5.0f;
        ck_assert_float_eq_tol(dx[i], want, 1e-6f);
        /* the forward and backward agree: y != 0 exactly where the gradient flows */
        ck_assert_int_eq(y[i] != 0.0f, mask[i]);
        kept += mask[i];
    }
    ck_assert_int_gt(kept, 0);
    ck_assert_int_lt(kept, N);
}
END_TEST

START_TEST(test_dropout_seed_reproducible) {
    enum { N = 4096 };
    float x[N], y1[N], y2[N];
    uint8_t m1[N], m2[N], m3[N];
    ic_rng r1, r2, r3;
    for (int i = 0; i < N; i++) x[i] = 1.0f;
    ic_rng_seed(&r1, 45);
    ic_rng_seed(&r2, 45);
    ic_rng_seed(&r3, 46);
    ic_dropout_forward(N, 0.4f, x, y1, m1, &r1);
    ic_dropout_forward(N, 0.4f, x, y2, m2, &r2);
    ic_dropout_forward(N, 0.4f, x, y2, m3, &r3);
    ck_assert_int_eq(memcmp(m1, m2, N), 0);
    ck_assert_int_ne(memcmp(m1, m3, N), 0);
    /* the state advanced: the next mask from the same rng differs */
    ic_dropout_forward(N, 0.4f, x, y1, m2, &r1);
    ck_assert_int_ne(memcmp(m1, m2, N), 0);
}
END_TEST

static Suite *activation_suite(void) {
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_relu_values);
    tcase_add_test(tc, test_relu_backward_hand);
    tcase_add_test(tc, test_relu_gradcheck);
    tcase_add_test(tc, test_dropout_p0_identity);
    tcase_add_test(tc, test_dropout_statistics);
    tcase_add_test(tc, test_dropout_backward_mask);
    tcase_add_test(tc, test_dropout_seed_reproducible);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(activation_suite)
