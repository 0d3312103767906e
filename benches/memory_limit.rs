//! Output size under `Options::memory_limit`, against the level without a
//! limit and against zlib given the same memory, on the same filtered bytes.
//!
//! `cargo bench --bench memory_limit` (set `BENCH_LIMITS` to a list of KiB,
//! e.g. `16,32`, and `BENCH_LEVELS` to a list of level names).
//!
//! For each limit and each image of the bench corpus, plus the article's
//! gradient at 1024² and 4000²:
//! - pngstream at `Default` with the limit: the writer's peak heap (a
//!   counting allocator; never above the limit, checked), the window and
//!   IDAT chunk size it chose, and the size of its zlib stream;
//! - the same without a limit;
//! - zlib (the C library, level 6) on the filtered bytes of the limited
//!   file, given what the limit leaves after our row buffers and IDAT
//!   chunk, by its own formula
//!   `(1 << (windowBits + 2)) + (1 << (memLevel + 9))`: for each window, the largest memLevel that fits (at most 9),
//!   and the smallest of those outputs counts.
//!
//! Then, for every level, the peak heap and file size at each limit on the
//! 1024 × 1024 gradient. Every file goes through the strict decode.

mod common;

use std::alloc::Layout;

use common::Workload;
use pngstream::{Compression, Error, Filter, Sink, StreamingWriter};

use common::kit::counting;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

/// Keeps the file in memory reserved before the measurement starts (the
/// sink's memory is not the writer's).
struct Keep(Vec<u8>);

impl Sink for Keep {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        assert!(
            self.0.len() + buf.len() <= self.0.capacity(),
            "reserve more"
        );
        self.0.extend_from_slice(buf);
        Ok(())
    }
}

struct Encoded {
    file: Vec<u8>,
    zlib_len: usize,
    peak: usize,
    window: usize,
    idat: usize,
    level: Compression,
    filter: Filter,
}

fn encode(w: &Workload, level: Compression, limit: Option<usize>) -> Result<Encoded, usize> {
    let mut o = w.options().compression(level);
    if let Some(l) = limit {
        o = o.memory_limit(l);
    }
    let sink = Keep(Vec::with_capacity(
        w.data.len() + w.data.len() / 8 + (1 << 16),
    ));
    let base = counting::start();
    let mut writer = match StreamingWriter::with_options(sink, &o) {
        Ok(wr) => wr,
        Err(Error::MemoryLimit { needed, .. }) => return Err(needed),
        Err(e) => panic!("{}: {e}", w.name),
    };
    let (window, idat, used, filter) = (
        writer.window_size(),
        writer.idat_chunk_size(),
        writer.compression(),
        writer.filter(),
    );
    let n = writer.row_bytes();
    for row in w.data.chunks(n) {
        writer.write_row(row).unwrap();
    }
    let sink = writer.finish().unwrap();
    let peak = counting::peak_since(base);
    let file = sink.0;
    let zlib_len = zlib_stream(&file).len();
    Ok(Encoded {
        file,
        zlib_len,
        peak,
        window,
        idat,
        level: used,
        filter,
    })
}

/// The concatenated IDAT payloads of a PNG.
fn zlib_stream(png: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in common::kit::walk_chunks(png).expect("valid chunks") {
        if &c.0 == b"IDAT" {
            out.extend_from_slice(&c.1);
        }
    }
    out
}

/// zlib's allocation callbacks, on Rust's allocator: each block starts
/// with its size.
extern "C" fn zalloc(
    _: libz_sys::voidpf,
    items: libz_sys::uInt,
    size: libz_sys::uInt,
) -> libz_sys::voidpf {
    let n = items as usize * size as usize + 16;
    // SAFETY: a non-zero size with the alignment of u128.
    unsafe {
        let p = std::alloc::alloc(Layout::from_size_align(n, 16).unwrap());
        if p.is_null() {
            return p.cast();
        }
        (p as *mut usize).write(n);
        p.add(16).cast()
    }
}

extern "C" fn zfree(_: libz_sys::voidpf, ptr: libz_sys::voidpf) {
    // SAFETY: `ptr` came from `zalloc`, 16 bytes past a block whose size
    // is stored at its start.
    unsafe {
        let p = (ptr as *mut u8).sub(16);
        let n = (p as *mut usize).read();
        std::alloc::dealloc(p, Layout::from_size_align(n, 16).unwrap());
    }
}

/// zlib's own compressor at level 6 with `window_bits` and `mem_level`.
fn zlib_size(data: &[u8], window_bits: i32, mem_level: i32) -> usize {
    use libz_sys::*;
    let mut out = vec![0u8; data.len() + data.len() / 100 + 1024];
    // SAFETY: a z_stream zeroed but for its allocation callbacks,
    // initialised with deflateInit2_, given buffers that outlive it, and
    // ended.
    unsafe {
        let mut s = std::mem::MaybeUninit::<z_stream>::zeroed();
        let p = s.as_mut_ptr();
        std::ptr::addr_of_mut!((*p).zalloc).write(zalloc);
        std::ptr::addr_of_mut!((*p).zfree).write(zfree);
        let mut s = s.assume_init();
        let r = deflateInit2_(
            &mut s,
            6,
            Z_DEFLATED,
            window_bits,
            mem_level,
            Z_DEFAULT_STRATEGY,
            zlibVersion(),
            std::mem::size_of::<z_stream>() as i32,
        );
        assert_eq!(r, Z_OK);
        s.next_in = data.as_ptr() as *mut u8;
        s.avail_in = data.len() as u32;
        s.next_out = out.as_mut_ptr();
        s.avail_out = out.len() as u32;
        let r = deflate(&mut s, Z_FINISH);
        assert_eq!(r, Z_STREAM_END);
        let n = s.total_out as usize;
        deflateEnd(&mut s);
        n
    }
}

/// zlib's memory for its deflate state, by its own formula.
fn zlib_memory(window_bits: i32, mem_level: i32) -> usize {
    (1 << (window_bits + 2)) + (1 << (mem_level + 9))
}

/// The smallest zlib output within `memory` bytes, and its settings.
fn zlib_best(data: &[u8], memory: usize) -> Option<(usize, i32, i32)> {
    let mut best: Option<(usize, i32, i32)> = None;
    for wb in 9..=15 {
        let Some(ml) = (1..=9).rev().find(|&ml| zlib_memory(wb, ml) <= memory) else {
            continue;
        };
        let size = zlib_size(data, wb, ml);
        if best.is_none_or(|b| size < b.0) {
            best = Some((size, wb, ml));
        }
    }
    best
}

fn list(var: &str, default: &[&str]) -> Vec<String> {
    match std::env::var(var) {
        Ok(v) => v.split(',').map(|s| s.trim().to_string()).collect(),
        Err(_) => default.iter().map(|s| s.to_string()).collect(),
    }
}

fn main() {
    let limits: Vec<usize> = list("BENCH_LIMITS", &["16", "32", "64", "128"])
        .iter()
        .map(|s| s.parse::<usize>().expect("KiB") << 10)
        .collect();
    let mut images = common::corpus();
    images.push(common::gradient(1024, 1024));
    images.push(common::gradient(4000, 4000));

    println!("# Default under a memory limit, vs Default unlimited and zlib 6 at the same memory");
    let unlimited: Vec<Encoded> = images
        .iter()
        .map(|w| encode(w, Compression::Default, None).unwrap())
        .collect();
    for &limit in &limits {
        println!("\n## limit {} KiB", limit >> 10);
        println!(
            "{:<28} {:>6} {:>6} {:>8} {:>11} {:>11} {:>7} {:>11} {:>9} {:>7}",
            "image",
            "level",
            "window",
            "peak",
            "ours",
            "unlimited",
            "vs unl",
            "zlib",
            "zlib w/m",
            "vs zlib"
        );
        let (mut ours, mut unl, mut zl, mut skipped) = (0usize, 0usize, 0usize, 0);
        let (mut ours_z, mut ours_gradient, mut unl_gradient) = (0usize, 0usize, 0usize);
        for (w, full) in images.iter().zip(&unlimited) {
            let e = match encode(w, Compression::Default, Some(limit)) {
                Ok(e) => e,
                Err(needed) => {
                    println!("{:<28} needs at least {needed} B", w.name);
                    skipped += 1;
                    continue;
                }
            };
            assert!(e.peak <= limit, "{}: peak {} > {limit}", w.name, e.peak);
            common::verify(w, &e.file, "limited encode");
            let filtered = common::kit::strict_decode(&e.file).unwrap().filtered;
            let rows = 3 * (w.data.len() / w.height as usize) + 1;
            let memory = limit.saturating_sub(rows + e.idat);
            let z = zlib_best(&filtered, memory);
            let (zs, zset) = match z {
                Some((s, wb, ml)) => (s, format!("{wb}/{ml}")),
                None => (0, "-".into()),
            };
            println!(
                "{:<28} {:>6} {:>6} {:>8} {:>11} {:>11} {:>+6.2}% {:>11} {:>9} {:>+6.2}%",
                w.name,
                e.level.to_string(),
                e.window,
                e.peak,
                e.zlib_len,
                full.zlib_len,
                (e.zlib_len as f64 / full.zlib_len as f64 - 1.0) * 100.0,
                zs,
                zset,
                if zs > 0 {
                    (e.zlib_len as f64 / zs as f64 - 1.0) * 100.0
                } else {
                    0.0
                }
            );
            let _ = e.filter;
            if w.name.starts_with("gradient") {
                ours_gradient += e.zlib_len;
                unl_gradient += full.zlib_len;
            } else {
                ours += e.zlib_len;
                unl += full.zlib_len;
            }
            if zs > 0 {
                zl += zs;
                ours_z += e.zlib_len;
            }
        }
        println!(
            "corpus ({} of {} images fit): ours {ours} B, unlimited {unl} B, {:+.2} %",
            images.len() - 2 - skipped.min(images.len() - 2),
            images.len() - 2,
            (ours as f64 / unl as f64 - 1.0) * 100.0
        );
        println!(
            "gradients: ours {ours_gradient} B, unlimited {unl_gradient} B, {:+.2} %",
            (ours_gradient as f64 / unl_gradient as f64 - 1.0) * 100.0
        );
        println!(
            "against zlib at the same memory (images where zlib fits): ours {ours_z} B, zlib {zl} B, {:+.2} %",
            (ours_z as f64 / zl as f64 - 1.0) * 100.0
        );
    }

    println!("\n# Every level on the 1024 x 1024 gradient: peak heap and file size");
    let g = common::gradient(1024, 1024);
    let levels: Vec<Compression> = list(
        "BENCH_LEVELS",
        &["stored", "fastest", "fast", "default", "best"],
    )
    .iter()
    .map(|s| s.parse().expect("level name"))
    .collect();
    let mut all_limits = vec![None];
    all_limits.extend(
        [8usize, 16, 32, 64, 128, 1024]
            .iter()
            .map(|k| Some(k << 10)),
    );
    println!(
        "{:<8} {:>9} {:>8} {:>6} {:>6} {:>9} {:>10}",
        "level", "limit", "used", "window", "idat", "peak", "file"
    );
    for level in levels {
        for &limit in &all_limits {
            let shown = limit.map_or("none".to_string(), |l| format!("{} KiB", l >> 10));
            match encode(&g, level, limit) {
                Ok(e) => {
                    if let Some(l) = limit {
                        assert!(e.peak <= l, "{level} at {l}: peak {}", e.peak);
                    }
                    common::verify(&g, &e.file, "gradient");
                    println!(
                        "{:<8} {:>9} {:>8} {:>6} {:>6} {:>9} {:>10}",
                        level.to_string(),
                        shown,
                        e.level.to_string(),
                        e.window,
                        e.idat,
                        e.peak,
                        e.file.len()
                    );
                }
                Err(needed) => println!("{level:<8} {shown:>9} needs {needed} B"),
            }
        }
    }
}
