//! Output size and speed of every pngstream level against the `png` crate's
//! levels on the same images in the same run.
//!
//! `cargo bench --bench compression` (set `BENCH_REPS` for more repetitions;
//! the fastest of them counts). Every pngstream output is decoded with the
//! `png` crate and compared with the input.

mod common;

use std::time::{Duration, Instant};

use common::Workload;
use pngstream::Compression;

const PNG_LEVELS: [(png::Compression, &str); 5] = [
    (png::Compression::NoCompression, "NoCompression"),
    (png::Compression::Fastest, "Fastest"),
    (png::Compression::Fast, "Fast"),
    (png::Compression::Balanced, "Balanced"),
    (png::Compression::High, "High"),
];

#[derive(Default, Clone, Copy)]
struct Total {
    bytes: u64,
    time: Duration,
}

fn timed<T>(reps: usize, mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..reps {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (out.unwrap(), best)
}

fn main() {
    // Cargo passes `--bench`; nothing else to parse.
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let corpus = common::corpus();
    let procedural = [common::gradient(2000, 2000), common::noise(1000, 1000)];

    let raw_of = |ws: &[Workload]| ws.iter().map(|w| w.data.len() as u64).sum::<u64>();
    let pixels_of = |ws: &[Workload]| ws.iter().map(|w| w.pixels()).sum::<u64>();

    println!(
        "{} corpus images, {} MP, {} raw bytes",
        corpus.len(),
        pixels_of(&corpus) as f64 / 1e6,
        raw_of(&corpus)
    );
    for (label, set) in [
        ("corpus", &corpus[..]),
        ("gradient", &procedural[..1]),
        ("noise", &procedural[1..]),
    ] {
        if set.is_empty() {
            continue;
        }
        let mut ours = [Total::default(); 5];
        let mut theirs = [Total::default(); 5];
        for w in set {
            // Alternate the two encoders level by level, so that drifts in
            // machine load hit both alike.
            for i in 0..5 {
                let level = Compression::ALL[i];
                let (out, t) = timed(reps, || {
                    pngstream::encode(&w.options().compression(level), &w.data).unwrap()
                });
                common::verify(w, &out, &level.to_string());
                ours[i].bytes += out.len() as u64;
                ours[i].time += t;
                let (out, t) = timed(reps, || common::png_encode(w, PNG_LEVELS[i].0));
                theirs[i].bytes += out.len() as u64;
                theirs[i].time += t;
            }
        }
        let raw = raw_of(set) as f64;
        let mp = pixels_of(set) as f64 / 1e6;
        println!(
            "\n== {label}: {} image(s), {:.1} MP, {:.0} raw bytes",
            set.len(),
            mp,
            raw
        );
        println!(
            "{:<22} {:>12} {:>8} {:>9} {:>8}",
            "encoder/level", "bytes", "% raw", "MB/s", "MP/s"
        );
        for i in 0..5 {
            for (name, t) in [
                (format!("pngstream {}", Compression::ALL[i]), ours[i]),
                (format!("png {}", PNG_LEVELS[i].1), theirs[i]),
            ] {
                let s = t.time.as_secs_f64();
                println!(
                    "{:<22} {:>12} {:>7.2}% {:>9.1} {:>8.1}",
                    name,
                    t.bytes,
                    t.bytes as f64 * 100.0 / raw,
                    raw / s / 1e6,
                    mp / s
                );
            }
        }
        println!(
            "{:<22} {:>12} {:>12}",
            "pngstream/png", "size ratio", "speed ratio"
        );
        for i in 0..5 {
            println!(
                "{:<22} {:>12.3} {:>12.2}",
                format!("{} / {}", Compression::ALL[i], PNG_LEVELS[i].1),
                ours[i].bytes as f64 / theirs[i].bytes as f64,
                theirs[i].time.as_secs_f64() / ours[i].time.as_secs_f64()
            );
        }
    }
}
