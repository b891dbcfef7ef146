/* ictrain: trains the spectrogram CNN (instrument family, pitch and activity
 * heads) on an NSynth-format dataset, validating every epoch, keeping the best
 * model by mean validation accuracy of its heads, checkpointing every epoch (and on
 * Ctrl-C) so an interrupted run resumes exactly, and ending with a report on
 * the test split.  The training recipe lives here; the pieces it uses are in
 * src/model (network, augmentation, batches) and src/io (data, cache). */
#include "ic/model.h"
#include "ic/trainset.h"
#include "ic/training.h"
#include "ic/optim.h"
#include "ic/featstats.h"
#include "ic/progress.h"
#include "ic/threads.h"
#include "ic/timer.h"
#include "ic/audio.h"
#include "ic/baseline.h"
#include "ic/cli.h"
#include "ic/predict.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PITCH_BASE 21    /* A0 */
#define PITCH_CLASSES 88 /* A0..C8 */

static volatile sig_atomic_t g_stop; /* set by SIGINT/SIGTERM: checkpoint and leave */
static void on_signal(int sig) { (void)sig; g_stop = 1; }

typedef struct {
    const char *data, *out, *resume, *cache, *speech, *model_kind;
    int epochs, batch, threads, width, mels, n_fft, neg_per_batch, quiet, augment;
    size_t valid_max;  /* clips of the validation subsample evaluated each epoch */
    long stop_after;   /* testing: behave as if interrupted after this many steps */
    size_t balance, per_family;
    float lr, weight_decay, smoothing, w_pitch, w_activity, dropout;
    uint64_t seed;
} options;

static void usage(FILE *f) {
    fprintf(f,
"usage: ictrain --data DIR --out FILE.icw [options]\n"
"\n"
"Trains the instrument classifier on an NSynth-format dataset (DIR/nsynth-train,\n"
"nsynth-valid, nsynth-test as folders or .jsonwav.tar.gz archives): a CNN on log-mel\n"
"spectrograms with three heads (instrument family, pitch, activity).  Validates after\n"
"every epoch, keeps the best model (mean validation accuracy of the three heads) in\n"
"FILE.icw, writes a\n"
"checkpoint FILE.icw.ckpt every epoch and on Ctrl-C, and ends with a test-split report\n"
"(progress and per-epoch lines on stderr; the final report as JSON on stdout).\n"
"\n"
"  --data DIR         dataset directory (required)\n"
"  --out FILE         model file to write (required)\n"
"  --model KIND       cnn (default); mfcc-logreg or mfcc: the MFCC baselines of the\n"
"                     benchmarks (family head only; ic/baseline.h), which use --epochs,\n"
"                     --batch, --lr, --weight-decay, --balance, --per-family, --valid-max,\n"
"                     --seed, --cache\n"
"  --epochs N         epochs (default 20)\n"
"  --batch N          clips per batch, plus the non-playing windows (default 32)\n"
"  --lr X             peak AdamW learning rate, cosine schedule (default 0.002)\n"
"  --weight-decay X   AdamW decay on conv/dense weights (default 0.05)\n"
"  --balance N        cap each family at N training clips, one fixed seeded draw\n"
"                     (default 0: all)\n"
"  --per-family N     each epoch, at most N clips of each family, drawn afresh from\n"
"                     the whole training split (default 0: every clip every epoch)\n"
"  --neg-per-batch N  non-playing windows added to each batch (default batch/8)\n"
"  --valid-max N      validate each epoch on a fixed seeded subsample of N clips\n"
"                     (default 4000; 0: the whole split)\n"
"  --seed N           seed of every random choice (default 1)\n"
"  --resume CKPT      continue an interrupted run from its checkpoint\n"
"  --threads N        worker threads (default: all cores)\n"
"  --width N          channels of the first conv block, doubled per block (default 16)\n"
"  --mels N           mel bands of the front end (default 128)\n"
"  --no-augment       train on the clean features\n"
"  --cache DIR        feature cache directory (default DIR/cache)\n"
"  --speech DIR       speech wavs for the activity head (default DIR/speech)\n"
"  --stop-after N     stop as if interrupted after N steps (for testing resume)\n"
"  --quiet            no progress output\n"
"  --help             this text\n"
"\n"
"Exit status: 0 success, 1 runtime failure, 2 bad usage, 130 interrupted (resumable).\n");
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->model_kind = "cnn";
    o->epochs = 20; o->batch = 32; o->threads = 0; o->width = 16; o->mels = 128; o->n_fft = 2048;
    o->lr = 0.002f; o->weight_decay = 0.05f; o->smoothing = 0.1f; o->w_pitch = 0.5f;
    o->w_activity = 0.5f; o->dropout = 0.3f; o->seed = 1; o->augment = 1; o->valid_max = 4000;
    static const struct option opts[] = {
        {"data", 1, 0, 'd'}, {"out", 1, 0, 'o'}, {"model", 1, 0, 'm'}, {"epochs", 1, 0, 'e'},
        {"batch", 1, 0, 'b'}, {"lr", 1, 0, 'l'}, {"balance", 1, 0, 'B'}, {"per-family", 1, 0, 'F'}, {"seed", 1, 0, 's'},
        {"resume", 1, 0, 'r'}, {"threads", 1, 0, 't'}, {"width", 1, 0, 'w'}, {"mels", 1, 0, 'M'},
        {"weight-decay", 1, 0, 'W'}, {"cache", 1, 0, 'c'}, {"speech", 1, 0, 'S'},
        {"no-augment", 0, 0, 'A'}, {"stop-after", 1, 0, 'X'}, {"valid-max", 1, 0, 'V'}, {"neg-per-batch", 1, 0, 'N'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c, idx = 0;
    double v;
    while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
        switch (c) {
        case 'd': o->data = optarg; break;
        case 'o': o->out = optarg; break;
        case 'm': o->model_kind = optarg; break;
        case 'r': o->resume = optarg; break;
        case 'c': o->cache = optarg; break;
        case 'S': o->speech = optarg; break;
        case 'A': o->augment = 0; break;
        case 'q': o->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'e': if (ic_cli_parse_double(optarg, 1, 10000, &v)) goto bad; o->epochs = (int)v; break;
        case 'b': if (ic_cli_parse_double(optarg, 2, 4096, &v)) goto bad; o->batch = (int)v; break;
        case 'l': if (ic_cli_parse_double(optarg, 1e-7, 10, &v)) goto bad; o->lr = (float)v; break;
        case 'W': if (ic_cli_parse_double(optarg, 0, 10, &v)) goto bad; o->weight_decay = (float)v; break;
        case 'B': if (ic_cli_parse_double(optarg, 0, 1e9, &v)) goto bad; o->balance = (size_t)v; break;
        case 'F': if (ic_cli_parse_double(optarg, 0, 1e9, &v)) goto bad; o->per_family = (size_t)v; break;
        case 's': if (ic_cli_parse_double(optarg, 0, 1e15, &v)) goto bad; o->seed = (uint64_t)v; break;
        case 't': if (ic_cli_parse_double(optarg, 0, 1024, &v)) goto bad; o->threads = (int)v; break;
        case 'w': if (ic_cli_parse_double(optarg, 1, 512, &v)) goto bad; o->width = (int)v; break;
        case 'M': if (ic_cli_parse_double(optarg, 8, 512, &v)) goto bad; o->mels = (int)v; break;
        case 'N': if (ic_cli_parse_double(optarg, 1, 4096, &v)) goto bad; o->neg_per_batch = (int)v; break;
        case 'V': if (ic_cli_parse_double(optarg, 0, 1e9, &v)) goto bad; o->valid_max = (size_t)v; break;
        case 'X': if (ic_cli_parse_double(optarg, 1, 1e12, &v)) goto bad; o->stop_after = (long)v; break;
        default: usage(stderr); return -1;
        }
        continue;
    bad:
        fprintf(stderr, "ictrain: invalid value '%s' for --%s\n", optarg, opts[idx].name);
        return -1;
    }
    if (optind < argc) { fprintf(stderr, "ictrain: unexpected argument '%s'\n", argv[optind]); return -1; }
    if (!o->data || !o->out) { fprintf(stderr, "ictrain: --data and --out are required (see --help)\n"); return -1; }
    if (strcmp(o->model_kind, "cnn") && ic_baseline_kind_from_name(o->model_kind) < 0) {
        fprintf(stderr, "ictrain: --model %s: expected cnn, mfcc or mfcc-logreg\n", o->model_kind);
        return -1;
    }
    if (!o->neg_per_batch) o->neg_per_batch = o->batch / 8 > 0 ? o->batch / 8 : 1;
    return 0;
}

/* The CNN: four conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool), widths
 * w, 2w, 4w, 8w; then the mean over time (keeping frequency position, which the
 * pitch head needs), dropout, and the three heads. */
static cJSON *cnn_arch(int mels, int frames, int width, float dropout) {
    cJSON *a = cJSON_CreateObject();
    int in[3] = {1, mels, frames};
    cJSON_AddItemToObject(a, "input", cJSON_CreateIntArray(in, 3));
    cJSON *layers = cJSON_AddArrayToObject(a, "layers");
    for (int b = 0; b < 4; b++) {
        cJSON *conv = cJSON_CreateObject();
        cJSON_AddStringToObject(conv, "type", "conv");
        cJSON_AddNumberToObject(conv, "out", width << b);
        cJSON_AddNumberToObject(conv, "k", 3);
        cJSON_AddNumberToObject(conv, "pad", 1);
        cJSON_AddFalseToObject(conv, "bias");
        cJSON_AddItemToArray(layers, conv);
        const char *rest[3] = {"bn", "relu", "maxpool"};
        for (int k = 0; k < 3; k++) {
            cJSON *l = cJSON_CreateObject();
            cJSON_AddStringToObject(l, "type", rest[k]);
            if (k == 2) cJSON_AddNumberToObject(l, "k", 2);
            cJSON_AddItemToArray(layers, l);
        }
    }
    cJSON *tp = cJSON_CreateObject();
    cJSON_AddStringToObject(tp, "type", "timepool");
    cJSON_AddItemToArray(layers, tp);
    cJSON *dr = cJSON_CreateObject();
    cJSON_AddStringToObject(dr, "type", "dropout");
    cJSON_AddNumberToObject(dr, "p", dropout);
    cJSON_AddItemToArray(layers, dr);

    cJSON *heads = cJSON_AddArrayToObject(a, "heads");
    cJSON *fam = cJSON_CreateObject();
    cJSON_AddStringToObject(fam, "name", "family");
    cJSON_AddNumberToObject(fam, "classes", IC_NSYNTH_N_FAMILIES);
    cJSON *fl = cJSON_AddArrayToObject(fam, "labels");
    for (int i = 0; i < IC_NSYNTH_N_FAMILIES; i++) cJSON_AddItemToArray(fl, cJSON_CreateString(ic_nsynth_family_name(i)));
    cJSON_AddItemToArray(heads, fam);
    cJSON *pitch = cJSON_CreateObject();
    cJSON_AddStringToObject(pitch, "name", "pitch");
    cJSON_AddNumberToObject(pitch, "classes", PITCH_CLASSES);
    cJSON *pl = cJSON_AddArrayToObject(pitch, "labels");
    static const char *NAMES[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
    for (int i = 0; i < PITCH_CLASSES; i++) {
        char nm[16];
        int midi = PITCH_BASE + i;
        snprintf(nm, sizeof nm, "%s%d", NAMES[midi % 12], midi / 12 - 1);
        cJSON_AddItemToArray(pl, cJSON_CreateString(nm));
    }
    cJSON_AddItemToArray(heads, pitch);
    cJSON *act = cJSON_CreateObject();
    cJSON_AddStringToObject(act, "name", "activity");
    cJSON_AddNumberToObject(act, "classes", 2);
    const char *al[2] = {"silent", "playing"};
    cJSON_AddItemToObject(act, "labels", cJSON_CreateStringArray(al, 2));
    cJSON_AddItemToArray(heads, act);
    return a;
}

/* Per-band mean/std over (up to 4000, seeded) training clips. */
static ic_status norm_stats(ic_model *m, const ic_trainsplit *tr, uint64_t seed, ic_error *err) {
    size_t n = tr->n < 4000 ? tr->n : 4000;
    size_t *idx = ic_xmalloc(tr->n * sizeof(size_t));
    for (size_t i = 0; i < tr->n; i++) idx[i] = i;
    ic_rng r;
    ic_rng_seed(&r, seed ^ 0x5eedULL);
    ic_rng_shuffle(&r, idx, tr->n);
    ic_featstats *fs = ic_featstats_new((size_t)m->n_features, err);
    if (!fs) { free(idx); return err->code; }
    float *f = ic_xmalloc((size_t)m->n_features * m->n_frames * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        ic_featcache_get(tr->cache, tr->clip[idx[i]], f);
        ic_featstats_add(fs, f, (size_t)m->n_frames);
    }
    ic_status st = ic_featstats_finalize(fs, 1e-2f, m->norm_mean, m->norm_std, err);
    ic_featstats_free(fs);
    free(f);
    free(idx);
    return st;
}

typedef struct {
    double family, pitch, chroma, false_alarm, miss;
    size_t n, n_pitch, n_neg;
} eval_result;

/* The model kept is the one with the best mean of the heads' validation
 * accuracies: family, pitch, and activity (balanced: 1 - mean of the two error rates). */
static double score(const eval_result *r) {
    return (r->family + r->pitch + (1.0 - 0.5 * (r->false_alarm + r->miss))) / 3.0;
}


/* Family/pitch accuracy on every clip of a split (no augmentation) and activity
 * errors on its clips plus the non-playing bank. */
static void evaluate(ic_model *m, const ic_trainsplit *s, const ic_negbank *neg, int batch,
                     const char *label, int quiet, eval_result *res) {
    memset(res, 0, sizeof *res);
    ic_batcher bt = {.model = m, .data = s, .neg = neg};
    size_t cell = (size_t)m->n_features * m->n_frames;
    float *x = ic_xmalloc((size_t)batch * cell * sizeof(float));
    int *yf = ic_xmalloc((size_t)batch * sizeof(int)), *yp = ic_xmalloc((size_t)batch * sizeof(int));
    int *ya = ic_xmalloc((size_t)batch * sizeof(int));
    size_t *order = ic_xmalloc(s->n * sizeof(size_t));
    for (size_t i = 0; i < s->n; i++) order[i] = i;
    size_t ok_f = 0, ok_p = 0, ok_c = 0, miss = 0, fa = 0;
    ic_progress pr;
    ic_progress_start(&pr, label, "clips", s->n + (size_t)neg->n, quiet);
    int hf = m->head_family, hp = m->head_pitch, ha = m->head_activity;
    for (size_t pos = 0; pos < s->n; pos += (size_t)batch) {
        int n = s->n - pos < (size_t)batch ? (int)(s->n - pos) : batch;
        ic_batcher_fill(&bt, 0, pos, order, n, x, yf, yp, ya);
        ic_net_forward(m->net, x, n, 0, NULL);
        for (int i = 0; i < n; i++) {
            ok_f += ic_argmax(ic_net_logits(m->net, hf) + i * IC_NSYNTH_N_FAMILIES, IC_NSYNTH_N_FAMILIES) == yf[i];
            if (yp[i] >= 0) {
                int p = ic_argmax(ic_net_logits(m->net, hp) + i * PITCH_CLASSES, PITCH_CLASSES);
                ok_p += p == yp[i];
                ok_c += p % 12 == yp[i] % 12;
                res->n_pitch++;
            }
            miss += ic_argmax(ic_net_logits(m->net, ha) + i * 2, 2) != 1;
        }
        ic_progress_update(&pr, pos + (size_t)n);
    }
    for (int pos = 0; pos < neg->n; pos += batch) {
        int n = neg->n - pos < batch ? neg->n - pos : batch;
        for (int i = 0; i < n; i++) {
            memcpy(x + (size_t)i * cell, neg->feat + (size_t)(pos + i) * cell, cell * sizeof(float));
            ic_model_normalise(m, x + (size_t)i * cell);
        }
        ic_net_forward(m->net, x, n, 0, NULL);
        for (int i = 0; i < n; i++) fa += ic_argmax(ic_net_logits(m->net, ha) + i * 2, 2) == 1;
        ic_progress_update(&pr, s->n + (size_t)(pos + n));
    }
    ic_progress_finish(&pr);
    res->n = s->n;
    res->n_neg = (size_t)neg->n;
    res->family = (double)ok_f / (double)s->n;
    res->pitch = res->n_pitch ? (double)ok_p / (double)res->n_pitch : 0;
    res->chroma = res->n_pitch ? (double)ok_c / (double)res->n_pitch : 0;
    res->miss = (double)miss / (double)s->n;
    res->false_alarm = neg->n ? (double)fa / (double)neg->n : 0;
    free(x); free(yf); free(yp); free(ya); free(order);
}

static cJSON *training_meta(const options *o, const ic_train_state *st, const eval_result *v, int epochs_done) {
    const ic_train_recipe r = {.model = "cnn", .data = o->data, .epochs = o->epochs, .epochs_done = epochs_done,
                               .batch = o->batch, .lr = o->lr, .weight_decay = o->weight_decay,
                               .balance = o->balance, .per_family = o->per_family, .seed = o->seed};
    cJSON *t, *meta = ic_train_meta(&r, &t);
    cJSON_AddBoolToObject(t, "augment", o->augment);
    cJSON_AddNumberToObject(t, "width", o->width);
    cJSON_AddNumberToObject(t, "steps", (double)st->step);
    if (v) {
        cJSON_AddNumberToObject(t, "valid_family_accuracy", v->family);
        cJSON_AddNumberToObject(t, "valid_pitch_accuracy", v->pitch);
        cJSON_AddNumberToObject(t, "valid_activity_false_alarm", v->false_alarm);
        cJSON_AddNumberToObject(t, "valid_activity_miss", v->miss);
    }
    return meta;
}

static cJSON *eval_json(const eval_result *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "family_accuracy", r->family);
    cJSON_AddNumberToObject(j, "pitch_accuracy", r->pitch);
    cJSON_AddNumberToObject(j, "chroma_accuracy", r->chroma);
    cJSON_AddNumberToObject(j, "activity_false_alarm", r->false_alarm);
    cJSON_AddNumberToObject(j, "activity_miss", r->miss);
    cJSON_AddNumberToObject(j, "n", (double)r->n);
    cJSON_AddNumberToObject(j, "n_pitch", (double)r->n_pitch);
    cJSON_AddNumberToObject(j, "n_not_playing", (double)r->n_neg);
    return j;
}

static void print_eval(const char *name, const eval_result *r) {
    fprintf(stderr, "%s: family %.2f%% (n=%zu)  pitch %.2f%% chroma %.2f%% (n=%zu)  activity false alarm %.2f%% (n=%zu) miss %.2f%%\n",
            name, 100 * r->family, r->n, 100 * r->pitch, 100 * r->chroma, r->n_pitch, 100 * r->false_alarm,
            r->n_neg, 100 * r->miss);
}

int main(int argc, char **argv) {
    options o;
    if (parse_args(argc, argv, &o)) return 2;
    ic_threads_set(o.threads);
    ic_audio_quiet_backends();
    ic_error err = {0};
    if (strcmp(o.model_kind, "cnn")) {
        if (o.resume) { fprintf(stderr, "ictrain: --resume is for the cnn (a baseline trains in minutes)\n"); return 2; }
        ic_baseline_opts bo = {.data = o.data, .out = o.out, .cache_dir = o.cache,
                               .kind = (ic_baseline_kind)ic_baseline_kind_from_name(o.model_kind),
                               .epochs = o.epochs, .batch = o.batch, .quiet = o.quiet, .balance = o.balance, .per_family = o.per_family,
                               .valid_max = o.valid_max, .lr = o.lr, .weight_decay = o.weight_decay,
                               .seed = o.seed, .report = stdout};
        if (ic_baseline_train(&bo, &err)) { fprintf(stderr, "ictrain: %s\n", err.msg); return 1; }
        return 0;
    }
    int rc = 1;
    char cache_dir[4096], speech_dir[4096], ckpt[4096];
    snprintf(cache_dir, sizeof cache_dir, "%s", o.cache ? o.cache : "");
    if (!o.cache) snprintf(cache_dir, sizeof cache_dir, "%s/cache", o.data);
    snprintf(speech_dir, sizeof speech_dir, "%s", o.speech ? o.speech : "");
    if (!o.speech) snprintf(speech_dir, sizeof speech_dir, "%s/speech", o.data);
    snprintf(ckpt, sizeof ckpt, "%s.ckpt", o.out);

    ic_frontend_params fp;
    ic_frontend_defaults(&fp);
    fp.n_mels = o.mels;
    fp.n_fft = o.n_fft;
    fp.win_length = o.n_fft;
    fp.fmin = 30.0f;
    size_t window = (size_t)fp.sample_rate * 4;
    int frames = (int)ic_frontend_n_frames(&fp, window);
    cJSON *arch = cnn_arch(fp.n_mels, frames, o.width, o.dropout);
    ic_model *m = ic_model_create(arch, &fp, window, PITCH_BASE, &err);
    cJSON_Delete(arch);
    ic_trainsplit *tr = NULL, *va = NULL, *te = NULL;
    ic_negbank *neg_tr = NULL, *neg_va = NULL;
    ic_augment *aug = NULL;
    ic_opt *opt = NULL;
    float *x = NULL, *probs = NULL, *probs_family = NULL;
    int *yf = NULL, *yp = NULL, *ya = NULL;
    size_t *order = NULL;
    if (!m) goto fail;

    tr = ic_trainsplit_open(o.data, "train", m, cache_dir, o.balance, o.seed, o.quiet, &err);
    if (!tr) goto fail;
    va = ic_trainsplit_open(o.data, "valid", m, cache_dir, 0, o.seed, o.quiet, &err);
    if (!va) goto fail;
    if (o.valid_max && va->n > o.valid_max) {
        /* a fixed subsample keeps per-epoch validation short; same for every family's share */
        ic_rng r;
        ic_rng_seed(&r, o.seed ^ 0xa11dULL);
        ic_trainsplit_subsample(va, o.valid_max, &r);
    }
    if (norm_stats(m, tr, o.seed, &err)) goto fail;
    neg_tr = ic_negbank_new(m, 600, 60, 300, speech_dir, o.seed * 7919 + 1, o.quiet, &err);
    if (!neg_tr) goto fail;
    neg_va = ic_negbank_new(m, 300, 30, 150, speech_dir, o.seed * 7919 + 2, o.quiet, &err);
    if (!neg_va) goto fail;
    if (!(aug = ic_augment_new(&m->fp, m->n_frames, &err))) goto fail;

    int B = o.batch + o.neg_per_batch;
    if (ic_net_reserve(m->net, B, &err)) goto fail;
    ic_rng init;
    ic_rng_seed(&init, o.seed);
    ic_net_init(m->net, &init);
    opt = ic_opt_new(m->net, IC_OPT_ADAMW, o.weight_decay);
    ic_train_state st;
    memset(&st, 0, sizeof st);
    ic_rng_seed(&st.rng, o.seed + 1);
    ic_rng_seed(&st.epoch_rng, o.seed + 2);
    st.best_metric = -1;
    st.best_epoch = -1;
    if (o.resume) {
        if (ic_net_load_checkpoint(m->net, opt, &st, o.resume, NULL, &err)) goto fail;
        fprintf(stderr, "resuming %s at epoch %d, clip %ld, step %ld\n", o.resume, st.epoch + 1, st.position, st.step);
    }
    const size_t n_epoch = ic_epoch_size(tr->family, tr->n, o.per_family);
    long steps_per_epoch = (long)(n_epoch / (size_t)o.batch);
    ic_lr_schedule sched = {IC_SCHED_COSINE, o.lr, steps_per_epoch / 2 + 1, steps_per_epoch * o.epochs, o.lr * 0.01f, 0, 0};
    ic_batcher bt = {.model = m, .aug = aug, .augment = o.augment, .data = tr, .neg = neg_tr, .neg_per_batch = o.neg_per_batch, .seed = o.seed};
    ic_augment_defaults(&bt.aug_cfg);

    size_t cell = (size_t)m->n_features * m->n_frames;
    x = ic_xmalloc((size_t)B * cell * sizeof(float));
    probs = ic_xmalloc((size_t)B * PITCH_CLASSES * sizeof(float));
    probs_family = ic_xmalloc((size_t)B * IC_NSYNTH_N_FAMILIES * sizeof(float));
    yf = ic_xmalloc((size_t)B * sizeof(int)); yp = ic_xmalloc((size_t)B * sizeof(int));
    ya = ic_xmalloc((size_t)B * sizeof(int));
    order = ic_xmalloc(tr->n * sizeof(size_t));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    fprintf(stderr, "model: %d parameters, input %dx%d, train %zu clips (%zu per epoch), valid %zu, %ld steps/epoch\n",
            (int)m->net->n_param_floats, m->n_features, m->n_frames, tr->n, n_epoch, va->n, steps_per_epoch);

    for (; st.epoch < o.epochs; st.epoch++, st.position = 0) {
        ic_rng shuf = st.epoch_rng;
        size_t drawn = ic_epoch_order(tr->family, tr->n, o.per_family, &shuf, order);
        IC_ASSERT(drawn == n_epoch);
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", st.epoch + 1, o.epochs);
        ic_progress pr;
        ic_progress_start(&pr, label, "clips", (size_t)steps_per_epoch * (size_t)o.batch, o.quiet);
        double t0 = ic_now(), loss_sum = 0;
        size_t seen = 0, correct = 0;
        for (; st.position + o.batch <= (long)n_epoch; st.position += o.batch) {
            if (o.stop_after && st.step >= o.stop_after) g_stop = 1;
            if (g_stop) break;
            ic_batcher_fill(&bt, st.epoch, (size_t)st.position, order, o.batch, x, yf, yp, ya);
            const ic_step_target tg[3] = {{m->head_family, yf, 1.0f, o.smoothing, probs_family},
                                          {m->head_pitch, yp, o.w_pitch, 0.0f, probs},
                                          {m->head_activity, ya, o.w_activity, 0.0f, probs}};
            double loss = ic_train_step(m->net, opt, ic_lr_at(&sched, st.step), x, B, &st.rng, tg, 3);
            for (int i = o.neg_per_batch; i < B; i++)
                correct += ic_argmax(probs_family + i * IC_NSYNTH_N_FAMILIES, IC_NSYNTH_N_FAMILIES) == yf[i];
            st.step++;
            loss_sum += loss;
            seen += (size_t)o.batch;
            snprintf(pr.extra, sizeof pr.extra, "loss %.3f acc %.3f", loss_sum / (double)(seen / (size_t)o.batch),
                     (double)correct / (double)seen);
            ic_progress_update(&pr, seen);
        }
        if (g_stop) {
            /* st.epoch_rng is untouched: on resume the epoch re-draws the same shuffle */
            cJSON *meta = training_meta(&o, &st, NULL, st.epoch);
            ic_status s = ic_net_save_checkpoint(m->net, opt, &st, ckpt, meta, &err);
            cJSON_Delete(meta);
            if (s) goto fail;
            fprintf(stderr, "\ninterrupted: checkpoint %s written; continue with --resume %s\n", ckpt, ckpt);
            rc = 130;
            goto done;
        }
        ic_progress_finish(&pr);
        double secs = ic_now() - t0;
        st.epoch_rng = shuf;
        eval_result v;
        evaluate(m, va, neg_va, B, "validating", 1, &v);
        fprintf(stderr, "epoch %d/%d: train loss %.4f family acc %.2f%%, %.1f clips/s, %.0f s | ", st.epoch + 1,
                o.epochs, seen ? loss_sum / (double)(seen / (size_t)o.batch) : 0.0,
                seen ? 100.0 * (double)correct / (double)seen : 0.0, (double)seen / secs, secs);
        print_eval("valid", &v);
        cJSON *meta = training_meta(&o, &st, &v, st.epoch + 1);
        if (score(&v) > st.best_metric) {
            st.best_metric = (float)score(&v);
            st.best_epoch = st.epoch;
            if (ic_model_save(m, o.out, meta, &err)) { cJSON_Delete(meta); goto fail; }
            fprintf(stderr, "  best so far: saved %s\n", o.out);
        }
        ic_train_state next = st;
        next.epoch++;
        next.position = 0;
        ic_status s = ic_net_save_checkpoint(m->net, opt, &next, ckpt, meta, &err);
        cJSON_Delete(meta);
        if (s) goto fail;
    }

    /* final report: the best model on the test split */
    {
        ic_model *best = ic_model_load(o.out, &err);
        if (!best) goto fail;
        te = ic_trainsplit_open(o.data, "test", best, cache_dir, 0, o.seed, 1, &err);
        ic_status s = te && !ic_net_reserve_eval(best->net, B, &err) ? IC_OK : IC_ERR_IO;
        if (!s) {
            ic_negbank *neg_te = ic_negbank_new(best, 300, 30, 150, speech_dir, o.seed * 7919 + 3, 1, &err);
            if (neg_te) {
                eval_result r;
                evaluate(best, te, neg_te, B, "testing", o.quiet, &r);
                fprintf(stderr, "best epoch %d (valid score %.4f)\n", st.best_epoch + 1, st.best_metric);
                print_eval("test", &r);
                cJSON *rep = cJSON_CreateObject();
                cJSON_AddStringToObject(rep, "model", o.out);
                cJSON_AddNumberToObject(rep, "best_epoch", st.best_epoch + 1);
                cJSON_AddNumberToObject(rep, "valid_score", st.best_metric);
                cJSON_AddItemToObject(rep, "test", eval_json(&r));
                char *txt = cJSON_Print(rep);
                printf("%s\n", txt);
                free(txt);
                cJSON_Delete(rep);
                ic_negbank_free(neg_te);
            } else s = IC_ERR_IO;
        }
        ic_model_free(best);
        if (s) goto fail;
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "ictrain: %s\n", err.msg[0] ? err.msg : "failed");
    rc = 1;
done:
    free(x); free(probs); free(probs_family); free(yf); free(yp); free(ya); free(order);
    ic_opt_free(opt);
    ic_augment_free(aug);
    ic_negbank_free(neg_tr);
    ic_negbank_free(neg_va);
    ic_trainsplit_free(tr);
    ic_trainsplit_free(va);
    ic_trainsplit_free(te);
    ic_model_free(m);
    return rc;
}
