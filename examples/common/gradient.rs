//! The article's gradient, shared by the gradient example, its test
//! (`tests/gradient.rs`) and the benchmarks (`benches/common`). Not an
//! example itself: Cargo makes examples only of files directly in
//! `examples/` and of `examples/*/main.rs`.
//!
//! The article computes, in Python floats (IEEE-754 doubles), with `int`
//! truncating toward zero:
//!
//! ```text
//! r = int(x/width*255)
//! g = int(y/height*255)
//! b = int((1 - x/width)*255)
//! ```
//!
//! The functions below do the same operations in the same order in `f64`;
//! `as u8` truncates toward zero like `int` (every value is within 0..=255).
#![allow(dead_code)]

use pngstream::{Error, Sink, StreamingWriter};

/// `int(x/width*255)`.
pub fn article_red(x: u32, width: u32) -> u8 {
    (f64::from(x) / f64::from(width) * 255.0) as u8
}

/// `int(y/height*255)`.
pub fn article_green(y: u32, height: u32) -> u8 {
    (f64::from(y) / f64::from(height) * 255.0) as u8
}

/// `int((1 - x/width)*255)`.
pub fn article_blue(x: u32, width: u32) -> u8 {
    ((1.0 - f64::from(x) / f64::from(width)) * 255.0) as u8
}

/// The article's pixel at (`x`, `y`) of a `width` × `height` image.
pub fn article_rgb(x: u32, y: u32, width: u32, height: u32) -> [u8; 3] {
    [
        article_red(x, width),
        article_green(y, height),
        article_blue(x, width),
    ]
}

/// The gradient's rows, one at a time: red and blue depend only on x, so
/// they are computed once per column; each row sets only green.
/// Green changes every `height / 255` rows or so, and the row is rewritten
/// only then.
pub struct GradientRows {
    height: u32,
    row: Vec<[u8; 3]>,
}

impl GradientRows {
    pub fn new(width: u32, height: u32) -> GradientRows {
        let row = (0..width)
            .map(|x| [article_red(x, width), 0, article_blue(x, width)])
            .collect();
        GradientRows { height, row }
    }

    /// Row `y` (`y < height`) as RGB pixels.
    pub fn row(&mut self, y: u32) -> &[[u8; 3]] {
        let g = article_green(y, self.height);
        if self.row.first().is_some_and(|px| px[1] != g) {
            for px in self.row.iter_mut() {
                px[1] = g;
            }
        }
        &self.row
    }
}

/// Writes every row of the gradient to `writer`, an 8-bit RGB image whose
/// size is taken from the writer; `finish` is left to the caller.
pub fn write_gradient<S: Sink>(writer: &mut StreamingWriter<S>) -> Result<(), Error<S::Error>> {
    let height = writer.height();
    let mut rows = GradientRows::new(writer.width(), height);
    for y in 0..height {
        writer.write_pixels(rows.row(y))?;
    }
    Ok(())
}

/// The whole gradient as packed RGB rows back to back.
pub fn gradient_bytes(width: u32, height: u32) -> Vec<u8> {
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    let mut rows = GradientRows::new(width, height);
    for y in 0..height {
        data.extend_from_slice(rows.row(y).as_flattened());
    }
    data
}
