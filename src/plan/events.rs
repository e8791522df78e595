//! A Job's hook events: the ones asked for, or, with `auto`, the ones the migration's database
//! allows; and the warnings about events that would not work.

use crate::diagnostic::{Diagnostic, DocLabel};
use crate::plan::database::InRelease;
use crate::plan::job::{self, Settings};
use crate::settings::mark::{HookChoice, Origin};

/// The hook events, and why.
pub(crate) fn choose_events(
    settings: &Settings,
    in_release: Option<&InRelease>,
) -> (Vec<String>, String) {
    match &settings.hook {
        HookChoice::Events(events) => {
            let reason = match settings.hook_origin {
                Origin::Default => "the default".to_string(),
                ref origin => format!("set by {origin}"),
            };
            (events.clone(), reason)
        }
        HookChoice::Auto => match in_release {
            Some(db) => (
                job::IN_RELEASE_EVENTS.map(String::from).to_vec(),
                format!(
                    "auto: the migration talks to {} ({}), which is part of this release and exists only after install",
                    db.target, db.via
                ),
            ),
            None => (
                job::DEFAULT_EVENTS.map(String::from).to_vec(),
                "auto: no database of this release is named in the migration's settings"
                    .to_string(),
            ),
        },
    }
}

/// Warns (at the marked workload `at`) when the events cannot work: `pre-install` with a
/// database the release creates, or both `pre-` and `post-` events for Argo CD.
pub(crate) fn warn(
    events: &[String],
    in_release: Option<&InRelease>,
    argocd: bool,
    job: &str,
    at: &DocLabel,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if let Some(db) = in_release
        && events.iter().any(|e| e == "pre-install")
    {
        diagnostics.push(
            Diagnostic::warning(format!(
                "the migration talks to {} ({}), which is part of this release: at pre-install it does not exist yet, so on first install the migration Job {job:?} would fail or time out. Use hook events post-install,pre-upgrade (migration-hook/hook: post-install,pre-upgrade, or \"auto\")",
                db.target, db.via
            ))
            .at(at),
        );
    }

    if argocd
        && events.iter().any(|e| e.starts_with("pre-"))
        && events.iter().any(|e| e.starts_with("post-"))
    {
        diagnostics.push(
            Diagnostic::warning(format!(
                "Argo CD runs pre-install/pre-upgrade hooks as PreSync and post-install/post-upgrade hooks as PostSync, both on every sync: with hook events {} the migration Job {job:?} would run twice per sync",
                events.join(",")
            ))
            .at(at),
        );
    }
}
