//! The whole encoder: fuzz-chosen size, colour type, bit depth, palette,
//! tRNS, filter, compression level, IDAT chunk size and way of feeding the
//! rows. Parameters PNG does not allow must give one of the errors naming
//! what is wrong (the model in `src/lib.rs` is written from the PNG
//! specification) with nothing written to the sink; valid ones must give a
//! file whose chunks are laid out as specified and which the `png` crate
//! decodes to exactly the pixels and metadata given. In indexed images a
//! call holding an index beyond the palette must be refused with the first
//! such pixel (found here pixel by pixel), changing nothing: the same data
//! with every index taken modulo the palette's length is then accepted.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pngstream::{BitDepth, ColorType, Compression, Error, StreamingWriter, encode};
use pngstream_fuzz::{FILTERS, Params, Rng, check_outcome, check_png};

/// Pixels per image at most, so that one run stays fast.
const MAX_AREA: u64 = 64 * 1024;

#[derive(Arbitrary, Debug)]
enum Dim {
    /// 1 to 2^`scale % 17`, so mostly small, up to 65536.
    Normal {
        scale: u8,
        v: u16,
    },
    Zero,
    /// 2^31 and up: beyond PNG's limit.
    TooLarge(u32),
}

impl Dim {
    fn value(&self) -> u32 {
        match *self {
            Dim::Normal { scale, v } => 1 + v as u32 % (1 << (scale % 17)),
            Dim::Zero => 0,
            Dim::TooLarge(v) => v | (1 << 31),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum PaletteChoice {
    None,
    /// 0 to 257 random entries.
    Entries {
        count: u16,
        seed: u64,
    },
    /// Any length in bytes, not necessarily a multiple of 3.
    RawLen {
        len: u16,
        seed: u64,
    },
}

#[derive(Arbitrary, Debug)]
enum TrnsChoice {
    None,
    /// Valid for the colour type, depth and palette where possible.
    Fitting {
        len: u16,
        seed: u64,
    },
    /// Anything.
    Bytes(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum IdatChoice {
    Default,
    /// 1 to 256 bytes: many chunks.
    Small(u8),
    /// Any value, 0 and above 2^31 − 1 included.
    Any(u32),
}

#[derive(Arbitrary, Debug)]
enum Feed {
    /// `write_row` per row.
    Rows,
    /// `write_pixels` for 8 bits, `write_row_u16` for 16, else `write_row`.
    Typed,
    /// `write_bytes` in pieces of these lengths, in turn.
    Bytes(Vec<u16>),
    /// The one-shot `encode`.
    OneShot,
    /// Per row, one of: whole row, typed helper, or `write_bytes` in two
    /// pieces cut at a chosen point.
    Mixed(Vec<u16>),
}

#[derive(Arbitrary, Debug)]
enum Pixels {
    /// These bytes over and over.
    Cycle(Vec<u8>),
    /// Pseudo-random bytes.
    Random(u64),
    /// A smooth ramp (compressible, filters matter).
    Ramp(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    width: Dim,
    height: Dim,
    color: u8,
    depth: u8,
    palette: PaletteChoice,
    trns: TrnsChoice,
    filter: Option<u8>,
    level: Option<u8>,
    idat: IdatChoice,
    feed: Feed,
    pixels: Pixels,
}

fn params(input: &Input) -> Params {
    let mut width = input.width.value();
    let mut height = input.height.value();
    // Keep valid images small: shrink the height to fit the area budget.
    if (1..=1 << 16).contains(&width) && (1..1 << 31).contains(&height) {
        let max_h = (MAX_AREA / width as u64).max(1) as u32;
        height = height.min(max_h);
    }
    if width > 1 << 16 && width < 1 << 31 {
        width = 1 << 16;
    }
    let color = ColorType::ALL[input.color as usize % 5];
    let depth = BitDepth::ALL[input.depth as usize % 5];
    let palette = match input.palette {
        PaletteChoice::None => None,
        PaletteChoice::Entries { count, seed } => {
            Some(Rng::new(seed).bytes(3 * (count as usize % 258)))
        }
        PaletteChoice::RawLen { len, seed } => Some(Rng::new(seed).bytes(len as usize % 800)),
    };
    let entries = palette.as_ref().map_or(0, |p| p.len() / 3);
    let trns = match &input.trns {
        TrnsChoice::None => None,
        TrnsChoice::Bytes(b) => Some(b.clone()),
        TrnsChoice::Fitting { len, seed } => {
            let mut r = Rng::new(*seed);
            let max = (1u32 << depth.bits()) - 1;
            let mut sample = || ((r.next_u64() >> 32) as u32 % (max + 1)) as u16;
            Some(match color {
                ColorType::Indexed => {
                    let n = 1 + *len as usize % entries.max(1);
                    Rng::new(*seed).bytes(n)
                }
                ColorType::Grayscale => sample().to_be_bytes().to_vec(),
                _ => [sample(), sample(), sample()]
                    .iter()
                    .flat_map(|s| s.to_be_bytes())
                    .collect(),
            })
        }
    };
    Params {
        width,
        height,
        color,
        depth,
        palette,
        trns,
        filter: input.filter.map(|f| FILTERS[f as usize % FILTERS.len()]),
        level: input
            .level
            .map(|l| Compression::ALL[l as usize % Compression::ALL.len()]),
        idat: match input.idat {
            IdatChoice::Default => None,
            IdatChoice::Small(n) => Some(n as u32 + 1),
            IdatChoice::Any(n) => Some(n),
        },
    }
}

fn image(p: &Params, pixels: &Pixels) -> Vec<u8> {
    let n = p.row_bytes() * p.height as usize;
    match pixels {
        Pixels::Cycle(b) if !b.is_empty() => b.iter().copied().cycle().take(n).collect(),
        Pixels::Cycle(_) => vec![0; n],
        // Random indexes stay within the palette; the other kinds may not.
        Pixels::Random(seed) => fold(p, &Rng::new(*seed).bytes(n)),
        Pixels::Ramp(step) => {
            let rb = p.row_bytes().max(1);
            (0..n)
                .map(|i| ((i % rb) as u32 * *step as u32 + (i / rb) as u32) as u8)
                .collect()
        }
    }
}

/// For an indexed image: every index (and padding field) in `bytes` taken
/// modulo the palette's length; other images unchanged.
fn fold(p: &Params, bytes: &[u8]) -> Vec<u8> {
    if p.color != ColorType::Indexed || p.palette_entries() == 0 {
        return bytes.to_vec();
    }
    let bits = p.depth.bits() as usize;
    let mask = ((1u16 << bits) - 1) as u8;
    bytes
        .iter()
        .map(|&b| {
            (0..8).step_by(bits).fold(0, |acc, shift| {
                let index = (b >> shift) & mask;
                acc | ((index as usize % p.palette_entries()) as u8) << shift
            })
        })
        .collect()
}

/// For an indexed image: the first pixel in `bytes`, which start at byte
/// `off` of the image, whose index is not below the palette's length, as
/// (row, x, index). Pixel by pixel; padding bits are not pixels.
fn bad_index(p: &Params, bytes: &[u8], off: usize) -> Option<(u32, u32, u8)> {
    if p.color != ColorType::Indexed {
        return None;
    }
    let bits = p.depth.bits() as usize;
    let per_byte = 8 / bits;
    let n = p.row_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let (y, col) = ((off + i) / n, (off + i) % n);
        for k in 0..per_byte {
            let x = col * per_byte + k;
            let index = (b >> (8 - bits * (k + 1))) & ((1u16 << bits) - 1) as u8;
            if x < p.width as usize && index as usize >= p.palette_entries() {
                return Some((y as u32, x as u32, index));
            }
        }
    }
    None
}

#[derive(Clone, Copy)]
enum Call {
    Row,
    Typed,
    Bytes,
}

/// Feeds `data` (image bytes from offset `off`) with `call`. A piece with a
/// bad palette index must be refused with exactly that pixel, changing
/// nothing; its folded copy is then fed instead. What was accepted is
/// appended to `accepted`.
fn put(
    w: &mut StreamingWriter<&mut Vec<u8>>,
    p: &Params,
    call: Call,
    data: &[u8],
    off: usize,
    accepted: &mut Vec<u8>,
) {
    let feed = |w: &mut StreamingWriter<&mut Vec<u8>>, d: &[u8]| match call {
        Call::Row => w.write_row(d),
        Call::Typed => write_typed(w, p, d),
        Call::Bytes => w.write_bytes(d),
    };
    let rows = w.rows_written();
    match (feed(w, data), bad_index(p, data, off)) {
        (Ok(()), None) => accepted.extend_from_slice(data),
        (
            Err(Error::PaletteIndex {
                row,
                x,
                index,
                palette_len,
                ..
            }),
            Some(want),
        ) => {
            assert_eq!((row, x, index), want, "bad index reported in {p:?}");
            assert_eq!(palette_len, p.palette_entries());
            assert_eq!(w.rows_written(), rows, "a refused call wrote rows");
            let fixed = fold(p, data);
            feed(w, &fixed).unwrap_or_else(|e| panic!("folded data refused in {p:?}: {e}"));
            accepted.extend_from_slice(&fixed);
        }
        (r, want) => panic!("{p:?}: {r:?}, expected bad index {want:?}"),
    }
}

/// Writes one row with the typed helper that fits the format, if any.
fn write_typed(
    w: &mut StreamingWriter<&mut Vec<u8>>,
    p: &Params,
    row: &[u8],
) -> Result<(), Error<core::convert::Infallible>> {
    match (p.depth, p.color.channels()) {
        (BitDepth::Eight, 1) => w.write_pixels(row.as_chunks::<1>().0),
        (BitDepth::Eight, 2) => w.write_pixels(row.as_chunks::<2>().0),
        (BitDepth::Eight, 3) => w.write_pixels(row.as_chunks::<3>().0),
        (BitDepth::Eight, 4) => w.write_pixels(row.as_chunks::<4>().0),
        (BitDepth::Sixteen, _) => {
            let s: Vec<u16> = row
                .chunks_exact(2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .collect();
            w.write_row_u16(&s)
        }
        _ => w.write_row(row),
    }
}

fuzz_target!(|input: Input| {
    let p = params(&input);
    let violations = p.violations();
    let opts = p.options();

    if let Feed::OneShot = input.feed {
        let img = if violations.is_empty() {
            image(&p, &input.pixels)
        } else {
            Vec::new()
        };
        let r = encode(&opts, &img);
        if let Some((y, x, i)) = violations
            .is_empty()
            .then(|| bad_index(&p, &img, 0))
            .flatten()
        {
            assert!(
                matches!(r, Err(Error::PaletteIndex { row, x: ex, index, .. }) if (row, ex, index) == (y, x, i)),
                "{p:?}: {r:?}, expected bad index {:?}",
                (y, x, i)
            );
            let img = fold(&p, &img);
            check_png(&encode(&opts, &img).unwrap(), &p, &img);
            return;
        }
        check_outcome(&p, &violations, &r);
        if let Ok(png) = r {
            check_png(&png, &p, &img);
        }
        return;
    }

    let mut out = Vec::new();
    let r = StreamingWriter::with_options(&mut out, &opts);
    check_outcome(&p, &violations, &r);
    let Ok(mut w) = r else {
        assert!(out.is_empty(), "bytes written before an error: {p:?}");
        return;
    };
    assert_eq!(w.row_bytes(), p.row_bytes());
    assert_eq!((w.width(), w.height()), (p.width, p.height));
    let img = image(&p, &input.pixels);
    let n = p.row_bytes();
    // The image as accepted: bytes refused for a bad palette index are
    // replaced by their folded copy.
    let mut got = Vec::with_capacity(img.len());
    match &input.feed {
        Feed::Rows => {
            for (y, row) in img.chunks(n).enumerate() {
                put(&mut w, &p, Call::Row, row, y * n, &mut got);
            }
        }
        Feed::Typed => {
            for (y, row) in img.chunks(n).enumerate() {
                put(&mut w, &p, Call::Typed, row, y * n, &mut got);
            }
        }
        Feed::Bytes(pieces) => {
            let mut pos = 0;
            for &k in pieces {
                let k = (k as usize).min(img.len() - pos);
                put(&mut w, &p, Call::Bytes, &img[pos..pos + k], pos, &mut got);
                pos += k;
            }
            put(&mut w, &p, Call::Bytes, &img[pos..], pos, &mut got);
        }
        Feed::Mixed(choices) => {
            for (y, row) in img.chunks(n).enumerate() {
                let c = choices.get(y).copied().unwrap_or(0);
                match c % 3 {
                    0 => put(&mut w, &p, Call::Row, row, y * n, &mut got),
                    1 => put(&mut w, &p, Call::Typed, row, y * n, &mut got),
                    _ => {
                        let cut = (c as usize / 3) % (n + 1);
                        put(&mut w, &p, Call::Bytes, &row[..cut], y * n, &mut got);
                        put(&mut w, &p, Call::Bytes, &row[cut..], y * n + cut, &mut got);
                    }
                }
            }
        }
        Feed::OneShot => unreachable!(),
    }
    assert_eq!(w.rows_written(), p.height);
    w.finish()
        .unwrap_or_else(|e| panic!("finish of {p:?}: {e}"));
    check_png(&out, &p, &got);
});
