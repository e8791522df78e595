//! Finds the marked workloads: annotations, config-file selectors and `--container` flags,
//! resolved to documents and merged into one [`MarkSpec`] each.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Error, Result};
use crate::input::document::{Document, Documents, Scalar, is_mark_key};
use crate::kube::keys;
use crate::kube::workload::{WorkloadKind, join_field};
use crate::settings::mark::{MarkSpec, Origin, distance};
use crate::settings::options::{ContainerFlag, Options, WorkloadSelector};

/// A workload with its merged mark.
#[derive(Debug, Clone)]
pub(crate) struct Marked {
    pub doc: usize,
    pub kind: WorkloadKind,
    /// Merged settings; `container` is always set.
    pub(crate) spec: MarkSpec,
    pub(crate) container: String,
    /// The document whose pod template the Job is built from, when it is not the marked one:
    /// the Deployment an Argo Rollout names in `spec.workloadRef`.
    pub(crate) template_source: Option<usize>,
}

/// Marks from the three sources, resolved and merged, in stream order.
pub(crate) fn marked_workloads(
    docs: &Documents,
    options: &Options,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Vec<Marked>> {
    // doc index -> (annotation spec, config spec, flag spec)
    let mut found: BTreeMap<usize, [Option<MarkSpec>; 3]> = BTreeMap::new();

    for doc in docs.iter() {
        if let Some(spec) = annotation_mark(doc)? {
            found.entry(doc.index).or_default()[0] = Some(spec);
        }
    }
    for (i, mark) in options.config.iter().enumerate() {
        let matches = select(docs, &mark.selector)?;
        if matches.is_empty() {
            return Err(Error::new(format!(
                "migrations[{i}] ({}) matches no workload{}",
                mark.selector,
                available(docs, mark.selector.kind)
            ))
            .field(options.config_path.as_deref().unwrap_or("--config")));
        }
        for doc in matches {
            let slot = &mut found.entry(doc.index).or_default()[1];
            if slot.is_some() {
                return Err(Error::new(format!(
                    "two entries of the config file select this workload; keep one (the second is migrations[{i}])"
                ))
                .at(&doc.label()));
            }
            *slot = Some(mark.spec.clone());
        }
    }
    for flag in &options.container_flags {
        let doc = flag_target(docs, flag)?;
        let mut spec = MarkSpec::default();
        spec.container = Some(if flag.container.is_empty() {
            only_container(doc, flag)?
        } else {
            flag.container.clone()
        });
        let slot = &mut found.entry(doc.index).or_default()[2];
        if let Some(previous) = slot.as_ref()
            && previous.container != spec.container
        {
            return Err(Error::new(format!(
                "--container names two containers of this workload ({:?} and {:?}); one workload has one migration",
                previous.container.as_deref().unwrap_or_default(),
                flag.container
            ))
            .at(&doc.label()));
        }
        *slot = Some(spec);
    }

    if found.is_empty() && options.flag_overrides != MarkSpec::default() {
        diagnostics.push(Diagnostic::warning(
            "override flags were given but no workload is marked; nothing was changed",
        ));
    }

    found
        .into_iter()
        .map(|(index, [annotation, config, flag])| {
            let doc = docs.get(index);
            let kind = WorkloadKind::of(doc.head.api_version.as_deref(), doc.kind())
                .expect("only workloads are selected");
            let spec = [annotation, config, flag]
                .into_iter()
                .flatten()
                .fold(MarkSpec::default(), |acc, s| acc.overlay(&s))
                .overlay(&options.flag_overrides);
            let container = spec.container.clone().ok_or_else(|| {
                Error::new(format!(
                    "the workload has {}* settings but no {}; add it to name the migration container",
                    keys::MARK_PREFIX,
                    keys::MARK_CONTAINER
                ))
                .at(&doc.label())
            })?;
            dependency_weight_below_job(&spec).map_err(|e| e.at(&doc.label()))?;
            let template_source = match kind {
                WorkloadKind::Rollout => rollout_workload_ref(docs, doc)?,
                _ => None,
            };
            Ok(Marked {
                doc: index,
                kind,
                spec,
                container,
                template_source,
            })
        })
        .collect::<Result<Vec<Marked>>>()
        .and_then(|marked| {
            for m in &marked {
                if let Some(source) = m.template_source
                    && marked.iter().any(|other| other.doc == source)
                {
                    return Err(Error::new(format!(
                        "is marked, and so is {}, whose pod template this Rollout runs (spec.workloadRef); mark one of them",
                        docs.get(source).label()
                    ))
                    .at(&docs.get(m.doc).label()));
                }
                if let Some(source) = m.template_source
                    && let Some(other) = marked
                        .iter()
                        .find(|o| o.doc != m.doc && o.template_source == Some(source))
                {
                    return Err(Error::new(format!(
                        "takes its pod template from {} (spec.workloadRef), and so does {}, which is marked too; the Deployment can lose its migration container once: mark one of them",
                        docs.get(source).label(),
                        docs.get(other.doc).label()
                    ))
                    .at(&docs.get(m.doc).label()));
                }
            }
            Ok(marked)
        })
}

/// An Argo Rollout without a template of its own runs the pod template of the Deployment its
/// `spec.workloadRef` names (same namespace): that Deployment, from the stream. Argo Rollouts
/// copies the Deployment's template into its own ReplicaSets, so that is where the migration
/// container must go from, too.
fn rollout_workload_ref(docs: &Documents, doc: &Document) -> Result<Option<usize>> {
    let value = doc.parse()?;
    if WorkloadKind::Rollout.template(&value).is_some() {
        return Ok(None);
    }
    let Some(reference) = value.get("spec").and_then(|s| s.get("workloadRef")) else {
        return Ok(None);
    };
    let field = "spec.workloadRef";
    let kind = reference.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = reference.get("name").and_then(Value::as_str).unwrap_or("");
    if kind != "Deployment" || name.is_empty() {
        return Err(Error::new(format!(
            "names {}; migration-hook follows a workloadRef to a Deployment (kind: Deployment, name: …) only",
            if kind.is_empty() { "no kind".to_string() } else { format!("a {kind}") }
        ))
        .at(&doc.label())
        .field(field));
    }
    let namespace = doc.head.namespace.as_deref();
    let found = docs
        .find("Deployment", namespace, name)
        .find(|d| markable(d) == Some(WorkloadKind::Deployment));
    match found {
        Some(deployment) => Ok(Some(deployment.index)),
        None => Err(Error::new(format!(
            "names Deployment/{name}{}, which is not in the rendered chart: the Rollout has no pod template of its own, and the Job is built from the Deployment's. Render the Deployment in the same release, or mark a workload that has the template",
            namespace.map(|ns| format!(" in namespace {ns}")).unwrap_or_default()
        ))
        .at(&doc.label())
        .field(field)),
    }
}

/// Hooks of one event run by weight, then name: the Job's dependencies must have a lower weight
/// than the Job, or the Job could start before them (`docs/helm-facts.md` §4).
fn dependency_weight_below_job(spec: &MarkSpec) -> Result<()> {
    let weight = spec.weight.unwrap_or(super::job::DEFAULT_WEIGHT);
    match spec.dependency_weight {
        Some(dependency) if dependency >= weight => Err(Error::new(format!(
            "{}dependency-weight ({dependency}) must be below {}weight, the Job's weight ({weight}): hooks of one event run by weight, so the ConfigMaps, Secrets and ServiceAccount the Job needs would not exist before it starts; lower dependency-weight or raise weight",
            keys::MARK_PREFIX,
            keys::MARK_PREFIX
        ))),
        _ => Ok(()),
    }
}

/// The workload kind of a document that may be marked: a workload and not a hook.
fn markable(doc: &Document) -> Option<WorkloadKind> {
    if doc.is_hook() {
        return None;
    }
    WorkloadKind::of(doc.head.api_version.as_deref(), doc.kind())
}

/// For a key whose prefix is a near miss of `migration-hook/` (`migration-hooks/`,
/// `migrationhook/`, `migration_hook/`, `Migration-Hook/`, `migration-hook.`), the key meant.
fn misspelt_prefix(key: &str) -> Option<String> {
    if is_mark_key(key) {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    let end = match lower.find('/') {
        Some(slash) => slash + 1,
        None => lower.len().min(keys::MARK_PREFIX.len()),
    };
    let (prefix, rest) = lower.split_at(end);
    (distance(prefix, keys::MARK_PREFIX) <= 2).then(|| format!("{}{rest}", keys::MARK_PREFIX))
}

/// The `migration-hook/*` annotations of a document, as a spec; `None` if it has none.
fn annotation_mark(doc: &Document) -> Result<Option<MarkSpec>> {
    let kind = WorkloadKind::of(doc.head.api_version.as_deref(), doc.kind());
    // A workload kind by name alone: a Deployment whose apiVersion is missing or wrong still
    // has its marks read, so that they are reported instead of silently ignored.
    let named = WorkloadKind::ALL
        .into_iter()
        .find(|k| doc.kind() == Some(k.kind()));
    // Pod-template annotations are deep in the document; only a document that mentions the
    // prefix (or a near miss of it) at all can carry them. One whose kind is unknown (because it does not parse) is
    // read too: a mark there must not be silently ignored.
    // "igration" finds misspelt prefixes too (`migration-hooks/`, `Migration_Hook/`).
    let may_carry = doc.head.marked
        || ((named.is_some() || doc.head.kind.is_none()) && doc.body.contains("igration"));
    if !may_carry {
        return Ok(None);
    }
    let template_kind = kind.or(named);
    let template_field =
        template_kind.map(|k| join_field(&k.template_field(), "metadata.annotations"));
    // A document whose kind is unknown may not parse: that error comes first.
    if doc.head.kind.is_none() {
        doc.value()?;
    }
    // Read by the line scanner when it can (the workload is parsed once, later, to be
    // hoisted), else from the parse.
    let read = |path: &[&str]| -> Result<Vec<(Cow<str>, Scalar)>> {
        Ok(doc
            .map_at(path, |k| is_mark_key(k) || misspelt_prefix(k).is_some())?
            .unwrap_or_default())
    };
    let mut places = vec![(
        "metadata.annotations".to_string(),
        read(&["metadata", "annotations"])?,
    )];
    if let (Some(kind), Some(field)) = (template_kind, template_field) {
        let path: Vec<&str> = kind
            .template_path()
            .iter()
            .copied()
            .chain(["metadata", "annotations"])
            .collect();
        places.push((field, read(&path)?));
    }
    let mut spec = MarkSpec::default();
    let mut seen: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (field, entries) in places {
        for (key, raw) in entries {
            let at = format!("{field}.{key}");
            let key = key.into_owned();
            if let Some(meant) = misspelt_prefix(&key) {
                return Err(Error::new(format!(
                    "unknown key {key:?} (did you mean {meant:?}?); a misspelled migration-hook key would silently disable the migration, so it is an error"
                ))
                .at(&doc.label())
                .field(at));
            }
            let text = match raw {
                Scalar::Text(s) => s.into_owned(),
                Scalar::Other(other) => {
                    return Err(Error::new(format!(
                        "annotation values must be strings, this one is {other}; quote it"
                    ))
                    .at(&doc.label())
                    .field(at));
                }
            };
            if let Some((other_field, other_text)) = seen.get(&key)
                && *other_text != text
            {
                return Err(Error::new(format!(
                    "conflicts with {other_field} ({other_text:?} vs {text:?}); set it in one place"
                ))
                .at(&doc.label())
                .field(at));
            }
            spec.set(&key[keys::MARK_PREFIX.len()..], &text, &Origin::Annotation)
                .map_err(|e| Error::new(e).at(&doc.label()).field(at.clone()))?;
            seen.insert(key, (at, text));
        }
    }
    if seen.is_empty() {
        return Ok(None);
    }
    if doc.is_hook() {
        return Err(Error::new(
            "this document is a Helm hook, and hooks are never converted (a chart's own hook Jobs and test pods pass through untouched); remove the migration-hook annotations",
        )
        .at(&doc.label())
        .field(seen.into_values().next().map(|(f, _)| f).unwrap_or_default()));
    }
    if let (None, Some(named)) = (kind, named) {
        let found = match &doc.head.api_version {
            None => "there is none".to_string(),
            Some(v) => format!("this one is {v:?}"),
        };
        return Err(Error::new(format!(
            "a {} needs apiVersion {} and {found}: Kubernetes would reject the document, and migration-hook cannot convert it",
            named.kind(),
            named.api_version()
        ))
        .at(&doc.label())
        .field("apiVersion"));
    }
    if kind.is_none() {
        return Err(Error::new(
            "only workloads with a pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, Rollout) can be marked",
        )
        .at(&doc.label())
        .field(seen.into_values().next().map(|(f, _)| f).unwrap_or_default()));
    }
    Ok(Some(spec))
}

/// Whether `name` names the workload: its name, or, for a Job, its name without the revision
/// number or random suffix charts add (`shop-migrate` names `shop-migrate-3`), so that the
/// same flag or config entry marks it on every release.
fn names_workload(doc: &Document, kind: WorkloadKind, name: &str) -> bool {
    let Some(own) = doc.name() else { return false };
    own == name
        || (kind == WorkloadKind::Job
            && own.len() > name.len()
            && crate::kube::naming::without_revision_suffix(own).0 == name)
}

/// Workloads a config selector picks.
fn select<'d, 'a>(
    docs: &'d Documents<'a>,
    selector: &WorkloadSelector,
) -> Result<Vec<&'d Document<'a>>> {
    let mut out = Vec::new();
    for doc in docs.iter() {
        let Some(kind) = markable(doc) else { continue };
        if selector.kind.is_some_and(|k| k != kind)
            || selector
                .name
                .as_deref()
                .is_some_and(|n| !names_workload(doc, kind, n))
            || selector
                .namespace
                .as_deref()
                .is_some_and(|ns| doc.head.namespace.as_deref() != Some(ns))
        {
            continue;
        }
        if !selector.match_labels.is_empty() {
            let labels = kind
                .template(doc.value()?)
                .and_then(|t| t.get("metadata"))
                .and_then(|m| m.get("labels"));
            let all = selector
                .match_labels
                .iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)).and_then(Value::as_str) == Some(v));
            if !all {
                continue;
            }
        }
        out.push(doc);
    }
    Ok(out)
}

/// The one workload a `--container` flag names.
fn flag_target<'d, 'a>(docs: &'d Documents<'a>, flag: &ContainerFlag) -> Result<&'d Document<'a>> {
    let matches: Vec<&Document> = docs
        .iter()
        .filter(|d| {
            WorkloadKind::of(d.head.api_version.as_deref(), d.kind()) == Some(flag.kind)
                && names_workload(d, flag.kind, &flag.name)
                && flag
                    .namespace
                    .as_deref()
                    .is_none_or(|ns| d.head.namespace.as_deref() == Some(ns))
        })
        .collect();
    let (hooks, workloads): (Vec<&Document>, Vec<&Document>) =
        matches.into_iter().partition(|d| d.is_hook());
    match workloads.as_slice() {
        [one] => Ok(one),
        [] => {
            let hook_note = match hooks.first() {
                Some(h) => format!(
                    "; {} is a Helm hook, and hooks are never converted",
                    h.label()
                ),
                None => String::new(),
            };
            Err(Error::new(format!(
                "matches no workload{hook_note}{}",
                available(docs, Some(flag.kind))
            ))
            .field(format!("--container {}", flag.text)))
        }
        many => {
            let list: Vec<String> = many.iter().map(|d| d.label().to_string()).collect();
            // Two Jobs whose names differ only by their revision suffix: the full name tells
            // them apart; otherwise the namespace does.
            let same_name = many.iter().any(|d| d.name() != Some(flag.name.as_str()));
            let how = if same_name {
                "name the Job by its full name".to_string()
            } else {
                format!(
                    "add the namespace, as {}/NAMESPACE/{}:{}",
                    flag.kind.kind().to_ascii_lowercase(),
                    flag.name,
                    flag.container
                )
            };
            Err(Error::new(format!(
                "is ambiguous: it matches {}; {how}",
                list.join(" and "),
            ))
            .field(format!("--container {}", flag.text)))
        }
    }
}

/// The only container of a Job or CronJob marked without `:CONTAINER`.
fn only_container(doc: &Document, flag: &ContainerFlag) -> Result<String> {
    let value = doc.parse()?;
    let names: Vec<&str> = flag
        .kind
        .template(&value)
        .and_then(|t| t.pointer("/spec/containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("name").and_then(Value::as_str))
        .collect();
    match names.as_slice() {
        [one] => Ok(one.to_string()),
        _ => Err(Error::new(format!(
            "names no container, and {} has {}; name the migration container, as {}:CONTAINER",
            doc.label(),
            if names.is_empty() {
                "no container".to_string()
            } else {
                format!(
                    "containers {}",
                    names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            flag.text
        ))
        .field(format!("--container {}", flag.text))),
    }
}

/// "; workloads of kind X in the input: a, b" — or a note about documents that could not be read.
fn available(docs: &Documents, kind: Option<WorkloadKind>) -> String {
    let names: Vec<String> = docs
        .iter()
        .filter(|d| markable(d).is_some_and(|k| kind.is_none_or(|want| want == k)))
        .map(|d| {
            let k = markable(d).expect("filtered").kind();
            let name = d.name().unwrap_or("(no name)");
            match &d.head.namespace {
                Some(ns) => format!("{k}/{name} (namespace {ns})"),
                None => format!("{k}/{name}"),
            }
        })
        .collect();
    let what = kind.map_or("workloads".to_string(), |k| format!("{}s", k.kind()));
    let mut out = if names.is_empty() {
        format!("; the input has no {what} that could be marked")
    } else {
        const SHOWN: usize = 12;
        let more = names.len().saturating_sub(SHOWN);
        let mut list = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
        if more > 0 {
            list.push_str(&format!(" and {more} more"));
        }
        format!("; {what} in the input: {list}")
    };
    // A workload by name whose apiVersion keeps it from being one.
    let misversioned: Vec<String> = docs
        .iter()
        .filter(|d| !d.is_hook() && markable(d).is_none())
        .filter_map(|d| {
            let k = WorkloadKind::ALL
                .into_iter()
                .find(|k| d.kind() == Some(k.kind()) && kind.is_none_or(|want| want == *k))?;
            Some(format!(
                "{} has apiVersion {}, not {}",
                d.label(),
                d.head
                    .api_version
                    .as_deref()
                    .map_or("(none)".into(), |v| format!("{v:?}")),
                k.api_version()
            ))
        })
        .collect();
    if !misversioned.is_empty() {
        out.push_str(&format!(" ({})", misversioned.join("; ")));
    }
    let unreadable: Vec<String> = docs
        .iter()
        .filter(|d| d.head.kind.is_none() && d.parse_error().is_some())
        .map(|d| (d.index + 1).to_string())
        .collect();
    if !unreadable.is_empty() {
        out.push_str(&format!(
            " (document {} could not be parsed)",
            unreadable.join(", ")
        ));
    }
    // A list or a scalar where an object should be (`- kind: Deployment …`).
    let not_objects: Vec<String> = docs
        .iter()
        .filter(|d| d.head.kind.is_none())
        .filter_map(|d| {
            let what = match d.value().ok()? {
                Value::Array(_) => "a list",
                Value::String(_) | Value::Number(_) | Value::Bool(_) => "a scalar",
                Value::Null | Value::Object(_) => return None,
            };
            Some(format!("document {} is {what}, not an object", d.index + 1))
        })
        .collect();
    if !not_objects.is_empty() {
        out.push_str(&format!(" ({})", not_objects.join("; ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_prefixes_name_the_key_meant() {
        for key in [
            "migration-hooks/container",
            "migrationhook/container",
            "migration_hook/container",
            "Migration-Hook/container",
            "migration-hook.container",
        ] {
            assert_eq!(
                misspelt_prefix(key).as_deref(),
                Some("migration-hook/container"),
                "{key}"
            );
        }
        for key in [
            "migration-hook/container",
            "app.kubernetes.io/name",
            "migrations/enabled",
        ] {
            assert_eq!(misspelt_prefix(key), None, "{key}");
        }
    }
}
