//! Quantized CDF tables: from probability mass functions to the integer CDFs the coder uses.
//!
//! The quantization reproduces CompressAI's `pmf_to_quantized_cdf` bit for bit, so that tables
//! built here equal the ones stored in CompressAI checkpoints and code the same bytes:
//!
//! 1. each probability is scaled in float32 and rounded half away from zero;
//! 2. the integer frequencies are renormalised to sum to `2^precision` (floor division), the
//!    leftover going to the last symbol;
//! 3. every zero frequency, in symbol order, borrows one unit from the currently smallest
//!    frequency above 1 (first such symbol on ties).
//!
//! CompressAI finds the donor of step 3 by a linear scan per zero, which is quadratic for the
//! wide, thin-tailed rows of a Gaussian scale table. The donor is always the minimum of
//! (frequency, symbol) over the symbols with frequency above 1, and only the donor and the
//! repaired symbol change, so a binary heap gives the same donors in `O(n log n)`.
//!
//! The table layout is CompressAI's: one row per distribution, `len + 2` entries for a pmf of
//! `len` values (the extra symbol is the escape symbol carrying the tail mass), rows
//! zero-padded to the longest. The pmfs come concatenated, so that callers pass only the
//! values that matter.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::error::{Error, Result};

/// Largest supported CDF precision, in bits (the rANS coder works at exactly this precision).
pub const MAX_PRECISION: u32 = 16;

/// Quantizes one pmf into a CDF of `pmf.len() + 1` entries, from 0 to `2^precision`.
///
/// Requires finite, non-negative probabilities, at least one of which survives quantization,
/// and `precision` in `[1, 16]`.
pub fn pmf_to_quantized_cdf(pmf: &[f32], precision: u32) -> Result<Vec<u32>> {
    let mut scratch = Scratch::default();
    let mut cdf = vec![0; pmf.len() + 1];
    quantize_into(pmf.iter().copied(), precision, &mut scratch, &mut cdf)?;
    Ok(cdf)
}

/// A table of quantized CDF rows in CompressAI's padded layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantizedCdfTable {
    /// Row-major CDF rows, `rows * stride` entries, zero-padded.
    pub cdfs: Vec<i32>,
    /// Allocated length of each row: the longest pmf plus 2.
    pub stride: usize,
    /// Number of valid entries of each row (`pmf_length + 2`).
    pub lengths: Vec<i32>,
}

/// Builds the CDF rows of many pmfs at once.
///
/// The pmfs are concatenated in `pmfs`: row `r` quantizes the next `lengths[r]` values
/// followed by `tail_masses[r]` (the escape symbol).
pub fn quantized_cdf_table(
    pmfs: &[f32],
    lengths: &[i32],
    tail_masses: &[f32],
    precision: u32,
) -> Result<QuantizedCdfTable> {
    let rows = lengths.len();
    if tail_masses.len() != rows {
        return Err(Error::LengthMismatch { what: "tail_masses", expected: rows, got: tail_masses.len() });
    }
    let mut total = 0usize;
    let mut max_len = 0;
    for (row, &len) in lengths.iter().enumerate() {
        if len < 0 {
            return Err(Error::InvalidArgument {
                what: "pmf_lengths",
                message: format!("row {row} has negative length {len}"),
            });
        }
        total += len as usize;
        max_len = max_len.max(len as usize);
    }
    if pmfs.len() != total {
        return Err(Error::LengthMismatch { what: "pmfs", expected: total, got: pmfs.len() });
    }
    let stride = max_len + 2;
    let mut cdfs = vec![0i32; rows * stride];
    let mut out_lengths = Vec::with_capacity(rows);
    let mut scratch = Scratch::default();
    let mut cdf = Vec::with_capacity(stride);
    let mut start = 0;
    for (row, (&len, &tail)) in lengths.iter().zip(tail_masses).enumerate() {
        let len = len as usize;
        let pmf = &pmfs[start..start + len];
        start += len;
        cdf.clear();
        cdf.resize(len + 2, 0);
        quantize_into(pmf.iter().copied().chain([tail]), precision, &mut scratch, &mut cdf)?;
        for (dst, &src) in cdfs[row * stride..].iter_mut().zip(&cdf) {
            *dst = src as i32;
        }
        out_lengths.push((len + 2) as i32);
    }
    Ok(QuantizedCdfTable { cdfs, stride, lengths: out_lengths })
}

/// Reusable buffers, so that building a table allocates once, not once per row.
#[derive(Default)]
struct Scratch {
    freqs: Vec<u32>,
    donors: Vec<Reverse<(u32, u32)>>,
}

/// Quantizes `pmf` (exactly `cdf.len() - 1` values) into `cdf`.
fn quantize_into(
    pmf: impl Iterator<Item = f32>,
    precision: u32,
    scratch: &mut Scratch,
    cdf: &mut [u32],
) -> Result<()> {
    if !(1..=MAX_PRECISION).contains(&precision) {
        return Err(Error::InvalidPrecision(precision));
    }
    let one = 1u64 << precision;
    let scale = one as f32;
    let freqs = &mut scratch.freqs;
    freqs.clear();
    let mut total = 0u64;
    for (position, p) in pmf.enumerate() {
        if !(p >= 0.0 && p.is_finite()) {
            return Err(Error::InvalidPmf { position, value: p });
        }
        // float32 product, rounded half away from zero: CompressAI's `std::round(p * (1 << precision))`.
        let f = (p * scale).round();
        if f >= 4_294_967_296.0 {
            return Err(Error::PmfOverflow);
        }
        let f = f as u64;
        total += f;
        freqs.push(f as u32);
    }
    debug_assert_eq!(freqs.len() + 1, cdf.len());
    if total > u64::from(u32::MAX) {
        return Err(Error::PmfOverflow);
    }
    if total == 0 {
        return Err(Error::ZeroPmf);
    }
    let n = freqs.len();
    let mut assigned = 0u64;
    for f in freqs.iter_mut() {
        *f = ((one * u64::from(*f)) / total) as u32;
        assigned += u64::from(*f);
    }
    // The rounding remainder goes to the last symbol (CompressAI forces cdf[n] = 2^precision).
    freqs[n - 1] += (one - assigned) as u32;

    if freqs.contains(&0) {
        if n as u64 > one {
            return Err(Error::PmfTooLong { len: n, precision });
        }
        let donors = &mut scratch.donors;
        donors.clear();
        donors.extend(freqs.iter().enumerate().filter(|(_, &f)| f > 1).map(|(j, &f)| Reverse((f, j as u32))));
        let mut heap = BinaryHeap::from(std::mem::take(donors));
        for i in 0..n {
            if freqs[i] != 0 {
                continue;
            }
            // n <= 2^precision guarantees a donor: the frequencies sum to 2^precision.
            let Some(Reverse((f, j))) = heap.pop() else {
                return Err(Error::PmfTooLong { len: n, precision });
            };
            freqs[i] = 1;
            freqs[j as usize] = f - 1;
            if f - 1 > 1 {
                heap.push(Reverse((f - 1, j)));
            }
        }
        *donors = heap.into_vec();
    }

    cdf[0] = 0;
    let mut acc = 0u32;
    for (dst, &f) in cdf[1..].iter_mut().zip(freqs.iter()) {
        acc += f;
        *dst = acc;
    }
    debug_assert_eq!(u64::from(acc), one);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quadratic reference algorithm, transcribed from the specification (repair by scan).
    fn reference(pmf: &[f32], precision: u32) -> Vec<u32> {
        let one = 1u64 << precision;
        let mut cdf: Vec<u64> =
            std::iter::once(0).chain(pmf.iter().map(|&p| (p * one as f32).round() as u64)).collect();
        let total: u64 = cdf.iter().sum();
        for c in cdf.iter_mut() {
            *c = one * *c / total;
        }
        for i in 1..cdf.len() {
            cdf[i] += cdf[i - 1];
        }
        *cdf.last_mut().unwrap() = one;
        for i in 0..cdf.len() - 1 {
            if cdf[i] == cdf[i + 1] {
                let mut best = (u64::MAX, usize::MAX);
                for j in 0..cdf.len() - 1 {
                    let f = cdf[j + 1] - cdf[j];
                    if f > 1 && f < best.0 {
                        best = (f, j);
                    }
                }
                let j = best.1;
                if j < i {
                    for c in &mut cdf[j + 1..=i] {
                        *c -= 1;
                    }
                } else {
                    for c in &mut cdf[i + 1..=j] {
                        *c += 1;
                    }
                }
            }
        }
        cdf.into_iter().map(|c| c as u32).collect()
    }

    #[test]
    fn golden_vectors_match_compressai() {
        let cases: [(&[f32], &[u32]); 4] = [
            (&[0.1, 0.2, 0.0, 0.0], &[0, 21845, 65534, 65535, 65536]),
            (&[0.5, 0.5, 0.0], &[0, 32767, 65535, 65536]),
            (&[1.0], &[0, 65536]),
            (&[0.25, 0.5, 0.25, 1e-3], &[0, 16367, 49102, 65469, 65536]),
        ];
        for (pmf, expected) in cases {
            assert_eq!(pmf_to_quantized_cdf(pmf, 16).unwrap(), expected, "pmf {pmf:?}");
        }
    }

    #[test]
    fn heap_repair_equals_linear_scan_repair() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(7);
        for case in 0..2000 {
            let n = rng.random_range(1..400);
            let sparsity: f32 = rng.random();
            let pmf: Vec<f32> =
                (0..n)
                    .map(|_| {
                        if rng.random::<f32>() < sparsity {
                            rng.random::<f32>() * 1e-5
                        } else {
                            rng.random()
                        }
                    })
                    .collect();
            let precision = if case % 5 == 0 { rng.random_range(10..16) } else { 16 };
            let scale = (1u32 << precision) as f32;
            if pmf.iter().all(|&p| (p * scale).round() == 0.0) || n as u64 > 1 << precision {
                continue;
            }
            assert_eq!(pmf_to_quantized_cdf(&pmf, precision).unwrap(), reference(&pmf, precision));
        }
    }

    #[test]
    fn wide_gaussian_row_is_strictly_increasing() {
        let sigma = 256.0f64;
        let pmf: Vec<f32> = (-1565..=1565)
            .map(|k: i32| {
                let x = f64::from(k) / sigma;
                ((-0.5 * x * x).exp() / (sigma * (2.0 * std::f64::consts::PI).sqrt())) as f32
            })
            .collect();
        let cdf = pmf_to_quantized_cdf(&pmf, 16).unwrap();
        assert!(cdf.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(cdf, reference(&pmf, 16));
    }

    #[test]
    fn invalid_pmfs_are_rejected() {
        assert_eq!(
            pmf_to_quantized_cdf(&[0.5, -0.1], 16),
            Err(Error::InvalidPmf { position: 1, value: -0.1 })
        );
        assert!(matches!(pmf_to_quantized_cdf(&[f32::NAN], 16), Err(Error::InvalidPmf { .. })));
        assert!(matches!(pmf_to_quantized_cdf(&[f32::INFINITY], 16), Err(Error::InvalidPmf { .. })));
        assert_eq!(pmf_to_quantized_cdf(&[0.0, 1e-9], 16), Err(Error::ZeroPmf));
        assert_eq!(pmf_to_quantized_cdf(&[], 16), Err(Error::ZeroPmf));
        assert_eq!(pmf_to_quantized_cdf(&[1.0], 0), Err(Error::InvalidPrecision(0)));
        assert_eq!(pmf_to_quantized_cdf(&[1.0], 17), Err(Error::InvalidPrecision(17)));
        assert_eq!(pmf_to_quantized_cdf(&[1e30], 16), Err(Error::PmfOverflow));
        let long = vec![1.0; 5];
        assert_eq!(pmf_to_quantized_cdf(&long, 2), Err(Error::PmfTooLong { len: 5, precision: 2 }));
    }

    #[test]
    fn table_rows_are_padded_and_carry_the_tail_symbol() {
        let pmfs = [0.25f32, 0.5, 0.25, 1.0];
        let table = quantized_cdf_table(&pmfs, &[3, 1], &[1e-3, 0.0], 16).unwrap();
        assert_eq!(table.stride, 5);
        assert_eq!(table.lengths, [5, 3]);
        assert_eq!(&table.cdfs[..5], &[0, 16367, 49102, 65469, 65536]);
        assert_eq!(&table.cdfs[5..], &[0, 65535, 65536, 0, 0]);
    }

    #[test]
    fn table_rejects_inconsistent_arguments() {
        let err = quantized_cdf_table(&[1.0; 4], &[2, 2], &[0.0], 16).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { what: "tail_masses", .. }), "{err}");
        let err = quantized_cdf_table(&[1.0; 4], &[-1, 2], &[0.0, 0.0], 16).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { what: "pmf_lengths", .. }), "{err}");
        let err = quantized_cdf_table(&[1.0; 3], &[2, 2], &[0.0, 0.0], 16).unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { what: "pmfs", .. }), "{err}");
    }
}
