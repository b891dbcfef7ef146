/* icfeatures: decodes one audio file (or stdin) the way the model sees it and reports
 * the decoded format and the feature matrix shape; --json for machines, --png to draw
 * the log-mel spectrogram for people.  Uses the default front-end parameters
 * (ic_frontend_defaults); it does not read a model file. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "ic/audio.h"
#include "ic/cli.h"
#include "ic/frontend.h"
#include "ic/png.h"
#include "ic/threads.h"

#define PNG_MAX_WIDTH 4096   /* longer inputs are averaged down to this many columns */
#define PNG_MIN_WIDTH 256    /* shorter ones are stretched towards it */
#define PNG_MIN_HEIGHT 256
#define PNG_DB_RANGE 80.0    /* log-mel colour scale: the top 80 dB */

static const char USAGE[] =
    "usage: icfeatures FILE [--json] [--png OUT.png] [--threads N] [--raw RATE [--channels N]]\n"
    "\n"
    "Decodes FILE (wav, flac, ogg, opus, mp3, m4a/aac, ...; '-' reads standard input),\n"
    "mixes it to mono, resamples it to the model rate and computes the default log-mel\n"
    "features.  Prints the decoded format and the feature matrix shape.\n"
    "\n"
    "  --json          print the report as one JSON object\n"
    "  --png OUT.png   draw the log-mel spectrogram (viridis colour map, time left to\n"
    "                  right, low frequencies at the bottom, top 80 dB); '-' writes the\n"
    "                  PNG to standard output and the report to standard error\n"
    "  --threads N     worker threads (default: all cores)\n"
    "  --raw RATE      FILE is headerless signed 16-bit little-endian PCM at RATE Hz\n"
    "  --channels N    channels of --raw input (default 1)\n"
    "  --help          this text\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (e.g. unreadable input), 2 bad usage.\n";

static const char PROG[] = "icfeatures";

typedef struct {
    const char *file, *png;
    int json, threads, raw_rate, raw_channels;
} options;

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->raw_channels = 1;
    int channels_given = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ic_cli_help(a, USAGE)) return 0;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--png") == 0 || strcmp(a, "--threads") == 0 ||
                   strcmp(a, "--raw") == 0 || strcmp(a, "--channels") == 0) {
            if (i + 1 >= argc) return ic_cli_usage_error(PROG, "%s needs a value", a);
            const char *v = argv[++i];
            if (strcmp(a, "--png") == 0) {
                if (!*v) return ic_cli_usage_error(PROG, "%s needs a file name", a);
                o->png = v;
            } else if (strcmp(a, "--threads") == 0) {
                if (ic_cli_parse_int(v, 1, 4096, &o->threads))
                    return ic_cli_usage_error(PROG, "--threads wants 1..4096, got '%s'", v);
            } else if (strcmp(a, "--raw") == 0) {
                if (ic_cli_parse_int(v, 1, 10000000, &o->raw_rate))
                    return ic_cli_usage_error(PROG, "--raw wants a rate in Hz (1..10000000), got '%s'", v);
            } else {
                if (ic_cli_parse_int(v, 1, 1024, &o->raw_channels))
                    return ic_cli_usage_error(PROG, "--channels wants 1..1024, got '%s'", v);
                channels_given = 1;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            return ic_cli_usage_error(PROG, "unknown option '%s'", a);
        } else if (o->file) {
            return ic_cli_usage_error(PROG, "one input file only (also got '%s')", a);
        } else {
            o->file = a;
        }
    }
    if (!o->file) return ic_cli_usage_error(PROG, "no input file (use - for standard input)");
    if (channels_given && !o->raw_rate) return ic_cli_usage_error(PROG, "--channels only applies to --raw input");
    return -1;
}

/* Draws feat (n_feat, n_frames) to path; lo/hi chosen for a log-mel picture. */
static int draw_png(const char *path, const float *feat, int n_feat, int n_frames,
                    const ic_frontend_params *p, float fmin, float fmax, ic_error *err) {
    float lo = fmin, hi = fmax;
    if (p->kind == IC_FEAT_LOGMEL) {
        double range = p->log_db ? PNG_DB_RANGE : PNG_DB_RANGE * log(10.0) / 10.0;
        if ((double)hi - range > lo) lo = (float)(hi - range);
    }
    int width = n_frames;
    if (width > PNG_MAX_WIDTH) width = PNG_MAX_WIDTH;
    else if (width < PNG_MIN_WIDTH) width = n_frames * (PNG_MIN_WIDTH / n_frames < 16 ? PNG_MIN_WIDTH / n_frames : 16);
    int row_px = (PNG_MIN_HEIGHT + n_feat - 1) / n_feat;
    if (row_px < 3) row_px = 3;
    int height = n_feat * row_px;
    unsigned char *rgb = malloc((size_t)width * height * 3);
    if (!rgb) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory for a %d x %d image", path, width, height);
    ic_colormap cm;
    ic_colormap_viridis(&cm);
    ic_render_matrix(feat, n_feat, n_frames, lo, hi, &cm, width, row_px, rgb);
    ic_status s = ic_png_write_rgb(path, rgb, width, height, err);
    free(rgb);
    return s;
}

static const char *kind_name(ic_feature_kind k) { return k == IC_FEAT_MFCC ? "mfcc" : "logmel"; }

static void print_text(FILE *out, const options *o, const ic_audio_info *in, size_t n,
                       const ic_frontend_params *p, int n_feat, size_t n_frames,
                       float fmin, float fmax, double fmean) {
    fprintf(out, "file         %s\n", strcmp(o->file, "-") == 0 ? "stdin" : o->file);
    fprintf(out, "decoder      %s: %s / %s\n", in->backend, in->container, in->codec);
    fprintf(out, "format       %d Hz, %d channel%s, ", in->sample_rate, in->channels,
            in->channels == 1 ? "" : "s");
    if (in->frames >= 0)
        fprintf(out, "%s%.3f s (%s%lld frames)\n", in->frames_exact ? "" : "~", in->duration,
                in->frames_exact ? "" : "~", in->frames);
    else
        fprintf(out, "length not in the header\n");
    fprintf(out, "model input  %d Hz mono, %zu samples (%.3f s)\n", in->out_rate, n,
            (double)n / in->out_rate);
    fprintf(out, "features     %s, %d x %zu (n_features x n_frames), n_fft %d, hop %d (%.1f ms)\n",
            kind_name(p->kind), n_feat, n_frames, p->n_fft, p->hop, 1000.0 * p->hop / p->sample_rate);
    if (n_frames)
        fprintf(out, "values       min %.3f, max %.3f, mean %.3f\n", fmin, fmax, fmean);
    if (o->png) fprintf(out, "picture      %s\n", strcmp(o->png, "-") == 0 ? "stdout" : o->png);
}

static int print_json(FILE *out, const options *o, const ic_audio_info *in, size_t n,
                      const ic_frontend_params *p, int n_feat, size_t n_frames,
                      float fmin, float fmax, double fmean) {
    cJSON *j = cJSON_CreateObject(), *dec = cJSON_CreateObject(), *ft = cJSON_CreateObject();
    cJSON *fe = ic_frontend_to_json(p);
    if (!j || !dec || !ft || !fe) {
        cJSON_Delete(j); cJSON_Delete(dec); cJSON_Delete(ft); cJSON_Delete(fe);
        return -1;
    }
    cJSON_AddStringToObject(j, "file", o->file);
    cJSON_AddStringToObject(dec, "backend", in->backend);
    cJSON_AddStringToObject(dec, "container", in->container);
    cJSON_AddStringToObject(dec, "codec", in->codec);
    cJSON_AddItemToObject(j, "decoder", dec);
    cJSON_AddNumberToObject(j, "sample_rate", in->sample_rate);
    cJSON_AddNumberToObject(j, "channels", in->channels);
    if (in->frames >= 0) {
        cJSON_AddNumberToObject(j, "frames", (double)in->frames);
        cJSON_AddNumberToObject(j, "duration", in->duration);
    } else {
        cJSON_AddNullToObject(j, "frames");
        cJSON_AddNullToObject(j, "duration");
    }
    cJSON_AddBoolToObject(j, "frames_exact", in->frames_exact);
    cJSON_AddNumberToObject(j, "model_rate", in->out_rate);
    cJSON_AddNumberToObject(j, "samples", (double)n);
    cJSON_AddNumberToObject(j, "decoded_duration", (double)n / in->out_rate);
    cJSON_AddStringToObject(ft, "kind", kind_name(p->kind));
    cJSON_AddNumberToObject(ft, "n_features", n_feat);
    cJSON_AddNumberToObject(ft, "n_frames", (double)n_frames);
    if (n_frames) {
        cJSON_AddNumberToObject(ft, "min", fmin);
        cJSON_AddNumberToObject(ft, "max", fmax);
        cJSON_AddNumberToObject(ft, "mean", fmean);
    }
    cJSON_AddItemToObject(j, "features", ft);
    cJSON_AddItemToObject(j, "frontend", fe);
    if (o->png) cJSON_AddStringToObject(j, "png", o->png);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    if (!s) return -1;
    fprintf(out, "%s\n", s);
    cJSON_free(s);
    return 0;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    ic_audio_quiet_backends();
    ic_threads_set(o.threads);

    ic_error err;
    ic_error_clear(&err);
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ic_audio *a = o.raw_rate ? ic_audio_open_raw(o.file, o.raw_rate, o.raw_channels, p.sample_rate, &err)
                             : ic_audio_open(o.file, p.sample_rate, &err);
    if (!a) {
        fprintf(stderr, "icfeatures: %s\n", err.msg);
        return 1;
    }
    ic_audio_info in = *ic_audio_get_info(a);
    float *x = NULL;
    size_t n = 0;
    ic_status s = ic_audio_read_all(a, &x, &n, &err);
    ic_audio_close(a);
    if (s != IC_OK) {
        fprintf(stderr, "icfeatures: %s\n", err.msg);
        return 1;
    }

    ic_frontend *f = ic_frontend_new(&p, &err);
    if (!f) {
        fprintf(stderr, "icfeatures: %s\n", err.msg);
        free(x);
        return 1;
    }
    int n_feat = ic_frontend_n_features(&p);
    size_t n_frames = ic_frontend_n_frames(&p, n);
    float *feat = malloc(((size_t)n_feat * n_frames + 1) * sizeof *feat);
    float *work = malloc((ic_frontend_work_floats(f) + 1) * sizeof *work);
    if (!feat || !work || n_frames > INT_MAX) {
        fprintf(stderr, "icfeatures: %s: out of memory for %d x %zu features\n", o.file, n_feat, n_frames);
        free(feat); free(work); free(x);
        ic_frontend_free(f);
        return 1;
    }
    ic_frontend_compute(f, x, n, feat, work);
    free(work);
    free(x);
    ic_frontend_free(f);

    float fmin = INFINITY, fmax = -INFINITY;
    double sum = 0;
    size_t total = (size_t)n_feat * n_frames;
    for (size_t i = 0; i < total; i++) {
        if (feat[i] < fmin) fmin = feat[i];
        if (feat[i] > fmax) fmax = feat[i];
        sum += feat[i];
    }
    double fmean = total ? sum / (double)total : 0;

    rc = 0;
    if (o.png && n_frames &&
        draw_png(o.png, feat, n_feat, (int)n_frames, &p, fmin, fmax, &err) != IC_OK) {
        fprintf(stderr, "icfeatures: %s\n", err.msg);
        rc = 1;
    } else if (o.png && !n_frames) {
        fprintf(stderr, "icfeatures: %s: no feature frames to draw\n", o.file);
        rc = 1;
    }
    if (rc == 0) {
        FILE *out = (o.png && strcmp(o.png, "-") == 0) ? stderr : stdout;
        if (o.json) {
            if (print_json(out, &o, &in, n, &p, n_feat, n_frames, fmin, fmax, fmean) != 0) {
                fprintf(stderr, "icfeatures: out of memory building JSON\n");
                rc = 1;
            }
        } else {
            print_text(out, &o, &in, n, &p, n_feat, n_frames, fmin, fmax, fmean);
        }
        if (fflush(out) != 0) {
            fprintf(stderr, "icfeatures: writing the report failed: %s\n", strerror(errno));
            rc = 1;
        }
    }
    free(feat);
    return rc;
}
