//! Typed checks of what we emit, with k8s-openapi as a lens: deserialize into the Kubernetes
//! type and serialize back; a field that does not survive the round trip is one Kubernetes does
//! not know (a typo), and a type error is one the API server would reject.
//! (k8s-openapi silently drops unknown fields, so it is never used to *copy* chart content.)

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::diagnostic::{Error, Result};

/// Paths (`.a.b[0].c`) present in `value` but lost by a round trip through `T`, or the type error.
pub(crate) fn dropped_fields<T: DeserializeOwned + Serialize>(
    value: &Value,
) -> Result<Vec<String>> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| Error::new(e.to_string()))?;
    let back = serde_json::to_value(&typed).map_err(|e| Error::new(e.to_string()))?;
    let mut lost = Vec::new();
    compare(value, &back, String::new(), &mut lost);
    Ok(lost)
}

fn compare(orig: &Value, back: &Value, path: String, lost: &mut Vec<String>) {
    match (orig, back) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(w) => compare(v, w, p, lost),
                    // `None` and absent are the same to Kubernetes.
                    None if v.is_null() => {}
                    None => lost.push(p),
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, v) in a.iter().enumerate() {
                match b.get(i) {
                    Some(w) => compare(v, w, format!("{path}[{i}]"), lost),
                    None => lost.push(format!("{path}[{i}]")),
                }
            }
        }
        _ => {}
    }
}

/// An extra environment variable given for the migration: must be a valid `EnvVar`. Messages
/// name the variable, never its value (it may be a credential).
pub(crate) fn check_env_var(var: &Value) -> Result<()> {
    let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
    let what = if name.is_empty() {
        "an env entry".to_string()
    } else {
        format!("env {name:?}")
    };
    if name.is_empty() {
        return Err(Error::new(format!(
            "{what} is not a Kubernetes EnvVar: it needs a \"name\""
        )));
    }
    let dropped = dropped_fields::<k8s_openapi::api::core::v1::EnvVar>(var)
        .map_err(|_| Error::new(format!("{what} is not a Kubernetes EnvVar: use {{\"name\": …, \"value\": \"a string\"}} or valueFrom")))?;
    match dropped.first() {
        None => Ok(()),
        Some(field) => Err(Error::new(format!(
            "{what} is not a Kubernetes EnvVar: unknown field {}",
            field.trim_start_matches('.')
        ))),
    }
}

/// [`check_env_var`] with the message alone, for the settings, whose errors are still strings
/// (the message is the same).
pub(crate) fn env_var(var: &Value) -> std::result::Result<(), String> {
    check_env_var(var).map_err(Error::into_message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_misspelled_fields() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "x"},
            "spec": {"backofflimit": 3, "template": {"spec": {"containers": [{"name": "c", "imagePullPolicyy": "Always"}]}}}});
        let lost = dropped_fields::<k8s_openapi::api::batch::v1::Job>(&job).unwrap();
        assert_eq!(
            lost,
            [
                ".spec.backofflimit",
                ".spec.template.spec.containers[0].imagePullPolicyy"
            ]
        );
    }

    #[test]
    fn env_vars() {
        assert!(env_var(&json!({"name": "A", "value": "x"})).is_ok());
        assert!(env_var(&json!({"name": "A", "valu": "x"})).is_err());
        assert!(env_var(&json!({"value": "x"})).is_err());
        let e = env_var(&json!({"name": "A", "value": 3})).unwrap_err();
        assert!(!e.contains('3'), "values are never echoed: {e}");
        let e = env_var(&json!({"name": "TOKEN", "valu": "hunter2"})).unwrap_err();
        assert_eq!(
            e,
            "env \"TOKEN\" is not a Kubernetes EnvVar: unknown field valu"
        );
    }
}
