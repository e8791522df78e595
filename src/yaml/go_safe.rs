//! A line scan that proves, for most chart documents, that [`resolve::go_compatible`] has
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
//! [`resolve::go_compatible`]: crate::yaml::resolve::go_compatible

use crate::yaml::resolve;

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
fn check_line(mut rest: &str, mut column: usize) -> Option<Line> {
    // Sequence entries: `- `, `- - `.
    loop {
        if rest == "-" {
            return Some(Line::Plain);
        }
        match rest.strip_prefix("- ") {
            Some(after) => {
                let after_spaces = after.trim_start_matches(' ');
                column += rest.len() - after_spaces.len();
                rest = after_spaces;
            }
            None => break,
        }
    }
    if rest.is_empty() || rest.starts_with('#') {
        return Some(Line::Plain);
    }
    // The first node: a key, or a scalar / collection on its own.
    let (key_end, is_key) = match rest.as_bytes()[0] {
        b'[' | b'{' | b'|' | b'>' | b'&' | b'*' | b'!' | b'?' | b'%' | b'@' | b'`' => (0, false),
        b'"' | b'\'' => {
            let end = quoted_end(rest)?;
            let after = rest[end..].trim_start_matches(' ');
            if after.is_empty() || after.starts_with('#') {
                return Some(Line::Plain);
            }
            if !(after == ":" || after.starts_with(": ")) {
                return None;
            }
            (rest.len() - after.len(), true)
        }
        _ => match plain_key_end(rest) {
            Some(end) => {
                let key = rest[..end].trim_end_matches(' ');
                if !safe_key(key) {
                    return None;
                }
                (end, true)
            }
            None => (0, false),
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

/// Where a plain key ends (at its `:`), if the line starts with one: the first `: ` or a `:` at
/// the end, before any ` #`.
fn plain_key_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            b':' if bytes.get(i + 1).is_none_or(|&b| b == b' ') => return Some(i),
            _ => {}
        }
    }
    None
}

/// A value after a key (or a node on its own line).
fn check_value(value: &str, column: usize) -> Option<Line> {
    let Some(&first) = value.as_bytes().first() else {
        return Some(Line::Plain);
    };
    match first {
        b'#' => Some(Line::Plain),
        b'"' | b'\'' => {
            let end = quoted_end(value)?;
            trailing_ok(&value[end..]).then_some(Line::Plain)
        }
        b'|' | b'>' => {
            let header = value[1..].split(" #").next().unwrap_or_default().trim_end();
            header
                .bytes()
                .all(|b| b == b'+' || b == b'-')
                .then_some(Line::BlockScalar { parent: column })
        }
        b'[' | b'{' => {
            let end = check_flow(value)?;
            trailing_ok(&value[end..]).then_some(Line::Plain)
        }
        // Anchors, aliases, tags, explicit keys, reserved indicators and a nested `- ` are left
        // to the full pass.
        b'-' if value.len() == 1 || value[1..].starts_with(' ') => None,
        b'&' | b'*' | b'!' | b'?' | b'%' | b'@' | b'`' | b',' | b']' | b'}' => None,
        _ => {
            let plain = value
                .split(" #")
                .next()
                .unwrap_or_default()
                .trim_end_matches(' ');
            if plain.contains(": ") || plain.ends_with(':') {
                return None;
            }
            safe_value(plain).then_some(Line::Plain)
        }
    }
}

/// Only spaces or a comment after a node.
fn trailing_ok(rest: &str) -> bool {
    let rest = rest.trim_start_matches(' ');
    rest.is_empty() || rest.starts_with('#')
}

/// The end (past the closing quote) of a quoted scalar that closes on this line.
fn quoted_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let quote = bytes[0];
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Checks a flow collection that closes on this line; returns its end. Every plain scalar in
/// it must be safe both as a key and as a value, and free of what Go reads differently in flow
/// context (`?`, a leading `:`).
fn check_flow(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut plain_start: Option<usize> = None;
    let finish = |start: Option<usize>, end: usize| -> bool {
        match start {
            None => true,
            Some(a) => {
                let plain = s[a..end].trim_matches(' ');
                plain.is_empty()
                    || (!plain.contains(['?', ':']) && safe_key(plain) && safe_value(plain))
            }
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'[' | b'{' => {
                if plain_start.is_some() {
                    return None;
                }
                depth += 1;
                i += 1;
            }
            b']' | b'}' | b',' => {
                if !finish(plain_start.take(), i) {
                    return None;
                }
                if b != b',' {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                i += 1;
            }
            b':' if bytes
                .get(i + 1)
                .is_none_or(|&c| matches!(c, b' ' | b',' | b']' | b'}')) =>
            {
                if !finish(plain_start.take(), i) {
                    return None;
                }
                i += 1;
            }
            b' ' => i += 1,
            b'"' | b'\'' if plain_start.is_none() => i += quoted_end(&s[i..])?,
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            b'&' | b'*' | b'!' | b'?' | b'%' | b'@' | b'`' | b'|' | b'>' | b':' | b'-'
                if plain_start.is_none() =>
            {
                // Indicators (and `-`, which may start a number or a nested entry) are left to
                // the full pass when they start a node.
                if b == b'-' && bytes.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
                    plain_start = Some(i);
                    i += 1;
                } else {
                    return None;
                }
            }
            _ => {
                if plain_start.is_none() {
                    plain_start = Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// A plain key Go reads as the same string.
fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && !key.contains(['\'', '"'])
        && resolve::resolve(key) == resolve::GoScalar::Str
        && !starts_with_indicator(key)
}

/// A plain value both parsers read the same way.
fn safe_value(plain: &str) -> bool {
    if plain.is_empty() || starts_with_indicator(plain) {
        return false;
    }
    if resolve::value_spelling(plain).is_none() {
        return true;
    }
    // The full pass respells these too, though both parsers agree on them:
    let bytes = plain.as_bytes();
    let first = bytes[0];
    // `100m`, `256Mi`, `25%`, a checksum, `-c`, `--flag`: text to Go, and no number to
    // serde-saphyr: numbers are spelt with digits, signs, `.`, `_`, `:` and `e` (and `x` and
    // hex digits after `0x`, excluded here), and `inf`/`nan` are kept away.
    let numeric = |b: u8| b.is_ascii_digit() || b"._+-:eE".contains(&b);
    let text_only = resolve::resolve(plain) == resolve::GoScalar::Str
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

fn starts_with_indicator(plain: &str) -> bool {
    plain.starts_with([
        '&', '*', '!', '?', '%', '@', '`', '|', '>', '[', '{', ']', '}', ',', '#', '"', '\'',
    ]) || plain.starts_with(':')
}
