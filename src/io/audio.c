/* ic_audio: opens a file or stream with the right back end (chosen by content),
 * then, block by block, checks for NaN/inf, averages the channels to mono and
 * resamples to the requested rate.  Memory is a fixed block whatever the length.
 * Decoding itself is in audio_sndfile.c, audio_ffmpeg.c and audio_raw.c. */
#include "ic/audio.h"
#include "ic/resample.h"
#include "audio_src.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK_FRAMES 16384   /* native frames per decoder read */
#define MAX_CHANNELS 1024
#define PIPE_PROBE 4096      /* bytes taken from a pipe to pick the streaming route */

struct ic_audio {
    ic_audio_src *src;
    ic_audio_info info;
    int fd, own_fd;
    char name[256];
    ic_resampler *rs;
    float *native;            /* (BLOCK_FRAMES, channels) interleaved decoder output */
    float *mono;              /* (BLOCK_FRAMES) downmixed block awaiting the resampler */
    size_t mono_len, mono_pos;
    long long frames_in;      /* native frames decoded so far */
    long long out_total;      /* output samples delivered so far */
    int in_eof, done;
    int failed;               /* sticky: every read after a failure repeats it */
    ic_error fail;
};

static int is_stdin(const char *path) { return strcmp(path, "-") == 0; }

/* A back end's message without its leading "name: ". */
static const char *reason(const ic_error *e, const char *name) {
    size_t k = strlen(name);
    if (!e->msg[0]) return "no reason given";
    if (strncmp(e->msg, name, k) == 0 && e->msg[k] == ':' && e->msg[k + 1] == ' ') return e->msg + k + 2;
    return e->msg;
}

void ic_audio_close(ic_audio *a) {
    if (!a) return;
    if (a->src) a->src->close(a->src);
    ic_resampler_free(a->rs);
    if (a->own_fd && a->fd >= 0) close(a->fd);
    free(a->native);
    free(a->mono);
    free(a);
}

/* Opens path (or takes stdin) and rejects what is plainly not a readable file.
 * *st receives the descriptor's stat. */
static ic_audio *audio_alloc(const char *path, struct stat *st, ic_error *err) {
    ic_audio *a = calloc(1, sizeof *a);
    if (!a) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    a->fd = -1;
    if (is_stdin(path)) {
        a->fd = 0;
        snprintf(a->name, sizeof a->name, "stdin");
    } else {
        size_t k = strlen(path);
        if (k >= sizeof a->name) k = sizeof a->name - 1;   /* messages show a cut name */
        memcpy(a->name, path, k);
        a->name[k] = '\0';
        a->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (a->fd < 0) {
            ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
            ic_audio_close(a);
            return NULL;
        }
        a->own_fd = 1;
    }
    if (fstat(a->fd, st) != 0) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot stat: %s", a->name, strerror(errno));
        ic_audio_close(a);
        return NULL;
    }
    if (S_ISDIR(st->st_mode)) {
        ic_error_set(err, IC_ERR_IO, "%s: is a directory, not an audio file", a->name);
        ic_audio_close(a);
        return NULL;
    }
    if (S_ISREG(st->st_mode) && st->st_size == 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: empty file (0 bytes)", a->name);
        ic_audio_close(a);
        return NULL;
    }
    return a;
}

/* Second half of both opens: output rate, resampler, block buffers. */
static ic_audio *audio_finish(ic_audio *a, int out_rate, ic_error *err) {
    ic_audio_info *in = &a->info;
    *in = a->src->info;
    if (in->channels > MAX_CHANNELS) {
        ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: %d channels (at most %d are supported)",
                     a->name, in->channels, MAX_CHANNELS);
        ic_audio_close(a);
        return NULL;
    }
    if (in->frames_exact && in->frames == 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: no audio samples (the header declares 0 frames)", a->name);
        ic_audio_close(a);
        return NULL;
    }
    in->out_rate = out_rate ? out_rate : in->sample_rate;
    in->duration = in->frames >= 0 ? (double)in->frames / in->sample_rate : -1.0;
    ic_error rerr;
    ic_error_clear(&rerr);
    a->rs = ic_resampler_new(in->sample_rate, in->out_rate, &rerr);
    if (!a->rs) {
        ic_error_set(err, rerr.code, "%s: %s", a->name, rerr.msg);
        ic_audio_close(a);
        return NULL;
    }
    a->native = malloc((size_t)BLOCK_FRAMES * (size_t)in->channels * sizeof *a->native);
    a->mono = malloc((size_t)BLOCK_FRAMES * sizeof *a->mono);
    if (!a->native || !a->mono) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", a->name);
        ic_audio_close(a);
        return NULL;
    }
    return a;
}

/* Reads a pipe to its end into memory (for containers that need seeking). */
static unsigned char *slurp(int fd, const unsigned char *head, size_t n_head, size_t *n,
                            const char *name, ic_error *err) {
    size_t cap = n_head > 65536 ? n_head : 65536, len = n_head;
    unsigned char *buf = malloc(cap);
    if (!buf) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name); return NULL; }
    memcpy(buf, head, n_head);
    for (;;) {
        if (len == cap) {
            if (cap >= IC_AUDIO_STDIN_MAX_BYTES) {
                ic_error_set(err, IC_ERR_UNSUPPORTED,
                             "%s: an MP4-family stream from a pipe is read whole, and this one is over %zu MiB; "
                             "pass it as a file instead", name, IC_AUDIO_STDIN_MAX_BYTES >> 20);
                free(buf);
                return NULL;
            }
            size_t nc = cap * 2 < IC_AUDIO_STDIN_MAX_BYTES ? cap * 2 : IC_AUDIO_STDIN_MAX_BYTES;
            unsigned char *nb = realloc(buf, nc);
            if (!nb) {
                ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory buffering the stream", name);
                free(buf);
                return NULL;
            }
            buf = nb;
            cap = nc;
        }
        size_t want = cap - len;
        long r = ic_audio_read_full(fd, buf + len, want);
        if (r < 0) {
            ic_error_set(err, IC_ERR_IO, "%s: read failed: %s", name, strerror(errno));
            free(buf);
            return NULL;
        }
        len += (size_t)r;
        if ((size_t)r < want) break;   /* short read: end of input */
    }
    *n = len;
    return buf;
}

ic_audio *ic_audio_open(const char *path, int out_rate, ic_error *err) {
    if (!path) { ic_error_set(err, IC_ERR_ARG, "audio: no path given"); return NULL; }
    if (out_rate < 0) {
        ic_error_set(err, IC_ERR_ARG, "%s: output rate must be >= 0 (0 = native), got %d", path, out_rate);
        return NULL;
    }
    struct stat st;
    ic_audio *a = audio_alloc(path, &st, err);
    if (!a) return NULL;
    ic_error e1, e2;
    ic_error_clear(&e1);
    ic_error_clear(&e2);
    int unsupported = 0;
    if (S_ISREG(st.st_mode)) {
        int claimed = 0;
        if (lseek(a->fd, 0, SEEK_SET) == 0) a->src = ic_audio_src_sndfile(a->fd, a->name, &claimed, &e1);
        if (!a->src && claimed) {
            ic_error_set(err, e1.code, "%s", e1.msg);
            ic_audio_close(a);
            return NULL;
        }
        if (!a->src && lseek(a->fd, 0, SEEK_SET) == 0)
            a->src = ic_audio_src_ffmpeg_fd(a->fd, 1, NULL, 0, a->name, &unsupported, &e2);
        if (!a->src) {
            if (unsupported)
                ic_error_set(err, e2.code, "%s", e2.msg);
            else
                ic_error_set(err, IC_ERR_FORMAT,
                             "%s: not a recognised audio file (libsndfile: %s; libavformat: %s)", a->name,
                             reason(&e1, a->name), reason(&e2, a->name));
            ic_audio_close(a);
            return NULL;
        }
    } else {
        unsigned char head[PIPE_PROBE];
        long got = ic_audio_read_full(a->fd, head, sizeof head);
        if (got <= 0) {
            if (got < 0) ic_error_set(err, IC_ERR_IO, "%s: read failed: %s", a->name, strerror(errno));
            else ic_error_set(err, IC_ERR_FORMAT, "%s: empty input (0 bytes)", a->name);
            ic_audio_close(a);
            return NULL;
        }
        const char *fmt = ic_audio_ffmpeg_probe(head, (size_t)got);
        if (fmt && (strstr(fmt, "mov") || strstr(fmt, "mp4"))) {
            size_t n = 0;
            unsigned char *mem = slurp(a->fd, head, (size_t)got, &n, a->name, err);
            if (!mem) { ic_audio_close(a); return NULL; }
            a->src = ic_audio_src_ffmpeg_mem(mem, n, a->name, &unsupported, &e2);
        } else {
            a->src = ic_audio_src_ffmpeg_fd(a->fd, 0, head, (size_t)got, a->name, &unsupported, &e2);
        }
        if (!a->src) {
            if (unsupported) ic_error_set(err, e2.code, "%s", e2.msg);
            else ic_error_set(err, IC_ERR_FORMAT, "%s: not a recognised audio stream (libavformat: %s)",
                              a->name, reason(&e2, a->name));
            ic_audio_close(a);
            return NULL;
        }
    }
    return audio_finish(a, out_rate, err);
}

ic_audio *ic_audio_open_raw(const char *path, int in_rate, int channels, int out_rate,
                            ic_error *err) {
    if (!path) { ic_error_set(err, IC_ERR_ARG, "audio: no path given"); return NULL; }
    if (in_rate <= 0 || channels <= 0 || channels > MAX_CHANNELS || out_rate < 0) {
        ic_error_set(err, IC_ERR_ARG,
                     "%s: raw PCM needs a rate > 0, 1..%d channels and an output rate >= 0; got %d Hz, %d channels, %d Hz",
                     path, MAX_CHANNELS, in_rate, channels, out_rate);
        return NULL;
    }
    struct stat st;
    ic_audio *a = audio_alloc(path, &st, err);
    if (!a) return NULL;
    a->src = ic_audio_src_raw(a->fd, in_rate, channels, a->name, err);
    if (!a->src) { ic_audio_close(a); return NULL; }
    return audio_finish(a, out_rate, err);
}

const ic_audio_info *ic_audio_get_info(const ic_audio *a) { return &a->info; }

static long fail(ic_audio *a, ic_error *err) {
    a->failed = 1;
    if (err) *err = a->fail;
    return -1;
}

/* Decodes the next native block into a->mono.  Returns 0, or -1 with a->fail set. */
static int refill(ic_audio *a) {
    const int ch = a->info.channels;
    long r = a->src->read(a->src, a->native, BLOCK_FRAMES, &a->fail);
    if (r < 0) return -1;
    if (r == 0) {
        a->in_eof = 1;
        if (a->info.frames_exact && a->frames_in < a->info.frames) {
            ic_error_set(&a->fail, IC_ERR_FORMAT,
                         "%s: truncated: the header declares %lld frames (%.3f s) but only %lld (%.3f s) could be decoded",
                         a->name, a->info.frames, (double)a->info.frames / a->info.sample_rate,
                         a->frames_in, (double)a->frames_in / a->info.sample_rate);
            return -1;
        }
        if (a->frames_in == 0) {
            ic_error_set(&a->fail, IC_ERR_FORMAT, "%s: no audio samples", a->name);
            return -1;
        }
        return 0;
    }
    const float *x = a->native;
    const float inv = 1.0f / (float)ch;
    for (long t = 0; t < r; t++) {
        float s = 0;
        for (int c = 0; c < ch; c++) {
            float v = x[(size_t)t * ch + c];
            if (!isfinite(v)) {
                ic_error_set(&a->fail, IC_ERR_FORMAT, "%s: NaN or infinite sample at %.3f s",
                             a->name, (double)(a->frames_in + t) / a->info.sample_rate);
                return -1;
            }
            s += v;
        }
        a->mono[t] = ch == 1 ? s : s * inv;
    }
    a->mono_len = (size_t)r;
    a->mono_pos = 0;
    a->frames_in += r;
    return 0;
}

long ic_audio_read(ic_audio *a, float *buf, size_t n, ic_error *err) {
    if (a->failed) return fail(a, err);
    if (n > (size_t)LONG_MAX) n = (size_t)LONG_MAX;
    size_t produced = 0;
    while (produced < n && !a->done) {
        if (a->mono_pos == a->mono_len && !a->in_eof && refill(a) != 0) return fail(a, err);
        size_t used = 0, gen = 0;
        if (ic_resampler_process(a->rs, a->mono + a->mono_pos, a->mono_len - a->mono_pos, &used,
                                 buf + produced, n - produced, &gen, a->in_eof, &a->fail) != IC_OK) {
            char m[sizeof a->fail.msg];
            snprintf(m, sizeof m, "%s", a->fail.msg);
            ic_error_set(&a->fail, a->fail.code, "%s: %s", a->name, m);
            return fail(a, err);
        }
        a->mono_pos += used;
        produced += gen;
        if (a->in_eof && a->mono_pos == a->mono_len && gen == 0) a->done = 1;
    }
    a->out_total += (long long)produced;
    return (long)produced;
}

ic_status ic_audio_read_all(ic_audio *a, float **samples, size_t *n, ic_error *err) {
    *samples = NULL;
    *n = 0;
    const ic_audio_info *in = &a->info;
    /* Preallocate from the header's length, but never trust a header for more than 64 MiB. */
    size_t cap = 1 << 16;
    if (in->frames > 0) {
        double est = (double)in->frames * in->out_rate / in->sample_rate + 64;
        cap = est < (double)(1 << 24) ? (size_t)est : (size_t)1 << 24;
    }
    float *buf = malloc(cap * sizeof *buf);
    size_t len = 0;
    for (;;) {
        if (!buf) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", a->name);
        if (len == cap) {
            if (cap > ((size_t)-1 / sizeof *buf) / 2) {
                free(buf);
                return ic_error_set(err, IC_ERR_NOMEM, "%s: too long to hold in memory", a->name);
            }
            float *nb = realloc(buf, 2 * cap * sizeof *buf);
            if (!nb) free(buf);
            buf = nb;
            cap *= 2;
            continue;
        }
        long r = ic_audio_read(a, buf + len, cap - len, err);
        if (r < 0) {
            free(buf);
            return a->fail.code;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    *samples = buf;
    *n = len;
    return IC_OK;
}

ic_status ic_audio_load(const char *path, int out_rate, float **samples, size_t *n,
                        ic_audio_info *info, ic_error *err) {
    *samples = NULL;
    *n = 0;
    ic_error local;
    if (!err) err = &local;
    ic_audio *a = ic_audio_open(path, out_rate, err);
    if (!a) return err->code;
    if (info) *info = a->info;
    ic_status s = ic_audio_read_all(a, samples, n, err);
    ic_audio_close(a);
    return s;
}
