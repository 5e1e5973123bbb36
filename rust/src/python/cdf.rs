//! Bindings of [`crate::cdf`]: pmfs to quantized CDF tables.

use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1};
use pyo3::prelude::*;

use super::slice;
use crate::cdf;

/// Quantizes one pmf (float32) into a CDF of `len(pmf) + 1` entries ending at `2**precision`,
/// exactly as CompressAI's `pmf_to_quantized_cdf`.
#[pyfunction]
pub(super) fn pmf_to_quantized_cdf(
    py: Python<'_>,
    pmf: PyReadonlyArray1<'_, f32>,
    precision: u32,
) -> PyResult<Vec<u32>> {
    let pmf = slice(&pmf, "pmf")?;
    Ok(py.detach(|| cdf::pmf_to_quantized_cdf(pmf, precision))?)
}

/// A CDF table and its row lengths, as numpy arrays.
pub(super) type TableArrays<'py> = (Bound<'py, PyArray2<i32>>, Bound<'py, PyArray1<i32>>);

/// Builds CDF rows for many pmfs at once: row `r` quantizes the next `lengths[r]` values of
/// the concatenated `pmfs`, followed by `tail_masses[r]`. Returns `(cdfs, cdf_lengths)`, rows
/// zero-padded to `max(lengths) + 2`.
#[pyfunction]
pub(super) fn quantized_cdf_table<'py>(
    py: Python<'py>,
    pmfs: PyReadonlyArray1<'py, f32>,
    lengths: PyReadonlyArray1<'py, i32>,
    tail_masses: PyReadonlyArray1<'py, f32>,
    precision: u32,
) -> PyResult<TableArrays<'py>> {
    let (pmfs, lengths, tails) =
        (slice(&pmfs, "pmfs")?, slice(&lengths, "lengths")?, slice(&tail_masses, "tail_masses")?);
    let table = py.detach(|| cdf::quantized_cdf_table(pmfs, lengths, tails, precision))?;
    let cdfs = Array2::from_shape_vec((table.lengths.len(), table.stride), table.cdfs)
        .expect("the core returns rows * stride entries");
    Ok((cdfs.into_pyarray(py), table.lengths.into_pyarray(py)))
}
