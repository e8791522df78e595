//! Who is running us, from the process's surroundings: Helm 4 (as a plugin), Helm 3 (as
//! `--post-renderer <path>`), Argo CD (a Config Management Plugin), or something else (a pipe
//! after `helm template`). This is the one module that looks at the environment and `/proc`;
//! `main` passes the answer on.

use std::path::{Path, PathBuf};

/// What the process's surroundings say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Host {
    /// `HELM_PLUGIN_NAME` is set: Helm 4 runs us as a plugin (Helm 3 never sets it for a
    /// post-renderer).
    pub helm_plugin: bool,
    /// A `helm` process is our parent (possibly through a wrapper shell script).
    pub(crate) helm_parent: bool,
    /// `ARGOCD_APP_NAME` is set: an Argo CD Config Management Plugin runs us (Argo CD sets it
    /// for every CMP command), so Argo CD, not Helm, will run the hooks.
    pub(crate) argocd: bool,
}

/// Shells and launchers a wrapper script might run us through.
const WRAPPERS: &[&str] = &["sh", "bash", "dash", "zsh", "ash", "ksh", "busybox", "env"];

impl Host {
    pub fn detect() -> Host {
        Host {
            helm_plugin: std::env::var_os("HELM_PLUGIN_NAME").is_some(),
            helm_parent: helm_ancestor(),
            argocd: std::env::var_os("ARGOCD_APP_NAME").is_some_and(|v| !v.is_empty()),
        }
    }
}

/// Walks up from the parent through wrapper shells; true if it reaches a `helm` executable.
fn helm_ancestor() -> bool {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..4 {
        let Some(process) = Process::of(pid) else {
            return false;
        };
        if is_helm(&process.name) {
            return true;
        }
        if !WRAPPERS.contains(&process.name.as_str()) || process.parent <= 1 {
            return false;
        }
        pid = process.parent;
    }
    false
}

/// Whether an executable's file name is Helm's: `helm`, or `helm` with a version (`helm3`,
/// `helm-3.17`). Not `helmfile`, not a `helm-diff` or `helm-secrets` plugin, not any program
/// whose name merely starts with "helm".
fn is_helm(name: &str) -> bool {
    let name = name.strip_suffix(".exe").unwrap_or(name);
    let Some(rest) = name.strip_prefix("helm") else {
        return false;
    };
    let version = rest.strip_prefix(['-', '_']).unwrap_or(rest);
    version
        .trim_start_matches('v')
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.')
}

/// A process's executable name and parent.
#[derive(Debug, PartialEq, Eq)]
struct Process {
    name: String,
    parent: u32,
}

impl Process {
    /// From `/proc` where there is one (Linux), else from `ps` (macOS, the BSDs).
    fn of(pid: u32) -> Option<Process> {
        if Path::new("/proc/self/stat").exists() {
            Process::from_proc(pid)
        } else {
            Process::from_ps(pid)
        }
    }

    /// The name is the file name of `/proc/PID/exe`, or of argv[0] when that cannot be read.
    fn from_proc(pid: u32) -> Option<Process> {
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let path = match exe {
            Some(p) => p,
            None => {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
                let argv0 = cmdline.split(|b| *b == 0).next()?;
                PathBuf::from(String::from_utf8_lossy(argv0).into_owned())
            }
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
        let after = &stat[stat.rfind(')')? + 2..];
        Some(Process {
            name: path.file_name()?.to_string_lossy().into_owned(),
            parent: after.split(' ').nth(1)?.parse().ok()?,
        })
    }

    fn from_ps(pid: u32) -> Option<Process> {
        let out = std::process::Command::new("ps")
            .args(["-o", "ppid=", "-o", "comm=", "-p", &pid.to_string()])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        Process::parse_ps(&String::from_utf8_lossy(&out.stdout))
    }

    /// `ps -o ppid= -o comm=`: the parent, then the command (macOS prints its full path, which
    /// may contain spaces; Linux its first 15 characters).
    fn parse_ps(line: &str) -> Option<Process> {
        let (parent, command) = line.trim().split_once(char::is_whitespace)?;
        let command = command.trim();
        let name = command.rsplit('/').next().unwrap_or(command);
        let parent = parent.parse().ok()?;
        (!name.is_empty()).then(|| Process {
            name: name.to_string(),
            parent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_names() {
        for name in [
            "helm",
            "helm3",
            "helm4",
            "helm-3.17.3",
            "helm_v4",
            "helm.exe",
        ] {
            assert!(is_helm(name), "{name}");
        }
        for name in [
            "helmfile",
            "helm-diff",
            "helm-secrets",
            "helmsman",
            "real_helm-1a2b3c4d5e6f7a8b",
            "sh",
            "",
        ] {
            assert!(!is_helm(name), "{name}");
        }
    }

    #[test]
    fn ps_output() {
        assert_eq!(
            Process::parse_ps("  4242 /Applications/My Tools/helm\n"),
            Some(Process {
                name: "helm".into(),
                parent: 4242
            })
        );
        assert_eq!(
            Process::parse_ps("1 bash"),
            Some(Process {
                name: "bash".into(),
                parent: 1
            })
        );
        assert_eq!(Process::parse_ps(""), None);
    }

    /// Both sources agree on this test process.
    #[cfg(target_os = "linux")]
    #[test]
    fn proc_and_ps_agree() {
        let me = std::process::id();
        let from_proc = Process::from_proc(me).expect("/proc (Linux)");
        let Some(from_ps) = Process::from_ps(me) else {
            assert!(std::env::var_os("CI").is_none(), "`ps` is missing");
            eprintln!("skipped: `ps` is missing");
            return;
        };
        assert_eq!(from_proc.parent, from_ps.parent);
        // `ps` shows the kernel's 15-character comm.
        assert!(
            from_proc.name.starts_with(&from_ps.name),
            "{from_proc:?} {from_ps:?}"
        );
    }
}
