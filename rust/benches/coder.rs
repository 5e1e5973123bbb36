//! Throughput of the coder on CompressAI's GaussianConditional setup: the 64-scale table and
//! symbols drawn from the matching discretized Gaussians.
//!
//! `cargo bench --bench coder` prints million symbols per second; under `cargo test` the same
//! code runs once on a small input, so the bench cannot rot.

use std::time::Instant;

use rand::{rngs::SmallRng, Rng, SeedableRng};
use tinify::cdf::quantized_cdf_table;
use tinify::coder::{decode_with_indexes, encode_with_indexes, CdfTable};

/// Standard normal CDF via the complementary error function (Numerical Recipes' erfcc, 1.2e-7).
fn phi(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.26551223
        + t * (1.00002368
            + t * (0.37409196
                + t * (0.09678418
                    + t * (-0.18628806
                        + t * (0.27886807
                            + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

struct GaussianTable {
    cdfs: Vec<i32>,
    stride: usize,
    sizes: Vec<i32>,
    offsets: Vec<i32>,
    scales: Vec<f64>,
}

fn gaussian_table() -> GaussianTable {
    let levels: usize = 64;
    let scales: Vec<f64> = (0..levels)
        .map(|i| (0.11f64.ln() + (256f64.ln() - 0.11f64.ln()) * i as f64 / (levels - 1) as f64).exp())
        .collect();
    let centers: Vec<i32> = scales.iter().map(|s| (s * 6.1094102).ceil() as i32).collect();
    let mut pmfs = Vec::new();
    let mut tails = Vec::new();
    for (&s, &c) in scales.iter().zip(&centers) {
        for k in 0..=2 * c {
            let v = f64::from(k - c).abs();
            pmfs.push((phi((0.5 - v) / s) - phi((-0.5 - v) / s)) as f32);
        }
        tails.push((2.0 * phi((-0.5 - f64::from(c)) / s)) as f32);
    }
    let lengths: Vec<i32> = centers.iter().map(|c| 2 * c + 1).collect();
    let table = quantized_cdf_table(&pmfs, &lengths, &tails, 16).unwrap();
    GaussianTable {
        cdfs: table.cdfs,
        stride: table.stride,
        sizes: table.lengths,
        offsets: centers.iter().map(|c| -c).collect(),
        scales,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 2_000_000 } else { 20_000 };
    let t = gaussian_table();
    let table = CdfTable::new(&t.cdfs, t.stride, &t.sizes, &t.offsets).unwrap();
    let mut rng = SmallRng::seed_from_u64(1);
    let mut indexes = Vec::with_capacity(n);
    let mut symbols = Vec::with_capacity(n);
    for _ in 0..n {
        let idx = rng.random_range(0..t.scales.len());
        let (u1, u2): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random());
        let g = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        indexes.push(idx as i32);
        symbols.push((g * t.scales[idx]).round() as i32);
    }
    let reps = if full { 25 } else { 1 };
    let mut best_enc = f64::MAX;
    let mut best_dec = f64::MAX;
    let mut bytes = Vec::new();
    let mut out = vec![0; n];
    for _ in 0..reps {
        let t0 = Instant::now();
        bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
        best_enc = best_enc.min(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap();
        best_dec = best_dec.min(t0.elapsed().as_secs_f64());
        assert_eq!(out, symbols);
    }
    let t0 = Instant::now();
    let search = tinify::coder::SymbolSearch::new(&table, n);
    let build = t0.elapsed().as_secs_f64();
    drop(search);
    let t0 = Instant::now();
    let _ = CdfTable::new(&t.cdfs, t.stride, &t.sizes, &t.offsets).unwrap();
    let validate = t0.elapsed().as_secs_f64();
    println!("table validation {:.3} ms, symbol search build {:.3} ms", validate * 1e3, build * 1e3);
    println!(
        "{n} symbols, {} bytes ({:.2} bits/symbol): encode {:.1} M symbols/s, decode {:.1} M symbols/s",
        bytes.len(),
        8.0 * bytes.len() as f64 / n as f64,
        n as f64 / best_enc / 1e6,
        n as f64 / best_dec / 1e6
    );
}
