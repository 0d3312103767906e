//! The LSB-first bit writer that deflate output goes through.

use alloc::vec::Vec;

/// Packs bit fields LSB-first into bytes appended to `out`.
///
/// Up to 63 bits wait in `acc`; whole 32-bit words are moved to `out` as soon
/// as they are complete, so every `put` does at most one small append.
#[derive(Debug, Default)]
pub(crate) struct BitWriter {
    pub(crate) out: Vec<u8>,
    acc: u64,
    nbits: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `value` (`n <= 32`).
    #[inline(always)]
    pub(crate) fn put(&mut self, value: u32, n: u32) {
        debug_assert!(n <= 32 && (n == 32 || value >> n == 0));
        self.acc |= (value as u64) << self.nbits;
        self.nbits += n;
        if self.nbits >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.nbits -= 32;
        }
    }

    /// Empties the writer, keeping the output buffer's memory.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn reset(&mut self) {
        self.out.clear();
        self.acc = 0;
        self.nbits = 0;
    }

    /// Bits written so far.
    #[cfg(test)]
    pub(crate) fn bits(&self) -> u64 {
        self.out.len() as u64 * 8 + self.nbits as u64
    }

    /// Whether the output ends on a byte boundary, nothing pending.
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) fn is_aligned(&self) -> bool {
        self.nbits == 0
    }

    /// Pads with zero bits to the next byte boundary and moves every pending
    /// byte to `out`.
    pub(crate) fn align(&mut self) {
        let bytes = self.nbits.div_ceil(8);
        self.out
            .extend_from_slice(&self.acc.to_le_bytes()[..bytes as usize]);
        self.acc = 0;
        self.nbits = 0;
    }

    /// Runs `f` with a [`FastBits`] over the stream, with room made for
    /// `room` more bytes (`f` must write no more). The writer goes to `f`
    /// by value and comes back as its result, so that its fields can live
    /// in registers. The room is made at the end of the output, or, with
    /// `scratch`, in that buffer, which keeps its bytes from one call to
    /// the next (room made in the output is zeroed each time, which costs
    /// when the room is much larger than what is written).
    pub(crate) fn with_fast(
        &mut self,
        room: usize,
        scratch: Option<&mut Vec<u8>>,
        f: impl for<'a> FnOnce(FastBits<'a>) -> FastBits<'a>,
    ) {
        let whole = (self.nbits / 8) as usize;
        self.out.extend_from_slice(&self.acc.to_le_bytes()[..whole]);
        let start = self.out.len();
        // Eight bytes of slack: every write stores a whole `u64`.
        let (acc, nbits) = (self.acc >> (8 * whole), self.nbits % 8);
        let (pos, acc, nbits) = match scratch {
            Some(scratch) => {
                if scratch.len() < room + 8 {
                    scratch.resize(room + 8, 0);
                }
                let fast = f(FastBits {
                    buf: &mut scratch[..],
                    pos: 0,
                    acc,
                    nbits,
                });
                let (pos, acc, nbits) = (fast.pos, fast.acc, fast.nbits);
                self.out.extend_from_slice(&scratch[..pos]);
                (pos, acc, nbits)
            }
            None => {
                self.out.resize(start + room + 8, 0);
                let fast = f(FastBits {
                    buf: &mut self.out[start..],
                    pos: 0,
                    acc,
                    nbits,
                });
                let (pos, acc, nbits) = (fast.pos, fast.acc, fast.nbits);
                self.out.truncate(start + pos);
                (pos, acc, nbits)
            }
        };
        debug_assert!(pos <= room + 1);
        self.acc = acc;
        self.nbits = nbits;
    }
}

/// The bit writer of the hot coding loops, over room made in advance: every
/// `put` stores eight bytes at the write position and advances past the
/// whole bytes among them, with no branch on how full the accumulator is.
/// Bytes past `pos` in `buf` are scratch.
pub(crate) struct FastBits<'a> {
    buf: &'a mut [u8],
    /// End of the finished bytes.
    pos: usize,
    /// Bits not yet in a finished byte: at most 7 between calls.
    acc: u64,
    nbits: u32,
}

impl FastBits<'_> {
    /// Appends the low `n` bits of `value` (`n <= 56`).
    #[inline(always)]
    pub(crate) fn put(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 56 && self.nbits <= 7 && value >> n == 0);
        self.acc |= value << self.nbits;
        self.nbits += n;
        self.buf[self.pos..self.pos + 8].copy_from_slice(&self.acc.to_le_bytes());
        let bytes = self.nbits / 8;
        self.pos += bytes as usize;
        self.acc >>= 8 * bytes;
        self.nbits %= 8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_lsb_first() {
        let mut w = BitWriter::default();
        w.put(0b1, 1);
        w.put(0b10, 2);
        w.put(0b11111, 5);
        w.put(0xABCD, 16);
        w.put(0xFFFF_FFFF, 32);
        w.put(0b101, 3);
        w.align();
        assert_eq!(
            w.out,
            [0b1111_1101, 0xCD, 0xAB, 0xFF, 0xFF, 0xFF, 0xFF, 0b101]
        );
    }

    /// The fast writer against the plain one: the same fields in the same
    /// order give the same bytes, whatever is pending when it takes over.
    #[test]
    fn fast_bits_match_the_plain_writer() {
        let mut x = 12345u64;
        let mut fields = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 57) as u32;
            fields.push((x >> 8 & ((1u64 << n) - 1), n));
        }
        for lead in 0..40u32 {
            let (mut plain, mut mixed) = (BitWriter::default(), BitWriter::default());
            let n = lead.min(32);
            for w in [&mut plain, &mut mixed] {
                w.put(0x5A5A_5A5A & ((1u64 << n) - 1) as u32, n);
            }
            let split = fields.len() / 2;
            for &(v, n) in &fields {
                // The plain writer takes at most 32 bits at a time.
                plain.put(v as u32, n.min(32));
                if n > 32 {
                    plain.put((v >> 32) as u32, n - 32);
                }
            }
            let halves = [&fields[..split], &fields[split..]];
            for half in halves {
                let bytes = half.iter().map(|f| f.1 as usize).sum::<usize>().div_ceil(8);
                mixed.with_fast(bytes, None, |mut fast| {
                    for &(v, n) in half {
                        fast.put(v, n);
                    }
                    fast
                });
            }
            plain.align();
            mixed.align();
            assert_eq!(plain.out, mixed.out, "lead {lead}");
        }
    }
}
