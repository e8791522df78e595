//! The local control plane of tests/cluster.rs (etcd and kube-apiserver v1.20.2 on loopback,
//! from scripts/install-cluster.sh and scripts/cluster.sh), its audit log, and a stand-in for
//! the kubelet and the Job controller that there is not.
//!
//! One apiserver serves the whole test binary: started once (or reused when scripts/test.sh
//! already started it), one namespace per test, so tests run in parallel.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::helm::{missing, on_path};
use super::root;

/// The running control plane, as `scripts/cluster.sh env` describes it.
pub struct Cluster {
    pub kubeconfig: PathBuf,
    pub audit_log: PathBuf,
    kubectl: PathBuf,
    stand_in_token: String,
    pub stand_in: Arc<StandIn>,
}

/// The control plane, started on first use; `None` (the test is skipped) when the binaries are
/// not installed, except under CI, where that fails the test.
pub fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER.get_or_init(start).as_ref()
}

fn start() -> Option<Cluster> {
    let kubectl = on_path("kubectl")?;
    on_path("openssl")?;
    on_path("curl")?;
    let installed = Command::new(root().join("scripts/install-cluster.sh"))
        .arg("--print-paths")
        .stderr(Stdio::null())
        .output()
        .expect("scripts/install-cluster.sh");
    if !installed.status.success() {
        return missing(
            "kube-apiserver and etcd are not installed (run scripts/install-cluster.sh)",
        );
    }
    let out = Command::new(root().join("scripts/cluster.sh"))
        .arg("start")
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("scripts/cluster.sh start");
    assert!(out.status.success(), "scripts/cluster.sh start failed");
    let env: HashMap<String, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let var = |k: &str| {
        env.get(k)
            .unwrap_or_else(|| panic!("scripts/cluster.sh start printed no {k}"))
            .clone()
    };
    let stand_in_token = std::fs::read_to_string(var("MIGRATION_HOOK_CLUSTER_STAND_IN_TOKEN_FILE"))
        .unwrap()
        .trim()
        .to_string();
    let cluster = Cluster {
        kubeconfig: PathBuf::from(var("KUBECONFIG")),
        audit_log: PathBuf::from(var("MIGRATION_HOOK_CLUSTER_AUDIT_LOG")),
        kubectl,
        stand_in_token,
        stand_in: Arc::new(StandIn::default()),
    };
    cluster.start_stand_in();
    Some(cluster)
}

impl Cluster {
    /// `kubectl` against this cluster, as the Helm user.
    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(&self.kubectl);
        c.env("KUBECONFIG", &self.kubeconfig)
            .env_remove("KUBECTL_EXTERNAL_DIFF")
            .stdin(Stdio::null());
        c
    }

    /// `kubectl get KIND NAME -n NS -o json`, or `None` when it does not exist.
    pub fn get(&self, namespace: &str, kind: &str, name: &str) -> Option<Value> {
        let out = self
            .kubectl()
            .args(["get", kind, name, "-n", namespace, "-o", "json"])
            .output()
            .unwrap();
        if out.status.success() {
            return Some(serde_json::from_slice(&out.stdout).unwrap());
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("NotFound"), "kubectl get {kind}/{name}: {err}");
        None
    }

    /// The names of the objects of `kinds` (comma-separated) in `namespace`, as `Kind/name`.
    pub fn names(&self, namespace: &str, kinds: &str) -> BTreeSet<String> {
        let out = self
            .kubectl()
            .args([
                "get",
                kinds,
                "-n",
                namespace,
                "-o",
                "custom-columns=K:.kind,N:.metadata.name",
                "--no-headers",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                Some(format!("{}/{}", w.next()?, w.next()?))
            })
            .collect()
    }

    /// A fresh namespace for one test, with its `default` ServiceAccount (no controller-manager
    /// makes it here). The name carries the process id: a namespace is never deleted, since
    /// without the namespace controller its deletion never finishes.
    pub fn namespace(&self, name: &str) -> String {
        let ns = format!("{name}-{}", std::process::id());
        let out = self
            .kubectl()
            .args(["create", "namespace", &ns])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let out = self
            .kubectl()
            .args(["create", "serviceaccount", "default", "-n", &ns])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        ns
    }

    /// The audit log's requests in `namespace` so far, in order: every mutating one, and reads
    /// of pods and pod logs.
    pub fn audit(&self, namespace: &str) -> Vec<AuditEvent> {
        let text = std::fs::read_to_string(&self.audit_log).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["stage"] == "ResponseComplete")
            .filter(|e| e["objectRef"]["namespace"] == namespace)
            .map(|e| AuditEvent {
                verb: text_of(&e["verb"]),
                user: text_of(&e["user"]["username"]),
                resource: text_of(&e["objectRef"]["resource"]),
                subresource: text_of(&e["objectRef"]["subresource"]),
                name: text_of(&e["objectRef"]["name"]),
                code: e["responseStatus"]["code"].as_i64().unwrap_or(0),
                uri: text_of(&e["requestURI"]),
            })
            .collect()
    }

    /// The stand-in kubelet, as its own user (`kubelet-stand-in` in the audit log), polling
    /// every 200 ms for the life of the test binary.
    fn start_stand_in(&self) {
        let stand_in = Arc::clone(&self.stand_in);
        let kubectl = self.kubectl.clone();
        let kubeconfig = self.kubeconfig.clone();
        let token = self.stand_in_token.clone();
        std::thread::spawn(move || {
            let command = || {
                let mut c = Command::new(&kubectl);
                c.env("KUBECONFIG", &kubeconfig)
                    .arg(format!("--token={token}"))
                    .stdin(Stdio::null());
                c
            };
            loop {
                stand_in.poll(&command);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
    }

    /// Waits until the Job has finished (a Complete or Failed condition), up to `timeout`.
    pub fn wait_for_job(&self, namespace: &str, name: &str, timeout: Duration) -> JobEnd {
        let started = Instant::now();
        loop {
            if let Some(end) = self.get(namespace, "job", name).as_ref().and_then(job_end) {
                return end;
            }
            if started.elapsed() > timeout {
                return JobEnd::Unfinished;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// One mutating request, from the audit log.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub verb: String,
    pub user: String,
    /// Plural resource: `jobs`, `configmaps`…
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub code: i64,
    pub uri: String,
}

impl AuditEvent {
    pub fn succeeded(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// A successful create, update or patch of the object itself (not a subresource).
    pub fn writes(&self, resource: &str, name: &str) -> bool {
        self.succeeded()
            && matches!(self.verb.as_str(), "create" | "update" | "patch")
            && self.subresource.is_empty()
            && self.resource == resource
            && self.name == name
    }

    pub fn is(&self, verb: &str, resource: &str, name: &str) -> bool {
        self.succeeded()
            && self.verb == verb
            && self.subresource.is_empty()
            && self.resource == resource
            && self.name == name
    }

    /// The stand-in kubelet marking the Job done.
    pub fn finishes_job(&self, name: &str) -> bool {
        self.succeeded()
            && self.user == "kubelet-stand-in"
            && self.resource == "jobs"
            && self.subresource == "status"
            && self.name == name
    }
}

/// How a Job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    Complete,
    Failed,
    Unfinished,
}

fn job_end(job: &Value) -> Option<JobEnd> {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["status"] == "True")
        .find_map(|c| match c["type"].as_str() {
            Some("Complete") => Some(JobEnd::Complete),
            Some("Failed") => Some(JobEnd::Failed),
            _ => None,
        })
}

/// What the stand-in does with a Job whose pod could start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Succeed,
    Fail,
}

/// One look of the stand-in kubelet at an unfinished Job.
#[derive(Debug, Clone)]
pub struct Check {
    pub namespace: String,
    pub job: String,
    /// What the pod needs and did not exist (`ServiceAccount/x`, `Secret/y`…).
    pub missing: Vec<String>,
    /// What it did: `None` when something was missing and the Job was left unfinished.
    pub verdict: Option<Verdict>,
}

/// Stands in for the Job controller and the kubelet: a Job whose pod has everything it needs
/// (its ServiceAccount, every non-optional ConfigMap and Secret of its volumes, projected
/// sources, `env` and `envFrom`, its `imagePullSecrets`) at the moment of the check is marked
/// done through the status subresource, as succeeded, or failed when its namespace asks for
/// that; otherwise it is left unfinished, as a pod stuck in admission or ContainerCreating
/// would leave it. Every check is recorded.
#[derive(Default)]
pub struct StandIn {
    verdicts: Mutex<HashMap<String, Verdict>>,
    /// Namespaces where the stand-in also creates the Job's pod, as the Job controller would
    /// (with the Job's selector labels, never scheduled to a node).
    pods: Mutex<BTreeSet<String>>,
    checks: Mutex<Vec<Check>>,
}

impl StandIn {
    /// From now on, Jobs in `namespace` whose pods could start end with `verdict`.
    pub fn set_verdict(&self, namespace: &str, verdict: Verdict) {
        self.verdicts
            .lock()
            .unwrap()
            .insert(namespace.to_string(), verdict);
    }

    /// From now on, Jobs in `namespace` get a pod before they are marked done.
    pub fn make_pods(&self, namespace: &str) {
        self.pods.lock().unwrap().insert(namespace.to_string());
    }

    /// The checks made so far in `namespace`.
    pub fn checks(&self, namespace: &str) -> Vec<Check> {
        self.checks
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.namespace == namespace)
            .cloned()
            .collect()
    }

    /// The checks in `namespace` that found something missing.
    pub fn found_missing(&self, namespace: &str) -> Vec<Check> {
        self.checks(namespace)
            .into_iter()
            .filter(|c| !c.missing.is_empty())
            .collect()
    }

    fn poll(&self, kubectl: &dyn Fn() -> Command) {
        let Some(jobs) = get_json(kubectl, "jobs") else {
            return;
        };
        let unfinished: Vec<&Value> = jobs["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|j| job_end(j).is_none())
            .collect();
        if unfinished.is_empty() {
            return;
        }
        // Only names: the stand-in never reads a Secret's data.
        let Some(existing) = existing_names(kubectl) else {
            return;
        };
        for job in unfinished {
            let namespace = text_of(&job["metadata"]["namespace"]);
            let name = text_of(&job["metadata"]["name"]);
            let missing: Vec<String> = needs(&job["spec"]["template"]["spec"])
                .into_iter()
                .filter(|need| !existing.contains(&(namespace.clone(), need.clone())))
                .collect();
            let verdict = missing.is_empty().then(|| {
                self.verdicts
                    .lock()
                    .unwrap()
                    .get(&namespace)
                    .copied()
                    .unwrap_or(Verdict::Succeed)
            });
            self.checks.lock().unwrap().push(Check {
                namespace: namespace.clone(),
                job: name.clone(),
                missing,
                verdict,
            });
            if let Some(verdict) = verdict {
                if self.pods.lock().unwrap().contains(&namespace) {
                    make_pod(kubectl, job, verdict);
                }
                finish(kubectl, &namespace, &name, &job["metadata"]["uid"], verdict);
            }
        }
    }
}

fn get_json(kubectl: &dyn Fn() -> Command, kinds: &str) -> Option<Value> {
    let out = kubectl()
        .args(["get", kinds, "--all-namespaces", "-o", "json"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// (namespace, `Kind/name`) of every ServiceAccount, ConfigMap and Secret.
fn existing_names(kubectl: &dyn Fn() -> Command) -> Option<BTreeSet<(String, String)>> {
    let out = kubectl()
        .args([
            "get",
            "serviceaccounts,configmaps,secrets",
            "--all-namespaces",
            "-o",
            "custom-columns=NS:.metadata.namespace,K:.kind,N:.metadata.name",
            "--no-headers",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (ns, kind, name) = (w.next()?, w.next()?, w.next()?);
                Some((ns.to_string(), format!("{kind}/{name}")))
            })
            .collect(),
    )
}

/// What a pod with this spec needs to exist before it can start, as `Kind/name`.
pub fn needs(pod: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let account = pod["serviceAccountName"]
        .as_str()
        .or_else(|| pod["serviceAccount"].as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    out.insert(format!("ServiceAccount/{account}"));
    let mut add = |kind: &str, v: &Value, field: &str| {
        if v["optional"] != true
            && let Some(name) = v[field].as_str()
        {
            out.insert(format!("{kind}/{name}"));
        }
    };
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        add("ConfigMap", &volume["configMap"], "name");
        add("Secret", &volume["secret"], "secretName");
        for source in volume["projected"]["sources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            add("ConfigMap", &source["configMap"], "name");
            add("Secret", &source["secret"], "name");
        }
    }
    for list in ["initContainers", "containers"] {
        for container in pod[list].as_array().into_iter().flatten() {
            for env in container["env"].as_array().into_iter().flatten() {
                add("ConfigMap", &env["valueFrom"]["configMapKeyRef"], "name");
                add("Secret", &env["valueFrom"]["secretKeyRef"], "name");
            }
            for from in container["envFrom"].as_array().into_iter().flatten() {
                add("ConfigMap", &from["configMapRef"], "name");
                add("Secret", &from["secretRef"], "name");
            }
        }
    }
    for secret in pod["imagePullSecrets"].as_array().into_iter().flatten() {
        if let Some(name) = secret["name"].as_str() {
            out.insert(format!("Secret/{name}"));
        }
    }
    out
}

/// The Job's pod, as the Job controller makes it (its template, the Job's selector labels), in
/// the phase of the verdict. No node runs it, so it has no logs.
fn make_pod(kubectl: &dyn Fn() -> Command, job: &Value, v: Verdict) {
    let template = &job["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    for (k, v) in job["spec"]["selector"]["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
    {
        labels[k] = v.clone();
    }
    let uid = text_of(&job["metadata"]["uid"]);
    let name = format!(
        "{}-{}",
        text_of(&job["metadata"]["name"]),
        &uid[..uid.len().min(5)]
    );
    let namespace = text_of(&job["metadata"]["namespace"]);
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": template["spec"],
    });
    let mut create = kubectl();
    create.args(["create", "-f", "-"]).stdout(Stdio::null());
    let _ = super::pipe(&mut create, pod.to_string().as_bytes());
    let phase = match v {
        Verdict::Succeed => "Succeeded",
        Verdict::Fail => "Failed",
    };
    let _ = kubectl()
        .args([
            "patch",
            "pod",
            &name,
            "-n",
            &namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            &json!({"status": {"phase": phase}}).to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Marks the Job done through its status subresource; the uid makes the patch fail if the Job
/// was replaced since the check.
fn finish(kubectl: &dyn Fn() -> Command, namespace: &str, name: &str, uid: &Value, v: Verdict) {
    let now = chrono_now();
    let status = match v {
        Verdict::Succeed => json!({
            "startTime": now, "completionTime": now, "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True",
                "lastProbeTime": now, "lastTransitionTime": now}],
        }),
        Verdict::Fail => json!({
            "startTime": now, "failed": 1,
            "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastProbeTime": now, "lastTransitionTime": now}],
        }),
    };
    let patch = json!({"metadata": {"uid": uid}, "status": status});
    let _ = kubectl()
        .args([
            "patch",
            "job",
            name,
            "-n",
            namespace,
            "--subresource=status",
            "--type=merge",
            "-p",
            &patch.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The current time as RFC 3339 (UTC, seconds), without a date crate.
fn chrono_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
