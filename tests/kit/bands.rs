//! Images made of bands of mixed content, for tests and fuzz targets that
//! must reach what only megabyte inputs reach (window slides, hand-overs
//! between coders, block-size limits). A band is a span of the image's byte
//! stream, so it may start and end inside a row.

use super::Rng;

/// The shape of packed image data.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Bytes per packed row.
    pub row_bytes: usize,
    /// Samples per row (pixels × channels).
    pub samples: usize,
    /// Bits per sample: 1, 2, 4, 8 or 16.
    pub depth: usize,
}

/// What one band looks like.
#[derive(Clone, Copy, Debug)]
pub enum Band {
    /// A ramp in x and y, per sample, at slopes in 64ths of a step.
    Smooth { dx: u32, dy: u32 },
    /// The ramp with a little noise: like a photograph's residuals.
    Noisy { dx: u32, dy: u32, amp: u32 },
    /// The bytes `k` rows above: a block of rows repeated.
    RepeatRows { k: usize },
    /// The bytes `dist` back: matches at any distance.
    RepeatNear { dist: usize },
    /// Random bytes.
    Random,
    /// One byte everywhere.
    Flat(u8),
    /// A short random motif.
    Motif { k: usize },
}

impl Band {
    /// The band chosen by `kind` with parameters from `param` (any bits).
    pub fn from_bits(kind: u8, param: u32) -> Band {
        let p = |shift: u32, m: u32| (param >> shift) % m;
        match kind % 7 {
            0 => Band::Smooth {
                dx: p(0, 512),
                dy: p(9, 256),
            },
            1 => Band::Noisy {
                dx: p(0, 512),
                dy: p(9, 256),
                amp: 1 + p(17, 6),
            },
            2 => Band::RepeatRows {
                k: 1 + p(0, 8) as usize,
            },
            3 => Band::RepeatNear {
                // Half of them short (runs), half up to past the window.
                dist: 1 + if param & 1 == 0 {
                    p(1, 300)
                } else {
                    p(1, 40_000)
                } as usize,
            },
            4 => Band::Random,
            5 => Band::Flat(param as u8),
            _ => Band::Motif {
                k: 1 + p(0, 12) as usize,
            },
        }
    }

    /// A band chosen at random.
    pub fn random(rng: &mut Rng) -> Band {
        let kind = rng.byte();
        Band::from_bits(kind, rng.next_u64() as u32)
    }
}

/// Sample `i` of a packed row at `d` bits per sample (d ≤ 8 or d = 16).
pub fn get_sample(row: &[u8], i: usize, d: usize) -> u32 {
    match d {
        16 => u16::from_be_bytes([row[2 * i], row[2 * i + 1]]) as u32,
        8 => row[i] as u32,
        _ => {
            let bit = i * d;
            let shift = 8 - d - bit % 8;
            ((row[bit / 8] >> shift) as u32) & ((1 << d) - 1)
        }
    }
}

/// Sets sample `i` of a packed row at `d` bits per sample.
pub fn set_sample(row: &mut [u8], i: usize, d: usize, v: u32) {
    match d {
        16 => row[2 * i..2 * i + 2].copy_from_slice(&(v as u16).to_be_bytes()),
        8 => row[i] = v as u8,
        _ => {
            let bit = i * d;
            let shift = 8 - d - bit % 8;
            let mask = (((1u32 << d) - 1) as u8) << shift;
            row[bit / 8] = (row[bit / 8] & !mask) | (((v as u8) << shift) & mask);
        }
    }
}

/// Paints `band` over `img[from..to]`; `img[..from]` is already painted
/// (the repeating bands copy from it).
pub fn paint(rng: &mut Rng, img: &mut [u8], layout: Layout, from: usize, to: usize, band: Band) {
    let n = layout.row_bytes;
    match band {
        Band::Smooth { .. } | Band::Noisy { .. } => {
            let (dx, dy, amp) = match band {
                Band::Smooth { dx, dy } => (dx, dy, 0),
                Band::Noisy { dx, dy, amp } => (dx, dy, amp),
                _ => unreachable!(),
            };
            let d = layout.depth;
            let scale = if d == 16 { 257 } else { 1 };
            let max = ((1u64 << d) - 1) as u32;
            let mut row = vec![0u8; n];
            let mut p = from;
            while p < to {
                let (y, x) = (p / n, p % n);
                let k = (n - x).min(to - p);
                for i in 0..layout.samples {
                    let ramp = (i as u64 * dx as u64 + y as u64 * dy as u64) >> 6;
                    let mut v = (ramp as u32).wrapping_mul(scale);
                    if amp > 0 {
                        v = v.wrapping_add((rng.next_u64() % (2 * amp as u64 + 1)) as u32);
                    }
                    set_sample(&mut row, i, d, v & max);
                }
                img[p..p + k].copy_from_slice(&row[x..x + k]);
                p += k;
            }
        }
        Band::RepeatRows { k } => repeat(rng, &mut img[..to], from, k * n),
        Band::RepeatNear { dist } => repeat(rng, &mut img[..to], from, dist),
        Band::Random => rng.fill(&mut img[from..to]),
        Band::Flat(b) => img[from..to].fill(b),
        Band::Motif { k } => {
            let motif = rng.bytes(k);
            for (i, b) in img[from..to].iter_mut().enumerate() {
                *b = motif[i % k];
            }
        }
    }
}

/// Fills `img[from..]` with the bytes `dist` back (random where there are
/// none), byte by byte so that short distances repeat as runs.
fn repeat(rng: &mut Rng, img: &mut [u8], from: usize, dist: usize) {
    let start = from.max(dist.min(img.len()));
    rng.fill(&mut img[from..start]);
    for p in start..img.len() {
        img[p] = img[p - dist];
    }
}

/// Makes every row valid: palette indexes below `entries` (when `Some`,
/// for indexed images) and the unused bits of each row's last byte zero.
pub fn finish_rows(img: &mut [u8], layout: Layout, entries: Option<usize>) {
    let d = layout.depth;
    let used = (layout.samples * d) % 8;
    for row in img.chunks_mut(layout.row_bytes) {
        if let Some(e) = entries.filter(|&e| e < 1 << d) {
            for i in 0..layout.samples {
                let v = get_sample(row, i, d);
                set_sample(row, i, d, v % e as u32);
            }
        }
        if used != 0 {
            let last = row.len() - 1;
            row[last] &= 0xFFu8 << (8 - used);
        }
    }
}
