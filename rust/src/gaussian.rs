//! The CDF row of a Gaussian scale: `GaussianConditional.build_indexes`, in one place for the
//! vectorised path and the autoregressive loop alike.
//!
//! A GaussianConditional has one CDF row per entry of its increasing scale table; a value of
//! scale `s` is coded with the row of the first entry at least `max(s, bound)`, or the last row
//! when the scale exceeds the table (and, as in CompressAI, for NaN). Comparisons are exact in
//! `f64`, which holds every `f32` and `f64` scale, so the rows equal CompressAI's for both.

use crate::error::{Error, Result};

/// Validates a scale table: non-empty, increasing, positive and finite.
pub fn check_scale_table(table: &[f32], bound: f32) -> Result<()> {
    let invalid = |message: &str| Error::InvalidArgument { what: "scale_table", message: message.into() };
    if table.is_empty() {
        return Err(invalid("must not be empty"));
    }
    if table.iter().any(|s| !s.is_finite() || *s <= 0.0) {
        return Err(invalid("must hold positive, finite scales"));
    }
    if table.windows(2).any(|w| w[1] < w[0]) {
        return Err(invalid("must be increasing"));
    }
    if bound.is_nan() || bound <= 0.0 {
        return Err(Error::InvalidArgument {
            what: "scale_bound",
            message: format!("must be positive, got {bound}"),
        });
    }
    Ok(())
}

/// The CDF row of `scale`, by definition: the first `table` entry at least `max(scale, bound)`,
/// clamped to the last row (also for NaN). Requires a table accepted by
/// [`check_scale_table`]. [`ScaleIndex`] gives the same rows faster.
pub fn scale_index(table: &[f32], bound: f32, scale: f64) -> i32 {
    let last = table.len() - 1;
    if scale.is_nan() {
        return last as i32;
    }
    let s = scale.max(f64::from(bound));
    let below = table.iter().filter(|&&t| f64::from(t) < s).count();
    below.min(last) as i32
}

/// Row selection for many `f32` scales, from a lookup on the scales' bits.
///
/// The bits of positive floats are ordered like their values, so their top bits name a bin
/// of 1/128 octave. Per bin, the table stores how many entries lie below it and the entries
/// inside it (all equal, or none): one load and one comparison give a scale's row, instead of
/// a search whose branches mispredict on random scales. A table with distinct entries closer
/// than a bin counts entries instead.
#[derive(Debug, Clone)]
pub struct ScaleIndex {
    table: Vec<f32>,
    bound: f32,
    /// Bin of `bound`, the first one a bounded scale can fall in.
    first_bin: u32,
    /// Per bin: entries below it, entries inside it, and their value (+inf for none). The
    /// last bin follows every entry; scales beyond it are clamped into it. Empty: count.
    bins: Vec<(u32, u32, f32)>,
}

const BIN_SHIFT: u32 = 16;
const MAX_BINS: u32 = 1 << 20;

impl ScaleIndex {
    /// Prepares row selection for a table accepted by [`check_scale_table`].
    pub fn new(table: &[f32], bound: f32) -> Result<Self> {
        check_scale_table(table, bound)?;
        let bin = |v: f32| v.to_bits() >> BIN_SHIFT;
        let first_bin = bin(bound);
        let last_bin = bin(table[table.len() - 1]).max(first_bin) + 1;
        let mut bins = Vec::new();
        if last_bin - first_bin < MAX_BINS {
            bins = vec![(0u32, 0u32, f32::INFINITY); (last_bin - first_bin + 1) as usize];
            let mut regular = true;
            for (i, &t) in table.iter().enumerate() {
                // Entries below the bound's bin are below every bounded scale.
                let b = bin(t).max(first_bin) - first_bin;
                let slot = &mut bins[b as usize];
                if slot.1 == 0 {
                    *slot = (i as u32, 1, t);
                } else if slot.2 == t && bin(t) >= first_bin {
                    slot.1 += 1;
                } else {
                    regular = false;
                }
            }
            // Entries below each bin: fill the empty bins from the last occupied one.
            let mut below = 0;
            for slot in &mut bins {
                if slot.1 == 0 {
                    slot.0 = below;
                }
                below = slot.0 + slot.1;
            }
            if !regular {
                bins.clear();
            }
        }
        Ok(ScaleIndex { table: table.to_vec(), bound, first_bin, bins })
    }

    /// Number of rows (scales in the table).
    pub fn rows(&self) -> usize {
        self.table.len()
    }

    /// The row of `scale`, equal to [`scale_index`].
    #[inline]
    pub fn index(&self, scale: f32) -> i32 {
        let last = self.table.len() as u32 - 1;
        if scale.is_nan() {
            return last as i32;
        }
        let s = if scale < self.bound { self.bound } else { scale };
        if self.bins.is_empty() {
            return scale_index(&self.table, self.bound, f64::from(s));
        }
        let b = ((s.to_bits() >> BIN_SHIFT) - self.first_bin).min(self.bins.len() as u32 - 1);
        let (below, inside, value) = self.bins[b as usize];
        (below + inside * u32::from(value < s)).min(last) as i32
    }
}

/// [`scale_index`] of every `f32` scale; `out` must be as long as `scales`.
pub fn scale_indexes_f32(table: &[f32], bound: f32, scales: &[f32], out: &mut [i32]) -> Result<()> {
    let select = ScaleIndex::new(table, bound)?;
    check_lengths(scales.len(), out.len())?;
    for (index, &scale) in out.iter_mut().zip(scales) {
        *index = select.index(scale);
    }
    Ok(())
}

/// [`scale_index`] of every `f64` scale; `out` must be as long as `scales`.
pub fn scale_indexes_f64(table: &[f32], bound: f32, scales: &[f64], out: &mut [i32]) -> Result<()> {
    check_scale_table(table, bound)?;
    check_lengths(scales.len(), out.len())?;
    for (index, &scale) in out.iter_mut().zip(scales) {
        *index = scale_index(table, bound, scale);
    }
    Ok(())
}

fn check_lengths(scales: usize, out: usize) -> Result<()> {
    if scales != out {
        return Err(Error::LengthMismatch { what: "out", expected: scales, got: out });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, written as CompressAI computes it: (L - 1) - #{t in table[:-1] : s <= t}.
    fn reference(table: &[f32], bound: f32, scale: f64) -> i32 {
        let s = if scale.is_nan() { f64::NAN } else { scale.max(f64::from(bound)) };
        let below_or_equal = table[..table.len() - 1].iter().filter(|&&t| s <= f64::from(t)).count();
        (table.len() - 1 - below_or_equal) as i32
    }

    #[test]
    fn index_is_the_first_entry_at_least_the_bounded_scale() {
        let table = [0.11f32, 0.5, 1.0, 4.0];
        let cases = [
            (0.0, 0),
            (f64::from(0.11f32), 0),
            (0.11, 1), // the f64 0.11 is above the f32 0.11 of the table
            (0.12, 1),
            (1.0, 2),
            (100.0, 3),
            (f64::INFINITY, 3),
            (f64::NEG_INFINITY, 0),
            (f64::NAN, 3),
            (-5.0, 0),
        ];
        let select = ScaleIndex::new(&table, 0.11).unwrap();
        for (scale, expected) in cases {
            assert_eq!(scale_index(&table, 0.11, scale), expected, "scale {scale}");
            if f64::from(scale as f32) == scale || scale.is_nan() {
                assert_eq!(select.index(scale as f32), expected, "scale {scale}");
            }
        }
    }

    #[test]
    fn index_equals_the_definition_around_every_entry() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(5);
        for len in 1..70 {
            let mut table: Vec<f32> = (0..len).map(|_| rng.random_range(0.05f32..300.0)).collect();
            table.sort_by(f32::total_cmp);
            if len > 3 {
                table[2] = table[1]; // equal entries are allowed
            }
            if len > 5 {
                table[4] = table[3].next_up(); // distinct entries in one bin: the counting path
            }
            for bound in [0.11f32, 0.01, 500.0] {
                let select = ScaleIndex::new(&table, bound).unwrap();
                let mut scales: Vec<f32> =
                    table.iter().flat_map(|&t| [t, t.next_down(), t.next_up()]).collect();
                scales.extend((0..200).map(|_| rng.random_range(-1.0f32..400.0)));
                scales.extend([f32::INFINITY, f32::NEG_INFINITY, f32::MAX, f32::MIN_POSITIVE, 0.0, -0.0]);
                for &scale in &scales {
                    let expected = reference(&table, bound, f64::from(scale));
                    assert_eq!(select.index(scale), expected, "table {table:?} bound {bound} scale {scale}");
                    assert_eq!(scale_index(&table, bound, f64::from(scale)), expected);
                }
                let scale = f64::from(table[0]) * (1.0 + 1e-12);
                assert_eq!(scale_index(&table, bound, scale), reference(&table, bound, scale));
            }
        }
    }

    #[test]
    fn bad_tables_are_rejected() {
        let mut out = [0; 1];
        assert!(scale_indexes_f32(&[], 0.11, &[1.0], &mut out).is_err());
        assert!(scale_indexes_f32(&[1.0, 0.5], 0.11, &[1.0], &mut out).is_err());
        assert!(scale_indexes_f32(&[0.0, 0.5], 0.11, &[1.0], &mut out).is_err());
        assert!(scale_indexes_f32(&[0.5, f32::NAN], 0.11, &[1.0], &mut out).is_err());
        assert!(scale_indexes_f64(&[0.5], 0.0, &[1.0], &mut out).is_err());
        assert!(scale_indexes_f64(&[0.5], 0.11, &[1.0, 2.0], &mut out).is_err());
    }
}
