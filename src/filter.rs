//! Scanline filters (PNG §9): each row is turned into differences from its
//! neighbours before compression, which makes smooth images compressible.
//!
//! Encoding filters read only unfiltered bytes, so every output byte is
//! independent of the others and the loops below vectorise. The adaptive
//! choice tries the four predicting filters and keeps the one whose output
//! has the smallest sum of absolute values (bytes read as signed), libpng's
//! heuristic; the entropy choice tries all five and keeps the one whose
//! residual bytes have the lowest Shannon entropy. Either stops early at a
//! residual that costs nothing.

/// A scanline filter, or the per-row adaptive choice among them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Filter {
    /// Bytes as they are.
    None,
    /// Difference from the byte one pixel to the left.
    Sub,
    /// Difference from the byte above.
    Up,
    /// Difference from the mean of left and above.
    Average,
    /// Difference from the Paeth predictor of left, above and upper-left.
    Paeth,
    /// Per row, whichever of Sub, Up, Average and Paeth gives the smallest
    /// sum of absolute differences (libpng's heuristic; `None` practically
    /// never wins it and is not tried).
    Adaptive,
    /// Per row, whichever of the five gives residual bytes of the lowest
    /// Shannon entropy: a closer estimate of the compressed size than
    /// [`Filter::Adaptive`], at about twice its cost.
    Entropy,
}

impl Filter {
    /// The five filters a row can carry, in PNG's numbering (0–4).
    #[cfg(test)]
    pub(crate) const ROW_FILTERS: [Filter; 5] = [
        Filter::None,
        Filter::Sub,
        Filter::Up,
        Filter::Average,
        Filter::Paeth,
    ];

    /// Every filter choice, for tests and benchmarks.
    pub const ALL: [Filter; 7] = [
        Filter::None,
        Filter::Sub,
        Filter::Up,
        Filter::Average,
        Filter::Paeth,
        Filter::Adaptive,
        Filter::Entropy,
    ];

    fn type_byte(self) -> u8 {
        match self {
            Filter::None | Filter::Adaptive | Filter::Entropy => 0,
            Filter::Sub => 1,
            Filter::Up => 2,
            Filter::Average => 3,
            Filter::Paeth => 4,
        }
    }
}

/// Filters `cur` with `kind` against `prev` (the unfiltered row above, all
/// zero for the first row) into `out`, whose first byte receives the filter
/// type. `bpp` is the distance in bytes to the corresponding byte of the pixel
/// to the left: bytes per pixel, rounded up to 1 for sub-byte pixels.
/// `kind` must not be [`Filter::Adaptive`].
pub(crate) fn apply(kind: Filter, cur: &[u8], prev: &[u8], bpp: usize, out: &mut [u8]) {
    debug_assert!(kind != Filter::Adaptive && kind != Filter::Entropy);
    debug_assert!(prev.len() == cur.len() && out.len() == cur.len() + 1);
    out[0] = kind.type_byte();
    let out = &mut out[1..];
    let n = cur.len();
    let b = bpp.min(n);
    match kind {
        Filter::None | Filter::Adaptive | Filter::Entropy => out.copy_from_slice(cur),
        Filter::Sub => {
            out[..b].copy_from_slice(&cur[..b]);
            for ((o, &x), &a) in out[b..].iter_mut().zip(&cur[b..]).zip(&cur[..n - b]) {
                *o = x.wrapping_sub(a);
            }
        }
        Filter::Up => {
            for ((o, &x), &u) in out.iter_mut().zip(cur).zip(prev) {
                *o = x.wrapping_sub(u);
            }
        }
        Filter::Average => {
            for ((o, &x), &u) in out[..b].iter_mut().zip(cur).zip(prev) {
                *o = x.wrapping_sub(u >> 1);
            }
            let rest = out[b..].iter_mut().zip(&cur[b..]).zip(&cur[..n - b]);
            for (((o, &x), &a), &u) in rest.zip(&prev[b..]) {
                // (a + u) / 2 without widening: the carry-less half-sum.
                *o = x.wrapping_sub((a & u) + ((a ^ u) >> 1));
            }
        }
        Filter::Paeth => {
            // With a = c = 0 on the left edge, Paeth picks the byte above.
            for ((o, &x), &u) in out[..b].iter_mut().zip(cur).zip(prev) {
                *o = x.wrapping_sub(u);
            }
            let rest = out[b..].iter_mut().zip(&cur[b..]).zip(&cur[..n - b]);
            for ((((o, &x), &a), &u), &c) in rest.zip(&prev[b..]).zip(&prev[..n - b]) {
                *o = x.wrapping_sub(paeth(a, u, c));
            }
        }
    }
}

/// The Paeth predictor (PNG §9.4), written branch-free on small integers.
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (a16, b16, c16) = (a as i16, b as i16, c as i16);
    let pa = (b16 - c16).abs();
    let pb = (a16 - c16).abs();
    let pc = (a16 + b16 - 2 * c16).abs();
    let ab = if pb < pa { b } else { a };
    let pab = pa.min(pb);
    if pc < pab { c } else { ab }
}

/// Sum of the filtered bytes read as signed magnitudes, libpng's estimate of
/// how well a row will compress.
#[cfg(test)]
pub(crate) fn cost(filtered: &[u8]) -> u64 {
    filtered.iter().map(|&x| abs8(x) as u64).sum()
}

#[inline(always)]
fn abs8(x: u8) -> u32 {
    (x as i8).unsigned_abs() as u32
}

/// log2 of a positive integer, to about 0.01: the exponent of its `f32`
/// form plus a quadratic fit of log2 over the mantissa in [1, 2).
/// (`core` has no logarithm; this needs only bit manipulation.)
fn log2_approx(x: u32) -> f32 {
    let bits = (x as f32).to_bits();
    let exp = ((bits >> 23) & 0xff) as f32 - 127.0;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000) - 1.0;
    exp + m * (1.3465 - 0.3465 * m)
}

/// Estimated bits to code `residuals` with a code fitted to them alone:
/// `n·log2(n) − Σ c·log2(c)` over their byte histogram.
fn entropy(residuals: &[u8]) -> f32 {
    // Four histograms filled in turn: runs of one value (common in filtered
    // rows) would otherwise make every increment wait for the one before.
    let mut hists = [[0u32; 256]; 4];
    let mut quads = residuals.chunks_exact(4);
    for q in &mut quads {
        hists[0][q[0] as usize] += 1;
        hists[1][q[1] as usize] += 1;
        hists[2][q[2] as usize] += 1;
        hists[3][q[3] as usize] += 1;
    }
    for &r in quads.remainder() {
        hists[0][r as usize] += 1;
    }
    let n = residuals.len() as u32;
    let mut sum = 0.0f32;
    let [h0, h1, h2, h3] = &hists;
    for (((&a, &b), &c), &d) in h0.iter().zip(h1).zip(h2).zip(h3) {
        let c = a + b + c + d;
        if c > 1 {
            sum += c as f32 * log2_approx(c);
        }
    }
    n as f32 * log2_approx(n.max(1)) - sum
}

/// Filters `cur` with the entropy choice (see [`Filter::Entropy`]).
pub(crate) fn apply_min_entropy(
    cur: &[u8],
    prev: &[u8],
    bpp: usize,
    out: &mut [u8],
    scratch: &mut [u8],
) {
    apply_cheapest(&ALL_FIVE, cur, prev, bpp, out, scratch, entropy);
}

/// Sum of |byte as i8| over `buf`, in 32-byte pieces whose sums fit in the
/// narrow integers the vectorised inner loop adds in.
fn sum_abs(buf: &[u8]) -> u64 {
    let mut pieces = buf.chunks_exact(32);
    let mut total = 0u64;
    for piece in &mut pieces {
        let piece: &[u8; 32] = piece.try_into().unwrap();
        total += piece.iter().map(|&x| abs8(x)).sum::<u32>() as u64;
    }
    total
        + pieces
            .remainder()
            .iter()
            .map(|&x| abs8(x) as u64)
            .sum::<u64>()
}

/// The candidates of [`Filter::Entropy`]: every row filter.
const ALL_FIVE: [Filter; 5] = [
    Filter::None,
    Filter::Sub,
    Filter::Up,
    Filter::Average,
    Filter::Paeth,
];

/// The candidates of [`Filter::Adaptive`]: the four that predict. Raw bytes
/// read as signed magnitudes score high on the sum, so `None` practically
/// never wins it (the png crate leaves it out too); on the benchmark corpus
/// dropping it made the files no larger, and it saves a fifth of the work.
const PREDICTING: [Filter; 4] = [Filter::Sub, Filter::Up, Filter::Average, Filter::Paeth];

/// Filters `cur` with the adaptive choice (see [`Filter::Adaptive`]).
pub(crate) fn apply_adaptive(
    cur: &[u8],
    prev: &[u8],
    bpp: usize,
    out: &mut [u8],
    scratch: &mut [u8],
) {
    apply_cheapest(&PREDICTING, cur, prev, bpp, out, scratch, sum_abs);
}

/// Applies each candidate filter into one of two row buffers (vectorised)
/// and rates the result with `cost`; the cheapest (the first of equals) ends
/// in `out`. Both buffers are `cur.len() + 1` long and reused across rows, so
/// nothing is allocated; the two swap roles instead of copying the leader.
fn apply_cheapest<C: PartialOrd + Default>(
    candidates: &[Filter],
    cur: &[u8],
    prev: &[u8],
    bpp: usize,
    out: &mut [u8],
    scratch: &mut [u8],
    cost: impl Fn(&[u8]) -> C,
) {
    let (mut best_buf, mut trial): (&mut [u8], &mut [u8]) = (out, scratch);
    let mut best: Option<C> = None;
    let mut best_in_scratch = false;
    for &kind in candidates {
        apply(kind, cur, prev, bpp, trial);
        let c = cost(&trial[1..]);
        if best.as_ref().is_none_or(|b| c < *b) {
            // A cost of zero (an all-zero or constant residual) cannot be
            // beaten: the remaining filters are not tried.
            let perfect = c <= C::default();
            best = Some(c);
            core::mem::swap(&mut best_buf, &mut trial);
            best_in_scratch = !best_in_scratch;
            if perfect {
                break;
            }
        }
    }
    if best_in_scratch {
        // `trial` is `out` again: move the winner there.
        trial.copy_from_slice(best_buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// PNG §9.4's Paeth predictor, spelled out.
    fn paeth_spec(a: u8, b: u8, c: u8) -> u8 {
        let p = a as i32 + b as i32 - c as i32;
        let (pa, pb, pc) = (
            (p - a as i32).abs(),
            (p - b as i32).abs(),
            (p - c as i32).abs(),
        );
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    /// The filter definitions byte by byte, with out-of-row neighbours as 0.
    fn naive(kind: Filter, cur: &[u8], prev: &[u8], bpp: usize) -> Vec<u8> {
        let mut out = vec![kind.type_byte()];
        for i in 0..cur.len() {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let pred = match kind {
                Filter::None | Filter::Adaptive | Filter::Entropy => 0,
                Filter::Sub => a,
                Filter::Up => b,
                Filter::Average => ((a as u16 + b as u16) / 2) as u8,
                Filter::Paeth => paeth_spec(a, b, c),
            };
            out.push(cur[i].wrapping_sub(pred));
        }
        out
    }

    /// The decoder's inverse, to check that filtering loses nothing.
    fn unfilter(filtered: &[u8], prev: &[u8], bpp: usize) -> Vec<u8> {
        let mut cur: Vec<u8> = Vec::with_capacity(prev.len());
        for i in 0..prev.len() {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            let pred = match filtered[0] {
                0 => 0,
                1 => a,
                2 => b,
                3 => ((a as u16 + b as u16) / 2) as u8,
                _ => paeth_spec(a, b, c),
            };
            cur.push(filtered[i + 1].wrapping_add(pred));
        }
        cur
    }

    #[test]
    fn paeth_matches_spec_on_all_inputs() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                for c in (0..=255u8).step_by(3) {
                    assert_eq!(paeth(a, b, c), paeth_spec(a, b, c), "{a} {b} {c}");
                }
            }
        }
    }

    #[test]
    fn filters_match_naive_and_invert() {
        let mut x = 77u32;
        let mut rnd = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (x >> 24) as u8
                })
                .collect()
        };
        for bpp in [1, 2, 3, 4, 6, 8] {
            for len in [1, 2, 3, 5, 8, 31, 32, 33, 100, 257] {
                let cur = rnd(len);
                let prev = rnd(len);
                for kind in Filter::ROW_FILTERS {
                    let mut out = vec![0; len + 1];
                    apply(kind, &cur, &prev, bpp, &mut out);
                    assert_eq!(
                        out,
                        naive(kind, &cur, &prev, bpp),
                        "{kind:?} bpp {bpp} len {len}"
                    );
                    assert_eq!(unfilter(&out, &prev, bpp), cur);
                }
                for kind in Filter::ROW_FILTERS {
                    let filtered = naive(kind, &cur, &prev, bpp);
                    assert_eq!(sum_abs(&filtered[1..]), cost(&filtered[1..]));
                }
                let (mut out, mut scratch) = (vec![0; len + 1], vec![0; len + 1]);
                apply_adaptive(&cur, &prev, bpp, &mut out, &mut scratch);
                let best = PREDICTING
                    .iter()
                    .map(|&k| cost(&naive(k, &cur, &prev, bpp)[1..]))
                    .min()
                    .unwrap();
                assert_eq!(cost(&out[1..]), best);
                assert_eq!(unfilter(&out, &prev, bpp), cur);
            }
        }
    }

    #[test]
    fn zero_cost_shortcuts_keep_the_minimum() {
        // Rows equal to the one above, constant rows (Sub gives zeros after
        // the first pixel) and all-zero rows take the early exit.
        let ramp: Vec<u8> = (0..90u8).collect();
        let cases: [(Vec<u8>, Vec<u8>); 4] = [
            (ramp.clone(), ramp.clone()),
            (vec![7; 90], ramp.clone()),
            (vec![0; 90], vec![0; 90]),
            (vec![0; 90], ramp.clone()),
        ];
        for (cur, prev) in &cases {
            let (mut out, mut scratch) = (vec![9; 91], vec![9; 91]);
            apply_adaptive(cur, prev, 3, &mut out, &mut scratch);
            let best = PREDICTING
                .iter()
                .map(|&k| cost(&naive(k, cur, prev, 3)[1..]))
                .min()
                .unwrap();
            assert_eq!(cost(&out[1..]), best);
            assert_eq!(unfilter(&out, prev, 3), *cur);
            let (mut out, mut scratch) = (vec![9; 91], vec![9; 91]);
            apply_min_entropy(cur, prev, 3, &mut out, &mut scratch);
            assert_eq!(unfilter(&out, prev, 3), *cur);
        }
    }

    #[test]
    fn log2_approx_is_close() {
        for x in (1..100_000u32).step_by(7).chain([1 << 20, u32::MAX]) {
            let exact = (x as f64).log2();
            assert!((log2_approx(x) as f64 - exact).abs() < 0.01, "{x}");
        }
    }

    #[test]
    fn entropy_choice_is_near_the_exact_minimum() {
        let mut x = 5u32;
        let mut rnd = |n: usize, spread: u32| -> Vec<u8> {
            (0..n)
                .map(|i| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (i as u32 / 3 + (x >> 24) % spread) as u8
                })
                .collect()
        };
        let exact = |f: &[u8]| -> f64 {
            let mut hist = [0u32; 256];
            f.iter().for_each(|&b| hist[b as usize] += 1);
            let n = f.len() as f64;
            hist.iter()
                .filter(|&&c| c > 0)
                .map(|&c| -(c as f64) * (c as f64 / n).log2())
                .sum()
        };
        for (len, spread) in [(1, 1), (7, 3), (300, 4), (3000, 40), (3000, 256)] {
            let (cur, prev) = (rnd(len, spread), rnd(len, spread));
            let (mut out, mut scratch) = (vec![0; len + 1], vec![0; len + 1]);
            apply_min_entropy(&cur, &prev, 3, &mut out, &mut scratch);
            assert_eq!(unfilter(&out, &prev, 3), cur);
            let best = Filter::ROW_FILTERS
                .iter()
                .map(|&k| exact(&naive(k, &cur, &prev, 3)[1..]))
                .fold(f64::INFINITY, f64::min);
            // The approximate logarithm may pick a filter within a hair of the best.
            assert!(exact(&out[1..]) <= best * 1.01 + 1.0, "len {len}");
        }
    }

    #[test]
    fn cost_is_sum_of_signed_magnitudes() {
        assert_eq!(cost(&[0, 1, 255, 128, 127]), 1 + 1 + 128 + 127);
    }
}
