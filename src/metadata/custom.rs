//! Chunks of any other type, given as raw data, with the type code checked.

use alloc::vec::Vec;

use super::MetadataError;
use super::text::fits_copy;
use crate::chunk;

/// Where a [`CustomChunk`] goes in the file.
///
/// PNG only lets unsafe-to-copy chunks (uppercase fourth letter) depend on
/// their position relative to PLTE; for safe-to-copy ones only before or after
/// the image data matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Placement {
    /// After IHDR, before PLTE (and the image data).
    BeforePalette,
    /// After PLTE, before the image data.
    BeforeImageData,
    /// After the image data, before IEND. Given to
    /// [`Options::metadata`](crate::Options::metadata) it is written by
    /// [`finish`](crate::StreamingWriter::finish); it may also be given to
    /// [`finish_with`](crate::StreamingWriter::finish_with).
    AfterImageData,
}

/// Types the encoder writes itself from [`Options`](crate::Options).
const ENCODER: [&[u8; 4]; 5] = [
    &chunk::IHDR,
    &chunk::PLTE,
    &chunk::IDAT,
    &chunk::IEND,
    &chunk::TRNS,
];
/// Standard types with a typed value, whose rules the encoder checks.
const TYPED: [&[u8; 4]; 16] = [
    b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"pHYs",
    b"sPLT", b"eXIf", b"tIME", b"tEXt", b"zTXt", b"iTXt",
];
/// APNG's chunks: a lone one would make the file a broken animation.
const ANIMATION: [&[u8; 4]; 3] = [b"acTL", b"fcTL", b"fdAT"];
/// Registered types that must come before the image data (PNG §5.6 and the
/// extensions register); hIST must also follow PLTE.
pub(crate) const BEFORE_IDAT: [&[u8; 4]; 5] = [b"hIST", b"oFFs", b"pCAL", b"sCAL", b"sTER"];

/// An ancillary chunk of any type not covered by the typed values, written as
/// given.
///
/// ```
/// use pngstream::{CustomChunk, Placement};
/// let c = CustomChunk::new(*b"raNd", b"any bytes", Placement::AfterImageData).unwrap();
/// assert!(CustomChunk::new(*b"IDAT", b"", Placement::BeforeImageData).is_err());
/// assert!(CustomChunk::new(*b"ABCD", b"", Placement::BeforeImageData).is_err()); // critical
/// # let _ = c;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomChunk {
    pub(crate) kind: [u8; 4],
    pub(crate) data: Vec<u8>,
    pub(crate) placement: Placement,
}

impl CustomChunk {
    /// A chunk of type `kind` with `data`. The type must be four ASCII
    /// letters, with the first lowercase (ancillary: decoders may skip it)
    /// and the third uppercase (reserved bit). Types the encoder writes
    /// (IHDR, PLTE, IDAT, IEND, tRNS), types with a typed value here, and
    /// APNG's types are refused.
    pub fn new(
        kind: [u8; 4],
        data: &[u8],
        placement: Placement,
    ) -> Result<CustomChunk, MetadataError> {
        check_type(kind)?;
        if BEFORE_IDAT.contains(&&kind) {
            let ok = match &kind {
                b"hIST" => placement == Placement::BeforeImageData,
                _ => placement != Placement::AfterImageData,
            };
            if !ok {
                return Err(MetadataError::Misplaced {
                    kind,
                    rule: "hIST goes after PLTE and before the image data; oFFs, pCAL, sCAL and sTER before the image data",
                });
            }
        }
        Ok(CustomChunk {
            kind,
            data: fits_copy(kind, data)?,
            placement,
        })
    }

    /// The chunk type.
    pub fn chunk_type(&self) -> [u8; 4] {
        self.kind
    }

    /// Where the chunk goes.
    pub fn placement(&self) -> Placement {
        self.placement
    }
}

/// Checks a custom chunk type's letters and case bits (PNG §5.4).
fn check_type(kind: [u8; 4]) -> Result<(), MetadataError> {
    if !kind.iter().all(u8::is_ascii_alphabetic) || kind[2].is_ascii_lowercase() {
        return Err(MetadataError::InvalidChunkType { kind });
    }
    let reason = if ENCODER.contains(&&kind) {
        "is written by the encoder itself from Options"
    } else if TYPED.contains(&&kind) {
        "has a typed value (see pngstream::Metadata), which checks its rules: use that"
    } else if ANIMATION.contains(&&kind) {
        "belongs to APNG animation, which this encoder does not write"
    } else if kind[0].is_ascii_uppercase() {
        return Err(MetadataError::CriticalChunkType { kind });
    } else {
        return Ok(());
    };
    Err(MetadataError::ReservedChunkType { kind, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_type_rules() {
        for ok in [*b"prVt", *b"raNd", *b"abCD", *b"hIST", *b"oFFs", *b"zzZz"] {
            assert_eq!(check_type(ok), Ok(()), "{ok:?}");
        }
        for bad in [*b"abcd", *b"ab1D", *b"ab D", *b"\xc3\xa9CD", *b"abc\0"] {
            assert_eq!(
                check_type(bad),
                Err(MetadataError::InvalidChunkType { kind: bad })
            );
        }
        for critical in [*b"ABCD", *b"AbCd", *b"XxXx"] {
            assert_eq!(
                check_type(critical),
                Err(MetadataError::CriticalChunkType { kind: critical })
            );
        }
        for reserved in [
            *b"IHDR", *b"PLTE", *b"IDAT", *b"IEND", *b"tRNS", *b"gAMA", *b"tEXt", *b"fdAT",
        ] {
            assert!(
                matches!(check_type(reserved), Err(MetadataError::ReservedChunkType { kind, .. }) if kind == reserved),
                "{reserved:?}"
            );
        }
    }

    #[test]
    fn registered_placements() {
        assert!(CustomChunk::new(*b"hIST", &[0, 1], Placement::BeforeImageData).is_ok());
        assert!(CustomChunk::new(*b"hIST", &[0, 1], Placement::BeforePalette).is_err());
        assert!(CustomChunk::new(*b"oFFs", &[0; 9], Placement::BeforePalette).is_ok());
        assert!(matches!(
            CustomChunk::new(*b"sTER", &[0], Placement::AfterImageData),
            Err(MetadataError::Misplaced { .. })
        ));
    }
}
