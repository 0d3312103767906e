//! Constant tables of RFC 1951: length and distance codes and the fixed
//! Huffman code lengths.

/// Shortest and longest match deflate can express.
pub(crate) const MIN_MATCH: usize = 3;
pub(crate) const MAX_MATCH: usize = 258;

/// Literal/length alphabet size (0–255 literals, 256 end of block, 257–285 lengths).
pub(crate) const LITLEN_SYMBOLS: usize = 286;
/// Distance alphabet size.
pub(crate) const DIST_SYMBOLS: usize = 30;
pub(crate) const END_OF_BLOCK: usize = 256;

/// Base length and extra bits of length codes 257..=285.
pub(crate) const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
pub(crate) const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
/// Base distance and extra bits of distance codes 0..=29.
pub(crate) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
pub(crate) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Length code index (0..29) of every match length minus 3.
pub(crate) static LEN_CODE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut code = 0;
    while code < 29 {
        let mut l = LEN_BASE[code] as usize;
        let end = if code == 28 {
            259
        } else {
            LEN_BASE[code + 1] as usize
        };
        while l < end {
            t[l - 3] = code as u8;
            l += 1;
        }
        code += 1;
    }
    t
};

/// Distance code of `dist - 1` for distances up to 256 (first half) and of
/// `(dist - 1) >> 7` for longer ones (second half), as zlib lays it out.
static DIST_CODE: [u8; 512] = {
    let mut t = [0u8; 512];
    let mut code = 0;
    while code < 30 {
        let start = DIST_BASE[code] as usize;
        let end = if code == 29 {
            32769
        } else {
            DIST_BASE[code + 1] as usize
        };
        let mut d = start;
        while d < end {
            if d <= 256 {
                t[d - 1] = code as u8;
            } else {
                t[256 + ((d - 1) >> 7)] = code as u8;
            }
            d += 1;
        }
        code += 1;
    }
    t
};

/// Distance code (0..30) of a distance in 1..=32768.
#[inline(always)]
pub(crate) fn dist_code(dist: usize) -> usize {
    let d = dist - 1;
    if d < 256 {
        DIST_CODE[d] as usize
    } else {
        DIST_CODE[256 + (d >> 7)] as usize
    }
}

/// Code lengths of the fixed literal/length code (RFC 1951 §3.2.6); the two
/// unused symbols 286 and 287 are left out.
pub(crate) const FIXED_LITLEN_LENGTHS: [u8; LITLEN_SYMBOLS] = {
    let mut t = [0u8; LITLEN_SYMBOLS];
    let mut i = 0;
    while i < LITLEN_SYMBOLS {
        t[i] = if i < 144 {
            8
        } else if i < 256 {
            9
        } else if i < 280 {
            7
        } else {
            8
        };
        i += 1;
    }
    t
};

/// Every fixed distance code is five bits long.
pub(crate) const FIXED_DIST_LENGTHS: [u8; DIST_SYMBOLS] = [5; DIST_SYMBOLS];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_codes_cover_their_ranges() {
        for len in MIN_MATCH..=MAX_MATCH {
            let c = LEN_CODE[len - 3] as usize;
            let base = LEN_BASE[c] as usize;
            assert!(len >= base, "len {len}");
            assert!(
                len - base < (1 << LEN_EXTRA[c]) || (c == 28 && len == 258),
                "len {len}"
            );
        }
        assert_eq!(LEN_CODE[258 - 3], 28);
        assert_eq!(LEN_CODE[257 - 3], 27);
    }

    #[test]
    fn distance_codes_cover_their_ranges() {
        for dist in 1..=32768usize {
            let c = dist_code(dist);
            let base = DIST_BASE[c] as usize;
            assert!(
                dist >= base && dist - base < (1 << DIST_EXTRA[c]),
                "dist {dist}"
            );
        }
    }
}
