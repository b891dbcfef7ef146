/* Tempo and beats from an onset-strength envelope (onset.h), and a steadiness figure
 * for practice feedback.
 *
 *   1. Tempo candidates: autocorrelation of the mean-removed envelope over lags of
 *      min_bpm..max_bpm, weighted by a log-normal prior (prior_bpm, prior_octaves);
 *      its best peak P, and P/2, 2P, 2P/3 and 3P/2 where they are in range.
 *   2. Beats for each candidate by dynamic programming (Ellis 2007):
 *        score(t) = local(t) + max_{t-2P <= s <= t-P/2} [score(s) - tightness log^2((t-s)/P)]
 *      with local = the envelope smoothed by a Gaussian of P/32, then backtracking
 *      from the best late beat.
 *   3. The metrical level: another candidate replaces P when its beats match the
 *      onsets clearly better (F-measure of "onsets on a beat" and "beats with an
 *      onset", within 15% of the period; by 0.03 or more).  The onsets are the notes'
 *      (ic_tempo_add_note, from the note segmenter: cleaner) when there are some, else
 *      the detected onsets weighted by strength.  BPM is refined by a least-squares
 *      line through the beats when it agrees with the period within 2%.
 *
 * Block by block: envelope values are appended as they come (ic_tempo_add); a running
 * estimate over the last seconds is available at any time (ic_tempo_current); beats
 * need the whole envelope (ic_tempo_finish).  Memory: one float and one flag per
 * frame.  Not here: the envelope itself (onset.h), note onsets (notes.h). */
#ifndef IC_TEMPO_H
#define IC_TEMPO_H
#include <stddef.h>
#include "ic/error.h"

typedef struct {
    double frame_rate;     /* envelope frames per second */
    double min_bpm, max_bpm;   /* default 40, 240 */
    double prior_bpm;      /* default 110 */
    double prior_octaves;  /* default 1.0 */
    double tightness;      /* default 100 */
    double window_s;       /* span of ic_tempo_current's estimate (default 8) */
} ic_tempo_params;

typedef struct {
    double bpm;            /* 0 when no tempo was found (too short, no onsets) */
    double confidence;     /* 0..1: F-measure of beats against onsets */
    const double *beats;   /* (n_beats) beat times, s; owned by the tracker */
    size_t n_beats;
} ic_tempo_result;

typedef struct ic_tempo ic_tempo;

void ic_tempo_defaults(ic_tempo_params *p, double frame_rate);
ic_tempo *ic_tempo_new(const ic_tempo_params *p, ic_error *err);
void ic_tempo_free(ic_tempo *t);
/* Appends one envelope value (frame k = the k-th call, time k / frame_rate) and
 * whether an onset was detected there.  IC_ERR_NOMEM only. */
ic_status ic_tempo_add(ic_tempo *t, float strength, int onset, ic_error *err);
/* Marks the onset of a note (s; any order).  IC_ERR_NOMEM only. */
ic_status ic_tempo_add_note(ic_tempo *t, double onset_s, ic_error *err);
/* BPM of the last window_s, estimated as ic_tempo_finish does (0 when there is not enough). */
double ic_tempo_current(const ic_tempo *t);
/* Tempo and beats of everything added.  r->beats stays valid until ic_tempo_free. */
ic_status ic_tempo_finish(ic_tempo *t, ic_tempo_result *r, ic_error *err);

/* ---- steadiness ---- */

typedef struct {
    size_t n_intervals;    /* inter-onset intervals used */
    double ioi_mean_ms, ioi_std_ms, ioi_cv;  /* raw spread of the intervals */
    double timing_ms;      /* RMS deviation of each interval from the nearest musical
                              value (1/4, 1/3, 1/2, 2/3, 3/4, 1, 3/2, 2, 3, 4 beats) */
} ic_steadiness;

/* Steadiness of onsets (n, s, ascending) at bpm (> 0, else only the raw spread).
 * Intervals longer than 4 beats (or 4 s without a tempo) are pauses and left out. */
void ic_tempo_steadiness(const double *onsets, size_t n, double bpm, ic_steadiness *s);

#endif
