/* Dataset generator: renders NSynth-format notes and phrases from General MIDI
 * soundfonts with libfluidsynth (bin/icsynth drives it).
 *
 *   - NSynth vocabulary (families, sources) and the generator's pitch range per family;
 *   - the GM program -> family/source table (datasets/gm_families.tsv) and its loader;
 *   - names: soundfont tag, instrument_str, note_str, split-by-hash;
 *   - rendering one note or one phrase into 4.0 s of 16 kHz mono floats: fluidsynth
 *     renders at IC_SYNTH_OVERSAMPLE x 16 kHz (its sample interpolation does no
 *     band limiting) and a windowed-sinc FIR decimates to 16 kHz; gain is peak-safe;
 *   - phrase generation (seeded); 16-bit wav output; one split's examples.json store.
 *
 * Not here: reading datasets for training (ic/nsynth.h), features (ic/frontend.h).
 * One ic_synth belongs to one thread; separate ic_synth objects may run in parallel. */
#ifndef IC_SYNTH_H
#define IC_SYNTH_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "ic/error.h"
#include "ic/rng.h"

#define IC_SYNTH_RATE 16000                 /* NSynth: 16 kHz */
#define IC_SYNTH_FRAMES 64000               /* NSynth: exactly 4.0 s */
#define IC_SYNTH_SECONDS 4.0
#define IC_SYNTH_HOLD_SECONDS 3.0           /* NSynth: key held 3 s, then released */
#define IC_SYNTH_OVERSAMPLE 3               /* fluidsynth renders at 48 kHz */
#define IC_SYNTH_PEAK_CEILING 0.98f         /* peaks above this are scaled down to it */
#define IC_SYNTH_SILENCE_PEAK 0.001f        /* -60 dBFS: a quieter render is "silent" */
#define IC_SYNTH_DEFAULT_GAIN 1.0f          /* fluidsynth synth.gain (its default 0.2 leaves notes near -20 dBFS) */

/* ---- NSynth vocabulary ---------------------------------------------------- */

enum { IC_SYNTH_N_FAMILIES = 11, IC_SYNTH_N_SOURCES = 3, IC_SYNTH_N_QUALITIES = 10 };

/* NSynth order: bass 0 brass 1 flute 2 guitar 3 keyboard 4 mallet 5 organ 6 reed 7
 * string 8 synth_lead 9 vocal 10.  NULL / -1 when out of range / unknown. */
const char *ic_synth_family_name(int family);
int ic_synth_family_id(const char *name);
/* acoustic 0 electronic 1 synthetic 2. */
const char *ic_synth_source_name(int source);
int ic_synth_source_id(const char *name);
/* MIDI pitch range (inclusive) the generator renders for a family (issue 4). */
void ic_synth_family_range(int family, int *lo, int *hi);
/* 1 for the families that play chords in phrases: keyboard, guitar, organ, mallet, string. */
int ic_synth_family_chords(int family);

/* ---- GM program table ------------------------------------------------------ */

typedef struct {
    int family;       /* NSynth family id; -1: program left out of the dataset */
    int source;       /* NSynth source id; -1 when left out */
    char name[48];    /* General MIDI program name */
} ic_gm_program;

typedef struct { ic_gm_program prog[128]; } ic_gm_table;

/* Reads the TSV table: '#' comment lines, a header "program family source gm_name",
 * then exactly one row per program 0..127 (family and source "-" for left-out ones).
 * IC_ERR_IO / IC_ERR_FORMAT naming the file, line and the bad field. */
ic_status ic_gm_table_load(const char *path, ic_gm_table *t, ic_error *err);

/* ---- Flag parsing helpers ------------------------------------------------------ */

/* "0-7,24,40-46" -> mask[p] = 1 for each listed program (mask has 128 entries, zeroed first). */
ic_status ic_synth_parse_programs(const char *s, unsigned char mask[128], ic_error *err);
/* "25,50,75" -> values (each in [lo, hi], at most cap, sorted, duplicates removed); *n set. */
ic_status ic_synth_parse_ints(const char *s, int lo, int hi, int *values, int cap, int *n, ic_error *err);

#define IC_SYNTH_MAX_SPLITS 8
/* "train" (one split) or "valid:3,test:1" (each example goes to one split chosen by a
 * stable hash of its note_str, in proportion to the weights). */
typedef struct {
    int n;
    char name[IC_SYNTH_MAX_SPLITS][48];
    unsigned weight[IC_SYNTH_MAX_SPLITS];
} ic_split_spec;
ic_status ic_split_spec_parse(const char *s, ic_split_spec *sp, ic_error *err);
/* Index of the split note_str belongs to (FNV-1a 64 of note_str modulo the weight sum). */
int ic_split_spec_pick(const ic_split_spec *sp, const char *note_str);

/* ---- Names -------------------------------------------------------------------- */

/* FNV-1a 64-bit hash of a string (stable across machines and runs). */
uint64_t ic_synth_hash(const char *s);
/* Tag from a soundfont file name: the base name up to the first '_', '-' or '.',
 * lowercased, letters and digits only ("FluidR3_GM.sf2" -> "fluidr3",
 * "MuseScore_General.sf3" -> "musescore"); "sf" if nothing is left. */
void ic_synth_sf_tag(const char *path, char *tag, size_t cap);
/* "guitar_acoustic_fluidr3_024". */
void ic_synth_instrument_str(int family, int source, const char *tag, int program, char *buf, size_t cap);
/* Numeric instrument id: (FNV-1a(tag) mod 2e6) * 1000 + program, fits in an int32. */
int ic_synth_instrument_id(const char *tag, int program);

/* ---- Phrases ------------------------------------------------------------------ */

#define IC_PHRASE_MAX_NOTES 256

typedef enum {
    IC_PHRASE_MELODY = 0,   /* stepwise line with some leaps, mixed durations */
    IC_PHRASE_STACCATO,     /* a line of short detached notes */
    IC_PHRASE_REPEATED,     /* runs of one repeated pitch, moving now and then */
    IC_PHRASE_ARPEGGIO,     /* broken chords, one note at a time */
    IC_PHRASE_CHORDS,       /* block or strummed chords (chord families only) */
    IC_PHRASE_N_STYLES
} ic_phrase_style;

typedef struct {
    float onset, offset;    /* key down / key up, seconds from the clip start (ms grid) */
    int pitch, velocity;    /* MIDI */
} ic_phrase_note;

typedef struct {
    int style;              /* ic_phrase_style */
    float tempo;            /* beats per minute */
    int n;
    ic_phrase_note note[IC_PHRASE_MAX_NOTES];  /* sorted by onset, then pitch */
} ic_phrase;

/* Name of a style ("melody", ...), NULL when out of range. */
const char *ic_phrase_style_name(int style);
/* Generates one phrase for an instrument of the given family: tempo 60-180 BPM,
 * velocities 20-127 with a per-phrase level and contour, every pitch in the family's
 * range, onsets in [0, seconds - 0.4], offsets <= seconds, no two sounding notes of one
 * pitch overlapping.  Deterministic for a given rng state. */
void ic_phrase_generate(ic_rng *r, int family, double seconds, ic_phrase *p);
/* Lowest pitch among the notes at the first onset, and its velocity. */
void ic_phrase_first(const ic_phrase *p, int *pitch, int *velocity);

/* ---- Decimation ---------------------------------------------------------------- */

/* Low-pass FIR (Kaiser-windowed sinc) for integer decimation by `factor`: cutoff at
 * the output Nyquist (8 kHz for 16 kHz out), transition band +-1/16 of the output rate
 * (7-9 kHz), about 90 dB stop band, unit DC gain; taps is odd.  Content at 8-9 kHz
 * folds only into 7-8 kHz. */
typedef struct {
    int factor;
    int taps;
    float *h;               /* (taps) */
} ic_decimator;

ic_status ic_decimator_init(ic_decimator *d, int factor, ic_error *err);
void ic_decimator_free(ic_decimator *d);
/* Input frames needed to produce n_out outputs without running off the end. */
size_t ic_decimator_input_len(const ic_decimator *d, size_t n_out);
/* out[j] = sum_k h[k] * in[factor*j + (taps-1)/2 - k], in[] = 0 before 0: zero phase.
 * in: (ic_decimator_input_len(d, n_out)), out: (n_out). */
void ic_decimate(const ic_decimator *d, const float *in, float *out, size_t n_out);

/* ---- Rendering ------------------------------------------------------------------ */

typedef struct ic_synth ic_synth;

typedef enum {
    IC_RENDER_OK = 0,
    IC_RENDER_SILENT,       /* peak below IC_SYNTH_SILENCE_PEAK */
    IC_RENDER_UNPLAYABLE    /* program missing, or a key the preset has no sample for */
} ic_render_result;

typedef struct {
    ic_render_result result;
    float peak;             /* peak |sample| of the 16 kHz render before scaling */
    float scale;            /* 1, or IC_SYNTH_PEAK_CEILING / peak when it was scaled down */
} ic_render_info;

/* Loads the soundfont (sf2 or sf3) into a new fluidsynth synth at
 * IC_SYNTH_OVERSAMPLE * 16 kHz, reverb and chorus off, 7th-order interpolation, gain
 * `gain` (fluidsynth synth.gain).  NULL + err when it cannot be loaded. */
ic_synth *ic_synth_new(const char *soundfont, float gain, ic_error *err);
void ic_synth_free(ic_synth *s);
/* 1 when the soundfont has bank 0 preset `program`. */
int ic_synth_has_program(ic_synth *s, int program);
/* Preset name for bank 0 `program`, "" when absent. */
const char *ic_synth_preset_name(ic_synth *s, int program);

/* Renders one NSynth note: key down at 0 with `velocity`, key up at `hold` s,
 * IC_SYNTH_FRAMES frames at 16 kHz into out (IC_SYNTH_FRAMES floats), peak-safe.
 * info->result says whether the render is usable; IC_ERR_* only on a fluidsynth failure. */
ic_status ic_synth_render_note(ic_synth *s, int program, int pitch, int velocity, double hold,
                               float *out, ic_render_info *info, ic_error *err);
/* Renders a phrase the same way (every note checked playable first). */
ic_status ic_synth_render_phrase(ic_synth *s, int program, const ic_phrase *p, float *out,
                                 ic_render_info *info, ic_error *err);

/* Peak-safe gain in place: returns the scale applied (1 when peak <= ceiling). */
float ic_synth_peak_safe(float *x, size_t n, float ceiling, float *peak);

/* ---- Files ---------------------------------------------------------------------- */

/* Writes x (n floats in [-1, 1]) as 16-bit mono WAV at rate: to path.tmp, then rename.
 * Samples are rounded, never clipped (IC_ERR_ARG if one is outside [-1, 1]). */
ic_status ic_synth_write_wav(const char *path, const float *x, size_t n, int rate, ic_error *err);
/* 1 when path is a 16-bit PCM mono WAV of `frames` frames at `rate`. */
int ic_synth_wav_complete(const char *path, int rate, long frames);
/* mkdir -p. */
ic_status ic_synth_mkdirs(const char *path, ic_error *err);

/* Builds an examples.json entry with NSynth's fields (note id 0 until the store sets
 * it; qualities all 0).  scale != 1 adds "peak_scale"; p != NULL (a phrase) adds
 * "tempo", "style" and "notes": [{"onset", "offset", "pitch", "velocity"}]. */
cJSON *ic_synth_entry(const char *note_str, const char *instrument_str, int instrument,
                      int pitch, int velocity, int family, int source, float scale,
                      const ic_phrase *p);

/* ---- examples.json store (one split) ----------------------------------------------- */

typedef struct ic_examples ic_examples;

/* Opens DIR/examples.json (an object keyed by note_str; a missing file is an empty
 * store).  NULL + err on unreadable or malformed JSON. */
ic_examples *ic_examples_open(const char *split_dir, ic_error *err);
void ic_examples_free(ic_examples *e);
size_t ic_examples_count(const ic_examples *e);
/* 1 when note_str is present. */
int ic_examples_has(const ic_examples *e, const char *note_str);
/* Adds entry (taking ownership) under its note_str; a present entry is replaced and
 * keeps its "note" id, a new one gets max id + 1. */
void ic_examples_put(ic_examples *e, cJSON *entry);
/* Removes note_str if present. */
void ic_examples_remove(ic_examples *e, const char *note_str);
/* Writes examples.json atomically (tmp, fsync, rename), one entry per line. */
ic_status ic_examples_save(ic_examples *e, ic_error *err);
/* 1 when changed since the last save. */
int ic_examples_dirty(const ic_examples *e);

#endif
