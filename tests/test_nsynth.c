/* Tests for the NSynth reader (src/io/nsynth*.c, src/io/tar_gz.c): tiny datasets are
 * built in a mkdtemp directory (sine wavs written with libsndfile, examples.json
 * with cJSON, archives with tar(1)); fields read back; every validation failure with
 * its message under both policies; broken examples.json and broken archives (errors,
 * never crashes: CI runs this under ASan); archive == folder; balance counts.  The
 * "render" case runs bin/icsynth (from $IC_BIN, default "bin") on TimGM6mb.sf2 and
 * checks the rendered notes end to end: fields, the audio's pitch against its label,
 * balance, the feature cache, archive == folder. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/featcache.h"
#include "ic/frontend.h"
#include "ic/nsynth.h"
#include "ic/tar_gz.h"
#include <cjson/cJSON.h>
#include <sys/stat.h>
#include <unistd.h>

static char g_dir[64];

static void setup(void) { ic_test_mkdtemp(g_dir, sizeof g_dir, "nsynth"); }
static void teardown(void) { ic_test_rmtree(g_dir); }
static const char *tpath(const char *rel) { return ic_test_path(g_dir, rel); }

/* ---- fixtures: wavs and examples.json ----------------------------------------- */

static void write_wav(const char *path, int rate, long frames, int channels, double freq) {
    short *buf = malloc((size_t)frames * (size_t)channels * sizeof *buf);
    for (long i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (short)(8000 * sin(2 * M_PI * freq * (double)i / rate) * (c + 1));
    ic_test_write_wav16(path, rate, channels, buf, frames);
    free(buf);
}

typedef struct {
    char name[128];
    int family, source, pitch, velocity, rate;
} spec;

static spec mk(int family, int source, int bank, int pitch, int velocity) {
    spec s = {.family = family, .source = source, .pitch = pitch, .velocity = velocity, .rate = 16000};
    snprintf(s.name, sizeof s.name, "%s_%s_%03d-%03d-%03d", ic_nsynth_family_name(family),
             ic_nsynth_source_name(source), bank, pitch, velocity);
    return s;
}

static cJSON *entry_json(const spec *s, long long note) {
    cJSON *e = cJSON_CreateObject();
    char inst[128];
    snprintf(inst, sizeof inst, "%.*s", (int)(strchr(s->name, '-') - s->name), s->name);
    cJSON_AddNumberToObject(e, "note", (double)note);
    cJSON_AddStringToObject(e, "note_str", s->name);
    cJSON_AddNumberToObject(e, "instrument", 7);
    cJSON_AddStringToObject(e, "instrument_str", inst);
    cJSON_AddNumberToObject(e, "pitch", s->pitch);
    cJSON_AddNumberToObject(e, "velocity", s->velocity);
    cJSON_AddNumberToObject(e, "sample_rate", s->rate);
    cJSON_AddNumberToObject(e, "instrument_family", s->family);
    cJSON_AddStringToObject(e, "instrument_family_str", ic_nsynth_family_name(s->family));
    cJSON_AddNumberToObject(e, "instrument_source", s->source);
    cJSON_AddStringToObject(e, "instrument_source_str", ic_nsynth_source_name(s->source));
    int q[IC_NSYNTH_N_QUALITIES] = {0};
    q[1] = 1; /* dark */
    q[7] = s->pitch % 2; /* percussive on odd pitches */
    cJSON_AddItemToObject(e, "qualities", cJSON_CreateIntArray(q, IC_NSYNTH_N_QUALITIES));
    cJSON *qs = cJSON_AddArrayToObject(e, "qualities_str");
    cJSON_AddItemToArray(qs, cJSON_CreateString("dark"));
    if (q[7]) cJSON_AddItemToArray(qs, cJSON_CreateString("percussive"));
    return e;
}

static void write_json(const char *dir, cJSON *root) {
    char path[2048];
    snprintf(path, sizeof path, "%s/examples.json", dir);
    char *t = cJSON_Print(root);
    ic_test_write_text(path, t);
    free(t);
}

/* A split folder: n examples; each wav 4 s at 16 kHz unless a test overwrites it. */
static void make_split(const char *dir, const spec *specs, size_t n, int with_wavs) {
    char p[2048];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/audio", dir);
    mkdir(p, 0755);
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToObject(root, specs[i].name, entry_json(&specs[i], (long long)(1000 + i)));
        if (!with_wavs) continue;
        snprintf(p, sizeof p, "%s/audio/%s.wav", dir, specs[i].name);
        write_wav(p, specs[i].rate, 4L * specs[i].rate, 1, 440.0 * pow(2, (specs[i].pitch - 69) / 12.0));
    }
    write_json(dir, root);
    cJSON_Delete(root);
}

static size_t standard_specs(spec *s) {
    size_t n = 0;
    s[n++] = mk(3, 0, 24, 60, 75);   /* guitar acoustic */
    s[n++] = mk(3, 1, 27, 64, 100);  /* guitar electronic */
    s[n++] = mk(0, 1, 33, 40, 50);   /* bass electronic */
    s[n++] = mk(4, 0, 0, 69, 127);   /* keyboard acoustic */
    s[n++] = mk(9, 2, 81, 72, 25);   /* synth_lead synthetic */
    s[n++] = mk(10, 0, 52, 61, 75);  /* vocal acoustic */
    return n;
}

/* Collects skip messages. */
typedef struct {
    int n;
    char all[8192];
} warns;
static void collect(void *ctx, const char *msg) {
    warns *w = ctx;
    w->n++;
    size_t l = strlen(w->all);
    snprintf(w->all + l, sizeof w->all - l, "%s\n", msg);
}

static ic_nsynth_opts opts_with(warns *w, ic_on_error pol) {
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    o.on_error = pol;
    o.warn = collect;
    o.warn_ctx = w;
    return o;
}

static const ic_nsynth_example *find(const ic_nsynth_split *s, const char *name) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->ex[i].note_str, name)) return &s->ex[i];
    return NULL;
}

/* ---- names and single entries --------------------------------------------------- */

START_TEST(test_name_tables) {
    static const char *fam[] = {"bass", "brass", "flute", "guitar", "keyboard", "mallet",
                                "organ", "reed", "string", "synth_lead", "vocal"};
    for (int i = 0; i < 11; i++) {
        ck_assert_str_eq(ic_nsynth_family_name(i), fam[i]);
        ck_assert_int_eq(ic_nsynth_family_id(fam[i]), i);
    }
    ck_assert_ptr_null(ic_nsynth_family_name(11));
    ck_assert_ptr_null(ic_nsynth_family_name(-1));
    ck_assert_int_eq(ic_nsynth_family_id("banjo"), -1);
    ck_assert_str_eq(ic_nsynth_source_name(0), "acoustic");
    ck_assert_str_eq(ic_nsynth_source_name(1), "electronic");
    ck_assert_str_eq(ic_nsynth_source_name(2), "synthetic");
    ck_assert_int_eq(ic_nsynth_quality_id("tempo-synced"), 9);
    ck_assert_int_eq(ic_nsynth_quality_id("bright"), 0);
}
END_TEST

/* Parses `text` as one entry with key "k" (or no key when key is NULL). */
static ic_status parse_text(const char *text, const char *key, ic_nsynth_example *ex, ic_error *err) {
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "bad test json %s", text);
    ic_status st = ic_nsynth_parse_entry(j, key, ex, err);
    cJSON_Delete(j);
    return st;
}

#define GOOD_FIELDS "\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, " \
                    "\"instrument_family\": 3, \"instrument_family_str\": \"guitar\", " \
                    "\"instrument_source\": 0, \"instrument_source_str\": \"acoustic\""

START_TEST(test_parse_entry_good) {
    ic_nsynth_example ex;
    ic_error err;
    ck_assert_int_eq(parse_text("{\"note_str\": \"g-060-075\", " GOOD_FIELDS ", \"note\": 12345, "
                                "\"instrument\": 9, \"instrument_str\": \"g\", "
                                "\"qualities\": [1,0,0,0,0,0,0,0,0,1], \"qualities_str\": [\"bright\", \"tempo-synced\"], "
                                "\"notes\": [{\"onset\": 0, \"offset\": 0.5, \"pitch\": 60, \"velocity\": 90}, "
                                "{\"onset\": 0.5, \"offset\": 1.25, \"pitch\": 64}], \"extra_field\": [1, 2]}",
                                "g-060-075", &ex, &err), IC_OK);
    ck_assert_str_eq(ex.note_str, "g-060-075");
    ck_assert_int_eq(ex.pitch, 60);
    ck_assert_int_eq(ex.velocity, 75);
    ck_assert_int_eq(ex.sample_rate, 16000);
    ck_assert_int_eq(ex.family, 3);
    ck_assert_str_eq(ex.family_str, "guitar");
    ck_assert_int_eq(ex.source, 0);
    ck_assert_str_eq(ex.source_str, "acoustic");
    ck_assert_int_eq(ex.note, 12345);
    ck_assert_int_eq(ex.instrument, 9);
    ck_assert_str_eq(ex.instrument_str, "g");
    ck_assert_uint_eq(ex.qualities, (1u << 0) | (1u << 9));
    ck_assert_uint_eq(ex.n_notes, 2);
    ck_assert_float_eq(ex.notes[0].offset, 0.5f);
    ck_assert_int_eq(ex.notes[0].velocity, 90);
    ck_assert_float_eq(ex.notes[1].offset, 1.25f);
    ck_assert_int_eq(ex.notes[1].pitch, 64);
    ck_assert_int_eq(ex.notes[1].velocity, 75); /* defaults to the entry's velocity */
    ic_nsynth_example_clear(&ex);

    /* minimal: only the required fields, the key naming the entry; id or name alone */
    ck_assert_int_eq(parse_text("{\"pitch\": 0, \"velocity\": 127, \"sample_rate\": 16000, "
                                "\"instrument_family_str\": \"vocal\", \"instrument_source\": 2}",
                                "v", &ex, &err), IC_OK);
    ck_assert_str_eq(ex.note_str, "v");
    ck_assert_int_eq(ex.family, 10);
    ck_assert_str_eq(ex.source_str, "synthetic");
    ck_assert_int_eq(ex.note, -1);
    ck_assert_int_eq(ex.instrument, -1);
    ck_assert_str_eq(ex.instrument_str, "");
    ck_assert_ptr_null(ex.notes);
    ic_nsynth_example_clear(&ex);
}
END_TEST

/* Each bad entry fails with IC_ERR_FORMAT and a message holding `expect`. */
static void bad_entry(const char *text, const char *key, const char *expect) {
    ic_nsynth_example ex;
    ic_error err;
    ic_error_clear(&err);
    ic_status st = parse_text(text, key, &ex, &err);
    ck_assert_msg(st == IC_ERR_FORMAT, "accepted: %s", text);
    ck_assert_msg(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
    ck_assert_ptr_null(ex.note_str);
}

START_TEST(test_parse_entry_bad) {
    bad_entry("{\"pitch\": \"60\", \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_source\": 0}", "k",
              "entry 'k': pitch: expected an integer 0..127, found string \"60\"");
    bad_entry("{\"pitch\": 60.5, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_source\": 0}", "k", "pitch: expected an integer 0..127, found number 60.5");
    bad_entry("{\"pitch\": 1e300, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_source\": 0}", "k", "pitch: expected an integer 0..127, found number 1e+300");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 1e400, \"instrument_family\": 3, "
              "\"instrument_source\": 0}", "k", "sample_rate: expected an integer");
    bad_entry("{\"pitch\": 60, \"velocity\": -1, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_source\": 0}", "k", "velocity: expected an integer 0..127, found number -1");
    bad_entry("{\"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, \"instrument_source\": 0}",
              "k", "entry 'k': missing \"pitch\"");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 11, "
              "\"instrument_source\": 0}", "k", "instrument_family: unknown family 11");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family_str\": \"banjo\", "
              "\"instrument_source\": 0}", "k", "instrument_family_str: unknown family \"banjo\"");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_family_str\": \"bass\", \"instrument_source\": 0}", "k",
              "instrument_family 3 (guitar) does not match instrument_family_str \"bass\"");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": \"3\", "
              "\"instrument_source\": 0}", "k", "instrument_family: expected an integer 0..10, found string");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_source\": 0}", "k",
              "missing \"instrument_family\" and \"instrument_family_str\"");
    bad_entry("{\"pitch\": 60, \"velocity\": 75, \"sample_rate\": 16000, \"instrument_family\": 3, "
              "\"instrument_source\": 1, \"instrument_source_str\": \"acoustic\"}", "k",
              "instrument_source 1 (electronic) does not match");
    bad_entry("{\"note_str\": \"other\", " GOOD_FIELDS "}", "k", "note_str \"other\" differs from its key");
    bad_entry("{\"note_str\": 5, " GOOD_FIELDS "}", "k", "note_str: expected a string, found number 5");
    bad_entry("{\"note_str\": \"../../etc/passwd\", " GOOD_FIELDS "}", NULL, "not a usable file name");
    bad_entry("{" GOOD_FIELDS "}", NULL, "missing \"note_str\"");
    bad_entry("{\"qualities\": [0,1], " GOOD_FIELDS "}", "k", "qualities: expected an array of 10 0/1 values");
    bad_entry("{\"qualities\": [0,1,0,0,0,0,0,0,0,2], " GOOD_FIELDS "}", "k", "qualities[9]: expected 0 or 1");
    bad_entry("{\"qualities_str\": [\"shiny\"], " GOOD_FIELDS "}", "k", "qualities_str: expected known quality names");
    bad_entry("{\"qualities\": [1,0,0,0,0,0,0,0,0,0], \"qualities_str\": [\"dark\"], " GOOD_FIELDS "}", "k",
              "qualities and qualities_str disagree");
    bad_entry("{\"notes\": 3, " GOOD_FIELDS "}", "k", "notes: expected an array of note objects");
    bad_entry("{\"notes\": [{\"onset\": 1, \"offset\": 0.5, \"pitch\": 60}], " GOOD_FIELDS "}", "k",
              "notes[0].offset: expected a time in seconds >= the onset");
    bad_entry("{\"notes\": [{\"onset\": 0, \"offset\": 0.5, \"pitch\": 128}], " GOOD_FIELDS "}", "k",
              "notes[0].pitch: expected an integer 0..127");
    bad_entry("{\"instrument_str\": [], " GOOD_FIELDS "}", "k", "instrument_str: expected a string, found an array");
    bad_entry("[1, 2]", "k", "entry 'k': entry: expected an object, found an array");
    bad_entry("{}", "k", "entry 'k': missing \"pitch\"");
    bad_entry("null", "k", "expected an object, found null");
}
END_TEST

/* ---- folders ------------------------------------------------------------------- */

START_TEST(test_folder_fields) {
    spec s[8];
    size_t n = standard_specs(s);
    make_split(tpath("nsynth-train"), s, n, 1);
    warns w = {0};
    ic_nsynth_opts o = opts_with(&w, IC_ON_ERROR_STOP);
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_msg(sp != NULL, "%s", err.msg);
    ck_assert_str_eq(sp->name, "train");
    ck_assert_int_eq(sp->from_archive, 0);
    ck_assert_uint_eq(sp->n, n);
    ck_assert_uint_eq(sp->n_skipped, 0);
    ck_assert_int_eq(w.n, 0);
    for (size_t i = 0; i < n; i++) {
        const ic_nsynth_example *e = &sp->ex[i]; /* file order is kept */
        ck_assert_str_eq(e->note_str, s[i].name);
        ck_assert_int_eq(e->pitch, s[i].pitch);
        ck_assert_int_eq(e->velocity, s[i].velocity);
        ck_assert_int_eq(e->family, s[i].family);
        ck_assert_str_eq(e->family_str, ic_nsynth_family_name(s[i].family));
        ck_assert_int_eq(e->source, s[i].source);
        ck_assert_int_eq(e->sample_rate, 16000);
        ck_assert_int_eq(e->note, (long long)(1000 + i));
        ck_assert_uint_eq(e->qualities, (1u << 1) | ((unsigned)(s[i].pitch % 2) << 7));
        ck_assert_int_eq(e->wav_frames, 64000);
        ck_assert_int_eq(e->wav_rate, 16000);
        ck_assert_int_eq(e->wav_channels, 1);
        char want[2048];
        snprintf(want, sizeof want, "%s/nsynth-train/audio/%s.wav", g_dir, s[i].name);
        ck_assert_str_eq(e->wav, want);
    }
    /* audio: 64000 samples of a sine at the pitch's frequency, amplitude 8000/32768 */
    float *x;
    size_t nx;
    int rate;
    ck_assert_int_eq(ic_nsynth_load_audio(sp, 3, &x, &nx, &rate, &err), IC_OK);
    ck_assert_uint_eq(nx, 64000);
    ck_assert_int_eq(rate, 16000);
    double peak = 0;
    for (size_t i = 0; i < nx; i++) peak = fmax(peak, fabs(x[i]));
    ck_assert_double_eq_tol(peak, 8000.0 / 32768.0, 1e-3);
    ck_assert_float_eq_tol(x[10], (float)(8000 * sin(2 * M_PI * 440.0 * 10 / 16000) / 32768), 1e-4);
    free(x);
    ck_assert_int_eq(ic_nsynth_load_audio(sp, 99, &x, &nx, &rate, &err), IC_ERR_ARG);
    ic_nsynth_split_free(sp);

    /* locate: folder found, missing split not */
    char path[1024];
    ck_assert_int_eq(ic_nsynth_locate(g_dir, "train", path, sizeof path), 1);
    ck_assert_str_eq(path, tpath("nsynth-train"));
    ck_assert_int_eq(ic_nsynth_locate(g_dir, "valid", path, sizeof path), 0);
}
END_TEST

START_TEST(test_array_form_and_stereo) {
    /* examples.json as an array; a stereo wav is averaged to mono */
    spec s = mk(5, 0, 8, 70, 50);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tpath("nsynth-valid"));
    make_split(dir, &s, 1, 0);
    cJSON *root = cJSON_CreateArray();
    cJSON_AddItemToArray(root, entry_json(&s, 1));
    write_json(dir, root);
    cJSON_Delete(root);
    char p[2048];
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s.name);
    write_wav(p, 16000, 64000, 2, 1000.0);
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(dir, NULL, &err);
    ck_assert_msg(sp != NULL, "%s", err.msg);
    ck_assert_uint_eq(sp->n, 1);
    ck_assert_int_eq(sp->ex[0].wav_channels, 2);
    float *x;
    size_t nx;
    int rate;
    ck_assert_int_eq(ic_nsynth_load_audio(sp, 0, &x, &nx, &rate, &err), IC_OK);
    /* channel c holds (c+1) * the sine: the mean is 1.5 * the sine */
    float want = (float)(1.5 * (double)(short)(8000 * sin(2 * M_PI * 1000.0 * 3 / 16000)) / 32768.0);
    ck_assert_float_eq_tol(x[3], want, 1e-4);
    free(x);
    ic_nsynth_split_free(sp);
}
END_TEST

/* A split where entries go wrong in every way the reader checks. */
static size_t make_broken_split(const char *dir) {
    spec s[8];
    size_t n = standard_specs(s);
    make_split(dir, s, n, 1);
    char p[2048];
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s[1].name);
    unlink(p);                                    /* missing wav */
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s[2].name);
    write_wav(p, 22050, 4 * 22050, 1, 100);       /* wrong rate */
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s[3].name);
    write_wav(p, 16000, 32000, 1, 100);           /* wrong length */
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s[5].name);
    ic_test_write_file(p, "RIFF....garbage", 15);         /* unreadable */
    /* json problems: a string pitch, an unknown family, a family mismatch */
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToObject(root, s[i].name, entry_json(&s[i], (long long)i));
    spec x1 = mk(3, 0, 1, 61, 75), x2 = mk(3, 0, 2, 62, 75), x3 = mk(3, 0, 3, 63, 75);
    cJSON *e1 = entry_json(&x1, 91), *e2 = entry_json(&x2, 92), *e3 = entry_json(&x3, 93);
    cJSON_ReplaceItemInObject(e1, "pitch", cJSON_CreateString("61"));
    cJSON_ReplaceItemInObject(e2, "instrument_family_str", cJSON_CreateString("banjo"));
    cJSON_ReplaceItemInObject(e3, "instrument_family", cJSON_CreateNumber(0));
    cJSON_AddItemToObject(root, x1.name, e1);
    cJSON_AddItemToObject(root, x2.name, e2);
    cJSON_AddItemToObject(root, x3.name, e3);
    write_json(dir, root);
    cJSON_Delete(root);
    return n;
}

START_TEST(test_validation_skip) {
    make_broken_split(tpath("nsynth-train"));
    warns w = {0};
    ic_nsynth_opts o = opts_with(&w, IC_ON_ERROR_SKIP);
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_msg(sp != NULL, "%s", err.msg);
    ck_assert_uint_eq(sp->n, 2); /* of 6 + 3: entries 0 and 4 survive */
    ck_assert_str_eq(sp->ex[0].note_str, "guitar_acoustic_024-060-075");
    ck_assert_str_eq(sp->ex[1].note_str, "synth_lead_synthetic_081-072-025");
    ck_assert_uint_eq(sp->n_skipped, 7);
    ck_assert_int_eq(w.n, 7);
    const char *m = w.all;
    ck_assert_msg(strstr(m, "examples.json: entry 'guitar_acoustic_001-061-075': pitch: expected an integer 0..127, found string \"61\""), "%s", m);
    ck_assert_msg(strstr(m, "entry 'guitar_acoustic_002-062-075': instrument_family_str: unknown family \"banjo\""), "%s", m);
    ck_assert_msg(strstr(m, "entry 'guitar_acoustic_003-063-075': instrument_family 0 (bass) does not match instrument_family_str \"guitar\""), "%s", m);
    ck_assert_msg(strstr(m, "audio/guitar_electronic_027-064-100.wav: missing wav for entry 'guitar_electronic_027-064-100'"), "%s", m);
    ck_assert_msg(strstr(m, "audio/bass_electronic_033-040-050.wav (entry 'bass_electronic_033-040-050'): sample rate 22050 Hz, expected 16000 Hz"), "%s", m);
    ck_assert_msg(strstr(m, "audio/keyboard_acoustic_000-069-127.wav (entry 'keyboard_acoustic_000-069-127'): 32000 samples (2.000 s), expected 64000 (4.000 s at 16000 Hz)"), "%s", m);
    ck_assert_msg(strstr(m, "audio/vocal_acoustic_052-061-075.wav (entry 'vocal_acoustic_052-061-075'): not a readable audio file"), "%s", m);
    ic_nsynth_split_free(sp);

    /* a looser length rule accepts the 2 s clip; expect_frames < 0 accepts any length */
    w.n = 0;
    w.all[0] = 0;
    o.expect_frames = -1;
    sp = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 3);
    ck_assert_ptr_nonnull(find(sp, "keyboard_acoustic_000-069-127"));
    ic_nsynth_split_free(sp);

    /* check_audio = 0 trusts the json: only the three json problems remain */
    o.expect_frames = 0;
    o.check_audio = 0;
    sp = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 6);
    ck_assert_uint_eq(sp->n_skipped, 3);
    ck_assert_int_eq(sp->ex[0].wav_frames, -1);
    ic_nsynth_split_free(sp);
}
END_TEST

START_TEST(test_validation_stop) {
    make_broken_split(tpath("nsynth-train"));
    warns w = {0};
    ic_nsynth_opts o = opts_with(&w, IC_ON_ERROR_STOP);
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_ptr_null(sp);
    ck_assert_int_eq(err.code, IC_ERR_FORMAT);
    ck_assert_int_eq(w.n, 0);
    /* the json is read before the wavs: the first json problem stops the load */
    ck_assert_msg(strstr(err.msg, "nsynth-train/examples.json: entry 'guitar_acoustic_001-061-075': pitch"), "%s", err.msg);

    /* with a clean json the first wav problem stops it, naming file and entry */
    spec s[8];
    size_t n = standard_specs(s);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tpath("nsynth-test"));
    make_split(dir, s, n, 1);
    char p[2048];
    snprintf(p, sizeof p, "%s/audio/%s.wav", dir, s[4].name);
    write_wav(p, 16000, 64001, 1, 100);
    sp = ic_nsynth_load_split(dir, &o, &err);
    ck_assert_ptr_null(sp);
    ck_assert_msg(strstr(err.msg, "synth_lead_synthetic_081-072-025.wav (entry 'synth_lead_synthetic_081-072-025'): 64001 samples"), "%s", err.msg);

    /* expect_rate overrides the entries' rate */
    write_wav(p, 16000, 64000, 1, 100);
    o.expect_rate = 8000;
    sp = ic_nsynth_load_split(dir, &o, &err);
    ck_assert_ptr_null(sp);
    ck_assert_msg(strstr(err.msg, "sample rate 16000 Hz, expected 8000 Hz"), "%s", err.msg);
}
END_TEST

START_TEST(test_duplicates) {
    const char *txt = "{\"a\": {" GOOD_FIELDS "}, \"b\": {" GOOD_FIELDS "}, \"a\": {" GOOD_FIELDS "}}";
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tpath("nsynth-x"));
    mkdir(dir, 0755);
    ic_test_write_text(tpath("nsynth-x/examples.json"), txt);
    warns w = {0};
    ic_nsynth_opts o = opts_with(&w, IC_ON_ERROR_SKIP);
    o.check_audio = 0;
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(dir, &o, &err);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 2);
    ck_assert_msg(strstr(w.all, "entry 'a': duplicate note_str (first seen as example 0)"), "%s", w.all);
    ic_nsynth_split_free(sp);
}
END_TEST

/* Loads dir (check_audio off) from `text`; returns the split or NULL with err. */
static ic_nsynth_split *load_text(const char *text, size_t n, ic_error *err, warns *w) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s", tpath("nsynth-f"));
    mkdir(dir, 0755);
    ic_test_write_file(tpath("nsynth-f/examples.json"), text, n);
    ic_nsynth_opts o = opts_with(w, IC_ON_ERROR_SKIP);
    o.check_audio = 0;
    return ic_nsynth_load_split(dir, &o, err);
}

static void expect_file_error(const char *text, const char *msg) {
    ic_error err;
    warns w = {0};
    ic_error_clear(&err);
    ic_nsynth_split *sp = load_text(text, strlen(text), &err, &w);
    ck_assert_msg(sp == NULL, "accepted: %s", text);
    ck_assert_int_eq(err.code, IC_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, msg), "\"%s\" lacks \"%s\"", err.msg, msg);
}

START_TEST(test_broken_json_files) {
    expect_file_error("", "empty file");
    expect_file_error("  \n ", "empty file");
    expect_file_error("42", "line 1: expected a JSON object of examples, found '4'");
    expect_file_error("\"x\"", "expected a JSON object");
    expect_file_error("null", "expected a JSON object");
    expect_file_error("{\"a\": {\"pitch\": 1", "truncated");
    expect_file_error("{\"a\": {\"pitch\": \"1", "truncated inside a string");
    expect_file_error("{\"a\"", "truncated");
    expect_file_error("{\"a\": {}\n,\n", "line 3: truncated");
    expect_file_error("{\"a\": {]}", "mismatched brackets");
    expect_file_error("{\"a\": {}} x", "unexpected text after the top-level value");
    expect_file_error("{a: {}}", "expected a quoted key");
    expect_file_error("{\"a\" {}}", "expected ':'");
    expect_file_error("{\"a\": {} \"b\": {}}", "expected ',' or the closing bracket");
    char *deep = malloc(5001);
    memset(deep, '[', 5000);
    deep[500] = 0;
    expect_file_error(deep, "truncated: an object or array is not closed");
    deep[500] = '[';
    memcpy(deep, "{\"a\": ", 6);
    deep[5000] = 0;
    expect_file_error(deep, "nested too deeply");
    free(deep);

    /* structurally fine files with bad entries: entries skipped, no file error */
    ic_error err;
    warns w = {0};
    const char *t = "{}";
    ic_nsynth_split *sp = load_text(t, strlen(t), &err, &w);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 0);
    ic_nsynth_split_free(sp);
    t = "\xEF\xBB\xBF[]";
    sp = load_text(t, strlen(t), &err, &w);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 0);
    ic_nsynth_split_free(sp);
    t = "{\"a\": 5, \"b\": [], \"c\": {\"pitch\": 1x}, \"d\": {" GOOD_FIELDS "}, \"e\": {}}";
    sp = load_text(t, strlen(t), &err, &w);
    ck_assert_ptr_nonnull(sp);
    ck_assert_uint_eq(sp->n, 1);
    ck_assert_str_eq(sp->ex[0].note_str, "d");
    ck_assert_uint_eq(sp->n_skipped, 4);
    ck_assert_msg(strstr(w.all, "entry 'a': entry: expected an object, found number 5"), "%s", w.all);
    ck_assert_msg(strstr(w.all, "entry 'c': not valid JSON"), "%s", w.all);
    ic_nsynth_split_free(sp);
}
END_TEST

START_TEST(test_json_fuzz) {
    /* every prefix of a valid file is a file error; seeded byte mutations never crash
     * and never yield more entries than the file had */
    spec s[8];
    size_t n = standard_specs(s);
    cJSON *root = cJSON_CreateObject();
    for (size_t i = 0; i < 3; i++) cJSON_AddItemToObject(root, s[i].name, entry_json(&s[i], 1));
    char *good = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t len = strlen(good);
    ic_error err;
    warns w = {0};
    for (size_t cut = 0; cut < len; cut++) {
        ic_nsynth_split *sp = load_text(good, cut, &err, &w);
        ck_assert_msg(sp == NULL, "prefix of %zu bytes accepted", cut);
        ck_assert_int_eq(err.code, IC_ERR_FORMAT);
    }
    ic_nsynth_split *sp = load_text(good, len, &err, &w);
    ck_assert_uint_eq(sp->n, 3);
    ic_nsynth_split_free(sp);
    ic_rng r;
    ic_rng_seed(&r, 7);
    static const char alphabet[] = "{}[]\",:0123456789.eE+- \\xa\n\x01\xff";
    char *buf = malloc(len + 1);
    size_t accepted = 0;
    for (int trial = 0; trial < 400; trial++) {
        memcpy(buf, good, len + 1);
        int k = 1 + (int)ic_rng_below(&r, 4);
        for (int j = 0; j < k; j++) buf[ic_rng_below(&r, len)] = alphabet[ic_rng_below(&r, sizeof alphabet - 1)];
        w.n = 0;
        w.all[0] = 0;
        sp = load_text(buf, len, &err, &w);
        if (sp) {
            ck_assert_uint_le(sp->n, n);
            ck_assert_uint_le(sp->n + sp->n_skipped, 3 + 3); /* a mutated key may split nothing; bound loosely */
            accepted++;
            ic_nsynth_split_free(sp);
        } else {
            ck_assert_int_ne(err.code, IC_OK);
            ck_assert_uint_gt(strlen(err.msg), 0);
        }
    }
    ck_assert_uint_gt(accepted, 0); /* some mutations only break single entries */
    free(buf);
    free(good);
}
END_TEST

/* ---- archives ------------------------------------------------------------------ */

static void assert_same_examples(const ic_nsynth_split *a, const ic_nsynth_split *b) {
    ck_assert_uint_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const ic_nsynth_example *x = &a->ex[i], *y = &b->ex[i];
        ck_assert_str_eq(x->note_str, y->note_str);
        ck_assert_str_eq(x->instrument_str, y->instrument_str);
        ck_assert_int_eq(x->note, y->note);
        ck_assert_int_eq(x->instrument, y->instrument);
        ck_assert_int_eq(x->pitch, y->pitch);
        ck_assert_int_eq(x->velocity, y->velocity);
        ck_assert_int_eq(x->sample_rate, y->sample_rate);
        ck_assert_int_eq(x->family, y->family);
        ck_assert_int_eq(x->source, y->source);
        ck_assert_uint_eq(x->qualities, y->qualities);
        ck_assert_uint_eq(x->n_notes, y->n_notes);
        ck_assert_int_eq(x->wav_frames, y->wav_frames);
        ck_assert_int_eq(x->wav_rate, y->wav_rate);
        ck_assert_str_eq(strrchr(x->wav, '/'), strrchr(y->wav, '/'));
    }
}

START_TEST(test_archive_matches_folder) {
    spec s[8];
    size_t n = standard_specs(s);
    make_split(tpath("nsynth-train"), s, n, 1);
    /* wavs before examples.json, and after it */
    ic_test_sh_ok("cd %s && tar czf wavs-first.tar.gz nsynth-train/audio nsynth-train/examples.json && "
        "tar czf json-first.tar.gz nsynth-train/examples.json nsynth-train/audio && "
        "tar cf plain.tar nsynth-train", g_dir);
    ic_error err;
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    o.on_error = IC_ON_ERROR_STOP;
    ic_nsynth_split *folder = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_msg(folder != NULL, "%s", err.msg);
    const char *names[] = {"wavs-first.tar.gz", "json-first.tar.gz", "plain.tar"};
    for (int k = 0; k < 3; k++) {
        ic_nsynth_split *ar = ic_nsynth_load_split(tpath(names[k]), &o, &err);
        ck_assert_msg(ar != NULL, "%s: %s", names[k], err.msg);
        ck_assert_int_eq(ar->from_archive, 1);
        ck_assert_str_eq(ar->name, "train");
        ck_assert_str_eq(ar->ex[0].wav, "nsynth-train/audio/guitar_acoustic_024-060-075.wav");
        assert_same_examples(folder, ar);
        /* streamed audio is bit-identical to the folder's */
        ic_nsynth_stream *st = ic_nsynth_stream_open(ar, &err);
        ck_assert_ptr_nonnull(st);
        size_t idx, nx, got = 0;
        float *x;
        int rate, r;
        unsigned char seen[8] = {0};
        while ((r = ic_nsynth_stream_next(st, &idx, &x, &nx, &rate, &err)) == 1) {
            float *y;
            size_t ny;
            int ry;
            ck_assert_int_eq(ic_nsynth_load_audio(folder, idx, &y, &ny, &ry, &err), IC_OK);
            ck_assert_uint_eq(nx, ny);
            ck_assert_int_eq(memcmp(x, y, nx * sizeof *x), 0);
            ck_assert_int_eq(seen[idx], 0);
            seen[idx] = 1;
            free(x);
            free(y);
            got++;
        }
        ck_assert_msg(r == 0, "%s", err.msg);
        ck_assert_uint_eq(got, n);
        ic_nsynth_stream_close(st);
        ck_assert_int_eq(ic_nsynth_load_audio(ar, 0, &x, &nx, &rate, &err), IC_ERR_UNSUPPORTED);
        ic_nsynth_split_free(ar);
    }
    /* a trusting load of a json-first archive stops reading after the json */
    o.check_audio = 0;
    ic_nsynth_split *ar = ic_nsynth_load_split(tpath("json-first.tar.gz"), &o, &err);
    ck_assert_ptr_nonnull(ar);
    ck_assert_uint_eq(ar->n, n);
    ck_assert_int_eq(ar->ex[0].wav_frames, -1);
    ic_nsynth_split_free(ar);
    /* locate prefers the folder, then finds the published archive name */
    ic_test_sh_ok("cd %s && mv json-first.tar.gz nsynth-valid.jsonwav.tar.gz", g_dir);
    char path[1024];
    ck_assert_int_eq(ic_nsynth_locate(g_dir, "valid", path, sizeof path), 1);
    ck_assert_str_eq(path, tpath("nsynth-valid.jsonwav.tar.gz"));
    ic_nsynth_split_free(folder);
}
END_TEST

START_TEST(test_archive_validation) {
    make_broken_split(tpath("nsynth-train"));
    ic_test_sh_ok("cd %s && tar czf a.tar.gz nsynth-train/audio nsynth-train/examples.json", g_dir);
    warns w = {0};
    ic_nsynth_opts o = opts_with(&w, IC_ON_ERROR_SKIP);
    ic_error err;
    ic_nsynth_split *sp = ic_nsynth_load_split(tpath("a.tar.gz"), &o, &err);
    ck_assert_msg(sp != NULL, "%s", err.msg);
    ck_assert_uint_eq(sp->n, 2);
    ck_assert_uint_eq(sp->n_skipped, 7);
    ck_assert_msg(strstr(w.all, "a.tar.gz: member nsynth-train/audio/guitar_electronic_027-064-100.wav: missing wav for entry 'guitar_electronic_027-064-100'"), "%s", w.all);
    ck_assert_msg(strstr(w.all, "a.tar.gz: member nsynth-train/audio/bass_electronic_033-040-050.wav (entry 'bass_electronic_033-040-050'): sample rate 22050 Hz"), "%s", w.all);
    ck_assert_msg(strstr(w.all, "(entry 'vocal_acoustic_052-061-075'): not a readable audio file"), "%s", w.all);
    ck_assert_msg(strstr(w.all, "a.tar.gz: nsynth-train/examples.json: entry 'guitar_acoustic_002-062-075': instrument_family_str: unknown family"), "%s", w.all);
    ic_nsynth_split_free(sp);
    o.on_error = IC_ON_ERROR_STOP;
    sp = ic_nsynth_load_split(tpath("a.tar.gz"), &o, &err);
    ck_assert_ptr_null(sp);
    ck_assert_msg(strstr(err.msg, "entry 'guitar_acoustic_001-061-075': pitch"), "%s", err.msg);
}
END_TEST

static void expect_archive_error(const char *name, const char *msg) {
    ic_error err;
    ic_error_clear(&err);
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    ic_nsynth_split *sp = ic_nsynth_load_split(tpath(name), &o, &err);
    ck_assert_msg(sp == NULL, "%s accepted", name);
    ck_assert_int_ne(err.code, IC_OK);
    ck_assert_msg(strstr(err.msg, msg), "%s: \"%s\" lacks \"%s\"", name, err.msg, msg);
}

START_TEST(test_broken_archives) {
    spec s[8];
    size_t n = standard_specs(s);
    make_split(tpath("nsynth-train"), s, n, 1);
    ic_test_sh_ok("cd %s && tar czf good.tar.gz nsynth-train && tar cf good.tar nsynth-train && "
        "tar czf nojson.tar.gz nsynth-train/audio", g_dir);
    size_t len;
    char *gz = ic_test_slurp(tpath("good.tar.gz"), &len);
    /* truncated at several points: always an error */
    size_t cuts[] = {0, 1, 10, 100, len / 3, len / 2, len - 20, len - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        ic_test_write_file(tpath("cut.tar.gz"), gz, cuts[k]);
        ic_error err;
        ic_nsynth_split *sp = ic_nsynth_load_split(tpath("cut.tar.gz"), NULL, &err);
        ck_assert_msg(sp == NULL, "cut at %zu accepted", cuts[k]);
        ck_assert_int_ne(err.code, IC_OK);
    }
    ic_test_write_file(tpath("cut.tar.gz"), gz, len / 2);
    expect_archive_error("cut.tar.gz", "unexpected end of file");
    /* corrupted deflate data in the middle */
    char *bad = malloc(len);
    memcpy(bad, gz, len);
    for (size_t i = len / 2; i < len / 2 + 64; i++) bad[i] ^= 0x5a;
    ic_test_write_file(tpath("corrupt.tar.gz"), bad, len);
    {
        /* inflate may fail outright or hand back garbage that fails a tar checksum */
        ic_error err;
        ck_assert_ptr_null(ic_nsynth_load_split(tpath("corrupt.tar.gz"), NULL, &err));
        ck_assert_msg(strstr(err.msg, "corrupted archive") || strstr(err.msg, "bad tar header checksum"),
                      "%s", err.msg);
    }
    /* a gzip trailer whose CRC does not match */
    memcpy(bad, gz, len);
    bad[len - 6] ^= 1;
    ic_test_write_file(tpath("crc.tar.gz"), bad, len);
    expect_archive_error("crc.tar.gz", "corrupted archive");
    free(bad);
    free(gz);
    /* plain tar with a header byte changed: checksum mismatch */
    char *tar = ic_test_slurp(tpath("good.tar"), &len);
    char *hdr = memmem(tar, len, "nsynth-train/audio/bass", 23);
    ck_assert_ptr_nonnull(hdr);
    ck_assert_int_eq((hdr - tar) % 512, 0);
    hdr[20] ^= 0x20;
    ic_test_write_file(tpath("badsum.tar"), tar, len);
    char want[80];
    snprintf(want, sizeof want, "bad tar header checksum at byte %td", hdr - tar);
    expect_archive_error("badsum.tar", want);
    /* the same as gzip */
    ic_test_sh_ok("cd %s && gzip -c badsum.tar > badsum.tar.gz", g_dir);
    expect_archive_error("badsum.tar.gz", "bad tar header checksum");
    /* a tar cut exactly at a block boundary (no end marker) */
    ic_test_write_file(tpath("noend.tar"), tar, 512 * 2);
    expect_archive_error("noend.tar", "truncated archive");
    free(tar);
    expect_archive_error("nojson.tar.gz", "no examples.json in the archive");
    /* not an archive at all */
    ic_test_write_file(tpath("text.tar.gz"), "hello, this is not a tar file\n", 30);
    expect_archive_error("text.tar.gz", "truncated archive");
    char junk[2048];
    ic_rng r;
    ic_rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)ic_rng_below(&r, 256);
    ic_test_write_file(tpath("junk.tar"), junk, sizeof junk);
    expect_archive_error("junk.tar", "bad tar header checksum at byte 0");
    expect_archive_error("missing.tar.gz", "missing.tar.gz");
    /* two splits in one archive are refused */
    make_split(tpath("nsynth-valid"), s, 1, 1);
    ic_test_sh_ok("cd %s && tar czf two.tar.gz nsynth-train nsynth-valid", g_dir);
    expect_archive_error("two.tar.gz", "a second examples.json");
}
END_TEST

START_TEST(test_archive_fuzz) {
    /* seeded byte flips all over a small .tar.gz and its plain .tar: errors or a
     * valid split, never a crash (ASan) */
    spec s[8];
    standard_specs(s);
    make_split(tpath("nsynth-train"), s, 2, 1);
    ic_test_sh_ok("cd %s && tar czf g.tar.gz nsynth-train && tar cf g.tar nsynth-train", g_dir);
    ic_rng r;
    ic_rng_seed(&r, 11);
    const char *src[] = {"g.tar.gz", "g.tar"};
    for (int f = 0; f < 2; f++) {
        size_t len;
        char *orig = ic_test_slurp(tpath(src[f]), &len);
        char *buf = malloc(len);
        for (int trial = 0; trial < 40; trial++) {
            memcpy(buf, orig, len);
            int k = 1 + (int)ic_rng_below(&r, 3);
            for (int j = 0; j < k; j++) buf[ic_rng_below(&r, f == 1 ? 4096 : len)] ^= (char)(1 + ic_rng_below(&r, 255));
            ic_test_write_file(tpath("m.tar"), buf, len);
            ic_error err;
            ic_error_clear(&err);
            ic_nsynth_opts o;
            ic_nsynth_opts_default(&o);
            o.warn = collect;
            warns w = {0};
            o.warn_ctx = &w;
            ic_nsynth_split *sp = ic_nsynth_load_split(tpath("m.tar"), &o, &err);
            if (sp) {
                ck_assert_uint_le(sp->n, 2);
                ic_nsynth_split_free(sp);
            } else {
                ck_assert_uint_gt(strlen(err.msg), 0);
            }
        }
        free(buf);
        free(orig);
    }
}
END_TEST

START_TEST(test_tar_long_names) {
    /* GNU and PAX long names (> 100 bytes) and a ustar prefix come back whole */
    char dir[512], sub[200], longname[400], p[1024];
    snprintf(dir, sizeof dir, "%s", tpath("t"));
    mkdir(dir, 0755);
    memset(sub, 'd', 90);
    sub[90] = 0;
    snprintf(p, sizeof p, "%s/%s", dir, sub);
    mkdir(p, 0755);
    memset(longname, 0, sizeof longname);
    memcpy(longname, sub, 90);
    longname[90] = '/';
    memset(longname + 91, 'n', 60);
    strcpy(longname + 151, ".txt");
    snprintf(p, sizeof p, "%s/%s", dir, longname);
    ic_test_write_file(p, "abc", 3);
    const char *formats[] = {"gnu", "pax", "ustar"};
    for (int f = 0; f < 3; f++) {
        ic_test_sh_ok("cd %s && tar --format=%s -czf %s.tgz t", g_dir, formats[f], formats[f]);
        char tgz[1024];
        snprintf(tgz, sizeof tgz, "%s/%s.tgz", g_dir, formats[f]);
        ic_error err;
        ic_tar *t = ic_tar_open(tgz, &err);
        ck_assert_ptr_nonnull(t);
        ic_tar_entry e;
        int found = 0, r;
        while ((r = ic_tar_next(t, &e, &err)) == 1) {
            if (e.type != '0') continue;
            char want[600];
            snprintf(want, sizeof want, "t/%s", longname);
            ck_assert_str_eq(e.name, want);
            ck_assert_uint_eq(e.size, 3);
            ck_assert_int_gt(e.mtime, 1000000000);
            char *d;
            size_t n;
            ck_assert_int_eq(ic_tar_read_all(t, 10, &d, &n, &err), IC_OK);
            ck_assert_str_eq(d, "abc");
            free(d);
            found++;
        }
        ck_assert_msg(r == 0, "%s: %s", formats[f], err.msg);
        ck_assert_int_eq(found, 1);
        ic_tar_close(t);
    }
}
END_TEST

/* ---- balance and counts -------------------------------------------------------- */

static ic_nsynth_split *synthetic_split(void) {
    /* families: bass 10, guitar 5, vocal 2, keyboard 0 */
    ic_nsynth_split *s = calloc(1, sizeof *s);
    s->source = strdup("mem");
    s->ex = calloc(17, sizeof *s->ex);
    int fam[17];
    for (int i = 0; i < 17; i++) fam[i] = i < 10 ? 0 : i < 15 ? 3 : 10;
    for (int i = 0; i < 17; i++) {
        ic_nsynth_example *e = &s->ex[i];
        char name[32];
        snprintf(name, sizeof name, "ex%02d", i);
        e->note_str = strdup(name);
        e->instrument_str = strdup("");
        e->family = fam[(i * 7) % 17]; /* interleave families */
        e->source = i % 3;
        e->family_str = ic_nsynth_family_name(e->family);
        e->source_str = ic_nsynth_source_name(e->source);
    }
    s->n = 17;
    return s;
}

static void kept_names(const ic_nsynth_split *s, char *out, size_t cap) {
    out[0] = 0;
    for (size_t i = 0; i < s->n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s,", s->ex[i].note_str);
    }
}

START_TEST(test_balance) {
    ic_nsynth_split *a = synthetic_split(), *b = synthetic_split(), *c = synthetic_split();
    ic_nsynth_counts k;
    ic_nsynth_count(a, &k);
    ck_assert_uint_eq(k.total, 17);
    ck_assert_uint_eq(k.family[0], 10);
    ck_assert_uint_eq(k.family[3], 5);
    ck_assert_uint_eq(k.family[10], 2);
    ck_assert_uint_eq(k.family[4], 0);
    ck_assert_uint_eq(k.source[0] + k.source[1] + k.source[2], 17);
    ck_assert_uint_eq(k.source[0], 6);
    ic_rng r1, r2, r3;
    ic_rng_seed(&r1, 42);
    ic_rng_seed(&r2, 42);
    ic_rng_seed(&r3, 43);
    ck_assert_uint_eq(ic_nsynth_balance(a, 3, &r1), 7 + 2);
    ck_assert_uint_eq(ic_nsynth_balance(b, 3, &r2), 9);
    ck_assert_uint_eq(ic_nsynth_balance(c, 3, &r3), 9);
    ic_nsynth_count(a, &k);
    ck_assert_uint_eq(k.total, 8);
    ck_assert_uint_eq(k.family[0], 3);
    ck_assert_uint_eq(k.family[3], 3);
    ck_assert_uint_eq(k.family[10], 2);
    char na[512], nb[512], nc[512];
    kept_names(a, na, sizeof na);
    kept_names(b, nb, sizeof nb);
    kept_names(c, nc, sizeof nc);
    ck_assert_str_eq(na, nb);      /* same seed, same subset */
    ck_assert_str_ne(na, nc);      /* another seed, another subset (fixed by the seeds) */
    for (size_t i = 1; i < a->n; i++) /* survivors keep their order */
        ck_assert_int_lt(strcmp(a->ex[i - 1].note_str, a->ex[i].note_str), 0);
    /* a cap above every family removes nothing */
    ck_assert_uint_eq(ic_nsynth_balance(a, 100, &r1), 0);
    ck_assert_uint_eq(a->n, 8);

    /* count table and JSON */
    ic_nsynth_counts two[2];
    ic_nsynth_count(b, &two[0]);
    ic_nsynth_count(c, &two[1]);
    char *text = NULL;
    size_t tl = 0;
    FILE *mf = open_memstream(&text, &tl);
    const char *names[] = {"train", "a-long-split"};
    ic_nsynth_print_counts(mf, "after --balance 3", names, two, 2);
    fclose(mf);
    ck_assert_msg(strstr(text, "after --balance 3\nfamily          train a-long-split\nbass                3            3\n"), "%s", text);
    ck_assert_msg(strstr(text, "\nvocal               2            2\nsource\n"), "%s", text);
    ck_assert_msg(strstr(text, "\ntotal               8            8\n"), "%s", text);
    free(text);
    cJSON *j = ic_nsynth_counts_to_json(&two[0]);
    ck_assert_int_eq(cJSON_GetObjectItem(j, "total")->valueint, 8);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "families"), "guitar")->valueint, 3);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "families"), "keyboard")->valueint, 0);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "sources"), "synthetic"));
    cJSON_Delete(j);
    ic_nsynth_split_free(a);
    ic_nsynth_split_free(b);
    ic_nsynth_split_free(c);
}
END_TEST

/* ---- rendered notes (bin/icsynth + TimGM6mb) ------------------------------------ */

#define TIMGM "/usr/share/sounds/sf2/TimGM6mb.sf2"

/* Harmonic energy of x at fundamental f0: sum over harmonics below 7 kHz of the
 * Hann-windowed DFT power at k*f0. */
static double harmonic_power(const float *x, size_t n, int rate, double f0) {
    double total = 0;
    for (int k = 1; k <= 8 && k * f0 < 7000; k++) {
        double w = 2 * M_PI * k * f0 / rate, re = 0, im = 0;
        for (size_t i = 0; i < n; i++) {
            double h = 0.5 - 0.5 * cos(2 * M_PI * (double)i / (double)(n - 1));
            re += h * x[i] * cos(w * (double)i);
            im -= h * x[i] * sin(w * (double)i);
        }
        total += re * re + im * im;
    }
    return total;
}

START_TEST(test_rendered_notes) {
    const char *exe = ic_test_bin("icsynth");
    char table[64] = "";
    ck_assert_msg(access(TIMGM, R_OK) == 0, "%s missing (Debian package timgm6mb-soundfont)", TIMGM);
    if (access("datasets/gm_families.tsv", R_OK) == 0) snprintf(table, sizeof table, "--table datasets/gm_families.tsv");
    /* keyboard, guitar, bass, string, flute; every 12th pitch of each family's range */
    ic_test_sh_ok("'%s' %s --soundfont %s --out '%s' --split train --programs 0,24,33,40,73 "
                  "--velocities 100 --pitch-step 12 --quiet 2> '%s/icsynth.log'", exe, table, TIMGM, g_dir, g_dir);
    ic_error err;
    ic_nsynth_opts o;
    ic_nsynth_opts_default(&o);
    o.on_error = IC_ON_ERROR_STOP;
    ic_nsynth_split *s = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    ck_assert_uint_ge(s->n, 10);
    static const char *const fam_of_prog[] = {"keyboard", "guitar", "bass", "string", "flute"};
    ic_nsynth_counts k;
    ic_nsynth_count(s, &k);
    for (int i = 0; i < 5; i++) ck_assert_uint_gt(k.family[ic_nsynth_family_id(fam_of_prog[i])], 0);
    ck_assert_uint_eq(k.total, s->n);
    for (size_t i = 0; i < s->n; i++) {
        const ic_nsynth_example *e = &s->ex[i];
        ck_assert_int_eq(e->sample_rate, 16000);
        ck_assert_int_eq(e->wav_rate, 16000);
        ck_assert_int_eq(e->wav_frames, 64000);
        ck_assert_int_eq(e->velocity, 100);
        /* note_str FAMILY_SOURCE_..-PPP-VVV agrees with the fields */
        char tail[16];
        snprintf(tail, sizeof tail, "-%03d-%03d", e->pitch, e->velocity);
        size_t L = strlen(e->note_str);
        ck_assert_str_eq(e->note_str + L - 8, tail);
        char head[64];
        snprintf(head, sizeof head, "%s_%s_", e->family_str, e->source_str);
        ck_assert_msg(!strncmp(e->note_str, head, strlen(head)), "%s vs %s", e->note_str, head);
        /* the sound's pitch: the labelled fundamental's harmonics carry more energy
         * than those of a fundamental one or two semitones off (0.2-1.0 s, key held) */
        float *x;
        size_t n;
        int rate;
        ck_assert_int_eq(ic_nsynth_load_audio(s, i, &x, &n, &rate, &err), IC_OK);
        double f0 = 440.0 * pow(2.0, (e->pitch - 69) / 12.0);
        const float *seg = x + 3200;
        size_t len = 12800;
        double p0 = harmonic_power(seg, len, rate, f0);
        for (int d = -2; d <= 2; d++) {
            if (!d) continue;
            double pd = harmonic_power(seg, len, rate, f0 * pow(2.0, d / 12.0));
            ck_assert_msg(p0 > 2 * pd, "%s: pitch %d: harmonic power %.3g, %+d semitones %.3g", e->note_str,
                          e->pitch, p0, d, pd);
        }
        free(x);
    }
    /* balance: every family capped at 2, reproducibly */
    ic_nsynth_split *s2 = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ic_rng r1, r2;
    ic_rng_seed(&r1, 5);
    ic_rng_seed(&r2, 5);
    ic_nsynth_balance(s, 2, &r1);
    ic_nsynth_balance(s2, 2, &r2);
    ic_nsynth_counts kb;
    ic_nsynth_count(s, &kb);
    for (int f = 0; f < IC_NSYNTH_N_FAMILIES; f++) ck_assert_uint_eq(kb.family[f], k.family[f] < 2 ? k.family[f] : 2);
    assert_same_examples(s, s2);
    ic_nsynth_split_free(s2);
    /* archive == folder, features included */
    ic_test_sh_ok("cd %s && tar czf r.tar.gz nsynth-train", g_dir);
    ic_nsynth_split *fo = ic_nsynth_load_split(tpath("nsynth-train"), &o, &err);
    ic_nsynth_split *ar = ic_nsynth_load_split(tpath("r.tar.gz"), &o, &err);
    ck_assert_msg(ar != NULL, "%s", err.msg);
    assert_same_examples(fo, ar);
    ic_frontend_params p;
    ic_frontend_defaults(&p);
    ic_frontend *fe = ic_frontend_new(&p, &err);
    ic_featcache_opts co = {.cache_dir = tpath("cache"), .quiet = 1};
    int built_f, built_a;
    ic_featcache *cf = ic_featcache_open(fo, fe, &co, &built_f, &err);
    ck_assert_msg(cf != NULL, "%s", err.msg);
    ic_featcache *ca = ic_featcache_open(ar, fe, &co, &built_a, &err);
    ck_assert_msg(ca != NULL, "%s", err.msg);
    ck_assert_int_eq(built_f + built_a, 2);
    size_t vals = (size_t)ic_featcache_n_features(cf) * ic_featcache_n_frames(cf);
    for (size_t i = 0; i < fo->n; i++)
        ck_assert_int_eq(memcmp(ic_featcache_clip_f16(cf, i), ic_featcache_clip_f16(ca, i), vals * 2), 0);
    ic_featcache_close(cf);
    cf = ic_featcache_open(fo, fe, &co, &built_f, &err);
    ck_assert_int_eq(built_f, 0);
    ic_featcache_close(cf);
    ic_featcache_close(ca);
    ic_frontend_free(fe);
    ic_nsynth_split_free(fo);
    ic_nsynth_split_free(ar);
    ic_nsynth_split_free(s);
}
END_TEST

static Suite *nsynth_suite(void) {
    Suite *s = suite_create("nsynth");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_name_tables);
    tcase_add_test(tc, test_parse_entry_good);
    tcase_add_test(tc, test_parse_entry_bad);
    tcase_add_test(tc, test_folder_fields);
    tcase_add_test(tc, test_array_form_and_stereo);
    tcase_add_test(tc, test_validation_skip);
    tcase_add_test(tc, test_validation_stop);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_broken_json_files);
    tcase_add_test(tc, test_json_fuzz);
    tcase_add_test(tc, test_archive_matches_folder);
    tcase_add_test(tc, test_archive_validation);
    tcase_add_test(tc, test_broken_archives);
    tcase_add_test(tc, test_archive_fuzz);
    tcase_add_test(tc, test_tar_long_names);
    tcase_add_test(tc, test_balance);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("render");
    tcase_add_checked_fixture(tr, setup, teardown);
    tcase_set_timeout(tr, 120);
    tcase_add_test(tr, test_rendered_notes);
    suite_add_tcase(s, tr);
    return s;
}

IC_TEST_MAIN(nsynth_suite)
