#!/bin/sh
# Builds ic's standard dataset (issue 4) with bin/icsynth into datasets/out/nsynth-gm/:
#
#   nsynth-train   FluidR3_GM.sf2 and TimGM6mb.sf2: every key of each family's range at
#                  velocities 25 50 75 100 127 (NSynth's grid), plus phrases
#   nsynth-valid   MuseScore_General.sf3, same grid and phrases; every example goes to
#   nsynth-test    valid or test by a stable hash of its note_str, valid:test = 3:1
#                  (NSynth's own valid:test is 12,678:4,096, about 3:1)
#
# MuseScore's instruments never appear in training, so valid and test measure how the
# model does on unseen instruments.  Re-running resumes: finished examples are kept.
# Settings (environment): ICSYNTH (default bin/icsynth), OUT (datasets/out/nsynth-gm),
# JOBS (all cores), PITCH_STEP (1), PHRASES_TRAIN (24 per program and soundfont),
# PHRASES_EVAL (16), SEED (1).  Also renders speech clips into OUT/speech (espeak-ng).
set -eu

ICSYNTH=${ICSYNTH:-bin/icsynth}
OUT=${OUT:-datasets/out/nsynth-gm}
PITCH_STEP=${PITCH_STEP:-1}
PHRASES_TRAIN=${PHRASES_TRAIN:-24}
PHRASES_EVAL=${PHRASES_EVAL:-16}
SEED=${SEED:-1}
JOBS_FLAG=""
if [ -n "${JOBS:-}" ]; then JOBS_FLAG="--jobs $JOBS"; fi

FLUID=/usr/share/sounds/sf2/FluidR3_GM.sf2
TIM=/usr/share/sounds/sf2/TimGM6mb.sf2
MUSE=/usr/share/sounds/sf3/MuseScore_General.sf3

if [ ! -x "$ICSYNTH" ]; then
    echo "make_dataset: $ICSYNTH not found; run make first" >&2
    exit 1
fi
for sf in "$FLUID" "$TIM" "$MUSE"; do
    if [ ! -r "$sf" ]; then
        echo "make_dataset: $sf missing; install the Debian packages fluid-soundfont-gm" \
             "timgm6mb-soundfont musescore-general-soundfont" >&2
        exit 1
    fi
done

start=$(date +%s)
run() {
    echo "make_dataset: icsynth $*" >&2
    # shellcheck disable=SC2086
    "$ICSYNTH" "$@" --out "$OUT" --seed "$SEED" $JOBS_FLAG
}

for sf in "$FLUID" "$TIM"; do
    run --soundfont "$sf" --split train --mode notes --pitch-step "$PITCH_STEP"
    run --soundfont "$sf" --split train --mode phrases --phrases "$PHRASES_TRAIN"
done
run --soundfont "$MUSE" --split valid:3,test:1 --mode notes --pitch-step "$PITCH_STEP"
run --soundfont "$MUSE" --split valid:3,test:1 --mode phrases --phrases "$PHRASES_EVAL"

# speech for the activity head's "nothing is playing" windows (espeak-ng)
"$(dirname "$0")/make_speech.sh" "$OUT/speech" 120

end=$(date +%s)
echo "make_dataset: done in $((end - start)) s" >&2
for split in train valid test; do
    dir="$OUT/nsynth-$split"
    n=$(grep -c '"note_str"' "$dir/examples.json" || true)
    size=$(du -sh "$dir" | cut -f1)
    echo "make_dataset: $dir: $n examples, $size" >&2
done
