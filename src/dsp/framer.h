/* Private helper of the streaming trackers (pitch.c, onset.c): turns blocks of samples
 * of any size into overlapping frames of a fixed length at a fixed hop.  Frame k is
 * centred on sample k*hop: it covers samples k*hop - len/2 .. k*hop - len/2 + len - 1,
 * with zeros before the first sample and, after ic_framer_finish, after the last one.
 * Frames are produced for k*hop < total samples (one frame at least for a non-empty
 * input), so every tracker built on it reports the same frame times.
 * Memory: the frame length plus the largest block pushed.  Not a public module. */
#ifndef IC_DSP_FRAMER_H
#define IC_DSP_FRAMER_H
#include <stdlib.h>
#include <string.h>
#include "ic/error.h"

typedef struct {
    size_t len, lead, hop; /* frame length, samples before the frame's own sample, hop */
    float *buf;          /* (cap) buffered samples; buf[0] is absolute sample pos0 */
    size_t have, cap;
    long long pos0;      /* absolute index of buf[0]; negative for the leading zeros */
    long long next;      /* index of the next frame to produce */
    long long total;     /* samples pushed so far */
    int finished;
} ic_framer;

/* 0, or -1 when out of memory. */
static inline int ic_framer_init(ic_framer *f, size_t len, size_t lead, size_t hop) {
    IC_ASSERT(len >= 1 && hop >= 1 && lead < len);
    memset(f, 0, sizeof *f);
    f->len = len;
    f->lead = lead;
    f->hop = hop;
    f->cap = 2 * len + 4096;
    f->buf = calloc(f->cap, sizeof *f->buf);
    if (!f->buf) return -1;
    f->have = lead;                        /* the leading zeros */
    f->pos0 = -(long long)lead;
    return 0;
}

static inline void ic_framer_free(ic_framer *f) { free(f->buf); f->buf = NULL; }

static inline long long ic_framer_start(const ic_framer *f, long long k) {
    return k * (long long)f->hop - (long long)f->lead;
}

/* Drops samples no later frame needs, then makes room for n more.  0 or -1 (memory). */
static inline int ic_framer_reserve(ic_framer *f, size_t n) {
    long long drop = ic_framer_start(f, f->next) - f->pos0;
    if (drop > 0) {
        size_t d = (size_t)drop < f->have ? (size_t)drop : f->have;
        memmove(f->buf, f->buf + d, (f->have - d) * sizeof *f->buf);
        f->have -= d;
        f->pos0 += (long long)d;
    }
    if (f->have + n > f->cap) {
        size_t cap = f->have + n + f->len;
        float *b = realloc(f->buf, cap * sizeof *b);
        if (!b) return -1;
        f->buf = b;
        f->cap = cap;
    }
    return 0;
}

/* Appends n samples.  0, or -1 when out of memory. */
static inline int ic_framer_push(ic_framer *f, const float *x, size_t n) {
    IC_ASSERT(!f->finished);
    if (ic_framer_reserve(f, n)) return -1;
    memcpy(f->buf + f->have, x, n * sizeof *x);
    f->have += n;
    f->total += (long long)n;
    return 0;
}

/* Marks the end of the input: the last frames are completed with zeros. */
static inline void ic_framer_finish(ic_framer *f) { f->finished = 1; }

/* Frame `next` when it is complete: *frame points at len samples (valid until the next
 * push), *index gets k, returns 1.  0 when more input is needed or, after finish, when
 * every frame has been produced.  -1 when out of memory (padding at the end). */
static inline int ic_framer_next(ic_framer *f, const float **frame, long long *index) {
    long long k = f->next;
    if (f->finished && k * (long long)f->hop >= f->total) return 0;
    long long need = ic_framer_start(f, k) + (long long)f->len - f->pos0;   /* samples of buf needed */
    if (need > (long long)f->have) {
        if (!f->finished) return 0;
        size_t pad = (size_t)(need - (long long)f->have);
        if (ic_framer_reserve(f, pad)) return -1;   /* drops as much as it keeps: pad stays right */
        memset(f->buf + f->have, 0, pad * sizeof *f->buf);
        f->have += pad;
    }
    *frame = f->buf + (ic_framer_start(f, k) - f->pos0);
    *index = k;
    f->next++;
    return 1;
}

#endif
