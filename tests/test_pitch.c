/* Tests of the pYIN pitch tracker (src/dsp/pitch.c): the FFT difference function
 * against the definition, f0 of sines and harmonic tones across the range at two
 * rates (within 1 cent on the steady part), a detuned tone, the octave check on a tone
 * whose even harmonics dominate, silence and noise, block-size independence, frame
 * timing, and bad parameters. */
#include "testutil.h"
#include "ic/pitch.h"

/* Harmonic tone: amplitude amp[h-1] for harmonic h (n_h of them), from sample `from`
 * to `to` (exclusive) with 5 ms raised-cosine ramps; zeros elsewhere. */
static float *tone(size_t n, int rate, double f0, const double *amp, int n_h, size_t from, size_t to) {
    float *x = calloc(n, sizeof *x);
    size_t ramp = (size_t)(0.005 * rate);
    for (size_t i = from; i < to && i < n; i++) {
        double t = (double)(i - from) / rate, v = 0;
        for (int h = 1; h <= n_h; h++) v += amp[h - 1] * sin(2 * M_PI * f0 * h * t + 0.3 * h);
        double g = 1;
        if (i - from < ramp) g = 0.5 - 0.5 * cos(M_PI * (double)(i - from) / ramp);
        if (to - i < ramp) g = 0.5 - 0.5 * cos(M_PI * (double)(to - i) / ramp);
        x[i] = (float)(v * g);
    }
    return x;
}

/* Runs a tracker over x in blocks of `block`; frames into *out (caller frees). */
static size_t track(int rate, const float *x, size_t n, size_t block, ic_pitch_frame **out) {
    ic_pitch_params p;
    ic_pitch_defaults(&p, rate);
    ic_error err;
    ic_pitch *t = ic_pitch_new(&p, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    size_t cap = n / ic_pitch_hop(t) + 8, k = 0;
    *out = malloc(cap * sizeof **out);
    for (size_t i = 0; i < n; i += block) {
        ck_assert_int_eq(ic_pitch_process(t, x + i, n - i < block ? n - i : block, &err), IC_OK);
        while (k < cap && ic_pitch_pop(t, &(*out)[k])) k++;
    }
    ck_assert_int_eq(ic_pitch_finish(t, &err), IC_OK);
    while (k < cap && ic_pitch_pop(t, &(*out)[k])) k++;
    ic_pitch_frame extra;
    ck_assert_int_eq(ic_pitch_pop(t, &extra), 0);
    ic_pitch_free(t);
    return k;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median cents of f0 against `ref` Hz over voiced frames with time in [t0, t1];
 * *voiced gets their count. */
static double median_cents(const ic_pitch_frame *f, size_t n, double t0, double t1, double ref, size_t *voiced) {
    double *c = malloc((n + 1) * sizeof *c);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (f[i].time >= t0 && f[i].time <= t1 && f[i].f0 > 0) c[k++] = 1200.0 * log2(f[i].f0 / ref);
    *voiced = k;
    double m = NAN;
    if (k) { qsort(c, k, sizeof *c, cmp_double); m = c[k / 2]; }
    free(c);
    return m;
}

START_TEST(test_cmnd_fast_matches_naive) {
    ic_pitch_params p;
    ic_pitch_defaults(&p, 22050);
    ic_error err;
    ic_pitch *t = ic_pitch_new(&p, &err);
    ck_assert_ptr_nonnull(t);
    size_t N = ic_pitch_frame_len(t), T = ic_pitch_tau_max(t);
    float *x = malloc(N * sizeof *x), *d1 = malloc((T + 1) * sizeof *d1), *d2 = malloc((T + 1) * sizeof *d2);
    ic_rng r;
    ic_rng_seed(&r, 5);
    for (int trial = 0; trial < 3; trial++) {
        for (size_t i = 0; i < N; i++)
            x[i] = trial == 0 ? ic_rng_uniform(&r) - 0.5f
                              : (float)(0.5 * sin(2 * M_PI * (trial == 1 ? 220.0 : 1234.5) * i / 22050.0) + 0.01 * ic_rng_normal(&r));
        ic_pitch_cmnd(t, x, d1);
        ic_yin_cmnd_naive(x, N - T, T, d2);
        ck_assert_float_eq(d1[0], 1.0f);
        ck_assert_msg(ic_test_max_abs_diff(d1, d2, T + 1) < 2e-4, "trial %d: %g", trial, ic_test_max_abs_diff(d1, d2, T + 1));
    }
    /* a periodic signal dips to ~0 at its period */
    for (size_t i = 0; i < N; i++) x[i] = (float)sin(2 * M_PI * 441.0 * i / 22050.0);
    ic_pitch_cmnd(t, x, d1);
    ck_assert_float_lt(d1[50], 1e-3f);   /* 22050 / 441 = 50 samples */
    ck_assert_float_gt(d1[25], 1.0f);
    /* silence: 1 everywhere */
    memset(x, 0, N * sizeof *x);
    ic_yin_cmnd_naive(x, N - T, T, d2);
    for (size_t i = 0; i <= T; i++) ck_assert_float_eq(d2[i], 1.0f);
    free(x); free(d1); free(d2);
    ic_pitch_free(t);
}
END_TEST

/* Sines and harmonic tones from 41 Hz to 2 kHz at 22.05 and 16 kHz: within 1 cent. */
START_TEST(test_sines_and_tones) {
    const int rates[2] = {22050, 16000};
    const double freqs[] = {41.2, 65.4, 110.0, 196.0, 261.63, 440.0, 659.26, 987.77, 1318.5, 2000.0};
    const double harm[5] = {0.4, 0.2, 0.1, 0.05, 0.03};
    for (int ri = 0; ri < 2; ri++) {
        int rate = rates[ri];
        size_t n = (size_t)(0.6 * rate);
        for (size_t k = 0; k < sizeof freqs / sizeof freqs[0]; k++) {
            for (int nh = 1; nh <= 5; nh += 4) {
                double f = freqs[k];
                if (f * nh > rate / 2.2) continue;
                float *x = tone(n, rate, f, harm, nh, (size_t)(0.1 * rate), (size_t)(0.5 * rate));
                ic_pitch_frame *fr;
                size_t nf = track(rate, x, n, 4096, &fr), voiced;
                double c = median_cents(fr, nf, 0.15, 0.45, f, &voiced);
                ck_assert_msg(voiced >= 25, "%g Hz at %d: %zu voiced frames", f, rate, voiced);
                ck_assert_msg(fabs(c) < 1.0, "%g Hz (%d harmonics) at %d Hz: %.2f cents", f, nh, rate, c);
                /* nothing voiced in the silence before and after */
                for (size_t i = 0; i < nf; i++)
                    if (fr[i].time < 0.06 || fr[i].time > 0.55) ck_assert_msg(fr[i].f0 == 0, "%g Hz: voiced at %.3f", f, fr[i].time);
                free(fr);
                free(x);
            }
        }
    }
}
END_TEST

START_TEST(test_detuned) {
    int rate = 22050;
    size_t n = rate / 2;
    const double amp[3] = {0.3, 0.15, 0.08};
    double f = 440.0 * pow(2.0, 25.0 / 1200.0);   /* A4 + 25 cents */
    float *x = tone(n, rate, f, amp, 3, 0, n);
    ic_pitch_frame *fr;
    size_t nf = track(rate, x, n, 1000, &fr), voiced;
    double c = median_cents(fr, nf, 0.1, 0.4, 440.0, &voiced);
    ck_assert_msg(fabs(c - 25.0) < 1.0, "%.2f cents", c);
    ck_assert_double_eq_tol(ic_hz_to_midi(f, 440.0), 69.25, 1e-9);
    ck_assert_double_eq_tol(ic_midi_to_hz(69.25, 440.0), f, 1e-9);
    ck_assert_double_eq_tol(ic_hz_to_midi(442.0, 442.0), 69.0, 1e-12);
    free(fr);
    free(x);
}
END_TEST

/* A tone whose fundamental and odd harmonics are 28 dB below the even ones (like some
 * bassoon notes) is read at its fundamental in every voiced frame, not an octave up
 * (without the octave check, plain pYIN reads 6 of the 30 frames at 233 Hz an octave up). */
START_TEST(test_octave_check) {
    int rate = 22050;
    size_t n = rate / 2;
    const double amp[8] = {0.02, 0.5, 0.02, 0.25, 0.014, 0.12, 0.008, 0.06};
    const double freqs[3] = {116.5, 233.1, 311.1};
    for (int k = 0; k < 3; k++) {
        float *x = tone(n, rate, freqs[k], amp, 8, 0, n);
        ic_pitch_frame *fr;
        size_t nf = track(rate, x, n, 4096, &fr), voiced = 0;
        for (size_t i = 0; i < nf; i++) {
            if (fr[i].time < 0.1 || fr[i].time > 0.4) continue;
            ck_assert_msg(fr[i].f0 > 0, "%g Hz: unvoiced at %.3f s", freqs[k], fr[i].time);
            double c = 1200.0 * log2(fr[i].f0 / freqs[k]);
            ck_assert_msg(fabs(c) < 2.0, "%g Hz: %.1f cents at %.3f s", freqs[k], c, fr[i].time);
            voiced++;
        }
        ck_assert_int_ge(voiced, 30);
        free(fr);
        free(x);
    }
}
END_TEST

START_TEST(test_silence_and_noise) {
    int rate = 16000;
    size_t n = rate;
    float *x = calloc(n, sizeof *x);
    ic_pitch_frame *fr;
    size_t nf = track(rate, x, n, 512, &fr);
    ck_assert_int_eq(nf, n / 160);   /* frames k*hop < n, hop 160 */
    for (size_t i = 0; i < nf; i++) {
        ck_assert(fr[i].f0 == 0 && fr[i].voicing == 0);
        ck_assert_int_eq(fr[i].index, (long long)i);
        ck_assert_double_eq_tol(fr[i].time, i * 0.01, 1e-12);
    }
    free(fr);
    ic_rng r;
    ic_rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++) x[i] = 0.1f * ic_rng_normal(&r);
    nf = track(rate, x, n, 512, &fr);
    size_t voiced = 0;
    for (size_t i = 0; i < nf; i++) voiced += fr[i].f0 > 0;
    ck_assert_msg(voiced < nf / 10, "white noise: %zu of %zu frames voiced", voiced, nf);
    free(fr);
    free(x);
}
END_TEST

/* Feeding 1, 37 or all samples at a time gives the same frames. */
START_TEST(test_block_independence) {
    int rate = 16000;
    size_t n = (size_t)(0.4 * rate);
    const double amp[2] = {0.3, 0.1};
    float *x = tone(n, rate, 330.0, amp, 2, 800, 5600);
    ic_pitch_frame *a, *b, *c;
    size_t na = track(rate, x, n, n, &a), nb = track(rate, x, n, 37, &b), nc = track(rate, x, n, 1, &c);
    ck_assert_int_eq(na, nb);
    ck_assert_int_eq(na, nc);
    ck_assert_int_eq(na, 40);
    for (size_t i = 0; i < na; i++) {
        ck_assert_int_eq(a[i].index, b[i].index);
        ck_assert_float_eq(a[i].f0, b[i].f0);
        ck_assert_float_eq(a[i].f0, c[i].f0);
        ck_assert_float_eq(a[i].rms, c[i].rms);
    }
    free(a); free(b); free(c);
    /* empty input: no frames */
    ic_pitch_frame *e;
    ck_assert_int_eq(track(rate, x, 0, 16, &e), 0);
    free(e);
    free(x);
}
END_TEST

START_TEST(test_bad_params) {
    ic_pitch_params p;
    ic_error err;
    ic_pitch_defaults(&p, 1000);
    ck_assert_ptr_null(ic_pitch_new(&p, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "rate"));
    ic_pitch_defaults(&p, 16000);
    p.fmax = 5000;   /* above rate / 4 */
    ck_assert_ptr_null(ic_pitch_new(&p, &err));
    ic_pitch_defaults(&p, 16000);
    p.window_s = 0.01;   /* shorter than a period of 40 Hz */
    ck_assert_ptr_null(ic_pitch_new(&p, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "window"));
    ic_pitch_defaults(&p, 16000);
    p.lag = -1;
    ck_assert_ptr_null(ic_pitch_new(&p, &err));
    ic_pitch_defaults(&p, 16000);
    p.lag = 0;           /* no smoothing delay is allowed */
    ic_pitch *t = ic_pitch_new(&p, &err);
    ck_assert_ptr_nonnull(t);
    ic_pitch_free(t);
    ic_pitch_free(NULL);
}
END_TEST

static Suite *pitch_suite(void) {
    Suite *s = suite_create("pitch");
    TCase *t = tcase_create("pyin");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_cmnd_fast_matches_naive);
    tcase_add_test(t, test_sines_and_tones);
    tcase_add_test(t, test_detuned);
    tcase_add_test(t, test_octave_check);
    tcase_add_test(t, test_silence_and_noise);
    tcase_add_test(t, test_block_independence);
    tcase_add_test(t, test_bad_params);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(pitch_suite)
