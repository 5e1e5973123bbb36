//! Symbols, indexes and CDF tables to bytes, and back.
//!
//! This is CompressAI's `encode_with_indexes` / `decode_with_indexes` contract on top of the
//! state machine of [`crate::rans`]: symbol `i` is coded with CDF row `indexes[i]`, shifted by
//! that row's offset. Values outside the row (below 0, or at or above its last regular
//! symbol) are coded as the row's escape symbol followed by bypass nibbles:
//!
//! ```text
//! v = symbol - offset;  max = size - 2                 (the escape symbol)
//! v < 0     -> raw = -2v - 1 (odd),      v = max
//! v >= max  -> raw = 2 (v - max) (even), v = max
//! escape    -> bypass(n), then the n nibbles of raw, least significant first,
//!              n = number of nibbles of raw (0 when raw = 0)
//! ```
//!
//! Every argument is validated before any coding happens ([`CdfTable::new`] checks the whole
//! table once), so the coding loops themselves only check what depends on the data: index
//! ranges, escape ranges and, when decoding, the stream bounds.
//!
//! Decoding needs the symbol whose interval contains a cumulative frequency. CompressAI scans
//! the row linearly (up to 3133 entries for its Gaussian tables); here a per-row bucket table
//! gives the answer in one load for almost every symbol (see [`SymbolSearch`]).
//!
//! Layout: `table` validates tables and maps symbols to coder steps (escapes included),
//! `search` finds the symbol of a cumulative frequency, `encode` and `decode` run the
//! streams; the public items are re-exported here, so `tinify::coder::X` names them all.

mod decode;
mod encode;
mod search;
mod table;

pub use decode::{
    check_room_for, decode_batch, decode_batch_with, decode_into, decode_stream_with, decode_with_indexes,
};
pub use encode::{encode_batch, encode_with_indexes, BufferedEncoder};
pub use search::SymbolSearch;
pub use table::{CdfTable, PreparedTable};

#[cfg(test)]
mod tests;
