"""write_rows of an array copies blocks of rows (about 256 KiB each) and
writes each with one release of the GIL: the same file as write_row row by
row, for every item type and layout, and the same errors at the same rows."""

import io

import numpy as np
import pytest

import pngstream
from pngstream import PngStreamError
from conftest import decode, has_iend

rng = np.random.default_rng(5)


def by_rows(img, w, h, **kw):
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, w, h, **kw) as sw:
        for row in img:
            sw.write_row(row)
    return out.getvalue()


def by_block(img, w, h, **kw):
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, w, h, **kw) as sw:
        sw.write_rows(img)
        assert sw.rows_written == h
    return out.getvalue()


# (shape of the array, writer's keywords, dtype); 300 rows of 3000 bytes
# and more: several blocks and a partial one.
CASES = [
    ((300, 1000, 3), {}, np.uint8),
    ((300, 3000), {}, np.uint8),
    ((300, 1000), {"mode": "L"}, np.uint8),
    ((250, 700, 4), {"bit_depth": 16, "bpp": 32}, "<u2"),
    ((250, 700, 4), {"bit_depth": 16, "bpp": 32}, ">u2"),
    ((300, 2001), {"mode": "L", "bit_depth": 2}, np.uint8),
    ((300, 4001), {"mode": "1"}, bool),
]


@pytest.mark.parametrize("shape,kw,dtype", CASES, ids=[f"{c[0]}-{c[2]}-{c[1]}" for c in CASES])
def test_blocks_match_rows(shape, kw, dtype):
    top = 4 if kw.get("bit_depth") == 2 else 2 if dtype is bool else 65536 if kw.get("bit_depth") == 16 else 256
    img = rng.integers(0, top, shape).astype(dtype)
    h, w = shape[0], shape[1] if len(shape) == 3 or kw.get("mode") else shape[1] // 3
    a = by_rows(img, w, h, **kw)
    b = by_block(img, w, h, **kw)
    assert a == b and has_iend(b)
    samples = decode(b)[4]
    assert (samples.reshape(img.shape) == img.astype(np.uint16)).all()
    # Views: strided (every other column), Fortran-ordered, negative strides
    # (a flipped copy flipped back).
    flipped = np.flip(np.flip(img, (0, 1)).copy(), (0, 1))
    assert flipped.strides[0] < 0 and (flipped == img).all()
    for view in (np.repeat(img, 2, axis=1)[:, ::2], np.asfortranarray(img), flipped):
        assert by_block(view, w, h, **kw) == a
        assert by_rows(view, w, h, **kw) == a


def test_a_block_of_many_rows_of_a_small_image():
    img = rng.integers(0, 256, (5000, 3, 3), dtype=np.uint8)
    assert by_block(img, 3, 5000) == by_rows(img, 3, 5000)


def test_rows_wider_than_a_block():
    img = rng.integers(0, 256, (3, 100_000, 3), dtype=np.uint8)
    assert by_block(img, 100_000, 3) == by_rows(img, 100_000, 3)


def test_blocks_in_pieces_and_mixed_with_rows():
    img = rng.integers(0, 256, (300, 1000, 3), dtype=np.uint8)
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 1000, 300) as sw:
        sw.write_rows(img[:7])
        sw.write_row(img[7])
        sw.write_rows(img[8:8])  # no rows
        sw.write_rows(img[8:250])
        sw.write_rows(list(img[250:]))
    assert out.getvalue() == by_rows(img, 1000, 300)


def test_too_many_rows_in_an_array():
    img = rng.integers(0, 256, (300, 1000, 3), dtype=np.uint8)
    out = io.BytesIO()
    sw = pngstream.StreamingWriter(out, 1000, 200)
    with pytest.raises(PngStreamError, match="a row was given after the last one: the image has 200 rows, all written"):
        sw.write_rows(img)
    assert sw.rows_written == 200
    sw.finish()
    assert out.getvalue() == by_rows(img[:200], 1000, 200)


def test_wrong_dtype_or_shape_writes_nothing():
    out = io.BytesIO()
    sw = pngstream.StreamingWriter(out, 1000, 300)
    sw.write_rows(np.zeros((5, 1000, 3), np.uint8))
    with pytest.raises(PngStreamError, match="row 5 has dtype float64, but the image is RGB at bit depth 8: expected uint8"):
        sw.write_rows(np.zeros((300, 1000, 3)))
    with pytest.raises(PngStreamError, match=r"row 5 has shape \(1000, 4\), expected \(1000, 3\) or \(3000,\)"):
        sw.write_rows(np.zeros((300, 1000, 4), np.uint8))
    with pytest.raises(PngStreamError, match=r"row 5 has shape \(3, 1000, 3\)"):
        sw.write_rows(np.zeros((300, 3, 1000, 3), np.uint8))
    assert sw.rows_written == 5


def test_sample_out_of_range_writes_the_rows_before():
    img = rng.integers(0, 4, (300, 2001), dtype=np.uint8)
    img[123, 77] = 9
    out = io.BytesIO()
    sw = pngstream.StreamingWriter(out, 2001, 300, mode="L", bit_depth=2)
    with pytest.raises(PngStreamError, match="row 123: pixel 77 has sample 9, out of range for bit depth 2"):
        sw.write_rows(img)
    assert sw.rows_written == 123
    img[123, 77] = 1
    sw.write_rows(img[123:])
    sw.finish()
    assert out.getvalue() == by_rows(img, 2001, 300, mode="L", bit_depth=2)


def test_palette_index_beyond_palette_in_a_block():
    img = np.zeros((300, 1000), np.uint8)
    img[200, 3] = 2
    sw = pngstream.StreamingWriter(io.BytesIO(), 1000, 300, mode="P", palette=[(0, 0, 0), (9, 9, 9)])
    with pytest.raises(PngStreamError, match="pixel 3 of row 200 has palette index 2"):
        sw.write_rows(img)
    assert sw.rows_written == 200


def test_closed_writer_and_empty_arrays():
    sw = pngstream.StreamingWriter(io.BytesIO(), 4, 1)
    sw.write_rows(np.zeros((1, 4, 3), np.uint8))
    sw.finish()
    with pytest.raises(PngStreamError, match="the writer is closed"):
        sw.write_rows(np.zeros((1, 4, 3), np.uint8))
