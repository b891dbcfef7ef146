#!/bin/sh
# Renders speech clips with espeak-ng for the activity head's "nothing is
# playing" windows: several languages, voice variants, speeds and pitches.
# Usage: datasets/make_speech.sh OUTDIR [COUNT]   (idempotent: existing files are kept)
set -eu
out=${1:?usage: make_speech.sh OUTDIR [COUNT]}
count=${2:-120}
command -v espeak-ng >/dev/null || { echo "make_speech.sh: espeak-ng is missing (make deps installs it)" >&2; exit 1; }
mkdir -p "$out"
langs="en en-us de fr es it pt nl pl sv"
variants="m1 m2 m3 m4 m5 m7 f1 f2 f3 f4 f5 croak klatt klatt2 whisper"
texts="The quick brown fox jumps over the lazy dog while the band tunes up in the next room.
Please remember to switch off the lights before you leave the studio tonight.
One, two, three, four. Let us take it again from the top, a little slower this time.
Good morning everyone, today we are going to practise scales and arpeggios.
I think the second verse was too fast; can you hear the difference in the recording?
Turn the volume down a bit, the neighbours are complaining about the noise again.
The weather forecast says rain in the afternoon and clear skies by the evening.
Would you like a cup of tea or coffee before we start the rehearsal?"
i=0
while [ $i -lt "$count" ]; do
  f=$(printf '%s/speech_%03d.wav' "$out" $i)
  if [ ! -s "$f" ]; then
    set -- $langs; shift $((i % $#)); lang=$1
    set -- $variants; shift $(((i / 3) % $#)); var=$1
    n=$(printf '%s\n' "$texts" | wc -l)
    line=$(printf '%s\n' "$texts" | sed -n "$(( (i * 7) % n + 1 ))p")
    speed=$((120 + (i * 37) % 90)); pitch=$(((i * 53) % 90 + 5))
    espeak-ng -v "$lang+$var" -s $speed -p $pitch -w "$f.tmp" "$line" 2>/dev/null && mv "$f.tmp" "$f"
  fi
  i=$((i + 1))
done
echo "make_speech.sh: $(ls "$out"/speech_*.wav | wc -l) speech clips in $out" >&2
