/* Tests of ic/room.h: the IR's measured decay matches the requested RT60 (Schroeder
 * backward integration, T20 fit), its structure (direct sound, early taps before the
 * predelay, direct-to-reverberant ratio), seeded reproducibility, the FFT convolution
 * against the direct one (one block, several blocks, a tail longer than the input,
 * aliasing) and the level normalisations. */
#include "testutil.h"
#include "ic/room.h"
#include "ic/fft.h"

static ic_room_params room(float rt60, int sr) {
    ic_room_params p = {.sample_rate = sr, .rt60 = rt60, .predelay = 0.02f, .n_early = 5,
                        .drr_db = 3.0f, .cutoff = 4000.0f};
    return p;
}

static float *make_ir(const ic_room_params *p, uint64_t seed, size_t *m) {
    ic_error e;
    ck_assert_msg(ic_room_validate(p, &e) == IC_OK, "%s", e.msg);
    *m = ic_room_ir_length(p);
    float *ir = malloc(*m * sizeof *ir);
    ic_rng r;
    ic_rng_seed(&r, seed);
    ic_room_ir(p, &r, ir);
    return ir;
}

/* RT60 from the energy decay curve of the late part: 3 x the time from -5 to -25 dB. */
static double measure_rt60(const float *ir, size_t m, size_t start, int sr) {
    double *edc = calloc(m + 1, sizeof *edc);
    for (size_t t = m; t-- > start;) edc[t] = edc[t + 1] + (double)ir[t] * ir[t];
    double e0 = edc[start];
    long t5 = -1, t25 = -1;
    for (size_t t = start; t < m; t++) {
        double db = 10 * log10(edc[t] / e0);
        if (t5 < 0 && db <= -5) t5 = (long)t;
        if (t25 < 0 && db <= -25) { t25 = (long)t; break; }
    }
    free(edc);
    ck_assert(t5 > 0 && t25 > t5);
    return 3.0 * (double)(t25 - t5) / sr;
}

START_TEST(test_rt60_decay) {
    const float rts[] = {0.3f, 0.6f, 1.2f};
    for (int i = 0; i < 3; i++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            ic_room_params p = room(rts[i], 16000);
            size_t m;
            float *ir = make_ir(&p, seed, &m);
            size_t t0 = (size_t)lround(p.predelay * p.sample_rate);
            ck_assert_uint_eq(m, t0 + (size_t)ceil(rts[i] * 16000.0) + 1);
            double got = measure_rt60(ir, m, t0 + 1, 16000);
            ck_assert_msg(fabs(got - rts[i]) <= 0.08 * rts[i], "rt60 %.3f measured %.3f (seed %d)",
                          (double)rts[i], got, (int)seed);
            free(ir);
        }
    }
}
END_TEST

START_TEST(test_ir_structure) {
    ic_room_params p = room(0.8f, 16000);
    p.drr_db = 6.0f;
    p.cutoff = 1000.0f;
    size_t m;
    float *ir = make_ir(&p, 7, &m);
    size_t t0 = 320, ms = 16;
    ck_assert_float_eq(ir[0], 1.0f);
    for (size_t t = 1; t < ms; t++) ck_assert_float_eq(ir[t], 0.0f);  /* nothing within 1 ms */
    int taps = 0;
    for (size_t t = ms; t <= t0; t++) taps += ir[t] != 0.0f;
    ck_assert_int_ge(taps, 1);       /* early reflections (two may share a delay) */
    ck_assert_int_le(taps, 5);
    double e = 0;
    for (size_t t = 1; t < m; t++) e += (double)ir[t] * ir[t];
    ck_assert_double_eq_tol(10 * log10(1.0 / e), 6.0, 1e-3);
    /* the reverb is low-passed (one pole at 1 kHz): little energy far above the cutoff */
    size_t N = 16384;
    float *buf = calloc(N, sizeof *buf), *spec = malloc((N + 2) * sizeof *spec);
    memcpy(buf, ir + t0 + 1, (m - t0 - 1 < N ? m - t0 - 1 : N) * sizeof *buf);
    ic_fft_plan *plan = ic_fft_plan_new(N, NULL);
    ic_rfft(plan, buf, spec);
    double lo = 0, hi = 0;
    for (size_t k = 1; k <= N / 2; k++) {
        double pw = (double)spec[2 * k] * spec[2 * k] + (double)spec[2 * k + 1] * spec[2 * k + 1];
        double f = (double)k * 16000 / N;
        if (f < 2000) lo += pw; else if (f > 6000) hi += pw;
    }
    ck_assert_msg(hi < 0.25 * lo, "energy above 6 kHz %.3g vs below 2 kHz %.3g", hi, lo);
    ic_fft_plan_free(plan);
    free(buf); free(spec); free(ir);
    /* bad parameters are refused with the field named */
    ic_error err;
    p = room(0.0f, 16000);
    ck_assert_int_eq(ic_room_validate(&p, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "rt60"));
    p = room(0.5f, 16000);
    p.cutoff = 9000;
    ck_assert_int_eq(ic_room_validate(&p, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "cutoff"));
}
END_TEST

START_TEST(test_seeded) {
    ic_rng a, b;
    ic_rng_seed(&a, 42);
    ic_rng_seed(&b, 42);
    ic_room_params pa, pb;
    ic_room_random(&pa, 16000, &a);
    ic_room_random(&pb, 16000, &b);
    ck_assert_mem_eq(&pa, &pb, sizeof pa);
    ck_assert(pa.rt60 >= 0.3f && pa.rt60 <= 1.5f);
    ck_assert(pa.n_early >= 3 && pa.n_early <= 8);
    ic_error e;
    ck_assert_int_eq(ic_room_validate(&pa, &e), IC_OK);
    size_t m = ic_room_ir_length(&pa);
    float *x = malloc(m * sizeof *x), *y = malloc(m * sizeof *y);
    ic_room_ir(&pa, &a, x);
    ic_room_ir(&pb, &b, y);
    ck_assert_mem_eq(x, y, m * sizeof *x);
    ic_rng_seed(&b, 43);
    ic_room_ir(&pa, &b, y);
    ck_assert(ic_test_max_abs_diff(x, y, m) > 1e-3);
    free(x); free(y);
    /* ic_room_apply: same seed, same output; level kept */
    size_t n = 16000;
    float *in = malloc(n * sizeof *in), *o1 = malloc(n * sizeof *o1), *o2 = malloc(n * sizeof *o2);
    for (size_t i = 0; i < n; i++) in[i] = 0.3f * (float)sin(2 * M_PI * 440.0 * (double)i / 16000);
    ic_rng_seed(&a, 5);
    ck_assert_int_eq(ic_room_apply(in, n, 16000, &a, o1, &e), IC_OK);
    ic_rng_seed(&a, 5);
    ck_assert_int_eq(ic_room_apply(in, n, 16000, &a, o2, &e), IC_OK);
    ck_assert_mem_eq(o1, o2, n * sizeof *o1);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) { s1 += (double)in[i] * in[i]; s2 += (double)o1[i] * o1[i]; }
    ck_assert_double_eq_tol(s2 / s1, 1.0, 1e-4);
    ck_assert(ic_test_max_abs_diff(in, o1, n) > 0.01);
    free(in); free(o1); free(o2);
}
END_TEST

/* FFT convolution vs the direct sum for input length n, IR length m, output n_out. */
static void check_conv(size_t n, size_t m, size_t n_out, uint64_t seed) {
    ic_rng r;
    ic_rng_seed(&r, seed);
    float *x = malloc(n * sizeof *x), *h = malloc(m * sizeof *h);
    float *y = malloc(n_out * sizeof *y), *ref = malloc(n_out * sizeof *ref);
    ic_test_fill(x, n, &r, -1, 1);
    for (size_t j = 0; j < m; j++) h[j] = (float)exp(-5.0 * j / m) * (ic_rng_uniform(&r) - 0.5f);
    ic_error e;
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, y, n_out, IC_ROOM_NORM_NONE, &e), IC_OK);
    ic_room_convolve_naive(x, n, h, m, ref, n_out);
    double scale = 0;
    for (size_t i = 0; i < n_out; i++) if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    double d = ic_test_max_abs_diff(y, ref, n_out);
    ck_assert_msg(d <= 2e-5 * scale + 1e-6, "n %zu m %zu n_out %zu: max diff %.3g (scale %.3g)", n, m, n_out, d, scale);
    free(x); free(h); free(y); free(ref);
}

START_TEST(test_convolve_vs_naive) {
    check_conv(1000, 300, 1299, 1);      /* full linear convolution, one block */
    check_conv(1000, 300, 600, 2);       /* cut short */
    check_conv(50, 300, 2000, 3);        /* output past the tail: zeros */
    check_conv(1, 1, 1, 4);
    check_conv(70000, 1000, 70999, 5);   /* several overlap-add blocks */
    check_conv(70000, 1000, 40000, 6);
    /* a known answer: x = [1, 2], h = [1, -1, 0.5] -> [1, 1, -1.5, 1] */
    float x[2] = {1, 2}, h[3] = {1, -1, 0.5f}, y[5];
    ck_assert_int_eq(ic_room_convolve(x, 2, h, 3, y, 5, IC_ROOM_NORM_NONE, NULL), IC_OK);
    const float want[5] = {1, 1, -1.5f, 1, 0};
    ck_assert(ic_test_max_abs_diff(y, want, 5) < 1e-6);
    ic_error e;
    ck_assert_int_eq(ic_room_convolve(x, 2, h, 0, y, 5, IC_ROOM_NORM_NONE, &e), IC_ERR_ARG);
}
END_TEST

START_TEST(test_convolve_alias_and_norm) {
    size_t n = 20000, m = 4000;
    ic_rng r;
    ic_rng_seed(&r, 9);
    float *x = malloc(n * sizeof *x), *h = malloc(m * sizeof *h), *y = malloc(n * sizeof *y);
    ic_test_fill(x, n, &r, -0.5f, 0.5f);
    ic_test_fill(h, m, &r, -0.2f, 0.2f);
    h[0] = 1;
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, y, n, IC_ROOM_NORM_NONE, NULL), IC_OK);
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, x, n, IC_ROOM_NORM_NONE, NULL), IC_OK); /* in place */
    ck_assert(ic_test_max_abs_diff(x, y, n) < 1e-5);
    /* normalisations */
    ic_test_fill(x, n, &r, -0.5f, 0.5f);
    double px = 0, sx = 0;
    for (size_t i = 0; i < n; i++) { px = fmax(px, fabs(x[i])); sx += (double)x[i] * x[i]; }
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, y, n, IC_ROOM_NORM_PEAK, NULL), IC_OK);
    double py = 0;
    for (size_t i = 0; i < n; i++) py = fmax(py, fabs(y[i]));
    ck_assert_double_eq_tol(py, px, 1e-5);
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, y, n / 2, IC_ROOM_NORM_RMS, NULL), IC_OK);
    double sy = 0;
    for (size_t i = 0; i < n / 2; i++) sy += (double)y[i] * y[i];
    ck_assert_double_eq_tol(sqrt(sy / (double)(n / 2)), sqrt(sx / (double)n), 1e-5);
    /* silence stays silence */
    memset(x, 0, n * sizeof *x);
    ck_assert_int_eq(ic_room_convolve(x, n, h, m, y, n, IC_ROOM_NORM_RMS, NULL), IC_OK);
    for (size_t i = 0; i < n; i++) ck_assert_float_eq(y[i], 0.0f);
    free(x); free(h); free(y);
}
END_TEST

static Suite *room_suite(void) {
    Suite *s = suite_create("room");
    TCase *t = tcase_create("room");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_rt60_decay);
    tcase_add_test(t, test_ir_structure);
    tcase_add_test(t, test_seeded);
    tcase_add_test(t, test_convolve_vs_naive);
    tcase_add_test(t, test_convolve_alias_and_norm);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(room_suite)
