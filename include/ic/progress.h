/* Progress reporting on stderr: a bar with rate and ETA when stderr is a
 * terminal, a plain line every few seconds otherwise (logs, CI). */
#ifndef IC_PROGRESS_H
#define IC_PROGRESS_H
#include <stddef.h>

typedef struct {
    char label[48];
    char unit[16];
    size_t total, done;
    double start, last_print;
    int tty, quiet;
    char extra[96];   /* free text shown after the rate, e.g. "loss 0.41" */
} ic_progress;

/* Starts a progress report of total units (quiet != 0: print nothing). */
void ic_progress_start(ic_progress *p, const char *label, const char *unit, size_t total, int quiet);
/* Sets done to n and redraws when due. */
void ic_progress_update(ic_progress *p, size_t n);
/* Final line with the total time and rate. */
void ic_progress_finish(ic_progress *p);

#endif
