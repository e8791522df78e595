//! Hop 2: every decision, as data. Pure: documents and options in; edits, new documents and
//! diagnostics out. Nothing here reads files, the environment or the clock.

pub(crate) mod candidates;
pub(crate) mod database;
pub(crate) mod dependencies;
pub(crate) mod hoist;
pub(crate) mod hygiene;
pub(crate) mod job;
pub(crate) mod promote;
pub(crate) mod select;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, DocLabel, Error, Result};
use crate::input::document::{self, Document, Documents, generated_filename, is_mark_key};
use crate::kube::label_selector;
use crate::kube::naming;
use crate::kube::workload::WorkloadKind;
use crate::settings::mark::HookChoice;
use crate::settings::options::Options;
use crate::threads;
use crate::yaml;
use crate::yaml::edit::{self, Edited, Removal};
use dependencies::{Copies, Dependency};
use hoist::Hoisted;
use hygiene::RemovedLabel;
use job::{JobParts, Settings};
use select::Marked;

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
}

/// A marked workload's edit.
#[derive(Debug)]
pub struct WorkloadEdit {
    pub doc: usize,
    pub label: DocLabel,
    /// What was taken out: the intended meaning of the edit (a mapping left empty goes with its
    /// key). The account lists them; tests apply them to Kubernetes' own reading of the input.
    pub removals: Vec<Removal>,
    /// Annotations set at `metadata.annotations` (a dependency promoted to a hook in place).
    pub set_annotations: Vec<(String, String)>,
    pub edited: Edited,
}

/// A document to append.
#[derive(Debug)]
pub struct Generated {
    pub kind: &'static str,
    pub name: String,
    /// Template path for the `# Source:` line of `helm template`-style output.
    pub source: Option<String>,
    /// Its Helm 4 filename annotation, if it has one.
    pub(crate) filename: Option<String>,
    /// The document's YAML (no `---`), emitted when planned: a parsed value takes several
    /// times the memory of its text, and a run may generate thousands of documents.
    pub text: String,
}

/// One marked workload on its way to a Job.
struct Draft<'m> {
    marked: &'m Marked,
    hoisted: Hoisted,
    settings: Settings,
    /// The workload's own edit.
    edit: Option<WorkloadEdit>,
    /// The workload's `metadata.labels` (the Job carries them).
    labels: Option<Value>,
}

/// What every migration of a run looks up, gathered once.
struct Lookups<'d> {
    selectors: hygiene::Selectors<'d>,
    targets: database::Targets<'d>,
}

impl<'d> Lookups<'d> {
    fn new(docs: &'d Documents<'d>) -> Lookups<'d> {
        Lookups {
            selectors: hygiene::Selectors::new(docs),
            targets: database::Targets::new(docs),
        }
    }
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
    let make = |m: &'m Marked| -> Result<Draft<'m>> {
        let doc = docs.get(m.doc);
        let value = doc.parse()?;
        let hoisted = hoist::hoist(&value, m.kind, &m.container, &m.spec, &doc.label())?;
        let edit = workload_edit(doc, &value, m, &hoisted)?;
        Ok(Draft {
            marked: m,
            settings: Settings::from_spec(&m.spec),
            hoisted,
            edit,
            labels: value.get("metadata").and_then(|m| m.get("labels")).cloned(),
        })
    };
    let run = |part: &'m [Marked]| part.iter().map(make).collect::<Result<Vec<_>>>();
    if !threads || marked.len() < document::PARALLEL_PARSES {
        return run(marked);
    }
    let (first, second) = marked.split_at(marked.len() / 2);
    std::thread::scope(|scope| {
        let other = threads::spawn(scope, || run(second));
        let mut drafts = run(first)?;
        drafts.extend(threads::join(other)?);
        Ok(drafts)
    })
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
    let drafts = make_drafts(docs, &marked, threads)?;
    let groups = merge_identical(docs, &drafts, &mut plan.diagnostics);
    let mut drafts = drafts;
    // Only a group's first draft's pod template and labels are used from here on.
    for group in &groups {
        for &member in &group[1..] {
            drafts[member].hoisted.template = Value::Null;
            drafts[member].labels = None;
        }
    }
    let names = job_names(docs, &drafts, &groups)?;
    let lookups = match pending {
        Some(thread) => Some(threads::join(thread)),
        None => (!groups.is_empty()).then(|| Lookups::new(docs)),
    };

    let mut copies = Copies::for_edits(drafts.iter().filter_map(|d| d.edit.as_ref()));
    for (gi, (group, name)) in groups.iter().zip(names).enumerate() {
        let lookups = lookups.as_ref().expect("built when there are groups");
        let migration = build(
            docs,
            lookups,
            &mut drafts,
            group,
            name,
            gi,
            &mut copies,
            &mut plan,
        )?;
        plan.migrations.push(migration);
    }
    drop(lookups);
    add_copies_in_order(docs, &mut plan, &copies, threads)?;
    plan.copies = copies.list;
    plan.edits = drafts.into_iter().filter_map(|d| d.edit).collect();
    promote::add_edits(docs, &copies.promoted, &mut plan.edits)?;
    plan.promoted = copies.promoted;
    if plan.migrations.is_empty() && options.container_flags.is_empty() && options.config.is_empty()
    {
        plan.candidates = candidates::find(docs);
    }
    Ok(plan)
}

/// Groups drafts that are the same migration (same image, command, args, env, settings and
/// namespace), in stream order; the first of a group supplies the pod template.
fn merge_identical(
    docs: &Documents,
    drafts: &[Draft],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Vec<usize>> {
    let identity = |d: &Draft| {
        let c = &d.hoisted.template["spec"]["containers"][0];
        let ns = &docs.get(d.marked.doc).head.namespace;
        json!([
            c.get("image"),
            c.get("command"),
            c.get("args"),
            c.get("env"),
            c.get("envFrom"),
            ns,
            d.settings.identity()
        ])
        .to_string()
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_identity: HashMap<String, usize> = HashMap::new();
    for (i, d) in drafts.iter().enumerate() {
        match by_identity.entry(identity(d)) {
            Entry::Occupied(g) => groups[*g.get()].push(i),
            Entry::Vacant(slot) => {
                slot.insert(groups.len());
                groups.push(vec![i]);
            }
        }
    }
    for members in &groups {
        let first = &drafts[members[0]];
        for &other in &members[1..] {
            let differ = differing_keys(
                &first.hoisted.template["spec"],
                &drafts[other].hoisted.template["spec"],
            );
            let mut message = format!(
                "runs the same migration as {}; one Job runs it once for all of them",
                docs.get(first.marked.doc).label().id()
            );
            if !differ.is_empty() {
                message.push_str(&format!(
                    "; their pod specs differ in {} and the Job uses {}'s",
                    differ.join(", "),
                    docs.get(first.marked.doc).label().id()
                ));
            }
            diagnostics
                .push(Diagnostic::note(message).at(&docs.get(drafts[other].marked.doc).label()));
        }
    }
    groups
}

fn differing_keys(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    let mut keys: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// Stable, valid, unique Job names: `<workload>-migration`, or the name asked for.
fn job_names(docs: &Documents, drafts: &[Draft], groups: &[Vec<usize>]) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for group in groups {
        let draft = &drafts[group[0]];
        let doc = docs.get(draft.marked.doc);
        let ns = doc.head.namespace.as_deref();
        let taken_by = |name: &str| -> Option<String> {
            if let Some(existing) = docs.find("Job", ns, name).next() {
                return Some(existing.label().to_string());
            }
            taken
                .contains(name)
                .then(|| "another generated Job".to_string())
        };
        let name = match &draft.settings.job_name {
            Some(wanted) => {
                if let Some(other) = taken_by(wanted) {
                    return Err(Error::new(format!(
                        "the Job name {wanted:?} is already used by {other}; choose another with migration-hook/job-name"
                    ))
                    .at(&doc.label()));
                }
                wanted.clone()
            }
            None => {
                let workload = doc.name().unwrap_or("workload");
                let base = naming::fit(
                    &format!("{}-migration", naming::sanitize(workload)),
                    naming::MAX_JOB_NAME,
                );
                if taken_by(&base).is_none() {
                    base
                } else {
                    let seed = doc.label().id();
                    let name = naming::with_suffix(
                        &base,
                        &naming::short_hash(&seed),
                        naming::MAX_JOB_NAME,
                    );
                    if let Some(other) = taken_by(&name) {
                        return Err(Error::new(format!(
                            "the generated Job name {name:?} is already used by {other}; choose one with migration-hook/job-name"
                        ))
                        .at(&doc.label()));
                    }
                    name
                }
            }
        };
        taken.insert(name.clone());
        names.push(name);
    }
    Ok(names)
}

/// Events, dependencies, labels and the Job document of one migration.
#[allow(clippy::too_many_arguments)]
fn build(
    docs: &Documents,
    lookups: &Lookups,
    drafts: &mut [Draft],
    group: &[usize],
    name: String,
    index: usize,
    copies: &mut Copies,
    plan: &mut Plan,
) -> Result<Migration> {
    let mut template = std::mem::take(&mut drafts[group[0]].hoisted.template);
    let workload_labels = drafts[group[0]].labels.take();
    let first = &drafts[group[0]];
    let doc = docs.get(first.marked.doc);
    let namespace = doc.head.namespace.as_deref().map(str::to_string);
    let ns = namespace.as_deref();
    let job_label = format!("the migration Job {name:?}");

    let container = template["spec"]["containers"][0].clone();
    let in_release = database::find(docs, &lookups.targets, &container, ns)?;
    let (events, events_reason) = choose_events(&first.settings, in_release.as_ref());
    if let Some(db) = &in_release
        && events.iter().any(|e| e == "pre-install")
    {
        plan.diagnostics.push(
            Diagnostic::warning(format!(
                "the migration talks to {} ({}), which is part of this release: at pre-install it does not exist yet, so on first install the migration Job {name:?} would fail or time out. Use hook events post-install,pre-upgrade (migration-hook/hook: post-install,pre-upgrade, or \"auto\")",
                db.target, db.via
            ))
            .at(&doc.label()),
        );
    }

    if plan.argocd
        && events.iter().any(|e| e.starts_with("pre-"))
        && events.iter().any(|e| e.starts_with("post-"))
    {
        plan.diagnostics.push(
            Diagnostic::warning(format!(
                "Argo CD runs pre-install/pre-upgrade hooks as PreSync and post-install/post-upgrade hooks as PostSync, both on every sync: with hook events {} the migration Job {name:?} would run twice per sync",
                events.join(",")
            ))
            .at(&doc.label()),
        );
    }

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
            argocd: plan.argocd,
        },
        copies,
        &mut plan.diagnostics,
    )?;

    let labels = label_selector::labels_of(template.get("metadata").and_then(|m| m.get("labels")));
    let removed_labels = hygiene::labels_to_remove(
        docs,
        &lookups.selectors,
        ns,
        &labels,
        &job_label,
        &mut plan.diagnostics,
    )?;
    if let Some(Value::Object(meta)) = template.get_mut("metadata") {
        if let Some(Value::Object(l)) = meta.get_mut("labels") {
            for r in &removed_labels {
                l.shift_remove(&r.key);
            }
        }
        if meta
            .get("labels")
            .and_then(Value::as_object)
            .is_some_and(|l| l.is_empty())
        {
            meta.shift_remove("labels");
        }
    }
    if template
        .get("metadata")
        .and_then(Value::as_object)
        .is_some_and(|m| m.is_empty())
        && let Some(t) = template.as_object_mut()
    {
        t.shift_remove("metadata");
    }

    let filename = plan
        .helm4
        .then(|| doc.head.filename.as_deref().map(generated_filename))
        .flatten();
    let value = job::document(JobParts {
        name: &name,
        namespace: ns,
        labels: workload_labels.as_ref(),
        events: &events,
        settings: &first.settings,
        filename: filename.as_deref(),
        template,
    });
    plan.generated.push(Generated {
        kind: "Job",
        name: name.clone(),
        source: doc.source.as_deref().map(generated_filename),
        filename,
        text: emit("Job", &value),
    });
    Ok(Migration {
        job: name,
        namespace,
        sources: group
            .iter()
            .map(|i| docs.get(drafts[*i].marked.doc).label())
            .collect(),
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
    })
}

/// The hook events, and why.
fn choose_events(
    settings: &Settings,
    in_release: Option<&database::InRelease>,
) -> (Vec<String>, String) {
    match &settings.hook {
        HookChoice::Events(events) => {
            let reason = match settings.hook_origin {
                crate::settings::mark::Origin::Default => "the default".to_string(),
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

/// A generated document's YAML. In debug builds (the tests) it must read back as the value it
/// was emitted from; `tests/oracle.rs` then checks that Kubernetes reads it as we do, so the
/// new documents mean what the plan meant. The message never shows the value (a Secret's data).
fn emit(kind: &str, value: &Value) -> String {
    let text = compact(yaml::emit(value));
    debug_assert!(
        yaml::parse(&text).is_ok_and(|read| read == *value),
        "a generated {kind} reads back differently from the value it was emitted from"
    );
    text
}

/// A generated document's text without the spare capacity emitting left (up to half of it;
/// thousands of them are kept until the output is written).
fn compact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// Appends the copies, each just before the first Job that uses it. Each copy's original is
/// parsed for it and not kept (thousands of parses kept would take several times their text
/// in memory); with `threads`, on two threads.
fn add_copies_in_order(
    docs: &Documents,
    plan: &mut Plan,
    copies: &Copies,
    threads: bool,
) -> Result<()> {
    let jobs = std::mem::take(&mut plan.generated);
    let mut by_user: Vec<Vec<&dependencies::HookCopy>> = vec![Vec::new(); jobs.len()];
    for copy in &copies.list {
        by_user[copy.first_user].push(copy);
    }
    // (job, copy) in output order.
    let mut order: Vec<(usize, &dependencies::HookCopy)> = Vec::new();
    for (ji, mine) in by_user.iter_mut().enumerate() {
        mine.sort_by(|a, b| (a.weight, a.kind, &a.name).cmp(&(b.weight, b.kind, &b.name)));
        order.extend(mine.iter().map(|c| (ji, *c)));
    }
    let emit = |part: &[(usize, &dependencies::HookCopy)]| -> Result<Vec<String>> {
        part.iter()
            .map(|(ji, copy)| {
                let original = docs.get(copy.from).parse()?;
                let filename = jobs[*ji].filename.as_deref();
                let copied = dependencies::copy_document(&original, copy, filename);
                Ok(emit(copy.kind.kind(), &copied))
            })
            .collect()
    };
    let texts = if threads && order.len() >= document::PARALLEL_PARSES {
        let (first, second) = order.split_at(order.len() / 2);
        std::thread::scope(|scope| -> Result<Vec<String>> {
            let other = threads::spawn(scope, || emit(second));
            let mut texts = emit(first)?;
            texts.extend(threads::join(other)?);
            Ok(texts)
        })?
    } else {
        emit(&order)?
    };
    plan.generated.reserve_exact(jobs.len() + texts.len());
    let mut texts = texts.into_iter();
    let mut order = order.into_iter().peekable();
    for (ji, job) in jobs.into_iter().enumerate() {
        while let Some((_, copy)) = order.next_if(|(j, _)| *j == ji) {
            plan.generated.push(Generated {
                kind: copy.kind.kind(),
                name: copy.name.clone(),
                source: job.source.clone(),
                filename: job.filename.clone(),
                text: texts.next().expect("one text per copy"),
            });
        }
        plan.generated.push(job);
    }
    Ok(())
}

/// The marked workload minus the hoisted init container and our annotations.
fn workload_edit(
    doc: &Document,
    value: &Value,
    marked: &Marked,
    hoisted: &Hoisted,
) -> Result<Option<WorkloadEdit>> {
    let kind: WorkloadKind = marked.kind;
    // Paths of static names: thousands of edits are kept until the output is written.
    let at = |tail: &[&'static str]| -> Vec<&'static str> {
        kind.template_path().iter().chain(tail).copied().collect()
    };
    let mut removals = Vec::new();
    if let Some(i) = hoisted.init_index {
        removals.push(Removal::Item {
            path: at(&["spec", "initContainers"]),
            index: i,
        });
    }
    for path in [
        vec!["metadata", "annotations"],
        at(&["metadata", "annotations"]),
    ] {
        let found = path.iter().try_fold(value, |v, k| v.get(*k));
        for key in found
            .and_then(Value::as_object)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if is_mark_key(key)
                && !removals.iter().any(
                    |r| matches!(r, Removal::Key { path: p, key: k } if *p == path && k == key),
                )
            {
                removals.push(Removal::Key {
                    path: path.clone(),
                    key: key.clone(),
                });
            }
        }
    }
    if removals.is_empty() {
        return Ok(None);
    }
    Ok(Some(WorkloadEdit {
        doc: doc.index,
        label: doc.label(),
        edited: edit::apply(doc.body, value, &removals),
        removals,
        set_annotations: Vec::new(),
    }))
}
