#!/usr/bin/python3
"""Train one CIFAR-10 model the plain PyTorch way on the project's own split, and print its validation curve beside
the curve a density run recorded: the side-by-side check issue 13 asks for when a regime falls short of its sanity
bar (is it the model and the training rule, or our kernels?).

Usage: /usr/bin/python3 bench/peer_curve.py --run <hash prefix> [--epochs N] [--threads 1] [--seed 0] [--json out.json]

The run's record (outputs/runs/<hash>*/run.json, or $DENSITY_OUTPUTS) gives the architecture, width, init,
optimizer, learning rate, batch size and data seed; the split is the project's recorded one
(outputs/splits/cifar10-<seed>.json: the same 45,000 training and 5,000 validation images) and the images are the
project's copy (data/cifar-10-batches-bin, or $DENSITY_DATA), scaled to [0, 1] with no other preprocessing, as
ours. The model is bench/peer.py's (nn.Conv2d / nn.BatchNorm2d / nn.Linear), initialised by the run's rule
(Glorot or He uniform on every prunable kernel, zero biases, BatchNorm at 1 and 0). What cannot be the same: the
random streams (init values, batch order), so the curves are two draws of one experiment, not a replay.
Every epoch is trained (default: as many as the run trained); validation uses BatchNorm's running statistics.
"""
import argparse
import glob
import json
import math
import os
import sys
import time

import peer

torch, nn, F = peer.torch, peer.nn, peer.F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORD_BYTES = 3073
TRAIN_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)]


def fail(msg):
    print(f"peer_curve: {msg}", file=sys.stderr)
    sys.exit(2)


def find_run(prefix):
    outputs = os.environ.get("DENSITY_OUTPUTS", os.path.join(ROOT, "outputs"))
    hits = sorted(glob.glob(os.path.join(outputs, "runs", f"{prefix}*", "run.json")))
    if len(hits) != 1:
        fail(f"--run {prefix}: expected one finished run under {outputs}/runs, found {len(hits)}")
    with open(hits[0]) as f:
        return json.load(f), outputs


def load_cifar_train():
    data = os.environ.get("DENSITY_DATA", os.path.join(ROOT, "data"))
    folder = os.path.join(data, "cifar-10-batches-bin")
    raw = bytearray()
    for name in TRAIN_FILES:
        path = os.path.join(folder, name)
        if not os.path.exists(path):
            fail(f"{path}: missing (run any CIFAR-10 command of the project once to extract the archive)")
        with open(path, "rb") as f:
            raw += f.read()
    if len(raw) != 50000 * RECORD_BYTES:
        fail(f"{folder}: {len(raw)} bytes in the training batches, expected {50000 * RECORD_BYTES}")
    rec = torch.frombuffer(raw, dtype=torch.uint8).view(50000, RECORD_BYTES)
    labels = rec[:, 0].long()
    # Each record is R(1024) G(1024) B(1024), row-major 32 x 32: exactly NCHW.
    images = rec[:, 1:].float().div_(255).view(50000, 3, 32, 32)
    return images, labels


def load_split(outputs, data_seed):
    path = os.path.join(outputs, "splits", f"cifar10-{data_seed}.json")
    if not os.path.exists(path):
        fail(f"{path}: the recorded split is missing")
    with open(path) as f:
        val = torch.tensor(json.load(f)["validationIndices"], dtype=torch.long)
    keep = torch.ones(50000, dtype=torch.bool)
    keep[val] = False
    return torch.nonzero(keep).flatten(), val


def init_like_density(model, rule):
    # lib/models/init.ts: uniform in [-b, b), Glorot b = sqrt(6 / (fanIn + fanOut)), He b = sqrt(6 / fanIn),
    # where a conv's fans are kh * kw * channels in / out.
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            w = m.weight
            receptive = w[0, 0].numel() if w.dim() == 4 else 1
            fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
            b = math.sqrt(6 / fan_in) if rule == "he" else math.sqrt(6 / (fan_in + fan_out))
            with torch.no_grad():
                w.uniform_(-b, b)
                if m.bias is not None:
                    m.bias.zero_()


def evaluate(model, x, y, batch=1000):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = model(x[i : i + batch])
            loss += F.cross_entropy(out, y[i : i + batch], reduction="sum").item()
            correct += (out.argmax(1) == y[i : i + batch]).sum().item()
    model.train()
    return loss / len(y), correct / len(y)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="hash (or prefix) of a finished CIFAR-10 run")
    p.add_argument("--epochs", type=int, help="epochs to train (default: as many as the run trained)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0, help="PyTorch's seed (init values and batch order)")
    p.add_argument("--json", help="also write the two curves to this file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    run, outputs = find_run(a.run)
    d = run["descriptor"]
    if d["dataset"] != "cifar10" or d["architecture"] not in ("conv2", "resnet"):
        fail(f"--run {a.run}: {d['architecture']} on {d['dataset']}; this compares CIFAR-10 runs (conv2, resnet)")
    ours = run["training"]["validation"]
    epochs = a.epochs or len(ours)
    model = peer.ARCH[d["architecture"]][0](d["width"])
    init_like_density(model, d["init"])
    opt = peer.optimiser(d["optimizer"], model.parameters(), d["learningRate"])

    images, labels = load_cifar_train()
    train_idx, val_idx = load_split(outputs, d["dataSeed"])
    xv, yv = images[val_idx], labels[val_idx]
    xt, yt = images[train_idx], labels[train_idx]
    batch = d["batchSize"]
    label = f"{d['architecture']} {d['width']}x {d['init']} i{d['initSeed']}, {d['optimizer']} lr {d['learningRate']}, batch {batch}"
    print(f"{run['hash']}: {label}; PyTorch {torch.__version__}, {torch.get_num_threads()} thread(s), seed {a.seed}")
    print("epoch | density val loss | acc   | PyTorch val loss | acc   | PyTorch train loss | s")
    curve = []
    for epoch in range(1, epochs + 1):
        t = time.perf_counter()
        order = torch.randperm(len(yt))
        total, seen = 0.0, 0
        for i in range(0, len(yt), batch):
            idx = order[i : i + batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        vloss, vacc = evaluate(model, xv, yv)
        seconds = time.perf_counter() - t
        curve.append({"epoch": epoch, "loss": vloss, "accuracy": vacc, "trainLoss": total / seen, "seconds": seconds})
        o = ours[epoch - 1] if epoch <= len(ours) else None
        mine = f"{o['loss']:16.4f} | {o['accuracy']:.3f}" if o else f"{'(stopped)':>16} |      "
        print(f"{epoch:5d} | {mine} | {vloss:16.4f} | {vacc:.3f} | {total / seen:18.4f} | {seconds:.0f}", flush=True)
    best = min(curve, key=lambda c: c["loss"])
    print(f"PyTorch: lowest validation loss at epoch {best['epoch']} ({best['loss']:.4f}, accuracy {best['accuracy']:.3f}); "
          f"density: epoch {run['training'].get('bestEpoch')} (accuracy {run['training']['validationAccuracy']:.3f})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"run": run["hash"], "descriptor": d, "torch": torch.__version__, "seed": a.seed,
                       "density": ours, "pytorch": curve}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
