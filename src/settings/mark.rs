//! What a mark says about one migration, whichever way it was given (`docs/design.md` §3).
//!
//! Annotations, command-line flags and the config file all produce a [`MarkSpec`]; specs are
//! merged setting by setting with the precedence command line > config file > annotations.
//! The settings themselves, with their keys, flags, config fields, value types, help and
//! where they land, are the rows of [`super::table`]; this module holds the machinery that
//! turns those rows into the spec type, its readers and its merge.

use std::fmt;

use serde_json::Value;

use crate::kube::keys;

pub(crate) use super::table::{MarkSpec, SETTINGS};
pub(crate) use super::values::HookChoice;

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

/// One row of the settings table, as data: what `--help`, the README and messages need.
#[derive(Debug)]
pub(crate) struct Setting {
    /// The annotation key after `migration-hook/`; also the flag's name, `--KEY`.
    pub(crate) key: &'static str,
    /// The field of a `migrations:` entry in the config file.
    pub(crate) config: &'static str,
    /// What the value looks like, for `--help`.
    pub(crate) value_name: &'static str,
    /// The help text, one line per doc-comment line of the row.
    pub(crate) doc: &'static [&'static str],
    pub(crate) flag: Flag,
}

impl Setting {
    /// The help text as one line.
    pub(crate) fn help(&self) -> String {
        self.doc
            .iter()
            .map(|line| line.trim())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a setting is given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    /// `--KEY VALUE`, once.
    Once,
    /// `--KEY VALUE`, repeatable; the value type says how the occurrences add up.
    Repeated,
    /// `--KEY N`, once, a number: one starting with `-` is taken as the value, so that the
    /// number's own check says what is wrong with it (not clap's "use -- -1" tip).
    Negative,
    /// No flag of that name (the container is given by `--container KIND/NAME:CONTAINER`).
    None,
}

/// Where a setting's value ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lands {
    /// It picks the container to hoist.
    Selection,
    /// On the migration container or the Job's pod (hoist).
    Pod,
    /// On the Job's name or hook annotations (job).
    Hook,
    /// Copied into the Job's `spec` under this field, with this default when nobody set it.
    JobSpec {
        field: &'static str,
        default: Option<i64>,
    },
}

/// What the generic parts of the spec need from every value type.
pub(crate) trait SettingValue: Clone + fmt::Debug + PartialEq {
    /// The value as a Job spec field, for the settings that land there.
    fn as_job_field(&self) -> Option<i64> {
        None
    }
}

impl SettingValue for i64 {
    fn as_job_field(&self) -> Option<i64> {
        Some(*self)
    }
}
impl SettingValue for String {}
impl SettingValue for Vec<String> {}
impl SettingValue for Vec<Value> {}
impl SettingValue for HookChoice {}
impl SettingValue for indexmap::IndexMap<String, super::values::VolumeOverride> {}
impl SettingValue for indexmap::IndexMap<String, String> {}

/// Declares the settings: the spec type with one `Option` field per row, the rows as
/// [`Setting`] data, and the readers (annotation text, config values, flags) and the merge,
/// all dispatched by row. Used once, by [`super::table`].
macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $field:ident: $ty:ty = $kind:expr,
            key $key:literal, config $config:literal, value $value:literal,
            flag $flag:ident, lands $lands:expr;
    )*) => {
        /// One migration's settings. `None` means "this source does not say".
        #[derive(Debug, Clone, Default, PartialEq)]
        pub(crate) struct MarkSpec {
            $(
                $(#[doc = $doc])+
                pub(crate) $field: Option<$ty>,
            )*
            /// Who set each setting that is set, by key.
            pub(in crate::settings) origins: Vec<(&'static str, $crate::settings::mark::Origin)>,
        }

        /// The rows, in the order `--help` and the README list them.
        pub(crate) static SETTINGS: &[$crate::settings::mark::Setting] = &[$(
            $crate::settings::mark::Setting {
                key: $key,
                config: $config,
                value_name: $value,
                doc: &[$($doc),+],
                flag: $crate::settings::mark::Flag::$flag,
            },
        )*];

        impl MarkSpec {
            /// Sets one setting from its annotation text (`key` without the prefix). The error
            /// says what the value should look like.
            pub(crate) fn set(
                &mut self,
                key: &str,
                text: &str,
                origin: &$crate::settings::mark::Origin,
            ) -> Result<(), String> {
                use $crate::settings::values::Kind as _;
                let key = match key {
                    $($key => {
                        self.$field = Some($kind.read_text(text)?);
                        $key
                    })*
                    _ => return Err($crate::settings::mark::unknown_key_message(key)),
                };
                self.set_origin(key, origin);
                Ok(())
            }

            /// Sets one setting from a config file field; `None` when no setting has that field.
            pub(crate) fn set_config(
                &mut self,
                field: &str,
                value: &serde_json::Value,
                origin: &$crate::settings::mark::Origin,
            ) -> Option<Result<(), String>> {
                use $crate::settings::values::Kind as _;
                let key = match field {
                    $($config => match $kind.read_config(value) {
                        Ok(v) => {
                            self.$field = Some(v);
                            $key
                        }
                        Err(e) => return Some(Err(e)),
                    },)*
                    _ => return None,
                };
                self.set_origin(key, origin);
                Some(Ok(()))
            }

            /// Sets one setting from every occurrence of its flag.
            pub(crate) fn set_flags(
                &mut self,
                key: &str,
                values: &[String],
                origin: &$crate::settings::mark::Origin,
            ) -> Result<(), String> {
                use $crate::settings::values::Kind as _;
                let key = match key {
                    $($key => {
                        self.$field = Some($kind.read_flags(values)?);
                        $key
                    })*
                    _ => return Err($crate::settings::mark::unknown_key_message(key)),
                };
                self.set_origin(key, origin);
                Ok(())
            }

            /// `self` with every setting that `higher` makes replaced by `higher`'s.
            pub(crate) fn overlay(mut self, higher: &MarkSpec) -> MarkSpec {
                $(
                    if higher.$field.is_some() {
                        self.$field.clone_from(&higher.$field);
                        if let Some(origin) = higher.origin($key) {
                            self.set_origin($key, &origin.clone());
                        }
                    }
                )*
                self
            }

            /// The Job spec fields that settings land on directly, in table order: the value
            /// set, or the row's default; and whether it was set.
            pub(crate) fn job_spec_fields(&self) -> Vec<(&'static str, i64, bool)> {
                use $crate::settings::mark::SettingValue as _;
                let mut fields = Vec::new();
                $(
                    if let $crate::settings::mark::Lands::JobSpec { field, default } = $lands {
                        let set = self.$field.as_ref().and_then(|v| v.as_job_field());
                        if let Some(value) = set.or(default) {
                            fields.push((field, value, set.is_some()));
                        }
                    }
                )*
                fields
            }
        }
    };
}

pub(crate) use settings;

impl MarkSpec {
    /// Who set `key`, if anyone did.
    pub(crate) fn origin(&self, key: &str) -> Option<&Origin> {
        self.origins.iter().find(|(k, _)| *k == key).map(|(_, o)| o)
    }

    pub(in crate::settings) fn set_origin(&mut self, key: &'static str, origin: &Origin) {
        match self.origins.iter_mut().find(|(k, _)| *k == key) {
            Some((_, o)) => *o = origin.clone(),
            None => self.origins.push((key, origin.clone())),
        }
    }
}

/// "unknown key"; with a suggestion when the key is one edit or so away from a real one.
pub(crate) fn unknown_key_message(key: &str) -> String {
    let suggestion = closest(key, SETTINGS.iter().map(|s| s.key));
    let known = SETTINGS
        .iter()
        .map(|s| s.key)
        .collect::<Vec<_>>()
        .join(", ");
    match suggestion {
        Some(k) => format!(
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

/// The candidate `word` most likely misspells: the nearest within two edits (ties: the first
/// in alphabetical order), for "did you mean".
pub(crate) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (distance(c, word), c))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance, for "did you mean".
pub(crate) fn distance(a: &str, b: &str) -> usize {
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
        assert_eq!(merged.origin("hook"), Some(&Origin::Annotation));
    }
}
