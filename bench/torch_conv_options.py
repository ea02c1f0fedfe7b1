#!/usr/bin/env python3
"""Cross-checks the hand-worked values of tests/cpu_options_hand.rs against PyTorch's Conv2d.

Optional and never run by CI: exits 0 with a note when PyTorch is not installed.
Run: python3 bench/torch_conv_options.py
"""
import sys

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    print("PyTorch is not installed; skipping the cross-check")
    sys.exit(0)

torch.set_default_dtype(torch.float64)
ramp = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
failures = 0


def check(name, got, want):
    global failures
    want = torch.tensor(want, dtype=torch.float64).reshape(got.shape)
    ok = torch.equal(got, want)
    failures += not ok
    print(("ok  " if ok else "FAIL"), name, "" if ok else f"\n  got  {got.flatten().tolist()}\n  want {want.flatten().tolist()}")


def conv(x, w, mode="zeros", padding=1, **kw):
    layer = torch.nn.Conv2d(x.shape[1], w.shape[0], tuple(w.shape[2:]), padding=padding,
                            padding_mode=mode, bias=False, **kw)
    with torch.no_grad():
        layer.weight.copy_(w)
    return layer(x).detach()


ones = torch.ones(1, 1, 3, 3)
top_left = torch.zeros(1, 1, 3, 3)
top_left[0, 0, 0, 0] = 1
check("reflect ones", conv(ramp, ones, "reflect"), [33, 36, 39, 42, 45, 48, 51, 54, 57])
check("reflect top-left", conv(ramp, top_left, "reflect"), [5, 4, 5, 2, 1, 2, 5, 4, 5])
check("replicate ones", conv(ramp, ones, "replicate"), [21, 27, 33, 39, 45, 51, 57, 63, 69])
check("replicate top-left", conv(ramp, top_left, "replicate"), [1, 1, 2, 1, 1, 2, 4, 4, 5])
check("circular top-left", conv(ramp, top_left, "circular"), [9, 7, 8, 3, 1, 2, 6, 4, 5])

ramp5 = torch.arange(1.0, 26.0).reshape(1, 1, 5, 5)
w = torch.tensor([1.0, 10.0, 100.0, 1000.0]).reshape(1, 1, 2, 2)
check("dilation 2", conv(ramp5, w, padding=0, dilation=2),
      [14131, 15242, 16353, 19686, 20797, 21908, 25241, 26352, 27463])

x = torch.tensor([1.0, 2, 3, 4, 10, 20, 30, 40]).reshape(1, 2, 2, 2)
wd = torch.tensor([1.0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, -1, 0, 0]).reshape(4, 1, 2, 2)
check("depthwise x2", conv(x, wd, padding=0, groups=2), [1, 10, 40, -10])

row = torch.tensor([1.0, 2, 3]).reshape(1, 1, 1, 3)
check("same, even kernel", conv(row, torch.tensor([1.0, 10]).reshape(1, 1, 1, 2), padding="same"),
      [21, 32, 3])

# dX under reflect padding: row [x0 x1 x2], pad 1 left/right, 1x1 weight 2.
xr = row.clone().requires_grad_(True)
y = F.conv2d(F.pad(xr, (1, 1, 0, 0), mode="reflect"), torch.tensor([[[[2.0]]]]))
y.backward(torch.tensor([1.0, 10, 100, 1000, 10000]).reshape(1, 1, 1, 5))
check("reflect dx", xr.grad, [20, 20202, 2000])

sys.exit(1 if failures else 0)
