//! The palette index check of indexed images: every pixel's index must be
//! below the palette's length (PNG §11.2.3 makes any other an error).
//!
//! A row is first checked whole by a test that compiles to vector code and
//! never stops early (a valid row, the usual case, is read once at memory
//! speed): the largest byte at 8 bits; at 1, 2 and 4 bits, each index moved
//! into a byte of its own and added to 128 − the palette's length, word by
//! word, so that the byte's top bit shows an index too large. Only a row
//! that fails is walked pixel by pixel to find the first bad index. The
//! unused low bits of a row's last byte (padding) are masked off first: they
//! are not indexes. Rows are byte-aligned, so part of a row (a piece given to
//! `write_bytes`) is checked the same way.

use crate::color::BitDepth;

/// The check for one image: indexed, with a palette shorter than 2^depth
/// (with all 2^depth entries no index can be out of range, and there is no
/// check at all).
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexCheck {
    width: u32,
    bits: u32,
    /// Entries in the palette, 1 to 2^depth − 1.
    len: u8,
}

/// One bit in each byte of a word, at the lowest place.
const LANES: u64 = 0x0101_0101_0101_0101;
/// The top bit of each byte of a word.
const TOPS: u64 = 0x8080_8080_8080_8080;

impl IndexCheck {
    /// The check for an indexed image of this width, depth and palette
    /// length (in entries), or `None` when no index can be out of range.
    pub(crate) fn new(width: u32, depth: BitDepth, palette_len: usize) -> Option<IndexCheck> {
        let bits = depth.bits() as u32;
        if bits > 8 || palette_len >= 1 << bits {
            return None;
        }
        Some(IndexCheck {
            width,
            bits,
            len: u8::try_from(palette_len).ok()?,
        })
    }

    /// Entries in the palette.
    pub(crate) fn palette_len(&self) -> usize {
        self.len as usize
    }

    /// The first pixel in `bytes`, bytes `start..start + bytes.len()` of a
    /// packed row, whose index is not below the palette's length, as
    /// (x, index).
    pub(crate) fn first_bad(&self, bytes: &[u8], start: usize) -> Option<(u32, u8)> {
        if self.fits(bytes, start) {
            None
        } else {
            self.find(bytes, start)
        }
    }

    /// Whether every index in `bytes` (from byte `start` of a row) is in
    /// range: the fast test.
    fn fits(&self, bytes: &[u8], start: usize) -> bool {
        let bits = self.width as u64 * self.bits as u64;
        // Bytes whose every bit is a pixel's; then a last byte with padding.
        let full = (bits / 8) as usize;
        let used = (bits % 8) as u32;
        let (body, last) = bytes.split_at(full.saturating_sub(start).min(bytes.len()));
        let last = match (used, last.first()) {
            (0, _) | (_, None) => 0,
            (used, Some(&b)) => b & (0xFF << (8 - used)),
        };
        match self.bits {
            8 => max_byte(body) < self.len,
            // A 1-entry palette at 1 bit: every bit must be clear.
            1 => body.iter().fold(last, |acc, &b| acc | b) == 0,
            2 => fields_below::<2>(body, last, self.len),
            _ => fields_below::<4>(body, last, self.len),
        }
    }

    /// The first out-of-range index, pixel by pixel.
    fn find(&self, bytes: &[u8], start: usize) -> Option<(u32, u8)> {
        let bits = self.bits as u64;
        let per_byte = 8 / bits;
        let mask = ((1u16 << bits) - 1) as u8;
        let first = start as u64 * per_byte;
        let end = ((start + bytes.len()) as u64 * per_byte).min(self.width as u64);
        (first..end).find_map(|x| {
            let at = (x - first) * bits;
            let byte = *bytes.get((at / 8) as usize)?;
            let index = (byte >> (8 - bits - at % 8)) & mask;
            (index >= self.len).then_some((x as u32, index))
        })
    }
}

/// The largest byte of `data`, in 32 independent lanes (vector registers).
fn max_byte(data: &[u8]) -> u8 {
    let mut acc = [0u8; 32];
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        for (a, &b) in acc.iter_mut().zip(c) {
            *a = (*a).max(b);
        }
    }
    let tail = chunks.remainder().iter().fold(0, |m, &b| m.max(b));
    acc.iter().fold(tail, |m, &b| m.max(b))
}

/// Whether every `BITS`-bit field of `body` and of the byte `last` is below
/// `len`. Each field is moved into the low bits of a byte of its own and
/// `128 − len` added: the byte's top bit is then set exactly when the field
/// is `len` or more (no byte overflows: at most 15 + 127).
fn fields_below<const BITS: u32>(body: &[u8], last: u8, len: u8) -> bool {
    let field = ((1u64 << BITS) - 1) * LANES;
    let add = (128 - len as u64) * LANES;
    let word = |w: u64| {
        let mut acc = 0;
        let mut shift = 0;
        while shift < 8 {
            acc |= ((w >> shift) & field) + add;
            shift += BITS;
        }
        acc
    };
    let mut acc = 0u64;
    let mut chunks = body.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        acc |= word(u64::from_le_bytes(b));
    }
    // The rest and the masked last byte, padded with zeros (valid fields).
    let mut b = [0u8; 16];
    let rest = chunks.remainder();
    b[..rest.len()].copy_from_slice(rest);
    b[rest.len()] = last;
    for half in b.chunks_exact(8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(half);
        acc |= word(u64::from_le_bytes(w));
    }
    acc & TOPS == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Pixel by pixel, the obvious way, padding ignored.
    fn slow(row: &[u8], width: u32, bits: u32, len: u8) -> Option<(u32, u8)> {
        (0..width).find_map(|x| {
            let at = (x * bits) as usize;
            let index = (row[at / 8] >> (8 - bits as usize - at % 8)) as u32 & ((1 << bits) - 1);
            (index >= len as u32).then_some((x, index as u8))
        })
    }

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn full_palettes_need_no_check() {
        for (depth, n) in [
            (BitDepth::One, 2),
            (BitDepth::Two, 4),
            (BitDepth::Four, 16),
            (BitDepth::Eight, 256),
        ] {
            assert!(IndexCheck::new(5, depth, n).is_none());
            assert!(IndexCheck::new(5, depth, n - 1).is_some());
        }
        assert!(IndexCheck::new(5, BitDepth::Sixteen, 3).is_none());
    }

    #[test]
    fn fast_check_agrees_with_pixel_by_pixel() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        for bits in [1u32, 2, 4, 8] {
            let depth = BitDepth::from_bits(bits as u8).unwrap();
            let lens: Vec<u8> = match bits {
                8 => alloc::vec![1, 2, 3, 100, 127, 128, 129, 200, 254, 255],
                _ => (1..1u8 << bits).collect(),
            };
            for len in lens {
                for width in [1u32, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100, 257] {
                    let check = IndexCheck::new(width, depth, len as usize).unwrap();
                    let n = (width * bits).div_ceil(8) as usize;
                    for trial in 0..24 {
                        // Valid indexes, and in two trials of three one or
                        // two bad ones at random places; the padding bits
                        // random throughout.
                        let mut row: Vec<u8> = (0..n).map(|_| xorshift(&mut seed) as u8).collect();
                        for x in 0..width {
                            let r = xorshift(&mut seed);
                            let bad = trial % 3 != 0 && r % (width as u64 + 1) < 2;
                            let index = if bad {
                                len as u64 + r % ((1u64 << bits) - len as u64)
                            } else {
                                r % len as u64
                            };
                            let at = (x * bits) as usize;
                            let shift = 8 - bits as usize - at % 8;
                            let mask = (((1u16 << bits) - 1) as u8) << shift;
                            row[at / 8] = (row[at / 8] & !mask) | ((index as u8) << shift);
                        }
                        let want = slow(&row, width, bits, len);
                        assert_eq!(
                            check.first_bad(&row, 0),
                            want,
                            "{bits} bits, {len} entries, width {width}: {row:02x?}"
                        );
                        assert_eq!(check.fits(&row, 0), want.is_none());
                        // In two pieces cut anywhere: the first bad pixel is
                        // found in the piece that holds it.
                        let cut = (xorshift(&mut seed) % (n as u64 + 1)) as usize;
                        let per_byte = 8 / bits;
                        let (a, b) = row.split_at(cut);
                        let in_a = want.filter(|&(x, _)| x / per_byte < cut as u32);
                        assert_eq!(check.first_bad(a, 0), in_a, "cut {cut}: {row:02x?}");
                        if in_a.is_none() {
                            assert_eq!(check.first_bad(b, cut), want, "cut {cut}: {row:02x?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn padding_bits_are_not_indexes() {
        // 3 pixels at 2 bits, all index 0; the last 2 bits are padding.
        let check = IndexCheck::new(3, BitDepth::Two, 1).unwrap();
        assert_eq!(check.first_bad(&[0b0000_0011], 0), None);
        assert_eq!(check.first_bad(&[0b0000_0111], 0), Some((2, 1)));
        // 9 pixels at 1 bit with a 1-entry palette: 7 padding bits, also
        // when the last byte comes alone.
        let check = IndexCheck::new(9, BitDepth::One, 1).unwrap();
        assert_eq!(check.first_bad(&[0, 0x7F], 0), None);
        assert_eq!(check.first_bad(&[0x7F], 1), None);
        assert_eq!(check.first_bad(&[0, 0x80], 0), Some((8, 1)));
        assert_eq!(check.first_bad(&[0x80], 1), Some((8, 1)));
        // 1 pixel at 4 bits.
        let check = IndexCheck::new(1, BitDepth::Four, 3).unwrap();
        assert_eq!(check.first_bad(&[0x2F], 0), None);
        assert_eq!(check.first_bad(&[0x3F], 0), Some((0, 3)));
    }

    #[test]
    fn bad_index_at_either_end_of_a_long_row() {
        for bits in [1u32, 2, 4, 8] {
            let depth = BitDepth::from_bits(bits as u8).unwrap();
            let width = 1000u32;
            let n = (width * bits).div_ceil(8) as usize;
            let check = IndexCheck::new(width, depth, 1).unwrap();
            let mut row = alloc::vec![0u8; n];
            assert_eq!(check.first_bad(&row, 0), None);
            row[n - 1] = 1; // the last pixel: 1000 pixels fill whole bytes
            assert_eq!(check.first_bad(&row, 0), Some((width - 1, 1)));
            assert_eq!(check.first_bad(&row[n - 1..], n - 1), Some((width - 1, 1)));
            row[0] = 0x80;
            let first = Some((0, (0x80u32 >> (8 - bits)) as u8));
            assert_eq!(check.first_bad(&row, 0), first);
        }
    }
}
