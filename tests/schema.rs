//! What we emit is a valid Kubernetes object: every edited and every generated document of every
//! case, every corpus rendering marked as in `testdata/corpus-marks/`, and the corpus with each
//! container marked in turn, is read back from the output text and deserialized into its
//! k8s-openapi type (Kubernetes 1.37); the typed round trip must lose no field, since a lost
//! field is one Kubernetes does not know (a misspelling, or a field at the wrong place).
//!
//! One allowed exception, decided here: a field the *chart* wrote that k8s-openapi does not know
//! (newer than 1.37, or a chart's own typo) is carried over unchanged, since we copy chart content
//! as untyped data on purpose. It is allowed in an edited or generated document only where the
//! same field (same path, relative to the pod template for a Job) is already lost in the source
//! document. Anything else lost is ours, and fails the test.

mod common;

use std::collections::BTreeSet;

use common::inputs::{self, Input};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, PodTemplateSpec, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use migration_hook::Run;
use migration_hook::testing::document::Documents;
use migration_hook::testing::validate::dropped_fields;
use migration_hook::testing::workload::WorkloadKind;
use migration_hook::testing::yaml;
use serde_json::Value;

/// Fields of `value` its Kubernetes type does not keep, by `apiVersion` and `kind`; `Err` when
/// it is not of that type at all (a type error the API server would reject too).
fn lost_fields(value: &Value) -> Result<Vec<String>, String> {
    let api_version = value["apiVersion"].as_str().unwrap_or_default();
    let kind = value["kind"].as_str().unwrap_or_default();
    match (api_version, kind) {
        ("batch/v1", "Job") => dropped_fields::<Job>(value),
        ("batch/v1", "CronJob") => dropped_fields::<CronJob>(value),
        ("v1", "ConfigMap") => dropped_fields::<ConfigMap>(value),
        ("v1", "Secret") => dropped_fields::<Secret>(value),
        ("v1", "ServiceAccount") => dropped_fields::<ServiceAccount>(value),
        ("v1", "Pod") => dropped_fields::<Pod>(value),
        ("apps/v1", "Deployment") => dropped_fields::<Deployment>(value),
        ("apps/v1", "StatefulSet") => dropped_fields::<StatefulSet>(value),
        ("apps/v1", "DaemonSet") => dropped_fields::<DaemonSet>(value),
        ("apps/v1", "ReplicaSet") => dropped_fields::<ReplicaSet>(value),
        ("argoproj.io/v1alpha1", "Rollout") => {
            // No Rust type for Argo's CRD: check what Kubernetes itself defines in it.
            let mut lost = dropped_fields::<ObjectMeta>(&value["metadata"])?
                .into_iter()
                .map(|p| format!(".metadata{p}"))
                .collect::<Vec<_>>();
            if let Some(template) = value.pointer("/spec/template") {
                lost.extend(
                    dropped_fields::<PodTemplateSpec>(template)?
                        .into_iter()
                        .map(|p| format!(".spec.template{p}")),
                );
            }
            Ok(lost)
        }
        _ => Err(format!("no Kubernetes type for {api_version} {kind}")),
    }
}

/// A lost-field path without list indices and without the pod-template prefix, so that the
/// same chart field compares equal in the workload and in the Job cloned from it.
fn normalized(path: &str, template_prefix: &str) -> String {
    let mut out = String::new();
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => out.push(c),
            _ => {}
        }
    }
    match out.strip_prefix(template_prefix) {
        Some(rest) => format!("template:{rest}"),
        None => out,
    }
}

/// `.spec.template` for a workload's pod template path (`""` for a Pod).
fn template_prefix(value: &Value) -> String {
    WorkloadKind::of(value["apiVersion"].as_str(), value["kind"].as_str())
        .map(|k| k.template_path().iter().map(|s| format!(".{s}")).collect())
        .unwrap_or_else(|| "\u{0}".to_string())
}

/// The lost fields of a source document, normalized.
fn lost_in_source(value: &Value) -> BTreeSet<String> {
    let prefix = template_prefix(value);
    lost_fields(value)
        .unwrap_or_default()
        .iter()
        .map(|p| normalized(p, &prefix))
        .collect()
}

/// What was checked.
#[derive(Debug, Default)]
struct Checked {
    edited: usize,
    generated: usize,
    /// Chart fields unknown to k8s-openapi, carried over from the source: `(document, field)`.
    allowed: BTreeSet<String>,
}

fn check(name: &str, input: &[u8], run: &Run, checked: &mut Checked) {
    let docs = Documents::read(input).unwrap();
    let out = common::output_docs(&run.output);
    let parse = |i: usize| -> Value {
        let text = std::str::from_utf8(&out[i]).unwrap();
        let body = &text[migration_hook::testing::stream::split(text.as_bytes())[0].body()];
        yaml::parse(body)
            .unwrap_or_else(|e| panic!("{name}: output document {} does not parse: {e}", i + 1))
    };
    let mut assert_valid = |what: String, value: &Value, sources: &[usize]| {
        let prefix = template_prefix(value);
        let lost = lost_fields(value)
            .unwrap_or_else(|e| panic!("{name}: {what} is not a valid object: {e}\n{value:#}"));
        let allowed: BTreeSet<String> = sources
            .iter()
            .flat_map(|&s| lost_in_source(docs.get(s).value().unwrap()))
            .collect();
        for path in lost {
            let key = normalized(&path, &prefix);
            assert!(
                allowed.contains(&key),
                "{name}: {what}: Kubernetes 1.37 does not know the field {path}, and the source document does not have it"
            );
            checked.allowed.insert(format!("{what}: {path}"));
        }
    };
    for e in &run.plan.edits {
        checked.edited += 1;
        let label = format!("edited {}", e.label);
        assert_valid(label, &parse(e.doc), &[e.doc]);
    }
    let n = docs.docs.len();
    for (j, g) in run.plan.generated.iter().enumerate() {
        checked.generated += 1;
        let value = parse(n + j);
        let sources: Vec<usize> = if g.kind == "Job" {
            let migration = run
                .plan
                .migrations
                .iter()
                .find(|m| m.job == g.name)
                .expect("a Job comes from a migration");
            migration.sources.iter().map(|l| l.index).collect()
        } else {
            let copy = run
                .plan
                .copies
                .iter()
                .find(|c| c.kind.kind() == g.kind && c.name == g.name)
                .expect("every other new document is a hook copy");
            vec![copy.from]
        };
        assert_valid(format!("new {} {:?}", g.kind, g.name), &value, &sources);
    }
}

fn check_all(inputs: &[Input]) -> Checked {
    let mut checked = Checked::default();
    for input in inputs {
        if let Ok(run) = common::run(&input.input, &input.options) {
            check(&input.name, &input.input, &run, &mut checked);
        }
    }
    checked
}

#[test]
fn cases_emit_valid_objects() {
    let checked = check_all(&inputs::cases());
    eprintln!("schema: cases: {checked:?}");
    assert!(checked.edited >= 19 && checked.generated >= 24);
}

#[test]
fn corpus_emits_valid_objects() {
    let mut all = inputs::corpus_marked();
    all.extend(inputs::corpus_every_container());
    let checked = check_all(&all);
    eprintln!(
        "schema: corpus: {} edited, {} generated documents; chart fields unknown to k8s-openapi carried over: {:#?}",
        checked.edited, checked.generated, checked.allowed
    );
    // A marked Job is converted in place (edited), not copied (generated); a Job placed after
    // the chart's own hooks uses the hook Secrets among them as they are (no copies).
    assert!(checked.edited >= 184 && checked.generated >= 531);
}

#[test]
fn a_lost_field_is_found() {
    // The check itself: a misspelled field in a generated Job is reported, with its path.
    let job: Value = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "imagePullPolicyy": "Always"}]}}}});
    assert_eq!(
        lost_fields(&job).unwrap(),
        [".spec.template.spec.containers[0].imagePullPolicyy"]
    );
    assert_eq!(
        normalized(".spec.template.spec.containers[0].x", ".spec.template"),
        "template:.spec.containers.x"
    );
    let rollout: Value = serde_json::json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
        "metadata": {"name": "r", "labelz": {}},
        "spec": {"strategy": {"canary": {}}, "template": {"spec": {"containers": [{"name": "m", "imagee": "x"}]}}}});
    assert_eq!(
        lost_fields(&rollout).unwrap(),
        [
            ".metadata.labelz",
            ".spec.template.spec.containers[0].imagee"
        ]
    );
}
