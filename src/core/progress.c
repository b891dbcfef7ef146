/* Progress bar / periodic progress lines on stderr. */
#include "ic/progress.h"
#include "ic/timer.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void ic_progress_start(ic_progress *p, const char *label, const char *unit, size_t total, int quiet) {
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->unit, sizeof p->unit, "%s", unit);
    p->total = total;
    p->start = p->last_print = ic_now();
    p->tty = isatty(STDERR_FILENO);
    p->quiet = quiet;
}

static void fmt_time(char *buf, size_t n, double s) {
    if (s < 0 || s > 1e7) { snprintf(buf, n, "--:--"); return; }
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%02d:%02d", t / 60, t % 60);
}

static void draw(ic_progress *p, double now, int final) {
    double el = now - p->start;
    double rate = el > 0 ? (double)p->done / el : 0;
    double eta = rate > 0 && p->total > p->done ? (double)(p->total - p->done) / rate : 0;
    char tel[16], teta[16];
    fmt_time(tel, sizeof tel, el);
    fmt_time(teta, sizeof teta, eta);
    double frac = p->total ? (double)p->done / (double)p->total : 1.0;
    if (p->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r%s [%s] %zu/%zu %.1f %s/s %s eta %s %s\033[K%s", p->label, bar,
                p->done, p->total, rate, p->unit, tel, teta, p->extra, final ? "\n" : "");
    } else {
        fprintf(stderr, "%s: %zu/%zu (%.0f%%) %.1f %s/s elapsed %s eta %s %s\n", p->label,
                p->done, p->total, 100 * frac, rate, p->unit, tel, teta, p->extra);
    }
    fflush(stderr);
}

void ic_progress_update(ic_progress *p, size_t n) {
    p->done = n;
    if (p->quiet) return;
    double now = ic_now();
    double every = p->tty ? 0.1 : 10.0;
    if (now - p->last_print >= every) {
        p->last_print = now;
        draw(p, now, 0);
    }
}

void ic_progress_finish(ic_progress *p) {
    if (p->quiet) return;
    draw(p, ic_now(), 1);
}
