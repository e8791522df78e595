//! The dependency and label rules, checked on the output stream alone, with a reference walker
//! and a selector matcher written independently of the code under test:
//!
//! - every object a generated Job refers to is either a hook with the Job's events and a lower
//!   weight, or absent from the stream (and then named in a warning, unless optional) — never
//!   only an ordinary release resource (a PersistentVolumeClaim is allowed, with a warning);
//! - the Job's pod matches no Service or PodDisruptionBudget selector of the stream;
//! - an input document that the output turned into a hook (a dependency promoted in place) is
//!   a ConfigMap, Secret or ServiceAccount that a generated Job refers to, has the events of
//!   every Job that refers to it and a lower weight, the same content otherwise, and is named
//!   by no other document of the output.
//!
//! Run on every type-a corpus case and every successful `testdata/cases` input.

mod common;

use std::path::PathBuf;

use serde_json::Value;

/// (kind, name, optional) found anywhere in a pod spec.
fn references(pod: &Value) -> Vec<(&'static str, String, bool)> {
    let mut out = Vec::new();
    walk(pod, None, &mut out);
    if let Some(sa) = pod
        .get("serviceAccountName")
        .or_else(|| pod.get("serviceAccount"))
        .and_then(Value::as_str)
    {
        out.push(("ServiceAccount", sa.to_string(), false));
    }
    for s in pod
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(n) = s.get("name").and_then(Value::as_str) {
            out.push(("Secret", n.to_string(), false));
        }
    }
    out
}

/// Any object under a key that names a ConfigMap, Secret or claim, at any depth.
fn walk(v: &Value, key: Option<&str>, out: &mut Vec<(&'static str, String, bool)>) {
    match v {
        Value::Object(map) => {
            let optional = map.get("optional").and_then(Value::as_bool) == Some(true);
            let named = |field: &str| map.get(field).and_then(Value::as_str).map(str::to_string);
            match key {
                Some("configMap" | "configMapRef" | "configMapKeyRef") => {
                    if let Some(n) = named("name") {
                        out.push(("ConfigMap", n, optional));
                    }
                }
                Some("secret") => {
                    if let Some(n) = named("secretName").or_else(|| named("name")) {
                        out.push(("Secret", n, optional));
                    }
                }
                Some("secretRef" | "secretKeyRef" | "nodePublishSecretRef") => {
                    if let Some(n) = named("name") {
                        out.push(("Secret", n, optional));
                    }
                }
                Some("persistentVolumeClaim") => {
                    if let Some(n) = named("claimName") {
                        out.push(("PersistentVolumeClaim", n, false));
                    }
                }
                _ => {}
            }
            for (k, child) in map {
                walk(child, Some(k), out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| walk(i, key, out)),
        _ => {}
    }
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A document's annotation, as text.
fn annotation(v: &Value, key: &str) -> Option<String> {
    v["metadata"]["annotations"].get(key).map(text)
}

/// A document's hook events, as Helm reads them.
fn events_of(v: &Value) -> Vec<String> {
    annotation(v, "helm.sh/hook")
        .map(|h| h.split(',').map(|e| e.trim().to_lowercase()).collect())
        .unwrap_or_default()
}

/// A document's hook weight, as Helm reads it (0 when absent or invalid).
fn weight_of(v: &Value) -> i64 {
    annotation(v, "helm.sh/hook-weight")
        .and_then(|w| w.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

fn matches(selector: &Value, labels: &serde_json::Map<String, Value>, plain_map: bool) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    let label = |k: &str| labels.get(k).map(text);
    if plain_map {
        return !sel.is_empty() && sel.iter().all(|(k, v)| label(k) == Some(text(v)));
    }
    let ml = sel.get("matchLabels").and_then(Value::as_object);
    let ok_labels = ml
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == Some(text(v)));
    let ok_exprs = sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<String> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .map(text)
                .collect();
            match (e["operator"].as_str(), label(key)) {
                (Some("In"), Some(v)) => values.contains(&v),
                (Some("NotIn"), v) => v.is_none_or(|v| !values.contains(&v)),
                (Some("Exists"), v) => v.is_some(),
                (Some("DoesNotExist"), v) => v.is_none(),
                _ => false,
            }
        });
    ok_labels && ok_exprs
}

fn check(name: &str, input: &[u8], args: &[String], dir: &std::path::Path) {
    let options = common::options(args, dir).unwrap();
    let Ok(run) = common::run(input, &options) else {
        return;
    };
    let warnings: Vec<String> = run.plan.diagnostics.iter().map(|d| d.to_string()).collect();
    let mut found = violations(&run.output, common::output_docs(input).len(), &warnings);
    found.extend(promotion_violations(input, &run.output));
    assert!(found.is_empty(), "{name}:\n{}", found.join("\n"));
}

/// The documents of a stream, parsed (`None` for what does not parse or is not a mapping).
fn parsed(stream: &[u8]) -> Vec<Option<Value>> {
    common::output_docs(stream)
        .iter()
        .map(|d| {
            let text = String::from_utf8_lossy(d);
            let body = migration_hook::testing::stream::split(d.as_slice());
            let body = &text[body.first()?.body()];
            migration_hook::testing::yaml::parse(body)
                .ok()
                .filter(Value::is_object)
        })
        .collect()
}

/// Whether `text` names `name` as a whole word (delimited by anything but `[A-Za-z0-9_-]`).
fn names_word(text: &str, name: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let bytes = text.as_bytes();
    text.match_indices(name).any(|(at, _)| {
        let end = at + name.len();
        (at == 0 || !word(bytes[at - 1])) && bytes.get(end).is_none_or(|b| !word(*b))
    })
}

/// What breaks the rules of promotion in place: an input document that is no hook in `input`
/// and a hook in `output`.
fn promotion_violations(input: &[u8], output: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let before = parsed(input);
    let after = parsed(output);
    let texts: Vec<String> = common::output_docs(output)
        .iter()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .collect();
    let without_hook = |v: &Value| {
        let mut v = v.clone();
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut)
            && let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
        {
            a.retain(|k, _| !k.starts_with("helm.sh/hook"));
            if a.is_empty() {
                meta.shift_remove("annotations");
            }
        }
        v
    };
    for (i, original) in before.iter().enumerate() {
        let (Some(original), Some(Some(now))) = (original, after.get(i)) else {
            continue;
        };
        if annotation(original, "helm.sh/hook").is_some()
            || annotation(now, "helm.sh/hook").is_none()
        {
            continue;
        }
        let kind = now["kind"].as_str().unwrap_or_default();
        let name = now["metadata"]["name"].as_str().unwrap_or_default();
        let id = format!("{kind}/{name} (output document {})", i + 1);
        if kind == "Job" && original["kind"] == "Job" {
            // A marked Job converted in place: it runs one of its own containers, and it is
            // the only Job of the output that does (no second copy beside it).
            let names = |v: &Value| -> Vec<String> {
                v.pointer("/spec/template/spec/containers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect()
            };
            let runs = names(now);
            if runs.len() != 1 || !names(original).contains(&runs[0]) {
                out.push(format!(
                    "{id} became a hook running {runs:?}, not one of its own containers"
                ));
            }
            let image = now.pointer("/spec/template/spec/containers/0/image");
            let again = after.iter().enumerate().filter(|(j, d)| {
                *j != i
                    && d.as_ref().is_some_and(|d| {
                        d["kind"] == "Job"
                            && d.pointer("/spec/template/spec/containers/0/image") == image
                            && names(d) == runs
                    })
            });
            if let Some((j, _)) = again.into_iter().next() {
                out.push(format!(
                    "{id} was converted, and output document {} runs it again",
                    j + 1
                ));
            }
            continue;
        }
        if !["ConfigMap", "Secret", "ServiceAccount"].contains(&kind) {
            out.push(format!("{id} became a hook, and only dependencies may"));
            continue;
        }
        if without_hook(original) != without_hook(now) {
            out.push(format!("{id} became a hook and changed otherwise too"));
        }
        // The generated Jobs, and the marked Jobs converted into hooks in place.
        let converted = |j: usize| {
            before[j]
                .as_ref()
                .is_some_and(|b| b["kind"] == "Job" && annotation(b, "helm.sh/hook").is_none())
                && after[j]
                    .as_ref()
                    .is_some_and(|a| annotation(a, "helm.sh/hook").is_some())
        };
        let users: Vec<usize> = (0..after.len())
            .filter(|&j| j >= before.len() || converted(j))
            .filter(|&j| {
                after[j].as_ref().is_some_and(|job| {
                    job["kind"] == "Job"
                        && references(&job["spec"]["template"]["spec"])
                            .iter()
                            .any(|(k, n, _)| *k == kind && n == name)
                })
            })
            .collect();
        if users.is_empty() {
            out.push(format!(
                "{id} became a hook that no generated or converted Job refers to"
            ));
        }
        for &j in &users {
            let job = after[j].as_ref().unwrap();
            let events = events_of(now);
            if !events_of(job).iter().all(|e| events.contains(e))
                || weight_of(now) >= weight_of(job)
            {
                out.push(format!(
                    "{id} is promoted for Job {} (output document {}) without all its events or a lower weight",
                    job["metadata"]["name"],
                    j + 1
                ));
            }
        }
        for (j, t) in texts.iter().enumerate() {
            if j != i && !users.contains(&j) && names_word(t, name) {
                out.push(format!(
                    "{id} became a hook, but output document {} names it too",
                    j + 1
                ));
            }
        }
    }
    out
}

/// What breaks the rules in `output`, whose documents from `input_count` on are generated.
fn violations(output: &[u8], input_count: usize, warnings: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let docs: Vec<(usize, Value)> = common::output_docs(output)
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let text = String::from_utf8_lossy(d);
            let body = migration_hook::testing::stream::split(d.as_slice());
            let body = &text[body.first()?.body()];
            migration_hook::testing::yaml::parse(body)
                .ok()
                .map(|v| (i, v))
        })
        .filter(|(_, v)| v.is_object())
        .collect();

    for (index, job) in docs
        .iter()
        .filter(|(i, v)| *i >= input_count && v["kind"] == "Job")
    {
        let events = events_of(job);
        let weight = weight_of(job);
        let pod = &job["spec"]["template"]["spec"];
        for (kind, ref_name, optional) in references(pod) {
            if kind == "ServiceAccount"
                && (ref_name == "default" || !events.iter().any(|e| e == "pre-install"))
            {
                continue;
            }
            let needed: Vec<String> = if kind == "ServiceAccount" {
                vec!["pre-install".into()]
            } else {
                events.clone()
            };
            let found: Vec<&Value> = docs
                .iter()
                .map(|(_, v)| v)
                .filter(|v| v["kind"] == kind && v["metadata"]["name"] == ref_name.as_str())
                .collect();
            let ready_hook = found.iter().any(|v| {
                let e = events_of(v);
                !e.is_empty() && needed.iter().all(|n| e.contains(n)) && weight_of(v) < weight
            });
            if ready_hook {
                continue;
            }
            let id = format!("{kind}/{ref_name}");
            if found.is_empty() || kind == "PersistentVolumeClaim" {
                let warned = warnings.iter().any(|w| {
                    w.contains(&id)
                        || (kind == "PersistentVolumeClaim" && w.contains("PersistentVolumeClaim"))
                });
                if !(optional || warned) {
                    out.push(format!("Job (output document {}) needs {id}, not in the stream, and no warning says so", index + 1));
                }
                continue;
            }
            out.push(format!(
                "Job (output document {}) needs {id}, which exists only as an ordinary release resource (events {events:?}, weight {weight})",
                index + 1
            ));
        }

        let labels = job["spec"]["template"]["metadata"]["labels"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for (_, other) in &docs {
            let (selector, plain) = match other["kind"].as_str() {
                Some("Service") => (&other["spec"]["selector"], true),
                Some("PodDisruptionBudget") => (&other["spec"]["selector"], false),
                _ => continue,
            };
            let everything = !plain && selector.as_object().is_some_and(|s| s.is_empty());
            if !everything && matches(selector, &labels, plain) {
                out.push(format!(
                    "the migration pod of Job {} is selected by {}/{}",
                    job["metadata"]["name"], other["kind"], other["metadata"]["name"]
                ));
            }
        }
    }
    out
}

#[test]
fn corpus_jobs_have_their_dependencies_and_no_selector_matches() {
    let marks_dir = common::root().join("testdata/corpus-marks");
    let mut checked = 0;
    for entry in std::fs::read_dir(&marks_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "args") {
            continue;
        }
        let case = path.file_stem().unwrap().to_string_lossy().to_string();
        let input = std::fs::read(
            common::root()
                .join("testdata/corpus")
                .join(&case)
                .join("rendered.yaml"),
        )
        .unwrap();
        let args = common::shell_words(std::fs::read_to_string(&path).unwrap().trim());
        check(&case, &input, &args, &marks_dir);
        checked += 1;
    }
    assert_eq!(checked, 5, "every type-a corpus case is checked");
}

#[test]
fn case_jobs_have_their_dependencies_and_no_selector_matches() {
    let dir: PathBuf = common::root().join("testdata/cases");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let case = common::read_case(&path);
        check(&path.display().to_string(), &case.input, &case.args, &dir);
    }
}

#[test]
fn the_checker_catches_what_it_is_for() {
    // A hand-made output whose generated Job reads an ordinary ConfigMap, misses a Secret nobody
    // warned about, and is selected by a Service.
    let output = b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {app: x}}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j, annotations: {helm.sh/hook: pre-install}}\nspec:\n  template:\n    metadata: {labels: {app: x}}\n    spec:\n      containers: [{name: m, envFrom: [{configMapRef: {name: c}}, {secretRef: {name: gone}}]}]\n";
    let found = violations(output, 2, &[]);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("ConfigMap/c, which exists only as an ordinary release resource"));
    assert!(found[1].contains("Secret/gone, not in the stream, and no warning"));
    assert!(found[2].contains("selected by \"Service\"/\"s\""));
    let warned = violations(output, 2, &["… Secret/gone …".to_string()]);
    assert_eq!(warned.len(), 2);

    // A ConfigMap promoted to a hook, which the app still names, and a Service made a hook.
    let input = b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {template: {spec: {containers: [{name: web, envFrom: [{configMapRef: {name: c}}]}]}}}\n";
    let output = b"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: '-2'}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, annotations: {helm.sh/hook: pre-install}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec: {template: {spec: {containers: [{name: web, envFrom: [{configMapRef: {name: c}}]}]}}}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j, annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: '-1'}}\nspec: {template: {spec: {containers: [{name: m, envFrom: [{configMapRef: {name: c}}]}]}}}\n";
    let found = promotion_violations(input, output);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].contains("output document 3 names it too"),
        "{found:#?}"
    );
    assert!(found[1].contains("only dependencies may"), "{found:#?}");
}
