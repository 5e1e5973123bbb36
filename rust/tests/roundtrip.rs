//! Cross-module round trips: pmfs -> quantized CDF tables -> streams -> symbols, with seeded
//! random data, through every public coding path.

use rand::{rngs::SmallRng, Rng, SeedableRng};
use tinify::cdf::quantized_cdf_table;
use tinify::coder::{
    decode_batch, decode_with_indexes, encode_batch, encode_with_indexes, BufferedEncoder, CdfTable,
};
use tinify::Error;

/// A random table: `rows` pmfs of random lengths (some one-entry), random tails and offsets.
fn random_table(rng: &mut SmallRng, rows: usize) -> (Vec<i32>, usize, Vec<i32>, Vec<i32>) {
    let lengths: Vec<i32> =
        (0..rows).map(|_| if rng.random_bool(0.1) { 0 } else { rng.random_range(1..300) }).collect();
    let mut pmfs = Vec::new();
    for &len in &lengths {
        let spread = rng.random_range(0.5..4.0f32);
        pmfs.extend((0..len).map(|_| rng.random::<f32>().powf(spread)));
    }
    let tails: Vec<f32> = (0..rows).map(|_| rng.random_range(1e-9..1e-2)).collect();
    let table = quantized_cdf_table(&pmfs, &lengths, &tails, 16).unwrap();
    let offsets = (0..rows).map(|_| rng.random_range(-200..50)).collect();
    (table.cdfs, table.stride, table.lengths, offsets)
}

/// Symbols spread around each row's range, with escapes on both sides and a few extremes.
fn random_symbols(rng: &mut SmallRng, n: usize, sizes: &[i32], offsets: &[i32]) -> (Vec<i32>, Vec<i32>) {
    let indexes: Vec<i32> = (0..n).map(|_| rng.random_range(0..sizes.len() as i32)).collect();
    let symbols = indexes
        .iter()
        .map(|&i| {
            let (size, offset) = (sizes[i as usize], offsets[i as usize]);
            match rng.random_range(0..100) {
                0 => rng.random_range(-100_000..100_000),
                1 => i32::MIN / 2 + rng.random_range(0..1000),
                2..=8 => offset + size + rng.random_range(-3..30),
                _ => offset + rng.random_range(0..size - 1),
            }
        })
        .collect();
    (symbols, indexes)
}

#[test]
fn random_tables_and_symbols_round_trip_through_every_path() {
    let mut rng = SmallRng::seed_from_u64(2024);
    for case in 0..40 {
        let rows = rng.random_range(1..20);
        let (cdfs, stride, sizes, offsets) = random_table(&mut rng, rows);
        let table = CdfTable::new(&cdfs, stride, &sizes, &offsets).unwrap();
        let n = [0, 1, 2, 17, 5000][case % 5];
        let (symbols, indexes) = random_symbols(&mut rng, n, &sizes, &offsets);

        let bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let mut out = vec![0; n];
        decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap();
        assert_eq!(out, symbols, "case {case}");

        let mut buffered = BufferedEncoder::new();
        let cut = n / 3;
        buffered.push(&symbols[..cut], &indexes[..cut], &table).unwrap();
        buffered.push(&symbols[cut..], &indexes[cut..], &table).unwrap();
        assert_eq!(buffered.flush(), bytes);
    }
}

#[test]
fn batches_are_independent_streams() {
    let mut rng = SmallRng::seed_from_u64(5);
    let (cdfs, stride, sizes, offsets) = random_table(&mut rng, 8);
    let table = CdfTable::new(&cdfs, stride, &sizes, &offsets).unwrap();
    let (streams, len) = (5, 3000);
    let (symbols, indexes) = random_symbols(&mut rng, streams * len, &sizes, &offsets);
    let encoded = encode_batch(&symbols, &indexes, streams, &table).unwrap();
    for (s, bytes) in encoded.iter().enumerate() {
        let part = s * len..(s + 1) * len;
        assert_eq!(*bytes, encode_with_indexes(&symbols[part.clone()], &indexes[part], &table).unwrap());
    }
    let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
    let mut out = vec![0; streams * len];
    decode_batch(&refs, &indexes, &table, &mut out).unwrap();
    assert_eq!(out, symbols);
}

#[test]
fn damaged_streams_fail_cleanly_or_decode_to_something() {
    let mut rng = SmallRng::seed_from_u64(11);
    let (cdfs, stride, sizes, offsets) = random_table(&mut rng, 6);
    let table = CdfTable::new(&cdfs, stride, &sizes, &offsets).unwrap();
    let (symbols, indexes) = random_symbols(&mut rng, 2000, &sizes, &offsets);
    let bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
    let mut out = vec![0; symbols.len()];
    let mut decode = |damaged: &[u8]| decode_with_indexes(damaged, &indexes, &table, &mut out).is_err();

    // Every truncation is detected: the decoder needs every word and checks the final state.
    for cut in 0..bytes.len() {
        assert!(decode(&bytes[..cut]), "truncation to {cut} bytes went unnoticed");
    }
    // Random bytes are rejected (or, in principle, decode to something; never a panic).
    let garbage = (0..1000)
        .filter(|_| {
            let junk: Vec<u8> = (0..rng.random_range(0..64) * 4).map(|_| rng.random()).collect();
            decode(&junk)
        })
        .count();
    assert!(garbage >= 995, "only {garbage} of 1000 random strings were rejected");
    // A flipped bit desynchronises the state, which the final check catches, unless it lands in
    // the raw nibbles of an escaped value (9% of these symbols escape): those decode to another
    // value, which only a container checksum can catch.
    let flips = (0..1000)
        .filter(|_| {
            let mut damaged = bytes.clone();
            let at = rng.random_range(0..damaged.len());
            damaged[at] ^= 1 << rng.random_range(0..8);
            decode(&damaged)
        })
        .count();
    assert!(flips >= 850, "only {flips} of 1000 bit flips were detected");
}

#[test]
fn decoding_with_other_indexes_is_detected() {
    let mut rng = SmallRng::seed_from_u64(3);
    let (cdfs, stride, sizes, offsets) = random_table(&mut rng, 6);
    let table = CdfTable::new(&cdfs, stride, &sizes, &offsets).unwrap();
    let (symbols, indexes) = random_symbols(&mut rng, 1000, &sizes, &offsets);
    let bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
    let shifted: Vec<i32> = indexes.iter().map(|&i| (i + 1) % sizes.len() as i32).collect();
    let mut out = vec![0; symbols.len()];
    let err = decode_with_indexes(&bytes, &shifted, &table, &mut out).unwrap_err();
    assert!(err.is_decode_error(), "{err}");
    let err = decode_with_indexes(&bytes, &indexes[..999], &table, &mut out[..999]).unwrap_err();
    assert!(matches!(err, Error::StreamNotExhausted { .. }), "{err}");
}
