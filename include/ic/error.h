/* Errors: two kinds.  A broken internal rule is IC_ASSERT (file and line, abort).
 * Untrusted input (files, flags) gets a status code and a message in an ic_error
 * that the caller passes in explicitly: no global "last error". Only main exits. */
#ifndef IC_ERROR_H
#define IC_ERROR_H
#include <stdio.h>
#include <stdlib.h>

typedef enum {
    IC_OK = 0,
    IC_ERR_IO,          /* open/read/write failed */
    IC_ERR_FORMAT,      /* file contents are not what was expected */
    IC_ERR_NOMEM,       /* allocation failed */
    IC_ERR_ARG,         /* bad parameter from the caller or the command line */
    IC_ERR_UNSUPPORTED  /* valid but not handled (codec, dtype, version) */
} ic_status;

typedef struct {
    ic_status code;
    char msg[512];
} ic_error;

/* Records code and a printf-style message in err (err may be NULL); returns code. */
ic_status ic_error_set(ic_error *err, ic_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Clears err to IC_OK with an empty message. */
void ic_error_clear(ic_error *err);

#define IC_ASSERT(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: internal error: assertion '%s' failed\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

/* malloc/calloc that assert on failure for small internal allocations. */
void *ic_xmalloc(size_t n);
void *ic_xcalloc(size_t n, size_t size);

#endif
