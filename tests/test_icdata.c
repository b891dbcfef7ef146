/* End-to-end tests of bin/icdata (directory from $IC_BIN, default "bin", as `make test`
 * sets it): the count table, --json, --balance with a seed, one split given directly,
 * skip/stop on a bad entry, and the exit codes 0/1/2.  The dataset (folders and an
 * archive) is written here into a mkdtemp directory. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/nsynth.h"
#include <cjson/cJSON.h>
#include <sys/stat.h>

static char g_dir[64];

static void write_wav(const char *path) {
    short *buf = calloc(64000, sizeof *buf);
    for (int i = 0; i < 64000; i++) buf[i] = (short)(4000 * sin(0.05 * i));
    ic_test_write_wav16(path, 16000, 1, buf, 64000);
    free(buf);
}

/* A split folder with one example per (family, source) pair given. */
static void make_split(const char *name, const int *fam, const int *src, int n, int bad_pitch_at) {
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "%s/%s", g_dir, name);
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/audio", dir);
    mkdir(p, 0755);
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        char ns[128];
        snprintf(ns, sizeof ns, "%s_%s_%03d-060-100", ic_nsynth_family_name(fam[i]), ic_nsynth_source_name(src[i]), i);
        cJSON *e = cJSON_CreateObject();
        if (i == bad_pitch_at) cJSON_AddStringToObject(e, "pitch", "sixty");
        else cJSON_AddNumberToObject(e, "pitch", 60);
        cJSON_AddNumberToObject(e, "velocity", 100);
        cJSON_AddNumberToObject(e, "sample_rate", 16000);
        cJSON_AddNumberToObject(e, "instrument_family", fam[i]);
        cJSON_AddStringToObject(e, "instrument_source_str", ic_nsynth_source_name(src[i]));
        cJSON_AddItemToObject(root, ns, e);
        snprintf(p, sizeof p, "%s/audio/%s.wav", dir, ns);
        write_wav(p);
    }
    char *t = cJSON_Print(root);
    snprintf(p, sizeof p, "%s/examples.json", dir);
    ic_test_write_text(p, t);
    free(t);
    cJSON_Delete(root);
}

/* train: guitar x4 (2 acoustic, 2 electronic), bass x2, vocal x1; valid: 2; test: an archive of 3. */
static void setup(void) {
    ic_test_mkdtemp(g_dir, sizeof g_dir, "icdata");
    int tf[] = {3, 3, 3, 3, 0, 0, 10}, ts[] = {0, 0, 1, 1, 1, 1, 0};
    make_split("nsynth-train", tf, ts, 7, -1);
    int vf[] = {4, 8}, vs[] = {0, 0};
    make_split("nsynth-valid", vf, vs, 2, -1);
    int ef[] = {9, 9, 2}, es[] = {2, 2, 0};
    make_split("nsynth-test", ef, es, 3, -1);
    ic_test_sh_ok("cd %s && tar czf nsynth-test.jsonwav.tar.gz nsynth-test && rm -r nsynth-test", g_dir);
}
static void teardown(void) { ic_test_rmtree(g_dir); }

static char *g_out, *g_err;   /* what the last icdata() printed */

/* Runs icdata with the shell-quoted argument string; returns its exit status. */
static int icdata(const char *args) {
    const char *exe = ic_test_bin("icdata");
    int st = ic_test_sh("'%s' %s > '%s/stdout.txt' 2> '%s/stderr.txt'", exe, args, g_dir, g_dir);
    ck_assert(st >= 0);
    free(g_out);
    free(g_err);
    g_out = ic_test_slurp(ic_test_path(g_dir, "stdout.txt"), NULL);
    g_err = ic_test_slurp(ic_test_path(g_dir, "stderr.txt"), NULL);
    return st;
}

START_TEST(test_table) {
    char args[256];
    snprintf(args, sizeof args, "'%s'", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    ck_assert_msg(strstr(g_out, "  train        7 examples      0 skipped"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "nsynth-test.jsonwav.tar.gz (archive)"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "family          train    valid     test\n"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "\nguitar              4        0        0\n"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "\nsynth_lead          0        0        2\n"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "\nelectronic          4        0        0\n"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "\ntotal               7        2        3\n"), "%s", g_out);
    ck_assert_str_eq(g_err, "");
}
END_TEST

static const cJSON *split_named(const cJSON *root, const char *name) {
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(root, "splits"))
        if (!strcmp(cJSON_GetObjectItem(s, "name")->valuestring, name)) return s;
    return NULL;
}

static int family_count(const cJSON *split, const char *which, const char *family) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(split, which), "families"), family)->valueint;
}

START_TEST(test_json_and_balance) {
    char args[256];
    snprintf(args, sizeof args, "'%s' --json --balance 1 --seed 9", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    cJSON *j = cJSON_Parse(g_out);
    ck_assert_msg(j != NULL, "%s", g_out);
    const cJSON *tr = split_named(j, "train"), *te = split_named(j, "test");
    ck_assert_ptr_nonnull(tr);
    ck_assert_ptr_nonnull(te);
    ck_assert_int_eq(cJSON_GetObjectItem(tr, "examples")->valueint, 7);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(tr, "archive")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(te, "archive")));
    ck_assert_int_eq(family_count(tr, "counts", "guitar"), 4);
    ck_assert_int_eq(family_count(tr, "balanced", "guitar"), 1);
    ck_assert_int_eq(family_count(tr, "balanced", "bass"), 1);
    ck_assert_int_eq(family_count(tr, "balanced", "vocal"), 1);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(tr, "balanced"), "total")->valueint, 3);
    ck_assert_int_eq(family_count(te, "balanced", "synth_lead"), 2); /* only train is capped */
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "balance"), "cap")->valueint, 1);
    cJSON *b1 = cJSON_Duplicate(tr, 1);
    cJSON_Delete(j);
    /* same seed, same result; the table shows before and after */
    ck_assert_int_eq(icdata(args), 0);
    j = cJSON_Parse(g_out);
    ck_assert(cJSON_Compare(b1, split_named(j, "train"), 1));
    cJSON_Delete(j);
    cJSON_Delete(b1);
    snprintf(args, sizeof args, "'%s' --balance 2", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    ck_assert_msg(strstr(g_out, "before --balance\nfamily"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "after --balance 2 (seed 1; train only)\nfamily          train    valid     test\n"
                                "bass                2        0        0\n"), "%s", g_out);
    ck_assert_msg(strstr(g_out, "\nguitar              2        0        0\n"), "%s", g_out);
}
END_TEST

START_TEST(test_single_split_and_errors) {
    char args[512];
    /* one split folder, one archive given directly */
    snprintf(args, sizeof args, "'%s/nsynth-valid' --json", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    cJSON *j = cJSON_Parse(g_out);
    ck_assert_ptr_nonnull(split_named(j, "valid"));
    cJSON_Delete(j);
    snprintf(args, sizeof args, "'%s/nsynth-test.jsonwav.tar.gz' --no-audio-check", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    ck_assert_msg(strstr(g_out, "  test         3 examples"), "%s", g_out);
    /* a bad entry: skipped and reported, or a stop with status 1 */
    int f[] = {3, 3}, s[] = {0, 0};
    make_split("nsynth-train", f, s, 2, 1);
    snprintf(args, sizeof args, "'%s/nsynth-train'", g_dir);
    ck_assert_int_eq(icdata(args), 0);
    ck_assert_msg(strstr(g_err, "entry 'guitar_acoustic_001-060-100': pitch: expected an integer 0..127, found string \"sixty\""), "%s", g_err);
    ck_assert_msg(strstr(g_err, "1 bad entries skipped"), "%s", g_err);
    ck_assert_msg(strstr(g_out, "      1 skipped"), "%s", g_out);
    snprintf(args, sizeof args, "'%s/nsynth-train' --on-error stop", g_dir);
    ck_assert_int_eq(icdata(args), 1);
    ck_assert_msg(strstr(g_err, "icdata: ") && strstr(g_err, "found string \"sixty\""), "%s", g_err);
    ck_assert_str_eq(g_out, "");
    /* runtime failures */
    snprintf(args, sizeof args, "'%s/nowhere'", g_dir);
    ck_assert_int_eq(icdata(args), 1);
    ck_assert_msg(strstr(g_err, "no nsynth-train"), "%s", g_err);
    char path[256];
    snprintf(path, sizeof path, "%s/broken.tar.gz", g_dir);
    ic_test_write_text(path, "\x1f\x8b not really gzip");
    snprintf(args, sizeof args, "'%s'", path);
    ck_assert_int_eq(icdata(args), 1);
    ck_assert_msg(strstr(g_err, "broken.tar.gz: "), "%s", g_err);
    ck_assert_str_eq(g_out, "");
}
END_TEST

START_TEST(test_usage) {
    ck_assert_int_eq(icdata("--help"), 0);
    ck_assert_msg(strstr(g_out, "usage: icdata DIR"), "%s", g_out);
    ck_assert_int_eq(icdata(""), 2);
    ck_assert_msg(strstr(g_err, "no dataset directory given"), "%s", g_err);
    ck_assert_int_eq(icdata("x --balance"), 2);
    ck_assert_int_eq(icdata("x --balance -3"), 2);
    ck_assert_int_eq(icdata("x --balance 3x"), 2);
    ck_assert_msg(strstr(g_err, "--balance needs a count >= 0, found '3x'"), "%s", g_err);
    ck_assert_int_eq(icdata("x --seed"), 2);
    ck_assert_int_eq(icdata("x --on-error maybe"), 2);
    ck_assert_int_eq(icdata("x --frobnicate"), 2);
    ck_assert_msg(strstr(g_err, "unknown option '--frobnicate'"), "%s", g_err);
    ck_assert_int_eq(icdata("x y"), 2);
}
END_TEST

static Suite *icdata_suite(void) {
    Suite *s = suite_create("icdata");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_json_and_balance);
    tcase_add_test(tc, test_single_split_and_errors);
    tcase_add_test(tc, test_usage);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(icdata_suite)
