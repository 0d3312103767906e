//! [`StreamingWriter`]: rows in, PNG out. Each row is filtered against the one
//! before it, fed to the zlib stream, and whatever compressed output has
//! accumulated leaves for the sink as IDAT chunks of bounded size.

use alloc::vec::Vec;
use core::convert::Infallible;

use crate::chunk;
use crate::color::{BitDepth, ColorType, Geometry};
use crate::error::Error;
use crate::filter::{self, Filter};
use crate::index::IndexCheck;
use crate::level::{Compression, Engine};
use crate::options::Options;
use crate::sink::Sink;
use crate::zlib::ZlibEncoder;

/// The eight bytes every PNG file starts with.
pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Writes a PNG image row by row, holding only O(width) bytes whatever the
/// height.
///
/// Creating the writer writes the signature and header chunks; each
/// [`write_row`](Self::write_row) filters and compresses one row and passes
/// finished IDAT chunks to the sink; [`finish`](Self::finish) ends the stream,
/// writes IEND and returns the sink. A writer dropped before `finish` leaves
/// output without IEND, which no decoder takes for a complete image.
///
/// # Errors, and what a writer can do after one
///
/// A call that breaks a rule is refused before it changes anything: a row
/// of the wrong length ([`Error::WrongRowLength`]), a row after the last
/// one ([`Error::TooManyRows`]) or while a [`write_bytes`](Self::write_bytes)
/// row is unfinished ([`Error::IncompleteRow`]), a pixel helper that does not
/// fit the format ([`Error::WrongPixelFormat`]), a palette index beyond the
/// palette ([`Error::PaletteIndex`]; `write_bytes` checks all of its piece
/// before it uses any of it) or bytes past the end of the image
/// ([`Error::TooManyBytes`]). None of the call's data reaches the sink, the
/// writer stays as it was, and the caller may go on with a corrected call.
/// The same holds for [`Error::OutOfMemory`] from the buffer `write_bytes`
/// assembles rows in.
///
/// A sink error can come after part of a call's output went out, so it
/// poisons the writer: every later call returns [`Error::Poisoned`] and
/// nothing more reaches the sink. [`finish`](Self::finish) takes the writer,
/// so whatever it returns ends it.
///
/// ```
/// use pngstream::{ColorType, Error, Options, StreamingWriter};
/// let options = Options::new(2, 1, ColorType::Indexed).palette(&[0, 0, 0, 255, 255, 255]);
/// let mut w = StreamingWriter::with_options(Vec::new(), &options)?;
/// // Index 2 with a 2-entry palette: refused, and nothing changed.
/// assert!(matches!(w.write_row(&[0, 2]), Err(Error::PaletteIndex { x: 1, index: 2, .. })));
/// w.write_row(&[0, 1])?; // the corrected row is taken
/// let png = w.finish()?;
/// # let _ = png;
/// # Ok::<(), Error<core::convert::Infallible>>(())
/// ```
pub struct StreamingWriter<S: Sink> {
    sink: S,
    geo: Geometry,
    filter: Filter,
    /// The adaptive filter rates a sample of each row (the fast levels).
    sparse: bool,
    idat_size: usize,
    /// The level in use and its window (see `compression`, `window_size`).
    level: Compression,
    window: usize,
    /// Filtered bytes compressed at once before full chunks are passed on
    /// (`usize::MAX`: whole rows); under a memory limit this bounds the
    /// output held.
    piece: usize,
    /// Where filtered rows are compressed.
    backend: Backend,
    /// The previous row, unfiltered (all zero before the first row).
    prev: Vec<u8>,
    /// With `sparse`: the row being filtered, copied in before it is rated
    /// (the copy to keep it as the next `prev` moved ahead), so that the
    /// rating's scattered reads find it in cache. Swapped into `prev`.
    next: Vec<u8>,
    /// A row being assembled by `write_bytes` or the `u16` helper.
    cur: Vec<u8>,
    cur_len: usize,
    /// The filter type byte and the filtered row.
    filtered: Vec<u8>,
    /// Room for trial filters when choosing by entropy.
    scratch: Vec<u8>,
    rows: u32,
    /// The palette index check (indexed images with a short palette).
    indexes: Option<IndexCheck>,
    /// Set by a sink error: the output may end inside a chunk.
    poisoned: bool,
    /// Chunks owed after the image data.
    trailer: crate::metadata::Trailer,
}

/// Where the rows are compressed.
enum Backend {
    /// On the calling thread, row by row.
    Serial(ZlibEncoder),
    /// On worker threads, segment by segment ([`Options::threads`]).
    #[cfg(feature = "std")]
    Parallel(alloc::boxed::Box<crate::parallel::Parallel>),
}

/// The image and where the writer stands in it; the sink and the buffers
/// are left out.
impl<S: Sink> core::fmt::Debug for StreamingWriter<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StreamingWriter")
            .field("width", &self.geo.width)
            .field("height", &self.geo.height)
            .field("color", &self.geo.color)
            .field("depth", &self.geo.depth)
            .field("compression", &self.level)
            .field("window_size", &self.window)
            .field("filter", &self.filter)
            .field("idat_chunk_size", &self.idat_size)
            .field("threads", &self.threads())
            .field("rows_written", &self.rows)
            .field("bytes_pending", &self.cur_len)
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

fn zeroed<E>(n: usize) -> Result<Vec<u8>, Error<E>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Error::OutOfMemory { bytes: n })?;
    v.resize(n, 0);
    Ok(v)
}

impl<S: Sink> StreamingWriter<S> {
    /// Starts an 8-bit image with default options; see [`Options`] for more.
    pub fn new(
        sink: S,
        width: u32,
        height: u32,
        color: ColorType,
    ) -> Result<Self, Error<S::Error>> {
        Self::with_options(sink, &Options::new(width, height, color))
    }

    /// Starts an image described by `options`, writing the signature, IHDR
    /// and, when given, PLTE, tRNS and the metadata chunks due before the
    /// image data.
    pub fn with_options(sink: S, options: &Options) -> Result<Self, Error<S::Error>> {
        let geo = options.validate()?;
        Self::start(sink, options, geo)
    }

    /// [`with_options`](Self::with_options) for options already checked.
    fn start(sink: S, options: &Options, geo: Geometry) -> Result<Self, Error<S::Error>> {
        let cfg = match options.memory_limit {
            None => crate::budget::unlimited(options),
            Some(limit) => crate::budget::choose(options, &geo, limit)
                .map_err(|needed| Error::MemoryLimit { needed, limit })?,
        };
        #[cfg(feature = "std")]
        {
            let workers = crate::parallel::workers_within(options, &geo);
            if workers > 0 {
                let level = options.compression;
                let p = crate::parallel::Parallel::new(&geo, level, workers, cfg.idat_size)
                    .map_err(|e| Error::OutOfMemory { bytes: e.bytes })?;
                let backend = Backend::Parallel(alloc::boxed::Box::new(p));
                return Self::begin(sink, options, geo, &cfg, backend, geo.row_bytes);
            }
        }
        let n = geo.row_bytes;
        // At the stored level the stream's length is known (a filter byte
        // and a row per row), so stored blocks need no buffer of their own;
        // only a length beyond 64 bits (no real image) takes the other way.
        let total = (geo.height as u64).checked_mul(n as u64 + 1);
        let mut zlib = match total {
            Some(total) if cfg.level.plan().engine == Engine::Stored => {
                ZlibEncoder::stored_exact(total, cfg.sizes.window_bits)
            }
            _ => ZlibEncoder::sized(cfg.level, total, &cfg.sizes)
                .map_err(|e| Error::OutOfMemory { bytes: e.bytes })?,
        };
        // Output waits until it fills a chunk, and one row's compressed data
        // plus at most a block's can land on top of an almost full chunk:
        // sized once here, the buffer seldom has to grow. Very large chunk
        // sizes are left to grow on demand. Under a memory limit, rows are
        // compressed in pieces and the room is what the limit counted, less
        // the header's buffer, which the reservation moves out of.
        let out_room = match options.memory_limit {
            Some(_) => cfg.out_room - crate::budget::HEADER_BUFFER,
            None => cfg
                .idat_size
                .min(1 << 22)
                .saturating_add(n)
                .saturating_add(zlib.burst()),
        };
        let reserve = out_room.saturating_sub(zlib.output().len());
        zlib.output()
            .try_reserve_exact(reserve)
            .map_err(|_| Error::OutOfMemory { bytes: out_room })?;
        Self::begin(sink, options, geo, &cfg, Backend::Serial(zlib), n)
    }

    /// Makes the writer around `backend`, with row buffers of `n` bytes
    /// for the filter, and writes the chunks before the image data.
    fn begin(
        sink: S,
        options: &Options,
        geo: Geometry,
        cfg: &crate::budget::Config,
        backend: Backend,
        n: usize,
    ) -> Result<Self, Error<S::Error>> {
        let (filter, sparse) = (cfg.filter, cfg.sparse);
        let needs_prev = matches!(
            filter,
            Filter::Up | Filter::Average | Filter::Paeth | Filter::Adaptive | Filter::Entropy
        );
        let mut w = StreamingWriter {
            prev: zeroed(if needs_prev { n } else { 0 })?,
            next: zeroed(if sparse { n } else { 0 })?,
            cur: Vec::new(),
            cur_len: 0,
            filtered: zeroed(if filter == Filter::None || n == 0 {
                0
            } else {
                n + 1
            })?,
            scratch: zeroed(if filter == Filter::Entropy && n > 0 {
                n + 1
            } else {
                0
            })?,
            geo,
            filter,
            sparse,
            idat_size: cfg.idat_size,
            level: cfg.level,
            window: 1 << cfg.sizes.window_bits,
            piece: cfg.piece,
            backend,
            rows: 0,
            indexes: match (geo.color, &options.palette) {
                (ColorType::Indexed, Some(p)) => IndexCheck::new(geo.width, geo.depth, p.len() / 3),
                _ => None,
            },
            poisoned: false,
            trailer: crate::metadata::Trailer::new(&options.metadata),
            sink,
        };
        w.write_headers(options).map_err(Error::Sink)?;
        Ok(w)
    }

    fn write_headers(&mut self, options: &Options) -> Result<(), S::Error> {
        use crate::metadata::{Stage, write_stage};
        self.sink.write_all(&SIGNATURE)?;
        chunk::write_chunk(&mut self.sink, chunk::IHDR, &self.geo.ihdr())?;
        write_stage(&mut self.sink, &options.metadata, Stage::BeforePalette)?;
        if let Some(p) = &options.palette {
            chunk::write_chunk(&mut self.sink, chunk::PLTE, p)?;
        }
        if let Some(t) = &options.transparency {
            chunk::write_chunk(&mut self.sink, chunk::TRNS, t)?;
        }
        write_stage(&mut self.sink, &options.metadata, Stage::BeforeImageData)?;
        Ok(())
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.geo.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.geo.height
    }

    /// Bytes in one packed row, as [`write_row`](Self::write_row) expects.
    pub fn row_bytes(&self) -> usize {
        self.geo.row_bytes
    }

    /// Complete rows written so far.
    pub fn rows_written(&self) -> u32 {
        self.rows
    }

    /// The filter in use.
    pub fn filter(&self) -> Filter {
        self.filter
    }

    /// The compression level in use: the one set, or under a
    /// [memory limit](Options::memory_limit) a cheaper one when even its
    /// smallest buffers do not fit.
    pub fn compression(&self) -> Compression {
        self.level
    }

    /// How far back matches reach, in bytes: 32 KiB, or less under a
    /// [memory limit](Options::memory_limit) (as announced in the zlib
    /// header; 256 for levels that never look back more than a byte).
    pub fn window_size(&self) -> usize {
        self.window
    }

    /// Payload bytes of each IDAT chunk but the last.
    pub fn idat_chunk_size(&self) -> usize {
        self.idat_size
    }

    /// Threads encoding the image, the calling thread among them: 1 when
    /// it does it alone (see [`Options::threads`]).
    pub fn threads(&self) -> usize {
        match &self.backend {
            Backend::Serial(_) => 1,
            #[cfg(feature = "std")]
            Backend::Parallel(p) => p.threads().max(1),
        }
    }

    /// Returns the sink's error `e`, poisoning the writer: the output may
    /// now end anywhere, even inside a chunk.
    fn fail<T>(&mut self, e: S::Error) -> Result<T, Error<S::Error>> {
        self.poisoned = true;
        Err(Error::Sink(e))
    }

    /// Checks that another row may start.
    fn check_row_start(&self) -> Result<(), Error<S::Error>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if self.rows == self.geo.height {
            return Err(Error::TooManyRows {
                height: self.geo.height,
            });
        }
        if self.cur_len != 0 {
            return Err(Error::IncompleteRow {
                have: self.cur_len,
                expected: self.geo.row_bytes,
            });
        }
        Ok(())
    }

    /// Checks the palette indexes in `bytes`, bytes `start..` of row `y`.
    fn check_indexes(&self, bytes: &[u8], start: usize, y: u32) -> Result<(), Error<S::Error>> {
        match self.indexes {
            Some(check) => match check.first_bad(bytes, start) {
                None => Ok(()),
                Some((x, index)) => Err(Error::PaletteIndex {
                    row: y,
                    x,
                    index,
                    palette_len: check.palette_len(),
                }),
            },
            None => Ok(()),
        }
    }

    /// Writes one row: exactly [`row_bytes`](Self::row_bytes) bytes in PNG
    /// order (16-bit samples big-endian, sub-byte pixels packed from the most
    /// significant bit, unused low bits of the last byte ignored). In an
    /// indexed image every index must be below the palette's length.
    pub fn write_row(&mut self, row: &[u8]) -> Result<(), Error<S::Error>> {
        self.check_row_start()?;
        if row.len() != self.geo.row_bytes {
            return Err(Error::WrongRowLength {
                row: self.rows,
                len: row.len(),
                expected: self.geo.row_bytes,
            });
        }
        self.check_indexes(row, 0, self.rows)?;
        self.encode_row(row)
    }

    /// Writes one row of 8-bit pixels given as arrays of `N` samples:
    /// `[u8; 3]` for RGB, `[u8; 4]` for RGBA, `[u8; 2]` for grey+alpha,
    /// `[u8; 1]` for grey or indexed.
    pub fn write_pixels<const N: usize>(
        &mut self,
        pixels: &[[u8; N]],
    ) -> Result<(), Error<S::Error>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if self.geo.depth != BitDepth::Eight || self.geo.color.channels() as usize != N {
            return Err(Error::WrongPixelFormat {
                given: match N {
                    1 => "[u8; 1] pixels",
                    2 => "[u8; 2] pixels",
                    3 => "[u8; 3] pixels",
                    4 => "[u8; 4] pixels",
                    _ => "pixel arrays of this size",
                },
                color: self.geo.color,
                depth: self.geo.depth,
            });
        }
        self.write_row(pixels.as_flattened())
    }

    /// Writes one row of a 16-bit image from native `u16` samples
    /// (`width × channels` of them); they are stored big-endian.
    pub fn write_row_u16(&mut self, samples: &[u16]) -> Result<(), Error<S::Error>> {
        self.check_row_start()?;
        if self.geo.depth != BitDepth::Sixteen {
            return Err(Error::WrongPixelFormat {
                given: "u16 samples",
                color: self.geo.color,
                depth: self.geo.depth,
            });
        }
        if samples.len() * 2 != self.geo.row_bytes {
            return Err(Error::WrongRowLength {
                row: self.rows,
                len: samples.len() * 2,
                expected: self.geo.row_bytes,
            });
        }
        let mut cur = self.take_cur()?;
        for (d, s) in cur.chunks_exact_mut(2).zip(samples) {
            d.copy_from_slice(&s.to_be_bytes());
        }
        let r = self.encode_row(&cur);
        self.cur = cur;
        r
    }

    /// Writes image bytes in pieces of any size, as if the packed rows were
    /// concatenated: a piece may end inside a row and the next one continue
    /// it. Bytes beyond the last row ([`Error::TooManyBytes`]) and, in an
    /// indexed image, a palette index beyond the palette anywhere in the
    /// piece ([`Error::PaletteIndex`]) are refused before any byte of the
    /// piece is used.
    pub fn write_bytes(&mut self, mut data: &[u8]) -> Result<(), Error<S::Error>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        let n = self.geo.row_bytes;
        let remaining = (self.geo.height - self.rows) as u128 * n as u128 - self.cur_len as u128;
        if data.len() as u128 > remaining {
            return Err(Error::TooManyBytes {
                given: data.len(),
                remaining,
            });
        }
        if self.indexes.is_some() {
            self.check_pieces(data)?;
        }
        // A piece that leaves a row unfinished needs the assembly buffer:
        // allocated now, so that running out of memory changes nothing.
        if (self.cur_len + data.len()) % n != 0 {
            self.ensure_cur()?;
        }
        while !data.is_empty() {
            if self.cur_len == 0 && data.len() >= n {
                let (row, rest) = data.split_at(n);
                self.encode_row(row)?;
                data = rest;
                continue;
            }
            let mut cur = self.take_cur()?;
            let k = (n - self.cur_len).min(data.len());
            cur[self.cur_len..self.cur_len + k].copy_from_slice(&data[..k]);
            self.cur_len += k;
            data = &data[k..];
            let r = if self.cur_len == n {
                self.cur_len = 0;
                self.encode_row(&cur)
            } else {
                Ok(())
            };
            self.cur = cur;
            r?;
        }
        Ok(())
    }

    /// Checks the palette indexes in `data`, row by row from where the
    /// current row stands (rows are byte-aligned, so a partial row's bytes
    /// are checked as they come).
    fn check_pieces(&self, mut data: &[u8]) -> Result<(), Error<S::Error>> {
        let n = self.geo.row_bytes;
        let (mut y, mut start) = (self.rows, self.cur_len);
        while !data.is_empty() {
            let k = (n - start).min(data.len());
            self.check_indexes(&data[..k], start, y)?;
            data = &data[k..];
            (y, start) = (y + 1, 0);
        }
        Ok(())
    }

    /// Takes the row-assembly buffer, allocating it on first use.
    fn take_cur(&mut self) -> Result<Vec<u8>, Error<S::Error>> {
        self.ensure_cur()?;
        Ok(core::mem::take(&mut self.cur))
    }

    /// Allocates the row-assembly buffer if it is not there yet.
    fn ensure_cur(&mut self) -> Result<(), Error<S::Error>> {
        if self.cur.is_empty() {
            self.cur = zeroed(self.geo.row_bytes)?;
        }
        Ok(())
    }

    /// Filters and compresses one complete row, then passes on full chunks.
    fn encode_row(&mut self, row: &[u8]) -> Result<(), Error<S::Error>> {
        let bpp = self.geo.bpp;
        if self.filter == Filter::None {
            // The filter byte is a piece of its own: it may end a block.
            self.feed(&[0])?;
            self.send_idat_if_full()?;
            self.feed(row)?;
        } else {
            // Sub looks only within the row: the row above is not kept.
            let prev = if self.filter == Filter::Sub {
                row
            } else {
                &self.prev
            };
            // A row equal to the one above (common in procedural images) is
            // found at memory speed; the row above then need not be copied,
            // and the adaptive choices need not run: Up gives all zeros,
            // which no filter beats.
            let repeat = !self.prev.is_empty() && *row == *self.prev;
            let staged = !self.next.is_empty() && !repeat;
            if staged {
                self.next.copy_from_slice(row);
            }
            let (filter, sparse) = (self.filter, self.sparse);
            // With threads, the row is filtered straight into the segment
            // it belongs to, where it fits whole.
            // A row equal to the one above filters to Up and zeros, which
            // the threads take as a count where rows are long.
            #[cfg(feature = "std")]
            let zeros = repeat && matches!(filter, Filter::Adaptive | Filter::Entropy | Filter::Up);
            #[cfg(feature = "std")]
            let in_segment = match &mut self.backend {
                Backend::Parallel(p) if zeros && p.takes_repeats(self.filtered.len()) => {
                    let n = self.filtered.len();
                    let r = p.push_repeat(&mut self.sink, Filter::Up.type_byte(), n);
                    self.poisoned |= r.is_err();
                    r?;
                    true
                }
                Backend::Parallel(p) if p.fits(self.filtered.len()) => {
                    let n = self.filtered.len();
                    let (out, scratch) = (p.slot(n), &mut self.scratch);
                    filter::filter_row(filter, repeat, sparse, row, prev, bpp, out, scratch);
                    let r = p.commit(&mut self.sink, n);
                    self.poisoned |= r.is_err();
                    r?;
                    true
                }
                _ => false,
            };
            #[cfg(not(feature = "std"))]
            let in_segment = false;
            if !in_segment {
                let (out, scratch) = (&mut self.filtered, &mut self.scratch);
                filter::filter_row(filter, repeat, sparse, row, prev, bpp, out, scratch);
                let filtered = core::mem::take(&mut self.filtered);
                let fed = self.feed(&filtered);
                self.filtered = filtered;
                fed?;
            }
            if staged {
                core::mem::swap(&mut self.prev, &mut self.next);
            } else if !self.prev.is_empty() && !repeat {
                self.prev.copy_from_slice(row);
            }
        }
        self.rows += 1;
        self.send_idat_if_full()
    }

    /// Compresses `data` on the calling thread, in pieces of `self.piece`
    /// bytes with full chunks passed on after each piece but the last, or
    /// hands it to the threads.
    // Without std the backend has one variant.
    #[cfg_attr(not(feature = "std"), allow(clippy::infallible_destructuring_match))]
    fn feed(&mut self, mut data: &[u8]) -> Result<(), Error<S::Error>> {
        loop {
            let zlib = match &mut self.backend {
                Backend::Serial(zlib) => zlib,
                #[cfg(feature = "std")]
                Backend::Parallel(p) => {
                    let r = p.push(&mut self.sink, data);
                    // Output may have reached the sink, or a segment be lost.
                    self.poisoned |= r.is_err();
                    return r;
                }
            };
            let k = data.len().min(self.piece);
            #[cfg(debug_assertions)]
            let room = zlib.output().capacity();
            zlib.write(&data[..k]);
            // Under a memory limit the output never outgrows its room.
            #[cfg(debug_assertions)]
            if self.piece != usize::MAX {
                assert_eq!(zlib.output().capacity(), room, "output outgrew its room");
            }
            data = &data[k..];
            if data.is_empty() {
                return Ok(());
            }
            self.send_idat_if_full()?;
        }
    }

    /// Passes full IDAT chunks to the sink once there is one.
    fn send_idat_if_full(&mut self) -> Result<(), Error<S::Error>> {
        let full = match &mut self.backend {
            Backend::Serial(zlib) => zlib.output().len() >= self.idat_size,
            #[cfg(feature = "std")]
            Backend::Parallel(_) => false,
        };
        if full { self.send_idat(false) } else { Ok(()) }
    }

    /// Passes full IDAT chunks (with `all`, every byte) to the sink.
    fn send_idat(&mut self, all: bool) -> Result<(), Error<S::Error>> {
        let out = match &mut self.backend {
            Backend::Serial(zlib) => zlib.output(),
            #[cfg(feature = "std")]
            Backend::Parallel(_) => return Ok(()),
        };
        match chunk::write_idat(&mut self.sink, out, self.idat_size, all) {
            Ok(n) => {
                out.drain(..n);
                Ok(())
            }
            Err(e) => self.fail(e),
        }
    }

    /// Ends the image: writes the rest of the compressed data and IEND,
    /// flushes the sink and returns it. Fails, writing nothing more, if any
    /// row is missing.
    pub fn finish(self) -> Result<S, Error<S::Error>> {
        self.finish_with(&[])
    }

    /// Like [`finish`](Self::finish), with more chunks written after the
    /// image data, before IEND: text ([`Text`](crate::Text)), the time
    /// ([`Time`](crate::Time), if [`Options::metadata`] had none) and custom
    /// chunks placed [`AfterImageData`](crate::Placement::AfterImageData) —
    /// the chunks PNG allows there. Useful for what is known only once the
    /// rows are written, such as the time encoding ended. Any other chunk is
    /// refused with [`Error::Metadata`] before anything more is written.
    ///
    /// ```
    /// use pngstream::{ColorType, StreamingWriter, Text, Time};
    /// let mut w = StreamingWriter::new(Vec::new(), 1, 1, ColorType::Grayscale)?;
    /// w.write_row(&[0])?;
    /// let png = w.finish_with(&[
    ///     Text::new("Comment", "written after the pixels")?.into(),
    ///     Time::new(2025, 6, 1, 12, 0, 0)?.into(),
    /// ])?;
    /// # let _ = png;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish_with(mut self, trailing: &[crate::Metadata]) -> Result<S, Error<S::Error>> {
        if self.poisoned {
            return Err(Error::Poisoned);
        }
        if self.cur_len != 0 {
            return Err(Error::IncompleteRow {
                have: self.cur_len,
                expected: self.geo.row_bytes,
            });
        }
        if self.rows < self.geo.height {
            return Err(Error::MissingRows {
                written: self.rows,
                height: self.geo.height,
            });
        }
        self.trailer.check(trailing)?;
        match &mut self.backend {
            Backend::Serial(zlib) => {
                zlib.finish();
                self.send_idat(true)?;
            }
            #[cfg(feature = "std")]
            Backend::Parallel(p) => p.finish(&mut self.sink)?,
        }
        self.trailer
            .write(&mut self.sink, trailing)
            .map_err(Error::Sink)?;
        chunk::write_chunk(&mut self.sink, chunk::IEND, &[]).map_err(Error::Sink)?;
        self.sink.flush().map_err(Error::Sink)?;
        Ok(self.sink)
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl StreamingWriter<crate::IoSink<std::io::BufWriter<std::fs::File>>> {
    /// Creates (or truncates) the file at `path` and starts an 8-bit image in
    /// it with default options.
    pub fn create(
        path: impl AsRef<std::path::Path>,
        width: u32,
        height: u32,
        color: ColorType,
    ) -> Result<Self, Error<std::io::Error>> {
        Self::create_with_options(path, &Options::new(width, height, color))
    }

    /// Creates (or truncates) the file at `path` and starts an image described
    /// by `options`. The options are checked before the file is touched.
    pub fn create_with_options(
        path: impl AsRef<std::path::Path>,
        options: &Options,
    ) -> Result<Self, Error<std::io::Error>> {
        options.validate::<std::io::Error>()?;
        let file = std::fs::File::create(path).map_err(Error::Sink)?;
        let sink = crate::IoSink(std::io::BufWriter::with_capacity(1 << 16, file));
        Self::with_options(sink, options)
    }
}

/// Raw image bytes through [`std::io::Write`], as [`StreamingWriter::write_bytes`]
/// takes them (packed rows back to back, in pieces of any size), so that
/// `std::io::copy` can feed an image from a reader. `flush` does nothing:
/// the image is complete only with [`finish`](StreamingWriter::finish).
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl<S: Sink> std::io::Write for StreamingWriter<S>
where
    S::Error: std::error::Error + Send + Sync + 'static,
{
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.write_bytes(buf).map_err(|e| match e {
            Error::Sink(e) => std::io::Error::other(e),
            e @ Error::WorkerPanicked { .. } => std::io::Error::other(e),
            e => std::io::Error::new(std::io::ErrorKind::InvalidInput, e),
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Encodes a whole image held in memory (`height` packed rows back to back)
/// through the same streaming path, returning the PNG file's bytes.
///
/// The options are checked first, then the image's length
/// ([`Error::WrongImageLength`]), both before anything is allocated; the
/// output buffer is then sized from the image itself.
///
/// ```
/// use pngstream::{encode, ColorType, Options};
/// let pixels = [255u8, 0, 0, 0, 255, 0]; // two RGB pixels
/// let png = encode(&Options::new(2, 1, ColorType::Rgb), &pixels).unwrap();
/// assert_eq!(&png[1..4], b"PNG");
/// ```
pub fn encode(options: &Options, image: &[u8]) -> Result<Vec<u8>, Error<Infallible>> {
    let geo = options.validate()?;
    let expected = geo.height as u128 * geo.row_bytes as u128;
    if image.len() as u128 != expected {
        return Err(Error::WrongImageLength {
            len: image.len(),
            expected,
        });
    }
    // A stored image is as large as its rows (a filter byte each, and the
    // image holds at least one byte per row) plus a few bytes per block and
    // chunk: reserve that once rather than growing the output by doubling.
    // Compressed sizes are not known ahead.
    let mut out = Vec::new();
    if options.compression.plan().engine == Engine::Stored {
        let _ = out.try_reserve_exact(
            image
                .len()
                .saturating_add(geo.height as usize)
                .saturating_add(image.len() / 8192 + 4096),
        );
    }
    let mut w = StreamingWriter::start(out, options, geo)?;
    w.write_bytes(image)?;
    w.finish()
}
