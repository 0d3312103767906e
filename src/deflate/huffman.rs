//! Huffman codes for deflate: length-limited code lengths from symbol
//! frequencies, and the canonical codes those lengths define (RFC 1951 §3.2.2).

/// Largest alphabet handled (the literal/length alphabet).
const MAX_SYMBOLS: usize = 286;

/// Bits of a leaf key that hold the symbol; the frequency is above them.
const SYMBOL_BITS: u32 = 9;
const _: () = assert!(MAX_SYMBOLS <= 1 << SYMBOL_BITS);

/// The largest frequency a key holds. Every caller's counts stay far below
/// it (a block has at most a few hundred thousand symbols); a larger one
/// would be taken as this, which still gives a valid code.
const MAX_FREQ: u32 = u32::MAX >> SYMBOL_BITS;

/// Computes code lengths of at most `max_bits` for `freqs` into `lens`
/// (`lens.len() == freqs.len()`); unused symbols get length 0.
///
/// Lengths come from an optimal Huffman tree, built in place over the
/// symbols sorted by frequency, then symbol (Moffat and Katajainen's
/// algorithm: the two-queue construction, where the internal nodes, whose
/// weights never decrease, take the places of the leaves they replace; on
/// equal weights a leaf goes first). When a length exceeds `max_bits`,
/// lengths are clamped and the code is made complete again by moving
/// leaves down one level at a time, shortest first (as miniz does), which
/// keeps the result close to optimal. Like zlib, a code always gets at
/// least two entries (a lone or absent symbol is given partners of length
/// 1), so every code is complete, which every decoder accepts.
///
/// It needs about 2.9 KB of stack and no sort from `core`, whose code
/// would take several KiB of a microcontroller's flash.
pub(crate) fn build_lengths(freqs: &[u32], max_bits: u32, lens: &mut [u8]) {
    debug_assert!(freqs.len() <= MAX_SYMBOLS && lens.len() == freqs.len());
    lens.fill(0);
    // Leaves as `frequency << SYMBOL_BITS | symbol`, in symbol order.
    let mut keys = [0u32; MAX_SYMBOLS];
    let mut m = 0;
    for (sym, &f) in freqs.iter().enumerate() {
        if f > 0 {
            keys[m] = f.min(MAX_FREQ) << SYMBOL_BITS | sym as u32;
            m += 1;
        }
    }
    let symbol = |key: u32| (key & ((1 << SYMBOL_BITS) - 1)) as usize;
    match m {
        0 => {
            lens[0] = 1;
            lens[1] = 1;
            return;
        }
        1 => {
            let s = symbol(keys[0]);
            lens[s] = 1;
            lens[if s == 0 { 1 } else { 0 }] = 1;
            return;
        }
        _ => {}
    }
    let mut spare = [0u32; MAX_SYMBOLS];
    let (leaves, a) = sort_by_frequency(&mut keys[..m], &mut spare[..m]);

    // `a` starts as the leaves' weights, in order. Internal node `k` is
    // made at `a[k]`, whose leaf has been used by then; a node, once used,
    // holds its parent's index.
    for (w, &key) in a.iter_mut().zip(leaves.iter()) {
        *w = key >> SYMBOL_BITS;
    }
    a[0] += a[1];
    let (mut root, mut leaf) = (0, 2);
    for next in 1..m - 1 {
        for first in [true, false] {
            // An internal node when no leaf is left or it weighs strictly
            // less; there is always one for the first child of a node.
            if leaf >= m || ((first || root < next) && a[root] < a[leaf]) {
                let w = a[root];
                a[root] = next as u32;
                root += 1;
                a[next] = if first { w } else { a[next] + w };
            } else {
                let w = a[leaf];
                leaf += 1;
                a[next] = if first { w } else { a[next] + w };
            }
        }
    }
    // Depths of the internal nodes: the root, made last, is at depth 0,
    // and every parent was made after its children.
    a[m - 2] = 0;
    for next in (0..m - 2).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Leaves at each depth: at depth d there are `nodes` nodes, of which
    // the internal ones are those of depth d (made ever earlier as the
    // depth grows); the others are leaves.
    let mut count = [0u32; 16];
    let (mut nodes, mut depth, mut inner) = (1u32, 0u32, m - 1);
    while nodes > 0 {
        let mut used = 0;
        while inner > 0 && a[inner - 1] == depth {
            used += 1;
            inner -= 1;
        }
        count[depth.min(max_bits) as usize] += nodes - used;
        nodes = 2 * used;
        depth += 1;
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

/// Sorts `keys` (leaves in symbol order) by frequency, then symbol, with
/// `spare` (as long) as scratch, and returns the sorted leaves and the
/// other slice. Short lists go through an insertion sort; longer ones
/// through a least-significant-digit radix sort on the frequency, a byte
/// per pass, which is stable, so that leaves of equal frequency keep their
/// symbol order. Keys are distinct, so the order is the one any sort of
/// the keys gives.
fn sort_by_frequency<'a>(
    mut keys: &'a mut [u32],
    mut spare: &'a mut [u32],
) -> (&'a mut [u32], &'a mut [u32]) {
    if keys.len() <= 32 {
        for i in 1..keys.len() {
            let key = keys[i];
            let mut j = i;
            while j > 0 && keys[j - 1] > key {
                keys[j] = keys[j - 1];
                j -= 1;
            }
            keys[j] = key;
        }
        return (keys, spare);
    }
    let highest = keys.iter().fold(0, |h, &k| h | k) >> SYMBOL_BITS;
    let mut shift = SYMBOL_BITS;
    loop {
        let digit = |key: u32| (key >> shift) as u8 as usize;
        let mut start = [0u16; 256];
        for &key in keys.iter() {
            start[digit(key)] += 1;
        }
        let mut sum = 0;
        for s in start.iter_mut() {
            (*s, sum) = (sum, sum + *s);
        }
        for &key in keys.iter() {
            let d = digit(key);
            spare[start[d] as usize] = key;
            start[d] += 1;
        }
        core::mem::swap(&mut keys, &mut spare);
        shift += 8;
        if shift >= 32 || highest >> (shift - SYMBOL_BITS) == 0 {
            return (keys, spare);
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
    use alloc::vec;
    use alloc::vec::Vec;

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

    /// The builder as it was before it ran in place: leaves sorted by
    /// `sort_unstable` as 64-bit keys, the two-queue construction with
    /// arrays of weights, parents and depths. The one above must give the
    /// same lengths, or the output would change.
    fn reference_lengths(freqs: &[u32], max_bits: u32, lens: &mut [u8]) {
        lens.fill(0);
        let mut leaves: Vec<u64> = (0..freqs.len())
            .filter(|&s| freqs[s] > 0)
            .map(|s| (freqs[s] as u64) << 16 | s as u64)
            .collect();
        let m = leaves.len();
        let freq = |leaf: u64| (leaf >> 16) as u32;
        let symbol = |leaf: u64| (leaf & 0xffff) as usize;
        if m < 2 {
            let s = leaves.first().map_or(0, |&l| symbol(l));
            lens[s] = 1;
            lens[if s == 0 { 1 } else { 0 }] = 1;
            return;
        }
        leaves.sort_unstable();
        let mut weight = vec![0u32; m];
        let mut parent = vec![0usize; 2 * m];
        let (mut next_leaf, mut next_inner) = (0, 0);
        for k in 0..m - 1 {
            let mut w = 0;
            for _ in 0..2 {
                if next_leaf < m
                    && (next_inner >= k || freq(leaves[next_leaf]) <= weight[next_inner])
                {
                    w += freq(leaves[next_leaf]);
                    parent[next_leaf] = m + k;
                    next_leaf += 1;
                } else {
                    w += weight[next_inner];
                    parent[m + next_inner] = m + k;
                    next_inner += 1;
                }
            }
            weight[k] = w;
        }
        let root = 2 * m - 2;
        let mut depth = vec![0u32; 2 * m];
        for node in (0..root).rev() {
            depth[node] = depth[parent[node]] + 1;
        }
        let mut count = [0u32; 16];
        for &d in &depth[..m] {
            count[d.min(max_bits) as usize] += 1;
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
        let mut i = m;
        for (l, &n) in count.iter().enumerate().take(max_bits as usize + 1).skip(1) {
            for _ in 0..n {
                i -= 1;
                lens[symbol(leaves[i])] = l as u8;
            }
        }
    }

    #[test]
    fn lengths_match_the_reference_builder() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for case in 0..20_000 {
            let n = [286, 30, 19, 257, 40, 3][case % 6];
            let used = (next() % (n as u64 + 1)) as usize;
            // Few distinct values (many ties), small counts, a skewed
            // spread over many magnitudes, and counts up to a few million.
            let kind = case / 6 % 4;
            let mut freqs = vec![0u32; n];
            for _ in 0..used {
                let s = (next() % n as u64) as usize;
                let r = next();
                freqs[s] = match kind {
                    0 => 1 + (r % 4) as u32,
                    1 => 1 + (r % 300) as u32,
                    2 => 1 + (r >> 8) as u32 % (1u32 << (r % 20)),
                    _ => 1 + (r >> 8) as u32 % 4_000_000,
                };
            }
            for max in [7, 13, 15] {
                let (mut got, mut want) = (vec![0u8; n], vec![0u8; n]);
                build_lengths(&freqs, max, &mut got);
                reference_lengths(&freqs, max, &mut want);
                assert_eq!(got, want, "case {case} max {max} freqs {freqs:?}");
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
