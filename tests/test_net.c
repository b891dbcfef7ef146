/* Network-level tests: architecture parsing, a whole-network gradient check,
 * save/load round trips, checkpoint resume exactness, and a tiny CNN learning
 * a synthetic problem (sine tones of different frequencies drawn as images). */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/net.h"
#include "ic/loss.h"
#include "ic/optim.h"
#include "ic/icw.h"
#include "ic/training.h"
#include <unistd.h>
#include <sys/stat.h>

static char tmpdir[64];
static void make_tmpdir(void) { ic_test_mkdtemp(tmpdir, sizeof tmpdir, "net"); }
static void remove_tmpdir(void) { ck_assert_int_eq(ic_test_rmtree(tmpdir), 0); }
static const char *tmp_path(const char *name) { return ic_test_path(tmpdir, name); }

static const char *SMALL_CNN =
    "{\"input\":[2,6,7],\"layers\":["
    "{\"type\":\"conv\",\"out\":3,\"k\":3,\"stride\":1,\"pad\":1,\"bias\":false},{\"type\":\"bn\"},{\"type\":\"relu\"},"
    "{\"type\":\"maxpool\",\"k\":2,\"stride\":2},"
    "{\"type\":\"conv\",\"out\":4,\"k\":[3,2],\"stride\":[1,2],\"pad\":[1,0]},{\"type\":\"relu\"},"
    "{\"type\":\"timepool\"},{\"type\":\"gap\"},{\"type\":\"dense\",\"out\":5},{\"type\":\"bn\"},{\"type\":\"relu\"},"
    "{\"type\":\"dropout\",\"p\":0.25}],"
    "\"heads\":[{\"name\":\"family\",\"classes\":3,\"labels\":[\"a\",\"b\",\"c\"]},{\"name\":\"pitch\",\"classes\":4}]}";

START_TEST(test_arch_shapes) {
    ic_error err = {0};
    ic_net *net = ic_net_new_from_string(SMALL_CNN, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    ck_assert_int_eq(net->n_layers, 12);
    ck_assert_int_eq(net->layers[6].h, 3); ck_assert_int_eq(net->layers[6].w, 1); /* timepool keeps H */
    /* conv pad 1 keeps 6x7; maxpool 2 -> 3x3; conv k(3,2) s(1,2) p(1,0) -> 3x1 */
    ck_assert_int_eq(net->layers[3].h, 3); ck_assert_int_eq(net->layers[3].w, 3);
    ck_assert_int_eq(net->layers[4].h, 3); ck_assert_int_eq(net->layers[4].w, 1);
    ck_assert_int_eq(net->feat_dim, 5);
    /* params: conv1 w(3*2*9=54) bn(3+3) conv2 w(4*3*6=72)+b4 dense 5*4+5 bn 5+5 heads 3*5+3, 4*5+4 */
    size_t total = 0;
    for (int i = 0; i < net->n_params; i++) total += net->params[i].numel;
    ck_assert_uint_eq(total, 54 + 6 + 72 + 4 + 25 + 10 + 18 + 24);
    ck_assert_int_eq(net->n_bufs, 4);
    ck_assert_str_eq(net->heads[0].labels[2], "c");
    ck_assert_int_eq(ic_net_head(net, "pitch"), 1);
    ck_assert_int_eq(ic_net_head(net, "nope"), -1);
    /* weight decay only on conv/dense/head weights */
    for (int i = 0; i < net->n_params; i++)
        ck_assert_int_eq(net->params[i].decay, strstr(net->params[i].name, ".weight") && !strstr(net->params[i].name, ".bn.") ? 1 : 0);
    ic_net_free(net);
}
END_TEST

START_TEST(test_arch_errors) {
    static const struct { const char *json, *phrase; } cases[] = {
        {"[1,2]", "not a JSON object"},
        {"{\"input\":[1,4,4],\"layers\":[{\"type\":\"warp\"}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "unknown type"},
        {"{\"input\":[1,4,4],\"layers\":[{\"type\":\"conv\",\"out\":2,\"k\":7}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "larger than padded input"},
        {"{\"input\":[1,4,4],\"layers\":[{\"type\":\"maxpool\",\"k\":5}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "does not fit"},
        {"{\"input\":[1,4,4],\"layers\":[]}", "heads"},
        {"{\"input\":[1,4],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "input"},
        {"{\"input\":[4],\"heads\":[{\"name\":\"a\",\"classes\":0}]}", "classes"},
        {"{\"input\":[4],\"heads\":[{\"name\":\"a\",\"classes\":2,\"labels\":[\"x\"]}]}", "labels"},
        {"{\"input\":[4],\"heads\":[{\"name\":\"a\",\"classes\":2},{\"name\":\"a\",\"classes\":2}]}", "duplicate head"},
        {"{\"input\":[4],\"layers\":[{\"type\":\"dropout\",\"p\":1.5}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "dropout"},
        {"{\"input\":[1,4,4],\"layers\":[{\"type\":\"conv\",\"out\":2,\"k\":\"big\"}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", "\"k\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ic_error err = {0};
        ic_net *net = ic_net_new_from_string(cases[i].json, &err);
        ck_assert_msg(net == NULL, "case %zu accepted", i);
        ck_assert_msg(strstr(err.msg, cases[i].phrase) != NULL, "case %zu: message '%s' lacks '%s'", i, err.msg, cases[i].phrase);
    }
}
END_TEST

/* ---- whole-network gradient check ---- */
typedef struct { ic_net *net; float *x; int n; int labels[2][4]; uint64_t seed; } gc_ctx;

static double net_loss(void *vp) {
    gc_ctx *c = vp;
    ic_rng r; ic_rng_seed(&r, c->seed); /* same dropout mask on every evaluation */
    ic_net_forward(c->net, c->x, c->n, 1, &r);
    double loss = 0;
    for (int h = 0; h < c->net->n_heads; h++) {
        float probs[64];
        loss += ic_softmax_xent_forward(c->n, c->net->heads[h].classes, ic_net_logits(c->net, h), c->labels[h], NULL, 0.1f, probs);
    }
    return loss;
}

static void net_grad(gc_ctx *c) {
    net_loss(c);
    ic_net_zero_grad(c->net);
    for (int h = 0; h < c->net->n_heads; h++) {
        float probs[64];
        int k = c->net->heads[h].classes;
        ic_softmax(c->n, k, ic_net_logits(c->net, h), probs);
        ic_softmax_xent_backward(c->n, k, probs, c->labels[h], NULL, 0.1f, ic_net_dlogits(c->net, h));
    }
    ic_net_backward(c->net);
}

START_TEST(test_net_gradcheck) {
    ic_error err = {0};
    ic_net *net = ic_net_new_from_string(SMALL_CNN, &err);
    ck_assert_ptr_nonnull(net);
    ic_rng r; ic_rng_seed(&r, 7);
    ic_net_init(net, &r);
    ck_assert_int_eq(ic_net_reserve(net, 4, &err), IC_OK);
    float x[4 * 2 * 6 * 7];
    ic_test_fill(x, sizeof x / sizeof x[0], &r, -1, 1);
    gc_ctx c = {net, x, 4, {{0, 1, 2, 1}, {3, -1, 0, 2}}, 99};
    net_grad(&c);
    float *g = ic_xmalloc(net->n_param_floats * sizeof(float));
    memcpy(g, net->grad, net->n_param_floats * sizeof(float));
    int fails = 0;
    for (int i = 0; i < net->n_params; i++) {
        ic_param *p = &net->params[i];
        fails += ic_test_gradcheck(p->name, net_loss, &c, net->param + p->offset, g + p->offset, p->numel,
                                   1e-3f, 2e-3, 3e-2, 0); /* small step: fewer ReLU kinks crossed */
    }
    ck_assert_int_eq(fails, 0);
    free(g);
    ic_net_free(net);
}
END_TEST

/* ---- save / load ---- */
START_TEST(test_save_load_roundtrip) {
    make_tmpdir();
    ic_error err = {0};
    ic_net *net = ic_net_new_from_string(SMALL_CNN, &err);
    ic_rng r; ic_rng_seed(&r, 3);
    ic_net_init(net, &r);
    for (int b = 0; b < net->n_bufs; b++) /* non-trivial running stats (padding stays zero) */
        for (size_t i = 0; i < net->bufs[b].numel; i++) net->buf[net->bufs[b].offset + i] = 0.5f + (float)(b + i);
    const char *p1 = tmp_path("a.icw"), *p2 = tmp_path("b.icw");
    cJSON *extra = cJSON_Parse("{\"frontend\":{\"sample_rate\":16000},\"note\":\"test\"}");
    float stats[3] = {1.5f, -2.0f, 3.25f};
    ic_icw_tensor t = {.name = "frontend.mean", .dtype = IC_DTYPE_F32, .ndim = 1, .shape = {3}, .nbytes = sizeof stats, .data = stats};
    ck_assert_int_eq(ic_net_save(net, p1, extra, &t, 1, &err), IC_OK);
    ic_icw_file *f = NULL;
    ic_net *back = ic_net_load(p1, &f, &err);
    ck_assert_msg(back != NULL, "%s", err.msg);
    ck_assert_uint_eq(back->n_param_floats, net->n_param_floats);
    ck_assert_int_eq(memcmp(back->param, net->param, net->n_param_floats * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(back->buf, net->buf, net->n_buf_floats * sizeof(float)), 0);
    ck_assert_str_eq(back->heads[0].labels[1], "b");
    const ic_icw_tensor *m = ic_icw_find(f, "frontend.mean");
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(memcmp(m->data, stats, sizeof stats), 0);
    ck_assert_ptr_nonnull(strstr(f->meta_json, "\"sample_rate\":16000"));
    /* saving the loaded model again gives the same bytes */
    ck_assert_int_eq(ic_net_save(back, p2, extra, &t, 1, &err), IC_OK);
    FILE *a = fopen(p1, "rb"), *b = fopen(p2, "rb");
    int same = 1, ca, cb;
    do { ca = fgetc(a); cb = fgetc(b); if (ca != cb) same = 0; } while (same && ca != EOF);
    fclose(a); fclose(b);
    ck_assert_msg(same, "re-saved model differs from the original");
    /* inference from the loaded model equals the original's */
    ck_assert_int_eq(ic_net_reserve(net, 2, &err), IC_OK);
    ck_assert_int_eq(ic_net_reserve(back, 2, &err), IC_OK);
    float x[2 * 2 * 6 * 7];
    ic_test_fill(x, sizeof x / sizeof x[0], &r, -1, 1);
    ic_net_forward(net, x, 2, 0, NULL);
    ic_net_forward(back, x, 2, 0, NULL);
    ck_assert_int_eq(memcmp(ic_net_logits(net, 1), ic_net_logits(back, 1), 2 * 4 * sizeof(float)), 0);
    cJSON_Delete(extra);
    ic_icw_free(f);
    ic_net_free(back);
    ic_net_free(net);
    remove_tmpdir();
}
END_TEST

START_TEST(test_load_shape_mismatch) {
    make_tmpdir();
    ic_error err = {0};
    ic_net *a = ic_net_new_from_string("{\"input\":[1,4,4],\"layers\":[{\"type\":\"conv\",\"out\":2,\"k\":3}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", &err);
    ic_net *b = ic_net_new_from_string("{\"input\":[1,4,4],\"layers\":[{\"type\":\"conv\",\"out\":3,\"k\":3}],\"heads\":[{\"name\":\"a\",\"classes\":2}]}", &err);
    ic_rng r; ic_rng_seed(&r, 1);
    ic_net_init(a, &r);
    const char *p = tmp_path("a.icw");
    ck_assert_int_eq(ic_net_save(a, p, NULL, NULL, 0, &err), IC_OK);
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ne(ic_net_load_params(b, f, &err), IC_OK);
    ck_assert_msg(strstr(err.msg, "l0.conv.weight") && strstr(err.msg, "[2,1,3,3]") && strstr(err.msg, "expected f32 [3,1,3,3]"), "%s", err.msg);
    ic_icw_free(f);
    /* a model file is not a checkpoint */
    ic_opt *opt = ic_opt_new(a, IC_OPT_ADAMW, 0);
    ic_train_state st;
    memset(&st, 0, sizeof st);
    ck_assert_int_ne(ic_net_load_checkpoint(a, opt, &st, p, NULL, &err), IC_OK);
    ck_assert_msg(strstr(err.msg, "expected a training checkpoint"), "%s", err.msg);
    /* a file that is not an icw at all */
    const char *q = tmp_path("junk.icw");
    ic_test_write_text(q, "hello, this is not a model\n");
    ck_assert_ptr_null(ic_net_load(q, NULL, &err));
    ck_assert_msg(strstr(err.msg, q) != NULL, "%s", err.msg);
    ic_opt_free(opt);
    ic_net_free(a);
    ic_net_free(b);
    remove_tmpdir();
}
END_TEST

/* ---- tiny end-to-end training on sine tones drawn as images ---- */
#define IMG_H 8
#define IMG_W 32
#define N_CLASSES 4
static const float FREQS[N_CLASSES] = {1.5f, 3.0f, 5.0f, 8.0f}; /* cycles per image width */

/* Each row is the class's tone with its own random phase and amplitude, plus noise. */
static void make_tones(int n, float *x, int *y, ic_rng *r) {
    for (int i = 0; i < n; i++) {
        int k = (int)ic_rng_below(r, N_CLASSES);
        y[i] = k;
        for (int h = 0; h < IMG_H; h++) {
            float ph = 6.2831853f * ic_rng_uniform(r), a = 0.5f + ic_rng_uniform(r);
            for (int w = 0; w < IMG_W; w++)
                x[((size_t)i * IMG_H + h) * IMG_W + w] =
                    a * sinf(6.2831853f * FREQS[k] * (float)w / IMG_W + ph) + 0.3f * ic_rng_normal(r);
        }
    }
}

static const char *TONE_CNN =
    "{\"input\":[1,8,32],\"layers\":["
    "{\"type\":\"conv\",\"out\":8,\"k\":[1,5],\"pad\":[0,2],\"bias\":false},{\"type\":\"bn\"},{\"type\":\"relu\"},"
    "{\"type\":\"maxpool\",\"k\":2},"
    "{\"type\":\"conv\",\"out\":16,\"k\":3,\"pad\":1,\"bias\":false},{\"type\":\"bn\"},{\"type\":\"relu\"},"
    "{\"type\":\"gap\"},{\"type\":\"dropout\",\"p\":0.1}],"
    "\"heads\":[{\"name\":\"tone\",\"classes\":4}]}";

#define N_TRAIN 512
#define N_TEST 256
#define BATCH 32

/* Runs epochs [from_epoch, to_epoch) of a deterministic training loop. */
static void train_epochs(ic_net *net, ic_opt *opt, ic_train_state *st, const float *x, const int *y,
                         int to_epoch, const ic_lr_schedule *sched) {
    size_t idx[N_TRAIN];
    size_t per = ic_net_input_size(net);
    float *xb = ic_xmalloc(BATCH * per * sizeof(float));
    int yb[BATCH];
    float probs[BATCH * N_CLASSES];
    for (; st->epoch < to_epoch; st->epoch++, st->position = 0) {
        ic_rng shuf = st->epoch_rng;
        for (size_t i = 0; i < N_TRAIN; i++) idx[i] = i;
        ic_rng_shuffle(&shuf, idx, N_TRAIN);
        for (; st->position + BATCH <= N_TRAIN; st->position += BATCH) {
            for (int b = 0; b < BATCH; b++) {
                size_t s = idx[st->position + b];
                memcpy(xb + b * per, x + s * per, per * sizeof(float));
                yb[b] = y[s];
            }
            ic_net_forward(net, xb, BATCH, 1, &st->rng);
            ic_softmax_xent_forward(BATCH, N_CLASSES, ic_net_logits(net, 0), yb, NULL, 0.0f, probs);
            ic_net_zero_grad(net);
            ic_softmax_xent_backward(BATCH, N_CLASSES, probs, yb, NULL, 0.0f, ic_net_dlogits(net, 0));
            ic_net_backward(net);
            ic_opt_step(opt, net, ic_lr_at(sched, st->step));
            st->step++;
        }
        st->epoch_rng = shuf; /* next epoch's shuffle continues from here */
    }
    free(xb);
}

static float accuracy(ic_net *net, const float *x, const int *y, int n) {
    size_t per = ic_net_input_size(net);
    int correct = 0;
    for (int i = 0; i < n; i += BATCH) {
        int b = n - i < BATCH ? n - i : BATCH;
        ic_net_forward(net, x + i * per, b, 0, NULL);
        const float *lg = ic_net_logits(net, 0);
        for (int j = 0; j < b; j++) {
            int best = 0;
            for (int k = 1; k < N_CLASSES; k++) if (lg[j * N_CLASSES + k] > lg[j * N_CLASSES + best]) best = k;
            correct += best == y[i + j];
        }
    }
    return (float)correct / (float)n;
}

typedef struct { float *xtr, *xte; int ytr[N_TRAIN], yte[N_TEST]; } tone_data;
static tone_data *tone_data_new(void) {
    tone_data *d = ic_xcalloc(1, sizeof *d);
    d->xtr = ic_xmalloc(sizeof(float) * N_TRAIN * IMG_H * IMG_W);
    d->xte = ic_xmalloc(sizeof(float) * N_TEST * IMG_H * IMG_W);
    ic_rng r; ic_rng_seed(&r, 2024);
    make_tones(N_TRAIN, d->xtr, d->ytr, &r);
    make_tones(N_TEST, d->xte, d->yte, &r);
    return d;
}
static void tone_data_free(tone_data *d) { free(d->xtr); free(d->xte); free(d); }

static ic_net *tone_net(ic_train_state *st, ic_opt **opt) {
    ic_error err = {0};
    ic_net *net = ic_net_new_from_string(TONE_CNN, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    ck_assert_int_eq(ic_net_reserve(net, BATCH, &err), IC_OK);
    memset(st, 0, sizeof *st);
    ic_rng_seed(&st->rng, 11);
    ic_rng_seed(&st->epoch_rng, 12);
    ic_rng init; ic_rng_seed(&init, 13);
    ic_net_init(net, &init);
    *opt = ic_opt_new(net, IC_OPT_ADAMW, 1e-4f);
    return net;
}

static const ic_lr_schedule SCHED = {IC_SCHED_COSINE, 1e-2f, 16, 6 * (N_TRAIN / BATCH), 1e-4f, 0, 0};

START_TEST(test_tiny_cnn_learns_tones) {
    tone_data *d = tone_data_new();
    ic_train_state st; ic_opt *opt;
    ic_net *net = tone_net(&st, &opt);
    float before = accuracy(net, d->xte, d->yte, N_TEST);
    train_epochs(net, opt, &st, d->xtr, d->ytr, 6, &SCHED);
    float after = accuracy(net, d->xte, d->yte, N_TEST);
    fprintf(stderr, "tiny CNN on sine-tone images: test accuracy %.3f before training, %.3f after 6 epochs\n", before, after);
    ck_assert_float_ge(after, 0.95f);
    ic_opt_free(opt);
    ic_net_free(net);
    tone_data_free(d);
}
END_TEST

START_TEST(test_resume_is_exact) {
    make_tmpdir();
    tone_data *d = tone_data_new();
    ic_error err = {0};
    /* uninterrupted: 3 epochs */
    ic_train_state s1; ic_opt *o1;
    ic_net *n1 = tone_net(&s1, &o1);
    train_epochs(n1, o1, &s1, d->xtr, d->ytr, 3, &SCHED);
    /* interrupted after epoch 1 and in the middle of epoch 2, each time resumed in a fresh process state */
    ic_train_state s2; ic_opt *o2;
    ic_net *n2 = tone_net(&s2, &o2);
    train_epochs(n2, o2, &s2, d->xtr, d->ytr, 1, &SCHED);
    const char *ck = tmp_path("run.ckpt");
    ck_assert_int_eq(ic_net_save_checkpoint(n2, o2, &s2, ck, NULL, &err), IC_OK);
    ic_opt_free(o2);
    ic_net_free(n2);

    ic_train_state s3; ic_opt *o3;
    ic_net *n3 = tone_net(&s3, &o3);
    ic_rng_seed(&s3.rng, 999); /* wrong state that the checkpoint must overwrite */
    ck_assert_msg(ic_net_load_checkpoint(n3, o3, &s3, ck, NULL, &err) == IC_OK, "%s", err.msg);
    ck_assert_int_eq(s3.epoch, 1);
    train_epochs(n3, o3, &s3, d->xtr, d->ytr, 3, &SCHED);
    ck_assert_int_eq(s3.step, s1.step);
    ck_assert_int_eq(o3->step, o1->step);
    ck_assert_msg(memcmp(n3->param, n1->param, n1->n_param_floats * sizeof(float)) == 0, "resumed weights differ");
    ck_assert_int_eq(memcmp(n3->buf, n1->buf, n1->n_buf_floats * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(o3->v, o1->v, o1->n * sizeof(float)), 0);
    ck_assert_int_eq(memcmp(&s3.rng, &s1.rng, sizeof s1.rng), 0);
    ic_opt_free(o1); ic_opt_free(o3);
    ic_net_free(n1); ic_net_free(n3);
    tone_data_free(d);
    remove_tmpdir();
}
END_TEST

/* One forward/backward of the first n samples with fixed head gradients. */
static void grad_pass(ic_net *net, const float *x, int n) {
    ic_rng d;
    ic_rng_seed(&d, 3);
    ic_net_forward(net, x, n, 1, &d);
    ic_net_zero_grad(net);
    for (int h = 0; h < net->n_heads; h++) {
        float *dl = ic_net_dlogits(net, h);
        for (int i = 0; i < n * net->heads[h].classes; i++) dl[i] = 0.01f * (float)((i * 7) % 11) - 0.05f;
    }
    ic_net_backward(net);
}

/* An eval-only arena: less than half the floats, the same logits bitwise as
 * a training arena, and a later ic_net_reserve turns it into a training one. */
START_TEST(test_reserve_eval) {
    ic_error err = {0};
    ic_net *a = ic_net_new_from_string(SMALL_CNN, &err), *b = ic_net_new_from_string(SMALL_CNN, &err);
    ck_assert_msg(a && b, "%s", err.msg);
    ic_rng r;
    ic_rng_seed(&r, 8);
    ic_net_init(a, &r);
    memcpy(b->param, a->param, a->n_param_floats * sizeof(float));
    memcpy(b->buf, a->buf, a->n_buf_floats * sizeof(float));
    ck_assert_int_eq(ic_net_reserve(a, 3, &err), IC_OK);
    ck_assert_int_eq(ic_net_reserve_eval(b, 3, &err), IC_OK);
    ck_assert_int_eq(b->eval_only, 1);
    ck_assert_msg(2 * b->arena_floats < a->arena_floats, "eval arena %zu floats, training %zu", b->arena_floats,
                  a->arena_floats);
    float x[3 * 2 * 6 * 7];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = ic_rng_normal(&r);
    ic_net_forward(a, x, 3, 0, NULL);
    ic_net_forward(b, x, 3, 0, NULL);
    for (int h = 0; h < a->n_heads; h++)
        for (int i = 0; i < 3 * a->heads[h].classes; i++)
            ck_assert_msg(ic_net_logits(a, h)[i] == ic_net_logits(b, h)[i], "head %d logit %d", h, i);
    /* a training arena serves eval; a smaller eval request keeps it */
    ck_assert_int_eq(ic_net_reserve_eval(a, 2, &err), IC_OK);
    ck_assert_int_eq(a->eval_only, 0);
    /* eval-only -> training: re-laid out, and a training step works */
    ck_assert_int_eq(ic_net_reserve(b, 2, &err), IC_OK);
    ck_assert_int_eq(b->eval_only, 0);
    ck_assert_int_eq(b->batch_cap, 3);
    ck_assert_uint_eq(b->arena_floats, a->arena_floats);
    grad_pass(b, x, 3);
    grad_pass(a, x, 3);
    for (size_t i = 0; i < a->n_param_floats; i++) ck_assert(a->grad[i] == b->grad[i]);
    ic_net_free(a);
    ic_net_free(b);
}
END_TEST

/* Every activation-gradient buffer is zeroed or written whole by its producer
 * (batch norm and max pool overwrite theirs): gradients from an arena full of
 * NaNs, or after a step with another batch size, equal those from a clean one. */
START_TEST(test_backward_repeatable) {
    ic_error err = {0};
    ic_net *net = ic_net_new_from_string(SMALL_CNN, &err);
    ck_assert_msg(net != NULL, "%s", err.msg);
    ck_assert_int_eq(ic_net_reserve(net, 5, &err), IC_OK);
    ic_rng r;
    ic_rng_seed(&r, 17);
    ic_net_init(net, &r);
    float x[5 * 2 * 6 * 7];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = ic_rng_normal(&r);
    float *ref = malloc(sizeof(float) * net->n_param_floats);
    ck_assert(ref != NULL);
    memset(net->arena, 0, net->arena_floats * sizeof(float));
    grad_pass(net, x, 5);
    memcpy(ref, net->grad, sizeof(float) * net->n_param_floats);
    for (int variant = 0; variant < 2; variant++) {
        if (variant == 0)
            for (size_t i = 0; i < net->arena_floats; i++) net->arena[i] = NAN;
        else
            grad_pass(net, x, 4);
        grad_pass(net, x, 5);
        for (size_t i = 0; i < net->n_param_floats; i++)
            ck_assert_msg(net->grad[i] == ref[i], "%s: grad[%zu] = %g, %g from a clean arena",
                          variant ? "after a batch of 4" : "NaN arena", i, net->grad[i], ref[i]);
    }
    free(ref);
    ic_net_free(net);
}
END_TEST

/* ic_train_step: doubling every target's weight doubles the loss and every
 * parameter gradient exactly (the backward pass is linear in the head
 * gradients and x2 is exact in float); repeated steps on one batch learn it. */
START_TEST(test_train_step) {
    ic_error err = {0};
    ic_net *a = ic_net_new_from_string(SMALL_CNN, &err), *b = ic_net_new_from_string(SMALL_CNN, &err);
    ck_assert_msg(a && b, "%s", err.msg);
    const int n = 6;
    ck_assert_int_eq(ic_net_reserve(a, n, &err), IC_OK);
    ck_assert_int_eq(ic_net_reserve(b, n, &err), IC_OK);
    ic_rng r;
    ic_rng_seed(&r, 5);
    ic_net_init(a, &r);
    ic_rng_seed(&r, 5);
    ic_net_init(b, &r);
    float x[6 * 2 * 6 * 7];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = ic_rng_normal(&r);
    const int fam[6] = {0, 1, 2, 0, 1, 2}, pitch[6] = {3, -1, 0, 1, 2, -1};
    float pf[6 * 3], pp[6 * 4];
    ic_step_target ta[2] = {{0, fam, 1.0f, 0.1f, pf}, {1, pitch, 0.5f, 0.0f, pp}};
    ic_step_target tb[2] = {{0, fam, 2.0f, 0.1f, pf}, {1, pitch, 1.0f, 0.0f, pp}};
    ic_opt *oa = ic_opt_new(a, IC_OPT_ADAMW, 0.01f), *ob = ic_opt_new(b, IC_OPT_ADAMW, 0.01f);
    ic_rng ra, rb;
    ic_rng_seed(&ra, 9);
    ic_rng_seed(&rb, 9);
    double la = ic_train_step(a, oa, 1e-2f, x, n, &ra, ta, 2);
    double lb = ic_train_step(b, ob, 1e-2f, x, n, &rb, tb, 2);
    ck_assert_msg(la > 0.5 && lb == 2 * la, "loss %g, with doubled weights %g", la, lb);
    for (size_t i = 0; i < a->n_param_floats; i++)
        ck_assert_msg(b->grad[i] == 2 * a->grad[i], "grad[%zu]: %g vs 2 x %g", i, b->grad[i], a->grad[i]);
    double last = la;
    for (int s = 0; s < 200; s++) last = ic_train_step(a, oa, 3e-2f, x, n, &ra, ta, 2);
    ck_assert_msg(last < 0.5 * la, "200 steps on one batch: loss %g -> %g", la, last);
    ic_opt_free(oa);
    ic_opt_free(ob);
    ic_net_free(a);
    ic_net_free(b);

    const ic_train_recipe rec = {.model = "mfcc", .data = "d", .epochs = 3, .epochs_done = 2, .batch = 8,
                                 .lr = 0.5, .weight_decay = 0.25, .balance = 7, .per_family = 9, .seed = 11};
    cJSON *t = NULL, *meta = ic_train_meta(&rec, &t);
    ck_assert_ptr_eq(cJSON_GetObjectItem(meta, "training"), t);
    ck_assert_str_eq(cJSON_GetObjectItem(t, "program")->valuestring, "ictrain");
    ck_assert_str_eq(cJSON_GetObjectItem(t, "model")->valuestring, "mfcc");
    ck_assert_int_eq(cJSON_GetObjectItem(t, "epochs_done")->valueint, 2);
    ck_assert(cJSON_GetObjectItem(t, "weight_decay")->valuedouble == 0.25);
    ck_assert_int_eq(cJSON_GetObjectItem(t, "per_family")->valueint, 9);
    ck_assert_int_eq(cJSON_GetObjectItem(t, "seed")->valueint, 11);
    cJSON_Delete(meta);
}
END_TEST

static Suite *net_suite(void) {
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_arch_shapes);
    tcase_add_test(tc, test_arch_errors);
    tcase_add_test(tc, test_net_gradcheck);
    tcase_add_test(tc, test_save_load_roundtrip);
    tcase_add_test(tc, test_load_shape_mismatch);
    tcase_add_test(tc, test_tiny_cnn_learns_tones);
    tcase_add_test(tc, test_resume_is_exact);
    tcase_add_test(tc, test_train_step);
    tcase_add_test(tc, test_backward_repeatable);
    tcase_add_test(tc, test_reserve_eval);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(net_suite)
