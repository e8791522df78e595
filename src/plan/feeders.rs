//! Init containers that exist only for the migration (`docs/design.md` §4): a `git clone` of
//! the migrations into an `emptyDir` that the migration then reads. They move into the Job with
//! it (they run before it), and after hoisting the workload would still run them on every pod
//! start, for nothing, with their tokens. Such an init container leaves the workload too; so
//! do the volumes that only the leaving containers (the migration included) mounted, which no
//! pod of the workload would mount any more (a ConfigMap of migration settings then need not
//! exist for the app's pods to start).
//!
//! The rule is conservative, when unsure the container stays. An init container before the
//! migration, not a native sidecar, leaves the workload when
//! - it mounts an `emptyDir` that the migration, or another leaving init container, mounts too
//!   (its output is consumed on the migration's side), and
//! - no container that stays in the workload mounts any volume it mounts.
//!
//! So a `wait-for-db`, a database proxy, anything without mounts, or mounting what the app
//! uses too, stays in both. The leaving set is the largest one that satisfies both conditions
//! for each of its members (a chain `clone → unpack → migrate` leaves together).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// What leaves the workload besides the migration.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Feeders {
    /// `(index in initContainers, name)`, in order.
    pub(crate) init: Vec<(usize, String)>,
    /// `(index in volumes, name)` of the volumes only they and the migration mounted, in order:
    /// nothing in the workload mounts them any more.
    pub(crate) volumes: Vec<(usize, String)>,
}

/// The init containers of `pod` (the workload's pod spec) that only feed the migration, the
/// init container at `migration`.
pub(crate) fn find(pod: &Map<String, Value>, migration: usize) -> Feeders {
    let inits = list(pod, "initContainers");
    let mains = list(pod, "containers");
    let empty_dirs = empty_dirs(pod);
    let migration_mounts = mounts(inits[migration]);
    // Candidates: before the migration, not native sidecars, mounting an emptyDir.
    let mut leaving: BTreeSet<usize> = (0..migration)
        .filter(|&i| inits[i].get("restartPolicy").and_then(Value::as_str) != Some("Always"))
        .filter(|&i| mounts(inits[i]).iter().any(|m| empty_dirs.contains(m)))
        .collect();
    loop {
        let used_by_staying = staying_mounts(&inits, &mains, migration, &leaving);
        let keep: Vec<usize> = leaving
            .iter()
            .copied()
            .filter(|&i| {
                let own = mounts(inits[i]);
                let consumed = own.iter().any(|m| {
                    empty_dirs.contains(m)
                        && (migration_mounts.contains(m)
                            || leaving
                                .iter()
                                .any(|&j| j != i && mounts(inits[j]).contains(m)))
                });
                !consumed || own.iter().any(|m| used_by_staying.contains(m))
            })
            .collect();
        if keep.is_empty() {
            break;
        }
        for i in keep {
            leaving.remove(&i);
        }
    }
    let staying_mounts = staying_mounts(&inits, &mains, migration, &leaving);
    let theirs: BTreeSet<&str> = leaving
        .iter()
        .chain([&migration])
        .flat_map(|&i| mounts(inits[i]))
        .collect();
    Feeders {
        init: leaving
            .iter()
            .map(|&i| (i, name(inits[i]).to_string()))
            .collect(),
        volumes: list(pod, "volumes")
            .iter()
            .enumerate()
            .filter_map(|(i, v)| Some((i, v.get("name")?.as_str()?)))
            .filter(|(_, n)| theirs.contains(n) && !staying_mounts.contains(n))
            .map(|(i, n)| (i, n.to_string()))
            .collect(),
    }
}

/// The init containers after the marked one (`marked`) that mount an `emptyDir` it mounts:
/// `(container, volume)`. The marked container then looks like a feeder of theirs (a copy of
/// the migrations that a later init container runs), which stays in the workload.
pub(crate) fn fed_later(pod: &Map<String, Value>, marked: usize) -> Vec<(String, String)> {
    let inits = list(pod, "initContainers");
    let empty_dirs = empty_dirs(pod);
    let own: Vec<&str> = mounts(inits[marked])
        .into_iter()
        .filter(|m| empty_dirs.contains(m))
        .collect();
    inits[marked + 1..]
        .iter()
        .flat_map(|c| {
            own.iter()
                .filter(|v| mounts(c).contains(v))
                .map(|v| (name(c).to_string(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The names of the pod's `emptyDir` volumes.
fn empty_dirs(pod: &Map<String, Value>) -> BTreeSet<&str> {
    list(pod, "volumes")
        .iter()
        .filter(|v| v.get("emptyDir").is_some())
        .filter_map(|v| v.get("name").and_then(Value::as_str))
        .collect()
}

/// The volumes mounted by the containers that stay in the workload: the main ones and the init
/// containers other than the migration and those `leaving`.
fn staying_mounts<'p>(
    inits: &[&'p Value],
    mains: &[&'p Value],
    migration: usize,
    leaving: &BTreeSet<usize>,
) -> BTreeSet<&'p str> {
    inits
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != migration && !leaving.contains(i))
        .map(|(_, c)| *c)
        .chain(mains.iter().copied())
        .flat_map(mounts)
        .collect()
}

fn list<'p>(pod: &'p Map<String, Value>, key: &str) -> Vec<&'p Value> {
    pod.get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn name(container: &Value) -> &str {
    container
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The volume names a container mounts (`volumeMounts`, `volumeDevices`).
fn mounts(container: &Value) -> Vec<&str> {
    ["volumeMounts", "volumeDevices"]
        .into_iter()
        .flat_map(|key| {
            container
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|m| m.get("name").and_then(Value::as_str))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    fn c(name: &str, mounts: &[&str]) -> Value {
        json!({"name": name, "volumeMounts": mounts.iter().map(|m| json!({"name": m, "mountPath": "/x"})).collect::<Vec<_>>()})
    }

    #[test]
    fn a_clone_into_an_empty_dir_leaves_with_its_token_volume() {
        let p = pod(json!({
            "initContainers": [c("wait-for-db", &[]), c("git-clone", &["migrations", "token"]), c("migrate", &["migrations", "config"])],
            "containers": [c("web", &["config"])],
            "volumes": [{"name": "config", "configMap": {"name": "c"}}, {"name": "migrations", "emptyDir": {}}, {"name": "token", "secret": {"secretName": "t"}}]
        }));
        let f = find(&p, 2);
        assert_eq!(f.init, [(1, "git-clone".to_string())]);
        assert_eq!(
            f.volumes,
            [(1, "migrations".to_string()), (2, "token".to_string())]
        );
        // The migration's own volume goes with it; one the app mounts stays.
        let p = pod(json!({
            "initContainers": [c("migrate", &["scripts", "config"])],
            "containers": [c("web", &["config"])],
            "volumes": [{"name": "config", "configMap": {"name": "c"}}, {"name": "scripts", "configMap": {"name": "s"}}]
        }));
        assert_eq!(
            find(&p, 0),
            Feeders {
                init: vec![],
                volumes: vec![(1, "scripts".to_string())]
            }
        );
    }

    #[test]
    fn a_chain_leaves_together() {
        let p = pod(json!({
            "initContainers": [c("fetch", &["a"]), c("unpack", &["a", "b"]), c("migrate", &["b"])],
            "containers": [c("web", &[])],
            "volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]
        }));
        assert_eq!(find(&p, 2).init.len(), 2);
    }

    #[test]
    fn what_the_app_also_mounts_keeps_it() {
        // The app reads the same emptyDir: the init container serves it too.
        let p = pod(json!({
            "initContainers": [c("fetch", &["assets"]), c("migrate", &["assets"])],
            "containers": [c("web", &["assets"])],
            "volumes": [{"name": "assets", "emptyDir": {}}]
        }));
        assert_eq!(find(&p, 1), Feeders::default());
        // Writes an emptyDir nobody on the migration's side reads: not a feeder.
        let p = pod(json!({
            "initContainers": [c("prep", &["scratch"]), c("migrate", &[])],
            "containers": [c("web", &[])],
            "volumes": [{"name": "scratch", "emptyDir": {}}]
        }));
        assert_eq!(find(&p, 1), Feeders::default());
        // A native sidecar stays.
        let mut sidecar = c("proxy", &["sock"]);
        sidecar["restartPolicy"] = json!("Always");
        let p = pod(json!({
            "initContainers": [sidecar, c("migrate", &["sock"])],
            "containers": [c("web", &[])],
            "volumes": [{"name": "sock", "emptyDir": {}}]
        }));
        assert_eq!(find(&p, 1), Feeders::default());
    }
}
