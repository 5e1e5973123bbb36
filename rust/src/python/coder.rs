//! Bindings of [`crate::coder`] and [`crate::rans`]: CDF tables kept for many calls, one-shot and
//! batched coding, the buffered encoder and the streaming decoder.

use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::sync::Arc;

use super::{slice, slice2};
use crate::coder::{self, BufferedEncoder, PreparedTable};
use crate::rans::{Decoder, DecoderState};

/// A validated CDF table kept for many calls: CompressAI's `(cdfs, cdfs_sizes, offsets)`
/// checked once, so that coding with it costs nothing per table entry.
#[pyclass(module = "tinify._core", name = "CdfTables", frozen)]
pub(super) struct PyCdfTables {
    inner: Arc<PreparedTable>,
    shape: (usize, usize),
}

#[pymethods]
impl PyCdfTables {
    /// Validates `cdfs` (`(rows, max_length)`), `cdfs_sizes` and `offsets` (`rows` each).
    #[new]
    fn new(
        py: Python<'_>,
        cdfs: PyReadonlyArray2<'_, i32>,
        cdfs_sizes: PyReadonlyArray1<'_, i32>,
        offsets: PyReadonlyArray1<'_, i32>,
    ) -> PyResult<Self> {
        let shape = (cdfs.shape()[0], cdfs.shape()[1]);
        Ok(PyCdfTables { inner: prepare(py, &cdfs, &cdfs_sizes, &offsets)?, shape })
    }

    /// `(rows, max_length)` of the table.
    #[getter]
    fn shape(&self) -> (usize, usize) {
        self.shape
    }

    fn __repr__(&self) -> String {
        format!("CdfTables(rows={}, max_length={})", self.shape.0, self.shape.1)
    }
}

/// Validates the arrays of a table, with the GIL released, into a table kept for the call (or
/// for a [`PyCdfTables`]).
pub(super) fn prepare(
    py: Python<'_>,
    cdfs: &PyReadonlyArray2<'_, i32>,
    sizes: &PyReadonlyArray1<'_, i32>,
    offsets: &PyReadonlyArray1<'_, i32>,
) -> PyResult<Arc<PreparedTable>> {
    let shape = cdfs.shape();
    if shape[0] != sizes.len() {
        return Err(PyValueError::new_err(format!(
            "`cdfs` has {} rows but `cdfs_sizes` has {} entries",
            shape[0],
            sizes.len()
        )));
    }
    let (stride, cdfs) = (shape[1], slice2(cdfs, "cdfs")?);
    let (sizes, offsets) = (slice(sizes, "cdfs_sizes")?, slice(offsets, "offsets")?);
    Ok(Arc::new(py.detach(|| PreparedTable::new(cdfs, stride, sizes, offsets))?))
}

/// The `cdfs` argument of every coding function: a [`PyCdfTables`], or an int32 array that
/// comes with `cdfs_sizes` and `offsets`.
#[derive(FromPyObject)]
pub(super) enum Cdfs<'py> {
    Prepared(Bound<'py, PyCdfTables>),
    Array(PyReadonlyArray2<'py, i32>),
}

/// The one conversion of a CDF-table argument: a prepared table as it is, or the
/// `(cdfs, cdfs_sizes, offsets)` arrays validated for this call.
pub(super) fn tables(
    py: Python<'_>,
    cdfs: Cdfs<'_>,
    sizes: Option<PyReadonlyArray1<'_, i32>>,
    offsets: Option<PyReadonlyArray1<'_, i32>>,
) -> PyResult<Arc<PreparedTable>> {
    match (cdfs, sizes, offsets) {
        (Cdfs::Prepared(tables), None, None) => Ok(Arc::clone(&tables.get().inner)),
        (Cdfs::Prepared(_), _, _) => Err(PyValueError::new_err(
            "`cdfs` is a CdfTables, which holds its sizes and offsets: pass no `cdfs_sizes` or `offsets`",
        )),
        (Cdfs::Array(cdfs), Some(sizes), Some(offsets)) => prepare(py, &cdfs, &sizes, &offsets),
        (Cdfs::Array(_), _, _) => Err(PyValueError::new_err(
            "a `cdfs` array needs `cdfs_sizes` and `offsets` (or pass a CdfTables)",
        )),
    }
}

/// Encodes `symbols[i]` with CDF row `indexes[i]` into one stream.
#[pyfunction]
#[pyo3(signature = (symbols, indexes, cdfs, cdfs_sizes = None, offsets = None))]
pub(super) fn encode_with_indexes<'py>(
    py: Python<'py>,
    symbols: PyReadonlyArray1<'py, i32>,
    indexes: PyReadonlyArray1<'py, i32>,
    cdfs: Cdfs<'py>,
    cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
    offsets: Option<PyReadonlyArray1<'py, i32>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
    let (symbols, indexes) = (slice(&symbols, "symbols")?, slice(&indexes, "indexes")?);
    let bytes = py.detach(|| coder::encode_with_indexes(symbols, indexes, tables.table()))?;
    Ok(PyBytes::new(py, &bytes))
}

/// Encodes each row of `symbols` (with the same row of `indexes`) into its own stream, the rows
/// in parallel.
#[pyfunction]
#[pyo3(signature = (symbols, indexes, cdfs, cdfs_sizes = None, offsets = None))]
pub(super) fn encode_batch<'py>(
    py: Python<'py>,
    symbols: PyReadonlyArray2<'py, i32>,
    indexes: PyReadonlyArray2<'py, i32>,
    cdfs: Cdfs<'py>,
    cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
    offsets: Option<PyReadonlyArray1<'py, i32>>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    if symbols.shape() != indexes.shape() {
        return Err(PyValueError::new_err(format!(
            "`symbols` has shape {:?} but `indexes` has shape {:?}",
            symbols.shape(),
            indexes.shape()
        )));
    }
    let streams = symbols.shape()[0];
    let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
    let (symbols, indexes) = (slice2(&symbols, "symbols")?, slice2(&indexes, "indexes")?);
    let encoded = py.detach(|| coder::encode_batch(symbols, indexes, streams, tables.table()))?;
    Ok(encoded.iter().map(|b| PyBytes::new(py, b)).collect())
}

/// Decodes one stream, which must be consumed exactly.
#[pyfunction]
#[pyo3(signature = (encoded, indexes, cdfs, cdfs_sizes = None, offsets = None))]
pub(super) fn decode_with_indexes<'py>(
    py: Python<'py>,
    encoded: &[u8],
    indexes: PyReadonlyArray1<'py, i32>,
    cdfs: Cdfs<'py>,
    cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
    offsets: Option<PyReadonlyArray1<'py, i32>>,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
    let indexes = slice(&indexes, "indexes")?;
    // numpy allocates large arrays on huge pages: far fewer page faults while decoding into it.
    let out = PyArray1::<i32>::zeros(py, indexes.len(), false);
    {
        let mut view = out.readwrite();
        let values = view.as_slice_mut().expect("a new array is contiguous");
        py.detach(|| {
            let search = tables.search(indexes.len());
            coder::decode_stream_with(encoded, indexes, tables.table(), search, values)
        })?;
    }
    Ok(out)
}

/// Decodes `strings[n]` with `indexes[n]` for every `n`, the streams in parallel.
#[pyfunction]
#[pyo3(signature = (strings, indexes, cdfs, cdfs_sizes = None, offsets = None))]
pub(super) fn decode_batch<'py>(
    py: Python<'py>,
    strings: Vec<Vec<u8>>,
    indexes: PyReadonlyArray2<'py, i32>,
    cdfs: Cdfs<'py>,
    cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
    offsets: Option<PyReadonlyArray1<'py, i32>>,
) -> PyResult<Bound<'py, PyArray2<i32>>> {
    let (streams, len) = (indexes.shape()[0], indexes.shape()[1]);
    if strings.len() != streams {
        return Err(PyValueError::new_err(format!(
            "{} strings for {} rows of `indexes`",
            strings.len(),
            streams
        )));
    }
    let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
    let indexes = slice2(&indexes, "indexes")?;
    let out = PyArray2::<i32>::zeros(py, [streams, len], false);
    {
        let mut view = out.readwrite();
        let values = view.as_slice_mut().expect("a new array is contiguous");
        py.detach(|| {
            let refs: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
            coder::decode_batch_with(&refs, indexes, tables.table(), tables.search(values.len()), values)
        })?;
    }
    Ok(out)
}

/// Collects symbols over several calls and encodes them at `flush()`.
#[pyclass(module = "tinify._core")]
#[derive(Default)]
pub(super) struct BufferedRansEncoder {
    inner: BufferedEncoder,
}

#[pymethods]
impl BufferedRansEncoder {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Appends symbols; on error nothing is appended.
    #[pyo3(signature = (symbols, indexes, cdfs, cdfs_sizes = None, offsets = None))]
    fn encode_with_indexes<'py>(
        &mut self,
        py: Python<'py>,
        symbols: PyReadonlyArray1<'py, i32>,
        indexes: PyReadonlyArray1<'py, i32>,
        cdfs: Cdfs<'py>,
        cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
        offsets: Option<PyReadonlyArray1<'py, i32>>,
    ) -> PyResult<()> {
        let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
        let (symbols, indexes) = (slice(&symbols, "symbols")?, slice(&indexes, "indexes")?);
        let inner = &mut self.inner;
        Ok(py.detach(|| inner.push(symbols, indexes, tables.table()))?)
    }

    /// Encodes everything appended so far into one stream and empties the buffer.
    fn flush<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyBytes> {
        let inner = &mut self.inner;
        let bytes = py.detach(|| inner.flush());
        PyBytes::new(py, &bytes)
    }
}

/// Decodes a stream set by `set_stream` in successive `decode_stream` calls.
#[pyclass(module = "tinify._core")]
#[derive(Default)]
pub(super) struct RansDecoder {
    stream: Vec<u8>,
    at: Option<DecoderState>,
}

#[pymethods]
impl RansDecoder {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Starts decoding `encoded` (copied).
    fn set_stream(&mut self, encoded: &[u8]) -> PyResult<()> {
        self.at = None;
        self.stream = encoded.to_vec();
        self.at = Some(Decoder::new(&self.stream)?.position());
        Ok(())
    }

    /// Decodes the next `len(indexes)` symbols of the stream.
    #[pyo3(signature = (indexes, cdfs, cdfs_sizes = None, offsets = None))]
    fn decode_stream<'py>(
        &mut self,
        py: Python<'py>,
        indexes: PyReadonlyArray1<'py, i32>,
        cdfs: Cdfs<'py>,
        cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
        offsets: Option<PyReadonlyArray1<'py, i32>>,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        let Some(at) = self.at else {
            return Err(PyValueError::new_err("no stream to decode: call set_stream() first"));
        };
        let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
        let indexes = slice(&indexes, "indexes")?;
        let stream = &self.stream;
        let (out, at) = py.detach(|| {
            let mut dec = Decoder::resume(stream, at)?;
            let mut out = vec![0; indexes.len()];
            let search = tables.search(indexes.len());
            coder::decode_into(&mut dec, indexes, tables.table(), search, &mut out)
                .map(|()| (out, dec.position()))
        })?;
        self.at = Some(at);
        Ok(out.into_pyarray(py))
    }

    /// Raises `DecodeError` unless the stream set by `set_stream` was decoded exactly to its end.
    fn finish(&self) -> PyResult<()> {
        let Some(at) = self.at else {
            return Err(PyValueError::new_err("no stream to decode: call set_stream() first"));
        };
        Ok(Decoder::resume(&self.stream, at)?.finish()?)
    }
}
