/* Test performances with known ground truth for the icnotes / aubio comparison
 * (benchmarks/notes/run.sh): monophonic melodies, scales and arpeggios on several
 * General MIDI instruments, rendered with libfluidsynth from a soundfont to 44.1 kHz
 * 16-bit mono WAV, with the notes written beside each file as JSON.
 *
 *   gen OUTDIR [--n N] [--seed S] [--soundfont SF2/SF3]
 *
 * Per piece (all choices from the seeded ic_rng, so a seed gives the same files):
 *   - instrument: flute, clarinet, oboe, alto sax, trumpet, violin, cello, bassoon,
 *     piano, nylon guitar, each in its comfortable range;
 *   - tempo 60-180 BPM, 4/4; the beat is the quarter note.  Rhythm by beat cells:
 *     quarter (55%), two eighths (20%), half (15%), dotted quarter + eighth (10%),
 *     scales and arpeggios in quarters; a rest beat now and then (5%);
 *   - articulation: each note sounds for 55-95% of its interval (per piece);
 *   - velocity: a per-piece level with an accent on the first beat of the bar;
 *   - tuning: half the pieces have 40% of their notes detuned by pitch bend, uniform
 *     in +-40 cents; a fifth of the pieces are tuned off 440 by up to +-15 cents
 *     (the truth carries each note's cents from 440 Hz equal temperament);
 *   - noise: 30% of the pieces get white noise at 20-35 dB SNR.
 * Truth JSON: {"file", "instrument", "program", "tempo", "style", "snr_db" (null:
 * clean), "global_cents", "notes": [{"onset", "offset", "midi", "cents", "velocity",
 * "sample_cents"}]}.  Onsets are key-down times; fluidsynth starts the sample there.
 * "cents" is what was asked for (pitch bend); the soundfont's samples are themselves
 * tuned only to within several cents, so "sample_cents" gives the pitch the synth
 * actually produces for that key without bend, measured once per (program, key) on a
 * separate render over 80-480 ms after key down (where a typical note of the pieces
 * sounds; some samples glide at first): the frequencies of the first harmonics from a
 * 2^18-point FFT (Hann, zero padded, parabolic interpolation of the log magnitude),
 * f0 = magnitude-weighted mean of f_h / h.  That estimate shares nothing with icnotes'
 * pitch tracker.  The sounding pitch of a note is cents + sample_cents. */
#include <errno.h>
#include <fluidsynth.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ic/fft.h"
#include "ic/rng.h"

#define RATE 44100
#define MAX_NOTES 256
#define LEAD_S 0.5            /* silence before the first note */
#define TAIL_S 1.0            /* after the last key-up */
#define MAX_SECONDS 20.0      /* of music */

typedef struct { const char *name; int program, lo, hi; } instrument;

static const instrument INSTR[] = {
    {"flute", 73, 60, 93},   {"clarinet", 71, 52, 84}, {"oboe", 68, 58, 88},  {"alto_sax", 65, 49, 78},
    {"trumpet", 56, 55, 80}, {"violin", 40, 55, 91},   {"cello", 42, 36, 69}, {"bassoon", 70, 36, 67},
    {"piano", 0, 40, 88},    {"guitar", 24, 40, 76},
};
#define N_INSTR (sizeof INSTR / sizeof INSTR[0])

typedef struct { double onset, offset; int midi, velocity; double cents, sample_cents; } note;

static double uni(ic_rng *r, double lo, double hi) { return lo + (hi - lo) * ic_rng_uniform(r); }

/* Scale degree -> MIDI in a major or natural minor key. */
static int degree_to_midi(int tonic, int minor, int deg) {
    const int major[7] = {0, 2, 4, 5, 7, 9, 11}, minr[7] = {0, 2, 3, 5, 7, 8, 10};
    int oct = deg >= 0 ? deg / 7 : -((-deg + 6) / 7);
    int k = deg - 7 * oct;
    return tonic + 12 * oct + (minor ? minr[k] : major[k]);
}

typedef struct {
    int style;                /* 0 melody, 1 scale, 2 arpeggio */
    double tempo, legato, global_cents, snr_db;
    int instr, detune;
    int n;
    note notes[MAX_NOTES];
} piece;

static const char *STYLE[3] = {"melody", "scale", "arpeggio"};

static void compose(ic_rng *r, piece *p) {
    memset(p, 0, sizeof *p);
    p->instr = (int)ic_rng_below(r, N_INSTR);
    const instrument *in = &INSTR[p->instr];
    p->style = ic_rng_uniform(r) < 0.6 ? 0 : ic_rng_uniform(r) < 0.5 ? 1 : 2;
    p->tempo = uni(r, 60, 180);
    p->legato = uni(r, 0.55, 0.95);
    p->detune = ic_rng_uniform(r) < 0.5;
    p->global_cents = ic_rng_uniform(r) < 0.2 ? uni(r, -15, 15) : 0;
    p->snr_db = ic_rng_uniform(r) < 0.3 ? uni(r, 20, 35) : -1;
    double beat = 60.0 / p->tempo;
    int beats = (int)floor(MAX_SECONDS / beat);
    if (beats > 32) beats = 32;
    int minor = ic_rng_uniform(r) < 0.4;
    /* a tonic that leaves an octave and a half of room in the range */
    int span = in->hi - in->lo;
    int tonic = in->lo + (int)ic_rng_below(r, (uint64_t)(span > 19 ? span - 18 : 1));
    int level = 55 + (int)ic_rng_below(r, 50);
    int deg = 0, dir = 1;
    const int arp[4] = {0, 2, 4, 7};
    int arp_i = 0;
    double t = LEAD_S;
    for (int b = 0; b < beats && p->n < MAX_NOTES - 2; ) {
        double u = ic_rng_uniform(r);
        double cell[2];
        int nc, len;
        if (p->style != 0 || u < 0.55) { cell[0] = 1; nc = 1; len = 1; }
        else if (u < 0.75) { cell[0] = 0.5; cell[1] = 0.5; nc = 2; len = 1; }
        else if (u < 0.90) { cell[0] = 2; nc = 1; len = 2; }
        else { cell[0] = 1.5; cell[1] = 0.5; nc = 2; len = 2; }
        if (b + len > beats) { cell[0] = 1; nc = 1; len = 1; }
        if (b > 0 && ic_rng_uniform(r) < 0.05) { t += beat; b++; continue; }   /* a rest */
        for (int c = 0; c < nc; c++) {
            int midi;
            if (p->style == 1) {
                midi = degree_to_midi(tonic, minor, deg);
                if (deg + dir > 14 || deg + dir < 0 || degree_to_midi(tonic, minor, deg + dir) > in->hi) dir = -dir;
                deg += dir;
            } else if (p->style == 2) {
                int k = arp_i % 8, up = k < 4 ? k : 7 - k;
                midi = degree_to_midi(tonic, minor, arp[up] + 7 * ((arp_i / 8) % 2));
                arp_i++;
            } else {
                double s = ic_rng_uniform(r);
                int step = s < 0.5 ? 1 : s < 0.8 ? 2 : s < 0.92 ? 3 + (int)ic_rng_below(r, 2) : 7;
                if (ic_rng_uniform(r) < 0.5) step = -step;
                if (ic_rng_uniform(r) < 0.1) step = 0;   /* a repeated note */
                int nd = deg + step;
                if (degree_to_midi(tonic, minor, nd) > in->hi || degree_to_midi(tonic, minor, nd) < in->lo) nd = deg - step;
                deg = nd;
                midi = degree_to_midi(tonic, minor, deg);
            }
            if (midi > in->hi) midi -= 12;
            if (midi < in->lo) midi += 12;
            double ioi = cell[c] * beat;
            note *x = &p->notes[p->n++];
            x->onset = round(t * 1000.0) / 1000.0;
            x->offset = round((t + ioi * p->legato) * 1000.0) / 1000.0;
            x->midi = midi;
            int accent = (b % 4 == 0 && c == 0) ? 12 : 0;
            int v = level + accent + (int)ic_rng_below(r, 11) - 5;
            x->velocity = v < 20 ? 20 : v > 127 ? 127 : v;
            x->cents = p->global_cents;
            if (p->detune && ic_rng_uniform(r) < 0.4) x->cents += uni(r, -40, 40);
            x->cents = round(x->cents * 10.0) / 10.0;
            t += ioi;
        }
        b += len;
    }
}

typedef struct { double time; int kind, midi, value; } event;   /* kind 0 off, 1 bend, 2 on */

static int cmp_event(const void *a, const void *b) {
    const event *x = a, *y = b;
    if (x->time != y->time) return x->time < y->time ? -1 : 1;
    return x->kind - y->kind;
}

/* Renders into out (frames), mono, peak normalised to 0.9; 0 or -1. */
static int render(fluid_synth_t *syn, int sfid, const piece *p, float *out, size_t frames) {
    float drop[2][1024];
    fluid_synth_all_sounds_off(syn, -1);   /* nothing of the previous piece may leak in */
    for (int k = 0; k < 64 && fluid_synth_get_active_voice_count(syn) > 0; k++)
        fluid_synth_write_float(syn, 1024, drop[0], 0, 1, drop[1], 0, 1);
    fluid_synth_system_reset(syn);
    if (fluid_synth_program_select(syn, 0, sfid, 0, INSTR[p->instr].program) != FLUID_OK) return -1;
    fluid_synth_pitch_wheel_sens(syn, 0, 2);
    event ev[3 * MAX_NOTES];
    int ne = 0;
    for (int i = 0; i < p->n; i++) {
        const note *x = &p->notes[i];
        int bend = 8192 + (int)lround(x->cents / 200.0 * 8192.0);
        ev[ne++] = (event){x->onset, 1, x->midi, bend < 0 ? 0 : bend > 16383 ? 16383 : bend};
        ev[ne++] = (event){x->onset, 2, x->midi, x->velocity};
        ev[ne++] = (event){x->offset, 0, x->midi, 0};
    }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_event);
    float *left = malloc(frames * sizeof *left), *right = malloc(frames * sizeof *right);
    if (!left || !right) { free(left); free(right); return -1; }
    size_t cur = 0;
    for (int i = 0; i <= ne; i++) {
        size_t to = i < ne ? (size_t)llround(ev[i].time * RATE) : frames;
        if (to > frames) to = frames;
        while (cur < to) {
            int len = (int)(to - cur < 4096 ? to - cur : 4096);
            fluid_synth_write_float(syn, len, left, (int)cur, 1, right, (int)cur, 1);
            cur += (size_t)len;
        }
        if (i == ne) break;
        if (ev[i].kind == 0) fluid_synth_noteoff(syn, 0, ev[i].midi);
        else if (ev[i].kind == 1) fluid_synth_pitch_bend(syn, 0, ev[i].value);
        else fluid_synth_noteon(syn, 0, ev[i].midi, ev[i].value);
    }
    double peak = 0;
    for (size_t i = 0; i < frames; i++) {
        out[i] = 0.5f * (left[i] + right[i]);
        if (fabs(out[i]) > peak) peak = fabs(out[i]);
    }
    free(left);
    free(right);
    if (peak <= 0) return -1;
    for (size_t i = 0; i < frames; i++) out[i] = (float)(out[i] * 0.9 / peak);
    return 0;
}

#define CAL_FFT (1 << 18)
#define CAL_SECONDS 1.0
#define CAL_FROM 0.08         /* the window measured: 80-480 ms after key down, where a */
#define CAL_LEN 0.4           /* typical note of the pieces sounds (some samples glide at first) */

static double power_at(const float *spec, long b) { return (double)spec[2 * b] * spec[2 * b] + (double)spec[2 * b + 1] * spec[2 * b + 1]; }

/* Cents of the synth's own pitch for program/key (see the top comment). */
static double calibrate(fluid_synth_t *syn, int sfid, int program, int key, const ic_fft_plan *plan, float *buf,
                        float *spec) {
    size_t frames = (size_t)(CAL_SECONDS * RATE);
    float *left = malloc(frames * sizeof *left), *right = malloc(frames * sizeof *right);
    float drop[2][1024];
    if (!left || !right) { free(left); free(right); return 0; }
    fluid_synth_all_sounds_off(syn, -1);
    for (int k = 0; k < 64 && fluid_synth_get_active_voice_count(syn) > 0; k++)
        fluid_synth_write_float(syn, 1024, drop[0], 0, 1, drop[1], 0, 1);
    fluid_synth_system_reset(syn);
    fluid_synth_program_select(syn, 0, sfid, 0, program);
    fluid_synth_noteon(syn, 0, key, 100);
    for (size_t cur = 0; cur < frames; cur += 4096) {
        int len = (int)(frames - cur < 4096 ? frames - cur : 4096);
        fluid_synth_write_float(syn, len, left, (int)cur, 1, right, (int)cur, 1);
    }
    fluid_synth_noteoff(syn, 0, key);
    size_t from = (size_t)(CAL_FROM * RATE), n = (size_t)(CAL_LEN * RATE);
    memset(buf, 0, CAL_FFT * sizeof *buf);
    for (size_t i = 0; i < n; i++)
        buf[i] = (float)(0.5 * (left[from + i] + right[from + i]) * (0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)n)));
    free(left);
    free(right);
    ic_rfft(plan, buf, spec);
    double f0 = 440.0 * pow(2.0, (key - 69) / 12.0), bin_hz = (double)RATE / CAL_FFT, num = 0, den = 0;
    for (int h = 1; h <= 8 && h * f0 < 10000.0; h++) {
        long lo = (long)floor(h * f0 * 0.97 / bin_hz), hi = (long)ceil(h * f0 * 1.03 / bin_hz), best = lo;
        for (long b = lo; b <= hi; b++) if (power_at(spec, b) > power_at(spec, best)) best = b;
        double y0 = log(1e-30 + power_at(spec, best - 1)), y1 = log(1e-30 + power_at(spec, best));
        double y2 = log(1e-30 + power_at(spec, best + 1)), d = y0 - 2 * y1 + y2, sh = d < 0 ? 0.5 * (y0 - y2) / d : 0;
        double w = sqrt(power_at(spec, best));
        num += w * ((double)best + sh) * bin_hz / h;
        den += w;
    }
    return den > 0 ? 1200.0 * log2(num / den / f0) : 0;
}

static void add_noise(ic_rng *r, float *x, size_t n, double snr_db) {
    double e = 0;
    size_t active = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > 1e-3) { e += (double)x[i] * x[i]; active++; }
    if (!active) return;
    double sig = sqrt(e / (double)active), sd = sig * pow(10.0, -snr_db / 20.0);
    for (size_t i = 0; i < n; i++) x[i] += (float)(sd * ic_rng_normal(r));
    double peak = 0;
    for (size_t i = 0; i < n; i++) if (fabs(x[i]) > peak) peak = fabs(x[i]);
    if (peak > 0.99) for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] * 0.99 / peak);
}

static int write_truth(const char *path, const char *wav, const piece *p) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "{\"file\": \"%s\", \"instrument\": \"%s\", \"program\": %d, \"tempo\": %.3f, \"style\": \"%s\",\n",
            wav, INSTR[p->instr].name, INSTR[p->instr].program, p->tempo, STYLE[p->style]);
    if (p->snr_db > 0) fprintf(f, " \"snr_db\": %.1f,", p->snr_db);
    else fprintf(f, " \"snr_db\": null,");
    fprintf(f, " \"global_cents\": %.1f,\n \"notes\": [\n", p->global_cents);
    for (int i = 0; i < p->n; i++) {
        const note *x = &p->notes[i];
        fprintf(f, "  {\"onset\": %.3f, \"offset\": %.3f, \"midi\": %d, \"cents\": %.1f, \"velocity\": %d, "
                   "\"sample_cents\": %.2f}%s\n",
                x->onset, x->offset, x->midi, x->cents, x->velocity, x->sample_cents, i + 1 < p->n ? "," : "");
    }
    fprintf(f, " ]}\n");
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *sf = "/usr/share/sounds/sf3/MuseScore_General.sf3";
    long count = 50;
    unsigned long long seed = 7;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--n") && i + 1 < argc) count = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--soundfont") && i + 1 < argc) sf = argv[++i];
        else if (argv[i][0] != '-' && !dir) dir = argv[i];
        else { fprintf(stderr, "usage: gen OUTDIR [--n N] [--seed S] [--soundfont SF]\n"); return 2; }
    }
    if (!dir || count < 1 || count > 100000) { fprintf(stderr, "usage: gen OUTDIR [--n N] [--seed S] [--soundfont SF]\n"); return 2; }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) { fprintf(stderr, "gen: %s: %s\n", dir, strerror(errno)); return 1; }
    fluid_settings_t *set = new_fluid_settings();
    fluid_settings_setnum(set, "synth.sample-rate", RATE);
    fluid_settings_setint(set, "synth.reverb.active", 0);
    fluid_settings_setint(set, "synth.chorus.active", 0);
    fluid_settings_setnum(set, "synth.gain", 0.5);
    fluid_settings_setint(set, "synth.cpu-cores", 1);
    fluid_set_log_function(FLUID_WARN, NULL, NULL);
    fluid_set_log_function(FLUID_INFO, NULL, NULL);
    fluid_synth_t *syn = new_fluid_synth(set);
    int sfid = syn ? fluid_synth_sfload(syn, sf, 1) : FLUID_FAILED;
    if (sfid == FLUID_FAILED) { fprintf(stderr, "gen: cannot load soundfont %s\n", sf); return 1; }
    ic_rng r;
    ic_rng_seed(&r, seed);
    int rc = 0;
    ic_fft_plan *plan = ic_fft_plan_new(CAL_FFT, NULL);
    float *cal_buf = malloc(CAL_FFT * sizeof *cal_buf), *cal_spec = malloc((CAL_FFT + 2) * sizeof *cal_spec);
    double (*cal)[128] = malloc(N_INSTR * sizeof *cal);   /* measured sample cents; NAN: not yet */
    if (!plan || !cal_buf || !cal_spec || !cal) { fprintf(stderr, "gen: out of memory\n"); return 1; }
    for (size_t i = 0; i < N_INSTR; i++) for (int k = 0; k < 128; k++) cal[i][k] = NAN;
    for (long k = 0; k < count && rc == 0; k++) {
        piece p;
        compose(&r, &p);
        for (int i = 0; i < p.n; i++) {
            double *c = &cal[p.instr][p.notes[i].midi];
            if (isnan(*c)) *c = calibrate(syn, sfid, INSTR[p.instr].program, p.notes[i].midi, plan, cal_buf, cal_spec);
            p.notes[i].sample_cents = *c;
        }
        double end = p.notes[p.n - 1].offset + TAIL_S;
        size_t frames = (size_t)llround(end * RATE);
        float *x = malloc(frames * sizeof *x);
        char wav[1024], js[1024], base[64];
        snprintf(base, sizeof base, "piece_%04ld.wav", k);
        snprintf(wav, sizeof wav, "%s/%s", dir, base);
        snprintf(js, sizeof js, "%s/piece_%04ld.json", dir, k);
        if (!x || render(syn, sfid, &p, x, frames)) { fprintf(stderr, "gen: rendering %s failed\n", wav); rc = 1; free(x); break; }
        if (p.snr_db > 0) add_noise(&r, x, frames, p.snr_db);
        SF_INFO info = {.samplerate = RATE, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
        SNDFILE *out = sf_open(wav, SFM_WRITE, &info);
        if (!out || sf_writef_float(out, x, (sf_count_t)frames) != (sf_count_t)frames || sf_close(out) != 0) {
            fprintf(stderr, "gen: cannot write %s\n", wav);
            rc = 1;
        }
        if (rc == 0 && write_truth(js, base, &p)) { fprintf(stderr, "gen: cannot write %s\n", js); rc = 1; }
        free(x);
    }
    ic_fft_plan_free(plan);
    free(cal_buf);
    free(cal_spec);
    free(cal);
    delete_fluid_synth(syn);
    delete_fluid_settings(set);
    return rc;
}
