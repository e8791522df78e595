//! Label hygiene: the migration pod must not be selected by any Service (it would receive
//! traffic) or PodDisruptionBudget (it would be counted) of the release, yet keep every other
//! label, because NetworkPolicies and mesh policies often grant database access by label
//! (`docs/design.md` §8).
//!
//! Removing one label a selector requires is enough to leave that selector. Labels are chosen
//! greedily: a label that is the only way out of some selector first; otherwise one that no
//! NetworkPolicy relies on, that leaves the most selectors at once, then by name (deterministic).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, DocLabel, Result};
use crate::hash;
use crate::input::document::{Document, Documents, same_namespace};
use crate::kube::label_selector::{Labels, Selector};

/// A label taken off the migration pod, and the selectors it had to leave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RemovedLabel {
    pub(crate) key: String,
    pub(crate) value: String,
    /// `Service/web`, …
    pub(crate) because: Vec<String>,
}

/// A selector found in the stream.
struct Found {
    doc: DocLabel,
    field: String,
    selector: Selector,
}

/// The documents whose selectors the label rules read, gathered once per run, so that each
/// migration looks only at the selectors that can match its labels.
///
/// Service selectors ([`Document::service_selector`]: by the line scanner for nearly every
/// Service) are indexed by one of their pairs (the rarest in the stream): a selector matches
/// only pods that carry all of its pairs, so a migration looks up its own labels' pairs. The
/// (few) PodDisruptionBudgets and NetworkPolicies are read per migration.
pub(crate) struct Selectors<'d> {
    /// Services: (document, pairs of its non-empty selector).
    services: Vec<(usize, Pairs<'d>)>,
    /// Hash of a `(key, value)` pair → positions in `services` of the selectors indexed by it.
    by_pair: HashMap<u64, Vec<usize>>,
    /// Services that do not parse: an error for a migration they may select.
    unreadable_services: Vec<usize>,
    pdbs: Vec<usize>,
    policies: Vec<usize>,
}

/// A Service selector as [`Document::service_selector`] reads it (no duplicate keys).
type Pairs<'d> = Vec<(Cow<'d, str>, Cow<'d, str>)>;

impl<'d> Selectors<'d> {
    pub(crate) fn new(docs: &'d Documents<'d>) -> Selectors<'d> {
        let mut services = Vec::new();
        let mut unreadable_services = Vec::new();
        let mut pdbs = Vec::new();
        let mut policies = Vec::new();
        for doc in docs.iter() {
            match doc.kind() {
                Some("Service") => match doc.service_selector() {
                    // An absent or empty selector selects no pods.
                    Ok(None) => {}
                    Ok(Some(pairs)) if pairs.is_empty() => {}
                    Ok(Some(pairs)) => services.push((doc.index, pairs)),
                    Err(_) => unreadable_services.push(doc.index),
                },
                Some("PodDisruptionBudget") => pdbs.push(doc.index),
                Some("NetworkPolicy") => policies.push(doc.index),
                _ => {}
            }
        }
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for (_, pairs) in &services {
            for (k, v) in pairs {
                *counts.entry(hash::pair(k, v)).or_default() += 1;
            }
        }
        let mut by_pair: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, (_, pairs)) in services.iter().enumerate() {
            let rarest = pairs
                .iter()
                .map(|(k, v)| hash::pair(k, v))
                .min_by_key(|h| counts[h])
                .expect("selectors are not empty");
            by_pair.entry(rarest).or_default().push(i);
        }
        Selectors {
            services,
            by_pair,
            unreadable_services,
            pdbs,
            policies,
        }
    }
}

/// The labels to remove from a migration pod with `labels` in `namespace`.
pub(crate) fn labels_to_remove(
    docs: &Documents,
    selectors: &Selectors,
    namespace: Option<&str>,
    labels: &Labels,
    job_label: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<RemovedLabel>> {
    if labels.is_empty() {
        return Ok(Vec::new());
    }
    let blockers = traffic_selectors(docs, selectors, namespace, labels)?;
    let policies = network_policy_selectors(docs, selectors, namespace, labels, None)?;
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
        for p in network_policy_selectors(docs, selectors, namespace, labels, Some(&removed_keys))?
        {
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

/// Services and PodDisruptionBudgets of the namespace whose selectors match `labels`, in
/// stream order.
fn traffic_selectors(
    docs: &Documents,
    selectors: &Selectors,
    namespace: Option<&str>,
    labels: &Labels,
) -> Result<Vec<Found>> {
    let mut out: Vec<(usize, Found)> = Vec::new();
    let mut push = |doc: &Document, selector: Selector| {
        if in_namespace(doc, namespace) && selector.matches(labels) {
            out.push((
                doc.index,
                Found {
                    doc: doc.label(),
                    field: "spec.selector".to_string(),
                    selector,
                },
            ));
        }
    };
    let mut candidates: Vec<usize> = labels
        .iter()
        .filter_map(|(k, v)| selectors.by_pair.get(&hash::pair(k, v)))
        .flatten()
        .copied()
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    for i in candidates {
        let (doc, pairs) = &selectors.services[i];
        if pairs
            .iter()
            .all(|(k, v)| labels.get(k.as_ref()).is_some_and(|l| l == v))
        {
            let selector = Selector {
                match_labels: pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                expressions: Vec::new(),
            };
            push(docs.get(*doc), selector);
        }
    }
    for &i in &selectors.unreadable_services {
        let doc = docs.get(i);
        // A Service selector names label values: one that names none of ours cannot select
        // the migration pod, and its parse error is left to whatever else reads it.
        if in_namespace(doc, namespace) && mentions_any_value(doc, labels) {
            doc.service_selector()?;
        }
    }
    for &i in &selectors.pdbs {
        let doc = docs.get(i);
        if !in_namespace(doc, namespace) {
            continue;
        }
        if let Some(selector) = doc
            .value()?
            .get("spec")
            .and_then(|s| s.get("selector"))
            .and_then(Selector::from_label_selector)
        {
            push(doc, selector);
        }
    }
    out.sort_by_key(|(index, _)| *index);
    Ok(out.into_iter().map(|(_, found)| found).collect())
}

/// NetworkPolicy pod selectors that grant the migration pod access and match `labels`: a
/// policy's own selector when it allows egress, and ingress peers.
/// With `keys`, only policies that mention one of those label keys are read.
fn network_policy_selectors(
    docs: &Documents,
    selectors: &Selectors,
    namespace: Option<&str>,
    labels: &Labels,
    keys: Option<&[&str]>,
) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    for doc in selectors
        .policies
        .iter()
        .map(|&i| docs.get(i))
        .filter(|d| in_namespace(d, namespace))
    {
        if keys
            .is_some_and(|ks| !ks.iter().any(|k| doc.body.contains(k)) && !doc.body.contains('\\'))
        {
            continue;
        }
        let Some(spec) = doc.value()?.get("spec") else {
            continue;
        };
        // What grants the migration pod access: the policy's own selector when the policy
        // allows egress (the pods it selects may connect out), and the ingress peers of other
        // policies (a database's policy admitting the app's pods). An egress peer is a
        // destination: whether others may reach the migration pod does not matter to it.
        let mut candidates: Vec<(String, &Value)> = Vec::new();
        let grants_egress = spec.get("egress").is_some()
            || spec
                .get("policyTypes")
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|t| t == "Egress"));
        if let Some(s) = spec.get("podSelector").filter(|_| grants_egress) {
            candidates.push(("spec.podSelector".into(), s));
        }
        {
            let (list, peers) = ("ingress", "from");
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

/// Takes the removed labels off a pod template, and `metadata.labels` and `metadata` with them
/// when they are left empty.
pub(crate) fn strip_labels(template: &mut Value, removed: &[RemovedLabel]) {
    if let Some(Value::Object(meta)) = template.get_mut("metadata") {
        if let Some(Value::Object(l)) = meta.get_mut("labels") {
            for r in removed {
                l.shift_remove(&r.key);
            }
        }
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_some_and(|l| l.is_empty())
        {
            meta.shift_remove("labels");
        }
    }
    if template
        .get("metadata")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
        && let Some(t) = template.as_object_mut()
    {
        t.shift_remove("metadata");
    }
}
