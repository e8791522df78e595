//! Promotion in place (`docs/design.md` §6): a ConfigMap, Secret or ServiceAccount of the
//! release that nothing but the hoisted migration uses becomes the hook itself (same name, same
//! data, the Job's events, the dependency weight and delete policy), instead of a renamed copy
//! next to an original the release keeps carrying unused. The Job keeps its reference.
//!
//! "Nothing else uses it" is decided conservatively, on the text: no document of the stream
//! other than the object itself names it as a whole word (a custom resource may reference a
//! Secret by name), except the marked workloads, which are read as they will be written (minus
//! the hoisted init container and the marks): a main container, an init container that stays,
//! a volume the workload keeps, `imagePullSecrets` that still name it make it shared. A shared
//! object gets a renamed copy (`super::dependencies`), and the account says who shares it.
//!
//! On a release that already has the object as an ordinary resource (the first upgrade with
//! migration-hook), the pre-upgrade hook replaces it by name (`before-hook-creation` is always
//! in the policy), and the upgrade then deletes the old release resource, since the new
//! manifest no longer has it: harmless, since only the migration, which has run by then,
//! reads it (`docs/helm-facts.md` §4, §5).

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::diagnostic::Result;
use crate::input::document::{Document, Documents};
use crate::kube::keys;
use crate::kube::references::RefKind;
use crate::plan::WorkloadEdit;
use crate::plan::dependencies::{Context, Copies, Dependency};
use crate::yaml;
use crate::yaml::edit::{Edited, Removal, leading_comments};

/// An original document that becomes the hook.
#[derive(Debug, Clone)]
pub(crate) struct Promotion {
    pub(crate) doc: usize,
    pub(crate) kind: RefKind,
    pub(crate) events: Vec<String>,
    /// Kept below every Job that uses it.
    pub(crate) weight: i64,
    pub(crate) delete_policy: Vec<String>,
}

/// Who else uses the objects the Jobs need, and why an object was not promoted.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// The marked workloads' removals, by document: their text still holds what moves into
    /// the Jobs.
    edited: HashMap<usize, Vec<Removal>>,
    /// Name → the documents whose text names it as a whole word, for every ConfigMap, Secret
    /// and ServiceAccount name of the stream. Built on first use, in one pass over the input.
    mentions: Option<HashMap<String, Vec<usize>>>,
    /// Names looked up so far: the first few are searched for directly, which is cheaper
    /// than indexing every word of a large stream.
    lookups: usize,
    /// A marked workload as it will be written, parsed on first use.
    remaining: HashMap<usize, Value>,
    /// Document → why it was not promoted in place, for the account.
    refused: HashMap<usize, String>,
}

impl Usage {
    pub(crate) fn new<'e>(edits: impl Iterator<Item = &'e WorkloadEdit>) -> Usage {
        Usage {
            edited: edits.map(|e| (e.doc, e.removals.clone())).collect(),
            ..Usage::default()
        }
    }

    /// Why document `doc` was not promoted in place, if it was considered.
    pub(crate) fn refusal(&self, doc: usize) -> Option<String> {
        self.refused.get(&doc).cloned()
    }

    /// Where the stream, besides document `own` and what moves into the Jobs, names `name`:
    /// one description per document.
    /// `workload` is the migration's own workload, already known not to use `name` beside the
    /// migration.
    fn users(
        &mut self,
        docs: &Documents,
        own: usize,
        workload: usize,
        name: &str,
    ) -> Result<Vec<String>> {
        /// Lookups searched for directly before the stream's words are indexed.
        const DIRECT: usize = 8;
        self.lookups += 1;
        let found: Vec<usize> =
            if name.contains('.') || (self.mentions.is_none() && self.lookups <= DIRECT) {
                // Not a word of the index (rare), or one of the first few names: scanned directly.
                docs.iter()
                    .filter(|d| names(d.text, name))
                    .map(|d| d.index)
                    .collect()
            } else {
                let mentions = self.mentions.get_or_insert_with(|| index(docs));
                mentions.get(name).cloned().unwrap_or_default()
            };
        // The marked workloads first: what they still use is named precisely.
        let (mut users, mut others) = (Vec::new(), Vec::new());
        for d in found.into_iter().filter(|d| *d != own && *d != workload) {
            let doc = docs.get(d);
            let Some(removals) = self.edited.get(&d) else {
                others.push(format!("{}", doc.label()));
                continue;
            };
            let remaining = match self.remaining.entry(d) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let mut value = doc.parse()?.into_owned();
                    apply(&mut value, removals);
                    e.insert(value)
                }
            };
            if let Some(at) = where_named(remaining, name) {
                users.push(format!("{} {at}", doc.label()));
            }
        }
        users.extend(others);
        Ok(users)
    }
}

/// Promotes `doc` (the release's document for `dep`) for the migration `cx`, unless something
/// else uses it or it cannot be: the index of the promotion, or `None` (the reason is kept for
/// the account).
pub(crate) fn in_place(
    docs: &Documents,
    copies: &mut Copies,
    found: &[&Document],
    doc: &Document,
    dep: &Dependency,
    cx: &Context,
) -> Result<Option<usize>> {
    let refuse = |copies: &mut Copies, why: String| {
        copies.usage.refused.entry(doc.index).or_insert(why);
        Ok(None)
    };
    if doc.is_hook() {
        return refuse(copies, "the chart's own hook".into());
    }
    if cx.argocd {
        return refuse(
            copies,
            "under Argo CD nothing is promoted in place, so the original stays an application resource".into(),
        );
    }
    if found.len() > 1 {
        return refuse(
            copies,
            format!("the stream has {} documents of that name", found.len()),
        );
    }
    if let Some(i) = copies.promoted.iter().position(|p| p.doc == doc.index) {
        let p = &mut copies.promoted[i];
        if p.events == cx.events && p.delete_policy == cx.dependency_delete_policy {
            p.weight = p.weight.min(cx.dependency_weight);
            return Ok(Some(i));
        }
        return refuse(
            copies,
            "promoted in place for another Job, with other events or delete policy".into(),
        );
    }
    if let Some(why) = copies.usage.refused.get(&doc.index) {
        return refuse(copies, why.clone());
    }
    // What the marked workload itself keeps using is shared: no need to search the stream.
    if cx
        .used_beside
        .contains(&format!("{}/{}", dep.kind.kind(), dep.name))
    {
        return refuse(
            copies,
            format!("also used by {} beside the migration", cx.workload),
        );
    }
    let value = doc.parse()?;
    if annotations(&value).is_some_and(|a| a.contains_key(keys::RESOURCE_POLICY)) {
        return refuse(
            copies,
            format!(
                "it carries {}, so it is meant to outlive hooks",
                keys::RESOURCE_POLICY
            ),
        );
    }
    let users = copies
        .usage
        .users(docs, doc.index, cx.workload.index, &dep.name)?;
    if let Some(first) = users.first() {
        let more = match users.len() {
            1 => String::new(),
            2 => format!("; and named in {}", users[1]),
            3 => format!("; and named in {} and 1 other document", users[1]),
            n => format!("; and named in {} and {} other documents", users[1], n - 2),
        };
        return refuse(copies, format!("also used by {first}{more}"));
    }
    copies.promoted.push(Promotion {
        doc: doc.index,
        kind: dep.kind,
        events: cx.events.to_vec(),
        weight: cx.dependency_weight,
        delete_policy: cx.dependency_delete_policy.to_vec(),
    });
    Ok(Some(copies.promoted.len() - 1))
}

/// Annotations that bind a ServiceAccount to a cloud identity by its name.
const CLOUD_IDENTITY: &[&str] = &[
    "iam.gke.io/gcp-service-account",
    "eks.amazonaws.com/role-arn",
    "azure.workload.identity/client-id",
];

/// The ServiceAccount rule: one that nothing else in the release uses, binds or names, and
/// that no cloud identity is bound to, is promoted in place like a ConfigMap (on the Job's
/// events); `None` leaves it to the ServiceAccount rules of `super::dependencies`.
pub(crate) fn service_account(
    docs: &Documents,
    copies: &mut Copies,
    found: &[&Document],
    dep: &Dependency,
    cx: &Context,
) -> Result<Option<usize>> {
    let Some(doc) = found.iter().find(|d| !d.is_hook()) else {
        return Ok(None);
    };
    let value = doc.parse()?;
    if let Some(key) =
        annotations(&value).and_then(|a| CLOUD_IDENTITY.iter().find(|k| a.contains_key(**k)))
    {
        copies
            .usage
            .refused
            .entry(doc.index)
            .or_insert(format!("a cloud identity is bound to it by name ({key})"));
        return Ok(None);
    }
    in_place(docs, copies, found, doc, dep, cx)
}

/// The edits of the promoted documents, merged into `edits` (kept in document order): each is
/// re-emitted with the hook annotations set (the surgical editor only removes).
pub(crate) fn add_edits(
    docs: &Documents,
    promoted: &[Promotion],
    edits: &mut Vec<WorkloadEdit>,
) -> Result<()> {
    for p in promoted {
        let doc = docs.get(p.doc);
        let mut value = doc.parse()?.into_owned();
        let set = vec![
            (keys::HOOK.to_string(), p.events.join(",")),
            (keys::HOOK_WEIGHT.to_string(), p.weight.to_string()),
            (
                keys::HOOK_DELETE_POLICY.to_string(),
                p.delete_policy.join(","),
            ),
        ];
        set_annotations(&mut value, &set);
        let text = yaml::emit(&value);
        // As for generated documents: the text must read back as the value (the message never
        // shows it: a Secret's data).
        debug_assert!(
            yaml::parse(&text).is_ok_and(|read| read == value),
            "a promoted {} reads back differently from the value it was emitted from",
            p.kind.kind()
        );
        edits.push(WorkloadEdit {
            doc: p.doc,
            label: doc.label(),
            removals: Vec::new(),
            converted: false,
            edited: Edited::Reemitted(format!("{}{text}", leading_comments(doc.body))),
            set_annotations: set,
        });
    }
    edits.sort_by_key(|e| e.doc);
    Ok(())
}

/// Sets `metadata.annotations` entries, making the mappings as needed.
fn set_annotations(value: &mut Value, set: &[(String, String)]) {
    let Some(root) = value.as_object_mut() else {
        return;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let annotations = meta
        .as_object_mut()
        .expect("made an object above")
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if !annotations.is_object() {
        *annotations = Value::Object(Map::new());
    }
    let annotations = annotations.as_object_mut().expect("made an object above");
    for (k, v) in set {
        annotations.insert(k.clone(), Value::String(v.clone()));
    }
}

fn annotations(value: &Value) -> Option<&Map<String, Value>> {
    value.get("metadata")?.get("annotations")?.as_object()
}

/// A byte of a name-like word: names are delimited by anything else (`.` included, so that
/// `app-config.yaml` names `app-config`: conservative).
fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether `text` holds `name` as a whole word.
pub(crate) fn names(text: &str, name: &str) -> bool {
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(at, _)| {
        let end = at + name.len();
        (at == 0 || !word_byte(bytes[at - 1])) && (end == bytes.len() || !word_byte(bytes[end]))
    })
}

/// Every ConfigMap, Secret and ServiceAccount name of the stream (without a `.`) → the
/// documents whose text holds it as a word.
fn index(docs: &Documents) -> HashMap<String, Vec<usize>> {
    let mut wanted: HashMap<&str, Vec<usize>> = HashMap::new();
    for d in docs.iter() {
        if matches!(d.kind(), Some("ConfigMap" | "Secret" | "ServiceAccount"))
            && let Some(name) = d.name()
            && !name.contains('.')
        {
            wanted.entry(name).or_default();
        }
    }
    let (shortest, longest) = wanted.keys().fold((usize::MAX, 0), |(s, l), n| {
        (s.min(n.len()), l.max(n.len()))
    });
    for d in docs.iter() {
        for word in d.text.split(|c: char| !c.is_ascii() || !word_byte(c as u8)) {
            if word.len() < shortest || word.len() > longest {
                continue;
            }
            if let Some(list) = wanted.get_mut(word)
                && list.last() != Some(&d.index)
            {
                list.push(d.index);
            }
        }
    }
    wanted
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// `value` with the removals of a workload edit applied (a container or an entry goes; what
/// is left empty does not matter here).
fn apply(value: &mut Value, removals: &[Removal]) {
    // Later items first, so that earlier indices stay valid.
    let mut ordered: Vec<&Removal> = removals.iter().collect();
    ordered.sort_by_key(|r| match r {
        Removal::Item { index, .. } => std::cmp::Reverse(*index),
        Removal::Key { .. } => std::cmp::Reverse(usize::MAX),
    });
    for r in ordered {
        match r {
            Removal::Item { path, index } => {
                if let Some(items) = lookup(value, path).and_then(Value::as_array_mut)
                    && *index < items.len()
                {
                    items.remove(*index);
                }
            }
            Removal::Key { path, key } => {
                if let Some(map) = lookup(value, path).and_then(Value::as_object_mut) {
                    map.shift_remove(key);
                }
            }
        }
    }
}

fn lookup<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, k| v.get_mut(*k))
}

/// Where in `value` a key or string names `name`: the container, init container or volume
/// (by its name), or the field path. `None` when nothing does. A reference (a field `name` or
/// `…Name`) is preferred to a label or the object's own name.
fn where_named(value: &Value, name: &str) -> Option<String> {
    type Path<'v> = Vec<(String, &'v Value)>;
    fn walk<'v>(v: &'v Value, name: &str, path: &mut Path<'v>, out: &mut Vec<Path<'v>>) {
        match v {
            Value::String(s) if names(s, name) => out.push(path.clone()),
            Value::Object(map) => {
                for (k, child) in map {
                    path.push((k.clone(), child));
                    if names(k, name) {
                        out.push(path.clone());
                    }
                    walk(child, name, path, out);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    path.push((format!("[{i}]"), child));
                    walk(child, name, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(value, name, &mut Vec::new(), &mut found);
    let reference = |p: &Path| {
        p.last()
            .is_some_and(|(k, _)| k == "name" || k.ends_with("Name"))
            && p.first().is_some_and(|(k, _)| k != "metadata")
    };
    let path = found
        .iter()
        .find(|p| reference(p))
        .or_else(|| {
            found
                .iter()
                .find(|p| p.first().is_some_and(|(k, _)| k != "metadata"))
        })
        .or_else(|| found.first())?;
    // The innermost named item of a pod spec list, if any.
    for pair in path.windows(2).rev() {
        let what = match pair[0].0.as_str() {
            "containers" => "container",
            "initContainers" => "init container",
            "ephemeralContainers" => "ephemeral container",
            "volumes" => "volume",
            _ => continue,
        };
        if let Some(n) = pair[1].1.get("name").and_then(Value::as_str) {
            return Some(format!("{what} {n:?}"));
        }
    }
    let mut at = String::new();
    for (step, _) in path {
        if !step.starts_with('[') && !at.is_empty() {
            at.push('.');
        }
        at.push_str(step);
    }
    Some(format!("at {at}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn whole_words_only() {
        assert!(names("name: app-db\n", "app-db"));
        assert!(names("file app-db.yaml", "app-db"));
        assert!(!names("name: app-db-migration-hook", "app-db"));
        assert!(!names("name: my-app-db", "app-db"));
        assert!(!names("APP_DB_x", "APP_DB"));
    }

    #[test]
    fn names_the_container_that_uses_it() {
        let pod = json!({"spec": {"template": {"spec": {
            "containers": [{"name": "web", "envFrom": [{"configMapRef": {"name": "cfg"}}]}],
            "volumes": [{"name": "v", "secret": {"secretName": "s"}}]
        }}}});
        assert_eq!(
            where_named(&pod, "cfg").as_deref(),
            Some("container \"web\"")
        );
        assert_eq!(where_named(&pod, "s").as_deref(), Some("volume \"v\""));
        assert_eq!(where_named(&pod, "nothing"), None);
    }
}
