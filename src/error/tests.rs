//! The grammar of every error message, checked inside the crate because
//! the struct variants cannot be built from outside it.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::Error;
use crate::{BitDepth, ColorType};

/// A sink's own error, for the `Sink` variant.
#[derive(Debug)]
struct SinkFull {
    at: usize,
}

impl fmt::Display for SinkFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sink full at byte {}", self.at)
    }
}

/// Every variant rendered with counts of 0, 1 and 2 where it has them: no
/// singular noun after another number, no plural after 1, "an" before RGB
/// and indexed, no empty or unfinished text.
#[test]
fn every_message_reads_right() {
    use crate::{Background, MetadataError as M};
    let mut texts: Vec<String> = Vec::new();
    let mut add = |e: Error<SinkFull>| texts.push(e.to_string());
    for n in [0usize, 1, 2, 255] {
        let n32 = n as u32;
        add(Error::InvalidDimensions {
            width: n32,
            height: n32,
        });
        add(Error::ImageTooLarge {
            width: n32.max(1),
            bits_per_pixel: n32.clamp(1, 64),
        });
        add(Error::InvalidPalette {
            len: n,
            max_entries: 256,
        });
        add(Error::InvalidChunkSize { size: n32 });
        add(Error::WrongRowLength {
            row: n32,
            len: n,
            expected: n + 1,
        });
        add(Error::TooManyRows { height: n32.max(1) });
        add(Error::TooManyBytes {
            given: n + 1,
            remaining: n as u128,
        });
        add(Error::WrongImageLength {
            len: n,
            expected: n as u128 + 1,
        });
        add(Error::MissingRows {
            written: n32,
            height: n32 + 1,
        });
        add(Error::IncompleteRow {
            have: n,
            expected: n + 1,
        });
        add(Error::OutOfMemory { bytes: n });
        add(Error::MemoryLimit {
            needed: n.saturating_add(1),
            limit: n,
        });
        add(Error::PaletteIndex {
            row: n32,
            x: n32,
            index: 255,
            palette_len: n.clamp(1, 255),
        });
        add(Error::Metadata(M::KeywordTooLong { len: n }));
        add(Error::Metadata(M::ChunkTooLarge {
            kind: *b"tEXt",
            len: n,
        }));
        add(Error::Metadata(M::InvalidSignificantBits {
            len: n,
            expected: n.max(1),
            max: 8,
        }));
        add(Error::Metadata(M::OutOfMemory { bytes: n }));
    }
    for color in ColorType::ALL {
        for depth in BitDepth::ALL {
            add(Error::InvalidBitDepth { color, depth });
            for given in ["[u8; 3] pixels", "u16 samples"] {
                add(Error::WrongPixelFormat {
                    given,
                    color,
                    depth,
                });
            }
        }
        add(Error::PaletteNotAllowed { color });
        add(Error::TransparencyNotAllowed { color });
        for (len, min, max) in [(0, 1, 1), (0, 1, 3), (1, 2, 2), (4, 1, 3), (5, 6, 6)] {
            add(Error::InvalidTransparency {
                color,
                len,
                min,
                max,
            });
        }
    }
    for depth in BitDepth::ALL {
        add(Error::TransparencyOutOfRange {
            sample: "red",
            value: u16::MAX,
            depth,
        });
    }
    add(Error::MissingPalette);
    add(Error::Poisoned);
    add(Error::Sink(SinkFull { at: 1 }));
    for m in [
        M::EmptyKeyword,
        M::KeywordCharacter { ch: '\n' },
        M::KeywordSpacing,
        M::TextCharacter { ch: '\0' },
        M::InvalidLanguageTag,
        M::InvalidExif,
        M::InvalidValue {
            kind: *b"gAMA",
            expected: "a gamma above 0",
        },
        M::InvalidChunkType { kind: *b"ab1d" },
        M::CriticalChunkType { kind: *b"ABCD" },
        M::ReservedChunkType {
            kind: *b"IDAT",
            reason: "is written by the encoder",
        },
        M::DuplicateChunk { kind: *b"gAMA" },
        M::ConflictingChunks {
            kind: *b"iCCP",
            other: *b"sRGB",
        },
        M::DuplicatePaletteName,
        M::InvalidBackground {
            given: Background::Rgb([256, 0, 1]),
            expected: "red, green and blue samples",
            max: 255,
        },
        M::InvalidBackground {
            given: Background::PaletteIndex(1),
            expected: "a palette index",
            max: 0,
        },
        M::Misplaced {
            kind: *b"tIME",
            rule: "only text",
        },
    ] {
        add(Error::Metadata(m));
    }
    // Nouns after numbers: "1 byte" but "0 bytes", "2 bytes".
    let nouns = [
        ("byte", "bytes"),
        ("row", "rows"),
        ("entry", "entries"),
        ("pixel", "pixels"),
        ("bit", "bits"),
        ("value", "values"),
        ("character", "characters"),
    ];
    let mut checked = 0;
    for text in &texts {
        assert!(!text.is_empty() && !text.ends_with(' ') && !text.ends_with(':'));
        assert!(!text.contains("  "), "{text}");
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || ",;:()".contains(c))
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let Ok(n) = pair[0].parse::<u128>() else {
                continue;
            };
            for (one, many) in nouns {
                if n == 1 {
                    assert_ne!(pair[1], many, "\"1 {many}\" in: {text}");
                } else {
                    assert_ne!(pair[1], one, "\"{n} {one}\" in: {text}");
                }
                checked += (pair[1] == one || pair[1] == many) as usize;
            }
        }
        for pair in words.windows(2) {
            if pair[0] == "a" || pair[0] == "A" {
                let next = pair[1].to_ascii_lowercase();
                let vowel_sound = next.starts_with(['a', 'e', 'i', 'o', 'u'])
                    || next.starts_with("rgb")
                    || next.starts_with("idat")
                    || next.starts_with("ihdr");
                assert!(!vowel_sound, "\"a {}\" in: {text}", pair[1]);
            }
        }
    }
    assert!(checked > 100, "{checked} counted nouns");
    // Spot checks of the forms that were wrong before.
    let joined = texts.join("\n");
    for wrong in [
        "1 rows",
        "1 bytes",
        "1 entries",
        "a RGB",
        "a indexed",
        "an greyscale",
    ] {
        assert!(!joined.contains(wrong), "{wrong:?} in:\n{joined}");
    }
    for right in ["1 byte", "1 row", "an RGB", "an indexed", "a greyscale"] {
        assert!(joined.contains(right), "{right:?} missing");
    }
}
