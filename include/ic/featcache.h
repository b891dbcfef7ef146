/* Feature cache: the front-end features of every clip of one NSynth split, computed
 * once (OpenMP over clips, progress bar), stored as float16 in one file per split,
 * memory-mapped on open, so a second training run starts in seconds.
 *
 * The file is keyed by a 64-bit FNV-1a hash of the cache format version, the front
 * end's parameters (ic_frontend_to_json), the clip length, and the clip list in order
 * (folders: each wav's name, size and mtime; archives: each member's name plus the
 * archive's size and mtime).  Opening a cache whose key, shape or size does not match
 * rebuilds it; a rebuild writes a temporary file in the same directory and renames it
 * over the old one, so an interrupted or failed build never leaves a torn cache.
 *
 * File layout (little-endian, this host's f16 bit patterns):
 *   0   "ICFCACHE"              8 bytes
 *   8   u32 version (1)         12  u32 0x01020304 (byte-order mark)
 *   16  u64 key                 24  u64 n_clips
 *   32  u32 n_features          36  u32 n_frames
 *   40  u64 clip_samples        48  u64 data_offset (4096-aligned)
 *   56  u64 data_bytes          64  u32 json_len, then zeros up to 128
 *   128 front-end JSON (json_len bytes), zeros up to data_offset
 *   data_offset: clip-major f16: clip i at (i * n_features + band) * n_frames + t
 *
 * Every clip is cut or zero-padded to clip_samples before the front end (the reader
 * validates lengths; this only makes the matrix rectangular). */
#ifndef IC_FEATCACHE_H
#define IC_FEATCACHE_H
#include <stddef.h>
#include <stdint.h>
#include "ic/error.h"
#include "ic/frontend.h"
#include "ic/nsynth.h"

#define IC_FEATCACHE_VERSION 1

typedef struct {
    const char *cache_dir;  /* directory of the cache files, created when missing */
    size_t clip_samples;    /* samples per clip; 0: 4 s at the front-end rate */
    int quiet;              /* 1: no progress bar or rebuild notice on stderr */
} ic_featcache_opts;

typedef struct ic_featcache ic_featcache;

/* Opens the cache of split s under o->cache_dir, building it first when it is
 * missing or stale (*built = 1, else 0; built may be NULL).  The clips' rate must
 * equal the front end's (no resampling here).  NULL + err on a decode failure, an
 * I/O error or a rate mismatch; an existing cache file is then left untouched. */
ic_featcache *ic_featcache_open(const ic_nsynth_split *s, const ic_frontend *fe, const ic_featcache_opts *o,
                                int *built, ic_error *err);
void ic_featcache_close(ic_featcache *c);

size_t ic_featcache_n_clips(const ic_featcache *c);
int ic_featcache_n_features(const ic_featcache *c);
size_t ic_featcache_n_frames(const ic_featcache *c);
uint64_t ic_featcache_key(const ic_featcache *c);
const char *ic_featcache_path(const ic_featcache *c);
/* Clip i's features as stored: (n_features, n_frames) f16, inside the mapping. */
const uint16_t *ic_featcache_clip_f16(const ic_featcache *c, size_t i);
/* Clip i's features widened to f32: out (n_features, n_frames). */
void ic_featcache_get(const ic_featcache *c, size_t i, float *out);

/* The cache file path for split s: DIR/NAME-HASH8.icfc, HASH8 from the split's
 * absolute source path, so splits of different datasets never share a file. */
ic_status ic_featcache_path_for(const ic_nsynth_split *s, const char *cache_dir, char *path, size_t cap,
                                ic_error *err);
/* The key described above; IC_ERR_IO when a wav or the archive cannot be stat'ed. */
ic_status ic_featcache_compute_key(const ic_nsynth_split *s, const ic_frontend_params *p, size_t clip_samples,
                                   uint64_t *key, ic_error *err);

/* IEEE 754 binary16 <-> binary32.  f32 -> f16 rounds to nearest, ties to even;
 * overflow gives +-inf, tiny values become subnormals or +-0, NaN stays NaN (quiet,
 * sign kept).  f16 -> f32 is exact. */
uint16_t ic_f32_to_f16(float x);
float ic_f16_to_f32(uint16_t h);

#endif
