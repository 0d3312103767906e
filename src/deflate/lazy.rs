//! The lazy parser of [`Compression::Default`](crate::Compression::Default)
//! and its hand-over to run-length coding, as one state machine.
//!
//! Matching: each match is deferred by one position in case the next one
//! is longer (zlib's `deflate_slow`), so the parser holds back one byte
//! (`match_available`) and the match found there (`match_length`,
//! `match_start`).
//!
//! Run-length segments: each block the parser writes is weighed against
//! what the [`rle`] coder would make of the same bytes. Where matching did
//! not pay (as in many photographs), the next segments (of 128 KiB, less
//! under a memory limit)
//! skip match search and go to the run-length coder, 1, 2, 4, then up to
//! [`PLAIN_RUN`] segments in a row while matching keeps losing when tried.
//!
//! The states and their only transitions:
//!
//! ```text
//!            weigh_block (any flush) sets plain_due
//! Matching ───────────────────────────────────────────┐
//!    ▲       leave_lazy (top of the lazy loop only):  │
//!    │       held-back byte returned, state reset     ▼
//!    └──────────────────────────────────────────── Plain { plain_left }
//!       last segment: history re-indexed
//! ```
//!
//! See [`lz`](super::lz) for what holds at every hand-over.

use super::bits::BitWriter;
use super::lz::Lz;
use super::matcher::{MIN_LOOKAHEAD, Search};
use super::rle;
use super::tables::{MAX_MATCH, MIN_MATCH};

/// Input weighed at once without a memory limit: a run-length coded
/// segment is one block of [`rle::encode_block`]. Under a limit it is
/// smaller ([`Lz::segment`]).
#[cfg(test)]
pub(super) const SEGMENT: usize = rle::BLOCK;
/// Most segments run-length coded in a row before matching is tried again.
const PLAIN_RUN: u32 = 8;
/// A 3-byte match farther back than this costs more bits than three literals.
const TOO_FAR: usize = 4096;
/// Positions at the end of a long match that are still indexed.
const TAIL_INSERT: usize = 4;

/// The lazy parser's state; see the module docs.
pub(super) struct Lazy {
    match_length: usize,
    match_start: usize,
    prev_length: usize,
    prev_match: usize,
    match_available: bool,
    /// Blocks are weighed (the lazy level; off at the optimal level).
    weigh: bool,
    /// Segments still to be run-length coded before matching is tried
    /// again (0 while matching), and how many the last decision gave.
    plain_left: u32,
    plain_run: u32,
    /// Segments a block's weighing decided to run-length code, not yet
    /// handed over: only the lazy loop, which owns the position it holds
    /// back, moves them to `plain_left` (see [`Lz::leave_lazy`]).
    pub(super) plain_due: u32,
    /// Positions before this one are in the hash chains.
    indexed_to: usize,
    /// Where matching resumed with the strings from `.0` to `.1` (the
    /// resume point) left out of the chains, their hashed bytes not all
    /// at hand yet: they go in as soon as they are, before any position
    /// is parsed (see [`Lz::index_left_out`]).
    left_out: Option<(usize, usize)>,
    /// The pending `plain_due` came from a slide's flush (for the probes).
    #[cfg(feature = "__internal")]
    pub(super) due_from_slide: bool,
}

impl Lazy {
    pub(super) fn new(weigh: bool) -> Self {
        Lazy {
            match_length: MIN_MATCH - 1,
            match_start: 0,
            prev_length: MIN_MATCH - 1,
            prev_match: 0,
            match_available: false,
            weigh,
            plain_left: 0,
            plain_run: 0,
            plain_due: 0,
            indexed_to: 0,
            left_out: None,
            #[cfg(feature = "__internal")]
            due_from_slide: false,
        }
    }

    pub(super) fn weighs(&self) -> bool {
        self.weigh
    }

    /// Run-length segments are due or under way.
    #[cfg(test)]
    pub(super) fn is_plain(&self) -> bool {
        self.plain_left > 0 || self.plain_due > 0
    }

    pub(super) fn holds_a_byte(&self) -> bool {
        self.match_available
    }

    /// Nothing held back and no match pending: what a flush leaves.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn is_idle(&self) -> bool {
        !self.match_available && self.match_length < MIN_MATCH
    }

    /// A dictionary of `len` bytes starts the window, already indexed
    /// (see [`Lz::set_dictionary`]).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn after_dictionary(&mut self, len: usize) {
        debug_assert!(!self.match_available && self.plain_left == 0 && self.plain_due == 0);
        self.indexed_to = len;
    }

    /// The first block weighed after a dictionary (at the end of the
    /// trial, [`Lz::end_trial`], or a full block before it): where matching
    /// does not pay, it gives two run-length segments, as after two losses
    /// in a row. (Whether more losses led there is unknown: eight, as
    /// after four, made a segment of mixed content that started with noise
    /// 4 % larger; two make the benchmark corpus with threads 0.09 %
    /// smaller.)
    pub(super) fn first_weighing(&mut self) {
        self.plain_run = 1;
    }

    /// The window moves down by `shift`.
    pub(super) fn slide(&mut self, shift: usize) {
        // A pending match stays inside the window.
        debug_assert!(self.match_length < MIN_MATCH || self.match_start >= shift);
        self.indexed_to = self.indexed_to.saturating_sub(shift);
        if let Some((from, to)) = &mut self.left_out {
            (*from, *to) = (from.saturating_sub(shift), to.saturating_sub(shift));
        }
        self.match_start = self.match_start.saturating_sub(shift);
        self.prev_match = self.prev_match.saturating_sub(shift);
    }
}

impl Lz {
    /// Parses what input there is, switching between matching and
    /// run-length segments.
    pub(super) fn compress_lazy(&mut self, w: &mut BitWriter, flush: bool) {
        loop {
            let more = if self.lazy.plain_left > 0 {
                self.plain_segment(w, flush)
            } else {
                self.match_lazily(w, flush)
            };
            if !more {
                break;
            }
        }
    }

    /// Decides from one matched block (`bits` for `window[start..end]`)
    /// whether matching goes on. Run-length coding must do no worse, and
    /// the block must not be nearly free (under 0.1 bit per byte), where
    /// small differences say little about the input to come. Each time
    /// matching is tried again and does not pay, the run-length coder gets
    /// twice as many segments, up to [`PLAIN_RUN`].
    ///
    /// The decision only sets `plain_due`: a block is flushed from inside
    /// the lazy loop, from a slide and from `finish`, and only the lazy
    /// loop can hand its pending position over.
    pub(super) fn weigh_block(&mut self, bits: u64, start: usize, end: usize) {
        let pays = self.plain_pays(bits, start, end);
        let l = &mut self.lazy;
        if pays {
            l.plain_run = (l.plain_run * 2).clamp(1, PLAIN_RUN);
            l.plain_due = l.plain_run;
        } else {
            l.plain_run = 0;
        }
    }

    /// Whether run-length coding does no worse than the `bits` of matching
    /// for `window[start..end]`, unless that block is nearly free (under
    /// 0.1 bit per byte), where small differences say little about the
    /// input to come.
    pub(super) fn plain_pays(&self, bits: u64, start: usize, end: usize) -> bool {
        let nearly_free = bits * 10 < (end - start) as u64;
        !nearly_free && rle::estimate_bits(&self.m.window[start..end]) <= bits
    }

    /// Leaves matching for run-length coding: the position held back goes
    /// to the run-length coder instead, and the lazy state is reset so that
    /// nothing of it survives into the segments.
    fn leave_lazy(&mut self) {
        let l = &mut self.lazy;
        debug_assert!(l.plain_left == 0 && l.plain_due > 0);
        probe!(LeaveLazy);
        if l.match_available {
            probe!(LeaveLazyHeldByte);
        }
        #[cfg(feature = "__internal")]
        if core::mem::take(&mut l.due_from_slide) {
            probe!(LeaveLazyAfterSlide);
        }
        l.indexed_to = self.m.strstart;
        if l.match_available {
            self.m.strstart -= 1;
            self.m.lookahead += 1;
            l.match_available = false;
        }
        l.match_length = MIN_MATCH - 1;
        l.plain_left = core::mem::take(&mut l.plain_due);
        debug_assert_eq!(self.block_start, self.m.strstart);
        debug_assert_eq!(self.block_end, self.m.strstart);
    }

    /// Run-length codes one segment; `false` when the input at hand is too
    /// short for one (and more is to come) or has run out.
    fn plain_segment(&mut self, w: &mut BitWriter, flush: bool) -> bool {
        let n = self.segment.min(self.m.lookahead);
        if n == 0 || (n < self.segment && !flush) {
            return false;
        }
        let s = self.m.strstart;
        // The lazy parser handed over a clean state: nothing held back,
        // nothing pending before `s`.
        debug_assert!(!self.lazy.match_available && self.lazy.match_length < MIN_MATCH);
        debug_assert!(self.tokens.is_empty() && self.block_start == s && self.block_end == s);
        self.close_block(w);
        match rle::Plan::new(&self.m.window[s..s + n]) {
            Some(plan) => {
                self.end_stored_run(w, s);
                rle::write_block(w, None, None, &self.m.window[s..s + n], &plan, false);
            }
            None => {
                self.stored.store(w, &self.m.window, s, s + n, false);
                if self.long_blocks {
                    self.end_stored_run(w, s + n);
                }
            }
        }
        #[cfg(debug_assertions)]
        {
            self.coded += n as u64;
        }
        self.m.strstart += n;
        self.m.lookahead -= n;
        self.block_start = self.m.strstart;
        self.block_end = self.m.strstart;
        self.lazy.plain_left -= 1;
        if self.lazy.plain_left == 0 {
            probe!(ResumeLazy);
            // Matching resumes: the history it reaches goes into the chains,
            // but for the last strings not yet whole (a segment can end at
            // the end of the input at hand, even at the window's end): those
            // go in when more input comes, so that the chains do not
            // depend on how the input was cut into pieces.
            let s = self.m.strstart;
            if self.retrial {
                // After a dictionary, as at the segment's start.
                self.trial_end = s + super::lz::TRIAL;
            }
            let from = self.lazy.indexed_to.max(s.saturating_sub(self.m.max_dist));
            self.lazy.left_out = Some((from, s));
            self.index_left_out();
        }
        true
    }

    /// Indexes the strings left out where matching resumed whose hashed
    /// bytes are now all at hand. Only before any position after the
    /// resume point is parsed (at the end of the input, parsed with
    /// `flush`, the last few may never be whole: they are dropped).
    fn index_left_out(&mut self) {
        let Some((from, s)) = self.lazy.left_out else {
            return;
        };
        if self.m.strstart != s {
            self.lazy.left_out = None;
            return;
        }
        let to = s.min(self.m.whole_end());
        for pos in from..to {
            self.m.insert(pos);
        }
        self.lazy.left_out = (to < s).then_some((to.max(from), s));
    }

    /// Defers each match by one position in case the next one is longer.
    ///
    /// Returns `true` when it stopped to hand over to run-length segments,
    /// `false` when the input at hand ran out.
    fn match_lazily(&mut self, w: &mut BitWriter, flush: bool) -> bool {
        self.index_left_out();
        loop {
            if self.lazy.plain_due > 0 {
                self.leave_lazy();
                return true;
            }
            let lookahead = self.m.lookahead;
            if lookahead < MIN_LOOKAHEAD && (!flush || lookahead == 0) {
                break;
            }
            let s = self.m.strstart;
            let head = if lookahead >= MIN_MATCH {
                self.m.insert(s)
            } else {
                0
            };
            let l = &mut self.lazy;
            l.prev_length = l.match_length;
            l.prev_match = l.match_start;
            l.match_length = MIN_MATCH - 1;
            if head != 0 && l.prev_length < self.p.lazy && s - head <= self.m.max_dist {
                let (len, start) = self.longest_match(s, head, self.lazy.prev_length);
                let l = &mut self.lazy;
                if len > l.prev_length {
                    l.match_start = start;
                    l.match_length = len;
                    if len == MIN_MATCH && s - start > TOO_FAR {
                        l.match_length = MIN_MATCH - 1;
                    }
                }
            }
            let l = &self.lazy;
            if l.prev_length >= MIN_MATCH && l.match_length <= l.prev_length {
                // The match found at the previous position wins.
                let start = s - 1;
                let (len, dist) = (l.prev_length, start - l.prev_match);
                let max_insert = s + lookahead - MIN_MATCH;
                self.matched(w, start, len, dist);
                for pos in first_indexed(self.p.insert_all, s, len - 1)..start + len {
                    if pos <= max_insert {
                        self.m.insert(pos);
                    }
                }
                self.m.lookahead -= len - 1;
                self.m.strstart = start + len;
                self.lazy.match_available = false;
                self.lazy.match_length = MIN_MATCH - 1;
            } else {
                if l.match_available {
                    self.literal(w, s - 1);
                }
                self.lazy.match_available = true;
                self.m.strstart = s + 1;
                self.m.lookahead -= 1;
            }
        }
        if flush && self.lazy.match_available {
            self.literal(w, self.m.strstart - 1);
            self.lazy.match_available = false;
        }
        false
    }

    /// The longest match at `s` longer than `best`, from chain head `cur`:
    /// its length (or `best`) and start.
    #[inline(always)]
    fn longest_match(&self, s: usize, cur: usize, best: usize) -> (usize, usize) {
        let max_len = MAX_MATCH.min(self.m.lookahead);
        if best >= max_len {
            return (best, 0);
        }
        let p = &self.p;
        let search = Search {
            max_len,
            nice: p.nice.min(max_len),
            // Past a good match, a quarter of the chain.
            chain: if best >= p.good {
                p.max_chain >> 2
            } else {
                p.max_chain
            },
            stale: u32::MAX,
            shorten_at: usize::MAX,
            short_chain: 0,
        };
        self.m.longest(s, cur, best, search, |_, _| {})
    }
}

/// The first position to index inside a match of `len` bytes that starts
/// at `s - 1` and is indexed up to `s`: all of a match up to `insert_all`
/// long, only the last [`TAIL_INSERT`] of a longer one.
#[inline(always)]
fn first_indexed(insert_all: usize, s: usize, len: usize) -> usize {
    if len <= insert_all {
        s + 1
    } else {
        (s + len - TAIL_INSERT).max(s + 1)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::super::matcher::WINDOW_BUFFER;
    use super::super::tests::{inflate, samples, xorshift};
    use super::super::{Deflater, deflate};
    use super::*;
    use crate::level::{Compression, Engine};

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
        #[cfg(feature = "__internal")]
        let before = crate::deflate::probe::counts();
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
        // These inputs reach the hand-over this test is about.
        #[cfg(feature = "__internal")]
        {
            use crate::deflate::probe::{Path, counts};
            let after = counts()[Path::LeaveLazyAfterSlide as usize];
            assert!(after > before[Path::LeaveLazyAfterSlide as usize]);
        }
    }

    #[test]
    fn a_run_length_segment_ending_at_the_window_end_resumes_matching() {
        // The last segment of a run ends exactly at the end of the window
        // buffer: the positions indexed for matching to resume must stop
        // short of strings that run past the input (they read past the
        // buffer before).
        let Engine::Lazy(p) = Compression::Default.plan().engine else {
            unreachable!()
        };
        let mut lz = Lz::new(p, false, &crate::deflate::Sizes::FULL).unwrap();
        let mut w = BitWriter::default();
        let data = xorshift(WINDOW_BUFFER, 41);
        lz.m.window[..WINDOW_BUFFER].copy_from_slice(&data);
        let start = WINDOW_BUFFER - SEGMENT;
        (lz.m.strstart, lz.m.lookahead) = (start, SEGMENT);
        (lz.block_start, lz.block_end, lz.lazy.indexed_to) = (start, start, start);
        lz.lazy.plain_due = 1;
        lz.compress_lazy(&mut w, false);
        let (m, l) = (&lz.m, &lz.lazy);
        assert_eq!(
            (m.strstart, m.lookahead, l.plain_left),
            (WINDOW_BUFFER, 0, 0)
        );
    }
}
