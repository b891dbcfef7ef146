/* Pictures of feature matrices for people to look at: a perceptual colour map
 * (viridis), a matrix -> RGB renderer (row 0 at the bottom, so low mel bands sit low),
 * and an atomic libpng writer.  Not an image library: 8-bit RGB only. */
#ifndef IC_PNG_H
#define IC_PNG_H
#include "ic/error.h"

typedef struct { unsigned char rgb[256][3]; } ic_colormap;

/* Fills cm with matplotlib's viridis, interpolated linearly from 17 of its published
 * table entries (every 16th and the last); within 1/255 of the full table. */
void ic_colormap_viridis(ic_colormap *cm);

/* Renders m (n_rows, n_cols) row-major into rgb (height, width, 3) with
 * height = n_rows * row_px.  Row r fills the row_px pixel rows counted from the
 * bottom; pixel column x shows the mean of the matrix columns that fall in it
 * (width < n_cols) or repeats a column (width > n_cols).  Values map linearly from
 * [lo, hi] onto the colour map and are clamped; NaN draws black. */
void ic_render_matrix(const float *m, int n_rows, int n_cols, float lo, float hi,
                      const ic_colormap *cm, int width, int row_px, unsigned char *rgb);

/* Writes rgb (height, width, 3) as an 8-bit RGB PNG.  A file is written under a
 * temporary name in the same directory and renamed, so a failed write never leaves a
 * partial file behind; "-" writes to standard output. */
ic_status ic_png_write_rgb(const char *path, const unsigned char *rgb, int width, int height,
                           ic_error *err);

#endif
