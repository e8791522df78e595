//! Kubernetes label selectors, as Services, PodDisruptionBudgets and NetworkPolicies use them.

use std::collections::BTreeMap;

use serde_json::Value;

/// Pod labels.
pub(crate) type Labels = BTreeMap<String, String>;

/// A selector: `matchLabels` plus `matchExpressions` (a Service selector is `matchLabels` only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Selector {
    pub(crate) match_labels: BTreeMap<String, String>,
    pub(crate) expressions: Vec<Expression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expression {
    pub(crate) key: String,
    pub(crate) operator: String,
    pub(crate) values: Vec<String>,
}

impl Selector {
    /// A Service's `spec.selector` (a plain map). `None` or empty selects no pods. (The plan
    /// reads Service selectors as pairs, through `Document::service_selector`.)
    #[cfg(test)]
    pub(crate) fn from_map(map: &Value) -> Option<Selector> {
        let map = map.as_object()?;
        if map.is_empty() {
            return None;
        }
        Some(Selector {
            match_labels: map.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
            expressions: Vec::new(),
        })
    }

    /// A `LabelSelector` object. An empty one (`{}`) selects every pod; absent selects none.
    pub(crate) fn from_label_selector(selector: &Value) -> Option<Selector> {
        let obj = selector.as_object()?;
        let match_labels = obj
            .get("matchLabels")
            .and_then(Value::as_object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            .unwrap_or_default();
        let expressions = obj
            .get("matchExpressions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|e| Expression {
                        key: e.get("key").map(text).unwrap_or_default(),
                        operator: e.get("operator").map(text).unwrap_or_default(),
                        values: e
                            .get("values")
                            .and_then(Value::as_array)
                            .map(|v| v.iter().map(text).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Selector {
            match_labels,
            expressions,
        })
    }

    /// Whether pods with `labels` are selected.
    pub(crate) fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    // An unknown operator is rejected by the API server; it selects nothing here.
                    _ => false,
                }
            })
    }

    /// Label keys whose removal would stop this selector from matching.
    pub(crate) fn breaking_keys(&self, labels: &Labels) -> Vec<String> {
        let mut keys: Vec<String> = self
            .match_labels
            .keys()
            .chain(
                self.expressions
                    .iter()
                    .filter(|e| matches!(e.operator.as_str(), "In" | "Exists"))
                    .map(|e| &e.key),
            )
            .filter(|k| labels.contains_key(*k))
            .cloned()
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// A label value as text (`version: 1` is a number in YAML, a string to Kubernetes' eyes here).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The labels of a pod template's `metadata.labels`.
pub(crate) fn labels_of(metadata_labels: Option<&Value>) -> Labels {
    metadata_labels
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn service_selectors() {
        let s = Selector::from_map(&json!({"app": "web", "tier": "api"})).unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "api"), ("x", "y")])));
        assert!(!s.matches(&labels(&[("app", "web")])));
        assert_eq!(
            s.breaking_keys(&labels(&[("app", "web"), ("tier", "api")])),
            ["app", "tier"]
        );
        assert!(Selector::from_map(&json!({})).is_none());
    }

    #[test]
    fn label_selectors() {
        let s = Selector::from_label_selector(&json!({"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"}]}))
        .unwrap();
        assert!(s.matches(&labels(&[("app", "api")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("canary", "1")])));
        assert_eq!(s.breaking_keys(&labels(&[("app", "api")])), ["app"]);
        let all = Selector::from_label_selector(&json!({})).unwrap();
        assert!(all.matches(&labels(&[])));
        assert!(all.breaking_keys(&labels(&[("a", "b")])).is_empty());
    }
}
