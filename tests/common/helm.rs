//! Running the real Helm binaries that `scripts/install-helm.sh` pins, in sandboxes of their
//! own: shared by tests/real_helm.rs and tests/cluster.rs.
//!
//! A missing tool skips a test with a printed reason, except when the `CI` environment variable
//! is set: then it fails.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use super::root;

/// The binary under test, as cargo built it for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_migration-hook");

/// `Some(path)` if it exists. Otherwise says why the test is skipped and returns `None`, or
/// panics under CI, where nothing may be skipped.
pub fn require(path: PathBuf, how_to_get_it: &str) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    missing(&format!("{} is missing ({how_to_get_it})", path.display()))
}

pub fn missing<T>(reason: &str) -> Option<T> {
    assert!(
        std::env::var_os("CI").is_none(),
        "{reason}; under CI no test may be skipped"
    );
    eprintln!("skipped: {reason}");
    None
}

pub fn helm4() -> Option<PathBuf> {
    require(
        root().join(".tools/bin/helm4"),
        "run scripts/install-helm.sh",
    )
}

pub fn helm3() -> Option<PathBuf> {
    require(
        root().join(".tools/bin/helm3"),
        "run scripts/install-helm.sh",
    )
}

/// A program on PATH, or `None` (skip) when it is not there.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| p.is_file())
    });
    match found {
        Some(p) => Some(p),
        None => missing(&format!("`{program}` is not on PATH")),
    }
}

/// A scratch directory for one test, with Helm homes of its own. Removed when the test passes,
/// kept for a look when it fails.
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Sandbox {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("helm-tests")
            .join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Sandbox { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// A command that sees this sandbox's Helm homes and nothing of the caller's Helm or
    /// migration-hook settings. Plugins stay in their default place, `$HELM_DATA_HOME/plugins`:
    /// Helm 4.1.4's `plugin install` ignores `HELM_PLUGINS` (docs/helm-behaviour.md).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new(program);
        c.current_dir(root())
            .env("HELM_DATA_HOME", self.path("helm/data"))
            .env("HELM_CONFIG_HOME", self.path("helm/config"))
            .env("HELM_CACHE_HOME", self.path("helm/cache"))
            .stdin(Stdio::null());
        for var in [
            "HELM_PLUGINS",
            "HELM_PLUGIN_NAME",
            "HELM_PLUGIN_DIR",
            "HELM_DEBUG",
            "HELM_NAMESPACE",
            "HELM_KUBECONTEXT",
            "HELM_DRIVER",
            "MIGRATION_HOOK_REPORT",
            "ARGOCD_APP_NAME",
        ] {
            c.env_remove(var);
        }
        c
    }

    /// Copies the checkout's files (those git lists: tracked and new, not ignored) to
    /// `checkout/migration-hook`, as a fresh clone would have them (without `bin/` or
    /// `target/`), and returns that directory.
    pub fn checkout(&self) -> Option<PathBuf> {
        let git = on_path("git")?;
        let listed = Command::new(git)
            .args([
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .current_dir(root())
            .output()
            .expect("git ls-files");
        assert!(listed.status.success(), "git ls-files: {listed:?}");
        let dest = self.path("checkout/migration-hook");
        for name in listed.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = std::str::from_utf8(name).unwrap();
            let from = root().join(name);
            if !from.is_file() {
                continue; // deleted in the working tree
            }
            let to = dest.join(name);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&from, &to).unwrap(); // keeps the mode: scripts stay executable
            // And the time: cargo then rebuilds only what changed since the last run.
            let modified = std::fs::metadata(&from).unwrap().modified().unwrap();
            std::fs::File::options()
                .write(true)
                .open(&to)
                .unwrap()
                .set_modified(modified)
                .unwrap();
        }
        Some(dest)
    }

    /// `helm plugin install` of a checkout in which the binary is already built (the one these
    /// tests run): the real plugin.yaml and install hook, which must take the binary as it is.
    pub fn install_plugin(&self, helm4: &Path) -> Option<()> {
        let checkout = self.checkout()?;
        std::fs::create_dir_all(checkout.join("bin")).unwrap();
        // Copied after the sources, so it is newer than all of them.
        std::fs::copy(BIN, checkout.join("bin/migration-hook")).unwrap();
        let out = run(self
            .command(helm4)
            .args(["plugin", "install"])
            .arg(&checkout));
        assert_ok(&out, "helm plugin install");
        let said = stdout(&out);
        assert!(
            said.contains("using the binary already built")
                && said.contains("Installed plugin: migration-hook"),
            "{said}"
        );
        Some(())
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"))
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn assert_ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        stdout(out),
        stderr(out)
    );
}

/// One document of Helm's output.
#[derive(Debug)]
pub struct Doc {
    /// The `# Source:` line's path.
    pub source: Option<String>,
    pub value: Value,
}

impl Doc {
    pub fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or("")
    }

    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or("")
    }

    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value["metadata"]["annotations"][key].as_str()
    }

    pub fn is_hook(&self) -> bool {
        self.annotation("helm.sh/hook").is_some()
    }

    pub fn hook_events(&self) -> Vec<&str> {
        self.annotation("helm.sh/hook")
            .map(|h| h.split(',').map(str::trim).collect())
            .unwrap_or_default()
    }

    /// Helm reads a missing or invalid weight as 0.
    pub fn hook_weight(&self) -> i64 {
        self.annotation("helm.sh/hook-weight")
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Names of the pod template's `initContainers` or `containers` (`list`).
    pub fn pod_containers(&self, list: &str) -> Vec<&str> {
        self.value["spec"]["template"]["spec"][list]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
            .unwrap_or_default()
    }
}

/// Splits a stream as Helm prints it (`---` lines, `# Source:` comments) and parses each
/// document; comment-only documents are dropped.
pub fn parse_docs(text: &str) -> Vec<Doc> {
    let mut chunks = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            chunks.push(String::new());
        } else {
            let chunk = chunks.last_mut().unwrap();
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    chunks
        .into_iter()
        .filter_map(|chunk| {
            let source = chunk
                .lines()
                .find_map(|l| l.strip_prefix("# Source: "))
                .map(str::to_string);
            let value = migration_hook::testing::yaml::parse(&chunk)
                .unwrap_or_else(|e| panic!("Helm printed YAML that does not parse: {e}\n{chunk}"));
            (!value.is_null()).then_some(Doc { source, value })
        })
        .collect()
}

pub fn find<'d>(docs: &'d [Doc], kind: &str, name: &str) -> &'d Doc {
    docs.iter()
        .find(|d| d.kind() == kind && d.name() == name)
        .unwrap_or_else(|| {
            let ids: Vec<String> = docs.iter().map(Doc::id).collect();
            panic!("no {kind}/{name} among {ids:?}")
        })
}
