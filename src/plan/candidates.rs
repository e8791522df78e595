//! Containers that look like they run a database migration, for a chart where nothing is
//! marked: `explain` lists them with the exact flag and annotation that would mark each, and a
//! normal run warns, so that a forgotten or misspelt mark is never silent. Only "looks like":
//! the rules read the command, args, image and container name, nothing more.

use serde_json::Value;

use crate::diagnostic::DocLabel;
use crate::input::document::{Document, Documents};
use crate::kube::workload::WorkloadKind;
use crate::kube::{keys, naming};

/// A container that looks like a migration.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) label: DocLabel,
    pub(crate) kind: WorkloadKind,
    pub(crate) namespace: Option<String>,
    pub(crate) workload: String,
    pub(crate) container: String,
    /// An init container (else a main container, which needs a command override).
    pub(crate) init: bool,
    /// What made it look like one, e.g. `args "db:migrate"`.
    pub(crate) why: String,
    /// The container's own command or args, as the JSON a `--command`/`--args` override takes,
    /// for a main container (`("--args", "[\"migrate\"]")`).
    pub(crate) override_flag: Option<(&'static str, String)>,
}

impl Candidate {
    /// The `--container` flag that marks it (with its override, for a main container).
    pub(crate) fn flag(&self) -> String {
        let kind = self.kind.kind().to_ascii_lowercase();
        let target = match &self.namespace {
            Some(ns) => format!("{kind}/{ns}/{}", self.workload),
            None => format!("{kind}/{}", self.workload),
        };
        let mut flag = format!("--container={target}:{}", self.container);
        if let Some((name, json)) = &self.override_flag {
            flag.push_str(&format!(" '{name}={json}'"));
        }
        flag
    }

    /// The pod annotation that marks it, for a chart's `podAnnotations` value.
    pub(crate) fn annotation(&self) -> String {
        let mut out = format!("{}: {}", keys::MARK_CONTAINER, self.container);
        if let Some((name, json)) = &self.override_flag {
            let key = name.trim_start_matches("--");
            out.push_str(&format!(", {}{key}: '{json}'", keys::MARK_PREFIX));
        }
        out
    }
}

/// Words that a migration's command line, image or container name contains; a document with
/// none of them is not parsed.
const NEEDLES: &[&str] = &[
    "migrat",
    "Migrat",
    "flyway",
    "liquibase",
    "alembic",
    "goose",
    "dbmate",
    "atlas",
    "prisma",
];

/// The candidates of a stream, in stream order. Hooks are not candidates (they run as hooks
/// already); a document that cannot be parsed is skipped (the plan reports what it must).
pub(crate) fn find(docs: &Documents) -> Vec<Candidate> {
    let mut found = Vec::new();
    for doc in docs.iter() {
        let Some(kind) = WorkloadKind::of(doc.head.api_version.as_deref(), doc.kind()) else {
            continue;
        };
        if doc.is_hook() || !NEEDLES.iter().any(|n| doc.body.contains(n)) {
            continue;
        }
        let Ok(value) = doc.parse() else {
            continue;
        };
        let Some(pod) = kind.template(&value).and_then(|t| t.get("spec")) else {
            continue;
        };
        for (key, init) in [("initContainers", true), ("containers", false)] {
            for c in pod.get(key).and_then(Value::as_array).into_iter().flatten() {
                if let Some(mut candidate) = candidate(doc, kind, c, init) {
                    // The namespace only when the name alone is ambiguous: a flag with the
                    // rendering's namespace fails when the chart is installed elsewhere.
                    let ambiguous = docs.iter().any(|other| {
                        other.index != doc.index
                            && other.name() == doc.name()
                            && !other.is_hook()
                            && WorkloadKind::of(other.head.api_version.as_deref(), other.kind())
                                == Some(kind)
                    });
                    if !ambiguous {
                        candidate.namespace = None;
                    }
                    found.push(candidate);
                }
            }
        }
    }
    found
}

fn candidate(doc: &Document, kind: WorkloadKind, c: &Value, init: bool) -> Option<Candidate> {
    if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
        return None; // a native sidecar never completes
    }
    let name = c.get("name")?.as_str()?;
    if name.to_ascii_lowercase().contains("wait") {
        return None; // waits for a migration that runs elsewhere
    }
    let words = |field: &str| -> Vec<String> {
        c.get(field)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let (command, args) = (words("command"), words("args"));
    let line = command
        .iter()
        .chain(&args)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
    let lower_name = name.to_ascii_lowercase();
    let why = if let Some(phrase) = migration_phrase(&line) {
        format!("runs {phrase:?}")
    } else if let Some(tool) = migration_image(image) {
        format!("image {image:?}: {tool}")
    } else if lower_name.contains("migrat") {
        "named so".to_string()
    } else {
        return None;
    };
    // A main container runs until it ends: marking it takes a command, here its own (not so
    // in a Job or CronJob, whose container is what runs to completion).
    let runs_to_completion = kind.runs_to_completion();
    let override_flag = (!init && !runs_to_completion)
        .then(|| {
            let (flag, items) = if args.is_empty() {
                ("--command", &command)
            } else {
                ("--args", &args)
            };
            (!items.is_empty()).then(|| (flag, serde_json::to_string(items).expect("strings")))
        })
        .flatten();
    Some(Candidate {
        label: doc.label(),
        kind,
        namespace: doc.head.namespace.as_deref().map(str::to_string),
        // A Job by its name without the revision suffix, which marks it on every release.
        workload: match kind {
            WorkloadKind::Job => naming::without_revision_suffix(doc.name()?).0,
            _ => doc.name()?.to_string(),
        },
        container: name.to_string(),
        init,
        why,
        override_flag,
    })
}

/// The part of a command line that looks like a migration: a tool's migrate verb
/// (`db:migrate`, `manage.py migrate`, `alembic upgrade`, `flyway migrate`, `liquibase
/// update`, `goose up`, `dbmate up`, `prisma migrate deploy`, `mix ecto.migrate`, `atlas migrate
/// apply`, `migrate -path …`), or any word that is `migrate`, `--migrate`, `-migrate`,
/// `migrations`… on its own.
fn migration_phrase(line: &str) -> Option<String> {
    let lower = line.to_ascii_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '|' | '"' | '\'' | '('))
        .filter(|w| !w.is_empty())
        .collect();
    const PAIRS: &[(&str, &str)] = &[
        ("alembic", "upgrade"),
        ("flyway", "migrate"),
        ("liquibase", "update"),
        ("goose", "up"),
        ("dbmate", "up"),
        ("dbmate", "migrate"),
        ("sql-migrate", "up"),
    ];
    for pair in words.windows(2) {
        if PAIRS.contains(&(pair[0], pair[1])) {
            return Some(format!("{} {}", pair[0], pair[1]));
        }
    }
    // A word one of whose parts is migrate/migration(s)/migrator (`db:migrate`, `--migrate`,
    // `/scripts/db-migrate`, `ecto.migrate`, `automigrate`), unless it waits for or checks one.
    words
        .iter()
        .find(|w| {
            !w.contains("wait")
                && !w.contains("check")
                && w.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|part| part.starts_with("migrat") || part == "automigrate")
        })
        .map(|w| w.to_string())
}

/// A migration tool's image (`flyway/flyway`, `liquibase/liquibase`, `migrate/migrate`,
/// `amacneil/dbmate`, `arigaio/atlas`, …) or one named for migrations, by the last part of its
/// repository name.
fn migration_image(image: &str) -> Option<String> {
    let repository = image.split(['@', ':']).next().unwrap_or_default();
    let last = repository.rsplit('/').next().unwrap_or_default();
    const TOOLS: &[&str] = &[
        "flyway",
        "liquibase",
        "migrate",
        "dbmate",
        "atlas",
        "goose",
        "sqitch",
    ];
    if TOOLS.contains(&last) {
        Some(last.to_string())
    } else if last.to_ascii_lowercase().contains("migrat") {
        Some("a migration image".to_string())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases() {
        for (line, found) in [
            ("bundle exec rails db:migrate", Some("db:migrate")),
            ("python manage.py migrate --noinput", Some("migrate")),
            ("alembic upgrade head", Some("alembic upgrade")),
            ("/app/server --migrate", Some("--migrate")),
            ("mix ecto.migrate", Some("ecto.migrate")),
            ("npx prisma migrate deploy", Some("migrate")),
            ("sh -c 'sql-migrate up && exit'", Some("sql-migrate up")),
            ("kratos migrate sql -e --yes", Some("migrate")),
            (
                "/scripts/wait-for-deps /scripts/db-migrate",
                Some("/scripts/db-migrate"),
            ),
            ("/scripts/wait-for-migrations", None),
            ("airflow db check-migrations", None),
            ("kong migrations bootstrap", Some("migrations")),
            ("nginx -g daemon off;", None),
            ("bin/rails server", None),
        ] {
            assert_eq!(migration_phrase(line).as_deref(), found, "{line}");
        }
        assert_eq!(
            migration_image("flyway/flyway:10").as_deref(),
            Some("flyway")
        );
        assert_eq!(
            migration_image("ghcr.io/x/app-migrations:1").as_deref(),
            Some("a migration image")
        );
        assert_eq!(migration_image("ghcr.io/x/app:1"), None);
    }
}
