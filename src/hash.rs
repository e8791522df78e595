//! A fast, fixed hash for the lookup tables a run builds (documents by kind and name, selectors
//! by label): the multiply-rotate hash rustc uses internally. Not resistant to crafted
//! collisions, which cost time here, never correctness (every table lookup is followed by an
//! exact comparison). The same in every run, so nothing depends on a random seed.

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Hash state over a sequence of strings.
#[derive(Clone, Copy, Default)]
pub(crate) struct Fx(u64);

impl Fx {
    fn word(self, word: u64) -> Fx {
        Fx((self.0.rotate_left(5) ^ word).wrapping_mul(SEED))
    }

    /// Adds one string (its length too, so that `("ab", "c")` and `("a", "bc")` differ).
    pub(crate) fn str(self, s: &str) -> Fx {
        let mut h = self.word(s.len() as u64);
        let mut chunks = s.as_bytes().chunks_exact(8);
        for chunk in &mut chunks {
            h = h.word(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut last = [0u8; 8];
        let rest = chunks.remainder();
        last[..rest.len()].copy_from_slice(rest);
        h.word(u64::from_le_bytes(last))
    }

    pub(crate) fn finish(self) -> u64 {
        self.0
    }
}

/// The hash of two strings.
pub(crate) fn pair(a: &str, b: &str) -> u64 {
    Fx::default().str(a).str(b).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_the_parts() {
        assert_eq!(pair("Service", "web"), pair("Service", "web"));
        assert_ne!(pair("ab", "c"), pair("a", "bc"));
        assert_ne!(pair("Service", "web"), pair("Service", "web2"));
        assert_ne!(pair("", ""), pair("", "\0"));
        assert_ne!(pair("12345678", ""), pair("1234567", "8"));
    }
}
