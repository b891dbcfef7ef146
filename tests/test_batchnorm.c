/* Tests for src/nn/batchnorm.c: a hand-computed example, normalised output
 * statistics, the running-statistics formula, train/eval agreement, and
 * finite-difference gradient checks for dense (hw=1) and conv (hw>1) shapes. */
#include "testutil.h"
#include "ic/batchnorm.h"
#include "ic/activation.h"

/* Hand example, n=2 c=2 hw=2, eps=0.25, momentum=0.1, layout (n,c,hw):
 *   channel 0 values 1,2 | 3,4:   mean 2.5, biased var (2.25+.25+.25+2.25)/4 = 1.25,
 *     invstd = 1/sqrt(1.25+.25) = 0.81649658, xhat = (-1.5,-.5,.5,1.5)*0.81649658
 *     = -1.2247449 -0.4082483 0.4082483 1.2247449; gamma 2, beta 0.5
 *     -> y = -1.9494897 -0.3164966 1.3164966 2.9494897
 *     unbiased var 5/3; run_mean = .1*2.5 = 0.25, run_var = .9*1 + .1*5/3 = 1.0666667
 *   channel 1 values -1,1 | -1,1: mean 0, biased var 1, invstd = 1/sqrt(1.25) = 0.89442719;
 *     gamma -1, beta 0 -> y = 0.8944272 -0.8944272 0.8944272 -0.8944272
 *     unbiased var 4/3; run_mean = 0, run_var = .9 + .1*4/3 = 1.0333333 */
START_TEST(test_hand_train) {
    ic_bn_dims d = {2, 2, 2, 0.25f, 0.1f, 0, 0};
    const float x[8] = {1, 2, -1, 1, 3, 4, -1, 1};
    const float gamma[2] = {2, -1}, beta[2] = {0.5f, 0};
    const float want[8] = {-1.9494897f, -0.3164966f, 0.8944272f, -0.8944272f,
                           1.3164966f, 2.9494897f, 0.8944272f, -0.8944272f};
    float y[8], sm[2], si[2], rm[2] = {0, 0}, rv[2] = {1, 1};
    ic_batchnorm_forward_train(&d, x, gamma, beta, y, sm, si, rm, rv);
    ck_assert_double_le(ic_test_max_abs_diff(y, want, 8), 1e-6);
    ck_assert_float_eq_tol(sm[0], 2.5f, 1e-7f);
    ck_assert_float_eq_tol(sm[1], 0.0f, 1e-7f);
    ck_assert_float_eq_tol(si[0], 0.81649658f, 1e-6f);
    ck_assert_float_eq_tol(si[1], 0.89442719f, 1e-6f);
    ck_assert_float_eq_tol(rm[0], 0.25f, 1e-7f);
    ck_assert_float_eq_tol(rm[1], 0.0f, 1e-7f);
    ck_assert_float_eq_tol(rv[0], 1.0666667f, 1e-6f);
    ck_assert_float_eq_tol(rv[1], 1.0333333f, 1e-6f);
}
END_TEST

/* Eval with run_mean (1,-1), run_var (0.75,3.75), eps 0.25 -> denominators 1 and 2:
 *   ch0: y = 2*(x-1)+0.5  -> x=1,2,3,4 gives 0.5 2.5 4.5 6.5
 *   ch1: y = -(x+1)/2     -> x=-1 gives 0, x=1 gives -1 */
START_TEST(test_hand_eval) {
    ic_bn_dims d = {2, 2, 2, 0.25f, 0.1f, 0, 0};
    const float x[8] = {1, 2, -1, 1, 3, 4, -1, 1};
    const float gamma[2] = {2, -1}, beta[2] = {0.5f, 0};
    const float rm[2] = {1, -1}, rv[2] = {0.75f, 3.75f};
    const float want[8] = {0.5f, 2.5f, 0, -1, 4.5f, 6.5f, 0, -1};
    float y[8];
    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rv, y);
    ck_assert_double_le(ic_test_max_abs_diff(y, want, 8), 1e-6);
}
END_TEST

/* Per-channel mean and biased variance of y over (n,hw). */
static void channel_stats(const ic_bn_dims *d, const float *y, int ch, double *mean, double *var) {
    size_t m = (size_t)d->n * d->hw;
    double s = 0, ss = 0;
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->hw; j++) s += y[((size_t)i * d->c + ch) * d->hw + j];
    *mean = s / m;
    for (int i = 0; i < d->n; i++)
        for (int j = 0; j < d->hw; j++) {
            double t = y[((size_t)i * d->c + ch) * d->hw + j] - *mean;
            ss += t * t;
        }
    *var = ss / m;
}

START_TEST(test_train_output_normalised) {
    ic_bn_dims d = {8, 3, 5, 1e-5f, 0.1f, 0, 0};
    size_t sz = (size_t)d.n * d.c * d.hw;
    float *x = malloc(sz * sizeof *x), *y = malloc(sz * sizeof *y);
    float gamma[3] = {1, 1, 1}, beta[3] = {0, 0, 0}, sm[3], si[3], rm[3] = {0}, rv[3] = {1, 1, 1};
    ic_rng r;
    ic_rng_seed(&r, 11);
    /* shifted and scaled inputs so the layer has real work to do */
    for (size_t i = 0; i < sz; i++) x[i] = 3.0f + 4.0f * ic_rng_normal(&r);
    ic_batchnorm_forward_train(&d, x, gamma, beta, y, sm, si, rm, rv);
    for (int ch = 0; ch < d.c; ch++) {
        double mean, var;
        channel_stats(&d, y, ch, &mean, &var);
        ck_assert_double_le(fabs(mean), 1e-5);
        ck_assert_double_le(fabs(var - 1.0), 1e-4); /* var/(var+eps) with var ~16 */
    }
    free(x); free(y);
}
END_TEST

START_TEST(test_running_stats_formula) {
    ic_bn_dims d = {4, 3, 6, 1e-5f, 0.3f, 0, 0};
    size_t sz = (size_t)d.n * d.c * d.hw, m = (size_t)d.n * d.hw;
    float *x = malloc(sz * sizeof *x), *y = malloc(sz * sizeof *y);
    float gamma[3] = {1, 2, 3}, beta[3] = {0, 1, 2}, sm[3], si[3];
    float rm[3] = {0.5f, -1.0f, 2.0f}, rv[3] = {1.0f, 0.2f, 3.0f};
    float rm0[3], rv0[3];
    memcpy(rm0, rm, sizeof rm); memcpy(rv0, rv, sizeof rv);
    ic_rng r;
    ic_rng_seed(&r, 12);
    ic_test_fill(x, sz, &r, -2.0f, 5.0f);
    ic_batchnorm_forward_train(&d, x, gamma, beta, y, sm, si, rm, rv);
    for (int ch = 0; ch < d.c; ch++) {
        double mean, var;
        channel_stats(&d, x, ch, &mean, &var);
        double unbiased = var * m / (m - 1);
        ck_assert_double_le(fabs(sm[ch] - mean), 1e-6);
        ck_assert_double_le(fabs(si[ch] - 1.0 / sqrt(var + d.eps)), 1e-6);
        ck_assert_double_le(fabs(rm[ch] - (0.7 * rm0[ch] + 0.3 * mean)), 1e-6);
        ck_assert_double_le(fabs(rv[ch] - (0.7 * rv0[ch] + 0.3 * unbiased)), 1e-6);
    }
    free(x); free(y);
}
END_TEST

/* momentum 1: run stats become the batch stats exactly.  Eval then uses the
 * unbiased variance u where train used the biased b = u*(m-1)/m; giving eval
 * run_var*(m-1)/m must reproduce the train output, and with the raw run_var
 * the centred outputs must differ by exactly sqrt((b+eps)/(u+eps)). */
START_TEST(test_train_eval_momentum_one) {
    ic_bn_dims d = {5, 2, 3, 1e-3f, 1.0f, 0, 0};
    size_t sz = (size_t)d.n * d.c * d.hw, m = (size_t)d.n * d.hw;
    float x[30], yt[30], ye[30];
    float gamma[2] = {1.5f, -0.7f}, beta[2] = {0.3f, -0.2f}, sm[2], si[2];
    float rm[2] = {9, 9}, rv[2] = {9, 9}, rvb[2];
    ic_rng r;
    ic_rng_seed(&r, 13);
    ic_test_fill(x, sz, &r, -1.0f, 3.0f);
    ic_batchnorm_forward_train(&d, x, gamma, beta, yt, sm, si, rm, rv);
    for (int ch = 0; ch < 2; ch++) rvb[ch] = rv[ch] * (float)(m - 1) / (float)m;
    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rvb, ye);
    ck_assert_double_le(ic_test_max_abs_diff(yt, ye, sz), 1e-5);

    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rv, ye);
    ck_assert_double_ge(ic_test_max_abs_diff(yt, ye, sz), 1e-3); /* the factor is visible */
    for (int i = 0; i < d.n; i++)
        for (int ch = 0; ch < 2; ch++) {
            double b = rvb[ch], u = rv[ch];
            double f = sqrt((b + d.eps) / (u + d.eps));
            for (int j = 0; j < d.hw; j++) {
                size_t k = ((size_t)i * 2 + ch) * d.hw + j;
                ck_assert_double_le(fabs((ye[k] - beta[ch]) - f * (yt[k] - beta[ch])), 1e-5);
            }
        }
}
END_TEST

/* Many training steps with momentum 0.1 on one batch: running stats converge
 * (0.9^200 ~ 7e-10 of the start remains), so eval output approaches train
 * output, up to |gamma*xhat| * (1 - sqrt((m-1)/m)) from unbiased vs biased. */
START_TEST(test_train_eval_converge) {
    ic_bn_dims d = {16, 3, 16, 1e-5f, 0.1f, 0, 0};
    size_t sz = (size_t)d.n * d.c * d.hw, m = (size_t)d.n * d.hw;
    float *x = malloc(sz * sizeof *x), *yt = malloc(sz * sizeof *yt), *ye = malloc(sz * sizeof *ye);
    float gamma[3] = {1.0f, 2.0f, 0.5f}, beta[3] = {0, 0.5f, -1}, sm[3], si[3];
    float rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1};
    ic_rng r;
    ic_rng_seed(&r, 14);
    for (size_t i = 0; i < sz; i++) x[i] = 2.0f + 3.0f * ic_rng_normal(&r);
    ic_batchnorm_forward_train(&d, x, gamma, beta, yt, sm, si, rm, rv);
    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rv, ye);
    double first = ic_test_max_abs_diff(yt, ye, sz);
    for (int s = 1; s < 200; s++) ic_batchnorm_forward_train(&d, x, gamma, beta, yt, sm, si, rm, rv);
    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rv, ye);
    double last = ic_test_max_abs_diff(yt, ye, sz);
    double maxgx = 0;
    for (size_t i = 0; i < sz; i++) {
        int ch = (int)((i / d.hw) % d.c);
        double g = fabs((yt[i] - beta[ch]));
        if (g > maxgx) maxgx = g;
    }
    double bound = maxgx * (1.0 - sqrt((double)(m - 1) / m)) + 1e-4;
    ck_assert_double_ge(first, 0.5);
    ck_assert_double_le(last, bound);
    free(x); free(yt); free(ye);
}
END_TEST

/* Gradient check context: loss = sum(y * R) of the training forward. */
typedef struct {
    ic_bn_dims d;
    float *x, *gamma, *beta, *R, *y, *sm, *si, *rm, *rv;
} bn_ctx;

static double bn_loss(void *p) {
    bn_ctx *c = p;
    size_t sz = (size_t)c->d.n * c->d.c * c->d.hw;
    ic_batchnorm_forward_train(&c->d, c->x, c->gamma, c->beta, c->y, c->sm, c->si, c->rm, c->rv);
    double s = 0;
    for (size_t i = 0; i < sz; i++) s += (double)c->y[i] * c->R[i];
    return s;
}

static void gradcheck_shape(int n, int ch, int hw, uint64_t seed) {
    bn_ctx c;
    c.d = (ic_bn_dims){n, ch, hw, 1e-5f, 0.1f, 0, 0};
    size_t sz = (size_t)n * ch * hw;
    c.x = malloc(sz * sizeof(float)); c.R = malloc(sz * sizeof(float)); c.y = malloc(sz * sizeof(float));
    c.gamma = malloc(ch * sizeof(float)); c.beta = malloc(ch * sizeof(float));
    c.sm = malloc(ch * sizeof(float)); c.si = malloc(ch * sizeof(float));
    c.rm = calloc(ch, sizeof(float)); c.rv = calloc(ch, sizeof(float));
    float *dx = malloc(sz * sizeof(float)), *dg = malloc(ch * sizeof(float)), *db = malloc(ch * sizeof(float));
    float *dx0 = malloc(sz * sizeof(float)), *dg0 = malloc(ch * sizeof(float)), *db0 = malloc(ch * sizeof(float));
    ic_rng r;
    ic_rng_seed(&r, seed);
    ic_test_fill(c.x, sz, &r, -2.0f, 2.0f);
    ic_test_fill(c.R, sz, &r, -1.0f, 1.0f);
    ic_test_fill(c.gamma, ch, &r, 0.5f, 1.5f);
    ic_test_fill(c.beta, ch, &r, -0.5f, 0.5f);

    /* backward ADDS: start from non-zero buffers and subtract them afterwards */
    ic_test_fill(dx0, sz, &r, -1.0f, 1.0f);
    ic_test_fill(dg0, ch, &r, -1.0f, 1.0f);
    ic_test_fill(db0, ch, &r, -1.0f, 1.0f);
    memcpy(dx, dx0, sz * sizeof(float)); memcpy(dg, dg0, ch * sizeof(float)); memcpy(db, db0, ch * sizeof(float));
    bn_loss(&c);
    ic_batchnorm_backward(&c.d, c.x, c.gamma, c.sm, c.si, c.R, dx, dg, db);
    for (size_t i = 0; i < sz; i++) dx[i] -= dx0[i];
    for (int i = 0; i < ch; i++) { dg[i] -= dg0[i]; db[i] -= db0[i]; }

    /* float forward, |loss| ~ sz: h=1e-2 keeps rounding noise ~1e-4 */
    int f = 0;
    f += ic_test_gradcheck("dx", bn_loss, &c, c.x, dx, sz, 1e-2f, 2e-3, 1e-2, 0);
    f += ic_test_gradcheck("dgamma", bn_loss, &c, c.gamma, dg, ch, 1e-2f, 2e-3, 1e-2, 0);
    f += ic_test_gradcheck("dbeta", bn_loss, &c, c.beta, db, ch, 1e-2f, 2e-3, 1e-2, 0);
    ck_assert_int_eq(f, 0);

    /* dbeta is sum R and the mean path makes sum_n dx zero per channel */
    for (int k = 0; k < ch; k++) {
        double sr = 0, sdx = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < hw; j++) {
                sr += c.R[((size_t)i * ch + k) * hw + j];
                sdx += dx[((size_t)i * ch + k) * hw + j];
            }
        ck_assert_double_le(fabs(db[k] - sr), 1e-5);
        ck_assert_double_le(fabs(sdx), 1e-4);
    }
    free(c.x); free(c.R); free(c.y); free(c.gamma); free(c.beta); free(c.sm); free(c.si);
    free(c.rm); free(c.rv); free(dx); free(dg); free(db); free(dx0); free(dg0); free(db0);
}

/* The fused batch norm + ReLU equals the two layers one after the other:
 * forward (train and eval) bit for bit, backward to float rounding. */
START_TEST(test_fused_relu_matches_composition) {
    ic_bn_dims d = {4, 3, 37, 1e-5f, 0.1f, 0, 0}, f = d;
    f.relu = 1;
    size_t sz = (size_t)d.n * d.c * d.hw;
    float *x = malloc(sz * sizeof(float)), *y = malloc(sz * sizeof(float)), *yr = malloc(sz * sizeof(float));
    float *yf = malloc(sz * sizeof(float)), *dy = malloc(sz * sizeof(float)), *dbn = calloc(sz, sizeof(float));
    float *dx = calloc(sz, sizeof(float)), *dxf = calloc(sz, sizeof(float));
    float gamma[3] = {1.0f, 0.7f, 1.3f}, beta[3] = {0.1f, -0.2f, 0.0f};
    float sm[3], si[3], rm[3] = {0, 0, 0}, rv[3] = {1, 1, 1}, rm2[3] = {0, 0, 0}, rv2[3] = {1, 1, 1};
    float dg[3] = {0}, db[3] = {0}, dgf[3] = {0}, dbf[3] = {0};
    ic_rng r;
    ic_rng_seed(&r, 31);
    ic_test_fill(x, sz, &r, -2.0f, 2.0f);
    ic_test_fill(dy, sz, &r, -1.0f, 1.0f);
    ic_batchnorm_forward_train(&d, x, gamma, beta, y, sm, si, rm, rv);
    ic_relu_forward(sz, y, yr);
    ic_batchnorm_forward_train(&f, x, gamma, beta, yf, sm, si, rm2, rv2);
    size_t zeros = 0;
    for (size_t i = 0; i < sz; i++) {
        ck_assert_msg(yf[i] == yr[i], "train forward %zu: %g != %g", i, yf[i], yr[i]);
        zeros += yf[i] == 0.0f;
    }
    ck_assert(zeros > sz / 4 && zeros < 3 * sz / 4);   /* the ReLU does cut */
    ic_relu_backward(sz, yr, dy, dbn);
    ic_batchnorm_backward(&d, x, gamma, sm, si, dbn, dx, dg, db);
    ic_batchnorm_relu_backward(&f, x, gamma, sm, si, yf, dy, dxf, dgf, dbf);
    ck_assert_double_le(ic_test_max_abs_diff(dx, dxf, sz), 1e-5);
    ck_assert_double_le(ic_test_max_abs_diff(dg, dgf, 3), 1e-4);
    ck_assert_double_le(ic_test_max_abs_diff(db, dbf, 3), 1e-4);
    ck_assert(fabsf(dg[0]) > 1e-3f && fabsf(db[1]) > 1e-3f);
    ic_batchnorm_forward_eval(&d, x, gamma, beta, rm, rv, y);
    ic_relu_forward(sz, y, yr);
    ic_batchnorm_forward_eval(&f, x, gamma, beta, rm, rv, yf);
    for (size_t i = 0; i < sz; i++) ck_assert_msg(yf[i] == yr[i], "eval forward %zu", i);
    free(x); free(y); free(yr); free(yf); free(dy); free(dbn); free(dx); free(dxf);
}
END_TEST

START_TEST(test_gradcheck_dense) { gradcheck_shape(6, 4, 1, 21); }
END_TEST

START_TEST(test_gradcheck_conv) { gradcheck_shape(3, 2, 5, 22); }
END_TEST

/* dx NULL: parameter gradients only. */
START_TEST(test_backward_dx_null) {
    ic_bn_dims d = {3, 2, 2, 1e-5f, 0.1f, 0, 0};
    float x[12], dy[12], y[12], g[2] = {1, 2}, b[2] = {0, 0}, sm[2], si[2], rm[2] = {0}, rv[2] = {1, 1};
    float dg1[2] = {0}, db1[2] = {0}, dg2[2] = {0}, db2[2] = {0}, dx[12] = {0};
    ic_rng r;
    ic_rng_seed(&r, 23);
    ic_test_fill(x, 12, &r, -1, 1);
    ic_test_fill(dy, 12, &r, -1, 1);
    ic_batchnorm_forward_train(&d, x, g, b, y, sm, si, rm, rv);
    ic_batchnorm_backward(&d, x, g, sm, si, dy, dx, dg1, db1);
    ic_batchnorm_backward(&d, x, g, sm, si, dy, NULL, dg2, db2);
    ck_assert_double_eq(ic_test_max_abs_diff(dg1, dg2, 2), 0);
    ck_assert_double_eq(ic_test_max_abs_diff(db1, db2, 2), 0);
}
END_TEST

/* d.assign: dx is overwritten (a buffer of NaNs gives the same result as the
 * adding backward on zeros), with and without the fused ReLU; dgamma and
 * dbeta still add. */
START_TEST(test_backward_assign) {
    const int relu = _i;
    ic_bn_dims d = {3, 2, 7, 1e-5f, 0.1f, relu, 0};
    const size_t sz = (size_t)d.n * d.c * d.hw;
    float x[42], y[42], dy[42], dx_add[42], dx_set[42], gamma[2] = {0.7f, -1.3f}, beta[2] = {0.1f, -0.2f};
    float sm[2], si[2], rm[2] = {0, 0}, rv[2] = {1, 1}, dg[2] = {1, 2}, db[2] = {3, 4}, dg2[2] = {1, 2}, db2[2] = {3, 4};
    ic_rng r;
    ic_rng_seed(&r, 23);
    ic_test_fill(x, sz, &r, -2.0f, 2.0f);
    ic_test_fill(dy, sz, &r, -1.0f, 1.0f);
    ic_batchnorm_forward_train(&d, x, gamma, beta, y, sm, si, rm, rv);
    for (size_t i = 0; i < sz; i++) { dx_add[i] = 0.0f; dx_set[i] = NAN; }
    if (relu) ic_batchnorm_relu_backward(&d, x, gamma, sm, si, y, dy, dx_add, dg, db);
    else ic_batchnorm_backward(&d, x, gamma, sm, si, dy, dx_add, dg, db);
    d.assign = 1;
    if (relu) ic_batchnorm_relu_backward(&d, x, gamma, sm, si, y, dy, dx_set, dg2, db2);
    else ic_batchnorm_backward(&d, x, gamma, sm, si, dy, dx_set, dg2, db2);
    int nonzero = 0;
    for (size_t i = 0; i < sz; i++) {
        ck_assert_msg(dx_set[i] == dx_add[i], "dx[%zu]: %g overwritten, %g added", i, dx_set[i], dx_add[i]);
        nonzero += dx_add[i] != 0.0f;
    }
    ck_assert_int_ge(nonzero, (int)sz / 3);
    for (int c = 0; c < 2; c++) ck_assert(dg2[c] == dg[c] && db2[c] == db[c] && db[c] != (c ? 4.0f : 3.0f));
}
END_TEST

static Suite *batchnorm_suite(void) {
    Suite *s = suite_create("batchnorm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hand_train);
    tcase_add_test(tc, test_hand_eval);
    tcase_add_test(tc, test_train_output_normalised);
    tcase_add_test(tc, test_running_stats_formula);
    tcase_add_test(tc, test_train_eval_momentum_one);
    tcase_add_test(tc, test_train_eval_converge);
    tcase_add_test(tc, test_gradcheck_dense);
    tcase_add_test(tc, test_fused_relu_matches_composition);
    tcase_add_test(tc, test_gradcheck_conv);
    tcase_add_test(tc, test_backward_dx_null);
    tcase_add_loop_test(tc, test_backward_assign, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(batchnorm_suite)
