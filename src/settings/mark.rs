//! What a mark says about one migration, whichever way it was given (`docs/design.md` §3).
//!
//! Annotations, command-line flags and the config file all produce a [`MarkSpec`]; specs are
//! merged field by field with the precedence command line > config file > annotations.
//! Annotation values and flag values share one parser ([`MarkSpec::set`]), so
//! `migration-hook/weight: "-5"` and `--weight -5` accept exactly the same text.

use std::fmt;

use serde_json::Value;

use crate::input::document::parse_list;
use crate::kube::keys;

/// Where a setting came from, for messages that say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// `migration-hook/*` annotations on the workload or its pod template.
    Annotation,
    /// Entry `n` (0-based) of `migrations:` in the `--config` file.
    Config(usize),
    /// `--container` and the override flags.
    CommandLine,
    /// Nobody set it.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Annotation => f.write_str("the workload's migration-hook annotations"),
            Origin::Config(i) => write!(f, "migrations[{i}] of the config file"),
            Origin::CommandLine => f.write_str("the command line"),
            Origin::Default => f.write_str("the default"),
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

/// One migration's settings. `None` means "this source does not say".
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct MarkSpec {
    pub(crate) container: Option<String>,
    pub command: Option<Vec<String>>,
    pub(crate) args: Option<Vec<String>>,
    pub(crate) image: Option<String>,
    pub(crate) job_name: Option<String>,
    pub(crate) hook: Option<HookChoice>,
    /// Who set `hook` (kept through merges, for the explanation of the events used).
    pub(crate) hook_origin: Option<Origin>,
    pub(crate) weight: Option<i64>,
    pub(crate) delete_policy: Option<Vec<String>>,
    pub(crate) backoff_limit: Option<i64>,
    pub(crate) active_deadline_seconds: Option<i64>,
    pub(crate) ttl_seconds_after_finished: Option<i64>,
    /// Regular containers to keep as native sidecars. `Some(vec![])` keeps none.
    pub(crate) sidecars: Option<Vec<String>>,
    /// Extra environment variables for the migration container only (EnvVar objects).
    pub(crate) env: Option<Vec<Value>>,
    /// Secrets added to the migration container's `envFrom`, for the Job only.
    pub(crate) env_from_secrets: Option<Vec<String>>,
    /// ServiceAccount for the Job only.
    pub(crate) service_account: Option<String>,
}

/// Every key a mark annotation may use, after the `migration-hook/` prefix.
pub(crate) const KEYS: &[&str] = &[
    "container",
    "command",
    "args",
    "image",
    "job-name",
    "hook",
    "weight",
    "delete-policy",
    "backoff-limit",
    "active-deadline-seconds",
    "ttl-seconds-after-finished",
    "sidecars",
    "env",
    "env-from-secret",
    "service-account",
];

impl MarkSpec {
    /// Sets one setting from its text form (`key` without the prefix). The error says what the
    /// value should look like.
    pub(crate) fn set(&mut self, key: &str, value: &str, origin: &Origin) -> Result<(), String> {
        let value_trimmed = value.trim();
        match key {
            "container" => self.container = Some(non_empty(value_trimmed, "a container name")?),
            "command" => self.command = Some(string_array(value)?),
            "args" => self.args = Some(string_array(value)?),
            "image" => self.image = Some(non_empty(value_trimmed, "an image reference")?),
            "job-name" => self.job_name = Some(job_name(value_trimmed)?),
            "hook" => {
                self.hook = Some(hook_choice(value)?);
                self.hook_origin = Some(origin.clone());
            }
            "weight" => self.weight = Some(integer(value_trimmed, i64::from(i32::MIN))?),
            "delete-policy" => self.delete_policy = Some(delete_policy(value)?),
            "backoff-limit" => self.backoff_limit = Some(integer(value_trimmed, 0)?),
            "active-deadline-seconds" => {
                self.active_deadline_seconds = Some(integer(value_trimmed, 1)?)
            }
            "ttl-seconds-after-finished" => {
                self.ttl_seconds_after_finished = Some(integer(value_trimmed, 0)?)
            }
            "sidecars" => self.sidecars = Some(name_list(value)),
            "env" => self.env = Some(env(value)?),
            "env-from-secret" => self.env_from_secrets = Some(name_list(value)),
            "service-account" => {
                self.service_account = Some(non_empty(value_trimmed, "a ServiceAccount name")?)
            }
            _ => return Err(unknown_key_message(key)),
        }
        Ok(())
    }

    /// `self` with every setting that `higher` makes replaced by `higher`'s.
    pub(crate) fn overlay(mut self, higher: &MarkSpec) -> MarkSpec {
        fn take<T: Clone>(low: &mut Option<T>, high: &Option<T>) {
            if high.is_some() {
                low.clone_from(high);
            }
        }
        take(&mut self.container, &higher.container);
        take(&mut self.command, &higher.command);
        take(&mut self.args, &higher.args);
        take(&mut self.image, &higher.image);
        take(&mut self.job_name, &higher.job_name);
        if higher.hook.is_some() {
            self.hook.clone_from(&higher.hook);
            self.hook_origin.clone_from(&higher.hook_origin);
        }
        take(&mut self.weight, &higher.weight);
        take(&mut self.delete_policy, &higher.delete_policy);
        take(&mut self.backoff_limit, &higher.backoff_limit);
        take(
            &mut self.active_deadline_seconds,
            &higher.active_deadline_seconds,
        );
        take(
            &mut self.ttl_seconds_after_finished,
            &higher.ttl_seconds_after_finished,
        );
        take(&mut self.sidecars, &higher.sidecars);
        take(&mut self.env, &higher.env);
        take(&mut self.env_from_secrets, &higher.env_from_secrets);
        take(&mut self.service_account, &higher.service_account);
        self
    }
}

/// "unknown key"; with a suggestion when the key is one edit or so away from a real one.
pub(crate) fn unknown_key_message(key: &str) -> String {
    let suggestion = KEYS
        .iter()
        .map(|k| (distance(k, key), k))
        .filter(|(d, _)| *d <= 2)
        .min();
    let known = KEYS.join(", ");
    match suggestion {
        Some((_, k)) => format!(
            "unknown key \"{}{key}\" (did you mean \"{}{k}\"?); a misspelled key would silently disable the migration, so it is an error. Known keys: {known}",
            keys::MARK_PREFIX,
            keys::MARK_PREFIX
        ),
        None => format!(
            "unknown key \"{}{key}\"; a misspelled key would silently disable the migration, so it is an error. Known keys: {known}",
            keys::MARK_PREFIX
        ),
    }
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

fn non_empty(value: &str, what: &str) -> Result<String, String> {
    if value.is_empty() {
        Err(format!("expected {what}, got an empty value"))
    } else {
        Ok(value.to_string())
    }
}

/// A JSON array of strings: `["sql-migrate", "up"]`.
fn string_array(value: &str) -> Result<Vec<String>, String> {
    let expected =
        "expected a JSON array of strings, like [\"bundle\", \"exec\", \"rails\", \"db:migrate\"]";
    match serde_json::from_str::<Value>(value) {
        Ok(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(format!("{expected}; an item is not a string")),
            })
            .collect(),
        _ => Err(expected.to_string()),
    }
}

fn integer(value: &str, min: i64) -> Result<i64, String> {
    match value.parse::<i64>() {
        Ok(n) if n >= min && n <= i64::from(i32::MAX) => Ok(n),
        _ if min == 0 => Err(format!("expected a whole number ≥ 0, got {value:?}")),
        _ if min == 1 => Err(format!("expected a whole number ≥ 1, got {value:?}")),
        _ => Err(format!("expected a whole number, got {value:?}")),
    }
}

/// A Job name must be a DNS-1123 label (it becomes a pod label value).
fn job_name(value: &str) -> Result<String, String> {
    if crate::kube::naming::is_dns_label(value) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "{value:?} is not a valid Job name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

fn hook_choice(value: &str) -> Result<HookChoice, String> {
    if value.trim().eq_ignore_ascii_case("auto") {
        return Ok(HookChoice::Auto);
    }
    let events = parse_list(value);
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

fn delete_policy(value: &str) -> Result<Vec<String>, String> {
    let policies = parse_list(value);
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

/// Comma-separated names; empty entries dropped.
fn name_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Extra environment: a JSON object `{"NAME": "value"}` or a JSON array of EnvVar objects.
fn env(value: &str) -> Result<Vec<Value>, String> {
    let expected = "expected a JSON object of names to values, like {\"DB_USER\": \"migrator\"}, or a JSON array of Kubernetes EnvVar objects";
    let parsed: Value = serde_json::from_str(value).map_err(|_| expected.to_string())?;
    let vars: Vec<Value> = match parsed {
        Value::Object(map) => map
            .into_iter()
            .map(|(name, value)| match value {
                Value::String(_) => Ok(serde_json::json!({"name": name, "value": value})),
                _ => Err(format!("{expected}; the value of {name:?} is not a string")),
            })
            .collect::<Result<_, _>>()?,
        Value::Array(items) => items,
        _ => return Err(expected.to_string()),
    };
    for var in &vars {
        crate::kube::validate::env_var(var)?;
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(pairs: &[(&str, &str)]) -> Result<MarkSpec, String> {
        let mut s = MarkSpec::default();
        for (k, v) in pairs {
            s.set(k, v, &Origin::Annotation)?;
        }
        Ok(s)
    }

    #[test]
    fn parses_every_key() {
        let s = spec(&[
            ("container", "migrate"),
            ("command", r#"["sql-migrate","up"]"#),
            ("hook", "Post-Install, pre-upgrade"),
            ("weight", "-5"),
            ("delete-policy", "hook-succeeded"),
            ("sidecars", "cloud-sql-proxy, istio-proxy"),
            ("env", r#"{"A":"yes"}"#),
        ])
        .unwrap();
        assert_eq!(s.command.unwrap(), ["sql-migrate", "up"]);
        assert_eq!(
            s.hook,
            Some(HookChoice::Events(vec![
                "post-install".into(),
                "pre-upgrade".into()
            ]))
        );
        assert_eq!(s.weight, Some(-5));
        assert_eq!(s.sidecars.unwrap(), ["cloud-sql-proxy", "istio-proxy"]);
        assert_eq!(s.env.unwrap()[0]["value"], "yes");
    }

    #[test]
    fn rejects_bad_values() {
        assert!(spec(&[("command", "sql-migrate up")]).is_err());
        assert!(spec(&[("hook", "pre-instal")]).is_err());
        assert!(spec(&[("hook", "test")]).is_err());
        assert!(spec(&[("weight", "high")]).is_err());
        assert!(spec(&[("backoff-limit", "-1")]).is_err());
        assert!(spec(&[("job-name", "Bad_Name")]).is_err());
        assert!(spec(&[("env", r#"[{"name":"A","valu":"x"}]"#)]).is_err());
    }

    #[test]
    fn unknown_keys_suggest() {
        let e = spec(&[("contaner", "x")]).unwrap_err();
        assert!(
            e.contains("did you mean \"migration-hook/container\""),
            "{e}"
        );
    }

    #[test]
    fn overlay_is_field_by_field() {
        let low = spec(&[
            ("container", "a"),
            ("weight", "3"),
            ("hook", "post-install"),
        ])
        .unwrap();
        let mut high = MarkSpec::default();
        high.set("weight", "7", &Origin::CommandLine).unwrap();
        let merged = low.overlay(&high);
        assert_eq!(merged.container.as_deref(), Some("a"));
        assert_eq!(merged.weight, Some(7));
        assert_eq!(merged.hook_origin, Some(Origin::Annotation));
    }
}
