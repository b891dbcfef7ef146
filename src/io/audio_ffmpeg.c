/* libavformat/libavcodec back end of ic_audio: m4a/aac and whatever else ffmpeg
 * reads that libsndfile does not.  I/O goes through our own AVIOContext (a file
 * descriptor, a pipe replaying the bytes already taken from it, or a memory image) and
 * the probe gets no file name, so the format is chosen by content alone.  libswresample
 * only converts sample formats to interleaved float here; audio.c downmixes and
 * resamples. */
#include "audio_src.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#define AVIO_BUF 65536

typedef struct {
    int fd, seekable;
    unsigned char *prefix;      /* bytes already taken from a pipe, replayed first */
    size_t n_prefix, prefix_pos;
    unsigned char *mem;         /* memory image (mem != NULL: no descriptor) */
    size_t mem_n, mem_pos;
} io_ctx;

typedef struct {
    ic_audio_src base;
    io_ctx io;
    AVIOContext *avio;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    SwrContext *swr;
    int swr_fmt;                /* input sample format swr was set up for, -1 none */
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    float *fbuf;                /* decoded interleaved frames not yet delivered */
    size_t fcap, flen, fpos;    /* capacity, count and read position, in frames */
    int flushing, eof;
    long long decoded;          /* frames decoded so far */
    long long limit;            /* frames the container declares exactly, -1 none */
    int priming;                /* decoding the first frame inside open */
    long bad_packets;           /* corrupt packets skipped */
    long bad_run;               /* ... in a row, since the last good frame */
} ffmpeg_src;

static char *averr(int e, char *buf, size_t cap) {
    if (av_strerror(e, buf, cap) < 0) snprintf(buf, cap, "error %d", e);
    return buf;
}

static int fd_read(void *opaque, uint8_t *buf, int size) {
    io_ctx *io = opaque;
    if (io->prefix_pos < io->n_prefix) {
        size_t k = io->n_prefix - io->prefix_pos;
        if (k > (size_t)size) k = (size_t)size;
        memcpy(buf, io->prefix + io->prefix_pos, k);
        io->prefix_pos += k;
        return (int)k;
    }
    for (;;) {
        ssize_t r = read(io->fd, buf, (size_t)size);
        if (r > 0) return (int)r;
        if (r == 0) return AVERROR_EOF;
        if (errno != EINTR) return AVERROR(errno);
    }
}

static int64_t fd_seek(void *opaque, int64_t offset, int whence) {
    io_ctx *io = opaque;
    whence &= ~AVSEEK_FORCE;
    if (whence == AVSEEK_SIZE) {
        struct stat st;
        return fstat(io->fd, &st) == 0 ? (int64_t)st.st_size : AVERROR(errno);
    }
    off_t r = lseek(io->fd, (off_t)offset, whence);
    return r < 0 ? AVERROR(errno) : (int64_t)r;
}

static int mem_read(void *opaque, uint8_t *buf, int size) {
    io_ctx *io = opaque;
    if (io->mem_pos >= io->mem_n) return AVERROR_EOF;
    size_t k = io->mem_n - io->mem_pos;
    if (k > (size_t)size) k = (size_t)size;
    memcpy(buf, io->mem + io->mem_pos, k);
    io->mem_pos += k;
    return (int)k;
}

static int64_t mem_seek(void *opaque, int64_t offset, int whence) {
    io_ctx *io = opaque;
    whence &= ~AVSEEK_FORCE;
    int64_t base;
    switch (whence) {
    case AVSEEK_SIZE: return (int64_t)io->mem_n;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)io->mem_pos; break;
    case SEEK_END: base = (int64_t)io->mem_n; break;
    default: return AVERROR(EINVAL);
    }
    if (offset > INT64_MAX - base || base + offset < 0 || base + offset > (int64_t)io->mem_n)
        return AVERROR(EINVAL);
    io->mem_pos = (size_t)(base + offset);
    return base + offset;
}

static void ffmpeg_close(ic_audio_src *s) {
    ffmpeg_src *q = (ffmpeg_src *)s;
    av_frame_free(&q->frame);
    av_packet_free(&q->pkt);
    avcodec_free_context(&q->dec);
    swr_free(&q->swr);
    avformat_close_input(&q->fmt);      /* custom I/O: the AVIOContext stays ours */
    if (q->avio) av_freep(&q->avio->buffer);
    avio_context_free(&q->avio);
    free(q->io.prefix);
    free(q->io.mem);
    free(q->fbuf);
    free(q);
}

/* Converts one decoded frame to interleaved float in fbuf. */
static int take_frame(ffmpeg_src *q, ic_error *err) {
    const ic_audio_info *in = &q->base.info;
    AVFrame *f = q->frame;
    char eb[128];
    if (q->decoded == 0 && q->fpos == 0 && q->flen == 0 && q->priming) {
        /* The first frame is the truth (e.g. HE-AAC doubles the rate the header gives). */
        q->base.info.sample_rate = f->sample_rate;
        q->base.info.channels = f->ch_layout.nb_channels;
    }
    if (f->sample_rate != in->sample_rate || f->ch_layout.nb_channels != in->channels) {
        ic_error_set(err, IC_ERR_UNSUPPORTED,
                     "%s: the stream changes from %d Hz, %d channels to %d Hz, %d channels mid-way",
                     q->base.name, in->sample_rate, in->channels, f->sample_rate,
                     f->ch_layout.nb_channels);
        return -1;
    }
    if (f->format != q->swr_fmt) {
        swr_free(&q->swr);
        int r = swr_alloc_set_opts2(&q->swr, &f->ch_layout, AV_SAMPLE_FMT_FLT, f->sample_rate,
                                    &f->ch_layout, (enum AVSampleFormat)f->format,
                                    f->sample_rate, 0, NULL);
        if (r >= 0) r = swr_init(q->swr);
        if (r < 0) {
            ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: cannot convert sample format '%s': %s",
                         q->base.name, av_get_sample_fmt_name((enum AVSampleFormat)f->format),
                         averr(r, eb, sizeof eb));
            return -1;
        }
        q->swr_fmt = f->format;
    }
    size_t n = (size_t)f->nb_samples;
    if (n > q->fcap) {
        float *nb = realloc(q->fbuf, n * (size_t)in->channels * sizeof *nb);
        if (!nb) {
            ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", q->base.name);
            return -1;
        }
        q->fbuf = nb;
        q->fcap = n;
    }
    uint8_t *out[1] = { (uint8_t *)q->fbuf };
    int got = swr_convert(q->swr, out, (int)n, (const uint8_t **)f->extended_data, (int)n);
    if (got < 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: sample conversion failed: %s", q->base.name,
                     averr(got, eb, sizeof eb));
        return -1;
    }
    if (q->limit >= 0 && q->decoded + got > q->limit)
        got = q->decoded < q->limit ? (int)(q->limit - q->decoded) : 0;
    q->flen = (size_t)got;
    q->fpos = 0;
    q->decoded += got;
    return 0;
}

/* A corrupt packet is skipped, as players do, unless corruption goes on and on. */
static int bad_packet(ffmpeg_src *q, ic_error *err) {
    q->bad_packets++;
    if (++q->bad_run <= 1000) return 0;
    ic_error_set(err, IC_ERR_FORMAT, "%s: over 1000 corrupt %s packets in a row", q->base.name,
                 q->base.info.codec);
    return -1;
}

/* Decodes until one frame is in fbuf (returns 1), the stream ends (0) or fails (-1). */
static int fill(ffmpeg_src *q, ic_error *err) {
    char eb[128];
    const char *name = q->base.name;
    while (!q->eof) {
        int r = avcodec_receive_frame(q->dec, q->frame);
        if (r == 0) {
            q->bad_run = 0;
            r = take_frame(q, err);
            av_frame_unref(q->frame);
            if (r < 0) return -1;
            if (q->flen > 0) return 1;
            continue;
        }
        if (r == AVERROR_EOF) { q->eof = 1; break; }
        if (r == AVERROR_INVALIDDATA) {
            if (bad_packet(q, err) != 0) return -1;
            continue;
        }
        if (r != AVERROR(EAGAIN)) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: decoding failed: %s", name, averr(r, eb, sizeof eb));
            return -1;
        }
        if (q->flushing) { q->eof = 1; break; }
        r = av_read_frame(q->fmt, q->pkt);
        if (r == AVERROR_EOF) {
            q->flushing = 1;
            avcodec_send_packet(q->dec, NULL);
            continue;
        }
        if (r < 0) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: reading the %s stream failed: %s", name,
                         q->base.info.container, averr(r, eb, sizeof eb));
            return -1;
        }
        if (q->pkt->stream_index != q->stream) { av_packet_unref(q->pkt); continue; }
        /* The decoder was drained above, so it must take the packet (no EAGAIN). */
        r = avcodec_send_packet(q->dec, q->pkt);
        av_packet_unref(q->pkt);
        if (r == AVERROR_INVALIDDATA) {
            if (bad_packet(q, err) != 0) return -1;
            continue;
        }
        if (r < 0) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: decoding failed: %s", name, averr(r, eb, sizeof eb));
            return -1;
        }
    }
    if (q->decoded == 0 && q->bad_packets > 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: none of the %ld %s packets could be decoded", name,
                     q->bad_packets, q->base.info.codec);
        return -1;
    }
    return 0;
}

static long ffmpeg_read(ic_audio_src *s, float *buf, size_t n, ic_error *err) {
    ffmpeg_src *q = (ffmpeg_src *)s;
    size_t ch = (size_t)s->info.channels, done = 0;
    while (done < n) {
        if (q->fpos == q->flen) {
            int r = fill(q, err);
            if (r < 0) return -1;
            if (r == 0) break;
        }
        size_t k = q->flen - q->fpos;
        if (k > n - done) k = n - done;
        memcpy(buf + done * ch, q->fbuf + q->fpos * ch, k * ch * sizeof *buf);
        q->fpos += k;
        done += k;
    }
    return (long)done;
}

/* Opens the container over q->io, picks the best audio stream and its decoder. */
static ic_audio_src *open_common(ffmpeg_src *q, int seekable, int *unsupported, ic_error *err) {
    const char *name = q->base.name;
    char eb[128];
    *unsupported = 0;
    q->swr_fmt = -1;
    q->base.read = ffmpeg_read;
    q->base.close = ffmpeg_close;
    unsigned char *iobuf = av_malloc(AVIO_BUF);
    if (iobuf) {
        int (*rd)(void *, uint8_t *, int) = q->io.mem ? mem_read : fd_read;
        int64_t (*sk)(void *, int64_t, int) = q->io.mem ? mem_seek : (seekable ? fd_seek : NULL);
        q->avio = avio_alloc_context(iobuf, AVIO_BUF, 0, &q->io, rd, NULL, sk);
        if (!q->avio) av_free(iobuf);
    }
    q->fmt = avformat_alloc_context();
    q->pkt = av_packet_alloc();
    q->frame = av_frame_alloc();
    if (!q->avio || !q->fmt || !q->pkt || !q->frame) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
        goto fail;
    }
    if (!q->io.mem && !seekable) q->avio->seekable = 0;
    q->fmt->pb = q->avio;
    q->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    int r = avformat_open_input(&q->fmt, "", NULL, NULL);   /* frees fmt on failure */
    if (r < 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: %s", name, averr(r, eb, sizeof eb));
        goto fail;
    }
    const char *cname = q->fmt->iformat->name;
    r = avformat_find_stream_info(q->fmt, NULL);
    if (r < 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: libavformat (%s): %s", name, cname, averr(r, eb, sizeof eb));
        goto fail;
    }
    const AVCodec *codec = NULL;
    q->stream = av_find_best_stream(q->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (q->stream == AVERROR_STREAM_NOT_FOUND) {
        *unsupported = 1;
        ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: no audio stream in this '%s' file", name, cname);
        goto fail;
    }
    if (q->stream < 0 || !codec) {
        int idx = av_find_best_stream(q->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
        const AVCodecParameters *par = idx >= 0 ? q->fmt->streams[idx]->codecpar : NULL;
        *unsupported = 1;
        ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: unsupported audio codec '%s' (tag 0x%x) in '%s'",
                     name, par ? avcodec_get_name(par->codec_id) : "?",
                     par ? par->codec_tag : 0u, cname);
        goto fail;
    }
    AVStream *st = q->fmt->streams[q->stream];
    q->dec = avcodec_alloc_context3(codec);
    if (!q->dec) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name); goto fail; }
    r = avcodec_parameters_to_context(q->dec, st->codecpar);
    if (r >= 0) {
        q->dec->pkt_timebase = st->time_base;
        r = avcodec_open2(q->dec, codec, NULL);
    }
    if (r < 0) {
        *unsupported = 1;
        ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: cannot open the %s decoder: %s", name,
                     codec->name, averr(r, eb, sizeof eb));
        goto fail;
    }
    ic_audio_info *in = &q->base.info;
    snprintf(in->backend, sizeof in->backend, "ffmpeg");
    snprintf(in->container, sizeof in->container, "%s", cname);
    snprintf(in->codec, sizeof in->codec, "%s", avcodec_get_name(st->codecpar->codec_id));
    in->sample_rate = q->dec->sample_rate;
    in->channels = q->dec->ch_layout.nb_channels;
    /* Decode the first frame now, so the format reported is the one delivered. */
    q->limit = -1;
    q->priming = 1;
    r = fill(q, err);
    q->priming = 0;
    if (r < 0) goto fail;
    if (in->sample_rate <= 0 || in->channels <= 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: the %s stream gives %d Hz and %d channels", name,
                     in->codec, in->sample_rate, in->channels);
        goto fail;
    }
    in->frames = -1;
    if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
        in->frames = av_rescale_q(st->duration, st->time_base, (AVRational){ 1, in->sample_rate });
    else if (q->fmt->duration != AV_NOPTS_VALUE && q->fmt->duration > 0)
        in->frames = av_rescale(q->fmt->duration, in->sample_rate, AV_TIME_BASE);
    in->frames_exact = 0;
    /* MP4 stores the exact length (the decoder skips the encoder's priming samples but
     * not the padding of the last AAC frame): stop there.  Elsewhere it may be a guess. */
    if ((strstr(cname, "mov") || strstr(cname, "mp4")) && in->frames > 0) {
        q->limit = in->frames;
        if (q->decoded > q->limit) {
            q->flen = (size_t)q->limit;
            q->decoded = q->limit;
        }
    }
    return &q->base;
fail:
    ffmpeg_close(&q->base);
    return NULL;
}

ic_audio_src *ic_audio_src_ffmpeg_fd(int fd, int seekable, const unsigned char *prefix,
                                     size_t n_prefix, const char *name, int *unsupported,
                                     ic_error *err) {
    *unsupported = 0;
    ffmpeg_src *q = calloc(1, sizeof *q);
    if (!q) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name); return NULL; }
    snprintf(q->base.name, sizeof q->base.name, "%s", name);
    q->io.fd = fd;
    q->io.seekable = seekable;
    if (n_prefix) {
        q->io.prefix = malloc(n_prefix);
        if (!q->io.prefix) {
            free(q);
            ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
            return NULL;
        }
        memcpy(q->io.prefix, prefix, n_prefix);
        q->io.n_prefix = n_prefix;
    }
    return open_common(q, seekable, unsupported, err);
}

ic_audio_src *ic_audio_src_ffmpeg_mem(unsigned char *data, size_t n, const char *name,
                                      int *unsupported, ic_error *err) {
    *unsupported = 0;
    ffmpeg_src *q = calloc(1, sizeof *q);
    if (!q) {
        free(data);
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    snprintf(q->base.name, sizeof q->base.name, "%s", name);
    q->io.fd = -1;
    q->io.mem = data;
    q->io.mem_n = n;
    return open_common(q, 1, unsupported, err);
}

const char *ic_audio_ffmpeg_probe(const unsigned char *buf, size_t n) {
    if (n > (size_t)1 << 20) n = (size_t)1 << 20;
    unsigned char *pad = calloc(1, n + AVPROBE_PADDING_SIZE);
    if (!pad) return NULL;
    memcpy(pad, buf, n);
    AVProbeData pd;
    memset(&pd, 0, sizeof pd);
    pd.filename = "";
    pd.buf = pad;
    pd.buf_size = (int)n;
    const AVInputFormat *f = av_probe_input_format(&pd, 1);
    free(pad);
    return f ? f->name : NULL;
}

void ic_audio_quiet_backends(void) { av_log_set_level(AV_LOG_QUIET); }
