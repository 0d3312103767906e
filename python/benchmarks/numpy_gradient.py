"""The article's gradient from numpy, with pngstream row by row or with a
whole-image encoder:

    python numpy_gradient.py pngstream|pillow|imageio WIDTH HEIGHT [LEVEL]
                             [--threads N] [--rows-per-call R] [--filter F]

pngstream streams rows as examples/smooth_gradient_numpy.py does (LEVEL:
stored, fastest, fast, default, best; default `default`), one write_row per
row; with --rows-per-call R, numpy computes R rows at a time into one
(R, WIDTH, 3) array handed to write_rows. --threads N and --filter F are
StreamingWriter's threads= and filter=. Pillow and imageio
are given the whole image as one array (LEVEL: Pillow's compress_level 0-9,
default 6; imageio writes PNG through Pillow, at its default). Prints the encoding
time (from the first pixel to the closed file, as the Rust gradient example
measures), megapixels per second and the file's size.
"""

import argparse
import os
import time

import numpy as np


def columns(width):
    x = np.arange(width) / width
    return (x * 255).astype(np.uint8), ((1 - x) * 255).astype(np.uint8)


def whole_image(width, height):
    r, b = columns(width)
    g = (np.arange(height) / height * 255).astype(np.uint8)
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:, :, 0] = r
    img[:, :, 1] = g[:, None]
    img[:, :, 2] = b
    return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("encoder")
    ap.add_argument("width", type=int)
    ap.add_argument("height", type=int)
    ap.add_argument("level", nargs="?")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--rows-per-call", type=int, default=1)
    ap.add_argument("--filter")
    a = ap.parse_args()
    encoder, width, height, level = a.encoder, a.width, a.height, a.level
    out = f"gradient_{encoder}.png"
    # Imports first: only the encoding is timed.
    if encoder == "pngstream":
        from pngstream import StreamingWriter
    elif encoder == "pillow":
        from PIL import Image
    elif encoder == "imageio":
        import imageio.v3 as iio
    else:
        raise SystemExit(f"unknown encoder {encoder!r}")
    start = time.perf_counter()
    if encoder == "pngstream":
        r, b = columns(width)
        kw = {"compression": level or "default", "threads": a.threads, "filter": a.filter}
        if a.rows_per_call == 1:
            row = np.empty((width, 3), dtype=np.uint8)
            row[:, 0], row[:, 2] = r, b
            with StreamingWriter(out, width, height, **kw) as sw:
                for y in range(height):
                    row[:, 1] = int(y / height * 255)
                    sw.write_row(row)
        else:
            n = a.rows_per_call
            block = np.empty((n, width, 3), dtype=np.uint8)
            block[:, :, 0], block[:, :, 2] = r, b
            with StreamingWriter(out, width, height, **kw) as sw:
                for y0 in range(0, height, n):
                    k = min(n, height - y0)
                    # int(y / height * 255) for y0 <= y < y0 + k, as above
                    g = (np.arange(y0, y0 + k) / height * 255).astype(np.uint8)
                    block[:k, :, 1] = g[:, None]
                    sw.write_rows(block[:k])
    elif encoder == "pillow":
        Image.fromarray(whole_image(width, height)).save(out, compress_level=int(level or 6))
    else:
        iio.imwrite(out, whole_image(width, height))
    secs = time.perf_counter() - start
    print(f"{encoder}: time {secs:.3f} s, {width * height / secs / 1e6:.1f} MP/s, size {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
