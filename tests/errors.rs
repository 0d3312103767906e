//! Every error the writer reports: the exact variant and its fields, the
//! `Display` text (and its grammar, for every variant), `source()`, which
//! errors poison the writer (sink errors) and which leave it usable (the
//! caller's mistakes), palette indexes beyond the palette at every depth,
//! failing sinks at every byte position, and file sinks.

mod common;

use std::cell::RefCell;
use std::convert::Infallible;
use std::error::Error as _;
use std::fmt;
use std::rc::Rc;

use common::{Case, Format, Rng, decode_png, make_image};
use pngstream::{
    BitDepth, ColorType, Compression, Error, Filter, IoSink, MAX_DIMENSION, Options, Sink,
    StreamingWriter, encode,
};

const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// A sink whose bytes stay readable while the writer holds it.
#[derive(Clone, Debug, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Shared {
    fn len(&self) -> usize {
        self.0.borrow().len()
    }
    fn bytes(&self) -> Vec<u8> {
        self.0.borrow().clone()
    }
}

impl Sink for Shared {
    type Error = Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Infallible> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(())
    }
}

/// The error returned by the writer for these options, checking that the
/// sink received nothing and that `encode` reports the same.
fn options_error(o: &Options) -> Error<Infallible> {
    let sink = Shared::default();
    let e = match StreamingWriter::with_options(sink.clone(), o) {
        Ok(_) => panic!("options accepted: {o:?}"),
        Err(e) => e,
    };
    assert_eq!(sink.len(), 0, "bytes written before {e:?}");
    let e2 = encode(o, &[]).expect_err("encode accepted invalid options");
    assert_eq!(format!("{e:?}"), format!("{e2:?}"));
    e
}

fn rgb(w: u32, h: u32) -> Options {
    Options::new(w, h, ColorType::Rgb)
}

fn indexed(depth: BitDepth, entries: usize) -> Options {
    Options::new(4, 4, ColorType::Indexed)
        .bit_depth(depth)
        .palette(&vec![7u8; 3 * entries])
}

// ---------------------------------------------------------------- options

#[test]
fn max_dimensions_are_accepted() {
    // 2^31 − 1 wide: the options are valid. The writer may keep row-sized
    // buffers (a row is 256 MiB here), so running out of memory is the only
    // other acceptable answer.
    let o = Options::new(MAX_DIMENSION, 1, ColorType::Grayscale)
        .bit_depth(BitDepth::One)
        .filter(Filter::None);
    assert_eq!(o.row_bytes(), Some((MAX_DIMENSION as usize).div_ceil(8)));
    match StreamingWriter::with_options(Vec::new(), &o) {
        Ok(w) => assert_eq!(w.row_bytes(), (MAX_DIMENSION as usize).div_ceil(8)),
        Err(Error::OutOfMemory { .. }) => {}
        Err(e) => panic!("{e:?}"),
    }
    // 2^31 − 1 tall, one pixel wide: write a few rows, then stop.
    let o = Options::new(1, MAX_DIMENSION, ColorType::Grayscale);
    let mut w = StreamingWriter::with_options(Vec::new(), &o).unwrap();
    assert_eq!(w.height(), MAX_DIMENSION);
    for _ in 0..10 {
        w.write_row(&[1]).unwrap();
    }
    let e = w.finish().unwrap_err();
    assert!(
        matches!(e, Error::MissingRows { written: 10, height , .. } if height == MAX_DIMENSION),
        "{e:?}"
    );
}

#[test]
fn bit_depths_a_colour_type_does_not_allow_are_refused() {
    let mut invalid = 0;
    for color in ColorType::ALL {
        for depth in BitDepth::ALL {
            let mut o = Options::new(3, 3, color).bit_depth(depth);
            if color == ColorType::Indexed {
                o = o.palette(&[0; 6]);
            }
            let r = StreamingWriter::with_options(Vec::new(), &o);
            if color.allows(depth) {
                assert!(r.is_ok(), "{color:?} {depth:?} refused");
            } else {
                invalid += 1;
                let e = r.err().unwrap();
                assert!(
                    matches!(e, Error::InvalidBitDepth { color: c, depth: d , .. } if c == color && d == depth),
                    "{color:?} {depth:?}: {e:?}"
                );
                assert!(
                    e.to_string()
                        .contains(&format!("bit depth {}", depth.bits())),
                    "{e}"
                );
            }
        }
    }
    // Greyscale allows all 5, indexed 4, the other three 2 each.
    assert_eq!(invalid, 25 - 15);
    // The ones named in PNG's table, spelled out.
    for (color, depth) in [
        (ColorType::Rgb, BitDepth::Four),
        (ColorType::Rgb, BitDepth::One),
        (ColorType::Indexed, BitDepth::Sixteen),
        (ColorType::GrayscaleAlpha, BitDepth::One),
        (ColorType::GrayscaleAlpha, BitDepth::Four),
        (ColorType::Rgba, BitDepth::Two),
    ] {
        assert!(!color.allows(depth));
        let e = options_error(&Options::new(2, 2, color).bit_depth(depth).palette(&[0; 3]));
        assert!(matches!(e, Error::InvalidBitDepth { .. }), "{e:?}");
    }
    let e = options_error(&rgb(2, 2).bit_depth(BitDepth::Four));
    assert_eq!(
        e.to_string(),
        "RGB images cannot have bit depth 4: expected 8 or 16"
    );
    let e = options_error(
        &Options::new(2, 2, ColorType::Indexed)
            .bit_depth(BitDepth::Sixteen)
            .palette(&[0; 3]),
    );
    assert_eq!(
        e.to_string(),
        "indexed images cannot have bit depth 16: expected 1, 2, 4 or 8"
    );
}

#[test]
fn an_indexed_image_without_a_palette_is_refused() {
    for depth in [
        BitDepth::One,
        BitDepth::Two,
        BitDepth::Four,
        BitDepth::Eight,
    ] {
        let e = options_error(&Options::new(4, 4, ColorType::Indexed).bit_depth(depth));
        assert!(matches!(e, Error::MissingPalette), "{e:?}");
    }
    // Also when a tRNS is given: the palette is what is missing.
    let e = options_error(&Options::new(4, 4, ColorType::Indexed).transparency(&[1]));
    assert!(matches!(e, Error::MissingPalette), "{e:?}");
}

#[test]
fn a_palette_of_no_whole_number_of_entries_is_refused() {
    for len in [1usize, 2, 4, 5, 7, 767] {
        let e = options_error(&Options::new(4, 4, ColorType::Indexed).palette(&vec![0; len]));
        assert!(
            matches!(e, Error::InvalidPalette { len: l, max_entries: 256 , .. } if l == len),
            "{len}: {e:?}"
        );
        let e = options_error(&Options::new(4, 4, ColorType::Rgba).palette(&vec![0; len]));
        assert!(
            matches!(e, Error::InvalidPalette { len: l, .. } if l == len),
            "{e:?}"
        );
    }
}

#[test]
fn a_palette_larger_than_the_bit_depth_allows_is_refused() {
    for (depth, max) in [
        (BitDepth::One, 2usize),
        (BitDepth::Two, 4),
        (BitDepth::Four, 16),
        (BitDepth::Eight, 256),
    ] {
        // Exactly 2^depth entries is fine, one more is not.
        StreamingWriter::with_options(Vec::new(), &indexed(depth, max)).unwrap();
        let e = options_error(&indexed(depth, max + 1));
        assert!(
            matches!(e, Error::InvalidPalette { len, max_entries , .. } if len == 3 * (max + 1) && max_entries == max),
            "{depth:?}: {e:?}"
        );
    }
    let e = options_error(&indexed(BitDepth::One, 3));
    assert_eq!(
        e.to_string(),
        "palette of 9 bytes is invalid: expected 1 to 2 RGB entries (3 bytes each)"
    );
}

#[test]
fn a_palette_on_a_greyscale_image_is_refused() {
    for color in [ColorType::Grayscale, ColorType::GrayscaleAlpha] {
        let e = options_error(&Options::new(2, 2, color).palette(&[1, 2, 3]));
        assert!(
            matches!(e, Error::PaletteNotAllowed { color: c , .. } if c == color),
            "{e:?}"
        );
        assert!(e.to_string().contains("cannot have a palette"), "{e}");
    }
}

#[test]
fn transparency_of_the_wrong_length_is_refused() {
    let cases: Vec<(Options, usize)> = vec![
        // Indexed: 1..=entries bytes.
        (indexed(BitDepth::Eight, 3).transparency(&[]), 0),
        (indexed(BitDepth::Eight, 3).transparency(&[1, 2, 3, 4]), 4),
        (indexed(BitDepth::Two, 4).transparency(&[0; 5]), 5),
        // Greyscale: 2 bytes.
        (
            Options::new(2, 2, ColorType::Grayscale).transparency(&[]),
            0,
        ),
        (
            Options::new(2, 2, ColorType::Grayscale).transparency(&[0]),
            1,
        ),
        (
            Options::new(2, 2, ColorType::Grayscale).transparency(&[0; 3]),
            3,
        ),
        (
            Options::new(2, 2, ColorType::Grayscale).transparency(&[0; 6]),
            6,
        ),
        // RGB: 6 bytes.
        (rgb(2, 2).transparency(&[0; 2]), 2),
        (rgb(2, 2).transparency(&[0; 5]), 5),
        (rgb(2, 2).transparency(&[0; 7]), 7),
        (
            rgb(2, 2).bit_depth(BitDepth::Sixteen).transparency(&[0; 8]),
            8,
        ),
    ];
    for (o, len) in cases {
        let e = options_error(&o);
        assert!(
            matches!(e, Error::InvalidTransparency { len: l, .. } if l == len),
            "{o:?}: {e:?}"
        );
        let text = e.to_string();
        if len == 0 {
            assert!(text.contains("is empty"), "{text}");
        } else {
            assert!(
                text.contains(&format!("transparency data (tRNS) of {len} byte"))
                    && text.contains("is the wrong length"),
                "{text}"
            );
        }
    }
    // The exact fields and texts.
    let e = options_error(&indexed(BitDepth::Eight, 3).transparency(&[]));
    assert!(
        matches!(
            e,
            Error::InvalidTransparency {
                color: ColorType::Indexed,
                len: 0,
                min: 1,
                max: 3,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "transparency data (tRNS) for an indexed image is empty: expected 1 to 3 alpha bytes \
         (tRNS needs at least 1 entry, and at most 1 per palette entry; the palette has 3)"
    );
    let e = options_error(&indexed(BitDepth::One, 1).transparency(&[]));
    assert_eq!(
        e.to_string(),
        "transparency data (tRNS) for an indexed image is empty: expected exactly 1 alpha byte, \
         as the palette has 1 entry (tRNS needs at least 1 entry, and at most 1 per palette entry)"
    );
    let e = options_error(&indexed(BitDepth::Eight, 3).transparency(&[1, 2, 3, 4]));
    assert!(
        matches!(
            e,
            Error::InvalidTransparency {
                len: 4,
                min: 1,
                max: 3,
                ..
            }
        ),
        "{e:?}"
    );
    let e = options_error(&Options::new(2, 2, ColorType::Grayscale).transparency(&[0]));
    assert_eq!(
        e.to_string(),
        "transparency data (tRNS) of 1 byte is the wrong length for a greyscale image: \
         expected 2 bytes (one 16-bit big-endian grey sample)"
    );
    let e = options_error(&rgb(2, 2).transparency(&[0; 5]));
    assert_eq!(
        e.to_string(),
        "transparency data (tRNS) of 5 bytes is the wrong length for an RGB image: \
         expected 6 bytes (16-bit big-endian red, green and blue samples)"
    );
    // The valid lengths, for contrast.
    for o in [
        indexed(BitDepth::Eight, 3).transparency(&[1]),
        indexed(BitDepth::Eight, 3).transparency(&[1, 2, 3]),
        Options::new(2, 2, ColorType::Grayscale).transparency(&[0, 9]),
        rgb(2, 2).transparency(&[0, 1, 0, 2, 0, 3]),
    ] {
        StreamingWriter::with_options(Vec::new(), &o).unwrap();
    }
}

#[test]
fn transparency_on_images_with_alpha_is_refused() {
    for color in [ColorType::GrayscaleAlpha, ColorType::Rgba] {
        for depth in [BitDepth::Eight, BitDepth::Sixteen] {
            for t in [&[0u8, 0][..], &[0; 6]] {
                let e = options_error(&Options::new(2, 2, color).bit_depth(depth).transparency(t));
                assert!(
                    matches!(e, Error::TransparencyNotAllowed { color: c , .. } if c == color),
                    "{e:?}"
                );
            }
        }
    }
}

#[test]
fn transparency_samples_beyond_the_bit_depth_are_refused() {
    let grey = |d| Options::new(2, 2, ColorType::Grayscale).bit_depth(d);
    for (depth, max) in [
        (BitDepth::One, 1u16),
        (BitDepth::Two, 3),
        (BitDepth::Four, 15),
        (BitDepth::Eight, 255),
    ] {
        StreamingWriter::with_options(Vec::new(), &grey(depth).transparency(&max.to_be_bytes()))
            .unwrap();
        let e = options_error(&grey(depth).transparency(&(max + 1).to_be_bytes()));
        assert!(
            matches!(e, Error::TransparencyOutOfRange { sample: "grey", value, depth: d , .. } if value == max + 1 && d == depth),
            "{depth:?}: {e:?}"
        );
        // The sample is named, not the length (which is right).
        let text = e.to_string();
        assert_eq!(
            text,
            format!(
                "transparency (tRNS) grey sample {} is out of range for bit depth {}: expected 0 to {max}",
                max + 1,
                depth.bits()
            )
        );
        assert!(
            !text.contains("length") && !text.contains("bytes"),
            "{text}"
        );
        let e = options_error(&grey(depth).transparency(&[0xFF, 0xFF]));
        assert!(
            matches!(e, Error::TransparencyOutOfRange { value: 0xFFFF, .. }),
            "{e:?}"
        );
    }
    let e = options_error(&grey(BitDepth::Four).transparency(&[0, 16]));
    assert_eq!(
        e.to_string(),
        "transparency (tRNS) grey sample 16 is out of range for bit depth 4: expected 0 to 15"
    );
    StreamingWriter::with_options(
        Vec::new(),
        &grey(BitDepth::Sixteen).transparency(&[0xFF, 0xFF]),
    )
    .unwrap();
    // RGB 8-bit: each of the three samples is checked, and named.
    for (i, name) in ["red", "green", "blue"].into_iter().enumerate() {
        let mut t = [0u8; 6];
        t[2 * i] = 1; // 256
        let e = options_error(&rgb(2, 2).transparency(&t));
        assert!(
            matches!(e, Error::TransparencyOutOfRange { sample, value: 256, depth: BitDepth::Eight , .. } if sample == name),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "transparency (tRNS) {name} sample 256 is out of range for bit depth 8: expected 0 to 255"
            )
        );
    }
    StreamingWriter::with_options(
        Vec::new(),
        &rgb(2, 2)
            .bit_depth(BitDepth::Sixteen)
            .transparency(&[0xFF; 6]),
    )
    .unwrap();
}

// ---------------------------------------------------------------- rows

fn writer(o: &Options) -> (StreamingWriter<Shared>, Shared) {
    let sink = Shared::default();
    (
        StreamingWriter::with_options(sink.clone(), o).unwrap(),
        sink,
    )
}

#[test]
fn rows_of_the_wrong_length_are_refused() {
    let (mut w, _) = writer(&rgb(4, 6));
    for _ in 0..3 {
        w.write_row(&[0; 12]).unwrap();
    }
    let e = w.write_row(&[0; 11]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongRowLength {
                row: 3,
                len: 11,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "row 3 has 11 bytes, expected 12");
    for len in [0usize, 13, 24] {
        let (mut w, _) = writer(&rgb(4, 6));
        let e = w.write_row(&vec![0; len]).unwrap_err();
        assert!(
            matches!(e, Error::WrongRowLength { row: 0, len: l, expected: 12 , .. } if l == len),
            "{e:?}"
        );
    }
    // Sub-byte rows: 5 pixels at 2 bits are 2 bytes.
    let (mut w, _) = writer(&Options::new(5, 2, ColorType::Grayscale).bit_depth(BitDepth::Two));
    let e = w.write_row(&[0; 1]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongRowLength {
                row: 0,
                len: 1,
                expected: 2,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn write_row_after_the_last_row_is_refused() {
    let (mut w, sink) = writer(&rgb(2, 3));
    for _ in 0..3 {
        w.write_row(&[0; 6]).unwrap();
    }
    let before = sink.len();
    let e = w.write_row(&[0; 6]).unwrap_err();
    assert!(matches!(e, Error::TooManyRows { height: 3, .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "a row was given after the last one: the image has 3 rows, all written"
    );
    assert_eq!(w.rows_written(), 3);
    assert_eq!(sink.len(), before);
    // Not poisoned: the image can still be finished.
    let png = w.finish().unwrap();
    assert!(png.bytes().ends_with(&IEND));
    let (mut w, _) = writer(&rgb(2, 1));
    w.write_row(&[0; 6]).unwrap();
    let e = w.write_row(&[0; 6]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a row was given after the last one: the image has 1 row, already written"
    );
}

#[test]
fn write_bytes_past_the_end_is_refused_with_the_bytes_left() {
    // Too many bytes in one piece: refused before any is used.
    let (mut w, sink) = writer(&rgb(2, 3));
    let headers = sink.len();
    let e = w.write_bytes(&[0; 19]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooManyBytes {
                given: 19,
                remaining: 18,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "write_bytes was given 19 bytes, more than the 18 bytes the image had left"
    );
    assert_eq!(w.rows_written(), 0);
    assert_eq!(sink.len(), headers);
    // After part of the image, the piece that goes one byte over.
    let (mut w, _) = writer(&rgb(2, 3));
    w.write_bytes(&[0; 7]).unwrap();
    let e = w.write_bytes(&[0; 12]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooManyBytes {
                given: 12,
                remaining: 11,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(w.rows_written(), 1);
    // The exact remainder is fine, and then nothing more, not even one byte.
    let (mut w, _) = writer(&rgb(2, 3));
    w.write_bytes(&[0; 7]).unwrap();
    w.write_bytes(&[0; 11]).unwrap();
    w.write_bytes(&[]).unwrap();
    let e = w.write_bytes(&[0]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::TooManyBytes {
                given: 1,
                remaining: 0,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "write_bytes was given 1 byte, more than the 0 bytes the image had left"
    );
    let mut w = StreamingWriter::new(Vec::new(), 1, 1, ColorType::Grayscale).unwrap();
    let e = w.write_bytes(&[0, 0]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "write_bytes was given 2 bytes, more than the 1 byte the image had left"
    );
}

#[test]
fn finish_reports_missing_rows() {
    let (w, sink) = writer(&rgb(2, 5));
    let headers = sink.len();
    let e = w.finish().unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingRows {
                written: 0,
                height: 5,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(sink.len(), headers, "nothing more written");
    let (mut w, sink) = writer(&rgb(2, 5));
    w.write_row(&[1; 6]).unwrap();
    w.write_row(&[2; 6]).unwrap();
    let e = w.finish().unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingRows {
                written: 2,
                height: 5,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("after 2 of 5 rows"), "{e}");
    assert!(!sink.bytes().ends_with(&IEND));
}

#[test]
fn finish_reports_an_incomplete_row() {
    let (mut w, sink) = writer(&rgb(4, 2));
    w.write_bytes(&[0; 12 + 5]).unwrap();
    assert_eq!(w.rows_written(), 1);
    let e = w.finish().unwrap_err();
    assert!(
        matches!(
            e,
            Error::IncompleteRow {
                have: 5,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "a row was left incomplete: 5 of 12 bytes given"
    );
    assert!(!sink.bytes().ends_with(&IEND));
    // The last row incomplete, all others there.
    let (mut w, _) = writer(&rgb(4, 2));
    w.write_bytes(&[0; 23]).unwrap();
    let e = w.finish().unwrap_err();
    assert!(
        matches!(
            e,
            Error::IncompleteRow {
                have: 11,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn write_row_after_incomplete_write_bytes() {
    let (mut w, _) = writer(&rgb(4, 3));
    w.write_bytes(&[0; 3]).unwrap();
    let e = w.write_row(&[0; 12]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::IncompleteRow {
                have: 3,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn pixel_helpers_that_do_not_fit_the_format_are_refused() {
    // Wrong N for the colour type.
    let (mut w, _) = writer(&rgb(2, 2));
    let e = w.write_pixels(&[[0u8; 4]; 2]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongPixelFormat {
                given: "[u8; 4] pixels",
                color: ColorType::Rgb,
                depth: BitDepth::Eight,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "[u8; 4] pixels do not fit an RGB image of bit depth 8: expected [u8; 3] pixels"
    );
    for (color, bad) in [
        (ColorType::Rgba, 3usize),
        (ColorType::Grayscale, 2),
        (ColorType::GrayscaleAlpha, 1),
        (ColorType::Rgb, 1),
    ] {
        let (mut w, _) = writer(&Options::new(2, 2, color));
        let e = match bad {
            1 => w.write_pixels(&[[0u8; 1]; 2]),
            2 => w.write_pixels(&[[0u8; 2]; 2]),
            _ => w.write_pixels(&[[0u8; 3]; 2]),
        }
        .unwrap_err();
        assert!(
            matches!(e, Error::WrongPixelFormat { color: c, .. } if c == color),
            "{color:?} with [u8; {bad}]: {e:?}"
        );
    }
    // Right N, but not 8 bits per sample.
    let (mut w, _) = writer(&rgb(2, 2).bit_depth(BitDepth::Sixteen));
    let e = w.write_pixels(&[[0u8; 3]; 4]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongPixelFormat {
                color: ColorType::Rgb,
                depth: BitDepth::Sixteen,
                ..
            }
        ),
        "{e:?}"
    );
    let (mut w, _) = writer(&Options::new(8, 2, ColorType::Grayscale).bit_depth(BitDepth::One));
    let e = w.write_pixels(&[[0u8; 1]; 8]).unwrap_err();
    assert!(matches!(e, Error::WrongPixelFormat { .. }), "{e:?}");
    // Right format, wrong number of pixels.
    let (mut w, _) = writer(&rgb(4, 2));
    w.write_pixels(&[[0u8; 3]; 4]).unwrap();
    let e = w.write_pixels(&[[0u8; 3]; 3]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongRowLength {
                row: 1,
                len: 9,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn u16_rows_on_images_below_16_bits_are_refused() {
    let (mut w, _) = writer(&rgb(2, 2));
    let e = w.write_row_u16(&[0; 6]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongPixelFormat {
                given: "u16 samples",
                color: ColorType::Rgb,
                depth: BitDepth::Eight,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("u16 samples do not fit"), "{e}");
    let (mut w, _) = writer(&rgb(2, 2).bit_depth(BitDepth::Sixteen));
    let e = w.write_row_u16(&[0; 5]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::WrongRowLength {
                row: 0,
                len: 10,
                expected: 12,
                ..
            }
        ),
        "{e:?}"
    );
}

// ---------------------------------------------------------------- poisoning

/// Ways to make a writer (RGB 8-bit, 4×4) refuse a call, all mistakes of
/// the caller. Returns the error and the image bytes accepted before it.
fn provoke(kind: usize, w: &mut StreamingWriter<Shared>) -> (Error<Infallible>, usize) {
    match kind {
        0 => (w.write_row(&[0; 11]).unwrap_err(), 0),
        1 => (w.write_pixels(&[[0u8; 4]; 4]).unwrap_err(), 0),
        2 => (w.write_row_u16(&[0; 6]).unwrap_err(), 0),
        3 => (w.write_bytes(&[0; 49]).unwrap_err(), 0),
        4 => {
            for _ in 0..4 {
                w.write_row(&[0; 12]).unwrap();
            }
            (w.write_row(&[0; 12]).unwrap_err(), 48)
        }
        5 => {
            w.write_bytes(&[0; 5]).unwrap();
            (w.write_row(&[0; 12]).unwrap_err(), 5)
        }
        6 => {
            w.write_bytes(&[0; 5]).unwrap();
            (w.write_bytes(&[0; 44]).unwrap_err(), 5)
        }
        _ => (w.write_pixels(&[[0u8; 3]; 5]).unwrap_err(), 0),
    }
}
const PROVOCATIONS: usize = 8;

/// The caller's mistakes are refused before anything changes: nothing
/// reaches the sink, the writer is not poisoned, and the image can be
/// completed with correct calls and decodes to exactly the rows accepted.
#[test]
fn caller_errors_leave_the_writer_usable() {
    for kind in 0..PROVOCATIONS {
        let (mut w, sink) = writer(&rgb(4, 4));
        let before = sink.len();
        let rows = w.rows_written();
        let (first, accepted) = provoke(kind, &mut w);
        assert!(!matches!(first, Error::Poisoned), "{kind}: {first:?}");
        // Only the correct calls before the mistake wrote anything.
        if accepted == 0 {
            assert_eq!(sink.len(), before, "{kind}: {first:?} wrote");
            assert_eq!(w.rows_written(), rows);
        }
        let len = sink.len();
        let rows = w.rows_written();
        // The same mistake again gives the same error, not `Poisoned`.
        if kind != 4 && kind != 5 && kind != 6 {
            let (again, _) = provoke(kind, &mut w);
            assert_eq!(format!("{again:?}"), format!("{first:?}"), "{kind}");
        }
        assert_eq!(sink.len(), len, "{kind}: bytes after {first:?}");
        assert_eq!(w.rows_written(), rows);
        // Then the rest of the image, correctly.
        let img: Vec<u8> = (0..48u8).collect();
        w.write_bytes(&img[accepted..]).unwrap();
        let png = w.finish().unwrap().bytes();
        let mut want = img.clone();
        want[..accepted].fill(0);
        let d = decode_png(&png).unwrap();
        assert_eq!(d.data, want, "{kind}: after {first:?}");
    }
}

/// A sink that fails during the second row (stored level, 1-byte IDAT
/// chunks: every row goes out at once).
fn failing_writer() -> (StreamingWriter<FailAfter>, Rc<RefCell<Vec<u8>>>) {
    let o = rgb(4, 4)
        .compression(Compression::Stored)
        .idat_chunk_size(1);
    // Signature and IHDR (33 bytes), then 13-byte IDAT chunks: the first
    // row's 20 bytes of zlib data (header, stored block header, filter byte
    // and row), then the second row's 13, of which 5 fit.
    let sink = FailAfter::new(33 + 13 * 25, true);
    let accepted = sink.accepted.clone();
    let mut w = StreamingWriter::with_options(sink, &o).unwrap();
    w.write_row(&[1; 12]).unwrap();
    let e = w.write_row(&[2; 12]).unwrap_err();
    assert!(matches!(e, Error::Sink(SinkFull { .. })), "{e:?}");
    (w, accepted)
}

/// After a sink error the output may end inside a chunk: every later call,
/// right or wrong, returns `Poisoned`, and nothing more reaches the sink.
#[test]
fn every_call_after_a_sink_error_is_poisoned() {
    type Call = fn(&mut StreamingWriter<FailAfter>) -> Result<(), Error<SinkFull>>;
    let calls: [(&str, Call); 11] = [
        ("write_row", |w| w.write_row(&[0; 12])),
        ("write_row of the wrong length", |w| w.write_row(&[0; 5])),
        ("write_bytes", |w| w.write_bytes(&[0; 3])),
        ("write_bytes empty", |w| w.write_bytes(&[])),
        ("write_bytes past the end", |w| w.write_bytes(&[0; 1000])),
        ("write_pixels", |w| w.write_pixels(&[[0u8; 3]; 4])),
        ("write_pixels of the wrong size", |w| {
            w.write_pixels(&[[0u8; 4]; 4])
        }),
        ("write_row_u16 on 8 bits", |w| w.write_row_u16(&[0; 6])),
        ("finish", |w| {
            let taken = std::mem::replace(w, failing_writer().0);
            taken.finish().map(|_| ())
        }),
        ("finish_with", |w| {
            let taken = std::mem::replace(w, failing_writer().0);
            taken.finish_with(&[]).map(|_| ())
        }),
        ("io::Write", |w| {
            use std::io::Write;
            let e = w.write(&[0; 12]).unwrap_err();
            let inner = e.into_inner().unwrap();
            let e = inner.downcast_ref::<Error<SinkFull>>().unwrap();
            assert!(matches!(e, Error::Poisoned), "{e:?}");
            Err(Error::Poisoned)
        }),
    ];
    for (name, call) in calls {
        let (mut w, accepted) = failing_writer();
        let len = accepted.borrow().len();
        for _ in 0..2 {
            let e = call(&mut w).unwrap_err();
            assert!(matches!(e, Error::Poisoned), "{name} gave {e:?}");
        }
        assert_eq!(accepted.borrow().len(), len, "{name} wrote after the error");
    }
    assert_eq!(
        Error::<Infallible>::Poisoned.to_string(),
        "the writer stopped at an earlier sink error or failed encoding thread and accepts nothing more"
    );
}

// ---------------------------------------------------------------- palette

/// An indexed image's pixels, pixel by pixel: index of pixel `x` in `row`.
fn index_at(row: &[u8], x: u32, bits: u32) -> u8 {
    let at = (x * bits) as usize;
    (row[at / 8] >> (8 - bits as usize - at % 8)) & ((1u16 << bits) - 1) as u8
}

fn set_index(row: &mut [u8], x: u32, bits: u32, index: u8) {
    let at = (x * bits) as usize;
    let shift = 8 - bits as usize - at % 8;
    let mask = (((1u16 << bits) - 1) as u8) << shift;
    row[at / 8] = (row[at / 8] & !mask) | (index << shift);
}

/// The first pixel whose index is not below `len`, the obvious way.
fn first_bad(row: &[u8], width: u32, bits: u32, len: usize) -> Option<(u32, u8)> {
    (0..width)
        .map(|x| (x, index_at(row, x, bits)))
        .find(|&(_, i)| i as usize >= len)
}

/// Rows of valid indexes with random padding bits, for a palette of `len`.
fn valid_rows(rng: &mut Rng, width: u32, height: u32, bits: u32, len: usize) -> Vec<Vec<u8>> {
    let n = (width * bits).div_ceil(8) as usize;
    (0..height)
        .map(|_| {
            let mut row = rng.bytes(n);
            for x in 0..width {
                set_index(&mut row, x, bits, rng.below(len) as u8);
            }
            row
        })
        .collect()
}

#[test]
fn palette_index_beyond_the_palette_is_refused_at_every_depth() {
    let mut rng = Rng::new(18);
    for bits in [1u32, 2, 4, 8] {
        let depth = BitDepth::from_bits(bits as u8).unwrap();
        let lens: Vec<usize> = match bits {
            8 => vec![1, 2, 4, 100, 200, 255],
            _ => (1..1usize << bits).collect(),
        };
        for len in lens {
            for width in [1u32, 3, 8, 9, 17, 40, 100] {
                let o = Options::new(width, 3, ColorType::Indexed)
                    .bit_depth(depth)
                    .palette(&vec![9u8; 3 * len]);
                let rows = valid_rows(&mut rng, width, 3, bits, len);
                let (mut w, sink) = writer(&o);
                w.write_row(&rows[0]).unwrap();
                // Row 1 with one bad index at a random place, padding random.
                let x = rng.below(width as usize) as u32;
                let index = (len + rng.below((1usize << bits) - len)) as u8;
                let mut bad = rows[1].clone();
                set_index(&mut bad, x, bits, index);
                assert_eq!(first_bad(&bad, width, bits, len), Some((x, index)));
                let before = sink.len();
                let e = w.write_row(&bad).unwrap_err();
                let case = format!("{bits} bits, {len} entries, width {width}, x {x}");
                match e {
                    Error::PaletteIndex {
                        row: 1,
                        x: ex,
                        index: ei,
                        palette_len,
                        ..
                    } if ex == x && ei == index && palette_len == len => {}
                    other => panic!("{case}: {other:?}"),
                }
                assert_eq!(sink.len(), before, "{case}: bytes written");
                assert_eq!(w.rows_written(), 1, "{case}");
                // Not poisoned: the right row is taken.
                w.write_row(&rows[1]).unwrap();
                // Through write_bytes, in two pieces cut anywhere: the piece
                // holding the bad index is refused whole.
                let cut = rng.below(bad.len() + 1);
                let mut bad = rows[2].clone();
                set_index(&mut bad, x, bits, index);
                let bad_byte = (x * bits / 8) as usize;
                if bad_byte < cut {
                    let e = w.write_bytes(&bad[..cut]).unwrap_err();
                    assert!(
                        matches!(e, Error::PaletteIndex { row: 2, x: ex, .. } if ex == x),
                        "{case} cut {cut}: {e:?}"
                    );
                    w.write_bytes(&rows[2][..cut]).unwrap();
                    w.write_bytes(&rows[2][cut..]).unwrap();
                } else {
                    w.write_bytes(&bad[..cut]).unwrap();
                    let e = w.write_bytes(&bad[cut..]).unwrap_err();
                    assert!(
                        matches!(e, Error::PaletteIndex { row: 2, x: ex, .. } if ex == x),
                        "{case} cut {cut}: {e:?}"
                    );
                    w.write_bytes(&rows[2][cut..]).unwrap();
                }
                assert_eq!(sink.len(), before, "{case}: bytes written");
                let png = w.finish().unwrap().bytes();
                let d = decode_png(&png).unwrap();
                let n = rows[0].len();
                for (y, row) in rows.iter().enumerate() {
                    for x in 0..width {
                        assert_eq!(
                            index_at(&d.data[y * n..], x, bits),
                            index_at(row, x, bits),
                            "{case}: pixel {x} of row {y}"
                        );
                    }
                }
            }
        }
    }
}

/// Padding bits (the unused low bits of a row's last byte) are not indexes:
/// all ones there pass even with a 1-entry palette.
#[test]
fn padding_bits_are_not_palette_indexes() {
    for (bits, width) in [
        (1u32, 1u32),
        (1, 7),
        (1, 9),
        (2, 1),
        (2, 3),
        (2, 5),
        (4, 1),
        (4, 3),
    ] {
        let depth = BitDepth::from_bits(bits as u8).unwrap();
        let o = Options::new(width, 2, ColorType::Indexed)
            .bit_depth(depth)
            .palette(&[1, 2, 3]);
        let n = (width * bits).div_ceil(8) as usize;
        let used = (width * bits) % 8;
        assert_ne!(used, 0);
        let mut row = vec![0u8; n];
        row[n - 1] = 0xFF >> used;
        let mut w = StreamingWriter::with_options(Vec::new(), &o).unwrap();
        w.write_row(&row).unwrap();
        w.write_bytes(&row).unwrap();
        let png = w.finish().unwrap();
        let d = decode_png(&png).unwrap();
        for y in 0..2 {
            for x in 0..width {
                assert_eq!(index_at(&d.data[y * n..], x, bits), 0);
            }
        }
        // The first padding bit moved into the last pixel is refused.
        let mut w = StreamingWriter::with_options(Vec::new(), &o).unwrap();
        row[n - 1] |= 1 << (8 - used);
        let e = w.write_row(&row).unwrap_err();
        assert!(
            matches!(e, Error::PaletteIndex { row: 0, x, palette_len: 1, .. } if x == width - 1),
            "{bits} bits, width {width}: {e:?}"
        );
    }
}

/// A full palette (2^depth entries) makes every index valid, and `encode`
/// checks like the writer, naming the row.
#[test]
fn full_palettes_skip_the_index_check_and_encode_checks_indexes() {
    for bits in [1u32, 2, 4, 8] {
        let depth = BitDepth::from_bits(bits as u8).unwrap();
        let o = Options::new(16, 2, ColorType::Indexed)
            .bit_depth(depth)
            .palette(&vec![3u8; 3 << bits]);
        let img = vec![0xFF; 2 * (16 * bits as usize).div_ceil(8)];
        encode(&o, &img).unwrap();
        let o = o.palette(&vec![3u8; 3 * ((1 << bits) - 1)]);
        let mut img2 = vec![0u8; img.len()];
        let n = img.len() / 2;
        img2[n + n / 2] = 0xFF;
        let e = encode(&o, &img2).unwrap_err();
        let x = (n / 2) as u32 * 8 / bits;
        assert!(
            matches!(e, Error::PaletteIndex { row: 1, x: ex, index, palette_len , .. } if ex == x && index as u32 == (1 << bits) - 1 && palette_len == (1 << bits) - 1),
            "{bits} bits: {e:?}"
        );
    }
    // The two examples.
    let o = Options::new(2, 1, ColorType::Indexed).palette(&[0; 12]);
    let e = encode(&o, &[3, 200]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "pixel 1 of row 0 has palette index 200, but the palette has only 4 entries: expected 0 to 3"
    );
    let o = Options::new(8, 1, ColorType::Indexed)
        .bit_depth(BitDepth::One)
        .palette(&[0; 3]);
    let e = encode(&o, &[0b0010_0000]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "pixel 2 of row 0 has palette index 1, but the palette has only 1 entry: expected index 0"
    );
}

// ---------------------------------------------------------------- encode

/// `encode` checks the image's length before it allocates: a one-byte image
/// that claims 2^31 − 1 rows at the stored level gets the error at once.
#[test]
fn encode_checks_the_image_length_first() {
    let tall =
        Options::new(2, MAX_DIMENSION, ColorType::Grayscale).compression(Compression::Stored);
    let e = encode(&tall, &[7]).unwrap_err();
    assert!(
        matches!(e, Error::WrongImageLength { len: 1, expected , .. } if expected == 2 * MAX_DIMENSION as u128),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "image data of 1 byte given, expected 4294967294 bytes (height × bytes per packed row)"
    );
    for (len, level) in [
        (0, Compression::Default),
        (11, Compression::Fast),
        (13, Compression::Stored),
    ] {
        let e = encode(&rgb(2, 2).compression(level), &vec![0; len]).unwrap_err();
        assert!(
            matches!(e, Error::WrongImageLength { len: l, expected: 12 , .. } if l == len),
            "{len}: {e:?}"
        );
    }
    // Invalid options are still reported as such, before the length.
    let e = encode(&Options::new(0, 5, ColorType::Rgb), &[1]).unwrap_err();
    assert!(matches!(e, Error::InvalidDimensions { .. }), "{e:?}");
    // The widest RGBA16 image that does not fit: the expected length is
    // computed without overflow.
    let e = encode(
        &Options::new(MAX_DIMENSION, MAX_DIMENSION, ColorType::Rgba).bit_depth(BitDepth::Sixteen),
        &[0; 8],
    )
    .unwrap_err();
    match e {
        Error::WrongImageLength {
            len: 8, expected, ..
        } => {
            assert_eq!(expected, MAX_DIMENSION as u128 * MAX_DIMENSION as u128 * 8)
        }
        Error::ImageTooLarge { .. } if cfg!(target_pointer_width = "32") => {}
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- messages

// ---------------------------------------------------------------- sinks

/// The failing sink's own error.
#[derive(Debug, PartialEq, Eq)]
struct SinkFull {
    at: usize,
}

impl fmt::Display for SinkFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sink full at byte {}", self.at)
    }
}

impl std::error::Error for SinkFull {}

/// Accepts `limit` bytes, then fails. With `partial`, the write that crosses
/// the limit stores the bytes that fit first (as `io::Write::write_all` on a
/// full disk would); otherwise it stores nothing of that write.
#[derive(Debug)]
struct FailAfter {
    limit: usize,
    partial: bool,
    accepted: Rc<RefCell<Vec<u8>>>,
    fail_flush: bool,
}

impl FailAfter {
    fn new(limit: usize, partial: bool) -> FailAfter {
        FailAfter {
            limit,
            partial,
            accepted: Rc::default(),
            fail_flush: false,
        }
    }
}

impl Sink for FailAfter {
    type Error = SinkFull;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), SinkFull> {
        let mut acc = self.accepted.borrow_mut();
        let room = self.limit - acc.len();
        if buf.len() <= room {
            acc.extend_from_slice(buf);
            return Ok(());
        }
        if self.partial {
            acc.extend_from_slice(&buf[..room]);
        }
        Err(SinkFull { at: self.limit })
    }
    fn flush(&mut self) -> Result<(), SinkFull> {
        if self.fail_flush {
            Err(SinkFull { at: usize::MAX })
        } else {
            Ok(())
        }
    }
}

#[test]
fn sink_errors_display_and_give_their_source() {
    let e: Error<SinkFull> = Error::Sink(SinkFull { at: 7 });
    assert_eq!(e.to_string(), "the sink failed: sink full at byte 7");
    let src = e.source().expect("Sink error has a source");
    assert_eq!(src.downcast_ref::<SinkFull>(), Some(&SinkFull { at: 7 }));
    // Other errors have none.
    let mut w = StreamingWriter::new(
        FailAfter::new(usize::MAX, false),
        1,
        2,
        ColorType::Grayscale,
    )
    .unwrap();
    w.write_row(&[0]).unwrap();
    let e = w.finish().unwrap_err();
    assert!(matches!(e, Error::MissingRows { written: 1, .. }), "{e:?}");
    assert!(e.source().is_none());
    let e: Error<SinkFull> = Error::Poisoned;
    assert!(e.source().is_none());
}

/// Encodes `img` into a sink failing after `limit` bytes. Returns the result
/// and the bytes the sink accepted; after a row error, checks the writer is
/// poisoned and quiet.
fn encode_into_failing(
    c: &Case,
    img: &[u8],
    limit: usize,
    partial: bool,
) -> (Result<(), Error<SinkFull>>, Vec<u8>) {
    let sink = FailAfter::new(limit, partial);
    let accepted = sink.accepted.clone();
    let result = (|| {
        let mut w = StreamingWriter::with_options(sink, &c.options())?;
        for row in img.chunks(c.fmt.row_bytes(c.width)) {
            if let Err(e) = w.write_row(row) {
                let len = accepted.borrow().len();
                let again = w.write_row(row).unwrap_err();
                assert!(matches!(again, Error::Poisoned), "{again:?}");
                assert!(matches!(w.finish(), Err(Error::Poisoned)));
                assert_eq!(accepted.borrow().len(), len, "bytes after the error");
                return Err(e);
            }
        }
        w.finish().map(|_| ())
    })();
    let bytes = accepted.borrow().clone();
    (result, bytes)
}

/// A 40×30 RGB image at three levels and IDAT sizes, and an 8×6 one with
/// 1-byte IDAT chunks, into sinks failing after every possible byte count.
#[test]
fn a_sink_failing_at_any_byte_poisons_the_writer_and_writes_no_iend() {
    let fmt = Format {
        color: ColorType::Rgb,
        depth: BitDepth::Eight,
    };
    let mut rng = Rng::new(99);
    let mut runs = 0;
    for (w, h, level, idat) in [
        (40, 30, Compression::Stored, Some(7u32)),
        (40, 30, Compression::Fast, Some(100)),
        (40, 30, Compression::Best, None),
        (8, 6, Compression::Default, Some(1)),
    ] {
        let img = make_image(&mut rng, w, h, fmt);
        let c = Case {
            width: w,
            height: h,
            fmt,
            filter: Filter::Adaptive,
            level,
            palette: None,
            trns: None,
            idat,
        };
        let full = common::encode_rows(&c, &img);
        common::check_png(&full, &c, &img);
        for partial in [true, false] {
            for limit in 0..=full.len() + 1 {
                let (r, bytes) = encode_into_failing(&c, &img, limit, partial);
                runs += 1;
                assert!(
                    full.starts_with(&bytes),
                    "{level:?} limit {limit}: not a prefix"
                );
                if limit >= full.len() {
                    r.unwrap_or_else(|e| panic!("{level:?} limit {limit}: {e:?}"));
                    assert_eq!(bytes, full);
                    common::check_png(&bytes, &c, &img);
                } else {
                    match r {
                        Err(Error::Sink(SinkFull { at })) => assert_eq!(at, limit),
                        other => panic!("{level:?} limit {limit}: {other:?}"),
                    }
                    assert!(
                        !bytes.ends_with(&IEND),
                        "{level:?} limit {limit}: IEND after a failure"
                    );
                    assert!(bytes.len() <= limit);
                    if partial {
                        assert_eq!(bytes.len(), limit);
                    }
                    assert!(decode_png(&bytes).is_err(), "truncated file decodes");
                }
            }
        }
        println!("{w}x{h} {level:?} idat {idat:?}: {} bytes", full.len());
    }
    println!("{runs} encodes into failing sinks");
}

#[test]
fn a_failing_flush_is_reported() {
    let mut sink = FailAfter::new(usize::MAX, true);
    sink.fail_flush = true;
    let accepted = sink.accepted.clone();
    let mut w = StreamingWriter::new(sink, 2, 2, ColorType::Grayscale).unwrap();
    w.write_row(&[1, 2]).unwrap();
    w.write_row(&[3, 4]).unwrap();
    let e = w.finish().unwrap_err();
    assert!(
        matches!(e, Error::Sink(SinkFull { at: usize::MAX })),
        "{e:?}"
    );
    assert!(accepted.borrow().ends_with(&IEND));
}

#[test]
fn dropped_writer_leaves_no_iend() {
    for rows in [0u32, 3, 8] {
        let mut out = Vec::new();
        {
            let mut w = StreamingWriter::new(&mut out, 8, 8, ColorType::Rgba).unwrap();
            for _ in 0..rows {
                w.write_row(&[9; 32]).unwrap();
            }
        }
        assert!(out.starts_with(&pngstream::SIGNATURE));
        assert!(!out.ends_with(&IEND), "{rows} rows");
        assert!(
            !out.windows(4).any(|w| w == b"IEND"),
            "IEND somewhere after {rows} rows"
        );
        assert!(decode_png(&out).is_err(), "{rows} rows: decodes");
    }
}

/// A `std::io::Write` that fails after `limit` bytes.
struct FailingWrite {
    written: usize,
    limit: usize,
    flush_fails: bool,
}

impl std::io::Write for FailingWrite {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.written >= self.limit {
            return Err(std::io::Error::other("disk full"));
        }
        let n = buf.len().min(self.limit - self.written);
        self.written += n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if self.flush_fails {
            Err(std::io::Error::new(
                std::io::ErrorKind::BrokenPipe,
                "flush failed",
            ))
        } else {
            Ok(())
        }
    }
}

#[test]
fn io_sink_over_failing_writer() {
    // Fails in the headers, in a row, and at the end.
    for limit in [0usize, 5, 40, 300, 1000] {
        let io = FailingWrite {
            written: 0,
            limit,
            flush_fails: false,
        };
        let o = rgb(20, 20).compression(Compression::Stored);
        let r = (|| {
            let mut w = StreamingWriter::with_options(IoSink(io), &o)?;
            for y in 0..20u8 {
                w.write_row(&[y; 60])?;
            }
            w.finish()
        })();
        let e = match r {
            Ok(_) => panic!("limit {limit}: succeeded"),
            Err(e) => e,
        };
        let Error::Sink(io_err) = &e else {
            panic!("limit {limit}: {e:?}")
        };
        assert_eq!(io_err.kind(), std::io::ErrorKind::Other);
        assert_eq!(io_err.to_string(), "disk full");
        assert_eq!(e.to_string(), "the sink failed: disk full");
        assert_eq!(e.source().unwrap().to_string(), "disk full");
        // Into io::Error: the sink's error comes back as it was.
        let back: std::io::Error = e.into();
        assert_eq!(back.kind(), std::io::ErrorKind::Other);
        assert_eq!(back.to_string(), "disk full");
    }
    // A failing flush.
    let io = FailingWrite {
        written: 0,
        limit: usize::MAX,
        flush_fails: true,
    };
    let mut w = StreamingWriter::new(IoSink(io), 1, 1, ColorType::Grayscale).unwrap();
    w.write_row(&[0]).unwrap();
    let e = w.finish().err().unwrap();
    assert!(
        matches!(&e, Error::Sink(io) if io.kind() == std::io::ErrorKind::BrokenPipe),
        "{e:?}"
    );
    // Other errors become InvalidInput.
    let w = StreamingWriter::new(IoSink(Vec::new()), 1, 1, ColorType::Grayscale).unwrap();
    let e: std::io::Error = w.finish().unwrap_err().into();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("pngstream-errors-{}-{name}", std::process::id()))
}

#[test]
fn file_sinks_write_complete_files_and_report_io_errors() {
    // create(): a default 8-bit image in a file.
    let path = temp_path("create.png");
    let mut w = StreamingWriter::create(&path, 9, 7, ColorType::Rgb).unwrap();
    let mut rng = Rng::new(5);
    let fmt = Format {
        color: ColorType::Rgb,
        depth: BitDepth::Eight,
    };
    let img = make_image(&mut rng, 9, 7, fmt);
    for row in img.chunks(27) {
        w.write_row(row).unwrap();
    }
    let IoSink(buf) = w.finish().unwrap();
    drop(buf.into_inner().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    let d = decode_png(&bytes).unwrap();
    assert_eq!((d.width, d.height, d.color_code, d.bits), (9, 7, 2, 8));
    assert_eq!(d.data, img);
    std::fs::remove_file(&path).unwrap();

    // create_with_options(): 16-bit RGBA with small IDATs.
    let path = temp_path("options.png");
    let o = Options::new(5, 4, ColorType::Rgba)
        .bit_depth(BitDepth::Sixteen)
        .idat_chunk_size(10);
    let mut w = StreamingWriter::create_with_options(&path, &o).unwrap();
    let samples: Vec<u16> = (0..20u16).map(|i| i.wrapping_mul(3001)).collect();
    for _ in 0..4 {
        w.write_row_u16(&samples).unwrap();
    }
    drop(w.finish().unwrap());
    let d = decode_png(&std::fs::read(&path).unwrap()).unwrap();
    let want: Vec<u8> = (0..4)
        .flat_map(|_| samples.iter().flat_map(|s| s.to_be_bytes()))
        .collect();
    assert_eq!(d.data, want);
    std::fs::remove_file(&path).unwrap();

    // Invalid options: an error, and no file.
    for (name, o) in [
        ("zero.png", Options::new(0, 4, ColorType::Rgb)),
        (
            "depth.png",
            Options::new(4, 4, ColorType::Rgb).bit_depth(BitDepth::Two),
        ),
        ("nopalette.png", Options::new(4, 4, ColorType::Indexed)),
        (
            "idat.png",
            Options::new(4, 4, ColorType::Rgb).idat_chunk_size(0),
        ),
    ] {
        let path = temp_path(name);
        let _ = std::fs::remove_file(&path);
        let e = StreamingWriter::create_with_options(&path, &o)
            .err()
            .unwrap();
        assert!(!matches!(e, Error::Sink(_)), "{e:?}");
        assert!(!path.exists(), "{name} created for invalid options");
    }
    let path = temp_path("zero2.png");
    let e = StreamingWriter::create(&path, 4, 0, ColorType::Grayscale)
        .err()
        .unwrap();
    assert!(matches!(
        e,
        Error::InvalidDimensions {
            width: 4,
            height: 0,
            ..
        }
    ));
    assert!(!path.exists());

    // A file that cannot be created: the io::Error, as a sink error.
    let path = temp_path("no-such-dir").join("x.png");
    let e = StreamingWriter::create(&path, 4, 4, ColorType::Grayscale)
        .err()
        .unwrap();
    assert!(
        matches!(&e, Error::Sink(io) if io.kind() == std::io::ErrorKind::NotFound),
        "{e:?}"
    );
}

/// `std::io::Write` feeds raw bytes like `write_bytes`; too many bytes come
/// back as `InvalidInput`, with none of them used, and the right bytes are
/// still taken.
#[test]
fn io_write_feeds_rows_and_reports_errors() {
    use std::io::Write;
    let img: Vec<u8> = (0..30u8).collect();
    let mut w =
        pngstream::StreamingWriter::new(Vec::new(), 5, 2, pngstream::ColorType::Rgb).unwrap();
    std::io::copy(&mut &img[..], &mut w).unwrap();
    let png = w.finish().unwrap();
    let expect = pngstream::encode(
        &pngstream::Options::new(5, 2, pngstream::ColorType::Rgb),
        &img,
    )
    .unwrap();
    assert_eq!(png, expect);

    let mut w =
        pngstream::StreamingWriter::new(Vec::new(), 5, 2, pngstream::ColorType::Rgb).unwrap();
    let err = w.write_all(&[0; 31]).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        "write_bytes was given 31 bytes, more than the 30 bytes the image had left"
    );
    w.write_all(&img).unwrap();
    assert_eq!(w.finish().unwrap(), expect);
}
