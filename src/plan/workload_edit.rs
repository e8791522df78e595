//! What a marked workload loses: the hoisted init container and the marking annotations. The
//! edit is kept as removals (its meaning) and as the edited text (what is written).

use serde_json::Value;

use crate::diagnostic::{DocLabel, Result};
use crate::input::document::{Document, is_mark_key};
use crate::kube::workload::WorkloadKind;
use crate::yaml::edit::{self, Edited, Removal};

/// A marked workload's edit.
#[derive(Debug)]
pub struct WorkloadEdit {
    pub doc: usize,
    pub label: DocLabel,
    /// What was taken out: the intended meaning of the edit (a mapping left empty goes with its
    /// key). The account lists them; tests apply them to Kubernetes' own reading of the input.
    pub removals: Vec<Removal>,
    /// Annotations set at `metadata.annotations` (a dependency promoted to a hook in place).
    pub set_annotations: Vec<(String, String)>,
    /// The document is a marked Job replaced by its hook Job (`Edited::Reemitted`), which is
    /// not the input minus removals: it reads as that Job's text.
    pub converted: bool,
    pub edited: Edited,
}

/// A marked Job replaced whole by its hook Job, `text` (its leading comments kept).
pub(crate) fn converted(doc: &Document, text: &str) -> WorkloadEdit {
    WorkloadEdit {
        doc: doc.index,
        label: doc.label(),
        removals: Vec::new(),
        set_annotations: Vec::new(),
        converted: true,
        edited: Edited::Reemitted(format!("{}{text}", edit::leading_comments(doc.body))),
    }
}

/// The marked workload minus the hoisted init container (and those that only fed it, with
/// their volumes: `removed_init`, `removed_volumes`, indices) and our annotations; `None` when
/// nothing is to be taken out.
pub(crate) fn workload_edit(
    doc: &Document,
    value: &Value,
    kind: WorkloadKind,
    removed_init: &[usize],
    removed_volumes: &[usize],
) -> Result<Option<WorkloadEdit>> {
    // Paths of static names: thousands of edits are kept until the output is written.
    let at = |tail: &[&'static str]| -> Vec<&'static str> {
        kind.template_path().iter().chain(tail).copied().collect()
    };
    let mut removals = Vec::new();
    for (list, indices) in [
        ("initContainers", removed_init),
        ("volumes", removed_volumes),
    ] {
        let mut indices = indices.to_vec();
        indices.sort_unstable();
        for index in indices {
            removals.push(Removal::Item {
                path: at(&["spec", list]),
                index,
            });
        }
    }
    for path in [
        vec!["metadata", "annotations"],
        at(&["metadata", "annotations"]),
    ] {
        let found = path.iter().try_fold(value, |v, k| v.get(*k));
        for key in found
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if is_mark_key(key)
                && !removals.iter().any(
                    |r| matches!(r, Removal::Key { path: p, key: k } if *p == path && k == key),
                )
            {
                removals.push(Removal::Key {
                    path: path.clone(),
                    key: key.clone(),
                });
            }
        }
    }
    if removals.is_empty() {
        return Ok(None);
    }
    Ok(Some(WorkloadEdit {
        doc: doc.index,
        label: doc.label(),
        edited: edit::apply(doc.body, value, &removals),
        removals,
        set_annotations: Vec::new(),
        converted: false,
    }))
}
