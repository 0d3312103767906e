//! The coder of [`Compression::Fastest`](super::Compression::Fastest) and
//! [`Compression::Fast`](super::Compression::Fast), and of the segments
//! where matching does not pay at
//! [`Compression::Default`](super::Compression::Default):
//! Huffman codes fitted to each block, and runs of zero bytes as matches at
//! distance 1; no match search at all.
//!
//! Filtered PNG rows are mostly small differences and runs of zeros, so a
//! code fitted to the byte statistics of the block plus zero runs captures
//! much of what deflate can get from them (the approach of fdeflate, which
//! uses one fixed code tuned for PNG instead). The symbols are counted by
//! the same tokenizer that writes them: over the whole block where the
//! counts must be exact (short blocks, blocks near the size of storing them,
//! and the default level's estimates), and otherwise over a quarter of it,
//! one 1 KiB piece in four ([`Plan::sampled`]), a little size for a good deal
//! of speed (measured in `BENCHMARKS.md`). A block whose code would not beat
//! storing it is stored.
//! The writing pass puts up to 56 bits at a time through [`FastBits`], into
//! room for the most the symbols can take, and in blocks of mostly literals
//! takes two literals per look-up ([`Pairs`]).

use super::bits::{BitWriter, FastBits};
use super::block::{Code, DynamicHeader, stored_bits, symbol_bits};
use super::huffman::build_lengths;
use super::stored::write_stored;
use super::tables::*;
use alloc::vec::Vec;

/// Input bytes per block: two stored blocks' worth, so a block that is
/// better stored costs 10 bytes of stored-block headers. Smaller under a
/// memory limit.
pub(super) const BLOCK: usize = 2 * 65_535;

/// Blocks shorter than this are coded with codes fitted to exact counts,
/// so they never take more room than storing them.
pub(super) const EXACT_BELOW: usize = SAMPLED_FROM;

/// The most bytes the symbol buffer of [`encode_block`] takes for a block
/// of `block` bytes.
pub(super) fn scratch_bytes(block: usize) -> usize {
    (block * MAX_LIT_BITS.max(11) as usize).div_ceil(8) + 16
}

/// Where the tokenizer's symbols go: counted in the first pass, written in
/// the second. Literals come as the bytes of a `u64`, lowest first.
trait Symbols {
    /// The eight bytes of `word` as literals.
    fn word(&mut self, word: u64);
    /// The lowest `n` bytes of `bytes` as literals (`n <= 8`).
    fn literals(&mut self, bytes: u64, n: usize);
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
        // Outside a zero run, a word is eight literals unless its last
        // bytes are zeros that, with the zeros starting the next word, make
        // a run of four or more (the shortest a copy shortens): the common
        // case gets a loop of its own.
        if run == 0 {
            let mut taken = 0;
            for word in rest.chunks_exact(8) {
                let v = u64::from_le_bytes(word.try_into().unwrap());
                if v >> 56 == 0 {
                    let trail = v.leading_zeros() / 8;
                    if trail >= 4 {
                        break;
                    }
                    let next = match rest.get(taken + 8..taken + 16) {
                        Some(next) => u64::from_le_bytes(next.try_into().unwrap()),
                        None => break,
                    };
                    if trail + next.trailing_zeros() / 8 >= 4 {
                        break;
                    }
                }
                out.word(v);
                taken += 8;
            }
            rest = &rest[taken..];
            if rest.len() < 8 {
                break;
            }
        }
        // Inside a zero run, the run is followed 32 bytes per test.
        if run > 0 && rest.len() >= 32 {
            let w = |i: usize| u64::from_le_bytes(rest[i..i + 8].try_into().unwrap());
            if w(0) | w(8) | w(16) | w(24) == 0 {
                run += 32;
                rest = &rest[32..];
                continue;
            }
        }
        let v = u64::from_le_bytes(rest[..8].try_into().unwrap());
        rest = &rest[8..];
        if v == 0 {
            run += 8;
            continue;
        }
        let trail = (v.leading_zeros() / 8) as usize;
        if run == 0 && trail == 0 {
            out.word(v);
            continue;
        }
        let mut lead = 0;
        if run > 0 {
            lead = (v.trailing_zeros() / 8) as usize;
            zero_run(run + lead, out);
        }
        // `lead + trail < 8`, as `v` is not zero.
        out.literals(v >> (8 * lead), 8 - trail - lead);
        run = trail;
    }
    if run > 0 {
        zero_run(run, out);
    }
    for &b in rest {
        if b == 0 {
            out.literal0();
        } else {
            out.literals(b as u64, 1);
        }
    }
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
/// runs of one value do not serialise the increments (one with the `small`
/// feature: a microcontroller runs one increment at a time anyway, and
/// saves the 3 KiB of stack). Copies are all at distance 1: their lengths'
/// codes and their number are counted.
struct Counter {
    /// Histogram `k` is `hists[256 * k..][..256]`.
    hists: [u32; HISTS * 256],
    lengths: [u32; 29],
    copies: u32,
}

impl Symbols for Counter {
    // With one histogram (`small`), `i % HISTS` is 0.
    #[allow(clippy::modulo_one)]
    #[inline(always)]
    fn word(&mut self, word: u64) {
        for (i, b) in word.to_le_bytes().into_iter().enumerate() {
            self.hists[256 * (i % HISTS) + b as usize] += 1;
        }
    }

    #[inline(always)]
    fn literals(&mut self, mut bytes: u64, n: usize) {
        for _ in 0..n {
            self.hists[(bytes & 0xff) as usize] += 1;
            bytes >>= 8;
        }
    }

    #[inline(always)]
    fn literal0(&mut self) {
        self.hists[0] += 1;
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        self.lengths[LEN_CODE[len - MIN_MATCH] as usize] += 1;
        self.copies += 1;
    }
}

/// Byte histograms of the [`Counter`].
const HISTS: usize = if cfg!(feature = "small") { 1 } else { 4 };

/// The symbol counts of a block: literal/length and distance.
struct Freqs {
    lit: [u32; LITLEN_SYMBOLS],
    dist: [u32; DIST_SYMBOLS],
}

impl Freqs {
    fn new() -> Self {
        Freqs {
            lit: [0; LITLEN_SYMBOLS],
            dist: [0; DIST_SYMBOLS],
        }
    }
}

/// Counts the symbols of `data` into `freqs`, end of block included, or
/// with `sampled` those of one piece of [`SAMPLE_PIECE`] bytes in
/// [`SAMPLE_EVERY`].
///
/// Not inlined: the counter's 4 KiB of histograms stay out of the frames
/// of its callers, which go on to build codes and write blocks.
#[inline(never)]
fn count(data: &[u8], sampled: bool, freqs: &mut Freqs) {
    let mut counter = Counter {
        hists: [0; HISTS * 256],
        lengths: [0; 29],
        copies: 0,
    };
    let (piece, every) = match sampled {
        true => (SAMPLE_PIECE, SAMPLE_EVERY),
        false => (data.len().max(1), 1),
    };
    for piece in data.chunks(piece).step_by(every) {
        tokenize(piece, &mut counter);
    }
    let (lit, hists) = (&mut freqs.lit[..256], &counter.hists);
    lit.copy_from_slice(&hists[..256]);
    for hist in hists[256..].chunks_exact(256) {
        for (f, n) in lit.iter_mut().zip(hist) {
            *f += n;
        }
    }
    freqs.lit[END_OF_BLOCK] = 1;
    freqs.lit[257..].copy_from_slice(&counter.lengths);
    freqs.dist = [0; DIST_SYMBOLS];
    freqs.dist[0] = counter.copies;
}

/// Second pass: the symbols' codes. Each literal's code and length sit in
/// one table entry (`code | len << 16`), and up to three literals go out
/// in one write.
struct Coder<'a, 'b> {
    w: FastBits<'b>,
    table: &'a [u32; 256],
    /// The code of distance 1, with its length.
    dist0: (u64, u32),
    lit: &'a Code<LITLEN_SYMBOLS>,
}

/// The second pass for blocks with many literals: words of eight literals
/// go out as four pairs from [`Pairs`], in two writes.
struct Paired<'a, 'b> {
    coder: Coder<'a, 'b>,
    pairs: &'a [u32; PAIRS],
}

impl Symbols for Paired<'_, '_> {
    #[inline(always)]
    fn word(&mut self, word: u64) {
        // Bytes k and k + 1 as the index `byte k << 8 | byte k + 1`.
        let entry = |k: u32| self.pairs[((word >> (8 * k)) as u16).swap_bytes() as usize];
        const MASK: u32 = (1 << PAIR_CODE_BITS) - 1;
        for half in [0, 4] {
            let (a, b) = (entry(half), entry(half + 2));
            let la = a >> PAIR_CODE_BITS;
            self.coder.w.put(
                (a & MASK) as u64 | ((b & MASK) as u64) << la,
                la + (b >> PAIR_CODE_BITS),
            );
        }
    }

    #[inline(always)]
    fn literals(&mut self, bytes: u64, n: usize) {
        self.coder.literals(bytes, n);
    }

    #[inline(always)]
    fn literal0(&mut self) {
        self.coder.literal0();
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        self.coder.copy(len);
    }
}

/// Entries of [`Pairs`]: one per two bytes.
const PAIRS: usize = 1 << 16;

/// Bits of a pair entry that hold the two codes.
const PAIR_CODE_BITS: u32 = 2 * MAX_LIT_BITS;

/// Two literals' codes in one look-up, indexed by `first << 8 | second`:
/// the first code, then the second, in the low `2 × MAX_LIT_BITS` bits, and
/// their total length above. Filling it costs about as much as coding
/// 32 KiB of literals with it saves, so it serves only blocks with more
/// (and is made only for images that can have such blocks).
pub(super) struct Pairs(alloc::boxed::Box<[u32; PAIRS]>);

impl Pairs {
    /// Bytes the table takes.
    pub(super) const BYTES: usize = 4 * PAIRS;

    pub(super) fn new() -> Result<Self, super::AllocError> {
        let v = super::zeroed::<u32>(PAIRS)?;
        let table: alloc::boxed::Box<[u32; PAIRS]> =
            v.into_boxed_slice().try_into().expect("PAIRS entries");
        Ok(Pairs(table))
    }

    /// Fills the table for `lit`; each row (one first byte) is a loop
    /// with one shift count, which vectorises.
    fn fill(&mut self, lit: &Code<LITLEN_SYMBOLS>) {
        let (codes, lens) = (&lit.codes[..256], &lit.lens[..256]);
        for (first, row) in self.0.chunks_exact_mut(256).enumerate() {
            let (c0, l0) = (codes[first] as u32, lens[first] as u32);
            for ((e, &c1), &l1) in row.iter_mut().zip(codes).zip(lens) {
                *e = c0 | (c1 as u32) << l0 | (l0 + l1 as u32) << PAIR_CODE_BITS;
            }
        }
    }
}

/// Literals in a block from which [`Pairs`] pays for its filling.
pub(super) const PAIRS_WORTH: u32 = 1 << 15;

impl Coder<'_, '_> {
    /// The codes of the lowest `n` bytes of `bytes` (`n <= 3`), joined.
    #[inline(always)]
    fn join(&self, mut bytes: u64, n: usize) -> (u64, u32) {
        let (mut code, mut len) = (0u64, 0u32);
        for _ in 0..n {
            let e = self.table[(bytes & 0xff) as usize];
            code |= ((e & 0xffff) as u64) << len;
            len += e >> 16;
            bytes >>= 8;
        }
        (code, len)
    }
}

impl Symbols for Coder<'_, '_> {
    #[inline(always)]
    fn word(&mut self, word: u64) {
        let (c, l) = self.join(word, 3);
        self.w.put(c, l);
        let (c, l) = self.join(word >> 24, 3);
        self.w.put(c, l);
        let (c, l) = self.join(word >> 48, 2);
        self.w.put(c, l);
    }

    #[inline(always)]
    fn literals(&mut self, mut bytes: u64, mut n: usize) {
        while n > 0 {
            let k = n.min(3);
            let (c, l) = self.join(bytes, k);
            self.w.put(c, l);
            bytes >>= 24;
            n -= k;
        }
    }

    #[inline(always)]
    fn literal0(&mut self) {
        let (c, l) = self.join(0, 1);
        self.w.put(c, l);
    }

    #[inline(always)]
    fn copy(&mut self, len: usize) {
        let lc = LEN_CODE[len - MIN_MATCH] as usize;
        let sym = 257 + lc;
        let (c, l) = (self.lit.codes[sym] as u64, self.lit.lens[sym] as u32);
        let extra = (len - LEN_BASE[lc] as usize) as u64;
        let el = LEN_EXTRA[lc] as u32;
        self.w.put(
            c | extra << l | self.dist0.0 << (l + el),
            l + el + self.dist0.1,
        );
    }
}

/// Longest literal/length code: a pair entry holds two codes and their
/// length in 32 bits (2 × 13 + 5), and four literals and the bits still
/// pending fit one 56-bit write (4 × 13 ≤ 56, 7 more fit the accumulator).
const MAX_LIT_BITS: u32 = 13;

/// The codes of one block fitted to its symbol counts, with their sizes.
/// Only the code lengths are kept: the codes are made from them when the
/// block is written.
pub(super) struct Plan {
    lit: [u8; LITLEN_SYMBOLS],
    dist: [u8; DIST_SYMBOLS],
    header: DynamicHeader,
    /// Literals in the block.
    literals: u32,
    /// Bits of the whole dynamic block (estimated from the sample when the
    /// codes come from one).
    bits: u64,
    /// Bytes the symbols can take at most: exactly their size when the
    /// whole block was counted.
    room: usize,
}

impl Plan {
    /// Counts the symbols of `data` and fits codes to them; `None` when
    /// storing `data` takes no more bits than the dynamic block.
    pub(super) fn new(data: &[u8]) -> Option<Self> {
        let mut freqs = Freqs::new();
        Plan::exact(data, &mut freqs)
    }

    /// [`new`](Self::new), with `freqs` to count into.
    fn exact(data: &[u8], freqs: &mut Freqs) -> Option<Self> {
        count(data, false, freqs);
        let plan = Plan::fitted(freqs, None);
        (plan.bits < stored_bits(data.len())).then_some(plan)
    }

    /// Like [`new`](Self::new), but for a block of [`SAMPLED_FROM`] bytes
    /// or more the codes are fitted to one piece in [`SAMPLE_EVERY`] of
    /// it: its counts, scaled to the block, plus one for every symbol the
    /// block could hold. Where the estimate comes near the size of storing
    /// the block, the whole block is counted after all.
    pub(super) fn sampled(data: &[u8]) -> Option<Self> {
        let mut freqs = Freqs::new();
        if data.len() >= SAMPLED_FROM {
            count(data, true, &mut freqs);
            let scale = SAMPLE_EVERY as u32;
            for f in &mut freqs.lit {
                *f = *f * scale + 1;
            }
            freqs.lit[END_OF_BLOCK] = 1;
            freqs.dist[0] = freqs.dist[0] * scale + 1;
            let plan = Plan::fitted(&freqs, Some(data.len()));
            if plan.bits * 20 < stored_bits(data.len()) * 19 {
                return Some(plan);
            }
        }
        Plan::exact(data, &mut freqs)
    }

    /// Codes fitted to the counts. The room for the symbols is their
    /// counted size, or for codes fitted to a sample of a block of
    /// `sampled` bytes the most that many bytes can take: a literal costs
    /// at most the longest literal code, a copy (three bytes or more) at
    /// most 13 + 5 + 15 bits, 11 bits a byte.
    fn fitted(freqs: &Freqs, sampled: Option<usize>) -> Self {
        let mut plan = Plan {
            lit: [0; LITLEN_SYMBOLS],
            dist: [0; DIST_SYMBOLS],
            header: DynamicHeader::EMPTY,
            literals: freqs.lit[..256].iter().sum(),
            bits: 0,
            room: 0,
        };
        build_lengths(&freqs.lit, MAX_LIT_BITS, &mut plan.lit);
        build_lengths(&freqs.dist, 15, &mut plan.dist);
        plan.header = DynamicHeader::new(&plan.lit, &plan.dist);
        let symbols = symbol_bits(&plan.lit, &plan.dist, &freqs.lit, &freqs.dist);
        plan.bits = 3 + plan.header.cost() + symbols;
        plan.room = match sampled {
            None => symbols.div_ceil(8) as usize,
            Some(len) => {
                let per_byte = (*plan.lit[..256].iter().max().unwrap() as usize).max(11);
                (len * per_byte + MAX_LIT_BITS as usize).div_ceil(8)
            }
        };
        plan
    }
}

/// Blocks from this long on are coded from a sample of their bytes.
const SAMPLED_FROM: usize = 1 << 15;
/// The sample: one piece of [`SAMPLE_PIECE`] bytes in [`SAMPLE_EVERY`].
const SAMPLE_PIECE: usize = 1024;
const SAMPLE_EVERY: usize = 4;

/// Bits of `data` as one block of this coder (dynamic or stored, whichever
/// is smaller): what a matching level weighs its own blocks against.
pub(super) fn estimate_bits(data: &[u8]) -> u64 {
    let mut freqs = Freqs::new();
    count(data, false, &mut freqs);
    Plan::fitted(&freqs, None).bits.min(stored_bits(data.len()))
}

/// Encodes `data` (at most [`BLOCK`] bytes) as one dynamic-Huffman block
/// with codes from a sample ([`Plan::sampled`]), or as stored blocks when
/// that is smaller. The symbols are written into `scratch`, which keeps
/// room for the most they can take, and then moved to the output.
pub(super) fn encode_block(
    w: &mut BitWriter,
    pairs: Option<&mut Pairs>,
    scratch: Option<&mut Vec<u8>>,
    data: &[u8],
    last: bool,
) {
    match Plan::sampled(data) {
        Some(plan) => write_block(w, pairs, scratch, data, &plan, last),
        None => write_stored(w, data, last),
    }
}

/// Writes `data` as the dynamic block `plan` made for it.
pub(super) fn write_block(
    w: &mut BitWriter,
    pairs: Option<&mut Pairs>,
    scratch: Option<&mut Vec<u8>>,
    data: &[u8],
    plan: &Plan,
    last: bool,
) {
    let Plan {
        header,
        literals,
        room,
        ..
    } = plan;
    w.put(4 | last as u32, 3);
    header.write(w, &plan.lit, &plan.dist);
    let lit = &Code::from_lengths(&plan.lit);
    let dist = &Code::from_lengths(&plan.dist);
    let pairs = match pairs {
        Some(pairs) if *literals >= PAIRS_WORTH => {
            pairs.fill(lit);
            Some(&*pairs.0)
        }
        _ => None,
    };
    w.with_fast(*room, scratch, |w| {
        let table = core::array::from_fn(|b| lit.codes[b] as u32 | (lit.lens[b] as u32) << 16);
        let coder = Coder {
            w,
            table: &table,
            dist0: (dist.codes[0] as u64, dist.lens[0] as u32),
            lit,
        };
        let mut coder = match pairs {
            Some(pairs) => {
                let mut paired = Paired { coder, pairs };
                tokenize(data, &mut paired);
                paired.coder
            }
            None => {
                let mut coder = coder;
                tokenize(data, &mut coder);
                coder
            }
        };
        let eob = END_OF_BLOCK;
        coder.w.put(lit.codes[eob] as u64, lit.lens[eob] as u32);
        coder.w
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Rebuilds the input from the symbols.
    struct Rebuild(Vec<u8>);

    impl Symbols for Rebuild {
        fn word(&mut self, word: u64) {
            self.0.extend_from_slice(&word.to_le_bytes());
        }
        fn literals(&mut self, bytes: u64, n: usize) {
            assert!(n <= 8);
            self.0.extend_from_slice(&bytes.to_le_bytes()[..n]);
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

    /// The obvious coder: one symbol per write, through the plain writer.
    struct Plain<'a> {
        w: BitWriter,
        lit: &'a Code<LITLEN_SYMBOLS>,
        dist: &'a Code<DIST_SYMBOLS>,
    }

    impl Symbols for Plain<'_> {
        fn word(&mut self, word: u64) {
            for b in word.to_le_bytes() {
                self.lit.put(&mut self.w, b as usize);
            }
        }
        fn literals(&mut self, bytes: u64, n: usize) {
            for &b in &bytes.to_le_bytes()[..n] {
                self.lit.put(&mut self.w, b as usize);
            }
        }
        fn literal0(&mut self) {
            self.lit.put(&mut self.w, 0);
        }
        fn copy(&mut self, len: usize) {
            let lc = LEN_CODE[len - MIN_MATCH] as usize;
            self.lit.put(&mut self.w, 257 + lc);
            self.w
                .put((len - LEN_BASE[lc] as usize) as u32, LEN_EXTRA[lc] as u32);
            self.dist.put(&mut self.w, 0);
        }
    }

    fn runs_and_bytes(seed: u32, n: usize) -> Vec<u8> {
        let mut x = seed;
        let mut data = Vec::new();
        while data.len() < n {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let zeros = (x >> 8) as usize % [3, 12, 300, 1000][(x >> 28) as usize % 4];
            data.extend(core::iter::repeat_n(0u8, zeros));
            for _ in 0..(x >> 4) % 20 {
                x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                data.push((x >> 24) as u8 % 7);
            }
        }
        data.truncate(n);
        data
    }

    /// Whole blocks against the obvious coder, over inputs of every
    /// length remainder, with bits already pending in the writer.
    #[test]
    fn block_matches_the_plain_coder() {
        let mut pairs = Pairs::new().unwrap();
        let mut scratch = Vec::new();
        let cases = [(1, 0), (2, 1), (3, 7), (4, 8), (5, 9), (6, 100), (7, 5003)];
        for (seed, n) in cases
            .into_iter()
            .chain([(8, BLOCK), (9, BLOCK), (10, BLOCK - 5)])
        {
            // The last two: mostly literals of every value, so that the
            // block is coded with literal pairs.
            let data = if seed < 9 {
                runs_and_bytes(seed, n)
            } else {
                let mut x = seed;
                (0..n)
                    .map(|i| {
                        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                        let spread = 1 + (x >> 20) as u8 % 8;
                        if i % 97 < 5 {
                            0
                        } else {
                            (x >> 24) as u8 / spread
                        }
                    })
                    .collect()
            };
            let mut freqs = Freqs::new();
            count(&data, false, &mut freqs);
            let literals = freqs.lit[..256].iter().sum::<u32>();
            assert_eq!(literals >= PAIRS_WORTH, seed >= 9, "seed {seed}");
            for pending in [0, 5, 13] {
                let mut fast = BitWriter::default();
                fast.put(0x1abc & ((1 << pending) - 1), pending);
                encode_block(&mut fast, Some(&mut pairs), Some(&mut scratch), &data, true);
                fast.align();

                // The same codes, from the same sample, written plainly
                // (a block that is stored has no codes to compare).
                if let Some(plan) = Plan::sampled(&data) {
                    let (lit, dist) = (
                        Code::from_lengths(&plan.lit),
                        Code::from_lengths(&plan.dist),
                    );
                    let mut plain = Plain {
                        w: BitWriter::default(),
                        lit: &lit,
                        dist: &dist,
                    };
                    plain.w.put(0x1abc & ((1 << pending) - 1), pending);
                    plain.w.put(5, 3);
                    plan.header.write(&mut plain.w, &plan.lit, &plan.dist);
                    tokenize(&data, &mut plain);
                    lit.put(&mut plain.w, END_OF_BLOCK);
                    plain.w.align();
                    if n >= 100 {
                        assert_eq!(fast.out, plain.w.out, "seed {seed} len {n}");
                    }
                }
                let mut inflated = miniz_oxide::inflate::decompress_to_vec(&fast.out[..])
                    .ok()
                    .filter(|_| pending == 0);
                if let Some(back) = inflated.take() {
                    assert_eq!(back, data, "seed {seed} len {n}");
                }
            }
        }
    }

    /// Codes from a sample must cover what the sample missed: here the
    /// sampled pieces hold only a few byte values and no zero runs, the
    /// others every byte value and runs of every length.
    #[test]
    fn sampled_codes_cover_the_whole_block() {
        let mut data = Vec::new();
        let mut x = 7u32;
        while data.len() < BLOCK {
            let piece = data.len() / SAMPLE_PIECE;
            if piece % SAMPLE_EVERY == 0 {
                data.extend((0..SAMPLE_PIECE).map(|i| 1 + (i % 3) as u8));
            } else {
                for _ in 0..40 {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    data.push((x >> 24) as u8 | 1);
                    data.extend(core::iter::repeat_n(0u8, (x >> 8) as usize % 300));
                }
            }
        }
        data.truncate(BLOCK);
        let plan = Plan::sampled(&data).expect("a Huffman block");
        assert!(plan.room < data.len() * 2);
        let mut w = BitWriter::default();
        let mut scratch = Vec::new();
        encode_block(&mut w, None, Some(&mut scratch), &data, true);
        w.align();
        let back = miniz_oxide::inflate::decompress_to_vec(&w.out).expect("valid stream");
        assert_eq!(back, data);
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
