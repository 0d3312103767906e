//! Encoding one image on several threads ([`Options::threads`]), behind the
//! same row-by-row API.
//!
//! The filtered image data (each row behind its filter byte) is cut into
//! segments of [`PARALLEL_SEGMENT_SIZE`] bytes: of whole rows, as many as
//! fit, where a row is at most an eighth of that, or else wherever the cuts
//! fall in the rows. The cuts depend on the image alone, so the output is
//! the same for any number of threads from 2 up.
//!
//! - The calling thread copies each row into the buffer of the segment
//!   being collected, behind the rows before it; a full segment goes to a
//!   pool of worker threads, and the next one starts with the rows it
//!   shares with it: the row above its first row, which filtering reads,
//!   and at the matching levels the rows of the 32 KiB before it.
//! - A worker filters the segment's rows, primes a reset compressor with
//!   the 32 KiB of filtered data before the segment as its dictionary,
//!   compresses the segment and ends it with a sync flush (the last
//!   segment with the final block), all as `deflate` states at its
//!   hand-overs. The compressed data replaces the rows in the same buffer,
//!   behind the row still being read. A segment that is one block that
//!   compresses well comes back instead as that block's tokens, unwritten
//!   (`Deflater::end_segment`).
//! - The calling thread writes the segments in order as IDAT chunks,
//!   through a `Joiner` that joins consecutive segments' tokens into
//!   shared blocks (and aligns the stream before a segment's bytes), and
//!   joins their Adler-32s with [`adler32::combine`].
//!
//! # Memory
//!
//! At most `workers + 1` segments are out at once (one waiting for a
//! worker, so that none waits for the calling thread), and one is being
//! collected: `workers + 2` buffers of about one segment each, made when
//! the writer starts, and as many blocks of tokens at most, with the
//! joiner's. Each worker holds a compressor, a filtered row (two with the
//! entropy filter) and a dictionary. See [`Options::threads`] for the
//! formula.
//!
//! # Failures
//!
//! Every segment sent out comes back, compressed or as a failure: a worker
//! catches its own panic, reports it and stops. A sink error or a failure
//! stops the pool (workers drop what they are doing at the next row), and
//! dropping the writer joins its threads, so none outlives it.
//!
//! [`Options::threads`]: crate::Options::threads
//! [`adler32::combine`]: crate::adler32::combine

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::adler32::{self, Adler32};
use crate::chunk;
use crate::color::Geometry;
use crate::deflate::{AllocError, Deflater, Joiner, Tokens, reserve, zeroed};
use crate::error::Error;
use crate::filter::{self, Filter};
use crate::level::{Compression, Engine};
use crate::sink::Sink;
use crate::zlib;

/// Bytes of filtered image data (rows with their filter bytes) per segment
/// when an image is encoded on several threads ([`Options::threads`]), at
/// most: where rows are short (an eighth of this or less) a segment is as
/// many whole rows as fit. An image of at most one segment is encoded on
/// the calling thread.
///
/// Each segment after the first restarts the compressor's statistics and
/// ends its last block (unless its one block joins its neighbours'), then
/// a 5-byte empty stored block, so larger segments make slightly smaller
/// files, and smaller ones leave more segments to share among the threads
/// in small images and take less memory.
///
/// [`Options::threads`]: crate::Options::threads
pub const PARALLEL_SEGMENT_SIZE: usize = 512 * 1024;

/// The history each segment after the first is compressed after: deflate's
/// window, at the levels that search for matches.
const DICTIONARY: usize = 32 * 1024;

/// The worker threads for an image: 0 to encode on the calling thread,
/// when `threads` is 0 or 1, the level gains nothing from threads, or the
/// image is one segment.
pub(crate) fn workers(threads: usize, level: Compression, geo: &Geometry) -> usize {
    if threads < 2 || !level.plan().parallel {
        return 0;
    }
    match segments(geo) {
        Some(n) if n >= 2 => threads.min(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => 0,
    }
}

/// The worker threads for `options`: [`workers`], fewer under a memory
/// limit, as many as fit beside the segments and compressors they need
/// (none: the calling thread encodes).
pub(crate) fn workers_within(options: &crate::Options, geo: &Geometry) -> usize {
    let mut w = workers(options.threads, options.compression, geo);
    if let Some(limit) = options.memory_limit {
        while w >= 2 && bytes(w, options, geo) > limit {
            w -= 1;
        }
        if w < 2 {
            w = 0;
        }
    }
    w
}

/// About the most the writer allocates with `w` worker threads (the
/// formula of [`Options::threads`](crate::Options::threads), with room
/// to spare for the thread handles and channels).
fn bytes(w: usize, options: &crate::Options, geo: &Geometry) -> usize {
    let r = geo.row_bytes + 1;
    let d = crate::deflate::Sizes::FULL.window();
    let compressor = crate::deflate::Sizes::FULL.bytes(options.compression.plan().engine, None)
        + PARALLEL_SEGMENT_SIZE / 2;
    // A segment may come back as the tokens of one block instead.
    let per_segment = PARALLEL_SEGMENT_SIZE + d + 3 * r + Joiner::SEGMENT_BYTES;
    let per_worker = compressor + d + 2 * r + 16 * 1024;
    (w + 2)
        .saturating_mul(per_segment)
        .saturating_add(w.saturating_mul(per_worker))
        .saturating_add(Joiner::BYTES)
        .saturating_add(options.effective_idat_chunk_size() as usize)
        .saturating_add(crate::metadata::Trailer::bytes(&options.metadata))
}

/// Segments in the filtered data of the image (`None` past 2^64 bytes).
fn segments(geo: &Geometry) -> Option<u64> {
    let stride = geo.row_bytes as u64 + 1;
    let total = (geo.height as u64).checked_mul(stride)?;
    Some(total.div_ceil(segment_len(stride)))
}

/// Bytes of filtered data per segment, for rows of `stride` bytes with
/// their filter bytes: [`PARALLEL_SEGMENT_SIZE`], cut down to whole rows
/// where a row is at most an eighth of it, so that segments start where
/// rows do. A cut inside a row splits runs of matches into odd lengths
/// (about 4 bytes more a segment on a smooth image); one at a row's start
/// falls where the filter byte breaks them anyway.
fn segment_len(stride: u64) -> u64 {
    let s = PARALLEL_SEGMENT_SIZE as u64;
    if stride <= s / 8 { s - s % stride } else { s }
}

/// What a worker needs to know about the image.
#[derive(Clone, Copy)]
struct Layout {
    row_bytes: usize,
    bpp: usize,
    filter: Filter,
    sparse: bool,
    level: Compression,
    /// Bytes of history before each segment after the first.
    dictionary: u64,
    /// A test makes the worker of this segment panic.
    #[cfg(test)]
    panic_at: Option<u64>,
}

impl Layout {
    /// Filtered bytes per row: the filter byte and the row.
    fn stride(&self) -> u64 {
        self.row_bytes as u64 + 1
    }
}

/// A segment on its way to a worker.
struct Job {
    index: u64,
    /// The row above the first row (zeros above the image), then the rows
    /// that overlap the dictionary or the segment, packed back to back.
    rows: Vec<u8>,
    /// The image row of the first row after the one above.
    first_row: u64,
    /// Offsets in the filtered data: the dictionary is
    /// `dict_start..start`, the segment `start..end`.
    dict_start: u64,
    start: u64,
    end: u64,
    /// The segment ends the image.
    last: bool,
}

/// A segment compressed, with the checksum of its filtered data.
struct Compressed {
    /// Raw deflate data, in the buffer the rows came in, ending on a byte
    /// boundary; empty when the segment is `tokens`.
    data: Vec<u8>,
    /// The segment as one open block, to be joined with the blocks around
    /// it ([`Joiner`]).
    tokens: Option<Box<Tokens>>,
    adler: u32,
    len: u64,
    last: bool,
}

/// Why a segment did not come back compressed.
enum Failure {
    /// The worker panicked, with this message.
    Panic(String),
    /// The worker could not allocate this many bytes.
    OutOfMemory(usize),
}

/// A worker's answer for segment `index`.
struct Done {
    index: u64,
    result: Result<Compressed, Failure>,
}

/// A worker's state: the compressor and the buffers of one row.
struct Worker {
    layout: Layout,
    deflate: Deflater,
    /// The filter byte and the filtered row.
    filtered: Vec<u8>,
    /// Room for trial filters with the entropy filter.
    scratch: Vec<u8>,
    /// The filtered data of the dictionary, gathered row by row.
    dict: Vec<u8>,
}

impl Worker {
    fn new(layout: Layout) -> Result<Self, AllocError> {
        let n = layout.row_bytes;
        let mut dict = Vec::new();
        reserve(&mut dict, layout.dictionary as usize)?;
        // The output is moved out after every row, but the flush at the end
        // of a segment can add a block and a stored run at once: room for
        // both, so that the buffer does not grow (and double).
        let mut deflate = Deflater::sized(layout.level, None, &crate::deflate::Sizes::FULL)?;
        let room = 2 * deflate.burst() + n;
        reserve(deflate.output(), room)?;
        Ok(Worker {
            deflate,
            filtered: zeroed(n + 1)?,
            scratch: zeroed(if layout.filter == Filter::Entropy {
                n + 1
            } else {
                0
            })?,
            dict,
            layout,
        })
    }

    /// Filters and compresses the segment of `job`; `None` if `cancel` was
    /// set meanwhile.
    fn run(&mut self, job: Job, cancel: &AtomicBool) -> Option<Result<Compressed, Failure>> {
        #[cfg(test)]
        if self.layout.panic_at == Some(job.index) {
            panic!("test panic in segment {}", job.index);
        }
        let Job {
            mut rows,
            first_row,
            dict_start,
            start,
            end,
            last,
            ..
        } = job;
        let Layout {
            row_bytes: n,
            bpp,
            filter,
            sparse,
            ..
        } = self.layout;
        let stride = self.layout.stride();
        debug_assert!(rows.len() % n == 0 && rows.len() >= 2 * n);
        debug_assert!(dict_start <= start && start < end);
        let deflate = &mut self.deflate;
        deflate.reset();
        self.dict.clear();
        let mut adler = Adler32::new();
        let mut primed = false;
        // The compressed data goes to the front of `rows`, up to the row
        // above the one being filtered; the rest waits in the compressor.
        let mut written = 0;
        // The row being filtered: its place in `rows` and in the data.
        let (mut at, mut offset) = (n, first_row * stride);
        let choosing = matches!(filter, Filter::Adaptive | Filter::Entropy);
        while at < rows.len() {
            if cancel.load(Relaxed) {
                return None;
            }
            let (prev, cur) = rows[at - n..at + n].split_at(n);
            let repeat = choosing && cur == prev;
            let out = &mut self.filtered;
            filter::filter_row(
                filter,
                repeat,
                sparse,
                cur,
                prev,
                bpp,
                out,
                &mut self.scratch,
            );
            let row_end = offset + stride;
            let part = |from: u64, to: u64| (from - offset) as usize..(to - offset) as usize;
            let (a, b) = (offset.max(dict_start), row_end.min(start));
            if a < b {
                self.dict.extend_from_slice(&out[part(a, b)]);
            }
            let (a, b) = (offset.max(start), row_end.min(end));
            if a < b {
                if !primed {
                    debug_assert_eq!(self.dict.len() as u64, start - dict_start);
                    deflate.set_dictionary(&self.dict);
                    primed = true;
                }
                let data = &out[part(a, b)];
                adler.update(data);
                deflate.write(data);
            }
            // Moved out when all of it fits, or half: what stays is shifted
            // down, and shifting it for every row of a few bytes would cost
            // more than the compression.
            let output = deflate.output();
            let k = output.len().min(at - written);
            if k > 0 && k >= output.len() / 2 {
                rows[written..written + k].copy_from_slice(&output[..k]);
                output.drain(..k);
                written += k;
            }
            (at, offset) = (at + n, row_end);
        }
        debug_assert!(primed && offset >= end);
        let tokens = match deflate.end_segment(last, written > 0) {
            // Boxed: the answers go through channels, whose blocks hold
            // many of them.
            Ok(tokens) => tokens.map(Box::new),
            Err(e) => return Some(Err(Failure::OutOfMemory(e.bytes))),
        };
        let output = deflate.output();
        rows.truncate(written);
        if reserve(&mut rows, output.len()).is_err() {
            return Some(Err(Failure::OutOfMemory(output.len())));
        }
        rows.extend_from_slice(output);
        output.clear();
        debug_assert!(tokens.is_none() || rows.is_empty());
        Some(Ok(Compressed {
            data: rows,
            tokens,
            adler: adler.finish(),
            len: end - start,
            last,
        }))
    }
}

/// The worker threads and the channels to them; dropping it stops and
/// joins them.
struct Pool {
    /// Segments for the workers (`None` once the pool is stopping).
    jobs: Option<Sender<Job>>,
    /// Their answers. In a mutex only so that the writer stays `Sync`; the
    /// calling thread alone reads it.
    results: Mutex<Receiver<Done>>,
    cancel: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// When no thread could be started: segments are compressed on the
    /// calling thread as they fill.
    inline: Option<Box<Worker>>,
}

impl Pool {
    /// Starts a thread for each worker (with `spawn`); with none started,
    /// keeps one worker to run on the calling thread.
    fn start(workers: Vec<Worker>, spawn: bool) -> Result<Pool, AllocError> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let cancel = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(workers.len());
        let mut layout = None;
        let mut workers = workers.into_iter();
        if !spawn {
            return Ok(Pool {
                jobs: Some(job_tx),
                results: Mutex::new(done_rx),
                cancel,
                threads,
                inline: workers.next().map(Box::new),
            });
        }
        for worker in workers {
            layout = Some(worker.layout);
            let (jobs, results, cancel) = (job_rx.clone(), done_tx.clone(), cancel.clone());
            let spawned = std::thread::Builder::new()
                .name("pngstream".into())
                .spawn(move || work(worker, &jobs, &results, &cancel));
            match spawned {
                Ok(handle) => threads.push(handle),
                // Too many threads for the system: go on with those there are.
                Err(_) => break,
            }
        }
        let inline = match (threads.is_empty(), layout) {
            (true, Some(layout)) => Some(Box::new(Worker::new(layout)?)),
            _ => None,
        };
        Ok(Pool {
            jobs: Some(job_tx),
            results: Mutex::new(done_rx),
            cancel,
            threads,
            inline,
        })
    }

    /// Tells the workers to drop their segments and stop.
    fn stop(&mut self) {
        self.cancel.store(true, Relaxed);
        self.jobs = None;
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.stop();
        for thread in self.threads.drain(..) {
            // A worker that panicked has reported it already.
            let _ = thread.join();
        }
    }
}

/// A worker thread: compresses segments until the channel closes, and
/// answers every segment it takes, unless the pool is stopping.
fn work(
    mut worker: Worker,
    jobs: &Mutex<Receiver<Job>>,
    results: &Sender<Done>,
    cancel: &AtomicBool,
) {
    loop {
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = job else {
            return;
        };
        let index = job.index;
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run(job, cancel)));
        let (result, panicked) = match outcome {
            Ok(Some(result)) => (result, false),
            // Stopped: nobody waits for the segment.
            Ok(None) => continue,
            Err(payload) => (Err(Failure::Panic(panic_message(payload))), true),
        };
        // After a panic the worker's state is not to be trusted: it stops.
        if results.send(Done { index, result }).is_err() || panicked {
            return;
        }
    }
}

fn panic_message(payload: Box<dyn core::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => String::from(*s),
            Err(_) => String::from("a panic without a message"),
        },
    }
}

/// The calling thread's side: collects rows into segments, hands them to
/// the pool and writes what comes back, in order.
pub(crate) struct Parallel {
    layout: Layout,
    /// Filtered bytes in the image, and segments.
    total: u64,
    segments: u64,
    /// Rows received.
    rows: u64,
    /// The segment being collected (`None` once the last is out).
    current: Option<Job>,
    pool: Pool,
    /// Segments out (sent and not yet written), and the most allowed.
    in_flight: usize,
    max_in_flight: usize,
    /// The next segment to write, and those that came back before it.
    next_out: u64,
    ready: Vec<(u64, Compressed)>,
    /// Buffers for the segments to come.
    free: Vec<Vec<u8>>,
    /// The end of the deflate stream: the open block segments join.
    joiner: Joiner,
    /// Compressed data that does not fill an IDAT chunk yet.
    carry: Vec<u8>,
    idat_size: usize,
    /// The Adler-32 of the segments written so far.
    adler: u32,
}

impl Parallel {
    /// Starts `workers` threads (see [`workers`]) for an image of `geo`.
    pub(crate) fn new(
        geo: &Geometry,
        filter: Filter,
        sparse: bool,
        level: Compression,
        workers: usize,
        idat_size: usize,
    ) -> Result<Self, AllocError> {
        let matching = matches!(level.plan().engine, Engine::Lazy(_) | Engine::Optimal(_));
        let layout = Layout {
            row_bytes: geo.row_bytes,
            bpp: geo.bpp,
            filter,
            sparse,
            level,
            dictionary: if matching { DICTIONARY as u64 } else { 0 },
            #[cfg(test)]
            panic_at: None,
        };
        Self::with_layout(layout, geo.height, workers, idat_size, true)
    }

    /// With `spawn` false, the segments are compressed on the calling
    /// thread, by one worker, as when no thread can be started.
    fn with_layout(
        layout: Layout,
        height: u32,
        workers: usize,
        idat_size: usize,
        spawn: bool,
    ) -> Result<Self, AllocError> {
        let stride = layout.stride();
        let total = height as u64 * stride;
        let segments = total.div_ceil(segment_len(stride));
        // Rows overlapping a dictionary and a segment, and the row above.
        let span = (PARALLEL_SEGMENT_SIZE as u64 + layout.dictionary) / stride + 3;
        let buffer = usize::try_from(span)
            .ok()
            .and_then(|rows| rows.checked_mul(layout.row_bytes))
            .ok_or(AllocError { bytes: usize::MAX })?;
        let max_in_flight = workers + 1;
        let buffers = (max_in_flight + 1).min(usize::try_from(segments).unwrap_or(usize::MAX));
        let mut free = Vec::new();
        reserve(&mut free, buffers)?;
        for _ in 0..buffers {
            let mut b = Vec::new();
            reserve(&mut b, buffer)?;
            free.push(b);
        }
        let mut first = free.pop().unwrap_or_default();
        first.resize(layout.row_bytes, 0);
        let mut carry = Vec::new();
        reserve(&mut carry, idat_size.min(1 << 22))?;
        let mut states = Vec::new();
        reserve(&mut states, workers)?;
        for _ in 0..workers {
            states.push(Worker::new(layout)?);
        }
        let mut p = Parallel {
            layout,
            total,
            segments,
            rows: 0,
            current: None,
            pool: Pool::start(states, spawn)?,
            in_flight: 0,
            max_in_flight,
            next_out: 0,
            ready: Vec::new(),
            free,
            joiner: Joiner::new()?,
            carry,
            idat_size,
            adler: adler32::Adler32::new().finish(),
        };
        reserve(&mut p.ready, max_in_flight)?;
        p.current = Some(p.job(0, first));
        Ok(p)
    }

    /// Segment `index`, to be collected in `rows`, which already holds the
    /// row above its first row and any rows after it received so far.
    fn job(&self, index: u64, rows: Vec<u8>) -> Job {
        let len = segment_len(self.layout.stride());
        let start = index * len;
        let dict_start = if index == 0 {
            0
        } else {
            start.saturating_sub(self.layout.dictionary)
        };
        Job {
            index,
            rows,
            first_row: dict_start / self.layout.stride(),
            dict_start,
            start,
            end: (start + len).min(self.total),
            last: index + 1 == self.segments,
        }
    }

    /// Worker threads running (0 when segments are compressed on the
    /// calling thread).
    pub(crate) fn threads(&self) -> usize {
        self.pool.threads.len()
    }

    /// Takes the next row (all of them in order, exactly `height`), sends
    /// out the segments it completes and writes the segments done.
    pub(crate) fn push_row<S: Sink>(
        &mut self,
        sink: &mut S,
        row: &[u8],
    ) -> Result<(), Error<S::Error>> {
        let r = self.take_row(sink, row);
        if r.is_err() {
            self.pool.stop();
        }
        r
    }

    fn take_row<S: Sink>(&mut self, sink: &mut S, row: &[u8]) -> Result<(), Error<S::Error>> {
        let Some(current) = &mut self.current else {
            debug_assert!(false, "a row after the last");
            return Ok(());
        };
        debug_assert_eq!(row.len(), self.layout.row_bytes);
        current.rows.extend_from_slice(row);
        self.rows += 1;
        let row_end = self.rows * self.layout.stride();
        // A row can complete several segments when rows are long.
        while self.current.as_ref().is_some_and(|job| job.end <= row_end) {
            while self.in_flight >= self.max_in_flight {
                self.wait(sink)?;
            }
            let Some(job) = self.current.take() else {
                break;
            };
            if !job.last {
                self.current = Some(self.next_job(&job)?);
            }
            self.send(job, sink)?;
        }
        self.poll(sink)
    }

    /// The segment after `job`, starting with the rows of `job` it shares.
    fn next_job<E>(&mut self, job: &Job) -> Result<Job, Error<E>> {
        let n = self.layout.row_bytes;
        let mut rows = self.free.pop().unwrap_or_default();
        rows.clear();
        let mut next = self.job(job.index + 1, Vec::new());
        // `job.rows` starts with the row above `job.first_row`, and the new
        // segment's rows start no earlier.
        debug_assert!(next.first_row >= job.first_row);
        let skip = (next.first_row - job.first_row) as usize * n;
        let tail = &job.rows[skip..];
        reserve(&mut rows, tail.len()).map_err(|e| Error::OutOfMemory { bytes: e.bytes })?;
        rows.extend_from_slice(tail);
        next.rows = rows;
        Ok(next)
    }

    /// Hands `job` to a worker (or, without threads, compresses it here).
    fn send<E>(&mut self, job: Job, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        self.in_flight += 1;
        let index = job.index;
        if let Some(worker) = &mut self.pool.inline {
            let never = AtomicBool::new(false);
            let run = std::panic::AssertUnwindSafe(|| worker.run(job, &never));
            let result = match std::panic::catch_unwind(run) {
                Ok(Some(result)) => result,
                Ok(None) => Err(Failure::Panic(String::from("stopped"))),
                Err(payload) => Err(Failure::Panic(panic_message(payload))),
            };
            if result.is_err() {
                // As a worker thread would, it stops after a failure.
                self.pool.inline = None;
            }
            return self.take(Done { index, result }, sink);
        }
        let sent = self
            .pool
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            return Err(gone());
        }
        Ok(())
    }

    /// Writes the segments that have come back, as far as they are in order.
    fn poll<E>(&mut self, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        loop {
            let done = match self.pool.results.lock() {
                Ok(results) => results.try_recv(),
                Err(poisoned) => poisoned.into_inner().try_recv(),
            };
            match done {
                Ok(done) => self.take(done, sink)?,
                Err(_) => return Ok(()),
            }
        }
    }

    /// Waits until the next segment in order is back and written.
    fn wait<E>(&mut self, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        let target = self.next_out + 1;
        while self.next_out < target {
            let done = match self.pool.results.lock() {
                Ok(results) => results.recv(),
                Err(poisoned) => poisoned.into_inner().recv(),
            };
            match done {
                Ok(done) => self.take(done, sink)?,
                // Every worker has ended, with this segment still out.
                Err(_) => return Err(gone()),
            }
        }
        Ok(())
    }

    /// Takes a worker's answer, and writes every segment now in order.
    fn take<E>(&mut self, done: Done, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        let compressed = match done.result {
            Ok(c) => c,
            Err(Failure::Panic(message)) => return Err(Error::WorkerPanicked { message }),
            Err(Failure::OutOfMemory(bytes)) => return Err(Error::OutOfMemory { bytes }),
        };
        self.ready.push((done.index, compressed));
        while let Some(i) = self.ready.iter().position(|r| r.0 == self.next_out) {
            let (index, segment) = self.ready.swap_remove(i);
            self.write(index, segment, sink)?;
        }
        Ok(())
    }

    /// Writes segment `index`, the next in order.
    fn write<E>(
        &mut self,
        index: u64,
        mut segment: Compressed,
        sink: &mut impl Sink<Error = E>,
    ) -> Result<(), Error<E>> {
        debug_assert_eq!(index, self.next_out);
        if index == 0 {
            self.push(&zlib::header(self.layout.level, 15), sink)?;
        }
        match &segment.tokens {
            Some(tokens) => {
                debug_assert!(segment.data.is_empty());
                self.joiner.add_tokens(tokens);
                if segment.last {
                    self.joiner.finish();
                }
            }
            None => self.joiner.before_bytes(),
        }
        let mut joined = core::mem::take(self.joiner.output());
        let pushed = self.push(&joined, sink);
        joined.clear();
        *self.joiner.output() = joined;
        pushed?;
        self.push(&segment.data, sink)?;
        self.adler = adler32::combine(self.adler, segment.adler, segment.len);
        if segment.last {
            self.push(&self.adler.to_be_bytes(), sink)?;
            if !self.carry.is_empty() {
                chunk::write_chunk(sink, chunk::IDAT, &self.carry).map_err(Error::Sink)?;
                self.carry.clear();
            }
        }
        self.next_out += 1;
        self.in_flight -= 1;
        segment.data.clear();
        self.free.push(segment.data);
        Ok(())
    }

    /// Writes `data` as IDAT chunks of the chunk size, behind what is
    /// carried; the rest of a chunk waits for more.
    fn push<E>(
        &mut self,
        mut data: &[u8],
        sink: &mut impl Sink<Error = E>,
    ) -> Result<(), Error<E>> {
        let size = self.idat_size;
        if !self.carry.is_empty() {
            let k = (size - self.carry.len()).min(data.len());
            self.carry.extend_from_slice(&data[..k]);
            data = &data[k..];
            if self.carry.len() < size {
                return Ok(());
            }
            chunk::write_chunk(sink, chunk::IDAT, &self.carry).map_err(Error::Sink)?;
            self.carry.clear();
        }
        let done = chunk::write_idat(sink, data, size, false).map_err(Error::Sink)?;
        self.carry.extend_from_slice(&data[done..]);
        Ok(())
    }

    /// After the last row: waits for every segment and writes the end of
    /// the zlib stream.
    pub(crate) fn finish<S: Sink>(&mut self, sink: &mut S) -> Result<(), Error<S::Error>> {
        debug_assert!(self.current.is_none(), "rows missing");
        let mut r = Ok(());
        while r.is_ok() && self.next_out < self.segments {
            r = self.wait(sink);
        }
        if r.is_err() {
            self.pool.stop();
        }
        r
    }
}

/// The error when no worker is left to answer.
fn gone<E>() -> Error<E> {
    Error::WorkerPanicked {
        message: String::from("the encoding threads have ended"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn layout(row_bytes: usize, level: Compression, filter: Filter) -> Layout {
        Layout {
            row_bytes,
            bpp: 3,
            filter,
            sparse: false,
            level,
            dictionary: DICTIONARY as u64,
            panic_at: None,
        }
    }

    /// Rows with matches near and far, runs and noise.
    fn rows(row_bytes: usize, height: usize) -> Vec<u8> {
        let mut x = 7u32;
        let mut img = vec![0u8; row_bytes * height];
        for (i, b) in img.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = match (i / 5000) % 4 {
                0 => (i / row_bytes) as u8 ^ (i % 7) as u8,
                1 => x as u8 & 7,
                2 => 0,
                _ => x as u8,
            };
        }
        img
    }

    /// The IDAT data of everything `p` wrote for `img`, in one IDAT chunk.
    fn run(mut p: Parallel, img: &[u8]) -> Result<Vec<u8>, Error<core::convert::Infallible>> {
        let mut out = Vec::new();
        for row in img.chunks(p.layout.row_bytes) {
            p.push_row(&mut out, row)?;
        }
        p.finish(&mut out)?;
        // One chunk: length, type, data, CRC.
        Ok(out[8..out.len() - 4].to_vec())
    }

    #[test]
    fn threads_and_the_calling_thread_give_the_same_stream() {
        let (n, height) = (3001, 700);
        let img = rows(n, height);
        for level in [Compression::Default, Compression::Best, Compression::Fast] {
            for filter in [Filter::Adaptive, Filter::Entropy, Filter::None] {
                let l = layout(n, level, filter);
                let threaded = Parallel::with_layout(l, height as u32, 3, 1 << 30, true).unwrap();
                assert_eq!(threaded.threads(), 3);
                let threaded = run(threaded, &img).unwrap();
                let here = Parallel::with_layout(l, height as u32, 3, 1 << 30, false).unwrap();
                assert_eq!(here.threads(), 0);
                assert!(run(here, &img).unwrap() == threaded, "{level:?} {filter:?}");
                // The rows filtered one after another, as the writer does.
                let mut want = Vec::new();
                let (mut prev, mut out, mut scratch) = (vec![0; n], vec![0; n + 1], vec![0; n + 1]);
                for row in img.chunks(n) {
                    let repeat = *row == *prev;
                    filter::filter_row(
                        filter,
                        repeat,
                        false,
                        row,
                        &prev,
                        3,
                        &mut out,
                        &mut scratch,
                    );
                    want.extend_from_slice(&out);
                    prev.copy_from_slice(row);
                }
                // miniz_oxide checks the joined Adler-32.
                let back = miniz_oxide::inflate::decompress_to_vec_zlib(&threaded);
                assert!(back.is_ok_and(|b| b == want), "{level:?} {filter:?}");
            }
        }
    }

    #[test]
    fn a_worker_that_panics_becomes_an_error() {
        let (n, height) = (1000, 2000);
        let img = rows(n, height);
        for spawn in [true, false] {
            for at in [0, 1, 3] {
                let mut l = layout(n, Compression::Default, Filter::Adaptive);
                l.panic_at = Some(at);
                let p = Parallel::with_layout(l, height as u32, 2, 1 << 16, spawn).unwrap();
                match run(p, &img) {
                    Err(e @ Error::WorkerPanicked { .. }) => assert_eq!(
                        alloc::string::ToString::to_string(&e),
                        alloc::format!(
                            "an encoding thread failed, a bug in pngstream: \
                             test panic in segment {at}"
                        )
                    ),
                    other => panic!("segment {at}: {:?}", other.map(|v| v.len())),
                }
            }
        }
    }
}
