/* Softmax cross-entropy with optional label smoothing and class weights.
 * Label -1 means "no target for this sample" (contributes nothing), which a
 * multi-head model uses when a head does not apply (e.g. no pitch in silence).
 * Loss = sum_i w[y_i] * CE_i / sum_i w[y_i]  (PyTorch's weighted mean), where
 * CE_i uses the target distribution (1-s) * onehot + s / k. */
#ifndef IC_LOSS_H
#define IC_LOSS_H

/* logits (n,k) -> probs (n,k) softmax; returns the mean loss (0 when no sample
 * has a label).  class_weights (k) or NULL for all ones; smoothing s in [0,1). */
float ic_softmax_xent_forward(int n, int k, const float *logits, const int *labels,
                              const float *class_weights, float smoothing, float *probs);
/* dlogits (n,k) += gradient of that mean loss, from the forward's probs. */
void ic_softmax_xent_backward(int n, int k, const float *probs, const int *labels,
                              const float *class_weights, float smoothing, float *dlogits);
/* Row-wise softmax; logits may alias probs. */
void ic_softmax(int n, int k, const float *logits, float *probs);
#endif
