/* Command-line number parsing, --help and the bad-usage message (ic/cli.h).  Strict on purpose:
 * strtol alone accepts "12abc", " 12" and an empty string, and strtoull turns "-1" into
 * a huge number, so every check below rejects something a user could mistype. */
#include "ic/cli.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NULL, "" and a leading space are never a number on a command line. */
static int starts_badly(const char *s) { return !s || !*s || isspace((unsigned char)*s); }

int ic_cli_parse_long(const char *s, long lo, long hi, long *out) {
    if (starts_badly(s)) return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int ic_cli_parse_int(const char *s, int lo, int hi, int *out) {
    long v;
    if (ic_cli_parse_long(s, lo, hi, &v)) return -1;
    *out = (int)v;
    return 0;
}

int ic_cli_parse_u64(const char *s, unsigned long long *out) {
    if (starts_badly(s) || *s == '-') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int ic_cli_parse_double(const char *s, double lo, double hi, double *out) {
    if (starts_badly(s)) return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || !(v >= lo && v <= hi)) return -1;
    *out = v;
    return 0;
}

int ic_cli_help(const char *arg, const char *usage) {
    if (strcmp(arg, "--help") != 0 && strcmp(arg, "-h") != 0) return 0;
    fputs(usage, stdout);
    return 1;
}

int ic_cli_usage_error(const char *prog, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n(%s --help for usage)\n", prog, msg, prog);
    return 2;
}
