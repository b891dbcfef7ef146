/* Per-band feature statistics (include/ic/featstats.h).
 * Each band keeps (mean, M2) in double with one shared frame count; a new matrix is
 * summarised per band (two passes over its contiguous row) and merged with
 *   delta = mean_b - mean_a,  n = n_a + n_b,
 *   mean = mean_a + delta n_b / n,  M2 = M2_a + M2_b + delta^2 n_a n_b / n   (Chan et al.). */
#include "ic/featstats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ic_featstats {
    size_t n_bands;
    size_t count;  /* frames added */
    double *mean;  /* (n_bands) running mean */
    double *m2;    /* (n_bands) running sum of squared deviations from the mean */
};

ic_featstats *ic_featstats_new(size_t n_bands, ic_error *err) {
    if (n_bands == 0) {
        ic_error_set(err, IC_ERR_ARG, "featstats: n_bands must be >= 1, got 0");
        return NULL;
    }
    ic_featstats *s = calloc(1, sizeof *s);
    if (s) s->mean = calloc(2 * n_bands, sizeof *s->mean);
    if (!s || !s->mean) {
        free(s);
        ic_error_set(err, IC_ERR_NOMEM, "featstats: out of memory for %zu bands", n_bands);
        return NULL;
    }
    s->n_bands = n_bands;
    s->m2 = s->mean + n_bands;
    return s;
}

void ic_featstats_free(ic_featstats *s) {
    if (!s) return;
    free(s->mean);
    free(s);
}

void ic_featstats_reset(ic_featstats *s) {
    s->count = 0;
    memset(s->mean, 0, 2 * s->n_bands * sizeof *s->mean);
}

static void merge_band(double *mean, double *m2, size_t na, double mean_b, double m2_b, size_t nb) {
    double n = (double)na + (double)nb;
    double delta = mean_b - *mean;
    *mean += delta * ((double)nb / n);
    *m2 += m2_b + delta * delta * ((double)na * (double)nb / n);
}

void ic_featstats_add(ic_featstats *s, const float *x, size_t n_frames) {
    if (n_frames == 0) return;
    for (size_t b = 0; b < s->n_bands; b++) {
        const float *row = x + b * n_frames;
        double sum = 0.0;
        for (size_t t = 0; t < n_frames; t++) sum += row[t];
        double mb = sum / (double)n_frames, m2b = 0.0;
        for (size_t t = 0; t < n_frames; t++) { double d = row[t] - mb; m2b += d * d; }
        merge_band(&s->mean[b], &s->m2[b], s->count, mb, m2b, n_frames);
    }
    s->count += n_frames;
}

void ic_featstats_merge(ic_featstats *dst, const ic_featstats *src) {
    IC_ASSERT(dst->n_bands == src->n_bands);
    if (src->count == 0) return;
    for (size_t b = 0; b < dst->n_bands; b++)
        merge_band(&dst->mean[b], &dst->m2[b], dst->count, src->mean[b], src->m2[b], src->count);
    dst->count += src->count;
}

size_t ic_featstats_bands(const ic_featstats *s) { return s->n_bands; }
size_t ic_featstats_count(const ic_featstats *s) { return s->count; }

ic_status ic_featstats_finalize(const ic_featstats *s, float std_floor, float *mean, float *std,
                                ic_error *err) {
    if (s->count == 0)
        return ic_error_set(err, IC_ERR_ARG, "featstats: no frames were added, cannot compute statistics");
    if (!(std_floor > 0.0f))
        return ic_error_set(err, IC_ERR_ARG, "featstats: std_floor must be > 0, got %g", (double)std_floor);
    for (size_t b = 0; b < s->n_bands; b++) {
        double sd = sqrt(s->m2[b] / (double)s->count);
        if (!isfinite(s->mean[b]) || !isfinite(sd))
            return ic_error_set(err, IC_ERR_ARG,
                                "featstats: band %zu has non-finite statistics (mean %g, std %g): "
                                "the added features contained NaN or infinity", b, s->mean[b], sd);
        mean[b] = (float)s->mean[b];
        std[b] = sd > (double)std_floor ? (float)sd : std_floor;
    }
    return IC_OK;
}

void ic_featstats_apply(const float *mean, const float *std, size_t n_bands, float *x, size_t n_frames) {
    for (size_t b = 0; b < n_bands; b++) {
        float *row = x + b * n_frames;
        for (size_t t = 0; t < n_frames; t++) row[t] = (row[t] - mean[b]) / std[b];
    }
}
