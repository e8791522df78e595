//! The objects a pod spec refers to by name, found and rewritten in one walk.
//!
//! The places are kustomize's nameReference list for pod templates
//! (`api/internal/konfig/builtinpluginconsts/namereference.go`): env `valueFrom`, `envFrom`,
//! volumes (including projected sources and the volume plugins' secret references),
//! `imagePullSecrets` and the ServiceAccount. Ephemeral containers are not walked: a hoisted
//! pod never has any.

use serde_json::Value;

/// The kinds a pod refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RefKind {
    ConfigMap,
    Secret,
    ServiceAccount,
    PersistentVolumeClaim,
}

impl RefKind {
    pub fn kind(self) -> &'static str {
        match self {
            RefKind::ConfigMap => "ConfigMap",
            RefKind::Secret => "Secret",
            RefKind::ServiceAccount => "ServiceAccount",
            RefKind::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

/// One reference, as found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    pub kind: RefKind,
    pub name: String,
    /// Where, relative to the pod spec (`containers[0].envFrom[1].secretRef.name`).
    pub(crate) field: String,
    /// Marked `optional: true`: the pod starts without it.
    pub(crate) optional: bool,
}

/// Every reference in a pod spec, in document order.
pub(crate) fn collect(pod_spec: &Value) -> Vec<Reference> {
    let mut copy = pod_spec.clone();
    let mut out = Vec::new();
    visit(&mut copy, &mut |r, _| out.push(r));
    out
}

/// Calls `f` with every reference and its name slot, so the name can be replaced.
pub(crate) fn visit(pod_spec: &mut Value, f: &mut dyn FnMut(Reference, &mut String)) {
    let Some(pod) = pod_spec.as_object_mut() else {
        return;
    };
    for list in ["initContainers", "containers"] {
        let Some(Value::Array(containers)) = pod.get_mut(list) else {
            continue;
        };
        for (i, c) in containers.iter_mut().enumerate() {
            let base = format!("{list}[{i}]");
            for (j, var) in items(c.get_mut("env")).enumerate() {
                let Some(from) = var.get_mut("valueFrom") else {
                    continue;
                };
                let at = format!("{base}.env[{j}].valueFrom");
                slot(from, "configMapKeyRef", "name", RefKind::ConfigMap, &at, f);
                slot(from, "secretKeyRef", "name", RefKind::Secret, &at, f);
            }
            for (j, source) in items(c.get_mut("envFrom")).enumerate() {
                let at = format!("{base}.envFrom[{j}]");
                slot(source, "configMapRef", "name", RefKind::ConfigMap, &at, f);
                slot(source, "secretRef", "name", RefKind::Secret, &at, f);
            }
        }
    }
    if let Some(Value::Array(volumes)) = pod.get_mut("volumes") {
        for (i, volume) in volumes.iter_mut().enumerate() {
            let at = format!("volumes[{i}]");
            slot(volume, "configMap", "name", RefKind::ConfigMap, &at, f);
            slot(volume, "secret", "secretName", RefKind::Secret, &at, f);
            slot(
                volume,
                "persistentVolumeClaim",
                "claimName",
                RefKind::PersistentVolumeClaim,
                &at,
                f,
            );
            slot(volume, "azureFile", "secretName", RefKind::Secret, &at, f);
            if let Some(csi) = volume.get_mut("csi") {
                slot(
                    csi,
                    "nodePublishSecretRef",
                    "name",
                    RefKind::Secret,
                    &format!("{at}.csi"),
                    f,
                );
            }
            for plugin in [
                "cephfs",
                "cinder",
                "flexVolume",
                "iscsi",
                "rbd",
                "scaleIO",
                "storageos",
            ] {
                if let Some(p) = volume.get_mut(plugin) {
                    slot(
                        p,
                        "secretRef",
                        "name",
                        RefKind::Secret,
                        &format!("{at}.{plugin}"),
                        f,
                    );
                }
            }
            let sources = volume
                .get_mut("projected")
                .and_then(|p| p.get_mut("sources"));
            for (j, source) in items(sources).enumerate() {
                let at = format!("{at}.projected.sources[{j}]");
                slot(source, "configMap", "name", RefKind::ConfigMap, &at, f);
                slot(source, "secret", "name", RefKind::Secret, &at, f);
            }
        }
    }
    for (i, secret) in items(pod.get_mut("imagePullSecrets")).enumerate() {
        if let Some(Value::String(name)) = secret.get_mut("name") {
            let r = reference(
                RefKind::Secret,
                name,
                format!("imagePullSecrets[{i}].name"),
                false,
            );
            f(r, name);
        }
    }
    // `serviceAccount` is the deprecated alias; `serviceAccountName` wins when both are set.
    let sa_key = if pod.contains_key("serviceAccountName") {
        "serviceAccountName"
    } else {
        "serviceAccount"
    };
    if let Some(Value::String(name)) = pod.get_mut(sa_key)
        && !name.is_empty()
    {
        let r = reference(RefKind::ServiceAccount, name, sa_key.to_string(), false);
        f(r, name);
    }
}

fn items(list: Option<&mut Value>) -> impl Iterator<Item = &mut Value> {
    list.and_then(Value::as_array_mut).into_iter().flatten()
}

/// `object[key][name_field]` as a reference of `kind`, if present.
fn slot(
    object: &mut Value,
    key: &str,
    name_field: &str,
    kind: RefKind,
    at: &str,
    f: &mut dyn FnMut(Reference, &mut String),
) {
    let Some(inner) = object.get_mut(key).and_then(Value::as_object_mut) else {
        return;
    };
    let optional = inner.get("optional").and_then(Value::as_bool) == Some(true);
    if let Some(Value::String(name)) = inner.get_mut(name_field)
        && !name.is_empty()
    {
        let r = reference(kind, name, format!("{at}.{key}.{name_field}"), optional);
        f(r, name);
    }
}

fn reference(kind: RefKind, name: &str, field: String, optional: bool) -> Reference {
    Reference {
        kind,
        name: name.to_string(),
        field,
        optional,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({
            "serviceAccountName": "web",
            "imagePullSecrets": [{"name": "regcred"}],
            "initContainers": [{"name": "migrate",
                "env": [{"name": "P", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
                        {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "c", "optional": true}}},
                        {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "envFrom": [{"secretRef": {"name": "env"}}, {"configMapRef": {"name": "cfg"}}]}],
            "containers": [{"name": "app"}],
            "volumes": [
                {"name": "a", "configMap": {"name": "files", "items": [{"key": "k", "path": "p"}]}},
                {"name": "b", "secret": {"secretName": "tls"}},
                {"name": "c", "projected": {"sources": [{"configMap": {"name": "pc"}}, {"secret": {"name": "ps"}}, {"serviceAccountToken": {"path": "t"}}]}},
                {"name": "d", "persistentVolumeClaim": {"claimName": "data"}},
                {"name": "e", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "csi"}}}
            ]
        })
    }

    #[test]
    fn finds_every_reference() {
        let found: Vec<String> = collect(&pod())
            .iter()
            .map(|r| {
                format!(
                    "{}/{} {}{}",
                    r.kind.kind(),
                    r.name,
                    r.field,
                    if r.optional { " optional" } else { "" }
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                "Secret/db initContainers[0].env[0].valueFrom.secretKeyRef.name",
                "ConfigMap/cfg initContainers[0].env[1].valueFrom.configMapKeyRef.name optional",
                "Secret/env initContainers[0].envFrom[0].secretRef.name",
                "ConfigMap/cfg initContainers[0].envFrom[1].configMapRef.name",
                "ConfigMap/files volumes[0].configMap.name",
                "Secret/tls volumes[1].secret.secretName",
                "ConfigMap/pc volumes[2].projected.sources[0].configMap.name",
                "Secret/ps volumes[2].projected.sources[1].secret.name",
                "PersistentVolumeClaim/data volumes[3].persistentVolumeClaim.claimName",
                "Secret/csi volumes[4].csi.nodePublishSecretRef.name",
                "Secret/regcred imagePullSecrets[0].name",
                "ServiceAccount/web serviceAccountName",
            ]
        );
    }

    #[test]
    fn rewrites_in_place() {
        let mut p = pod();
        visit(&mut p, &mut |r, name| {
            if r.kind == RefKind::ConfigMap {
                name.push_str("-copy");
            }
        });
        assert_eq!(p["volumes"][0]["configMap"]["name"], "files-copy");
        assert_eq!(p["volumes"][0]["configMap"]["items"][0]["key"], "k");
        assert_eq!(
            p["initContainers"][0]["envFrom"][1]["configMapRef"]["name"],
            "cfg-copy"
        );
        assert_eq!(p["volumes"][1]["secret"]["secretName"], "tls");
    }
}
