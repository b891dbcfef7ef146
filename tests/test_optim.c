/* Tests for src/nn/optim.c: SGD (plain momentum and Nesterov) and AdamW steps
 * against hand arithmetic, weight-decay-free parameters, schedule values at
 * chosen steps, and AdamW minimising a quadratic. */
#include "testutil.h"
#include "ic/optim.h"

/* p = [1, -2], g = [0.5, 0.25] both steps, lr 0.1, momentum 0.9, wd 0.01.
 * Step 1: g' = g + 0.01 p = [0.51, 0.23]; v = g' = [0.51, 0.23];
 *         p -= 0.1 v -> [0.949, -2.023]
 * Step 2: g' = [0.5 + 0.00949, 0.25 - 0.02023] = [0.50949, 0.22977];
 *         v = 0.9 [0.51, 0.23] + g' = [0.96849, 0.43677];
 *         p -= 0.1 v -> [0.852151, -2.066677] */
START_TEST(test_sgd_momentum) {
    float p[2] = {1, -2}, v[2] = {0, 0};
    const float g[2] = {0.5f, 0.25f};
    const float p1[2] = {0.949f, -2.023f}, v1[2] = {0.51f, 0.23f};
    const float p2[2] = {0.852151f, -2.066677f}, v2[2] = {0.96849f, 0.43677f};
    ic_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.01f, 0);
    ck_assert_double_le(ic_test_max_abs_diff(p, p1, 2), 1e-6);
    ck_assert_double_le(ic_test_max_abs_diff(v, v1, 2), 1e-6);
    ic_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.01f, 0);
    ck_assert_double_le(ic_test_max_abs_diff(p, p2, 2), 1e-6);
    ck_assert_double_le(ic_test_max_abs_diff(v, v2, 2), 1e-6);
}
END_TEST

/* Same numbers, Nesterov: update = g' + 0.9 v.
 * Step 1: g' = v = [0.51, 0.23]; update = [0.969, 0.437]; p = [0.9031, -2.0437]
 * Step 2: g' = [0.5 + 0.009031, 0.25 - 0.020437] = [0.509031, 0.229563];
 *         v = 0.9 [0.51, 0.23] + g' = [0.968031, 0.436563];
 *         update = g' + 0.9 v = [1.3802589, 0.6224697];
 *         p = [0.9031 - 0.13802589, -2.0437 - 0.06224697] = [0.76507411, -2.10594697] */
START_TEST(test_sgd_nesterov) {
    float p[2] = {1, -2}, v[2] = {0, 0};
    const float g[2] = {0.5f, 0.25f};
    const float p1[2] = {0.9031f, -2.0437f};
    const float p2[2] = {0.76507411f, -2.10594697f}, v2[2] = {0.968031f, 0.436563f};
    ic_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.01f, 1);
    ck_assert_double_le(ic_test_max_abs_diff(p, p1, 2), 1e-6);
    ic_sgd_step(2, p, g, v, 0.1f, 0.9f, 0.01f, 1);
    ck_assert_double_le(ic_test_max_abs_diff(p, p2, 2), 1e-6);
    ck_assert_double_le(ic_test_max_abs_diff(v, v2, 2), 1e-6);
}
END_TEST

/* momentum 0 is plain SGD (v may be NULL): p -= lr (g + wd p) = 1 - 0.1*(0.5 + 0.01) = 0.949 */
START_TEST(test_sgd_plain) {
    float p[1] = {1};
    const float g[1] = {0.5f};
    ic_sgd_step(1, p, g, NULL, 0.1f, 0.0f, 0.01f, 0);
    ck_assert_float_eq_tol(p[0], 0.949f, 1e-7f);
}
END_TEST

/* p = [1, -2], lr 0.01, betas (0.9, 0.999), eps 1e-8, wd 0.1.
 * Step 1, g = [0.5, -0.25]:
 *   decay: p *= 1 - 0.01*0.1 -> [0.999, -1.998]
 *   m = 0.1 g = [0.05, -0.025], v = 0.001 g^2 = [2.5e-4, 6.25e-5]
 *   m/(1-0.9) = g, v/(1-0.999) = g^2, so the step is lr*g/(|g|+eps) ~ lr*sign(g)
 *   p = [0.999 - 0.01, -1.998 + 0.01] = [0.989, -1.988]
 * Step 2, g = [0.1, 0.3]:
 *   decay: p *= 0.999 -> [0.988011, -1.986012]
 *   m = 0.9 m + 0.1 g = [0.055, 0.0075]
 *   v = 0.999 v + 0.001 g^2 = [2.5975e-4, 1.524375e-4]
 *   bias corrections 1-0.9^2 = 0.19, 1-0.999^2 = 0.001999:
 *   mhat = [0.28947368, 0.03947368], vhat = [0.12993997, 0.07625688]
 *   mhat/sqrt(vhat) = [0.80304096, 0.14294473]
 *   p = [0.988011 - 0.0080304096, -1.986012 - 0.0014294473] = [0.97998059, -1.98744145] */
START_TEST(test_adamw_two_steps) {
    float p[2] = {1, -2}, m[2] = {0, 0}, v[2] = {0, 0};
    const float g1[2] = {0.5f, -0.25f}, g2[2] = {0.1f, 0.3f};
    const float p1[2] = {0.989f, -1.988f}, p2[2] = {0.97998059f, -1.98744145f};
    const float m2[2] = {0.055f, 0.0075f}, v2[2] = {2.5975e-4f, 1.524375e-4f};
    ic_adamw_step(2, p, g1, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 1);
    ck_assert_double_le(ic_test_max_abs_diff(p, p1, 2), 1e-6);
    ic_adamw_step(2, p, g2, m, v, 0.01f, 0.9f, 0.999f, 1e-8f, 0.1f, 2);
    ck_assert_double_le(ic_test_max_abs_diff(p, p2, 2), 2e-6);
    /* float betas are inexact (1 - 0.999f = 0.00099999), ~1e-5 relative in v */
    ck_assert_double_le(ic_test_max_abs_diff(m, m2, 2), 1e-7);
    ck_assert_double_le(ic_test_max_abs_diff(v, v2, 2), 1e-8);
}
END_TEST

/* Zero gradient: with wd 0 nothing moves (m = v = 0, step 0/(0+eps) = 0);
 * with wd > 0 only the decay acts: AdamW p *= 1 - lr*wd, SGD p -= lr*wd*p. */
START_TEST(test_weight_decay_zero) {
    float p[3] = {1.5f, -2.0f, 0.25f}, m[3] = {0}, v[3] = {0}, sv[3] = {0};
    const float p0[3] = {1.5f, -2.0f, 0.25f}, g[3] = {0, 0, 0};
    for (long t = 1; t <= 5; t++) ic_adamw_step(3, p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.0f, t);
    ck_assert_double_eq(ic_test_max_abs_diff(p, p0, 3), 0);
    for (int t = 0; t < 5; t++) ic_sgd_step(3, p, g, sv, 0.1f, 0.9f, 0.0f, 1);
    ck_assert_double_eq(ic_test_max_abs_diff(p, p0, 3), 0);

    /* one AdamW step with wd 0.5, lr 0.1: p *= 0.95 */
    float want[3];
    for (int i = 0; i < 3; i++) want[i] = p0[i] * 0.95f;
    ic_adamw_step(3, p, g, m, v, 0.1f, 0.9f, 0.999f, 1e-8f, 0.5f, 6);
    ck_assert_double_le(ic_test_max_abs_diff(p, want, 3), 1e-6);
}
END_TEST

/* base 0.1, warmup 10, total 110, min 0.001:
 *   warmup: step s < 10 -> 0.1*(s+1)/10: s=0 0.01, s=4 0.05, s=9 0.1
 *   cosine over the 100 steps after warmup: s=10 0.1, s=35 (quarter)
 *     0.001 + 0.099*(1+cos(pi/4))/2 = 0.08550179, s=60 (half) (0.1+0.001)/2 = 0.0505,
 *     s=110 and beyond 0.001 */
START_TEST(test_sched_cosine) {
    ic_lr_schedule s = {IC_SCHED_COSINE, 0.1f, 10, 110, 0.001f, 0, 0.0f};
    ck_assert_float_eq_tol(ic_lr_at(&s, 0), 0.01f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 4), 0.05f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 9), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 10), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 35), 0.08550179f, 1e-7f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 60), 0.0505f, 1e-7f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 110), 0.001f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 500), 0.001f, 1e-8f);
    for (long k = 10; k < 110; k++) ck_assert(ic_lr_at(&s, k + 1) <= ic_lr_at(&s, k));
}
END_TEST

/* base 0.1, step_size 30, gamma 0.1, no warmup: 0.1 for 0..29, 0.01 for 30..59,
 * 0.001 from 60.  With warmup 5 the decay counts from the end of warmup:
 * s=4 0.1 (ramp top), s=34 0.1, s=35 0.01. */
START_TEST(test_sched_step) {
    ic_lr_schedule s = {IC_SCHED_STEP, 0.1f, 0, 0, 0.0f, 30, 0.1f};
    ck_assert_float_eq_tol(ic_lr_at(&s, 0), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 29), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 30), 0.01f, 1e-9f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 59), 0.01f, 1e-9f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 60), 0.001f, 1e-10f);
    s.warmup_steps = 5;
    ck_assert_float_eq_tol(ic_lr_at(&s, 0), 0.02f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 4), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 34), 0.1f, 1e-8f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 35), 0.01f, 1e-9f);
}
END_TEST

START_TEST(test_sched_constant) {
    ic_lr_schedule s = {IC_SCHED_CONSTANT, 0.003f, 4, 0, 0.0f, 0, 0.0f};
    ck_assert_float_eq_tol(ic_lr_at(&s, 0), 0.00075f, 1e-9f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 1), 0.0015f, 1e-9f);
    ck_assert_float_eq_tol(ic_lr_at(&s, 3), 0.003f, 1e-9f);
    ck_assert_float_eq(ic_lr_at(&s, 4), 0.003f);
    ck_assert_float_eq(ic_lr_at(&s, 100000), 0.003f);
    s.warmup_steps = 0;
    ck_assert_float_eq(ic_lr_at(&s, 0), 0.003f);
}
END_TEST

/* AdamW on L = sum (p - c)^2, g = 2 (p - c), from p = 0 with c in [-2, 2]. */
START_TEST(test_adamw_converges) {
    enum { N = 10, STEPS = 300 };
    float p[N] = {0}, c[N], g[N], m[N] = {0}, v[N] = {0};
    ic_rng r;
    ic_rng_seed(&r, 61);
    ic_test_fill(c, N, &r, -2, 2);
    double start = ic_test_max_abs_diff(p, c, N);
    for (long t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++) g[i] = 2.0f * (p[i] - c[i]);
        ic_adamw_step(N, p, g, m, v, 0.05f, 0.9f, 0.999f, 1e-8f, 0.0f, t);
    }
    ck_assert_double_ge(start, 0.5);
    ck_assert_double_le(ic_test_max_abs_diff(p, c, N), 1e-3);
}
END_TEST

static Suite *optim_suite(void) {
    Suite *s = suite_create("optim");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sgd_momentum);
    tcase_add_test(tc, test_sgd_nesterov);
    tcase_add_test(tc, test_sgd_plain);
    tcase_add_test(tc, test_adamw_two_steps);
    tcase_add_test(tc, test_weight_decay_zero);
    tcase_add_test(tc, test_sched_cosine);
    tcase_add_test(tc, test_sched_step);
    tcase_add_test(tc, test_sched_constant);
    tcase_add_test(tc, test_adamw_converges);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(optim_suite)
