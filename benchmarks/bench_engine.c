/* bench_engine: the network engine's speed on a model's architecture, and a dump
 * of its logits for the PyTorch twin (benchmarks/torch_twin.py) to compare.
 *
 * The architecture (and, for --dump, the weights) come from a model file, so the
 * benchmark runs exactly the network ictrain builds; no second copy of the CNN's
 * definition exists.  Speed measures the network only (no feature extraction):
 *   training   one step = train-mode forward, softmax cross-entropy on every head
 *              (random labels), backward, AdamW update (decay on conv/dense weights);
 *   inference  eval-mode forward at --infer-batch;
 *   latency    eval-mode forward of one window (median).
 * torch_twin.py times the same three things in the same way.  Not a correctness
 * test of the layers (tests/ are); --dump only provides the numbers to compare. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ic/training.h"
#include "ic/net.h"
#include "ic/rng.h"
#include "ic/threads.h"
#include "ic/timer.h"

#define DUMP_N 4  /* inputs in a --dump */

typedef struct {
    const char *weights, *dump;
    int threads, batch, infer_batch, json;
    double seconds;
} options;

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_engine --weights FILE.icw [--threads N] [--batch N] [--infer-batch N]\n"
            "                    [--seconds S] [--json] [--dump DIR]\n"
            "\n"
            "Times the network of a model file (its architecture; weights re-initialised):\n"
            "training samples/s at --batch (forward, cross-entropy on every head, backward,\n"
            "AdamW), inference samples/s at --infer-batch, and latency at batch 1.  Each\n"
            "figure repeats for at least S seconds after a warm-up.\n"
            "\n"
            "  --weights FILE   model file whose architecture is timed (required)\n"
            "  --threads N      OpenMP and OpenBLAS threads (default: all cores)\n"
            "  --batch N        training batch (default 32)\n"
            "  --infer-batch N  inference batch (default 64)\n"
            "  --seconds S      minimum time per figure (default 3)\n"
            "  --json           one JSON object on stdout instead of a text line\n"
            "  --dump DIR       instead of timing: run the file's own weights in eval mode on\n"
            "                   %d seeded standard-normal inputs and write DIR/input.f32,\n"
            "                   DIR/logits.HEAD.f32 (raw little-endian f32) and DIR/dump.json\n"
            "\n"
            "Exit status: 0 success, 1 runtime failure, 2 bad usage.\n",
            DUMP_N);
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->batch = 32;
    o->infer_batch = 64;
    o->seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--json")) { o->json = 1; continue; }
        if (i + 1 >= argc) { fprintf(stderr, "bench_engine: unknown or incomplete argument '%s'\n", a); return 2; }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (!strcmp(a, "--weights")) o->weights = v;
        else if (!strcmp(a, "--dump")) o->dump = v;
        else if (!strcmp(a, "--seconds")) {
            o->seconds = strtod(v, &end);
            if (errno || *end || !(o->seconds >= 0 && o->seconds <= 3600)) {
                fprintf(stderr, "bench_engine: --seconds: expected 0..3600, found '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--threads") || !strcmp(a, "--batch") || !strcmp(a, "--infer-batch")) {
            long n = strtol(v, &end, 10);
            if (errno || *end || n < 1 || n > 4096) {
                fprintf(stderr, "bench_engine: %s: expected an integer 1..4096, found '%s'\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--threads")) o->threads = (int)n;
            else if (!strcmp(a, "--batch")) o->batch = (int)n;
            else o->infer_batch = (int)n;
        } else {
            fprintf(stderr, "bench_engine: unknown argument '%s'\n", a);
            return 2;
        }
    }
    if (!o->weights) { fprintf(stderr, "bench_engine: --weights FILE is required (--help)\n"); return 2; }
    return -1;
}

static int write_f32(const char *dir, const char *name, const float *x, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "bench_engine: %s: %s\n", path, strerror(errno)); return -1; }
    int bad = fwrite(x, sizeof(float), n, f) != n;
    bad |= fclose(f) != 0;
    if (bad) fprintf(stderr, "bench_engine: %s: write failed\n", path);
    return bad ? -1 : 0;
}

/* Eval-mode logits of the file's weights on DUMP_N seeded inputs. */
static int dump(ic_net *net, const options *o) {
    if (mkdir(o->dump, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_engine: %s: %s\n", o->dump, strerror(errno));
        return 1;
    }
    ic_error err = {0};
    if (ic_net_reserve_eval(net, DUMP_N, &err)) { fprintf(stderr, "bench_engine: %s\n", err.msg); return 1; }
    size_t in = ic_net_input_size(net);
    float *x = ic_xmalloc((size_t)DUMP_N * in * sizeof(float));
    ic_rng r;
    ic_rng_seed(&r, 12345);
    for (size_t i = 0; i < (size_t)DUMP_N * in; i++) x[i] = ic_rng_normal(&r);
    ic_net_forward(net, x, DUMP_N, 0, NULL);
    int rc = write_f32(o->dump, "input.f32", x, (size_t)DUMP_N * in) ? 1 : 0;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "weights", o->weights);
    cJSON_AddNumberToObject(j, "n", DUMP_N);
    int shape[3] = {net->in_c, net->in_h, net->in_w};
    cJSON_AddItemToObject(j, "input_shape", cJSON_CreateIntArray(shape, 3));
    cJSON *heads = cJSON_AddArrayToObject(j, "heads");
    for (int h = 0; h < net->n_heads && !rc; h++) {
        char name[IC_NAME_MAX + 16];
        snprintf(name, sizeof name, "logits.%s.f32", net->heads[h].name);
        rc = write_f32(o->dump, name, ic_net_logits(net, h), (size_t)DUMP_N * net->heads[h].classes) ? 1 : 0;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", net->heads[h].name);
        cJSON_AddNumberToObject(e, "classes", net->heads[h].classes);
        cJSON_AddItemToArray(heads, e);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/dump.json", o->dump);
    char *txt = cJSON_Print(j);
    FILE *f = rc ? NULL : fopen(path, "w");
    if (!rc && (!f || fprintf(f, "%s\n", txt) < 0 || fclose(f) != 0)) {
        fprintf(stderr, "bench_engine: %s: write failed\n", path);
        rc = 1;
    }
    free(txt);
    cJSON_Delete(j);
    free(x);
    return rc;
}

typedef struct {
    ic_net *net;
    ic_opt *opt;
    ic_rng rng;
    const float *x;
    int **labels;   /* per head: (batch) */
    float *probs;   /* (batch, max classes) */
    int n;
} step_ctx;

/* One training step, ictrain's own (without its per-head weights and smoothing). */
static void train_step(step_ctx *c) {
    ic_net *net = c->net;
    ic_step_target tg[IC_NET_MAX_HEADS];
    for (int h = 0; h < net->n_heads; h++) tg[h] = (ic_step_target){h, c->labels[h], 1.0f, 0.0f, c->probs};
    ic_train_step(net, c->opt, 1e-3f, c->x, c->n, &c->rng, tg, net->n_heads);
}

#define LAT_SEGMENTS 5

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    ic_threads_set(o.threads);
    ic_error err = {0};
    ic_net *net = ic_net_load(o.weights, NULL, &err);
    if (!net) { fprintf(stderr, "bench_engine: %s\n", err.msg); return 1; }
    if (o.dump) {
        rc = dump(net, &o);
        ic_net_free(net);
        return rc;
    }

    int cap = o.batch > o.infer_batch ? o.batch : o.infer_batch;
    if (ic_net_reserve(net, cap, &err)) { fprintf(stderr, "bench_engine: %s\n", err.msg); ic_net_free(net); return 1; }
    step_ctx c;
    memset(&c, 0, sizeof c);
    c.net = net;
    ic_rng_seed(&c.rng, 1);
    ic_net_init(net, &c.rng);
    c.opt = ic_opt_new(net, IC_OPT_ADAMW, 0.05f);
    size_t in = ic_net_input_size(net);
    float *x = ic_xmalloc((size_t)cap * in * sizeof(float));
    for (size_t i = 0; i < (size_t)cap * in; i++) x[i] = ic_rng_normal(&c.rng);
    c.x = x;
    c.n = o.batch;
    c.labels = ic_xcalloc((size_t)net->n_heads, sizeof *c.labels);
    int max_k = 1;
    for (int h = 0; h < net->n_heads; h++) {
        int k = net->heads[h].classes;
        if (k > max_k) max_k = k;
        c.labels[h] = ic_xmalloc((size_t)o.batch * sizeof(int));
        for (int i = 0; i < o.batch; i++) c.labels[h][i] = (int)ic_rng_below(&c.rng, (uint64_t)k);
    }
    c.probs = ic_xmalloc((size_t)o.batch * (size_t)max_k * sizeof(float));

    /* training: 2 warm-up steps, then >= 5 steps and >= seconds; mean step time */
    for (int i = 0; i < 2; i++) train_step(&c);
    int steps = 0;
    double t0 = ic_now();
    while (steps < 5 || ic_now() - t0 < o.seconds) { train_step(&c); steps++; }
    double train_sps = (double)steps * o.batch / (ic_now() - t0);

    /* inference at infer_batch: 1 warm-up, >= 3 passes and >= seconds */
    ic_net_forward(net, x, o.infer_batch, 0, NULL);
    int passes = 0;
    t0 = ic_now();
    while (passes < 3 || ic_now() - t0 < o.seconds) { ic_net_forward(net, x, o.infer_batch, 0, NULL); passes++; }
    double infer_sps = (double)passes * o.infer_batch / (ic_now() - t0);

    /* latency at batch 1: 3 warm-ups, then LAT_SEGMENTS segments of >= 20 runs
     * and >= seconds / LAT_SEGMENTS each; the figure is the best segment's
     * median, so that a burst of load from elsewhere on a shared machine
     * (it comes and goes over seconds) does not decide it.  torch_twin.py
     * measures PyTorch the same way. */
    for (int i = 0; i < 3; i++) ic_net_forward(net, x, 1, 0, NULL);
    size_t cap_t = 64, n_t = 0, n_all = 0;
    double *times = ic_xmalloc(cap_t * sizeof(double)), latency_ms = 1e30;
    for (int seg = 0; seg < LAT_SEGMENTS; seg++) {
        n_t = 0;
        t0 = ic_now();
        while (n_t < 20 || ic_now() - t0 < o.seconds / LAT_SEGMENTS) {
            double s = ic_now();
            ic_net_forward(net, x, 1, 0, NULL);
            if (n_t == cap_t) times = realloc(times, (cap_t *= 2) * sizeof(double));
            IC_ASSERT(times);
            times[n_t++] = ic_now() - s;
        }
        qsort(times, n_t, sizeof(double), cmp_double);
        const double med = 1e3 * times[n_t / 2];
        if (med < latency_ms) latency_ms = med;
        n_all += n_t;
        fprintf(stderr, "bench_engine: latency segment %d: median %.3f ms of %zu runs\n", seg + 1, med, n_t);
    }
    n_t = n_all;

    int threads = ic_threads_get();
    size_t n_params = 0;
    for (int i = 0; i < net->n_params; i++) n_params += net->params[i].numel;
    if (o.json)
        printf("{\"engine\": \"ic\", \"threads\": %d, \"params\": %zu, \"train_batch\": %d, \"train_steps\": %d, "
               "\"train_samples_per_s\": %.3f, \"infer_batch\": %d, \"infer_samples_per_s\": %.3f, "
               "\"latency_ms\": %.4f, \"latency_runs\": %zu}\n",
               threads, n_params, o.batch, steps, train_sps, o.infer_batch, infer_sps, latency_ms, n_t);
    else
        printf("ic engine, %d threads, %zu parameters: training %.1f samples/s (batch %d, %d steps), inference %.1f "
               "samples/s (batch %d), latency %.2f ms (batch 1, best of 5 segment medians, %zu runs)\n",
               threads, n_params, train_sps, o.batch, steps, infer_sps, o.infer_batch, latency_ms, n_t);
    free(times);
    for (int h = 0; h < net->n_heads; h++) free(c.labels[h]);
    free(c.labels);
    free(c.probs);
    free(x);
    ic_opt_free(c.opt);
    ic_net_free(net);
    return 0;
}
