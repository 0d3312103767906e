//! Encoding one image on several threads ([`Options::threads`]), behind the
//! same row-by-row API.
//!
//! The filtered image data (each row behind its filter byte) is cut into
//! an even number of segments of about the same length, at most
//! [`PARALLEL_SEGMENT_SIZE`] bytes: of whole rows where a row is at most
//! an eighth of that, or else wherever the cuts fall in the rows
//! ([`Cuts`]). The cuts depend on the image alone, so the output is the
//! same for any number of threads from 2 up.
//!
//! - The calling thread filters each row (the writer does, as on one
//!   thread) into the buffer of the segment being collected, behind the
//!   rows before it; a full segment goes to a pool of worker threads, and
//!   the next one starts with its dictionary, at the matching levels the
//!   32 KiB of filtered data before it. With `n` threads, `n - 1` are
//!   started; the calling thread is the last: when it would wait for a
//!   segment to come back, it compresses those still waiting for a thread
//!   itself.
//! - A worker primes a reset compressor with the dictionary, compresses
//!   the segment and ends it with a sync flush (the last segment with the
//!   final block), all as `deflate` states at its hand-overs. The
//!   compressed data replaces the filtered data in the same buffer,
//!   behind the piece being read. A segment that is one block that
//!   compresses well comes back instead as that block's tokens, unwritten
//!   (`Deflater::end_segment`).
//! - The calling thread writes the segments in order as IDAT chunks,
//!   through a `Joiner` that joins consecutive segments' tokens into
//!   shared blocks (and aligns the stream before a segment's bytes), and
//!   joins their Adler-32s with [`adler32::combine`].
//!
//! # Memory
//!
//! `workers + 2` buffers of a segment and its dictionary each (`workers`
//! counting the calling thread), made when the writer starts: one
//! collects the next segment while the others are out, or all are out and
//! the next segment's dictionary waits in a buffer of its own until one
//! comes back. As many blocks of tokens at most, with the joiner's. Each
//! worker, the calling thread's too, holds a compressor. See
//! [`Options::threads`] for the formula.
//!
//! # Failures
//!
//! Every segment sent out comes back, compressed or as a failure: a worker
//! catches its own panic, reports it and stops. A sink error or a failure
//! stops the pool (workers drop what they are doing at the next piece), and
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
use crate::level::{Compression, Engine};
use crate::sink::Sink;
use crate::zlib;

/// Bytes of filtered image data (rows with their filter bytes) per segment
/// when an image is encoded on several threads ([`Options::threads`]), at
/// most. An image is cut into an even number of segments of about the
/// same length, as few as keep each within this; where rows are short (an
/// eighth of this or less) the cuts fall where rows start. An image of
/// less than half of this is encoded on the calling thread.
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

/// The threads for an image, the calling thread among them: 0 to encode
/// on the calling thread the single-threaded way, when `threads` is 0 or
/// 1, the level gains nothing from threads, or the image is one segment
/// (less than half of [`PARALLEL_SEGMENT_SIZE`]: starting a thread and the
/// segments' buffers cost about what a second thread gives back there; a
/// 117 KB image cut in two took almost twice as long).
pub(crate) fn workers(threads: usize, level: Compression, geo: &Geometry) -> usize {
    if threads < 2 || !level.plan().parallel {
        return 0;
    }
    let stride = geo.row_bytes as u64 + 1;
    let Some(total) = (geo.height as u64).checked_mul(stride) else {
        return 0;
    };
    match Cuts::new(stride, total).count {
        0 | 1 => 0,
        n => threads.min(usize::try_from(n).unwrap_or(usize::MAX)),
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
    let per_segment = PARALLEL_SEGMENT_SIZE + d + Joiner::SEGMENT_BYTES;
    let per_worker = compressor + 16 * 1024;
    (w + 2)
        .saturating_mul(per_segment)
        .saturating_add(d)
        .saturating_add(w.saturating_mul(per_worker))
        .saturating_add(r.saturating_mul(4))
        .saturating_add(Joiner::BYTES)
        .saturating_add(options.effective_idat_chunk_size() as usize)
        .saturating_add(crate::metadata::Trailer::bytes(&options.metadata))
}

/// Where an image's segments end: an even number of them, of about the
/// same length, as few as keep each within [`PARALLEL_SEGMENT_SIZE`], cut
/// where rows start if a row is at most an eighth of that, or else
/// wherever the cuts fall in the rows; one segment for an image of less
/// than half of that.
///
/// Two threads finish an image together when its segments pair up, each
/// taking one of every two, where a last segment on its own, or one cut
/// short, leaves a thread with nothing to do meanwhile: on an image of 1.5
/// segments, taking 512 and 256 KiB, one thread compressed twice what the
/// other did. Cuts at the start of rows keep runs of matches whole (a cut
/// inside a row splits them into odd lengths, about 4 bytes more a segment
/// on a smooth image); a filter byte breaks them there anyway.
#[derive(Clone, Copy, Debug)]
struct Cuts {
    /// Filtered bytes in the image, and per row.
    total: u64,
    stride: u64,
    /// Segments, 1 or an even number.
    count: u64,
    /// The cuts are at the start of rows.
    rows: bool,
}

impl Cuts {
    /// The fewest filtered bytes of an image cut into segments.
    const SPLIT_FROM: u64 = PARALLEL_SEGMENT_SIZE as u64 / 2;

    fn new(stride: u64, total: u64) -> Cuts {
        let s = PARALLEL_SEGMENT_SIZE as u64;
        let rows = stride <= s / 8;
        let count = if total < Self::SPLIT_FROM {
            1
        } else if rows {
            // At most this many whole rows in each segment.
            let per = s / stride;
            (total / stride).div_ceil(per).next_multiple_of(2)
        } else {
            total.div_ceil(s).next_multiple_of(2)
        };
        Cuts {
            total,
            stride,
            count,
            rows,
        }
    }

    /// Where segment `index` ends, an offset in the image's filtered data.
    fn end(&self, index: u64) -> u64 {
        if index + 1 >= self.count {
            return self.total;
        }
        let share = |n: u64| ((index as u128 + 1) * n as u128 / self.count as u128) as u64;
        if self.rows {
            share(self.total / self.stride) * self.stride
        } else {
            share(self.total)
        }
    }
}

/// What a worker needs to know about the image.
#[derive(Clone, Copy)]
struct Layout {
    /// Filtered bytes per row: the filter byte and the row.
    stride: u64,
    level: Compression,
    /// Bytes of history before each segment after the first.
    dictionary: u64,
    /// A test makes the worker of this segment panic.
    #[cfg(test)]
    panic_at: Option<u64>,
}

/// Rows at least this long that equal the row above (and so filter to a
/// filter byte and zeros) are not written into a segment's buffer: their
/// zeros are counted there ([`Buffer::zeros`]) and fed to the compressor
/// from [`ZEROS`]. Shorter rows would need too many runs.
const ZERO_ROWS_FROM: usize = 4096;

/// Zeros for the runs of [`Buffer::zeros`].
static ZEROS: [u8; PIECE] = [0; PIECE];

/// A segment's buffer, and what comes back in it.
struct Buffer {
    /// The filtered data of the dictionary (`dict` bytes), then the
    /// segment's, up to `fill`, but for the runs of `zeros`. Its room is
    /// reserved when the writer starts, and the vector grows into it as the
    /// first segment it holds is written ([`room`](Self::room)): no
    /// zeroing of it all beforehand, none of what an image does not reach.
    data: Vec<u8>,
    fill: usize,
    /// Runs of zeros of the segment's data left out of `data`: where in
    /// `data` each goes, and its length. At most one per row and one more
    /// (rows of [`ZERO_ROWS_FROM`] bytes or more), reserved once.
    zeros: Vec<(usize, usize)>,
}

impl Buffer {
    /// Runs a buffer can hold.
    const RUNS: usize = PARALLEL_SEGMENT_SIZE / ZERO_ROWS_FROM + 2;

    fn new(len: usize) -> Result<Buffer, AllocError> {
        let mut zeros = Vec::new();
        reserve(&mut zeros, Self::RUNS)?;
        Ok(Buffer {
            data: {
                let mut data = Vec::new();
                reserve(&mut data, len)?;
                data
            },
            fill: 0,
            zeros,
        })
    }

    /// `data[at..end]`, to be written, the vector grown to `end` first
    /// (within the room reserved).
    fn room(&mut self, at: usize, end: usize) -> &mut [u8] {
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        &mut self.data[at..end]
    }

    /// Bytes of data in the buffer, the runs of zeros counted.
    fn len(&self) -> usize {
        self.fill + self.zeros.iter().map(|r| r.1).sum::<usize>()
    }

    /// Writes the last `out.len()` bytes of the data into `out`, the runs
    /// of zeros as zeros.
    fn tail(&self, out: &mut [u8]) {
        let from = self.len() - out.len();
        // Walk the pieces: stored bytes up to each run, then the run.
        let (mut at, mut offset) = (0, 0);
        let mut copy = |piece: Option<&[u8]>, len: usize, offset: usize| {
            let (a, b) = (offset.max(from), (offset + len).max(from));
            if a < b {
                let dest = &mut out[a - from..b - from];
                match piece {
                    Some(bytes) => dest.copy_from_slice(&bytes[a - offset..b - offset]),
                    None => dest.fill(0),
                }
            }
        };
        for &(run_at, run_len) in &self.zeros {
            copy(Some(&self.data[at..run_at]), run_at - at, offset);
            offset += run_at - at;
            copy(None, run_len, offset);
            offset += run_len;
            at = run_at;
        }
        copy(Some(&self.data[at..self.fill]), self.fill - at, offset);
    }
}

/// A segment on its way to a worker.
struct Job {
    index: u64,
    buf: Buffer,
    /// Bytes of dictionary at the start of the buffer.
    dict: usize,
    /// The segment's end, an offset in the image's filtered data.
    end: u64,
    /// The segment ends the image.
    last: bool,
}

/// A segment compressed, with the checksum of its filtered data.
struct Compressed {
    /// Raw deflate data, `buf.data[..out]`, in the buffer the segment came
    /// in, ending on a byte boundary; none when the segment is `tokens`.
    buf: Buffer,
    out: usize,
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

/// Filtered bytes a worker compresses at a time: it checks for a stop and
/// moves the output to the front of the segment's buffer in between.
const PIECE: usize = 16 * 1024;

/// A worker's state: its compressor. Every thread has one, the calling
/// thread too.
struct Worker {
    deflate: Deflater,
    /// A test makes the worker of this segment panic.
    #[cfg(test)]
    panic_at: Option<u64>,
}

impl Worker {
    fn new(layout: Layout) -> Result<Self, AllocError> {
        // The output is moved out after every piece, but the flush at the
        // end of a segment can add a block and a stored run at once: room
        // for both, so that the buffer does not grow (and double).
        let mut deflate = Deflater::sized(layout.level, None, &crate::deflate::Sizes::FULL)?;
        let room = 2 * deflate.burst() + PIECE;
        reserve(deflate.output(), room)?;
        Ok(Worker {
            deflate,
            #[cfg(test)]
            panic_at: layout.panic_at,
        })
    }

    /// Compresses the segment of `job`; `None` if `cancel` was set
    /// meanwhile.
    fn run(&mut self, job: Job, cancel: &AtomicBool) -> Option<Result<Compressed, Failure>> {
        #[cfg(test)]
        if self.panic_at == Some(job.index) {
            panic!("test panic in segment {}", job.index);
        }
        let Job {
            mut buf,
            dict,
            last,
            ..
        } = job;
        let Buffer { data, fill, zeros } = &mut buf;
        let fill = *fill;
        debug_assert!(dict <= fill && fill <= data.len());
        let deflate = &mut self.deflate;
        deflate.reset();
        deflate.set_dictionary(&data[..dict]);
        let mut adler = Adler32::new();
        // The compressed data goes to the front of `data`, up to the input
        // read so far; the rest waits in the compressor.
        let mut written = 0;
        let mut at = dict;
        let mut len = 0;
        let mut runs = zeros.iter().copied().peekable();
        loop {
            if cancel.load(Relaxed) {
                return None;
            }
            // Stored bytes up to the next run of zeros, or the run.
            let stop = runs.peek().map_or(fill, |r| r.0);
            if at < stop {
                let piece = &data[at..stop.min(at + PIECE)];
                adler.update(piece);
                deflate.write(piece);
                at += piece.len();
                len += piece.len();
            } else if let Some((_, n)) = runs.next() {
                let mut left = n;
                while left > 0 {
                    let piece = &ZEROS[..left.min(PIECE)];
                    adler.update(piece);
                    deflate.write(piece);
                    left -= piece.len();
                }
                len += n;
            } else {
                break;
            }
            // Moved out when all of it fits, or half: what stays is shifted
            // down, and shifting it after every small piece of output would
            // cost more than the compression.
            let output = deflate.output();
            let k = output.len().min(at - written);
            if k > 0 && k >= output.len() / 2 {
                data[written..written + k].copy_from_slice(&output[..k]);
                output.drain(..k);
                written += k;
            }
        }
        let len = len as u64;
        let tokens = match deflate.end_segment(last, written > 0) {
            // Boxed: the answers go through channels, whose blocks hold
            // many of them.
            Ok(tokens) => tokens.map(Box::new),
            Err(e) => return Some(Err(Failure::OutOfMemory(e.bytes))),
        };
        let output = deflate.output();
        let out = written + output.len();
        if out > data.len() {
            let have = data.len();
            if reserve(data, out - have).is_err() {
                return Some(Err(Failure::OutOfMemory(out)));
            }
            data.resize(out, 0);
        }
        data[written..out].copy_from_slice(output);
        output.clear();
        debug_assert!(tokens.is_none() || out == 0);
        Some(Ok(Compressed {
            buf,
            out,
            tokens,
            adler: adler.finish(),
            len,
            last,
        }))
    }
}

/// The worker threads and the channels to them, and the calling thread's
/// own worker; dropping it stops and joins the threads.
struct Pool {
    /// Segments for the workers (`None` once the pool is stopping).
    jobs: Option<Sender<Job>>,
    /// The other end, which the calling thread takes segments from too.
    queue: Arc<Mutex<Receiver<Job>>>,
    /// Their answers. In a mutex only so that the writer stays `Sync`; the
    /// calling thread alone reads it.
    results: Mutex<Receiver<Done>>,
    cancel: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// The calling thread's worker: it compresses the segments still
    /// waiting for a thread when the calling thread would otherwise wait,
    /// or every segment as it fills when no thread could be started.
    /// `None` after it failed.
    own: Option<Box<Worker>>,
}

impl Pool {
    /// Keeps the first worker for the calling thread and, with `spawn`,
    /// starts a thread for each of the others.
    fn start(workers: Vec<Worker>, spawn: bool) -> Result<Pool, AllocError> {
        let (job_tx, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done_rx) = mpsc::channel::<Done>();
        let queue = Arc::new(Mutex::new(job_rx));
        let cancel = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::with_capacity(workers.len());
        let mut workers = workers.into_iter();
        let own = workers.next().map(Box::new);
        for worker in workers.filter(|_| spawn) {
            let (jobs, results, cancel) = (queue.clone(), done_tx.clone(), cancel.clone());
            let spawned = std::thread::Builder::new()
                .name("pngstream".into())
                .spawn(move || work(worker, &jobs, &results, &cancel));
            match spawned {
                Ok(handle) => threads.push(handle),
                // Too many threads for the system: go on with those there are.
                Err(_) => break,
            }
        }
        Ok(Pool {
            jobs: Some(job_tx),
            queue,
            results: Mutex::new(done_rx),
            cancel,
            threads,
            own,
        })
    }

    /// Compresses `job` on the calling thread, with its own worker, as a
    /// thread would (a panic becomes a failure, after which the worker is
    /// dropped).
    fn run_here(&mut self, job: Job) -> Done {
        let index = job.index;
        let Some(worker) = &mut self.own else {
            return Done {
                index,
                result: Err(Failure::Panic(String::from("stopped"))),
            };
        };
        let never = AtomicBool::new(false);
        let run = std::panic::AssertUnwindSafe(|| worker.run(job, &never));
        let result = match std::panic::catch_unwind(run) {
            Ok(Some(result)) => result,
            Ok(None) => Err(Failure::Panic(String::from("stopped"))),
            Err(payload) => Err(Failure::Panic(panic_message(payload))),
        };
        if result.is_err() {
            self.own = None;
        }
        Done { index, result }
    }

    /// A segment still waiting for a thread, if the calling thread can
    /// take one (a thread waiting for segments holds the queue, and then
    /// none waits).
    fn waiting(&self) -> Option<Job> {
        self.own.as_ref()?;
        self.queue.try_lock().ok()?.try_recv().ok()
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

/// The calling thread's side: collects the filtered rows into segments,
/// hands them to the pool and writes what comes back, in order.
pub(crate) struct Parallel {
    layout: Layout,
    /// Where the segments end.
    cuts: Cuts,
    /// Filtered bytes received.
    received: u64,
    /// The segment being collected (`None` once the last is out).
    current: Option<Job>,
    pool: Pool,
    /// The next segment to write, and those that came back before it.
    next_out: u64,
    ready: Vec<(u64, Compressed)>,
    /// Buffers for the segments to come.
    free: Vec<Buffer>,
    /// The next segment's dictionary, kept here while every buffer is out
    /// (see [`advance`](Self::advance)).
    history: Vec<u8>,
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
        level: Compression,
        workers: usize,
        idat_size: usize,
    ) -> Result<Self, AllocError> {
        let matching = matches!(level.plan().engine, Engine::Lazy(_) | Engine::Optimal(_));
        let layout = Layout {
            stride: geo.row_bytes as u64 + 1,
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
        let cuts = Cuts::new(layout.stride, height as u64 * layout.stride);
        let segments = cuts.count;
        let buffer = PARALLEL_SEGMENT_SIZE + layout.dictionary as usize;
        let buffers = (workers + 2).min(usize::try_from(segments).unwrap_or(usize::MAX));
        let mut free = Vec::new();
        reserve(&mut free, buffers)?;
        for _ in 0..buffers {
            free.push(Buffer::new(buffer)?);
        }
        let first = match free.pop() {
            Some(buf) => buf,
            None => Buffer::new(buffer)?,
        };
        let mut carry = Vec::new();
        reserve(&mut carry, idat_size.min(1 << 22))?;
        let mut states = Vec::new();
        reserve(&mut states, workers)?;
        for _ in 0..workers {
            states.push(Worker::new(layout)?);
        }
        let mut p = Parallel {
            layout,
            cuts,
            received: 0,
            current: None,
            pool: Pool::start(states, spawn)?,
            next_out: 0,
            ready: Vec::new(),
            free,
            history: zeroed(layout.dictionary as usize)?,
            joiner: Joiner::new()?,
            carry,
            idat_size,
            adler: adler32::Adler32::new().finish(),
        };
        reserve(&mut p.ready, buffers)?;
        p.current = Some(p.job(0, first, 0));
        Ok(p)
    }

    /// Segment `index`, to be collected in `buf`, which holds its
    /// dictionary, `dict` bytes.
    fn job(&self, index: u64, mut buf: Buffer, dict: usize) -> Job {
        buf.fill = dict;
        buf.zeros.clear();
        Job {
            index,
            buf,
            dict,
            end: self.cuts.end(index),
            last: index + 1 == self.cuts.count,
        }
    }

    /// Threads compressing segments: the calling thread and the worker
    /// threads running (1 when the calling thread compresses them all).
    pub(crate) fn threads(&self) -> usize {
        self.pool.threads.len() + 1
    }

    /// Takes the next filtered bytes of the image (rows with their filter
    /// bytes, in pieces of any size, all of them in order, exactly), sends
    /// out the segments they complete and writes the segments done.
    pub(crate) fn push<S: Sink>(
        &mut self,
        sink: &mut S,
        data: &[u8],
    ) -> Result<(), Error<S::Error>> {
        let r = self.take_data(sink, Some(data), data.len());
        self.stop_on_error(r)
    }

    /// Stops the pool after an error: the segments out are lost.
    fn stop_on_error<E>(&mut self, r: Result<(), Error<E>>) -> Result<(), Error<E>> {
        if r.is_err() {
            self.pool.stop();
        }
        r
    }

    /// Takes the next `n` filtered bytes: `data` (`n` of them), or zeros,
    /// counted in [`Buffer::zeros`] rather than stored.
    fn take_data<S: Sink>(
        &mut self,
        sink: &mut S,
        mut data: Option<&[u8]>,
        mut n: usize,
    ) -> Result<(), Error<S::Error>> {
        while n > 0 {
            let Some(current) = &mut self.current else {
                debug_assert!(false, "data after the end of the image");
                return Ok(());
            };
            let k = n.min((current.end - self.received) as usize);
            let buf = &mut current.buf;
            match &mut data {
                Some(bytes) => {
                    buf.room(buf.fill, buf.fill + k)
                        .copy_from_slice(&bytes[..k]);
                    buf.fill += k;
                    *bytes = &bytes[k..];
                }
                None => {
                    debug_assert!(buf.zeros.len() < Buffer::RUNS);
                    buf.zeros.push((buf.fill, k));
                }
            }
            n -= k;
            self.advance(sink, k)?;
        }
        self.poll(sink)
    }

    /// Whether a row of `n` filtered bytes equal to the row above can be
    /// taken by [`push_repeat`](Self::push_repeat).
    pub(crate) fn takes_repeats(&self, n: usize) -> bool {
        n >= ZERO_ROWS_FROM
    }

    /// Takes a row of `n` filtered bytes that filters to `filter_byte`
    /// and zeros (a row equal to the one above, filtered by Up): the
    /// zeros are only counted in the segments they belong to.
    pub(crate) fn push_repeat<S: Sink>(
        &mut self,
        sink: &mut S,
        filter_byte: u8,
        n: usize,
    ) -> Result<(), Error<S::Error>> {
        debug_assert!(self.takes_repeats(n));
        let r = self
            .take_data(sink, Some(&[filter_byte]), 1)
            .and_then(|()| self.take_data(sink, None, n - 1));
        self.stop_on_error(r)
    }

    /// Whether the next `n` filtered bytes all belong to the segment being
    /// collected: then they can be written in its [`slot`](Self::slot).
    pub(crate) fn fits(&self, n: usize) -> bool {
        self.current
            .as_ref()
            .is_some_and(|c| c.end - self.received >= n as u64)
    }

    /// Room for the next `n` filtered bytes in the segment being collected,
    /// where they [`fit`](Self::fits): to be filled, then passed on with
    /// [`commit`](Self::commit).
    pub(crate) fn slot(&mut self, n: usize) -> &mut [u8] {
        debug_assert!(self.fits(n));
        match &mut self.current {
            Some(c) => c.buf.room(c.buf.fill, c.buf.fill + n),
            None => &mut [],
        }
    }

    /// Takes the `n` bytes filled in the [`slot`](Self::slot) as the next
    /// filtered bytes, as [`push`](Self::push) takes them.
    pub(crate) fn commit<S: Sink>(
        &mut self,
        sink: &mut S,
        n: usize,
    ) -> Result<(), Error<S::Error>> {
        if let Some(c) = &mut self.current {
            c.buf.fill += n;
        }
        let r = self.advance(sink, n).and_then(|()| self.poll(sink));
        self.stop_on_error(r)
    }

    /// Counts `n` more bytes of the current segment as received (stored
    /// or counted as zeros), and sends it out when it is full.
    ///
    /// A full segment goes out at once, so that a thread that is done never
    /// waits while it sits here. When every buffer is out, its dictionary
    /// (the next segment's) is kept aside in `history` until a buffer comes
    /// back: the segment's buffer is overwritten by its compressed data.
    fn advance<E>(&mut self, sink: &mut impl Sink<Error = E>, n: usize) -> Result<(), Error<E>> {
        let Some(current) = &mut self.current else {
            return Ok(());
        };
        self.received += n as u64;
        if self.received < current.end {
            return Ok(());
        }
        let Some(job) = self.current.take() else {
            return Ok(());
        };
        if job.last {
            return self.send(job, sink);
        }
        let (index, dict) = (
            job.index + 1,
            job.buf.len().min(self.layout.dictionary as usize),
        );
        if let Some(mut buf) = self.free.pop() {
            job.buf.tail(buf.room(0, dict));
            self.current = Some(self.job(index, buf, dict));
            return self.send(job, sink);
        }
        job.buf.tail(&mut self.history[..dict]);
        self.send(job, sink)?;
        let mut buf = loop {
            match self.free.pop() {
                Some(buf) => break buf,
                None => self.wait(sink)?,
            }
        };
        buf.room(0, dict).copy_from_slice(&self.history[..dict]);
        self.current = Some(self.job(index, buf, dict));
        Ok(())
    }

    /// Hands `job` to a worker (or, without threads, compresses it here).
    fn send<E>(&mut self, job: Job, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        if self.pool.threads.is_empty() {
            let done = self.pool.run_here(job);
            return self.take(done, sink);
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

    /// Waits until the next segment in order is back and written,
    /// compressing the segments still waiting for a thread meanwhile.
    fn wait<E>(&mut self, sink: &mut impl Sink<Error = E>) -> Result<(), Error<E>> {
        let target = self.next_out + 1;
        while self.next_out < target {
            self.poll(sink)?;
            if self.next_out >= target {
                break;
            }
            if let Some(job) = self.pool.waiting() {
                let done = self.pool.run_here(job);
                self.take(done, sink)?;
                continue;
            }
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
        segment: Compressed,
        sink: &mut impl Sink<Error = E>,
    ) -> Result<(), Error<E>> {
        debug_assert_eq!(index, self.next_out);
        if index == 0 {
            self.write_idat(&zlib::header(self.layout.level, 15), sink)?;
        }
        match &segment.tokens {
            Some(tokens) => {
                debug_assert_eq!(segment.out, 0);
                self.joiner.add_tokens(tokens);
                if segment.last {
                    self.joiner.finish();
                }
            }
            None => self.joiner.before_bytes(),
        }
        let mut joined = core::mem::take(self.joiner.output());
        let pushed = self.write_idat(&joined, sink);
        joined.clear();
        *self.joiner.output() = joined;
        pushed?;
        self.write_idat(&segment.buf.data[..segment.out], sink)?;
        self.adler = adler32::combine(self.adler, segment.adler, segment.len);
        if segment.last {
            self.write_idat(&self.adler.to_be_bytes(), sink)?;
            if !self.carry.is_empty() {
                chunk::write_chunk(sink, chunk::IDAT, &self.carry).map_err(Error::Sink)?;
                self.carry.clear();
            }
        }
        self.next_out += 1;
        self.free.push(segment.buf);
        Ok(())
    }

    /// Writes `data` as IDAT chunks of the chunk size, behind what is
    /// carried; the rest of a chunk waits for more.
    fn write_idat<E>(
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
        while r.is_ok() && self.next_out < self.cuts.count {
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

    fn layout(stride: u64, level: Compression) -> Layout {
        let matching = matches!(level.plan().engine, Engine::Lazy(_) | Engine::Optimal(_));
        Layout {
            stride,
            level,
            dictionary: if matching { DICTIONARY as u64 } else { 0 },
            panic_at: None,
        }
    }

    /// Filtered data with matches near and far, runs and noise.
    fn data(stride: usize, height: usize) -> Vec<u8> {
        let mut x = 7u32;
        let mut img = vec![0u8; stride * height];
        for (i, b) in img.iter_mut().enumerate() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = match (i / 5000) % 4 {
                0 => (i / stride) as u8 ^ (i % 7) as u8,
                1 => x as u8 & 7,
                2 => 0,
                _ => x as u8,
            };
        }
        img
    }

    /// The IDAT data of everything `p` wrote for `img`, given in pieces of
    /// `piece` bytes, in one IDAT chunk.
    fn run(
        mut p: Parallel,
        img: &[u8],
        piece: usize,
    ) -> Result<Vec<u8>, Error<core::convert::Infallible>> {
        let mut out = Vec::new();
        for part in img.chunks(piece) {
            p.push(&mut out, part)?;
        }
        p.finish(&mut out)?;
        // One chunk: length, type, data, CRC.
        Ok(out[8..out.len() - 4].to_vec())
    }

    #[test]
    fn threads_and_the_calling_thread_give_the_same_stream() {
        let (stride, height) = (3002, 700);
        let img = data(stride, height);
        for level in [Compression::Default, Compression::Best, Compression::Fast] {
            let l = layout(stride as u64, level);
            let threaded = Parallel::with_layout(l, height as u32, 3, 1 << 30, true).unwrap();
            assert_eq!(threaded.threads(), 3);
            let threaded = run(threaded, &img, stride).unwrap();
            for piece in [1, 4093, stride, 1 << 20] {
                let here = Parallel::with_layout(l, height as u32, 3, 1 << 30, false).unwrap();
                // The calling thread alone.
                assert_eq!(here.threads(), 1);
                assert!(
                    run(here, &img, piece).unwrap() == threaded,
                    "{level:?} {piece}"
                );
            }
            // miniz_oxide checks the joined Adler-32.
            let back = miniz_oxide::inflate::decompress_to_vec_zlib(&threaded);
            assert!(back.is_ok_and(|b| b == img), "{level:?}");
        }
    }

    /// Rows equal to the row above, given by `push_repeat` (their zeros
    /// only counted), come out as the filter byte and zeros, the same from
    /// threads and from the calling thread, with cuts between rows and
    /// inside them (rows longer than an eighth of a segment).
    #[test]
    fn repeated_rows_are_counted_and_come_out_as_zeros() {
        for (stride, height) in [(5001, 400), (70_001, 40)] {
            let img = data(stride, height);
            let mut x = 11u32;
            let mut want = Vec::new();
            let mut rows = Vec::new();
            for row in img.chunks(stride) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                // Runs of repeated rows, and single ones.
                let repeat = x % 3 != 0;
                if repeat {
                    want.push(2);
                    want.resize(want.len() + stride - 1, 0);
                } else {
                    want.extend_from_slice(row);
                }
                rows.push((repeat, row));
            }
            let feed = |mut p: Parallel| {
                let mut out = Vec::new();
                for &(repeat, row) in &rows {
                    if repeat {
                        assert!(p.takes_repeats(stride));
                        p.push_repeat(&mut out, 2, stride)?;
                    } else {
                        p.push(&mut out, row)?;
                    }
                }
                p.finish(&mut out)?;
                Ok::<_, Error<core::convert::Infallible>>(out[8..out.len() - 4].to_vec())
            };
            for level in [Compression::Default, Compression::Best, Compression::Fast] {
                let l = layout(stride as u64, level);
                let threaded = Parallel::with_layout(l, height as u32, 3, 1 << 30, true).unwrap();
                let threaded = feed(threaded).unwrap();
                let here = Parallel::with_layout(l, height as u32, 3, 1 << 30, false).unwrap();
                assert!(feed(here).unwrap() == threaded, "{level:?} {stride}");
                let back = miniz_oxide::inflate::decompress_to_vec_zlib(&threaded);
                assert!(back.is_ok_and(|b| b == want), "{level:?} {stride}");
            }
        }
    }

    /// `Cuts` against the rule, cut by cut: an even number of segments
    /// (or one, below half a segment), the fewest that fit, each within a
    /// segment, at the start of rows where rows are at most an eighth of
    /// one, and none longer than another by more than a row (or a byte).
    #[test]
    fn cuts_are_even_balanced_and_as_few_as_fit() {
        let s = PARALLEL_SEGMENT_SIZE as u64;
        let mut x = 11u64;
        let mut cases = vec![
            (1, 1),
            (1, s / 2 - 1),
            (1, s / 2),
            (s, 3 * s),
            (s / 8, 17 * s / 8),
        ];
        for _ in 0..3000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let stride = 1 + (x % 3) * (x >> 8) % (2 * s) + (x >> 40) % 9;
            let rows = 1 + (x >> 20) % (40 * s / stride).max(1);
            cases.push((stride, rows * stride));
        }
        for (stride, total) in cases {
            let cuts = Cuts::new(stride, total);
            let what = alloc::format!("stride {stride}, total {total}: {cuts:?}");
            let ends: Vec<u64> = (0..cuts.count).map(|i| cuts.end(i)).collect();
            let lens: Vec<u64> = ends
                .iter()
                .scan(0, |at, &e| {
                    let len = e - *at;
                    *at = e;
                    Some(len)
                })
                .collect();
            assert_eq!(ends.last(), Some(&total), "{what}");
            if total < s / 2 {
                assert_eq!(cuts.count, 1, "{what}");
                continue;
            }
            assert!(cuts.count % 2 == 0, "{what}");
            let rows = stride <= s / 8;
            // Whole rows per segment at most, or bytes.
            let (unit, fit) = if rows { (stride, s / stride) } else { (1, s) };
            let units = total / unit;
            assert!(
                lens.iter()
                    .all(|&l| l > 0 && l <= fit * unit && l % unit == 0),
                "{what}"
            );
            // The fewest: two fewer segments would not hold the image.
            assert!(cuts.count == 2 || (cuts.count - 2) * fit < units, "{what}");
            let (min, max) = (lens.iter().min().unwrap(), lens.iter().max().unwrap());
            assert!(max - min <= unit, "{what}");
        }
    }

    /// `Buffer::tail` against the data written out run by run.
    #[test]
    fn a_buffers_tail_is_its_data_with_the_zeros() {
        let bytes = data(1, 3000);
        let mut buf = Buffer::new(4000).unwrap();
        let mut whole = Vec::new();
        let mut x = 5u32;
        for (i, &b) in bytes.iter().enumerate() {
            buf.room(buf.fill, buf.fill + 1)[0] = b | 1;
            buf.fill += 1;
            whole.push(b | 1);
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if i % 37 == 0 && buf.zeros.len() < Buffer::RUNS {
                let n = (x % 90) as usize + 1;
                buf.zeros.push((buf.fill, n));
                whole.resize(whole.len() + n, 0);
            }
        }
        assert_eq!(buf.len(), whole.len());
        for n in [0, 1, 2, 50, 89, 90, 91, 1000, whole.len()] {
            let mut out = vec![7; n];
            buf.tail(&mut out);
            assert!(out == whole[whole.len() - n..], "{n}");
        }
    }

    #[test]
    fn a_worker_that_panics_becomes_an_error() {
        let (stride, height) = (1001, 2000);
        let img = data(stride, height);
        for spawn in [true, false] {
            for at in [0, 1, 3] {
                let mut l = layout(stride as u64, Compression::Default);
                l.panic_at = Some(at);
                let p = Parallel::with_layout(l, height as u32, 2, 1 << 16, spawn).unwrap();
                match run(p, &img, stride) {
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
