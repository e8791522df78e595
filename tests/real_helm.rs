//! Integration tests with the real Helm binaries that `scripts/install-helm.sh` pins
//! (`.tools/bin/helm4` = v4.1.4, `.tools/bin/helm3` = v3.17.3): the Helm 4 plugin installed the
//! way users install it, what Helm 4 makes of the output (HOOKS and MANIFEST, `--no-hooks`,
//! `--show-only`), the diagnostics channels Helm 4 leaves us (report file, terminal), Helm 3's
//! refusal, and the Argo CD Config Management Plugin's generate command.
//!
//! Every Helm runs with its own data, config and cache homes under `target/tmp/helm-tests/`,
//! never the user's. A missing tool (Helm, git, `script`) skips a test with a printed reason,
//! except when the `CI` environment variable is set: then it fails.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[macro_use]
mod common;

use common::helm::{
    BIN, Doc, Sandbox, assert_ok, find, helm3, helm4, on_path, parse_docs, run, stderr, stdout,
};
use common::root;

/// The blog chart's migration, as users pass it to the plugin.
const BLOG_MARK: &str = "--post-renderer-args=--container=deployment/myblog:sql-migrate";

/// What Helm 4 names the generated documents' template (the workload's file, suffixed).
const BLOG_GENERATED_SOURCE: &str = "blog/templates/deployment-migration-hook.yaml";

/// The documents under `HOOKS:` and under `MANIFEST:` of `helm install --dry-run` output.
fn install_sections(out: &str) -> (Vec<Doc>, Vec<Doc>) {
    let (_, after_hooks) = out
        .split_once("\nHOOKS:\n")
        .unwrap_or_else(|| panic!("no HOOKS: section in\n{out}"));
    let (hooks, after_manifest) = after_hooks
        .split_once("\nMANIFEST:\n")
        .unwrap_or_else(|| panic!("no MANIFEST: section in\n{out}"));
    let manifest = after_manifest
        .split_once("\nNOTES:\n")
        .map_or(after_manifest, |(m, _)| m);
    (parse_docs(hooks), parse_docs(manifest))
}

/// The order in which Helm runs the hooks of `event`: weight, then name (`docs/helm-facts.md` §4).
fn run_order<'d>(hooks: &'d [Doc], event: &str) -> Vec<&'d Doc> {
    let mut these: Vec<&Doc> = hooks
        .iter()
        .filter(|h| h.hook_events().contains(&event))
        .collect();
    these.sort_by(|a, b| (a.hook_weight(), a.name()).cmp(&(b.hook_weight(), b.name())));
    these
}

/// Quotes for `sh`.
fn sh_quote(word: &OsStr) -> String {
    format!("'{}'", word.to_string_lossy().replace('\'', r"'\''"))
}

#[test]
fn plugin_yaml_version_is_cargos() {
    let text = std::fs::read_to_string(root().join("plugin.yaml")).unwrap();
    let plugin = migration_hook::testing::yaml::parse(&text).unwrap();
    assert_eq!(
        plugin["version"].as_str(),
        Some(env!("CARGO_PKG_VERSION")),
        "plugin.yaml's version must be Cargo.toml's"
    );
    assert_eq!(plugin["name"], "migration-hook");
    assert_eq!(plugin["type"], "postrenderer/v1");
}

/// The whole story of a fresh clone: `helm plugin install <checkout>` runs the install hook,
/// which builds the binary with cargo; then the plugin works as a post-renderer.
/// (The build goes to a cache under target/tmp through CARGO_TARGET_DIR, which the hook honours,
/// so that only the first run pays for compiling the dependencies.)
#[test]
fn plugin_install_builds_the_binary_in_a_fresh_checkout() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("plugin-install-builds");
    let checkout = need!(sb.checkout());
    assert!(!checkout.join("bin/migration-hook").exists());
    let mut path = std::ffi::OsString::new();
    if let Some(cargo_dir) = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .and_then(|c| c.parent().map(Path::to_path_buf))
    {
        path.push(cargo_dir);
        path.push(":");
    }
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let out = run(sb
        .command(&helm4)
        .args(["plugin", "install"])
        .arg(&checkout)
        .env("PATH", path)
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("plugin-build"),
        ));
    assert_ok(&out, "helm plugin install");
    let said = stdout(&out);
    assert!(
        said.contains("building migration-hook with cargo"),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "installed migration-hook {}",
            env!("CARGO_PKG_VERSION")
        )),
        "{said}"
    );
    assert!(checkout.join("bin/migration-hook").is_file());

    let listed = stdout(&run(sb.command(&helm4).args(["plugin", "list"])));
    let row = listed
        .lines()
        .find(|l| l.starts_with("migration-hook"))
        .unwrap_or_else(|| panic!("not listed:\n{listed}"));
    assert!(
        row.contains(env!("CARGO_PKG_VERSION")) && row.contains("postrenderer/v1"),
        "{row}"
    );

    let out = run(sb.command(&helm4).args([
        "template",
        "myblog",
        "testdata/charts/blog",
        "--post-renderer",
        "migration-hook",
        BLOG_MARK,
    ]));
    assert_ok(&out, "helm template with the freshly built plugin");
    let docs = parse_docs(&stdout(&out));
    let job = find(&docs, "Job", "myblog-migration");
    assert_eq!(job.pod_containers("containers"), ["sql-migrate"]);
}

/// Without cargo and without a built binary, the install hook fails and says what to do.
#[test]
fn plugin_install_without_cargo_says_what_to_do() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("plugin-install-no-cargo");
    let checkout = need!(sb.checkout());
    // A PATH with what the install hook needs, and no cargo.
    let tools = sb.path("tools");
    std::fs::create_dir_all(&tools).unwrap();
    for tool in ["sh", "sed", "find", "head", "dirname", "cp", "mv", "mkdir"] {
        let found = need!(on_path(tool));
        std::os::unix::fs::symlink(found, tools.join(tool)).unwrap();
    }
    let out = run(sb
        .command(&helm4)
        .args(["plugin", "install"])
        .arg(&checkout)
        .env("PATH", &tools));
    assert!(!out.status.success(), "{out:?}");
    let said = stderr(&out);
    assert!(
        said.contains("cargo is not installed, so migration-hook cannot be built")
            && said.contains("https://rustup.rs")
            && said.contains("helm plugin uninstall migration-hook"),
        "{said}"
    );
    assert!(
        said.contains(r#"plugin install hook for "migration-hook" exited with error"#),
        "{said}"
    );
}

/// The classic blog chart through Helm 4 with the plugin: the Job and the copies of what it
/// needs are hooks, in an order where every dependency exists before the Job; the originals
/// and the Deployment, minus the hoisted init container, are ordinary release resources.
#[test]
fn helm4_install_puts_the_job_and_copies_under_hooks() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-install-hooks");
    need!(sb.install_plugin(&helm4));
    let report = sb.path("report.txt");
    let out = run(sb.command(&helm4).args([
        "install",
        "myblog",
        "testdata/charts/blog",
        "--namespace",
        "blog",
        "--dry-run=client",
        "--post-renderer",
        "migration-hook",
        BLOG_MARK,
        &format!("--post-renderer-args=--report={}", report.display()),
    ]));
    assert_ok(&out, "helm install --dry-run=client");
    let text = stdout(&out);
    let (hooks, manifest) = install_sections(&text);

    let ids: Vec<String> = hooks.iter().map(Doc::id).collect();
    assert_eq!(
        ids,
        [
            "ServiceAccount/myblog-migration-hook",
            "Secret/myblog-migration-hook",
            "ConfigMap/myblog-sql-migrate-migration-hook",
            "Job/myblog-migration",
        ],
        "HOOKS (Helm lists them by kind)"
    );
    for hook in &hooks {
        assert_eq!(
            hook.source.as_deref(),
            Some(BLOG_GENERATED_SOURCE),
            "{}",
            hook.id()
        );
        assert_eq!(
            hook.annotation("postrenderer.helm.sh/postrender-filename"),
            None
        );
    }
    let job = find(&hooks, "Job", "myblog-migration");
    assert_eq!(job.hook_events(), ["pre-install", "pre-upgrade"]);
    // git-clone runs in the Job, before the migration it feeds.
    assert_eq!(job.pod_containers("initContainers"), ["git-clone"]);
    assert_eq!(job.pod_containers("containers"), ["sql-migrate"]);
    let spec = &job.value["spec"]["template"]["spec"];
    assert_eq!(spec["serviceAccountName"], "myblog-migration-hook");
    assert_eq!(
        spec["volumes"][1]["configMap"]["name"],
        "myblog-sql-migrate-migration-hook"
    );
    assert_eq!(
        spec["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"],
        "myblog-migration-hook"
    );
    // Nothing binds the chart's ServiceAccount by name: the Job gets a renamed copy on its own
    // events, so it has one on the first install and on every upgrade.
    let sa = find(&hooks, "ServiceAccount", "myblog-migration-hook");
    assert_eq!(sa.hook_events(), ["pre-install", "pre-upgrade"]);
    // In the order Helm runs them (weight, then name), the Job comes after everything it needs.
    for event in ["pre-install", "pre-upgrade"] {
        let order: Vec<String> = run_order(&hooks, event).iter().map(|d| d.id()).collect();
        assert_eq!(
            order.last().map(String::as_str),
            Some("Job/myblog-migration"),
            "{event}: {order:?}"
        );
        for dep in run_order(&hooks, event) {
            if dep.kind() != "Job" {
                assert!(dep.hook_weight() < job.hook_weight(), "{}", dep.id());
            }
        }
    }
    assert_eq!(
        run_order(&hooks, "pre-upgrade").len(),
        4,
        "the ServiceAccount copy at upgrade too"
    );

    let ids: Vec<String> = manifest.iter().map(Doc::id).collect();
    assert_eq!(
        ids,
        [
            "ServiceAccount/myblog",
            "Secret/myblog",
            "ConfigMap/myblog-sql-migrate",
            "Service/myblog",
            "Deployment/myblog",
        ],
        "MANIFEST (Helm's install order)"
    );
    assert!(manifest.iter().all(|d| !d.is_hook()));
    let deployment = find(&manifest, "Deployment", "myblog");
    assert_eq!(
        deployment.pod_containers("initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
    assert_eq!(deployment.pod_containers("containers"), ["blog"]);
    assert_eq!(
        deployment.source.as_deref(),
        Some("blog/templates/deployment.yaml")
    );

    // The report holds the account of the run.
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(
        report.starts_with("migration-hook: succeeded\n"),
        "{report}"
    );
    assert!(report.contains("Job \"myblog-migration\""), "{report}");
    assert!(
        report.contains("removed initContainers[1] \"sql-migrate\""),
        "{report}"
    );
}

/// A chart marked through its values alone (podAnnotations), with its own test hook.
#[test]
fn helm4_install_of_a_chart_marked_through_values() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-values-mark");
    need!(sb.install_plugin(&helm4));
    let out = run(sb.command(&helm4).args([
        "install",
        "shop",
        "testdata/charts/webapp",
        "--dry-run=client",
        "--values",
        "testdata/charts/webapp/ci/migration-hook-values.yaml",
        "--post-renderer",
        "migration-hook",
    ]));
    assert_ok(&out, "helm install --dry-run=client");
    let (hooks, manifest) = install_sections(&stdout(&out));
    let job = find(&hooks, "Job", "shop-webapp-migration");
    assert_eq!(
        job.hook_weight(),
        -5,
        "migration-hook/weight from the values"
    );
    assert_eq!(job.pod_containers("initContainers"), ["wait-for-db"]);
    assert_eq!(job.pod_containers("containers"), ["migrate"]);
    for copy in ["ConfigMap", "Secret"] {
        assert_eq!(
            find(&hooks, copy, "shop-webapp-migration-hook").hook_weight(),
            -6
        );
    }
    // The chart's own test hook is still a test hook, untouched.
    let test = find(&hooks, "Pod", "shop-webapp-test-connection");
    assert_eq!(test.hook_events(), ["test"]);
    assert_eq!(
        test.source.as_deref(),
        Some("webapp/templates/tests/test-connection.yaml")
    );

    let deployment = find(&manifest, "Deployment", "shop-webapp");
    assert_eq!(deployment.pod_containers("initContainers"), ["wait-for-db"]);
    // The marks are gone, so changing a migration setting does not roll the app's pods.
    assert!(
        deployment.value["spec"]["template"]["metadata"]
            .get("annotations")
            .is_none(),
        "{:?}",
        deployment.value["spec"]["template"]["metadata"]
    );
}

/// A main-container migration: the mark and the migration's arguments come through
/// `--post-renderer-args`, one argument each.
#[test]
fn helm4_install_of_a_main_container_migration_from_post_renderer_args() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-main-container");
    need!(sb.install_plugin(&helm4));
    let out = run(sb.command(&helm4).args([
        "install",
        "shop",
        "testdata/charts/api",
        "--dry-run=client",
        "--post-renderer",
        "migration-hook",
        "--post-renderer-args=--container=deployment/shop-api:api",
        r#"--post-renderer-args=--args=["migrate", "up"]"#,
    ]));
    assert_ok(&out, "helm install --dry-run=client");
    let (hooks, manifest) = install_sections(&stdout(&out));
    let job = find(&hooks, "Job", "shop-api-migration");
    let spec = &job.value["spec"]["template"]["spec"];
    assert_eq!(spec["containers"][0]["name"], "api");
    assert_eq!(
        spec["containers"][0]["args"],
        serde_json::json!(["migrate", "up"])
    );
    assert!(spec["containers"][0].get("livenessProbe").is_none());
    // The Cloud SQL proxy is kept as a native sidecar, so the Job can complete.
    assert_eq!(spec["initContainers"][0]["name"], "cloud-sql-proxy");
    assert_eq!(spec["initContainers"][0]["restartPolicy"], "Always");
    // The app keeps its container and its own arguments.
    let deployment = find(&manifest, "Deployment", "shop-api");
    assert_eq!(
        deployment.pod_containers("containers"),
        ["api", "cloud-sql-proxy"]
    );
    assert_eq!(
        deployment.value["spec"]["template"]["spec"]["containers"][0]["args"],
        serde_json::json!(["serve", "--port=8080"])
    );
}

/// `--no-hooks` leaves the hooks out of `helm template`: the Job and the copies are hooks.
#[test]
fn helm4_template_no_hooks_leaves_the_job_out() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-no-hooks");
    need!(sb.install_plugin(&helm4));
    let out = run(sb.command(&helm4).args([
        "template",
        "myblog",
        "testdata/charts/blog",
        "--no-hooks",
        "--post-renderer",
        "migration-hook",
        BLOG_MARK,
    ]));
    assert_ok(&out, "helm template --no-hooks");
    let docs = parse_docs(&stdout(&out));
    let ids: Vec<String> = docs.iter().map(Doc::id).collect();
    assert_eq!(
        ids,
        [
            "ServiceAccount/myblog",
            "Secret/myblog",
            "ConfigMap/myblog-sql-migrate",
            "Service/myblog",
            "Deployment/myblog",
        ]
    );
    // The post-renderer did run: the init container is gone from the Deployment.
    assert_eq!(
        find(&docs, "Deployment", "myblog").pod_containers("initContainers"),
        Vec::<String>::new(),
        "git-clone, which only fed the migration, leaves the workload too"
    );
}

/// The generated documents carry their own template name, so `--show-only` finds them, and
/// the workload's own file shows the workload alone.
#[test]
fn helm4_template_show_only_finds_the_job_by_its_source_file() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-show-only");
    need!(sb.install_plugin(&helm4));
    let show = |file: &str| {
        let out = run(sb.command(&helm4).args([
            "template",
            "myblog",
            "testdata/charts/blog",
            "--show-only",
            file,
            "--post-renderer",
            "migration-hook",
            BLOG_MARK,
        ]));
        assert_ok(&out, "helm template --show-only");
        parse_docs(&stdout(&out))
    };
    let generated = show("templates/deployment-migration-hook.yaml");
    let ids: Vec<String> = generated.iter().map(Doc::id).collect();
    assert!(ids.contains(&"Job/myblog-migration".to_string()), "{ids:?}");
    assert!(
        generated
            .iter()
            .all(|d| d.source.as_deref() == Some(BLOG_GENERATED_SOURCE) && d.is_hook()),
        "{ids:?}"
    );
    let workload = show("templates/deployment.yaml");
    let ids: Vec<String> = workload.iter().map(Doc::id).collect();
    assert_eq!(ids, ["Deployment/myblog"]);
}

/// A mark that matches nothing: Helm 4 fails and shows only "exited with error" (it discards
/// the plugin's stderr); the report file, by flag or by environment variable, has the message.
#[test]
fn helm4_failure_reaches_the_report_file() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-failure-report");
    need!(sb.install_plugin(&helm4));
    let bad_mark = "--post-renderer-args=--container=deployment/myblog:migrate";
    let expected = r#"migration-hook: error: Deployment/myblog (document 2, blog/templates/deployment.yaml): spec.template.spec: no container named "migrate"; this workload has initContainers: "git-clone", "sql-migrate"; containers: "blog""#;

    let by_flag = sb.path("by-flag.txt");
    let out = run(sb.command(&helm4).args([
        "template",
        "myblog",
        "testdata/charts/blog",
        "--post-renderer",
        "migration-hook",
        bad_mark,
        &format!("--post-renderer-args=--report={}", by_flag.display()),
    ]));
    assert!(!out.status.success());
    let helm_said = stderr(&out);
    assert!(
        helm_said.contains(r#"plugin "migration-hook" exited with error"#),
        "{helm_said}"
    );
    assert!(!helm_said.contains("no container named"), "{helm_said}");
    assert!(!stdout(&out).contains("kind:"), "{}", stdout(&out));
    let report = std::fs::read_to_string(&by_flag).unwrap();
    assert_eq!(report.lines().next(), Some(expected), "{report}");

    let by_env = sb.path("by-env.txt");
    let out = run(sb
        .command(&helm4)
        .args([
            "install",
            "myblog",
            "testdata/charts/blog",
            "--dry-run=client",
            "--post-renderer",
            "migration-hook",
            bad_mark,
        ])
        .env("MIGRATION_HOOK_REPORT", &by_env));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("INSTALLATION FAILED"),
        "{}",
        stderr(&out)
    );
    let report = std::fs::read_to_string(&by_env).unwrap();
    assert_eq!(report.lines().next(), Some(expected), "{report}");
}

/// A flag and its value typed as one `--post-renderer-args` (Helm 4 passes it as one
/// argument, which clap cannot read): before, Helm said only "exited with error" and the report
/// stayed empty. Now the usage error reaches the report file, with the arguments as received,
/// and the terminal.
#[test]
fn helm4_usage_errors_reach_the_report_file_and_the_terminal() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-usage-error");
    need!(sb.install_plugin(&helm4));
    let report = sb.path("report.txt");
    let spaced = "--post-renderer-args=--container deployment/myblog:sql-migrate";
    let out = run(sb.command(&helm4).args([
        "template",
        "myblog",
        "testdata/charts/blog",
        "--post-renderer",
        "migration-hook",
        spaced,
        &format!("--post-renderer-args=--report={}", report.display()),
    ]));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(r#"plugin "migration-hook" exited with error"#),
        "{}",
        stderr(&out)
    );
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("migration-hook: error: unexpected argument '--container deployment/myblog:sql-migrate' found\n"),
        "{text}"
    );
    assert!(
        text.contains(r#"each argument arrives as one word: write "--container=deployment/myblog:sql-migrate""#),
        "{text}"
    );

    let (ok, terminal, _) = need!(at_terminal(
        &sb,
        &helm4,
        &[
            "template",
            "myblog",
            "testdata/charts/blog",
            "--post-renderer",
            "migration-hook",
            "--post-renderer-args=--contianer=deployment/myblog:sql-migrate",
        ],
    ));
    assert!(!ok);
    assert!(
        terminal.contains("migration-hook: error: unexpected argument '--contianer' found"),
        "terminal:\n{terminal}"
    );
    assert!(
        terminal
            .contains(r#"arguments as received: ["--contianer=deployment/myblog:sql-migrate"]"#),
        "terminal:\n{terminal}"
    );
}

/// A predicted failure (a Secret only the migration reads, which the chart does not render) is
/// an error under Helm 4, whose message in the report names the setting that resolves it; with
/// that acknowledgement the install renders, and the report keeps the warning.
#[test]
fn helm4_predicted_failure_is_an_error_until_acknowledged() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-predicted-failure");
    need!(sb.install_plugin(&helm4));
    let report = sb.path("report.txt");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "template",
            "myblog",
            "testdata/charts/blog",
            "--set",
            "sqlMigrate.extraEnvFrom[0].secretRef.name=blog-ddl",
            "--post-renderer",
            "migration-hook",
            BLOG_MARK,
        ]
        .map(String::from)
        .to_vec();
        args.push(format!(
            "--post-renderer-args=--report={}",
            report.display()
        ));
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    };
    let out = run(sb.command(&helm4).args(args(&[])));
    assert!(!out.status.success());
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("migration-hook: error: Deployment/myblog (document ")
            && text.contains("uses Secret/blog-ddl (containers[0].envFrom[0].secretRef.name)")
            && text.contains("say so with migration-hook/expect-external: Secret/blog-ddl"),
        "{text}"
    );

    let out = run(sb.command(&helm4).args(args(&[
        "--post-renderer-args=--expect-external=Secret/blog-ddl",
    ])));
    assert_ok(&out, "helm template with the acknowledgement");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.starts_with("migration-hook: succeeded\n"), "{text}");
    assert!(
        text.contains("uses Secret/blog-ddl") && text.contains("it must exist before install"),
        "{text}"
    );
}

/// Runs `helm` (output redirected to files) under a pseudo-terminal with `script`, as a user at
/// a terminal would: returns what appeared on the terminal, and Helm's stderr.
fn at_terminal(sb: &Sandbox, helm: &Path, args: &[&str]) -> Option<(bool, String, String)> {
    let script = on_path("script")?;
    let helm_out = sb.path("helm.stdout");
    let helm_err = sb.path("helm.stderr");
    let mut line = sh_quote(helm.as_os_str());
    for a in args {
        line.push(' ');
        line.push_str(&sh_quote(OsStr::new(a)));
    }
    let _ = write!(
        line,
        " >{} 2>{}",
        sh_quote(helm_out.as_os_str()),
        sh_quote(helm_err.as_os_str())
    );
    // -q: no banner, -e: helm's exit status, -c: the command; the typescript is not kept.
    let out = run(sb
        .command(script)
        .args(["-q", "-e", "-c", &line, "/dev/null"]));
    let terminal = stdout(&out).replace('\r', "");
    let helm_stderr = std::fs::read_to_string(helm_err).unwrap();
    Some((out.status.success(), terminal, helm_stderr))
}

/// At a terminal, the tool's error reaches the user although Helm 4 discards its stderr; its
/// warnings too, on success.
#[test]
fn helm4_errors_and_warnings_reach_the_terminal() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-terminal");
    need!(sb.install_plugin(&helm4));
    let (ok, terminal, helm_stderr) = need!(at_terminal(
        &sb,
        &helm4,
        &[
            "template",
            "myblog",
            "testdata/charts/blog",
            "--post-renderer",
            "migration-hook",
            "--post-renderer-args=--container=deployment/myblog:migrate",
        ],
    ));
    assert!(!ok);
    assert!(
        terminal.contains(r#"migration-hook: error: Deployment/myblog (document 2, blog/templates/deployment.yaml): spec.template.spec: no container named "migrate""#),
        "terminal:\n{terminal}"
    );
    assert!(
        helm_stderr.contains(r#"plugin "migration-hook" exited with error"#)
            && !helm_stderr.contains("no container named"),
        "{helm_stderr}"
    );

    let (ok, terminal, _) = need!(at_terminal(
        &sb,
        &helm4,
        &[
            "template",
            "shop",
            "testdata/charts/api",
            "--post-renderer",
            "migration-hook",
            "--post-renderer-args=--container=deployment/shop-api:api",
            r#"--post-renderer-args=--args=["migrate"]"#,
        ],
    ));
    assert!(ok, "{terminal}");
    assert!(
        terminal.contains(r#"migration-hook: warning: the migration Job "shop-api-migration" uses Secret/api-database"#),
        "terminal:\n{terminal}"
    );
}

const HELM3_REFUSAL: &str = "Helm 3 is running migration-hook as --post-renderer. Helm 3 applies a post-renderer's output as ordinary resources";

/// Helm 3 runs the binary as `--post-renderer <path>` and would apply the hook Job as an
/// ordinary resource: the tool refuses, and Helm 3 shows why. Also through a wrapper script.
#[test]
fn helm3_post_renderer_is_refused() {
    let helm3 = need!(helm3());
    let sb = Sandbox::new("helm3-refused");
    let wrapper = sb.path("wrapper.sh");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\n{} \"$@\"\n", sh_quote(OsStr::new(BIN))),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    for renderer in [Path::new(BIN), wrapper.as_path()] {
        let out = run(sb.command(&helm3).args([
            OsStr::new("template"),
            OsStr::new("myblog"),
            OsStr::new("testdata/charts/blog"),
            OsStr::new("--post-renderer"),
            renderer.as_os_str(),
            OsStr::new(BLOG_MARK),
        ]));
        assert!(!out.status.success(), "{renderer:?}: {out:?}");
        let said = stderr(&out);
        assert!(said.contains(HELM3_REFUSAL), "{renderer:?}:\n{said}");
        assert!(
            said.contains("Use Helm 4") && said.contains("helm template … | migration-hook"),
            "{said}"
        );
        assert!(!stdout(&out).contains("kind: Job"));
    }
}

/// The generate command of examples/argocd/cmp-plugin.yaml, as Argo CD runs it.
fn argocd_generate_command() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("examples/argocd/cmp-plugin.yaml")).unwrap();
    let config_map = migration_hook::testing::yaml::parse(&text).unwrap();
    let plugin =
        migration_hook::testing::yaml::parse(config_map["data"]["plugin.yaml"].as_str().unwrap())
            .unwrap();
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let generate = &plugin["spec"]["generate"];
    let words = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| a.iter().map(|w| w.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    let mut command = words(&generate["command"]);
    command.extend(words(&generate["args"]));
    command
}

/// Runs the Argo CD generate command in a chart directory, with `helm` (the given binary) and
/// `migration-hook` first on PATH and Argo CD's build environment.
fn argocd_generate(
    sb: &Sandbox,
    helm: &Path,
    chart: &str,
    app: &str,
    env: &[(&str, &str)],
) -> Output {
    let bin = sb.path("argocd-bin");
    let _ = std::fs::create_dir_all(&bin);
    for (name, target) in [("helm", helm), ("migration-hook", Path::new(BIN))] {
        let link = bin.join(name);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(target, link).unwrap();
    }
    let mut path = bin.into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let command = argocd_generate_command();
    let mut c = sb.command(&command[0]);
    c.args(&command[1..])
        .current_dir(root().join("testdata/charts").join(chart))
        .env("PATH", path)
        .env("ARGOCD_APP_NAME", app)
        .env("ARGOCD_APP_NAMESPACE", app)
        .env("KUBE_VERSION", "1.33.0")
        .env("KUBE_API_VERSIONS", "v1,apps/v1,batch/v1,policy/v1");
    for (k, v) in env {
        c.env(k, v);
    }
    run(&mut c)
}

/// The Argo CD Config Management Plugin's generate command, on the blog chart, with Helm 4 and
/// Helm 3 (Argo CD 3.5 and 3.4 bundle them): the Job is in the stream as a hook (PreSync for
/// Argo CD), and the ServiceAccount gets a renamed copy, never a same-name hook that Argo CD
/// would delete and recreate under the app at every sync.
#[test]
fn argocd_generate_command_hoists_the_migration() {
    let helms = [need!(helm4()), need!(helm3())];
    let sb = Sandbox::new("argocd-generate");
    let mark = (
        "ARGOCD_ENV_MIGRATION_HOOK_ARGS",
        "--container deployment/blog:sql-migrate",
    );
    for helm in &helms {
        let out = argocd_generate(&sb, helm, "blog", "blog", &[mark]);
        assert_ok(&out, "the generate command");
        let docs = parse_docs(&stdout(&out));
        let job = find(&docs, "Job", "blog-migration");
        assert_eq!(job.hook_events(), ["pre-install", "pre-upgrade"]);
        assert_eq!(
            job.source.as_deref(),
            Some("blog/templates/deployment-migration-hook.yaml")
        );
        let spec = &job.value["spec"]["template"]["spec"];
        assert_eq!(spec["serviceAccountName"], "blog-migration-hook");
        let sa_copy = find(&docs, "ServiceAccount", "blog-migration-hook");
        assert!(sa_copy.hook_weight() < job.hook_weight());
        assert!(
            docs.iter()
                .filter(|d| d.kind() == "ServiceAccount" && d.name() == "blog")
                .all(|d| !d.is_hook()),
            "a same-name ServiceAccount hook"
        );
        assert_eq!(
            find(&docs, "Deployment", "blog").pod_containers("initContainers"),
            Vec::<String>::new(),
            "git-clone, which only fed the migration, leaves the workload too"
        );
        assert!(
            stderr(&out).contains(r#"runs as ServiceAccount "blog-migration-hook""#),
            "{}",
            stderr(&out)
        );
    }

    // The chart marked through values, passed as Helm arguments.
    let out = argocd_generate(
        &sb,
        &helms[0],
        "webapp",
        "shop",
        &[(
            "ARGOCD_ENV_HELM_ARGS",
            "--values ci/migration-hook-values.yaml",
        )],
    );
    assert_ok(&out, "the generate command");
    let docs = parse_docs(&stdout(&out));
    assert_eq!(
        find(&docs, "Job", "shop-webapp-migration").hook_weight(),
        -5
    );
}

/// A failing generate command fails Argo CD's manifest generation with nothing on stdout:
/// whether migration-hook fails or helm does (pipefail), never an empty "success".
#[test]
fn argocd_generate_command_fails_cleanly() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("argocd-generate-fails");
    let out = argocd_generate(
        &sb,
        &helm4,
        "blog",
        "blog",
        &[(
            "ARGOCD_ENV_MIGRATION_HOOK_ARGS",
            "--container deployment/blog:migrate",
        )],
    );
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains(r#"no container named "migrate""#),
        "{}",
        stderr(&out)
    );

    let out = argocd_generate(
        &sb,
        &helm4,
        "blog",
        "blog",
        &[("ARGOCD_ENV_HELM_ARGS", "--values no-such-values.yaml")],
    );
    assert!(!out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty());
}

/// A plain pipe after `helm template` keeps working with Helm 3: the tool's parent is the
/// shell, not Helm.
#[test]
fn helm3_template_pipe_works() {
    let helm3 = need!(helm3());
    let sb = Sandbox::new("helm3-pipe");
    let line = format!(
        "{} template myblog testdata/charts/blog | {} --container deployment/myblog:sql-migrate",
        sh_quote(helm3.as_os_str()),
        sh_quote(OsStr::new(BIN))
    );
    let out = run(sb.command("sh").args(["-c", &line]));
    assert_ok(&out, "helm3 template | migration-hook");
    let docs = parse_docs(&stdout(&out));
    let job = find(&docs, "Job", "myblog-migration");
    assert_eq!(job.source.as_deref(), Some(BLOG_GENERATED_SOURCE));
    // Outside Argo CD too, a ServiceAccount that nothing binds by name gets a renamed copy.
    assert!(
        docs.iter()
            .any(|d| d.id() == "ServiceAccount/myblog-migration-hook"
                && d.hook_events() == ["pre-install", "pre-upgrade"])
    );
}

/// Helm 4.1.4 splits a rendered line with a run of nine dashes (a comment ruler in a script)
/// as a document separator whenever a post-renderer is configured, before the post-renderer
/// runs, and fails with "wrong node kind" (docs/helm-behaviour.md). The way around it that
/// the docs give, piping `helm template` into migration-hook, works on the same chart. When a
/// new pinned Helm fixes it, the first assertion says so and the docs must follow.
#[test]
fn helm4_dash_ruler_fails_any_post_renderer_and_the_pipe_works() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-dash-ruler");
    need!(sb.install_plugin(&helm4));
    let out = run(sb.command(&helm4).args([
        "template",
        "r",
        "testdata/charts/ruler",
        "--post-renderer",
        "migration-hook",
    ]));
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr(&out).contains(
            "error merging manifests: parsing ruler/templates/configmap.yaml: wrong node kind"
        ),
        "{}",
        stderr(&out)
    );

    let line = format!(
        "{} template r testdata/charts/ruler | {}",
        sh_quote(helm4.as_os_str()),
        sh_quote(OsStr::new(BIN))
    );
    let out = run(sb.command("sh").args(["-c", &line]));
    assert_ok(&out, "helm4 template | migration-hook");
    let said = stdout(&out);
    assert!(
        said.contains("    # ---------\n    exec sql-migrate up\n"),
        "{said}"
    );
    let docs = parse_docs(&said);
    let job = find(&docs, "Job", "r-migration");
    assert_eq!(job.pod_containers("containers"), ["migrate"]);
}

/// A chart that runs its migration in a plain Job named with the release revision: marked with
/// `job/NAME` alone, the Job becomes the hook (under HOOKS, not MANIFEST: it runs once, before
/// the app), named without the revision, with its own backoffLimit, ttl and restartPolicy.
#[test]
fn helm4_install_converts_a_plain_migration_job_in_place() {
    let helm4 = need!(helm4());
    let sb = Sandbox::new("helm4-job-in-place");
    need!(sb.install_plugin(&helm4));
    let out = run(sb.command(&helm4).args([
        "install",
        "shop",
        "testdata/charts/jobmigrate",
        "--dry-run=client",
        "--post-renderer",
        "migration-hook",
        // The name without the revision marks it on every release.
        "--post-renderer-args=--container=job/shop-migrate",
    ]));
    assert_ok(&out, "helm install --dry-run=client");
    let (hooks, manifest) = install_sections(&stdout(&out));
    let ids: Vec<String> = manifest.iter().map(Doc::id).collect();
    assert_eq!(
        ids,
        ["Deployment/shop"],
        "the Job is not a release resource"
    );
    assert_eq!(hooks.len(), 1, "one Job: {hooks:?}");
    let job = find(&hooks, "Job", "shop-migrate");
    assert_eq!(job.hook_events(), ["pre-install", "pre-upgrade"]);
    assert_eq!(
        job.source.as_deref(),
        Some("jobmigrate/templates/migrate-job.yaml"),
        "it keeps its own template file"
    );
    assert_eq!(job.value["spec"]["backoffLimit"], 2);
    assert_eq!(job.value["spec"]["ttlSecondsAfterFinished"], 3600);
    assert_eq!(
        job.value["spec"]["template"]["spec"]["restartPolicy"],
        "OnFailure"
    );
    assert_eq!(
        job.value["metadata"]["labels"]["app.kubernetes.io/name"],
        "jobmigrate"
    );
}
