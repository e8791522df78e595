//! Scheduling rules that keep a pod away from the application's own pods.
//!
//! A pod template cloned into a Job brings its scheduling rules along. A *required* pod
//! anti-affinity term that selects the application's pods ("never two replicas per node", a
//! common chart default) then keeps the Job's pod off every node running the application, and a
//! `whenUnsatisfiable: DoNotSchedule` spread constraint over them can do the same: at
//! pre-upgrade the Job stays Pending until Helm's timeout. Preferred terms, node affinity,
//! tolerations and node selectors never block that way and are kept.

use serde_json::{Map, Value};

use super::label_selector::{Labels, Selector};

/// The namespace the pod runs in, as far as the stream tells.
pub(crate) struct Namespace<'a> {
    /// `metadata.namespace` of the workload (none: Helm's release namespace).
    pub(crate) name: Option<&'a str>,
    /// The Namespace document's labels, when the stream has it.
    pub(crate) labels: Option<Labels>,
}

/// Drops, from a pod spec, the required anti-affinity terms and DoNotSchedule spread
/// constraints that select pods with `app_labels` in the pod's own namespace; removes what they
/// leave empty. Returns what was dropped, as `field (selector)` lines for the account.
pub(crate) fn drop_self_blocking(
    pod: &mut Map<String, Value>,
    app_labels: &Labels,
    namespace: &Namespace,
) -> Vec<String> {
    let mut dropped = Vec::new();
    if let Some(Value::Object(affinity)) = pod.get_mut("affinity") {
        if let Some(Value::Object(anti)) = affinity.get_mut("podAntiAffinity") {
            const REQUIRED: &str = "requiredDuringSchedulingIgnoredDuringExecution";
            if let Some(Value::Array(terms)) = anti.get_mut(REQUIRED) {
                let mut i = 0;
                terms.retain(|term| {
                    let blocks = term_blocks(term, app_labels, namespace);
                    if blocks {
                        dropped.push(format!(
                            "affinity.podAntiAffinity.{REQUIRED}[{i}] (topologyKey {})",
                            term.get("topologyKey")
                                .and_then(Value::as_str)
                                .unwrap_or("?")
                        ));
                    }
                    i += 1;
                    !blocks
                });
                if terms.is_empty() {
                    anti.shift_remove(REQUIRED);
                }
            }
            if anti.is_empty() {
                affinity.shift_remove("podAntiAffinity");
            }
        }
        if affinity.is_empty() {
            pod.shift_remove("affinity");
        }
    }
    if let Some(Value::Array(constraints)) = pod.get_mut("topologySpreadConstraints") {
        let mut i = 0;
        constraints.retain(|c| {
            let hard = c.get("whenUnsatisfiable").and_then(Value::as_str) == Some("DoNotSchedule");
            let blocks = hard && selects(c.get("labelSelector"), app_labels);
            if blocks {
                dropped.push(format!(
                    "topologySpreadConstraints[{i}] (topologyKey {}, DoNotSchedule)",
                    c.get("topologyKey").and_then(Value::as_str).unwrap_or("?")
                ));
            }
            i += 1;
            !blocks
        });
        if constraints.is_empty() {
            pod.shift_remove("topologySpreadConstraints");
        }
    }
    dropped
}

/// Whether a `LabelSelector` (absent: no pods) selects pods with `labels`.
fn selects(selector: Option<&Value>, labels: &Labels) -> bool {
    selector
        .filter(|s| !s.is_null())
        .and_then(Selector::from_label_selector)
        .is_some_and(|s| s.matches(labels))
}

/// Whether a required anti-affinity term selects the application's pods in its namespace.
fn term_blocks(term: &Value, app_labels: &Labels, namespace: &Namespace) -> bool {
    selects(term.get("labelSelector"), app_labels) && applies_to_own_namespace(term, namespace)
}

/// Whether a pod affinity term's namespaces (`namespaces` ∪ those `namespaceSelector` selects;
/// both empty: the pod's own) can include the pod's own namespace. When the stream does not
/// say (no namespace, no Namespace document), the term is taken to apply: its label selector
/// alone decides.
fn applies_to_own_namespace(term: &Value, namespace: &Namespace) -> bool {
    let names: Vec<&str> = term
        .get("namespaces")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let selector = term.get("namespaceSelector").filter(|s| !s.is_null());
    if names.is_empty() && selector.is_none() {
        return true;
    }
    let Some(own) = namespace.name else {
        return true;
    };
    if names.contains(&own) {
        return true;
    }
    match selector.and_then(Selector::from_label_selector) {
        None => false,
        Some(selector) => match &namespace.labels {
            Some(labels) => {
                // Every Namespace carries its own name as a label.
                let mut labels = labels.clone();
                labels.insert("kubernetes.io/metadata.name".into(), own.to_string());
                selector.matches(&labels)
            }
            None => true,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn app() -> Labels {
        [("app".to_string(), "web".to_string())].into()
    }

    #[test]
    fn drops_only_what_blocks() {
        let mut pod = json!({
            "affinity": {
                "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}},
                "podAntiAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": [
                        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"},
                        {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "kubernetes.io/hostname"},
                        {"labelSelector": {"matchExpressions": [{"key": "app", "operator": "Exists"}]},
                         "namespaces": ["other"], "topologyKey": "zone"}
                    ],
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "x"}}
                    ]
                }
            },
            "topologySpreadConstraints": [
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                 "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]}},
                {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "ScheduleAnyway",
                 "labelSelector": {"matchLabels": {"app": "web"}}}
            ]
        });
        let ns = Namespace {
            name: Some("shop"),
            labels: None,
        };
        let dropped = drop_self_blocking(pod.as_object_mut().unwrap(), &app(), &ns);
        assert_eq!(dropped.len(), 2, "{dropped:?}");
        let terms =
            &pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
        assert_eq!(terms.as_array().unwrap().len(), 2);
        assert_eq!(
            pod["topologySpreadConstraints"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn removes_what_it_empties() {
        let mut pod = json!({"affinity": {"podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "h"}]}}});
        let ns = Namespace {
            name: None,
            labels: None,
        };
        drop_self_blocking(pod.as_object_mut().unwrap(), &app(), &ns);
        assert_eq!(pod, json!({}));
    }

    #[test]
    fn namespace_selectors() {
        let term = json!({"namespaceSelector": {"matchLabels": {"team": "a"}}});
        let known = |team: &str| Namespace {
            name: Some("shop"),
            labels: Some([("team".to_string(), team.to_string())].into()),
        };
        assert!(applies_to_own_namespace(&term, &known("a")));
        assert!(!applies_to_own_namespace(&term, &known("b")));
        let unknown = Namespace {
            name: Some("shop"),
            labels: None,
        };
        assert!(applies_to_own_namespace(&term, &unknown));
        let everywhere = json!({"namespaceSelector": {}});
        assert!(applies_to_own_namespace(&everywhere, &known("b")));
        let named = json!({"namespaces": ["shop"]});
        assert!(applies_to_own_namespace(&named, &unknown));
    }
}
