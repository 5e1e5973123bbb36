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
