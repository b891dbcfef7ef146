/* Generator output files: 16-bit mono WAV through libsndfile (written to a temporary
 * name and renamed, so a wav under its final name is always complete), the wav
 * completeness check that makes re-runs resume, mkdir -p, and the examples.json entry
 * with NSynth's fields.  The examples.json store itself is in examples.c. */
#include "ic/synth.h"
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

ic_status ic_synth_write_wav(const char *path, const float *x, size_t n, int rate, ic_error *err) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return ic_error_set(err, IC_ERR_ARG, "%s: path too long", path);
    short *pcm = malloc((n ? n : 1) * sizeof *pcm);
    if (!pcm) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] >= -1.0f && x[i] <= 1.0f)) {
            free(pcm);
            return ic_error_set(err, IC_ERR_ARG, "%s: sample %zu is %g, outside [-1, 1] (would clip)", path, i, x[i]);
        }
        pcm[i] = (short)lrintf(x[i] * 32767.0f);
    }
    SF_INFO info;
    memset(&info, 0, sizeof info);
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE *f = sf_open(tmp, SFM_WRITE, &info);
    if (!f) {
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: cannot create: %s", tmp, sf_strerror(NULL));
        free(pcm);
        return st;
    }
    sf_count_t w = sf_writef_short(f, pcm, (sf_count_t)n);
    free(pcm);
    if (w != (sf_count_t)n) {
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: wrote %lld of %zu frames: %s", tmp, (long long)w, n, sf_strerror(f));
        sf_close(f);
        unlink(tmp);
        return st;
    }
    if (sf_close(f) != 0) {
        unlink(tmp);
        return ic_error_set(err, IC_ERR_IO, "%s: close failed", tmp);
    }
    if (rename(tmp, path) != 0) {
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return st;
    }
    return IC_OK;
}

int ic_synth_wav_complete(const char *path, int rate, long frames) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    if (!f) return 0;
    int ok = info.samplerate == rate && info.channels == 1 && info.frames == frames &&
             (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV &&
             (info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16;
    sf_close(f);
    return ok;
}

ic_status ic_synth_mkdirs(const char *path, ic_error *err) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return ic_error_set(err, IC_ERR_ARG, "bad directory name '%s'", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return ic_error_set(err, IC_ERR_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        struct stat sb;
        if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
            return ic_error_set(err, IC_ERR_IO, "%s: exists and is not a directory", buf);
        buf[i] = c;
    }
    return IC_OK;
}

/* Seconds rounded to the millisecond, so the JSON prints short exact-looking values. */
static double ms(double t) { return floor(t * 1000.0 + 0.5) / 1000.0; }

cJSON *ic_synth_entry(const char *note_str, const char *instrument_str, int instrument,
                      int pitch, int velocity, int family, int source, float scale,
                      const ic_phrase *p) {
    IC_ASSERT(ic_synth_family_name(family) && ic_synth_source_name(source));
    cJSON *e = cJSON_CreateObject();
    IC_ASSERT(e);
    int ok = cJSON_AddStringToObject(e, "note_str", note_str) &&
             cJSON_AddNumberToObject(e, "note", 0) &&
             cJSON_AddNumberToObject(e, "instrument", instrument) &&
             cJSON_AddStringToObject(e, "instrument_str", instrument_str) &&
             cJSON_AddNumberToObject(e, "pitch", pitch) &&
             cJSON_AddNumberToObject(e, "velocity", velocity) &&
             cJSON_AddNumberToObject(e, "sample_rate", IC_SYNTH_RATE) &&
             cJSON_AddNumberToObject(e, "instrument_family", family) &&
             cJSON_AddStringToObject(e, "instrument_family_str", ic_synth_family_name(family)) &&
             cJSON_AddNumberToObject(e, "instrument_source", source) &&
             cJSON_AddStringToObject(e, "instrument_source_str", ic_synth_source_name(source));
    /* NSynth's qualities are human annotations per instrument; we have none, so all 0 */
    cJSON *q = cJSON_AddArrayToObject(e, "qualities");
    ok = ok && q && cJSON_AddArrayToObject(e, "qualities_str");
    for (int i = 0; ok && i < IC_SYNTH_N_QUALITIES; i++) {
        cJSON *z = cJSON_CreateNumber(0);
        ok = z && cJSON_AddItemToArray(q, z);
    }
    if (ok && scale != 1.0f) ok = cJSON_AddNumberToObject(e, "peak_scale", floor(scale * 1e4 + 0.5) / 1e4) != NULL;
    if (ok && p) {
        ok = cJSON_AddNumberToObject(e, "tempo", floor(p->tempo * 10.0 + 0.5) / 10.0) &&
             cJSON_AddStringToObject(e, "style", ic_phrase_style_name(p->style));
        cJSON *notes = ok ? cJSON_AddArrayToObject(e, "notes") : NULL;
        ok = notes != NULL;
        for (int i = 0; ok && i < p->n; i++) {
            cJSON *n = cJSON_CreateObject();
            ok = n && cJSON_AddItemToArray(notes, n) &&
                 cJSON_AddNumberToObject(n, "onset", ms(p->note[i].onset)) &&
                 cJSON_AddNumberToObject(n, "offset", ms(p->note[i].offset)) &&
                 cJSON_AddNumberToObject(n, "pitch", p->note[i].pitch) &&
                 cJSON_AddNumberToObject(n, "velocity", p->note[i].velocity);
        }
    }
    IC_ASSERT(ok);   /* small allocations only: out of memory here is not recoverable */
    return e;
}
