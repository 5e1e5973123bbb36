//! The PyO3 binding layer: `tinify._core`.
//!
//! Every function has the same shape: borrow the numpy arrays (zero-copy, C-contiguous, the
//! element type fixed by the signature), check what the core cannot see (shapes of 2-D
//! arrays), release the GIL while the core works on plain slices, map the core's error, and
//! hand back numpy arrays or `bytes`. Conversions from lists and torch tensors happen once, in
//! `tinify/ans.py`; nothing here iterates over Python objects element by element.
//!
//! The arrays are read while the GIL is released. Like any native library that does so, this
//! assumes no other thread mutates them during the call.
//!
//! One submodule per module of the core it binds: [`cdf`], [`gaussian`], [`coder`] (with
//! [`crate::rans`]'s streaming decoder), [`autoregressive`], [`engine`]; [`errors`] maps
//! [`crate::Error`] to Python exceptions. This file holds the array helpers they share and the
//! `_core` module's table of exports.

mod autoregressive;
mod cdf;
mod coder;
mod engine;
mod errors;
mod gaussian;

use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// A C-contiguous 1-D array as a slice (`name` for the error).
fn slice<'a, T: numpy::Element>(array: &'a PyReadonlyArray1<'_, T>, name: &str) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("`{name}` must be a C-contiguous array")))
}

/// A C-contiguous 2-D array as a slice, row-major (`name` for the error).
fn slice2<'a, T: numpy::Element>(array: &'a PyReadonlyArray2<'_, T>, name: &str) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("`{name}` must be a C-contiguous array")))
}

/// A C-contiguous 4-D array as a slice.
fn slice4<'a>(array: &'a PyReadonlyArray4<'_, f32>) -> PyResult<&'a [f32]> {
    array.as_slice().map_err(|_| PyValueError::new_err("4-D arrays must be C-contiguous"))
}

/// tinify's native core: quantized CDF tables and rANS coding.
#[pymodule(gil_used = false)]
mod _core {
    #[pymodule_export]
    use super::autoregressive::PyRasterScan;
    #[pymodule_export]
    use super::cdf::{pmf_to_quantized_cdf, quantized_cdf_table};
    #[pymodule_export]
    use super::coder::{
        decode_batch, decode_with_indexes, encode_batch, encode_with_indexes, BufferedRansEncoder,
        PyCdfTables, RansDecoder,
    };
    #[pymodule_export]
    use super::engine::{engine_kernels, PyEngineProgram};
    #[pymodule_export]
    use super::errors::DecodeError;
    #[pymodule_export]
    use super::gaussian::scale_indexes;

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
