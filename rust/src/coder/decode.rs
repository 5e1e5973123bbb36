//! rANS streams back to symbols, escapes included, with the stream bounds checked.

use super::encode::*;
use super::search::*;
use super::table::*;
use crate::error::{Error, Result};
use crate::rans::{Decoder, MAX_BYPASS_VALUE};
use rayon::prelude::*;

/// Decodes `out.len()` symbols with the rows `indexes` from `dec`.
///
/// Before decoding, the rows' cheapest symbols are summed against what the rest of the stream
/// can hold (see [`crate::rans::min_step_bits`]): a stream far too short for the request fails
/// at once, with [`Error::StreamTooShort`], instead of after decoding up to all the symbols.
pub fn decode_into(
    dec: &mut Decoder,
    indexes: &[i32],
    table: &CdfTable,
    search: &SymbolSearch,
    out: &mut [i32],
) -> Result<()> {
    if indexes.len() != out.len() {
        return Err(Error::LengthMismatch { what: "indexes", expected: out.len(), got: indexes.len() });
    }
    table.check_room(dec, Some(indexes), indexes.len())?;
    // A local copy keeps the state in registers; it is written back at the end.
    let mut d = *dec;
    for (i, (&index, value)) in indexes.iter().zip(out.iter_mut()).enumerate() {
        let row = table.row(i, index)?;
        let (s, start, freq) = search.find(table, row, index as usize, d.peek());
        d.advance(start, freq)?;
        *value = if s < row.max {
            // Overflow is impossible for a stream encoded with these offsets.
            (s as i32)
                .checked_add(row.offset)
                .ok_or(Error::CorruptStream("a decoded value does not fit 32 bits"))?
        } else {
            let (v, after) = decode_escape(d, row)?;
            d = after;
            v
        };
    }
    *dec = d;
    Ok(())
}

/// Reads the bypass steps of an escaped value. The decoder is passed by value so that the
/// caller's copy never has its address taken.
#[cold]
pub(super) fn decode_escape(mut d: Decoder, row: Row) -> Result<(i32, Decoder)> {
    let mut n = 0;
    loop {
        let v = d.read_bypass()?;
        n += v;
        if v != MAX_BYPASS_VALUE || n > 8 {
            break;
        }
    }
    if n > 8 {
        return Err(Error::CorruptStream("an escape longer than 32 bits"));
    }
    let mut raw = 0u32;
    for j in 0..n {
        raw |= d.read_bypass()? << (4 * j);
    }
    let half = i64::from(raw >> 1);
    let v = if raw & 1 == 1 { -half - 1 } else { half + i64::from(row.max) };
    let v = i32::try_from(v + i64::from(row.offset))
        .map_err(|_| Error::CorruptStream("an escaped value does not fit 32 bits"))?;
    Ok((v, d))
}

/// Fails, before any decoding, when `dec` cannot hold `symbols` symbols of `table`'s
/// cheapest row: the bound a decoder that does not know its indexes in advance (the
/// autoregressive loop) can check.
pub fn check_room_for(dec: &Decoder, table: &CdfTable, symbols: usize) -> Result<()> {
    table.check_room(dec, None, symbols)
}

/// Decodes a whole stream and checks that it was consumed exactly.
pub fn decode_with_indexes(data: &[u8], indexes: &[i32], table: &CdfTable, out: &mut [i32]) -> Result<()> {
    let search = SymbolSearch::new(table, indexes.len());
    decode_stream_with(data, indexes, table, &search, out)
}

/// [`decode_with_indexes`] with a search prepared by the caller ([`PreparedTable::search`]).
pub fn decode_stream_with(
    data: &[u8],
    indexes: &[i32],
    table: &CdfTable,
    search: &SymbolSearch,
    out: &mut [i32],
) -> Result<()> {
    let mut dec = Decoder::new(data)?;
    decode_into(&mut dec, indexes, table, search, out)?;
    dec.finish()
}

/// Decodes one stream per row of `indexes` / `out` (both `streams.len() * len`), in parallel.
pub fn decode_batch(streams: &[&[u8]], indexes: &[i32], table: &CdfTable, out: &mut [i32]) -> Result<()> {
    let search = SymbolSearch::new(table, out.len());
    decode_batch_with(streams, indexes, table, &search, out)
}

/// [`decode_batch`] with a search prepared by the caller ([`PreparedTable::search`]).
pub fn decode_batch_with(
    streams: &[&[u8]],
    indexes: &[i32],
    table: &CdfTable,
    search: &SymbolSearch,
    out: &mut [i32],
) -> Result<()> {
    if indexes.len() != out.len() {
        return Err(Error::LengthMismatch { what: "indexes", expected: out.len(), got: indexes.len() });
    }
    let len = split_len(out.len(), streams.len())?;
    if streams.len() <= 1 || len == 0 {
        return streams.iter().enumerate().try_for_each(|(s, data)| {
            decode_stream_with(data, &indexes[s * len..][..len], table, search, &mut out[s * len..][..len])
        });
    }
    out.par_chunks_mut(len)
        .zip(indexes.par_chunks(len))
        .zip(streams.par_iter())
        .try_for_each(|((out, indexes), data)| decode_stream_with(data, indexes, table, search, out))
}
