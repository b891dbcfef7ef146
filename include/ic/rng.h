/* Explicit random number generator state (xoshiro256**, seeded by splitmix64).
 * Every random choice in ic takes an ic_rng*; the state is plain data so
 * checkpoints save and restore it exactly.  No rand(), no hidden state. */
#ifndef IC_RNG_H
#define IC_RNG_H
#include <stdint.h>
#include <stddef.h>

typedef struct { uint64_t s[4]; } ic_rng;

/* Seeds the state deterministically from one 64-bit seed. */
void ic_rng_seed(ic_rng *r, uint64_t seed);
/* Next 64 random bits. */
uint64_t ic_rng_u64(ic_rng *r);
/* Uniform integer in [0, n); n > 0.  Unbiased (rejection). */
uint64_t ic_rng_below(ic_rng *r, uint64_t n);
/* Uniform float in [0, 1). */
float ic_rng_uniform(ic_rng *r);
/* Standard normal (Box-Muller, one value per call, no cached second value). */
float ic_rng_normal(ic_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void ic_rng_shuffle(ic_rng *r, size_t *idx, size_t n);

#endif
