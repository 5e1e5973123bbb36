//! A network as data: operations over numbered buffers, described once and run many times.

use super::{concat, gain, pixel_shuffle, split, Activation, Context, Conv2d, ConvTranspose2d, Gdn};
use super::{Options, Tensor};
use crate::error::{Error, Result};

/// One operation. Arity: [`Op::Concat`] takes one or more inputs, [`Op::Split`] gives one
/// output per size; every other operation maps one buffer to one.
#[derive(Debug, Clone)]
pub enum Op {
    /// A convolution.
    Conv2d(Conv2d),
    /// A transposed convolution.
    ConvTranspose2d(ConvTranspose2d),
    /// torch's `PixelShuffle(r)` (after a convolution: a sub-pixel convolution).
    PixelShuffle(usize),
    /// An element-wise activation.
    Activation(Activation),
    /// GDN or IGDN.
    Gdn(Gdn),
    /// Channel `c` times `gain[c]`.
    Gain(Vec<f32>),
    /// Concatenation along channels.
    Concat,
    /// Split along channels into parts of these sizes.
    Split(Vec<usize>),
}

impl Op {
    fn name(&self) -> &'static str {
        match self {
            Op::Conv2d(_) => "conv2d",
            Op::ConvTranspose2d(_) => "conv_transpose2d",
            Op::PixelShuffle(_) => "pixel_shuffle",
            Op::Activation(_) => "activation",
            Op::Gdn(_) => "gdn",
            Op::Gain(_) => "gain",
            Op::Concat => "concat",
            Op::Split(_) => "split",
        }
    }

    /// Element-wise operations that can overwrite their input (when the step writes the
    /// buffer it reads, the input is dead afterwards).
    fn in_place(&self, x: &mut Tensor) -> Option<Result<()>> {
        match self {
            Op::Activation(activation) => activation.apply(x.data_mut()),
            Op::Gain(g) => {
                if let Err(e) = x.expect_channels(g.len(), "gain") {
                    return Some(Err(e));
                }
                let plane = x.plane();
                if plane > 0 {
                    for (values, &g) in x.data_mut().chunks_exact_mut(plane).zip(g) {
                        values.iter_mut().for_each(|v| *v *= g);
                    }
                }
            }
            _ => return None,
        }
        Some(Ok(()))
    }

    fn apply(&self, ctx: Context, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
        let x = inputs[0];
        Ok(vec![match self {
            Op::Conv2d(conv) => conv.forward(ctx, x)?,
            Op::ConvTranspose2d(conv) => conv.forward(ctx, x)?,
            Op::PixelShuffle(r) => pixel_shuffle(x, *r)?,
            Op::Activation(activation) => {
                let mut y = x.clone();
                activation.apply(y.data_mut());
                y
            }
            Op::Gdn(gdn) => gdn.forward(ctx, x)?,
            Op::Gain(g) => gain(x, g)?,
            Op::Concat => concat(inputs)?,
            Op::Split(sizes) => return split(x, sizes),
        }])
    }
}

/// An operation reading buffers `inputs` and writing buffers `outputs`.
#[derive(Debug, Clone)]
pub struct Step {
    /// What to compute.
    pub op: Op,
    /// Buffers read.
    pub inputs: Vec<usize>,
    /// Buffers written (a buffer may be overwritten by a later step).
    pub outputs: Vec<usize>,
}

/// A list of steps over numbered buffers: the program's inputs are given buffers, its outputs
/// the buffers returned after the last step.
#[derive(Debug, Clone)]
pub struct Program {
    buffers: usize,
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    steps: Vec<Step>,
}

fn invalid(message: String) -> Error {
    Error::InvalidArgument { what: "program", message }
}

impl Program {
    /// Checks the steps' arities and that every buffer is written (or is an input) before it is
    /// read.
    pub fn new(steps: Vec<Step>, inputs: Vec<usize>, outputs: Vec<usize>) -> Result<Self> {
        if inputs.is_empty() || outputs.is_empty() {
            return Err(invalid("a program needs at least one input and one output buffer".into()));
        }
        let buffers = steps
            .iter()
            .flat_map(|s| s.inputs.iter().chain(&s.outputs))
            .chain(&inputs)
            .chain(&outputs)
            .max()
            .map_or(0, |&m| m + 1);
        let mut defined = vec![false; buffers];
        for &b in &inputs {
            if std::mem::replace(&mut defined[b], true) {
                return Err(invalid(format!("buffer {b} is given twice as an input")));
            }
        }
        for (i, step) in steps.iter().enumerate() {
            let (n_in, n_out) = (step.inputs.len(), step.outputs.len());
            let arity_ok = match &step.op {
                Op::Concat => n_in >= 1 && n_out == 1,
                Op::Split(sizes) => n_in == 1 && n_out == sizes.len() && !sizes.is_empty(),
                _ => n_in == 1 && n_out == 1,
            };
            if !arity_ok {
                return Err(invalid(format!(
                    "step {i} ({}) has {n_in} inputs and {n_out} outputs",
                    step.op.name()
                )));
            }
            if let Some(b) = step.inputs.iter().find(|&&b| !defined[b]) {
                return Err(invalid(format!(
                    "step {i} ({}) reads buffer {b} before it is written",
                    step.op.name()
                )));
            }
            step.outputs.iter().for_each(|&b| defined[b] = true);
        }
        if let Some(b) = outputs.iter().find(|&&b| !defined[b]) {
            return Err(invalid(format!("output buffer {b} is never written")));
        }
        Ok(Program { buffers, inputs, outputs, steps })
    }

    /// Number of input tensors [`Program::run`] takes.
    pub fn num_inputs(&self) -> usize {
        self.inputs.len()
    }

    /// Number of output tensors [`Program::run`] returns.
    pub fn num_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// The steps.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Runs the program on one image (one tensor per input buffer). The results are the same
    /// bits for every kernel and thread count of `options`.
    pub fn run(&self, inputs: Vec<Tensor>, options: Options) -> Result<Vec<Tensor>> {
        if inputs.len() != self.inputs.len() {
            return Err(Error::LengthMismatch {
                what: "inputs",
                expected: self.inputs.len(),
                got: inputs.len(),
            });
        }
        options.run(|ctx| {
            let mut buffers: Vec<Option<Tensor>> = vec![None; self.buffers];
            for (&b, x) in self.inputs.iter().zip(inputs) {
                buffers[b] = Some(x);
            }
            for (i, step) in self.steps.iter().enumerate() {
                let context = |e: Error| match e {
                    Error::InvalidArgument { what, message } => {
                        invalid(format!("step {i} ({}): `{what}` {message}", step.op.name()))
                    }
                    other => other,
                };
                // A step that overwrites the one buffer it reads works in place: no copy.
                if let ([b], [o]) = (step.inputs.as_slice(), step.outputs.as_slice()) {
                    if b == o {
                        let x = buffers[*b].as_mut().expect("checked by new");
                        if let Some(done) = step.op.in_place(x) {
                            done.map_err(context)?;
                            continue;
                        }
                    }
                }
                let args: Vec<&Tensor> =
                    step.inputs.iter().map(|&b| buffers[b].as_ref().expect("checked by new")).collect();
                let results = step.op.apply(ctx, &args).map_err(context)?;
                for (&b, y) in step.outputs.iter().zip(results) {
                    if let Some(old) = buffers[b].replace(y) {
                        super::buffers::recycle(old.into_data());
                    }
                }
            }
            // The outputs are moved out (cloned only when a buffer is returned twice).
            let mut outputs = Vec::with_capacity(self.outputs.len());
            for (k, &b) in self.outputs.iter().enumerate() {
                let again = self.outputs[k + 1..].contains(&b);
                let y = if again { buffers[b].clone() } else { buffers[b].take() };
                outputs.push(y.expect("checked by new"));
            }
            // What the program no longer needs goes back to the pool for the next run.
            buffers.into_iter().flatten().for_each(|t| super::buffers::recycle(t.into_data()));
            Ok(outputs)
        })
    }
}
