//! Bodies of the fuzz targets, shared by `rust/fuzz` (cargo-fuzz) and the seeded test run of
//! `cargo test` (`rust/tests/fuzz_bodies.rs`), so both exercise the same code.
//!
//! Each body reads its arguments from arbitrary bytes and calls a public decoder; it must
//! return (an `Ok` or an `Err`) and never panic, loop without bound or allocate without bound.

use crate::autoregressive::{Layer, RasterScan};
use crate::cdf::quantized_cdf_table;
use crate::coder::{decode_with_indexes, CdfTable};
use crate::network::{Activation, Dense};

/// A cursor over the fuzzer's bytes; reads past the end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }
}

/// Decodes arbitrary bytes with an arbitrary table (built from arbitrary pmfs, or raw
/// entries that validation may reject) and arbitrary indexes.
pub fn decode(data: &[u8]) -> bool {
    let mut b = Bytes(data);
    let rows = usize::from(b.byte() % 4) + 1;
    let raw = b.byte() & 1 == 1;
    let (cdfs, stride, sizes) = if raw {
        let stride = usize::from(b.byte() % 8) + 2;
        let cdfs: Vec<i32> = (0..rows * stride)
            .map(|_| {
                i32::from(u16::from_le_bytes([b.byte(), b.byte()])) + i32::from(b.byte() & 1) * 65536 / 2
            })
            .collect();
        let sizes: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() % 10)).collect();
        (cdfs, stride, sizes)
    } else {
        let lengths: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() % 12)).collect();
        let total: i32 = lengths.iter().sum();
        let pmfs: Vec<f32> = (0..total).map(|_| f32::from(b.byte()) / 255.0).collect();
        let tails: Vec<f32> = (0..rows).map(|_| f32::from(b.byte()) / 1e4).collect();
        match quantized_cdf_table(&pmfs, &lengths, &tails, 16) {
            Ok(t) => (t.cdfs, t.stride, t.lengths),
            Err(_) => return false,
        }
    };
    let offsets: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() as i8)).collect();
    let Ok(table) = CdfTable::new(&cdfs, stride, &sizes, &offsets) else { return false };
    let n = usize::from(u16::from_le_bytes([b.byte(), b.byte()]));
    let indexes: Vec<i32> = (0..n).map(|_| i32::from(b.byte() % 5)).collect();
    let stream = b.0;
    let mut out = vec![0; n];
    decode_with_indexes(stream, &indexes, &table, &mut out).is_ok()
}

/// A weight in [-2, 2) from one byte.
fn weight(byte: u8) -> f32 {
    (f32::from(byte) - 128.0) / 64.0
}

/// The autoregressive loop on a small model drawn from the input (latent and hyper channels,
/// a causal 3x3 or 5x5 context kernel, a LeakyReLU + 1x1 entropy-parameter network, the latent
/// size and its hyper params). Half the inputs decode the rest of the bytes as a stream; the
/// other half encode a latent drawn from them and check that decoding the stream gives the
/// encoder's `y_hat` bit for bit (a panic, which the fuzzer reports, if not).
pub fn autoregressive_decode(data: &[u8]) -> bool {
    let mut b = Bytes(data);
    let round_trip = b.byte() & 1 == 1;
    let m = usize::from(b.byte() % 3) + 1;
    let p = usize::from(b.byte() % 3) + 1;
    let kernel = if b.byte() & 1 == 0 { 3 } else { 5 };
    let (height, width) = (usize::from(b.byte() % 8) + 1, usize::from(b.byte() % 8) + 1);
    let context_channels = 2 * m;
    let centre = kernel / 2;
    let mut context = vec![0.0f32; context_channels * m * kernel * kernel];
    for (i, w) in context.iter_mut().enumerate() {
        let (r, c) = ((i / kernel) % kernel, i % kernel);
        if r < centre || (r == centre && c < centre) {
            *w = weight(b.byte()) / 4.0;
        }
    }
    let bias: Vec<f32> = (0..context_channels).map(|_| weight(b.byte())).collect();
    let inputs = p + context_channels;
    let dense: Vec<f32> = (0..2 * m * inputs).map(|_| weight(b.byte()) / 2.0).collect();
    let Ok(dense) = Dense::new(&dense, None, 2 * m, inputs) else { return false };
    let network = vec![Layer::Activation(Activation::LeakyRelu(0.01)), Layer::Pointwise(dense)];

    // Eight discretised Laplacians of scales 0.11 * 2^k, the kind of table the loop indexes.
    let scales: Vec<f32> = (0..8).map(|k| 0.11 * 2f32.powi(k)).collect();
    let centres: Vec<i32> = scales.iter().map(|s| (s * 6.0).ceil() as i32).collect();
    let pmfs: Vec<f32> = scales
        .iter()
        .zip(&centres)
        .flat_map(|(&s, &c)| (-c..=c).map(move |k| (-(k as f32).abs() / s).exp() + 1e-6))
        .collect();
    let lengths: Vec<i32> = centres.iter().map(|c| 2 * c + 1).collect();
    let Ok(t) = quantized_cdf_table(&pmfs, &lengths, &[1e-6; 8], 16) else { return false };
    let offsets: Vec<i32> = centres.iter().map(|c| -c).collect();
    let Ok(table) = CdfTable::new(&t.cdfs, t.stride, &t.lengths, &offsets) else { return false };
    let Ok(model) = RasterScan::new(m, p, &context, &bias, (kernel, kernel), network, scales, 0.11) else {
        return false;
    };

    let plane = height * width;
    let params: Vec<f32> = (0..p * plane).map(|_| weight(b.byte()) * 2.0).collect();
    if !round_trip {
        return model.decode(b.0, &params, height, width, &table).is_ok();
    }
    let y: Vec<f32> = (0..m * plane).map(|_| weight(b.byte()) * 8.0).collect();
    let Ok((stream, y_hat)) = model.encode(&y, &params, height, width, &table) else { return false };
    let decoded = model.decode(&stream, &params, height, width, &table);
    assert!(
        decoded.as_deref().is_ok_and(|d| d.iter().zip(&y_hat).all(|(a, b)| a.to_bits() == b.to_bits())),
        "decoding the encoder's stream did not give its y_hat"
    );
    true
}
