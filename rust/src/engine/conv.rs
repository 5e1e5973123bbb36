//! Convolutions as dense layers over gathered taps (im2col), evaluated by the block kernels of
//! [`crate::network`].
//!
//! A [`TapConv`] computes a grid of output positions: position `(y, x)` reads input
//! `(y·stride + dy, x·stride + dx)` for each of its taps `(dy, dx)`, zero outside the input. Its
//! weights form one dense layer whose input `t · channels + c` is channel `c` at tap `t`, so every
//! output is `bias + Σ_t Σ_c w·x` in that order (taps in kernel raster order, then channels),
//! whatever kernel or thread runs it. Tap-major order makes gathering a tap one contiguous copy
//! from a channels-last copy of the input (as the autoregressive loop gathers its context). A strided
//! convolution is one such grid; a transposed convolution of stride `s` is `s²` of them (its
//! phases), each with the taps that reach real input values, so no multiply-add is spent on the
//! zeros that the textbook definition inserts between inputs.
//!
//! Rows of the output grid are cut into chunks whose gathered inputs fit a core's L2 cache;
//! the chunks run in parallel, each output computed entirely by one task.

use rayon::prelude::*;

use super::{Context, FpEnv, Tensor};
use crate::error::{Error, Result};
use crate::network::{Dense, LANES, ROWS};

/// Gathered input values per chunk (192 KiB): the chunk and two blocks of weights stay in L2
/// while every block of outputs streams over them.
const CHUNK_VALUES: usize = 48 * 1024;

fn invalid(what: &'static str, message: String) -> Error {
    Error::InvalidArgument { what, message }
}

/// A grid of output positions computed as a dense layer over gathered taps.
#[derive(Debug, Clone)]
struct TapConv {
    in_channels: usize,
    taps: Vec<(isize, isize)>,
    stride: usize,
    dense: Dense,
    /// Gather `x²` instead of `x` (GDN's norm).
    square: bool,
}

impl TapConv {
    /// `weight`: `outputs × (taps.len() · in_channels)`, row-major, input `t · in_channels + c`.
    fn new(
        weight: &[f32],
        bias: Option<&[f32]>,
        outputs: usize,
        in_channels: usize,
        taps: Vec<(isize, isize)>,
        stride: usize,
        square: bool,
    ) -> Result<Self> {
        let dense = Dense::new(weight, bias, outputs, in_channels * taps.len())?;
        Ok(TapConv { in_channels, taps, stride, dense, square })
    }

    fn outputs(&self) -> usize {
        self.dense.outputs()
    }

    /// The `gh × gw` grid of every output channel, `[outputs][gh][gw]`.
    fn run(&self, ctx: Context, input: &Tensor, gh: usize, gw: usize) -> Vec<f32> {
        let (outputs, plane) = (self.outputs(), gh * gw);
        if plane == 0 {
            return Vec::new();
        }
        let per_row = gw * self.dense.inputs();
        // At least four chunks where the grid allows, so that threads have work to share.
        let rows = (CHUNK_VALUES / per_row).clamp(1, gh.div_ceil(4).max(1));
        let hwc = self.channels_last(input);
        let tiles: Vec<Vec<f32>> = (0..gh.div_ceil(rows))
            .into_par_iter()
            .map(|k| {
                let _env = FpEnv::enter();
                let y0 = k * rows;
                self.tile(ctx, input, &hwc, y0, rows.min(gh - y0), gw)
            })
            .collect();
        if tiles.len() == 1 {
            return tiles.into_iter().next().expect("one tile");
        }
        let mut out = vec![0.0; outputs * plane];
        for (k, tile) in tiles.iter().enumerate() {
            let n = tile.len() / outputs;
            for (dst, src) in out.chunks_exact_mut(plane).zip(tile.chunks_exact(n)) {
                dst[k * rows * gw..][..n].copy_from_slice(src);
            }
        }
        out
    }

    /// Rows `y0 .. y0 + rows` of the grid, `[outputs][rows · gw]`; `hwc` is the input
    /// channels-last (see [`TapConv::channels_last`]).
    fn tile(&self, ctx: Context, input: &Tensor, hwc: &[f32], y0: usize, rows: usize, gw: usize) -> Vec<f32> {
        let (inputs, outputs) = (self.dense.inputs(), self.outputs());
        let n = rows * gw;
        let padded = n.next_multiple_of(ROWS);
        // Zero-initialised: taps outside the input and the padding rows stay 0.
        let mut col = vec![0.0f32; padded * inputs];
        self.gather(input, hwc, y0, rows, gw, &mut col);
        let mut tile = vec![0.0f32; outputs * n];
        let blocks: Vec<_> = self.dense.blocks().collect();
        // Blocks in pairs: the AVX-512 kernel shares each gathered input between two.
        for (pair, two) in blocks.chunks(2).enumerate() {
            let init = |b: usize| {
                let bias: [f32; LANES] = two[b].1.try_into().expect("LANES biases per block");
                [bias; ROWS]
            };
            let inits: Vec<_> = (0..two.len()).map(init).collect();
            for first in (0..padded).step_by(ROWS) {
                let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &col[(first + r) * inputs..][..inputs]);
                let results = if two.len() == 2 {
                    ctx.kernel.block_pair((two[0].0, &inits[0]), (two[1].0, &inits[1]), &xs).to_vec()
                } else {
                    vec![ctx.kernel.block_from(two[0].0, &inits[0], &xs)]
                };
                let valid = ROWS.min(n - first);
                for (k, acc) in results.iter().enumerate() {
                    let block = 2 * pair + k;
                    for l in 0..LANES.min(outputs - block * LANES) {
                        let dst = &mut tile[(block * LANES + l) * n + first..][..valid];
                        for (r, d) in dst.iter_mut().enumerate() {
                            *d = acc[r][l];
                        }
                    }
                }
            }
        }
        tile
    }

    /// The input channels-last (`[y][x][c]`), squared for GDN: every tap of a position then
    /// gathers as one contiguous copy of `in_channels` values.
    fn channels_last(&self, input: &Tensor) -> Vec<f32> {
        let c_n = input.channels;
        let mut hwc = vec![0.0f32; input.data.len()];
        for (c, plane) in input.data.chunks_exact(input.plane()).enumerate() {
            let dst = hwc[c..].iter_mut().step_by(c_n);
            if self.square {
                dst.zip(plane).for_each(|(d, &v)| *d = v * v);
            } else {
                dst.zip(plane).for_each(|(d, &v)| *d = v);
            }
        }
        hwc
    }

    /// Writes the gathered inputs of rows `y0 .. y0 + rows` into `col` (zeroed), one row of
    /// `inputs` values per position, input `t · in_channels + c` being channel `c` at tap `t`.
    fn gather(&self, input: &Tensor, hwc: &[f32], y0: usize, rows: usize, gw: usize, col: &mut [f32]) {
        let (inputs, c_n) = (self.dense.inputs(), self.in_channels);
        let (h, w) = (input.height as isize, input.width as isize);
        let s = self.stride as isize;
        for (p, dst) in col.chunks_exact_mut(inputs).take(rows * gw).enumerate() {
            let (y, x) = ((y0 + p / gw) as isize, (p % gw) as isize);
            for (&(dy, dx), part) in self.taps.iter().zip(dst.chunks_exact_mut(c_n)) {
                let (iy, ix) = (y * s + dy, x * s + dx);
                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                    part.copy_from_slice(&hwc[(iy * w + ix) as usize * c_n..][..c_n]);
                }
            }
        }
    }
}

/// Taps of a `kh × kw` kernel (`(ky, kx)`, row-major) that hold a non-zero weight for some
/// (output, input) channel pair; all of them if none does. Masked taps are thus not terms.
fn live_taps(
    candidates: &[(usize, usize)],
    weight_at: impl Fn(usize, usize, usize, usize) -> f32,
    outputs: usize,
    inputs: usize,
) -> Vec<(usize, usize)> {
    let live: Vec<_> = candidates
        .iter()
        .copied()
        .filter(|&(ky, kx)| (0..outputs).any(|o| (0..inputs).any(|c| weight_at(o, c, ky, kx) != 0.0)))
        .collect();
    if live.is_empty() {
        candidates.to_vec()
    } else {
        live
    }
}

/// Gathers `weight_at(o, c, ky, kx)` into the `outputs × (taps · inputs)` dense layout, input
/// `t · inputs + c` being channel `c` at tap `t`.
fn gather_weights(
    taps: &[(usize, usize)],
    weight_at: impl Fn(usize, usize, usize, usize) -> f32,
    outputs: usize,
    inputs: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(outputs * inputs * taps.len());
    for o in 0..outputs {
        for &(ky, kx) in taps {
            out.extend((0..inputs).map(|c| weight_at(o, c, ky, kx)));
        }
    }
    out
}

fn check_weights(
    weight: &[f32],
    bias: Option<&[f32]>,
    shape: [usize; 4],
    outputs: usize,
    layout: &str,
) -> Result<()> {
    if shape.contains(&0) {
        return Err(invalid("weight", format!("shape {shape:?} has a zero dimension")));
    }
    if weight.len() != shape.iter().product::<usize>() {
        return Err(invalid("weight", format!("{} values for shape {shape:?} ({layout})", weight.len())));
    }
    if let Some(b) = bias {
        if b.len() != outputs {
            return Err(invalid("bias", format!("{} values for {outputs} output channels", b.len())));
        }
    }
    Ok(())
}

fn check_input(x: &Tensor, channels: usize, what: &'static str) -> Result<()> {
    x.expect_channels(channels, what)?;
    if x.height == 0 || x.width == 0 {
        return Err(invalid(what, format!("input of size {}x{}", x.height, x.width)));
    }
    Ok(())
}

/// A 2-D convolution with zero padding (torch's `Conv2d`, one group, no dilation).
///
/// Output `(o, y, x)` is `bias[o]`, then `+ w[o, c, ky, kx] · in[c, y·s + ky − p, x·s + kx − p]`
/// for `(ky, kx, c)` in lexicographic order (a padding value is a term `w · 0`). Taps whose
/// weight is zero for every channel pair (a masked or checkerboard convolution's) are not
/// terms.
#[derive(Debug, Clone)]
pub struct Conv2d {
    conv: TapConv,
    kernel: (usize, usize),
    padding: (usize, usize),
}

impl Conv2d {
    /// `weight`: `(out_channels, in_channels, kh, kw)` row-major (torch's layout); `bias`:
    /// `out_channels` values or none; `stride` >= 1; `padding` (rows, columns) of zeros.
    pub fn new(
        weight: &[f32],
        bias: Option<&[f32]>,
        shape: [usize; 4],
        stride: usize,
        padding: (usize, usize),
    ) -> Result<Self> {
        let [outputs, inputs, kh, kw] = shape;
        check_weights(weight, bias, shape, outputs, "out, in, kh, kw")?;
        if stride == 0 {
            return Err(invalid("stride", "must be at least 1".into()));
        }
        let at = |o: usize, c: usize, ky: usize, kx: usize| weight[((o * inputs + c) * kh + ky) * kw + kx];
        let candidates: Vec<_> = (0..kh).flat_map(|ky| (0..kw).map(move |kx| (ky, kx))).collect();
        let taps = live_taps(&candidates, at, outputs, inputs);
        let packed = gather_weights(&taps, at, outputs, inputs);
        let offsets =
            taps.iter().map(|&(ky, kx)| (ky as isize - padding.0 as isize, kx as isize - padding.1 as isize));
        let conv = TapConv::new(&packed, bias, outputs, inputs, offsets.collect(), stride, false)?;
        Ok(Conv2d { conv, kernel: (kh, kw), padding })
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.conv.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.outputs()
    }

    /// The output size for an input of `height × width`.
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        let side = |n: usize, p: usize, k: usize| {
            (n + 2 * p).checked_sub(k).map(|v| v / self.conv.stride + 1).filter(|&v| v > 0)
        };
        match (side(height, self.padding.0, self.kernel.0), side(width, self.padding.1, self.kernel.1)) {
            (Some(h), Some(w)) => Ok((h, w)),
            _ => Err(invalid(
                "input",
                format!("{height}x{width} is smaller than the {}x{} kernel", self.kernel.0, self.kernel.1),
            )),
        }
    }

    pub(crate) fn forward(&self, ctx: Context, x: &Tensor) -> Result<Tensor> {
        check_input(x, self.in_channels(), "conv2d")?;
        let (h, w) = self.output_size(x.height, x.width)?;
        Tensor::new(self.out_channels(), h, w, self.conv.run(ctx, x, h, w))
    }
}

/// A transposed 2-D convolution (torch's `ConvTranspose2d`, one group, no dilation), computed
/// as `stride²` phase convolutions.
///
/// Output `(o, Y, X)` is `bias[o]`, then `+ w[c, o, ky, kx] · in[c, iy, ix]` over the `(ky, kx,
/// c)` (lexicographic) with `Y = iy·s − p + ky` and `X = ix·s − p + kx` for integers `iy`, `ix`
/// (a term whose `iy` or `ix` falls outside the input is `w · 0`). The output is
/// `(H − 1)·s − 2p + k + output_padding` high (`2H` for `k` odd, `s = 2`, `p = k // 2`,
/// `output_padding = 1`: CompressAI's `deconv`).
#[derive(Debug, Clone)]
pub struct ConvTranspose2d {
    /// `(py, px, phase)` for every output phase.
    phases: Vec<(usize, usize, TapConv)>,
    in_channels: usize,
    out_channels: usize,
    kernel: (usize, usize),
    stride: usize,
    padding: (usize, usize),
    output_padding: (usize, usize),
}

impl ConvTranspose2d {
    /// `weight`: `(in_channels, out_channels, kh, kw)` row-major (torch's layout); `bias`:
    /// `out_channels` values or none; `stride` >= 1 and at most each kernel side; `padding`
    /// below each kernel side; `output_padding` below `stride`.
    pub fn new(
        weight: &[f32],
        bias: Option<&[f32]>,
        shape: [usize; 4],
        stride: usize,
        padding: (usize, usize),
        output_padding: (usize, usize),
    ) -> Result<Self> {
        let [inputs, outputs, kh, kw] = shape;
        check_weights(weight, bias, shape, outputs, "in, out, kh, kw")?;
        if stride == 0 || stride > kh || stride > kw {
            return Err(invalid("stride", format!("{stride} must be in [1, kernel side] ({kh}x{kw})")));
        }
        if padding.0 >= kh || padding.1 >= kw {
            return Err(invalid("padding", format!("{padding:?} must be below the kernel sides {kh}x{kw}")));
        }
        if output_padding.0 >= stride || output_padding.1 >= stride {
            return Err(invalid(
                "output_padding",
                format!("{output_padding:?} must be below the stride {stride}"),
            ));
        }
        let at = |o: usize, c: usize, ky: usize, kx: usize| weight[((c * outputs + o) * kh + ky) * kw + kx];
        let s = stride as isize;
        // Phase p along one axis: the kernel taps k with (p + pad − k) ≡ 0 (mod s), reading
        // input offset (p + pad − k) / s.
        let axis = |phase: usize, pad: usize, k: usize| -> Vec<(usize, isize)> {
            (0..k)
                .filter_map(|t| {
                    let d = (phase + pad) as isize - t as isize;
                    (d.rem_euclid(s) == 0).then_some((t, d.div_euclid(s)))
                })
                .collect()
        };
        let mut phases = Vec::with_capacity(stride * stride);
        for py in 0..stride {
            for px in 0..stride {
                let (rows, cols) = (axis(py, padding.0, kh), axis(px, padding.1, kw));
                let candidates: Vec<_> =
                    rows.iter().flat_map(|&(ky, _)| cols.iter().map(move |&(kx, _)| (ky, kx))).collect();
                let taps = live_taps(&candidates, at, outputs, inputs);
                let packed = gather_weights(&taps, at, outputs, inputs);
                let offset = |k: usize, axis: &[(usize, isize)]| {
                    axis.iter().find(|&&(t, _)| t == k).expect("a candidate tap").1
                };
                let offsets = taps.iter().map(|&(ky, kx)| (offset(ky, &rows), offset(kx, &cols))).collect();
                phases.push((py, px, TapConv::new(&packed, bias, outputs, inputs, offsets, 1, false)?));
            }
        }
        Ok(ConvTranspose2d {
            phases,
            in_channels: inputs,
            out_channels: outputs,
            kernel: (kh, kw),
            stride,
            padding,
            output_padding,
        })
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The output size for an input of `height × width`.
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        let side = |n: usize, p: usize, k: usize, op: usize| {
            ((n - 1) * self.stride + k + op).checked_sub(2 * p).filter(|&v| v > 0)
        };
        let h = side(height.max(1), self.padding.0, self.kernel.0, self.output_padding.0);
        let w = side(width.max(1), self.padding.1, self.kernel.1, self.output_padding.1);
        match (h, w) {
            (Some(h), Some(w)) => Ok((h, w)),
            _ => Err(invalid("input", format!("{height}x{width} gives an empty output"))),
        }
    }

    pub(crate) fn forward(&self, ctx: Context, x: &Tensor) -> Result<Tensor> {
        check_input(x, self.in_channels, "conv_transpose2d")?;
        let (h, w) = self.output_size(x.height, x.width)?;
        let s = self.stride;
        let mut out = Tensor::zeros(self.out_channels, h, w);
        for (py, px, phase) in &self.phases {
            let (gh, gw) = ((h + s - 1 - py) / s, (w + s - 1 - px) / s);
            let grid = phase.run(ctx, x, gh, gw);
            if grid.is_empty() {
                continue;
            }
            for (dst, src) in out.data.chunks_exact_mut(h * w).zip(grid.chunks_exact(gh * gw)) {
                for (yy, row) in src.chunks_exact(gw).enumerate() {
                    let line = &mut dst[(yy * s + py) * w..][..w];
                    line[*px..].iter_mut().step_by(s).zip(row).for_each(|(d, &v)| *d = v);
                }
            }
        }
        Ok(out)
    }
}

/// Generalized divisive normalization across channels (GDN), or its inverse (IGDN):
/// `y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²)`, or `x_i · sqrt(...)`.
///
/// `β` and `γ` are the effective values (torch's GDN stores reparametrised ones). The norm is
/// a 1x1 convolution of `x²` (`β_i`, then `+ γ_ij · x_j²` for `j = 0, 1, ...`), then one
/// correctly rounded `sqrt` and one division or multiplication.
#[derive(Debug, Clone)]
pub struct Gdn {
    norm: TapConv,
    inverse: bool,
}

impl Gdn {
    /// `beta`: `C` values; `gamma`: `C × C`, row-major, `gamma[i][j]` weighing `x_j²` in the
    /// norm of channel `i`; `inverse`: IGDN.
    pub fn new(beta: &[f32], gamma: &[f32], inverse: bool) -> Result<Self> {
        let c = beta.len();
        if c == 0 {
            return Err(invalid("beta", "GDN needs at least one channel".into()));
        }
        if gamma.len() != c * c {
            return Err(invalid("gamma", format!("{} values for {c} x {c} channels", gamma.len())));
        }
        Ok(Gdn { norm: TapConv::new(gamma, Some(beta), c, c, vec![(0, 0)], 1, true)?, inverse })
    }

    /// Channels.
    pub fn channels(&self) -> usize {
        self.norm.in_channels
    }

    pub(crate) fn forward(&self, ctx: Context, x: &Tensor) -> Result<Tensor> {
        check_input(x, self.channels(), "gdn")?;
        let norm = self.norm.run(ctx, x, x.height, x.width);
        let data = if self.inverse {
            x.data.iter().zip(&norm).map(|(&v, &n)| v * n.sqrt()).collect()
        } else {
            x.data.iter().zip(&norm).map(|(&v, &n)| v / n.sqrt()).collect()
        };
        Tensor::new(x.channels, x.height, x.width, data)
    }
}
