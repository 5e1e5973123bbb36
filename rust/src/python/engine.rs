//! Bindings of [`crate::engine`]: programs compiled by `tinify.engine`, run on numpy arrays.

use numpy::ndarray::Array4;
use numpy::{
    IntoPyArray, PyArray4, PyReadonlyArray1, PyReadonlyArray2, PyReadonlyArray4, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::{slice, slice2, slice4};
use crate::engine::{self, KernelChoice, Op, Options, Program, Step, Tensor};
use crate::error::Error;
use crate::network::Activation;

/// A network of the deterministic engine: steps over numbered buffers, weights copied and
/// packed once. `tinify.engine` compiles torch modules into one.
#[pyclass(module = "tinify._core", name = "EngineProgram", frozen)]
pub(super) struct PyEngineProgram {
    inner: Program,
}

pub(super) fn engine_step(position: usize, step: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Step> {
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
pub(super) fn engine_kernels() -> Vec<&'static str> {
    KernelChoice::available().into_iter().map(KernelChoice::name).collect()
}
