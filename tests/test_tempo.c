/* Tests of tempo, beats and steadiness (src/dsp/tempo.c) through the transcriber's
 * onset envelope: click tracks at known tempi give that BPM within 2% and beats on
 * the clicks; a melody of quarters and eighths keeps the quarter-note beat; too little
 * or silent input gives no tempo; the steadiness figures of exact, jittered and
 * paused onset lists are the hand-computed ones; bad parameters are refused. */
#include "testutil.h"
#include "ic/transcribe.h"

#define RATE 16000

/* A 12 ms decaying 1.5 kHz click at each time in `at` (n_at of them). */
static float *clicks(const double *at, int n_at, double seconds, size_t *n) {
    *n = (size_t)(seconds * RATE);
    float *x = calloc(*n, sizeof *x);
    for (int k = 0; k < n_at; k++) {
        size_t a = (size_t)llround(at[k] * RATE);
        for (size_t i = 0; i < (size_t)(0.012 * RATE) && a + i < *n; i++)
            x[a + i] += (float)(0.6 * exp(-(double)i / (0.003 * RATE)) * sin(2 * M_PI * 1500.0 * i / RATE));
    }
    return x;
}

/* Runs the transcriber; tempo result into r (beats copied into beats, cap 512). */
static void run(const float *x, size_t n, ic_tempo_result *r, double *beats, double *current) {
    ic_transcriber_params p;
    ic_transcriber_defaults(&p, RATE, 440.0);
    ic_error err;
    ic_transcriber *t = ic_transcriber_new(&p, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    ck_assert_int_eq(ic_transcriber_process(t, x, n, &err), IC_OK);
    ck_assert_int_eq(ic_transcriber_finish(t, &err), IC_OK);
    if (current) *current = ic_tempo_current(ic_transcriber_tempo(t));
    ck_assert_int_eq(ic_tempo_finish(ic_transcriber_tempo(t), r, &err), IC_OK);
    ck_assert_int_le(r->n_beats, 512);
    if (r->n_beats) memcpy(beats, r->beats, r->n_beats * sizeof *beats);
    r->beats = beats;
    ic_transcriber_free(t);
}

START_TEST(test_click_tracks) {
    const double bpms[] = {72.0, 100.0, 137.0, 175.0};
    for (size_t k = 0; k < sizeof bpms / sizeof bpms[0]; k++) {
        double beat = 60.0 / bpms[k], at[64];
        int n_at = 0;
        for (double t = 0.3; t < 11.5 && n_at < 64; t += beat) at[n_at++] = t;
        size_t n;
        float *x = clicks(at, n_at, 12.0, &n);
        ic_tempo_result r;
        double beats[512], cur;
        run(x, n, &r, beats, &cur);
        ck_assert_msg(fabs(r.bpm / bpms[k] - 1) < 0.02, "%.1f BPM clicks: %.2f", bpms[k], r.bpm);
        ck_assert_msg(fabs(cur / bpms[k] - 1) < 0.04, "%.1f BPM clicks: running estimate %.2f", bpms[k], cur);
        ck_assert_double_gt(r.confidence, 0.9);
        ck_assert_msg(r.n_beats + 2 >= (size_t)n_at && r.n_beats <= (size_t)n_at, "%zu beats for %d clicks", r.n_beats, n_at);
        for (size_t b = 0; b < r.n_beats; b++) {
            double d = 1e9;
            for (int c = 0; c < n_at; c++) if (fabs(r.beats[b] - at[c]) < fabs(d)) d = r.beats[b] - at[c];
            ck_assert_msg(fabs(d) < 0.03, "%.0f BPM: beat at %.3f is %.3f s off a click", bpms[k], r.beats[b], d);
            if (b) ck_assert_double_gt(r.beats[b], r.beats[b - 1]);
        }
        free(x);
    }
}
END_TEST

/* Quarters with some eighth pairs at 90 BPM: the beat is the quarter, not the eighth. */
START_TEST(test_metrical_level) {
    double at[64], beat = 60.0 / 90.0, t = 0.3;
    int n_at = 0;
    for (int b = 0; b < 16; b++) {
        at[n_at++] = t;
        if (b % 4 == 2) at[n_at++] = t + beat / 2;
        t += beat;
    }
    size_t n;
    float *x = clicks(at, n_at, t + 0.5, &n);
    ic_tempo_result r;
    double beats[512];
    run(x, n, &r, beats, NULL);
    ck_assert_msg(fabs(r.bpm / 90.0 - 1) < 0.02, "%.2f BPM", r.bpm);
    free(x);
}
END_TEST

START_TEST(test_no_tempo) {
    size_t n = 5 * RATE;
    float *x = calloc(n, sizeof *x);
    ic_tempo_result r;
    double beats[512], cur;
    run(x, n, &r, beats, &cur);   /* silence */
    ck_assert_double_eq(r.bpm, 0);
    ck_assert_int_eq(r.n_beats, 0);
    ck_assert_double_eq(cur, 0);
    double at[2] = {0.2, 0.7};
    free(x);
    x = clicks(at, 2, 1.0, &n);   /* one second: too short */
    run(x, n, &r, beats, &cur);
    ck_assert_double_eq(r.bpm, 0);
    ck_assert_double_eq(cur, 0);
    free(x);
}
END_TEST

START_TEST(test_steadiness) {
    ic_steadiness s;
    /* exact quarters and eighths at 120 BPM: no deviation from the grid */
    const double exact[] = {0.0, 0.5, 1.0, 1.25, 1.5, 2.0, 3.0, 3.5};
    ic_tempo_steadiness(exact, 8, 120.0, &s);
    ck_assert_int_eq(s.n_intervals, 7);
    ck_assert_double_eq_tol(s.timing_ms, 0.0, 1e-9);
    ck_assert_double_eq_tol(s.ioi_mean_ms, 500.0, 1e-9);
    /* intervals 500 500 250 250 500 1000 500: mean 500, std sqrt(375000/7) */
    ck_assert_double_eq_tol(s.ioi_std_ms, sqrt(375000.0 / 7.0), 1e-6);
    ck_assert_double_eq_tol(s.ioi_cv, sqrt(375000.0 / 7.0) / 500.0, 1e-9);
    /* quarters played alternately 20 ms late and early: every interval 40 ms off */
    double jit[10];
    for (int i = 0; i < 10; i++) jit[i] = 0.5 * i + (i % 2 ? -0.02 : 0.02);
    ic_tempo_steadiness(jit, 10, 120.0, &s);
    ck_assert_int_eq(s.n_intervals, 9);
    ck_assert_double_eq_tol(s.timing_ms, 40.0, 1e-6);
    ck_assert_double_eq_tol(s.ioi_std_ms, sqrt(1600.0 - 1600.0 / 81.0), 1e-6);
    /* a pause longer than four beats is left out */
    const double pause[] = {0.0, 0.5, 1.0, 5.0, 5.5};
    ic_tempo_steadiness(pause, 5, 120.0, &s);
    ck_assert_int_eq(s.n_intervals, 3);
    ck_assert_double_eq_tol(s.ioi_std_ms, 0.0, 1e-9);
    /* without a tempo: raw spread only */
    ic_tempo_steadiness(jit, 10, 0.0, &s);
    ck_assert_int_eq(s.n_intervals, 9);
    ck_assert_double_eq(s.timing_ms, 0.0);
    ic_tempo_steadiness(jit, 1, 120.0, &s);
    ck_assert_int_eq(s.n_intervals, 0);
}
END_TEST

START_TEST(test_bad_params) {
    ic_tempo_params p;
    ic_error err;
    ic_tempo_defaults(&p, 100.0);
    p.min_bpm = 200;
    p.max_bpm = 100;
    ck_assert_ptr_null(ic_tempo_new(&p, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "BPM"));
    ic_tempo_defaults(&p, 100.0);
    p.max_bpm = 2000;   /* faster than 4 frames a beat */
    ck_assert_ptr_null(ic_tempo_new(&p, &err));
    ic_tempo_defaults(&p, 1.0);
    ck_assert_ptr_null(ic_tempo_new(&p, &err));
    ic_tempo_free(NULL);
}
END_TEST

static Suite *tempo_suite(void) {
    Suite *s = suite_create("tempo");
    TCase *t = tcase_create("tempo");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_click_tracks);
    tcase_add_test(t, test_metrical_level);
    tcase_add_test(t, test_no_tempo);
    tcase_add_test(t, test_steadiness);
    tcase_add_test(t, test_bad_params);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(tempo_suite)
