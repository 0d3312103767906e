//! Writes the article's RGB gradient of any size row by row, then reports
//! time, throughput, file size and peak memory. Each pixel is the article's
//! formula in IEEE-754 doubles, as Python computes it:
//! `r = int(x/width*255)`, `g = int(y/height*255)`,
//! `b = int((1 - x/width)*255)` (see `examples/common/gradient.rs`).
//!
//! ```text
//! cargo run --release --example gradient -- [--threads N] [WIDTH HEIGHT [OUT.png [LEVEL]]]
//! ```
//!
//! Defaults: 4000 × 4000, `gradient.png`, level `default`, 1 thread. LEVEL
//! is one of `stored`, `fastest`, `fast`, `default`, `best`. `--threads N`
//! encodes on N threads (`Options::threads`; the `default` and `best`
//! levels use them).

#[path = "common/gradient.rs"]
mod gradient;

use std::time::Instant;

use pngstream::{ColorType, Compression, Options, StreamingWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = 1;
    if let Some(i) = args.iter().position(|a| a == "--threads") {
        let n = args.get(i + 1).ok_or("--threads needs a number")?;
        threads = n.parse()?;
        args.drain(i..i + 2);
    }
    let width: u32 = args.first().map_or(Ok(4000), |s| s.parse())?;
    let height: u32 = args.get(1).map_or(Ok(4000), |s| s.parse())?;
    let path = args.get(2).map_or("gradient.png", String::as_str);
    let level_name = args.get(3).map_or("default", String::as_str);
    let level: Compression = level_name.parse()?;

    let start = Instant::now();
    let options = Options::new(width, height, ColorType::Rgb)
        .compression(level)
        .threads(threads);
    let mut writer = StreamingWriter::create_with_options(path, &options)?;
    let used = writer.threads();
    // Red and blue are computed once per column, green once per row.
    gradient::write_gradient(&mut writer)?;
    writer.finish()?;
    let secs = start.elapsed().as_secs_f64();

    let bytes = std::fs::metadata(path)?.len();
    let raw = width as u64 * height as u64 * 3;
    println!(
        "wrote {path}: {width}x{height} RGB8, level {level_name}, {used} thread{}",
        if used == 1 { "" } else { "s" }
    );
    println!(
        "time {secs:.3} s, {:.1} MP/s, {:.0} MB/s of raw pixels",
        width as f64 * height as f64 / secs / 1e6,
        raw as f64 / secs / 1e6
    );
    println!(
        "size {bytes} bytes ({:.3} % of {raw} raw bytes)",
        bytes as f64 * 100.0 / raw as f64
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS {:.2} MiB", kib as f64 / 1024.0),
        None => println!("peak RSS unknown (no /proc/self/status)"),
    }
    Ok(())
}

/// VmHWM, the resident-set high-water mark, from Linux's /proc/self/status.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
