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

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::rans::{min_step_bits, Decoder, Encoder, Step, MAX_BYPASS_VALUE, PROB_SCALE};

/// A validated table of CDF rows with their sizes and offsets.
///
/// Row `r` is `cdfs[r * stride..][..sizes[r]]`: a strictly increasing CDF from 0 to 65536 whose
/// last interval (symbol `sizes[r] - 2`) is the escape symbol. The table borrows or owns the
/// entries ([`CdfTable::into_owned`]); [`PreparedTable`] keeps an owned one for many calls.
#[derive(Debug, Clone)]
pub struct CdfTable<'a> {
    cdfs: Cow<'a, [i32]>,
    rows: Vec<Row>,
    /// Per row, the fewest bits any of its symbols adds to a stream, in [`COST_UNIT`]s.
    min_cost: Vec<u32>,
}

/// Unit of [`CdfTable`]'s symbol costs: `2^-24` bits, so that bounds sum exactly in integers.
const COST_UNIT: f64 = (1u32 << 24) as f64;

/// What coding needs of one row, gathered so that a symbol costs one load of metadata.
#[derive(Debug, Clone, Copy)]
struct Row {
    /// Position of the row's first entry in `cdfs`.
    base: usize,
    /// The escape symbol, `size - 2`: regular symbols are `0..max`.
    max: u32,
    offset: i32,
}

impl<'a> CdfTable<'a> {
    /// Validates and wraps a row-major table of `sizes.len()` rows of `stride` entries.
    pub fn new(cdfs: &'a [i32], stride: usize, sizes: &[i32], offsets: &[i32]) -> Result<Self> {
        let rows = sizes.len();
        if offsets.len() != rows {
            return Err(Error::LengthMismatch { what: "offsets", expected: rows, got: offsets.len() });
        }
        if cdfs.len() != rows * stride {
            return Err(Error::LengthMismatch { what: "cdfs", expected: rows * stride, got: cdfs.len() });
        }
        let mut prepared = Vec::with_capacity(rows);
        let mut min_cost = Vec::with_capacity(rows);
        for (row, (&size, &offset)) in sizes.iter().zip(offsets).enumerate() {
            if size < 2 || size as usize > stride {
                return Err(Error::CdfSize { row, size: i64::from(size), max: stride });
            }
            let cdf = &cdfs[row * stride..][..size as usize];
            if cdf[0] != 0 {
                return Err(Error::CdfStart { row, value: i64::from(cdf[0]) });
            }
            if let Some(position) = cdf.windows(2).position(|w| w[1] <= w[0]) {
                return Err(Error::CdfNotIncreasing {
                    row,
                    position: position + 1,
                    before: i64::from(cdf[position]),
                    after: i64::from(cdf[position + 1]),
                });
            }
            let last = cdf[cdf.len() - 1];
            if last != PROB_SCALE as i32 {
                return Err(Error::CdfEnd { row, position: cdf.len() - 1, value: i64::from(last) });
            }
            prepared.push(Row { base: row * stride, max: size as u32 - 2, offset });
            // The likeliest interval costs least (an escape costs its interval and more).
            let widest = cdf.windows(2).map(|w| (w[1] - w[0]) as u32).max().unwrap_or(PROB_SCALE);
            min_cost.push((min_step_bits(widest) * COST_UNIT) as u32);
        }
        Ok(CdfTable { cdfs: Cow::Borrowed(cdfs), rows: prepared, min_cost })
    }

    /// The same table, owning its entries.
    pub fn into_owned(self) -> CdfTable<'static> {
        CdfTable { cdfs: Cow::Owned(self.cdfs.into_owned()), rows: self.rows, min_cost: self.min_cost }
    }

    /// Total entries of the valid parts of the rows.
    fn entries(&self) -> usize {
        self.rows.iter().map(|r| r.max as usize + 2).sum()
    }

    /// The fewest bits any symbol of any row adds to a stream, in [`COST_UNIT`]s.
    fn min_cost_any(&self) -> u64 {
        self.min_cost.iter().copied().min().map_or(0, u64::from)
    }

    /// Fails, before any decoding, when `dec` cannot hold `symbols` symbols of the rows
    /// `indexes` (or, when `indexes` is `None`, of this table's cheapest row): a stream
    /// exhausted far too early is rejected at once instead of after all the steps. Indexes out
    /// of range count as free here; decoding reports them.
    fn check_room(&self, dec: &Decoder, indexes: Option<&[i32]>, symbols: usize) -> Result<()> {
        let needed: u64 = match indexes {
            Some(indexes) => {
                indexes.iter().map(|&i| u64::from(self.min_cost.get(i as usize).copied().unwrap_or(0))).sum()
            }
            None => self.min_cost_any().saturating_mul(symbols as u64),
        };
        // One bit of slack covers the rounding of the float bound.
        let room = ((dec.information_left() + 1.0) * COST_UNIT) as u64;
        if needed > room {
            return Err(Error::StreamTooShort { symbols, words: dec.words_left() });
        }
        Ok(())
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows.len()
    }

    /// The valid entries of row `index`, which must be in range.
    fn cdf(&self, index: usize) -> &[i32] {
        self.cdf_of(self.rows[index])
    }

    #[inline(always)]
    fn cdf_of(&self, row: Row) -> &[i32] {
        &self.cdfs[row.base..][..row.max as usize + 2]
    }

    #[inline(always)]
    fn row(&self, position: usize, index: i32) -> Result<Row> {
        // A negative index wraps to a huge usize and fails the lookup too.
        match self.rows.get(index as usize) {
            Some(&row) => Ok(row),
            None => Err(Error::IndexOutOfRange { position, index: i64::from(index), table_len: self.rows() }),
        }
    }

    /// The coded interval of `symbol` in row `index`, and the raw escape value if it escapes.
    #[inline(always)]
    fn map_symbol(&self, position: usize, symbol: i32, index: i32) -> Result<(Step, Option<u32>)> {
        let row = self.row(position, index)?;
        let v = i64::from(symbol) - i64::from(row.offset);
        if (v as u64) < u64::from(row.max) {
            let start = self.cdfs[row.base + v as usize] as u32;
            let freq = self.cdfs[row.base + v as usize + 1] as u32 - start;
            return Ok((Step::interval(start, freq), None));
        }
        self.map_escape(position, symbol, row, v)
    }

    #[cold]
    fn map_escape(&self, position: usize, symbol: i32, row: Row, v: i64) -> Result<(Step, Option<u32>)> {
        let max = i64::from(row.max);
        let raw = if v < 0 { -2 * v - 1 } else { 2 * (v - max) };
        let raw = u32::try_from(raw).map_err(|_| Error::SymbolOutOfRange {
            position,
            value: i64::from(symbol),
            offset: i64::from(row.offset),
        })?;
        let start = self.cdfs[row.base + row.max as usize] as u32;
        Ok((Step::interval(start, PROB_SCALE - start), Some(raw)))
    }
}

/// Number of bypass nibbles of a raw escape value (0 for 0, at most 8).
#[inline(always)]
fn nibbles(raw: u32) -> u32 {
    (32 - raw.leading_zeros()).div_ceil(4)
}

/// The bypass steps that follow an escape symbol, in coding order. The nibble count is written
/// in base-15 unary (15, 15, ..., remainder); a 32-bit value has at most 8 nibbles, so it is
/// always a single step here.
#[inline(always)]
fn escape_steps(raw: u32) -> impl DoubleEndedIterator<Item = Step> {
    let n = nibbles(raw);
    debug_assert!(n < MAX_BYPASS_VALUE);
    std::iter::once(Step::bypass(n)).chain((0..n).map(move |j| Step::bypass((raw >> (4 * j)) & 0xf)))
}

fn check_lengths(symbols: &[i32], indexes: &[i32]) -> Result<()> {
    if symbols.len() != indexes.len() {
        return Err(Error::LengthMismatch { what: "indexes", expected: symbols.len(), got: indexes.len() });
    }
    Ok(())
}

/// Appends the steps of `symbols` to `steps`, in coding order. `first_position` is the
/// position of `symbols[0]` in the caller's array, for error messages. On error `steps` may
/// hold part of the symbols' steps.
fn push_steps(
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
const MAX_STEPS_PER_SYMBOL: usize = 10;

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

fn split_len(total: usize, streams: usize) -> Result<usize> {
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

/// Finds the symbol, and its interval, of a cumulative frequency in a CDF row.
///
/// The decoder's state depends on the interval of the previous symbol, so this search sits on
/// the critical path of every symbol and must cost about one memory access. Each row's
/// `[0, 65536)` is split into equal buckets. A bucket crossed by at most one symbol boundary
/// holds both candidate intervals, `[start, split)` and `[split, end)`, and the symbol of the
/// first, packed in one word (see [`pack`]); a branch-free comparison picks one. Buckets with
/// several boundaries (the thin tails of wide rows) step forward through the row from their
/// first symbol.
///
/// Every bucket is equally likely to be hit, and the table of all rows must stay in cache, so
/// each row gets the fewest buckets that keep crowded buckets rare: a few for a narrow
/// Gaussian, up to `2^MAX_BUCKET_BITS` for a wide one.
///
/// Building the buckets touches every row, so small decodes (fewer symbols than the rows have
/// entries), and rows of more than `2^13` symbols (which do not fit the packed word), binary-
/// search the rows instead; both give the same answer.
#[derive(Debug)]
pub struct SymbolSearch {
    /// Per row, its first bucket and the shift from a cumulative frequency to its bucket.
    rows: Vec<(u32, u32)>,
    /// Per bucket, the packed word of [`pack`]. Empty for binary search.
    buckets: Vec<u64>,
}

impl SymbolSearch {
    /// Binary search of the rows: nothing to build.
    const BINARY: SymbolSearch = SymbolSearch { rows: Vec::new(), buckets: Vec::new() };
}

/// A validated table kept for many calls, with its symbol search built once it pays.
///
/// Validating a table touches every entry (about 27,000 for a Gaussian scale table), and so
/// does building its [`SymbolSearch`]. Code that decodes a few hundred symbols per call (a
/// Python loop over latent positions, as CompressAI's raster-scan codec does) would pay that on
/// every call; a prepared table pays it once. The bucket search is built when the symbols
/// decoded through the table reach half its entries, the point from which it beats binary
/// search; before that, calls binary-search the rows.
#[derive(Debug)]
pub struct PreparedTable {
    table: CdfTable<'static>,
    entries: usize,
    decoded: AtomicUsize,
    search: OnceLock<SymbolSearch>,
}

impl PreparedTable {
    /// Validates a table (as [`CdfTable::new`]) and keeps it.
    pub fn new(cdfs: &[i32], stride: usize, sizes: &[i32], offsets: &[i32]) -> Result<Self> {
        Ok(Self::from(CdfTable::new(cdfs, stride, sizes, offsets)?.into_owned()))
    }

    /// The validated table.
    pub fn table(&self) -> &CdfTable<'static> {
        &self.table
    }

    /// The search to decode `symbols` more symbols with: the bucket search once the table has
    /// decoded enough symbols, binary search before.
    pub fn search(&self, symbols: usize) -> &SymbolSearch {
        if let Some(search) = self.search.get() {
            return search;
        }
        let seen = self.decoded.fetch_add(symbols, Ordering::Relaxed).saturating_add(symbols);
        if seen < self.entries / 2 {
            static BINARY: SymbolSearch = SymbolSearch::BINARY;
            return &BINARY;
        }
        self.search.get_or_init(|| SymbolSearch::new(&self.table, usize::MAX))
    }
}

impl From<CdfTable<'static>> for PreparedTable {
    fn from(table: CdfTable<'static>) -> Self {
        let entries = table.entries();
        PreparedTable { table, entries, decoded: AtomicUsize::new(0), search: OnceLock::new() }
    }
}

const MIN_BUCKET_BITS: u32 = 2;
const MAX_BUCKET_BITS: u32 = 10;
/// Bits of the packed word holding the bucket's first symbol.
const FIRST_BITS: u32 = 13;

/// The fewest bucket bits for which at most 1/32 of the row's buckets are crowded.
fn bucket_bits(cdf: &[i32]) -> u32 {
    let boundaries = &cdf[1..cdf.len() - 1];
    (MIN_BUCKET_BITS..MAX_BUCKET_BITS)
        .find(|&bits| {
            let shift = 16 - bits;
            let (mut crowded, mut last, mut run) = (0usize, usize::MAX, 0);
            for &b in boundaries {
                let bucket = (b >> shift) as usize;
                // A boundary on a bucket's first value does not split that bucket.
                if b & ((1 << shift) - 1) == 0 {
                    continue;
                }
                run = if bucket == last { run + 1 } else { 1 };
                last = bucket;
                crowded += usize::from(run == 2);
            }
            crowded << 5 <= 1 << bits
        })
        .unwrap_or(MAX_BUCKET_BITS)
}

impl SymbolSearch {
    /// Prepares the search for decoding `symbols` symbols with `table`.
    pub fn new(table: &CdfTable, symbols: usize) -> Self {
        let too_long = table.rows.iter().any(|r| r.max >= 1 << FIRST_BITS);
        if symbols < table.entries() / 2 || too_long {
            return SymbolSearch::BINARY;
        }
        let mut rows = Vec::with_capacity(table.rows());
        let mut buckets = Vec::new();
        for row in 0..table.rows() {
            let cdf = table.cdf(row);
            let bits = bucket_bits(cdf);
            rows.push((buckets.len() as u32, 16 - bits));
            let width = 1i32 << (16 - bits);
            let mut s = 0usize;
            for b in 0..1i32 << bits {
                let (lo, hi) = (b * width, (b + 1) * width);
                while cdf[s + 1] <= lo {
                    s += 1;
                }
                let split = cdf[s + 1];
                buckets.push(if split >= hi {
                    pack(s, cdf[s], split, split)
                } else if cdf[s + 2] >= hi {
                    pack(s, cdf[s], split, cdf[s + 2])
                } else {
                    pack(s, split, split, split) // crowded: `split - start` is 0
                });
            }
        }
        SymbolSearch { rows, buckets }
    }

    /// The symbol `s` of row `index` with `cdf[s] <= cum < cdf[s + 1]`, and that interval.
    #[inline(always)]
    fn find(&self, table: &CdfTable, row: Row, index: usize, cum: u32) -> (u32, u32, u32) {
        if self.buckets.is_empty() {
            let cdf = table.cdf_of(row);
            let s = cdf.partition_point(|&c| c <= cum as i32) - 1;
            return (s as u32, cdf[s] as u32, (cdf[s + 1] - cdf[s]) as u32);
        }
        let (base, shift) = self.rows[index];
        let packed = self.buckets[base as usize + (cum >> shift) as usize];
        let first = (packed >> 34) as u32 & ((1 << FIRST_BITS) - 1);
        let below = (packed & 0x1_ffff) as u32;
        if below != 0 {
            // `cum >= split`, compared against the packed word directly (split is its top field).
            let upper = (u64::from(cum) << 47 | LOW_47) >= packed;
            let split = (packed >> 47) as u32;
            let above = (packed >> 17 & 0x1_ffff) as u32;
            let (start, freq) = if upper { (split, above) } else { (split - below, below) };
            return (first + u32::from(upper), start, freq);
        }
        Self::scan(table.cdf_of(row), first as usize, cum)
    }

    /// The symbol of `cum`, stepping forward from `s` (a crowded bucket's first symbol).
    #[cold]
    fn scan(cdf: &[i32], mut s: usize, cum: u32) -> (u32, u32, u32) {
        while cdf[s + 1] <= cum as i32 {
            s += 1;
        }
        (s as u32, cdf[s] as u32, (cdf[s + 1] - cdf[s]) as u32)
    }
}

const LOW_47: u64 = (1 << 47) - 1;

/// Packs a bucket whose first symbol `first` spans `[start, split)` and whose next spans
/// `[split, end)` as `split << 47 | first << 34 | (end - split) << 17 | (split - start)`: the
/// frequencies are ready to use, and `cum >= split` is one comparison with the whole word.
/// `split - start = 0` marks a crowded bucket. Requires `first < 2^13`.
#[inline(always)]
fn pack(first: usize, start: i32, split: i32, end: i32) -> u64 {
    debug_assert!(first < 1 << FIRST_BITS);
    (split as u64) << 47 | (first as u64) << 34 | ((end - split) as u64) << 17 | (split - start) as u64
}

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
fn decode_escape(mut d: Decoder, row: Row) -> Result<(i32, Decoder)> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(
                (start, freq),
                (cdf[s as usize] as u32, (cdf[s as usize + 1] - cdf[s as usize]) as u32)
            );
            assert!(start <= cum && cum < start + freq);
        }
    }
}
