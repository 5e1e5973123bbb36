//! The fuzz targets' bodies over seeded random inputs and real streams: the short, stable run
//! of the fuzzing that CI does on every `cargo test`.

use rand::{rngs::SmallRng, Rng, SeedableRng};

#[test]
fn decode_body_never_panics_on_random_inputs() {
    let mut rng = SmallRng::seed_from_u64(8);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let len = rng.random_range(0..400);
        let data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        accepted += usize::from(tinify::fuzz::decode(&data));
    }
    // Random bytes are not valid streams: a decoder without stream checks would accept some.
    assert_eq!(accepted, 0, "accepted {accepted} of 20000 random inputs");
}

/// The decode body's input for a real stream: a table of four 11-symbol rows built from
/// `pmf` bytes, `indexes` into it, and the stream the library's encoder makes of `symbols`.
fn real_stream_input(rng: &mut SmallRng) -> Vec<u8> {
    use tinify::cdf::quantized_cdf_table;
    use tinify::coder::{encode_with_indexes, CdfTable};

    let rows = 4;
    let mut input = vec![(rows - 1) as u8, 0];
    input.extend([11u8; 4]);
    let pmf_bytes: Vec<u8> = (0..44).map(|_| rng.random_range(1..=255)).collect();
    let tail_bytes: Vec<u8> = (0..rows).map(|_| rng.random()).collect();
    let offset_bytes: Vec<u8> = (0..rows).map(|_| rng.random()).collect();
    let n: u16 = rng.random_range(0..300);
    let index_bytes: Vec<u8> = (0..n).map(|_| rng.random_range(0..rows as u8)).collect();
    input.extend(&pmf_bytes);
    input.extend(&tail_bytes);
    input.extend(&offset_bytes);
    input.extend(n.to_le_bytes());
    input.extend(&index_bytes);

    // The same derivation as the body's, from the same bytes.
    let pmfs: Vec<f32> = pmf_bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
    let tails: Vec<f32> = tail_bytes.iter().map(|&b| f32::from(b) / 1e4).collect();
    let built = quantized_cdf_table(&pmfs, &[11; 4], &tails, 16).expect("valid pmfs");
    let offsets: Vec<i32> = offset_bytes.iter().map(|&b| i32::from(b as i8)).collect();
    let table = CdfTable::new(&built.cdfs, built.stride, &built.lengths, &offsets).unwrap();
    let indexes: Vec<i32> = index_bytes.iter().map(|&b| i32::from(b)).collect();
    // Symbols around each row's offset, some outside its range (bypass-coded).
    let symbols: Vec<i32> = indexes.iter().map(|&i| offsets[i as usize] + rng.random_range(-3..14)).collect();
    input.extend(encode_with_indexes(&symbols, &indexes, &table).unwrap());
    input
}

#[test]
fn decode_body_accepts_every_real_stream_and_rejects_it_cut_short() {
    let mut rng = SmallRng::seed_from_u64(11);
    for case in 0..500 {
        let input = real_stream_input(&mut rng);
        assert!(tinify::fuzz::decode(&input), "case {case}: a real stream was refused");
        let header = 2 + 4 + 44 + 4 + 4 + 2;
        let n = usize::from(u16::from_le_bytes([input[header - 2], input[header - 1]]));
        if input.len() > header + n {
            // One byte short of the stream: the decoder must notice.
            assert!(!tinify::fuzz::decode(&input[..input.len() - 1]), "case {case}: truncation");
        }
    }
}

#[test]
fn autoregressive_body_never_panics_and_round_trips_on_random_inputs() {
    let mut rng = SmallRng::seed_from_u64(9);
    let mut round_trips = 0;
    for _ in 0..2_000 {
        let len = rng.random_range(0..600);
        let mut data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if let Some(first) = data.first_mut() {
            // Half the inputs take the encode-then-decode branch, which must always succeed.
            *first |= 1;
        }
        round_trips += usize::from(tinify::fuzz::autoregressive_decode(&data));
    }
    // Every input long enough to draw a model encodes and decodes (the body asserts equality).
    assert!(round_trips > 1_000, "only {round_trips} of 2000 inputs reached the round trip");
}

#[test]
fn autoregressive_body_rejects_random_streams() {
    let mut rng = SmallRng::seed_from_u64(10);
    let mut accepted = 0;
    for _ in 0..2_000 {
        let len = rng.random_range(0..600);
        let mut data: Vec<u8> = (0..len).map(|_| rng.random()).collect();
        if let Some(first) = data.first_mut() {
            *first &= !1;
        }
        accepted += usize::from(tinify::fuzz::autoregressive_decode(&data));
    }
    assert!(accepted < 2_000);
}
