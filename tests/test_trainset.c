/* Check suite for the epoch draw of src/model/trainset.c: every clip once in
 * random order without a cap; with --per-family N at most N of each family,
 * no clip twice, and a different draw each epoch so every clip is met over a
 * run.  The split is built by hand (labels only; the draw reads no audio). */
#include "testutil.h"
#include "ic/trainset.h"

/* 11 families with 1, 3, 5, ... 21 clips: 121 clips. */
static ic_trainsplit *fake_split(void) {
    ic_trainsplit *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    s->n = 121;
    s->family = malloc(s->n * sizeof(int));
    ck_assert_ptr_nonnull(s->family);
    size_t k = 0;
    for (int f = 0; f < IC_NSYNTH_N_FAMILIES; f++)
        for (int j = 0; j < 2 * f + 1; j++) s->family[k++] = f;
    ck_assert_uint_eq(k, s->n);
    return s;
}

static void fake_free(ic_trainsplit *s) {
    free(s->family);
    free(s);
}

START_TEST(test_all_clips_without_cap) {
    ic_trainsplit *s = fake_split();
    size_t order[121];
    int seen[121] = {0};
    ic_rng r;
    ic_rng_seed(&r, 7);
    ck_assert_uint_eq(ic_epoch_size(s->family, s->n, 0), 121);
    ck_assert_uint_eq(ic_epoch_order(s->family, s->n, 0, &r, order), 121);
    size_t in_place = 0;
    for (size_t i = 0; i < 121; i++) {
        ck_assert_uint_lt(order[i], 121);
        seen[order[i]]++;
        in_place += order[i] == i;
    }
    for (size_t i = 0; i < 121; i++) ck_assert_int_eq(seen[i], 1);
    ck_assert_uint_lt(in_place, 10);   /* shuffled, not the identity */
    fake_free(s);
}
END_TEST

START_TEST(test_per_family_cap_redrawn_each_epoch) {
    ic_trainsplit *s = fake_split();
    const size_t cap = 6;
    /* families of 1, 3, 5 clips keep all of them; the other 8 keep 6 */
    const size_t want = 1 + 3 + 5 + 8 * cap;
    ck_assert_uint_eq(ic_epoch_size(s->family, s->n, cap), want);
    size_t order[121];
    int met[121] = {0};
    ic_rng r;
    ic_rng_seed(&r, 11);
    for (int epoch = 0; epoch < 20; epoch++) {
        size_t n = ic_epoch_order(s->family, s->n, cap, &r, order);
        ck_assert_uint_eq(n, want);
        int per[IC_NSYNTH_N_FAMILIES] = {0}, seen[121] = {0};
        for (size_t i = 0; i < n; i++) {
            ck_assert_uint_lt(order[i], 121);
            ck_assert_int_eq(seen[order[i]]++, 0);
            per[s->family[order[i]]]++;
            met[order[i]] = 1;
        }
        for (int f = 0; f < IC_NSYNTH_N_FAMILIES; f++)
            ck_assert_int_eq(per[f], 2 * f + 1 < (int)cap ? 2 * f + 1 : (int)cap);
    }
    /* 20 fresh draws of 6 out of at most 21: every clip comes up (a fixed subset
     * would leave 69 of the 121 unseen) */
    int total = 0;
    for (size_t i = 0; i < 121; i++) total += met[i];
    ck_assert_int_eq(total, 121);
    fake_free(s);
}
END_TEST

static Suite *trainset_suite(void) {
    Suite *s = suite_create("trainset");
    TCase *tc = tcase_create("epoch draw");
    tcase_add_test(tc, test_all_clips_without_cap);
    tcase_add_test(tc, test_per_family_cap_redrawn_each_epoch);
    suite_add_tcase(s, tc);
    return s;
}

IC_TEST_MAIN(trainset_suite)
