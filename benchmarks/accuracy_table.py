#!/usr/bin/python3
"""Markdown accuracy table for benchmarks/RESULTS.md from iceval --json reports.

  accuracy_table.py NAME=EVAL.json[,TRAIN.json] ...

One column per model: per-family accuracy (families the split has) (iceval's per-family recall: the share of
that family's clips called that family, with the clip count), then overall accuracy,
balanced accuracy (mean of the per-family accuracies), the clips scored, and, when a
training report (ictrain's JSON on stdout) is given, the training time.  Standard
library only.
"""
import json
import sys


def pct(v):
    return "-" if v is None else f"{100 * v:.1f}%"


def main(argv):
    cols = []
    for arg in argv:
        name, _, files = arg.partition("=")
        paths = files.split(",")
        with open(paths[0]) as f:
            ev = json.load(f)
        train = None
        if len(paths) > 1 and paths[1]:
            with open(paths[1]) as f:
                train = json.load(f)
        cols.append((name, ev, train))
    if not cols:
        print("usage: accuracy_table.py NAME=EVAL.json[,TRAIN.json] ...", file=sys.stderr)
        return 2
    labels = cols[0][1]["labels"]
    print("| family | " + " | ".join(c[0] for c in cols) + " |")
    print("|---|" + "---:|" * len(cols))
    for fam in labels:
        if not any(((ev.get("per_family") or {}).get(fam) or {}).get("support") for _, ev, _ in cols):
            continue  # a family the split does not have
        cells = []
        for _, ev, _ in cols:
            pf = (ev.get("per_family") or {}).get(fam) or {}
            n = pf.get("support", 0)
            cells.append(f"{pct(pf.get('recall'))} ({n})" if n else "-")
        print(f"| {fam} | " + " | ".join(cells) + " |")
    print("| **accuracy** | " + " | ".join(f"**{pct(ev.get('accuracy'))}**" for _, ev, _ in cols) + " |")
    print("| balanced accuracy | " + " | ".join(pct(ev.get("balanced_accuracy")) for _, ev, _ in cols) + " |")
    print("| clips scored (notes + phrases) | " +
          " | ".join(f"{ev['n']} ({ev['n_notes']} + {ev['n_phrases']})" for _, ev, _ in cols) + " |")
    row = []
    for _, _, tr in cols:
        if tr and "train_seconds" in tr:
            row.append(f"{tr['train_seconds']:.1f} s (+ {tr.get('feature_seconds', 0):.1f} s features)")
        else:
            row.append("see weights/MODEL_CARD.md")
    print("| training time on this machine | " + " | ".join(row) + " |")
    print("| iceval time (decode, features, network) | " + " | ".join(f"{ev['seconds']:.1f} s" for _, ev, _ in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
