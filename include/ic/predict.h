/* Running a trained model on windows of audio, shared by icinfer and iceval: a batch
 * of input slots filled through ic_model_features (the one feature path training
 * also uses), an inference-mode forward pass, and softmax probabilities per head;
 * then each window decoded into playing / family / top families / pitch.  Also the
 * small helpers the programs need: argmax, top-k, MIDI note names.
 *
 * Heads follow the model conventions: "family" (classes named by the head's labels,
 * else NSynth family order), "pitch" (class k = MIDI pitch_base + k), "activity"
 * (class named "playing", else class 1, means something is playing).  Any head may
 * be absent.  Not here: scoring against labels (ic/metrics.h). */
#ifndef IC_PREDICT_H
#define IC_PREDICT_H
#include <stddef.h>
#include "ic/model.h"

#define IC_PREDICT_TOPK 3            /* families listed per window */
#define IC_PLAYING_THRESHOLD 0.5f    /* p(playing) at or above this: playing */

typedef struct {
    ic_model *model;                 /* not owned */
    int cap;                         /* slots */
    size_t in_floats;                /* floats per slot: n_features * n_frames */
    float *x;                        /* (cap, 1, n_features, n_frames) network inputs */
    float *probs[IC_NET_MAX_HEADS];  /* (cap, classes of head h) after ic_predictor_run */
    int n;                           /* windows in the last run */
    int playing_class;               /* activity class meaning "playing"; -1 without the head */
} ic_predictor;

/* Slots for batches of up to cap windows (reserves the network's arena). */
ic_predictor *ic_predictor_new(ic_model *m, int cap, ic_error *err);
void ic_predictor_free(ic_predictor *p);
/* Network input of slot i (in_floats floats). */
float *ic_predictor_slot(ic_predictor *p, int i);
/* Features of one window of samples (n at the model rate; shorter is zero padded,
 * longer cut) into slot i.  work: ic_model_work_floats(model) floats.  Threads may
 * fill different slots at once, each with its own work buffer. */
void ic_predictor_set_window(ic_predictor *p, int i, const float *samples, size_t n, float *work);
/* Forward pass over slots 0..n-1 and softmax of every head.  Not thread safe
 * (one forward at a time per model); calls BLAS, so never inside an OpenMP region. */
void ic_predictor_run(ic_predictor *p, int n);
/* Probabilities (classes) of head h for window i of the last run. */
const float *ic_predictor_probs(const ic_predictor *p, int h, int i);

/* One window's decoded prediction. */
typedef struct {
    float p_playing;                 /* 1 when the model has no activity head */
    int playing;                     /* p_playing >= IC_PLAYING_THRESHOLD */
    int family;                      /* family class, -1 without a family head */
    float family_p;
    int n_top;                       /* entries in top (<= IC_PREDICT_TOPK) */
    int top[IC_PREDICT_TOPK];        /* family classes by falling probability */
    float top_p[IC_PREDICT_TOPK];
    int pitch_midi;                  /* MIDI number, -1 without a pitch head */
    float pitch_p;
} ic_prediction;

/* Decodes window i of the last run (family and pitch are filled even when not playing). */
void ic_predictor_decode(const ic_predictor *p, int i, ic_prediction *out);

/* Name of family class k: the head's label, else the NSynth name, else "class K" in buf. */
const char *ic_predict_family_name(const ic_model *m, int k, char *buf, size_t cap);

/* Index of the largest of x[0..k) (first on ties); k > 0. */
int ic_argmax(const float *x, int k);
/* The min(n, k) indices of the largest values, largest first (ties: lower index
 * first) into idx; returns their count. */
int ic_topk(const float *x, int k, int n, int *idx);
/* Scientific pitch name of a MIDI number: 60 -> "C4", 21 -> "A0", 61 -> "C#4";
 * "?" outside 0..127.  buf of at least 8 bytes. */
const char *ic_midi_note_name(int midi, char *buf, size_t cap);
#endif
