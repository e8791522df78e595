//! The value types of the settings: how each is written in an annotation or on the command line
//! (text), and in the config file (YAML, read as typed values, never turned back into text).
//!
//! One parser per type, shared by every way of giving it, so `migration-hook/weight: "-5"`,
//! `--weight -5` and `weight: -5` accept exactly the same values and say the same thing when
//! they do not.

use indexmap::IndexMap;
use serde_json::Value;

use crate::input::document::parse_list;
use crate::kube::{keys, naming, validate};

/// A setting's value type.
pub(crate) trait Kind {
    type Value;
    /// From the text of an annotation or a flag.
    fn read_text(&self, text: &str) -> Result<Self::Value, String>;
    /// From the config file's value.
    fn read_config(&self, value: &Value) -> Result<Self::Value, String>;
    /// From every occurrence of a repeatable flag (the last one wins for the others).
    fn read_flags(&self, values: &[String]) -> Result<Self::Value, String> {
        self.read_text(values.last().map(String::as_str).unwrap_or_default())
    }
}

/// A non-empty name (surrounding spaces dropped); `what` completes "expected …".
pub(crate) struct Name(pub &'static str);

impl Kind for Name {
    type Value = String;
    fn read_text(&self, text: &str) -> Result<String, String> {
        let text = text.trim();
        if text.is_empty() {
            Err(format!("expected {}, got an empty value", self.0))
        } else {
            Ok(text.to_string())
        }
    }
    fn read_config(&self, value: &Value) -> Result<String, String> {
        self.read_text(config_string(value, self.0)?)
    }
}

/// A Job name: a DNS-1123 label (it becomes a pod label value).
pub(crate) struct JobName;

impl Kind for JobName {
    type Value = String;
    fn read_text(&self, text: &str) -> Result<String, String> {
        let text = text.trim();
        if naming::is_dns_label(text) {
            Ok(text.to_string())
        } else {
            Err(format!(
                "{text:?} is not a valid Job name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
            ))
        }
    }
    fn read_config(&self, value: &Value) -> Result<String, String> {
        self.read_text(config_string(value, "a Job name")?)
    }
}

/// A list of strings: a JSON array in text (`["sql-migrate", "up"]`), a sequence in the config.
pub(crate) struct Strings;

const STRINGS_EXPECTED: &str =
    "expected a JSON array of strings, like [\"bundle\", \"exec\", \"rails\", \"db:migrate\"]";

impl Kind for Strings {
    type Value = Vec<String>;
    fn read_text(&self, text: &str) -> Result<Vec<String>, String> {
        match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Array(_)) => not_empty(strings(&value, STRINGS_EXPECTED)?),
            _ => Err(STRINGS_EXPECTED.to_string()),
        }
    }
    fn read_config(&self, value: &Value) -> Result<Vec<String>, String> {
        let expected = "expected a list of strings, like [bundle, exec, rails, db:migrate]";
        match value {
            Value::Array(_) => not_empty(strings(value, expected)?),
            _ => Err(expected.to_string()),
        }
    }
}

/// An empty command or args list is no override: Kubernetes reads it as "not set", so the Job
/// would run the image's entrypoint (often the application server, which never ends).
fn not_empty(items: Vec<String>) -> Result<Vec<String>, String> {
    if items.is_empty() {
        Err("an empty list is not an override: Kubernetes reads it as not set, and the Job would run the image's own entrypoint; give the command that runs the migration".into())
    } else {
        Ok(items)
    }
}

/// Names, comma-separated in text (empty entries dropped); a string or a sequence in the config.
/// Repeated flags add up.
pub(crate) struct List;

impl Kind for List {
    type Value = Vec<String>;
    fn read_text(&self, text: &str) -> Result<Vec<String>, String> {
        Ok(names(text))
    }
    fn read_config(&self, value: &Value) -> Result<Vec<String>, String> {
        config_list(value)
    }
    fn read_flags(&self, values: &[String]) -> Result<Vec<String>, String> {
        Ok(values.iter().flat_map(|v| names(v)).collect())
    }
}

/// A whole number from `min` to `i32::MAX`.
pub(crate) struct Int {
    pub min: i64,
}

impl Kind for Int {
    type Value = i64;
    fn read_text(&self, text: &str) -> Result<i64, String> {
        let text = text.trim();
        match text.parse::<i64>() {
            Ok(n) if self.fits(n) => Ok(n),
            _ => Err(self.expected(&format!("{text:?}"))),
        }
    }
    fn read_config(&self, value: &Value) -> Result<i64, String> {
        match value.as_i64() {
            Some(n) if self.fits(n) => Ok(n),
            _ => Err(self.expected(&value.to_string())),
        }
    }
}

impl Int {
    fn fits(&self, n: i64) -> bool {
        n >= self.min && n <= i64::from(i32::MAX)
    }
    fn expected(&self, got: &str) -> String {
        match self.min {
            0 | 1 => format!("expected a whole number ≥ {}, got {got}", self.min),
            _ => format!("expected a whole number, got {got}"),
        }
    }
}

/// The hook events asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HookChoice {
    /// Exactly these events (validated, lower-case, in the order given).
    Events(Vec<String>),
    /// `pre-install,pre-upgrade`, or `post-install,pre-upgrade` when the migration talks to a
    /// database that is itself part of the release.
    Auto,
}

/// Hook events, comma-separated, or `auto`.
pub(crate) struct Hook;

impl Kind for Hook {
    type Value = HookChoice;
    fn read_text(&self, text: &str) -> Result<HookChoice, String> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(HookChoice::Auto);
        }
        hook_events(parse_list(text))
    }
    fn read_config(&self, value: &Value) -> Result<HookChoice, String> {
        match value {
            Value::String(s) => self.read_text(s),
            _ => hook_events(helm_list(value)?),
        }
    }
}

fn hook_events(events: Vec<String>) -> Result<HookChoice, String> {
    if events.is_empty() {
        return Err("expected hook events, like \"pre-install,pre-upgrade\", or \"auto\"".into());
    }
    for event in &events {
        if event.starts_with("test") {
            return Err(format!(
                "{event:?} would make the migration a test hook, run only by `helm test`"
            ));
        }
        if !keys::HOOK_EVENTS.contains(&event.as_str()) {
            return Err(format!(
                "unknown hook event {event:?}; Helm would drop the Job. Use pre-install, post-install, pre-upgrade, post-upgrade, pre-rollback, post-rollback, pre-delete or post-delete, or \"auto\""
            ));
        }
    }
    Ok(HookChoice::Events(events))
}

/// Object references `KIND/NAME` (Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim;
/// the kind case-insensitive, written back in its usual spelling), comma-separated in text,
/// a string or a sequence in the config. Repeated flags add up.
pub(crate) struct ObjectRefs;

impl Kind for ObjectRefs {
    type Value = Vec<String>;
    fn read_text(&self, text: &str) -> Result<Vec<String>, String> {
        names(text).iter().map(|r| object_ref(r)).collect()
    }
    fn read_config(&self, value: &Value) -> Result<Vec<String>, String> {
        config_list(value)?.iter().map(|r| object_ref(r)).collect()
    }
    fn read_flags(&self, values: &[String]) -> Result<Vec<String>, String> {
        values
            .iter()
            .flat_map(|v| names(v))
            .map(|r| object_ref(&r))
            .collect()
    }
}

fn object_ref(text: &str) -> Result<String, String> {
    const KINDS: [&str; 4] = [
        "Secret",
        "ConfigMap",
        "ServiceAccount",
        "PersistentVolumeClaim",
    ];
    let (kind, name) = text
        .split_once('/')
        .map(|(k, n)| (k.trim(), n.trim()))
        .filter(|(_, n)| !n.is_empty())
        .ok_or_else(|| format!("{text:?}: expected KIND/NAME, like Secret/db-admin"))?;
    let kind = KINDS
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(kind))
        .ok_or_else(|| {
            format!("{text:?}: {kind:?} is not a kind a pod reads; use Secret, ConfigMap, ServiceAccount or PersistentVolumeClaim")
        })?;
    Ok(format!("{kind}/{name}"))
}

/// Helm hook delete policies, comma-separated.
pub(crate) struct DeletePolicy;

impl Kind for DeletePolicy {
    type Value = Vec<String>;
    fn read_text(&self, text: &str) -> Result<Vec<String>, String> {
        delete_policies(parse_list(text))
    }
    fn read_config(&self, value: &Value) -> Result<Vec<String>, String> {
        delete_policies(helm_list(value)?)
    }
}

fn delete_policies(policies: Vec<String>) -> Result<Vec<String>, String> {
    for p in &policies {
        if ![
            keys::BEFORE_HOOK_CREATION,
            keys::HOOK_SUCCEEDED,
            keys::HOOK_FAILED,
        ]
        .contains(&p.as_str())
        {
            return Err(format!(
                "unknown delete policy {p:?}; use before-hook-creation, hook-succeeded or hook-failed"
            ));
        }
    }
    Ok(policies)
}

/// Extra environment: a JSON object `{"NAME": "value"}` or a JSON array of EnvVar objects in
/// text, the same as a mapping or a sequence in the config, `NAME=VALUE` per flag.
pub(crate) struct Env;

const ENV_EXPECTED: &str = "expected a JSON object of names to values, like {\"DB_USER\": \"migrator\"}, or a JSON array of Kubernetes EnvVar objects";

impl Kind for Env {
    type Value = Vec<Value>;
    fn read_text(&self, text: &str) -> Result<Vec<Value>, String> {
        let parsed: Value = serde_json::from_str(text).map_err(|_| ENV_EXPECTED.to_string())?;
        self.read_config(&parsed)
    }
    fn read_config(&self, value: &Value) -> Result<Vec<Value>, String> {
        let vars: Vec<Value> = match value {
            Value::Object(map) => map
                .iter()
                .map(|(name, value)| match value {
                    Value::String(_) => Ok(serde_json::json!({"name": name, "value": value})),
                    _ => Err(format!(
                        "{ENV_EXPECTED}; the value of {name:?} is not a string"
                    )),
                })
                .collect::<Result<_, _>>()?,
            Value::Array(items) => items.clone(),
            _ => return Err(ENV_EXPECTED.to_string()),
        };
        for var in &vars {
            validate::env_var(var)?;
        }
        Ok(vars)
    }
    fn read_flags(&self, values: &[String]) -> Result<Vec<Value>, String> {
        let mut vars = serde_json::Map::new();
        for pair in values {
            let (name, value) = pair
                .split_once('=')
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| format!("{pair:?}: expected NAME=VALUE"))?;
            vars.insert(name.to_string(), Value::String(value.to_string()));
        }
        self.read_config(&Value::Object(vars))
    }
}

/// What the Job does with one of the pod's volumes instead of copying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VolumeOverride {
    /// An empty `emptyDir` in its place (the migration gets a scratch directory).
    EmptyDir,
    /// Neither the volume nor any mount of it in the Job.
    Drop,
}

impl VolumeOverride {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            VolumeOverride::EmptyDir => "emptyDir",
            VolumeOverride::Drop => "drop",
        }
    }
}

/// Volume overrides: `NAME=emptyDir,OTHER=drop` in text, a mapping in the config.
pub(crate) struct Volumes;

const VOLUMES_EXPECTED: &str =
    "expected VOLUME=emptyDir or VOLUME=drop, comma-separated, like \"data=emptyDir,cache=drop\"";

impl Kind for Volumes {
    type Value = IndexMap<String, VolumeOverride>;
    fn read_text(&self, text: &str) -> Result<Self::Value, String> {
        let mut map = IndexMap::new();
        for entry in names(text) {
            let (name, how) = entry
                .split_once('=')
                .map(|(n, h)| (n.trim(), h.trim()))
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| format!("{entry:?}: {VOLUMES_EXPECTED}"))?;
            map.insert(name.to_string(), volume_override(name, how)?);
        }
        if map.is_empty() {
            return Err(VOLUMES_EXPECTED.to_string());
        }
        Ok(map)
    }
    fn read_config(&self, value: &Value) -> Result<Self::Value, String> {
        let expected =
            "expected a mapping of volume names to emptyDir or drop, like {data: emptyDir}";
        let Value::Object(entries) = value else {
            return Err(expected.to_string());
        };
        let mut map = IndexMap::new();
        for (name, how) in entries {
            let how = how.as_str().ok_or_else(|| format!("{name}: {expected}"))?;
            map.insert(name.clone(), volume_override(name, how)?);
        }
        Ok(map)
    }
    fn read_flags(&self, values: &[String]) -> Result<Self::Value, String> {
        let mut map = IndexMap::new();
        for value in values {
            map.extend(self.read_text(value)?);
        }
        Ok(map)
    }
}

fn volume_override(name: &str, how: &str) -> Result<VolumeOverride, String> {
    match how {
        "emptyDir" => Ok(VolumeOverride::EmptyDir),
        "drop" => Ok(VolumeOverride::Drop),
        _ => Err(format!(
            "volume {name:?}: {how:?} is not an override; use emptyDir or drop"
        )),
    }
}

/// One word of a fixed set (`auto` or `keep`), case-insensitive; the first is the default.
pub(crate) struct OneOf(pub &'static [&'static str]);

impl Kind for OneOf {
    type Value = String;
    fn read_text(&self, text: &str) -> Result<String, String> {
        let word = text.trim().to_ascii_lowercase();
        if self.0.contains(&word.as_str()) {
            Ok(word)
        } else {
            Err(format!(
                "expected {}, got {:?}",
                self.0.join(" or "),
                text.trim()
            ))
        }
    }
    fn read_config(&self, value: &Value) -> Result<String, String> {
        self.read_text(config_string(value, &self.0.join(" or "))?)
    }
}

/// Extra labels or annotations for the Job's pod: a JSON object of strings in text, a mapping
/// in the config, `KEY=VALUE` per flag. Keys (and, for labels, values) must have Kubernetes'
/// syntax; keys under `migration-hook/` are ours and refused.
pub(crate) struct StringMap {
    pub labels: bool,
}

impl StringMap {
    fn what(&self) -> &'static str {
        if self.labels { "label" } else { "annotation" }
    }
    fn expected(&self) -> String {
        format!(
            "expected a JSON object of {} keys to string values, like {{\"team\": \"payments\"}}",
            self.what()
        )
    }
    fn check(&self, map: IndexMap<String, String>) -> Result<IndexMap<String, String>, String> {
        if map.is_empty() {
            return Err(self.expected());
        }
        for (key, value) in &map {
            validate::qualified_name(key)
                .map_err(|e| format!("{} key {key:?}: {e}", self.what()))?;
            if key.starts_with(keys::MARK_PREFIX) {
                return Err(format!(
                    "{} key {key:?}: keys under {} are migration-hook's own settings, never copied to the Job",
                    self.what(),
                    keys::MARK_PREFIX
                ));
            }
            if self.labels {
                validate::label_value(value)
                    .map_err(|e| format!("label {key:?}: value {value:?} {e}"))?;
            }
        }
        Ok(map)
    }
}

impl Kind for StringMap {
    type Value = IndexMap<String, String>;
    fn read_text(&self, text: &str) -> Result<Self::Value, String> {
        let parsed: Value = serde_json::from_str(text).map_err(|_| self.expected())?;
        self.read_config(&parsed)
    }
    fn read_config(&self, value: &Value) -> Result<Self::Value, String> {
        let Value::Object(entries) = value else {
            return Err(self.expected());
        };
        let map = entries
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!(
                    "{}; the value of {k:?} is not a string",
                    self.expected()
                )),
            })
            .collect::<Result<_, _>>()?;
        self.check(map)
    }
    fn read_flags(&self, values: &[String]) -> Result<Self::Value, String> {
        let mut map = IndexMap::new();
        for pair in values {
            let (key, value) = pair
                .split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| format!("{pair:?}: expected KEY=VALUE"))?;
            map.insert(key.to_string(), value.to_string());
        }
        self.check(map)
    }
}

/// Comma-separated names; empty entries dropped.
fn names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn strings(array: &Value, expected: &str) -> Result<Vec<String>, String> {
    array
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            _ => Err(format!("{expected}; an item is not a string")),
        })
        .collect()
}

fn config_string<'v>(value: &'v Value, what: &str) -> Result<&'v str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected {what} (a string), got {}", json_kind(value)))
}

/// A string of comma-separated names, or a sequence of names.
fn config_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(names(s)),
        Value::Array(_) => Ok(strings(value, "expected a list of names")?
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect()),
        _ => Err(format!(
            "expected a list of names (or one comma-separated string), got {}",
            json_kind(value)
        )),
    }
}

/// A Helm list (trimmed, lower-cased, no empties): one comma-separated string or a sequence.
fn helm_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(parse_list(s)),
        _ => Ok(config_list(value)?
            .iter()
            .flat_map(|item| parse_list(item))
            .collect()),
    }
}

/// What a config value is, for messages (never the value itself: it may be a credential).
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_config_agree() {
        assert_eq!(Int { min: 0 }.read_text("3"), Ok(3));
        assert_eq!(Int { min: 0 }.read_config(&serde_json::json!(3)), Ok(3));
        assert!(Int { min: 0 }.read_text("-1").is_err());
        assert!(Int { min: 0 }.read_config(&serde_json::json!(-1)).is_err());
        assert_eq!(
            Hook.read_text("Post-Install, pre-upgrade"),
            Hook.read_config(&serde_json::json!(["post-install", "pre-upgrade"]))
        );
        assert_eq!(
            Strings.read_text(r#"["a","b"]"#),
            Strings.read_config(&serde_json::json!(["a", "b"]))
        );
    }

    #[test]
    fn volume_overrides() {
        assert_eq!(
            Volumes.read_text("data=emptyDir, cache=drop"),
            Volumes.read_config(&serde_json::json!({"data": "emptyDir", "cache": "drop"}))
        );
        assert!(Volumes.read_text("data=hostPath").is_err());
        assert!(Volumes.read_text("data").is_err());
        assert!(Volumes.read_text("").is_err());
    }

    #[test]
    fn object_refs() {
        assert_eq!(
            ObjectRefs.read_text("secret/a, ConfigMap/b"),
            Ok(vec!["Secret/a".to_string(), "ConfigMap/b".to_string()])
        );
        assert!(ObjectRefs.read_text("Deployment/a").is_err());
        assert!(ObjectRefs.read_text("a").is_err());
    }

    #[test]
    fn pod_labels_and_annotations() {
        let labels = StringMap { labels: true };
        assert_eq!(
            labels.read_text(r#"{"team": "payments", "example.com/cost-center": "42"}"#),
            labels.read_flags(&["team=payments".into(), "example.com/cost-center=42".into()])
        );
        assert!(labels.read_text(r#"{"team": "pay ments"}"#).is_err());
        assert!(labels.read_text(r#"{"-team": "x"}"#).is_err());
        assert!(labels.read_text(r#"{"a/b/c": "x"}"#).is_err());
        assert!(labels.read_text(r#"{"migration-hook/x": "x"}"#).is_err());
        assert!(labels.read_text(r#"{"team": 3}"#).is_err());
        let annotations = StringMap { labels: false };
        assert!(
            annotations
                .read_text(r#"{"note": "any text at all"}"#)
                .is_ok()
        );
        assert_eq!(
            OneOf(&["auto", "keep"]).read_text(" Keep"),
            Ok("keep".into())
        );
        assert!(OneOf(&["auto", "keep"]).read_text("drop").is_err());
    }

    #[test]
    fn config_errors_say_what_was_expected() {
        let e = Strings
            .read_config(&serde_json::json!("bundle exec rake"))
            .unwrap_err();
        assert!(e.starts_with("expected a list of strings"), "{e}");
        let e = Name("an image reference")
            .read_config(&serde_json::json!(3))
            .unwrap_err();
        assert_eq!(e, "expected an image reference (a string), got a number");
    }

    #[test]
    fn repeated_flags_add_up() {
        assert_eq!(
            List.read_flags(&["a".into(), "b,c".into()]),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        let env = Env.read_flags(&["A=yes".into(), "B=".into()]).unwrap();
        assert_eq!(env[0]["value"], "yes");
        assert!(Env.read_flags(&["=x".into()]).is_err());
    }
}
