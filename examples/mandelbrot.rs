//! Renders the Mandelbrot set as an 8-bit greyscale PNG, one row at a time.
//!
//! ```text
//! cargo run --release --example mandelbrot -- [WIDTH HEIGHT [OUT.png]]
//! ```

use pngstream::{ColorType, StreamingWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let width: u32 = args.first().map_or(Ok(3000), |s| s.parse())?;
    let height: u32 = args.get(1).map_or(Ok(2000), |s| s.parse())?;
    let path = args.get(2).map_or("mandelbrot.png", String::as_str);

    let mut writer = StreamingWriter::create(path, width, height, ColorType::Grayscale)?;
    let mut row = vec![0u8; width as usize];
    for y in 0..height {
        let ci = (y as f64 / height as f64) * 2.4 - 1.2;
        for (x, px) in row.iter_mut().enumerate() {
            let cr = (x as f64 / width as f64) * 3.5 - 2.5;
            *px = escape_shade(cr, ci);
        }
        writer.write_row(&row)?;
    }
    writer.finish()?;
    println!("wrote {path}: {width}x{height} greyscale");
    Ok(())
}

/// Grey level from how fast the point escapes: black inside the set.
fn escape_shade(cr: f64, ci: f64) -> u8 {
    const MAX_ITER: u32 = 255;
    let (mut zr, mut zi) = (0.0f64, 0.0f64);
    for i in 0..MAX_ITER {
        if zr * zr + zi * zi > 4.0 {
            return 255 - i as u8;
        }
        (zr, zi) = (zr * zr - zi * zi + cr, 2.0 * zr * zi + ci);
    }
    0
}
