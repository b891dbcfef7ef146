/* Note segmentation, frame by frame: turns the pitch track (pitch.h) and the onsets
 * (onset.h) of one monophonic line into notes with onset, offset, MIDI number, cents,
 * velocity; and estimates the tuning (reference A4) from every voiced frame.
 *
 * A frame is voiced when the pitch tracker gives an f0, its periodicity is at least
 * min_periodicity and its level is above the gate.  A note starts where voiced frames
 * with a steady pitch begin; it ends where `gap_s` of unvoiced frames begin, where the
 * pitch moves by at least `change` semitones and stays there (the next note starts),
 * or where an onset with a rise in level of rise_db re-articulates the same pitch
 * (repeated notes).  A jump by an octave with no onset near it is not a new note (the
 * pitch tracker settling on an attack), the note's median decides.  Notes shorter than
 * min_note_s are dropped.
 * Onset of a note: the nearest detected onset within -snap_before .. +snap_after s of
 * where the pitch says it starts, moved back to the level minimum before it and then
 * forward to where the energy has risen by 3% of the way to its peak (an onset
 * strength peak marks the steepest rise, tens of ms late for blown and bowed attacks).
 * Pitch of a note: the median of its frames' MIDI values (the first attack_s left out
 * when the note is long enough), rounded; cents: mean deviation from that equal-
 * tempered note of the frames within 30 cents of the median (a trimmed mean: glides
 * into the next note do not bias it, vibrato is symmetric).  Velocity: from the note's
 * peak level, velocity = 127 * 10^(dB/40) (MIDI's usual square law), dB of the peak
 * RMS relative to a full-scale sine.
 * Tuning: circular mean of the cents deviation of the same frames of every kept note,
 * weighted by periodicity: the reference A4 within +-50 cents of `a4`.
 *
 * Latency: a note leaves when it ends plus `lookahead` frames.  Not here: the trackers
 * themselves, the wiring (transcribe.h). */
#ifndef IC_NOTES_H
#define IC_NOTES_H
#include <stddef.h>
#include "ic/error.h"

typedef struct {
    double a4;             /* reference for MIDI numbers and cents, Hz (default 440) */
    double hop_s;          /* frame hop, s (as the trackers) */
    double min_periodicity;/* default 0.5 */
    double gate_db;        /* frames below this level (dBFS, RMS) are unvoiced (default -50) */
    double change;         /* semitones from the note's pitch that start a new note (default 0.6) */
    double gap_s;          /* unvoiced time that ends a note (default 0.03) */
    double min_note_s;     /* shortest note kept (default 0.06) */
    double attack_s;       /* left out of the pitch estimate (default 0.03) */
    double snap_before, snap_after; /* onset search around a start, s (default 0.08, 0.04) */
    double rise_db;        /* level rise that makes an onset a re-articulation (default 5) */
    int lookahead;         /* frames a decision waits for (default 4; at least snap_after) */
} ic_notes_params;

/* One frame: the pitch frame and the onset frame of the same index joined. */
typedef struct {
    long long index;
    double time;           /* s */
    float f0;              /* Hz, 0 unvoiced */
    float periodicity;     /* 0..1 */
    float rms;             /* linear */
    float onset_strength;
    int onset;             /* 1: an onset was detected at this frame */
} ic_note_frame;

typedef struct {
    double onset, offset;  /* s */
    int midi;              /* nearest equal-tempered note (reference a4) */
    float cents;           /* mean deviation from midi, cents (reference a4) */
    float f0;              /* median f0, Hz */
    int velocity;          /* 1..127 */
    float level_db;        /* peak level, dB relative to a full-scale sine */
    float periodicity;     /* mean over the note's frames */
} ic_note;

typedef struct ic_notes ic_notes;

void ic_notes_defaults(ic_notes_params *p, double hop_s);
ic_notes *ic_notes_new(const ic_notes_params *p, ic_error *err);
void ic_notes_free(ic_notes *n);
/* Adds the next frame (indices consecutive from 0).  IC_ERR_NOMEM only. */
ic_status ic_notes_add(ic_notes *n, const ic_note_frame *f, ic_error *err);
/* Ends the input: the note in progress (if any) is closed. */
ic_status ic_notes_finish(ic_notes *n, ic_error *err);
/* Next finished note in time order: 1, or 0 when none is ready. */
int ic_notes_pop(ic_notes *n, ic_note *out);
/* Tuning so far: reference A4 in Hz (a4 when nothing was voiced) and its offset from
 * a4 in cents (-50..50); returns the weight of evidence (sum of periodicities). */
double ic_notes_tuning(const ic_notes *n, double *a4_hz, double *offset_cents);

#endif
