/* MFCC baselines (ic/baseline.h): summary features from the MFCC feature cache,
 * standardisation, and a plain training loop (AdamW, cosine schedule, softmax
 * cross-entropy on the family head, best epoch by validation accuracy).
 * No augmentation, no non-playing windows, no checkpoints: a baseline trains in
 * seconds to a few minutes once its cache exists. */
#include "ic/baseline.h"
#include "ic/featstats.h"
#include "ic/training.h"
#include "ic/model.h"
#include "ic/nsynth.h"
#include "ic/optim.h"
#include "ic/predict.h"
#include "ic/progress.h"
#include "ic/timer.h"
#include "ic/trainset.h"
#include <string.h>

#define BASELINE_PITCH_BASE 21 /* unused (no pitch head); kept equal to the CNN's */
#define WINDOW_SECONDS 4

int ic_baseline_kind_from_name(const char *name) {
    if (!strcmp(name, "mfcc-logreg")) return IC_BASELINE_LOGREG;
    if (!strcmp(name, "mfcc")) return IC_BASELINE_MLP;
    return -1;
}

const char *ic_baseline_kind_name(ic_baseline_kind kind) {
    return kind == IC_BASELINE_LOGREG ? "mfcc-logreg" : "mfcc";
}

void ic_baseline_frontend(ic_frontend_params *fp) {
    ic_frontend_defaults(fp);
    fp->n_fft = 2048;
    fp->win_length = 2048;
    fp->hop = 512;
    fp->n_mels = 128;
    fp->fmin = 0.0f;
    fp->fmax = 8000.0f;
    fp->kind = IC_FEAT_MFCC;
    fp->n_mfcc = 20;
    fp->log_db = 1;
    fp->log_floor = 1e-10f;
}

static unsigned summary_of(ic_baseline_kind kind) {
    return kind == IC_BASELINE_LOGREG
               ? IC_SUMMARY_MEAN
               : IC_SUMMARY_MEAN | IC_SUMMARY_STD | IC_SUMMARY_DELTA_MEAN | IC_SUMMARY_DELTA_STD;
}

static void add_layer(cJSON *layers, const char *type, const char *key, double value) {
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "type", type);
    if (key) cJSON_AddNumberToObject(l, key, value);
    cJSON_AddItemToArray(layers, l);
}

cJSON *ic_baseline_arch(ic_baseline_kind kind, int input_dim) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToObject(a, "input", cJSON_CreateIntArray(&input_dim, 1));
    cJSON *layers = cJSON_AddArrayToObject(a, "layers");
    if (kind == IC_BASELINE_MLP) {
        add_layer(layers, "dense", "out", 128);
        add_layer(layers, "bn", NULL, 0);
        add_layer(layers, "relu", NULL, 0);
        add_layer(layers, "dropout", "p", 0.3);
        add_layer(layers, "dense", "out", 64);
        add_layer(layers, "relu", NULL, 0);
    }
    cJSON *heads = cJSON_AddArrayToObject(a, "heads");
    cJSON *fam = cJSON_CreateObject();
    cJSON_AddStringToObject(fam, "name", "family");
    cJSON_AddNumberToObject(fam, "classes", IC_NSYNTH_N_FAMILIES);
    cJSON *fl = cJSON_AddArrayToObject(fam, "labels");
    for (int i = 0; i < IC_NSYNTH_N_FAMILIES; i++) cJSON_AddItemToArray(fl, cJSON_CreateString(ic_nsynth_family_name(i)));
    cJSON_AddItemToArray(heads, fam);
    return a;
}

/* One split as summary vectors: x (n, D) raw (later normalised in place), y (n). */
typedef struct {
    float *x;
    int *y;
    size_t n;
} dataset;

static void dataset_free(dataset *d) {
    free(d->x);
    free(d->y);
    memset(d, 0, sizeof *d);
}

/* Summaries of every clip of s from its feature cache, in parallel over clips. */
static void summarise_split(const ic_model *m, const ic_trainsplit *s, dataset *d) {
    size_t D = (size_t)m->n_features, cell = (size_t)m->fe_features * (size_t)m->fe_frames;
    d->n = s->n;
    d->x = ic_xmalloc((s->n ? s->n : 1) * D * sizeof(float));
    d->y = ic_xmalloc((s->n ? s->n : 1) * sizeof(int));
    #pragma omp parallel
    {
        float *mat = ic_xmalloc(cell * sizeof(float));
        #pragma omp for schedule(static)
        for (size_t i = 0; i < s->n; i++) {
            ic_featcache_get(s->cache, s->clip[i], mat);
            ic_summary_compute(m->summary, mat, m->fe_features, m->fe_frames, d->x + i * D);
            d->y[i] = s->family[i];
        }
        free(mat);
    }
}

static void normalise_all(const ic_model *m, dataset *d) {
    for (size_t i = 0; i < d->n; i++) ic_model_normalise(m, d->x + i * (size_t)m->n_features);
}

/* Standardisation statistics of the training vectors into the model. */
static ic_status fit_norm(ic_model *m, const dataset *tr, ic_error *err) {
    ic_featstats *fs = ic_featstats_new((size_t)m->n_features, err);
    if (!fs) return err->code;
    /* a vector is a (D, 1) matrix: one frame of D bands */
    for (size_t i = 0; i < tr->n; i++) ic_featstats_add(fs, tr->x + i * (size_t)m->n_features, 1);
    ic_status st = ic_featstats_finalize(fs, IC_FEATSTATS_STD_FLOOR, m->norm_mean, m->norm_std, err);
    ic_featstats_free(fs);
    return st;
}

/* Family accuracy of the model on a normalised dataset, eval mode, batches of cap. */
static double accuracy(ic_model *m, const dataset *d, int cap) {
    int h = m->head_family, k = m->net->heads[h].classes;
    size_t ok = 0, D = (size_t)m->n_features;
    for (size_t pos = 0; pos < d->n; pos += (size_t)cap) {
        int n = d->n - pos < (size_t)cap ? (int)(d->n - pos) : cap;
        ic_net_forward(m->net, d->x + pos * D, n, 0, NULL);
        const float *lg = ic_net_logits(m->net, h);
        for (int i = 0; i < n; i++) ok += ic_argmax(lg + (size_t)i * k, k) == d->y[pos + (size_t)i];
    }
    return d->n ? (double)ok / (double)d->n : 0.0;
}

static cJSON *training_meta(const ic_baseline_opts *o, int epochs_done, double valid_acc, double seconds) {
    const ic_train_recipe r = {.model = ic_baseline_kind_name(o->kind), .data = o->data, .epochs = o->epochs,
                               .epochs_done = epochs_done, .batch = o->batch, .lr = o->lr,
                               .weight_decay = o->weight_decay, .balance = o->balance,
                               .per_family = o->per_family, .seed = o->seed};
    cJSON *t, *meta = ic_train_meta(&r, &t);
    cJSON_AddNumberToObject(t, "valid_family_accuracy", valid_acc);
    cJSON_AddNumberToObject(t, "train_seconds", seconds);
    return meta;
}

/* Opens split `name` through the MFCC cache and summarises it. */
static ic_status load_split(const ic_baseline_opts *o, ic_model *m, const char *name, const char *cache,
                            size_t balance, size_t max, dataset *d, ic_error *err) {
    ic_trainsplit *s = ic_trainsplit_open(o->data, name, m, cache, balance, o->seed, o->quiet, err);
    if (!s) return err->code;
    if (max && s->n > max) {
        ic_rng r;
        ic_rng_seed(&r, o->seed ^ 0xa11dULL);
        ic_trainsplit_subsample(s, max, &r);
    }
    summarise_split(m, s, d);
    ic_trainsplit_free(s);
    return IC_OK;
}

ic_status ic_baseline_train(const ic_baseline_opts *o, ic_error *err) {
    if (!o->data || !o->out) return ic_error_set(err, IC_ERR_ARG, "baseline: data and out are required");
    if (o->epochs < 1 || o->batch < 2)
        return ic_error_set(err, IC_ERR_ARG, "baseline: epochs >= 1 and batch >= 2 expected, got %d and %d",
                            o->epochs, o->batch);
    char cache[4096];
    if (o->cache_dir) snprintf(cache, sizeof cache, "%s/mfcc", o->cache_dir);
    else snprintf(cache, sizeof cache, "%s/cache/mfcc", o->data);

    ic_frontend_params fp;
    ic_baseline_frontend(&fp);
    unsigned summary = summary_of(o->kind);
    int D = fp.n_mfcc * ic_summary_count(summary);
    cJSON *arch = ic_baseline_arch(o->kind, D);
    ic_model *m = ic_model_create_summary(arch, &fp, (size_t)fp.sample_rate * WINDOW_SECONDS, BASELINE_PITCH_BASE,
                                          summary, err);
    cJSON_Delete(arch);
    if (!m) return err->code;
    dataset tr = {0}, va = {0}, te = {0};
    ic_opt *opt = NULL;
    float *probs = NULL;
    int *yb = NULL;
    float *xb = NULL;
    size_t *order = NULL;
    ic_model *best = NULL;
    ic_status st = IC_OK;

    double t0 = ic_now();
    if ((st = load_split(o, m, "train", cache, o->balance, 0, &tr, err))) goto done;
    if ((st = load_split(o, m, "valid", cache, 0, o->valid_max, &va, err))) goto done;
    if ((st = fit_norm(m, &tr, err))) goto done;
    normalise_all(m, &tr);
    normalise_all(m, &va);
    double t_feat = ic_now() - t0;
    if (tr.n < (size_t)o->batch) {
        st = ic_error_set(err, IC_ERR_ARG, "%s: %zu training clips, fewer than one batch of %d", o->data, tr.n, o->batch);
        goto done;
    }

    int B = o->batch, h = m->head_family, k = m->net->heads[h].classes;
    size_t Dz = (size_t)D;
    if ((st = ic_net_reserve(m->net, B, err))) goto done;
    ic_rng rng, shuf;
    ic_rng_seed(&rng, o->seed);
    ic_net_init(m->net, &rng);
    ic_rng_seed(&rng, o->seed + 1);
    ic_rng_seed(&shuf, o->seed + 2);
    opt = ic_opt_new(m->net, IC_OPT_ADAMW, o->weight_decay);
    long steps_per_epoch = (long)(ic_epoch_size(tr.y, tr.n, o->per_family) / (size_t)B);
    ic_lr_schedule sched = {IC_SCHED_COSINE, o->lr, steps_per_epoch / 4 + 1, steps_per_epoch * o->epochs,
                            o->lr * 0.01f, 0, 0};
    probs = ic_xmalloc((size_t)B * (size_t)k * sizeof(float));
    yb = ic_xmalloc((size_t)B * sizeof(int));
    xb = ic_xmalloc((size_t)B * Dz * sizeof(float));
    order = ic_xmalloc(tr.n * sizeof(size_t));
    if (!o->quiet)
        fprintf(stderr, "%s: %d parameters, input %d, train %zu clips, valid %zu, %ld steps/epoch; features %.1f s\n",
                ic_baseline_kind_name(o->kind), (int)m->net->n_param_floats, D, tr.n, va.n, steps_per_epoch, t_feat);

    double t1 = ic_now(), best_acc = -1;
    int best_epoch = -1;
    long step = 0;
    for (int ep = 0; ep < o->epochs; ep++) {
        ic_epoch_order(tr.y, tr.n, o->per_family, &shuf, order);
        double loss_sum = 0;
        size_t correct = 0;
        for (long s = 0; s < steps_per_epoch; s++) {
            for (int i = 0; i < B; i++) {
                size_t j = order[(size_t)s * (size_t)B + (size_t)i];
                memcpy(xb + (size_t)i * Dz, tr.x + j * Dz, Dz * sizeof(float));
                yb[i] = tr.y[j];
            }
            const ic_step_target tg = {h, yb, 1.0f, 0.0f, probs};
            loss_sum += ic_train_step(m->net, opt, ic_lr_at(&sched, step++), xb, B, &rng, &tg, 1);
            for (int i = 0; i < B; i++) correct += ic_argmax(probs + (size_t)i * k, k) == yb[i];
        }
        double acc = accuracy(m, &va, B);
        if (!o->quiet)
            fprintf(stderr, "epoch %d/%d: train loss %.4f family acc %.2f%% | valid family %.2f%% (n=%zu)\n", ep + 1,
                    o->epochs, loss_sum / (double)steps_per_epoch,
                    100.0 * (double)correct / (double)((size_t)steps_per_epoch * (size_t)B), 100 * acc, va.n);
        if (acc > best_acc) {
            best_acc = acc;
            best_epoch = ep;
            cJSON *meta = training_meta(o, ep + 1, acc, ic_now() - t1);
            st = ic_model_save(m, o->out, meta, err);
            cJSON_Delete(meta);
            if (st) goto done;
        }
    }
    double t_train = ic_now() - t1;

    /* final report: the saved best model, read back as the programs read it */
    best = ic_model_load(o->out, err);
    if (!best) { st = err->code; goto done; }
    if ((st = load_split(o, best, "test", cache, 0, 0, &te, err))) goto done;
    normalise_all(best, &te);
    if ((st = ic_net_reserve_eval(best->net, B, err))) goto done;
    double test_acc = accuracy(best, &te, B);
    if (!o->quiet)
        fprintf(stderr, "best epoch %d (valid family %.2f%%); test family %.2f%% (n=%zu); features %.1f s, training %.1f s\n",
                best_epoch + 1, 100 * best_acc, 100 * test_acc, te.n, t_feat, t_train);
    if (o->report) {
        cJSON *rep = cJSON_CreateObject();
        cJSON_AddStringToObject(rep, "model", o->out);
        cJSON_AddStringToObject(rep, "kind", ic_baseline_kind_name(o->kind));
        cJSON_AddNumberToObject(rep, "best_epoch", best_epoch + 1);
        cJSON_AddNumberToObject(rep, "valid_family_accuracy", best_acc);
        cJSON_AddNumberToObject(rep, "feature_seconds", t_feat);
        cJSON_AddNumberToObject(rep, "train_seconds", t_train);
        cJSON_AddNumberToObject(rep, "n_train", (double)tr.n);
        cJSON *t = cJSON_AddObjectToObject(rep, "test");
        cJSON_AddNumberToObject(t, "family_accuracy", test_acc);
        cJSON_AddNumberToObject(t, "n", (double)te.n);
        char *txt = cJSON_Print(rep);
        cJSON_Delete(rep);
        IC_ASSERT(txt);
        int bad = fprintf(o->report, "%s\n", txt) < 0 || fflush(o->report) != 0;
        free(txt);
        if (bad) st = ic_error_set(err, IC_ERR_IO, "writing the training report failed");
    }
done:
    free(probs);
    free(yb);
    free(xb);
    free(order);
    ic_opt_free(opt);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&te);
    ic_model_free(best);
    ic_model_free(m);
    return st;
}
