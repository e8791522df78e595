//! The human-readable account of a plan: what `explain` prints and `--report` writes.

use std::fmt::Write;

use crate::diagnostic::{Diagnostic, Severity};
use crate::kube::references::RefKind;
use crate::plan::dependencies::Outcome;
use crate::plan::{FromJob, Migration, Plan};
use crate::yaml::edit::{Edited, Removal};

/// The whole account: one block per Job, then the workload edits and the diagnostics.
pub fn explain(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.migrations.is_empty() {
        out.push_str("No migration is marked: the stream passes through unchanged.\n");
        candidates(&mut out, plan);
    }
    for m in &plan.migrations {
        migration(&mut out, m, plan);
    }
    for e in &plan.edits {
        if e.converted {
            let _ = writeln!(
                out,
                "Replaced {} by its hook Job (re-emitted: the Job's own fields kept, formatting not kept)",
                e.label
            );
            continue;
        }
        if !e.set_annotations.is_empty() {
            let _ = writeln!(
                out,
                "Promoted {} to a hook in place (re-emitted: same data, formatting not kept):",
                e.label
            );
            for (key, value) in &e.set_annotations {
                let _ = writeln!(out, "  set annotation metadata.annotations.{key}: {value}");
            }
            continue;
        }
        let how = match e.edited {
            Edited::Surgical(_) => "every other byte unchanged",
            Edited::Reemitted(_) => "re-emitted: same meaning, formatting not kept",
        };
        let _ = writeln!(out, "Edited {} ({how}):", e.label);
        for r in &e.removals {
            let _ = match r {
                Removal::Item { index, path } => {
                    let migration = plan.migrations.iter().find(|m| {
                        m.sources.iter().any(|s| s.index == e.doc)
                            || m.hoisted.template_from.as_ref().map(|t| t.index) == Some(e.doc)
                    });
                    let list = path.last().copied().unwrap_or_default();
                    let name = migration
                        .and_then(|m| {
                            let feeders = &m.hoisted.feeders;
                            match list {
                                "volumes" => feeders.volumes.iter().find(|(i, _)| i == index),
                                _ => feeders.init.iter().find(|(i, _)| i == index),
                            }
                            .map(|(_, n)| n.as_str())
                            .or((list == "initContainers").then_some(m.container.as_str()))
                        })
                        .unwrap_or_default();
                    writeln!(out, "  removed {list}[{index}] {name:?}")
                }
                Removal::Key { path, key } => {
                    writeln!(out, "  removed annotation {}.{key}", path.join("."))
                }
            };
        }
    }
    diagnostics(&mut out, &plan.diagnostics);
    out
}

/// The containers that look like migrations, each with the flag and the annotation that
/// would mark it.
fn candidates(out: &mut String, plan: &Plan) {
    if plan.candidates.is_empty() {
        return;
    }
    let _ = writeln!(out, "These look like migrations (not marked):");
    for c in &plan.candidates {
        let _ = writeln!(
            out,
            "  {}: {} {:?} ({})",
            c.label,
            if c.init {
                "init container"
            } else {
                "container"
            },
            c.container,
            c.why
        );
        let _ = writeln!(out, "    to mark it: {}", c.flag());
        let _ = writeln!(
            out,
            "    or annotate its pod (values: podAnnotations): {{{}}}",
            c.annotation()
        );
    }
}

/// For a run that converts nothing although the chart looks like it has a migration: one
/// warning that says so (the details are in `explain`).
pub fn unmarked_candidates_warning(plan: &Plan) -> Option<String> {
    let listed: Vec<String> = plan
        .candidates
        .iter()
        .map(|c| {
            format!(
                "{}/{} container {:?} ({})",
                c.kind.kind(),
                c.workload,
                c.container,
                c.why
            )
        })
        .collect();
    (!listed.is_empty()).then(|| {
        format!(
            "warning: nothing is marked, so the stream passes through unchanged, but this looks like a migration: {}; `migration-hook explain` shows how to mark it",
            listed.join("; ")
        )
    })
}

fn migration(out: &mut String, m: &Migration, plan: &Plan) {
    let s = &m.settings;
    let _ = writeln!(
        out,
        "Job {:?}{}",
        m.job,
        m.namespace
            .as_deref()
            .map(|n| format!(" in namespace {n}"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "  hook: {} ({})", m.events.join(","), m.events_reason);
    let _ = writeln!(
        out,
        "  weight {}, delete policy {}{}",
        s.weight,
        s.delete_policy.join(","),
        m.job_spec
            .iter()
            .map(|(field, value)| format!(", {field} {value}"))
            .collect::<String>(),
    );
    let shown = |all: &[String]| -> String {
        const SHOWN: usize = 6;
        let mut hooks = all[..all.len().min(SHOWN)].join(", ");
        if all.len() > SHOWN {
            hooks.push_str(&format!(" and {} more", all.len() - SHOWN));
        }
        hooks
    };
    if !m.ordered_after.is_empty() {
        let _ = writeln!(
            out,
            "  runs after the chart's own hooks on these events (weight not set, so placed above theirs; migration-hook/weight places it elsewhere): {}",
            shown(&m.ordered_after)
        );
    }
    if !m.ordered_before.is_empty() {
        let _ = writeln!(
            out,
            "  runs before (or with) the chart's own hooks on these events, at the weight set: {}; one that creates what the migration reads must run first",
            shown(&m.ordered_before)
        );
    }
    if m.dependencies
        .iter()
        .any(|d| matches!(d.outcome, Outcome::Promoted { .. } | Outcome::Copied { .. }))
    {
        let _ = writeln!(
            out,
            "  dependencies promoted or copied: weight {}, delete policy {}",
            s.dependency_weight,
            s.dependency_delete_policy.join(",")
        );
    }
    for source in &m.sources {
        let _ = writeln!(out, "  from {source}");
    }
    let h = &m.hoisted;
    if let Some(from) = &h.template_from {
        let _ = writeln!(
            out,
            "  pod template from {from} (the Rollout's spec.workloadRef: Argo Rollouts runs that template, so the workload edit is made there)"
        );
    }
    let _ = writeln!(
        out,
        "  container {:?} ({})",
        m.container,
        match (m.from_job, m.from_init) {
            (FromJob::InPlace, _) =>
                "the Job's main container: the Job itself becomes the hook, so the migration runs once, not again beside the new pods",
            (FromJob::CronJob, _) =>
                "from the CronJob's job template: the Job runs it once before the release; the CronJob stays as it is",
            (FromJob::Beside, true) => "init container, removed from the workload",
            (FromJob::Beside, false) => "main container, stays in the workload",
        }
    );
    if !m.dropped_suffix.is_empty() {
        let _ = writeln!(
            out,
            "  name: {:?} dropped from the Job's name (a revision number or random suffix), so that it is the same on every release and before-hook-creation replaces the previous run; set migration-hook/job-name to choose another",
            m.dropped_suffix
        );
    }
    list(out, "kept from the source Job's spec", &m.kept_from_job);
    if let Some(dropped) = &h.entrypoint_of_image {
        let _ = writeln!(
            out,
            "  image override without command or args: the image's own entrypoint runs{}",
            if dropped.is_empty() {
                String::new()
            } else {
                format!(" (the container's {} dropped)", dropped.join(" and "))
            }
        );
    }
    list(
        out,
        "stripped from it",
        &h.stripped.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    );
    let moved: Vec<String> = h.feeders.init.iter().map(|(_, n)| n.clone()).collect();
    list(
        out,
        "init containers that only feed the migration (they write an emptyDir only the migration's side reads), moved out of the workload too",
        &moved,
    );
    let kept: Vec<String> = h
        .kept_init
        .iter()
        .filter(|n| !moved.contains(n))
        .cloned()
        .collect();
    list(
        out,
        if m.from_init && m.from_job != FromJob::CronJob {
            "init containers kept in both the Job and the workload"
        } else {
            "init containers kept"
        },
        &kept,
    );
    list(out, "init containers dropped", &h.dropped_init);
    list(
        out,
        "sidecars kept as native sidecars",
        &h.converted_sidecars,
    );
    list(out, "containers dropped", &h.dropped_containers);
    list(out, "volumes dropped", &h.dropped_volumes);
    list(
        out,
        "volumes replaced or unmounted for the Job",
        &h.overridden_volumes,
    );
    list(
        out,
        "scheduling rules dropped (they select the application's own pods and would keep the Job off their nodes)",
        &h.dropped_scheduling,
    );
    list(out, "added to the pod", &h.added_metadata);
    for line in &h.mesh {
        let _ = writeln!(out, "  {line}");
    }
    if let Some(was) = &h.default_container_was {
        let _ = writeln!(
            out,
            "  annotation kubectl.kubernetes.io/default-container set to {:?} (it named {was:?}, which the Job does not have)",
            m.container
        );
    }
    if !m.dependencies.is_empty() {
        let _ = writeln!(out, "  needs:");
    }
    for d in &m.dependencies {
        let what = match &d.outcome {
            Outcome::Reused { doc } => {
                format!("already a suitable hook (document {}), used as is", doc + 1)
            }
            Outcome::Promoted { promotion } => {
                let p = &plan.promoted[*promotion];
                format!(
                    "promoted in place: the release's own document becomes the hook on {} (weight {}, delete policy {}); nothing else in the release uses it",
                    p.events.join(","),
                    p.weight,
                    p.delete_policy.join(",")
                )
            }
            Outcome::Copied { copy } => {
                let c = &plan.copies[*copy];
                let why = c
                    .not_promoted
                    .as_deref()
                    .map(|why| format!(", not promoted in place: {why}"))
                    .unwrap_or_default();
                match (&c.unsuitable_hook, c.name == d.name) {
                    (_, true) => format!(
                        "same-name hook copy on {} (weight {}): bound by name ({}); after a failed first install, retry only after `helm uninstall`, or install with --rollback-on-failure (see the warning){why}",
                        c.events.join(","),
                        c.weight,
                        c.bound_by.as_deref().unwrap_or_default(),
                    ),
                    (None, false) if d.kind == RefKind::ServiceAccount && !plan.argocd => format!(
                        "hook copy {:?} on {} (weight {}): nothing in the chart binds it by name (no workload-identity annotation, no RoleBinding); the original stays a release resource{why}",
                        c.name,
                        c.events.join(","),
                        c.weight
                    ),
                    (Some((events, weight)), false) => format!(
                        "hook copy {:?} on {} (weight {}): the chart's own hook ({events}, weight {weight}) would not exist before the Job",
                        c.name,
                        c.events.join(","),
                        c.weight
                    ),
                    (None, false) => format!(
                        "hook copy {:?} on {} (weight {}); the original stays a release resource{why}",
                        c.name,
                        c.events.join(","),
                        c.weight
                    ),
                }
            }
            Outcome::NotNeeded => "exists already at these events; nothing to do".to_string(),
            Outcome::External if crate::plan::dependencies::is_default_account(d) => {
                "the namespace's default ServiceAccount, which always exists".to_string()
            }
            Outcome::External if d.optional => {
                "optional and not in the rendered chart: the pod starts without it".to_string()
            }
            Outcome::External => {
                "not in the rendered chart: must exist before the Job runs".to_string()
            }
            Outcome::ReleaseClaim { claim, .. } => {
                let access = match claim.access {
                    "shared" => "shared by pods on any node",
                    other => other,
                };
                let (missing, held) = (claim.missing_at(&m.events), claim.held_at(&m.events));
                let mut said = format!("created by the release ({access})");
                if missing {
                    said.push_str(": does not exist at pre-install");
                }
                if !held.is_empty() {
                    said.push_str(&format!(
                        "{} held by the app's running pods at {}",
                        if missing { ", and" } else { ":" },
                        held.join(", ")
                    ));
                }
                if !missing && held.is_empty() {
                    said.push_str(&format!(
                        ": exists and can be mounted at {}",
                        m.events.join(",")
                    ));
                }
                said
            }
        };
        let _ = writeln!(out, "    {}/{}: {what}", d.kind.kind(), d.name);
    }
    for r in &m.removed_labels {
        let _ = writeln!(
            out,
            "  label {}={} removed from the migration pod (selected by {})",
            r.key,
            r.value,
            r.because.join(", ")
        );
    }
}

fn list(out: &mut String, title: &str, items: &[String]) {
    if !items.is_empty() {
        let _ = writeln!(out, "  {title}: {}", items.join(", "));
    }
}

fn diagnostics(out: &mut String, diagnostics: &[Diagnostic]) {
    for severity in [Severity::Warning, Severity::Note] {
        for d in diagnostics.iter().filter(|d| d.severity == severity) {
            let _ = writeln!(out, "{d}");
        }
    }
}
