//! A streaming deflate compressor (RFC 1951) with bounded memory.
//!
//! Input arrives in pieces of any size through [`Deflater::write`]; output
//! accumulates in [`Deflater::output`], from which the caller takes it. All
//! state is allocated once, so memory does not depend on how much passes
//! through: the matching levels keep a window buffer of 256 KiB, hash
//! chains over the last 32 KiB and one block of tokens (about 520 KiB),
//! plus about 180 KiB of match and cost buffers at the best level; the two
//! fastest levels keep one block of input, the stored level one stored
//! block, or nothing when the total length is known in advance (as it is to
//! the PNG writer). Under a memory limit every one of these is smaller
//! ([`Sizes`]).
//!
//! For the parallel writer, a compressor can also start from a dictionary
//! (the 32 KiB of input before its segment) and end its segment with a
//! sync flush, on a byte boundary with no final block, so that the raw
//! streams of consecutive segments join into one; [`reset`](Deflater::reset)
//! readies it for the next segment. [`lz`] states what holds at these
//! hand-overs.
//!
//! What a level does is read from its [`Plan`](crate::level::Plan); this
//! file dispatches to the engine the plan names:
//!
//! - [`stored`]: stored blocks, and the stored runs the matching levels join;
//! - [`rle`]: the run-length coder of the fast levels (per-block codes, zero
//!   runs), also used by the lazy level where matching does not pay;
//! - [`lz`]: the matching engine, with the invariants of every hand-over:
//!   - [`matcher`]: the window, the hash chains and the one chain walker,
//!   - [`lazy`]: the lazy parser and its switch to run-length segments,
//!   - [`optimal`]: the near-optimal parser of the best level;
//! - [`block`]: the token buffer and Huffman block encoding (fixed or
//!   dynamic), [`huffman`]: length-limited codes, [`tables`]: the format's
//!   length and distance codes, [`bits`]: the LSB-first bit writer.

/// The rare paths that only large inputs reach, counted for the fuzz
/// harness (feature `__internal`) so that it can show they are exercised.
#[cfg(feature = "__internal")]
pub(crate) mod probe {
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// The paths, in the order of [`NAMES`].
    #[derive(Clone, Copy)]
    pub(crate) enum Path {
        /// The window slid.
        Slide,
        /// A slide flushed the block about to slide out.
        SlideFlush,
        /// A block went on past a slide.
        SlideGoesOn,
        /// A block was flushed because its token buffer was full.
        FullBlock,
        /// A block's tokens went on in the block before, under its codes.
        BlockGoesOn,
        /// The lazy parser left matching for run-length segments.
        LeaveLazy,
        /// ... while it held a byte back.
        LeaveLazyHeldByte,
        /// ... right after a slide's flush decided it.
        LeaveLazyAfterSlide,
        /// Matching resumed after run-length segments.
        ResumeLazy,
        /// A run of stored input was joined across blocks and written.
        StoredRun,
    }

    /// Names of the paths, for reports.
    pub(crate) const NAMES: [&str; 10] = [
        "slide",
        "slide_flush",
        "slide_goes_on",
        "full_block",
        "block_goes_on",
        "leave_lazy",
        "leave_lazy_held_byte",
        "leave_lazy_after_slide",
        "resume_lazy",
        "stored_run",
    ];

    static COUNTS: [AtomicUsize; 10] = [const { AtomicUsize::new(0) }; 10];

    pub(crate) fn hit(p: Path) {
        COUNTS[p as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counts() -> [usize; 10] {
        core::array::from_fn(|i| COUNTS[i].load(Ordering::Relaxed))
    }
}

/// Counts a rare path (see [`probe`]); nothing without the `__internal` feature.
macro_rules! probe {
    ($path:ident) => {
        #[cfg(feature = "__internal")]
        $crate::deflate::probe::hit($crate::deflate::probe::Path::$path);
    };
}

mod bits;
mod block;
mod huffman;
#[cfg(feature = "std")]
mod join;
mod lazy;
mod lz;
mod matcher;
mod optimal;
mod rle;
mod stored;
mod tables;

use alloc::vec::Vec;

use bits::BitWriter;
use block::MAX_STORED;
pub(crate) use block::Tokens;
#[cfg(feature = "std")]
pub(crate) use join::Joiner;
use lz::Lz;
use stored::{StoredExact, write_stored};

use crate::level::{Compression, Engine as Kind};

/// An allocation the compressor could not make: how many bytes it asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AllocError {
    pub(crate) bytes: usize,
}

/// Reserves room for exactly `n` more items in `v`.
pub(crate) fn reserve<T>(v: &mut Vec<T>, n: usize) -> Result<(), AllocError> {
    v.try_reserve_exact(n).map_err(|_| AllocError {
        bytes: n.saturating_mul(core::mem::size_of::<T>()),
    })
}

/// A buffer of `n` default (zero) items.
pub(crate) fn zeroed<T: Clone + Default>(n: usize) -> Result<Vec<T>, AllocError> {
    let mut v = Vec::new();
    reserve(&mut v, n)?;
    v.resize(n, T::default());
    Ok(v)
}

/// The sizes of a compressor's buffers: today's sizes ([`Sizes::FULL`]),
/// or smaller ones chosen to fit a memory limit. Output depends on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sizes {
    /// The window is `1 << window_bits` bytes (9 to 15): how far back
    /// matches reach, and the CINFO field of the zlib header.
    pub(crate) window_bits: u32,
    /// Windows of input the matcher holds at once (at least 3).
    pub(crate) buffer_windows: usize,
    /// The hash table has `1 << hash_bits` heads.
    pub(crate) hash_bits: u32,
    /// Tokens per block at the matching levels.
    pub(crate) tokens: usize,
    /// Input per block of the run-length coder (the fast levels), and per
    /// run-length segment of the lazy level.
    pub(crate) segment: usize,
    /// Positions the optimal parser parses together.
    pub(crate) chunk: usize,
    /// The run-length coder may use a table of literal pairs (256 KiB) and
    /// a buffer for its symbols; without them it writes straight into the
    /// output, and its blocks are at most 32 KiB, where codes are fitted to
    /// exact counts, so a block never takes more room than storing it.
    pub(crate) tables: bool,
    /// Blocks of the matching levels may outgrow the window (see
    /// [`lz`]); without, each is flushed before its input slides out.
    pub(crate) long_blocks: bool,
}

impl Sizes {
    /// The sizes without a memory limit.
    pub(crate) const FULL: Sizes = Sizes {
        window_bits: 15,
        buffer_windows: 8,
        hash_bits: 15,
        tokens: block::MAX_TOKENS,
        segment: rle::BLOCK,
        chunk: optimal::CHUNK,
        tables: true,
        long_blocks: false,
    };

    /// Sizes for a window of `1 << window_bits` bytes with no more than it
    /// needs around it: three windows of input, as many hash heads as
    /// window positions, a run-length segment and a token block of one
    /// window (a segment of at most 32 KiB), and an optimal-parser chunk
    /// of half a window.
    pub(crate) fn small(window_bits: u32) -> Sizes {
        let w = 1usize << window_bits;
        Sizes {
            window_bits,
            buffer_windows: 3,
            hash_bits: window_bits,
            tokens: w / 2,
            segment: w.min(rle::EXACT_BELOW),
            chunk: w / 2,
            tables: false,
            long_blocks: true,
        }
    }

    /// The window in bytes.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn window(&self) -> usize {
        1 << self.window_bits
    }

    /// Bytes a compressor for `engine` allocates with these sizes (for
    /// `total` bytes of input, when known), not counting its output.
    pub(crate) fn bytes(&self, engine: Kind, total: Option<u64>) -> usize {
        use core::mem::size_of;
        match engine {
            Kind::Stored => match total {
                Some(_) => 0,
                None => MAX_STORED,
            },
            Kind::RunLength => {
                let pairs = self.tables && total.is_none_or(|t| t >= rle::PAIRS_WORTH as u64);
                self.segment
                    + if self.tables {
                        rle::scratch_bytes(self.segment)
                    } else {
                        0
                    }
                    + if pairs { rle::Pairs::BYTES } else { 0 }
            }
            Kind::Lazy(_) | Kind::Optimal(_) => {
                size_of::<Lz>()
                    + matcher::Matcher::bytes(self)
                    + 4 * self.tokens
                    + match engine {
                        Kind::Optimal(_) => optimal::Optimal::bytes(self.chunk),
                        _ => 0,
                    }
            }
        }
    }

    /// About the most output one [`Deflater::write`] of `piece` bytes adds
    /// (the caller drains the output after each write).
    ///
    /// Every input byte is coded once. A block never takes more than
    /// storing it (its length and 5 bytes a stored block), except the
    /// sampled blocks of the fast levels (at most 13 bits a byte, written
    /// whole) and long blocks (see [`long_blocks`](Self::long_blocks)),
    /// coded with at most the fixed code's bits: 9 for a literal byte, 31
    /// for a match of 3 bytes or more; under 4 bytes a token and under 4/3
    /// of a byte a byte. With long blocks (under a limit) one call writes
    /// the block at hand (all of the window if it can be stored, or a long
    /// block's tokens), then blocks of the input it parses: the piece and
    /// what waited for more input (the lookahead of a match search or a
    /// run-length segment). Without, a stored run may join blocks over
    /// the whole window as well.
    pub(crate) fn burst(&self, engine: Kind, piece: usize) -> usize {
        match engine {
            Kind::Stored => MAX_STORED + piece + 1024,
            Kind::RunLength if self.tables => rle::scratch_bytes(self.segment) + piece + 1024,
            // Exact codes: each block at most its stored size, and a
            // piece completes at most `piece / segment` rounded up.
            Kind::RunLength => (self.segment + 8) * piece.div_ceil(self.segment) + 64,
            Kind::Lazy(_) | Kind::Optimal(_) => {
                let buffer = self.buffer_windows << self.window_bits;
                let waiting = self.segment.max(matcher::MIN_LOOKAHEAD);
                let parsed = (piece + waiting) * 4 / 3 + 256;
                if self.long_blocks {
                    (buffer + 8).max(4 * self.tokens + 64) + parsed
                } else {
                    2 * buffer + parsed + 1024
                }
            }
        }
    }
}

/// Streaming deflate compressor; see the module docs.
pub(crate) struct Deflater {
    bits: BitWriter,
    engine: Engine,
    /// Input of the block being collected, for the engines that code whole
    /// blocks at once (stored, run-length).
    pending: Vec<u8>,
    /// Input per block of those engines.
    block: usize,
}

/// What turns input into deflate blocks.
enum Engine {
    /// Stored blocks of up to [`MAX_STORED`] bytes.
    Stored,
    /// Stored blocks for input whose total length is known in advance.
    StoredExact(StoredExact),
    /// Per-block Huffman codes and zero runs, no match search ([`rle`]),
    /// with its table of literal pairs and the buffer its symbols are
    /// written into (neither under a memory limit).
    Rle(Option<rle::Pairs>, Option<Vec<u8>>),
    /// LZ77 matching with hash chains ([`lz`]).
    Lz(alloc::boxed::Box<Lz>),
}

impl Deflater {
    pub(crate) fn new(level: Compression) -> Result<Self, AllocError> {
        Self::sized(level, None, &Sizes::FULL)
    }

    /// A compressor for `total` bytes of input, when that is known (input
    /// too short to fill a block with literals gets no table of literal
    /// pairs), with buffers of `sizes`.
    pub(crate) fn sized(
        level: Compression,
        total: Option<u64>,
        sizes: &Sizes,
    ) -> Result<Self, AllocError> {
        let mut pending = Vec::new();
        let mut block = 0;
        let engine = match level.plan().engine {
            Kind::Stored => {
                reserve(&mut pending, MAX_STORED)?;
                block = MAX_STORED;
                Engine::Stored
            }
            Kind::RunLength => {
                block = sizes.segment;
                reserve(&mut pending, block)?;
                let pairs = sizes.tables && total.is_none_or(|t| t >= rle::PAIRS_WORTH as u64);
                // The symbol buffer grows to what the blocks need.
                let scratch = sizes.tables.then(Vec::new);
                Engine::Rle(pairs.then(rle::Pairs::new).transpose()?, scratch)
            }
            // One call for both, so that the engine (about 1.4 KiB) is
            // built in one place on the stack before it is boxed.
            Kind::Lazy(p) | Kind::Optimal(p) => {
                let optimal = matches!(level.plan().engine, Kind::Optimal(_));
                Engine::Lz(alloc::boxed::Box::new(Lz::new(p, optimal, sizes)?))
            }
        };
        Ok(Deflater {
            bits: BitWriter::default(),
            engine,
            pending,
            block,
        })
    }

    /// A stored-only compressor for exactly `total` bytes of input (the
    /// caller must write exactly that much before [`finish`](Self::finish)):
    /// like [`Compression::Stored`], with one copy of the input fewer.
    pub(crate) fn stored_exact(total: u64) -> Self {
        Deflater {
            bits: BitWriter::default(),
            engine: Engine::StoredExact(StoredExact::new(total)),
            pending: Vec::new(),
            block: 0,
        }
    }

    /// Compressed bytes produced so far and not yet taken by the caller.
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.bits.out
    }

    /// About the most output one block adds at once, beyond the input it
    /// codes: what a caller that drains the output after each write should
    /// leave room for.
    pub(crate) fn burst(&self) -> usize {
        match self.engine {
            Engine::Stored => MAX_STORED + 16,
            // A few block headers among the input.
            Engine::StoredExact(_) => 64,
            Engine::Rle(..) => self.block + 32,
            // A run-length coded segment at the lazy level.
            Engine::Lz(ref m) if m.lazy.weighs() => m.segment + 32,
            // Blocks of at most 16 Ki tokens, and stored runs written in
            // pieces of 65535 bytes.
            Engine::Lz(_) => 1 << 16,
        }
    }

    /// Back to the state of a new compressor, keeping every buffer: the
    /// output is emptied, and nothing of the earlier input survives
    /// (window, hash chains, parser statistics), so what follows compresses
    /// exactly as in a new compressor. Not for [`stored_exact`](Self::stored_exact),
    /// whose length is fixed at the start.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn reset(&mut self) {
        self.bits.reset();
        self.pending.clear();
        match &mut self.engine {
            Engine::Lz(m) => m.reset(),
            Engine::StoredExact(_) => debug_assert!(false, "stored_exact is not reset"),
            // Their state is the pending block: the table of literal pairs
            // and the symbol buffer are written afresh for every block.
            Engine::Stored | Engine::Rle(..) => {}
        }
    }

    /// Starts the stream after `dict` (its last 32 KiB), data the
    /// decoder already has: a preset dictionary in the sense of RFC 1950,
    /// but for a raw stream that continues another. Only the matching
    /// levels use it; the others never refer back. Only on a compressor
    /// just made or [`reset`](Self::reset).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn set_dictionary(&mut self, dict: &[u8]) {
        if let Engine::Lz(m) = &mut self.engine {
            m.set_dictionary(dict);
        }
    }

    /// Ends a segment without ending the stream (zlib's sync flush): codes
    /// all input written so far, in blocks none of which is the last, then
    /// writes an empty stored block, whose header pads the output to a
    /// whole byte. Another raw deflate stream can follow it directly, as
    /// long as it refers back only to input this one coded (see
    /// [`set_dictionary`](Self::set_dictionary)). Not for
    /// [`stored_exact`](Self::stored_exact).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn sync_flush(&mut self) {
        match &mut self.engine {
            Engine::Lz(m) => m.flush(&mut self.bits),
            Engine::StoredExact(_) => debug_assert!(false, "stored_exact has no sync flush"),
            Engine::Stored | Engine::Rle(..) => {
                if !self.pending.is_empty() {
                    self.write_pending(false);
                }
            }
        }
        write_stored(&mut self.bits, &[], false);
        debug_assert!(self.bits.is_aligned());
    }

    /// Ends a segment of the parallel writer as [`sync_flush`](Self::sync_flush)
    /// does, or for the last segment as [`finish`](Self::finish), except
    /// where the whole segment is one block that compresses well (no
    /// output so far, `wrote` false, nothing stored): that block's tokens
    /// are returned unwritten, and the compressor has written nothing; the
    /// writer joins them with the blocks of the segments around them
    /// ([`Joiner`]).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn end_segment(
        &mut self,
        last: bool,
        wrote: bool,
    ) -> Result<Option<Tokens>, AllocError> {
        if let Engine::Lz(m) = &mut self.engine {
            m.code_all(&mut self.bits);
            if !wrote && self.bits.out.is_empty() && self.bits.is_aligned() {
                if let Some(tokens) = m.take_open_block()? {
                    return Ok(Some(tokens));
                }
            }
        }
        if last {
            self.finish();
        } else {
            self.sync_flush();
        }
        Ok(None)
    }

    /// Compresses `data`, appending whatever output is complete.
    pub(crate) fn write(&mut self, mut data: &[u8]) {
        let block = match &mut self.engine {
            Engine::Lz(m) => return m.write(&mut self.bits, data),
            Engine::StoredExact(s) => return s.write(&mut self.bits, data),
            Engine::Stored | Engine::Rle(..) => self.block,
        };
        while !data.is_empty() {
            let n = (block - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() == block {
                self.write_pending(false);
            }
        }
    }

    /// Codes the collected block.
    fn write_pending(&mut self, last: bool) {
        match &mut self.engine {
            Engine::Rle(pairs, scratch) => rle::encode_block(
                &mut self.bits,
                pairs.as_mut(),
                scratch.as_mut(),
                &self.pending,
                last,
            ),
            _ => write_stored(&mut self.bits, &self.pending, last),
        }
        self.pending.clear();
    }

    /// Ends the stream: compresses what is left and writes the final block,
    /// padded to a whole byte.
    pub(crate) fn finish(&mut self) {
        match &mut self.engine {
            Engine::Lz(m) => m.finish(&mut self.bits),
            Engine::StoredExact(s) => s.finish(&mut self.bits),
            _ => self.write_pending(true),
        }
        self.bits.align();
    }
}

/// Compresses `data` into a raw deflate stream in one call.
#[cfg(test)]
pub(crate) fn deflate(data: &[u8], level: Compression) -> Vec<u8> {
    let mut d = Deflater::new(level).unwrap();
    d.write(data);
    d.finish();
    core::mem::take(d.output())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    pub(super) fn xorshift(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect()
    }

    pub(super) fn inflate(stream: &[u8]) -> Vec<u8> {
        miniz_oxide::inflate::decompress_to_vec(stream).expect("valid deflate stream")
    }

    pub(super) fn samples() -> Vec<Vec<u8>> {
        let mut text = Vec::new();
        for i in 0..20_000u32 {
            text.extend_from_slice(b"the quick brown fox ");
            text.extend_from_slice(&i.to_le_bytes()[..(i % 3) as usize]);
        }
        let mut runs = Vec::new();
        for i in 0..300_000u32 {
            runs.push(((i / 1000) % 7) as u8);
        }
        // Small differences, as in filtered photographs: matching barely
        // pays, so the lazy level codes some segments without it.
        let residuals: Vec<u8> = xorshift(600_000, 11)
            .iter()
            .map(|&b| (b.trailing_zeros() as u8).wrapping_mul(if b & 1 == 0 { 1 } else { 255 }))
            .collect();
        let mut mixed = xorshift(100_000, 3);
        mixed.extend_from_slice(&text[..50_000]);
        mixed.extend(xorshift(70_000, 5));
        vec![
            Vec::new(),
            vec![42],
            vec![0; 5],
            b"abcabcabcabc".to_vec(),
            xorshift(1000, 1),
            xorshift(300_000, 2),
            text,
            runs,
            mixed,
            vec![0; 1 << 20],
            residuals,
        ]
    }

    #[test]
    fn every_level_round_trips() {
        for &level in Compression::ALL {
            for data in samples() {
                let out = deflate(&data, level);
                assert_eq!(inflate(&out), data, "{level:?} len {}", data.len());
            }
        }
    }

    #[test]
    fn pieces_of_any_size_give_the_same_stream() {
        let data = &samples()[8];
        for &level in Compression::ALL {
            let whole = deflate(data, level);
            for piece in [1, 7, 258, 4099, 65_536] {
                let mut d = Deflater::new(level).unwrap();
                for p in data.chunks(piece) {
                    d.write(p);
                }
                d.finish();
                assert_eq!(*d.output(), whole, "{level:?} piece {piece}");
            }
        }
    }

    #[test]
    fn pieces_of_any_size_give_the_same_stream_where_matching_resumes() {
        // Residuals, which the default level codes partly by runs: with
        // small pieces a run-length segment ends at the end of the input
        // at hand, and the last strings before the point where matching
        // resumes are not whole yet. They were left out of the chains for
        // good, and the matches after it came out other than with the
        // input in one piece (fails with pieces of 1 byte without the
        // catching up of `Lz::index_left_out`).
        let data = samples()[10].clone();
        let whole = deflate(&data, Compression::Default);
        for piece in [1, 2, 3, 5] {
            let mut d = Deflater::new(Compression::Default).unwrap();
            for p in data.chunks(piece) {
                d.write(p);
            }
            d.finish();
            assert!(*d.output() == whole, "piece {piece}");
        }
    }

    /// Compresses `data` in segments of `seg` bytes as the parallel writer
    /// does: each after the 32 KiB before it as dictionary (none with
    /// `dict` false), fed in pieces of `piece` bytes, ended by a sync flush,
    /// the last by `finish`; on one compressor reset between segments
    /// (`reuse`) or on a new one for each.
    fn segmented(
        data: &[u8],
        level: Compression,
        seg: usize,
        piece: usize,
        reuse: bool,
    ) -> Vec<u8> {
        segmented_with(data, level, seg, piece, reuse, true)
    }

    fn segmented_with(
        data: &[u8],
        level: Compression,
        seg: usize,
        piece: usize,
        reuse: bool,
        dict: bool,
    ) -> Vec<u8> {
        let mut out = Vec::new();
        let mut d = Deflater::new(level).unwrap();
        let segments = data.len().div_ceil(seg).max(1);
        for k in 0..segments {
            if reuse {
                d.reset();
            } else {
                d = Deflater::new(level).unwrap();
            }
            let (lo, hi) = (k * seg, ((k + 1) * seg).min(data.len()));
            if dict {
                d.set_dictionary(&data[lo.saturating_sub(1 << 15)..lo]);
            }
            for p in data[lo..hi].chunks(piece) {
                d.write(p);
            }
            if k + 1 == segments {
                d.finish();
            } else {
                d.sync_flush();
                // The empty stored block of the sync flush ends the segment.
                assert!(d.output().ends_with(&[0, 0, 0xff, 0xff]), "{level:?}");
            }
            out.extend_from_slice(d.output());
        }
        out
    }

    #[test]
    fn segments_join_into_one_stream() {
        let mut inputs = samples();
        // Long enough for window slides inside a segment.
        let mut long = inputs[8].clone();
        long.extend_from_slice(&inputs[10]);
        inputs.push(long);
        for &level in Compression::ALL {
            for data in &inputs {
                for seg in [1usize, 1000, 40_000, 100_000, 300_000] {
                    if data.len() / seg > 300 {
                        continue;
                    }
                    let fresh = segmented(data, level, seg, 4099, false);
                    assert_eq!(
                        inflate(&fresh),
                        *data,
                        "{level:?} len {} seg {seg}",
                        data.len()
                    );
                    // A reset compressor gives the same bytes as a new one,
                    // and the pieces the input came in change nothing.
                    let reused = segmented(data, level, seg, 65_536, true);
                    assert!(reused == fresh, "{level:?} len {} seg {seg}", data.len());
                }
            }
        }
    }

    #[test]
    fn a_dictionary_lets_a_segment_refer_to_the_one_before() {
        let text = &samples()[6];
        for level in [Compression::Default, Compression::Best] {
            let with = segmented(text, level, 50_000, 4096, true);
            let without = segmented_with(text, level, 50_000, 4096, true, false);
            assert_eq!(inflate(&with), *text);
            assert_eq!(inflate(&without), *text);
            // Each segment after the first would otherwise start with no
            // history at all.
            assert!(
                with.len() + 200 < without.len(),
                "{level:?}: {} with dictionaries, {} without",
                with.len(),
                without.len()
            );
        }
    }

    #[test]
    fn a_reset_forgets_everything_before() {
        // After very different input (and a slide), a reset compressor
        // gives the bytes of a new one, dictionary and all, whether the
        // new input ends below what the old one filled (the window is not
        // cleared: the byte past the input must read as a new one's) or
        // runs past it. Each length is used twice in a row, so that the
        // second starts from a reset after the first.
        let samples = samples();
        let (noise, text) = (&samples[5], &samples[6]);
        for &level in Compression::ALL {
            let mut used = Deflater::new(level).unwrap();
            used.write(noise);
            used.write(&text[..100_000]);
            used.sync_flush();
            for len in [1, 2, 3, 4, 5, 7, 300, 4099, 160_000, 160_000, 5, 5] {
                for dict in [0, 40_000] {
                    used.reset();
                    let mut new = Deflater::new(level).unwrap();
                    for d in [&mut used, &mut new] {
                        d.set_dictionary(&text[..dict]);
                        d.write(&text[dict..dict + len]);
                        d.finish();
                    }
                    assert!(used.output() == new.output(), "{level:?} {len} {dict}");
                    used.output().clear();
                }
            }
        }
    }

    #[test]
    fn incompressible_input_barely_grows() {
        let data = xorshift(1 << 20, 9);
        for &level in Compression::ALL {
            let out = deflate(&data, level);
            // Consecutive stored blocks are joined: 5 bytes per 65535, plus
            // at most one short block on each side of the stored run.
            let bound = data.len() + 5 * data.len().div_ceil(65_535) + 10;
            assert!(out.len() <= bound, "{level:?} {} > {bound}", out.len());
        }
    }

    #[test]
    fn stored_runs_survive_slides_and_mixed_input() {
        // Noise, text, noise: stored runs broken by a Huffman block and
        // carried across window slides, in pieces of every size.
        let mut data = xorshift(700_000, 21);
        data.extend_from_slice(&samples()[6][..200_000]);
        data.extend(xorshift(500_000, 22));
        for &level in Compression::ALL {
            for piece in [1000, 65_535, 1 << 20] {
                let mut d = Deflater::new(level).unwrap();
                for p in data.chunks(piece) {
                    d.write(p);
                }
                d.finish();
                assert_eq!(inflate(d.output()), data, "{level:?} piece {piece}");
            }
        }
    }

    /// The input bytes each block of a deflate stream codes, walked with
    /// a decoder of the format written here from RFC 1951 (bit by bit,
    /// slow): a check of block boundaries, which inflating cannot see.
    fn block_lengths(stream: &[u8]) -> Vec<usize> {
        use super::tables::*;
        struct Bits<'a>(&'a [u8], usize);
        impl Bits<'_> {
            fn get(&mut self, n: usize) -> usize {
                (0..n).fold(0, |v, k| {
                    let bit = (self.0[(self.1) / 8] >> (self.1 % 8)) & 1;
                    self.1 += 1;
                    v | (bit as usize) << k
                })
            }
            /// One symbol of the canonical code with these lengths.
            fn symbol(&mut self, lens: &[u8]) -> usize {
                let (mut code, mut first) = (0, 0);
                for len in 1..=15 {
                    code |= self.get(1);
                    let count = lens.iter().filter(|&&l| l as usize == len).count();
                    if code < first + count {
                        return (0..lens.len())
                            .filter(|&s| lens[s] as usize == len)
                            .nth(code - first)
                            .unwrap();
                    }
                    first = (first + count) << 1;
                    code <<= 1;
                }
                panic!("no symbol");
            }
        }
        let mut b = Bits(stream, 0);
        let mut blocks = Vec::new();
        loop {
            let last = b.get(1) == 1;
            let kind = b.get(2);
            let mut len = 0;
            if kind == 0 {
                b.1 = b.1.div_ceil(8) * 8;
                len = b.get(16);
                b.get(16);
                b.1 += 8 * len;
            } else {
                let (lit, dist) = if kind == 1 {
                    (FIXED_LITLEN_LENGTHS.to_vec(), FIXED_DIST_LENGTHS.to_vec())
                } else {
                    let (hlit, hdist, hclen) = (b.get(5) + 257, b.get(5) + 1, b.get(4) + 4);
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &i in &ORDER[..hclen] {
                        cl[i] = b.get(3) as u8;
                    }
                    let mut lens: Vec<u8> = Vec::new();
                    while lens.len() < hlit + hdist {
                        match b.symbol(&cl) {
                            s @ 0..=15 => lens.push(s as u8),
                            16 => {
                                let l = *lens.last().unwrap();
                                let n = 3 + b.get(2);
                                lens.extend(core::iter::repeat_n(l, n));
                            }
                            17 => {
                                let n = 3 + b.get(3);
                                lens.extend(core::iter::repeat_n(0, n));
                            }
                            _ => {
                                let n = 11 + b.get(7);
                                lens.extend(core::iter::repeat_n(0, n));
                            }
                        }
                    }
                    (lens[..hlit].to_vec(), lens[hlit..].to_vec())
                };
                loop {
                    let sym = b.symbol(&lit);
                    if sym < 256 {
                        len += 1;
                    } else if sym == 256 {
                        break;
                    } else {
                        let c = sym - 257;
                        len += LEN_BASE[c] as usize + b.get(LEN_EXTRA[c] as usize);
                        let d = b.symbol(&dist);
                        b.get(DIST_EXTRA[d] as usize);
                    }
                }
            }
            blocks.push(len);
            if last {
                return blocks;
            }
        }
    }

    #[test]
    fn the_block_walker_counts_what_was_written() {
        // Flushes end blocks where the caller says; the walker agrees with
        // the inflated length.
        let text = &samples()[6];
        for &level in Compression::ALL {
            let mut d = Deflater::new(level).unwrap();
            d.write(&text[..70_000]);
            d.sync_flush();
            d.write(&text[70_000..100_000]);
            d.finish();
            let lens = block_lengths(d.output());
            assert_eq!(lens.iter().sum::<usize>(), 100_000, "{level:?}");
            assert!(lens.contains(&0), "{level:?}: the sync flush's empty block");
            let before: usize = lens[..lens.iter().position(|&l| l == 0).unwrap()]
                .iter()
                .sum();
            assert_eq!(before, 70_000, "{level:?}: {lens:?}");
        }
    }

    /// Rows as the gradient filters them: mostly zeros (Up of a repeated
    /// row), now and then a row of small steps, each behind its filter
    /// byte. Deflate codes them in long matches of a few bits each, so a
    /// block header costs about as much as the tokens of a window.
    fn flat_rows(n: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for row in 0..n {
            data.push(2);
            for x in 0..3000 {
                data.push(if row % 16 == 0 && x % 3 == 1 { 1 } else { 0 });
            }
        }
        data
    }

    #[test]
    fn blocks_of_steady_input_go_on_past_slides() {
        // 6 MB: 30 slides of the window. Matching levels used to end a
        // block at every slide (one every 192 KiB); now a block goes on
        // while one block costs less than two, until its token buffer is
        // full.
        let data = flat_rows(2000);
        for level in [Compression::Default, Compression::Best] {
            let out = deflate(&data, level);
            assert_eq!(inflate(&out), data);
            let lens = block_lengths(&out);
            assert_eq!(lens.iter().sum::<usize>(), data.len());
            assert!(
                lens.len() <= 3,
                "{level:?}: {} blocks of {lens:?}",
                lens.len()
            );
        }
    }

    #[test]
    fn blocks_of_steady_input_go_on_past_their_token_buffer() {
        // 6 MB in about 23 Ki tokens, in buffers of 1 Ki tokens: each full
        // buffer used to end a block; now the next goes on in it under
        // its codes.
        let data = flat_rows(2000);
        let sizes = Sizes {
            tokens: 1024,
            ..Sizes::FULL
        };
        for level in [Compression::Default, Compression::Best] {
            let mut d = Deflater::sized(level, None, &sizes).unwrap();
            for p in data.chunks(70_000) {
                d.write(p);
            }
            d.finish();
            let out = core::mem::take(d.output());
            assert_eq!(inflate(&out), data);
            let lens = block_lengths(&out);
            assert_eq!(lens.iter().sum::<usize>(), data.len());
            let blocks = lens.iter().filter(|&&l| l > 0).count();
            assert!(blocks <= 3, "{level:?}: {blocks} blocks of {lens:?}");
        }
    }

    #[cfg(feature = "std")]
    #[test]
    fn joined_blocks_go_on_past_the_joiners_buffer() {
        // Six segments of 20,000 tokens each (runs of zeros, a one now and
        // then): three fill the joiner's block, and the next three go on
        // in it.
        let mut joiner = Joiner::new().unwrap();
        let mut expect = Vec::new();
        for _ in 0..6 {
            let mut t = Tokens::new(20_000).unwrap();
            for k in 0..20_000 {
                if k % 100 == 0 {
                    t.literal(1);
                    expect.push(1);
                } else {
                    if expect.is_empty() {
                        t.literal(0);
                        expect.push(0);
                        continue;
                    }
                    t.matched(258, 1);
                    let b = expect[expect.len() - 1];
                    expect.extend(core::iter::repeat_n(b, 258));
                }
            }
            joiner.add_tokens(&t);
        }
        joiner.finish();
        let out = core::mem::take(joiner.output());
        assert_eq!(inflate(&out), expect);
        let lens = block_lengths(&out);
        let blocks = lens.iter().filter(|&&l| l > 0).count();
        assert_eq!(blocks, 1, "{lens:?}");
    }

    #[test]
    fn blocks_still_end_where_the_input_changes() {
        // Steady input, then text, then steady input again: the blocks
        // going on past slides stop where the statistics change rather
        // than mixing them.
        let mut data = flat_rows(400);
        let split = data.len();
        data.extend_from_slice(&samples()[6][..400_000]);
        let back = data.len();
        data.extend(flat_rows(400));
        for level in [Compression::Default, Compression::Best] {
            let out = deflate(&data, level);
            assert_eq!(inflate(&out), data);
            let lens = block_lengths(&out);
            let ends: Vec<usize> = lens
                .iter()
                .scan(0, |at, l| {
                    *at += l;
                    Some(*at)
                })
                .collect();
            // A block ends within a window of each change.
            for change in [split, back] {
                assert!(
                    ends.iter().any(|&e| e.abs_diff(change) <= 1 << 18),
                    "{level:?}: no block ends near {change}: {ends:?}"
                );
            }
        }
    }

    /// Compresses `data` in segments of `seg` bytes as the parallel writer
    /// does, ended by [`Deflater::end_segment`] and joined by a
    /// [`Joiner`]; also returns how many segments came back as tokens and
    /// as bytes.
    #[cfg(feature = "std")]
    fn joined(data: &[u8], level: Compression, seg: usize) -> (Vec<u8>, usize, usize) {
        let mut d = Deflater::new(level).unwrap();
        let mut joiner = Joiner::new().unwrap();
        let (mut out, mut as_tokens, mut as_bytes) = (Vec::new(), 0, 0);
        let n = data.len().div_ceil(seg).max(1);
        for i in 0..n {
            let (start, end) = (i * seg, ((i + 1) * seg).min(data.len()));
            let last = i + 1 == n;
            d.reset();
            d.set_dictionary(&data[start.saturating_sub(32 * 1024)..start]);
            for p in data[start..end].chunks(70_000) {
                d.write(p);
            }
            match d.end_segment(last, false).unwrap() {
                Some(tokens) => {
                    assert!(d.output().is_empty(), "tokens and bytes");
                    as_tokens += 1;
                    joiner.add_tokens(&tokens);
                    if last {
                        joiner.finish();
                    }
                }
                None => {
                    as_bytes += 1;
                    joiner.before_bytes();
                }
            }
            out.append(joiner.output());
            out.append(d.output());
        }
        (out, as_tokens, as_bytes)
    }

    /// A segment after a dictionary weighs its first 16 KiB of input (or
    /// 4 Ki tokens): on runs among noise, where run-length coding does no
    /// worse than matching, it leaves matching there, where a compressor
    /// without a dictionary is still filling its first block of tokens;
    /// on noise alone, after 4 Ki tokens. The stream decodes.
    #[test]
    fn segments_weigh_their_first_input_early() {
        let noise = xorshift(1 << 20, 3);
        let data = runs_among_noise(&noise, 2000);
        let dict = 32 * 1024;
        let mut d = Deflater::new(Compression::Default).unwrap();
        d.set_dictionary(&data[..dict]);
        d.write(&data[dict..dict + 40 * 1024]);
        assert!(plain(&d), "still matching after 40 KiB");
        let mut fresh = Deflater::new(Compression::Default).unwrap();
        fresh.write(&data[..40 * 1024]);
        assert!(!plain(&fresh), "a fresh compressor weighed early");
        // Noise: a token a byte, weighed after 4 Ki of them.
        for dictionary in [true, false] {
            let mut d = Deflater::new(Compression::Default).unwrap();
            if dictionary {
                d.set_dictionary(&noise[..dict]);
            }
            d.write(&noise[dict..dict + 8 * 1024]);
            assert_eq!(
                plain(&d),
                dictionary,
                "noise after a dictionary: {dictionary}"
            );
        }
        d.write(&data[dict + 40 * 1024..]);
        d.finish();
        assert_decodes_after_dictionary(&data, dict, d.output());
    }

    #[test]
    fn segments_weigh_again_early_where_matching_resumes() {
        // Runs and noise, where matching does not pay: after the trial, two
        // run-length segments, then matching again, weighed after 16 KiB
        // too (before, after a whole block of 16 Ki tokens: still matching
        // 40 KiB in).
        let noise = xorshift(1 << 20, 3);
        let data = runs_among_noise(&noise, 4000);
        let (dict, segment) = (32 * 1024, lazy::SEGMENT);
        let mut d = Deflater::new(Compression::Default).unwrap();
        d.set_dictionary(&data[..dict]);
        let resumed = dict + 16 * 1024 + 2 * segment;
        d.write(&data[dict..resumed + 8 * 1024]);
        assert!(!plain(&d), "matching resumed");
        d.write(&data[resumed + 8 * 1024..resumed + 40 * 1024]);
        assert!(plain(&d), "still matching 40 KiB after it resumed");
        d.write(&data[resumed + 40 * 1024..]);
        d.finish();
        assert_decodes_after_dictionary(&data, dict, d.output());
    }

    /// `pieces` runs of 200 zeros, each followed by the next 24 bytes of
    /// `noise`: matching does not pay on it.
    fn runs_among_noise(noise: &[u8], pieces: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for bits in noise.chunks(24).take(pieces) {
            data.extend_from_slice(&[0; 200]);
            data.extend_from_slice(bits);
        }
        data
    }

    /// Whether the compressor is run-length coding, or has decided to.
    fn plain(d: &Deflater) -> bool {
        match &d.engine {
            Engine::Lz(m) => m.lazy.is_plain(),
            _ => false,
        }
    }

    /// `out`, compressed after the first `dict` bytes of `data` as its
    /// dictionary, decodes to the rest, the dictionary given to the
    /// decoder as a stored block before it.
    fn assert_decodes_after_dictionary(data: &[u8], dict: usize, out: &[u8]) {
        let len = (dict as u16).to_le_bytes();
        let mut stream = vec![0, len[0], len[1], !len[0], !len[1]];
        stream.extend_from_slice(&data[..dict]);
        stream.extend_from_slice(out);
        let back = miniz_oxide::inflate::decompress_to_vec(&stream);
        assert!(back.is_ok_and(|b| b == data));
    }

    #[cfg(feature = "std")]
    #[test]
    fn joined_segments_make_one_stream() {
        // Flat rows, text, noise and flat rows again: segments of both
        // kinds, in every order, the last of either kind.
        let mut mixed = flat_rows(300);
        mixed.extend_from_slice(&samples()[6][..300_000]);
        mixed.extend(xorshift(300_000, 7));
        mixed.extend(flat_rows(200));
        let mut inputs = samples();
        inputs.push(flat_rows(700));
        inputs.push(mixed.clone());
        let (mut tokens, mut bytes) = (0, 0);
        for &level in Compression::ALL {
            for data in &inputs {
                for seg in [1000, 100_000, 300_000] {
                    if data.len() / seg > 100 {
                        continue;
                    }
                    let (out, t, b) = joined(data, level, seg);
                    assert_eq!(
                        inflate(&out),
                        *data,
                        "{level:?} len {} seg {seg}",
                        data.len()
                    );
                    let lens = block_lengths(&out);
                    assert_eq!(lens.iter().sum::<usize>(), data.len());
                    (tokens, bytes) = (tokens + t, bytes + b);
                }
            }
            // The segments of the mixed input, ending with its flat rows.
            let (_, t, b) = joined(&mixed, level, 100_000);
            if matches!(level, Compression::Default | Compression::Best) {
                assert!(t > 0 && b > 0, "{level:?}: {t} as tokens, {b} as bytes");
            } else {
                assert_eq!(
                    t, 0,
                    "{level:?}: only the matching levels leave blocks open"
                );
            }
        }
        assert!(
            tokens > 20 && bytes > 20,
            "{tokens} as tokens, {bytes} as bytes"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn joined_segments_share_blocks() {
        // 6 MB of flat rows in 512 KiB segments: joined, the segments share
        // blocks and come within 1 % of one stream's size; each segment
        // ended with a sync flush costs several times that.
        let data = flat_rows(2000);
        for level in [Compression::Default, Compression::Best] {
            let one = deflate(&data, level).len();
            let (out, t, _) = joined(&data, level, 512 * 1024);
            assert_eq!(inflate(&out), data);
            let blocks = block_lengths(&out).len();
            let segments = data.len().div_ceil(512 * 1024);
            assert_eq!(t, segments, "{level:?}: every segment as tokens");
            assert!(
                blocks < segments / 2,
                "{level:?}: {blocks} blocks for {segments} segments"
            );
            assert!(
                out.len() <= one + one / 100,
                "{level:?}: {} joined, {one} in one stream",
                out.len()
            );
            let flushed = segmented(&data, level, 512 * 1024, 70_000, true).len();
            assert!(
                flushed > out.len() + out.len() / 50,
                "{level:?}: {flushed} flushed, {} joined",
                out.len()
            );
        }
    }

    #[test]
    fn compressible_input_shrinks_more_at_higher_levels() {
        let text = &samples()[6];
        let sizes: Vec<usize> = Compression::ALL
            .iter()
            .map(|&l| deflate(text, l).len())
            .collect();
        // Fastest and Fast search no matches: only their Huffman codes
        // help on text (the two differ only in the default row filter).
        assert!(sizes[1] < text.len() * 3 / 4, "{sizes:?}");
        assert_eq!(sizes[1], sizes[2], "{sizes:?}");
        assert!(sizes[3] < text.len() / 5, "{sizes:?}");
        // On this synthetic text the matching levels land within a hair of
        // each other.
        assert!(sizes[4] <= sizes[3] + sizes[3] / 100, "{sizes:?}");
    }
}
