"""Every mode and bit depth, written by pngstream, decoded exactly: by
Pillow, and sample for sample by the strict reader of conftest.py."""

import io
import sys

import numpy as np
import pytest
from PIL import Image

import pngstream
from conftest import decode

W, H = 37, 11  # odd sizes: partial bytes at the end of sub-byte rows
rng = np.random.default_rng(16)


def write(rows, **kw):
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, **kw) as sw:
        for row in rows:
            sw.write_row(row)
        assert sw.rows_written == H
    return out.getvalue()


def pillow(data):
    return Image.open(io.BytesIO(data))


CASES = [
    # (mode, bit_depth, channels, numpy dtype, Pillow's mode, Pillow's value of a sample)
    ("L", 8, 1, np.uint8, "L", lambda v: v),
    ("LA", 8, 2, np.uint8, "LA", lambda v: v),
    ("RGB", 8, 3, np.uint8, "RGB", lambda v: v),
    ("RGBA", 8, 4, np.uint8, "RGBA", lambda v: v),
    ("I;16", 16, 1, np.uint16, "I;16", lambda v: v),
    ("L", 16, 1, np.uint16, "I;16", lambda v: v),
    # Pillow opens 16-bit colour as 8-bit, keeping each sample's high byte.
    # (and grey+alpha as RGBA).
    ("LA", 16, 2, np.uint16, "RGBA", lambda v: (v >> 8)[:, :, [0, 0, 0, 1]]),
    ("RGB", 16, 3, np.uint16, "RGB", lambda v: v >> 8),
    ("RGBA", 16, 4, np.uint16, "RGBA", lambda v: v >> 8),
    # Pillow scales 2- and 4-bit grey to 0..255.
    ("L", 4, 1, np.uint8, "L", lambda v: v * 17),
    ("L", 2, 1, np.uint8, "L", lambda v: v * 85),
    ("1", 1, 1, np.uint8, "1", lambda v: v * 255),
]


def pillow_array(im):
    a = np.asarray(im)
    if im.mode == "1":
        a = a.astype(np.uint8) * 255
    return a.astype(np.uint32)


@pytest.mark.parametrize("mode,depth,ch,dtype,pmode,pval", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
@pytest.mark.parametrize("form", ["numpy2d", "numpy1d", "list", "bytes"])
def test_mode_depth_exact(mode, depth, ch, dtype, pmode, pval, form):
    img = rng.integers(0, 1 << depth, size=(H, W, ch), dtype=np.uint32)
    if form == "numpy2d":
        rows = [r.astype(dtype) if ch > 1 else r[:, 0].astype(dtype) for r in img]
    elif form == "numpy1d":
        rows = [r.reshape(-1).astype(dtype) for r in img]
    elif form == "list":
        rows = [[tuple(int(v) for v in px) if ch > 1 else int(px[0]) for px in r] for r in img]
    else:  # PNG's packed bytes
        rows = [pack(r, depth) for r in img]
    kw = {"mode": mode} if mode in ("1", "I;16") else {"mode": mode, "bit_depth": depth}
    data = write(rows, **kw)
    w, h, d, _, samples = decode(data)
    assert (w, h, d) == (W, H, depth)
    assert (samples == img).all()
    im = pillow(data)
    assert im.mode == pmode and im.size == (W, H)
    expected = pval(img.astype(np.uint32))
    got = pillow_array(im)
    if ch == 1:
        got = got.reshape(H, W, 1)
    assert (got == expected).all()


def pack(row, depth):
    """PNG's packed bytes of a row of samples."""
    flat = [int(v) for v in row.reshape(-1)]
    if depth == 16:
        return b"".join(v.to_bytes(2, "big") for v in flat)
    if depth == 8:
        return bytes(flat)
    per = 8 // depth
    out = bytearray((len(flat) + per - 1) // per)
    for i, v in enumerate(flat):
        out[i // per] |= v << (8 - depth * (i % per + 1))
    return bytes(out)


@pytest.mark.parametrize("order", ["<u2", ">u2", "=u2"])
def test_uint16_any_byte_order(order):
    img = rng.integers(0, 65536, size=(H, W, 3)).astype(order)
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, bit_depth=16) as sw:
        sw.write_rows(img)
    samples = decode(out.getvalue())[4]
    assert (samples == img.astype(np.uint16)).all()


def test_uint16_non_contiguous_rows():
    big = rng.integers(0, 65536, size=(H, 2 * W, 3), dtype=np.uint16)
    img = big[:, ::2]  # every other pixel: strided rows
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, bit_depth=16) as sw:
        for row in img:
            sw.write_row(row)
    assert (decode(out.getvalue())[4] == img).all()


def test_uint8_strided_rows():
    big = rng.integers(0, 256, size=(H, W, 6), dtype=np.uint8)
    img = big[:, :, ::2]  # every other sample: strided rows
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H) as sw:
        sw.write_rows(img)
    assert (np.asarray(pillow(out.getvalue())) == img).all()


def test_bool_rows_for_mode_1():
    img = rng.integers(0, 2, size=(H, W)).astype(bool)
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, mode="1") as sw:
        sw.write_rows(img)
    im = pillow(out.getvalue())
    assert im.mode == "1" and (np.asarray(im) == img).all()


@pytest.mark.parametrize("depth", [1, 2, 4, 8])
def test_palette_modes(depth):
    n = 1 << depth if depth < 8 else 200
    palette = [tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(n)]
    idx = rng.integers(0, n, size=(H, W), dtype=np.uint8)
    alpha = [int(v) for v in rng.integers(0, 256, n)]
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, mode="P", bit_depth=depth, palette=palette, transparency=bytes(alpha)) as sw:
        for row in idx:
            sw.write_row(row)
    data = out.getvalue()
    assert (decode(data)[4][:, :, 0] == idx).all()
    im = pillow(data)
    assert im.mode == "P" and (np.asarray(im) == idx).all()
    assert im.getpalette()[: 3 * n] == [v for p in palette for v in p]
    rgba = np.asarray(im.convert("RGBA"))
    pal = np.array(palette, dtype=np.uint8)
    assert (rgba[:, :, :3] == pal[idx]).all()
    assert (rgba[:, :, 3] == np.array(alpha, dtype=np.uint8)[idx]).all()


def test_palette_forms_and_transparent_index():
    palette = bytes([0, 0, 0, 255, 0, 0, 0, 255, 0])
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 3, 1, mode="P", palette=palette, transparency=1) as sw:
        sw.write_row([0, 1, 2])
    im = pillow(out.getvalue())
    assert im.info["transparency"] == 1 or list(im.info["transparency"])[:2] == [255, 0]
    assert np.asarray(im.convert("RGBA")).tolist() == [[[0, 0, 0, 255], [255, 0, 0, 0], [0, 255, 0, 255]]]


def test_grey_and_rgb_transparency():
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 2, 1, mode="L", transparency=7) as sw:
        sw.write_row([7, 8])
    assert pillow(out.getvalue()).info["transparency"] == 7
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, 2, 1, transparency=(1, 2, 3)) as sw:
        sw.write_row([(1, 2, 3), (4, 5, 6)])
    assert pillow(out.getvalue()).info["transparency"] == (1, 2, 3)


def test_text_chunks():
    out = io.BytesIO()
    text = {"Title": "A gradient", "Comment": "Zoom ×10⁶"}
    with pngstream.StreamingWriter(out, 1, 1, text=text) as sw:
        sw.write_row(b"\x01\x02\x03")
    im = pillow(out.getvalue())
    assert im.info["Title"] == "A gradient" and im.info["Comment"] == "Zoom ×10⁶"


@pytest.mark.parametrize("compression", ["stored", "fastest", "fast", "default", "best", 0, 6, 9])
@pytest.mark.parametrize("filter", [None, "none", "sub", "up", "average", "paeth", "adaptive", "entropy"])
def test_levels_and_filters(compression, filter):
    img = (np.arange(W * H * 3).reshape(H, W, 3) % 251).astype(np.uint8)
    out = io.BytesIO()
    with pngstream.StreamingWriter(out, W, H, compression=compression, filter=filter) as sw:
        sw.write_rows(img)
    assert (np.asarray(pillow(out.getvalue())) == img).all()


def test_properties():
    sw = pngstream.StreamingWriter(io.BytesIO(), 10, 3, mode="LA", bit_depth=16)
    assert (sw.width, sw.height, sw.mode, sw.bit_depth, sw.channels, sw.row_bytes) == (10, 3, "LA", 16, 2, 40)
    assert not sw.closed and sw.rows_written == 0
    assert "10x3 LA 16-bit" in repr(sw)
    assert pngstream.StreamingWriter(io.BytesIO(), 9, 1, mode="1").row_bytes == 2
    assert pngstream.StreamingWriter(io.BytesIO(), 9, 1, bpp=32).mode == "RGBA"
    assert pngstream.StreamingWriter(io.BytesIO(), 9, 1, bpp=8).mode == "L"
