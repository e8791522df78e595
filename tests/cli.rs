//! The real binary: exit codes, stdout only on success, one-line messages on stderr, the
//! report file, `explain`, a reader that stops early.

mod common;

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_migration-hook");

fn run(args: &[&str], stdin: &[u8]) -> Output {
    common::pipe(
        Command::new(BIN)
            .args(args)
            .env_remove("MIGRATION_HOOK_REPORT")
            .env_remove("HELM_PLUGIN_NAME"),
        stdin,
    )
}

fn case(name: &str) -> Vec<u8> {
    common::read_case(&common::root().join("testdata/cases").join(name)).input
}

/// What a user sees, as one text for a snapshot.
fn transcript(out: &Output) -> String {
    format!(
        "exit code: {:?}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn success_writes_the_stream_and_warnings_go_to_stderr() {
    let out = run(&[], &case("deps-external-secret.yaml"));
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("kind: Job"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("migration-hook: warning: the migration Job \"app-migration\" uses Secret/app-db-credentials"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line per diagnostic: {stderr}"
    );
}

#[test]
fn bad_input_exits_1_with_nothing_on_stdout() {
    let out = run(&[], &case("no-such-container.error.yaml"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out));
}

#[test]
fn bad_flags_exit_2() {
    let out = run(&["--weight", "heavy"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    insta::assert_snapshot!(transcript(&out));
    let out = run(&["--container", "service/web:x"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"service\" is not a workload kind"));
    let out = run(&["--no-such-flag"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unreadable_config_file_is_a_usage_error() {
    let out = run(&["--config", "/nonexistent/migrations.yaml"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with(
        "migration-hook: error: --config /nonexistent/migrations.yaml: cannot read it"
    ));
}

#[test]
fn nothing_marked_is_byte_identical_and_silent() {
    let input = std::fs::read(common::root().join("testdata/corpus/sentry/rendered.yaml")).unwrap();
    let out = run(&[], &input);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == input);
    assert!(out.stderr.is_empty());
}

/// Nothing marked, but an init container that runs a migration: the stream passes through
/// unchanged, and a warning says so (a forgotten or misspelt mark is never silent).
#[test]
fn nothing_marked_next_to_a_migration_is_said() {
    let input = case("nothing-marked.yaml");
    let out = run(&[], &input);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == input);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "migration-hook: warning: nothing is marked, so the stream passes through unchanged, but this looks like a migration: Deployment/plain container \"migrate\" (runs \"migrate\"); `migration-hook explain` shows how to mark it\n"
    );
}

#[test]
fn empty_input_gives_empty_output() {
    let out = run(&[], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn reads_a_file_argument() {
    let path = common::root().join("testdata/corpus/app-template-rails/rendered.yaml");
    let from_file = run(
        &[
            "--container",
            "deploy/storefront-web:migrate",
            path.to_str().unwrap(),
        ],
        b"",
    );
    let from_stdin = run(
        &["--container", "deploy/storefront-web:migrate"],
        &std::fs::read(&path).unwrap(),
    );
    assert_eq!(from_file.status.code(), Some(0));
    assert_eq!(from_file.stdout, from_stdin.stdout);
    let missing = run(&["/nonexistent/rendered.yaml"], b"");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("reading /nonexistent/rendered.yaml")
    );
}

#[test]
fn explain_prints_the_account_instead_of_the_manifests() {
    let out = run(&["explain"], &case("init-git-clone-sql-migrate.yaml"));
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Job \"blog-migration\"\n"), "{stdout}");
    assert!(!stdout.contains("apiVersion"));
}

#[test]
fn the_report_file_is_written_on_success_and_on_failure() {
    let dir = std::env::temp_dir().join(format!("migration-hook-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let ok = run(
        &["--report", report.to_str().unwrap()],
        &case("deps-external-secret.yaml"),
    );
    assert_eq!(ok.status.code(), Some(0));
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("migration-hook: succeeded\nJob \"app-migration\""),
        "{text}"
    );
    assert!(
        text.contains(
            "warning: the migration Job \"app-migration\" uses Secret/app-db-credentials"
        )
    );

    let failed = Command::new(BIN)
        .env("MIGRATION_HOOK_REPORT", &report)
        .arg(common::root().join("testdata/cases/unknown-key.error.yaml"))
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(1));
    assert!(failed.stdout.is_empty());
    let text = std::fs::read_to_string(&report).unwrap();
    // Read as a file, the case's header comment is a document of its own.
    assert!(
        text.starts_with("migration-hook: error: Deployment/app (document 2"),
        "{text}"
    );
    assert!(text.contains("did you mean \"migration-hook/weight\""));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // 20 MB of output, and a reader that takes one byte and goes away.
    let mut input = Vec::new();
    for i in 0..40_000 {
        input.extend_from_slice(format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: \"{}\"\n", "x".repeat(450)).as_bytes());
    }
    let mut child = Command::new(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    writer.join().unwrap().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn help_lists_every_override() {
    let out = run(&["--help"], b"");
    assert_eq!(out.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn explain_says_warnings_once() {
    let out = run(&["explain"], &case("deps-external-secret.yaml"));
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning: the migration Job"));
    assert!(out.stderr.is_empty());
}

/// `explain` may come after the flags as well as before them; `version` is `--version`.
#[test]
fn explain_and_version_read_like_other_clis() {
    let out = run(
        &["--container", "deployment/blog:sql-migrate", "explain"],
        &case("init-git-clone-sql-migrate.yaml"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", transcript(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Job \"blog-migration\"\n"));

    let out = run(&["version"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("migration-hook {}\n", env!("CARGO_PKG_VERSION"))
    );
}

/// A misspelt subcommand, a misspelt flag, a flag and its value in one argument, a negative
/// number and an empty override: each says what is wrong, with the arguments as received.
#[test]
fn usage_mistakes_say_what_was_meant() {
    let out = run(&["explian", "chart.yaml"], b"");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("misspelt_subcommand", transcript(&out));

    let out = run(&["--contianer=deployment/web:migrate"], b"");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("misspelt_flag", transcript(&out));

    let out = run(&["--container deployment/web:migrate"], b"");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("flag_and_value_in_one_argument", transcript(&out));

    let out = run(&["--backoff-limit", "-1"], b"");
    assert_eq!(out.status.code(), Some(2));
    insta::assert_snapshot!("negative_backoff_limit", transcript(&out));

    for flag in ["--command", "--args"] {
        let out = run(&[flag, "[]"], b"");
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("{flag}: an empty list is not an override")),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// An argument clap cannot read is reported like every other error: in the report file too
/// (Helm 4 hides stderr), with the arguments exactly as received.
#[test]
fn usage_errors_reach_the_report_file() {
    let dir = std::env::temp_dir().join(format!("migration-hook-usage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("report.txt");
    let by_flag = format!("--report={}", report.display());
    let out = run(&["--container deployment/web:migrate", &by_flag], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with(
            "migration-hook: error: unexpected argument '--container deployment/web:migrate' found\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  arguments as received: [\"--container deployment/web:migrate\", {by_flag:?}]"
        )),
        "{text}"
    );

    std::fs::remove_file(&report).unwrap();
    let out = common::pipe(
        Command::new(BIN)
            .arg("--bogus")
            .env("MIGRATION_HOOK_REPORT", &report)
            .env_remove("HELM_PLUGIN_NAME"),
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.starts_with("migration-hook: error: unexpected argument '--bogus' found"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Run again on its own output with the same flag, it says the migration seems already hoisted.
#[test]
fn a_second_run_says_the_migration_is_already_hoisted() {
    let first = run(
        &["--container", "deployment/blog:sql-migrate"],
        &case("init-git-clone-sql-migrate.yaml"),
    );
    assert_eq!(first.status.code(), Some(0));
    let second = run(
        &["--container", "deployment/blog:sql-migrate"],
        &first.stdout,
    );
    assert_eq!(second.status.code(), Some(1));
    assert!(second.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("no container named \"sql-migrate\"")
            && stderr.contains("; the stream already has the hook Job/blog-migration (document ")
            && stderr.contains("running \"sql-migrate\": the migration seems already hoisted"),
        "{stderr}"
    );
}

/// Run at a terminal with nothing piped in, it says what it expects instead of waiting.
#[test]
fn a_terminal_on_stdin_gets_a_hint() {
    let Some(script) = common::helm::on_path("script") else {
        return;
    };
    let out = Command::new(script)
        .args(["-q", "-e", "-c", BIN, "/dev/null"])
        .env_remove("HELM_PLUGIN_NAME")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let terminal = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(
        terminal.contains("migration-hook: error: no input: stdin is a terminal."),
        "{terminal}"
    );
}
