//! Colour types, bit depths and the image header (IHDR) they make up, with
//! the row geometry derived from them.

use core::fmt;

/// How pixels are made up, as the IHDR colour type says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorType {
    /// One grey sample per pixel (1, 2, 4, 8 or 16 bits).
    Grayscale,
    /// Red, green and blue samples (8 or 16 bits each).
    Rgb,
    /// One palette index per pixel (1, 2, 4 or 8 bits); needs a palette.
    Indexed,
    /// Grey and alpha samples (8 or 16 bits each).
    GrayscaleAlpha,
    /// Red, green, blue and alpha samples (8 or 16 bits each).
    Rgba,
}

impl ColorType {
    /// Every colour type.
    pub const ALL: [ColorType; 5] = [
        ColorType::Grayscale,
        ColorType::Rgb,
        ColorType::Indexed,
        ColorType::GrayscaleAlpha,
        ColorType::Rgba,
    ];

    /// Samples per pixel.
    pub fn channels(self) -> u8 {
        match self {
            ColorType::Grayscale | ColorType::Indexed => 1,
            ColorType::GrayscaleAlpha => 2,
            ColorType::Rgb => 3,
            ColorType::Rgba => 4,
        }
    }

    /// The colour type code written in IHDR.
    pub fn code(self) -> u8 {
        match self {
            ColorType::Grayscale => 0,
            ColorType::Rgb => 2,
            ColorType::Indexed => 3,
            ColorType::GrayscaleAlpha => 4,
            ColorType::Rgba => 6,
        }
    }

    /// The bit depths PNG allows for this colour type (PNG §11.2.2 table 11.1).
    pub fn allows(self, depth: BitDepth) -> bool {
        use BitDepth::*;
        match self {
            ColorType::Grayscale => true,
            ColorType::Indexed => depth != Sixteen,
            _ => matches!(depth, Eight | Sixteen),
        }
    }
}

impl fmt::Display for ColorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ColorType::Grayscale => "greyscale",
            ColorType::Rgb => "RGB",
            ColorType::Indexed => "indexed",
            ColorType::GrayscaleAlpha => "greyscale+alpha",
            ColorType::Rgba => "RGBA",
        })
    }
}

/// Bits per sample (per palette index for indexed images).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BitDepth {
    /// 1 bit.
    One,
    /// 2 bits.
    Two,
    /// 4 bits.
    Four,
    /// 8 bits.
    Eight,
    /// 16 bits, stored big-endian.
    Sixteen,
}

impl BitDepth {
    /// Every bit depth.
    pub const ALL: [BitDepth; 5] = [
        BitDepth::One,
        BitDepth::Two,
        BitDepth::Four,
        BitDepth::Eight,
        BitDepth::Sixteen,
    ];

    /// The depth in bits.
    pub fn bits(self) -> u8 {
        match self {
            BitDepth::One => 1,
            BitDepth::Two => 2,
            BitDepth::Four => 4,
            BitDepth::Eight => 8,
            BitDepth::Sixteen => 16,
        }
    }

    /// The depth of `bits` bits, if PNG has one.
    pub fn from_bits(bits: u8) -> Option<BitDepth> {
        BitDepth::ALL.into_iter().find(|d| d.bits() == bits)
    }
}

/// The largest width or height PNG allows (2^31 − 1).
pub const MAX_DIMENSION: u32 = crate::chunk::MAX_U31;

/// Image geometry checked against the PNG rules, with the row sizes it implies.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Geometry {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) color: ColorType,
    pub(crate) depth: BitDepth,
    /// Bytes in one packed row, without the filter byte.
    pub(crate) row_bytes: usize,
    /// Filter distance: bytes per complete pixel, at least 1.
    pub(crate) bpp: usize,
}

impl Geometry {
    pub(crate) fn bits_per_pixel(color: ColorType, depth: BitDepth) -> u32 {
        color.channels() as u32 * depth.bits() as u32
    }

    /// Bytes of one row, or `None` when it does not fit in memory's address
    /// space (possible on 32-bit targets) or with the filter byte in `usize`.
    pub(crate) fn row_bytes(width: u32, color: ColorType, depth: BitDepth) -> Option<usize> {
        let bits = width as u64 * Self::bits_per_pixel(color, depth) as u64;
        let bytes = usize::try_from(bits.div_ceil(8)).ok()?;
        bytes.checked_add(1)?;
        Some(bytes)
    }

    /// The IHDR chunk's 13 data bytes: no interlacing, the only compression and
    /// filter methods PNG defines.
    pub(crate) fn ihdr(&self) -> [u8; 13] {
        let mut d = [0u8; 13];
        d[0..4].copy_from_slice(&self.width.to_be_bytes());
        d[4..8].copy_from_slice(&self.height.to_be_bytes());
        d[8] = self.depth.bits();
        d[9] = self.color.code();
        d
    }
}
