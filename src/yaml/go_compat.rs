//! The rewrite that makes serde-saphyr read a document as Kubernetes' Go YAML 1.1 reader does,
//! by the scalar rules of `scalar`, and the constructs it refuses instead:
//! - tabs: Go rejects a tab in indentation, YAML 1.2 parsers take it as white space in places;
//!   such a document is refused;
//! - a byte order mark at the start of a later line: readers disagree; refused;
//! - flow collections: Go ends a plain scalar at `?` (`{name: a?b}` is an error to Go) and lets
//!   a tag without a value run on over `,]}` (`[!x, y]` is one item to Go); YAML 1.2 parsers do
//!   neither. Such a document is refused.
//!
//! So before serde-saphyr reads a document, every plain scalar whose meaning could differ is
//! replaced, in a copy of the text used only for parsing, by a spelling with one meaning: a
//! quoted string, a decimal number, `true`/`false`/`null`. Output is never produced from this
//! copy; untouched bytes stay untouched. Most documents need none of it, which the line scan
//! of `go_safe` proves first.

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle, options};

use crate::yaml::go_safe;
use crate::yaml::scalar::{key_string, quoted, value_spelling};

/// Why a document is refused: what Kubernetes cannot read or readers disagree about, at a
/// byte offset of the document's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) offset: usize,
    pub(crate) message: String,
}

impl Refusal {
    fn new(offset: usize, message: String) -> Refusal {
        Refusal { offset, message }
    }
}

/// A copy of `text` in which every plain scalar serde-saphyr could read differently from Go
/// has a spelling with one meaning, or `None` when no scalar needs it. A [`Refusal`] for what
/// Kubernetes cannot read or readers disagree about: a null key, a `?` in a plain scalar or a
/// valueless tag in a flow collection, a `...` before the content. Text the event parser
/// rejects is returned as is: the real parse reports the error.
pub(crate) fn go_compatible(text: &str) -> Result<Option<String>, Refusal> {
    // Most documents need nothing: a line scan proves it for them, at a fraction of the cost.
    if go_safe::is_go_safe(text) {
        return Ok(None);
    }
    go_compatible_full(text)
}

/// [`go_compatible`] without the line scan that proves most documents need nothing: the event
/// parser's pass over every document.
pub(crate) fn go_compatible_full(text: &str) -> Result<Option<String>, Refusal> {
    /// What the next node in a collection is.
    #[derive(Clone, Copy, PartialEq)]
    enum Slot {
        Key,
        Value,
        Item,
    }
    let mut stack: Vec<Slot> = Vec::new();
    // The collections' styles, and how many of them are flow collections.
    let mut styles: Vec<StructureStyle> = Vec::new();
    let mut flow = 0usize;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    // The slot the next node fills, and the parent's next slot after it.
    let advance = |stack: &mut Vec<Slot>| -> Option<Slot> {
        let top = stack.last_mut()?;
        let slot = *top;
        *top = match slot {
            Slot::Key => Slot::Value,
            Slot::Value => Slot::Key,
            Slot::Item => Slot::Item,
        };
        Some(slot)
    };
    let mut started = false;
    // Where tabs are not indentation: flow collections and quoted scalars (lines after their
    // first); and block scalars, whose indentation has rules of its own.
    let mut free: Vec<(usize, usize)> = Vec::new();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut flow_start = 0usize;
    let events = options! { emit_anchor_events: true };
    for item in Parser::new_from_str_with_options(text, events) {
        let Ok((event, span)) = item else {
            return Ok(None);
        };
        match event {
            // go-yaml's anchor and alias names are letters, digits, `_` and `-`; a YAML 1.2
            // name may hold more (`&value:` is the anchor `value:` to us, `value` and a
            // colon to Go).
            Event::Anchor(..) | Event::Alias(..)
                if span.slice(text).is_some_and(|token| {
                    !token[1..]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                }) =>
            {
                return Err(Refusal::new(
                    span.start.byte_offset().unwrap_or(0),
                    "an anchor or alias name with characters Kubernetes' YAML parser does not allow in one (letters, digits, `_` and `-` only)".into(),
                ));
            }
            Event::DocumentStart(..) if !started => {
                started = true;
                if let Some(at) = span
                    .start
                    .byte_offset()
                    .and_then(|d| end_marker_before(text, d))
                {
                    return Err(Refusal::new(
                        at,
                        "a `...` document end marker before the document's content, which readers disagree about (kubectl reads an empty first document, Helm 4 the content after it); remove the `...`".into(),
                    ));
                }
            }
            Event::Scalar(value, style, _, tag) => {
                let slot = advance(&mut stack);
                // A key split over lines (`{a⏎b: 1}`): go-yaml never reads one, serde-saphyr
                // does in a flow collection.
                if slot == Some(Slot::Key)
                    && let (Some(a), Some(b)) = (span.start.byte_offset(), span.end.byte_offset())
                    && text.get(a..b).is_some_and(|k| k.contains('\n'))
                {
                    return Err(Refusal::new(
                        a,
                        "a mapping key that runs over more than one line, which Kubernetes' YAML parser cannot read".into(),
                    ));
                }
                if let (Some(a), Some(b)) = (span.start.byte_offset(), span.end.byte_offset()) {
                    match style {
                        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => free.push((a, b)),
                        ScalarStyle::Literal | ScalarStyle::Folded => blocks.push((a, b)),
                        _ => {}
                    }
                }
                // go-yaml (YAML 1.1) lets a tag run on over `,]}` in a flow collection, so
                // `[!x, y]` is one item to Kubernetes and two to us, `[!x]` an error.
                if flow > 0 && tag.is_some() && value.is_empty() && style == ScalarStyle::Plain {
                    return Err(Refusal::new(
                        span.start.byte_offset().unwrap_or(0),
                        "a tag (`!…`) without a value inside a flow collection, which Kubernetes' YAML parser reads differently; give it a value or drop the tag".into(),
                    ));
                }
                let custom_tag = tag.as_ref().is_some_and(|t| {
                    t.core_suffix().is_none() && !(t.handle() == "!" && t.suffix().is_empty())
                });
                if style != ScalarStyle::Plain || (tag.is_some() && !custom_tag) {
                    continue;
                }
                let (Some(start), Some(end)) = (span.start.byte_offset(), span.end.byte_offset())
                else {
                    return Ok(None);
                };
                // A tag go-yaml does not know (`!foo 12`, `!app`) leaves the scalar a string, its
                // text; serde-saphyr resolves it as if untagged (12, null).
                if custom_tag {
                    if slot != Some(Slot::Key) {
                        if value.is_empty() {
                            edits.push((start, start, " \"\"".into()));
                        } else if end <= text.len() && text[start..end] == *value {
                            edits.push((start, end, quoted(&value)));
                        }
                    }
                    continue;
                }
                // go-yaml (libyaml's YAML 1.1 scanner) ends a plain scalar at `?` inside a flow
                // collection, where YAML 1.2 parsers read on: `{name: a?b}` is an error to
                // Kubernetes and a name to us. Refuse it rather than read something else.
                if flow > 0 && (value.contains('?') || value.starts_with(':')) {
                    // The value is not quoted: it could be a password.
                    return Err(Refusal::new(
                        start,
                        format!(
                            "an unquoted value {} inside a flow collection ({{…}} or […]), which Kubernetes' YAML parser cannot read; quote it",
                            if value.starts_with(':') {
                                "that starts with `:`"
                            } else {
                                "with a `?`"
                            }
                        ),
                    ));
                }
                // Multi-line plain scalars fold to text with spaces: strings to both parsers.
                if end > text.len() || text[start..end] != *value || value.contains('\n') {
                    continue;
                }
                let replacement = match slot {
                    Some(Slot::Key) => {
                        let key = key_string(&value).map_err(|m| Refusal::new(start, m))?;
                        (key != value).then(|| quoted(&key))
                    }
                    _ => value_spelling(&value),
                };
                if let Some(r) = replacement {
                    edits.push((start, end, r));
                }
            }
            Event::SequenceStart(style, ..) | Event::MappingStart(style, ..) => {
                advance(&mut stack);
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Slot::Item
                } else {
                    Slot::Key
                });
                styles.push(style);
                if style == StructureStyle::Flow {
                    if flow == 0 {
                        flow_start = span.start.byte_offset().unwrap_or(0);
                    }
                    flow += 1;
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
                if styles.pop() == Some(StructureStyle::Flow) {
                    flow -= 1;
                    if flow == 0 {
                        free.push((flow_start, span.end.byte_offset().unwrap_or(text.len())));
                    }
                }
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) => {
                advance(&mut stack);
            }
            _ => {}
        }
    }
    if let Some(at) = misplaced_tab(text, &free, &blocks) {
        return Err(Refusal::new(
            at,
            "a tab where Kubernetes' YAML parser expects indentation (YAML indents with spaces only); replace it with spaces".into(),
        ));
    }
    // `---x` (a line that starts with `---` but is no document marker, such as the
    // continuation of a quoted scalar): kubectl rejects the stream, Helm cuts the document there.
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        if body.len() > 3 && body.starts_with("---") && !body[3..].starts_with([' ', '\t']) {
            return Err(Refusal::new(
                at,
                "a line that starts with `---` but is no document marker, which kubectl rejects and Helm splits the document at; indent or quote it".into(),
            ));
        }
        at += line.len();
    }
    // A byte order mark starts the stream or nothing: on a later line, go-yaml and YAML 1.2
    // parsers disagree about what follows (`\u{feff}---` starts a document to one, is text to
    // the other).
    // (The caller has stripped the one the text may start with.)
    let bom = if text.starts_with('\u{feff}') {
        Some(0)
    } else {
        text.find("\n\u{feff}").map(|at| at + 1)
    };
    if let Some(at) = bom {
        return Err(Refusal::new(
            at,
            "a byte order mark (U+FEFF) at the start of a line inside the stream, which YAML readers disagree about; remove it".into(),
        ));
    }
    if edits.is_empty() {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, replacement) in edits {
        out.push_str(&text[at..start]);
        out.push_str(&replacement);
        at = end;
    }
    out.push_str(&text[at..]);
    Ok(Some(out))
}

/// The offset of a tab that go-yaml (libyaml's scanner) rejects and YAML 1.2 parsers take as
/// white space: in the indentation of a block-context line with content (`\ta: 1`,
/// `  \tb: 2`, `-\tc`), at the start of any block-context line (`\t# c`), and in a block
/// scalar's indentation (`|` then ` \tx`). `free` ranges (flow collections, quoted scalars)
/// allow tabs on their continuation lines; `blocks` are block scalars' content.
fn misplaced_tab(text: &str, free: &[(usize, usize)], blocks: &[(usize, usize)]) -> Option<usize> {
    if !text.contains('\t') {
        return None;
    }
    let line_start = |at: usize| text[..at].rfind('\n').map_or(0, |i| i + 1);
    let mut skip: Vec<(usize, usize)> = free.iter().map(|&(a, b)| (a + 1, b)).collect();
    for &(a, b) in blocks {
        let a = a.min(text.len());
        let first = line_start(a);
        let header = &text[line_start(first.saturating_sub(1))..first];
        skip.push((first, b));
        // An explicit indentation indicator (`|2`) sets the indentation; not checked here.
        let indicator = header.trim_end().trim_end_matches(['+', '-']);
        if indicator.ends_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        // The first content line fixes the indentation: the spaces before its content.
        if text.as_bytes().get(a) == Some(&b'\t') {
            return Some(a);
        }
        let indent = a - first;
        let mut at = first;
        for line in text[first..b.min(text.len())].split_inclusive('\n') {
            if let Some(i) = line.bytes().take(indent).position(|c| c == b'\t') {
                return Some(at + i);
            }
            at += line.len();
        }
    }
    let mut at = 0;
    // Indentation of the last line with content: a tab on a blank or comment line left of it
    // "violates indentation" to Go.
    let mut content_indent = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        if skip.iter().any(|&(a, b)| start >= a && start < b) {
            continue;
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if line.starts_with('\t') {
            return Some(start);
        }
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let rest = &line[indent..];
        if rest.is_empty() || rest.starts_with('#') {
            if let Some(i) = line[..indent.min(content_indent)].find('\t') {
                return Some(start + i);
            }
        } else if !line[..indent].contains('\t') {
            content_indent = indent;
        }

        // Indentation, then any `- ` indicators with the white space after each.
        let (mut white, mut rest) = line.split_at(indent);
        loop {
            if let Some(i) = white.find('\t')
                && !rest.is_empty()
                && !rest.starts_with('#')
            {
                return Some(start + line.len() - rest.len() - white.len() + i);
            }
            match rest.strip_prefix('-') {
                Some(after) if after.starts_with([' ', '\t']) => {
                    let n = after.len() - after.trim_start_matches([' ', '\t']).len();
                    (white, rest) = after.split_at(n);
                }
                _ => break,
            }
        }
    }
    None
}

/// The offset of a `...` line before `end`, if any (before a document's first content, only
/// blank and comment lines can precede it).
fn end_marker_before(text: &str, end: usize) -> Option<usize> {
    let mut at = 0;
    for line in text[..end.min(text.len())].split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix("...")
            && rest
                .chars()
                .next()
                .is_none_or(|c| matches!(c, ' ' | '\t' | '\r' | '\n' | '#'))
        {
            return Some(at);
        }
        at += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_what_differs() {
        assert_eq!(go_compatible("a: 1\nb: [x, 'yEs']\n").unwrap(), None);
        assert_eq!(
            go_compatible("v: tRue\n0644: 1__0\nl: [oN, 1e400, 08, yes]\n").unwrap(),
            Some("v: \"tRue\"\n\"420\": 10\nl: [\"oN\", \"1e400\", 8.0, true]\n".into())
        );
        assert_eq!(go_compatible("~: x\n").unwrap_err().offset, 0);
        // `...` before the content: kubectl and Helm 4 disagree about what follows.
        assert_eq!(go_compatible("# c\n...\nkind: A\n").unwrap_err().offset, 4);
        assert_eq!(go_compatible("kind: A\n...\n").unwrap(), None);
        // A `?` in a plain scalar: fine in block style, unreadable to Go in flow style.
        assert_eq!(go_compatible("a: b?c\n").unwrap(), None);
        assert_eq!(go_compatible("a: {b: c?d}\n").unwrap_err().offset, 7);
        assert_eq!(go_compatible("a: [x, {n?: y}]\n").unwrap_err().offset, 8);
        // A tag Go does not know leaves a plain scalar its text.
        assert_eq!(
            go_compatible("v: !foo\nw: !foo 12\nx: !!int 12\n").unwrap(),
            Some("v: !foo \"\"\nw: !foo \"12\"\nx: !!int 12\n".into())
        );
        // A tag without a value in a flow collection swallows the `,` or `]` for Go.
        assert!(go_compatible("v: [!x, y]\n").is_err());
        assert!(go_compatible("v: {a: !x}\n").is_err());
        assert_eq!(
            go_compatible("v: [!foo bar, !!str 1]\nw: !x\n").unwrap(),
            Some("v: [!foo \"bar\", !!str 1]\nw: !x \"\"\n".into())
        );
        // Anchor names: go-yaml allows letters, digits, `_`, `-`.
        assert!(go_compatible("a: {n: x, &value: y}\n").is_err());
        assert_eq!(go_compatible("a: &x-1_b 1\nb: *x-1_b\n").unwrap(), None);
        // A tab left of the indentation on a blank line, in a nested mapping.
        assert!(go_compatible("a:\n  b: {}\n \t\n  c: 2\n").is_err());
        // Lines readers split differently, keys over two lines, a flow scalar starting with `:`.
        assert_eq!(go_compatible("a: 1\n---b: 2\n").unwrap_err().offset, 5);
        assert!(go_compatible("a: \"x\n---y\"\n").is_err());
        assert_eq!(go_compatible("--- {a: 1}\n").unwrap(), None);
        assert!(go_compatible("e: {c\npK: 1}\n").is_err());
        assert!(go_compatible("e: {n: x, :ey: y}\n").is_err());
        // A byte order mark is fine inside a scalar, not at the start of a later line.
        assert_eq!(go_compatible("a: x\u{feff}y\n").unwrap(), None);
        assert!(go_compatible("\u{feff}---\nkind: A\n").is_err());
        assert_eq!(
            go_compatible("# c\n\u{feff}---\nkind: A\n")
                .unwrap_err()
                .offset,
            4
        );
        // Tabs: refused where Go rejects them, left alone where it reads them.
        for bad in [
            "\ta: 1\n",
            "  \ta: b\n",
            "a:\n \t b: c\n",
            "a:\n- b\n-\tc\n",
            "\t# c\na: 1\n",
            "a: 1\n\t\nb: 2\n",
            "a: |\n \tx\n",
        ] {
            assert!(go_compatible(bad).is_err(), "{bad:?}");
        }
        for good in [
            "a:\tb\n",
            "a: b\t# c\n",
            "a: [b,\n\tc]\n",
            "a: \"x\n\ty\"\n",
            "a: 1\n \t\n",
            "a: 1\n  \t  # c\nb: 2\n",
            "a: |\n  x\n  \ty\n",
        ] {
            assert!(go_compatible(good).is_ok(), "{good:?}");
        }
        // Complex keys and aliases keep the key/value bookkeeping right.
        assert_eq!(
            go_compatible("? [a]\n: yEs\nb: &x 0_8\nc: *x\nyes: d\n").unwrap(),
            Some("? [a]\n: \"yEs\"\nb: &x 8.0\nc: *x\n\"true\": d\n".into())
        );
    }
}
