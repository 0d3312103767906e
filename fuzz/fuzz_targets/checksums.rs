//! CRC-32 and Adler-32: fed in arbitrary pieces, the incremental hashers give
//! the one-shot value, and both agree with `crc32fast` and `adler2`.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use pngstream::internal::{Adler32, Crc32, adler32, crc32};

/// Longest data, a few Adler-32 blocks and CRC-32 slices past every boundary.
const MAX_LEN: usize = 64 * 1024;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Piece lengths, used in turn; the last piece takes whatever is left.
    pieces: Vec<u16>,
    /// The data is `seed` repeated `1 + repeat` times (up to [`MAX_LEN`]), so
    /// inputs longer than libFuzzer's usual few KiB (Adler-32 reduces its sums
    /// every 5552 bytes) are cheap.
    repeat: u8,
    /// Replace the data by this many 0xFF bytes instead (Adler-32's worst case
    /// for overflow of its sums), when non-zero.
    all_ones: u16,
    seed: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let data: Vec<u8> = if input.all_ones != 0 {
        vec![0xFF; input.all_ones as usize]
    } else {
        let mut d = Vec::new();
        for _ in 0..=input.repeat {
            if d.len() + input.seed.len() > MAX_LEN {
                break;
            }
            d.extend_from_slice(&input.seed);
        }
        d
    };

    let want_crc = crc32fast::hash(&data);
    let want_adler = adler2::adler32_slice(&data);
    assert_eq!(
        crc32(&data),
        want_crc,
        "one-shot CRC-32 of {} bytes",
        data.len()
    );
    assert_eq!(
        adler32(&data),
        want_adler,
        "one-shot Adler-32 of {} bytes",
        data.len()
    );

    let mut crc = Crc32::new();
    let mut adler = Adler32::new();
    let mut ref_crc = crc32fast::Hasher::new();
    let mut ref_adler = adler2::Adler32::new();
    let mut rest = &data[..];
    for &p in &input.pieces {
        // Empty pieces are allowed and must change nothing.
        let (piece, tail) = rest.split_at((p as usize).min(rest.len()));
        crc.update(piece);
        adler.update(piece);
        ref_crc.update(piece);
        ref_adler.write_slice(piece);
        // Intermediate values, too (the hashers are `Copy`: finishing a copy
        // leaves the running state as it was).
        assert_eq!(crc.finish(), ref_crc.clone().finalize());
        assert_eq!(adler.finish(), ref_adler.checksum());
        rest = tail;
    }
    crc.update(rest);
    adler.update(rest);
    assert_eq!(crc.finish(), want_crc, "pieces {:?}", input.pieces);
    assert_eq!(adler.finish(), want_adler, "pieces {:?}", input.pieces);
});
