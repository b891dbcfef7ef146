/* icdata: what an NSynth-format dataset holds.  Loads DIR/nsynth-{train,valid,test}
 * (folders or .tar.gz archives) with the same reader and validation as training, and
 * prints per-split counts by family and by source; --balance shows the train split
 * before and after the per-family cap that ictrain --balance applies (same seed, same
 * subset: a fresh ic_rng seeded with --seed, balance drawn first).  It computes no
 * features and writes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "ic/cli.h"
#include "ic/nsynth.h"
#include "ic/rng.h"

static const char USAGE[] =
    "usage: icdata DIR [--json] [--balance N] [--seed N] [--on-error skip|stop]\n"
    "              [--no-audio-check] [--help]\n"
    "\n"
    "Reads the NSynth-format dataset in DIR: DIR/nsynth-train, nsynth-valid and\n"
    "nsynth-test, each a folder (examples.json + audio/*.wav) or an archive\n"
    "nsynth-NAME.jsonwav.tar.gz / .tar.gz / .tar.  DIR may also be one split folder or\n"
    "one archive.  Every entry and wav is validated as training validates it (4 s clips\n"
    "at the entry's sample rate); bad entries are reported on stderr.  Prints examples\n"
    "per split, per instrument family and per source.\n"
    "\n"
    "  --json            print the counts as one JSON object\n"
    "  --balance N       also show the counts after capping each family of the train\n"
    "                    split at N examples (a seeded random subset, as ictrain does)\n"
    "  --seed N          seed of the --balance draw (default 1)\n"
    "  --on-error skip   skip bad entries and count them (default)\n"
    "  --on-error stop   stop at the first bad entry (exit status 1)\n"
    "  --no-audio-check  trust examples.json: do not open the wavs (fast; archives are\n"
    "                    read only up to examples.json)\n"
    "  --help            this text\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure (no split found, unreadable or invalid\n"
    "data under --on-error stop), 2 bad usage.\n";

#define MAX_SPLITS 3

static const char PROG[] = "icdata";

typedef struct {
    const char *dir;
    int json, check_audio, balance_set;
    unsigned long long balance, seed;
    ic_on_error on_error;
} options;

/* 0 ok, 1 --help printed, 2 usage error (reported). */
static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->check_audio = 1;
    o->on_error = IC_ON_ERROR_SKIP;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (ic_cli_help(a, USAGE)) return 1;
        if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--no-audio-check")) {
            o->check_audio = 0;
        } else if (!strcmp(a, "--balance")) {
            if (ic_cli_parse_u64(v, &o->balance))
                return ic_cli_usage_error(PROG, "--balance needs a count >= 0, found '%s'", v ? v : "nothing");
            o->balance_set = 1;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (ic_cli_parse_u64(v, &o->seed))
                return ic_cli_usage_error(PROG, "--seed needs an integer >= 0, found '%s'", v ? v : "nothing");
            i++;
        } else if (!strcmp(a, "--on-error")) {
            if (v && !strcmp(v, "skip")) o->on_error = IC_ON_ERROR_SKIP;
            else if (v && !strcmp(v, "stop")) o->on_error = IC_ON_ERROR_STOP;
            else return ic_cli_usage_error(PROG, "--on-error must be skip or stop, found '%s'", v ? v : "nothing");
            i++;
        } else if (a[0] == '-' && a[1] != '\0') {
            return ic_cli_usage_error(PROG, "unknown option '%s'", a);
        } else if (o->dir) {
            return ic_cli_usage_error(PROG, "one dataset directory expected; '%s' is a second one", a);
        } else {
            o->dir = a;
        }
    }
    if (!o->dir) return ic_cli_usage_error(PROG, "no dataset directory given");
    return 0;
}

typedef struct {
    char name[64];
    char path[4096];
    ic_nsynth_split *s;
    ic_nsynth_counts before, after;
} split_info;

/* The splits of o->dir: the standard three, or o->dir itself when it is one split. */
static int find_splits(const options *o, split_info *sp) {
    static const char *const names[MAX_SPLITS] = {"train", "valid", "test"};
    int n = 0;
    for (int k = 0; k < MAX_SPLITS; k++) {
        snprintf(sp[n].name, sizeof sp[n].name, "%s", names[k]);
        if (ic_nsynth_locate(o->dir, names[k], sp[n].path, sizeof sp[n].path)) n++;
    }
    if (n) return n;
    struct stat sb;
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/examples.json", o->dir);
    if (stat(probe, &sb) == 0 || (stat(o->dir, &sb) == 0 && S_ISREG(sb.st_mode))) {
        snprintf(sp[0].path, sizeof sp[0].path, "%s", o->dir);
        sp[0].name[0] = '\0'; /* taken from the loaded split */
        return 1;
    }
    return 0;
}

static cJSON *report_json(const options *o, const split_info *sp, int n) {
    cJSON *root = cJSON_CreateObject(), *arr = NULL;
    int ok = root && cJSON_AddStringToObject(root, "dataset", o->dir) && (arr = cJSON_AddArrayToObject(root, "splits"));
    for (int k = 0; ok && k < n; k++) {
        cJSON *j = cJSON_CreateObject();
        ok = j && cJSON_AddItemToArray(arr, j);
        ok = ok && cJSON_AddStringToObject(j, "name", sp[k].name) && cJSON_AddStringToObject(j, "path", sp[k].path) &&
             cJSON_AddBoolToObject(j, "archive", sp[k].s->from_archive) &&
             cJSON_AddNumberToObject(j, "examples", (double)sp[k].before.total) &&
             cJSON_AddNumberToObject(j, "skipped", (double)sp[k].s->n_skipped);
        cJSON *c = ok ? ic_nsynth_counts_to_json(&sp[k].before) : NULL;
        ok = c && cJSON_AddItemToObject(j, "counts", c);
        if (c && !ok) cJSON_Delete(c);
        if (ok && o->balance_set) {
            c = ic_nsynth_counts_to_json(&sp[k].after);
            ok = c && cJSON_AddItemToObject(j, "balanced", c);
            if (c && !ok) cJSON_Delete(c);
        }
    }
    if (ok && o->balance_set) {
        cJSON *b = cJSON_CreateObject();
        ok = b && cJSON_AddItemToObject(root, "balance", b) && cJSON_AddNumberToObject(b, "cap", (double)o->balance) &&
             cJSON_AddNumberToObject(b, "seed", (double)o->seed) && cJSON_AddStringToObject(b, "applies_to", "train");
    }
    if (!ok) { cJSON_Delete(root); return NULL; }
    return root;
}

int main(int argc, char **argv) {
    options o;
    int pr = parse_args(argc, argv, &o);
    if (pr == 1) return 0;
    if (pr) return 2;
    split_info sp[MAX_SPLITS];
    memset(sp, 0, sizeof sp);
    int n = find_splits(&o, sp);
    if (!n) {
        fprintf(stderr, "icdata: %s: no nsynth-train, nsynth-valid or nsynth-test folder or archive, and not a split itself\n",
                o.dir);
        return 1;
    }
    ic_nsynth_opts lo;
    ic_nsynth_opts_default(&lo);
    lo.on_error = o.on_error;
    lo.check_audio = o.check_audio;
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        ic_error err;
        sp[k].s = ic_nsynth_load_split(sp[k].path, &lo, &err);
        if (!sp[k].s) {
            fprintf(stderr, "icdata: %s\n", err.msg);
            rc = 1;
            break;
        }
        if (!sp[k].name[0]) snprintf(sp[k].name, sizeof sp[k].name, "%s", sp[k].s->name);
        ic_nsynth_count(sp[k].s, &sp[k].before);
        if (sp[k].s->n_skipped)
            fprintf(stderr, "icdata: %s: %zu bad entries skipped\n", sp[k].path, sp[k].s->n_skipped);
    }
    if (!rc && o.balance_set) {
        ic_rng rng;
        ic_rng_seed(&rng, o.seed);
        for (int k = 0; k < n; k++) {
            if (!strcmp(sp[k].name, "train")) ic_nsynth_balance(sp[k].s, (size_t)o.balance, &rng);
            ic_nsynth_count(sp[k].s, &sp[k].after);
        }
    }
    if (!rc && o.json) {
        cJSON *j = report_json(&o, sp, n);
        char *t = j ? cJSON_Print(j) : NULL;
        if (!t) { fprintf(stderr, "icdata: out of memory\n"); rc = 1; }
        else printf("%s\n", t);
        free(t);
        cJSON_Delete(j);
    } else if (!rc) {
        const char *names[MAX_SPLITS];
        ic_nsynth_counts before[MAX_SPLITS], after[MAX_SPLITS];
        printf("dataset %s\n", o.dir);
        for (int k = 0; k < n; k++) {
            printf("  %-6s %7zu examples  %5zu skipped  %s%s\n", sp[k].name, sp[k].before.total, sp[k].s->n_skipped,
                   sp[k].path, sp[k].s->from_archive ? " (archive)" : "");
            names[k] = sp[k].name;
            before[k] = sp[k].before;
            after[k] = sp[k].after;
        }
        printf("\n");
        ic_nsynth_print_counts(stdout, o.balance_set ? "before --balance" : NULL, names, before, (size_t)n);
        if (o.balance_set) {
            char title[128];
            snprintf(title, sizeof title, "\nafter --balance %llu (seed %llu; train only)", o.balance, o.seed);
            ic_nsynth_print_counts(stdout, title, names, after, (size_t)n);
        }
    }
    if (!rc && (fflush(stdout) != 0 || ferror(stdout))) {
        fprintf(stderr, "icdata: writing standard output failed\n");
        rc = 1;
    }
    for (int k = 0; k < n; k++) ic_nsynth_split_free(sp[k].s);
    return rc;
}
