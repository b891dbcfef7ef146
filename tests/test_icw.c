/* Tests for the .icw container (src/io/icw.c): exact byte layout, bit-identical
 * round trip, alignment, one test per kind of corruption with its message,
 * hand-crafted files with a valid CRC to reach the checks behind it, atomic
 * writes, and a seeded mutation loop.  Files live in a mkdtemp directory that
 * each test's fixture creates and removes. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/icw.h"
#include <cjson/cJSON.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char g_dir[64];   /* per-test temp directory (each test runs in its own process) */

static void setup(void) { ic_test_mkdtemp(g_dir, sizeof g_dir, "icw"); }
static void teardown(void) { ic_test_rmtree(g_dir); }
static const char *tpath(const char *name) { return ic_test_path(g_dir, name); }

static int exists(const char *p) { return access(p, F_OK) == 0; }

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const unsigned char *p) {
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}
static void set_le32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> 8 * i); }
static void set_le64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> 8 * i); }

/* Rewrites the trailer so the CRC is valid for the bytes before it. */
static void fix_crc(unsigned char *b, size_t n) {
    set_le32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4)));
}

/* Assembles a file from a header string and data bytes with a correct CRC,
 * so the checks behind the CRC are reached.  data_len bytes follow data_start. */
static void craft(const char *path, const char *header, const void *data, size_t data_len) {
    size_t hl = strlen(header);
    size_t ds = (24 + hl + 63) / 64 * 64;
    size_t n = ds + data_len + 4;
    unsigned char *b = calloc(1, n);
    ck_assert_ptr_nonnull(b);
    memcpy(b, "ICWEIGHT", 8);
    set_le32(b + 8, 1);
    set_le64(b + 16, hl);
    memcpy(b + 24, header, hl);
    if (data_len) memcpy(b + ds, data, data_len);
    fix_crc(b, n);
    ic_test_write_file(path, b, n);
    free(b);
}

/* Reads path expecting failure with code and a message holding phrase and the path. */
static void expect_reject(const char *path, ic_status code, const char *phrase) {
    ic_error err;
    ic_error_clear(&err);
    ic_icw_file *f = ic_icw_read(path, &err);
    if (f) ic_icw_free(f);
    ck_assert_msg(f == NULL, "%s: accepted, expected rejection with '%s'", path, phrase);
    ck_assert_msg(err.code == code, "code %d, expected %d (%s)", err.code, code, err.msg);
    ck_assert_msg(strstr(err.msg, phrase) != NULL, "message '%s' lacks '%s'", err.msg, phrase);
    ck_assert_msg(strstr(err.msg, path) != NULL, "message '%s' does not name the file", err.msg);
    ck_assert_msg(strchr(err.msg, '\n') == NULL, "message is not one line: '%s'", err.msg);
}

/* ------------------------------------------------------------ sample file */

enum { N_SAMPLE = 7 };
typedef struct {
    float conv[4 * 3 * 3 * 3], scalar, fc[10 * 7], bias[10];
    int32_t idx[5];
    uint8_t mask[13];
    ic_icw_tensor t[N_SAMPLE];
} sample;

static const char *SAMPLE_META =
    "{\"arch\":{\"layers\":[{\"type\":\"conv\",\"k\":3,\"pad\":[1,1]},{\"type\":\"dense\",\"units\":10}]},"
    "\"labels\":[\"brass\",\"guitar\",\"\\u00e9t\\\"\"],\"rate\":16000,\"mean\":-0.00125,"
    "\"tiny\":1e-300,\"big\":123456789012345678,\"flag\":true,\"none\":null,\"empty\":{}}";

static void tensor(ic_icw_tensor *t, const char *name, ic_dtype dt, int ndim, const int64_t *shape,
                   const void *data) {
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->dtype = dt;
    t->ndim = ndim;
    size_t n = ic_dtype_size(dt);
    for (int d = 0; d < ndim; d++) { t->shape[d] = shape[d]; n *= (size_t)shape[d]; }
    t->nbytes = n;
    t->data = data;
}

static void make_sample(sample *s) {
    ic_rng r;
    ic_rng_seed(&r, 42);
    ic_test_fill(s->conv, 108, &r, -1, 1);
    s->scalar = -3.25f;
    ic_test_fill(s->fc, 70, &r, -1, 1);
    ic_test_fill(s->bias, 10, &r, -1, 1);
    for (int i = 0; i < 5; i++) s->idx[i] = (int32_t)ic_rng_u64(&r);
    for (int i = 0; i < 13; i++) s->mask[i] = (uint8_t)ic_rng_u64(&r);
    tensor(&s->t[0], "conv1.w", IC_DTYPE_F32, 4, (const int64_t[]){4, 3, 3, 3}, s->conv);
    tensor(&s->t[1], "scale", IC_DTYPE_F32, 0, NULL, &s->scalar);
    tensor(&s->t[2], "fc.w", IC_DTYPE_F32, 2, (const int64_t[]){10, 7}, s->fc);
    tensor(&s->t[3], "fc.b", IC_DTYPE_F32, 1, (const int64_t[]){10}, s->bias);
    tensor(&s->t[4], "label_idx", IC_DTYPE_I32, 1, (const int64_t[]){5}, s->idx);
    tensor(&s->t[5], "mask", IC_DTYPE_U8, 1, (const int64_t[]){13}, s->mask);
    tensor(&s->t[6], "empty", IC_DTYPE_F32, 2, (const int64_t[]){0, 4}, NULL);
}

static void write_sample(const char *path, sample *s) {
    make_sample(s);
    ic_error err;
    ic_status st = ic_icw_write(path, "model", SAMPLE_META, s->t, N_SAMPLE, &err);
    ck_assert_msg(st == IC_OK, "write failed: %s", err.msg);
}

static int json_equal(const char *a, const char *b) {
    cJSON *x = cJSON_Parse(a), *y = cJSON_Parse(b);
    int eq = x && y && cJSON_Compare(x, y, 1);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return eq;
}

/* data_start of a well-formed file image. */
static size_t data_start_of(const unsigned char *b) { return (size_t)((24 + le64(b + 16) + 63) / 64 * 64); }

/* ------------------------------------------------------------------ tests */

START_TEST(test_dtype_helpers) {
    ck_assert_uint_eq(ic_dtype_size(IC_DTYPE_F32), 4);
    ck_assert_uint_eq(ic_dtype_size(IC_DTYPE_I32), 4);
    ck_assert_uint_eq(ic_dtype_size(IC_DTYPE_U8), 1);
    ck_assert_str_eq(ic_dtype_name(IC_DTYPE_F32), "f32");
    ck_assert_str_eq(ic_dtype_name(IC_DTYPE_I32), "i32");
    ck_assert_str_eq(ic_dtype_name(IC_DTYPE_U8), "u8");
}
END_TEST

/* The layout of header.h, byte by byte, for a one-tensor file. */
START_TEST(test_exact_layout) {
    const char *p = tpath("tiny.icw");
    const uint8_t data[3] = {1, 2, 3};
    ic_icw_tensor t;
    tensor(&t, "a", IC_DTYPE_U8, 1, (const int64_t[]){3}, data);
    ic_error err;
    ck_assert_int_eq(ic_icw_write(p, "t", NULL, &t, 1, &err), IC_OK);
    const char *hdr = "{\"kind\":\"t\",\"meta\":{},\"tensors\":[{\"name\":\"a\",\"dtype\":\"u8\","
                      "\"shape\":[3],\"offset\":0,\"nbytes\":3}]}";
    size_t hl = strlen(hdr), ds = (24 + hl + 63) / 64 * 64, n;
    unsigned char *b = ic_test_slurp(p, &n);
    ck_assert_uint_eq(n, ds + 64 + 4);
    ck_assert_int_eq(memcmp(b, "ICWEIGHT", 8), 0);
    ck_assert_uint_eq(le32(b + 8), 1);
    ck_assert_uint_eq(le32(b + 12), 0);
    ck_assert_uint_eq(le64(b + 16), hl);
    ck_assert_int_eq(memcmp(b + 24, hdr, hl), 0);
    for (size_t i = 24 + hl; i < ds; i++) ck_assert_uint_eq(b[i], 0);
    ck_assert_int_eq(memcmp(b + ds, data, 3), 0);
    for (size_t i = ds + 3; i < ds + 64; i++) ck_assert_uint_eq(b[i], 0);
    ck_assert_uint_eq(le32(b + n - 4), (uint32_t)crc32(0L, b, (uInt)(n - 4)));
    free(b);
}
END_TEST

START_TEST(test_round_trip) {
    const char *p1 = tpath("a.icw"), *p2 = tpath("b.icw");
    sample s;
    write_sample(p1, &s);
    ic_error err;
    ic_icw_file *f = ic_icw_read(p1, &err);
    ck_assert_msg(f != NULL, "read failed: %s", err.msg);
    ck_assert_str_eq(f->kind, "model");
    ck_assert(json_equal(f->meta_json, SAMPLE_META));
    ck_assert_uint_eq(f->n_tensors, N_SAMPLE);
    for (size_t i = 0; i < N_SAMPLE; i++) {
        const ic_icw_tensor *a = &s.t[i], *b = &f->tensors[i];
        ck_assert_str_eq(b->name, a->name);
        ck_assert_int_eq(b->dtype, a->dtype);
        ck_assert_int_eq(b->ndim, a->ndim);
        for (int d = 0; d < a->ndim; d++) ck_assert_int_eq(b->shape[d], a->shape[d]);
        ck_assert_uint_eq(b->nbytes, a->nbytes);
        if (a->nbytes) ck_assert_int_eq(memcmp(b->data, a->data, a->nbytes), 0);
        ck_assert_ptr_eq(ic_icw_find(f, a->name), b);
    }
    ck_assert_ptr_null(ic_icw_find(f, "nope"));
    ck_assert_ptr_null(ic_icw_find(NULL, "scale"));
    ck_assert(*(const float *)ic_icw_find(f, "scale")->data == -3.25f);

    /* writing what was read gives the same bytes */
    ck_assert_int_eq(ic_icw_write(p2, f->kind, f->meta_json, f->tensors, f->n_tensors, &err), IC_OK);
    size_t n1, n2;
    unsigned char *b1 = ic_test_slurp(p1, &n1), *b2 = ic_test_slurp(p2, &n2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_int_eq(memcmp(b1, b2, n1), 0);
    free(b1);
    free(b2);
    ic_icw_free(f);
}
END_TEST

START_TEST(test_empty_file_of_tensors) {
    const char *p = tpath("none.icw");
    ic_error err;
    ck_assert_int_eq(ic_icw_write(p, "checkpoint", "{\"step\":7}", NULL, 0, &err), IC_OK);
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    ck_assert_uint_eq(f->n_tensors, 0);
    ck_assert_str_eq(f->kind, "checkpoint");
    ck_assert_str_eq(f->meta_json, "{\"step\":7}");
    ck_assert_uint_eq(f->blob_size % 64, 4);
    ic_icw_free(f);
    ic_icw_free(NULL);
}
END_TEST

START_TEST(test_alignment) {
    const char *p = tpath("a.icw");
    sample s;
    write_sample(p, &s);
    ic_error err;
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    for (size_t i = 0; i < f->n_tensors; i++)
        ck_assert_msg((uintptr_t)f->tensors[i].data % 64 == 0, "tensor %zu data not 64-aligned", i);

    /* and in the file: data_start and every offset, with zero padding */
    size_t n;
    unsigned char *b = ic_test_slurp(p, &n);
    size_t hl = (size_t)le64(b + 16), ds = data_start_of(b);
    ck_assert_uint_eq(ds % 64, 0);
    for (size_t i = 24 + hl; i < ds; i++) ck_assert_uint_eq(b[i], 0);
    cJSON *h = cJSON_ParseWithLength((const char *)b + 24, hl);
    ck_assert_ptr_nonnull(h);
    const cJSON *t;
    size_t count = 0, prev_end = 0;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(h, "tensors")) {
        size_t off = (size_t)cJSON_GetObjectItem(t, "offset")->valuedouble;
        size_t nb = (size_t)cJSON_GetObjectItem(t, "nbytes")->valuedouble;
        ck_assert_uint_eq(off % 64, 0);
        for (size_t i = prev_end; i < off; i++) ck_assert_uint_eq(b[ds + i], 0);
        ck_assert_uint_eq((size_t)((const unsigned char *)f->tensors[count].data - (const unsigned char *)f->blob), ds + off);
        prev_end = off + nb;
        count++;
    }
    ck_assert_uint_eq(count, N_SAMPLE);
    cJSON_Delete(h);
    free(b);
    ic_icw_free(f);
}
END_TEST

/* A valid sample file image for the corruption tests. */
static unsigned char *sample_bytes(size_t *n) {
    const char *p = tpath("orig.icw");
    sample s;
    write_sample(p, &s);
    return ic_test_slurp(p, n);
}

START_TEST(test_bad_magic) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    b[0] = 'X';
    const char *p = tpath("magic.icw");
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "not an ic weights file (bad magic)");
    ic_test_write_file(p, "hello world, this is text and not weights", 41);
    expect_reject(p, IC_ERR_FORMAT, "bad magic");
    ic_test_write_file(p, "ICX", 3);
    expect_reject(p, IC_ERR_FORMAT, "bad magic");
    free(b);
}
END_TEST

START_TEST(test_wrong_version) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    const char *p = tpath("ver.icw");
    set_le32(b + 8, 7);
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_UNSUPPORTED, "format version 7, this build reads version 1");
    set_le32(b + 8, 0);
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "format version 0, this build reads version 1");
    set_le32(b + 8, 1);
    set_le32(b + 12, 2);
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_UNSUPPORTED, "flags");
    free(b);
}
END_TEST

START_TEST(test_truncated) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    size_t ds = data_start_of(b);
    const char *p = tpath("cut.icw");
    ic_test_write_file(p, b, 0);
    expect_reject(p, IC_ERR_FORMAT, "empty file");
    ic_test_write_file(p, b, 5);
    expect_reject(p, IC_ERR_FORMAT, "truncated");
    ic_test_write_file(p, b, 20);
    expect_reject(p, IC_ERR_FORMAT, "truncated: expected at least 24 bytes");
    ic_test_write_file(p, b, 60);   /* inside the header */
    expect_reject(p, IC_ERR_FORMAT, "truncated: expected at least");
    size_t cuts[] = {ds + 6, ds + 100, n - 5, n - 4, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        char want[96];
        snprintf(want, sizeof want, "truncated: expected %zu bytes, found %zu", n, cuts[i]);
        ic_test_write_file(p, b, cuts[i]);
        expect_reject(p, IC_ERR_FORMAT, want);
    }
    free(b);
}
END_TEST

START_TEST(test_trailing_garbage) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    unsigned char *g = calloc(1, n + 64);
    ck_assert_ptr_nonnull(g);
    memcpy(g, b, n);
    memcpy(g + n, "garbage!", 8);
    const char *p = tpath("long.icw");
    char want[96];
    snprintf(want, sizeof want, "trailing data after the checksum: expected %zu bytes, found %zu", n, n + 8);
    ic_test_write_file(p, g, n + 8);
    expect_reject(p, IC_ERR_FORMAT, want);
    /* a whole extra block with the CRC made valid again: only the size check can tell */
    fix_crc(g, n + 64);
    ic_test_write_file(p, g, n + 64);
    snprintf(want, sizeof want, "expected %zu bytes, found %zu", n, n + 64);
    expect_reject(p, IC_ERR_FORMAT, want);
    free(g);
    free(b);
}
END_TEST

START_TEST(test_bit_flips) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    size_t ds = data_start_of(b);
    const char *p = tpath("flip.icw");
    size_t pos[] = {ds + 1, ds + 64 * 2 + 3, n - 5, n - 2};   /* data, data, padding, the CRC itself */
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++) {
        b[pos[i]] ^= 0x10;
        ic_test_write_file(p, b, n);
        expect_reject(p, IC_ERR_FORMAT, "checksum mismatch: stored 0x");
        b[pos[i]] ^= 0x10;
    }
    /* in the header: a flip the JSON survives ("model" -> "moeel") and one it does not */
    char *k = memmem(b + 24, n - 24, "\"model\"", 7);
    ck_assert_ptr_nonnull(k);
    k[3] ^= 0x01;
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "checksum mismatch");
    k[3] ^= 0x01;
    b[24] ^= 0x04;   /* '{' -> '\x7f' */
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "checksum mismatch");
    b[24] ^= 0x04;
    ic_test_write_file(p, b, n);   /* restored: readable again */
    ic_error err;
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    ic_icw_free(f);
    free(b);
}
END_TEST

START_TEST(test_header_len) {
    size_t n;
    unsigned char *b = sample_bytes(&n);
    const char *p = tpath("hl.icw");
    uint64_t bad[] = {UINT64_MAX, (uint64_t)-64, 1ull << 40, (1ull << 30) + 1};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        set_le64(b + 16, bad[i]);
        ic_test_write_file(p, b, n);
        expect_reject(p, IC_ERR_FORMAT, "is absurd");
    }
    set_le64(b + 16, n);   /* plausible but beyond the file */
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "truncated");
    set_le64(b + 16, 10);  /* inside the JSON, CRC repaired: the cut JSON is invalid */
    fix_crc(b, n);
    ic_test_write_file(p, b, n);
    expect_reject(p, IC_ERR_FORMAT, "not valid JSON");
    free(b);
}
END_TEST

START_TEST(test_io_errors) {
    ic_error err;
    const char *p = tpath("does-not-exist.icw");
    ck_assert_ptr_null(ic_icw_read(p, &err));
    ck_assert_int_eq(err.code, IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, p));
    ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
    ck_assert_ptr_null(ic_icw_read(g_dir, &err));
    ck_assert_int_eq(err.code, IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "not a regular file"));
}
END_TEST

/* Hand-crafted headers with a valid CRC: each reaches one check behind it. */
START_TEST(test_crafted) {
    unsigned char data[256];
    for (int i = 0; i < 256; i++) data[i] = (unsigned char)i;
    const char *p = tpath("craft.icw");
#define T(name, dtype, shape, off, nb) \
    "{\"name\":" name ",\"dtype\":" dtype ",\"shape\":" shape ",\"offset\":" off ",\"nbytes\":" nb "}"
#define H(tensors) "{\"kind\":\"model\",\"meta\":{\"x\":1},\"tensors\":[" tensors "]}"
    const struct { const char *header; size_t data_len; const char *phrase; } cases[] = {
        {H(T("\"w\"", "\"f32\"", "[2,3]", "0", "20")), 64, "shape [2,3] of f32 needs 24 bytes, nbytes says 20"},
        {H(T("\"w\"", "\"f32\"", "[2,3]", "128", "24")), 64, "outside the data section of 64 bytes"},
        {H(T("\"w\"", "\"u8\"", "[64]", "64", "64")), 64, "outside the data section"},
        {H(T("\"w\"", "\"u8\"", "[8]", "9007199254740992", "8")), 64, "outside the data section"},
        {H(T("\"w\"", "\"f32\"", "[2,3]", "8", "24")), 64, "offset 8 is not a multiple of 64"},
        {H(T("\"a\"", "\"f32\"", "[16]", "0", "64") "," T("\"b\"", "\"u8\"", "[8]", "0", "8")), 64, "overlap"},
        {H(T("\"a\"", "\"f32\"", "[32]", "0", "128") "," T("\"b\"", "\"u8\"", "[8]", "64", "8")), 128,
         "tensors 'a' [0, 128) and 'b' [64, 72) overlap"},
        {H(T("\"a\"", "\"u8\"", "[8]", "0", "8") "," T("\"a\"", "\"u8\"", "[8]", "64", "8")), 128,
         "duplicate tensor name 'a'"},
        {H(T("\"w\"", "\"f16\"", "[2]", "0", "4")), 64, "unknown dtype 'f16'"},
        {H(T("\"w\"", "7", "[2]", "0", "4")), 64, "expected \"dtype\" to be a string, found a number"},
        {H(T("\"w\"", "\"u8\"", "[1,1,1,1,1,1,1,1,1]", "0", "1")), 64, "expected at most 8 dimensions, found 9"},
        {H(T("\"w\"", "\"u8\"", "[1099511627776,1099511627776,1099511627776]", "0", "1")), 64, "overflows"},
        {H(T("\"w\"", "\"u8\"", "[-1]", "0", "0")), 64, "shape[0]: expected a non-negative integer, found -1"},
        {H(T("\"w\"", "\"u8\"", "[1.5]", "0", "1")), 64, "found 1.5"},
        {H(T("\"w\"", "\"u8\"", "3", "0", "3")), 64, "expected \"shape\" to be an array"},
        {H(T("\"w\"", "\"u8\"", "[4]", "-64", "4")), 64, "expected \"offset\" to be a non-negative integer, found -64"},
        {H(T("\"w\"", "\"u8\"", "[4]", "1e300", "4")), 64, "\"offset\" to be a non-negative integer"},
        {H(T("\"w\"", "\"u8\"", "[4]", "0", "\"4\"")), 64, "expected \"nbytes\" to be a non-negative integer, found a string"},
        {H("{\"name\":\"w\",\"dtype\":\"u8\",\"shape\":[4],\"offset\":0}"), 64, "\"nbytes\" to be a non-negative integer, found nothing"},
        {H(T("3", "\"u8\"", "[4]", "0", "4")), 64, "expected \"name\" to be a string"},
        {H(T("\"\"", "\"u8\"", "[4]", "0", "4")), 64, "empty name"},
        {H(T("\"" "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789" "\"",
             "\"u8\"", "[4]", "0", "4")), 64, "is 100 bytes long, expected at most 95"},
        {H("[]"), 0, "tensors[0]: expected an object, found an array"},
        {"{\"kind\":\"model\",\"meta\":{},\"tensors\":[", 0, "not valid JSON"},
        {"this is not json", 0, "not valid JSON"},
        {"", 0, "not valid JSON"},
        {"[1,2]", 0, "header: expected a JSON object, found an array"},
        {"{\"kind\":1,\"meta\":{},\"tensors\":[]}", 0, "expected \"kind\" to be a string, found a number"},
        {"{\"kind\":\"m\",\"meta\":[],\"tensors\":[]}", 0, "expected \"meta\" to be an object, found an array"},
        {"{\"kind\":\"m\",\"tensors\":[]}", 0, "expected \"meta\" to be an object, found nothing"},
        {"{\"kind\":\"m\",\"meta\":{},\"tensors\":{}}", 0, "expected \"tensors\" to be an array, found an object"},
        {"{\"kind\":\"m\",\"meta\":{},\"tensors\":[]} x", 0, "found trailing bytes"},
        {"{\"kind\":\"m\",\"meta\":{},\"tensors\":[]}", 64, "trailing data after the checksum: expected"},
        {H(T("\"w\"", "\"u8\"", "[4]", "64", "4")), 64, "outside the data section"},
    };
#undef T
#undef H
    ic_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        craft(p, cases[i].header, data, cases[i].data_len);
        expect_reject(p, IC_ERR_FORMAT, cases[i].phrase);
    }
    /* controls: hand-crafted files the reader accepts, so the cases above fail for their own reason */
    craft(p, "{\"kind\":\"model\",\"meta\":{\"x\":1},\"tensors\":[]}", data, 0);
    ic_icw_file *e = ic_icw_read(p, &err);
    ck_assert_msg(e != NULL, "%s", err.msg);
    ck_assert_uint_eq(e->n_tensors, 0);
    ck_assert_str_eq(e->meta_json, "{\"x\":1}");
    ic_icw_free(e);
    craft(p, "{\"kind\":\"m\",\"meta\":{},\"tensors\":[{\"name\":\"w\",\"dtype\":\"i32\",\"shape\":[2,3],"
             "\"offset\":64,\"nbytes\":24},{\"name\":\"z\",\"dtype\":\"u8\",\"shape\":[0],\"offset\":64,\"nbytes\":0}],"
             "\"future\":\"ignored\"}", data, 128);
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    ck_assert_uint_eq(f->n_tensors, 2);
    ck_assert_int_eq(memcmp(ic_icw_find(f, "w")->data, data + 64, 24), 0);
    ic_icw_free(f);
}
END_TEST

START_TEST(test_writer_rejects) {
    sample s;
    make_sample(&s);
    const char *p = tpath("w.icw");
    ic_error err;
    ck_assert_int_eq(ic_icw_write(p, "m", "[1,2]", s.t, 2, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "meta_json"));
    ck_assert_int_eq(ic_icw_write(p, "m", "{\"a\":", s.t, 2, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_icw_write(p, "m", "{} {}", s.t, 2, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_icw_write(p, NULL, NULL, s.t, 2, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, NULL, 2, &err), IC_ERR_ARG);

    ic_icw_tensor t[2] = {s.t[2], s.t[3]};
    t[0].nbytes -= 4;
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "needs 280 bytes, nbytes is 276"));
    t[0] = s.t[2];
    snprintf(t[1].name, sizeof t[1].name, "%s", t[0].name);
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(err.msg, "duplicate tensor name 'fc.w'"));
    t[1] = s.t[3];
    t[1].ndim = IC_ICW_MAX_DIMS + 1;
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    t[1] = s.t[3];
    t[1].dtype = (ic_dtype)9;
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    t[1] = s.t[3];
    t[1].shape[0] = -10;
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    t[1] = s.t[3];
    memset(t[1].name, 'x', sizeof t[1].name);
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    t[1] = s.t[3];
    t[1].data = NULL;
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, t, 2, &err), IC_ERR_ARG);
    ck_assert(!exists(p));
    ck_assert(!exists(tpath("w.icw.tmp")));
}
END_TEST

START_TEST(test_atomic_write) {
    sample s;
    make_sample(&s);
    ic_error err;
    /* no directory: IO error, nothing created */
    const char *missing = tpath("no/such/dir/x.icw");
    ck_assert_int_eq(ic_icw_write(missing, "m", NULL, s.t, N_SAMPLE, &err), IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
    ck_assert(!exists(missing));

    const char *p = tpath("keep.icw"), *tmp = tpath("keep.icw.tmp");
    write_sample(p, &s);
    size_t n0, n1;
    unsigned char *before = ic_test_slurp(p, &n0);

    /* invalid arguments: the old file stays, no temp left */
    ck_assert_int_eq(ic_icw_write(p, "m", "not json", s.t, N_SAMPLE, &err), IC_ERR_ARG);
    /* the temp name is taken by a directory: fopen fails */
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, s.t, 1, &err), IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, tmp));
    ck_assert_int_eq(rmdir(tmp), 0);
    unsigned char *after = ic_test_slurp(p, &n1);
    ck_assert_uint_eq(n0, n1);
    ck_assert_int_eq(memcmp(before, after, n0), 0);
    ck_assert(!exists(tmp));

    /* rename fails (target is a non-empty directory): temp removed, directory untouched */
    const char *dir = tpath("adir");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ic_test_write_file(tpath("adir/inside"), "x", 1);
    ck_assert_int_eq(ic_icw_write(dir, "m", NULL, s.t, 1, &err), IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "rename"));
    ck_assert(!exists(tpath("adir.tmp")));
    ck_assert(exists(tpath("adir/inside")));

    /* a successful overwrite replaces the file and leaves no temp */
    ck_assert_int_eq(ic_icw_write(p, "m", NULL, s.t, 1, &err), IC_OK);
    ck_assert(!exists(tmp));
    ic_icw_file *f = ic_icw_read(p, &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    ck_assert_uint_eq(f->n_tensors, 1);
    ic_icw_free(f);
    free(before);
    free(after);
}
END_TEST

/* Seeded mutations: the reader never crashes and either rejects with a
 * message naming the file or returns a self-consistent file. */
START_TEST(test_fuzz) {
    size_t n;
    unsigned char *orig = sample_bytes(&n);
    unsigned char *b = malloc(n + 256);
    ck_assert_ptr_nonnull(b);
    size_t hl = (size_t)le64(orig + 16);
    const char *p = tpath("fuzz.icw");
    ic_rng r;
    ic_rng_seed(&r, 1234);
    int rejected = 0, accepted = 0;
    for (int it = 0; it < 400; it++) {
        memcpy(b, orig, n);
        size_t len = n;
        int kind = (int)ic_rng_below(&r, 6);
        switch (kind) {
        case 0: b[ic_rng_below(&r, n)] ^= (unsigned char)(1u << ic_rng_below(&r, 8)); break;
        case 1: len = (size_t)ic_rng_below(&r, n); break;
        case 2: set_le64(b + 16, ic_rng_below(&r, 4) == 0 ? ic_rng_u64(&r) : ic_rng_below(&r, 2 * n)); break;
        case 3: b[ic_rng_below(&r, n)] = (unsigned char)ic_rng_u64(&r);
                len = n + (size_t)ic_rng_below(&r, 256);
                break;
        default: /* header bytes changed and the CRC repaired: exercises the JSON checks */
            for (int k = 0, m = 1 + (int)ic_rng_below(&r, 3); k < m; k++)
                b[24 + ic_rng_below(&r, hl)] = kind == 4 ? (unsigned char)("{}[],:\"0123456789-.e "[ic_rng_below(&r, 21)])
                                                         : (unsigned char)ic_rng_u64(&r);
            fix_crc(b, n);
            break;
        }
        if (len > n) memset(b + n, 0xAB, len - n);
        ic_test_write_file(p, b, len);
        ic_error err;
        ic_error_clear(&err);
        ic_icw_file *f = ic_icw_read(p, &err);
        if (!f) {
            rejected++;
            ck_assert_msg(err.code == IC_ERR_FORMAT || err.code == IC_ERR_UNSUPPORTED, "%d: %s", err.code, err.msg);
            ck_assert_msg(strstr(err.msg, p) != NULL, "message '%s' does not name the file", err.msg);
            ck_assert_ptr_null(strchr(err.msg, '\n'));
            continue;
        }
        accepted++;
        ck_assert_uint_eq(f->blob_size, len);
        for (size_t i = 0; i < f->n_tensors; i++) {
            const unsigned char *d = f->tensors[i].data, *lo = f->blob;
            ck_assert(d >= lo && d + f->tensors[i].nbytes <= lo + f->blob_size - 4);
            ck_assert_uint_eq((uintptr_t)d % 64, 0);
            ck_assert_uint_lt(strlen(f->tensors[i].name), IC_ICW_NAME_MAX);
        }
        ic_icw_free(f);
    }
    ck_assert_int_eq(rejected + accepted, 400);
    ck_assert_int_gt(rejected, 300);
    free(b);
    free(orig);
}
END_TEST

static Suite *icw_suite(void) {
    Suite *s = suite_create("icw");
    TCase *tc = tcase_create("icw");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_dtype_helpers);
    tcase_add_test(tc, test_exact_layout);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_empty_file_of_tensors);
    tcase_add_test(tc, test_alignment);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_wrong_version);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_trailing_garbage);
    tcase_add_test(tc, test_bit_flips);
    tcase_add_test(tc, test_header_len);
    tcase_add_test(tc, test_io_errors);
    tcase_add_test(tc, test_crafted);
    tcase_add_test(tc, test_writer_rejects);
    tcase_add_test(tc, test_atomic_write);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(icw_suite)
