#![no_main]
//! The autoregressive loop on arbitrary models, latents and streams (body:
//! `tinify::fuzz::autoregressive_decode`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    tinify::fuzz::autoregressive_decode(data);
});
