/* Headerless signed 16-bit little-endian PCM source of ic_audio (files and pipes),
 * and the EINTR-safe full read the sources share.  No downmixing or resampling. */
#include "audio_src.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long ic_audio_read_full(int fd, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

typedef struct {
    ic_audio_src base;
    int fd;
    unsigned char *bytes;   /* staging block of cap_frames * channels * 2 bytes */
    size_t cap_frames;
    size_t carry;           /* bytes of an incomplete frame kept at the start of bytes */
    int eof;
} raw_src;

/* Returns the frames available now (at least one unless the input ended): a live
 * pipe delivers what has arrived instead of waiting for a full block. */
static long raw_read(ic_audio_src *s, float *buf, size_t n, ic_error *err) {
    raw_src *q = (raw_src *)s;
    const size_t ch = (size_t)s->info.channels, fb = ch * 2;
    const size_t want = (n < q->cap_frames ? n : q->cap_frames) * fb;
    while (q->carry < fb && !q->eof) {
        ssize_t r = read(q->fd, q->bytes + q->carry, want - q->carry);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            ic_error_set(err, IC_ERR_IO, "%s: read failed: %s", s->name, strerror(errno));
            return -1;
        }
        if (r == 0) q->eof = 1;   /* a partial last frame is dropped */
        q->carry += (size_t)r;
    }
    size_t frames = q->carry / fb;
    for (size_t i = 0; i < frames * ch; i++) {
        int16_t v = (int16_t)(uint16_t)(q->bytes[2 * i] | q->bytes[2 * i + 1] << 8);
        buf[i] = (float)v / 32768.0f;
    }
    size_t used = frames * fb;
    memmove(q->bytes, q->bytes + used, q->carry - used);
    q->carry -= used;
    return (long)frames;
}

static void raw_close(ic_audio_src *s) {
    raw_src *q = (raw_src *)s;
    free(q->bytes);
    free(q);
}

ic_audio_src *ic_audio_src_raw(int fd, int rate, int channels, const char *name, ic_error *err) {
    raw_src *q = calloc(1, sizeof *q);
    if (q) {
        q->cap_frames = 4096;
        q->bytes = malloc(q->cap_frames * (size_t)channels * 2);
    }
    if (!q || !q->bytes) {
        if (q) free(q);
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    q->fd = fd;
    q->base.read = raw_read;
    q->base.close = raw_close;
    snprintf(q->base.name, sizeof q->base.name, "%s", name);
    ic_audio_info *in = &q->base.info;
    in->sample_rate = rate;
    in->channels = channels;
    in->frames = -1;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        in->frames = (long long)st.st_size / (2LL * channels);
        in->frames_exact = 1;
    }
    snprintf(in->backend, sizeof in->backend, "raw");
    snprintf(in->container, sizeof in->container, "raw");
    snprintf(in->codec, sizeof in->codec, "s16le");
    return &q->base;
}
