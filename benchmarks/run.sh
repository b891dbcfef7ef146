#!/bin/sh
# make bench: the benchmark suite, regenerated in one run into benchmarks/RESULTS.md.
#   1. accuracy on the nsynth-gm test split (instruments never seen in training):
#      MFCC + logistic regression and MFCC statistics + MLP, trained here by ictrain
#      (seconds to minutes once their MFCC cache exists), and the shipped spectrogram
#      CNN (weights/ic-cnn.icw; a line says so when it is absent); per-family table
#      and a confusion-matrix PNG each (benchmarks/confusion-*.png)
#   2. the engine against PyTorch (Debian python3-torch, installed here when missing)
#      on the identical CNN: training and inference speed, batch-1 latency, and the
#      logits of the same .icw files in both (max |diff| < 1e-4, or the run fails)
#   3. conv GFLOP/s against sgemm, audio decoding, and icinfer end to end on a
#      10-minute 44.1 kHz recording with its peak memory
# Models, logs and JSON reports go to benchmarks/out/ (not committed).  Figures
# measured in the same run are comparable; these 2-core machines are noisy, so
# compare ratios, not absolute numbers across runs.
# Environment: DATA (default datasets/out/nsynth-gm), CNN (default weights/ic-cnn.icw),
# BIN (default bin), BENCH_BUILD (default build/benchmarks), THREADS (default: all
# cores), RESULTS (default benchmarks/RESULTS.md; the PNGs go beside it), BENCH_OUT
# (default benchmarks/out), QUICK=1 (a smoke test: short timings, a 1-minute
# recording, no bench_conv/bench_audio; for trying the script, not for results).
# Exit status: 0, or 1 when a benchmark failed (the PyTorch comparison included);
# RESULTS.md is written either way and names what failed.
set -eu
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
B=${BENCH_BUILD:-build/benchmarks}
DATA=${DATA:-datasets/out/nsynth-gm}
CNN=${CNN:-weights/ic-cnn.icw}
THREADS=${THREADS:-$(nproc)}
OUTD=${BENCH_OUT:-benchmarks/out}
OUT=${RESULTS:-benchmarks/RESULTS.md}
PNGD=$(dirname "$OUT")
QUICK=${QUICK:-0}
SECS=3
MINUTES=10
ROUNDS=3
if [ "$QUICK" = 1 ]; then SECS=0.5; MINUTES=1; ROUNDS=2; fi
TMP=$OUT.tmp
PY=/usr/bin/python3
TINY=$OUTD/tiny
mkdir -p "$OUTD"
fail=0
start=$(date +%s)
NL='
'

log() { echo "bench: $*" >&2; }
failed() { echo; echo "**FAILED: $1** (log: \`$2\`)"; echo; log "FAILED: $1 (see $2)"; fail=1; }

# Debian packages, non-interactive; quiet on success.
apt_install() {
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >> "$OUTD/apt.log" 2>&1 ||
    { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >> "$OUTD/apt.log" 2>&1 &&
      $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >> "$OUTD/apt.log" 2>&1; }
}

have_py=0
have_torch=0
torch_why=""
[ -x "$PY" ] || { log "installing python3"; apt_install python3 || true; }
if [ -x "$PY" ]; then
  have_py=1
  if ! "$PY" -c 'import torch' 2>/dev/null; then
    log "installing python3-torch (Debian) for the PyTorch comparison"
    apt_install python3-torch || true
  fi
  if "$PY" -c 'import torch' 2>/dev/null; then have_torch=1
  else torch_why="Debian's python3-torch could not be installed or imported (see \`$OUTD/apt.log\`)"; fi
else
  torch_why="/usr/bin/python3 is missing and could not be installed"
fi

# A tiny CNN with exactly ictrain's default architecture (the shipped model's), trained
# for one epoch on a few rendered notes: an .icw for the PyTorch twin that exists even
# before the shipped model does.
tiny_cnn() {
  [ -f "$TINY/d/nsynth-test/examples.json" ] || {
    rm -rf "$TINY/d"
    "$BIN"/icsynth --soundfont /usr/share/sounds/sf2/TimGM6mb.sf2 --out "$TINY/d" --split train \
      --programs 0,56,73 --velocities 50,100 --pitch-step 6 --jobs "$THREADS" &&
    "$BIN"/icsynth --soundfont /usr/share/sounds/sf3/MuseScore_General.sf3 --out "$TINY/d" \
      --split valid:1,test:1 --programs 0,56,73 --velocities 75 --pitch-step 6 --jobs "$THREADS"
  } && "$BIN"/ictrain --data "$TINY/d" --out "$TINY/cnn.icw" --epochs 1 --batch 16 --threads "$THREADS" --quiet
}

# iceval on the test split: JSON report and confusion PNG.
evaluate() { # name weights
  rm -f "$PNGD/confusion-$1.png" "$OUTD/eval-$1.json"
  "$BIN"/iceval --weights "$2" --data "$DATA" --split test --json --png "$PNGD/confusion-$1.png" \
    --threads "$THREADS" --quiet > "$OUTD/eval-$1.json" 2> "$OUTD/eval-$1.log"
}

accuracy() {
  echo "## 1. Accuracy on instruments never seen in training"
  echo
  if [ ! -d "$DATA/nsynth-test" ] && ! ls "$DATA"/nsynth-test.*tar* > /dev/null 2>&1; then
    echo "Skipped: no dataset in \`$DATA\` (\`make dataset\` renders it)."
    echo
    return
  fi
  cat <<EOF
The nsynth-gm test split (\`$DATA\`): MuseScore_General's instruments, none of which
any model saw in training (training uses FluidR3_GM and TimGM6mb), notes and phrases,
every clip's first 4 s.  Each cell is iceval's per-family recall: the share of that
family's clips the model called that family (clip count in brackets).

* **MFCC + logreg**: the original project's recipe: 20 MFCCs (n_fft 2048, hop 512,
  128 mels, dB) averaged over the window, standardised, multinomial logistic
  regression (\`ictrain --model mfcc-logreg\`; it reported about 30% on NSynth
  instruments it had not seen).
* **MFCC stats + MLP**: the mean, standard deviation, and mean and standard deviation
  of the first differences of the same 20 MFCCs (80 numbers), standardised, into
  dense 128, batch norm, ReLU, dropout 0.3, dense 64, ReLU (\`ictrain --model mfcc\`).
* **CNN**: the shipped spectrogram CNN (\`$CNN\`, 128-band log-mel, three heads).

Both baselines are trained in this run by ictrain on the same training data as
the CNN (\`--per-family 6000\`: each epoch at most 6,000 clips of each family, drawn
afresh from the whole split), 30 epochs of AdamW, keeping the epoch with
the best validation accuracy (MuseScore valid split); their features come from an
MFCC feature cache (\`$DATA/cache/mfcc/\`, built on the first run).

EOF
  cols=""
  for kind in mfcc-logreg mfcc; do
    name=$kind
    label="MFCC + logreg"
    lr=0.005
    if [ $kind = mfcc ]; then label="MFCC stats + MLP"; lr=0.002; fi
    log "training the $kind baseline (log: $OUTD/$kind-train.log)"
    if "$BIN"/ictrain --model $kind --data "$DATA" --out "$OUTD/$kind.icw" --per-family 6000 --epochs 30 --batch 64 \
         --lr $lr --weight-decay 0.0001 --valid-max 0 --seed 1 --threads "$THREADS" \
         > "$OUTD/$kind-train.json" 2> "$OUTD/$kind-train.log"; then
      log "evaluating $kind"
      if evaluate $name "$OUTD/$kind.icw"; then cols="$cols$NL$label=$OUTD/eval-$name.json,$OUTD/$kind-train.json"
      else failed "iceval on the $kind baseline" "$OUTD/eval-$name.log"; fi
    else
      failed "training the $kind baseline" "$OUTD/$kind-train.log"
    fi
  done
  if [ -f "$CNN" ]; then
    log "evaluating the CNN $CNN"
    if evaluate cnn "$CNN"; then cols="$cols${NL}CNN=$OUTD/eval-cnn.json"
    else failed "iceval on $CNN" "$OUTD/eval-cnn.log"; fi
  else
    echo "The spectrogram CNN: skipped, \`$CNN\` does not exist yet (\`make model\` trains it)."
    echo
  fi
  if [ -n "$cols" ] && [ $have_py = 1 ]; then
    # one NAME=FILES argument per model, split on the newlines only (labels have spaces)
    IFS_OLD=$IFS; IFS=$NL
    # shellcheck disable=SC2086
    set -- $cols
    IFS=$IFS_OLD
    "$PY" benchmarks/accuracy_table.py "$@" || failed "the accuracy table" "benchmarks/accuracy_table.py"
    echo
    echo "Confusion matrices (rows: true family, columns: predicted; row-normalised):"
    echo
    for n in mfcc-logreg mfcc cnn; do
      case $n in mfcc-logreg) l="MFCC + logreg" ;; mfcc) l="MFCC stats + MLP" ;; *) l=CNN ;; esac
      if [ -f "$OUTD/eval-$n.json" ] && [ -f "$PNGD/confusion-$n.png" ]; then
        echo "**$l** (\`confusion-$n.png\`):"
        echo
        echo "![confusion matrix of $l](confusion-$n.png)"
        echo
      fi
    done
    echo
  elif [ -n "$cols" ]; then
    echo "No python3 to draw the table: the reports are \`$OUTD/eval-*.json\`."
    echo
  fi
}

# The CNN the engine benchmarks time: the shipped model, or the tiny one trained
# above while there is none.
cnn_file() { if [ -f "$CNN" ]; then echo "$CNN"; else echo "$TINY/cnn.icw"; fi; }

speed() {
  echo "## 2. The engine against PyTorch"
  echo
  arch=$(cnn_file)
  if [ ! -f "$arch" ]; then
    failed "no CNN model file for the comparison (tiny CNN training failed)" "$OUTD/tiny.log"
    return
  fi
  cat <<EOF
### Speed

The identical CNN in both engines: the architecture stored in \`$arch\` (ictrain's
CNN: input 1x128x126 log-mel, four blocks of 3x3 convolution without bias, batch
norm, ReLU and 2x2 max pooling with 16, 32, 64 and 128 channels, mean over time,
dropout 0.3, dense heads family 11, pitch 88, activity 2), built by
\`benchmarks/bench_engine\` (ic) and \`benchmarks/torch_twin.py\` (PyTorch) from the
same file, timed one after the other in this run with the same thread count and
batch sizes.  Training: one step is a train-mode forward, softmax cross-entropy on
each head, backward and an AdamW update; samples per second over at least $SECS s
(and 5 steps) after 2 warm-up steps.  Each engine is timed $ROUNDS times, the two
alternating, and keeps its best figure of each kind.  Inference: eval mode, samples per second over
at least $SECS s (and 3 passes).
Latency: one window, eval mode, timed in 5 consecutive segments of at least 20 runs
(and $SECS/5 s) each; the figure is the best segment's median: on these shared
2-core machines a second core taken by other work for a few seconds doubles a
2-thread latency (seen as whole segments at ~2x), and the undisturbed figure is the
one to compare.

EOF
  # rounds taken alternately, the best of each engine's kept: a burst of load on
  # a shared machine then hits both engines alike instead of deciding a ratio
  ours="" theirs=""
  for r in $(seq "$ROUNDS"); do
    log "timing the ic engine (round $r of $ROUNDS)"
    if ! "$B"/bench_engine --weights "$arch" --threads "$THREADS" --seconds $SECS --json > "$OUTD/speed-ic-$r.json" 2> "$OUTD/speed-ic.log"; then
      failed "bench_engine" "$OUTD/speed-ic.log"
      return
    fi
    ours="$ours $OUTD/speed-ic-$r.json"
    [ $have_torch = 1 ] || continue
    log "timing PyTorch (round $r of $ROUNDS)"
    if ! "$PY" benchmarks/torch_twin.py speed --weights "$arch" --threads "$THREADS" --seconds $SECS \
        > "$OUTD/speed-torch-$r.json" 2> "$OUTD/speed-torch.log"; then
      failed "the PyTorch timing" "$OUTD/speed-torch.log"
      return
    fi
    theirs="$theirs $OUTD/speed-torch-$r.json"
  done
  if [ $have_torch = 1 ]; then
    # shellcheck disable=SC2086
    "$PY" benchmarks/torch_twin.py table --weights "$arch" --ours $ours --torch $theirs \
      2> "$OUTD/speed-table.log" || failed "the speed table" "$OUTD/speed-table.log"
  else
    echo "PyTorch skipped: $torch_why.  The ic engine alone:"
    echo
    echo '```'
    # shellcheck disable=SC2086
    cat $ours
    echo '```'
  fi
  echo
  echo "### Correctness: the same .icw in both engines"
  echo
  if [ $have_torch = 0 ]; then
    echo "Skipped: $torch_why."
    echo
    return
  fi
  cat <<EOF
\`bench_engine --dump\` runs each model file's own weights in eval mode on 4 seeded
standard-normal inputs and writes inputs and logits; \`torch_twin.py check\` loads the
same file into the PyTorch twin (its own .icw reader) and compares every head's
logits.  The run fails when any difference reaches 1e-4.

| model | head | largest logit | max abs difference | result |
|---|---|---:|---:|---|
EOF
  for m in "$TINY/cnn.icw" "$CNN" "$OUTD/mfcc-logreg.icw" "$OUTD/mfcc.icw"; do
    [ -f "$m" ] || continue
    d="$OUTD/dump-$(basename "$m" .icw)"
    if "$B"/bench_engine --weights "$m" --dump "$d" 2> "$d.log" &&
       "$PY" benchmarks/torch_twin.py check --weights "$m" --dump "$d" --label "\`$m\`" 2>> "$d.log"; then :
    else
      fail=1
      echo "| \`$m\` | - | - | - | **FAILED** (\`$d.log\`) |"
      log "FAILED: the PyTorch comparison of $m (see $d.log)"
    fi
  done
  echo
}

kernels() {
  echo "## 3. Kernels, audio decoding, and icinfer end to end"
  echo
  echo "### Convolution against sgemm (bench_conv)"
  echo
  if [ "$QUICK" = 1 ]; then echo "Skipped (QUICK=1)."; else
    log "running bench_conv"
    arch=$(cnn_file)
    "$B"/bench_conv --weights "$arch" --threads "$THREADS" 2> "$OUTD/bench_conv.log" ||
      failed "bench_conv" "$OUTD/bench_conv.log"
  fi
  echo
  echo "### Audio decoding and features (bench_audio)"
  echo
  if [ "$QUICK" = 1 ]; then echo "Skipped (QUICK=1)."; else
    log "running bench_audio"
    "$B"/bench_audio 2> "$OUTD/bench_audio.log" || failed "bench_audio" "$OUTD/bench_audio.log"
  fi
  echo
  echo "### icinfer end to end (bench_icinfer)"
  echo
  w=$(cnn_file)
  if [ -f "$w" ]; then
    echo "\`$BIN/icinfer --json\` with \`$w\` on a generated $MINUTES-minute 44.1 kHz stereo recording"
    echo "(a melody of harmonic notes), 4-second windows; wall time includes start-up and"
    echo "model loading; peak RSS is the icinfer process's own (wait4)."
    echo
    log "running bench_icinfer"
    "$B"/bench_icinfer --icinfer "$BIN/icinfer" --weights "$w" --threads "$THREADS" --minutes $MINUTES 2> "$OUTD/bench_icinfer.log" ||
      failed "bench_icinfer" "$OUTD/bench_icinfer.log"
  else
    echo "Skipped: no model file."
  fi
  echo
  # any other benchmark binary runs with its defaults
  for b in "$B"/bench_*; do
    [ -x "$b" ] || continue
    case $(basename "$b") in bench_conv|bench_audio|bench_engine|bench_icinfer) continue ;; esac
    [ "$QUICK" = 1 ] && continue
    echo "### $(basename "$b")"
    echo
    log "running $b"
    "$b" 2> "$OUTD/$(basename "$b").log" || failed "$(basename "$b")" "$OUTD/$(basename "$b").log"
    echo
  done
}

# Issue 7: note transcription, tuning and tempo against aubio on 100 held-out pieces.
notes() {
  echo "## Notes, tuning and tempo: icnotes against aubio"
  echo
  if [ "$QUICK" = 1 ]; then echo "Skipped (QUICK=1)."; echo; return; fi
  log "notes: benchmarks/notes/run.sh 100 5000 (log: $OUTD/notes.log)"
  benchmarks/notes/run.sh 100 5000 2> "$OUTD/notes.log" || failed notes "$OUTD/notes.log"
  echo
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
cores=$(nproc)
log "training the tiny CNN for the PyTorch comparison (log: $OUTD/tiny.log)"
tiny_cnn > "$OUTD/tiny.log" 2>&1 || log "the tiny CNN failed (see $OUTD/tiny.log)"
{
  echo "# ic benchmark results"
  echo
  echo "Generated by \`make bench\` on $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $cpu, $cores cores;"
  echo "OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-pthread 2>/dev/null || echo '?'), gcc $(gcc -dumpfullversion);"
  echo "$THREADS threads wherever a figure does not say otherwise."
  echo
  t=$(date +%s); accuracy; log "accuracy: $(( $(date +%s) - t )) s"
  t=$(date +%s); speed; log "speed: $(( $(date +%s) - t )) s"
  t=$(date +%s); kernels; log "kernels: $(( $(date +%s) - t )) s"
  t=$(date +%s); notes; log "notes: $(( $(date +%s) - t )) s"
  echo "---"
  echo
  echo "Whole run: $(( $(date +%s) - start )) s (\`benchmarks/run.sh\`)."
} > "$TMP"
mv "$TMP" "$OUT"
log "wrote $OUT in $(( $(date +%s) - start )) s"
[ $fail = 0 ] || log "some benchmarks FAILED (see $OUT)"
exit $fail
