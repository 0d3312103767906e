#!/usr/bin/env python3
"""Writes the small committed seed corpus: fuzz/corpus/<target>/seed-*.

The targets decode their input with `arbitrary`, so any bytes are a valid
input; these are deterministic pseudo-random byte strings of a few sizes plus
all-zero and all-0xFF ones (which pick the first and last variants of every
choice). libFuzzer grows real coverage from there in seconds. Re-running this
script gives the same files.
"""
import os
import random
import struct

TARGETS = [
    "encode_roundtrip",
    "deflate_roundtrip",
    "checksums",
    "api_misuse",
    "metadata_io",
    "large_structured",
]
SIZES = [8, 24, 64, 128, 256, 512, 1024]


def banded_handover(limit=0):
    """A recipe for the image that once broke the default level: 1500 px
    RGB8 rows, adaptive filter, bands of 64 rows that alternate between a
    repeated 4-row block and a noisy ramp. It reaches a block flushed by a
    window slide that hands the lazy parser over to run-length segments.
    With `limit`, the same under a memory limit (see the target)."""
    b = struct.pack("<H", 1499) + bytes([0, 5, 0, 5, 0, limit])  # width, wide, RGB8, Default, Adaptive, IDAT, limit
    b += struct.pack("<I", 0) + struct.pack("<Q", 1)  # whole rows, seed
    band = lambda kind, param: bytes([1, kind, 10]) + struct.pack("<HI", 25856, param)
    noisy = 4 | (21 << 9)  # slopes 4/64 per sample and 21/64 per row, noise of 1
    return b + b"".join(band(2, 3) + band(1, noisy) for _ in range(5))


here = os.path.dirname(os.path.abspath(__file__))
for t in TARGETS:
    d = os.path.join(here, "corpus", t)
    os.makedirs(d, exist_ok=True)
    rng = random.Random("pngstream-" + t)
    seeds = {"seed-empty": b"", "seed-zeros": bytes(64), "seed-ones": b"\xff" * 64}
    for n in SIZES:
        seeds[f"seed-random-{n}"] = bytes(rng.randrange(256) for _ in range(n))
    if t == "large_structured":
        seeds["seed-banded-handover"] = banded_handover()
        # 32 KiB: 1 << (12 + 21 % 9) + 37 * (21 // 9) = 32842 bytes.
        seeds["seed-banded-limited"] = banded_handover(limit=21)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
