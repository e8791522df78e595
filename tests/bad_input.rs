//! The bad-input matrix: malformed and hostile inputs run through the real binary, with what
//! the user sees (exit code, whether stdout is empty, stderr) snapshotted. Every input in
//! `testdata/bad-input/` must fail: exit 1 (2 for bad flags), nothing on stdout, one error line
//! naming the document (or the flag) and the field, and never the Secret sentinel
//! `SENTINEL` that the Secrets in these inputs carry. The monsters (100 MB of one scalar,
//! 100,000 tiny documents, 100,000-deep nesting, invalid UTF-8 and NUL bytes in a Secret)
//! are generated here rather than committed; a few of them must pass through instead, as
//! `docs/design.md` §10 allows for documents the plan never reads.

mod common;

use std::path::Path;
use std::process::Command;

use migration_hook::testing::stream;

/// The Secret data that must never appear in a message.
const SENTINEL: &str = "SENTINEL";

struct Outcome {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(args: &[String], dir: &Path, input: &[u8]) -> Outcome {
    let output = common::pipe(
        Command::new(env!("CARGO_BIN_EXE_migration-hook"))
            .args(args)
            .current_dir(dir)
            .env_remove("MIGRATION_HOOK_REPORT"),
        input,
    );
    let stderr = String::from_utf8(output.stderr).expect("messages are UTF-8");
    Outcome {
        code: output
            .status
            .code()
            .unwrap_or_else(|| panic!("killed by a signal: {stderr}")),
        stdout: output.stdout,
        stderr,
    }
}

/// What a failing run showed, for the snapshot, after checking the rules every failure obeys.
fn failure(name: &str, outcome: &Outcome) -> String {
    assert!(
        outcome.code == 1 || outcome.code == 2,
        "{name}: exit {} (stderr: {})",
        outcome.code,
        outcome.stderr
    );
    assert!(
        outcome.stdout.is_empty(),
        "{name}: {} bytes on stdout after a failure",
        outcome.stdout.len()
    );
    let lines: Vec<&str> = outcome.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{name}: one error line: {}", outcome.stderr);
    let line = lines[0];
    assert!(
        line.starts_with("migration-hook: error: "),
        "{name}: {line}"
    );
    // Where: a document (its position, and kind/name when known) or the flag at fault.
    assert!(
        line.contains("(document ") || line.contains("--container ") || line.contains("--config "),
        "{name}: the message names no document and no flag: {line}"
    );
    assert!(
        !line.contains(SENTINEL),
        "{name}: the message shows a Secret's data: {line}"
    );
    format!(
        "exit code: {}\nstdout: empty\nstderr:\n{}",
        outcome.code, outcome.stderr
    )
}

/// What a successful run showed: the documents in and out, and any warnings.
fn success(name: &str, input: &[u8], outcome: &Outcome) -> String {
    assert_eq!(outcome.code, 0, "{name}: {}", outcome.stderr);
    assert!(
        !outcome.stderr.contains(SENTINEL),
        "{name}: {}",
        outcome.stderr
    );
    let before = stream::split(input);
    let after = stream::split(&outcome.stdout);
    let unchanged = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| input[b.range()] == outcome.stdout[a.range()])
        .count();
    format!(
        "exit code: 0\nstdout: {} bytes; {} input documents, {unchanged} of them byte for byte, then {} new\nstderr:\n{}",
        outcome.stdout.len(),
        before.len(),
        after.len().saturating_sub(before.len()),
        outcome.stderr
    )
}

#[test]
fn bad_inputs_fail_cleanly() {
    let mut count = 0;
    insta::glob!("../testdata/bad-input", "*.yaml", |path| {
        let case = common::read_case(path);
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let outcome = run(&case.args, path.parent().unwrap(), &case.input);
        let mut description = case.description.clone();
        if !case.args.is_empty() {
            description.push_str(&format!("\nargs: {}", case.args.join(" ")));
        }
        insta::with_settings!({description => description, omit_expression => true}, {
            insta::assert_snapshot!(failure(&name, &outcome));
        });
        count += 1;
    });
    assert!(count >= 25, "only {count} bad inputs");
}

/// A marked Deployment, as the generated cases' anchor.
fn marked_deployment(env_value: &str) -> String {
    format!(
        "---
# Source: app/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  selector:
    matchLabels:
      app: app
  template:
    metadata:
      labels:
        app: app
      annotations:
        migration-hook/container: migrate
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/example/app:1.0
          command: [\"app\", \"migrate\"]
          env:
            - name: BIG
              value: {env_value}
      containers:
        - name: app
          image: ghcr.io/example/app:1.0
"
    )
}

fn secret(data: &[u8]) -> Vec<u8> {
    let mut doc = b"---\n# Source: app/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: app-db\n  annotations:\n    migration-hook/container: migrate\nstringData:\n  password: ".to_vec();
    doc.extend_from_slice(data);
    doc.extend_from_slice(b"\n");
    doc
}

fn snapshot(name: &str, description: &str, text: String) {
    insta::with_settings!({description => description, omit_expression => true}, {
        insta::assert_snapshot!(name, text);
    });
}

const HUNDRED_MB: usize = 100 << 20;

/// The 100 MB tests take turns: each holds a few copies of its input.
static BIG: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_100_mb_scalar_in_a_marked_workload_stops_at_a_limit() {
    let _turn = BIG.lock().unwrap_or_else(|e| e.into_inner());
    let input = marked_deployment(&"x".repeat(HUNDRED_MB));
    let outcome = run(&[], &common::root(), input.as_bytes());
    snapshot(
        "huge-scalar-marked",
        "100 MB of one scalar in the marked workload: the parser's 64 MiB scalar limit stops it",
        failure("huge scalar (marked)", &outcome),
    );
}

#[test]
fn a_100_mb_scalar_in_an_unread_document_passes_through() {
    let _turn = BIG.lock().unwrap_or_else(|e| e.into_inner());
    // The ConfigMap is never read by the plan: it is copied as bytes (`docs/design.md` §10), and
    // the API server's own size limit will refuse it.
    let mut input = format!(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  big: {}\n",
        "x".repeat(HUNDRED_MB)
    );
    input.push_str(&marked_deployment("small"));
    let outcome = run(&[], &common::root(), input.as_bytes());
    assert!(outcome.stdout.starts_with(&input.as_bytes()[..HUNDRED_MB]));
    snapshot(
        "huge-scalar-unread",
        "100 MB of one scalar in a ConfigMap nothing reads: copied byte for byte",
        success("huge scalar (unread)", input.as_bytes(), &outcome),
    );
}

#[test]
fn a_hundred_thousand_tiny_documents() {
    let mut input: String = (0..100_000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"))
        .collect();
    input.push_str(&marked_deployment("small"));
    let outcome = run(&[], &common::root(), input.as_bytes());
    snapshot(
        "hundred-thousand-documents",
        "100,000 tiny documents before a marked Deployment: all kept, in order",
        success("100k documents", input.as_bytes(), &outcome),
    );
}

#[test]
fn deep_nesting_in_a_marked_workload_stops_at_a_limit() {
    let depth = 100_000;
    let input = marked_deployment(&format!("{}{}", "[".repeat(depth), "]".repeat(depth)));
    let outcome = run(&[], &common::root(), input.as_bytes());
    snapshot(
        "deep-nesting-marked",
        "100,000 nested flow sequences in the marked workload: the depth limit stops it, no stack overflow",
        failure("deep nesting", &outcome),
    );
}

#[test]
fn deep_nesting_in_a_large_input_read_on_two_threads() {
    // Over 1 MiB, documents are read on two threads; the last one, which the line scanner
    // leaves to the parser, is read by the second. Nested past the parser's limit, it must
    // stop there, not overflow that thread's stack (the fuzz test found one that did).
    let mut input: String = (0..20_000)
        .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"))
        .collect();
    input.push_str(&marked_deployment("small"));
    // An explicit key (`? kind`): the line scanner leaves the document to the parser, on the
    // second thread. Its mark makes the parse error an error of the run.
    input.push_str(
        "---\n? kind\n: Deployment\nmetadata:\n  annotations:\n    migration-hook/container: m\n",
    );
    for depth in 0..300 {
        input.push_str(&format!("{}a:\n", " ".repeat(depth)));
    }
    assert!(input.len() > 1 << 20);
    let outcome = run(&[], &common::root(), input.as_bytes());
    snapshot(
        "deep-nesting-large-input",
        "A document nested 300 deep at the end of a 1.4 MB input: the depth limit stops it on the second thread",
        failure("deep nesting, large input", &outcome),
    );
}

#[test]
fn invalid_utf8_in_a_secret() {
    let mut input = secret(b"SENTINEL-\xff\xfe-password");
    input.extend_from_slice(marked_deployment("small").as_bytes());
    let outcome = run(&[], &common::root(), &input);
    snapshot(
        "invalid-utf8-secret",
        "Invalid UTF-8 inside a Secret's data: the error names the document and the byte offset, not the data",
        failure("invalid UTF-8", &outcome),
    );
}

#[test]
fn a_nul_byte_in_a_secret_the_migration_needs() {
    // The Secret carries no mark; the migration reads it through envFrom, so it is parsed to be
    // copied into a hook.
    let secret = secret(b"SENTINEL-\0-password");
    let secret = String::from_utf8(secret).unwrap().replace(
        "  annotations:\n    migration-hook/container: migrate\n",
        "",
    );
    let deployment = marked_deployment("small").replace(
        "          env:\n",
        "          envFrom:\n            - secretRef:\n                name: app-db\n          env:\n",
    );
    let input = format!("{secret}{deployment}");
    let outcome = run(&[], &common::root(), input.as_bytes());
    snapshot(
        "nul-byte-secret",
        "A NUL byte inside the data of a Secret the migration needs: YAML forbids it; the message shows no data",
        failure("NUL byte", &outcome),
    );
}

#[test]
fn empty_input_gives_empty_output() {
    let outcome = run(&[], &common::root(), b"");
    snapshot(
        "empty-input",
        "Empty input: nothing to convert, nothing written (Helm itself rejects an empty rendering)",
        success("empty", b"", &outcome),
    );
}
