//! What can be wrong with metadata: a value PNG forbids, or a chunk that does
//! not fit the image or the other chunks.

use core::fmt;

use crate::error::{Count, bytes};

/// Why a metadata value or a set of them was refused.
///
/// The value constructors ([`Text::new`](crate::Text::new),
/// [`Time::new`](crate::Time::new), …) return the errors about the value
/// itself. The errors that need the image header or the other chunks
/// (duplicates, sRGB with iCCP, bKGD against the colour type, …) come from
/// [`StreamingWriter::with_options`](crate::StreamingWriter::with_options)
/// and [`StreamingWriter::finish_with`](crate::StreamingWriter::finish_with)
/// as [`Error::Metadata`](crate::Error::Metadata), before anything is written.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetadataError {
    /// A keyword (text keyword, ICC profile name, suggested palette name) is empty.
    EmptyKeyword,
    /// A keyword has more than 79 characters.
    #[non_exhaustive]
    KeywordTooLong {
        /// Characters given.
        len: usize,
    },
    /// A keyword holds a character outside printable Latin-1 (32–126, 161–255).
    #[non_exhaustive]
    KeywordCharacter {
        /// The first offending character.
        ch: char,
    },
    /// A keyword starts or ends with a space, or has two spaces in a row.
    KeywordSpacing,
    /// Text holds a character its chunk cannot carry: NUL anywhere, or a
    /// character beyond Latin-1 in tEXt and zTXt.
    #[non_exhaustive]
    TextCharacter {
        /// The first offending character.
        ch: char,
    },
    /// An iTXt language tag is not hyphen-separated words of 1 to 8 ASCII
    /// letters or digits.
    InvalidLanguageTag,
    /// An eXIf payload does not start with a TIFF byte-order mark
    /// (`MM\0*` or `II*\0`).
    InvalidExif,
    /// A number is outside what its chunk allows.
    #[non_exhaustive]
    InvalidValue {
        /// The chunk type.
        kind: [u8; 4],
        /// What the value must be.
        expected: &'static str,
    },
    /// A chunk's data would be longer than PNG's 2^31 − 1 bytes.
    #[non_exhaustive]
    ChunkTooLarge {
        /// The chunk type.
        kind: [u8; 4],
        /// Data bytes it would have.
        len: usize,
    },
    /// A custom chunk type is not four ASCII letters with an uppercase third
    /// (reserved) letter.
    #[non_exhaustive]
    InvalidChunkType {
        /// The type asked for.
        kind: [u8; 4],
    },
    /// A custom chunk type is critical (uppercase first letter) and unknown:
    /// every decoder would have to refuse the file.
    #[non_exhaustive]
    CriticalChunkType {
        /// The type asked for.
        kind: [u8; 4],
    },
    /// A custom chunk type that cannot be written as raw data: the encoder
    /// writes it itself, it has a typed value, or it belongs to animation.
    #[non_exhaustive]
    ReservedChunkType {
        /// The type asked for.
        kind: [u8; 4],
        /// Why, in a few words.
        reason: &'static str,
    },
    /// A chunk that PNG allows once was given twice.
    #[non_exhaustive]
    DuplicateChunk {
        /// The chunk type.
        kind: [u8; 4],
    },
    /// Two chunks that PNG does not allow together.
    #[non_exhaustive]
    ConflictingChunks {
        /// The chunk type given second.
        kind: [u8; 4],
        /// The chunk it conflicts with.
        other: [u8; 4],
    },
    /// Two suggested palettes (sPLT) have the same name.
    DuplicatePaletteName,
    /// The background colour (bKGD) does not fit the image: the wrong kind
    /// for the colour type, or a value above `max`.
    #[non_exhaustive]
    InvalidBackground {
        /// The background given.
        given: crate::Background,
        /// The kind of value the image's colour type needs.
        expected: &'static str,
        /// The largest value allowed: the last palette index, or
        /// 2^depth − 1 for a grey level or colour sample.
        max: u16,
    },
    /// The significant bits (sBIT) do not fit the image.
    #[non_exhaustive]
    InvalidSignificantBits {
        /// Values given.
        len: usize,
        /// Values the colour type needs.
        expected: usize,
        /// Largest value the bit depth allows.
        max: u8,
    },
    /// A chunk is not allowed where it was asked for.
    #[non_exhaustive]
    Misplaced {
        /// The chunk type.
        kind: [u8; 4],
        /// Where it may go.
        rule: &'static str,
    },
    /// Memory for compressing a chunk could not be allocated.
    #[non_exhaustive]
    OutOfMemory {
        /// Bytes requested.
        bytes: usize,
    },
}

/// A chunk type for messages: printable as is, escaped otherwise.
struct Kind<'a>(&'a [u8; 4]);

impl fmt::Display for Kind<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.escape_ascii())
    }
}

/// A background colour as given, for messages.
struct Given(crate::Background);

impl fmt::Display for Given {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            crate::Background::Gray(g) => write!(f, "grey level {g}"),
            crate::Background::Rgb([r, g, b]) => write!(f, "red {r}, green {g}, blue {b}"),
            crate::Background::PaletteIndex(i) => write!(f, "palette index {i}"),
        }
    }
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use MetadataError::*;
        match self {
            EmptyKeyword => f.write_str("keyword is empty: expected 1 to 79 characters"),
            KeywordTooLong { len } => write!(
                f,
                "keyword has {}, expected 1 to 79",
                Count(*len, "character", "characters")
            ),
            KeywordCharacter { ch } => write!(
                f,
                "keyword character {ch:?} is not allowed: expected printable Latin-1 (codes 32-126 and 161-255)"
            ),
            KeywordSpacing => f.write_str(
                "keyword has a leading, trailing or double space, which PNG does not allow",
            ),
            TextCharacter { ch } => write!(
                f,
                "text character {ch:?} is not allowed: expected no NUL, and only Latin-1 in tEXt and zTXt"
            ),
            InvalidLanguageTag => f.write_str(
                "language tag is invalid: expected words of 1 to 8 ASCII letters or digits joined by hyphens",
            ),
            InvalidExif => f.write_str(
                "eXIf data is invalid: expected it to start with \"MM\\0*\" or \"II*\\0\"",
            ),
            InvalidValue { kind, expected } => {
                write!(f, "{} value is invalid: expected {expected}", Kind(kind))
            }
            ChunkTooLarge { kind, len } => write!(
                f,
                "{} chunk would have {}, more than PNG's 2147483647",
                Kind(kind),
                bytes(*len)
            ),
            InvalidChunkType { kind } => write!(
                f,
                "chunk type \"{}\" is invalid: expected four ASCII letters, the third uppercase",
                Kind(kind)
            ),
            CriticalChunkType { kind } => write!(
                f,
                "chunk type \"{}\" is critical (uppercase first letter) and unknown to decoders: custom chunks must be ancillary",
                Kind(kind)
            ),
            ReservedChunkType { kind, reason } => {
                write!(f, "chunk type \"{}\" {reason}", Kind(kind))
            }
            DuplicateChunk { kind } => write!(
                f,
                "{0} chunk given twice: a PNG file may have only one {0} chunk",
                Kind(kind)
            ),
            ConflictingChunks { kind, other } => write!(
                f,
                "{} chunk given with {} chunk: PNG allows only one of the two",
                Kind(kind),
                Kind(other)
            ),
            DuplicatePaletteName => f.write_str("two suggested palettes (sPLT) have the same name"),
            InvalidBackground {
                given,
                expected,
                max,
            } => write!(
                f,
                "background colour (bKGD) {} does not fit the image: expected {expected} of 0 to {max}",
                Given(*given)
            ),
            InvalidSignificantBits { len, expected, max } => write!(
                f,
                "significant bits (sBIT) do not fit the image: {} given, expected {} of 1 to {max}",
                Count(*len, "value", "values"),
                Count(*expected, "value", "values")
            ),
            Misplaced { kind, rule } => write!(f, "{} chunk is misplaced: {rule}", Kind(kind)),
            OutOfMemory { bytes: n } => write!(f, "could not allocate {}", bytes(*n)),
        }
    }
}

impl core::error::Error for MetadataError {}

impl<E> From<MetadataError> for crate::Error<E> {
    fn from(e: MetadataError) -> Self {
        crate::Error::Metadata(e)
    }
}
