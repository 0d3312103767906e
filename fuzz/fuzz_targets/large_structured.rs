//! Large images from compact recipes: a geometry, a format, a level, a
//! filter, an IDAT size, a way of feeding the rows, and a list of bands
//! (kind, length, parameters) that expands to images of up to 6 MiB. Small
//! inputs thus reach what only megabytes reach: window slides, blocks
//! flushed by a slide, hand-overs between matching and run-length coding,
//! full token blocks and stored runs. Every file goes through the strict
//! decode and must give back exactly the pixels written.
//!
//! Every 256 runs the harness prints how often each of those paths has run
//! so far (`paths: slide=… leave_lazy_after_slide=…`), from counters the
//! compressor keeps under the `__internal` feature.

#![no_main]

use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pngstream::{ColorType, Compression, Error, StreamingWriter};
use pngstream_fuzz::kit::Rng;
use pngstream_fuzz::kit::bands::{Band, Layout, finish_rows, paint};
use pngstream_fuzz::{FILTERS, FORMATS, Params, check_png};

/// Raw bytes at most: large enough for many slides of the 256 KiB window
/// and several 128 KiB segments, small enough for a run in seconds.
const MAX_RAW: usize = 6 << 20;

/// The matching levels, whose state crosses blocks, come up most.
const LEVELS: [Compression; 8] = [
    Compression::Default,
    Compression::Default,
    Compression::Default,
    Compression::Best,
    Compression::Best,
    Compression::Fast,
    Compression::Fastest,
    Compression::Stored,
];

#[derive(Arbitrary, Debug)]
struct BandRecipe {
    kind: u8,
    /// Length: 2^(8 + log % 15) bytes (256 B to 4 MiB) plus `extra`.
    log: u8,
    extra: u16,
    param: u32,
}

#[derive(Arbitrary, Debug)]
struct Recipe {
    /// 1 to 65536 pixels; ×16 when `wide` (huge rows).
    width: u16,
    wide: bool,
    format: u8,
    level: u8,
    filter: u8,
    /// 0: default IDAT size; else 1 to 2^20 bytes on a log scale.
    idat: u8,
    /// 0: no memory limit; else 4 KiB to 1 MiB (raised to what the image
    /// needs at least when below).
    limit: u8,
    /// 0: `write_row` per row; else `write_bytes` in pieces from this seed.
    pieces: u32,
    seed: u64,
    bands: Vec<BandRecipe>,
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

fn report() {
    let runs = RUNS.fetch_add(1, Ordering::Relaxed) + 1;
    if runs % 256 == 0 {
        let paths: Vec<String> = pngstream::internal::path_counts()
            .map(|(name, n)| format!("{name}={n}"))
            .collect();
        eprintln!("paths after {runs} runs: {}", paths.join(" "));
    }
}

fuzz_target!(|r: Recipe| {
    let (color, depth) = FORMATS[r.format as usize % FORMATS.len()];
    let width = (1 + r.width as u32) * if r.wide { 16 } else { 1 };
    let bits = color.channels() as usize * depth.bits() as usize;
    let n = (width as usize * bits).div_ceil(8);
    let wanted: usize = r
        .bands
        .iter()
        .map(|b| (256usize << (b.log % 15)) + b.extra as usize)
        .sum();
    let height = (wanted.min(MAX_RAW) / n).max(1) as u32;
    let mut rng = Rng::new(r.seed);
    let entries = 1 + rng.below(1 << depth.bits().min(8));
    let palette = (color == ColorType::Indexed).then(|| rng.bytes(3 * entries));
    let p = Params {
        width,
        height,
        color,
        depth,
        palette,
        trns: None,
        filter: Some(FILTERS[r.filter as usize % FILTERS.len()]),
        level: Some(LEVELS[r.level as usize % LEVELS.len()]),
        idat: (r.idat != 0).then(|| 1 << (r.idat % 21)),
    };

    let layout = Layout {
        row_bytes: n,
        samples: width as usize * color.channels() as usize,
        depth: depth.bits() as usize,
    };
    let total = n * height as usize;
    let mut img = vec![0u8; total];
    let mut pos = 0;
    for b in r.bands.iter().cycle().take(r.bands.len().max(1) * 64) {
        if pos == total {
            break;
        }
        let len = ((256usize << (b.log % 15)) + b.extra as usize).min(total - pos);
        paint(
            &mut rng,
            &mut img,
            layout,
            pos,
            pos + len,
            Band::from_bits(b.kind, b.param),
        );
        pos += len;
    }
    rng.fill(&mut img[pos..]);
    finish_rows(
        &mut img,
        layout,
        (color == ColorType::Indexed).then_some(entries),
    );

    let mut options = p.options();
    if r.limit != 0 {
        let limit = (1usize << (12 + r.limit as u32 % 9)) + 37 * (r.limit as usize / 9);
        options = options.memory_limit(limit);
        // A limit below what the image needs is refused before anything is
        // written; the limit it names is enough.
        if let Err(Error::MemoryLimit { needed, .. }) =
            StreamingWriter::with_options(Vec::new(), &options)
        {
            assert!(needed > limit);
            options = options.memory_limit(needed);
        }
    }
    let mut out = Vec::new();
    let mut w = StreamingWriter::with_options(&mut out, &options)
        .unwrap_or_else(|e| panic!("valid recipe refused: {p:?}: {e}"));
    if r.pieces == 0 {
        for row in img.chunks(n) {
            w.write_row(row).unwrap();
        }
    } else {
        let mut cut = Rng::new(r.pieces as u64);
        let mut at = 0;
        while at < img.len() {
            let k = match cut.below(3) {
                0 => 1 + cut.below(16),
                1 => 1 + cut.below(2 * n),
                _ => 1 + cut.below(1 << 17),
            }
            .min(img.len() - at);
            w.write_bytes(&img[at..at + k]).unwrap();
            at += k;
        }
    }
    w.finish()
        .unwrap_or_else(|e| panic!("finish of {p:?}: {e}"));
    check_png(&out, &p, &img);
    report();
});
