//! Marked workloads that run the same migration (same image, command, args, env, settings and
//! namespace) share one Job, which runs it once for all of them. A marked Job or CronJob,
//! which brings its own Job spec, is never merged.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::input::document::Documents;
use crate::plan::{Draft, FromJob};

/// Groups drafts that are the same migration (same image, command, args, env, settings and
/// namespace), in stream order; the first of a group supplies the pod template.
pub(crate) fn merge_identical(
    docs: &Documents,
    drafts: &[Draft],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<usize>> {
    let identity = |d: &Draft| {
        let c = &d.hoisted.template["spec"]["containers"][0];
        let ns = &docs.get(d.marked.doc).head.namespace;
        json!([
            c.get("image"),
            c.get("command"),
            c.get("args"),
            c.get("env"),
            c.get("envFrom"),
            ns,
            d.settings.identity(),
            // A Job or CronJob brings its own Job spec: never merged with another.
            (d.from_job != FromJob::Beside).then_some(d.marked.doc),
        ])
        .to_string()
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_identity: HashMap<String, usize> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        match by_identity.entry(identity(d)) {
            Entry::Occupied(g) => groups[*g.get()].push(i),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push(vec![i]);
            }
        }
    }
    for members in &groups {
        let first = &drafts[members[0]];
        for &other in &members[1..] {
            let differ = differing_keys(
                &first.hoisted.template["spec"],
                &drafts[other].hoisted.template["spec"],
            );
            let mut message = format!(
                "runs the same migration as {}; one Job runs it once for all of them",
                docs.get(first.marked.doc).label().id()
            );
            if !differ.is_empty() {
                message.push_str(&format!(
                    "; their pod specs differ in {} and the Job uses {}'s",
                    differ.join(", "),
                    docs.get(first.marked.doc).label().id()
                ));
            }
            diagnostics
                .push(Diagnostic::note(message).at(&docs.get(drafts[other].marked.doc).label()));
        }
    }
    groups
}

fn differing_keys(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
