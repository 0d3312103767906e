//! The one error type of the crate.

use core::fmt;

use crate::color::{BitDepth, ColorType};

/// Why encoding stopped. `E` is the sink's own error type.
///
/// Every error is reported before anything invalid reaches the sink. Errors
/// about the caller's input (a row of the wrong length, a palette index
/// beyond the palette, bytes past the end of the image, …) leave the writer
/// as it was, so a corrected call may follow; a sink error stops it for good
/// ([`Error::Poisoned`]). See [`StreamingWriter`](crate::StreamingWriter).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// Width or height is 0 or above 2^31 − 1.
    #[non_exhaustive]
    InvalidDimensions {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// One row of this width is more bytes than this platform can address.
    #[non_exhaustive]
    ImageTooLarge {
        /// The width asked for.
        width: u32,
        /// Bits per pixel of the colour type and depth.
        bits_per_pixel: u32,
    },
    /// PNG does not allow this bit depth with this colour type.
    #[non_exhaustive]
    InvalidBitDepth {
        /// The colour type.
        color: ColorType,
        /// The depth asked for.
        depth: BitDepth,
    },
    /// An indexed image needs a palette.
    MissingPalette,
    /// The palette has no entries, too many for the bit depth or PNG's 256,
    /// or its length in bytes is not a multiple of 3.
    #[non_exhaustive]
    InvalidPalette {
        /// Length of the palette in bytes.
        len: usize,
        /// Most entries allowed for this image.
        max_entries: usize,
    },
    /// Greyscale images cannot carry a palette.
    #[non_exhaustive]
    PaletteNotAllowed {
        /// The colour type.
        color: ColorType,
    },
    /// The transparency (tRNS) data has the wrong length for the colour
    /// type: exactly 2 bytes for greyscale, 6 for RGB, and for indexed
    /// images 1 up to one byte per palette entry (never none).
    #[non_exhaustive]
    InvalidTransparency {
        /// The colour type.
        color: ColorType,
        /// Length given, in bytes.
        len: usize,
        /// Fewest bytes allowed.
        min: usize,
        /// Most bytes allowed.
        max: usize,
    },
    /// A greyscale or RGB transparency (tRNS) sample is above what the bit
    /// depth can hold (2^depth − 1).
    #[non_exhaustive]
    TransparencyOutOfRange {
        /// Which sample: `"grey"`, `"red"`, `"green"` or `"blue"`.
        sample: &'static str,
        /// Its value.
        value: u16,
        /// The image's bit depth.
        depth: BitDepth,
    },
    /// Colour types with an alpha channel cannot carry tRNS.
    #[non_exhaustive]
    TransparencyNotAllowed {
        /// The colour type.
        color: ColorType,
    },
    /// The IDAT chunk size is 0 or above 2^31 − 1.
    #[non_exhaustive]
    InvalidChunkSize {
        /// The size asked for.
        size: u32,
    },
    /// A row had the wrong number of bytes.
    #[non_exhaustive]
    WrongRowLength {
        /// Zero-based index of the row.
        row: u32,
        /// Bytes given.
        len: usize,
        /// Bytes one packed row of this image has.
        expected: usize,
    },
    /// A typed row helper does not fit the image's pixel format (e.g.
    /// `[u8; 3]` pixels for an RGBA image, or `u16` samples for 8 bits).
    #[non_exhaustive]
    WrongPixelFormat {
        /// What the helper supplies.
        given: &'static str,
        /// The image's colour type.
        color: ColorType,
        /// The image's bit depth.
        depth: BitDepth,
    },
    /// A pixel of an indexed image refers to a palette entry that does not
    /// exist (PNG §11.2.3 makes that an error). Never reported for a palette
    /// of all 2^depth entries, where every index is valid.
    #[non_exhaustive]
    PaletteIndex {
        /// Zero-based index of the row.
        row: u32,
        /// Zero-based index of the first such pixel in the row.
        x: u32,
        /// Its palette index.
        index: u8,
        /// Entries in the palette.
        palette_len: usize,
    },
    /// A row was given after the last one.
    #[non_exhaustive]
    TooManyRows {
        /// The image height.
        height: u32,
    },
    /// [`StreamingWriter::write_bytes`](crate::StreamingWriter::write_bytes)
    /// was given more bytes than the image had left; none of them was used.
    #[non_exhaustive]
    TooManyBytes {
        /// Bytes given.
        given: usize,
        /// Bytes the image had left: the rest of the current row and every
        /// row after it.
        remaining: u128,
    },
    /// The image given to [`encode`](crate::encode) is not `height` packed
    /// rows.
    #[non_exhaustive]
    WrongImageLength {
        /// Bytes given.
        len: usize,
        /// Bytes the image has: height × bytes per packed row.
        expected: u128,
    },
    /// The writer was finished before every row was written.
    #[non_exhaustive]
    MissingRows {
        /// Complete rows written.
        written: u32,
        /// The image height.
        height: u32,
    },
    /// A row started with [`StreamingWriter::write_bytes`](crate::StreamingWriter::write_bytes)
    /// was not completed.
    #[non_exhaustive]
    IncompleteRow {
        /// Bytes of the row received.
        have: usize,
        /// Bytes one row has.
        expected: usize,
    },
    /// Memory for the encoder's buffers could not be allocated.
    #[non_exhaustive]
    OutOfMemory {
        /// Bytes requested.
        bytes: usize,
    },
    /// The [memory limit](crate::Options::memory_limit) is below what this
    /// image needs at the least: its row buffers and stored blocks in the
    /// smallest IDAT chunks. Nothing was written.
    #[non_exhaustive]
    MemoryLimit {
        /// Bytes the smallest configuration needs.
        needed: usize,
        /// The limit set.
        limit: usize,
    },
    /// An ancillary chunk is invalid, repeated where PNG allows one, in
    /// conflict with another, or does not fit the image or its place; see
    /// [`MetadataError`](crate::MetadataError).
    Metadata(crate::MetadataError),
    /// A thread encoding with [`Options::threads`](crate::Options::threads)
    /// panicked, which is a bug in this crate, or every such thread ended
    /// early. The writer is poisoned: later calls return
    /// [`Error::Poisoned`].
    #[non_exhaustive]
    WorkerPanicked {
        /// The panic's message.
        message: alloc::string::String,
    },
    /// The writer stopped at an earlier sink error or failed encoding thread
    /// and accepts nothing more.
    Poisoned,
    /// The sink failed; its error is the [`source`](core::error::Error::source).
    Sink(E),
}

/// `n` followed by the singular or plural noun: "1 byte", "2 bytes".
pub(crate) struct Count<N>(
    pub(crate) N,
    pub(crate) &'static str,
    pub(crate) &'static str,
);

impl<N: fmt::Display + PartialEq + From<u8>> fmt::Display for Count<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.0 == N::from(1) { self.1 } else { self.2 };
        write!(f, "{} {noun}", self.0)
    }
}

/// "1 byte", "2 bytes".
pub(crate) fn bytes<N: fmt::Display + PartialEq + From<u8>>(n: N) -> Count<N> {
    Count(n, "byte", "bytes")
}

/// The colour type with its indefinite article: "an RGB", "a greyscale".
pub(crate) struct A(pub(crate) ColorType);

impl fmt::Display for A {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let article = match self.0 {
            ColorType::Rgb | ColorType::Rgba | ColorType::Indexed => "an",
            ColorType::Grayscale | ColorType::GrayscaleAlpha => "a",
        };
        write!(f, "{article} {}", self.0)
    }
}

/// What a tRNS of the colour type must hold, for messages.
struct TrnsExpected {
    color: ColorType,
    min: usize,
    max: usize,
}

impl fmt::Display for TrnsExpected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = (self.min, self.max);
        match self.color {
            ColorType::Indexed if max == 1 => f.write_str(
                "exactly 1 alpha byte, as the palette has 1 entry (tRNS needs at least 1 entry, and at most 1 per palette entry)",
            ),
            ColorType::Indexed => write!(
                f,
                "{min} to {max} alpha bytes (tRNS needs at least 1 entry, and at most 1 per palette entry; the palette has {max})"
            ),
            ColorType::Grayscale => write!(
                f,
                "{} (one 16-bit big-endian grey sample)",
                bytes(max)
            ),
            ColorType::Rgb => write!(
                f,
                "{} (16-bit big-endian red, green and blue samples)",
                bytes(max)
            ),
            _ if min == max => write!(f, "{}", bytes(max)),
            _ => write!(f, "{min} to {}", bytes(max)),
        }
    }
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            InvalidDimensions { width, height } => write!(
                f,
                "image size {width}x{height} is invalid: width and height must be 1 to 2147483647"
            ),
            ImageTooLarge {
                width,
                bits_per_pixel,
            } => write!(
                f,
                "a row of {} at {} per pixel is {} (and a filter byte), more than this platform can address: expected at most {} per row",
                Count(*width, "pixel", "pixels"),
                Count(*bits_per_pixel, "bit", "bits"),
                bytes((*width as u64 * *bits_per_pixel as u64).div_ceil(8)),
                bytes(usize::MAX as u64 - 1),
            ),
            InvalidBitDepth { color, depth } => write!(
                f,
                "{color} images cannot have bit depth {}: expected {}",
                depth.bits(),
                match color {
                    ColorType::Grayscale => "1, 2, 4, 8 or 16",
                    ColorType::Indexed => "1, 2, 4 or 8",
                    _ => "8 or 16",
                }
            ),
            MissingPalette => f.write_str(
                "indexed images need a palette: expected Options::palette with 1 to 2^depth RGB entries",
            ),
            InvalidPalette { len, max_entries } => write!(
                f,
                "palette of {} is invalid: expected 1 to {max_entries} RGB entries (3 bytes each)",
                bytes(*len)
            ),
            PaletteNotAllowed { color } => write!(
                f,
                "{color} images cannot have a palette: only indexed, RGB and RGBA images can"
            ),
            InvalidTransparency {
                color,
                len,
                min,
                max,
            } => {
                let expected = TrnsExpected {
                    color: *color,
                    min: *min,
                    max: *max,
                };
                if *len == 0 {
                    write!(
                        f,
                        "transparency data (tRNS) for {} image is empty: expected {expected}",
                        A(*color)
                    )
                } else {
                    write!(
                        f,
                        "transparency data (tRNS) of {} is the wrong length for {} image: expected {expected}",
                        bytes(*len),
                        A(*color)
                    )
                }
            }
            TransparencyOutOfRange {
                sample,
                value,
                depth,
            } => write!(
                f,
                "transparency (tRNS) {sample} sample {value} is out of range for bit depth {}: expected 0 to {}",
                depth.bits(),
                u16::MAX >> (16 - depth.bits())
            ),
            TransparencyNotAllowed { color } => write!(
                f,
                "{color} images have an alpha channel and cannot have a tRNS chunk: only greyscale, RGB and indexed images can"
            ),
            InvalidChunkSize { size } => write!(
                f,
                "IDAT chunk size {size} is invalid: expected 1 to 2147483647"
            ),
            WrongRowLength { row, len, expected } => {
                write!(f, "row {row} has {}, expected {expected}", bytes(*len))
            }
            WrongPixelFormat {
                given,
                color,
                depth,
            } => {
                write!(
                    f,
                    "{given} do not fit {} image of bit depth {}: expected ",
                    A(*color),
                    depth.bits()
                )?;
                match depth {
                    BitDepth::Eight => write!(f, "[u8; {}] pixels", color.channels()),
                    BitDepth::Sixteen => f.write_str("u16 samples (write_row_u16)"),
                    _ => f.write_str("packed rows (write_row or write_bytes)"),
                }
            }
            PaletteIndex {
                row,
                x,
                index,
                palette_len,
            } => {
                write!(
                    f,
                    "pixel {x} of row {row} has palette index {index}, but the palette has only {}: expected ",
                    Count(*palette_len, "entry", "entries")
                )?;
                match palette_len {
                    0 | 1 => f.write_str("index 0"),
                    n => write!(f, "0 to {}", n - 1),
                }
            }
            TooManyRows { height } => match height {
                1 => f.write_str("a row was given after the last one: the image has 1 row, already written"),
                h => write!(
                    f,
                    "a row was given after the last one: the image has {h} rows, all written"
                ),
            },
            TooManyBytes { given, remaining } => write!(
                f,
                "write_bytes was given {}, more than the {} the image had left",
                bytes(*given),
                bytes(*remaining)
            ),
            WrongImageLength { len, expected } => write!(
                f,
                "image data of {} given, expected {} (height × bytes per packed row)",
                bytes(*len),
                bytes(*expected)
            ),
            MissingRows { written, height } => write!(
                f,
                "finished after {written} of {}: every row must be written before finish, or the file is incomplete",
                Count(*height, "row", "rows")
            ),
            IncompleteRow { have, expected } => write!(
                f,
                "a row was left incomplete: {have} of {} given",
                bytes(*expected)
            ),
            OutOfMemory { bytes: n } => write!(f, "could not allocate {}", bytes(*n)),
            MemoryLimit { needed, limit } => write!(
                f,
                "a memory limit of {} is too low: this image needs at least {} (its row buffers and stored blocks in small chunks)",
                bytes(*limit),
                bytes(*needed)
            ),
            Metadata(e) => write!(f, "{e}"),
            WorkerPanicked { message } => {
                write!(f, "an encoding thread failed, a bug in pngstream: {message}")
            }
            Poisoned => f.write_str(
                "the writer stopped at an earlier sink error or failed encoding thread and accepts nothing more",
            ),
            Sink(e) => write!(f, "the sink failed: {e}"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Sink(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<Error<std::io::Error>> for std::io::Error {
    /// Sink errors come back as they were; every other error becomes
    /// [`std::io::ErrorKind::InvalidInput`] (or `OutOfMemory`).
    fn from(e: Error<std::io::Error>) -> Self {
        match e {
            Error::Sink(io) => io,
            Error::OutOfMemory { .. } => std::io::Error::new(std::io::ErrorKind::OutOfMemory, e),
            Error::WorkerPanicked { .. } => std::io::Error::other(e),
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}

#[cfg(test)]
mod tests;
