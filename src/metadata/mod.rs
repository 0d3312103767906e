//! Ancillary chunks: text, colour information, physical size, time, Exif,
//! suggested palettes and custom chunks, placed where PNG requires.
//!
//! - [`text`] has the keyword rules and tEXt / zTXt / iTXt;
//! - [`values`] the other standard chunks' typed values;
//! - [`custom`] chunks of any other type;
//! - [`error`] the [`MetadataError`] type;
//! - this file [`Metadata`], which gathers them, and the rules that involve
//!   the image header or several chunks (uniqueness, exclusion, order).
//!
//! Where each chunk goes (PNG Third Edition §5.6):
//!
//! | stage | chunks |
//! |-------|--------|
//! | after IHDR, before PLTE | cHRM, gAMA, iCCP, sRGB, sBIT, cICP, mDCV, cLLI, custom [`Placement::BeforePalette`] |
//! | after PLTE and tRNS, before IDAT | bKGD, pHYs, sPLT, eXIf, text, tIME, custom [`Placement::BeforeImageData`] |
//! | after IDAT, before IEND | custom [`Placement::AfterImageData`]; text and tIME given to [`finish_with`](crate::StreamingWriter::finish_with) |

mod custom;
mod error;
mod text;
mod values;

use alloc::vec::Vec;

use crate::chunk;
use crate::color::{BitDepth, ColorType};
use crate::sink::Sink;

pub use custom::{CustomChunk, Placement};
pub use error::MetadataError;
pub use text::Text;
pub use values::{
    Background, Chromaticities, Cicp, ContentLightLevel, Exif, Gamma, IccProfile, MasteringDisplay,
    PaletteEntry, PixelDensity, RenderingIntent, SignificantBits, SuggestedPalette, Time, Unit,
};

/// One ancillary chunk's worth of metadata, for
/// [`Options::metadata`](crate::Options::metadata) and
/// [`StreamingWriter::finish_with`](crate::StreamingWriter::finish_with).
///
/// Every value type converts into it with `From`, so those methods take the
/// values directly. The encoder writes each chunk where PNG requires it,
/// whatever the order they were given in.
///
/// ```
/// use pngstream::{ColorType, Gamma, Options, PixelDensity, RenderingIntent, Text};
/// let opts = Options::new(64, 64, ColorType::Rgb)
///     .metadata(RenderingIntent::Perceptual)
///     .metadata(Gamma::SRGB)
///     .metadata(PixelDensity::dpi(300)?)
///     .metadata(Text::new("Software", "my-renderer 1.0")?);
/// # let _ = opts;
/// # Ok::<(), pngstream::MetadataError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Metadata {
    /// tEXt, zTXt or iTXt; any number.
    Text(Text),
    /// gAMA.
    Gamma(Gamma),
    /// cHRM.
    Chromaticities(Chromaticities),
    /// sRGB; excludes iCCP.
    Srgb(RenderingIntent),
    /// iCCP; excludes sRGB.
    IccProfile(IccProfile),
    /// cICP.
    Cicp(Cicp),
    /// mDCV.
    MasteringDisplay(MasteringDisplay),
    /// cLLI.
    ContentLightLevel(ContentLightLevel),
    /// sBIT.
    SignificantBits(SignificantBits),
    /// pHYs.
    PixelDensity(PixelDensity),
    /// tIME.
    Time(Time),
    /// bKGD.
    Background(Background),
    /// eXIf.
    Exif(Exif),
    /// sPLT; any number, with distinct names.
    SuggestedPalette(SuggestedPalette),
    /// Any other ancillary chunk.
    Custom(CustomChunk),
}

macro_rules! from {
    ($($variant:ident),*) => {$(
        impl From<$variant> for Metadata {
            fn from(v: $variant) -> Metadata {
                Metadata::$variant(v)
            }
        }
    )*};
}
from!(
    Text,
    Gamma,
    Chromaticities,
    IccProfile,
    Cicp,
    MasteringDisplay,
    ContentLightLevel,
    SignificantBits,
    PixelDensity,
    Time,
    Background,
    Exif,
    SuggestedPalette
);

impl From<RenderingIntent> for Metadata {
    fn from(v: RenderingIntent) -> Metadata {
        Metadata::Srgb(v)
    }
}

impl From<CustomChunk> for Metadata {
    fn from(v: CustomChunk) -> Metadata {
        Metadata::Custom(v)
    }
}

/// The parts of the file where ancillary chunks are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    BeforePalette,
    BeforeImageData,
    AfterImageData,
}

impl Metadata {
    /// The chunk type this value is written as.
    pub fn chunk_type(&self) -> [u8; 4] {
        use Metadata::*;
        match self {
            Text(t) => t.kind,
            Gamma(_) => *b"gAMA",
            Chromaticities(_) => *b"cHRM",
            Srgb(_) => *b"sRGB",
            IccProfile(_) => *b"iCCP",
            Cicp(_) => *b"cICP",
            MasteringDisplay(_) => *b"mDCV",
            ContentLightLevel(_) => *b"cLLI",
            SignificantBits(_) => *b"sBIT",
            PixelDensity(_) => *b"pHYs",
            Time(_) => *b"tIME",
            Background(_) => *b"bKGD",
            Exif(_) => *b"eXIf",
            SuggestedPalette(_) => *b"sPLT",
            Custom(c) => c.kind,
        }
    }

    /// Where the chunk goes when given to [`Options::metadata`](crate::Options::metadata).
    fn stage(&self) -> Stage {
        use Metadata::*;
        match self {
            Gamma(_) | Chromaticities(_) | Srgb(_) | IccProfile(_) | Cicp(_)
            | MasteringDisplay(_) | ContentLightLevel(_) | SignificantBits(_) => {
                Stage::BeforePalette
            }
            Custom(c) => match c.placement {
                Placement::BeforePalette => Stage::BeforePalette,
                Placement::BeforeImageData => Stage::BeforeImageData,
                Placement::AfterImageData => Stage::AfterImageData,
            },
            _ => Stage::BeforeImageData,
        }
    }

    /// Whether PNG allows at most one chunk of this type. (Custom types are
    /// unknown to us; their users know their rules.)
    fn unique(&self) -> bool {
        !matches!(
            self,
            Metadata::Text(_) | Metadata::SuggestedPalette(_) | Metadata::Custom(_)
        )
    }

    /// Writes the chunk.
    fn write<S: Sink>(&self, sink: &mut S) -> Result<(), S::Error> {
        use Metadata::*;
        let mut buf = [0u8; 32];
        let data: &[u8] = match self {
            Text(t) => &t.data,
            IccProfile(p) => &p.data,
            Exif(e) => &e.data,
            SuggestedPalette(p) => &p.data,
            Custom(c) => &c.data,
            fixed => {
                let n = fixed.fixed_bytes(&mut buf);
                &buf[..n]
            }
        };
        chunk::write_chunk(sink, self.chunk_type(), data)
    }

    /// Puts the data of a fixed-size chunk in `buf`, returning its length
    /// (0 for the variable-size ones, which hold their data).
    fn fixed_bytes(&self, buf: &mut [u8; 32]) -> usize {
        use Metadata::*;
        let mut put = |b: &[u8]| {
            buf[..b.len()].copy_from_slice(b);
            b.len()
        };
        match self {
            Gamma(g) => put(&g.scaled().to_be_bytes()),
            Chromaticities(c) => put(&c.bytes()),
            Srgb(i) => put(&[*i as u8]),
            Cicp(c) => put(&c.bytes()),
            MasteringDisplay(m) => put(&m.bytes()),
            ContentLightLevel(c) => put(&c.bytes()),
            SignificantBits(s) => put(s.bits()),
            PixelDensity(p) => put(&p.bytes()),
            Time(t) => put(&t.bytes()),
            Background(self::Background::Gray(g)) => put(&g.to_be_bytes()),
            Background(self::Background::Rgb([r, g, b])) => {
                let [r0, r1] = r.to_be_bytes();
                let [g0, g1] = g.to_be_bytes();
                let [b0, b1] = b.to_be_bytes();
                put(&[r0, r1, g0, g1, b0, b1])
            }
            Background(self::Background::PaletteIndex(i)) => put(&[*i]),
            Text(_) | IccProfile(_) | Exif(_) | SuggestedPalette(_) | Custom(_) => 0,
        }
    }
}

/// Writes the chunks of `items` that belong to `stage`, in the order given.
pub(crate) fn write_stage<S: Sink>(
    sink: &mut S,
    items: &[Metadata],
    stage: Stage,
) -> Result<(), S::Error> {
    for m in items.iter().filter(|m| m.stage() == stage) {
        m.write(sink)?;
    }
    Ok(())
}

/// What the image header says, as far as metadata cares.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Header {
    pub(crate) color: ColorType,
    pub(crate) depth: BitDepth,
    /// Entries of the palette, if there is one.
    pub(crate) palette: Option<usize>,
}

/// Checks the rules that involve the header or several chunks: at most one of
/// each unique type, sRGB without iCCP, distinct sPLT names, bKGD and sBIT
/// against the colour type and depth, hIST against the palette.
pub(crate) fn check(items: &[Metadata], header: Header) -> Result<(), MetadataError> {
    for (i, m) in items.iter().enumerate() {
        let kind = m.chunk_type();
        let earlier = &items[..i];
        if m.unique() && earlier.iter().any(|e| e.chunk_type() == kind) {
            return Err(MetadataError::DuplicateChunk { kind });
        }
        match m {
            Metadata::Srgb(_) | Metadata::IccProfile(_) => {
                let other = if kind == *b"sRGB" { *b"iCCP" } else { *b"sRGB" };
                if earlier.iter().any(|e| e.chunk_type() == other) {
                    return Err(MetadataError::ConflictingChunks { kind, other });
                }
            }
            Metadata::SuggestedPalette(p) => {
                let same = |e: &Metadata| matches!(e, Metadata::SuggestedPalette(q) if q.name() == p.name());
                if earlier.iter().any(same) {
                    return Err(MetadataError::DuplicatePaletteName);
                }
            }
            Metadata::Background(b) => check_background(*b, header)?,
            Metadata::SignificantBits(s) => check_significant_bits(s, header)?,
            Metadata::Custom(c)
                if c.kind == *b"hIST" && header.palette.map(|n| n * 2) != Some(c.data.len()) =>
            {
                return Err(MetadataError::InvalidValue {
                    kind,
                    expected: "a palette, and 2 bytes of hIST per palette entry",
                });
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_background(b: Background, h: Header) -> Result<(), MetadataError> {
    let sample_max = u16::MAX >> (16 - h.depth.bits());
    let (ok, expected, max) = match h.color {
        ColorType::Indexed => {
            let entries = h.palette.unwrap_or(0);
            (
                matches!(b, Background::PaletteIndex(i) if (i as usize) < entries),
                "a palette index",
                entries.saturating_sub(1) as u16,
            )
        }
        ColorType::Grayscale | ColorType::GrayscaleAlpha => (
            matches!(b, Background::Gray(g) if g <= sample_max),
            "a grey level",
            sample_max,
        ),
        ColorType::Rgb | ColorType::Rgba => (
            matches!(b, Background::Rgb(rgb) if rgb.iter().all(|&s| s <= sample_max)),
            "red, green and blue samples",
            sample_max,
        ),
    };
    if ok {
        Ok(())
    } else {
        Err(MetadataError::InvalidBackground {
            given: b,
            expected,
            max,
        })
    }
}

fn check_significant_bits(s: &SignificantBits, h: Header) -> Result<(), MetadataError> {
    let (expected, max) = match h.color {
        // Palette entries are always 8-bit samples.
        ColorType::Indexed => (3, 8),
        c => (c.channels() as usize, h.depth.bits()),
    };
    let bits = s.bits();
    if bits.len() != expected || bits.iter().any(|&b| b > max) {
        return Err(MetadataError::InvalidSignificantBits {
            len: bits.len(),
            expected,
            max,
        });
    }
    Ok(())
}

/// The chunks a writer owes after the image data: the custom ones placed
/// there through [`Options::metadata`](crate::Options::metadata), and whether a
/// tIME was already written (PNG allows one).
#[derive(Clone, Debug, Default)]
pub(crate) struct Trailer {
    chunks: Vec<Metadata>,
    has_time: bool,
}

impl Trailer {
    /// Bytes [`new`](Self::new) allocates for `items`: the list and a copy
    /// of each chunk's data (only custom chunks go after the image data).
    pub(crate) fn bytes(items: &[Metadata]) -> usize {
        items
            .iter()
            .filter(|m| m.stage() == Stage::AfterImageData)
            .map(|m| {
                core::mem::size_of::<Metadata>()
                    + match m {
                        Metadata::Custom(c) => c.data.len(),
                        _ => 0,
                    }
            })
            .sum()
    }

    pub(crate) fn new(items: &[Metadata]) -> Trailer {
        Trailer {
            chunks: items
                .iter()
                .filter(|m| m.stage() == Stage::AfterImageData)
                .cloned()
                .collect(),
            has_time: items.iter().any(|m| matches!(m, Metadata::Time(_))),
        }
    }

    /// Checks chunks given to `finish_with`: only text, tIME and custom chunks
    /// placed after the image data, and one tIME in the whole file.
    pub(crate) fn check(&self, extra: &[Metadata]) -> Result<(), MetadataError> {
        let mut has_time = self.has_time;
        for m in extra {
            let kind = m.chunk_type();
            match m {
                Metadata::Text(_) => {}
                Metadata::Time(_) if has_time => {
                    return Err(MetadataError::DuplicateChunk { kind });
                }
                Metadata::Time(_) => has_time = true,
                Metadata::Custom(c) if c.placement == Placement::AfterImageData => {}
                _ => {
                    return Err(MetadataError::Misplaced {
                        kind,
                        rule: "only text, tIME and custom chunks placed AfterImageData may follow the image data",
                    });
                }
            }
        }
        Ok(())
    }

    /// Writes the owed chunks, then `extra`.
    pub(crate) fn write<S: Sink>(&self, sink: &mut S, extra: &[Metadata]) -> Result<(), S::Error> {
        for m in self.chunks.iter().chain(extra) {
            m.write(sink)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const RGB8: Header = Header {
        color: ColorType::Rgb,
        depth: BitDepth::Eight,
        palette: None,
    };

    #[test]
    fn uniqueness_and_exclusion() {
        let g = Metadata::from(Gamma::SRGB);
        assert_eq!(check(core::slice::from_ref(&g), RGB8), Ok(()));
        assert_eq!(
            check(&[g.clone(), g.clone()], RGB8),
            Err(MetadataError::DuplicateChunk { kind: *b"gAMA" })
        );
        let icc = Metadata::from(IccProfile::new("p", &[1, 2, 3]).unwrap());
        let srgb = Metadata::from(RenderingIntent::Perceptual);
        assert_eq!(
            check(&[icc.clone(), srgb.clone()], RGB8),
            Err(MetadataError::ConflictingChunks {
                kind: *b"sRGB",
                other: *b"iCCP"
            })
        );
        assert_eq!(
            check(&[srgb, icc], RGB8),
            Err(MetadataError::ConflictingChunks {
                kind: *b"iCCP",
                other: *b"sRGB"
            })
        );
        let t = Metadata::from(Text::new("Title", "a").unwrap());
        assert_eq!(check(&[t.clone(), t], RGB8), Ok(()));
        let p = |n| Metadata::from(SuggestedPalette::new(n, BitDepth::Eight, &[]).unwrap());
        assert_eq!(check(&[p("a"), p("b")], RGB8), Ok(()));
        assert_eq!(
            check(&[p("a"), p("b"), p("a")], RGB8),
            Err(MetadataError::DuplicatePaletteName)
        );
    }

    #[test]
    fn background_fits_header() {
        let h = |color, depth, palette| Header {
            color,
            depth,
            palette,
        };
        let ok = |b, h| check_background(b, h).is_ok();
        use Background::*;
        assert!(ok(Gray(15), h(ColorType::Grayscale, BitDepth::Four, None)));
        assert!(!ok(Gray(16), h(ColorType::Grayscale, BitDepth::Four, None)));
        assert!(ok(
            Gray(65535),
            h(ColorType::GrayscaleAlpha, BitDepth::Sixteen, None)
        ));
        assert!(!ok(
            Rgb([0; 3]),
            h(ColorType::Grayscale, BitDepth::Eight, None)
        ));
        assert!(ok(Rgb([255, 0, 1]), RGB8));
        assert!(!ok(Rgb([256, 0, 1]), RGB8));
        assert!(!ok(Gray(0), RGB8));
        assert!(!ok(PaletteIndex(0), RGB8));
        let idx = h(ColorType::Indexed, BitDepth::Two, Some(3));
        assert!(ok(PaletteIndex(2), idx));
        assert!(!ok(PaletteIndex(3), idx));
        assert!(!ok(Gray(0), idx));
    }

    #[test]
    fn significant_bits_fit_header() {
        let s = |b: &[u8]| SignificantBits::new(b).unwrap();
        let h = |color, depth| Header {
            color,
            depth,
            palette: Some(4),
        };
        assert!(check_significant_bits(&s(&[5, 6, 5]), RGB8).is_ok());
        assert!(check_significant_bits(&s(&[5, 6]), RGB8).is_err());
        assert!(check_significant_bits(&s(&[9, 6, 5]), RGB8).is_err());
        assert!(check_significant_bits(&s(&[2]), h(ColorType::Grayscale, BitDepth::Two)).is_ok());
        assert!(check_significant_bits(&s(&[3]), h(ColorType::Grayscale, BitDepth::Two)).is_err());
        assert!(
            check_significant_bits(&s(&[8, 8, 8]), h(ColorType::Indexed, BitDepth::One)).is_ok()
        );
        assert!(
            check_significant_bits(
                &s(&[16, 1]),
                h(ColorType::GrayscaleAlpha, BitDepth::Sixteen)
            )
            .is_ok()
        );
        assert!(
            check_significant_bits(&s(&[1, 1, 1]), h(ColorType::Rgba, BitDepth::Eight)).is_err()
        );
    }

    #[test]
    fn trailer_rules() {
        let time = Metadata::from(Time::new(2020, 1, 1, 0, 0, 0).unwrap());
        let after =
            Metadata::from(CustomChunk::new(*b"abCd", &[1], Placement::AfterImageData).unwrap());
        let before =
            Metadata::from(CustomChunk::new(*b"abCd", &[1], Placement::BeforeImageData).unwrap());
        let text = Metadata::from(Text::new("k", "v").unwrap());
        let t = Trailer::new(&[after.clone(), before.clone(), text.clone()]);
        assert_eq!(t.chunks, vec![after.clone()]);
        assert_eq!(
            t.check(&[text.clone(), time.clone(), after.clone()]),
            Ok(())
        );
        assert!(matches!(
            t.check(&[before]),
            Err(MetadataError::Misplaced { .. })
        ));
        assert!(matches!(
            t.check(&[Gamma::SRGB.into()]),
            Err(MetadataError::Misplaced { .. })
        ));
        assert_eq!(
            t.check(&[time.clone(), time.clone()]),
            Err(MetadataError::DuplicateChunk { kind: *b"tIME" })
        );
        let t = Trailer::new(core::slice::from_ref(&time));
        assert_eq!(
            t.check(&[time]),
            Err(MetadataError::DuplicateChunk { kind: *b"tIME" })
        );
        let mut out = Vec::new();
        Trailer::new(&[after]).write(&mut out, &[text]).unwrap();
        assert_eq!(&out[4..8], b"abCd");
        assert_eq!(&out[13 + 4..][..4], b"tEXt");
    }
}
