/* Confusion matrix, per-class scores, pitch scores, their JSON and text forms, and the
 * confusion picture (ic/metrics.h).  The picture's text uses a built-in 5x7 bitmap
 * font (lower-case letters, digits and a little punctuation; upper case is drawn as
 * lower case, anything else as '?'), drawn at twice its size. */
#include "ic/metrics.h"
#include "ic/png.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

ic_confusion *ic_confusion_new(int k) {
    IC_ASSERT(k >= 1);
    ic_confusion *c = ic_xcalloc(1, sizeof *c);
    c->k = k;
    c->cell = ic_xcalloc((size_t)k * (size_t)k, sizeof *c->cell);
    return c;
}

void ic_confusion_free(ic_confusion *c) {
    if (!c) return;
    free(c->cell);
    free(c);
}

void ic_confusion_add(ic_confusion *c, int truth, int pred) {
    IC_ASSERT(truth >= 0 && truth < c->k && pred >= 0 && pred < c->k);
    c->cell[(size_t)truth * c->k + pred]++;
    c->n++;
}

double ic_ratio(long long a, long long b) { return b ? (double)a / (double)b : NAN; }

double ic_confusion_accuracy(const ic_confusion *c) {
    long long tr = 0;
    for (int t = 0; t < c->k; t++) tr += c->cell[(size_t)t * c->k + t];
    return ic_ratio(tr, c->n);
}

long long ic_confusion_support(const ic_confusion *c, int t) {
    long long s = 0;
    for (int p = 0; p < c->k; p++) s += c->cell[(size_t)t * c->k + p];
    return s;
}

long long ic_confusion_predicted(const ic_confusion *c, int t) {
    long long s = 0;
    for (int r = 0; r < c->k; r++) s += c->cell[(size_t)r * c->k + t];
    return s;
}

double ic_confusion_precision(const ic_confusion *c, int t) {
    return ic_ratio(c->cell[(size_t)t * c->k + t], ic_confusion_predicted(c, t));
}

double ic_confusion_recall(const ic_confusion *c, int t) {
    return ic_ratio(c->cell[(size_t)t * c->k + t], ic_confusion_support(c, t));
}

double ic_confusion_f1(const ic_confusion *c, int t) {
    double p = ic_confusion_precision(c, t), r = ic_confusion_recall(c, t);
    if (isnan(p) || isnan(r)) return NAN;
    return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

double ic_confusion_mean_recall(const ic_confusion *c) {
    double s = 0;
    int n = 0;
    for (int t = 0; t < c->k; t++) {
        double r = ic_confusion_recall(c, t);
        if (!isnan(r)) { s += r; n++; }
    }
    return n ? s / n : NAN;
}

cJSON *ic_json_number(double v) { return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(); }

cJSON *ic_confusion_matrix_json(const ic_confusion *c) {
    cJSON *m = cJSON_CreateArray();
    for (int t = 0; m && t < c->k; t++) {
        cJSON *row = cJSON_CreateArray();
        if (!row || !cJSON_AddItemToArray(m, row)) { cJSON_Delete(row); cJSON_Delete(m); return NULL; }
        for (int p = 0; p < c->k; p++)
            if (!cJSON_AddItemToArray(row, cJSON_CreateNumber((double)c->cell[(size_t)t * c->k + p]))) {
                cJSON_Delete(m);
                return NULL;
            }
    }
    return m;
}

cJSON *ic_confusion_per_class_json(const ic_confusion *c, const char *const *labels) {
    cJSON *o = cJSON_CreateObject();
    for (int t = 0; o && t < c->k; t++) {
        cJSON *e = cJSON_CreateObject();
        if (!e || !cJSON_AddItemToObject(o, labels[t], e)) { cJSON_Delete(e); cJSON_Delete(o); return NULL; }
        int ok = cJSON_AddItemToObject(e, "precision", ic_json_number(ic_confusion_precision(c, t))) &&
                 cJSON_AddItemToObject(e, "recall", ic_json_number(ic_confusion_recall(c, t))) &&
                 cJSON_AddItemToObject(e, "f1", ic_json_number(ic_confusion_f1(c, t))) &&
                 cJSON_AddNumberToObject(e, "support", (double)ic_confusion_support(c, t)) &&
                 cJSON_AddNumberToObject(e, "predicted", (double)ic_confusion_predicted(c, t));
        if (!ok) { cJSON_Delete(o); return NULL; }
    }
    return o;
}

static void print_pct(FILE *f, double v) {
    if (isnan(v)) fprintf(f, " %9s", "-");
    else fprintf(f, " %8.1f%%", 100 * v);
}

static int label_width(const ic_confusion *c, const char *const *labels, int min) {
    int w = min;
    for (int t = 0; t < c->k; t++) if ((int)strlen(labels[t]) > w) w = (int)strlen(labels[t]);
    return w;
}

void ic_confusion_print_per_class(FILE *f, const ic_confusion *c, const char *const *labels) {
    int w = label_width(c, labels, 5);
    fprintf(f, "%-*s %9s %9s %9s %8s\n", w, "class", "precision", "recall", "f1", "support");
    for (int t = 0; t < c->k; t++) {
        fprintf(f, "%-*s", w, labels[t]);
        print_pct(f, ic_confusion_precision(c, t));
        print_pct(f, ic_confusion_recall(c, t));
        print_pct(f, ic_confusion_f1(c, t));
        fprintf(f, " %8lld\n", ic_confusion_support(c, t));
    }
}

void ic_confusion_print(FILE *f, const ic_confusion *c, const char *const *labels) {
    int w = label_width(c, labels, 10), cw = 6;
    long long big = 0;
    for (size_t i = 0; i < (size_t)c->k * c->k; i++) if (c->cell[i] > big) big = c->cell[i];
    while (big >= 100000) { cw++; big /= 10; }
    fprintf(f, "%-*s", w, "true\\pred");
    for (int p = 0; p < c->k; p++) fprintf(f, " %*.*s", cw, cw, labels[p]);
    fprintf(f, "\n");
    for (int t = 0; t < c->k; t++) {
        fprintf(f, "%-*s", w, labels[t]);
        for (int p = 0; p < c->k; p++) fprintf(f, " %*lld", cw, c->cell[(size_t)t * c->k + p]);
        fprintf(f, "\n");
    }
}

void ic_pitch_score_add(ic_pitch_score *s, int truth, int pred) {
    s->n++;
    s->exact += truth == pred;
    s->chroma += ic_same_chroma(truth, pred);
}

int ic_same_chroma(int a, int b) { return ((a - b) % 12 + 12) % 12 == 0; }

/* ---- the picture ---- */

#define FONT_W 5
#define FONT_H 7
#define SCALE 2
#define ADV ((FONT_W + 1) * SCALE)   /* pixels per character */
#define TEXT_H (FONT_H * SCALE)
#define MARGIN 12

/* 7 rows of 5 pixels, top row first: '#' is ink.  drop: rows the glyph is drawn
 * lower (descenders of g, p, q, y hang below the line). */
typedef struct { char ch; const char *rows; int drop; } glyph;
static const glyph FONT[] = {
    {'a', "...........###.....#.#####...#.####", 0},
    {'b', "#....#....#.##.##..##...##...#####.", 0},
    {'c', "...........###.#....#....#...#.###.", 0},
    {'d', "....#....#.##.##..###...##...#.####", 0},
    {'e', "...........###.#...#######.....###.", 0},
    {'f', "..##..#..#.#...###...#....#....#...", 0},
    {'g', ".#####...##...##...#.####....#.###.", 2},
    {'h', "#....#....#.##.##..##...##...##...#", 0},
    {'i', "..#........##....#....#....#...###.", 0},
    {'j', "...#........##....#....#.#..#..##..", 0},
    {'k', "#....#....#..#.#.#..##...#.#..#..#.", 0},
    {'l', ".##....#....#....#....#....#...###.", 0},
    {'m', "..........##.#.#.#.##.#.##...##...#", 0},
    {'n', "..........#.##.##..##...##...##...#", 0},
    {'o', "...........###.#...##...##...#.###.", 0},
    {'p', "####.#...##...##...#####.#....#....", 2},
    {'q', ".#####...##...##...#.####....#....#", 2},
    {'r', "..........#.##.##..##....#....#....", 0},
    {'s', "...........#####.....###.....#####.", 0},
    {'t', ".#....#...###...#....#....#..#..##.", 0},
    {'u', "..........#...##...##...##..##.##.#", 0},
    {'v', "..........#...##...##...#.#.#...#..", 0},
    {'w', "..........#...##...##.#.##.#.#.#.#.", 0},
    {'x', "..........#...#.#.#...#...#.#.#...#", 0},
    {'y', "#...##...##...##...#.####....#.###.", 2},
    {'z', "..........#####...#...#...#...#####", 0},
    {'0', ".###.#...##..###.#.###..##...#.###.", 0},
    {'1', "..#...##....#....#....#....#...###.", 0},
    {'2', ".###.#...#....#...#...#...#...#####", 0},
    {'3', "#####...#...#.....#.....##...#.###.", 0},
    {'4', "...#...##..#.#.#..#.#####...#....#.", 0},
    {'5', "######....####.....#....##...#.###.", 0},
    {'6', "..##..#...#....####.#...##...#.###.", 0},
    {'7', "#####....#...#...#...#....#....#...", 0},
    {'8', ".###.#...##...#.###.#...##...#.###.", 0},
    {'9', ".###.#...##...#.####....#...#..##..", 0},
    {'_', "..............................#####", 0},
    {'.', "..........................##...##..", 0},
    {',', ".....................##....#...#...", 0},
    {':', "......##...##........##...##.......", 0},
    {'%', "##...##..#...#...#...#...#..##...##", 0},
    {'-', "...............#####...............", 0},
    {'=', "..........#####.....#####..........", 0},
    {'(', "...#...#...#....#....#.....#.....#.", 0},
    {')', ".#.....#.....#....#....#...#...#...", 0},
    {'/', ".........#...#...#...#...#.........", 0},
    {'<', "...#...#...#...#.....#.....#.....#.", 0},
    {'#', ".#.#..#.#.#####.#.#.#####.#.#..#.#.", 0},
    {'?', ".###.#...#....#...#...#.........#..", 0},
    {' ', "...................................", 0},
};

static const glyph *glyph_of(char ch) {
    if (ch >= 'A' && ch <= 'Z') ch = (char)(ch - 'A' + 'a');
    const glyph *q = NULL;
    for (size_t i = 0; i < sizeof FONT / sizeof FONT[0]; i++) {
        if (FONT[i].ch == ch) return &FONT[i];
        if (FONT[i].ch == '?') q = &FONT[i];
    }
    return q;
}

typedef struct { unsigned char *rgb; int w, h; } canvas;

static void put(canvas *cv, int x, int y, const unsigned char col[3]) {
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h) return;
    memcpy(cv->rgb + ((size_t)y * cv->w + x) * 3, col, 3);
}

static void fill_rect(canvas *cv, int x0, int y0, int w, int h, const unsigned char col[3]) {
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) put(cv, x, y, col);
}

/* Text with its top-left corner at (x, y); up != 0 writes it upwards (rotated a
 * quarter turn anticlockwise) starting at (x, y) as the bottom-left corner. */
static void draw_text(canvas *cv, int x, int y, const char *s, const unsigned char col[3], int up) {
    for (int i = 0; s[i]; i++) {
        const glyph *g = glyph_of(s[i]);
        for (int r = 0; r < FONT_H; r++)
            for (int cc = 0; cc < FONT_W; cc++) {
                if (g->rows[r * FONT_W + cc] != '#') continue;
                for (int dy = 0; dy < SCALE; dy++)
                    for (int dx = 0; dx < SCALE; dx++) {
                        int gx = i * ADV + cc * SCALE + dx, gy = (r + g->drop) * SCALE + dy;
                        if (up) put(cv, x + gy, y - gx, col);
                        else put(cv, x + gx, y + gy, col);
                    }
            }
    }
}

static int text_w(const char *s) { return (int)strlen(s) * ADV; }

ic_status ic_confusion_png(const ic_confusion *c, const char *const *labels, const char *title,
                           const char *path, ic_error *err) {
    const int C = IC_CONFUSION_CELL_PX, k = c->k;
    char buf[160];
    int row_w = 0, col_h = 0;
    for (int t = 0; t < k; t++) {
        snprintf(buf, sizeof buf, "%s (%lld)", labels[t], ic_confusion_support(c, t));
        if (text_w(buf) > row_w) row_w = text_w(buf);
        if (text_w(labels[t]) > col_h) col_h = text_w(labels[t]);
    }
    const char *axes = "rows: true, columns: predicted, % of row";
    int grid_x = MARGIN + row_w + 8, grid_y = MARGIN + 2 * (TEXT_H + 6) + col_h + 8;
    int width = grid_x + k * C + MARGIN;
    int min_w = 2 * MARGIN + text_w(axes);
    if (title && 2 * MARGIN + text_w(title) > min_w) min_w = 2 * MARGIN + text_w(title);
    if (width < min_w) width = min_w;
    int bar_y = grid_y + k * C + 16;
    int height = bar_y + 16 + 6 + TEXT_H + MARGIN;
    canvas cv = {calloc((size_t)width * height * 3, 1), width, height};
    if (!cv.rgb) return ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory for a %d x %d picture", path, width, height);
    const unsigned char white[3] = {255, 255, 255}, black[3] = {0, 0, 0}, grey[3] = {200, 200, 200};
    fill_rect(&cv, 0, 0, width, height, white);
    ic_colormap cm;
    ic_colormap_viridis(&cm);

    int ty = MARGIN;
    if (title) { draw_text(&cv, MARGIN, ty, title, black, 0); }
    draw_text(&cv, MARGIN, ty + TEXT_H + 6, axes, black, 0);
    for (int t = 0; t < k; t++) {
        long long sup = ic_confusion_support(c, t);
        snprintf(buf, sizeof buf, "%s (%lld)", labels[t], sup);
        draw_text(&cv, grid_x - 8 - text_w(buf), grid_y + t * C + (C - TEXT_H) / 2, buf, black, 0);
        draw_text(&cv, grid_x + t * C + (C - TEXT_H) / 2, grid_y - 8, labels[t], black, 1);
        for (int p = 0; p < k; p++) {
            long long v = c->cell[(size_t)t * k + p];
            int x0 = grid_x + p * C, y0 = grid_y + t * C;
            if (!sup) { fill_rect(&cv, x0, y0, C - 1, C - 1, grey); continue; }
            double f = (double)v / (double)sup;
            const unsigned char *col = cm.rgb[(int)lround(f * 255)];
            fill_rect(&cv, x0, y0, C - 1, C - 1, col);
            if (!v) continue;
            int pct = (int)lround(100 * f);
            if (pct == 0) snprintf(buf, sizeof buf, "<1");
            else snprintf(buf, sizeof buf, "%d", pct);
            /* dark text on the light (yellow-green) end of the map, white on the dark end */
            double lum = 0.299 * col[0] + 0.587 * col[1] + 0.114 * col[2];
            draw_text(&cv, x0 + (C - 1 - text_w(buf) + SCALE) / 2, y0 + (C - 1 - TEXT_H) / 2, buf,
                      lum > 128 ? black : white, 0);
        }
    }
    /* colour scale: 0% .. 100% under the grid */
    int bar_w = k * C;
    for (int x = 0; x < bar_w; x++)
        fill_rect(&cv, grid_x + x, bar_y, 1, 16, cm.rgb[(int)lround(255.0 * x / (bar_w > 1 ? bar_w - 1 : 1))]);
    draw_text(&cv, grid_x, bar_y + 22, "0%", black, 0);
    draw_text(&cv, grid_x + bar_w - text_w("100%"), bar_y + 22, "100%", black, 0);
    ic_status st = ic_png_write_rgb(path, cv.rgb, width, height, err);
    free(cv.rgb);
    return st;
}
