/* Wiring of pitch tracker, onset detector, note segmenter and tempo envelope
 * (include/ic/transcribe.h).  The two trackers release frame k at different delays;
 * frames wait in two small queues until both halves of frame k are in.  Finished notes
 * wait in a third, and their onsets go to the tempo tracker.  One thread:
 * the whole chain runs about 70x faster than real time on one core at 22 kHz (running
 * the two trackers on two OpenMP threads was measured slower).
 * Not here: any analysis of its own. */
#include "ic/transcribe.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ic_transcriber {
    int rate;
    ic_pitch *pitch;
    ic_onset *onset;
    ic_notes *notes;
    ic_tempo *tempo;
    ic_pitch_frame *pq;       /* pitch frames waiting for their onset half */
    size_t pq_head, pq_len, pq_cap;
    ic_onset_frame *oq;       /* onset frames waiting for their pitch half */
    size_t oq_head, oq_len, oq_cap;
    ic_note *nq;              /* finished notes not yet popped */
    size_t nq_head, nq_len, nq_cap;
    long long samples;
    ic_frame_fn observer;
    void *observer_ctx;
};

void ic_transcriber_defaults(ic_transcriber_params *p, int rate, double a4) {
    ic_pitch_defaults(&p->pitch, rate);
    ic_onset_defaults(&p->onset, rate);
    /* the segmenter and the tempo see the hop actually used (whole samples) */
    double hop_s = (double)lround(p->pitch.hop_s * rate) / rate;
    if (hop_s <= 0) hop_s = 1.0 / rate;
    ic_notes_defaults(&p->notes, hop_s);
    p->notes.a4 = a4;
    ic_tempo_defaults(&p->tempo, 1.0 / hop_s);
}

void ic_transcriber_free(ic_transcriber *t) {
    if (!t) return;
    ic_pitch_free(t->pitch);
    ic_onset_free(t->onset);
    ic_notes_free(t->notes);
    ic_tempo_free(t->tempo);
    free(t->pq);
    free(t->oq);
    free(t->nq);
    free(t);
}

ic_transcriber *ic_transcriber_new(const ic_transcriber_params *p, ic_error *err) {
    if (p->pitch.rate != p->onset.rate)
        { ic_error_set(err, IC_ERR_ARG, "transcriber: pitch and onset rates differ"); return NULL; }
    ic_transcriber *t = calloc(1, sizeof *t);
    if (!t) { ic_error_set(err, IC_ERR_NOMEM, "transcriber: out of memory"); return NULL; }
    t->rate = p->pitch.rate;
    if (!(t->pitch = ic_pitch_new(&p->pitch, err)) || !(t->onset = ic_onset_new(&p->onset, err)) ||
        !(t->notes = ic_notes_new(&p->notes, err)) || !(t->tempo = ic_tempo_new(&p->tempo, err))) {
        ic_transcriber_free(t);
        return NULL;
    }
    if (ic_pitch_hop(t->pitch) != ic_onset_hop(t->onset)) {
        ic_error_set(err, IC_ERR_ARG, "transcriber: pitch hop %zu and onset hop %zu differ",
                     ic_pitch_hop(t->pitch), ic_onset_hop(t->onset));
        ic_transcriber_free(t);
        return NULL;
    }
    return t;
}

void ic_transcriber_set_observer(ic_transcriber *t, ic_frame_fn fn, void *ctx) {
    t->observer = fn;
    t->observer_ctx = ctx;
}

/* Appends x to a queue of elements of size sz.  0 or -1 (memory). */
static int push(void **q, size_t *head, size_t *len, size_t *cap, const void *x, size_t sz) {
    if (*head == *len) *head = *len = 0;
    if (*len == *cap) {
        if (*head > 0) {
            memmove(*q, (char *)*q + *head * sz, (*len - *head) * sz);
            *len -= *head;
            *head = 0;
        }
        if (*len == *cap) {
            size_t c = *cap ? 2 * *cap : 64;
            void *n = realloc(*q, c * sz);
            if (!n) return -1;
            *q = n;
            *cap = c;
        }
    }
    memcpy((char *)*q + *len * sz, x, sz);
    (*len)++;
    return 0;
}

/* Moves finished notes into the queue, marking their onsets for the tempo tracker. */
static ic_status take_notes(ic_transcriber *t, ic_error *err) {
    ic_note x;
    while (ic_notes_pop(t->notes, &x)) {
        if (push((void **)&t->nq, &t->nq_head, &t->nq_len, &t->nq_cap, &x, sizeof x))
            return ic_error_set(err, IC_ERR_NOMEM, "transcriber: out of memory");
        ic_status st = ic_tempo_add_note(t->tempo, x.onset, err);
        if (st != IC_OK) return st;
    }
    return IC_OK;
}

/* Moves the trackers' frames into the queues and joins what can be joined. */
static ic_status join(ic_transcriber *t, ic_error *err) {
    ic_pitch_frame pf;
    ic_onset_frame of;
    while (ic_pitch_pop(t->pitch, &pf))
        if (push((void **)&t->pq, &t->pq_head, &t->pq_len, &t->pq_cap, &pf, sizeof pf))
            return ic_error_set(err, IC_ERR_NOMEM, "transcriber: out of memory");
    while (ic_onset_pop(t->onset, &of))
        if (push((void **)&t->oq, &t->oq_head, &t->oq_len, &t->oq_cap, &of, sizeof of))
            return ic_error_set(err, IC_ERR_NOMEM, "transcriber: out of memory");
    while (t->pq_head < t->pq_len && t->oq_head < t->oq_len) {
        const ic_pitch_frame *p = &t->pq[t->pq_head++];
        const ic_onset_frame *o = &t->oq[t->oq_head++];
        IC_ASSERT(p->index == o->index);
        ic_note_frame f = {p->index, p->time, p->f0, p->periodicity, p->rms, o->strength, o->onset};
        if (t->observer) t->observer(t->observer_ctx, &f);
        ic_status st = ic_notes_add(t->notes, &f, err);
        if (st == IC_OK) st = ic_tempo_add(t->tempo, o->strength, o->onset, err);
        if (st != IC_OK) return st;
    }
    return take_notes(t, err);
}

ic_status ic_transcriber_process(ic_transcriber *t, const float *x, size_t n, ic_error *err) {
    ic_status st = ic_pitch_process(t->pitch, x, n, err);
    if (st == IC_OK) st = ic_onset_process(t->onset, x, n, err);
    if (st == IC_OK) st = join(t, err);
    t->samples += (long long)n;
    return st;
}

ic_status ic_transcriber_finish(ic_transcriber *t, ic_error *err) {
    ic_status st = ic_pitch_finish(t->pitch, err);
    if (st == IC_OK) st = ic_onset_finish(t->onset, err);
    if (st == IC_OK) st = join(t, err);
    /* both trackers frame k*hop < samples: the same count */
    IC_ASSERT(st != IC_OK || (t->pq_head == t->pq_len && t->oq_head == t->oq_len));
    if (st == IC_OK) st = ic_notes_finish(t->notes, err);
    if (st == IC_OK) st = take_notes(t, err);
    return st;
}

int ic_transcriber_pop(ic_transcriber *t, ic_note *out) {
    if (t->nq_head == t->nq_len) return 0;
    *out = t->nq[t->nq_head++];
    return 1;
}
ic_notes *ic_transcriber_notes(ic_transcriber *t) { return t->notes; }
ic_tempo *ic_transcriber_tempo(ic_transcriber *t) { return t->tempo; }
double ic_transcriber_seconds(const ic_transcriber *t) { return (double)t->samples / t->rate; }

int ic_transcriber_drain(ic_transcriber *t, ic_note_list *l) {
    for (;;) {
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 64;
            ic_note *v = realloc(l->v, cap * sizeof *v);
            if (!v) return -1;
            l->v = v;
            l->cap = cap;
        }
        if (!ic_transcriber_pop(t, &l->v[l->n])) return 0;
        l->n++;
    }
}

void ic_note_list_free(ic_note_list *l) {
    free(l->v);
    *l = (ic_note_list){0};
}
