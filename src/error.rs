//! The one error type of the crate.

use core::fmt;

use crate::color::{BitDepth, ColorType};

/// Why encoding stopped. `E` is the sink's own error type.
///
/// Every error is reported before anything invalid reaches the sink, and a
/// writer that returned one refuses all further work ([`Error::Poisoned`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// Width or height is 0 or above 2^31 − 1.
    InvalidDimensions {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// One row of this width is more bytes than this platform can address.
    ImageTooLarge {
        /// The width asked for.
        width: u32,
        /// Bits per pixel of the colour type and depth.
        bits_per_pixel: u32,
    },
    /// PNG does not allow this bit depth with this colour type.
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
    InvalidPalette {
        /// Length of the palette in bytes.
        len: usize,
        /// Most entries allowed for this image.
        max_entries: usize,
    },
    /// Greyscale images cannot carry a palette.
    PaletteNotAllowed {
        /// The colour type.
        color: ColorType,
    },
    /// The transparency (tRNS) data has the wrong length or an out-of-range
    /// sample for the colour type.
    InvalidTransparency {
        /// Length given, in bytes.
        len: usize,
        /// What the colour type needs.
        expected: &'static str,
    },
    /// Colour types with an alpha channel cannot carry tRNS.
    TransparencyNotAllowed {
        /// The colour type.
        color: ColorType,
    },
    /// The IDAT chunk size is 0 or above 2^31 − 1.
    InvalidChunkSize {
        /// The size asked for.
        size: u32,
    },
    /// A row had the wrong number of bytes.
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
    WrongPixelFormat {
        /// What the helper supplies.
        given: &'static str,
        /// The image's colour type.
        color: ColorType,
        /// The image's bit depth.
        depth: BitDepth,
    },
    /// More rows than the height.
    TooManyRows {
        /// The image height.
        height: u32,
    },
    /// The writer was finished before every row was written.
    MissingRows {
        /// Complete rows written.
        written: u32,
        /// The image height.
        height: u32,
    },
    /// A row started with [`StreamingWriter::write_bytes`](crate::StreamingWriter::write_bytes)
    /// was not completed.
    IncompleteRow {
        /// Bytes of the row received.
        have: usize,
        /// Bytes one row has.
        expected: usize,
    },
    /// Memory for the encoder's buffers could not be allocated.
    OutOfMemory {
        /// Bytes requested.
        bytes: usize,
    },
    /// An ancillary chunk is invalid, repeated where PNG allows one, in
    /// conflict with another, or does not fit the image or its place; see
    /// [`MetadataError`](crate::MetadataError).
    Metadata(crate::MetadataError),
    /// The writer stopped at an earlier error and accepts nothing more.
    Poisoned,
    /// The sink failed; its error is the [`source`](core::error::Error::source).
    Sink(E),
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
                "a row of {width} pixels at {bits_per_pixel} bits per pixel is too large for this platform"
            ),
            InvalidBitDepth { color, depth } => {
                write!(f, "{color} images cannot have bit depth {}", depth.bits())
            }
            MissingPalette => f.write_str("indexed images need a palette"),
            InvalidPalette { len, max_entries } => write!(
                f,
                "palette of {len} bytes is invalid: expected 1 to {max_entries} RGB entries (3 bytes each)"
            ),
            PaletteNotAllowed { color } => write!(f, "{color} images cannot have a palette"),
            InvalidTransparency { len, expected } => write!(
                f,
                "transparency data of {len} bytes is invalid: expected {expected}"
            ),
            TransparencyNotAllowed { color } => write!(
                f,
                "{color} images have an alpha channel and cannot have a tRNS chunk"
            ),
            InvalidChunkSize { size } => write!(
                f,
                "IDAT chunk size {size} is invalid: expected 1 to 2147483647"
            ),
            WrongRowLength { row, len, expected } => {
                write!(f, "row {row} has {len} bytes, expected {expected}")
            }
            WrongPixelFormat {
                given,
                color,
                depth,
            } => write!(
                f,
                "{given} do not fit a {color} image of bit depth {}",
                depth.bits()
            ),
            TooManyRows { height } => write!(f, "the image has only {height} rows"),
            MissingRows { written, height } => write!(
                f,
                "finished after {written} of {height} rows; the file is incomplete"
            ),
            IncompleteRow { have, expected } => {
                write!(f, "a row was left incomplete: {have} of {expected} bytes")
            }
            OutOfMemory { bytes } => write!(f, "could not allocate {bytes} bytes"),
            Metadata(e) => write!(f, "{e}"),
            Poisoned => f.write_str("the writer stopped at an earlier error"),
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
impl From<Error<std::io::Error>> for std::io::Error {
    /// Sink errors come back as they were; every other error becomes
    /// [`std::io::ErrorKind::InvalidInput`] (or `OutOfMemory`).
    fn from(e: Error<std::io::Error>) -> Self {
        match e {
            Error::Sink(io) => io,
            Error::OutOfMemory { .. } => std::io::Error::new(std::io::ErrorKind::OutOfMemory, e),
            other => std::io::Error::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}
