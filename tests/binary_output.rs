//! The binary streams its output (untouched runs of documents written as slices of the input)
//! and reads stdin as a file when it is one; what it writes must be exactly the library's
//! in-memory output, whether the stream comes on stdin (a pipe or a file) or as FILE.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

/// Runs the binary with `args`, the stream on stdin through a pipe.
fn run_piped(args: &[String], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migration-hook"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    output.stdout
}

/// Runs the binary with `args`, stdin redirected from `path`.
fn run_from_file(args: &[String], path: &std::path::Path) -> Vec<u8> {
    let output = Command::new(env!("CARGO_BIN_EXE_migration-hook"))
        .args(args)
        .stdin(std::fs::File::open(path).unwrap())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn binary_writes_exactly_the_library_output() {
    let root = common::root();
    let mut runs: Vec<(std::path::PathBuf, Vec<String>)> = Vec::new();
    // Unchanged (the input itself), converted, and converted with CRLF line breaks.
    runs.push((
        root.join("testdata/corpus/gitlab-large/rendered.yaml"),
        Vec::new(),
    ));
    for case in ["kubegems", "app-template-rails"] {
        let args = std::fs::read_to_string(root.join(format!("testdata/corpus-marks/{case}.args")))
            .unwrap();
        runs.push((
            root.join(format!("testdata/corpus/{case}/rendered.yaml")),
            common::shell_words(args.trim()),
        ));
    }
    for (path, args) in runs {
        let input = std::fs::read(&path).unwrap();
        let options = common::options(&args, path.parent().unwrap()).unwrap();
        let expected = common::run(&input, &options).unwrap().output;
        assert_eq!(run_piped(&args, &input), expected, "{}", path.display());
        assert_eq!(run_from_file(&args, &path), expected, "{}", path.display());
        let mut with_file = args.clone();
        with_file.push(path.display().to_string());
        assert_eq!(run_piped(&with_file, b""), expected, "{}", path.display());
    }

    let case = common::read_case(&root.join("testdata/cases/crlf-and-bom.yaml"));
    let options = common::options(&case.args, &root.join("testdata/cases")).unwrap();
    let expected = common::run(&case.input, &options).unwrap().output;
    assert!(expected.windows(2).any(|w| w == b"\r\n"));
    assert_eq!(run_piped(&case.args, &case.input), expected);
}
