//! CRC-32 as PNG chunks use it (ISO 3309 / ITU-T V.42, reflected polynomial
//! `0xEDB88320`), computed incrementally.
//!
//! The fast path is slicing-by-16: sixteen 256-entry tables, built at compile
//! time, let one step fold sixteen input bytes into the CRC with sixteen
//! independent table look-ups instead of a serial chain of sixteen.

/// The reflected CRC-32 polynomial used by PNG and zlib.
const POLY: u32 = 0xEDB8_8320;

/// `TABLES[k][b]` is the CRC contribution of byte `b` followed by `k` zero bytes.
static TABLES: [[u32; 256]; 16] = make_tables();

const fn make_tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

// The check value of the CRC-32 catalogue, evaluated by the compiler.
const _: () = assert!(crc32_const(b"123456789") == 0xCBF4_3926);

const fn crc32_const(data: &[u8]) -> u32 {
    let t = make_tables();
    let mut crc = !0u32;
    let mut i = 0;
    while i < data.len() {
        crc = (crc >> 8) ^ t[0][((crc ^ data[i] as u32) & 0xff) as usize];
        i += 1;
    }
    !crc
}

/// An incremental CRC-32 hasher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Crc32 {
    /// The running register, kept inverted as the algorithm specifies.
    state: u32,
}

impl Crc32 {
    pub(crate) const fn new() -> Self {
        Crc32 { state: !0 }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        let t = &TABLES;
        let mut crc = self.state;
        let mut blocks = data.chunks_exact(16);
        for b in &mut blocks {
            let lo = crc ^ u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            crc = t[15][(lo & 0xff) as usize]
                ^ t[14][((lo >> 8) & 0xff) as usize]
                ^ t[13][((lo >> 16) & 0xff) as usize]
                ^ t[12][(lo >> 24) as usize]
                ^ t[11][b[4] as usize]
                ^ t[10][b[5] as usize]
                ^ t[9][b[6] as usize]
                ^ t[8][b[7] as usize]
                ^ t[7][b[8] as usize]
                ^ t[6][b[9] as usize]
                ^ t[5][b[10] as usize]
                ^ t[4][b[11] as usize]
                ^ t[3][b[12] as usize]
                ^ t[2][b[13] as usize]
                ^ t[1][b[14] as usize]
                ^ t[0][b[15] as usize];
        }
        for &b in blocks.remainder() {
            crc = (crc >> 8) ^ t[0][((crc ^ b as u32) & 0xff) as usize];
        }
        self.state = crc;
    }

    pub(crate) fn finish(self) -> u32 {
        !self.state
    }
}

/// CRC-32 of `data` in one call.
#[cfg(test)]
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The textbook bit-at-a-time CRC: the oracle for the table-driven one.
    fn bitwise(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        // CRC of the IEND chunk type, as every PNG file ends with it.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn matches_bitwise_on_all_lengths_and_splits() {
        let data = pseudo_random(1000, 7);
        for len in 0..=200 {
            let d = &data[..len];
            assert_eq!(crc32(d), bitwise(d), "len {len}");
            for split in [0, 1, 3, 15, 16, 17, len / 2] {
                let split = split.min(len);
                let mut c = Crc32::new();
                c.update(&d[..split]);
                c.update(&d[split..]);
                assert_eq!(c.finish(), bitwise(d), "len {len} split {split}");
            }
        }
        assert_eq!(crc32(&data), bitwise(&data));
    }
}
