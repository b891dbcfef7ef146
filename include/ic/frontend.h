/* The audio front end's feature extraction: mono samples at the model rate ->
 * (STFT, power, mel filterbank, log) -> log-mel matrix, or -> DCT-II -> MFCC.
 * Every parameter lives in ic_frontend_params, which the model file stores
 * (ic_frontend_to_json / _from_json): inference reads them from the model,
 * never from a second copy of the numbers. */
#ifndef IC_FRONTEND_H
#define IC_FRONTEND_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "ic/error.h"

typedef enum { IC_MEL_SLANEY = 0, IC_MEL_HTK = 1 } ic_mel_scale;
typedef enum { IC_FEAT_LOGMEL = 0, IC_FEAT_MFCC = 1 } ic_feature_kind;

typedef struct {
    int sample_rate;        /* model rate in Hz */
    int n_fft;              /* FFT size, a power of two */
    int hop;                /* hop between frames, samples */
    int win_length;         /* Hann window length, <= n_fft, centred in the frame */
    int center;             /* 1: frame t is centred on sample t*hop, reflect padding */
    int n_mels;             /* mel bands */
    float fmin, fmax;       /* filterbank edges, Hz; fmax <= sample_rate/2 */
    ic_mel_scale mel_scale; /* Slaney (librosa default) or HTK mel formula */
    int mel_norm;           /* 1: Slaney area normalisation of each filter */
    ic_feature_kind kind;   /* log-mel or MFCC */
    int log_db;             /* 0: ln(max(x, log_floor)); 1: 10*log10(max(x, log_floor)) */
    float log_floor;        /* floor applied before the log */
    int n_mfcc;             /* MFCC coefficients kept (kind == IC_FEAT_MFCC) */
} ic_frontend_params;

typedef struct ic_frontend ic_frontend;

/* The ic defaults (16 kHz, n_fft 1024, hop 512, 64 Slaney mels 0-8000 Hz, ln with floor 1e-6). */
void ic_frontend_defaults(ic_frontend_params *p);
/* Checks every field; IC_ERR_ARG naming the bad field and its value. */
ic_status ic_frontend_validate(const ic_frontend_params *p, ic_error *err);
/* Frames produced for n samples. */
size_t ic_frontend_n_frames(const ic_frontend_params *p, size_t n_samples);
/* Rows of the feature matrix: n_mels or n_mfcc. */
int ic_frontend_n_features(const ic_frontend_params *p);

/* Precomputes window, filterbank, DCT and FFT tables; NULL + err on bad params. */
ic_frontend *ic_frontend_new(const ic_frontend_params *p, ic_error *err);
void ic_frontend_free(ic_frontend *f);
const ic_frontend_params *ic_frontend_params_of(const ic_frontend *f);
/* Floats of caller scratch one ic_frontend_compute call needs (reentrant: one
 * scratch per thread lets threads share one ic_frontend). */
size_t ic_frontend_work_floats(const ic_frontend *f);
/* samples (n) -> out (n_features, n_frames) row-major: out[band * n_frames + t]. */
void ic_frontend_compute(const ic_frontend *f, const float *samples, size_t n, float *out, float *work);

/* Serialises params as a JSON object (caller owns it). */
cJSON *ic_frontend_to_json(const ic_frontend_params *p);
/* Parses and validates a JSON object written by ic_frontend_to_json. */
ic_status ic_frontend_from_json(const cJSON *j, ic_frontend_params *p, ic_error *err);

#endif
