//! The head of a document: the few fields that decide what the plan does with it.
//!
//! Most documents need no parsing at all, so the head is read by a cheap line scanner that
//! understands the block-style subset every chart renderer emits (`key: value` lines, quoted
//! scalars, compact and indented sequences). Whenever it meets anything outside that subset
//! (flow collections, anchors, tags, multi-line scalars where a value is read, merge keys,
//! tabs, directives) it gives up, and the caller parses the document properly instead. So a
//! head from the scanner is either exactly what a YAML parser would read, or absent. The
//! same scanner reads the few maps the plan needs ([`map_at`], [`service_selector`]); the
//! lexical pieces it follows (quoted scalars, flow collections, plain keys, block scalar
//! headers) are those of [`crate::yaml::lex`], which the Go-safety scan shares.

use std::borrow::Cow;

use serde_json::Value;

use crate::input::lines;
use crate::kube::keys;
use crate::yaml::lex::{self, Scan};
use crate::yaml::scalar::{self, GoScalar};

/// Identity and hook-ness of a document. The scanner's values borrow from the input (no
/// allocation per document); decoded and parsed ones are owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Head<'a> {
    pub api_version: Option<Cow<'a, str>>,
    pub kind: Option<Cow<'a, str>>,
    pub name: Option<Cow<'a, str>>,
    pub namespace: Option<Cow<'a, str>>,
    /// `helm.sh/hook`, as written.
    pub(crate) hook: Option<Cow<'a, str>>,
    /// `helm.sh/hook-weight`, as written.
    pub(crate) hook_weight: Option<Cow<'a, str>>,
    /// Helm 4's `postrenderer.helm.sh/postrender-filename`.
    pub(crate) filename: Option<Cow<'a, str>>,
    /// `metadata.annotations` holds a `migration-hook/…` key.
    pub(crate) marked: bool,
}

impl Head<'_> {
    /// Reads the head from a parsed document (the slow path, and the reference for the scanner).
    pub fn from_value(value: &Value) -> Head<'static> {
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
fn scalar_text(value: &Value) -> Option<Cow<'static, str>> {
    match value {
        Value::String(s) => Some(Cow::Owned(s.clone())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// The path of a `# Source: <path>` comment line before the content, as `helm template` writes it.
pub(crate) fn source_comment(doc: &str) -> Option<&str> {
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

/// One line of a body: where it ends, and its content after the indentation.
struct Line<'b> {
    /// One past its line break.
    end: usize,
    indent: usize,
    /// Without the indentation and the line break.
    content: &'b str,
}

impl<'b> Line<'b> {
    fn at(body: &'b str, start: usize) -> Line<'b> {
        let bytes = body.as_bytes();
        let end = lines::line_end(bytes, start);
        let mut stop = end;
        if stop > start && bytes[stop - 1] == b'\n' {
            stop -= 1;
        }
        if stop > start && bytes[stop - 1] == b'\r' {
            stop -= 1;
        }
        let indent = bytes[start..stop]
            .iter()
            .position(|&b| b != b' ')
            .unwrap_or(stop - start);
        Line {
            end,
            indent,
            // Cut at ASCII bytes, so at character boundaries.
            content: body.get(start + indent..stop).unwrap_or_default(),
        }
    }

    /// Blank or a comment: means nothing to the structure.
    fn is_blank(&self) -> bool {
        lex::is_blank_or_comment(self.content)
    }

    fn is_compact_item(&self) -> bool {
        self.content.starts_with("- ") || self.content == "-"
    }
}

/// The next line to look at after `line` (which starts at `start`) when its content does not
/// matter: the next line that starts at column 0, skipping indented lines in one search.
fn next_top_level(body: &str, start: usize) -> usize {
    lines::next_line_start(body.as_bytes(), start, |b| b != b' ').unwrap_or(body.len())
}

/// The line scanner. `None` means "not sure": parse the document instead.
///
/// `body` must not contain a lone `\r` (a line break to YAML, not to this scanner); the caller
/// checks (see [`has_lone_cr`]).
pub fn scan(body: &str) -> Option<Head<'_>> {
    scan_head(body).map(|s| s.head)
}

/// What [`scan_head`] reads.
#[derive(Debug)]
pub struct Scanned<'b> {
    pub head: Head<'b>,
    /// Where the last top-level `spec:` key line starts (every line before it checked), or
    /// `None` when there is none: [`map_at_from`] may start there for a path under `spec`.
    pub spec_line: Option<usize>,
}

/// [`scan`], and where the document's `spec` is.
pub fn scan_head(body: &str) -> Option<Scanned<'_>> {
    let mut spec_line = None;
    let mut head = Head::default();
    let mut section = Section::Skip;
    let mut meta_indent = 0;
    let mut annotation_indent = 0;
    // A value we read must not continue on the next line (a multi-line plain scalar).
    let mut value_read_at: Option<usize> = None;
    let mut guard = Guard::new(body);
    let mut pos = 0;

    while pos < body.len() {
        let start = pos;
        let line = Line::at(body, start);
        pos = line.end;
        // The indented lines of a key we do not read are jumped over, unchecked.
        if !(section == Section::Skip && line.indent > 0) {
            guard.visit(start, &line)?;
        }
        let (content, indent) = (line.content, line.indent);
        if line.is_blank() {
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
            if line.is_compact_item() {
                // A compact sequence under the previous top-level key (`rules:\n- …`).
                if section == Section::Skip {
                    pos = next_top_level(body, start);
                    continue;
                }
                return None;
            }
            guard.check_through(line.end)?;
            let (key, rest) = split_key(content)?;
            section = Section::Skip;
            match &*key {
                "apiVersion" => {
                    head.api_version = read_scalar(rest, &mut value_read_at, 0).sure()?
                }
                "kind" => head.kind = read_scalar(rest, &mut value_read_at, 0).sure()?,
                "spec" => {
                    spec_line = Some(start);
                    skipped_value(rest)?;
                }
                "metadata" => {
                    // The last `metadata` wins, whole.
                    head = Head {
                        api_version: head.api_version.take(),
                        kind: head.kind.take(),
                        ..Head::default()
                    };
                    if map_start(rest)? == MapStart::Empty {
                        continue;
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
            Section::Skip => pos = next_top_level(body, start),
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
                    if line.is_compact_item() {
                        // A compact sequence under a metadata key (`finalizers:\n- …`).
                        if section == Section::MetadataSkip {
                            continue;
                        }
                        return None;
                    }
                    guard.check_through(line.end)?;
                    let (key, rest) = split_key(content)?;
                    section = Section::MetadataSkip;
                    match &*key {
                        "name" => {
                            head.name = read_scalar(rest, &mut value_read_at, indent).sure()?
                        }
                        "namespace" => {
                            head.namespace = read_scalar(rest, &mut value_read_at, indent).sure()?
                        }
                        "annotations" => {
                            // The last `annotations` wins, whole.
                            head.hook = None;
                            head.hook_weight = None;
                            head.filename = None;
                            head.marked = false;
                            if map_start(rest)? == MapStart::Empty {
                                continue;
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
                guard.check_through(line.end)?;
                let (key, rest) = split_key(content)?;
                section = Section::Annotations;
                if key.starts_with(keys::MARK_PREFIX) {
                    head.marked = true;
                }
                let slot = match &*key {
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
                *slot = read_scalar(rest, &mut value_read_at, indent).sure()?;
            }
        }
    }
    Some(Scanned { head, spec_line })
}

/// Entries of a map read by [`map_at`]: (key, value), in the parser's order.
pub(crate) type Entries<'b> = Vec<(Cow<'b, str>, Cow<'b, str>)>;

/// A Service's `spec.selector` when it is a block map of one-line string scalars:
/// [`map_at`] with every key kept.
pub fn service_selector(body: &str) -> Scan<Entries<'_>> {
    map_at(body, &["spec", "selector"], |_| true)
}

/// [`service_selector`] of a document whose head [`scan_head`] read, from its
/// [`Scanned::spec_line`] on (the lines before it were read for the head).
pub fn service_selector_at(body: &str, spec_line: Option<usize>) -> Scan<Entries<'_>> {
    match spec_line {
        Some(from) => map_at_from(body, from, &["spec", "selector"], |_| true),
        None => Scan::Absent,
    }
}

/// Reads the block map at `path` (each step a key of a block map, from the top level) the way
/// [`scan`] reads a head, keeping the entries whose keys pass `keep`; their values must be
/// one-line scalars that are strings to the parser. `Absent` when the map is absent, null or
/// has no such entry; `Found(entries)` with the last of duplicate keys winning (none for an
/// empty map at the end of the path); `Unsure` when not sure (parse instead). Same
/// precondition as [`scan`]: no lone `\r`.
pub fn map_at<'b>(body: &'b str, path: &[&str], keep: impl Fn(&str) -> bool) -> Scan<Entries<'b>> {
    map_at_from(body, 0, path, keep)
}

/// [`map_at`], starting at `from`: the start of a top-level `path[0]:` key line (which
/// overrides any before it) with every line before it checked, as [`Scanned::spec_line`].
pub(crate) fn map_at_from<'b>(
    body: &'b str,
    from: usize,
    path: &[&str],
    keep: impl Fn(&str) -> bool,
) -> Scan<Entries<'b>> {
    read_map(body, from, path, keep).unwrap_or(Scan::Unsure)
}

/// [`map_at_from`]'s lines; `None` (for `?`) when not sure.
fn read_map<'b>(
    body: &'b str,
    from: usize,
    path: &[&str],
    keep: impl Fn(&str) -> bool,
) -> Option<Scan<Entries<'b>>> {
    // The block maps the current line may be in: the top level, then one per path key
    // entered. `indents[d]` is the indentation of the map at depth d once its first line is
    // seen (a map entered with `key:` and no line yet is `None`).
    let mut indents: Vec<Option<usize>> = vec![Some(0)];
    // Inside the value of the last key of the innermost map, which we do not read.
    let mut in_other = true;
    let mut found: Option<Entries> = None;
    let mut value_read_at: Option<usize> = None;
    let mut guard = Guard::new(body);
    guard.checked = from;
    let mut pos = from;

    while pos < body.len() {
        let start = pos;
        let line = Line::at(body, start);
        pos = line.end;
        // The indented lines of a top-level key we do not read are jumped over, unchecked.
        let jump = indents.len() == 1 && in_other && line.indent > 0;
        if !jump {
            guard.visit(start, &line)?;
        }
        if line.is_blank() {
            continue;
        }
        if line.content.starts_with('\t') {
            return None;
        }
        if let Some(at) = value_read_at.take()
            && line.indent > at
        {
            return None;
        }
        if jump {
            pos = next_top_level(body, start);
            continue;
        }
        // Leave the maps this line is not in.
        loop {
            let depth = indents.len() - 1;
            match indents[depth] {
                None => {
                    let parent = indents[depth - 1].expect("entered from a known map");
                    if line.indent > parent {
                        indents[depth] = Some(line.indent);
                        break;
                    }
                    if line.indent == parent && line.is_compact_item() {
                        // `key:` then `- item` at the key's column: a sequence, not a map.
                        return None;
                    }
                    // `key:` and nothing under it: null.
                    indents.pop();
                    in_other = true;
                }
                Some(indent) if line.indent < indent => {
                    indents.pop();
                    in_other = true;
                }
                Some(_) => break,
            }
        }
        let depth = indents.len() - 1;
        let indent = indents[depth].expect("known after the loop");
        if line.indent > indent {
            // Inside the value of the innermost map's last key.
            if in_other {
                continue;
            }
            return None;
        }
        if line.is_compact_item() {
            // A compact sequence under the previous key (`key:⏎- item`).
            if in_other {
                continue;
            }
            return None;
        }
        guard.check_through(line.end)?;
        let (key, rest) = split_key(line.content)?;
        if &*key == "<<" {
            return None;
        }
        in_other = true;
        if depth < path.len() {
            if *key != *path[depth] {
                skipped_value(rest)?;
                continue;
            }
            // A key of the path, (re-)entered: the last of duplicates wins, whole.
            found = None;
            match map_start(rest)? {
                MapStart::Below => {
                    indents.push(None);
                    in_other = false;
                }
                MapStart::Empty => {
                    if depth + 1 == path.len() {
                        found = Some(Vec::new());
                    }
                }
            }
        } else if keep(&key) {
            // A plain number is not a string (`read_scalar` spells some out as text).
            if rest
                .trim_start_matches(' ')
                .starts_with(|c: char| c.is_ascii_digit())
            {
                return None;
            }
            let value = read_scalar(rest, &mut value_read_at, line.indent).sure()??;
            let entries = found.get_or_insert_with(Vec::new);
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
        } else {
            skipped_value(rest)?;
        }
    }
    Some(Scan::from_option(found))
}

/// Whether `body` holds a `\r` that is not part of a `\r\n`: YAML reads it as a line break,
/// the scanners of this module do not, so such a body must be parsed.
pub fn has_lone_cr(body: &str) -> bool {
    let bytes = body.as_bytes();
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
}

/// Makes sure that the lines a scanner skipped hide nothing: the scanners read a line at
/// column 0 as a top-level key, but a quoted scalar or a flow collection opened on an
/// indented line may run on over lines at any column (`a: "x⏎kind: B"` is one string).
///
/// The check is lazy: before a scanner relies on a line, every line before it (skipped or
/// not) is fed to [`Guard::line`], which follows block scalars and reports "not sure" for any
/// line that may leave a construct open. Lines after the last one a scanner relies on are
/// never looked at, which is what keeps a Deployment's `spec` or a ConfigMap's `data` cheap.
struct Guard<'b> {
    body: &'b str,
    /// Lines before this offset have been checked.
    checked: usize,
    /// Inside a block scalar.
    block: Option<Block>,
}

/// A block scalar being skipped: lines indented more than `parent` (once known, at least
/// `indent`) are its content.
#[derive(Clone, Copy)]
struct Block {
    parent: usize,
    indent: Option<usize>,
}

impl<'b> Guard<'b> {
    fn new(body: &'b str) -> Guard<'b> {
        Guard {
            body,
            checked: 0,
            block: None,
        }
    }

    /// A line the scanner visits, starting at `start`: checked at once when it follows the
    /// lines checked so far (no cost: the scanner has split it already), else left for
    /// [`Guard::check_through`].
    fn visit(&mut self, start: usize, line: &Line) -> Option<()> {
        if self.checked == start {
            self.line(line)?;
            self.checked = line.end;
        }
        Some(())
    }

    /// Checks every line up to `end` (a line end).
    fn check_through(&mut self, end: usize) -> Option<()> {
        while self.checked < end {
            let line = Line::at(self.body, self.checked);
            self.line(&line)?;
            self.checked = line.end;
        }
        Some(())
    }

    fn line(&mut self, line: &Line) -> Option<()> {
        if line.content.is_empty() {
            return Some(());
        }
        if let Some(block) = &mut self.block {
            match block.indent {
                None if line.indent > block.parent => {
                    block.indent = Some(line.indent);
                    return Some(());
                }
                Some(indent) if line.indent >= indent => return Some(()),
                _ => self.block = None,
            }
        }
        if line.content.starts_with('#') || !line.content.bytes().any(lex::is_special) {
            // Plain keys and plain scalars only: nothing can stay open.
            return Some(());
        }
        self.node(line.content, line.indent)
    }

    /// A line's content at column `col`: sequence entries, then a key and its value, or a value.
    fn node(&mut self, content: &str, col: usize) -> Option<()> {
        // A block scalar right after `- ` is indented more than the dash.
        let Some((rest, col, parent)) = lex::skip_entries(content, col) else {
            return Some(());
        };
        let Some(&first) = rest.as_bytes().first() else {
            return Some(());
        };
        match first {
            b'#' => Some(()),
            b'"' | b'\'' => {
                let len = lex::quoted_end(rest)?;
                self.after_key_node(&rest[len..], col)
            }
            b'[' | b'{' => {
                let len = lex::flow_end(rest)?;
                self.after_key_node(&rest[len..], col)
            }
            b'|' | b'>' => self.block_header(rest, parent),
            b'\t' | b',' | b']' | b'}' | b':' => None,
            b if lex::is_unfollowed(b) => None,
            // A plain scalar, or a plain key and its value.
            _ => match lex::plain_key_end(rest) {
                Scan::Found(colon) => self.value(&rest[colon + 1..], col),
                Scan::Absent => Some(()),
                Scan::Unsure => None,
            },
        }
    }

    /// What follows a quoted scalar or flow collection that starts a node: nothing, or `:` and
    /// a value (it was a key).
    fn after_key_node(&mut self, after: &str, col: usize) -> Option<()> {
        if lex::is_line_end(after) {
            return Some(());
        }
        let value = after.trim_start_matches(' ').strip_prefix(':')?;
        if !(value.is_empty() || value.starts_with(' ')) {
            return None;
        }
        self.value(value, col)
    }

    /// The value after `key:`, the key at column `key_col`.
    fn value(&mut self, value: &str, key_col: usize) -> Option<()> {
        let value = value.trim_start_matches(' ');
        let Some(&first) = value.as_bytes().first() else {
            return Some(());
        };
        match first {
            b'#' => Some(()),
            b'"' | b'\'' => lex::is_line_end(&value[lex::quoted_end(value)?..]).then_some(()),
            b'[' | b'{' => lex::is_line_end(&value[lex::flow_end(value)?..]).then_some(()),
            b'|' | b'>' => self.block_header(value, key_col),
            b'\t' => None,
            b if lex::is_unfollowed(b) => None,
            b'-' if value == "-" || value.starts_with("- ") => None,
            _ => Some(()),
        }
    }

    /// `|` or `>` with an optional chomping indicator; content follows on deeper lines.
    fn block_header(&mut self, header: &str, parent: usize) -> Option<()> {
        // An explicit indentation indicator: not worth following.
        if !lex::is_block_header(header) {
            return None;
        }
        self.block = Some(Block {
            parent,
            indent: None,
        });
        Some(())
    }
}

/// Splits `key: rest` (or `key:` at the end of the line). Quoted keys are decoded.
fn split_key(content: &str) -> Option<(Cow<'_, str>, &str)> {
    let first = content.as_bytes()[0];
    if first == b'"' || first == b'\'' {
        let (key, len) = quoted(content)?;
        let rest = content[len..].strip_prefix(':')?;
        if !(rest.is_empty() || rest.starts_with(' ')) {
            return None;
        }
        return Some((Cow::Owned(key), rest));
    }
    if lex::is_indicator(first) {
        return None;
    }
    // A comment before any `:` means this is not a `key:` line.
    let Scan::Found(colon) = lex::plain_key_end(content) else {
        return None;
    };
    let key = content[..colon].trim_end_matches(' ');
    Some((Cow::Borrowed(key), &content[colon + 1..]))
}

/// How the value of a key whose map a scanner enters starts.
#[derive(PartialEq, Eq)]
enum MapStart {
    /// Nothing on the key's line: the map (or a null) is on the lines below.
    Below,
    /// `{}`: an empty map.
    Empty,
}

/// [`MapStart`] of the rest of a `key:` line; `None` for anything else (a flow map with
/// entries, a scalar): not read.
fn map_start(rest: &str) -> Option<MapStart> {
    if lex::is_blank_or_comment(rest) {
        Some(MapStart::Below)
    } else if strip_comment(rest).trim() == "{}" {
        Some(MapStart::Empty)
    } else {
        None
    }
}

/// A value we skip must still not hide lines from us: a quoted scalar that does not close on its
/// line may continue on lines that look like keys, and so may a flow collection.
fn skipped_value(rest: &str) -> Option<()> {
    let value = rest.trim_start_matches(' ');
    match value.as_bytes().first() {
        Some(b'"' | b'\'') => {
            lex::quoted_end(value)?;
        }
        Some(b'[' | b'{') => {
            lex::flow_end(value)?;
        }
        _ => {}
    }
    Some(())
}

fn strip_comment(rest: &str) -> &str {
    match rest.find(" #") {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// Reads a one-line scalar value as [`scalar_text`] would give it: `Absent` for a null (or
/// `key:` with nothing on its line), `Unsure` for anything else it does not read exactly.
fn read_scalar<'b>(
    rest: &'b str,
    read_at: &mut Option<usize>,
    indent: usize,
) -> Scan<Cow<'b, str>> {
    let value = rest.trim_start_matches(' ');
    *read_at = Some(indent);
    if lex::is_blank_or_comment(value) {
        // `key:` followed by an indented value on the next lines: not a one-line scalar.
        return Scan::Absent;
    }
    let first = value.as_bytes()[0];
    if first == b'"' || first == b'\'' {
        return match quoted(value) {
            Some((text, len)) if lex::is_blank_or_comment(&value[len..]) => {
                Scan::Found(Cow::Owned(text))
            }
            _ => Scan::Unsure,
        };
    }
    if lex::is_indicator(first) || value.starts_with('\t') {
        return Scan::Unsure;
    }
    // The scalar runs to a comment or the end of the line; `: ` or a tab in it, or a `:` at
    // its end, is not a one-line plain scalar.
    let Some(plain) = lex::one_line_plain(value) else {
        return Scan::Unsure;
    };
    if matches!(plain, "~" | "null" | "Null" | "NULL") {
        return Scan::Absent;
    }
    match plain_text(plain) {
        Some(text) => Scan::Found(Cow::Borrowed(text)),
        None => Scan::Unsure,
    }
}

/// A plain scalar's text when Kubernetes reads it as a string. `name: 0644` is the number 420
/// to Kubernetes, `.5` the number 0.5, `on` a boolean: those are left to the parser.
fn plain_text(plain: &str) -> Option<&str> {
    (scalar::resolve(plain) == GoScalar::Str).then_some(plain)
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
    fn check(doc: &str) -> Option<Head<'_>> {
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
