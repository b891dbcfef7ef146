/* Internal to src/io: an open-addressing hash map from borrowed C strings to indices
 * (FNV-1a 64), for note_str / archive member lookups over ~300k names.  Keys are not
 * copied: they must outlive the map. */
#ifndef IC_IO_STRMAP_H
#define IC_IO_STRMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char **keys; /* cap slots, NULL = empty */
    size_t *vals;
    size_t cap, n;
} ic_strmap;

uint64_t ic_fnv1a(uint64_t h, const void *data, size_t n);
#define IC_FNV1A_INIT 0xcbf29ce484222325ULL

/* 0 ok, -1 out of memory.  expected: a size hint. */
int ic_strmap_init(ic_strmap *m, size_t expected);
void ic_strmap_free(ic_strmap *m);
/* Inserts key -> val unless present.  1 inserted, 0 present (*old = its value), -1 no memory. */
int ic_strmap_put(ic_strmap *m, const char *key, size_t val, size_t *old);
/* 1 and *val when present, else 0. */
int ic_strmap_get(const ic_strmap *m, const char *key, size_t *val);

#endif
