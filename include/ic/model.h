/* A classifier as the programs use it: the network plus the front end and the
 * normalisation it was trained with, all from one .icw file.  Training (ictrain)
 * and inference (iceval, icinfer) compute features through ic_model_features
 * only, so they cannot disagree on rate, scale or layout.
 *
 * Two kinds of network input, stored in the model meta as "input":
 *   "frames"  (the default, and what files without the field mean): the front
 *             end's matrix of one window, (1, n_features, n_frames), normalised
 *             per band (the CNN);
 *   "summary" per-band statistics of that matrix over the window's frames, a
 *             vector [D] normalised per element (the MFCC baselines).  Meta
 *             "summary" lists the statistics in their order in the vector, each
 *             a block of one value per band: "mean", "std" (population),
 *             "delta_mean", "delta_std" (of the first differences x[t+1] - x[t]).
 * Not here: training recipes (train/ictrain.c, src/model/baseline.c). */
#ifndef IC_MODEL_H
#define IC_MODEL_H
#include <stddef.h>
#include "ic/net.h"
#include "ic/frontend.h"

typedef enum { IC_INPUT_FRAMES = 0, IC_INPUT_SUMMARY = 1 } ic_input_kind;

/* Statistics of a summary input (bit flags; the vector keeps this order). */
#define IC_SUMMARY_MEAN 1u
#define IC_SUMMARY_STD 2u
#define IC_SUMMARY_DELTA_MEAN 4u
#define IC_SUMMARY_DELTA_STD 8u
#define IC_SUMMARY_N_STATS 4

typedef struct {
    ic_net *net;
    ic_frontend_params fp;
    ic_frontend *fe;
    ic_input_kind input;         /* frames or summary */
    unsigned summary;            /* IC_SUMMARY_* bits (summary input only) */
    float *norm_mean, *norm_std; /* n_features each: x = (feature - mean) / std */
    size_t window_samples;       /* samples per window at fp.sample_rate */
    int fe_features, fe_frames;  /* the front end's matrix of one window */
    int n_features, n_frames;    /* the network's input is (1, n_features, n_frames): the
                                    front-end matrix for frames input, (D, 1) for summary */
    int head_family, head_pitch, head_activity; /* head indices, -1 when absent */
    int pitch_base;              /* MIDI number of pitch class 0 */
} ic_model;

/* New model: the architecture's input must be [1, n_features, frames of one window]. */
ic_model *ic_model_create(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                          int pitch_base, ic_error *err);
/* New model with a summary input: statistics `summary` (IC_SUMMARY_* bits, not 0) of
 * each front-end band; the architecture's input must be [D], D = bands x statistics. */
ic_model *ic_model_create_summary(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                                  int pitch_base, unsigned summary, ic_error *err);
/* Loads and checks a model file (kind "model" or "checkpoint"). */
ic_model *ic_model_load(const char *path, ic_error *err);
/* The normalisation statistics as the two f32 tensors a model file holds
 * ("frontend.norm_mean", "frontend.norm_std"); t[i].data points into m. */
void ic_model_norm_tensors(const ic_model *m, ic_icw_tensor t[2]);
/* Saves network, front end, input kind, normalisation and the caller's extra meta. */
ic_status ic_model_save(const ic_model *m, const char *path, const cJSON *extra_meta, ic_error *err);
void ic_model_free(ic_model *m);
/* Meta fields ic_model_save writes (front end, window, input kind...); caller owns. */
cJSON *ic_model_meta(const ic_model *m, const cJSON *extra_meta);

/* Number of statistics in a summary bit set. */
int ic_summary_count(unsigned summary);
/* Summary statistics of a feature matrix: mat (bands, frames) row-major ->
 * out (ic_summary_count(summary) * bands), block s (in IC_SUMMARY_* order) holding
 * statistic s of every band.  Delta statistics are 0 when frames < 2. */
void ic_summary_compute(unsigned summary, const float *mat, int bands, int frames, float *out);

/* Floats of scratch one ic_model_features call needs. */
size_t ic_model_work_floats(const ic_model *m);
/* Un-normalised network input of one window: samples (n; shorter is zero padded,
 * longer is cut) -> feat (n_features, n_frames), i.e. the front-end matrix, or its
 * summary vector for a summary model. */
void ic_model_raw_features(const ic_model *m, const float *samples, size_t n, float *feat, float *work);
/* Normalises feat (n_features, n_frames) in place with the model's statistics. */
void ic_model_normalise(const ic_model *m, float *feat);
/* Both steps: the network input for one window. */
void ic_model_features(const ic_model *m, const float *samples, size_t n, float *x, float *work);
#endif
