//! The gradient example draws the article's formula exactly:
//! `r = int(x/width*255)`, `g = int(y/height*255)`,
//! `b = int((1 - x/width)*255)` in Python floats (IEEE-754 doubles).
//!
//! The images come from the example's own code (`examples/common/gradient.rs`,
//! which `examples/gradient.rs` calls), go through `StreamingWriter` at every
//! level, are decoded by `common::decode_png` (strict checks of the chunks
//! and the zlib stream, then the `png` crate), and every pixel is compared with
//! two oracles: Python's own float arithmetic, run in a `python3` process,
//! and an `f64` evaluation written here. Where `python3` is missing the
//! Python comparison prints a notice and is skipped, unless
//! `PNGSTREAM_STRICT=1` makes it fail; the `f64` comparison always runs.

mod common;

#[path = "../examples/common/gradient.rs"]
mod gradient;

use std::process::Command;

use pngstream::{ColorType, Compression, Options, StreamingWriter};

/// The article's formula, in Python. Arguments: `width height` pairs; for
/// each pair it writes `width` red bytes, `width` blue bytes and `height`
/// green bytes to stdout.
const PYTHON_ORACLE: &str = "
import sys
args = [int(a) for a in sys.argv[1:]]
out = bytearray()
for width, height in zip(args[0::2], args[1::2]):
    out += bytes(int(x/width*255) for x in range(width))
    out += bytes(int((1 - x/width)*255) for x in range(width))
    out += bytes(int(y/height*255) for y in range(height))
sys.stdout.buffer.write(bytes(out))
";

/// Per-column red and blue and per-row green of one image.
struct Channels {
    red: Vec<u8>,
    blue: Vec<u8>,
    green: Vec<u8>,
}

/// Python's values for each `(width, height)`, or `None` (with a notice)
/// where `python3` cannot be run and `PNGSTREAM_STRICT=1` is not set.
fn python_channels(sizes: &[(u32, u32)]) -> Option<Vec<Channels>> {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(PYTHON_ORACLE);
    for &(w, h) in sizes {
        cmd.arg(w.to_string()).arg(h.to_string());
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            assert!(
                !common::strict(),
                "PNGSTREAM_STRICT=1 but python3 could not be run: {e}"
            );
            eprintln!("note: python3 could not be run ({e}); Python oracle skipped");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = &out.stdout[..];
    let mut take = |n: u32| {
        assert!(bytes.len() >= n as usize, "python3 wrote too few bytes");
        let (head, rest) = bytes.split_at(n as usize);
        bytes = rest;
        head.to_vec()
    };
    let channels = sizes
        .iter()
        .map(|&(w, h)| Channels {
            red: take(w),
            blue: take(w),
            green: take(h),
        })
        .collect();
    assert!(bytes.is_empty(), "python3 wrote too many bytes");
    Some(channels)
}

/// The formula in `f64`, written here independently of the example's code.
fn f64_pixel(x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    let fx = f64::from(x) / f64::from(width);
    let fy = f64::from(y) / f64::from(height);
    [
        (fx * 255.0).trunc() as u8,
        (fy * 255.0).trunc() as u8,
        ((1.0 - fx) * 255.0).trunc() as u8,
    ]
}

/// Encodes the example's gradient at `level` and decodes it strictly.
fn encode_and_decode(width: u32, height: u32, level: Compression) -> Vec<u8> {
    let options = Options::new(width, height, ColorType::Rgb).compression(level);
    let mut writer = StreamingWriter::with_options(Vec::new(), &options).unwrap();
    gradient::write_gradient(&mut writer).unwrap();
    let png = writer.finish().unwrap();
    let decoded =
        common::decode_png(&png).unwrap_or_else(|e| panic!("{width}x{height} {}: {e}", level));
    assert_eq!((decoded.width, decoded.height), (width, height));
    assert_eq!((decoded.color_code, decoded.bits), (2, 8), "8-bit RGB");
    assert!(!decoded.interlaced);
    assert_eq!(decoded.data.len(), width as usize * height as usize * 3);
    decoded.data
}

/// Compares every decoded pixel with the `f64` formula and, where given,
/// with Python's per-column and per-row values.
fn check_pixels(data: &[u8], width: u32, height: u32, python: Option<&Channels>, what: &str) {
    let row_len = width as usize * 3;
    for (y, row) in (0..height).zip(data.chunks_exact(row_len)) {
        for (x, px) in (0..width).zip(row.chunks_exact(3)) {
            let want = f64_pixel(x, y, width, height);
            assert_eq!(px, want, "{what}: pixel ({x}, {y}) against the f64 formula");
            if let Some(p) = python {
                let (xi, yi) = (x as usize, y as usize);
                assert_eq!(
                    px,
                    [p.red[xi], p.green[yi], p.blue[xi]],
                    "{what}: pixel ({x}, {y}) against Python"
                );
            }
        }
    }
}

fn check_sizes(sizes: &[(u32, u32)]) {
    let python = python_channels(sizes);
    for (i, &(width, height)) in sizes.iter().enumerate() {
        let p = python.as_ref().map(|c| &c[i]);
        for &level in Compression::ALL {
            let data = encode_and_decode(width, height, level);
            let what = format!("{width}x{height} {}", level);
            check_pixels(&data, width, height, p, &what);
        }
    }
}

#[test]
fn small_and_odd_sizes_decode_to_the_article_formula_at_every_level() {
    check_sizes(&[(1, 1), (3, 7), (997, 13), (13, 997), (1000, 2), (255, 256)]);
}

#[test]
fn the_4000_square_decodes_to_the_article_formula_at_every_level() {
    check_sizes(&[(4000, 4000)]);
}

/// The example's per-channel functions against Python for every column or
/// row of many sizes, without encoding.
#[test]
fn formula_functions_agree_with_python() {
    let mut sizes: Vec<(u32, u32)> = (1..=400).map(|n| (n, n)).collect();
    sizes.extend([(997, 13), (4000, 4000), (16000, 16000), (65535, 1)]);
    let Some(python) = python_channels(&sizes) else {
        return;
    };
    for (&(w, h), p) in sizes.iter().zip(&python) {
        for x in 0..w {
            let got = (gradient::article_red(x, w), gradient::article_blue(x, w));
            let want = (p.red[x as usize], p.blue[x as usize]);
            assert_eq!(got, want, "red, blue at x = {x}, width {w}");
        }
        for y in 0..h {
            assert_eq!(
                gradient::article_green(y, h),
                p.green[y as usize],
                "green at y = {y}, height {h}"
            );
        }
    }
}

/// Values Python 3 gives, where the integer shortcut the example used to
/// take (`x*255/width`, `255 - r`) does not.
#[test]
fn known_values_from_python() {
    // (x, width, int(x/width*255), int((1 - x/width)*255))
    for (x, w, r, b) in [
        (0, 1, 0, 255),
        (1, 1000, 0, 254),
        (500, 1000, 127, 127),
        (1, 3, 85, 170),
        (1, 7, 36, 218),
        (6, 7, 218, 36),
        (3999, 4000, 254, 0),
        (15999, 16000, 254, 0),
    ] {
        assert_eq!(gradient::article_red(x, w), r, "red at x = {x}, width {w}");
        assert_eq!(
            gradient::article_blue(x, w),
            b,
            "blue at x = {x}, width {w}"
        );
        assert_eq!(
            gradient::article_green(x, w),
            r,
            "green at y = {x}, height {w}"
        );
        assert_eq!(gradient::article_rgb(x, x, w, w), [r, r, b]);
        assert_eq!(f64_pixel(x, x, w, w), [r, r, b]);
    }
}
