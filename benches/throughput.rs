//! Per-byte throughput of the parts and the whole, each against a peer in
//! the same run: CRC-32 vs `crc32fast`, Adler-32 vs `adler2` and
//! `simd-adler32`, single-filter encodes vs the `png` crate, and whole-image
//! encodes of the 4000 × 4000 gradient and of noise at every level vs the
//! `png` crate's `StreamWriter` at the matching level.
//!
//! `cargo bench --bench throughput --features __internal` (the feature exposes
//! the checksums to the benchmark). `BENCH_REPS` sets repetitions (best counts).

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::Workload;
use pngstream::{Compression, Filter, Sink};

fn best_of<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn mbs(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / t.as_secs_f64() / 1e6
}

fn row(name: &str, bytes: usize, ours: Duration, peer_name: &str, peer: Duration) {
    println!(
        "{name:<34} {:>9.0} MB/s   {peer_name:<26} {:>9.0} MB/s   ratio {:>5.2}",
        mbs(bytes, ours),
        mbs(bytes, peer),
        peer.as_secs_f64() / ours.as_secs_f64()
    );
}

/// A sink that counts bytes and keeps none, so sink cost does not dominate.
struct Discard(usize);

impl Sink for Discard {
    type Error = core::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.0 += buf.len();
        Ok(())
    }
}

fn ours_streaming(w: &Workload, level: Compression, filter: Option<Filter>) -> usize {
    let mut o = w.options().compression(level);
    if let Some(f) = filter {
        o = o.filter(f);
    }
    let mut wr = pngstream::StreamingWriter::with_options(
        Vec::with_capacity(w.data.len() + w.data.len() / 64),
        &o,
    )
    .unwrap();
    let n = wr.row_bytes();
    for r in w.data.chunks_exact(n) {
        wr.write_row(r).unwrap();
    }
    wr.finish().unwrap().len()
}

fn png_streaming(w: &Workload, level: png::Compression, filter: Option<png::Filter>) -> usize {
    let mut out = Vec::with_capacity(w.data.len() + w.data.len() / 64);
    let mut enc = png::Encoder::new(&mut out, w.width, w.height);
    enc.set_color(w.png_color());
    enc.set_depth(w.png_depth());
    enc.set_compression(level);
    if let Some(f) = filter {
        enc.set_filter(f);
    }
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let n = w.data.len() / w.height as usize;
    for r in w.data.chunks_exact(n) {
        std::io::Write::write_all(&mut stream, r).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out.len()
}

fn main() {
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let buf: Vec<u8> = common::noise(64 * 1024 / 3 + 1, 1).data[..64 * 1024].to_vec();
    let inner = 256; // 16 MiB per timing

    println!("== checksums, 64 KiB buffers");
    let ours = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| {
            acc ^ pngstream::internal::crc32(black_box(&buf))
        })
    });
    let fast = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| acc ^ crc32fast::hash(black_box(&buf)))
    });
    let base = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| {
            let mut h = crc32fast::Hasher::internal_new_baseline(0, 0);
            h.update(black_box(&buf));
            acc ^ h.finalize()
        })
    });
    let bytes = buf.len() * inner;
    row("CRC-32 pngstream", bytes, ours, "crc32fast portable", base);
    row(
        "CRC-32 pngstream",
        bytes,
        ours,
        "crc32fast default (SIMD)",
        fast,
    );
    let ours = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| {
            acc ^ pngstream::internal::adler32(black_box(&buf))
        })
    });
    let a2 = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| acc ^ adler2::adler32_slice(black_box(&buf)))
    });
    let simd = best_of(reps, || {
        (0..inner).fold(0u32, |acc, _| {
            acc ^ simd_adler32::adler32(&black_box(&buf[..]))
        })
    });
    row("Adler-32 pngstream", bytes, ours, "adler2", a2);
    row("Adler-32 pngstream", bytes, ours, "simd-adler32", simd);

    let gradient = common::gradient(4000, 4000);
    let noise = common::noise(4000, 4000);
    println!(
        "\n== single-filter encodes of the 4000x4000 gradient, uncompressed (filter cost dominates)"
    );
    for (ours_f, png_f, name) in [
        (Filter::Sub, png::Filter::Sub, "Sub"),
        (Filter::Up, png::Filter::Up, "Up"),
        (Filter::Average, png::Filter::Avg, "Average"),
        (Filter::Paeth, png::Filter::Paeth, "Paeth"),
        (
            Filter::Adaptive,
            png::Filter::Adaptive,
            "Adaptive (min sum)",
        ),
    ] {
        let ours = best_of(reps, || {
            ours_streaming(&gradient, Compression::Stored, Some(ours_f))
        });
        let peer = best_of(reps, || {
            png_streaming(&gradient, png::Compression::NoCompression, Some(png_f))
        });
        row(
            &format!("pngstream {name}"),
            gradient.data.len(),
            ours,
            &format!("png {name}"),
            peer,
        );
    }

    let levels = [
        (
            Compression::Stored,
            png::Compression::NoCompression,
            "NoCompression",
        ),
        (Compression::Fastest, png::Compression::Fastest, "Fastest"),
        (Compression::Fast, png::Compression::Fast, "Fast"),
        (Compression::Default, png::Compression::Balanced, "Balanced"),
        (Compression::Best, png::Compression::High, "High"),
    ];
    for w in [&gradient, &noise] {
        println!(
            "\n== whole image, {} RGB8, row by row into a Vec (png: StreamWriter, default filters)",
            w.name
        );
        for (ours_l, png_l, png_name) in levels {
            let r = if ours_l == Compression::Best { 1 } else { reps };
            let mut size = (0, 0);
            let ours = best_of(r, || size.0 = ours_streaming(w, ours_l, None));
            let peer = best_of(r, || size.1 = png_streaming(w, png_l, None));
            row(
                &format!("pngstream {} ({} B)", ours_l, size.0),
                w.data.len(),
                ours,
                &format!("png {png_name} ({} B)", size.1),
                peer,
            );
        }
    }
    // The whole-image figures above write into a fresh Vec per run, as a
    // one-off encode does; first-touch page faults of its 48 MB then cost
    // more than the encoder. The floor: the rows merely copied into one.
    let floor = best_of(reps, || {
        let mut v = Vec::with_capacity(gradient.data.len() + gradient.data.len() / 64);
        for r in gradient.data.chunks_exact(gradient.width as usize * 3) {
            v.extend_from_slice(r);
        }
        v.len()
    });
    println!(
        "\n== stored level, 4000x4000 gradient, where the sink is not the bottleneck\n\
         copying the rows into a fresh Vec (the floor of the figures above): {:.0} MB/s",
        mbs(gradient.data.len(), floor)
    );
    // The least any stored PNG costs: each row copied once and run through
    // both checksums.
    let mut out = Vec::with_capacity(gradient.data.len() + gradient.data.len() / 64);
    let least = best_of(reps, || {
        out.clear();
        let (mut crc, mut adler) = (
            pngstream::internal::Crc32::new(),
            pngstream::internal::Adler32::new(),
        );
        for r in gradient.data.chunks_exact(gradient.width as usize * 3) {
            adler.update(r);
            crc.update(r);
            out.extend_from_slice(r);
        }
        (crc.finish(), adler.finish())
    });
    println!(
        "copying the rows once into a reused Vec and running both checksums over them: {:.0} MB/s",
        mbs(gradient.data.len(), least)
    );
    // A Vec reused across encodes (cleared, capacity kept), for both.
    let ours = best_of(reps, || {
        out.clear();
        let o = gradient.options().compression(Compression::Stored);
        let mut wr = pngstream::StreamingWriter::with_options(&mut out, &o).unwrap();
        for r in gradient.data.chunks_exact(gradient.width as usize * 3) {
            wr.write_row(r).unwrap();
        }
        wr.finish().unwrap();
    });
    let peer = best_of(reps, || {
        out.clear();
        let mut enc = png::Encoder::new(&mut out, gradient.width, gradient.height);
        enc.set_color(gradient.png_color());
        enc.set_depth(gradient.png_depth());
        enc.set_compression(png::Compression::NoCompression);
        let mut writer = enc.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        for r in gradient.data.chunks_exact(gradient.width as usize * 3) {
            std::io::Write::write_all(&mut stream, r).unwrap();
        }
        stream.finish().unwrap();
        writer.finish().unwrap();
    });
    row(
        "pngstream stored, reused Vec",
        gradient.data.len(),
        ours,
        "png NoCompression, reused",
        peer,
    );
    let mut d = Discard(0);
    let discard = best_of(reps, || {
        let o = gradient.options().compression(Compression::Stored);
        let mut wr = pngstream::StreamingWriter::with_options(&mut d, &o).unwrap();
        for r in gradient.data.chunks_exact(gradient.width as usize * 3) {
            wr.write_row(r).unwrap();
        }
        wr.finish().unwrap();
    });
    println!(
        "pngstream stored, discarding sink: {:.0} MB/s",
        mbs(gradient.data.len(), discard)
    );
}
