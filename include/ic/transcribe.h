/* The practice-room pipeline in one object: samples in blocks -> pitch tracker and
 * onset detector (same hop, frames joined by index) -> note segmentation, tuning
 * estimate and tempo envelope.  icnotes and `icinfer --notes` use it; a live input can
 * feed it the same way.  Latency: the pitch tracker's Viterbi lag plus the note
 * segmenter's look-ahead (about 0.3 s with the defaults), plus the note's own length
 * (a note leaves when it ends).  Not here: output formats. */
#ifndef IC_TRANSCRIBE_H
#define IC_TRANSCRIBE_H
#include <stddef.h>
#include "ic/error.h"
#include "ic/notes.h"
#include "ic/onset.h"
#include "ic/pitch.h"
#include "ic/tempo.h"

typedef struct {
    ic_pitch_params pitch;
    ic_onset_params onset;
    ic_notes_params notes;
    ic_tempo_params tempo;
} ic_transcriber_params;

/* Optional observer of every joined frame (for debugging output or live displays). */
typedef void (*ic_frame_fn)(void *ctx, const ic_note_frame *f);

typedef struct ic_transcriber ic_transcriber;

/* Defaults for input at rate Hz with reference a4 Hz (440 usual). */
void ic_transcriber_defaults(ic_transcriber_params *p, int rate, double a4);
/* The pitch and onset hops must be equal.  NULL + err on bad parameters. */
ic_transcriber *ic_transcriber_new(const ic_transcriber_params *p, ic_error *err);
void ic_transcriber_free(ic_transcriber *t);
void ic_transcriber_set_observer(ic_transcriber *t, ic_frame_fn fn, void *ctx);
/* Feeds n samples at the rate of the parameters (not after ic_transcriber_finish).
 * IC_ERR_NOMEM only. */
ic_status ic_transcriber_process(ic_transcriber *t, const float *x, size_t n, ic_error *err);
/* Ends the input: remaining frames and the last note are decided. */
ic_status ic_transcriber_finish(ic_transcriber *t, ic_error *err);
/* Next finished note: 1, or 0 when none is ready. */
int ic_transcriber_pop(ic_transcriber *t, ic_note *out);

/* A growable list of notes in time order (zero-initialise; ic_note_list_free). */
typedef struct {
    ic_note *v;
    size_t n, cap;
} ic_note_list;
/* Moves every finished note of t to the end of l: 0, or -1 when l cannot grow
 * (out of memory; the notes already moved stay in l). */
int ic_transcriber_drain(ic_transcriber *t, ic_note_list *l);
void ic_note_list_free(ic_note_list *l);
/* The parts, for the tuning estimate (ic_notes_tuning) and tempo (ic_tempo_finish,
 * ic_tempo_current). */
ic_notes *ic_transcriber_notes(ic_transcriber *t);
ic_tempo *ic_transcriber_tempo(ic_transcriber *t);
/* Seconds of input fed so far. */
double ic_transcriber_seconds(const ic_transcriber *t);

#endif
