/* --balance (a per-family cap drawn with the seeded RNG) and the per-family /
 * per-source count tables that programs print before and after it. */
#include "ic/nsynth.h"
#include <stdlib.h>
#include <string.h>

size_t ic_nsynth_balance(ic_nsynth_split *s, size_t cap, ic_rng *r) {
    if (s->n == 0) return 0;
    unsigned char *keep = malloc(s->n);
    size_t *idx = malloc(s->n * sizeof *idx);
    IC_ASSERT(keep && idx);
    memset(keep, 1, s->n);
    for (int f = 0; f < IC_NSYNTH_N_FAMILIES; f++) {
        size_t m = 0;
        for (size_t i = 0; i < s->n; i++)
            if (s->ex[i].family == f) idx[m++] = i;
        if (m <= cap) continue;
        /* a full shuffle of the family's indices, then the first cap survive: every
         * subset of size cap equally likely, and the draw depends only on the seed
         * and the family's membership */
        ic_rng_shuffle(r, idx, m);
        for (size_t k = cap; k < m; k++) keep[idx[k]] = 0;
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (keep[i]) s->ex[k++] = s->ex[i];
        else ic_nsynth_example_clear(&s->ex[i]);
    }
    size_t removed = s->n - k;
    s->n = k;
    free(keep);
    free(idx);
    return removed;
}

void ic_nsynth_count(const ic_nsynth_split *s, ic_nsynth_counts *c) {
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < s->n; i++) {
        int f = s->ex[i].family, so = s->ex[i].source;
        IC_ASSERT(f >= 0 && f < IC_NSYNTH_N_FAMILIES && so >= 0 && so < IC_NSYNTH_N_SOURCES);
        c->total++;
        c->family[f]++;
        c->source[so]++;
        c->family_source[f][so]++;
    }
}

void ic_nsynth_print_counts(FILE *f, const char *title, const char *const *split_names,
                            const ic_nsynth_counts *c, size_t n_splits) {
    int w[64];
    IC_ASSERT(n_splits <= 64);
    if (title && *title) fprintf(f, "%s\n", title);
    fprintf(f, "%-12s", "family");
    for (size_t k = 0; k < n_splits; k++) {
        int len = (int)strlen(split_names[k]);
        w[k] = len > 8 ? len : 8;
        fprintf(f, " %*s", w[k], split_names[k]);
    }
    fputc('\n', f);
    for (int r = 0; r < IC_NSYNTH_N_FAMILIES; r++) {
        fprintf(f, "%-12s", ic_nsynth_family_name(r));
        for (size_t k = 0; k < n_splits; k++) fprintf(f, " %*zu", w[k], c[k].family[r]);
        fputc('\n', f);
    }
    fprintf(f, "source\n");
    for (int r = 0; r < IC_NSYNTH_N_SOURCES; r++) {
        fprintf(f, "%-12s", ic_nsynth_source_name(r));
        for (size_t k = 0; k < n_splits; k++) fprintf(f, " %*zu", w[k], c[k].source[r]);
        fputc('\n', f);
    }
    fprintf(f, "%-12s", "total");
    for (size_t k = 0; k < n_splits; k++) fprintf(f, " %*zu", w[k], c[k].total);
    fputc('\n', f);
}

cJSON *ic_nsynth_counts_to_json(const ic_nsynth_counts *c) {
    cJSON *j = cJSON_CreateObject(), *fam = cJSON_CreateObject(), *src = cJSON_CreateObject();
    int ok = j && fam && src;
    for (int r = 0; ok && r < IC_NSYNTH_N_FAMILIES; r++)
        ok = cJSON_AddNumberToObject(fam, ic_nsynth_family_name(r), (double)c->family[r]) != NULL;
    for (int r = 0; ok && r < IC_NSYNTH_N_SOURCES; r++)
        ok = cJSON_AddNumberToObject(src, ic_nsynth_source_name(r), (double)c->source[r]) != NULL;
    ok = ok && cJSON_AddNumberToObject(j, "total", (double)c->total);
    if (ok && cJSON_AddItemToObject(j, "families", fam)) {
        fam = NULL;
        if (cJSON_AddItemToObject(j, "sources", src)) return j;
    }
    cJSON_Delete(fam);
    cJSON_Delete(src);
    cJSON_Delete(j);
    return NULL;
}
