/* Tests for src/dsp/featstats.c: per-band mean/std against a direct two-pass double
 * computation, merging, the std floor, apply, and the error cases. */
#include "testutil.h"
#include "ic/featstats.h"

enum { BANDS = 5 };

/* Direct mean and population std of band b over several matrices. */
static void direct_stats(float *const *mats, const size_t *frames, int n_mats, size_t b,
                         double *mean, double *sd) {
    double s = 0;
    size_t n = 0;
    for (int i = 0; i < n_mats; i++)
        for (size_t t = 0; t < frames[i]; t++) { s += mats[i][b * frames[i] + t]; n++; }
    *mean = s / (double)n;
    double v = 0;
    for (int i = 0; i < n_mats; i++)
        for (size_t t = 0; t < frames[i]; t++) { double d = mats[i][b * frames[i] + t] - *mean; v += d * d; }
    *sd = sqrt(v / (double)n);
}

START_TEST(test_stats_match_direct) {
    ic_rng rng;
    ic_rng_seed(&rng, 11);
    size_t frames[4] = { 37, 1, 200, 64 };
    float *mats[4];
    ic_featstats *s = ic_featstats_new(BANDS, NULL), *a = ic_featstats_new(BANDS, NULL), *b = ic_featstats_new(BANDS, NULL);
    ck_assert_ptr_nonnull(s);
    for (int i = 0; i < 4; i++) {
        mats[i] = malloc(BANDS * frames[i] * sizeof(float));
        /* band b has offset 10 b - 20 and spread b + 0.5, plus a large offset in band 4 */
        for (size_t bd = 0; bd < BANDS; bd++)
            for (size_t t = 0; t < frames[i]; t++)
                mats[i][bd * frames[i] + t] = (bd == 4 ? 1e4f : 10.0f * bd - 20.0f) + (bd + 0.5f) * ic_rng_normal(&rng);
        ic_featstats_add(s, mats[i], frames[i]);
        ic_featstats_add(i < 2 ? a : b, mats[i], frames[i]);
    }
    ic_featstats_add(s, mats[0], 0);  /* no-op */
    ck_assert_uint_eq(ic_featstats_count(s), 302);
    ck_assert_uint_eq(ic_featstats_bands(s), BANDS);
    float mean[BANDS], sd[BANDS], mean2[BANDS], sd2[BANDS];
    ck_assert_int_eq(ic_featstats_finalize(s, IC_FEATSTATS_STD_FLOOR, mean, sd, NULL), IC_OK);
    for (size_t bd = 0; bd < BANDS; bd++) {
        double m, d;
        direct_stats(mats, frames, 4, bd, &m, &d);
        ck_assert_double_eq_tol(mean[bd], m, 1e-6 * (1 + fabs(m)));
        ck_assert_double_eq_tol(sd[bd], d, 1e-5 * d);
        /* and the spread is what was drawn, roughly */
        ck_assert_double_eq_tol(sd[bd], bd + 0.5, 0.15 * (bd + 0.5));
    }
    /* accumulating in two halves and merging gives the same statistics */
    ic_featstats_merge(a, b);
    ck_assert_uint_eq(ic_featstats_count(a), 302);
    ck_assert_int_eq(ic_featstats_finalize(a, IC_FEATSTATS_STD_FLOOR, mean2, sd2, NULL), IC_OK);
    for (size_t bd = 0; bd < BANDS; bd++) {
        ck_assert_double_eq_tol(mean2[bd], mean[bd], 1e-6 * (1 + fabs(mean[bd])));
        ck_assert_double_eq_tol(sd2[bd], sd[bd], 1e-5 * sd[bd]);
    }
    /* apply: every band of the pooled data becomes mean 0, std 1 */
    for (int i = 0; i < 4; i++) ic_featstats_apply(mean, sd, BANDS, mats[i], frames[i]);
    ic_featstats_reset(s);
    ck_assert_uint_eq(ic_featstats_count(s), 0);
    for (int i = 0; i < 4; i++) ic_featstats_add(s, mats[i], frames[i]);
    ck_assert_int_eq(ic_featstats_finalize(s, IC_FEATSTATS_STD_FLOOR, mean2, sd2, NULL), IC_OK);
    for (size_t bd = 0; bd < BANDS; bd++) {  /* band 4 at 1e4 carries float rounding of ~5e-4 */
        ck_assert_double_eq_tol(mean2[bd], 0.0, 1e-3);
        ck_assert_double_eq_tol(sd2[bd], 1.0, 1e-4);
    }
    for (int i = 0; i < 4; i++) free(mats[i]);
    ic_featstats_free(s);
    ic_featstats_free(a);
    ic_featstats_free(b);
}
END_TEST

START_TEST(test_stats_large_count_stable) {
    /* a million frames of 1000 + {+-0.001}: sums of squares in float or naive double
     * E[x^2] - E[x]^2 lose this; Chan/Welford keeps it */
    enum { T = 1000 };
    float x[2 * T];
    for (int t = 0; t < T; t++) {
        x[t] = 1000.0f + ((t & 1) ? 0.001f : -0.001f);
        x[T + t] = -5.0f;
    }
    ic_featstats *s = ic_featstats_new(2, NULL);
    for (int r = 0; r < 1000; r++) ic_featstats_add(s, x, T);
    float mean[2], sd[2];
    ck_assert_int_eq(ic_featstats_finalize(s, 1e-6f, mean, sd, NULL), IC_OK);
    double dev = (double)(1000.0f + 0.001f) - 1000.0;  /* the float spacing at 1000 */
    ck_assert_double_eq_tol(mean[0], 1000.0, 1e-4);
    ck_assert_double_eq_tol(sd[0], dev, 1e-3 * dev);
    /* a constant band gets the floor, so apply stays finite */
    ck_assert_float_eq(mean[1], -5.0f);
    ck_assert_float_eq(sd[1], 1e-6f);
    ic_featstats_free(s);
}
END_TEST

START_TEST(test_stats_errors) {
    ic_error err;
    ck_assert_ptr_null(ic_featstats_new(0, &err));
    ck_assert_int_eq(err.code, IC_ERR_ARG);
    ic_featstats *s = ic_featstats_new(3, &err);
    float mean[3], sd[3];
    ck_assert_int_eq(ic_featstats_finalize(s, 1e-3f, mean, sd, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "no frames"));
    float x[3] = { 1.0f, NAN, 2.0f };
    ic_featstats_add(s, x, 1);
    ck_assert_int_eq(ic_featstats_finalize(s, 0.0f, mean, sd, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "std_floor"));
    ck_assert_int_eq(ic_featstats_finalize(s, 1e-3f, mean, sd, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "band 1"));
    ic_featstats_free(s);
    ic_featstats_free(NULL);
}
END_TEST

static Suite *featstats_suite(void) {
    Suite *s = suite_create("featstats");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_stats_match_direct);
    tcase_add_test(tc, test_stats_large_count_stable);
    tcase_add_test(tc, test_stats_errors);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(featstats_suite)
