"""A streaming PNG encoder: rows in, PNG out, memory O(width).

StreamingWriter writes an image row by row to a path or a file object;
encode makes a whole image's PNG bytes. Rows are lists of pixel tuples,
bytes-like objects or numpy arrays; the Rust encoder filters and compresses
them with the GIL released.
"""

import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import Literal, Protocol, Self, SupportsIndex, TypeAlias

from typing_extensions import Buffer

__version__: str

class _BinaryFile(Protocol):
    def write(self, data: bytes, /) -> object: ...

Compression: TypeAlias = (
    Literal["stored", "fastest", "fast", "default", "best"] | int
)
Filter: TypeAlias = Literal["none", "sub", "up", "average", "paeth", "adaptive", "entropy"]
Mode: TypeAlias = Literal["1", "L", "LA", "RGB", "RGBA", "P", "I;16", "I;16B", "I;16L", "I;16N"]
Pixel: TypeAlias = Sequence[SupportsIndex] | SupportsIndex
# A row: pixels (tuples of ints, or ints for one channel), a flat sequence of
# ints, PNG's packed bytes (bytes, bytearray, memoryview), or a numpy array
# of uint8 / uint16 (bool for mode "1") shaped (width, channels) or
# (width * channels,).
Row: TypeAlias = Sequence[Pixel] | Buffer
Palette: TypeAlias = Buffer | Sequence[Sequence[int]] | Sequence[int]
Transparency: TypeAlias = int | Sequence[int] | Buffer
Text: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]

class PngStreamError(ValueError):
    """Input the encoder refuses: a row of the wrong length, shape or dtype,
    a sample out of range, a row too many or too few, options PNG does not
    allow, a closed writer. Nothing was written for the refused call."""

class StreamingWriter:
    """Writes a PNG image row by row, holding O(width) memory whatever the
    height.

    The signature and header chunks are written at once; each write_row
    filters and compresses one row with the GIL released; finish() (or
    leaving a ``with`` block normally) writes the last data and IEND.
    Leaving a ``with`` block by an exception writes no IEND.

    Args:
        path_or_file: a path, created or truncated, or a binary file object
            with ``.write`` (flushed, not closed, by finish).
        width, height: the image size in pixels, 1 to 2**31 - 1.
        bpp: 8, 16, 24 or 32 for grey, grey+alpha, RGB or RGBA (bits per
            pixel at 8 bits per sample). Left out when mode is given.
        mode: a Pillow mode name instead of bpp.
        bit_depth: bits per sample: 8 or 16; 1, 2 or 4 too for "L" and "P".
            Modes "1" and "I;16" set their own.
        compression: "stored", "fastest", "fast", "default" or "best", or
            zlib's 0-9 (0 stored, 1 fastest, 2-3 fast, 4-6 default, 7-9 best).
        filter: None for the level's choice, or one PNG filter or per-row
            choice for every row.
        palette: for mode "P": 1 to 2**bit_depth RGB entries.
        transparency: tRNS: for "P" a palette index made fully transparent,
            or one alpha value per entry; for grey one value; for RGB an
            (r, g, b).
        text: keyword to text, written as tEXt (iTXt beyond Latin-1).
        threads: None, 0 or 1 to encode on the calling thread; n >= 2 to
            compress on n threads, the calling thread and n - 1 worker
            threads, at the "default" and "best" levels (other levels, and
            images of less than one and an eighth 512 KiB segments of
            filtered rows, stay on the calling thread: see the threads
            property). Every n from 2 up writes the same file, a
            little larger than one thread's. The GIL is released while
            rows are filtered and compressed either way.

    Raises:
        PngStreamError: options PNG does not allow, a negative threads.
        TypeError: an argument of the wrong type (threads not an int).
        OSError: the file cannot be created or written.
    """

    def __init__(
        self,
        path_or_file: str | os.PathLike[str] | _BinaryFile,
        width: int,
        height: int,
        bpp: int = 24,
        *,
        mode: Mode | None = None,
        bit_depth: int = 8,
        compression: Compression = "default",
        filter: Filter | None = None,
        palette: Palette | None = None,
        transparency: Transparency | None = None,
        text: Text | None = None,
        threads: SupportsIndex | None = None,
    ) -> None: ...
    def write_row(self, row: Row) -> None:
        """Writes the next row.

        Raises:
            PngStreamError: a row of the wrong length, shape or dtype, a
                sample out of range, a row after the last one, or a closed
                writer; nothing is written and the writer is unchanged.
            OSError: the file failed; the writer accepts nothing more.
        """
    def write_rows(self, rows: Iterable[Row] | Buffer) -> None:
        """Writes rows from an iterable (a list of rows, a generator, a 2-D or
        3-D numpy array, one row per first index). A bytes-like object holds
        whole packed rows back to back. An array's rows are copied out in
        blocks of about 256 KiB, each written with one release of the GIL:
        faster than write_row per row, with the same checks and errors (the
        rows before a refused one are written)."""
    def finish(self) -> None:
        """Writes the rest of the data and IEND, flushes the file (closing
        it if the writer opened it). Raises PngStreamError if a row is
        missing, writing no IEND. The writer is closed afterwards."""
    def close(self) -> None:
        """finish() if the writer is open; nothing if it is closed."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """finish() without an exception; with one, closes the writer
        without IEND and lets the exception through."""
    @property
    def rows_written(self) -> int:
        """Complete rows written so far."""
    @property
    def threads(self) -> int:
        """Threads encoding the image, the calling thread among them: the
        threads asked for at the default and best levels (no more than the
        image has 512 KiB segments), else 1, the calling thread alone."""
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def mode(self) -> Literal["1", "L", "LA", "RGB", "RGBA", "P", "I;16"]:
        """Pillow's name of the pixel format."""
    @property
    def bit_depth(self) -> int: ...
    @property
    def channels(self) -> int: ...
    @property
    def row_bytes(self) -> int:
        """Bytes in one packed PNG row, without the filter byte."""
    @property
    def closed(self) -> bool:
        """True once finished, closed, or left by an exception."""

def encode(
    image: Buffer | Sequence[Row],
    width: int | None = None,
    height: int | None = None,
    bpp: int | None = None,
    *,
    mode: Mode | None = None,
    bit_depth: int | None = None,
    compression: Compression = "default",
    filter: Filter | None = None,
    palette: Palette | None = None,
    transparency: Transparency | None = None,
    text: Text | None = None,
    threads: SupportsIndex | None = None,
) -> bytes:
    """Encodes a whole image and returns the PNG file's bytes.

    image is a numpy array shaped (height, width) or (height, width,
    channels) of uint8 or uint16 (bool for mode "1"), whose shape and dtype
    give the size, channels and bit depth; or packed PNG rows back to back
    (bytes, bytearray, memoryview) with width, height and bpp or mode given;
    or a sequence of rows as StreamingWriter.write_row takes them. The
    other arguments are StreamingWriter's.
    """
