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

use numpy::ndarray::Array2;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use numpy::ndarray::Array4;
use numpy::{PyArray4, PyReadonlyArray4};
use rayon::prelude::*;

use crate::autoregressive::{Layer, RasterScan};
use crate::cdf;
use std::sync::Arc;

use crate::coder::{self, BufferedEncoder, PreparedTable};
use crate::engine::{self, KernelChoice, Op, Options, Program, Step, Tensor};
use crate::error::Error;
use crate::gaussian;
use crate::network::{Activation, Dense};
use crate::pool;
use crate::rans::{Decoder, DecoderState};

// Named after the module users import it from (`tinify.ans.DecodeError`), so that tracebacks
// and `repr` show a name that can be imported.
pyo3::create_exception!(
    tinify.ans,
    DecodeError,
    PyValueError,
    "A byte string is not a valid stream for the given indexes and CDF tables: truncated, corrupt, or decoded with other tables."
);

impl From<Error> for PyErr {
    fn from(err: Error) -> PyErr {
        if err.is_decode_error() {
            DecodeError::new_err(err.to_string())
        } else {
            PyValueError::new_err(err.to_string())
        }
    }
}

fn slice<'a, T: numpy::Element>(array: &'a PyReadonlyArray1<'_, T>, name: &str) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("`{name}` must be a C-contiguous array")))
}

fn slice2<'a, T: numpy::Element>(array: &'a PyReadonlyArray2<'_, T>, name: &str) -> PyResult<&'a [T]> {
    array.as_slice().map_err(|_| PyValueError::new_err(format!("`{name}` must be a C-contiguous array")))
}

/// A validated CDF table kept for many calls: CompressAI's `(cdfs, cdfs_sizes, offsets)`
/// checked once, so that coding with it costs nothing per table entry.
#[pyclass(module = "tinify._core", name = "CdfTables", frozen)]
struct PyCdfTables {
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
fn prepare(
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
enum Cdfs<'py> {
    Prepared(Bound<'py, PyCdfTables>),
    Array(PyReadonlyArray2<'py, i32>),
}

/// The one conversion of a CDF-table argument: a prepared table as it is, or the
/// `(cdfs, cdfs_sizes, offsets)` arrays validated for this call.
fn tables(
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

/// Quantizes one pmf (float32) into a CDF of `len(pmf) + 1` entries ending at `2**precision`,
/// exactly as CompressAI's `pmf_to_quantized_cdf`.
#[pyfunction]
fn pmf_to_quantized_cdf(
    py: Python<'_>,
    pmf: PyReadonlyArray1<'_, f32>,
    precision: u32,
) -> PyResult<Vec<u32>> {
    let pmf = slice(&pmf, "pmf")?;
    Ok(py.detach(|| cdf::pmf_to_quantized_cdf(pmf, precision))?)
}

/// A CDF table and its row lengths, as numpy arrays.
type TableArrays<'py> = (Bound<'py, PyArray2<i32>>, Bound<'py, PyArray1<i32>>);

/// Builds CDF rows for many pmfs at once: row `r` quantizes the next `lengths[r]` values of
/// the concatenated `pmfs`, followed by `tail_masses[r]`. Returns `(cdfs, cdf_lengths)`, rows
/// zero-padded to `max(lengths) + 2`.
#[pyfunction]
fn quantized_cdf_table<'py>(
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

/// Scales as float32 or float64, compared exactly in either.
#[derive(FromPyObject)]
enum Scales<'py> {
    F32(PyReadonlyArray1<'py, f32>),
    F64(PyReadonlyArray1<'py, f64>),
}

/// The CDF row of each scale: the first `scale_table` entry at least `max(scale, scale_bound)`,
/// the last row for larger scales and NaN (GaussianConditional.build_indexes).
#[pyfunction]
fn scale_indexes<'py>(
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

/// Encodes `symbols[i]` with CDF row `indexes[i]` into one stream.
#[pyfunction]
#[pyo3(signature = (symbols, indexes, cdfs, cdfs_sizes = None, offsets = None))]
fn encode_with_indexes<'py>(
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
fn encode_batch<'py>(
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
fn decode_with_indexes<'py>(
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
fn decode_batch<'py>(
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
struct BufferedRansEncoder {
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
struct RansDecoder {
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

/// One stream per image, and the decoder's `y_hat`.
type EncodedLatents<'py> = (Vec<Bound<'py, PyBytes>>, Bound<'py, PyArray4<f32>>);

/// The context model and entropy-parameter network of a raster-scan latent codec, prepared for
/// the serial loop (weights copied and packed once).
#[pyclass(module = "tinify._core", name = "RasterScan", frozen)]
struct PyRasterScan {
    inner: RasterScan,
}

#[pymethods]
impl PyRasterScan {
    /// `layers` describes the entropy parameters in order: `("conv", weight (out, in), bias or
    /// None)`, `("relu",)`, `("leaky_relu", slope)`, `("gelu",)` or `("identity",)`.
    #[new]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        latent_channels: usize,
        param_channels: usize,
        context_weight: PyReadonlyArray4<'_, f32>,
        context_bias: PyReadonlyArray1<'_, f32>,
        layers: Vec<Bound<'_, pyo3::types::PyTuple>>,
        scale_table: PyReadonlyArray1<'_, f32>,
        scale_bound: f32,
    ) -> PyResult<Self> {
        let shape = context_weight.shape();
        if shape[1] != latent_channels || shape[0] != context_bias.len() {
            return Err(PyValueError::new_err(format!(
                "`context_weight` of shape {shape:?} does not fit {latent_channels} latent channels and {} biases",
                context_bias.len()
            )));
        }
        let kernel = (shape[2], shape[3]);
        let mut network = Vec::with_capacity(layers.len());
        for (position, layer) in layers.iter().enumerate() {
            let kind: String = layer.get_item(0)?.extract()?;
            network.push(match kind.as_str() {
                "conv" => {
                    let weight: PyReadonlyArray2<'_, f32> = layer.get_item(1)?.extract()?;
                    let bias: Option<PyReadonlyArray1<'_, f32>> = layer.get_item(2)?.extract()?;
                    let (outputs, inputs) = (weight.shape()[0], weight.shape()[1]);
                    let bias = match &bias {
                        Some(b) => Some(slice(b, "bias")?),
                        None => None,
                    };
                    Layer::Pointwise(Dense::new(slice2(&weight, "weight")?, bias, outputs, inputs)?)
                }
                "relu" => Layer::Activation(Activation::Relu),
                "leaky_relu" => Layer::Activation(Activation::LeakyRelu(layer.get_item(1)?.extract()?)),
                "gelu" => Layer::Activation(Activation::Gelu),
                "identity" => Layer::Activation(Activation::Identity),
                other => {
                    return Err(PyValueError::new_err(format!(
                        "layer {position}: unknown layer kind {other:?}"
                    )));
                }
            });
        }
        let (weight, bias, table) = (
            slice4(&context_weight)?,
            slice(&context_bias, "context_bias")?,
            slice(&scale_table, "scale_table")?,
        );
        let inner = py.detach(|| {
            RasterScan::new(
                latent_channels,
                param_channels,
                weight,
                bias,
                kernel,
                network,
                table.to_vec(),
                scale_bound,
            )
        })?;
        Ok(PyRasterScan { inner })
    }

    /// Encodes each latent `y[n]` (`(N, M, H, W)`) given its hyper params `params[n]`
    /// (`(N, P, H, W)`), images in parallel on `threads` threads (0: rayon's global pool, one
    /// per core; more than the machine's parallelism are clamped to it, and each pool size is
    /// built once). Returns one stream per image and `y_hat`.
    #[pyo3(signature = (y, params, cdfs, cdfs_sizes = None, offsets = None, *, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        y: PyReadonlyArray4<'py, f32>,
        params: PyReadonlyArray4<'py, f32>,
        cdfs: Cdfs<'py>,
        cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
        offsets: Option<PyReadonlyArray1<'py, i32>>,
        threads: usize,
    ) -> PyResult<EncodedLatents<'py>> {
        let shape = y.shape().to_vec();
        let (n, height, width) = self.check(&shape, params.shape())?;
        let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
        let (y, params) = (slice4(&y)?, slice4(&params)?);
        let model = &self.inner;
        let results = py.detach(|| {
            let table = tables.table();
            let (ys, ps) = (y.len() / n.max(1), params.len() / n.max(1));
            pool::install(threads, || {
                (0..n)
                    .into_par_iter()
                    .map(|i| model.encode(&y[i * ys..][..ys], &params[i * ps..][..ps], height, width, table))
                    .collect::<Result<Vec<_>, Error>>()
            })
        })?;
        let mut y_hat = Vec::with_capacity(y.len());
        let strings = results
            .iter()
            .map(|(bytes, image)| {
                y_hat.extend_from_slice(image);
                PyBytes::new(py, bytes)
            })
            .collect();
        let y_hat =
            Array4::from_shape_vec((shape[0], shape[1], shape[2], shape[3]), y_hat).expect("N*M*H*W values");
        Ok((strings, y_hat.into_pyarray(py)))
    }

    /// Decodes one stream per image given the hyper params (`(N, P, H, W)`), images in
    /// parallel on `threads` threads (as [`PyRasterScan::encode`]). Returns `y_hat`
    /// (`(N, M, H, W)`).
    #[pyo3(signature = (strings, params, cdfs, cdfs_sizes = None, offsets = None, *, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        strings: Vec<Vec<u8>>,
        params: PyReadonlyArray4<'py, f32>,
        cdfs: Cdfs<'py>,
        cdfs_sizes: Option<PyReadonlyArray1<'py, i32>>,
        offsets: Option<PyReadonlyArray1<'py, i32>>,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray4<f32>>> {
        let p = params.shape().to_vec();
        let m = self.inner.latent_channels();
        let (n, height, width) = self.check(&[p[0], m, p[2], p[3]], &p)?;
        if strings.len() != n {
            return Err(PyValueError::new_err(format!(
                "{} strings for {n} images of `params`",
                strings.len()
            )));
        }
        let tables = tables(py, cdfs, cdfs_sizes, offsets)?;
        let params = slice4(&params)?;
        let model = &self.inner;
        let images = py.detach(|| {
            let table = tables.table();
            let search = tables.search(n.saturating_mul(m).saturating_mul(height).saturating_mul(width));
            let ps = params.len() / n.max(1);
            pool::install(threads, || {
                strings
                    .par_iter()
                    .enumerate()
                    .map(|(i, data)| {
                        model.decode_with(data, &params[i * ps..][..ps], height, width, table, search)
                    })
                    .collect::<Result<Vec<_>, Error>>()
            })
        })?;
        let y_hat = Array4::from_shape_vec((n, m, height, width), images.concat()).expect("N*M*H*W values");
        Ok(y_hat.into_pyarray(py))
    }
}

impl PyRasterScan {
    /// Checks the shapes of `y` and `params`; returns (batch, height, width).
    fn check(&self, y: &[usize], params: &[usize]) -> PyResult<(usize, usize, usize)> {
        let (m, p) = (self.inner.latent_channels(), self.inner.param_channels());
        if y[1] != m {
            return Err(PyValueError::new_err(format!(
                "`y` has {} channels, the context model expects {m}",
                y[1]
            )));
        }
        if params[0] != y[0] || params[1] != p || params[2..] != y[2..] {
            return Err(PyValueError::new_err(format!(
                "`params` has shape {params:?}; expected ({}, {p}, {}, {})",
                y[0], y[2], y[3]
            )));
        }
        Ok((y[0], y[2], y[3]))
    }
}

fn slice4<'a>(array: &'a PyReadonlyArray4<'_, f32>) -> PyResult<&'a [f32]> {
    array.as_slice().map_err(|_| PyValueError::new_err("4-D arrays must be C-contiguous"))
}

/// A network of the deterministic engine: steps over numbered buffers, weights copied and
/// packed once. `tinify.engine` compiles torch modules into one.
#[pyclass(module = "tinify._core", name = "EngineProgram", frozen)]
struct PyEngineProgram {
    inner: Program,
}

fn engine_step(position: usize, step: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Step> {
    if step.len() < 3 {
        return Err(PyValueError::new_err(format!(
            "step {position}: expected (kind, inputs, outputs, *params), got {} items",
            step.len()
        )));
    }
    let kind: String = step.get_item(0)?.extract()?;
    let inputs: Vec<usize> = step.get_item(1)?.extract()?;
    let outputs: Vec<usize> = step.get_item(2)?.extract()?;
    let params = step.len() - 3;
    let arity = |n: usize| -> PyResult<()> {
        if params != n {
            return Err(PyValueError::new_err(format!(
                "step {position} ({kind}): expected {n} parameters, got {params}"
            )));
        }
        Ok(())
    };
    let param = |i: usize| step.get_item(3 + i);
    let py = step.py();
    let op = match kind.as_str() {
        "conv2d" | "conv_transpose2d" => {
            arity(if kind == "conv2d" { 4 } else { 5 })?;
            let weight: PyReadonlyArray4<'_, f32> = param(0)?.extract()?;
            let bias: Option<PyReadonlyArray1<'_, f32>> = param(1)?.extract()?;
            let stride: usize = param(2)?.extract()?;
            let padding: (usize, usize) = param(3)?.extract()?;
            let s = weight.shape();
            let shape = [s[0], s[1], s[2], s[3]];
            let weight =
                weight.as_slice().map_err(|_| PyValueError::new_err("`weight` must be C-contiguous"))?;
            let bias = match &bias {
                Some(b) => Some(slice(b, "bias")?),
                None => None,
            };
            if kind == "conv2d" {
                Op::Conv2d(py.detach(|| engine::Conv2d::new(weight, bias, shape, stride, padding))?)
            } else {
                let output_padding: (usize, usize) = param(4)?.extract()?;
                Op::ConvTranspose2d(py.detach(|| {
                    engine::ConvTranspose2d::new(weight, bias, shape, stride, padding, output_padding)
                })?)
            }
        }
        "pixel_shuffle" => {
            arity(1)?;
            Op::PixelShuffle(param(0)?.extract()?)
        }
        "relu" | "gelu" | "identity" | "concat" => {
            arity(0)?;
            match kind.as_str() {
                "relu" => Op::Activation(Activation::Relu),
                "gelu" => Op::Activation(Activation::Gelu),
                "identity" => Op::Activation(Activation::Identity),
                _ => Op::Concat,
            }
        }
        "leaky_relu" => {
            arity(1)?;
            Op::Activation(Activation::LeakyRelu(param(0)?.extract()?))
        }
        "gdn" => {
            arity(3)?;
            let beta: PyReadonlyArray1<'_, f32> = param(0)?.extract()?;
            let gamma: PyReadonlyArray2<'_, f32> = param(1)?.extract()?;
            let inverse: bool = param(2)?.extract()?;
            let (beta, gamma) = (slice(&beta, "beta")?, slice2(&gamma, "gamma")?);
            Op::Gdn(engine::Gdn::new(beta, gamma, inverse)?)
        }
        "gain" => {
            arity(1)?;
            let gain: PyReadonlyArray1<'_, f32> = param(0)?.extract()?;
            Op::Gain(slice(&gain, "gain")?.to_vec())
        }
        "split" => {
            arity(1)?;
            Op::Split(param(0)?.extract()?)
        }
        other => {
            return Err(PyValueError::new_err(format!("step {position}: unknown operation {other:?}")));
        }
    };
    Ok(Step { op, inputs, outputs })
}

#[pymethods]
impl PyEngineProgram {
    /// `steps`: tuples `(kind, inputs, outputs, *params)` over numbered buffers, `inputs` and
    /// `outputs` being lists of buffer numbers. Kinds and parameters: `("conv2d", weight (O, I,
    /// kh, kw), bias or None, stride, (pad_h, pad_w))`, `("conv_transpose2d", weight (I, O, kh,
    /// kw), bias or None, stride, padding, output_padding)`, `("pixel_shuffle", r)`, `("relu",)`,
    /// `("leaky_relu", slope)`, `("gelu",)`, `("identity",)`, `("gdn", beta, gamma (C, C),
    /// inverse)`, `("gain", gain)`, `("concat",)`, `("split", sizes)`. `inputs` and `outputs` are
    /// the buffers the program takes and returns.
    #[new]
    fn new(
        steps: Vec<Bound<'_, pyo3::types::PyTuple>>,
        inputs: Vec<usize>,
        outputs: Vec<usize>,
    ) -> PyResult<Self> {
        let steps = steps.iter().enumerate().map(|(i, s)| engine_step(i, s)).collect::<PyResult<Vec<_>>>()?;
        Ok(PyEngineProgram { inner: Program::new(steps, inputs, outputs)? })
    }

    /// Number of input arrays `run` takes.
    #[getter]
    fn num_inputs(&self) -> usize {
        self.inner.num_inputs()
    }

    /// Number of arrays `run` returns.
    #[getter]
    fn num_outputs(&self) -> usize {
        self.inner.num_outputs()
    }

    fn __repr__(&self) -> String {
        format!(
            "EngineProgram(steps={}, inputs={}, outputs={})",
            self.inner.steps().len(),
            self.inner.num_inputs(),
            self.inner.num_outputs()
        )
    }

    /// Runs the program on each image of `inputs` (one `(N, C, H, W)` float32 array per input
    /// buffer, the same `N`), on `threads` threads (0: rayon's global pool) with `kernel`
    /// (`"auto"`, `"portable"`, `"sse2"`, `"avx2"`, `"avx512"`). Returns one `(N, C, H, W)`
    /// array per output buffer; the bits do not depend on `threads` or `kernel`.
    #[pyo3(signature = (inputs, *, threads = 1, kernel = "auto"))]
    fn run<'py>(
        &self,
        py: Python<'py>,
        inputs: Vec<PyReadonlyArray4<'py, f32>>,
        threads: usize,
        kernel: &str,
    ) -> PyResult<Vec<Bound<'py, PyArray4<f32>>>> {
        let options = Options { kernel: KernelChoice::parse(kernel)?, threads };
        if inputs.len() != self.inner.num_inputs() {
            return Err(PyValueError::new_err(format!(
                "the program takes {} inputs, got {}",
                self.inner.num_inputs(),
                inputs.len()
            )));
        }
        let n = inputs.first().map_or(0, |x| x.shape()[0]);
        if let Some(x) = inputs.iter().find(|x| x.shape()[0] != n) {
            return Err(PyValueError::new_err(format!(
                "inputs hold {n} and {} images: every input needs one per image",
                x.shape()[0]
            )));
        }
        let shapes: Vec<[usize; 3]> =
            inputs.iter().map(|x| [x.shape()[1], x.shape()[2], x.shape()[3]]).collect();
        let data = inputs.iter().map(slice4).collect::<PyResult<Vec<_>>>()?;
        let program = &self.inner;
        let results = py.detach(|| -> Result<Vec<Vec<Tensor>>, Error> {
            (0..n)
                .map(|i| {
                    let tensors = data
                        .iter()
                        .zip(&shapes)
                        .map(|(d, &[c, h, w])| {
                            let len = c * h * w;
                            Tensor::new(c, h, w, d[i * len..][..len].to_vec())
                        })
                        .collect::<Result<Vec<_>, Error>>()?;
                    program.run(tensors, options)
                })
                .collect()
        })?;
        (0..program.num_outputs())
            .map(|k| {
                let (c, h, w) = results.first().map_or((0, 0, 0), |r| r[k].shape());
                let values: Vec<f32> = results.iter().flat_map(|r| r[k].data().iter().copied()).collect();
                let array = Array4::from_shape_vec((n, c, h, w), values)
                    .map_err(|e| PyValueError::new_err(format!("output {k}: {e}")))?;
                Ok(array.into_pyarray(py))
            })
            .collect()
    }
}

/// The kernels of the engine this CPU can run (besides `"auto"`), narrowest first.
#[pyfunction]
fn engine_kernels() -> Vec<&'static str> {
    KernelChoice::available().into_iter().map(KernelChoice::name).collect()
}

/// tinify's native core: quantized CDF tables and rANS coding.
#[pymodule(gil_used = false)]
mod _core {
    #[pymodule_export]
    use super::{
        decode_batch, decode_with_indexes, encode_batch, encode_with_indexes, engine_kernels,
        pmf_to_quantized_cdf, quantized_cdf_table, scale_indexes, BufferedRansEncoder, DecodeError,
        PyCdfTables, PyEngineProgram, PyRasterScan, RansDecoder,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
