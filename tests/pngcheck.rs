//! Files checked by tools this crate did not write: `pngcheck` (chunk
//! structure, CRCs, IHDR rules, the zlib stream) and, where Python 3 is
//! installed, Python's `zlib` inflating the concatenated IDAT data.
//!
//! A missing tool is a notice and a pass, unless `PNGSTREAM_STRICT=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Case, Rng, all_formats, make_image, random_palette, strict};
use pngstream::{ColorType, Compression, Filter, StreamingWriter};

/// Whether `name` can be run: it starts and, with `must_succeed`, `probe`
/// exits successfully. `None`, with a notice, when not; a missing `required`
/// tool fails the test under `PNGSTREAM_STRICT=1`.
fn tool(name: &str, probe: &[&str], must_succeed: bool, required: bool) -> Option<()> {
    let why = match Command::new(name).args(probe).output() {
        Ok(out) if out.status.success() || !must_succeed => return Some(()),
        Ok(out) => format!("`{name} {}` exited with {}", probe.join(" "), out.status),
        Err(e) => e.to_string(),
    };
    assert!(
        !(required && strict()),
        "{name} not available ({why}) and PNGSTREAM_STRICT=1"
    );
    println!("{name} not available ({why}); skipping");
    None
}

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "pngstream-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One generated file and what its decompressed IDAT data must measure.
struct Generated {
    path: PathBuf,
    /// height × (1 + row bytes): filter bytes plus packed rows.
    inflated_len: usize,
    idats: usize,
}

/// Every format at several sizes and every level, with filters and IDAT
/// chunk sizes (1 byte, a few bytes, medium, default) cycled through.
fn generate(dir: &Path) -> Vec<Generated> {
    let mut rng = Rng::new(42);
    let idat_sizes = [Some(1u32), Some(3), Some(13), Some(200), None];
    let mut out = Vec::new();
    let mut k = 0usize;
    for fmt in all_formats() {
        for (w, h) in [(1u32, 1u32), (7, 3), (33, 17), (256, 9), (1001, 4)] {
            for &level in Compression::ALL {
                let filter = Filter::ALL[k % Filter::ALL.len()];
                let idat = idat_sizes[k % idat_sizes.len()];
                k += 1;
                let (palette, trns) = match fmt.color {
                    ColorType::Indexed => {
                        let entries = 1usize << fmt.depth.bits();
                        let trns = (k % 2 == 0).then(|| {
                            let n = rng.range(1, entries);
                            rng.bytes(n)
                        });
                        (Some(random_palette(&mut rng, entries)), trns)
                    }
                    _ => (None, None),
                };
                let c = Case {
                    width: w,
                    height: h,
                    fmt,
                    filter,
                    level,
                    palette,
                    trns,
                    idat,
                };
                let img = make_image(&mut rng, w, h, fmt);
                let n = fmt.row_bytes(w);
                let mut wr = StreamingWriter::with_options(Vec::new(), &c.options()).unwrap();
                for row in img.chunks(n) {
                    wr.write_row(row).unwrap();
                }
                let png = wr.finish().unwrap();
                let idats = common::check_chunks(&png, idat.unwrap_or(u32::MAX));
                let path = dir.join(format!(
                    "{k:04}-{}-{}bit-{w}x{h}-{}-{filter:?}-idat{}.png",
                    fmt.color.code(),
                    fmt.depth.bits(),
                    level,
                    idat.map_or("default".to_string(), |n| n.to_string())
                ));
                std::fs::write(&path, &png).unwrap();
                out.push(Generated {
                    path,
                    inflated_len: h as usize * (n + 1),
                    idats,
                });
            }
        }
    }
    out
}

/// Runs pngcheck on `files`; returns (success, stdout+stderr).
fn pngcheck(args: &[&str], files: &[&Path]) -> (bool, String) {
    let out = Command::new("pngcheck")
        .args(args)
        .args(files)
        .output()
        .expect("pngcheck runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn pngcheck_accepts_every_generated_file() {
    if tool("pngcheck", &["-h"], false, true).is_none() {
        return;
    }
    let dir = TempDir::new("pngcheck");
    let files = generate(&dir.0);
    assert_eq!(files.len(), 15 * 5 * 5);
    assert!(
        files.iter().any(|f| f.idats > 100),
        "no file with many IDATs"
    );
    let paths: Vec<&Path> = files.iter().map(|f| f.path.as_path()).collect();

    let (ok, text) = pngcheck(&["-q"], &paths);
    assert!(ok && !text.contains("ERROR"), "pngcheck -q failed:\n{text}");

    // Without -q, pngcheck names every file it found OK: all were read.
    let (ok, text) = pngcheck(&[], &paths);
    assert!(ok, "{text}");
    let oks = text.lines().filter(|l| l.starts_with("OK: ")).count();
    assert_eq!(oks, files.len(), "pngcheck output:\n{text}");
    println!("pngcheck: {oks} files OK");

    // The check can fail: a file with one IDAT CRC byte flipped is refused.
    let mut bad = std::fs::read(&files[40].path).unwrap();
    let chunks = common::raw_chunks(&bad);
    let mut pos = 8;
    for (kind, data) in &chunks {
        if kind == b"IDAT" {
            let crc_at = pos + 8 + data.len();
            bad[crc_at] ^= 0x55;
            break;
        }
        pos += 12 + data.len();
    }
    let bad_path = dir.0.join("corrupt.png");
    std::fs::write(&bad_path, &bad).unwrap();
    let (ok, text) = pngcheck(&["-q"], &[&bad_path]);
    assert!(!ok, "pngcheck accepted a file with a bad CRC:\n{text}");
}

/// Python's zlib (the reference zlib) inflates the IDAT data of every file
/// to exactly height × (1 + row bytes) bytes, checking the Adler-32, and
/// every row starts with a filter type 0..=4.
const PY_CHECK: &str = r#"
import struct, sys, zlib
for arg in sys.argv[1:]:
    path, want = arg.rsplit("=", 1)
    data = open(path, "rb").read()
    pos, idat, rowlen = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
            rowlen = 1 + (w * ch * depth + 7) // 8
        if kind == b"IDAT":
            idat += body
        pos += 12 + n
    d = zlib.decompressobj()
    raw = d.decompress(idat)
    assert d.eof and not d.unused_data, path + ": stream not ended cleanly"
    assert len(raw) == int(want), "%s: inflated %d bytes, expected %s" % (path, len(raw), want)
    assert all(raw[i] <= 4 for i in range(0, len(raw), rowlen)), path + ": bad filter byte"
print("checked", len(sys.argv) - 1)
"#;

#[test]
fn python_zlib_inflates_idat_to_expected_length() {
    // Optional: Python is not among the required checkers.
    if tool("python3", &["-c", "import zlib"], true, false).is_none() {
        return;
    }
    let dir = TempDir::new("pyzlib");
    let files = generate(&dir.0);
    let script = dir.0.join("check.py");
    std::fs::write(&script, PY_CHECK).unwrap();
    let args: Vec<String> = files
        .iter()
        .map(|f| format!("{}={}", f.path.display(), f.inflated_len))
        .collect();
    let out = Command::new("python3")
        .arg(&script)
        .args(&args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "python zlib check failed:\n{text}");
    assert_eq!(text.trim(), format!("checked {}", files.len()));
}
