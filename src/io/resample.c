/* Streaming mono resampler over libsamplerate's full API (src_new/src_process):
 * the state keeps the filter history between blocks.  Not a downmixer. */
#include "ic/resample.h"
#include <samplerate.h>
#include <string.h>

struct ic_resampler {
    SRC_STATE *src;   /* NULL when the rates are equal (pass-through) */
    double ratio;     /* out_rate / in_rate */
    unsigned long long in_total, out_total;  /* frames consumed and produced */
};

ic_resampler *ic_resampler_new(int in_rate, int out_rate, ic_error *err) {
    if (in_rate <= 0 || out_rate <= 0) {
        ic_error_set(err, IC_ERR_ARG, "resampler: rates must be positive, got %d -> %d Hz",
                     in_rate, out_rate);
        return NULL;
    }
    double ratio = (double)out_rate / (double)in_rate;
    if (!src_is_valid_ratio(ratio)) {
        ic_error_set(err, IC_ERR_ARG,
                     "resampler: %d -> %d Hz is a ratio of %g, outside libsamplerate's [1/256, 256]",
                     in_rate, out_rate, ratio);
        return NULL;
    }
    ic_resampler *r = calloc(1, sizeof *r);
    if (!r) { ic_error_set(err, IC_ERR_NOMEM, "resampler: out of memory"); return NULL; }
    r->ratio = ratio;
    if (in_rate != out_rate) {
        int e = 0;
        r->src = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &e);
        if (!r->src) {
            ic_error_set(err, IC_ERR_NOMEM, "resampler: src_new failed: %s", src_strerror(e));
            free(r);
            return NULL;
        }
    }
    return r;
}

void ic_resampler_free(ic_resampler *r) {
    if (!r) return;
    if (r->src) src_delete(r->src);
    free(r);
}

ic_status ic_resampler_process(ic_resampler *r, const float *in, size_t n_in, size_t *used,
                               float *out, size_t cap_out, size_t *gen, int eof, ic_error *err) {
    *used = 0;
    *gen = 0;
    if (!r->src) {
        size_t k = n_in < cap_out ? n_in : cap_out;
        if (k) memcpy(out, in, k * sizeof *out);
        *used = *gen = k;
        return IC_OK;
    }
    /* libsamplerate counts in long; cut oversized requests (the caller loops). */
    const size_t lim = (size_t)1 << 30;
    SRC_DATA d;
    memset(&d, 0, sizeof d);
    d.data_in = in;
    d.data_out = out;
    d.input_frames = (long)(n_in < lim ? n_in : lim);
    d.output_frames = (long)(cap_out < lim ? cap_out : lim);
    /* Only the call that hands over the last input may say end_of_input. */
    d.end_of_input = eof && (size_t)d.input_frames == n_in;
    d.src_ratio = r->ratio;
    int e = src_process(r->src, &d);
    if (e) return ic_error_set(err, IC_ERR_FORMAT, "resampler: %s", src_strerror(e));
    *used = (size_t)d.input_frames_used;
    *gen = (size_t)d.output_frames_gen;
    r->in_total += *used;
    r->out_total += *gen;
    if (d.end_of_input && *gen == 0) {
        /* Drained.  libsamplerate may end a sample or two short of
         * round(in * ratio) (a 5.000 s file came out 4.9999 s long, so a window
         * of exactly 1 s at its end was dropped): pad the tail with silence. */
        unsigned long long want = (unsigned long long)((double)r->in_total * r->ratio + 0.5);
        size_t pad = want > r->out_total ? (size_t)(want - r->out_total) : 0;
        if (pad > cap_out) pad = cap_out;
        memset(out, 0, pad * sizeof *out);
        *gen = pad;
        r->out_total += pad;
    }
    return IC_OK;
}
