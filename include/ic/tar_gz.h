/* Streaming reader for tar archives, gzip-compressed or plain (zlib's gzread reads
 * both).  Entries are visited once, in archive order: nothing is unpacked to disk and
 * nothing seeks back, so a 20 GB .tar.gz costs one pass of inflate and flat memory.
 * Understands ustar/GNU/PAX names (the ustar prefix field, GNU 'L' long names, PAX
 * "path", "size" and "mtime" records) and octal or base-256 numbers, and verifies every
 * header checksum.  The archive is untrusted: a corrupted or truncated gzip stream, a
 * bad checksum or a missing end-of-archive marker is an error naming the file and the
 * offset, never a crash.  Not a tar writer. */
#ifndef IC_TAR_GZ_H
#define IC_TAR_GZ_H
#include <stddef.h>
#include "ic/error.h"

#define IC_TAR_NAME_MAX 4096

typedef struct {
    char name[IC_TAR_NAME_MAX]; /* member path, leading "./" removed */
    char type;                  /* '0' regular file, '5' directory, '2' symlink, ... */
    unsigned long long size;    /* data bytes of this entry (0 for links, directories) */
    long long mtime;            /* seconds since the epoch */
    unsigned long long offset;  /* offset of its header in the uncompressed stream */
} ic_tar_entry;

typedef struct ic_tar ic_tar;

/* Opens path (gzip or plain tar).  NULL + IC_ERR_IO when it cannot be opened. */
ic_tar *ic_tar_open(const char *path, ic_error *err);
/* Moves to the next entry, skipping the unread rest of the current one.  Returns 1
 * with *e filled, 0 at the end-of-archive marker, -1 + err on a broken archive. */
int ic_tar_next(ic_tar *t, ic_tar_entry *e, ic_error *err);
/* Reads up to n bytes of the current entry's data into buf.  Returns the count (0 at
 * the end of the entry) or -1 + err. */
long long ic_tar_read(ic_tar *t, void *buf, size_t n, ic_error *err);
/* Reads the whole current entry into *data (malloc'd, NUL-terminated, *n bytes);
 * IC_ERR_FORMAT when it is larger than max bytes. */
ic_status ic_tar_read_all(ic_tar *t, size_t max, char **data, size_t *n, ic_error *err);
/* Closes the archive (t may be NULL). */
void ic_tar_close(ic_tar *t);

#endif
