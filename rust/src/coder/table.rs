//! Validated CDF tables: rows, offsets, escape coding of out-of-range values, and tables
//! prepared once for many calls.

use super::search::*;
use crate::error::{Error, Result};
use crate::rans::{min_step_bits, Decoder, Step, MAX_BYPASS_VALUE, PROB_SCALE};
use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// A validated table of CDF rows with their sizes and offsets.
///
/// Row `r` is `cdfs[r * stride..][..sizes[r]]`: a strictly increasing CDF from 0 to 65536 whose
/// last interval (symbol `sizes[r] - 2`) is the escape symbol. The table borrows or owns the
/// entries ([`CdfTable::into_owned`]); [`PreparedTable`] keeps an owned one for many calls.
#[derive(Debug, Clone)]
pub struct CdfTable<'a> {
    pub(super) cdfs: Cow<'a, [i32]>,
    pub(super) rows: Vec<Row>,
    /// Per row, the fewest bits any of its symbols adds to a stream, in [`COST_UNIT`]s.
    pub(super) min_cost: Vec<u32>,
}

/// Unit of [`CdfTable`]'s symbol costs: `2^-24` bits, so that bounds sum exactly in integers.
pub(super) const COST_UNIT: f64 = (1u32 << 24) as f64;

/// What coding needs of one row, gathered so that a symbol costs one load of metadata.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    /// Position of the row's first entry in `cdfs`.
    pub(super) base: usize,
    /// The escape symbol, `size - 2`: regular symbols are `0..max`.
    pub(super) max: u32,
    pub(super) offset: i32,
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
    pub(super) fn entries(&self) -> usize {
        self.rows.iter().map(|r| r.max as usize + 2).sum()
    }

    /// The fewest bits any symbol of any row adds to a stream, in [`COST_UNIT`]s.
    pub(super) fn min_cost_any(&self) -> u64 {
        self.min_cost.iter().copied().min().map_or(0, u64::from)
    }

    /// Fails, before any decoding, when `dec` cannot hold `symbols` symbols of the rows
    /// `indexes` (or, when `indexes` is `None`, of this table's cheapest row): a stream
    /// exhausted far too early is rejected at once instead of after all the steps. Indexes out
    /// of range count as free here; decoding reports them.
    pub(super) fn check_room(&self, dec: &Decoder, indexes: Option<&[i32]>, symbols: usize) -> Result<()> {
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
    pub(super) fn cdf(&self, index: usize) -> &[i32] {
        self.cdf_of(self.rows[index])
    }

    #[inline(always)]
    pub(super) fn cdf_of(&self, row: Row) -> &[i32] {
        &self.cdfs[row.base..][..row.max as usize + 2]
    }

    #[inline(always)]
    pub(super) fn row(&self, position: usize, index: i32) -> Result<Row> {
        // A negative index wraps to a huge usize and fails the lookup too.
        match self.rows.get(index as usize) {
            Some(&row) => Ok(row),
            None => Err(Error::IndexOutOfRange { position, index: i64::from(index), table_len: self.rows() }),
        }
    }

    /// The coded interval of `symbol` in row `index`, and the raw escape value if it escapes.
    #[inline(always)]
    pub(super) fn map_symbol(&self, position: usize, symbol: i32, index: i32) -> Result<(Step, Option<u32>)> {
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
    pub(super) fn map_escape(
        &self,
        position: usize,
        symbol: i32,
        row: Row,
        v: i64,
    ) -> Result<(Step, Option<u32>)> {
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
pub(super) fn nibbles(raw: u32) -> u32 {
    (32 - raw.leading_zeros()).div_ceil(4)
}

/// The bypass steps that follow an escape symbol, in coding order. The nibble count is written
/// in base-15 unary (15, 15, ..., remainder); a 32-bit value has at most 8 nibbles, so it is
/// always a single step here.
#[inline(always)]
pub(super) fn escape_steps(raw: u32) -> impl DoubleEndedIterator<Item = Step> {
    let n = nibbles(raw);
    debug_assert!(n < MAX_BYPASS_VALUE);
    std::iter::once(Step::bypass(n)).chain((0..n).map(move |j| Step::bypass((raw >> (4 * j)) & 0xf)))
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
    pub(super) table: CdfTable<'static>,
    pub(super) entries: usize,
    pub(super) decoded: AtomicUsize,
    pub(super) search: OnceLock<SymbolSearch>,
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
