//! Reading and writing YAML the way Kubernetes reads it.
//!
//! Kubernetes (and Helm) read YAML with go-yaml v2's YAML 1.1 rules: `0644` is octal 420, the
//! last of two duplicate keys wins, and `"yes"` must stay quoted. serde-saphyr is set up to read
//! the same values and its emitter quotes every YAML-1.1-ambiguous string, so what we re-emit
//! means the same to Kubernetes (`docs/yaml-fidelity.md` §1). Where serde-saphyr's reading
//! of a plain scalar still differs from Go's (`tRue`, `1__0`, a `yes:` key), `go_compat` respells
//! it first. The serde_yaml family does not read like Go, which is why it is not used here
//! (`docs/yaml-fidelity.md` §1).

use std::fmt;

use serde_json::Value;

use crate::yaml::go_compat::{self, Refusal};

/// Deepest nesting we parse. Kubernetes objects stay far below; the limit keeps hostile input
/// from exhausting the stack.
const MAX_DEPTH: usize = 200;

/// A YAML syntax error at a line and column of one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line within the document's text, when known.
    pub(crate) line: Option<u64>,
    /// 1-based column, when known.
    pub(crate) column: Option<u64>,
    /// The parser's description, without any quoted source text.
    pub(crate) message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l} column {c}: {}", self.message),
            (Some(l), None) => write!(f, "line {l}: {}", self.message),
            _ => f.write_str(&self.message),
        }
    }
}

fn options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    serde_saphyr::options! {
        budget: Some(budget),
        legacy_octal_numbers: true,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
        // Source snippets could quote a Secret's data into an error message.
        with_snippet: false,
    }
}

/// Parses one document's body. An empty or comment-only body is `Value::Null`.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    parse_at(text, true)
}

/// Parses one document's body, which is at the start of the stream or not: only there may it
/// start with a byte order mark (after a `---` line, Go reads one as text).
pub fn parse_at(text: &str, stream_start: bool) -> Result<Value, YamlError> {
    parse_with(text, stream_start, go_compat::go_compatible)
}

/// [`parse`] with the Go-compatibility pass run on every document, without the line scan
/// that skips it for most (the tests compare the two).
pub fn parse_with_full_pass(text: &str) -> Result<Value, YamlError> {
    parse_with(text, true, go_compat::go_compatible_full)
}

type Pass = fn(&str) -> Result<Option<String>, Refusal>;

fn parse_with(text: &str, stream_start: bool, go_compatible: Pass) -> Result<Value, YamlError> {
    let text = match stream_start {
        true => text.strip_prefix('\u{feff}').unwrap_or(text),
        false => text,
    };
    // Plain scalars serde-saphyr would read differently from Go get one spelling first.
    let rewritten = go_compatible(text).map_err(|Refusal { offset, message }| {
        let before = &text[..offset];
        let line = before.matches('\n').count() as u64 + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count() as u64
            + 1;
        YamlError {
            line: Some(line),
            column: Some(column),
            message,
        }
    })?;
    let text = rewritten.as_deref().unwrap_or(text);
    serde_saphyr::from_str_with_options(text, options()).map_err(|e| {
        let location = e.location();
        YamlError {
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            message: first_line(&e.without_snippet().render()),
        }
    })
}

/// The message without its location prefix or any trailing context lines.
fn first_line(rendered: &str) -> String {
    let line = rendered.lines().next().unwrap_or("invalid YAML").trim();
    if let Some(breach) = line.strip_prefix("budget breached: ") {
        let breach = breach.split(" at line ").next().unwrap_or(breach);
        // `Nodes { nodes: 250001 }`: a limit that keeps hostile input (alias bombs, deep
        // nesting, huge scalars) from exhausting memory, time or the stack.
        let name = breach.split([' ', '{']).next().unwrap_or(breach);
        // `ScalarBytes` → `scalar bytes`
        let mut limit = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() && !limit.is_empty() {
                limit.push(' ');
            }
            limit.push(c.to_ascii_lowercase());
        }
        // `Depth { depth: 201 }` → `201`
        let reached: String = breach
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        let reached = match reached.is_empty() {
            true => String::new(),
            false => format!(" (reached {reached})"),
        };
        return format!(
            "the document exceeds the parser's limit on {limit}{reached}: an alias bomb, or far larger or deeper than any Kubernetes object"
        );
    }
    if line.contains("multiple YAML documents") {
        // `a: 1` `...` `b: 2` in one chunk: kubectl would silently drop `b`.
        return "content after a `...` document end marker (Kubernetes would ignore it)".into();
    }
    let line = match line.find(" at line ") {
        Some(i) => &line[..i],
        None => line,
    };
    line.trim_end_matches('.').to_string()
}

/// Emits one document (no `---`), ending with a newline.
pub fn emit(value: &Value) -> String {
    // Long one-line strings stay on one line (as charts write them); multi-line strings become
    // literal blocks.
    let options = serde_saphyr::ser_options! { folded_wrap_chars: 1 << 30 };
    // Serialising a `serde_json::Value` has no failure mode left: no anchors, no tags, no
    // non-string keys. A failure here is a bug in this program, not bad input.
    let text = serde_saphyr::to_string_with_options(value, options)
        .expect("a JSON value always serialises to YAML");
    quote_marker_keys(text)
}

/// serde-saphyr writes a top-level key like `---x` or `...x` plain, at column 0, where every
/// stream splitter (kubectl's, Helm's, ours) takes the line for a document marker. Only a
/// top-level key can start a line with them (everything else is indented or after `- `), so
/// those keys are quoted.
fn quote_marker_keys(text: String) -> String {
    let is_marker_like = |line: &str| line.starts_with("---") || line.starts_with("...");
    if !text.lines().any(is_marker_like) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        // A plain key ends at its first `: ` (or a final `:`): it cannot contain one.
        let end = body
            .find(": ")
            .or_else(|| body.ends_with(':').then(|| body.len() - 1));
        match end {
            Some(end) if is_marker_like(body) => {
                out.push_str(&serde_json::to_string(&body[..end]).expect("a string serialises"));
                out.push_str(&line[end..]);
            }
            _ => out.push_str(line),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_like_go() {
        let v =
            parse("m: 0644\nq: \"yes\"\nb: yes\nd: 1\nd: 2\no: 0o17\nt: tRue\nu: 1__0\n").unwrap();
        assert_eq!(
            v,
            json!({"m": 420, "q": "yes", "b": true, "d": 2, "o": 15, "t": "tRue", "u": 10})
        );
        // Go turns non-string keys into their JSON spelling: `y` is the boolean true.
        let v = parse(
            "y: a
n: b
0644: c
",
        )
        .unwrap();
        assert_eq!(v, json!({"true": "a", "false": "b", "420": "c"}));
        let e = parse(
            "a: 1
~: x
",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (Some(2), Some(1)));
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Value::Null);
        assert_eq!(parse("\u{feff}a: 1\n").unwrap(), json!({"a": 1}));
    }

    #[test]
    fn emits_yaml_1_1_safe_strings() {
        let out = emit(&json!({"a": "yes", "b": "0755", "c": "on", "d": "1_000", "e": 420}));
        assert_eq!(
            out,
            "a: \"yes\"\nb: \"0755\"\nc: \"on\"\nd: \"1_000\"\ne: 420\n"
        );
        assert_eq!(parse(&out).unwrap()["b"], "0755");
    }

    #[test]
    fn keys_that_look_like_document_markers_are_quoted() {
        let value = json!({"---x": 1, "...y": {"---z": "---"}, "a": "b", "---": [1]});
        let out = emit(&value);
        assert!(
            !out.lines()
                .any(|l| l.starts_with("---") || l.starts_with("...")),
            "{out}"
        );
        assert_eq!(parse(&out).unwrap(), value);
    }

    #[test]
    fn long_lines_are_not_folded() {
        let long = "word ".repeat(40).trim_end().to_string();
        let out = emit(&json!({"a": long, "s": "x\ny\n"}));
        assert_eq!(out, format!("a: {long}\ns: |\n  x\n  y\n"));
    }

    #[test]
    fn errors_carry_a_location_and_no_snippet() {
        let e = parse("a: 1\nb: [\nsecret-value-here: x\n").unwrap_err();
        assert!(e.line.is_some(), "{e:?}");
        assert!(!e.to_string().contains("secret-value-here"), "{e}");
    }
}
