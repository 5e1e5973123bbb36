//! Symbols and indexes to rANS streams: one stream, batches of streams in parallel, and the
//! buffered encoder.

use super::table::*;
use crate::error::{Error, Result};
use crate::rans::{Encoder, Step};
use rayon::prelude::*;

pub(super) fn check_lengths(symbols: &[i32], indexes: &[i32]) -> Result<()> {
    if symbols.len() != indexes.len() {
        return Err(Error::LengthMismatch { what: "indexes", expected: symbols.len(), got: indexes.len() });
    }
    Ok(())
}

/// Appends the steps of `symbols` to `steps`, in coding order. `first_position` is the
/// position of `symbols[0]` in the caller's array, for error messages. On error `steps` may
/// hold part of the symbols' steps.
pub(super) fn push_steps(
    symbols: &[i32],
    indexes: &[i32],
    table: &CdfTable,
    first_position: usize,
    steps: &mut Vec<Step>,
) -> Result<()> {
    steps.reserve(symbols.len());
    for (i, (&symbol, &index)) in symbols.iter().zip(indexes).enumerate() {
        let (step, raw) = table.map_symbol(first_position + i, symbol, index)?;
        steps.push(step);
        if let Some(raw) = raw {
            steps.extend(escape_steps(raw));
        }
    }
    Ok(())
}

/// Encodes `symbols[i]` with CDF row `indexes[i]` into one stream.
pub fn encode_with_indexes(symbols: &[i32], indexes: &[i32], table: &CdfTable) -> Result<Vec<u8>> {
    check_lengths(symbols, indexes)?;
    let mut enc = Encoder::new();
    let mut writer = enc.writer();
    // rANS is last-in first-out: the symbols are coded from the last, and an escaped symbol's
    // bypass steps before the symbol itself. Mapping and coding in one loop lets the processor
    // overlap the mapping with the state's dependency chain.
    for (i, (&symbol, &index)) in symbols.iter().zip(indexes).enumerate().rev() {
        writer.reserve(MAX_STEPS_PER_SYMBOL);
        let (step, raw) = table.map_symbol(i, symbol, index)?;
        if let Some(raw) = raw {
            escape_steps(raw).rev().for_each(|s| writer.put(s));
        }
        writer.put(step);
    }
    drop(writer);
    Ok(enc.finish())
}

/// The symbol, the nibble count and 8 nibbles.
pub(super) const MAX_STEPS_PER_SYMBOL: usize = 10;

/// Encodes each row of `symbols` / `indexes` (both `streams * len`, row-major) as its own
/// stream, in parallel. The result does not depend on the number of threads.
pub fn encode_batch(
    symbols: &[i32],
    indexes: &[i32],
    streams: usize,
    table: &CdfTable,
) -> Result<Vec<Vec<u8>>> {
    check_lengths(symbols, indexes)?;
    let len = split_len(symbols.len(), streams)?;
    if streams <= 1 || len == 0 {
        return (0..streams)
            .map(|s| encode_with_indexes(&symbols[s * len..][..len], &indexes[s * len..][..len], table))
            .collect();
    }
    symbols
        .par_chunks(len)
        .zip(indexes.par_chunks(len))
        .map(|(s, i)| encode_with_indexes(s, i, table))
        .collect()
}

pub(super) fn split_len(total: usize, streams: usize) -> Result<usize> {
    if streams == 0 {
        return if total == 0 {
            Ok(0)
        } else {
            Err(Error::InvalidArgument { what: "streams", message: "0 streams for a non-empty input".into() })
        };
    }
    if !total.is_multiple_of(streams) {
        return Err(Error::InvalidArgument {
            what: "symbols",
            message: format!("{total} symbols cannot be split into {streams} equal streams"),
        });
    }
    Ok(total / streams)
}

/// Steps collected over several calls and encoded at once, as CompressAI's `BufferedRansEncoder`.
#[derive(Debug, Default)]
pub struct BufferedEncoder {
    steps: Vec<Step>,
}

impl BufferedEncoder {
    /// An empty encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends symbols; nothing is appended if any argument is invalid.
    pub fn push(&mut self, symbols: &[i32], indexes: &[i32], table: &CdfTable) -> Result<()> {
        check_lengths(symbols, indexes)?;
        let before = self.steps.len();
        push_steps(symbols, indexes, table, 0, &mut self.steps).inspect_err(|_| self.steps.truncate(before))
    }

    /// Encodes everything pushed so far into one stream and empties the buffer.
    pub fn flush(&mut self) -> Vec<u8> {
        let mut enc = Encoder::new();
        enc.put_reversed(&self.steps);
        self.steps.clear();
        enc.finish()
    }
}
