"""threads=: the calling thread and the library's worker threads behind
the same calls. Every n from 2 up writes the same file, which decodes
exactly; None, 0 and 1 encode on the calling thread; bad values raise. The
GIL stays released while rows are filtered and compressed."""

import gc
import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

import pngstream
from conftest import decode, has_iend

# 400 rows of 3001 filtered bytes: 1.2 MB, three 512 KiB segments' worth,
# cut into four of 100 rows (an even number).
W, H = 1000, 400


def image():
    rng = np.random.default_rng(7)
    img = np.empty((H, W, 3), dtype=np.uint8)
    img[:, :, 0] = (np.arange(W) * 255 // W).astype(np.uint8)
    img[:, :, 1] = (np.arange(H) * 255 // H).astype(np.uint8)[:, None]
    img[:, :, 2] = rng.integers(0, 256, (H, W), dtype=np.uint8) // 32 * 32  # noise the compressor works on
    return img


IMG = image()


def encode_rows(threads, compression="default", by="row", target=None):
    out = io.BytesIO() if target is None else target
    with pngstream.StreamingWriter(out, W, H, compression=compression, threads=threads) as sw:
        used = sw.threads
        if by == "row":
            for row in IMG:
                sw.write_row(row)
        else:
            sw.write_rows(IMG)
    return (out.getvalue() if target is None else None), used


@pytest.mark.parametrize("compression", ["default", "best"])
def test_two_threads_decode_exactly_and_match_three(compression):
    two, used2 = encode_rows(2, compression)
    three, used3 = encode_rows(3, compression)
    assert (used2, used3) == (2, 3)
    assert two == three
    assert has_iend(two)
    assert (np.asarray(Image.open(io.BytesIO(two))) == IMG).all()
    assert (decode(two)[4] == IMG).all()
    # More threads than segments: no more workers than segments, same file.
    eight, used8 = encode_rows(8, compression)
    assert used8 == 4 and eight == two
    # Blocks of rows through write_rows, and encode, give the same file.
    assert encode_rows(2, compression, by="rows")[0] == two
    assert pngstream.encode(IMG, compression=compression, threads=3) == two


def test_threads_to_a_path_and_a_file_object(tmp_path):
    ref, _ = encode_rows(2)
    path = tmp_path / "t.png"
    encode_rows(2, target=path)
    assert path.read_bytes() == ref
    with open(tmp_path / "f.png", "wb") as f:
        encode_rows(2, target=f)
    assert (tmp_path / "f.png").read_bytes() == ref


@pytest.mark.parametrize("threads", [None, 0, 1, np.int64(1)])
def test_none_zero_and_one_encode_on_the_calling_thread(threads):
    single, used = encode_rows(None)
    assert used == 1
    data, used = encode_rows(threads)
    assert used == 1 and data == single
    assert pngstream.encode(IMG, threads=threads) == single


def test_threads_cost_little_and_other_levels_stay_on_one_thread():
    single, _ = encode_rows(1)
    two, _ = encode_rows(np.int64(2))
    assert two != single and len(two) < 1.01 * len(single)
    for level in ("stored", "fastest", "fast"):
        data, used = encode_rows(2, level)
        assert used == 1 and data == encode_rows(1, level)[0]
    # An image of less than half a segment stays on the calling thread.
    with pngstream.StreamingWriter(io.BytesIO(), 100, 100, threads=2) as sw:
        assert sw.threads == 1
        sw.write_rows(np.zeros((100, 100, 3), np.uint8))


@pytest.mark.parametrize("bad", [2.0, "2", True, [2], b"2"])
def test_threads_of_the_wrong_type_raise_type_error(bad):
    with pytest.raises(TypeError, match="threads must be an int or None"):
        pngstream.StreamingWriter(io.BytesIO(), 4, 2, threads=bad)
    with pytest.raises(TypeError, match="threads must be an int or None"):
        pngstream.encode(np.zeros((2, 4, 3), np.uint8), threads=bad)


@pytest.mark.parametrize("bad", [-1, -8, np.int64(-2)])
def test_negative_threads_raise_value_error(bad):
    with pytest.raises(pngstream.PngStreamError, match=f"threads={int(bad)} is invalid: expected 0 or more"):
        pngstream.StreamingWriter(io.BytesIO(), 4, 2, threads=bad)
    with pytest.raises(ValueError, match="is invalid"):
        pngstream.encode(np.zeros((2, 4, 3), np.uint8), threads=bad)


def test_exception_in_with_stops_the_threads_and_writes_no_iend(tmp_path):
    path = tmp_path / "x.png"
    with pytest.raises(KeyError):
        with pngstream.StreamingWriter(path, W, H, compression="best", threads=2) as sw:
            sw.write_rows(IMG[: H - 10])
            raise KeyError("stop")
    assert sw.closed and not has_iend(path.read_bytes())
    # An unfinished writer dropped while its threads work: they are joined.
    before = os_threads()
    sw = pngstream.StreamingWriter(io.BytesIO(), W, H, compression="best", threads=2)
    sw.write_rows(IMG[: H // 2])
    assert os_threads() > before
    del sw
    gc.collect()
    assert os_threads() == before


def os_threads():
    """Threads of the process (the library's workers are not Python threads)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")


class FailsLater:
    def __init__(self):
        self.calls = 0

    def write(self, data):
        self.calls += 1
        if self.calls > 1:
            raise OSError("broken pipe")
        return len(data)


def test_sink_error_with_threads():
    # 2000 rows of noise: 12 segments, of which at most 3 are out at once,
    # so the writer hands compressed data to the file before the last row.
    h = 2000
    noise = np.random.default_rng(9).integers(0, 256, (h, W, 3), dtype=np.uint8)
    sink = FailsLater()
    sw = pngstream.StreamingWriter(sink, W, h, threads=2)
    with pytest.raises(OSError, match="broken pipe"):
        for row in noise:
            sw.write_row(row)
    assert sink.calls == 2 and 0 < sw.rows_written < h
    with pytest.raises(OSError, match="earlier sink error"):
        sw.write_row(noise[0])


def test_gil_is_released_while_threads_encode():
    # 8 MB of noise at the best level on 2 threads takes a good part of a
    # second; a Python thread counting meanwhile must go on counting.
    rng = np.random.default_rng(3)
    w, h = 2000, 1400
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    sw = pngstream.StreamingWriter(io.BytesIO(), w, h, compression="best", threads=2)
    assert sw.threads == 2
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
        sw.write_rows(img)
        sw.finish()
        c2, t2 = count, time.perf_counter()
    finally:
        stop = True
        t.join()
    during = (c2 - c1) / (t2 - t1)
    # Holding the GIL would stop the counter for the whole call (ratio ~0).
    assert during > 0.1 * alone, f"counter ran at {during:.0f}/s during write_rows, {alone:.0f}/s alone"


def test_threads_documented():
    assert "worker threads" in pngstream.StreamingWriter.__doc__
    assert "threads=None" in pngstream.StreamingWriter.__text_signature__
    assert "threads=None" in pngstream.encode.__text_signature__
    assert "the calling thread among them" in pngstream.StreamingWriter.threads.__doc__
