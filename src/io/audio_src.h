/* Private to src/io/audio*.c: the decoder back ends behind ic_audio.  A source
 * delivers interleaved float frames at the native rate and channel count; audio.c
 * does the downmix, the NaN check, the resampling and the length checks. */
#ifndef IC_AUDIO_SRC_H
#define IC_AUDIO_SRC_H
#include <stddef.h>
#include "ic/audio.h"

typedef struct ic_audio_src ic_audio_src;
struct ic_audio_src {
    /* Reads up to n frames into buf (n * info.channels floats); returns frames,
     * 0 at the end, -1 + err (message names `name`) on a decode error. */
    long (*read)(ic_audio_src *s, float *buf, size_t n, ic_error *err);
    /* Frees the source; never closes the file descriptor it was given. */
    void (*close)(ic_audio_src *s);
    ic_audio_info info;     /* native fields filled by the back end */
    char name[256];         /* file name for messages ("stdin" for "-") */
};

/* libsndfile on a regular file's descriptor (read with pread; position unused).  NULL + err with
 * libsndfile's reason when it does not recognise the content (*claimed = 0), or with
 * the defect when it recognised the format but the file is bad (*claimed = 1). */
ic_audio_src *ic_audio_src_sndfile(int fd, const char *name, int *claimed, ic_error *err);

/* libavformat over a descriptor.  seekable: a regular file.  Otherwise a pipe, read
 * once: the first n_prefix bytes were already taken from it and are in prefix
 * (copied).  *unsupported is set to 1 when the container was recognised but holds no
 * decodable audio (so the caller reports that reason rather than "not audio"). */
ic_audio_src *ic_audio_src_ffmpeg_fd(int fd, int seekable, const unsigned char *prefix,
                                     size_t n_prefix, const char *name, int *unsupported,
                                     ic_error *err);
/* libavformat over a memory image (takes ownership of data, malloc'ed, even on failure). */
ic_audio_src *ic_audio_src_ffmpeg_mem(unsigned char *data, size_t n, const char *name,
                                      int *unsupported, ic_error *err);
/* Name of the libavformat demuxer that claims these leading bytes, or NULL. */
const char *ic_audio_ffmpeg_probe(const unsigned char *buf, size_t n);

/* Headerless s16le PCM from a descriptor (may be a pipe). */
ic_audio_src *ic_audio_src_raw(int fd, int rate, int channels, const char *name, ic_error *err);

/* read() that retries on EINTR and fills the buffer unless the input ends:
 * returns bytes read (< n only at the end), -1 on error (errno set). */
long ic_audio_read_full(int fd, void *buf, size_t n);

#endif
