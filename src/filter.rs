//! Scanline filters (PNG §9): each row is turned into differences from its
//! neighbours before compression, which makes smooth images compressible.
//!
//! Encoding filters read only unfiltered bytes, so every output byte is
//! independent of the others and the loops below vectorise. The adaptive
//! choice tries every filter and keeps the one whose output has the smallest
//! sum of absolute values (bytes read as signed), libpng's heuristic.

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
    /// Per row, whichever of the five gives the smallest sum of absolute
    /// differences (the heuristic libpng uses).
    Adaptive,
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
    pub const ALL: [Filter; 6] = [
        Filter::None,
        Filter::Sub,
        Filter::Up,
        Filter::Average,
        Filter::Paeth,
        Filter::Adaptive,
    ];

    fn type_byte(self) -> u8 {
        match self {
            Filter::None | Filter::Adaptive => 0,
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
    debug_assert!(kind != Filter::Adaptive);
    debug_assert!(prev.len() == cur.len() && out.len() == cur.len() + 1);
    out[0] = kind.type_byte();
    let out = &mut out[1..];
    let n = cur.len();
    let b = bpp.min(n);
    match kind {
        Filter::None | Filter::Adaptive => out.copy_from_slice(cur),
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

/// Rows are costed in segments this long so that a segment's sum (at most
/// 128 per byte) fits in the `u32` the vectorised loops add in.
const SEGMENT: usize = 1 << 20;

/// The [`cost`] of filtering `cur` with `kind`, computed without writing the
/// filtered row: one read-only pass per candidate filter.
pub(crate) fn residual_cost(kind: Filter, cur: &[u8], prev: &[u8], bpp: usize) -> u64 {
    let n = cur.len();
    let b = bpp.min(n);
    // Left of the first pixel, the left and upper-left neighbours are zero.
    let mut total: u64 = cur[..b]
        .iter()
        .zip(&prev[..b])
        .map(|(&x, &u)| {
            let pred = match kind {
                Filter::None | Filter::Adaptive | Filter::Sub => 0,
                Filter::Up | Filter::Paeth => u,
                Filter::Average => u >> 1,
            };
            abs8(x.wrapping_sub(pred)) as u64
        })
        .sum();
    let mut start = b;
    while start < n {
        let end = (start + SEGMENT).min(n);
        let x = &cur[start..end];
        let a = &cur[start - b..end - b];
        let u = &prev[start..end];
        let c = &prev[start - b..end - b];
        let sum: u32 = match kind {
            Filter::None | Filter::Adaptive => x.iter().map(|&x| abs8(x)).sum(),
            Filter::Sub => x
                .iter()
                .zip(a)
                .map(|(&x, &a)| abs8(x.wrapping_sub(a)))
                .sum(),
            Filter::Up => x
                .iter()
                .zip(u)
                .map(|(&x, &u)| abs8(x.wrapping_sub(u)))
                .sum(),
            Filter::Average => x
                .iter()
                .zip(a)
                .zip(u)
                .map(|((&x, &a), &u)| abs8(x.wrapping_sub((a & u) + ((a ^ u) >> 1))))
                .sum(),
            Filter::Paeth => x
                .iter()
                .zip(a)
                .zip(u)
                .zip(c)
                .map(|(((&x, &a), &u), &c)| abs8(x.wrapping_sub(paeth(a, u, c))))
                .sum(),
        };
        total += sum as u64;
        start = end;
    }
    total
}

/// Filters `cur` with the adaptive choice: costs every filter without
/// writing it, then writes the cheapest (the first of equals) into `out`.
/// Nothing is allocated.
pub(crate) fn apply_adaptive(cur: &[u8], prev: &[u8], bpp: usize, out: &mut [u8]) {
    let mut best = (u64::MAX, Filter::None);
    for kind in [
        Filter::None,
        Filter::Sub,
        Filter::Up,
        Filter::Average,
        Filter::Paeth,
    ] {
        let c = residual_cost(kind, cur, prev, bpp);
        if c < best.0 {
            best = (c, kind);
        }
    }
    apply(best.1, cur, prev, bpp, out);
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
                Filter::None | Filter::Adaptive => 0,
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
                    assert_eq!(residual_cost(kind, &cur, &prev, bpp), cost(&filtered[1..]));
                }
                let mut out = vec![0; len + 1];
                apply_adaptive(&cur, &prev, bpp, &mut out);
                let best = Filter::ROW_FILTERS
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
    fn cost_is_sum_of_signed_magnitudes() {
        assert_eq!(cost(&[0, 1, 255, 128, 127]), 1 + 1 + 128 + 127);
    }
}
