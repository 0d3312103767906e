"""Every bad input raises, with a clear message, and writes nothing: the
writer stays as it was and a corrected call may follow."""

import io

import numpy as np
import pytest

import pngstream
from pngstream import PngStreamError
from conftest import has_iend


def writer(w=4, h=2, **kw):
    out = io.BytesIO()
    return out, pngstream.StreamingWriter(out, w, h, **kw)


def test_error_is_a_value_error():
    assert issubclass(PngStreamError, ValueError)


@pytest.mark.parametrize(
    "row,message",
    [
        (b"\x00" * 11, "row 0 has 11 bytes, expected 12"),
        (bytearray(13), "row 0 has 13 bytes, expected 12"),
        (memoryview(b"\x00" * 3), "row 0 has 3 bytes, expected 12"),
        ([(1, 2, 3)] * 3, "row 0 has 3 items, expected 4"),
        ([1, 2, 3] * 3, "row 0 has 9 items, expected 12"),
        ([(1, 2)] * 4, "row 0: pixel 0 has 2 samples, expected 3 (RGB)"),
        ([(1, 2, 3)] * 3 + [(1, 2, 3, 4)], "row 0: pixel 3 has 4 samples, expected 3"),
        ([(1, 2, 256)] * 4, "row 0: pixel 0 has sample 256, out of range for bit depth 8: expected 0 to 255"),
        ([(1, 2, -1)] * 4, "row 0: pixel 0 has sample -1, out of range"),
        ([(1, 2, 2**80)] * 4, "out of range for bit depth 8"),
        (np.zeros((3, 3), np.uint8), "row 0 has shape (3, 3), expected (4, 3) or (12,)"),
        (np.zeros((4, 4), np.uint8), "row 0 has shape (4, 4), expected (4, 3) or (12,)"),
        (np.zeros(11, np.uint8), "row 0 has shape (11,), expected (4, 3) or (12,)"),
        (np.zeros((1, 4, 3), np.uint8), "row 0 has shape (1, 4, 3)"),
    ],
)
def test_wrong_row(row, message):
    out, sw = writer()
    before = out.getvalue()
    with pytest.raises(PngStreamError) as e:
        sw.write_row(row)
    assert message in str(e.value)
    assert sw.rows_written == 0 and out.getvalue() == before
    sw.write_rows([[(1, 2, 3)] * 4] * 2)  # corrected rows are taken
    sw.finish()
    assert has_iend(out.getvalue())


@pytest.mark.parametrize(
    "dtype,kw,message",
    [
        (np.float64, {}, "row 0 has dtype float64, but the image is RGB at bit depth 8: expected uint8"),
        (np.int32, {}, "dtype int32"),
        (np.int16, {}, "dtype int16"),
        (np.int8, {}, "dtype int8"),
        (np.uint16, {}, "dtype uint16, but the image is RGB at bit depth 8: expected uint8 (or create the writer with bit_depth=16)"),
        (np.uint8, {"bit_depth": 16}, "dtype uint8, but the image is RGB at bit depth 16: expected uint16"),
        (np.uint32, {"bit_depth": 16}, "dtype uint32"),
        (bool, {}, "dtype bool"),
    ],
)
def test_wrong_dtype(dtype, kw, message):
    _, sw = writer(**kw)
    with pytest.raises(PngStreamError, match="dtype") as e:
        sw.write_row(np.zeros((4, 3), dtype=dtype))
    assert message in str(e.value)
    assert sw.rows_written == 0


def test_wrong_python_types():
    _, sw = writer()
    with pytest.raises(TypeError, match="not str"):
        sw.write_row("abc")
    with pytest.raises(TypeError, match="not int"):
        sw.write_row(5)
    with pytest.raises(TypeError, match="pixel 0 has a sample of type float, expected int"):
        sw.write_row([(1.5, 2, 3)] * 4)
    with pytest.raises(TypeError, match="pixel 1 is str"):
        sw.write_row([(1, 2, 3), "abc", (1, 2, 3), (1, 2, 3)])
    assert sw.rows_written == 0


def test_too_many_rows():
    out, sw = writer(h=1)
    sw.write_row(bytes(12))
    with pytest.raises(PngStreamError, match="a row was given after the last one: the image has 1 row, already written"):
        sw.write_row(bytes(12))
    with pytest.raises(PngStreamError, match="the image has 0 rows left"):
        sw.write_rows(bytes(12))
    sw.finish()
    assert has_iend(out.getvalue())


def test_write_rows_bytes_must_be_whole_rows():
    _, sw = writer()
    with pytest.raises(PngStreamError, match="write_rows was given 13 bytes, not a whole number of rows of 12 bytes"):
        sw.write_rows(bytes(13))
    sw.write_rows(bytes(24))
    assert sw.rows_written == 2


def test_too_few_rows():
    out, sw = writer(h=3)
    sw.write_row(bytes(12))
    with pytest.raises(PngStreamError, match="finished after 1 of 3 rows"):
        sw.finish()
    assert sw.closed and not has_iend(out.getvalue())


def test_too_few_rows_in_with_block():
    out = io.BytesIO()
    with pytest.raises(PngStreamError, match="finished after 1 of 2 rows"):
        with pngstream.StreamingWriter(out, 4, 2) as sw:
            sw.write_row(bytes(12))
    assert not has_iend(out.getvalue())


def test_closed_writer():
    out, sw = writer(h=1)
    sw.write_row(bytes(12))
    sw.finish()
    assert sw.closed
    for call in (lambda: sw.write_row(bytes(12)), lambda: sw.write_rows([bytes(12)]), sw.finish):
        with pytest.raises(PngStreamError, match="the writer is closed"):
            call()
    sw.close()  # closing a closed writer does nothing
    assert has_iend(out.getvalue())


def test_closed_after_exception_in_with():
    out = io.BytesIO()
    with pytest.raises(KeyError):
        with pngstream.StreamingWriter(out, 4, 1) as sw:
            raise KeyError("stop")
    with pytest.raises(PngStreamError, match="the writer is closed.*no IEND"):
        sw.write_row(bytes(12))


@pytest.mark.parametrize(
    "kw,message",
    [
        ({"bpp": 12}, "bpp 12 is invalid: expected 8 (grey), 16 (grey+alpha), 24 (RGB) or 32 (RGBA)"),
        ({"mode": "CMYK"}, "mode 'CMYK' is not supported"),
        ({"mode": "RGB", "bpp": 32}, "bpp=32 does not fit mode 'RGB'"),
        ({"mode": "1", "bit_depth": 8}, "mode '1' has bit depth 1, but bit_depth=8 was given"),
        ({"bit_depth": 3}, "bit_depth 3 is invalid"),
        ({"bit_depth": 4}, "RGB images cannot have bit depth 4: expected 8 or 16"),
        ({"mode": "P"}, "indexed images need a palette"),
        ({"mode": "P", "palette": bytes(4)}, "palette of 4 bytes is invalid"),
        ({"mode": "L", "palette": bytes(3)}, "greyscale images cannot have a palette"),
        ({"mode": "RGBA", "transparency": (1, 2, 3)}, "cannot have a tRNS chunk"),
        ({"mode": "L", "bit_depth": 4, "transparency": 16}, "transparency (tRNS) grey sample 16 is out of range for bit depth 4"),
        ({"compression": "smallest"}, "compression 'smallest' is invalid"),
        ({"compression": 10}, "compression level 10 is invalid"),
        ({"filter": "median"}, "filter 'median' is invalid"),
        ({"threads": -1}, "threads=-1 is invalid: expected 0 or more"),
        ({"threads": 2**70}, "is invalid: too large"),
        ({"text": {" Title": "x"}}, "keyword"),
    ],
)
def test_bad_options(kw, message):
    with pytest.raises(PngStreamError) as e:
        pngstream.StreamingWriter(io.BytesIO(), 4, 2, **kw)
    assert message in str(e.value)


@pytest.mark.parametrize("w,h", [(0, 1), (1, 0), (-1, 5), (2**31, 1)])
def test_bad_dimensions(w, h):
    with pytest.raises(PngStreamError, match="width and height must be 1 to 2147483647"):
        pngstream.StreamingWriter(io.BytesIO(), w, h)


def test_bad_options_touch_no_file(tmp_path):
    path = tmp_path / "x.png"
    with pytest.raises(PngStreamError):
        pngstream.StreamingWriter(path, 4, 2, mode="P")
    assert not path.exists()


def test_palette_index_beyond_palette():
    out, sw = writer(w=3, h=1, mode="P", palette=[(0, 0, 0), (255, 255, 255)])
    with pytest.raises(PngStreamError, match="pixel 2 of row 0 has palette index 2, but the palette has only 2 entries"):
        sw.write_row([0, 1, 2])
    sw.write_row([0, 1, 1])
    sw.finish()


def test_sub_byte_sample_out_of_range():
    _, sw = writer(w=3, h=1, mode="L", bit_depth=2)
    with pytest.raises(PngStreamError, match="pixel 1 has sample 4, out of range for bit depth 2: expected 0 to 3"):
        sw.write_row(np.array([0, 4, 1], np.uint8))
    with pytest.raises(PngStreamError, match="pixel 2 has sample 9, out of range"):
        sw.write_row([0, 1, 9])


class FailingFile:
    def __init__(self, exc):
        self.exc = exc

    def write(self, data):
        raise self.exc


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), RuntimeError("disk gone")])
def test_sink_errors_are_os_errors(exc):
    sw = pngstream.StreamingWriter(FailingFile(exc), 4, 2)
    sw.write_rows(bytes(24))
    with pytest.raises(OSError) as e:
        sw.finish()  # small images reach the file object at the end
    if isinstance(exc, OSError):
        assert e.value is exc
    else:
        assert "the sink failed: RuntimeError: disk gone" in str(e.value)
        assert e.value.__cause__ is exc


def test_sink_error_poisons_the_writer():
    class FailsLater:
        def __init__(self):
            self.calls = 0

        def write(self, data):
            self.calls += 1
            if self.calls > 1:
                raise OSError("broken pipe")
            return len(data)

    sink = FailsLater()
    sw = pngstream.StreamingWriter(sink, 1000, 1000, compression="stored")
    with pytest.raises(OSError, match="broken pipe"):
        for _ in range(1000):
            sw.write_row(bytes(3000))
    assert sink.calls == 2 and 0 < sw.rows_written < 1000
    with pytest.raises(OSError, match="earlier sink error"):
        sw.write_row(bytes(3000))


def test_path_errors_are_os_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot create"):
        pngstream.StreamingWriter(tmp_path / "missing" / "x.png", 4, 2)
    with pytest.raises(TypeError, match="path_or_file"):
        pngstream.StreamingWriter(42, 4, 2)
