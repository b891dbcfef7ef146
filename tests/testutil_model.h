/* Tiny models for the program tests (iceval, icinfer): a 16-band log-mel front
 * end and one conv layer, with any of the three heads.  Tests "rig" a head by
 * zeroing its weights and choosing its biases, so every window gets known logits.
 * Header-only, like testutil.h. */
#ifndef IC_TESTUTIL_MODEL_H
#define IC_TESTUTIL_MODEL_H
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "ic/model.h"

/* A model for `window` samples at `rate` Hz with the heads asked for (family: 11
 * NSynth labels; pitch: 88 classes from MIDI 21; activity: silent/playing),
 * weights initialised from seed. */
static inline ic_model *ic_test_tiny_model(int rate, size_t window, int family, int pitch, int activity,
                                           uint64_t seed) {
    ic_frontend_params fp;
    ic_frontend_defaults(&fp);
    fp.sample_rate = rate;
    fp.n_fft = 256;
    fp.win_length = 256;
    fp.hop = 256;
    fp.n_mels = 16;
    fp.fmax = (float)(rate / 2);
    char json[512];
    snprintf(json, sizeof json,
             "{\"input\":[1,16,%d],\"layers\":[{\"type\":\"conv\",\"out\":4,\"k\":3,\"pad\":1},{\"type\":\"relu\"},"
             "{\"type\":\"maxpool\",\"k\":2,\"stride\":2},{\"type\":\"gap\"}],\"heads\":[]}",
             (int)ic_frontend_n_frames(&fp, window));
    cJSON *arch = cJSON_Parse(json), *heads = cJSON_GetObjectItem(arch, "heads");
    const char *fam[11] = {"bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
                           "synth_lead", "vocal"};
    if (family) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "name", "family");
        cJSON_AddNumberToObject(h, "classes", 11);
        cJSON_AddItemToObject(h, "labels", cJSON_CreateStringArray(fam, 11));
        cJSON_AddItemToArray(heads, h);
    }
    if (pitch) {
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "name", "pitch");
        cJSON_AddNumberToObject(h, "classes", 88);
        cJSON_AddItemToArray(heads, h);
    }
    if (activity) {
        const char *act[2] = {"silent", "playing"};
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "name", "activity");
        cJSON_AddNumberToObject(h, "classes", 2);
        cJSON_AddItemToObject(h, "labels", cJSON_CreateStringArray(act, 2));
        cJSON_AddItemToArray(heads, h);
    }
    ic_error err;
    ic_model *m = ic_model_create(arch, &fp, window, 21, &err);
    ck_assert_msg(m != NULL, "%s", err.msg);
    cJSON_Delete(arch);
    ic_rng r;
    ic_rng_seed(&r, seed);
    ic_net_init(m->net, &r);
    return m;
}

/* Zeroes head h's weights and sets its biases (classes floats): fixed logits. */
static inline void ic_test_set_head(ic_model *m, int h, const float *bias) {
    ic_net *net = m->net;
    ic_head *H = &net->heads[h];
    ic_param *w = &net->params[H->w_param], *b = &net->params[H->b_param];
    memset(net->param + w->offset, 0, w->numel * sizeof(float));
    memcpy(net->param + b->offset, bias, b->numel * sizeof(float));
}
#endif
