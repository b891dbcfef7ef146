/* Tests for the feature front end (src/dsp/stft.c, mel.c, mfcc.c, frontend.c):
 * unit tests of framing, window, mel scales, DCT and log; golden values from the numpy
 * reference in tests/fixtures/dsp/make_golden.py; parameter validation and JSON. */
#include "testutil.h"
#include "ic/fft.h"
#include "ic/frontend.h"
#include "ic/mel.h"
#include "ic/mfcc.h"
#include "ic/stft.h"
#include "fixtures/dsp/golden.h"

/* Golden tolerances.
 * Float32 FFT rounding makes an absolute error in every bin of about eps times the
 * frame's energy scale, so each comparison has a relative part and an absolute floor:
 * Power spectrum: |got - want| <= 1e-4 want + 1e-11 E, E = the frame's sum of power over
 *   bins.  Every bin within 60 dB of the frame's energy meets the 1e-4 relative part alone.
 * Mel filterbank: absolute 1e-6 of the filter's peak weight.
 * Log-mel: absolute 1e-3 dB (1e-3 / (10 log10 e) = 2.3e-4 in ln units), or, for bands far
 *   below the frame's energy, the mel power within 1e-11 E W_m (W_m the filter's weight
 *   sum: the rounding floor carried through the filter).
 * MFCC: the orthonormal DCT preserves the 2-norm of the error vector, so a frame whose
 *   log-mel errors are each below t has MFCC errors below t sqrt(n_mels); each coefficient
 *   must be within t sqrt(n_mels), t the log-mel tolerance.  make_golden.py asserts that
 *   no MFCC case has an unclamped mel value more than 60 dB below its frame's peak, so the
 *   absolute floor is not needed there. */
#define SPEC_REL_TOL 1e-4
#define ROUND_TOL 1e-11
#define FB_TOL 1e-6
#define DB_TOL 1e-3
#define LN_TOL (1e-3 / 4.342944819032518)

/* ---- signals, kept in step with make_golden.py ---- */

static float *gen_signal(int sig) {
    size_t n = golden_sig_len[sig];
    float *x = malloc(n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    const double sr = 16000.0;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / sr;
        switch (sig) {
        case GS_SINES: case GS_SHORT:
            x[i] = (float)(0.5 * sin(2 * M_PI * 440.0 * t) + 0.25 * sin(2 * M_PI * 1234.5 * t));
            break;
        case GS_CHIRP: {
            double dur = (double)n / sr;
            x[i] = (float)(0.5 * sin(2 * M_PI * (100.0 * t + (7000.0 - 100.0) / (2 * dur) * t * t)));
            break;
        }
        case GS_IMPULSE: x[i] = i == n / 2 ? 1.0f : 0.0f; break;
        case GS_NOISE: x[i] = golden_noise[i]; break;
        case GS_TINY: { static const float v[3] = { 0.5f, -0.25f, 1.0f }; x[i] = v[i]; break; }
        case GS_ONE: x[i] = 0.75f; break;
        default: ck_abort_msg("unknown signal %d", sig);
        }
    }
    return x;
}

START_TEST(test_golden_signals_regenerate) {
    for (int s = 0; s < GOLDEN_N_SIGNALS; s++) {
        float *x = gen_signal(s);
        double sum = 0, ss = 0;
        for (size_t i = 0; i < golden_sig_len[s]; i++) { sum += x[i]; ss += (double)x[i] * x[i]; }
        ck_assert_msg(fabs(sum - golden_sig_sum[s]) <= 1e-6 * (1 + fabs(golden_sig_sum[s])),
                      "signal %s: sum %.9g, fixture %.9g", golden_sig_name[s], sum, golden_sig_sum[s]);
        ck_assert_msg(fabs(ss - golden_sig_sumsq[s]) <= 1e-6 * golden_sig_sumsq[s],
                      "signal %s: sum of squares %.9g, fixture %.9g", golden_sig_name[s], ss, golden_sig_sumsq[s]);
        free(x);
    }
}
END_TEST

/* ---- golden comparisons ---- */

START_TEST(test_golden_power_spectrum) {
    double worst_rel = 0, worst_kappa = 0;
    for (int c = 0; c < GOLDEN_N_SPEC; c++) {
        const golden_spec *g = &golden_specs[c];
        const ic_frontend_params *p = &golden_sets[g->set];
        size_t n = golden_sig_len[g->sig], n_fft = (size_t)p->n_fft, n_bins = n_fft / 2 + 1;
        size_t nf = ic_stft_n_frames(n, n_fft, (size_t)p->hop, p->center);
        ck_assert_uint_eq(nf, g->n_frames);
        float *x = gen_signal(g->sig), *win = malloc(n_fft * sizeof *win);
        float *pw = malloc(n_bins * nf * sizeof *pw), *work = malloc(ic_stft_work_floats(n_fft) * sizeof *work);
        ic_fft_plan *plan = ic_fft_plan_new(n_fft, NULL);
        ck_assert_ptr_nonnull(plan);
        ic_hann_window((size_t)p->win_length, n_fft, win);
        ic_stft_power(plan, win, x, n, (size_t)p->hop, p->center, pw, work);
        for (size_t s = 0; s < g->n_sel; s++) {
            size_t t = g->frames[s];
            const float *ref = g->pw + s * n_bins;
            double energy = 0;
            for (size_t k = 0; k < n_bins; k++) energy += ref[k];
            ck_assert(energy > 0);
            for (size_t k = 0; k < n_bins; k++) {
                double got = pw[k * nf + t], want = ref[k], d = fabs(got - want);
                if (want >= 1e-6 * energy) worst_rel = fmax(worst_rel, d / want);
                worst_kappa = fmax(worst_kappa, (d - SPEC_REL_TOL * want) / energy);
                ck_assert_msg(d <= SPEC_REL_TOL * want + ROUND_TOL * energy,
                              "%s/%s frame %zu bin %zu: %.9g, want %.9g (frame energy %.4g)",
                              golden_set_name[g->set], golden_sig_name[g->sig], t, k, got, want, energy);
            }
        }
        ic_fft_plan_free(plan);
        free(x); free(win); free(pw); free(work);
    }
    fprintf(stderr, "golden power: max relative error %.3g in bins within 60 dB of the frame energy; "
            "excess over %.0e relative: %.3g of the frame energy (allowed %.0e)\n",
            worst_rel, SPEC_REL_TOL, worst_kappa, ROUND_TOL);
}
END_TEST

START_TEST(test_golden_mel_filterbank) {
    double worst = 0;
    for (int s = 0; s < GOLDEN_N_SETS; s++) {
        const ic_frontend_params *p = &golden_sets[s];
        size_t n_bins = (size_t)p->n_fft / 2 + 1, n_mels = (size_t)p->n_mels;
        float *w = malloc(n_mels * n_bins * sizeof *w);
        ic_mel_filterbank(p->sample_rate, (size_t)p->n_fft, n_mels, p->fmin, p->fmax,
                          p->mel_scale == IC_MEL_HTK, p->mel_norm, w);
        const golden_fb *g = &golden_fbs[s];
        const float *val = g->val;
        for (size_t m = 0; m < n_mels; m++) {
            double peak = 0;
            for (int i = 0; i < g->cnt[m]; i++) peak = fmax(peak, val[i]);
            ck_assert_msg(peak > 0, "%s: reference filter %zu is empty", golden_set_name[s], m);
            for (size_t k = 0; k < n_bins; k++) {
                int in = (int)k >= g->lo[m] && (int)k < g->lo[m] + g->cnt[m];
                double want = in ? val[(int)k - g->lo[m]] : 0.0, got = w[m * n_bins + k];
                double d = fabs(got - want) / peak;
                worst = fmax(worst, d);
                ck_assert_msg(d <= FB_TOL, "%s filter %zu bin %zu: %.9g, want %.9g",
                              golden_set_name[s], m, k, got, want);
            }
            val += g->cnt[m];
        }
        free(w);
    }
    fprintf(stderr, "golden mel filterbank: max error %.3g of the filter peak\n", worst);
}
END_TEST

/* Linear value of a log feature: exp(v) or 10^(v/10). */
static double unlog(double v, int db) { return db ? pow(10.0, v / 10.0) : exp(v); }

START_TEST(test_golden_features) {
    double worst_db = 0, worst_ln = 0, worst_mfcc = 0, worst_kappa = 0;
    for (int c = 0; c < GOLDEN_N_FEAT; c++) {
        const golden_feat *g = &golden_feats[c];
        const ic_frontend_params *p = &golden_sets[g->set];
        ic_error err;
        ic_frontend *f = ic_frontend_new(p, &err);
        ck_assert_msg(f != NULL, "%s", err.msg);
        size_t n = golden_sig_len[g->sig];
        size_t nf = ic_frontend_n_frames(p, n), nr = (size_t)ic_frontend_n_features(p);
        ck_assert_uint_eq(nf, g->n_frames);
        ck_assert_uint_eq(nr, g->n_feat);
        float *x = gen_signal(g->sig), *out = malloc(nr * nf * sizeof *out);
        float *work = malloc(ic_frontend_work_floats(f) * sizeof *work);
        ic_frontend_compute(f, x, n, out, work);
        const double log_tol = p->log_db ? DB_TOL : LN_TOL;
        /* weight sum of each reference filter: the scale of its rounding error */
        double wsum[128] = { 0 };
        ck_assert_int_le(p->n_mels, 128);
        const float *val = golden_fbs[g->set].val;
        for (int m = 0; m < p->n_mels; m++)
            for (int i = 0; i < golden_fbs[g->set].cnt[m]; i++) wsum[m] += *val++;
        for (size_t t = 0; t < nf; t++) {
            for (size_t r = 0; r < nr; r++) {
                double got = out[r * nf + t], want = g->val[r * nf + t], d = fabs(got - want);
                int ok;
                if (p->kind == IC_FEAT_MFCC) {
                    double tol = log_tol * sqrt((double)p->n_mels);
                    worst_mfcc = fmax(worst_mfcc, d / log_tol);
                    ok = d <= tol;
                } else {
                    double dp = fabs(unlog(got, p->log_db) - unlog(want, p->log_db));
                    double scale = (double)g->energy[t] * wsum[r];
                    ok = d <= log_tol || dp <= ROUND_TOL * scale;
                    if (d > log_tol) worst_kappa = fmax(worst_kappa, dp / scale);
                    if (unlog(want, p->log_db) >= 1e-6 * scale) {  /* within 60 dB */
                        if (p->log_db) worst_db = fmax(worst_db, d); else worst_ln = fmax(worst_ln, d);
                    }
                }
                ck_assert_msg(ok, "%s/%s: row %zu frame %zu = %.9g, want %.9g",
                              golden_set_name[g->set], golden_sig_name[g->sig], r, t, got, want);
            }
        }
        ic_frontend_free(f);
        free(x); free(out); free(work);
    }
    fprintf(stderr, "golden features: log-mel max |err| %.3g dB, %.3g ln in bands within 60 dB of "
            "E W_m; values outside %.0e dB: power error %.3g of E W_m (allowed %.0e); "
            "MFCC max |err| %.3g log-mel tolerances\n",
            worst_db, worst_ln, DB_TOL, worst_kappa, ROUND_TOL, worst_mfcc);
}
END_TEST

/* ---- framing and window ---- */

START_TEST(test_frame_count) {
    ck_assert_uint_eq(ic_stft_n_frames(0, 1024, 512, 1), 0);
    ck_assert_uint_eq(ic_stft_n_frames(1, 1024, 512, 1), 1);
    ck_assert_uint_eq(ic_stft_n_frames(511, 1024, 512, 1), 1);
    ck_assert_uint_eq(ic_stft_n_frames(512, 1024, 512, 1), 2);
    ck_assert_uint_eq(ic_stft_n_frames(16000, 1024, 512, 1), 32);
    ck_assert_uint_eq(ic_stft_n_frames(0, 1024, 512, 0), 0);
    ck_assert_uint_eq(ic_stft_n_frames(1023, 1024, 512, 0), 0);
    ck_assert_uint_eq(ic_stft_n_frames(1024, 1024, 512, 0), 1);
    ck_assert_uint_eq(ic_stft_n_frames(1535, 1024, 512, 0), 1);
    ck_assert_uint_eq(ic_stft_n_frames(1536, 1024, 512, 0), 2);
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ck_assert_uint_eq(ic_frontend_n_frames(&p, 16000 * 4), 126);
    ck_assert_int_eq(ic_frontend_n_features(&p), 64);
    p.kind = IC_FEAT_MFCC;
    ck_assert_int_eq(ic_frontend_n_features(&p), 20);
}
END_TEST

START_TEST(test_hann_window) {
    float w[16];
    ic_hann_window(8, 8, w);
    /* periodic: w[i] = 0.5 - 0.5 cos(2 pi i / 8), w[0] = 0, w[4] = 1, w[i] = w[8 - i] */
    ck_assert_float_eq(w[0], 0.0f);
    ck_assert_float_eq_tol(w[4], 1.0f, 1e-7f);
    ck_assert_float_eq_tol(w[2], 0.5f, 1e-7f);
    for (int i = 1; i < 8; i++) ck_assert_float_eq_tol(w[i], w[8 - i], 1e-7f);
    /* win 6 inside n_fft 10: starts at (10 - 6) / 2 = 2 */
    ic_hann_window(6, 10, w);
    ck_assert_float_eq(w[0], 0.0f);
    ck_assert_float_eq(w[1], 0.0f);
    ck_assert_float_eq(w[2], 0.0f);
    ck_assert_float_eq_tol(w[5], 1.0f, 1e-7f);
    ck_assert_float_eq_tol(w[3], 0.25f, 1e-7f);
    ck_assert_float_eq(w[8], 0.0f);
    ck_assert_float_eq(w[9], 0.0f);
}
END_TEST

START_TEST(test_reflect_padding) {
    const float x[5] = { 1, 2, 3, 4, 5 };
    float ones[16], fr[16];
    for (int i = 0; i < 16; i++) ones[i] = 1.0f;
    /* frame 0 of n_fft 8 covers x[-4..3] = 5 4 3 2 | 1 2 3 4 (edge not repeated) */
    ic_stft_frame(x, 5, 0, 8, 2, 1, ones, fr);
    const float want0[8] = { 5, 4, 3, 2, 1, 2, 3, 4 };
    for (int i = 0; i < 8; i++) ck_assert_float_eq(fr[i], want0[i]);
    /* last frame (t = 2, centre x[4]) covers x[0..7] = 1 2 3 4 5 | 4 3 2 */
    ck_assert_uint_eq(ic_stft_n_frames(5, 8, 2, 1), 3);
    ic_stft_frame(x, 5, 2, 8, 2, 1, ones, fr);
    const float want2[8] = { 1, 2, 3, 4, 5, 4, 3, 2 };
    for (int i = 0; i < 8; i++) ck_assert_float_eq(fr[i], want2[i]);
    /* a signal shorter than the padding reflects repeatedly (numpy.pad mode reflect):
     * x = 1 2 3 extends with period 4 as ... 2 1 2 3 2 1 2 3 2 ... */
    ic_stft_frame(x, 3, 0, 16, 4, 1, ones, fr);
    const float want_s[16] = { 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2 };
    for (int i = 0; i < 16; i++) ck_assert_float_eq(fr[i], want_s[i]);
    /* one sample extends as a constant */
    ic_stft_frame(x + 4, 1, 0, 16, 4, 1, ones, fr);
    for (int i = 0; i < 16; i++) ck_assert_float_eq(fr[i], 5.0f);
    /* uncentred frames take the samples as they are, times the window */
    float w[8];
    ic_hann_window(8, 8, w);
    float y[12];
    for (int i = 0; i < 12; i++) y[i] = (float)(i + 1);
    ic_stft_frame(y, 12, 1, 8, 3, 0, w, fr);
    for (int i = 0; i < 8; i++) ck_assert_float_eq(fr[i], y[3 + i] * w[i]);
}
END_TEST

static size_t argmax(const float *v, size_t n, size_t stride) {
    size_t b = 0;
    for (size_t i = 1; i < n; i++) if (v[i * stride] > v[b * stride]) b = i;
    return b;
}

START_TEST(test_sine_peak_bin) {
    const size_t n_fft = 1024, hop = 512, n = 8000, n_bins = n_fft / 2 + 1;
    const double sr = 16000.0;
    const double freqs[3] = { 37 * sr / n_fft, 440.0, 3000.0 };  /* exactly bin 37, 28.16, 192 */
    const size_t want[3] = { 37, 28, 192 };
    size_t nf = ic_stft_n_frames(n, n_fft, hop, 1);
    float *x = malloc(n * sizeof *x), *win = malloc(n_fft * sizeof *win);
    float *pw = malloc(n_bins * nf * sizeof *pw), *work = malloc(ic_stft_work_floats(n_fft) * sizeof *work);
    ic_fft_plan *plan = ic_fft_plan_new(n_fft, NULL);
    ic_hann_window(n_fft, n_fft, win);
    for (int c = 0; c < 3; c++) {
        for (size_t i = 0; i < n; i++) x[i] = (float)(0.3 * sin(2 * M_PI * freqs[c] * (double)i / sr));
        ic_stft_power(plan, win, x, n, hop, 1, pw, work);
        /* interior frames: the reflected edges of frames 0 and nf-1 are not the same sine */
        for (size_t t = 2; t + 2 < nf; t++) ck_assert_uint_eq(argmax(pw + t, n_bins, nf), want[c]);
        if (c == 0) {
            /* an on-bin sine of amplitude A under a Hann window of sum n/2: |X| = A n/4 at
             * the peak and A n/8 in the two neighbours; nothing elsewhere (interior frame) */
            size_t t = nf / 2;
            double a = 0.3 * n_fft / 4;
            ck_assert_double_eq_tol(pw[37 * nf + t], a * a, 1e-3 * a * a);
            ck_assert_double_eq_tol(pw[36 * nf + t], a * a / 4, 1e-3 * a * a);
            ck_assert_double_eq_tol(pw[38 * nf + t], a * a / 4, 1e-3 * a * a);
            ck_assert_double_le(pw[40 * nf + t], 1e-8 * a * a);
        }
    }
    ic_fft_plan_free(plan);
    free(x); free(win); free(pw); free(work);
}
END_TEST

/* ---- mel ---- */

START_TEST(test_mel_scales) {
    ck_assert_double_eq_tol(ic_hz_to_mel(1000.0, 0), 15.0, 1e-12);
    ck_assert_double_eq_tol(ic_hz_to_mel(500.0, 0), 7.5, 1e-12);
    ck_assert_double_eq_tol(ic_hz_to_mel(0.0, 0), 0.0, 1e-12);
    /* 27 mels per factor 6.4 above 1 kHz */
    ck_assert_double_eq_tol(ic_hz_to_mel(6400.0, 0), 42.0, 1e-9);
    ck_assert_double_eq_tol(ic_hz_to_mel(1000.0, 1), 999.98553714, 1e-7);
    ck_assert_double_eq_tol(ic_hz_to_mel(700.0, 1), 2595.0 * log10(2.0), 1e-9);
    for (double hz = 0; hz <= 24000; hz += 123.25) {
        ck_assert_double_eq_tol(ic_mel_to_hz(ic_hz_to_mel(hz, 0), 0), hz, 1e-9 * (1 + hz));
        ck_assert_double_eq_tol(ic_mel_to_hz(ic_hz_to_mel(hz, 1), 1), hz, 1e-9 * (1 + hz));
    }
}
END_TEST

START_TEST(test_mel_filter_at_known_frequency) {
    /* one filter whose centre is 1000 Hz (Slaney mel 15, HTK mel 999.99), n_fft 512 at
     * 16 kHz puts bin 32 exactly on 1000 Hz: the unnormalised weight there is 1 */
    float w[257];
    for (int htk = 0; htk <= 1; htk++) {
        double c = ic_hz_to_mel(1000.0, htk), d = htk ? 120.0 : 2.0;
        ic_mel_filterbank(16000, 512, 1, ic_mel_to_hz(c - d, htk), ic_mel_to_hz(c + d, htk), htk, 0, w);
        ck_assert_uint_eq(argmax(w, 257, 1), 32);
        ck_assert_float_eq_tol(w[32], 1.0f, 1e-6f);
        ck_assert_float_lt(w[31], 1.0f);
        ck_assert_float_lt(w[33], 1.0f);
        ck_assert_float_eq(w[0], 0.0f);
        ck_assert_float_eq(w[256], 0.0f);
    }
    /* Slaney edges below 1 kHz are linear: 0 .. 1000 Hz in 15 mels = 66.67 Hz apart;
     * with 14 filters filter m peaks at (m + 1) * 66.67 Hz, e.g. filter 2 at 200 Hz = bin 6.4 */
    float fb[14 * 257];
    ic_mel_filterbank(16000, 512, 14, 0.0, 1000.0, 0, 0, fb);
    for (int m = 0; m < 14; m++) {
        double centre_bin = (m + 1) * (200.0 / 3.0) / 31.25;
        size_t k = argmax(fb + m * 257, 257, 1);
        ck_assert_msg(fabs((double)k - centre_bin) <= 0.5, "filter %d peaks at bin %zu, centre %g", m, k, centre_bin);
        /* the triangle's value at a bin is 1 - |f - centre| / 66.67 Hz */
        double want = 1.0 - fabs((double)k - centre_bin) * 31.25 / (200.0 / 3.0);
        ck_assert_double_eq_tol(fb[m * 257 + k], want, 1e-6);
    }
}
END_TEST

START_TEST(test_mel_slaney_norm_unit_area) {
    /* with Slaney norm every triangle has area 1 in Hz: sum_k w[k] * (sr / n_fft) ~ 1 when
     * the filters span many bins (n_fft 8192 at 16 kHz, 40 mels) */
    const size_t n_fft = 8192, n_bins = n_fft / 2 + 1, n_mels = 40;
    float *w = malloc(n_mels * n_bins * sizeof *w);
    size_t lo[40], hi[40];
    for (int htk = 0; htk <= 1; htk++) {
        ic_mel_filterbank(16000, n_fft, n_mels, 0.0, 8000.0, htk, 1, w);
        ic_mel_band_ranges(w, n_mels, n_bins, lo, hi);
        for (size_t m = 0; m < n_mels; m++) {
            double area = 0;
            for (size_t k = 0; k < n_bins; k++) area += w[m * n_bins + k] * (16000.0 / n_fft);
            ck_assert_msg(fabs(area - 1.0) < 0.01, "htk %d filter %zu: area %g", htk, m, area);
            ck_assert_uint_lt(lo[m], hi[m]);
            ck_assert(w[m * n_bins + lo[m]] > 0 && w[m * n_bins + hi[m] - 1] > 0);
            if (lo[m] > 0) ck_assert_float_eq(w[m * n_bins + lo[m] - 1], 0.0f);
            if (m > 0) ck_assert_uint_gt(lo[m], lo[m - 1]);
        }
    }
    free(w);
}
END_TEST

START_TEST(test_mel_apply_matches_dense) {
    ic_rng rng;
    ic_rng_seed(&rng, 7);
    const size_t n_fft = 256, n_bins = 129, n_mels = 20;
    float w[20 * 129], pw[129], a[20];
    size_t lo[20], hi[20];
    ic_mel_filterbank(16000, n_fft, n_mels, 30.0, 7000.0, 0, 1, w);
    ic_mel_band_ranges(w, n_mels, n_bins, lo, hi);
    ic_test_fill(pw, n_bins, &rng, 0.0f, 10.0f);
    ic_mel_apply(w, n_mels, n_bins, lo, hi, pw, a);
    for (size_t m = 0; m < n_mels; m++) {
        double s = 0;
        for (size_t k = 0; k < n_bins; k++) s += (double)w[m * n_bins + k] * pw[k];
        ck_assert_double_eq_tol(a[m], s, 1e-5 * s + 1e-12);
    }
    /* an all-zero row gets the empty range */
    memset(w, 0, n_bins * sizeof *w);
    ic_mel_band_ranges(w, 1, n_bins, lo, hi);
    ck_assert_uint_eq(lo[0], 0);
    ck_assert_uint_eq(hi[0], 0);
}
END_TEST

START_TEST(test_log_floor) {
    float x[5] = { 1.0f, 100.0f, 1e-9f, 0.0f, NAN };
    ic_log_floor(x, 5, 1e-6f, 1);
    ck_assert_float_eq_tol(x[0], 0.0f, 1e-6f);
    ck_assert_float_eq_tol(x[1], 20.0f, 1e-5f);
    ck_assert_float_eq_tol(x[2], -60.0f, 1e-4f);
    ck_assert_float_eq_tol(x[3], -60.0f, 1e-4f);
    ck_assert(isnan(x[4]));
    float y[3] = { (float)M_E, 1e-9f, 2.0f };
    ic_log_floor(y, 3, 1e-6f, 0);
    ck_assert_float_eq_tol(y[0], 1.0f, 1e-6f);
    ck_assert_float_eq_tol(y[1], (float)log(1e-6), 1e-5f);
    ck_assert_float_eq_tol(y[2], (float)M_LN2, 1e-6f);
}
END_TEST

/* ---- DCT ---- */

START_TEST(test_dct_orthonormal) {
    const size_t n = 16;
    float d[16 * 16];
    ic_dct2_ortho_matrix(n, n, d);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++) {
            double s = 0;
            for (size_t j = 0; j < n; j++) s += (double)d[a * n + j] * d[b * n + j];
            ck_assert_double_eq_tol(s, a == b ? 1.0 : 0.0, 1e-6);
        }
    /* a constant vector c maps to (c sqrt(n), 0, ...); the truncated matrix equals the
     * top rows of the full one */
    float x[16], y[16], dt[5 * 16];
    for (size_t j = 0; j < n; j++) x[j] = 3.0f;
    ic_dct_apply(d, n, n, x, y);
    ck_assert_double_eq_tol(y[0], 3.0 * 4.0, 1e-5);
    for (size_t k = 1; k < n; k++) ck_assert_double_eq_tol(y[k], 0.0, 1e-5);
    ic_dct2_ortho_matrix(n, 5, dt);
    for (size_t i = 0; i < 5 * n; i++) ck_assert_float_eq(dt[i], d[i]);
    /* scipy.fft.dct([1, 2, 3, 4], norm="ortho") = [5, -2.2304425, 0, -0.15851267] */
    float d4[16], v[4] = { 1, 2, 3, 4 }, o[4];
    ic_dct2_ortho_matrix(4, 4, d4);
    ic_dct_apply(d4, 4, 4, v, o);
    ck_assert_double_eq_tol(o[0], 5.0, 1e-6);
    ck_assert_double_eq_tol(o[1], -2.2304425, 1e-6);
    ck_assert_double_eq_tol(o[2], 0.0, 1e-6);
    ck_assert_double_eq_tol(o[3], -0.15851267, 1e-6);
}
END_TEST

/* ---- front end object ---- */

START_TEST(test_defaults) {
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ck_assert_int_eq(p.sample_rate, 16000);
    ck_assert_int_eq(p.n_fft, 1024);
    ck_assert_int_eq(p.hop, 512);
    ck_assert_int_eq(p.win_length, 1024);
    ck_assert_int_eq(p.center, 1);
    ck_assert_int_eq(p.n_mels, 64);
    ck_assert_float_eq(p.fmin, 0.0f);
    ck_assert_float_eq(p.fmax, 8000.0f);
    ck_assert_int_eq(p.mel_scale, IC_MEL_SLANEY);
    ck_assert_int_eq(p.mel_norm, 1);
    ck_assert_int_eq(p.kind, IC_FEAT_LOGMEL);
    ck_assert_int_eq(p.log_db, 0);
    ck_assert_float_eq(p.log_floor, 1e-6f);
    ck_assert_int_eq(p.n_mfcc, 20);
    ic_error err;
    ck_assert_int_eq(ic_frontend_validate(&p, &err), IC_OK);
}
END_TEST

typedef struct { const char *field; void (*mutate)(ic_frontend_params *); } bad_case;
static void m_sr(ic_frontend_params *p) { p->sample_rate = 0; }
static void m_nfft(ic_frontend_params *p) { p->n_fft = 1000; }
static void m_nfft_small(ic_frontend_params *p) { p->n_fft = 8; p->hop = 4; p->win_length = 8; p->n_mels = 4; }
static void m_hop0(ic_frontend_params *p) { p->hop = 0; }
static void m_hop_big(ic_frontend_params *p) { p->hop = 2048; }
static void m_win(ic_frontend_params *p) { p->win_length = 2048; }
static void m_center(ic_frontend_params *p) { p->center = 2; }
static void m_mels0(ic_frontend_params *p) { p->n_mels = 0; }
static void m_mels_big(ic_frontend_params *p) { p->n_mels = 600; }
static void m_fmin_neg(ic_frontend_params *p) { p->fmin = -1.0f; }
static void m_fmin_nan(ic_frontend_params *p) { p->fmin = NAN; }
static void m_fmax_nyq(ic_frontend_params *p) { p->fmax = 8001.0f; }
static void m_fmax_inf(ic_frontend_params *p) { p->fmax = INFINITY; }
static void m_fmax_lo(ic_frontend_params *p) { p->fmin = 4000.0f; p->fmax = 4000.0f; }
static void m_scale(ic_frontend_params *p) { p->mel_scale = (ic_mel_scale)7; }
static void m_norm(ic_frontend_params *p) { p->mel_norm = -1; }
static void m_kind(ic_frontend_params *p) { p->kind = (ic_feature_kind)3; }
static void m_db(ic_frontend_params *p) { p->log_db = 5; }
static void m_floor0(ic_frontend_params *p) { p->log_floor = 0.0f; }
static void m_floor_nan(ic_frontend_params *p) { p->log_floor = NAN; }
static void m_mfcc0(ic_frontend_params *p) { p->kind = IC_FEAT_MFCC; p->n_mfcc = 0; }
static void m_mfcc_big(ic_frontend_params *p) { p->kind = IC_FEAT_MFCC; p->n_mfcc = 65; }

static const bad_case BAD[] = {
    { "sample_rate", m_sr }, { "n_fft", m_nfft }, { "n_fft", m_nfft_small }, { "hop", m_hop0 },
    { "hop", m_hop_big }, { "win_length", m_win }, { "center", m_center }, { "n_mels", m_mels0 },
    { "n_mels", m_mels_big }, { "fmin", m_fmin_neg }, { "fmin", m_fmin_nan }, { "fmax", m_fmax_nyq },
    { "fmax", m_fmax_inf }, { "fmax", m_fmax_lo }, { "mel_scale", m_scale }, { "mel_norm", m_norm },
    { "kind", m_kind }, { "log_db", m_db }, { "log_floor", m_floor0 }, { "log_floor", m_floor_nan },
    { "n_mfcc", m_mfcc0 }, { "n_mfcc", m_mfcc_big },
};

START_TEST(test_validate_rejects) {
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        ic_frontend_params p;
        ic_frontend_defaults(&p);
        BAD[i].mutate(&p);
        ic_error err;
        ic_error_clear(&err);
        ck_assert_int_eq(ic_frontend_validate(&p, &err), IC_ERR_ARG);
        ck_assert_msg(strstr(err.msg, BAD[i].field) != NULL, "case %zu: message '%s' does not name %s",
                      i, err.msg, BAD[i].field);
        ck_assert_ptr_null(ic_frontend_new(&p, &err));
        ck_assert_int_eq(err.code, IC_ERR_ARG);
    }
    /* n_mfcc is only checked for MFCC features */
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    p.n_mfcc = 0;
    ck_assert_int_eq(ic_frontend_validate(&p, NULL), IC_OK);
}
END_TEST

START_TEST(test_empty_and_short_input) {
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ic_frontend *f = ic_frontend_new(&p, NULL);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(ic_frontend_params_of(f)->n_fft, 1024);
    float *work = malloc(ic_frontend_work_floats(f) * sizeof *work);
    ck_assert_uint_eq(ic_frontend_n_frames(&p, 0), 0);
    ic_frontend_compute(f, NULL, 0, NULL, work);  /* no frames: touches nothing */
    /* 1, 2 and 300 samples (all shorter than n_fft/2) give 1 finite frame each; the
     * output is written exactly, nothing past its end */
    float x[300];
    for (int i = 0; i < 300; i++) x[i] = (float)sin(0.1 * i);
    size_t lens[3] = { 1, 2, 300 };
    for (int c = 0; c < 3; c++) {
        float out[65];
        out[64] = 12345.0f;
        ck_assert_uint_eq(ic_frontend_n_frames(&p, lens[c]), 1);
        ic_frontend_compute(f, x, lens[c], out, work);
        for (int i = 0; i < 64; i++) ck_assert(isfinite(out[i]) && out[i] >= (float)log(1e-6) - 1e-4);
        ck_assert_float_eq(out[64], 12345.0f);
    }
    /* silence gives exactly the log floor */
    float z[2000] = { 0 }, out[64 * 4];
    ic_frontend_compute(f, z, 2000, out, work);
    for (int i = 0; i < 64 * 4; i++) ck_assert_float_eq_tol(out[i], logf(1e-6f), 1e-6f);
    free(work);
    ic_frontend_free(f);
    ic_frontend_free(NULL);
}
END_TEST

START_TEST(test_compute_reentrant_across_threads) {
    /* threads share one ic_frontend, each with its own scratch: same bits as serial */
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    p.kind = IC_FEAT_MFCC;
    ic_frontend *f = ic_frontend_new(&p, NULL);
    ck_assert_ptr_nonnull(f);
    enum { CLIPS = 6, N = 8000 };
    size_t nf = ic_frontend_n_frames(&p, N), nr = (size_t)ic_frontend_n_features(&p), wf = ic_frontend_work_floats(f);
    float *x = malloc(CLIPS * N * sizeof *x), *a = malloc(CLIPS * nr * nf * sizeof *a), *b = malloc(CLIPS * nr * nf * sizeof *b);
    float *work = malloc(CLIPS * wf * sizeof *work);
    ic_rng rng;
    ic_rng_seed(&rng, 3);
    ic_test_fill(x, CLIPS * N, &rng, -0.5f, 0.5f);
    for (int c = 0; c < CLIPS; c++) ic_frontend_compute(f, x + c * N, N, a + c * nr * nf, work);
    #pragma omp parallel for num_threads(2)
    for (int c = 0; c < CLIPS; c++) ic_frontend_compute(f, x + c * N, N, b + c * nr * nf, work + c * wf);
    ck_assert_int_eq(memcmp(a, b, CLIPS * nr * nf * sizeof *a), 0);
    free(x); free(a); free(b); free(work);
    ic_frontend_free(f);
}
END_TEST

/* ---- JSON ---- */

static cJSON *default_json(void) {
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    cJSON *j = ic_frontend_to_json(&p);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(test_json_round_trip) {
    for (int s = -1; s < GOLDEN_N_SETS; s++) {
        ic_frontend_params p, q;
        if (s < 0) ic_frontend_defaults(&p); else p = golden_sets[s];
        p.log_floor = s < 0 ? 1.2345678e-7f : p.log_floor;  /* a float that needs all its digits */
        cJSON *j = ic_frontend_to_json(&p);
        ck_assert_ptr_nonnull(j);
        char *txt = cJSON_PrintUnformatted(j);
        cJSON *back = cJSON_Parse(txt);
        ck_assert_ptr_nonnull(back);
        memset(&q, 0xab, sizeof q);
        ic_error err;
        ck_assert_msg(ic_frontend_from_json(back, &q, &err) == IC_OK, "%s", err.msg);
        ck_assert_int_eq(memcmp(&p, &q, sizeof p), 0);
        if (s == -1) {
            ck_assert_ptr_nonnull(strstr(txt, "\"mel_scale\":\"slaney\""));
            ck_assert_ptr_nonnull(strstr(txt, "\"kind\":\"logmel\""));
            ck_assert_ptr_nonnull(strstr(txt, "\"center\":true"));
        }
        if (s == 1) ck_assert_ptr_nonnull(strstr(txt, "\"mel_scale\":\"htk\""));
        if (s == 2) ck_assert_ptr_nonnull(strstr(txt, "\"kind\":\"mfcc\""));
        free(txt);
        cJSON_Delete(j);
        cJSON_Delete(back);
    }
}
END_TEST

/* Replaces field name of the default JSON with a value parsed from text (NULL removes it)
 * and checks from_json fails naming want; p must stay untouched. */
static void expect_json_error(const char *name, const char *value_json, const char *want) {
    cJSON *j = default_json();
    if (value_json) {
        cJSON *v = cJSON_Parse(value_json);
        ck_assert_ptr_nonnull(v);
        if (cJSON_GetObjectItemCaseSensitive(j, name)) cJSON_ReplaceItemInObjectCaseSensitive(j, name, v);
        else cJSON_AddItemToObject(j, name, v);
    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(j, name);
    }
    ic_frontend_params p;
    memset(&p, 0x5a, sizeof p);
    ic_frontend_params before = p;
    ic_error err;
    ic_error_clear(&err);
    ck_assert_int_eq(ic_frontend_from_json(j, &p, &err), IC_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, want) != NULL, "%s=%s: message '%s' lacks '%s'",
                  name, value_json ? value_json : "(removed)", err.msg, want);
    ck_assert_int_eq(memcmp(&p, &before, sizeof p), 0);
    cJSON_Delete(j);
}

START_TEST(test_json_rejects) {
    expect_json_error("n_fft", NULL, "missing field \"n_fft\"");
    expect_json_error("n_fft", "\"1024\"", "\"n_fft\" must be an integer");
    expect_json_error("n_fft", "1024.5", "\"n_fft\" must be an integer");
    expect_json_error("n_fft", "1e30", "\"n_fft\" must be an integer");
    expect_json_error("n_fft", "1000", "n_fft must be a power of two");
    expect_json_error("hop", "0", "hop");
    expect_json_error("center", "1", "\"center\" must be true or false");
    expect_json_error("mel_scale", "\"mel\"", "\"mel_scale\" must be \"slaney\" or \"htk\"");
    expect_json_error("mel_scale", "0", "\"mel_scale\" must be");
    expect_json_error("kind", "\"MFCC\"", "\"kind\" must be \"logmel\" or \"mfcc\"");
    expect_json_error("fmax", "\"8000\"", "\"fmax\" must be a number");
    expect_json_error("fmax", "9000", "fmax must be finite and <= sample_rate/2");
    expect_json_error("fmax", "1e300", "fmax");
    expect_json_error("log_floor", "-1", "log_floor");
    expect_json_error("n_mels", "0", "n_mels");
    expect_json_error("nfft", "512", "unknown field \"nfft\"");
    ic_frontend_params p;
    ic_error err;
    cJSON *dup = default_json();
    cJSON_AddNumberToObject(dup, "hop", 256);
    ck_assert_int_eq(ic_frontend_from_json(dup, &p, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "field \"hop\" appears twice"));
    cJSON_Delete(dup);
    cJSON *arr = cJSON_CreateArray();
    ck_assert_int_eq(ic_frontend_from_json(arr, &p, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "expected an object"));
    ck_assert_int_eq(ic_frontend_from_json(NULL, &p, &err), IC_ERR_FORMAT);
    cJSON_Delete(arr);
}
END_TEST

static Suite *dsp_suite(void) {
    Suite *s = suite_create("dsp");
    TCase *g = tcase_create("golden");
    tcase_set_timeout(g, 30);
    tcase_add_test(g, test_golden_signals_regenerate);
    tcase_add_test(g, test_golden_power_spectrum);
    tcase_add_test(g, test_golden_mel_filterbank);
    tcase_add_test(g, test_golden_features);
    suite_add_tcase(s, g);
    TCase *u = tcase_create("units");
    tcase_add_test(u, test_frame_count);
    tcase_add_test(u, test_hann_window);
    tcase_add_test(u, test_reflect_padding);
    tcase_add_test(u, test_sine_peak_bin);
    tcase_add_test(u, test_mel_scales);
    tcase_add_test(u, test_mel_filter_at_known_frequency);
    tcase_add_test(u, test_mel_slaney_norm_unit_area);
    tcase_add_test(u, test_mel_apply_matches_dense);
    tcase_add_test(u, test_log_floor);
    tcase_add_test(u, test_dct_orthonormal);
    suite_add_tcase(s, u);
    TCase *fe = tcase_create("frontend");
    tcase_add_test(fe, test_defaults);
    tcase_add_test(fe, test_validate_rejects);
    tcase_add_test(fe, test_empty_and_short_input);
    tcase_add_test(fe, test_compute_reentrant_across_threads);
    tcase_add_test(fe, test_json_round_trip);
    tcase_add_test(fe, test_json_rejects);
    suite_add_tcase(s, fe);
    return s;
}

IC_TEST_MAIN(dsp_suite)
