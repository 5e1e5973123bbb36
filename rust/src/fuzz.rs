//! Bodies of the fuzz targets, shared by `rust/fuzz` (cargo-fuzz) and the seeded test run of
//! `cargo test` (`rust/tests/fuzz_bodies.rs`), so both exercise the same code.
//!
//! Each body reads its arguments from arbitrary bytes and calls a public decoder; it must
//! return (an `Ok` or an `Err`) and never panic, loop without bound or allocate without bound.

use crate::cdf::quantized_cdf_table;
use crate::coder::{decode_with_indexes, CdfTable};

/// A cursor over the fuzzer's bytes; reads past the end give zeros.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().map_or((0, &[][..]), |(f, r)| (*f, r));
        self.0 = rest;
        first
    }
}

/// Decodes arbitrary bytes with an arbitrary table (built from arbitrary pmfs, or raw
/// entries that validation may reject) and arbitrary indexes.
pub fn decode(data: &[u8]) -> bool {
    let mut b = Bytes(data);
    let rows = usize::from(b.byte() % 4) + 1;
    let raw = b.byte() & 1 == 1;
    let (cdfs, stride, sizes) = if raw {
        let stride = usize::from(b.byte() % 8) + 2;
        let cdfs: Vec<i32> = (0..rows * stride)
            .map(|_| {
                i32::from(u16::from_le_bytes([b.byte(), b.byte()])) + i32::from(b.byte() & 1) * 65536 / 2
            })
            .collect();
        let sizes: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() % 10)).collect();
        (cdfs, stride, sizes)
    } else {
        let lengths: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() % 12)).collect();
        let total: i32 = lengths.iter().sum();
        let pmfs: Vec<f32> = (0..total).map(|_| f32::from(b.byte()) / 255.0).collect();
        let tails: Vec<f32> = (0..rows).map(|_| f32::from(b.byte()) / 1e4).collect();
        match quantized_cdf_table(&pmfs, &lengths, &tails, 16) {
            Ok(t) => (t.cdfs, t.stride, t.lengths),
            Err(_) => return false,
        }
    };
    let offsets: Vec<i32> = (0..rows).map(|_| i32::from(b.byte() as i8)).collect();
    let Ok(table) = CdfTable::new(&cdfs, stride, &sizes, &offsets) else { return false };
    let n = usize::from(u16::from_le_bytes([b.byte(), b.byte()]));
    let indexes: Vec<i32> = (0..n).map(|_| i32::from(b.byte() % 5)).collect();
    let stream = b.0;
    let mut out = vec![0; n];
    decode_with_indexes(stream, &indexes, &table, &mut out).is_ok()
}
