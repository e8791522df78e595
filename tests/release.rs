//! The release packaging (`scripts/release.sh`): the Helm 4 plugin tarball's layout and
//! checksum, and the tarball installed with the pinned Helm 4 (`.tools/bin/helm4`, from
//! `scripts/install-helm.sh`) on a machine without cargo, its prebuilt binary then running as
//! the post-renderer. The tarball is made for this machine from the binary cargo built for these
//! tests (`scripts/release.sh --binary`), so nothing is compiled again.
//!
//! Everything runs under `target/tmp/release-tests/`, with Helm homes of its own. A missing tool
//! skips a test with a printed reason, except when the `CI` environment variable is set: then
//! it fails.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

#[macro_use]
mod common;

use common::helm::{Sandbox, assert_ok, on_path, require, run, stderr, stdout};
use common::root;

/// The binary under test, as cargo built it for these tests.
const BIN: &str = env!("CARGO_BIN_EXE_migration-hook");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// This machine as the packages name it: `<os>-<arch>`, Go's names (as scripts/release.sh and
/// scripts/plugin-install.sh spell them).
fn host_platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        arch => arch,
    };
    format!("{os}-{arch}")
}

fn package_name() -> String {
    format!("migration-hook-{VERSION}-{}", host_platform())
}

/// `scripts/release.sh --binary <the test binary> --out <out>`.
fn package(out: &Path) -> Option<PathBuf> {
    for tool in ["bash", "tar", "gzip", "sha256sum"] {
        on_path(tool)?;
    }
    let out_dir = out.to_path_buf();
    let result = run(Command::new(root().join("scripts/release.sh"))
        .arg("--binary")
        .arg(BIN)
        .arg("--out")
        .arg(&out_dir)
        .current_dir(root())
        .stdin(Stdio::null()));
    assert_ok(&result, "scripts/release.sh --binary");
    Some(out_dir)
}

/// The package for this machine, made once for all the tests of this file (packing the debug
/// test binary takes seconds). Returns the tarball.
fn shared_tarball() -> Option<PathBuf> {
    static DIST: OnceLock<Option<PathBuf>> = OnceLock::new();
    let dist = DIST.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("release-tests/dist");
        let _ = std::fs::remove_dir_all(&dir);
        package(&dir)
    });
    dist.as_ref()
        .map(|d| d.join(format!("{}.tar.gz", package_name())))
}

/// `scripts/release.sh --binary <the test binary> --out <the sandbox>/<dir>`: the tarball for
/// this machine. Returns the output directory.
fn package_into(sb: &Sandbox, dir: &str) -> Option<PathBuf> {
    package(&sb.path(dir))
}

/// Unpacks the tarball into `unpacked/`; returns the plugin directory in it.
fn unpack(sb: &Sandbox, tarball: &Path) -> PathBuf {
    let into = sb.path("unpacked");
    std::fs::create_dir_all(&into).unwrap();
    let out = run(Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(&into));
    assert_ok(&out, "tar -xzf");
    into.join("migration-hook")
}

/// A directory of links to the given programs, to serve as a PATH without cargo.
fn tools(sb: &Sandbox, programs: &[&str]) -> Option<PathBuf> {
    let tools = sb.path("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for program in programs {
        let found = on_path(program)?;
        let link = tools.join(program);
        if !link.exists() {
            std::os::unix::fs::symlink(found, link).unwrap();
        }
    }
    Some(tools)
}

/// What the install hook runs, and nothing else (no cargo).
const HOOK_TOOLS: &[&str] = &[
    "sh", "sed", "uname", "find", "head", "dirname", "cp", "mv", "mkdir", "chmod",
];

fn sha256_of(file: &Path) -> String {
    let out = run(Command::new("sha256sum").arg(file));
    assert_ok(&out, "sha256sum");
    stdout(&out).split_whitespace().next().unwrap().to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The tarball has one top directory, `migration-hook/`, holding exactly the plugin's files
/// with the right modes, the binary as given and the platform it is for; its checksum file
/// and SHA256SUMS match it; and packaging again gives the same bytes.
#[test]
fn release_tarball_has_the_plugin_layout_and_its_checksum() {
    let sb = Sandbox::new("release-layout");
    let tarball = need!(shared_tarball());
    let dist = tarball.parent().unwrap().to_path_buf();
    let name = package_name();
    assert!(tarball.is_file(), "no {}", tarball.display());

    // The entries and their modes, as tar lists them.
    let listed = run(Command::new("tar").arg("-tvzf").arg(&tarball));
    assert_ok(&listed, "tar -tvzf");
    let mut entries: Vec<(String, String)> = stdout(&listed)
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (
                fields.last().unwrap().trim_end_matches('/').to_string(),
                fields[0].to_string(),
            )
        })
        .collect();
    entries.sort();
    let expected = [
        ("migration-hook", "drwxr-xr-x"),
        ("migration-hook/LICENSE", "-rw-r--r--"),
        ("migration-hook/README.md", "-rw-r--r--"),
        ("migration-hook/bin", "drwxr-xr-x"),
        ("migration-hook/bin/PLATFORM", "-rw-r--r--"),
        ("migration-hook/bin/migration-hook", "-rwxr-xr-x"),
        ("migration-hook/plugin.yaml", "-rw-r--r--"),
        ("migration-hook/scripts", "drwxr-xr-x"),
        ("migration-hook/scripts/plugin-install.sh", "-rwxr-xr-x"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(entries, expected);

    // The contents.
    let plugin = unpack(&sb, &tarball);
    assert_eq!(
        std::fs::read(plugin.join("bin/migration-hook")).unwrap(),
        std::fs::read(BIN).unwrap()
    );
    for file in [
        "plugin.yaml",
        "LICENSE",
        "README.md",
        "scripts/plugin-install.sh",
    ] {
        assert_eq!(
            std::fs::read(plugin.join(file)).unwrap(),
            std::fs::read(root().join(file)).unwrap(),
            "{file}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(plugin.join("bin/PLATFORM")).unwrap(),
        format!("{}\n", host_platform())
    );
    assert_eq!(mode(&plugin.join("bin/migration-hook")), 0o755);
    assert_eq!(mode(&plugin.join("scripts/plugin-install.sh")), 0o755);

    // The checksums, in `sha256sum -c` format.
    let line = format!("{}  {name}.tar.gz\n", sha256_of(&tarball));
    assert_eq!(
        std::fs::read_to_string(dist.join(format!("{name}.tar.gz.sha256"))).unwrap(),
        line
    );
    assert_eq!(
        std::fs::read_to_string(dist.join("SHA256SUMS")).unwrap(),
        line
    );
    let check = run(Command::new("sha256sum")
        .args(["-c", "SHA256SUMS"])
        .current_dir(&dist));
    assert_ok(&check, "sha256sum -c SHA256SUMS");

    // Reproducible with GNU tar: the same input gives the same tarball.
    let gnu_tar = stdout(&run(Command::new("tar").arg("--version"))).contains("GNU tar");
    if gnu_tar {
        let again = need!(package_into(&sb, "again")).join(format!("{name}.tar.gz"));
        assert!(
            std::fs::read(again).unwrap() == std::fs::read(&tarball).unwrap(),
            "not reproducible"
        );
    }
}

/// `helm template` of the blog chart through the installed plugin: the Job is there.
fn render_blog_through_the_plugin(sb: &Sandbox, helm4: &Path, path: &Path) {
    let out = run(sb
        .command(helm4)
        .args([
            "template",
            "myblog",
            "testdata/charts/blog",
            "--post-renderer",
            "migration-hook",
            "--post-renderer-args=--container=deployment/myblog:sql-migrate",
        ])
        .env("PATH", path));
    assert_ok(&out, "helm template through the installed plugin");
    let rendered = stdout(&out);
    let job = rendered
        .split("\n---\n")
        .map(|doc| migration_hook::testing::yaml::parse(doc).unwrap())
        .find(|doc| doc["kind"] == "Job" && doc["metadata"]["name"] == "myblog-migration")
        .unwrap_or_else(|| panic!("no Job/myblog-migration in\n{rendered}"));
    assert_eq!(
        job["spec"]["template"]["spec"]["containers"][0]["name"],
        "sql-migrate"
    );
    assert_eq!(
        job["metadata"]["annotations"]["helm.sh/hook"],
        "pre-install,pre-upgrade"
    );
}

/// The user's path without Rust: unpack the tarball, `helm plugin install` the directory with
/// no cargo on PATH; the install hook takes the prebuilt binary, and `helm template` runs it as
/// the post-renderer on the blog chart. Then the same from the tarball itself, which Helm 4
/// installs only with `--verify=false` (the packages are not signed).
#[test]
fn release_tarball_installs_with_helm4_without_cargo() {
    let helm4 = need!(require(
        root().join(".tools/bin/helm4"),
        "run scripts/install-helm.sh"
    ));
    let sb = Sandbox::new("release-helm4-install");
    let tarball = need!(shared_tarball());
    let plugin = unpack(&sb, &tarball);
    let tools = need!(tools(&sb, HOOK_TOOLS));
    let installed = |out: &Output| {
        assert_ok(out, "helm plugin install");
        let said = stdout(out);
        assert!(
            said.contains(&format!(
                "using the prebuilt binary for {}",
                host_platform()
            )) && said.contains(&format!("installed migration-hook {VERSION}"))
                && said.contains("Installed plugin: migration-hook"),
            "{said}"
        );
        assert!(!said.contains("cargo"), "{said}");
    };

    let out = run(sb
        .command(&helm4)
        .args(["plugin", "install"])
        .arg(&plugin)
        .env("PATH", &tools));
    installed(&out);
    render_blog_through_the_plugin(&sb, &helm4, &tools);

    let out = run(sb
        .command(&helm4)
        .args(["plugin", "uninstall", "migration-hook"]));
    assert_ok(&out, "helm plugin uninstall");
    let out = run(sb
        .command(&helm4)
        .args(["plugin", "install"])
        .arg(&tarball)
        .env("PATH", &tools));
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("no provenance file (.prov) found"),
        "{}",
        stderr(&out)
    );
    let out = run(sb
        .command(&helm4)
        .args(["plugin", "install", "--verify=false"])
        .arg(&tarball)
        .env("PATH", &tools));
    installed(&out);
    render_blog_through_the_plugin(&sb, &helm4, &tools);
}

/// Runs the install hook by hand, as in an unpacked package, with no cargo on PATH.
fn run_install_hook(sb: &Sandbox, plugin: &Path) -> Option<Output> {
    let tools = tools(sb, HOOK_TOOLS)?;
    Some(run(sb
        .command(plugin.join("scripts/plugin-install.sh"))
        .env("HELM_PLUGIN_DIR", plugin)
        .env("PATH", tools)))
}

/// A package for another platform is refused with what to download instead, not run.
#[test]
fn release_tarball_for_another_platform_is_refused() {
    let sb = Sandbox::new("release-other-platform");
    let plugin = unpack(&sb, &need!(shared_tarball()));
    std::fs::write(plugin.join("bin/PLATFORM"), "plan9-mips\n").unwrap();
    let out = need!(run_install_hook(&sb, &plugin));
    assert!(!out.status.success(), "{out:?}");
    let said = stderr(&out);
    assert!(
        said.contains(&format!(
            "this plugin package is built for plan9-mips, but this machine is {}. Download the migration-hook {VERSION} package for {}",
            host_platform(),
            host_platform()
        )) && said.contains("helm plugin uninstall migration-hook"),
        "{said}"
    );
}

/// A directory holding one binary per platform (`bin/<os>-<arch>/migration-hook`): the hook
/// puts this machine's where plugin.yaml runs it.
#[test]
fn multi_platform_plugin_directory_uses_this_machines_binary() {
    let sb = Sandbox::new("release-multi-platform");
    let plugin = sb.path("migration-hook");
    for dir in [
        "scripts".to_string(),
        format!("bin/{}", host_platform()),
        "bin/plan9-mips".to_string(),
    ] {
        std::fs::create_dir_all(plugin.join(dir)).unwrap();
    }
    for file in ["plugin.yaml", "scripts/plugin-install.sh"] {
        std::fs::copy(root().join(file), plugin.join(file)).unwrap();
    }
    std::fs::copy(
        BIN,
        plugin.join(format!("bin/{}/migration-hook", host_platform())),
    )
    .unwrap();
    std::fs::write(plugin.join("bin/plan9-mips/migration-hook"), "not this one").unwrap();

    let out = need!(run_install_hook(&sb, &plugin));
    assert_ok(&out, "the install hook");
    assert!(
        stdout(&out).contains(&format!(
            "using the prebuilt binary for {0} (bin/{0}/migration-hook)",
            host_platform()
        )),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read(plugin.join("bin/migration-hook")).unwrap(),
        std::fs::read(BIN).unwrap()
    );
    assert_eq!(mode(&plugin.join("bin/migration-hook")), 0o755);
}

/// A target that cannot be built here is skipped with the reason, and with nothing packaged the
/// script fails; an unknown target is an error. (On Linux: macOS binaries need a macOS host.)
#[test]
fn release_script_says_why_it_skips_a_target() {
    if std::env::consts::OS == "macos" {
        return;
    }
    let sb = Sandbox::new("release-skip");
    let release = || sb.command(root().join("scripts/release.sh"));
    let out = run(release()
        .args(["--target", "aarch64-apple-darwin", "--out"])
        .arg(sb.path("dist")));
    assert!(!out.status.success(), "{out:?}");
    let said = stderr(&out);
    assert!(
        said.contains(
            "skipping aarch64-apple-darwin (darwin-arm64): macOS binaries need a macOS host"
        ) && said.contains("nothing was packaged"),
        "{said}"
    );

    let out = run(release()
        .args(["--target", "riscv64gc-unknown-linux-gnu", "--out"])
        .arg(sb.path("dist")));
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains("unknown target riscv64gc-unknown-linux-gnu"),
        "{}",
        stderr(&out)
    );
}
