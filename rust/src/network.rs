//! Dense layers and activations evaluated position by position: the arithmetic of the
//! autoregressive loop.
//!
//! A pointwise (1x1) convolution applied at a few latent positions is a small matrix product,
//! `y[j] = W x[j] + b`. [`Dense`] stores `W` packed in blocks of [`LANES`] outputs, inputs-major
//! inside a block, so that the kernel streams each block once while keeping [`ROWS`] positions'
//! accumulators in registers.
//!
//! Every output is accumulated in the same order (bias, then inputs 0, 1, 2, ...) with separate
//! multiplies and adds, never fused: the lanes only change how many outputs run side by side.
//! So the scalar, SSE2, AVX2 and AVX-512 builds of the kernel give bit-identical results, and an
//! encoder and a decoder on different x86-64 (or other) machines compute the same floats.
//! Activations are written from basic IEEE operations for the same reason (no libm).

use crate::error::{Error, Result};

/// Outputs per packed block (one AVX-512 register, two AVX2 or four SSE registers).
pub const LANES: usize = 16;
/// Row granularity of [`Dense::apply`]: buffers hold a multiple of this many positions.
pub const ROWS: usize = 8;

/// An element-wise activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// `x`.
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `x` if `x > 0`, else `slope * x` (torch's `LeakyReLU(slope)`).
    LeakyRelu(f32),
    /// `x * Φ(x)` with the exact (erf) Gaussian CDF, as torch's default `GELU`.
    Gelu,
}

impl Activation {
    /// Applies the activation in place.
    pub fn apply(self, values: &mut [f32]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => values.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { 0.0 }),
            Activation::LeakyRelu(slope) => {
                values.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { *v * slope })
            }
            Activation::Gelu => values.iter_mut().for_each(|v| *v = gelu(*v)),
        }
    }
}

/// `x * Φ(x) = x (1 + erf(x / √2)) / 2`.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The error function, to about 1.5e-7 (Abramowitz and Stegun 7.1.26), from basic operations.
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let poly =
        t * (0.254_829_6 + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152_1 + t * 1.061_405_4))));
    let y = 1.0 - poly * exp(-a * a);
    if x < 0.0 {
        -y
    } else {
        y
    }
}

/// `e^x` for the GELU, from basic operations: `2^k e^r` with `|r| <= ln 2 / 2` and a degree-7
/// Taylor polynomial (relative error below 5e-7).
fn exp(x: f32) -> f32 {
    if x < -87.0 {
        return 0.0;
    }
    let x = x.min(88.0);
    let k = (x * std::f32::consts::LOG2_E).round_ties_even();
    // ln 2 in two parts (Cody and Waite), the first exact in few bits, so k * ln 2 stays exact.
    let r = (x - k * 0.693_359_4) - k * -2.121_944_4e-4;
    let mut p = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = p * r + c;
    }
    // k is in [-126, 127]: 2^k is a normal float built from its exponent bits.
    p * f32::from_bits(((k as i32 + 127) as u32) << 23)
}

/// A dense layer `y = W x + b` with `W` packed for the kernel.
#[derive(Debug, Clone)]
pub struct Dense {
    inputs: usize,
    outputs: usize,
    /// `ceil(outputs / LANES)` blocks of `inputs * LANES` weights, zero-padded.
    packed: Vec<f32>,
    /// `ceil(outputs / LANES) * LANES` biases, zero-padded.
    bias: Vec<f32>,
}

impl Dense {
    /// Packs `weight` (`outputs x inputs`, row-major) and `bias` (`outputs`, or none).
    pub fn new(weight: &[f32], bias: Option<&[f32]>, outputs: usize, inputs: usize) -> Result<Self> {
        let invalid = |message: String| Error::InvalidArgument { what: "weight", message };
        if outputs == 0 || inputs == 0 {
            return Err(invalid(format!("a dense layer needs inputs and outputs, got {outputs} x {inputs}")));
        }
        if weight.len() != outputs * inputs {
            return Err(invalid(format!("{} values for a {outputs} x {inputs} layer", weight.len())));
        }
        if let Some(bias) = bias {
            if bias.len() != outputs {
                return Err(Error::InvalidArgument {
                    what: "bias",
                    message: format!("{} values for {outputs} outputs", bias.len()),
                });
            }
        }
        let blocks = outputs.div_ceil(LANES);
        let mut packed = vec![0.0; blocks * inputs * LANES];
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let (block, lane) = (o / LANES, o % LANES);
            for (i, &w) in row.iter().enumerate() {
                packed[(block * inputs + i) * LANES + lane] = w;
            }
        }
        let mut padded_bias = vec![0.0; blocks * LANES];
        if let Some(bias) = bias {
            padded_bias[..outputs].copy_from_slice(bias);
        }
        Ok(Dense { inputs, outputs, packed, bias: padded_bias })
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of outputs.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Computes `y[j][..outputs] = W x[j][..inputs] + b` for `n` positions, rows of `x` and `y`
    /// being `x_stride` and `y_stride` apart. The kernel works on groups of [`ROWS`] rows, so
    /// `x` and `y` must hold `n.next_multiple_of(ROWS)` rows: the extra rows are computed too
    /// (from whatever `x` holds there) and their outputs are meaningless.
    pub fn apply(&self, x: &[f32], x_stride: usize, y: &mut [f32], y_stride: usize, n: usize) {
        self.apply_with(Kernel::auto(), x, x_stride, y, y_stride, n)
    }

    /// [`Dense::apply`] with a given kernel (every kernel gives the same bits).
    pub fn apply_with(
        &self,
        kernel: Kernel,
        x: &[f32],
        x_stride: usize,
        y: &mut [f32],
        y_stride: usize,
        n: usize,
    ) {
        let rows = n.next_multiple_of(ROWS);
        assert!(x_stride >= self.inputs && y_stride >= self.outputs);
        assert!(
            rows == 0
                || (x.len() >= (rows - 1) * x_stride + self.inputs
                    && y.len() >= (rows - 1) * y_stride + self.outputs)
        );
        for first in (0..rows).step_by(ROWS) {
            let xs: [&[f32]; ROWS] = std::array::from_fn(|r| &x[(first + r) * x_stride..][..self.inputs]);
            for (block, (weights, bias)) in
                self.packed.chunks_exact(self.inputs * LANES).zip(self.bias.chunks_exact(LANES)).enumerate()
            {
                let acc = kernel.block(weights, bias, &xs);
                let lanes = LANES.min(self.outputs - block * LANES);
                for (r, row) in acc.iter().enumerate() {
                    y[(first + r) * y_stride + block * LANES..][..lanes].copy_from_slice(&row[..lanes]);
                }
            }
        }
    }

    /// The packed blocks: `(weights, bias)` of [`LANES`] outputs each, `weights` holding
    /// `inputs * LANES` values, inputs-major (what [`Kernel::block`] takes).
    pub(crate) fn blocks(&self) -> impl Iterator<Item = (&[f32], &[f32])> {
        self.packed.chunks_exact(self.inputs * LANES).zip(self.bias.chunks_exact(LANES))
    }
}

/// A kernel to run, by name: [`KernelChoice::Auto`] picks the widest this CPU supports; the
/// others force one (tests and benchmarks compare them, which must give the same bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelChoice {
    /// The widest kernel this CPU supports.
    Auto,
    /// Plain Rust, no explicit vector instructions (any CPU).
    Portable,
    /// SSE2 registers, four lanes (every x86-64 CPU).
    Sse2,
    /// AVX2 registers, eight lanes.
    Avx2,
    /// AVX-512F registers, sixteen lanes.
    Avx512,
}

impl KernelChoice {
    /// Every forced kernel, narrowest first.
    pub const ALL: [KernelChoice; 4] =
        [KernelChoice::Portable, KernelChoice::Sse2, KernelChoice::Avx2, KernelChoice::Avx512];

    /// The name [`KernelChoice::parse`] reads: `auto`, `portable`, `sse2`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            KernelChoice::Auto => "auto",
            KernelChoice::Portable => "portable",
            KernelChoice::Sse2 => "sse2",
            KernelChoice::Avx2 => "avx2",
            KernelChoice::Avx512 => "avx512",
        }
    }

    /// The kernel called `name` (see [`KernelChoice::name`]).
    pub fn parse(name: &str) -> Result<Self> {
        [KernelChoice::Auto].into_iter().chain(KernelChoice::ALL).find(|k| k.name() == name).ok_or_else(
            || Error::InvalidArgument {
                what: "kernel",
                message: format!("unknown kernel {name:?}; expected auto, portable, sse2, avx2 or avx512"),
            },
        )
    }

    /// The forced kernels this CPU can run, narrowest first.
    pub fn available() -> Vec<KernelChoice> {
        KernelChoice::ALL.into_iter().filter(|&k| Kernel::new(k).is_ok()).collect()
    }
}

/// A block kernel this CPU can run (see [`KernelChoice`]).
#[derive(Debug, Clone, Copy)]
pub struct Kernel(KernelImpl);

impl Kernel {
    /// The kernel `choice`, or an error naming it if this CPU lacks its instructions.
    pub fn new(choice: KernelChoice) -> Result<Self> {
        let unsupported = || Error::InvalidArgument {
            what: "kernel",
            message: format!("this CPU cannot run the {} kernel", choice.name()),
        };
        match choice {
            KernelChoice::Auto => Ok(Kernel::auto()),
            KernelChoice::Portable => Ok(Kernel(KernelImpl::Portable)),
            #[cfg(target_arch = "x86_64")]
            KernelChoice::Sse2 => Ok(Kernel(KernelImpl::Sse2)),
            #[cfg(target_arch = "x86_64")]
            KernelChoice::Avx2 => {
                x86::Avx2::detect().map(|t| Kernel(KernelImpl::Avx2(t))).ok_or_else(unsupported)
            }
            #[cfg(target_arch = "x86_64")]
            KernelChoice::Avx512 => {
                x86::Avx512::detect().map(|t| Kernel(KernelImpl::Avx512(t))).ok_or_else(unsupported)
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => Err(unsupported()),
        }
    }

    /// The widest kernel this CPU supports.
    pub fn auto() -> Self {
        Kernel(select_kernel())
    }

    /// Which kernel this is.
    pub fn choice(self) -> KernelChoice {
        match self.0 {
            KernelImpl::Portable => KernelChoice::Portable,
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Sse2 => KernelChoice::Sse2,
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx2(_) => KernelChoice::Avx2,
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(_) => KernelChoice::Avx512,
        }
    }

    /// One block of [`LANES`] outputs for [`ROWS`] positions: `bias + Σ_i w[i] * x[r][i]`, in
    /// input order, multiplies and adds separate. `weights` holds `LANES` values per input and
    /// every row of `xs` `weights.len() / LANES` values.
    #[inline]
    pub(crate) fn block(self, weights: &[f32], bias: &[f32], xs: &[&[f32]; ROWS]) -> [[f32; LANES]; ROWS] {
        let bias: [f32; LANES] = bias.try_into().expect("a block has LANES biases");
        self.0.block(weights, &[bias; ROWS], xs)
    }

    /// [`Kernel::block`] continuing from accumulators `init` (one row per position) instead
    /// of the bias: a sum over inputs `0..n` computed in slabs `0..k`, `k..n` by feeding one
    /// slab's result to the next is the same sequential sum, bit for bit.
    #[inline]
    pub(crate) fn block_from(
        self,
        weights: &[f32],
        init: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        self.0.block(weights, init, xs)
    }

    /// Two blocks over the same positions (`[first, second]`, each `(weights, init)`), the same
    /// bits as two [`Kernel::block_from`] calls; the AVX-512 kernel shares each broadcast input between them.
    #[inline]
    pub(crate) fn block_pair(
        self,
        first: (&[f32], &[[f32; LANES]; ROWS]),
        second: (&[f32], &[[f32; LANES]; ROWS]),
        xs: &[&[f32]; ROWS],
    ) -> [[[f32; LANES]; ROWS]; 2] {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(token) => token.block_pair(first, second, xs),
            _ => [self.block_from(first.0, first.1, xs), self.block_from(second.0, second.1, xs)],
        }
    }
}

impl Kernel {
    /// Blocks per call of [`Kernel::blocks_from`] that run side by side in registers (3 with
    /// AVX-512: 24 accumulators share each broadcast input; 2 otherwise).
    pub(crate) fn width(self) -> usize {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(_) => 3,
            _ => 2,
        }
    }

    /// One to three blocks over the same positions, each `(weights, accumulators)`, the
    /// accumulators continued in place: the same bits as a [`Kernel::block_from`] per block.
    #[inline]
    pub(crate) fn blocks_from(self, blocks: &mut [(&[f32], &mut [[f32; LANES]; ROWS])], xs: &[&[f32]; ROWS]) {
        match (self.0, blocks) {
            #[cfg(target_arch = "x86_64")]
            (KernelImpl::Avx512(token), [(w0, a0), (w1, a1), (w2, a2)]) => {
                token.block_triple([(w0, a0), (w1, a1), (w2, a2)], xs)
            }
            (_, [(w0, a0), (w1, a1)]) => {
                let [r0, r1] = self.block_pair((w0, a0), (w1, a1), xs);
                (**a0, **a1) = (r0, r1);
            }
            (_, blocks) => {
                for (w, acc) in blocks.iter_mut() {
                    **acc = self.block_from(w, acc, xs);
                }
            }
        }
    }
}

/// Positions one call of `Kernel::spatial` computes side by side (four AVX-512 registers).
pub const SPAN: usize = 64;

/// Where the inputs of a [`Kernel::spatial`] call start: input `i` of position `p` is
/// `src[base + offsets[i] + p]`. Built once per layer geometry, with its largest offset, so a
/// call checks its bounds in O(1).
#[derive(Debug, Clone)]
pub(crate) struct Offsets {
    list: Vec<usize>,
    max: usize,
}

impl Offsets {
    pub(crate) fn new(list: Vec<usize>) -> Self {
        let max = list.iter().copied().max().unwrap_or(0);
        Offsets { list, max }
    }

    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

impl Kernel {
    /// `O` outputs for [`SPAN`] neighbouring positions, the positions in the vector lanes:
    /// `acc[o][p] += w[i·O + o] · src[base + offsets[i] + p]` for `i = 0, 1, ...` in order,
    /// multiplies and adds separate. Each output's sum is the same sequence as in
    /// [`Kernel::block`]; only what runs side by side differs (positions instead of outputs), so
    /// layers with few outputs (an image's three channels) and GDN's norm, read from planar
    /// (CHW) inputs, waste no lanes and need no transposition.
    #[inline]
    pub(crate) fn spatial<const O: usize>(
        self,
        weights: &[f32],
        src: &[f32],
        base: usize,
        offsets: &Offsets,
        acc: &mut [[f32; SPAN]; O],
    ) {
        assert!(weights.len() == offsets.len() * O);
        assert!(offsets.list.is_empty() || base + offsets.max + SPAN <= src.len());
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(token) => token.spatial(weights, src, base, &offsets.list, acc),
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx2(token) => token.spatial(weights, src, base, &offsets.list, acc),
            _ => spatial_portable(weights, src, base, &offsets.list, acc),
        }
    }
}

impl Kernel {
    /// GDN's last step: `out[k] = x[k] / sqrt(norm[k])`, or `x[k] · sqrt(norm[k])` (IGDN), each
    /// operation correctly rounded (IEEE `sqrt`, division and product), so every vector width
    /// gives the same bits.
    pub(crate) fn gdn_finish(self, x: &[f32], norm: &[f32], out: &mut [f32], inverse: bool) {
        assert!(x.len() == out.len() && norm.len() == out.len());
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(token) => token.gdn_finish(x, norm, out, inverse),
            _ => gdn_finish_portable(x, norm, out, inverse),
        }
    }
}

#[inline(always)]
fn gdn_finish_portable(x: &[f32], norm: &[f32], out: &mut [f32], inverse: bool) {
    let values = out.iter_mut().zip(x).zip(norm);
    if inverse {
        values.for_each(|((d, &v), &n)| *d = v * n.sqrt());
    } else {
        values.for_each(|((d, &v), &n)| *d = v / n.sqrt());
    }
}

/// [`Kernel::spatial`] in plain Rust (the compiler may vectorise it: the lanes are
/// independent sums, so any vector width gives the same bits).
#[inline(always)]
fn spatial_portable<const O: usize>(
    weights: &[f32],
    src: &[f32],
    base: usize,
    offsets: &[usize],
    acc: &mut [[f32; SPAN]; O],
) {
    for (w, &off) in weights.chunks_exact(O).zip(offsets) {
        let x: &[f32; SPAN] = src[base + off..][..SPAN].try_into().expect("SPAN values");
        for (row, &w) in acc.iter_mut().zip(w) {
            for (a, &v) in row.iter_mut().zip(x) {
                *a += w * v;
            }
        }
    }
}

/// The block kernel for this CPU.
///
/// Each variant computes one block of [`LANES`] outputs for [`ROWS`] positions:
/// `bias + Σ_i w[i] * x[r][i]`, the sum taken in input order with separate multiplies and adds
/// (`weights` holds `LANES` values per input, each row of `xs` one value per input). The
/// x86 variants hold a token ([`x86::Avx512`], [`x86::Avx2`]) that only a successful CPU
/// feature check creates, so a kernel needing an instruction set cannot be called without it.
#[derive(Debug, Clone, Copy)]
enum KernelImpl {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Sse2,
    #[cfg(target_arch = "x86_64")]
    Avx512(x86::Avx512),
    #[cfg(target_arch = "x86_64")]
    Avx2(x86::Avx2),
}

impl KernelImpl {
    #[inline]
    fn block(
        self,
        weights: &[f32],
        bias: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        match self {
            KernelImpl::Portable => block_portable(weights, bias, xs),
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Sse2 => x86::sse2_block(weights, bias, xs),
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx512(token) => token.block(weights, bias, xs),
            #[cfg(target_arch = "x86_64")]
            KernelImpl::Avx2(token) => token.block(weights, bias, xs),
        }
    }
}

fn select_kernel() -> KernelImpl {
    #[cfg(target_arch = "x86_64")]
    {
        if let Some(token) = x86::Avx512::detect() {
            return KernelImpl::Avx512(token);
        }
        if let Some(token) = x86::Avx2::detect() {
            return KernelImpl::Avx2(token);
        }
    }
    KernelImpl::Portable
}

fn block_portable(weights: &[f32], init: &[[f32; LANES]; ROWS], xs: &[&[f32]; ROWS]) -> [[f32; LANES]; ROWS] {
    let mut acc = *init;
    for (r, row) in acc.iter_mut().enumerate() {
        for (w, &v) in weights.chunks_exact(LANES).zip(xs[r]) {
            for l in 0..LANES {
                row[l] += w[l] * v;
            }
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! The kernel with explicit AVX-512 and AVX2 registers: the accumulators of all rows stay
    //! in registers while the weights stream by once (the compiler spills them otherwise).

    use super::{LANES, ROWS, SPAN};
    use std::arch::asm;
    use std::arch::x86_64::*;

    /// `w · x` for every lane, `x` the one value at `p`: a `vmulps` with an embedded broadcast
    /// memory operand. A separate broadcast (`vbroadcastss`) occupies a vector pipe on some
    /// CPUs (AMD Zen 4) and caps the kernels well below one multiply and one add per cycle; the
    /// embedded one is done by the load unit. The same correctly rounded product either way.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F and `p` must be valid for reading one `f32`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn mul_broadcast(w: __m512, p: *const f32) -> __m512 {
        let product: __m512;
        // SAFETY: the caller guarantees AVX-512F and that `p` points to a readable f32; the
        // instruction reads those 4 bytes and writes only `product` (no stack, no flags).
        unsafe {
            asm!(
                "vmulps {product}, {w}, dword ptr [{p}]{{1to16}}",
                product = lateout(zmm_reg) product,
                w = in(zmm_reg) w,
                p = in(reg) p,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
        product
    }

    /// Proof that the CPU supports AVX-512F: only [`Avx512::detect`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx512(());

    impl Avx512 {
        /// The token, if this CPU supports AVX-512F.
        pub(super) fn detect() -> Option<Self> {
            std::arch::is_x86_feature_detected!("avx512f").then_some(Avx512(()))
        }

        pub(super) fn block(
            self,
            weights: &[f32],
            bias: &[[f32; LANES]; ROWS],
            xs: &[&[f32]; ROWS],
        ) -> [[f32; LANES]; ROWS] {
            check(weights, xs);
            // SAFETY: `self` exists, so `detect` found AVX-512F; the slice lengths are checked.
            unsafe { avx512(weights, bias, xs) }
        }
    }

    impl Avx512 {
        pub(super) fn block_pair(
            self,
            first: (&[f32], &[[f32; LANES]; ROWS]),
            second: (&[f32], &[[f32; LANES]; ROWS]),
            xs: &[&[f32]; ROWS],
        ) -> [[[f32; LANES]; ROWS]; 2] {
            check(first.0, xs);
            check(second.0, xs);
            // SAFETY: `self` exists, so `detect` found AVX-512F; the slice lengths are checked.
            unsafe { avx512_pair(first, second, xs) }
        }
    }

    impl Avx512 {
        /// [`super::Kernel::spatial`]; the caller checked the bounds.
        pub(super) fn spatial<const O: usize>(
            self,
            weights: &[f32],
            src: &[f32],
            base: usize,
            offsets: &[usize],
            acc: &mut [[f32; SPAN]; O],
        ) {
            // SAFETY: `self` exists, so `detect` found AVX-512F; `Kernel::spatial` checked that
            // `weights` holds `offsets.len() * O` values and every `base + offset + SPAN` is
            // within `src`.
            unsafe { spatial_avx512(weights, src.as_ptr().add(base), offsets, acc) }
        }
    }

    impl Avx512 {
        pub(super) fn block_triple(
            self,
            blocks: [(&[f32], &mut [[f32; LANES]; ROWS]); 3],
            xs: &[&[f32]; ROWS],
        ) {
            for (w, _) in &blocks {
                check(w, xs);
            }
            // SAFETY: `self` exists, so `detect` found AVX-512F; the slice lengths are checked.
            unsafe { avx512_triple(blocks, xs) }
        }
    }

    /// Three blocks of 16 outputs for 8 rows: 24 zmm accumulators, each broadcast input used
    /// by three blocks, each lane's sum unchanged.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F (hold an [`Avx512`]) and every row of `xs` must hold
    /// `weights.len() / LANES` values for the three weights.
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512_triple(blocks: [(&[f32], &mut [[f32; LANES]; ROWS]); 3], xs: &[&[f32]; ROWS]) {
        const { assert!(LANES == 16 && ROWS == 8) };
        let inputs = blocks[0].0.len() / LANES;
        let w = blocks.each_ref().map(|b| b.0.as_ptr());
        let x = xs.map(<[f32]>::as_ptr);
        let mut a: [[__m512; ROWS]; 3] = std::array::from_fn(|b| {
            // SAFETY: each row of the accumulators holds 16 values.
            std::array::from_fn(|r| unsafe { _mm512_loadu_ps(blocks[b].1[r].as_ptr()) })
        });
        for i in 0..inputs {
            // SAFETY: i < inputs and each weights holds inputs * 16 values (checked by the caller).
            let wv: [__m512; 3] = std::array::from_fn(|b| unsafe { _mm512_loadu_ps(w[b].add(i * LANES)) });
            for r in 0..ROWS {
                for b in 0..3 {
                    // SAFETY: AVX-512F (the caller's contract); every row of xs holds inputs
                    // values (checked by the caller), so x[r] + i is readable.
                    let product = unsafe { mul_broadcast(wv[b], x[r].add(i)) };
                    a[b][r] = _mm512_add_ps(a[b][r], product);
                }
            }
        }
        for (b, (_, acc)) in blocks.into_iter().enumerate() {
            for r in 0..ROWS {
                // SAFETY: each row of the accumulators holds 16 values.
                unsafe { _mm512_storeu_ps(acc[r].as_mut_ptr(), a[b][r]) };
            }
        }
    }

    /// Proof that the CPU supports AVX2: only [`Avx2::detect`] makes one.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Avx2(());

    impl Avx2 {
        /// The token, if this CPU supports AVX2.
        pub(super) fn detect() -> Option<Self> {
            std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
        }

        pub(super) fn block(
            self,
            weights: &[f32],
            bias: &[[f32; LANES]; ROWS],
            xs: &[&[f32]; ROWS],
        ) -> [[f32; LANES]; ROWS] {
            check(weights, xs);
            // SAFETY: `self` exists, so `detect` found AVX2; the slice lengths are checked.
            unsafe { avx2(weights, bias, xs) }
        }
    }

    impl Avx512 {
        /// [`super::Kernel::gdn_finish`] compiled for AVX-512 (16 square roots at once).
        pub(super) fn gdn_finish(self, x: &[f32], norm: &[f32], out: &mut [f32], inverse: bool) {
            // SAFETY: `self` exists, so `detect` found AVX-512F (the only requirement of
            // `gdn_finish_avx512`, whose body is safe, bounds-checked Rust).
            unsafe { gdn_finish_avx512(x, norm, out, inverse) }
        }
    }

    /// The portable GDN finish compiled with AVX-512 enabled.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    unsafe fn gdn_finish_avx512(x: &[f32], norm: &[f32], out: &mut [f32], inverse: bool) {
        super::gdn_finish_portable(x, norm, out, inverse)
    }

    impl Avx2 {
        /// [`super::Kernel::spatial`] compiled for AVX2; the bounds are checked by the slices.
        pub(super) fn spatial<const O: usize>(
            self,
            weights: &[f32],
            src: &[f32],
            base: usize,
            offsets: &[usize],
            acc: &mut [[f32; SPAN]; O],
        ) {
            // SAFETY: `self` exists, so `detect` found AVX2 (the only requirement of
            // `spatial_avx2`, whose body is safe, bounds-checked Rust).
            unsafe { spatial_avx2(weights, src, base, offsets, acc) }
        }
    }

    /// The portable spatial kernel compiled with AVX2 enabled (Rust never contracts a
    /// multiply and an add into an FMA, so only the vector width changes).
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn spatial_avx2<const O: usize>(
        weights: &[f32],
        src: &[f32],
        base: usize,
        offsets: &[usize],
        acc: &mut [[f32; SPAN]; O],
    ) {
        super::spatial_portable(weights, src, base, offsets, acc)
    }

    /// `O` outputs × 64 positions in `4·O` zmm accumulators; per input, four loads of
    /// neighbouring positions and one broadcast weight per output.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F; `weights` must hold `offsets.len() * O` values and
    /// `src.add(offset)` must be valid for `SPAN` reads for every offset.
    #[target_feature(enable = "avx512f")]
    unsafe fn spatial_avx512<const O: usize>(
        weights: &[f32],
        src: *const f32,
        offsets: &[usize],
        acc: &mut [[f32; SPAN]; O],
    ) {
        const { assert!(SPAN == 64) };
        let mut a: [[__m512; 4]; O] = std::array::from_fn(|o| {
            std::array::from_fn(|v| {
                // SAFETY: each row of acc holds 64 values.
                unsafe { _mm512_loadu_ps(acc[o].as_ptr().add(16 * v)) }
            })
        });
        let w = weights.as_ptr();
        for (i, &off) in offsets.iter().enumerate() {
            // SAFETY: src + off is valid for 64 reads (the caller's contract).
            let x: [__m512; 4] = std::array::from_fn(|v| unsafe { _mm512_loadu_ps(src.add(off + 16 * v)) });
            for (o, row) in a.iter_mut().enumerate() {
                for (r, &xv) in row.iter_mut().zip(&x) {
                    // SAFETY: AVX-512F (the caller's contract); i < offsets.len() and weights
                    // holds offsets.len() * O values, so w + i * O + o is readable.
                    let product = unsafe { mul_broadcast(xv, w.add(i * O + o)) };
                    *r = _mm512_add_ps(*r, product);
                }
            }
        }
        for (row, regs) in acc.iter_mut().zip(&a) {
            for (v, &r) in regs.iter().enumerate() {
                // SAFETY: each row of acc holds 64 values.
                unsafe { _mm512_storeu_ps(row.as_mut_ptr().add(16 * v), r) };
            }
        }
    }

    /// The SSE2 kernel; SSE2 is part of x86-64, so it needs no token.
    pub(super) fn sse2_block(
        weights: &[f32],
        bias: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        check(weights, xs);
        // SAFETY: every x86-64 CPU has SSE2; the slice lengths are checked.
        unsafe { sse2(weights, bias, xs) }
    }

    fn check(weights: &[f32], xs: &[&[f32]; ROWS]) {
        assert!(xs.iter().all(|x| x.len() * LANES == weights.len()));
    }

    /// One zmm of 16 outputs per row, 8 rows.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F (hold an [`Avx512`]) and every row of `xs` must hold
    /// `weights.len() / LANES` values.
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512(
        weights: &[f32],
        init: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        const { assert!(LANES == 16 && ROWS == 8) };
        let inputs = weights.len() / LANES;
        let (w, x) = (weights.as_ptr(), xs.map(<[f32]>::as_ptr));
        // SAFETY: each row of init holds 16 values.
        let mut acc: [__m512; ROWS] = std::array::from_fn(|r| unsafe { _mm512_loadu_ps(init[r].as_ptr()) });
        for i in 0..inputs {
            // SAFETY: i < inputs and weights holds inputs * 16 values (checked by the caller).
            let wv = unsafe { _mm512_loadu_ps(w.add(i * LANES)) };
            for r in 0..ROWS {
                // SAFETY: AVX-512F (the caller's contract); every row of xs holds inputs values
                // (checked by the caller), so x[r] + i is readable.
                let product = unsafe { mul_broadcast(wv, x[r].add(i)) };
                acc[r] = _mm512_add_ps(acc[r], product);
            }
        }
        let mut out = [[0.0f32; LANES]; ROWS];
        for r in 0..ROWS {
            // SAFETY: out[r] holds 16 values.
            unsafe { _mm512_storeu_ps(out[r].as_mut_ptr(), acc[r]) };
        }
        out
    }

    /// Two blocks of 16 outputs for 8 rows: 16 zmm accumulators, each broadcast input used by
    /// both blocks (half the broadcasts of two [`avx512`] calls), each lane's sum unchanged.
    ///
    /// # Safety
    ///
    /// The CPU must support AVX-512F (hold an [`Avx512`]) and every row of `xs` must hold
    /// `weights.len() / LANES` values for both weights.
    #[target_feature(enable = "avx512f")]
    unsafe fn avx512_pair(
        first: (&[f32], &[[f32; LANES]; ROWS]),
        second: (&[f32], &[[f32; LANES]; ROWS]),
        xs: &[&[f32]; ROWS],
    ) -> [[[f32; LANES]; ROWS]; 2] {
        const { assert!(LANES == 16 && ROWS == 8) };
        let inputs = first.0.len() / LANES;
        let (w0, w1, x) = (first.0.as_ptr(), second.0.as_ptr(), xs.map(<[f32]>::as_ptr));
        let load = |init: &[[f32; LANES]; ROWS]| -> [__m512; ROWS] {
            // SAFETY: each row of both inits holds 16 values.
            std::array::from_fn(|r| unsafe { _mm512_loadu_ps(init[r].as_ptr()) })
        };
        let (mut a0, mut a1) = (load(first.1), load(second.1));
        for i in 0..inputs {
            // SAFETY: i < inputs and both weights hold inputs * 16 values (checked by the caller).
            let (v0, v1) =
                unsafe { (_mm512_loadu_ps(w0.add(i * LANES)), _mm512_loadu_ps(w1.add(i * LANES))) };
            for r in 0..ROWS {
                // SAFETY: AVX-512F (the caller's contract); every row of xs holds inputs values
                // (checked by the caller), so x[r] + i is readable.
                let (p0, p1) = unsafe { (mul_broadcast(v0, x[r].add(i)), mul_broadcast(v1, x[r].add(i))) };
                a0[r] = _mm512_add_ps(a0[r], p0);
                a1[r] = _mm512_add_ps(a1[r], p1);
            }
        }
        let mut out = [[[0.0f32; LANES]; ROWS]; 2];
        for r in 0..ROWS {
            // SAFETY: out[b][r] holds 16 values.
            unsafe {
                _mm512_storeu_ps(out[0][r].as_mut_ptr(), a0[r]);
                _mm512_storeu_ps(out[1][r].as_mut_ptr(), a1[r]);
            }
        }
        out
    }

    /// Two ymm of 8 outputs per row, 4 rows at a time (16 registers in all).
    ///
    /// # Safety
    ///
    /// The CPU must support AVX2 (hold an [`Avx2`]) and every row of `xs` must hold
    /// `weights.len() / LANES` values.
    #[target_feature(enable = "avx2")]
    unsafe fn avx2(
        weights: &[f32],
        init: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        const { assert!(LANES == 16 && ROWS.is_multiple_of(4)) };
        let inputs = weights.len() / LANES;
        let w = weights.as_ptr();
        let mut out = [[0.0f32; LANES]; ROWS];
        for group in 0..ROWS / 4 {
            let x: [*const f32; 4] = std::array::from_fn(|r| xs[group * 4 + r].as_ptr());
            // SAFETY: each row of init holds 16 values.
            let mut lo: [__m256; 4] =
                std::array::from_fn(|r| unsafe { _mm256_loadu_ps(init[group * 4 + r].as_ptr()) });
            // SAFETY: as above, the upper 8 of 16.
            let mut hi: [__m256; 4] =
                std::array::from_fn(|r| unsafe { _mm256_loadu_ps(init[group * 4 + r].as_ptr().add(8)) });
            for i in 0..inputs {
                // SAFETY: i < inputs and weights holds inputs * 16 values (checked by the caller).
                let (w0, w1) =
                    unsafe { (_mm256_loadu_ps(w.add(i * LANES)), _mm256_loadu_ps(w.add(i * LANES + 8))) };
                for r in 0..4 {
                    // SAFETY: every row of xs holds inputs values (checked by the caller).
                    let v = _mm256_set1_ps(unsafe { *x[r].add(i) });
                    lo[r] = _mm256_add_ps(lo[r], _mm256_mul_ps(w0, v));
                    hi[r] = _mm256_add_ps(hi[r], _mm256_mul_ps(w1, v));
                }
            }
            for r in 0..4 {
                let row = out[group * 4 + r].as_mut_ptr();
                // SAFETY: each row of out holds 16 values.
                unsafe {
                    _mm256_storeu_ps(row, lo[r]);
                    _mm256_storeu_ps(row.add(8), hi[r]);
                }
            }
        }
        out
    }

    /// Four xmm of 4 outputs per row, 2 rows at a time (12 registers in all).
    ///
    /// # Safety
    ///
    /// Every row of `xs` must hold `weights.len() / LANES` values.
    #[target_feature(enable = "sse2")]
    unsafe fn sse2(
        weights: &[f32],
        init: &[[f32; LANES]; ROWS],
        xs: &[&[f32]; ROWS],
    ) -> [[f32; LANES]; ROWS] {
        const { assert!(LANES == 16 && ROWS.is_multiple_of(2)) };
        let inputs = weights.len() / LANES;
        let w = weights.as_ptr();
        let mut out = [[0.0f32; LANES]; ROWS];
        for group in 0..ROWS / 2 {
            let x: [*const f32; 2] = std::array::from_fn(|r| xs[group * 2 + r].as_ptr());
            let mut acc: [[__m128; 4]; 2] = std::array::from_fn(|r| {
                // SAFETY: each row of init holds 16 values.
                std::array::from_fn(|k| unsafe { _mm_loadu_ps(init[group * 2 + r].as_ptr().add(4 * k)) })
            });
            for i in 0..inputs {
                // SAFETY: i < inputs and weights holds inputs * 16 values (checked by the caller).
                let wv: [__m128; 4] =
                    std::array::from_fn(|k| unsafe { _mm_loadu_ps(w.add(i * LANES + 4 * k)) });
                for r in 0..2 {
                    // SAFETY: every row of xs holds inputs values (checked by the caller).
                    let v = _mm_set1_ps(unsafe { *x[r].add(i) });
                    for k in 0..4 {
                        acc[r][k] = _mm_add_ps(acc[r][k], _mm_mul_ps(wv[k], v));
                    }
                }
            }
            for (r, lanes) in acc.iter().enumerate() {
                let row = out[group * 2 + r].as_mut_ptr();
                for (k, &v) in lanes.iter().enumerate() {
                    // SAFETY: each row of out holds 16 values.
                    unsafe { _mm_storeu_ps(row.add(4 * k), v) };
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::SmallRng, Rng, SeedableRng};

    fn reference(weight: &[f32], bias: &[f32], x: &[f32], outputs: usize, inputs: usize) -> Vec<f32> {
        (0..outputs)
            .map(|o| {
                let mut acc = bias[o];
                for i in 0..inputs {
                    acc += weight[o * inputs + i] * x[i];
                }
                acc
            })
            .collect()
    }

    #[test]
    fn dense_equals_the_sequential_sum_bit_for_bit() {
        let mut rng = SmallRng::seed_from_u64(1);
        for (outputs, inputs, n) in
            [(1usize, 1usize, 1usize), (17, 5, 3), (40, 33, 9), (64, 128, 4), (3, 70, 13)]
        {
            let weight: Vec<f32> = (0..outputs * inputs).map(|_| rng.random_range(-1.0..1.0)).collect();
            let bias: Vec<f32> = (0..outputs).map(|_| rng.random_range(-1.0..1.0)).collect();
            let x_stride = inputs + 3;
            let rows = n.next_multiple_of(ROWS);
            let x: Vec<f32> = (0..rows * x_stride).map(|_| rng.random_range(-2.0..2.0)).collect();
            let dense = Dense::new(&weight, Some(&bias), outputs, inputs).unwrap();
            let mut y = vec![f32::NAN; rows * (outputs + 1)];
            dense.apply(&x, x_stride, &mut y, outputs + 1, n);
            for j in 0..n {
                let expected = reference(&weight, &bias, &x[j * x_stride..][..inputs], outputs, inputs);
                assert_eq!(bits(&y[j * (outputs + 1)..][..outputs]), bits(&expected));
            }
        }
    }

    fn bits(values: &[f32]) -> Vec<u32> {
        values.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn every_kernel_gives_the_same_bits() {
        let mut rng = SmallRng::seed_from_u64(2);
        let inputs = 37;
        let weights: Vec<f32> = (0..inputs * LANES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let bias: Vec<f32> = (0..LANES).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x: Vec<Vec<f32>> =
            (0..ROWS).map(|_| (0..inputs).map(|_| rng.random_range(-3.0..3.0)).collect()).collect();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| x[r].as_slice());
        let init = [<[f32; LANES]>::try_from(bias.as_slice()).unwrap(); ROWS];
        let expected = block_portable(&weights, &init, &xs);
        #[cfg(target_arch = "x86_64")]
        {
            if let Some(token) = x86::Avx512::detect() {
                assert_eq!(token.block(&weights, &init, &xs), expected);
            }
            if let Some(token) = x86::Avx2::detect() {
                assert_eq!(token.block(&weights, &init, &xs), expected);
            }
        }
        assert_eq!(select_kernel().block(&weights, &init, &xs), expected);
        let other: Vec<f32> = weights.iter().map(|w| w * 0.5 - 0.25).collect();
        let second = block_portable(&other, &init, &xs);
        for choice in KernelChoice::available() {
            let kernel = Kernel::new(choice).unwrap();
            assert_eq!(kernel.block(&weights, &bias, &xs), expected, "{choice:?}");
            let pair = kernel.block_pair((&weights, &init), (&other, &init), &xs);
            assert_eq!(pair, [expected, second], "{choice:?}");
            // In two slabs, the first's result feeding the second: the same sum.
            let k = 15 * LANES;
            let xs_a: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][..15]);
            let xs_b: [&[f32]; ROWS] = std::array::from_fn(|r| &xs[r][15..]);
            let half = kernel.block_from(&weights[..k], &init, &xs_a);
            assert_eq!(kernel.block_from(&weights[k..], &half, &xs_b), expected, "{choice:?}");
        }
    }

    #[test]
    fn bad_shapes_are_rejected() {
        assert!(Dense::new(&[1.0; 6], None, 2, 3).is_ok());
        assert!(Dense::new(&[1.0; 5], None, 2, 3).is_err());
        assert!(Dense::new(&[1.0; 6], Some(&[0.0; 3]), 2, 3).is_err());
        assert!(Dense::new(&[], None, 0, 3).is_err());
    }

    #[test]
    fn activations_match_their_definitions() {
        let mut v = vec![-2.0f32, -0.5, 0.0, 0.5, 3.0];
        Activation::LeakyRelu(0.01).apply(&mut v);
        assert_eq!(v, [-0.02, -0.005, 0.0, 0.5, 3.0]);
        let mut v = vec![-2.0f32, 0.0, 3.0];
        Activation::Relu.apply(&mut v);
        assert_eq!(v, [0.0, 0.0, 3.0]);
        // GELU against erf values to 1e-6.
        for (x, gelu_x) in
            [(-3.0f32, -0.004_049_7), (-1.0, -0.158_655_25), (0.5, 0.345_731_1), (2.0, 1.954_499_7)]
        {
            let mut v = [x];
            Activation::Gelu.apply(&mut v);
            assert!((v[0] - gelu_x).abs() < 1e-6, "gelu({x}) = {}", v[0]);
        }
        for x in [-20.0f32, -1.0, 0.0, 0.3, 5.0, 80.0] {
            assert!((exp(x) - x.exp()).abs() <= 5e-7 * x.exp(), "exp({x}) = {} vs {}", exp(x), x.exp());
        }
    }
}

/// The kernels' speed with everything in L1, the ceiling of the engine's convolutions:
/// `cargo test --release --lib kernel_peak -- --ignored --nocapture`.
#[cfg(test)]
mod peak {
    use super::*;

    #[test]
    #[ignore = "a measurement, not a check: run it by name"]
    fn kernel_peak_in_l1() {
        let inputs = 128;
        let w0 = vec![0.5f32; inputs * LANES];
        let w1 = vec![0.25f32; inputs * LANES];
        let x: Vec<Vec<f32>> = (0..ROWS).map(|r| vec![r as f32 * 0.001; inputs]).collect();
        let xs: [&[f32]; ROWS] = std::array::from_fn(|r| x[r].as_slice());
        let kernel = Kernel::auto();
        let init = [[0.0f32; LANES]; ROWS];
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            let mut a = init;
            let mut b = init;
            for _ in 0..2000 {
                [a, b] = kernel.block_pair((&w0, &a), (&w1, &b), &xs);
            }
            std::hint::black_box((a, b));
            best = best.min(t.elapsed().as_secs_f64());
        }
        let macs = 2000.0 * (inputs * 2 * LANES * ROWS) as f64;
        println!("pair: {:.1} GMAC/s", macs / best / 1e9);
        let w2 = vec![0.125f32; inputs * LANES];
        let mut best = f64::INFINITY;
        for _ in 0..20 {
            let t = std::time::Instant::now();
            let (mut a, mut b, mut c) = (init, init, init);
            for _ in 0..2000 {
                kernel.blocks_from(&mut [(&w0, &mut a), (&w1, &mut b), (&w2, &mut c)], &xs);
            }
            std::hint::black_box((a, b, c));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("triple: {:.1} GMAC/s", macs * 1.5 / best / 1e9);
        let mut best = f64::INFINITY;
        let src = vec![0.001f32; inputs * 64 + 64];
        let offsets = Offsets::new((0..inputs).map(|i| i * 64).collect());
        let w = vec![0.5f32; inputs * 6];
        for _ in 0..20 {
            let t = std::time::Instant::now();
            let mut acc = [[0.0f32; SPAN]; 6];
            for _ in 0..2000 {
                kernel.spatial::<6>(&w, &src, 0, &offsets, &mut acc);
            }
            std::hint::black_box(acc);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let macs = 2000.0 * (inputs * 6 * SPAN) as f64;
        println!("spatial6: {:.1} GMAC/s", macs / best / 1e9);
    }
}
