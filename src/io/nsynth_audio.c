/* Audio of NSynth examples.  Every wav, whether a file in a folder or a member of an
 * archive, is read whole into memory (a 4 s 16-bit clip is 128 KB) and decoded by
 * libsndfile through virtual I/O on that buffer: one decoder path, so the folder and
 * the archive give bit-identical samples.  Channels are averaged to mono; nothing is
 * resampled (the reader checks rates, the feature cache requires the model rate). */
#include "ic/nsynth.h"
#include "ic/tar_gz.h"
#include "strmap.h"
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdlib.h>
#include <string.h>

#define WAV_MAX_BYTES ((size_t)1 << 30)

typedef struct {
    const unsigned char *data;
    sf_count_t size, pos;
} membuf;

static sf_count_t mb_len(void *u) { return ((membuf *)u)->size; }
static sf_count_t mb_seek(sf_count_t off, int whence, void *u) {
    membuf *m = u;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    if (base + off < 0 || base + off > m->size) return -1;
    m->pos = base + off;
    return m->pos;
}
static sf_count_t mb_read(void *ptr, sf_count_t n, void *u) {
    membuf *m = u;
    sf_count_t k = m->size - m->pos < n ? m->size - m->pos : n;
    if (k <= 0) return 0;
    memcpy(ptr, m->data + m->pos, (size_t)k);
    m->pos += k;
    return k;
}
static sf_count_t mb_write(const void *ptr, sf_count_t n, void *u) { return 0; }
static sf_count_t mb_tell(void *u) { return ((membuf *)u)->pos; }

ic_status ic_nsynth_decode_wav_mem(const void *data, size_t size, const char *name, float **samples,
                                   long long *frames, int *rate, int *channels, ic_error *err) {
    if (samples) *samples = NULL;
    SF_VIRTUAL_IO vio = {mb_len, mb_seek, mb_read, mb_write, mb_tell};
    membuf mb = {data, (sf_count_t)size, 0};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &mb);
    if (!sf)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: not a readable audio file: %s", name, sf_strerror(NULL));
    if (info.samplerate <= 0 || info.channels <= 0 || info.frames < 0) {
        sf_close(sf);
        return ic_error_set(err, IC_ERR_FORMAT, "%s: bad header (rate %d, %d channels)", name,
                            info.samplerate, info.channels);
    }
    *frames = info.frames;
    *rate = info.samplerate;
    *channels = info.channels;
    if (!samples) { sf_close(sf); return IC_OK; }
    /* the output grows with what is actually decoded: a hostile header may declare
     * far more frames than the buffer holds */
    size_t nf = (size_t)info.frames, ch = (size_t)info.channels, cap = nf < 65536 ? nf + 1 : 65536;
    float *out = malloc(cap * sizeof *out);
    float *buf = malloc(4096 * ch * sizeof *buf);
    if (!out || !buf) {
        free(out); free(buf); sf_close(sf);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", name);
    }
    size_t done = 0;
    while (done < nf) {
        sf_count_t want = nf - done < 4096 ? (sf_count_t)(nf - done) : 4096;
        if (done + (size_t)want > cap) {
            size_t nc = cap * 2 < nf ? cap * 2 : nf;
            float *no = realloc(out, nc * sizeof *out);
            if (!no) {
                free(out); free(buf); sf_close(sf);
                return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory for %zu frames", name, nc);
            }
            out = no;
            cap = nc;
        }
        sf_count_t got = sf_readf_float(sf, buf, want);
        if (got <= 0) break;
        for (sf_count_t i = 0; i < got; i++) {
            double s = 0;
            for (size_t c = 0; c < ch; c++) s += buf[(size_t)i * ch + c];
            out[done + (size_t)i] = (float)(s / (double)ch);
        }
        done += (size_t)got;
    }
    free(buf);
    int sferr = sf_error(sf);
    sf_close(sf);
    if (done < nf) {
        free(out);
        return ic_error_set(err, IC_ERR_FORMAT, "%s: truncated: %zu of %zu frames decoded%s%s", name, done, nf,
                            sferr ? ": " : "", sferr ? sf_error_number(sferr) : "");
    }
    for (size_t i = 0; i < nf; i++)
        if (!isfinite(out[i])) {
            free(out);
            return ic_error_set(err, IC_ERR_FORMAT, "%s: sample %zu is not finite", name, i);
        }
    *samples = out;
    return IC_OK;
}

/* Reads a whole file (at most WAV_MAX_BYTES). */
static ic_status read_file(const char *path, unsigned char **data, size_t *size, ic_error *err) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 18, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) { fclose(f); return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= WAV_MAX_BYTES) {
            free(buf); fclose(f);
            return ic_error_set(err, IC_ERR_FORMAT, "%s: larger than %zu bytes", path, WAV_MAX_BYTES);
        }
        unsigned char *nb = realloc(buf, cap * 2);
        if (!nb) free(buf);
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) { free(buf); return ic_error_set(err, IC_ERR_IO, "%s: read error", path); }
    *data = buf;
    *size = n;
    return IC_OK;
}

static ic_status decode_file(const char *path, float **samples, size_t *n, int *rate, ic_error *err) {
    unsigned char *data;
    size_t size = 0;
    ic_status st = read_file(path, &data, &size, err);
    if (st) return st;
    long long frames;
    int ch;
    st = ic_nsynth_decode_wav_mem(data, size, path, samples, &frames, rate, &ch, err);
    free(data);
    if (!st) *n = (size_t)frames;
    return st;
}

ic_status ic_nsynth_load_audio(const ic_nsynth_split *s, size_t i, float **samples, size_t *n, int *rate,
                               ic_error *err) {
    *samples = NULL;
    if (i >= s->n) return ic_error_set(err, IC_ERR_ARG, "%s: example %zu of %zu", s->source, i, s->n);
    if (s->from_archive)
        return ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: archive members are read in one pass (ic_nsynth_stream)",
                            s->source);
    return decode_file(s->ex[i].wav, samples, n, rate, err);
}

struct ic_nsynth_stream {
    const ic_nsynth_split *s;
    size_t next;          /* folders: next index */
    ic_tar *tar;          /* archives */
    ic_strmap members;    /* member name -> example index */
    unsigned char *seen;  /* archives: delivered flags */
};

ic_nsynth_stream *ic_nsynth_stream_open(const ic_nsynth_split *s, ic_error *err) {
    ic_nsynth_stream *st = calloc(1, sizeof *st);
    if (!st) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", s->source); return NULL; }
    st->s = s;
    if (!s->from_archive) return st;
    st->seen = calloc(s->n ? s->n : 1, 1);
    if (!st->seen || ic_strmap_init(&st->members, s->n)) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", s->source);
        ic_nsynth_stream_close(st);
        return NULL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (ic_strmap_put(&st->members, s->ex[i].wav, i, NULL) < 0) {
            ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", s->source);
            ic_nsynth_stream_close(st);
            return NULL;
        }
    st->tar = ic_tar_open(s->source, err);
    if (!st->tar) { ic_nsynth_stream_close(st); return NULL; }
    return st;
}

int ic_nsynth_stream_next(ic_nsynth_stream *st, size_t *index, float **samples, size_t *n, int *rate,
                          ic_error *err) {
    const ic_nsynth_split *s = st->s;
    *samples = NULL;
    if (!s->from_archive) {
        if (st->next >= s->n) return 0;
        *index = st->next;
        if (decode_file(s->ex[st->next].wav, samples, n, rate, err)) return -1;
        st->next++;
        return 1;
    }
    ic_tar_entry e;
    int r;
    while ((r = ic_tar_next(st->tar, &e, err)) == 1) {
        size_t i;
        if (e.type != '0' || !ic_strmap_get(&st->members, e.name, &i) || st->seen[i]) continue;
        char *data;
        size_t size;
        if (ic_tar_read_all(st->tar, WAV_MAX_BYTES, &data, &size, err)) return -1;
        char what[IC_TAR_NAME_MAX + 600];
        snprintf(what, sizeof what, "%s: %s", s->source, e.name);
        long long frames;
        int ch;
        ic_status stt = ic_nsynth_decode_wav_mem(data, size, what, samples, &frames, rate, &ch, err);
        free(data);
        if (stt) return -1;
        st->seen[i] = 1;
        *index = i;
        *n = (size_t)frames;
        return 1;
    }
    if (r < 0) return -1;
    for (size_t i = 0; i < s->n; i++)
        if (!st->seen[i]) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: member %s (entry '%s') is not in the archive", s->source,
                         s->ex[i].wav, s->ex[i].note_str);
            st->seen[i] = 1; /* report each missing member once */
            return -1;
        }
    return 0;
}

void ic_nsynth_stream_close(ic_nsynth_stream *st) {
    if (!st) return;
    ic_tar_close(st->tar);
    ic_strmap_free(&st->members);
    free(st->seen);
    free(st);
}
