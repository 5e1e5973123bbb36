//! The symbol of a cumulative frequency: per-row bucket tables, or binary search.

use super::table::*;

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
    pub(super) rows: Vec<(u32, u32)>,
    /// Per bucket, the packed word of [`pack`]. Empty for binary search.
    pub(super) buckets: Vec<u64>,
}

impl SymbolSearch {
    /// Binary search of the rows: nothing to build.
    pub(super) const BINARY: SymbolSearch = SymbolSearch { rows: Vec::new(), buckets: Vec::new() };
}

pub(super) const MIN_BUCKET_BITS: u32 = 2;
pub(super) const MAX_BUCKET_BITS: u32 = 10;
/// Bits of the packed word holding the bucket's first symbol.
pub(super) const FIRST_BITS: u32 = 13;

/// The fewest bucket bits for which at most 1/32 of the row's buckets are crowded.
pub(super) fn bucket_bits(cdf: &[i32]) -> u32 {
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
    pub(super) fn find(&self, table: &CdfTable, row: Row, index: usize, cum: u32) -> (u32, u32, u32) {
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
    pub(super) fn scan(cdf: &[i32], mut s: usize, cum: u32) -> (u32, u32, u32) {
        while cdf[s + 1] <= cum as i32 {
            s += 1;
        }
        (s as u32, cdf[s] as u32, (cdf[s + 1] - cdf[s]) as u32)
    }
}

pub(super) const LOW_47: u64 = (1 << 47) - 1;

/// Packs a bucket whose first symbol `first` spans `[start, split)` and whose next spans
/// `[split, end)` as `split << 47 | first << 34 | (end - split) << 17 | (split - start)`: the
/// frequencies are ready to use, and `cum >= split` is one comparison with the whole word.
/// `split - start = 0` marks a crowded bucket. Requires `first < 2^13`.
#[inline(always)]
pub(super) fn pack(first: usize, start: i32, split: i32, end: i32) -> u64 {
    debug_assert!(first < 1 << FIRST_BITS);
    (split as u64) << 47 | (first as u64) << 34 | ((end - split) as u64) << 17 | (split - start) as u64
}
