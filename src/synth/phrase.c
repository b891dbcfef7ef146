/* Phrase generation for --mode phrases: short seeded musical figures that look more
 * like real playing than one held note: melodic lines, staccato lines, repeated notes,
 * arpeggios, and block or strummed chords for the families that play chords.  Pitches
 * come from a random scale and stay inside the family's range; tempo, loudness level
 * and contour vary per phrase.  Pure data: no audio, no fluidsynth. */
#include "ic/synth.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MIN_STEP 0.1        /* shortest grid step, s: at most 10 onsets per second */
#define TAIL 0.4            /* no onset in the last TAIL seconds */
#define SAME_PITCH_GAP 0.01 /* key up at least this long before the same key goes down again */

static const char *const STYLE[IC_PHRASE_N_STYLES] = {"melody", "staccato", "repeated", "arpeggio", "chords"};

const char *ic_phrase_style_name(int style) {
    return style >= 0 && style < IC_PHRASE_N_STYLES ? STYLE[style] : NULL;
}

typedef struct { int n; int iv[7]; } scale;
static const scale SCALES[] = {
    {7, {0, 2, 4, 5, 7, 9, 11}},   /* major */
    {7, {0, 2, 3, 5, 7, 8, 10}},   /* natural minor */
    {7, {0, 2, 3, 5, 7, 8, 11}},   /* harmonic minor */
    {7, {0, 2, 3, 5, 7, 9, 10}},   /* dorian */
    {5, {0, 2, 4, 7, 9, 0, 0}},    /* major pentatonic */
    {5, {0, 3, 5, 7, 10, 0, 0}},   /* minor pentatonic */
};

/* Generation state: the scale's pitches inside the range and the level contour. */
typedef struct {
    ic_rng *r;
    ic_phrase *p;
    int sp[128], nsp;        /* scale pitches within [lo, hi], ascending */
    int deg;                 /* scale degrees per octave */
    int wlo, whi;            /* register window: indices into sp */
    double seconds, tmax;    /* clip length; last allowed onset */
    double level, slope;     /* velocity at t=0 and its change per second */
    double beat;             /* s */
} gen;

static double uni(ic_rng *r) { return (double)ic_rng_uniform(r); }
static int pick(ic_rng *r, int n) { return (int)ic_rng_below(r, (uint64_t)n); }
static double ms(double t) { return floor(t * 1000.0 + 0.5) / 1000.0; }

/* Index drawn with the given integer weights. */
static int weighted(ic_rng *r, const int *w, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) total += w[i];
    int x = pick(r, total);
    for (int i = 0; i < n; i++) { if (x < w[i]) return i; x -= w[i]; }
    return n - 1;
}

static int velocity_at(gen *g, double t, int accent) {
    double v = g->level + g->slope * t + (accent ? 8 : 0) + (uni(g->r) * 12.0 - 6.0);
    int iv = (int)lrint(v);
    return iv < 20 ? 20 : iv > 127 ? 127 : iv;
}

static void add(gen *g, double on, double off, int pitch, int vel) {
    ic_phrase *p = g->p;
    if (p->n >= IC_PHRASE_MAX_NOTES || on > g->tmax) return;
    if (off > g->seconds) off = g->seconds;
    if (off < on + 0.03) off = on + 0.03;
    p->note[p->n++] = (ic_phrase_note){(float)ms(on), (float)ms(off), pitch, vel};
}

/* Moves index i by delta, reflecting at the register window edges. */
static int walk(const gen *g, int i, int delta) {
    i += delta;
    for (int k = 0; k < 4 && (i < g->wlo || i > g->whi); k++) {
        if (i < g->wlo) i = 2 * g->wlo - i;
        if (i > g->whi) i = 2 * g->whi - i;
    }
    return i < g->wlo ? g->wlo : i > g->whi ? g->whi : i;
}

/* Melodic motion in scale steps and its weights: mostly steps, some leaps. */
static const int STEP_DELTA[9] = {-4, -3, -2, -1, 0, 1, 2, 3, 4};
static const int STEP_W[9] = {1, 1, 3, 6, 1, 6, 3, 1, 1};
/* Note lengths of 1, 2, 3, 4 grid steps: lines and staccato lines. */
static const int LEN_W[4] = {4, 4, 2, 2};
static const int STAC_LEN_W[4] = {6, 3, 1, 0};
static const int REPEAT_MOVE[5] = {-2, -1, 0, 1, 2};
static const int ARP_PATTERN_W[3] = {3, 2, 3};          /* up, down, up-down */
static const double CHORD_BEATS[5] = {1, 2, 2, 4, 0.5};
static const int STYLE_W_CHORDAL[IC_PHRASE_N_STYLES] = {3, 2, 2, 2, 4};
static const int STYLE_W_SINGLE[IC_PHRASE_N_STYLES] = {4, 3, 2, 1, 0};

static int melodic_step(ic_rng *r) { return STEP_DELTA[weighted(r, STEP_W, 9)]; }

static void line(gen *g, double t, double step, int staccato) {
    double art = staccato ? 0.25 + 0.2 * uni(g->r) : 0.75 + 0.23 * uni(g->r);
    int i = g->wlo + pick(g->r, g->whi - g->wlo + 1);
    int k = 0;
    while (t <= g->tmax) {
        int len = 1 + weighted(g->r, staccato ? STAC_LEN_W : LEN_W, 4);
        double dur = len * step;
        if (k > 0 && pick(g->r, 10) == 0) { t += dur; continue; }   /* a rest */
        double hold = staccato ? fmax(0.04, fmin(dur * art, 0.2)) : dur * art;
        add(g, t, t + hold, g->sp[i], velocity_at(g, t, fmod(t, g->beat) < 1e-6));
        i = walk(g, i, melodic_step(g->r));
        t += dur;
        k++;
    }
}

static void repeated(gen *g, double t, double step) {
    double art = pick(g->r, 2) ? 0.3 + 0.2 * uni(g->r) : 0.7 + 0.2 * uni(g->r);
    int i = g->wlo + pick(g->r, g->whi - g->wlo + 1);
    while (t <= g->tmax) {
        int run = 3 + pick(g->r, 6);
        for (int k = 0; k < run && t <= g->tmax; k++, t += step)
            add(g, t, t + fmax(0.04, step * art), g->sp[i], velocity_at(g, t, k == 0));
        i = walk(g, i, REPEAT_MOVE[pick(g->r, 5)]);
    }
}

/* Chord tones as scale indices: root, third, fifth and maybe the seventh. */
static int chord_tones(gen *g, int root, int seventh, int *idx) {
    int n = 0;
    for (int k = 0; k < (seventh ? 4 : 3); k++) {
        int j = root + 2 * k;
        while (j > g->nsp - 1) j -= g->deg;        /* fold down by octaves into the range */
        if (j >= 0) idx[n++] = j;
    }
    return n;
}

static int chord_root(gen *g) {
    /* roots low in the window so the stacked tones stay near it */
    int span = g->whi - g->wlo + 1;
    return g->wlo + pick(g->r, span > 4 ? span - 4 : 1);
}

static void arpeggio(gen *g, double t, double step, int ring) {
    int pat = weighted(g->r, ARP_PATTERN_W, 3);
    while (t <= g->tmax) {
        int idx[4], n = chord_tones(g, chord_root(g), pick(g->r, 3) == 0, idx);
        int reps = 1 + pick(g->r, 2);
        for (int rep = 0; rep < reps; rep++) {
            int order[8], m = 0;
            for (int k = 0; k < n; k++) order[m++] = pat == 1 ? idx[n - 1 - k] : idx[k];
            if (pat == 2) for (int k = n - 2; k > 0; k--) order[m++] = idx[k];
            for (int k = 0; k < m && t <= g->tmax; k++, t += step) {
                double hold = ring ? step * (1 + pick(g->r, 3)) : step * 0.9;
                add(g, t, t + hold, g->sp[order[k]], velocity_at(g, t, k == 0));
            }
        }
    }
}

static void chords(gen *g, double t, int strum) {
    double art = pick(g->r, 3) == 0 ? 0.3 : 0.95;
    double len = CHORD_BEATS[pick(g->r, g->beat >= 0.5 ? 5 : 4)] * g->beat;
    int down = pick(g->r, 2);
    while (t <= g->tmax) {
        int idx[4], n = chord_tones(g, chord_root(g), pick(g->r, 3) == 0, idx);
        double gap = strum ? 0.01 + 0.02 * uni(g->r) : 0;
        for (int k = 0; k < n; k++) {
            int kk = down ? k : n - 1 - k;
            double on = t + gap * k;
            add(g, on, t + len * art, g->sp[idx[kk]], velocity_at(g, on, 1));
        }
        t += len;
    }
}

static int cmp_note(const void *a, const void *b) {
    const ic_phrase_note *x = a, *y = b;
    if (x->onset != y->onset) return x->onset < y->onset ? -1 : 1;
    return x->pitch - y->pitch;
}

/* Sorts, drops a second note of one pitch at one onset, and ends each note before
 * the next onset of its pitch. */
static void tidy(ic_phrase *p) {
    qsort(p->note, (size_t)p->n, sizeof *p->note, cmp_note);
    int m = 0;
    for (int i = 0; i < p->n; i++) {
        if (m > 0 && p->note[m - 1].onset == p->note[i].onset && p->note[m - 1].pitch == p->note[i].pitch) continue;
        p->note[m++] = p->note[i];
    }
    p->n = m;
    for (int i = 0; i < p->n; i++)
        for (int j = i + 1; j < p->n; j++) {
            if (p->note[j].pitch != p->note[i].pitch) continue;
            float limit = (float)ms(p->note[j].onset - SAME_PITCH_GAP);
            if (p->note[i].offset > limit) p->note[i].offset = limit;
            break;
        }
}

void ic_phrase_generate(ic_rng *r, int family, double seconds, ic_phrase *p) {
    IC_ASSERT(ic_synth_family_name(family) && seconds > 1.0);
    memset(p, 0, sizeof *p);
    gen g;
    memset(&g, 0, sizeof g);
    g.r = r;
    g.p = p;
    g.seconds = seconds;
    g.tmax = seconds - TAIL;
    int lo, hi;
    ic_synth_family_range(family, &lo, &hi);
    int chordal = ic_synth_family_chords(family);

    p->style = weighted(r, chordal ? STYLE_W_CHORDAL : STYLE_W_SINGLE, IC_PHRASE_N_STYLES);
    p->tempo = (float)(60.0 + 120.0 * uni(r));
    g.beat = 60.0 / p->tempo;

    const scale *sc = &SCALES[pick(r, (int)(sizeof SCALES / sizeof *SCALES))];
    int tonic = pick(r, 12);
    g.deg = sc->n;
    for (int m = lo; m <= hi; m++)
        for (int k = 0; k < sc->n; k++)
            if ((m - tonic + 120) % 12 == sc->iv[k]) { g.sp[g.nsp++] = m; break; }
    IC_ASSERT(g.nsp >= 2 * g.deg);
    /* register: a window of about an octave and a half somewhere in the range */
    int width = g.deg + g.deg / 2;
    int c = pick(r, g.nsp);
    g.wlo = c - width / 2;
    if (g.wlo < 0) g.wlo = 0;
    g.whi = g.wlo + width;
    if (g.whi > g.nsp - 1) { g.whi = g.nsp - 1; g.wlo = g.whi - width; }

    g.level = 30 + 85 * uni(r);
    int contour = pick(r, 3);           /* flat, crescendo, decrescendo */
    g.slope = contour == 0 ? 0 : (contour == 1 ? 1 : -1) * (15 + 15 * uni(r)) / seconds;
    if (contour == 1) g.level -= 10;
    if (contour == 2) g.level += 10;

    int subs[4], ns = 0;                /* subdivisions of the beat no faster than MIN_STEP */
    for (int s = 1; s <= 4; s++) if (g.beat / s >= MIN_STEP) subs[ns++] = s;
    double step = g.beat / subs[pick(r, ns)];
    double t0 = pick(r, 2) ? 0.0 : ms(0.3 * uni(r));

    switch (p->style) {
    case IC_PHRASE_MELODY: line(&g, t0, step, 0); break;
    case IC_PHRASE_STACCATO: line(&g, t0, step, 1); break;
    case IC_PHRASE_REPEATED: repeated(&g, t0, step); break;
    case IC_PHRASE_ARPEGGIO: arpeggio(&g, t0, step, chordal); break;
    default: chords(&g, t0, family == 3 ? pick(r, 10) < 7 : pick(r, 10) < 2); break;
    }
    tidy(p);
    IC_ASSERT(p->n > 0);
}

void ic_phrase_first(const ic_phrase *p, int *pitch, int *velocity) {
    IC_ASSERT(p->n > 0);
    int best = 0;
    for (int i = 1; i < p->n && p->note[i].onset == p->note[0].onset; i++)
        if (p->note[i].pitch < p->note[best].pitch) best = i;
    *pitch = p->note[best].pitch;
    *velocity = p->note[best].velocity;
}
