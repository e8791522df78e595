//! Label hygiene: the migration pod must not be selected by any Service (it would receive
//! traffic) or PodDisruptionBudget (it would be counted) of the release, yet keep every other
//! label, because NetworkPolicies and mesh policies often grant database access by label
//! (`reference/pain-points.md` §4.6).
//!
//! Removing one label a selector requires is enough to leave that selector. Labels are chosen
//! greedily: a label that is the only way out of some selector first; otherwise one that no
//! NetworkPolicy relies on, that leaves the most selectors at once, then by name (deterministic).

use serde_json::Value;

use crate::diagnostic::{Diagnostic, DocLabel, Result};
use crate::document::{Document, Documents, same_namespace};
use crate::selector::{Labels, Selector};

/// A label taken off the migration pod, and the selectors it had to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedLabel {
    pub key: String,
    pub value: String,
    /// `Service/web`, …
    pub because: Vec<String>,
}

/// A selector found in the stream.
struct Found {
    doc: DocLabel,
    field: String,
    selector: Selector,
}

/// The labels to remove from a migration pod with `labels` in `namespace`.
pub fn plan(
    docs: &Documents,
    namespace: Option<&str>,
    labels: &Labels,
    job_label: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<RemovedLabel>> {
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    let blockers = traffic_selectors(docs, namespace, labels)?;
    let policies = network_policy_selectors(docs, namespace, labels, None)?;
    let relied_on = |key: &str| {
        policies
            .iter()
            .any(|p| p.selector.breaking_keys(labels).iter().any(|k| k == key))
    };

    let mut current = labels.clone();
    let mut removed: Vec<RemovedLabel> = Vec::new();
    let mut hopeless: Vec<usize> = Vec::new();
    loop {
        let matching: Vec<usize> = (0..blockers.len())
            .filter(|i| !hopeless.contains(i) && blockers[*i].selector.matches(&current))
            .collect();
        let Some(&first) = matching.first() else {
            break;
        };
        let candidates = blockers[first].selector.breaking_keys(&current);
        if candidates.is_empty() {
            diagnostics.push(
                Diagnostic::warning(format!(
                    "this selector matches every pod, so the migration pod of {job_label} counts toward it and no label removal can avoid that"
                ))
                .at(&blockers[first].doc)
                .field(blockers[first].field.clone()),
            );
            hopeless.push(first);
            continue;
        }
        // A selector that only one label can break forces that label; take forced ones first,
        // then the label no NetworkPolicy relies on that leaves the most selectors at once.
        let forced = matching.iter().find_map(|i| {
            match blockers[*i].selector.breaking_keys(&current).as_slice() {
                [only] => Some(only.clone()),
                _ => None,
            }
        });
        let best = forced.unwrap_or_else(|| {
            candidates
                .into_iter()
                .min_by_key(|k| {
                    let left = matching
                        .iter()
                        .filter(|i| blockers[**i].selector.breaking_keys(&current).contains(k))
                        .count();
                    (relied_on(k), std::cmp::Reverse(left), k.clone())
                })
                .expect("candidates is not empty")
        });
        let because = matching
            .iter()
            .filter(|i| {
                blockers[**i]
                    .selector
                    .breaking_keys(&current)
                    .contains(&best)
            })
            .map(|i| blockers[*i].doc.id())
            .collect();
        let value = current.remove(&best).unwrap_or_default();
        removed.push(RemovedLabel {
            key: best,
            value,
            because,
        });
    }

    if !removed.is_empty() {
        let removed_keys: Vec<&str> = removed.iter().map(|r| r.key.as_str()).collect();
        for p in network_policy_selectors(docs, namespace, labels, Some(&removed_keys))? {
            if p.selector.matches(labels) && !p.selector.matches(&current) {
                let lost: Vec<&str> = removed_keys
                    .iter()
                    .copied()
                    .filter(|k| p.selector.breaking_keys(labels).iter().any(|b| b == k))
                    .collect();
                diagnostics.push(
                    Diagnostic::warning(format!(
                        "selects the application's pods through {}, which the migration pod of {job_label} cannot carry (a Service or PodDisruptionBudget would select it); the migration may lose the network access this policy grants. Add a policy for the migration pod's remaining labels",
                        lost.iter().map(|k| format!("label {k:?}")).collect::<Vec<_>>().join(" and ")
                    ))
                    .at(&p.doc)
                    .field(p.field.clone()),
                );
            }
        }
    }
    Ok(removed)
}

/// Services and PodDisruptionBudgets of the namespace whose selectors match `labels`.
fn traffic_selectors(
    docs: &Documents,
    namespace: Option<&str>,
    labels: &Labels,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    for doc in docs.iter().filter(|d| in_namespace(d, namespace)) {
        match doc.kind() {
            // A Service selector names label values; one that names none of ours cannot match.
            Some("Service") if mentions_any_value(doc, labels) => {
                if let Some(selector) = doc
                    .value()?
                    .get("spec")
                    .and_then(|s| s.get("selector"))
                    .and_then(Selector::from_map)
                {
                    push_if_matching(&mut out, doc, "spec.selector", selector, labels);
                }
            }
            Some("PodDisruptionBudget") => {
                if let Some(selector) = doc
                    .value()?
                    .get("spec")
                    .and_then(|s| s.get("selector"))
                    .and_then(Selector::from_label_selector)
                {
                    push_if_matching(&mut out, doc, "spec.selector", selector, labels);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// NetworkPolicy pod selectors (the policy's own, and its peers') that match `labels`.
/// With `keys`, only policies that mention one of those label keys are read.
fn network_policy_selectors(
    docs: &Documents,
    namespace: Option<&str>,
    labels: &Labels,
    keys: Option<&[&str]>,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    for doc in docs
        .iter()
        .filter(|d| d.kind() == Some("NetworkPolicy") && in_namespace(d, namespace))
    {
        if keys
            .is_some_and(|ks| !ks.iter().any(|k| doc.body.contains(k)) && !doc.body.contains('\\'))
        {
            continue;
        }
        let Some(spec) = doc.value()?.get("spec") else {
            continue;
        };
        let mut candidates: Vec<(String, &Value)> = Vec::new();
        if let Some(s) = spec.get("podSelector") {
            candidates.push(("spec.podSelector".into(), s));
        }
        for (list, peers) in [("ingress", "from"), ("egress", "to")] {
            for (i, rule) in spec
                .get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                for (j, peer) in rule
                    .get(peers)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(s) = peer.get("podSelector") {
                        candidates.push((format!("spec.{list}[{i}].{peers}[{j}].podSelector"), s));
                    }
                }
            }
        }
        for (field, value) in candidates {
            if let Some(selector) = Selector::from_label_selector(value) {
                push_if_matching(&mut out, doc, &field, selector, labels);
            }
        }
    }
    Ok(out)
}

fn push_if_matching(
    out: &mut Vec<Found>,
    doc: &Document,
    field: &str,
    selector: Selector,
    labels: &Labels,
) {
    if selector.matches(labels) {
        out.push(Found {
            doc: doc.label(),
            field: field.to_string(),
            selector,
        });
    }
}

fn in_namespace(doc: &Document, namespace: Option<&str>) -> bool {
    same_namespace(doc.head.namespace.as_deref(), namespace)
}

/// Whether the document's text contains one of the label values (or an escape that could
/// spell one), so that its selector could name it.
fn mentions_any_value(doc: &Document, labels: &Labels) -> bool {
    doc.body.contains('\\') || labels.values().any(|v| doc.body.contains(v.as_str()))
}
