//! Memory limits ([`Options::memory_limit`]): what the writer allocates
//! for a configuration, and the choice of the best configuration that fits
//! a limit.
//!
//! The writer's memory is its row buffers, the compressor's state and the
//! compressed output waiting to fill an IDAT chunk. Without a limit each
//! level has fixed sizes ([`Sizes::FULL`]). Under a limit the writer takes
//! the first configuration in this order that fits:
//!
//! 1. the level asked for with its full sizes and IDAT chunk size;
//! 2. the same engine with smaller buffers: at the matching levels a window
//!    of 32 KiB down to 512 B (1 KiB at `Best`) with blocks of 16 Ki down
//!    to 256 tokens and as many hash heads as window positions or half as
//!    many, at the fast levels blocks of 16 KiB down to 256 B; for each,
//!    IDAT chunks of 16 KiB down to an eighth of the window (at least
//!    256 B);
//! 3. the next cheaper engine (`Best` → `Default` → `Fast` → `Stored`),
//!    with the filters each level pairs with when none was set, and at
//!    last no filter;
//!
//! and fails with [`Error::MemoryLimit`] when not even stored blocks with
//! the smallest IDAT chunks fit.
//!
//! [`Options::memory_limit`]: crate::Options::memory_limit
//! [`Error::MemoryLimit`]: crate::Error::MemoryLimit

use crate::color::{BitDepth, ColorType, Geometry};
use crate::deflate::Sizes;
use crate::filter::Filter;
use crate::level::{Compression, Engine};
use crate::options::Options;

/// Bytes of filtered row given to the compressor at once under a memory
/// limit; the output is drained into IDAT chunks after each piece, so the
/// output room grows with it.
pub(crate) const PIECE: usize = 256;

/// The smallest IDAT chunk the writer picks by itself.
const MIN_IDAT: usize = 256;

/// What the writer is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Config {
    /// The level whose engine, filter rating and header hint are used.
    pub(crate) level: Compression,
    pub(crate) sizes: Sizes,
    pub(crate) filter: Filter,
    /// The adaptive filter rates a sample of each row.
    pub(crate) sparse: bool,
    pub(crate) idat_size: usize,
    /// Filtered bytes compressed at once (`usize::MAX`: whole rows).
    pub(crate) piece: usize,
    /// Room counted for compressed output: the writer reserves
    /// [`HEADER_BUFFER`] less.
    pub(crate) out_room: usize,
}

/// The configuration without a limit: today's sizes.
pub(crate) fn unlimited(options: &Options) -> Config {
    let level = options.compression;
    let filter = options.effective_filter();
    Config {
        level,
        sizes: Sizes::FULL,
        filter,
        sparse: filter == Filter::Adaptive && level.plan().sparse_rating,
        idat_size: options.effective_idat_chunk_size() as usize,
        piece: usize::MAX,
        out_room: 0,
    }
}

/// The best configuration within `limit` bytes, or the fewest bytes any
/// configuration needs.
pub(crate) fn choose(options: &Options, geo: &Geometry, limit: usize) -> Result<Config, usize> {
    let mut fewest = usize::MAX;
    // Each level from the one asked for down, with its filter and then
    // cheaper ones, and for each its sizes, largest first. (Trying each
    // filter with every level first did better under 16 KiB but worse
    // under 32 KiB on the bench corpus: a small compressor with a good
    // filter lost to a larger one with Sub.)
    for &level in fallbacks(options.compression) {
        if let Some(c) = first_fit(options, geo, limit, level, &mut fewest) {
            return Ok(c);
        }
    }
    Err(fewest)
}

/// The first configuration for `level` within `limit`; `fewest` keeps the
/// fewest bytes seen.
fn first_fit(
    options: &Options,
    geo: &Geometry,
    limit: usize,
    level: Compression,
    fewest: &mut usize,
) -> Option<Config> {
    let n = geo.row_bytes;
    let total = (geo.height as u64).checked_mul(n as u64 + 1);
    let fixed = other_bytes(options);
    let engine = level.plan().engine;
    for f in filters(options, level) {
        // Stored blocks gain nothing from a filter but its cost.
        if level == Compression::Stored && options.filter.is_none() && f != Filter::None {
            continue;
        }
        let sparse = f == Filter::Adaptive && level.plan().sparse_rating;
        let rows = row_bytes(f, sparse, n);
        for sizes in sizes_for(level) {
            for idat_size in idat_sizes(options, &sizes, level) {
                let out_room = out_room(engine, &sizes, idat_size, total);
                let deflate = match engine {
                    Engine::Stored => 0,
                    _ => sizes.bytes(engine, total),
                };
                let bytes = fixed
                    .saturating_add(rows)
                    .saturating_add(deflate)
                    .saturating_add(out_room);
                *fewest = (*fewest).min(bytes);
                if bytes <= limit {
                    return Some(Config {
                        level,
                        sizes,
                        filter: f,
                        sparse,
                        idat_size,
                        piece: PIECE,
                        out_room,
                    });
                }
            }
        }
    }
    None
}

/// The room for output: a chunk not yet full and what one piece can add.
fn out_room(engine: Engine, sizes: &Sizes, idat_size: usize, total: Option<u64>) -> usize {
    let burst = match (engine, total) {
        // Stored blocks of known length: the input and a few headers.
        (Engine::Stored, Some(_)) => PIECE + 64,
        _ => sizes.burst(engine, PIECE),
    };
    // The zlib header and trailer, and the header's first small buffer,
    // still held while the room is reserved (see [`HEADER_BUFFER`]).
    idat_size + burst + HEADER_BUFFER + 16
}

/// The capacity of the output buffer once the zlib header is in it (a
/// vector's first allocation), held beside the room the writer then
/// reserves: the reservation is [`Config::out_room`] less this.
pub(crate) const HEADER_BUFFER: usize = 8;

/// Bytes the writer allocates besides its row buffers, compressor and
/// output: chunks kept for after the image data.
fn other_bytes(options: &Options) -> usize {
    crate::metadata::Trailer::bytes(&options.metadata)
}

/// Row buffers for `filter`: the row above, the filtered row, the trial
/// row of the entropy filter, the staged row of sampled rating, and the
/// row being assembled from pieces.
fn row_bytes(filter: Filter, sparse: bool, n: usize) -> usize {
    let prev = match filter {
        Filter::None | Filter::Sub => 0,
        _ => n,
    };
    let filtered = if filter == Filter::None { 0 } else { n + 1 };
    let scratch = if filter == Filter::Entropy { n + 1 } else { 0 };
    let next = if sparse { n } else { 0 };
    prev + filtered + scratch + next + n
}

/// The level asked for, then the cheaper engines.
fn fallbacks(level: Compression) -> &'static [Compression] {
    use Compression::*;
    match level {
        Best => &[Best, Default, Fast, Stored],
        Default => &[Default, Fast, Stored],
        Fast => &[Fast, Stored],
        Fastest => &[Fastest, Stored],
        _ => &[Stored],
    }
}

/// The filter set, or the one `level` pairs with, then cheaper ones: the
/// adaptive choice, Up (no trial rows, no sampled rating), Sub (no row
/// above) and none.
fn filters(options: &Options, level: Compression) -> impl Iterator<Item = Filter> {
    let raw_better = options.color == ColorType::Indexed || options.depth < BitDepth::Eight;
    let first = options
        .filter
        .unwrap_or(level.plan().default_filter(raw_better));
    let list = [
        first,
        Filter::Adaptive,
        Filter::Up,
        Filter::Sub,
        Filter::None,
    ];
    let tried = if options.filter.is_some() {
        1
    } else {
        list.len()
    };
    // Each once, and nothing after None, the cheapest.
    (0..tried).filter_map(move |i| {
        let before = &list[..i];
        (!before.contains(&list[i]) && !before.contains(&Filter::None)).then_some(list[i])
    })
}

/// The sizes to try for `level`'s engine, best first. Under a limit the
/// zlib header announces the window used: 256 B where no match reaches
/// farther (stored blocks, and the fast levels' runs at distance 1).
fn sizes_for(level: Compression) -> impl Iterator<Item = Sizes> {
    let engine = level.plan().engine;
    // Window bits and tokens per block at the matching levels: blocks of
    // fewer than 2 Ki tokens spend much on their headers, so the window
    // shrinks to 1 KiB before the blocks do.
    const MATCHING: [(u32, usize); 11] = [
        (15, 16 << 10),
        (14, 8 << 10),
        (13, 4 << 10),
        (12, 2 << 10),
        (11, 2 << 10),
        (10, 2 << 10),
        (11, 1 << 10),
        (10, 1 << 10),
        (9, 1 << 10),
        (10, 512),
        (9, 256),
    ];
    let full = core::iter::once(Sizes::FULL);
    let smaller: &[(u32, usize)] = match engine {
        Engine::Stored => &[(8, 0)],
        Engine::RunLength => &[(15, 0), (14, 0), (13, 0), (12, 0), (11, 0), (10, 0), (9, 0)],
        Engine::Lazy(_) => &MATCHING,
        // The optimal parser's chunk (half a window) needs 1 KiB or more.
        Engine::Optimal(_) => &MATCHING[..MATCHING.len() - 3],
    };
    let halves: &[u32] = match engine {
        Engine::Lazy(_) | Engine::Optimal(_) => &[0, 1],
        _ => &[0],
    };
    let smaller = smaller
        .iter()
        .flat_map(move |&(bits, tokens)| {
            // Half the hash heads, but not to reach the smallest blocks.
            let halves = if tokens >= 1024 { halves } else { &halves[..1] };
            halves.iter().map(move |&h| (bits, tokens, h))
        })
        .map(move |(bits, tokens, h)| match engine {
            Engine::Stored => Sizes {
                window_bits: 8,
                ..Sizes::FULL
            },
            // Blocks under 32 KiB, whose codes come from exact counts.
            Engine::RunLength => Sizes {
                window_bits: 8,
                segment: 1 << (bits - 1),
                ..Sizes::small(bits)
            },
            Engine::Lazy(_) | Engine::Optimal(_) => Sizes {
                tokens,
                hash_bits: bits - h,
                ..Sizes::small(bits)
            },
        });
    full.chain(smaller)
}

/// IDAT chunk sizes to try with `sizes`: the one set, or the level's with
/// full sizes, or 16 KiB down to an eighth of the window or block (at
/// least 256 B).
fn idat_sizes(options: &Options, sizes: &Sizes, level: Compression) -> impl Iterator<Item = usize> {
    let set = options.idat_size.map(|s| s as usize);
    let full = *sizes == Sizes::FULL;
    let level_size = level.plan().idat_size as usize;
    let floor = match level.plan().engine {
        Engine::Stored => MIN_IDAT,
        Engine::RunLength => (sizes.segment / 8).max(MIN_IDAT),
        _ => ((1usize << sizes.window_bits) / 8).max(MIN_IDAT),
    };
    let auto = (8..=14u32)
        .rev()
        .map(|b| 1usize << b)
        .filter(move |&s| set.is_none() && !full && s >= floor);
    set.or(full.then_some(level_size)).into_iter().chain(auto)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deflate::Sizes;

    /// The cost formulas given in the documentation of
    /// `Options::memory_limit` agree with what the writer counts.
    #[test]
    fn the_documented_formulas_hold() {
        let c = 4096;
        let lazy = Compression::Default.plan().engine;
        let best = Compression::Best.plan().engine;
        for bits in 10..=15u32 {
            let w = 1usize << bits;
            for t in [256, 1024, 16 << 10] {
                let sizes = Sizes {
                    tokens: t,
                    ..Sizes::small(bits)
                };
                let counted = sizes.bytes(lazy, None) + out_room(lazy, &sizes, c, None);
                let formula = 9 * w + 4 * t + c + (3 * w).max(4 * t) + 4 * w / 3;
                assert!(
                    counted >= formula + 2048 && counted <= formula + 3072,
                    "Default, window {w}, {t} tokens: {counted} counted, {formula} by the formula"
                );
                let counted = sizes.bytes(best, None) + out_room(best, &sizes, c, None);
                let formula = formula + 22 * w;
                assert!(
                    counted >= formula + 2048 + 3072 && counted <= formula + 3072 + 5120,
                    "Best, window {w}, {t} tokens: {counted} counted, {formula} by the formula"
                );
            }
        }
        let fast = Compression::Fast.plan().engine;
        for bits in 9..=15u32 {
            let s = 1usize << (bits - 1);
            let sizes = Sizes {
                segment: s,
                ..Sizes::small(bits)
            };
            let counted = sizes.bytes(fast, None) + out_room(fast, &sizes, c, None);
            let formula = 2 * s + c;
            // Blocks under a piece: a piece can end more than one.
            let slack = if s < PIECE { PIECE + 512 } else { 512 };
            assert!(
                counted >= formula && counted <= formula + slack,
                "Fast, blocks of {s}: {counted} counted, {formula} by the formula"
            );
        }
        let stored = Compression::Stored.plan().engine;
        let counted = out_room(stored, &Sizes::FULL, c, Some(1));
        assert!(counted >= c && counted <= c + 512, "Stored: {counted}");
    }
}
