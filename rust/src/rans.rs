//! The rANS state machine: one encode step, one decode step, and 4-bit bypass steps.
//!
//! This module knows nothing of CDF tables or symbols; [`crate::coder`] maps symbols to the
//! intervals coded here. The variant is the 64-bit one of Fabian Giesen's `ryg_rans`
//! (`rans64.h`), as used by CompressAI, so that streams are byte-compatible:
//!
//! * state `x` in `[L, L << 32)` with `L = 2^31`, renormalised in 32-bit words;
//! * probabilities at 16-bit precision;
//! * bypass steps of 4 bits (an encode step with frequency 1 at 4-bit precision);
//! * the encoder runs backwards over the symbols; the output is the final state as two words
//!   `[x_lo, x_hi]` followed by the renormalisation words, last emitted first, every word
//!   little-endian.
//!
//! Unlike the reference coder, the decoder checks every read against the end of the input,
//! rejects states that no encoder can produce, and can prove a stream was consumed exactly.
//!
//! References: J. Duda, "Asymmetric numeral systems: entropy coding combining speed of Huffman
//! coding with compression rate of arithmetic coding", arXiv:1311.2540, 2013; F. Giesen,
//! "Interleaved entropy coders", arXiv:1402.3392, 2014 (and `ryg_rans`).

use crate::error::{Error, Result};

/// Bits of probability precision: CDFs end at `1 << PRECISION`.
pub const PRECISION: u32 = 16;
/// Total frequency of a CDF row.
pub const PROB_SCALE: u32 = 1 << PRECISION;
/// Lower bound of the normalised state interval.
pub const STATE_LOWER_BOUND: u64 = 1 << 31;
/// Bits written by one bypass step.
pub const BYPASS_BITS: u32 = 4;
/// Largest value of one bypass step.
pub const MAX_BYPASS_VALUE: u32 = (1 << BYPASS_BITS) - 1;

const PROB_MASK: u64 = PROB_SCALE as u64 - 1;
const BYPASS_MASK: u64 = MAX_BYPASS_VALUE as u64;
/// A bypass step renormalises once the state reaches `((L >> 4) << 32) * 1`.
const BYPASS_STATE_MAX: u64 = (STATE_LOWER_BOUND >> BYPASS_BITS) << 32;
/// An encode step of frequency `f` renormalises once the state reaches `f * FREQ_STATE_MAX`.
const FREQ_STATE_MAX: u64 = (STATE_LOWER_BOUND >> PRECISION) << 32;

/// One encoder step: a CDF interval `[start, start + freq)`, or a bypass value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    start: u32,
    /// 0 marks a bypass step carrying `start` (a real interval has `freq >= 1`).
    freq: u32,
}

impl Step {
    /// A coded interval. Requires `1 <= freq` and `start + freq <= PROB_SCALE`.
    #[inline(always)]
    pub fn interval(start: u32, freq: u32) -> Self {
        debug_assert!(freq >= 1 && start + freq <= PROB_SCALE);
        Step { start, freq }
    }

    /// A raw 4-bit value. Requires `value <= MAX_BYPASS_VALUE`.
    #[inline(always)]
    pub fn bypass(value: u32) -> Self {
        debug_assert!(value <= MAX_BYPASS_VALUE);
        Step { start: value, freq: 0 }
    }
}

/// The encoder.
///
/// rANS decodes in the reverse order of encoding, so the coder feeds the steps of the last
/// symbol first: [`Encoder::put_reversed`] encodes a slice of steps from its end.
#[derive(Debug)]
pub struct Encoder {
    state: u64,
    /// Renormalisation words in the order they were emitted: `words[..len]`.
    words: Vec<u32>,
    len: usize,
    reciprocals: &'static [Reciprocal],
}

impl Default for Encoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Encoder {
    /// A fresh encoder, in the initial state `L`.
    pub fn new() -> Self {
        Encoder { state: STATE_LOWER_BOUND, words: Vec::new(), len: 0, reciprocals: reciprocals() }
    }

    /// Encodes `steps[n - 1]`, then `steps[n - 2]`, ..., then `steps[0]`.
    pub fn put_reversed(&mut self, steps: &[Step]) {
        let mut writer = self.writer();
        writer.reserve(steps.len());
        for &step in steps.iter().rev() {
            writer.put(step);
        }
    }

    /// A writer that keeps the state in registers while a loop encodes steps; the state is
    /// written back when it is dropped.
    #[inline(always)]
    pub fn writer(&mut self) -> Writer<'_> {
        Writer {
            x: self.state,
            len: self.len,
            words: &mut self.words,
            state_out: &mut self.state,
            len_out: &mut self.len,
            reciprocals: self.reciprocals,
        }
    }

    /// Writes the stream: final state (low word, high word), then the words, last emitted first.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 * (self.len + 2));
        out.extend_from_slice(&(self.state as u32).to_le_bytes());
        out.extend_from_slice(&((self.state >> 32) as u32).to_le_bytes());
        for w in self.words[..self.len].iter().rev() {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }
}

/// The encoder's hot loop: see [`Encoder::writer`].
///
/// Its fields are locals of the caller once inlined, so the state never goes through memory.
#[derive(Debug)]
pub struct Writer<'a> {
    x: u64,
    len: usize,
    words: &'a mut Vec<u32>,
    state_out: &'a mut u64,
    len_out: &'a mut usize,
    reciprocals: &'static [Reciprocal],
}

impl Writer<'_> {
    /// Makes room for `steps` more steps (each emits at most one word).
    #[inline(always)]
    pub fn reserve(&mut self, steps: usize) {
        if self.words.len() < self.len + steps {
            grow(self.words, self.len + steps);
        }
    }

    /// Encodes one step. Requires room reserved by [`Writer::reserve`].
    #[inline(always)]
    pub fn put(&mut self, step: Step) {
        let x = self.x;
        let x_max = if step.freq == 0 { BYPASS_STATE_MAX } else { FREQ_STATE_MAX * u64::from(step.freq) };
        // Renormalisation happens at random, about once per 32 bits of output, so it is
        // branch-free: the word is always stored, and kept only if x overflows.
        let emit = x >= x_max;
        self.words[self.len] = x as u32;
        self.len += usize::from(emit);
        let x = if emit { x >> 32 } else { x };
        self.x = if step.freq == 0 {
            (x << BYPASS_BITS) | u64::from(step.start)
        } else {
            let r = self.reciprocals[step.freq as usize];
            let q = ((u128::from(x) * u128::from(r.rcp)) >> 64) as u64 >> r.shift;
            x + u64::from(step.start) + u64::from(r.bias) + q * u64::from(PROB_SCALE - step.freq)
        };
    }
}

impl Drop for Writer<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        *self.state_out = self.x;
        *self.len_out = self.len;
    }
}

#[cold]
fn grow(words: &mut Vec<u32>, at_least: usize) {
    let len = at_least.max(2 * words.len());
    words.resize(len, 0);
}

/// Division by a frequency, done by a multiplication.
///
/// An encode step is `x' = ((x / freq) << 16) + x % freq + start`, and a 64-bit division costs
/// more than the rest of the step. With the frequency's reciprocal (R. Alverson, "Integer
/// division using reciprocals", ARITH 1991; the `Rans64EncSymbol` scheme of `ryg_rans`) the
/// quotient is `q = mulhi(x, rcp) >> shift`, exact for every `x < 2^63`, which the encoder's
/// state always is; then `x' = x + q * (2^16 - freq) + start`. Frequency 1 has no reciprocal
/// below 1, so it uses `rcp = 2^64 - 1` (giving `q = x - 1`) and `bias = 2^16 - 1` makes up
/// the difference.
#[derive(Debug, Clone, Copy)]
struct Reciprocal {
    rcp: u64,
    shift: u32,
    bias: u32,
}

/// Reciprocals of every frequency in `[0, 2^16]` (index 0 unused), built once per process.
fn reciprocals() -> &'static [Reciprocal] {
    static TABLE: std::sync::OnceLock<Box<[Reciprocal]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| (0..=PROB_SCALE).map(reciprocal).collect())
}

fn reciprocal(freq: u32) -> Reciprocal {
    if freq < 2 {
        return Reciprocal { rcp: u64::MAX, shift: 0, bias: PROB_SCALE - 1 };
    }
    // shift = ceil(log2 freq); rcp = ceil(2^(shift + 63) / freq) < 2^64.
    let shift = 32 - (freq - 1).leading_zeros();
    let rcp = (1u128 << (shift + 63)).div_ceil(u128::from(freq));
    Reciprocal { rcp: rcp as u64, shift: shift - 1, bias: 0 }
}

/// Decoder position in a stream: where the next word is read, and the state.
///
/// Kept separate from the bytes so that a streaming decoder can own its buffer and resume.
/// Only [`Decoder::position`] makes one, so it always describes a reachable point of some
/// stream; [`Decoder::resume`] still checks that it fits the stream it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderState {
    /// Byte offset of the next word.
    pos: usize,
    /// rANS state.
    state: u64,
}

/// Decoder over a borrowed stream.
///
/// It is `Copy` so that hot loops can work on a local copy whose state stays in registers.
#[derive(Debug, Clone, Copy)]
pub struct Decoder<'a> {
    data: &'a [u8],
    pos: usize,
    state: u64,
}

impl<'a> Decoder<'a> {
    /// Starts decoding `data`. Fails unless `data` holds a whole number of words, at least two,
    /// and begins with a state an encoder can produce.
    pub fn new(data: &'a [u8]) -> Result<Self> {
        if !data.len().is_multiple_of(4) || data.len() < 8 {
            return Err(Error::StreamLength { len: data.len() });
        }
        let lo = u64::from(read_word(data, 0));
        let hi = u64::from(read_word(data, 4));
        let state = lo | (hi << 32);
        if !(STATE_LOWER_BOUND..STATE_LOWER_BOUND << 32).contains(&state) {
            return Err(Error::CorruptStream("the initial state is outside the rANS interval"));
        }
        Ok(Decoder { data, pos: 8, state })
    }

    /// Resumes at a saved position of the same stream. Fails if `at` cannot be a position of
    /// `data` (past its end, between words, or a state outside the interval), so that every
    /// decoder keeps `pos <= data.len()`: the invariant [`Decoder::finish`] and the refill
    /// rely on.
    pub fn resume(data: &'a [u8], at: DecoderState) -> Result<Self> {
        if at.pos > data.len() || !at.pos.is_multiple_of(4) || at.pos < 8 {
            return Err(Error::CorruptStream("the saved position is not a word of this stream"));
        }
        if !(STATE_LOWER_BOUND..STATE_LOWER_BOUND << 32).contains(&at.state) {
            return Err(Error::CorruptStream("the saved state is outside the rANS interval"));
        }
        Ok(Decoder { data, pos: at.pos, state: at.state })
    }

    /// The position to resume from later.
    pub fn position(&self) -> DecoderState {
        DecoderState { pos: self.pos, state: self.state }
    }

    /// The cumulative frequency the next symbol's interval contains, in `[0, PROB_SCALE)`.
    #[inline(always)]
    pub fn peek(&self) -> u32 {
        (self.state & PROB_MASK) as u32
    }

    /// Consumes the interval `[start, start + freq)` that contains [`Decoder::peek`].
    #[inline(always)]
    pub fn advance(&mut self, start: u32, freq: u32) -> Result<()> {
        let x = self.state;
        self.state = u64::from(freq) * (x >> PRECISION) + (x & PROB_MASK) - u64::from(start);
        self.refill()
    }

    /// Reads one 4-bit bypass value.
    #[inline(always)]
    pub fn read_bypass(&mut self) -> Result<u32> {
        let value = (self.state & BYPASS_MASK) as u32;
        self.state >>= BYPASS_BITS;
        self.refill()?;
        Ok(value)
    }

    #[inline(always)]
    fn refill(&mut self) -> Result<()> {
        // A refill is due at random (about once per 32 bits), so it is branch-free: the next
        // word is read ahead whenever one is left, and kept only if the state needs it.
        let next = if self.pos + 4 <= self.data.len() { read_word(self.data, self.pos) } else { 0 };
        let refill = self.state < STATE_LOWER_BOUND;
        self.state = if refill { (self.state << 32) | u64::from(next) } else { self.state };
        self.pos += 4 * usize::from(refill);
        if self.state < STATE_LOWER_BOUND || self.pos > self.data.len() {
            return Err(self.refill_error());
        }
        Ok(())
    }

    #[cold]
    fn refill_error(&self) -> Error {
        if self.pos > self.data.len() {
            Error::TruncatedStream { words: self.data.len() / 4 }
        } else {
            Error::CorruptStream("the state fell below the rANS interval")
        }
    }

    /// Checks that the stream was consumed exactly: every word read and the state back at the
    /// encoder's initial value. A stream decoded with the wrong indexes or tables almost
    /// never passes.
    pub fn finish(&self) -> Result<()> {
        if self.pos != self.data.len() || self.state != STATE_LOWER_BOUND {
            return Err(Error::StreamNotExhausted { unread_words: self.words_left() });
        }
        Ok(())
    }

    /// Words not read yet.
    #[inline]
    pub fn words_left(&self) -> usize {
        // Every constructor and every successful refill keeps `pos <= data.len()`; a failed
        // refill may leave `pos` one word past it, which counts as none left.
        self.data.len().saturating_sub(self.pos) / 4
    }

    /// An upper bound, in bits, on the information the rest of the stream can hold: the state
    /// carries `log2(state) - 31` bits beyond the encoder's initial state and every unread word
    /// 32. Each coded step adds at least [`min_step_bits`] of its frequency to what an encoder
    /// wrote (see there), so steps whose bounds sum to more than this cannot all be in the
    /// stream.
    pub fn information_left(&self) -> f64 {
        (self.state as f64).log2() - 31.0 + 32.0 * self.words_left() as f64
    }
}

/// A lower bound, in bits, on how much one encoder step of frequency `freq` (`1..=PROB_SCALE`)
/// grows the state, renormalisation included.
///
/// An encode step maps `x` (at least `freq << 15` after renormalisation) to
/// `x + floor(x / freq) (PROB_SCALE - freq) + start`, so `log2` of the state grows by at least
/// `log2(1 + (PROB_SCALE - freq) (1 - 2^-15) / freq)`, and a renormalisation moves exactly 32
/// bits from the state to a word. Every valid stream therefore satisfies
/// `sum of min_step_bits <= 32 * words - 31`, whatever the symbols were. The value is rounded
/// down a little further so that float rounding never overstates it. A bypass step adds exactly
/// [`BYPASS_BITS`].
pub fn min_step_bits(freq: u32) -> f64 {
    debug_assert!((1..=PROB_SCALE).contains(&freq));
    let gain = f64::from(PROB_SCALE - freq) * (1.0 - 2f64.powi(-15)) / f64::from(freq);
    gain.ln_1p() * std::f64::consts::LOG2_E * (1.0 - 1e-9)
}

#[inline(always)]
fn read_word(data: &[u8], pos: usize) -> u32 {
    u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reciprocal_step_equals_division_for_every_frequency() {
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(3);
        for freq in 1..=PROB_SCALE {
            let f = u64::from(freq);
            // The encoder divides states in [L, f * FREQ_STATE_MAX): test both ends and random ones.
            let hi = FREQ_STATE_MAX * f - 1;
            let mut samples = vec![STATE_LOWER_BOUND, hi, hi - 1, STATE_LOWER_BOUND + f];
            samples.extend((0..8).map(|_| rng.random_range(STATE_LOWER_BOUND..=hi)));
            for x in samples {
                let start = rng.random_range(0..=PROB_SCALE - freq);
                let mut enc = Encoder::new();
                enc.state = x;
                enc.put_reversed(&[Step::interval(start, freq)]);
                assert_eq!(enc.len, 0, "no renormalisation below x_max");
                assert_eq!(enc.state, ((x / f) << PRECISION) + x % f + u64::from(start), "x={x} freq={freq}");
            }
        }
    }

    #[test]
    fn empty_stream_is_the_initial_state() {
        let bytes = Encoder::new().finish();
        assert_eq!(bytes, [0, 0, 0, 0x80, 0, 0, 0, 0]);
        Decoder::new(&bytes).unwrap().finish().unwrap();
    }

    #[test]
    fn intervals_and_bypass_values_round_trip() {
        // (start, freq) pairs of a 3-symbol CDF [0, 1, 40000, 65536] plus bypass values.
        let steps: Vec<Step> = (0..5000u32)
            .map(|i| match i % 7 {
                0 => Step::bypass(i % 16),
                1 | 4 => Step::interval(0, 1),
                2 | 5 => Step::interval(1, 39999),
                _ => Step::interval(40000, 25536),
            })
            .collect();
        let mut enc = Encoder::new();
        // In two slices, last one first, as the coder feeds blocks.
        enc.put_reversed(&steps[2500..]);
        enc.put_reversed(&steps[..2500]);
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes).unwrap();
        for &s in &steps {
            if s.freq == 0 {
                assert_eq!(dec.read_bypass().unwrap(), s.start);
            } else {
                let cum = dec.peek();
                assert!((s.start..s.start + s.freq).contains(&cum));
                dec.advance(s.start, s.freq).unwrap();
            }
        }
        dec.finish().unwrap();
    }

    #[test]
    fn full_probability_interval_leaves_the_state_unchanged() {
        let mut enc = Encoder::new();
        enc.put_reversed(&[Step::interval(0, PROB_SCALE)]);
        assert_eq!(enc.finish(), Encoder::new().finish());
    }

    #[test]
    fn reading_past_the_end_is_a_truncation_error() {
        let mut enc = Encoder::new();
        enc.put_reversed(&[Step::interval(0, 1); 64]);
        let bytes = enc.finish();
        let mut dec = Decoder::new(&bytes[..bytes.len() - 4]).unwrap();
        let err = (0..64).try_for_each(|_| dec.advance(0, 1)).unwrap_err();
        assert!(matches!(err, Error::TruncatedStream { .. }), "{err}");
    }

    #[test]
    fn malformed_stream_lengths_and_states_are_rejected() {
        assert_eq!(Decoder::new(&[]).unwrap_err(), Error::StreamLength { len: 0 });
        assert_eq!(Decoder::new(&[0; 9]).unwrap_err(), Error::StreamLength { len: 9 });
        assert!(matches!(Decoder::new(&[0; 8]).unwrap_err(), Error::CorruptStream(_)));
        assert!(matches!(Decoder::new(&[0xff; 8]).unwrap_err(), Error::CorruptStream(_)));
    }

    #[test]
    fn resume_past_the_end_then_finish_is_an_error_not_an_underflow() {
        // A position saved on a longer stream, resumed on a shorter one: `finish` used to
        // compute `data.len() - pos`, which overflows (a panic with overflow checks on).
        let mut enc = Encoder::new();
        enc.put_reversed(&[Step::interval(0, 1); 64]);
        let long = enc.finish();
        let mut dec = Decoder::new(&long).unwrap();
        for _ in 0..64 {
            dec.advance(0, 1).unwrap();
        }
        let at = dec.position();
        assert_eq!(at.pos, long.len());
        let err = Decoder::resume(&long[..8], at).unwrap_err();
        assert!(matches!(err, Error::CorruptStream(_)), "{err}");
        // Positions of the stream itself resume, and finish reports the unread words.
        let start = Decoder::new(&long).unwrap().position();
        let resumed = Decoder::resume(&long, start).unwrap();
        assert_eq!(resumed.finish(), Err(Error::StreamNotExhausted { unread_words: long.len() / 4 - 2 }));
        Decoder::resume(&long, at).unwrap().finish().unwrap();
    }

    #[test]
    fn every_stream_holds_at_least_the_bits_its_steps_are_bounded_by() {
        // The bound decoders use to reject streams too short for a request: the sum of
        // `min_step_bits` never exceeds what the decoder's `information_left` reports.
        use rand::{rngs::SmallRng, Rng, SeedableRng};
        let mut rng = SmallRng::seed_from_u64(11);
        for case in 0..200 {
            let n = rng.random_range(0..3000);
            let steps: Vec<Step> = (0..n)
                .map(|_| match rng.random_range(0..10) {
                    0 => Step::bypass(rng.random_range(0..16)),
                    // Near-certain symbols: the cheapest steps, where the bound is tightest.
                    1..=5 => Step::interval(0, PROB_SCALE - 1),
                    _ => {
                        let freq = rng.random_range(1..=PROB_SCALE);
                        Step::interval(rng.random_range(0..=PROB_SCALE - freq), freq)
                    }
                })
                .collect();
            let mut enc = Encoder::new();
            enc.put_reversed(&steps);
            let bytes = enc.finish();
            let bound: f64 = steps
                .iter()
                .map(|s| if s.freq == 0 { f64::from(BYPASS_BITS) } else { min_step_bits(s.freq) })
                .sum();
            let dec = Decoder::new(&bytes).unwrap();
            assert!(bound <= dec.information_left(), "case {case}: {bound} > {}", dec.information_left());
        }
    }

    #[test]
    fn leftover_words_fail_the_final_check() {
        let mut enc = Encoder::new();
        enc.put_reversed(&[Step::interval(0, 1); 64]);
        let bytes = enc.finish();
        let dec = Decoder::new(&bytes).unwrap();
        assert!(matches!(dec.finish(), Err(Error::StreamNotExhausted { .. })));
    }
}
