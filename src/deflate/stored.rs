//! Stored blocks: the stored level's two engines, and the run of stored
//! input that the matching levels join across blocks.

use super::bits::BitWriter;
use super::block::MAX_STORED;

/// Writes stored blocks holding `raw` (several if it is longer than
/// [`MAX_STORED`]); `last` marks the final one as the end of the stream.
pub(crate) fn write_stored(w: &mut BitWriter, raw: &[u8], last: bool) {
    let mut pieces = raw.chunks(MAX_STORED).peekable();
    if pieces.peek().is_none() {
        write_header(w, 0, last);
    }
    while let Some(piece) = pieces.next() {
        write_header(w, piece.len(), last && pieces.peek().is_none());
        w.out.extend_from_slice(piece);
    }
}

/// A stored block's header: BFINAL and BTYPE 00, padding to a byte, LEN
/// and NLEN. Its `len` bytes follow.
fn write_header(w: &mut BitWriter, len: usize, last: bool) {
    debug_assert!(len <= MAX_STORED);
    w.put(last as u32, 3);
    w.align();
    let len = len as u16;
    w.out.extend_from_slice(&len.to_le_bytes());
    w.out.extend_from_slice(&(!len).to_le_bytes());
}

/// Stored blocks for input whose total length is known in advance (as it
/// is to the PNG writer): each block's header goes out when its first byte
/// arrives, and the bytes go straight to the output with no block buffer.
pub(super) struct StoredExact {
    /// Input not yet covered by a block header.
    unannounced: u64,
    /// Bytes still due in the current block.
    block_left: usize,
    /// The total is zero: `finish` writes an empty final block.
    empty: bool,
}

impl StoredExact {
    pub(super) fn new(total: u64) -> Self {
        StoredExact {
            unannounced: total,
            block_left: 0,
            empty: total == 0,
        }
    }

    /// Writes `data`. Input beyond the announced total is a caller's error;
    /// it is dropped rather than written after the final block.
    pub(super) fn write(&mut self, w: &mut BitWriter, mut data: &[u8]) {
        while !data.is_empty() {
            if self.block_left == 0 {
                if self.unannounced == 0 {
                    debug_assert!(false, "input beyond the announced length");
                    return;
                }
                let len = self.unannounced.min(MAX_STORED as u64) as usize;
                self.unannounced -= len as u64;
                write_header(w, len, self.unannounced == 0);
                self.block_left = len;
            }
            let n = self.block_left.min(data.len());
            w.out.extend_from_slice(&data[..n]);
            self.block_left -= n;
            data = &data[n..];
        }
    }

    pub(super) fn finish(&mut self, w: &mut BitWriter) {
        debug_assert!(self.unannounced == 0 && self.block_left == 0, "input short");
        if self.empty {
            // No input at all: the stream still needs a final block.
            write_stored(w, &[], true);
        }
    }
}

/// Input that blocks of the matching levels chose to store, not written
/// yet: consecutive stored blocks are joined into stored blocks of the full
/// 65535 bytes, so incompressible data costs 5 bytes per 64 KiB, not 5 per
/// block of tokens. The run is `window[from..]` up to where the next block
/// starts; it is written before the next Huffman block, before the window
/// slides past it, and at the end.
#[derive(Default)]
pub(super) struct StoredRun {
    from: Option<usize>,
}

impl StoredRun {
    pub(super) fn is_empty(&self) -> bool {
        self.from.is_none()
    }

    /// Adds `window[start..end]` to the run, writing its whole stored
    /// blocks (and all of it if `last`).
    pub(super) fn store(
        &mut self,
        w: &mut BitWriter,
        window: &[u8],
        start: usize,
        end: usize,
        last: bool,
    ) {
        let mut from = self.from.take().unwrap_or(start);
        debug_assert!(from <= start);
        while end - from > MAX_STORED || (end - from == MAX_STORED && !last) {
            write_stored(w, &window[from..from + MAX_STORED], false);
            from += MAX_STORED;
        }
        if last {
            write_stored(w, &window[from..end], true);
        } else if from < end {
            self.from = Some(from);
        }
    }

    /// Writes the run, which ends at `to`, if there is one. Returns whether
    /// there was.
    pub(super) fn end(&mut self, w: &mut BitWriter, window: &[u8], to: usize) -> bool {
        match self.from.take() {
            Some(from) => {
                write_stored(w, &window[from..to], false);
                true
            }
            None => false,
        }
    }

    /// Before the window slides down by `shift`: writes the run (ending at
    /// `to`) if it starts below `shift`, then moves it down.
    pub(super) fn slide(&mut self, w: &mut BitWriter, window: &[u8], to: usize, shift: usize) {
        if self.from.is_some_and(|from| from < shift) {
            self.end(w, window, to);
        }
        self.from = self.from.map(|from| from - shift);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{inflate, xorshift};
    use super::*;

    #[test]
    fn stored_exact_matches_its_announced_length() {
        let data = xorshift(300_000, 17);
        for total in [0usize, 1, 65_534, 65_535, 65_536, 131_070, 300_000] {
            for piece in [1usize, 1000, 65_535, 70_000] {
                let mut w = BitWriter::default();
                let mut d = StoredExact::new(total as u64);
                for p in data[..total].chunks(piece) {
                    d.write(&mut w, p);
                }
                d.finish(&mut w);
                w.align();
                assert_eq!(
                    inflate(&w.out),
                    &data[..total],
                    "total {total} piece {piece}"
                );
                // 5 bytes per block, no empty final block.
                let blocks = total.div_ceil(MAX_STORED).max(1);
                assert_eq!(w.out.len(), total + 5 * blocks, "total {total}");
            }
        }
    }
}
