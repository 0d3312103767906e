//! The typed values of the standard ancillary chunks other than text.
//!
//! Each constructor checks what can be checked without the image header;
//! [`check`](super::check) does the rest when the writer starts.

use alloc::vec::Vec;

use super::MetadataError;
use super::text::{compress, fits, fits_copy, keyword};
use crate::color::BitDepth;

use crate::chunk::MAX_U31;

fn u31(kind: [u8; 4], v: u32, expected: &'static str) -> Result<u32, MetadataError> {
    if v <= MAX_U31 {
        Ok(v)
    } else {
        Err(MetadataError::InvalidValue { kind, expected })
    }
}

/// `v` × 100 000, rounded, as cHRM and gAMA store it; `None` if negative,
/// not a number or too large. (`f64::round` is not in `core`.)
fn scaled(v: f64) -> Option<u32> {
    let s = v * 100_000.0 + 0.5;
    if s >= 0.0 && s < MAX_U31 as f64 + 1.0 {
        Some(s as u32)
    } else {
        None
    }
}

/// Image gamma (gAMA): the exponent that relates the stored samples to the
/// light intensities, as PNG defines it (0.45455 ≈ 1/2.2 for typical images).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gamma(u32);

impl Gamma {
    /// The gamma sRGB images are advised to carry alongside sRGB: 1/2.2.
    pub const SRGB: Gamma = Gamma(45455);

    /// Gamma from its value (e.g. `1.0 / 2.2`): it must be above 0 and, times
    /// 100 000, fit PNG's 2^31 − 1.
    pub fn new(gamma: f64) -> Result<Gamma, MetadataError> {
        Gamma::from_scaled(scaled(gamma).unwrap_or(0))
    }

    /// Gamma as stored: the value times 100 000 (45455 for 1/2.2), 1 to 2^31 − 1.
    pub fn from_scaled(scaled: u32) -> Result<Gamma, MetadataError> {
        if scaled == 0 {
            return Err(MetadataError::InvalidValue {
                kind: *b"gAMA",
                expected: "a gamma above 0 and at most 21474.83647",
            });
        }
        u31(*b"gAMA", scaled, "a gamma above 0 and at most 21474.83647").map(Gamma)
    }

    /// The value times 100 000.
    pub fn scaled(self) -> u32 {
        self.0
    }
}

/// Primary chromaticities and white point (cHRM), as CIE 1931 x, y pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chromaticities([u32; 8]);

impl Chromaticities {
    /// The primaries and D65 white point of sRGB (ITU-R BT.709).
    pub const SRGB: Chromaticities =
        Chromaticities([31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000]);

    /// Chromaticities from `[x, y]` pairs, each from 0 to 21474.83647 (in
    /// practice 0 to 1).
    pub fn new(
        white: [f64; 2],
        red: [f64; 2],
        green: [f64; 2],
        blue: [f64; 2],
    ) -> Result<Chromaticities, MetadataError> {
        let mut s = [0u32; 8];
        for (d, v) in s.iter_mut().zip([white, red, green, blue].as_flattened()) {
            *d = scaled(*v).ok_or(MetadataError::InvalidValue {
                kind: *b"cHRM",
                expected: "chromaticities from 0 to 21474.83647",
            })?;
        }
        Ok(Chromaticities(s))
    }

    /// Chromaticities as stored, times 100 000, in the chunk's order: white
    /// x, y, red x, y, green x, y, blue x, y; each at most 2^31 − 1.
    pub fn from_scaled(scaled: [u32; 8]) -> Result<Chromaticities, MetadataError> {
        for v in scaled {
            u31(*b"cHRM", v, "scaled chromaticities up to 2147483647")?;
        }
        Ok(Chromaticities(scaled))
    }

    /// The values times 100 000, in the chunk's order.
    pub fn scaled(self) -> [u32; 8] {
        self.0
    }
}

/// The rendering intent of an sRGB image (sRGB chunk): how a colour-managed
/// viewer should map colours outside its gamut.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RenderingIntent {
    /// For images that prefer good adaptation to the output gamut (photographs).
    Perceptual = 0,
    /// For images that need colour appearance matching (logos).
    RelativeColorimetric = 1,
    /// For images that prefer preserved saturation (charts and graphs).
    Saturation = 2,
    /// For images that need absolute colorimetry (proofs).
    AbsoluteColorimetric = 3,
}

/// An embedded ICC profile (iCCP): a name and the profile, which is
/// compressed with the crate's deflate when the value is made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IccProfile {
    pub(crate) data: Vec<u8>,
}

impl IccProfile {
    /// A profile named `name` (keyword rules: 1–79 printable Latin-1
    /// characters) with the raw ICC `profile` bytes, which must not be empty.
    pub fn new(name: &str, profile: &[u8]) -> Result<IccProfile, MetadataError> {
        let mut data = keyword(name)?;
        if profile.is_empty() {
            return Err(MetadataError::InvalidValue {
                kind: *b"iCCP",
                expected: "a non-empty ICC profile",
            });
        }
        data.extend_from_slice(&[0, 0]); // separator, compression method 0
        data.extend_from_slice(&compress(profile)?);
        Ok(IccProfile {
            data: fits(*b"iCCP", data)?,
        })
    }
}

/// Coding-independent code points (cICP, PNG Third Edition): the colour
/// primaries, transfer function and range of ITU-T H.273, as used for HDR
/// and wide-gamut images. The matrix coefficients are always 0 (RGB) in PNG.
///
/// ```
/// // BT.2100 PQ, full range.
/// let hdr = pngstream::Cicp::new(9, 16, true);
/// # let _ = hdr;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cicp {
    primaries: u8,
    transfer: u8,
    full_range: bool,
}

impl Cicp {
    /// Code points from ITU-T H.273: colour primaries (1 = BT.709/sRGB,
    /// 9 = BT.2020, 12 = Display P3), transfer characteristics (13 = sRGB,
    /// 16 = PQ, 18 = HLG) and whether samples use the full range.
    pub const fn new(primaries: u8, transfer: u8, full_range: bool) -> Cicp {
        Cicp {
            primaries,
            transfer,
            full_range,
        }
    }
}

/// Mastering display colour volume (mDCV, PNG Third Edition, SMPTE ST 2086):
/// the display an HDR image was graded on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasteringDisplay {
    /// Red, green, blue, white x, y in units of 0.00002.
    chroma: [u16; 8],
    /// Maximum and minimum luminance in units of 0.0001 cd/m².
    luminance: [u32; 2],
}

impl MasteringDisplay {
    /// The display's red, green and blue primaries and white point as `[x, y]`
    /// in units of 0.00002 (0 to 50000, i.e. 0 to 1), and its maximum and
    /// minimum luminance in units of 0.0001 cd/m² (at most 2^31 − 1).
    pub fn new(
        red: [u16; 2],
        green: [u16; 2],
        blue: [u16; 2],
        white: [u16; 2],
        max_luminance: u32,
        min_luminance: u32,
    ) -> Result<MasteringDisplay, MetadataError> {
        let chroma = [
            red[0], red[1], green[0], green[1], blue[0], blue[1], white[0], white[1],
        ];
        if chroma.iter().any(|&c| c > 50000) {
            return Err(MetadataError::InvalidValue {
                kind: *b"mDCV",
                expected: "chromaticities of 0 to 50000 (units of 0.00002)",
            });
        }
        let expected = "luminances of at most 2147483647 (units of 0.0001 cd/m²)";
        Ok(MasteringDisplay {
            chroma,
            luminance: [
                u31(*b"mDCV", max_luminance, expected)?,
                u31(*b"mDCV", min_luminance, expected)?,
            ],
        })
    }
}

/// Content light level (cLLI, PNG Third Edition): the brightest pixel
/// (MaxCLL) and brightest frame average (MaxFALL) of an HDR image, in units of
/// 0.0001 cd/m²; 0 means unknown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentLightLevel([u32; 2]);

impl ContentLightLevel {
    /// MaxCLL and MaxFALL in units of 0.0001 cd/m², each at most 2^31 − 1.
    pub fn new(max_cll: u32, max_fall: u32) -> Result<ContentLightLevel, MetadataError> {
        let expected = "light levels of at most 2147483647 (units of 0.0001 cd/m²)";
        Ok(ContentLightLevel([
            u31(*b"cLLI", max_cll, expected)?,
            u31(*b"cLLI", max_fall, expected)?,
        ]))
    }
}

/// Significant bits (sBIT): how many bits of each sample were significant in
/// the source, one value per channel in PNG order: grey; red, green, blue
/// (also for indexed images); grey, alpha; or red, green, blue, alpha.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignificantBits {
    bits: [u8; 4],
    len: u8,
}

impl SignificantBits {
    /// 1 to 4 values of 1 to 16 bits. Whether their number fits the colour
    /// type, and each value the bit depth (8 for indexed images), is checked
    /// when the writer starts.
    pub fn new(bits: &[u8]) -> Result<SignificantBits, MetadataError> {
        if !(1..=4).contains(&bits.len()) || bits.iter().any(|b| !(1..=16).contains(b)) {
            return Err(MetadataError::InvalidValue {
                kind: *b"sBIT",
                expected: "1 to 4 values of 1 to 16 bits",
            });
        }
        let mut b = [0u8; 4];
        b[..bits.len()].copy_from_slice(bits);
        Ok(SignificantBits {
            bits: b,
            len: bits.len() as u8,
        })
    }

    /// The values, one per channel.
    pub fn bits(&self) -> &[u8] {
        &self.bits[..self.len as usize]
    }
}

/// The unit of a [`PixelDensity`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// No unit: the values give only the pixels' aspect ratio.
    Unknown = 0,
    /// Pixels per metre.
    Meter = 1,
}

/// Physical pixel dimensions (pHYs): pixels per unit along x and y.
///
/// ```
/// let print = pngstream::PixelDensity::dpi(300).unwrap();
/// assert_eq!(print, pngstream::PixelDensity::new(11811, 11811, pngstream::Unit::Meter).unwrap());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelDensity {
    x: u32,
    y: u32,
    unit: Unit,
}

impl PixelDensity {
    /// Pixels per unit along x and y, each at most 2^31 − 1.
    pub fn new(x: u32, y: u32, unit: Unit) -> Result<PixelDensity, MetadataError> {
        let expected = "pixels per unit of at most 2147483647";
        Ok(PixelDensity {
            x: u31(*b"pHYs", x, expected)?,
            y: u31(*b"pHYs", y, expected)?,
            unit,
        })
    }

    /// The same density in both directions, given in dots per inch and stored
    /// in pixels per metre, rounded (300 dpi is 11811 per metre).
    pub fn dpi(dpi: u32) -> Result<PixelDensity, MetadataError> {
        // One inch is exactly 0.0254 m.
        let per_metre = (dpi as u64 * 10_000 + 127) / 254;
        let v = u32::try_from(per_metre).unwrap_or(u32::MAX);
        PixelDensity::new(v, v, Unit::Meter)
    }
}

/// The time of the image's last modification (tIME), in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Time {
    year: u16,
    /// Month, day, hour, minute, second.
    rest: [u8; 5],
}

impl Time {
    /// A time in UTC: the full year (e.g. 2025), month 1–12, day 1 to the
    /// month's length, hour 0–23, minute 0–59, second 0–60 (60 for a leap
    /// second).
    pub fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Result<Time, MetadataError> {
        let bad = |expected| {
            Err(MetadataError::InvalidValue {
                kind: *b"tIME",
                expected,
            })
        };
        if !(1..=12).contains(&month) {
            return bad("month 1 to 12");
        }
        if day == 0 || day > days_in_month(year, month) {
            return bad("a day that exists in the month");
        }
        if hour > 23 || minute > 59 || second > 60 {
            return bad("hour 0 to 23, minute 0 to 59, second 0 to 60");
        }
        Ok(Time {
            year,
            rest: [month, day, hour, minute, second],
        })
    }

    /// The time `secs` seconds after 1970-01-01 00:00:00 UTC (as
    /// `SystemTime::now().duration_since(UNIX_EPOCH)` gives), until the end
    /// of year 65535.
    pub fn from_unix(secs: u64) -> Result<Time, MetadataError> {
        let days = secs / 86_400;
        let s = secs % 86_400;
        // Days to civil date, after Howard Hinnant's `civil_from_days`: count
        // from 0000-03-01 (719 468 days before the epoch) so that leap days
        // fall at the end of each year and 400-year eras repeat exactly.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + u64::from(month <= 2);
        let year = u16::try_from(year).map_err(|_| MetadataError::InvalidValue {
            kind: *b"tIME",
            expected: "a time before the year 65536",
        })?;
        Time::new(
            year,
            month,
            day,
            (s / 3600) as u8,
            (s / 60 % 60) as u8,
            (s % 60) as u8,
        )
    }

    pub(crate) fn bytes(&self) -> [u8; 7] {
        let [y0, y1] = self.year.to_be_bytes();
        let [m, d, h, mi, s] = self.rest;
        [y0, y1, m, d, h, mi, s]
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The background colour (bKGD) a viewer may show behind the image, in the
/// image's own colour type and bit depth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Background {
    /// A grey level, for greyscale images (with or without alpha); at most
    /// 2^depth − 1.
    Gray(u16),
    /// Red, green and blue, for RGB and RGBA images; each at most 2^depth − 1.
    Rgb([u16; 3]),
    /// A palette index, for indexed images; less than the palette's length.
    PaletteIndex(u8),
}

/// Exif metadata (eXIf): a TIFF-structured Exif block, without JPEG's
/// `Exif\0\0` prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exif {
    pub(crate) data: Vec<u8>,
}

impl Exif {
    /// Exif bytes, which must start with a TIFF header: `MM\0*` (big-endian)
    /// or `II*\0` (little-endian).
    pub fn new(exif: &[u8]) -> Result<Exif, MetadataError> {
        if !(exif.starts_with(b"MM\0*") || exif.starts_with(b"II*\0")) {
            return Err(MetadataError::InvalidExif);
        }
        Ok(Exif {
            data: fits_copy(*b"eXIf", exif)?,
        })
    }
}

/// One colour of a [`SuggestedPalette`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PaletteEntry {
    /// Red sample.
    pub red: u16,
    /// Green sample.
    pub green: u16,
    /// Blue sample.
    pub blue: u16,
    /// Alpha sample (0 transparent, maximum opaque).
    pub alpha: u16,
    /// Relative frequency of use in the image (0 if unknown).
    pub frequency: u16,
}

/// A suggested palette (sPLT) for viewers that cannot show all the image's
/// colours. Several may be given, each with its own name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuggestedPalette {
    pub(crate) data: Vec<u8>,
    /// Bytes of the name at the start of `data`.
    pub(crate) name_len: usize,
}

impl SuggestedPalette {
    /// A palette named `name` (keyword rules) with samples of `depth` bits (8
    /// or 16; with 8 every sample must be at most 255).
    pub fn new(
        name: &str,
        depth: BitDepth,
        entries: &[PaletteEntry],
    ) -> Result<SuggestedPalette, MetadataError> {
        let mut data = keyword(name)?;
        let name_len = data.len();
        let wide = match depth {
            BitDepth::Eight => false,
            BitDepth::Sixteen => true,
            _ => {
                return Err(MetadataError::InvalidValue {
                    kind: *b"sPLT",
                    expected: "a sample depth of 8 or 16",
                });
            }
        };
        data.extend_from_slice(&[0, depth.bits()]);
        for e in entries {
            let rgba = [e.red, e.green, e.blue, e.alpha];
            if wide {
                rgba.iter()
                    .for_each(|s| data.extend_from_slice(&s.to_be_bytes()));
            } else {
                for s in rgba {
                    data.push(u8::try_from(s).map_err(|_| MetadataError::InvalidValue {
                        kind: *b"sPLT",
                        expected: "samples of at most 255 at sample depth 8",
                    })?);
                }
            }
            data.extend_from_slice(&e.frequency.to_be_bytes());
        }
        Ok(SuggestedPalette {
            data: fits(*b"sPLT", data)?,
            name_len,
        })
    }

    pub(crate) fn name(&self) -> &[u8] {
        &self.data[..self.name_len]
    }
}

/// Serialisations of the fixed-size values.
impl Cicp {
    pub(crate) fn bytes(&self) -> [u8; 4] {
        [self.primaries, self.transfer, 0, self.full_range as u8]
    }
}

impl MasteringDisplay {
    pub(crate) fn bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        for (d, c) in b.chunks_exact_mut(2).zip(self.chroma) {
            d.copy_from_slice(&c.to_be_bytes());
        }
        b[16..20].copy_from_slice(&self.luminance[0].to_be_bytes());
        b[20..24].copy_from_slice(&self.luminance[1].to_be_bytes());
        b
    }
}

impl ContentLightLevel {
    pub(crate) fn bytes(&self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&self.0[0].to_be_bytes());
        b[4..].copy_from_slice(&self.0[1].to_be_bytes());
        b
    }
}

impl Chromaticities {
    pub(crate) fn bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (d, c) in b.chunks_exact_mut(4).zip(self.0) {
            d.copy_from_slice(&c.to_be_bytes());
        }
        b
    }
}

impl PixelDensity {
    pub(crate) fn bytes(&self) -> [u8; 9] {
        let mut b = [0u8; 9];
        b[..4].copy_from_slice(&self.x.to_be_bytes());
        b[4..8].copy_from_slice(&self.y.to_be_bytes());
        b[8] = self.unit as u8;
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_and_chromaticities() {
        assert_eq!(Gamma::new(1.0 / 2.2).unwrap(), Gamma::SRGB);
        assert_eq!(Gamma::new(1.0).unwrap().scaled(), 100_000);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e9, 0.000_004] {
            assert!(Gamma::new(bad).is_err(), "{bad}");
        }
        assert!(Gamma::from_scaled(0).is_err());
        assert!(Gamma::from_scaled(1 << 31).is_err());
        assert!(Gamma::from_scaled((1 << 31) - 1).is_ok());
        let c = Chromaticities::new([0.3127, 0.329], [0.64, 0.33], [0.3, 0.6], [0.15, 0.06]);
        assert_eq!(c.unwrap(), Chromaticities::SRGB);
        assert!(Chromaticities::new([-0.1, 0.3], [0.0; 2], [0.0; 2], [0.0; 2]).is_err());
        assert!(Chromaticities::from_scaled([1 << 31; 8]).is_err());
    }

    #[test]
    fn hdr_values() {
        assert_eq!(Cicp::new(9, 16, true).bytes(), [9, 16, 0, 1]);
        let m = MasteringDisplay::new(
            [35400, 14600],
            [8500, 39850],
            [6550, 2300],
            [15635, 16450],
            10_000_000,
            1,
        )
        .unwrap();
        assert_eq!(&m.bytes()[..4], &[0x8a, 0x48, 0x39, 0x08]);
        assert_eq!(&m.bytes()[16..], &[0, 0x98, 0x96, 0x80, 0, 0, 0, 1]);
        assert!(MasteringDisplay::new([50001, 0], [0; 2], [0; 2], [0; 2], 0, 0).is_err());
        assert!(MasteringDisplay::new([0; 2], [0; 2], [0; 2], [0; 2], 1 << 31, 0).is_err());
        assert!(ContentLightLevel::new(1 << 31, 0).is_err());
        assert_eq!(
            ContentLightLevel::new(1, 2).unwrap().bytes(),
            [0, 0, 0, 1, 0, 0, 0, 2]
        );
    }

    #[test]
    fn time_ranges() {
        assert!(Time::new(2024, 2, 29, 23, 59, 60).is_ok());
        assert!(Time::new(2023, 2, 29, 0, 0, 0).is_err());
        assert!(Time::new(1900, 2, 29, 0, 0, 0).is_err());
        assert!(Time::new(2000, 2, 29, 0, 0, 0).is_ok());
        assert!(Time::new(2024, 4, 31, 0, 0, 0).is_err());
        for (mo, d, h, mi, s) in [
            (0, 1, 0, 0, 0),
            (13, 1, 0, 0, 0),
            (1, 0, 0, 0, 0),
            (1, 32, 0, 0, 0),
            (1, 1, 24, 0, 0),
            (1, 1, 0, 60, 0),
            (1, 1, 0, 0, 61),
        ] {
            assert!(
                Time::new(2024, mo, d, h, mi, s).is_err(),
                "{mo} {d} {h} {mi} {s}"
            );
        }
        assert_eq!(
            Time::from_unix(0).unwrap(),
            Time::new(1970, 1, 1, 0, 0, 0).unwrap()
        );
        assert_eq!(
            Time::from_unix(951_782_400 + 3661).unwrap(),
            Time::new(2000, 2, 29, 1, 1, 1).unwrap()
        );
        assert_eq!(
            Time::from_unix(1_735_689_599).unwrap(),
            Time::new(2024, 12, 31, 23, 59, 59).unwrap()
        );
        assert!(Time::from_unix(u64::MAX).is_err());
    }

    #[test]
    fn other_values() {
        assert_eq!(
            PixelDensity::dpi(72).unwrap().bytes()[..4],
            2835u32.to_be_bytes()
        );
        assert!(PixelDensity::dpi(u32::MAX).is_err());
        assert!(PixelDensity::new(1 << 31, 1, Unit::Unknown).is_err());
        assert!(SignificantBits::new(&[]).is_err());
        assert!(SignificantBits::new(&[1, 2, 3, 4, 5]).is_err());
        assert!(SignificantBits::new(&[0]).is_err());
        assert!(SignificantBits::new(&[17]).is_err());
        assert_eq!(SignificantBits::new(&[5, 6, 5]).unwrap().bits(), &[5, 6, 5]);
        assert!(Exif::new(b"MM\0*\0\0\0\x08").is_ok());
        assert!(Exif::new(b"II*\0\x08\0\0\0").is_ok());
        assert_eq!(Exif::new(b"Exif\0\0MM\0*"), Err(MetadataError::InvalidExif));
        assert_eq!(Exif::new(b""), Err(MetadataError::InvalidExif));
        assert!(IccProfile::new("icc", &[]).is_err());
        assert_eq!(IccProfile::new("", &[1]), Err(MetadataError::EmptyKeyword));
        let e = PaletteEntry {
            red: 256,
            ..Default::default()
        };
        assert!(SuggestedPalette::new("p", BitDepth::Eight, &[e]).is_err());
        assert!(SuggestedPalette::new("p", BitDepth::Four, &[]).is_err());
        let p = SuggestedPalette::new("p", BitDepth::Sixteen, &[e]).unwrap();
        assert_eq!(p.data, [b'p', 0, 16, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(p.name(), b"p");
    }
}
