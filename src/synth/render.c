/* Rendering with libfluidsynth: one fluid_synth_t per ic_synth (fluidsynth keeps all
 * state in the synth object, so separate objects may render in separate threads).
 * A render resets the synth, selects the program on channel 0, plays the keys at
 * IC_SYNTH_OVERSAMPLE x 16 kHz, mixes the stereo output to mono, decimates to 16 kHz
 * and applies the peak-safe gain.  Not here: file output, naming, phrase generation. */
#include "ic/synth.h"
#include <errno.h>
#include <fluidsynth.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ic_synth {
    fluid_settings_t *settings;
    fluid_synth_t *synth;
    fluid_sfont_t *sfont;
    int sfont_id;
    int rate;                /* fluidsynth rate: IC_SYNTH_OVERSAMPLE * IC_SYNTH_RATE */
    ic_decimator dec;
    size_t n_in;             /* frames rendered per clip */
    float *left, *right;     /* (n_in) */
};

void ic_synth_free(ic_synth *s) {
    if (!s) return;
    if (s->synth) delete_fluid_synth(s->synth);
    if (s->settings) delete_fluid_settings(s->settings);
    ic_decimator_free(&s->dec);
    free(s->left);
    free(s->right);
    free(s);
}

ic_synth *ic_synth_new(const char *soundfont, float gain, ic_error *err) {
    if (!(gain > 0 && gain <= 10)) {
        ic_error_set(err, IC_ERR_ARG, "synth gain must be in (0, 10], found %g", gain);
        return NULL;
    }
    /* check the RIFF 'sfbk' header here: fluidsynth's own messages are less clear */
    FILE *f = fopen(soundfont, "rb");
    if (!f) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", soundfont, strerror(errno));
        return NULL;
    }
    unsigned char head[12];
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    if (got != sizeof head || memcmp(head, "RIFF", 4) != 0 || memcmp(head + 8, "sfbk", 4) != 0) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: not a SoundFont (expected a RIFF 'sfbk' file, sf2 or sf3)", soundfont);
        return NULL;
    }
    ic_synth *s = calloc(1, sizeof *s);
    if (!s) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", soundfont); return NULL; }
    s->rate = IC_SYNTH_OVERSAMPLE * IC_SYNTH_RATE;
    if (ic_decimator_init(&s->dec, IC_SYNTH_OVERSAMPLE, err) != IC_OK) { ic_synth_free(s); return NULL; }
    s->n_in = ic_decimator_input_len(&s->dec, IC_SYNTH_FRAMES);
    s->settings = new_fluid_settings();
    if (!s->settings) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", soundfont);
        ic_synth_free(s);
        return NULL;
    }
    /* NSynth's notes are dry: no reverb, no chorus.  Samples load at start (not on
     * demand) so a render never waits on the disk or on sf3 decoding. */
    if (fluid_settings_setnum(s->settings, "synth.sample-rate", (double)s->rate) != FLUID_OK ||
        fluid_settings_setint(s->settings, "synth.reverb.active", 0) != FLUID_OK ||
        fluid_settings_setint(s->settings, "synth.chorus.active", 0) != FLUID_OK ||
        fluid_settings_setnum(s->settings, "synth.gain", gain) != FLUID_OK ||
        fluid_settings_setint(s->settings, "synth.dynamic-sample-loading", 0) != FLUID_OK ||
        fluid_settings_setint(s->settings, "synth.cpu-cores", 1) != FLUID_OK) {
        ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth rejected a setting (sample rate %d, gain %g)", s->rate, gain);
        ic_synth_free(s);
        return NULL;
    }
    s->synth = new_fluid_synth(s->settings);
    if (!s->synth) {
        ic_error_set(err, IC_ERR_NOMEM, "fluidsynth: cannot create a synth");
        ic_synth_free(s);
        return NULL;
    }
    s->sfont_id = fluid_synth_sfload(s->synth, soundfont, 0);
    if (s->sfont_id == FLUID_FAILED || !(s->sfont = fluid_synth_get_sfont_by_id(s->synth, s->sfont_id))) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: fluidsynth cannot load this file as a SoundFont (sf2/sf3)", soundfont);
        ic_synth_free(s);
        return NULL;
    }
    /* fluidsynth renders whole blocks and hands out the rest of a block on the next
     * call: a clip of whole blocks leaves nothing over to leak into the next clip */
    size_t block = (size_t)fluid_synth_get_internal_bufsize(s->synth);
    if (block == 0 || block > 4096) block = 64;
    s->n_in = (s->n_in + block - 1) / block * block;
    s->left = malloc(s->n_in * sizeof *s->left);
    s->right = malloc(s->n_in * sizeof *s->right);
    if (!s->left || !s->right) {
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", soundfont);
        ic_synth_free(s);
        return NULL;
    }
    if (fluid_synth_set_interp_method(s->synth, -1, FLUID_INTERP_7THORDER) != FLUID_OK) {
        ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: cannot select 7th-order interpolation");
        ic_synth_free(s);
        return NULL;
    }
    /* The first note a new synth plays differs from later renders of the same note in
     * its first millisecond (fluidsynth state that settles after one note), so play a
     * throwaway note now: every clip is then rendered from the same state. */
    fluid_preset_t *any = NULL;
    for (int p = 0; p < 128 && !any; p++) any = fluid_sfont_get_preset(s->sfont, 0, p);
    if (any) {
        if (fluid_synth_program_select(s->synth, 0, s->sfont_id, 0, fluid_preset_get_num(any)) != FLUID_OK ||
            fluid_synth_noteon(s->synth, 0, 60, 100) != FLUID_OK ||
            fluid_synth_write_float(s->synth, 1024, s->left, 0, 1, s->right, 0, 1) != FLUID_OK) {
            ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: fluidsynth cannot play a first note", soundfont);
            ic_synth_free(s);
            return NULL;
        }
    }
    return s;
}

int ic_synth_has_program(ic_synth *s, int program) {
    return program >= 0 && program < 128 && fluid_sfont_get_preset(s->sfont, 0, program) != NULL;
}

const char *ic_synth_preset_name(ic_synth *s, int program) {
    fluid_preset_t *p = program >= 0 && program < 128 ? fluid_sfont_get_preset(s->sfont, 0, program) : NULL;
    const char *name = p ? fluid_preset_get_name(p) : NULL;
    return name ? name : "";
}

float ic_synth_peak_safe(float *x, size_t n, float ceiling, float *peak) {
    float pk = 0;
    for (size_t i = 0; i < n; i++) { float a = fabsf(x[i]); if (a > pk) pk = a; }
    if (peak) *peak = pk;
    if (pk <= ceiling) return 1.0f;
    float scale = ceiling / pk;
    for (size_t i = 0; i < n; i++) x[i] *= scale;
    return scale;
}

/* Silences everything and selects program on channel 0 with GM default controllers.
 * A voice still sounding from the previous clip is only cut when fluidsynth next
 * renders, so a few blocks are rendered and dropped until no voice is left: every
 * clip starts from the same silent state whatever came before. */
static ic_status reset(ic_synth *s, int program, ic_error *err) {
    fluid_synth_all_sounds_off(s->synth, -1);
    for (int k = 0; fluid_synth_get_active_voice_count(s->synth) > 0; k++) {
        if (k == 64) return ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: voices do not stop");
        if (fluid_synth_write_float(s->synth, 64, s->left, 0, 1, s->right, 0, 1) != FLUID_OK)
            return ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: rendering failed");
    }
    if (fluid_synth_system_reset(s->synth) != FLUID_OK)
        return ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: system reset failed");
    if (fluid_synth_program_select(s->synth, 0, s->sfont_id, 0, program) != FLUID_OK)
        return ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: cannot select program %d", program);
    return IC_OK;
}

/* Renders frames [from, to) of the oversampled clip into left/right. */
static ic_status render_span(ic_synth *s, size_t from, size_t to, ic_error *err) {
    IC_ASSERT(from <= to && to <= s->n_in);
    while (from < to) {
        int len = (int)(to - from < 65536 ? to - from : 65536);
        if (fluid_synth_write_float(s->synth, len, s->left, (int)from, 1, s->right, (int)from, 1) != FLUID_OK)
            return ic_error_set(err, IC_ERR_UNSUPPORTED, "fluidsynth: rendering failed");
        from += (size_t)len;
    }
    return IC_OK;
}

/* Mono mix, decimation, silence test and peak-safe gain. */
static void finish(ic_synth *s, float *out, ic_render_info *info) {
    for (size_t i = 0; i < s->n_in; i++) s->left[i] = 0.5f * (s->left[i] + s->right[i]);
    ic_decimate(&s->dec, s->left, out, IC_SYNTH_FRAMES);
    info->scale = ic_synth_peak_safe(out, IC_SYNTH_FRAMES, IC_SYNTH_PEAK_CEILING, &info->peak);
    info->result = info->peak < IC_SYNTH_SILENCE_PEAK ? IC_RENDER_SILENT : IC_RENDER_OK;
}

static size_t frame_at(const ic_synth *s, double seconds) {
    double f = floor(seconds * s->rate + 0.5);
    if (f < 0) f = 0;
    return f > (double)s->n_in ? s->n_in : (size_t)f;
}

ic_status ic_synth_render_note(ic_synth *s, int program, int pitch, int velocity, double hold,
                               float *out, ic_render_info *info, ic_error *err) {
    IC_ASSERT(pitch >= 0 && pitch < 128 && velocity > 0 && velocity < 128 && hold >= 0);
    memset(info, 0, sizeof *info);
    info->scale = 1.0f;
    if (!ic_synth_has_program(s, program)) { info->result = IC_RENDER_UNPLAYABLE; return IC_OK; }
    ic_status st = reset(s, program, err);
    if (st != IC_OK) return st;
    /* noteon starts the voices at once; none means no zone of the preset covers this key/velocity */
    if (fluid_synth_noteon(s->synth, 0, pitch, velocity) != FLUID_OK ||
        fluid_synth_get_active_voice_count(s->synth) == 0) {
        info->result = IC_RENDER_UNPLAYABLE;
        return IC_OK;
    }
    size_t off = frame_at(s, hold);
    if ((st = render_span(s, 0, off, err)) != IC_OK) return st;
    fluid_synth_noteoff(s->synth, 0, pitch);   /* fails only when the voice already ended */
    if ((st = render_span(s, off, s->n_in, err)) != IC_OK) return st;
    finish(s, out, info);
    return IC_OK;
}

typedef struct { size_t frame; int on, pitch, velocity; } event;

static int cmp_event(const void *a, const void *b) {
    const event *x = a, *y = b;
    if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
    if (x->on != y->on) return x->on - y->on;            /* key up before key down */
    return x->pitch - y->pitch;
}

ic_status ic_synth_render_phrase(ic_synth *s, int program, const ic_phrase *p, float *out,
                                 ic_render_info *info, ic_error *err) {
    IC_ASSERT(p->n > 0 && p->n <= IC_PHRASE_MAX_NOTES);
    memset(info, 0, sizeof *info);
    info->scale = 1.0f;
    if (!ic_synth_has_program(s, program)) { info->result = IC_RENDER_UNPLAYABLE; return IC_OK; }
    ic_status st;
    /* every key must sound on its own, or the labels would name notes that are not there */
    for (int i = 0; i < p->n; i++) {
        if ((st = reset(s, program, err)) != IC_OK) return st;
        if (fluid_synth_noteon(s->synth, 0, p->note[i].pitch, p->note[i].velocity) != FLUID_OK ||
            fluid_synth_get_active_voice_count(s->synth) == 0) {
            info->result = IC_RENDER_UNPLAYABLE;
            return IC_OK;
        }
    }
    if ((st = reset(s, program, err)) != IC_OK) return st;
    event ev[2 * IC_PHRASE_MAX_NOTES];
    int ne = 0;
    for (int i = 0; i < p->n; i++) {
        const ic_phrase_note *n = &p->note[i];
        ev[ne++] = (event){frame_at(s, n->onset), 1, n->pitch, n->velocity};
        ev[ne++] = (event){frame_at(s, n->offset), 0, n->pitch, 0};
    }
    qsort(ev, (size_t)ne, sizeof *ev, cmp_event);
    size_t cur = 0;
    for (int i = 0; i < ne; i++) {
        if ((st = render_span(s, cur, ev[i].frame, err)) != IC_OK) return st;
        cur = ev[i].frame;
        if (ev[i].on) fluid_synth_noteon(s->synth, 0, ev[i].pitch, ev[i].velocity);
        else fluid_synth_noteoff(s->synth, 0, ev[i].pitch);
    }
    if ((st = render_span(s, cur, s->n_in, err)) != IC_OK) return st;
    finish(s, out, info);
    return IC_OK;
}
