//! The serial autoregressive (raster-scan context) loop of mbt2018, cheng2020 and
//! `RasterScanLatentCodec`, for encoding and decoding alike.
//!
//! Each latent position's Gaussian (scale and mean per channel) comes from a masked
//! convolution over the already-decoded neighbourhood (the context model) and a pointwise
//! network over the concatenation `[hyper params, context]` (the entropy parameters), so the
//! decoder must run them one position after another. Encoder and decoder share [`RasterScan`]'s
//! one routine, differing only in what happens to the symbols ([`Encode`] quantizes and
//! records them, [`Decode`] reads them), so both see bit-identical floats.
//!
//! # Stream order: wavefronts
//!
//! A causal `kh x kw` kernel makes position `(r, c)` depend on the rows above, up to
//! `kw / 2` columns to the right, and on its left neighbours in the same row. With
//! `a = kw / 2 + 1`, every dependency of `(r, c)` has a smaller `t = a r + c`, so all positions
//! of one wavefront `t` can be computed together: their context, the context convolution
//! and the entropy-parameter network run as small matrix products over the whole wavefront
//! (about `min(H, W / a)` positions), which reuses each weight many times instead of streaming
//! the weights once per position. The stream holds the symbols in that order: wavefronts
//! `t = 0, 1, ...`, within a wavefront by increasing row, within a position by channel. (It is
//! not CompressAI's raster order, which another implementation could not decode bit-exactly
//! anyway: its encoder's floats come from torch.)
//!
//! Index selection (the first scale-table entry at least `max(scale, bound)`) and rounding (half
//! to even) follow the vectorised path of `GaussianConditional` exactly.
//!
//! References: D. Minnen, J. Ballé, G. Toderici, "Joint Autoregressive and Hierarchical Priors
//! for Learned Image Compression", NeurIPS 2018, arXiv:1809.02736; the wavefront order is the
//! classic one of parallel decoding of causal image models (e.g. "Parallel Multi-Resolution
//! Image Compression" / wavefront parallel processing of HEVC).

use crate::coder::{check_room_for, decode_into, BufferedEncoder, CdfTable, SymbolSearch};
use crate::error::{Error, Result};
use crate::gaussian::ScaleIndex;
use crate::network::{Activation, Dense, ROWS};
use crate::rans::Decoder;

/// One layer of the entropy-parameter network.
#[derive(Debug, Clone)]
pub enum Layer {
    /// A 1x1 convolution.
    Pointwise(Dense),
    /// An element-wise activation.
    Activation(Activation),
}

/// The context model and entropy-parameter network of an autoregressive latent codec, with the
/// scale table of its GaussianConditional.
#[derive(Debug, Clone)]
pub struct RasterScan {
    latent_channels: usize,
    param_channels: usize,
    /// Causal taps of the context kernel, as (row, column) offsets from the position.
    taps: Vec<(isize, isize)>,
    context: Dense,
    network: Vec<Layer>,
    scale_index: ScaleIndex,
    /// Wavefront slope `a`: position `(r, c)` is in wavefront `a r + c`.
    slope: usize,
}

fn invalid(what: &'static str, message: String) -> Error {
    Error::InvalidArgument { what, message }
}

impl RasterScan {
    /// Describes a codec.
    ///
    /// * `context_weight`: the masked context kernel, `(context_channels, latent_channels, kh,
    ///   kw)` row-major, with odd `kh`, `kw`; every tap at or after the centre (in raster
    ///   order) must be zero, i.e. a type-"A" mask. `context_bias`: `context_channels` values.
    /// * `network`: the entropy parameters; its input is `param_channels + context_channels`
    ///   (hyper params first), its output `2 * latent_channels` (scales, then means).
    /// * `scale_table`: increasing positive scales, one per CDF row; `scale_bound` > 0.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        latent_channels: usize,
        param_channels: usize,
        context_weight: &[f32],
        context_bias: &[f32],
        kernel: (usize, usize),
        network: Vec<Layer>,
        scale_table: Vec<f32>,
        scale_bound: f32,
    ) -> Result<Self> {
        let (kh, kw) = kernel;
        if kh % 2 == 0 || kw % 2 == 0 {
            return Err(invalid(
                "context_prediction",
                format!("the kernel must have odd sides, got {kh}x{kw}"),
            ));
        }
        if latent_channels == 0 {
            return Err(invalid("latent_channels", "must be positive".into()));
        }
        let context_channels = context_bias.len();
        if context_weight.len() != context_channels * latent_channels * kh * kw {
            return Err(invalid(
                "context_prediction",
                format!(
                    "weight has {} values, expected {context_channels} x {latent_channels} x {kh} x {kw}",
                    context_weight.len()
                ),
            ));
        }
        let (cy, cx) = (kh / 2, kw / 2);
        let is_causal = |r: usize, c: usize| r < cy || (r == cy && c < cx);
        let taps: Vec<(usize, usize)> =
            (0..kh).flat_map(|r| (0..kw).map(move |c| (r, c))).filter(|&(r, c)| is_causal(r, c)).collect();
        for o in 0..context_channels {
            for m in 0..latent_channels {
                for r in 0..kh {
                    for c in 0..kw {
                        if !is_causal(r, c)
                            && context_weight[((o * latent_channels + m) * kh + r) * kw + c] != 0.0
                        {
                            return Err(invalid(
                                "context_prediction",
                                format!(
                                    "not causal: kernel tap ({r}, {c}) has a non-zero weight at or after the centre ({cy}, {cx}); a type \"A\" mask is required"
                                ),
                            ));
                        }
                    }
                }
            }
        }
        // The context convolution at one position is a dense layer over the gathered taps,
        // input t * latent_channels + m being channel m of tap t.
        let inputs = taps.len() * latent_channels;
        let mut gathered = vec![0.0f32; context_channels * inputs];
        for o in 0..context_channels {
            for (t, &(r, c)) in taps.iter().enumerate() {
                for m in 0..latent_channels {
                    gathered[o * inputs + t * latent_channels + m] =
                        context_weight[((o * latent_channels + m) * kh + r) * kw + c];
                }
            }
        }
        let context = if taps.is_empty() {
            return Err(invalid("context_prediction", "the kernel has no causal taps (1x1?)".into()));
        } else {
            Dense::new(&gathered, Some(context_bias), context_channels, inputs)?
        };

        let mut width = param_channels + context_channels;
        for layer in &network {
            if let Layer::Pointwise(dense) = layer {
                if dense.inputs() != width {
                    return Err(invalid(
                        "entropy_parameters",
                        format!("a 1x1 convolution takes {} channels but receives {width}", dense.inputs()),
                    ));
                }
                width = dense.outputs();
            }
        }
        if width != 2 * latent_channels {
            return Err(invalid(
                "entropy_parameters",
                format!(
                    "the network outputs {width} channels, expected 2 x {latent_channels} (scales and means)"
                ),
            ));
        }
        let scale_index = ScaleIndex::new(&scale_table, scale_bound)?;
        Ok(RasterScan {
            latent_channels,
            param_channels,
            taps: taps.iter().map(|&(r, c)| (r as isize - cy as isize, c as isize - cx as isize)).collect(),
            context,
            network,
            scale_index,
            slope: cx + 1,
        })
    }

    /// Number of latent channels.
    pub fn latent_channels(&self) -> usize {
        self.latent_channels
    }

    /// Number of hyper-param channels.
    pub fn param_channels(&self) -> usize {
        self.param_channels
    }

    /// Encodes one latent `y` (`latent_channels x height x width`, row-major) given its hyper
    /// params (`param_channels x height x width`). Returns the stream and the `y_hat` the
    /// decoder will reconstruct, in `y`'s layout.
    pub fn encode(
        &self,
        y: &[f32],
        params: &[f32],
        height: usize,
        width: usize,
        table: &CdfTable,
    ) -> Result<(Vec<u8>, Vec<f32>)> {
        let plane = height * width;
        if y.len() != self.latent_channels * plane {
            return Err(Error::LengthMismatch {
                what: "y",
                expected: self.latent_channels * plane,
                got: y.len(),
            });
        }
        let mut coder = Encode {
            y,
            plane,
            width,
            table,
            symbols: vec![0; self.latent_channels],
            encoder: BufferedEncoder::new(),
        };
        let y_hat = self.run(params, height, width, table, &mut coder)?;
        Ok((coder.encoder.flush(), y_hat))
    }

    /// Decodes one latent from `data`, given its hyper params; the stream must be consumed
    /// exactly. Returns `y_hat` (`latent_channels x height x width`).
    pub fn decode(
        &self,
        data: &[u8],
        params: &[f32],
        height: usize,
        width: usize,
        table: &CdfTable,
    ) -> Result<Vec<f32>> {
        let search = SymbolSearch::new(table, self.latent_channels * height * width);
        self.decode_with(data, params, height, width, table, &search)
    }

    /// [`RasterScan::decode`] with a symbol search prepared by the caller
    /// ([`crate::coder::PreparedTable::search`]).
    ///
    /// A stream too short for the latent's symbols, at the table's cheapest row, fails before
    /// the loop starts, and again as soon as what is left of it cannot hold the positions still
    /// to decode, so a truncated stream never costs the whole loop.
    pub fn decode_with(
        &self,
        data: &[u8],
        params: &[f32],
        height: usize,
        width: usize,
        table: &CdfTable,
        search: &SymbolSearch,
    ) -> Result<Vec<f32>> {
        let decoder = Decoder::new(data)?;
        let symbols = self.latent_channels.saturating_mul(height).saturating_mul(width);
        check_room_for(&decoder, table, symbols)?;
        let mut coder =
            Decode { decoder, table, search, symbols: vec![0; self.latent_channels], left: symbols };
        let y_hat = self.run(params, height, width, table, &mut coder)?;
        coder.decoder.finish()?;
        Ok(y_hat)
    }

    /// The loop shared by encoder and decoder: wavefront by wavefront, computes every
    /// position's Gaussian from its decoded neighbourhood and lets `coder` code it.
    fn run(
        &self,
        params: &[f32],
        height: usize,
        width: usize,
        table: &CdfTable,
        coder: &mut impl PositionCoder,
    ) -> Result<Vec<f32>> {
        let (m, p) = (self.latent_channels, self.param_channels);
        let plane = height * width;
        if params.len() != p * plane {
            return Err(Error::LengthMismatch { what: "params", expected: p * plane, got: params.len() });
        }
        if table.rows() != self.scale_index.rows() {
            return Err(invalid(
                "scale_table",
                format!("{} scales for {} CDF rows", self.scale_index.rows(), table.rows()),
            ));
        }
        // Position-major copies: a position's channels are contiguous for gathering.
        let mut y_hat = vec![0.0f32; plane * m];
        let params_hwc = transpose_chw_to_hwc(params, p, plane);

        // Buffers for the largest wavefront, rounded up to the kernel's row groups; rows past a
        // wavefront's end stay zero-filled inputs whose outputs are ignored.
        let most = height.min(width.div_ceil(self.slope)).max(1).next_multiple_of(ROWS);
        let context_width = self.taps.len() * m;
        let widest = self.network.iter().fold(p + self.context.outputs(), |acc, layer| match layer {
            Layer::Pointwise(d) => acc.max(d.outputs()),
            Layer::Activation(_) => acc,
        });
        let mut columns = vec![0.0f32; most * context_width];
        let mut current = vec![0.0f32; most * widest];
        let mut next = vec![0.0f32; most * widest];
        let mut positions = Vec::with_capacity(most);
        let mut indexes = vec![0i32; m];

        let waves = if plane == 0 { 0 } else { self.slope * (height - 1) + width };
        for t in 0..waves {
            positions.clear();
            let first_row = t.saturating_sub(width - 1).div_ceil(self.slope);
            for r in first_row..height.min(t / self.slope + 1) {
                positions.push((r, t - self.slope * r));
            }
            let n = positions.len();

            // Gather each position's causal neighbourhood (zeros outside the latent).
            for (j, &(r, c)) in positions.iter().enumerate() {
                let column = &mut columns[j * context_width..][..context_width];
                for (k, &(dy, dx)) in self.taps.iter().enumerate() {
                    let (rr, cc) = (r as isize + dy, c as isize + dx);
                    let dst = &mut column[k * m..][..m];
                    if rr >= 0 && cc >= 0 && (cc as usize) < width {
                        let at = (rr as usize * width + cc as usize) * m;
                        dst.copy_from_slice(&y_hat[at..at + m]);
                    } else {
                        dst.fill(0.0);
                    }
                }
                current[j * widest..][..p].copy_from_slice(&params_hwc[(r * width + c) * p..][..p]);
            }
            // The network's input is [params, context]: the context lands after the params.
            self.context.apply(&columns, context_width, &mut current[p..], widest, n);
            let mut channels = p + self.context.outputs();
            for layer in &self.network {
                match layer {
                    Layer::Pointwise(dense) => {
                        dense.apply(&current, widest, &mut next, widest, n);
                        std::mem::swap(&mut current, &mut next);
                        channels = dense.outputs();
                    }
                    Layer::Activation(act) => {
                        for j in 0..n {
                            act.apply(&mut current[j * widest..][..channels]);
                        }
                    }
                }
            }

            for (j, &(r, c)) in positions.iter().enumerate() {
                let gaussian = &current[j * widest..][..2 * m];
                let (scales, means) = gaussian.split_at(m);
                for (index, &scale) in indexes.iter_mut().zip(scales) {
                    *index = self.scale_index.index(scale);
                }
                let at = (r * width + c) * m;
                coder.code(r * width + c, &indexes, means, &mut y_hat[at..at + m])?;
            }
        }
        Ok(transpose_hwc_to_chw(&y_hat, m, plane))
    }
}

/// What the loop does with a position's symbols once their Gaussians are known.
trait PositionCoder {
    /// Codes position `at` (`row * width + column`): its channels' CDF rows and means are
    /// given; writes the reconstructed values to `y_hat`.
    fn code(&mut self, at: usize, indexes: &[i32], means: &[f32], y_hat: &mut [f32]) -> Result<()>;
}

struct Encode<'a, 't> {
    y: &'a [f32],
    plane: usize,
    width: usize,
    table: &'a CdfTable<'t>,
    symbols: Vec<i32>,
    encoder: BufferedEncoder,
}

impl PositionCoder for Encode<'_, '_> {
    fn code(&mut self, at: usize, indexes: &[i32], means: &[f32], y_hat: &mut [f32]) -> Result<()> {
        for (ch, ((symbol, &mean), value)) in
            self.symbols.iter_mut().zip(means).zip(y_hat.iter_mut()).enumerate()
        {
            let y = self.y[ch * self.plane + at];
            let q = (y - mean).round_ties_even();
            if !q.is_finite() || q.abs() >= 2_147_483_520.0 {
                return Err(invalid(
                    "y",
                    format!(
                        "latent value {y} at channel {ch}, row {}, column {} is not finite or too far from its mean {mean} to be coded",
                        at / self.width,
                        at % self.width
                    ),
                ));
            }
            *symbol = q as i32;
            // From the integer, exactly as the decoder will compute it.
            *value = *symbol as f32 + mean;
        }
        self.encoder.push(&self.symbols, indexes, self.table)
    }
}

struct Decode<'a, 't> {
    decoder: Decoder<'a>,
    table: &'a CdfTable<'t>,
    search: &'a SymbolSearch,
    symbols: Vec<i32>,
    /// Symbols still to decode, this position's included.
    left: usize,
}

impl PositionCoder for Decode<'_, '_> {
    fn code(&mut self, _at: usize, indexes: &[i32], means: &[f32], y_hat: &mut [f32]) -> Result<()> {
        check_room_for(&self.decoder, self.table, self.left)?;
        self.left = self.left.saturating_sub(indexes.len());
        decode_into(&mut self.decoder, indexes, self.table, self.search, &mut self.symbols)?;
        for ((value, &symbol), &mean) in y_hat.iter_mut().zip(&self.symbols).zip(means) {
            *value = symbol as f32 + mean;
        }
        Ok(())
    }
}

fn transpose_chw_to_hwc(values: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for (ch, row) in values.chunks_exact(plane.max(1)).enumerate().take(channels) {
        for (i, &v) in row.iter().enumerate() {
            out[i * channels + ch] = v;
        }
    }
    out
}

fn transpose_hwc_to_chw(values: &[f32], channels: usize, plane: usize) -> Vec<f32> {
    let mut out = vec![0.0; values.len()];
    for (i, position) in values.chunks_exact(channels).enumerate() {
        for (ch, &v) in position.iter().enumerate() {
            out[ch * plane + i] = v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cdf::quantized_cdf_table;
    use rand::{rngs::SmallRng, Rng, SeedableRng};

    struct Table {
        cdfs: Vec<i32>,
        stride: usize,
        sizes: Vec<i32>,
        offsets: Vec<i32>,
        scales: Vec<f32>,
    }

    /// Discretized Laplace-like rows for a handful of scales (shape matters little here).
    fn table() -> Table {
        let scales: Vec<f32> = (0..8).map(|i| 0.11 * 2f32.powi(i)).collect();
        let centers: Vec<i32> = scales.iter().map(|s| (s * 6.0).ceil() as i32).collect();
        let mut pmfs = Vec::new();
        let mut tails = Vec::new();
        for (&s, &c) in scales.iter().zip(&centers) {
            for k in -c..=c {
                pmfs.push((-(k as f32).abs() / s).exp() + 1e-6);
            }
            tails.push(1e-6);
        }
        let lengths: Vec<i32> = centers.iter().map(|c| 2 * c + 1).collect();
        let t = quantized_cdf_table(&pmfs, &lengths, &tails, 16).unwrap();
        Table {
            cdfs: t.cdfs,
            stride: t.stride,
            sizes: t.lengths,
            offsets: centers.iter().map(|c| -c).collect(),
            scales,
        }
    }

    fn model(rng: &mut SmallRng, m: usize, p: usize, kernel: usize) -> RasterScan {
        let cc = 2 * m;
        let mut weight: Vec<f32> =
            (0..cc * m * kernel * kernel).map(|_| rng.random_range(-0.3..0.3)).collect();
        let (cy, cx) = (kernel / 2, kernel / 2);
        for o in 0..cc {
            for i in 0..m {
                for r in 0..kernel {
                    for c in 0..kernel {
                        if r > cy || (r == cy && c >= cx) {
                            weight[((o * m + i) * kernel + r) * kernel + c] = 0.0;
                        }
                    }
                }
            }
        }
        let bias: Vec<f32> = (0..cc).map(|_| rng.random_range(-0.1..0.1)).collect();
        let dense = |rng: &mut SmallRng, out: usize, inp: usize| {
            let w: Vec<f32> = (0..out * inp).map(|_| rng.random_range(-0.4..0.4)).collect();
            let b: Vec<f32> = (0..out).map(|_| rng.random_range(-0.2..0.2)).collect();
            Layer::Pointwise(Dense::new(&w, Some(&b), out, inp).unwrap())
        };
        let network = vec![
            dense(rng, 3 * m, p + cc),
            Layer::Activation(Activation::LeakyRelu(0.01)),
            dense(rng, 2 * m, 3 * m),
        ];
        RasterScan::new(m, p, &weight, &bias, (kernel, kernel), network, table().scales, 0.11).unwrap()
    }

    #[test]
    fn decode_reproduces_the_encoders_y_hat_bit_for_bit() {
        let mut rng = SmallRng::seed_from_u64(9);
        let t = table();
        let cdf_table = CdfTable::new(&t.cdfs, t.stride, &t.sizes, &t.offsets).unwrap();
        for (m, p, kernel, h, w) in
            [(3, 4, 5, 7, 9), (2, 2, 3, 1, 1), (4, 6, 5, 6, 1), (5, 3, 7, 3, 11), (1, 1, 5, 12, 12)]
        {
            let model = model(&mut rng, m, p, kernel);
            let y: Vec<f32> = (0..m * h * w).map(|_| rng.random_range(-6.0..6.0)).collect();
            let params: Vec<f32> = (0..p * h * w).map(|_| rng.random_range(-1.0..1.0)).collect();
            let (data, y_hat) = model.encode(&y, &params, h, w, &cdf_table).unwrap();
            let decoded = model.decode(&data, &params, h, w, &cdf_table).unwrap();
            assert_eq!(
                decoded.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                y_hat.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            for (a, b) in y.iter().zip(&y_hat) {
                assert!((a - b).abs() <= 0.5 + 1e-5, "{a} quantized to {b}");
            }
            // Decoding with other side information fails or gives another latent.
            let other: Vec<f32> = params.iter().map(|v| v + 0.5).collect();
            match model.decode(&data, &other, h, w, &cdf_table) {
                Ok(wrong) => assert_ne!(wrong, y_hat),
                Err(err) => assert!(err.is_decode_error(), "not a decode error: {err}"),
            }
        }
    }

    #[test]
    fn a_stream_far_too_short_for_the_latent_stops_early() {
        let mut rng = SmallRng::seed_from_u64(12);
        let t = table();
        let cdf_table = CdfTable::new(&t.cdfs, t.stride, &t.sizes, &t.offsets).unwrap();
        let (m, p) = (2, 1);
        let model = model(&mut rng, m, p, 5);
        // An 8-byte stream for a 700 x 700 latent: rejected before the loop runs.
        let (h, w) = (700, 700);
        let params = vec![0.0f32; p * h * w];
        let empty = crate::rans::Encoder::new().finish();
        let err = model.decode(&empty, &params, h, w, &cdf_table).unwrap_err();
        assert_eq!(err, Error::StreamTooShort { symbols: m * h * w, words: 0 });
        // A real stream of a 6 x 6 latent decoded as 60 x 60: it stops once what is left cannot
        // hold the positions still to decode, long before the last one.
        let (h0, w0) = (6, 6);
        let y: Vec<f32> = (0..m * h0 * w0).map(|_| rng.random_range(-6.0..6.0)).collect();
        let (data, _) = model.encode(&y, &vec![0.5; p * h0 * w0], h0, w0, &cdf_table).unwrap();
        let (h, w) = (60, 60);
        let err = model.decode(&data, &vec![0.5; p * h * w], h, w, &cdf_table).unwrap_err();
        match err {
            Error::StreamTooShort { symbols, .. } => {
                assert!(symbols > m * h * w / 2, "stopped with {symbols} of {} symbols left", m * h * w)
            }
            other => panic!("expected an early stop, got {other}"),
        }
    }

    #[test]
    fn wavefront_order_matches_a_position_by_position_reference() {
        // Raster-order evaluation of the same model, position by position, gives the same
        // Gaussians: the wavefront only reorders independent work.
        let mut rng = SmallRng::seed_from_u64(4);
        let t = table();
        let cdf_table = CdfTable::new(&t.cdfs, t.stride, &t.sizes, &t.offsets).unwrap();
        let (m, p, h, w) = (3, 2, 5, 8);
        let model = model(&mut rng, m, p, 5);
        let y: Vec<f32> = (0..m * h * w).map(|_| rng.random_range(-4.0..4.0)).collect();
        let params: Vec<f32> = (0..p * h * w).map(|_| rng.random_range(-1.0..1.0)).collect();
        let (_, y_hat) = model.encode(&y, &params, h, w, &cdf_table).unwrap();
        // Reference: for each position in raster order, evaluate the network on the context of
        // y_hat (known in full now; causality means only earlier positions matter).
        let hwc = transpose_chw_to_hwc(&y_hat, m, h * w);
        for r in 0..h {
            for c in 0..w {
                let mut column = vec![0.0; model.taps.len() * m];
                for (k, &(dy, dx)) in model.taps.iter().enumerate() {
                    let (rr, cc) = (r as isize + dy, c as isize + dx);
                    if rr >= 0 && cc >= 0 && (cc as usize) < w && (rr as usize) < h {
                        column[k * m..][..m]
                            .copy_from_slice(&hwc[(rr as usize * w + cc as usize) * m..][..m]);
                    }
                }
                let mut x: Vec<f32> = (0..p).map(|ch| params[ch * h * w + r * w + c]).collect();
                let mut ctx = vec![0.0; model.context.outputs() * ROWS];
                let outputs = model.context.outputs();
                column.resize(column.len() * ROWS, 0.0);
                model.context.apply(&column, column.len() / ROWS, &mut ctx, outputs, 1);
                x.extend(&ctx[..outputs]);
                for layer in &model.network {
                    match layer {
                        Layer::Pointwise(d) => {
                            let mut out = vec![0.0; d.outputs() * ROWS];
                            let width = x.len();
                            x.resize(width * ROWS, 0.0);
                            d.apply(&x, width, &mut out, d.outputs(), 1);
                            out.truncate(d.outputs());
                            x = out;
                        }
                        Layer::Activation(a) => a.apply(&mut x),
                    }
                }
                for ch in 0..m {
                    let mean = x[m + ch];
                    let q = (y[ch * h * w + r * w + c] - mean).round_ties_even();
                    assert_eq!(y_hat[ch * h * w + r * w + c].to_bits(), (q + mean).to_bits());
                }
            }
        }
    }

    #[test]
    fn non_causal_kernels_and_bad_networks_are_rejected() {
        let mut weight = vec![0.0f32; 2 * 9];
        weight[4] = 1.0; // the centre of a 3x3 kernel
        let err = RasterScan::new(1, 1, &weight, &[0.0, 0.0], (3, 3), vec![], vec![1.0], 0.11).unwrap_err();
        assert!(err.to_string().contains("not causal"), "{err}");
        let weight = vec![0.0f32; 2 * 9];
        let err = RasterScan::new(1, 1, &weight, &[0.0, 0.0], (3, 3), vec![], vec![1.0], 0.11).unwrap_err();
        assert!(err.to_string().contains("outputs 3 channels, expected 2"), "{err}");
        let err =
            RasterScan::new(1, 1, &weight[..8], &[0.0, 0.0], (3, 3), vec![], vec![1.0], 0.11).unwrap_err();
        assert!(err.to_string().contains("weight has 8 values"), "{err}");
        let err = RasterScan::new(1, 1, &[0.0; 8], &[0.0, 0.0], (2, 2), vec![], vec![1.0], 0.11).unwrap_err();
        assert!(err.to_string().contains("odd"), "{err}");
    }
}
