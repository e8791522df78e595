//! The kinds of workload a migration can be marked on, and where each keeps its pod template.

use serde_json::Value;

/// A kind with a pod template (`docs/design.md` §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    Pod,
    /// Argo Rollouts' `Rollout` (`argoproj.io`), which keeps its template at `spec.template`.
    Rollout,
}

const ROLLOUT_GROUP: &str = "argoproj.io";

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 8] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
        WorkloadKind::ReplicaSet,
        WorkloadKind::Job,
        WorkloadKind::CronJob,
        WorkloadKind::Pod,
        WorkloadKind::Rollout,
    ];

    /// The `kind` field value.
    pub fn kind(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::DaemonSet => "DaemonSet",
            WorkloadKind::ReplicaSet => "ReplicaSet",
            WorkloadKind::Job => "Job",
            WorkloadKind::CronJob => "CronJob",
            WorkloadKind::Pod => "Pod",
            WorkloadKind::Rollout => "Rollout",
        }
    }

    /// The `apiVersion` this kind has today, for messages.
    pub(crate) fn api_version(self) -> &'static str {
        match self {
            WorkloadKind::Pod => "v1",
            WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
            WorkloadKind::Rollout => "argoproj.io/v1alpha1",
            _ => "apps/v1",
        }
    }

    /// API groups this kind is accepted from (`extensions` for very old apps-kinds).
    fn groups(self) -> &'static [&'static str] {
        match self {
            WorkloadKind::Deployment | WorkloadKind::DaemonSet | WorkloadKind::ReplicaSet => {
                &["apps", "extensions"]
            }
            WorkloadKind::StatefulSet => &["apps"],
            WorkloadKind::Job | WorkloadKind::CronJob => &["batch"],
            WorkloadKind::Pod => &[""],
            WorkloadKind::Rollout => &[ROLLOUT_GROUP],
        }
    }

    /// The workload kind of a document, if it is one.
    pub fn of(api_version: Option<&str>, kind: Option<&str>) -> Option<WorkloadKind> {
        let kind = kind?;
        let group = match api_version?.rsplit_once('/') {
            Some((group, _version)) => group,
            None => "",
        };
        Self::ALL
            .into_iter()
            .find(|k| k.kind() == kind && k.groups().contains(&group))
    }

    /// Reads a kind as typed on the command line: case-insensitive, kubectl's short names and
    /// plurals accepted (`deploy`, `sts`, `ds`, `rs`, `cj`, `po`, `ro`).
    pub fn parse(text: &str) -> Option<WorkloadKind> {
        let t = text.to_ascii_lowercase();
        let t = t.split('.').next().unwrap_or_default(); // `deployments.apps`
        Some(match t {
            "deployment" | "deployments" | "deploy" => WorkloadKind::Deployment,
            "statefulset" | "statefulsets" | "sts" => WorkloadKind::StatefulSet,
            "daemonset" | "daemonsets" | "ds" => WorkloadKind::DaemonSet,
            "replicaset" | "replicasets" | "rs" => WorkloadKind::ReplicaSet,
            "job" | "jobs" => WorkloadKind::Job,
            "cronjob" | "cronjobs" | "cj" => WorkloadKind::CronJob,
            "pod" | "pods" | "po" => WorkloadKind::Pod,
            "rollout" | "rollouts" | "ro" => WorkloadKind::Rollout,
            _ => return None,
        })
    }

    /// A Job's or CronJob's main container runs to completion: it needs no command to be the
    /// migration, and its `restartPolicy: OnFailure` is valid in the hook Job.
    pub(crate) fn runs_to_completion(self) -> bool {
        matches!(self, WorkloadKind::Job | WorkloadKind::CronJob)
    }

    /// Path of the pod template (an object with `metadata` and `spec`). A Pod is its own template.
    pub fn template_path(self) -> &'static [&'static str] {
        match self {
            WorkloadKind::CronJob => &["spec", "jobTemplate", "spec", "template"],
            WorkloadKind::Pod => &[],
            _ => &["spec", "template"],
        }
    }

    /// The template path as users read it in messages (`spec.template`).
    pub(crate) fn template_field(self) -> String {
        self.template_path().join(".")
    }

    /// `spec.template.spec` (or `spec` for a Pod), for messages.
    pub(crate) fn pod_spec_field(self) -> String {
        join_field(&self.template_field(), "spec")
    }

    /// The pod template of a parsed workload.
    pub fn template(self, doc: &Value) -> Option<&Value> {
        self.template_path()
            .iter()
            .try_fold(doc, |v, key| v.get(key))
            .filter(|v| v.is_object())
    }
}

/// `a.b` + `c` → `a.b.c`; `""` + `c` → `c`.
pub(crate) fn join_field(base: &str, field: &str) -> String {
    if base.is_empty() {
        field.to_string()
    } else {
        format!("{base}.{field}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_and_groups() {
        assert_eq!(
            WorkloadKind::of(Some("apps/v1"), Some("Deployment")),
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(
            WorkloadKind::of(Some("argoproj.io/v1alpha1"), Some("Rollout")),
            Some(WorkloadKind::Rollout)
        );
        assert_eq!(
            WorkloadKind::of(Some("v1"), Some("Pod")),
            Some(WorkloadKind::Pod)
        );
        assert_eq!(
            WorkloadKind::of(Some("example.com/v1"), Some("Deployment")),
            None
        );
        assert_eq!(WorkloadKind::of(Some("v1"), Some("ConfigMap")), None);
    }

    #[test]
    fn aliases() {
        assert_eq!(
            WorkloadKind::parse("DEPLOY"),
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(WorkloadKind::parse("sts"), Some(WorkloadKind::StatefulSet));
        assert_eq!(
            WorkloadKind::parse("deployments.apps"),
            Some(WorkloadKind::Deployment)
        );
        assert_eq!(WorkloadKind::parse("service"), None);
    }

    #[test]
    fn templates() {
        let cj = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {}}}}}});
        assert!(WorkloadKind::CronJob.template(&cj).is_some());
        assert_eq!(
            WorkloadKind::CronJob.pod_spec_field(),
            "spec.jobTemplate.spec.template.spec"
        );
        assert_eq!(WorkloadKind::Pod.pod_spec_field(), "spec");
        let pod = json!({"metadata": {}, "spec": {}});
        assert_eq!(WorkloadKind::Pod.template(&pod), Some(&pod));
    }
}
