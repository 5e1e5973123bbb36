#![no_main]
//! The index decoder on arbitrary bytes, tables and indexes (body: `tinify::fuzz::decode`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tinify::fuzz::decode(data);
});
