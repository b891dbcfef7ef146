/* A classifier as the programs use it: the network plus the front end and the
 * per-band normalisation it was trained with, all from one .icw file.  Training
 * (ictrain) and inference (iceval, icinfer) compute features through
 * ic_model_features only, so they cannot disagree on rate, scale or layout. */
#ifndef IC_MODEL_H
#define IC_MODEL_H
#include <stddef.h>
#include "ic/net.h"
#include "ic/frontend.h"

typedef struct {
    ic_net *net;
    ic_frontend_params fp;
    ic_frontend *fe;
    float *norm_mean, *norm_std; /* n_features each: x = (feature - mean) / std */
    size_t window_samples;       /* samples per window at fp.sample_rate */
    int n_features, n_frames;    /* the network's input is (1, n_features, n_frames) */
    int head_family, head_pitch, head_activity; /* head indices, -1 when absent */
    int pitch_base;              /* MIDI number of pitch class 0 */
} ic_model;

/* New model: the architecture's input must be [1, n_features, frames of one window]. */
ic_model *ic_model_create(const cJSON *arch, const ic_frontend_params *fp, size_t window_samples,
                          int pitch_base, ic_error *err);
/* Loads and checks a model file (kind "model" or "checkpoint"). */
ic_model *ic_model_load(const char *path, ic_error *err);
/* Saves network, front end, normalisation and the caller's extra meta. */
ic_status ic_model_save(const ic_model *m, const char *path, const cJSON *extra_meta, ic_error *err);
void ic_model_free(ic_model *m);
/* Meta fields ic_model_save writes (front end, window, normalisation flags); caller owns. */
cJSON *ic_model_meta(const ic_model *m, const cJSON *extra_meta);

/* Floats of scratch one ic_model_features call needs. */
size_t ic_model_work_floats(const ic_model *m);
/* Un-normalised features of one window: samples (n; shorter is zero padded,
 * longer is cut) -> feat (n_features, n_frames). */
void ic_model_raw_features(const ic_model *m, const float *samples, size_t n, float *feat, float *work);
/* Normalises feat (n_features, n_frames) in place with the model's statistics. */
void ic_model_normalise(const ic_model *m, float *feat);
/* Both steps: the network input for one window. */
void ic_model_features(const ic_model *m, const float *samples, size_t n, float *x, float *work);
#endif
