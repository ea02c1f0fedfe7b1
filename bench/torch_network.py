"""Repeats `cargo run --release --example network_vs_torch DIR` in PyTorch and compares.

Loads DIR/init.safetensors into the same nn.Sequential with load_state_dict(strict=True), runs
the same 20 SGD steps (lr 0.05, momentum 0.9) on the same batches, in float32 and in float64,
and prints the largest difference of every final parameter from wgconv's (DIR/final.safetensors),
the losses side by side, and PyTorch's time per step on the CPU (one thread, as measured here).

    python3 bench/torch_network.py DIR
"""
import sys
import time

import torch
from safetensors.torch import load_file
from torch import nn

STEPS, BATCH = 20, 64


def net():
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(800, 10))


def train(init, data, dtype):
    model = net().to(dtype)
    model.load_state_dict({k: v.to(dtype) for k, v in init.items()}, strict=True)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, labels = data["x"].to(dtype), data["labels"].long()
    losses, start = [], time.perf_counter()
    for step in range(STEPS):
        xb, yb = x[step * BATCH:(step + 1) * BATCH], labels[step * BATCH:(step + 1) * BATCH]
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model.state_dict(), losses, (time.perf_counter() - start) * 1e3 / STEPS


def main():
    torch.set_num_threads(1)
    d = sys.argv[1] if len(sys.argv) > 1 else "network-vs-torch"
    init, data, ours = (load_file(f"{d}/{n}.safetensors") for n in ("init", "data", "final"))
    for dtype in (torch.float32, torch.float64):
        state, losses, ms = train(init, data, dtype)
        print(f"PyTorch {dtype}: {ms:.2f} ms per step on the CPU (1 thread)")
        for name, v in state.items():
            diff = (v.double() - ours[name].double()).abs().max().item()
            scale = v.double().abs().max().item()
            print(f"  {name:9} {tuple(v.shape)}: max |wgconv − PyTorch| = {diff:.3e} (max |param| {scale:.3f})")
        print("  losses, PyTorch:", [round(l, 6) for l in losses[:3]], "…", round(losses[-1], 6))
    print("  losses, wgconv: ", [round(l, 6) for l in data["losses"].tolist()[:3]], "…", round(data["losses"][-1].item(), 6))


if __name__ == "__main__":
    main()
