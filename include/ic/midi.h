/* Standard MIDI files, written: format 0 (one track), `division` ticks per quarter
 * note, a tempo meta event at tick 0, then note-on / note-off events on channel 1 with
 * delta times as variable-length quantities, and the end-of-track event.
 *
 *   "MThd" 00000006 0000 0001 <division:16>
 *   "MTrk" <length:32> 00 FF 51 03 <us per quarter:24> {<delta> 9n|8n key vel}... 00 FF 2F 00
 *
 * Times in seconds become ticks at the file's tempo: tick = round(s * division * 1e6 /
 * us_per_quarter).  At one tick, note-offs come before note-ons, then by key; no
 * running status.  Not here: reading MIDI files, several tracks, pitch bend. */
#ifndef IC_MIDI_H
#define IC_MIDI_H
#include <stddef.h>
#include <stdint.h>
#include "ic/error.h"

#define IC_MIDI_DIVISION 480          /* ticks per quarter note */

typedef struct {
    double onset, offset;             /* s, 0 <= onset <= offset */
    int pitch;                        /* 0..127 */
    int velocity;                     /* 1..127 */
} ic_midi_note;

/* Writes v (< 2^28) as a variable-length quantity into out; returns its length 1..4. */
size_t ic_midi_vlq(uint32_t v, unsigned char out[4]);

/* The whole file in memory: *out (caller frees with free()), *len bytes.  bpm in
 * (0, 1000] sets the tempo event (and the tick grid); division 1..32767.  A note
 * shorter than one tick lasts one tick.  IC_ERR_ARG naming the first bad note or
 * parameter; IC_ERR_NOMEM. */
ic_status ic_midi_encode(const ic_midi_note *notes, size_t n, double bpm, int division,
                         unsigned char **out, size_t *len, ic_error *err);

/* Encodes and writes to path: PATH.tmp, fsync, rename, so an interrupted write never
 * leaves a half file under the name.  IC_ERR_IO naming the file. */
ic_status ic_midi_write(const char *path, const ic_midi_note *notes, size_t n, double bpm, int division,
                        ic_error *err);

#endif
