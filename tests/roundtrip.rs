//! Round trips through decoders this crate did not write: every colour type ×
//! bit depth × filter × compression level, many widths and heights, random
//! and structured rows, every way of feeding rows in. Decoded with the `png`
//! crate (raw samples, no transformations) and, for a subset, the `image`
//! crate.

mod common;

use common::{
    Case, Format, Rng, all_formats, check_chunks, check_png, clamp_indices, decode_png,
    encode_rows, fill_row, make_image, mask_padding, random_palette,
};
use pngstream::{BitDepth, ColorType, Compression, Filter, Options, StreamingWriter, encode};

/// Ancillary chunks for a case: indexed images get a full palette of
/// 2^depth entries and, for some seeds, a tRNS of random length; greyscale
/// and RGB get a tRNS colour for some seeds; RGB(A) sometimes a suggested
/// palette.
fn extras(rng: &mut Rng, fmt: Format) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let max = (1u32 << fmt.depth.bits()) - 1;
    let sample = |rng: &mut Rng| ((rng.next_u64() as u32) & max) as u16;
    match fmt.color {
        ColorType::Indexed => {
            let entries = 1usize << fmt.depth.bits();
            let palette = random_palette(rng, entries);
            let trns = (rng.below(2) == 0).then(|| {
                let n = rng.range(1, entries);
                rng.bytes(n)
            });
            (Some(palette), trns)
        }
        ColorType::Grayscale => {
            let trns = (rng.below(3) == 0).then(|| sample(rng).to_be_bytes().to_vec());
            (None, trns)
        }
        ColorType::Rgb => {
            let trns = (rng.below(3) == 0).then(|| {
                [sample(rng), sample(rng), sample(rng)]
                    .iter()
                    .flat_map(|s| s.to_be_bytes())
                    .collect()
            });
            let palette = (rng.below(4) == 0).then(|| {
                let n = rng.range(1, 256);
                random_palette(rng, n)
            });
            (palette, trns)
        }
        ColorType::Rgba => {
            let palette = (rng.below(4) == 0).then(|| {
                let n = rng.range(1, 256);
                random_palette(rng, n)
            });
            (palette, None)
        }
        _ => (None, None),
    }
}

fn case(
    rng: &mut Rng,
    fmt: Format,
    width: u32,
    height: u32,
    filter: Filter,
    level: Compression,
) -> Case {
    let (palette, trns) = extras(rng, fmt);
    Case {
        width,
        height,
        fmt,
        filter,
        level,
        palette,
        trns,
        idat: None,
    }
}

/// Encodes with `write_row`, checks the chunk layout and decodes with `png`.
fn roundtrip(rng: &mut Rng, c: &Case) {
    let img = make_image(rng, c.width, c.height, c.fmt);
    let png = encode_rows(c, &img);
    check_png(&png, c, &img);
}

/// Widths 1..=67 at every filter and level for one colour type, each at two
/// heights from 1..=8.
fn sweep(color: ColorType) {
    let mut rng = Rng::new(color.code() as u64 + 1);
    let mut count = 0;
    for fmt in all_formats().into_iter().filter(|f| f.color == color) {
        for (fi, &filter) in Filter::ALL.iter().enumerate() {
            for (li, &level) in Compression::ALL.iter().enumerate() {
                for w in 1..=67u32 {
                    let h1 = 1 + (w + fi as u32 + li as u32) % 8;
                    for h in [h1, 1 + (h1 + 3) % 8] {
                        let c = case(&mut rng, fmt, w, h, filter, level);
                        roundtrip(&mut rng, &c);
                        count += 1;
                    }
                }
            }
        }
    }
    println!("{color}: {count} images");
}

#[test]
fn sweep_grayscale() {
    sweep(ColorType::Grayscale);
}

#[test]
fn sweep_rgb() {
    sweep(ColorType::Rgb);
}

#[test]
fn sweep_indexed() {
    sweep(ColorType::Indexed);
}

#[test]
fn sweep_grayscale_alpha() {
    sweep(ColorType::GrayscaleAlpha);
}

#[test]
fn sweep_rgba() {
    sweep(ColorType::Rgba);
}

/// Taller images at small widths: many rows through every filter, so the
/// row above is carried correctly for a long time.
#[test]
fn taller_images() {
    let mut rng = Rng::new(7);
    for fmt in all_formats() {
        for &filter in Filter::ALL {
            for (w, h) in [(1, 300), (3, 97), (13, 64), (67, 40)] {
                let level = Compression::ALL[rng.below(Compression::ALL.len())];
                let c = case(&mut rng, fmt, w, h, filter, level);
                roundtrip(&mut rng, &c);
            }
        }
    }
}

/// Widths 1000 and 4099 at every level (adaptive filter) and every filter
/// (default level), for every format.
#[test]
fn large_widths() {
    let mut rng = Rng::new(1000);
    for fmt in all_formats() {
        for w in [1000u32, 4099] {
            for &level in Compression::ALL {
                let c = case(&mut rng, fmt, w, 5, Filter::Adaptive, level);
                roundtrip(&mut rng, &c);
            }
            for &filter in Filter::ALL {
                let c = case(&mut rng, fmt, w, 4, filter, Compression::Fast);
                roundtrip(&mut rng, &c);
            }
        }
    }
}

/// Rows repeated in runs (as procedural images have them), the first row
/// all zero like the row "above" it: the repeat path skips the filter
/// choice and the copy of the row above, so rows after a repeat must still
/// be filtered against the right row. Every format, filter and level.
#[test]
fn repeated_rows() {
    let mut rng = Rng::new(77);
    for fmt in all_formats() {
        for &filter in Filter::ALL {
            for &level in Compression::ALL {
                let c = case(&mut rng, fmt, 23, 9, filter, level);
                let n = fmt.row_bytes(c.width);
                let fresh = make_image(&mut rng, c.width, 3, fmt);
                let mut img = vec![0u8; n];
                for r in [0, 0, 1, 1, 1, 2, 1, 1] {
                    img.extend_from_slice(&fresh[r * n..(r + 1) * n]);
                }
                let png = encode_rows(&c, &img);
                check_png(&png, &c, &img);
            }
        }
    }
}

/// 70000×2: rows far longer than the deflate window and the default IDAT
/// chunk, at every level for 8-bit RGBA and 16-bit RGB, and at one level
/// for every format.
#[test]
fn very_wide_images() {
    let mut rng = Rng::new(70000);
    let rgba8 = Format {
        color: ColorType::Rgba,
        depth: BitDepth::Eight,
    };
    let rgb16 = Format {
        color: ColorType::Rgb,
        depth: BitDepth::Sixteen,
    };
    for fmt in [rgba8, rgb16] {
        for &level in Compression::ALL {
            let c = case(&mut rng, fmt, 70000, 2, Filter::Adaptive, level);
            roundtrip(&mut rng, &c);
        }
    }
    for (i, fmt) in all_formats().into_iter().enumerate() {
        let filter = Filter::ALL[i % Filter::ALL.len()];
        let c = case(&mut rng, fmt, 70000, 2, filter, Compression::Default);
        roundtrip(&mut rng, &c);
    }
}

/// Every format, filter and level at 1×1, with several pixel values.
#[test]
fn one_by_one_every_format() {
    let mut rng = Rng::new(11);
    for fmt in all_formats() {
        for &filter in Filter::ALL {
            for &level in Compression::ALL {
                for _ in 0..3 {
                    let c = case(&mut rng, fmt, 1, 1, filter, level);
                    roundtrip(&mut rng, &c);
                }
            }
        }
    }
}

/// The default filter choice (no `.filter()` call) and small IDAT chunks.
#[test]
fn default_filter_and_idat_sizes() {
    let mut rng = Rng::new(12);
    for fmt in all_formats() {
        for &level in Compression::ALL {
            for idat in [1u32, 2, 7, 100, 4096] {
                let w = rng.range(1, 80) as u32;
                let h = rng.range(1, 20) as u32;
                let (palette, trns) = extras(&mut rng, fmt);
                let mut opts = Options::new(w, h, fmt.color)
                    .bit_depth(fmt.depth)
                    .compression(level)
                    .idat_chunk_size(idat);
                if let Some(p) = &palette {
                    opts = opts.palette(p);
                }
                if let Some(t) = &trns {
                    opts = opts.transparency(t);
                }
                let img = make_image(&mut rng, w, h, fmt);
                let mut wr = StreamingWriter::with_options(Vec::new(), &opts).unwrap();
                assert_eq!(wr.filter(), opts.effective_filter());
                for row in img.chunks(fmt.row_bytes(w)) {
                    wr.write_row(row).unwrap();
                }
                let png = wr.finish().unwrap();
                let idats = check_chunks(&png, idat);
                if idat == 1 {
                    assert!(idats >= 8, "{idats} IDAT chunks of 1 byte");
                }
                let c = Case {
                    width: w,
                    height: h,
                    fmt,
                    filter: opts.effective_filter(),
                    level,
                    palette,
                    trns,
                    idat: Some(idat),
                };
                check_png(&png, &c, &img);
            }
        }
    }
}

#[test]
fn default_filter_follows_the_level() {
    let filter = |level, color, depth| {
        Options::new(4, 4, color)
            .bit_depth(depth)
            .compression(level)
            .effective_filter()
    };
    let rgb = (ColorType::Rgb, BitDepth::Eight);
    let indexed = (ColorType::Indexed, BitDepth::Four);
    let expected = [
        (Compression::Stored, Filter::None, Filter::None),
        (Compression::Fastest, Filter::Up, Filter::Up),
        (Compression::Fast, Filter::Adaptive, Filter::Adaptive),
        (Compression::Default, Filter::Adaptive, Filter::None),
        (Compression::Best, Filter::Entropy, Filter::None),
    ];
    for (level, for_rgb, for_indexed) in expected {
        assert_eq!(filter(level, rgb.0, rgb.1), for_rgb, "{level:?}");
        assert_eq!(
            filter(level, indexed.0, indexed.1),
            for_indexed,
            "{level:?}"
        );
    }
    let set = Options::new(4, 4, ColorType::Rgb).filter(Filter::Paeth);
    assert_eq!(set.effective_filter(), Filter::Paeth);
}

/// Sub-byte rows whose padding bits are not zero: the writer may keep or
/// clear them, but the pixels must come back.
#[test]
fn sub_byte_padding_bits_are_ignored() {
    let mut rng = Rng::new(13);
    for fmt in all_formats()
        .into_iter()
        .filter(|f| f.depth < BitDepth::Eight)
    {
        for w in 1..=17u32 {
            let c = case(&mut rng, fmt, w, 3, Filter::Paeth, Compression::Default);
            let mut img = rng.bytes(fmt.row_bytes(w) * 3);
            let n = fmt.row_bytes(w);
            let png = encode_rows(&c, &img);
            for row in img.chunks_mut(n) {
                mask_padding(row, w, fmt);
            }
            let mut d = decode_png(&png).unwrap();
            for row in d.data.chunks_mut(n) {
                mask_padding(row, w, fmt);
            }
            assert_eq!(d.data, img, "{c:?}");
        }
    }
}

/// `write_bytes` with random piece sizes: empty pieces, pieces inside one
/// row, pieces spanning several rows, the whole image at once.
#[test]
fn write_bytes_in_odd_pieces() {
    let mut rng = Rng::new(14);
    for fmt in all_formats() {
        for level in [Compression::Stored, Compression::Fast, Compression::Best] {
            for filter in [Filter::None, Filter::Paeth, Filter::Adaptive] {
                for _ in 0..4 {
                    let w = rng.range(1, 70) as u32;
                    let h = rng.range(1, 12) as u32;
                    let c = case(&mut rng, fmt, w, h, filter, level);
                    let img = make_image(&mut rng, w, h, fmt);
                    let n = fmt.row_bytes(w);
                    let mut wr = StreamingWriter::with_options(Vec::new(), &c.options()).unwrap();
                    let mut rest = &img[..];
                    while !rest.is_empty() {
                        let k = match rng.below(5) {
                            0 => 0,
                            1 => rng.range(1, n.min(3)),
                            2 => rng.range(1, n),
                            3 => rng.range(n, 3 * n + 1),
                            _ => rest.len(),
                        }
                        .min(rest.len());
                        let (piece, tail) = rest.split_at(k);
                        wr.write_bytes(piece).unwrap();
                        rest = tail;
                        let done = img.len() - rest.len();
                        assert_eq!(wr.rows_written() as usize, done / n);
                        // Between rows, whole rows may also go in directly.
                        if done % n == 0 && !rest.is_empty() && rng.below(3) == 0 {
                            wr.write_row(&rest[..n]).unwrap();
                            rest = &rest[n..];
                        }
                    }
                    let png = wr.finish().unwrap();
                    check_png(&png, &c, &img);
                    // Byte-identical to the row-by-row encoding.
                    assert_eq!(png, encode_rows(&c, &img), "{c:?}");
                }
            }
        }
    }
}

/// `write_pixels` for every 8-bit format, with the matching array size.
#[test]
fn write_pixels_every_8_bit_format() {
    fn run<const N: usize>(rng: &mut Rng, color: ColorType) {
        let fmt = Format {
            color,
            depth: BitDepth::Eight,
        };
        assert_eq!(color.channels() as usize, N);
        for &level in Compression::ALL {
            for &filter in Filter::ALL {
                let w = rng.range(1, 67) as u32;
                let h = rng.range(1, 9) as u32;
                let c = case(rng, fmt, w, h, filter, level);
                let img = make_image(rng, w, h, fmt);
                let mut wr = StreamingWriter::with_options(Vec::new(), &c.options()).unwrap();
                for row in img.chunks(fmt.row_bytes(w)) {
                    let pixels: Vec<[u8; N]> = row
                        .chunks(N)
                        .map(|p| <[u8; N]>::try_from(p).unwrap())
                        .collect();
                    wr.write_pixels(&pixels).unwrap();
                }
                let png = wr.finish().unwrap();
                check_png(&png, &c, &img);
            }
        }
    }
    let mut rng = Rng::new(15);
    run::<1>(&mut rng, ColorType::Grayscale);
    run::<1>(&mut rng, ColorType::Indexed);
    run::<2>(&mut rng, ColorType::GrayscaleAlpha);
    run::<3>(&mut rng, ColorType::Rgb);
    run::<4>(&mut rng, ColorType::Rgba);
}

/// `write_row_u16` for every 16-bit format: native samples come out
/// big-endian.
#[test]
fn write_row_u16_every_16_bit_format() {
    let mut rng = Rng::new(16);
    for fmt in all_formats()
        .into_iter()
        .filter(|f| f.depth == BitDepth::Sixteen)
    {
        for &level in Compression::ALL {
            for &filter in Filter::ALL {
                let w = rng.range(1, 67) as u32;
                let h = rng.range(1, 9) as u32;
                let c = case(&mut rng, fmt, w, h, filter, level);
                let img = make_image(&mut rng, w, h, fmt);
                let mut wr = StreamingWriter::with_options(Vec::new(), &c.options()).unwrap();
                for row in img.chunks(fmt.row_bytes(w)) {
                    let samples: Vec<u16> = row
                        .chunks(2)
                        .map(|s| u16::from_be_bytes([s[0], s[1]]))
                        .collect();
                    wr.write_row_u16(&samples).unwrap();
                }
                let png = wr.finish().unwrap();
                check_png(&png, &c, &img);
                // The decoded big-endian bytes, read back as u16, are the samples.
                let d = decode_png(&png).unwrap();
                let back: Vec<u16> = d
                    .data
                    .chunks(2)
                    .map(|s| u16::from_be_bytes([s[0], s[1]]))
                    .collect();
                let want: Vec<u16> = img
                    .chunks(2)
                    .map(|s| u16::from_be_bytes([s[0], s[1]]))
                    .collect();
                assert_eq!(back, want);
            }
        }
    }
}

/// `encode()` for every format, level and a few sizes.
#[test]
fn encode_function_every_format() {
    let mut rng = Rng::new(17);
    for fmt in all_formats() {
        for &level in Compression::ALL {
            for (w, h) in [(1, 1), (5, 3), (33, 17)] {
                let filter = Filter::ALL[rng.below(Filter::ALL.len())];
                let c = case(&mut rng, fmt, w, h, filter, level);
                let img = make_image(&mut rng, w, h, fmt);
                let png = encode(&c.options(), &img).unwrap();
                check_png(&png, &c, &img);
                assert_eq!(png, encode_rows(&c, &img));
            }
        }
    }
}

/// What the `image` crate should produce: it expands with
/// `png::Transformations::EXPAND`, so indexed becomes RGB (RGBA with tRNS),
/// sub-byte grey is scaled to 8 bits, and 16-bit samples are native-endian.
fn expected_image_bytes(c: &Case, img: &[u8]) -> Vec<u8> {
    let d = c.fmt.depth.bits() as usize;
    let n = c.fmt.row_bytes(c.width);
    let mut out = Vec::new();
    for row in img.chunks(n) {
        match (c.fmt.color, d) {
            (ColorType::Indexed, _) => {
                let pal = c.palette.as_ref().unwrap();
                for x in 0..c.width as usize {
                    let i = common::get_sample(row, x, d) as usize;
                    out.extend_from_slice(&pal[3 * i..3 * i + 3]);
                    if let Some(t) = &c.trns {
                        out.push(t.get(i).copied().unwrap_or(255));
                    }
                }
            }
            (ColorType::Grayscale, 1 | 2 | 4) => {
                let scale = 255 / ((1u32 << d) - 1);
                for x in 0..c.width as usize {
                    out.push((common::get_sample(row, x, d) * scale) as u8);
                }
            }
            (_, 16) => {
                for s in row.chunks(2) {
                    out.extend_from_slice(&u16::from_be_bytes([s[0], s[1]]).to_ne_bytes());
                }
            }
            _ => out.extend_from_slice(row),
        }
    }
    out
}

/// The `image` crate as a second decoder, on every format (grey and RGB
/// without tRNS, which it would turn into an alpha channel).
#[test]
fn image_crate_decodes_the_same_pixels() {
    let mut rng = Rng::new(18);
    let mut count = 0;
    for fmt in all_formats() {
        for (fi, &filter) in Filter::ALL.iter().enumerate() {
            for (w, h) in [(1, 1), (7, 5), (64, 9), (67, 4), (301, 3)] {
                let level = Compression::ALL[(fi + w as usize) % Compression::ALL.len()];
                let mut c = case(&mut rng, fmt, w, h, filter, level);
                if matches!(fmt.color, ColorType::Grayscale | ColorType::Rgb) {
                    c.trns = None;
                }
                let img = make_image(&mut rng, w, h, fmt);
                let png = encode_rows(&c, &img);
                check_png(&png, &c, &img);
                let dynimg = image::load_from_memory(&png)
                    .unwrap_or_else(|e| panic!("image crate rejects {c:?}: {e}"));
                assert_eq!((dynimg.width(), dynimg.height()), (w, h));
                let want_type = match (fmt.color, fmt.depth, c.trns.is_some()) {
                    (ColorType::Indexed, _, false) => image::ColorType::Rgb8,
                    (ColorType::Indexed, _, true) => image::ColorType::Rgba8,
                    (ColorType::Grayscale, BitDepth::Sixteen, _) => image::ColorType::L16,
                    (ColorType::Grayscale, _, _) => image::ColorType::L8,
                    (ColorType::GrayscaleAlpha, BitDepth::Eight, _) => image::ColorType::La8,
                    (ColorType::GrayscaleAlpha, _, _) => image::ColorType::La16,
                    (ColorType::Rgb, BitDepth::Eight, _) => image::ColorType::Rgb8,
                    (ColorType::Rgb, _, _) => image::ColorType::Rgb16,
                    (ColorType::Rgba, BitDepth::Eight, _) => image::ColorType::Rgba8,
                    (ColorType::Rgba, _, _) => image::ColorType::Rgba16,
                };
                assert_eq!(dynimg.color(), want_type, "{c:?}");
                assert!(
                    dynimg.as_bytes() == expected_image_bytes(&c, &img).as_slice(),
                    "image crate pixels differ for {c:?}"
                );
                count += 1;
            }
        }
    }
    assert_eq!(count, 15 * Filter::ALL.len() * 5);
}

/// Indexed images whose palette is shorter than 2^depth, indices in range.
#[test]
fn short_palettes() {
    let mut rng = Rng::new(19);
    for depth in [
        BitDepth::One,
        BitDepth::Two,
        BitDepth::Four,
        BitDepth::Eight,
    ] {
        let fmt = Format {
            color: ColorType::Indexed,
            depth,
        };
        for entries in [1usize, 2, 3, 5, 17, 255, 256] {
            if entries > 1 << depth.bits() {
                continue;
            }
            let (w, h) = (rng.range(1, 40) as u32, rng.range(1, 8) as u32);
            let mut img = make_image(&mut rng, w, h, fmt);
            for row in img.chunks_mut(fmt.row_bytes(w)) {
                clamp_indices(row, w, depth, entries);
            }
            let trns = (entries > 1).then(|| {
                let n = rng.range(1, entries);
                rng.bytes(n)
            });
            let c = Case {
                width: w,
                height: h,
                fmt,
                filter: Filter::Adaptive,
                level: Compression::Default,
                palette: Some(random_palette(&mut rng, entries)),
                trns,
                idat: None,
            };
            let png = encode_rows(&c, &img);
            check_png(&png, &c, &img);
            let dynimg = image::load_from_memory(&png).unwrap();
            assert_eq!(dynimg.as_bytes(), expected_image_bytes(&c, &img).as_slice());
        }
    }
}

/// A row generator sanity check: the structured patterns really produce
/// gradient, constant and repeated rows (so the sweeps above exercise them).
#[test]
fn patterns_are_what_they_say() {
    let mut rng = Rng::new(20);
    let fmt = Format {
        color: ColorType::Rgb,
        depth: BitDepth::Eight,
    };
    let mut a = vec![0u8; 30];
    fill_row(
        &mut rng,
        common::Pattern::Constant,
        0,
        None,
        &mut a,
        10,
        fmt,
    );
    assert!(a.iter().all(|&b| b == a[0]));
    let mut b = vec![0u8; 30];
    fill_row(
        &mut rng,
        common::Pattern::Repeat,
        1,
        Some(&a),
        &mut b,
        10,
        fmt,
    );
    assert_eq!(a, b);
    fill_row(
        &mut rng,
        common::Pattern::Gradient,
        0,
        None,
        &mut b,
        10,
        fmt,
    );
    assert_eq!(&b[..6], &[0, 0, 0, 3, 6, 9]);
}

/// Photo-like images (a smooth ramp plus a little noise): after filtering,
/// blocks of mostly literals, which the fast levels code two literals per
/// look-up. Sizes either side of where that table is made at all (32 KiB
/// of filtered data), at every fast level and filter.
#[test]
fn literal_heavy_images_at_the_fast_levels() {
    let mut rng = Rng::new(31);
    for (w, h) in [(100u32, 100u32), (600, 300)] {
        let mut img = vec![0u8; w as usize * h as usize * 3];
        for (i, px) in img.chunks_exact_mut(3).enumerate() {
            let (x, y) = (i as u32 % w, i as u32 / w);
            for (c, v) in px.iter_mut().enumerate() {
                let noise = rng.below(9) as u32;
                *v = ((x + 2 * y + 40 * c as u32) / 3 + noise) as u8;
            }
        }
        for level in [Compression::Fastest, Compression::Fast] {
            for &filter in Filter::ALL {
                let opts = Options::new(w, h, ColorType::Rgb)
                    .compression(level)
                    .filter(filter);
                let png = encode(&opts, &img).unwrap();
                let back = decode_png(&png).unwrap();
                assert_eq!(back.data, img, "{w}x{h} {level:?} {filter:?}");
                if w == 600 && filter == Filter::Paeth {
                    // Compressed, not stored: the literals were coded.
                    assert!(png.len() < img.len() * 3 / 4, "{level:?}: {}", png.len());
                }
            }
        }
    }
}
