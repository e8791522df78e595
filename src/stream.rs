//! The YAML stream as byte ranges: hop 1 (split) and the byte-level half of hop 3 (join).
//!
//! A document starts at a line that begins at column 0 with `---` followed by the end of the
//! line, a space or a tab (`\r\n` accepted, a UTF-8 BOM skipped on the first line). Each
//! document's range runs from its marker line to the next marker line; the first range also
//! holds whatever precedes the first marker. Concatenating the ranges gives the input back byte
//! for byte, which is what lets untouched documents pass through unchanged.
//! See `reference/yaml-fidelity.md` §3 for why this rule and not Helm's or kubectl's.

use std::ops::Range;

/// One document of the stream, as offsets into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDoc {
    /// First byte of the document, marker line included.
    pub start: usize,
    /// First byte of the YAML body: after the `---` line, or `start` when the marker line
    /// carries content (`--- |`, `--- {…}`) or there is no marker.
    pub body_start: usize,
    /// One past the last byte (the next document's `start`).
    pub end: usize,
}

impl RawDoc {
    /// The whole document, marker line included.
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The YAML body, without the marker line.
    pub fn body(&self) -> Range<usize> {
        self.body_start..self.end
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// `Some(tail_has_content)` if `line` (without its line break) is a document-start marker.
fn marker(line: &[u8]) -> Option<bool> {
    let rest = line.strip_prefix(b"---")?;
    match rest.first() {
        None => Some(false),
        Some(b' ' | b'\t') => Some(
            rest.iter()
                .find(|b| !matches!(b, b' ' | b'\t'))
                .is_some_and(|b| *b != b'#'),
        ),
        // `----`, `---x`: content (a continuation line), not a marker.
        _ => None,
    }
}

/// Splits `input` into documents. Never fails: deciding what a document means is the parser's job.
pub fn split(input: &[u8]) -> Vec<RawDoc> {
    let mut docs = Vec::new();
    let mut current = RawDoc {
        start: 0,
        body_start: 0,
        end: 0,
    };
    let mut pos = 0;
    while pos < input.len() {
        let next = match memchr_newline(&input[pos..]) {
            Some(i) => pos + i + 1,
            None => input.len(),
        };
        // Only lines starting with `-` (or the BOM on line 1) can be markers.
        let first = input[pos];
        if first == b'-' || (pos == 0 && first == BOM[0]) {
            let mut line = &input[pos..next];
            line = line.strip_suffix(b"\n").unwrap_or(line);
            line = line.strip_suffix(b"\r").unwrap_or(line);
            if pos == 0 {
                line = line.strip_prefix(BOM).unwrap_or(line);
            }
            if let Some(tail) = marker(line) {
                if pos > current.start {
                    current.end = pos;
                    docs.push(current);
                }
                current = RawDoc {
                    start: pos,
                    body_start: if tail { pos } else { next },
                    end: next,
                };
            }
        }
        pos = next;
    }
    if pos > current.start {
        current.end = pos;
        docs.push(current);
    }
    docs
}

/// Position of the first `\n` in `bytes`.
fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Whether the bytes written so far end a line, so that a new `---` marker can follow.
pub fn ends_with_newline(out: &[u8]) -> bool {
    out.is_empty() || out.ends_with(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(input: &str) -> Vec<&str> {
        split(input.as_bytes())
            .iter()
            .map(|d| &input[d.range()])
            .collect()
    }

    fn bodies(input: &str) -> Vec<&str> {
        split(input.as_bytes())
            .iter()
            .map(|d| &input[d.body()])
            .collect()
    }

    #[test]
    fn concatenation_is_identity() {
        for input in [
            "",
            "\n\n",
            "a: 1\n",
            "---\na: 1\n---\nb: 2",
            "\u{feff}---\r\nkind: A\r\n---\r\nkind: B\r\n",
            "# header\n---\nkind: A\n...\n---\n",
            "--- |\n  root\n--- {kind: B}\n",
        ] {
            assert_eq!(pieces(input).concat(), input, "{input:?}");
        }
    }

    #[test]
    fn markers() {
        assert_eq!(
            pieces("---\n# Source: a\nkind: A\n---\nkind: B\n"),
            ["---\n# Source: a\nkind: A\n", "---\nkind: B\n"]
        );
        assert_eq!(
            pieces("kind: A\n---\nkind: B\n"),
            ["kind: A\n", "---\nkind: B\n"]
        );
        assert_eq!(
            pieces("--- # first\nkind: A\n---\t# tab\nkind: B\n"),
            ["--- # first\nkind: A\n", "---\t# tab\nkind: B\n"]
        );
        assert_eq!(pieces("kind: A\n---   \nkind: B\n").len(), 2);
        assert_eq!(pieces("kind: A\r\n---\r\nkind: B\r\n").len(), 2);
        assert_eq!(pieces("\u{feff}---\nkind: A\n---\nkind: B\n").len(), 2);
    }

    #[test]
    fn not_markers() {
        // Continuation of a double-quoted scalar, a flow sequence, indented dashes in a block scalar.
        assert_eq!(pieces("a: \"x\n---y\"\n---\nkind: B\n").len(), 2);
        assert_eq!(pieces("[a,\n----b]\n---\nkind: B\n").len(), 2);
        assert_eq!(
            pieces("data:\n  f: |\n    ---\n    x: 1\n---\nkind: B\n").len(),
            2
        );
    }

    #[test]
    fn body_excludes_marker_line_unless_it_has_content() {
        assert_eq!(
            bodies("---\nkind: A\n--- |\n  x\n"),
            ["kind: A\n", "--- |\n  x\n"]
        );
        assert_eq!(bodies("kind: A\n"), ["kind: A\n"]);
        assert_eq!(bodies("a\n---"), ["a\n", ""]);
    }
}
