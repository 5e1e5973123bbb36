//! The deterministic engine of the prior networks: convolutions, transposed convolutions,
//! GDN and friends evaluated in one fixed floating-point order on every machine.
//!
//! The networks whose outputs choose the coder's CDFs (hyper-synthesis `h_s`, gain vectors,
//! mean/scale heads, context networks) must give the encoder and the decoder the same bits, or
//! one scale lands on the other side of a scale-table boundary and the rANS decoder
//! desynchronises. torch does not promise that: its summation order depends on the kernel, the
//! instruction set, the thread count and its version. This engine does, by construction:
//!
//! * every output is `bias`, then `+ w·x` for each (ky, kx, input channel) in lexicographic
//!   order, each multiply and add rounded separately (binary32, no FMA, no reassociation);
//! * the vector lanes of the kernels ([`crate::network`]'s, shared with the autoregressive loop)
//!   only run several output channels and positions side by side, never split a sum;
//! * threads split output rows, never a sum;
//! * the floating-point environment is set at entry ([`fpenv`]), so a caller that enabled
//!   flush-to-zero or another rounding mode changes nothing;
//! * nonlinearities use basic IEEE operations and the correctly rounded `sqrt` only.
//!
//! `docs/determinism.md` states the contract in full. Where [`crate::network`] evaluates a
//! pointwise network position by position for the serial loop, this module evaluates whole
//! feature maps: a convolution is its kernel applied to gathered (im2col) rows, a transposed
//! convolution its stride² phase convolutions (no multiply-adds on inserted zeros).
//!
//! Tensors are one image, `f32`, channels × height × width, contiguous; a batch is a loop over
//! images. A [`Program`] lists operations over numbered buffers, so a binding can describe a
//! network once and run it many times.

mod buffers;
mod conv;
mod fpenv;
mod ops;
mod program;

pub use crate::network::{Activation, KernelChoice};
pub use conv::{Conv2d, ConvTranspose2d, Gdn};
pub use fpenv::FpEnv;
pub use ops::{concat, gain, pixel_shuffle, split};
pub use program::{Op, Program, Step};

use crate::error::{Error, Result};
use crate::network::Kernel;

/// One image: `channels × height × width` values, row-major (CHW).
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    channels: usize,
    height: usize,
    width: usize,
    data: Vec<f32>,
}

impl Tensor {
    /// Wraps `data` (`channels * height * width` values, CHW).
    pub fn new(channels: usize, height: usize, width: usize, data: Vec<f32>) -> Result<Self> {
        let expected = channels.checked_mul(height).and_then(|v| v.checked_mul(width));
        if expected != Some(data.len()) {
            return Err(Error::InvalidArgument {
                what: "tensor",
                message: format!("{} values for a {channels} x {height} x {width} tensor", data.len()),
            });
        }
        Ok(Tensor { channels, height, width, data })
    }

    /// A tensor of zeros.
    pub fn zeros(channels: usize, height: usize, width: usize) -> Self {
        Tensor { channels, height, width, data: buffers::zeroed(channels * height * width) }
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Height.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The values, CHW.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// The values, CHW, mutable.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The values, CHW.
    pub fn into_data(self) -> Vec<f32> {
        self.data
    }

    /// `(channels, height, width)`.
    pub fn shape(&self) -> (usize, usize, usize) {
        (self.channels, self.height, self.width)
    }

    fn plane(&self) -> usize {
        self.height * self.width
    }

    /// Checks that the tensor has `channels` channels, for the input of `what`.
    fn expect_channels(&self, channels: usize, what: &'static str) -> Result<()> {
        if self.channels != channels {
            return Err(Error::InvalidArgument {
                what,
                message: format!("expects {channels} input channels, got {}", self.channels),
            });
        }
        Ok(())
    }
}

/// How to run: which kernel, and on how many threads. Neither changes a single bit of the
/// results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The kernel ([`KernelChoice::Auto`]: the widest this CPU supports).
    pub kernel: KernelChoice,
    /// Threads (0: rayon's global pool; more than the machine has are clamped, see
    /// [`crate::pool`]).
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { kernel: KernelChoice::Auto, threads: 1 }
    }
}

/// What every operation runs with: the resolved kernel.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    pub(crate) kernel: Kernel,
}

impl Options {
    /// Resolves the kernel (an error if this CPU cannot run the one asked for) and runs `work`
    /// on the pool, the floating-point environment set on the calling thread. (Each parallel
    /// task sets it again on its worker: every thread has its own.)
    pub(crate) fn run<T: Send>(self, work: impl FnOnce(Context) -> Result<T> + Send) -> Result<T> {
        let kernel = Kernel::new(self.kernel)?;
        crate::pool::install(self.threads, move || {
            let _env = FpEnv::enter();
            work(Context { kernel })
        })
    }
}

#[cfg(test)]
mod tests;
