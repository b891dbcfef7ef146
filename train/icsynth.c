/* icsynth: renders an NSynth-format dataset from a General MIDI soundfont.  Builds the
 * job list (programs x pitches x velocities, or programs x phrases), renders it on N
 * worker threads (one fluidsynth synth each), writes one wav per example and merges
 * the entries into DIR/nsynth-SPLIT/examples.json in job order, saving every
 * CHECKPOINT_SECONDS and at the end.  Re-running the same command skips examples whose
 * entry and complete wav exist, so an interrupted run continues where it stopped.
 * The rendering itself is in src/synth/. */
#include <errno.h>
#include <fcntl.h>
#include <fluidsynth.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "ic/cli.h"
#include "ic/progress.h"
#include "ic/rng.h"
#include "ic/synth.h"
#include "ic/timer.h"

#define CHECKPOINT_SECONDS 30.0
#define DEFAULT_TABLE "datasets/gm_families.tsv"
#define DEFAULT_PHRASES 16

static const char PROG[] = "icsynth";

static const char USAGE[] =
    "usage: icsynth --soundfont FILE --out DIR --split NAME [options]\n"
    "\n"
    "Renders NSynth-format examples from a General MIDI soundfont (sf2/sf3) with\n"
    "libfluidsynth and appends them to DIR/nsynth-NAME/examples.json and\n"
    "DIR/nsynth-NAME/audio/NOTE_STR.wav.  Each example is 4.0 s of 16 kHz mono 16-bit\n"
    "audio, dry (reverb and chorus off); notes hold the key 3 s then release it.\n"
    "Renders that would clip are scaled down (\"peak_scale\" in the entry); silent ones\n"
    "(peak below -60 dBFS) and keys the soundfont has no sample for are skipped.\n"
    "Re-running the same command skips finished examples, so an interrupted run resumes.\n"
    "\n"
    "  --soundfont FILE     the soundfont\n"
    "  --out DIR            dataset root (created if missing)\n"
    "  --split NAME         split to append to, e.g. train; or NAME:W,NAME:W,... to assign\n"
    "                       each example by a stable hash of its note_str in proportion\n"
    "                       to the weights, e.g. valid:3,test:1\n"
    "  --mode notes|phrases single notes (default) or 4-second phrases\n"
    "  --programs LIST      GM programs (0-based), e.g. 0-7,24,40-46 (default: every\n"
    "                       program the family table maps to a family)\n"
    "  --velocities LIST    note velocities (default 25,50,75,100,127)\n"
    "  --pitch-step N       render every Nth pitch of each family's range, starting at\n"
    "                       low + program mod N so programs cover different pitches (default 1)\n"
    "  --phrases N          phrases per program in --mode phrases (default 16)\n"
    "  --seed N             phrase seed (default 0); phrases depend on it, the soundfont\n"
    "                       tag, the program and the phrase number only\n"
    "  --jobs N             worker threads, each with its own synth (default: all cores);\n"
    "  --threads N          the same, as on every ic program\n"
    "  --gain G             fluidsynth synth.gain (default 1.0)\n"
    "  --tag TAG            soundfont tag in names (default: from the file name, e.g.\n"
    "                       FluidR3_GM.sf2 -> fluidr3)\n"
    "  --table FILE         GM program table (default datasets/gm_families.tsv, also\n"
    "                       looked up next to the program as ../datasets/gm_families.tsv)\n"
    "  --quiet              no progress output\n"
    "  --help               this text\n"
    "\n"
    "Names: note_str FAMILY_SOURCE_TAG_PROGRAM-PITCH-VELOCITY for notes, e.g.\n"
    "guitar_acoustic_fluidr3_024-060-075, and FAMILY_SOURCE_TAG_PROGRAM-phrase-NNNN\n"
    "for phrases, whose entries add \"notes\": [{onset, offset, pitch, velocity}],\n"
    "\"tempo\" and \"style\"; a phrase's pitch and velocity are those of the lowest note\n"
    "of its first onset.\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure or interruption, 2 bad usage.\n";

typedef struct {
    const char *soundfont, *out, *split, *programs, *velocities, *table, *tag;
    int phrases_mode, pitch_step, n_phrases, jobs, quiet;
    unsigned long long seed;
    float gain;
} options;

enum { ST_PENDING = 0, ST_PRESENT, ST_RENDERED, ST_SILENT, ST_UNPLAYABLE, ST_FAILED };

typedef struct {
    short program, pitch, velocity, phrase;  /* phrase -1 for notes */
    signed char family, source, split;
    unsigned char in_json;                   /* entry present before this run */
    unsigned char status;                    /* set by a worker under the lock */
    float peak, scale;
    ic_phrase *ph;                           /* rendered phrase, until committed */
} job;

typedef struct {
    const options *o;
    char tag[32];
    ic_split_spec splits;
    char split_dir[IC_SYNTH_MAX_SPLITS][4096];
    job *jobs;
    size_t n_jobs, next, active;
    int stop;
    ic_error fail;                           /* first worker failure */
    pthread_mutex_t lock;
    pthread_cond_t cond;
} shared;

typedef struct {
    shared *sh;
    ic_synth *synth;                         /* may be preloaded by main */
    pthread_t thread;
} worker;

static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig) { (void)sig; g_interrupted = 1; }

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->pitch_step = 1;
    o->n_phrases = DEFAULT_PHRASES;
    o->gain = IC_SYNTH_DEFAULT_GAIN;
    o->velocities = "25,50,75,100,127";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (ic_cli_help(a, USAGE)) return 0;
        if (strcmp(a, "--quiet") == 0) { o->quiet = 1; continue; }
        static const char *const with_value[] = {"--soundfont", "--out", "--split", "--mode", "--programs",
            "--velocities", "--pitch-step", "--phrases", "--seed", "--jobs", "--threads", "--gain", "--tag", "--table"};
        int known = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) known |= strcmp(a, with_value[k]) == 0;
        if (!known) return ic_cli_usage_error(PROG, "unknown argument '%s'", a);
        if (i + 1 >= argc) return ic_cli_usage_error(PROG, "%s needs a value", a);
        const char *v = argv[++i];
        if (strcmp(a, "--soundfont") == 0) o->soundfont = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--split") == 0) o->split = v;
        else if (strcmp(a, "--programs") == 0) o->programs = v;
        else if (strcmp(a, "--velocities") == 0) o->velocities = v;
        else if (strcmp(a, "--table") == 0) o->table = v;
        else if (strcmp(a, "--tag") == 0) o->tag = v;
        else if (strcmp(a, "--mode") == 0) {
            if (strcmp(v, "notes") == 0) o->phrases_mode = 0;
            else if (strcmp(v, "phrases") == 0) o->phrases_mode = 1;
            else return ic_cli_usage_error(PROG, "--mode must be notes or phrases, found '%s'", v);
        } else if (strcmp(a, "--pitch-step") == 0) {
            if (ic_cli_parse_int(v, 1, 127, &o->pitch_step))
                return ic_cli_usage_error(PROG, "--pitch-step must be 1-127, found '%s'", v);
        } else if (strcmp(a, "--phrases") == 0) {
            if (ic_cli_parse_int(v, 1, 9999, &o->n_phrases))
                return ic_cli_usage_error(PROG, "--phrases must be 1-9999, found '%s'", v);
        } else if (strcmp(a, "--jobs") == 0 || strcmp(a, "--threads") == 0) {
            if (ic_cli_parse_int(v, 1, 256, &o->jobs))
                return ic_cli_usage_error(PROG, "%s must be 1-256, found '%s'", a, v);
        } else if (strcmp(a, "--seed") == 0) {
            if (ic_cli_parse_u64(v, &o->seed))
                return ic_cli_usage_error(PROG, "--seed must be a non-negative integer, found '%s'", v);
        } else if (strcmp(a, "--gain") == 0) {
            double g;
            if (ic_cli_parse_double(v, 0, 10, &g) || g <= 0)
                return ic_cli_usage_error(PROG, "--gain must be in (0, 10], found '%s'", v);
            o->gain = (float)g;
        }
    }
    if (!o->soundfont) return ic_cli_usage_error(PROG, "--soundfont is required");
    if (!o->out) return ic_cli_usage_error(PROG, "--out is required");
    if (!o->split) return ic_cli_usage_error(PROG, "--split is required");
    if (strlen(o->out) > 3000) return ic_cli_usage_error(PROG, "--out: path too long");
    if (o->tag) {
        size_t n = strlen(o->tag);
        int ok = n > 0 && n < 32;
        for (size_t k = 0; k < n; k++) ok &= (o->tag[k] >= 'a' && o->tag[k] <= 'z') || (o->tag[k] >= '0' && o->tag[k] <= '9');
        if (!ok)
            return ic_cli_usage_error(PROG, "--tag must be 1-31 lowercase letters and digits, found '%s'", o->tag);
    }
    return -1;
}

static void job_name(const shared *sh, const job *j, char *buf, size_t cap) {
    char inst[128];
    ic_synth_instrument_str(j->family, j->source, sh->tag, j->program, inst, sizeof inst);
    if (j->phrase >= 0) snprintf(buf, cap, "%s-phrase-%04d", inst, j->phrase);
    else snprintf(buf, cap, "%s-%03d-%03d", inst, j->pitch, j->velocity);
}

static void wav_path(const shared *sh, const job *j, char *buf, size_t cap) {
    char name[160];
    job_name(sh, j, name, sizeof name);
    snprintf(buf, cap, "%s/audio/%s.wav", sh->split_dir[(int)j->split], name);
}

/* The phrase of job j: a function of the seed, the instrument and the phrase number. */
static void make_phrase(const shared *sh, const job *j, ic_phrase *ph) {
    char inst[128], key[256];
    ic_synth_instrument_str(j->family, j->source, sh->tag, j->program, inst, sizeof inst);
    snprintf(key, sizeof key, "%llu:%s:%d", sh->o->seed, inst, j->phrase);
    ic_rng r;
    ic_rng_seed(&r, ic_synth_hash(key));
    ic_phrase_generate(&r, j->family, IC_SYNTH_SECONDS, ph);
}

/* Renders (or recognises as finished) one job; returns its status. */
static int run_job(shared *sh, ic_synth *synth, job *j, float *buf, ic_error *err) {
    char path[4300];
    wav_path(sh, j, path, sizeof path);
    if (j->in_json && ic_synth_wav_complete(path, IC_SYNTH_RATE, IC_SYNTH_FRAMES)) return ST_PRESENT;
    ic_render_info info;
    ic_status st;
    if (j->phrase >= 0) {
        j->ph = malloc(sizeof *j->ph);
        if (!j->ph) { ic_error_set(err, IC_ERR_NOMEM, "out of memory"); return ST_FAILED; }
        make_phrase(sh, j, j->ph);
        st = ic_synth_render_phrase(synth, j->program, j->ph, buf, &info, err);
    } else {
        st = ic_synth_render_note(synth, j->program, j->pitch, j->velocity, IC_SYNTH_HOLD_SECONDS, buf, &info, err);
    }
    if (st != IC_OK) return ST_FAILED;
    j->peak = info.peak;
    j->scale = info.scale;
    if (info.result == IC_RENDER_UNPLAYABLE) return ST_UNPLAYABLE;
    if (info.result == IC_RENDER_SILENT) return ST_SILENT;
    if (ic_synth_write_wav(path, buf, IC_SYNTH_FRAMES, IC_SYNTH_RATE, err) != IC_OK) return ST_FAILED;
    return ST_RENDERED;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    shared *sh = w->sh;
    ic_error err;
    ic_error_clear(&err);
    float *buf = malloc(IC_SYNTH_FRAMES * sizeof *buf);
    if (!buf) ic_error_set(&err, IC_ERR_NOMEM, "out of memory");
    else if (!w->synth) w->synth = ic_synth_new(sh->o->soundfont, sh->o->gain, &err);
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        if (err.code != IC_OK) {
            if (sh->fail.code == IC_OK) sh->fail = err;
            sh->stop = 1;
        }
        if (sh->stop || sh->next >= sh->n_jobs || !w->synth) {
            sh->active--;
            pthread_cond_broadcast(&sh->cond);
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        job *j = &sh->jobs[sh->next++];
        pthread_mutex_unlock(&sh->lock);
        int status = run_job(sh, w->synth, j, buf, &err);
        pthread_mutex_lock(&sh->lock);
        j->status = (unsigned char)status;
        pthread_cond_broadcast(&sh->cond);
        pthread_mutex_unlock(&sh->lock);
    }
    free(buf);
    return NULL;
}

/* Takes an exclusive lock on DIR/.icsynth.lock so two runs never merge into one
 * examples.json at the same time (the second would overwrite the first's entries). */
static ic_status lock_split(const char *dir, int *fd, ic_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.icsynth.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0) return ic_error_set(err, IC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        return ic_error_set(err, IC_ERR_IO, "%s: another icsynth is writing this split (%s)", dir,
                            errno == EWOULDBLOCK ? "locked" : strerror(errno));
    return IC_OK;
}

static const char *find_table(const options *o, char *buf, size_t cap) {
    if (o->table) return o->table;
    struct stat sb;
    if (stat(DEFAULT_TABLE, &sb) == 0) return DEFAULT_TABLE;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(buf, cap, "%s/../%s", exe, DEFAULT_TABLE);
            if (stat(buf, &sb) == 0) return buf;
        }
    }
    return DEFAULT_TABLE;   /* the loader reports it missing */
}

/* Builds the job list; returns the count (jobs malloc'd in *out). */
static size_t build_jobs(shared *sh, const ic_gm_table *t, const unsigned char *mask, const int *vel, int n_vel,
                         job **out) {
    const options *o = sh->o;
    size_t n = 0, cap = 1024;
    job *jobs = ic_xmalloc(cap * sizeof *jobs);
    for (int p = 0; p < 128; p++) {
        if (!mask[p] || t->prog[p].family < 0) continue;
        int fam = t->prog[p].family, lo, hi;
        ic_synth_family_range(fam, &lo, &hi);
        int count = o->phrases_mode ? o->n_phrases : 0;
        if (!o->phrases_mode)
            for (int pitch = lo + p % o->pitch_step; pitch <= hi; pitch += o->pitch_step) count += n_vel;
        for (int k = 0; k < count; k++) {
            if (n == cap) {
                jobs = realloc(jobs, (cap *= 2) * sizeof *jobs);
                IC_ASSERT(jobs);
            }
            job *j = &jobs[n++];
            memset(j, 0, sizeof *j);
            j->program = (short)p;
            j->family = (signed char)fam;
            j->source = (signed char)t->prog[p].source;
            j->phrase = -1;
            if (o->phrases_mode) j->phrase = (short)k;
            else {
                j->pitch = (short)(lo + p % o->pitch_step + (k / n_vel) * o->pitch_step);
                j->velocity = (short)vel[k % n_vel];
            }
            char name[160];
            job_name(sh, j, name, sizeof name);
            j->split = (signed char)ic_split_spec_pick(&sh->splits, name);
        }
    }
    *out = jobs;
    return n;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static double db(double x) { return x > 0 ? 20.0 * log10(x) : -INFINITY; }

/* The main thread's side: the examples.json stores and what has been committed. */
typedef struct {
    ic_examples *store[IC_SYNTH_MAX_SPLITS];
    int lock_fd[IC_SYNTH_MAX_SPLITS];        /* held until exit */
    size_t commit;                           /* jobs [0, commit) are merged */
    size_t n_status[ST_FAILED + 1], n_scaled;
    float *peaks;                            /* (n_jobs) peaks of rendered jobs */
    size_t n_peaks;
} committer;

/* Merges one finished job into its split's store. */
static void commit_job(const shared *sh, committer *c, job *j) {
    char name[160], inst[128];
    job_name(sh, j, name, sizeof name);
    ic_examples *st = c->store[(int)j->split];
    c->n_status[j->status]++;
    if (j->status == ST_RENDERED) {
        int pitch = j->pitch, velocity = j->velocity;
        if (j->ph) ic_phrase_first(j->ph, &pitch, &velocity);
        ic_synth_instrument_str(j->family, j->source, sh->tag, j->program, inst, sizeof inst);
        ic_examples_put(st, ic_synth_entry(name, inst, ic_synth_instrument_id(sh->tag, j->program), pitch, velocity,
                                           j->family, j->source, j->scale, j->ph));
        c->peaks[c->n_peaks++] = j->peak;
        c->n_scaled += j->scale != 1.0f;
    } else if (j->status == ST_SILENT || j->status == ST_UNPLAYABLE) {
        ic_examples_remove(st, name);   /* only present if an earlier run kept it */
    }
    free(j->ph);
    j->ph = NULL;
}

static void request_stop(shared *sh) {
    pthread_mutex_lock(&sh->lock);
    sh->stop = 1;
    pthread_mutex_unlock(&sh->lock);
}

/* Runs the workers and merges finished jobs in job order (so note ids do not depend
 * on thread timing), saving every CHECKPOINT_SECONDS.  Returns IC_OK, or the first
 * failure (a render or wav write in sh->fail, a save in err). */
static ic_status run_jobs(shared *sh, committer *c, ic_synth *first, int n_workers, ic_error *err) {
    pthread_mutex_init(&sh->lock, NULL);
    pthread_cond_init(&sh->cond, NULL);
    worker *w = ic_xcalloc((size_t)n_workers, sizeof *w);
    sh->active = (size_t)n_workers;
    int started = 0;
    for (int i = 0; i < n_workers; i++) {
        w[i].sh = sh;
        w[i].synth = i == 0 ? first : NULL;
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
            pthread_mutex_lock(&sh->lock);
            sh->active -= (size_t)(n_workers - i);
            if (i == 0) ic_error_set(&sh->fail, IC_ERR_NOMEM, "cannot start a worker thread");
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        started++;
    }
    ic_progress prog;
    ic_progress_start(&prog, sh->o->phrases_mode ? "phrases" : "notes", "ex", sh->n_jobs, sh->o->quiet);
    double last_save = ic_now();
    ic_status st = IC_OK;
    while (c->commit < sh->n_jobs && st == IC_OK) {
        pthread_mutex_lock(&sh->lock);
        if (g_interrupted) sh->stop = 1;
        if (sh->jobs[c->commit].status == ST_PENDING && sh->active > 0) {
            /* wake at least every 0.2 s for the progress line and for signals */
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 200000000L;
            if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
            pthread_cond_timedwait(&sh->cond, &sh->lock, &until);
        }
        size_t ready = c->commit;
        while (ready < sh->n_jobs && sh->jobs[ready].status != ST_PENDING) ready++;
        int idle = sh->active == 0;
        pthread_mutex_unlock(&sh->lock);
        /* jobs [commit, ready) are final and no worker touches them again */
        for (; c->commit < ready; c->commit++) {
            if (sh->jobs[c->commit].status == ST_FAILED) { st = IC_ERR_IO; break; }
            commit_job(sh, c, &sh->jobs[c->commit]);
        }
        ic_progress_update(&prog, c->commit);
        if (st != IC_OK) break;
        if (idle && c->commit == ready && c->commit < sh->n_jobs) break;   /* stopped: nothing more will come */
        if (c->commit == sh->n_jobs || ic_now() - last_save >= CHECKPOINT_SECONDS) {
            for (int s = 0; s < sh->splits.n && st == IC_OK; s++)
                if (ic_examples_dirty(c->store[s])) st = ic_examples_save(c->store[s], err);
            last_save = ic_now();
        }
    }
    request_stop(sh);
    for (int i = 0; i < started; i++) pthread_join(w[i].thread, NULL);
    for (int i = 0; i < n_workers; i++) ic_synth_free(w[i].synth);   /* w[0] holds `first` */
    free(w);
    ic_progress_finish(&prog);
    if (sh->fail.code != IC_OK) {
        *err = sh->fail;
        st = sh->fail.code;
    }
    pthread_mutex_destroy(&sh->lock);
    pthread_cond_destroy(&sh->cond);
    return st;
}

static void report(const shared *sh, committer *c, double secs) {
    fprintf(stderr, "icsynth: %zu rendered, %zu already present, %zu skipped silent, %zu skipped unplayable, "
            "%zu peak-scaled; %.1f s (%.1f renders/s)\n",
            c->n_status[ST_RENDERED], c->n_status[ST_PRESENT], c->n_status[ST_SILENT], c->n_status[ST_UNPLAYABLE],
            c->n_scaled, secs, secs > 0 ? (double)c->n_status[ST_RENDERED] / secs : 0.0);
    if (c->n_peaks) {
        qsort(c->peaks, c->n_peaks, sizeof *c->peaks, cmp_float);
        fprintf(stderr, "icsynth: peak before scaling: median %.1f dBFS, 99th percentile %.1f dBFS, max %.1f dBFS\n",
                db(c->peaks[c->n_peaks / 2]), db(c->peaks[(size_t)(0.99 * (double)(c->n_peaks - 1))]),
                db(c->peaks[c->n_peaks - 1]));
    }
    for (int s = 0; s < sh->splits.n; s++)
        fprintf(stderr, "icsynth: %s/examples.json: %zu examples\n", sh->split_dir[s], ic_examples_count(c->store[s]));
}

/* Creates DIR/nsynth-NAME/audio for every split, locks it and opens examples.json. */
static ic_status open_splits(shared *sh, committer *c, ic_error *err) {
    for (int s = 0; s < sh->splits.n; s++) {
        char dir[sizeof sh->split_dir[0]], audio[sizeof dir + 16];
        snprintf(dir, sizeof dir, "%s/nsynth-%s", sh->o->out, sh->splits.name[s]);
        memcpy(sh->split_dir[s], dir, sizeof dir);
        snprintf(audio, sizeof audio, "%s/audio", dir);
        ic_status st = ic_synth_mkdirs(audio, err);
        if (st == IC_OK) st = lock_split(dir, &c->lock_fd[s], err);
        if (st == IC_OK && !(c->store[s] = ic_examples_open(dir, err))) st = err->code;
        if (st != IC_OK) return st;
    }
    return IC_OK;
}

static void close_splits(shared *sh, committer *c) {
    for (int s = 0; s < sh->splits.n; s++) {
        ic_examples_free(c->store[s]);
        if (c->lock_fd[s] >= 0) close(c->lock_fd[s]);
    }
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;

    shared sh;
    memset(&sh, 0, sizeof sh);
    sh.o = &o;
    ic_error err;
    ic_error_clear(&err);
    if (ic_split_spec_parse(o.split, &sh.splits, &err) != IC_OK) return ic_cli_usage_error(PROG, "%s", err.msg);
    unsigned char mask[128];
    if (o.programs) {
        if (ic_synth_parse_programs(o.programs, mask, &err) != IC_OK) return ic_cli_usage_error(PROG, "%s", err.msg);
    } else {
        memset(mask, 1, sizeof mask);
    }
    int vel[128], n_vel = 0;
    if (ic_synth_parse_ints(o.velocities, 1, 127, vel, 128, &n_vel, &err) != IC_OK)
        return ic_cli_usage_error(PROG, "--velocities %s", err.msg);
    if (o.tag) snprintf(sh.tag, sizeof sh.tag, "%s", o.tag);
    else ic_synth_sf_tag(o.soundfont, sh.tag, sizeof sh.tag);

    char table_buf[PATH_MAX + 64];
    const char *table_path = find_table(&o, table_buf, sizeof table_buf);
    ic_gm_table table;
    if (ic_gm_table_load(table_path, &table, &err) != IC_OK) {
        fprintf(stderr, "icsynth: %s%s\n", err.msg,
                !o.table && err.code == IC_ERR_IO ? " (run from the source tree or pass --table FILE)" : "");
        return 1;
    }
    if (o.programs) {
        char left[1024] = "";
        for (int p = 0; p < 128; p++)
            if (mask[p] && table.prog[p].family < 0 && strlen(left) + 64 < sizeof left)
                snprintf(left + strlen(left), sizeof left - strlen(left), "%s%d (%s)", *left ? ", " : "", p, table.prog[p].name);
        if (*left) fprintf(stderr, "icsynth: not in any NSynth family, skipped: %s\n", left);
    }

    /* fluidsynth's warnings (e.g. about sf3 sample details) are not ours to show */
    fluid_set_log_function(FLUID_WARN, NULL, NULL);
    fluid_set_log_function(FLUID_INFO, NULL, NULL);
    fluid_set_log_function(FLUID_DBG, NULL, NULL);

    committer c;
    memset(&c, 0, sizeof c);
    for (int s = 0; s < IC_SYNTH_MAX_SPLITS; s++) c.lock_fd[s] = -1;
    if (open_splits(&sh, &c, &err) != IC_OK) {
        fprintf(stderr, "icsynth: %s\n", err.msg);
        close_splits(&sh, &c);
        return 1;
    }
    sh.n_jobs = build_jobs(&sh, &table, mask, vel, n_vel, &sh.jobs);
    for (size_t i = 0; i < sh.n_jobs; i++) {
        char name[160];
        job_name(&sh, &sh.jobs[i], name, sizeof name);
        sh.jobs[i].in_json = (unsigned char)ic_examples_has(c.store[(int)sh.jobs[i].split], name);
    }
    c.peaks = ic_xmalloc((sh.n_jobs ? sh.n_jobs : 1) * sizeof *c.peaks);

    double t_start = ic_now();
    ic_synth *first = ic_synth_new(o.soundfont, o.gain, &err);   /* fail early on a bad soundfont */
    if (!first) {
        fprintf(stderr, "icsynth: %s\n", err.msg);
        close_splits(&sh, &c);
        free(c.peaks);
        free(sh.jobs);
        return 1;
    }
    int n_workers = o.jobs > 0 ? o.jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n_workers < 1) n_workers = 1;
    if ((size_t)n_workers > sh.n_jobs) n_workers = sh.n_jobs ? (int)sh.n_jobs : 1;
    if (!o.quiet) {
        int n_prog = 0;
        for (int p = 0; p < 128; p++) n_prog += mask[p] && table.prog[p].family >= 0;
        fprintf(stderr, "icsynth: %s (tag %s, loaded in %.1f s): %d programs, %zu %s, %d workers -> %s/nsynth-%s\n",
                o.soundfont, sh.tag, ic_now() - t_start, n_prog, sh.n_jobs, o.phrases_mode ? "phrases" : "notes",
                n_workers, o.out, sh.splits.n == 1 ? sh.splits.name[0] : "{...}");
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ic_status st = run_jobs(&sh, &c, first, n_workers, &err);
    /* save what was committed, also after a failure or an interruption */
    for (int s = 0; s < sh.splits.n; s++) {
        char path[4200];
        struct stat sb;
        snprintf(path, sizeof path, "%s/examples.json", sh.split_dir[s]);
        if (ic_examples_dirty(c.store[s]) || stat(path, &sb) != 0) {
            ic_error e2;
            if (ic_examples_save(c.store[s], &e2) != IC_OK && st == IC_OK) {
                st = e2.code;
                err = e2;
            }
        }
    }
    report(&sh, &c, ic_now() - t_start);

    int status = 0;
    if (st != IC_OK) {
        fprintf(stderr, "icsynth: %s\n", err.msg);
        status = 1;
    } else if (c.commit < sh.n_jobs) {
        fprintf(stderr, "icsynth: %s after %zu of %zu; run the same command again to continue\n",
                g_interrupted ? "interrupted" : "stopped", c.commit, sh.n_jobs);
        status = 1;
    }
    for (size_t i = 0; i < sh.n_jobs; i++) free(sh.jobs[i].ph);
    free(sh.jobs);
    free(c.peaks);
    close_splits(&sh, &c);
    return status;
}
