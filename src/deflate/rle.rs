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

use super::bits::BitWriter;
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

/// Second pass: the symbols' codes, two literals per write.
struct Coder<'a> {
    w: &'a mut BitWriter,
    lit: &'a Code<LITLEN_SYMBOLS>,
    dist0: (u32, u32),
}

impl Symbols for Coder<'_> {
    #[inline(always)]
    fn literals(&mut self, bytes: &[u8]) {
        let (lens, codes) = (&self.lit.lens, &self.lit.codes);
        let mut pairs = bytes.chunks_exact(2);
        for p in &mut pairs {
            let (a, b) = (p[0] as usize, p[1] as usize);
            let la = lens[a] as u32;
            self.w.put(
                codes[a] as u32 | (codes[b] as u32) << la,
                la + lens[b] as u32,
            );
        }
        for &b in pairs.remainder() {
            self.lit.put(self.w, b as usize);
        }
    }

    #[inline(always)]
    fn literal0(&mut self) {
        self.lit.put(self.w, 0);
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        let lc = LEN_CODE[len - MIN_MATCH] as usize;
        let sym = 257 + lc;
        let lbits = self.lit.lens[sym] as u32;
        let lextra = (len - LEN_BASE[lc] as usize) as u32;
        self.w.put(
            self.lit.codes[sym] as u32 | lextra << lbits,
            lbits + LEN_EXTRA[lc] as u32,
        );
        self.w.put(self.dist0.0, self.dist0.1);
    }
}

/// Encodes `data` (at most [`BLOCK`] bytes) as one dynamic-Huffman block, or
/// as stored blocks when that is smaller.
pub(super) fn encode_block(w: &mut BitWriter, data: &[u8], last: bool) {
    let mut count = Counter {
        hists: [[0; 256]; 4],
        lit_freq: [0; LITLEN_SYMBOLS],
        dist_freq: [0; DIST_SYMBOLS],
    };
    tokenize(data, &mut count);
    let mut lit_freq = count.lit_freq;
    let [h0, h1, h2, h3] = &count.hists;
    for (((f, a), b), (c, d)) in lit_freq.iter_mut().zip(h0).zip(h1).zip(h2.iter().zip(h3)) {
        *f = a + b + c + d;
    }
    lit_freq[END_OF_BLOCK] = 1;
    let dist_freq = count.dist_freq;

    let lit = Code::from_freqs(&lit_freq, 15);
    let dist = Code::from_freqs(&dist_freq, 15);
    let header = DynamicHeader::new(&lit, &dist);
    let extra: u64 = (0..29)
        .map(|c| lit_freq[257 + c] as u64 * LEN_EXTRA[c] as u64)
        .sum();
    let bits = 3 + header.cost() + lit.cost(&lit_freq) + dist.cost(&dist_freq) + extra;
    let pieces = data.len().div_ceil(65_535).max(1) as u64;
    if pieces * (3 + 7 + 32) + 8 * data.len() as u64 <= bits {
        write_stored(w, data, last);
        return;
    }

    w.put(4 | last as u32, 3);
    header.write(w);
    let dist0 = (dist.codes[0] as u32, dist.lens[0] as u32);
    tokenize(
        data,
        &mut Coder {
            w,
            lit: &lit,
            dist0,
        },
    );
    lit.put(w, END_OF_BLOCK);
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
