"""pngstream's levels and filters against Pillow on the article's gradient:

    python versus_pillow.py [--size 4000] [--reps 5] [--no-deflate-stats]

1. Sizes (they do not move between runs): pngstream.encode at every level
   with every filter, Pillow's save at compress_level 1, 6 (its default), 9
   and optimize=True; for each, the filter types its rows use.
2. Where a size difference comes from: the filtered rows of Pillow's file
   and of pngstream's default level, each compressed again with zlib
   (level 6 as Pillow, Z_FILTERED and the default strategy; level 9), and
   the deflate blocks of each file (how many, the bits of their Huffman
   headers), read by a small inflater below.
3. Speed, alternating runs of numpy_gradient.py (the encoding's own time,
   Pillow's including the building of its whole-image array): Pillow at
   compress_level 6 and 9, pngstream default, best, and best with the
   paeth filter.

Needs numpy and Pillow; the deflate statistics take some seconds at 4000²
(pure Python) and are left out above 4000² unless asked for.
"""

import argparse
import collections
import io
import pathlib
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from PIL import Image

import pngstream
from numpy_gradient import whole_image

HERE = pathlib.Path(__file__).resolve().parent
FILTER_NAMES = {0: "none", 1: "sub", 2: "up", 3: "average", 4: "paeth"}


def idat(png):
    pos, out = 8, []
    while pos < len(png):
        (n,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            out.append(png[pos + 8 : pos + 8 + n])
        pos += 12 + n
    return b"".join(out)


def filtered_rows(png, width, height):
    """The inflated IDAT data and a count of the rows' filter types."""
    raw = zlib.decompress(idat(png))
    stride = width * 3 + 1
    return raw, collections.Counter(raw[y * stride] for y in range(height))


class Bits:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def get(self, n):
        v = 0
        for i in range(n):
            v |= ((self.data[self.pos >> 3] >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return v


def huffman(lengths):
    counts = collections.Counter(n for n in lengths if n)
    code, first = 0, {}
    for bits in range(1, 16):
        code = (code + counts.get(bits - 1, 0)) << 1
        first[bits] = code
    table = {}
    for sym, n in enumerate(lengths):
        if n:
            table[(n, first[n])] = sym
            first[n] += 1
    return table


def symbol(bits, table):
    code = n = 0
    while (n, code) not in table:
        code, n = (code << 1) | bits.get(1), n + 1
    return table[(n, code)]


LEN_EXTRA = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
DIST_EXTRA = [0, 0, 0, 0] + [k // 2 for k in range(2, 28)]
FIXED_LIT = [8] * 144 + [9] * 112 + [7] * 24 + [8] * 8
CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def deflate_blocks(zdata):
    """Blocks, Huffman header bits and total bits of a zlib stream."""
    bits = Bits(zdata[2:])
    blocks = header_bits = 0
    while True:
        final, kind = bits.get(1), bits.get(2)
        blocks += 1
        if kind == 0:
            bits.pos = (bits.pos + 7) & ~7
            n = bits.get(16)
            bits.get(16)
            bits.pos += 8 * n
        else:
            start = bits.pos
            if kind == 1:
                lit, dist = huffman(FIXED_LIT), huffman([5] * 30)
            else:
                hlit, hdist, hclen = bits.get(5) + 257, bits.get(5) + 1, bits.get(4) + 4
                cl = [0] * 19
                for i in range(hclen):
                    cl[CL_ORDER[i]] = bits.get(3)
                cl_table, lengths = huffman(cl), []
                while len(lengths) < hlit + hdist:
                    s = symbol(bits, cl_table)
                    if s < 16:
                        lengths.append(s)
                    elif s == 16:
                        lengths += [lengths[-1]] * (3 + bits.get(2))
                    else:
                        lengths += [0] * ((3 + bits.get(3)) if s == 17 else (11 + bits.get(7)))
                lit, dist = huffman(lengths[:hlit]), huffman(lengths[hlit:])
                header_bits += bits.pos - start
            while (s := symbol(bits, lit)) != 256:
                if s > 256:
                    bits.get(LEN_EXTRA[s - 257])
                    bits.get(DIST_EXTRA[symbol(bits, dist)])
        if final:
            return blocks, header_bits, bits.pos


def sizes(n, deflate_stats):
    img = whole_image(n, n)
    print(f"## Sizes, {n}x{n}\n")
    print("| encoder | bytes | vs Pillow 6 | row filters |")
    print("|---|---:|---:|---|")

    def row(label, png, ref):
        _, used = filtered_rows(png, n, n)
        filters = ", ".join(f"{FILTER_NAMES[k]} {v}" for k, v in sorted(used.items()))
        print(f"| {label} | {len(png):,} | {len(png) / ref - 1:+.1%} | {filters} |", flush=True)

    def pillow(**kw):
        out = io.BytesIO()
        Image.fromarray(img).save(out, format="PNG", **kw)
        return out.getvalue()

    pil6 = pillow(compress_level=6)
    for kw in ({"compress_level": 1}, {"compress_level": 6}, {"compress_level": 9}, {"optimize": True}):
        row("Pillow " + ", ".join(f"{k}={v}" for k, v in kw.items()), pillow(**kw), len(pil6))
    for level in ("fastest", "fast", "default", "best"):
        for f in (None, "none", "sub", "up", "average", "paeth", "adaptive", "entropy"):
            row(f"pngstream {level}, filter={f}", pngstream.encode(img, compression=level, filter=f), len(pil6))

    print(f"\n## The same filtered rows through zlib, {n}x{n}\n")
    default = pngstream.encode(img)
    for name, png in (("Pillow 6", pil6), ("pngstream default", default)):
        raw, _ = filtered_rows(png, n, n)
        print(f"{name}: IDAT data {len(idat(png)):,} bytes")
        for level, strategy, sname in ((6, zlib.Z_FILTERED, "Z_FILTERED"), (6, zlib.Z_DEFAULT_STRATEGY, "default"), (9, zlib.Z_DEFAULT_STRATEGY, "default")):
            z = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
            print(f"  its filtered rows, zlib level {level} {sname} strategy: {len(z.compress(raw) + z.flush()):,} bytes")
    if deflate_stats:
        print(f"\n## Deflate blocks, {n}x{n}\n")
        for name, png in (("Pillow 6", pil6), ("pngstream default", default), ("pngstream best", pngstream.encode(img, compression="best"))):
            t = time.perf_counter()
            blocks, header, total = deflate_blocks(idat(png))
            print(f"{name}: {blocks} blocks, {header:,} bits of Huffman headers, {total:,} bits in all ({time.perf_counter() - t:.1f} s to read)")


def speed(n, reps):
    cases = {
        "Pillow, compress_level 6": ["pillow", "6"],
        "Pillow, compress_level 9": ["pillow", "9"],
        "pngstream, default": ["pngstream", "default"],
        "pngstream, best": ["pngstream", "best"],
        "pngstream, best, filter paeth": ["pngstream", "best", "--filter", "paeth"],
    }
    secs = {k: [] for k in cases}
    size = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(reps):
            for k, (enc, *rest) in cases.items():
                cmd = [sys.executable, str(HERE / "numpy_gradient.py"), enc, str(n), str(n), *rest]
                out = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=True).stdout
                m = re.search(r"time ([\d.]+) s, [\d.]+ MP/s, size (\d+)", out)
                secs[k].append(float(m.group(1)))
                size[k] = int(m.group(2))
    ref = size["Pillow, compress_level 6"]
    print(f"\n## Speed, {n}x{n}, {reps} alternating runs\n")
    print("| encoder | bytes | vs Pillow 6 | encoding, best / median |")
    print("|---|---:|---:|---:|")
    for k, v in secs.items():
        print(f"| {k} | {size[k]:,} | {size[k] / ref - 1:+.1%} | {min(v):.3f} / {statistics.median(v):.3f} s |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=4000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--deflate-stats", action=argparse.BooleanOptionalAction)
    a = ap.parse_args()
    sizes(a.size, a.deflate_stats if a.deflate_stats is not None else a.size <= 4000)
    if a.reps:
        speed(a.size, a.reps)


if __name__ == "__main__":
    main()
