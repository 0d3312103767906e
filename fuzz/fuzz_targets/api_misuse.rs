//! Arbitrary sequences of API calls, right and wrong: rows of the wrong
//! length, too many rows, `write_bytes` pieces, the pixel and `u16` helpers
//! on the wrong format, palette indexes beyond the palette, `finish` too
//! early, and sinks that fail at a chosen byte (or on flush). Checked
//! against a model of the writer:
//!
//! - nothing panics;
//! - a call that breaks a rule returns an error naming a rule it breaks (a
//!   bad palette index with its exact row, pixel and value), and a call that
//!   breaks none succeeds unless the sink failed during it;
//! - a refused call changes nothing: the writer is not poisoned, and later
//!   calls are judged as if it had not been made;
//! - once the sink has failed, every later call returns `Error::Poisoned`
//!   and nothing more reaches the sink;
//! - any output that ends in IEND decodes (with `png`) to exactly the rows
//!   written, and output without a successful `finish` never ends in IEND.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pngstream::{BitDepth, ColorType, Compression, Error, Sink, StreamingWriter};
use pngstream_fuzz::{FILTERS, FORMATS, Params, Rng, check_png, error_name};

#[derive(Arbitrary, Debug)]
enum Len {
    /// The right length.
    Exact,
    /// Off by this much (0 is the right length too).
    Off(i8),
}

#[derive(Arbitrary, Debug)]
enum Op {
    Row {
        len: Len,
        seed: u8,
    },
    /// `write_pixels::<N>` with `N = n % 6` (0 to 5 samples per pixel).
    Pixels {
        n: u8,
        len: Len,
        seed: u8,
    },
    U16 {
        len: Len,
        seed: u8,
    },
    Bytes {
        len: u16,
        seed: u8,
    },
    Finish,
    /// Check the accessors against the model.
    Inspect,
}

#[derive(Arbitrary, Debug)]
enum SinkFailure {
    Never,
    /// `write_all` fails once the output would pass this byte, after
    /// writing the bytes before it (a partial write).
    AtByte(u16),
    /// As `AtByte`, writing nothing of the failing call.
    AtByteWhole(u16),
    /// `flush` fails (after IEND has been written).
    Flush,
}

#[derive(Arbitrary, Debug)]
struct Input {
    width: u8,
    height: u8,
    format: u8,
    palette_seed: u8,
    trns: bool,
    filter: Option<u8>,
    level: Option<u8>,
    idat: Option<u8>,
    sink: SinkFailure,
    ops: Vec<Op>,
}

#[derive(Debug, PartialEq)]
struct SinkError(usize);

struct FailingSink {
    out: Vec<u8>,
    fail_at: Option<usize>,
    partial: bool,
    fail_flush: bool,
    failed: bool,
    calls_after_failure: usize,
}

impl Sink for FailingSink {
    type Error = SinkError;

    fn write_all(&mut self, buf: &[u8]) -> Result<(), SinkError> {
        if self.failed {
            self.calls_after_failure += 1;
            return Err(SinkError(self.out.len()));
        }
        if let Some(k) = self.fail_at
            && self.out.len() + buf.len() > k
        {
            if self.partial {
                let n = k.saturating_sub(self.out.len());
                self.out.extend_from_slice(&buf[..n]);
            }
            self.failed = true;
            return Err(SinkError(self.out.len()));
        }
        self.out.extend_from_slice(buf);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        if self.failed {
            self.calls_after_failure += 1;
            return Err(SinkError(self.out.len()));
        }
        if self.fail_flush {
            self.failed = true;
            return Err(SinkError(self.out.len()));
        }
        Ok(())
    }
}

fn params(input: &Input) -> Params {
    let (color, depth) = FORMATS[input.format as usize % FORMATS.len()];
    let mut rng = Rng::new(input.palette_seed as u64);
    let (palette, trns) = match color {
        ColorType::Indexed => {
            let max = 1usize << depth.bits();
            let entries = 1 + input.palette_seed as usize % max;
            let pal = rng.bytes(3 * entries);
            let trns = input
                .trns
                .then(|| rng.bytes(1 + input.palette_seed as usize % entries));
            (Some(pal), trns)
        }
        ColorType::Grayscale if input.trns => {
            let v = (input.palette_seed as u16) & ((1u32 << depth.bits()) - 1) as u16;
            (None, Some(v.to_be_bytes().to_vec()))
        }
        ColorType::Rgb if input.trns => (None, Some(rng.bytes(6))),
        _ => (None, None),
    };
    let trns = match (color, depth, trns) {
        // 8-bit RGB samples must fit in 8 bits: keep the high bytes zero.
        (ColorType::Rgb, BitDepth::Eight, Some(mut t)) => {
            t[0] = 0;
            t[2] = 0;
            t[4] = 0;
            Some(t)
        }
        (_, _, t) => t,
    };
    Params {
        width: 1 + input.width as u32 % 40,
        height: 1 + input.height as u32 % 12,
        color,
        depth,
        palette,
        trns,
        filter: input.filter.map(|f| FILTERS[f as usize % FILTERS.len()]),
        level: input
            .level
            .map(|l| Compression::ALL[l as usize % Compression::ALL.len()]),
        idat: input.idat.map(|n| n as u32 + 1),
    }
}

/// What the writer should have done so far.
struct Model {
    height: u32,
    row_bytes: usize,
    rows: u32,
    cur_len: usize,
    poisoned: bool,
    /// Every image byte accepted, in order.
    data: Vec<u8>,
}

impl Model {
    /// The errors that a new row of `len` bytes may meet.
    fn row_start(&self, errs: &mut Vec<&'static str>) {
        if self.rows == self.height {
            errs.push("TooManyRows");
        }
        if self.cur_len != 0 {
            errs.push("IncompleteRow");
        }
    }

    fn row(&self, len: usize, errs: &mut Vec<&'static str>) {
        self.row_start(errs);
        if len != self.row_bytes {
            errs.push("WrongRowLength");
        }
    }

    fn remaining(&self) -> usize {
        (self.height - self.rows) as usize * self.row_bytes - self.cur_len
    }

    fn accept(&mut self, bytes: &[u8]) {
        self.data.extend_from_slice(bytes);
        let total = self.cur_len + bytes.len();
        self.rows += (total / self.row_bytes) as u32;
        self.cur_len = total % self.row_bytes;
    }
}

/// For an indexed image: the first pixel among bytes `start..` of a row
/// whose index is not below the palette's length, as (x, index). Pixel by
/// pixel; the padding bits of a row's last byte are not pixels.
fn bad_index(p: &Params, bytes: &[u8], start: usize) -> Option<(u32, u8)> {
    if p.color != ColorType::Indexed {
        return None;
    }
    let bits = p.depth.bits() as usize;
    let per_byte = 8 / bits;
    for (i, &b) in bytes.iter().enumerate() {
        for k in 0..per_byte {
            let x = (start + i) * per_byte + k;
            if x >= p.width as usize {
                return None;
            }
            let index = (b >> (8 - bits * (k + 1))) & ((1u16 << bits) - 1) as u8;
            if index as usize >= p.palette_entries() {
                return Some((x as u32, index));
            }
        }
    }
    None
}

/// Random bytes; for an indexed image, in three seeds of four, every index
/// (and padding field) taken modulo the palette's length.
fn image_bytes(p: &Params, seed: u8, n: usize) -> Vec<u8> {
    let mut bytes = Rng::new(seed as u64).bytes(n);
    if p.color == ColorType::Indexed && seed % 4 != 0 {
        let bits = p.depth.bits() as u32;
        let mask = ((1u16 << bits) - 1) as u8;
        for b in &mut bytes {
            let mut folded = 0;
            for shift in (0..8).step_by(bits as usize) {
                let index = (*b >> shift) & mask;
                folded |= ((index as usize % p.palette_entries()) as u8) << shift;
            }
            *b = folded;
        }
    }
    bytes
}

fn length(len: &Len, exact: usize) -> usize {
    match *len {
        Len::Exact => exact,
        Len::Off(d) => exact.saturating_add_signed(d as isize),
    }
}

fn pixels<const N: usize>(
    w: &mut StreamingWriter<&mut FailingSink>,
    bytes: &[u8],
) -> Result<(), Error<SinkError>> {
    let (px, _) = bytes.as_chunks::<N>();
    w.write_pixels(px)
}

const IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

fuzz_target!(|input: Input| {
    let p = params(&input);
    assert!(p.violations().is_empty(), "{p:?}");
    let (fail_at, partial) = match input.sink {
        SinkFailure::AtByte(k) => (Some(k as usize), true),
        SinkFailure::AtByteWhole(k) => (Some(k as usize), false),
        _ => (None, false),
    };
    let mut sink = FailingSink {
        out: Vec::new(),
        fail_at,
        partial,
        fail_flush: matches!(input.sink, SinkFailure::Flush),
        failed: false,
        calls_after_failure: 0,
    };
    let n = p.row_bytes();
    let mut model = Model {
        height: p.height,
        row_bytes: n,
        rows: 0,
        cur_len: 0,
        poisoned: false,
        data: Vec::new(),
    };
    let channels = p.color.channels() as usize;

    let mut finished = false;
    match StreamingWriter::with_options(&mut sink, &p.options()) {
        Err(e) => {
            assert!(
                matches!(e, Error::Sink(_)),
                "valid parameters refused: {e:?}"
            );
        }
        Ok(mut w) => {
            for op in &input.ops {
                let mut errs = Vec::new();
                // The bad palette index a call must report: (row, x, index).
                let mut bad = None;
                let (r, bytes) = match op {
                    Op::Row { len, seed } => {
                        let bytes = image_bytes(&p, *seed, length(len, n));
                        model.row(bytes.len(), &mut errs);
                        if bytes.len() == n {
                            bad = bad_index(&p, &bytes, 0).map(|(x, i)| (model.rows, x, i));
                        }
                        (w.write_row(&bytes), bytes)
                    }
                    Op::Pixels { n: k, len, seed } => {
                        let k = *k as usize % 6;
                        let count = length(len, n / channels.max(1));
                        let bytes = image_bytes(&p, *seed, k * count);
                        if p.depth != BitDepth::Eight || channels != k {
                            errs.push("WrongPixelFormat");
                        } else if bytes.len() == n {
                            bad = bad_index(&p, &bytes, 0).map(|(x, i)| (model.rows, x, i));
                        }
                        model.row(bytes.len(), &mut errs);
                        let r = match k {
                            // Zero-sized pixels: `count` of them, no bytes.
                            0 => w.write_pixels(&vec![[0u8; 0]; count]),
                            1 => pixels::<1>(&mut w, &bytes),
                            2 => pixels::<2>(&mut w, &bytes),
                            3 => pixels::<3>(&mut w, &bytes),
                            4 => pixels::<4>(&mut w, &bytes),
                            _ => pixels::<5>(&mut w, &bytes),
                        };
                        (r, bytes)
                    }
                    Op::U16 { len, seed } => {
                        let samples: Vec<u16> = Rng::new(*seed as u64)
                            .bytes(2 * length(len, n / 2))
                            .chunks(2)
                            .map(|b| u16::from_be_bytes([b[0], b[1]]))
                            .collect();
                        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_be_bytes()).collect();
                        model.row_start(&mut errs);
                        if p.depth != BitDepth::Sixteen {
                            errs.push("WrongPixelFormat");
                        }
                        if bytes.len() != n {
                            errs.push("WrongRowLength");
                        }
                        (w.write_row_u16(&samples), bytes)
                    }
                    Op::Bytes { len, seed } => {
                        let bytes = image_bytes(&p, *seed, *len as usize % (3 * n + 2));
                        if bytes.len() > model.remaining() {
                            errs.push("TooManyBytes");
                        } else {
                            // Row by row from where the current row stands.
                            let (mut y, mut start, mut rest) =
                                (model.rows, model.cur_len, &bytes[..]);
                            while bad.is_none() && !rest.is_empty() {
                                let k = (n - start).min(rest.len());
                                bad = bad_index(&p, &rest[..k], start).map(|(x, i)| (y, x, i));
                                (y, start, rest) = (y + 1, 0, &rest[k..]);
                            }
                        }
                        (w.write_bytes(&bytes), bytes)
                    }
                    Op::Inspect => {
                        assert_eq!(w.row_bytes(), n);
                        assert_eq!((w.width(), w.height()), (p.width, p.height));
                        if !model.poisoned {
                            assert_eq!(w.rows_written(), model.rows);
                        }
                        continue;
                    }
                    Op::Finish => {
                        if model.cur_len != 0 {
                            errs.push("IncompleteRow");
                        }
                        if model.rows < model.height {
                            errs.push("MissingRows");
                        }
                        let r = w.finish().map(|_| ());
                        check(&r, &errs, &model, sink_failed(&r));
                        finished = r.is_ok() || matches!(r, Err(Error::Sink(_)));
                        break;
                    }
                };
                if bad.is_some() {
                    errs.push("PaletteIndex");
                }
                check(&r, &errs, &model, sink_failed(&r));
                if let (
                    Err(Error::PaletteIndex {
                        row,
                        x,
                        index,
                        palette_len,
                        ..
                    }),
                    Some(want),
                ) = (&r, bad)
                {
                    assert_eq!((*row, *x, *index), want, "palette index reported");
                    assert_eq!(*palette_len, p.palette_entries());
                }
                match r {
                    Ok(()) => model.accept(&bytes),
                    // A refused call changes nothing; a sink error ends all.
                    Err(Error::Sink(_)) => model.poisoned = true,
                    Err(_) => {}
                }
            }
        }
    }

    assert_eq!(
        sink.calls_after_failure, 0,
        "the sink was used after it failed"
    );
    if sink.out.ends_with(&IEND) {
        assert!(finished, "IEND written without a successful finish");
        assert_eq!(model.rows, p.height);
        check_png(&sink.out, &p, &model.data);
    } else {
        assert!(
            !finished || sink.failed,
            "finish succeeded without writing IEND"
        );
    }
});

fn sink_failed<T>(r: &Result<T, Error<SinkError>>) -> bool {
    matches!(r, Err(Error::Sink(_)))
}

/// `r` must be `Poisoned` on a poisoned writer, an error from `errs` when the
/// call breaks a rule, and success otherwise (or the sink's failure).
fn check(r: &Result<(), Error<SinkError>>, errs: &[&str], model: &Model, sink_error: bool) {
    if model.poisoned {
        assert!(
            matches!(r, Err(Error::Poisoned)),
            "poisoned writer returned {r:?} (the call would break {errs:?})"
        );
    } else if errs.is_empty() {
        assert!(r.is_ok() || sink_error, "valid call failed: {r:?}");
    } else {
        match r {
            Ok(()) => panic!("call breaking {errs:?} succeeded"),
            Err(e) => assert!(
                errs.contains(&error_name(e)),
                "call breaking {errs:?} returned {e:?}"
            ),
        }
    }
}
