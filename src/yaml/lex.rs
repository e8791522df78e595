//! The lexical pieces of YAML that the line scanners read without parsing: where a plain key
//! ends, where a quoted scalar or a single-line flow collection closes, what may end a line,
//! which bytes are indicators, block scalar headers and sequence entry dashes, and [`Scan`],
//! a scanner's three-way answer.
//!
//! Two scanners use them: the head scanner (the fields of a document the plan reads, and
//! the maps it reads without parsing) and the line scan that proves a document needs no
//! Go-compatibility pass. Both are conservative: whatever these functions do not follow
//! exactly is "not sure", and the caller parses instead. Where the two scanners read a piece
//! differently, there are two functions here, and their doc comments say which is whose.

/// What a line scanner read: something, certainly nothing, or "not sure" (parse instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan<T> {
    /// The scanner met something it does not read exactly: the parser decides.
    Unsure,
    /// Certainly absent (or null, or empty, as the scanner's doc comment says).
    Absent,
    /// Read, exactly as the parser would read it.
    Found(T),
}

impl<T> Scan<T> {
    /// `Found` for `Some`, `Absent` for `None`.
    #[inline]
    pub fn from_option(value: Option<T>) -> Scan<T> {
        match value {
            Some(value) => Scan::Found(value),
            None => Scan::Absent,
        }
    }

    /// `None` when unsure, else what was read: for `?` inside a scanner that gives up as a
    /// whole when one of its reads is unsure.
    #[inline]
    pub fn sure(self) -> Option<Option<T>> {
        match self {
            Scan::Unsure => None,
            Scan::Absent => Some(None),
            Scan::Found(value) => Some(Some(value)),
        }
    }

    #[inline]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Scan<U> {
        match self {
            Scan::Unsure => Scan::Unsure,
            Scan::Absent => Scan::Absent,
            Scan::Found(value) => Scan::Found(f(value)),
        }
    }
}

/// YAML's indicator characters (`c-indicator`): none of them can start a plain scalar the
/// scanners read.
#[inline]
pub(crate) fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Indicators neither scanner follows where they start a node: anchors `&`, aliases `*`,
/// tags `!`, explicit keys `?`, directives `%` and the reserved `@` and `` ` ``.
#[inline]
pub(crate) fn is_unfollowed(b: u8) -> bool {
    matches!(b, b'&' | b'*' | b'!' | b'?' | b'%' | b'@' | b'`')
}

/// Bytes that may start something other than a plain key or plain scalar (an indicator that
/// opens a construct, or a tab); a line without any holds nothing that can stay open.
#[inline]
pub(crate) fn is_special(b: u8) -> bool {
    SPECIAL[usize::from(b)]
}

/// [`is_special`] as a table (a `match` compiles to a jump per byte).
static SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let specials = b"\"'[]{}|>&*!?%@`,\t";
    let mut i = 0;
    while i < specials.len() {
        table[specials[i] as usize] = true;
        i += 1;
    }
    table
};

/// Nothing left on the line but spaces and a comment whose `#` follows a space (`"a"#b` is
/// no comment): what may follow a quoted scalar or a flow collection to the head scanner.
#[inline]
pub(crate) fn is_line_end(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || (t.starts_with('#') && t.len() < rest.len())
}

/// Spaces, then nothing or a `#`: an empty value (`key:` and a comment), or what the Go-safety
/// scan accepts after a node. Unlike [`is_line_end`], a `#` right after the node counts too.
#[inline]
pub(crate) fn is_blank_or_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

/// Where the `:` of a plain key is, if the line (from a plain scalar's first byte) is a
/// `key: …` or `key:` line: the first `: ` or a final `:`, before any ` #`. `Absent`: the line
/// is a plain scalar, no key. `Unsure` at a tab before either.
#[inline]
pub(crate) fn plain_key_end(content: &str) -> Scan<usize> {
    let bytes = content.as_bytes();
    for i in 0..bytes.len() {
        match bytes[i] {
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => return Scan::Found(i),
            b'#' if i > 0 && bytes[i - 1] == b' ' => return Scan::Absent,
            b'\t' => return Scan::Unsure,
            _ => {}
        }
    }
    Scan::Absent
}

/// The text of a one-line plain scalar (from its first byte): up to a comment (` #`), without
/// trailing spaces. `None` when it holds a `: ` or ends in `:` (not one plain scalar), or a tab.
#[inline]
pub(crate) fn one_line_plain(value: &str) -> Option<&str> {
    let bytes = value.as_bytes();
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'#' if i > 0 && bytes[i - 1] == b' ' => {
                end = i;
                break;
            }
            b':' if bytes.get(i + 1).is_none_or(|&next| next == b' ') => return None,
            b'\t' => return None,
            _ => {}
        }
    }
    Some(value[..end].trim_end_matches(' '))
}

/// The end (past the closing quote) of the quoted scalar `s` starts with, when it closes on
/// this line. Every escape is stepped over, valid or not (the text is not decoded).
#[inline]
pub(crate) fn quoted_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let quote = bytes[0];
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether `header` (from its `|` or `>`) is a block scalar header the scanners follow:
/// chomping indicators only (no indentation indicator), then the line's end ([`is_line_end`]).
#[inline]
pub(crate) fn is_block_header(header: &str) -> bool {
    let rest = header[1..].trim_start_matches(['-', '+']);
    !rest.starts_with(|c: char| c.is_ascii_digit()) && is_line_end(rest)
}

/// A line's content at column `col` past its sequence entry dashes (`- `, `- - `): the rest,
/// its column, and the column of the last dash (a block scalar after `- ` is indented more
/// than the dash; `col` when there is none). `None` for a lone `-` (an empty entry).
#[inline]
pub(crate) fn skip_entries(content: &str, col: usize) -> Option<(&str, usize, usize)> {
    let (mut rest, mut col, mut dash) = (content, col, col);
    loop {
        if rest == "-" {
            return None;
        }
        if !rest.starts_with("- ") {
            return Some((rest, col, dash));
        }
        dash = col;
        let after = rest[1..].trim_start_matches(' ');
        col += rest.len() - after.len();
        rest = after;
    }
}

/// The head scanner's flow collections: the length of the flow collection (`[…]`, `{…}`)
/// `s` starts with, when it closes on this line; `None` when unclosed, or at anything it does
/// not follow exactly: a quote that may not start a scalar (`[a"b]`), anchors, tags and the
/// other [`is_unfollowed`] indicators or a block indicator where a node starts, any `#`, tabs.
pub(crate) fn flow_end(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    // A node may start here (so a quote opens a quoted scalar).
    let mut node_start = true;
    let mut after_quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let was_quoted = std::mem::replace(&mut after_quoted, false);
        match b {
            b'[' | b'{' => {
                depth += 1;
                node_start = true;
            }
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
                node_start = false;
                after_quoted = true;
            }
            b',' => node_start = true,
            b' ' => {}
            b'"' | b'\'' => {
                if !node_start {
                    return None;
                }
                i += quoted_end(&s[i..])?;
                node_start = false;
                after_quoted = true;
                continue;
            }
            // `a: b`, and JSON's `"a":"b"`; a `:` inside a plain scalar (`a:b`) starts nothing.
            b':' => node_start = was_quoted || matches!(bytes.get(i + 1), None | Some(b' ')),
            b'\t' | b'#' => return None,
            b'|' | b'>' if node_start => return None,
            _ if node_start && is_unfollowed(b) => return None,
            _ => node_start = false,
        }
        i += 1;
    }
    None
}

/// The Go-safety scan's flow collections: the end of the flow collection `s` starts with,
/// when it closes on this line and `plain_ok` accepts every plain scalar in it (trimmed; an
/// empty one is not passed). Unlike [`flow_end`], a quote or `#` inside a plain scalar is part
/// of it (`plain_ok` judges), a `:` is a value indicator only before a space, `,`, `]`, `}` or
/// the end, and a comment (` #`) or a node that starts with an indicator (`-` only when not
/// followed by a letter or digit) is `None`.
pub(crate) fn flow_end_checking(s: &str, plain_ok: impl Fn(&str) -> bool) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    let mut plain_start: Option<usize> = None;
    let finish = |start: Option<usize>, end: usize| -> bool {
        match start {
            None => true,
            Some(a) => {
                let plain = s[a..end].trim_matches(' ');
                plain.is_empty() || plain_ok(plain)
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
            b'|' | b'>' | b':' | b'-' if plain_start.is_none() => {
                // `-` may start a number or a nested entry: only the first is followed.
                if b == b'-' && bytes.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
                    plain_start = Some(i);
                    i += 1;
                } else {
                    return None;
                }
            }
            _ if plain_start.is_none() && is_unfollowed(b) => return None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_key_ends() {
        assert_eq!(plain_key_end("a: b"), Scan::Found(1));
        assert_eq!(plain_key_end("a:"), Scan::Found(1));
        assert_eq!(plain_key_end("a:b # c: d"), Scan::Absent);
        assert_eq!(plain_key_end("a\t: b"), Scan::Unsure);
        assert_eq!(one_line_plain("a:b c  # d: e"), Some("a:b c"));
        assert_eq!(one_line_plain("a: b"), None);
        assert_eq!(one_line_plain("a:"), None);
    }

    #[test]
    fn quoted_ends_and_line_ends() {
        assert_eq!(quoted_end("'a''b' x"), Some(6));
        assert_eq!(quoted_end("\"a\\\"b\": x"), Some(6));
        assert_eq!(quoted_end("\"open"), None);
        assert!(is_line_end("  # c") && !is_line_end("# c") && is_blank_or_comment("# c"));
        assert!(is_block_header("|-  # c") && !is_block_header("|2") && !is_block_header(">x"));
    }

    #[test]
    fn entries_and_flow_collections() {
        assert_eq!(skip_entries("- - a: b", 2), Some(("a: b", 6, 4)));
        assert_eq!(skip_entries("a", 2), Some(("a", 2, 2)));
        assert_eq!(skip_entries("- -", 0), None);
        assert_eq!(flow_end("[a, {\"b\":c}] # x"), Some(12));
        assert_eq!(flow_end("[a\"b]"), None);
        assert_eq!(flow_end_checking("[a\"b]", |_| true), Some(5));
        assert_eq!(flow_end_checking("[a, b]", |p| p != "b"), None);
    }
}
