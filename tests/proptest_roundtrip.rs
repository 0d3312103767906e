//! Property: any valid set of options and any row bytes round-trip exactly
//! through the `png` crate.

mod common;

use common::{Case, Format, all_formats, check_chunks, check_png, clamp_indices, mask_padding};
use pngstream::{BitDepth, ColorType, Compression, Filter, StreamingWriter};
use proptest::prelude::*;

/// Parameters without the pixel data.
#[derive(Clone, Debug)]
struct Params {
    case: Case,
    /// Feed the rows through `write_bytes` in pieces of this size instead of
    /// `write_row`.
    piece: Option<usize>,
}

/// (palette, tRNS) for one image.
type Extras = (Option<Vec<u8>>, Option<Vec<u8>>);

fn params() -> impl Strategy<Value = Params> {
    let formats = all_formats();
    (
        0..formats.len(),
        1u32..=300,
        1u32..=40,
        0..Filter::ALL.len(),
        0..Compression::ALL.len(),
        prop_oneof![1u32..=64, 1u32..=100_000],
        proptest::option::of(1usize..5000),
    )
        .prop_flat_map(move |(fi, width, height, filt, lvl, idat, piece)| {
            let fmt = formats[fi];
            let max = (1u32 << fmt.depth.bits()) - 1;
            let sample = move || (0..=max).prop_map(|s| (s as u16).to_be_bytes().to_vec());
            // (palette, tRNS) valid for the colour type.
            let extras: BoxedStrategy<Extras> = match fmt.color {
                ColorType::Indexed => (1usize..=(1 << fmt.depth.bits()))
                    .prop_flat_map(|entries| {
                        (
                            proptest::collection::vec(any::<u8>(), 3 * entries),
                            proptest::option::of(proptest::collection::vec(
                                any::<u8>(),
                                1..=entries,
                            )),
                        )
                    })
                    .prop_map(|(p, t)| (Some(p), t))
                    .boxed(),
                ColorType::Grayscale => proptest::option::of(sample())
                    .prop_map(|t| (None, t))
                    .boxed(),
                ColorType::Rgb => (
                    proptest::option::of(
                        (1usize..=256)
                            .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), 3 * n)),
                    ),
                    proptest::option::of(
                        (sample(), sample(), sample()).prop_map(|(r, g, b)| [r, g, b].concat()),
                    ),
                )
                    .boxed(),
                ColorType::Rgba => proptest::option::of(
                    (1usize..=256).prop_flat_map(|n| proptest::collection::vec(any::<u8>(), 3 * n)),
                )
                .prop_map(|p| (p, None))
                .boxed(),
                ColorType::GrayscaleAlpha => Just((None, None)).boxed(),
            };
            extras.prop_map(move |(palette, trns)| Params {
                case: Case {
                    width,
                    height,
                    fmt,
                    filter: Filter::ALL[filt],
                    level: Compression::ALL[lvl],
                    palette,
                    trns,
                    idat: Some(idat),
                },
                piece,
            })
        })
}

fn params_and_pixels() -> impl Strategy<Value = (Params, Vec<u8>)> {
    params().prop_flat_map(|p| {
        let len = p.case.fmt.row_bytes(p.case.width) * p.case.height as usize;
        (Just(p), proptest::collection::vec(any::<u8>(), len))
    })
}

/// Makes the bytes a valid image: padding bits zero, palette indices within
/// the palette.
fn sanitize(case: &Case, img: &mut [u8]) {
    let Format { color, depth } = case.fmt;
    for row in img.chunks_mut(case.fmt.row_bytes(case.width)) {
        if color == ColorType::Indexed {
            let entries = case.palette.as_ref().unwrap().len() / 3;
            clamp_indices(row, case.width, depth, entries);
        }
        if depth < BitDepth::Eight {
            mask_padding(row, case.width, case.fmt);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_valid_image_round_trips((p, mut img) in params_and_pixels()) {
        let case = &p.case;
        sanitize(case, &mut img);
        let mut w = StreamingWriter::with_options(Vec::new(), &case.options())
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let n = case.fmt.row_bytes(case.width);
        match p.piece {
            None => {
                for row in img.chunks(n) {
                    w.write_row(row).unwrap();
                }
            }
            Some(k) => {
                for piece in img.chunks(k) {
                    w.write_bytes(piece).unwrap();
                }
            }
        }
        prop_assert_eq!(w.rows_written(), case.height);
        let png = w.finish().unwrap();
        check_chunks(&png, case.idat.unwrap());
        check_png(&png, case, &img);
    }
}
