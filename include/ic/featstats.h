/* Per-band normalisation statistics of feature matrices: accumulate mean and standard
 * deviation of every band (row) over many (n_bands, n_frames) matrices, finalise them
 * into the float arrays the model file stores, and apply (x - mean) / std.
 * Not here: where the statistics are stored (the model file) or which clips feed them. */
#ifndef IC_FEATSTATS_H
#define IC_FEATSTATS_H
#include <stddef.h>
#include "ic/error.h"

/* A std floor that leaves real bands alone (log-mel stds are ~0.5-5 in ln units) but
 * keeps a constant band, e.g. one always at the log floor, from dividing by ~0. */
#define IC_FEATSTATS_STD_FLOOR 1e-3f

typedef struct ic_featstats ic_featstats;

/* Empty accumulator for n_bands >= 1 bands; NULL + err otherwise or when out of memory. */
ic_featstats *ic_featstats_new(size_t n_bands, ic_error *err);
/* Frees; NULL is fine. */
void ic_featstats_free(ic_featstats *s);
/* Forgets everything added. */
void ic_featstats_reset(ic_featstats *s);
/* Adds every frame of x: (n_bands, n_frames) row-major, x[band * n_frames + t].
 * Double accumulators; batch mean/M2 per band merged by Chan's formula (stable for
 * large counts and offsets).  n_frames 0 is a no-op. */
void ic_featstats_add(ic_featstats *s, const float *x, size_t n_frames);
/* dst += src (same n_bands): lets threads accumulate separately and merge. */
void ic_featstats_merge(ic_featstats *dst, const ic_featstats *src);
/* Bands, and frames added so far. */
size_t ic_featstats_bands(const ic_featstats *s);
size_t ic_featstats_count(const ic_featstats *s);
/* mean, std: (n_bands).  Population std (divide by the count), floored at std_floor > 0.
 * IC_ERR_ARG when no frame was added or a band's statistics are not finite. */
ic_status ic_featstats_finalize(const ic_featstats *s, float std_floor, float *mean, float *std,
                                ic_error *err);
/* In place x[b, t] = (x[b, t] - mean[b]) / std[b].  x (n_bands, n_frames); mean, std (n_bands). */
void ic_featstats_apply(const float *mean, const float *std, size_t n_bands, float *x, size_t n_frames);

#endif
