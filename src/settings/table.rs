//! The settings of a migration, one row each: the annotation key (after `migration-hook/`, and
//! the flag `--KEY`), the config file field, what the value looks like, its type (which is also
//! its parser, [`super::values`]), how it is given on the command line, where it lands, and its
//! help. The spec type, the annotation/flag/config readers, the merge, `--help` and the README's
//! table all come from here (`tests/cli.rs` checks the README against it).
//!
//! Adding a setting is one row here, plus the code that uses its value (hoist, job, …).

use super::mark::{Lands, settings};
use super::values::{
    DeletePolicy, Env, Hook, Int, JobName, List, Name, ObjectRefs, OneOf, StringMap, Strings,
    Volumes,
};

settings! {
    /// The container to hoist (an init container or a main container); required
    container: String = Name("a container name"),
        key "container", config "container", value "NAME", flag None, lands Lands::Selection;
    /// Command of the migration container, as a JSON array of strings
    command: Vec<String> = Strings,
        key "command", config "command", value "JSON", flag Once, lands Lands::Pod;
    /// Args of the migration container, as a JSON array of strings
    args: Vec<String> = Strings,
        key "args", config "args", value "JSON", flag Once, lands Lands::Pod;
    /// Image of the migration container
    image: String = Name("an image reference"),
        key "image", config "image", value "IMAGE", flag Once, lands Lands::Pod;
    /// Name of the Job (default: <workload>-migration)
    job_name: String = JobName,
        key "job-name", config "jobName", value "NAME", flag Once, lands Lands::Hook;
    /// Hook events, comma-separated (default: pre-install,pre-upgrade), or "auto" to use
    /// post-install,pre-upgrade when the database is part of the release
    hook: super::values::HookChoice = Hook,
        key "hook", config "hook", value "EVENTS", flag Once, lands Lands::Hook;
    /// Hook weight of the Job (default: -1, or one above the chart's own hooks on the same
    /// events); its dependencies get a lower one
    weight: i64 = Int { min: i32::MIN as i64 },
        key "weight", config "weight", value "N", flag Negative, lands Lands::Hook;
    /// Hook delete policy; before-hook-creation is always added
    delete_policy: Vec<String> = DeletePolicy,
        key "delete-policy", config "deletePolicy", value "POLICIES", flag Once, lands Lands::Hook;
    /// Hook delete policy of the ConfigMaps, Secrets and ServiceAccounts promoted or copied for
    /// the Job (default: before-hook-creation,hook-succeeded); before-hook-creation is always added
    dependency_delete_policy: Vec<String> = DeletePolicy,
        key "dependency-delete-policy", config "dependencyDeletePolicy", value "POLICIES",
        flag Once, lands Lands::Hook;
    /// Hook weight of the ConfigMaps, Secrets and ServiceAccounts promoted or copied for the Job
    /// (default: one below the Job's weight); must be below the Job's weight
    dependency_weight: i64 = Int { min: i32::MIN as i64 },
        key "dependency-weight", config "dependencyWeight", value "N", flag Negative,
        lands Lands::Hook;
    /// backoffLimit of the Job (default: 0)
    backoff_limit: i64 = Int { min: 0 },
        key "backoff-limit", config "backoffLimit", value "N", flag Negative,
        lands Lands::JobSpec { field: "backoffLimit", default: Some(0) };
    /// activeDeadlineSeconds of the Job (keep it below Helm's --timeout)
    active_deadline_seconds: i64 = Int { min: 1 },
        key "active-deadline-seconds", config "activeDeadlineSeconds", value "SECONDS", flag Negative,
        lands Lands::JobSpec { field: "activeDeadlineSeconds", default: None };
    /// ttlSecondsAfterFinished of the Job
    ttl_seconds_after_finished: i64 = Int { min: 0 },
        key "ttl-seconds-after-finished", config "ttlSecondsAfterFinished", value "SECONDS",
        flag Negative, lands Lands::JobSpec { field: "ttlSecondsAfterFinished", default: None };
    /// Regular containers to keep as native sidecars, comma-separated (default: Cloud SQL and
    /// AlloyDB proxies; an empty value keeps none)
    sidecars: Vec<String> = List,
        key "sidecars", config "sidecars", value "NAMES", flag Once, lands Lands::Pod;
    /// Extra environment variable for the migration container only. Repeatable
    env: Vec<serde_json::Value> = Env,
        key "env", config "env", value "NAME=VALUE", flag Repeated, lands Lands::Pod;
    /// Add a Secret to the migration container's envFrom, for the Job only. Repeatable
    env_from_secrets: Vec<String> = List,
        key "env-from-secret", config "envFromSecrets", value "SECRET", flag Repeated,
        lands Lands::Pod;
    /// ServiceAccount for the Job only
    service_account: String = Name("a ServiceAccount name"),
        key "service-account", config "serviceAccountName", value "NAME", flag Once,
        lands Lands::Pod;
    /// Objects the migration reads that the release does not render and nothing else in the
    /// workload uses, acknowledged as created outside the release, comma-separated KIND/NAME
    /// (for example Secret/db-admin). Without it, such a reference is an error. Repeatable
    expect_external: Vec<String> = ObjectRefs,
        key "expect-external", config "expectExternal", value "KIND/NAME", flag Repeated,
        lands Lands::Pod;
    /// Volumes the Job gets differently, comma-separated: VOLUME=emptyDir (a scratch
    /// directory instead) or VOLUME=drop (not mounted in the Job). Repeatable
    volumes: indexmap::IndexMap<String, super::values::VolumeOverride> = Volumes,
        key "volumes", config "volumes", value "VOLUME=emptyDir|drop", flag Repeated,
        lands Lands::Pod;
    /// "auto" (default): drop the required pod anti-affinity terms and DoNotSchedule spread
    /// constraints that select the application's own pods, which would keep the Job from
    /// scheduling next to them; "keep": copy the scheduling rules as they are
    scheduling: String = OneOf(&["auto", "keep"]),
        key "scheduling", config "scheduling", value "auto|keep", flag Once, lands Lands::Pod;
    /// "native" (default): when the pod opts into Istio or Linkerd sidecar injection, ask the
    /// mesh for a native sidecar, which stops with the migration; "off": no injection in the Job
    mesh_injection: String = OneOf(&["native", "off"]),
        key "mesh-injection", config "meshInjection", value "native|off", flag Once,
        lands Lands::Pod;
    /// Extra labels for the Job's pod, as a JSON object of strings (a mapping in the config
    /// file). Repeatable
    pod_labels: indexmap::IndexMap<String, String> = StringMap { labels: true },
        key "pod-labels", config "podLabels", value "KEY=VALUE", flag Repeated, lands Lands::Pod;
    /// Extra annotations for the Job's pod, as a JSON object of strings (a mapping in the
    /// config file). Repeatable
    pod_annotations: indexmap::IndexMap<String, String> = StringMap { labels: false },
        key "pod-annotations", config "podAnnotations", value "KEY=VALUE", flag Repeated,
        lands Lands::Pod;
}

#[cfg(test)]
mod tests {
    use super::super::mark::{Flag, SETTINGS};

    /// The README's table of settings, as the rows make it.
    fn markdown() -> String {
        let mut out = String::from(
            "| annotation `migration-hook/…` | flag | config field | value |\n|---|---|---|---|\n",
        );
        for s in SETTINGS {
            let flag = match s.flag {
                Flag::None => "(in `--container`)".to_string(),
                Flag::Repeated => format!("`--{} {}` (repeatable)", s.key, s.value_name),
                Flag::Once | Flag::Negative => format!("`--{} {}`", s.key, s.value_name),
            };
            let flag = flag.replace('|', "\\|");
            out.push_str(&format!(
                "| `{}` | {flag} | `{}` | {} |\n",
                s.key,
                s.config,
                s.help().replace('|', "\\|").replace('<', "&lt;")
            ));
        }
        out
    }

    #[test]
    fn the_readme_lists_every_setting_as_the_table_does() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let table = markdown();
        assert!(
            readme.contains(&table),
            "README.md must carry the settings table exactly as the rows make it:\n\n{table}"
        );
    }
}
