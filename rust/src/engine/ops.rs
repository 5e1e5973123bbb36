//! The data-movement and element-wise operations of the engine: no sums, so nothing to order.

use super::Tensor;
use crate::error::{Error, Result};

fn invalid(what: &'static str, message: String) -> Error {
    Error::InvalidArgument { what, message }
}

/// torch's `PixelShuffle(r)`: `(C·r², H, W)` to `(C, H·r, W·r)`, output `(c, h·r + i, w·r + j)`
/// being input `(c·r² + i·r + j, h, w)`.
pub fn pixel_shuffle(x: &Tensor, r: usize) -> Result<Tensor> {
    if r == 0 || !x.channels.is_multiple_of(r * r) {
        return Err(invalid(
            "pixel_shuffle",
            format!("{} channels are not a multiple of {r}² (and r must be positive)", x.channels),
        ));
    }
    let (c, h, w) = (x.channels / (r * r), x.height, x.width);
    let mut out = Tensor::zeros(c, h * r, w * r);
    let plane = h * w;
    if plane == 0 {
        return Ok(out);
    }
    for (k, src) in x.data.chunks_exact(plane).enumerate() {
        let (ch, i, j) = (k / (r * r), k % (r * r) / r, k % r);
        let dst = &mut out.data[ch * plane * r * r..][..plane * r * r];
        for (yy, row) in src.chunks_exact(w).enumerate() {
            let line = &mut dst[(yy * r + i) * w * r..][..w * r];
            line[j..].iter_mut().step_by(r).zip(row).for_each(|(d, &v)| *d = v);
        }
    }
    Ok(out)
}

/// Multiplies channel `c` by `gain[c]` (the gain vectors of variable-rate models).
pub fn gain(x: &Tensor, gain: &[f32]) -> Result<Tensor> {
    x.expect_channels(gain.len(), "gain")?;
    let plane = x.plane();
    let mut out = x.clone();
    if plane > 0 {
        for (values, &g) in out.data.chunks_exact_mut(plane).zip(gain) {
            values.iter_mut().for_each(|v| *v *= g);
        }
    }
    Ok(out)
}

/// Concatenates tensors of one size along channels.
pub fn concat(parts: &[&Tensor]) -> Result<Tensor> {
    let Some(first) = parts.first() else {
        return Err(invalid("concat", "needs at least one input".into()));
    };
    let (h, w) = (first.height, first.width);
    if let Some(other) = parts.iter().find(|t| (t.height, t.width) != (h, w)) {
        return Err(invalid(
            "concat",
            format!("inputs of sizes {h}x{w} and {}x{} cannot be concatenated", other.height, other.width),
        ));
    }
    let channels = parts.iter().map(|t| t.channels).sum();
    let data = parts.iter().flat_map(|t| t.data.iter().copied()).collect();
    Tensor::new(channels, h, w, data)
}

/// Splits along channels into parts of `sizes` channels (which must sum to the channels).
pub fn split(x: &Tensor, sizes: &[usize]) -> Result<Vec<Tensor>> {
    if sizes.iter().sum::<usize>() != x.channels {
        return Err(invalid("split", format!("sizes {sizes:?} do not sum to the {} channels", x.channels)));
    }
    let mut at = 0;
    sizes
        .iter()
        .map(|&c| {
            let part = x.data[at * x.plane()..(at + c) * x.plane()].to_vec();
            at += c;
            Tensor::new(c, x.height, x.width, part)
        })
        .collect()
}
