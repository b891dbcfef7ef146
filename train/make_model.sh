#!/bin/sh
# make model: reproduces the shipped model end to end on this machine:
#   1. renders the standard dataset (make dataset; resumable, skipped when complete)
#   2. trains with the recipe below (feature caches are built on first use)
#   3. evaluates the result with iceval on the test split: notes, phrases, and
#      phrases in synthetic rooms
# and writes weights/ic-cnn.icw plus weights/eval-*.json.  The recipe here is
# the one weights/MODEL_CARD.md describes.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
DATA=${DATA:-datasets/out/nsynth-gm}
OUT=${OUT:-datasets/out/model}
EPOCHS=${EPOCHS:-16}
mkdir -p "$OUT"
start=$(date +%s)
ICSYNTH=$BIN/icsynth ./datasets/make_dataset.sh
t_data=$(date +%s)
# shellcheck disable=SC2086
$BIN/ictrain --data "$DATA" --out "$OUT/ic-cnn.icw" --per-family 6000 --epochs "$EPOCHS" \
  --width 16 --mels 128 --batch 32 --seed 1 ${RESUME:+--resume "$OUT/ic-cnn.icw.ckpt"} \
  > "$OUT/train-report.json"
t_train=$(date +%s)
cp "$OUT/ic-cnn.icw" weights/ic-cnn.icw.tmp && mv weights/ic-cnn.icw.tmp weights/ic-cnn.icw
if [ -x "$BIN/iceval" ]; then
  $BIN/iceval --weights weights/ic-cnn.icw --data "$DATA" --split test --kind notes --json > weights/eval-test-notes.json
  $BIN/iceval --weights weights/ic-cnn.icw --data "$DATA" --split test --kind phrases --json > weights/eval-test-phrases.json
  $BIN/iceval --weights weights/ic-cnn.icw --data "$DATA" --split test --kind phrases --room 1 --json > weights/eval-test-phrases-room.json
  $BIN/iceval --weights weights/ic-cnn.icw --data "$DATA" --split test --png weights/confusion-test.png --json > weights/eval-test-all.json
fi
end=$(date +%s)
echo "make model: data $((t_data - start)) s, training $((t_train - t_data)) s, evaluation $((end - t_train)) s, total $((end - start)) s" >&2
