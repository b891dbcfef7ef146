/* Scoring classifiers: a confusion matrix (rows = true class, columns = predicted)
 * with accuracy and per-class precision / recall / F1, as JSON, as a text table and as
 * a PNG picture; pitch scoring (exact MIDI and pitch class); and rate helpers.
 * Undefined ratios (nothing to divide by) are NAN here and null in JSON.
 * Not here: running the model (ic/predict.h). */
#ifndef IC_METRICS_H
#define IC_METRICS_H
#include <stdio.h>
#include <cjson/cJSON.h>
#include "ic/error.h"

typedef struct {
    int k;               /* classes */
    long long *cell;     /* (k, k): cell[t * k + p] = examples of true class t predicted as p */
    long long n;         /* examples added */
} ic_confusion;

/* k >= 1 classes, all counts zero. */
ic_confusion *ic_confusion_new(int k);
void ic_confusion_free(ic_confusion *c);
/* Counts one example; truth and pred in [0, k). */
void ic_confusion_add(ic_confusion *c, int truth, int pred);
/* trace / n. */
double ic_confusion_accuracy(const ic_confusion *c);
/* Examples of true class t (row sum) / predicted as class t (column sum). */
long long ic_confusion_support(const ic_confusion *c, int t);
long long ic_confusion_predicted(const ic_confusion *c, int t);
/* cell[t][t] / predicted(t); NAN when t was never predicted. */
double ic_confusion_precision(const ic_confusion *c, int t);
/* cell[t][t] / support(t); NAN when t has no examples. */
double ic_confusion_recall(const ic_confusion *c, int t);
/* Harmonic mean of the two; NAN when either is NAN, 0 when both are 0. */
double ic_confusion_f1(const ic_confusion *c, int t);
/* Mean recall over the classes that have examples (balanced accuracy); NAN when none. */
double ic_confusion_mean_recall(const ic_confusion *c);

/* [[row 0 counts], [row 1 counts], ...]; NULL when out of memory. */
cJSON *ic_confusion_matrix_json(const ic_confusion *c);
/* {"LABEL": {"precision", "recall", "f1", "support", "predicted"}, ...} in class order. */
cJSON *ic_confusion_per_class_json(const ic_confusion *c, const char *const *labels);
/* Per-class table: class, precision, recall, F1, support. */
void ic_confusion_print_per_class(FILE *f, const ic_confusion *c, const char *const *labels);
/* Counts with the true class down the side and the predicted class across the top
 * (column headers are the labels cut to 6 characters). */
void ic_confusion_print(FILE *f, const ic_confusion *c, const char *const *labels);

/* Picture of the row-normalised matrix: cells of IC_CONFUSION_CELL_PX coloured by
 * viridis (0 -> dark, 100% of the row -> yellow) with the percentage written in each
 * non-empty cell, true-class labels (with their counts) on the left, predicted-class
 * labels written upwards above the columns, title on top, colour scale below.
 * Classes without examples are grey rows.  Written atomically (ic_png_write_rgb). */
#define IC_CONFUSION_CELL_PX 44
ic_status ic_confusion_png(const ic_confusion *c, const char *const *labels, const char *title,
                           const char *path, ic_error *err);

/* Pitch scoring: exact MIDI and pitch class (chroma: same note name, any octave). */
typedef struct { long long n, exact, chroma; } ic_pitch_score;
/* Counts one example with MIDI numbers truth and pred. */
void ic_pitch_score_add(ic_pitch_score *s, int truth, int pred);
/* 1 when a and b are the same pitch class (differ by a multiple of 12). */
int ic_same_chroma(int a, int b);

/* a / b, NAN when b == 0. */
double ic_ratio(long long a, long long b);
/* A number, or null for NAN / infinity (JSON has no NaN). */
cJSON *ic_json_number(double v);
#endif
