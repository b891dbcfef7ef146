/* Tests for the spectrogram picture helpers: the viridis table against matplotlib's
 * published values, the matrix renderer's orientation and scaling, and the PNG
 * writer (read back with libpng's simplified API; temporary files cleaned up). */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/png.h"
#include <dirent.h>
#include <png.h>
#include <sys/stat.h>
#include <unistd.h>

static int u8(double v) { return (int)lrint(255.0 * v); }

START_TEST(test_viridis_table) {
    ic_colormap cm;
    ic_colormap_viridis(&cm);
    /* matplotlib _viridis_data entries: two anchors and two interpolated ones */
    const struct { int i; double rgb[3]; } pub[] = {
        { 0, { 0.267004, 0.004874, 0.329415 } },
        { 255, { 0.993248, 0.906157, 0.143936 } },
        { 127, { 0.128729, 0.563265, 0.551229 } },
        { 204, { 0.477504, 0.821444, 0.318195 } },
        { 60, { 0.237441, 0.305202, 0.541921 } },
    };
    for (size_t k = 0; k < sizeof pub / sizeof pub[0]; k++)
        for (int c = 0; c < 3; c++)
            ck_assert_msg(abs(cm.rgb[pub[k].i][c] - u8(pub[k].rgb[c])) <= 1,
                          "entry %d channel %d: %d vs published %d", pub[k].i, c,
                          cm.rgb[pub[k].i][c], u8(pub[k].rgb[c]));
    /* perceptual: luminance rises from dark to bright (8-bit rounding may leave two
     * neighbours equal, never four entries apart) */
    double lum[256];
    for (int i = 0; i < 256; i++) {
        lum[i] = 0.2126 * cm.rgb[i][0] + 0.7152 * cm.rgb[i][1] + 0.0722 * cm.rgb[i][2];
        if (i) ck_assert_msg(lum[i] >= lum[i - 1], "luminance falls at entry %d", i);
        if (i >= 4) ck_assert_msg(lum[i] > lum[i - 4], "luminance flat at entry %d", i);
    }
}
END_TEST

static void px_eq(const unsigned char *img, int width, int x, int y, const unsigned char *want) {
    const unsigned char *p = img + ((size_t)y * width + x) * 3;
    ck_assert_msg(p[0] == want[0] && p[1] == want[1] && p[2] == want[2],
                  "pixel (%d,%d) = %d,%d,%d, expected %d,%d,%d", x, y, p[0], p[1], p[2],
                  want[0], want[1], want[2]);
}

START_TEST(test_render_orientation) {
    ic_colormap cm;
    ic_colormap_viridis(&cm);
    /* row 0 (low band) = 0, 0.5, 1; row 1 = NaN, 2 (clamped), -1 (clamped) */
    const float m[6] = { 0.0f, 0.5f, 1.0f, NAN, 2.0f, -1.0f };
    unsigned char img[4 * 6 * 3];
    const unsigned char black[3] = { 0, 0, 0 };
    ic_render_matrix(m, 2, 3, 0.0f, 1.0f, &cm, 3, 2, img);
    for (int y = 2; y < 4; y++) {      /* bottom two pixel rows: matrix row 0 */
        px_eq(img, 3, 0, y, cm.rgb[0]);
        px_eq(img, 3, 1, y, cm.rgb[128]);
        px_eq(img, 3, 2, y, cm.rgb[255]);
    }
    for (int y = 0; y < 2; y++) {
        px_eq(img, 3, 0, y, black);
        px_eq(img, 3, 1, y, cm.rgb[255]);
        px_eq(img, 3, 2, y, cm.rgb[0]);
    }
    /* stretched to 6 columns: each matrix column twice */
    ic_render_matrix(m, 2, 3, 0.0f, 1.0f, &cm, 6, 2, img);
    px_eq(img, 6, 2, 3, cm.rgb[128]);
    px_eq(img, 6, 3, 3, cm.rgb[128]);
    px_eq(img, 6, 5, 3, cm.rgb[255]);
    /* squeezed to 1 column: the mean of row 0 is 0.5 */
    ic_render_matrix(m, 2, 3, 0.0f, 1.0f, &cm, 1, 2, img);
    px_eq(img, 1, 0, 3, cm.rgb[128]);
}
END_TEST

START_TEST(test_png_roundtrip) {
    char dir[64], path[256];
    ic_test_mkdtemp(dir, sizeof dir, "png");
    snprintf(path, sizeof path, "%s/spec.png", dir);
    enum { W = 37, H = 12 };
    unsigned char img[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) img[i] = (unsigned char)(i * 7 + 3);
    ic_error e;
    ck_assert_int_eq(ic_png_write_rgb(path, img, W, H, &e), IC_OK);
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    ck_assert(png_image_begin_read_from_file(&pi, path));
    ck_assert_int_eq(pi.width, W);
    ck_assert_int_eq(pi.height, H);
    pi.format = PNG_FORMAT_RGB;
    unsigned char back[W * H * 3];
    ck_assert(png_image_finish_read(&pi, NULL, back, 0, NULL));
    ck_assert(memcmp(img, back, sizeof img) == 0);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    /* only the final file is left: no temporaries */
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *de; (de = readdir(d));) if (de->d_name[0] != '.') entries++;
    closedir(d);
    ck_assert_int_eq(entries, 1);
    unlink(path);
    /* a directory that does not exist: an error naming the path, nothing written */
    char bad[300];
    snprintf(bad, sizeof bad, "%s/missing/spec.png", dir);
    ck_assert_int_eq(ic_png_write_rgb(bad, img, W, H, &e), IC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(e.msg, bad));
    ck_assert_int_eq(ic_png_write_rgb(path, img, 0, H, &e), IC_ERR_ARG);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *png_suite(void) {
    Suite *s = suite_create("png");
    TCase *t = tcase_create("png");
    tcase_add_test(t, test_viridis_table);
    tcase_add_test(t, test_render_orientation);
    tcase_add_test(t, test_png_roundtrip);
    suite_add_tcase(s, t);
    return s;
}

IC_TEST_MAIN(png_suite)
