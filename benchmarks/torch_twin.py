#!/usr/bin/python3
"""PyTorch twin of an ic network, for the benchmark suite (benchmarks/run.sh).

Reads an ic model file (.icw: magic, version, JSON header, 64-byte aligned f32
tensors, CRC32; layout in include/ic/icw.h), builds the same network in PyTorch from
the architecture stored in the file (meta.arch: conv, bn, relu, maxpool, gap,
timepool, flatten, dense, dropout layers and dense heads; see include/ic/net.h), and
names every module so that PyTorch's state-dict keys are the file's tensor names
(l0.conv.weight, l1.bn.running_mean, head.family.bias...).

  torch_twin.py check --weights M.icw --dump DIR
      loads the file's weights, runs the inputs bench_engine --dump wrote in eval
      mode and compares every head's logits with ours; exit 1 when the largest
      absolute difference is 1e-4 or more.
  torch_twin.py speed --weights M.icw [--threads N] [--batch 32] [--infer-batch 64]
                      [--seconds 3] [--ours OURS.json]
      times training steps, inference and batch-1 latency exactly as bench_engine
      does; prints one JSON line, or with --ours (bench_engine --json output) a
      markdown table of both engines and their ratios.
  torch_twin.py table --weights M.icw --ours IC1.json [IC2.json...] --torch T1.json [T2.json...]
      the markdown table from several rounds of both engines (the best figure of
      each engine's rounds); times nothing itself.

Uses Debian's python3-torch (run with /usr/bin/python3).  Not a training script.
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time
import zlib

import numpy as np
import torch
from torch import nn

MAGIC = b"ICWEIGHT"
DTYPES = {"f32": np.float32, "i32": np.int32, "u8": np.uint8}
TOLERANCE = 1e-4


def read_icw(path):
    """Returns (kind, meta, {name: numpy array}); raises ValueError on a bad file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 28 or blob[:8] != MAGIC:
        raise ValueError(f"{path}: not an .icw file (bad magic)")
    version, _flags, header_len = struct.unpack_from("<IIQ", blob, 8)
    if version != 1:
        raise ValueError(f"{path}: format version {version}, expected 1")
    (crc,) = struct.unpack_from("<I", blob, len(blob) - 4)
    if zlib.crc32(blob[:-4]) & 0xFFFFFFFF != crc:
        raise ValueError(f"{path}: checksum mismatch")
    header = json.loads(blob[24:24 + header_len].decode("utf-8"))
    data_start = (24 + header_len + 63) // 64 * 64
    tensors = {}
    for t in header["tensors"]:
        dtype = DTYPES[t["dtype"]]
        count = t["nbytes"] // np.dtype(dtype).itemsize
        start = data_start + t["offset"]
        if start + t["nbytes"] > len(blob) - 4:
            raise ValueError(f"{path}: tensor {t['name']} out of bounds")
        a = np.frombuffer(blob, dtype=dtype, count=count, offset=start)
        tensors[t["name"]] = a.reshape(t["shape"]).copy()
    return header["kind"], header["meta"], tensors


def pair(v, default):
    if v is None:
        v = default
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


class Layer(nn.Module):
    """One trunk layer of an ic network; its parameters live in a child named like
    ours (conv, bn, dense) so the state-dict keys match the .icw tensor names."""

    def __init__(self, spec, c, h, w):
        super().__init__()
        self.kind = spec["type"]
        k = self.kind
        if k == "conv":
            kh, kw = pair(spec.get("k"), 3)
            sh, sw = pair(spec.get("stride"), 1)
            ph, pw = pair(spec.get("pad"), 0)
            out = spec["out"]
            self.conv = nn.Conv2d(c, out, (kh, kw), (sh, sw), (ph, pw), bias=spec.get("bias", True))
            self.shape = (out, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        elif k == "bn":
            self.bn = nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)
            self.shape = (c, h, w)
        elif k == "maxpool":
            kh, kw = pair(spec.get("k"), 2)
            sh, sw = pair(spec.get("stride"), None) if "stride" in spec else (kh, kw)
            self.pool = nn.MaxPool2d((kh, kw), (sh, sw))
            self.shape = (c, (h - kh) // sh + 1, (w - kw) // sw + 1)
        elif k == "dense":
            self.dense = nn.Linear(c * h * w, spec["out"], bias=spec.get("bias", True))
            self.shape = (spec["out"], 1, 1)
        elif k == "dropout":
            self.drop = nn.Dropout(spec.get("p", 0.5))
            self.shape = (c, h, w)
        elif k in ("relu",):
            self.shape = (c, h, w)
        elif k == "gap":
            self.shape = (c, 1, 1)
        elif k == "timepool":
            self.shape = (c, h, 1)
        elif k == "flatten":
            self.shape = (c * h * w, 1, 1)
        else:
            raise ValueError(f"architecture: unknown layer type {k!r}")

    def forward(self, x):
        k = self.kind
        if k == "conv":
            return self.conv(x)
        if k == "bn":
            return self.bn(x)
        if k == "relu":
            return torch.relu(x)
        if k == "maxpool":
            return self.pool(x)
        if k == "gap":
            return x.mean(dim=(2, 3), keepdim=True)
        if k == "timepool":
            return x.mean(dim=3, keepdim=True)
        if k == "flatten":
            return x.reshape(x.shape[0], -1, 1, 1)
        if k == "dense":
            return self.dense(x.reshape(x.shape[0], -1)).reshape(x.shape[0], -1, 1, 1)
        return self.drop(x)


class Twin(nn.Module):
    def __init__(self, arch):
        super().__init__()
        dims = [int(d) for d in arch["input"]]
        self.in_shape = tuple(dims) if len(dims) == 3 else (dims[0], 1, 1)
        c, h, w = self.in_shape
        layers = []
        for i, spec in enumerate(arch.get("layers", [])):
            layer = Layer(spec, c, h, w)
            self.add_module(f"l{i}", layer)
            layers.append(layer)
            c, h, w = layer.shape
        self.trunk = layers  # plain list: the modules are registered as l0, l1, ...
        self.head = nn.ModuleDict()
        self.head_names = []
        for hd in arch["heads"]:
            self.head[hd["name"]] = nn.Linear(c * h * w, hd["classes"])
            self.head_names.append(hd["name"])

    def forward(self, x):
        x = x.reshape(x.shape[0], *self.in_shape)
        for layer in self.trunk:
            x = layer(x)
        f = x.reshape(x.shape[0], -1)
        return [self.head[n](f) for n in self.head_names]


def load_twin(path):
    kind, meta, tensors = read_icw(path)
    if kind not in ("model", "checkpoint"):
        raise ValueError(f"{path}: a {kind!r} file, expected a model")
    twin = Twin(meta["arch"])
    state = twin.state_dict()
    missing = [k for k in state if k not in tensors and not k.endswith("num_batches_tracked")]
    if missing:
        raise ValueError(f"{path}: tensors missing for the twin: {', '.join(missing)}")
    new = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            new[k] = v
            continue
        a = tensors[k]
        if tuple(a.shape) != tuple(v.shape):
            raise ValueError(f"{path}: {k}: shape {list(a.shape)}, the twin expects {list(v.shape)}")
        new[k] = torch.from_numpy(a)
    twin.load_state_dict(new)
    return twin, meta


def cmd_check(args):
    twin, _ = load_twin(args.weights)
    with open(os.path.join(args.dump, "dump.json")) as f:
        d = json.load(f)
    n = d["n"]
    if int(np.prod(d["input_shape"])) != int(np.prod(twin.in_shape)):
        raise ValueError(f"{args.dump}: inputs of shape {d['input_shape']}, {args.weights} reads {list(twin.in_shape)}")
    x = np.fromfile(os.path.join(args.dump, "input.f32"), dtype="<f4")
    x = torch.from_numpy(x.reshape(n, *d["input_shape"]).copy())
    twin.eval()
    with torch.no_grad():
        outs = twin(x)
    worst, rows = 0.0, []
    for hd, out in zip(d["heads"], outs):
        ours = np.fromfile(os.path.join(args.dump, f"logits.{hd['name']}.f32"), dtype="<f4").reshape(n, hd["classes"])
        diff = float(np.max(np.abs(ours - out.numpy())))
        scale = float(np.max(np.abs(ours)))
        rows.append((hd["name"], hd["classes"], diff, scale))
        worst = max(worst, diff)
    ok = worst < TOLERANCE
    name = args.label or args.weights
    for head, k, diff, scale in rows:
        print(f"| {name} | {head} ({k}) | {scale:.3g} | {diff:.2e} | {'pass' if diff < TOLERANCE else 'FAIL'} |")
    if not ok:
        print(f"torch_twin: {args.weights}: logits differ by {worst:.3g} (>= {TOLERANCE})", file=sys.stderr)
    return 0 if ok else 1


def time_speed(twin, args):
    torch.manual_seed(1)
    cap = max(args.batch, args.infer_batch)
    x = torch.randn(cap, *twin.in_shape)
    xb = x[: args.batch]
    labels = [torch.randint(0, twin.head[n].out_features, (args.batch,)) for n in twin.head_names]
    decay, no_decay = [], []
    for name, p in twin.named_parameters():
        # as ic: weight decay on conv and dense weights only, not on batch norm or biases
        (decay if name.endswith("weight") and ".bn." not in name else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=1e-3)
    ce = nn.CrossEntropyLoss()

    def step():
        outs = twin(xb)
        loss = sum(ce(o, y) for o, y in zip(outs, labels))
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()

    twin.train()
    for _ in range(2):
        step()
    steps, t0 = 0, time.perf_counter()
    while steps < 5 or time.perf_counter() - t0 < args.seconds:
        step()
        steps += 1
    train_sps = steps * args.batch / (time.perf_counter() - t0)

    twin.eval()
    xi, x1 = x[: args.infer_batch], x[:1]
    with torch.inference_mode():
        twin(xi)
        passes, t0 = 0, time.perf_counter()
        while passes < 3 or time.perf_counter() - t0 < args.seconds:
            twin(xi)
            passes += 1
        infer_sps = passes * args.infer_batch / (time.perf_counter() - t0)
        for _ in range(3):
            twin(x1)
        # as bench_engine: LAT_SEGMENTS segments, the best segment's median
        latency, runs = float("inf"), 0
        for _ in range(LAT_SEGMENTS):
            times, t0 = [], time.perf_counter()
            while len(times) < 20 or time.perf_counter() - t0 < args.seconds / LAT_SEGMENTS:
                s = time.perf_counter()
                twin(x1)
                times.append(time.perf_counter() - s)
            latency = min(latency, statistics.median(times))
            runs += len(times)
    n_params = sum(p.numel() for p in twin.parameters())
    return {"engine": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(), "params": n_params,
            "train_batch": args.batch, "train_steps": steps, "train_samples_per_s": train_sps,
            "infer_batch": args.infer_batch, "infer_samples_per_s": infer_sps,
            "latency_ms": 1e3 * latency, "latency_runs": runs}


LAT_SEGMENTS = 5  # bench_engine.c's too


def best_of(runs):
    """The best of several rounds of one engine: highest samples/s, lowest latency."""
    best = dict(runs[0])
    best["train_samples_per_s"] = max(r["train_samples_per_s"] for r in runs)
    best["infer_samples_per_s"] = max(r["infer_samples_per_s"] for r in runs)
    best["latency_ms"] = min(r["latency_ms"] for r in runs)
    return best


def print_table(weights, ours_runs, torch_runs):
    o, t = best_of(ours_runs), best_of(torch_runs)
    for r in ours_runs + torch_runs:
        if r["params"] != o["params"] or r["threads"] != o["threads"] or r["train_batch"] != o["train_batch"]:
            print(f"torch_twin: the runs differ: {r['params']} parameters, {r['threads']} threads, batch "
                  f"{r['train_batch']} against {o['params']}, {o['threads']}, {o['train_batch']}", file=sys.stderr)
            return 1
    rows = [
        (f"training, samples/s (batch {t['train_batch']}: forward, loss on every head, backward, AdamW)",
         "train_samples_per_s", o["train_samples_per_s"] / t["train_samples_per_s"], "1.5x"),
        (f"inference, samples/s (batch {t['infer_batch']}, eval mode)",
         "infer_samples_per_s", o["infer_samples_per_s"] / t["infer_samples_per_s"], "-"),
        ("latency, ms per window (batch 1, best of 5 segment medians)", "latency_ms", t["latency_ms"] / o["latency_ms"], "2x"),
    ]
    n = len(ours_runs)
    rounds = (f"best of {n} rounds taken alternately (ic, PyTorch, ic, PyTorch...), the same for both "
              f"engines, so that a burst of load on this shared machine does not decide a ratio; "
              if n > 1 else "")
    print(f"Network only (features excluded), {t['params']} parameters, {t['threads']} threads on both sides, "
          f"the same architecture read from `{weights}`; PyTorch {t['version']} (Debian python3-torch); "
          f"{rounds}ratio = how many times faster ic is (above 1: ic is faster).\n")
    print("| figure | ic | PyTorch | ratio | aim |" + ("" if n < 2 else " ic rounds | PyTorch rounds |"))
    print("|---|---:|---:|---:|---:|" + ("" if n < 2 else "---|---|"))
    for name, key, r, aim in rows:
        fmt = "{:.2f}" if key == "latency_ms" else "{:.1f}"
        line = f"| {name} | {fmt.format(o[key])} | {fmt.format(t[key])} | {r:.2f}x | {aim} |"
        if n > 1:
            line += " " + ", ".join(fmt.format(x[key]) for x in ours_runs) + " | "
            line += ", ".join(fmt.format(x[key]) for x in torch_runs) + " |"
        print(line)
    return 0


def load_json(path):
    with open(path) as f:
        return json.load(f)


def cmd_speed(args):
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    twin, _ = load_twin(args.weights)  # the architecture; weights do not change the timing
    t = time_speed(twin, args)
    if not args.ours:
        print(json.dumps(t))
        return 0
    return print_table(args.weights, [load_json(args.ours)], [t])


def cmd_table(args):
    return print_table(args.weights, [load_json(f) for f in args.ours], [load_json(f) for f in args.torch])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="compare logits with bench_engine --dump")
    c.add_argument("--weights", required=True)
    c.add_argument("--dump", required=True)
    c.add_argument("--label", help="name of the model in the output row")
    s = sub.add_parser("speed", help="time training, inference and latency")
    s.add_argument("--weights", required=True)
    s.add_argument("--threads", type=int, default=0)
    s.add_argument("--batch", type=int, default=32)
    s.add_argument("--infer-batch", type=int, default=64)
    s.add_argument("--seconds", type=float, default=3.0)
    s.add_argument("--ours", help="bench_engine --json output to compare with")
    t = sub.add_parser("table", help="markdown table from several rounds of JSON timings")
    t.add_argument("--weights", required=True, help="the model file both engines timed (named in the text)")
    t.add_argument("--ours", nargs="+", required=True, help="bench_engine --json outputs, one per round")
    t.add_argument("--torch", nargs="+", required=True, help="torch_twin.py speed outputs, one per round")
    args = p.parse_args()
    cmds = {"check": cmd_check, "speed": cmd_speed, "table": cmd_table}
    try:
        return cmds[args.cmd](args)
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        print(f"torch_twin: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
