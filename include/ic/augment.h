/* Training augmentation on log-mel features, applied in the mel power domain:
 * gain, added noise (power of another clip's features), microphone-like
 * equalisation curves, band-wise reverberation tails, time shift and
 * SpecAugment masks.  Working on cached features keeps augmentation far
 * cheaper than the network.  Evaluation "in a room" deliberately uses a
 * different simulator (waveform convolution with synthetic impulse responses,
 * ic/room.h), so the reverberation score does not flatter this one.
 * Only for log-mel front ends (ln or dB with a floor). */
#ifndef IC_AUGMENT_H
#define IC_AUGMENT_H
#include "ic/frontend.h"
#include "ic/rng.h"

typedef struct {
    float p_gain;   float gain_db_lo, gain_db_hi;       /* level change */
    float p_noise;  float snr_db_lo, snr_db_hi;         /* noise bank mixed at this SNR */
    float p_eq;     float eq_db;                        /* mic/phone colouring, +-eq_db */
    float p_reverb; float rt60_lo, rt60_hi;             /* seconds */
    float p_shift;  int shift_lo, shift_hi;             /* frames; > 0 delays the clip */
    int n_freq_masks, freq_mask_max;                    /* SpecAugment (bands) */
    int n_time_masks, time_mask_max;                    /* SpecAugment (frames) */
} ic_augment_config;

/* The recipe ictrain uses by default. */
void ic_augment_defaults(ic_augment_config *c);

typedef struct {
    const ic_frontend_params *fp;
    int n_bands, n_frames;
    float *band_hz;      /* centre frequency of each mel band */
} ic_augment;

/* NULL + err for non-log-mel front ends. */
ic_augment *ic_augment_new(const ic_frontend_params *fp, int n_frames, ic_error *err);
void ic_augment_free(ic_augment *a);

/* Log features <-> power (power = 0 at or below the floor). */
void ic_augment_to_power(const ic_augment *a, const float *feat, float *power);
void ic_augment_from_power(const ic_augment *a, const float *power, float *feat);
/* Mean power of a (n_bands, n_frames) power matrix. */
double ic_augment_mean_power(const ic_augment *a, const float *power);

/* One random augmentation of feat (n_bands, n_frames, log domain) in place.
 * noise: a power matrix of the same shape to mix in (NULL: no noise);
 * work: 2 * n_bands * n_frames floats. */
void ic_augment_apply(const ic_augment *a, const ic_augment_config *c, float *feat,
                      const float *noise, float *work, ic_rng *rng);
/* Scales feat's power by gain_db (log domain in place). */
void ic_augment_gain(const ic_augment *a, float *feat, float gain_db);
/* SpecAugment on normalised features: masked cells become 0 (the mean). */
void ic_augment_masks(const ic_augment *a, const ic_augment_config *c, float *x, ic_rng *rng);
#endif
