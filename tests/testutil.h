/* Shared helpers for the Check suites: a main() macro, random fills, and a
 * finite-difference gradient checker.  Header-only; each test_*.c is its own binary.
 * Temporary directories, files, WAVs and running the programs: testutil_io.h. */
#ifndef IC_TESTUTIL_H
#define IC_TESTUTIL_H
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ic/rng.h"

/* int main() that runs one suite and exits non-zero on any failure. */
/* Check's default 4 s per test is too tight for sanitizer builds on a busy
 * 2-core machine; 120 s unless CK_DEFAULT_TIMEOUT says otherwise. */
#define IC_TEST_MAIN(suite_fn)                                        \
    int main(void) {                                                  \
        setenv("CK_DEFAULT_TIMEOUT", "120", 0);                       \
        SRunner *sr = srunner_create(suite_fn());                     \
        srunner_run_all(sr, CK_NORMAL);                               \
        int failed = srunner_ntests_failed(sr);                       \
        srunner_free(sr);                                             \
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;                  \
    }

static inline void ic_test_fill(float *x, size_t n, ic_rng *r, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * ic_rng_uniform(r);
}

static inline double ic_test_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) { double d = fabs((double)a[i] - (double)b[i]); if (d > m) m = d; }
    return m;
}

/* Loss as a function of the current contents of the buffers it closes over. */
typedef double (*ic_test_loss_fn)(void *ctx);

/* Central-difference check of analytic gradient `grad` for buffer `x` (n floats):
 * for every index (or `max_checks` evenly spread ones when n is larger),
 * numeric = (L(x+h) - L(x-h)) / 2h.  Passes when |num - ana| <= atol + rtol*max(|num|,|ana|).
 * Returns the number of failures and prints the first few. */
static inline int ic_test_gradcheck(const char *what, ic_test_loss_fn loss, void *ctx,
                                    float *x, const float *grad, size_t n, float h,
                                    double atol, double rtol, size_t max_checks) {
    int fails = 0;
    size_t step = (max_checks && n > max_checks) ? n / max_checks : 1;
    for (size_t i = 0; i < n; i += step) {
        float old = x[i];
        x[i] = old + h; double lp = loss(ctx);
        x[i] = old - h; double lm = loss(ctx);
        x[i] = old;
        double num = (lp - lm) / (2.0 * (double)h);
        double ana = grad[i];
        double tol = atol + rtol * fmax(fabs(num), fabs(ana));
        if (fabs(num - ana) > tol) {
            if (fails < 5)
                fprintf(stderr, "gradcheck %s[%zu]: numeric %.6g analytic %.6g\n", what, i, num, ana);
            fails++;
        }
    }
    return fails;
}
#endif
