//! Typed errors of the entropy-coding core.
//!
//! Every public entry point of the core validates its arguments and reports a violated
//! precondition as an [`Error`] whose `Display` names the argument and the offending value.
//! The binding layer maps these once to Python exceptions (`ValueError`, or its subclass
//! `DecodeError` for corrupt and truncated streams); nothing in the core panics on bad input.

use thiserror::Error as ThisError;

/// Errors raised by CDF building, rANS coding and the autoregressive loop.
#[derive(Debug, Clone, PartialEq, ThisError)]
pub enum Error {
    /// A probability is negative, NaN or infinite.
    #[error(
        "invalid `pmf`: element {position} is {value}, but probabilities must be finite and non-negative"
    )]
    InvalidPmf {
        /// Position of the element in the pmf.
        position: usize,
        /// The offending value.
        value: f32,
    },
    /// Every probability rounds to zero at the requested precision.
    #[error("invalid `pmf`: at least one element must have a non-zero probability")]
    ZeroPmf,
    /// The probabilities are so large that their quantized sum overflows 32 bits.
    #[error("invalid `pmf`: its quantized frequencies sum to more than 2^32 (does it sum to about 1?)")]
    PmfOverflow,
    /// More symbols than quantization levels: no CDF with non-zero frequencies exists.
    #[error("invalid `pmf`: {len} symbols cannot all get a non-zero frequency at precision {precision}")]
    PmfTooLong {
        /// Number of symbols (pmf entries).
        len: usize,
        /// Requested precision in bits.
        precision: u32,
    },
    /// The precision of a CDF is out of range.
    #[error("`precision` must be in [1, 16], got {0}")]
    InvalidPrecision(u32),
    /// Two arrays that must have equal lengths do not.
    #[error("`{what}` has {got} entries, expected {expected}")]
    LengthMismatch {
        /// Name of the argument.
        what: &'static str,
        /// Length implied by the other arguments.
        expected: usize,
        /// Length received.
        got: usize,
    },
    /// A CDF row length (`cdfs_sizes[row]`) does not fit the table.
    #[error("`cdfs_sizes[{row}]` is {size}, but a CDF needs at least 2 and at most {max} entries (the row length of `cdfs`)")]
    CdfSize {
        /// Row of the table.
        row: usize,
        /// The declared size.
        size: i64,
        /// Allocated row length.
        max: usize,
    },
    /// A CDF row does not start at 0.
    #[error("`cdfs[{row}]` must start at 0, got {value}")]
    CdfStart {
        /// Row of the table.
        row: usize,
        /// The first entry.
        value: i64,
    },
    /// A CDF row does not end at 2^16.
    #[error("`cdfs[{row}]` must end at 65536 (entry {position}, from `cdfs_sizes`), got {value}")]
    CdfEnd {
        /// Row of the table.
        row: usize,
        /// Position of the last entry.
        position: usize,
        /// The last entry.
        value: i64,
    },
    /// A CDF row is not strictly increasing, so some symbol has zero probability.
    #[error("`cdfs[{row}]` is not strictly increasing at entry {position} ({before} then {after})")]
    CdfNotIncreasing {
        /// Row of the table.
        row: usize,
        /// Position of the entry that does not increase.
        position: usize,
        /// Value before.
        before: i64,
        /// Value at `position`.
        after: i64,
    },
    /// A symbol index points outside the CDF table.
    #[error("`indexes[{position}]` is {index}, outside the CDF table of {table_len} rows")]
    IndexOutOfRange {
        /// Position in the index array.
        position: usize,
        /// The offending index.
        index: i64,
        /// Number of rows in the table.
        table_len: usize,
    },
    /// A symbol is so far outside its CDF that its escape code does not fit 32 bits.
    #[error("`symbols[{position}]` is {value}: too far outside its CDF (offset {offset}) to be escape-coded in 32 bits")]
    SymbolOutOfRange {
        /// Position in the symbol array.
        position: usize,
        /// The symbol.
        value: i64,
        /// Offset of its CDF row.
        offset: i64,
    },
    /// The encoded byte string has an impossible length.
    #[error("corrupt stream: {len} bytes; an rANS stream is a whole number of 32-bit words, at least 2")]
    StreamLength {
        /// Length in bytes.
        len: usize,
    },
    /// The stream ended before all symbols were decoded.
    #[error("truncated stream: decoding needs more than its {words} words")]
    TruncatedStream {
        /// Words in the stream.
        words: usize,
    },
    /// The stream cannot hold the symbols asked of it: found before decoding them.
    #[error("truncated stream: its {words} unread words cannot hold the {symbols} symbols asked for (checked before decoding)")]
    StreamTooShort {
        /// Symbols asked for.
        symbols: usize,
        /// Words left in the stream.
        words: usize,
    },
    /// The decoder reached a state that no encoder produces.
    #[error("corrupt stream: {0}")]
    CorruptStream(&'static str),
    /// All symbols were decoded but the stream was not consumed exactly.
    #[error("corrupt stream: {unread_words} words left unread after the last symbol (or a wrong final state); wrong indexes or CDF tables?")]
    StreamNotExhausted {
        /// Words not consumed.
        unread_words: usize,
    },
    /// An argument of the autoregressive loop is malformed.
    #[error("invalid `{what}`: {message}")]
    InvalidArgument {
        /// Name of the argument.
        what: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

impl Error {
    /// True when the error comes from reading a stream (truncated or corrupt input),
    /// as opposed to an invalid argument.
    pub fn is_decode_error(&self) -> bool {
        matches!(
            self,
            Error::StreamLength { .. }
                | Error::TruncatedStream { .. }
                | Error::StreamTooShort { .. }
                | Error::CorruptStream(_)
                | Error::StreamNotExhausted { .. }
        )
    }
}

/// Result type of the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;
