/* NSynth-format datasets: one split (train, valid, test) is a folder nsynth-NAME/ with
 * examples.json and audio/NOTE_STR.wav, or NSynth's published archive
 * nsynth-NAME.jsonwav.tar.gz holding the same tree, read by streaming through zlib
 * (members in any order; nothing unpacked to disk).
 *
 * examples.json is an object keyed by note_str (NSynth's layout) or an array of
 * entries; every entry and every wav is validated as it is read: a wrong type, an
 * unknown family, a family id/name mismatch, a missing wav, a wav of the wrong rate or
 * length gives a message naming the file and the entry, and the entry is skipped or
 * the load stops (ic_on_error).  A broken examples.json or archive as a whole (not
 * JSON, truncated, corrupted gzip, bad tar checksum) is always an error.
 *
 * Also here: per-family caps (--balance), count tables, and decoding an example's
 * audio.  Feature computation and caching live in ic/featcache.h. */
#ifndef IC_NSYNTH_H
#define IC_NSYNTH_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "ic/error.h"
#include "ic/rng.h"

#define IC_NSYNTH_N_FAMILIES 11 /* bass brass flute guitar keyboard mallet organ reed string synth_lead vocal */
#define IC_NSYNTH_N_SOURCES 3   /* acoustic electronic synthetic */
#define IC_NSYNTH_N_QUALITIES 10
#define IC_NSYNTH_MAX_NOTES 4096 /* cap on an entry's "notes" list */

typedef enum { IC_ON_ERROR_SKIP = 0, IC_ON_ERROR_STOP = 1 } ic_on_error;

/* One note of a phrase ("notes" list): times in seconds from the clip start. */
typedef struct {
    float onset, offset;
    int pitch, velocity;
} ic_nsynth_note;

typedef struct {
    char *note_str;         /* "guitar_acoustic_fluidr3_024-060-075", unique within the split */
    long long note;         /* NSynth's numeric note id; -1 when absent */
    int instrument;         /* numeric instrument id; -1 when absent */
    char *instrument_str;   /* "guitar_acoustic_fluidr3_024"; "" when absent */
    int pitch;              /* MIDI 0..127 (phrases: lowest note of the first onset) */
    int velocity;           /* MIDI 0..127 */
    int sample_rate;        /* Hz, as the entry states */
    int family;             /* 0..IC_NSYNTH_N_FAMILIES-1 */
    const char *family_str; /* static name of family */
    int source;             /* 0..IC_NSYNTH_N_SOURCES-1 */
    const char *source_str; /* static name of source */
    unsigned qualities;     /* bit q set: quality q (ic_nsynth_quality_name) */
    ic_nsynth_note *notes;  /* phrases: every note (n_notes); NULL for single notes */
    size_t n_notes;
    char *wav;              /* folder: path of the wav; archive: the member name */
    long long wav_frames;   /* from the wav header when checked, else -1 */
    int wav_rate;           /* from the wav header when checked, else 0 */
    int wav_channels;       /* from the wav header when checked, else 0 */
} ic_nsynth_example;

typedef struct {
    char name[64];          /* "train" for nsynth-train */
    char *source;           /* the split folder or the archive path */
    int from_archive;       /* 1: wav fields are archive members of source */
    ic_nsynth_example *ex;  /* n examples in examples.json order */
    size_t n;
    size_t n_skipped;       /* entries dropped under IC_ON_ERROR_SKIP */
} ic_nsynth_split;

/* Receives each skipped entry's message (one line, no newline). */
typedef void (*ic_nsynth_warn_fn)(void *ctx, const char *msg);

typedef struct {
    ic_on_error on_error;      /* skip the bad entry (counted) or stop with an error */
    int check_audio;           /* 1: read every wav's header (exists, rate, length); 0: trust the json */
    int expect_rate;           /* wav rate required, Hz; 0: the entry's sample_rate */
    long long expect_frames;   /* wav length required, frames; 0: 4 s at the rate; < 0: any */
    ic_nsynth_warn_fn warn;    /* NULL: "warning: MSG" lines on stderr */
    void *warn_ctx;
} ic_nsynth_opts;

/* Skip bad entries, check audio, rate from the entry, 4 s clips, warnings on stderr. */
void ic_nsynth_opts_default(ic_nsynth_opts *o);

/* Loads one split from a folder (containing examples.json and audio/) or from a
 * .tar.gz / .tar archive (containing NAME/examples.json and NAME/audio/).  NULL + err
 * on a broken examples.json or archive, or on the first bad entry under STOP. */
ic_nsynth_split *ic_nsynth_load_split(const char *path, const ic_nsynth_opts *o, ic_error *err);
/* Frees the split and its examples (s may be NULL). */
void ic_nsynth_split_free(ic_nsynth_split *s);

/* Finds split `name` ("train") in dir: dir/nsynth-NAME/ (preferred), else
 * dir/nsynth-NAME.jsonwav.tar.gz, .tar.gz or .tar.  1 and the path, or 0 when absent. */
int ic_nsynth_locate(const char *dir, const char *name, char *path, size_t cap);

/* Names: static strings, NULL when out of range.  _id: index, -1 when unknown. */
const char *ic_nsynth_family_name(int family);
const char *ic_nsynth_source_name(int source);
const char *ic_nsynth_quality_name(int quality);
int ic_nsynth_family_id(const char *name);
int ic_nsynth_source_id(const char *name);
int ic_nsynth_quality_id(const char *name);

/* Parses one examples.json entry into ex (owning its strings; key: the object key or
 * NULL).  On a bad entry returns IC_ERR_FORMAT with "entry 'NAME': what" in err and
 * leaves ex empty.  Exposed for tests and for programs that build entries. */
ic_status ic_nsynth_parse_entry(const cJSON *entry, const char *key, ic_nsynth_example *ex, ic_error *err);
/* Frees the strings and notes an example owns and zeroes it. */
void ic_nsynth_example_clear(ic_nsynth_example *ex);

/* Decodes example i of a folder split: *samples (malloc'd, mono, channels averaged)
 * holds *n frames at *rate Hz.  Archive splits: IC_ERR_UNSUPPORTED (use the stream). */
ic_status ic_nsynth_load_audio(const ic_nsynth_split *s, size_t i, float **samples, size_t *n,
                               int *rate, ic_error *err);

/* Audio of every example in one sequential pass: index order for folders, archive
 * order for archives (each wav decoded in memory). */
typedef struct ic_nsynth_stream ic_nsynth_stream;
ic_nsynth_stream *ic_nsynth_stream_open(const ic_nsynth_split *s, ic_error *err);
/* 1: *index is the example, *samples (malloc'd) holds *n mono frames at *rate Hz;
 * 0: every example delivered; -1 + err: decode or archive error, or (at the end) an
 * example whose wav never appeared. */
int ic_nsynth_stream_next(ic_nsynth_stream *st, size_t *index, float **samples, size_t *n,
                          int *rate, ic_error *err);
void ic_nsynth_stream_close(ic_nsynth_stream *st);

/* Decodes a wav (any format libsndfile reads) held in memory to mono floats; `name`
 * is used in messages.  samples may be NULL to read only the header fields. */
ic_status ic_nsynth_decode_wav_mem(const void *data, size_t size, const char *name, float **samples,
                                   long long *frames, int *rate, int *channels, ic_error *err);

/* --balance: keeps at most cap examples of each family, a uniformly random subset
 * drawn with r (families in id order, so a seed gives one answer); survivors keep
 * their order.  Returns the number removed. */
size_t ic_nsynth_balance(ic_nsynth_split *s, size_t cap, ic_rng *r);

typedef struct {
    size_t total;
    size_t family[IC_NSYNTH_N_FAMILIES];
    size_t source[IC_NSYNTH_N_SOURCES];
    size_t family_source[IC_NSYNTH_N_FAMILIES][IC_NSYNTH_N_SOURCES];
} ic_nsynth_counts;

void ic_nsynth_count(const ic_nsynth_split *s, ic_nsynth_counts *c);
/* Table with one column per split: rows per family, per source, total. */
void ic_nsynth_print_counts(FILE *f, const char *title, const char *const *split_names,
                            const ic_nsynth_counts *c, size_t n_splits);
/* {"total": n, "families": {"bass": n, ...}, "sources": {...}}; NULL when out of memory. */
cJSON *ic_nsynth_counts_to_json(const ic_nsynth_counts *c);

#endif
