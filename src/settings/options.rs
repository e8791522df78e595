//! The validated, ready-to-use configuration of one run (what `cli` and `config` produce).

use std::collections::BTreeMap;
use std::fmt;

use crate::kube::workload::WorkloadKind;
use crate::settings::mark::MarkSpec;

/// Everything the planner needs besides the input.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--container KIND/[NAMESPACE/]NAME:CONTAINER`, in the order given.
    pub(crate) container_flags: Vec<ContainerFlag>,
    /// Settings from the override flags (`--weight`, `--hook`, …). They apply to every marked
    /// workload, whichever way it was marked: the command line has the last word.
    pub(crate) flag_overrides: MarkSpec,
    /// Migrations from `--config FILE`.
    pub(crate) config: Vec<ConfigMark>,
    /// The `--config` path, for messages.
    pub(crate) config_path: Option<String>,
    /// The output is for Argo CD (`--argocd`, or detected): it runs `pre-install` hooks on
    /// every sync, so no hook may share a name with a release resource.
    pub(crate) argocd: bool,
}

/// One `--container` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContainerFlag {
    pub kind: WorkloadKind,
    pub namespace: Option<String>,
    pub name: String,
    pub(crate) container: String,
    /// The flag value as typed, for messages.
    pub text: String,
}

impl ContainerFlag {
    /// Parses `KIND/NAME:CONTAINER` or `KIND/NAMESPACE/NAME:CONTAINER`; a Job or CronJob may
    /// leave out `:CONTAINER` to mark its only container (`container` is then empty until the
    /// workload is found).
    pub fn parse(text: &str) -> Result<ContainerFlag, String> {
        let usage = "expected KIND/NAME:CONTAINER (for example deployment/api:migrate), optionally KIND/NAMESPACE/NAME:CONTAINER; a Job or CronJob may leave out :CONTAINER to mark its only container";
        let (target, container) = match text.rsplit_once(':') {
            Some(split) => split,
            None => {
                let kind = text.split('/').next().and_then(WorkloadKind::parse);
                if !matches!(kind, Some(WorkloadKind::Job | WorkloadKind::CronJob)) {
                    return Err(format!("{text:?}: {usage}"));
                }
                (text, "")
            }
        };
        let parts: Vec<&str> = target.split('/').collect();
        let (kind, namespace, name) = match parts.as_slice() {
            [kind, name] => (*kind, None, *name),
            [kind, ns, name] => (*kind, Some(*ns), *name),
            _ => return Err(format!("{text:?}: {usage}")),
        };
        let kind = WorkloadKind::parse(kind).ok_or_else(|| {
            format!(
                "{text:?}: {kind:?} is not a workload kind; use deployment, statefulset, daemonset, replicaset, job, cronjob, pod or rollout"
            )
        })?;
        let only_container = container.is_empty() && !text.contains(':');
        if name.is_empty()
            || (container.is_empty() && !only_container)
            || namespace.is_some_and(str::is_empty)
        {
            return Err(format!("{text:?}: {usage}"));
        }
        Ok(ContainerFlag {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            container: container.to_string(),
            text: text.to_string(),
        })
    }
}

/// One entry of the config file's `migrations:` list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConfigMark {
    pub(crate) selector: WorkloadSelector,
    pub(crate) spec: MarkSpec,
}

/// Which workloads a config entry applies to. Every field that is set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WorkloadSelector {
    pub kind: Option<WorkloadKind>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// Labels the workload's pod template must carry. Release-prefixed names make this the
    /// robust choice for third-party charts.
    pub(crate) match_labels: BTreeMap<String, String>,
}

impl fmt::Display for WorkloadSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(kind) = self.kind {
            parts.push(format!("kind {}", kind.kind()));
        }
        if let Some(ns) = &self.namespace {
            parts.push(format!("namespace {ns}"));
        }
        if let Some(name) = &self.name {
            parts.push(format!("name {name}"));
        }
        if !self.match_labels.is_empty() {
            let labels: Vec<String> = self
                .match_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            parts.push(format!("labels {}", labels.join(",")));
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_flags() {
        let f = ContainerFlag::parse("Deploy/api:migrate").unwrap();
        assert_eq!(
            (f.kind, f.name.as_str(), f.container.as_str()),
            (WorkloadKind::Deployment, "api", "migrate")
        );
        let f = ContainerFlag::parse("sts/db/pg:init").unwrap();
        assert_eq!(f.namespace.as_deref(), Some("db"));
        assert!(ContainerFlag::parse("api:migrate").is_err());
        assert!(ContainerFlag::parse("service/api:migrate").is_err());
        assert!(ContainerFlag::parse("deploy/api").is_err());
        assert!(ContainerFlag::parse("deploy/api:").is_err());
        assert!(ContainerFlag::parse("job/api-migrate:").is_err());
        let f = ContainerFlag::parse("job/api-migrate").unwrap();
        assert_eq!((f.name.as_str(), f.container.as_str()), ("api-migrate", ""));
        let f = ContainerFlag::parse("cj/shop/nightly").unwrap();
        assert_eq!(f.namespace.as_deref(), Some("shop"));
    }
}
