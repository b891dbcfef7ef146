/* libsndfile back end of ic_audio: wav, flac, ogg/vorbis, opus, mp3, aiff and the
 * other formats libsndfile recognises by their content.  No downmixing or
 * resampling here (audio.c). */
#include "audio_src.h"
#include <errno.h>
#include <sndfile.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libsndfile reads through virtual I/O with pread on our descriptor: sf_open_fd
 * closes the descriptor when it fails to recognise a file even when told not to,
 * and the descriptor must survive for the ffmpeg attempt that follows. */
typedef struct {
    int fd;
    sf_count_t pos, size;
} vio_ctx;

typedef struct {
    ic_audio_src base;
    SNDFILE *sf;
    vio_ctx vio;
} sndfile_src;

static sf_count_t vio_len(void *user) { return ((vio_ctx *)user)->size; }

static sf_count_t vio_seek(sf_count_t off, int whence, void *user) {
    vio_ctx *v = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? v->pos : v->size;
    if (base + off < 0) return -1;
    v->pos = base + off;
    return v->pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t n, void *user) {
    vio_ctx *v = user;
    sf_count_t got = 0;
    while (got < n) {
        ssize_t r = pread(v->fd, (char *)ptr + got, (size_t)(n - got), (off_t)(v->pos + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += r;
    }
    v->pos += got;
    return got;
}

static sf_count_t vio_write(const void *ptr, sf_count_t n, void *user) { return 0; }

static sf_count_t vio_tell(void *user) { return ((vio_ctx *)user)->pos; }

static long sndfile_read(ic_audio_src *s, float *buf, size_t n, ic_error *err) {
    sndfile_src *q = (sndfile_src *)s;
    sf_count_t r = sf_readf_float(q->sf, buf, (sf_count_t)n);
    if (r < 0 || (r < (sf_count_t)n && sf_error(q->sf) != SF_ERR_NO_ERROR)) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: decoding failed: %s", s->name, sf_strerror(q->sf));
        return -1;
    }
    return (long)r;
}

static void sndfile_close(ic_audio_src *s) {
    sndfile_src *q = (sndfile_src *)s;
    if (q->sf) sf_close(q->sf);
    free(q);
}

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* libsndfile silently shortens a WAV whose data chunk runs past the end of the file;
 * a copy cut short is bad input, so walk the RIFF chunks to compare the declared data
 * size with what is there.  0 and 0xFFFFFFFF are the placeholders streaming writers
 * leave, not truncation.  pread: libsndfile's file position is left alone. */
static ic_status wav_check_truncation(int fd, const char *name, ic_error *err) {
    struct stat st;
    unsigned char h[12];
    if (fstat(fd, &st) != 0 || pread(fd, h, 12, 0) != 12) return IC_OK;
    if (memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) return IC_OK;
    long long size = (long long)st.st_size, pos = 12;
    for (int guard = 0; guard < 4096 && pos + 8 <= size; guard++) {
        if (pread(fd, h, 8, (off_t)pos) != 8) return IC_OK;
        uint32_t len = le32(h + 4);
        if (memcmp(h, "data", 4) == 0) {
            long long have = size - pos - 8;
            if (len != 0 && len != 0xFFFFFFFFu && (long long)len > have)
                return ic_error_set(err, IC_ERR_FORMAT,
                    "%s: truncated WAV: the data chunk declares %u bytes but the file holds only %lld (%.0f%%)",
                    name, len, have, 100.0 * (double)have / (double)len);
            return IC_OK;
        }
        pos += 8 + (long long)len + (len & 1);
    }
    return IC_OK;
}

static void format_name(int format, int cmd_mask, char *dst, size_t cap) {
    SF_FORMAT_INFO fi;
    memset(&fi, 0, sizeof fi);
    fi.format = format & cmd_mask;
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0 && fi.name)
        snprintf(dst, cap, "%s", fi.name);
    else
        snprintf(dst, cap, "0x%x", (unsigned)(format & cmd_mask));
}

ic_audio_src *ic_audio_src_sndfile(int fd, const char *name, int *claimed, ic_error *err) {
    *claimed = 0;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot stat: %s", name, strerror(errno));
        return NULL;
    }
    sndfile_src *q = calloc(1, sizeof *q);
    if (!q) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    q->vio.fd = fd;
    q->vio.size = (sf_count_t)st.st_size;
    SF_VIRTUAL_IO vio = { vio_len, vio_seek, vio_read, vio_write, vio_tell };
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &q->vio);
    if (!sf) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: %s", name, sf_strerror(NULL));
        free(q);
        return NULL;
    }
    *claimed = 1;
    if (info.samplerate <= 0 || info.channels <= 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: header gives %d Hz and %d channels", name,
                     info.samplerate, info.channels);
        sf_close(sf);
        free(q);
        return NULL;
    }
    int major = info.format & SF_FORMAT_TYPEMASK;
    if ((major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) &&
        wav_check_truncation(fd, name, err) != IC_OK) {
        sf_close(sf);
        free(q);
        return NULL;
    }
    q->sf = sf;
    q->base.read = sndfile_read;
    q->base.close = sndfile_close;
    snprintf(q->base.name, sizeof q->base.name, "%s", name);
    ic_audio_info *in = &q->base.info;
    in->sample_rate = info.samplerate;
    in->channels = info.channels;
    /* MPEG lengths come from a Xing header or the bitrate: an estimate. */
    in->frames = (info.frames >= 0 && info.frames < SF_COUNT_MAX) ? (long long)info.frames : -1;
    in->frames_exact = in->frames >= 0 && major != SF_FORMAT_MPEG;
    snprintf(in->backend, sizeof in->backend, "sndfile");
    format_name(info.format, SF_FORMAT_TYPEMASK, in->container, sizeof in->container);
    format_name(info.format, SF_FORMAT_SUBMASK, in->codec, sizeof in->codec);
    return &q->base;
}
