/* Note segmentation and tuning estimate (include/ic/notes.h): a two-state machine
 * (between notes / in a note) that decides frame t once `lookahead` later frames are
 * in, over a ring of recent frames.  Not here: pitch or onset analysis. */
#include "ic/notes.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "ic/pitch.h"

#define RING 128              /* recent frames kept: snap window + rise window + look-ahead */
#define RISE_BACK 6           /* frames before an onset searched for the level minimum */
#define STABLE_SPREAD 0.6     /* semitones: spread of a steady stretch of frames */
#define REF_EVERY 8           /* the note's reference pitch is re-estimated every this many frames */
#define CENTS_WINDOW 30.0     /* cents: frames this close to the median make the note's cents */
#define OCTAVE_TOL 0.6        /* semitones: a jump this close to 12 is an octave */
#define BACKTRACK 8           /* frames an onset may move back to the level minimum */
#define PEAK_AHEAD 5          /* frames after the onset peak searched for the level maximum */
#define RISE_FRACTION 0.03     /* onset: where the energy has covered this much of the rise */

typedef struct { float midi, weight; } val;

struct ic_notes {
    ic_notes_params p;
    int lookahead, snap_before, snap_after, gap_frames, attack_frames;
    double gate_rms, two_pi;
    ic_note_frame ring[RING];
    long long n_in, t;             /* frames added; next frame to decide */
    int finished;
    /* the note in progress */
    int in_note;
    long long start;               /* frame where it began */
    double onset_time;
    int unvoiced_run;
    double ref;                    /* its reference pitch (MIDI, real) */
    float peak_rms;
    val *vals;                     /* (cap) its voiced frames */
    size_t n_vals, cap_vals;
    float *scratch;                /* (cap) for medians */
    double prev_onset;             /* onset of the previous note, -1 none */
    /* tuning: weighted sums of cos/sin of 2 pi midi */
    double tc, ts, tw;
    ic_note *q;
    size_t q_head, q_len, q_cap;
};

void ic_notes_defaults(ic_notes_params *p, double hop_s) {
    memset(p, 0, sizeof *p);
    p->a4 = 440.0;
    p->hop_s = hop_s;
    p->min_periodicity = 0.5;
    p->gate_db = -50.0;
    p->change = 0.6;
    p->gap_s = 0.03;
    p->min_note_s = 0.06;
    p->attack_s = 0.03;
    p->snap_before = 0.08;
    p->snap_after = 0.04;
    p->rise_db = 5.0;
    p->lookahead = 4;
}

void ic_notes_free(ic_notes *n) {
    if (!n) return;
    free(n->vals);
    free(n->scratch);
    free(n->q);
    free(n);
}

ic_notes *ic_notes_new(const ic_notes_params *p, ic_error *err) {
    if (!(p->a4 >= 200 && p->a4 <= 1000))
        { ic_error_set(err, IC_ERR_ARG, "notes: A4 must be 200..1000 Hz, got %g", p->a4); return NULL; }
    if (!(p->hop_s > 0 && p->hop_s <= 0.1) || !(p->change > 0 && p->change < 12) || !(p->gap_s >= 0) ||
        !(p->min_note_s >= 0) || !(p->attack_s >= 0) || !(p->snap_before >= 0) || !(p->snap_after >= 0) ||
        !(p->rise_db >= 0) || p->lookahead < 1)
        { ic_error_set(err, IC_ERR_ARG, "notes: bad parameters"); return NULL; }
    ic_notes *n = calloc(1, sizeof *n);
    if (!n) { ic_error_set(err, IC_ERR_NOMEM, "notes: out of memory"); return NULL; }
    n->p = *p;
    n->snap_before = (int)lround(p->snap_before / p->hop_s);
    n->snap_after = (int)lround(p->snap_after / p->hop_s);
    n->lookahead = p->lookahead > n->snap_after ? p->lookahead : n->snap_after;
    n->gap_frames = (int)ceil(p->gap_s / p->hop_s - 1e-9);
    if (n->gap_frames < 1) n->gap_frames = 1;
    n->attack_frames = (int)lround(p->attack_s / p->hop_s);
    if (n->snap_before + BACKTRACK + RISE_BACK + n->lookahead + PEAK_AHEAD + 2 > RING) {
        ic_error_set(err, IC_ERR_ARG, "notes: onset window and look-ahead too long for the hop");
        free(n);
        return NULL;
    }
    n->gate_rms = pow(10.0, p->gate_db / 20.0);
    n->two_pi = 6.283185307179586476925286766559;
    n->prev_onset = -1;
    return n;
}

static const ic_note_frame *fr(const ic_notes *n, long long i) { return &n->ring[i % RING]; }

static int voiced(const ic_notes *n, const ic_note_frame *f) {
    return f->f0 > 0 && f->periodicity >= n->p.min_periodicity && f->rms >= n->gate_rms;
}

static double midi_of(const ic_notes *n, const ic_note_frame *f) { return ic_hz_to_midi(f->f0, n->p.a4); }

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* 1 when frames t..t+lookahead-1 (those that exist) are all voiced with a spread of
 * at most STABLE_SPREAD semitones; *med gets their median. */
static int steady(const ic_notes *n, long long t, double *med) {
    float v[RING];
    int k = 0;
    for (long long i = t; i < t + n->lookahead && i < n->n_in; i++) {
        if (!voiced(n, fr(n, i))) return 0;
        v[k++] = (float)midi_of(n, fr(n, i));
    }
    if (k == 0) return 0;
    qsort(v, (size_t)k, sizeof *v, cmp_float);
    if (v[k - 1] - v[0] > STABLE_SPREAD) return 0;
    *med = k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
    return 1;
}

/* Level rise around frame t, dB: the loudest of t..t+lookahead over the quietest of
 * the RISE_BACK frames before t. */
static double rise_db(const ic_notes *n, long long t) {
    float lo = INFINITY, hi = 0;
    for (long long i = t - RISE_BACK; i < t; i++) if (i >= 0 && i >= n->n_in - RING && fr(n, i)->rms < lo) lo = fr(n, i)->rms;
    for (long long i = t; i <= t + n->lookahead && i < n->n_in; i++) if (fr(n, i)->rms > hi) hi = fr(n, i)->rms;
    if (!(lo < INFINITY) || hi <= 0) return 0;
    return 20.0 * log10(hi / (lo > 1e-9f ? lo : 1e-9f));
}

static int queue_push(ic_notes *n, const ic_note *x) {
    if (n->q_head == n->q_len) n->q_head = n->q_len = 0;
    if (n->q_len == n->q_cap) {
        if (n->q_head > 0) {
            memmove(n->q, n->q + n->q_head, (n->q_len - n->q_head) * sizeof *n->q);
            n->q_len -= n->q_head;
            n->q_head = 0;
        }
        if (n->q_len == n->q_cap) {
            size_t cap = n->q_cap ? 2 * n->q_cap : 16;
            ic_note *q = realloc(n->q, cap * sizeof *q);
            if (!q) return -1;
            n->q = q;
            n->q_cap = cap;
        }
    }
    n->q[n->q_len++] = *x;
    return 0;
}

static int add_val(ic_notes *n, double midi, float weight, float rms) {
    if (n->n_vals == n->cap_vals) {
        size_t cap = n->cap_vals ? 2 * n->cap_vals : 256;
        val *v = realloc(n->vals, cap * sizeof *v);
        if (!v) return -1;
        n->vals = v;
        float *s = realloc(n->scratch, cap * sizeof *s);
        if (!s) return -1;
        n->scratch = s;
        n->cap_vals = cap;
    }
    n->vals[n->n_vals].midi = (float)midi;
    n->vals[n->n_vals].weight = weight;
    n->n_vals++;
    if (rms > n->peak_rms) n->peak_rms = rms;
    return 0;
}

/* Median MIDI value of vals[from..n_vals). */
static double median_from(ic_notes *n, size_t from) {
    size_t k = n->n_vals - from;
    IC_ASSERT(k > 0);
    for (size_t i = 0; i < k; i++) n->scratch[i] = n->vals[from + i].midi;
    qsort(n->scratch, k, sizeof *n->scratch, cmp_float);
    return k % 2 ? n->scratch[k / 2] : 0.5 * (n->scratch[k / 2 - 1] + n->scratch[k / 2]);
}

/* Closes the note in progress at `offset` (s); keeps it when long enough. */
static int end_note(ic_notes *n, double offset) {
    n->in_note = 0;
    if (n->n_vals == 0 || offset - n->onset_time < n->p.min_note_s) { n->n_vals = 0; return 0; }
    size_t from = n->n_vals > (size_t)(2 * n->attack_frames) ? (size_t)n->attack_frames : 0;
    double med = median_from(n, from);
    int midi = (int)lround(med);
    double sum = 0, wsum = 0, per = 0;
    for (size_t i = from; i < n->n_vals; i++) {
        double v = n->vals[i].midi, w = n->vals[i].weight;
        per += w;
        if (fabs(v - med) > CENTS_WINDOW / 100.0 || fabs(v - midi) >= 0.5) continue;
        sum += v - midi;
        wsum += 1;
        n->tc += w * cos(n->two_pi * v);
        n->ts += w * sin(n->two_pi * v);
        n->tw += w;
    }
    ic_note x;
    memset(&x, 0, sizeof x);
    x.onset = n->onset_time;
    x.offset = offset;
    x.midi = midi < 0 ? 0 : midi > 127 ? 127 : midi;
    x.cents = (float)(wsum > 0 ? 100.0 * sum / wsum : 100.0 * (med - midi));
    x.f0 = (float)ic_midi_to_hz(med, n->p.a4);
    x.periodicity = (float)(per / (double)(n->n_vals - from));
    double db = 20.0 * log10((double)n->peak_rms * sqrt(2.0) + 1e-12);
    x.level_db = (float)db;
    long vel = lround(127.0 * pow(10.0, db / 40.0));
    x.velocity = (int)(vel < 1 ? 1 : vel > 127 ? 127 : vel);
    n->prev_onset = x.onset;
    n->n_vals = 0;
    return queue_push(n, &x);
}

/* Onset time for a note starting at frame t.  First the nearest detected onset within
 * the snap window and after the previous note's onset (else frame t); then, since an
 * onset-strength peak marks the steepest rise rather than its start (tens of ms late
 * for bowed and blown attacks), back to the level minimum before it and forward to
 * where the energy has risen by RISE_FRACTION of the way to the peak that follows. */
static double snap_onset(const ic_notes *n, long long t) {
    long long best = -1, oldest = n->n_in - RING > 0 ? n->n_in - RING : 0;
    for (long long i = t - n->snap_before; i <= t + n->snap_after && i < n->n_in; i++) {
        if (i < oldest || !fr(n, i)->onset) continue;
        if (n->prev_onset >= 0 && fr(n, i)->time <= n->prev_onset) continue;
        if (best < 0 || llabs(i - t) < llabs(best - t)) best = i;
    }
    long long i = best >= 0 ? best : t, j = i;
    while (j > i - BACKTRACK && j - 1 >= oldest && fr(n, j - 1)->rms <= fr(n, j)->rms &&
           !(n->prev_onset >= 0 && fr(n, j - 1)->time <= n->prev_onset))
        j--;
    double e0 = (double)fr(n, j)->rms * fr(n, j)->rms, e1 = e0;
    for (long long k = i; k <= i + PEAK_AHEAD && k < n->n_in; k++)
        if ((double)fr(n, k)->rms * fr(n, k)->rms > e1) e1 = (double)fr(n, k)->rms * fr(n, k)->rms;
    long long k = j;
    while (k < i && (double)fr(n, k)->rms * fr(n, k)->rms < e0 + RISE_FRACTION * (e1 - e0)) k++;
    return fr(n, k)->time;
}

static void start_note(ic_notes *n, long long t, double onset, double med) {
    n->in_note = 1;
    n->start = t;
    n->onset_time = onset;
    n->prev_onset = onset;
    n->unvoiced_run = 0;
    n->ref = med;
    n->peak_rms = 0;
    n->n_vals = 0;
}

/* Ends the note in progress at frame t's onset and starts the next one there. */
static int next_note(ic_notes *n, long long t, double med) {
    double onset = snap_onset(n, t);
    if (end_note(n, onset)) return -1;
    start_note(n, t, onset, med);
    const ic_note_frame *f = fr(n, t);
    return add_val(n, midi_of(n, f), f->periodicity, f->rms);
}

/* 1 when an onset was detected in the snap window around t. */
static int onset_near(const ic_notes *n, long long t) {
    for (long long i = t - n->snap_before; i <= t + n->snap_after && i < n->n_in; i++)
        if (i >= 0 && i >= n->n_in - RING && fr(n, i)->onset && !(n->prev_onset >= 0 && fr(n, i)->time <= n->prev_onset))
            return 1;
    return 0;
}

/* Decides frame t.  A jump by an octave with no onset near it is the pitch tracker
 * changing its mind (attacks of tones with weak odd harmonics read an octave high
 * until they settle), not a new note: the frames stay in the note and its median
 * decides. */
static int decide(ic_notes *n, long long t) {
    const ic_note_frame *f = fr(n, t);
    double med;
    if (!n->in_note) {
        if (voiced(n, f) && steady(n, t, &med)) {
            start_note(n, t, snap_onset(n, t), med);
            return add_val(n, midi_of(n, f), f->periodicity, f->rms);
        }
        return 0;
    }
    if (!voiced(n, f)) {
        if (++n->unvoiced_run >= n->gap_frames) return end_note(n, fr(n, t - n->unvoiced_run + 1)->time);
        return 0;
    }
    n->unvoiced_run = 0;
    double m = midi_of(n, f);
    if (fabs(m - n->ref) >= n->p.change && steady(n, t, &med) && fabs(med - n->ref) >= n->p.change &&
        !(fabs(fabs(med - n->ref) - 12.0) < OCTAVE_TOL && !onset_near(n, t)))
        return next_note(n, t, med);                       /* a new pitch */
    int old_enough = (double)(t - n->start) * n->p.hop_s >= n->p.min_note_s;
    if (f->onset && old_enough && steady(n, t, &med) && fabs(med - n->ref) < n->p.change &&
        rise_db(n, t) >= n->p.rise_db)
        return next_note(n, t, med);                       /* the same pitch again */
    if (add_val(n, m, f->periodicity, f->rms)) return -1;
    /* the reference follows the note (slow glides, a first estimate from few frames) */
    if (n->n_vals % REF_EVERY == 0) {
        size_t from = n->n_vals > (size_t)(2 * n->attack_frames) ? (size_t)n->attack_frames : 0;
        n->ref = median_from(n, from);
    }
    return 0;
}

ic_status ic_notes_add(ic_notes *n, const ic_note_frame *f, ic_error *err) {
    IC_ASSERT(!n->finished && f->index == n->n_in);
    n->ring[n->n_in % RING] = *f;
    n->n_in++;
    while (n->t + n->lookahead < n->n_in)
        if (decide(n, n->t++)) return ic_error_set(err, IC_ERR_NOMEM, "notes: out of memory");
    return IC_OK;
}

ic_status ic_notes_finish(ic_notes *n, ic_error *err) {
    if (n->finished) return IC_OK;
    n->finished = 1;
    while (n->t < n->n_in)
        if (decide(n, n->t++)) return ic_error_set(err, IC_ERR_NOMEM, "notes: out of memory");
    if (n->in_note) {
        /* the last frame's time plus one hop: the note lasts to the end of the input */
        double end = n->n_in > 0 ? fr(n, n->n_in - 1)->time + n->p.hop_s : 0;
        if (n->unvoiced_run > 0) end = fr(n, n->n_in - n->unvoiced_run)->time;
        if (end_note(n, end)) return ic_error_set(err, IC_ERR_NOMEM, "notes: out of memory");
    }
    return IC_OK;
}

int ic_notes_pop(ic_notes *n, ic_note *out) {
    if (n->q_head == n->q_len) return 0;
    *out = n->q[n->q_head++];
    return 1;
}

double ic_notes_tuning(const ic_notes *n, double *a4_hz, double *offset_cents) {
    double off = 0;
    if (n->tw > 0 && (n->tc != 0 || n->ts != 0)) off = 100.0 * atan2(n->ts, n->tc) / n->two_pi;
    if (off >= 50.0) off -= 100.0;
    if (offset_cents) *offset_cents = off;
    if (a4_hz) *a4_hz = n->p.a4 * exp2(off / 1200.0);
    return n->tw;
}
