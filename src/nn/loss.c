/* Softmax cross-entropy kernels: row-wise softmax, the weighted, label-smoothed
 * mean loss, and its gradient w.r.t. the logits.  Labels are trusted here
 * (the data loader validates them); -1 marks a sample without a target.
 * Serial: n is a batch and k a handful of classes, far below threading cost. */
#include "ic/loss.h"
#include "ic/error.h"
#include <math.h>
#include <stddef.h>

/* logits,probs (n,k); may alias.  p_j = exp(z_j - max z) / sum exp(z - max z):
 * subtracting the row max keeps every exponent <= 0, so nothing overflows. */
void ic_softmax(int n, int k, const float *logits, float *probs) {
    IC_ASSERT(n >= 0 && k > 0);
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        float *p = probs + (size_t)i * k;
        float mx = z[0];
        for (int j = 1; j < k; j++) if (z[j] > mx) mx = z[j];
        double sum = 0.0;
        for (int j = 0; j < k; j++) { p[j] = expf(z[j] - mx); sum += p[j]; }
        const float inv = (float)(1.0 / sum);
        for (int j = 0; j < k; j++) p[j] *= inv;
    }
}

static double label_weight(const float *class_weights, int label) {
    return class_weights ? (double)class_weights[label] : 1.0;
}

/* logits,probs (n,k); labels (n) in [-1,k); class_weights (k) or NULL.
 * With target t = (1-s) onehot(y) + s/k and lse = log sum_j exp z_j:
 *   CE_i = -sum_j t_j log p_j = lse - (1-s) z_y - (s/k) sum_j z_j
 * (sum t = 1), computed from the logits in double so probabilities that
 * underflow to 0 cannot produce log(0).  Loss = sum w_y CE_i / sum w_y. */
float ic_softmax_xent_forward(int n, int k, const float *logits, const int *labels,
                              const float *class_weights, float smoothing, float *probs) {
    IC_ASSERT(n >= 0 && k > 0);
    IC_ASSERT(smoothing >= 0.0f && smoothing < 1.0f);
    double num = 0.0, den = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * k;
        const int y = labels[i];
        IC_ASSERT(y >= -1 && y < k);
        if (y < 0) continue;
        float mx = z[0];
        for (int j = 1; j < k; j++) if (z[j] > mx) mx = z[j];
        double se = 0.0, sz = 0.0;
        for (int j = 0; j < k; j++) { se += exp((double)z[j] - mx); sz += z[j]; }
        const double lse = mx + log(se);
        const double ce = lse - (1.0 - smoothing) * z[y] - smoothing / k * sz;
        const double w = label_weight(class_weights, y);
        num += w * ce;
        den += w;
    }
    ic_softmax(n, k, logits, probs);
    return den > 0.0 ? (float)(num / den) : 0.0f;
}

/* probs,dlogits (n,k): dlogits_i += w_y / (sum w_y) * (p_i - t_i); rows with
 * label -1 get nothing, and nothing at all when no sample has a label. */
void ic_softmax_xent_backward(int n, int k, const float *probs, const int *labels,
                              const float *class_weights, float smoothing, float *dlogits) {
    IC_ASSERT(n >= 0 && k > 0);
    IC_ASSERT(smoothing >= 0.0f && smoothing < 1.0f);
    double den = 0.0;
    for (int i = 0; i < n; i++) {
        IC_ASSERT(labels[i] >= -1 && labels[i] < k);
        if (labels[i] >= 0) den += label_weight(class_weights, labels[i]);
    }
    if (den <= 0.0) return;
    const double off = smoothing / k, on = 1.0 - smoothing + off;
    for (int i = 0; i < n; i++) {
        const int y = labels[i];
        if (y < 0) continue;
        const double scale = label_weight(class_weights, y) / den;
        const float *p = probs + (size_t)i * k;
        float *d = dlogits + (size_t)i * k;
        for (int j = 0; j < k; j++) d[j] += (float)(scale * (p[j] - (j == y ? on : off)));
    }
}
