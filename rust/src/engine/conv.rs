//! Convolutions as dense layers over taps, evaluated by the kernels of [`crate::network`].
//!
//! A [`TapConv`] computes a grid of output positions: position `(y, x)` reads input
//! `(y·stride + dy, x·stride + dx)` for each of its taps `(dy, dx)`, zero outside the input. Its
//! weights form one dense layer whose input `t · channels + c` is channel `c` at tap `t`, so every
//! output is `bias + Σ_t Σ_c w·x` in that order (taps in kernel raster order, then channels),
//! whatever kernel or thread runs it. A strided convolution is one such grid; a transposed
//! convolution of stride `s` is `s²` of them (its phases), each with the taps that reach real
//! input values, so no multiply-add is spent on the zeros that the textbook definition inserts
//! between inputs.
//!
//! Two evaluations, the same sums:
//!
//! * **lanes** (16 or more outputs): [`Kernel::block_pair`] runs 32 outputs × 8 positions in
//!   registers. The sum is cut into slabs (one tap, at most [`SLAB`] channels) and each slab
//!   streams its weights (a pair's slab fits L1) over every group of positions, continuing
//!   from the accumulators the previous slab left ([`Kernel::block_from`]: a sequential sum
//!   cut in two is the same sum). The inputs are read in place from a channels-last copy (a
//!   tap of a position is `channels` contiguous values), padding from a zero row; only layers
//!   with few input channels (an image's three) gather an im2col copy first.
//! * **spatial** (stride 1 with fewer than 16 outputs, and GDN's norm):
//!   [`Kernel::spatial`] runs 64 neighbouring positions × up to 6 outputs, reading a
//!   zero-padded planar copy of the input, so an RGB output wastes no lanes and GDN needs no
//!   transposition; GDN applies its `sqrt` while the sums are still in cache.
//!
//! Output rows are split into chunks that run in parallel, each output computed entirely by
//! one task; on one thread the layer is one chunk written in place.

use rayon::prelude::*;

use super::{buffers, Context, FpEnv, Tensor};
use crate::error::{Error, Result};
use crate::network::{Dense, Offsets, LANES, ROWS, SPAN};

/// Channels per slab of the lanes evaluation: a pair of blocks' slab of weights
/// (`2 · 16 · SLAB` floats, 20 KiB) stays in L1 while the positions stream by.
const SLAB: usize = 160;

/// Bytes of accumulators (and of one slab's inputs) the lanes evaluation keeps per sub-block
/// of rows: with the weights' slab they stay in L2.
const SUB_BLOCK_BYTES: usize = 192 * 1024;

/// Outputs per [`Kernel::spatial`] call: `4 · 6` accumulators, the rest of the 32 registers
/// for the inputs and the broadcast weight.
const SPATIAL_OUTPUTS: usize = 6;

fn invalid(what: &'static str, message: String) -> Error {
    Error::InvalidArgument { what, message }
}

/// A buffer of zeros from this thread's pool ([`super::buffers`]), returned to it when dropped.
struct Scratch(Vec<f32>);

impl Scratch {
    fn zeroed(len: usize) -> Self {
        Scratch(buffers::zeroed(len))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        buffers::recycle(std::mem::take(&mut self.0));
    }
}

impl std::ops::Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl std::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

/// An input laid out for the evaluation of a [`TapConv`] (shared by a transposed
/// convolution's phases, which read the same input).
enum Prepared {
    /// Channels-last (`[y][x][c]`), for the lanes evaluation.
    ChannelsLast(Scratch),
    /// Zero-padded planar, for the spatial evaluation.
    Padded(Padded),
}

/// What to do with a spatial sum before it is stored: nothing, or GDN's division or IGDN's
/// multiplication of the input by its square root.
#[derive(Clone, Copy)]
enum Finish<'a> {
    Sum,
    Gdn { x: &'a [f32], inverse: bool },
}

/// The spatial evaluation's weights: per group of at most [`SPATIAL_OUTPUTS`] outputs,
/// `(first output, outputs, weights [input][output])`, and the biases.
#[derive(Debug, Clone)]
struct SpatialWeights {
    groups: Vec<(usize, usize, Vec<f32>)>,
    bias: Vec<f32>,
}

/// A grid of output positions computed as a dense layer over taps.
#[derive(Debug, Clone)]
struct TapConv {
    in_channels: usize,
    taps: Vec<(isize, isize)>,
    stride: usize,
    dense: Dense,
    /// Present when the spatial evaluation is used.
    spatial: Option<SpatialWeights>,
    /// Read `x²` instead of `x` (GDN's norm).
    square: bool,
}

/// Where the lanes evaluation reads a position's inputs.
enum Source<'a> {
    /// Channels-last input (`[y][x][c]`), a slab being `(tap, first channel, channels)`.
    Direct { hwc: &'a [f32], height: usize, width: usize },
    /// Gathered rows of `inputs` values (im2col) of the sub-block, zeros beyond.
    Gathered { col: &'a [f32] },
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
        let inputs = in_channels * taps.len();
        let dense = Dense::new(weight, bias, outputs, inputs)?;
        let spatial = (stride == 1 && (outputs < LANES || square)).then(|| {
            let groups = (0..outputs)
                .step_by(SPATIAL_OUTPUTS)
                .map(|o0| {
                    let n = SPATIAL_OUTPUTS.min(outputs - o0);
                    let mut w = Vec::with_capacity(inputs * n);
                    for i in 0..inputs {
                        w.extend((o0..o0 + n).map(|o| weight[o * inputs + i]));
                    }
                    (o0, n, w)
                })
                .collect();
            SpatialWeights { groups, bias: bias.map_or_else(|| vec![0.0; outputs], <[f32]>::to_vec) }
        });
        Ok(TapConv { in_channels, taps, stride, dense, spatial, square })
    }

    fn outputs(&self) -> usize {
        self.dense.outputs()
    }

    /// `input` laid out for this convolution's evaluation, for a grid of up to `gh × gw`
    /// positions and the taps `all_taps` (a superset of this convolution's).
    fn prepare(&self, input: &Tensor, all_taps: &[(isize, isize)], gh: usize, gw: usize) -> Prepared {
        if self.spatial.is_some() {
            Prepared::Padded(Padded::new(input, all_taps, gh, gw, self.square))
        } else {
            Prepared::ChannelsLast(self.channels_last(input))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn run_with(
        &self,
        ctx: Context,
        input: &Tensor,
        prepared: &Prepared,
        gh: usize,
        gw: usize,
        finish: Finish,
        out: &mut Grid,
    ) {
        let outputs = self.outputs();
        if gh * gw == 0 {
            return;
        }
        match (prepared, &self.spatial) {
            (Prepared::Padded(padded), Some(spatial)) => {
                let offsets = padded.offsets(&self.taps, self.in_channels);
                by_rows(gh, gw, outputs, out, |y0, rows, grid| {
                    self.spatial_rows(ctx, spatial, padded, &offsets, y0, rows, gw, finish, grid)
                });
            }
            (Prepared::ChannelsLast(hwc), None) => {
                let direct = self.in_channels >= LANES;
                by_rows(gh, gw, outputs, out, |y0, rows, grid| {
                    self.lanes_rows(ctx, input, hwc, direct, y0, rows, gw, grid)
                });
            }
            _ => unreachable!("prepared by this convolution's `prepare`"),
        }
    }

    /// Rows `y0 .. y0 + rows` of the grid by the spatial kernel into `grid` (whose row 0 is
    /// row `y0`). Columns of [`SPAN`] positions outer, rows inner: the next row reuses all but
    /// one of the input rows a tap reads, still in L2.
    #[allow(clippy::too_many_arguments)]
    fn spatial_rows(
        &self,
        ctx: Context,
        weights: &SpatialWeights,
        padded: &Padded,
        offsets: &Offsets,
        y0: usize,
        rows: usize,
        gw: usize,
        finish: Finish,
        grid: &mut Grid,
    ) {
        let mut acc = [[0.0f32; SPAN]; SPATIAL_OUTPUTS];
        for x0 in (0..gw).step_by(SPAN) {
            let valid = SPAN.min(gw - x0);
            for y in y0..y0 + rows {
                let base = y * padded.rs + x0;
                for (o0, count, w) in &weights.groups {
                    for (row, &b) in acc.iter_mut().zip(&weights.bias[*o0..o0 + count]) {
                        *row = [b; SPAN];
                    }
                    spatial_call(ctx, *count, w, &padded.data, base, offsets, &mut acc);
                    for (o, row) in acc.iter().take(*count).enumerate() {
                        match finish {
                            Finish::Sum => {
                                grid.line(o0 + o, y - y0, x0).take(valid).zip(row).for_each(|(d, &v)| *d = v)
                            }
                            Finish::Gdn { x, inverse } => {
                                // GDN's grid is plain (step 1): a contiguous run, finished by
                                // the kernel's vector sqrt.
                                let plane = x.len() / self.outputs();
                                let src = &x[(o0 + o) * plane + y * gw + x0..][..valid];
                                let dst = grid.run(o0 + o, y - y0, x0, valid);
                                ctx.kernel.gdn_finish(src, &row[..valid], dst, inverse);
                            }
                        }
                    }
                }
            }
        }
    }

    /// Rows `y0 .. y0 + rows` of the grid by the lanes kernels into `tile`
    /// (`[outputs][rows · gw]`), in sub-blocks of rows whose accumulators stay in L2.
    #[allow(clippy::too_many_arguments)]
    fn lanes_rows(
        &self,
        ctx: Context,
        input: &Tensor,
        hwc: &[f32],
        direct: bool,
        y0: usize,
        rows: usize,
        gw: usize,
        grid: &mut Grid,
    ) {
        let (inputs, outputs) = (self.dense.inputs(), self.outputs());
        let widest =
            outputs.next_multiple_of(LANES).max(if direct { self.in_channels.min(SLAB) } else { inputs });
        let sub = (SUB_BLOCK_BYTES / (gw * widest * 4)).clamp(1, rows);
        for s0 in (0..rows).step_by(sub) {
            let sub_rows = sub.min(rows - s0);
            let n = sub_rows * gw;
            let groups = n.div_ceil(ROWS);
            let gather_len = if direct { 0 } else { groups * ROWS * inputs };
            let mut col = Scratch::zeroed(gather_len);
            {
                let source = if direct {
                    Source::Direct { hwc, height: input.height, width: input.width }
                } else {
                    self.gather(input, hwc, y0 + s0, sub_rows, gw, &mut col);
                    Source::Gathered { col: &col }
                };
                let block_sums = self.lanes_block(ctx, &source, y0 + s0, n, gw);
                // Accumulators [group][block][row][lane] to the grid, one output row at a
                // time (sequential writes, one page at a time).
                let blocks = outputs.div_ceil(LANES);
                for o in 0..outputs {
                    let (b, l) = (o / LANES, o % LANES);
                    for k in 0..sub_rows {
                        let first = k * gw;
                        for (x, d) in grid.line(o, s0 + k, 0).take(gw).enumerate() {
                            let p = first + x;
                            *d = block_sums[p / ROWS * blocks + b][p % ROWS][l];
                        }
                    }
                }
            }
        }
    }

    /// The sums of `n` positions from row `y0` on, `[group][block]` accumulators of
    /// [`ROWS`] × [`LANES`]: bias, then slab after slab in input order.
    fn lanes_block(
        &self,
        ctx: Context,
        source: &Source,
        y0: usize,
        n: usize,
        gw: usize,
    ) -> Vec<[[f32; LANES]; ROWS]> {
        let c_n = self.in_channels;
        let blocks: Vec<_> = self.dense.blocks().collect();
        let groups = n.div_ceil(ROWS);
        let mut acc: Vec<[[f32; LANES]; ROWS]> = Vec::with_capacity(groups * blocks.len());
        for _ in 0..groups {
            for (_, bias) in &blocks {
                acc.push([bias[..LANES].try_into().expect("LANES biases per block"); ROWS]);
            }
        }
        // Slabs (first input, inputs): a tap's channels in parts of at most SLAB when reading
        // in place, else the gathered rows in parts of at most SLAB.
        let slabs: Vec<(usize, usize)> = match source {
            Source::Direct { .. } => {
                let parts = c_n.div_ceil(SLAB);
                (0..self.taps.len())
                    .flat_map(|t| {
                        (0..parts).map(move |k| {
                            (t * c_n + k * c_n / parts, (k + 1) * c_n / parts - k * c_n / parts)
                        })
                    })
                    .collect()
            }
            Source::Gathered { .. } => {
                let inputs = self.dense.inputs();
                let parts = inputs.div_ceil(SLAB);
                (0..parts)
                    .map(|k| (k * inputs / parts, (k + 1) * inputs / parts - k * inputs / parts))
                    .collect()
            }
        };
        let zeros = [0.0f32; SLAB];
        let mut xs_of: Vec<[&[f32]; ROWS]> = Vec::with_capacity(groups);
        for &(first, len) in &slabs {
            xs_of.clear();
            for g in 0..groups {
                xs_of.push(std::array::from_fn(|r| {
                    let p = g * ROWS + r;
                    match *source {
                        Source::Gathered { col } => &col[p * self.dense.inputs() + first..][..len],
                        Source::Direct { hwc, height, width } => {
                            let (t, c0) = (first / c_n, first % c_n);
                            let (dy, dx) = self.taps[t];
                            let s = self.stride as isize;
                            let (iy, ix) = ((y0 + p / gw) as isize * s + dy, (p % gw) as isize * s + dx);
                            if p < n && iy >= 0 && iy < height as isize && ix >= 0 && ix < width as isize {
                                &hwc[(iy as usize * width + ix as usize) * c_n + c0..][..len]
                            } else {
                                &zeros[..len]
                            }
                        }
                    }
                }));
            }
            let slab = first * LANES..(first + len) * LANES;
            let w = |b: usize| &blocks[b].0[slab.clone()];
            // Blocks in runs of up to the kernel's width (three with AVX-512), the runs outer:
            // a run's slab of weights stays in L1 while the groups stream by.
            // Runs of even sizes (four blocks: two pairs, not a triple and a single).
            let runs = blocks.len().div_ceil(ctx.kernel.width());
            for run in 0..runs {
                let (b0, b1) = (run * blocks.len() / runs, (run + 1) * blocks.len() / runs);
                let k = b1 - b0;
                for (g, xs) in xs_of.iter().enumerate() {
                    let at = g * blocks.len() + b0;
                    match &mut acc[at..at + k] {
                        [a0, a1, a2] => {
                            ctx.kernel.blocks_from(&mut [(w(b0), a0), (w(b0 + 1), a1), (w(b0 + 2), a2)], xs)
                        }
                        [a0, a1] => ctx.kernel.blocks_from(&mut [(w(b0), a0), (w(b0 + 1), a1)], xs),
                        [a0] => ctx.kernel.blocks_from(&mut [(w(b0), a0)], xs),
                        _ => unreachable!("a run holds one to three blocks"),
                    }
                }
            }
        }
        acc
    }

    /// The input channels-last (`[y][x][c]`), squared for GDN: every tap of a position then
    /// reads (or gathers) one contiguous run of `in_channels` values.
    fn channels_last(&self, input: &Tensor) -> Scratch {
        let c_n = input.channels;
        let mut hwc = Scratch::zeroed(input.data.len());
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

/// The spatial evaluation's zero-padded planar input: channel `c`, row `yy`, column `xx` is
/// input `(c, yy + dy_min, xx + dx_min)` (squared for GDN), rows `rs` apart, planes `plane`
/// apart, wide and high enough for every [`SPAN`] of every row of the grid at every tap.
struct Padded {
    data: Scratch,
    rs: usize,
    plane: usize,
    dy_min: isize,
    dx_min: isize,
}

impl Padded {
    fn new(input: &Tensor, taps: &[(isize, isize)], gh: usize, gw: usize, square: bool) -> Self {
        let (dy_min, dy_max) = min_max(taps.iter().map(|t| t.0));
        let (dx_min, dx_max) = min_max(taps.iter().map(|t| t.1));
        let rows = gh + (dy_max - dy_min) as usize;
        let rs = gw.next_multiple_of(SPAN) + (dx_max - dx_min) as usize;
        let plane = rows * rs;
        let (h, w) = (input.height as isize, input.width as isize);
        let mut data = Scratch::zeroed(input.channels * plane);
        let (x_lo, x_hi) = ((-dx_min).max(0), (w - dx_min).min(rs as isize));
        for (src, dst) in input.data.chunks_exact(input.plane()).zip(data.chunks_exact_mut(plane)) {
            for yy in 0..rows as isize {
                let iy = yy + dy_min;
                if iy < 0 || iy >= h || x_lo >= x_hi {
                    continue;
                }
                let from = &src[(iy * w + x_lo + dx_min) as usize..(iy * w + x_hi + dx_min) as usize];
                let to = &mut dst[yy as usize * rs + x_lo as usize..][..from.len()];
                if square {
                    to.iter_mut().zip(from).for_each(|(d, &v)| *d = v * v);
                } else {
                    to.copy_from_slice(from);
                }
            }
        }
        Padded { data, rs, plane, dy_min, dx_min }
    }

    /// Where input `t · channels + c` of the grid's position (0, 0) starts.
    fn offsets(&self, taps: &[(isize, isize)], channels: usize) -> Offsets {
        Offsets::new(
            taps.iter()
                .flat_map(|&(dy, dx)| {
                    let at = (dy - self.dy_min) as usize * self.rs + (dx - self.dx_min) as usize;
                    (0..channels).map(move |c| c * self.plane + at)
                })
                .collect(),
        )
    }
}

fn min_max(values: impl Iterator<Item = isize>) -> (isize, isize) {
    values.fold((isize::MAX, isize::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// [`crate::network::Kernel::spatial`] for `count` (1 to [`SPATIAL_OUTPUTS`]) outputs, the
/// first `count` rows of `acc`.
fn spatial_call(
    ctx: Context,
    count: usize,
    w: &[f32],
    src: &[f32],
    base: usize,
    offsets: &Offsets,
    acc: &mut [[f32; SPAN]; SPATIAL_OUTPUTS],
) {
    const { assert!(SPATIAL_OUTPUTS == 6) };
    fn call<const O: usize>(
        ctx: Context,
        w: &[f32],
        src: &[f32],
        base: usize,
        offsets: &Offsets,
        acc: &mut [[f32; SPAN]; SPATIAL_OUTPUTS],
    ) {
        let rows: &mut [[f32; SPAN]; O] = (&mut acc[..O]).try_into().expect("O <= SPATIAL_OUTPUTS");
        ctx.kernel.spatial::<O>(w, src, base, offsets, rows);
    }
    match count {
        1 => call::<1>(ctx, w, src, base, offsets, acc),
        2 => call::<2>(ctx, w, src, base, offsets, acc),
        3 => call::<3>(ctx, w, src, base, offsets, acc),
        4 => call::<4>(ctx, w, src, base, offsets, acc),
        5 => call::<5>(ctx, w, src, base, offsets, acc),
        _ => call::<6>(ctx, w, src, base, offsets, acc),
    }
}

/// Where a grid's outputs go: output `o`, position `(y, x)` of the grid at
/// `data[o · plane + (y · step + oy) · row + x · step + ox]` (a transposed convolution's phase
/// writes every `step`-th value of the layer's output directly; a plain grid has step 1).
struct Grid<'a> {
    data: &'a mut [f32],
    plane: usize,
    row: usize,
    step: usize,
    oy: usize,
    ox: usize,
}

impl<'a> Grid<'a> {
    /// A plain `[outputs][rows][width]` grid.
    fn plain(data: &'a mut [f32], rows: usize, width: usize) -> Self {
        Grid { data, plane: rows * width, row: width, step: 1, oy: 0, ox: 0 }
    }

    /// The `len` values of output `o`, row `y`, columns `x0 ..` of a grid of step 1.
    fn run(&mut self, o: usize, y: usize, x0: usize, len: usize) -> &mut [f32] {
        assert_eq!(self.step, 1, "a contiguous run needs a plain grid");
        let start = o * self.plane + (y + self.oy) * self.row + x0 + self.ox;
        &mut self.data[start..][..len]
    }

    /// The values of output `o`, row `y`, columns `x0 ..`.
    fn line(&mut self, o: usize, y: usize, x0: usize) -> impl Iterator<Item = &mut f32> {
        let start = o * self.plane + (y * self.step + self.oy) * self.row + x0 * self.step + self.ox;
        self.data[start..].iter_mut().step_by(self.step)
    }
}

/// Runs `f(y0, rows, grid)` over chunks of the `gh` rows of a `gw` wide grid (row `y0 + k`
/// being the chunk's row `k`) and puts every output into `out`. On one thread the grid is one
/// chunk written in place; otherwise the chunks (several per thread, so that threads share
/// the work) run in parallel into tiles, each output computed by exactly one of them.
fn by_rows(gh: usize, gw: usize, outputs: usize, out: &mut Grid, f: impl Fn(usize, usize, &mut Grid) + Sync) {
    let threads = rayon::current_num_threads();
    if threads <= 1 || gh == 1 {
        f(0, gh, out);
        return;
    }
    let rows = gh.div_ceil(4 * threads).max(1);
    let tiles: Vec<(usize, Vec<f32>)> = (0..gh.div_ceil(rows))
        .into_par_iter()
        .map(|k| {
            let _env = FpEnv::enter();
            let y0 = k * rows;
            let n = rows.min(gh - y0);
            let mut tile = vec![0.0f32; outputs * n * gw];
            f(y0, n, &mut Grid::plain(&mut tile, n, gw));
            (y0, tile)
        })
        .collect();
    for (y0, tile) in &tiles {
        let n = tile.len() / outputs;
        for (o, src) in tile.chunks_exact(n).enumerate() {
            for (k, values) in src.chunks_exact(gw).enumerate() {
                out.line(o, y0 + k, 0).zip(values).for_each(|(d, &v)| *d = v);
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
        let mut out = Tensor::zeros(self.out_channels(), h, w);
        let prepared = self.conv.prepare(x, &self.conv.taps, h, w);
        let mut grid = Grid::plain(&mut out.data, h, w);
        self.conv.run_with(ctx, x, &prepared, h, w, Finish::Sum, &mut grid);
        Ok(out)
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
        // Every phase reads the same input: lay it out once, for the largest phase grid and
        // every phase's taps (the phases are all spatial or all lanes: same outputs, stride 1).
        let all_taps: Vec<_> = self.phases.iter().flat_map(|(_, _, p)| p.taps.iter().copied()).collect();
        let prepared = self.phases[0].2.prepare(x, &all_taps, h.div_ceil(s), w.div_ceil(s));
        for (py, px, phase) in &self.phases {
            let (gh, gw) = ((h + s - 1 - py) / s, (w + s - 1 - px) / s);
            // The phase writes every s-th row and column of the output, from (py, px).
            let mut grid = Grid { data: &mut out.data, plane: h * w, row: w, step: s, oy: *py, ox: *px };
            phase.run_with(ctx, x, &prepared, gh, gw, Finish::Sum, &mut grid);
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
        // The norm's sums are finished (sqrt, then the product or quotient) as they leave the
        // kernel: no norm tensor is stored.
        let finish = Finish::Gdn { x: &x.data, inverse: self.inverse };
        let prepared = self.norm.prepare(x, &self.norm.taps, x.height, x.width);
        let mut y = Tensor::zeros(x.channels, x.height, x.width);
        let mut grid = Grid::plain(&mut y.data, x.height, x.width);
        self.norm.run_with(ctx, x, &prepared, x.height, x.width, finish, &mut grid);
        Ok(y)
    }
}
