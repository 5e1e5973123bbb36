//! Time of the autoregressive loop at mbt2018's size (M = 192, 5x5 context, 768-640-512-384
//! entropy parameters) on a 32 x 48 latent (a 512 x 768 image), random weights, latents of
//! realistic spread (Gaussian, scale about 3).
//!
//! `cargo bench --bench autoregressive`; under `cargo test` it runs once on a small latent.

use std::time::Instant;

use rand::{rngs::SmallRng, Rng, SeedableRng};
use tinify::autoregressive::{Layer, RasterScan};
use tinify::cdf::quantized_cdf_table;
use tinify::coder::CdfTable;
use tinify::network::{Activation, Dense};

fn dense(rng: &mut SmallRng, out: usize, inp: usize) -> Layer {
    let bound = (1.0 / inp as f32).sqrt();
    let w: Vec<f32> = (0..out * inp).map(|_| rng.random_range(-bound..bound)).collect();
    let b: Vec<f32> = (0..out).map(|_| rng.random_range(-bound..bound)).collect();
    Layer::Pointwise(Dense::new(&w, Some(&b), out, inp).unwrap())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (m, h, w) = if full { (192, 32, 48) } else { (16, 6, 7) };
    let mut rng = SmallRng::seed_from_u64(0);
    let scales: Vec<f32> =
        (0..64).map(|i| (0.11f32.ln() + (256f32.ln() - 0.11f32.ln()) * i as f32 / 63.0).exp()).collect();
    let centers: Vec<i32> = scales.iter().map(|s| (s * 6.11).ceil() as i32).collect();
    let mut pmfs = Vec::new();
    for (&s, &c) in scales.iter().zip(&centers) {
        pmfs.extend((-c..=c).map(|k| (-0.5 * (k as f32 / s).powi(2)).exp() + 1e-7));
    }
    let lengths: Vec<i32> = centers.iter().map(|c| 2 * c + 1).collect();
    let t = quantized_cdf_table(&pmfs, &lengths, &vec![1e-9; 64], 16).unwrap();
    let offsets: Vec<i32> = centers.iter().map(|c| -c).collect();
    let table = CdfTable::new(&t.cdfs, t.stride, &t.lengths, &offsets).unwrap();

    let (p, cc, k) = (2 * m, 2 * m, 5);
    let bound = (1.0 / (m * 12) as f32).sqrt();
    let mut weight: Vec<f32> = (0..cc * m * k * k).map(|_| rng.random_range(-bound..bound)).collect();
    for o in 0..cc * m {
        for r in 0..k {
            for c in 0..k {
                if r > 2 || (r == 2 && c >= 2) {
                    weight[(o * k + r) * k + c] = 0.0;
                }
            }
        }
    }
    let bias = vec![0.0; cc];
    let network = vec![
        dense(&mut rng, 10 * m / 3, 4 * m),
        Layer::Activation(Activation::LeakyRelu(0.01)),
        dense(&mut rng, 8 * m / 3, 10 * m / 3),
        Layer::Activation(Activation::LeakyRelu(0.01)),
        dense(&mut rng, 2 * m, 8 * m / 3),
    ];
    let model = RasterScan::new(m, p, &weight, &bias, (k, k), network, scales, 0.11).unwrap();
    let y: Vec<f32> = (0..m * h * w).map(|_| rng.random_range(-5.0..5.0)).collect();
    let params: Vec<f32> = (0..p * h * w).map(|_| rng.random_range(-1.0..1.0)).collect();

    let reps = if full { 5 } else { 1 };
    let (mut enc, mut dec) = (f64::MAX, f64::MAX);
    let mut data = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let (d, y_hat) = model.encode(&y, &params, h, w, &table).unwrap();
        enc = enc.min(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let decoded = model.decode(&d, &params, h, w, &table).unwrap();
        dec = dec.min(t0.elapsed().as_secs_f64());
        assert_eq!(decoded, y_hat);
        data = d;
    }
    let positions = (h * w) as f64;
    println!(
        "M={m}, {h}x{w} latent: {} bytes; encode {:.1} ms, decode {:.1} ms ({:.1} us per position)",
        data.len(),
        enc * 1e3,
        dec * 1e3,
        dec * 1e6 / positions
    );
}
