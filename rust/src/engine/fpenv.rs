//! The floating-point environment, set explicitly for the engine's arithmetic.
//!
//! A process may run with flush-to-zero and denormals-are-zero enabled (some BLAS and audio
//! libraries, `-ffast-math` shared objects, torch's `set_flush_denormal(True)`) or another
//! rounding mode. Either would change the engine's results on that machine only. [`FpEnv`]
//! sets IEEE defaults on entry and restores the caller's state when dropped:
//!
//! * x86-64: MXCSR with round-to-nearest-even, FTZ and DAZ off, every exception masked (the
//!   sticky flags are kept);
//! * aarch64: FPCR with round-to-nearest-even, FZ and FZ16 off;
//! * other targets: nothing (their defaults are IEEE; documented in `docs/determinism.md`).
//!
//! The state is per thread: every task of the thread pool enters its own [`FpEnv`].

/// Guard of the IEEE default floating-point environment on this thread (restored on drop).
#[derive(Debug)]
#[must_use = "the environment is restored when the guard is dropped"]
pub struct FpEnv {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    saved: Word,
}

#[cfg(target_arch = "x86_64")]
type Word = u32;
#[cfg(target_arch = "aarch64")]
type Word = u64;

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::asm;

    /// Exception masks (bits 7-12) set; rounding (13-14) nearest; FTZ (15) and DAZ (6) off.
    const IEEE: u32 = 0x1F80;
    /// The sticky exception flags (bits 0-5), kept as they are.
    const FLAGS: u32 = 0x3F;

    pub(super) fn read() -> u32 {
        let mut csr = 0u32;
        // SAFETY: `stmxcsr` stores the 4-byte MXCSR to the address, a live, aligned `u32`.
        unsafe { asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags)) };
        csr
    }

    pub(super) fn write(csr: u32) {
        // SAFETY: `ldmxcsr` reads 4 bytes from a live, aligned `u32`; every value written here
        // has its reserved bits clear (it is IEEE or a value read from MXCSR).
        unsafe { asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags, readonly)) };
    }

    pub(super) fn ieee(old: u32) -> u32 {
        IEEE | (old & FLAGS)
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    use std::arch::asm;

    /// FPCR bits: rounding mode (22-23), FZ (24), FZ16 (19).
    const CLEAR: u64 = (0b11 << 22) | (1 << 24) | (1 << 19);

    pub(super) fn read() -> u64 {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effect.
        unsafe { asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags)) };
        fpcr
    }

    pub(super) fn write(fpcr: u64) {
        // SAFETY: the value is FPCR as read, with only defined control bits cleared.
        unsafe { asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags)) };
    }

    pub(super) fn ieee(old: u64) -> u64 {
        old & !CLEAR
    }
}

impl FpEnv {
    /// Sets the IEEE defaults on this thread until the guard is dropped.
    pub fn enter() -> Self {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let saved = imp::read();
            let ieee = imp::ieee(saved);
            if ieee != saved {
                imp::write(ieee);
            }
            FpEnv { saved }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        FpEnv {}
    }
}

impl Drop for FpEnv {
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        {
            let now = imp::read();
            if now != self.saved {
                #[cfg(target_arch = "x86_64")]
                // Keep the exception flags raised meanwhile, as a caller that reads them expects.
                imp::write(self.saved | (now & 0x3F));
                #[cfg(target_arch = "aarch64")]
                imp::write(self.saved);
            }
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) mod testing {
    /// Sets MXCSR to `csr` (for tests that simulate a caller with FTZ/DAZ on); returns the old.
    pub(crate) fn set_mxcsr(csr: u32) -> u32 {
        let old = super::imp::read();
        super::imp::write(csr);
        old
    }

    /// The current MXCSR.
    pub(crate) fn mxcsr() -> u32 {
        super::imp::read()
    }
}
