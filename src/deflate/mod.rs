//! A streaming deflate compressor (RFC 1951) with bounded memory.
//!
//! Input arrives in pieces of any size through [`Deflater::write`]; output
//! accumulates in [`Deflater::output`], from which the caller takes it. All
//! state is allocated once, so memory does not depend on how much passes
//! through: the matching levels keep a window buffer of [`WINDOW_BUFFER`]
//! bytes, hash chains over the last 32 KiB and one block of tokens (about
//! 580 KiB), plus about 180 KiB of match and cost buffers at the best level;
//! the two fastest levels keep one block of input, the stored level one stored
//! block, or nothing when the total length is known in advance (as it is to
//! the PNG writer).
//!
//! - [`bits`]: the LSB-first bit writer;
//! - [`tables`]: the length/distance code tables of the format;
//! - [`huffman`]: length-limited Huffman code construction;
//! - [`block`]: the token buffer and block encoding (stored / fixed / dynamic);
//! - [`rle`]: the coder of the two fastest levels (per-block codes, zero runs);
//! - [`optimal`]: the near-optimal parser of the best level;
//! - this file: the engines, match finding (hash chains, lazy
//!   parsing), the lazy level's choice between matching and [`rle`] per
//!   segment, and the window that streams through.
//!
//! # Who owns what, and what holds at every hand-over
//!
//! The matching levels keep their input in `Matcher::window`. Positions
//! below `strstart` are coded or held back; `strstart..strstart + lookahead`
//! is input not yet parsed. Coded input is covered by, in order: the stored
//! run waiting to be written (`stored_from..block_start`), then the tokens
//! of the current block (`block_start..block_end`). Every token starts at
//! `block_end`, so each input byte is coded exactly once (debug builds
//! count them, and check every match: length 3..=258, distance 1..=32768,
//! inside the window, its bytes really repeated).
//!
//! The lazy parser owns one pending position: while `match_available`,
//! the byte at `strstart - 1` is held back, and `match_length` /
//! `match_start` describe the match found there. Nobody else may move
//! `strstart` past it or read those fields. The hand-overs:
//!
//! - **Block flushes** (`flush_block`) come from the lazy loop (a full
//!   token buffer), from `slide` (a block about to slide out) and from
//!   `finish`. A flush only writes tokens and moves `block_start` to
//!   `block_end`; it never touches the parser's position. The weighing of a
//!   flushed block may decide that the next segments skip matching, but it
//!   only records that (`plain_due`).
//! - **Lazy -> run-length**: only the lazy loop acts on `plain_due`, at the
//!   top of an iteration, through `leave_lazy`, which gives the held-back
//!   byte to the run-length coder and resets the lazy state. The
//!   run-length segments start with no token pending and `block_start ==
//!   block_end == strstart` (asserted).
//! - **Run-length -> lazy**: after the last segment the history a match
//!   can reach is indexed into the hash chains; the lazy state is already
//!   clean.
//! - **Stored runs** are joined across blocks and written before the next
//!   Huffman block or run-length segment, before the window slides past
//!   them, and at the end.
//! - **Slides** move everything down by a whole number of windows and keep
//!   32 KiB of history before `strstart`, so a pending match stays inside.
//! - **The optimal parser** codes whole chunks and holds nothing back
//!   between them; its blocks are flushed like the lazy parser's, without
//!   weighing.
//! - **The run-length and stored engines** code whole blocks of collected
//!   input and carry no position across blocks; `StoredExact` announces
//!   each block's length before its bytes and counts what is due.

mod bits;
mod block;
mod huffman;
mod optimal;
mod rle;
mod tables;

use alloc::collections::TryReserveError;
use alloc::vec::Vec;

use bits::BitWriter;
use block::{MAX_STORED, Tokens, plan_block, stored_bits, write_planned, write_stored};
use tables::{MAX_MATCH, MIN_MATCH};

/// How hard the encoder works to make the file small.
///
/// Every level writes the same standard zlib stream, and every level falls
/// back to stored blocks where compression would not pay, so incompressible
/// data never grows by more than a few bytes per 64 KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No compression: stored deflate blocks, the fastest way to a valid PNG.
    Stored,
    /// No match search: Huffman codes fitted to each block and runs of
    /// zeros, over rows filtered with Up by default (the pairing of the png
    /// crate's `Fastest`): the fastest way to a compressed file.
    Fastest,
    /// The coder of `Fastest` over rows filtered adaptively by default
    /// (the pairing of the png crate's `Fast`): smaller files, still no
    /// match search.
    Fast,
    /// Lazy matching on short hash chains of 4-byte strings, over rows
    /// filtered adaptively by default: the balance of size and speed. Each
    /// matched block is weighed against the coder of `Fast`; where matching
    /// did not pay (as in many photographs), the following 128 KiB segments
    /// skip it, up to eight in a row before matching is tried again.
    #[default]
    Default,
    /// Near-optimal parsing (every match at every position weighed by its
    /// cost in bits) over rows filtered for the least entropy by default:
    /// smallest output, slowest.
    Best,
}

impl Compression {
    /// Every level, from fastest to smallest output.
    pub const ALL: [Compression; 5] = [
        Compression::Stored,
        Compression::Fastest,
        Compression::Fast,
        Compression::Default,
        Compression::Best,
    ];

    /// The level's name as [`Compression::from_name`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Stored => "stored",
            Compression::Fastest => "fastest",
            Compression::Fast => "fast",
            Compression::Default => "default",
            Compression::Best => "best",
        }
    }

    /// Looks a level up by its name (`"stored"`, `"fastest"`, `"fast"`,
    /// `"default"`, `"best"`).
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The FLEVEL field of the zlib header (RFC 1950), a hint for recompressors.
    pub(crate) fn zlib_level(self) -> u8 {
        match self {
            Compression::Stored | Compression::Fastest => 0,
            Compression::Fast => 1,
            Compression::Default => 2,
            Compression::Best => 3,
        }
    }

    /// Match-finder settings; `None` for the levels that search no matches.
    fn params(self) -> Option<Params> {
        use Parse::*;
        let (max_chain, good, lazy, nice, parse, insert_all, hash4) = match self {
            Compression::Stored | Compression::Fastest | Compression::Fast => return None,
            Compression::Default => (16, 8, 16, 128, Lazy, INSERT_ALL, true),
            Compression::Best => (256, 32, 258, 258, Optimal, MAX_MATCH, false),
        };
        Some(Params {
            max_chain,
            good,
            lazy,
            nice,
            parse,
            hash4,
            insert_all,
        })
    }
}

/// Match-finder settings of one level (the knobs of zlib's configuration table).
#[derive(Clone, Copy, Debug)]
struct Params {
    /// Most hash-chain entries looked at per search.
    max_chain: u32,
    /// Above this previous match length, search only a quarter of the chain.
    good: usize,
    /// Lazy: do not look for a better match after one this long.
    lazy: usize,
    /// Stop searching as soon as a match this long is found.
    nice: usize,
    parse: Parse,
    /// Hash four bytes instead of three: chains then hold only candidates
    /// for matches of four or more, far fewer to check. On filtered image
    /// rows 3-byte matches rarely pay, and with short chains this gives
    /// smaller files as well as faster ones.
    hash4: bool,
    /// Every position inside a match up to this long is added to the hash
    /// chains; of a longer match only the last [`TAIL_INSERT`], which is
    /// enough for a run to find itself at distance 1 and saves hashing most
    /// of a long match (zlib's `max_insert_length`, refined).
    insert_all: usize,
}

/// Positions at the end of a long match that are still indexed.
const TAIL_INSERT: usize = 4;

impl Params {
    /// The first position to index inside a match of `len` bytes that
    /// starts at `s - 1` and is indexed up to `s`.
    #[inline(always)]
    fn first_indexed(&self, s: usize, len: usize) -> usize {
        if len <= self.insert_all {
            s + 1
        } else {
            (s + len - TAIL_INSERT).max(s + 1)
        }
    }
}

/// How a level turns matches into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parse {
    /// A match is deferred by one position in case the next is longer.
    Lazy,
    /// Chunks are parsed for the fewest bits ([`optimal`]).
    Optimal,
}

/// The rare paths that only large inputs reach, counted for the fuzz
/// harness (feature `__fuzz`) so that it can show they are exercised.
#[cfg(feature = "__fuzz")]
pub(crate) mod probe {
    use core::sync::atomic::{AtomicUsize, Ordering};

    /// The paths, in the order of [`NAMES`].
    #[derive(Clone, Copy)]
    pub(crate) enum Path {
        /// The window slid.
        Slide,
        /// A slide flushed the block about to slide out.
        SlideFlush,
        /// A block was flushed because its token buffer was full.
        FullBlock,
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
    pub(crate) const NAMES: [&str; 8] = [
        "slide",
        "slide_flush",
        "full_block",
        "leave_lazy",
        "leave_lazy_held_byte",
        "leave_lazy_after_slide",
        "resume_lazy",
        "stored_run",
    ];

    static COUNTS: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

    pub(crate) fn hit(p: Path) {
        COUNTS[p as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn counts() -> [usize; 8] {
        core::array::from_fn(|i| COUNTS[i].load(Ordering::Relaxed))
    }
}

/// Counts a rare path (see [`probe`]); nothing without the `__fuzz` feature.
macro_rules! probe {
    ($path:ident) => {
        #[cfg(feature = "__fuzz")]
        probe::hit(probe::Path::$path);
    };
}

/// Deflate's window: matches reach at most 32 KiB back.
const WSIZE: usize = 1 << 15;
const WMASK: usize = WSIZE - 1;
/// Bytes of input held at once. It is larger than the window so that a block's
/// input is still at hand when the block is written (for the stored fallback)
/// and so that the window slides rarely; it is a whole number of windows so
/// that sliding keeps `pos & WMASK` of every byte.
pub(crate) const WINDOW_BUFFER: usize = 8 * WSIZE;
/// A match search needs this much input ahead unless the input has ended.
const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;
/// Farthest match distance searched, as zlib: it keeps a margin so that a
/// match never reaches bytes about to slide out.
const MAX_DIST: usize = WSIZE - MIN_LOOKAHEAD;
/// A 3-byte match farther back than this costs more bits than three literals.
const TOO_FAR: usize = 4096;
const HASH_BITS: u32 = 15;
const HASH_SIZE: usize = 1 << HASH_BITS;
/// Longest match whose every position the default level indexes.
const INSERT_ALL: usize = 128;

/// Streaming deflate compressor; see the module docs.
pub(crate) struct Deflater {
    bits: BitWriter,
    engine: Engine,
    /// Input of the block being collected, for the engines that code whole
    /// blocks at once (stored, run-length).
    pending: Vec<u8>,
}

/// What turns input into deflate blocks, by level.
enum Engine {
    /// Stored blocks of up to [`MAX_STORED`] bytes.
    Stored,
    /// Stored blocks for input whose total length is known in advance: each
    /// block's header can then be written before its bytes, which go
    /// straight to the output with no block buffer in between.
    StoredExact {
        /// Input not yet covered by a block header.
        unannounced: u64,
        /// Bytes still due in the current block.
        block_left: usize,
        /// The total is zero: `finish` writes an empty final block.
        empty: bool,
    },
    /// Per-block Huffman codes and zero runs, no match search ([`rle`]),
    /// with its table of literal pairs and the buffer its symbols are
    /// written into.
    Rle(Option<rle::Pairs>, Vec<u8>),
    /// LZ77 matching with hash chains.
    Lz(alloc::boxed::Box<Matcher>),
}

impl Deflater {
    pub(crate) fn new(level: Compression) -> Result<Self, TryReserveError> {
        Self::sized(level, None)
    }

    /// A compressor for `total` bytes of input, when that is known: input
    /// too short to fill a block with literals gets no table of literal
    /// pairs.
    pub(crate) fn sized(level: Compression, total: Option<u64>) -> Result<Self, TryReserveError> {
        let mut pending = Vec::new();
        let pairs = total.is_none_or(|t| t >= rle::PAIRS_WORTH as u64);
        let engine = match level {
            Compression::Stored => Engine::Stored,
            Compression::Fastest | Compression::Fast => Engine::Rle(
                if pairs {
                    Some(rle::Pairs::new()?)
                } else {
                    None
                },
                Vec::new(),
            ),
            _ => Engine::Lz(alloc::boxed::Box::new(Matcher::new(
                level.params().expect("a matching level"),
            )?)),
        };
        match engine {
            Engine::Stored => pending.try_reserve_exact(MAX_STORED)?,
            Engine::Rle(..) => pending.try_reserve_exact(rle::BLOCK)?,
            Engine::Lz(_) | Engine::StoredExact { .. } => {}
        }
        Ok(Deflater {
            bits: BitWriter::default(),
            engine,
            pending,
        })
    }

    /// Compressed bytes produced so far and not yet taken by the caller.
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.bits.out
    }

    /// A stored-only compressor for exactly `total` bytes of input (the
    /// caller must write exactly that much before [`finish`](Self::finish)):
    /// like [`Compression::Stored`], with one copy of the input fewer.
    pub(crate) fn stored_exact(total: u64) -> Self {
        Deflater {
            bits: BitWriter::default(),
            engine: Engine::StoredExact {
                unannounced: total,
                block_left: 0,
                empty: total == 0,
            },
            pending: Vec::new(),
        }
    }

    /// About the most output one block adds at once, beyond the input it
    /// codes: what a caller that drains the output after each write should
    /// leave room for.
    pub(crate) fn burst(&self) -> usize {
        match self.engine {
            Engine::Stored => MAX_STORED + 16,
            // A few block headers among the input.
            Engine::StoredExact { .. } => 64,
            Engine::Rle(..) => rle::BLOCK + 32,
            // A run-length coded segment at the lazy level.
            Engine::Lz(ref m) if m.weigh => rle::BLOCK + 32,
            // Blocks of at most 16 Ki tokens, and stored runs written in
            // pieces of 65535 bytes.
            Engine::Lz(_) => 1 << 16,
        }
    }

    /// Compresses `data`, appending whatever output is complete.
    pub(crate) fn write(&mut self, mut data: &[u8]) {
        let block = match &mut self.engine {
            Engine::Lz(m) => return m.write(&mut self.bits, data),
            Engine::StoredExact {
                unannounced,
                block_left,
                ..
            } => return write_stored_exact(&mut self.bits, unannounced, block_left, data),
            Engine::Stored => MAX_STORED,
            Engine::Rle(..) => rle::BLOCK,
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
            Engine::Rle(pairs, scratch) => {
                rle::encode_block(&mut self.bits, pairs.as_mut(), scratch, &self.pending, last)
            }
            _ => write_stored(&mut self.bits, &self.pending, last),
        }
        self.pending.clear();
    }

    /// Ends the stream: compresses what is left and writes the final block,
    /// padded to a whole byte.
    pub(crate) fn finish(&mut self) {
        match &mut self.engine {
            Engine::Lz(m) => m.finish(&mut self.bits),
            Engine::StoredExact {
                unannounced,
                block_left,
                empty,
            } => {
                debug_assert!(*unannounced == 0 && *block_left == 0, "input short");
                if *empty {
                    // No input at all: the stream still needs a final block.
                    write_stored(&mut self.bits, &[], true);
                }
            }
            _ => self.write_pending(true),
        }
        self.bits.align();
    }
}

/// Writes `data` as stored blocks of a stream of known length: a block's
/// header (length, and whether it is the last) goes out when its first
/// byte arrives, then the bytes themselves. Input beyond the announced
/// total is a caller's error; it is dropped rather than written after the
/// final block.
fn write_stored_exact(
    w: &mut BitWriter,
    unannounced: &mut u64,
    block_left: &mut usize,
    mut data: &[u8],
) {
    while !data.is_empty() {
        if *block_left == 0 {
            if *unannounced == 0 {
                debug_assert!(false, "input beyond the announced length");
                return;
            }
            let len = (*unannounced).min(MAX_STORED as u64) as usize;
            *unannounced -= len as u64;
            w.put((*unannounced == 0) as u32, 3);
            w.align();
            w.out.extend_from_slice(&(len as u16).to_le_bytes());
            w.out.extend_from_slice(&(!(len as u16)).to_le_bytes());
            *block_left = len;
        }
        let n = (*block_left).min(data.len());
        w.out.extend_from_slice(&data[..n]);
        *block_left -= n;
        data = &data[n..];
    }
}

/// LZ77 state: the input window, hash chains and the block being built.
struct Matcher {
    p: Params,
    window: Vec<u8>,
    /// Most recent position of each hash (0 means none).
    head: Vec<u32>,
    /// Previous position with the same hash, indexed by `pos & WMASK`.
    prev: Vec<u32>,
    /// Next position to parse, and bytes of input from there on.
    strstart: usize,
    lookahead: usize,
    /// Input covered by the tokens of the current block.
    block_start: usize,
    block_end: usize,
    /// Start of input before `block_start` that earlier blocks chose to
    /// store but that is not written yet: consecutive stored blocks are
    /// joined into stored blocks of the full 65535 bytes, so incompressible
    /// data costs 5 bytes per 64 KiB, not 5 per block of tokens.
    stored_from: Option<usize>,
    tokens: Tokens,
    // Lazy-parsing state carried from one position to the next.
    match_length: usize,
    match_start: usize,
    prev_length: usize,
    prev_match: usize,
    match_available: bool,
    /// Buffers of the optimal parser, for the levels that use it.
    optimal: Option<optimal::Optimal>,
    /// The lazy level weighs each block it matched against the run-length
    /// coder ([`rle`]) on the same input: where matching did not pay, the
    /// next segments of [`SEGMENT`] bytes skip it. Off at the levels that
    /// always match.
    weigh: bool,
    /// Segments still to be run-length coded before matching is tried
    /// again (0 while matching), and how many the last decision gave.
    plain_left: u32,
    plain_run: u32,
    /// Segments a block's weighing decided to run-length code, not yet
    /// handed over: only the lazy parser, which owns the position it holds
    /// back, moves them to `plain_left` (see [`Matcher::leave_lazy`]).
    plain_due: u32,
    /// Positions before this one are in the hash chains.
    indexed_to: usize,
    /// Bytes of input received and bytes coded (by tokens, run-length
    /// segments or stored runs): equal at the end, checked in debug builds.
    #[cfg(debug_assertions)]
    fed: u64,
    #[cfg(debug_assertions)]
    coded: u64,
    /// The pending `plain_due` came from a slide's flush (for [`probe`]).
    #[cfg(feature = "__fuzz")]
    due_from_slide: bool,
}

/// Input weighed at once by the lazy level: a run-length coded segment is
/// one block of [`rle::encode_block`].
const SEGMENT: usize = rle::BLOCK;
/// Most segments run-length coded in a row before matching is tried again.
const PLAIN_RUN: u32 = 8;

fn zeroed<T: Clone + Default>(n: usize) -> Result<Vec<T>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    v.resize(n, T::default());
    Ok(v)
}

impl Matcher {
    fn new(p: Params) -> Result<Self, TryReserveError> {
        Ok(Matcher {
            p,
            window: zeroed(WINDOW_BUFFER + 1)?,
            head: zeroed(HASH_SIZE)?,
            prev: zeroed(WSIZE)?,
            strstart: 0,
            lookahead: 0,
            block_start: 0,
            block_end: 0,
            stored_from: None,
            tokens: Tokens::new()?,
            match_length: MIN_MATCH - 1,
            match_start: 0,
            prev_length: MIN_MATCH - 1,
            prev_match: 0,
            match_available: false,
            optimal: match p.parse {
                Parse::Optimal => Some(optimal::Optimal::new()?),
                _ => None,
            },
            weigh: p.parse == Parse::Lazy,
            plain_left: 0,
            plain_run: 0,
            plain_due: 0,
            indexed_to: 0,
            #[cfg(debug_assertions)]
            fed: 0,
            #[cfg(debug_assertions)]
            coded: 0,
            #[cfg(feature = "__fuzz")]
            due_from_slide: false,
        })
    }

    fn write(&mut self, w: &mut BitWriter, mut data: &[u8]) {
        while !data.is_empty() {
            let end = self.strstart + self.lookahead;
            if end == WINDOW_BUFFER {
                self.slide(w);
                continue;
            }
            let n = (WINDOW_BUFFER - end).min(data.len());
            self.window[end..end + n].copy_from_slice(&data[..n]);
            self.lookahead += n;
            #[cfg(debug_assertions)]
            {
                self.fed += n as u64;
            }
            data = &data[n..];
            self.compress(w, false);
        }
    }

    fn finish(&mut self, w: &mut BitWriter) {
        self.compress(w, true);
        debug_assert!(self.lookahead == 0 && !self.match_available);
        debug_assert_eq!(self.block_end, self.strstart, "input left uncoded");
        #[cfg(debug_assertions)]
        assert_eq!(self.fed, self.coded, "bytes received vs bytes coded");
        self.flush_block(w, true);
    }

    /// Moves the window down by a whole number of windows, keeping at least
    /// 32 KiB of history before `strstart`. A block whose input would slide
    /// out is written first, so its stored form stays possible.
    fn slide(&mut self, w: &mut BitWriter) {
        probe!(Slide);
        let shift = (self.strstart - WSIZE) & !WMASK;
        if self.block_start < shift {
            probe!(SlideFlush);
            self.flush_block(w, false);
            #[cfg(feature = "__fuzz")]
            {
                self.due_from_slide = self.plain_due > 0;
            }
        }
        if let Some(from) = self.stored_from.filter(|&from| from < shift) {
            write_stored(w, &self.window[from..self.block_start], false);
            self.stored_from = None;
        }
        // The lazy parser's pending match, if any, stays inside the window.
        debug_assert!(self.match_length < MIN_MATCH || self.match_start >= shift);
        debug_assert!(self.stored_from.is_none_or(|from| from >= shift));
        let end = self.strstart + self.lookahead;
        self.window.copy_within(shift..end, 0);
        self.strstart -= shift;
        self.block_start -= shift;
        self.block_end -= shift;
        self.stored_from = self.stored_from.map(|from| from - shift);
        self.indexed_to = self.indexed_to.saturating_sub(shift);
        self.match_start = self.match_start.saturating_sub(shift);
        self.prev_match = self.prev_match.saturating_sub(shift);
        // Positions before the new start become 0 ("none"). Positions stay
        // below 2^31, so the sign of the difference tells, and the clamp is
        // a shift and a mask that vectorise (SSE2 has no unsigned 32-bit
        // minimum; a chained iterator or `saturating_sub` ran 4 times slower).
        let shift = shift as i32;
        for table in [&mut self.head, &mut self.prev] {
            for h in table.iter_mut() {
                let v = *h as i32 - shift;
                *h = (v & !(v >> 31)) as u32;
            }
        }
    }

    /// Codes the current block. A block best stored is not written at once
    /// but joins a run of stored input, written in whole 65535-byte stored
    /// blocks as it grows, before the next Huffman block, before the window
    /// slides past it, and at the end.
    fn flush_block(&mut self, w: &mut BitWriter, last: bool) {
        if self.tokens.is_empty() && !last {
            return;
        }
        let (start, end) = (self.block_start, self.block_end);
        let plan = if self.tokens.is_empty() && self.stored_from.is_some() {
            None // the end of the stream, right after stored input
        } else {
            plan_block(&mut self.tokens, end - start)
        };
        if self.weigh && !last {
            let lz = plan.as_ref().map_or(stored_bits(end - start), |p| p.bits);
            self.weigh_block(lz, start, end);
        }
        match plan {
            Some(plan) => {
                self.end_stored_run(w, start);
                write_planned(w, &mut self.tokens, &plan, last);
            }
            None => {
                self.tokens.clear();
                self.store(w, start, end, last);
            }
        }
        self.block_start = end;
    }

    /// Writes the run of stored input waiting before `to`, if any: a
    /// Huffman block is about to follow it.
    fn end_stored_run(&mut self, w: &mut BitWriter, to: usize) {
        if let Some(from) = self.stored_from.take() {
            probe!(StoredRun);
            write_stored(w, &self.window[from..to], false);
        }
    }

    /// Adds `window[start..end]` to the run of stored input, writing the
    /// run's whole stored blocks (and all of it if `last`).
    fn store(&mut self, w: &mut BitWriter, start: usize, end: usize, last: bool) {
        let mut from = self.stored_from.take().unwrap_or(start);
        while end - from > MAX_STORED || (end - from == MAX_STORED && !last) {
            write_stored(w, &self.window[from..from + MAX_STORED], false);
            from += MAX_STORED;
        }
        if last {
            write_stored(w, &self.window[from..end], true);
        } else if from < end {
            self.stored_from = Some(from);
        }
    }

    #[inline(always)]
    fn hash(&self, pos: usize) -> usize {
        // One 4-byte load; the window has a byte of padding past its end,
        // so this is in bounds even for the last 3-byte string.
        let v = u32::from_le_bytes(self.window[pos..pos + 4].try_into().unwrap());
        let v = if self.p.hash4 { v } else { v & 0x00ff_ffff };
        (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
    }

    /// Adds `pos` to its hash chain and returns the previous chain head.
    #[inline(always)]
    fn insert(&mut self, pos: usize) -> usize {
        let h = self.hash(pos);
        let old = self.head[h];
        self.prev[pos & WMASK] = old;
        self.head[h] = pos as u32;
        old as usize
    }

    #[inline(always)]
    fn literal(&mut self, w: &mut BitWriter, pos: usize) {
        // Tokens cover the input in order, each byte once.
        debug_assert_eq!(pos, self.block_end, "literal out of order");
        #[cfg(debug_assertions)]
        {
            self.coded += 1;
        }
        self.tokens.literal(self.window[pos]);
        self.block_end = pos + 1;
        if self.tokens.is_full() {
            probe!(FullBlock);
            self.flush_block(w, false);
        }
    }

    #[inline(always)]
    fn matched(&mut self, w: &mut BitWriter, pos: usize, len: usize, dist: usize) {
        #[cfg(debug_assertions)]
        {
            self.check_match(pos, len, dist);
            self.coded += len as u64;
        }
        self.tokens.matched(len, dist);
        self.block_end = pos + len;
        if self.tokens.is_full() {
            probe!(FullBlock);
            self.flush_block(w, false);
        }
    }

    /// What every match token must satisfy (debug builds): it starts where
    /// the tokens so far end, its length and distance are in deflate's
    /// ranges, it reaches neither before the window buffer nor past the
    /// input, and its bytes really repeat the ones `dist` back.
    #[cfg(debug_assertions)]
    fn check_match(&self, pos: usize, len: usize, dist: usize) {
        assert_eq!(pos, self.block_end, "match out of order");
        assert!((MIN_MATCH..=MAX_MATCH).contains(&len), "match length {len}");
        assert!((1..=WSIZE).contains(&dist), "match distance {dist}");
        assert!(
            dist <= pos,
            "match distance {dist} before the window at {pos}"
        );
        assert!(
            pos + len <= self.strstart + self.lookahead,
            "match past the input"
        );
        let (from, to) = (pos - dist, pos);
        assert!(
            (0..len).all(|k| self.window[from + k] == self.window[to + k]),
            "match of {len} at {pos} from {dist} back does not repeat its bytes"
        );
    }

    fn compress(&mut self, w: &mut BitWriter, flush: bool) {
        match self.p.parse {
            Parse::Lazy => loop {
                let more = if self.plain_left > 0 {
                    self.plain_segment(w, flush)
                } else {
                    self.compress_lazy(w, flush)
                };
                if !more {
                    break;
                }
            },
            Parse::Optimal => self.compress_optimal(w, flush),
        }
    }

    /// Decides from one matched block (`lz` bits for `window[start..end]`)
    /// whether matching goes on. Run-length coding must do no worse, and
    /// the block must not be nearly free (under 0.1 bit per byte), where
    /// small differences say little about the input to come. Each time
    /// matching is tried again and does not pay, the run-length coder gets
    /// twice as many segments, up to [`PLAIN_RUN`].
    ///
    /// The decision only sets `plain_due`: a block is flushed from inside
    /// the lazy loop, from [`slide`](Self::slide) and from `finish`, and
    /// only the lazy loop can hand its pending position over.
    fn weigh_block(&mut self, lz: u64, start: usize, end: usize) {
        let nearly_free = lz * 10 < (end - start) as u64;
        if !nearly_free && rle::estimate_bits(&self.window[start..end]) <= lz {
            self.plain_run = (self.plain_run * 2).clamp(1, PLAIN_RUN);
            self.plain_due = self.plain_run;
        } else {
            self.plain_run = 0;
        }
    }

    /// Leaves the lazy parse for run-length coding: the position it holds
    /// back goes to the run-length coder instead, and the lazy state is
    /// reset so that nothing of it survives into the segments.
    fn leave_lazy(&mut self) {
        debug_assert!(self.plain_left == 0 && self.plain_due > 0);
        probe!(LeaveLazy);
        if self.match_available {
            probe!(LeaveLazyHeldByte);
        }
        #[cfg(feature = "__fuzz")]
        if core::mem::take(&mut self.due_from_slide) {
            probe!(LeaveLazyAfterSlide);
        }
        self.indexed_to = self.strstart;
        if self.match_available {
            self.strstart -= 1;
            self.lookahead += 1;
            self.match_available = false;
        }
        self.match_length = MIN_MATCH - 1;
        self.plain_left = core::mem::take(&mut self.plain_due);
        debug_assert_eq!(self.block_start, self.strstart);
        debug_assert_eq!(self.block_end, self.strstart);
    }

    /// Run-length codes one segment; `false` when the input at hand is too
    /// short for one (and more is to come) or has run out.
    fn plain_segment(&mut self, w: &mut BitWriter, flush: bool) -> bool {
        let n = SEGMENT.min(self.lookahead);
        if n == 0 || (n < SEGMENT && !flush) {
            return false;
        }
        let s = self.strstart;
        // The lazy parser handed over a clean state: nothing held back,
        // nothing pending before `s`.
        debug_assert!(!self.match_available && self.match_length < MIN_MATCH);
        debug_assert!(self.tokens.is_empty() && self.block_start == s && self.block_end == s);
        match rle::Plan::new(&self.window[s..s + n]) {
            Some(plan) => {
                self.end_stored_run(w, s);
                rle::write_block(w, None, None, &self.window[s..s + n], &plan, false);
            }
            None => self.store(w, s, s + n, false),
        }
        #[cfg(debug_assertions)]
        {
            self.coded += n as u64;
        }
        self.strstart += n;
        self.lookahead -= n;
        self.block_start = self.strstart;
        self.block_end = self.strstart;
        self.plain_left -= 1;
        if self.plain_left == 0 {
            probe!(ResumeLazy);
            // Matching resumes: the history it reaches goes into the chains,
            // but for the last strings not yet whole (a segment can end at
            // the end of the input at hand, even at the window's end).
            let whole = (self.strstart + self.lookahead + 1).saturating_sub(MIN_MATCH);
            let from = self.indexed_to.max(self.strstart.saturating_sub(MAX_DIST));
            for pos in from..self.strstart.min(whole) {
                self.insert(pos);
            }
        }
        true
    }

    /// Defers each match by one position in case the next one is longer
    /// (zlib's `deflate_slow`).
    ///
    /// Returns `true` when it stopped at the end of a segment, `false` when
    /// the input at hand ran out.
    fn compress_lazy(&mut self, w: &mut BitWriter, flush: bool) -> bool {
        loop {
            if self.plain_due > 0 {
                self.leave_lazy();
                return true;
            }
            if self.lookahead < MIN_LOOKAHEAD && (!flush || self.lookahead == 0) {
                break;
            }
            let s = self.strstart;
            let head = if self.lookahead >= MIN_MATCH {
                self.insert(s)
            } else {
                0
            };
            self.prev_length = self.match_length;
            self.prev_match = self.match_start;
            self.match_length = MIN_MATCH - 1;
            if head != 0 && self.prev_length < self.p.lazy && s - head <= MAX_DIST {
                let len = self.longest_match(head, self.prev_length);
                if len > self.prev_length {
                    self.match_length = len;
                    if len == MIN_MATCH && s - self.match_start > TOO_FAR {
                        self.match_length = MIN_MATCH - 1;
                    }
                }
            }
            if self.prev_length >= MIN_MATCH && self.match_length <= self.prev_length {
                // The match found at the previous position wins.
                let start = s - 1;
                let len = self.prev_length;
                let max_insert = s + self.lookahead - MIN_MATCH;
                self.matched(w, start, len, start - self.prev_match);
                for pos in self.p.first_indexed(s, len - 1)..start + len {
                    if pos <= max_insert {
                        self.insert(pos);
                    }
                }
                self.lookahead -= len - 1;
                self.strstart = start + len;
                self.match_available = false;
                self.match_length = MIN_MATCH - 1;
            } else {
                if self.match_available {
                    self.literal(w, s - 1);
                }
                self.match_available = true;
                self.strstart = s + 1;
                self.lookahead -= 1;
            }
        }
        if flush && self.match_available {
            self.literal(w, self.strstart - 1);
            self.match_available = false;
        }
        false
    }

    /// Follows the hash chain from `cur` for a match longer than `best`
    /// at `strstart`; returns its length (or `best`) and sets `match_start`.
    fn longest_match(&mut self, mut cur: usize, mut best: usize) -> usize {
        let s = self.strstart;
        let max_len = MAX_MATCH.min(self.lookahead);
        if best >= max_len {
            return best;
        }
        let nice = self.p.nice.min(max_len);
        let mut chain = if best >= self.p.good {
            self.p.max_chain >> 2
        } else {
            self.p.max_chain
        };
        let limit = s.saturating_sub(MAX_DIST);
        let win = &self.window[..s + max_len];
        loop {
            if win[cur + best] == win[s + best] && win[cur] == win[s] {
                let len = match_len(win, cur, s, max_len);
                if len > best {
                    self.match_start = cur;
                    best = len;
                    if len >= nice {
                        break;
                    }
                }
            }
            cur = self.prev[cur & WMASK] as usize;
            chain -= 1;
            if cur <= limit || chain == 0 {
                break;
            }
        }
        best
    }
}

/// Length of the common prefix of `w[a..]` and `w[b..]`, at most `max`
/// (`a < b`, `b + max <= w.len()`), compared eight bytes at a time.
#[inline(always)]
fn match_len(w: &[u8], a: usize, b: usize, max: usize) -> usize {
    // Two slices checked once, so the loop runs without bounds checks.
    let (x, y) = (&w[a..a + max], &w[b..b + max]);
    let mut n = 0;
    for (p, q) in x.chunks_exact(8).zip(y.chunks_exact(8)) {
        let p = u64::from_le_bytes(p.try_into().unwrap());
        let q = u64::from_le_bytes(q.try_into().unwrap());
        let diff = p ^ q;
        if diff != 0 {
            return n + (diff.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n + x[n..]
        .iter()
        .zip(&y[n..])
        .take_while(|(p, q)| p == q)
        .count()
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

    fn xorshift(n: usize, seed: u64) -> Vec<u8> {
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

    fn inflate(stream: &[u8]) -> Vec<u8> {
        miniz_oxide::inflate::decompress_to_vec(stream).expect("valid deflate stream")
    }

    fn samples() -> Vec<Vec<u8>> {
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
        for level in Compression::ALL {
            for data in samples() {
                let out = deflate(&data, level);
                assert_eq!(inflate(&out), data, "{level:?} len {}", data.len());
            }
        }
    }

    #[test]
    fn pieces_of_any_size_give_the_same_stream() {
        let data = &samples()[8];
        for level in Compression::ALL {
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
    fn stored_exact_matches_its_announced_length() {
        let data = xorshift(300_000, 17);
        for total in [0usize, 1, 65_534, 65_535, 65_536, 131_070, 300_000] {
            for piece in [1usize, 1000, 65_535, 70_000] {
                let mut d = Deflater::stored_exact(total as u64);
                for p in data[..total].chunks(piece) {
                    d.write(p);
                }
                d.finish();
                let out = core::mem::take(d.output());
                assert_eq!(inflate(&out), &data[..total], "total {total} piece {piece}");
                // 5 bytes per block, no empty final block.
                let blocks = total.div_ceil(MAX_STORED).max(1);
                assert_eq!(out.len(), total + 5 * blocks, "total {total}");
            }
        }
    }

    #[test]
    fn incompressible_input_barely_grows() {
        let data = xorshift(1 << 20, 9);
        for level in Compression::ALL {
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
        for level in Compression::ALL {
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

    #[test]
    fn default_leaves_matching_where_it_does_not_pay() {
        // Residual-like bytes, text, residual-like bytes again: the lazy
        // level should code the residuals about as the run-length coder
        // does (matching them costs bits) and match the text.
        let samples = samples();
        let (residuals, text) = (&samples[10], &samples[6]);
        let mut data = residuals.clone();
        data.extend_from_slice(text);
        data.extend_from_slice(&residuals[..300_000]);
        let default = deflate(&data, Compression::Default).len();
        let best_of_both = deflate(residuals, Compression::Fast).len()
            + deflate(text, Compression::Default).len()
            + deflate(&residuals[..300_000], Compression::Fast).len();
        // Matching all of it (what the level did before it weighed its
        // blocks) comes to 21 % over; switching costs a little.
        assert!(
            default <= best_of_both + best_of_both / 8,
            "{default} vs {best_of_both}"
        );
    }

    /// The filtered rows of the image that made the default level panic:
    /// bands of `band` rows that alternate between a repeated 4-row random
    /// pattern and a noisy ramp, `w` pixels of RGB, filtered adaptively as
    /// the writer does, each row behind its filter byte.
    fn banded_rows(w: usize, h: usize, band: usize) -> Vec<u8> {
        let mut x: u32 = 1;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        };
        let n = w * 3;
        let pattern: Vec<u8> = (0..n * 4).map(|_| rnd() as u8).collect();
        let (mut prev, mut row) = (vec![0u8; n], vec![0u8; n]);
        let mut out = Vec::with_capacity(h * (n + 1));
        let mut filtered = vec![0u8; n + 1];
        for y in 0..h {
            let repeated = (y / band) % 2 == 0;
            for (i, b) in row.iter_mut().enumerate() {
                *b = if repeated {
                    pattern[(y % 4) * n + i]
                } else {
                    ((i / 3) as u32 * 255 / w as u32 + (y / 3) as u32 + rnd() % 2) as u8
                };
            }
            crate::filter::apply_adaptive(&row, &prev, 3, &mut filtered, false);
            out.extend_from_slice(&filtered);
            core::mem::swap(&mut prev, &mut row);
        }
        out
    }

    #[test]
    fn a_switch_to_run_length_during_a_slide_keeps_the_pending_byte() {
        // A block flushed by the window slide decided to leave matching
        // while the lazy parser still held a position back: that byte was
        // skipped and a stale match start gave distances beyond the window.
        for (w, band) in [(1500, 64), (1000, 16), (2000, 100), (3000, 40)] {
            let data = banded_rows(w, 600, band);
            for piece in [w * 3 + 1, 4096, 1 << 20] {
                let mut d = Deflater::new(Compression::Default).unwrap();
                for p in data.chunks(piece) {
                    d.write(p);
                }
                d.finish();
                assert_eq!(
                    inflate(d.output()),
                    data,
                    "width {w} band {band} piece {piece}"
                );
            }
        }
    }

    #[test]
    fn a_run_length_segment_ending_at_the_window_end_resumes_matching() {
        // The last segment of a run ends exactly at the end of the window
        // buffer: the positions indexed for matching to resume must stop
        // short of strings that run past the input (they read past the
        // buffer before).
        let mut d = Deflater::new(Compression::Default).unwrap();
        let Engine::Lz(m) = &mut d.engine else {
            unreachable!()
        };
        let data = xorshift(WINDOW_BUFFER, 41);
        m.window[..WINDOW_BUFFER].copy_from_slice(&data);
        let start = WINDOW_BUFFER - SEGMENT;
        (m.strstart, m.lookahead) = (start, SEGMENT);
        (m.block_start, m.block_end, m.indexed_to) = (start, start, start);
        m.plain_due = 1;
        m.compress(&mut d.bits, false);
        assert_eq!(
            (m.strstart, m.lookahead, m.plain_left),
            (WINDOW_BUFFER, 0, 0)
        );
    }

    #[test]
    fn match_len_agrees_with_bytewise() {
        let mut w = xorshift(600, 4);
        w.copy_within(0..300, 300);
        w[300 + 77] ^= 1;
        for max in [0, 1, 7, 8, 9, 76, 77, 78, 258] {
            let naive = (0..max).take_while(|&i| w[i] == w[300 + i]).count();
            assert_eq!(match_len(&w, 0, 300, max), naive, "max {max}");
        }
    }
}
