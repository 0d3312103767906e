//! Soak test: seeded images of 100 KB to 30 MB raw, made of bands of mixed
//! content (smooth, noisy, repeated, random, flat, motifs) at random band
//! lengths, over every colour type and bit depth, every level and filter,
//! several IDAT sizes, with rows fed whole or in random-sized pieces, on one
//! thread or (a quarter of the cases) on 2 to 4 (`Options::threads`), and
//! in a third of the cases under a memory limit of 4 KiB to 1 MiB
//! (`Options::memory_limit`; raised to what the image needs when below). Every
//! file goes through the strict decode (every CRC, the Adler-32, the exact
//! length) and must give back exactly the pixels written.
//!
//! Megabyte inputs are the point: they reach window slides, segment
//! hand-overs and block-size limits that kilobyte inputs never do.
//!
//! Ignored by default; run it with a time budget:
//!
//! ```text
//! PNGSTREAM_SOAK_SECS=600 cargo test --release --test soak -- --ignored --nocapture
//! ```
//!
//! `PNGSTREAM_SOAK_SEED` picks the first seed (default: from the clock, and
//! printed); each image has its own seed, printed with any failure, and
//! `PNGSTREAM_SOAK_SEED=S PNGSTREAM_SOAK_CASES=1` replays one image.
//! The corpus test re-encodes `../shared/corpus/bench/` at every level and
//! filter (skipped with a notice where the corpus is missing, failing under
//! `PNGSTREAM_STRICT=1`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::bands::{Band, finish_rows, paint};
use common::{Case, Format, Rng, all_formats, check_png, strict};
use pngstream::{BitDepth, ColorType, Compression, Error, Filter, StreamingWriter};

/// Makes the image of `case` from bands of random kinds, 64 bytes to 4 MiB
/// long (evenly on a log scale); indexes stay below `entries`.
fn make_image(rng: &mut Rng, case: &Case, entries: usize) -> Vec<u8> {
    let layout = case.layout();
    let total = layout.row_bytes * case.height as usize;
    let mut img = vec![0u8; total];
    let mut pos = 0;
    while pos < total {
        let band = Band::random(rng);
        let len =
            ((64.0 * 65536f64.powf(rng.below(1001) as f64 / 1000.0)) as usize).min(total - pos);
        paint(rng, &mut img, layout, pos, pos + len, band);
        pos += len;
    }
    let indexed = case.fmt.color == ColorType::Indexed;
    finish_rows(&mut img, layout, indexed.then_some(entries));
    img
}

/// One soak case: geometry, format, level, filter, IDAT size and feeding.
fn make_case(rng: &mut Rng) -> (Case, usize, bool) {
    let formats = all_formats();
    let fmt = formats[rng.below(formats.len())];
    // The matching levels, whose state crosses blocks, get half the cases.
    const LEVELS: [Compression; 8] = [
        Compression::Stored,
        Compression::Fastest,
        Compression::Fast,
        Compression::Fast,
        Compression::Default,
        Compression::Default,
        Compression::Default,
        Compression::Best,
    ];
    let level = LEVELS[rng.below(LEVELS.len())];
    let filter = Filter::ALL[rng.below(Filter::ALL.len())];
    // 100 KB to 30 MB raw, evenly on a log scale.
    let raw = (100_000f64 * (300f64).powf(rng.below(1001) as f64 / 1000.0)) as usize;
    let bpp = fmt.bits_per_pixel();
    let width = match rng.below(5) {
        0 => rng.range(1, 64),
        1 | 2 => rng.range(64, 2048),
        3 => rng.range(2048, 8192),
        // Huge widths: a few rows of hundreds of kilobytes.
        _ => rng.range(50_000, 400_000),
    } as u32;
    let n = (width as usize * bpp).div_ceil(8);
    let height = (raw / n).clamp(1, 1 << 20) as u32;
    let idat = match rng.below(5) {
        0 => Some(rng.range(1, 300) as u32),
        1 => Some(8192),
        2 => Some(rng.range(1000, 1 << 20) as u32),
        _ => None,
    };
    let (palette, entries) = if fmt.color == ColorType::Indexed {
        let all = 1usize << fmt.depth.bits();
        let entries = if rng.below(2) == 0 {
            all
        } else {
            rng.range(1, all)
        };
        (Some(rng.bytes(3 * entries)), entries)
    } else {
        (None, 0)
    };
    let trns = match fmt.color {
        ColorType::Indexed if rng.below(3) == 0 => {
            let k = rng.range(1, entries);
            Some(rng.bytes(k))
        }
        ColorType::Grayscale | ColorType::Rgb if rng.below(4) == 0 => {
            let max = (1u32 << fmt.depth.bits()) - 1;
            let k = fmt.color.channels() as usize;
            Some(
                (0..k)
                    .flat_map(|_| ((rng.next_u64() as u32 & max) as u16).to_be_bytes())
                    .collect(),
            )
        }
        _ => None,
    };
    let case = Case {
        width,
        height,
        fmt,
        filter,
        level,
        palette,
        trns,
        idat,
    };
    (case, entries, rng.below(2) == 0)
}

/// The threads for the image of `seed`: 1 most of the time, 2 to 4 in a
/// quarter of the cases. Drawn from a generator of its own, so that each
/// seed keeps the image and case it had before threads were drawn.
fn threads_for(seed: u64) -> usize {
    let mut rng = Rng::new(seed ^ 0x7468_7265_6164_7321);
    if rng.below(4) == 0 {
        rng.range(2, 4)
    } else {
        1
    }
}

/// The memory limit for the image of `seed`: none most of the time, 4 KiB
/// to 1 MiB (even in powers of two) in a third of the cases. Drawn from a
/// generator of its own, as the threads are.
fn limit_for(seed: u64) -> Option<usize> {
    let mut rng = Rng::new(seed ^ 0x6c69_6d69_7473_2121);
    if rng.below(3) == 0 {
        let bits = rng.range(12, 20) as u32;
        Some((1 << bits) + rng.below(1 << bits))
    } else {
        None
    }
}

/// Encodes `img` on `threads` threads, whole row by row, or in random-sized
/// pieces through `write_bytes` (from single bytes to several rows), under
/// `limit` when there is one (raised to what the image needs at least when
/// it is below). Returns the file and the window the writer chose.
fn encode(
    rng: &mut Rng,
    case: &Case,
    img: &[u8],
    pieces: bool,
    threads: usize,
    limit: Option<usize>,
) -> (Vec<u8>, usize) {
    let mut options = case.options().threads(threads);
    if let Some(l) = limit {
        options = options.memory_limit(l);
    }
    let mut w = match StreamingWriter::with_options(Vec::new(), &options) {
        Err(Error::MemoryLimit { needed, .. }) => {
            StreamingWriter::with_options(Vec::new(), &options.memory_limit(needed))
                .unwrap_or_else(|e| panic!("at the limit it asked for: {e}"))
        }
        r => r.unwrap_or_else(|e| panic!("{e}")),
    };
    let window = w.window_size();
    let n = case.fmt.row_bytes(case.width);
    if pieces {
        let mut pos = 0;
        while pos < img.len() {
            let k = match rng.below(4) {
                0 => rng.range(1, 16),
                1 => rng.range(1, n),
                2 => rng.range(n, 4 * n),
                _ => rng.range(1, 1 << 17),
            }
            .min(img.len() - pos);
            w.write_bytes(&img[pos..pos + k])
                .unwrap_or_else(|e| panic!("{e}"));
            pos += k;
        }
    } else {
        for row in img.chunks(n) {
            w.write_row(row).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    (w.finish().unwrap_or_else(|e| panic!("{e}")), window)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number"))
    })
}

#[test]
#[ignore = "long: run with PNGSTREAM_SOAK_SECS and --ignored"]
fn soak_mixed_megabyte_images_round_trip_exactly() {
    let budget = Duration::from_secs(env_u64("PNGSTREAM_SOAK_SECS").unwrap_or(60));
    let max_cases = env_u64("PNGSTREAM_SOAK_CASES").unwrap_or(u64::MAX);
    let first = env_u64("PNGSTREAM_SOAK_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            * 1000
    });
    let verbose = std::env::var_os("PNGSTREAM_SOAK_VERBOSE").is_some();
    println!("soak: first seed {first}, budget {budget:?}");
    let start = Instant::now();
    let (mut images, mut raw, mut png_bytes) = (0u64, 0u64, 0u64);
    let mut per_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_format: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_filter: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_threads: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_window: BTreeMap<usize, u64> = BTreeMap::new();
    let mut pieces_fed = 0u64;
    let mut seed = first;
    while start.elapsed() < budget && images < max_cases {
        let mut rng = Rng::new(seed);
        let (case, entries, pieces) = make_case(&mut rng);
        let threads = threads_for(seed);
        let limit = limit_for(seed);
        let img = make_image(&mut rng, &case, entries);
        // The threads the writer starts: 1 for the levels and images they
        // do not serve.
        let mut asked = case.options().threads(threads);
        if let Some(l) = limit {
            asked = asked.memory_limit(l);
        }
        let used = asked.effective_threads();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let (png, window) = encode(&mut rng, &case, &img, pieces, threads, limit);
            check_png(&png, &case, &img);
            (png.len(), window)
        }));
        match result {
            Ok((len, window)) => {
                if limit.is_some() {
                    *per_window.entry(window).or_default() += 1;
                }
                png_bytes += len as u64;
                if verbose {
                    println!(
                        "seed {seed}: {} x {} {} {:?} {:?} idat {:?} pieces {pieces} \
                         threads {threads} ({used} used) limit {limit:?} window {window}: \
                         {} -> {len} bytes",
                        case.width,
                        case.height,
                        case.fmt.name(),
                        case.level,
                        case.filter,
                        case.idat,
                        img.len()
                    );
                }
            }
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!(
                    "soak failure at seed {seed} (replay: PNGSTREAM_SOAK_SEED={seed} \
                     PNGSTREAM_SOAK_CASES=1): {} x {} {}, {:?}, {:?}, idat {:?}, \
                     pieces {pieces}, threads {threads} ({used} used), limit {limit:?}: {msg}",
                    case.width,
                    case.height,
                    case.fmt.name(),
                    case.level,
                    case.filter,
                    case.idat
                );
            }
        }
        images += 1;
        raw += img.len() as u64;
        pieces_fed += pieces as u64;
        *per_level.entry(format!("{:?}", case.level)).or_default() += 1;
        *per_format.entry(case.fmt.name()).or_default() += 1;
        *per_filter.entry(format!("{:?}", case.filter)).or_default() += 1;
        *per_threads
            .entry(format!("{threads} asked, {used} used"))
            .or_default() += 1;
        seed += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "soak: {images} images, {:.3} GB raw, {:.3} GB of PNG, {secs:.0} s, seeds {first}..{seed}",
        raw as f64 / 1e9,
        png_bytes as f64 / 1e9
    );
    println!(
        "soak: rows fed in pieces {pieces_fed}, whole {}",
        images - pieces_fed
    );
    println!("soak: per level {per_level:?}");
    println!("soak: per filter {per_filter:?}");
    println!("soak: per format {per_format:?}");
    println!("soak: per thread count {per_threads:?}");
    println!(
        "soak: under a memory limit {} images, per window chosen {per_window:?}",
        per_window.values().sum::<u64>()
    );
    assert!(images > 0, "the budget allowed no image");
}

/// The bench corpus, decoded, then encoded again at every level and filter
/// with rows fed in random pieces, through the strict decode.
#[test]
#[ignore = "long: run with --ignored"]
fn bench_corpus_round_trips_at_every_level_and_filter() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/bench");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(
            !strict(),
            "bench corpus missing at {} and PNGSTREAM_STRICT=1",
            dir.display()
        );
        println!(
            "NOTICE: bench corpus not found at {}; skipped",
            dir.display()
        );
        return;
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no PNG in {}", dir.display());
    let start = Instant::now();
    let mut encodes = 0;
    let mut rng = Rng::new(2026);
    for path in &paths {
        let src = common::decode_foreign(&std::fs::read(path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let color = ColorType::ALL
            .into_iter()
            .find(|c| c.code() == src.color_code)
            .unwrap();
        let fmt = Format {
            color,
            depth: BitDepth::from_bits(src.bits).unwrap(),
        };
        for &level in Compression::ALL {
            for &filter in Filter::ALL {
                let case = Case {
                    width: src.width,
                    height: src.height,
                    fmt,
                    filter,
                    level,
                    palette: src.palette.clone(),
                    trns: src.trns.clone().filter(|_| color == ColorType::Indexed),
                    idat: None,
                };
                let threads = if rng.below(4) == 0 {
                    rng.range(2, 4)
                } else {
                    1
                };
                let (png, _) = encode(&mut rng, &case, &src.data, true, threads, None);
                check_png(&png, &case, &src.data);
                encodes += 1;
            }
        }
        println!(
            "corpus: {} ok ({:.0} s so far)",
            path.file_name().unwrap().to_string_lossy(),
            start.elapsed().as_secs_f64()
        );
    }
    println!(
        "corpus: {} images, {encodes} encodes, {:.0} s",
        paths.len(),
        start.elapsed().as_secs_f64()
    );
}
