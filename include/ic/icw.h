/* The .icw container: ic's own weights / checkpoint file format.
 *
 * Layout (all integers little-endian):
 *   0   8 bytes  magic "ICWEIGHT"
 *   8   u32      format version (IC_ICW_VERSION)
 *   12  u32      flags (0)
 *   16  u64      header_len: bytes of the JSON header that follows
 *   24  header   UTF-8 JSON: {"kind": "...", "meta": {...}, "tensors": [
 *                  {"name", "dtype": "f32"|"i32"|"u8", "shape": [..], "offset", "nbytes"}]}
 *                offsets are relative to data_start and multiples of 64
 *   ..  zero padding to data_start = round_up(24 + header_len, 64)
 *   data_start   tensor data, data_len bytes (= end of the last tensor, 64-aligned)
 *   end-4 u32    CRC32 (zlib) of every byte before it
 *
 * "meta" is free JSON owned by the caller (architecture, front end, labels,
 * training state).  The reader treats the file as hostile: every length,
 * offset, shape and type is checked and each problem is a one-line error
 * naming the file.  Writers go to "PATH.tmp" and rename, so an interrupted
 * write never destroys the previous file. */
#ifndef IC_ICW_H
#define IC_ICW_H
#include <stddef.h>
#include <stdint.h>
#include "ic/error.h"

#define IC_ICW_MAGIC "ICWEIGHT"
#define IC_ICW_VERSION 1u
#define IC_ICW_MAX_DIMS 8
#define IC_ICW_NAME_MAX 96

typedef enum { IC_DTYPE_F32 = 0, IC_DTYPE_I32, IC_DTYPE_U8 } ic_dtype;

typedef struct {
    char name[IC_ICW_NAME_MAX];
    ic_dtype dtype;
    int ndim;
    int64_t shape[IC_ICW_MAX_DIMS];
    size_t nbytes;
    const void *data;   /* writer: caller's bytes; reader: points into the loaded file */
} ic_icw_tensor;

/* Writes kind, meta_json (a JSON object text, or NULL for {}) and the tensors
 * to path atomically (tmp + fsync + rename). */
ic_status ic_icw_write(const char *path, const char *kind, const char *meta_json,
                       const ic_icw_tensor *tensors, size_t n_tensors, ic_error *err);

typedef struct ic_icw_file {
    char *kind;            /* "model", "checkpoint", ... */
    char *meta_json;       /* the "meta" object printed back as JSON text */
    size_t n_tensors;
    ic_icw_tensor *tensors;
    void *blob;            /* whole file in memory; tensors' data point into it */
    size_t blob_size;
} ic_icw_file;

/* Reads and fully validates path; NULL with err set on any problem. */
ic_icw_file *ic_icw_read(const char *path, ic_error *err);
/* Tensor by name, or NULL. */
const ic_icw_tensor *ic_icw_find(const ic_icw_file *f, const char *name);
/* Frees f (NULL allowed). */
void ic_icw_free(ic_icw_file *f);
/* Bytes per element of a dtype. */
size_t ic_dtype_size(ic_dtype t);
/* "f32" / "i32" / "u8". */
const char *ic_dtype_name(ic_dtype t);

#endif
