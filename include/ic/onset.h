/* Onset detection, block by block: a spectral-flux onset-strength envelope and peak
 * picking on it.
 *
 * Envelope (SuperFlux, Boeck & Widmer 2013, without the filterbank): every hop, the
 * Hann-windowed magnitude spectrum, log-compressed L = log(1 + gamma |X|) with |X|
 * scaled so a full-scale sine peaks at 1; the flux at frame k is the mean over bins
 * (up to fmax) of max(0, L_k[b] - max(L_{k-1}[b-1..b+1])): the maximum filter over
 * frequency keeps vibrato from reading as onsets.
 * Peaks: frame k is an onset when its value is the largest within -pre_max..+post
 * frames, exceeds the mean over -pre_avg..+post frames by `delta` and the decaying
 * running maximum by the factor `rel`, and follows the previous onset by min_gap.
 * Frames leave the detector `post` frames late (bounded latency).
 *
 * Frame k belongs to sample k*hop (window centred there), as in pitch.h, so the two
 * trackers' frames line up when they share the hop.  Not here: tempo (tempo.h). */
#ifndef IC_ONSET_H
#define IC_ONSET_H
#include <stddef.h>
#include "ic/error.h"

typedef struct {
    int rate;            /* Hz */
    double hop_s;        /* s (default 0.01, as pitch.h) */
    double window_s;     /* window length, s: n_fft is the nearest power of two (default 0.046) */
    double fmax;         /* highest frequency used, Hz (default 8000, capped at rate/2) */
    double gamma;        /* log compression (default 100) */
    double delta;        /* peak must exceed the local mean by this (default 0.005) */
    double rel;          /* ... and this fraction of the decaying maximum (default 0.05) */
    double min_gap_s;    /* shortest time between onsets (default 0.05) */
    double silence_db;   /* flux of frames quieter than this (dBFS) is 0 (default -55) */
} ic_onset_params;

typedef struct {
    long long index;     /* frame k, belongs to sample k*hop */
    double time;         /* k * hop / rate, s */
    float strength;      /* onset-strength envelope value */
    int onset;           /* 1 when frame k is an onset */
    float level_db;      /* frame RMS in dBFS (window-weighted) */
} ic_onset_frame;

typedef struct ic_onset ic_onset;

void ic_onset_defaults(ic_onset_params *p, int rate);
/* NULL + err on bad parameters or no memory. */
ic_onset *ic_onset_new(const ic_onset_params *p, ic_error *err);
void ic_onset_free(ic_onset *o);
size_t ic_onset_hop(const ic_onset *o);
size_t ic_onset_fft_size(const ic_onset *o);

/* Feeds n samples (not after ic_onset_finish); finished frames queue up for
 * ic_onset_pop.  IC_ERR_NOMEM only. */
ic_status ic_onset_process(ic_onset *o, const float *x, size_t n, ic_error *err);
/* Ends the input and releases the last frames. */
ic_status ic_onset_finish(ic_onset *o, ic_error *err);
/* Next frame in time order: 1, or 0 when none is ready. */
int ic_onset_pop(ic_onset *o, ic_onset_frame *f);

#endif
