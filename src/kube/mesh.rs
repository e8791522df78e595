//! Service-mesh sidecars injected at admission: invisible in the rendered chart, yet a classic
//! (regular-container) proxy keeps a Job's pod running after the migration ends. Istio and
//! Linkerd can inject theirs as a native sidecar instead (an init container with
//! `restartPolicy: Always`, Kubernetes ≥ 1.29), which stops with the pod's last container.
//!
//! The per-pod keys, and the versions that honour them (`docs/design.md` §4):
//! - Istio: `sidecar.istio.io/nativeSidecar: "true"` (pod annotation, Istio ≥ 1.24.0: "Added a
//!   new annotation … to control native sidecar injection on a per-pod basis", istio/istio
//!   #53452; it takes precedence over istiod's `ENABLE_NATIVE_SIDECARS`);
//! - Linkerd: `config.alpha.linkerd.io/proxy-enable-native-sidecar: "true"` (edge-23.11.4,
//!   stable 2.15; linkerd/linkerd2#11465), later deprecated for
//!   `config.beta.linkerd.io/proxy-enable-native-sidecar` (linkerd/linkerd2#14587): both are
//!   set. Native sidecars cannot be combined with
//!   `config.alpha.linkerd.io/proxy-wait-before-exit-seconds` (the injector refuses the pod,
//!   linkerd/linkerd2#12164), so that one is removed.

use serde_json::{Map, Value};

/// Istio's per-pod switch (a label since Istio 1.11; an annotation before).
pub(crate) const ISTIO_INJECT: &str = "sidecar.istio.io/inject";
/// Istio's revision label (on a namespace or a pod), which enables injection by itself.
pub(crate) const ISTIO_REV: &str = "istio.io/rev";
/// Istio's namespace label.
pub(crate) const ISTIO_INJECTION: &str = "istio-injection";
/// Istio ≥ 1.24: native sidecar for this pod.
pub(crate) const ISTIO_NATIVE: &str = "sidecar.istio.io/nativeSidecar";
/// Linkerd's switch (a pod or namespace annotation).
pub(crate) const LINKERD_INJECT: &str = "linkerd.io/inject";
/// Linkerd ≥ 2.15 (edge-23.11.4): native sidecar for this pod.
pub(crate) const LINKERD_NATIVE_ALPHA: &str = "config.alpha.linkerd.io/proxy-enable-native-sidecar";
/// Its newer spelling.
pub(crate) const LINKERD_NATIVE_BETA: &str = "config.beta.linkerd.io/proxy-enable-native-sidecar";
/// Incompatible with Linkerd's native sidecar.
const LINKERD_WAIT_BEFORE_EXIT: &str = "config.alpha.linkerd.io/proxy-wait-before-exit-seconds";

/// A mesh that injects a sidecar into the pod, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Injection {
    pub(crate) mesh: Mesh,
    /// `pod label sidecar.istio.io/inject=true`, `namespace shop label istio-injection=enabled`, …
    pub(crate) because: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mesh {
    Istio,
    Linkerd,
}

impl Mesh {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Mesh::Istio => "Istio",
            Mesh::Linkerd => "Linkerd",
        }
    }
}

/// The metadata a decision reads: labels and annotations (either may be empty).
#[derive(Default)]
pub(crate) struct Meta<'a> {
    pub(crate) labels: Option<&'a Map<String, Value>>,
    pub(crate) annotations: Option<&'a Map<String, Value>>,
}

impl Meta<'_> {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels?.get(key)?.as_str()
    }
    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations?.get(key)?.as_str()
    }
}

/// The meshes that inject a sidecar into a pod with `pod` metadata, in a namespace with
/// `namespace` metadata (`None`: the stream does not have the Namespace).
pub(crate) fn injections(pod: &Meta, namespace: Option<(&str, &Meta)>) -> Vec<Injection> {
    let mut out = Vec::new();
    // Istio: the pod's label wins over its annotation; either wins over the namespace.
    let pod_istio = pod
        .label(ISTIO_INJECT)
        .map(|v| (v, "label"))
        .or_else(|| pod.annotation(ISTIO_INJECT).map(|v| (v, "annotation")));
    match pod_istio {
        Some(("true", how)) => out.push(Injection {
            mesh: Mesh::Istio,
            because: format!("pod {how} {ISTIO_INJECT}=true"),
        }),
        Some(_) => {}
        None => {
            let ns_istio = namespace.and_then(|(name, ns)| {
                match (ns.label(ISTIO_INJECTION), ns.label(ISTIO_REV)) {
                    (Some("enabled"), _) => {
                        Some(format!("namespace {name} label {ISTIO_INJECTION}=enabled"))
                    }
                    (Some(_), _) => None,
                    (None, Some(rev)) => Some(format!("namespace {name} label {ISTIO_REV}={rev}")),
                    (None, None) => None,
                }
            });
            let because = ns_istio.or_else(|| {
                pod.label(ISTIO_REV)
                    .map(|rev| format!("pod label {ISTIO_REV}={rev}"))
            });
            if let Some(because) = because {
                out.push(Injection {
                    mesh: Mesh::Istio,
                    because,
                });
            }
        }
    }
    // Linkerd: an annotation (a label is read too); the pod's wins over the namespace's.
    let linkerd = |meta: &Meta| {
        meta.annotation(LINKERD_INJECT)
            .map(|v| (v.to_string(), "annotation"))
            .or_else(|| meta.label(LINKERD_INJECT).map(|v| (v.to_string(), "label")))
    };
    let because = match linkerd(pod) {
        Some((v, how)) => {
            (v == "enabled" || v == "ingress").then(|| format!("pod {how} {LINKERD_INJECT}={v}"))
        }
        None => namespace.and_then(|(name, ns)| {
            linkerd(ns)
                .filter(|(v, _)| v == "enabled" || v == "ingress")
                .map(|(v, how)| format!("namespace {name} {how} {LINKERD_INJECT}={v}"))
        }),
    };
    if let Some(because) = because {
        out.push(Injection {
            mesh: Mesh::Linkerd,
            because,
        });
    }
    out
}

/// Asks `mesh` for a native sidecar on a pod's metadata; returns what was set, for the account.
pub(crate) fn ask_native(metadata: &mut Map<String, Value>, mesh: Mesh) -> String {
    let annotations = object(metadata, "annotations");
    match mesh {
        Mesh::Istio => {
            annotations.insert(ISTIO_NATIVE.into(), "true".into());
            format!("{ISTIO_NATIVE}: \"true\" (Istio ≥ 1.24)")
        }
        Mesh::Linkerd => {
            annotations.insert(LINKERD_NATIVE_ALPHA.into(), "true".into());
            annotations.insert(LINKERD_NATIVE_BETA.into(), "true".into());
            let removed = annotations.shift_remove(LINKERD_WAIT_BEFORE_EXIT).is_some();
            format!(
                "{LINKERD_NATIVE_ALPHA} and {LINKERD_NATIVE_BETA}: \"true\" (Linkerd ≥ 2.15){}",
                if removed {
                    format!(
                        ", {LINKERD_WAIT_BEFORE_EXIT} removed (Linkerd refuses it with a native sidecar)"
                    )
                } else {
                    String::new()
                }
            )
        }
    }
}

/// Turns `mesh`'s injection off on a pod's metadata; returns what was set.
pub(crate) fn turn_off(metadata: &mut Map<String, Value>, mesh: Mesh) -> String {
    match mesh {
        Mesh::Istio => {
            let had_annotation = metadata
                .get("annotations")
                .and_then(|a| a.get(ISTIO_INJECT))
                .is_some();
            // The label is what Istio's webhook selectors read; an annotation saying "true"
            // would contradict it, so it says "false" too.
            object(metadata, "labels").insert(ISTIO_INJECT.into(), "false".into());
            if had_annotation {
                object(metadata, "annotations").insert(ISTIO_INJECT.into(), "false".into());
                format!("label and annotation {ISTIO_INJECT}: \"false\"")
            } else {
                format!("label {ISTIO_INJECT}: \"false\"")
            }
        }
        Mesh::Linkerd => {
            object(metadata, "annotations").insert(LINKERD_INJECT.into(), "disabled".into());
            if let Some(Value::Object(labels)) = metadata.get_mut("labels") {
                labels.shift_remove(LINKERD_INJECT);
            }
            format!("annotation {LINKERD_INJECT}: disabled")
        }
    }
}

/// `metadata[key]` as a mapping, created when absent.
fn object<'m>(metadata: &'m mut Map<String, Value>, key: &str) -> &'m mut Map<String, Value> {
    let slot = metadata
        .entry(key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("made an object")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(v: &Value) -> Meta<'_> {
        Meta {
            labels: v.get("labels").and_then(Value::as_object),
            annotations: v.get("annotations").and_then(Value::as_object),
        }
    }

    #[test]
    fn who_injects() {
        let pod = json!({"labels": {"sidecar.istio.io/inject": "true"}});
        assert_eq!(injections(&meta(&pod), None)[0].mesh, Mesh::Istio);
        let pod = json!({"annotations": {"linkerd.io/inject": "enabled"}});
        assert_eq!(injections(&meta(&pod), None)[0].mesh, Mesh::Linkerd);
        let ns = json!({"labels": {"istio-injection": "enabled"}});
        let none = json!({});
        assert_eq!(
            injections(&meta(&none), Some(("shop", &meta(&ns))))[0].because,
            "namespace shop label istio-injection=enabled"
        );
        let opted_out = json!({"labels": {"sidecar.istio.io/inject": "false"}});
        assert!(injections(&meta(&opted_out), Some(("shop", &meta(&ns)))).is_empty());
        assert!(injections(&meta(&none), None).is_empty());
    }

    #[test]
    fn native_and_off() {
        let mut m =
            json!({"annotations": {"config.alpha.linkerd.io/proxy-wait-before-exit-seconds": "5"}});
        ask_native(m.as_object_mut().unwrap(), Mesh::Linkerd);
        assert_eq!(
            m,
            json!({"annotations": {
                "config.alpha.linkerd.io/proxy-enable-native-sidecar": "true",
                "config.beta.linkerd.io/proxy-enable-native-sidecar": "true"}})
        );
        let mut m = json!({});
        turn_off(m.as_object_mut().unwrap(), Mesh::Istio);
        assert_eq!(m, json!({"labels": {"sidecar.istio.io/inject": "false"}}));
    }
}
