/* The MFCC baselines of the benchmark suite, trained with our engine and saved as
 * ordinary model files (summary input, ic/model.h) that iceval and icinfer run:
 *   mfcc-logreg  the original project's recipe: 20 MFCCs (n_fft 2048, hop 512, 128
 *                mels, dB) averaged over the window, standardised, multinomial
 *                logistic regression (no trunk, one dense "family" head);
 *   mfcc         MFCC mean, std, delta mean and delta std (80 numbers), standardised,
 *                into a small MLP (dense 128, batch norm, ReLU, dropout, dense 64,
 *                ReLU) and the "family" head.
 * Features come from the feature cache (MFCC matrices, one file per split under
 * CACHE/mfcc), reduced to the summary by ic_summary_compute, the function
 * ic_model_features uses at inference.  Only the family head: no pitch, no activity.
 * Not here: the CNN recipe (train/ictrain.c). */
#ifndef IC_BASELINE_H
#define IC_BASELINE_H
#include <stdint.h>
#include <stdio.h>
#include <cjson/cJSON.h>
#include "ic/error.h"
#include "ic/frontend.h"

typedef enum { IC_BASELINE_LOGREG = 0, IC_BASELINE_MLP = 1 } ic_baseline_kind;

typedef struct {
    const char *data;        /* dataset directory (nsynth-train, -valid, -test) */
    const char *out;         /* model file to write (the best epoch by validation accuracy) */
    const char *cache_dir;   /* cache base directory; NULL: DATA/cache.  Files go to its mfcc/ */
    ic_baseline_kind kind;
    int epochs, batch, quiet;
    size_t balance;          /* cap per family of the training split (0: all) */
    size_t per_family;       /* cap per family of each epoch, drawn afresh (0: all) */
    size_t valid_max;        /* validate on a seeded subsample of this many clips (0: all) */
    float lr, weight_decay;  /* AdamW peak rate (cosine schedule) and decoupled decay */
    uint64_t seed;
    FILE *report;            /* final JSON report (NULL: none) */
} ic_baseline_opts;

/* "mfcc-logreg" -> IC_BASELINE_LOGREG, "mfcc" -> IC_BASELINE_MLP, else -1. */
int ic_baseline_kind_from_name(const char *name);
const char *ic_baseline_kind_name(ic_baseline_kind kind);
/* The baselines' front end: 16 kHz, n_fft 2048, hop 512, 128 Slaney mels 0-8000 Hz,
 * 10 log10 power (floor 1e-10), 20 MFCCs (librosa.feature.mfcc's defaults). */
void ic_baseline_frontend(ic_frontend_params *fp);
/* Architecture of a baseline reading an input vector of input_dim; caller owns. */
cJSON *ic_baseline_arch(ic_baseline_kind kind, int input_dim);
/* Trains a baseline: features from the cache (built when missing), standardisation
 * from the training split, AdamW with a cosine schedule, validation every epoch,
 * the best epoch saved to o->out, then a test-split report (JSON on o->report;
 * per-epoch lines on stderr unless quiet).  IC_OK or an error with err set. */
ic_status ic_baseline_train(const ic_baseline_opts *o, ic_error *err);
#endif
