#!/usr/bin/env python3
"""PyTorch on the CPU, one thread, beside `wgconv bench` and `burn-digits` (bench/conv_vs.sh):
the median wall-clock milliseconds of the same passes on the same shapes.

    python3 bench/torch_cpu_conv.py conv --shape N,C,H,W,K,R,S,stride,pad [--iters I] [--warmup W]
        One layer, conv + bias + ReLU (x uniform in [0, 1], a target uniform in [0, 1]): the
        forward pass (under no_grad), and the step: forward, MSE loss, backward (dW, db and dX:
        x requires grad), SGD with momentum 0.9.
    python3 bench/torch_cpu_conv.py step [--filters K] [--batch B] [--iters I] [--warmup W]
        The digits network's training step: Conv2d(1, K, 5) -> ReLU -> MaxPool2d(2) -> flatten
        -> Linear(100K, 10), cross-entropy, SGD lr 0.05 momentum 0.9, on one random batch of
        24x24 inputs (uniform in +-1, random labels), as `wgconv bench --network` times it.

W untimed iterations (default 3) come first; the lines printed are `burn-digits`' format.
"""
import argparse
import statistics
import time

import torch
from torch import nn


def median_ms(fn, iters, warmup):
    times = []
    for i in range(warmup + iters):
        start = time.perf_counter()
        fn()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def conv(shape, iters, warmup):
    n, c, h, w, k, r, s, stride, pad = shape
    layer = nn.Conv2d(c, k, (r, s), stride=stride, padding=pad)
    x = torch.rand(n, c, h, w, requires_grad=True)
    with torch.no_grad():
        t = torch.rand_like(torch.relu(layer(x)))
    opt = torch.optim.SGD(layer.parameters(), lr=1e-6, momentum=0.9)
    print(f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} thread(s), conv + bias + ReLU: "
          f"x {tuple(x.shape)}, w {tuple(layer.weight.shape)}, stride {stride}, pad {pad} -> "
          f"{tuple(t.shape)}; {iters} iterations after {warmup} warm-up, wall clock")

    def forward():
        with torch.no_grad():
            torch.relu(layer(x))

    last = [0.0]

    def step():
        opt.zero_grad()
        x.grad = None
        loss = nn.functional.mse_loss(torch.relu(layer(x)), t)
        loss.backward()
        opt.step()
        last[0] = loss.item()

    fwd = median_ms(forward, iters, warmup)
    stp = median_ms(step, iters, warmup)
    assert x.grad is not None
    print(f"forward: median {fwd:.3f} ms; step (forward + MSE + backward with dX + SGD): "
          f"median {stp:.3f} ms; last loss {last[0]:.6f}")


def digits_step(k, batch, iters, warmup):
    net = nn.Sequential(nn.Conv2d(1, k, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(100 * k, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    x = torch.rand(batch, 1, 24, 24) * 2 - 1
    y = torch.randint(0, 10, (batch,))
    print(f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} thread(s), digits step: "
          f"Conv2d(1, {k}, 5) -> ReLU -> MaxPool2d(2) -> flatten -> Linear({100 * k}, 10), "
          f"cross-entropy, SGD lr 0.05 momentum 0.9; batch {batch}; {iters} iterations after "
          f"{warmup} warm-up, wall clock")
    last = [0.0]

    def step():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        last[0] = loss.item()

    ms = median_ms(step, iters, warmup)
    print(f"step (forward + cross-entropy + backward + SGD): median {ms:.3f} ms; "
          f"last loss {last[0]:.6f}")


def positive(text):
    v = int(text)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"{text}: a positive integer is taken")
    return v


def shape(text):
    try:
        v = [int(p) for p in text.split(",")]
    except ValueError:
        v = []
    if len(v) != 9 or min(v[:8]) <= 0 or v[8] < 0:
        raise argparse.ArgumentTypeError(f"{text}: nine integers N,C,H,W,K,R,S,stride,pad "
                                         "(only pad may be 0)")
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["conv", "step"])
    ap.add_argument("--shape", type=shape)
    ap.add_argument("--filters", type=positive, default=2)
    ap.add_argument("--batch", type=positive, default=64)
    ap.add_argument("--iters", type=positive, default=20)
    ap.add_argument("--warmup", type=positive, default=3)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    if a.mode == "conv":
        if a.shape is None:
            ap.error("conv needs --shape N,C,H,W,K,R,S,stride,pad")
        conv(a.shape, a.iters, a.warmup)
    else:
        digits_step(a.filters, a.batch, a.iters, a.warmup)


if __name__ == "__main__":
    main()
