//! Workloads shared by the benchmarks: the real-image corpus, decoded to raw
//! packed rows, and procedural images.
#![allow(dead_code)]

use std::path::PathBuf;

use pngstream::{BitDepth, ColorType, Options};

#[path = "../../examples/common/gradient.rs"]
pub mod article;
#[path = "../../tests/kit/mod.rs"]
pub mod kit;

/// One image as packed rows plus what pngstream needs to encode it again.
pub struct Workload {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub color: ColorType,
    pub depth: BitDepth,
    pub palette: Option<Vec<u8>>,
    pub trns: Option<Vec<u8>>,
    pub data: Vec<u8>,
}

impl Workload {
    pub fn options(&self) -> Options {
        let mut o = Options::new(self.width, self.height, self.color).bit_depth(self.depth);
        if let Some(p) = &self.palette {
            o = o.palette(p);
        }
        if let Some(t) = &self.trns {
            o = o.transparency(t);
        }
        o
    }

    pub fn pixels(&self) -> u64 {
        self.width as u64 * self.height as u64
    }

    pub fn png_color(&self) -> png::ColorType {
        match self.color {
            ColorType::Grayscale => png::ColorType::Grayscale,
            ColorType::Rgb => png::ColorType::Rgb,
            ColorType::Indexed => png::ColorType::Indexed,
            ColorType::GrayscaleAlpha => png::ColorType::GrayscaleAlpha,
            ColorType::Rgba => png::ColorType::Rgba,
        }
    }

    pub fn png_depth(&self) -> png::BitDepth {
        match self.depth {
            BitDepth::One => png::BitDepth::One,
            BitDepth::Two => png::BitDepth::Two,
            BitDepth::Four => png::BitDepth::Four,
            BitDepth::Eight => png::BitDepth::Eight,
            BitDepth::Sixteen => png::BitDepth::Sixteen,
        }
    }
}

/// Decodes a PNG to raw packed rows (no transformations).
pub fn decode(name: &str, bytes: &[u8]) -> Workload {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::IDENTITY);
    let mut reader = dec.read_info().expect("decodable PNG");
    let mut data = vec![0; reader.output_buffer_size().expect("size")];
    let frame = reader.next_frame(&mut data).expect("decodable PNG");
    data.truncate(frame.buffer_size());
    let info = reader.info();
    let color = match info.color_type {
        png::ColorType::Grayscale => ColorType::Grayscale,
        png::ColorType::Rgb => ColorType::Rgb,
        png::ColorType::Indexed => ColorType::Indexed,
        png::ColorType::GrayscaleAlpha => ColorType::GrayscaleAlpha,
        png::ColorType::Rgba => ColorType::Rgba,
    };
    Workload {
        name: name.to_string(),
        width: info.width,
        height: info.height,
        color,
        depth: BitDepth::from_bits(info.bit_depth as u8).expect("valid depth"),
        palette: info.palette.as_ref().map(|p| p.to_vec()),
        trns: info.trns.as_ref().map(|t| t.to_vec()),
        data,
    }
}

/// The benchmark corpus, or nothing (with a notice) where it is absent.
pub fn corpus() -> Vec<Workload> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/bench");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!(
            "note: no benchmark corpus at {}; procedural workloads only",
            dir.display()
        );
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            decode(&name, &std::fs::read(p).expect("readable file"))
        })
        .collect()
}

/// The article's RGB gradient, as the gradient example writes it.
pub fn gradient(width: u32, height: u32) -> Workload {
    let data = article::gradient_bytes(width, height);
    procedural(format!("gradient {width}x{height}"), width, height, data)
}

/// Uniformly random RGB bytes: incompressible.
pub fn noise(width: u32, height: u32) -> Workload {
    let data = kit::Rng::new(1).bytes(width as usize * height as usize * 3);
    procedural(format!("noise {width}x{height}"), width, height, data)
}

fn procedural(name: String, width: u32, height: u32, data: Vec<u8>) -> Workload {
    Workload {
        name,
        width,
        height,
        color: ColorType::Rgb,
        depth: BitDepth::Eight,
        palette: None,
        trns: None,
        data,
    }
}

/// Encodes with the `png` crate's whole-image writer at `level`, with the
/// filter that level picks by default.
pub fn png_encode(w: &Workload, level: png::Compression) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w.width, w.height);
    enc.set_color(w.png_color());
    enc.set_depth(w.png_depth());
    if let Some(p) = &w.palette {
        enc.set_palette(p.clone());
    }
    if let Some(t) = &w.trns {
        enc.set_trns(t.clone());
    }
    enc.set_compression(level);
    let mut writer = enc.write_header().expect("png header");
    writer.write_image_data(&w.data).expect("png encode");
    writer.finish().expect("png finish");
    out
}

/// Checks `png_bytes` with the strict decode of the test kit (every CRC,
/// the Adler-32, the exact length) and that it holds exactly the workload's
/// rows.
pub fn verify(w: &Workload, png_bytes: &[u8], what: &str) {
    let back =
        kit::strict_decode(png_bytes).unwrap_or_else(|e| panic!("{what} of {}: {e}", w.name));
    assert!(
        back.data == w.data && back.width == w.width && back.height == w.height,
        "{what} did not round-trip {}",
        w.name
    );
}
