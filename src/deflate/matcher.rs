//! The match finder of the matching levels: the window of input that
//! streams through, hash chains over its last window (32 KiB, or less under
//! a memory limit, see [`Sizes`](super::Sizes)), and the one chain walker
//! both parsers search with.

use alloc::vec::Vec;

use super::tables::{MAX_MATCH, MIN_MATCH};
use super::{AllocError, zeroed};

/// Deflate's largest window: matches reach at most 32 KiB back.
#[cfg(test)]
pub(super) const WSIZE: usize = 1 << 15;
/// Bytes of input held at once without a memory limit. It is larger than
/// the window so that a block's input is still at hand when the block is
/// written (for the stored fallback) and so that the window slides rarely;
/// it is a whole number of windows so that sliding keeps `pos & wmask` of
/// every byte.
#[cfg(test)]
pub(crate) const WINDOW_BUFFER: usize = 8 * WSIZE;
/// A match search needs this much input ahead unless the input has ended.
pub(super) const MIN_LOOKAHEAD: usize = MAX_MATCH + MIN_MATCH + 1;

/// The window and its hash chains, and where parsing stands in it.
pub(super) struct Matcher {
    /// Input, `buffer` bytes and one byte of padding (see `hash`).
    pub(super) window: Vec<u8>,
    /// Most recent position of each hash (0 means none).
    head: Vec<u32>,
    /// How far back the previous position with the same hash is, indexed
    /// by `pos & wmask` (0: none, or farther than 65535, past any match).
    /// Distances do not change when the window slides.
    prev: Vec<u16>,
    hash4: bool,
    /// The window (a power of two, 512 B to 32 KiB) and its mask.
    pub(super) wsize: usize,
    pub(super) wmask: usize,
    /// Bytes of input held at once: a whole number of windows, at least 3
    /// (after a slide keeps one window of history, more than a window is
    /// free, enough for the lookahead and a run-length segment).
    pub(super) buffer: usize,
    /// Farthest match distance searched, as zlib: it keeps a margin so that
    /// a match never reaches bytes about to slide out.
    pub(super) max_dist: usize,
    /// `32 - hash bits`: the hash is the top bits of a product.
    hash_shift: u32,
    /// Next position to parse, and bytes of input from there on.
    pub(super) strstart: usize,
    pub(super) lookahead: usize,
    /// The farthest the input written into the window has reached since
    /// the matcher was made or reset (slides do not move it back); the
    /// byte there is 0, and nothing past it is ever read (see
    /// [`reset`](Self::reset)).
    high_water: usize,
}

/// How far one search goes.
#[derive(Clone, Copy)]
pub(super) struct Search {
    /// Longest match wanted (at most the input ahead).
    pub(super) max_len: usize,
    /// Stop at a match this long.
    pub(super) nice: usize,
    /// Chain entries to look at.
    pub(super) chain: u32,
    /// Give up after this many entries in a row found nothing longer.
    pub(super) stale: u32,
    /// Once a match this long is found, look at no more than `short_chain`
    /// entries in all (zlib's `good_length`).
    pub(super) shorten_at: usize,
    pub(super) short_chain: u32,
}

impl Matcher {
    pub(super) fn new(hash4: bool, sizes: &super::Sizes) -> Result<Self, AllocError> {
        let wsize = 1usize << sizes.window_bits;
        let buffer = sizes.buffer_windows * wsize;
        debug_assert!((9..=15).contains(&sizes.window_bits) && sizes.buffer_windows >= 3);
        Ok(Matcher {
            window: zeroed(buffer + 1)?,
            head: zeroed(1 << sizes.hash_bits)?,
            prev: zeroed(wsize)?,
            hash4,
            wsize,
            wmask: wsize - 1,
            buffer,
            max_dist: wsize - MIN_LOOKAHEAD,
            hash_shift: 32 - sizes.hash_bits,
            strstart: 0,
            lookahead: 0,
            high_water: 0,
        })
    }

    /// Bytes [`new`](Self::new) allocates for `sizes`.
    pub(super) fn bytes(sizes: &super::Sizes) -> usize {
        let wsize = 1usize << sizes.window_bits;
        sizes.buffer_windows * wsize + 1 + 4 * (1 << sizes.hash_bits) + 2 * wsize
    }

    /// Back to the state of a new matcher, as far as anything can tell:
    /// the hash heads are cleared, and only they.
    ///
    /// - `prev` is read only at positions reached from a head, through
    ///   chain steps that stay within the window: positions indexed since
    ///   the heads were cleared, whose entries were written then.
    /// - The window is read up to one byte past the input (a 4-byte hash
    ///   of the last string before its end). Past what was written since
    ///   the reset it would hold zeros in a new matcher: `fill` writes that
    ///   one zero at the high-water mark as the input passes it, and the
    ///   bytes beyond are never read.
    ///
    /// A reset matcher thus makes the same choices as a new one, without
    /// clearing the 320 KiB of window and chains before every segment.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn reset(&mut self) {
        self.head.fill(0);
        self.window[0] = 0;
        self.high_water = 0;
        self.strstart = 0;
        self.lookahead = 0;
    }

    /// Puts `dict` (at most one window) at the start of an empty
    /// window as history: parsing starts after it, and the strings whose
    /// hashed bytes all lie in it are indexed, so matches can reach it.
    ///
    /// Inside a run of one byte value every string is the same, and only
    /// the last is indexed: a match found there reaches as far, from
    /// nearer. Indexing every position of long runs (the all-zero rows of
    /// very compressible images) took longer than compressing the segment.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(super) fn prime(&mut self, dict: &[u8]) {
        debug_assert!(self.end() == 0 && dict.len() <= self.wsize);
        self.window[..dict.len()].copy_from_slice(dict);
        self.strstart = dict.len();
        self.mark_high_water();
        let hashed = if self.hash4 { 4 } else { MIN_MATCH };
        let last = (dict.len() + 1).saturating_sub(hashed);
        let word = |w: &[u8], pos: usize| u32::from_le_bytes(w[pos..pos + 4].try_into().unwrap());
        let mut pos = 0;
        while pos < last {
            // The next string is the same: five equal bytes from `pos`.
            if pos + 5 <= dict.len() && word(dict, pos) == word(dict, pos + 1) {
                // So is every string up to the last whole one in the run.
                pos = (run_end(dict, pos) - 4).max(pos + 1);
                continue;
            }
            self.insert(pos);
            pos += 1;
        }
    }

    /// The end of the input at hand.
    pub(super) fn end(&self) -> usize {
        self.strstart + self.lookahead
    }

    /// The first position whose hashed bytes (3, or 4 with `hash4`) are
    /// not all at hand: strings before it can be indexed.
    pub(super) fn whole_end(&self) -> usize {
        let hashed = if self.hash4 { 4 } else { MIN_MATCH };
        (self.end() + 1).saturating_sub(hashed)
    }

    /// Appends as much of `data` as fits; returns how much.
    pub(super) fn fill(&mut self, data: &[u8]) -> usize {
        let end = self.end();
        let n = (self.buffer - end).min(data.len());
        self.window[end..end + n].copy_from_slice(&data[..n]);
        self.lookahead += n;
        self.mark_high_water();
        n
    }

    /// After input was written up to [`end`](Self::end): where that passes
    /// the high-water mark, the byte past it becomes the zero a new
    /// matcher would have there (the window has a byte of padding for it).
    fn mark_high_water(&mut self) {
        let end = self.end();
        if end > self.high_water {
            self.high_water = end;
            self.window[end] = 0;
        }
    }

    /// Moves the window down by `shift` bytes (a whole number of windows),
    /// and the chains with it.
    pub(super) fn slide(&mut self, shift: usize) {
        debug_assert!(shift % self.wsize == 0 && shift + self.wsize <= self.strstart);
        let end = self.end();
        self.window.copy_within(shift..end, 0);
        self.strstart -= shift;
        // Positions before the new start become 0 ("none"). Positions stay
        // below 2^31, so the sign of the difference tells, and the clamp is
        // a shift and a mask that vectorise (SSE2 has no unsigned 32-bit
        // minimum; a chained iterator or `saturating_sub` ran 4 times slower).
        let shift = shift as i32;
        for h in self.head.iter_mut() {
            let v = *h as i32 - shift;
            *h = (v & !(v >> 31)) as u32;
        }
    }

    #[inline(always)]
    fn hash(&self, pos: usize) -> usize {
        // One 4-byte load; the window has a byte of padding past its end,
        // so this is in bounds even for the last 3-byte string.
        let v = u32::from_le_bytes(self.window[pos..pos + 4].try_into().unwrap());
        let v = if self.hash4 { v } else { v & 0x00ff_ffff };
        // Fibonacci hashing: the top bits of a multiply by 2^32 / phi.
        (v.wrapping_mul(0x9E37_79B1) >> self.hash_shift) as usize
    }

    /// Adds the string at `pos` (which must be whole: `pos + 3 <= end`) to
    /// its hash chain and returns the previous chain head.
    #[inline(always)]
    pub(super) fn insert(&mut self, pos: usize) -> usize {
        debug_assert!(pos + MIN_MATCH <= self.end());
        let h = self.hash(pos);
        let old = self.head[h] as usize;
        // `old` is 0 (none) or an earlier position.
        let dist = u16::try_from(pos.wrapping_sub(old)).unwrap_or(0);
        self.prev[pos & self.wmask] = dist;
        self.head[h] = pos as u32;
        old
    }

    /// Walks the hash chain from `cur` for matches at `s` longer than
    /// `best`, calling `found(len, dist)` for each longer one; returns the
    /// longest length and where it starts (`best` and 0 if none).
    #[inline(always)]
    pub(super) fn longest(
        &self,
        s: usize,
        mut cur: usize,
        mut best: usize,
        q: Search,
        mut found: impl FnMut(usize, usize),
    ) -> (usize, usize) {
        let limit = s.saturating_sub(self.max_dist);
        let win = &self.window[..s + q.max_len];
        let (mut chain, mut stale, mut start) = (q.chain, 0, 0);
        loop {
            stale += 1;
            if win[cur + best] == win[s + best] && win[cur] == win[s] {
                let len = match_len(win, cur, s, q.max_len);
                if len > best {
                    (best, start, stale) = (len, cur, 0);
                    found(len, s - cur);
                    if len >= q.nice {
                        break;
                    }
                    if len >= q.shorten_at {
                        chain = chain.min(q.short_chain);
                    }
                }
            }
            // The previous entry is `d` back; one at or before `limit`
            // (or none) ends the walk.
            let d = self.prev[cur & self.wmask] as usize;
            chain -= 1;
            if d == 0 || d >= cur - limit || chain == 0 || stale > q.stale {
                break;
            }
            cur -= d;
        }
        (best, start)
    }
}

/// Length of the common prefix of `w[a..]` and `w[b..]`, at most `max`
/// (`a < b`, `b + max <= w.len()`), compared eight bytes at a time.
#[inline(always)]
pub(super) fn match_len(w: &[u8], a: usize, b: usize, max: usize) -> usize {
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

/// The end of the run of the byte at `pos`: the first position after it
/// that holds another byte, or the length of `data`. Long runs go 16 bytes
/// at a time, in a fold the compiler vectorises.
fn run_end(data: &[u8], pos: usize) -> usize {
    let b = data[pos];
    let mut q = pos + 1;
    while let Some(chunk) = data.get(q..q + 16) {
        if chunk.iter().fold(0, |acc, &x| acc | (x ^ b)) != 0 {
            break;
        }
        q += 16;
    }
    while q < data.len() && data[q] == b {
        q += 1;
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priming_indexes_what_the_position_by_position_rule_does() {
        // Runs of every length from 1 to 40 and a few long ones, between
        // varied bytes, in dictionaries of several lengths.
        let mut dict = Vec::new();
        let mut x = 9u32;
        for k in 0..300 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let run = if k % 37 == 0 { 500 + k } else { k % 41 };
            dict.extend(core::iter::repeat_n((x % 3) as u8, run));
            dict.push((x >> 8) as u8);
        }
        let sizes = super::super::Sizes::FULL;
        for len in [0, 1, 4, 5, 6, 17, 1000, 9999, dict.len().min(WSIZE)] {
            let d = &dict[..len];
            for hash4 in [false, true] {
                let mut fast = Matcher::new(hash4, &sizes).unwrap();
                fast.prime(d);
                // The rule, one position at a time.
                let mut slow = Matcher::new(hash4, &sizes).unwrap();
                slow.window[..len].copy_from_slice(d);
                slow.strstart = len;
                let hashed = if hash4 { 4 } else { MIN_MATCH };
                for pos in 0..(len + 1).saturating_sub(hashed) {
                    let same = pos + 5 <= len && d[pos..pos + 5].iter().all(|&b| b == d[pos]);
                    if !same {
                        slow.insert(pos);
                    }
                }
                assert!(fast.head == slow.head, "len {len} hash4 {hash4}");
                assert!(fast.prev == slow.prev, "len {len} hash4 {hash4}");
            }
        }
        for pos in [0, 3, 600, dict.len() - 1] {
            let naive = (pos..dict.len())
                .find(|&q| dict[q] != dict[pos])
                .unwrap_or(dict.len());
            assert_eq!(run_end(&dict, pos), naive, "pos {pos}");
        }
    }

    #[test]
    fn match_len_agrees_with_bytewise() {
        let mut x = 4u64;
        let mut w: Vec<u8> = (0..600)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        w.copy_within(0..300, 300);
        w[300 + 77] ^= 1;
        for max in [0, 1, 7, 8, 9, 76, 77, 78, 258] {
            let naive = (0..max).take_while(|&i| w[i] == w[300 + i]).count();
            assert_eq!(match_len(&w, 0, 300, max), naive, "max {max}");
        }
    }
}
