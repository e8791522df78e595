//! Plain scalars as Kubernetes reads them: go-yaml v2's YAML 1.1 resolution (what
//! `sigs.k8s.io/yaml` uses), and a rewrite that makes serde-saphyr read the same values.
//!
//! serde-saphyr agrees with Go on everything charts usually write (`yes`, `0644`, `1_000`), but
//! not at the edges the differential tests against Go found (`tests/oracle.rs`):
//! - booleans: Go knows only `y Y yes Yes YES`, `true True TRUE`, `on On ON` and their negatives;
//!   `tRue`, `yEs` or `oN` are strings to Go and booleans to serde-saphyr;
//! - numbers: Go drops every `_` before parsing (`1__0`, `1_`, `0.1_0`, `685_230.15` are numbers
//!   to Go, strings to serde-saphyr) and reads a float that overflows (`1e400`) as a string;
//! - keys: Go turns a non-string key into its JSON spelling (`yes:` → `"true"`, `0644:` →
//!   `"420"`, `1.5e3:` → `"1500"`), where serde-saphyr keeps the key's text; a null key (`~:`)
//!   or one above `i64` cannot be read by Kubernetes at all;
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
//! copy; untouched bytes stay untouched.

use std::borrow::Cow;

use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, StructureStyle, options};

/// What go-yaml v2 makes of a plain scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum GoScalar {
    Null,
    Bool(bool),
    Int(i64),
    /// Only above `i64::MAX`.
    Uint(u64),
    Float(f64),
    Str,
}

/// go-yaml v2's `resolve("", plain)` (resolve.go), for untagged plain scalars.
pub(crate) fn resolve(plain: &str) -> GoScalar {
    match plain {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return GoScalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return GoScalar::Bool(false);
        }
        "" | "~" | "null" | "Null" | "NULL" => return GoScalar::Null,
        ".nan" | ".NaN" | ".NAN" => return GoScalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return GoScalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return GoScalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    match plain.as_bytes()[0] {
        b'.' => go_parse_float(plain).map_or(GoScalar::Str, GoScalar::Float),
        b'+' | b'-' | b'0'..=b'9' => {
            if is_timestamp(plain) {
                // Go reads a timestamp into an interface{} as the string itself.
                return GoScalar::Str;
            }
            let digits = plain.replace('_', "");
            if let Some(i) = go_parse_int(&digits) {
                GoScalar::Int(i)
            } else if let Some(u) = go_parse_uint(&digits) {
                GoScalar::Uint(u)
            } else if is_yaml_float(&digits)
                && let Some(f) = go_parse_float(&digits)
            {
                GoScalar::Float(f)
            } else {
                GoScalar::Str
            }
        }
        _ => GoScalar::Str,
    }
}

/// `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`/`0o`/`0b`/`0` prefixes.
fn go_parse_int(s: &str) -> Option<i64> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let magnitude = i128::from(go_parse_uint(rest)?);
    i64::try_from(if negative { -magnitude } else { magnitude }).ok()
}

/// `strconv.ParseUint(s, 0, 64)`: no sign.
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// `strconv.ParseFloat(s, 64)` for the decimal spellings YAML lets through: `None` where Go
/// fails, which includes overflow to infinity.
fn go_parse_float(s: &str) -> Option<f64> {
    if !is_yaml_float(s) {
        return None;
    }
    s.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// go-yaml v2's `parseTimestamp` gate: four digits and a `-` (Go then reads it as a string
/// whether or not it is a valid date, since it is neither an integer nor a float).
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// The JSON object key `sigs.k8s.io/yaml` makes of a plain key, or why Kubernetes cannot read it.
pub(crate) fn key_string(plain: &str) -> Result<Cow<'_, str>, String> {
    Ok(match resolve(plain) {
        GoScalar::Str => Cow::Borrowed(plain),
        GoScalar::Bool(b) => Cow::Owned(b.to_string()),
        GoScalar::Int(i) => Cow::Owned(i.to_string()),
        GoScalar::Float(f) => Cow::Owned(format_float32_g(f)),
        GoScalar::Null => {
            return Err(format!(
                "the mapping key `{plain}` is null, which Kubernetes cannot read; quote it"
            ));
        }
        GoScalar::Uint(_) => {
            return Err(format!(
                "the mapping key `{plain}` is a number above 2^63-1, which Kubernetes cannot read as a key; quote it"
            ));
        }
    })
}

/// `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's `.inf`/`.nan` spellings.
fn format_float32_g(f: f64) -> String {
    let x = f as f32;
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same f32, like Go's -1.
    let e = format!("{:e}", x.abs());
    let (mantissa, exponent) = e.split_once('e').expect("`{:e}` has an exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exp: i32 = exponent.parse().expect("`{:e}` exponent");
    // Go: with the shortest digits, %e when the exponent is below -4 or at least 6.
    if !(-4..6).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() { "" } else { "." };
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}{rest}e{esign}{:02}", exp.abs());
    }
    // %f with exactly the digits there are.
    let dp = exp + 1;
    let n = digits.len() as i32;
    let text = if dp <= 0 {
        format!("0.{}{digits}", "0".repeat((-dp) as usize))
    } else if dp >= n {
        format!("{digits}{}", "0".repeat((dp - n) as usize))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    };
    format!("{sign}{text}")
}

/// A copy of `text` in which every plain scalar serde-saphyr could read differently from Go
/// has a spelling with one meaning, or `None` when no scalar needs it. `Err((offset, message))`
/// for what Kubernetes cannot read or readers disagree about: a null key, a `?` in a plain
/// scalar or a valueless tag in a flow collection, a `...` before the content. Text the event
/// parser rejects is returned as is: the real parse reports the error.
pub(crate) fn go_compatible(text: &str) -> Result<Option<String>, (usize, String)> {
    // Most documents need nothing: a line scan proves it for them, at a fraction of the cost.
    if crate::yaml::go_safe::is_go_safe(text) {
        return Ok(None);
    }
    go_compatible_full(text)
}

/// [`go_compatible`] without the line scan that proves most documents need nothing: the event
/// parser's pass over every document.
pub(crate) fn go_compatible_full(text: &str) -> Result<Option<String>, (usize, String)> {
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
                return Err((
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
                    return Err((
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
                    return Err((
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
                    return Err((
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
                    return Err((
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
                        let key = key_string(&value).map_err(|m| (start, m))?;
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
        return Err((
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
            return Err((
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
        return Err((
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

/// The spelling of a plain value that serde-saphyr reads as Go reads `plain`, if it differs.
pub(crate) fn value_spelling(plain: &str) -> Option<String> {
    let first = *plain.as_bytes().first()?;
    // Only these can be anything but a string to either parser.
    let candidate = matches!(first, b'+' | b'-' | b'.' | b'0'..=b'9' | b'~')
        || matches!(
            plain.to_ascii_lowercase().as_str(),
            "y" | "yes" | "n" | "no" | "true" | "false" | "on" | "off" | "null"
        );
    if !candidate {
        return None;
    }
    let spelling = match resolve(plain) {
        GoScalar::Str => quoted(plain),
        GoScalar::Null => "null".into(),
        GoScalar::Bool(b) => b.to_string(),
        GoScalar::Int(i) => i.to_string(),
        GoScalar::Uint(u) => u.to_string(),
        // `{:?}` always has a `.` or an exponent, so it stays a float; `.inf`/`.nan` are left to
        // the parser, which rejects them as Kubernetes does (JSON cannot hold them).
        GoScalar::Float(f) if f.is_finite() => format!("{f:?}"),
        GoScalar::Float(_) => return None,
    };
    (spelling != plain).then_some(spelling)
}

/// A double-quoted YAML scalar (JSON's string syntax is valid YAML).
fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_go_yaml_v2() {
        use GoScalar::*;
        for (text, want) in [
            ("yes", Bool(true)),
            ("yEs", Str),
            ("OFF", Bool(false)),
            ("oN", Str),
            ("~", Null),
            ("0644", Int(420)),
            ("0o644", Int(420)),
            ("-0x1F", Int(-31)),
            ("0b101", Int(5)),
            ("1__0", Int(10)),
            ("1_", Int(1)),
            ("08", Float(8.0)),
            ("0.1_0", Float(0.1)),
            ("685_230.15", Float(685230.15)),
            ("1e400", Str),
            ("1e-400", Float(0.0)),
            ("9223372036854775808", Uint(9223372036854775808)),
            ("-9223372036854775809", Float(-9223372036854775809.0)),
            ("2001-12-14", Str),
            ("1.2.3", Str),
            ("+", Str),
            ("0x", Str),
            (".5", Float(0.5)),
            ("._5", Str),
        ] {
            assert_eq!(resolve(text), want, "{text}");
        }
    }

    #[test]
    fn keys_like_sigs_k8s_yaml() {
        for (text, want) in [
            ("yes", "true"),
            ("No", "false"),
            ("0644", "420"),
            ("1.5e3", "1500"),
            ("6.8523015e+5", "685230.1"),
            ("123456789012345678901234", "1.2345679e+23"),
            ("0.0000000000000000000001", "1e-22"),
            ("-.5E-3", "-0.0005"),
            ("-0.0", "-0"),
            ("1e6", "1e+06"),
            ("123456", "123456"),
            ("123456.5", "123456.5"),
            (".inf", ".inf"),
            ("name", "name"),
        ] {
            assert_eq!(key_string(text).unwrap(), want, "{text}");
        }
        assert!(key_string("~").is_err());
        assert!(key_string("18446744073709551615").is_err());
    }

    #[test]
    fn rewrites_only_what_differs() {
        assert_eq!(go_compatible("a: 1\nb: [x, 'yEs']\n").unwrap(), None);
        assert_eq!(
            go_compatible("v: tRue\n0644: 1__0\nl: [oN, 1e400, 08, yes]\n").unwrap(),
            Some("v: \"tRue\"\n\"420\": 10\nl: [\"oN\", \"1e400\", 8.0, true]\n".into())
        );
        assert_eq!(go_compatible("~: x\n").unwrap_err().0, 0);
        // `...` before the content: kubectl and Helm 4 disagree about what follows.
        assert_eq!(go_compatible("# c\n...\nkind: A\n").unwrap_err().0, 4);
        assert_eq!(go_compatible("kind: A\n...\n").unwrap(), None);
        // A `?` in a plain scalar: fine in block style, unreadable to Go in flow style.
        assert_eq!(go_compatible("a: b?c\n").unwrap(), None);
        assert_eq!(go_compatible("a: {b: c?d}\n").unwrap_err().0, 7);
        assert_eq!(go_compatible("a: [x, {n?: y}]\n").unwrap_err().0, 8);
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
        assert_eq!(go_compatible("a: 1\n---b: 2\n").unwrap_err().0, 5);
        assert!(go_compatible("a: \"x\n---y\"\n").is_err());
        assert_eq!(go_compatible("--- {a: 1}\n").unwrap(), None);
        assert!(go_compatible("e: {c\npK: 1}\n").is_err());
        assert!(go_compatible("e: {n: x, :ey: y}\n").is_err());
        // A byte order mark is fine inside a scalar, not at the start of a later line.
        assert_eq!(go_compatible("a: x\u{feff}y\n").unwrap(), None);
        assert!(go_compatible("\u{feff}---\nkind: A\n").is_err());
        assert_eq!(
            go_compatible("# c\n\u{feff}---\nkind: A\n").unwrap_err().0,
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
