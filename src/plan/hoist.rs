//! Hoisting: the workload's pod template, cloned as untyped data, becomes the migration Job's
//! pod template (`docs/design.md` §4).
//!
//! - containers: the marked container only, without probes, lifecycle hooks and ports;
//! - initContainers: those before a marked init container, in order, plus native sidecars;
//!   regular containers kept as sidecars become native sidecars (first, so that a database
//!   proxy is up before any init container that needs the database);
//! - volumes: only those a kept container mounts; `restartPolicy: Never` (a Job's or CronJob's
//!   own `OnFailure` stays);
//! - scheduling: required anti-affinity terms and DoNotSchedule spread constraints that select
//!   the application's own pods are dropped (they would keep the Job off the app's nodes);
//! - metadata: the extra pod labels and annotations asked for, a native mesh sidecar (or none)
//!   when the pod opts into Istio or Linkerd injection, and `kubectl.kubernetes.io/default-container`
//!   naming the migration container.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use crate::diagnostic::{DocLabel, Error, Result};
use crate::input::document::{Document, Documents, is_mark_key};
use crate::kube::label_selector;
use crate::kube::mesh::{self, Meta};
use crate::kube::scheduling;
use crate::kube::workload::{WorkloadKind, join_field};
use crate::kube::{keys, sidecars};
use crate::plan::feeders::{self, Feeders};
use crate::settings::mark::MarkSpec;
use crate::settings::values::VolumeOverride;

/// Container fields that make no sense in a run-to-completion migration.
const STRIPPED_FIELDS: &[&str] = &[
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
    "ports",
];

/// The Job's pod template and what was done to get it.
#[derive(Debug, Clone)]
pub(crate) struct Hoisted {
    /// `{metadata: {labels, annotations}, spec}`.
    pub(crate) template: Value,
    /// Position of the marked container in the workload's `initContainers`, if it is one.
    pub(crate) init_index: Option<usize>,
    pub(crate) kept_init: Vec<String>,
    pub(crate) dropped_init: Vec<String>,
    pub(crate) converted_sidecars: Vec<String>,
    pub(crate) dropped_containers: Vec<String>,
    pub(crate) stripped: Vec<&'static str>,
    pub(crate) dropped_volumes: Vec<String>,
    /// `VOLUME → emptyDir|drop` for the volumes the `volumes` setting replaced or unmounted.
    pub(crate) overridden_volumes: Vec<String>,
    /// Scheduling rules dropped because they select the application's own pods.
    pub(crate) dropped_scheduling: Vec<String>,
    /// The container `kubectl.kubernetes.io/default-container` named before it was pointed at
    /// the migration container.
    pub(crate) default_container_was: Option<String>,
    /// What was asked of an injecting service mesh, one line per mesh.
    pub(crate) mesh: Vec<String>,
    /// The command and args dropped so that the overriding image's own entrypoint runs.
    pub(crate) entrypoint_of_image: Option<Vec<&'static str>>,
    /// `label KEY=VALUE` / `annotation KEY` added by the pod-labels and pod-annotations settings.
    pub(crate) added_metadata: Vec<String>,
    /// The document the pod template came from, when it is not the marked one (an Argo
    /// Rollout's `spec.workloadRef`).
    pub(crate) template_from: Option<DocLabel>,
    /// The init containers (and volumes) that only feed the migration: they leave the workload
    /// with it.
    pub(crate) feeders: Feeders,
    /// `(container, volume)`: later init containers reading an emptyDir the marked one writes.
    pub(crate) feeds: Vec<(String, String)>,
}

/// What the stream says around the workload.
#[derive(Debug, Default)]
pub(crate) struct Surroundings {
    /// The workload's namespace.
    pub(crate) namespace: Option<String>,
    /// The metadata of its Namespace document, when the stream has one.
    pub(crate) namespace_meta: Option<Value>,
}

impl Surroundings {
    /// The workload's namespace and, when the stream has it, its Namespace's metadata (an
    /// unreadable Namespace document counts as absent).
    pub(crate) fn of(docs: &Documents, doc: &Document) -> Surroundings {
        let namespace = doc.head.namespace.as_deref().map(str::to_string);
        let namespace_meta = namespace.as_deref().and_then(|ns| {
            docs.find("Namespace", None, ns)
                .find(|d| d.head.api_version.as_deref() == Some("v1"))
                .and_then(|d| d.parse().ok())
                .and_then(|v| v.get("metadata").cloned())
        });
        Surroundings {
            namespace,
            namespace_meta,
        }
    }
}

/// `kubectl logs`/`exec` pick this container when none is named.
const DEFAULT_CONTAINER: &str = "kubectl.kubernetes.io/default-container";

/// Builds the Job's pod template from a marked workload.
pub(crate) fn hoist(
    workload: &Value,
    kind: WorkloadKind,
    container: &str,
    spec: &MarkSpec,
    label: &DocLabel,
    around: &Surroundings,
) -> Result<Hoisted> {
    let pod_field = kind.pod_spec_field();
    let err = |message: String, field: &str| Error::new(message).at(label).field(field.to_string());
    let template = kind
        .template(workload)
        .ok_or_else(|| err("no pod template here".into(), &kind.template_field()))?;
    let pod = template
        .get("spec")
        .and_then(Value::as_object)
        .ok_or_else(|| err("no pod spec here".into(), &pod_field))?;
    for key in ["initContainers", "containers"] {
        if let Some(other) = pod.get(key).filter(|v| !v.is_array() && !v.is_null()) {
            return Err(err(
                format!("must be a list of containers, not {}", json_kind(other)),
                &join_field(&pod_field, key),
            ));
        }
    }
    let inits = containers(pod, "initContainers");
    let mains = containers(pod, "containers");

    let init_index = inits.iter().position(|c| name_of(c) == Some(container));
    let main_index = mains.iter().position(|c| name_of(c) == Some(container));
    let marked = match (init_index, main_index) {
        (Some(i), _) => inits[i],
        (None, Some(i)) => mains[i],
        (None, None) => {
            return Err(err(
                format!(
                    "no container named {container:?}; this workload has {}",
                    describe_containers(&inits, &mains)
                ),
                &pod_field,
            ));
        }
    };
    let marked_field = match (init_index, main_index) {
        (Some(i), _) => format!("{pod_field}.initContainers[{i}]"),
        (_, i) => format!("{pod_field}.containers[{}]", i.unwrap_or_default()),
    };
    if init_index.is_some() && is_native_sidecar(marked) {
        return Err(err(
            format!(
                "{container:?} is a native sidecar (restartPolicy: Always), which never completes; mark the container that runs the migration"
            ),
            &marked_field,
        ));
    }
    // A Job's (or a CronJob's) main container is what runs to completion there already.
    let runs_to_completion = kind.runs_to_completion();
    if init_index.is_none()
        && !runs_to_completion
        && spec.command.is_none()
        && spec.args.is_none()
        && spec.image.is_none()
    {
        return Err(err(
            format!(
                "{container:?} is the application's main container: as a Job it would run the application server forever. Say what runs the migration with migration-hook/command (and/or migration-hook/args), or --command/--args; or give a dedicated migration image whose entrypoint is the migration with migration-hook/image (or --image)"
            ),
            &marked_field,
        ));
    }

    // Marking what fills an emptyDir for a later init container (which stays in the workload)
    // is most likely marking the wrong one.
    let feeds: Vec<(String, String)> = match init_index {
        Some(i) => feeders::fed_later(pod, i),
        None => Vec::new(),
    };
    let kept_sidecars = kept_sidecar_names(&mains, container, spec, label, &pod_field)?;
    let mut hoisted = Hoisted {
        template: Value::Null,
        init_index,
        kept_init: Vec::new(),
        dropped_init: Vec::new(),
        converted_sidecars: kept_sidecars.clone(),
        dropped_containers: Vec::new(),
        stripped: Vec::new(),
        dropped_volumes: Vec::new(),
        overridden_volumes: Vec::new(),
        dropped_scheduling: Vec::new(),
        default_container_was: None,
        mesh: Vec::new(),
        entrypoint_of_image: None,
        added_metadata: Vec::new(),
        template_from: None,
        feeds,
        // A CronJob stays as it is.
        feeders: match init_index {
            Some(m) if kind != WorkloadKind::CronJob => feeders::find(pod, m),
            _ => Feeders::default(),
        },
    };

    let mut new_inits: Vec<Value> = mains
        .iter()
        .filter(|c| name_of(c).is_some_and(|n| kept_sidecars.iter().any(|k| k == n)))
        .map(|c| native_sidecar((*c).clone()))
        .collect();
    for (i, c) in inits.iter().enumerate() {
        let name = name_of(c).unwrap_or_default().to_string();
        if Some(i) == init_index {
            continue;
        }
        let before_marked = init_index.is_none_or(|m| i < m);
        if before_marked || is_native_sidecar(c) {
            new_inits.push((*c).clone());
            hoisted.kept_init.push(name);
        } else {
            hoisted.dropped_init.push(name);
        }
    }
    hoisted.dropped_containers = mains
        .iter()
        .filter_map(|c| name_of(c))
        .filter(|n| *n != container && !kept_sidecars.iter().any(|k| k == n))
        .map(str::to_string)
        .collect();

    let mut migration = migration_container(marked.clone(), spec, &mut hoisted.stripped);
    // A main container's command and args start the application; with a dedicated image and
    // nothing else said, the image's own entrypoint is the migration.
    if init_index.is_none()
        && spec.image.is_some()
        && spec.command.is_none()
        && spec.args.is_none()
        && let Some(obj) = migration.as_object_mut()
    {
        let dropped: Vec<&'static str> = ["command", "args"]
            .into_iter()
            .filter(|k| obj.shift_remove(*k).is_some())
            .collect();
        hoisted.entrypoint_of_image = Some(dropped);
    }
    let mut new_pod = pod.clone();
    set_or_remove(&mut new_pod, "initContainers", new_inits);
    new_pod.insert("containers".into(), Value::Array(vec![migration]));
    if let Some(overrides) = &spec.volumes {
        hoisted.overridden_volumes =
            override_volumes(&mut new_pod, overrides, workload).map_err(|e| err(e, &pod_field))?;
    }
    hoisted.dropped_volumes = keep_mounted_volumes(&mut new_pod);
    check_mounts(&new_pod, workload, kind, label, &pod_field)?;
    // A Job's own `OnFailure` (retry in the same pod) is its author's choice, and valid here.
    let restart = match pod.get("restartPolicy").and_then(Value::as_str) {
        Some(policy @ ("OnFailure" | "Never")) if runs_to_completion => policy,
        _ => "Never",
    };
    new_pod.insert("restartPolicy".into(), Value::String(restart.into()));
    // Ephemeral containers are added by `kubectl debug`, and cannot be set on creation.
    new_pod.shift_remove("ephemeralContainers");
    if let Some(sa) = &spec.service_account {
        new_pod.shift_remove("serviceAccount");
        new_pod.insert("serviceAccountName".into(), Value::String(sa.clone()));
    }

    let app_labels =
        label_selector::labels_of(template.get("metadata").and_then(|m| m.get("labels")));
    if spec.scheduling.as_deref() != Some("keep") {
        let namespace = scheduling::Namespace {
            name: around.namespace.as_deref(),
            labels: around
                .namespace_meta
                .as_ref()
                .map(|m| label_selector::labels_of(m.get("labels"))),
        };
        hoisted.dropped_scheduling =
            scheduling::drop_self_blocking(&mut new_pod, &app_labels, &namespace);
    }

    let mut metadata = template_metadata(template);
    add_metadata(&mut metadata, spec, &mut hoisted.added_metadata);
    hoisted.mesh = mesh_sidecar(&mut metadata, spec, around);
    hoisted.default_container_was = point_default_container(&mut metadata, container);
    hoisted.template = Value::Object(Map::from_iter([
        ("metadata".to_string(), Value::Object(metadata)),
        ("spec".to_string(), Value::Object(new_pod)),
    ]));
    Ok(hoisted)
}

/// The `pod-labels` and `pod-annotations` settings, over what the pod had. The labels still go
/// through the label hygiene of `docs/design.md` §8 (no Service of the release may select the
/// Job's pod).
fn add_metadata(metadata: &mut Map<String, Value>, spec: &MarkSpec, added: &mut Vec<String>) {
    for (key, extra, what) in [
        ("labels", &spec.pod_labels, "label"),
        ("annotations", &spec.pod_annotations, "annotation"),
    ] {
        let Some(extra) = extra else { continue };
        let slot = metadata
            .entry(key)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = slot {
            for (k, v) in extra {
                map.insert(k.clone(), Value::String(v.clone()));
                added.push(if what == "label" {
                    format!("label {k}={v}")
                } else {
                    format!("annotation {k}")
                });
            }
        }
    }
}

/// Istio or Linkerd injection the pod opts into (itself, or through its Namespace document):
/// a native sidecar, or none with `mesh-injection: off`. Returns the account's lines.
fn mesh_sidecar(
    metadata: &mut Map<String, Value>,
    spec: &MarkSpec,
    around: &Surroundings,
) -> Vec<String> {
    let injections = {
        let pod = Meta {
            labels: metadata.get("labels").and_then(Value::as_object),
            annotations: metadata.get("annotations").and_then(Value::as_object),
        };
        let ns_meta = around.namespace_meta.as_ref().map(|m| Meta {
            labels: m.get("labels").and_then(Value::as_object),
            annotations: m.get("annotations").and_then(Value::as_object),
        });
        let namespace = around.namespace.as_deref().zip(ns_meta.as_ref());
        mesh::injections(&pod, namespace)
    };
    let off = spec.mesh_injection.as_deref() == Some("off");
    injections
        .into_iter()
        .map(|i| {
            if off {
                let set = mesh::turn_off(metadata, i.mesh);
                format!(
                    "{} injection ({}) turned off for the Job (mesh-injection: off): {set}",
                    i.mesh.name(),
                    i.because
                )
            } else {
                let set = mesh::ask_native(metadata, i.mesh);
                format!(
                    "{} injects its proxy ({}); asked for a native sidecar, which stops with the migration: {set}",
                    i.mesh.name(),
                    i.because
                )
            }
        })
        .collect()
}

/// Points `kubectl.kubernetes.io/default-container` at the migration container when it names
/// another one (which the Job does not have); returns the name it had.
fn point_default_container(metadata: &mut Map<String, Value>, container: &str) -> Option<String> {
    let annotations = metadata.get_mut("annotations")?.as_object_mut()?;
    let slot = annotations.get_mut(DEFAULT_CONTAINER)?;
    if slot.as_str() == Some(container) {
        return None;
    }
    let was = match &*slot {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    *slot = Value::String(container.to_string());
    Some(was)
}

/// The items of a container list (empty when absent or not a list).
fn containers<'v>(pod: &'v Map<String, Value>, key: &str) -> Vec<&'v Value> {
    pod.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// "a string", "a mapping", … for messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

pub(crate) fn name_of(container: &Value) -> Option<&str> {
    container.get("name").and_then(Value::as_str)
}

fn is_native_sidecar(container: &Value) -> bool {
    container.get("restartPolicy").and_then(Value::as_str) == Some("Always")
}

fn describe_containers(inits: &[&Value], mains: &[&Value]) -> String {
    let names = |list: &[&Value]| -> String {
        let v: Vec<String> = list
            .iter()
            .map(|c| format!("{:?}", name_of(c).unwrap_or("(unnamed)")))
            .collect();
        if v.is_empty() {
            "none".into()
        } else {
            v.join(", ")
        }
    };
    format!(
        "initContainers: {}; containers: {}",
        names(inits),
        names(mains)
    )
}

/// Regular containers to keep (as native sidecars): the ones named, or by default the
/// well-known database proxies. Every name given must exist.
fn kept_sidecar_names(
    mains: &[&Value],
    container: &str,
    spec: &MarkSpec,
    label: &DocLabel,
    pod_field: &str,
) -> Result<Vec<String>> {
    match &spec.sidecars {
        Some(names) => {
            for name in names {
                if name == container {
                    return Err(Error::new(format!(
                        "{name:?} is the migration container itself; list only sidecars to keep"
                    ))
                    .at(label)
                    .field("migration-hook/sidecars"));
                }
                if !mains.iter().any(|c| name_of(c) == Some(name)) {
                    let known: Vec<&str> = mains.iter().filter_map(|c| name_of(c)).collect();
                    return Err(Error::new(format!(
                        "no regular container named {name:?} to keep as a sidecar; the containers are {}",
                        known.join(", ")
                    ))
                    .at(label)
                    .field(join_field(pod_field, "containers")));
                }
            }
            Ok(names.clone())
        }
        None => Ok(mains
            .iter()
            .filter(|c| name_of(c) != Some(container) && sidecars::is_database_proxy(c))
            .filter_map(|c| name_of(c).map(str::to_string))
            .collect()),
    }
}

fn native_sidecar(mut container: Value) -> Value {
    if let Some(obj) = container.as_object_mut() {
        obj.insert("restartPolicy".into(), Value::String("Always".into()));
    }
    container
}

/// The marked container, ready to run to completion, with the mark's overrides applied.
fn migration_container(
    mut container: Value,
    spec: &MarkSpec,
    stripped: &mut Vec<&'static str>,
) -> Value {
    let Some(obj) = container.as_object_mut() else {
        return container;
    };
    for field in STRIPPED_FIELDS {
        if obj.shift_remove(*field).is_some() {
            stripped.push(field);
        }
    }
    obj.shift_remove("restartPolicy");
    if let Some(image) = &spec.image {
        obj.insert("image".into(), Value::String(image.clone()));
    }
    if let Some(command) = &spec.command {
        insert_after(
            obj,
            "command",
            strings(command),
            &["name", "image", "imagePullPolicy"],
        );
        // The old args belonged to the old command (as an image's CMD belongs to its ENTRYPOINT).
        if spec.args.is_none() {
            obj.shift_remove("args");
        }
    }
    if let Some(args) = &spec.args {
        insert_after(
            obj,
            "args",
            strings(args),
            &["name", "image", "imagePullPolicy", "command"],
        );
    }
    if let Some(extra) = &spec.env {
        let env = obj.entry("env").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = env {
            for var in extra {
                let name = var.get("name");
                match list.iter_mut().find(|v| v.get("name") == name) {
                    Some(existing) => *existing = var.clone(),
                    None => list.push(var.clone()),
                }
            }
        }
    }
    if let Some(secrets) = &spec.env_from_secrets {
        let env_from = obj
            .entry("envFrom")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = env_from {
            for secret in secrets {
                list.push(serde_json::json!({"secretRef": {"name": secret}}));
            }
        }
    }
    container
}

/// Sets `key`, in place if it exists, otherwise right after the last of `after` present (so a new
/// `command` lands next to `image`, where people look for it).
fn insert_after(obj: &mut Map<String, Value>, key: &str, value: Value, after: &[&str]) {
    if let Some(slot) = obj.get_mut(key) {
        *slot = value;
        return;
    }
    let position = obj
        .keys()
        .rposition(|k| after.contains(&k.as_str()))
        .map_or(obj.len(), |i| i + 1);
    obj.shift_insert(position, key.to_string(), value);
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

fn set_or_remove(pod: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        pod.shift_remove(key);
    } else {
        pod.insert(key.into(), Value::Array(items));
    }
}

/// Drops volumes no kept container mounts; returns their names.
fn keep_mounted_volumes(pod: &mut Map<String, Value>) -> Vec<String> {
    let mut mounted: Vec<String> = Vec::new();
    for key in ["initContainers", "containers"] {
        for c in pod.get(key).and_then(Value::as_array).into_iter().flatten() {
            for list in ["volumeMounts", "volumeDevices"] {
                for m in c.get(list).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(n) = m.get("name").and_then(Value::as_str) {
                        mounted.push(n.to_string());
                    }
                }
            }
        }
    }
    let Some(Value::Array(volumes)) = pod.get_mut("volumes") else {
        return Vec::new();
    };
    let mut dropped = Vec::new();
    volumes.retain(|v| {
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        let keep = mounted.iter().any(|m| m == name);
        if !keep {
            dropped.push(name.to_string());
        }
        keep
    });
    if volumes.is_empty() {
        pod.shift_remove("volumes");
    }
    dropped
}

/// Applies the `volumes` setting to the Job's pod: `emptyDir` puts an empty directory in the
/// volume's place (defining it when only a StatefulSet claim template had it), `drop` removes
/// the volume and every mount of it. A name that is neither a volume of the pod, a claim
/// template nor mounted is an error (a typo would silently do nothing).
fn override_volumes(
    pod: &mut Map<String, Value>,
    overrides: &IndexMap<String, VolumeOverride>,
    workload: &Value,
) -> std::result::Result<Vec<String>, String> {
    let claim_templates = claim_template_names(workload);
    let mut done = Vec::new();
    for (name, how) in overrides {
        let defined = volume_names(pod).any(|v| v == name);
        let mounted = mounts_of(pod).any(|m| m == name);
        if !defined && !mounted && !claim_templates.contains(&name.as_str()) {
            return Err(format!(
                "{}volumes names {name:?}, which is not a volume of this pod; its volumes: {}",
                keys::MARK_PREFIX,
                quoted(volume_names(pod))
            ));
        }
        let volumes = pod
            .entry("volumes")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(volumes) = volumes {
            volumes.retain(|v| v.get("name").and_then(Value::as_str) != Some(name.as_str()));
            if *how == VolumeOverride::EmptyDir {
                volumes.push(json!({"name": name, "emptyDir": {}}));
            }
        }
        if *how == VolumeOverride::Drop {
            for key in ["initContainers", "containers"] {
                for c in pod
                    .get_mut(key)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    for list in ["volumeMounts", "volumeDevices"] {
                        let Some(Value::Array(mounts)) = c.get_mut(list) else {
                            continue;
                        };
                        mounts.retain(|m| m.get("name").and_then(Value::as_str) != Some(name));
                        if mounts.is_empty() {
                            c.as_object_mut().map(|c| c.shift_remove(list));
                        }
                    }
                }
            }
        }
        if pod
            .get("volumes")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            pod.shift_remove("volumes");
        }
        done.push(format!("{name} → {}", how.as_str()));
    }
    Ok(done)
}

fn volume_names(pod: &Map<String, Value>) -> impl Iterator<Item = &str> {
    pod.get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
}

/// The volume names the pod's containers mount.
fn mounts_of(pod: &Map<String, Value>) -> impl Iterator<Item = &str> {
    ["initContainers", "containers"]
        .into_iter()
        .flat_map(|key| pod.get(key).and_then(Value::as_array).into_iter().flatten())
        .flat_map(|c| {
            ["volumeMounts", "volumeDevices"]
                .into_iter()
                .flat_map(|list| c.get(list).and_then(Value::as_array).into_iter().flatten())
        })
        .filter_map(|m| m.get("name").and_then(Value::as_str))
}

fn claim_template_names(workload: &Value) -> Vec<&str> {
    workload
        .get("spec")
        .and_then(|s| s.get("volumeClaimTemplates"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.get("metadata")?.get("name")?.as_str())
        .collect()
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("{n:?}")).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Every volume a kept container mounts must be defined in the pod spec. A StatefulSet's
/// `volumeClaimTemplates` are not: those claims exist only for the StatefulSet's own pods.
fn check_mounts(
    pod: &Map<String, Value>,
    workload: &Value,
    kind: WorkloadKind,
    label: &DocLabel,
    pod_field: &str,
) -> Result<()> {
    let defined: Vec<&str> = pod
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect();
    let claim_templates = claim_template_names(workload);
    for key in ["initContainers", "containers"] {
        for c in pod.get(key).and_then(Value::as_array).into_iter().flatten() {
            for list in ["volumeMounts", "volumeDevices"] {
                for m in c.get(list).and_then(Value::as_array).into_iter().flatten() {
                    let Some(name) = m.get("name").and_then(Value::as_str) else {
                        continue;
                    };
                    if defined.contains(&name) {
                        continue;
                    }
                    let container = name_of(c).unwrap_or_default();
                    let message = if kind == WorkloadKind::StatefulSet
                        && claim_templates.contains(&name)
                    {
                        format!(
                            "container {container:?} mounts {name:?} from the StatefulSet's volumeClaimTemplates; those claims exist only for the StatefulSet's own pods, so a Job cannot mount them. If the migration only needs a scratch directory there, set {prefix}volumes: \"{name}=emptyDir\" (or \"{name}=drop\" to leave it unmounted), or --volumes {name}=emptyDir",
                            prefix = keys::MARK_PREFIX
                        )
                    } else {
                        format!(
                            "container {container:?} mounts volume {name:?}, which the pod spec does not define"
                        )
                    };
                    return Err(Error::new(message).at(label).field(pod_field.to_string()));
                }
            }
        }
    }
    Ok(())
}

/// The Job pod's metadata: the template's labels and annotations, minus our own annotations.
fn template_metadata(template: &Value) -> Map<String, Value> {
    let mut meta = Map::new();
    let source = template.get("metadata");
    if let Some(labels) = source
        .and_then(|m| m.get("labels"))
        .filter(|l| is_non_empty(l))
    {
        meta.insert("labels".into(), labels.clone());
    }
    if let Some(Value::Object(annotations)) = source.and_then(|m| m.get("annotations")) {
        let kept: Map<String, Value> = annotations
            .iter()
            .filter(|(k, _)| !is_mark_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !kept.is_empty() {
            meta.insert("annotations".into(), Value::Object(kept));
        }
    }
    meta
}

fn is_non_empty(v: &Value) -> bool {
    v.as_object().is_some_and(|o| !o.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::mark::Origin;
    use serde_json::json;

    fn label() -> DocLabel {
        DocLabel {
            index: 0,
            kind: Some("Deployment".into()),
            namespace: None,
            name: Some("web".into()),
            source: None,
        }
    }

    fn deployment() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"template": {
          "metadata": {"labels": {"app": "web"}, "annotations": {"migration-hook/container": "migrate", "checksum": "x"}},
          "spec": {
            "serviceAccountName": "web",
            "initContainers": [
              {"name": "mesh", "image": "mesh", "restartPolicy": "Always"},
              {"name": "clone", "image": "git", "volumeMounts": [{"name": "src", "mountPath": "/src"}]},
              {"name": "migrate", "image": "app", "command": ["migrate"], "volumeMounts": [{"name": "src", "mountPath": "/src"}], "ports": [{"containerPort": 1}]},
              {"name": "after", "image": "x"}
            ],
            "containers": [
              {"name": "app", "image": "app", "readinessProbe": {}, "volumeMounts": [{"name": "cache", "mountPath": "/c"}]},
              {"name": "cloud-sql-proxy", "image": "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11"},
              {"name": "metrics", "image": "exporter"}
            ],
            "volumes": [{"name": "src", "emptyDir": {}}, {"name": "cache", "emptyDir": {}}],
            "restartPolicy": "Always"
          }}}})
    }

    #[test]
    fn hoists_an_init_container() {
        let h = hoist(
            &deployment(),
            WorkloadKind::Deployment,
            "migrate",
            &MarkSpec::default(),
            &label(),
            &Surroundings::default(),
        )
        .unwrap();
        let pod = &h.template["spec"];
        let inits: Vec<&str> = pod["initContainers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(name_of)
            .collect();
        assert_eq!(inits, ["cloud-sql-proxy", "mesh", "clone"]);
        assert_eq!(pod["initContainers"][0]["restartPolicy"], "Always");
        assert_eq!(pod["containers"].as_array().unwrap().len(), 1);
        assert_eq!(pod["containers"][0]["name"], "migrate");
        assert!(pod["containers"][0].get("ports").is_none());
        assert_eq!(pod["volumes"], json!([{"name": "src", "emptyDir": {}}]));
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(
            h.template["metadata"],
            json!({"labels": {"app": "web"}, "annotations": {"checksum": "x"}})
        );
        assert_eq!(h.dropped_init, ["after"]);
        assert_eq!(h.dropped_containers, ["app", "metrics"]);
        assert_eq!(h.init_index, Some(2));
    }

    #[test]
    fn main_container_needs_a_command() {
        let e = hoist(
            &deployment(),
            WorkloadKind::Deployment,
            "app",
            &MarkSpec::default(),
            &label(),
            &Surroundings::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("main container"), "{e}");
        let mut spec = MarkSpec::default();
        spec.set("command", r#"["rails","db:migrate"]"#, &Origin::Annotation)
            .unwrap();
        let h = hoist(
            &deployment(),
            WorkloadKind::Deployment,
            "app",
            &spec,
            &label(),
            &Surroundings::default(),
        )
        .unwrap();
        let c = &h.template["spec"]["containers"][0];
        assert_eq!(c["command"], json!(["rails", "db:migrate"]));
        assert!(c.get("readinessProbe").is_none());
        assert_eq!(h.stripped, ["readinessProbe"]);
        // Every init container precedes a main container.
        assert_eq!(h.kept_init, ["mesh", "clone", "migrate", "after"]);
    }

    #[test]
    fn missing_container_lists_the_others() {
        let e = hoist(
            &deployment(),
            WorkloadKind::Deployment,
            "migrat",
            &MarkSpec::default(),
            &label(),
            &Surroundings::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains(r#"initContainers: "mesh", "clone", "migrate", "after"; containers: "app", "cloud-sql-proxy", "metrics""#), "{e}");
    }

    #[test]
    fn explicit_sidecars_replace_the_default() {
        let mut spec = MarkSpec::default();
        spec.set("sidecars", "metrics", &Origin::Annotation)
            .unwrap();
        let h = hoist(
            &deployment(),
            WorkloadKind::Deployment,
            "migrate",
            &spec,
            &label(),
            &Surroundings::default(),
        )
        .unwrap();
        assert_eq!(h.converted_sidecars, ["metrics"]);
        spec.set("sidecars", "nope", &Origin::Annotation).unwrap();
        assert!(
            hoist(
                &deployment(),
                WorkloadKind::Deployment,
                "migrate",
                &spec,
                &label(),
                &Surroundings::default()
            )
            .is_err()
        );
    }
}
