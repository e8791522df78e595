//! Finding line starts fast: the one byte loop every scanner of this crate runs over the input.
//!
//! Most of a chart is lines the scanners do not look at (indented content, block scalars, long
//! JSON values). Instead of visiting every line, they ask for the next line whose first byte
//! passes a test (`-` for document markers, "not a space" for top-level keys). The search
//! compares 64 bytes at a time with branch-free code the compiler turns into vector
//! instructions (no `unsafe`, no dependency), and only looks closer at a block that holds a hit.

/// Bytes compared per step.
const BLOCK: usize = 64;

/// The first position `p > from` such that `bytes[p - 1] == b'\n'` and `first(bytes[p])`, i.e.
/// the start of the next line (after the one containing `from`… or starting at `from + 1`)
/// whose first byte passes `first`. A line start at `from` itself is not reported.
#[inline]
pub(crate) fn next_line_start(
    bytes: &[u8],
    from: usize,
    first: impl Fn(u8) -> bool + Copy,
) -> Option<usize> {
    let mut i = from;
    while i + BLOCK < bytes.len() {
        let a: &[u8; BLOCK] = bytes[i..i + BLOCK].try_into().expect("BLOCK bytes");
        let b: &[u8; BLOCK] = bytes[i + 1..i + 1 + BLOCK].try_into().expect("BLOCK bytes");
        let mut any = 0u8;
        for j in 0..BLOCK {
            any |= u8::from(a[j] == b'\n') & u8::from(first(b[j]));
        }
        if any != 0 {
            for j in 0..BLOCK {
                if a[j] == b'\n' && first(b[j]) {
                    return Some(i + j + 1);
                }
            }
        }
        i += BLOCK;
    }
    while i + 1 < bytes.len() {
        if bytes[i] == b'\n' && first(bytes[i + 1]) {
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// One past the end of the line starting at or containing `from` (after its `\n`), or the end
/// of `bytes`.
#[inline]
pub(crate) fn line_end(bytes: &[u8], from: usize) -> usize {
    match next_newline(&bytes[from..]) {
        Some(i) => from + i + 1,
        None => bytes.len(),
    }
}

/// Position of the first `\n`.
#[inline]
pub(crate) fn next_newline(bytes: &[u8]) -> Option<usize> {
    // Most lines are short: eight bytes at a time first (the classic "has a zero byte" test on
    // the word XOR newlines; its lowest flagged byte is always a real match), then whole blocks.
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const NEWLINES: u64 = LO * b'\n' as u64;
    let mut i = 0;
    while i + 8 <= bytes.len() && i < 64 {
        let word = u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes")) ^ NEWLINES;
        let zero = word.wrapping_sub(LO) & !word & HI;
        if zero != 0 {
            return Some(i + (zero.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    while i + BLOCK <= bytes.len() {
        let a: &[u8; BLOCK] = bytes[i..i + BLOCK].try_into().expect("BLOCK bytes");
        let mut any = 0u8;
        for b in a {
            any |= u8::from(*b == b'\n');
        }
        if any != 0 {
            break;
        }
        i += BLOCK;
    }
    bytes[i..].iter().position(|&b| b == b'\n').map(|p| i + p)
}

/// Whether `byte` occurs in `bytes`.
pub(crate) fn contains(bytes: &[u8], byte: u8) -> bool {
    let mut chunks = bytes.chunks_exact(BLOCK);
    for chunk in &mut chunks {
        let mut any = 0u8;
        for b in chunk {
            any |= u8::from(*b == byte);
        }
        if any != 0 {
            return true;
        }
    }
    chunks.remainder().contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The obvious implementation, as the reference.
    fn slow(bytes: &[u8], from: usize, first: impl Fn(u8) -> bool) -> Option<usize> {
        (from + 1..bytes.len()).find(|&p| bytes[p - 1] == b'\n' && first(bytes[p]))
    }

    #[test]
    fn agrees_with_the_obvious_loop() {
        // Lines of every length around the block size, so hits land at every offset.
        let mut text = Vec::new();
        for n in 0..200usize {
            text.extend(std::iter::repeat_n(b' ', n % 7));
            text.extend(std::iter::repeat_n(b'x', n % 131));
            if n % 5 == 0 {
                text.push(b'-');
            }
            text.push(b'\n');
        }
        for from in 0..text.len() {
            for first in [|b: u8| b == b'-', |b: u8| b != b' ', |b: u8| b == b'x'] {
                assert_eq!(
                    next_line_start(&text, from, first),
                    slow(&text, from, first),
                    "from {from}"
                );
            }
            assert_eq!(
                next_newline(&text[from..]),
                text[from..].iter().position(|&b| b == b'\n')
            );
            assert_eq!(contains(&text[from..], b'-'), text[from..].contains(&b'-'));
        }
        assert_eq!(next_line_start(b"", 0, |_| true), None);
        assert_eq!(line_end(b"ab\ncd", 0), 3);
        assert_eq!(line_end(b"ab\ncd", 3), 5);
    }
}
