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
use serde_json::{Map, Value};

use crate::kube::workload::WorkloadKind;
use crate::settings::mark::{MarkSpec, Origin, SETTINGS, closest};
use crate::settings::options::{ConfigMark, WorkloadSelector};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Each entry: `selector`, then the fields of the settings table ([`SETTINGS`]), read as
    /// typed values by each setting's own reader.
    migrations: Vec<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SelectorDef {
    kind: Option<String>,
    name: Option<String>,
    namespace: Option<String>,
    match_labels: Option<BTreeMap<String, String>>,
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
        .map(|(i, fields)| entry(i, fields).map_err(|e| format!("migrations[{i}].{e}")))
        .collect()
}

/// One `migrations:` entry. Errors name the field.
fn entry(index: usize, fields: Map<String, Value>) -> Result<ConfigMark, String> {
    let origin = Origin::Config(index);
    let mut spec = MarkSpec::default();
    let mut selector = None;
    for (field, value) in fields {
        if field == "selector" {
            let def: SelectorDef =
                serde_json::from_value(value).map_err(|e| format!("selector: {e}"))?;
            selector = Some(def.into_selector()?);
            continue;
        }
        match spec.set_config(&field, &value, &origin) {
            Some(result) => result.map_err(|e| format!("{field}: {e}"))?,
            None => return Err(unknown_field(&field)),
        }
    }
    let selector = selector.ok_or("selector: missing; give kind, name or matchLabels")?;
    if spec.container.is_none() {
        return Err("container: missing; name the container to hoist".into());
    }
    Ok(ConfigMark { selector, spec })
}

fn unknown_field(field: &str) -> String {
    let known: Vec<&str> = std::iter::once("selector")
        .chain(SETTINGS.iter().map(|s| s.config))
        .collect();
    let suggestion = closest(field, known.iter().copied())
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default();
    format!(
        "unknown field `{field}`{suggestion}; known fields: {}",
        known.join(", ")
    )
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
        assert_eq!(m.spec.origin("hook"), Some(&Origin::Config(0)));
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
