/* Tests for src/nn/loss.c: hand-computed losses (plain, uniform, smoothed,
 * class-weighted, with ignored labels), overflow safety, gradient checks and
 * softmax normalisation. */
#include "testutil.h"
#include "ic/loss.h"

/* logits [1,2,3], label 2: lse = log(e+e^2+e^3) = 3.40760596, loss = lse - 3 = 0.40760596;
 * probs = exp(z - lse) = [0.09003057, 0.24472847, 0.66524096];
 * gradient = probs - onehot = [0.09003057, 0.24472847, -0.33475904]. */
START_TEST(test_hand_value) {
    const float z[3] = {1, 2, 3};
    const int y[1] = {2};
    const float wp[3] = {0.09003057f, 0.24472847f, 0.66524096f};
    const float wd[3] = {0.09003057f, 0.24472847f, -0.33475904f};
    float p[3], d[3] = {0};
    float L = ic_softmax_xent_forward(1, 3, z, y, NULL, 0.0f, p);
    ck_assert_float_eq_tol(L, 0.40760596f, 1e-6f);
    ck_assert_double_le(ic_test_max_abs_diff(p, wp, 3), 1e-6);
    ic_softmax_xent_backward(1, 3, p, y, NULL, 0.0f, d);
    ck_assert_double_le(ic_test_max_abs_diff(d, wd, 3), 1e-6);
}
END_TEST

/* equal logits: p = 1/k, loss = log k = log 5 = 1.60943791 whatever the label */
START_TEST(test_uniform_logk) {
    const float z[10] = {7, 7, 7, 7, 7, -2, -2, -2, -2, -2};
    const int y[2] = {0, 4};
    float p[10];
    float L = ic_softmax_xent_forward(2, 5, z, y, NULL, 0.0f, p);
    ck_assert_float_eq_tol(L, 1.60943791f, 1e-6f);
    for (int i = 0; i < 10; i++) ck_assert_float_eq_tol(p[i], 0.2f, 1e-7f);
}
END_TEST

/* s = 0.3, k = 3: target = [0.1, 0.1, 0.8];
 * loss = lse - (0.1*1 + 0.1*2 + 0.8*3) = 3.40760596 - 2.7 = 0.70760596 */
START_TEST(test_smoothing_value) {
    const float z[3] = {1, 2, 3};
    const int y[1] = {2};
    float p[3];
    float L = ic_softmax_xent_forward(1, 3, z, y, NULL, 0.3f, p);
    ck_assert_float_eq_tol(L, 0.70760596f, 1e-6f);
}
END_TEST

/* rows [1,2,3] label 2 (CE 0.40760596) and [0,0,0] label 0 (CE log 3 = 1.09861229),
 * weights [2, 1, 0.5]: loss = (0.5*0.40760596 + 2*1.09861229) / (0.5 + 2) = 0.96041102.
 * With s = 0.3 as well (row 1 stays log 3): (0.5*0.70760596 + 2*1.09861229)/2.5 = 1.02041102. */
START_TEST(test_class_weights_value) {
    const float z[6] = {1, 2, 3, 0, 0, 0};
    const int y[2] = {2, 0};
    const float w[3] = {2, 1, 0.5f};
    float p[6];
    ck_assert_float_eq_tol(ic_softmax_xent_forward(2, 3, z, y, w, 0.0f, p), 0.96041102f, 1e-6f);
    ck_assert_float_eq_tol(ic_softmax_xent_forward(2, 3, z, y, w, 0.3f, p), 1.02041102f, 1e-6f);
}
END_TEST

/* label -1 rows contribute nothing: rows as above plus an ignored wild row in the
 * middle; loss = (0.40760596 + 1.09861229)/2 = 0.75310913; its gradient row stays 0. */
START_TEST(test_ignored_labels) {
    const float z[9] = {1, 2, 3, 50, -20, 4, 0, 0, 0};
    const int y[3] = {2, -1, 0};
    float p[9], d[9] = {0};
    float L = ic_softmax_xent_forward(3, 3, z, y, NULL, 0.0f, p);
    ck_assert_float_eq_tol(L, 0.75310913f, 1e-6f);
    ic_softmax_xent_backward(3, 3, p, y, NULL, 0.0f, d);
    for (int j = 0; j < 3; j++) ck_assert_float_eq(d[3 + j], 0.0f);
    /* the mean is over 2 rows: row 0 gradient = (p - onehot)/2 */
    ck_assert_float_eq_tol(d[2], (0.66524096f - 1.0f) / 2, 1e-6f);
}
END_TEST

START_TEST(test_all_ignored) {
    const float z[6] = {1, 2, 3, 4, 5, 6};
    const int y[2] = {-1, -1};
    float p[6], d[6] = {0};
    float L = ic_softmax_xent_forward(2, 3, z, y, NULL, 0.1f, p);
    ck_assert_float_eq(L, 0.0f);
    ic_softmax_xent_backward(2, 3, p, y, NULL, 0.1f, d);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(d[i], 0.0f);
    /* probs are still filled in for inference use */
    ck_assert_float_eq_tol(p[0] + p[1] + p[2], 1.0f, 1e-6f);
}
END_TEST

/* logits [1e4, 0, -1e4]: label 1 -> loss 1e4 (lse = 1e4 + log(1 + e^-1e4 + ...)),
 * label 0 -> loss ~0; nothing becomes inf or NaN. */
START_TEST(test_large_logits) {
    const float z[6] = {1e4f, 0, -1e4f, 1e4f, 0, -1e4f};
    const int y1[2] = {1, 1}, y0[2] = {0, 0};
    float p[6], d[6] = {0};
    float L = ic_softmax_xent_forward(2, 3, z, y1, NULL, 0.0f, p);
    ck_assert(isfinite(L));
    ck_assert_float_eq_tol(L, 1e4f, 1e-2f);
    for (int i = 0; i < 6; i++) ck_assert(isfinite(p[i]));
    ck_assert_float_eq_tol(p[0], 1.0f, 1e-7f);
    ic_softmax_xent_backward(2, 3, p, y1, NULL, 0.0f, d);
    for (int i = 0; i < 6; i++) ck_assert(isfinite(d[i]));
    L = ic_softmax_xent_forward(2, 3, z, y0, NULL, 0.0f, p);
    ck_assert(L >= 0.0f && L < 1e-6f);
    /* s = 0.3 puts 0.1 on each wrong class: log p = -1e4 and -2e4 there, so
     * loss = 0.1*1e4 + 0.1*2e4 = 3000, finite although p underflows to 0 */
    L = ic_softmax_xent_forward(2, 3, z, y0, NULL, 0.3f, p);
    ck_assert(isfinite(L));
    ck_assert_float_eq_tol(L, 0.1f * 2e4f + 0.1f * 1e4f, 1e-1f);
}
END_TEST

typedef struct {
    int n, k;
    float *z, *p, *w, s;
    const int *y;
} loss_ctx;

static double xent_loss(void *v) {
    loss_ctx *c = v;
    return ic_softmax_xent_forward(c->n, c->k, c->z, c->y, c->w, c->s, c->p);
}

static void gradcheck_case(const float *w, float s, uint64_t seed) {
    enum { N = 5, K = 4 };
    float z[N * K], p[N * K], d[N * K] = {0}, wc[K];
    const int y[N] = {3, -1, 0, 2, 0};
    if (w) memcpy(wc, w, sizeof wc);
    loss_ctx c = {N, K, z, p, w ? wc : NULL, s, y};
    ic_rng r;
    ic_rng_seed(&r, seed);
    ic_test_fill(z, N * K, &r, -3, 3);
    xent_loss(&c);
    ic_softmax_xent_backward(N, K, p, y, c.w, s, d);
    ck_assert_int_eq(ic_test_gradcheck("dlogits", xent_loss, &c, z, d, N * K, 1e-2f, 1e-4, 1e-2, 0), 0);
    /* ignored row 1 has no gradient; each labelled row's gradient sums to 0 */
    for (int j = 0; j < K; j++) ck_assert_float_eq(d[K + j], 0.0f);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < K; j++) s += d[i * K + j];
        ck_assert_double_le(fabs(s), 1e-6);
    }
}

START_TEST(test_gradcheck_plain) { gradcheck_case(NULL, 0.0f, 51); }
END_TEST

START_TEST(test_gradcheck_smooth_weights) {
    const float w[4] = {0.5f, 2.0f, 1.0f, 3.0f};
    gradcheck_case(NULL, 0.2f, 52);
    gradcheck_case(w, 0.0f, 53);
    gradcheck_case(w, 0.15f, 54);
}
END_TEST

/* rows sum to 1, values in (0,1], argmax preserved, in place equals out of place */
START_TEST(test_softmax_rows) {
    enum { N = 6, K = 7 };
    float z[N * K], p[N * K];
    ic_rng r;
    ic_rng_seed(&r, 55);
    ic_test_fill(z, N * K, &r, -20, 20);
    ic_softmax(N, K, z, p);
    for (int i = 0; i < N; i++) {
        double s = 0;
        int am = 0, ap = 0;
        for (int j = 0; j < K; j++) {
            ck_assert(p[i * K + j] >= 0.0f && p[i * K + j] <= 1.0f);
            s += p[i * K + j];
            if (z[i * K + j] > z[i * K + am]) am = j;
            if (p[i * K + j] > p[i * K + ap]) ap = j;
        }
        ck_assert_double_le(fabs(s - 1.0), 1e-6);
        ck_assert_int_eq(am, ap);
    }
    ic_softmax(N, K, z, z);
    ck_assert_double_eq(ic_test_max_abs_diff(z, p, N * K), 0);
}
END_TEST

static Suite *loss_suite(void) {
    Suite *s = suite_create("loss");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hand_value);
    tcase_add_test(tc, test_uniform_logk);
    tcase_add_test(tc, test_smoothing_value);
    tcase_add_test(tc, test_class_weights_value);
    tcase_add_test(tc, test_ignored_labels);
    tcase_add_test(tc, test_all_ignored);
    tcase_add_test(tc, test_large_logits);
    tcase_add_test(tc, test_gradcheck_plain);
    tcase_add_test(tc, test_gradcheck_smooth_weights);
    tcase_add_test(tc, test_softmax_rows);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(loss_suite)
