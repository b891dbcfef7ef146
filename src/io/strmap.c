/* String -> index hash map with linear probing, kept at most half full. */
#include "strmap.h"
#include <stdlib.h>
#include <string.h>

uint64_t ic_fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static int alloc_slots(ic_strmap *m, size_t cap) {
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    if (!m->keys || !m->vals) { free(m->keys); free(m->vals); m->keys = NULL; m->vals = NULL; return -1; }
    m->cap = cap;
    m->n = 0;
    return 0;
}

int ic_strmap_init(ic_strmap *m, size_t expected) {
    size_t cap = 16;
    while (cap < 2 * expected + 2) cap *= 2;
    return alloc_slots(m, cap);
}

void ic_strmap_free(ic_strmap *m) {
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t slot_of(const ic_strmap *m, const char *key) {
    size_t i = (size_t)ic_fnv1a(IC_FNV1A_INIT, key, strlen(key)) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key)) i = (i + 1) & (m->cap - 1);
    return i;
}

int ic_strmap_put(ic_strmap *m, const char *key, size_t val, size_t *old) {
    if (2 * (m->n + 1) > m->cap) {
        ic_strmap big;
        if (alloc_slots(&big, m->cap * 2)) return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = slot_of(&big, m->keys[i]);
                big.keys[j] = m->keys[i];
                big.vals[j] = m->vals[i];
                big.n++;
            }
        ic_strmap_free(m);
        *m = big;
    }
    size_t i = slot_of(m, key);
    if (m->keys[i]) {
        if (old) *old = m->vals[i];
        return 0;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    return 1;
}

int ic_strmap_get(const ic_strmap *m, const char *key, size_t *val) {
    if (!m->cap) return 0;
    size_t i = slot_of(m, key);
    if (!m->keys[i]) return 0;
    *val = m->vals[i];
    return 1;
}
