/* Standard MIDI file writer, format 0 (include/ic/midi.h).  Not here: reading. */
#include "ic/midi.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { uint32_t tick; int on, key, vel; } event;

size_t ic_midi_vlq(uint32_t v, unsigned char out[4]) {
    IC_ASSERT(v < (1u << 28));
    unsigned char tmp[4];
    size_t n = 0;
    do { tmp[n++] = (unsigned char)(v & 0x7f); v >>= 7; } while (v);
    for (size_t i = 0; i < n; i++) out[i] = (unsigned char)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
    return n;
}

static int cmp_event(const void *a, const void *b) {
    const event *x = a, *y = b;
    if (x->tick != y->tick) return x->tick < y->tick ? -1 : 1;
    if (x->on != y->on) return x->on - y->on;
    return x->key - y->key;
}

static void put32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16); p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

ic_status ic_midi_encode(const ic_midi_note *notes, size_t n, double bpm, int division,
                         unsigned char **out, size_t *len, ic_error *err) {
    *out = NULL;
    *len = 0;
    if (!(bpm > 0 && bpm <= 1000)) return ic_error_set(err, IC_ERR_ARG, "midi: tempo must be in (0, 1000] BPM, got %g", bpm);
    if (division < 1 || division > 32767) return ic_error_set(err, IC_ERR_ARG, "midi: division must be 1..32767, got %d", division);
    uint32_t usq = (uint32_t)lround(60e6 / bpm);
    if (usq > 0xffffff) usq = 0xffffff;
    double ticks_per_s = (double)division * 1e6 / (double)usq;
    const double max_s = (double)((1u << 28) - 2) / ticks_per_s;
    for (size_t i = 0; i < n; i++) {
        const ic_midi_note *m = &notes[i];
        if (!(m->onset >= 0 && m->offset >= m->onset && m->offset <= max_s))
            return ic_error_set(err, IC_ERR_ARG, "midi: note %zu: times %g..%g s out of range", i, m->onset, m->offset);
        if (m->pitch < 0 || m->pitch > 127 || m->velocity < 1 || m->velocity > 127)
            return ic_error_set(err, IC_ERR_ARG, "midi: note %zu: pitch %d / velocity %d out of range", i, m->pitch, m->velocity);
    }
    event *ev = malloc((2 * n + 1) * sizeof *ev);
    /* header 14 + track header 8 + tempo 7 + end 4 + at most 4 + 3 bytes per event */
    size_t cap = 14 + 8 + 7 + 4 + 14 * n;
    unsigned char *b = malloc(cap);
    if (!ev || !b) { free(ev); free(b); return ic_error_set(err, IC_ERR_NOMEM, "midi: out of memory"); }
    for (size_t i = 0; i < n; i++) {
        uint32_t on = (uint32_t)llround(notes[i].onset * ticks_per_s), off = (uint32_t)llround(notes[i].offset * ticks_per_s);
        if (off <= on) off = on + 1;
        ev[2 * i] = (event){on, 1, notes[i].pitch, notes[i].velocity};
        ev[2 * i + 1] = (event){off, 0, notes[i].pitch, 64};
    }
    qsort(ev, 2 * n, sizeof *ev, cmp_event);
    size_t k = 0;
    memcpy(b + k, "MThd", 4); k += 4;
    put32(b + k, 6); k += 4;
    const unsigned char fmt[6] = {0, 0, 0, 1, (unsigned char)(division >> 8), (unsigned char)division};
    memcpy(b + k, fmt, 6); k += 6;
    memcpy(b + k, "MTrk", 4); k += 4;
    size_t len_at = k;
    k += 4;
    const unsigned char tempo[7] = {0x00, 0xff, 0x51, 0x03, (unsigned char)(usq >> 16), (unsigned char)(usq >> 8), (unsigned char)usq};
    memcpy(b + k, tempo, 7); k += 7;
    uint32_t now = 0;
    for (size_t i = 0; i < 2 * n; i++) {
        k += ic_midi_vlq(ev[i].tick - now, b + k);
        now = ev[i].tick;
        b[k++] = (unsigned char)(ev[i].on ? 0x90 : 0x80);
        b[k++] = (unsigned char)ev[i].key;
        b[k++] = (unsigned char)ev[i].vel;
    }
    const unsigned char end[4] = {0x00, 0xff, 0x2f, 0x00};
    memcpy(b + k, end, 4); k += 4;
    IC_ASSERT(k <= cap);
    put32(b + len_at, (uint32_t)(k - len_at - 4));
    free(ev);
    *out = b;
    *len = k;
    return IC_OK;
}

ic_status ic_midi_write(const char *path, const ic_midi_note *notes, size_t n, double bpm, int division,
                        ic_error *err) {
    unsigned char *b;
    size_t len;
    ic_status st = ic_midi_encode(notes, n, bpm, division, &b, &len, err);
    if (st != IC_OK) return st;
    size_t pl = strlen(path) + 5;
    char *tmp = malloc(pl);
    if (!tmp) { free(b); return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); }
    snprintf(tmp, pl, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        st = ic_error_set(err, IC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    } else {
        size_t done = 0;
        while (done < len) {
            ssize_t w = write(fd, b + done, len - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            done += (size_t)w;
        }
        int bad = done < len || fsync(fd) != 0;
        int e = errno;
        if (close(fd) != 0 && !bad) { bad = 1; e = errno; }
        if (bad) st = ic_error_set(err, IC_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
        else if (rename(tmp, path) != 0) st = ic_error_set(err, IC_ERR_IO, "%s: cannot rename %s to it: %s", path, tmp, strerror(errno));
        if (st != IC_OK) unlink(tmp);
    }
    free(tmp);
    free(b);
    return st;
}
