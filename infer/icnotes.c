/* icnotes: the practice-room report for one monophonic recording: the notes played
 * (onset, offset, name, cents off equal temperament, velocity), the tuning reference
 * the player used, the tempo with its beats, and how steady the timing was.  The
 * recording streams through the transcriber (include/ic/transcribe.h) block by block.
 * Output: a table, JSON or CSV on stdout; optionally a standard MIDI file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "ic/audio.h"
#include "ic/cli.h"
#include "ic/midi.h"
#include "ic/predict.h"
#include "ic/threads.h"
#include "ic/transcribe.h"

#define RATE 22050           /* analysis rate: f0 up to 2.1 kHz keeps lags of 10+ samples */
#define BLOCK 8192           /* samples per read */

static const char PROG[] = "icnotes";

static const char USAGE[] =
    "usage: icnotes FILE [--json | --csv] [--midi OUT.mid] [--a4 HZ] [--threads N]\n"
    "\n"
    "Listens to one monophonic line (wav, flac, ogg, opus, mp3, m4a/aac, ...; '-' reads\n"
    "standard input) and reports the notes played, how in tune they were and how fast\n"
    "and steadily they came:\n"
    "  - notes: onset and offset (s), MIDI number and name, cents off equal temperament\n"
    "    at the reference A4 (--a4, default 440 Hz), cents off the player's own tuning,\n"
    "    and a velocity (1-127) from the note's loudness;\n"
    "  - tuning: the A4 the player used, estimated from every voiced frame;\n"
    "  - tempo: BPM and beat times; steadiness: the spread of the intervals between\n"
    "    note onsets, and their RMS deviation from the nearest musical value (quarter,\n"
    "    eighth, triplet, ...) at that tempo.\n"
    "\n"
    "  --json        one JSON object: {\"file\", \"duration\", \"reference_a4\", \"tuning_a4\",\n"
    "                \"tuning_cents\", \"tempo_bpm\" (null: none found), \"tempo_confidence\",\n"
    "                \"beats\": [s], \"steadiness\": {\"intervals\", \"ioi_mean_ms\",\n"
    "                \"ioi_std_ms\", \"ioi_cv\", \"timing_ms\"}, \"notes\": [{\"onset\", \"offset\",\n"
    "                \"midi\", \"note\", \"cents\", \"cents_tuned\", \"f0\", \"velocity\"}]}\n"
    "  --csv         the notes as CSV with a header line\n"
    "  --midi FILE   also write the notes as a standard MIDI file (format 0, at the\n"
    "                detected tempo, else 120 BPM)\n"
    "  --a4 HZ       reference pitch for MIDI numbers and cents (200..1000, default 440)\n"
    "  --threads N   engine threads, as in the other programs (default: all cores);\n"
    "                the analysis itself runs on one, about 70x faster than real time\n"
    "  --help        this text\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (e.g. unreadable input), 2 bad usage.\n";

typedef struct {
    const char *file, *midi;
    int json, csv, threads;
    double a4;
} options;

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->a4 = 440.0;
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_files || a[0] != '-' || a[1] == '\0') {
            if (o->file) return ic_cli_usage_error(PROG, "one input file only (got '%s' and '%s')", o->file, a);
            o->file = a;
        } else if (strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = 1;
        } else if (!strcmp(a, "--midi") || !strcmp(a, "--a4") || !strcmp(a, "--threads")) {
            if (i + 1 >= argc) return ic_cli_usage_error(PROG, "%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--midi")) {
                if (!*v || !strcmp(v, "-")) return ic_cli_usage_error(PROG, "--midi needs a file name");
                o->midi = v;
            } else if (!strcmp(a, "--a4")) {
                if (ic_cli_parse_double(v, 200, 1000, &o->a4))
                    return ic_cli_usage_error(PROG, "--a4 wants Hz in 200..1000, got '%s'", v);
            } else if (ic_cli_parse_int(v, 1, 4096, &o->threads)) {
                return ic_cli_usage_error(PROG, "--threads wants 1..4096, got '%s'", v);
            }
        } else {
            return ic_cli_usage_error(PROG, "unknown option '%s'", a);
        }
    }
    if (!o->file) return ic_cli_usage_error(PROG, "no input file (use - for standard input)");
    if (o->json && o->csv) return ic_cli_usage_error(PROG, "--json and --csv exclude each other");
    return -1;
}

typedef struct {
    ic_note_list notes;
    double duration, a4_est, offset_cents;
    ic_tempo_result tempo;
    ic_steadiness steady;
} report;

/* Streams the file through the transcriber.  0, or -1 with err set. */
static int analyse(const char *path, ic_transcriber *tr, report *r, ic_error *err) {
    ic_audio *a = ic_audio_open(path, RATE, err);
    if (!a) return -1;
    float *buf = malloc(BLOCK * sizeof *buf);
    int rc = buf ? 0 : -1;
    if (!buf) ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path);
    while (rc == 0) {
        long k = ic_audio_read(a, buf, BLOCK, err);
        if (k < 0) { rc = -1; break; }
        if (k == 0) break;
        if (ic_transcriber_process(tr, buf, (size_t)k, err) != IC_OK) { rc = -1; break; }
        if (ic_transcriber_drain(tr, &r->notes)) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); rc = -1; }
    }
    if (rc == 0 && ic_transcriber_finish(tr, err) != IC_OK) rc = -1;
    if (rc == 0 && ic_transcriber_drain(tr, &r->notes)) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); rc = -1; }
    if (rc == 0 && ic_tempo_finish(ic_transcriber_tempo(tr), &r->tempo, err) != IC_OK) rc = -1;
    free(buf);
    ic_audio_close(a);
    if (rc) return -1;
    r->duration = ic_transcriber_seconds(tr);
    ic_notes_tuning(ic_transcriber_notes(tr), &r->a4_est, &r->offset_cents);
    double *on = malloc((r->notes.n + 1) * sizeof *on);
    if (!on) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", path); return -1; }
    for (size_t i = 0; i < r->notes.n; i++) on[i] = r->notes.v[i].onset;
    ic_tempo_steadiness(on, r->notes.n, r->tempo.bpm, &r->steady);
    free(on);
    return 0;
}

static double r3(double x) { return round(x * 1000.0) / 1000.0; }
static double r1(double x) { return round(x * 10.0) / 10.0; }

/* Cents off the player's own tuning, wrapped to -50..50. */
static double cents_tuned(const report *r, const ic_note *x) {
    double c = x->cents - r->offset_cents;
    while (c >= 50) c -= 100;
    while (c < -50) c += 100;
    return c;
}

static char *json_report(const char *path, const options *o, const report *r) {
    char name[8];
    cJSON *j = cJSON_CreateObject(), *notes = cJSON_CreateArray(), *beats = cJSON_CreateArray(), *st = cJSON_CreateObject();
    if (!j || !notes || !beats || !st) { cJSON_Delete(j); cJSON_Delete(notes); cJSON_Delete(beats); cJSON_Delete(st); return NULL; }
    cJSON_AddStringToObject(j, "file", path);
    cJSON_AddNumberToObject(j, "duration", r3(r->duration));
    cJSON_AddNumberToObject(j, "reference_a4", o->a4);
    cJSON_AddNumberToObject(j, "tuning_a4", round(r->a4_est * 100.0) / 100.0);
    cJSON_AddNumberToObject(j, "tuning_cents", r1(r->offset_cents));
    if (r->tempo.bpm > 0) cJSON_AddNumberToObject(j, "tempo_bpm", r1(r->tempo.bpm));
    else cJSON_AddNullToObject(j, "tempo_bpm");
    cJSON_AddNumberToObject(j, "tempo_confidence", round(r->tempo.confidence * 100.0) / 100.0);
    for (size_t i = 0; i < r->tempo.n_beats; i++) cJSON_AddItemToArray(beats, cJSON_CreateNumber(r3(r->tempo.beats[i])));
    cJSON_AddItemToObject(j, "beats", beats);
    cJSON_AddNumberToObject(st, "intervals", (double)r->steady.n_intervals);
    cJSON_AddNumberToObject(st, "ioi_mean_ms", r1(r->steady.ioi_mean_ms));
    cJSON_AddNumberToObject(st, "ioi_std_ms", r1(r->steady.ioi_std_ms));
    cJSON_AddNumberToObject(st, "ioi_cv", r3(r->steady.ioi_cv));
    if (r->tempo.bpm > 0) cJSON_AddNumberToObject(st, "timing_ms", r1(r->steady.timing_ms));
    else cJSON_AddNullToObject(st, "timing_ms");
    cJSON_AddItemToObject(j, "steadiness", st);
    for (size_t i = 0; i < r->notes.n; i++) {
        const ic_note *x = &r->notes.v[i];
        cJSON *n = cJSON_CreateObject();
        if (!n) { cJSON_Delete(j); cJSON_Delete(notes); return NULL; }
        cJSON_AddItemToArray(notes, n);
        cJSON_AddNumberToObject(n, "onset", r3(x->onset));
        cJSON_AddNumberToObject(n, "offset", r3(x->offset));
        cJSON_AddNumberToObject(n, "midi", x->midi);
        cJSON_AddStringToObject(n, "note", ic_midi_note_name(x->midi, name, sizeof name));
        cJSON_AddNumberToObject(n, "cents", r1(x->cents));
        cJSON_AddNumberToObject(n, "cents_tuned", r1(cents_tuned(r, x)));
        cJSON_AddNumberToObject(n, "f0", round(x->f0 * 100.0) / 100.0);
        cJSON_AddNumberToObject(n, "velocity", x->velocity);
    }
    cJSON_AddItemToObject(j, "notes", notes);
    char *s = cJSON_Print(j);
    cJSON_Delete(j);
    return s;
}

static void csv_report(FILE *f, const report *r) {
    char name[8];
    fprintf(f, "onset,offset,midi,note,cents,cents_tuned,f0,velocity\n");
    for (size_t i = 0; i < r->notes.n; i++) {
        const ic_note *x = &r->notes.v[i];
        fprintf(f, "%.3f,%.3f,%d,%s,%.1f,%.1f,%.2f,%d\n", x->onset, x->offset, x->midi,
                ic_midi_note_name(x->midi, name, sizeof name), x->cents, cents_tuned(r, x), x->f0, x->velocity);
    }
}

static void text_report(FILE *f, const char *path, const options *o, const report *r) {
    char name[8];
    fprintf(f, "%s: %.2f s, %zu note%s\n", strcmp(path, "-") ? path : "stdin", r->duration, r->notes.n,
            r->notes.n == 1 ? "" : "s");
    fprintf(f, "  tuning: A4 = %.1f Hz (%+.1f cents from %g Hz)\n", r->a4_est, r->offset_cents, o->a4);
    if (r->tempo.bpm > 0)
        fprintf(f, "  tempo: %.1f BPM, %zu beats (confidence %.2f)\n", r->tempo.bpm, r->tempo.n_beats, r->tempo.confidence);
    else
        fprintf(f, "  tempo: none found\n");
    if (r->steady.n_intervals > 0) {
        fprintf(f, "  steadiness: %zu intervals, mean %.0f ms, spread %.0f ms (cv %.2f)", r->steady.n_intervals,
                r->steady.ioi_mean_ms, r->steady.ioi_std_ms, r->steady.ioi_cv);
        if (r->tempo.bpm > 0) fprintf(f, ", %.0f ms RMS off the beat grid", r->steady.timing_ms);
        fprintf(f, "\n");
    }
    if (r->notes.n == 0) return;
    fprintf(f, "  %4s %8s %8s  %-5s %4s %7s %7s %8s %4s\n", "#", "onset", "offset", "note", "midi", "cents", "tuned",
            "f0", "vel");
    for (size_t i = 0; i < r->notes.n; i++) {
        const ic_note *x = &r->notes.v[i];
        fprintf(f, "  %4zu %8.3f %8.3f  %-5s %4d %+7.1f %+7.1f %8.2f %4d\n", i + 1, x->onset, x->offset,
                ic_midi_note_name(x->midi, name, sizeof name), x->midi, x->cents, cents_tuned(r, x), x->f0, x->velocity);
    }
}

static int write_midi(const options *o, const report *r, ic_error *err) {
    ic_midi_note *m = malloc((r->notes.n + 1) * sizeof *m);
    if (!m) { ic_error_set(err, IC_ERR_NOMEM, "%s: out of memory", o->midi); return -1; }
    for (size_t i = 0; i < r->notes.n; i++)
        m[i] = (ic_midi_note){r->notes.v[i].onset, r->notes.v[i].offset, r->notes.v[i].midi, r->notes.v[i].velocity};
    double bpm = r->tempo.bpm > 0 ? r->tempo.bpm : 120.0;
    ic_status st = ic_midi_write(o->midi, m, r->notes.n, bpm, IC_MIDI_DIVISION, err);
    free(m);
    return st == IC_OK ? 0 : -1;
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    ic_audio_quiet_backends();
    ic_threads_set(o.threads);
    ic_transcriber_params tp;
    ic_transcriber_defaults(&tp, RATE, o.a4);
    ic_error err;
    ic_error_clear(&err);
    ic_transcriber *tr = ic_transcriber_new(&tp, &err);
    if (!tr) { fprintf(stderr, "%s: %s\n", PROG, err.msg); return 1; }
    report r;
    memset(&r, 0, sizeof r);
    rc = 0;
    if (analyse(o.file, tr, &r, &err)) {
        fprintf(stderr, "%s: %s\n", PROG, err.msg);
        rc = 1;
    }
    if (rc == 0 && o.midi && write_midi(&o, &r, &err)) {
        fprintf(stderr, "%s: %s\n", PROG, err.msg);
        rc = 1;
    }
    if (rc == 0) {
        if (o.json) {
            char *s = json_report(o.file, &o, &r);
            if (!s) { fprintf(stderr, "%s: out of memory building JSON\n", PROG); rc = 1; }
            else { printf("%s\n", s); cJSON_free(s); }
        } else if (o.csv) {
            csv_report(stdout, &r);
        } else {
            text_report(stdout, o.file, &o, &r);
        }
        if (fflush(stdout) != 0) { fprintf(stderr, "%s: writing the results failed: %s\n", PROG, strerror(errno)); rc = 1; }
    }
    ic_note_list_free(&r.notes);
    ic_transcriber_free(tr);
    return rc;
}
