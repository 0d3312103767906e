"""Paths and file objects, the context manager, write_rows and encode."""

import io
import os
import pathlib

import numpy as np
import pytest
from PIL import Image

import pngstream
from conftest import chunks, decode, has_iend

IMG = (np.arange(20 * 7 * 3).reshape(7, 20, 3) * 5 % 256).astype(np.uint8)


def check(data):
    assert has_iend(data)
    assert (np.asarray(Image.open(io.BytesIO(data))) == IMG).all()


class StrPath:
    """An os.PathLike that is neither str nor pathlib."""

    def __init__(self, p):
        self.p = str(p)

    def __fspath__(self):
        return self.p


@pytest.mark.parametrize("kind", [str, pathlib.Path, StrPath])
def test_paths(tmp_path, kind):
    path = tmp_path / "out.png"
    with pngstream.StreamingWriter(kind(path), 20, 7) as sw:
        sw.write_rows(IMG)
    check(path.read_bytes())


def test_path_is_truncated(tmp_path):
    path = tmp_path / "out.png"
    path.write_bytes(b"x" * 100_000)
    with pngstream.StreamingWriter(path, 20, 7) as sw:
        sw.write_rows(IMG)
    check(path.read_bytes())


@pytest.mark.parametrize("buffering", [-1, 0])
def test_real_files(tmp_path, buffering):
    path = tmp_path / "out.png"
    with open(path, "wb", buffering=buffering) as f:
        with pngstream.StreamingWriter(f, 20, 7) as sw:
            sw.write_rows(IMG)
        assert not f.closed  # the caller's file stays open
        f.write(b"")
    check(path.read_bytes())


def test_bytesio_and_write_only_objects():
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 20, 7) as sw:
        sw.write_rows(IMG)
    check(out.getvalue())

    class Collect:  # only .write, returning nothing
        def __init__(self):
            self.parts = []

        def write(self, b):
            self.parts.append(bytes(b))

    c = Collect()
    with pngstream.StreamingWriter(c, 20, 7) as sw:
        sw.write_rows(IMG)
    check(b"".join(c.parts))


def test_short_writes_are_continued():
    class Trickle:
        """A raw file that takes at most 1000 bytes per write."""

        def __init__(self):
            self.data = bytearray()
            self.flushed = False

        def write(self, b):
            n = min(len(b), 1000)
            self.data += bytes(b[:n])
            return n

        def flush(self):
            self.flushed = True

    t = Trickle()
    img = np.random.default_rng(1).integers(0, 256, (300, 300, 3), dtype=np.uint8)
    with pngstream.StreamingWriter(t, 300, 300) as sw:
        sw.write_rows(img)
    assert t.flushed
    assert (np.asarray(Image.open(io.BytesIO(bytes(t.data)))) == img).all()


@pytest.mark.parametrize("target", ["path", "file"])
def test_exception_in_with_leaves_no_iend(tmp_path, target):
    path = tmp_path / "out.png"
    with open(path, "wb") as f:
        with pytest.raises(ZeroDivisionError):
            with pngstream.StreamingWriter(path if target == "path" else f, 20, 7) as sw:
                for y, row in enumerate(IMG):
                    if y == 5:
                        1 / 0
                    sw.write_row(row)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG") and not has_iend(data) and b"IEND" not in data
    assert sw.closed and sw.rows_written == 5


def test_exception_in_with_after_every_row_leaves_no_iend():
    out = io.BytesIO()
    with pytest.raises(RuntimeError):
        with pngstream.StreamingWriter(out, 20, 7) as sw:
            sw.write_rows(IMG)
            raise RuntimeError("after the last row")
    assert b"IEND" not in out.getvalue()


def test_finish_and_close_without_with(tmp_path):
    path = tmp_path / "a.png"
    sw = pngstream.StreamingWriter(path, 20, 7)
    sw.write_rows(IMG)
    assert sw.rows_written == 7
    sw.close()
    sw.close()
    check(path.read_bytes())


def test_write_rows_forms():
    forms = [
        IMG,  # a 3-D array
        list(IMG),  # a list of 2-D rows
        (row.reshape(-1) for row in IMG),  # a generator of 1-D rows
        IMG.tobytes(),  # packed rows back to back
        bytearray(IMG.tobytes()),
        memoryview(IMG.tobytes()),
        [[tuple(int(v) for v in px) for px in row] for row in IMG],  # the article's rows
    ]
    for rows in forms:
        out = io.BytesIO()
        with pngstream.StreamingWriter(out, 20, 7) as sw:
            sw.write_rows(rows)
        check(out.getvalue())


def test_typed_memoryview_is_an_array():
    img16 = IMG.astype(np.uint16) * 257
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 20, 7, bit_depth=16) as sw:
        for row in img16:
            sw.write_row(memoryview(row))
    assert (decode(out.getvalue())[4] == img16).all()


def test_encode_arrays():
    check(pngstream.encode(IMG))
    grey = IMG[:, :, 0]
    assert (np.asarray(Image.open(io.BytesIO(pngstream.encode(grey)))) == grey).all()
    rgba16 = np.concatenate([IMG, IMG[:, :, :1]], axis=2).astype(">u2") * 250
    w, h, depth, color, samples = decode(pngstream.encode(rgba16, compression="best"))
    assert (w, h, depth, color) == (20, 7, 16, 6) and (samples == rgba16).all()
    bits = IMG[:, :, 0] > 100
    assert (np.asarray(Image.open(io.BytesIO(pngstream.encode(bits)))) == bits).all()
    idx = (IMG[:, :, 0] % 4).astype(np.uint8)
    png = pngstream.encode(idx, mode="P", bit_depth=2, palette=[(0, 0, 0), (9, 9, 9), (80, 80, 80), (255, 0, 0)])
    assert (np.asarray(Image.open(io.BytesIO(png))) == idx).all()


def test_encode_bytes_and_lists():
    check(pngstream.encode(IMG.tobytes(), 20, 7))
    check(pngstream.encode(bytearray(IMG.tobytes()), 20, 7, mode="RGB", text={"Title": "t"}))
    rows = [[tuple(int(v) for v in px) for px in row] for row in IMG]
    check(pngstream.encode(rows))
    check(pngstream.encode([row.reshape(-1).tolist() for row in IMG], 20))


def test_encode_errors():
    with pytest.raises(pngstream.PngStreamError, match="image data of 419 bytes given, expected 420"):
        pngstream.encode(IMG.tobytes()[:-1], 20, 7)
    with pytest.raises(pngstream.PngStreamError, match="needs width= and height="):
        pngstream.encode(IMG.tobytes())
    with pytest.raises(pngstream.PngStreamError, match="width=21 was given, but the array's width is 20"):
        pngstream.encode(IMG, 21)
    with pytest.raises(pngstream.PngStreamError, match="5 channels"):
        pngstream.encode(np.zeros((2, 2, 5), np.uint8))
    with pytest.raises(pngstream.PngStreamError, match="dtype float32"):
        pngstream.encode(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(pngstream.PngStreamError, match="finished after 1 of 2 rows"):
        pngstream.encode([[(1, 2, 3)]], 1, 2)


def test_stubs_and_marker_are_installed():
    import importlib.resources

    files = importlib.resources.files("pngstream")
    assert files.joinpath("py.typed").is_file()
    stub = files.joinpath("__init__.pyi").read_text()
    assert "class StreamingWriter" in stub and "def encode" in stub


def test_docstrings():
    assert "row by row" in pngstream.StreamingWriter.__doc__
    assert "bpp=24" in pngstream.StreamingWriter.__text_signature__
    for name in ("write_row", "write_rows", "finish", "close"):
        assert getattr(pngstream.StreamingWriter, name).__doc__
    assert "whole image" in pngstream.encode.__doc__
