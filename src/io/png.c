/* Colour map, matrix rendering and PNG writing for spectrogram pictures (see png.h).
 * The PNG writer uses libpng's setjmp error path; nothing else here can fail. */
#include "ic/png.h"
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* matplotlib's _viridis_data (CC0, van der Walt, Smith and Firing), entries
 * 0, 16, 32, ..., 240 and 255 of its 256. */
static const double VIRIDIS_ANCHORS[17][3] = {
    { 0.267004, 0.004874, 0.329415 }, { 0.282327, 0.094955, 0.417331 },
    { 0.278826, 0.175490, 0.483397 }, { 0.258965, 0.251537, 0.524736 },
    { 0.229739, 0.322361, 0.545706 }, { 0.199430, 0.387607, 0.554642 },
    { 0.172719, 0.448791, 0.557885 }, { 0.149039, 0.508051, 0.557250 },
    { 0.127568, 0.566949, 0.550556 }, { 0.120638, 0.625828, 0.533488 },
    { 0.157851, 0.683765, 0.501686 }, { 0.246070, 0.738910, 0.452024 },
    { 0.369214, 0.788888, 0.382914 }, { 0.515992, 0.831158, 0.294279 },
    { 0.678489, 0.863742, 0.189503 }, { 0.845561, 0.887322, 0.099702 },
    { 0.993248, 0.906157, 0.143936 },
};

void ic_colormap_viridis(ic_colormap *cm) {
    for (int i = 0; i < 256; i++) {
        /* anchor k sits at table index 16k (the last at 255) */
        int k = i / 16 < 15 ? i / 16 : 15;
        double lo = 16.0 * k, hi = k == 15 ? 255.0 : 16.0 * (k + 1);
        double f = (i - lo) / (hi - lo);
        for (int c = 0; c < 3; c++) {
            double v = VIRIDIS_ANCHORS[k][c] + f * (VIRIDIS_ANCHORS[k + 1][c] - VIRIDIS_ANCHORS[k][c]);
            cm->rgb[i][c] = (unsigned char)lrint(255.0 * v);
        }
    }
}

void ic_render_matrix(const float *m, int n_rows, int n_cols, float lo, float hi,
                      const ic_colormap *cm, int width, int row_px, unsigned char *rgb) {
    IC_ASSERT(n_rows > 0 && n_cols > 0 && width > 0 && row_px > 0);
    const int height = n_rows * row_px;
    const double span = hi > lo ? (double)hi - lo : 1.0;
    for (int r = 0; r < n_rows; r++) {
        const float *row = m + (size_t)r * n_cols;
        unsigned char *top = rgb + (size_t)(height - (r + 1) * row_px) * width * 3;
        for (int x = 0; x < width; x++) {
            int c0 = (int)((long long)x * n_cols / width);
            int c1 = (int)((long long)(x + 1) * n_cols / width);
            if (c1 <= c0) c1 = c0 + 1;
            double s = 0;
            for (int c = c0; c < c1; c++) s += row[c];
            double v = s / (c1 - c0);
            unsigned char *px = top + (size_t)x * 3;
            if (isnan(v)) {
                px[0] = px[1] = px[2] = 0;
                continue;
            }
            double t = (v - lo) / span;
            int idx = t <= 0 ? 0 : t >= 1 ? 255 : (int)(t * 255.0 + 0.5);
            memcpy(px, cm->rgb[idx], 3);
        }
        for (int y = 1; y < row_px; y++) memcpy(top + (size_t)y * width * 3, top, (size_t)width * 3);
    }
}

/* Writes the PNG stream to f; returns 0 or -1 with err set. */
static int write_png(FILE *f, const char *path, const unsigned char *rgb, int width, int height,
                     ic_error *err) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, &info);
        ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory starting libpng", path);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        ic_error_set(err, IC_ERR_IO, "%s: libpng failed writing the image: %s", path,
                     errno ? strerror(errno) : "see above");
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * width * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

ic_status ic_png_write_rgb(const char *path, const unsigned char *rgb, int width, int height,
                           ic_error *err) {
    if (width <= 0 || height <= 0 || width > 1000000 || height > 1000000)
        return ic_error_set(err, IC_ERR_ARG, "%s: image size %d x %d is outside 1..1000000", path,
                            width, height);
    if (strcmp(path, "-") == 0) {
        errno = 0;
        if (write_png(stdout, "stdout", rgb, width, height, err) != 0) return err ? err->code : IC_ERR_IO;
        if (fflush(stdout) != 0)
            return ic_error_set(err, IC_ERR_IO, "stdout: write failed: %s", strerror(errno));
        return IC_OK;
    }
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    snprintf(tmp, n, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ic_status s = ic_error_set(err, IC_ERR_IO, "%s: cannot create a temporary file: %s", path,
                                   strerror(errno));
        free(tmp);
        return s;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        ic_status s = ic_error_set(err, IC_ERR_IO, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(tmp);
        return s;
    }
    errno = 0;
    int bad = write_png(f, path, rgb, width, height, err);
    if (!bad && (fflush(f) != 0 || fsync(fileno(f)) != 0)) {
        ic_error_set(err, IC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        bad = 1;
    }
    if (fclose(f) != 0 && !bad) {
        ic_error_set(err, IC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        bad = 1;
    }
    /* mkstemp makes the file 0600: keep the mode of the file being replaced, else 0644 */
    if (!bad) {
        struct stat st;
        chmod(tmp, stat(path, &st) == 0 ? (st.st_mode & 07777) : 0644);
    }
    if (!bad && rename(tmp, path) != 0) {
        ic_error_set(err, IC_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
        bad = 1;
    }
    if (bad) unlink(tmp);
    free(tmp);
    return bad ? (err ? err->code : IC_ERR_IO) : IC_OK;
}
