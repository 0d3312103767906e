//! pngstream on a Cortex-M3 with 64 KiB of RAM: QEMU's `lm3s6965evb`.
//!
//! Streams the article's 1024 × 1024 RGB gradient, row by row, through
//! `pngstream::StreamingWriter` into a file on the host (semihosting
//! SYS_OPEN / SYS_WRITE / SYS_CLOSE), with a 32 KiB heap that is also the
//! writer's `memory_limit`. It then prints what it used:
//!
//! ```text
//! level asked: default
//! output: gradient-1024.png
//! level: default
//! window: 1024
//! idat chunk: 2048
//! filter: adaptive
//! rows: 1024
//! bytes written: 6442
//! heap peak: 29092 bytes of 32768 (allocator: 29100)
//! heap failures: 0
//! stack peak: 14664 bytes of 32672
//! ok
//! ```
//!
//! and exits through semihosting: success, or failure on any error or panic.
//!
//! The semihosting command line (QEMU's `-semihosting-config
//! ...,arg=PROGRAM,arg=...`) may name the output file (a word ending in
//! `.png`; default `gradient-1024.png`) and, in the `all-levels` build, the
//! level (`stored`, `fastest`, `fast`, `default`, `best`).

#![no_std]
#![no_main]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, nr, syscall1};
use embedded_alloc::LlffHeap;
use pngstream::{ColorType, Compression, Error, Filter, Options, Sink, StreamingWriter};

/// The image: 1024 × 1024 RGB, 3 MiB of pixels.
const WIDTH: u32 = 1024;
const HEIGHT: u32 = 1024;
const ROW_BYTES: usize = WIDTH as usize * 3;

/// Everything the encoder allocates must fit in this heap.
const HEAP_SIZE: usize = 32 * 1024;

/// Output file when the command line names none.
const DEFAULT_PATH: &str = "gradient-1024.png";

/// The level of a one-level build, chosen by a cargo feature; `Default`
/// without one.
const LEVEL: Compression = if cfg!(feature = "level-best") {
    Compression::Best
} else if cfg!(feature = "level-fast") {
    Compression::Fast
} else if cfg!(feature = "level-fastest") {
    Compression::Fastest
} else if cfg!(feature = "level-stored") {
    Compression::Stored
} else {
    Compression::Default
};

// ---------------------------------------------------------------------------
// Heap: a 32 KiB linked-list heap, wrapped to count the bytes in use.

static HEAP: LlffHeap = LlffHeap::empty();

/// Counts the bytes asked for (current and peak) and the allocator's own
/// figure, which includes its rounding, at each allocation.
struct Counting {
    current: AtomicUsize,
    peak: AtomicUsize,
    peak_used: AtomicUsize,
    failures: AtomicUsize,
}

// SAFETY: every call goes to `HEAP`, a `GlobalAlloc`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged.
        let p = unsafe { HEAP.alloc(layout) };
        if p.is_null() {
            self.failures.fetch_add(1, Ordering::Relaxed);
        } else {
            let now = self.current.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            self.peak.fetch_max(now, Ordering::Relaxed);
            self.peak_used.fetch_max(HEAP.used(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { HEAP.dealloc(ptr, layout) };
        self.current.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting {
    current: AtomicUsize::new(0),
    peak: AtomicUsize::new(0),
    peak_used: AtomicUsize::new(0),
    failures: AtomicUsize::new(0),
};

// ---------------------------------------------------------------------------
// Stack: painted with a pattern at start, scanned at the end.

const PAINT: u32 = 0xC0DE_F00D;

unsafe extern "C" {
    /// The stack's lowest address (cortex-m-rt: the end of .bss/.uninit).
    static mut _stack_end: u32;
    /// The stack's top, where it starts (the end of RAM).
    static mut _stack_start: u32;
}

/// The stack's bounds, `[low, high)`.
fn stack_bounds() -> (usize, usize) {
    (
        &raw const _stack_end as usize,
        &raw const _stack_start as usize,
    )
}

/// The MPU guard at the stack's bottom: 32 bytes that nothing may touch.
const GUARD: usize = 32;

/// The painted part of the stack, `[low, high)`: above the guard.
fn stack_region() -> (usize, usize) {
    let (low, high) = stack_bounds();
    (low.next_multiple_of(GUARD) + GUARD, high)
}

/// Paints every word from the stack's lowest address to a little below the
/// stack pointer.
#[inline(never)]
fn paint_stack() {
    let (low, _) = stack_region();
    let sp = cortex_m::register::msp::read() as usize;
    let mut p = low;
    while p + 256 < sp {
        // SAFETY: [low, sp - 256) is RAM that no frame uses yet: the stack
        // grows down from above it, and nothing else is placed there.
        unsafe { core::ptr::write_volatile(p as *mut u32, PAINT) };
        p += 4;
    }
}

/// Makes the 32 bytes below the painted stack inaccessible (MPU region 0,
/// no access, the background map for the rest), so that a stack overflow
/// faults (HardFault) instead of running into the heap and the statics
/// below it.
fn guard_stack() {
    let (low, _) = stack_region();
    let base = low - GUARD;
    let mpu = cortex_m::peripheral::MPU::PTR;
    // SAFETY: the MPU's registers, written once before anything runs that
    // could use the guarded bytes; region 0 covers 32 bytes (SIZE = 4)
    // that belong to no object: the bottom of the stack.
    unsafe {
        (*mpu).rnr.write(0);
        (*mpu).rbar.write(base as u32);
        (*mpu).rasr.write(1 << 28 | 4 << 1 | 1); // XN, AP = no access, 32 B, on
        (*mpu).ctrl.write(1 << 2 | 1); // PRIVDEFENA, ENABLE
    }
    cortex_m::asm::dsb();
    cortex_m::asm::isb();
}

/// Bytes of stack ever used: from the top down to the lowest word whose
/// paint was overwritten.
#[inline(never)]
fn stack_peak() -> usize {
    let (low, high) = stack_region();
    let mut p = low;
    // SAFETY: reads of RAM inside the stack region.
    while p < high && unsafe { core::ptr::read_volatile(p as *const u32) } == PAINT {
        p += 4;
    }
    high - p
}

/// A fault: a stack overflow into the guard, or a bug.
#[cortex_m_rt::exception(trampoline = false)]
unsafe fn HardFault() -> ! {
    say(&[S("hard fault (a stack overflow hits the MPU guard)")]);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

// ---------------------------------------------------------------------------
// Semihosting: the command line and a host file as a pngstream sink.

/// The semihosting command line, in `buf`.
fn cmdline(buf: &mut [u8]) -> &str {
    let mut block = [buf.as_mut_ptr() as usize, buf.len()];
    // SAFETY: SYS_GET_CMDLINE writes at most `buf.len()` bytes into `buf`
    // and the length into `block[1]`.
    let r = unsafe { syscall1(nr::GET_CMDLINE, block.as_mut_ptr() as usize) };
    if r != 0 {
        return "";
    }
    let n = block[1].min(buf.len());
    core::str::from_utf8(&buf[..n]).unwrap_or("")
}

/// A file on the host, opened for writing through semihosting.
struct HostFile {
    fd: usize,
    written: u64,
}

/// A semihosting call that failed.
#[derive(Debug)]
struct HostError(&'static str);

impl core::fmt::Display for HostError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "semihosting {} failed", self.0)
    }
}

impl HostFile {
    /// Creates or truncates `path` on the host (binary mode).
    fn create(path: &str) -> Result<HostFile, HostError> {
        let mut name = [0u8; 128];
        let bytes = path.as_bytes();
        if bytes.len() >= name.len() {
            return Err(HostError("open (name too long)"));
        }
        name[..bytes.len()].copy_from_slice(bytes);
        let block = [
            name.as_ptr() as usize,
            nr::open::W_TRUNC_BINARY,
            bytes.len(),
        ];
        // SAFETY: SYS_OPEN reads the NUL-terminated name and its length.
        let fd = unsafe { syscall1(nr::OPEN, block.as_ptr() as usize) };
        if fd as isize == -1 {
            return Err(HostError("open"));
        }
        Ok(HostFile { fd, written: 0 })
    }

    fn close(self) -> Result<u64, HostError> {
        let block = [self.fd];
        // SAFETY: SYS_CLOSE reads the handle.
        match unsafe { syscall1(nr::CLOSE, block.as_ptr() as usize) } {
            0 => Ok(self.written),
            _ => Err(HostError("close")),
        }
    }
}

impl Sink for HostFile {
    type Error = HostError;

    fn write_all(&mut self, mut buf: &[u8]) -> Result<(), HostError> {
        while !buf.is_empty() {
            let block = [self.fd, buf.as_ptr() as usize, buf.len()];
            // SAFETY: SYS_WRITE reads `buf.len()` bytes from `buf`; it
            // returns the number of bytes NOT written.
            let left = unsafe { syscall1(nr::WRITE, block.as_ptr() as usize) };
            if left >= buf.len() {
                return Err(HostError("write"));
            }
            self.written += (buf.len() - left) as u64;
            buf = &buf[buf.len() - left..];
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The gradient: the same expressions as examples/common/gradient.rs.

/// `int(x/width*255)`.
fn article_red(x: u32, width: u32) -> u8 {
    (f64::from(x) / f64::from(width) * 255.0) as u8
}

/// `int(y/height*255)`.
fn article_green(y: u32, height: u32) -> u8 {
    (f64::from(y) / f64::from(height) * 255.0) as u8
}

/// `int((1 - x/width)*255)`.
fn article_blue(x: u32, width: u32) -> u8 {
    ((1.0 - f64::from(x) / f64::from(width)) * 255.0) as u8
}

/// The level: the feature's, or in the `all-levels` build the one the
/// command line names (read at run time, so every level is linked).
fn level(args: &str) -> Compression {
    if cfg!(feature = "all-levels") {
        for word in args.split_ascii_whitespace() {
            if let Ok(level) = word.parse::<Compression>() {
                return level;
            }
        }
    }
    LEVEL
}

fn filter_name(filter: Filter) -> &'static str {
    match filter {
        Filter::None => "none",
        Filter::Sub => "sub",
        Filter::Up => "up",
        Filter::Average => "average",
        Filter::Paeth => "paeth",
        Filter::Adaptive => "adaptive",
        Filter::Entropy => "entropy",
        _ => "(new filter)",
    }
}

fn level_name(level: Compression) -> &'static str {
    match level {
        Compression::Stored => "stored",
        Compression::Fastest => "fastest",
        Compression::Fast => "fast",
        Compression::Default => "default",
        Compression::Best => "best",
        _ => "(new level)",
    }
}

// ---------------------------------------------------------------------------
// Console: lines to the host's stdout without core::fmt, whose code would
// take several KiB of the flash being measured.

/// One piece of a line: text or a number.
enum Part<'a> {
    S(&'a str),
    N(u64),
}
use Part::{N, S};

/// The host's stdout (`:tt`), opened on first use.
static STDOUT: AtomicUsize = AtomicUsize::new(usize::MAX);

fn stdout() -> usize {
    let fd = STDOUT.load(Ordering::Relaxed);
    if fd != usize::MAX {
        return fd;
    }
    let name = b":tt\0";
    let block = [name.as_ptr() as usize, nr::open::W_TRUNC, 3];
    // SAFETY: SYS_OPEN reads the NUL-terminated name and its length.
    let fd = unsafe { syscall1(nr::OPEN, block.as_ptr() as usize) };
    STDOUT.store(fd, Ordering::Relaxed);
    fd
}

/// Writes bytes to the host's stdout; output is best effort.
fn out(bytes: &[u8]) {
    let block = [stdout(), bytes.as_ptr() as usize, bytes.len()];
    // SAFETY: SYS_WRITE reads `bytes.len()` bytes from `bytes`.
    unsafe { syscall1(nr::WRITE, block.as_ptr() as usize) };
}

/// Writes one line made of `parts`.
fn say(parts: &[Part]) {
    for part in parts {
        match *part {
            S(s) => out(s.as_bytes()),
            N(mut n) => {
                let mut digits = [0u8; 20];
                let mut i = digits.len();
                loop {
                    i -= 1;
                    digits[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                out(&digits[i..]);
            }
        }
    }
    out(b"\n");
}

/// Reports a pngstream error: its message with `--features display-errors`
/// (which links core::fmt), otherwise the kind and its main figure.
fn report<E: core::fmt::Display>(what: &str, e: &Error<E>) {
    #[cfg(feature = "display-errors")]
    {
        struct Stdout;
        impl core::fmt::Write for Stdout {
            fn write_str(&mut self, s: &str) -> core::fmt::Result {
                out(s.as_bytes());
                Ok(())
            }
        }
        let _ = core::fmt::write(&mut Stdout, format_args!("error {what}: {e}\n"));
    }
    #[cfg(not(feature = "display-errors"))]
    match e {
        Error::OutOfMemory { bytes, .. } => say(&[
            S("error "),
            S(what),
            S(": out of memory, could not allocate "),
            N(*bytes as u64),
            S(" bytes"),
        ]),
        Error::MemoryLimit { needed, limit, .. } => say(&[
            S("error "),
            S(what),
            S(": the memory limit "),
            N(*limit as u64),
            S(" is below the "),
            N(*needed as u64),
            S(" bytes needed"),
        ]),
        Error::Sink(_) => say(&[S("error "), S(what), S(": the host file refused a write")]),
        _ => say(&[
            S("error "),
            S(what),
            S(" (build with --features display-errors for the message)"),
        ]),
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let message = info.message().as_str().unwrap_or("(a formatted message)");
    match info.location() {
        Some(at) => say(&[
            S("panicked at "),
            S(at.file()),
            S(":"),
            N(at.line().into()),
            S(": "),
            S(message),
        ]),
        None => say(&[S("panicked: "), S(message)]),
    }
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}

// ---------------------------------------------------------------------------

/// Reads the command line, says what it asks for and opens the output file.
/// Not inlined, so that its buffers are off the stack while rows encode.
#[inline(never)]
fn open_output() -> Result<(HostFile, Compression), &'static str> {
    let mut line = [0u8; 256];
    let args = cmdline(&mut line);
    let level = level(args);
    let path = args
        .split_ascii_whitespace()
        .find(|w| w.ends_with(".png"))
        .unwrap_or(DEFAULT_PATH);
    say(&[S("level asked: "), S(level_name(level))]);
    say(&[S("output: "), S(path)]);
    let file = HostFile::create(path).map_err(|_| "could not open the output file")?;
    Ok((file, level))
}

/// Encodes the gradient into the file the command line names; returns the
/// rows and bytes written.
fn run() -> Result<(u32, u64), &'static str> {
    let (file, level) = open_output()?;
    // The heap is the limit: whatever the encoder allocates must fit in it.
    let options = Options::new(WIDTH, HEIGHT, ColorType::Rgb)
        .compression(level)
        .memory_limit(HEAP_SIZE);
    let mut writer = StreamingWriter::with_options(file, &options).map_err(|e| {
        report("starting the writer", &e);
        "could not start the writer"
    })?;
    say(&[S("level: "), S(level_name(writer.compression()))]);
    say(&[S("window: "), N(writer.window_size() as u64)]);
    say(&[S("idat chunk: "), N(writer.idat_chunk_size() as u64)]);
    say(&[S("filter: "), S(filter_name(writer.filter()))]);

    // Red and blue depend on x only: set once; each row sets green.
    let mut row = [0u8; ROW_BYTES];
    for (x, px) in (0u32..).zip(row.chunks_exact_mut(3)) {
        px[0] = article_red(x, WIDTH);
        px[2] = article_blue(x, WIDTH);
    }
    for y in 0..HEIGHT {
        let g = article_green(y, HEIGHT);
        for px in row.chunks_exact_mut(3) {
            px[1] = g;
        }
        writer.write_row(&row).map_err(|e| {
            report("writing a row", &e);
            "could not write a row"
        })?;
    }
    let rows = writer.rows_written();
    let file = writer.finish().map_err(|e| {
        report("finishing", &e);
        "could not finish the image"
    })?;
    let written = file
        .close()
        .map_err(|_| "could not close the output file")?;
    Ok((rows, written))
}

#[entry]
fn main() -> ! {
    paint_stack();
    guard_stack();
    #[cfg(feature = "overflow-demo")]
    overflow(0);
    {
        static mut HEAP_MEM: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
        // SAFETY: called once, before anything allocates; HEAP_MEM is used
        // by nothing else.
        unsafe { HEAP.init(&raw mut HEAP_MEM as usize, HEAP_SIZE) }
    }

    let result = run();

    if let Ok((rows, bytes)) = result {
        say(&[S("rows: "), N(rows.into())]);
        say(&[S("bytes written: "), N(bytes)]);
    }
    let (low, high) = stack_region();
    say(&[
        S("heap peak: "),
        N(ALLOCATOR.peak.load(Ordering::Relaxed) as u64),
        S(" bytes of "),
        N(HEAP_SIZE as u64),
        S(" (allocator: "),
        N(ALLOCATOR.peak_used.load(Ordering::Relaxed) as u64),
        S(")"),
    ]);
    say(&[
        S("heap failures: "),
        N(ALLOCATOR.failures.load(Ordering::Relaxed) as u64),
    ]);
    say(&[
        S("stack peak: "),
        N(stack_peak() as u64),
        S(" bytes of "),
        N((high - low) as u64),
    ]);
    match result {
        Ok(_) => {
            say(&[S("ok")]);
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(why) => {
            say(&[S("error: "), S(why)]);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Recurses until the stack overflows into the guard (feature
/// `overflow-demo`, which shows that the guard turns an overflow into a
/// failed run).
#[cfg(feature = "overflow-demo")]
#[inline(never)]
#[allow(unconditional_recursion)]
fn overflow(depth: u32) -> u32 {
    let frame = core::hint::black_box([depth; 64]);
    overflow(depth + 1).wrapping_add(frame[depth as usize % 64])
}
