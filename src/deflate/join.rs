//! Joins the segments of the parallel writer into one deflate stream.
//!
//! Each segment is compressed on its own (after the window before it) and
//! comes back in one of two forms ([`Deflater::end_segment`]):
//!
//! - **bytes**: its blocks, ending on a byte boundary (a sync flush's empty
//!   stored block, or the final block for the last segment);
//! - **tokens**: one block that compresses well, left open (unwritten).
//!
//! The joiner keeps one open block. Tokens join it while they fit in one
//! block and one block costs no more than two; otherwise the open block
//! is written and they open the next. A block written is left unended,
//! for the next to go on in it under its codes where that costs little
//! more ([`OpenBlock`]). Before bytes the open block is
//! written and the stream aligned with an empty stored block, so that the
//! bytes follow on a byte boundary. On images whose segments each
//! compress to a few hundred bytes (gradients, flat areas) this saves a
//! block header and a stored block per segment.
//!
//! The decisions depend only on the segments, in order, never on how many
//! threads compressed them.
//!
//! [`Deflater::end_segment`]: super::Deflater::end_segment

use alloc::vec::Vec;

use super::AllocError;
use super::bits::BitWriter;
use super::block::{MAX_TOKENS, OpenBlock, Tokens, plan_block, write_new, write_on};
use super::stored::write_stored;

/// The end of the joined stream, and its open block.
pub(crate) struct Joiner {
    bits: BitWriter,
    open: Tokens,
    /// The block last written, left open for the next tokens to go on in
    /// it (see [`OpenBlock`]).
    written: Option<OpenBlock>,
}

impl Joiner {
    pub(crate) fn new() -> Result<Self, AllocError> {
        Ok(Joiner {
            bits: BitWriter::default(),
            open: Tokens::new(Self::TOKENS)?,
            written: None,
        })
    }

    /// Tokens the open block holds before it is written: four times a
    /// compressor's block (as many segments as fit in one, at most), as
    /// the blocks of segments that code to a few hundred bytes each are
    /// mostly header otherwise.
    const TOKENS: usize = 4 * MAX_TOKENS;

    /// About the most a joiner takes: its tokens and their counts.
    pub(crate) const BYTES: usize = 4 * Self::TOKENS + core::mem::size_of::<Tokens>();

    /// About the most the tokens of a segment's block take.
    pub(crate) const SEGMENT_BYTES: usize = 4 * MAX_TOKENS + core::mem::size_of::<Tokens>();

    /// Adds a segment's open block.
    pub(crate) fn add_tokens(&mut self, tokens: &Tokens) {
        if !self.open.is_empty() && !self.open.joins(tokens) {
            self.write_open(false);
        }
        self.open.append(tokens);
    }

    /// Makes ready for a segment's bytes: writes the open block, if any,
    /// and aligns the stream with an empty stored block.
    pub(crate) fn before_bytes(&mut self) {
        if !self.open.is_empty() {
            self.write_open(false);
        }
        if let Some(written) = self.written.take() {
            written.close(&mut self.bits);
        }
        if !self.bits.is_aligned() {
            write_stored(&mut self.bits, &[], false);
        }
        debug_assert!(self.bits.is_aligned());
    }

    /// Ends the stream after the last segment's tokens: the open block is
    /// the final block, padded to a whole byte.
    pub(crate) fn finish(&mut self) {
        debug_assert!(!self.open.is_empty());
        self.write_open(true);
        self.bits.align();
    }

    /// Whole bytes of the stream ready to be written (the caller takes
    /// them).
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        &mut self.bits.out
    }

    /// Writes the open block's tokens: on in the block written before, if
    /// that takes them ([`OpenBlock::takes`]), or else as a new block, left
    /// open unless `last`.
    fn write_open(&mut self, last: bool) {
        // Tokens come only from blocks that are not to be stored.
        let Some(plan) = plan_block(&mut self.open, 0, false) else {
            return;
        };
        let w = &mut self.bits;
        let goes_on = (self.written.as_ref())
            .is_some_and(|written| written.takes(&self.open, Some(&plan), 0, last).is_some());
        if goes_on {
            write_on(w, &mut self.written, &mut self.open, last);
        } else {
            write_new(w, &mut self.written, &mut self.open, &plan, last);
        }
    }
}
