//! Huffman codes for deflate: length-limited code lengths from symbol
//! frequencies, and the canonical codes those lengths define (RFC 1951 §3.2.2).

/// Largest alphabet handled (the literal/length alphabet).
const MAX_SYMBOLS: usize = 286;

/// Computes code lengths of at most `max_bits` for `freqs` into `lens`
/// (`lens.len() == freqs.len()`); unused symbols get length 0.
///
/// Lengths come from an optimal Huffman tree (two-queue construction over the
/// symbols sorted by frequency). When a length exceeds `max_bits`, lengths are
/// clamped and the code is made complete again by moving leaves down one
/// level at a time, shortest first (as miniz does), which keeps the result
/// close to optimal. Like zlib, a code always gets at least two entries (a lone
/// or absent symbol is given partners of length 1), so every code is complete,
/// which every decoder accepts.
pub(crate) fn build_lengths(freqs: &[u32], max_bits: u32, lens: &mut [u8]) {
    debug_assert!(freqs.len() <= MAX_SYMBOLS && lens.len() == freqs.len());
    lens.fill(0);
    // Leaves as `frequency << 16 | symbol`: sorted by frequency, then
    // symbol, with one integer comparison.
    let mut leaves = [0u64; MAX_SYMBOLS];
    let mut m = 0;
    for (sym, &f) in freqs.iter().enumerate() {
        if f > 0 {
            leaves[m] = (f as u64) << 16 | sym as u64;
            m += 1;
        }
    }
    let freq = |leaf: u64| (leaf >> 16) as u32;
    let symbol = |leaf: u64| (leaf & 0xffff) as usize;
    match m {
        0 => {
            lens[0] = 1;
            lens[1] = 1;
            return;
        }
        1 => {
            let s = symbol(leaves[0]);
            lens[s] = 1;
            lens[if s == 0 { 1 } else { 0 }] = 1;
            return;
        }
        _ => {}
    }
    let leaves = &mut leaves[..m];
    leaves.sort_unstable();

    // Nodes 0..m are leaves, m..2m-1 internal nodes in creation order, whose
    // weights never decrease, so the two smallest are always at a queue head.
    let mut weight = [0u32; MAX_SYMBOLS];
    let mut parent = [0u16; 2 * MAX_SYMBOLS];
    let (mut next_leaf, mut next_inner) = (0, 0);
    for k in 0..m - 1 {
        let mut w = 0;
        for _ in 0..2 {
            if next_leaf < m && (next_inner >= k || freq(leaves[next_leaf]) <= weight[next_inner]) {
                w += freq(leaves[next_leaf]);
                parent[next_leaf] = (m + k) as u16;
                next_leaf += 1;
            } else {
                w += weight[next_inner];
                parent[m + next_inner] = (m + k) as u16;
                next_inner += 1;
            }
        }
        weight[k] = w;
    }
    let root = 2 * m - 2;
    let mut depth = [0u16; 2 * MAX_SYMBOLS];
    for node in (0..root).rev() {
        depth[node] = depth[parent[node] as usize] + 1;
    }

    let mut count = [0u32; 16];
    for &d in &depth[..m] {
        count[(d as u32).min(max_bits) as usize] += 1;
    }
    let mut kraft: u32 = (1..=max_bits)
        .map(|l| count[l as usize] << (max_bits - l))
        .sum();
    while kraft > 1 << max_bits {
        count[max_bits as usize] -= 1;
        for l in (1..max_bits as usize).rev() {
            if count[l] > 0 {
                count[l] -= 1;
                count[l + 1] += 2;
                break;
            }
        }
        kraft -= 1;
    }
    // Most frequent symbols (at the end of `leaves`) take the shortest codes.
    let mut i = m;
    for (l, &n) in count.iter().enumerate().take(max_bits as usize + 1).skip(1) {
        for _ in 0..n {
            i -= 1;
            lens[symbol(leaves[i])] = l as u8;
        }
    }
}

/// Assigns canonical codes to `lens`, bit-reversed so that the LSB-first bit
/// writer emits them most significant bit first, as deflate requires.
pub(crate) fn canonical_codes(lens: &[u8], codes: &mut [u16]) {
    let mut count = [0u16; 16];
    for &l in lens {
        count[l as usize] += 1;
    }
    count[0] = 0;
    let mut next = [0u16; 16];
    let mut code = 0u16;
    for bits in 1..16 {
        code = (code + count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (sym, &l) in lens.iter().enumerate() {
        if l > 0 {
            codes[sym] = next[l as usize].reverse_bits() >> (16 - l);
            next[l as usize] += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kraft_sum(lens: &[u8], max: u32) -> u64 {
        lens.iter()
            .filter(|&&l| l > 0)
            .map(|&l| 1u64 << (max - l as u32))
            .sum()
    }

    #[test]
    fn optimal_for_small_cases() {
        let mut lens = [0u8; 4];
        build_lengths(&[1, 1, 2, 4], 15, &mut lens);
        assert_eq!(lens, [3, 3, 2, 1]);
        build_lengths(&[0, 5, 0, 0], 15, &mut lens);
        assert_eq!(lens, [1, 1, 0, 0]);
        build_lengths(&[0, 0, 0, 0], 15, &mut lens);
        assert_eq!(lens, [1, 1, 0, 0]);
    }

    #[test]
    fn fibonacci_frequencies_are_limited_and_complete() {
        // Fibonacci weights give the deepest possible tree.
        let mut freqs = [0u32; 40];
        let (mut a, mut b) = (1u32, 1u32);
        for f in freqs.iter_mut() {
            *f = a;
            (a, b) = (b, a.saturating_add(b));
        }
        for max in [7, 9, 15] {
            let mut lens = [0u8; 40];
            build_lengths(&freqs, max, &mut lens);
            assert!(lens.iter().all(|&l| l >= 1 && l as u32 <= max));
            assert_eq!(kraft_sum(&lens, max), 1 << max, "max {max}");
            // More frequent symbols never get longer codes.
            for i in 1..40 {
                assert!(lens[i] <= lens[i - 1]);
            }
        }
    }

    #[test]
    fn canonical_codes_follow_rfc_example() {
        // RFC 1951 §3.2.2: lengths (3,3,3,3,3,2,4,4) give codes
        // 010 011 100 101 110 00 1110 1111.
        let lens = [3u8, 3, 3, 3, 3, 2, 4, 4];
        let mut codes = [0u16; 8];
        canonical_codes(&lens, &mut codes);
        let expect = [0b010u16, 0b011, 0b100, 0b101, 0b110, 0b00, 0b1110, 0b1111];
        for i in 0..8 {
            let rev = codes[i].reverse_bits() >> (16 - lens[i]);
            assert_eq!(rev, expect[i], "symbol {i}");
        }
    }
}
