//! Re-encodes every valid image of PngSuite (the `x*` files are corrupt on
//! purpose and skipped) in its own colour type and bit depth, at every
//! compression level, and checks that the `png` crate reads back the same
//! rows, palette and transparency.
//!
//! The corpus lives in `shared/corpus/pngsuite` beside the repository. When it
//! is missing the test passes with a notice, unless `PNGSTREAM_STRICT=1`.

mod common;

use std::path::{Path, PathBuf};

use common::{decode_foreign, decode_png, raw_chunks, strict};
use pngstream::{BitDepth, ColorType, Compression, Filter, Options, StreamingWriter};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pngsuite")
}

fn color_from_code(code: u8) -> ColorType {
    ColorType::ALL
        .into_iter()
        .find(|c| c.code() == code)
        .unwrap_or_else(|| panic!("colour type {code}"))
}

/// The first chunk of `kind` in a file, raw.
fn chunk(bytes: &[u8], kind: &[u8; 4]) -> Option<Vec<u8>> {
    raw_chunks(bytes)
        .into_iter()
        .find(|c| &c.0 == kind)
        .map(|c| c.1)
}

/// Checks one file; returns the number of encodes done.
fn check_file(path: &Path) -> Result<usize, String> {
    let original = std::fs::read(path).map_err(|e| e.to_string())?;
    let src = decode_foreign(&original).map_err(|e| format!("png crate: {e}"))?;
    let color = color_from_code(src.color_code);
    let depth = BitDepth::from_bits(src.bits).unwrap();
    // PLTE is allowed for RGB(A) as a suggestion; keep it where present.
    let palette = chunk(&original, b"PLTE");
    assert_eq!(palette, src.palette, "PLTE as the png crate reads it");
    let trns = chunk(&original, b"tRNS");
    let n = (src.width as usize * color.channels() as usize * depth.bits() as usize).div_ceil(8);
    assert_eq!(src.data.len(), n * src.height as usize);

    let mut encodes = 0;
    for (i, level) in Compression::ALL.iter().copied().enumerate() {
        let mut opts = Options::new(src.width, src.height, color)
            .bit_depth(depth)
            .compression(level);
        // The default filter at one level, explicit ones at the others.
        if i > 0 {
            opts = opts.filter(Filter::ALL[(i + src.width as usize) % Filter::ALL.len()]);
        }
        if let Some(p) = &palette {
            opts = opts.palette(p);
        }
        if let Some(t) = &trns {
            opts = opts.transparency(t);
        }
        let mut w = StreamingWriter::with_options(Vec::new(), &opts)
            .map_err(|e| format!("pngstream refuses the options ({level:?}): {e}"))?;
        for row in src.data.chunks(n) {
            w.write_row(row).map_err(|e| format!("{level:?}: {e}"))?;
        }
        let png = w.finish().map_err(|e| format!("{level:?}: {e}"))?;
        let back = decode_png(&png).map_err(|e| format!("{level:?}: strict decode: {e}"))?;
        let same = (back.width, back.height, back.color_code, back.bits)
            == (src.width, src.height, src.color_code, src.bits);
        if !same {
            return Err(format!("{level:?}: header differs: {back:?}"));
        }
        if back.interlaced {
            return Err(format!("{level:?}: output is interlaced"));
        }
        if back.data != src.data {
            return Err(format!("{level:?}: rows differ"));
        }
        if back.palette != src.palette || back.trns != src.trns {
            return Err(format!("{level:?}: PLTE or tRNS differs (png crate)"));
        }
        if chunk(&png, b"PLTE") != palette || chunk(&png, b"tRNS") != trns {
            return Err(format!("{level:?}: PLTE or tRNS chunk differs"));
        }
        encodes += 1;
    }
    Ok(encodes)
}

#[test]
fn pngsuite_reencodes_exactly() {
    let dir = corpus_dir();
    if !dir.is_dir() {
        assert!(
            !strict(),
            "PngSuite corpus not found at {} and PNGSTREAM_STRICT=1",
            dir.display()
        );
        println!("PngSuite corpus not found at {}; skipping", dir.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('x'))
        .collect();
    files.sort();
    let mut failures = Vec::new();
    let (mut checked, mut interlaced, mut encodes) = (0, 0, 0);
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match check_file(path) {
            Ok(n) => {
                checked += 1;
                encodes += n;
                if name.as_bytes().get(3) == Some(&b'i') {
                    interlaced += 1;
                }
            }
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    println!(
        "PngSuite: {checked} of {} files re-encoded ({interlaced} interlaced originals), {encodes} encodes",
        files.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(checked >= 150, "only {checked} PngSuite files checked");
    assert!(
        interlaced >= 20,
        "only {interlaced} interlaced files checked"
    );
}
