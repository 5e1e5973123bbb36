//! tinify's native core: the integer and serial work of learned image compression.
//!
//! * [`cdf`]: probability mass functions to quantized CDF tables (CompressAI-identical);
//! * [`rans`]: the rANS state machine (64-bit state, 32-bit words, 16-bit precision);
//! * [`coder`]: symbols + indexes + CDF tables to byte streams and back, with escape coding;
//! * [`gaussian`]: the CDF row of a Gaussian scale (GaussianConditional's index selection);
//! * [`network`]: dense layers and activations, bit-identical on every instruction set;
//! * [`engine`]: the prior networks (convolutions, transposed convolutions, GDN, ...) evaluated
//!   in one fixed floating-point order, so encoder and decoder agree on every machine;
//! * [`autoregressive`]: the serial context-model loop of raster-scan codecs (mbt2018,
//!   cheng2020), shared by encoder and decoder;
//! * [`pool`]: bounded, reused thread pools for batch work.
//!
//! These modules know nothing of Python. The `python` feature adds the PyO3 binding layer,
//! `tinify._core`, which converts numpy arrays, releases the GIL and maps [`Error`] to
//! Python exceptions.

pub mod autoregressive;
pub mod cdf;
pub mod coder;
pub mod engine;
pub mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod gaussian;
pub mod network;
pub mod pool;
pub mod rans;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
