//! PNG chunk framing: length, type, data and the CRC-32 of type and data.

use crate::crc32::Crc32;
use crate::sink::Sink;

/// Default largest IDAT payload of the compressing levels: 64 KiB. The
/// writer holds up to one chunk of compressed data, so this bounds that part
/// of its memory; 12 bytes of framing per 64 KiB of compressed data cost
/// under 0.02 % of the file. (libpng writes 8 KiB chunks.)
pub const DEFAULT_IDAT_SIZE: u32 = 64 * 1024;

/// Default largest IDAT payload with [`Compression::Stored`](crate::Compression::Stored):
/// 512 KiB. Stored output is as large as the image, so framing counts: with
/// 512 KiB chunks it is under 0.003 %, and with the stored blocks' 5 bytes
/// per 64 KiB a stored image stays within 0.01 % of its filtered size. The
/// stored level has no match finder, so the larger buffer still leaves its
/// memory well under the other levels'.
pub const STORED_IDAT_SIZE: u32 = 512 * 1024;

/// PNG's four-byte unsigned integers (lengths, dimensions, scaled values)
/// stop at 2^31 − 1 (PNG §7.1), so that readers may hold them in signed
/// 32-bit integers.
pub(crate) const MAX_U31: u32 = (1 << 31) - 1;

/// Largest chunk length PNG allows.
pub(crate) const MAX_CHUNK_LEN: u32 = MAX_U31;

/// The types of the chunks the encoder writes itself.
pub(crate) const IHDR: [u8; 4] = *b"IHDR";
pub(crate) const PLTE: [u8; 4] = *b"PLTE";
pub(crate) const TRNS: [u8; 4] = *b"tRNS";
pub(crate) const IDAT: [u8; 4] = *b"IDAT";
pub(crate) const IEND: [u8; 4] = *b"IEND";

/// Writes one chunk: big-endian length, type, data, CRC over type and data.
/// `data` must be at most [`MAX_CHUNK_LEN`] bytes.
pub(crate) fn write_chunk<S: Sink>(
    sink: &mut S,
    kind: [u8; 4],
    data: &[u8],
) -> Result<(), S::Error> {
    debug_assert!(data.len() <= MAX_CHUNK_LEN as usize);
    let mut head = [0u8; 8];
    head[..4].copy_from_slice(&(data.len() as u32).to_be_bytes());
    head[4..].copy_from_slice(&kind);
    let mut crc = Crc32::new();
    crc.update(&kind);
    crc.update(data);
    sink.write_all(&head)?;
    sink.write_all(data)?;
    sink.write_all(&crc.finish().to_be_bytes())
}

/// Writes `data` as IDAT chunks of `max` bytes each. With `all` the remainder
/// goes out too, as a shorter chunk; otherwise it stays in `data`. Returns how
/// many bytes from the front of `data` were written.
pub(crate) fn write_idat<S: Sink>(
    sink: &mut S,
    data: &[u8],
    max: usize,
    all: bool,
) -> Result<usize, S::Error> {
    let mut done = 0;
    for piece in data.chunks(max) {
        if piece.len() < max && !all {
            break;
        }
        write_chunk(sink, IDAT, piece)?;
        done += piece.len();
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn iend_chunk_bytes() {
        let mut out = Vec::new();
        write_chunk(&mut out, IEND, &[]).unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]
        );
    }

    #[test]
    fn idat_splits_at_max() {
        let data: Vec<u8> = (0..25u8).collect();
        let mut out = Vec::new();
        assert_eq!(write_idat(&mut out, &data, 10, false).unwrap(), 20);
        assert_eq!(out.len(), 2 * (12 + 10));
        let mut out = Vec::new();
        assert_eq!(write_idat(&mut out, &data, 10, true).unwrap(), 25);
        assert_eq!(out.len(), 3 * 12 + 25);
        assert_eq!(&out[..8], &[0, 0, 0, 10, b'I', b'D', b'A', b'T']);
    }
}
