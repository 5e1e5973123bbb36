//! Time of the engine's layers at the sizes of a 768 x 512 image: the prior path (`h_s` of the
//! default model, N = 64, M = 96, and of mbt2018-mean, N = 128, M = 192) and the synthesis
//! transforms (`g_s`: deconvolutions and IGDN, the same two models), random weights.
//!
//! `cargo bench --bench engine [-- --threads T]`; under `cargo test` it runs once on small maps.

use std::time::Instant;

use rand::{rngs::SmallRng, Rng, SeedableRng};
use tinify::engine::{Conv2d, ConvTranspose2d, Gdn, KernelChoice, Op, Options, Program, Step, Tensor};

fn random(rng: &mut SmallRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// (name, op, input channels, input height x width, multiply-adds per input position).
type Layer = (String, Op, usize, (usize, usize), usize);

fn layers(rng: &mut SmallRng) -> Vec<Layer> {
    let mut out: Vec<Layer> = Vec::new();
    let deconv = |rng: &mut SmallRng, i: usize, o: usize| {
        let w = random(rng, i * o * 25, (1.0 / (i * 6) as f32).sqrt());
        Op::ConvTranspose2d(
            ConvTranspose2d::new(&w, Some(&random(rng, o, 0.1)), [i, o, 5, 5], 2, (2, 2), (1, 1)).unwrap(),
        )
    };
    for &(n, m) in &[(64usize, 96usize), (128, 192)] {
        let mid = m * 3 / 2;
        let tag = format!("h_s({n},{m})");
        out.push((format!("{tag} deconv {n}->{m}"), deconv(rng, n, m), n, (8, 12), 25 * n * m));
        out.push((format!("{tag} deconv {m}->{mid}"), deconv(rng, m, mid), m, (16, 24), 25 * m * mid));
        let w = random(rng, 2 * m * mid * 9, (1.0 / (mid * 9) as f32).sqrt());
        let conv = Conv2d::new(&w, Some(&random(rng, 2 * m, 0.1)), [2 * m, mid, 3, 3], 1, (1, 1)).unwrap();
        out.push((format!("{tag} conv {mid}->{}", 2 * m), Op::Conv2d(conv), mid, (32, 48), 9 * mid * 2 * m));
    }
    for &(n, m) in &[(64usize, 96usize), (128, 192)] {
        let tag = format!("g_s({n},{m})");
        let beta: Vec<f32> = (0..n).map(|_| rng.random_range(0.5..1.5)).collect();
        let gamma: Vec<f32> = (0..n * n).map(|_| rng.random_range(0.0..0.1)).collect();
        let igdn = Op::Gdn(Gdn::new(&beta, &gamma, true).unwrap());
        out.push((format!("{tag} deconv {m}->{n}"), deconv(rng, m, n), m, (32, 48), 25 * m * n));
        out.push((format!("{tag} igdn {n}"), igdn, n, (128, 192), n * n));
        out.push((
            format!("{tag} deconv {n}->{n}"),
            deconv(rng, n, n),
            n,
            if std::env::var("SMALL").is_ok() { (32, 48) } else { (128, 192) },
            25 * n * n,
        ));
        out.push((format!("{tag} deconv {n}->3"), deconv(rng, n, 3), n, (256, 384), 25 * n * 3));
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--bench");
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .map_or(1, |t| t.parse().expect("--threads takes a number"));
    let filter = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    // The latent sides of a 768 x 512 image: z is 12 x 8, y 48 x 32; g_s's later layers run
    // at twice, four and eight times y's size.
    let repeat = if full { 10 } else { 1 };
    let mut rng = SmallRng::seed_from_u64(0);
    let options = Options { kernel: KernelChoice::Auto, threads };
    println!("{:32} {:>9} {:>9} {:>9}", "layer", "input", "ms", "GMAC/s");
    for (name, op, channels, (h, w), macs) in layers(&mut rng) {
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let (h, w) = if full { (h, w) } else { (h.min(6), w.min(7)) };
        let x = Tensor::new(channels, h, w, random(&mut rng, channels * h * w, 1.0)).unwrap();
        let program =
            Program::new(vec![Step { op, inputs: vec![0], outputs: vec![1] }], vec![0], vec![1]).unwrap();
        program.run(vec![x.clone()], options).unwrap();
        let mut best = f64::INFINITY;
        for _ in 0..repeat {
            let start = Instant::now();
            std::hint::black_box(program.run(vec![x.clone()], options).unwrap());
            best = best.min(start.elapsed().as_secs_f64());
        }
        let gmacs = (h * w * macs) as f64 / best / 1e9;
        println!("{name:32} {:>9} {:>9.2} {:>9.1}", format!("{h}x{w}"), best * 1e3, gmacs);
    }
}
