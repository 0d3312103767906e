//! The strict decode every test, bench and fuzz target checks our files with,
//! built only on code this crate did not write (`crc32fast`, `miniz_oxide`,
//! `adler2`, `png`). It does not depend on pngstream, so the tests, the
//! benches and the fuzz crate include this one file by path
//! (`#[path = ".../tests/kit/mod.rs"]`) and share one set of types.
//!
//! A file passes only if:
//! - the signature is right and every chunk's length fits and CRC matches;
//! - IHDR comes first (13 bytes), IEND last (empty, nothing after it), and the
//!   IDATs are contiguous;
//! - the IDAT data is exactly one zlib stream whose header check, deflate data
//!   and Adler-32 are right (inflated by `miniz_oxide`, the Adler-32 computed
//!   again with `adler2` over the inflated bytes and compared with the
//!   stream's last four bytes, so nothing may follow the stream);
//! - the inflated data is exactly `height × (1 + row bytes)` with filter
//!   types 0 to 4;
//! - the `png` crate, with its CRC and Adler-32 checks on, decodes it.

#![allow(dead_code)]

pub mod bands;
pub mod counting;

use std::io::Cursor;

/// A file that passed [`strict_decode`].
#[derive(Debug)]
pub struct Decoded {
    pub width: u32,
    pub height: u32,
    /// IHDR's colour type code and bit depth.
    pub color_code: u8,
    pub bits: u8,
    pub interlaced: bool,
    pub palette: Option<Vec<u8>>,
    /// tRNS as the `png` crate reports it.
    pub trns: Option<Vec<u8>>,
    /// Packed rows back to back, as stored (no transformations).
    pub data: Vec<u8>,
    /// The inflated IDAT data: each row behind its filter type.
    pub filtered: Vec<u8>,
    /// Every chunk, in file order.
    pub chunks: Vec<Chunk>,
}

/// A chunk's type and data.
pub type Chunk = ([u8; 4], Vec<u8>);

/// The PNG signature.
pub const SIGNATURE: [u8; 8] = [137, 80, 78, 71, 13, 10, 26, 10];

/// Every chunk of `png` as (type, data), checking the signature, each length
/// and each CRC on the way.
pub fn walk_chunks(png: &[u8]) -> Result<Vec<Chunk>, String> {
    if png.len() < 8 || png[..8] != SIGNATURE {
        return Err("not a PNG signature".into());
    }
    let mut pos = 8;
    let mut out = Vec::new();
    while pos < png.len() {
        if pos + 12 > png.len() {
            return Err(format!("truncated chunk header at byte {pos}"));
        }
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = png[pos + 4..pos + 8].try_into().unwrap();
        let name = String::from_utf8_lossy(&kind).into_owned();
        if len > (1 << 31) - 1 || pos + 12 + len > png.len() {
            return Err(format!(
                "{name} at byte {pos}: length {len} overruns the file"
            ));
        }
        let data = &png[pos + 8..pos + 8 + len];
        let crc = u32::from_be_bytes(png[pos + 8 + len..pos + 12 + len].try_into().unwrap());
        let mut h = crc32fast::Hasher::new();
        h.update(&kind);
        h.update(data);
        let want = h.finalize();
        if crc != want {
            return Err(format!(
                "{name} at byte {pos}: CRC {crc:08x}, computed {want:08x}"
            ));
        }
        out.push((kind, data.to_vec()));
        pos += 12 + len;
    }
    Ok(out)
}

/// Bytes of one packed row of `width` pixels.
pub fn row_bytes(width: u32, color_code: u8, bits: u8) -> usize {
    let channels = match color_code {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => 0,
    };
    (width as usize * channels * bits as usize).div_ceil(8)
}

/// Checks `png` as the module docs say and decodes it; `Err` names the
/// first rule broken.
pub fn strict_decode(png: &[u8]) -> Result<Decoded, String> {
    let chunks = walk_chunks(png)?;
    let kinds: Vec<[u8; 4]> = chunks.iter().map(|c| c.0).collect();
    if kinds.first() != Some(b"IHDR") || chunks[0].1.len() != 13 {
        return Err("the first chunk is not a 13-byte IHDR".into());
    }
    if kinds.last() != Some(b"IEND") || !chunks.last().unwrap().1.is_empty() {
        return Err("the last chunk is not an empty IEND".into());
    }
    if kinds.iter().filter(|k| *k == b"IEND").count() != 1 {
        return Err("IEND appears more than once".into());
    }
    let first = kinds
        .iter()
        .position(|k| k == b"IDAT")
        .ok_or("no IDAT chunk")?;
    let last = kinds.iter().rposition(|k| k == b"IDAT").unwrap();
    if kinds[first..=last].iter().any(|k| k != b"IDAT") {
        return Err("the IDAT chunks are not contiguous".into());
    }
    let ihdr = &chunks[0].1;
    let width = u32::from_be_bytes(ihdr[0..4].try_into().unwrap());
    let height = u32::from_be_bytes(ihdr[4..8].try_into().unwrap());
    let (bits, color_code, interlaced) = (ihdr[8], ihdr[9], ihdr[12] != 0);

    let zlib: Vec<u8> = chunks[first..=last]
        .iter()
        .flat_map(|c| c.1.iter().copied())
        .collect();
    if zlib.len() < 6 {
        return Err(format!(
            "IDAT data of {} bytes is no zlib stream",
            zlib.len()
        ));
    }
    if (u16::from(zlib[0]) << 8 | u16::from(zlib[1])) % 31 != 0 || zlib[0] & 0x0f != 8 {
        return Err(format!("bad zlib header {:02x} {:02x}", zlib[0], zlib[1]));
    }
    let filtered = miniz_oxide::inflate::decompress_to_vec_zlib(&zlib)
        .map_err(|e| format!("IDAT data does not inflate: {:?}", e.status))?;
    let stored = u32::from_be_bytes(zlib[zlib.len() - 4..].try_into().unwrap());
    let mut adler = adler2::Adler32::new();
    adler.write_slice(&filtered);
    if adler.checksum() != stored {
        return Err(format!(
            "Adler-32 {stored:08x} at the end of the IDAT data, computed {:08x} \
             (or bytes follow the zlib stream)",
            adler.checksum()
        ));
    }
    // (width, height) of each pass: the whole image, or Adam7's seven.
    let passes: Vec<(u32, u32)> = if interlaced {
        const ADAM7: [(u32, u32, u32, u32); 7] = [
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ];
        ADAM7
            .iter()
            .map(|&(x0, y0, dx, dy)| {
                let pw = (width as u64 + (dx - x0 - 1) as u64) / dx as u64;
                let ph = (height as u64 + (dy - y0 - 1) as u64) / dy as u64;
                (pw as u32, ph as u32)
            })
            .filter(|&(pw, ph)| pw > 0 && ph > 0)
            .collect()
    } else {
        vec![(width, height)]
    };
    let want: usize = passes
        .iter()
        .map(|&(pw, ph)| ph as usize * (1 + row_bytes(pw, color_code, bits)))
        .sum();
    if filtered.len() != want {
        return Err(format!(
            "inflated {} bytes, expected {want} for {width} x {height}",
            filtered.len()
        ));
    }
    let mut at = 0;
    for (p, &(pw, ph)) in passes.iter().enumerate() {
        let n = row_bytes(pw, color_code, bits);
        for y in 0..ph as usize {
            if filtered[at] > 4 {
                return Err(format!("pass {p} row {y} has filter type {}", filtered[at]));
            }
            at += n + 1;
        }
    }
    let n = row_bytes(width, color_code, bits);

    let mut opts = png::DecodeOptions::default();
    opts.set_ignore_adler32(false);
    opts.set_ignore_crc(false);
    let mut dec = png::Decoder::new_with_options(Cursor::new(png), opts);
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().map_err(|e| format!("png crate: {e}"))?;
    let size = reader
        .output_buffer_size()
        .ok_or("png crate: image too large")?;
    let mut data = vec![0u8; size];
    reader
        .next_frame(&mut data)
        .map_err(|e| format!("png crate: {e}"))?;
    reader.finish().map_err(|e| format!("png crate: {e}"))?;
    let info = reader.info();
    if data.len() != height as usize * n {
        return Err(format!(
            "png crate gave {} bytes of pixels, expected {}",
            data.len(),
            height as usize * n
        ));
    }
    Ok(Decoded {
        width,
        height,
        color_code,
        bits,
        interlaced,
        palette: info.palette.as_ref().map(|p| p.to_vec()),
        trns: info.trns.as_ref().map(|t| t.to_vec()),
        data,
        filtered,
        chunks,
    })
}

/// xorshift64*: small, deterministic, good enough for test data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Never zero, and decorrelate nearby seeds.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }

    pub fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = vec![0; n];
        self.fill(&mut v);
        v
    }
}

/// Whether a missing external input (corpus, tool) must fail instead of
/// skipping: `PNGSTREAM_STRICT=1`, as `.ci/run` sets.
pub fn strict() -> bool {
    std::env::var_os("PNGSTREAM_STRICT").is_some_and(|v| v == "1")
}
