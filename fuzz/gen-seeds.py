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

TARGETS = [
    "encode_roundtrip",
    "deflate_roundtrip",
    "checksums",
    "api_misuse",
    "metadata_io",
    "large_structured",
]
SIZES = [8, 24, 64, 128, 256, 512, 1024]

here = os.path.dirname(os.path.abspath(__file__))
for t in TARGETS:
    d = os.path.join(here, "corpus", t)
    os.makedirs(d, exist_ok=True)
    rng = random.Random("pngstream-" + t)
    seeds = {"seed-empty": b"", "seed-zeros": bytes(64), "seed-ones": b"\xff" * 64}
    for n in SIZES:
        seeds[f"seed-random-{n}"] = bytes(rng.randrange(256) for _ in range(n))
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
