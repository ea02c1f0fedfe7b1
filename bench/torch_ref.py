#!/usr/bin/env python3
"""PyTorch (cuDNN) reference timings for wgconv's benchmark shapes, on CUDA.

fp32 with TF32 off, cudnn.benchmark on; CUDA events; the median of 50 timings after 10 warm-ups.
Per shape it times
  fwd         conv2d + bias + ReLU
  step        the eager training step: forward, MSE loss (mean), backward (dW, db, dX), SGD
  step_graph  the same step captured once in a CUDA graph and replayed
and writes them as JSON (milliseconds). Run by bench/gpu.sh in the same device call as
`wgconv bench`, so that the two are comparable.
"""
import argparse
import json
import statistics

import torch
import torch.nn.functional as F

# name: N, C, H, W, K, R, S, stride, pad  (the same table as src/bench.rs)
SHAPES = {
    "seed": (1, 1, 24, 24, 2, 5, 5, 1, 0),
    "mnist": (256, 1, 28, 28, 32, 5, 5, 1, 0),
    "resnet56": (32, 64, 56, 56, 64, 3, 3, 1, 1),
    "resnet14": (32, 256, 14, 14, 256, 3, 3, 1, 1),
    "stem": (16, 3, 224, 224, 64, 7, 7, 2, 3),
}


def timed(fn, warmup=10, repeats=50):
    """Median milliseconds of fn() by CUDA events."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def bench_shape(name, dims):
    n, c, h, w, k, r, s, stride, pad = dims
    dev = torch.device("cuda")
    gen = torch.Generator(device=dev).manual_seed(0)
    x = torch.rand(n, c, h, w, device=dev, generator=gen, requires_grad=True)
    conv = torch.nn.Conv2d(c, k, (r, s), stride=stride, padding=pad).to(dev)
    with torch.no_grad():
        y = F.relu(conv(x))
    t = torch.rand(y.shape, device=dev, generator=gen)
    opt = torch.optim.SGD(conv.parameters(), lr=1e-6, momentum=0.9)

    def fwd():
        with torch.no_grad():
            F.relu(conv(x))

    def step():
        opt.zero_grad(set_to_none=False)
        loss = F.mse_loss(F.relu(conv(x)), t)
        loss.backward()
        opt.step()

    result = {"shape": name, "fwd_ms": timed(fwd), "step_ms": timed(step)}

    # CUDA graph of the whole step (capturable SGD on a side stream, as PyTorch documents).
    opt_graph = torch.optim.SGD(conv.parameters(), lr=1e-6, momentum=0.9)

    def graph_step():
        opt_graph.zero_grad(set_to_none=False)
        loss = F.mse_loss(F.relu(conv(x)), t)
        loss.backward()
        opt_graph.step()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            graph_step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        graph_step()
    result["step_graph_ms"] = timed(graph.replay)
    flops = 2 * n * k * y.shape[2] * y.shape[3] * c * r * s
    result["fwd_gflops"] = flops / (result["fwd_ms"] * 1e-3) / 1e9
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    out = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "results": [bench_shape(name, SHAPES[name]) for name in args.shapes.split(",")],
    }
    with open(args.json, "w") as f:
        json.dump(out, f, indent=2)
    for r in out["results"]:
        print(f"{r['shape']:<10} fwd {r['fwd_ms']:.4f} ms  step {r['step_ms']:.4f} ms  graph {r['step_graph_ms']:.4f} ms")


if __name__ == "__main__":
    main()
