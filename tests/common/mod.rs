//! Helpers shared by the integration tests: a deterministic PRNG, the list of
//! valid formats, row generators, and decoding through the `png` and `image`
//! crates (decoders this crate did not write).

#![allow(dead_code)]

use std::io::Cursor;

use pngstream::{BitDepth, ColorType, Compression, Filter, Options, StreamingWriter};

#[path = "../kit/mod.rs"]
mod kit;
#[allow(unused_imports)]
pub use kit::bands::{get_sample, set_sample};
#[allow(unused_imports)]
pub use kit::{Decoded, Rng, bands, counting, strict, strict_decode, walk_chunks};

/// A colour type with a bit depth PNG allows for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub color: ColorType,
    pub depth: BitDepth,
}

impl Format {
    pub fn bits_per_pixel(self) -> usize {
        self.color.channels() as usize * self.depth.bits() as usize
    }

    pub fn row_bytes(self, width: u32) -> usize {
        (width as usize * self.bits_per_pixel()).div_ceil(8)
    }

    pub fn name(self) -> String {
        format!("{}/{}", self.color, self.depth.bits())
    }
}

/// Every valid colour type × bit depth (15 of them).
pub fn all_formats() -> Vec<Format> {
    let mut v = Vec::new();
    for color in ColorType::ALL {
        for depth in BitDepth::ALL {
            if color.allows(depth) {
                v.push(Format { color, depth });
            }
        }
    }
    assert_eq!(v.len(), 15, "grey 5 + RGB 2 + indexed 4 + GA 2 + RGBA 2");
    v
}

/// Zeroes the unused low bits of the last byte of a packed row.
pub fn mask_padding(row: &mut [u8], width: u32, fmt: Format) {
    let bits = width as usize * fmt.bits_per_pixel();
    let used = bits % 8;
    if used != 0 {
        let last = row.len() - 1;
        row[last] &= 0xFFu8 << (8 - used);
    }
}

/// Makes every palette index of a packed indexed row smaller than `entries`.
pub fn clamp_indices(row: &mut [u8], width: u32, depth: BitDepth, entries: usize) {
    let d = depth.bits() as usize;
    for x in 0..width as usize {
        let v = get_sample(row, x, d);
        set_sample(row, x, d, v % entries as u32);
    }
}

/// What a row of test data looks like.
#[derive(Clone, Copy, Debug)]
pub enum Pattern {
    Random,
    Gradient,
    Constant,
    /// The same bytes as the row before (random for the first row).
    Repeat,
    /// A short random motif repeated along the row.
    Motif,
}

pub const PATTERNS: [Pattern; 5] = [
    Pattern::Random,
    Pattern::Gradient,
    Pattern::Constant,
    Pattern::Repeat,
    Pattern::Motif,
];

/// Fills `row` (one packed row) following `pattern`; `prev` is the row above.
pub fn fill_row(
    rng: &mut Rng,
    pattern: Pattern,
    y: usize,
    prev: Option<&[u8]>,
    row: &mut [u8],
    width: u32,
    fmt: Format,
) {
    match pattern {
        Pattern::Random => rng.fill(row),
        Pattern::Gradient => {
            // Per sample: a ramp in x and y, in the sample's own width.
            let d = fmt.depth.bits() as usize;
            let ch = fmt.color.channels() as usize;
            let max = (1u32 << d) - 1;
            for x in 0..width as usize {
                for c in 0..ch {
                    let v = ((x * (c + 1) * 3 + y * 5) as u32).wrapping_mul(if d == 16 {
                        257
                    } else {
                        1
                    });
                    set_sample(row, x * ch + c, d, v & max);
                }
            }
        }
        Pattern::Constant => {
            let b = rng.byte();
            row.fill(b);
        }
        Pattern::Repeat => match prev {
            Some(p) => row.copy_from_slice(p),
            None => rng.fill(row),
        },
        Pattern::Motif => {
            let k = rng.range(1, 11);
            let motif = rng.bytes(k);
            for (i, b) in row.iter_mut().enumerate() {
                *b = motif[i % k];
            }
        }
    }
    mask_padding(row, width, fmt);
}

/// `height` rows of `fmt`, patterns chosen from `seed`, concatenated.
pub fn make_image(rng: &mut Rng, width: u32, height: u32, fmt: Format) -> Vec<u8> {
    let n = fmt.row_bytes(width);
    let mut img = vec![0u8; n * height as usize];
    for y in 0..height as usize {
        let pattern = PATTERNS[rng.below(PATTERNS.len())];
        let (done, rest) = img.split_at_mut(y * n);
        let prev = if y > 0 {
            Some(&done[(y - 1) * n..])
        } else {
            None
        };
        fill_row(rng, pattern, y, prev, &mut rest[..n], width, fmt);
    }
    img
}

/// A palette of `entries` random colours.
pub fn random_palette(rng: &mut Rng, entries: usize) -> Vec<u8> {
    rng.bytes(3 * entries)
}

/// Checks one of our files strictly (every CRC, the zlib stream and its
/// Adler-32, the exact inflated length; see `tests/kit`) and decodes it
/// with the `png` crate, rows raw.
pub fn decode_png(bytes: &[u8]) -> Result<Decoded, String> {
    strict_decode(bytes)
}

/// Decodes a file we did not write (interlaced ones included) with the
/// `png` crate alone, [`png::Transformations::IDENTITY`]: sub-byte and
/// 16-bit samples come back as stored in the file.
pub fn decode_foreign(bytes: &[u8]) -> Result<Decoded, png::DecodingError> {
    let mut dec = png::Decoder::new(Cursor::new(bytes));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info()?;
    let size = reader
        .output_buffer_size()
        .expect("image too large for this test");
    let mut data = vec![0u8; size];
    reader.next_frame(&mut data)?;
    reader.finish()?;
    let info = reader.info();
    Ok(Decoded {
        width: info.width,
        height: info.height,
        color_code: info.color_type as u8,
        bits: info.bit_depth as u8,
        interlaced: info.interlaced,
        palette: info.palette.as_ref().map(|p| p.to_vec()),
        trns: info.trns.as_ref().map(|t| t.to_vec()),
        data,
        filtered: Vec::new(),
        chunks: Vec::new(),
    })
}

/// Everything one encode needs.
#[derive(Clone, Debug)]
pub struct Case {
    pub width: u32,
    pub height: u32,
    pub fmt: Format,
    pub filter: Filter,
    pub level: Compression,
    pub palette: Option<Vec<u8>>,
    pub trns: Option<Vec<u8>>,
    pub idat: Option<u32>,
}

impl Case {
    /// The shape of this image's packed rows, for the band painter.
    pub fn layout(&self) -> bands::Layout {
        bands::Layout {
            row_bytes: self.fmt.row_bytes(self.width),
            samples: self.width as usize * self.fmt.color.channels() as usize,
            depth: self.fmt.depth.bits() as usize,
        }
    }

    pub fn options(&self) -> Options {
        let mut o = Options::new(self.width, self.height, self.fmt.color)
            .bit_depth(self.fmt.depth)
            .filter(self.filter)
            .compression(self.level);
        if let Some(p) = &self.palette {
            o = o.palette(p);
        }
        if let Some(t) = &self.trns {
            o = o.transparency(t);
        }
        if let Some(n) = self.idat {
            o = o.idat_chunk_size(n);
        }
        o
    }
}

/// Encodes `img` row by row with `write_row`.
pub fn encode_rows(case: &Case, img: &[u8]) -> Vec<u8> {
    let mut w = StreamingWriter::with_options(Vec::new(), &case.options())
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
    let n = case.fmt.row_bytes(case.width);
    assert_eq!(w.row_bytes(), n, "{case:?}");
    for row in img.chunks(n) {
        w.write_row(row).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{case:?}: {e}"))
}

/// Decodes `png` with the `png` crate and checks it is exactly `case` with
/// pixel data `img`.
pub fn check_png(png_bytes: &[u8], case: &Case, img: &[u8]) {
    let d = decode_png(png_bytes).unwrap_or_else(|e| panic!("png crate rejects {case:?}: {e}"));
    assert_eq!((d.width, d.height), (case.width, case.height), "{case:?}");
    assert_eq!(d.color_code, case.fmt.color.code(), "{case:?}");
    assert_eq!(d.bits, case.fmt.depth.bits(), "{case:?}");
    assert!(!d.interlaced, "{case:?}");
    assert_eq!(d.palette, case.palette, "palette of {case:?}");
    let want_trns = case
        .trns
        .as_ref()
        .map(|t| png_crate_trns(t, case.fmt.color, case.fmt.depth));
    assert_eq!(
        d.trns, want_trns,
        "tRNS (as the png crate reports it) of {case:?}"
    );
    // The chunks themselves, byte for byte.
    let find = |kind: &[u8; 4]| d.chunks.iter().find(|c| &c.0 == kind).map(|c| c.1.clone());
    assert_eq!(find(b"PLTE"), case.palette, "PLTE chunk of {case:?}");
    assert_eq!(find(b"tRNS"), case.trns, "tRNS chunk of {case:?}");
    if d.data != img {
        let n = case.fmt.row_bytes(case.width);
        let i = d.data.iter().zip(img).position(|(a, b)| a != b);
        panic!(
            "pixel data differs for {case:?}: {} vs {} bytes, first difference at byte {i:?} (row {:?})",
            d.data.len(),
            img.len(),
            i.map(|i| i / n)
        );
    }
}

/// The `png` crate keeps greyscale and RGB tRNS samples of images below 16
/// bits as one byte per sample (the low byte); indexed tRNS as it is.
pub fn png_crate_trns(trns: &[u8], color: ColorType, depth: BitDepth) -> Vec<u8> {
    match color {
        ColorType::Grayscale | ColorType::Rgb if depth != BitDepth::Sixteen => {
            trns.chunks(2).map(|s| s[1]).collect()
        }
        _ => trns.to_vec(),
    }
}

/// Every chunk of a PNG file as (type, data), without checking anything.
pub fn raw_chunks(bytes: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    let mut pos = 8;
    let mut out = Vec::new();
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = bytes[pos + 4..pos + 8].try_into().unwrap();
        out.push((kind, bytes[pos + 8..pos + 8 + len].to_vec()));
        pos += 12 + len;
    }
    out
}

/// Every chunk of the file as (type, data), checking the signature, the
/// lengths and every CRC (with `crc32fast`) on the way.
pub fn chunks(png: &[u8]) -> Vec<([u8; 4], Vec<u8>)> {
    walk_chunks(png).unwrap_or_else(|e| panic!("{e}"))
}

/// Checks the file's chunk layout: IHDR first, IEND last, CRCs, IDATs
/// contiguous and none larger than `max_idat`. Returns the number of IDATs.
pub fn check_chunks(bytes: &[u8], max_idat: u32) -> usize {
    let kinds: Vec<[u8; 4]> = chunks(bytes)
        .into_iter()
        .map(|(kind, data)| {
            if &kind == b"IDAT" {
                assert!(
                    data.len() as u32 <= max_idat,
                    "IDAT of {} > {max_idat}",
                    data.len()
                );
            }
            kind
        })
        .collect();
    assert_eq!(kinds.first(), Some(b"IHDR"));
    assert_eq!(kinds.last(), Some(b"IEND"));
    let first = kinds.iter().position(|k| k == b"IDAT").expect("no IDAT");
    let last = kinds.iter().rposition(|k| k == b"IDAT").unwrap();
    assert!(kinds[first..=last].iter().all(|k| k == b"IDAT"));
    kinds.iter().filter(|k| *k == b"IDAT").count()
}
