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

    /// Pads with zero bits to the next byte boundary and moves every pending
    /// byte to `out`.
    pub(crate) fn align(&mut self) {
        let bytes = self.nbits.div_ceil(8);
        self.out
            .extend_from_slice(&self.acc.to_le_bytes()[..bytes as usize]);
        self.acc = 0;
        self.nbits = 0;
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
}
