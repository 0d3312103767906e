//! Near-optimal parsing for [`Compression::Best`](super::Compression::Best).
//!
//! Instead of deciding match by match, the input is parsed a chunk of
//! [`CHUNK`] positions at a time: every match the hash chains offer at every
//! position is collected (the longest per distance found, lengths strictly
//! increasing along the chain), then a backward dynamic programme picks the
//! sequence of literals and matches with the fewest bits under a cost model
//! of Huffman code lengths. The model comes from the statistics of what was
//! already encoded, refined by a second pass over the same chunk with the
//! statistics of the first pass (the idea of zopfli and libdeflate's
//! near-optimal parser, with fixed-size buffers).

use alloc::vec::Vec;

use super::bits::BitWriter;
use super::huffman::build_lengths;
use super::lz::Lz;
use super::matcher::{MIN_LOOKAHEAD, Search};
use super::tables::*;
use super::{AllocError, zeroed};

/// Positions parsed together without a memory limit. Larger chunks parse
/// slightly better; the match buffer grows with it.
pub(super) const CHUNK: usize = 4096;
/// Matches kept per position (the longest ones).
const MAX_PER_POS: usize = 8;
/// Matches at least this long are taken whole, and the positions they cover
/// are not searched (as libdeflate does), which keeps long runs fast.
const LONG: usize = 128;
/// A search gives up after this many candidates in a row that found
/// nothing longer: what has not improved for a while seldom will.
const STALE: u32 = 96;
/// Statistics older than this many symbols are halved, so the model follows
/// the data.
const MODEL_WINDOW: u32 = 1 << 16;

/// Buffers and cost model of the parser; all sized once.
pub(super) struct Optimal {
    /// Positions parsed together ([`CHUNK`] without a memory limit).
    chunk: usize,
    /// Matches of the chunk, `(len << 16) | dist`; position `i` owns
    /// `matches[first[i]..first[i + 1]]`.
    matches: Vec<u32>,
    first: Vec<u32>,
    /// Fewest bits from position `i` to the chunk's end, and the step taken
    /// (1 for a literal, `(len << 16) | dist` for a match).
    cost: Vec<u32>,
    step: Vec<u32>,
    lit_freq: [u32; LITLEN_SYMBOLS],
    dist_freq: [u32; DIST_SYMBOLS],
    lit_bits: [u32; LITLEN_SYMBOLS],
    dist_bits: [u32; DIST_SYMBOLS],
}

impl Optimal {
    /// Bytes [`new`](Self::new) allocates, with the parser's own box.
    pub(super) fn bytes(chunk: usize) -> usize {
        core::mem::size_of::<Optimal>()
            + 4 * (chunk * MAX_PER_POS + 3 * (chunk + 1) + MAX_MATCH + 1)
    }

    pub(super) fn new(chunk: usize) -> Result<Self, AllocError> {
        Ok(Optimal {
            chunk,
            matches: zeroed(chunk * MAX_PER_POS)?,
            first: zeroed(chunk + 1)?,
            cost: zeroed(chunk + MAX_MATCH + 1)?,
            step: zeroed(chunk + 1)?,
            lit_freq: [1; LITLEN_SYMBOLS],
            dist_freq: [1; DIST_SYMBOLS],
            lit_bits: [0; LITLEN_SYMBOLS],
            dist_bits: [0; DIST_SYMBOLS],
        })
    }

    /// Back to the state of a new parser: the cost model forgets the
    /// statistics of earlier input.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn reset(&mut self) {
        for v in [
            &mut self.matches,
            &mut self.first,
            &mut self.cost,
            &mut self.step,
        ] {
            v.fill(0);
        }
        self.lit_freq = [1; LITLEN_SYMBOLS];
        self.dist_freq = [1; DIST_SYMBOLS];
        self.lit_bits = [0; LITLEN_SYMBOLS];
        self.dist_bits = [0; DIST_SYMBOLS];
    }

    /// Turns frequencies (each at least 1) into code lengths, the costs.
    fn update_costs(
        &mut self,
        lit_extra: &[u32; LITLEN_SYMBOLS],
        dist_extra: &[u32; DIST_SYMBOLS],
    ) {
        let mut lf = [0u32; LITLEN_SYMBOLS];
        let mut df = [0u32; DIST_SYMBOLS];
        for i in 0..LITLEN_SYMBOLS {
            lf[i] = self.lit_freq[i] + lit_extra[i];
        }
        for i in 0..DIST_SYMBOLS {
            df[i] = self.dist_freq[i] + dist_extra[i];
        }
        let mut ll = [0u8; LITLEN_SYMBOLS];
        let mut dl = [0u8; DIST_SYMBOLS];
        build_lengths(&lf, 15, &mut ll);
        build_lengths(&df, 15, &mut dl);
        for i in 0..LITLEN_SYMBOLS {
            let extra = if i > 256 {
                LEN_EXTRA[i - 257] as u32
            } else {
                0
            };
            self.lit_bits[i] = ll[i] as u32 + extra;
        }
        for i in 0..DIST_SYMBOLS {
            self.dist_bits[i] = dl[i] as u32 + DIST_EXTRA[i] as u32;
        }
    }

    fn len_cost(&self, len: usize) -> u32 {
        self.lit_bits[257 + LEN_CODE[len - MIN_MATCH] as usize]
    }

    /// Backward pass over `n` positions of `data`: fills `cost` and `step`.
    /// A match may run past the chunk's end (the next chunk then starts
    /// after it); what lies beyond is costed as zero, so a long match across
    /// the boundary is not cut in two.
    fn solve(&mut self, data: &[u8], n: usize) {
        self.cost[n..].fill(0);
        for i in (0..n).rev() {
            let mut best = self.lit_bits[data[i] as usize] + self.cost[i + 1];
            let mut step = 1u32;
            let mut shorter = MIN_MATCH - 1;
            for k in self.first[i] as usize..self.first[i + 1] as usize {
                let m = self.matches[k];
                let len = (m >> 16) as usize;
                let dist = (m & 0xffff) as usize;
                let dc = self.dist_bits[dist_code(dist)];
                let from = if len >= LONG { len } else { shorter + 1 };
                for l in from..=len {
                    let c = self.len_cost(l) + dc + self.cost[i + l];
                    if c < best {
                        best = c;
                        step = ((l as u32) << 16) | dist as u32;
                    }
                }
                shorter = shorter.max(len);
            }
            self.cost[i] = best;
            self.step[i] = step;
        }
    }

    /// Counts the symbols of the parse in `step` into `lit`/`dist`.
    fn count(
        &self,
        data: &[u8],
        n: usize,
        lit: &mut [u32; LITLEN_SYMBOLS],
        dist: &mut [u32; DIST_SYMBOLS],
    ) {
        let mut i = 0;
        while i < n {
            let s = self.step[i];
            if s == 1 {
                lit[data[i] as usize] += 1;
                i += 1;
            } else {
                let len = (s >> 16) as usize;
                lit[257 + LEN_CODE[len - MIN_MATCH] as usize] += 1;
                dist[dist_code((s & 0xffff) as usize)] += 1;
                i += len;
            }
        }
    }
}

impl Lz {
    /// Parses whole chunks while enough input is ahead (all of it when
    /// `flush`), so the parse does not depend on how input was split.
    // Not inlined into `Lz::compress`: its cost model's arrays would take
    // room on the lazy level's stack too (3.8 KiB on a Cortex-M3).
    #[inline(never)]
    pub(super) fn compress_optimal(&mut self, w: &mut BitWriter, flush: bool) {
        loop {
            let lookahead = self.m.lookahead;
            let chunk = self.optimal.as_ref().map_or(CHUNK, |o| o.chunk);
            let n = if lookahead >= chunk + MIN_LOOKAHEAD {
                chunk
            } else if flush && lookahead > 0 {
                lookahead.min(chunk)
            } else {
                return;
            };
            self.parse_chunk(w, n);
        }
    }

    fn parse_chunk(&mut self, w: &mut BitWriter, n: usize) {
        let s0 = self.m.strstart;
        let lookahead = self.m.lookahead;
        let mut opt = self.optimal.take().expect("optimal parser state");

        // Collect matches at every position: each longer one the chain
        // offers, the longest MAX_PER_POS of them kept.
        let mut filled = 0usize;
        let mut skip_until = 0usize;
        for i in 0..n {
            opt.first[i] = filled as u32;
            let s = s0 + i;
            let ahead = lookahead - i;
            if ahead < MIN_MATCH {
                continue;
            }
            let head = self.m.insert(s);
            if i < skip_until || head == 0 || s - head > self.m.max_dist {
                continue;
            }
            let max_len = MAX_MATCH.min(ahead);
            let search = Search {
                max_len,
                nice: self.p.nice.min(max_len),
                chain: self.p.max_chain,
                stale: STALE,
                // Once a good match is in hand, longer chains seldom pay
                // (zlib's good_length): on data of few distinct bytes every
                // candidate matches a little, and a full search at every
                // position would crawl.
                shorten_at: self.p.good,
                short_chain: self.p.max_chain / 4,
            };
            let start = filled;
            let (best, _) = self.m.longest(s, head, MIN_MATCH - 1, search, |len, dist| {
                if filled - start == MAX_PER_POS {
                    // Keep the longest: drop the shortest.
                    opt.matches.copy_within(start + 1..filled, start);
                    filled -= 1;
                }
                opt.matches[filled] = ((len as u32) << 16) | dist as u32;
                filled += 1;
            });
            if best >= LONG {
                skip_until = i + best;
            }
        }
        opt.first[n] = filled as u32;

        // Two passes: the running model, then the model plus this chunk's
        // own first-pass statistics.
        let data = &self.m.window[s0..s0 + n];
        let none_l = [0u32; LITLEN_SYMBOLS];
        let none_d = [0u32; DIST_SYMBOLS];
        opt.update_costs(&none_l, &none_d);
        opt.solve(data, n);
        let mut lf = [0u32; LITLEN_SYMBOLS];
        let mut df = [0u32; DIST_SYMBOLS];
        opt.count(data, n, &mut lf, &mut df);
        opt.update_costs(&lf, &df);
        opt.solve(data, n);

        // Emit the parse and fold its statistics into the model.
        let mut lf = [0u32; LITLEN_SYMBOLS];
        let mut df = [0u32; DIST_SYMBOLS];
        opt.count(data, n, &mut lf, &mut df);
        let mut i = 0;
        while i < n {
            let st = opt.step[i];
            if st == 1 {
                self.literal(w, s0 + i);
                i += 1;
            } else {
                let len = (st >> 16) as usize;
                self.matched(w, s0 + i, len, (st & 0xffff) as usize);
                i += len;
            }
        }
        let total: u32 = opt.lit_freq.iter().sum();
        if total > MODEL_WINDOW {
            opt.lit_freq.iter_mut().for_each(|f| *f = (*f >> 1).max(1));
            opt.dist_freq.iter_mut().for_each(|f| *f = (*f >> 1).max(1));
        }
        for (m, f) in opt.lit_freq.iter_mut().zip(lf) {
            *m += f;
        }
        for (m, f) in opt.dist_freq.iter_mut().zip(df) {
            *m += f;
        }
        self.optimal = Some(opt);
        // The last match may have run past the chunk: index what it covered.
        for pos in s0 + n..s0 + i {
            if s0 + lookahead - pos >= MIN_MATCH {
                self.m.insert(pos);
            }
        }
        self.m.strstart = s0 + i;
        self.m.lookahead -= i;
    }
}
