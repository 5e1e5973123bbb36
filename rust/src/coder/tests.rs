//! Golden streams, escapes, invalid tables and indexes, batches, prepared tables and the two
//! searches.

use super::*;
use crate::error::Error;

const GOLDEN_CDF: [i32; 5] = [0, 16367, 49102, 65469, 65536];

fn golden_table() -> CdfTable<'static> {
    CdfTable::new(&GOLDEN_CDF, 5, &[5], &[0]).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn golden_streams_match_compressai() {
    let table = golden_table();
    let cases: [(&[i32], &str); 6] = [
        (&[0, 1, 2], "8b25ac0c10000000"),
        (&[1; 10], "fa78a72f05020000"),
        (&[1, 1, -1], "617b04a93ea80700"),
        (&[1, 1, 3], "4faf8fea837a0000"),
        (&[1, 1, 7], "547c08a93ea80700"),
        (&[1, 1, 40], "94be5190ea837a00"),
    ];
    for (symbols, expected) in cases {
        let indexes = vec![0; symbols.len()];
        let bytes = encode_with_indexes(symbols, &indexes, &table).unwrap();
        assert_eq!(hex(&bytes), expected, "symbols {symbols:?}");
        let mut out = vec![0; symbols.len()];
        decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap();
        assert_eq!(out, symbols);
    }
}

#[test]
fn buffered_pushes_equal_one_shot_encoding() {
    let table = golden_table();
    let symbols = [0, 1, 2, -5, 300, 1, 1, 2, 0, i32::MIN, i32::MAX];
    let indexes = [0; 11];
    let mut buffered = BufferedEncoder::new();
    buffered.push(&symbols[..4], &indexes[..4], &table).unwrap();
    buffered.push(&symbols[4..], &indexes[4..], &table).unwrap();
    assert_eq!(buffered.flush(), encode_with_indexes(&symbols, &indexes, &table).unwrap());
    assert_eq!(buffered.flush(), encode_with_indexes(&[], &[], &table).unwrap());
}

#[test]
fn extreme_escapes_round_trip() {
    let table = golden_table();
    let symbols = [i32::MIN, i32::MAX, -1, 3, 4, i32::MIN + 1, i32::MAX - 3];
    let indexes = [0; 7];
    let bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
    let mut out = [0; 7];
    decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap();
    assert_eq!(out, symbols);
}

#[test]
fn single_entry_pmf_escapes_everything() {
    // pmf [1.0] -> CDF [0, 65536]: symbol 0 is the escape symbol, every value is escaped.
    let table = CdfTable::new(&[0, 65536], 2, &[2], &[-3]).unwrap();
    let symbols = [-3, 0, 5, -100];
    let indexes = [0; 4];
    let bytes = encode_with_indexes(&symbols, &indexes, &table).unwrap();
    let mut out = [0; 4];
    decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap();
    assert_eq!(out, symbols);
}

#[test]
fn symbol_too_far_outside_is_an_error_not_a_wrap() {
    let table = CdfTable::new(&GOLDEN_CDF, 5, &[5], &[-10]).unwrap();
    let err = encode_with_indexes(&[i32::MAX], &[0], &table).unwrap_err();
    assert!(matches!(err, Error::SymbolOutOfRange { position: 0, .. }), "{err}");
    let table = CdfTable::new(&GOLDEN_CDF, 5, &[5], &[10]).unwrap();
    let err = encode_with_indexes(&[i32::MIN], &[0], &table).unwrap_err();
    assert!(matches!(err, Error::SymbolOutOfRange { position: 0, .. }), "{err}");
}

#[test]
fn invalid_tables_are_rejected() {
    let bad = |cdf: &[i32], size: i32| CdfTable::new(cdf, cdf.len(), &[size], &[0]).unwrap_err();
    assert!(matches!(bad(&[0, 65536], 1), Error::CdfSize { .. }));
    assert!(matches!(bad(&[0, 65536], 3), Error::CdfSize { .. }));
    assert!(matches!(bad(&[1, 65536], 2), Error::CdfStart { .. }));
    assert!(matches!(bad(&[0, 5, 5, 65536], 4), Error::CdfNotIncreasing { row: 0, position: 2, .. }));
    assert!(matches!(bad(&[0, 5, 65535], 3), Error::CdfEnd { .. }));
    assert!(matches!(
        CdfTable::new(&[0, 65536], 2, &[2], &[]).unwrap_err(),
        Error::LengthMismatch { what: "offsets", .. }
    ));
    assert!(matches!(
        CdfTable::new(&[0, 65536, 0], 2, &[2], &[0]).unwrap_err(),
        Error::LengthMismatch { what: "cdfs", .. }
    ));
}

#[test]
fn out_of_range_indexes_are_rejected_when_encoding_and_decoding() {
    let table = golden_table();
    for index in [1, -1, i32::MAX] {
        let err = encode_with_indexes(&[0, 0], &[0, index], &table).unwrap_err();
        assert!(matches!(err, Error::IndexOutOfRange { position: 1, .. }), "{err}");
        let bytes = encode_with_indexes(&[0, 0], &[0, 0], &table).unwrap();
        let err = decode_with_indexes(&bytes, &[0, index], &table, &mut [0; 2]).unwrap_err();
        assert!(matches!(err, Error::IndexOutOfRange { position: 1, .. }), "{err}");
    }
    let mut buffered = BufferedEncoder::new();
    buffered.push(&[1], &[0], &table).unwrap();
    assert!(buffered.push(&[1, 2], &[0, 5], &table).is_err());
    assert_eq!(buffered.flush(), encode_with_indexes(&[1], &[0], &table).unwrap());
}

#[test]
fn batches_equal_separate_streams() {
    let table = golden_table();
    let symbols: Vec<i32> = (0..3000).map(|i| (i * 7919 % 11) - 3).collect();
    let indexes = vec![0; 3000];
    let streams = encode_batch(&symbols, &indexes, 3, &table).unwrap();
    for (s, bytes) in streams.iter().enumerate() {
        assert_eq!(
            bytes,
            &encode_with_indexes(&symbols[s * 1000..][..1000], &indexes[..1000], &table).unwrap()
        );
    }
    let refs: Vec<&[u8]> = streams.iter().map(Vec::as_slice).collect();
    let mut out = vec![0; 3000];
    decode_batch(&refs, &indexes, &table, &mut out).unwrap();
    assert_eq!(out, symbols);
    assert!(encode_batch(&symbols, &indexes, 7, &table).is_err());
}

#[test]
fn a_tiny_stream_asked_for_many_symbols_fails_before_decoding() {
    // Every symbol of the golden row costs at least a bit: 8 bytes cannot hold a million.
    let table = golden_table();
    let bytes = encode_with_indexes(&[1, 2], &[0, 0], &table).unwrap();
    let indexes = vec![0; 1_000_000];
    let mut out = vec![-7; indexes.len()];
    let err = decode_with_indexes(&bytes, &indexes, &table, &mut out).unwrap_err();
    assert_eq!(err, Error::StreamTooShort { symbols: 1_000_000, words: 0 });
    assert!(err.is_decode_error());
    assert!(out.iter().all(|&v| v == -7), "no symbol was decoded");
    // The bound is not an estimate: near-certain symbols, thousands per bit, still decode.
    let cheap = CdfTable::new(&[0, 65535, 65536], 3, &[3], &[0]).unwrap();
    let zeros = vec![0; 1_000_000];
    let bytes = encode_with_indexes(&zeros, &zeros, &cheap).unwrap();
    assert!(bytes.len() <= 16, "{} bytes", bytes.len());
    let mut out = vec![1; zeros.len()];
    decode_with_indexes(&bytes, &zeros, &cheap, &mut out).unwrap();
    assert_eq!(out, zeros);
    // ... and far more of them than a stream holds fail at once.
    let err = decode_with_indexes(&bytes, &vec![0; 20_000_000], &cheap, &mut vec![0; 20_000_000]);
    assert!(matches!(err, Err(Error::StreamTooShort { .. })), "{err:?}");
}

#[test]
fn a_prepared_table_decodes_like_a_fresh_one_before_and_after_building_its_search() {
    let cdf: Vec<i32> = vec![0, 1, 2, 3, 100, 101, 30000, 65535, 65536];
    let (sizes, offsets) = ([cdf.len() as i32], [-3]);
    let prepared = PreparedTable::new(&cdf, cdf.len(), &sizes, &offsets).unwrap();
    assert!(prepared.search.get().is_none());
    let symbols: Vec<i32> = (0..40).map(|i| (i * 7) % 13 - 5).collect();
    let indexes = vec![0; symbols.len()];
    let bytes = encode_with_indexes(&symbols, &indexes, prepared.table()).unwrap();
    for _ in 0..3 {
        let mut out = vec![0; symbols.len()];
        let search = prepared.search(symbols.len());
        decode_stream_with(&bytes, &indexes, prepared.table(), search, &mut out).unwrap();
        assert_eq!(out, symbols);
    }
    assert!(prepared.search.get().is_some_and(|s| !s.buckets.is_empty()), "built once it pays");
    assert!(PreparedTable::new(&cdf, cdf.len(), &sizes, &[]).is_err());
}

#[test]
fn lookup_and_binary_search_find_the_same_symbols() {
    let cdf: Vec<i32> = vec![0, 1, 2, 3, 100, 101, 30000, 65535, 65536];
    let sizes = [cdf.len() as i32];
    let table = CdfTable::new(&cdf, cdf.len(), &sizes, &[0]).unwrap();
    let lookup = SymbolSearch::new(&table, usize::MAX);
    let binary = SymbolSearch::new(&table, 0);
    assert!(!lookup.buckets.is_empty() && binary.buckets.is_empty());
    let row = table.rows[0];
    for cum in 0..65536 {
        let (s, start, freq) = lookup.find(&table, row, 0, cum);
        assert_eq!((s, start, freq), binary.find(&table, row, 0, cum));
        assert_eq!((start, freq), (cdf[s as usize] as u32, (cdf[s as usize + 1] - cdf[s as usize]) as u32));
        assert!(start <= cum && cum < start + freq);
    }
}
