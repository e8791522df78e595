//! Everything the migration Job needs must exist when it starts, on first install too
//! (`docs/design.md` §6 and §7; `docs/helm-facts.md` §5).
//!
//! - A ConfigMap or Secret of the release that nothing but the hoisted migration uses is
//!   *promoted in place*: the original becomes the hook (`super::promote`).
//! - One that something else uses too gets a *renamed* hook copy (same data, the Job's events,
//!   the dependency weight and delete policy), and the Job points at the copy. Such an original
//!   is never turned into a hook: Helm would delete it from under the running app on the next
//!   upgrade (helm/helm#11608). At pre-upgrade the copy also carries the *new* values, where the
//!   original still has the previous release's.
//! - A ServiceAccount of the release that nothing else uses is promoted in place too.
//! - A ServiceAccount from the release that nothing in the stream binds by name gets a *renamed*
//!   copy on the Job's events, like a ConfigMap. So the Job has its ServiceAccount on every run,
//!   also on the `helm upgrade --install` that retries a failed first install: that runs
//!   `pre-upgrade` hooks only, while the release's own ServiceAccount was never applied.
//! - A ServiceAccount that is bound by name (a cloud workload-identity annotation, or a
//!   RoleBinding or ClusterRoleBinding of the stream naming it) gets a *same-name* copy on
//!   `pre-install` only, since a copy would lose the binding; on upgrade the release's own
//!   ServiceAccount already exists. A warning says how to recover from a failed first install.
//!   Except for Argo CD: it runs `pre-install` hooks on every sync, and a same-name hook would
//!   delete and recreate the app's ServiceAccount each time, so there it is always a renamed
//!   copy.
//! - An object already emitted as a hook with the Job's events and a lower weight is reused.
//! - An object not in the stream keeps its reference, with a warning; so does a release PVC.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use crate::diagnostic::{Diagnostic, DocLabel, Error, Result};
use crate::input::document::{Document, Documents, is_mark_key, same_namespace};
use crate::kube::keys;
use crate::kube::naming;
use crate::kube::references::{self, RefKind, Reference};
use crate::plan::WorkloadEdit;
use crate::plan::promote::{self, Promotion, Usage};

/// A hook copy to emit.
#[derive(Debug, Clone)]
pub struct HookCopy {
    /// The document it copies.
    pub from: usize,
    pub kind: RefKind,
    /// The copy's name (the original's, for a ServiceAccount).
    pub name: String,
    pub(crate) events: Vec<String>,
    pub(crate) weight: i64,
    /// Its `helm.sh/hook-delete-policy` (the first Job's `dependency-delete-policy`).
    pub(crate) delete_policy: Vec<String>,
    /// Why the original was not promoted in place instead (who else uses it), for the account.
    pub(crate) not_promoted: Option<String>,
    /// Index of the migration that first needed it (it is written just before that Job).
    pub(crate) first_user: usize,
    /// When the original is itself a hook that does not fit (its events and weight), for the
    /// explanation of why it was copied rather than used.
    pub(crate) unsuitable_hook: Option<(String, i64)>,
    /// For a ServiceAccount copied under its own name: what binds it by name (an annotation,
    /// a RoleBinding), for the explanation.
    pub(crate) bound_by: Option<String>,
}

/// What happens to one referenced object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// An existing hook document serves as is.
    Reused { doc: usize },
    /// The original itself becomes the hook: promotion `promotion` of the plan.
    Promoted { promotion: usize },
    /// Copy number `copy` serves (renamed, or same-name for a ServiceAccount).
    Copied { copy: usize },
    /// Not needed for these events (a ServiceAccount without `pre-install`).
    NotNeeded,
    /// Not in the stream: it must exist before the Job runs.
    External,
    /// A PersistentVolumeClaim from the release: it does not exist at pre-install, and on the
    /// other events the app's pods may hold it.
    ReleaseClaim { doc: usize, claim: Claim },
}

/// What decides whether a release's claim can be mounted by the Job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claim {
    /// `ReadWriteOnce`, `ReadWriteOncePod`, or `shared` (`ReadWriteMany`, `ReadOnlyMany`), as
    /// the claim's `spec.accessModes` say (the most permissive one).
    pub(crate) access: &'static str,
    /// The workload keeps mounting it: at every event but pre-install its pods run and hold it.
    pub(crate) held_by_app: bool,
    /// The Job pod's volume names that mount it, for the `volumes` setting.
    pub(crate) volumes: Vec<String>,
}

impl Claim {
    /// Whether the Job runs at pre-install, when the claim does not exist yet.
    pub(crate) fn missing_at(&self, events: &[String]) -> bool {
        events.iter().any(|e| e == "pre-install")
    }

    /// The other events of `events`, at which a single-node claim the app keeps mounting is
    /// held by the app's running pods.
    pub(crate) fn held_at<'e>(&self, events: &'e [String]) -> Vec<&'e str> {
        events
            .iter()
            .map(String::as_str)
            .filter(|e| *e != "pre-install" && self.held_by_app && self.access != "shared")
            .collect()
    }
}

/// One referenced object and what was done about it.
#[derive(Debug, Clone)]
pub(crate) struct Dependency {
    pub kind: RefKind,
    pub name: String,
    /// Where the pod refers to it.
    pub(crate) fields: Vec<String>,
    /// Every reference is `optional: true`: the pod starts without it.
    pub(crate) optional: bool,
    pub(crate) outcome: Outcome,
}

/// The copies of a whole run, shared by the migrations that need the same object.
#[derive(Debug, Default)]
pub(crate) struct Copies {
    pub(crate) list: Vec<HookCopy>,
    /// (copied document, events, delete policy) → position in `list`.
    by_source: HashMap<(usize, Vec<String>, Vec<String>), usize>,
    /// The (kind, name) of every copy.
    names: HashSet<(RefKind, String)>,
    /// The originals promoted in place.
    pub(crate) promoted: Vec<Promotion>,
    /// Who else uses what the Jobs need.
    pub(crate) usage: Usage,
}

impl Copies {
    /// For a run whose marked workloads change by `edits` (what stays in them still uses
    /// objects; what moves into the Jobs does not).
    pub(crate) fn for_edits<'e>(edits: impl Iterator<Item = &'e WorkloadEdit>) -> Copies {
        Copies {
            usage: Usage::new(edits),
            ..Copies::default()
        }
    }
}

/// The suffix of a renamed copy: `app-config` → `app-config-migration-hook`.
const COPY_SUFFIX: &str = "-migration-hook";

/// Annotation prefixes of cloud workload identity, which binds a ServiceAccount by its name:
/// EKS IRSA (`eks.amazonaws.com/role-arn`), GKE Workload Identity
/// (`iam.gke.io/gcp-service-account`), Azure Workload Identity
/// (`azure.workload.identity/client-id`), Alibaba Cloud RRSA.
const IDENTITY_ANNOTATION_PREFIXES: &[&str] = &[
    "eks.amazonaws.com/",
    "iam.gke.io/",
    "azure.workload.identity/",
    "pod-identity.alibabacloud.com/",
];

/// How to recover when the first install's migration failed and a same-name ServiceAccount
/// copy is in play (`explain` and the warning say it).
pub(crate) const SAME_NAME_RECOVERY: &str = "if the first install's migration fails, the release's ServiceAccount is never created and a retry with `helm upgrade --install` runs pre-upgrade hooks only, so its migration pod would have no ServiceAccount and hang until the timeout: install with --rollback-on-failure (then retry with `helm install`), or `helm uninstall` the failed release before retrying";

/// The migration whose dependencies are resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    pub namespace: Option<&'a str>,
    /// The Job's hook events.
    pub(crate) events: &'a [String],
    pub(crate) job_weight: i64,
    /// Weight and delete policy of what is promoted or copied for it.
    pub(crate) dependency_weight: i64,
    pub(crate) dependency_delete_policy: &'a [String],
    /// Index of the migration.
    pub(crate) migration: usize,
    /// How messages name the Job.
    pub(crate) job_label: &'a str,
    /// The output is for Argo CD (never a same-name ServiceAccount copy).
    pub(crate) argocd: bool,
    /// What an object the stream lacks may be without being a predicted failure: named by the
    /// user's own settings (`env-from-secret`, `env`, `service-account`), used by the workload
    /// beside the migration, or acknowledged with `expect-external` (`KIND/NAME` each).
    pub(crate) known_external: &'a [String],
    /// The marked workload, for messages.
    pub(crate) workload: &'a DocLabel,
    /// `KIND/NAME` of what the marked workload uses beside the migration: such an object is
    /// shared, which settles promotion without searching the stream.
    pub(crate) used_beside: &'a [String],
}

/// `KIND/NAME` of what a workload's pod uses beside what leaves it (`init`, `volumes`: the
/// indices of the hoisted init container, those that only fed it and their volumes): every
/// other container's references and the pod's own (volumes, which stay in the workload and
/// must resolve for its pods to start; service account; pull secrets).
pub(crate) fn used_beside_migration(
    pod_spec: &Value,
    init: &[usize],
    volumes: &[usize],
) -> Vec<String> {
    let skipped: Vec<String> = init
        .iter()
        .map(|i| format!("initContainers[{i}]."))
        .chain(volumes.iter().map(|i| format!("volumes[{i}].")))
        .collect();
    references::collect(pod_spec)
        .into_iter()
        .filter(|r| !skipped.iter().any(|s| r.field.starts_with(s.as_str())))
        .map(|r| format!("{}/{}", r.kind.kind(), r.name))
        .collect()
}

/// Resolves the dependencies of one migration's pod spec and points it at the copies.
pub(crate) fn resolve_dependencies(
    docs: &Documents,
    pod_spec: &mut Value,
    cx: Context,
    copies: &mut Copies,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<Dependency>> {
    let Context {
        namespace,
        events,
        job_label,
        ..
    } = cx;
    adopt_service_account_pull_secrets(docs, pod_spec, namespace)?;
    let mut deps: Vec<Dependency> = Vec::new();
    for r in references::collect(pod_spec) {
        match deps
            .iter_mut()
            .find(|d| d.kind == r.kind && d.name == r.name)
        {
            Some(dep) => {
                dep.fields.push(r.field.clone());
                dep.optional &= r.optional;
            }
            None => deps.push(Dependency {
                kind: r.kind,
                name: r.name.clone(),
                fields: vec![r.field.clone()],
                optional: r.optional,
                outcome: Outcome::External,
            }),
        }
    }
    for dep in &mut deps {
        dep.outcome = decide(docs, dep, &cx, copies)?;
        match dep.outcome {
            Outcome::Copied { copy }
                if cx.argocd
                    && dep.kind == RefKind::ServiceAccount
                    && copies.list[copy].name != dep.name =>
            {
                diagnostics.push(Diagnostic::warning(format!(
                    "{job_label} runs as ServiceAccount {:?}, a hook copy of ServiceAccount/{}: Argo CD runs pre-install hooks on every sync, and a same-name copy would delete and recreate the app's ServiceAccount each time. RoleBindings and cloud workload identity bound to {:?} by name do not apply to the copy; if the migration needs them, give it a ServiceAccount of its own that exists outside the release (--service-account)",
                    copies.list[copy].name, dep.name, dep.name
                )));
            }
            Outcome::Copied { copy }
                if dep.kind == RefKind::ServiceAccount && copies.list[copy].name == dep.name =>
            {
                let bound_by = copies.list[copy].bound_by.as_deref().unwrap_or_default();
                diagnostics.push(Diagnostic::warning(format!(
                    "{job_label} runs as ServiceAccount {:?}, which is bound by name ({bound_by}), so it gets a same-name hook copy on pre-install only; {SAME_NAME_RECOVERY}",
                    dep.name
                )));
            }
            Outcome::External if !dep.optional && !is_default_account(dep) => {
                let id = format!("{}/{}", dep.kind.kind(), dep.name);
                if let Some(producer) = likely_producer(docs, dep, &cx) {
                    let order = if producer.hook_weight() < cx.job_weight {
                        "it runs before the migration".to_string()
                    } else {
                        format!(
                            "it runs after the migration: give the migration a weight above {} (migration-hook/weight)",
                            producer.hook_weight()
                        )
                    };
                    diagnostics.push(Diagnostic::warning(format!(
                        "{job_label} uses {id} ({}), which is not in the rendered chart; the chart's own hook {} (weight {}, on {}) is likely to create it; {order}",
                        dep.fields.join(", "),
                        producer.label(),
                        producer.hook_weight(),
                        producer.hook_events().join(","),
                    )));
                    continue;
                }
                if !cx.known_external.contains(&id) {
                    return Err(Error::new(format!(
                        "{job_label} uses {id} ({}), which is not in the rendered chart and which nothing else in the workload uses: unless it is created outside the release, the migration pod would wait for it until Helm's timeout. If it is, say so with migration-hook/expect-external: {id} (or --expect-external {id})",
                        dep.fields.join(", ")
                    ))
                    .at(cx.workload));
                }
                diagnostics.push(Diagnostic::warning(format!(
                    "{job_label} uses {id} ({}), which is not in the rendered chart: it must exist before install",
                    dep.fields.join(", ")
                )));
            }
            Outcome::ReleaseClaim { doc, ref mut claim } => {
                claim.volumes = claim_volumes(pod_spec, &dep.fields);
                let fix = claim
                    .volumes
                    .iter()
                    .map(|v| format!("{v}=emptyDir"))
                    .collect::<Vec<_>>()
                    .join(",");
                let fix = format!(
                    "if the migration does not need its contents, set migration-hook/volumes: \"{fix}\" (or =drop; --volumes {fix})"
                );
                let mut problems = Vec::new();
                if claim.missing_at(events) {
                    problems.push("it cannot exist at pre-install, so on first install the migration pod would wait for it until Helm's timeout (use hook events post-install,pre-upgrade)".to_string());
                }
                let held = claim.held_at(events);
                if !held.is_empty() {
                    problems.push(if claim.access == "ReadWriteOncePod" {
                        format!(
                            "it is ReadWriteOncePod and the app's running pods hold it at {}, so the migration pod cannot mount it until they stop: it would wait until Helm's timeout",
                            held.join(", ")
                        )
                    } else {
                        format!(
                            "it is {} and the app's running pods hold it at {}: the migration pod can attach it only on their node, elsewhere it waits for the attach until Helm's timeout (use a ReadWriteMany claim for what both need)",
                            claim.access,
                            held.join(", ")
                        )
                    });
                }
                if !problems.is_empty() {
                    diagnostics.push(
                        Diagnostic::warning(format!(
                            "{job_label} mounts this PersistentVolumeClaim, which the release creates: {}; {fix}",
                            problems.join("; and ")
                        ))
                        .at(&docs.get(doc).label()),
                    );
                }
            }
            _ => {}
        }
    }
    rewrite(pod_spec, &deps, copies);
    Ok(deps)
}

/// The most permissive access mode of a claim: `shared` (`ReadWriteMany`, `ReadOnlyMany`),
/// `ReadWriteOnce`, or `ReadWriteOncePod`; `ReadWriteOnce` when it says none that is known.
fn claim_access(claim: &Value) -> &'static str {
    let modes: Vec<&str> = claim
        .pointer("/spec/accessModes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if modes
        .iter()
        .any(|m| matches!(*m, "ReadWriteMany" | "ReadOnlyMany"))
    {
        "shared"
    } else if !modes.is_empty() && modes.iter().all(|m| *m == "ReadWriteOncePod") {
        "ReadWriteOncePod"
    } else {
        "ReadWriteOnce"
    }
}

/// The names of the Job pod's volumes behind `fields` (`volumes[2].persistentVolumeClaim…`).
fn claim_volumes(pod_spec: &Value, fields: &[String]) -> Vec<String> {
    fields
        .iter()
        .filter_map(|f| {
            f.strip_prefix("volumes[")?
                .split_once(']')?
                .0
                .parse::<usize>()
                .ok()
        })
        .filter_map(|i| pod_spec.pointer(&format!("/volumes/{i}/name"))?.as_str())
        .map(str::to_string)
        .collect()
}

/// A hook Job of the chart, on an event the migration runs on too, that may create `dep`: one
/// whose text names it, else the first such Job (charts generate Secrets in hook Jobs).
fn likely_producer<'d, 'a>(
    docs: &'d Documents<'a>,
    dep: &Dependency,
    cx: &Context,
) -> Option<&'d Document<'a>> {
    let candidates: Vec<&Document> = docs
        .iter()
        .filter(|d| d.kind() == Some("Job") && d.is_hook())
        .filter(|d| same_namespace(d.head.namespace.as_deref(), cx.namespace))
        .filter(|d| d.hook_events().iter().any(|e| cx.events.contains(e)))
        .collect();
    candidates
        .iter()
        .find(|d| d.body.contains(dep.name.as_str()))
        .or(candidates.first())
        .copied()
}

/// `default` always exists; no warning for it.
pub(crate) fn is_default_account(dep: &Dependency) -> bool {
    dep.kind == RefKind::ServiceAccount && dep.name == "default"
}

/// The ServiceAccount admission controller gives a pod its ServiceAccount's `imagePullSecrets`
/// only when the pod has none. Doing that explicitly puts those Secrets in the closure, so
/// they get copies like any other pull secret.
fn adopt_service_account_pull_secrets(
    docs: &Documents,
    pod_spec: &mut Value,
    namespace: Option<&str>,
) -> Result<()> {
    let has_own = pod_spec
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if has_own {
        return Ok(());
    }
    let Some(sa) = references::collect(pod_spec)
        .into_iter()
        .find(|r| r.kind == RefKind::ServiceAccount)
    else {
        return Ok(());
    };
    let Some(doc) = docs
        .find("ServiceAccount", namespace, &sa.name)
        .find(|d| !d.is_hook())
    else {
        return Ok(());
    };
    let secrets = doc
        .parse()?
        .get("imagePullSecrets")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
        .cloned();
    if let (Some(secrets), Some(pod)) = (secrets, pod_spec.as_object_mut()) {
        pod.insert("imagePullSecrets".into(), Value::Array(secrets));
    }
    Ok(())
}

fn decide(
    docs: &Documents,
    dep: &Dependency,
    cx: &Context,
    copies: &mut Copies,
) -> Result<Outcome> {
    let (namespace, events, job_weight) = (cx.namespace, cx.events, cx.job_weight);
    let found: Vec<&Document> = docs.find(dep.kind.kind(), namespace, &dep.name).collect();
    let suitable_hook = |d: &&&Document| {
        let hook_events = d.hook_events();
        d.is_hook()
            && d.hook_weight() < job_weight
            && events.iter().all(|e| hook_events.contains(e))
    };
    if dep.kind == RefKind::ServiceAccount
        && !cx.argocd
        && let Some(promotion) = promote::service_account(docs, copies, &found, dep, cx)?
    {
        return Ok(Outcome::Promoted { promotion });
    }
    let bound_by = match dep.kind {
        RefKind::ServiceAccount if !cx.argocd => {
            bound_by_name(docs, preferred_source(&found), &dep.name, namespace)?
        }
        _ => None,
    };
    if let Some(bound_by) = bound_by {
        if !events.iter().any(|e| e == "pre-install") {
            return Ok(if found.is_empty() {
                Outcome::External
            } else {
                Outcome::NotNeeded
            });
        }
        let pre_install = ["pre-install".to_string()];
        if let Some(hook) = found.iter().find(|d| {
            d.is_hook() && d.hook_weight() < job_weight && d.hook_events().contains(&pre_install[0])
        }) {
            return Ok(Outcome::Reused { doc: hook.index });
        }
        return Ok(match preferred_source(&found) {
            Some(doc) => Outcome::Copied {
                copy: register(docs, copies, doc, dep, &pre_install, cx, Some(bound_by)),
            },
            None => Outcome::External,
        });
    }
    if let Some(hook) = found.iter().find(suitable_hook) {
        return Ok(Outcome::Reused { doc: hook.index });
    }
    if dep.kind == RefKind::PersistentVolumeClaim {
        return Ok(match found.iter().find(|d| !d.is_hook()) {
            Some(doc) => Outcome::ReleaseClaim {
                doc: doc.index,
                claim: Claim {
                    access: claim_access(&*doc.parse()?),
                    held_by_app: cx
                        .used_beside
                        .contains(&format!("PersistentVolumeClaim/{}", dep.name)),
                    volumes: Vec::new(),
                },
            },
            None => Outcome::External,
        });
    }
    let Some(doc) = preferred_source(&found) else {
        return Ok(Outcome::External);
    };
    if let Some(promotion) = promote::in_place(docs, copies, &found, doc, dep, cx)? {
        return Ok(Outcome::Promoted { promotion });
    }
    Ok(Outcome::Copied {
        copy: register(docs, copies, doc, dep, events, cx, None),
    })
}

/// What binds the ServiceAccount `name` by its name, if anything in the stream does: a cloud
/// workload-identity annotation on its document, or a RoleBinding or ClusterRoleBinding whose
/// subjects name it (in its namespace, or without one; or as the user
/// `system:serviceaccount:<namespace>:<name>`). A copy under another name would lose that
/// binding.
fn bound_by_name(
    docs: &Documents,
    account: Option<&Document>,
    name: &str,
    namespace: Option<&str>,
) -> Result<Option<String>> {
    if let Some(doc) = account {
        let value = doc.parse()?;
        if let Some(key) = value["metadata"]["annotations"]
            .as_object()
            .into_iter()
            .flat_map(|a| a.keys())
            .find(|k| {
                IDENTITY_ANNOTATION_PREFIXES
                    .iter()
                    .any(|p| k.starts_with(p))
            })
        {
            return Ok(Some(format!("annotation {key}")));
        }
    }
    let namespace = account
        .and_then(|d| d.head.namespace.as_deref())
        .or(namespace);
    for doc in docs.iter() {
        let kind = doc.kind().unwrap_or_default();
        if !matches!(kind, "RoleBinding" | "ClusterRoleBinding") {
            continue;
        }
        let value = doc.parse()?;
        let names_it = value["subjects"].as_array().is_some_and(|subjects| {
            subjects.iter().any(|s| match s["kind"].as_str() {
                Some("ServiceAccount") => {
                    s["name"] == name && same_namespace(s["namespace"].as_str(), namespace)
                }
                // The account's user name: system:serviceaccount:<namespace>:<name>.
                Some("User") => s["name"]
                    .as_str()
                    .and_then(|u| u.strip_prefix("system:serviceaccount:"))
                    .and_then(|u| u.split_once(':'))
                    .is_some_and(|(ns, n)| n == name && same_namespace(Some(ns), namespace)),
                _ => false,
            })
        });
        if names_it {
            return Ok(Some(format!("{kind}/{}", doc.name().unwrap_or_default())));
        }
    }
    Ok(None)
}

/// The document to copy: the release resource if there is one, else the (unsuitable) hook.
fn preferred_source<'d, 'a>(found: &[&'d Document<'a>]) -> Option<&'d Document<'a>> {
    found
        .iter()
        .find(|d| !d.is_hook())
        .or_else(|| found.first())
        .copied()
}

/// The copy of `doc` for `events`, created on first use; its weight is kept below every Job
/// that uses it.
fn register(
    docs: &Documents,
    copies: &mut Copies,
    doc: &Document,
    dep: &Dependency,
    events: &[String],
    cx: &Context,
    bound_by: Option<String>,
) -> usize {
    let (weight, migration) = (cx.dependency_weight, cx.migration);
    let key = (
        doc.index,
        events.to_vec(),
        cx.dependency_delete_policy.to_vec(),
    );
    if let Some(&i) = copies.by_source.get(&key) {
        copies.list[i].weight = copies.list[i].weight.min(weight);
        return i;
    }
    let name = if bound_by.is_some() {
        dep.name.clone()
    } else {
        copy_name(docs, copies, doc, dep, events)
    };
    copies.by_source.insert(key, copies.list.len());
    copies.names.insert((dep.kind, name.clone()));
    copies.list.push(HookCopy {
        from: doc.index,
        kind: dep.kind,
        name,
        events: events.to_vec(),
        weight,
        delete_policy: cx.dependency_delete_policy.to_vec(),
        not_promoted: copies.usage.refusal(doc.index),
        first_user: migration,
        unsuitable_hook: doc
            .is_hook()
            .then(|| (doc.hook_events().join(","), doc.hook_weight())),
        bound_by,
    });
    copies.list.len() - 1
}

/// `<name>-migration-hook`, unless a document or another copy already has that name.
fn copy_name(
    docs: &Documents,
    copies: &Copies,
    doc: &Document,
    dep: &Dependency,
    events: &[String],
) -> String {
    let base = naming::fit(
        &format!("{}{COPY_SUFFIX}", dep.name),
        naming::MAX_OBJECT_NAME,
    );
    let kind = dep.kind.kind();
    let namespace = doc.head.namespace.as_deref();
    let taken = |name: &str| {
        docs.name_taken(kind, namespace, name)
            || copies.names.contains(&(dep.kind, name.to_string()))
    };
    if !taken(&base) {
        return base;
    }
    let seed = format!("{}/{}/{}", dep.name, doc.index, events.join(","));
    naming::with_suffix(&base, &naming::short_hash(&seed), naming::MAX_OBJECT_NAME)
}

/// Points the pod spec's references at the copies that were made for them.
fn rewrite(pod_spec: &mut Value, deps: &[Dependency], copies: &Copies) {
    references::visit(pod_spec, &mut |r: Reference, name: &mut String| {
        let renamed = deps
            .iter()
            .find(|d| d.kind == r.kind && d.name == r.name)
            .and_then(|d| match d.outcome {
                Outcome::Copied { copy } => Some(&copies.list[copy].name),
                _ => None,
            });
        if let Some(new) = renamed {
            name.clone_from(new);
        }
    });
}

/// The document of a hook copy: the original with a new name (unless a ServiceAccount) and hook
/// annotations instead of the original's hook and policy annotations.
pub(crate) fn copy_document(original: &Value, copy: &HookCopy, filename: Option<&str>) -> Value {
    let mut doc = original.clone();
    let Some(root) = doc.as_object_mut() else {
        return doc;
    };
    let meta = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("name".into(), Value::String(copy.name.clone()));
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        let annotations = annotations.as_object_mut().expect("made an object above");
        annotations.retain(|k, _| {
            !(k.starts_with("helm.sh/hook")
                || k == keys::RESOURCE_POLICY
                || k == keys::POSTRENDER_FILENAME
                || is_mark_key(k))
        });
        annotations.insert(keys::HOOK.into(), Value::String(copy.events.join(",")));
        annotations.insert(
            keys::HOOK_WEIGHT.into(),
            Value::String(copy.weight.to_string()),
        );
        annotations.insert(
            keys::HOOK_DELETE_POLICY.into(),
            Value::String(copy.delete_policy.join(",")),
        );
        if let Some(f) = filename {
            annotations.insert(
                keys::POSTRENDER_FILENAME.into(),
                Value::String(f.to_string()),
            );
        }
    }
    doc
}
