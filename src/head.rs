//! The head of a document: the few fields that decide what the plan does with it.
//!
//! Most documents need no parsing at all, so the head is read by a cheap line scanner that
//! understands the block-style subset every chart renderer emits (`key: value` lines, quoted
//! scalars, compact and indented sequences). Whenever it meets anything outside that subset
//! (flow collections, anchors, tags, multi-line scalars where a value is read, merge keys,
//! tabs, directives) it gives up, and the caller parses the document properly instead. So a
//! head from the scanner is either exactly what a YAML parser would read, or absent.

use serde_json::Value;

use crate::keys;

/// Identity and hook-ness of a document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// `helm.sh/hook`, as written.
    pub hook: Option<String>,
    /// `helm.sh/hook-weight`, as written.
    pub hook_weight: Option<String>,
    /// Helm 4's `postrenderer.helm.sh/postrender-filename`.
    pub filename: Option<String>,
    /// `metadata.annotations` holds a `migration-hook/…` key.
    pub marked: bool,
}

impl Head {
    /// Reads the head from a parsed document (the slow path, and the reference for the scanner).
    pub fn from_value(value: &Value) -> Head {
        let meta = value.get("metadata");
        let text = |v: Option<&Value>| v.and_then(scalar_text);
        let annotations = meta.and_then(|m| m.get("annotations"));
        let annotation = |key: &str| text(annotations.and_then(|a| a.get(key)));
        Head {
            api_version: text(value.get("apiVersion")),
            kind: text(value.get("kind")),
            name: text(meta.and_then(|m| m.get("name"))),
            namespace: text(meta.and_then(|m| m.get("namespace"))),
            hook: annotation(keys::HOOK),
            hook_weight: annotation(keys::HOOK_WEIGHT),
            filename: annotation(keys::POSTRENDER_FILENAME),
            marked: annotations
                .and_then(Value::as_object)
                .is_some_and(|a| a.keys().any(|k| k.starts_with(keys::MARK_PREFIX))),
        }
    }
}

/// A scalar as the text Kubernetes would compare: strings as-is, numbers and booleans spelled out.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The path of a `# Source: <path>` comment line before the content, as `helm template` writes it.
pub fn source_comment(doc: &str) -> Option<&str> {
    for line in doc.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(path) = line.strip_prefix("# Source: ") {
            return Some(path.trim());
        }
        let trimmed = line.trim_start();
        if !(trimmed.is_empty() || trimmed.starts_with('#') || line.starts_with("---")) {
            return None;
        }
    }
    None
}

/// Which block the scanner is in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Content of a top-level key we do not read.
    Skip,
    /// Directly inside `metadata`.
    Metadata,
    /// Inside a `metadata` key we do not read.
    MetadataSkip,
    /// Inside `metadata.annotations`.
    Annotations,
    /// Inside an annotation value we do not read (block scalar, continuation lines).
    AnnotationSkip,
}

/// The line scanner. `None` means "not sure": parse the document instead.
pub fn scan(body: &str) -> Option<Head> {
    let mut head = Head::default();
    let mut section = Section::Skip;
    let mut meta_indent = 0;
    let mut annotation_indent = 0;
    // A value we read must not continue on the next line (a multi-line plain scalar).
    let mut value_read_at: Option<usize> = None;

    for raw_line in body.split('\n') {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let content = line.trim_start_matches(' ');
        let indent = line.len() - content.len();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('\t') {
            return None;
        }
        if let Some(at) = value_read_at.take()
            && indent > at
        {
            return None;
        }
        if indent == 0 {
            if content.starts_with("- ") || content == "-" {
                // A compact sequence under the previous top-level key (`rules:\n- …`).
                if section == Section::Skip {
                    continue;
                }
                return None;
            }
            let (key, rest) = split_key(content)?;
            section = Section::Skip;
            match key.as_str() {
                "apiVersion" => head.api_version = read_scalar(rest, &mut value_read_at, 0)?,
                "kind" => head.kind = read_scalar(rest, &mut value_read_at, 0)?,
                "metadata" => {
                    if !is_empty_value(rest) {
                        if strip_comment(rest).trim() == "{}" {
                            continue;
                        }
                        return None;
                    }
                    section = Section::Metadata;
                    meta_indent = 0;
                }
                "<<" => return None,
                _ => skipped_value(rest)?,
            }
            continue;
        }
        match section {
            Section::Skip => {}
            Section::Metadata
            | Section::MetadataSkip
            | Section::Annotations
            | Section::AnnotationSkip => {
                if meta_indent == 0 {
                    meta_indent = indent;
                }
                if indent < meta_indent {
                    return None;
                }
                if indent == meta_indent {
                    if content.starts_with("- ") || content == "-" {
                        // A compact sequence under a metadata key (`finalizers:\n- …`).
                        if section == Section::MetadataSkip {
                            continue;
                        }
                        return None;
                    }
                    let (key, rest) = split_key(content)?;
                    section = Section::MetadataSkip;
                    match key.as_str() {
                        "name" => head.name = read_scalar(rest, &mut value_read_at, indent)?,
                        "namespace" => {
                            head.namespace = read_scalar(rest, &mut value_read_at, indent)?
                        }
                        "annotations" => {
                            if !is_empty_value(rest) {
                                if strip_comment(rest).trim() == "{}" {
                                    continue;
                                }
                                return None;
                            }
                            section = Section::Annotations;
                            annotation_indent = 0;
                        }
                        "<<" => return None,
                        _ => skipped_value(rest)?,
                    }
                    continue;
                }
                // Deeper than a metadata key.
                if !matches!(section, Section::Annotations | Section::AnnotationSkip) {
                    continue;
                }
                if annotation_indent == 0 {
                    annotation_indent = indent;
                }
                if indent < annotation_indent {
                    return None;
                }
                if indent > annotation_indent {
                    if section == Section::AnnotationSkip {
                        continue;
                    }
                    return None;
                }
                let (key, rest) = split_key(content)?;
                section = Section::Annotations;
                if key.starts_with(keys::MARK_PREFIX) {
                    head.marked = true;
                }
                let slot = match key.as_str() {
                    keys::HOOK => &mut head.hook,
                    keys::HOOK_WEIGHT => &mut head.hook_weight,
                    keys::POSTRENDER_FILENAME => &mut head.filename,
                    "<<" => return None,
                    _ => {
                        skipped_value(rest)?;
                        section = Section::AnnotationSkip;
                        continue;
                    }
                };
                *slot = read_scalar(rest, &mut value_read_at, indent)?;
            }
        }
    }
    Some(head)
}

/// Splits `key: rest` (or `key:` at the end of the line). Quoted keys are decoded.
fn split_key(content: &str) -> Option<(String, &str)> {
    let first = content.as_bytes()[0];
    if first == b'"' || first == b'\'' {
        let (key, len) = quoted(content)?;
        let rest = content[len..].strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((key, rest));
    }
    if is_indicator(first) {
        return None;
    }
    let bytes = content.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                let key = content[..i].trim_end_matches(' ');
                return Some((key.to_string(), &content[i + 1..]));
            }
            // A comment before any `:` means this is not a `key:` line.
            b'#' if i > 0 && bytes[i - 1] == b' ' => return None,
            b'\t' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Characters that cannot start a plain scalar we are willing to read.
fn is_indicator(b: u8) -> bool {
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

/// A value we skip must still not hide lines from us: a quoted scalar that does not close on its
/// line may continue on lines that look like keys.
fn skipped_value(rest: &str) -> Option<()> {
    let value = rest.trim_start_matches(' ');
    if value.starts_with(['"', '\'']) {
        quoted_any(value)?;
    }
    Some(())
}

/// Like [`quoted`], but accepts every escape (the text is not used).
fn quoted_any(s: &str) -> Option<usize> {
    let quote = s.as_bytes()[0];
    let bytes = s.as_bytes();
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

/// Nothing but whitespace and an optional comment.
fn is_empty_value(rest: &str) -> bool {
    let t = rest.trim_start_matches(' ');
    t.is_empty() || t.starts_with('#')
}

fn strip_comment(rest: &str) -> &str {
    match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// Reads a one-line scalar value. `Some(None)` is a null; `None` means "not sure".
fn read_scalar(rest: &str, read_at: &mut Option<usize>, indent: usize) -> Option<Option<String>> {
    let value = rest.trim_start_matches(' ');
    *read_at = Some(indent);
    if value.is_empty() || value.starts_with('#') {
        // `key:` followed by an indented value on the next lines: not a one-line scalar.
        return Some(None);
    }
    let first = value.as_bytes()[0];
    if first == b'"' || first == b'\'' {
        let (text, len) = quoted(value)?;
        if !is_empty_value(&value[len..]) {
            return None;
        }
        return Some(Some(text));
    }
    if is_indicator(first) || value.starts_with('\t') {
        return None;
    }
    let plain = strip_comment(value).trim_end_matches([' ', '\t']);
    if plain.contains(": ") || plain.ends_with(':') || plain.contains('\t') {
        return None;
    }
    if matches!(plain, "~" | "null" | "Null" | "NULL") {
        return Some(None);
    }
    // `name: 0644` is the number 420 to Kubernetes, `.5` the number 0.5: not text to compare.
    if crate::resolve::resolve(plain) != crate::resolve::GoScalar::Str {
        return None;
    }
    Some(Some(plain.to_string()))
}

/// Decodes a quoted scalar that closes on this line. Returns the text and the bytes consumed.
/// Escapes other than the common ones make it give up.
fn quoted(s: &str) -> Option<(String, usize)> {
    let quote = s.as_bytes()[0];
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match (quote, c) {
            (b'\'', '\'') => {
                if s[i + 1..].starts_with('\'') {
                    chars.next();
                    out.push('\'');
                } else {
                    return Some((out, i + 1));
                }
            }
            (b'"', '"') => return Some((out, i + 1)),
            (b'"', '\\') => {
                let (_, e) = chars.next()?;
                out.push(match e {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    _ => return None,
                });
            }
            _ => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    /// The scanner agrees with the parser, or declines.
    fn check(doc: &str) -> Option<Head> {
        let scanned = scan(doc);
        if let Some(head) = &scanned {
            let parsed = Head::from_value(&yaml::parse(doc).unwrap());
            assert_eq!(head, &parsed, "{doc}");
        }
        scanned
    }

    #[test]
    fn reads_block_style_heads() {
        let head = check(
            "# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web # comment\n  namespace: \"shop\"\n  labels:\n    app: web\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-5\"\n    'postrenderer.helm.sh/postrender-filename': 'c/templates/d.yaml'\n    migration-hook/container: migrate\n    other: |\n      multi\n      line\nspec:\n  replicas: 1\n",
        )
        .unwrap();
        assert_eq!(head.kind.as_deref(), Some("Deployment"));
        assert_eq!(head.name.as_deref(), Some("web"));
        assert_eq!(head.namespace.as_deref(), Some("shop"));
        assert_eq!(head.hook.as_deref(), Some("pre-install,pre-upgrade"));
        assert_eq!(head.hook_weight.as_deref(), Some("-5"));
        assert_eq!(head.filename.as_deref(), Some("c/templates/d.yaml"));
        assert!(head.marked);
    }

    #[test]
    fn compact_sequences_and_kind_last() {
        let head = check(
            "rules:\n- apiGroups: [\"\"]\n  resources: [pods]\nmetadata:\n  finalizers:\n  - x\n  name: r\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\n",
        )
        .unwrap();
        assert_eq!(head.kind.as_deref(), Some("Role"));
        assert_eq!(head.name.as_deref(), Some("r"));
    }

    #[test]
    fn declines_what_it_cannot_read_exactly() {
        for doc in [
            "{\"kind\": \"Deployment\"}",
            "kind: &k Deployment\n",
            "kind: Deploy\n  ment\n",
            "metadata: {name: x}\n",
            "metadata:\n  <<: *base\n",
            "kind: !!str Deployment\n",
            "metadata:\n  name: \"a\\x41\"\n",
            "a: \"x\nkind: B\"\n",
            "\tkind: A\n",
            "data: \"abc\nkind: X\"\n",
            "metadata:\n  labels: 'a\n  name: b'\n",
        ] {
            assert_eq!(check(doc), None, "{doc}");
        }
    }

    #[test]
    fn empty_and_comment_only() {
        assert_eq!(check(""), Some(Head::default()));
        assert_eq!(check("# only a comment\n"), Some(Head::default()));
    }

    #[test]
    fn source_comments() {
        assert_eq!(
            source_comment("---\n# Source: c/t/a.yaml\nkind: A\n"),
            Some("c/t/a.yaml")
        );
        assert_eq!(source_comment("kind: A\n# Source: no\n"), None);
    }
}
