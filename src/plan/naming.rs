//! The names of the generated Jobs: `<workload>-migration` (fitted to Kubernetes' limit, with a
//! hash suffix when that is taken), or the name asked for; never one a Job of the stream or
//! another generated Job has.

use std::collections::HashSet;

use crate::diagnostic::{Error, Result};
use crate::input::document::Documents;
use crate::kube::naming;

/// Stable, valid, unique Job names, one for each `(document of the marked workload, the name
/// asked for, whether the workload is a Job converted in place)`, in order. A converted Job
/// keeps its own name, made stable across releases (`without_revision_suffix`); the
/// document it replaces does not count as taking it.
pub(crate) fn job_names<'a>(
    docs: &Documents,
    jobs: impl IntoIterator<Item = (usize, Option<&'a str>, bool)>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut taken: HashSet<String> = HashSet::new();
    for (index, wanted, in_place) in jobs {
        let doc = docs.get(index);
        let ns = doc.head.namespace.as_deref();
        let taken_by = |name: &str| -> Option<String> {
            let replaced = |d: &&crate::input::document::Document| in_place && d.index == index;
            if let Some(existing) = docs.find("Job", ns, name).find(|d| !replaced(d)) {
                return Some(existing.label().to_string());
            }
            taken
                .contains(name)
                .then(|| "another generated Job".to_string())
        };
        let name = match wanted {
            Some(wanted) => {
                if let Some(other) = taken_by(wanted) {
                    return Err(Error::new(format!(
                        "the Job name {wanted:?} is already used by {other}; choose another with migration-hook/job-name"
                    ))
                    .at(&doc.label()));
                }
                wanted.to_string()
            }
            None => {
                let base = if in_place {
                    let (stable, _) =
                        naming::without_revision_suffix(doc.name().unwrap_or("workload"));
                    naming::fit(&naming::sanitize(&stable), naming::MAX_JOB_NAME)
                } else if doc.kind() == Some("Job") {
                    // A Job's init container: the Job's name may carry the revision too.
                    let (stable, _) =
                        naming::without_revision_suffix(doc.name().unwrap_or("workload"));
                    default_name(&stable)
                } else {
                    default_name(doc.name().unwrap_or("workload"))
                };
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

/// `<workload>-migration`, fitted to the Job name limit: the name a Job gets unless it is taken
/// or another was asked for.
pub(crate) fn default_name(workload: &str) -> String {
    naming::fit(
        &format!("{}-migration", naming::sanitize(workload)),
        naming::MAX_JOB_NAME,
    )
}
