#!/bin/sh
# Makes the bundled example clips from the TEST split of the standard dataset
# (MuseScore_General instruments, never seen in training).  Needs the dataset
# (make dataset) and the ffmpeg command-line tool (Debian package ffmpeg); the
# clips are committed, so nobody else needs to run this.
set -eu
cd "$(dirname "$0")/.."
A=datasets/out/nsynth-gm/nsynth-test/audio
command -v ffmpeg >/dev/null || { echo "make_examples.sh: needs the ffmpeg tool (apt-get install ffmpeg)" >&2; exit 1; }
q="-hide_banner -loglevel error -y"
# 1. a flute melody (two phrases, 8 s) as m4a/AAC, 44.1 kHz stereo, like a phone recording
ffmpeg $q -i $A/flute_acoustic_musescore_073-phrase-0001.wav -i $A/flute_acoustic_musescore_073-phrase-0002.wav \
  -filter_complex "[0:a][1:a]concat=n=2:v=0:a=1,aresample=44100,pan=stereo|c0=c0|c1=c0" \
  -c:a aac -b:a 96k examples/flute_melody.m4a
# 2. a guitar phrase as FLAC at 48 kHz
ffmpeg $q -i $A/guitar_acoustic_musescore_024-phrase-0006.wav -af aresample=48000 -c:a flac examples/guitar_phrase.flac
# 3. one second of silence, then a piano note, as a 22.05 kHz wav
ffmpeg $q -f lavfi -t 1 -i anullsrc=r=16000:cl=mono -i $A/keyboard_acoustic_musescore_000-060-075.wav \
  -filter_complex "[0:a][1:a]concat=n=2:v=0:a=1,aresample=22050" -c:a pcm_s16le examples/silence_then_piano.wav
ls -l examples/*.m4a examples/*.flac examples/*.wav
