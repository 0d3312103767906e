//! Helpers shared by the fuzz targets: an independent model of which encoder
//! parameters PNG allows, and checks of encoded files against decoders this
//! crate did not write (the strict decode of the shared test kit, built on
//! `png`, `miniz_oxide`, `adler2` and `crc32fast`).

/// The test kit shared with the tests and benches: the strict decode, the
/// PRNG and the band painter.
#[path = "../../tests/kit/mod.rs"]
pub mod kit;

use std::convert::Infallible;

use pngstream::{BitDepth, ColorType, Compression, Error, Filter, Options};

/// The 15 valid colour type and bit depth pairs.
pub const FORMATS: [(ColorType, BitDepth); 15] = [
    (ColorType::Grayscale, BitDepth::One),
    (ColorType::Grayscale, BitDepth::Two),
    (ColorType::Grayscale, BitDepth::Four),
    (ColorType::Grayscale, BitDepth::Eight),
    (ColorType::Grayscale, BitDepth::Sixteen),
    (ColorType::Rgb, BitDepth::Eight),
    (ColorType::Rgb, BitDepth::Sixteen),
    (ColorType::Indexed, BitDepth::One),
    (ColorType::Indexed, BitDepth::Two),
    (ColorType::Indexed, BitDepth::Four),
    (ColorType::Indexed, BitDepth::Eight),
    (ColorType::GrayscaleAlpha, BitDepth::Eight),
    (ColorType::GrayscaleAlpha, BitDepth::Sixteen),
    (ColorType::Rgba, BitDepth::Eight),
    (ColorType::Rgba, BitDepth::Sixteen),
];

/// The filters of the committed API (the adaptive choice included).
pub const FILTERS: &[Filter] = Filter::ALL;

/// Encoder parameters, possibly invalid.
#[derive(Clone, Debug)]
pub struct Params {
    pub width: u32,
    pub height: u32,
    pub color: ColorType,
    pub depth: BitDepth,
    pub palette: Option<Vec<u8>>,
    pub trns: Option<Vec<u8>>,
    pub filter: Option<Filter>,
    pub level: Option<Compression>,
    pub idat: Option<u32>,
}

impl Params {
    pub fn options(&self) -> Options {
        let mut o = Options::new(self.width, self.height, self.color).bit_depth(self.depth);
        if let Some(p) = &self.palette {
            o = o.palette(p);
        }
        if let Some(t) = &self.trns {
            o = o.transparency(t);
        }
        if let Some(f) = self.filter {
            o = o.filter(f);
        }
        if let Some(l) = self.level {
            o = o.compression(l);
        }
        if let Some(n) = self.idat {
            o = o.idat_chunk_size(n);
        }
        o
    }

    pub fn bits_per_pixel(&self) -> usize {
        self.color.channels() as usize * self.depth.bits() as usize
    }

    /// Bytes of one packed row, computed here independently of the crate.
    pub fn row_bytes(&self) -> usize {
        (self.width as usize * self.bits_per_pixel()).div_ceil(8)
    }

    pub fn palette_entries(&self) -> usize {
        self.palette.as_ref().map_or(0, |p| p.len() / 3)
    }

    /// Every rule these parameters break, as the names of the errors that may
    /// report them (the encoder reports one of them); empty when valid.
    /// Written from the PNG specification, not from the encoder's code.
    pub fn violations(&self) -> Vec<&'static str> {
        const MAX: u32 = (1 << 31) - 1;
        let mut v = Vec::new();
        let (color, depth) = (self.color, self.depth);
        if !(1..=MAX).contains(&self.width) || !(1..=MAX).contains(&self.height) {
            v.push("InvalidDimensions");
        }
        let depth_ok = match color {
            ColorType::Grayscale => true,
            ColorType::Indexed => depth.bits() <= 8,
            _ => depth.bits() >= 8,
        };
        if !depth_ok {
            v.push("InvalidBitDepth");
        }
        match (&self.palette, color) {
            (None, ColorType::Indexed) => v.push("MissingPalette"),
            (Some(_), ColorType::Grayscale | ColorType::GrayscaleAlpha) => {
                v.push("PaletteNotAllowed")
            }
            (Some(p), _) => {
                let max = if color == ColorType::Indexed {
                    1usize << depth.bits()
                } else {
                    256
                };
                if p.is_empty() || p.len() % 3 != 0 || p.len() / 3 > max {
                    v.push("InvalidPalette");
                }
            }
            (None, _) => {}
        }
        if let Some(t) = &self.trns {
            let max = (1u32 << depth.bits()) - 1;
            let fits = |t: &[u8]| {
                t.chunks(2)
                    .all(|s| u16::from_be_bytes([s[0], s[1]]) as u32 <= max)
            };
            match color {
                ColorType::GrayscaleAlpha | ColorType::Rgba => v.push("TransparencyNotAllowed"),
                ColorType::Indexed => {
                    if t.is_empty() || t.len() > self.palette_entries() {
                        v.push("InvalidTransparency");
                    }
                }
                ColorType::Grayscale | ColorType::Rgb => {
                    if t.len() != 2 * color.channels() as usize {
                        v.push("InvalidTransparency");
                    } else if !fits(t) {
                        v.push("TransparencyOutOfRange");
                    }
                }
            }
        }
        if self.idat.is_some_and(|n| !(1..=MAX).contains(&n)) {
            v.push("InvalidChunkSize");
        }
        v
    }
}

/// The variant's name, for comparing with [`Params::violations`].
pub fn error_name<E>(e: &Error<E>) -> &'static str {
    match e {
        Error::InvalidDimensions { .. } => "InvalidDimensions",
        Error::ImageTooLarge { .. } => "ImageTooLarge",
        Error::InvalidBitDepth { .. } => "InvalidBitDepth",
        Error::MissingPalette => "MissingPalette",
        Error::InvalidPalette { .. } => "InvalidPalette",
        Error::PaletteNotAllowed { .. } => "PaletteNotAllowed",
        Error::InvalidTransparency { .. } => "InvalidTransparency",
        Error::TransparencyOutOfRange { .. } => "TransparencyOutOfRange",
        Error::TransparencyNotAllowed { .. } => "TransparencyNotAllowed",
        Error::InvalidChunkSize { .. } => "InvalidChunkSize",
        Error::WrongRowLength { .. } => "WrongRowLength",
        Error::WrongPixelFormat { .. } => "WrongPixelFormat",
        Error::PaletteIndex { .. } => "PaletteIndex",
        Error::TooManyRows { .. } => "TooManyRows",
        Error::TooManyBytes { .. } => "TooManyBytes",
        Error::WrongImageLength { .. } => "WrongImageLength",
        Error::MissingRows { .. } => "MissingRows",
        Error::IncompleteRow { .. } => "IncompleteRow",
        Error::OutOfMemory { .. } => "OutOfMemory",
        Error::Poisoned => "Poisoned",
        Error::Sink(_) => "Sink",
        _ => "(another error)",
    }
}

/// Checks a constructor's (or `encode`'s) result against the model: an error
/// named in `violations` when there are any, success otherwise.
pub fn check_outcome<T, E: std::fmt::Debug>(
    params: &Params,
    violations: &[&str],
    r: &Result<T, Error<E>>,
) {
    match r {
        Ok(_) => assert!(
            violations.is_empty(),
            "accepted parameters that break {violations:?}: {params:?}"
        ),
        Err(e) => assert!(
            violations.contains(&error_name(e)),
            "error {e:?} for parameters that break {violations:?}: {params:?}"
        ),
    }
}

/// Zeroes the unused low bits of the last byte of every packed row.
pub fn mask_padding(data: &mut [u8], row_bytes: usize, width: u32, bits_per_pixel: usize) {
    let used = (width as usize * bits_per_pixel) % 8;
    if used == 0 || row_bytes == 0 {
        return;
    }
    for row in data.chunks_mut(row_bytes) {
        let last = row.len() - 1;
        row[last] &= 0xFFu8 << (8 - used);
    }
}

/// What the `png` crate reports as tRNS: greyscale and RGB samples below
/// 16 bits as one byte each (the low byte), everything else as stored.
pub fn png_crate_trns(trns: &[u8], color: ColorType, depth: BitDepth) -> Vec<u8> {
    match color {
        ColorType::Grayscale | ColorType::Rgb if depth != BitDepth::Sixteen => {
            trns.chunks(2).map(|s| s[1]).collect()
        }
        _ => trns.to_vec(),
    }
}

/// Checks `bytes` strictly (the shared kit: every CRC, chunk order, one
/// zlib stream with its Adler-32, the exact inflated length, then the `png`
/// crate), then against `p` with no help from the encoder: IHDR's fields;
/// PLTE and tRNS exactly as given, in PNG's order; IDATs each but the last
/// exactly the chunk size and the last 1 to that size; a fixed filter on
/// every row.
pub fn check_file(bytes: &[u8], p: &Params) -> kit::Decoded {
    let d = kit::strict_decode(bytes).unwrap_or_else(|e| panic!("strict decode of {p:?}: {e}"));
    let chunks = &d.chunks;
    let kinds: Vec<&[u8; 4]> = chunks.iter().map(|c| &c.0).collect();
    let ihdr = &chunks[0].1;
    assert_eq!(ihdr[..4], p.width.to_be_bytes());
    assert_eq!(ihdr[4..8], p.height.to_be_bytes());
    assert_eq!(ihdr[8..], [p.depth.bits(), p.color.code(), 0, 0, 0]);
    let mut i = 1;
    if let Some(pal) = &p.palette {
        assert_eq!(kinds[i], b"PLTE");
        assert_eq!(chunks[i].1, &pal[..]);
        i += 1;
    }
    if let Some(t) = &p.trns {
        assert_eq!(kinds[i], b"tRNS");
        assert_eq!(chunks[i].1, &t[..]);
        i += 1;
    }
    let idats = &chunks[i..chunks.len() - 1];
    assert!(!idats.is_empty());
    // Without a size set, the default (which may depend on the level) is
    // whatever the first of several IDATs holds.
    let max = match p.idat {
        Some(n) => n as usize,
        None if idats.len() > 1 => idats[0].1.len(),
        None => usize::MAX,
    };
    for (k, (kind, data)) in idats.iter().enumerate() {
        assert_eq!(
            kind, b"IDAT",
            "only IDAT between the header chunks and IEND"
        );
        if k + 1 < idats.len() {
            assert_eq!(data.len(), max, "IDAT {k} of {} not full", idats.len());
        } else {
            assert!(
                (1..=max).contains(&data.len()),
                "last IDAT of {}",
                data.len()
            );
        }
    }
    let n = p.row_bytes();
    // A fixed filter shows on every row; an adaptive choice is one of five.
    let fixed = match p.options().effective_filter() {
        Filter::None => Some(0),
        Filter::Sub => Some(1),
        Filter::Up => Some(2),
        Filter::Average => Some(3),
        Filter::Paeth => Some(4),
        _ => None,
    };
    if let Some(f) = fixed {
        for (y, row) in d.filtered.chunks(n + 1).enumerate() {
            assert_eq!(row[0], f, "filter type on row {y}");
        }
    }
    d
}

/// Decodes `bytes` with the `png` crate and checks it holds exactly the
/// image `p` describes with pixel data `img` (padding bits ignored).
pub fn check_png(bytes: &[u8], p: &Params, img: &[u8]) {
    let d = check_file(bytes, p);
    assert_eq!((d.width, d.height), (p.width, p.height));
    assert_eq!(d.color_code, p.color.code());
    assert_eq!(d.bits, p.depth.bits());
    assert!(!d.interlaced);
    assert_eq!(d.palette, p.palette, "palette");
    let want_trns = p.trns.as_ref().map(|t| png_crate_trns(t, p.color, p.depth));
    assert_eq!(d.trns, want_trns, "tRNS as the png crate reports it");
    let n = p.row_bytes();
    let (mut got, mut want) = (d.data, img.to_vec());
    mask_padding(&mut got, n, p.width, p.bits_per_pixel());
    mask_padding(&mut want, n, p.width, p.bits_per_pixel());
    if got != want {
        let i = got.iter().zip(&want).position(|(a, b)| a != b);
        panic!(
            "pixels differ: {} vs {} bytes, first difference at byte {i:?} (row {:?})",
            got.len(),
            want.len(),
            i.map(|i| i / n.max(1))
        );
    }
}

/// The result type of the one-shot helper, for naming.
pub type EncodeResult = Result<Vec<u8>, Error<Infallible>>;

/// The deterministic byte generator of the test kit.
pub use kit::Rng;
