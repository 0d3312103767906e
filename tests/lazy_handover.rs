//! The default level once panicked or dropped a byte when a block flushed by
//! the window slide switched the lazy parser to run-length coding while it
//! held a position back. These images (generated, no binary files) are the
//! inputs that showed it.

mod common;

use common::{Case, Format, check_png, encode_rows};
use pngstream::{BitDepth, ColorType, Compression, Filter};

/// Bands of `band` rows alternating between a repeated 4-row random
/// pattern and a noisy horizontal ramp, `w` x `h` RGB8.
fn banded(w: u32, h: u32, band: u32) -> Vec<u8> {
    let mut x: u32 = 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let n = w as usize * 3;
    let pattern: Vec<u8> = (0..n * 4).map(|_| rnd() as u8).collect();
    let mut img = Vec::with_capacity(n * h as usize);
    for y in 0..h {
        let repeated = (y / band) % 2 == 0;
        for i in 0..n {
            img.push(if repeated {
                pattern[(y as usize % 4) * n + i]
            } else {
                ((i / 3) as u32 * 255 / w + y / 3 + rnd() % 2) as u8
            });
        }
    }
    img
}

fn case(w: u32, h: u32, level: Compression) -> Case {
    Case {
        width: w,
        height: h,
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

#[test]
fn the_reported_banded_image_round_trips_at_every_level() {
    let img = banded(1500, 600, 64);
    for &level in Compression::ALL {
        let c = case(1500, 600, level);
        check_png(&encode_rows(&c, &img), &c, &img);
    }
}

#[test]
fn banded_images_of_many_widths_and_band_lengths_round_trip_at_default() {
    // The sweep that found 6 failures in 75 images before the fix.
    for w in [1000, 1500, 2000, 2500, 3000] {
        for band in [16, 23, 32, 41, 50, 64, 77, 90, 100] {
            let img = banded(w, 600, band);
            let c = case(w, 600, Compression::Default);
            check_png(&encode_rows(&c, &img), &c, &img);
        }
    }
}
