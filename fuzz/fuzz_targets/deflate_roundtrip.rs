//! The raw deflate compressor at every level, and the stored engine the PNG
//! writer uses for input of announced length: arbitrary input, fed in
//! arbitrary pieces with the output drained at arbitrary points, inflates
//! with `miniz_oxide` to exactly the input, uses all of its bytes, does not
//! depend on how the input was split, and never grows incompressible input by
//! more than the stored-block overhead.
//!
//! The compressor has no sync flush, so "flushes at fuzz-chosen points" are
//! emulated the only way its caller can make them: the input is cut into
//! pieces at those points (each piece one `write`), and after some pieces the
//! output produced so far is taken away, as the PNG writer does when it cuts
//! IDAT chunks.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use pngstream::Compression;
use pngstream::internal::{RawDeflate, RawSegments};
use pngstream_fuzz::Rng;

/// The whole input is capped so that one run stays well under a second; it
/// is still several times the 256 KiB window buffer.
const MAX_INPUT: usize = 768 * 1024;

/// Assert the stored-fallback bound the way the level docs promise it for
/// every level, `n + 5·⌈n / 65535⌉ + 8` (true), or only for
/// `Compression::Stored`, with a looser "few bytes per 64 KiB" for the others
/// (false). True since consecutive stored blocks are joined at every level
/// (see `tests/fuzz_regressions.rs::stored_fallback_bound_holds_at_every_level`).
const STRICT_BOUND_ALL_LEVELS: bool = true;

#[derive(Arbitrary, Debug)]
enum Segment {
    /// These bytes as they are.
    Bytes(Vec<u8>),
    /// `len` bytes copied from `back` bytes before the end of the input so
    /// far (an LZ77 match; overlapping copies make runs).
    Copy { back: u16, len: u16 },
    /// `len` pseudo-random (incompressible) bytes.
    Random { seed: u64, len: u32 },
    /// `len` copies of one byte.
    Fill { byte: u8, len: u32 },
    /// Bytes from a small alphabet: compressible, but with few long matches.
    Alphabet { seed: u64, bits: u8, len: u32 },
}

#[derive(Arbitrary, Debug)]
struct Input {
    segments: Vec<Segment>,
    /// Piece lengths, used in turn (then again from the start, with empty
    /// pieces no longer allowed); the top bit means "take the output after
    /// this piece".
    pieces: Vec<u32>,
    /// Which levels to run, one bit each (all when 0).
    levels: u8,
    /// Segment length of the parallel writer's path (log-uniform, at least
    /// 1 byte), at the matching levels.
    segment: u32,
}

/// A segment length from fuzz bits, log-uniform from 0 to 256 KiB: mostly
/// short, now and then long enough for several blocks and window slides.
fn seg_len(len: u32) -> usize {
    let max = 1usize << ((len >> 24) % 19);
    (len & 0xFF_FFFF) as usize % (max + 1)
}

fn build(segments: &[Segment]) -> Vec<u8> {
    let mut d: Vec<u8> = Vec::new();
    for s in segments {
        let room = MAX_INPUT - d.len();
        match *s {
            Segment::Bytes(ref b) => d.extend_from_slice(&b[..b.len().min(room)]),
            Segment::Copy { back, len } => {
                if d.is_empty() {
                    continue;
                }
                let back = (back as usize % d.len()) + 1;
                let start = d.len() - back;
                for i in 0..(len as usize).min(room) {
                    d.push(d[start + i]);
                }
            }
            Segment::Random { seed, len } => {
                let mut rng = Rng::new(seed);
                let mut r = || rng.next_u64();
                d.extend((0..seg_len(len).min(room)).map(|_| (r() >> 24) as u8));
            }
            Segment::Fill { byte, len } => {
                let n = seg_len(len).min(room);
                d.resize(d.len() + n, byte);
            }
            Segment::Alphabet { seed, bits, len } => {
                let mut rng = Rng::new(seed);
                let mut r = || rng.next_u64();
                let mask = ((1u16 << (bits % 8 + 1)) - 1) as u8;
                d.extend((0..seg_len(len).min(room)).map(|_| (r() >> 29) as u8 & mask));
            }
        }
        if d.len() >= MAX_INPUT {
            break;
        }
    }
    d
}

/// Compresses `data` with `d`, cut as `pieces` says, draining output where
/// they say.
fn compress(mut d: RawDeflate, data: &[u8], pieces: &[u32]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < data.len() && !pieces.is_empty() {
        let p = pieces[i % pieces.len()];
        let mut k = ((p & 0x7FFF_FFFF) as usize).min(data.len() - pos);
        if k == 0 && i >= pieces.len() {
            // Second time round, an empty piece would loop forever.
            k = data.len() - pos;
        }
        d.write(&data[pos..pos + k]);
        pos += k;
        if p >> 31 != 0 {
            out.extend(d.take_output());
        }
        i += 1;
    }
    d.write(&data[pos..]);
    out.extend(d.finish());
    out
}

/// Inflates a raw deflate stream that must hold exactly `want` and end
/// exactly at its last byte.
fn check_inflate(level: Compression, stream: &[u8], want: &[u8]) {
    let mut r = Box::new(DecompressorOxide::new());
    // One spare byte catches a stream that inflates to too much.
    let mut out = vec![0u8; want.len() + 1];
    let (status, consumed, written) = decompress(
        &mut r,
        stream,
        &mut out,
        0,
        inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF,
    );
    assert_eq!(
        status,
        TINFLStatus::Done,
        "{level:?}: inflating {} bytes of stream for {} bytes of input",
        stream.len(),
        want.len()
    );
    assert_eq!(written, want.len(), "{level:?}: inflated length");
    assert!(out[..written] == *want, "{level:?}: inflated data differs");
    assert_eq!(
        consumed,
        stream.len(),
        "{level:?}: bytes after the final block"
    );
}

fn check_size(level: Compression, n: usize, out: usize) {
    // A stored block costs 3 header bits, at most 7 bits of padding and the
    // 4-byte LEN/NLEN: 5 bytes per 65535 bytes of input. The stored level
    // writes every full 65535 bytes at once and the rest (possibly nothing)
    // as the final block.
    if level == Compression::Stored {
        assert_eq!(out, n + 5 * (n / 65_535 + 1), "stored level, {n} bytes");
    } else if STRICT_BOUND_ALL_LEVELS {
        let bound = n + 5 * n.div_ceil(65_535) + 8;
        assert!(
            out <= bound,
            "{level:?}: {out} bytes for {n}, bound {bound}"
        );
    } else {
        // What the docs call "a few bytes per 64 KiB": at most 48.
        let loose = n + 48 * n.div_ceil(65_536) + 16;
        assert!(
            out <= loose,
            "{level:?}: {out} bytes for {n}, loose bound {loose}"
        );
    }
}

fuzz_target!(|input: Input| {
    let data = build(&input.segments);
    for (bit, level) in Compression::ALL.iter().copied().enumerate() {
        if input.levels != 0 && input.levels & (1 << bit) == 0 {
            continue;
        }
        let new = || RawDeflate::new(level).expect("deflate state allocates");
        let whole = compress(new(), &data, &[]);
        check_inflate(level, &whole, &data);
        check_size(level, data.len(), whole.len());
        if !input.pieces.is_empty() {
            let split = compress(new(), &data, &input.pieces);
            assert!(
                split == whole,
                "{level:?}: output depends on how the input was split ({} vs {} bytes)",
                split.len(),
                whole.len()
            );
        }
    }

    // The parallel writer's path: segments after their dictionaries, each
    // ended as bytes or as one block's tokens, joined into one stream.
    if !data.is_empty() {
        // At most 64 segments: each resets a compressor of about 1 MiB.
        let seg = seg_len(input.segment).max(data.len().div_ceil(64)).max(1);
        let piece = input
            .pieces
            .first()
            .map_or(seg, |&p| (p & 0xF_FFFF) as usize + 1);
        for level in [Compression::Default, Compression::Best] {
            let mut segments = RawSegments::new(level).expect("deflate state allocates");
            let mut start = 0;
            while start < data.len() {
                let end = (start + seg).min(data.len());
                segments.segment(&data[..start], &data[start..end], piece, end == data.len());
                start = end;
            }
            check_inflate(level, &segments.finish(), &data);
        }
    }

    // The stored engine the PNG writer uses: the total is announced, each
    // block's header goes out before its bytes, 5 bytes per 65535 and no
    // empty final block (but for no input at all).
    let n = data.len();
    let exact = || RawDeflate::stored_exact(n as u64);
    let whole = compress(exact(), &data, &[]);
    check_inflate(Compression::Stored, &whole, &data);
    assert_eq!(
        whole.len(),
        n + 5 * n.div_ceil(65_535).max(1),
        "stored_exact, {n} bytes"
    );
    let split = compress(exact(), &data, &input.pieces);
    assert!(split == whole, "stored_exact output depends on the pieces");
});
