//! The promises, kept against a real kube-apiserver (v1.20.2, with etcd, on loopback: see
//! scripts/install-cluster.sh and scripts/cluster.sh) by the real Helm 4 (`.tools/bin/helm4`)
//! running the plugin-installed binary, and by `kubectl apply` the way Argo CD applies a
//! rendered stream. Checked from the apiserver's audit log (every mutating request, in order)
//! and from the live objects.
//!
//! There is no kubelet and no Job controller: a stand-in (tests/common/cluster.rs) marks a Job
//! done only when everything its pod needs exists at that moment, and records every check, so
//! "the migration pod could start" is asserted, not assumed. Images, native sidecars and real pod
//! start-up are not exercised.
//!
//! One apiserver for the whole binary, one namespace per test. A missing tool (the servers,
//! Helm, kubectl) skips a test with a printed reason, except under CI, where it fails.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

#[macro_use]
mod common;

use common::cluster::{AuditEvent, Cluster, JobEnd, Verdict, cluster};
use common::helm::{BIN, Doc, Sandbox, assert_ok, helm4, parse_docs, run, stderr, stdout};

const RELEASE: &str = "myblog";
const MARK: &str = "--post-renderer-args=--container=deployment/myblog:sql-migrate";
const JOB: &str = "myblog-migration";
/// The hook copies the blog chart's Job needs (kind's resource, name), when nothing binds its
/// ServiceAccount by name.
const COPIES: [(&str, &str); 3] = [
    ("serviceaccounts", "myblog-migration-hook"),
    ("secrets", "myblog-migration-hook"),
    ("configmaps", "myblog-sql-migrate-migration-hook"),
];
/// The blog release's own objects.
const RELEASE_OBJECTS: [(&str, &str); 5] = [
    ("serviceaccounts", "myblog"),
    ("secrets", "myblog"),
    ("configmaps", "myblog-sql-migrate"),
    ("services", "myblog"),
    ("deployments", "myblog"),
];
/// Workload identity on the blog chart's ServiceAccount: it is bound by name.
const IRSA: &str = "--set-string=serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn=arn:aws:iam::123456789012:role/blog";
const NEW_VALUES: [&str; 2] = [
    "--set=image=ghcr.io/example/blog:2.5.0",
    "--set=database.host=postgres-2.example.internal",
];
/// For runs that are expected to hang or fail: short, so the suite stays fast.
const SHORT: &str = "--timeout=20s";
const LONG: &str = "--timeout=90s";

/// One test's world: the cluster, a namespace of its own, a Helm 4 with the plugin installed.
struct World {
    cluster: &'static Cluster,
    sandbox: Sandbox,
    helm4: PathBuf,
    ns: String,
}

impl World {
    fn new(name: &str) -> Option<World> {
        let helm4 = helm4()?;
        let cluster = cluster()?;
        let sandbox = Sandbox::new(&format!("cluster-{name}"));
        sandbox.install_plugin(&helm4)?;
        let ns = cluster.namespace(name);
        Some(World {
            cluster,
            sandbox,
            helm4,
            ns,
        })
    }

    /// Helm 4 in this world's namespace; `args` first (the subcommand).
    fn helm(&self, args: &[&str]) -> Output {
        run(self
            .sandbox
            .command(&self.helm4)
            .args(args)
            .args(["--namespace", &self.ns])
            .env("KUBECONFIG", &self.cluster.kubeconfig))
    }

    /// `helm install|upgrade …` of the blog chart through the plugin, with client-side apply
    /// (v1.20's server-side apply rejects the chart's Service ports without `protocol`).
    fn deploy(&self, verb: &[&str], extra: &[&str]) -> Output {
        let mut args: Vec<&str> = verb.to_vec();
        args.extend([
            RELEASE,
            "testdata/charts/blog",
            "--server-side=false",
            "--post-renderer",
            "migration-hook",
            MARK,
        ]);
        args.extend(extra);
        self.helm(&args)
    }

    fn audit(&self) -> Vec<AuditEvent> {
        self.cluster.audit(&self.ns)
    }

    fn get(&self, resource: &str, name: &str) -> Option<Value> {
        self.cluster.get(&self.ns, resource, name)
    }

    fn deployment(&self) -> Value {
        self.get("deployment", RELEASE)
            .expect("the Deployment exists")
    }

    fn verdict(&self, v: Verdict) {
        self.cluster.stand_in.set_verdict(&self.ns, v);
    }

    /// The stand-in kubelet checked the Jobs of this namespace and never found anything
    /// missing; it did check at least `at_least` times.
    fn assert_nothing_ever_missing(&self, at_least: usize) {
        let checks = self.cluster.stand_in.checks(&self.ns);
        assert!(checks.len() >= at_least, "{checks:?}");
        let missing = self.cluster.stand_in.found_missing(&self.ns);
        assert!(
            missing.is_empty(),
            "the migration pod could not start: {missing:?}"
        );
    }

    /// What is left in the namespace, by `Kind/name`.
    fn objects(&self) -> std::collections::BTreeSet<String> {
        self.cluster.names(
            &self.ns,
            "deployments,services,configmaps,secrets,serviceaccounts,jobs,pods,replicasets",
        )
    }
}

/// Index of the first event at or after `from` that satisfies `p`.
fn first(events: &[AuditEvent], from: usize, p: impl Fn(&AuditEvent) -> bool) -> Option<usize> {
    events[from..].iter().position(p).map(|i| i + from)
}

fn containers(workload: &Value, list: &str) -> Vec<String> {
    workload["spec"]["template"]["spec"][list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect()
}

/// The order promise, from the audit log from `from` on: every hook copy the Job needs is
/// written before the Job is created; the Job is finished (by the stand-in) before any release
/// resource is written. Returns (Job created, Job finished).
fn assert_hooks_then_release(
    events: &[AuditEvent],
    from: usize,
    copies: &[(&str, &str)],
    release: &[(&str, &str)],
) -> (usize, usize) {
    let created = first(events, from, |e| e.is("create", "jobs", JOB))
        .unwrap_or_else(|| panic!("no Job created: {:#?}", &events[from..]));
    for (resource, name) in copies {
        let written = first(events, from, |e| e.writes(resource, name))
            .unwrap_or_else(|| panic!("{resource}/{name} never written"));
        assert!(written < created, "{resource}/{name} written after the Job");
    }
    let finished = first(events, created, |e| e.finishes_job(JOB))
        .unwrap_or_else(|| panic!("the Job never finished: {:#?}", &events[created..]));
    for (resource, name) in release {
        if let Some(early) =
            first(events, from, |e| e.writes(resource, name)).filter(|i| *i < finished)
        {
            panic!(
                "{resource}/{name} written (event {early}) before the Job finished (event {finished})"
            );
        }
    }
    (created, finished)
}

fn assert_no_copies_left(w: &World) {
    for (resource, name) in COPIES {
        assert!(
            w.get(resource, name).is_none(),
            "hook copy {resource}/{name} left"
        );
    }
}

fn assert_release_objects_exist(w: &World) {
    for (resource, name) in RELEASE_OBJECTS {
        assert!(w.get(resource, name).is_some(), "{resource}/{name} missing");
    }
}

/// Install, a failing upgrade, the upgrade that succeeds after it, rollback, uninstall: one
/// release's life, checked at every step.
#[test]
fn helm4_release_lifecycle() {
    let w = need!(World::new("lifecycle"));

    // 1. Install.
    let out = w.deploy(&["install"], &[LONG]);
    assert_ok(&out, "helm install");
    let events = w.audit();
    assert_hooks_then_release(&events, 0, &COPIES, &RELEASE_OBJECTS);
    w.assert_nothing_ever_missing(1);
    let deployment = w.deployment();
    assert_eq!(
        containers(&deployment, "initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
    assert_eq!(containers(&deployment, "containers"), ["blog"]);
    assert_no_copies_left(&w);
    assert_release_objects_exist(&w);
    let job = w
        .get("job", JOB)
        .expect("the finished Job stays for its logs");
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        "myblog-migration-hook"
    );

    // 2. An upgrade whose migration fails.
    let before = w.deployment();
    let config = w.get("configmap", "myblog-sql-migrate").unwrap();
    let secret = w.get("secret", RELEASE).unwrap();
    w.verdict(Verdict::Fail);
    let from = w.audit().len();
    let mut args = vec![SHORT];
    args.extend(NEW_VALUES);
    let out = w.deploy(&["upgrade"], &args);
    assert!(!out.status.success(), "the upgrade succeeded: {out:?}");
    assert!(
        stderr(&out).contains("pre-upgrade hooks failed")
            && stderr(&out).contains(&format!("Job/{}/{JOB}", w.ns)),
        "{}",
        stderr(&out)
    );
    let after = w.deployment();
    assert_eq!(after["spec"], before["spec"], "the workload changed");
    assert_eq!(
        after["metadata"]["generation"],
        before["metadata"]["generation"]
    );
    let events = w.audit();
    for (resource, name) in RELEASE_OBJECTS {
        assert!(
            !events[from..]
                .iter()
                .any(|e| e.succeeded() && e.name == name && e.resource == resource),
            "{resource}/{name} touched by the failed upgrade"
        );
    }
    let config_after = w.get("configmap", "myblog-sql-migrate").unwrap();
    assert_eq!(config_after["data"], config["data"]);
    let secret_after = w.get("secret", RELEASE).unwrap();
    assert!(
        secret_after["data"] == secret["data"],
        "Secret/myblog's data changed (not printed)"
    );
    let failed = w
        .get("job", JOB)
        .expect("the failed Job stays for its logs");
    assert_eq!(
        failed["status"]["conditions"][0]["type"], "Failed",
        "{:?}",
        failed["status"]
    );
    assert_no_copies_left(&w);

    // 3. The upgrade that succeeds after it.
    w.verdict(Verdict::Succeed);
    let from = w.audit().len();
    let mut args = vec![LONG];
    args.extend(NEW_VALUES);
    let out = w.deploy(&["upgrade"], &args);
    assert_ok(&out, "helm upgrade");
    assert!(!stderr(&out).contains("immutable"), "{}", stderr(&out));
    let events = w.audit();
    let deleted = first(&events, from, |e| e.is("delete", "jobs", JOB))
        .expect("before-hook-creation deletes the previous Job");
    let (created, _) = assert_hooks_then_release(
        &events,
        from,
        &COPIES,
        &[
            ("deployments", RELEASE),
            ("configmaps", "myblog-sql-migrate"),
        ],
    );
    assert!(deleted < created);
    let deployment = w.deployment();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example/blog:2.5.0"
    );
    assert_eq!(
        containers(&deployment, "initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
    // Shared ConfigMaps and Secrets survive the upgrade (helm/helm#11608 does not happen),
    // with the new values.
    let config = w
        .get("configmap", "myblog-sql-migrate")
        .expect("the release's ConfigMap survives");
    assert!(
        config["data"]["dbconfig.yml"]
            .as_str()
            .unwrap()
            .contains("postgres-2.example.internal")
    );
    assert!(
        w.get("secret", RELEASE).is_some(),
        "the release's Secret survives"
    );
    for (resource, name) in RELEASE_OBJECTS {
        assert!(
            !events[from..]
                .iter()
                .any(|e| e.is("delete", resource, name)),
            "{resource}/{name} deleted by the upgrade"
        );
    }
    assert_no_copies_left(&w);
    w.assert_nothing_ever_missing(3);

    // 5a. Rollback to the first revision: the previous workload, and no migration.
    let from = w.audit().len();
    let out = w.helm(&["rollback", RELEASE, "1", LONG]);
    assert_ok(&out, "helm rollback");
    let deployment = w.deployment();
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example/blog:2.4.1"
    );
    assert_eq!(
        containers(&deployment, "initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
    let events = w.audit();
    assert!(
        !events[from..]
            .iter()
            .any(|e| e.succeeded() && (e.resource == "jobs" || e.name.ends_with("-migration-hook"))),
        "the rollback ran a migration: {:#?}",
        &events[from..]
    );

    // 5b. Uninstall: nothing of the release is left but the finished Job Helm keeps by policy.
    let out = w.helm(&["uninstall", RELEASE, LONG]);
    assert_ok(&out, "helm uninstall");
    let left: Vec<String> = w.objects().into_iter().collect();
    assert_eq!(left, ["Job/myblog-migration", "ServiceAccount/default"]);
}

/// A first install whose migration fails, retried the usual way (`helm upgrade --install`,
/// pre-upgrade hooks only): the Job's ServiceAccount is a renamed copy on its own events, so the
/// retry's migration pod has it and the retry works.
#[test]
fn helm4_failed_first_install_then_upgrade_install() {
    let w = need!(World::new("retry-renamed"));
    w.verdict(Verdict::Fail);
    let out = w.deploy(&["install"], &[SHORT]);
    assert!(!out.status.success(), "{out:?}");
    let status = w.helm(&["status", RELEASE, "-o", "json"]);
    assert_ok(&status, "helm status");
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["info"]["status"], "failed");
    assert!(w.get("serviceaccount", RELEASE).is_none(), "never applied");

    w.verdict(Verdict::Succeed);
    let from = w.audit().len();
    let out = w.deploy(&["upgrade", "--install"], &[LONG]);
    assert_ok(&out, "helm upgrade --install after a failed install");
    assert_hooks_then_release(&w.audit(), from, &COPIES, &RELEASE_OBJECTS);
    w.assert_nothing_ever_missing(2);
    assert_release_objects_exist(&w);
    assert_no_copies_left(&w);
    assert_eq!(
        containers(&w.deployment(), "initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
}

/// A chart that runs its migration in a plain Job named with the release revision, marked by
/// the name without it: on install and on every upgrade the Job is a hook named `shop-migrate`,
/// which before-hook-creation replaces; the release never holds a `shop-migrate-N` beside it,
/// so the migration runs once per release and old runs do not pile up.
#[test]
fn helm4_plain_migration_job_converted_in_place() {
    let w = need!(World::new("job-in-place"));
    let deploy = |verb: &str| {
        w.helm(&[
            verb,
            "shop",
            "testdata/charts/jobmigrate",
            "--server-side=false",
            "--post-renderer",
            "migration-hook",
            "--post-renderer-args=--container=job/shop-migrate",
            LONG,
        ])
    };
    assert_ok(&deploy("install"), "helm install");
    assert_eq!(
        w.cluster.names(&w.ns, "jobs"),
        BTreeSet::from(["Job/shop-migrate".to_string()])
    );
    let from = w.audit().len();
    assert_ok(&deploy("upgrade"), "helm upgrade");
    let events = w.audit();
    let deleted = first(&events, from, |e| e.is("delete", "jobs", "shop-migrate"))
        .expect("before-hook-creation deletes the previous run");
    let created = first(&events, from, |e| e.is("create", "jobs", "shop-migrate")).unwrap();
    let finished = first(&events, created, |e| e.finishes_job("shop-migrate")).unwrap();
    assert!(deleted < created && created < finished);
    assert!(
        !events[from..]
            .iter()
            .any(|e| e.succeeded() && e.resource == "jobs" && e.name.starts_with("shop-migrate-")),
        "a revision-named Job was written"
    );
    assert_eq!(
        w.cluster.names(&w.ns, "jobs"),
        BTreeSet::from(["Job/shop-migrate".to_string()])
    );
    let job = w.get("job", "shop-migrate").unwrap();
    assert_eq!(job["spec"]["backoffLimit"], 2);
    assert_eq!(
        job["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
}

/// Values that give the migration a Secret of its own, which only it reads: migration-hook
/// promotes it in place (the release's document becomes the hook).
const DDL: [&str; 2] = [
    "--set=sqlMigrate.ddlPassword=test-ddl-password",
    "--set=sqlMigrate.extraEnvFrom[0].secretRef.name=myblog-ddl",
];

/// Adopting migration-hook on a release installed without it: the Secret only the migration
/// reads was an ordinary release resource. The first upgrade with migration-hook replaces it by
/// a hook of the same name (before-hook-creation), the migration finds it, and the upgrade
/// leaves no unused copy in the release; the next upgrade does the same again.
#[test]
fn helm4_promoted_secret_adopted_from_a_release_without_migration_hook() {
    let w = need!(World::new("adoption"));
    // Revision 1, without the post-renderer: the init container runs in the Deployment.
    let mut args = vec![
        "install",
        RELEASE,
        "testdata/charts/blog",
        "--server-side=false",
        LONG,
    ];
    args.extend(DDL);
    let out = w.helm(&args);
    assert_ok(&out, "helm install without migration-hook");
    assert!(
        w.get("secret", "myblog-ddl").is_some(),
        "an ordinary resource"
    );
    assert_eq!(
        containers(&w.deployment(), "initContainers"),
        ["git-clone", "sql-migrate"]
    );

    for (round, extra) in [[DDL[0], DDL[1], LONG], [DDL[0], DDL[1], NEW_VALUES[0]]]
        .iter()
        .enumerate()
    {
        let from = w.audit().len();
        let mut extra: Vec<&str> = extra.to_vec();
        if round == 1 {
            extra.push(LONG);
        }
        let out = w.deploy(&["upgrade"], &extra);
        assert_ok(&out, &format!("helm upgrade {round} with migration-hook"));
        let events = w.audit();
        let created = first(&events, from, |e| e.is("create", "jobs", JOB))
            .unwrap_or_else(|| panic!("no Job created in upgrade {round}"));
        let hook = first(&events, from, |e| e.writes("secrets", "myblog-ddl"))
            .unwrap_or_else(|| panic!("Secret/myblog-ddl never written in upgrade {round}"));
        assert!(hook < created, "the promoted Secret came after the Job");
        assert!(
            first(&events, created, |e| e.finishes_job(JOB)).is_some(),
            "the Job never finished in upgrade {round}"
        );
        w.assert_nothing_ever_missing(round + 1);
        // Nothing unused is left: the hook is gone after success, and the release's manifest
        // no longer has the Secret.
        assert!(
            w.get("secret", "myblog-ddl").is_none(),
            "Secret/myblog-ddl left after upgrade {round}"
        );
        let manifest = w.helm(&["get", "manifest", RELEASE]);
        assert_ok(&manifest, "helm get manifest");
        assert!(
            !stdout(&manifest).contains("name: myblog-ddl"),
            "the release still carries Secret/myblog-ddl"
        );
        assert_eq!(
            containers(&w.deployment(), "initContainers"),
            Vec::<String>::new(),
            "git-clone, which only fed the migration, leaves the workload too"
        );
    }
}

/// A ServiceAccount bound by name (workload identity) keeps its same-name pre-install copy: a
/// first install that fails with `--rollback-on-failure` leaves nothing behind, and
/// `helm install` then works.
#[test]
fn helm4_bound_account_rollback_on_failure_then_install() {
    let w = need!(World::new("retry-bound"));
    w.verdict(Verdict::Fail);
    let out = w.deploy(&["install"], &[SHORT, IRSA, "--rollback-on-failure"]);
    assert!(!out.status.success(), "{out:?}");
    let status = w.helm(&["status", RELEASE]);
    assert!(!status.status.success(), "the failed release is gone");

    w.verdict(Verdict::Succeed);
    let from = w.audit().len();
    let out = w.deploy(&["install"], &[LONG, IRSA]);
    assert_ok(&out, "helm install after --rollback-on-failure");
    let events = w.audit();
    // The same-name ServiceAccount hook, then the renamed copies, then the Job.
    let release_but_account = &RELEASE_OBJECTS[1..];
    assert_hooks_then_release(
        &events,
        from,
        &[("serviceaccounts", RELEASE), COPIES[1], COPIES[2]],
        release_but_account,
    );
    w.assert_nothing_ever_missing(2);
    let job = w.get("job", JOB).unwrap();
    assert_eq!(
        job["spec"]["template"]["spec"]["serviceAccountName"],
        RELEASE
    );
    let account = w
        .get("serviceaccount", RELEASE)
        .expect("the release's account");
    assert!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].is_string(),
        "{account}"
    );
    assert_release_objects_exist(&w);
}

/// Why the recovery advice for a bound ServiceAccount matters: without
/// `--rollback-on-failure`, the `helm upgrade --install` retry has no ServiceAccount for the
/// migration pod (the same-name copy is pre-install only, the release's own was never applied),
/// and hangs until the timeout. The stand-in kubelet saw the account missing.
#[test]
fn helm4_bound_account_retry_without_rollback_hangs() {
    let w = need!(World::new("retry-bound-hangs"));
    w.verdict(Verdict::Fail);
    let out = w.deploy(&["install"], &[SHORT, IRSA]);
    assert!(!out.status.success(), "{out:?}");
    w.verdict(Verdict::Succeed);
    let started = Instant::now();
    let out = w.deploy(&["upgrade", "--install"], &[SHORT, IRSA]);
    assert!(!out.status.success(), "{out:?}");
    assert!(started.elapsed() >= Duration::from_secs(15), "it timed out");
    assert!(
        stderr(&out).contains("status: InProgress")
            && stderr(&out).contains("context deadline exceeded"),
        "{}",
        stderr(&out)
    );
    let missing = w.cluster.stand_in.found_missing(&w.ns);
    assert!(
        missing
            .iter()
            .any(|c| c.job == JOB && c.missing == ["ServiceAccount/myblog"]),
        "{missing:?}"
    );
    // `helm uninstall`, the other recovery, then works.
    assert_ok(&w.helm(&["uninstall", RELEASE, LONG]), "helm uninstall");
    let out = w.deploy(&["install"], &[LONG, IRSA]);
    assert_ok(&out, "helm install after helm uninstall");
    assert_eq!(
        w.cluster.wait_for_job(&w.ns, JOB, Duration::ZERO),
        JobEnd::Complete
    );
}

/// `helm.sh/hook-output-log-policy` on the Job (the tool sets `hook-succeeded,hook-failed`):
/// what Helm 4.1.4 does with it against this server (docs/helm-behaviour.md). Once the Job has
/// finished, succeeded or failed, Helm lists its pods by `job-name` and reads the log of each
/// of the Job's containers (not the init containers). There is no kubelet, so the logs are
/// empty and Helm prints nothing of them.
#[test]
fn helm4_hook_output_log_policy() {
    let w = need!(World::new("output-log"));
    let lists_pods = |e: &AuditEvent| {
        e.verb == "list"
            && e.resource == "pods"
            && e.user == "helm-user"
            && e.uri.contains(&format!("labelSelector=job-name%3D{JOB}"))
    };
    let reads_log = |e: &AuditEvent, container: &str| {
        e.verb == "get"
            && e.resource == "pods"
            && e.subresource == "log"
            && e.user == "helm-user"
            && e.uri.ends_with(&format!("/log?container={container}"))
    };

    // Install; the Job has no pod (no Job controller).
    let out = w.deploy(&["install"], &[LONG]);
    assert_ok(&out, "helm install");
    let job = w.get("job", JOB).unwrap();
    assert_eq!(
        job["metadata"]["annotations"]["helm.sh/hook-output-log-policy"],
        "hook-succeeded,hook-failed"
    );
    // The audit log orders each request by when its event was written, and the stand-in's
    // status patch may be written after Helm, woken by its watch, already listed the pods: so
    // Helm's own requests are looked for from the Job's creation on.
    let events = w.audit();
    let created = first(&events, 0, |e| e.is("create", "jobs", JOB)).unwrap();
    assert!(first(&events, 0, |e| e.finishes_job(JOB)).is_some());
    assert!(first(&events, created, lists_pods).is_some(), "{events:#?}");
    assert!(!stdout(&out).contains("sql-migrate"), "{}", stdout(&out));

    // With the Job's pod there, as the Job controller would make it: succeeded, then failed.
    w.cluster.stand_in.make_pods(&w.ns);
    for (verdict, ok, timeout) in [
        (Verdict::Succeed, true, LONG),
        (Verdict::Fail, false, SHORT),
    ] {
        w.verdict(verdict);
        let from = w.audit().len();
        let out = w.deploy(&["upgrade"], &[timeout]);
        assert_eq!(out.status.success(), ok, "{out:?}");
        let events = w.audit();
        assert!(first(&events, from, |e| e.finishes_job(JOB)).is_some());
        let created = first(&events, from, |e| e.is("create", "jobs", JOB)).unwrap();
        let listed = first(&events, created, lists_pods).expect("pods listed");
        assert!(
            first(&events, listed, |e| reads_log(e, "sql-migrate")).is_some(),
            "{verdict:?}: {:#?}",
            &events[from..]
        );
        assert!(
            !events[from..].iter().any(|e| reads_log(e, "git-clone")),
            "an init container's log was read"
        );
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !said.contains("POD LOGS") && !said.contains("sql-migrate"),
            "{said}"
        );
    }
}

/// Argo CD's order for PreSync hooks: sync wave (the hook weight), then kind, then name.
const KIND_ORDER: [&str; 25] = [
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicaSet",
    "Deployment",
    "StatefulSet",
    "Job",
    "CronJob",
];

fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

fn is_presync(doc: &Doc) -> bool {
    doc.hook_events()
        .iter()
        .any(|e| *e == "pre-install" || *e == "pre-upgrade")
}

fn delete_policies(doc: &Doc) -> Vec<String> {
    doc.annotation("helm.sh/hook-delete-policy")
        .map(|p| p.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_else(|| vec!["before-hook-creation".to_string()])
}

/// Applies a rendered stream the way Argo CD syncs it: PreSync hooks one by one in (wave,
/// kind, name) order with `kubectl apply` (deleting the previous one first with
/// before-hook-creation), waiting for each Job; then the other resources; then deletes the
/// hooks whose policy is hook-succeeded. Helm's hooks that Argo CD ignores are skipped.
fn argocd_sync(w: &World, docs: &[Doc]) {
    let mut hooks: Vec<&Doc> = docs.iter().filter(|d| is_presync(d)).collect();
    hooks.sort_by(|a, b| {
        (a.hook_weight(), kind_rank(a.kind()), a.name()).cmp(&(
            b.hook_weight(),
            kind_rank(b.kind()),
            b.name(),
        ))
    });
    // `kubectl delete` of a hook, as Argo CD deletes it by policy.
    let delete = |hook: &Doc, ignore_not_found: bool| {
        let mut kubectl = w.cluster.kubectl();
        kubectl.args([
            "delete",
            hook.kind(),
            hook.name(),
            "-n",
            &w.ns,
            "--wait=false",
        ]);
        if ignore_not_found {
            kubectl.arg("--ignore-not-found");
        }
        assert_ok(&run(&mut kubectl), "kubectl delete");
    };
    let apply = |doc: &Value| {
        // Into the test's namespace, also what a corpus chart rendered into its own.
        let mut doc = doc.clone();
        if doc["metadata"]["namespace"].is_string() {
            doc["metadata"]["namespace"] = Value::String(w.ns.clone());
        }
        let out = common::pipe(
            w.cluster.kubectl().args(["apply", "-n", &w.ns, "-f", "-"]),
            doc.to_string().as_bytes(),
        );
        assert_ok(&out, "kubectl apply");
    };
    for hook in &hooks {
        if delete_policies(hook)
            .iter()
            .any(|p| p == "before-hook-creation")
        {
            delete(hook, true);
        }
        apply(&hook.value);
        if hook.kind() == "Job" {
            let end = w
                .cluster
                .wait_for_job(&w.ns, hook.name(), Duration::from_secs(30));
            assert_eq!(
                end,
                JobEnd::Complete,
                "PreSync Job {}; the stand-in kubelet found missing: {:?}",
                hook.name(),
                w.cluster.stand_in.found_missing(&w.ns)
            );
        }
    }
    let mut rest: Vec<&Doc> = docs.iter().filter(|d| !d.is_hook()).collect();
    rest.sort_by_key(|d| kind_rank(d.kind()));
    for doc in rest {
        apply(&doc.value);
    }
    for hook in &hooks {
        if delete_policies(hook).iter().any(|p| p == "hook-succeeded") {
            delete(hook, false);
        }
    }
}

/// `helm template | migration-hook ARGS`, as Argo CD's Config Management Plugin or a CI
/// pipeline runs it.
fn render_and_pipe(w: &World, helm_args: &[&str], args: &[&str]) -> Vec<Doc> {
    let mut template = w.sandbox.command(&w.helm4);
    template.args([
        "template",
        RELEASE,
        "testdata/charts/blog",
        "--namespace",
        &w.ns,
    ]);
    template.args(helm_args);
    let rendered = run(&mut template);
    assert_ok(&rendered, "helm template");
    let out = common::pipe(Command::new(BIN).args(args), &rendered.stdout);
    assert_ok(&out, "migration-hook");
    parse_docs(&stdout(&out))
}

/// The Argo CD path (`--argocd`): synced twice as Argo CD would (PreSync runs on every sync),
/// the result is Helm's: the migration ran before the workload was applied, its pod never
/// lacked anything, the workload has no migration container, no hook copy is left, and the
/// app's ServiceAccount is never deleted.
#[test]
fn argocd_sync_order() {
    let w = need!(World::new("argocd"));
    let docs = render_and_pipe(
        &w,
        &[],
        &["--argocd", "--container", "deployment/myblog:sql-migrate"],
    );
    argocd_sync(&w, &docs);
    let events = w.audit();
    assert_hooks_then_release(&events, 0, &COPIES, &RELEASE_OBJECTS);
    let from = events.len();
    let docs = render_and_pipe(
        &w,
        &NEW_VALUES,
        &["--argocd", "--container", "deployment/myblog:sql-migrate"],
    );
    argocd_sync(&w, &docs);
    let events = w.audit();
    assert_hooks_then_release(
        &events,
        from,
        &COPIES,
        &[
            ("deployments", RELEASE),
            ("configmaps", "myblog-sql-migrate"),
        ],
    );
    assert!(
        !events
            .iter()
            .any(|e| e.is("delete", "serviceaccounts", RELEASE)),
        "the app's ServiceAccount was deleted"
    );
    w.assert_nothing_ever_missing(2);
    let deployment = w.deployment();
    assert_eq!(
        containers(&deployment, "initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
    assert_eq!(
        deployment["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/example/blog:2.5.0"
    );
    assert_no_copies_left(&w);
    assert_release_objects_exist(&w);
}

/// Marked corpus charts (real `helm template` output of public charts) that install on v1.20
/// (not openfga: its gRPC probes are not served before v1.24),
/// through the pipe path, applied hooks first in Helm's order (weight, kind, name), waiting for
/// the Job: the migration pod finds everything it needs, and the workload comes without it.
#[test]
fn corpus_charts_through_the_pipe() {
    let w = need!(World::new("corpus"));
    // (case, workload, container, the Secrets it needs from outside the chart, which the tool
    // warns about and the user creates first)
    for (case, workload, container, external) in [
        ("app-template-rails", "storefront-web", "migrate", &[][..]),
        (
            "mlflow",
            "mlflow",
            "mlflow-db-migration",
            &["mlflow-postgres-credentials"][..],
        ),
    ] {
        let ns = w.cluster.namespace(&format!("corpus-{case}"));
        let w = World {
            cluster: w.cluster,
            sandbox: Sandbox::new(&format!("cluster-corpus-{case}")),
            helm4: w.helm4.clone(),
            ns,
        };
        for secret in external {
            let out = run(w.cluster.kubectl().args([
                "create",
                "secret",
                "generic",
                secret,
                "-n",
                &w.ns,
                "--from-literal=placeholder=1",
            ]));
            assert_ok(&out, "kubectl create secret");
        }
        let input =
            std::fs::read(common::root().join(format!("testdata/corpus/{case}/rendered.yaml")))
                .unwrap();
        let mark = format!("deployment/{workload}:{container}");
        let out = common::pipe(Command::new(BIN).args(["--container", &mark]), &input);
        assert_ok(&out, case);
        let docs: Vec<Doc> = parse_docs(&stdout(&out))
            .into_iter()
            .filter(|d| !d.hook_events().iter().any(|e| e.starts_with("test")))
            .collect();
        argocd_sync(&w, &docs);
        w.assert_nothing_ever_missing(1);
        let live = w.get("deployment", workload).expect(case);
        assert!(
            !containers(&live, "initContainers").contains(&container.to_string()),
            "{case}: the migration container is still in the workload"
        );
        let job = docs
            .iter()
            .find(|d| d.kind() == "Job" && d.is_hook())
            .expect("a migration Job");
        assert_eq!(
            w.cluster.wait_for_job(&w.ns, job.name(), Duration::ZERO),
            JobEnd::Complete,
            "{case}"
        );
    }
}
