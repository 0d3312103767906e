//! Deflate blocks: the token buffer one block collects, and the encoding of a
//! block as stored, fixed-Huffman or dynamic-Huffman, whichever is smallest.

use alloc::vec::Vec;

use super::bits::BitWriter;
use super::huffman::{build_lengths, canonical_codes};
use super::tables::*;

/// Tokens one block holds before it is written out. 16 Ki tokens (zlib's
/// default) spreads a dynamic header (usually 60–120 bytes) thinly while the
/// statistics still follow local changes in the data.
pub(crate) const MAX_TOKENS: usize = 16 * 1024;

/// The largest stored block (its length field is 16 bits).
pub(crate) const MAX_STORED: usize = 65_535;

/// Order in which code-length code lengths are sent (RFC 1951 §3.2.7).
const CL_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The literals and matches of one block, with their symbol frequencies.
///
/// A token is a literal byte (`dist == 0`) or a match: `dist << 16 | (len - 3)`.
pub(crate) struct Tokens {
    tokens: Vec<u32>,
    /// Tokens the block holds before it is written ([`MAX_TOKENS`] without
    /// a memory limit).
    capacity: usize,
    lit_freq: [u32; LITLEN_SYMBOLS],
    dist_freq: [u32; DIST_SYMBOLS],
}

impl Tokens {
    pub(crate) fn new(capacity: usize) -> Result<Self, super::AllocError> {
        let mut tokens = Vec::new();
        super::reserve(&mut tokens, capacity)?;
        Ok(Tokens {
            tokens,
            capacity,
            lit_freq: [0; LITLEN_SYMBOLS],
            dist_freq: [0; DIST_SYMBOLS],
        })
    }

    #[inline(always)]
    pub(crate) fn literal(&mut self, byte: u8) {
        self.tokens.push(byte as u32);
        self.lit_freq[byte as usize] += 1;
    }

    #[inline(always)]
    pub(crate) fn matched(&mut self, len: usize, dist: usize) {
        debug_assert!((MIN_MATCH..=MAX_MATCH).contains(&len) && (1..=32768).contains(&dist));
        self.tokens
            .push(((dist as u32) << 16) | (len - MIN_MATCH) as u32);
        self.lit_freq[257 + LEN_CODE[len - MIN_MATCH] as usize] += 1;
        self.dist_freq[dist_code(dist)] += 1;
    }

    #[inline(always)]
    pub(crate) fn is_full(&self) -> bool {
        self.tokens.len() >= self.capacity
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.tokens.clear();
        self.lit_freq = [0; LITLEN_SYMBOLS];
        self.dist_freq = [0; DIST_SYMBOLS];
    }
}

/// A Huffman code ready for writing: lengths and bit-reversed codes.
pub(super) struct Code<const N: usize> {
    pub(super) lens: [u8; N],
    pub(super) codes: [u16; N],
}

impl<const N: usize> Code<N> {
    fn from_lengths(lens: [u8; N]) -> Self {
        let mut codes = [0u16; N];
        canonical_codes(&lens, &mut codes);
        Code { lens, codes }
    }

    pub(super) fn from_freqs(freqs: &[u32; N], max_bits: u32) -> Self {
        let mut lens = [0u8; N];
        build_lengths(freqs, max_bits, &mut lens);
        Self::from_lengths(lens)
    }

    /// Bits spent on the symbols of `freqs` with this code.
    pub(super) fn cost(&self, freqs: &[u32; N]) -> u64 {
        freqs
            .iter()
            .zip(&self.lens)
            .map(|(&f, &l)| f as u64 * l as u64)
            .sum()
    }

    #[inline(always)]
    pub(super) fn put(&self, w: &mut BitWriter, sym: usize) {
        w.put(self.codes[sym] as u32, self.lens[sym] as u32);
    }
}

/// The fixed literal/length code. Its canonical codes must be assigned over
/// all 288 symbols, including the two that never occur (286 and 287), or the
/// 9-bit codes would come out shifted.
fn fixed_litlen_code() -> Code<LITLEN_SYMBOLS> {
    let mut all = [8u8; 288];
    all[..LITLEN_SYMBOLS].copy_from_slice(&FIXED_LITLEN_LENGTHS);
    let mut codes = [0u16; 288];
    canonical_codes(&all, &mut codes);
    Code {
        lens: FIXED_LITLEN_LENGTHS,
        codes: codes[..LITLEN_SYMBOLS].try_into().unwrap(),
    }
}

/// The header of a dynamic block: code lengths run-length coded with the
/// code-length alphabet (16 = repeat previous, 17/18 = runs of zeros).
pub(super) struct DynamicHeader {
    hlit: usize,
    hdist: usize,
    hclen: usize,
    /// Code-length symbols with their extra-bit values; `rle[..n_rle]` is used.
    rle: [(u8, u8); LITLEN_SYMBOLS + DIST_SYMBOLS],
    n_rle: usize,
    cl: Code<19>,
}

impl DynamicHeader {
    pub(super) fn new(lit: &Code<LITLEN_SYMBOLS>, dist: &Code<DIST_SYMBOLS>) -> Self {
        let hlit = 257.max(LITLEN_SYMBOLS - lit.lens.iter().rev().take_while(|&&l| l == 0).count());
        let hdist = 1.max(DIST_SYMBOLS - dist.lens.iter().rev().take_while(|&&l| l == 0).count());
        let mut all = [0u8; LITLEN_SYMBOLS + DIST_SYMBOLS];
        all[..hlit].copy_from_slice(&lit.lens[..hlit]);
        all[hlit..hlit + hdist].copy_from_slice(&dist.lens[..hdist]);
        let all = &all[..hlit + hdist];

        let mut rle = [(0u8, 0u8); LITLEN_SYMBOLS + DIST_SYMBOLS];
        let mut n_rle = 0;
        let mut push = |item: (u8, u8)| {
            rle[n_rle] = item;
            n_rle += 1;
        };
        let mut i = 0;
        while i < all.len() {
            let l = all[i];
            let run = all[i..].iter().take_while(|&&x| x == l).count();
            i += run;
            let mut left = run;
            if l == 0 {
                while left >= 11 {
                    let r = left.min(138);
                    push((18, (r - 11) as u8));
                    left -= r;
                }
                if left >= 3 {
                    push((17, (left - 3) as u8));
                    left = 0;
                }
            } else {
                push((l, 0));
                left -= 1;
                while left >= 3 {
                    let r = left.min(6);
                    push((16, (r - 3) as u8));
                    left -= r;
                }
            }
            for _ in 0..left {
                push((l, 0));
            }
        }
        let mut cl_freq = [0u32; 19];
        for &(s, _) in &rle[..n_rle] {
            cl_freq[s as usize] += 1;
        }
        let cl = Code::from_freqs(&cl_freq, 7);
        let hclen = 4.max(
            19 - CL_ORDER
                .iter()
                .rev()
                .take_while(|&&s| cl.lens[s] == 0)
                .count(),
        );
        DynamicHeader {
            hlit,
            hdist,
            hclen,
            rle,
            n_rle,
            cl,
        }
    }

    /// Size in bits, without the 3-bit block header.
    pub(super) fn cost(&self) -> u64 {
        let mut bits = 5 + 5 + 4 + 3 * self.hclen as u64;
        for &(s, _) in &self.rle[..self.n_rle] {
            bits += self.cl.lens[s as usize] as u64 + extra_bits_of_cl(s) as u64;
        }
        bits
    }

    pub(super) fn write(&self, w: &mut BitWriter) {
        w.put((self.hlit - 257) as u32, 5);
        w.put((self.hdist - 1) as u32, 5);
        w.put((self.hclen - 4) as u32, 4);
        for &s in &CL_ORDER[..self.hclen] {
            w.put(self.cl.lens[s] as u32, 3);
        }
        for &(s, extra) in &self.rle[..self.n_rle] {
            self.cl.put(w, s as usize);
            w.put(extra as u32, extra_bits_of_cl(s));
        }
    }
}

fn extra_bits_of_cl(sym: u8) -> u32 {
    match sym {
        16 => 2,
        17 => 3,
        18 => 7,
        _ => 0,
    }
}

/// How a block of tokens is to be coded: its literal/length and distance
/// codes, and for a dynamic block the header that describes them.
pub(crate) struct HuffmanPlan {
    lit: Code<LITLEN_SYMBOLS>,
    dist: Code<DIST_SYMBOLS>,
    header: Option<DynamicHeader>,
    /// The block's size.
    pub(crate) bits: u64,
}

/// Chooses the cheapest coding of the block in `tokens` (whose input is
/// `raw_len` bytes): fixed or dynamic Huffman, or `None` when storing the
/// input takes fewer bits than either and `storable` (its input is still
/// at hand).
pub(crate) fn plan_block(
    tokens: &mut Tokens,
    raw_len: usize,
    storable: bool,
) -> Option<HuffmanPlan> {
    tokens.lit_freq[END_OF_BLOCK] += 1;
    let lit_freq = &tokens.lit_freq;
    let dist_freq = &tokens.dist_freq;

    let fixed_lit = fixed_litlen_code();
    let fixed_dist = Code::from_lengths(FIXED_DIST_LENGTHS);
    let fixed_bits = 3 + symbol_bits(&fixed_lit, &fixed_dist, lit_freq, dist_freq);

    let dyn_lit = Code::from_freqs(lit_freq, 15);
    let dyn_dist = Code::from_freqs(dist_freq, 15);
    let header = DynamicHeader::new(&dyn_lit, &dyn_dist);
    let dyn_bits = 3 + header.cost() + symbol_bits(&dyn_lit, &dyn_dist, lit_freq, dist_freq);

    if storable && stored_bits(raw_len) < fixed_bits.min(dyn_bits) {
        None
    } else if fixed_bits <= dyn_bits {
        Some(HuffmanPlan {
            lit: fixed_lit,
            dist: fixed_dist,
            header: None,
            bits: fixed_bits,
        })
    } else {
        Some(HuffmanPlan {
            lit: dyn_lit,
            dist: dyn_dist,
            header: Some(header),
            bits: dyn_bits,
        })
    }
}

/// Bits of `len` bytes as stored blocks: each costs its 3 header bits, up
/// to 7 bits of padding and the 32-bit LEN/NLEN pair.
pub(super) fn stored_bits(len: usize) -> u64 {
    len.div_ceil(MAX_STORED).max(1) as u64 * (3 + 7 + 32) + 8 * len as u64
}

/// Bits of the symbols counted in `lit_freq` and `dist_freq` under the
/// codes `lit` and `dist`, extra bits included.
pub(super) fn symbol_bits(
    lit: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
    lit_freq: &[u32; LITLEN_SYMBOLS],
    dist_freq: &[u32; DIST_SYMBOLS],
) -> u64 {
    let extra: u64 = (0..29)
        .map(|c| lit_freq[257 + c] as u64 * LEN_EXTRA[c] as u64)
        .chain((0..30).map(|c| dist_freq[c] as u64 * DIST_EXTRA[c] as u64))
        .sum();
    lit.cost(lit_freq) + dist.cost(dist_freq) + extra
}

/// Writes the block in `tokens` as `plan` says and empties `tokens`.
pub(crate) fn write_planned(
    w: &mut BitWriter,
    tokens: &mut Tokens,
    plan: &HuffmanPlan,
    last: bool,
) {
    match &plan.header {
        None => w.put(2 | last as u32, 3),
        Some(header) => {
            w.put(4 | last as u32, 3);
            header.write(w);
        }
    }
    write_tokens(w, &tokens.tokens, &plan.lit, &plan.dist);
    tokens.clear();
}

fn write_tokens(
    w: &mut BitWriter,
    tokens: &[u32],
    lit: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
) {
    for &t in tokens {
        let d = (t >> 16) as usize;
        let v = (t & 0xffff) as usize;
        if d == 0 {
            lit.put(w, v);
        } else {
            let lc = LEN_CODE[v] as usize;
            let sym = 257 + lc;
            let lbits = lit.lens[sym] as u32;
            let lextra = (v + MIN_MATCH - LEN_BASE[lc] as usize) as u32;
            w.put(
                lit.codes[sym] as u32 | lextra << lbits,
                lbits + LEN_EXTRA[lc] as u32,
            );
            let dc = dist_code(d);
            let dbits = dist.lens[dc] as u32;
            let dextra = (d - DIST_BASE[dc] as usize) as u32;
            w.put(
                dist.codes[dc] as u32 | dextra << dbits,
                dbits + DIST_EXTRA[dc] as u32,
            );
        }
    }
    lit.put(w, END_OF_BLOCK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_codes_match_rfc_1951() {
        // RFC 1951 §3.2.6: 0–143 are 00110000.., 144–255 110010000..,
        // 256–279 0000000.., 280–287 11000000.. (most significant bit first).
        let code = fixed_litlen_code();
        let msb_first = |sym: usize| code.codes[sym].reverse_bits() >> (16 - code.lens[sym]);
        assert_eq!(msb_first(0), 0b0011_0000);
        assert_eq!(msb_first(143), 0b1011_1111);
        assert_eq!(msb_first(144), 0b1_1001_0000);
        assert_eq!(msb_first(255), 0b1_1111_1111);
        assert_eq!(msb_first(256), 0);
        assert_eq!(msb_first(279), 0b001_0111);
        assert_eq!(msb_first(280), 0b1100_0000);
        assert_eq!(msb_first(285), 0b1100_0101);
    }
}
