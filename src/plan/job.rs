//! The hook Job document (`docs/design.md` §4): `batch/v1`, the hook annotations, safe
//! defaults, and the hoisted pod template.

use serde_json::{Map, Value, json};

use crate::input::document::is_mark_key;
use crate::kube::keys;
use crate::settings::mark::{HookChoice, MarkSpec, Origin};

/// Default weight: below the chart's own weight-0 hooks, and room below for the copies.
pub(crate) const DEFAULT_WEIGHT: i64 = -1;
/// Default events.
pub(crate) const DEFAULT_EVENTS: [&str; 2] = ["pre-install", "pre-upgrade"];
/// Default delete policy of the dependencies promoted or copied for a Job: gone once the
/// migration succeeded, kept for inspection when it failed.
pub(crate) const DEFAULT_DEPENDENCY_DELETE_POLICY: [&str; 2] =
    ["before-hook-creation", "hook-succeeded"];
/// The events used when the database is part of the release.
pub(crate) const IN_RELEASE_EVENTS: [&str; 2] = ["post-install", "pre-upgrade"];

/// The Job-level settings of one migration, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    pub(crate) hook: HookChoice,
    pub(crate) hook_origin: Origin,
    pub(crate) weight: i64,
    /// Always starts with `before-hook-creation`.
    pub(crate) delete_policy: Vec<String>,
    /// The Job `spec` fields the settings table lands there directly (`backoffLimit`, 0 by
    /// default: a half-applied migration must not be retried blindly; `activeDeadlineSeconds`,
    /// `ttlSecondsAfterFinished`), in table order.
    pub(crate) job_spec: Vec<(&'static str, i64)>,
    /// Those of `job_spec` a setting set (the others are defaults, which a marked Job's own
    /// values win over).
    pub(crate) job_spec_set: Vec<&'static str>,
    pub(crate) job_name: Option<String>,
    /// The weight of the dependencies promoted or copied for the Job: below `weight`
    /// (`select` refuses a setting that is not).
    pub(crate) dependency_weight: i64,
    /// Their delete policy; always starts with `before-hook-creation`.
    pub(crate) dependency_delete_policy: Vec<String>,
}

impl Settings {
    pub(crate) fn from_spec(spec: &MarkSpec) -> Settings {
        let mut delete_policy = vec![keys::BEFORE_HOOK_CREATION.to_string()];
        for p in spec.delete_policy.iter().flatten() {
            if !delete_policy.contains(p) {
                delete_policy.push(p.clone());
            }
        }
        let mut dependency_delete_policy = vec![keys::BEFORE_HOOK_CREATION.to_string()];
        let chosen = spec.dependency_delete_policy.clone();
        for p in
            chosen.unwrap_or_else(|| DEFAULT_DEPENDENCY_DELETE_POLICY.map(String::from).to_vec())
        {
            if !dependency_delete_policy.contains(&p) {
                dependency_delete_policy.push(p);
            }
        }
        let weight = spec.weight.unwrap_or(DEFAULT_WEIGHT);
        let job_spec = spec.job_spec_fields();
        Settings {
            hook: spec
                .hook
                .clone()
                .unwrap_or_else(|| HookChoice::Events(DEFAULT_EVENTS.map(String::from).to_vec())),
            hook_origin: spec.origin("hook").cloned().unwrap_or(Origin::Default),
            weight,
            delete_policy,
            job_spec: job_spec.iter().map(|&(f, v, _)| (f, v)).collect(),
            job_spec_set: job_spec.iter().filter(|f| f.2).map(|f| f.0).collect(),
            job_name: spec.job_name.clone(),
            dependency_weight: spec.dependency_weight.unwrap_or(weight - 1),
            dependency_delete_policy,
        }
    }
}

impl Settings {
    /// What makes two migrations the same Job, besides the container (the origin of a setting
    /// does not).
    pub(crate) fn identity(&self) -> String {
        format!(
            "{:?}|{}|{:?}|{:?}|{:?}|{}|{:?}",
            self.hook,
            self.weight,
            self.delete_policy,
            self.job_spec,
            self.job_name,
            self.dependency_weight,
            self.dependency_delete_policy
        )
    }
}

/// Everything the Job document is made of.
pub(crate) struct JobParts<'a> {
    pub name: &'a str,
    pub namespace: Option<&'a str>,
    /// The workload's own `metadata.labels`.
    pub(crate) labels: Option<&'a Value>,
    pub(crate) events: &'a [String],
    pub(crate) settings: &'a Settings,
    /// Helm 4's filename annotation value, when the input carries them.
    pub(crate) filename: Option<&'a str>,
    /// The hoisted pod template.
    pub(crate) template: Value,
    /// A marked Job or CronJob's own Job: see [`SourceJob`].
    pub(crate) source: Option<SourceJob<'a>>,
}

/// What the hook Job keeps of a marked Job (converted in place) or CronJob (whose job template
/// the Job runs once): the Job spec's own fields (`backoffLimit`, `ttlSecondsAfterFinished`,
/// `activeDeadlineSeconds`, `podFailurePolicy`, …), over which only settings that were set
/// win (no default is added: a field it lacks keeps Kubernetes' default); and, for a Job
/// converted in place, its metadata.
pub(crate) struct SourceJob<'a> {
    /// `spec` of the Job, `spec.jobTemplate.spec` of the CronJob.
    pub(crate) spec: &'a Map<String, Value>,
    /// The converted Job's `metadata` (its labels and annotations stay, our marks go).
    pub(crate) metadata: Option<&'a Map<String, Value>>,
}

/// The fields of a source Job spec that the hook Job does not take over: the pod template
/// (hoisted instead) and the selector (Kubernetes generates it from the template's labels,
/// which the label hygiene may change).
const NOT_KEPT: [&str; 3] = ["template", "selector", "manualSelector"];

/// The source Job spec's fields the hook Job keeps, with no setting over them, for the account.
pub(crate) fn kept_from_source(spec: &Map<String, Value>, settings: &Settings) -> Vec<String> {
    let mut kept: Vec<String> = spec
        .iter()
        .filter(|(k, v)| !NOT_KEPT.contains(&k.as_str()) && !v.is_null())
        .filter(|(k, _)| !settings.job_spec_set.contains(&k.as_str()))
        .map(|(k, v)| match v {
            Value::Object(_) | Value::Array(_) => k.clone(),
            other => format!("{k} {other}"),
        })
        .collect();
    if !settings.job_spec_set.contains(&"backoffLimit")
        && spec.get("backoffLimit").is_none_or(Value::is_null)
    {
        kept.push(
            "no backoffLimit (Kubernetes' default: 6 retries; migration-hook/backoff-limit sets one)"
                .to_string(),
        );
    }
    kept
}

/// The Job document, keys in the order people write them.
pub fn document(parts: JobParts) -> Value {
    let s = parts.settings;
    let source_metadata = parts.source.as_ref().and_then(|src| src.metadata);
    let mut metadata = Map::new();
    let mut annotations = Map::new();
    match source_metadata {
        Some(own) => {
            for (key, value) in own {
                match key.as_str() {
                    "name" => metadata.insert(key.clone(), json!(parts.name)),
                    "annotations" => {
                        annotations.extend(
                            value
                                .as_object()
                                .into_iter()
                                .flatten()
                                .filter(|(k, _)| !is_mark_key(k))
                                .map(|(k, v)| (k.clone(), v.clone())),
                        );
                        None
                    }
                    _ => metadata.insert(key.clone(), value.clone()),
                };
            }
        }
        None => {
            metadata.insert("name".into(), json!(parts.name));
            if let Some(ns) = parts.namespace {
                metadata.insert("namespace".into(), json!(ns));
            }
            if let Some(labels) = parts
                .labels
                .filter(|l| l.as_object().is_some_and(|o| !o.is_empty()))
            {
                metadata.insert("labels".into(), labels.clone());
            }
        }
    }
    annotations.insert(keys::HOOK.into(), json!(parts.events.join(",")));
    annotations.insert(keys::HOOK_WEIGHT.into(), json!(s.weight.to_string()));
    annotations.insert(
        keys::HOOK_DELETE_POLICY.into(),
        json!(s.delete_policy.join(",")),
    );
    // Helm ≥ 3.18: the migration's log appears in Helm's output, success or failure.
    annotations.insert(
        keys::HOOK_OUTPUT_LOG_POLICY.into(),
        json!(format!("{},{}", keys::HOOK_SUCCEEDED, keys::HOOK_FAILED)),
    );
    if let Some(f) = parts.filename {
        annotations.insert(keys::POSTRENDER_FILENAME.into(), json!(f));
    }
    metadata.insert("annotations".into(), Value::Object(annotations));

    let mut spec = Map::new();
    if let Some(source) = &parts.source {
        spec.extend(
            source
                .spec
                .iter()
                // `backoffLimit: null` is no setting: left out, as if absent.
                .filter(|(k, v)| !NOT_KEPT.contains(&k.as_str()) && !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    // Over a marked Job's own spec only the settings that were set land: what it leaves out
    // (backoffLimit: 6 retries) is its author's choice, which our defaults do not override.
    for (field, value) in &s.job_spec {
        if s.job_spec_set.contains(field) || parts.source.is_none() {
            spec.insert((*field).into(), json!(value));
        }
    }
    spec.insert("template".into(), parts.template);

    json!({
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": spec,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delete_policy_always_has_before_hook_creation_first() {
        let mut spec = MarkSpec::default();
        spec.set(
            "delete-policy",
            "hook-succeeded,before-hook-creation",
            &Origin::Annotation,
        )
        .unwrap();
        assert_eq!(
            Settings::from_spec(&spec).delete_policy,
            ["before-hook-creation", "hook-succeeded"]
        );
        assert_eq!(
            Settings::from_spec(&MarkSpec::default()).delete_policy,
            ["before-hook-creation"]
        );
    }

    #[test]
    fn document_shape() {
        let settings = Settings::from_spec(&MarkSpec::default());
        let events = DEFAULT_EVENTS.map(String::from);
        let doc = document(JobParts {
            name: "web-migration",
            namespace: None,
            labels: None,
            events: &events,
            settings: &settings,
            filename: None,
            template: json!({"spec": {}}),
            source: None,
        });
        assert_eq!(
            doc["metadata"]["annotations"]["helm.sh/hook"],
            "pre-install,pre-upgrade"
        );
        assert_eq!(doc["metadata"]["annotations"]["helm.sh/hook-weight"], "-1");
        assert_eq!(doc["spec"]["backoffLimit"], 0);
        assert!(doc["metadata"].get("labels").is_none());
    }
}
