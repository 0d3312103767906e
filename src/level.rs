//! Compression levels: the public [`Compression`] and the one table,
//! [`Compression::plan`], that says what each level means to every part of
//! the encoder (default filter, filter rating, IDAT size, deflate engine and
//! its match-finder settings, the zlib header's FLEVEL).

use core::fmt;
use core::str::FromStr;

use crate::chunk::{DEFAULT_IDAT_SIZE, STORED_IDAT_SIZE};
use crate::filter::Filter;

/// How hard the encoder works to make the file small.
///
/// Every level writes a standard zlib stream that every decoder reads, and
/// every level falls back to stored blocks where compression would not pay,
/// so incompressible data never grows by more than a few bytes per 64 KiB.
/// What each level does to get there (filters, match search) is tuning,
/// not contract, and may change in any release; the order of the levels
/// (faster towards smaller) will not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No compression: stored deflate blocks, the fastest way to a valid PNG.
    Stored,
    /// The fastest compression: no match search, Huffman codes fitted to
    /// each block and runs of zeros, rows filtered with Up by default.
    Fastest,
    /// Still no match search, with rows filtered adaptively by default:
    /// smaller files at a little more time than `Fastest`.
    Fast,
    /// The balance of size and speed: lazy matching on short hash chains,
    /// which the encoder skips on stretches where it does not pay.
    #[default]
    Default,
    /// The smallest output and the slowest: near-optimal parsing over rows
    /// filtered for the least entropy by default.
    Best,
}

impl Compression {
    /// Every level, from fastest to smallest output.
    pub const ALL: &'static [Compression] = &[
        Compression::Stored,
        Compression::Fastest,
        Compression::Fast,
        Compression::Default,
        Compression::Best,
    ];

    /// The level's name, as [`Display`](fmt::Display) writes it and
    /// [`FromStr`] reads it: `stored`, `fastest`, `fast`, `default`, `best`.
    fn name(self) -> &'static str {
        match self {
            Compression::Stored => "stored",
            Compression::Fastest => "fastest",
            Compression::Fast => "fast",
            Compression::Default => "default",
            Compression::Best => "best",
        }
    }

    /// What the level means to every part of the encoder.
    pub(crate) fn plan(self) -> Plan {
        use Engine::*;
        // The filters each level pairs with: the png crate's pairings for
        // the fast levels; the closer (slower) minimum-entropy choice at
        // the best level.
        let (engine, filter, flevel) = match self {
            Compression::Stored => (Stored, Filter::None, 0),
            Compression::Fastest => (RunLength, Filter::Up, 0),
            Compression::Fast => (RunLength, Filter::Adaptive, 1),
            Compression::Default => (Lazy(LAZY), Filter::Adaptive, 2),
            Compression::Best => (Optimal(OPTIMAL), Filter::Entropy, 3),
        };
        Plan {
            engine,
            filter,
            // The levels without match search rate a sample of each row.
            sparse_rating: matches!(engine, RunLength),
            idat_size: match engine {
                Stored => STORED_IDAT_SIZE,
                _ => DEFAULT_IDAT_SIZE,
            },
            flevel,
            parallel: matches!(engine, Lazy(_) | Optimal(_)),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing a [`Compression`] or a [`Filter`] from a name it
/// does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What the name was meant to be: `"compression level"` or `"filter"`.
    pub kind: &'static str,
    /// The names that are accepted.
    pub accepted: &'static [&'static str],
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {}: expected one of ", self.kind)?;
        for (i, name) in self.accepted.iter().enumerate() {
            let sep = match i {
                0 => "",
                _ if i + 1 == self.accepted.len() => " or ",
                _ => ", ",
            };
            write!(f, "{sep}{name}")?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownName {}

impl FromStr for Compression {
    type Err = UnknownName;

    /// Reads a level's name: `stored`, `fastest`, `fast`, `default` or `best`.
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Compression::ALL
            .iter()
            .copied()
            .find(|c| c.name() == s)
            .ok_or(UnknownName {
                kind: "compression level",
                accepted: &["stored", "fastest", "fast", "default", "best"],
            })
    }
}

/// What a level means, read by the writer and the compressor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plan {
    pub(crate) engine: Engine,
    /// The filter when none is set (see [`Plan::default_filter`]).
    filter: Filter,
    /// The adaptive filter rates a sample of each row, not all of it.
    pub(crate) sparse_rating: bool,
    /// The IDAT chunk size when none is set.
    pub(crate) idat_size: u32,
    /// The FLEVEL field of the zlib header (RFC 1950), a hint for
    /// recompressors.
    pub(crate) flevel: u8,
    /// Threads pay ([`Options::threads`](crate::Options::threads)): the
    /// matching levels. The others run at 1 to 1.5 GB/s, where copying the
    /// rows into segments and restarting per segment cost more than a
    /// second thread gave back (BENCHMARKS.md), and stay on the calling
    /// thread.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) parallel: bool,
}

impl Plan {
    /// The filter when none is set. Below 8 bits and for palette indexes
    /// the predicting filters rarely pay, so the matching levels keep the
    /// raw bytes there.
    pub(crate) fn default_filter(&self, raw_bytes_better: bool) -> Filter {
        match self.engine {
            Engine::Lazy(_) | Engine::Optimal(_) if raw_bytes_better => Filter::None,
            _ => self.filter,
        }
    }
}

/// How a level turns bytes into deflate blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Engine {
    /// Stored blocks only.
    Stored,
    /// Per-block Huffman codes and zero runs, no match search.
    RunLength,
    /// Lazy matching: each match is deferred by one position in case the
    /// next is longer; stretches where matching does not pay are
    /// run-length coded instead.
    Lazy(MatchParams),
    /// Near-optimal parsing: every match at every position weighed by its
    /// cost in bits.
    Optimal(MatchParams),
}

/// Match-finder settings (the knobs of zlib's configuration table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MatchParams {
    /// Most hash-chain entries looked at per search.
    pub(crate) max_chain: u32,
    /// Past a match this long, search only a quarter of the chain.
    pub(crate) good: usize,
    /// Lazy: do not look for a better match after one this long.
    pub(crate) lazy: usize,
    /// Stop searching as soon as a match this long is found.
    pub(crate) nice: usize,
    /// Hash four bytes instead of three: chains then hold only candidates
    /// for matches of four or more, far fewer to check. On filtered image
    /// rows 3-byte matches rarely pay, and with short chains this gives
    /// smaller files as well as faster ones.
    pub(crate) hash4: bool,
    /// Every position inside a match up to this long is added to the hash
    /// chains; of a longer match only the last few, which is enough for a
    /// run to find itself at distance 1 and saves hashing most of a long
    /// match (zlib's `max_insert_length`, refined).
    pub(crate) insert_all: usize,
}

/// The default level's match finder. The search stops early only at the
/// longest match (258): on smooth images, where most matches reach it,
/// stopping at 128 took a nearer, shorter match where a farther one ran
/// on (1.9 % larger on the 16000² gradient; the corpus's speed the same).
const LAZY: MatchParams = MatchParams {
    max_chain: 16,
    good: 8,
    lazy: 16,
    nice: 258,
    hash4: true,
    insert_all: 128,
};

/// The best level's match finder: long chains, every match indexed.
const OPTIMAL: MatchParams = MatchParams {
    max_chain: 256,
    good: 32,
    lazy: 258,
    nice: 258,
    hash4: false,
    insert_all: 258,
};

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip_through_display_and_from_str() {
        for &c in Compression::ALL {
            assert_eq!(c.to_string().parse::<Compression>(), Ok(c));
        }
        let e = "medium".parse::<Compression>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown compression level: expected one of stored, fastest, fast, default or best"
        );
    }

    #[test]
    fn filter_names_round_trip_through_display_and_from_str() {
        for &f in Filter::ALL {
            assert_eq!(f.to_string().parse::<Filter>(), Ok(f));
        }
        assert!("median".parse::<Filter>().is_err());
    }

    #[test]
    fn flevel_grows_with_the_level() {
        let f: alloc::vec::Vec<u8> = Compression::ALL.iter().map(|c| c.plan().flevel).collect();
        assert!(f.windows(2).all(|w| w[0] <= w[1]), "{f:?}");
        assert_eq!(f.last(), Some(&3));
    }
}
