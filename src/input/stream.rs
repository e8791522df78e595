//! The YAML stream as byte ranges: hop 1 (split) and the byte-level half of hop 3 (join).
//!
//! A document starts at a line that begins at column 0 with `---` followed by the end of the
//! line, a space or a tab (`\r\n` accepted, a UTF-8 BOM skipped on the first line). Each
//! document's range runs from its marker line to the next marker line; the first range also
//! holds whatever precedes the first marker. Concatenating the ranges gives the input back byte
//! for byte, which is what lets untouched documents pass through unchanged.
//! See `docs/yaml-fidelity.md` §3 for why this rule and not Helm's or kubectl's.

use std::ops::Range;

use crate::input::lines;

/// One document of the stream, as offsets into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawDoc {
    /// First byte of the document, marker line included.
    pub(crate) start: usize,
    /// First byte of the YAML body: after the `---` line, or `start` when the marker line
    /// carries content (`--- |`, `--- {…}`) or there is no marker.
    pub(crate) body_start: usize,
    /// One past the last byte (the next document's `start`).
    pub(crate) end: usize,
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
///
/// Only lines that start with `-` (or the first line, which may start with a BOM) can be
/// markers, so the search jumps from one such line to the next instead of visiting every line.
pub fn split(input: &[u8]) -> Vec<RawDoc> {
    let mut docs = Vec::new();
    let mut current = RawDoc {
        start: 0,
        body_start: 0,
        end: 0,
    };
    let mut candidate = (!input.is_empty()).then_some(0);
    while let Some(pos) = candidate {
        let next = lines::line_end(input, pos);
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
        candidate = lines::next_line_start(input, pos, |b| b == b'-');
    }
    if input.len() > current.start {
        current.end = input.len();
        docs.push(current);
    }
    docs
}

/// Whether the bytes written so far end a line, so that a new `---` marker can follow.
pub(crate) fn ends_with_newline(out: &[u8]) -> bool {
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

    /// The line-by-line splitter this module started with: every line is looked at.
    fn split_line_by_line(input: &[u8]) -> Vec<RawDoc> {
        let mut docs = Vec::new();
        let mut current = RawDoc {
            start: 0,
            body_start: 0,
            end: 0,
        };
        let mut pos = 0;
        while pos < input.len() {
            let next = match input[pos..].iter().position(|&b| b == b'\n') {
                Some(i) => pos + i + 1,
                None => input.len(),
            };
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
            pos = next;
        }
        if pos > current.start {
            current.end = pos;
            docs.push(current);
        }
        docs
    }

    /// Every stream of the corpus and the cases, and cut-off prefixes of them.
    fn sample_streams() -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    files.push(std::fs::read(path).unwrap());
                }
            }
        }
        assert!(files.len() > 40, "the corpus and the cases are there");
        files
    }

    #[test]
    fn agrees_with_the_line_by_line_splitter() {
        let mut inputs = sample_streams();
        for extra in [
            "---",
            "---\r",
            "-",
            "\u{feff}---\n",
            "\u{feff}",
            "a\n-\n--\n---x\n--- x\n---\t\n---\r\n---\rx\n",
            "--- # c\n- a\n- b\n---\n---\n",
        ] {
            inputs.push(extra.as_bytes().to_vec());
        }
        for input in &inputs {
            for cut in [input.len(), input.len() / 2, input.len().saturating_sub(1)] {
                let input = &input[..cut];
                assert_eq!(split(input), split_line_by_line(input));
            }
        }
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
