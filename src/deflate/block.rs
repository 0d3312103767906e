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

    pub(crate) fn len(&self) -> usize {
        self.tokens.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.tokens.clear();
        self.lit_freq = [0; LITLEN_SYMBOLS];
        self.dist_freq = [0; DIST_SYMBOLS];
    }

    /// Moves the tokens and their counts into new tokens of exactly their
    /// size, leaving these empty.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn detach(&mut self) -> Result<Tokens, super::AllocError> {
        let mut tokens = Vec::new();
        super::reserve(&mut tokens, self.tokens.len())?;
        tokens.extend_from_slice(&self.tokens);
        let detached = Tokens {
            capacity: tokens.len(),
            tokens,
            lit_freq: self.lit_freq,
            dist_freq: self.dist_freq,
        };
        self.clear();
        Ok(detached)
    }

    /// Whether `other` fits behind these tokens in one block, and the two
    /// cost no more bits as one dynamic-Huffman block than as two.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn joins(&self, other: &Tokens) -> bool {
        if self.tokens.len() + other.tokens.len() > self.capacity {
            return false;
        }
        let mut lit = self.lit_freq;
        let mut dist = self.dist_freq;
        lit.iter_mut()
            .zip(&other.lit_freq)
            .for_each(|(a, b)| *a += b);
        dist.iter_mut()
            .zip(&other.dist_freq)
            .for_each(|(a, b)| *a += b);
        DynamicCost::new(&lit, &dist).bits
            <= DynamicCost::new(&self.lit_freq, &self.dist_freq).bits
                + DynamicCost::new(&other.lit_freq, &other.dist_freq).bits
    }

    /// Appends `other`'s tokens and counts (which fit: see [`joins`](Self::joins)).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn append(&mut self, other: &Tokens) {
        debug_assert!(self.tokens.len() + other.tokens.len() <= self.capacity);
        self.tokens.extend_from_slice(&other.tokens);
        self.lit_freq
            .iter_mut()
            .zip(&other.lit_freq)
            .for_each(|(a, b)| *a += b);
        self.dist_freq
            .iter_mut()
            .zip(&other.dist_freq)
            .for_each(|(a, b)| *a += b);
    }

    /// Bits of these tokens as a dynamic-Huffman block, header included.
    pub(crate) fn dynamic_bits(&self) -> u64 {
        DynamicCost::new(&self.lit_freq, &self.dist_freq).bits
    }
}

/// A Huffman code ready for writing: lengths and bit-reversed codes.
pub(super) struct Code<const N: usize> {
    pub(super) lens: [u8; N],
    pub(super) codes: [u16; N],
}

impl<const N: usize> Code<N> {
    /// No symbol coded.
    pub(super) const EMPTY: Self = Code {
        lens: [0; N],
        codes: [0; N],
    };

    /// The canonical code with lengths `lens`.
    pub(super) fn from_lengths(lens: &[u8; N]) -> Self {
        let mut code = Code {
            lens: *lens,
            codes: [0; N],
        };
        canonical_codes(&code.lens, &mut code.codes);
        code
    }

    #[inline(always)]
    pub(super) fn put(&self, w: &mut BitWriter, sym: usize) {
        w.put(self.codes[sym] as u32, self.lens[sym] as u32);
    }
}

/// Bits spent on the symbols of `freqs` with code lengths `lens`.
fn cost(lens: &[u8], freqs: &[u32]) -> u64 {
    freqs
        .iter()
        .zip(lens)
        .map(|(&f, &l)| f as u64 * l as u64)
        .sum()
}

/// The fixed codes (RFC 1951 §3.2.6), into `lit` and `dist`. The
/// literal/length code is the canonical code of all 288 symbols, the two
/// that never occur (286 and 287) included: 0–143 are the 8-bit codes from
/// 0x30, 144–255 the 9-bit codes from 0x190, 256–279 the 7-bit codes from
/// 0, 280–287 the 8-bit codes from 0xc0.
fn fixed_codes(lit: &mut Code<LITLEN_SYMBOLS>, dist: &mut Code<DIST_SYMBOLS>) {
    for (sym, (len, code)) in lit.lens.iter_mut().zip(&mut lit.codes).enumerate() {
        let (first, base, bits) = match sym {
            0..=143 => (0, 0x30, 8),
            144..=255 => (144, 0x190, 9),
            256..=279 => (256, 0, 7),
            _ => (280, 0xc0, 8),
        };
        *len = bits;
        *code = (base + (sym - first) as u16).reverse_bits() >> (16 - bits);
    }
    for (sym, (len, code)) in dist.lens.iter_mut().zip(&mut dist.codes).enumerate() {
        *len = 5;
        *code = (sym as u16).reverse_bits() >> 11;
    }
}

/// The header of a dynamic block: code lengths run-length coded with the
/// code-length alphabet (16 = repeat previous, 17/18 = runs of zeros). The
/// run-length symbols are not kept: they are made again from the code
/// lengths when the header is written.
pub(super) struct DynamicHeader {
    hlit: u16,
    hdist: u8,
    hclen: u8,
    /// Lengths of the code-length code.
    cl: [u8; 19],
    /// Size in bits, without the 3-bit block header.
    bits: u64,
}

/// Calls `f` with the code-length symbols, and their extra-bit values, that
/// describe the lengths of `lit` followed by those of `dist` (one sequence:
/// a run may go on from one to the other).
fn length_symbols(lit: &[u8], dist: &[u8], mut f: impl FnMut(u8, u8)) {
    let len = lit.len() + dist.len();
    let at = |i: usize| {
        if i < lit.len() {
            lit[i]
        } else {
            dist[i - lit.len()]
        }
    };
    let mut i = 0;
    while i < len {
        let l = at(i);
        let mut run = 1;
        while i + run < len && at(i + run) == l {
            run += 1;
        }
        i += run;
        let mut left = run;
        if l == 0 {
            while left >= 11 {
                let r = left.min(138);
                f(18, (r - 11) as u8);
                left -= r;
            }
            if left >= 3 {
                f(17, (left - 3) as u8);
                left = 0;
            }
        } else {
            f(l, 0);
            left -= 1;
            while left >= 3 {
                let r = left.min(6);
                f(16, (r - 3) as u8);
                left -= r;
            }
        }
        for _ in 0..left {
            f(l, 0);
        }
    }
}

impl DynamicHeader {
    /// A placeholder, for a header made later.
    pub(super) const EMPTY: DynamicHeader = DynamicHeader {
        hlit: 0,
        hdist: 0,
        hclen: 0,
        cl: [0; 19],
        bits: 0,
    };

    /// The header for the code lengths `lit` and `dist`.
    pub(super) fn new(lit: &[u8; LITLEN_SYMBOLS], dist: &[u8; DIST_SYMBOLS]) -> Self {
        let hlit = 257.max(LITLEN_SYMBOLS - lit.iter().rev().take_while(|&&l| l == 0).count());
        let hdist = 1.max(DIST_SYMBOLS - dist.iter().rev().take_while(|&&l| l == 0).count());
        let mut cl_freq = [0u32; 19];
        length_symbols(&lit[..hlit], &dist[..hdist], |s, _| {
            cl_freq[s as usize] += 1;
        });
        let mut cl = [0u8; 19];
        build_lengths(&cl_freq, 7, &mut cl);
        let hclen = 4.max(19 - CL_ORDER.iter().rev().take_while(|&&s| cl[s] == 0).count());
        let mut bits = 5 + 5 + 4 + 3 * hclen as u64;
        for (s, &n) in cl_freq.iter().enumerate() {
            bits += n as u64 * (cl[s] as u32 + extra_bits_of_cl(s as u8)) as u64;
        }
        DynamicHeader {
            hlit: hlit as u16,
            hdist: hdist as u8,
            hclen: hclen as u8,
            cl,
            bits,
        }
    }

    /// Size in bits, without the 3-bit block header.
    pub(super) fn cost(&self) -> u64 {
        self.bits
    }

    /// Writes the header of the code lengths `lit` and `dist` (those it was
    /// made for).
    pub(super) fn write(
        &self,
        w: &mut BitWriter,
        lit: &[u8; LITLEN_SYMBOLS],
        dist: &[u8; DIST_SYMBOLS],
    ) {
        let (hlit, hdist, hclen) = (self.hlit as usize, self.hdist as usize, self.hclen as usize);
        w.put((hlit - 257) as u32, 5);
        w.put((hdist - 1) as u32, 5);
        w.put((hclen - 4) as u32, 4);
        for &s in &CL_ORDER[..hclen] {
            w.put(self.cl[s] as u32, 3);
        }
        let cl = Code::from_lengths(&self.cl);
        length_symbols(&lit[..hlit], &dist[..hdist], |s, extra| {
            put_length_symbol(w, &cl, s, extra)
        });
    }
}

/// Writes one code-length symbol and its extra bits. Not inlined: the
/// header walk calls it from five places, a few hundred times a block.
#[inline(never)]
fn put_length_symbol(w: &mut BitWriter, cl: &Code<19>, sym: u8, extra: u8) {
    cl.put(w, sym as usize);
    w.put(extra as u32, extra_bits_of_cl(sym));
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
    /// Code lengths of a dynamic block (unused for a fixed one): the codes
    /// are made from them when the block is written.
    lit: [u8; LITLEN_SYMBOLS],
    dist: [u8; DIST_SYMBOLS],
    /// The header of a dynamic block; `None` for a fixed one.
    header: Option<DynamicHeader>,
    /// The block's size.
    pub(crate) bits: u64,
}

impl HuffmanPlan {
    /// Bits of the block's header: its 3 first bits, and for a dynamic
    /// block the description of its codes.
    pub(crate) fn header_bits(&self) -> u64 {
        3 + self.header.as_ref().map_or(0, |h| h.cost())
    }
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

    let fixed_bits = 3 + symbol_bits(
        &FIXED_LITLEN_LENGTHS,
        &FIXED_DIST_LENGTHS,
        lit_freq,
        dist_freq,
    );
    let mut plan = HuffmanPlan {
        lit: [0; LITLEN_SYMBOLS],
        dist: [0; DIST_SYMBOLS],
        header: None,
        bits: 0,
    };
    build_lengths(lit_freq, 15, &mut plan.lit);
    build_lengths(dist_freq, 15, &mut plan.dist);
    let header = DynamicHeader::new(&plan.lit, &plan.dist);
    let dyn_bits = 3 + header.cost() + symbol_bits(&plan.lit, &plan.dist, lit_freq, dist_freq);

    if storable && stored_bits(raw_len) < fixed_bits.min(dyn_bits) {
        return None;
    }
    if fixed_bits <= dyn_bits {
        plan.bits = fixed_bits;
    } else {
        plan.header = Some(header);
        plan.bits = dyn_bits;
    }
    Some(plan)
}

/// The block in `tokens` weighed as dynamic-Huffman blocks (what
/// [`plan_block`] would weigh), without changing it: as one block, and as
/// two split before token `k`.
pub(crate) struct Split {
    /// Bits as one block.
    pub(crate) whole: u64,
    /// Bits of the tokens before `k` and from `k` on, each as a block.
    pub(crate) head: u64,
    pub(crate) tail: u64,
    /// Bits of the tokens from `k` on in the one block: their symbols
    /// under its codes and their share of its header.
    pub(crate) tail_in_whole: u64,
    /// Input bytes the tokens from `k` on cover.
    pub(crate) tail_len: usize,
}

#[inline(never)]
pub(crate) fn split_bits(tokens: &Tokens, k: usize) -> Split {
    let mut lit2 = [0u32; LITLEN_SYMBOLS];
    let mut dist2 = [0u32; DIST_SYMBOLS];
    let mut tail_len = 0;
    for &t in &tokens.tokens[k..] {
        let d = (t >> 16) as usize;
        let v = (t & 0xffff) as usize;
        if d == 0 {
            lit2[v] += 1;
            tail_len += 1;
        } else {
            lit2[257 + LEN_CODE[v] as usize] += 1;
            dist2[dist_code(d)] += 1;
            tail_len += v + MIN_MATCH;
        }
    }
    let mut lit1 = tokens.lit_freq;
    let mut dist1 = tokens.dist_freq;
    lit1.iter_mut().zip(&lit2).for_each(|(a, b)| *a -= b);
    dist1.iter_mut().zip(&dist2).for_each(|(a, b)| *a -= b);
    let whole = DynamicCost::new(&tokens.lit_freq, &tokens.dist_freq);
    let n = tokens.tokens.len().max(1) as u64;
    Split {
        whole: whole.bits,
        head: DynamicCost::new(&lit1, &dist1).bits,
        tail: DynamicCost::new(&lit2, &dist2).bits,
        tail_in_whole: symbol_bits(&whole.lit, &whole.dist, &lit2, &dist2)
            + whole.header * (n - k as u64) / n,
        tail_len,
    }
}

/// A dynamic-Huffman block fitted to the symbols counted in `lit_freq`
/// (end of block not counted) and `dist_freq`: its code lengths, its
/// header's bits and its whole size in bits.
struct DynamicCost {
    lit: [u8; LITLEN_SYMBOLS],
    dist: [u8; DIST_SYMBOLS],
    header: u64,
    bits: u64,
}

impl DynamicCost {
    fn new(lit_freq: &[u32; LITLEN_SYMBOLS], dist_freq: &[u32; DIST_SYMBOLS]) -> Self {
        let mut lit_freq = *lit_freq;
        lit_freq[END_OF_BLOCK] += 1;
        let mut lit = [0; LITLEN_SYMBOLS];
        let mut dist = [0; DIST_SYMBOLS];
        build_lengths(&lit_freq, 15, &mut lit);
        build_lengths(dist_freq, 15, &mut dist);
        let header = 3 + DynamicHeader::new(&lit, &dist).cost();
        let bits = header + symbol_bits(&lit, &dist, &lit_freq, dist_freq);
        DynamicCost {
            lit,
            dist,
            header,
            bits,
        }
    }
}

/// Bits of `len` bytes as stored blocks: each costs its 3 header bits, up
/// to 7 bits of padding and the 32-bit LEN/NLEN pair.
pub(super) fn stored_bits(len: usize) -> u64 {
    len.div_ceil(MAX_STORED).max(1) as u64 * (3 + 7 + 32) + 8 * len as u64
}

/// Bits of the symbols counted in `lit_freq` and `dist_freq` under the
/// code lengths `lit` and `dist`, extra bits included.
pub(super) fn symbol_bits(
    lit: &[u8; LITLEN_SYMBOLS],
    dist: &[u8; DIST_SYMBOLS],
    lit_freq: &[u32; LITLEN_SYMBOLS],
    dist_freq: &[u32; DIST_SYMBOLS],
) -> u64 {
    let extra: u64 = (0..29)
        .map(|c| lit_freq[257 + c] as u64 * LEN_EXTRA[c] as u64)
        .chain((0..30).map(|c| dist_freq[c] as u64 * DIST_EXTRA[c] as u64))
        .sum();
    cost(lit, lit_freq) + cost(dist, dist_freq) + extra
}

/// Writes the header of a block planned as `plan` and returns its codes,
/// for its tokens to follow.
fn open_planned(w: &mut BitWriter, plan: &HuffmanPlan, last: bool) -> OpenBlock {
    match &plan.header {
        None => {
            w.put(2 | last as u32, 3);
            OpenBlock {
                lit: FIXED_LITLEN_LENGTHS,
                dist: FIXED_DIST_LENGTHS,
                fixed: true,
            }
        }
        Some(header) => {
            w.put(4 | last as u32, 3);
            header.write(w, &plan.lit, &plan.dist);
            OpenBlock {
                lit: plan.lit,
                dist: plan.dist,
                fixed: false,
            }
        }
    }
}

/// Bits of the empty fixed-Huffman block that ends a stream whose last
/// block was closed without being marked the last: its 3 header bits and
/// its 7-bit end-of-block code.
pub(crate) const EMPTY_FINAL_BITS: u64 = 10;

/// Writes the empty final block of [`EMPTY_FINAL_BITS`].
fn write_empty_final(w: &mut BitWriter) {
    w.put(3, 3);
    w.put(0, 7);
}

/// Writes `tokens` on in the block left open in `open` (which takes them:
/// [`OpenBlock::takes`]); with `last`, ends it and the stream (with the
/// empty final block).
pub(crate) fn write_on(
    w: &mut BitWriter,
    open: &mut Option<OpenBlock>,
    tokens: &mut Tokens,
    last: bool,
) {
    let Some(block) = open else {
        debug_assert!(false, "no open block");
        return;
    };
    block.write(w, tokens);
    if last {
        block.close(w);
        write_empty_final(w);
        *open = None;
    }
}

/// Writes `tokens` as a new block planned as `plan`, left open in `open`
/// unless `last` (the block open before is ended first).
pub(crate) fn write_new(
    w: &mut BitWriter,
    open: &mut Option<OpenBlock>,
    tokens: &mut Tokens,
    plan: &HuffmanPlan,
    last: bool,
) {
    if let Some(before) = open.take() {
        before.close(w);
    }
    let block = open_planned(w, plan, last);
    block.write(w, tokens);
    if last {
        block.close(w);
    } else {
        *open = Some(block);
    }
}

/// A Huffman block written but for its end-of-block code: the tokens of
/// the next block may go on in it under its codes, saving a header, where
/// that costs little more than a block of their own ([`OpenBlock::takes`]). Over steady input (a gradient, a flat area) one
/// block then spans many token buffers, as its statistics hold.
pub(crate) struct OpenBlock {
    /// The code lengths (the codes are made from them when written).
    lit: [u8; LITLEN_SYMBOLS],
    dist: [u8; DIST_SYMBOLS],
    /// The block uses the fixed codes (see [`fixed_codes`]).
    fixed: bool,
}

impl OpenBlock {
    /// Whether `tokens`, planned as `plan` (`None`: best stored, as
    /// `raw_len` bytes), go on in this block, and their bits if so (with
    /// the empty final block the stream then needs if `last`). They do
    /// when each of their symbols has a code here and these codes cost
    /// them at most half a header more than the plan's own codes would:
    /// a code that fits the data worse costs its extra bits again in every
    /// block that goes on in it, while a new block's header is paid once.
    pub(crate) fn takes(
        &self,
        tokens: &Tokens,
        plan: Option<&HuffmanPlan>,
        raw_len: usize,
        last: bool,
    ) -> Option<u64> {
        let bits = self.bits_of(tokens, last)?;
        let fits = match plan {
            Some(plan) => {
                let header = plan.header_bits();
                2 * bits.saturating_sub(plan.bits - header) <= header
            }
            None => bits <= stored_bits(raw_len),
        };
        fits.then_some(bits)
    }

    /// Bits of `tokens` (their symbols as counted) under this block's
    /// codes, with the empty final block if `last`; `None` where one of
    /// their symbols has no code here.
    fn bits_of(&self, tokens: &Tokens, last: bool) -> Option<u64> {
        let coded =
            |freq: &[u32], lens: &[u8]| freq.iter().zip(lens).all(|(&f, &l)| f == 0 || l > 0);
        if !coded(&tokens.lit_freq, &self.lit) || !coded(&tokens.dist_freq, &self.dist) {
            return None;
        }
        let bits = symbol_bits(&self.lit, &self.dist, &tokens.lit_freq, &tokens.dist_freq);
        Some(bits + if last { EMPTY_FINAL_BITS } else { 0 })
    }

    /// Writes `tokens` under this block's codes (each of their symbols has
    /// one: see [`takes`](Self::takes)) and empties them.
    pub(crate) fn write(&self, w: &mut BitWriter, tokens: &mut Tokens) {
        let (lit, dist) = self.codes();
        write_tokens(w, &tokens.tokens, &lit, &dist);
        tokens.clear();
    }

    fn codes(&self) -> (Code<LITLEN_SYMBOLS>, Code<DIST_SYMBOLS>) {
        if self.fixed {
            let (mut lit, mut dist) = (Code::EMPTY, Code::EMPTY);
            fixed_codes(&mut lit, &mut dist);
            (lit, dist)
        } else {
            (
                Code::from_lengths(&self.lit),
                Code::from_lengths(&self.dist),
            )
        }
    }

    /// Ends the block.
    pub(crate) fn close(&self, w: &mut BitWriter) {
        self.codes().0.put(w, END_OF_BLOCK);
    }
}

/// Writes the symbols of `tokens` (without an end of block).
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
            debug_assert!(lit.lens[v] > 0, "literal {v} without a code");
            lit.put(w, v);
        } else {
            let lc = LEN_CODE[v] as usize;
            let sym = 257 + lc;
            let lbits = lit.lens[sym] as u32;
            let lextra = (v + MIN_MATCH - LEN_BASE[lc] as usize) as u32;
            let dc = dist_code(d);
            let dbits = dist.lens[dc] as u32;
            debug_assert!(lbits > 0 && dbits > 0, "match without a code");
            w.put(
                lit.codes[sym] as u32 | lextra << lbits,
                lbits + LEN_EXTRA[lc] as u32,
            );
            let dextra = (d - DIST_BASE[dc] as usize) as u32;
            w.put(
                dist.codes[dc] as u32 | dextra << dbits,
                dbits + DIST_EXTRA[dc] as u32,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The fixed codes as the canonical codes of RFC 1951's lengths, all
    /// 288 of them (the two that never occur included, or the 9-bit codes
    /// would come out shifted).
    #[test]
    fn fixed_codes_are_the_canonical_codes_of_the_fixed_lengths() {
        let mut all = [8u8; 288];
        all[..LITLEN_SYMBOLS].copy_from_slice(&FIXED_LITLEN_LENGTHS);
        let mut canonical = [0u16; 288];
        canonical_codes(&all, &mut canonical);
        let mut dist_canonical = [0u16; DIST_SYMBOLS];
        canonical_codes(&FIXED_DIST_LENGTHS, &mut dist_canonical);
        let (mut lit, mut dist) = (Code::EMPTY, Code::EMPTY);
        fixed_codes(&mut lit, &mut dist);
        assert_eq!(lit.lens, FIXED_LITLEN_LENGTHS);
        assert_eq!(lit.codes[..], canonical[..LITLEN_SYMBOLS]);
        assert_eq!(dist.lens, FIXED_DIST_LENGTHS);
        assert_eq!(dist.codes, dist_canonical);
    }

    /// Tokens for a stream of `n` tokens from `seed`: literals below
    /// `alphabet` and matches (3 to 258 bytes, up to 1000 back) of what
    /// `out` already holds, which they extend as a decoder would.
    fn some_tokens(n: usize, seed: u32, alphabet: u32, out: &mut Vec<u8>) -> Tokens {
        let mut t = Tokens::new(n).unwrap();
        let mut x = seed | 1;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if out.len() < 10 || x % 3 == 0 {
                let b = ((x >> 8) % alphabet) as u8;
                t.literal(b);
                out.push(b);
            } else {
                let len = 3 + (x >> 8) as usize % 256;
                let dist = 1 + (x >> 20) as usize % out.len().min(1000);
                t.matched(len, dist);
                for _ in 0..len {
                    out.push(out[out.len() - dist]);
                }
            }
        }
        t
    }

    #[test]
    fn an_open_block_writes_what_it_counts() {
        for (last, fixed) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut expect = Vec::new();
            let mut first = some_tokens(3000, 7, 40, &mut expect);
            let plan = if fixed {
                let mut p = plan_block(&mut first, 1 << 20, false).unwrap();
                p.header = None;
                p
            } else {
                plan_block(&mut first, 1 << 20, false).unwrap()
            };
            assert_eq!(plan.header.is_none(), fixed);
            let mut w = BitWriter::default();
            let open = open_planned(&mut w, &plan, false);
            open.write(&mut w, &mut first);
            // The same symbols, other counts.
            let mut next = some_tokens(2000, 99, 40, &mut expect);
            let planned = plan_block(&mut next, 1 << 20, false).unwrap();
            // 3000 tokens of the mix use every symbol 2000 more do.
            let bits = open.bits_of(&next, last).expect("every symbol coded");
            if open.takes(&next, Some(&planned), 0, last).is_some() {
                assert!(bits <= planned.bits);
            }
            let before = w.bits();
            open.write(&mut w, &mut next);
            open.close(&mut w);
            if last {
                write_empty_final(&mut w);
            }
            assert_eq!(w.bits() - before, bits, "last {last} fixed {fixed}");
            if !last {
                crate::deflate::stored::write_stored(&mut w, &[], true);
            }
            w.align();
            assert_eq!(
                crate::deflate::tests::inflate(&w.out),
                expect,
                "last {last} fixed {fixed}"
            );
        }
    }

    #[test]
    fn an_open_block_refuses_what_its_codes_lack_or_fit_badly() {
        let mut out = Vec::new();
        let mut first = some_tokens(3000, 7, 40, &mut out);
        let plan = plan_block(&mut first, 1 << 20, false).unwrap();
        let mut w = BitWriter::default();
        let open = open_planned(&mut w, &plan, false);
        // A literal the block never saw has no code in it.
        let mut unseen = Tokens::new(10).unwrap();
        unseen.literal(200);
        let p = plan_block(&mut unseen, 1, false).unwrap();
        assert_eq!(open.takes(&unseen, Some(&p), 1, false), None);
        // One literal over and over: coded, but at several bits each,
        // where a block of its own codes it in one.
        let mut one = Tokens::new(5000).unwrap();
        for _ in 0..5000 {
            one.literal(3);
        }
        let p = plan_block(&mut one, 5000, false).unwrap();
        assert!(open.bits_of(&one, false).is_some());
        assert_eq!(open.takes(&one, Some(&p), 5000, false), None);
        // The same mix as the block's own: taken.
        let mut same = some_tokens(3000, 7, 40, &mut Vec::new());
        let p = plan_block(&mut same, 1 << 20, false).unwrap();
        assert!(open.takes(&same, Some(&p), 1 << 20, false).is_some());
    }

    /// `split_bits` against the slow way: each part collected in tokens
    /// of its own and planned as the writer would, and the tail's share of
    /// the whole block summed token by token under the whole block's code.
    #[test]
    fn split_bits_weighs_as_plan_block_does() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let mut compared = 0;
        for case in 0..300 {
            let n = 2 + next(3000) as usize;
            let mut toks = Vec::new();
            for i in 0..n {
                // Statistics that change halfway in some cases.
                let skew = if case % 2 == 0 || i < n / 2 { 16 } else { 200 };
                if next(3) == 0 {
                    toks.push((next(skew) as usize + 3, next(skew * 50) as usize + 1));
                } else {
                    toks.push((next(skew) as usize, 0));
                }
            }
            let k = 1 + next(n as u64 - 1) as usize;
            let collect = |part: &[(usize, usize)]| {
                let mut t = Tokens::new(part.len()).unwrap();
                for &(v, d) in part {
                    if d == 0 {
                        t.literal(v as u8);
                    } else {
                        t.matched(v, d);
                    }
                }
                t
            };
            let whole = collect(&toks);
            let split = split_bits(&whole, k);
            // Dynamic blocks: planned as not storable, and only where the
            // dynamic code wins over the fixed one is `bits` its size.
            let planned = |part: &[(usize, usize)]| {
                let mut t = collect(part);
                let plan = plan_block(&mut t, 0, false).unwrap();
                plan.header.is_some().then_some(plan.bits)
            };
            for (got, part) in [
                (split.whole, &toks[..]),
                (split.head, &toks[..k]),
                (split.tail, &toks[k..]),
            ] {
                if let Some(bits) = planned(part) {
                    assert_eq!(got, bits, "case {case} k {k} of {n}");
                    compared += 1;
                }
            }
            let tail_len: usize = toks[k..]
                .iter()
                .map(|&(v, d)| if d == 0 { 1 } else { v })
                .sum();
            assert_eq!(split.tail_len, tail_len);
            // The tail's symbols under the whole block's code.
            let cost = DynamicCost::new(&whole.lit_freq, &whole.dist_freq);
            let mut slow = cost.header * (n - k) as u64 / n as u64;
            for &(v, d) in &toks[k..] {
                if d == 0 {
                    slow += cost.lit[v] as u64;
                } else {
                    let c = LEN_CODE[v - MIN_MATCH] as usize;
                    let dc = dist_code(d);
                    slow +=
                        (cost.lit[257 + c] + LEN_EXTRA[c] + cost.dist[dc] + DIST_EXTRA[dc]) as u64;
                }
            }
            assert_eq!(split.tail_in_whole, slow, "case {case}");
        }
        // Most parts are planned dynamic, and so compared.
        assert!(compared > 600, "{compared} compared");
    }

    #[test]
    fn fixed_codes_match_rfc_1951() {
        // RFC 1951 §3.2.6: 0–143 are 00110000.., 144–255 110010000..,
        // 256–279 0000000.., 280–287 11000000.. (most significant bit first).
        let mut code = Code {
            lens: [0; LITLEN_SYMBOLS],
            codes: [0; LITLEN_SYMBOLS],
        };
        fixed_codes(&mut code, &mut Code::from_lengths(&[0; DIST_SYMBOLS]));
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

    /// The header's run-length symbols against the way they were made
    /// before (one array of all the lengths, symbols kept in the header),
    /// over lengths with runs of every kind, across the boundary of the
    /// two codes too.
    #[test]
    fn length_symbols_match_the_array_walk() {
        let mut x = 88_172_645_463_325_252u64;
        for case in 0..3000 {
            let mut lit = [0u8; LITLEN_SYMBOLS];
            let mut dist = [0u8; DIST_SYMBOLS];
            let mut i = 0;
            while i < LITLEN_SYMBOLS + DIST_SYMBOLS {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let l = if x % 3 == 0 { 0 } else { (x >> 8) as u8 % 16 };
                let run = 1 + (x >> 16) as usize % [3, 8, 20, 150][case % 4];
                for _ in 0..run {
                    if i < LITLEN_SYMBOLS {
                        lit[i] = l;
                    } else if i < LITLEN_SYMBOLS + DIST_SYMBOLS {
                        dist[i - LITLEN_SYMBOLS] = l;
                    }
                    i += 1;
                }
            }
            let hlit = 257 + case % 30;
            let hdist = 1 + case % 30;
            let all: Vec<u8> = lit[..hlit].iter().chain(&dist[..hdist]).copied().collect();
            let mut want = Vec::new();
            let mut i = 0;
            while i < all.len() {
                let l = all[i];
                let run = all[i..].iter().take_while(|&&x| x == l).count();
                i += run;
                let mut left = run;
                if l == 0 {
                    while left >= 11 {
                        let r = left.min(138);
                        want.push((18, (r - 11) as u8));
                        left -= r;
                    }
                    if left >= 3 {
                        want.push((17, (left - 3) as u8));
                        left = 0;
                    }
                } else {
                    want.push((l, 0));
                    left -= 1;
                    while left >= 3 {
                        let r = left.min(6);
                        want.push((16, (r - 3) as u8));
                        left -= r;
                    }
                }
                for _ in 0..left {
                    want.push((l, 0));
                }
            }
            let mut got = Vec::new();
            length_symbols(&lit[..hlit], &dist[..hdist], |s, e| got.push((s, e)));
            assert_eq!(got, want, "case {case}");
        }
    }
}
