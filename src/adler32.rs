//! Adler-32, the checksum in the zlib trailer (RFC 1950), computed incrementally.
//!
//! The fast path keeps [`LANES`] independent pairs of sums, one per byte
//! position within a group of `LANES` bytes, so the inner loop is a plain
//! element-wise add the compiler turns into vector instructions. The lanes are
//! folded back into the two scalar sums at the end of every block.

/// The largest prime below 2^16, the modulus of both sums.
const MOD: u32 = 65_521;

/// The most bytes that can be summed before the 32-bit `b` sum must be reduced:
/// 5552 is the largest `n` with `255·n·(n+1)/2 + (n+1)·(MOD−1) < 2^32`, the worst
/// case of all bytes 0xFF starting from sums of `MOD − 1`.
const NMAX: usize = 5552;

/// Number of independent lanes; a block of `NMAX` bytes holds whole groups of
/// `LANES` bytes because 5552 = 16 · 347.
const LANES: usize = 16;
const _: () = assert!(NMAX % LANES == 0);

/// An incremental Adler-32 hasher.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Adler32 {
    a: u32,
    b: u32,
}

impl Adler32 {
    pub(crate) const fn new() -> Self {
        Adler32 { a: 1, b: 0 }
    }

    pub(crate) fn update(&mut self, data: &[u8]) {
        let (mut a, mut b) = (self.a, self.b);
        let mut blocks = data.chunks_exact(NMAX);
        for block in &mut blocks {
            (a, b) = lanes(a, b, block);
        }
        let rest = blocks.remainder();
        let whole = rest.len() - rest.len() % LANES;
        (a, b) = lanes(a, b, &rest[..whole]);
        for &x in &rest[whole..] {
            a += x as u32;
            b += a;
        }
        self.a = a % MOD;
        self.b = b % MOD;
    }

    pub(crate) fn finish(self) -> u32 {
        (self.b << 16) | self.a
    }
}

/// Adds `block` (a multiple of `LANES` bytes, at most `NMAX`) to the sums and
/// returns them reduced.
///
/// Lane `i` sees bytes `i, i + L, i + 2L, …`; `la[i]` is their sum and `lb[i]`
/// the sum of `la[i]` after each group. A byte at lane `i` of group `k` (of `m`
/// groups) carries weight `L·(m − k) − i` in `b`, which gives the fold below.
fn lanes(a: u32, b: u32, block: &[u8]) -> (u32, u32) {
    debug_assert!(block.len() % LANES == 0 && block.len() <= NMAX);
    let mut la = [0u32; LANES];
    let mut lb = [0u32; LANES];
    for group in block.chunks_exact(LANES) {
        for i in 0..LANES {
            la[i] += group[i] as u32;
            lb[i] += la[i];
        }
    }
    let n = block.len() as u64;
    let mut sum_a = a as u64;
    let mut sum_b = b as u64 + n * a as u64;
    for i in 0..LANES {
        sum_a += la[i] as u64;
        // lb[i] >= la[i] and LANES > i, so this never goes below zero.
        sum_b += LANES as u64 * lb[i] as u64 - i as u64 * la[i] as u64;
    }
    ((sum_a % MOD as u64) as u32, (sum_b % MOD as u64) as u32)
}

/// Adler-32 of `data` in one call.
#[cfg(test)]
pub(crate) fn adler32(data: &[u8]) -> u32 {
    let mut h = Adler32::new();
    h.update(data);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The definition, one byte and one modulo at a time: the oracle.
    fn plain(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in data {
            a = (a + x as u32) % MOD;
            b = (b + a) % MOD;
        }
        (b << 16) | a
    }

    #[test]
    fn known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn worst_case_bytes_do_not_overflow() {
        let data = [0xffu8; 3 * NMAX + 17];
        assert_eq!(adler32(&data), plain(&data));
        let mut h = Adler32::new();
        for piece in data.chunks(NMAX - 1) {
            h.update(piece);
        }
        assert_eq!(h.finish(), plain(&data));
    }

    #[test]
    fn matches_plain_on_lengths_and_splits() {
        let mut x = 12345u32;
        let data: Vec<u8> = (0..20_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for len in (0..200).chain([NMAX - 1, NMAX, NMAX + 1, 2 * NMAX + 5, 20_000]) {
            let d = &data[..len];
            assert_eq!(adler32(d), plain(d), "len {len}");
            for split in [1, 15, 16, 33, len / 3] {
                let split = split.min(len);
                let mut h = Adler32::new();
                h.update(&d[..split]);
                h.update(&d[split..]);
                assert_eq!(h.finish(), plain(d), "len {len} split {split}");
            }
        }
    }
}
