//! Metadata chunks: every chunk read back by the `png` crate (or, for the
//! chunks it does not expose, by a plain chunk walk) with equal values;
//! `pngcheck -v` accepting the files in a valid chunk order; each invalid
//! input refused with its own error; and PngSuite's ancillary-chunk images
//! re-encoded with their metadata intact.
//!
//! A missing `pngcheck` or corpus is a notice and a pass, unless
//! `PNGSTREAM_STRICT=1`.

mod common;

use common::{chunks, strict, strict_decode};
use std::borrow::Cow;
use std::io::Cursor;
use std::path::PathBuf;
use std::process::Command;

use pngstream::{
    Background, BitDepth, Chromaticities, Cicp, ColorType, ContentLightLevel, CustomChunk, Error,
    Exif, Gamma, IccProfile, MasteringDisplay, Metadata, MetadataError, Options, PaletteEntry,
    PixelDensity, Placement, RenderingIntent, SignificantBits, StreamingWriter, SuggestedPalette,
    Text, Time, Unit,
};

/// Asserts that a value matches a pattern, printing the value when not.
macro_rules! assert_matches {
    ($e:expr, $p:pat) => {{
        let v = $e;
        assert!(matches!(v, $p), "{v:?} does not match {}", stringify!($p));
    }};
}

fn kinds(png: &[u8]) -> Vec<String> {
    let mut k: Vec<String> = chunks(png)
        .into_iter()
        .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
        .collect();
    k.dedup_by(|a, b| a == "IDAT" && b == "IDAT");
    k
}

/// The data of every chunk of type `kind`, in file order.
fn chunk_data(png: &[u8], kind: &[u8; 4]) -> Vec<Vec<u8>> {
    chunks(png)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, d)| d)
        .collect()
}

/// What the `png` crate decodes: the info after the header (chunks before
/// IDAT), the info after the whole file, and the pixels as stored.
struct Decoded {
    before: png::Info<'static>,
    after: png::Info<'static>,
    pixels: Vec<u8>,
}

fn decode(png_bytes: &[u8]) -> Decoded {
    // Every CRC, the zlib stream and its Adler-32 first.
    strict_decode(png_bytes).unwrap_or_else(|e| panic!("strict decode: {e}"));
    let mut dec = png::Decoder::new(Cursor::new(png_bytes.to_vec()));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().expect("png crate reads the header");
    let before = reader.info().clone();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).expect("png crate decodes");
    reader.finish().expect("png crate reads to IEND");
    Decoded {
        before,
        after: reader.info().clone(),
        pixels,
    }
}

/// Runs `pngcheck -v` on `png`: whether it found no errors, and its report;
/// `None` (with a notice) when it is missing.
fn pngcheck_run(png: &[u8], tag: &str) -> Option<(bool, String)> {
    let path = std::env::temp_dir().join(format!(
        "pngstream-metadata-{tag}-{}.png",
        std::process::id()
    ));
    std::fs::write(&path, png).unwrap();
    let out = Command::new("pngcheck").arg("-v").arg(&path).output();
    let _ = std::fs::remove_file(&path);
    match out {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            Some((
                out.status.success() && text.contains("No errors detected"),
                text,
            ))
        }
        Err(e) => {
            assert!(
                !strict(),
                "pngcheck not available ({e}) and PNGSTREAM_STRICT=1"
            );
            println!("pngcheck not available ({e}); skipping");
            None
        }
    }
}

/// `pngcheck -v`'s report on `png`, which it must accept.
fn pngcheck(png: &[u8], tag: &str) -> Option<String> {
    let (ok, report) = pngcheck_run(png, tag)?;
    assert!(ok, "pngcheck refused {tag}:\n{report}");
    Some(report)
}

/// The chunk types `pngcheck -v` lists, in order, consecutive IDATs as one.
fn pngcheck_order(report: &str) -> Vec<String> {
    let mut k: Vec<String> = report
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("chunk "))
        .map(|l| l[..4].to_string())
        .collect();
    k.dedup_by(|a, b| a == "IDAT" && b == "IDAT");
    k
}

fn encode(opts: &Options, rows: &[u8], trailing: &[Metadata]) -> Vec<u8> {
    let mut w = StreamingWriter::with_options(Vec::new(), opts).expect("options accepted");
    w.write_bytes(rows).unwrap();
    w.finish_with(trailing).unwrap()
}

fn exif_block() -> Vec<u8> {
    // Big-endian TIFF header, one IFD with one entry (Orientation = 1).
    let mut e = b"MM\0*\0\0\0\x08".to_vec();
    e.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    e
}

fn rgb8_rows() -> Vec<u8> {
    (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect()
}

/// An RGB image carrying every chunk type the encoder offers except iCCP
/// (exclusive with sRGB) and the Third Edition HDR chunks (checked apart,
/// since pngcheck 3.0 predates them).
fn tagged_rgb() -> (Options, Vec<Metadata>) {
    let splt = |name, depth| {
        let e = [
            PaletteEntry {
                red: 1,
                green: 2,
                blue: 3,
                alpha: 255,
                frequency: 9,
            },
            PaletteEntry {
                red: 200,
                green: 100,
                blue: 0,
                alpha: 0,
                frequency: 1,
            },
        ];
        SuggestedPalette::new(name, depth, &e).unwrap()
    };
    let opts = Options::new(4, 3, ColorType::Rgb)
        // Given out of order on purpose: the encoder places them.
        .metadata(Text::new("Title", "Caf\u{e9} tags").unwrap())
        .metadata(Time::new(2024, 2, 29, 23, 59, 60).unwrap())
        .metadata(PixelDensity::dpi(300).unwrap())
        .metadata(Background::Rgb([10, 20, 30]))
        .metadata(Gamma::SRGB)
        .metadata(RenderingIntent::RelativeColorimetric)
        .metadata(Chromaticities::SRGB)
        .metadata(SignificantBits::new(&[5, 6, 5]).unwrap())
        .metadata(Exif::new(&exif_block()).unwrap())
        .metadata(splt("eight", BitDepth::Eight))
        .metadata(splt("sixteen", BitDepth::Sixteen))
        .metadata(Text::compressed("Description", &"long text ".repeat(50)).unwrap())
        .metadata(
            Text::translated("Author", "fr-CA", "Auteur", "\u{c9}lodie \u{2603}", true).unwrap(),
        )
        .metadata(Text::international("Comment", "plain \u{3b1}", false).unwrap())
        .metadata(CustomChunk::new(*b"prVa", b"before plte", Placement::BeforePalette).unwrap())
        .metadata(CustomChunk::new(*b"prVb", b"before idat", Placement::BeforeImageData).unwrap())
        .metadata(CustomChunk::new(*b"prVc", b"after idat", Placement::AfterImageData).unwrap())
        .palette(&[0, 0, 0, 255, 255, 255])
        .transparency(&[0, 1, 0, 2, 0, 3]);
    let trailing = vec![
        Text::new("Comment", "after the rows").unwrap().into(),
        CustomChunk::new(*b"prVd", b"trailing", Placement::AfterImageData)
            .unwrap()
            .into(),
    ];
    (opts, trailing)
}

#[test]
fn every_chunk_reads_back() {
    let (opts, trailing) = tagged_rgb();
    let rows = rgb8_rows();
    let png = encode(&opts, &rows, &trailing);
    let d = decode(&png);
    assert_eq!(d.pixels, rows);
    let i = &d.after;
    assert_eq!(i.gama_chunk.unwrap().into_scaled(), 45455);
    let c = i.chrm_chunk.unwrap();
    let scaled = [c.white, c.red, c.green, c.blue].map(|(x, y)| [x.into_scaled(), y.into_scaled()]);
    assert_eq!(scaled.as_flattened(), Chromaticities::SRGB.scaled());
    assert_eq!(i.srgb, Some(png::SrgbRenderingIntent::RelativeColorimetric));
    assert_eq!(i.sbit.as_deref(), Some(&[5u8, 6, 5][..]));
    let p = i.pixel_dims.unwrap();
    assert_eq!((p.xppu, p.yppu, p.unit), (11811, 11811, png::Unit::Meter));
    assert_eq!(i.bkgd.as_deref(), Some(&[0u8, 10, 0, 20, 0, 30][..]));
    assert_eq!(
        i.trns.as_deref(),
        Some(&[1u8, 2, 3][..]),
        "png crate narrows 8-bit tRNS"
    );
    assert_eq!(i.palette.as_deref(), Some(&[0u8, 0, 0, 255, 255, 255][..]));
    assert_eq!(i.exif_metadata.as_deref(), Some(&exif_block()[..]));

    // Text before the image data is in the header info; the trailing one
    // only after the whole file.
    let latin1 = |info: &png::Info| -> Vec<(String, String)> {
        info.uncompressed_latin1_text
            .iter()
            .map(|t| (t.keyword.clone(), t.text.clone()))
            .collect()
    };
    assert_eq!(
        latin1(&d.before),
        [("Title".into(), "Caf\u{e9} tags".into())]
    );
    assert_eq!(
        latin1(i),
        [
            ("Title".into(), "Caf\u{e9} tags".into()),
            ("Comment".into(), "after the rows".into())
        ]
    );
    let mut z = i.compressed_latin1_text.clone();
    assert_eq!(z.len(), 1);
    z[0].decompress_text().unwrap();
    assert_eq!(z[0].keyword, "Description");
    assert_eq!(z[0].get_text().unwrap(), "long text ".repeat(50));
    let mut u = i.utf8_text.clone();
    assert_eq!(u.len(), 2);
    for t in &mut u {
        t.decompress_text().unwrap();
    }
    assert_eq!(
        (
            u[0].keyword.as_str(),
            u[0].compressed,
            u[0].language_tag.as_str()
        ),
        ("Author", true, "fr-CA")
    );
    assert_eq!(u[0].translated_keyword, "Auteur");
    assert_eq!(u[0].get_text().unwrap(), "\u{c9}lodie \u{2603}");
    assert_eq!((u[1].keyword.as_str(), u[1].compressed), ("Comment", false));
    assert_eq!(u[1].get_text().unwrap(), "plain \u{3b1}");

    // What the png crate does not expose, read from the chunks themselves.
    assert_eq!(
        chunk_data(&png, b"tIME"),
        [vec![0x07, 0xe8, 2, 29, 23, 59, 60]]
    );
    let splt = chunk_data(&png, b"sPLT");
    assert_eq!(
        splt[0],
        b"eight\0\x08\x01\x02\x03\xff\0\x09\xc8\x64\0\0\0\x01"
    );
    assert_eq!(
        splt[1],
        b"sixteen\0\x10\0\x01\0\x02\0\x03\0\xff\0\x09\0\xc8\0\x64\0\0\0\0\0\x01"
    );
    assert_eq!(chunk_data(&png, b"prVa"), [b"before plte".to_vec()]);
    assert_eq!(chunk_data(&png, b"prVc"), [b"after idat".to_vec()]);
    assert_eq!(chunk_data(&png, b"prVd"), [b"trailing".to_vec()]);

    // The order: colour chunks before PLTE, then tRNS and the rest before
    // IDAT, trailing chunks between IDAT and IEND; within a stage in the
    // order given.
    let expected = [
        "IHDR", "gAMA", "sRGB", "cHRM", "sBIT", "prVa", "PLTE", "tRNS", "tEXt", "tIME", "pHYs",
        "bKGD", "eXIf", "sPLT", "sPLT", "zTXt", "iTXt", "iTXt", "prVb", "IDAT", "prVc", "tEXt",
        "prVd", "IEND",
    ];
    assert_eq!(kinds(&png), expected);
    if let Some(report) = pngcheck(&png, "all") {
        assert_eq!(pngcheck_order(&report), expected, "{report}");
    }
}

#[test]
fn icc_profile_and_hdr_chunks_read_back() {
    let profile: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let md = MasteringDisplay::new(
        [35400, 14600],
        [8500, 39850],
        [6550, 2300],
        [15635, 16450],
        10_000_000,
        50,
    )
    .unwrap();
    let opts = Options::new(2, 2, ColorType::Rgba)
        .bit_depth(BitDepth::Sixteen)
        .metadata(IccProfile::new("Test profile", &profile).unwrap())
        .metadata(Cicp::new(9, 16, true))
        .metadata(md)
        .metadata(ContentLightLevel::new(10_000_000, 4_000_000).unwrap())
        .metadata(SignificantBits::new(&[10, 10, 10, 1]).unwrap())
        .metadata(Background::Rgb([65535, 0, 1]));
    let rows: Vec<u8> = (0..2 * 2 * 8).map(|i| i as u8).collect();
    let png = encode(&opts, &rows, &[]);
    let d = decode(&png);
    assert_eq!(d.pixels, rows);
    let i = &d.after;
    assert_eq!(i.icc_profile.as_deref(), Some(&profile[..]));
    assert_eq!(&chunk_data(&png, b"iCCP")[0][..14], b"Test profile\0\0");
    assert_eq!(
        i.coding_independent_code_points,
        Some(png::CodingIndependentCodePoints {
            color_primaries: 9,
            transfer_function: 16,
            matrix_coefficients: 0,
            is_video_full_range_image: true,
        })
    );
    let m = i.mastering_display_color_volume.unwrap();
    // The png crate reports mDCV chromaticities in cHRM's 1/100000 units.
    assert_eq!(m.chromaticities.red.0.into_scaled(), 35400 * 2);
    assert_eq!(m.chromaticities.white.1.into_scaled(), 16450 * 2);
    assert_eq!((m.max_luminance, m.min_luminance), (10_000_000, 50));
    let c = i.content_light_level.unwrap();
    assert_eq!(
        (c.max_content_light_level, c.max_frame_average_light_level),
        (10_000_000, 4_000_000)
    );
    assert_eq!(i.sbit.as_deref(), Some(&[10u8, 10, 10, 1][..]));
    assert_eq!(i.bkgd.as_deref(), Some(&[255u8, 255, 0, 0, 0, 1][..]));
    assert_eq!(
        kinds(&png),
        [
            "IHDR", "iCCP", "cICP", "mDCV", "cLLI", "sBIT", "bKGD", "IDAT", "IEND"
        ]
    );
    // pngcheck 3.0.3 predates the Third Edition: it stops at cICP as an
    // "unknown, public chunk". Without the HDR chunks it must accept the rest.
    if let Some((ok, report)) = pngcheck_run(&png, "hdr") {
        assert!(
            !ok && report.contains("chunk cICP") && report.contains("unknown, public chunk"),
            "{report}"
        );
        let opts = Options::new(2, 2, ColorType::Rgba)
            .bit_depth(BitDepth::Sixteen)
            .metadata(IccProfile::new("Test profile", &profile).unwrap())
            .metadata(SignificantBits::new(&[10, 10, 10, 1]).unwrap())
            .metadata(Background::Rgb([65535, 0, 1]));
        let png = encode(&opts, &rows, &[]);
        let report = pngcheck(&png, "icc").unwrap();
        assert!(report.contains("profile name = Test profile"), "{report}");
        assert_eq!(
            pngcheck_order(&report),
            ["IHDR", "iCCP", "sBIT", "bKGD", "IDAT", "IEND"]
        );
    }
}

#[test]
fn indexed_and_grey_chunks_pass_pngcheck() {
    // Indexed: bKGD is an index, sBIT has three values of at most 8, hIST
    // (a custom chunk) follows PLTE.
    let opts = Options::new(3, 2, ColorType::Indexed)
        .bit_depth(BitDepth::Two)
        .palette(&[0, 0, 0, 128, 128, 128, 255, 255, 255])
        .transparency(&[0, 255])
        .metadata(Background::PaletteIndex(2))
        .metadata(SignificantBits::new(&[8, 8, 8]).unwrap())
        .metadata(Gamma::new(1.0).unwrap())
        .metadata(
            CustomChunk::new(*b"hIST", &[0, 2, 0, 3, 0, 1], Placement::BeforeImageData).unwrap(),
        )
        .metadata(PixelDensity::new(2, 1, Unit::Unknown).unwrap());
    let rows = [0b0001_1000, 0b1001_0000];
    let png = encode(
        &opts,
        &rows,
        &[Time::from_unix(1_700_000_000).unwrap().into()],
    );
    let d = decode(&png);
    assert_eq!(d.pixels, rows);
    assert_eq!(d.after.bkgd.as_deref(), Some(&[2u8][..]));
    assert_eq!(d.after.trns.as_deref(), Some(&[0u8, 255][..]));
    assert_eq!(d.after.gama_chunk.unwrap().into_scaled(), 100_000);
    let p = d.after.pixel_dims.unwrap();
    assert_eq!((p.xppu, p.yppu, p.unit), (2, 1, png::Unit::Unspecified));
    // 2023-11-14 22:13:20 UTC.
    assert_eq!(
        chunk_data(&png, b"tIME"),
        [vec![0x07, 0xe7, 11, 14, 22, 13, 20]]
    );
    let expected = [
        "IHDR", "sBIT", "gAMA", "PLTE", "tRNS", "bKGD", "hIST", "pHYs", "IDAT", "tIME", "IEND",
    ];
    assert_eq!(kinds(&png), expected);
    if let Some(report) = pngcheck(&png, "indexed") {
        assert_eq!(pngcheck_order(&report), expected, "{report}");
    }

    // 16-bit greyscale with alpha: a 16-bit grey background.
    let opts = Options::new(1, 1, ColorType::GrayscaleAlpha)
        .bit_depth(BitDepth::Sixteen)
        .metadata(Background::Gray(40000))
        .metadata(SignificantBits::new(&[12, 16]).unwrap())
        .metadata(Text::translated("Title", "", "", "", false).unwrap());
    let png = encode(&opts, &[1, 2, 3, 4], &[]);
    let d = decode(&png);
    assert_eq!(d.after.bkgd.as_deref(), Some(&40000u16.to_be_bytes()[..]));
    assert_eq!(d.after.sbit.as_deref(), Some(&[12u8, 16][..]));
    if let Some(report) = pngcheck(&png, "grey") {
        assert_eq!(
            pngcheck_order(&report),
            ["IHDR", "sBIT", "bKGD", "iTXt", "IDAT", "IEND"]
        );
    }
}

fn start_err(opts: &Options) -> MetadataError {
    let mut sink = Vec::new();
    match StreamingWriter::with_options(&mut sink, opts) {
        Err(Error::Metadata(e)) => {
            assert!(sink.is_empty(), "nothing is written before the error");
            assert!(!format!("{e}").is_empty());
            e
        }
        Err(e) => panic!("expected a metadata error, got {e}"),
        Ok(_) => panic!("expected a metadata error"),
    }
}

#[test]
fn invalid_inputs_give_their_own_errors() {
    use MetadataError::*;
    // Keywords.
    assert_eq!(Text::new("", "x"), Err(EmptyKeyword));
    assert_matches!(
        Text::new(&"k".repeat(80), "x"),
        Err(KeywordTooLong { len: 80, .. })
    );
    assert_eq!(Text::new(" Title", "x"), Err(KeywordSpacing));
    assert_eq!(Text::compressed("Title ", "x"), Err(KeywordSpacing));
    assert_eq!(
        Text::international("Ti  tle", "x", true),
        Err(KeywordSpacing)
    );
    assert_matches!(
        Text::new("Ti\ntle", "x"),
        Err(KeywordCharacter { ch: '\n', .. })
    );
    assert_matches!(
        Text::new("\u{a0}Title", "x"),
        Err(KeywordCharacter { ch: '\u{a0}', .. })
    );
    assert_matches!(
        Text::new("Titl\u{e9}\u{2019}", "x"),
        Err(KeywordCharacter { ch: '\u{2019}', .. })
    );
    assert_eq!(IccProfile::new("", &[1]), Err(EmptyKeyword));
    assert_eq!(
        SuggestedPalette::new("a  b", BitDepth::Eight, &[]),
        Err(KeywordSpacing)
    );
    // Text bodies and language tags.
    assert_matches!(
        Text::new("Title", "\u{20ac}"),
        Err(TextCharacter { ch: '\u{20ac}', .. })
    );
    assert_matches!(
        Text::new("Title", "a\0b"),
        Err(TextCharacter { ch: '\0', .. })
    );
    assert_eq!(
        Text::translated("Title", "en_GB", "", "x", false),
        Err(InvalidLanguageTag)
    );
    // Values.
    assert_eq!(Exif::new(b"Exif\0\0MM\0*"), Err(InvalidExif));
    assert!(
        matches!(Time::new(2023, 2, 29, 0, 0, 0), Err(InvalidValue { kind, .. }) if kind == *b"tIME")
    );
    assert!(matches!(Gamma::new(0.0), Err(InvalidValue { .. })));
    // Custom chunk types.
    let custom = |k: &[u8; 4]| CustomChunk::new(*k, b"", Placement::BeforeImageData);
    assert_matches!(
        custom(b"ABCD"),
        Err(CriticalChunkType {
            kind: [b'A', b'B', b'C', b'D'],
            ..
        })
    );
    assert_matches!(
        custom(b"abcd"),
        Err(InvalidChunkType {
            kind: [b'a', b'b', b'c', b'd'],
            ..
        })
    );
    assert_matches!(
        custom(b"ab1d"),
        Err(InvalidChunkType {
            kind: [b'a', b'b', b'1', b'd'],
            ..
        })
    );
    for k in [
        b"IDAT", b"IHDR", b"IEND", b"PLTE", b"tRNS", b"gAMA", b"acTL",
    ] {
        assert!(
            matches!(custom(k), Err(ReservedChunkType { kind, .. }) if kind == *k),
            "{}",
            String::from_utf8_lossy(k)
        );
    }
    let msg = format!("{}", custom(b"IDAT").unwrap_err());
    assert!(msg.contains("IDAT") && msg.contains("encoder"), "{msg}");

    // Rules checked when the writer starts.
    let rgb = || Options::new(1, 1, ColorType::Rgb);
    assert_matches!(
        start_err(
            &rgb()
                .metadata(Gamma::SRGB)
                .metadata(Gamma::new(1.0).unwrap())
        ),
        DuplicateChunk {
            kind: [b'g', b'A', b'M', b'A'],
            ..
        }
    );
    let icc = IccProfile::new("p", &[1, 2, 3]).unwrap();
    assert_matches!(
        start_err(&rgb().metadata(RenderingIntent::Perceptual).metadata(icc)),
        ConflictingChunks {
            kind: [b'i', b'C', b'C', b'P'],
            other: [b's', b'R', b'G', b'B'],
            ..
        }
    );
    assert!(matches!(
        start_err(&rgb().metadata(Background::Gray(0))),
        InvalidBackground { .. }
    ));
    assert!(matches!(
        start_err(
            &Options::new(1, 1, ColorType::Grayscale)
                .bit_depth(BitDepth::Four)
                .metadata(Background::Gray(16))
        ),
        InvalidBackground { .. }
    ));
    let indexed = Options::new(1, 1, ColorType::Indexed).palette(&[0, 0, 0, 9, 9, 9]);
    assert!(matches!(
        start_err(&indexed.clone().metadata(Background::PaletteIndex(2))),
        InvalidBackground { .. }
    ));
    assert_matches!(
        start_err(&rgb().metadata(SignificantBits::new(&[8, 8, 8, 8]).unwrap())),
        InvalidSignificantBits {
            len: 4,
            expected: 3,
            max: 8,
            ..
        }
    );
    assert_matches!(
        start_err(
            &rgb()
                .metadata(Time::from_unix(0).unwrap())
                .metadata(Time::from_unix(1).unwrap())
        ),
        DuplicateChunk {
            kind: [b't', b'I', b'M', b'E'],
            ..
        }
    );
    let p = |n| SuggestedPalette::new(n, BitDepth::Eight, &[]).unwrap();
    assert_eq!(
        start_err(&rgb().metadata(p("a")).metadata(p("a"))),
        DuplicatePaletteName
    );
    let hist = CustomChunk::new(*b"hIST", &[0, 1], Placement::BeforeImageData).unwrap();
    assert!(matches!(
        start_err(&rgb().metadata(hist)),
        InvalidValue { .. }
    ));

    // tRNS of the wrong length for the colour type (an Options check).
    for (opts, len) in [
        (rgb().transparency(&[0, 1]), 2),
        (
            Options::new(1, 1, ColorType::Grayscale).transparency(&[0, 1, 0, 2, 0, 3]),
            6,
        ),
        (indexed.clone().transparency(&[0, 0, 0]), 3),
    ] {
        assert!(matches!(
            StreamingWriter::with_options(Vec::new(), &opts),
            Err(Error::InvalidTransparency { len: l, .. }) if l == len
        ));
    }

    // After the rows: only text, tIME and after-data custom chunks, one tIME.
    let finish_err = |opts: &Options, trailing: &[Metadata]| {
        let mut sink = Vec::new();
        let mut w = StreamingWriter::with_options(&mut sink, opts).unwrap();
        w.write_row(&[0, 0, 0]).unwrap();
        let e = match w.finish_with(trailing) {
            Err(Error::Metadata(e)) => e,
            other => panic!("expected a metadata error, got {:?}", other.map(|_| ())),
        };
        assert!(
            !sink.windows(4).any(|k| k == b"IEND"),
            "no IEND after a refused finish"
        );
        e
    };
    assert!(matches!(
        finish_err(&rgb(), &[Gamma::SRGB.into()]),
        Misplaced { .. }
    ));
    let before = CustomChunk::new(*b"prVt", b"", Placement::BeforeImageData).unwrap();
    assert!(matches!(
        finish_err(&rgb(), &[before.into()]),
        Misplaced { .. }
    ));
    let t = Time::from_unix(0).unwrap();
    assert_matches!(
        finish_err(&rgb().metadata(t), &[t.into()]),
        DuplicateChunk {
            kind: [b't', b'I', b'M', b'E'],
            ..
        }
    );
    assert_matches!(
        finish_err(&rgb(), &[t.into(), t.into()]),
        DuplicateChunk {
            kind: [b't', b'I', b'M', b'E'],
            ..
        }
    );
}

// PngSuite ---------------------------------------------------------------

fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pngsuite");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !strict(),
        "PngSuite missing at {} and PNGSTREAM_STRICT=1",
        dir.display()
    );
    println!("PngSuite not found at {}; skipping", dir.display());
    None
}

fn srgb_intent(i: png::SrgbRenderingIntent) -> RenderingIntent {
    match i {
        png::SrgbRenderingIntent::Perceptual => RenderingIntent::Perceptual,
        png::SrgbRenderingIntent::RelativeColorimetric => RenderingIntent::RelativeColorimetric,
        png::SrgbRenderingIntent::Saturation => RenderingIntent::Saturation,
        png::SrgbRenderingIntent::AbsoluteColorimetric => RenderingIntent::AbsoluteColorimetric,
    }
}

fn color_type(c: png::ColorType) -> ColorType {
    match c {
        png::ColorType::Grayscale => ColorType::Grayscale,
        png::ColorType::Rgb => ColorType::Rgb,
        png::ColorType::Indexed => ColorType::Indexed,
        png::ColorType::GrayscaleAlpha => ColorType::GrayscaleAlpha,
        png::ColorType::Rgba => ColorType::Rgba,
    }
}

/// The text chunks of `info` from index `skip` on, as metadata values.
fn texts(info: &png::Info, skip: [usize; 3]) -> Vec<Metadata> {
    let mut out: Vec<Metadata> = Vec::new();
    for t in info.uncompressed_latin1_text.iter().skip(skip[0]) {
        out.push(Text::new(&t.keyword, &t.text).unwrap().into());
    }
    for t in info.compressed_latin1_text.iter().skip(skip[1]) {
        let mut t = t.clone();
        t.decompress_text().unwrap();
        out.push(
            Text::compressed(&t.keyword, &t.get_text().unwrap())
                .unwrap()
                .into(),
        );
    }
    for t in info.utf8_text.iter().skip(skip[2]) {
        let mut t = t.clone();
        t.decompress_text().unwrap();
        let text = t.get_text().unwrap();
        let v = Text::translated(
            &t.keyword,
            &t.language_tag,
            &t.translated_keyword,
            &text,
            t.compressed,
        );
        out.push(v.unwrap().into());
    }
    out
}

fn text_counts(info: &png::Info) -> [usize; 3] {
    [
        info.uncompressed_latin1_text.len(),
        info.compressed_latin1_text.len(),
        info.utf8_text.len(),
    ]
}

/// Options and trailing chunks carrying everything the decoder exposes about
/// `file`, plus tIME, sPLT and hIST taken from the chunks themselves (the png
/// crate does not expose them).
fn reencode_options(file: &[u8], d: &Decoded) -> (Options, Vec<Metadata>) {
    let i = &d.after;
    let color = color_type(i.color_type);
    let depth = BitDepth::from_bits(i.bit_depth as u8).unwrap();
    let mut o = Options::new(i.width, i.height, color).bit_depth(depth);
    if let Some(p) = &i.palette {
        o = o.palette(p);
    }
    if let Some(t) = &i.trns {
        // The png crate narrows 1–8-bit grey and RGB tRNS samples to a byte.
        let t: Cow<[u8]> = match color {
            ColorType::Grayscale | ColorType::Rgb if depth != BitDepth::Sixteen => {
                t.iter().flat_map(|&s| [0, s]).collect()
            }
            _ => Cow::Borrowed(t),
        };
        o = o.transparency(&t);
    }
    if let Some(g) = i.gama_chunk {
        o = o.metadata(Gamma::from_scaled(g.into_scaled()).unwrap());
    }
    if let Some(c) = i.chrm_chunk {
        let s = [c.white, c.red, c.green, c.blue].map(|(x, y)| [x.into_scaled(), y.into_scaled()]);
        o = o.metadata(Chromaticities::from_scaled(s.as_flattened().try_into().unwrap()).unwrap());
    }
    if let Some(s) = i.srgb {
        o = o.metadata(srgb_intent(s));
    }
    if let Some(p) = &i.icc_profile {
        o = o.metadata(IccProfile::new("ICC profile", p).unwrap());
    }
    if let Some(c) = i.coding_independent_code_points {
        o = o.metadata(Cicp::new(
            c.color_primaries,
            c.transfer_function,
            c.is_video_full_range_image,
        ));
    }
    if let Some(c) = i.content_light_level {
        let v = ContentLightLevel::new(c.max_content_light_level, c.max_frame_average_light_level);
        o = o.metadata(v.unwrap());
    }
    if let Some(s) = &i.sbit {
        o = o.metadata(SignificantBits::new(s).unwrap());
    }
    if let Some(p) = i.pixel_dims {
        let unit = match p.unit {
            png::Unit::Meter => Unit::Meter,
            png::Unit::Unspecified => Unit::Unknown,
        };
        o = o.metadata(PixelDensity::new(p.xppu, p.yppu, unit).unwrap());
    }
    if let Some(b) = &i.bkgd {
        let be = |k: usize| u16::from_be_bytes([b[k], b[k + 1]]);
        o = o.metadata(match b.len() {
            1 => Background::PaletteIndex(b[0]),
            2 => Background::Gray(be(0)),
            _ => Background::Rgb([be(0), be(2), be(4)]),
        });
    }
    if let Some(e) = &i.exif_metadata {
        o = o.metadata(Exif::new(e).unwrap());
    }
    // Text where it was: before the image data or after it.
    let before = text_counts(&d.before);
    for t in texts(&d.before, [0; 3]) {
        o = o.metadata(t);
    }
    let mut trailing = texts(i, before);

    // From the chunks: tIME (where it was), sPLT, hIST.
    let mut seen_idat = false;
    for (kind, data) in chunks(file) {
        match &kind {
            b"IDAT" => seen_idat = true,
            b"tIME" => {
                let y = u16::from_be_bytes([data[0], data[1]]);
                let t = Time::new(y, data[2], data[3], data[4], data[5], data[6]).unwrap();
                if seen_idat {
                    trailing.push(t.into());
                } else {
                    o = o.metadata(t);
                }
            }
            b"sPLT" => {
                let nul = data.iter().position(|&b| b == 0).unwrap();
                let name = String::from_utf8(data[..nul].to_vec()).unwrap();
                let wide = data[nul + 1] == 16;
                let s = |b: &[u8], k: usize| match wide {
                    true => u16::from_be_bytes([b[2 * k], b[2 * k + 1]]),
                    false => b[k] as u16,
                };
                let entries: Vec<PaletteEntry> = data[nul + 2..]
                    .chunks_exact(if wide { 10 } else { 6 })
                    .map(|e| {
                        let f = e.len() - 2;
                        PaletteEntry {
                            red: s(e, 0),
                            green: s(e, 1),
                            blue: s(e, 2),
                            alpha: s(e, 3),
                            frequency: u16::from_be_bytes([e[f], e[f + 1]]),
                        }
                    })
                    .collect();
                let depth = if wide {
                    BitDepth::Sixteen
                } else {
                    BitDepth::Eight
                };
                o = o.metadata(SuggestedPalette::new(&name, depth, &entries).unwrap());
            }
            b"hIST" => {
                o = o.metadata(CustomChunk::new(kind, &data, Placement::BeforeImageData).unwrap());
            }
            _ => {}
        }
    }
    (o, trailing)
}

/// The metadata a decode exposes, comparable with `==`.
fn exposed(d: &Decoded) -> String {
    let i = &d.after;
    let mut z = i.compressed_latin1_text.clone();
    z.iter_mut().for_each(|t| t.decompress_text().unwrap());
    let mut u = i.utf8_text.clone();
    u.iter_mut().for_each(|t| t.decompress_text().unwrap());
    format!(
        "{:?}",
        (
            (i.width, i.height, i.color_type, i.bit_depth),
            (
                &i.palette,
                &i.trns,
                i.gama_chunk,
                i.chrm_chunk,
                i.srgb,
                &i.icc_profile
            ),
            (&i.sbit, i.pixel_dims, &i.bkgd, &i.exif_metadata),
            (&i.uncompressed_latin1_text, z, u, text_counts(&d.before)),
        )
    )
}

#[test]
fn pngsuite_ancillary_images_keep_their_metadata() {
    let Some(dir) = corpus() else { return };
    let prefixes = ["c", "g", "bg", "t", "ps", "exif"];
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && prefixes.iter().any(|p| n.starts_with(p)))
        .collect();
    names.sort();
    assert!(
        names.len() >= 50,
        "only {} PngSuite ancillary images",
        names.len()
    );
    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    for name in &names {
        let file = std::fs::read(dir.join(name)).unwrap();
        let orig = decode(&file);
        let (opts, trailing) = reencode_options(&file, &orig);
        let mut w = StreamingWriter::with_options(Vec::new(), &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        w.write_bytes(&orig.pixels).unwrap();
        let png = w
            .finish_with(&trailing)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = decode(&png);
        assert_eq!(again.pixels, orig.pixels, "{name}: pixels");
        assert_eq!(exposed(&again), exposed(&orig), "{name}: metadata");
        for kind in [b"tIME", b"sPLT", b"hIST"] {
            assert_eq!(
                chunk_data(&png, kind),
                chunk_data(&file, kind),
                "{name}: {kind:?}"
            );
        }
        for (kind, _) in chunks(&file) {
            if kind[0].is_ascii_lowercase() {
                *checked
                    .entry(String::from_utf8_lossy(&kind).into_owned())
                    .or_default() += 1;
            }
        }
        // pngcheck 3.0.3 refuses cm7n0g04's tIME year of 1970 in the
        // original too; hold our output to what it thinks of the original.
        if let Some((orig_ok, orig_report)) = pngcheck_run(&file, name) {
            let (ok, report) = pngcheck_run(&png, name).unwrap();
            assert_eq!(
                ok, orig_ok,
                "{name}: pngcheck on ours:\n{report}\noriginal:\n{orig_report}"
            );
            if !orig_ok {
                println!("{name}: pngcheck refuses the original as well:\n{orig_report}");
            }
        }
    }
    println!(
        "{} PngSuite files; ancillary chunks carried over: {checked:?}",
        names.len()
    );
    for kind in [
        "gAMA", "cHRM", "sBIT", "pHYs", "bKGD", "tRNS", "tEXt", "zTXt", "iTXt", "tIME", "sPLT",
        "hIST", "eXIf",
    ] {
        assert!(
            checked.contains_key(kind),
            "no PngSuite file exercised {kind}"
        );
    }
}
