//! Encoding on several threads (`Options::threads`): the same file for
//! every thread count from 2 up, the strict decode for every format, level
//! and filter, segment boundaries wherever they can fall in the rows,
//! images of less than half a segment, and sinks that fail anywhere.

mod common;

use std::time::{Duration, Instant};

use common::bands::{Band, finish_rows, paint};
use common::{Case, Format, Rng, all_formats, check_png, chunks, decode_png};
use pngstream::{
    BitDepth, ColorType, Compression, Error, Filter, Options, PARALLEL_SEGMENT_SIZE as SEG, Sink,
    StreamingWriter,
};

/// An image of bands of mixed content (ramps, noise, repeats near and far,
/// random bytes, flat runs, motifs) for `case`, its indexes below
/// `entries` in an indexed image.
fn banded(rng: &mut Rng, case: &Case, entries: usize) -> Vec<u8> {
    let layout = case.layout();
    let total = layout.row_bytes * case.height as usize;
    let mut img = vec![0u8; total];
    let mut pos = 0;
    while pos < total {
        let len = rng.range(64, 200_000).min(total - pos);
        let band = Band::random(rng);
        paint(rng, &mut img, layout, pos, pos + len, band);
        pos += len;
    }
    let indexed = case.fmt.color == ColorType::Indexed;
    finish_rows(&mut img, layout, indexed.then_some(entries));
    img
}

/// An 8-bit RGB case with the adaptive filter.
fn rgb(width: u32, height: u32, level: Compression) -> Case {
    Case {
        width,
        height,
        fmt: Format {
            color: ColorType::Rgb,
            depth: BitDepth::Eight,
        },
        filter: Filter::Adaptive,
        level,
        palette: None,
        trns: None,
        idat: None,
    }
}

/// Encodes `img` row by row on `threads` threads.
fn encode(case: &Case, img: &[u8], threads: usize) -> Vec<u8> {
    let options = case.options().threads(threads);
    let mut w = StreamingWriter::with_options(Vec::new(), &options)
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
    for row in img.chunks(w.row_bytes()) {
        w.write_row(row).unwrap_or_else(|e| panic!("{case:?}: {e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{case:?}: {e}"))
}

/// Encodes `img` on `threads` threads in random pieces through `write_bytes`.
fn encode_pieces(rng: &mut Rng, case: &Case, img: &[u8], threads: usize) -> Vec<u8> {
    let options = case.options().threads(threads);
    let mut w = StreamingWriter::with_options(Vec::new(), &options).unwrap();
    let n = w.row_bytes();
    let mut pos = 0;
    while pos < img.len() {
        let k = match rng.below(3) {
            0 => rng.range(1, 16),
            1 => rng.range(1, 3 * n),
            _ => rng.range(1, 1 << 18),
        }
        .min(img.len() - pos);
        w.write_bytes(&img[pos..pos + k]).unwrap();
        pos += k;
    }
    w.finish().unwrap()
}

/// Filtered bytes of `case`: a filter byte and a row per row.
fn filtered_len(case: &Case) -> usize {
    (case.fmt.row_bytes(case.width) + 1) * case.height as usize
}

/// The file of 2 threads is at most `percent` % larger than one thread's.
fn assert_within(percent: f64, level: Compression, one: &[u8], two: &[u8]) {
    let over = two.len() as f64 / one.len() as f64 - 1.0;
    println!(
        "{level:?}: 1 thread {} B, 2 threads {} B ({:+.3} %)",
        one.len(),
        two.len(),
        over * 100.0
    );
    assert!(
        over * 100.0 <= percent,
        "{level:?}: {} vs {}",
        two.len(),
        one.len()
    );
}

#[test]
fn every_thread_count_from_two_gives_the_same_file() {
    let mut rng = Rng::new(15);
    // About 3.5 segments of mixed content.
    for level in [Compression::Default, Compression::Best] {
        let case = rgb(1111, 600, level);
        assert!(filtered_len(&case) > 3 * SEG);
        let img = banded(&mut rng, &case, 0);
        let one = encode(&case, &img, 1);
        check_png(&one, &case, &img);
        let two = encode(&case, &img, 2);
        check_png(&two, &case, &img);
        for threads in [3, 8] {
            assert!(
                encode(&case, &img, threads) == two,
                "{level:?}: {threads} threads"
            );
        }
        // Rows in random pieces change nothing.
        assert!(encode_pieces(&mut rng, &case, &img, 3) == two, "{level:?}");
        // Each segment restarts the statistics and ends with 5 bytes.
        assert_within(1.0, level, &one, &two);
    }
}

#[test]
fn segments_of_a_smooth_image_share_blocks() {
    // The article's gradient at 2000 x 2000 (12 MB, 24 segments of 83
    // or 84 rows): each segment compresses to about 250 bytes, one block. They
    // come back as the tokens of an open block and are joined, so the file
    // stays within 0.3 % of one thread's (-0.04 % at Default, +0.07 % at
    // Best); ended each on its own (a block and a 5-byte stored block per
    // segment) it was 4 % larger, and with segments cut inside rows
    // (splitting runs of matches) +0.36 % at Default.
    let (width, height) = (2000u32, 2000u32);
    let mut img = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let fx = x as f64 / width as f64;
            img.push((fx * 255.0) as u8);
            img.push((y as f64 / height as f64 * 255.0) as u8);
            img.push(((1.0 - fx) * 255.0) as u8);
        }
    }
    for level in [Compression::Default, Compression::Best] {
        let case = rgb(width, height, level);
        let one = encode(&case, &img, 1);
        let two = encode(&case, &img, 2);
        check_png(&two, &case, &img);
        assert!(encode(&case, &img, 3) == two, "{level:?}: 3 threads");
        assert_within(0.3, level, &one, &two);
    }
}

#[test]
fn threads_serve_the_matching_levels_and_images_of_half_a_segment_or_more() {
    let big = Options::new(1000, 1000, ColorType::Rgb);
    for &level in Compression::ALL {
        let o = big.clone().compression(level).threads(4);
        let expected = match level {
            Compression::Default | Compression::Best => 4,
            _ => 1,
        };
        assert_eq!(o.effective_threads(), expected, "{level:?}");
        let w = StreamingWriter::with_options(Vec::new(), &o).unwrap();
        assert_eq!(w.threads(), expected, "{level:?}");
    }
    assert_eq!(big.clone().threads(0).effective_threads(), 1);
    assert_eq!(big.clone().threads(1).effective_threads(), 1);
    // 1000 rows of 3001 filtered bytes, at most 174 in a segment: six
    // segments, six threads at most.
    assert_eq!(big.clone().threads(64).effective_threads(), 6);
    let rows = |h: u32| Options::new(1000, h, ColorType::Rgb).threads(64);
    // Three segments' worth is cut into four.
    assert_eq!(rows(2 * 174 + 1).effective_threads(), 4);
    // One segment's worth is cut into two.
    assert_eq!(rows(174).effective_threads(), 2);
    // Half a segment or more: two; less: the calling thread encodes it.
    let half = (SEG / 2).div_ceil(3001) as u32;
    assert_eq!(rows(half).effective_threads(), 2);
    assert_eq!(rows(half - 1).effective_threads(), 1);
    // Invalid options: nothing to run.
    assert_eq!(
        Options::new(0, 1, ColorType::Rgb)
            .threads(8)
            .effective_threads(),
        1
    );
}

#[test]
fn images_of_less_than_half_a_segment_are_the_files_of_one_thread() {
    let mut rng = Rng::new(7);
    let rows = ((SEG / 2 - 1) / 3001) as u32;
    for (w, h) in [(1, 1), (7, 3), (100, 100), (1000, rows)] {
        for level in [Compression::Default, Compression::Best] {
            let case = rgb(w, h, level);
            let img = banded(&mut rng, &case, 0);
            let one = encode(&case, &img, 1);
            check_png(&one, &case, &img);
            assert!(encode(&case, &img, 4) == one, "{w}x{h} {level:?}");
        }
    }
}

#[test]
fn segment_boundaries_anywhere_in_the_rows() {
    let mut rng = Rng::new(99);
    // (width, height) of 8-bit greyscale rows of `width + 1` filtered
    // bytes, and the segments they are cut into: an even number of about
    // the same length, at most a segment each, or one below half a
    // segment.
    let s = SEG as u32;
    let cases = [
        // Rows of a quarter segment (longer than an eighth: cut anywhere),
        // 3 segments' worth: four, cut where rows start.
        (s / 4 - 1, 12, 4),
        // Rows of 10 000 bytes: 52 in a segment, 170 in four segments
        // cut where rows 42, 85 and 127 start.
        (9_999, 170, 4),
        // Rows of a segment, 3 of them: four segments, cut inside the
        // first, the middle and the last row.
        (s - 1, 3, 4),
        // Rows longer than a segment: several cuts inside each row.
        (s + s / 2, 3, 6),
        (3 * s + 17, 2, 8),
        // One row of several segments.
        (4 * s + 1000, 1, 6),
        // Two rows just over half a segment each: two segments, cut where
        // the second row starts.
        (s / 2 + 3, 2, 2),
        // One row of half a segment: two segments in it; a byte less: one.
        (s / 2 - 1, 1, 2),
        (s / 2 - 2, 1, 1),
        // Short rows just under and just over half a segment.
        (999, 262, 1),
        (999, 263, 2),
    ];
    for (w, h, segments) in cases {
        let options = Options::new(w, h, ColorType::Grayscale);
        // No more threads than segments: with 64 asked for, the segments.
        assert_eq!(
            options.clone().threads(64).effective_threads(),
            segments,
            "{w}x{h}"
        );
        for level in [Compression::Default, Compression::Best] {
            let case = Case {
                fmt: Format {
                    color: ColorType::Grayscale,
                    depth: BitDepth::Eight,
                },
                ..rgb(w, h, level)
            };
            let img = banded(&mut rng, &case, 0);
            let two = encode(&case, &img, 2);
            check_png(&two, &case, &img);
            assert!(encode(&case, &img, 3) == two, "{w}x{h} {level:?}");
            if segments == 1 {
                assert!(encode(&case, &img, 1) == two, "{w}x{h} {level:?}");
            }
        }
    }
}

#[test]
fn narrow_rows_of_noise_take_more_room_than_they_had() {
    // A byte per row and a filter byte: the compressed data outgrows the
    // rows it replaces in the segment's buffer, and the rest waits in the
    // worker until the segment ends.
    let mut rng = Rng::new(4);
    for (w, depth) in [
        (1, BitDepth::Eight),
        (8, BitDepth::One),
        (3, BitDepth::Sixteen),
    ] {
        for level in [Compression::Default, Compression::Best] {
            let case = Case {
                fmt: Format {
                    color: ColorType::Grayscale,
                    depth,
                },
                // Filter types that vary from row to row: about 10 bits
                // of output for each byte of the row.
                filter: Filter::Entropy,
                ..rgb(w, 0, level)
            };
            let n = case.fmt.row_bytes(w);
            let case = Case {
                height: (3 * SEG / (n + 1)) as u32 + 5,
                ..case
            };
            let img = rng.bytes(n * case.height as usize);
            let two = encode(&case, &img, 2);
            check_png(&two, &case, &img);
            assert!(encode(&case, &img, 3) == two, "{w} px {depth:?} {level:?}");
        }
    }
}

#[test]
fn every_format_level_and_filter_round_trips_with_threads() {
    let mut rng = Rng::new(2);
    for fmt in all_formats() {
        // Just over one segment, so that every image has two.
        let bits = fmt.bits_per_pixel();
        let width = rng.range(300, 900) as u32;
        let n = (width as usize * bits).div_ceil(8);
        let height = (SEG + SEG / 20).div_ceil(n + 1) as u32;
        let (palette, entries) = if fmt.color == ColorType::Indexed {
            let entries = rng.range(1, 1 << fmt.depth.bits());
            (Some(rng.bytes(3 * entries)), entries)
        } else {
            (None, 0)
        };
        let base = Case {
            width,
            height,
            fmt,
            filter: Filter::None,
            level: Compression::Default,
            palette,
            trns: None,
            idat: None,
        };
        let img = banded(&mut rng, &base, entries);
        for &level in Compression::ALL {
            for &filter in Filter::ALL {
                let case = Case {
                    level,
                    filter,
                    ..base.clone()
                };
                let png = encode(&case, &img, 2);
                check_png(&png, &case, &img);
            }
        }
    }
}

#[test]
fn idat_chunks_are_cut_from_the_joined_stream() {
    let mut rng = Rng::new(3);
    let mut case = rgb(800, 500, Compression::Default);
    let img = banded(&mut rng, &case, 0);
    for idat in [1u32, 7, 1000, 65_536, 1 << 22] {
        case.idat = Some(idat);
        let png = encode(&case, &img, 2);
        check_png(&png, &case, &img);
        let sizes: Vec<usize> = chunks(&png)
            .into_iter()
            .filter(|c| &c.0 == b"IDAT")
            .map(|c| c.1.len())
            .collect();
        // Every chunk full but the last, whatever the segments.
        let (last, full) = sizes.split_last().unwrap();
        assert!(full.iter().all(|&s| s == idat as usize), "idat {idat}");
        assert!(*last >= 1 && *last <= idat as usize, "idat {idat}");
    }
}

/// A sink that fails once `limit` bytes have been written, and counts the
/// calls after that.
struct Failing {
    out: Vec<u8>,
    limit: usize,
    after: usize,
}

#[derive(Debug)]
struct Full;

impl Sink for Failing {
    type Error = Full;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Full> {
        if self.out.len() + buf.len() > self.limit {
            self.after += 1;
            return Err(Full);
        }
        self.out.extend_from_slice(buf);
        Ok(())
    }
}

#[test]
fn a_failing_sink_anywhere_stops_the_threads_and_is_reported() {
    let mut rng = Rng::new(5);
    for level in [Compression::Default, Compression::Best] {
        let mut case = rgb(700, 800, level);
        case.idat = Some(rng.range(1000, 40_000) as u32);
        let img = banded(&mut rng, &case, 0);
        let whole = encode(&case, &img, 3);
        let mut limits: Vec<usize> = (0..40).map(|i| whole.len() * i / 40).collect();
        limits.extend([0, 7, 8, 33, 50, whole.len() - 12, whole.len() - 1]);
        for limit in limits {
            let mut sink = Failing {
                out: Vec::new(),
                limit,
                after: 0,
            };
            let options = case.options().threads(3);
            let failed = match StreamingWriter::with_options(&mut sink, &options) {
                Err(e) => Some(e),
                Ok(mut w) => {
                    let mut failed = None;
                    for row in img.chunks(w.row_bytes()) {
                        if let Err(e) = w.write_row(row) {
                            failed = Some(e);
                            break;
                        }
                    }
                    if let Some(e) = failed {
                        // Poisoned for good, and nothing more reaches the sink.
                        assert!(matches!(
                            w.write_row(&img[..w.row_bytes()]),
                            Err(Error::Poisoned)
                        ));
                        assert!(matches!(w.finish(), Err(Error::Poisoned)));
                        Some(e)
                    } else {
                        w.finish().err()
                    }
                }
            };
            let e = failed.unwrap_or_else(|| panic!("{level:?}: limit {limit} did not fail"));
            assert!(
                matches!(e, Error::Sink(Full)),
                "{level:?} limit {limit}: {e:?}"
            );
            assert_eq!(sink.after, 1, "{level:?} limit {limit}");
            // What did reach the sink is the start of the whole file, and
            // never its end.
            assert!(whole.starts_with(&sink.out), "{level:?} limit {limit}");
            assert!(
                !sink.out.ends_with(b"IEND\xae\x42\x60\x82"),
                "limit {limit}"
            );
        }
    }
}

#[test]
fn a_writer_dropped_early_stops_its_threads_without_ending_the_file() {
    let mut rng = Rng::new(8);
    let case = rgb(2000, 1000, Compression::Best);
    let img = banded(&mut rng, &case, 0);
    let n = case.fmt.row_bytes(case.width);
    for rows in [0, 1, 300, 999] {
        let mut out = Vec::new();
        let start = Instant::now();
        {
            let options = case.options().threads(4);
            let mut w = StreamingWriter::with_options(&mut out, &options).unwrap();
            for row in img.chunks(n).take(rows) {
                w.write_row(row).unwrap();
            }
        }
        // The threads drop their segments at the next row: no waiting for
        // the rest of the compression (seconds at this level).
        assert!(start.elapsed() < Duration::from_secs(60), "{rows} rows");
        assert!(decode_png(&out).is_err(), "{rows} rows");
        let kinds: Vec<[u8; 4]> = common::raw_chunks(&out).into_iter().map(|c| c.0).collect();
        assert!(!kinds.contains(b"IEND"), "{rows} rows");
    }
}

#[test]
fn encode_in_memory_uses_the_threads_too() {
    let mut rng = Rng::new(11);
    let case = rgb(1500, 400, Compression::Default);
    let img = banded(&mut rng, &case, 0);
    let whole = pngstream::encode(&case.options().threads(2), &img).unwrap();
    check_png(&whole, &case, &img);
    assert!(whole == encode(&case, &img, 5));
}

#[test]
fn the_writer_stays_send_and_sync() {
    fn both<T: Send + Sync>() {}
    both::<StreamingWriter<Vec<u8>>>();
    both::<Error<std::io::Error>>();
}
