//! Encoding on several threads (`Options::threads`): every pngstream level
//! with 1 thread, 2 threads and one per core, against mtpng at its default
//! level with the same thread counts, in the same run, on the benchmark
//! corpus and the 16000 × 16000 gradient of the gradient example.
//!
//! ```text
//! cargo bench --bench parallel
//! ```
//!
//! `BENCH_REPS` sets repetitions (each runs every configuration in turn,
//! and the fastest of each counts); `BENCH_GRADIENT`
//! the gradient's side (default 16000, 0 to leave it out). Rows go in one
//! by one into a sink that keeps only a checksum; every output is encoded
//! once more into memory and checked with the strict decode of the test
//! kit (the gradient row by row against the formula). Peak memory is the
//! most heap in use during the encode, counted by the global allocator
//! below: the encoder's own, without the input image or the output.

mod common;

use std::time::{Duration, Instant};

use common::{Workload, article, kit};
use pngstream::{Compression, Options, Sink, StreamingWriter};

#[global_allocator]
static GLOBAL: kit::counting::Counting = kit::counting::Counting;

/// Runs `f` and returns its result, its time and the most heap it added.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let base = kit::counting::start();
    let t = Instant::now();
    let r = f();
    let time = t.elapsed();
    (r, time, kit::counting::peak_since(base))
}

/// A sink that keeps the length and a CRC-32 of what it is given, nothing
/// more, so neither its memory nor its time is measured.
#[derive(Default)]
struct Discard {
    len: u64,
    crc: crc32fast::Hasher,
}

impl Discard {
    fn sum(self) -> (u64, u32) {
        (self.len, self.crc.finalize())
    }
}

impl Sink for Discard {
    type Error = std::convert::Infallible;
    fn write_all(&mut self, buf: &[u8]) -> Result<(), Self::Error> {
        self.len += buf.len() as u64;
        self.crc.update(buf);
        Ok(())
    }
}

impl std::io::Write for Discard {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.len += buf.len() as u64;
        self.crc.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One image: its size, and how to give its rows to either encoder.
trait Image {
    fn name(&self) -> String;
    fn options(&self) -> Options;
    fn raw_len(&self) -> u64;
    fn pixels(&self) -> u64;
    /// Writes every row to `w`.
    fn rows<S: Sink>(&self, w: &mut StreamingWriter<S>);
    /// Writes every row to mtpng.
    fn mtpng<W: std::io::Write>(&self, e: &mut mtpng::encoder::Encoder<W>);
    fn mtpng_header(&self) -> mtpng::Header;
    fn palette(&self) -> Option<&[u8]>;
    fn trns(&self) -> Option<&[u8]>;
    /// Checks `png` with the strict decode and against the pixels.
    fn verify(&self, png: &[u8], what: &str);
}

impl Image for Workload {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn options(&self) -> Options {
        Workload::options(self)
    }
    fn raw_len(&self) -> u64 {
        self.data.len() as u64
    }
    fn pixels(&self) -> u64 {
        Workload::pixels(self)
    }
    fn rows<S: Sink>(&self, w: &mut StreamingWriter<S>) {
        for row in self.data.chunks_exact(w.row_bytes()) {
            w.write_row(row).unwrap_or_else(|_| panic!("{}", self.name));
        }
    }
    fn mtpng<W: std::io::Write>(&self, e: &mut mtpng::encoder::Encoder<W>) {
        e.write_image_rows(&self.data).expect("mtpng rows");
    }
    fn mtpng_header(&self) -> mtpng::Header {
        let mut h = mtpng::Header::new();
        h.set_size(self.width, self.height).unwrap();
        let color = mtpng::ColorType::try_from(self.color.code()).unwrap();
        h.set_color(color, self.depth.bits()).unwrap();
        h
    }
    fn palette(&self) -> Option<&[u8]> {
        self.palette.as_deref()
    }
    fn trns(&self) -> Option<&[u8]> {
        self.trns.as_deref()
    }
    fn verify(&self, png: &[u8], what: &str) {
        common::verify(self, png, what);
    }
}

/// The gradient example's image, made row by row as the example does.
struct Gradient {
    side: u32,
}

impl Image for Gradient {
    fn name(&self) -> String {
        format!("gradient {0}x{0}", self.side)
    }
    fn options(&self) -> Options {
        Options::new(self.side, self.side, pngstream::ColorType::Rgb)
    }
    fn raw_len(&self) -> u64 {
        self.pixels() * 3
    }
    fn pixels(&self) -> u64 {
        self.side as u64 * self.side as u64
    }
    fn rows<S: Sink>(&self, w: &mut StreamingWriter<S>) {
        article::write_gradient(w).unwrap_or_else(|_| panic!("gradient"));
    }
    fn mtpng<W: std::io::Write>(&self, e: &mut mtpng::encoder::Encoder<W>) {
        let mut rows = article::GradientRows::new(self.side, self.side);
        for y in 0..self.side {
            e.write_image_rows(rows.row(y).as_flattened())
                .expect("mtpng rows");
        }
    }
    fn mtpng_header(&self) -> mtpng::Header {
        let mut h = mtpng::Header::new();
        h.set_size(self.side, self.side).unwrap();
        h.set_color(mtpng::ColorType::Truecolor, 8).unwrap();
        h
    }
    fn palette(&self) -> Option<&[u8]> {
        None
    }
    fn trns(&self) -> Option<&[u8]> {
        None
    }
    fn verify(&self, png: &[u8], what: &str) {
        let back = kit::strict_decode(png).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!((back.width, back.height), (self.side, self.side), "{what}");
        let mut rows = article::GradientRows::new(self.side, self.side);
        let n = self.side as usize * 3;
        for (y, row) in back.data.chunks_exact(n).enumerate() {
            assert!(row == rows.row(y as u32).as_flattened(), "{what}: row {y}");
        }
    }
}

fn ours<I: Image, S: Sink>(img: &I, level: Compression, threads: usize, sink: S) -> S {
    let o = img.options().compression(level).threads(threads);
    let mut w = StreamingWriter::with_options(sink, &o).unwrap_or_else(|_| panic!("options"));
    img.rows(&mut w);
    w.finish().unwrap_or_else(|_| panic!("finish"))
}

fn theirs<I: Image, W: std::io::Write>(img: &I, pool: &rayon::ThreadPool, sink: W) -> W {
    let mut options = mtpng::encoder::Options::new();
    options.set_thread_pool(pool).unwrap();
    let mut e = mtpng::encoder::Encoder::new(sink, &options);
    e.write_header(&img.mtpng_header()).unwrap();
    if let Some(p) = img.palette() {
        e.write_palette(p).unwrap();
    }
    if let Some(t) = img.trns() {
        e.write_transparency(t).unwrap();
    }
    img.mtpng(&mut e);
    e.finish().expect("mtpng finish")
}

/// What one encoder configuration did over a set of images.
#[derive(Default, Clone, Copy)]
struct Total {
    bytes: u64,
    time: Duration,
    peak: usize,
}

impl Total {
    fn add(&mut self, bytes: u64, time: Duration, peak: usize) {
        self.bytes += bytes;
        self.time += time;
        self.peak = self.peak.max(peak);
    }
}

/// The fastest run of one configuration so far, with the largest peak.
#[derive(Default, Clone, Copy)]
struct Best {
    sum: (u64, u32),
    time: Option<Duration>,
    peak: usize,
}

impl Best {
    /// Runs `f` once more.
    fn run(&mut self, f: impl FnOnce() -> (u64, u32)) {
        let (sum, time, peak) = measured(f);
        self.sum = sum;
        self.time = Some(self.time.map_or(time, |t| t.min(time)));
        self.peak = self.peak.max(peak);
    }
}

fn run<I: Image>(label: &str, set: &[I], threads: &[usize], reps: usize) {
    let raw: u64 = set.iter().map(|w| w.raw_len()).sum();
    let mp = set.iter().map(|w| w.pixels()).sum::<u64>() as f64 / 1e6;
    let pools: Vec<rayon::ThreadPool> = threads
        .iter()
        .map(|&n| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .unwrap()
        })
        .collect();
    let mut totals = vec![vec![Total::default(); threads.len()]; Compression::ALL.len()];
    let mut mt = vec![Total::default(); threads.len()];
    for img in set {
        // Each repetition runs every level and thread count, and mtpng, in
        // turn, so that drifts in machine load (a shared machine) hit them
        // alike: a configuration's fastest run and its peer's come from the
        // same stretch of time. The checks come after the timed runs:
        // decoding a large image makes work for the kernel (freeing and
        // reclaiming its memory) that would land in the next timing.
        let configs: Vec<(usize, Compression, usize, usize)> = Compression::ALL
            .iter()
            .enumerate()
            .flat_map(|(l, &level)| {
                threads
                    .iter()
                    .enumerate()
                    .map(move |(t, &n)| (l, level, t, n))
            })
            .collect();
        let mut ours_best = vec![Best::default(); configs.len()];
        let mut theirs_best = vec![Best::default(); pools.len()];
        for _ in 0..reps {
            for (best, &(_, level, _, n)) in ours_best.iter_mut().zip(&configs) {
                best.run(|| ours(img, level, n, Discard::default()).sum());
            }
            for (best, pool) in theirs_best.iter_mut().zip(&pools) {
                best.run(|| theirs(img, pool, Discard::default()).sum());
            }
        }
        let mut sums = Vec::new();
        for (best, &(l, level, t, n)) in ours_best.iter().zip(&configs) {
            totals[l][t].add(best.sum.0, best.time.unwrap_or_default(), best.peak);
            sums.push((level, n, best.sum));
        }
        for (t, best) in theirs_best.iter().enumerate() {
            mt[t].add(best.sum.0, best.time.unwrap_or_default(), best.peak);
        }
        for (level, n, sum) in sums {
            let what = format!("{} {level} {n} threads", img.name());
            let png = ours(img, level, n, Vec::new());
            assert_eq!(sum, (png.len() as u64, crc32fast::hash(&png)), "{what}");
            img.verify(&png, &what);
        }
        for (t, pool) in pools.iter().enumerate() {
            let png = theirs(img, pool, Vec::new());
            img.verify(
                &png,
                &format!("{} mtpng {} threads", img.name(), threads[t]),
            );
        }
    }
    println!(
        "\n== {label}: {} image(s), {mp:.1} MP, {raw} raw bytes",
        set.len()
    );
    println!(
        "{:<18} {:>7} {:>12} {:>8} {:>9} {:>8} {:>9} {:>10}",
        "encoder, level", "threads", "bytes", "% raw", "MB/s", "speed-up", "size +%", "peak heap"
    );
    let line = |name: &str, n: usize, t: Total, one: Total| {
        let s = t.time.as_secs_f64();
        println!(
            "{name:<18} {n:>7} {:>12} {:>7.3}% {:>9.1} {:>7.2}x {:>+8.3}% {:>8.2} MiB",
            t.bytes,
            t.bytes as f64 * 100.0 / raw as f64,
            raw as f64 / s / 1e6,
            one.time.as_secs_f64() / s,
            (t.bytes as f64 / one.bytes as f64 - 1.0) * 100.0,
            t.peak as f64 / (1 << 20) as f64,
        );
    };
    for (l, &level) in Compression::ALL.iter().enumerate() {
        for (t, &n) in threads.iter().enumerate() {
            line(&format!("pngstream {level}"), n, totals[l][t], totals[l][0]);
        }
    }
    for (t, &n) in threads.iter().enumerate() {
        line("mtpng default", n, mt[t], mt[0]);
    }
    // pngstream against mtpng at the same thread count.
    for (t, &n) in threads.iter().enumerate() {
        for level in [Compression::Default, Compression::Best] {
            let ours = totals[Compression::ALL.iter().position(|&c| c == level).unwrap()][t];
            println!(
                "pngstream {level} / mtpng default, {n} threads: size {:.3}, speed {:.2}",
                ours.bytes as f64 / mt[t].bytes as f64,
                mt[t].time.as_secs_f64() / ours.time.as_secs_f64()
            );
        }
    }
}

fn env(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

fn main() {
    let reps = env("BENCH_REPS").unwrap_or(1).max(1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1, 2, cores];
    threads.dedup();
    println!("{cores} cores; threads {threads:?}; best of {reps}");
    let corpus = common::corpus();
    if !corpus.is_empty() {
        run("corpus", &corpus, &threads, reps);
    }
    let side = env("BENCH_GRADIENT").unwrap_or(16000) as u32;
    if side > 0 {
        run("gradient", &[Gradient { side }], &threads, reps);
    }
}
