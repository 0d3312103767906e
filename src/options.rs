//! What must be known about an image before its first row: [`Options`],
//! and the checks of everything PNG requires of them.

use alloc::vec::Vec;

use crate::chunk::MAX_CHUNK_LEN;
use crate::color::{BitDepth, ColorType, Geometry, MAX_DIMENSION};
use crate::error::Error;
use crate::filter::Filter;
use crate::level::Compression;

/// Everything about an image that must be known before its first row.
///
/// ```
/// use pngstream::{BitDepth, ColorType, Compression, Options};
/// let opts = Options::new(640, 480, ColorType::Rgb)
///     .bit_depth(BitDepth::Sixteen)
///     .compression(Compression::Best);
/// # let _ = opts;
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) color: ColorType,
    pub(crate) depth: BitDepth,
    pub(crate) palette: Option<Vec<u8>>,
    pub(crate) transparency: Option<Vec<u8>>,
    pub(crate) compression: Compression,
    pub(crate) filter: Option<Filter>,
    pub(crate) idat_size: Option<u32>,
    pub(crate) metadata: Vec<crate::Metadata>,
    pub(crate) memory_limit: Option<usize>,
    #[cfg(feature = "std")]
    pub(crate) threads: usize,
}

impl Options {
    /// An 8-bit image of the given size and colour type, with the default
    /// compression and filter.
    pub fn new(width: u32, height: u32, color: ColorType) -> Options {
        Options {
            width,
            height,
            color,
            depth: BitDepth::Eight,
            palette: None,
            transparency: None,
            compression: Compression::Default,
            filter: None,
            idat_size: None,
            metadata: Vec::new(),
            memory_limit: None,
            #[cfg(feature = "std")]
            threads: 0,
        }
    }

    /// Sets the bit depth (default 8).
    pub fn bit_depth(mut self, depth: BitDepth) -> Options {
        self.depth = depth;
        self
    }

    /// Sets the palette (PLTE) as RGB triples, 1 to 256 entries. Required for
    /// indexed images, allowed as a suggestion for RGB and RGBA ones.
    pub fn palette(mut self, rgb: &[u8]) -> Options {
        self.palette = Some(rgb.to_vec());
        self
    }

    /// Sets the tRNS chunk's data: one alpha byte per palette entry (up to the
    /// palette's length) for indexed images, one 16-bit big-endian grey value
    /// (2 bytes) for greyscale, or 16-bit big-endian red, green and blue
    /// (6 bytes) for RGB.
    pub fn transparency(mut self, trns: &[u8]) -> Options {
        self.transparency = Some(trns.to_vec());
        self
    }

    /// Sets the compression level (default [`Compression::Default`]).
    pub fn compression(mut self, level: Compression) -> Options {
        self.compression = level;
        self
    }

    /// Sets the scanline filter. Without this call the filter follows the
    /// level:
    /// - [`Compression::Stored`]: [`Filter::None`], as filtering cannot pay;
    /// - [`Compression::Fastest`]: [`Filter::Up`], and [`Compression::Fast`]:
    ///   [`Filter::Adaptive`], for every image: with no match search, a
    ///   repeated row (common in indexed images too) shrinks only once a
    ///   filter turns it into a run of zeros;
    /// - [`Compression::Default`]: [`Filter::Adaptive`], and
    ///   [`Compression::Best`]: the closer (slower) [`Filter::Entropy`], for
    ///   8- and 16-bit greyscale and truecolour; indexed and sub-byte images
    ///   are left unfiltered, as libpng advises, since the match search does
    ///   better on their raw bytes.
    pub fn filter(mut self, filter: Filter) -> Options {
        self.filter = Some(filter);
        self
    }

    /// Sets the largest IDAT chunk payload, 1 to 2^31 − 1 bytes (default
    /// [`DEFAULT_IDAT_SIZE`](crate::DEFAULT_IDAT_SIZE), or [`STORED_IDAT_SIZE`](crate::STORED_IDAT_SIZE) with
    /// [`Compression::Stored`]). The writer holds up to one chunk of
    /// compressed data in memory, so this bounds part of its memory.
    pub fn idat_chunk_size(mut self, bytes: u32) -> Options {
        self.idat_size = Some(bytes);
        self
    }

    /// Caps what the writer allocates, for its whole life, at `bytes`: row
    /// buffers, compressor state, compressed output waiting for its IDAT
    /// chunk and chunks kept for after the image data (not the sink, nor
    /// these options). For small systems: a microcontroller with 64 KiB of
    /// RAM encodes a 1024-pixel-wide image in a 32 KiB heap.
    ///
    /// The writer takes the best configuration that fits: the level asked
    /// for with its full buffers if they fit; else the same level with a
    /// smaller window (32 KiB down to 512 B; how far back matches reach),
    /// hash table, blocks and IDAT chunks; else a cheaper level (`Best` →
    /// `Default` → `Fast` → `Stored`), with a cheaper filter when none was
    /// set. When even stored blocks do not fit,
    /// [`with_options`](crate::StreamingWriter::with_options) fails with
    /// [`Error::MemoryLimit`], which gives the
    /// smallest limit that would do, before anything is written. Without a
    /// limit (the default) each level keeps its full buffers and its output
    /// is unchanged. With [`threads`](Self::threads) the limit covers the
    /// threads too: fewer threads, down to one, never more memory.
    ///
    /// What a configuration costs, as zlib documents its own: `W` the
    /// window, `T` the tokens per block, `S` the block of the fast levels,
    /// `C` the IDAT chunk size, `R` the bytes of one row:
    ///
    /// ```text
    /// Default   9 W + 4 T + C + max(3 W, 4 T) + 4/3 W + about 2.5 KiB
    ///           (input 3 W, hash heads 4 W, chains 2 W, tokens 4 T; output
    ///           room: a chunk, the block at hand, what one call parses)
    /// Best      the same + 22 W + about 4 KiB (the parser's buffers)
    /// Fast      2 S + C + about 0.5 KiB (a block of input, output room)
    /// Stored    C + about 0.5 KiB (output room)
    /// + rows    R (rows assembled from pieces) + R + 1 (filtered row, all
    ///           filters but None) + R (row above, all but None and Sub)
    ///           + R + 1 (Entropy) + R (sampled rating at the fast levels)
    /// ```
    ///
    /// Without a limit `W` is 32 KiB with 256 KiB of input and 16 Ki
    /// tokens. `Options::memory_limit(32 * 1024)` on a 1024-pixel RGB
    /// image (R = 3072) gives `Default` a window of 1 KiB; with 128 KiB,
    /// 4 KiB. BENCHMARKS.md has what each limit costs in size.
    ///
    /// ```
    /// use pngstream::{ColorType, Compression, Options, StreamingWriter};
    ///
    /// let options = Options::new(1024, 768, ColorType::Rgb).memory_limit(32 * 1024);
    /// let writer = StreamingWriter::with_options(Vec::new(), &options)?;
    /// assert_eq!(writer.compression(), Compression::Default);
    /// assert_eq!(writer.window_size(), 1024);
    /// # Ok::<(), pngstream::Error<core::convert::Infallible>>(())
    /// ```
    pub fn memory_limit(mut self, bytes: usize) -> Options {
        self.memory_limit = Some(bytes);
        self
    }

    /// Adds an ancillary chunk: text, colour information, physical size,
    /// time, Exif, a suggested palette or a custom chunk (see
    /// [`Metadata`](crate::Metadata) for the list). Call it once per chunk;
    /// each is written where PNG requires it. Repeated chunks PNG allows once,
    /// sRGB with iCCP, and values that do not fit the image are refused by
    /// [`StreamingWriter::with_options`](crate::StreamingWriter::with_options) with [`Error::Metadata`].
    pub fn metadata(mut self, chunk: impl Into<crate::Metadata>) -> Options {
        self.metadata.push(chunk.into());
        self
    }

    /// Encodes the image on `n` threads (default 0: on the calling thread
    /// alone, as 1 does): the calling thread and `n - 1` worker threads it
    /// starts. The rows still go in one by one through the same calls, in
    /// any pieces; the calling thread filters them, cuts the filtered data
    /// into an even number of segments of about the same length, up to
    /// [`PARALLEL_SEGMENT_SIZE`](crate::PARALLEL_SEGMENT_SIZE) bytes (whole
    /// rows where rows are short), which the threads compress at once (the
    /// calling thread takes those still waiting whenever it would otherwise
    /// wait), and writes the results in order. Where the
    /// cuts fall depends on the image alone, so every `n` from 2 up gives
    /// the same file, a little larger than one thread's: each segment
    /// starts with the compressor's statistics afresh (its matches still
    /// reach into the segment before, but none crosses the cut) and ends
    /// its last block, then 5 bytes align it; where a segment is one block
    /// that compresses well, its tokens join the next segments' in one
    /// block instead. On the benchmark corpus that is 0.02 % at `Default`
    /// and 0.10 % at `Best`; a 16000 × 16000 gradient, which compresses to
    /// 0.1 % of its size, comes out 0.07 % smaller at `Default` and 0.01 %
    /// larger at `Best`.
    ///
    /// Threads serve [`Compression::Default`] and [`Compression::Best`].
    /// The other levels run at 1 to 1.5 GB/s on one thread, where handing
    /// the rows over in segments costs more than more threads give back, and
    /// stay on the calling thread, as does an image of less than half a
    /// segment (see [`PARALLEL_SEGMENT_SIZE`](crate::PARALLEL_SEGMENT_SIZE)
    /// for how an image is cut); see
    /// [`effective_threads`](Self::effective_threads). No more threads than
    /// segments are started.
    ///
    /// Memory stays independent of the height. With `w` threads, segment
    /// size `S` (512 KiB), `D` the 32 KiB of history before each segment
    /// and `R` the bytes of one row, the writer holds at most
    ///
    /// ```text
    /// (w + 2) × (S + D + T)                     segments: w compressing,
    ///                                           1 waiting, 1 collecting
    /// + D                                       the next segment's history
    ///                                           while all of them are out
    /// + w × compressor                          each thread's own state
    /// + 4T                                      the block segments join
    /// + 4R                                      the filter's rows
    /// + IDAT chunk size                         output not yet a chunk
    /// ```
    ///
    /// where the compressor is one thread's deflate state with room for
    /// the output of a segment's end (about 830 KiB at `Default`, 880 KiB
    /// at `Best`; the calling thread has one too) and `T` one block of
    /// tokens (65 KiB). With 2 threads that is about 4.5 MiB whatever the
    /// height;
    /// `tests/memory.rs` measures it. (Data that does not compress can add
    /// a few blocks' worth per thread: its output outgrows the input it
    /// replaces.)
    ///
    /// If the system refuses to start a thread, the writer goes on with
    /// those it has, or compresses the segments on the calling thread: the
    /// file is the same. A thread that panics (a bug) ends the image with
    /// [`Error::WorkerPanicked`](crate::Error::WorkerPanicked); a sink error
    /// or dropping the writer stops and joins the threads.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn threads(mut self, n: usize) -> Options {
        self.threads = n;
        self
    }

    /// The threads the writer will encode on for these options, the
    /// calling thread among them: 1 means the calling thread alone (see
    /// [`threads`](Self::threads)).
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    pub fn effective_threads(&self) -> usize {
        match self.validate::<core::convert::Infallible>() {
            Ok(geo) => crate::parallel::workers_within(self, &geo).max(1),
            Err(_) => 1,
        }
    }

    /// The filter used: the one set, or the default described at [`Options::filter`].
    pub fn effective_filter(&self) -> Filter {
        let raw_bytes_better = self.color == ColorType::Indexed || self.depth < BitDepth::Eight;
        self.filter
            .unwrap_or(self.compression.plan().default_filter(raw_bytes_better))
    }

    /// The IDAT chunk size used: the one set, or the level's default.
    pub fn effective_idat_chunk_size(&self) -> u32 {
        self.idat_size.unwrap_or(self.compression.plan().idat_size)
    }

    /// Bytes in one packed row of this image (without the filter byte).
    pub fn row_bytes(&self) -> Option<usize> {
        Geometry::row_bytes(self.width, self.color, self.depth)
    }

    /// Checks everything PNG requires of these options.
    pub(crate) fn validate<E>(&self) -> Result<Geometry, Error<E>> {
        let (width, height, color, depth) = (self.width, self.height, self.color, self.depth);
        if !(1..=MAX_DIMENSION).contains(&width) || !(1..=MAX_DIMENSION).contains(&height) {
            return Err(Error::InvalidDimensions { width, height });
        }
        if !color.allows(depth) {
            return Err(Error::InvalidBitDepth { color, depth });
        }
        let row_bytes = Geometry::row_bytes(width, color, depth).ok_or(Error::ImageTooLarge {
            width,
            bits_per_pixel: Geometry::bits_per_pixel(color, depth),
        })?;
        match (&self.palette, color) {
            (None, ColorType::Indexed) => return Err(Error::MissingPalette),
            (Some(_), ColorType::Grayscale | ColorType::GrayscaleAlpha) => {
                return Err(Error::PaletteNotAllowed { color });
            }
            (Some(p), _) => {
                let max_entries = if color == ColorType::Indexed {
                    1 << depth.bits()
                } else {
                    256
                };
                if p.is_empty() || p.len() % 3 != 0 || p.len() / 3 > max_entries {
                    return Err(Error::InvalidPalette {
                        len: p.len(),
                        max_entries,
                    });
                }
            }
            (None, _) => {}
        }
        if let Some(t) = &self.transparency {
            self.check_transparency(t)?;
        }
        let palette = self.palette.as_ref().map(|p| p.len() / 3);
        let header = crate::metadata::Header {
            color,
            depth,
            palette,
        };
        crate::metadata::check(&self.metadata, header)?;
        let idat_size = self.effective_idat_chunk_size();
        if !(1..=MAX_CHUNK_LEN).contains(&idat_size) {
            return Err(Error::InvalidChunkSize { size: idat_size });
        }
        Ok(Geometry {
            width,
            height,
            color,
            depth,
            row_bytes,
            bpp: (Geometry::bits_per_pixel(color, depth) as usize / 8).max(1),
        })
    }

    fn check_transparency<E>(&self, t: &[u8]) -> Result<(), Error<E>> {
        let (color, depth) = (self.color, self.depth);
        let (min, max) = match color {
            // The palette was checked first: it is there, with 1 entry or more.
            ColorType::Indexed => (1, self.palette.as_ref().map_or(0, |p| p.len() / 3)),
            ColorType::Grayscale => (2, 2),
            ColorType::Rgb => (6, 6),
            ColorType::GrayscaleAlpha | ColorType::Rgba => {
                return Err(Error::TransparencyNotAllowed { color });
            }
        };
        if !(min..=max).contains(&t.len()) {
            return Err(Error::InvalidTransparency {
                color,
                len: t.len(),
                min,
                max,
            });
        }
        if color != ColorType::Indexed {
            let limit = u16::MAX >> (16 - depth.bits());
            let names: &[&'static str] = match color {
                ColorType::Grayscale => &["grey"],
                _ => &["red", "green", "blue"],
            };
            for (s, &sample) in t.chunks_exact(2).zip(names) {
                let value = u16::from_be_bytes([s[0], s[1]]);
                if value > limit {
                    return Err(Error::TransparencyOutOfRange {
                        sample,
                        value,
                        depth,
                    });
                }
            }
        }
        Ok(())
    }
}
