/* bench_conv: speed of a model's conv layers (shapes read from its .icw file)
 * against plain OpenBLAS sgemm on a large square matrix, plus the max pools
 * that follow them.
 * Prints a markdown table on stdout; --help for the flags.
 * Not a correctness test (tests/test_conv2d.c is). */
#include "ic/conv2d.h"
#include "ic/net.h"
#include "ic/pool.h"
#include "ic/rng.h"
#include "ic/threads.h"
#include "ic/timer.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MIN_SECONDS
#define MIN_SECONDS 0.5   /* each measurement repeats at least this long */
#endif
#define SGEMM_SIZE 2048

typedef void (*bench_fn)(void *ctx);

/* Runs fn once to warm up, then repeatedly for >= MIN_SECONDS (and >= 3
 * times); returns the best single-run time in seconds.  Best, not median:
 * the machine is shared and the best run is the one least disturbed. */
static double time_best(bench_fn fn, void *ctx) {
    fn(ctx);
    double best = 1e30, start = ic_now();
    int reps = 0;
    while (reps < 3 || ic_now() - start < MIN_SECONDS) {
        double t0 = ic_now();
        fn(ctx);
        double t = ic_now() - t0;
        if (t < best) best = t;
        reps++;
    }
    return best;
}

static float *alloc_floats(size_t n, ic_rng *rng) {
    float *p = malloc(sizeof(float) * (n ? n : 1));
    if (!p) {
        fprintf(stderr, "bench_conv: out of memory allocating %zu floats\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * ic_rng_uniform(rng) - 1.0f;
    return p;
}

typedef struct { int n; float *a, *b, *c; } gemm_ctx;
static void run_gemm(void *p) {
    gemm_ctx *g = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->n, g->n, g->n,
                1.0f, g->a, g->n, g->b, g->n, 0.0f, g->c, g->n);
}

typedef struct {
    ic_conv2d_dims d;
    float *x, *w, *y, *dy, *dx, *dw, *scratch;
    int need_dx;
} conv_ctx;
static void run_fwd(void *p) {
    conv_ctx *c = p;
    ic_conv2d_forward(&c->d, c->x, c->w, NULL, c->y, c->scratch);
}
static void run_bwd(void *p) {
    conv_ctx *c = p;
    ic_conv2d_backward(&c->d, c->x, c->w, c->dy, c->need_dx ? c->dx : NULL, c->dw, NULL, c->scratch);
}

typedef struct { ic_maxpool_dims d; float *x, *y, *dy, *dx; int32_t *am; } pool_ctx;
static void run_pool_fwd(void *p) {
    pool_ctx *c = p;
    ic_maxpool_forward(&c->d, c->x, c->y, c->am);
}
static void run_pool_bwd(void *p) {
    pool_ctx *c = p;
    ic_maxpool_backward(&c->d, c->dy, c->am, c->dx);
}

static void cpu_model(char *buf, size_t len) {
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *v = strchr(line, ':');
            if (v) {
                v++;
                while (*v == ' ' || *v == '\t') v++;
                v[strcspn(v, "\n")] = '\0';
                snprintf(buf, len, "%s", v);
            }
            break;
        }
    }
    fclose(f);
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: bench_conv --weights FILE.icw [--threads N] [--batch N]\n"
            "  Times OpenBLAS sgemm (%dx%d) and the conv layers of the model's\n"
            "  architecture (their real shapes), forward and backward, and the max pool\n"
            "  after each.  Markdown on stdout.\n"
            "  --weights FILE  model file whose conv layers are timed (required)\n"
            "  --threads N     OpenMP and OpenBLAS threads (default: all cores)\n"
            "  --batch N       images per pass (default 32)\n",
            SGEMM_SIZE, SGEMM_SIZE);
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 4096) return 0;
    *out = (int)v;
    return 1;
}

int main(int argc, char **argv) {
    int threads = 0, batch = 32;
    const char *weights = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            if (!parse_int(argv[++i], &threads)) {
                fprintf(stderr, "bench_conv: --threads: expected an integer 1..4096, found '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--weights") && i + 1 < argc) {
            weights = argv[++i];
        } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
            if (!parse_int(argv[++i], &batch)) {
                fprintf(stderr, "bench_conv: --batch: expected an integer 1..4096, found '%s'\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "bench_conv: unknown or incomplete argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!weights) {
        fprintf(stderr, "bench_conv: --weights FILE.icw is required (the model whose conv layers are timed)\n");
        usage(stderr);
        return 2;
    }
    ic_error err = {0};
    ic_net *net = ic_net_load(weights, NULL, &err);
    if (!net) {
        fprintf(stderr, "bench_conv: %s\n", err.msg);
        return 1;
    }
    /* the conv layers, and the max pool (if any) before the next conv */
    enum { MAXL = 16 };
    ic_conv2d_dims convs[MAXL];
    ic_maxpool_dims pools[MAXL];
    int has_pool[MAXL] = {0}, nl = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const ic_layer *L = &net->layers[i];
        if (L->kind == IC_L_CONV && nl < MAXL) {
            convs[nl++] = (ic_conv2d_dims){batch, L->in_c, L->in_h, L->in_w, L->out, L->kh, L->kw,
                                           L->sh, L->sw, L->ph, L->pw, 0};
        } else if (L->kind == IC_L_MAXPOOL && nl > 0 && !has_pool[nl - 1]) {
            pools[nl - 1] = (ic_maxpool_dims){batch, L->in_c, L->in_h, L->in_w, L->kh, L->kw, L->sh, L->sw};
            has_pool[nl - 1] = 1;
        }
    }
    ic_net_free(net);
    if (nl == 0) {
        fprintf(stderr, "bench_conv: %s: the architecture has no conv layer\n", weights);
        return 1;
    }
    ic_threads_set(threads);
    threads = ic_threads_get();
    ic_rng rng;
    ic_rng_seed(&rng, 1);

    gemm_ctx g = {SGEMM_SIZE, NULL, NULL, NULL};
    size_t gn = (size_t)SGEMM_SIZE * SGEMM_SIZE;
    g.a = alloc_floats(gn, &rng);
    g.b = alloc_floats(gn, &rng);
    g.c = alloc_floats(gn, &rng);
    const double gemm_flops = 2.0 * gn * SGEMM_SIZE;
    /* the reference GEMM on all threads; the layers then run on one-thread
     * BLAS inside their own workers, as in the engine */
    openblas_set_num_threads(threads);
    double sgemm = gemm_flops / time_best(run_gemm, &g) / 1e9;
    openblas_set_num_threads(1);

    /* the first conv reads the input data: no dx there, as in training */
    double fwd[MAXL], bwd[MAXL], scratch_mb[MAXL], pool_ms[MAXL][2];
    for (int l = 0; l < nl; l++) {
        conv_ctx c;
        c.d = convs[l];
        c.d.threads = threads;
        c.need_dx = l > 0;
        size_t nx = (size_t)batch * c.d.c_in * c.d.h_in * c.d.w_in;
        size_t ny = (size_t)batch * c.d.c_out * ic_conv2d_out_h(&c.d) * ic_conv2d_out_w(&c.d);
        size_t nw = (size_t)c.d.c_out * c.d.c_in * c.d.kh * c.d.kw;
        c.x = alloc_floats(nx, &rng);
        c.w = alloc_floats(nw, &rng);
        c.y = alloc_floats(ny, &rng);
        c.dy = alloc_floats(ny, &rng);
        c.dx = alloc_floats(nx, &rng);
        c.dw = alloc_floats(nw, &rng);
        c.scratch = alloc_floats(ic_conv2d_scratch_floats(&c.d), &rng);
        scratch_mb[l] = sizeof(float) * (double)ic_conv2d_scratch_floats(&c.d) / 1e6;
        double flops = 2.0 * ic_conv2d_macs(&c.d);
        fwd[l] = flops / time_best(run_fwd, &c) / 1e9;
        bwd[l] = (c.need_dx ? 2.0 : 1.0) * flops / time_best(run_bwd, &c) / 1e9;
        free(c.x); free(c.w); free(c.y); free(c.dy); free(c.dx); free(c.dw); free(c.scratch);
        if (!has_pool[l]) continue;

        /* the pool in training mode (argmax kept) on random input of its shape */
        pool_ctx p;
        p.d = pools[l];
        size_t npx = (size_t)batch * p.d.c * p.d.h * p.d.w;
        size_t np = (size_t)batch * p.d.c * ic_maxpool_out_h(&p.d) * ic_maxpool_out_w(&p.d);
        p.x = alloc_floats(npx, &rng);
        p.dx = alloc_floats(npx, &rng);
        p.y = alloc_floats(np, &rng);
        p.dy = alloc_floats(np, &rng);
        p.am = malloc(sizeof(int32_t) * np);
        if (!p.am) {
            fprintf(stderr, "bench_conv: out of memory allocating %zu argmax entries\n", np);
            return 1;
        }
        pool_ms[l][0] = 1e3 * time_best(run_pool_fwd, &p);
        pool_ms[l][1] = 1e3 * time_best(run_pool_bwd, &p);
        free(p.x); free(p.y); free(p.dy); free(p.dx); free(p.am);
    }
    /* sgemm again at the end: on a shared machine either run may be disturbed */
    openblas_set_num_threads(threads);
    double again = gemm_flops / time_best(run_gemm, &g) / 1e9;
    if (again > sgemm) sgemm = again;
    free(g.a); free(g.b); free(g.c);

    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    int par = openblas_get_parallel();
    printf("sgemm %dx%d: %.1f GFLOP/s (best of before and after the layers); CPU: %s; "
           "threads: %d; OpenBLAS %s (%s); batch: %d; times: best of >= %.1f s of repeats\n\n",
           SGEMM_SIZE, SGEMM_SIZE, sgemm, cpu, threads, openblas_get_config(),
           par == 0 ? "sequential" : par == 1 ? "pthreads" : "OpenMP", batch, MIN_SECONDS);
    printf("Conv layers of `%s`, batch %d.\n\n", weights, batch);
    printf("| layer | input (c,h,w) -> output | kernel | fwd GFLOP/s | bwd GFLOP/s | fwd %% of sgemm | bwd %% of sgemm |\n");
    printf("|---|---|---|---:|---:|---:|---:|\n");
    for (int l = 0; l < nl; l++) {
        const ic_conv2d_dims *d = &convs[l];
        printf("| conv%d | %d,%d,%d -> %d,%d,%d | %dx%d s%d p%d (scratch %.1f MB) | %.1f | %.1f | %.0f%% | %.0f%% |\n",
               l + 1, d->c_in, d->h_in, d->w_in, d->c_out, ic_conv2d_out_h(d), ic_conv2d_out_w(d), d->kh, d->kw,
               d->stride_h, d->pad_h, scratch_mb[l], fwd[l], bwd[l], 100 * fwd[l] / sgemm, 100 * bwd[l] / sgemm);
    }
    printf("\nbackward = dW + dX, counted as 2x the forward flops; conv1 has no dX (1x).\n\n");
    printf("| max pool after | input (n,c,h,w) | window | fwd ms (with argmax) | bwd ms |\n|---|---|---|---:|---:|\n");
    for (int l = 0; l < nl; l++)
        if (has_pool[l])
            printf("| conv%d | %d,%d,%d,%d | %dx%d s%d | %.2f | %.2f |\n", l + 1, batch, pools[l].c, pools[l].h,
                   pools[l].w, pools[l].kh, pools[l].kw, pools[l].stride_h, pool_ms[l][0], pool_ms[l][1]);
    return 0;
}
