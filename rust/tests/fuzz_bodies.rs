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
    // Random bytes are almost never a valid stream, but the body must have run to the end.
    assert!(accepted < 20_000);
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
