/* Tests for the dataset generator (src/synth, train/icsynth.c): the GM family table,
 * flag parsing, names and split hashing, the decimation filter, rendering from the
 * small TimGM6mb soundfont (pitch of the audio against its label, release after 3 s,
 * no clipping, silent and unplayable keys), phrase generation, the examples.json
 * store, and bin/icsynth end to end in a mkdtemp directory (fields, wav format,
 * resume without duplicates, phrases, split by hash, bad usage).
 * Needs the timgm6mb-soundfont package; bin/icsynth is found through $IC_BIN. */
#include "testutil.h"
#include "testutil_io.h"
#include "ic/synth.h"
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <sndfile.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIM "/usr/share/sounds/sf2/TimGM6mb.sf2"
#define TABLE "datasets/gm_families.tsv"
#define CENTS_TOL 50.0     /* rendered pitch vs label: a quarter tone */

/* ---- helpers ---- */

static cJSON *read_json(const char *path) {
    char *t = ic_test_slurp(path, NULL);
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_msg(j != NULL, "%s is not valid JSON", path);
    ck_assert(cJSON_IsObject(j));
    return j;
}

/* Runs bin/icsynth with args (NULL-terminated), its output appended to dir/log; exit status. */
static int run_icsynth(const char *dir, const char *const *args) {
    const char *log = ic_test_path(dir, "log");
    return ic_test_spawn(ic_test_bin("icsynth"), args, NULL, log, log, 1);
}

/* YIN (de Cheveigne & Kawahara 2002): cumulative-mean-normalised difference, first dip
 * below 0.15, parabolic refinement.  x needs win + rate/40 samples.  Hz. */
static double estimate_f0(const float *x, int rate) {
    enum { WIN = 2048 };
    int tmin = rate / 2500, tmax = rate / 40;
    double *d = calloc((size_t)tmax + 2, sizeof *d);
    ck_assert_ptr_nonnull(d);
    double run = 0;
    d[0] = 1;
    for (int tau = 1; tau <= tmax + 1; tau++) {
        double s = 0;
        for (int i = 0; i < WIN; i++) { double e = (double)x[i] - x[i + tau]; s += e * e; }
        run += s;
        d[tau] = run > 0 ? s * tau / run : 1;
    }
    int best = -1;
    for (int tau = tmin; tau <= tmax; tau++)
        if (d[tau] < 0.15) {
            while (tau + 1 <= tmax && d[tau + 1] < d[tau]) tau++;
            best = tau;
            break;
        }
    if (best < 0) {
        best = tmin;
        for (int tau = tmin; tau <= tmax; tau++) if (d[tau] < d[best]) best = tau;
    }
    double a = d[best - 1], b = d[best], c = d[best + 1], den = a - 2 * b + c;
    double t = best + (den > 0 ? 0.5 * (a - c) / den : 0);
    free(d);
    return rate / t;
}

static double cents(double f, int midi) { return 1200.0 * log2(f / (440.0 * pow(2.0, (midi - 69) / 12.0))); }

static double rms(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s / (double)n);
}

/* Reads a wav and checks NSynth's format; returns its samples (IC_SYNTH_FRAMES floats). */
static float *read_nsynth_wav(const char *path) {
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *f = sf_open(path, SFM_READ, &info);
    ck_assert_msg(f != NULL, "%s: %s", path, sf_strerror(NULL));
    ck_assert_int_eq(info.samplerate, 16000);
    ck_assert_int_eq(info.channels, 1);
    ck_assert_int_eq(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    ck_assert_int_eq(info.frames, IC_SYNTH_FRAMES);
    short *pcm = malloc(IC_SYNTH_FRAMES * sizeof *pcm);
    float *x = malloc(IC_SYNTH_FRAMES * sizeof *x);
    ck_assert(pcm && x);
    ck_assert_int_eq(sf_readf_short(f, pcm, IC_SYNTH_FRAMES), IC_SYNTH_FRAMES);
    sf_close(f);
    int peak = 0;
    for (int i = 0; i < IC_SYNTH_FRAMES; i++) {
        int a = abs(pcm[i]);
        if (a > peak) peak = a;
        x[i] = pcm[i] / 32767.0f;
    }
    /* no clipping: the peak-safe ceiling holds (0.98 full scale) */
    ck_assert_int_le(peak, (int)(IC_SYNTH_PEAK_CEILING * 32767.0f) + 1);
    ck_assert_int_gt(peak, (int)(IC_SYNTH_SILENCE_PEAK * 32767.0f));
    free(pcm);
    return x;
}

/* ---- table ---- */

START_TEST(test_table) {
    ic_gm_table t;
    ic_error err;
    ck_assert_int_eq(ic_gm_table_load(TABLE, &t, &err), IC_OK);
    ck_assert_str_eq(ic_synth_family_name(t.prog[24].family), "guitar");
    ck_assert_str_eq(ic_synth_source_name(t.prog[24].source), "acoustic");
    ck_assert_str_eq(t.prog[24].name, "Acoustic Guitar (nylon)");
    ck_assert_str_eq(ic_synth_family_name(t.prog[38].family), "bass");
    ck_assert_str_eq(ic_synth_source_name(t.prog[38].source), "synthetic");
    ck_assert_int_eq(t.prog[47].family, -1);           /* timpani */
    ck_assert_int_eq(t.prog[47].source, -1);
    ck_assert_str_eq(t.prog[47].name, "Timpani");
    ck_assert_str_eq(ic_synth_source_name(t.prog[4].source), "electronic");    /* Electric Piano 1 */
    ck_assert_str_eq(ic_synth_source_name(t.prog[19].source), "acoustic");     /* Church Organ */
    ck_assert_str_eq(ic_synth_source_name(t.prog[16].source), "electronic");   /* Drawbar Organ */
    ck_assert_str_eq(ic_synth_source_name(t.prog[33].source), "electronic");   /* Electric Bass */
    ck_assert_str_eq(ic_synth_family_name(t.prog[81].family), "synth_lead");
    ck_assert_str_eq(ic_synth_source_name(t.prog[81].source), "synthetic");
    ck_assert_str_eq(ic_synth_family_name(t.prog[54].family), "vocal");
    ck_assert_str_eq(ic_synth_source_name(t.prog[54].source), "synthetic");    /* Synth Voice */
    ck_assert_str_eq(ic_synth_family_name(t.prog[105].family), "guitar");      /* Banjo */
    ck_assert_str_eq(ic_synth_family_name(t.prog[109].family), "reed");        /* Bag pipe */
    ck_assert_str_eq(ic_synth_family_name(t.prog[114].family), "mallet");      /* Steel Drums */
    ck_assert_int_eq(t.prog[113].family, -1);          /* Agogo */
    ck_assert_int_eq(t.prog[55].family, -1);           /* Orchestra Hit */
    int per_family[IC_SYNTH_N_FAMILIES] = {0}, kept = 0;
    for (int p = 0; p < 128; p++) {
        if (t.prog[p].family < 0) continue;
        kept++;
        per_family[t.prog[p].family]++;
        /* every GM name starting with "Synth" is synthetic */
        if (strncmp(t.prog[p].name, "Synth", 5) == 0) ck_assert_int_eq(t.prog[p].source, 2);
    }
    ck_assert_int_eq(kept, 96);
    ck_assert_int_eq(per_family[ic_synth_family_id("string")], 14);
    ck_assert_int_eq(per_family[ic_synth_family_id("vocal")], 3);
    ck_assert_int_eq(per_family[ic_synth_family_id("organ")], 5);
}
END_TEST

START_TEST(test_table_errors) {
    char dir[64], path[512];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    snprintf(path, sizeof path, "%s/t.tsv", dir);
    ic_gm_table t;
    ic_error err;
    const char *header = "# c\nprogram\tfamily\tsource\tgm_name\n";
    char buf[8192];
    /* missing header */
    ic_test_write_text(path, "0\tkeyboard\tacoustic\tPiano\n");
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, ":1:"));
    /* unknown family on line 3 */
    snprintf(buf, sizeof buf, "%s0\tkazoo\tacoustic\tPiano\n", header);
    ic_test_write_text(path, buf);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, ":3:"));
    ck_assert_ptr_nonnull(strstr(err.msg, "kazoo"));
    /* family without source */
    snprintf(buf, sizeof buf, "%s0\tkeyboard\t-\tPiano\n", header);
    ic_test_write_text(path, buf);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    /* duplicate program */
    snprintf(buf, sizeof buf, "%s5\tkeyboard\tacoustic\tA\n5\tkeyboard\tacoustic\tB\n", header);
    ic_test_write_text(path, buf);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    /* too few rows */
    snprintf(buf, sizeof buf, "%s0\tkeyboard\tacoustic\tA\n", header);
    ic_test_write_text(path, buf);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.msg, "program 1 missing"));
    /* program out of range */
    snprintf(buf, sizeof buf, "%s128\tkeyboard\tacoustic\tA\n", header);
    ic_test_write_text(path, buf);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_FORMAT);
    /* missing file */
    snprintf(path, sizeof path, "%s/none.tsv", dir);
    ck_assert_int_eq(ic_gm_table_load(path, &t, &err), IC_ERR_IO);
    ic_test_rmtree(dir);
}
END_TEST

/* ---- flags, names, splits ---- */

START_TEST(test_parse_lists) {
    unsigned char m[128];
    ic_error err;
    ck_assert_int_eq(ic_synth_parse_programs("0-7,24,40-46", m, &err), IC_OK);
    int n = 0;
    for (int i = 0; i < 128; i++) n += m[i];
    ck_assert_int_eq(n, 16);
    ck_assert(m[0] && m[7] && m[24] && m[40] && m[46] && !m[8] && !m[47]);
    ck_assert_int_eq(ic_synth_parse_programs("5-3", m, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_programs("128", m, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_programs("1,,2", m, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_programs("x", m, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_programs("", m, &err), IC_ERR_ARG);
    int v[8], nv;
    ck_assert_int_eq(ic_synth_parse_ints("127,25,50,25", 1, 127, v, 8, &nv, &err), IC_OK);
    ck_assert_int_eq(nv, 3);
    ck_assert(v[0] == 25 && v[1] == 50 && v[2] == 127);
    ck_assert_int_eq(ic_synth_parse_ints("0", 1, 127, v, 8, &nv, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_ints("200", 1, 127, v, 8, &nv, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_synth_parse_ints("1,2,3", 1, 127, v, 2, &nv, &err), IC_ERR_ARG);
}
END_TEST

START_TEST(test_names_and_splits) {
    char tag[32], buf[128];
    ic_synth_sf_tag("/usr/share/sounds/sf2/FluidR3_GM.sf2", tag, sizeof tag);
    ck_assert_str_eq(tag, "fluidr3");
    ic_synth_sf_tag("TimGM6mb.sf2", tag, sizeof tag);
    ck_assert_str_eq(tag, "timgm6mb");
    ic_synth_sf_tag("/usr/share/sounds/sf3/MuseScore_General.sf3", tag, sizeof tag);
    ck_assert_str_eq(tag, "musescore");
    ic_synth_sf_tag("/x/_.sf2", tag, sizeof tag);
    ck_assert_str_eq(tag, "sf");
    ic_synth_instrument_str(3, 0, "fluidr3", 24, buf, sizeof buf);
    ck_assert_str_eq(buf, "guitar_acoustic_fluidr3_024");
    ic_synth_instrument_str(9, 2, "musescore", 80, buf, sizeof buf);
    ck_assert_str_eq(buf, "synth_lead_synthetic_musescore_080");
    int a = ic_synth_instrument_id("fluidr3", 24), b = ic_synth_instrument_id("timgm6mb", 24);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(a % 1000, 24);
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(ic_synth_instrument_id("fluidr3", 24), a);

    ic_split_spec sp;
    ic_error err;
    ck_assert_int_eq(ic_split_spec_parse("train", &sp, &err), IC_OK);
    ck_assert_int_eq(sp.n, 1);
    ck_assert_int_eq(ic_split_spec_pick(&sp, "anything"), 0);
    ck_assert_int_eq(ic_split_spec_parse("valid:3,test:1", &sp, &err), IC_OK);
    ck_assert_int_eq(sp.n, 2);
    ck_assert_str_eq(sp.name[1], "test");
    ck_assert_int_eq(sp.weight[0], 3);
    int count[2] = {0, 0};
    for (int p = 36; p <= 96; p++)
        for (int v = 0; v < 5; v++)
            for (int prog = 0; prog < 12; prog++) {
                char ns[160];
                snprintf(ns, sizeof ns, "string_acoustic_musescore_%03d-%03d-%03d", 40 + prog, p, 25 * v + 25);
                int k = ic_split_spec_pick(&sp, ns);
                ck_assert_int_eq(k, ic_split_spec_pick(&sp, ns));   /* stable */
                count[k]++;
            }
    double frac = (double)count[0] / (count[0] + count[1]);   /* 3660 names: expect 0.75 +- 0.021 (3 sd) */
    ck_assert_msg(frac > 0.72 && frac < 0.78, "valid fraction %.3f", frac);
    ck_assert_int_eq(ic_split_spec_parse("valid:3,valid:1", &sp, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_split_spec_parse("valid:0", &sp, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_split_spec_parse("a/b", &sp, &err), IC_ERR_ARG);
    ck_assert_int_eq(ic_split_spec_parse("", &sp, &err), IC_ERR_ARG);
}
END_TEST

/* ---- decimation ---- */

START_TEST(test_decimator) {
    ic_decimator d;
    ic_error err;
    ck_assert_int_eq(ic_decimator_init(&d, 3, &err), IC_OK);
    ck_assert_int_eq(d.taps % 2, 1);
    double sum = 0;
    for (int k = 0; k < d.taps; k++) sum += d.h[k];
    ck_assert_double_eq_tol(sum, 1.0, 1e-5);
    const size_t n_out = 4000;
    size_t n_in = ic_decimator_input_len(&d, n_out);
    float *in = malloc(n_in * sizeof *in), *out = malloc(n_out * sizeof *out);
    ck_assert(in && out);
    /* passband (1 and 6.5 kHz at 48 kHz in): amplitude kept within 0.1% */
    const double pass[] = {1000.0, 6500.0};
    for (int f = 0; f < 2; f++) {
        for (size_t i = 0; i < n_in; i++) in[i] = (float)sin(2 * M_PI * pass[f] * (double)i / 48000.0);
        ic_decimate(&d, in, out, n_out);
        double r = rms(out + 200, n_out - 400) * sqrt(2.0);
        ck_assert_msg(fabs(r - 1.0) < 1e-3, "%.0f Hz: amplitude %.5f", pass[f], r);
        /* zero phase: out[j] equals the input at 3j */
        ck_assert_double_eq_tol(out[1000], in[3000], 2e-3);
    }
    /* stop band: 9.5 and 12 kHz would alias to 6.5 and 4 kHz; at least 80 dB down */
    const double stop[] = {9500.0, 12000.0, 20000.0};
    for (int f = 0; f < 3; f++) {
        for (size_t i = 0; i < n_in; i++) in[i] = (float)sin(2 * M_PI * stop[f] * (double)i / 48000.0);
        ic_decimate(&d, in, out, n_out);
        double r = rms(out + 200, n_out - 400) * sqrt(2.0);
        ck_assert_msg(r < 1e-4, "%.0f Hz: leaked amplitude %.2e", stop[f], r);
    }
    ic_decimator_free(&d);
    ck_assert_int_eq(ic_decimator_init(&d, 0, &err), IC_ERR_ARG);
    free(in);
    free(out);
}
END_TEST

/* ---- rendering ---- */

START_TEST(test_render_pitch_and_release) {
    ic_error err;
    ic_synth *s = ic_synth_new(TIM, IC_SYNTH_DEFAULT_GAIN, &err);
    ck_assert_msg(s != NULL, "%s (install timgm6mb-soundfont)", err.msg);
    float *x = malloc(IC_SYNTH_FRAMES * sizeof *x);
    ck_assert_ptr_nonnull(x);
    /* clear harmonic instruments: flute, clarinet, violin, recorder (not organs: their
     * registrations add octaves below the key, which a period detector rightly finds) */
    const int cases[][2] = {{73, 69}, {73, 81}, {71, 55}, {40, 67}, {40, 40}, {74, 79}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        ic_render_info info;
        ck_assert_int_eq(ic_synth_render_note(s, cases[c][0], cases[c][1], 100, 3.0, x, &info, &err), IC_OK);
        ck_assert_int_eq(info.result, IC_RENDER_OK);
        ck_assert_float_le(info.peak, IC_SYNTH_PEAK_CEILING);
        ck_assert_float_eq(info.scale, 1.0f);
        double f0 = estimate_f0(x + 16000, IC_SYNTH_RATE);
        double ce = cents(f0, cases[c][1]);
        ck_assert_msg(fabs(ce) < CENTS_TOL, "program %d pitch %d: %.1f Hz is %.0f cents off", cases[c][0],
                      cases[c][1], f0, ce);
        /* key held until 3 s then released: the last 0.3 s are much quieter */
        double held = rms(x + 2 * 16000, 14000), tail = rms(x + 59200, 4800);
        ck_assert_msg(tail < 0.5 * held, "program %d: held rms %.4f tail rms %.4f", cases[c][0], held, tail);
        /* and the key really was held: still sounding at 2.9 s */
        ck_assert_double_gt(rms(x + 46400, 1600), 0.01 * rms(x + 8000, 8000));
    }
    /* a different velocity gives a different loudness */
    ic_render_info i1, i2;
    ck_assert_int_eq(ic_synth_render_note(s, 73, 72, 25, 3.0, x, &i1, &err), IC_OK);
    ck_assert_int_eq(ic_synth_render_note(s, 73, 72, 127, 3.0, x, &i2, &err), IC_OK);
    ck_assert_float_lt(i1.peak * 2.0f, i2.peak);
    free(x);
    ic_synth_free(s);
}
END_TEST

START_TEST(test_render_deterministic) {
    /* a clip does not depend on what the synth played before it */
    ic_error err;
    ic_synth *a = ic_synth_new(TIM, IC_SYNTH_DEFAULT_GAIN, &err), *b = ic_synth_new(TIM, IC_SYNTH_DEFAULT_GAIN, &err);
    ck_assert(a && b);
    float *x = malloc(IC_SYNTH_FRAMES * sizeof *x), *y = malloc(IC_SYNTH_FRAMES * sizeof *y);
    ck_assert(x && y);
    ic_render_info info;
    ck_assert_int_eq(ic_synth_render_note(a, 40, 60, 100, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(ic_synth_render_note(b, 14, 70, 127, 3.0, y, &info, &err), IC_OK);   /* long bell tail */
    ck_assert_int_eq(ic_synth_render_note(b, 0, 30, 127, 3.0, y, &info, &err), IC_OK);
    ck_assert_int_eq(ic_synth_render_note(b, 40, 60, 100, 3.0, y, &info, &err), IC_OK);
    ck_assert_int_eq(memcmp(x, y, IC_SYNTH_FRAMES * sizeof *x), 0);
    free(x);
    free(y);
    ic_synth_free(a);
    ic_synth_free(b);
}
END_TEST

START_TEST(test_render_skips_and_peak_safe) {
    ic_error err;
    ic_synth *s = ic_synth_new(TIM, IC_SYNTH_DEFAULT_GAIN, &err);
    ck_assert_msg(s != NULL, "%s", err.msg);
    float *x = malloc(IC_SYNTH_FRAMES * sizeof *x);
    ck_assert_ptr_nonnull(x);
    ic_render_info info;
    /* TimGM6mb: the piano has no sample above key 108, the baritone sax none above 79
     * and the whistle none above 78 */
    ck_assert_int_eq(ic_synth_render_note(s, 0, 109, 100, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_UNPLAYABLE);
    ck_assert_int_eq(ic_synth_render_note(s, 0, 108, 100, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_OK);
    ck_assert_int_eq(ic_synth_render_note(s, 67, 84, 100, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_UNPLAYABLE);
    ck_assert_int_eq(ic_synth_render_note(s, 67, 60, 100, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_OK);
    ck_assert(ic_synth_has_program(s, 0) && !ic_synth_has_program(s, 128));
    ck_assert_str_ne(ic_synth_preset_name(s, 0), "");
    /* a phrase with one unplayable key is unplayable as a whole */
    ic_phrase p;
    memset(&p, 0, sizeof p);
    p.n = 2;
    p.tempo = 120;
    p.note[0] = (ic_phrase_note){0.0f, 1.0f, 60, 90};
    p.note[1] = (ic_phrase_note){1.0f, 2.0f, 82, 90};
    ck_assert_int_eq(ic_synth_render_phrase(s, 78, &p, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_UNPLAYABLE);
    p.note[1].pitch = 70;
    ck_assert_int_eq(ic_synth_render_phrase(s, 78, &p, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_OK);
    ic_synth_free(s);

    /* far too much gain: the render is scaled to the ceiling instead of clipping */
    s = ic_synth_new(TIM, 10.0f, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(ic_synth_render_note(s, 30, 52, 127, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_OK);
    ck_assert_float_gt(info.peak, 1.0f);
    ck_assert_float_lt(info.scale, 1.0f);
    float pk = 0;
    for (int i = 0; i < IC_SYNTH_FRAMES; i++) pk = fmaxf(pk, fabsf(x[i]));
    ck_assert_float_eq_tol(pk, IC_SYNTH_PEAK_CEILING, 1e-6f);
    ic_synth_free(s);

    /* far too little gain: below -60 dBFS counts as silent */
    s = ic_synth_new(TIM, 0.00001f, &err);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(ic_synth_render_note(s, 73, 69, 127, 3.0, x, &info, &err), IC_OK);
    ck_assert_int_eq(info.result, IC_RENDER_SILENT);
    ck_assert_float_lt(info.peak, IC_SYNTH_SILENCE_PEAK);
    ck_assert_float_gt(info.peak, 0.0f);
    ic_synth_free(s);

    ck_assert_ptr_null(ic_synth_new("/nonexistent.sf2", 1.0f, &err));
    ck_assert_int_eq(err.code, IC_ERR_IO);
    ck_assert_ptr_null(ic_synth_new(TABLE, 1.0f, &err));          /* a file, but not a soundfont */
    ck_assert_int_eq(err.code, IC_ERR_FORMAT);
    ck_assert_ptr_null(ic_synth_new(TIM, 0.0f, &err));
    ck_assert_int_eq(err.code, IC_ERR_ARG);

    /* the wav writer refuses a sample that would clip */
    char dir[64], path[512];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    snprintf(path, sizeof path, "%s/a.wav", dir);
    for (int i = 0; i < 100; i++) x[i] = 0.5f;
    x[50] = 1.5f;
    ck_assert_int_eq(ic_synth_write_wav(path, x, 100, 16000, &err), IC_ERR_ARG);
    ck_assert_int_eq(access(path, F_OK), -1);
    x[50] = -1.0f;
    ck_assert_int_eq(ic_synth_write_wav(path, x, 100, 16000, &err), IC_OK);
    ck_assert(ic_synth_wav_complete(path, 16000, 100));
    ck_assert(!ic_synth_wav_complete(path, 16000, 64000));
    ck_assert(!ic_synth_wav_complete(path, 8000, 100));
    ic_test_rmtree(dir);
    free(x);
}
END_TEST

/* ---- phrases ---- */

START_TEST(test_phrase_generate) {
    int style_seen[IC_SYNTH_N_FAMILIES][IC_PHRASE_N_STYLES];
    memset(style_seen, 0, sizeof style_seen);
    for (int fam = 0; fam < IC_SYNTH_N_FAMILIES; fam++) {
        int lo, hi;
        ic_synth_family_range(fam, &lo, &hi);
        float tmin = 1e9f, tmax = 0;
        for (uint64_t seed = 0; seed < 150; seed++) {
            ic_rng r;
            ic_rng_seed(&r, seed * 7919 + (uint64_t)fam);
            ic_phrase p, q;
            ic_phrase_generate(&r, fam, 4.0, &p);
            ic_rng_seed(&r, seed * 7919 + (uint64_t)fam);
            ic_phrase_generate(&r, fam, 4.0, &q);
            ck_assert_int_eq(memcmp(&p, &q, sizeof p), 0);       /* deterministic */
            ck_assert_int_gt(p.n, 0);
            ck_assert(p.tempo >= 60 && p.tempo <= 180);
            style_seen[fam][p.style]++;
            tmin = fminf(tmin, p.tempo);
            tmax = fmaxf(tmax, p.tempo);
            for (int i = 0; i < p.n; i++) {
                const ic_phrase_note *n = &p.note[i];
                ck_assert_int_ge(n->pitch, lo);
                ck_assert_int_le(n->pitch, hi);
                ck_assert(n->velocity >= 1 && n->velocity <= 127);
                ck_assert(n->onset >= 0 && n->onset <= 3.6f + 1e-6f);
                ck_assert(n->offset > n->onset && n->offset <= 4.0f);
                if (i) ck_assert(p.note[i - 1].onset <= n->onset);
                for (int j = i + 1; j < p.n; j++) {
                    /* one key never sounds twice at once */
                    if (p.note[j].pitch == n->pitch && p.note[j].onset < n->offset)
                        ck_abort_msg("family %d seed %d: pitch %d overlaps itself", fam, (int)seed, n->pitch);
                    /* families without chords never start two notes together */
                    if (!ic_synth_family_chords(fam) && p.note[j].onset == n->onset)
                        ck_abort_msg("family %d: two onsets at %.3f", fam, n->onset);
                }
            }
            int pitch, vel;
            ic_phrase_first(&p, &pitch, &vel);
            for (int i = 0; i < p.n && p.note[i].onset == p.note[0].onset; i++) ck_assert_int_le(pitch, p.note[i].pitch);
        }
        ck_assert_msg(tmax - tmin > 60, "tempo barely varies");
        ck_assert_int_gt(style_seen[fam][IC_PHRASE_MELODY], 0);
        ck_assert_int_gt(style_seen[fam][IC_PHRASE_REPEATED], 0);
        ck_assert_int_gt(style_seen[fam][IC_PHRASE_STACCATO], 0);
        if (ic_synth_family_chords(fam)) ck_assert_int_gt(style_seen[fam][IC_PHRASE_CHORDS], 0);
        else ck_assert_int_eq(style_seen[fam][IC_PHRASE_CHORDS], 0);
    }
}
END_TEST

/* ---- examples.json store ---- */

static cJSON *entry(const char *ns, int pitch) {
    return ic_synth_entry(ns, "flute_acoustic_t_073", ic_synth_instrument_id("t", 73), pitch, 100, 2, 0, 1.0f, NULL);
}

START_TEST(test_examples_store) {
    char dir[64], path[512];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    ic_error err;
    ic_examples *e = ic_examples_open(dir, &err);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(ic_examples_count(e), 0);
    /* enough entries to make the index grow */
    char ns[64];
    for (int i = 0; i < 1500; i++) {
        snprintf(ns, sizeof ns, "flute_acoustic_t_073-%03d-%04d", i % 128, i);
        ic_examples_put(e, entry(ns, i % 128));
    }
    ck_assert_uint_eq(ic_examples_count(e), 1500);
    ck_assert(ic_examples_has(e, "flute_acoustic_t_073-005-0005"));
    ck_assert(!ic_examples_has(e, "flute_acoustic_t_073-005-0006"));
    ck_assert_int_eq(ic_examples_save(e, &err), IC_OK);
    ic_examples_free(e);

    e = ic_examples_open(dir, &err);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(ic_examples_count(e), 1500);
    ic_examples_put(e, entry("flute_acoustic_t_073-007-0007", 99));        /* replace: keeps id 7 */
    ic_examples_put(e, entry("flute_acoustic_t_073-new", 60));             /* new: id 1500 */
    ic_examples_remove(e, "flute_acoustic_t_073-008-0008");
    ic_examples_remove(e, "not-there");
    ck_assert_uint_eq(ic_examples_count(e), 1500);
    ck_assert(!ic_examples_has(e, "flute_acoustic_t_073-008-0008"));
    ck_assert_int_eq(ic_examples_save(e, &err), IC_OK);
    ic_examples_free(e);

    snprintf(path, sizeof path, "%s/examples.json", dir);
    cJSON *j = read_json(path);
    ck_assert_int_eq(cJSON_GetArraySize(j), 1500);
    cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "flute_acoustic_t_073-007-0007");
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(cJSON_GetObjectItem(r, "note")->valueint, 7);
    ck_assert_int_eq(cJSON_GetObjectItem(r, "pitch")->valueint, 99);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItemCaseSensitive(j, "flute_acoustic_t_073-new"), "note")->valueint,
                     1500);
    /* ids unique */
    unsigned char *seen = calloc(1501, 1);
    cJSON *c;
    cJSON_ArrayForEach(c, j) {
        int id = cJSON_GetObjectItem(c, "note")->valueint;
        ck_assert(id >= 0 && id <= 1500 && !seen[id]);
        seen[id] = 1;
    }
    free(seen);
    cJSON_Delete(j);

    ic_test_write_text(path, "{\"a\": {\"note\": 1}, ");
    ck_assert_ptr_null(ic_examples_open(dir, &err));
    ck_assert_int_eq(err.code, IC_ERR_FORMAT);
    ic_test_write_text(path, "[1, 2]");
    ck_assert_ptr_null(ic_examples_open(dir, &err));
    ic_test_write_text(path, "{\"a\": {\"note\": 1}, \"a\": {\"note\": 2}}");
    ck_assert_ptr_null(ic_examples_open(dir, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "twice"));
    ic_test_rmtree(dir);
}
END_TEST

/* ---- bin/icsynth end to end ---- */

static int json_int(const cJSON *e, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, k);
    ck_assert_msg(cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble, "field %s: integer", k);
    return (int)v->valuedouble;
}

static const char *json_str(const cJSON *e, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, k);
    ck_assert_msg(cJSON_IsString(v), "field %s: string", k);
    return v->valuestring;
}

/* Checks one entry's NSynth fields against the table and its wav; returns the note id. */
static int check_entry(const char *split_dir, const cJSON *e, const ic_gm_table *t, int check_pitch) {
    const char *ns = json_str(e, "note_str");
    ck_assert_str_eq(ns, e->string);
    const char *is = json_str(e, "instrument_str");
    ck_assert_int_eq(strncmp(ns, is, strlen(is)), 0);
    int fam = json_int(e, "instrument_family"), src = json_int(e, "instrument_source");
    ck_assert_str_eq(json_str(e, "instrument_family_str"), ic_synth_family_name(fam));
    ck_assert_str_eq(json_str(e, "instrument_source_str"), ic_synth_source_name(src));
    int prog = atoi(is + strlen(is) - 3);
    ck_assert_int_eq(t->prog[prog].family, fam);
    ck_assert_int_eq(t->prog[prog].source, src);
    ck_assert_int_eq(json_int(e, "instrument"), ic_synth_instrument_id("timgm6mb", prog));
    ck_assert_int_eq(json_int(e, "sample_rate"), 16000);
    int pitch = json_int(e, "pitch"), vel = json_int(e, "velocity"), lo, hi;
    ic_synth_family_range(fam, &lo, &hi);
    ck_assert(pitch >= lo && pitch <= hi && vel >= 1 && vel <= 127);
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(e, "qualities");
    ck_assert(cJSON_IsArray(q) && cJSON_GetArraySize(q) == IC_SYNTH_N_QUALITIES);
    ck_assert(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(e, "qualities_str")));
    char path[1024];
    snprintf(path, sizeof path, "%s/audio/%s.wav", split_dir, ns);
    float *x = read_nsynth_wav(path);
    if (check_pitch) {
        double f0 = estimate_f0(x + 16000, IC_SYNTH_RATE), ce = cents(f0, pitch);
        ck_assert_msg(fabs(ce) < CENTS_TOL, "%s: %.1f Hz is %.0f cents from its label", ns, f0, ce);
    }
    free(x);
    return json_int(e, "note");
}

START_TEST(test_icsynth_notes_resume) {
    char dir[64], split[512], json[600], wav[900];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    ic_gm_table t;
    ic_error err;
    ck_assert_int_eq(ic_gm_table_load(TABLE, &t, &err), IC_OK);
    snprintf(split, sizeof split, "%s/nsynth-train", dir);
    snprintf(json, sizeof json, "%s/examples.json", split);
    /* violin 28-96 from 28 (step 8): 9 keys; flute 55-96 from 56: 6 keys; whistle from 61:
     * 61 69 77 85 93, and TimGM6mb's whistle has no sample above 78; timpani is left out */
    const char *args[] = {"--soundfont", TIM, "--out", dir, "--split", "train", "--programs", "40,47,73,78",
                          "--pitch-step", "8", "--velocities", "127,50", "--jobs", "2", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, args), 0);
    cJSON *j = read_json(json);
    ck_assert_int_eq(cJSON_GetArraySize(j), (9 + 6 + 3) * 2);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(j, "flute_acoustic_timgm6mb_078-085-050"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "flute_acoustic_timgm6mb_078-077-050"));
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "string_acoustic_timgm6mb_040-028-127"));
    snprintf(wav, sizeof wav, "%s/audio/flute_acoustic_timgm6mb_078-093-127.wav", split);
    ck_assert_int_eq(access(wav, F_OK), -1);
    int ids[64] = {0}, n = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, j) {
        int prog = atoi(json_str(e, "instrument_str") + strlen(json_str(e, "instrument_str")) - 3);
        ids[n++] = check_entry(split, e, &t, prog == 40 || prog == 73);
    }
    for (int a = 0; a < n; a++) for (int b = a + 1; b < n; b++) ck_assert_int_ne(ids[a], ids[b]);

    /* same command again: nothing new, nothing rewritten */
    snprintf(wav, sizeof wav, "%s/audio/flute_acoustic_timgm6mb_073-064-050.wav", split);
    struct stat before, after;
    ck_assert_int_eq(stat(wav, &before), 0);
    char *text1 = ic_test_slurp(json, NULL);
    ck_assert_int_eq(run_icsynth(dir, args), 0);
    char *text2 = ic_test_slurp(json, NULL);
    ck_assert_str_eq(text1, text2);
    ck_assert_int_eq(stat(wav, &after), 0);
    ck_assert(before.st_mtim.tv_sec == after.st_mtim.tv_sec && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);

    /* an interrupted run: one wav lost, one truncated -> re-rendered with the same ids */
    ck_assert_int_eq(unlink(wav), 0);
    snprintf(wav, sizeof wav, "%s/audio/string_acoustic_timgm6mb_040-052-127.wav", split);
    ck_assert_int_eq(truncate(wav, 5000), 0);
    ck_assert_int_eq(run_icsynth(dir, args), 0);
    char *text3 = ic_test_slurp(json, NULL);
    ck_assert_str_eq(text1, text3);
    float *x = read_nsynth_wav(wav);
    free(x);

    /* appending other velocities keeps every entry and adds new ids */
    const char *more[] = {"--soundfont", TIM, "--out", dir, "--split", "train", "--programs", "73",
                          "--pitch-step", "8", "--velocities", "100", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, more), 0);
    cJSON *j2 = read_json(json);
    ck_assert_int_eq(cJSON_GetArraySize(j2), (9 + 6 + 3) * 2 + 6);
    cJSON_ArrayForEach(e, j) {
        cJSON *e2 = cJSON_GetObjectItemCaseSensitive(j2, e->string);
        ck_assert_ptr_nonnull(e2);
        ck_assert_int_eq(json_int(e2, "note"), json_int(e, "note"));
    }
    int max_old = 0;
    for (int a = 0; a < n; a++) max_old = ids[a] > max_old ? ids[a] : max_old;
    ck_assert_int_eq(json_int(cJSON_GetObjectItemCaseSensitive(j2, "flute_acoustic_timgm6mb_073-056-100"), "note"),
                     max_old + 1);
    free(text1);
    free(text2);
    free(text3);
    cJSON_Delete(j);
    cJSON_Delete(j2);
    ic_test_rmtree(dir);
}
END_TEST

START_TEST(test_icsynth_phrases) {
    char dir[64], dir2[600], json[700];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    ic_gm_table t;
    ic_error err;
    ck_assert_int_eq(ic_gm_table_load(TABLE, &t, &err), IC_OK);
    const char *args[] = {"--soundfont", TIM, "--out", dir, "--split", "train", "--mode", "phrases", "--programs",
                          "0,25,73", "--phrases", "4", "--seed", "7", "--jobs", "2", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, args), 0);
    snprintf(json, sizeof json, "%s/nsynth-train/examples.json", dir);
    cJSON *j = read_json(json);
    ck_assert_int_eq(cJSON_GetArraySize(j), 12);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "guitar_acoustic_timgm6mb_025-phrase-0003"));
    char split[600];
    snprintf(split, sizeof split, "%s/nsynth-train", dir);
    cJSON *e;
    cJSON_ArrayForEach(e, j) {
        check_entry(split, e, &t, 0);
        ck_assert_ptr_nonnull(strstr(e->string, "-phrase-"));
        const cJSON *notes = cJSON_GetObjectItemCaseSensitive(e, "notes");
        ck_assert(cJSON_IsArray(notes) && cJSON_GetArraySize(notes) > 0);
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e, "tempo")));
        ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e, "style")));
        int lo, hi, first_lowest = 128;
        ic_synth_family_range(json_int(e, "instrument_family"), &lo, &hi);
        double first = -1;
        const cJSON *n;
        cJSON_ArrayForEach(n, notes) {
            double on = cJSON_GetObjectItem(n, "onset")->valuedouble, off = cJSON_GetObjectItem(n, "offset")->valuedouble;
            int p = json_int(n, "pitch"), v = json_int(n, "velocity");
            ck_assert(on >= 0 && on < 4.0 && off > on && off <= 4.0);
            ck_assert(p >= lo && p <= hi && v >= 1 && v <= 127);
            if (first < 0) first = on;
            if (on == first && p < first_lowest) first_lowest = p;
        }
        ck_assert_int_eq(json_int(e, "pitch"), first_lowest);
    }
    /* reproducible: same seed, other worker count -> the same examples.json */
    snprintf(dir2, sizeof dir2, "%s/again", dir);
    const char *args2[] = {"--soundfont", TIM, "--out", dir2, "--split", "train", "--mode", "phrases", "--programs",
                           "0,25,73", "--phrases", "4", "--seed", "7", "--jobs", "1", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, args2), 0);
    char json2[800];
    snprintf(json2, sizeof json2, "%s/nsynth-train/examples.json", dir2);
    char *a = ic_test_slurp(json, NULL), *b = ic_test_slurp(json2, NULL);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    /* another seed, other phrases */
    const char *args3[] = {"--soundfont", TIM, "--out", dir2, "--split", "s8", "--mode", "phrases", "--programs",
                           "0", "--phrases", "1", "--seed", "8", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, args3), 0);
    snprintf(json2, sizeof json2, "%s/nsynth-s8/examples.json", dir2);
    cJSON *j8 = read_json(json2);
    char *n7 = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItemCaseSensitive(j, "keyboard_acoustic_timgm6mb_000-phrase-0000"), "notes"));
    char *n8 = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetObjectItemCaseSensitive(j8, "keyboard_acoustic_timgm6mb_000-phrase-0000"), "notes"));
    ck_assert(n7 && n8);
    ck_assert_str_ne(n7, n8);
    free(n7);
    free(n8);
    cJSON_Delete(j8);
    cJSON_Delete(j);
    ic_test_rmtree(dir);
}
END_TEST

START_TEST(test_icsynth_split_hash_and_silence) {
    char dir[64], path[600];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    const char *args[] = {"--soundfont", TIM, "--out", dir, "--split", "valid:3,test:1", "--programs", "73,74",
                          "--pitch-step", "2", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, args), 0);
    snprintf(path, sizeof path, "%s/nsynth-valid/examples.json", dir);
    cJSON *v = read_json(path);
    snprintf(path, sizeof path, "%s/nsynth-test/examples.json", dir);
    cJSON *t = read_json(path);
    int nv = cJSON_GetArraySize(v), nt = cJSON_GetArraySize(t);
    ck_assert_int_eq(nv + nt, 2 * 21 * 5);      /* flute 55-96 step 2: 21 keys each */
    ck_assert_msg(nv > 2 * nt && nv < 5 * nt, "valid %d test %d", nv, nt);
    ic_split_spec sp;
    ic_error err;
    ck_assert_int_eq(ic_split_spec_parse("valid:3,test:1", &sp, &err), IC_OK);
    cJSON *e;
    cJSON_ArrayForEach(e, v) {
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(t, e->string));
        ck_assert_int_eq(ic_split_spec_pick(&sp, e->string), 0);
    }
    cJSON_ArrayForEach(e, t) ck_assert_int_eq(ic_split_spec_pick(&sp, e->string), 1);
    cJSON_Delete(v);
    cJSON_Delete(t);

    /* everything far below -60 dBFS: all skipped as silent, an empty examples.json */
    const char *quiet[] = {"--soundfont", TIM, "--out", dir, "--split", "hush", "--programs", "73",
                           "--pitch-step", "12", "--gain", "0.00001", "--table", TABLE, "--quiet", NULL};
    ck_assert_int_eq(run_icsynth(dir, quiet), 0);
    snprintf(path, sizeof path, "%s/nsynth-hush/examples.json", dir);
    cJSON *h = read_json(path);
    ck_assert_int_eq(cJSON_GetArraySize(h), 0);
    cJSON_Delete(h);
    snprintf(path, sizeof path, "%s/log", dir);
    char *log = ic_test_slurp(path, NULL);
    ck_assert_ptr_nonnull(strstr(log, "0 rendered, 0 already present, 20 skipped silent"));
    free(log);
    ic_test_rmtree(dir);
}
END_TEST

START_TEST(test_icsynth_usage) {
    char dir[64];
    ic_test_mkdtemp(dir, sizeof dir, "synth");
    const char *none[] = {"--out", dir, "--split", "x", NULL};
    ck_assert_int_eq(run_icsynth(dir, none), 2);
    const char *bad_prog[] = {"--soundfont", TIM, "--out", dir, "--split", "x", "--programs", "200", NULL};
    ck_assert_int_eq(run_icsynth(dir, bad_prog), 2);
    const char *bad_mode[] = {"--soundfont", TIM, "--out", dir, "--split", "x", "--mode", "chords", NULL};
    ck_assert_int_eq(run_icsynth(dir, bad_mode), 2);
    const char *bad_split[] = {"--soundfont", TIM, "--out", dir, "--split", "a:0", NULL};
    ck_assert_int_eq(run_icsynth(dir, bad_split), 2);
    const char *bad_sf[] = {"--soundfont", "/nonexistent.sf2", "--out", dir, "--split", "x", "--table", TABLE, NULL};
    ck_assert_int_eq(run_icsynth(dir, bad_sf), 1);
    const char *bad_table[] = {"--soundfont", TIM, "--out", dir, "--split", "x", "--table", "/nonexistent.tsv", NULL};
    ck_assert_int_eq(run_icsynth(dir, bad_table), 1);
    /* a split another run is writing is refused */
    char lockdir[600], lockpath[700];
    snprintf(lockdir, sizeof lockdir, "%s/nsynth-busy", dir);
    ck_assert_int_eq(mkdir(lockdir, 0755), 0);
    snprintf(lockpath, sizeof lockpath, "%s/.icsynth.lock", lockdir);
    int fd = open(lockpath, O_RDWR | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX), 0);
    const char *busy[] = {"--soundfont", TIM, "--out", dir, "--split", "busy", "--programs", "73", "--table", TABLE, NULL};
    ck_assert_int_eq(run_icsynth(dir, busy), 1);
    close(fd);
    const char *help[] = {"--help", NULL};
    ck_assert_int_eq(run_icsynth(dir, help), 0);
    ic_test_rmtree(dir);
}
END_TEST

static Suite *synth_suite(void) {
    Suite *s = suite_create("synth");
    TCase *tc = tcase_create("units");
    tcase_add_test(tc, test_table);
    tcase_add_test(tc, test_table_errors);
    tcase_add_test(tc, test_parse_lists);
    tcase_add_test(tc, test_names_and_splits);
    tcase_add_test(tc, test_decimator);
    tcase_add_test(tc, test_phrase_generate);
    tcase_add_test(tc, test_examples_store);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("render");
    tcase_set_timeout(tr, 60);
    tcase_add_test(tr, test_render_pitch_and_release);
    tcase_add_test(tr, test_render_deterministic);
    tcase_add_test(tr, test_render_skips_and_peak_safe);
    suite_add_tcase(s, tr);
    TCase *te = tcase_create("icsynth");
    tcase_set_timeout(te, 120);
    tcase_add_test(te, test_icsynth_notes_resume);
    tcase_add_test(te, test_icsynth_phrases);
    tcase_add_test(te, test_icsynth_split_hash_and_silence);
    tcase_add_test(te, test_icsynth_usage);
    suite_add_tcase(s, te);
    return s;
}

IC_TEST_MAIN(synth_suite)
