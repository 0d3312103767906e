"""Memory stays flat however many rows go through, and the GIL is released
while a row is filtered and compressed."""

import threading
import time
import tracemalloc

import numpy as np

import pngstream
from conftest import rss_kib


class Discard:
    """A file object that counts bytes and keeps none."""

    def __init__(self):
        self.n = 0

    def write(self, b):
        self.n += len(b)


def test_16000_wide_numpy_image_streams_in_flat_memory(tmp_path):
    w, h = 16000, 1200  # 57.6 MB of RGB rows
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (w, 3), dtype=np.uint8)
    x = np.arange(w) / w
    row = np.empty((w, 3), dtype=np.uint8)
    for target in (tmp_path / "wide.png", Discard()):
        tracemalloc.start()
        with pngstream.StreamingWriter(target, w, h) as sw:
            for y in range(h):
                # Gradient rows, with bands of noise that keep the compressor busy.
                row[:, 0] = (x * 255).astype(np.uint8)
                row[:, 1] = y * 255 // h
                row[:, 2] = noise[:, 2] if y % 200 < 20 else 7
                sw.write_row(row)
                if y == 100:
                    base = rss_kib()
                    peak = base
                elif y > 100 and y % 10 == 0:
                    peak = max(peak, rss_kib())
        py_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        growth = peak - base
        # 1100 rows (52.8 MB) after the base: the encoder holds a few rows
        # and one IDAT chunk, whatever the height.
        assert growth < 4096, f"resident set grew by {growth} KiB over 1100 rows of 48 KB"
        assert py_peak < 1 << 20, f"Python allocations peaked at {py_peak} bytes"


def test_gil_is_released_while_a_row_compresses():
    # One 1.2 MB row of noise at the best level takes a tenth of a second
    # or more; a Python thread counting meanwhile must go on counting.
    w = 400_000
    row = np.random.default_rng(1).integers(0, 256, (w, 3), dtype=np.uint8)
    sw = pngstream.StreamingWriter(Discard(), w, 2, compression="best")
    count = 0
    stop = False

    def spin():
        nonlocal count
        while not stop:
            count += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        c0 = count
        time.sleep(0.1)  # sleeping releases the GIL: the counter's own pace
        alone = (count - c0) / 0.1
        c1, t1 = count, time.perf_counter()
        sw.write_row(row)
        c2, t2 = count, time.perf_counter()
    finally:
        stop = True
        t.join()
    during = (c2 - c1) / (t2 - t1)
    # Holding the GIL would stop the counter for the whole call (ratio ~0).
    assert during > 0.1 * alone, f"counter ran at {during:.0f}/s during write_row, {alone:.0f}/s alone"
