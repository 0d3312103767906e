//! Metadata and the `std::io::Write` way in. Arbitrary text chunks (tEXt,
//! zTXt, iTXt, any keyword and text), gAMA, pHYs, tIME, eXIf and custom
//! chunks go to `Options::metadata`, or (text and time) after the rows to
//! `finish_with`. The image bytes are fed through `std::io::Write` in
//! arbitrary pieces, at any level. Checked:
//!
//! - nothing panics;
//! - every refusal by the writer is an `Error::Metadata`;
//! - when everything is accepted, the `png` crate decodes the file to the
//!   exact pixels, with every text given, keyword and text equal, and no
//!   other.

#![no_main]

use std::io::{Cursor, Write};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pngstream::{
    ColorType, Compression, CustomChunk, Error, Exif, Gamma, Metadata, Options, PixelDensity,
    Placement, StreamingWriter, Text, Time, Unit,
};

#[derive(Arbitrary, Debug)]
enum Item {
    Text {
        kind: u8,
        keyword: String,
        text: String,
        after: bool,
    },
    Gamma(u32),
    Density {
        x: u32,
        y: u32,
        metre: bool,
    },
    Time {
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        after: bool,
    },
    Exif(Vec<u8>),
    Custom {
        kind: [u8; 4],
        data: Vec<u8>,
        place: u8,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    items: Vec<Item>,
    level: u8,
    pieces: Vec<u8>,
    pixels: [u8; 18],
}

/// Text chunks as (keyword, text) pairs, sorted.
fn decoded_texts(info: &png::Info) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    for t in &info.compressed_latin1_text {
        let mut t = t.clone();
        t.decompress_text().expect("zTXt inflates");
        all.push((t.keyword.clone(), t.get_text().expect("zTXt text")));
    }
    for t in &info.utf8_text {
        let mut t = t.clone();
        t.decompress_text().expect("iTXt inflates");
        all.push((t.keyword.clone(), t.get_text().expect("iTXt text")));
    }
    all.sort();
    all
}

fuzz_target!(|input: Input| {
    let level = Compression::ALL[input.level as usize % Compression::ALL.len()];
    let mut options = Options::new(3, 2, ColorType::Rgb).compression(level);
    let mut trailing: Vec<Metadata> = Vec::new();
    let mut texts: Vec<(String, String)> = Vec::new();
    for item in input.items.iter().take(12) {
        // Constructors refuse bad values with a `MetadataError`; the rest is
        // given to the writer.
        let (made, after): (Option<Metadata>, bool) = match item {
            Item::Text {
                kind,
                keyword,
                text,
                after,
            } => {
                let t = match kind % 4 {
                    0 => Text::new(keyword, text),
                    1 => Text::compressed(keyword, text),
                    k => Text::international(keyword, text, k == 3),
                };
                if t.is_ok() {
                    texts.push((keyword.clone(), text.clone()));
                }
                (t.ok().map(Into::into), *after)
            }
            Item::Gamma(g) => (Gamma::from_scaled(*g).ok().map(Into::into), false),
            Item::Density { x, y, metre } => {
                let unit = if *metre { Unit::Meter } else { Unit::Unknown };
                (PixelDensity::new(*x, *y, unit).ok().map(Into::into), false)
            }
            Item::Time {
                year,
                month,
                day,
                hour,
                minute,
                second,
                after,
            } => (
                Time::new(*year, *month, *day, *hour, *minute, *second)
                    .ok()
                    .map(Into::into),
                *after,
            ),
            Item::Exif(data) => (Exif::new(data).ok().map(Into::into), false),
            Item::Custom { kind, data, place } => {
                let placement = match place % 3 {
                    0 => Placement::BeforePalette,
                    1 => Placement::BeforeImageData,
                    _ => Placement::AfterImageData,
                };
                (
                    CustomChunk::new(*kind, data, placement)
                        .ok()
                        .map(Into::into),
                    false,
                )
            }
        };
        match made {
            Some(m) if after => trailing.push(m),
            Some(m) => options = options.metadata(m),
            None => {}
        }
    }
    texts.sort();

    let mut writer = match StreamingWriter::with_options(Vec::new(), &options) {
        Ok(w) => w,
        Err(Error::Metadata(_)) => return,
        Err(e) => panic!("refused with {e:?}"),
    };
    let mut rest = &input.pixels[..];
    for &p in &input.pieces {
        let n = (1 + p as usize % 7).min(rest.len());
        writer.write_all(&rest[..n]).expect("pixels go in");
        rest = &rest[n..];
    }
    writer.write_all(rest).expect("pixels go in");
    writer.flush().expect("flush does nothing");
    let png = match writer.finish_with(&trailing) {
        Ok(png) => png,
        Err(Error::Metadata(_)) => return,
        Err(e) => panic!("finish refused with {e:?}"),
    };

    // Every CRC, the zlib stream and its Adler-32, the exact length.
    if let Err(e) = pngstream_fuzz::kit::strict_decode(&png) {
        panic!("strict decode: {e}");
    }
    let mut dec = png::Decoder::new(Cursor::new(&png[..]));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().expect("png crate reads the header");
    let mut data = vec![0; reader.output_buffer_size().expect("small image")];
    reader.next_frame(&mut data).expect("png crate decodes");
    reader.finish().expect("png crate reads to IEND");
    assert_eq!(data, input.pixels);
    assert_eq!(decoded_texts(reader.info()), texts);
});
