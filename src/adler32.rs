//! Adler-32, the checksum in the zlib trailer (RFC 1950), computed incrementally.
//!
//! The fast path keeps [`LANES`] independent pairs of sums, one per byte
//! position within a group of `LANES` bytes, so the inner loop is a plain
//! element-wise add the compiler turns into vector instructions. The inner
//! loop adds in 16-bit lanes (eight to a 128-bit register), over runs of
//! [`RUN`] groups short enough that they cannot overflow; each run is then
//! added into 32-bit lane sums, which are folded back into the two scalar
//! sums at the end of every block.

/// The largest prime below 2^16, the modulus of both sums.
const MOD: u32 = 65_521;

/// The most bytes that can be summed before the 32-bit `b` sum must be reduced:
/// 5552 is the largest `n` with `255·n·(n+1)/2 + (n+1)·(MOD−1) < 2^32`, the worst
/// case of all bytes 0xFF starting from sums of `MOD − 1`.
const NMAX: usize = 5552;

/// Number of independent lanes. Each lane sums every `LANES`-th byte, so a
/// lane's sums see `NMAX` bytes in a block of `LANES · NMAX`.
const LANES: usize = 16;
const BLOCK: usize = LANES * NMAX;
/// Groups of `LANES` bytes summed in 16-bit lanes before widening: the
/// running sum of a lane's running byte sums stays below
/// `255 · RUN · (RUN + 1) / 2 = 34 680 < 2^16`.
const RUN: usize = 16;

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
        let (body, tail) = data.split_at(data.len() - data.len() % LANES);
        let (mut a, mut b) = (self.a, self.b);
        // Lane i sums bytes i, i + 16, i + 32, ...: `la[i]` their sum and
        // `lb[i]` the running sum of `la[i]` after each group of sixteen.
        let mut la = [0u32; LANES];
        let mut lb = [0u32; LANES];
        for block in body.chunks(BLOCK) {
            for run in block.chunks(LANES * RUN) {
                // The same two sums over this run alone, from zero.
                let mut ra = [0u16; LANES];
                let mut rb = [0u16; LANES];
                for group in run.chunks_exact(LANES) {
                    for i in 0..LANES {
                        ra[i] += group[i] as u16;
                        rb[i] += ra[i];
                    }
                }
                // Each of the run's groups also added the lane's earlier sum.
                let groups = (run.len() / LANES) as u32;
                for i in 0..LANES {
                    lb[i] += groups * la[i] + rb[i] as u32;
                    la[i] += ra[i] as u32;
                }
            }
            // What `a` before this block adds to `b` for each byte.
            b += (block.len() as u32 % MOD) * a;
            for i in 0..LANES {
                la[i] %= MOD;
                lb[i] %= MOD;
            }
            b %= MOD;
        }
        // A byte in lane i of group k (of m) carries weight 16·(m − k) − i
        // in `b`; `lb` counted it m − k + 1 times, hence 16·lb[i] − i·la[i].
        for i in 0..LANES {
            a += la[i];
            b += LANES as u32 * lb[i] + (MOD - la[i]) * i as u32;
        }
        a %= MOD;
        b %= MOD;
        for &x in tail {
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

/// The Adler-32 of two pieces of data joined, from the checksum of each
/// and the length of the second (zlib's `adler32_combine`): the parallel
/// writer checksums each segment on its own thread and joins them in order.
///
/// With `a` the sum of the bytes plus one and `b` the sum of the running
/// `a` after each byte, the second piece's bytes add `a2 − 1` to the first
/// piece's `a`; and each of its `len2` steps adds to `b` the first piece's
/// `a1` on top of its own running sum, so `b = b1 + b2 + len2·(a1 − 1)`,
/// all modulo [`MOD`].
#[cfg(feature = "std")]
pub(crate) fn combine(adler1: u32, adler2: u32, len2: u64) -> u32 {
    let m = MOD as u64;
    let rem = len2 % m;
    let (a1, b1) = ((adler1 & 0xffff) as u64, (adler1 >> 16) as u64);
    let (a2, b2) = ((adler2 & 0xffff) as u64, (adler2 >> 16) as u64);
    // `m − 1` and `m − rem` keep the subtractions of 1 and of `rem` from
    // going below zero; every term is below 2^34, far from overflow.
    let a = (a1 + a2 + m - 1) % m;
    let b = (b1 + b2 + rem * a1 + m - rem) % m;
    ((b << 16) | a) as u32
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

    #[cfg(feature = "std")]
    #[test]
    fn combine_matches_the_checksum_of_the_joined_data() {
        let mut x = 99u32;
        let data: Vec<u8> = (0..200_000)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                // Long stretches of 0xFF push both sums towards the modulus.
                if (i / 7000) % 3 == 0 {
                    0xff
                } else {
                    (x >> 16) as u8
                }
            })
            .collect();
        let mod_len = MOD as usize;
        for split in [0, 1, 15, 5552, 65_520, 65_521, 65_522, 100_000, 200_000] {
            for end in [
                split,
                split + 1,
                split + mod_len,
                split + 2 * mod_len + 7,
                200_000,
            ] {
                let end = end.min(data.len());
                let (first, second) = (&data[..split], &data[split..end]);
                assert_eq!(
                    combine(plain(first), plain(second), second.len() as u64),
                    plain(&data[..end]),
                    "split {split} end {end}"
                );
            }
        }
        // Many pieces joined one after another, as the writer does.
        let mut sum = plain(&[]);
        for piece in data.chunks(12_345) {
            sum = combine(sum, plain(piece), piece.len() as u64);
        }
        assert_eq!(sum, plain(&data));
        // Lengths beyond 32 bits: zeros change neither sum's bytes, only
        // the weights, so the checksum of 2^32 + 3 zeros after `x` is
        // known without hashing them: a stays, b grows by a·len.
        let head = plain(b"x");
        let len: u64 = (1 << 32) + 3;
        let zeros = (((len % MOD as u64) as u32) << 16) | 1;
        let (a, b) = (head & 0xffff, head >> 16);
        let want = (((b as u64 + a as u64 * len) % MOD as u64) as u32) << 16 | a;
        assert_eq!(combine(head, zeros, len), want);
    }

    #[test]
    fn worst_case_bytes_do_not_overflow() {
        let data = [0xffu8; 3 * BLOCK + 17];
        assert_eq!(adler32(&data), plain(&data));
        let mut h = Adler32::new();
        for piece in data.chunks(BLOCK - 1) {
            h.update(piece);
        }
        assert_eq!(h.finish(), plain(&data));
    }

    #[test]
    fn matches_plain_on_lengths_and_splits() {
        let mut x = 12345u32;
        let data: Vec<u8> = (0..3 * BLOCK)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        for len in (0..200).chain([
            NMAX - 1,
            NMAX,
            NMAX + 1,
            BLOCK - 1,
            BLOCK,
            BLOCK + 3,
            20_000,
        ]) {
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
