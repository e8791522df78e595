//! The input as indexed documents: raw text, cheap head, and a full parse on demand. A
//! document reads the few maps the plan needs (annotations, a Service's selector) with the
//! line scanner when it can and from the parse when not; callers see one answer.
//!
//! Documents are keyed by position, never by kind/name: Helm 4 legitimately hands a
//! post-renderer the same object twice, once as a hook and once as a template
//! (`docs/helm-facts.md` §3).

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::Value;

use crate::diagnostic::{DocLabel, Error, Result};
use crate::hash;
use crate::input::head::{self, Entries, Head};
use crate::input::lines;
use crate::input::stream::{self, RawDoc};
use crate::kube::keys;
use crate::threads;

/// A map's entries as (key, scalar value) pairs, in the parser's order.
pub(crate) type ScalarEntries<'a> = Vec<(Cow<'a, str>, Scalar<'a>)>;
use crate::yaml::lex::Scan;
use crate::yaml::{self, YamlError};

/// One document of the input.
#[derive(Debug)]
pub struct Document<'a> {
    /// 0-based position in the stream.
    pub index: usize,
    pub raw: RawDoc,
    /// The whole document, marker line and comments included.
    pub text: &'a str,
    /// The YAML body (what gets parsed).
    pub(crate) body: &'a str,
    /// The whole input, to turn positions into stream-wide line numbers in messages.
    input: &'a str,
    pub head: Head<'a>,
    /// Free of lone `\r`s, so the line scanners of [`head`] may read it.
    scannable: bool,
    /// Where the last top-level `spec:` line is ([`head::Scanned::spec_line`]): `Unsure` when
    /// the head scanner did not read the head.
    spec_line: Scan<usize>,
    /// The template file this document came from, if the input says.
    pub source: Option<Cow<'a, str>>,
    /// Boxed: most documents are never parsed, and a small `Document` is fewer pages to touch.
    parsed: OnceLock<Box<std::result::Result<Value, YamlError>>>,
}

impl<'a> Document<'a> {
    fn read(index: usize, input: &'a str, raw: RawDoc, any_cr: bool) -> Self {
        let text = &input[raw.range()];
        let body = &input[raw.body()];
        let parsed = OnceLock::new();
        let scannable = !(any_cr && head::has_lone_cr(body));
        let (head, spec_line) = match scannable.then(|| head::scan_head(body)).flatten() {
            Some(scanned) => (scanned.head, Scan::from_option(scanned.spec_line)),
            None => {
                // The scanner was unsure: parse now, and keep the result for later.
                let result = yaml::parse_at(body, raw.body_start == 0);
                let head = result.as_ref().map(Head::from_value).unwrap_or_default();
                let _ = parsed.set(Box::new(result));
                (head, Scan::Unsure)
            }
        };
        let source = head
            .filename
            .clone()
            .or_else(|| head::source_comment(text).map(Cow::Borrowed));
        Document {
            index,
            raw,
            text,
            body,
            input,
            head,
            scannable,
            spec_line,
            source,
            parsed,
        }
    }

    /// How messages name this document.
    pub(crate) fn label(&self) -> DocLabel {
        DocLabel {
            index: self.index,
            kind: self.head.kind.as_deref().map(str::to_string),
            namespace: self.head.namespace.as_deref().map(str::to_string),
            name: self.head.name.as_deref().map(str::to_string),
            source: self.source.as_deref().map(str::to_string),
        }
    }

    /// The parsed document. Parsed once, on first use.
    pub fn value(&self) -> Result<&Value> {
        self.parsed
            .get_or_init(|| Box::new(yaml::parse_at(self.body, self.raw.body_start == 0)))
            .as_ref()
            .as_ref()
            .map_err(|e| self.yaml_error(e))
    }

    /// The parsed document, parsed now if it has not been, and not kept: for a document
    /// that is read once (a marked workload), so that its parse can be dropped after use.
    pub fn parse(&self) -> Result<Cow<'_, Value>> {
        match self.parsed.get() {
            Some(parsed) => parsed
                .as_ref()
                .as_ref()
                .map(Cow::Borrowed)
                .map_err(|e| self.yaml_error(e)),
            None => yaml::parse(self.body)
                .map(Cow::Owned)
                .map_err(|e| self.yaml_error(&e)),
        }
    }

    /// The entries of the map at `path` (each step a key of a map, from the top level) whose
    /// keys pass `keep`, in the parser's order; `None` when the map is absent, null or not a
    /// map. Read by the line scanner when it can ([`head::map_at`]), else from the parse
    /// (kept, as by [`Document::value`]).
    pub(crate) fn map_at(
        &self,
        path: &[&str],
        keep: impl Fn(&str) -> bool,
    ) -> Result<Option<ScalarEntries<'a>>> {
        let scanned = match self.scannable {
            true => head::map_at(self.body, path, &keep),
            false => Scan::Unsure,
        };
        Ok(match scanned {
            Scan::Found(entries) => Some(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, Scalar::Text(v)))
                    .collect(),
            ),
            Scan::Absent => None,
            Scan::Unsure => self.parsed_map(path)?.map(|map| {
                map.iter()
                    .filter(|(k, _)| keep(k))
                    .map(|(k, v)| (Cow::Owned(k.clone()), Scalar::of(v)))
                    .collect()
            }),
        })
    }

    /// A Service's `spec.selector` as (key, value) pairs, a value that is not a string spelt as
    /// JSON; `None` when absent, null or not a map. Read by the line scanner when it can (from
    /// the `spec` line the head scanner found), else from the parse (kept).
    pub(crate) fn service_selector(&self) -> Result<Option<Entries<'a>>> {
        let scanned = match self.spec_line {
            // The head scanner read the lines up to `spec`: read on from there.
            Scan::Found(at) => head::service_selector_at(self.body, Some(at)),
            Scan::Absent => head::service_selector_at(self.body, None),
            Scan::Unsure if self.scannable => head::service_selector(self.body),
            Scan::Unsure => Scan::Unsure,
        };
        Ok(match scanned {
            Scan::Found(pairs) => Some(pairs),
            Scan::Absent => None,
            Scan::Unsure => self.parsed_map(&["spec", "selector"])?.map(|map| {
                map.iter()
                    .map(|(k, v)| (Cow::Owned(k.clone()), Scalar::of(v).into_text()))
                    .collect()
            }),
        })
    }

    /// The map at `path` of the parse.
    fn parsed_map(&self, path: &[&str]) -> Result<Option<&serde_json::Map<String, Value>>> {
        Ok(path
            .iter()
            .try_fold(self.value()?, |v, key| v.get(key))
            .and_then(Value::as_object))
    }

    /// Whether the document could be parsed (parses it if that has not happened yet).
    pub(crate) fn parse_error(&self) -> Option<Error> {
        self.value().err()
    }

    fn yaml_error(&self, e: &YamlError) -> Error {
        // The parser's message may quote a scalar; a Secret's scalars are never printed.
        let position = match (e.line, e.column) {
            (Some(line), column) => {
                let before = self.input[..self.raw.body_start].matches('\n').count() as u64;
                let column = column.map(|c| format!(" column {c}")).unwrap_or_default();
                format!(" at line {}{column} of the input", before + line)
            }
            _ => String::new(),
        };
        let message = if self.mentions_secret() {
            format!("invalid YAML{position}")
        } else {
            format!("invalid YAML{position}: {}", e.message)
        };
        Error::new(format!("{message}; fix the template that renders it")).at(&self.label())
    }

    fn mentions_secret(&self) -> bool {
        self.head.kind.as_deref() == Some("Secret")
            || (self.head.kind.is_none() && self.body.contains("Secret"))
    }

    /// A Helm hook (any `helm.sh/hook` annotation), which this tool never converts.
    pub fn is_hook(&self) -> bool {
        self.head.hook.is_some()
    }

    /// The hook events, trimmed and lower-cased as Helm reads them.
    pub(crate) fn hook_events(&self) -> Vec<String> {
        self.head
            .hook
            .as_deref()
            .map(parse_list)
            .unwrap_or_default()
    }

    /// The hook weight as Helm reads it: `strconv.Atoi`, anything invalid is 0.
    pub(crate) fn hook_weight(&self) -> i64 {
        self.head
            .hook_weight
            .as_deref()
            .and_then(|w| w.trim().parse::<i64>().ok())
            .unwrap_or(0)
    }

    pub fn kind(&self) -> Option<&str> {
        self.head.kind.as_deref()
    }

    pub fn name(&self) -> Option<&str> {
        self.head.name.as_deref()
    }

    /// Whether this document is `kind` named `name` in `namespace`. A document without a
    /// namespace lands in the release namespace, which may be any namespace, so it matches.
    pub(crate) fn is(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.kind() == Some(kind)
            && self.name() == Some(name)
            && same_namespace(self.head.namespace.as_deref(), namespace)
    }
}

/// A value of a map a [`Document`] reads: a string, or anything else as JSON spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar<'a> {
    Text(Cow<'a, str>),
    Other(String),
}

impl<'a> Scalar<'a> {
    fn of(value: &Value) -> Scalar<'a> {
        match value {
            Value::String(s) => Scalar::Text(Cow::Owned(s.clone())),
            other => Scalar::Other(other.to_string()),
        }
    }

    /// The text a label selector compares: a string as it is, anything else as JSON.
    fn into_text(self) -> Cow<'a, str> {
        match self {
            Scalar::Text(text) => text,
            Scalar::Other(json) => Cow::Owned(json),
        }
    }
}

/// Namespaces compare equal when either is unset (the release namespace).
pub(crate) fn same_namespace(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Splits a comma-separated annotation value the way Helm does: trimmed, lower-cased, no empties.
pub(crate) fn parse_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Inputs from this size on are read by two threads.
pub(crate) const PARALLEL_FROM: usize = 1 << 20;

/// Work split over two threads (drafts, copies) is split from this many items on.
pub(crate) const PARALLEL_PARSES: usize = 16;

/// The whole input.
#[derive(Debug)]
pub struct Documents<'a> {
    pub(crate) input: &'a str,
    pub docs: Vec<Document<'a>>,
    /// `(hash of kind and name, index)` of every document with both, sorted: what
    /// [`Documents::find`] looks up instead of visiting every document. Built on first use.
    by_name: OnceLock<Vec<(u64, usize)>>,
}

impl<'a> Documents<'a> {
    /// Splits the input and reads every document's head (on two threads for a large input).
    pub fn read(input: &'a [u8]) -> Result<Self> {
        Self::read_with(input, input.len() >= PARALLEL_FROM)
    }

    /// [`Documents::read`], with or without a second thread (the result is the same).
    pub fn read_with(input: &'a [u8], threads: bool) -> Result<Self> {
        // Three passes over the whole input: the split, the UTF-8 check and the search for a
        // `\r`; the last two run beside the first on a large input.
        let check = || (std::str::from_utf8(input), lines::contains(input, b'\r'));
        let (raws, (utf8, any_cr)) = if threads {
            std::thread::scope(|scope| {
                let other = threads::spawn(scope, check);
                let raws = stream::split(input);
                (raws, threads::join(other))
            })
        } else {
            (stream::split(input), check())
        };
        let input = utf8.map_err(|e| {
            let at = e.valid_up_to();
            let index = raws.iter().position(|d| d.end > at).unwrap_or(0);
            Error::new(format!(
                "the input is not UTF-8 (invalid byte at offset {at}); Kubernetes manifests must be UTF-8"
            ))
            .at(&DocLabel {
                index,
                kind: None,
                namespace: None,
                name: None,
                source: None,
            })
        })?;
        // Heads are independent: a large input is read by two threads, half the documents each.
        let docs = threads::map_halves(&raws, threads, |i, raw: &RawDoc| {
            Document::read(i, input, *raw, any_cr)
        });
        Ok(Documents {
            input,
            docs,
            by_name: OnceLock::new(),
        })
    }

    /// Whether the input came from Helm 4's post-renderer pipeline (every document carries the
    /// filename annotation there; `helm template` output never does).
    pub(crate) fn is_helm4_postrender_input(&self) -> bool {
        self.docs.iter().any(|d| d.head.filename.is_some())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Document<'a>> {
        self.docs.iter()
    }

    pub fn get(&self, index: usize) -> &Document<'a> {
        &self.docs[index]
    }

    /// Builds the index [`Documents::find`] uses (it is built on first use otherwise).
    pub(crate) fn index_names(&self) {
        self.names_index();
    }

    fn names_index(&self) -> &[(u64, usize)] {
        self.by_name.get_or_init(|| {
            let mut index: Vec<(u64, usize)> = self
                .docs
                .iter()
                .filter_map(|d| Some((hash::pair(d.kind()?, d.name()?), d.index)))
                .collect();
            index.sort_unstable();
            index
        })
    }

    /// Documents that are `kind`/`name` in `namespace`, hooks included, in stream order.
    pub(crate) fn find<'s>(
        &'s self,
        kind: &'s str,
        namespace: Option<&'s str>,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Document<'a>> + 's {
        let index = self.names_index();
        let hash = hash::pair(kind, name);
        let first = index.partition_point(|(h, _)| *h < hash);
        index[first..]
            .iter()
            .take_while(move |(h, _)| *h == hash)
            .map(|(_, i)| &self.docs[*i])
            .filter(move |d| d.is(kind, namespace, name))
    }

    /// Whether any document (of any kind) already has this kind and name.
    pub(crate) fn name_taken(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        self.find(kind, namespace, name).next().is_some()
    }
}

/// The filename annotation value for documents generated from `source` (a template path):
/// `chart/templates/web.yaml` → `chart/templates/web-migration-hook.yaml`.
pub(crate) fn generated_filename(source: &str) -> String {
    let (dir, file) = match source.rfind('/') {
        Some(i) => (&source[..=i], &source[i + 1..]),
        None => ("", source),
    };
    let stem = file
        .strip_suffix(".yaml")
        .or_else(|| file.strip_suffix(".yml"))
        .or_else(|| file.strip_suffix(".tpl"))
        .unwrap_or(file);
    // A leading `_` would make Helm treat the file as a partial and drop it.
    let stem = stem.trim_start_matches('_');
    format!("{dir}{stem}-migration-hook.yaml")
}

/// Is `key` one of ours?
pub(crate) fn is_mark_key(key: &str) -> bool {
    key.starts_with(keys::MARK_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_heads_and_sources() {
        let input = "---\n# Source: c/templates/a.yaml\nkind: A\nmetadata:\n  name: a\n---\n{kind: B, metadata: {name: b, annotations: {helm.sh/hook: \" Pre-Install ,post-upgrade\", helm.sh/hook-weight: x}}}\n";
        let docs = Documents::read(input.as_bytes()).unwrap();
        assert_eq!(docs.docs.len(), 2);
        assert_eq!(docs.get(0).source.as_deref(), Some("c/templates/a.yaml"));
        assert_eq!(docs.get(1).name(), Some("b"));
        assert_eq!(docs.get(1).hook_events(), ["pre-install", "post-upgrade"]);
        assert_eq!(docs.get(1).hook_weight(), 0);
        assert!(!docs.is_helm4_postrender_input());
    }

    #[test]
    fn invalid_utf8_names_the_document() {
        let e = Documents::read(b"kind: A\n---\nkind: \xff\n").unwrap_err();
        assert!(e.to_string().contains("(document 2)"), "{e}");
    }

    #[test]
    fn generated_filenames() {
        assert_eq!(
            generated_filename("c/templates/web.yaml"),
            "c/templates/web-migration-hook.yaml"
        );
        assert_eq!(
            generated_filename("c/templates/_x.tpl"),
            "c/templates/x-migration-hook.yaml"
        );
        assert_eq!(generated_filename("web"), "web-migration-hook.yaml");
    }
}
