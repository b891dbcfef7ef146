/* One split's examples.json as the generator keeps it: a cJSON object keyed by
 * note_str, a hash index over the keys (cJSON's own lookup is a linear scan, too slow
 * for 10^5 entries), and the next free "note" id.  Saving writes one entry per line to
 * a temporary file, fsyncs and renames, so an interrupted run never leaves a broken
 * examples.json.  Not here: building entries (files.c). */
#include "ic/synth.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ic_examples {
    char *path;              /* DIR/examples.json */
    cJSON *root;             /* object: note_str -> entry */
    cJSON **slot;            /* (cap) open addressing; NULL empty, &tomb removed */
    size_t cap, used, count; /* used counts tombstones too */
    long long next_id;
    int dirty;
};

/* Marks a removed slot. */
static cJSON tomb;

static size_t find_slot(const ic_examples *e, const char *key, int *found) {
    size_t mask = e->cap - 1, i = (size_t)ic_synth_hash(key) & mask, first_free = (size_t)-1;
    for (;;) {
        cJSON *c = e->slot[i];
        if (!c) { *found = 0; return first_free != (size_t)-1 ? first_free : i; }
        if (c == &tomb) { if (first_free == (size_t)-1) first_free = i; }
        else if (strcmp(c->string, key) == 0) { *found = 1; return i; }
        i = (i + 1) & mask;
    }
}

static void grow(ic_examples *e) {
    size_t old_cap = e->cap;
    cJSON **old = e->slot;
    e->cap = old_cap ? old_cap * 2 : 1024;
    e->slot = ic_xcalloc(e->cap, sizeof *e->slot);
    e->used = 0;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i] || old[i] == &tomb) continue;
        int found;
        size_t j = find_slot(e, old[i]->string, &found);
        e->slot[j] = old[i];
        e->used++;
    }
    free(old);
}

/* Indexes child (a member of root); 0 when its key is already present. */
static int index_add(ic_examples *e, cJSON *child) {
    if ((e->used + 1) * 2 > e->cap) grow(e);
    int found;
    size_t i = find_slot(e, child->string, &found);
    if (found) return 0;
    if (!e->slot[i]) e->used++;
    e->slot[i] = child;
    e->count++;
    return 1;
}

void ic_examples_free(ic_examples *e) {
    if (!e) return;
    cJSON_Delete(e->root);
    free(e->slot);
    free(e->path);
    free(e);
}

static char *read_all(const char *path, size_t *n, ic_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno != ENOENT) ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        else ic_error_clear(err);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - 1 - len, f);
        len += r;
        if (r == 0) break;
    }
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        ic_error_set(err, buf ? IC_ERR_IO : IC_ERR_NOMEM, "%s: %s", path, buf ? "read error" : "out of memory");
        return NULL;
    }
    buf[len] = 0;
    *n = len;
    return buf;
}

ic_examples *ic_examples_open(const char *split_dir, ic_error *err) {
    ic_examples *e = ic_xcalloc(1, sizeof *e);
    size_t plen = strlen(split_dir) + sizeof "/examples.json";
    e->path = ic_xmalloc(plen);
    snprintf(e->path, plen, "%s/examples.json", split_dir);
    grow(e);
    ic_error local;
    ic_error_clear(&local);
    size_t n = 0;
    char *text = read_all(e->path, &n, &local);
    if (!text) {
        if (local.code != IC_OK) {
            ic_error_set(err, local.code, "%s", local.msg);
            ic_examples_free(e);
            return NULL;
        }
        e->root = cJSON_CreateObject();
        IC_ASSERT(e->root);
        return e;
    }
    e->root = cJSON_ParseWithLength(text, n);
    if (!e->root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text && at <= text + n ? (long)(at - text) : -1;
        free(text);
        ic_error_set(err, IC_ERR_FORMAT, "%s: not valid JSON (error near byte %ld); fix or remove it", e->path, off);
        ic_examples_free(e);
        return NULL;
    }
    free(text);
    if (!cJSON_IsObject(e->root)) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: expected a JSON object keyed by note_str, found another JSON value", e->path);
        ic_examples_free(e);
        return NULL;
    }
    long long max_id = -1;
    for (cJSON *c = e->root->child; c; c = c->next) {
        if (!cJSON_IsObject(c)) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: entry '%s' is not an object", e->path, c->string);
            ic_examples_free(e);
            return NULL;
        }
        if (!index_add(e, c)) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: entry '%s' appears twice", e->path, c->string);
            ic_examples_free(e);
            return NULL;
        }
        cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "note");
        if (cJSON_IsNumber(id) && id->valuedouble > (double)max_id) max_id = (long long)id->valuedouble;
    }
    e->next_id = max_id + 1;
    return e;
}

size_t ic_examples_count(const ic_examples *e) { return e->count; }
int ic_examples_dirty(const ic_examples *e) { return e->dirty; }

int ic_examples_has(const ic_examples *e, const char *note_str) {
    int found;
    find_slot(e, note_str, &found);
    return found;
}

void ic_examples_put(ic_examples *e, cJSON *entry) {
    cJSON *ns = cJSON_GetObjectItemCaseSensitive(entry, "note_str");
    IC_ASSERT(cJSON_IsString(ns));
    const char *key = ns->valuestring;
    int found;
    size_t i = find_slot(e, key, &found);
    cJSON *id = cJSON_GetObjectItemCaseSensitive(entry, "note");
    IC_ASSERT(cJSON_IsNumber(id));
    e->dirty = 1;
    if (found) {
        cJSON *old = e->slot[i];
        cJSON *old_id = cJSON_GetObjectItemCaseSensitive(old, "note");
        cJSON_SetNumberValue(id, cJSON_IsNumber(old_id) ? old_id->valuedouble : (double)e->next_id++);
        /* ReplaceItemViaPointer links entry in old's place and frees old, key included,
         * without giving entry a key: it needs its own copy */
        entry->string = strdup(old->string);
        IC_ASSERT(entry->string);
        entry->type &= ~cJSON_StringIsConst;
        int replaced = cJSON_ReplaceItemViaPointer(e->root, old, entry);
        IC_ASSERT(replaced);
        e->slot[i] = entry;
        return;
    }
    cJSON_SetNumberValue(id, (double)e->next_id++);
    int added = cJSON_AddItemToObject(e->root, key, entry);
    IC_ASSERT(added);
    added = index_add(e, entry);
    IC_ASSERT(added);
}

void ic_examples_remove(ic_examples *e, const char *note_str) {
    int found;
    size_t i = find_slot(e, note_str, &found);
    if (!found) return;
    cJSON *old = e->slot[i];
    e->slot[i] = &tomb;
    e->count--;
    cJSON_Delete(cJSON_DetachItemViaPointer(e->root, old));
    e->dirty = 1;
}

/* Writes s as a JSON string literal. */
static int put_string(FILE *f, const char *s) {
    if (fputc('"', f) == EOF) return -1;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        int r;
        if (c == '"' || c == '\\') r = fprintf(f, "\\%c", c);
        else if (c < 0x20) r = fprintf(f, "\\u%04x", c);
        else r = fputc(c, f) == EOF ? -1 : 1;
        if (r < 0) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

ic_status ic_examples_save(ic_examples *e, ic_error *err) {
    size_t tlen = strlen(e->path) + sizeof ".tmp";
    char *tmp = ic_xmalloc(tlen);
    snprintf(tmp, tlen, "%s.tmp", e->path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    int bad = fputs("{\n", f) == EOF;
    for (cJSON *c = e->root->child; c && !bad; c = c->next) {
        char *body = cJSON_PrintUnformatted(c);
        IC_ASSERT(body);
        bad = fputc('\t', f) == EOF || put_string(f, c->string) < 0 || fputs(": ", f) == EOF ||
              fputs(body, f) == EOF || fputs(c->next ? ",\n" : "\n", f) == EOF;
        free(body);
    }
    bad = bad || fputs("}\n", f) == EOF || fflush(f) != 0 || fsync(fileno(f)) != 0;
    int saved_errno = errno;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: write failed: %s", tmp, strerror(saved_errno));
        free(tmp);
        return st;
    }
    if (rename(tmp, e->path) != 0) {
        ic_status st = ic_error_set(err, IC_ERR_IO, "%s: cannot rename to %s: %s", tmp, e->path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return st;
    }
    free(tmp);
    e->dirty = 0;
    return IC_OK;
}
