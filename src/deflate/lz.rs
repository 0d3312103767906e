//! The engine of the matching levels: input streams through the window of
//! a [`Matcher`], a parser ([`lazy`](super::lazy) or
//! [`optimal`](super::optimal)) turns it into tokens, and blocks of tokens
//! are written as Huffman blocks, or joined into a [`StoredRun`] where
//! storing is smaller.
//!
//! # Who owns what, and what holds at every hand-over
//!
//! Positions below `m.strstart` are coded or held back;
//! `m.strstart..m.strstart + m.lookahead` is input not yet parsed. Coded
//! input is covered by, in order: the stored run waiting to be written
//! (ending at `block_start`), then the tokens of the current block
//! (`block_start..block_end`). Every token starts at `block_end`, so each
//! input byte is coded exactly once (debug builds count them, and check
//! every match: length 3..=258, distance 1..=32768, inside the window, its
//! bytes really repeated).
//!
//! The lazy parser owns one pending position: while `match_available`,
//! the byte at `strstart - 1` is held back, and `match_length` /
//! `match_start` describe the match found there. Nobody else may move
//! `strstart` past it or read those fields. The hand-overs:
//!
//! - **Block flushes** (`flush_block`) come from the parsers (a full token
//!   buffer), from `slide` (a block about to slide out) and from `finish`.
//!   A flush only writes tokens and moves `block_start` to `block_end`; it
//!   never touches the parser's position. At the lazy level the weighing
//!   of a flushed block may decide that the next segments skip matching,
//!   but it only records that (`plain_due`).
//! - **Lazy -> run-length**: only the lazy loop acts on `plain_due`, at the
//!   top of an iteration, through `leave_lazy`, which gives the held-back
//!   byte to the run-length coder and resets the lazy state. The
//!   run-length segments start with no token pending and `block_start ==
//!   block_end == strstart` (asserted).
//! - **Run-length -> lazy**: after the last segment the history a match
//!   can reach is indexed into the hash chains; strings whose hashed
//!   bytes are not all at hand yet go in as soon as they are, before any
//!   position is parsed (`Lazy::left_out`), so that the chains do not
//!   depend on how the input came in pieces. The lazy state is already
//!   clean.
//! - **Stored runs** are joined across blocks and written before the next
//!   Huffman block or run-length segment, before the window slides past
//!   them, and at the end.
//! - **Slides** move everything down by a whole number of windows and keep
//!   32 KiB of history before `strstart`, so a pending match stays inside.
//! - **The optimal parser** codes whole chunks and holds nothing back
//!   between them; its blocks are flushed like the lazy parser's, without
//!   weighing.
//!
//! The parallel writer compresses the image in segments, each on a fresh
//! or reset engine, and joins their output; three more hand-overs serve it:
//!
//! - **Reset** (`reset`) puts every field back as `new` made it: window,
//!   hash heads and chains zeroed, no block, no stored run, a new lazy
//!   state and a new cost model. A segment's output then depends only on
//!   its dictionary and its input, never on what the engine compressed
//!   before (or on which thread it ran).
//! - **Dictionaries** (`set_dictionary`, only right after `new` or
//!   `reset`): up to 32 KiB of history go to the start of the window, and
//!   every string whose hashed bytes lie in it is indexed; parsing starts
//!   after it, with `block_start == block_end == strstart` at its end. It
//!   is neither received nor coded (the debug counts leave it out), so
//!   every input byte is still coded once; a match may reach into it,
//!   which is inside the window, but never before it, which is the
//!   window's start. The decoder has these bytes: they end the previous
//!   segment's output. At the lazy level, the first [`TRIAL`] bytes after
//!   it (or [`TRIAL_TOKENS`] tokens) are weighed as a block (`end_trial`),
//!   without ending the block where matching pays, and so are those after
//!   every run of run-length segments in the segment (`retrial`).
//! - **Flushes** (`flush`, under `Deflater::sync_flush`): like `finish`,
//!   every byte at hand is coded (no lookahead, nothing held back, every
//!   byte received coded) and the block written, but not as the last; the
//!   stored run is written too. Nothing is pending afterwards
//!   (`block_start == block_end == strstart`, the lazy state idle), and the
//!   caller's empty stored block ends the output on a byte boundary. More
//!   input could follow in the same stream; the parallel writer resets
//!   the engine for its next segment instead.

use super::AllocError;
use super::bits::BitWriter;
use super::block::{OpenBlock, Tokens, plan_block, split_bits, stored_bits, write_new, write_on};
use super::lazy::Lazy;
use super::matcher::Matcher;
use super::optimal::Optimal;
use super::stored::StoredRun;
use crate::level::MatchParams;

/// Input after a dictionary weighed early at the lazy level
/// ([`Lz::end_trial`]), or as many tokens if fewer: a compressor primed
/// with a dictionary starts a segment of the parallel writer, and without
/// the state the segments before it left, it would otherwise match a
/// whole block of tokens (sometimes most of the segment) before deciding
/// whether matching pays there. (32 KiB and no limit on tokens, against
/// this: the benchmark corpus with 2 threads 0.011 % larger, and
/// rgb16-weld-sparks, noise, which ends a block every 16 Ki tokens, as
/// slow as on one thread.)
///
/// Where matching resumes after run-length segments in such a segment, it
/// is weighed as early again: a whole block there (up to the next slide,
/// about 80 KiB of a 512 KiB segment) cost about as much as the rest of
/// the segment on images mostly coded by runs, and lost (the benchmark
/// corpus with 2 threads 0.035 % smaller). One thread keeps weighing whole
/// blocks: its runs of run-length segments grow to 1 MiB, and with trials
/// that short they grew through the text between two noisy parts of a
/// test input (`default_leaves_matching_where_it_does_not_pay`: 80 %
/// larger).
pub(super) const TRIAL: usize = 16 * 1024;
/// See [`TRIAL`]: a quarter of a block of tokens.
const TRIAL_TOKENS: usize = super::block::MAX_TOKENS / 4;

/// The state of a matching level; see the module docs.
pub(super) struct Lz {
    pub(super) p: MatchParams,
    pub(super) m: Matcher,
    /// Input covered by the tokens of the current block.
    pub(super) block_start: usize,
    pub(super) block_end: usize,
    pub(super) stored: StoredRun,
    pub(super) tokens: Tokens,
    /// Input per run-length segment of the lazy parser.
    pub(super) segment: usize,
    /// Under a memory limit, a block may outgrow the window (as in zlib):
    /// a slide does not flush it, and once its first bytes slid out
    /// (`lost` of them) it can no longer be stored. Without a limit every
    /// block stays in the window and can be. Under a limit, input best
    /// stored is also written at once rather than joined into a longer
    /// stored run, so that one call's output stays small.
    pub(super) long_blocks: bool,
    pub(super) lost: usize,
    /// Tokens the current block held at the last slide it went on past
    /// (0 if none; see [`Lz::goes_on`]).
    went_on: usize,
    /// Where the block being parsed ends at the latest to be weighed
    /// early, a trial (`usize::MAX`: no trial): the first block after a
    /// dictionary, and with `retrial` the first after every run of
    /// run-length segments.
    pub(super) trial_end: usize,
    /// The trial is the first after the dictionary (see
    /// [`Lazy::first_weighing`]).
    first_trial: bool,
    /// After a dictionary (a segment of the parallel writer): matching
    /// that resumes after run-length segments is weighed early too, as
    /// at the segment's start, rather than over a whole block.
    pub(super) retrial: bool,
    /// The block last written, left open for the next one's tokens to go
    /// on in it (see [`OpenBlock`]). Never while a stored run waits: the
    /// run follows a closed block.
    open: Option<OpenBlock>,
    /// The lazy parser's state (unused by the optimal parser).
    pub(super) lazy: Lazy,
    /// The optimal parser's buffers, at the level that uses it.
    pub(super) optimal: Option<alloc::boxed::Box<Optimal>>,
    /// Bytes of input received and bytes coded (by tokens, run-length
    /// segments or stored runs): equal at the end, checked in debug builds.
    #[cfg(debug_assertions)]
    fed: u64,
    #[cfg(debug_assertions)]
    pub(super) coded: u64,
}

impl Lz {
    pub(super) fn new(
        p: MatchParams,
        optimal: bool,
        sizes: &super::Sizes,
    ) -> Result<Self, AllocError> {
        let m = Matcher::new(p.hash4, sizes)?;
        // A segment fits in what a slide leaves free (see `Matcher::buffer`).
        debug_assert!(sizes.segment <= m.buffer - 2 * m.wsize);
        Ok(Lz {
            p,
            m,
            block_start: 0,
            block_end: 0,
            stored: StoredRun::default(),
            tokens: Tokens::new(sizes.tokens)?,
            segment: sizes.segment,
            long_blocks: sizes.long_blocks,
            lost: 0,
            went_on: 0,
            trial_end: usize::MAX,
            first_trial: false,
            retrial: false,
            open: None,
            lazy: Lazy::new(!optimal),
            optimal: if optimal {
                Some(alloc::boxed::Box::new(Optimal::new(sizes.chunk)?))
            } else {
                None
            },
            #[cfg(debug_assertions)]
            fed: 0,
            #[cfg(debug_assertions)]
            coded: 0,
        })
    }

    pub(super) fn write(&mut self, w: &mut BitWriter, mut data: &[u8]) {
        while !data.is_empty() {
            if self.m.end() == self.m.buffer {
                self.slide(w);
                continue;
            }
            let n = self.m.fill(data);
            #[cfg(debug_assertions)]
            {
                self.fed += n as u64;
            }
            data = &data[n..];
            self.compress(w, false);
        }
    }

    pub(super) fn finish(&mut self, w: &mut BitWriter) {
        self.compress(w, true);
        self.check_all_coded();
        self.flush_block(w, true);
    }

    /// Codes all input at hand and writes it out, the block not marked as
    /// the last (see the module docs).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn flush(&mut self, w: &mut BitWriter) {
        self.compress(w, true);
        self.check_all_coded();
        self.flush_block(w, false);
        self.close_block(w);
        self.end_stored_run(w, self.block_start);
        debug_assert!(self.lazy.is_idle() && self.tokens.is_empty() && self.stored.is_empty());
        debug_assert_eq!(
            (self.block_start, self.block_end),
            (self.m.strstart, self.m.strstart)
        );
    }

    /// Codes all input at hand, as a flush does, but writes nothing of the
    /// current block.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn code_all(&mut self, w: &mut BitWriter) {
        self.compress(w, true);
        self.check_all_coded();
    }

    /// After [`code_all`](Self::code_all): moves the current block's
    /// tokens out unwritten, if they are all the engine coded (no block
    /// written before them, no stored run waiting) and they compress too
    /// well to be stored (their input need not stay at hand). `None`, and
    /// nothing changed, otherwise.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn take_open_block(&mut self) -> Result<Option<Tokens>, AllocError> {
        if self.tokens.is_empty() || !self.stored.is_empty() || self.open.is_some() {
            return Ok(None);
        }
        let len = self.block_end - self.block_start + self.lost;
        if 8 * self.tokens.dynamic_bits() >= 7 * stored_bits(len) {
            return Ok(None);
        }
        let tokens = self.tokens.detach()?;
        self.block_start = self.block_end;
        self.lost = 0;
        self.went_on = 0;
        Ok(Some(tokens))
    }

    /// After a flush with `flush = true`: nothing left to parse or held
    /// back, and every byte received is coded.
    fn check_all_coded(&self) {
        debug_assert!(self.m.lookahead == 0 && !self.lazy.holds_a_byte());
        debug_assert_eq!(self.block_end, self.m.strstart, "input left uncoded");
        #[cfg(debug_assertions)]
        assert_eq!(self.fed, self.coded, "bytes received vs bytes coded");
    }

    /// Back to the state `new` made (see the module docs).
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn reset(&mut self) {
        self.m.reset();
        self.block_start = 0;
        self.block_end = 0;
        self.lost = 0;
        self.went_on = 0;
        self.trial_end = usize::MAX;
        self.first_trial = false;
        self.retrial = false;
        self.open = None;
        self.stored = StoredRun::default();
        self.tokens.clear();
        self.lazy = Lazy::new(self.lazy.weighs());
        if let Some(opt) = &mut self.optimal {
            opt.reset();
        }
        #[cfg(debug_assertions)]
        {
            self.fed = 0;
            self.coded = 0;
        }
    }

    /// Starts the stream after `dict` (its last window), which the
    /// decoder already has: matches may refer to it, and it is not coded.
    /// Only on an engine just made or reset.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn set_dictionary(&mut self, dict: &[u8]) {
        debug_assert!(self.m.end() == 0 && self.block_end == 0);
        debug_assert!(self.tokens.is_empty() && self.stored.is_empty());
        let dict = &dict[dict.len().saturating_sub(self.m.wsize)..];
        self.m.prime(dict);
        self.block_start = dict.len();
        self.block_end = dict.len();
        self.lazy.after_dictionary(dict.len());
        if self.lazy.weighs() && !dict.is_empty() {
            self.trial_end = dict.len() + TRIAL;
            self.first_trial = true;
            self.retrial = true;
        }
    }

    fn compress(&mut self, w: &mut BitWriter, flush: bool) {
        if self.optimal.is_some() {
            self.compress_optimal(w, flush)
        } else {
            self.compress_lazy(w, flush)
        }
    }

    /// Moves the window down by a whole number of windows, keeping at least
    /// one window of history before `strstart`. A block whose input would slide
    /// out is written first, so its stored form stays possible.
    fn slide(&mut self, w: &mut BitWriter) {
        probe!(Slide);
        let shift = (self.m.strstart - self.m.wsize) & !self.m.wmask;
        if self.block_start < shift && !self.long_blocks && !self.goes_on() {
            probe!(SlideFlush);
            self.flush_block(w, false);
            #[cfg(feature = "__internal")]
            {
                self.lazy.due_from_slide = self.lazy.plain_due > 0;
            }
        }
        debug_assert!(self.open.is_none() || self.stored.is_empty());
        self.stored
            .slide(w, &self.m.window, self.block_start, shift);
        self.lazy.slide(shift);
        self.m.slide(shift);
        if self.trial_end != usize::MAX {
            self.trial_end = self.trial_end.saturating_sub(shift);
        }
        if self.block_start < shift {
            // A long block: its first bytes leave the window.
            self.lost += shift - self.block_start;
            self.block_start = shift;
        }
        self.block_start -= shift;
        self.block_end -= shift;
    }

    /// Whether the current block goes on past a slide that takes its first
    /// bytes, rather than being written first. Where the statistics hold
    /// (as in runs of matches over a flat or repeating image, whose blocks
    /// of a window or two are mostly header), one block spanning many
    /// windows saves those headers. It goes on when it costs no more bits
    /// as one block than split in two (at the previous slide it went on
    /// past, or halfway), when it compresses well enough never to be
    /// stored (so its input need not stay at hand: it becomes a long
    /// block, ended by its token buffer), and at the lazy level when
    /// matching pays (the weighing of a flush now would keep matching).
    /// Otherwise it is written while it can still be stored.
    fn goes_on(&mut self) -> bool {
        let n = self.tokens.len();
        if n < 2 {
            return false;
        }
        let k = if self.went_on > 0 {
            self.went_on
        } else {
            n / 2
        };
        let split = split_bits(&self.tokens, k);
        let len = self.block_end - self.block_start + self.lost;
        let on = split.whole <= split.head + split.tail
            && 8 * split.whole < 7 * stored_bits(len)
            && !(self.lazy.weighs() && {
                // What a flush now would weigh (see `flush_block`).
                let end = self.block_end;
                let (bits, from) = if self.went_on > 0 && self.went_on < n {
                    (split.tail_in_whole, end - split.tail_len)
                } else {
                    (split.whole, self.block_start)
                };
                self.plain_pays(bits, from, end)
            });
        if on {
            probe!(SlideGoesOn);
            self.went_on = n;
        }
        on
    }

    /// Codes the current block: in the open block, where its tokens cost
    /// little more there than as a block of their own
    /// ([`OpenBlock::takes`]), or else as a new block, left open unless
    /// `last`. A block best stored is not written
    /// at once but joins the stored run.
    pub(super) fn flush_block(&mut self, w: &mut BitWriter, last: bool) {
        if self.tokens.is_empty() && !last {
            return;
        }
        let (start, end) = (self.block_start, self.block_end);
        let (len, lost) = (end - start + self.lost, core::mem::take(&mut self.lost));
        // A block that went on past slides is weighed on its tokens since
        // the last of them, as they cost in it.
        let n = self.tokens.len();
        let tail = (self.lazy.weighs() && !last && self.went_on > 0 && self.went_on < n)
            .then(|| split_bits(&self.tokens, self.went_on));
        let plan = if self.tokens.is_empty() && !self.stored.is_empty() {
            None // the end of the stream, right after stored input
        } else {
            plan_block(&mut self.tokens, len, lost == 0)
        };
        let new_bits = plan.as_ref().map_or(stored_bits(len), |p| p.bits);
        let goes_on = (self.open.as_ref())
            .and_then(|open| open.takes(&self.tokens, plan.as_ref(), len, last));
        if self.lazy.weighs() && !last {
            if self.first_trial {
                // The first block weighed after a dictionary.
                self.lazy.first_weighing();
            }
            let (bits, from) = if let Some(split) = tail {
                (split.tail_in_whole, end - split.tail_len)
            } else {
                let bits = goes_on.unwrap_or(new_bits);
                // A long block is weighed on the part still at hand.
                (bits * (end - start) as u64 / len.max(1) as u64, start)
            };
            self.weigh_block(bits, from, end);
        }
        match plan {
            _ if goes_on.is_some() => {
                probe!(BlockGoesOn);
                write_on(w, &mut self.open, &mut self.tokens, last);
            }
            Some(plan) => {
                self.close_block(w);
                self.end_stored_run(w, start);
                write_new(w, &mut self.open, &mut self.tokens, &plan, last);
            }
            None => {
                self.close_block(w);
                self.tokens.clear();
                self.stored.store(w, &self.m.window, start, end, last);
                if self.long_blocks {
                    self.end_stored_run(w, end);
                }
            }
        }
        self.block_start = end;
        self.went_on = 0;
        self.trial_end = usize::MAX;
        self.first_trial = false;
    }

    /// Weighs the tokens since the dictionary (or since matching resumed),
    /// [`TRIAL`] bytes of input or [`TRIAL_TOKENS`] tokens, as a block
    /// would be weighed (see [`weigh_block`](Self::weigh_block)):
    /// where run-length coding pays, the block is written (and, as the
    /// first block weighed after a dictionary, gives two run-length
    /// segments; see [`Lazy::first_weighing`]); where matching pays, the
    /// block goes on, and nothing changes.
    fn end_trial(&mut self, w: &mut BitWriter) {
        let bits = self.tokens.dynamic_bits();
        if self.plain_pays(bits, self.block_start, self.block_end) {
            self.flush_block(w, false);
        }
        self.trial_end = usize::MAX;
        self.first_trial = false;
    }

    /// A trial is under way and has reached its [`TRIAL`] bytes or
    /// [`TRIAL_TOKENS`] tokens.
    #[inline(always)]
    fn trial_due(&self) -> bool {
        self.trial_end != usize::MAX
            && (self.block_end >= self.trial_end || self.tokens.len() >= TRIAL_TOKENS)
    }

    /// Ends the open block, if any: something other than its tokens
    /// follows.
    pub(super) fn close_block(&mut self, w: &mut BitWriter) {
        if let Some(open) = self.open.take() {
            open.close(w);
        }
    }

    /// Writes the stored run waiting before `to`, if any: a Huffman block
    /// is about to follow it.
    pub(super) fn end_stored_run(&mut self, w: &mut BitWriter, to: usize) {
        if self.stored.end(w, &self.m.window, to) {
            probe!(StoredRun);
        }
    }

    /// Adds a literal token for the byte at `pos`.
    #[inline(always)]
    pub(super) fn literal(&mut self, w: &mut BitWriter, pos: usize) {
        // Tokens cover the input in order, each byte once.
        debug_assert_eq!(pos, self.block_end, "literal out of order");
        #[cfg(debug_assertions)]
        {
            self.coded += 1;
        }
        self.tokens.literal(self.m.window[pos]);
        self.block_end = pos + 1;
        if self.tokens.is_full() {
            probe!(FullBlock);
            self.flush_block(w, false);
        } else if self.trial_due() {
            self.end_trial(w);
        }
    }

    /// Adds a match token: the `len` bytes at `pos` repeat those `dist` back.
    #[inline(always)]
    pub(super) fn matched(&mut self, w: &mut BitWriter, pos: usize, len: usize, dist: usize) {
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
        } else if self.trial_due() {
            self.end_trial(w);
        }
    }

    /// What every match token must satisfy (debug builds): it starts where
    /// the tokens so far end, its length and distance are in deflate's
    /// ranges, it reaches neither before the window buffer nor past the
    /// input, and its bytes really repeat the ones `dist` back.
    #[cfg(debug_assertions)]
    fn check_match(&self, pos: usize, len: usize, dist: usize) {
        use super::tables::{MAX_MATCH, MIN_MATCH};
        assert_eq!(pos, self.block_end, "match out of order");
        assert!((MIN_MATCH..=MAX_MATCH).contains(&len), "match length {len}");
        assert!((1..=self.m.wsize).contains(&dist), "match distance {dist}");
        assert!(
            dist <= pos,
            "match distance {dist} before the window at {pos}"
        );
        assert!(pos + len <= self.m.end(), "match past the input");
        let win = &self.m.window;
        assert!(
            (0..len).all(|k| win[pos - dist + k] == win[pos + k]),
            "match of {len} at {pos} from {dist} back does not repeat its bytes"
        );
    }
}
