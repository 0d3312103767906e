//! Inputs the fuzz targets in `fuzz/` found, minimised into ordinary tests.
//! Each test names the target and the property it broke.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use pngstream::{BitDepth, ColorType, Compression, Error, Filter, Options, StreamingWriter};

/// Forwards to `System`, noting the largest single request made by a thread
/// that asked to be watched (other tests of this binary run alongside).
struct Watching;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    if WATCHED.with(Cell::get) {
        LARGEST.with(|l| l.set(l.get().max(size)));
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the thread-locals
// (const-initialised, no destructor) only observe sizes.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

/// The largest single allocation `f` asks for on this thread.
fn largest_request<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    WATCHED.with(|w| w.set(true));
    let r = f();
    WATCHED.with(|w| w.set(false));
    (r, LARGEST.with(Cell::get))
}

/// `encode_roundtrip` with the default sanitizer (`-rss_limit_mb=2048`),
/// in its first minute: `out-of-memory (malloc(4290777087))`. At the stored
/// level `encode` reserved output for `image.len() + height + …` bytes
/// before checking the options or that the image held `height` rows, so a
/// one-byte image claiming close to 2^32 rows asked for 4 GiB. (Without a
/// sanitizer libFuzzer has no malloc hooks, and the smoke run never saw
/// it.) Fixed by checking the options and the image's length first and
/// sizing the output from the image (commit 73c5e6f).
#[test]
fn encode_allocates_nothing_for_a_height_it_was_only_told() {
    let opts = Options::new(1, pngstream::MAX_DIMENSION, ColorType::Grayscale)
        .compression(Compression::Stored);
    let (r, largest) = largest_request(|| pngstream::encode(&opts, &[0]));
    assert!(
        matches!(r, Err(Error::WrongImageLength { len: 1, expected , .. }) if expected == pngstream::MAX_DIMENSION as u128),
        "{r:?}"
    );
    assert!(largest < 1 << 20, "{largest} bytes asked for at once");
    // A height beyond PNG's limit: refused as such, before anything else.
    let opts =
        Options::new(1, 4_290_777_087, ColorType::Grayscale).compression(Compression::Stored);
    let (r, largest) = largest_request(|| pngstream::encode(&opts, &[0]));
    assert!(matches!(r, Err(Error::InvalidDimensions { .. })), "{r:?}");
    assert!(largest < 1 << 20, "{largest} bytes asked for at once");
    // The same image with every row there is encoded, its output sized once.
    let opts = Options::new(1, 1000, ColorType::Grayscale).compression(Compression::Stored);
    let (png, largest) = largest_request(|| pngstream::encode(&opts, &[5; 1000]).unwrap());
    assert!(largest < 1 << 20, "{largest} bytes asked for at once");
    assert_eq!(common::decode_png(&png).unwrap().data, [5; 1000]);
}

/// `api_misuse`, found in its first minute: `write_pixels` checked the pixel
/// format before the poisoned state, so on a poisoned writer a helper of the
/// wrong size returned `WrongPixelFormat` again instead of `Poisoned`
/// (breaking "after a sink error every later call returns `Error::Poisoned`").
/// Fixed by checking the poisoned state first (commit a3f59a3). Since then,
/// only sink errors poison: a wrong helper leaves the writer usable.
#[test]
fn write_pixels_on_a_poisoned_writer_returns_poisoned() {
    // The fuzzer's input, minimised: indexed 4-bit, two `[u8; 2]` calls.
    // Refused both times, with the same error: the writer is not poisoned.
    let opts = Options::new(3, 2, ColorType::Indexed)
        .bit_depth(BitDepth::Four)
        .palette(&[0; 6]);
    let mut w = StreamingWriter::with_options(Vec::new(), &opts).unwrap();
    for _ in 0..2 {
        let r = w.write_pixels(&[[0u8; 2]; 3]);
        assert!(matches!(r, Err(Error::WrongPixelFormat { .. })), "{r:?}");
    }

    // Poisoned by a sink error first (the second row's IDAT chunk fails).
    struct Fails(usize);
    impl pngstream::Sink for Fails {
        type Error = &'static str;
        fn write_all(&mut self, buf: &[u8]) -> Result<(), &'static str> {
            self.0 = self.0.checked_sub(buf.len()).ok_or("full")?;
            Ok(())
        }
    }
    let opts = Options::new(2, 2, ColorType::Grayscale)
        .compression(Compression::Stored)
        .idat_chunk_size(1);
    let mut w = StreamingWriter::with_options(Fails(33 + 13 * 10), &opts).unwrap();
    w.write_row(&[1, 2]).unwrap();
    assert!(matches!(w.write_row(&[3, 4]), Err(Error::Sink("full"))));
    let r = w.write_pixels(&[[0u8; 3]; 2]);
    assert!(matches!(r, Err(Error::Poisoned)), "{r:?}");
    // A helper of the right size, too.
    let r = w.write_pixels(&[[0u8; 1]; 2]);
    assert!(matches!(r, Err(Error::Poisoned)), "{r:?}");
    assert!(matches!(w.finish(), Err(Error::Poisoned)));
}

/// The length of the zlib stream of a PNG file: its IDAT payloads.
fn idat_bytes(png: &[u8]) -> usize {
    common::chunks(png)
        .iter()
        .filter(|(kind, _)| kind == b"IDAT")
        .map(|(_, data)| data.len())
        .sum()
}

/// `deflate_roundtrip` with `STRICT_BOUND_ALL_LEVELS`: the stored fallback
/// bound, `n + 5·⌈n / 65535⌉` plus a few bytes, held for the stored level
/// only. The compressing levels chose stored or Huffman coding per block of
/// tokens (16 Ki literals for incompressible input), and each block stored
/// cost its own 5-byte header: 20 bytes per 64 KiB instead of 5 (1 MiB of
/// noise grew by 320 bytes at `Fastest` .. `Best`, 85 at `Stored`). Fixed by
/// joining consecutive stored blocks into full 65535-byte ones (0dc038f).
#[test]
fn stored_fallback_bound_holds_at_every_level() {
    // One 65535-byte row plus its filter byte per row: 16 rows, 1 MiB.
    let (width, height) = (65_535u32, 16u32);
    let img = common::Rng::new(7).bytes(width as usize * height as usize);
    let n = (width as usize + 1) * height as usize;
    let bound = 2 + n + 5 * n.div_ceil(65_535) + 8 + 4;
    let mut over = Vec::new();
    for &level in Compression::ALL {
        let opts = Options::new(width, height, ColorType::Grayscale)
            .filter(Filter::None)
            .compression(level);
        let png = pngstream::encode(&opts, &img).unwrap();
        let z = idat_bytes(&png);
        if z > bound {
            over.push((level, z - (2 + n + 4)));
        }
    }
    assert!(
        over.is_empty(),
        "deflate overhead above 5 bytes per 65535 + 8 (level, bytes): {over:?}"
    );
}
