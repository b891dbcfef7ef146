/* Tests for src/dsp/fft.c: the radix-2 real FFT against the plain DFT on random
 * signals of every power-of-two size up to 4096, known transforms, plan errors. */
#include "testutil.h"
#include "ic/fft.h"

/* Error bound used against the double-precision DFT: float rounding in a radix-2 FFT
 * grows like log2(n) eps ||x||_2, so allow |X_fft - X_dft| <= 2e-7 log2(n) ||x||_2 per
 * bin (eps = 1.2e-7; the measured worst is 0.48 of this bound, with a DC offset of 100). */
static double fft_tol(size_t n, const float *x) {
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double lg = 1;
    for (size_t m = n; m > 1; m >>= 1) lg += 1;
    return 2e-7 * lg * sqrt(ss) + 1e-30;
}

START_TEST(test_fft_matches_dft_random) {
    ic_rng rng;
    ic_rng_seed(&rng, 42);
    double worst_ratio = 0;
    for (size_t n = 2; n <= 4096; n *= 2) {
        ic_error err;
        ic_fft_plan *p = ic_fft_plan_new(n, &err);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq(ic_fft_plan_size(p), n);
        float *x = malloc(n * sizeof *x), *a = malloc((n + 2) * sizeof *a), *b = malloc((n + 2) * sizeof *b);
        for (int trial = 0; trial < 3; trial++) {
            /* trial 2 has a large DC offset, the hard case for float accumulation */
            ic_test_fill(x, n, &rng, -1.0f, 1.0f);
            if (trial == 2) for (size_t i = 0; i < n; i++) x[i] += 100.0f;
            ic_rfft(p, x, a);
            ic_dft_real_naive(x, n, b);
            double tol = fft_tol(n, x), d = ic_test_max_abs_diff(a, b, n + 2);
            if (d / tol > worst_ratio) worst_ratio = d / tol;
            ck_assert_msg(d <= tol, "n=%zu trial %d: max |fft - dft| = %g > %g", n, trial, d, tol);
            /* bins 0 and n/2 of a real signal are real */
            ck_assert_float_eq(a[1], 0.0f);
            ck_assert_float_eq(a[n + 1], 0.0f);
        }
        free(x); free(a); free(b);
        ic_fft_plan_free(p);
    }
    fprintf(stderr, "fft vs dft: worst error / tolerance = %.3f\n", worst_ratio);
}
END_TEST

START_TEST(test_fft_known_transforms) {
    const size_t n = 64;
    ic_fft_plan *p = ic_fft_plan_new(n, NULL);
    ck_assert_ptr_nonnull(p);
    float x[64], X[66];
    /* unit impulse at 0: flat spectrum of ones */
    memset(x, 0, sizeof x);
    x[0] = 1.0f;
    ic_rfft(p, x, X);
    for (size_t k = 0; k <= n / 2; k++) {
        ck_assert_double_eq_tol(X[2 * k], 1.0, 1e-6);
        ck_assert_double_eq_tol(X[2 * k + 1], 0.0, 1e-6);
    }
    /* impulse at 1: X[k] = exp(-2 pi i k / n) */
    memset(x, 0, sizeof x);
    x[1] = 1.0f;
    ic_rfft(p, x, X);
    for (size_t k = 0; k <= n / 2; k++) {
        double a = 2 * M_PI * (double)k / (double)n;
        ck_assert_double_eq_tol(X[2 * k], cos(a), 1e-6);
        ck_assert_double_eq_tol(X[2 * k + 1], -sin(a), 1e-6);
    }
    /* cos at bin 5 plus DC 2: X[0] = 2n, X[5] = n/2, all else 0 */
    for (size_t i = 0; i < n; i++) x[i] = 2.0f + (float)cos(2 * M_PI * 5.0 * (double)i / (double)n);
    ic_rfft(p, x, X);
    for (size_t k = 0; k <= n / 2; k++) {
        double want = k == 0 ? 2.0 * n : k == 5 ? n / 2.0 : 0.0;
        ck_assert_double_eq_tol(X[2 * k], want, 1e-4);
        ck_assert_double_eq_tol(X[2 * k + 1], 0.0, 1e-4);
    }
    /* alternating signal: everything at Nyquist */
    for (size_t i = 0; i < n; i++) x[i] = (i & 1) ? -1.0f : 1.0f;
    ic_rfft(p, x, X);
    ck_assert_double_eq_tol(X[n], (double)n, 1e-5);
    ck_assert_double_eq_tol(X[0], 0.0, 1e-5);
    ic_fft_plan_free(p);
}
END_TEST

START_TEST(test_fft_smallest_sizes) {
    float x[4] = { 3.0f, -1.0f, 2.0f, 5.0f }, X[6], Y[6];
    ic_fft_plan *p2 = ic_fft_plan_new(2, NULL), *p4 = ic_fft_plan_new(4, NULL);
    ck_assert_ptr_nonnull(p2);
    ck_assert_ptr_nonnull(p4);
    ic_rfft(p2, x, X);
    ck_assert_float_eq(X[0], 2.0f);
    ck_assert_float_eq(X[2], 4.0f);
    ic_rfft(p4, x, X);
    ic_dft_real_naive(x, 4, Y);
    /* X = [9, 1+6i, 1] by hand: 3-1+2+5, (3-2) + i(5-(-1)), 3+1+2-5 */
    ck_assert_float_eq_tol(X[0], 9.0f, 1e-6f);
    ck_assert_float_eq_tol(X[2], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(X[3], 6.0f, 1e-6f);
    ck_assert_float_eq_tol(X[4], 1.0f, 1e-6f);
    ck_assert_double_le(ic_test_max_abs_diff(X, Y, 6), 1e-5);
    ic_fft_plan_free(p2);
    ic_fft_plan_free(p4);
}
END_TEST

START_TEST(test_fft_plan_rejects_bad_sizes) {
    size_t bad[] = { 0, 1, 3, 12, 1000, (size_t)1 << 25 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ic_error err;
        ic_error_clear(&err);
        ck_assert_ptr_null(ic_fft_plan_new(bad[i], &err));
        ck_assert_int_eq(err.code, IC_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(err.msg, "power of two"));
    }
    ic_fft_plan_free(NULL);
}
END_TEST

static Suite *fft_suite(void) {
    Suite *s = suite_create("fft");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fft_matches_dft_random);
    tcase_add_test(tc, test_fft_known_transforms);
    tcase_add_test(tc, test_fft_smallest_sizes);
    tcase_add_test(tc, test_fft_plan_rejects_bad_sizes);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(fft_suite)
