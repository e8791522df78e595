//! The `--config FILE` format: one or more migrations, each a selector, a container and overrides,
//! in the spirit of migrations-operator's `Migrator`.
//!
//! ```yaml
//! migrations:
//!   - selector:
//!       kind: Deployment                      # optional
//!       name: shop-web                        # optional
//!       matchLabels:                          # optional: the pod template's labels
//!         app.kubernetes.io/name: web
//!     container: migrate
//!     command: [bundle, exec, rails, db:migrate]
//!     hook: [post-install, pre-upgrade]
//!     weight: -5
//!     envFromSecrets: [shop-migrator-credentials]
//!     serviceAccountName: shop-migrator
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::kube::workload::WorkloadKind;
use crate::settings::mark::{MarkSpec, Origin};
use crate::settings::options::{ConfigMark, WorkloadSelector};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    migrations: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Entry {
    selector: SelectorDef,
    container: String,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    image: Option<String>,
    job_name: Option<String>,
    hook: Option<OneOrMany>,
    weight: Option<i64>,
    delete_policy: Option<OneOrMany>,
    backoff_limit: Option<i64>,
    active_deadline_seconds: Option<i64>,
    ttl_seconds_after_finished: Option<i64>,
    sidecars: Option<OneOrMany>,
    env: Option<Value>,
    env_from_secrets: Option<OneOrMany>,
    service_account_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SelectorDef {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    match_labels: Option<BTreeMap<String, String>>,
}

/// `a,b` or `[a, b]`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn joined(&self) -> String {
        match self {
            OneOrMany::One(s) => s.clone(),
            OneOrMany::Many(v) => v.join(","),
        }
    }
}

/// Reads a config file's text. Errors name the entry and field.
pub fn parse(text: &str) -> Result<Vec<ConfigMark>, String> {
    let options = serde_saphyr::options! {
        legacy_octal_numbers: true,
        with_snippet: false,
    };
    let file: File = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        e.without_snippet()
            .render()
            .lines()
            .next()
            .unwrap_or("invalid YAML")
            .to_string()
    })?;
    file.migrations
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            entry
                .into_mark(i)
                .map_err(|e| format!("migrations[{i}].{e}"))
        })
        .collect()
}

impl Entry {
    fn into_mark(self, index: usize) -> Result<ConfigMark, String> {
        let selector = self.selector.into_selector()?;
        let origin = Origin::Config(index);
        let mut spec = MarkSpec::default();
        let mut set = |key: &str, field: &str, value: String| {
            spec.set(key, &value, &origin)
                .map_err(|e| format!("{field}: {e}"))
        };
        set("container", "container", self.container)?;
        let json = |v: &Vec<String>| serde_json::to_string(v).expect("strings serialise");
        if let Some(v) = &self.command {
            set("command", "command", json(v))?;
        }
        if let Some(v) = &self.args {
            set("args", "args", json(v))?;
        }
        if let Some(v) = self.image {
            set("image", "image", v)?;
        }
        if let Some(v) = self.job_name {
            set("job-name", "jobName", v)?;
        }
        if let Some(v) = &self.hook {
            set("hook", "hook", v.joined())?;
        }
        if let Some(v) = self.weight {
            set("weight", "weight", v.to_string())?;
        }
        if let Some(v) = &self.delete_policy {
            set("delete-policy", "deletePolicy", v.joined())?;
        }
        if let Some(v) = self.backoff_limit {
            set("backoff-limit", "backoffLimit", v.to_string())?;
        }
        if let Some(v) = self.active_deadline_seconds {
            set(
                "active-deadline-seconds",
                "activeDeadlineSeconds",
                v.to_string(),
            )?;
        }
        if let Some(v) = self.ttl_seconds_after_finished {
            set(
                "ttl-seconds-after-finished",
                "ttlSecondsAfterFinished",
                v.to_string(),
            )?;
        }
        if let Some(v) = &self.sidecars {
            set("sidecars", "sidecars", v.joined())?;
        }
        if let Some(v) = &self.env {
            set("env", "env", v.to_string())?;
        }
        if let Some(v) = &self.env_from_secrets {
            set("env-from-secret", "envFromSecrets", v.joined())?;
        }
        if let Some(v) = self.service_account_name {
            set("service-account", "serviceAccountName", v)?;
        }
        Ok(ConfigMark { selector, spec })
    }
}

impl SelectorDef {
    fn into_selector(self) -> Result<WorkloadSelector, String> {
        let kind = match &self.kind {
            Some(k) => Some(
                WorkloadKind::parse(k)
                    .ok_or_else(|| format!("selector.kind: {k:?} is not a workload kind"))?,
            ),
            None => None,
        };
        let selector = WorkloadSelector {
            kind,
            name: self.name,
            namespace: self.namespace,
            match_labels: self.match_labels.unwrap_or_default(),
        };
        if selector.kind.is_none() && selector.name.is_none() && selector.match_labels.is_empty() {
            return Err("selector: give at least one of kind, name or matchLabels".into());
        }
        Ok(selector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::mark::HookChoice;

    #[test]
    fn reads_a_full_entry() {
        let marks = parse(
            "migrations:\n- selector: {kind: deploy, matchLabels: {app: web}}\n  container: migrate\n  command: [rails, db:migrate]\n  hook: [post-install, pre-upgrade]\n  weight: -5\n  env: {DB_USER: migrator}\n  envFromSecrets: [ddl]\n  serviceAccountName: migrator\n",
        )
        .unwrap();
        let m = &marks[0];
        assert_eq!(m.selector.kind, Some(WorkloadKind::Deployment));
        assert_eq!(m.spec.command.as_deref().unwrap(), ["rails", "db:migrate"]);
        assert_eq!(
            m.spec.hook,
            Some(HookChoice::Events(vec![
                "post-install".into(),
                "pre-upgrade".into()
            ]))
        );
        assert_eq!(m.spec.hook_origin, Some(Origin::Config(0)));
        assert_eq!(m.spec.env_from_secrets.as_deref().unwrap(), ["ddl"]);
    }

    #[test]
    fn errors_name_the_entry_and_field() {
        let e = parse("migrations:\n- selector: {name: a}\n  container: m\n- selector: {name: b}\n  container: m\n  hook: pre-instal\n").unwrap_err();
        assert!(
            e.starts_with("migrations[1].hook: unknown hook event"),
            "{e}"
        );
        let e =
            parse("migrations:\n- selector: {name: a}\n  container: m\n  wieght: 3\n").unwrap_err();
        assert!(e.contains("wieght"), "{e}");
        let e = parse("migrations:\n- selector: {}\n  container: m\n").unwrap_err();
        assert!(e.contains("selector: give at least one"), "{e}");
    }
}
