/* Audio input: any common file or stream -> mono float samples at the model rate.
 * Decoders are chosen by content, never by file name: libsndfile first (wav, flac,
 * ogg/vorbis, opus, mp3, aiff, ...), then libavformat/libavcodec (m4a/aac and anything
 * else ffmpeg reads).  Channels are averaged to mono and libsamplerate resamples in
 * blocks, so memory stays flat however long the input is.
 *
 * Standard input ("-"): a redirected regular file is read like a file.  A pipe is
 * decoded by libavformat, which keeps its probe bytes and so can pick the format by
 * content without seeking: wav, flac, ogg, mp3, ADTS aac and the like stream with flat
 * memory.  MP4-family containers (m4a) may keep their index at the end, so from a pipe
 * they are first read whole into memory, up to IC_AUDIO_STDIN_MAX_BYTES.
 *
 * This module does not compute features (see frontend.h). */
#ifndef IC_AUDIO_H
#define IC_AUDIO_H
#include <stddef.h>
#include "ic/error.h"

/* Cap on an MP4-family stream buffered from a pipe (see above). */
#define IC_AUDIO_STDIN_MAX_BYTES ((size_t)1 << 30)

typedef struct {
    int sample_rate;        /* native rate of the input, Hz */
    int channels;           /* native channel count (before the downmix) */
    long long frames;       /* native frames per channel; -1 unknown */
    int frames_exact;       /* 1: frames is exact (from the header), 0: estimate or unknown */
    double duration;        /* frames / sample_rate in seconds; -1 unknown */
    int out_rate;           /* rate of the mono samples ic_audio_read returns */
    char backend[16];       /* "sndfile", "ffmpeg" or "raw" */
    char container[64];     /* e.g. "WAV (Microsoft)", "mov,mp4,m4a,3gp,3g2,mj2", "raw" */
    char codec[64];         /* e.g. "Signed 16 bit PCM", "aac", "s16le" */
} ic_audio_info;

typedef struct ic_audio ic_audio;

/* Opens path ("-" = standard input) in any supported format.  out_rate is the rate
 * ic_audio_read delivers (0 = native).  NULL + err (naming the file and the reason)
 * on a missing, unreadable, empty, truncated or unrecognised file or unsupported codec. */
ic_audio *ic_audio_open(const char *path, int out_rate, ic_error *err);

/* Opens headerless signed 16-bit little-endian PCM ("-" = standard input, read as it
 * arrives: live input) with channels interleaved at in_rate.  A partial frame at the
 * very end is ignored. */
ic_audio *ic_audio_open_raw(const char *path, int in_rate, int channels, int out_rate,
                            ic_error *err);

/* Format of the opened input (valid until ic_audio_close). */
const ic_audio_info *ic_audio_get_info(const ic_audio *a);

/* Reads up to n (> 0) mono samples at out_rate into buf (n floats).  Returns the
 * count (n unless the input ends), 0 at the end, -1 + err on a decode error, a NaN or
 * infinite sample, an input with no samples at all, or an input shorter than its
 * header declares.  After -1 every further call fails the same way. */
long ic_audio_read(ic_audio *a, float *buf, size_t n, ic_error *err);

/* Closes the input and frees everything (a may be NULL). */
void ic_audio_close(ic_audio *a);

/* Reads everything left in a into *samples (caller frees with free()), *n of them.
 * On failure *samples is NULL and *n 0. */
ic_status ic_audio_read_all(ic_audio *a, float **samples, size_t *n, ic_error *err);

/* Convenience: opens path, reads it whole.  *samples (caller frees with free())
 * holds *n mono samples at out_rate; info (may be NULL) receives the format. */
ic_status ic_audio_load(const char *path, int out_rate, float **samples, size_t *n,
                        ic_audio_info *info, ic_error *err);

/* Process-wide: silences the ffmpeg libraries' own log lines on stderr (the error
 * messages returned here already carry the reason).  Programs call it once in main. */
void ic_audio_quiet_backends(void);

#endif
