/* Audio front-end benchmark: decode + downmix + resample speed (seconds of audio per
 * second of wall time) for generated 10-minute 44.1 kHz stereo files, peak memory
 * while decoding block by block (each decode runs in a child process so its
 * ru_maxrss is its own), and single-thread feature extraction speed.  The inputs are
 * generated into a temporary directory (or $IC_BENCH_DIR) and deleted afterwards.
 * Prints a markdown table on stdout; progress on stderr. */
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ic/audio.h"
#include "ic/frontend.h"
#include "ic/rng.h"
#include "ic/threads.h"
#include "ic/timer.h"

#define RATE 44100
#define BLOCK 65536

/* Writes `seconds` of stereo test signal (a slow sweep, a tone and a little noise). */
static int write_file(const char *path, int format, double seconds) {
    SF_INFO in = { .samplerate = RATE, .channels = 2, .format = format };
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    if (!sf) {
        fprintf(stderr, "bench_audio: %s: %s\n", path, sf_strerror(NULL));
        return -1;
    }
    ic_rng r;
    ic_rng_seed(&r, 1);
    float *b = malloc(2 * 4096 * sizeof *b);
    if (!b) { sf_close(sf); return -1; }
    long n = (long)(seconds * RATE);
    double phase = 0;
    for (long t0 = 0; t0 < n; t0 += 4096) {
        long k = n - t0 < 4096 ? n - t0 : 4096;
        for (long t = 0; t < k; t++) {
            double time = (double)(t0 + t) / RATE;
            phase += 2 * M_PI * (200 + 100 * sin(time)) / RATE;
            double v = 0.3 * sin(phase) + 0.05 * (ic_rng_uniform(&r) - 0.5);
            b[2 * t] = (float)(v + 0.2 * sin(2 * M_PI * 440 * time));
            b[2 * t + 1] = (float)v;
        }
        if (sf_writef_float(sf, b, k) != k) {
            fprintf(stderr, "bench_audio: %s: write failed: %s\n", path, sf_strerror(sf));
            free(b);
            sf_close(sf);
            return -1;
        }
    }
    free(b);
    return sf_close(sf) == 0 ? 0 : -1;
}

typedef struct {
    double wall, audio_s;   /* decode time and decoded duration */
    long samples;
    int ok;
} decode_result;

/* Child body: decode path in BLOCK-sample reads (whole = 0) or ic_audio_load (whole = 1). */
static decode_result decode(const char *path, int whole) {
    decode_result d = { 0 };
    ic_error e;
    double t = ic_now();
    if (whole) {
        float *x;
        size_t n;
        if (ic_audio_load(path, 16000, &x, &n, NULL, &e) != IC_OK) {
            fprintf(stderr, "bench_audio: %s\n", e.msg);
            return d;
        }
        d.samples = (long)n;
        free(x);
    } else {
        ic_audio *a = ic_audio_open(path, 16000, &e);
        if (!a) { fprintf(stderr, "bench_audio: %s\n", e.msg); return d; }
        float *buf = malloc(BLOCK * sizeof *buf);
        long r;
        while (buf && (r = ic_audio_read(a, buf, BLOCK, &e)) > 0) d.samples += r;
        free(buf);
        ic_audio_close(a);
        if (!buf || r < 0) { fprintf(stderr, "bench_audio: %s\n", buf ? e.msg : "out of memory"); return d; }
    }
    d.wall = ic_now() - t;
    d.audio_s = d.samples / 16000.0;
    d.ok = 1;
    return d;
}

/* Runs decode in a child; *rss_mb gets the child's peak resident set. */
static decode_result decode_in_child(const char *path, int whole, double *rss_mb) {
    decode_result d = { 0 };
    int fds[2];
    if (pipe(fds) != 0) return d;
    pid_t pid = fork();
    if (pid < 0) return d;
    if (pid == 0) {
        close(fds[0]);
        decode_result c = decode(path, whole);
        ssize_t w = write(fds[1], &c, sizeof c);
        _exit(w == (ssize_t)sizeof c && c.ok ? 0 : 1);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], &d, sizeof d);
    close(fds[0]);
    int st = 0;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid || got != (ssize_t)sizeof d || !WIFEXITED(st) || WEXITSTATUS(st)) {
        d.ok = 0;
        return d;
    }
    *rss_mb = ru.ru_maxrss / 1024.0;   /* Linux reports KiB */
    return d;
}

static double file_mb(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    double mb = ftell(f) / 1048576.0;
    fclose(f);
    return mb;
}

int main(void) {
    ic_audio_quiet_backends();
    char dir[512];
    const char *base = getenv("IC_BENCH_DIR");
    snprintf(dir, sizeof dir, "%s/ic_bench_audio_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_audio: mkdtemp %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char wav10[600], flac10[600], wav1[600], wav60[600];
    snprintf(wav10, sizeof wav10, "%s/10min_44k_stereo.wav", dir);
    snprintf(flac10, sizeof flac10, "%s/10min_44k_stereo.flac", dir);
    snprintf(wav1, sizeof wav1, "%s/1min_44k_stereo.wav", dir);
    snprintf(wav60, sizeof wav60, "%s/60min_44k_stereo.wav", dir);
    int rc = 0;
    fprintf(stderr, "bench_audio: generating test files in %s\n", dir);
    if (write_file(wav10, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 600) || write_file(wav1, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 60) ||
        write_file(flac10, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 600) ||
        write_file(wav60, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 3600)) {
        rc = 1;
        goto done;
    }

    printf("| benchmark | input | audio (s) | wall (s) | audio s / wall s | peak RSS (MB) |\n");
    printf("|---|---|---:|---:|---:|---:|\n");
    struct { const char *what, *path, *label; int whole; } runs[] = {
        { "decode + resample to 16 kHz, 64k-sample blocks", wav1, "1 min 44.1 kHz stereo s16 wav", 0 },
        { "decode + resample to 16 kHz, 64k-sample blocks", wav10, "10 min 44.1 kHz stereo s16 wav", 0 },
        { "decode + resample to 16 kHz, 64k-sample blocks", flac10, "10 min 44.1 kHz stereo s16 flac", 0 },
        { "decode + resample to 16 kHz, 64k-sample blocks", wav60, "60 min 44.1 kHz stereo s16 wav", 0 },
        { "decode + resample, whole file in memory (ic_audio_load)", wav10, "10 min 44.1 kHz stereo s16 wav", 1 },
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        fprintf(stderr, "bench_audio: %s: %s (%.0f MB)\n", runs[i].what, runs[i].label, file_mb(runs[i].path));
        double rss = 0;
        decode_result d = decode_in_child(runs[i].path, runs[i].whole, &rss);
        if (!d.ok) { rc = 1; continue; }
        printf("| %s | %s | %.1f | %.2f | %.0f | %.1f |\n", runs[i].what, runs[i].label, d.audio_s,
               d.wall, d.audio_s / d.wall, rss);
    }

    /* Feature extraction: 60 s of 16 kHz audio through the default front end, one thread. */
    ic_threads_set(1);
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ic_error e;
    ic_frontend *f = ic_frontend_new(&p, &e);
    if (!f) { fprintf(stderr, "bench_audio: %s\n", e.msg); rc = 1; goto done; }
    size_t n = (size_t)60 * p.sample_rate;
    size_t frames = ic_frontend_n_frames(&p, n);
    float *x = malloc(n * sizeof *x);
    float *out = malloc((size_t)ic_frontend_n_features(&p) * frames * sizeof *out);
    float *work = malloc(ic_frontend_work_floats(f) * sizeof *work);
    if (x && out && work) {
        ic_rng r;
        ic_rng_seed(&r, 2);
        for (size_t i = 0; i < n; i++) x[i] = 0.5f * (ic_rng_uniform(&r) - 0.5f);
        int reps = 0;
        double t = ic_now(), wall;
        do {
            ic_frontend_compute(f, x, n, out, work);
            reps++;
            wall = ic_now() - t;
        } while (wall < 1.0 && reps < 100);
        printf("| feature extraction (default log-mel %d x %zu), 1 thread | 60 s at 16 kHz, x%d | %.1f | %.2f | %.0f | - |\n",
               ic_frontend_n_features(&p), frames, reps, 60.0 * reps, wall, 60.0 * reps / wall);
    } else {
        rc = 1;
    }
    free(x); free(out); free(work);
    ic_frontend_free(f);
done:
    unlink(wav10);
    unlink(wav1);
    unlink(flac10);
    unlink(wav60);
    rmdir(dir);
    return rc;
}
