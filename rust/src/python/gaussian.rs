//! Bindings of [`crate::gaussian`]: the CDF row of each Gaussian scale.

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use super::slice;
use crate::gaussian;

/// Scales as float32 or float64, compared exactly in either.
#[derive(FromPyObject)]
pub(super) enum Scales<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

/// The CDF row of each scale: the first `scale_table` entry at least `max(scale, scale_bound)`,
/// the last row for larger scales and NaN (GaussianConditional.build_indexes).
#[pyfunction]
pub(super) fn scale_indexes<'py>(
    py: Python<'py>,
    scales: Scales<'py>,
    scale_table: PyReadonlyArray1<'py, f32>,
    scale_bound: f32,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let table = slice(&scale_table, "scale_table")?;
    let out = match &scales {
        Scales::F32(s) => {
            let s = slice(s, "scales")?;
            py.detach(|| {
                let mut out = vec![0; s.len()];
                gaussian::scale_indexes_f32(table, scale_bound, s, &mut out).map(|()| out)
            })?
        }
        Scales::F64(s) => {
            let s = slice(s, "scales")?;
            py.detach(|| {
                let mut out = vec![0; s.len()];
                gaussian::scale_indexes_f64(table, scale_bound, s, &mut out).map(|()| out)
            })?
        }
    };
    Ok(out.into_pyarray(py))
}
