/* Tests of the standard MIDI file writer (src/io/midi.c): variable-length quantities
 * against the examples of the SMF 1.0 specification, a small file against bytes
 * computed by hand, event order at equal ticks, the tempo's tick grid, bad notes and
 * parameters, and the atomic write (temporary name, rename, nothing left behind). */
#include "testutil.h"
#include <sys/stat.h>
#include <unistd.h>
#include "ic/midi.h"

START_TEST(test_vlq) {
    /* SMF 1.0, "Variable-length quantity" examples */
    const struct { uint32_t v; unsigned char b[4]; size_t n; } ex[] = {
        {0x00000000, {0x00}, 1},       {0x00000040, {0x40}, 1},       {0x0000007F, {0x7F}, 1},
        {0x00000080, {0x81, 0x00}, 2}, {0x00002000, {0xC0, 0x00}, 2}, {0x00003FFF, {0xFF, 0x7F}, 2},
        {0x00004000, {0x81, 0x80, 0x00}, 3}, {0x00100000, {0xC0, 0x80, 0x00}, 3},
        {0x001FFFFF, {0xFF, 0xFF, 0x7F}, 3}, {0x00200000, {0x81, 0x80, 0x80, 0x00}, 4},
        {0x08000000, {0xC0, 0x80, 0x80, 0x00}, 4}, {0x0FFFFFFF, {0xFF, 0xFF, 0xFF, 0x7F}, 4},
    };
    for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
        unsigned char out[4] = {0};
        size_t n = ic_midi_vlq(ex[i].v, out);
        ck_assert_msg(n == ex[i].n, "0x%08X: %zu bytes", ex[i].v, n);
        ck_assert_msg(memcmp(out, ex[i].b, n) == 0, "0x%08X: wrong bytes", ex[i].v);
    }
}
END_TEST

/* Two notes at 120 BPM, 480 ticks per quarter: C4 (60) velocity 100 over 0-0.5 s and
 * D4 (62) velocity 90 over 0.5-1.0 s.  0.5 s = one quarter = 480 ticks = VLQ 83 60. */
static const unsigned char EXPECTED[] = {
    'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xE0,   /* format 0, 1 track, 480 */
    'M', 'T', 'r', 'k', 0, 0, 0, 29,
    0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,                   /* tempo 500000 us per quarter */
    0x00, 0x90, 60, 100,                                        /* t 0: C4 on */
    0x83, 0x60, 0x80, 60, 64,                                   /* t 480: C4 off */
    0x00, 0x90, 62, 90,                                         /* t 480: D4 on */
    0x83, 0x60, 0x80, 62, 64,                                   /* t 960: D4 off */
    0x00, 0xFF, 0x2F, 0x00,                                     /* end of track */
};

START_TEST(test_hand_computed_file) {
    /* given out of order: the writer sorts */
    const ic_midi_note notes[2] = {{0.5, 1.0, 62, 90}, {0.0, 0.5, 60, 100}};
    unsigned char *b;
    size_t len;
    ic_error err;
    ck_assert_int_eq(ic_midi_encode(notes, 2, 120.0, 480, &b, &len, &err), IC_OK);
    ck_assert_int_eq(len, sizeof EXPECTED);
    for (size_t i = 0; i < len; i++) ck_assert_msg(b[i] == EXPECTED[i], "byte %zu: %02X, expected %02X", i, b[i], EXPECTED[i]);
    free(b);
    /* no notes: header, tempo, end */
    ck_assert_int_eq(ic_midi_encode(NULL, 0, 60.0, 96, &b, &len, &err), IC_OK);
    const unsigned char empty[] = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, 'M', 'T', 'r', 'k', 0, 0, 0, 11,
                                   0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40, 0x00, 0xFF, 0x2F, 0x00};
    ck_assert_int_eq(len, sizeof empty);
    ck_assert(memcmp(b, empty, len) == 0);
    free(b);
}
END_TEST

/* 90 BPM: 666667 us per quarter; a note shorter than a tick lasts one tick; a long
 * delta takes a 3-byte VLQ. */
START_TEST(test_ticks) {
    const ic_midi_note notes[2] = {{0.0, 0.0, 69, 1}, {100.0, 100.5, 127, 127}};
    unsigned char *b;
    size_t len;
    ic_error err;
    ck_assert_int_eq(ic_midi_encode(notes, 2, 90.0, 480, &b, &len, &err), IC_OK);
    ck_assert_int_eq(b[26], 0x0A);   /* 666667 = 0x0A2C2B */
    ck_assert_int_eq(b[27], 0x2C);
    ck_assert_int_eq(b[28], 0x2B);
    const unsigned char first[] = {0x00, 0x90, 69, 1, 0x01, 0x80, 69, 64};   /* off one tick later */
    ck_assert(memcmp(b + 29, first, sizeof first) == 0);
    /* 100 s at 480 * 1e6 / 666667 ticks/s = 71999.96 -> 72000 ticks; minus the 1 already elapsed */
    unsigned char v[4];
    size_t k = ic_midi_vlq(71999, v);
    ck_assert_int_eq(k, 3);
    ck_assert(memcmp(b + 37, v, 3) == 0);
    free(b);
}
END_TEST

START_TEST(test_bad_input) {
    unsigned char *b = (unsigned char *)"x";
    size_t len = 7;
    ic_error err;
    ic_midi_note bad[] = {{0, 1, 128, 64}, {0, 1, 60, 0}, {1.0, 0.5, 60, 64}, {-1, 1, 60, 64}, {NAN, 1, 60, 64}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(ic_midi_encode(&bad[i], 1, 120, 480, &b, &len, &err), IC_ERR_ARG);
        ck_assert_ptr_null(b);
        ck_assert_int_eq(len, 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "note 0"));
    }
    ic_midi_note ok = {0, 1, 60, 64};
    ck_assert_int_eq(ic_midi_encode(&ok, 1, 0, 480, &b, &len, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_midi_encode(&ok, 1, 120, 0, &b, &len, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_midi_encode(&ok, 1, 120, 40000, &b, &len, &err), IC_ERR_ARG);
    ic_midi_note late = {1e6, 1e6 + 1, 60, 64};   /* beyond 2^28 ticks */
    ck_assert_int_eq(ic_midi_encode(&late, 1, 120, 480, &b, &len, &err), IC_ERR_ARG);
}
END_TEST

START_TEST(test_write) {
    char dir[] = "/tmp/ic_test_midi_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/out.mid", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    const ic_midi_note notes[2] = {{0.0, 0.5, 60, 100}, {0.5, 1.0, 62, 90}};
    ic_error err;
    ck_assert_int_eq(ic_midi_write(path, notes, 2, 120.0, 480, &err), IC_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    unsigned char got[128];
    size_t n = fread(got, 1, sizeof got, f);
    fclose(f);
    ck_assert_int_eq(n, sizeof EXPECTED);
    ck_assert(memcmp(got, EXPECTED, n) == 0);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    /* overwrite with fewer notes */
    ck_assert_int_eq(ic_midi_write(path, notes, 1, 120.0, 480, &err), IC_OK);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_size, (off_t)sizeof EXPECTED - 9);
    /* a directory that does not exist: IC_ERR_IO naming the file, nothing created */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.mid", dir);
    ck_assert_int_eq(ic_midi_write(bad, notes, 2, 120.0, 480, &err), IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "x.mid"));
    /* the target is a directory: rename fails, the temporary file is removed */
    char sub[300], subtmp[310];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(subtmp, sizeof subtmp, "%s.tmp", sub);
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    ck_assert_int_eq(ic_midi_write(sub, notes, 2, 120.0, 480, &err), IC_ERR_IO);
    ck_assert_int_ne(access(subtmp, F_OK), 0);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}
END_TEST

static Suite *midi_suite(void) {
    Suite *s = suite_create("midi");
    TCase *t = tcase_create("writer");
    tcase_add_test(t, test_vlq);
    tcase_add_test(t, test_hand_computed_file);
    tcase_add_test(t, test_ticks);
    tcase_add_test(t, test_bad_input);
    tcase_add_test(t, test_write);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(midi_suite)
