//! Peak heap use while encoding, measured with a counting global allocator.
//!
//! The allocator is global, so every measurement lives in the one `#[test]`
//! below: no other test of this binary can allocate concurrently.

mod common;

use common::{Rng, counting};
use pngstream::{
    ColorType, Compression, Filter, Options, PARALLEL_SEGMENT_SIZE, Sink, StreamingWriter,
};

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// A sink that keeps nothing, so the sink's own memory is not measured.
struct CountingSink(u64);

impl Sink for CountingSink {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0 += buf.len() as u64;
        Ok(())
    }
}

/// Peak bytes allocated above the level at the start, while encoding a
/// `width`×`height` RGB image with random rows (random data makes the most
/// compressed output, the worst case for the output buffer), and the PNG's
/// length.
fn peak_for(width: u32, height: u32, level: Compression) -> (usize, u64) {
    peak_with(width, height, level, None, Content::Random, 0)
}

/// [`peak_for`] with the given IDAT chunk size (`None`: the default), and
/// with `small` random values (0 to 15) instead of any byte: data that the
/// levels compress to about half, in Huffman blocks rather than stored ones;
/// on `threads` threads ([`Options::threads`]).
/// What the rows of [`peak_with`] hold.
#[derive(Clone, Copy, PartialEq)]
enum Content {
    /// Random bytes: incompressible.
    Random,
    /// Random values 0 to 15: Huffman coding alone halves them.
    Small,
    /// Each row the one above with a byte in 80 changed: long matches, a
    /// few thousand tokens per 100 KiB, so that the parallel writer's
    /// segments come back as the tokens of one open block.
    Steady,
}

fn peak_with(
    width: u32,
    height: u32,
    level: Compression,
    idat: Option<u32>,
    content: Content,
    threads: usize,
) -> (usize, u64) {
    // Allocated before the measurement starts: the row buffer and options.
    let mut row = vec![0u8; width as usize * 3];
    let mut rng = Rng::new(0x1234_5678_9ABC_DEF1 ^ width as u64);
    let mut opts = Options::new(width, height, ColorType::Rgb)
        .compression(level)
        .filter(Filter::Adaptive)
        .threads(threads);
    if let Some(n) = idat {
        opts = opts.idat_chunk_size(n);
    }
    let base = counting::start();
    let mut w = StreamingWriter::with_options(CountingSink(0), &opts).unwrap();
    assert_eq!(w.threads(), opts.effective_threads());
    rng.fill(&mut row);
    for _ in 0..height {
        match content {
            Content::Random => rng.fill(&mut row),
            Content::Small => {
                rng.fill(&mut row);
                row.iter_mut().for_each(|b| *b &= 15);
            }
            Content::Steady => {
                for _ in 0..row.len().div_ceil(80) {
                    let i = rng.below(row.len());
                    row[i] = rng.next_u64() as u8;
                }
            }
        }
        w.write_row(&row).unwrap();
    }
    let sink = w.finish().unwrap();
    let peak = counting::peak_since(base);
    (peak, sink.0)
}

#[test]
fn peak_memory_is_independent_of_height_and_linear_in_width() {
    // Bound at width 64: the encoder's state is under 1 MiB (the deflate
    // window buffer, hash heads and chains, one block of tokens, and the
    // compressed output awaiting a full IDAT chunk), plus O(width) for the
    // row buffers, a few hundred bytes at width 64; 64 KiB of margin.
    const BOUND_64: usize = (1 << 20) + (64 << 10);
    // Height independence: a 64x1000 and a 64x100000 image must peak within
    // this much of each other. (Images under 32 KiB of filtered data peak
    // lower: the fast levels then make no table of literal pairs.)
    const SLACK: usize = 1 << 10;

    let mut report = Vec::new();
    let mut failures = Vec::new();
    for &level in Compression::ALL {
        let name = level.to_string();
        let (short, _) = peak_for(64, 1000, level);
        let (tall, bytes) = peak_for(64, 100_000, level);
        report.push(format!(
            "{name:>8}: peak 64x1000 {short} B, 64x100000 {tall} B ({bytes} B of PNG)"
        ));
        if short.max(tall) > BOUND_64 {
            failures.push(format!(
                "{name}: peak {} B at width 64, above 1 MiB + 64 KiB = {BOUND_64} B",
                short.max(tall)
            ));
        }
        // The same with 64 KiB IDAT chunks set explicitly.
        let (small_idat, _) = peak_with(64, 10_000, level, Some(64 << 10), Content::Random, 0);
        report.push(format!(
            "{name:>8}: peak 64x10000 with 64 KiB IDAT chunks {small_idat} B"
        ));
        if small_idat > BOUND_64 {
            failures.push(format!(
                "{name}: peak {small_idat} B at width 64 with 64 KiB IDAT chunks, above {BOUND_64} B"
            ));
        }
        // Compressible rows: Huffman blocks, and at the fast levels the
        // buffer their symbols are written into.
        let (packed, packed_bytes) = peak_with(64, 100_000, level, None, Content::Small, 0);
        report.push(format!(
            "{name:>8}: peak 64x100000 of values 0 to 15 {packed} B ({packed_bytes} B of PNG)"
        ));
        if packed > BOUND_64 {
            failures.push(format!(
                "{name}: peak {packed} B at width 64 on compressible rows, above {BOUND_64} B"
            ));
        }
        if tall.abs_diff(short) > SLACK {
            failures.push(format!(
                "{name}: 64x1000 peaks at {short} B but 64x100000 at {tall} B (allowed: {SLACK} B apart)"
            ));
        }

        let widths = [1000u32, 2000, 4000];
        let peaks: Vec<usize> = widths.iter().map(|&w| peak_for(w, 200, level).0).collect();
        // Per 1000 px of width: 3000 bytes per RGB row. The writer holds a
        // few row-sized buffers (previous row, filtered row, room for a row's
        // output), so the growth per 1000 px must be at least one row and at
        // most a few; and it must be about the same from 1000 to 2000 as from
        // 2000 to 4000 (linear, not quadratic or stepping).
        let row = 3000isize;
        let d1 = peaks[1] as isize - peaks[0] as isize;
        let d2 = (peaks[2] as isize - peaks[1] as isize) / 2;
        report.push(format!(
            "{name:>8}: peak widths 1000/2000/4000 x200: {peaks:?} B; per 1000 px: \
             {d1} B (1000->2000), {d2} B (2000->4000)"
        ));
        for d in [d1, d2] {
            if d < row || d > 6 * row {
                failures.push(format!(
                    "{name}: peak grows {d} B per 1000 px, expected {row}..={} B",
                    6 * row
                ));
            }
        }
        if d1.abs_diff(d2) > 2 * row as usize {
            failures.push(format!(
                "{name}: growth not linear: {d1} B then {d2} B per 1000 px"
            ));
        }
    }
    parallel_peaks(&mut report, &mut failures);
    limited_parallel_peaks(&mut report, &mut failures);
    for line in &report {
        println!("{line}");
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// With threads: the peak does not depend on the height either, and stays
/// within the formula of `Options::threads`:
/// `(w + 2) × (S + D + T) + D + w × C + 4T + 4R + IDAT size`, with
/// `C` the documented bound of one thread's compressor and output room and
/// `T` one block of tokens.
fn parallel_peaks(report: &mut Vec<String>, failures: &mut Vec<String>) {
    const S: usize = PARALLEL_SEGMENT_SIZE;
    const D: usize = 32 << 10;
    // Allowance for the channels' blocks and the threads' bookkeeping.
    const SLACK: usize = 16 << 10;
    // One thread's compressor with room for its output (880 KiB at Best).
    const C: usize = 900 << 10;
    // The tokens of one open block: a segment may come back as them, and
    // the writer keeps a block of up to four times as many to join them.
    const T: usize = 4 * 16 * 1024 + 1280;
    const IDAT: usize = pngstream::DEFAULT_IDAT_SIZE as usize;
    let (width, row) = (64u32, 64 * 3);
    // Segments for every thread, one waiting and one collecting even at
    // 8 threads: 12 segments of random rows, then 74.
    let (short, tall) = (30_000, 200_000);
    for (level, threads, content) in [Compression::Default, Compression::Best]
        .into_iter()
        .flat_map(|l| [2usize, 4, 8].map(|t| (l, t)))
        .flat_map(|(l, t)| [Content::Random, Content::Steady].map(|c| (l, t, c)))
    {
        {
            let (low, _) = peak_with(width, short, level, None, content, threads);
            let (high, bytes) = peak_with(width, tall, level, None, content, threads);
            let bound = (threads + 2) * (S + D + T) + D + threads * C + 4 * T + 4 * row + IDAT;
            let rows = if content == Content::Random {
                "random"
            } else {
                "steady"
            };
            report.push(format!(
                "{level:>8}: {threads} threads, {rows} rows: peak 64x{short} {low} B, \
                 64x{tall} {high} B ({bytes} B of PNG); formula {bound} B"
            ));
            if high.abs_diff(low) > SLACK {
                failures.push(format!(
                    "{level} with {threads} threads: 64x{short} peaks at {low} B but \
                     64x{tall} at {high} B (allowed: {SLACK} B apart)"
                ));
            }
            if low.max(high) > bound + SLACK {
                failures.push(format!(
                    "{level} with {threads} threads: peak {} B above the formula's {bound} B",
                    low.max(high)
                ));
            }
        }
    }
}

/// With threads and `Options::memory_limit`: the writer starts as many
/// threads as fit (down to none) and the peak stays within the limit.
fn limited_parallel_peaks(report: &mut Vec<String>, failures: &mut Vec<String>) {
    let (width, height) = (64u32, 60_000);
    let mut row = vec![0u8; width as usize * 3];
    for level in [Compression::Default, Compression::Best] {
        let mut used_before = usize::MAX;
        for limit in [8usize << 20, 4 << 20, 3 << 20, 2 << 20, 1 << 20, 256 << 10] {
            let opts = Options::new(width, height, ColorType::Rgb)
                .compression(level)
                .threads(4)
                .memory_limit(limit);
            let mut rng = Rng::new(99);
            let base = counting::start();
            let mut w = StreamingWriter::with_options(CountingSink(0), &opts).unwrap();
            let used = w.threads();
            assert_eq!(used, opts.effective_threads());
            for _ in 0..height {
                rng.fill(&mut row);
                w.write_row(&row).unwrap();
            }
            w.finish().unwrap();
            let peak = counting::peak_since(base);
            report.push(format!(
                "{level:>8}: 4 threads asked under {limit} B: {used} used, peak {peak} B"
            ));
            if peak > limit {
                failures.push(format!(
                    "{level}, 4 threads under {limit} B ({used} used): peak {peak} B"
                ));
            }
            if used > used_before {
                failures.push(format!("{level}: more threads under a lower limit"));
            }
            used_before = used;
        }
        if used_before != 1 {
            failures.push(format!("{level}: threads under 256 KiB"));
        }
    }
}
