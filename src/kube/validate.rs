//! Checks of what we emit. [`dropped_fields`] is the schema tests' lens: deserialize into a
//! Kubernetes type (k8s-openapi's, a dev-dependency) and serialize back; a field that does not
//! survive the round trip is one Kubernetes does not know (a typo), and a type error is one the
//! API server would reject. k8s-openapi silently drops unknown fields, so it is never used to
//! *copy* chart content, and it is not needed at run time: the one run-time check, of the
//! `env` overrides, is [`check_env_var`], written out by hand and compared with k8s-openapi's
//! reading in the unit tests.

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

/// The value types of the EnvVar fields we check by hand.
#[derive(Clone, Copy)]
enum Type {
    String,
    Bool,
    /// A resource quantity: a string, or a number Kubernetes reads as one.
    Quantity,
    Object(&'static [(&'static str, Type)]),
}

/// `ConfigMapKeySelector` and `SecretKeySelector`.
const KEY_SELECTOR: &[(&str, Type)] = &[
    ("key", Type::String),
    ("name", Type::String),
    ("optional", Type::Bool),
];
const ENV_VAR_SOURCE: &[(&str, Type)] = &[
    ("configMapKeyRef", Type::Object(KEY_SELECTOR)),
    (
        "fieldRef",
        Type::Object(&[("apiVersion", Type::String), ("fieldPath", Type::String)]),
    ),
    (
        "fileKeyRef",
        Type::Object(&[
            ("key", Type::String),
            ("optional", Type::Bool),
            ("path", Type::String),
            ("volumeName", Type::String),
        ]),
    ),
    (
        "resourceFieldRef",
        Type::Object(&[
            ("containerName", Type::String),
            ("divisor", Type::Quantity),
            ("resource", Type::String),
        ]),
    ),
    ("secretKeyRef", Type::Object(KEY_SELECTOR)),
];
/// `EnvVar` as Kubernetes 1.37 has it.
const ENV_VAR: &[(&str, Type)] = &[
    ("name", Type::String),
    ("value", Type::String),
    ("valueFrom", Type::Object(ENV_VAR_SOURCE)),
];

/// Whether `value` has type `ty` (every field may be null: Kubernetes reads that as absent).
fn well_typed(value: &Value, ty: Type) -> bool {
    match (ty, value) {
        (_, Value::Null) => true,
        (Type::String, Value::String(_)) | (Type::Bool, Value::Bool(_)) => true,
        (Type::Quantity, Value::String(_) | Value::Number(_)) => true,
        (Type::Object(fields), Value::Object(map)) => map.iter().all(|(k, v)| {
            fields
                .iter()
                .find(|(name, _)| name == k)
                .is_none_or(|&(_, ty)| well_typed(v, ty))
        }),
        _ => false,
    }
}

/// The first field (`a.b`) of a well-typed `value` that `fields` do not have, in document order.
fn unknown_field(value: &Value, fields: &[(&str, Type)], path: &str) -> Option<String> {
    let map = value.as_object()?;
    map.iter().find_map(|(k, v)| {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match fields.iter().find(|(name, _)| name == k) {
            Some((_, Type::Object(inner))) => unknown_field(v, inner, &p),
            Some(_) => None,
            None if v.is_null() => None,
            None => Some(p),
        }
    })
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
    if !well_typed(var, Type::Object(ENV_VAR)) {
        return Err(Error::new(format!(
            "{what} is not a Kubernetes EnvVar: use {{\"name\": …, \"value\": \"a string\"}} or valueFrom"
        )));
    }
    match unknown_field(var, ENV_VAR, "") {
        None => Ok(()),
        Some(field) => Err(Error::new(format!(
            "{what} is not a Kubernetes EnvVar: unknown field {field}"
        ))),
    }
}

/// [`check_env_var`] with the message alone, for the settings, whose errors are still strings
/// (the message is the same).
pub(crate) fn env_var(var: &Value) -> std::result::Result<(), String> {
    check_env_var(var).map_err(Error::into_message)
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
    fn env_var_agrees_with_k8s_openapi() {
        let typed = |var: &Value| -> Result<(), String> {
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
        };
        let cases = [
            json!({"name": "A", "value": "x"}),
            json!({"name": "A", "value": null}),
            json!({"name": "A", "value": 3}),
            json!({"name": "A", "value": true}),
            json!({"name": "A", "valu": "x"}),
            json!({"name": "A", "valu": null}),
            json!({"name": "A", "x": {"y": 1}, "value": 3}),
            json!({"name": "A", "x": 1, "y": 2}),
            json!({"name": 3}),
            json!({"name": ""}),
            json!("A"),
            json!(["A"]),
            json!({"name": "A", "valueFrom": null}),
            json!({"name": "A", "valueFrom": "x"}),
            json!({"name": "A", "valueFrom": []}),
            json!({"name": "A", "valueFrom": {}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": true}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "optional": "true"}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "keys": "k"}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": 1}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {}}}),
            json!({"name": "A", "valueFrom": {"secretKeyRef": {"name": null}}}),
            json!({"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}, "bogus": 1}}),
            json!({"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k", "extra": "e"}}}),
            json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name", "apiVersion": "v1"}}}),
            json!({"name": "A", "valueFrom": {"fieldRef": {"fieldPath": 1}}}),
            json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1m", "containerName": "c"}}}),
            json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": 1}}}),
            json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": 0.5}}}),
            json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": true}}}),
            json!({"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu", "divisor": {}}}}),
            json!({"name": "A", "valueFrom": {"fileKeyRef": {"key": "k", "path": "p", "volumeName": "v", "optional": false}}}),
            json!({"name": "A", "valueFrom": {"fileKeyRef": {"key": "k", "paths": "p"}}}),
            json!({"name": "A", "value": "x", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "x": 1}}, "y": 2}),
            json!({"name": "A", "y": 2, "valueFrom": {"secretKeyRef": {"name": "s", "key": "k", "x": 1}}}),
        ];
        for case in &cases {
            assert_eq!(env_var(case), typed(case), "{case}");
        }
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
