#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

// The data flow, in order: a row is checked (`index`, indexed images only),
// filtered (`filter`), compressed (`deflate`, framed by `zlib`), cut into
// IDAT chunks (`chunk`, with `crc32`) and handed to the sink (`sink`);
// `writer` drives it all, and with threads (std only) hands the rows to
// `parallel`, which runs the same steps segment by segment.
mod adler32;
mod budget;
mod chunk;
mod color;
mod crc32;
mod deflate;
mod error;
mod filter;
mod index;
/// Internal hooks for `fuzz/` and `benches/`, not a stable API.
#[cfg(feature = "__internal")]
#[doc(hidden)]
pub mod internal;
mod level;
mod metadata;
mod options;
#[cfg(feature = "std")]
mod parallel;
mod sink;
mod writer;
mod zlib;

pub use chunk::{DEFAULT_IDAT_SIZE, STORED_IDAT_SIZE};
pub use color::{BitDepth, ColorType, MAX_DIMENSION};
pub use error::Error;
pub use filter::Filter;
pub use level::{Compression, UnknownName};
pub use metadata::{
    Background, Chromaticities, Cicp, ContentLightLevel, CustomChunk, Exif, Gamma, IccProfile,
    MasteringDisplay, Metadata, MetadataError, PaletteEntry, PixelDensity, Placement,
    RenderingIntent, SignificantBits, SuggestedPalette, Text, Time, Unit,
};
pub use options::Options;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use parallel::PARALLEL_SEGMENT_SIZE;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use sink::IoSink;
pub use sink::Sink;
pub use writer::{SIGNATURE, StreamingWriter, encode};
