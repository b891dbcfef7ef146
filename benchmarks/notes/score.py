#!/usr/bin/env python3
"""Scores icnotes and aubio against the generated ground truth (benchmarks/notes/run.sh).

usage: score.py DIR [--aubio-shift SECONDS|auto] [--details]

DIR holds piece_NNNN.json (truth, from gen.c) and, per piece, the tools' outputs:
  piece_NNNN.icnotes.json   bin/icnotes --json
  piece_NNNN.aubionotes.txt aubionotes -i WAV   (lines "midi onset offset"; a lone
                            first line with one number is an onset and is skipped)
  piece_NNNN.aubiotempo.txt aubio tempo WAV     (last line "N bpm")

Metrics, over all pieces (notes pooled):
  note F-measure  a detected note matches a true one when its onset is within 50 ms and
                  its MIDI number is equal; one-to-one, greedy by onset distance
  octave errors   of the true notes with a detected onset within 50 ms (any pitch), the
                  share whose nearest such note is off by a non-zero multiple of 12
  tuning error    median |detected cents - true cents| over matched notes (icnotes
                  only: aubionotes reports whole MIDI numbers), against the cents asked
                  for (pitch bend) and against the pitch the synth really sounds (bend +
                  the soundfont sample's own tuning, "sample_cents", measured by gen.c)
  tempo           share of pieces within 4% of the true BPM; "acc2" also accepts
                  double and half
--aubio-shift S moves aubio's onsets earlier by S seconds (its detector reports onsets
late by a roughly constant amount); "auto" uses the median lag of aubio's onsets behind
the true ones (same pitch, within 150 ms) on these very pieces, the most favourable
constant.  The table shows aubio both as is and shifted.
Standard library only.
"""
import glob
import json
import os
import statistics
import sys

TOL = 0.05


def load_truth(path):
    with open(path) as f:
        return json.load(f)


def icnotes_notes(path):
    with open(path) as f:
        j = json.load(f)
    notes = [(n["onset"], n["midi"], n["cents"]) for n in j["notes"]]
    return notes, j.get("tempo_bpm")


def aubio_notes(path, shift):
    notes = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 3:
                continue
            midi = float(parts[0])
            notes.append((float(parts[1]) - shift, int(round(midi)), None))
    return notes


def aubio_tempo(path):
    bpm = None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1] == "bpm":
                bpm = float(parts[0])
    return bpm


def auto_shift(d):
    """Median lag of aubio's onsets behind true onsets of the same pitch (within 150 ms)."""
    lags = []
    for tp in glob.glob(os.path.join(d, "piece_*.json")):
        if os.path.basename(tp).count(".") != 1:
            continue
        an = tp[:-5] + ".aubionotes.txt"
        if not os.path.exists(an):
            continue
        det = aubio_notes(an, 0.0)
        for n in load_truth(tp)["notes"]:
            c = [x[0] - n["onset"] for x in det if x[1] == n["midi"] and abs(x[0] - n["onset"]) <= 0.15]
            if c:
                lags.append(min(c, key=abs))
    return statistics.median(lags) if lags else 0.0


def match(truth, det, same_pitch):
    """Greedy one-to-one matching by onset distance; returns [(ti, di)]."""
    pairs = []
    for ti, t in enumerate(truth):
        for di, d in enumerate(det):
            dt = abs(d[0] - t["onset"])
            if dt <= TOL and (not same_pitch or d[1] == t["midi"]):
                pairs.append((dt, ti, di))
    pairs.sort()
    used_t, used_d, out = set(), set(), []
    for dt, ti, di in pairs:
        if ti in used_t or di in used_d:
            continue
        used_t.add(ti)
        used_d.add(di)
        out.append((ti, di))
    return out


class Tally:
    def __init__(self):
        self.n_true = self.n_det = self.n_match = 0
        self.onset_matched = self.octave = 0
        self.cents_err = []
        self.cents_err_sounding = []
        self.pieces = self.tempo_ok = self.tempo_ok2 = self.tempo_given = 0
        self.onset_dt = []

    def add(self, truth, det, bpm):
        notes = truth["notes"]
        self.n_true += len(notes)
        self.n_det += len(det)
        m = match(notes, det, True)
        self.n_match += len(m)
        for ti, di in m:
            self.onset_dt.append(det[di][0] - notes[ti]["onset"])
            if det[di][2] is not None:
                self.cents_err.append(abs(det[di][2] - notes[ti]["cents"]))
                sounding = notes[ti]["cents"] + notes[ti].get("sample_cents", 0.0)
                self.cents_err_sounding.append(abs(det[di][2] - sounding))
        for ti, di in match(notes, det, False):
            self.onset_matched += 1
            diff = det[di][1] - notes[ti]["midi"]
            if diff != 0 and diff % 12 == 0:
                self.octave += 1
        self.pieces += 1
        true_bpm = truth["tempo"]
        if bpm:
            self.tempo_given += 1
            r = bpm / true_bpm
            if abs(r - 1) <= 0.04:
                self.tempo_ok += 1
            if any(abs(r / k - 1) <= 0.04 for k in (1, 2, 0.5)):
                self.tempo_ok2 += 1

    def row(self):
        p = self.n_match / self.n_det if self.n_det else 0
        r = self.n_match / self.n_true if self.n_true else 0
        f = 2 * p * r / (p + r) if p + r else 0
        octv = self.octave / self.onset_matched if self.onset_matched else 0
        cents = statistics.median(self.cents_err) if self.cents_err else None
        cents_s = statistics.median(self.cents_err_sounding) if self.cents_err_sounding else None
        return {
            "F": f, "P": p, "R": r, "octave": octv, "cents": cents, "cents_sounding": cents_s,
            "tempo": self.tempo_ok / self.pieces if self.pieces else 0,
            "tempo2": self.tempo_ok2 / self.pieces if self.pieces else 0,
            "lag_ms": 1000 * statistics.median(self.onset_dt) if self.onset_dt else None,
        }


def fmt(x, pct=False, nd=3):
    if x is None:
        return "n/a"
    return f"{100 * x:.1f}%" if pct else f"{x:.{nd}f}"


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    d = args[0]
    shift = 0.0
    details = "--details" in args
    if "--aubio-shift" in args:
        v = args[args.index("--aubio-shift") + 1]
        shift = auto_shift(d) if v == "auto" else float(v)
    truths = sorted(p for p in glob.glob(os.path.join(d, "piece_*.json")) if os.path.basename(p).count(".") == 1)
    tools = {"icnotes": Tally(), "aubio": Tally(), "aubio_shifted": Tally()}
    groups = {}
    for tp in truths:
        base = tp[:-5]
        truth = load_truth(tp)
        ic_path, an_path, at_path = base + ".icnotes.json", base + ".aubionotes.txt", base + ".aubiotempo.txt"
        if not os.path.exists(ic_path):
            continue
        ic, ic_bpm = icnotes_notes(ic_path)
        tools["icnotes"].add(truth, ic, ic_bpm)
        keys = [truth["instrument"], "noise" if truth["snr_db"] else "clean",
                "detuned" if any(abs(n["cents"] - truth["global_cents"]) > 0.05 for n in truth["notes"]) else "in tune"]
        for k in keys:
            groups.setdefault(k, Tally()).add(truth, ic, ic_bpm)
        if os.path.exists(an_path):
            bpm = aubio_tempo(at_path) if os.path.exists(at_path) else None
            tools["aubio"].add(truth, aubio_notes(an_path, 0.0), bpm)
            tools["aubio_shifted"].add(truth, aubio_notes(an_path, shift), bpm)
        if details:
            t = Tally()
            t.add(truth, ic, ic_bpm)
            r = t.row()
            print(f"{os.path.basename(base)} {truth['instrument']:9s} {truth['tempo']:6.1f} bpm -> "
                  f"{ic_bpm} F {r['F']:.3f} oct {r['octave']:.3f} cents {fmt(r['cents'], nd=1)}", file=sys.stderr)
    n = tools["icnotes"].pieces
    notes = tools["icnotes"].n_true
    print(f"{n} pieces, {notes} notes; onset tolerance 50 ms, exact MIDI pitch; tempo within 4%.\n")
    print("| tool | note F | precision | recall | octave errors | median tuning error (asked / sounding) | tempo within 4% | tempo x1, x2, x1/2 | median onset lag |")
    print("|---|---|---|---|---|---|---|---|---|")
    names = {"icnotes": "icnotes", "aubio": "aubio (aubionotes, aubio tempo; defaults)",
             "aubio_shifted": f"aubio, onsets moved {1000 * shift:.0f} ms earlier"}
    for k in ("icnotes", "aubio", "aubio_shifted"):
        t = tools[k]
        if t.pieces == 0:
            continue
        r = t.row()
        cents = (f"{r['cents']:.1f} / {r['cents_sounding']:.1f} cents" if r["cents"] is not None
                 else "n/a (whole MIDI numbers)")
        lag = f"{int(round(r['lag_ms'])):+d} ms" if r["lag_ms"] is not None else "n/a"
        print(f"| {names[k]} | {fmt(r['F'])} | {fmt(r['P'])} | {fmt(r['R'])} | {fmt(r['octave'], True)} | {cents} "
              f"| {fmt(r['tempo'], True)} | {fmt(r['tempo2'], True)} | {lag} |")
    print("\nicnotes by group:\n")
    print("| group | pieces | note F | octave errors | median tuning error (asked / sounding) | tempo within 4% |")
    print("|---|---|---|---|---|---|")
    for k in sorted(groups):
        r = groups[k].row()
        print(f"| {k} | {groups[k].pieces} | {fmt(r['F'])} | {fmt(r['octave'], True)} | "
              f"{fmt(r['cents'], nd=1)} / {fmt(r['cents_sounding'], nd=1)} | {fmt(r['tempo'], True)} |")


if __name__ == "__main__":
    main()
