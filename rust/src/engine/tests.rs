//! Each operation against a straightforward reference (same order: the same bits; another
//! order: within tolerance), and every kernel and thread count against each other.

use super::*;
use rand::{rngs::SmallRng, Rng, SeedableRng};

fn random(rng: &mut SmallRng, n: usize, scale: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

fn tensor(rng: &mut SmallRng, c: usize, h: usize, w: usize) -> Tensor {
    Tensor::new(c, h, w, random(rng, c * h * w, 3.0)).unwrap()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// Every (kernel, threads) this CPU runs.
fn every_option() -> Vec<Options> {
    KernelChoice::available()
        .into_iter()
        .chain([KernelChoice::Auto])
        .flat_map(|kernel| [1, 2, 3].map(|threads| Options { kernel, threads }))
        .collect()
}

/// Runs `f` with every option and checks that all give the bits of the first; returns them.
fn same_everywhere(f: impl Fn(Options) -> Tensor) -> Tensor {
    let options = every_option();
    let first = f(options[0]);
    for &o in &options[1..] {
        let other = f(o);
        assert_eq!(other.shape(), first.shape());
        assert!(bits(other.data()) == bits(first.data()), "{o:?} differs from {:?}", options[0]);
    }
    first
}

fn one_step(op: Op, x: &Tensor, options: Options) -> Tensor {
    let program =
        Program::new(vec![Step { op, inputs: vec![0], outputs: vec![1] }], vec![0], vec![1]).unwrap();
    program.run(vec![x.clone()], options).unwrap().remove(0)
}

/// The contract's order: bias, then (ky, kx, c) lexicographic, padding values as terms w·0.
#[allow(clippy::too_many_arguments)]
fn reference_conv(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    [o_n, c_n, kh, kw]: [usize; 4],
    stride: usize,
    pad: usize,
    skip_zero_taps: bool,
) -> Tensor {
    let (h, w) = (x.height(), x.width());
    let (oh, ow) = ((h + 2 * pad - kh) / stride + 1, (w + 2 * pad - kw) / stride + 1);
    let live = |ky: usize, kx: usize| {
        !skip_zero_taps
            || (0..o_n).any(|o| (0..c_n).any(|c| weight[((o * c_n + c) * kh + ky) * kw + kx] != 0.0))
    };
    let mut out = vec![0.0f32; o_n * oh * ow];
    for o in 0..o_n {
        for y in 0..oh {
            for xx in 0..ow {
                let mut acc = bias[o];
                for ky in 0..kh {
                    for kx in 0..kw {
                        for c in 0..c_n {
                            if !live(ky, kx) {
                                continue;
                            }
                            let (iy, ix) = (
                                (y * stride + ky) as isize - pad as isize,
                                (xx * stride + kx) as isize - pad as isize,
                            );
                            let v = if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                0.0
                            } else {
                                x.data()[(c * h + iy as usize) * w + ix as usize]
                            };
                            acc += weight[((o * c_n + c) * kh + ky) * kw + kx] * v;
                        }
                    }
                }
                out[(o * oh + y) * ow + xx] = acc;
            }
        }
    }
    Tensor::new(o_n, oh, ow, out).unwrap()
}

#[test]
fn conv_equals_the_sequential_sum_on_every_kernel_and_thread_count() {
    let mut rng = SmallRng::seed_from_u64(1);
    for (o, c, k, stride, pad, h, w) in [
        (1, 1, 1, 1, 0, 1, 1),
        (5, 3, 3, 1, 1, 7, 9),
        (17, 6, 3, 2, 1, 9, 8),
        (32, 16, 5, 2, 2, 12, 10),
        (40, 24, 3, 1, 1, 11, 13),
        (3, 8, 5, 1, 0, 6, 7),
    ] {
        let weight = random(&mut rng, o * c * k * k, 1.0 / ((c * k * k) as f32).sqrt());
        let bias = random(&mut rng, o, 0.5);
        let x = tensor(&mut rng, c, h, w);
        let conv = Conv2d::new(&weight, Some(&bias), [o, c, k, k], stride, (pad, pad)).unwrap();
        let got = same_everywhere(|opts| one_step(Op::Conv2d(conv.clone()), &x, opts));
        let expected = reference_conv(&x, &weight, &bias, [o, c, k, k], stride, pad, false);
        assert_eq!(got.shape(), expected.shape());
        assert_eq!(bits(got.data()), bits(expected.data()), "{o} {c} {k} {stride} {pad}");
    }
}

#[test]
fn masked_conv_skips_the_masked_taps_and_matches_the_full_sum_closely() {
    let mut rng = SmallRng::seed_from_u64(2);
    let (o, c, k) = (20, 12, 5);
    let mut weight = random(&mut rng, o * c * k * k, 0.1);
    // A checkerboard type-"A" mask: taps (i, j) with i + j odd kept.
    for (n, v) in weight.iter_mut().enumerate() {
        let (ky, kx) = ((n / k) % k, n % k);
        if (ky + kx) % 2 == 0 {
            *v = 0.0;
        }
    }
    let bias = random(&mut rng, o, 0.5);
    let x = tensor(&mut rng, c, 9, 11);
    let conv = Conv2d::new(&weight, Some(&bias), [o, c, k, k], 1, (2, 2)).unwrap();
    let got = same_everywhere(|opts| one_step(Op::Conv2d(conv.clone()), &x, opts));
    let skipping = reference_conv(&x, &weight, &bias, [o, c, k, k], 1, 2, true);
    assert_eq!(bits(got.data()), bits(skipping.data()));
    let full = reference_conv(&x, &weight, &bias, [o, c, k, k], 1, 2, false);
    for (a, b) in got.data().iter().zip(full.data()) {
        assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
    }
}

/// torch's definition through zero insertion: dilate the input by the stride, pad by
/// `k − 1 − p` (and `output_padding` at the end), convolve with the flipped kernel; in f64.
fn zero_insertion_reference(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    [c_n, o_n, k, _]: [usize; 4],
    s: usize,
    p: usize,
    op: usize,
) -> Vec<f64> {
    let (h, w) = (x.height(), x.width());
    let (dh, dw) = ((h - 1) * s + 1 + 2 * (k - 1 - p) + op, (w - 1) * s + 1 + 2 * (k - 1 - p) + op);
    let mut dil = vec![0.0f64; c_n * dh * dw];
    for c in 0..c_n {
        for y in 0..h {
            for xx in 0..w {
                dil[(c * dh + y * s + k - 1 - p) * dw + xx * s + k - 1 - p] =
                    f64::from(x.data()[(c * h + y) * w + xx]);
            }
        }
    }
    let (oh, ow) = (dh - k + 1, dw - k + 1);
    let mut out = vec![0.0; o_n * oh * ow];
    for o in 0..o_n {
        for y in 0..oh {
            for xx in 0..ow {
                let mut acc = f64::from(bias[o]);
                for c in 0..c_n {
                    for ky in 0..k {
                        for kx in 0..k {
                            let wv = weight[((c * o_n + o) * k + (k - 1 - ky)) * k + (k - 1 - kx)];
                            acc += f64::from(wv) * dil[(c * dh + y + ky) * dw + xx + kx];
                        }
                    }
                }
                out[(o * oh + y) * ow + xx] = acc;
            }
        }
    }
    out
}

/// The contract's order for a transposed convolution: bias, then the (ky, kx, c) that map an
/// integer input position to the output, w·0 where that position is outside the input.
fn reference_transposed(
    x: &Tensor,
    weight: &[f32],
    bias: &[f32],
    shape: [usize; 4],
    s: usize,
    p: usize,
    op: usize,
) -> Vec<f32> {
    let [c_n, o_n, k, _] = shape;
    let (h, w) = (x.height() as isize, x.width() as isize);
    let (oh, ow) = ((h as usize - 1) * s + k + op - 2 * p, (w as usize - 1) * s + k + op - 2 * p);
    let mut out = vec![0.0f32; o_n * oh * ow];
    for o in 0..o_n {
        for y in 0..oh {
            for xx in 0..ow {
                let mut acc = bias[o];
                for ky in 0..k {
                    for kx in 0..k {
                        for c in 0..c_n {
                            let (ny, nx) = ((y + p) as isize - ky as isize, (xx + p) as isize - kx as isize);
                            if ny.rem_euclid(s as isize) != 0 || nx.rem_euclid(s as isize) != 0 {
                                continue;
                            }
                            let (iy, ix) = (ny.div_euclid(s as isize), nx.div_euclid(s as isize));
                            let v = if iy < 0 || ix < 0 || iy >= h || ix >= w {
                                0.0
                            } else {
                                x.data()[((c as isize * h + iy) * w + ix) as usize]
                            };
                            acc += weight[((c * o_n + o) * k + ky) * k + kx] * v;
                        }
                    }
                }
                out[(o * oh + y) * ow + xx] = acc;
            }
        }
    }
    out
}

#[test]
fn transposed_conv_matches_zero_insertion_and_its_own_order_bit_for_bit() {
    let mut rng = SmallRng::seed_from_u64(3);
    for (c, o, k, s, p, op, h, w) in [
        (4, 6, 5, 2, 2, 1, 3, 4),
        (16, 24, 5, 2, 2, 1, 6, 5),
        (8, 17, 3, 2, 1, 1, 5, 7),
        (6, 5, 4, 2, 1, 0, 4, 4),
        (5, 7, 3, 1, 1, 0, 4, 6),
        (3, 4, 3, 3, 0, 2, 3, 2),
    ] {
        let shape = [c, o, k, k];
        let weight = random(&mut rng, c * o * k * k, 1.0 / ((c * k * k) as f32).sqrt());
        let bias = random(&mut rng, o, 0.5);
        let x = tensor(&mut rng, c, h, w);
        let conv = ConvTranspose2d::new(&weight, Some(&bias), shape, s, (p, p), (op, op)).unwrap();
        let got = same_everywhere(|opts| one_step(Op::ConvTranspose2d(conv.clone()), &x, opts));
        let exact = reference_transposed(&x, &weight, &bias, shape, s, p, op);
        assert_eq!(bits(got.data()), bits(&exact), "{shape:?} s={s} p={p}");
        let dilated = zero_insertion_reference(&x, &weight, &bias, shape, s, p, op);
        assert_eq!(got.data().len(), dilated.len());
        for (a, b) in got.data().iter().zip(&dilated) {
            assert!((f64::from(*a) - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
        }
    }
}

#[test]
fn deconv_doubles_the_size() {
    let conv = ConvTranspose2d::new(&[0.5; 2 * 3 * 25], None, [2, 3, 5, 5], 2, (2, 2), (1, 1)).unwrap();
    assert_eq!(conv.output_size(12, 8).unwrap(), (24, 16));
}

#[test]
fn gdn_and_igdn_match_their_definitions() {
    let mut rng = SmallRng::seed_from_u64(4);
    let c = 19;
    let beta: Vec<f32> = (0..c).map(|_| rng.random_range(0.5..1.5)).collect();
    let gamma: Vec<f32> = (0..c * c).map(|_| rng.random_range(0.0..0.1)).collect();
    let x = tensor(&mut rng, c, 5, 7);
    for inverse in [false, true] {
        let gdn = Gdn::new(&beta, &gamma, inverse).unwrap();
        let got = same_everywhere(|opts| one_step(Op::Gdn(gdn.clone()), &x, opts));
        let plane = 35;
        for i in 0..c {
            for pos in 0..plane {
                let mut norm = beta[i];
                for j in 0..c {
                    let v = x.data()[j * plane + pos];
                    norm += gamma[i * c + j] * (v * v);
                }
                let v = x.data()[i * plane + pos];
                let expected = if inverse { v * norm.sqrt() } else { v / norm.sqrt() };
                assert_eq!(got.data()[i * plane + pos].to_bits(), expected.to_bits());
            }
        }
    }
}

#[test]
fn pixel_shuffle_gain_concat_and_split_move_values_as_torch() {
    let x = Tensor::new(8, 2, 3, (0..48).map(|v| v as f32).collect()).unwrap();
    let y = pixel_shuffle(&x, 2).unwrap();
    assert_eq!(y.shape(), (2, 4, 6));
    for c in 0..2 {
        for h in 0..2 {
            for w in 0..3 {
                for i in 0..2 {
                    for j in 0..2 {
                        let src = x.data()[((c * 4 + i * 2 + j) * 2 + h) * 3 + w];
                        assert_eq!(y.data()[(c * 4 + h * 2 + i) * 6 + w * 2 + j], src);
                    }
                }
            }
        }
    }
    let g = gain(&x, &[2.0; 8]).unwrap();
    assert_eq!(g.data()[47], 94.0);
    let parts = split(&x, &[3, 5]).unwrap();
    assert_eq!(parts[1].shape(), (5, 2, 3));
    assert_eq!(concat(&[&parts[0], &parts[1]]).unwrap(), x);
    assert!(split(&x, &[3, 4]).is_err());
    assert!(pixel_shuffle(&x, 3).is_err());
    assert!(gain(&x, &[1.0; 3]).is_err());
}

/// `h_s` of a mean-scale hyperprior with a gain: gain, deconv, LeakyReLU, deconv, LeakyReLU,
/// conv 3x3, split into scales and means.
fn hyper_synthesis(rng: &mut SmallRng, n: usize, m: usize) -> Program {
    let mut deconv = |i: usize, o: usize| {
        let w = random(rng, i * o * 25, 1.0 / ((i * 25 / 4) as f32).sqrt());
        let b = random(rng, o, 0.1);
        ConvTranspose2d::new(&w, Some(&b), [i, o, 5, 5], 2, (2, 2), (1, 1)).unwrap()
    };
    let (d1, d2) = (deconv(n, m), deconv(m, m * 3 / 2));
    let w = random(rng, m * 2 * m * 3 / 2 * 9, 1.0 / ((m * 3 / 2 * 9) as f32).sqrt());
    let conv = Conv2d::new(&w, Some(&random(rng, 2 * m, 0.1)), [2 * m, m * 3 / 2, 3, 3], 1, (1, 1)).unwrap();
    let leaky = Op::Activation(Activation::LeakyRelu(0.01));
    let steps = vec![
        Step { op: Op::Gain(random(rng, n, 2.0)), inputs: vec![0], outputs: vec![1] },
        Step { op: Op::ConvTranspose2d(d1), inputs: vec![1], outputs: vec![2] },
        Step { op: leaky.clone(), inputs: vec![2], outputs: vec![2] },
        Step { op: Op::ConvTranspose2d(d2), inputs: vec![2], outputs: vec![3] },
        Step { op: leaky, inputs: vec![3], outputs: vec![3] },
        Step { op: Op::Conv2d(conv), inputs: vec![3], outputs: vec![4] },
        Step { op: Op::Split(vec![m, m]), inputs: vec![4], outputs: vec![5, 6] },
    ];
    Program::new(steps, vec![0], vec![5, 6]).unwrap()
}

#[test]
fn a_hyper_synthesis_gives_the_same_bits_on_every_kernel_and_thread_count() {
    let mut rng = SmallRng::seed_from_u64(5);
    let program = hyper_synthesis(&mut rng, 24, 32);
    // z_hat: integers, as the entropy bottleneck decodes them.
    let z: Vec<f32> = (0..24 * 6 * 5).map(|_| rng.random_range(-4i32..=4) as f32).collect();
    let z = Tensor::new(24, 6, 5, z).unwrap();
    let scales = same_everywhere(|opts| program.run(vec![z.clone()], opts).unwrap().remove(0));
    assert_eq!(scales.shape(), (32, 24, 20));
    let means = same_everywhere(|opts| program.run(vec![z.clone()], opts).unwrap().remove(1));
    assert_eq!(means.shape(), (32, 24, 20));
}

#[cfg(target_arch = "x86_64")]
#[test]
fn a_caller_with_flush_to_zero_and_another_rounding_gets_the_same_bits() {
    use super::fpenv::testing::{mxcsr, set_mxcsr};
    let mut rng = SmallRng::seed_from_u64(6);
    let (o, c) = (16, 8);
    // Subnormal products: FTZ/DAZ would flush them, round-toward-zero would round them.
    let weight: Vec<f32> = random(&mut rng, o * c * 9, 1.0).iter().map(|v| v * 1e-20).collect();
    let x = Tensor::new(c, 4, 5, random(&mut rng, c * 20, 1e-19)).unwrap();
    let conv = Conv2d::new(&weight, None, [o, c, 3, 3], 1, (1, 1)).unwrap();
    let expected = one_step(Op::Conv2d(conv.clone()), &x, Options::default());
    assert!(expected.data().iter().any(|v| v.is_subnormal()));
    // FTZ | DAZ | round toward zero, exceptions masked, on the one worker of a private pool;
    // threads = 0 runs the program on the current pool, so every value is computed there.
    let hostile = 0x1F80 | 0x8000 | 0x0040 | 0x6000;
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (got, after) = pool.install(|| {
        let old = set_mxcsr(hostile);
        let got = one_step(Op::Conv2d(conv), &x, Options { kernel: KernelChoice::Auto, threads: 0 });
        let after = mxcsr();
        set_mxcsr(old);
        (got, after)
    });
    assert_eq!(after & !0x3F, hostile, "the caller's MXCSR is restored");
    assert_eq!(bits(got.data()), bits(expected.data()));
}

#[test]
fn bad_programs_and_inputs_are_errors() {
    let conv = Conv2d::new(&[1.0; 2 * 3 * 9], None, [2, 3, 3, 3], 1, (1, 1)).unwrap();
    let step =
        |inputs: Vec<usize>, outputs: Vec<usize>| Step { op: Op::Conv2d(conv.clone()), inputs, outputs };
    assert!(Program::new(vec![step(vec![1], vec![2])], vec![0], vec![2]).is_err());
    assert!(Program::new(vec![step(vec![0], vec![1, 2])], vec![0], vec![1]).is_err());
    assert!(Program::new(vec![step(vec![0], vec![1])], vec![0], vec![3]).is_err());
    let program = Program::new(vec![step(vec![0], vec![1])], vec![0], vec![1]).unwrap();
    assert!(program.run(vec![Tensor::zeros(4, 5, 5)], Options::default()).is_err());
    assert!(program.run(vec![Tensor::zeros(3, 0, 5)], Options::default()).is_err());
    assert!(program.run(vec![], Options::default()).is_err());
    let valid = Conv2d::new(&[1.0; 2 * 3 * 25], None, [2, 3, 5, 5], 1, (0, 0)).unwrap();
    assert!(valid
        .forward(Context { kernel: crate::network::Kernel::auto() }, &Tensor::zeros(3, 3, 3))
        .is_err());
    assert!(Conv2d::new(&[1.0; 5], None, [2, 3, 3, 3], 1, (1, 1)).is_err());
    assert!(Conv2d::new(&[1.0; 54], Some(&[0.0; 3]), [2, 3, 3, 3], 1, (1, 1)).is_err());
    assert!(Conv2d::new(&[1.0; 54], None, [2, 3, 3, 3], 0, (1, 1)).is_err());
    assert!(ConvTranspose2d::new(&[1.0; 54], None, [2, 3, 3, 3], 2, (1, 1), (2, 2)).is_err());
    assert!(ConvTranspose2d::new(&[1.0; 54], None, [2, 3, 3, 3], 4, (1, 1), (0, 0)).is_err());
    assert!(Gdn::new(&[1.0; 3], &[0.0; 8], false).is_err());
    assert!(Tensor::new(2, 2, 2, vec![0.0; 7]).is_err());
    assert!(KernelChoice::parse("avx9").is_err());
}

/// SHA-256 (FIPS 180-4) of `bytes`, for pinning outputs without a dependency.
fn sha256(bytes: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];
    let mut h: [u32; 8] =
        [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    let mut message = bytes.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((bytes.len() as u64) * 8).to_be_bytes());
    for chunk in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in chunk.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes(word.try_into().expect("4 bytes"));
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16].wrapping_add(s0).wrapping_add(w[i - 7]).wrapping_add(s1);
        }
        let mut v = h;
        for i in 0..64 {
            let s1 = v[4].rotate_right(6) ^ v[4].rotate_right(11) ^ v[4].rotate_right(25);
            let ch = (v[4] & v[5]) ^ (!v[4] & v[6]);
            let t1 = v[7].wrapping_add(s1).wrapping_add(ch).wrapping_add(K[i]).wrapping_add(w[i]);
            let s0 = v[0].rotate_right(2) ^ v[0].rotate_right(13) ^ v[0].rotate_right(22);
            let maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
            let t2 = s0.wrapping_add(maj);
            v = [t1.wrapping_add(t2), v[0], v[1], v[2], v[3].wrapping_add(t1), v[4], v[5], v[6]];
        }
        for (a, b) in h.iter_mut().zip(v) {
            *a = a.wrapping_add(b);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}

#[test]
fn sha256_matches_the_standard_vectors() {
    assert_eq!(sha256(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(sha256(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

/// The synthesis transform of a small hyperprior: deconv, IGDN, deconv, IGDN, deconv; then
/// analysis-side layers (strided conv, GDN, a masked conv, a sub-pixel conv) on its output.
fn synthesis_and_more(rng: &mut SmallRng) -> Program {
    let mut deconv = |i: usize, o: usize| {
        let w = random(rng, i * o * 25, 1.0 / ((i * 25 / 4) as f32).sqrt());
        ConvTranspose2d::new(&w, Some(&random(rng, o, 0.1)), [i, o, 5, 5], 2, (2, 2), (1, 1)).unwrap()
    };
    let (d1, d2, d3) = (deconv(40, 36), deconv(36, 20), deconv(20, 3));
    let mut gdn = |c: usize, inverse: bool| {
        let beta: Vec<f32> = random(rng, c, 0.5).iter().map(|v| v.abs() + 0.5).collect();
        let gamma: Vec<f32> = random(rng, c * c, 0.1).iter().map(|v| v.abs()).collect();
        Gdn::new(&beta, &gamma, inverse).unwrap()
    };
    let (i1, i2, g1) = (gdn(36, true), gdn(20, true), gdn(24, false));
    let enc =
        Conv2d::new(&random(rng, 24 * 3 * 25, 0.3), Some(&random(rng, 24, 0.1)), [24, 3, 5, 5], 2, (2, 2))
            .unwrap();
    let mut mask = random(rng, 33 * 24 * 25, 0.1);
    for (i, v) in mask.iter_mut().enumerate() {
        if i % 25 >= 12 {
            *v = 0.0; // the taps from the centre on: a type-A mask
        }
    }
    let masked = Conv2d::new(&mask, None, [33, 24, 5, 5], 1, (2, 2)).unwrap();
    let subpel =
        Conv2d::new(&random(rng, 36 * 33 * 9, 0.1), Some(&random(rng, 36, 0.1)), [36, 33, 3, 3], 1, (1, 1))
            .unwrap();
    let s = |op: Op, i: usize, o: usize| Step { op, inputs: vec![i], outputs: vec![o] };
    let steps = vec![
        s(Op::ConvTranspose2d(d1), 0, 1),
        s(Op::Gdn(i1), 1, 1),
        s(Op::ConvTranspose2d(d2), 1, 2),
        s(Op::Gdn(i2), 2, 2),
        s(Op::ConvTranspose2d(d3), 2, 3),
        s(Op::Conv2d(enc), 3, 4),
        s(Op::Gdn(g1), 4, 4),
        s(Op::Conv2d(masked), 4, 5),
        s(Op::Activation(Activation::Gelu), 5, 5),
        s(Op::Conv2d(subpel), 5, 6),
        s(Op::PixelShuffle(2), 6, 6),
    ];
    Program::new(steps, vec![0], vec![3, 6]).unwrap()
}

/// The SHA-256 of every output's bits (little-endian), in order.
fn digest(outputs: &[Tensor]) -> String {
    let bytes: Vec<u8> = outputs.iter().flat_map(|t| t.data().iter().flat_map(|v| v.to_le_bytes())).collect();
    sha256(&bytes)
}

/// Outputs recorded with the engine before its cache blocking and fusions (commit 92d31b7):
/// the speed work must not move a single bit, on any kernel or thread count. A change here is
/// a change of the contract (`docs/determinism.md`), never a refactoring.
#[test]
fn outputs_are_the_bits_recorded_before_the_speed_work() {
    let mut rng = SmallRng::seed_from_u64(1_000);
    let hyper = hyper_synthesis(&mut rng, 40, 48);
    let z: Vec<f32> = (0..40 * 7 * 9).map(|_| rng.random_range(-4i32..=4) as f32).collect();
    let z = Tensor::new(40, 7, 9, z).unwrap();
    let synthesis = synthesis_and_more(&mut rng);
    let y = tensor(&mut rng, 40, 5, 7);
    let (hyper_sha, synthesis_sha) = (
        "fa30ee1be50f25b8295cdd91b5d36b427d7b3474ff83a90b407c55a1e95c01c7",
        "e5083e1e9f59bafdb629f82187bee2fa7cfd60706719f9b55c300759005ac3ac",
    );
    for options in every_option() {
        let got = hyper.run(vec![z.clone()], options).unwrap();
        assert_eq!(digest(&got), hyper_sha, "h_s, {options:?}");
        let got = synthesis.run(vec![y.clone()], options).unwrap();
        assert_eq!(got[0].shape(), (3, 40, 56));
        assert_eq!(digest(&got), synthesis_sha, "g_s and more, {options:?}");
    }
}
