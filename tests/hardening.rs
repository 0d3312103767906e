//! Hostile sizes: dimensions at and beyond PNG's 2^31 − 1, rows too large to
//! allocate, row sizes that overflow `usize` on 32-bit targets, palettes of
//! 0 and 257 entries, IDAT chunk sizes of 0, 1 and 2^31. Each must give a
//! specific error, or work, and never overflow or panic.
//!
//! CI also runs this file in release mode with overflow checks on:
//! `RUSTFLAGS="-C overflow-checks=on" cargo test --release --test hardening`.
//!
//! Rows of the widest images are up to 17 GB (2^31 − 1 RGBA16 pixels). The
//! writer allocates with `try_reserve` and reports `Error::OutOfMemory`, but
//! on a machine with more memory than that (and Linux's default overcommit),
//! an allocation that large can succeed, and zeroing it would really use it.
//! The tests that make such writers therefore run in a child process whose
//! address space is capped with `ulimit -v` (Linux only), where the
//! allocation fails for certain and nothing large is ever touched.

use std::io::Cursor;

use pngstream::{
    BitDepth, ColorType, Compression, Error, Filter, MAX_DIMENSION, Options, StreamingWriter,
};

/// Every colour type with every depth PNG allows for it.
fn formats() -> Vec<(ColorType, BitDepth)> {
    let mut v = Vec::new();
    for c in ColorType::ALL {
        for d in BitDepth::ALL {
            if c.allows(d) {
                v.push((c, d));
            }
        }
    }
    v
}

/// Options that are valid apart from the size (indexed images get a full
/// palette of 2^depth entries, so that any byte is a valid row).
fn options(width: u32, height: u32, color: ColorType, depth: BitDepth) -> Options {
    let o = Options::new(width, height, color).bit_depth(depth);
    if color == ColorType::Indexed {
        o.palette(&vec![0x5A; 3 << depth.bits()])
    } else {
        o
    }
}

/// Row bytes computed here in 128 bits.
fn exact_row_bytes(width: u32, color: ColorType, depth: BitDepth) -> u128 {
    (width as u128 * color.channels() as u128 * depth.bits() as u128).div_ceil(8)
}

fn start(opts: &Options) -> (Result<(), Error<core::convert::Infallible>>, Vec<u8>) {
    let mut out = Vec::new();
    let r = StreamingWriter::with_options(&mut out, opts).map(|_| ());
    (r, out)
}

/// Decodes with the `png` crate (no transformations) and returns the rows.
fn decode(png_bytes: &[u8]) -> (png::OutputInfo, Vec<u8>) {
    let mut dec = png::Decoder::new(Cursor::new(png_bytes));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().expect("png crate reads the header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("png crate decodes");
    reader.finish().expect("png crate reads to IEND");
    (info, buf)
}

#[test]
fn dimensions_out_of_range_are_refused_before_anything_is_written() {
    let bad = [0, MAX_DIMENSION + 1, 1 << 31 | 12345, u32::MAX];
    let good = [1, 7, MAX_DIMENSION];
    for (color, depth) in formats() {
        for &w in &bad {
            for &h in bad.iter().chain(&good) {
                for (w, h) in [(w, h), (h, w)] {
                    let (r, out) = start(&options(w, h, color, depth));
                    assert!(
                        matches!(r, Err(Error::InvalidDimensions { width, height , .. }) if width == w && height == h),
                        "{w}x{h} {color} {depth:?}: {r:?}"
                    );
                    let message = r.unwrap_err().to_string();
                    assert!(message.contains(&format!("{w}x{h}")), "{message}");
                    assert!(out.is_empty());
                }
            }
        }
    }
}

#[test]
fn row_bytes_of_the_widest_rows_do_not_overflow() {
    for (color, depth) in formats() {
        for width in [
            1,
            2,
            7,
            8,
            9,
            1 << 16,
            (1 << 29) - 1,
            1 << 29,
            1 << 30,
            MAX_DIMENSION,
        ] {
            let exact = exact_row_bytes(width, color, depth);
            let got = options(width, 1, color, depth).row_bytes();
            // `row_bytes` is `Some` exactly when the row and its filter byte
            // fit in `usize`: always on 64-bit targets (at most 17 179 869 176
            // bytes, RGBA16 at 2^31 − 1), and on 32-bit targets only below
            // 4 GiB − 1, so there RGBA16 from 2^29 pixels, RGBA8 and
            // GA16 from 2^30, and RGB16 from 715 827 883 pixels give `None`
            // and `with_options` fails with `ImageTooLarge`.
            let fits = exact < usize::MAX as u128;
            assert_eq!(
                got,
                fits.then_some(exact as usize),
                "{width} {color} {depth:?}"
            );
            if cfg!(target_pointer_width = "64") {
                assert!(fits);
            }
        }
    }
    let widest = options(MAX_DIMENSION, 1, ColorType::Rgba, BitDepth::Sixteen).row_bytes();
    #[cfg(target_pointer_width = "64")]
    assert_eq!(widest, Some(17_179_869_176));
    #[cfg(target_pointer_width = "32")]
    assert_eq!(widest, None);
}

/// On 32-bit targets the rows that do not fit in `usize` are refused with
/// `ImageTooLarge` before any allocation; elsewhere this test checks nothing.
#[test]
#[cfg(target_pointer_width = "32")]
fn rows_beyond_the_address_space_are_too_large() {
    let (r, out) = start(&options(1 << 29, 1, ColorType::Rgba, BitDepth::Sixteen));
    assert!(
        matches!(
            r,
            Err(Error::ImageTooLarge {
                width: 536_870_912,
                bits_per_pixel: 64
            })
        ),
        "{r:?}"
    );
    assert!(out.is_empty());
}

#[test]
fn tallest_image_takes_rows_and_reports_the_missing_ones() {
    for (color, depth) in formats() {
        let opts = options(3, MAX_DIMENSION, color, depth).compression(Compression::Fast);
        let mut w = StreamingWriter::with_options(Vec::new(), &opts).unwrap();
        let row = vec![0xA5; w.row_bytes()];
        for _ in 0..5 {
            w.write_row(&row).unwrap();
        }
        w.write_bytes(&row[..1]).unwrap();
        w.write_bytes(&row[1..]).unwrap();
        assert_eq!(w.rows_written(), 6);
        let r = w.finish();
        assert!(
            matches!(
                r,
                Err(Error::MissingRows {
                    written: 6,
                    height: MAX_DIMENSION,
                    ..
                })
            ),
            "{color} {depth:?}: {r:?}"
        );
    }
}

#[test]
fn write_bytes_beyond_the_tallest_image_counts_in_wide_arithmetic() {
    // (2^31 − 1) rows of one byte: the count of bytes still expected is
    // computed in 128 bits; a piece that fits is accepted.
    let mut w = StreamingWriter::new(Vec::new(), 1, MAX_DIMENSION, ColorType::Grayscale).unwrap();
    w.write_bytes(&[7; 4096]).unwrap();
    assert_eq!(w.rows_written(), 4096);
    // What is left of the tallest, widest image does not fit in 64 bits.
    let opts = Options::new(MAX_DIMENSION, MAX_DIMENSION, ColorType::Rgba)
        .bit_depth(BitDepth::Sixteen)
        .filter(Filter::None)
        .compression(Compression::Stored);
    if let Some(n) = opts.row_bytes() {
        let left = n as u128 * MAX_DIMENSION as u128;
        assert!(left > u64::MAX as u128);
        // `encode` reports it without allocating anything.
        let r = pngstream::encode(&opts, &[1; 3]);
        assert!(
            matches!(r, Err(Error::WrongImageLength { len: 3, expected , .. }) if expected == left),
            "{r:?}"
        );
    }
    // And the last row of a short image: one byte too many is refused whole,
    // and the writer takes the right remainder afterwards.
    let mut w = StreamingWriter::new(Vec::new(), 3, 2, ColorType::Grayscale).unwrap();
    w.write_bytes(&[1; 4]).unwrap();
    let r = w.write_bytes(&[1; 3]);
    assert!(
        matches!(
            r,
            Err(Error::TooManyBytes {
                given: 3,
                remaining: 2,
                ..
            })
        ),
        "{r:?}"
    );
    w.write_bytes(&[]).unwrap();
    w.write_bytes(&[2; 2]).unwrap();
    let (_, pixels) = decode(&w.finish().unwrap());
    assert_eq!(pixels, [1, 1, 1, 1, 2, 2]);
}

#[test]
fn palettes_of_0_and_257_entries_are_refused() {
    let entries = |n: usize| -> Vec<u8> { (0..3 * n).map(|i| i as u8).collect() };
    let cases: &[(ColorType, BitDepth, usize, usize)] = &[
        // (colour, depth, palette entries, most allowed)
        (ColorType::Indexed, BitDepth::Eight, 0, 256),
        (ColorType::Indexed, BitDepth::Eight, 257, 256),
        (ColorType::Indexed, BitDepth::One, 3, 2),
        (ColorType::Indexed, BitDepth::Two, 5, 4),
        (ColorType::Indexed, BitDepth::Four, 17, 16),
        (ColorType::Indexed, BitDepth::Four, 257, 16),
        (ColorType::Rgb, BitDepth::Eight, 0, 256),
        (ColorType::Rgb, BitDepth::Eight, 257, 256),
        (ColorType::Rgba, BitDepth::Sixteen, 257, 256),
    ];
    for &(color, depth, n, max) in cases {
        let opts = Options::new(4, 4, color)
            .bit_depth(depth)
            .palette(&entries(n));
        let (r, out) = start(&opts);
        assert!(
            matches!(r, Err(Error::InvalidPalette { len, max_entries , .. }) if len == 3 * n && max_entries == max),
            "{n} entries for {color} {depth:?}: {r:?}"
        );
        assert!(out.is_empty());
    }
    // Not a whole number of entries.
    let (r, _) = start(
        &Options::new(4, 4, ColorType::Indexed)
            .bit_depth(BitDepth::Eight)
            .palette(&[1, 2, 3, 4]),
    );
    assert!(
        matches!(r, Err(Error::InvalidPalette { len: 4, .. })),
        "{r:?}"
    );
    // Greyscale images take none at all, of any size.
    for n in [0, 1, 257] {
        let (r, _) = start(&Options::new(4, 4, ColorType::Grayscale).palette(&entries(n)));
        assert!(matches!(r, Err(Error::PaletteNotAllowed { .. })), "{r:?}");
    }
    // RGB images may carry a suggested palette of up to 256 entries.
    for color in [ColorType::Rgb, ColorType::Rgba] {
        let (r, _) = start(&Options::new(2, 2, color).palette(&entries(256)));
        assert!(r.is_ok(), "{color}: {r:?}");
    }
    // 256 entries are fine, and so is a tRNS of 256 but not 257 bytes.
    let opts = Options::new(4, 1, ColorType::Indexed).palette(&entries(256));
    let png = pngstream::encode(&opts.clone().transparency(&[9; 256]), &[0, 1, 254, 255]).unwrap();
    let (_, pixels) = decode(&png);
    assert_eq!(pixels, [0, 1, 254, 255]);
    let (r, _) = start(&opts.transparency(&[9; 257]));
    assert!(
        matches!(r, Err(Error::InvalidTransparency { len: 257, .. })),
        "{r:?}"
    );
}

#[test]
fn idat_chunk_sizes_of_0_and_2_pow_31_are_refused() {
    for size in [0, 1 << 31, (1 << 31) + 1, u32::MAX] {
        let (r, out) = start(&Options::new(8, 8, ColorType::Rgb).idat_chunk_size(size));
        assert!(
            matches!(r, Err(Error::InvalidChunkSize { size: s , .. }) if s == size),
            "{size}: {r:?}"
        );
        let message = r.unwrap_err().to_string();
        assert!(message.contains(&size.to_string()), "{message}");
        assert!(out.is_empty());
    }
}

#[test]
fn idat_chunk_size_1_gives_a_valid_png_of_one_byte_chunks() {
    let (w, h) = (13u32, 7u32);
    let img: Vec<u8> = (0..w * h * 3).map(|i| (i * 37 % 251) as u8).collect();
    for &level in Compression::ALL {
        let opts = Options::new(w, h, ColorType::Rgb)
            .compression(level)
            .idat_chunk_size(1);
        let png = pngstream::encode(&opts, &img).unwrap();
        // Every IDAT holds exactly one byte.
        let mut pos = 8;
        let mut idats = 0;
        while pos < png.len() {
            let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
            if &png[pos + 4..pos + 8] == b"IDAT" {
                assert_eq!(len, 1, "{level:?}");
                idats += 1;
            }
            pos += 12 + len;
        }
        assert!(idats > 6, "{level:?}: {idats} IDAT chunks");
        let (info, pixels) = decode(&png);
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(pixels, img, "{level:?}");
    }
}

#[test]
fn idat_chunk_size_2_pow_31_minus_1_works() {
    let opts = Options::new(5, 5, ColorType::GrayscaleAlpha).idat_chunk_size(MAX_DIMENSION);
    let img = vec![0x3C; 50];
    let png = pngstream::encode(&opts, &img).unwrap();
    assert_eq!(decode(&png).1, img);
}

/// Address-space cap of the child process, in KiB (768 MiB).
const CHILD_LIMIT_KIB: u64 = 768 << 10;
const CHILD_ENV: &str = "PNGSTREAM_HARDENING_CHILD";

/// Runs [`widest_rows_in_a_capped_address_space`] in a child process under
/// `ulimit -v`. Linux only: elsewhere it says so and passes.
#[test]
fn widest_rows_fail_with_out_of_memory_or_work() {
    if !cfg!(target_os = "linux") {
        eprintln!("!!! not Linux: the widest-row test (needs ulimit -v) did not run");
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {CHILD_LIMIT_KIB} && exec \"$0\" \"$@\""))
        .arg(&exe)
        .args([
            "--exact",
            "widest_rows_in_a_capped_address_space",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stderr.contains("capped child ran"), "{stderr}");
}

/// The body of [`widest_rows_fail_with_out_of_memory_or_work`]; does
/// nothing unless started by it (with the address space capped).
#[test]
fn widest_rows_in_a_capped_address_space() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let limit = (CHILD_LIMIT_KIB * 1024) as u128;
    let (mut worked, mut out_of_memory) = (0, 0);
    for (color, depth) in formats() {
        for filter in [None, Some(Filter::None), Some(Filter::Paeth)] {
            for level in [Compression::Stored, Compression::Default] {
                let mut opts =
                    options(MAX_DIMENSION, MAX_DIMENSION, color, depth).compression(level);
                if let Some(f) = filter {
                    opts = opts.filter(f);
                }
                let n = exact_row_bytes(MAX_DIMENSION, color, depth);
                let mut out = Vec::new();
                match StreamingWriter::with_options(&mut out, &opts) {
                    Ok(w) => {
                        // Only rows that fit can have been allocated.
                        assert!(
                            n < limit,
                            "{color} {depth:?}: a {n}-byte row fit in {limit}"
                        );
                        assert_eq!(w.row_bytes() as u128, n);
                        assert!(matches!(
                            w.finish(),
                            Err(Error::MissingRows { written: 0, .. })
                        ));
                        worked += 1;
                    }
                    Err(Error::OutOfMemory { bytes, .. }) => {
                        assert!(
                            bytes as u128 >= n.min(limit / 4),
                            "{color} {depth:?}: {bytes}"
                        );
                        assert!(out.is_empty());
                        out_of_memory += 1;
                    }
                    Err(e) => panic!("{color} {depth:?} {filter:?} {level:?}: {e:?}"),
                }
            }
        }
        // Rows larger than the cap never fit.
        if exact_row_bytes(MAX_DIMENSION, color, depth) > limit {
            let r =
                StreamingWriter::with_options(Vec::new(), &options(MAX_DIMENSION, 1, color, depth));
            assert!(
                matches!(r, Err(Error::OutOfMemory { .. })),
                "{color} {depth:?}"
            );
        }
    }
    // 1-bit greyscale rows (256 MiB) fit; RGBA16 rows (16 GiB) do not.
    assert!(worked > 0 && out_of_memory > 0, "{worked} {out_of_memory}");
    // A 600 MB row without filtering: the writer holds only room for its
    // output, and the buffer `write_bytes` assembles a row in fails first.
    // That refusal changes nothing: no row written, the writer not poisoned.
    let opts = Options::new(600_000_000, 2, ColorType::Grayscale)
        .filter(Filter::None)
        .compression(Compression::Stored);
    let mut w = StreamingWriter::with_options(Vec::new(), &opts).unwrap();
    let r = w.write_bytes(&[7; 10]);
    assert!(
        matches!(
            r,
            Err(Error::OutOfMemory {
                bytes: 600_000_000,
                ..
            })
        ),
        "{r:?}"
    );
    assert_eq!(w.rows_written(), 0);
    w.write_bytes(&[]).unwrap();
    assert!(matches!(
        w.finish(),
        Err(Error::MissingRows { written: 0, .. })
    ));
    eprintln!("capped child ran: {worked} writers made, {out_of_memory} out of memory");
}
