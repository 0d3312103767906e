//! zlib framing (RFC 1950) around the deflate stream: a two-byte header and
//! the Adler-32 of the uncompressed data as trailer.

use alloc::vec::Vec;

use crate::adler32::Adler32;
use crate::deflate::{AllocError, Deflater, Sizes};
use crate::level::Compression;

/// A streaming zlib compressor; output collects in [`ZlibEncoder::output`].
pub(crate) struct ZlibEncoder {
    deflate: Deflater,
    adler: Adler32,
}

/// The two header bytes: deflate with a window of `1 << window_bits` bytes
/// (32 KiB without a memory limit), the level hint, and the check bits that
/// make the pair a multiple of 31.
pub(crate) fn header(level: Compression, window_bits: u32) -> [u8; 2] {
    debug_assert!((8..=15).contains(&window_bits));
    let cmf = ((window_bits as u8 - 8) << 4) | 8;
    let flg = level.plan().flevel << 6;
    let fcheck = 31 - ((cmf as u16 * 256 + flg as u16) % 31) as u8;
    [cmf, flg | (fcheck % 31)]
}

impl ZlibEncoder {
    pub(crate) fn new(level: Compression) -> Result<Self, AllocError> {
        Ok(Self::around(Deflater::new(level)?, level, 15))
    }

    /// An encoder for `total` bytes of input, when that is known (see
    /// [`Deflater::sized`]).
    pub(crate) fn sized(
        level: Compression,
        total: Option<u64>,
        sizes: &Sizes,
    ) -> Result<Self, AllocError> {
        let deflate = Deflater::sized(level, total, sizes)?;
        Ok(Self::around(deflate, level, sizes.window_bits))
    }

    /// A stored-level encoder for exactly `total` bytes of input (see
    /// [`Deflater::stored_exact`]).
    pub(crate) fn stored_exact(total: u64, window_bits: u32) -> Self {
        Self::around(
            Deflater::stored_exact(total),
            Compression::Stored,
            window_bits,
        )
    }

    fn around(mut deflate: Deflater, level: Compression, window_bits: u32) -> Self {
        deflate
            .output()
            .extend_from_slice(&header(level, window_bits));
        ZlibEncoder {
            deflate,
            adler: Adler32::new(),
        }
    }

    pub(crate) fn write(&mut self, data: &[u8]) {
        self.adler.update(data);
        self.deflate.write(data);
    }

    /// Writes the final block and the trailer.
    pub(crate) fn finish(&mut self) {
        self.deflate.finish();
        let sum = self.adler.finish();
        self.deflate.output().extend_from_slice(&sum.to_be_bytes());
    }

    /// See [`Deflater::burst`].
    pub(crate) fn burst(&self) -> usize {
        self.deflate.burst()
    }

    /// Compressed bytes not yet taken.
    pub(crate) fn output(&mut self) -> &mut Vec<u8> {
        self.deflate.output()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check_bits_are_valid() {
        for &level in Compression::ALL {
            for bits in 8..=15 {
                let [cmf, flg] = header(level, bits);
                assert_eq!((cmf as u16 * 256 + flg as u16) % 31, 0, "{level:?}");
                assert_eq!(flg & 0x20, 0, "no preset dictionary");
                assert_eq!(cmf >> 4, bits as u8 - 8, "CINFO");
            }
            assert_eq!(header(level, 15)[0], 0x78);
        }
    }

    #[test]
    fn stream_decodes_with_miniz() {
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(i) >> 7) as u8)
            .collect();
        for &level in Compression::ALL {
            let mut z = ZlibEncoder::new(level).unwrap();
            for piece in data.chunks(999) {
                z.write(piece);
            }
            z.finish();
            let back = miniz_oxide::inflate::decompress_to_vec_zlib(z.output());
            let back = back.map_err(|e| (e.status, e.output.len()));
            assert!(
                back == Ok(data.clone()),
                "{level:?}: {:?}",
                back.map(|v| v.len())
            );
        }
    }
}
