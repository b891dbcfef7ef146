/* Training data for the classifier: NSynth-format splits with their labels,
 * read through the feature cache, plus a bank of "nothing is playing" windows
 * (silence, white/pink/brown noise at many levels, speech), and deterministic
 * batch assembly with augmentation.  Every random choice of a batch item is
 * drawn from an RNG seeded by (seed, epoch, position), so a batch is the same
 * whatever the thread count and whether or not the run was resumed. */
#ifndef IC_TRAINSET_H
#define IC_TRAINSET_H
#include <stddef.h>
#include <stdint.h>
#include "ic/model.h"
#include "ic/nsynth.h"
#include "ic/featcache.h"
#include "ic/augment.h"

typedef struct {
    ic_nsynth_split *split;
    ic_featcache *cache;
    int *family;   /* family id per clip */
    int *pitch;    /* pitch class (MIDI - pitch_base) or -1: phrases, out of range */
    int *phrase;   /* 1 when the clip is a phrase */
    size_t *clip;  /* index into the split and its feature cache */
    size_t n;
} ic_trainsplit;

/* Loads split `name` of data_dir, balances it to at most `balance` clips per
 * family (0: no cap; seeded), prints the counts before/after unless quiet, and
 * opens (building if needed) its feature cache under cache_dir. */
ic_trainsplit *ic_trainsplit_open(const char *data_dir, const char *name, const ic_model *m,
                                  const char *cache_dir, size_t balance, uint64_t seed, int quiet,
                                  ic_error *err);
void ic_trainsplit_free(ic_trainsplit *s);
/* Keeps a uniformly random subset of n clips (in their original order). */
void ic_trainsplit_subsample(ic_trainsplit *s, size_t n, ic_rng *r);
/* One epoch's clips in random order, for n clips whose families are family[]:
 * all of them, or with per_family > 0 at most per_family of each family, drawn
 * afresh at every call (so over a run the model meets every instrument, unlike
 * a fixed --balance subset).  order holds n entries; returns how many it
 * filled, which is always ic_epoch_size(). */
size_t ic_epoch_order(const int *family, size_t n, size_t per_family, ic_rng *r, size_t *order);
size_t ic_epoch_size(const int *family, size_t n, size_t per_family);

typedef struct {
    int n;              /* windows */
    int n_noise;        /* the first n_noise windows are pure noise (used for mixing) */
    float *feat;        /* (n, n_features, n_frames) log features, not normalised */
    float *noise_power; /* (n_noise, n_features, n_frames) mel power of the noise windows */
} ic_negbank;

/* n_noise noise windows (colour and level drawn per window from -75 to -10 dBFS),
 * n_silence silent or dithered windows, and up to n_speech speech windows cut from
 * the wav files in speech_dir (NULL or missing: none). */
ic_negbank *ic_negbank_new(const ic_model *m, int n_noise, int n_silence, int n_speech,
                           const char *speech_dir, uint64_t seed, int quiet, ic_error *err);
void ic_negbank_free(ic_negbank *b);

typedef struct {
    const ic_model *model;
    const ic_augment *aug;          /* power-domain helper (fading tails; augmentation) */
    int augment;                    /* 1: random augmentation and masks (training) */
    ic_augment_config aug_cfg;
    const ic_trainsplit *data;
    const ic_negbank *neg;
    int neg_per_batch;              /* non-playing windows per batch */
    uint64_t seed;
} ic_batcher;

/* Fills a batch: the first neg_per_batch items are non-playing windows (a bank
 * window, or a clip faded far below audibility), the rest are clips
 * order[pos..pos+n_pos).  x (B, n_features, n_frames) normalised network input;
 * labels per item: family / pitch (-1: no target) and activity (1 playing). */
void ic_batcher_fill(const ic_batcher *b, int epoch, size_t pos, const size_t *order, int n_pos,
                     float *x, int *y_family, int *y_pitch, int *y_activity);
#endif
