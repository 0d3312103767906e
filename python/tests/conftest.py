"""Helpers shared by the tests: a strict PNG reader that checks every CRC and
unfilters the rows itself (so 16-bit and sub-byte samples are compared
exactly, whatever Pillow does with them), and memory probes."""

import struct
import zlib

import numpy as np
import pytest

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(data: bytes):
    """(type, payload) of every chunk, CRCs checked; the file must end
    right after IEND."""
    assert data[:8] == SIGNATURE, "no PNG signature"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        payload = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + payload) == crc, f"bad CRC in {kind!r}"
        out.append((kind.decode("latin-1"), payload))
        pos += 12 + length
        if kind == b"IEND":
            assert pos == len(data), "bytes after IEND"
    return out


def has_iend(data: bytes) -> bool:
    return data.endswith(b"\x00\x00\x00\x00IEND\xaeB`\x82")


def _paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def decode(data: bytes):
    """(width, height, bit_depth, colour type, samples): samples is a
    (height, width, channels) array of the exact sample values (uint16)."""
    cs = chunks(data)
    assert cs[0][0] == "IHDR" and cs[-1][0] == "IEND"
    w, h, depth, color, comp, filt, interlace = struct.unpack(">IIBBBBB", cs[0][1])
    assert (comp, filt, interlace) == (0, 0, 0)
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(p for k, p in cs if k == "IDAT"))
    bits = depth * channels
    stride = (w * bits + 7) // 8
    bpp = max(1, bits // 8)
    assert len(raw) == h * (stride + 1), "wrong inflated length"
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        ftype = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        assert ftype <= 4, f"filter type {ftype}"
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[ftype]
            line[i] = (line[i] + pred) & 255
        rows.append(bytes(line))
        prev = line
    out = np.zeros((h, w, channels), dtype=np.uint16)
    for y, line in enumerate(rows):
        if depth == 16:
            out[y] = np.frombuffer(line, dtype=">u2").reshape(w, channels)
        elif depth == 8:
            out[y] = np.frombuffer(line, dtype=np.uint8).reshape(w, channels)
        else:
            per = 8 // depth
            vals = [(line[x // per] >> (8 - depth * (x % per + 1))) & ((1 << depth) - 1) for x in range(w)]
            out[y, :, 0] = vals
    return w, h, depth, color, out


def rss_kib() -> int:
    """The process's resident set now (VmRSS), in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    pytest.skip("no /proc/self/status")
