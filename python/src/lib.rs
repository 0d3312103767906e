//! `pngstream` for Python: the streaming PNG encoder of the `pngstream` crate,
//! rows in, PNG out, memory O(width).
//!
//! Rows arrive as Python objects (lists of pixel tuples, bytes-like objects,
//! numpy arrays); each is copied into a reused row buffer with the safe
//! buffer API while the GIL is held, then filtered and compressed with the
//! GIL released (`write_rows` of an array copies blocks of rows, one
//! release of the GIL per block). With `threads=n`, the calling thread
//! filters and compresses with `n - 1` of the library's worker threads.
#![forbid(unsafe_code)]

use std::ffi::CStr;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use ::pngstream as png;
use png::{BitDepth, ColorType, Compression, Filter, Options};
use pyo3::buffer::{PyBuffer, PyUntypedBuffer};
use pyo3::create_exception;
use pyo3::exceptions::{PyMemoryError, PyOSError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyInt, PyList, PyMemoryView, PySlice, PyString, PyTuple,
};

create_exception!(
    pngstream,
    PngStreamError,
    PyValueError,
    "Raised for input the encoder refuses: a row of the wrong length, shape or \
     dtype, a sample out of range, a row too many or too few, options PNG does \
     not allow, a closed writer. A ValueError; the writer stays as it was, so a \
     corrected call may follow (except after finish or close)."
);

/// An error of ours, with a message in the library's style.
fn err(msg: impl Into<String>) -> PyErr {
    PngStreamError::new_err(msg.into())
}

/// A library error as a Python exception: sink errors become `OSError`
/// (the original one when it is already an `OSError`), every other error a
/// `PngStreamError` carrying the library's message.
trait SinkError: std::fmt::Display {
    fn into_py_err(self) -> PyErr;
}

impl SinkError for std::io::Error {
    fn into_py_err(self) -> PyErr {
        PyErr::from(self)
    }
}

impl SinkError for PyErr {
    fn into_py_err(self) -> PyErr {
        Python::attach(|py| {
            if self.is_instance_of::<PyOSError>(py) {
                self
            } else {
                let e = PyOSError::new_err(format!("the sink failed: {self}"));
                e.set_cause(py, Some(self));
                e
            }
        })
    }
}

impl SinkError for std::convert::Infallible {
    fn into_py_err(self) -> PyErr {
        match self {}
    }
}

fn lib_err<E: SinkError>(e: png::Error<E>) -> PyErr {
    match e {
        png::Error::Sink(e) => e.into_py_err(),
        png::Error::Poisoned => PyOSError::new_err(e.to_string()),
        png::Error::OutOfMemory { .. } => PyMemoryError::new_err(e.to_string()),
        e => err(e.to_string()),
    }
}

/// A Python binary file object as a sink. The encoder writes a chunk as
/// three pieces (head, data, CRC); they are gathered here and passed on in
/// writes of at least 64 KiB, each a `bytes` object handed to `.write`.
/// Like `BufWriter` for paths, a sink dropped unfinished passes on what it
/// holds (an image without IEND), unless the file object failed before.
struct PySink {
    file: Py<PyAny>,
    buf: Vec<u8>,
    failed: bool,
}

const PY_SINK_BATCH: usize = 1 << 16;

impl PySink {
    fn drain(&mut self) -> PyResult<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = self.drain_now();
        self.failed |= r.is_err();
        r
    }

    fn drain_now(&mut self) -> PyResult<()> {
        Python::attach(|py| {
            let file = self.file.bind(py);
            let mut done = 0;
            while done < self.buf.len() {
                let piece = PyBytes::new(py, &self.buf[done..]);
                let wrote = file.call_method1("write", (piece,))?;
                // Buffered and text-like writers return the length or None;
                // raw files may write less and return how much.
                if wrote.is_none() {
                    break;
                }
                let n: usize = wrote.extract()?;
                if n == 0 {
                    return Err(PyOSError::new_err(
                        "the file object's write() wrote 0 bytes",
                    ));
                }
                done += n;
            }
            self.buf.clear();
            Ok(())
        })
    }
}

impl Drop for PySink {
    fn drop(&mut self) {
        if !self.failed && !self.buf.is_empty() {
            if let Err(e) = self.drain_now() {
                Python::attach(|py| e.write_unraisable(py, None));
            }
        }
    }
}

impl png::Sink for PySink {
    type Error = PyErr;

    fn write_all(&mut self, data: &[u8]) -> PyResult<()> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PY_SINK_BATCH {
            self.drain()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> PyResult<()> {
        self.drain()?;
        Python::attach(|py| {
            let file = self.file.bind(py);
            if file.hasattr("flush")? {
                file.call_method0("flush")?;
            }
            Ok(())
        })
    }
}

type FileWriter = png::StreamingWriter<png::IoSink<BufWriter<File>>>;

/// The library's writer over one of the three sinks.
enum Sinked {
    Path(FileWriter),
    File(png::StreamingWriter<PySink>),
    Memory(png::StreamingWriter<Vec<u8>>),
}

impl Sinked {
    /// Writes one packed row, the GIL released.
    fn write_row(&mut self, py: Python<'_>, row: &[u8]) -> PyResult<()> {
        match self {
            Sinked::Path(w) => py.detach(|| w.write_row(row)).map_err(lib_err),
            Sinked::File(w) => py.detach(|| w.write_row(row)).map_err(lib_err),
            Sinked::Memory(w) => py.detach(|| w.write_row(row)).map_err(lib_err),
        }
    }

    /// Writes whole packed rows back to back, the GIL released.
    fn write_rows(&mut self, py: Python<'_>, rows: &[u8], row_bytes: usize) -> PyResult<()> {
        fn all<S: png::Sink>(
            w: &mut png::StreamingWriter<S>,
            rows: &[u8],
            n: usize,
        ) -> Result<(), png::Error<S::Error>> {
            rows.chunks(n).try_for_each(|row| w.write_row(row))
        }
        match self {
            Sinked::Path(w) => py.detach(|| all(w, rows, row_bytes)).map_err(lib_err),
            Sinked::File(w) => py.detach(|| all(w, rows, row_bytes)).map_err(lib_err),
            Sinked::Memory(w) => py.detach(|| all(w, rows, row_bytes)).map_err(lib_err),
        }
    }

    /// Threads encoding the image, the calling thread among them (1: it
    /// alone).
    fn threads(&self) -> usize {
        match self {
            Sinked::Path(w) => w.threads(),
            Sinked::File(w) => w.threads(),
            Sinked::Memory(w) => w.threads(),
        }
    }

    fn rows_written(&self) -> u32 {
        match self {
            Sinked::Path(w) => w.rows_written(),
            Sinked::File(w) => w.rows_written(),
            Sinked::Memory(w) => w.rows_written(),
        }
    }

    /// Ends the image (IEND), the GIL released. Returns the bytes of an
    /// in-memory image.
    fn finish(self, py: Python<'_>) -> PyResult<Option<Vec<u8>>> {
        match self {
            Sinked::Path(w) => py.detach(|| w.finish()).map(|_| None).map_err(lib_err),
            Sinked::File(w) => py.detach(|| w.finish()).map(|_| None).map_err(lib_err),
            Sinked::Memory(w) => py.detach(|| w.finish()).map(Some).map_err(lib_err),
        }
    }
}

/// How an image's pixels are laid out.
#[derive(Clone, Copy, Debug)]
struct Format {
    width: u32,
    height: u32,
    color: ColorType,
    depth: BitDepth,
}

impl Format {
    fn channels(&self) -> usize {
        self.color.channels() as usize
    }

    /// Samples in one row.
    fn samples(&self) -> usize {
        self.width as usize * self.channels()
    }

    fn row_bytes(&self) -> usize {
        (self.samples() * self.depth.bits() as usize).div_ceil(8)
    }

    fn max_sample(&self) -> u32 {
        (1u32 << self.depth.bits()) - 1
    }

    /// Pillow's name for the mode.
    fn mode(&self) -> &'static str {
        match (self.color, self.depth) {
            (ColorType::Grayscale, BitDepth::One) => "1",
            (ColorType::Grayscale, BitDepth::Sixteen) => "I;16",
            (ColorType::Grayscale, _) => "L",
            (ColorType::GrayscaleAlpha, _) => "LA",
            (ColorType::Rgb, _) => "RGB",
            (ColorType::Rgba, _) => "RGBA",
            (ColorType::Indexed, _) => "P",
        }
    }

    fn dtype(&self) -> &'static str {
        match self.depth {
            BitDepth::Sixteen => "uint16",
            BitDepth::Eight => "uint8",
            BitDepth::One => "uint8 or bool",
            _ => "uint8",
        }
    }
}

const MODES: &str = "'1', 'L', 'LA', 'RGB', 'RGBA', 'P', 'I;16', 'I;16B', 'I;16L' or 'I;16N'";

/// The colour type and depth from `bpp`, `mode` and `bit_depth`. `mode`, when
/// given, decides; `bpp` and `bit_depth` then need only agree with it.
fn color_and_depth(
    bpp: Option<u32>,
    mode: Option<&str>,
    bit_depth: Option<u8>,
) -> PyResult<(ColorType, BitDepth)> {
    let depth_of = |bits: u8| {
        BitDepth::from_bits(bits).ok_or_else(|| {
            err(format!(
                "bit_depth {bits} is invalid: expected 1, 2, 4, 8 or 16"
            ))
        })
    };
    let (color, depth) = match mode {
        None => {
            let color = match bpp.unwrap_or(24) {
                8 => ColorType::Grayscale,
                16 => ColorType::GrayscaleAlpha,
                24 => ColorType::Rgb,
                32 => ColorType::Rgba,
                other => {
                    return Err(err(format!(
                        "bpp {other} is invalid: expected 8 (grey), 16 (grey+alpha), 24 (RGB) or 32 (RGBA); \
                         bit_depth=16 doubles the bits per sample, or give mode="
                    )));
                }
            };
            (color, depth_of(bit_depth.unwrap_or(8))?)
        }
        Some(m) => {
            let (color, fixed) = match m {
                "1" => (ColorType::Grayscale, Some(BitDepth::One)),
                "L" => (ColorType::Grayscale, None),
                "LA" => (ColorType::GrayscaleAlpha, None),
                "RGB" => (ColorType::Rgb, None),
                "RGBA" => (ColorType::Rgba, None),
                "P" => (ColorType::Indexed, None),
                "I;16" | "I;16B" | "I;16L" | "I;16N" => {
                    (ColorType::Grayscale, Some(BitDepth::Sixteen))
                }
                other => {
                    return Err(err(format!(
                        "mode {} is not supported: expected {MODES}",
                        quoted(other)
                    )));
                }
            };
            let depth = match (fixed, bit_depth) {
                (Some(d), None) => d,
                (Some(d), Some(b)) if b == d.bits() => d,
                (Some(d), Some(b)) => {
                    return Err(err(format!(
                        "mode {} has bit depth {}, but bit_depth={b} was given",
                        quoted(m),
                        d.bits()
                    )));
                }
                (None, b) => depth_of(b.unwrap_or(8))?,
            };
            if let Some(b) = bpp {
                let expected = color.channels() as u32 * 8;
                if b != expected {
                    return Err(err(format!(
                        "bpp={b} does not fit mode {}: expected {expected} (or leave bpp out)",
                        quoted(m)
                    )));
                }
            }
            (color, depth)
        }
    };
    Ok((color, depth))
}

fn parse_compression(c: Option<&Bound<'_, PyAny>>) -> PyResult<Compression> {
    let Some(c) = c.filter(|c| !c.is_none()) else {
        return Ok(Compression::Default);
    };
    if let Ok(level) = c.extract::<i64>() {
        // zlib's and Pillow's 0-9 scale, onto the five levels.
        return match level {
            0 => Ok(Compression::Stored),
            1 => Ok(Compression::Fastest),
            2 | 3 => Ok(Compression::Fast),
            4..=6 => Ok(Compression::Default),
            7..=9 => Ok(Compression::Best),
            _ => Err(err(format!(
                "compression level {level} is invalid: expected 0 to 9, or 'stored', 'fastest', 'fast', 'default' or 'best'"
            ))),
        };
    }
    let name: String = c.extract().map_err(|_| {
        PyTypeError::new_err("compression must be a str ('stored', 'fastest', 'fast', 'default', 'best') or an int 0-9")
    })?;
    match name.to_ascii_lowercase().as_str() {
        "stored" | "none" => Ok(Compression::Stored),
        "fastest" => Ok(Compression::Fastest),
        "fast" => Ok(Compression::Fast),
        "default" => Ok(Compression::Default),
        "best" => Ok(Compression::Best),
        _ => Err(err(format!(
            "compression {} is invalid: expected 'stored', 'fastest', 'fast', 'default' or 'best' (or 0 to 9)",
            quoted(&name)
        ))),
    }
}

fn parse_filter(f: Option<&str>) -> PyResult<Option<Filter>> {
    let Some(f) = f else { return Ok(None) };
    Ok(Some(match f.to_ascii_lowercase().as_str() {
        "none" => Filter::None,
        "sub" => Filter::Sub,
        "up" => Filter::Up,
        "average" => Filter::Average,
        "paeth" => Filter::Paeth,
        "adaptive" => Filter::Adaptive,
        "entropy" => Filter::Entropy,
        _ => {
            return Err(err(format!(
                "filter {} is invalid: expected 'none', 'sub', 'up', 'average', 'paeth', 'adaptive' or 'entropy'",
                quoted(f)
            )));
        }
    }))
}

/// An int in 0..=max, for palettes, transparency and such.
fn small_int(v: &Bound<'_, PyAny>, what: &str, max: u32) -> PyResult<u32> {
    let n: i64 = v
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be an int")))?;
    if !(0..=max as i64).contains(&n) {
        return Err(err(format!(
            "{what} {n} is out of range: expected 0 to {max}"
        )));
    }
    Ok(n as u32)
}

/// The bytes of a bytes-like object (bytes, bytearray, memoryview or another
/// buffer of single bytes), copied.
fn bytes_like(obj: &Bound<'_, PyAny>) -> Option<PyResult<Vec<u8>>> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Some(Ok(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Some(Ok(b.to_vec()));
    }
    if obj.cast::<PyMemoryView>().is_ok() {
        return Some(PyBuffer::<u8>::get(obj).and_then(|b| b.to_vec(obj.py())));
    }
    None
}

/// A palette: bytes of RGB triples, a sequence of (r, g, b), or a flat
/// sequence of ints.
fn parse_palette(p: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(p) {
        return b;
    }
    let mut out = Vec::new();
    for item in p.try_iter()? {
        let item = item?;
        if let Ok(n) = small_int(&item, "palette value", 255) {
            out.push(n as u8);
            continue;
        }
        let entry: Vec<Bound<'_, PyAny>> = item.try_iter()?.collect::<PyResult<_>>()?;
        if entry.len() != 3 {
            return Err(err(format!(
                "palette entry {} has {} values: expected (r, g, b)",
                out.len() / 3,
                entry.len()
            )));
        }
        for v in &entry {
            out.push(small_int(v, "palette value", 255)? as u8);
        }
    }
    Ok(out)
}

/// tRNS data: for indexed images an index made fully transparent or alpha
/// bytes per entry; for greyscale one grey value; for RGB an (r, g, b).
fn parse_transparency(
    t: &Bound<'_, PyAny>,
    color: ColorType,
    depth: BitDepth,
) -> PyResult<Vec<u8>> {
    if let Some(b) = bytes_like(t) {
        return b;
    }
    let max = (1u32 << depth.bits()) - 1;
    if color == ColorType::Indexed {
        if t.extract::<i64>().is_ok() {
            let i = small_int(t, "transparent palette index", max.min(255))? as usize;
            let mut alpha = vec![255u8; i + 1];
            alpha[i] = 0;
            return Ok(alpha);
        }
        let mut out = Vec::new();
        for v in t.try_iter()? {
            out.push(small_int(&v?, "alpha value", 255)? as u8);
        }
        return Ok(out);
    }
    let values: Vec<u32> = if t.extract::<i64>().is_ok() {
        vec![small_int(t, "transparent grey value", u16::MAX as u32)?]
    } else {
        t.try_iter()?
            .map(|v| small_int(&v?, "transparent colour value", u16::MAX as u32))
            .collect::<PyResult<_>>()?
    };
    // Values the depth cannot hold are left to the library's check.
    Ok(values
        .iter()
        .flat_map(|v| (*v as u16).to_be_bytes())
        .collect())
}

fn parse_text(t: &Bound<'_, PyAny>) -> PyResult<Vec<png::Text>> {
    let pairs = if t.hasattr("items")? {
        t.call_method0("items")?
    } else {
        t.clone()
    };
    let mut out = Vec::new();
    for pair in pairs.try_iter()? {
        let (k, v): (String, String) = pair?.extract().map_err(|_| {
            PyTypeError::new_err("text must be a dict of str to str, or (keyword, text) pairs")
        })?;
        let latin1 = v.chars().all(|c| (c as u32) < 256);
        let chunk = if latin1 {
            png::Text::new(&k, &v)
        } else {
            png::Text::international(&k, &v, false)
        };
        out.push(chunk.map_err(|e| err(e.to_string()))?);
    }
    Ok(out)
}

/// Everything the constructor and `encode` share.
struct Settings<'a, 'py> {
    bpp: Option<u32>,
    mode: Option<&'a str>,
    bit_depth: Option<u8>,
    compression: Option<&'a Bound<'py, PyAny>>,
    filter: Option<&'a str>,
    palette: Option<&'a Bound<'py, PyAny>>,
    transparency: Option<&'a Bound<'py, PyAny>>,
    text: Option<&'a Bound<'py, PyAny>>,
    threads: Option<&'a Bound<'py, PyAny>>,
}

impl Settings<'_, '_> {
    fn options(&self, width: u32, height: u32) -> PyResult<(Options, Format)> {
        let (color, depth) = color_and_depth(self.bpp, self.mode, self.bit_depth)?;
        let mut o = Options::new(width, height, color)
            .bit_depth(depth)
            .compression(parse_compression(self.compression)?)
            .threads(parse_threads(self.threads)?);
        if let Some(f) = parse_filter(self.filter)? {
            o = o.filter(f);
        }
        if let Some(p) = self.palette.filter(|p| !p.is_none()) {
            o = o.palette(&parse_palette(p)?);
        }
        if let Some(t) = self.transparency.filter(|t| !t.is_none()) {
            o = o.transparency(&parse_transparency(t, color, depth)?);
        }
        if let Some(t) = self.text.filter(|t| !t.is_none()) {
            for chunk in parse_text(t)? {
                o = o.metadata(chunk);
            }
        }
        let format = Format {
            width,
            height,
            color,
            depth,
        };
        Ok((o, format))
    }
}

fn dimension(v: i64, what: &str) -> PyResult<u32> {
    if !(1..=png::MAX_DIMENSION as i64).contains(&v) {
        return Err(err(format!(
            "{what} {v} is invalid: width and height must be 1 to {}",
            png::MAX_DIMENSION
        )));
    }
    Ok(v as u32)
}

/// What a buffer's items are, from its struct format string.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Item {
    U8,
    Bool,
    U16 { big_endian: bool },
    Other,
}

fn item_kind(format: &CStr, item_size: usize) -> Item {
    let f = format.to_bytes();
    let (order, code) = match f {
        [c] => (b'@', *c),
        [o @ (b'@' | b'=' | b'<' | b'>' | b'!'), c] => (*o, *c),
        _ => return Item::Other,
    };
    let big_endian = match order {
        b'<' => false,
        b'>' | b'!' => true,
        _ => cfg!(target_endian = "big"),
    };
    match (code, item_size) {
        (b'B' | b'c', 1) => Item::U8,
        (b'?', 1) => Item::Bool,
        (b'H', 2) => Item::U16 { big_endian },
        _ => Item::Other,
    }
}

/// numpy's name for a struct format, for messages.
fn dtype_name(format: &CStr, item_size: usize) -> String {
    let f = format.to_string_lossy();
    let code = f.trim_start_matches(['@', '=', '<', '>', '!']);
    let name = match code {
        "b" => "int8",
        "h" => "int16",
        "i" | "l" if item_size == 4 => "int32",
        "l" | "q" if item_size == 8 => "int64",
        "I" | "L" if item_size == 4 => "uint32",
        "L" | "Q" if item_size == 8 => "uint64",
        "e" => "float16",
        "f" => "float32",
        "d" => "float64",
        _ => "",
    };
    if name.is_empty() {
        format!("format {f:?}")
    } else {
        name.to_string()
    }
}

/// The kind of an array row's items, if it fits the image; otherwise the
/// error for row `y`.
fn array_item(buf: &PyUntypedBuffer, f: &Format, y: u32) -> PyResult<Item> {
    let item = item_kind(buf.format(), buf.item_size());
    let fits = match item {
        Item::U8 => f.depth != BitDepth::Sixteen,
        Item::Bool => f.depth == BitDepth::One,
        Item::U16 { .. } => f.depth == BitDepth::Sixteen,
        Item::Other => false,
    };
    if fits {
        return Ok(item);
    }
    let given = match item {
        Item::U8 => "uint8".to_string(),
        Item::Bool => "bool".to_string(),
        Item::U16 { .. } => "uint16".to_string(),
        Item::Other => dtype_name(buf.format(), buf.item_size()),
    };
    let hint = match (item, f.depth) {
        (Item::U16 { .. }, _) => " (or create the writer with bit_depth=16)",
        (Item::U8, BitDepth::Sixteen) => {
            " (or pass PNG's big-endian bytes as bytes or a memoryview)"
        }
        _ => "",
    };
    Err(err(format!(
        "row {y} has dtype {given}, but the image is {} at bit depth {}: expected {}{hint}",
        f.mode(),
        f.depth.bits(),
        f.dtype()
    )))
}

/// Checks an array row's shape: (width * channels,) or (width, channels).
fn check_row_shape(shape: &[usize], f: &Format, y: u32) -> PyResult<()> {
    let ch = f.channels();
    let w = f.width as usize;
    let shape_ok = match shape {
        [n] => *n == w * ch,
        [n, c] => *n == w && *c == ch,
        _ => false,
    };
    if shape_ok {
        return Ok(());
    }
    let expected = if ch == 1 {
        format!("({w},)")
    } else {
        format!("({w}, {ch}) or ({},)", w * ch)
    };
    let shape: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
    let shape = if shape.len() == 1 {
        format!("({},)", shape[0])
    } else {
        format!("({})", shape.join(", "))
    };
    Err(err(format!(
        "row {y} has shape {shape}, expected {expected}: {w} pixels of {}",
        plural(ch, "sample", "samples")
    )))
}

/// Reused buffers for turning Python rows into packed PNG rows.
#[derive(Default)]
struct Scratch {
    /// The packed row handed to the encoder.
    row: Vec<u8>,
    /// Samples before packing (sub-byte depths, lists).
    samples: Vec<u16>,
    bytes: Vec<u8>,
    wide: Vec<u16>,
}

/// Packs samples already checked against the depth into `out`
/// (`format.row_bytes()` long).
fn pack(samples: &[u16], depth: BitDepth, out: &mut [u8]) {
    match depth {
        BitDepth::Eight => {
            for (o, s) in out.iter_mut().zip(samples) {
                *o = *s as u8;
            }
        }
        BitDepth::Sixteen => {
            for (o, s) in out.chunks_exact_mut(2).zip(samples) {
                o.copy_from_slice(&s.to_be_bytes());
            }
        }
        d => {
            let bits = d.bits() as usize;
            let per_byte = 8 / bits;
            for (o, group) in out.iter_mut().zip(samples.chunks(per_byte)) {
                let mut b = 0u8;
                for (i, s) in group.iter().enumerate() {
                    b |= (*s as u8) << (8 - bits * (i + 1));
                }
                *o = b;
            }
        }
    }
}

/// The error for a sample out of range.
fn out_of_range(y: u32, x: usize, value: i64, f: &Format) -> PyErr {
    err(format!(
        "row {y}: pixel {x} has sample {value}, out of range for bit depth {}: expected 0 to {}",
        f.depth.bits(),
        f.max_sample()
    ))
}

impl Scratch {
    /// Fills `self.row` from `obj`, row `y` of an image of format `f`.
    /// Bytes objects are not handled here (they are used in place).
    fn fill(&mut self, obj: &Bound<'_, PyAny>, f: &Format, y: u32) -> PyResult<()> {
        let py = obj.py();
        self.row.resize(f.row_bytes(), 0);
        if obj.cast::<PyByteArray>().is_ok() || obj.cast::<PyMemoryView>().is_ok() {
            let buf = PyUntypedBuffer::get(obj)?;
            if buf.item_size() == 1 {
                return self.fill_packed(py, &buf, f, y);
            }
            // A memoryview of typed items (e.g. of a numpy array) is an array.
            return self.fill_array(py, obj, &buf, f, y);
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.fill_items(list.iter(), list.len(), f, y);
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            return self.fill_items(tuple.iter(), tuple.len(), f, y);
        }
        if obj.cast::<PyString>().is_ok() {
            return Err(PyTypeError::new_err(
                "a row must be a list of pixels, bytes, bytearray, memoryview or a numpy array, not str",
            ));
        }
        if let Ok(buf) = PyUntypedBuffer::get(obj) {
            return self.fill_array(py, obj, &buf, f, y);
        }
        match obj.try_iter() {
            Ok(it) => {
                let items: Vec<Bound<'_, PyAny>> = it.collect::<PyResult<_>>()?;
                let n = items.len();
                self.fill_items(items.into_iter(), n, f, y)
            }
            Err(_) => Err(PyTypeError::new_err(format!(
                "a row must be a list of pixels, bytes, bytearray, memoryview or a numpy array, not {}",
                obj.get_type().name()?
            ))),
        }
    }

    /// A bytes-like row: PNG's packed bytes, copied as they are.
    fn fill_packed(
        &mut self,
        py: Python<'_>,
        buf: &PyUntypedBuffer,
        f: &Format,
        y: u32,
    ) -> PyResult<()> {
        let len = buf.len_bytes();
        if len != f.row_bytes() {
            // The library's wording for a row of the wrong length.
            let n = |k: usize| format!("{k} byte{}", if k == 1 { "" } else { "s" });
            return Err(err(format!(
                "row {y} has {}, expected {}",
                n(len),
                f.row_bytes()
            )));
        }
        match buf.as_typed::<u8>() {
            Ok(b) => b.copy_to_slice(py, &mut self.row),
            Err(_) => match buf.obj(py) {
                // A format PyO3 does not read as u8 (e.g. 'b' or '?'): as bytes.
                Some(obj) => copy_bytes_of(obj, &mut self.row),
                None => Err(PyTypeError::new_err("a buffer without an exporting object")),
            },
        }
    }

    /// An array row (numpy, array.array, typed memoryview): one sample per
    /// element, shaped (width * channels,) or (width, channels).
    fn fill_array(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        buf: &PyUntypedBuffer,
        f: &Format,
        y: u32,
    ) -> PyResult<()> {
        let item = array_item(buf, f, y)?;
        check_row_shape(buf.shape(), f, y)?;
        self.pack_array(py, obj, buf, item, f, y, 1).1
    }

    /// Packs the `n` rows of samples of `obj`'s buffer `buf` (items of kind
    /// `item`, shape checked), rows `y` to `y + n - 1` of the image, into
    /// `self.row`, packed rows back to back. Returns how many rows were
    /// packed: all `n`, or those before the first with a sample out of
    /// range, with its error.
    #[allow(clippy::too_many_arguments)]
    fn pack_array(
        &mut self,
        py: Python<'_>,
        obj: &Bound<'_, PyAny>,
        buf: &PyUntypedBuffer,
        item: Item,
        f: &Format,
        y: u32,
        n: usize,
    ) -> (usize, PyResult<()>) {
        let (rb, spr, ch) = (f.row_bytes(), f.samples(), f.channels());
        self.row.resize(n * rb, 0);
        let copied = match item {
            Item::U8 if f.depth == BitDepth::Eight => {
                return match buf.as_typed::<u8>() {
                    Ok(b) => match b.copy_to_slice(py, &mut self.row) {
                        Ok(()) => (n, Ok(())),
                        Err(e) => (0, Err(e)),
                    },
                    Err(e) => (0, Err(e)),
                };
            }
            Item::U8 | Item::Bool => {
                self.bytes.resize(n * spr, 0);
                match buf.as_typed::<u8>() {
                    Ok(b) => b.copy_to_slice(py, &mut self.bytes),
                    Err(_) => copy_bytes_of(obj, &mut self.bytes),
                }
            }
            Item::U16 { big_endian } => {
                // PyO3 reads native-order formats as u16; the rest is read
                // as bytes. Either way the memory's bytes are what count.
                let order = |raw: [u8; 2]| {
                    if big_endian {
                        u16::from_be_bytes(raw)
                    } else {
                        u16::from_le_bytes(raw)
                    }
                };
                let r = match buf.as_typed::<u16>() {
                    Ok(b) => {
                        self.wide.resize(n * spr, 0);
                        b.copy_to_slice(py, &mut self.wide).map(|()| {
                            for (o, s) in self.row.chunks_exact_mut(2).zip(&self.wide) {
                                o.copy_from_slice(&order(s.to_ne_bytes()).to_be_bytes());
                            }
                        })
                    }
                    Err(_) => {
                        self.bytes.resize(2 * n * spr, 0);
                        copy_bytes_of(obj, &mut self.bytes).map(|()| {
                            for (o, raw) in
                                self.row.chunks_exact_mut(2).zip(self.bytes.chunks_exact(2))
                            {
                                o.copy_from_slice(&order([raw[0], raw[1]]).to_be_bytes());
                            }
                        })
                    }
                };
                return match r {
                    Ok(()) => (n, Ok(())),
                    Err(e) => (0, Err(e)),
                };
            }
            Item::Other => unreachable!("refused by array_item"),
        };
        if let Err(e) = copied {
            return (0, Err(e));
        }
        // Bytes of samples below 8 bits (or bools): checked and packed row
        // by row, so that the rows before a bad sample can still be written.
        let max = f.max_sample();
        for (r, (src, out)) in self
            .bytes
            .chunks_exact(spr)
            .zip(self.row.chunks_exact_mut(rb))
            .enumerate()
        {
            self.samples.clear();
            for (i, &v) in src.iter().enumerate() {
                let v = if item == Item::Bool {
                    (v != 0) as u8
                } else {
                    v
                };
                if v as u32 > max {
                    return (r, Err(out_of_range(y + r as u32, i / ch, v as i64, f)));
                }
                self.samples.push(v as u16);
            }
            pack(&self.samples, f.depth, out);
        }
        (n, Ok(()))
    }

    /// A row of Python objects: `width` pixels, each an int (one channel)
    /// or a sequence of `channels` ints, or `width * channels` ints.
    fn fill_items<'py>(
        &mut self,
        items: impl Iterator<Item = Bound<'py, PyAny>>,
        len: usize,
        f: &Format,
        y: u32,
    ) -> PyResult<()> {
        let ch = f.channels();
        let w = f.width as usize;
        let max = f.max_sample() as i64;
        self.samples.clear();
        let mut items = items.peekable();
        let flat = match items.peek() {
            None => true,
            Some(first) => first.extract::<i64>().is_ok(),
        };
        if flat && len != w * ch || !flat && len != w {
            let detail = if ch == 1 {
                String::new()
            } else if flat {
                format!(" (ints: {w} pixels × {ch} samples)")
            } else {
                " (pixels)".to_string()
            };
            return Err(err(format!(
                "row {y} has {}, expected {}{detail}",
                plural(len, "item", "items"),
                if flat { w * ch } else { w }
            )));
        }
        let sample = |v: Borrowed<'_, '_, PyAny>, x: usize| -> PyResult<u16> {
            match v.extract::<i64>() {
                Ok(n) if (0..=max).contains(&n) => Ok(n as u16),
                Ok(n) => Err(out_of_range(y, x, n, f)),
                Err(_) if v.cast::<PyInt>().is_ok() => Err(err(format!(
                    "row {y}: pixel {x} has sample {}, out of range for bit depth {}: expected 0 to {}",
                    v.as_any(),
                    f.depth.bits(),
                    f.max_sample()
                ))),
                Err(_) => Err(PyTypeError::new_err(format!(
                    "row {y}: pixel {x} has a sample of type {}, expected int",
                    v.get_type()
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                ))),
            }
        };
        if flat {
            for (i, v) in items.enumerate() {
                let s = sample(v.as_borrowed(), i / ch)?;
                self.samples.push(s);
            }
        } else {
            for (x, px) in items.enumerate() {
                if let Ok(t) = px.cast::<PyTuple>() {
                    if t.len() != ch {
                        return Err(wrong_pixel(y, x, t.len(), f));
                    }
                    // Borrowed items: no reference counting per sample.
                    for c in 0..ch {
                        let s = sample(t.get_borrowed_item(c)?, x)?;
                        self.samples.push(s);
                    }
                } else if ch == 1 && px.cast::<PyInt>().is_ok() {
                    let s = sample(px.as_borrowed(), x)?;
                    self.samples.push(s);
                } else {
                    let vals: Vec<Bound<'_, PyAny>> = match px.try_iter() {
                        Ok(it) if px.cast::<PyString>().is_err() => it.collect::<PyResult<_>>()?,
                        _ => {
                            return Err(PyTypeError::new_err(format!(
                                "row {y}: pixel {x} is {}, expected a tuple of {}",
                                px.get_type()
                                    .name()
                                    .map(|n| n.to_string())
                                    .unwrap_or_default(),
                                plural(ch, "int", "ints")
                            )));
                        }
                    };
                    if vals.len() != ch {
                        return Err(wrong_pixel(y, x, vals.len(), f));
                    }
                    for v in &vals {
                        let s = sample(v.as_borrowed(), x)?;
                        self.samples.push(s);
                    }
                }
            }
        }
        pack(&self.samples, f.depth, &mut self.row);
        Ok(())
    }
}

fn wrong_pixel(y: u32, x: usize, n: usize, f: &Format) -> PyErr {
    err(format!(
        "row {y}: pixel {x} has {}, expected {} ({})",
        plural(n, "sample", "samples"),
        f.channels(),
        f.mode()
    ))
}

/// `s` quoted as Python's repr quotes a plain str.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Copies the bytes of `obj`'s buffer, in C order, into `out` (as long as
/// the buffer), for formats PyO3 does not read directly ('?', 'b', '>H',
/// ...): a C-contiguous buffer through `memoryview(obj).cast('B')`, any
/// other through `memoryview(obj).tobytes()`, a copy more.
fn copy_bytes_of(obj: &Bound<'_, PyAny>, out: &mut [u8]) -> PyResult<()> {
    let py = obj.py();
    let view = PyMemoryView::from(obj)?;
    if let Ok(bytes) = view.call_method1("cast", ("B",)) {
        return PyBuffer::<u8>::get(&bytes)?.copy_to_slice(py, out);
    }
    let copy = view.call_method0("tobytes")?;
    let copy = copy.cast::<PyBytes>()?.as_bytes();
    if copy.len() != out.len() {
        return Err(err(format!(
            "this row's buffer holds {} bytes, expected {}",
            copy.len(),
            out.len()
        )));
    }
    out.copy_from_slice(copy);
    Ok(())
}

/// Packed rows copied out of an array per release of the GIL in
/// `write_rows` (at least one row): enough to make the per-call costs
/// (the buffer protocol, releasing and taking back the GIL) small against
/// the encoding, little enough to keep memory O(width).
const BLOCK_BYTES: usize = 256 * 1024;

/// The writer state behind the Python class, shared with `encode`.
struct Core {
    writer: Option<Sinked>,
    format: Format,
    scratch: Scratch,
    rows: u32,
    /// Threads the writer encodes on, the calling thread among them (1: it
    /// alone).
    threads: usize,
    /// Why the writer is closed, for messages.
    closed: &'static str,
}

impl Drop for Core {
    fn drop(&mut self) {
        if self.writer.is_some() {
            Python::attach(|py| self.abandon(py, "dropped"));
        }
    }
}

impl Core {
    fn new(writer: Sinked, format: Format) -> Core {
        Core {
            threads: writer.threads(),
            writer: Some(writer),
            format,
            scratch: Scratch::default(),
            rows: 0,
            closed: "",
        }
    }

    /// Closes the writer without IEND. Dropping the library's writer stops
    /// and joins its worker threads (and flushes what a file holds), so it
    /// happens with the GIL released.
    fn abandon(&mut self, py: Python<'_>, why: &'static str) {
        if let Some(w) = self.writer.take() {
            py.detach(move || drop(w));
        }
        self.closed = why;
    }

    fn writer(&mut self) -> PyResult<&mut Sinked> {
        match self.writer.as_mut() {
            Some(w) => Ok(w),
            None => Err(err(format!("the writer is closed ({})", self.closed))),
        }
    }

    fn write_row(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = obj.py();
        let y = self.rows;
        let (format, height) = (self.format, self.format.height);
        let w = self.writer()?;
        if y == height {
            // The library reports it (nothing is written).
            return w.write_row(py, &[]);
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            // Immutable: used in place, the library checks its length.
            w.write_row(py, b.as_bytes())?;
        } else {
            self.scratch.fill(obj, &format, y)?;
            let w = self.writer.as_mut().expect("checked above");
            w.write_row(py, &self.scratch.row)?;
        }
        self.rows += 1;
        Ok(())
    }

    fn write_rows(&mut self, rows: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = rows.py();
        // Bytes-like objects hold whole packed rows back to back.
        let packed = if let Ok(b) = rows.cast::<PyBytes>() {
            Some(PackedRows::Borrowed(b.as_bytes()))
        } else if rows.cast::<PyByteArray>().is_ok() || rows.cast::<PyMemoryView>().is_ok() {
            let buf = PyUntypedBuffer::get(rows)?;
            if buf.item_size() == 1 && buf.dimensions() <= 1 {
                Some(PackedRows::Owned(bytes_like(rows).expect("bytes-like")?))
            } else {
                None
            }
        } else {
            None
        };
        if let Some(data) = packed {
            let data = data.as_slice();
            let n = self.format.row_bytes();
            let left = (self.format.height - self.rows) as usize;
            if data.len() % n != 0 {
                return Err(err(format!(
                    "write_rows was given {}, not a whole number of rows of {}",
                    plural(data.len(), "byte", "bytes"),
                    plural(n, "byte", "bytes")
                )));
            }
            if data.len() / n > left {
                return Err(err(format!(
                    "write_rows was given {}, but the image has {} left",
                    plural(data.len() / n, "row", "rows"),
                    plural(left, "row", "rows")
                )));
            }
            let w = self.writer()?;
            let before = w.rows_written();
            let r = w.write_rows(py, data, n);
            self.rows += w.rows_written() - before;
            return r;
        }
        // An array of rows (not a memoryview, whose bytes are packed rows
        // when they are single bytes): blocks of rows per release of the GIL.
        if rows.cast::<PyMemoryView>().is_err() {
            if let Ok(buf) = PyUntypedBuffer::get(rows) {
                if buf.dimensions() >= 2 && self.write_array_rows(rows, &buf)? {
                    return Ok(());
                }
            }
        }
        for row in rows.try_iter()? {
            self.write_row(&row?)?;
        }
        Ok(())
    }

    /// `write_rows` of an array of two or more dimensions, one row per first
    /// index: the rows are copied out in blocks of about `BLOCK_BYTES` (the
    /// array sliced along its first axis) and each block is written with
    /// one release of the GIL. Writes and refuses what writing the rows one
    /// by one would, with the same errors. Returns false, having written
    /// nothing, for an array that does not slice into blocks of rows; the
    /// caller then iterates over it.
    fn write_array_rows(
        &mut self,
        rows: &Bound<'_, PyAny>,
        buf: &PyUntypedBuffer,
    ) -> PyResult<bool> {
        let py = rows.py();
        let f = self.format;
        let n = buf.shape()[0];
        if n == 0 {
            return Ok(true);
        }
        let left = (f.height - self.rows) as usize;
        let w = self.writer()?;
        if left == 0 {
            // The library reports it (nothing is written).
            w.write_row(py, &[])?;
        }
        let row_shape = &buf.shape()[1..];
        let item = array_item(buf, &f, self.rows)?;
        check_row_shape(row_shape, &f, self.rows)?;
        let rb = f.row_bytes();
        let per_block = (BLOCK_BYTES / rb).max(1);
        let todo = n.min(left);
        let mut done = 0;
        while done < todo {
            let k = per_block.min(todo - done);
            let y = self.rows;
            let (packed, checked) = if k == n {
                self.scratch.pack_array(py, rows, buf, item, &f, y, k)
            } else {
                let slice = PySlice::new(py, done as isize, (done + k) as isize, 1);
                let block = match rows.get_item(slice) {
                    Ok(b) => b,
                    Err(_) if done == 0 => return Ok(false),
                    Err(e) => return Err(e),
                };
                let same = PyUntypedBuffer::get(&block).ok().filter(|b| {
                    b.shape().first() == Some(&k)
                        && &b.shape()[1..] == row_shape
                        && item_kind(b.format(), b.item_size()) == item
                });
                match same {
                    Some(b) => self.scratch.pack_array(py, &block, &b, item, &f, y, k),
                    None if done == 0 => return Ok(false),
                    None => {
                        return Err(err(format!(
                            "rows {y} to {} of the array did not slice into an array of the same rows",
                            y as usize + k - 1
                        )));
                    }
                }
            };
            let w = self.writer.as_mut().expect("checked above");
            let before = w.rows_written();
            let written = w.write_rows(py, &self.scratch.row[..packed * rb], rb);
            self.rows += w.rows_written() - before;
            written?;
            checked?;
            done += k;
        }
        if n > left {
            // The row after the last: the library's error.
            let w = self.writer.as_mut().expect("checked above");
            w.write_row(py, &[])?;
        }
        Ok(true)
    }

    fn finish(&mut self, py: Python<'_>) -> PyResult<Option<Vec<u8>>> {
        let w = self.writer.take();
        self.closed = "finished";
        match w {
            Some(w) => w.finish(py),
            None => Err(err("the writer is closed (finished)")),
        }
    }
}

enum PackedRows<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl PackedRows<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            PackedRows::Borrowed(b) => b,
            PackedRows::Owned(v) => v,
        }
    }
}

/// `threads=`: `None`, 0 and 1 encode on the calling thread; n >= 2 on n
/// threads, the calling thread and n - 1 worker threads (at the default
/// and best levels; see the library's `Options::threads`).
fn parse_threads(threads: Option<&Bound<'_, PyAny>>) -> PyResult<usize> {
    let Some(t) = threads.filter(|t| !t.is_none()) else {
        return Ok(0);
    };
    let type_error = || {
        PyTypeError::new_err(format!(
            "threads must be an int or None, not {}",
            t.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ))
    };
    if t.cast::<PyBool>().is_ok() {
        return Err(type_error());
    }
    match t.extract::<i64>() {
        Ok(n) if n >= 0 => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Ok(n) => Err(err(format!(
            "threads={n} is invalid: expected 0 or more (None, 0 and 1 encode on the calling thread)"
        ))),
        Err(e) if e.is_instance_of::<PyOverflowError>(t.py()) => {
            Err(err(format!("threads={t} is invalid: too large")))
        }
        Err(_) => Err(type_error()),
    }
}

/// Writes a PNG image row by row, holding O(width) memory whatever the
/// height. The signature and header chunks are written at once; each
/// write_row filters and compresses one row (with the GIL released); finish
/// (or leaving a ``with`` block normally) writes the last data and IEND.
/// Leaving a ``with`` block by an exception writes no IEND, so no decoder
/// takes the file for a complete image.
///
/// path_or_file: a path (str or os.PathLike), created or truncated, or a
///     binary file object with .write (not closed by the writer).
/// width, height: the image size in pixels.
/// bpp: 8, 16, 24 or 32 for grey, grey+alpha, RGB or RGBA (bits per pixel
///     at 8 bits per sample; bit_depth=16 doubles the sample size).
/// mode: a Pillow mode name instead of bpp: '1', 'L', 'LA', 'RGB', 'RGBA',
///     'P' (needs palette), 'I;16' ('I;16B', 'I;16L', 'I;16N': 16-bit grey).
/// bit_depth: bits per sample: 8 or 16 (1, 2, 4 for 'L' and 'P'); '1' and
///     'I;16' set their own.
/// compression: 'stored', 'fastest', 'fast', 'default' or 'best', or
///     zlib's 0-9.
/// filter: None (the level's choice), 'none', 'sub', 'up', 'average',
///     'paeth', 'adaptive' or 'entropy'.
/// palette: for 'P': RGB triples as bytes or a sequence of (r, g, b).
/// transparency: tRNS: for 'P' an index made transparent or alpha values
///     per entry; for grey one value; for RGB an (r, g, b).
/// text: a dict of keyword to text, written as tEXt (iTXt beyond Latin-1).
/// threads: None, 0 or 1 to encode on the calling thread; n >= 2 to
///     compress on n threads, the calling thread and n - 1 worker threads,
///     at the 'default' and 'best' levels (the other levels, and images
///     of less than 256 KiB of filtered rows, half a segment, stay on the
///     calling thread; the threads property tells). Every n
///     from 2 up writes the same file, a little larger than one thread's.
///     Either way the GIL is released while rows are filtered and
///     compressed.
#[pyclass(module = "pngstream", name = "StreamingWriter")]
struct StreamingWriter {
    core: Core,
}

#[pymethods]
impl StreamingWriter {
    #[new]
    #[pyo3(signature = (path_or_file, width, height, bpp=None, *, mode=None, bit_depth=None,
        compression=None, filter=None, palette=None, transparency=None, text=None, threads=None),
        text_signature = "(path_or_file, width, height, bpp=24, *, mode=None, bit_depth=8, compression='default', filter=None, palette=None, transparency=None, text=None, threads=None)")]
    #[allow(clippy::too_many_arguments)]
    fn new(
        path_or_file: &Bound<'_, PyAny>,
        width: i64,
        height: i64,
        bpp: Option<u32>,
        mode: Option<&str>,
        bit_depth: Option<u8>,
        compression: Option<&Bound<'_, PyAny>>,
        filter: Option<&str>,
        palette: Option<&Bound<'_, PyAny>>,
        transparency: Option<&Bound<'_, PyAny>>,
        text: Option<&Bound<'_, PyAny>>,
        threads: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let (width, height) = (dimension(width, "width")?, dimension(height, "height")?);
        let settings = Settings {
            bpp,
            mode,
            bit_depth,
            compression,
            filter,
            palette,
            transparency,
            text,
            threads,
        };
        let (options, format) = settings.options(width, height)?;
        let py = path_or_file.py();
        let writer = if path_or_file.hasattr("write")? {
            let sink = PySink {
                file: path_or_file.clone().unbind(),
                buf: Vec::new(),
                failed: false,
            };
            Sinked::File(png::StreamingWriter::with_options(sink, &options).map_err(lib_err)?)
        } else {
            let path: PathBuf = path_or_file.extract().map_err(|_| {
                PyTypeError::new_err(
                    "path_or_file must be a path (str or os.PathLike) or a binary file object with .write",
                )
            })?;
            let w = py
                .detach(|| png::StreamingWriter::create_with_options(&path, &options))
                .map_err(|e| match e {
                    png::Error::Sink(io) => {
                        let e = PyErr::from(io);
                        let msg = format!("cannot create {}: {}", path.display(), e.value(py));
                        match e.value(py).get_type().call1((msg,)) {
                            Ok(v) => PyErr::from_value(v),
                            Err(_) => e,
                        }
                    }
                    e => lib_err(e),
                })?;
            Sinked::Path(w)
        };
        Ok(StreamingWriter {
            core: Core::new(writer, format),
        })
    }

    /// write_row(row)
    /// --
    ///
    /// Writes the next row. row is one of:
    /// - a list (or tuple) of width pixels, each a tuple of ints (the
    ///   article's form), or an int for one-channel images; or a flat list
    ///   of width * channels ints;
    /// - bytes, bytearray or a memoryview of bytes: the row packed as PNG
    ///   stores it (16-bit samples big-endian, sub-byte pixels from the most
    ///   significant bit);
    /// - a numpy array (or other buffer) of one sample per element, shaped
    ///   (width, channels) or (width * channels,): uint8 for bit depths up
    ///   to 8 (bool too for 1), uint16 for 16 (any byte order; stored
    ///   big-endian).
    /// Raises PngStreamError (a ValueError) for a row of the wrong length,
    /// shape or dtype, a sample out of range, a row after the last one or
    /// a closed writer, writing nothing; OSError if the file fails.
    fn write_row(&mut self, row: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.write_row(row)
    }

    /// write_rows(rows)
    /// --
    ///
    /// Writes rows from an iterable (a list of rows, a generator, a 2-D or
    /// 3-D numpy array: one row per first index), as write_row does. A
    /// bytes-like object holds whole packed rows back to back. An array's
    /// rows are copied out in blocks of about 256 KiB, each written with
    /// one release of the GIL: faster than write_row per row.
    fn write_rows(&mut self, rows: &Bound<'_, PyAny>) -> PyResult<()> {
        self.core.write_rows(rows)
    }

    /// finish()
    /// --
    ///
    /// Ends the image: writes the rest of the compressed data and IEND,
    /// flushes the file (and closes it when the writer opened it). Raises
    /// PngStreamError if a row is missing, writing no IEND; either way the
    /// writer is closed afterwards.
    fn finish(&mut self, py: Python<'_>) -> PyResult<()> {
        self.core.finish(py).map(|_| ())
    }

    /// close()
    /// --
    ///
    /// finish() if the writer is open; nothing if it is closed already.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if self.core.writer.is_none() {
            return Ok(());
        }
        self.finish(py)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Finishes the image, or after an exception in the block, closes the
    /// writer without IEND.
    fn __exit__(
        &mut self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyAny>>,
        _exc_value: Option<&Bound<'_, PyAny>>,
        _traceback: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_some_and(|t| !t.is_none()) {
            self.core
                .abandon(py, "an exception left the with block; no IEND was written");
            return Ok(false);
        }
        self.close(py)?;
        Ok(false)
    }

    /// Complete rows written so far.
    #[getter]
    fn rows_written(&self) -> u32 {
        self.core.rows
    }

    /// Threads encoding the image, the calling thread among them: the
    /// threads asked for at the default and best levels (no more than the
    /// image has 512 KiB segments of filtered rows), else 1, the calling
    /// thread alone.
    #[getter]
    fn threads(&self) -> usize {
        self.core.threads
    }

    /// Width in pixels.
    #[getter]
    fn width(&self) -> u32 {
        self.core.format.width
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> u32 {
        self.core.format.height
    }

    /// Pillow's name of the pixel format: '1', 'L', 'LA', 'RGB', 'RGBA', 'P' or 'I;16'.
    #[getter]
    fn mode(&self) -> &'static str {
        self.core.format.mode()
    }

    /// Bits per sample.
    #[getter]
    fn bit_depth(&self) -> u8 {
        self.core.format.depth.bits()
    }

    /// Samples per pixel.
    #[getter]
    fn channels(&self) -> usize {
        self.core.format.channels()
    }

    /// Bytes in one packed PNG row (without the filter byte).
    #[getter]
    fn row_bytes(&self) -> usize {
        self.core.format.row_bytes()
    }

    /// True once finished, closed, or left by an exception.
    #[getter]
    fn closed(&self) -> bool {
        self.core.writer.is_none()
    }

    fn __repr__(&self) -> String {
        let f = &self.core.format;
        format!(
            "<pngstream.StreamingWriter {}x{} {} {}-bit, {} of {} rows written{}>",
            f.width,
            f.height,
            f.mode(),
            f.depth.bits(),
            self.core.rows,
            f.height,
            if self.core.writer.is_none() {
                ", closed"
            } else {
                ""
            }
        )
    }
}

/// Encodes a whole image and returns the PNG file's bytes.
///
/// image is a numpy array shaped (height, width) or (height, width,
/// channels) of uint8 or uint16 (bool for mode '1'); its shape and dtype
/// give width, height, channels and bit depth (mode picks 'P' or '1').
/// Or packed PNG rows back to back as bytes, bytearray or memoryview, with
/// width, height and bpp or mode given. Or a list of rows as write_row
/// takes them. The other arguments are StreamingWriter's.
#[pyfunction]
#[pyo3(signature = (image, width=None, height=None, bpp=None, *, mode=None, bit_depth=None,
    compression=None, filter=None, palette=None, transparency=None, text=None, threads=None),
    text_signature = "(image, width=None, height=None, bpp=None, *, mode=None, bit_depth=None, compression='default', filter=None, palette=None, transparency=None, text=None, threads=None)")]
#[allow(clippy::too_many_arguments)]
fn encode<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    width: Option<i64>,
    height: Option<i64>,
    bpp: Option<u32>,
    mode: Option<&str>,
    bit_depth: Option<u8>,
    compression: Option<&Bound<'py, PyAny>>,
    filter: Option<&str>,
    palette: Option<&Bound<'py, PyAny>>,
    transparency: Option<&Bound<'py, PyAny>>,
    text: Option<&Bound<'py, PyAny>>,
    threads: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let mut settings = Settings {
        bpp,
        mode,
        bit_depth,
        compression,
        filter,
        palette,
        transparency,
        text,
        threads,
    };
    let bytes_like = image.cast::<PyBytes>().is_ok()
        || image.cast::<PyByteArray>().is_ok()
        || image.cast::<PyMemoryView>().is_ok_and(|_| {
            PyUntypedBuffer::get(image).is_ok_and(|b| b.item_size() == 1 && b.dimensions() <= 1)
        });
    if bytes_like {
        let (Some(w), Some(h)) = (width, height) else {
            return Err(err(
                "encode of packed bytes needs width= and height= (and bpp= or mode=)",
            ));
        };
        let (options, _) = settings.options(dimension(w, "width")?, dimension(h, "height")?)?;
        let png = if let Ok(b) = image.cast::<PyBytes>() {
            let data = b.as_bytes();
            py.detach(|| png::encode(&options, data))
        } else {
            let data = bytes_like_vec(image)?;
            py.detach(|| png::encode(&options, &data))
        }
        .map_err(lib_err)?;
        return Ok(PyBytes::new(py, &png));
    }
    // An array: the shape says the size; otherwise a sequence of rows.
    let (w, h) = match PyUntypedBuffer::get(image) {
        Ok(buf) => {
            let shape = buf.shape().to_vec();
            let (h, w, ch) = match shape.as_slice() {
                [h, w] => (*h, *w, 1),
                [h, w, c] => (*h, *w, *c),
                _ => {
                    return Err(err(format!(
                        "encode takes an array shaped (height, width) or (height, width, channels), not {} dimensions",
                        shape.len()
                    )));
                }
            };
            let item = item_kind(buf.format(), buf.item_size());
            if settings.bit_depth.is_none() && settings.mode.is_none() {
                settings.bit_depth = match item {
                    Item::U16 { .. } => Some(16),
                    _ => None,
                };
            }
            if settings.mode.is_none() && settings.bpp.is_none() {
                settings.mode = Some(match (ch, item) {
                    (1, Item::Bool) => "1",
                    (1, _) => "L",
                    (2, _) => "LA",
                    (3, _) => "RGB",
                    (4, _) => "RGBA",
                    _ => {
                        return Err(err(format!(
                            "an array of {ch} channels: expected 1 (L), 2 (LA), 3 (RGB) or 4 (RGBA)"
                        )));
                    }
                });
            }
            check_given(width, w, "width")?;
            check_given(height, h, "height")?;
            (w as i64, h as i64)
        }
        Err(_) => {
            let h = match height {
                Some(h) => h,
                None => image.len()? as i64,
            };
            let w = match width {
                Some(w) => w,
                None => infer_width(image, &settings)?,
            };
            (w, h)
        }
    };
    let (options, format) = settings.options(dimension(w, "width")?, dimension(h, "height")?)?;
    let writer = png::StreamingWriter::with_options(Vec::new(), &options).map_err(lib_err)?;
    let mut core = Core::new(Sinked::Memory(writer), format);
    core.write_rows(image)?;
    let png = core.finish(py)?.expect("an in-memory image");
    Ok(PyBytes::new(py, &png))
}

fn check_given(given: Option<i64>, actual: usize, what: &str) -> PyResult<()> {
    match given {
        Some(g) if g as u128 != actual as u128 => Err(err(format!(
            "{what}={g} was given, but the array's {what} is {actual}"
        ))),
        _ => Ok(()),
    }
}

/// The width of a list of rows: the length of its first row in pixels.
fn infer_width(image: &Bound<'_, PyAny>, s: &Settings<'_, '_>) -> PyResult<i64> {
    let first = image
        .get_item(0)
        .map_err(|_| err("encode of an empty or unindexable sequence needs width= and height="))?;
    let n = first.len()? as i64;
    let pixels = first.get_item(0).is_ok_and(|p| p.extract::<i64>().is_err());
    if pixels {
        return Ok(n);
    }
    let (color, _) = color_and_depth(s.bpp, s.mode, s.bit_depth)?;
    Ok(n / color.channels() as i64)
}

fn bytes_like_vec(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    bytes_like(obj).unwrap_or_else(|| Err(PyTypeError::new_err("expected a bytes-like object")))
}

/// A streaming PNG encoder: rows in, PNG out, memory O(width).
///
/// StreamingWriter writes an image row by row to a path or a file object;
/// encode makes a whole image's PNG bytes. Rows are lists of pixel tuples,
/// bytes-like objects or numpy arrays; the Rust encoder filters and
/// compresses them with the GIL released.
#[pymodule]
#[pyo3(name = "pngstream")]
fn pngstream_py(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<StreamingWriter>()?;
    m.add_function(wrap_pyfunction!(encode, m)?)?;
    m.add("PngStreamError", m.py().get_type::<PngStreamError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
