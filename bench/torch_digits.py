#!/usr/bin/env python3
"""PyTorch beside `wgconv digits`, from its own copy of the npm package's JSON (not the crate's
PNG): the same split (per digit, the first floor(0.8 n) train), the 24x24 centre crop and
(p - 0.1307)/0.3081.

    python3 bench/torch_digits.py package/src/digits --load model.safetensors
        loads a `wgconv digits --save` file with load_state_dict(strict=True) and prints its
        test accuracy (to compare with the last epoch wgconv printed) and its predictions;
    python3 bench/torch_digits.py package/src/digits --train [--filters K] [--epochs E]
        trains the same network with the same schedule (batch 64, SGD lr 0.05, momentum 0.9,
        PyTorch's own shuffle and initialisation from torch.manual_seed(--seed, default 0)) on
        one CPU thread, timed;
    --predict-png DIR [--n N] also writes the first N test digits of each class as 28x28 PNGs
        (test_<i>_<label>.png, i counted in the test split) and prints the loaded model's
        prediction and probabilities for each, to compare with `wgconv digits --predict`.
"""
import argparse
import json
import struct
import time
import zlib

import numpy as np
import torch
from torch import nn
from safetensors.torch import load_file


def load(folder):
    xs, ys, train = [], [], []
    for d in range(10):
        with open(f"{folder}/{d}.json") as f:
            a = np.array(json.load(f)["data"], dtype=np.float64).reshape(-1, 28, 28)
        cut = len(a) * 4 // 5
        xs.append(a)
        ys.append(np.full(len(a), d))
        train.append(np.arange(len(a)) < cut)
    x, y, train = np.concatenate(xs), np.concatenate(ys), np.concatenate(train)
    crop = ((x[:, 2:26, 2:26] - 0.1307) / 0.3081).astype(np.float32)[:, None]
    return x, torch.from_numpy(crop), torch.from_numpy(y), torch.from_numpy(train)


def network(k):
    return nn.Sequential(nn.Conv2d(1, k, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(100 * k, 10))


def png(path, pixels):
    raw = b"".join(b"\x00" + bytes(r) for r in pixels)
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 28, 28, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("digits")
    ap.add_argument("--load")
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--filters", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--predict-png")
    ap.add_argument("--n", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(1)
    raw, x, y, is_train = load(a.digits)
    xtr, ytr, xte, yte = x[is_train], y[is_train], x[~is_train], y[~is_train]
    print(f"train {len(xtr)}, test {len(xte)}")
    if a.load:
        state = load_file(a.load)
        k = state["0.weight"].shape[0]
        net = network(k)
        print(net.load_state_dict(state, strict=True))
        with torch.no_grad():
            logits = net(xte)
        pred = logits.argmax(1)
        print(f"PyTorch with {a.load}: test accuracy {100 * (pred == yte).float().mean():.2f} % "
              f"({int((pred == yte).sum())}/{len(yte)})")
        if a.predict_png:
            test_idx = torch.nonzero(~is_train).flatten()
            # The first a.n test digits of each class (the test split is in class order).
            picks = [i for d in range(10)
                     for i in torch.nonzero(yte == d).flatten()[:a.n].tolist()]
            for i in picks:
                k8 = np.rint(raw[test_idx[i]] * 255).astype(np.uint8)
                name = f"{a.predict_png}/test_{i}_{int(yte[i])}.png"
                png(name, k8)
                p = torch.softmax(logits[i].double(), 0)
                print(f"{name}: predicted {int(pred[i])}, p = {p.numpy().round(6).tolist()}")
    if a.train:
        torch.manual_seed(a.seed)
        net = network(a.filters)
        opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xtr, ytr),
                                             batch_size=64, shuffle=True)
        start = time.perf_counter()
        for epoch in range(a.epochs):
            t0, total = time.perf_counter(), 0.0
            for xb, yb in loader:
                loss = nn.functional.cross_entropy(net(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            with torch.no_grad():
                acc = (net(xte).argmax(1) == yte).float().mean()
            print(f"epoch {epoch + 1}: mean training loss {total / len(xtr):.4f}, "
                  f"test accuracy {100 * acc:.2f} %, {time.perf_counter() - t0:.2f} s")
        print(f"PyTorch CPU, one thread: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
