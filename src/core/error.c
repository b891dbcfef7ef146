/* Error records and checked allocation helpers. */
#include "ic/error.h"
#include <stdarg.h>
#include <string.h>

ic_status ic_error_set(ic_error *err, ic_status code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

void ic_error_clear(ic_error *err) {
    if (!err) return;
    err->code = IC_OK;
    err->msg[0] = '\0';
}

void *ic_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    IC_ASSERT(p != NULL);
    return p;
}

void *ic_xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    IC_ASSERT(p != NULL);
    return p;
}
