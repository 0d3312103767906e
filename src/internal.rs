//! **Internal, not part of the stable API.** Thin wrappers around the
//! crate's private deflate compressor and checksums, compiled only with the
//! `__internal` Cargo feature so the fuzz targets in `fuzz/` can test them
//! directly against reference implementations. Anything here may change or
//! disappear in any release, patch releases included; do not depend on it.
//!
//! Nothing here adds behaviour: each wrapper forwards to the code the encoder
//! itself runs.
#![doc(hidden)]

use alloc::vec::Vec;

use crate::adler32;
use crate::crc32;
use crate::deflate::Deflater;
use crate::level::Compression;

/// A streaming raw deflate (RFC 1951) compressor: the one inside the encoder's
/// zlib stream, without the zlib header and Adler-32 trailer.
///
/// Piece boundaries are all the compressor sees of how input was split,
/// and its output must not depend on them (see
/// [`take_output`](Self::take_output) for draining in between). The
/// segments of the parallel writer are what [`set_dictionary`](Self::set_dictionary),
/// [`sync_flush`](Self::sync_flush) and [`reset`](Self::reset) serve.
pub struct RawDeflate {
    inner: Deflater,
}

impl RawDeflate {
    /// A compressor at `level`; `None` only if its fixed-size state (under
    /// 1 MiB) cannot be allocated.
    pub fn new(level: Compression) -> Option<Self> {
        Some(RawDeflate {
            inner: Deflater::new(level).ok()?,
        })
    }

    /// Compresses `data`, appending whatever output is complete.
    pub fn write(&mut self, data: &[u8]) {
        self.inner.write(data);
    }

    /// Takes the complete output bytes produced so far, as the PNG writer
    /// does when it cuts IDAT chunks. The stream is the concatenation of
    /// everything taken and what [`finish`](Self::finish) returns.
    pub fn take_output(&mut self) -> Vec<u8> {
        core::mem::take(self.inner.output())
    }

    /// The stored-only compressor the writer uses at
    /// [`Compression::Stored`], for input of exactly `total` bytes (each
    /// block's header goes out before its bytes). Writing more or less than
    /// `total` before [`finish`](Self::finish) is a caller's error.
    pub fn stored_exact(total: u64) -> Self {
        RawDeflate {
            inner: Deflater::stored_exact(total),
        }
    }

    /// Back to the state of a new compressor (output not taken is
    /// dropped). Not for [`stored_exact`](Self::stored_exact).
    pub fn reset(&mut self) {
        self.inner.reset();
    }

    /// Starts the stream after `dict` (its last 32 KiB), which the decoder
    /// already has: only right after [`new`](Self::new) or
    /// [`reset`](Self::reset).
    pub fn set_dictionary(&mut self, dict: &[u8]) {
        self.inner.set_dictionary(dict);
    }

    /// Codes everything written so far and ends the output on a byte
    /// boundary with an empty stored block, the stream not ended. Not for
    /// [`stored_exact`](Self::stored_exact).
    pub fn sync_flush(&mut self) {
        self.inner.sync_flush();
    }

    /// Ends the stream (final block, padded to a whole byte) and returns the
    /// output not yet taken.
    pub fn finish(mut self) -> Vec<u8> {
        self.inner.finish();
        core::mem::take(self.inner.output())
    }
}

/// The deflate path of the parallel writer on one thread: the input cut
/// into segments, each compressed by a reset compressor after the 32 KiB
/// before it, ended as the workers end theirs (`Deflater::end_segment`:
/// bytes on a byte boundary, or one block's tokens left open) and joined
/// as the writer joins them (`Joiner`). The same stream for any number of
/// threads.
#[cfg(feature = "std")]
pub struct RawSegments {
    deflate: Deflater,
    joiner: crate::deflate::Joiner,
    out: Vec<u8>,
}

#[cfg(feature = "std")]
impl RawSegments {
    /// `None` only if the compressor's or the joiner's fixed-size state
    /// cannot be allocated.
    pub fn new(level: Compression) -> Option<Self> {
        Some(RawSegments {
            deflate: Deflater::new(level).ok()?,
            joiner: crate::deflate::Joiner::new().ok()?,
            out: Vec::new(),
        })
    }

    /// Compresses the next segment, `data` (written in pieces of `piece`
    /// bytes), after `before`, the input before it (its last 32 KiB are the
    /// dictionary); `last` ends the stream, which [`finish`](Self::finish)
    /// then returns.
    pub fn segment(&mut self, before: &[u8], data: &[u8], piece: usize, last: bool) {
        self.deflate.reset();
        self.deflate
            .set_dictionary(&before[before.len().saturating_sub(32 * 1024)..]);
        for p in data.chunks(piece.max(1)) {
            self.deflate.write(p);
        }
        match self
            .deflate
            .end_segment(last, false)
            .expect("tokens of one block allocate")
        {
            Some(tokens) => {
                self.joiner.add_tokens(&tokens);
                if last {
                    self.joiner.finish();
                }
            }
            None => self.joiner.before_bytes(),
        }
        self.out.append(self.joiner.output());
        self.out.append(self.deflate.output());
    }

    /// The joined stream, after the last segment.
    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// An incremental CRC-32 (the PNG chunk checksum).
#[derive(Clone, Copy, Debug)]
pub struct Crc32(crc32::Crc32);

impl Crc32 {
    /// The CRC of no bytes so far.
    pub const fn new() -> Self {
        Crc32(crc32::Crc32::new())
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The CRC-32 of everything added.
    pub fn finish(self) -> u32 {
        self.0.finish()
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

/// CRC-32 of `data` in one call.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

/// An incremental Adler-32 (the zlib trailer checksum).
#[derive(Clone, Copy, Debug)]
pub struct Adler32(adler32::Adler32);

impl Adler32 {
    /// The Adler-32 of no bytes so far (1).
    pub const fn new() -> Self {
        Adler32(adler32::Adler32::new())
    }

    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// The Adler-32 of everything added.
    pub fn finish(self) -> u32 {
        self.0.finish()
    }
}

impl Default for Adler32 {
    fn default() -> Self {
        Self::new()
    }
}

/// The Adler-32 of two pieces joined, from each one's Adler-32 and the
/// second one's length (zlib's `adler32_combine`).
#[cfg(feature = "std")]
pub fn adler32_combine(adler1: u32, adler2: u32, len2: u64) -> u32 {
    adler32::combine(adler1, adler2, len2)
}

/// Adler-32 of `data` in one call.
pub fn adler32(data: &[u8]) -> u32 {
    let mut h = Adler32::new();
    h.update(data);
    h.finish()
}

/// How often each rare compressor path (window slides, block flushes from a
/// slide, hand-overs between matching and run-length coding, stored runs)
/// has run in this process, by name: what a fuzz harness reports to show
/// that its inputs reach them.
pub fn path_counts() -> impl Iterator<Item = (&'static str, usize)> {
    crate::deflate::probe::NAMES
        .into_iter()
        .zip(crate::deflate::probe::counts())
}
