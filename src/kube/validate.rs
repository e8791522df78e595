//! Typed checks of what we emit, with k8s-openapi as a lens: deserialize into the Kubernetes
//! type and serialize back; a field that does not survive the round trip is one Kubernetes does
//! not know (a typo), and a type error is one the API server would reject.
//! (k8s-openapi silently drops unknown fields, so it is never used to *copy* chart content.)

use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;

/// Paths (`.a.b[0].c`) present in `value` but lost by a round trip through `T`, or the type error.
pub fn dropped_fields<T: DeserializeOwned + Serialize>(
    value: &Value,
) -> Result<Vec<String>, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
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
pub(crate) fn env_var(var: &Value) -> Result<(), String> {
    let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
    let what = if name.is_empty() {
        "an env entry".to_string()
    } else {
        format!("env {name:?}")
    };
    if name.is_empty() {
        return Err(format!(
            "{what} is not a Kubernetes EnvVar: it needs a \"name\""
        ));
    }
    let dropped = dropped_fields::<k8s_openapi::api::core::v1::EnvVar>(var)
        .map_err(|_| format!("{what} is not a Kubernetes EnvVar: use {{\"name\": …, \"value\": \"a string\"}} or valueFrom"))?;
    match dropped.first() {
        None => Ok(()),
        Some(field) => Err(format!(
            "{what} is not a Kubernetes EnvVar: unknown field {}",
            field.trim_start_matches('.')
        )),
    }
}

/// A label or annotation key: an optional DNS-1123 subdomain prefix and `/`, then a name of at
/// most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.
pub(crate) fn qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let subdomain = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !subdomain {
            return Err("the prefix before '/' must be a DNS subdomain (lower-case letters, digits, '-' and '.')".into());
        }
    }
    if name.is_empty() || !label_syntax(name) {
        return Err("the name must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (and at most one '/')".into());
    }
    Ok(())
}

/// A label value: empty, or at most 63 letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter or digit.
pub(crate) fn label_value(value: &str) -> Result<(), String> {
    if value.is_empty() || label_syntax(value) {
        Ok(())
    } else {
        Err("is not a valid label value: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit".into())
    }
}

fn label_syntax(s: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_alphanumeric();
    s.len() <= 63
        && s.bytes()
            .all(|b| alnum(b) || matches!(b, b'-' | b'_' | b'.'))
        && s.bytes().next().is_some_and(alnum)
        && s.bytes().last().is_some_and(alnum)
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
