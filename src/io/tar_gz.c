/* Streaming tar reader over zlib's gz* interface (see ic/tar_gz.h).  A tar stream is a
 * sequence of 512-byte blocks: a header block, the entry's data padded to a block
 * boundary, the next header, ..., and zero blocks at the end.  GNU 'L' and PAX 'x'
 * headers are pseudo-entries that rename or resize the entry that follows them. */
#include "ic/tar_gz.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512

struct ic_tar {
    gzFile gz;
    char *path;
    unsigned long long pos;       /* bytes consumed from the uncompressed stream */
    unsigned long long remaining; /* unread data bytes of the current entry */
    unsigned long long padding;   /* zero bytes after the data up to the block boundary */
    int done;                     /* end marker seen or an error happened */
};

/* Reads exactly n bytes or fails: a short read is a truncated archive, and zlib's
 * own diagnosis (corrupted data, bad CRC, unexpected end of file) is reported. */
static int read_exact(ic_tar *t, void *buf, size_t n, const char *what, ic_error *err) {
    size_t got = 0;
    while (got < n) {
        size_t want = n - got;
        if (want > (1u << 30)) want = 1u << 30;
        int r = gzread(t->gz, (char *)buf + got, (unsigned)want);
        if (r <= 0) {
            int zerr = Z_OK;
            const char *zmsg = gzerror(t->gz, &zerr);
            if (r < 0 || zerr != Z_OK)
                ic_error_set(err, IC_ERR_FORMAT, "%s: corrupted archive at byte %llu (%s): %s",
                             t->path, t->pos + got, what, zerr == Z_ERRNO ? strerror(errno) : zmsg);
            else
                ic_error_set(err, IC_ERR_FORMAT,
                             "%s: truncated archive: ends at byte %llu inside %s", t->path,
                             t->pos + got, what);
            t->pos += got;
            t->done = 1;
            return -1;
        }
        got += (size_t)r;
    }
    t->pos += n;
    return 0;
}

static int skip_bytes(ic_tar *t, unsigned long long n, const char *what, ic_error *err) {
    char buf[65536];
    while (n > 0) {
        size_t k = n < sizeof buf ? (size_t)n : sizeof buf;
        if (read_exact(t, buf, k, what, err)) return -1;
        n -= k;
    }
    return 0;
}

/* Numeric header field: octal digits (leading spaces, ended by NUL or space), or
 * GNU base-256 when the top bit of the first byte is set.  -1 on garbage. */
static int parse_number(const unsigned char *f, size_t len, long long *out) {
    if (f[0] & 0x80) {
        if (f[0] & 0x40) return -1; /* negative base-256: not a valid size or time here */
        unsigned long long v = f[0] & 0x3f;
        for (size_t i = 1; i < len; i++) {
            if (v >> 55) return -1;
            v = (v << 8) | f[i];
        }
        if (v > (unsigned long long)INT64_MAX) return -1;
        *out = (long long)v;
        return 0;
    }
    size_t i = 0;
    while (i < len && f[i] == ' ') i++;
    unsigned long long v = 0;
    int digits = 0;
    for (; i < len && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
        if (v >> 60) return -1;
        v = v * 8 + (unsigned)(f[i] - '0');
    }
    if (!digits) return -1;
    for (; i < len; i++)
        if (f[i] != ' ' && f[i] != '\0') return -1;
    *out = (long long)v;
    return 0;
}

/* The checksum is the sum of the header bytes with the checksum field read as spaces;
 * old writers summed signed chars, so both sums are accepted. */
static int checksum_ok(const unsigned char *h) {
    long long stored;
    if (parse_number(h + 148, 8, &stored)) return 0;
    long long us = 0, ss = 0;
    for (int i = 0; i < BLOCK; i++) {
        int c = (i >= 148 && i < 156) ? ' ' : h[i];
        us += (unsigned char)c;
        ss += (signed char)c;
    }
    return stored == us || stored == ss;
}

static void copy_field(char *dst, const unsigned char *src, size_t len) {
    size_t n = strnlen((const char *)src, len);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void normalise_name(char *name) {
    char *p = name;
    while (p[0] == '.' && p[1] == '/') {
        p += 2;
        while (*p == '/') p++;
    }
    if (p != name) memmove(name, p, strlen(p) + 1);
}

/* PAX extended header records: "LEN key=value\n" repeated.  Only path, size and
 * mtime matter here; other keys are ignored. */
static int parse_pax(ic_tar *t, char *data, size_t n, char *name, int *have_name,
                     long long *size, int *have_size, long long *mtime, int *have_mtime,
                     ic_error *err) {
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && data[j] >= '0' && data[j] <= '9' && len <= n) len = len * 10 + (size_t)(data[j++] - '0');
        if (j >= n || data[j] != ' ' || len == 0 || len > n - i || data[i + len - 1] != '\n') {
            ic_error_set(err, IC_ERR_FORMAT, "%s: bad PAX header record near byte %llu", t->path, t->pos);
            return -1;
        }
        char *key = data + j + 1, *end = data + i + len - 1;
        char *eq = memchr(key, '=', (size_t)(end - key));
        if (!eq) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: bad PAX header record near byte %llu", t->path, t->pos);
            return -1;
        }
        size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);
        const char *val = eq + 1;
        if (klen == 4 && !memcmp(key, "path", 4)) {
            if (vlen >= IC_TAR_NAME_MAX) {
                ic_error_set(err, IC_ERR_FORMAT, "%s: PAX path longer than %d bytes", t->path, IC_TAR_NAME_MAX - 1);
                return -1;
            }
            memcpy(name, val, vlen);
            name[vlen] = '\0';
            *have_name = 1;
        } else if ((klen == 4 && !memcmp(key, "size", 4)) || (klen == 5 && !memcmp(key, "mtime", 5))) {
            long long v = 0;
            size_t k = 0;
            for (; k < vlen && val[k] >= '0' && val[k] <= '9'; k++) {
                if (v > (INT64_MAX - 9) / 10) break;
                v = v * 10 + (val[k] - '0');
            }
            int is_size = klen == 4;
            /* size must be a plain integer; mtime may carry a fraction */
            if (k == 0 || (k < vlen && (is_size || val[k] != '.'))) {
                ic_error_set(err, IC_ERR_FORMAT, "%s: bad PAX %s record near byte %llu", t->path,
                             is_size ? "size" : "mtime", t->pos);
                return -1;
            }
            if (is_size) { *size = v; *have_size = 1; }
            else { *mtime = v; *have_mtime = 1; }
        }
        i += len;
    }
    return 0;
}

/* After the end marker: read the rest of the stream (tar's record padding, usually
 * under 10 KB) so that a truncated or corrupted gzip trailer still fails its CRC. */
static int drain(ic_tar *t, ic_error *err) {
    char buf[16384];
    int r;
    while ((r = gzread(t->gz, buf, sizeof buf)) > 0) t->pos += (unsigned long long)r;
    int zerr = Z_OK;
    const char *zmsg = gzerror(t->gz, &zerr);
    t->done = 1;
    if (r < 0 || zerr != Z_OK) {
        ic_error_set(err, IC_ERR_FORMAT, "%s: corrupted archive after the end-of-archive marker (byte %llu): %s",
                     t->path, t->pos, zerr == Z_ERRNO ? strerror(errno) : zmsg);
        return -1;
    }
    return 0;
}

ic_tar *ic_tar_open(const char *path, ic_error *err) {
    ic_tar *t = calloc(1, sizeof *t);
    if (!t) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    t->path = strdup(path);
    if (!t->path) { free(t); ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return NULL; }
    errno = 0;
    t->gz = gzopen(path, "rb");
    if (!t->gz) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, errno ? strerror(errno) : "out of memory");
        ic_tar_close(t);
        return NULL;
    }
    gzbuffer(t->gz, 1 << 18);
    return t;
}

int ic_tar_next(ic_tar *t, ic_tar_entry *e, ic_error *err) {
    if (t->done) return 0;
    if (t->remaining + t->padding) {
        if (skip_bytes(t, t->remaining + t->padding, "entry data", err)) return -1;
        t->remaining = t->padding = 0;
    }
    char long_name[IC_TAR_NAME_MAX];
    int have_long = 0, have_size = 0, have_mtime = 0;
    long long pax_size = 0, pax_mtime = 0;
    for (;;) {
        unsigned char h[BLOCK];
        unsigned long long at = t->pos;
        if (read_exact(t, h, BLOCK, "a header", err)) return -1;
        int zero = 1;
        for (int i = 0; i < BLOCK && zero; i++) zero = h[i] == 0;
        if (zero) {
            if (have_long || have_size) {
                ic_error_set(err, IC_ERR_FORMAT, "%s: end of archive right after an extended header", t->path);
                t->done = 1;
                return -1;
            }
            return drain(t, err);
        }
        long long size, mtime;
        if (!checksum_ok(h)) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: bad tar header checksum at byte %llu", t->path, at);
            t->done = 1;
            return -1;
        }
        if (parse_number(h + 124, 12, &size) || parse_number(h + 136, 12, &mtime)) {
            ic_error_set(err, IC_ERR_FORMAT, "%s: bad size or mtime field in the tar header at byte %llu",
                         t->path, at);
            t->done = 1;
            return -1;
        }
        char type = (char)h[156];
        unsigned long long pad = (BLOCK - (unsigned long long)size % BLOCK) % BLOCK;
        if (type == 'L' || type == 'x') {
            if (size <= 0 || size > 1 << 20) {
                ic_error_set(err, IC_ERR_FORMAT, "%s: %s header of %lld bytes at byte %llu", t->path,
                             type == 'L' ? "GNU long-name" : "PAX", size, at);
                t->done = 1;
                return -1;
            }
            char *data = malloc((size_t)size + 1);
            if (!data) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", t->path); t->done = 1; return -1; }
            if (read_exact(t, data, (size_t)size, "an extended header", err) ||
                skip_bytes(t, pad, "an extended header", err)) { free(data); return -1; }
            data[size] = '\0';
            int rc = 0;
            if (type == 'L') {
                size_t n = strnlen(data, (size_t)size);
                if (n >= IC_TAR_NAME_MAX) {
                    ic_error_set(err, IC_ERR_FORMAT, "%s: long name over %d bytes at byte %llu", t->path,
                                 IC_TAR_NAME_MAX - 1, at);
                    rc = -1;
                } else {
                    memcpy(long_name, data, n + 1);
                    have_long = 1;
                }
            } else {
                rc = parse_pax(t, data, (size_t)size, long_name, &have_long, &pax_size, &have_size,
                               &pax_mtime, &have_mtime, err);
            }
            free(data);
            if (rc) { t->done = 1; return -1; }
            continue;
        }
        if (type == 'g' || type == 'K') {  /* PAX globals, GNU long link names: not needed */
            if (skip_bytes(t, (unsigned long long)size + pad, "an extended header", err)) return -1;
            continue;
        }
        if (have_size) size = pax_size;
        if (have_mtime) mtime = pax_mtime;
        if (type >= '1' && type <= '6') size = 0; /* links, devices, directories, fifos carry no data */
        if (have_long) {
            memcpy(e->name, long_name, strlen(long_name) + 1);
        } else {
            char name[101], prefix[156];
            copy_field(name, h, 100);
            prefix[0] = '\0';
            if (!memcmp(h + 257, "ustar", 5)) copy_field(prefix, h + 345, 155);
            if (prefix[0]) snprintf(e->name, sizeof e->name, "%s/%s", prefix, name);
            else memcpy(e->name, name, strlen(name) + 1);
        }
        normalise_name(e->name);
        e->type = type == '\0' ? '0' : type;
        e->size = (unsigned long long)size;
        e->mtime = mtime;
        e->offset = at;
        t->remaining = (unsigned long long)size;
        t->padding = (BLOCK - t->remaining % BLOCK) % BLOCK;
        return 1;
    }
}

long long ic_tar_read(ic_tar *t, void *buf, size_t n, ic_error *err) {
    if (n > t->remaining) n = (size_t)t->remaining;
    if (n == 0) return 0;
    if (read_exact(t, buf, n, "entry data", err)) return -1;
    t->remaining -= n;
    return (long long)n;
}

ic_status ic_tar_read_all(ic_tar *t, size_t max, char **data, size_t *n, ic_error *err) {
    *data = NULL;
    *n = 0;
    if (t->remaining > max)
        return ic_error_set(err, IC_ERR_FORMAT, "%s: entry of %llu bytes is larger than the %zu allowed",
                            t->path, t->remaining, max);
    size_t len = (size_t)t->remaining;
    char *buf = malloc(len + 1);
    if (!buf) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory for a %zu-byte entry", t->path, len);
    if (ic_tar_read(t, buf, len, err) != (long long)len) { free(buf); return err ? err->code : IC_ERR_FORMAT; }
    buf[len] = '\0';
    *data = buf;
    *n = len;
    return IC_OK;
}

void ic_tar_close(ic_tar *t) {
    if (!t) return;
    if (t->gz) gzclose(t->gz);
    free(t->path);
    free(t);
}
