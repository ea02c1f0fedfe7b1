#!/usr/bin/env python3
"""One table from `wgconv bench --json` and bench/torch_ref.py's JSON (same device call).

For each shape and pass: our fastest validated kernel, PyTorch's time, the ratio PyTorch / ours
(> 1: ours is faster), and % of the fp32 ceiling given with --peak-tflops.

Ours: the `Report` that `wgconv bench --json` writes (src/bin/wgconv/bench_report.rs); of each
result it reads shape, pass, kernel, inner, median_ms and gflops.
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ours", nargs="+", help="wgconv bench --json files")
    ap.add_argument("--torch", required=True, help="torch_ref.py --json file")
    ap.add_argument("--peak-tflops", type=float, default=None)
    args = ap.parse_args()
    ours = []
    for path in args.ours:
        with open(path) as f:
            ours.extend(json.load(f)["results"])
    with open(args.torch) as f:
        torch_doc = json.load(f)
    torch_by_shape = {r["shape"]: r for r in torch_doc["results"]}
    print(f"PyTorch on {torch_doc['device']} (torch {torch_doc['torch']}, cuDNN {torch_doc['cudnn']})")
    print()
    print("| shape | pass | ours (kernel) ms | PyTorch ms | ratio PyTorch/ours | ours % of fp32 peak |")
    print("|---|---|---|---|---|---|")
    rows = {}
    for r in ours:
        key = (r["shape"], r["pass"], r["inner"] > 1)
        if key not in rows or r["median_ms"] < rows[key]["median_ms"]:
            rows[key] = r
    for (shape, pas, amortised), r in sorted(rows.items()):
        t = torch_by_shape.get(shape)
        if t is None:
            continue
        refs = {"fwd": [("eager", t["fwd_ms"])], "step": [("eager", t["step_ms"]), ("CUDA graph", t["step_graph_ms"])]}
        for label, ref in refs.get(pas, []):
            ratio = ref / r["median_ms"]
            pct = ""
            if args.peak_tflops:
                pct = f"{100 * r['gflops'] / (args.peak_tflops * 1e3):.1f}"
            note = f"{r['kernel']}" + (f", {r['inner']} per pass" if amortised else "")
            print(f"| {shape} | {pas} vs {label} | {r['median_ms']:.4f} ({note}) | {ref:.4f} | {ratio:.2f} | {pct} |")


if __name__ == "__main__":
    main()
