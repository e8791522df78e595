//! Hop 2: every decision, as data. Pure: documents and options in; edits, new documents and
//! diagnostics out. Nothing here reads files, the environment or the clock.
//!
//! This module is the order of the steps: find the marked workloads ([`select`]); draft each
//! one, its pod spec hoisted ([`hoist`]) and its own edit ([`workload_edit`]); merge identical
//! migrations ([`merge`]) and name their Jobs ([`naming`]); then, for each Job, its events
//! ([`events`], [`database`]), the copies it needs ([`dependencies`]), the labels it must lose
//! ([`hygiene`]) and its document ([`job`]); last, every copy goes just before the first Job
//! that uses it ([`generated`]).

pub(crate) mod candidates;
pub(crate) mod database;
pub(crate) mod dependencies;
pub(crate) mod events;
pub(crate) mod feeders;
pub(crate) mod generated;
pub(crate) mod hoist;
pub(crate) mod hygiene;
pub(crate) mod job;
pub(crate) mod merge;
pub(crate) mod naming;
pub(crate) mod order;
pub(crate) mod promote;
pub(crate) mod select;
pub(crate) mod workload_edit;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, DocLabel, Error, Result};
use crate::input::document::{self, Document, Documents, generated_filename};
use crate::kube;
use crate::kube::label_selector;
use crate::kube::workload::WorkloadKind;
use crate::settings::options::Options;
use crate::threads;
use dependencies::{Copies, Dependency};
use generated::Generated;
use hoist::Hoisted;
use hygiene::RemovedLabel;
use job::{JobParts, Settings};
use select::Marked;
use workload_edit::WorkloadEdit;

/// What the run will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// The input came from Helm 4's post-renderer pipeline (filename annotations).
    pub(crate) helm4: bool,
    /// The output is for Argo CD (`Options::argocd`).
    pub(crate) argocd: bool,
    pub migrations: Vec<Migration>,
    /// Marked workloads that change (sorted by document).
    pub edits: Vec<WorkloadEdit>,
    /// New documents, in output order.
    pub generated: Vec<Generated>,
    /// The hook copies among them (what dependency outcomes point at).
    pub copies: Vec<dependencies::HookCopy>,
    /// The originals that became hooks (what `Promoted` outcomes point at; among `edits`).
    pub(crate) promoted: Vec<promote::Promotion>,
    pub diagnostics: Vec<Diagnostic>,
    /// When nothing is marked and no mark was asked for: containers that look like
    /// migrations, so that the account can say how to mark them.
    pub(crate) candidates: Vec<candidates::Candidate>,
}

impl Plan {
    /// Whether the output differs from the input at all.
    pub(crate) fn changes_anything(&self) -> bool {
        !self.edits.is_empty() || !self.generated.is_empty()
    }
}

/// One hook Job and how it came to be.
#[derive(Debug)]
pub struct Migration {
    pub job: String,
    pub namespace: Option<String>,
    /// The marked workloads it replaces (several when identical migrations were merged).
    pub sources: Vec<DocLabel>,
    pub(crate) container: String,
    pub(crate) from_init: bool,
    pub(crate) events: Vec<String>,
    /// Why these events.
    pub(crate) events_reason: String,
    pub(crate) settings: Settings,
    pub(crate) hoisted: Hoisted,
    pub(crate) dependencies: Vec<Dependency>,
    pub(crate) removed_labels: Vec<RemovedLabel>,
    pub(crate) from_job: FromJob,
    /// The revision or random suffix dropped from a converted Job's name (`-3`), if any.
    pub(crate) dropped_suffix: String,
    /// The source Job spec's fields the Job kept (`backoffLimit 3`, `podFailurePolicy`).
    pub(crate) kept_from_job: Vec<String>,
    /// The chart's own hooks on the Job's events that it was placed after (`Job/x (weight 0)`),
    /// when its weight was not set.
    pub(crate) ordered_after: Vec<String>,
    /// Those it runs before (or with), when its weight was set.
    pub(crate) ordered_before: Vec<String>,
    /// The Job spec fields the settings put on the Job (`backoffLimit 0`): all of them, defaults
    /// included, for a new Job; only those set over a marked Job's or CronJob's own spec.
    pub(crate) job_spec: Vec<(&'static str, i64)>,
}

/// How a marked workload's Job relates to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FromJob {
    /// A new Job beside the workload (also for a Job's init container, which leaves the Job).
    Beside,
    /// A Job whose main container is marked: the Job itself becomes the hook Job, keeping its
    /// own settings; no second copy runs the migration again beside the new pods.
    InPlace,
    /// A CronJob: a Job from its job template runs once before the release; the CronJob stays
    /// as it is.
    CronJob,
}

/// One marked workload on its way to a Job.
pub(crate) struct Draft<'m> {
    marked: &'m Marked,
    from_job: FromJob,
    hoisted: Hoisted,
    settings: Settings,
    /// The workload's own edit (and the edit of the Deployment a Rollout's workloadRef names).
    edits: Vec<WorkloadEdit>,
    /// The workload's `metadata.labels` (the Job carries them).
    labels: Option<Value>,
    /// `KIND/NAME` of what the workload keeps using beside the migration (an object shared
    /// with it gets a copy, not a promotion).
    used_beside: Vec<String>,
    /// `KIND/NAME` of what the workload used beside the migration container in the input,
    /// init containers that only fed it included: an object the stream lacks is then the
    /// release's known dependency, not a predicted failure.
    used_in_input: Vec<String>,
}

/// What every migration of a run looks up, gathered once.
struct Lookups<'d> {
    selectors: hygiene::Selectors<'d>,
    targets: database::Targets<'d>,
    hooks: order::ChartHooks,
}

impl<'d> Lookups<'d> {
    fn new(docs: &'d Documents<'d>) -> Lookups<'d> {
        Lookups {
            selectors: hygiene::Selectors::new(docs),
            targets: database::Targets::new(docs),
            hooks: order::ChartHooks::new(docs),
        }
    }
}

/// What every migration of a run reads.
struct Context<'r, 'd> {
    docs: &'d Documents<'d>,
    lookups: &'r Lookups<'d>,
    /// The input came from Helm 4's post-renderer pipeline: the Jobs carry filename annotations.
    helm4: bool,
    /// The output is for Argo CD.
    argocd: bool,
}

/// One Job to build: a group of identical migrations, whose first draft supplies the pod
/// template, the labels and the settings.
struct JobToBuild<'a, 'm> {
    /// Position among the run's Jobs.
    index: usize,
    name: String,
    first: &'a mut Draft<'m>,
    /// The marked workloads it replaces.
    sources: Vec<DocLabel>,
}

/// The drafts of the marked workloads, in order, on two threads when there are many. Each
/// workload is parsed for its draft and the parse dropped (with every Deployment of a large
/// chart marked, keeping them all would take several times the chart's size in memory); the
/// first error in stream order is returned, as a sequential loop would.
fn make_drafts<'m>(
    docs: &Documents,
    marked: &'m [Marked],
    threads: bool,
) -> Result<Vec<Draft<'m>>> {
    let parallel = threads && marked.len() >= document::PARALLEL_PARSES;
    threads::try_map_halves(marked, parallel, |_, m: &'m Marked| -> Result<Draft<'m>> {
        let doc = docs.get(m.doc);
        let value = doc.parse()?;
        // An Argo Rollout's workloadRef: the template, and the init container, are the
        // Deployment's.
        let source = m.template_source.map(|i| docs.get(i));
        let source_value = source.map(Document::parse).transpose()?;
        let (from, from_value, from_kind) = match (source, &source_value) {
            (Some(d), Some(v)) => (d, v.as_ref(), WorkloadKind::Deployment),
            _ => (doc, value.as_ref(), m.kind),
        };
        let around = hoist::Surroundings::of(docs, doc);
        let mut hoisted = hoist::hoist(
            from_value,
            from_kind,
            &m.container,
            &m.spec,
            &from.label(),
            &around,
        )
        .map_err(|e| already_hoisted(docs, from, &m.container, e))?;
        hoisted.template_from = source.map(Document::label);
        let from_job = match m.kind {
            WorkloadKind::Job if hoisted.init_index.is_none() => FromJob::InPlace,
            WorkloadKind::CronJob => FromJob::CronJob,
            _ => FromJob::Beside,
        };
        // A CronJob keeps its init container; a Job converted in place is replaced whole.
        let own_init = if source.is_some() || from_job == FromJob::CronJob {
            None
        } else {
            hoisted.init_index
        };
        // What leaves the template's workload: the migration and the init containers (and
        // volumes) that only fed it.
        let removed_init: Vec<usize> = hoisted
            .init_index
            .into_iter()
            .chain(hoisted.feeders.init.iter().map(|(i, _)| *i))
            .collect();
        let removed_volumes: Vec<usize> = hoisted.feeders.volumes.iter().map(|(i, _)| *i).collect();
        let mut edits = Vec::new();
        if from_job != FromJob::InPlace {
            let (init, volumes) = match own_init {
                Some(_) => (&removed_init[..], &removed_volumes[..]),
                None => (&[][..], &[][..]),
            };
            edits.extend(workload_edit::workload_edit(
                doc, &value, m.kind, init, volumes,
            )?);
        }
        if let (Some(d), Some(v)) = (source, &source_value) {
            edits.extend(workload_edit::workload_edit(
                d,
                v,
                from_kind,
                &removed_init,
                &removed_volumes,
            )?);
        }
        // Nothing of a converted Job stays; all of a CronJob does, migration included.
        let pod = from_kind.template(from_value).and_then(|t| t.get("spec"));
        let uses = |init: &[usize], volumes: &[usize]| {
            pod.map(|pod| dependencies::used_beside_migration(pod, init, volumes))
                .unwrap_or_default()
        };
        let (used_beside, used_in_input) = match from_job {
            FromJob::InPlace => (Vec::new(), Vec::new()),
            FromJob::CronJob => (uses(&[], &[]), uses(&[], &[])),
            FromJob::Beside => {
                let migration: Vec<usize> = hoisted.init_index.into_iter().collect();
                (uses(&removed_init, &removed_volumes), uses(&migration, &[]))
            }
        };
        Ok(Draft {
            marked: m,
            from_job,
            settings: Settings::from_spec(&m.spec),
            hoisted,
            edits,
            labels: value.get("metadata").and_then(|m| m.get("labels")).cloned(),
            used_beside,
            used_in_input,
        })
    })
}

/// `KIND/NAME` of the objects a migration may read without the stream having them: those the
/// workload uses beside the migration, those the user's own settings name, and those
/// acknowledged with `expect-external`.
fn known_external(draft: &Draft) -> Vec<String> {
    let spec = &draft.marked.spec;
    let mut known = draft.used_in_input.clone();
    known.extend(spec.expect_external.iter().flatten().cloned());
    known.extend(
        spec.env_from_secrets
            .iter()
            .flatten()
            .map(|s| format!("Secret/{s}")),
    );
    known.extend(
        spec.service_account
            .iter()
            .map(|s| format!("ServiceAccount/{s}")),
    );
    for var in spec.env.iter().flatten() {
        let from = &var["valueFrom"];
        if let Some(name) = from["secretKeyRef"]["name"].as_str() {
            known.push(format!("Secret/{name}"));
        }
        if let Some(name) = from["configMapKeyRef"]["name"].as_str() {
            known.push(format!("ConfigMap/{name}"));
        }
    }
    known
}

/// A container that is not there may have been hoisted already: run on its own output, the
/// tool finds the workload without it and the hook Job beside it. Says so.
fn already_hoisted(docs: &Documents, doc: &Document, container: &str, error: Error) -> Error {
    if !error.0.message.starts_with("no container named") {
        return error;
    }
    let name = naming::default_name(doc.name().unwrap_or_default());
    let ns = doc.head.namespace.as_deref();
    let runs_it = |job: &&Document| {
        job.is_hook()
            && job.value().is_ok_and(|v| {
                v.pointer("/spec/template/spec/containers")
                    .and_then(Value::as_array)
                    .is_some_and(|cs| cs.iter().any(|c| c["name"] == container))
            })
    };
    match docs.find("Job", ns, &name).find(runs_it) {
        Some(job) => {
            let mut error = error;
            error.0.message.push_str(&format!(
                "; the stream already has the hook {} running {container:?}: the migration seems already hoisted (was migration-hook run twice on this stream?)",
                job.label()
            ));
            error
        }
        None => error,
    }
}

/// Plans the run (on two threads for a large input).
pub fn plan(docs: &Documents, options: &Options) -> Result<Plan> {
    plan_with(docs, options, docs.input.len() >= document::PARALLEL_FROM)
}

/// [`plan`], with or without a second thread: the plan is the same either way (the tests
/// compare them).
pub fn plan_with(docs: &Documents, options: &Options, threads: bool) -> Result<Plan> {
    std::thread::scope(|scope| plan_in(docs, options, threads, scope))
}

fn plan_in<'d, 's>(
    docs: &'d Documents<'d>,
    options: &Options,
    threads: bool,
    scope: &'s std::thread::Scope<'s, 'd>,
) -> Result<Plan> {
    let mut plan = Plan {
        helm4: docs.is_helm4_postrender_input(),
        argocd: options.argocd,
        ..Plan::default()
    };
    let marked = select::marked_workloads(docs, options, &mut plan.diagnostics)?;
    // The index of documents by name, every Service selector and Service/StatefulSet name,
    // built while the drafts are made.
    let pending = (threads && !marked.is_empty()).then(|| {
        threads::spawn(scope, || {
            docs.index_names();
            Lookups::new(docs)
        })
    });
    let mut drafts = make_drafts(docs, &marked, threads)?;
    let groups = merge::merge_identical(docs, &drafts, &mut plan.diagnostics);
    // Only a group's first draft's pod template and labels are used from here on.
    for group in &groups {
        for &member in &group[1..] {
            drafts[member].hoisted.template = Value::Null;
            drafts[member].labels = None;
        }
    }
    let names = naming::job_names(
        docs,
        groups.iter().map(|group| {
            let first = &drafts[group[0]];
            (
                first.marked.doc,
                first.settings.job_name.as_deref(),
                first.from_job == FromJob::InPlace,
            )
        }),
    )?;
    let lookups = match pending {
        Some(thread) => Some(threads::join(thread)),
        None => (!groups.is_empty()).then(|| Lookups::new(docs)),
    };

    let mut copies = Copies::for_edits(drafts.iter().flat_map(|d| d.edits.iter()));
    let mut jobs = Vec::with_capacity(groups.len());
    if let Some(lookups) = &lookups {
        let cx = Context {
            docs,
            lookups,
            helm4: plan.helm4,
            argocd: plan.argocd,
        };
        for (index, (group, name)) in groups.iter().zip(names).enumerate() {
            let sources = group
                .iter()
                .map(|&i| docs.get(drafts[i].marked.doc).label())
                .collect();
            let job = JobToBuild {
                index,
                name,
                first: &mut drafts[group[0]],
                sources,
            };
            let (migration, document) = build(&cx, job, &mut copies, &mut plan.diagnostics)?;
            plan.migrations.push(migration);
            jobs.push(document);
        }
    }
    drop(lookups);
    // A Job converted in place takes the place of its source document.
    let converted: Vec<WorkloadEdit> = jobs
        .iter()
        .filter_map(|job| {
            job.in_place
                .map(|doc| workload_edit::converted(docs.get(doc), &job.text))
        })
        .collect();
    plan.generated = generated::in_output_order(docs, jobs, &copies.list, threads)?;
    plan.copies = copies.list;
    plan.edits = drafts.into_iter().flat_map(|d| d.edits).collect();
    plan.edits.extend(converted);
    plan.edits.sort_by_key(|e| e.doc);
    promote::add_edits(docs, &copies.promoted, &mut plan.edits)?;
    plan.promoted = copies.promoted;
    if plan.migrations.is_empty() && options.container_flags.is_empty() && options.config.is_empty()
    {
        plan.candidates = candidates::find(docs);
    }
    Ok(plan)
}

/// Events, dependencies, labels and the Job document of one migration.
fn build(
    cx: &Context,
    job: JobToBuild,
    copies: &mut Copies,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<(Migration, Generated)> {
    let JobToBuild {
        index,
        name,
        first,
        sources,
    } = job;
    let docs = cx.docs;
    let mut template = std::mem::take(&mut first.hoisted.template);
    let workload_labels = first.labels.take();
    let doc = docs.get(first.marked.doc);
    let namespace = doc.head.namespace.as_deref().map(str::to_string);
    let ns = namespace.as_deref();
    let job_label = format!("the migration Job {name:?}");

    let in_release = database::find(docs, &cx.lookups.targets, &template, ns)?;
    let (events, events_reason) = events::choose_events(&first.settings, in_release.as_ref());
    events::check(
        &events,
        &first.settings.hook_origin,
        in_release.as_ref(),
        cx.argocd,
        &name,
        &doc.label(),
        diagnostics,
    )?;
    for (later, volume) in &first.hoisted.feeds {
        diagnostics.push(
            Diagnostic::warning(format!(
                "the marked init container {:?} writes emptyDir {volume:?}, which init container {later:?} after it reads; {later:?} stays in the workload and the Job runs only {:?}. If {later:?} is the migration, mark it instead (migration-hook/container: {later})",
                first.marked.container, first.marked.container
            ))
            .at(&doc.label()),
        );
    }

    // After the chart's own hooks on these events, unless the weight was set.
    let mut ordered_after = Vec::new();
    let mut ordered_before = Vec::new();
    let hooks = cx.lookups.hooks.before(docs, &events, &name);
    if first.marked.spec.weight.is_some() {
        ordered_before = hooks
            .iter()
            .filter(|&&(_, w)| w >= first.settings.weight)
            .map(|&(d, w)| format!("{} (weight {w})", docs.get(d).label().id()))
            .collect();
    } else {
        let weight = order::weight_after(&hooks, first.settings.weight);
        if weight != first.settings.weight {
            first.settings.weight = weight;
            if first.marked.spec.dependency_weight.is_none() {
                first.settings.dependency_weight = weight.saturating_sub(1);
            }
        }
        ordered_after = hooks
            .iter()
            .map(|&(d, w)| format!("{} (weight {w})", docs.get(d).label().id()))
            .collect();
    }
    let known_external = known_external(first);
    let dependencies = dependencies::resolve_dependencies(
        docs,
        &mut template["spec"],
        dependencies::Context {
            namespace: ns,
            events: &events,
            job_weight: first.settings.weight,
            dependency_weight: first.settings.dependency_weight,
            dependency_delete_policy: &first.settings.dependency_delete_policy,
            migration: index,
            job_label: &job_label,
            argocd: cx.argocd,
            known_external: &known_external,
            workload: &doc.label(),
            used_beside: &first.used_beside,
        },
        copies,
        diagnostics,
    )?;

    let labels = label_selector::labels_of(template.get("metadata").and_then(|m| m.get("labels")));
    let removed_labels = hygiene::labels_to_remove(
        docs,
        &cx.lookups.selectors,
        ns,
        &labels,
        &job_label,
        diagnostics,
    )?;
    hygiene::strip_labels(&mut template, &removed_labels);

    let in_place = first.from_job == FromJob::InPlace;
    // The new documents are named after the workload's template file (`<file>-migration-hook`),
    // so `--show-only` finds them; a converted Job, written in place, keeps its own file and
    // filename annotation, and only its copies take this name.
    let (source, filename) = (
        doc.source.as_deref().map(generated_filename),
        cx.helm4
            .then(|| doc.head.filename.as_deref().map(generated_filename))
            .flatten(),
    );
    let source_value = match first.from_job {
        FromJob::Beside => None,
        FromJob::InPlace | FromJob::CronJob => Some(doc.parse()?),
    };
    let source_job = source_value.as_deref().and_then(|v| {
        let spec = match first.from_job {
            FromJob::CronJob => v.pointer("/spec/jobTemplate/spec"),
            _ => v.get("spec"),
        }?;
        Some(job::SourceJob {
            spec: spec.as_object()?,
            metadata: v
                .get("metadata")
                .and_then(Value::as_object)
                .filter(|_| in_place),
        })
    });
    let kept_from_job = source_job
        .as_ref()
        .map(|src| job::kept_from_source(src.spec, &first.settings))
        .unwrap_or_default();
    let job_spec = first
        .settings
        .job_spec
        .iter()
        .filter(|(field, _)| first.settings.job_spec_set.contains(field) || source_job.is_none())
        .copied()
        .collect();
    let dropped_suffix = if in_place && first.settings.job_name.is_none() {
        kube::naming::without_revision_suffix(doc.name().unwrap_or_default()).1
    } else {
        String::new()
    };
    let value = job::document(JobParts {
        name: &name,
        namespace: ns,
        labels: workload_labels.as_ref(),
        events: &events,
        settings: &first.settings,
        filename: filename.as_deref().filter(|_| !in_place),
        template,
        source: source_job,
    });
    let document = Generated {
        kind: "Job",
        name: name.clone(),
        source,
        filename,
        text: generated::emit("Job", &value),
        in_place: in_place.then_some(doc.index),
    };
    let migration = Migration {
        job: name,
        namespace,
        sources,
        container: first.marked.container.clone(),
        from_init: first.hoisted.init_index.is_some(),
        events,
        events_reason,
        settings: first.settings.clone(),
        hoisted: Hoisted {
            template: Value::Null,
            ..first.hoisted.clone()
        },
        dependencies,
        removed_labels,
        from_job: first.from_job,
        dropped_suffix,
        kept_from_job,
        job_spec,
        ordered_after,
        ordered_before,
    };
    Ok((migration, document))
}
