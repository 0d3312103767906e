//! CRC-32 as PNG chunks use it (ISO 3309 / ITU-T V.42, reflected polynomial
//! `0xEDB88320`), computed incrementally.
//!
//! With the `small` feature, one 256-entry table (1 KiB) and a byte at a
//! time: the code and tables below take about 17 KiB, which matters more on
//! a microcontroller than the speed they bring. Without it, two
//! algorithms, by input length:
//! - short input: slicing-by-16, sixteen 256-entry tables built at compile
//!   time, so one step folds sixteen bytes into the CRC with sixteen
//!   independent table look-ups instead of a serial chain of sixteen;
//! - long input: folding by a sparse multiple of the polynomial (the idea of
//!   the Chorba algorithm, arXiv:2412.16398). `Q(x) = x^300 + x^155 + x^117 +
//!   x^89 + 1` is a multiple of the CRC polynomial, so any message bit can be
//!   replaced by four bits 145, 183, 211 and 300 positions later without
//!   changing the CRC. Pushing every 64-bit word forward like this is shifts
//!   and XORs only, no table look-ups, and two independent lanes of it fill
//!   the vector registers; what is left, 40 bytes a lane, goes through the
//!   tables, and the lanes are joined by polynomial arithmetic.

/// The reflected CRC-32 polynomial used by PNG and zlib.
const POLY: u32 = 0xEDB8_8320;

/// `TABLE[b]` is the CRC contribution of byte `b`.
#[cfg(feature = "small")]
static TABLE: [u32; 256] = make_table();

/// `TABLES[k][b]` is the CRC contribution of byte `b` followed by `k` zero bytes.
#[cfg(not(feature = "small"))]
static TABLES: [[u32; 256]; 16] = make_tables();

const fn make_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

#[cfg(not(feature = "small"))]
const fn make_tables() -> [[u32; 256]; 16] {
    let mut t = [[0u32; 256]; 16];
    t[0] = make_table();
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

// Only the compile-time check above calls it (older compilers count that
// as unused).
#[allow(dead_code)]
const fn crc32_const(data: &[u8]) -> u32 {
    let t = make_table();
    let mut crc = !0u32;
    let mut i = 0;
    while i < data.len() {
        crc = (crc >> 8) ^ t[((crc ^ data[i] as u32) & 0xff) as usize];
        i += 1;
    }
    !crc
}

/// Lanes of the folding path, and the shortest input it takes: below
/// this, the fixed cost of joining lanes outweighs the faster loop.
#[cfg(not(feature = "small"))]
const LANES: usize = 2;
#[cfg(not(feature = "small"))]
const MIN_FOLD: usize = 2048;

/// One slicing-by-16 step: folds 16 bytes into the (inverted) register.
///
/// Only the first four bytes meet the register; the twelve look-ups of the
/// others are XORed first, off the serial path from one step to the next.
#[cfg(not(feature = "small"))]
#[inline(always)]
fn step16(crc: u32, b: &[u8]) -> u32 {
    let t = &TABLES;
    let b: &[u8; 16] = b.try_into().unwrap();
    let free = t[11][b[4] as usize]
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
    let w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) ^ crc;
    free ^ t[15][(w & 0xff) as usize]
        ^ t[14][((w >> 8) & 0xff) as usize]
        ^ t[13][((w >> 16) & 0xff) as usize]
        ^ t[12][(w >> 24) as usize]
}

/// Slicing-by-16 over `data`, then byte by byte over the last few bytes.
#[cfg(not(feature = "small"))]
fn slice16(mut crc: u32, data: &[u8]) -> u32 {
    let mut blocks = data.chunks_exact(16);
    for b in &mut blocks {
        crc = step16(crc, b);
    }
    for &b in blocks.remainder() {
        crc = (crc >> 8) ^ TABLES[0][((crc ^ b as u32) & 0xff) as usize];
    }
    crc
}

/// Runs the CRC register of each lane over its input (whole 64-bit words,
/// at least six) by folding with `Q(x)` (see the module docs), and returns
/// the registers. Word `i` of a lane, once the bits pushed into it from
/// earlier words are added, is replaced by its images 145, 183, 211 and 300
/// bits on, which land in words `i + 2` to `i + 5`; the five words still
/// pending at the end hold the whole remainder and are run through the
/// tables from a zero register (the emptied words before them would leave
/// a zero register unchanged).
#[cfg(not(feature = "small"))]
#[inline(always)]
fn fold<const L: usize>(regs: [u32; L], lanes: [&[u8]; L]) -> [u32; L] {
    let words = lanes[0].len() / 8;
    debug_assert!(words >= 6 && lanes.iter().all(|l| l.len() == words * 8));
    // `pend[j][l]`: bits already pushed into word `i + j` of lane `l`; the
    // register enters as bits pushed into the first word.
    let mut pend = [[0u64; L]; 5];
    for l in 0..L {
        pend[0][l] = regs[l] as u64;
    }
    let bodies: [&[u8]; L] = core::array::from_fn(|l| &lanes[l][..(words - 5) * 8]);
    for i in 0..words - 5 {
        let mut x = [0u64; L];
        for l in 0..L {
            let w: [u8; 8] = bodies[l][i * 8..i * 8 + 8].try_into().unwrap();
            x[l] = u64::from_le_bytes(w) ^ pend[0][l];
        }
        for l in 0..L {
            let x = x[l];
            pend[0][l] = pend[1][l];
            pend[1][l] = pend[2][l] ^ (x << 17) ^ (x << 55);
            pend[2][l] = pend[3][l] ^ (x >> 47) ^ (x >> 9) ^ (x << 19);
            pend[3][l] = pend[4][l] ^ (x >> 45) ^ (x << 44);
            pend[4][l] = x >> 20;
        }
    }
    core::array::from_fn(|l| {
        let mut rest = [0u8; 40];
        let last = &lanes[l][(words - 5) * 8..];
        for j in 0..5 {
            let w: [u8; 8] = last[j * 8..j * 8 + 8].try_into().unwrap();
            let w = u64::from_le_bytes(w) ^ pend[j][l];
            rest[j * 8..j * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        slice16(0, &rest)
    })
}

/// `a·b` modulo the CRC polynomial, in the reflected bit order CRC-32 uses
/// (bit 31 is x^0).
#[cfg(not(feature = "small"))]
const fn multmodp(a: u32, mut b: u32) -> u32 {
    let mut m = 1u32 << 31;
    let mut p = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                return p;
            }
        }
        m >>= 1;
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
}

/// `x^(2^k)` modulo the polynomial, for k = 0..64.
#[cfg(not(feature = "small"))]
static X2N: [u32; 64] = {
    let mut t = [0u32; 64];
    let mut p = 1u32 << 30; // x^1
    t[0] = p;
    let mut k = 1;
    while k < 64 {
        p = multmodp(p, p);
        t[k] = p;
        k += 1;
    }
    t
};

/// `x^(8n)` modulo the polynomial: the operator that moves a CRC past `n`
/// zero bytes, which joins the CRCs of two pieces.
#[cfg(not(feature = "small"))]
fn x8nmodp(mut n: u64) -> u32 {
    let mut p = 1u32 << 31; // x^0
    let mut k = 3;
    while n != 0 {
        if n & 1 != 0 {
            p = multmodp(X2N[k & 63], p);
        }
        n >>= 1;
        k += 1;
    }
    p
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Crc32 {
    /// The running register, kept inverted as the algorithm specifies.
    state: u32,
}

impl Crc32 {
    pub(crate) const fn new() -> Self {
        Crc32 { state: !0 }
    }

    /// Folds `data` into the CRC: a byte at a time through one table.
    #[cfg(feature = "small")]
    pub(crate) fn update(&mut self, data: &[u8]) {
        let mut crc = self.state;
        for &b in data {
            crc = (crc >> 8) ^ TABLE[((crc ^ b as u32) & 0xff) as usize];
        }
        self.state = crc;
    }

    /// Folds `data` into the CRC: slicing-by-16, or for long input lanes
    /// of folding (see the module docs).
    #[cfg(not(feature = "small"))]
    pub(crate) fn update(&mut self, data: &[u8]) {
        if data.len() < MIN_FOLD {
            self.state = slice16(self.state, data);
            return;
        }
        let lane = (data.len() / LANES) & !7;
        let (a, rest) = data.split_at(lane);
        let (b, tail) = rest.split_at(lane);
        let [ra, rb] = fold([self.state, 0], [a, b]);
        // Registers join linearly: the first moves past the second lane's
        // bytes, then the second's (begun from zero) is added.
        let crc = multmodp(x8nmodp(lane as u64), ra) ^ rb;
        self.state = slice16(crc, tail);
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

    #[test]
    fn folding_polynomial_is_a_multiple_of_the_crc_polynomial() {
        // Q(x) mod P(x) by long division, bit 0 the x^0 coefficient.
        let mut q = [0u64; 5];
        for e in [300, 155, 117, 89, 0] {
            q[e / 64] |= 1 << (e % 64);
        }
        let p = 0x1_04C1_1DB7u64; // P(x), normal bit order, degree 32
        for e in (32..=300).rev() {
            if q[e / 64] >> (e % 64) & 1 != 0 {
                for k in 0..=32 {
                    if p >> k & 1 != 0 {
                        let t = e - 32 + k;
                        q[t / 64] ^= 1 << (t % 64);
                    }
                }
            }
        }
        assert_eq!(q, [0; 5]);
    }

    #[test]
    fn lanes_and_joining_match_bitwise() {
        let data = pseudo_random(70_000, 11);
        for len in [
            2047, 2048, 2049, 2055, 2056, 4095, 4097, 5000, 16_384, 65_537, 70_000,
        ] {
            let d = &data[..len];
            assert_eq!(crc32(d), bitwise(d), "len {len}");
            let mut c = Crc32::new();
            c.update(&d[..1234]);
            c.update(&d[1234..]);
            assert_eq!(c.finish(), bitwise(d), "len {len} split");
        }
    }
}
