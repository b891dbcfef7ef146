/* The .icw container (layout in include/ic/icw.h): an atomic writer and a
 * reader that treats every file as hostile.
 *
 * This file knows bytes, names, shapes and dtypes only.  What the tensors and
 * the "meta" object mean (architecture, front end, labels, optimiser state)
 * is decided by the model and checkpoint code, not here.
 *
 * Reader check order: fixed prefix and header_len first (so nothing is read
 * out of bounds), then the CRC (so one flipped bit is reported as a checksum
 * error, not as whatever the bit happened to break), then the JSON header
 * and every tensor against the bytes actually present.  The total length is
 * not stored in the prefix, so on a CRC mismatch the header is consulted to
 * tell a truncated or extended file from a corrupted one. */
#include "ic/icw.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define PREFIX_LEN 24u                  /* magic, version, flags, header_len */
#define CRC_LEN 4u
#define ALIGN 64u
#define MIN_FILE (ALIGN + CRC_LEN)      /* data_start >= 64, then the CRC */
#define HEADER_MAX (1ull << 30)         /* a header beyond 1 GiB is corrupt, not metadata */
#define JSON_INT_MAX (1ull << 53)       /* largest integer a JSON double holds exactly */

size_t ic_dtype_size(ic_dtype t) {
    switch (t) {
    case IC_DTYPE_F32: return 4;
    case IC_DTYPE_I32: return 4;
    case IC_DTYPE_U8: return 1;
    }
    return 0;
}

const char *ic_dtype_name(ic_dtype t) {
    switch (t) {
    case IC_DTYPE_F32: return "f32";
    case IC_DTYPE_I32: return "i32";
    case IC_DTYPE_U8: return "u8";
    }
    return "?";
}

static int dtype_from_name(const char *s, ic_dtype *out) {
    const ic_dtype all[] = {IC_DTYPE_F32, IC_DTYPE_I32, IC_DTYPE_U8};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, ic_dtype_name(all[i])) == 0) { *out = all[i]; return 1; }
    return 0;
}

/* x rounded up to a multiple of 64; callers keep x far below UINT64_MAX. */
static uint64_t round_up(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* zlib's crc32 takes a uInt length: feed large buffers in chunks. */
static uint32_t crc_update(uint32_t crc, const void *p, size_t n) {
    const Bytef *b = p;
    uLong c = crc;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* Bytes for `ndim` dims of `shape` in dtype t; 0 when a product overflows
 * JSON_INT_MAX (*out untouched).  ndim 0 is a scalar: one element. */
static int shape_bytes(ic_dtype t, int ndim, const int64_t *shape, uint64_t *out) {
    uint64_t n = ic_dtype_size(t);
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (uint64_t)shape[d] > JSON_INT_MAX) return 0;
        if (__builtin_mul_overflow(n, (uint64_t)shape[d], &n) || n > JSON_INT_MAX) return 0;
    }
    *out = n;
    return 1;
}

static void format_shape(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && len < cap; d++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (len < cap) snprintf(buf + len, cap - len, "]");
}

/* Copy of s fit for a one-line message: control bytes become '?', long
 * strings are cut with "...".  Names in hostile files may hold anything. */
static const char *printable(const char *s, char *buf, size_t cap) {
    size_t i = 0, keep = cap - 4;
    for (; s[i] && i < keep; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (s[i]) { memcpy(buf + i, "...", 3); i += 3; }
    buf[i] = '\0';
    return buf;
}

static int cmp_tensor_name(const void *a, const void *b) {
    const ic_icw_tensor *x = *(const ic_icw_tensor *const *)a;
    const ic_icw_tensor *y = *(const ic_icw_tensor *const *)b;
    return strcmp(x->name, y->name);
}

/* First duplicate name among n tensors (sorted, so hostile files with many
 * tensors stay O(n log n)); NULL when all differ.  -1 in *oom on no memory. */
static const char *find_duplicate(const ic_icw_tensor *t, size_t n, int *oom) {
    *oom = 0;
    if (n < 2) return NULL;
    const ic_icw_tensor **p = malloc(n * sizeof *p);
    if (!p) { *oom = 1; return NULL; }
    for (size_t i = 0; i < n; i++) p[i] = &t[i];
    qsort(p, n, sizeof *p, cmp_tensor_name);
    const char *dup = NULL;
    for (size_t i = 1; i < n && !dup; i++)
        if (strcmp(p[i - 1]->name, p[i]->name) == 0) dup = p[i]->name;
    free(p);
    return dup;
}

/* ------------------------------------------------------------------ writer */

typedef struct {
    FILE *fp;
    uint32_t crc;
    int err_no;     /* first write error, 0 while all is well */
} writer;

static void w_bytes(writer *w, const void *p, size_t n) {
    if (w->err_no || n == 0) return;
    if (fwrite(p, 1, n, w->fp) != n) { w->err_no = errno ? errno : EIO; return; }
    w->crc = crc_update(w->crc, p, n);
}

static void w_zeros(writer *w, uint64_t n) {
    const unsigned char zeros[ALIGN] = {0};
    while (n > 0) {
        size_t k = n > ALIGN ? ALIGN : (size_t)n;
        w_bytes(w, zeros, k);
        n -= k;
    }
}

/* Checks one caller tensor; fills its byte count. */
static ic_status check_tensor_arg(const char *path, size_t i, const ic_icw_tensor *t, ic_error *err) {
    if (!memchr(t->name, '\0', sizeof t->name))
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor %zu: name is not NUL-terminated within %d bytes",
                            path, i, IC_ICW_NAME_MAX);
    char nm[80];
    printable(t->name, nm, sizeof nm);
    if (t->name[0] == '\0')
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor %zu: empty name", path, i);
    if (ic_dtype_size(t->dtype) == 0)
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor '%s': unknown dtype %d", path, nm, (int)t->dtype);
    if (t->ndim < 0 || t->ndim > IC_ICW_MAX_DIMS)
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor '%s': expected 0..%d dimensions, found %d",
                            path, nm, IC_ICW_MAX_DIMS, t->ndim);
    char shp[200];
    format_shape(shp, sizeof shp, t->ndim, t->shape);
    uint64_t need;
    if (!shape_bytes(t->dtype, t->ndim, t->shape, &need))
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor '%s': shape %s is negative or too large",
                            path, nm, shp);
    if (need != t->nbytes)
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor '%s': shape %s of %s needs %llu bytes, nbytes is %zu",
                            path, nm, shp, ic_dtype_name(t->dtype), (unsigned long long)need, t->nbytes);
    if (t->nbytes > 0 && !t->data)
        return ic_error_set(err, IC_ERR_ARG, "%s: tensor '%s': data is NULL for %zu bytes", path, nm, t->nbytes);
    return IC_OK;
}

/* The JSON header text (cJSON-allocated) for the given tensors and offsets. */
static ic_status build_header(const char *path, const char *kind, const char *meta_json,
                              const ic_icw_tensor *t, size_t n, const uint64_t *offset,
                              char **out, ic_error *err) {
    cJSON *meta;
    if (meta_json) {
        meta = cJSON_ParseWithOpts(meta_json, NULL, 1);
        if (!meta || !cJSON_IsObject(meta)) {
            cJSON_Delete(meta);
            return ic_error_set(err, IC_ERR_ARG, "%s: meta_json: expected a JSON object, found %s",
                                path, meta ? "another JSON value" : "invalid JSON");
        }
    } else {
        meta = cJSON_CreateObject();
    }
    cJSON *root = cJSON_CreateObject();
    int ok = meta && root && cJSON_AddStringToObject(root, "kind", kind);
    if (ok) {
        ok = cJSON_AddItemToObject(root, "meta", meta);
        if (ok) meta = NULL;            /* root owns it now */
    }
    cJSON *arr = ok ? cJSON_AddArrayToObject(root, "tensors") : NULL;
    ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON *shape = cJSON_CreateArray();
        ok = o && shape && cJSON_AddItemToArray(arr, o);
        if (!ok) { cJSON_Delete(o); cJSON_Delete(shape); break; }
        ok = cJSON_AddStringToObject(o, "name", t[i].name)
          && cJSON_AddStringToObject(o, "dtype", ic_dtype_name(t[i].dtype))
          && cJSON_AddItemToObject(o, "shape", shape);
        if (!ok) { cJSON_Delete(shape); break; }
        for (int d = 0; ok && d < t[i].ndim; d++) {
            cJSON *v = cJSON_CreateNumber((double)t[i].shape[d]);
            ok = v && cJSON_AddItemToArray(shape, v);
            if (!ok) cJSON_Delete(v);
        }
        ok = ok && cJSON_AddNumberToObject(o, "offset", (double)offset[i])
                && cJSON_AddNumberToObject(o, "nbytes", (double)t[i].nbytes);
    }
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    cJSON_Delete(meta);
    if (!text) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory building the header", path);
    *out = text;
    return IC_OK;
}

/* Writes the whole file to the open fp; returns 0 or an errno value. */
static int write_body(FILE *fp, const char *header, size_t header_len, uint64_t data_start,
                      const ic_icw_tensor *t, size_t n, const uint64_t *offset, uint64_t data_len) {
    writer w = {fp, (uint32_t)crc32(0L, Z_NULL, 0), 0};
    unsigned char prefix[PREFIX_LEN];
    memcpy(prefix, IC_ICW_MAGIC, 8);
    put_u32(prefix + 8, IC_ICW_VERSION);
    put_u32(prefix + 12, 0);
    put_u64(prefix + 16, header_len);
    w_bytes(&w, prefix, sizeof prefix);
    w_bytes(&w, header, header_len);
    w_zeros(&w, data_start - PREFIX_LEN - header_len);
    uint64_t pos = 0;   /* relative to data_start */
    for (size_t i = 0; i < n; i++) {
        w_zeros(&w, offset[i] - pos);
        w_bytes(&w, t[i].data, t[i].nbytes);
        pos = offset[i] + t[i].nbytes;
    }
    w_zeros(&w, data_len - pos);
    unsigned char trailer[CRC_LEN];
    put_u32(trailer, w.crc);
    w_bytes(&w, trailer, sizeof trailer);
    if (!w.err_no && fflush(fp) != 0) w.err_no = errno;
    if (!w.err_no && fsync(fileno(fp)) != 0) w.err_no = errno;
    return w.err_no;
}

ic_status ic_icw_write(const char *path, const char *kind, const char *meta_json,
                       const ic_icw_tensor *tensors, size_t n_tensors, ic_error *err) {
    if (!path || !*path) return ic_error_set(err, IC_ERR_ARG, "icw write: empty path");
    if (!kind) return ic_error_set(err, IC_ERR_ARG, "%s: kind is NULL", path);
    if (n_tensors > 0 && !tensors)
        return ic_error_set(err, IC_ERR_ARG, "%s: %zu tensors but the array is NULL", path, n_tensors);
    if (n_tensors > SIZE_MAX / sizeof(uint64_t))
        return ic_error_set(err, IC_ERR_ARG, "%s: %zu tensors is too many", path, n_tensors);

    uint64_t *offset = malloc((n_tensors ? n_tensors : 1) * sizeof *offset);
    if (!offset) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    ic_status st = IC_OK;
    uint64_t end = 0;   /* end of the last tensor, relative to data_start */
    for (size_t i = 0; i < n_tensors && st == IC_OK; i++) {
        st = check_tensor_arg(path, i, &tensors[i], err);
        if (st != IC_OK) break;
        offset[i] = round_up(end);
        end = offset[i] + tensors[i].nbytes;
        if (end > JSON_INT_MAX)
            st = ic_error_set(err, IC_ERR_ARG, "%s: tensor data exceeds %llu bytes", path, JSON_INT_MAX);
    }
    if (st == IC_OK) {
        int oom;
        const char *dup = find_duplicate(tensors, n_tensors, &oom);
        char nm[80];
        if (oom) st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
        else if (dup)
            st = ic_error_set(err, IC_ERR_ARG, "%s: duplicate tensor name '%s'", path,
                              printable(dup, nm, sizeof nm));
    }
    char *header = NULL;
    if (st == IC_OK) st = build_header(path, kind, meta_json, tensors, n_tensors, offset, &header, err);
    size_t header_len = header ? strlen(header) : 0;
    if (st == IC_OK && header_len > HEADER_MAX)
        st = ic_error_set(err, IC_ERR_ARG, "%s: header of %zu bytes exceeds the %llu-byte limit",
                          path, header_len, HEADER_MAX);

    char *tmp = NULL;
    if (st == IC_OK) {
        size_t plen = strlen(path);
        tmp = malloc(plen + 5);
        if (!tmp) st = ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
        else { memcpy(tmp, path, plen); memcpy(tmp + plen, ".tmp", 5); }
    }
    if (st == IC_OK) {
        FILE *fp = fopen(tmp, "wb");
        if (!fp) {
            st = ic_error_set(err, IC_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        } else {
            int e = write_body(fp, header, header_len, round_up(PREFIX_LEN + header_len),
                               tensors, n_tensors, offset, round_up(end));
            if (fclose(fp) != 0 && !e) e = errno;
            if (e) st = ic_error_set(err, IC_ERR_IO, "%s: write failed: %s", tmp, strerror(e));
            else if (rename(tmp, path) != 0)
                st = ic_error_set(err, IC_ERR_IO, "%s: cannot rename %s into place: %s",
                                  path, tmp, strerror(errno));
            if (st != IC_OK) unlink(tmp);  /* the previous PATH was never touched */
        }
    }
    free(tmp);
    cJSON_free(header);
    free(offset);
    return st;
}

/* ------------------------------------------------------------------ reader */

typedef struct {
    const char *path;
    const unsigned char *buf;   /* whole file */
    size_t size;
    uint64_t header_len;
    uint64_t data_start;
    uint64_t data_avail;        /* bytes between data_start and the CRC */
} layout;

/* Reads path whole into a 64-aligned blob (so 64-aligned file offsets are
 * 64-aligned addresses). */
static ic_status read_whole(const char *path, ic_icw_file *f, ic_error *err) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    ic_status st = IC_OK;
    if (fstat(fileno(fp), &sb) != 0)
        st = ic_error_set(err, IC_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = ic_error_set(err, IC_ERR_IO, "%s: not a regular file", path);
    else if (sb.st_size < 0 || (uint64_t)sb.st_size > SIZE_MAX - ALIGN)
        st = ic_error_set(err, IC_ERR_IO, "%s: file size %lld is not addressable", path, (long long)sb.st_size);
    if (st == IC_OK && sb.st_size > 0) {
        size_t size = (size_t)sb.st_size;
        void *blob = NULL;
        if (posix_memalign(&blob, ALIGN, size) != 0) {
            st = ic_error_set(err, IC_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, size);
        } else {
            f->blob = blob;
            size_t got = fread(blob, 1, size, fp);
            if (got != size)
                st = ferror(fp)
                   ? ic_error_set(err, IC_ERR_IO, "%s: read failed: %s", path, strerror(errno))
                   : ic_error_set(err, IC_ERR_IO, "%s: short read: expected %zu bytes, found %zu",
                                  path, size, got);
            f->blob_size = size;
        }
    }
    fclose(fp);   /* read-only: nothing to lose on a close error */
    return st;
}

/* Magic, version, flags and header_len; fills the layout. */
static ic_status check_prefix(layout *L, ic_error *err) {
    const unsigned char *b = L->buf;
    size_t n = L->size;
    if (n == 0)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: empty file: expected an ic weights file of at least %u bytes",
                            L->path, MIN_FILE);
    size_t m = n < 8 ? n : 8;
    if (memcmp(b, IC_ICW_MAGIC, m) != 0) {
        char found[40];
        size_t k = 0;
        for (size_t i = 0; i < m; i++)
            k += (size_t)snprintf(found + k, sizeof found - k, (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
                                  ? "%c" : "\\x%02x", b[i]);
        return ic_error_set(err, IC_ERR_FORMAT, "%s: not an ic weights file (bad magic): expected \"%s\", found \"%s\"",
                            L->path, IC_ICW_MAGIC, found);
    }
    if (n < PREFIX_LEN)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: truncated: expected at least %u bytes for the fixed prefix, found %zu",
                            L->path, PREFIX_LEN, n);
    uint32_t version = get_u32(b + 8);
    if (version != IC_ICW_VERSION)
        return ic_error_set(err, version > IC_ICW_VERSION ? IC_ERR_UNSUPPORTED : IC_ERR_FORMAT,
                            "%s: format version %u, this build reads version %u", L->path, version, IC_ICW_VERSION);
    uint32_t flags = get_u32(b + 12);
    if (flags != 0)
        return ic_error_set(err, IC_ERR_UNSUPPORTED, "%s: flags 0x%08x, this build reads flags 0", L->path, flags);
    uint64_t hl = get_u64(b + 16);
    if (hl > HEADER_MAX)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: header_len %llu (%lld as signed) is absurd: expected at most %llu",
                            L->path, (unsigned long long)hl, (long long)hl, HEADER_MAX);
    uint64_t data_start = round_up(PREFIX_LEN + hl);
    if (n < data_start + CRC_LEN)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: truncated: expected at least %llu bytes for header_len %llu, found %zu",
                            L->path, (unsigned long long)(data_start + CRC_LEN), (unsigned long long)hl, n);
    L->header_len = hl;
    L->data_start = data_start;
    L->data_avail = n - CRC_LEN - data_start;
    return IC_OK;
}

static const char *json_type(const cJSON *x) {
    if (!x) return "nothing";
    if (cJSON_IsString(x)) return "a string";
    if (cJSON_IsNumber(x)) return "a number";
    if (cJSON_IsArray(x)) return "an array";
    if (cJSON_IsObject(x)) return "an object";
    if (cJSON_IsBool(x)) return "a boolean";
    if (cJSON_IsNull(x)) return "null";
    return "an invalid value";
}

/* x as an exact non-negative integer <= 2^53. */
static int json_uint(const cJSON *x, uint64_t *out) {
    if (!cJSON_IsNumber(x)) return 0;
    double d = x->valuedouble;
    if (!(d >= 0.0 && d <= (double)JSON_INT_MAX)) return 0;   /* also rejects NaN */
    if (d != (double)(uint64_t)d) return 0;
    *out = (uint64_t)d;
    return 1;
}

/* What a value is, for "found ..." in messages. */
static const char *describe(const cJSON *x, char *buf, size_t cap) {
    if (cJSON_IsNumber(x)) { snprintf(buf, cap, "%.17g", x->valuedouble); return buf; }
    return json_type(x);
}

/* Expected file size from the tensor table alone, without trusting anything
 * else; 0 when the table is too broken to say.  Used only to explain a CRC
 * mismatch as truncation or trailing data. */
static uint64_t expected_size(const layout *L, const cJSON *root) {
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "tensors");
    if (!cJSON_IsArray(arr)) return 0;
    uint64_t max_end = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        uint64_t off, nb;
        if (!json_uint(cJSON_GetObjectItemCaseSensitive(t, "offset"), &off)) return 0;
        if (!json_uint(cJSON_GetObjectItemCaseSensitive(t, "nbytes"), &nb)) return 0;
        if (off + nb > max_end) max_end = off + nb;
    }
    return L->data_start + round_up(max_end) + CRC_LEN;
}

static ic_status size_error(const layout *L, uint64_t expected, ic_error *err) {
    return ic_error_set(err, IC_ERR_FORMAT, "%s: %s: expected %llu bytes, found %zu", L->path,
                        expected > L->size ? "truncated" : "trailing data after the checksum",
                        (unsigned long long)expected, L->size);
}

/* One tensor-table entry into out; *offset gets its data offset. */
static ic_status parse_tensor(const layout *L, const cJSON *t, size_t i, ic_icw_tensor *out,
                              uint64_t *offset, ic_error *err) {
    const char *p = L->path;
    char found[40];
    if (!cJSON_IsObject(t))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensors[%zu]: expected an object, found %s", p, i, json_type(t));
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
    if (!cJSON_IsString(name))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensors[%zu]: expected \"name\" to be a string, found %s",
                            p, i, json_type(name));
    char nm[80];
    printable(name->valuestring, nm, sizeof nm);
    size_t nlen = strlen(name->valuestring);
    if (nlen == 0)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensors[%zu]: empty name", p, i);
    if (nlen >= IC_ICW_NAME_MAX)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensors[%zu]: name '%s' is %zu bytes long, expected at most %d",
                            p, i, nm, nlen, IC_ICW_NAME_MAX - 1);
    memcpy(out->name, name->valuestring, nlen + 1);

    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(t, "dtype");
    if (!cJSON_IsString(dtype))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': expected \"dtype\" to be a string, found %s",
                            p, nm, json_type(dtype));
    if (!dtype_from_name(dtype->valuestring, &out->dtype)) {
        char dt[40];
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s', expected f32, i32 or u8",
                            p, nm, printable(dtype->valuestring, dt, sizeof dt));
    }

    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    if (!cJSON_IsArray(shape))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': expected \"shape\" to be an array, found %s",
                            p, nm, json_type(shape));
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > IC_ICW_MAX_DIMS)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': expected at most %d dimensions, found %d",
                            p, nm, IC_ICW_MAX_DIMS, ndim);
    out->ndim = ndim;
    int d = 0;
    const cJSON *dim;
    cJSON_ArrayForEach(dim, shape) {
        uint64_t v;
        if (!json_uint(dim, &v))
            return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': shape[%d]: expected a non-negative integer, found %s",
                                p, nm, d, describe(dim, found, sizeof found));
        out->shape[d++] = (int64_t)v;
    }

    const char *const fields[2] = {"offset", "nbytes"};
    uint64_t val[2];
    for (int k = 0; k < 2; k++) {
        const cJSON *x = cJSON_GetObjectItemCaseSensitive(t, fields[k]);
        if (!json_uint(x, &val[k]))
            return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': expected \"%s\" to be a non-negative integer, found %s",
                                p, nm, fields[k], describe(x, found, sizeof found));
    }
    uint64_t off = val[0], nb = val[1], need;
    char shp[200];
    format_shape(shp, sizeof shp, ndim, out->shape);
    if (!shape_bytes(out->dtype, ndim, out->shape, &need))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': shape %s of %s overflows: expected at most %llu bytes",
                            p, nm, shp, ic_dtype_name(out->dtype), JSON_INT_MAX);
    if (need != nb)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': shape %s of %s needs %llu bytes, nbytes says %llu",
                            p, nm, shp, ic_dtype_name(out->dtype), (unsigned long long)need, (unsigned long long)nb);
    if (off % ALIGN != 0)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of %u",
                            p, nm, (unsigned long long)off, ALIGN);
    if (off > L->data_avail || nb > L->data_avail - off)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: tensor '%s': data [%llu, %llu) lies outside the data section of %llu bytes",
                            p, nm, (unsigned long long)off, (unsigned long long)(off + nb),
                            (unsigned long long)L->data_avail);
    out->nbytes = (size_t)nb;
    out->data = L->buf + L->data_start + off;
    *offset = off;
    return IC_OK;
}

typedef struct { uint64_t start, end; size_t idx; } span;

static int cmp_span(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* Duplicate names, overlapping data and the total size, over all tensors. */
static ic_status check_table(const layout *L, const ic_icw_file *f, const uint64_t *offset, ic_error *err) {
    size_t n = f->n_tensors;
    int oom;
    char a[80], b[80];
    const char *dup = find_duplicate(f->tensors, n, &oom);
    if (oom) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->path);
    if (dup) return ic_error_set(err, IC_ERR_FORMAT, "%s: duplicate tensor name '%s'", L->path, printable(dup, a, sizeof a));

    span *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", L->path);
    size_t m = 0;
    uint64_t max_end = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t end = offset[i] + f->tensors[i].nbytes;
        if (end > max_end) max_end = end;
        if (f->tensors[i].nbytes > 0) s[m++] = (span){offset[i], end, i};   /* empty ranges overlap nothing */
    }
    qsort(s, m, sizeof *s, cmp_span);
    ic_status st = IC_OK;
    size_t owner = 0;
    for (size_t i = 1; i < m && st == IC_OK; i++) {
        if (s[i - 1].end > s[owner].end) owner = i - 1;
        if (s[i].start < s[owner].end) {
            const ic_icw_tensor *x = &f->tensors[s[owner].idx], *y = &f->tensors[s[i].idx];
            st = ic_error_set(err, IC_ERR_FORMAT, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap",
                              L->path, printable(x->name, a, sizeof a),
                              (unsigned long long)s[owner].start, (unsigned long long)s[owner].end,
                              printable(y->name, b, sizeof b),
                              (unsigned long long)s[i].start, (unsigned long long)s[i].end);
        }
    }
    free(s);
    if (st != IC_OK) return st;
    uint64_t expected = L->data_start + round_up(max_end) + CRC_LEN;
    if (expected != L->size) return size_error(L, expected, err);
    return IC_OK;
}

/* Everything the header says, checked and copied into f. */
static ic_status load_header(const layout *L, const cJSON *root, ic_icw_file *f, ic_error *err) {
    const char *p = L->path;
    if (!cJSON_IsObject(root))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: header: expected a JSON object, found %s", p, json_type(root));
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    if (!cJSON_IsString(kind))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: header: expected \"kind\" to be a string, found %s", p, json_type(kind));
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
    if (!cJSON_IsObject(meta))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: header: expected \"meta\" to be an object, found %s", p, json_type(meta));
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "tensors");
    if (!cJSON_IsArray(arr))
        return ic_error_set(err, IC_ERR_FORMAT, "%s: header: expected \"tensors\" to be an array, found %s", p, json_type(arr));

    f->kind = strdup(kind->valuestring);
    char *meta_text = cJSON_PrintUnformatted(meta);
    f->meta_json = meta_text ? strdup(meta_text) : NULL;
    cJSON_free(meta_text);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    uint64_t *offset = malloc((n ? n : 1) * sizeof *offset);
    if (!f->kind || !f->meta_json || !f->tensors || !offset) {
        free(offset);
        return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", p);
    }
    ic_status st = IC_OK;
    size_t i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, arr) {
        st = parse_tensor(L, t, i, &f->tensors[i], &offset[i], err);
        if (st != IC_OK) break;
        f->n_tensors = ++i;
    }
    if (st == IC_OK) st = check_table(L, f, offset, err);
    free(offset);
    return st;
}

ic_icw_file *ic_icw_read(const char *path, ic_error *err) {
    if (!path) { ic_error_set(err, IC_ERR_ARG, "icw read: path is NULL"); return NULL; }
    ic_icw_file *f = calloc(1, sizeof *f);
    if (!f) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    cJSON *root = NULL;
    if (read_whole(path, f, err) != IC_OK) goto fail;

    layout L = {path, f->blob, f->blob_size, 0, 0, 0};
    if (check_prefix(&L, err) != IC_OK) goto fail;

    const char *hdr = (const char *)L.buf + PREFIX_LEN, *end = NULL;
    root = cJSON_ParseWithLengthOpts(hdr, (size_t)L.header_len, &end, 0);

    uint32_t stored = get_u32(L.buf + L.size - CRC_LEN);
    uint32_t computed = crc_update((uint32_t)crc32(0L, Z_NULL, 0), L.buf, L.size - CRC_LEN);
    if (stored != computed) {
        uint64_t expected = root ? expected_size(&L, root) : 0;
        if (expected != 0 && expected != L.size) size_error(&L, expected, err);
        else ic_error_set(err, IC_ERR_FORMAT, "%s: checksum mismatch: stored 0x%08x, computed 0x%08x",
                          path, stored, computed);
        goto fail;
    }
    if (!root) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: header is not valid JSON (error near header byte %td of %llu)",
                     path, end ? end - hdr : 0, (unsigned long long)L.header_len);
        goto fail;
    }
    for (const char *c = end; c < hdr + L.header_len; c++) {
        if (*c != ' ' && *c != '\t' && *c != '\n' && *c != '\r') {
            ic_error_set(err, IC_ERR_FORMAT, "%s: header: expected only JSON, found trailing bytes at header byte %td of %llu",
                         path, c - hdr, (unsigned long long)L.header_len);
            goto fail;
        }
    }
    if (load_header(&L, root, f, err) != IC_OK) goto fail;
    cJSON_Delete(root);
    return f;

fail:
    cJSON_Delete(root);
    ic_icw_free(f);
    return NULL;
}

const ic_icw_tensor *ic_icw_find(const ic_icw_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

void ic_icw_free(ic_icw_file *f) {
    if (!f) return;
    free(f->kind);
    free(f->meta_json);
    free(f->tensors);
    free(f->blob);
    free(f);
}
