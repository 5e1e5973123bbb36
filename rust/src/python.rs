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
use crate::coder::{self, BufferedEncoder, CdfTable, SymbolSearch};
use crate::error::Error;
use crate::gaussian;
use crate::network::{Activation, Dense};
use crate::rans::{Decoder, DecoderState};

pyo3::create_exception!(
    tinify,
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

/// The borrowed arrays of a CDF table, validated by [`CdfTable::new`] inside the GIL-free part.
struct TableArgs<'a> {
    cdfs: &'a [i32],
    stride: usize,
    sizes: &'a [i32],
    offsets: &'a [i32],
}

impl<'a> TableArgs<'a> {
    fn new(
        cdfs: &'a PyReadonlyArray2<'_, i32>,
        sizes: &'a PyReadonlyArray1<'_, i32>,
        offsets: &'a PyReadonlyArray1<'_, i32>,
    ) -> PyResult<Self> {
        let shape = cdfs.shape();
        if shape[0] != sizes.len() {
            return Err(PyValueError::new_err(format!(
                "`cdfs` has {} rows but `cdfs_sizes` has {} entries",
                shape[0],
                sizes.len()
            )));
        }
        Ok(TableArgs {
            cdfs: slice2(cdfs, "cdfs")?,
            stride: shape[1],
            sizes: slice(sizes, "cdfs_sizes")?,
            offsets: slice(offsets, "offsets")?,
        })
    }

    fn table(&self) -> Result<CdfTable<'a>, Error> {
        CdfTable::new(self.cdfs, self.stride, self.sizes, self.offsets)
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
fn encode_with_indexes<'py>(
    py: Python<'py>,
    symbols: PyReadonlyArray1<'py, i32>,
    indexes: PyReadonlyArray1<'py, i32>,
    cdfs: PyReadonlyArray2<'py, i32>,
    cdfs_sizes: PyReadonlyArray1<'py, i32>,
    offsets: PyReadonlyArray1<'py, i32>,
) -> PyResult<Bound<'py, PyBytes>> {
    let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
    let (symbols, indexes) = (slice(&symbols, "symbols")?, slice(&indexes, "indexes")?);
    let bytes = py.detach(|| coder::encode_with_indexes(symbols, indexes, &args.table()?))?;
    Ok(PyBytes::new(py, &bytes))
}

/// Encodes each row of `symbols` (with the same row of `indexes`) into its own stream, the rows
/// in parallel.
#[pyfunction]
fn encode_batch<'py>(
    py: Python<'py>,
    symbols: PyReadonlyArray2<'py, i32>,
    indexes: PyReadonlyArray2<'py, i32>,
    cdfs: PyReadonlyArray2<'py, i32>,
    cdfs_sizes: PyReadonlyArray1<'py, i32>,
    offsets: PyReadonlyArray1<'py, i32>,
) -> PyResult<Vec<Bound<'py, PyBytes>>> {
    if symbols.shape() != indexes.shape() {
        return Err(PyValueError::new_err(format!(
            "`symbols` has shape {:?} but `indexes` has shape {:?}",
            symbols.shape(),
            indexes.shape()
        )));
    }
    let streams = symbols.shape()[0];
    let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
    let (symbols, indexes) = (slice2(&symbols, "symbols")?, slice2(&indexes, "indexes")?);
    let encoded = py.detach(|| coder::encode_batch(symbols, indexes, streams, &args.table()?))?;
    Ok(encoded.iter().map(|b| PyBytes::new(py, b)).collect())
}

/// Decodes one stream, which must be consumed exactly.
#[pyfunction]
fn decode_with_indexes<'py>(
    py: Python<'py>,
    encoded: &[u8],
    indexes: PyReadonlyArray1<'py, i32>,
    cdfs: PyReadonlyArray2<'py, i32>,
    cdfs_sizes: PyReadonlyArray1<'py, i32>,
    offsets: PyReadonlyArray1<'py, i32>,
) -> PyResult<Bound<'py, PyArray1<i32>>> {
    let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
    let indexes = slice(&indexes, "indexes")?;
    // numpy allocates large arrays on huge pages: far fewer page faults while decoding into it.
    let out = PyArray1::<i32>::zeros(py, indexes.len(), false);
    {
        let mut view = out.readwrite();
        let values = view.as_slice_mut().expect("a new array is contiguous");
        py.detach(|| coder::decode_with_indexes(encoded, indexes, &args.table()?, values))?;
    }
    Ok(out)
}

/// Decodes `strings[n]` with `indexes[n]` for every `n`, the streams in parallel.
#[pyfunction]
fn decode_batch<'py>(
    py: Python<'py>,
    strings: Vec<Vec<u8>>,
    indexes: PyReadonlyArray2<'py, i32>,
    cdfs: PyReadonlyArray2<'py, i32>,
    cdfs_sizes: PyReadonlyArray1<'py, i32>,
    offsets: PyReadonlyArray1<'py, i32>,
) -> PyResult<Bound<'py, PyArray2<i32>>> {
    let (streams, len) = (indexes.shape()[0], indexes.shape()[1]);
    if strings.len() != streams {
        return Err(PyValueError::new_err(format!(
            "{} strings for {} rows of `indexes`",
            strings.len(),
            streams
        )));
    }
    let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
    let indexes = slice2(&indexes, "indexes")?;
    let out = PyArray2::<i32>::zeros(py, [streams, len], false);
    {
        let mut view = out.readwrite();
        let values = view.as_slice_mut().expect("a new array is contiguous");
        py.detach(|| {
            let refs: Vec<&[u8]> = strings.iter().map(Vec::as_slice).collect();
            coder::decode_batch(&refs, indexes, &args.table()?, values)
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
    fn encode_with_indexes<'py>(
        &mut self,
        py: Python<'py>,
        symbols: PyReadonlyArray1<'py, i32>,
        indexes: PyReadonlyArray1<'py, i32>,
        cdfs: PyReadonlyArray2<'py, i32>,
        cdfs_sizes: PyReadonlyArray1<'py, i32>,
        offsets: PyReadonlyArray1<'py, i32>,
    ) -> PyResult<()> {
        let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
        let (symbols, indexes) = (slice(&symbols, "symbols")?, slice(&indexes, "indexes")?);
        let inner = &mut self.inner;
        Ok(py.detach(|| inner.push(symbols, indexes, &args.table()?))?)
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
    fn decode_stream<'py>(
        &mut self,
        py: Python<'py>,
        indexes: PyReadonlyArray1<'py, i32>,
        cdfs: PyReadonlyArray2<'py, i32>,
        cdfs_sizes: PyReadonlyArray1<'py, i32>,
        offsets: PyReadonlyArray1<'py, i32>,
    ) -> PyResult<Bound<'py, PyArray1<i32>>> {
        let Some(at) = self.at else {
            return Err(PyValueError::new_err("no stream to decode: call set_stream() first"));
        };
        let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
        let indexes = slice(&indexes, "indexes")?;
        let stream = &self.stream;
        let (out, at) = py.detach(|| {
            let table = args.table()?;
            let search = SymbolSearch::new(&table, indexes.len());
            let mut dec = Decoder::resume(stream, at);
            let mut out = vec![0; indexes.len()];
            coder::decode_into(&mut dec, indexes, &table, &search, &mut out).map(|()| (out, dec.position()))
        })?;
        self.at = Some(at);
        Ok(out.into_pyarray(py))
    }

    /// Raises `DecodeError` unless the stream set by `set_stream` was decoded exactly to its end.
    fn finish(&self) -> PyResult<()> {
        let Some(at) = self.at else {
            return Err(PyValueError::new_err("no stream to decode: call set_stream() first"));
        };
        Ok(Decoder::resume(&self.stream, at).finish()?)
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
    /// (`(N, P, H, W)`), images in parallel on `threads` threads (0: one per core). Returns one
    /// stream per image and `y_hat`.
    #[pyo3(signature = (y, params, cdfs, cdfs_sizes, offsets, *, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        y: PyReadonlyArray4<'py, f32>,
        params: PyReadonlyArray4<'py, f32>,
        cdfs: PyReadonlyArray2<'py, i32>,
        cdfs_sizes: PyReadonlyArray1<'py, i32>,
        offsets: PyReadonlyArray1<'py, i32>,
        threads: usize,
    ) -> PyResult<EncodedLatents<'py>> {
        let shape = y.shape().to_vec();
        let (n, height, width) = self.check(&shape, params.shape())?;
        let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
        let (y, params) = (slice4(&y)?, slice4(&params)?);
        let model = &self.inner;
        let results = py.detach(|| {
            let table = args.table()?;
            let (ys, ps) = (y.len() / n.max(1), params.len() / n.max(1));
            in_pool(threads, || {
                (0..n)
                    .into_par_iter()
                    .map(|i| model.encode(&y[i * ys..][..ys], &params[i * ps..][..ps], height, width, &table))
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
    /// parallel on `threads` threads (0: one per core). Returns `y_hat` (`(N, M, H, W)`).
    #[pyo3(signature = (strings, params, cdfs, cdfs_sizes, offsets, *, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn decode<'py>(
        &self,
        py: Python<'py>,
        strings: Vec<Vec<u8>>,
        params: PyReadonlyArray4<'py, f32>,
        cdfs: PyReadonlyArray2<'py, i32>,
        cdfs_sizes: PyReadonlyArray1<'py, i32>,
        offsets: PyReadonlyArray1<'py, i32>,
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
        let args = TableArgs::new(&cdfs, &cdfs_sizes, &offsets)?;
        let params = slice4(&params)?;
        let model = &self.inner;
        let images = py.detach(|| {
            let table = args.table()?;
            let ps = params.len() / n.max(1);
            in_pool(threads, || {
                strings
                    .par_iter()
                    .enumerate()
                    .map(|(i, data)| model.decode(data, &params[i * ps..][..ps], height, width, &table))
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

/// Runs `work` on rayon's global pool, or on a pool of `threads` threads when non-zero.
fn in_pool<T: Send>(threads: usize, work: impl FnOnce() -> Result<T, Error> + Send) -> Result<T, Error> {
    if threads == 0 {
        return work();
    }
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().map_err(|e| {
        Error::InvalidArgument { what: "threads", message: format!("cannot start {threads} threads: {e}") }
    })?;
    pool.install(work)
}

fn slice4<'a>(array: &'a PyReadonlyArray4<'_, f32>) -> PyResult<&'a [f32]> {
    array.as_slice().map_err(|_| PyValueError::new_err("4-D arrays must be C-contiguous"))
}

/// tinify's native core: quantized CDF tables and rANS coding.
#[pymodule(gil_used = false)]
mod _core {
    #[pymodule_export]
    use super::{
        decode_batch, decode_with_indexes, encode_batch, encode_with_indexes, pmf_to_quantized_cdf,
        quantized_cdf_table, scale_indexes, BufferedRansEncoder, DecodeError, PyRasterScan, RansDecoder,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
