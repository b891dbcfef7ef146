/* Monophonic pitch tracking, block by block: probabilistic YIN (pYIN, Mauch & Dixon
 * 2014) with fixed-lag Viterbi smoothing.
 *
 *   1. Every hop, YIN's cumulative mean normalised difference d'(tau) of one frame
 *      (difference function through an FFT correlation).
 *   2. pYIN candidates: every local minimum of d' takes the probability of the
 *      thresholds (Beta prior over 0.01..1) for which it is the first minimum below
 *      the threshold; the rest is the probability of "unvoiced".  Each candidate's lag
 *      is refined by parabolic interpolation, so f0 is not quantised.
 *   3. An HMM over pitch bins (20 cents) plus one unvoiced state: small steps to
 *      neighbouring bins, rare jumps anywhere (a new note), rare voicing changes.
 *      Octave errors of single frames cost two jumps, so the path keeps to the
 *      sustained pitch.  Viterbi decisions are taken `lag` frames late (fixed-lag
 *      smoothing): latency is bounded, memory is flat.
 *   4. The frame's f0 is the candidate nearest to the decoded bin.
 *
 * Frame k belongs to sample k*hop: its integration window (W samples) is centred there
 * and the lags reach tau_max samples further.  Not here: note segmentation (notes.h),
 * onsets (onset.h). */
#ifndef IC_PITCH_H
#define IC_PITCH_H
#include <stddef.h>
#include "ic/error.h"

typedef struct {
    int rate;             /* sample rate of the input, Hz */
    double fmin, fmax;    /* f0 search range, Hz (default 40 .. 2100, at most rate/4) */
    double hop_s;         /* hop, s (default 0.01) */
    double window_s;      /* YIN integration window W, s (default 0.046) */
    double beta_a, beta_b;/* Beta prior over the thresholds (default 2, 11.3: mean 0.15) */
    double silence_db;    /* frames with RMS below this (dBFS) are unvoiced (default -60) */
    double unvoiced_weight;/* emission of the unvoiced state = (1 - voicing) * this (default 0.1) */
    double p_jump;        /* per frame: jump to any pitch bin (default 0.01) */
    double p_switch;      /* per frame: voiced <-> unvoiced (default 0.01) */
    int lag;              /* Viterbi decision lag, frames (default 24) */
} ic_pitch_params;

/* One decoded frame. */
typedef struct {
    long long index;      /* frame k, belongs to sample k*hop */
    double time;          /* k * hop / rate, s */
    float f0;             /* Hz on the smoothed path; 0 when unvoiced */
    float voicing;        /* pYIN probability that the frame is periodic (0..1) */
    float periodicity;    /* 1 - d'(tau) at the chosen lag (0 when unvoiced) */
    float rms;            /* RMS of the integration window */
} ic_pitch_frame;

typedef struct ic_pitch ic_pitch;

/* Defaults for input at `rate` Hz. */
void ic_pitch_defaults(ic_pitch_params *p, int rate);
/* Validates p (rate 4000..192000, 20 <= fmin < fmax <= rate/4, the window at least one
 * period of fmin, HMM probabilities in range).  NULL + err on bad parameters or no memory. */
ic_pitch *ic_pitch_new(const ic_pitch_params *p, ic_error *err);
void ic_pitch_free(ic_pitch *t);
/* Hop in samples. */
size_t ic_pitch_hop(const ic_pitch *t);

/* Feeds n samples (any block size; not after ic_pitch_finish).  Decoded frames queue
 * up for ic_pitch_pop.  IC_ERR_NOMEM is the only failure. */
ic_status ic_pitch_process(ic_pitch *t, const float *x, size_t n, ic_error *err);
/* Ends the input: the last frames are analysed (zero padded) and decoded. */
ic_status ic_pitch_finish(ic_pitch *t, ic_error *err);
/* Next decoded frame in time order: 1, or 0 when none is ready. */
int ic_pitch_pop(ic_pitch *t, ic_pitch_frame *f);

/* ---- the pieces, for tests and other users ---- */

/* Frame length the tracker analyses: W + tau_max samples. */
size_t ic_pitch_frame_len(const ic_pitch *t);
/* Largest lag tau_max. */
size_t ic_pitch_tau_max(const ic_pitch *t);
/* d'(tau) for tau = 0..tau_max of one frame through the FFT path.
 * x: (ic_pitch_frame_len) samples, d: (tau_max + 1).  Uses t's scratch. */
void ic_pitch_cmnd(ic_pitch *t, const float *x, float *d);
/* Same by the definition, O(W tau_max), in double:
 * d(tau) = sum_{j<W} (x_j - x_{j+tau})^2, d'(0) = 1, d'(tau) = d(tau) tau / sum_{1..tau} d.
 * x: (W + tau_max), d: (tau_max + 1).  A silent frame gives d' = 1 everywhere. */
void ic_yin_cmnd_naive(const float *x, size_t W, size_t tau_max, float *d);

/* 69 + 12 log2(hz / a4): MIDI number as a real (hz > 0). */
double ic_hz_to_midi(double hz, double a4);
/* a4 * 2^((midi - 69) / 12). */
double ic_midi_to_hz(double midi, double a4);

#endif
