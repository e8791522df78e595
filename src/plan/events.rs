//! A Job's hook events: the ones asked for, or, with `auto`, the ones the migration's database
//! allows; and the warnings about events that would not work.

use crate::diagnostic::{Diagnostic, DocLabel, Error, Result};
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

/// Checks the events: `pre-install` with a database the release creates is a predicted failure
/// when the events are the default (an error naming the settings that resolve it), and a warning
/// when the user chose them; with `post-install`, Helm's `--wait` and Argo CD run the Job only
/// after every resource is Ready (a note); both `pre-` and `post-` events under Argo CD run the
/// Job twice per sync (a warning).
pub(crate) fn check(
    events: &[String],
    origin: &Origin,
    in_release: Option<&InRelease>,
    argocd: bool,
    job: &str,
    at: &DocLabel,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<()> {
    if let Some(db) = in_release
        && events.iter().any(|e| e == "pre-install")
    {
        let problem = format!(
            "the migration talks to {} ({}), which is part of this release: at pre-install it does not exist yet, so on first install the migration Job {job:?} would fail or time out",
            db.target, db.via
        );
        if matches!(origin, Origin::Default) {
            return Err(Error::new(format!(
                "{problem}. Set migration-hook/hook: auto (or post-install,pre-upgrade; flag --hook); if the database does exist before install after all, set migration-hook/hook: pre-install,pre-upgrade to say so"
            ))
            .at(at)
            .field("hook"));
        }
        diagnostics.push(
            Diagnostic::warning(format!(
                "{problem}. Use hook events post-install,pre-upgrade (migration-hook/hook: post-install,pre-upgrade, or \"auto\")"
            ))
            .at(at),
        );
    }
    if events.iter().any(|e| e == "post-install") {
        diagnostics.push(
            Diagnostic::note(format!(
                "the migration Job {job:?} runs at post-install: under `helm install --wait` (which Helm 4's --rollback-on-failure implies) and in Argo CD (PostSync comes after the app is healthy) that is only once every resource of the release is Ready, so the app's pods must become Ready without the migrated schema (readiness that does not query it), or install without waiting; otherwise the first install waits until the timeout. Without waiting, the release's database may still be starting when the Job runs: give it retries (migration-hook/backoff-limit) or an init container that waits for the database"
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
    Ok(())
}
