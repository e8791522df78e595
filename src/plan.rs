//! Hop 2: every decision, as data. Pure: documents and options in; edits, new documents and
//! diagnostics out. Nothing here reads files, the environment or the clock.

use serde_json::{Value, json};

use crate::database;
use crate::dependencies::{self, Copies, Dependency};
use crate::diagnostic::{Diagnostic, DocLabel, Error, Result};
use crate::document::{Documents, generated_filename, is_mark_key};
use crate::edit::{self, Edited, Removal};
use crate::hoist::{self, Hoisted};
use crate::hygiene::{self, RemovedLabel};
use crate::job::{self, JobParts, Settings};
use crate::mark::HookChoice;
use crate::naming;
use crate::options::Options;
use crate::select::{self, Marked};
use crate::selector;
use crate::workload::WorkloadKind;

/// What the run will do.
#[derive(Debug, Default)]
pub struct Plan {
    /// The input came from Helm 4's post-renderer pipeline (filename annotations).
    pub helm4: bool,
    pub migrations: Vec<Migration>,
    /// Marked workloads that change (sorted by document).
    pub edits: Vec<WorkloadEdit>,
    /// New documents, in output order.
    pub generated: Vec<Generated>,
    /// The hook copies among them (what dependency outcomes point at).
    pub copies: Vec<dependencies::Copy>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Plan {
    /// Whether the output differs from the input at all.
    pub fn changes_anything(&self) -> bool {
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
    pub container: String,
    pub from_init: bool,
    pub events: Vec<String>,
    /// Why these events.
    pub events_reason: String,
    pub settings: Settings,
    pub hoisted: Hoisted,
    pub dependencies: Vec<Dependency>,
    pub removed_labels: Vec<RemovedLabel>,
}

/// A marked workload's edit.
#[derive(Debug)]
pub struct WorkloadEdit {
    pub doc: usize,
    pub label: DocLabel,
    /// What was taken out, for people.
    pub removed: Vec<String>,
    /// What was taken out, as data: the intended meaning of the edit (a mapping left empty
    /// goes with its key). Tests apply these to Kubernetes' own reading of the input.
    pub removals: Vec<Removal>,
    pub edited: Edited,
}

/// A document to append.
#[derive(Debug)]
pub struct Generated {
    pub kind: &'static str,
    pub name: String,
    /// Template path for the `# Source:` line of `helm template`-style output.
    pub source: Option<String>,
    pub value: Value,
}

/// One marked workload on its way to a Job.
struct Draft<'m> {
    marked: &'m Marked,
    hoisted: Hoisted,
    settings: Settings,
}

/// Plans the run.
pub fn plan(docs: &Documents, options: &Options) -> Result<Plan> {
    let mut plan = Plan {
        helm4: docs.from_helm4_postrender(),
        ..Plan::default()
    };
    let marked = select::marked_workloads(docs, options, &mut plan.diagnostics)?;
    let mut drafts = Vec::new();
    for m in &marked {
        let doc = docs.get(m.doc);
        let hoisted = hoist::hoist(doc.value()?, m.kind, &m.container, &m.spec, &doc.label())?;
        drafts.push(Draft {
            marked: m,
            settings: Settings::from_spec(&m.spec),
            hoisted,
        });
    }
    let groups = merge_identical(docs, &drafts, &mut plan.diagnostics);
    let names = job_names(docs, &drafts, &groups)?;

    let mut copies = Copies::default();
    for (gi, (group, name)) in groups.iter().zip(names).enumerate() {
        let migration = build(docs, &drafts, group, name, gi, &mut copies, &mut plan)?;
        plan.migrations.push(migration);
    }
    add_copies_in_order(docs, &mut plan, &copies)?;
    plan.copies = copies.list;
    for draft in &drafts {
        if let Some(edit) = workload_edit(docs, draft)? {
            plan.edits.push(edit);
        }
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
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, d) in drafts.iter().enumerate() {
        let id = identity(d);
        match groups.iter_mut().find(|(g, _)| *g == id) {
            Some((_, members)) => members.push(i),
            None => groups.push((id, vec![i])),
        }
    }
    for (_, members) in &groups {
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
    groups.into_iter().map(|(_, m)| m).collect()
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
    for group in groups {
        let draft = &drafts[group[0]];
        let doc = docs.get(draft.marked.doc);
        let ns = doc.head.namespace.as_deref();
        let taken_by = |name: &str| -> Option<String> {
            if let Some(existing) = docs.find("Job", ns, name).next() {
                return Some(existing.label().to_string());
            }
            names
                .iter()
                .any(|n| n == name)
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
        names.push(name);
    }
    Ok(names)
}

/// Events, dependencies, labels and the Job document of one migration.
fn build(
    docs: &Documents,
    drafts: &[Draft],
    group: &[usize],
    name: String,
    index: usize,
    copies: &mut Copies,
    plan: &mut Plan,
) -> Result<Migration> {
    let first = &drafts[group[0]];
    let doc = docs.get(first.marked.doc);
    let namespace = doc.head.namespace.clone();
    let ns = namespace.as_deref();
    let job_label = format!("the migration Job {name:?}");
    let mut template = first.hoisted.template.clone();

    let container = template["spec"]["containers"][0].clone();
    let in_release = database::find(docs, &container, ns)?;
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

    let dependencies = dependencies::resolve(
        docs,
        &mut template["spec"],
        ns,
        &events,
        first.settings.weight,
        index,
        copies,
        &mut plan.diagnostics,
        &job_label,
    )?;

    let labels = selector::labels_of(template.get("metadata").and_then(|m| m.get("labels")));
    let removed_labels = hygiene::plan(docs, ns, &labels, &job_label, &mut plan.diagnostics)?;
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
        labels: doc.value()?.get("metadata").and_then(|m| m.get("labels")),
        events: &events,
        settings: &first.settings,
        filename: filename.as_deref(),
        template,
    });
    plan.generated.push(Generated {
        kind: "Job",
        name: name.clone(),
        source: doc.source.as_deref().map(generated_filename),
        value,
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
                crate::mark::Origin::Default => "the default".to_string(),
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

/// Appends the copies, each just before the first Job that uses it.
fn add_copies_in_order(docs: &Documents, plan: &mut Plan, copies: &Copies) -> Result<()> {
    let jobs = std::mem::take(&mut plan.generated);
    for (mi, job) in jobs.into_iter().enumerate() {
        let mut mine: Vec<&dependencies::Copy> =
            copies.list.iter().filter(|c| c.first_user == mi).collect();
        mine.sort_by(|a, b| (a.weight, a.kind, &a.name).cmp(&(b.weight, b.kind, &b.name)));
        for copy in mine {
            let original = docs.get(copy.from).value()?;
            let filename = job.value["metadata"]["annotations"]
                .get(crate::keys::POSTRENDER_FILENAME)
                .and_then(Value::as_str);
            plan.generated.push(Generated {
                kind: copy.kind.kind(),
                name: copy.name.clone(),
                source: job.source.clone(),
                value: dependencies::copy_document(original, copy, filename),
            });
        }
        plan.generated.push(job);
    }
    Ok(())
}

/// The marked workload minus the hoisted init container and our annotations.
fn workload_edit(docs: &Documents, draft: &Draft) -> Result<Option<WorkloadEdit>> {
    let doc = docs.get(draft.marked.doc);
    let value = doc.value()?;
    let kind: WorkloadKind = draft.marked.kind;
    let template_path: Vec<String> = kind.template_path().iter().map(|s| s.to_string()).collect();
    let at = |tail: &[&str]| -> Vec<String> {
        template_path
            .iter()
            .cloned()
            .chain(tail.iter().map(|s| s.to_string()))
            .collect()
    };
    let mut removals = Vec::new();
    let mut removed = Vec::new();
    if let Some(i) = draft.hoisted.init_index {
        removals.push(Removal::Item {
            path: at(&["spec", "initContainers"]),
            index: i,
        });
        removed.push(format!("initContainers[{i}] {:?}", draft.marked.container));
    }
    for path in [
        vec!["metadata".to_string(), "annotations".to_string()],
        at(&["metadata", "annotations"]),
    ] {
        let found = path.iter().try_fold(value, |v, k| v.get(k.as_str()));
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
                removed.push(format!("annotation {}.{key}", path.join(".")));
            }
        }
    }
    if removals.is_empty() {
        return Ok(None);
    }
    Ok(Some(WorkloadEdit {
        doc: doc.index,
        label: doc.label(),
        removed,
        edited: edit::apply(doc.body, value, &removals),
        removals,
    }))
}
