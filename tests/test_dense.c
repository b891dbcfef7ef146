/* Tests for src/nn/dense.c: hand-computed forward, sgemm against naive loops,
 * finite-difference gradients for dx, dw, db, and backward accumulation. */
#include "testutil.h"
#include "ic/dense.h"

/* Reference: y[i][o] = b[o] + sum_k x[i][k] w[o][k], in double. */
static void dense_naive(int n, int in, int out, const float *x, const float *w, const float *b,
                        float *y) {
    for (int i = 0; i < n; i++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int k = 0; k < in; k++) s += (double)x[i * in + k] * w[o * in + k];
            y[i * out + o] = (float)s;
        }
}

/* x = [[1,2],[-1,4]], W = [[1,0],[3,-1]], b = [0.5,-1]:
 *   row 0: [1*1+2*0+0.5, 1*3+2*(-1)-1] = [1.5, 0]
 *   row 1: [-1+0+0.5, -3-4-1]          = [-0.5, -8]
 * without bias: [[1, 1], [-1, -7]] */
START_TEST(test_forward_hand) {
    const float x[4] = {1, 2, -1, 4}, w[4] = {1, 0, 3, -1}, b[2] = {0.5f, -1};
    const float want[4] = {1.5f, 0, -0.5f, -8}, want_nb[4] = {1, 1, -1, -7};
    float y[4];
    ic_dense_forward(2, 2, 2, x, w, b, y);
    ck_assert_double_le(ic_test_max_abs_diff(y, want, 4), 1e-6);
    for (int i = 0; i < 4; i++) y[i] = 99; /* y must be overwritten, not accumulated */
    ic_dense_forward(2, 2, 2, x, w, NULL, y);
    ck_assert_double_le(ic_test_max_abs_diff(y, want_nb, 4), 1e-6);
}
END_TEST

START_TEST(test_forward_naive) {
    enum { N = 7, IN = 13, OUT = 5 };
    float x[N * IN], w[OUT * IN], b[OUT], y[N * OUT], yr[N * OUT];
    ic_rng r;
    ic_rng_seed(&r, 31);
    ic_test_fill(x, N * IN, &r, -1, 1);
    ic_test_fill(w, OUT * IN, &r, -1, 1);
    ic_test_fill(b, OUT, &r, -1, 1);
    ic_dense_forward(N, IN, OUT, x, w, b, y);
    dense_naive(N, IN, OUT, x, w, b, yr);
    ck_assert_double_le(ic_test_max_abs_diff(y, yr, N * OUT), 1e-5);
    ic_dense_forward(N, IN, OUT, x, w, NULL, y);
    dense_naive(N, IN, OUT, x, w, NULL, yr);
    ck_assert_double_le(ic_test_max_abs_diff(y, yr, N * OUT), 1e-5);
}
END_TEST

/* loss = sum(y * R) */
typedef struct { int n, in, out; float *x, *w, *b, *R, *y; } dense_ctx;

static double dense_loss(void *p) {
    dense_ctx *c = p;
    ic_dense_forward(c->n, c->in, c->out, c->x, c->w, c->b, c->y);
    double s = 0;
    for (int i = 0; i < c->n * c->out; i++) s += (double)c->y[i] * c->R[i];
    return s;
}

START_TEST(test_gradcheck) {
    enum { N = 4, IN = 6, OUT = 3 };
    float x[N * IN], w[OUT * IN], b[OUT], R[N * OUT], y[N * OUT];
    float dx[N * IN] = {0}, dw[OUT * IN] = {0}, db[OUT] = {0};
    dense_ctx c = {N, IN, OUT, x, w, b, R, y};
    ic_rng r;
    ic_rng_seed(&r, 32);
    ic_test_fill(x, N * IN, &r, -1, 1);
    ic_test_fill(w, OUT * IN, &r, -1, 1);
    ic_test_fill(b, OUT, &r, -1, 1);
    ic_test_fill(R, N * OUT, &r, -1, 1);
    ic_dense_backward(N, IN, OUT, x, w, R, dx, dw, db);
    /* the loss is linear in each buffer, so only float rounding limits agreement */
    int f = 0;
    f += ic_test_gradcheck("dx", dense_loss, &c, x, dx, N * IN, 1e-2f, 1e-3, 1e-3, 0);
    f += ic_test_gradcheck("dw", dense_loss, &c, w, dw, OUT * IN, 1e-2f, 1e-3, 1e-3, 0);
    f += ic_test_gradcheck("db", dense_loss, &c, b, db, OUT, 1e-2f, 1e-3, 1e-3, 0);
    ck_assert_int_eq(f, 0);
}
END_TEST

/* Backward adds: two calls give twice one call on top of the starting values,
 * and NULL dx / db leave only dw to update. */
START_TEST(test_backward_accumulates) {
    enum { N = 5, IN = 4, OUT = 3 };
    float x[N * IN], w[OUT * IN], dy[N * OUT];
    float dx0[N * IN], dw0[OUT * IN], db0[OUT];
    float dx1[N * IN] = {0}, dw1[OUT * IN] = {0}, db1[OUT] = {0};
    float dx[N * IN], dw[OUT * IN], db[OUT], want[N * IN];
    ic_rng r;
    ic_rng_seed(&r, 33);
    ic_test_fill(x, N * IN, &r, -1, 1);
    ic_test_fill(w, OUT * IN, &r, -1, 1);
    ic_test_fill(dy, N * OUT, &r, -1, 1);
    ic_test_fill(dx0, N * IN, &r, -1, 1);
    ic_test_fill(dw0, OUT * IN, &r, -1, 1);
    ic_test_fill(db0, OUT, &r, -1, 1);
    ic_dense_backward(N, IN, OUT, x, w, dy, dx1, dw1, db1); /* fresh gradient */
    memcpy(dx, dx0, sizeof dx); memcpy(dw, dw0, sizeof dw); memcpy(db, db0, sizeof db);
    ic_dense_backward(N, IN, OUT, x, w, dy, dx, dw, db);
    ic_dense_backward(N, IN, OUT, x, w, dy, dx, dw, db);
    for (int i = 0; i < N * IN; i++) want[i] = dx0[i] + 2 * dx1[i];
    ck_assert_double_le(ic_test_max_abs_diff(dx, want, N * IN), 1e-5);
    for (int i = 0; i < OUT * IN; i++) want[i] = dw0[i] + 2 * dw1[i];
    ck_assert_double_le(ic_test_max_abs_diff(dw, want, OUT * IN), 1e-5);
    for (int i = 0; i < OUT; i++) want[i] = db0[i] + 2 * db1[i];
    ck_assert_double_le(ic_test_max_abs_diff(db, want, OUT), 1e-5);

    memcpy(dw, dw0, sizeof dw);
    ic_dense_backward(N, IN, OUT, x, w, dy, NULL, dw, NULL);
    for (int i = 0; i < OUT * IN; i++) want[i] = dw0[i] + dw1[i];
    ck_assert_double_le(ic_test_max_abs_diff(dw, want, OUT * IN), 1e-5);
}
END_TEST

/* Hand backward for the forward_hand example with dy = [[1,0],[0,1]]:
 *   dx = dy W = [[1,0],[3,-1]], dw = dy^T x = [[1,2],[-1,4]], db = [1,1] */
START_TEST(test_backward_hand) {
    const float x[4] = {1, 2, -1, 4}, w[4] = {1, 0, 3, -1}, dy[4] = {1, 0, 0, 1};
    float dx[4] = {0}, dw[4] = {0}, db[2] = {0};
    const float wdx[4] = {1, 0, 3, -1}, wdw[4] = {1, 2, -1, 4}, wdb[2] = {1, 1};
    ic_dense_backward(2, 2, 2, x, w, dy, dx, dw, db);
    ck_assert_double_le(ic_test_max_abs_diff(dx, wdx, 4), 1e-6);
    ck_assert_double_le(ic_test_max_abs_diff(dw, wdw, 4), 1e-6);
    ck_assert_double_le(ic_test_max_abs_diff(db, wdb, 2), 1e-6);
}
END_TEST

static Suite *dense_suite(void) {
    Suite *s = suite_create("dense");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_forward_hand);
    tcase_add_test(tc, test_forward_naive);
    tcase_add_test(tc, test_gradcheck);
    tcase_add_test(tc, test_backward_accumulates);
    tcase_add_test(tc, test_backward_hand);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(dense_suite)
