/* Tests for ic_audio (decode, downmix, resample) and ic_resampler.  Every input except
 * the two AAC/MP4 fixtures (tests/fixtures/audio, see make_fixtures.sh there) is written
 * here with libsndfile or by hand into a mkdtemp directory that is removed afterwards.
 * Pitch is checked with a Hann-windowed DFT scanned in 0.05 Hz steps, amplitude with a
 * least-squares sine fit; tolerances are stated at each check. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/audio.h"
#include "ic/resample.h"
#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIXTURES "tests/fixtures/audio/"
#define F0 440.0
#define AMP 0.5

static char g_dir[64];   /* the suite's temporary directory */

static void make_tmpdir(void) {
    ic_test_mkdtemp(g_dir, sizeof g_dir, "audio");
    ic_audio_quiet_backends();
}
static void remove_tmpdir(void) { ic_test_rmtree(g_dir); }
static const char *tmp_path(const char *name) { return ic_test_path(g_dir, name); }

/* Sine test signal; mode 0: every channel the same, mode 1: channel 1 = -channel 0. */
static double sine_at(long i, int rate) { return AMP * sin(2.0 * M_PI * F0 * (double)i / rate); }

/* Writes `seconds` of the sine with libsndfile.  16-bit formats are written as exact
 * integers so that negated channels cancel exactly. */
static void write_sine(const char *path, int format, int rate, int channels, double seconds, int mode) {
    SF_INFO in;
    memset(&in, 0, sizeof in);
    in.samplerate = rate;
    in.channels = channels;
    in.format = format;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    ck_assert_msg(sf != NULL, "sf_open(%s): %s", path, sf_strerror(NULL));
    long n = lrint(seconds * rate);
    int pcm16 = (format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
    float *fb = malloc(1024 * (size_t)channels * sizeof *fb);
    short *sb = malloc(1024 * (size_t)channels * sizeof *sb);
    for (long t0 = 0; t0 < n; t0 += 1024) {
        long k = n - t0 < 1024 ? n - t0 : 1024;
        for (long t = 0; t < k; t++)
            for (int c = 0; c < channels; c++) {
                double v = sine_at(t0 + t, rate) * ((mode == 1 && c == 1) ? -1 : 1);
                fb[t * channels + c] = (float)v;
                short q = (short)lrint(sine_at(t0 + t, rate) * 32767.0);
                sb[t * channels + c] = (mode == 1 && c == 1) ? (short)-q : q;
            }
        sf_count_t w = pcm16 ? sf_writef_short(sf, sb, k) : sf_writef_float(sf, fb, k);
        ck_assert_int_eq(w, k);
    }
    free(fb);
    free(sb);
    ck_assert_int_eq(sf_close(sf), 0);
}

/* Hann-windowed DFT power of x at f Hz (phasor recurrence, renormalised each step). */
static double dft_power(const float *x, size_t n, int rate, double f) {
    double w = 2.0 * M_PI * f / rate, cr = cos(w), ci = -sin(w), pr = 1, pi = 0, re = 0, im = 0;
    for (size_t i = 0; i < n; i++) {
        double h = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
        re += h * x[i] * pr;
        im += h * x[i] * pi;
        double t = pr * cr - pi * ci;
        pi = pr * ci + pi * cr;
        pr = t;
    }
    return re * re + im * im;
}

/* Frequency of the largest windowed DFT magnitude in [lo, hi]: a 1 Hz scan, then a
 * step-Hz scan within 1 Hz of the coarse peak. */
static double peak_freq(const float *x, size_t n, int rate, double lo, double hi, double step) {
    double best = -1, best_f = lo;
    for (double f = lo; f <= hi + 1e-9; f += 1.0) {
        double m = dft_power(x, n, rate, f);
        if (m > best) { best = m; best_f = f; }
    }
    double c = best_f;
    for (double f = c - 1.0; f <= c + 1.0 + 1e-9; f += step) {
        double m = dft_power(x, n, rate, f);
        if (m > best) { best = m; best_f = f; }
    }
    return best_f;
}

/* Least-squares fit x ~ a sin + b cos at f over x[0..n): amplitude and residual RMS. */
static void fit_sine(const float *x, size_t n, int rate, double f, double *amp, double *resid) {
    double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0, w = 2.0 * M_PI * f / rate;
    for (size_t i = 0; i < n; i++) {
        double s = sin(w * (double)i), c = cos(w * (double)i);
        ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
    }
    double det = ss * cc - sc * sc;
    double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
    double r = 0;
    for (size_t i = 0; i < n; i++) {
        double e = x[i] - (a * sin(w * (double)i) + b * cos(w * (double)i));
        r += e * e;
    }
    *amp = sqrt(a * a + b * b);
    *resid = sqrt(r / (double)n);
}

static float *load_ok(const char *path, int rate, size_t *n, ic_audio_info *info) {
    float *x = NULL;
    ic_error e;
    ic_error_clear(&e);
    ic_status s = ic_audio_load(path, rate, &x, n, info, &e);
    ck_assert_msg(s == IC_OK, "load %s: %s", path, e.msg);
    ck_assert_ptr_nonnull(x);
    return x;
}

/* Pitch and amplitude of a decoded 16 kHz sine, judged on the middle (edges hold the
 * resampler's and the codecs' transients): peak within ftol Hz of 440, fitted
 * amplitude within atol (relative) of expect, residual below rtol of the amplitude. */
static void check_sine(const char *what, const float *x, size_t n, double expect,
                       double ftol, double atol, double rtol) {
    size_t skip = n / 8;
    size_t m = n - 2 * skip;
    double f = peak_freq(x + skip, m, 16000, 400, 480, 0.05);
    double amp, resid;
    fit_sine(x + skip, m, 16000, f, &amp, &resid);
    ck_assert_msg(fabs(f - F0) <= ftol, "%s: peak at %.2f Hz, expected 440 +- %.2f", what, f, ftol);
    ck_assert_msg(fabs(amp - expect) <= atol * expect, "%s: amplitude %.4f, expected %.4f +- %.0f%%",
                  what, amp, expect, 100 * atol);
    ck_assert_msg(resid <= rtol * expect, "%s: residual RMS %.5f is over %.1f%% of the amplitude",
                  what, resid, 100 * rtol);
}

/* ---- decoding and resampling of generated files ---- */

typedef struct {
    const char *name;
    int format, rate, channels;
    double len_tol;     /* output length tolerance in samples at 16 kHz */
    double atol, rtol;  /* amplitude and residual tolerances (relative) */
} sine_case;

static const sine_case CASES[] = {
    { "s16_44k_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 2, 0.01, 0.002 },
    { "s16_48k_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 2, 0.01, 0.002 },
    { "s16_8k_mono.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 2, 0.01, 0.002 },
    { "s16_96k_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 96000, 2, 2, 0.01, 0.002 },
    { "f32_96k_mono.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 96000, 1, 2, 0.01, 0.002 },
    { "f32_8k_stereo.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 8000, 2, 2, 0.01, 0.002 },
    { "s16_44k_mono.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 1, 2, 0.01, 0.002 },
    { "s24_48k_stereo.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2, 2, 0.01, 0.002 },
    { "vorbis_44k_stereo.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 2, 0.03, 0.02 },
    { "vorbis_48k_mono.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 48000, 1, 2, 0.03, 0.02 },
    { "opus_48k_stereo.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000, 2, 2, 0.05, 0.05 },
    /* mp3: mpg123's gapless trim is exact with the LAME tag libsndfile writes, but allow
     * one MPEG frame (1152 samples at 44.1 kHz = 418 at 16 kHz). */
    { "mp3_44k_stereo.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 418, 0.05, 0.05 },
};

START_TEST(test_sine_formats_rates) {
    const sine_case *c = &CASES[_i];
    const char *p = tmp_path(c->name);
    write_sine(p, c->format, c->rate, c->channels, 1.0, 0);
    size_t n;
    ic_audio_info in;
    float *x = load_ok(p, 16000, &n, &in);
    ck_assert_str_eq(in.backend, "sndfile");
    ck_assert_int_eq(in.sample_rate, c->rate);
    ck_assert_int_eq(in.channels, c->channels);
    ck_assert_int_eq(in.out_rate, 16000);
    ck_assert_msg(fabs((double)n - 16000.0) <= c->len_tol, "%s: %zu samples, expected 16000 +- %g",
                  c->name, n, c->len_tol);
    ck_assert_msg(fabs(in.duration - 1.0) < 0.03, "%s: duration %.4f", c->name, in.duration);
    check_sine(c->name, x, n, AMP, 0.2, c->atol, c->rtol);
    free(x);
}
END_TEST

START_TEST(test_info_fields) {
    const char *p = tmp_path("info.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.25, 0);
    ic_error e;
    ic_audio *a = ic_audio_open(p, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    const ic_audio_info *in = ic_audio_get_info(a);
    ck_assert_int_eq(in->frames, 11025);
    ck_assert_int_eq(in->frames_exact, 1);
    ck_assert_double_eq_tol(in->duration, 0.25, 1e-12);
    ck_assert_str_eq(in->container, "WAV (Microsoft)");
    ck_assert_str_eq(in->codec, "Signed 16 bit PCM");
    ic_audio_close(a);
}
END_TEST

/* With out_rate 0 nothing is resampled: 16-bit PCM v arrives as v / 32768 exactly. */
START_TEST(test_native_rate_exact) {
    const char *p = tmp_path("native.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1, 0.2, 0);
    size_t n;
    ic_audio_info in;
    float *x = load_ok(p, 0, &n, &in);
    ck_assert_int_eq(in.out_rate, 22050);
    ck_assert_uint_eq(n, 4410);
    for (size_t i = 0; i < n; i++) {
        float want = (float)(short)lrint(sine_at((long)i, 22050) * 32767.0) / 32768.0f;
        ck_assert_msg(x[i] == want, "sample %zu: %g != %g", i, x[i], want);
    }
    free(x);
}
END_TEST

/* A resampled file is as long as its header says: 5.000 s at 44.1 and 48 kHz
 * give exactly 80000 samples at 16 kHz (icinfer's 1 s remainder window depends
 * on it). */
START_TEST(test_resampled_length_exact) {
    const int rates[] = {44100, 48000, 22050, 8000};
    for (int i = 0; i < 4; i++) {
        const char *p = tmp_path("len.wav");
        write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, rates[i], 1, 5.0, 0);
        size_t n;
        ic_audio_info in;
        float *x = load_ok(p, 16000, &n, &in);
        ck_assert_msg(n == 80000, "%d Hz: %zu samples, want 80000", rates[i], n);
        free(x);
    }
}
END_TEST

START_TEST(test_downmix) {
    const char *anti = tmp_path("anti.wav"), *same = tmp_path("same.wav"), *mono = tmp_path("mono.wav");
    write_sine(anti, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.5, 1);
    write_sine(same, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.5, 0);
    write_sine(mono, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 1, 0.5, 0);
    size_t na, ns, nm;
    float *xa = load_ok(anti, 16000, &na, NULL);
    float *xs = load_ok(same, 16000, &ns, NULL);
    float *xm = load_ok(mono, 16000, &nm, NULL);
    ck_assert_uint_eq(na, nm);
    ck_assert_uint_eq(ns, nm);
    double peak = 0;
    for (size_t i = 0; i < na; i++) peak = fmax(peak, fabs(xa[i]));
    ck_assert_msg(peak <= 1e-6, "L = -R should cancel, peak %g", peak);
    double d = ic_test_max_abs_diff(xs, xm, nm);
    ck_assert_msg(d <= 1e-6, "L = R should equal the mono file, max diff %g", d);
    double rms = 0;
    for (size_t i = 0; i < nm; i++) rms += (double)xm[i] * xm[i];
    ck_assert_msg(sqrt(rms / nm) > 0.3, "mono reference is not silent");
    free(xa); free(xs); free(xm);
}
END_TEST

START_TEST(test_m4a_fixtures) {
    struct { const char *path; int rate, ch; double amp; } fx[] = {
        { FIXTURES "sine440_44k_stereo.m4a", 44100, 2, 0.125 / M_SQRT2 },
        { FIXTURES "sine440_48k_mono.m4a", 48000, 1, 0.125 },
    };
    for (int k = 0; k < 2; k++) {
        size_t n;
        ic_audio_info in;
        float *x = load_ok(fx[k].path, 16000, &n, &in);
        ck_assert_str_eq(in.backend, "ffmpeg");
        ck_assert_ptr_nonnull(strstr(in.container, "mp4"));
        ck_assert_str_eq(in.codec, "aac");
        ck_assert_int_eq(in.sample_rate, fx[k].rate);
        ck_assert_int_eq(in.channels, fx[k].ch);
        ck_assert_double_eq_tol(in.duration, 0.5, 1e-3);
        ck_assert_msg(fabs((double)n - 8000.0) <= 2, "%s: %zu samples, expected 8000 +- 2", fx[k].path, n);
        /* AAC at 32-48 kb/s: pitch exact, amplitude within 5%, residual under 5%. */
        check_sine(fx[k].path, x, n, fx[k].amp, 0.3, 0.05, 0.05);
        free(x);
    }
}
END_TEST

/* Reading in odd block sizes gives exactly what the whole-file load gives. */
START_TEST(test_blocks_match_load) {
    const char *p = tmp_path("blocks.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, 1.7, 0);
    size_t n;
    float *whole = load_ok(p, 16000, &n, NULL);
    ic_error e;
    ic_audio *a = ic_audio_open(p, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    float *got = malloc((n + 5000) * sizeof *got);
    const size_t sizes[] = { 1, 7, 100, 4097, 333, 20000 };
    size_t len = 0;
    for (int k = 0;; k++) {
        long r = ic_audio_read(a, got + len, sizes[k % 6], &e);
        ck_assert_msg(r >= 0, "%s", e.msg);
        if (r == 0) break;
        len += (size_t)r;
        ck_assert_uint_le(len, n);
    }
    ck_assert_int_eq(ic_audio_read(a, got, 10, &e), 0);   /* stays at the end */
    ic_audio_close(a);
    ck_assert_uint_eq(len, n);
    ck_assert_msg(memcmp(got, whole, n * sizeof *got) == 0, "block reads differ from the load");
    free(got);
    free(whole);
}
END_TEST

static void write_raw_s16(const char *path, int rate, int channels, double seconds, int extra_bytes) {
    long n = lrint(seconds * rate);
    size_t nb = (size_t)n * channels * 2 + (size_t)extra_bytes;
    unsigned char *b = calloc(1, nb);
    for (long t = 0; t < n; t++)
        for (int c = 0; c < channels; c++) {
            uint16_t v = (uint16_t)(short)lrint(sine_at(t, rate) * 32767.0);
            size_t o = ((size_t)t * channels + c) * 2;
            b[o] = (unsigned char)(v & 0xff);
            b[o + 1] = (unsigned char)(v >> 8);
        }
    ic_test_write_file(path, b, nb);
    free(b);
}

START_TEST(test_raw_file) {
    const char *raw = tmp_path("pcm.raw"), *wav = tmp_path("pcm.wav");
    write_raw_s16(raw, 44100, 2, 0.6, 3);   /* 3 stray bytes: a partial frame, ignored */
    write_sine(wav, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 0.6, 0);
    ic_error e;
    ic_audio *a = ic_audio_open_raw(raw, 44100, 2, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    ck_assert_str_eq(ic_audio_get_info(a)->backend, "raw");
    ck_assert_int_eq(ic_audio_get_info(a)->frames, 26460);
    float *x = malloc(20000 * sizeof *x);
    size_t len = 0;
    long r;
    while ((r = ic_audio_read(a, x + len, 777, &e)) > 0) len += (size_t)r;
    ck_assert_msg(r == 0, "%s", e.msg);
    ic_audio_close(a);
    size_t nw;
    float *w = load_ok(wav, 16000, &nw, NULL);
    ck_assert_uint_eq(len, nw);
    ck_assert_msg(memcmp(x, w, nw * sizeof *x) == 0, "raw PCM and the same PCM in a wav differ");
    check_sine("raw", x, len, AMP, 0.2, 0.01, 0.002);
    free(x);
    free(w);
}
END_TEST

/* ---- standard input ---- */

/* Puts `data` on fd 0 through a pipe fed by a child process (Check forks each test,
 * so fd 0 of the test process is ours to replace). */
static pid_t stdin_from_pipe(const unsigned char *data, size_t n) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        size_t off = 0;
        while (off < n) {
            size_t k = n - off < 999 ? n - off : 999;   /* small odd writes: frames split */
            ssize_t w = write(fds[1], data + off, k);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(dup2(fds[0], 0), 0);
    close(fds[0]);
    return pid;
}

static void reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
}

START_TEST(test_stdin_pipe_wav) {
    const char *p = tmp_path("pipe.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 48000, 2, 0.8, 0);
    size_t nb, nf, ns;
    unsigned char *bytes = ic_test_slurp(p, &nb);
    float *xf = load_ok(p, 16000, &nf, NULL);
    pid_t pid = stdin_from_pipe(bytes, nb);
    ic_audio_info in;
    float *xs = load_ok("-", 16000, &ns, &in);
    reap(pid);
    ck_assert_str_eq(in.backend, "ffmpeg");
    ck_assert_int_eq(in.sample_rate, 48000);
    ck_assert_int_eq(in.channels, 2);
    ck_assert_uint_eq(ns, nf);
    double d = ic_test_max_abs_diff(xs, xf, nf);
    ck_assert_msg(d == 0, "wav through a pipe differs from the file by %g", d);
    free(bytes); free(xf); free(xs);
}
END_TEST

START_TEST(test_stdin_pipe_m4a) {
    const char *p = FIXTURES "sine440_44k_stereo.m4a";
    size_t nb, nf, ns;
    unsigned char *bytes = ic_test_slurp(p, &nb);
    float *xf = load_ok(p, 16000, &nf, NULL);
    pid_t pid = stdin_from_pipe(bytes, nb);
    float *xs = load_ok("-", 16000, &ns, NULL);
    reap(pid);
    ck_assert_uint_eq(ns, nf);
    ck_assert_msg(memcmp(xs, xf, nf * sizeof *xf) == 0, "m4a through a pipe differs from the file");
    free(bytes); free(xf); free(xs);
}
END_TEST

START_TEST(test_stdin_pipe_flac_mp3) {
    const char *names[] = { "pipe.flac", "pipe.mp3" };
    const int fmts[] = { SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III };
    for (int k = 0; k < 2; k++) {
        const char *p = tmp_path(names[k]);
        write_sine(p, fmts[k], 44100, 1, 1.0, 0);
        size_t nb, ns;
        unsigned char *bytes = ic_test_slurp(p, &nb);
        pid_t pid = stdin_from_pipe(bytes, nb);
        float *xs = load_ok("-", 16000, &ns, NULL);
        reap(pid);
        /* libavformat keeps the mp3 encoder delay and padding on a pipe: <= 2 frames */
        ck_assert_msg(fabs((double)ns - 16000) <= (k ? 836 : 2), "%s: %zu samples", names[k], ns);
        check_sine(names[k], xs, ns, AMP, 0.2, 0.05, 0.05);
        free(bytes); free(xs);
    }
}
END_TEST

START_TEST(test_stdin_pipe_raw) {
    const char *p = tmp_path("pipe.raw");
    write_raw_s16(p, 8000, 2, 0.5, 0);
    size_t nb, nf;
    unsigned char *bytes = ic_test_slurp(p, &nb);
    float *xf = NULL;
    ic_error e;
    ic_audio *a = ic_audio_open_raw(p, 8000, 2, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    ck_assert_int_eq(ic_audio_read_all(a, &xf, &nf, &e), IC_OK);
    ic_audio_close(a);
    pid_t pid = stdin_from_pipe(bytes, nb);
    a = ic_audio_open_raw("-", 8000, 2, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    ck_assert_int_eq(ic_audio_get_info(a)->frames, -1);
    float *x = malloc(10000 * sizeof *x);
    size_t len = 0;
    long r;
    while ((r = ic_audio_read(a, x + len, 1000, &e)) > 0) len += (size_t)r;
    ck_assert_msg(r == 0, "%s", e.msg);
    ic_audio_close(a);
    reap(pid);
    ck_assert_msg(labs((long)len - 8000) <= 2, "%zu samples, expected 8000", len);
    ck_assert_uint_eq(len, nf);
    ck_assert_msg(memcmp(x, xf, len * sizeof *x) == 0, "raw PCM through a pipe differs from the file");
    check_sine("raw pipe", x, len, AMP, 0.2, 0.01, 0.002);
    free(x); free(xf); free(bytes);
}
END_TEST

/* A regular file on stdin (shell redirection) takes the file route: libsndfile. */
START_TEST(test_stdin_regular_file) {
    const char *p = tmp_path("redirect.flac");
    write_sine(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 0.5, 0);
    int fd = open(p, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, 0), 0);
    close(fd);
    size_t n, nf;
    ic_audio_info in;
    float *x = load_ok("-", 16000, &n, &in);
    float *xf = load_ok(p, 16000, &nf, NULL);
    ck_assert_str_eq(in.backend, "sndfile");
    ck_assert_uint_eq(n, nf);
    ck_assert_msg(memcmp(x, xf, n * sizeof *x) == 0, "redirected file differs");
    free(x); free(xf);
}
END_TEST

/* ---- bad input ---- */

/* Loading path must fail with code and a message containing the path and `what`. */
static void expect_fail(const char *path, const char *shown, ic_status code, const char *what) {
    float *x = (float *)1;
    size_t n = 7;
    ic_error e;
    ic_error_clear(&e);
    ic_status s = ic_audio_load(path, 16000, &x, &n, NULL, &e);
    ck_assert_msg(s == code, "%s: status %d, expected %d (%s)", path, s, code, e.msg);
    ck_assert_int_eq(e.code, code);
    ck_assert_ptr_null(x);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(e.msg, shown) != NULL, "message does not name the input: %s", e.msg);
    ck_assert_msg(strstr(e.msg, what) != NULL, "message lacks '%s': %s", what, e.msg);
}

START_TEST(test_bad_missing_dir_empty) {
    const char *missing = tmp_path("no_such_file.wav");
    expect_fail(missing, missing, IC_ERR_IO, "No such file");
    expect_fail(g_dir, g_dir, IC_ERR_IO, "is a directory");
    const char *empty = tmp_path("empty.wav");
    ic_test_write_file(empty, "", 0);
    expect_fail(empty, empty, IC_ERR_FORMAT, "empty file");
}
END_TEST

START_TEST(test_bad_unreadable) {
    const char *p = tmp_path("locked.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.1, 0);
    ck_assert_int_eq(chmod(p, 0), 0);
    if (geteuid() == 0) {
        /* root reads anything: the file simply decodes */
        size_t n;
        float *x = load_ok(p, 16000, &n, NULL);
        ck_assert_uint_gt(n, 0);
        free(x);
    } else {
        expect_fail(p, p, IC_ERR_IO, "Permission denied");
    }
}
END_TEST

START_TEST(test_bad_text_as_wav) {
    const char *p = tmp_path("notes.wav");
    const char *text = "This is a shopping list, not a recording.\nMilk\nEggs\n";
    ic_test_write_file(p, text, strlen(text));
    expect_fail(p, p, IC_ERR_FORMAT, "not a recognised audio file");
}
END_TEST

START_TEST(test_bad_truncated) {
    const char *p = tmp_path("cut.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 1.0, 0);
    ck_assert_int_eq(truncate(p, 44 + 4 * 20000), 0);   /* mid-data */
    expect_fail(p, p, IC_ERR_FORMAT, "truncated");
    ck_assert_int_eq(truncate(p, 20), 0);               /* inside the header */
    expect_fail(p, p, IC_ERR_FORMAT, "not a recognised audio file");
    const char *f = tmp_path("cut.flac");
    write_sine(f, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 2, 1.0, 0);
    struct stat st;
    ck_assert_int_eq(stat(f, &st), 0);
    ck_assert_int_eq(truncate(f, st.st_size / 2), 0);
    float *x = NULL;
    size_t n;
    ic_error e;
    ck_assert_int_eq(ic_audio_load(f, 16000, &x, &n, NULL, &e), IC_ERR_FORMAT);
    ck_assert_msg(strstr(e.msg, f) != NULL, "%s", e.msg);
}
END_TEST

START_TEST(test_bad_zero_samples) {
    const char *p = tmp_path("zero.wav");
    SF_INFO in = { .samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16 };
    SNDFILE *sf = sf_open(p, SFM_WRITE, &in);
    ck_assert_ptr_nonnull(sf);
    sf_close(sf);
    expect_fail(p, p, IC_ERR_FORMAT, "no audio samples");
    /* raw PCM shorter than one frame: refused at open */
    const char *r = tmp_path("short.raw");
    ic_test_write_file(r, "\x01\x02\x03", 3);
    ic_error e;
    ck_assert_ptr_null(ic_audio_open_raw(r, 16000, 2, 16000, &e));
    ck_assert_msg(strstr(e.msg, "no audio samples") && strstr(e.msg, r), "%s", e.msg);
    /* the same through a pipe, where the length is unknown: refused by the first read */
    pid_t pid = stdin_from_pipe((const unsigned char *)"\x01\x02\x03", 3);
    ic_audio *a = ic_audio_open_raw("-", 16000, 2, 16000, &e);
    ck_assert_msg(a != NULL, "%s", e.msg);
    float buf[8];
    ck_assert_int_eq(ic_audio_read(a, buf, 8, &e), -1);
    ck_assert_msg(strstr(e.msg, "stdin: no audio samples") != NULL, "%s", e.msg);
    ic_audio_close(a);
    reap(pid);
}
END_TEST

/* 3 s of float stereo at 8 kHz with `bad` in the right channel of frame `at`. */
static void write_float_wav_with(const char *path, float bad, long at) {
    enum { FRAMES = 24000 };
    SF_INFO in = { .samplerate = 8000, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    ck_assert_ptr_nonnull(sf);
    float *b = malloc(2 * FRAMES * sizeof *b);
    for (long t = 0; t < FRAMES; t++) b[2 * t] = b[2 * t + 1] = (float)sine_at(t, 8000);
    b[2 * at + 1] = bad;
    ck_assert_int_eq(sf_writef_float(sf, b, FRAMES), FRAMES);
    free(b);
    sf_close(sf);
}

START_TEST(test_bad_nan_inf) {
    const char *p = tmp_path("nan.wav"), *q = tmp_path("inf.wav");
    write_float_wav_with(p, NAN, 20000);
    write_float_wav_with(q, -INFINITY, 6000);
    expect_fail(p, p, IC_ERR_FORMAT, "NaN or infinite sample at 2.500 s");
    expect_fail(q, q, IC_ERR_FORMAT, "NaN or infinite sample at 0.750 s");
    /* streaming: samples from blocks before the bad one arrive, then -1, and -1 again */
    ic_error e;
    ic_audio *a = ic_audio_open(p, 0, &e);
    ck_assert_ptr_nonnull(a);
    float buf[1000];
    ck_assert_int_eq(ic_audio_read(a, buf, 1000, &e), 1000);
    long r;
    while ((r = ic_audio_read(a, buf, 1000, &e)) > 0) {}
    ck_assert_int_eq(r, -1);
    ic_error e2;
    ic_error_clear(&e2);
    ck_assert_int_eq(ic_audio_read(a, buf, 1000, &e2), -1);
    ck_assert_str_eq(e2.msg, e.msg);
    ic_audio_close(a);
}
END_TEST

static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static void put16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }

/* A well-formed RIFF/WAVE whose fmt chunk names a codec nobody implements (0x7777). */
START_TEST(test_bad_unsupported_codec) {
    unsigned char b[44 + 800];
    memset(b, 0x11, sizeof b);
    memcpy(b, "RIFF", 4); put32(b + 4, sizeof b - 8); memcpy(b + 8, "WAVEfmt ", 8);
    put32(b + 16, 16); put16(b + 20, 0x7777); put16(b + 22, 1); put32(b + 24, 8000);
    put32(b + 28, 16000); put16(b + 32, 2); put16(b + 34, 16);
    memcpy(b + 36, "data", 4); put32(b + 40, 800);
    const char *p = tmp_path("odd_codec.wav");
    ic_test_write_file(p, b, sizeof b);
    expect_fail(p, p, IC_ERR_UNSUPPORTED, "unsupported audio codec");
}
END_TEST

START_TEST(test_bad_args) {
    const char *p = tmp_path("args.wav");
    write_sine(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.1, 0);
    ic_error e;
    ck_assert_ptr_null(ic_audio_open(p, -16000, &e));
    ck_assert_int_eq(e.code, IC_ERR_ARG);
    ck_assert_ptr_null(ic_audio_open_raw(p, 16000, 0, 16000, &e));
    ck_assert_int_eq(e.code, IC_ERR_ARG);
    /* 8 kHz -> 4 MHz is beyond libsamplerate's 256x */
    ck_assert_ptr_null(ic_audio_open(p, 4000000, &e));
    ck_assert_int_eq(e.code, IC_ERR_ARG);
    ck_assert_msg(strstr(e.msg, p) != NULL, "%s", e.msg);
}
END_TEST

/* ---- resampler ---- */

START_TEST(test_resampler_chunking) {
    enum { N = 9001 };
    float in[N], a[N], b[N];
    ic_rng r;
    ic_rng_seed(&r, 5);
    ic_test_fill(in, N, &r, -1, 1);
    size_t na = 0, nb = 0;
    for (int pass = 0; pass < 2; pass++) {
        ic_error e;
        ic_resampler *rs = ic_resampler_new(44100, 16000, &e);
        ck_assert_ptr_nonnull(rs);
        float *out = pass ? b : a;
        size_t pos = 0, len = 0, step = pass ? 13 : N;
        for (;;) {
            size_t k = N - pos < step ? N - pos : step, used, gen;
            int eof = pos + k == N;
            ck_assert_int_eq(ic_resampler_process(rs, in + pos, k, &used, out + len,
                                                  pass ? 5 : N - len, &gen, eof, &e), IC_OK);
            pos += used;
            len += gen;
            if (eof && pos == N && gen == 0) break;
        }
        ic_resampler_free(rs);
        if (pass) nb = len; else na = len;
    }
    /* exactly round(N * ratio): the drained tail is padded when libsamplerate stops short */
    ck_assert_msg((long)na == lrint(N * 16000.0 / 44100), "%zu samples", na);
    ck_assert_uint_eq(na, nb);
    ck_assert_msg(memcmp(a, b, na * sizeof *a) == 0, "output depends on block sizes");
}
END_TEST

START_TEST(test_resampler_passthrough) {
    ic_error e;
    ic_resampler *rs = ic_resampler_new(16000, 16000, &e);
    float in[5] = { 1, 2, 3, 4, 5 }, out[3];
    size_t used, gen;
    ck_assert_int_eq(ic_resampler_process(rs, in, 5, &used, out, 3, &gen, 0, &e), IC_OK);
    ck_assert_uint_eq(used, 3);
    ck_assert_uint_eq(gen, 3);
    ck_assert(out[0] == 1 && out[2] == 3);
    ic_resampler_free(rs);
    ck_assert_ptr_null(ic_resampler_new(0, 16000, &e));
    ck_assert_int_eq(e.code, IC_ERR_ARG);
}
END_TEST

static Suite *audio_suite(void) {
    Suite *s = suite_create("audio");
    TCase *t = tcase_create("decode");
    tcase_add_unchecked_fixture(t, make_tmpdir, remove_tmpdir);
    tcase_set_timeout(t, 60);
    tcase_add_loop_test(t, test_sine_formats_rates, 0, (int)(sizeof CASES / sizeof CASES[0]));
    tcase_add_test(t, test_info_fields);
    tcase_add_test(t, test_native_rate_exact);
    tcase_add_test(t, test_downmix);
    tcase_add_test(t, test_resampled_length_exact);
    tcase_add_test(t, test_m4a_fixtures);
    tcase_add_test(t, test_blocks_match_load);
    tcase_add_test(t, test_raw_file);
    tcase_add_test(t, test_stdin_pipe_wav);
    tcase_add_test(t, test_stdin_pipe_m4a);
    tcase_add_test(t, test_stdin_pipe_flac_mp3);
    tcase_add_test(t, test_stdin_pipe_raw);
    tcase_add_test(t, test_stdin_regular_file);
    tcase_add_test(t, test_bad_missing_dir_empty);
    tcase_add_test(t, test_bad_unreadable);
    tcase_add_test(t, test_bad_text_as_wav);
    tcase_add_test(t, test_bad_truncated);
    tcase_add_test(t, test_bad_zero_samples);
    tcase_add_test(t, test_bad_nan_inf);
    tcase_add_test(t, test_bad_unsupported_codec);
    tcase_add_test(t, test_bad_args);
    tcase_add_test(t, test_resampler_chunking);
    tcase_add_test(t, test_resampler_passthrough);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(audio_suite)
