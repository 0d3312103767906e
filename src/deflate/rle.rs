//! The coder of [`Compression::Fastest`](super::Compression::Fastest) and
//! [`Compression::Fast`](super::Compression::Fast):
//! Huffman codes fitted to each block, and runs of zero bytes as matches at
//! distance 1; no match search at all.
//!
//! Filtered PNG rows are mostly small differences and runs of zeros, so a
//! code fitted to the byte statistics of the block plus zero runs captures
//! much of what deflate can get from them (the approach of fdeflate, which
//! uses one fixed code tuned for PNG instead). Each block is read twice:
//! once to count symbols, once to write them, through the same tokenizer so
//! that both passes see identical symbols. A block whose code would not beat
//! storing it is stored.

use super::bits::{BitWriter, FastBits};
use super::block::{Code, DynamicHeader, write_stored};
use super::tables::*;

/// Input bytes per block: two stored blocks' worth, so a block that is
/// better stored costs 10 bytes of stored-block headers.
pub(super) const BLOCK: usize = 2 * 65_535;

/// Where the tokenizer's symbols go: counted in the first pass, written in
/// the second.
trait Symbols {
    /// Bytes coded as literals.
    fn literals(&mut self, bytes: &[u8]);
    /// One literal zero.
    fn literal0(&mut self);
    /// A copy of `len` bytes at distance 1.
    fn copy(&mut self, len: usize);
}

/// Splits `data` into literal bytes and runs of zero bytes. Zero runs are
/// found eight bytes at a time: whole zero words, extended by the zero bytes
/// that end the word before and start the word after.
#[inline(always)]
fn tokenize(data: &[u8], out: &mut impl Symbols) {
    let mut run = 0usize;
    let mut rest = data;
    while rest.len() >= 8 {
        // Inside a zero run, the run is followed 32 bytes per test.
        if run > 0 && rest.len() >= 32 {
            let w = |i: usize| u64::from_le_bytes(rest[i..i + 8].try_into().unwrap());
            if w(0) | w(8) | w(16) | w(24) == 0 {
                run += 32;
                rest = &rest[32..];
                continue;
            }
        }
        let (word, tail) = rest.split_at(8);
        let v = u64::from_le_bytes(word.try_into().unwrap());
        word_tokens(word, v, &mut run, out);
        rest = tail;
    }
    if run > 0 {
        zero_run(run, out);
    }
    out.literals(rest);
}

/// The symbols of one 8-byte word `v` (its bytes `word`), with `run` zeros
/// pending before it; leaves the zeros that end the word pending.
#[inline(always)]
fn word_tokens(word: &[u8], v: u64, run: &mut usize, out: &mut impl Symbols) {
    if v == 0 {
        *run += 8;
        return;
    }
    let mut start = 0;
    if *run > 0 {
        let lead = (v.trailing_zeros() / 8) as usize;
        zero_run(*run + lead, out);
        start = lead;
    }
    let trail = (v.leading_zeros() / 8) as usize;
    out.literals(&word[start..8 - trail]);
    *run = trail;
}

/// A run of `n` zeros as deflate symbols: a literal zero, then copies of it
/// at distance 1 (3 to 258 bytes each); leftovers under 3 are literals.
#[inline(always)]
fn zero_run(mut n: usize, out: &mut impl Symbols) {
    out.literal0();
    n -= 1;
    while n >= MIN_MATCH {
        // Never leave 1 or 2 bytes that would need literals of their own
        // when a shorter copy could take them.
        let len = if n > MAX_MATCH && n - MAX_MATCH < MIN_MATCH {
            n - MIN_MATCH
        } else {
            n.min(MAX_MATCH)
        };
        out.copy(len);
        n -= len;
    }
    for _ in 0..n {
        out.literal0();
    }
}

/// First pass: symbol counts. Four byte histograms are filled in turn, so
/// runs of one value do not serialise the increments.
struct Counter {
    hists: [[u32; 256]; 4],
    lit_freq: [u32; LITLEN_SYMBOLS],
    dist_freq: [u32; DIST_SYMBOLS],
}

impl Symbols for Counter {
    #[inline(always)]
    fn literals(&mut self, bytes: &[u8]) {
        let mut quads = bytes.chunks_exact(4);
        for q in &mut quads {
            self.hists[0][q[0] as usize] += 1;
            self.hists[1][q[1] as usize] += 1;
            self.hists[2][q[2] as usize] += 1;
            self.hists[3][q[3] as usize] += 1;
        }
        for &b in quads.remainder() {
            self.hists[0][b as usize] += 1;
        }
    }

    #[inline(always)]
    fn literal0(&mut self) {
        self.hists[0][0] += 1;
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        self.lit_freq[257 + LEN_CODE[len - MIN_MATCH] as usize] += 1;
        self.dist_freq[0] += 1;
    }
}

impl Counter {
    fn new() -> Self {
        Counter {
            hists: [[0; 256]; 4],
            lit_freq: [0; LITLEN_SYMBOLS],
            dist_freq: [0; DIST_SYMBOLS],
        }
    }

    /// The literal/length and distance frequencies, end of block included.
    fn freqs(&self) -> ([u32; LITLEN_SYMBOLS], [u32; DIST_SYMBOLS]) {
        let mut lit_freq = self.lit_freq;
        let [h0, h1, h2, h3] = &self.hists;
        for (((f, a), b), (c, d)) in lit_freq.iter_mut().zip(h0).zip(h1).zip(h2.iter().zip(h3)) {
            *f += a + b + c + d;
        }
        lit_freq[END_OF_BLOCK] = 1;
        (lit_freq, self.dist_freq)
    }
}

/// Writes the symbols' codes, four literals per write.
struct Coder<'a> {
    w: FastBits,
    lens: &'a [u8; LITLEN_SYMBOLS],
    codes: &'a [u16; LITLEN_SYMBOLS],
    /// The code of distance 1, with its length.
    dist0: (u64, u32),
}

impl Coder<'_> {
    #[inline(always)]
    fn code(&self, sym: usize) -> (u64, u32) {
        (self.codes[sym] as u64, self.lens[sym] as u32)
    }
}

impl Symbols for Coder<'_> {
    #[inline(always)]
    fn literals(&mut self, bytes: &[u8]) {
        let mut triples = bytes.chunks_exact(3);
        for q in &mut triples {
            // Three codes of at most MAX_LIT_BITS each, in one write.
            let (c0, l0) = self.code(q[0] as usize);
            let (c1, l1) = self.code(q[1] as usize);
            let (c2, l2) = self.code(q[2] as usize);
            self.w.put(c0 | c1 << l0 | c2 << (l0 + l1), l0 + l1 + l2);
        }
        for &b in triples.remainder() {
            let (c, l) = self.code(b as usize);
            self.w.put(c, l);
        }
    }

    #[inline(always)]
    fn literal0(&mut self) {
        let (c, l) = self.code(0);
        self.w.put(c, l);
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        let lc = LEN_CODE[len - MIN_MATCH] as usize;
        let (c, l) = self.code(257 + lc);
        let extra = (len - LEN_BASE[lc] as usize) as u64;
        let el = LEN_EXTRA[lc] as u32;
        self.w.put(
            c | extra << l | self.dist0.0 << (l + el),
            l + el + self.dist0.1,
        );
    }
}

/// Longest literal/length code: three literals and the bits still pending
/// fit one 56-bit write (3 × 15 + 7 ≤ 56).
const MAX_LIT_BITS: u32 = 15;

/// Encodes `data` (at most [`BLOCK`] bytes) as one dynamic-Huffman block, or
/// as stored blocks when that is smaller.
pub(super) fn encode_block(w: &mut BitWriter, data: &[u8], last: bool) {
    let mut count = Counter::new();
    tokenize(data, &mut count);
    let (lit_freq, dist_freq) = count.freqs();
    let lit = Code::from_freqs(&lit_freq, MAX_LIT_BITS);
    let dist = Code::from_freqs(&dist_freq, 15);
    let header = DynamicHeader::new(&lit, &dist);
    let bits = 3 + header.cost() + symbol_bits(&lit, &dist, &lit_freq, &dist_freq);
    let pieces = data.len().div_ceil(65_535).max(1) as u64;
    if pieces * (3 + 7 + 32) + 8 * data.len() as u64 <= bits {
        write_stored(w, data, last);
    } else {
        write_dynamic(w, data, last, &lit, &dist, &header);
    }
}

/// Bits of the symbols counted in `lit_freq` and `dist_freq`, extra bits
/// included, under the codes `lit` and `dist`.
fn symbol_bits(
    lit: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
    lit_freq: &[u32; LITLEN_SYMBOLS],
    dist_freq: &[u32; DIST_SYMBOLS],
) -> u64 {
    let extra: u64 = (0..29)
        .map(|c| lit_freq[257 + c] as u64 * LEN_EXTRA[c] as u64)
        .sum();
    lit.cost(lit_freq) + dist.cost(dist_freq) + extra
}

/// Writes `data` as one dynamic block with the given codes.
fn write_dynamic(
    w: &mut BitWriter,
    data: &[u8],
    last: bool,
    lit: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
    header: &DynamicHeader,
) {
    w.put(4 | last as u32, 3);
    header.write(w);
    let mut coder = Coder {
        w: w.begin_fast(),
        lens: &lit.lens,
        codes: &lit.codes,
        dist0: (dist.codes[0] as u64, dist.lens[0] as u32),
    };
    tokenize(data, &mut coder);
    let (c, l) = coder.code(END_OF_BLOCK);
    coder.w.put(c, l);
    w.end_fast(coder.w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Rebuilds the input from the symbols.
    struct Rebuild(Vec<u8>);

    impl Symbols for Rebuild {
        fn literals(&mut self, bytes: &[u8]) {
            self.0.extend_from_slice(bytes);
        }
        fn literal0(&mut self) {
            self.0.push(0);
        }
        fn copy(&mut self, len: usize) {
            assert!((MIN_MATCH..=MAX_MATCH).contains(&len));
            let last = *self.0.last().expect("a copy follows a byte");
            assert_eq!(last, 0, "copies repeat zeros only");
            self.0.extend(core::iter::repeat_n(0u8, len));
        }
    }

    #[test]
    fn symbols_rebuild_the_input() {
        let mut data = Vec::new();
        for i in 0..3000u32 {
            let zeros = (i * 7919 % 300) as usize;
            data.extend(core::iter::repeat_n(0u8, zeros));
            data.push((i % 255 + 1) as u8);
        }
        data.extend(core::iter::repeat_n(0u8, 1000));
        for len in [0, 1, 7, 8, 9, 100, 4097, data.len()] {
            let d = &data[..len.min(data.len())];
            let mut r = Rebuild(Vec::new());
            tokenize(d, &mut r);
            assert_eq!(r.0, d, "len {len}");
        }
        for n in 1..1000 {
            let mut r = Rebuild(Vec::new());
            zero_run(n, &mut r);
            assert_eq!(r.0.len(), n);
        }
    }
}
