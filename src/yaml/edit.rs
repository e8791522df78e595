//! Surgical edits: remove sequence items and mapping entries from a document's text, leaving
//! every other byte (comments, quoting, key order, `# Source:` lines) alone.
//!
//! The same removals are applied to the parsed value, which is the meaning we intend. The text
//! edit is used only if the edited text parses back to exactly that value; otherwise (flow
//! style, anchors, anything unexpected) the document is re-emitted from the value, which keeps
//! its meaning but not its formatting.

use std::ops::Range;

use serde_json::Value;
use serde_saphyr::granit_parser::{Event, Parser, StructureStyle};

use crate::yaml;

/// One thing to take out of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// Item `index` of the sequence at `path`.
    Item {
        path: Vec<&'static str>,
        index: usize,
    },
    /// Entry `key` of the mapping at `path`.
    Key {
        path: Vec<&'static str>,
        key: String,
    },
}

/// One step of a path into a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Key(String),
    Index(usize),
}

impl Removal {
    fn target(&self) -> Vec<Step> {
        let (path, last) = match self {
            Removal::Item { path, index } => (path, Step::Index(*index)),
            Removal::Key { path, key } => (path, Step::Key(key.clone())),
        };
        let mut steps: Vec<Step> = path.iter().map(|s| Step::Key(s.to_string())).collect();
        steps.push(last);
        steps
    }
}

/// How an edited document is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edited {
    /// The original text with these byte ranges (relative to the body) removed.
    Surgical(Vec<Range<usize>>),
    /// The whole body re-emitted (the leading comments are kept).
    Reemitted(String),
}

/// Applies `removals` to `body` (whose parsed value is `value`). A mapping value left empty
/// by them (`annotations: {}`, `initContainers: []`) is removed with its key, and so on up.
pub(crate) fn apply(body: &str, value: &Value, removals: &[Removal]) -> Edited {
    let targets = normalize(value, removals);
    let mut expected = value.clone();
    remove_all(&mut expected, &targets);
    if let Some(ranges) = text_ranges(body, &targets) {
        let edited = cut(body, &ranges);
        if yaml::parse(&edited).is_ok_and(|v| v == expected) {
            return Edited::Surgical(ranges);
        }
    }
    Edited::Reemitted(format!(
        "{}{}",
        leading_comments(body),
        yaml::emit(&expected)
    ))
}

/// `body` without `ranges` (sorted, disjoint).
pub(crate) fn cut(body: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for r in ranges {
        out.push_str(&body[at..r.start]);
        at = r.end;
    }
    out.push_str(&body[at..]);
    out
}

/// The comment and blank lines before the first content line (`# Source: …`), kept when a
/// document is re-emitted.
pub(crate) fn leading_comments(body: &str) -> &str {
    let mut end = 0;
    for line in body.split_inclusive('\n') {
        let t = line.trim();
        if !(t.is_empty() || t.starts_with('#')) {
            break;
        }
        end += line.len();
    }
    &body[..end]
}

/// The paths to delete: the removals that exist in `value`, where removing every child of a
/// mapping value is replaced by removing that value's entry.
fn normalize(value: &Value, removals: &[Removal]) -> Vec<Vec<Step>> {
    let mut targets: Vec<Vec<Step>> = removals
        .iter()
        .map(Removal::target)
        .filter(|t| lookup(value, t).is_some())
        .collect();
    targets.sort();
    targets.dedup();
    loop {
        let mut collapsed = None;
        for t in &targets {
            let parent = &t[..t.len() - 1];
            // Only a mapping entry's value can go away with its key.
            if !matches!(parent.last(), Some(Step::Key(_))) {
                continue;
            }
            let children = match lookup(value, parent) {
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(o)) => o.len(),
                _ => continue,
            };
            let doomed = targets
                .iter()
                .filter(|u| u.len() == t.len() && u.starts_with(parent))
                .count();
            if doomed == children {
                collapsed = Some(parent.to_vec());
                break;
            }
        }
        match collapsed {
            Some(parent) => {
                targets.retain(|t| !t.starts_with(&parent));
                targets.push(parent);
                targets.sort();
            }
            None => return targets,
        }
    }
}

fn lookup<'v>(value: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

fn lookup_mut<'v>(value: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, step| match step {
        Step::Key(k) => v.get_mut(k.as_str()),
        Step::Index(i) => v.get_mut(*i),
    })
}

/// Removes the (normalized) targets from a value; later indices first.
fn remove_all(value: &mut Value, targets: &[Vec<Step>]) {
    for t in targets.iter().rev() {
        let (last, parent) = t.split_last().expect("targets are never the root");
        match (lookup_mut(value, parent), last) {
            (Some(Value::Array(items)), Step::Index(i)) if *i < items.len() => {
                items.remove(*i);
            }
            (Some(Value::Object(map)), Step::Key(k)) => {
                map.shift_remove(k);
            }
            _ => {}
        }
    }
}

// ---- the text side -------------------------------------------------------------------------

/// A node of the document with its byte span.
#[derive(Debug)]
struct Node {
    start: usize,
    end: usize,
    kind: NodeKind,
}

#[derive(Debug)]
enum NodeKind {
    Scalar(String),
    Seq {
        block: bool,
        items: Vec<Node>,
    },
    Map {
        block: bool,
        entries: Vec<(Node, Node)>,
    },
}

/// Byte ranges to delete, or `None` if the document's shape is not one we edit as text.
fn text_ranges(body: &str, targets: &[Vec<Step>]) -> Option<Vec<Range<usize>>> {
    let root = span_tree(body)?;
    let mut ranges = Vec::new();
    for t in targets {
        let (last, parent_path) = t.split_last()?;
        let parent = lookup_node(&root, parent_path)?;
        let i = match (&parent.kind, last) {
            (NodeKind::Seq { block: true, items }, Step::Index(i)) => {
                (*i < items.len()).then_some(*i)?
            }
            (
                NodeKind::Map {
                    block: true,
                    entries,
                },
                Step::Key(k),
            ) => {
                // With duplicate keys Kubernetes sees the last; the verification catches the rest.
                let mut found = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, (key, _))| key_is(key, k));
                let (i, _) = found.next()?;
                if found.next().is_some() {
                    return None;
                }
                i
            }
            _ => return None,
        };
        ranges.push(child_range(body, parent, i)?);
    }
    ranges.sort_by_key(|r| r.start);
    if ranges.windows(2).any(|w| w[0].end > w[1].start) {
        return None;
    }
    Some(ranges)
}

fn key_is(key: &Node, name: &str) -> bool {
    matches!(&key.kind, NodeKind::Scalar(s) if s == name)
}

fn lookup_node<'n>(root: &'n Node, path: &[Step]) -> Option<&'n Node> {
    path.iter()
        .try_fold(root, |node, step| match (&node.kind, step) {
            (NodeKind::Map { entries, .. }, Step::Key(k)) => entries
                .iter()
                .rev() // the last of duplicate keys wins
                .find(|(key, _)| key_is(key, k))
                .map(|(_, v)| v),
            (NodeKind::Seq { items, .. }, Step::Index(i)) => items.get(*i),
            _ => None,
        })
}

fn child_range(body: &str, container: &Node, i: usize) -> Option<Range<usize>> {
    match &container.kind {
        NodeKind::Seq { items, .. } => {
            let start = item_line_start(body, items[i].start)?;
            let end = match items.get(i + 1) {
                Some(next) => item_line_start(body, next.start)?,
                None => line_end_after(body, items[i].end),
            };
            Some(start..end)
        }
        NodeKind::Map { entries, .. } => entry_range(body, entries, i),
        NodeKind::Scalar(_) => None,
    }
}

/// From the start of the key's line to the start of the next key's line (or the end of the
/// line where the value ends).
fn entry_range(body: &str, entries: &[(Node, Node)], i: usize) -> Option<Range<usize>> {
    let (key, value) = &entries[i];
    let start = own_line_start(body, key.start)?;
    let end = match entries.get(i + 1) {
        Some((next, _)) => own_line_start(body, next.start)?,
        None => line_end_after(body, value.end.max(key.end)),
    };
    Some(start..end)
}

/// The start of the line holding `at`, provided only spaces precede it there.
fn own_line_start(body: &str, at: usize) -> Option<usize> {
    let line_start = body[..at].rfind('\n').map_or(0, |i| i + 1);
    body[line_start..at]
        .bytes()
        .all(|b| b == b' ')
        .then_some(line_start)
}

/// The start of the line holding the `-` indicator of the item whose content starts at `at`.
fn item_line_start(body: &str, at: usize) -> Option<usize> {
    let before = body[..at].trim_end_matches([' ', '\n', '\r']);
    if !before.ends_with('-') {
        return None;
    }
    own_line_start(body, before.len() - 1)
}

/// The end (after the newline) of the line where content ending at `end` ends. Block scalars'
/// spans run on into the next line's indentation, which is not theirs.
fn line_end_after(body: &str, end: usize) -> usize {
    let trimmed = body[..end].trim_end_matches([' ', '\t']);
    if trimmed.ends_with('\n') {
        return trimmed.len();
    }
    match body[end..].find('\n') {
        Some(i) => end + i + 1,
        None => body.len(),
    }
}

/// The document's node tree with spans, or `None` for anything we do not edit as text
/// (anchors and aliases, tags, several documents, a parse error).
fn span_tree(body: &str) -> Option<Node> {
    let mut events = Parser::new_from_str(body).map(|item| {
        item.ok().and_then(|(event, span)| {
            Some((event, span.start.byte_offset()?, span.end.byte_offset()?))
        })
    });
    loop {
        match events.next()?? {
            (Event::StreamStart | Event::DocumentStart(..), ..) => continue,
            (event, start, end) => {
                let root = node(event, start, end, &mut events)?;
                return match events.next()?? {
                    (Event::DocumentEnd, ..) => Some(root),
                    _ => None,
                };
            }
        }
    }
}

type Spanned<'e> = Option<(Event<'e>, usize, usize)>;

fn node<'e>(
    event: Event<'e>,
    start: usize,
    end: usize,
    events: &mut impl Iterator<Item = Spanned<'e>>,
) -> Option<Node> {
    match event {
        Event::Scalar(text, _, 0, None) => Some(Node {
            start,
            end,
            kind: NodeKind::Scalar(text.into_owned()),
        }),
        Event::SequenceStart(style, 0, None) => {
            let mut items = Vec::new();
            loop {
                match events.next()?? {
                    (Event::SequenceEnd, ..) => break,
                    (e, s, en) => items.push(node(e, s, en, events)?),
                }
            }
            let end = items.last().map_or(end, |n| n.end);
            Some(Node {
                start,
                end,
                kind: NodeKind::Seq {
                    block: style == StructureStyle::Block,
                    items,
                },
            })
        }
        Event::MappingStart(style, 0, None) => {
            let mut entries = Vec::new();
            loop {
                let key = match events.next()?? {
                    (Event::MappingEnd, ..) => break,
                    (e, s, en) => node(e, s, en, events)?,
                };
                let (e, s, en) = events.next()??;
                entries.push((key, node(e, s, en, events)?));
            }
            let end = entries.last().map_or(end, |(k, v)| v.end.max(k.end));
            Some(Node {
                start,
                end,
                kind: NodeKind::Map {
                    block: style == StructureStyle::Block,
                    entries,
                },
            })
        }
        // Aliases, anchors (id ≠ 0) and tags: not edited as text.
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &'static str) -> Vec<&'static str> {
        p.split('.').collect()
    }

    /// Item `index` of the list at dotted `p`.
    fn item(p: &'static str, index: usize) -> Removal {
        Removal::Item {
            path: path(p),
            index,
        }
    }

    fn surgical(body: &str, removals: &[Removal]) -> String {
        let value = yaml::parse(body).unwrap();
        match apply(body, &value, removals) {
            Edited::Surgical(ranges) => cut(body, &ranges),
            Edited::Reemitted(text) => panic!("fell back to re-emitting:\n{text}"),
        }
    }

    const DEPLOYMENT: &str = "# Source: c/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    keep: \"yes\"
    migration-hook/container: migrate
spec:
  template:
    metadata:
      annotations:
        migration-hook/container: migrate  # ours
    spec:
      initContainers:
        - name: clone
          image: git
        - name: migrate
          image: app
          args:
            - |
              multi
              line

        - name: after
          image: x
      containers:
      - name: app
        image: app
        volumeMounts: [{name: v, mountPath: /v}]
";

    #[test]
    fn removes_an_item_and_annotations_keeping_everything_else() {
        let out = surgical(
            DEPLOYMENT,
            &[
                item("spec.template.spec.initContainers", 1),
                Removal::Key {
                    path: path("metadata.annotations"),
                    key: "migration-hook/container".into(),
                },
                Removal::Key {
                    path: path("spec.template.metadata.annotations"),
                    key: "migration-hook/container".into(),
                },
            ],
        );
        assert_eq!(
            out,
            "# Source: c/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    keep: \"yes\"
spec:
  template:
    spec:
      initContainers:
        - name: clone
          image: git
        - name: after
          image: x
      containers:
      - name: app
        image: app
        volumeMounts: [{name: v, mountPath: /v}]
"
        );
    }

    #[test]
    fn last_and_only_items() {
        let body =
            "spec:\n  initContainers:\n  - name: a\n  - name: b\n  containers:\n  - name: c\n";
        let last = surgical(body, &[item("spec.initContainers", 1)]);
        assert_eq!(
            last,
            "spec:\n  initContainers:\n  - name: a\n  containers:\n  - name: c\n"
        );
        let body = "spec:\n  initContainers:\n  -\n    name: a\n  containers:\n  - name: c\n";
        let only = surgical(body, &[item("spec.initContainers", 0)]);
        assert_eq!(only, "spec:\n  containers:\n  - name: c\n");
    }

    #[test]
    fn crlf_and_no_final_newline() {
        let body = "a:\r\n  - x\r\n  - y\r\nb: 1";
        let out = surgical(body, &[item("a", 0)]);
        assert_eq!(out, "a:\r\n  - y\r\nb: 1");
        let body = "b: 1\na:\n  - x\n  - y";
        assert_eq!(surgical(body, &[item("a", 1)]), "b: 1\na:\n  - x\n");
    }

    #[test]
    fn flow_style_falls_back_to_reemitting() {
        let body = "# Source: x\na: [1, 2]\nb: 0644\n";
        let value = yaml::parse(body).unwrap();
        let edited = apply(body, &value, &[item("a", 0)]);
        assert_eq!(
            edited,
            Edited::Reemitted("# Source: x\na:\n- 2\nb: 420\n".into())
        );
    }

    #[test]
    fn anchors_fall_back_to_reemitting() {
        let body = "a:\n  - &x {n: 1}\n  - *x\n";
        let value = yaml::parse(body).unwrap();
        let edited = apply(body, &value, &[item("a", 0)]);
        assert!(matches!(edited, Edited::Reemitted(_)));
    }
}
