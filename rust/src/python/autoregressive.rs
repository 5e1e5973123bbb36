//! Bindings of [`crate::autoregressive`]: the serial context-model loop of raster-scan codecs.

use numpy::ndarray::Array4;
use numpy::{
    IntoPyArray, PyArray4, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use rayon::prelude::*;

use super::coder::{tables, Cdfs};
use super::{slice, slice2, slice4};
use crate::autoregressive::{Layer, RasterScan};
use crate::error::Error;
use crate::network::{Activation, Dense};
use crate::pool;

/// One stream per image, and the decoder's `y_hat`.
pub(super) type EncodedLatents<'py> = (Vec<Bound<'py, PyBytes>>, Bound<'py, PyArray4<f32>>);

/// The context model and entropy-parameter network of a raster-scan latent codec, prepared for
/// the serial loop (weights copied and packed once).
#[pyclass(module = "tinify._core", name = "RasterScan", frozen)]
pub(super) struct PyRasterScan {
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
