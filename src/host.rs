//! Who is running us, from the process's surroundings: Helm 4 (as a plugin), Helm 3 (as
//! `--post-renderer <path>`), or something else (a pipe after `helm template`). This is the
//! one module that looks at the environment and `/proc`; `main` passes the answer on.

use std::path::Path;

/// What the process's surroundings say.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Host {
    /// `HELM_PLUGIN_NAME` is set: Helm 4 runs us as a plugin (Helm 3 never sets it for a
    /// post-renderer).
    pub helm_plugin: bool,
    /// A `helm` process is our parent (possibly through a wrapper shell script).
    pub helm_parent: bool,
}

/// Shells and launchers a wrapper script might run us through.
const WRAPPERS: &[&str] = &["sh", "bash", "dash", "zsh", "ash", "ksh", "busybox", "env"];

impl Host {
    pub fn detect() -> Host {
        Host {
            helm_plugin: std::env::var_os("HELM_PLUGIN_NAME").is_some(),
            helm_parent: helm_ancestor(),
        }
    }
}

/// Walks up from the parent through wrapper shells; true if it reaches a `helm` executable.
/// Linux only (it reads `/proc`); elsewhere it says no.
fn helm_ancestor() -> bool {
    let mut pid = std::os::unix::process::parent_id();
    for _ in 0..4 {
        let Some(name) = process_name(pid) else {
            return false;
        };
        if name.starts_with("helm") {
            return true;
        }
        if !WRAPPERS.contains(&name.as_str()) {
            return false;
        }
        match parent_of(pid) {
            Some(parent) if parent > 1 => pid = parent,
            _ => return false,
        }
    }
    false
}

/// The executable's file name (`/proc/PID/exe`), or argv[0]'s when that cannot be read.
fn process_name(pid: u32) -> Option<String> {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    let path = match exe {
        Some(p) => p,
        None => {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let argv0 = cmdline.split(|b| *b == 0).next()?;
            Path::new(&String::from_utf8_lossy(argv0).into_owned()).to_path_buf()
        }
    };
    Some(path.file_name()?.to_string_lossy().into_owned())
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may contain spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 2..];
    after.split(' ').nth(1)?.parse().ok()
}
