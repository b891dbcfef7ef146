/* Tests of note segmentation and the tuning estimate through the transcriber
 * (src/dsp/notes.c, onset.c, transcribe.c): synthetic melodies of harmonic tones give
 * their notes (MIDI number, onset within 30 ms, cents within 2), repeated notes are
 * split, a detuned note reports its detuning, the tuning reference is found, louder
 * notes get higher velocities, silence and noise give no notes, the block size does not
 * matter; and notes rendered by fluidsynth from the TimGM6mb soundfont (flute,
 * clarinet, trumpet) come out at their pitch (within 20 cents: the soundfont's own
 * samples are tuned only that well).  Needs the timgm6mb-soundfont package. */
#include "testutil.h"
#include "ic/synth.h"
#include "ic/transcribe.h"

#define TIM "/usr/share/sounds/sf2/TimGM6mb.sf2"

typedef struct { double onset, dur, midi, amp; } tone_spec;

/* Adds a harmonic tone (4 partials, 10 ms attack, 30 ms release) to x. */
static void add_tone(float *x, size_t n, int rate, const tone_spec *t) {
    const double part[4] = {1.0, 0.5, 0.3, 0.15};
    double f0 = 440.0 * pow(2.0, (t->midi - 69.0) / 12.0);
    size_t a = (size_t)llround(t->onset * rate), len = (size_t)llround(t->dur * rate);
    size_t att = (size_t)(0.01 * rate), rel = (size_t)(0.03 * rate);
    for (size_t i = 0; i < len + rel && a + i < n; i++) {
        double tt = (double)i / rate, g = 1, v = 0;
        if (i < att) g = (double)i / att;
        if (i >= len) g = 1.0 - (double)(i - len) / rel;
        for (int h = 0; h < 4; h++) if (f0 * (h + 1) < rate / 2.2) v += part[h] * sin(2 * M_PI * f0 * (h + 1) * tt);
        x[a + i] += (float)(t->amp * g * v / 1.95);
    }
}

typedef struct { ic_note v[256]; size_t n; double a4, offset; ic_tempo_result tempo; } result;

/* Runs the transcriber over x (n at rate) in blocks; notes and tuning into r. */
static void transcribe(const float *x, size_t n, int rate, size_t block, result *r) {
    ic_transcriber_params p;
    ic_transcriber_defaults(&p, rate, 440.0);
    ic_error err;
    ic_transcriber *t = ic_transcriber_new(&p, &err);
    ck_assert_msg(t != NULL, "%s", err.msg);
    r->n = 0;
    for (size_t i = 0; i < n; i += block) {
        ck_assert_int_eq(ic_transcriber_process(t, x + i, n - i < block ? n - i : block, &err), IC_OK);
        while (r->n < 256 && ic_transcriber_pop(t, &r->v[r->n])) r->n++;
    }
    ck_assert_int_eq(ic_transcriber_finish(t, &err), IC_OK);
    while (r->n < 256 && ic_transcriber_pop(t, &r->v[r->n])) r->n++;
    ic_notes_tuning(ic_transcriber_notes(t), &r->a4, &r->offset);
    ck_assert_double_eq_tol(ic_transcriber_seconds(t), (double)n / rate, 1e-9);
    ic_transcriber_free(t);
}

static float *render(const tone_spec *s, int k, double seconds, int rate, size_t *n) {
    *n = (size_t)(seconds * rate);
    float *x = calloc(*n, sizeof *x);
    for (int i = 0; i < k; i++) add_tone(x, *n, rate, &s[i]);
    return x;
}

/* Every spec matched by the note of the same index: MIDI, onset within 30 ms, cents. */
static void expect_notes(const result *r, const tone_spec *s, int k, double cents_tol) {
    ck_assert_msg((int)r->n == k, "%zu notes, expected %d", r->n, k);
    for (int i = 0; i < k; i++) {
        int midi = (int)lround(s[i].midi);
        double cents = 100.0 * (s[i].midi - midi);
        ck_assert_msg(r->v[i].midi == midi, "note %d: MIDI %d, expected %d", i, r->v[i].midi, midi);
        ck_assert_msg(fabs(r->v[i].onset - s[i].onset) < 0.03, "note %d: onset %.3f, expected %.3f", i, r->v[i].onset, s[i].onset);
        ck_assert_msg(fabs(r->v[i].cents - cents) < cents_tol, "note %d: %.2f cents, expected %.2f", i, r->v[i].cents, cents);
        ck_assert(r->v[i].offset > r->v[i].onset);
        ck_assert(r->v[i].velocity >= 1 && r->v[i].velocity <= 127);
    }
}

START_TEST(test_melody) {
    const tone_spec s[] = {{0.20, 0.30, 60, 0.5}, {0.55, 0.25, 62, 0.5}, {0.85, 0.25, 64, 0.5},
                           {1.15, 0.40, 67, 0.5}, {1.60, 0.25, 72, 0.5}, {1.90, 0.30, 55, 0.5}};
    const int rates[2] = {16000, 22050};
    for (int k = 0; k < 2; k++) {
        size_t n;
        float *x = render(s, 6, 2.5, rates[k], &n);
        result r;
        transcribe(x, n, rates[k], 4096, &r);
        expect_notes(&r, s, 6, 2.0);
        /* offsets between the key-up and the end of the 30 ms release (or the next onset) */
        for (int i = 0; i < 6; i++) {
            double up = s[i].onset + s[i].dur;
            ck_assert_msg(r.v[i].offset > up - 0.03 && r.v[i].offset < up + 0.07, "note %d: offset %.3f, key up %.3f", i,
                          r.v[i].offset, up);
        }
        ck_assert_msg(fabs(r.offset) < 1.0, "tuning offset %.2f cents", r.offset);
        free(x);
    }
}
END_TEST

/* The same pitch three times, with short gaps, and legato steps without gaps. */
START_TEST(test_repeated_and_legato) {
    const tone_spec s[] = {{0.20, 0.25, 69, 0.5}, {0.50, 0.25, 69, 0.5}, {0.80, 0.25, 69, 0.5},
                           {1.10, 0.20, 71, 0.5}, {1.30, 0.20, 72, 0.5}, {1.50, 0.30, 74, 0.5}};
    size_t n;
    float *x = render(s, 6, 2.2, 16000, &n);
    result r;
    transcribe(x, n, 16000, 1024, &r);
    expect_notes(&r, s, 6, 2.0);
    free(x);
}
END_TEST

/* A note 25 cents sharp reports +25; a whole melody 20 cents sharp moves the tuning
 * reference to 440 * 2^(20/1200) Hz; a note 45 cents flat still names its note. */
START_TEST(test_detuned_and_tuning) {
    const tone_spec s[] = {{0.2, 0.4, 69.25, 0.5}, {0.8, 0.4, 59.55, 0.5}};
    size_t n;
    float *x = render(s, 2, 1.5, 16000, &n);
    result r;
    transcribe(x, n, 16000, 4096, &r);
    expect_notes(&r, s, 2, 1.5);
    ck_assert_int_eq(r.v[1].midi, 60);   /* 59.55: C4 45 cents flat */
    free(x);
    tone_spec m[5];
    for (int i = 0; i < 5; i++) m[i] = (tone_spec){0.2 + 0.35 * i, 0.3, 60.2 + 2 * i, 0.5};
    x = render(m, 5, 2.2, 16000, &n);
    transcribe(x, n, 16000, 4096, &r);
    expect_notes(&r, m, 5, 1.5);
    ck_assert_msg(fabs(r.offset - 20.0) < 1.0, "offset %.2f cents", r.offset);
    ck_assert_double_eq_tol(r.a4, 440.0 * pow(2.0, 20.0 / 1200.0), 0.3);
    free(x);
}
END_TEST

START_TEST(test_velocity) {
    const tone_spec s[] = {{0.2, 0.3, 67, 0.05}, {0.7, 0.3, 67, 0.2}, {1.2, 0.3, 67, 0.8}};
    size_t n;
    float *x = render(s, 3, 1.8, 16000, &n);
    result r;
    transcribe(x, n, 16000, 4096, &r);
    ck_assert_int_eq(r.n, 3);
    ck_assert_int_lt(r.v[0].velocity, r.v[1].velocity);
    ck_assert_int_lt(r.v[1].velocity, r.v[2].velocity);
    /* the loudest tone's RMS is 0.8 / 1.95 * sqrt((1 + 0.5^2 + 0.3^2 + 0.15^2) / 2) = 0.3387:
     * -6.40 dB against a full-scale sine (RMS 1/sqrt 2), velocity 127 * 10^(-6.40/40) = 88 */
    double db = 20.0 * log10(0.8 / 1.95 * sqrt((1 + 0.25 + 0.09 + 0.0225) / 2) * sqrt(2.0));
    ck_assert_msg(fabs(r.v[2].level_db - db) < 0.3, "level %.2f dB, expected %.2f", r.v[2].level_db, db);
    ck_assert_msg(abs(r.v[2].velocity - 88) <= 1, "velocity %d", r.v[2].velocity);
    free(x);
}
END_TEST

START_TEST(test_silence_and_noise) {
    size_t n = 32000;
    float *x = calloc(n, sizeof *x);
    result r;
    transcribe(x, n, 16000, 4096, &r);
    ck_assert_int_eq(r.n, 0);
    ck_assert_double_eq(r.a4, 440.0);
    ic_rng g;
    ic_rng_seed(&g, 9);
    for (size_t i = 0; i < n; i++) x[i] = 0.2f * ic_rng_normal(&g);
    transcribe(x, n, 16000, 4096, &r);
    ck_assert_msg(r.n == 0, "white noise gave %zu notes", r.n);
    transcribe(x, 0, 16000, 4096, &r);   /* no input at all */
    ck_assert_int_eq(r.n, 0);
    free(x);
}
END_TEST

typedef struct { long long next; int onsets; } frame_count;

static void count_frame(void *ctx, const ic_note_frame *f) {
    frame_count *c = ctx;
    ck_assert_int_eq(f->index, c->next);
    ck_assert_double_eq_tol(f->time, f->index * 0.01, 1e-9);
    c->next++;
    c->onsets += f->onset;
}

/* The observer sees every joined frame once, in order, onsets included. */
START_TEST(test_observer) {
    const tone_spec s[] = {{0.1, 0.3, 57, 0.4}, {0.6, 0.3, 64, 0.4}};
    size_t n;
    float *x = render(s, 2, 1.05, 16000, &n);
    ic_transcriber_params p;
    ic_transcriber_defaults(&p, 16000, 440.0);
    ic_error err;
    ic_transcriber *t = ic_transcriber_new(&p, &err);
    ck_assert_ptr_nonnull(t);
    frame_count c = {0, 0};
    ic_transcriber_set_observer(t, count_frame, &c);
    ck_assert_int_eq(ic_transcriber_process(t, x, n, &err), IC_OK);
    ck_assert_int_eq(ic_transcriber_finish(t, &err), IC_OK);
    ck_assert_int_eq(c.next, 105);   /* frames k * 160 < 16800 */
    ck_assert_msg(c.onsets >= 2 && c.onsets <= 4, "%d onsets", c.onsets);
    ic_transcriber_free(t);
    free(x);
}
END_TEST

START_TEST(test_block_sizes) {
    const tone_spec s[] = {{0.1, 0.3, 57, 0.4}, {0.45, 0.3, 64, 0.4}, {0.8, 0.3, 64, 0.4}};
    size_t n;
    float *x = render(s, 3, 1.3, 16000, &n);
    result a, b;
    transcribe(x, n, 16000, n, &a);
    transcribe(x, n, 16000, 33, &b);
    ck_assert_int_eq(a.n, 3);
    ck_assert_int_eq(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        ck_assert_double_eq(a.v[i].onset, b.v[i].onset);
        ck_assert_double_eq(a.v[i].offset, b.v[i].offset);
        ck_assert_float_eq(a.v[i].cents, b.v[i].cents);
    }
    free(x);
}
END_TEST

/* Notes rendered by fluidsynth: one note each, the right MIDI number, within 20 cents. */
START_TEST(test_rendered_notes) {
    ic_error err;
    ic_synth *syn = ic_synth_new(TIM, 1.0f, &err);
    ck_assert_msg(syn != NULL, "%s (install timgm6mb-soundfont)", err.msg);
    const struct { int program, pitch; } cases[] = {{73, 72}, {73, 79}, {71, 55}, {71, 62}, {56, 67}};
    float *x = malloc(IC_SYNTH_FRAMES * sizeof *x);
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ic_render_info info;
        ck_assert_int_eq(ic_synth_render_note(syn, cases[k].program, cases[k].pitch, 100, 1.0, x, &info, &err), IC_OK);
        ck_assert_int_eq(info.result, IC_RENDER_OK);
        result r;
        transcribe(x, IC_SYNTH_FRAMES, IC_SYNTH_RATE, 4096, &r);
        ck_assert_msg(r.n == 1, "program %d pitch %d: %zu notes", cases[k].program, cases[k].pitch, r.n);
        ck_assert_msg(r.v[0].midi == cases[k].pitch, "program %d: MIDI %d, expected %d", cases[k].program, r.v[0].midi,
                      cases[k].pitch);
        ck_assert_msg(fabs(r.v[0].cents) < 20, "program %d pitch %d: %.1f cents", cases[k].program, cases[k].pitch, r.v[0].cents);
        ck_assert_msg(r.v[0].onset < 0.05, "onset %.3f", r.v[0].onset);
    }
    free(x);
    ic_synth_free(syn);
}
END_TEST

START_TEST(test_bad_params) {
    ic_transcriber_params p;
    ic_error err;
    ic_transcriber_defaults(&p, 16000, 440.0);
    p.notes.a4 = 100;
    ck_assert_ptr_null(ic_transcriber_new(&p, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "A4"));
    ic_transcriber_defaults(&p, 16000, 440.0);
    p.onset.hop_s = 0.02;   /* hops differ */
    ck_assert_ptr_null(ic_transcriber_new(&p, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "hop"));
    ic_transcriber_defaults(&p, 16000, 440.0);
    p.onset.rate = 22050;
    ck_assert_ptr_null(ic_transcriber_new(&p, &err));
    ic_transcriber_free(NULL);
}
END_TEST

static Suite *notes_suite(void) {
    Suite *s = suite_create("notes");
    TCase *t = tcase_create("segmentation");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_melody);
    tcase_add_test(t, test_repeated_and_legato);
    tcase_add_test(t, test_detuned_and_tuning);
    tcase_add_test(t, test_velocity);
    tcase_add_test(t, test_silence_and_noise);
    tcase_add_test(t, test_block_sizes);
    tcase_add_test(t, test_observer);
    tcase_add_test(t, test_rendered_notes);
    tcase_add_test(t, test_bad_params);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(notes_suite)
