/* Command-line plumbing shared by the programs in train/ and infer/: whole-string
 * number parsing with range checks, --help, and the bad-usage message with its exit status.
 * Not an option parser (each program walks its own argv) and not for library code. */
#ifndef IC_CLI_H
#define IC_CLI_H

/* All of s as a base-10 integer in [lo, hi] into *out; returns 0, or -1 with *out untouched
 * when s is NULL or empty, starts with white space, has anything after the number, or is out of range. */
int ic_cli_parse_long(const char *s, long lo, long hi, long *out);
/* ic_cli_parse_long for an int. */
int ic_cli_parse_int(const char *s, int lo, int hi, int *out);
/* All of s as an unsigned base-10 integer (no minus sign) of at most 64 bits, e.g. a seed or a count. */
int ic_cli_parse_u64(const char *s, unsigned long long *out);
/* All of s as a finite number (as strtod reads it) in [lo, hi]. */
int ic_cli_parse_double(const char *s, double lo, double hi, double *out);
/* 1 when arg is --help or -h, after printing usage on standard output (the caller then
 * exits 0); else 0. */
int ic_cli_help(const char *arg, const char *usage);
/* Prints "PROG: MESSAGE" and "(PROG --help for usage)" on standard error; returns 2, the exit status for bad usage. */
int ic_cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
