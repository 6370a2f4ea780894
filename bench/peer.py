#!/usr/bin/python3
"""The PyTorch side of `npm run bench -- --peer`: the same workloads as bench/cases.ts, one case per call.

Usage: /usr/bin/python3 bench/peer.py <case> --repeats N --seconds S [--threads 1]
Prints one JSON line: {"case", "value", "unit", "values", "work", "torch", "threads", "blas"}.

The models are the project's architectures written the plain PyTorch way (nn.Conv2d / nn.Linear / nn.BatchNorm2d,
NHWC data permuted once to NCHW), trained with the same optimiser, learning rate and batch size. Inputs are
uniform random images of the right shape: dense PyTorch kernels do the same work whatever the pixel values, so
the figure is the framework's speed on that shape (ours run on the real datasets, where the MLP skips the zero
pixels of MNIST: the comparison is what a user of either tool gets on the task). The trajectory is the
straightforward one: per level, mask each layer's smallest-|w| fraction and run a no-grad forward pass over the
5,000 images in batches of 1,000.
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:
    print(json.dumps({"error": "torch is not installed: on Debian `apt-get install python3-torch libopenblas0-pthread`"}))
    sys.exit(3)


def width_of(base, size):
    # The project's width rule (lib/models/width.ts): truncation, at least 1.
    return max(1, int(base * size + 1e-9))


class Conv2(nn.Module):
    def __init__(self, s):
        super().__init__()
        c, f = width_of(64, s), width_of(256, s)
        self.conv1 = nn.Conv2d(3, c, 3, padding=1)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.fc1 = nn.Linear(16 * 16 * c, f)
        self.fc2 = nn.Linear(f, f)
        self.proj = nn.Linear(f, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.proj(F.relu(self.fc2(F.relu(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        r = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(r)) + x)


class ResNet(nn.Module):
    def __init__(self, s):
        super().__init__()
        c = width_of(16, s)
        self.conv0 = nn.Conv2d(3, c, 3, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(c)
        self.blocks = nn.Sequential(Block(c), Block(c), Block(c))
        self.proj = nn.Linear(c, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.bn0(self.conv0(x))))
        return self.proj(x.mean(dim=(2, 3)))


class MLP(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.fc1 = nn.Linear(784, width_of(300, s))
        self.fc2 = nn.Linear(width_of(300, s), width_of(100, s))
        self.proj = nn.Linear(width_of(100, s), 10)

    def forward(self, x):
        return self.proj(F.relu(self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))))


ARCH = {"mlp": (MLP, (1, 28, 28), "sgd", 0.1), "conv2": (Conv2, (3, 32, 32), "adam", 2e-4), "resnet": (ResNet, (3, 32, 32), "sgd", 0.1)}


def optimiser(name, params, lr):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-8)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=0.1)
    return torch.optim.SGD(params, lr=lr)


def train_case(arch, size, repeats, target_seconds):
    cls, shape, opt_name, lr = ARCH[arch]
    torch.manual_seed(0)
    model = cls(size)
    opt = optimiser(opt_name, model.parameters(), lr)
    batch = 128
    x = torch.rand(batch, *shape)
    y = torch.randint(0, 10, (batch,))

    def steps(n):
        t = time.perf_counter()
        for _ in range(n):
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()
            opt.step()
        return time.perf_counter() - t

    steps(2)
    n, s = 2, steps(2)
    while s < target_seconds / 4 and n < 4096:
        n *= 2
        s = steps(n)
    n = max(2, round(n * target_seconds / s))
    values = [n * batch / steps(n) for _ in range(repeats)]
    return values, "samples/s", f"{n} steps of {batch}, {opt_name}"


def trajectory_case(arch, size, repeats, levels=50, images=5000, eval_batch=1000):
    cls, shape, _, _ = ARCH[arch]
    torch.manual_seed(0)
    model = cls(size).eval()
    x = torch.rand(images, *shape)
    y = torch.randint(0, 10, (images,))
    prunable = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    originals = [m.weight.detach().clone() for m in prunable]

    def run():
        t = time.perf_counter()
        # Layer-wise magnitude order, then 51 masked forward passes (level k prunes floor(k * n / 50) per layer).
        orders = [w.abs().flatten().argsort(stable=True) for w in originals]
        with torch.no_grad():
            for k in range(levels + 1):
                for m, w, order in zip(prunable, originals, orders):
                    flat = w.flatten().clone()
                    flat[order[: (k * flat.numel()) // levels]] = 0
                    m.weight.copy_(flat.view_as(w))
                correct, loss = 0, 0.0
                for i in range(0, images, eval_batch):
                    out = model(x[i : i + eval_batch])
                    loss += F.cross_entropy(out, y[i : i + eval_batch], reduction="sum").item()
                    correct += (out.argmax(1) == y[i : i + eval_batch]).sum().item()
            for m, w in zip(prunable, originals):
                m.weight.copy_(w)
        return time.perf_counter() - t

    values = [run() for _ in range(repeats)]
    return values, "s", f"{levels + 1} levels x {images} images, batches of {eval_batch}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("case")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    kind, arch, size = a.case.split("/")
    if arch not in ARCH:
        print(json.dumps({"error": f"no PyTorch peer for architecture '{arch}'"}))
        return 4
    if kind == "train":
        values, unit, work = train_case(arch, float(size), a.repeats, a.seconds)
    elif kind == "trajectory":
        values, unit, work = trajectory_case(arch, float(size), a.repeats)
    else:
        print(json.dumps({"error": f"no PyTorch peer for case kind '{kind}'"}))
        return 4
    s = sorted(values)
    m = len(s) // 2
    value = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    # Debian's torch calls whatever libblas.so.3 the alternatives system points at: name the library it loaded
    # (reference BLAS is ~20x slower than OpenBLAS, which makes the comparison meaningless).
    blas = "unknown"
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1].rsplit("/", 1)[-1] for line in maps if "blas" in line.lower()}
        blas = ", ".join(sorted(libs)) or "none loaded"
    except OSError:  # not Linux: the library is informative only
        pass
    print(json.dumps({"case": a.case, "value": value, "unit": unit, "values": values, "work": work,
                      "torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
