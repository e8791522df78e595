//! A line scan that proves, for most chart documents, that [`go_compatible`] has
//! nothing to do: no plain scalar that serde-saphyr reads differently from Go, and none of the
//! constructs it refuses. That pass runs the event parser over the whole document, a third of
//! the cost of parsing it; most documents need none of it.
//!
//! The scan is conservative: it answers `true` ("safe") only for block-style YAML it reads
//! line by line with certainty. Every plain scalar it meets (keys, values, sequence items,
//! single-line flow items) must read the same to both parsers; a tab, a byte order mark, a lone
//! CR, an anchor, alias or tag, an explicit key, a directive or document marker, a quoted
//! scalar or flow collection that does not close on its line, or a block scalar with an
//! indentation indicator sends the document to the full pass. Lines it cannot place (the
//! continuation of a multi-line plain scalar) are checked as if they were scalars too, which
//! can only make it answer "unsafe" more often. `tests/scanners.rs` checks the claim against
//! the full pass on every document of testdata/ and on traps inserted at every line.
//!
//! The lexical pieces it reads are those of [`lex`], shared with the head scanner.
//!
//! [`go_compatible`]: crate::yaml::go_compat::go_compatible

use crate::yaml::lex::{self, Scan};
use crate::yaml::scalar::{self, GoScalar};

/// Whether `text` certainly needs no Go-compatibility pass.
pub fn is_go_safe(text: &str) -> bool {
    if text.bytes().any(|b| b == b'\t' || b == b'\r') && !only_crlf_no_tab(text) {
        return false;
    }
    if text.contains('\u{feff}') {
        return false;
    }
    // Inside a block scalar: lines indented more than this are its content.
    let mut block: Option<usize> = None;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if let Some(parent) = block {
            if content.is_empty() || indent > parent {
                continue;
            }
            block = None;
        }
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if line.starts_with("---") || line.starts_with("...") || line.starts_with('%') {
            return false;
        }
        match check_line(content, indent) {
            Some(Line::Plain) => {}
            Some(Line::BlockScalar { parent }) => block = Some(parent),
            None => return false,
        }
    }
    true
}

/// A tab anywhere is left to the full pass; a CR only as part of CRLF.
fn only_crlf_no_tab(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.contains(&b'\t')
        && bytes
            .iter()
            .enumerate()
            .all(|(i, &b)| b != b'\r' || bytes.get(i + 1) == Some(&b'\n'))
}

enum Line {
    /// Every scalar on the line is safe.
    Plain,
    /// The line ends in a block scalar header; its content is indented more than `parent`.
    BlockScalar { parent: usize },
}

/// Checks one line with content, whose content starts at column `column`. `None`: unsafe, or
/// not read with certainty.
fn check_line(content: &str, column: usize) -> Option<Line> {
    // Sequence entries: `- `, `- - `.
    let Some((rest, column, _)) = lex::skip_entries(content, column) else {
        return Some(Line::Plain);
    };
    if lex::is_blank_or_comment(rest) {
        return Some(Line::Plain);
    }
    // The first node: a key, or a scalar / collection on its own.
    let (key_end, is_key) = match rest.as_bytes()[0] {
        b'[' | b'{' | b'|' | b'>' => (0, false),
        b if lex::is_unfollowed(b) => (0, false),
        b'"' | b'\'' => {
            let end = lex::quoted_end(rest)?;
            let after = rest[end..].trim_start_matches(' ');
            if after.is_empty() || after.starts_with('#') {
                return Some(Line::Plain);
            }
            if !(after == ":" || after.starts_with(": ")) {
                return None;
            }
            (rest.len() - after.len(), true)
        }
        // (No tab reaches here: `is_go_safe` declines them all.)
        _ => match lex::plain_key_end(rest) {
            Scan::Found(end) => {
                let key = rest[..end].trim_end_matches(' ');
                if !safe_key(key) {
                    return None;
                }
                (end, true)
            }
            Scan::Absent => (0, false),
            Scan::Unsure => return None,
        },
    };
    let value = if is_key {
        // Past the `:`.
        rest[key_end + 1..].trim_start_matches(' ')
    } else {
        rest
    };
    check_value(value, column)
}

/// A value after a key (or a node on its own line).
fn check_value(value: &str, column: usize) -> Option<Line> {
    let Some(&first) = value.as_bytes().first() else {
        return Some(Line::Plain);
    };
    match first {
        b'#' => Some(Line::Plain),
        b'"' | b'\'' => {
            let end = lex::quoted_end(value)?;
            lex::is_blank_or_comment(&value[end..]).then_some(Line::Plain)
        }
        b'|' | b'>' => lex::is_block_header(value).then_some(Line::BlockScalar { parent: column }),
        b'[' | b'{' => {
            // Every plain scalar in it must be safe both as a key and as a value, and free of
            // what Go reads differently in flow context (`?`, a leading `:`).
            let end = lex::flow_end_checking(value, |plain| {
                !plain.contains(['?', ':']) && safe_key(plain) && safe_value(plain)
            })?;
            lex::is_blank_or_comment(&value[end..]).then_some(Line::Plain)
        }
        // Anchors, aliases, tags, explicit keys, reserved indicators and a nested `- ` are left
        // to the full pass.
        b'-' if value.len() == 1 || value[1..].starts_with(' ') => None,
        b',' | b']' | b'}' => None,
        b if lex::is_unfollowed(b) => None,
        _ => {
            let plain = lex::one_line_plain(value)?;
            safe_value(plain).then_some(Line::Plain)
        }
    }
}

/// A plain key Go reads as the same string.
fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && !key.contains(['\'', '"'])
        && scalar::resolve(key) == GoScalar::Str
        && !starts_with_indicator(key)
}

/// A plain value both parsers read the same way.
fn safe_value(plain: &str) -> bool {
    if plain.is_empty() || starts_with_indicator(plain) {
        return false;
    }
    if scalar::value_spelling(plain).is_none() {
        return true;
    }
    // The full pass respells these too, though both parsers agree on them:
    let bytes = plain.as_bytes();
    let first = bytes[0];
    // `100m`, `256Mi`, `25%`, a checksum, `-c`, `--flag`: text to Go, and no number to
    // serde-saphyr: numbers are spelt with digits, signs, `.`, `_`, `:` and `e` (and `x` and
    // hex digits after `0x`, excluded here), and `inf`/`nan` are kept away.
    let numeric = |b: u8| b.is_ascii_digit() || b"._+-:eE".contains(&b);
    let text_only = scalar::resolve(plain) == GoScalar::Str
        && !plain.contains(['x', 'X'])
        && bytes.iter().any(|&b| !numeric(b))
        && !["inf", "nan"]
            .iter()
            .any(|w| plain.to_ascii_lowercase().contains(w));
    if text_only
        && (first.is_ascii_digit()
            || (matches!(first, b'-' | b'+')
                && bytes
                    .get(1)
                    .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'-')))
    {
        return true;
    }
    // `0644`: the octal number 420 to Go and to serde-saphyr with `legacy_octal_numbers`.
    first == b'0' && plain.len() > 1 && plain.bytes().all(|b| (b'0'..=b'7').contains(&b))
}

/// Starts with an indicator other than `-` (which may start a number).
fn starts_with_indicator(plain: &str) -> bool {
    plain
        .as_bytes()
        .first()
        .is_some_and(|&b| b != b'-' && lex::is_indicator(b))
}
