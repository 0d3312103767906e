//! Scanline filters (PNG §9): each row is turned into differences from its
//! neighbours before compression, which makes smooth images compressible.
//!
//! Encoding filters read only unfiltered bytes, so every output byte is
//! independent of the others and the loops below vectorise. The adaptive
//! choice rates the four predicting filters by the sum of absolute values
//! of their residuals (bytes read as signed), libpng's heuristic, in one
//! pass that computes all four sums without writing a residual, then
//! applies the winner; at the fast levels it rates a sixteenth of each row.
//! The entropy choice tries all five and keeps the one whose residual bytes
//! have the lowest Shannon entropy, stopping early at a residual that costs
//! nothing.

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
    /// never wins it and is not tried). At [`Compression::Fastest`] and
    /// [`Compression::Fast`] the sums cover only a sample of each row, which
    /// trades a little size for speed (measured in `BENCHMARKS.md`).
    ///
    /// [`Compression::Fastest`]: crate::Compression::Fastest
    /// [`Compression::Fast`]: crate::Compression::Fast
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

    /// Every filter choice.
    pub const ALL: &'static [Filter] = &[
        Filter::None,
        Filter::Sub,
        Filter::Up,
        Filter::Average,
        Filter::Paeth,
        Filter::Adaptive,
        Filter::Entropy,
    ];

    /// The names [`Display`](core::fmt::Display) writes and
    /// [`FromStr`](core::str::FromStr) reads, in the order of [`Filter::ALL`].
    const NAMES: &'static [&'static str] = &[
        "none", "sub", "up", "average", "paeth", "adaptive", "entropy",
    ];

    fn name(self) -> &'static str {
        Filter::NAMES[Filter::ALL.iter().position(|&f| f == self).unwrap_or(0)]
    }

    pub(crate) fn type_byte(self) -> u8 {
        match self {
            Filter::None | Filter::Adaptive | Filter::Entropy => 0,
            Filter::Sub => 1,
            Filter::Up => 2,
            Filter::Average => 3,
            Filter::Paeth => 4,
        }
    }
}

impl core::fmt::Display for Filter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::str::FromStr for Filter {
    type Err = crate::UnknownName;

    /// Reads a filter's name: `none`, `sub`, `up`, `average`, `paeth`,
    /// `adaptive` or `entropy`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Filter::NAMES
            .iter()
            .position(|&n| n == s)
            .map(|i| Filter::ALL[i])
            .ok_or(crate::UnknownName {
                kind: "filter",
                accepted: Filter::NAMES,
            })
    }
}

/// Filters `cur` as the writer does with the filter setting `kind`, any of
/// them: `repeat` says that `cur` equals the row above, which Up turns
/// into all zeros, what no filter beats, so the choices are skipped.
/// `sparse` makes the adaptive choice rate a sample of the row; `scratch`
/// (one filtered row long) serves the entropy choice.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn filter_row(
    kind: Filter,
    repeat: bool,
    sparse: bool,
    cur: &[u8],
    prev: &[u8],
    bpp: usize,
    out: &mut [u8],
    scratch: &mut [u8],
) {
    match kind {
        // Up of a row equal to the one above: all zeros.
        Filter::Adaptive | Filter::Entropy if repeat => {
            out[0] = Filter::Up.type_byte();
            out[1..].fill(0);
        }
        Filter::Adaptive => apply_adaptive(cur, prev, bpp, out, sparse),
        Filter::Entropy => apply_min_entropy(cur, prev, bpp, out, scratch),
        kind => apply(kind, cur, prev, bpp, out),
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
                *o = x.wrapping_sub(average(a, u));
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

/// The Paeth predictor (PNG §9.4) on bytes alone, so that the loops over it
/// vectorise 16 or 32 lanes wide (Luca Versari's formulation from fpnge):
/// `pa = |b − c|` and `pb = |a − c|` are byte differences, and
/// `pc = |a + b − 2c|` equals `|pa − pb|` when `c` lies between `a` and `b`;
/// otherwise `pc` exceeds both `pa` and `pb` and never decides, so 255
/// stands in for it.
///
/// Comparisons are written as saturating differences and masks, which map
/// one to one onto the byte instructions of even the oldest vector units.
#[inline(always)]
fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let pa = b.saturating_sub(c) | c.saturating_sub(b);
    let pb = a.saturating_sub(c) | c.saturating_sub(a);
    // `c` lies between `a` and `b` when `a >= c` and `c >= b` agree.
    let a_ge_c = mask(c.saturating_sub(a) == 0);
    let c_ge_b = mask(b.saturating_sub(c) == 0);
    let pc = pa.saturating_sub(pb) | pb.saturating_sub(pa) | (a_ge_c ^ c_ge_b);
    let ab = select(mask(pa.saturating_sub(pb) != 0), b, a);
    select(mask(pa.min(pb).saturating_sub(pc) != 0), c, ab)
}

/// All ones if `x`, else zero.
#[inline(always)]
fn mask(x: bool) -> u8 {
    (x as u8).wrapping_neg()
}

/// `yes` where `m` is all ones, `no` where it is zero.
#[inline(always)]
fn select(m: u8, yes: u8, no: u8) -> u8 {
    no ^ ((no ^ yes) & m)
}

/// Sum of the filtered bytes read as signed magnitudes, libpng's estimate of
/// how well a row will compress.
#[cfg(test)]
pub(crate) fn cost(filtered: &[u8]) -> u64 {
    filtered.iter().map(|&x| magnitude(x) as u64).sum()
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

/// A sparse rating reads one 16-byte piece in this many.
const SPARSE_STEP: usize = 16;

/// Filters `cur` with the adaptive choice (see [`Filter::Adaptive`]): the
/// four candidates are rated in one pass that writes nothing, and only the
/// winner (the first of equals) is applied. With `sparse`, the rating reads
/// one 16-byte piece in [`SPARSE_STEP`].
pub(crate) fn apply_adaptive(cur: &[u8], prev: &[u8], bpp: usize, out: &mut [u8], sparse: bool) {
    let costs = predicting_costs(cur, prev, bpp, if sparse { SPARSE_STEP } else { 1 });
    let mut best = 0;
    for k in 1..PREDICTING.len() {
        if costs[k] < costs[best] {
            best = k;
        }
    }
    apply(PREDICTING[best], cur, prev, bpp, out);
}

/// |x| of a byte read as signed, as a byte (128 for 0x80): the smaller of
/// `x` and `−x`.
#[inline(always)]
fn magnitude(x: u8) -> u8 {
    x.min(x.wrapping_neg())
}

/// The sum of absolute residuals of Sub, Up, Average and Paeth on `cur`
/// (bytes read as signed), computed together without writing any residual; with
/// `step > 1`, only over every `step`-th 16-byte piece (and the edges).
fn predicting_costs(cur: &[u8], prev: &[u8], bpp: usize, step: usize) -> [u64; 4] {
    let n = cur.len();
    let b = bpp.min(n);
    let mut costs = [0u64; 4];
    let add = |costs: &mut [u64; 4], mags: [u8; 4]| {
        for (cost, m) in costs.iter_mut().zip(mags) {
            *cost += m as u64;
        }
    };
    // The first pixel: no left neighbour (a = c = 0).
    for (&x, &u) in cur[..b].iter().zip(prev) {
        add(&mut costs, magnitudes(x, 0, u, 0));
    }
    let (x, a, u, c) = (&cur[b..], &cur[..n - b], &prev[b..], &prev[..n - b]);
    // Sixteen byte lanes at a time: the four residuals' magnitudes are
    // computed byte-wide, and added in pairs into eight u16 lanes per
    // filter, which are summed every 128 pieces (before they could
    // overflow: 128 × 2 × 128 < 65536) and at the end.
    const LANES: usize = 16;
    let mut lanes = [[0u16; LANES / 2]; 4];
    let fold = |lanes: &mut [[u16; LANES / 2]; 4], costs: &mut [u64; 4]| {
        for (cost, l) in costs.iter_mut().zip(lanes.iter_mut()) {
            *cost += l.iter().map(|&v| v as u64).sum::<u64>();
            *l = [0; LANES / 2];
        }
    };
    let whole = x.len() / LANES * LANES;
    for (k, i) in (0..whole).step_by(LANES * step).enumerate() {
        let x: &[u8; LANES] = x[i..i + LANES].try_into().unwrap();
        let a: &[u8; LANES] = a[i..i + LANES].try_into().unwrap();
        let u: &[u8; LANES] = u[i..i + LANES].try_into().unwrap();
        let c: &[u8; LANES] = c[i..i + LANES].try_into().unwrap();
        let mut mags = [[0u8; LANES]; 4];
        for j in 0..LANES {
            let m = magnitudes(x[j], a[j], u[j], c[j]);
            for k in 0..4 {
                mags[k][j] = m[k];
            }
        }
        for (l, m) in lanes.iter_mut().zip(&mags) {
            for j in 0..LANES / 2 {
                let pair = u16::from_le_bytes([m[2 * j], m[2 * j + 1]]);
                l[j] += (pair & 0xff) + (pair >> 8);
            }
        }
        if k % 128 == 127 {
            fold(&mut lanes, &mut costs);
        }
    }
    fold(&mut lanes, &mut costs);
    for j in whole..x.len() {
        add(&mut costs, magnitudes(x[j], a[j], u[j], c[j]));
    }
    costs
}

/// The magnitudes of the Sub, Up, Average and Paeth residuals of byte `x`,
/// with `a` to its left, `u` above and `c` above-left.
#[inline(always)]
fn magnitudes(x: u8, a: u8, u: u8, c: u8) -> [u8; 4] {
    [a, u, average(a, u), paeth(a, u, c)].map(|p| magnitude(x.wrapping_sub(p)))
}

/// `(a + u) / 2` without widening: the carry-less half-sum.
#[inline(always)]
fn average(a: u8, u: u8) -> u8 {
    (a & u) + ((a ^ u) >> 1)
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
                for c in 0..=255u8 {
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
            for len in [1, 2, 3, 5, 8, 31, 32, 33, 100, 257, 4100] {
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
                // The fused rating against each filter's residuals summed
                // one by one, over the whole row and over the sample.
                let full = PREDICTING.map(|k| cost(&naive(k, &cur, &prev, bpp)[1..]));
                assert_eq!(predicting_costs(&cur, &prev, bpp, 1), full);
                let b = bpp.min(len);
                let whole = (len - b) / 16 * 16;
                let sampled = PREDICTING.map(|k| {
                    let r = naive(k, &cur, &prev, bpp);
                    (0..len)
                        .filter(|&i| i < b || i - b >= whole || (i - b) / 16 % SPARSE_STEP == 0)
                        .map(|i| magnitude(r[i + 1]) as u64)
                        .sum::<u64>()
                });
                assert_eq!(predicting_costs(&cur, &prev, bpp, SPARSE_STEP), sampled);
                // The adaptive choice keeps the first of the cheapest.
                for (sparse, costs) in [(false, full), (true, sampled)] {
                    let mut out = vec![0; len + 1];
                    apply_adaptive(&cur, &prev, bpp, &mut out, sparse);
                    let min = *costs.iter().min().unwrap();
                    let first = costs.iter().position(|&c| c == min).unwrap();
                    assert_eq!(out, naive(PREDICTING[first], &cur, &prev, bpp));
                    assert_eq!(unfilter(&out, &prev, bpp), cur);
                }
            }
        }
    }

    #[test]
    fn zero_cost_shortcuts_keep_the_minimum() {
        // Rows equal to the one above, constant rows (Sub gives zeros after
        // the first pixel) and all-zero rows: the entropy choice stops at
        // the first zero-cost residual, the adaptive one rates all four.
        let ramp: Vec<u8> = (0..90u8).collect();
        let cases: [(Vec<u8>, Vec<u8>); 4] = [
            (ramp.clone(), ramp.clone()),
            (vec![7; 90], ramp.clone()),
            (vec![0; 90], vec![0; 90]),
            (vec![0; 90], ramp.clone()),
        ];
        for (cur, prev) in &cases {
            let mut out = vec![9; 91];
            apply_adaptive(cur, prev, 3, &mut out, false);
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
