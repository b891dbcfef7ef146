/* bench_icinfer: end-to-end speed of the main program: a generated 10-minute
 * 44.1 kHz stereo recording (a melody of harmonic notes with vibrato, a little
 * noise) through bin/icinfer --json in a child process: wall time, real-time factor
 * (audio seconds per wall second) and the child's peak resident memory (wait4).
 * Everything icinfer does is inside: decoding, downmix, resampling to the model
 * rate, features, the network on every window, and the JSON output.
 * The file is written to a temporary directory (or $IC_BENCH_DIR) and deleted.
 * Prints one markdown table on stdout; progress on stderr. */
#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ic/rng.h"
#include "ic/timer.h"

#define RATE 44100
#define NOTE_SECONDS 0.5

static void usage(FILE *f) {
    fprintf(f,
            "usage: bench_icinfer --icinfer PATH --weights FILE [--minutes M] [--threads N]\n"
            "  Writes an M-minute (default 10) 44.1 kHz stereo 16-bit wav, runs\n"
            "  PATH --weights FILE --json on it in a child process, and reports wall time,\n"
            "  real-time factor and the child's peak RSS as markdown on stdout.\n"
            "  --threads N is passed on to icinfer (default: its own, all cores).\n");
}

/* A melody: notes of NOTE_SECONDS from a pentatonic scale, 6 harmonics with
 * decaying amplitudes, vibrato and an attack/release envelope; the right channel
 * is the left one slightly delayed and quieter, plus independent noise. */
static int write_recording(const char *path, double seconds) {
    SF_INFO in = {.samplerate = RATE, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &in);
    if (!sf) { fprintf(stderr, "bench_icinfer: %s: %s\n", path, sf_strerror(NULL)); return -1; }
    static const int SCALE[5] = {0, 2, 4, 7, 9};
    ic_rng r;
    ic_rng_seed(&r, 3);
    enum { BLOCK = 4096, DELAY = 220 };
    float *b = malloc(2 * BLOCK * sizeof *b), hist[DELAY] = {0};
    if (!b) { sf_close(sf); return -1; }
    long n = (long)(seconds * RATE), note_len = (long)(NOTE_SECONDS * RATE);
    double phase = 0, f0 = 220;
    int rc = 0;
    for (long t0 = 0; t0 < n && !rc; t0 += BLOCK) {
        long k = n - t0 < BLOCK ? n - t0 : BLOCK;
        for (long i = 0; i < k; i++) {
            long t = t0 + i, pos = t % note_len;
            if (pos == 0) f0 = 110.0 * pow(2.0, (12 * (int)ic_rng_below(&r, 3) + SCALE[ic_rng_below(&r, 5)]) / 12.0);
            double time = (double)t / RATE;
            phase += 2 * M_PI * f0 * (1 + 0.004 * sin(2 * M_PI * 5.5 * time)) / RATE;
            double env = fmin(1.0, pos / (0.02 * RATE)) * exp(-2.0 * pos / (double)note_len);
            double v = 0;
            for (int h = 1; h <= 6; h++) v += sin(h * phase) / (h * h);
            v = 0.4 * env * v;
            float left = (float)(v + 0.003 * (ic_rng_uniform(&r) - 0.5));
            b[2 * i] = left;
            b[2 * i + 1] = 0.8f * hist[t % DELAY] + (float)(0.003 * (ic_rng_uniform(&r) - 0.5));
            hist[t % DELAY] = left;
        }
        if (sf_writef_float(sf, b, k) != k) {
            fprintf(stderr, "bench_icinfer: %s: write failed: %s\n", path, sf_strerror(sf));
            rc = -1;
        }
    }
    free(b);
    if (sf_close(sf) != 0) rc = -1;
    return rc;
}

int main(int argc, char **argv) {
    const char *icinfer = NULL, *weights = NULL, *threads = NULL;
    double minutes = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        if (i + 1 >= argc) { fprintf(stderr, "bench_icinfer: incomplete argument '%s'\n", argv[i]); return 2; }
        const char *a = argv[i], *v = argv[++i];
        if (!strcmp(a, "--icinfer")) icinfer = v;
        else if (!strcmp(a, "--weights")) weights = v;
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--minutes")) {
            char *end;
            minutes = strtod(v, &end);
            if (*end || !(minutes > 0 && minutes <= 600)) {
                fprintf(stderr, "bench_icinfer: --minutes: expected (0, 600], found '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "bench_icinfer: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!icinfer || !weights) { fprintf(stderr, "bench_icinfer: --icinfer and --weights are required\n"); return 2; }

    char dir[512], wav[600], out[600];
    const char *base = getenv("IC_BENCH_DIR");
    snprintf(dir, sizeof dir, "%s/ic_bench_icinfer_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) { fprintf(stderr, "bench_icinfer: mkdtemp %s: %s\n", dir, strerror(errno)); return 1; }
    snprintf(wav, sizeof wav, "%s/recording_44k_stereo.wav", dir);
    snprintf(out, sizeof out, "%s/icinfer.json", dir);
    double seconds = 60 * minutes;
    fprintf(stderr, "bench_icinfer: writing %.0f s of 44.1 kHz stereo to %s\n", seconds, wav);
    int rc = write_recording(wav, seconds) ? 1 : 0;
    double wall = 0, rss_mb = 0;
    int status = -1;
    if (!rc) {
        fprintf(stderr, "bench_icinfer: %s --weights %s --json %s\n", icinfer, weights, wav);
        double t0 = ic_now();
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen(out, "w", stdout)) _exit(127);
            if (threads) execl(icinfer, icinfer, "--weights", weights, "--json", "--threads", threads, wav, (char *)NULL);
            else execl(icinfer, icinfer, "--weights", weights, "--json", wav, (char *)NULL);
            _exit(127);
        }
        struct rusage ru;
        if (pid < 0 || wait4(pid, &status, 0, &ru) != pid) {
            fprintf(stderr, "bench_icinfer: running %s failed: %s\n", icinfer, strerror(errno));
            rc = 1;
        } else {
            wall = ic_now() - t0;
            rss_mb = ru.ru_maxrss / 1024.0; /* Linux reports KiB */
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "bench_icinfer: %s exited with status %d\n", icinfer,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1);
                rc = 1;
            }
        }
    }
    /* how many windows icinfer reported: a sanity check that it did the whole file */
    long windows = 0;
    FILE *f = rc ? NULL : fopen(out, "r");
    if (f) {
        char line[4096];
        while (fgets(line, sizeof line, f))
            for (char *p = line; (p = strstr(p, "\"start\"")); p++) windows++;
        fclose(f);
    }
    if (!rc) {
        printf("| input | audio (s) | windows | wall (s) | real-time factor (audio s / wall s) | peak RSS (MB) |\n");
        printf("|---|---:|---:|---:|---:|---:|\n");
        printf("| %g min, 44.1 kHz stereo 16-bit wav (%s) | %.0f | %ld | %.2f | %.0fx | %.1f |\n", minutes,
               "decode, resample to the model rate, features, network, JSON", seconds, windows, wall, seconds / wall,
               rss_mb);
    }
    unlink(wav);
    unlink(out);
    rmdir(dir);
    return rc;
}
