//! Shared by the test files: reading a case file, running the library on it, and rendering what
//! a user would see into one snapshot text.
#![allow(dead_code)]

/// Unwraps a required tool, or ends the test (skipped) when it is missing (`helm::missing`).
#[allow(unused_macros)]
macro_rules! need {
    ($tool:expr) => {
        match $tool {
            Some(t) => t,
            None => return,
        }
    };
}

pub mod cluster;
pub mod helm;
pub mod inputs;
pub mod oracle;

use std::path::{Path, PathBuf};

use clap::Parser;
use migration_hook::Host;
use migration_hook::Options;
use migration_hook::testing::document::Documents;
use migration_hook::testing::edit::Edited;
use migration_hook::{Cli, Command};
use migration_hook::{Run, report};

/// A test input: the header comment (what it shows), its arguments, and the stream.
pub struct Case {
    pub description: String,
    pub args: Vec<String>,
    pub input: Vec<u8>,
}

/// Reads a case file: line 1 `# what it shows`, optional line 2 `# args: …`; the rest is the
/// stream exactly as Helm would send it.
pub fn read_case(path: &Path) -> Case {
    let text = std::fs::read(path).unwrap();
    let mut rest: &[u8] = &text;
    let mut take_line = |prefix: &str| -> Option<String> {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let line = std::str::from_utf8(&rest[..end]).ok()?.trim_end();
        let value = line.strip_prefix(prefix)?.to_string();
        rest = &rest[end..];
        Some(value)
    };
    let description = take_line("# ")
        .unwrap_or_else(|| panic!("{}: first line must be `# what it shows`", path.display()));
    let args = take_line("# args:")
        .map(|a| shell_words(&a))
        .unwrap_or_default();
    Case {
        description,
        args,
        input: rest.to_vec(),
    }
}

/// Splits like a shell would for simple cases: spaces separate, '…' and "…" quote.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, ' ' | '\t') => {
                if started || !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                started = false;
            }
            (None, c) => current.push(c),
        }
    }
    if started || !current.is_empty() {
        words.push(current);
    }
    words
}

/// Options from case arguments (relative paths resolve against `dir`), and whether `explain`.
pub fn options(args: &[String], dir: &Path) -> Result<Options, String> {
    let argv = std::iter::once("migration-hook".to_string()).chain(args.iter().cloned());
    let cli = Cli::try_parse_from(argv).map_err(|e| e.to_string())?;
    let run = match cli.command {
        Some(Command::Explain(a)) => a,
        None => cli.run,
    };
    let config = run.config.as_ref().map(|p| {
        let path: PathBuf = dir.join(p);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    });
    run.options(config.as_deref())
}

/// What the user sees: the account, then every edited and every new document in full.
/// On failure, the message exactly as `main` prints it.
pub fn render(input: &[u8], result: &Result<Run, String>) -> String {
    match result {
        Err(message) => format!("!!!ERROR!!!\nmigration-hook: {message}\n"),
        Ok(run) => {
            let docs = Documents::read(input).unwrap();
            let mut out = String::new();
            out.push_str("===== explain =====\n");
            out.push_str(&report::explain(&run.plan));
            for e in &run.plan.edits {
                let doc = docs.get(e.doc);
                let how = match e.edited {
                    Edited::Surgical(_) => "surgical",
                    Edited::Reemitted(_) => "re-emitted",
                };
                out.push_str(&format!(
                    "===== edited document {} ({how}) =====\n",
                    e.doc + 1
                ));
                let text = String::from_utf8(edited_text(&run.output, &docs, e.doc)).unwrap();
                let _ = doc;
                out.push_str(&text);
            }
            let generated = generated_text(&run.output, &docs);
            if !generated.is_empty() {
                out.push_str("===== new documents =====\n");
                out.push_str(&String::from_utf8_lossy(&generated));
            }
            out
        }
    }
}

/// Runs the library as `main` would, with a neutral host (a pipe).
pub fn run(input: &[u8], options: &Options) -> Result<Run, String> {
    migration_hook::run(input, options, Host::default()).map_err(|e| e.to_string())
}

/// The output's documents, split the same way as the input's.
pub fn output_docs(output: &[u8]) -> Vec<Vec<u8>> {
    migration_hook::testing::stream::split(output)
        .iter()
        .map(|d| output[d.range()].to_vec())
        .collect()
}

fn edited_text(output: &[u8], docs: &Documents, index: usize) -> Vec<u8> {
    let _ = docs;
    output_docs(output)[index].clone()
}

fn generated_text(output: &[u8], docs: &Documents) -> Vec<u8> {
    output_docs(output)[docs.docs.len()..].concat()
}

/// Every input document the plan does not edit is in the output unchanged, at the same place,
/// and the output parses.
pub fn check_invariants(name: &str, input: &[u8], run: &Run) {
    let docs = Documents::read(input).unwrap();
    let out = output_docs(&run.output);
    assert!(out.len() >= docs.docs.len(), "{name}: documents were lost");
    for doc in docs.iter() {
        if run.plan.edits.iter().any(|e| e.doc == doc.index) {
            continue;
        }
        let mut expected = doc.text.as_bytes().to_vec();
        // The last input document may gain a final line break (the input's kind: `\n` or
        // `\r\n`) before appended documents.
        if doc.index + 1 == docs.docs.len()
            && out.len() > docs.docs.len()
            && !expected.ends_with(b"\n")
        {
            let crlf = out[doc.index].len() == expected.len() + 2;
            expected.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        assert_eq!(
            String::from_utf8_lossy(&out[doc.index]),
            String::from_utf8_lossy(&expected),
            "{name}: document {} changed",
            doc.index + 1
        );
    }
    // What we wrote (edited and new documents) parses; untouched ones are the input's business.
    let reparsed = Documents::read(&run.output).unwrap();
    for doc in reparsed.iter() {
        let ours =
            doc.index >= docs.docs.len() || run.plan.edits.iter().any(|e| e.doc == doc.index);
        if ours {
            doc.value().unwrap_or_else(|e| {
                panic!(
                    "{name}: output document {} does not parse: {e}",
                    doc.index + 1
                )
            });
        }
    }
    if !input.is_empty() {
        assert!(
            !run.output.is_empty(),
            "{name}: non-empty input gave empty output"
        );
    }
}

/// The directory of this crate.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `command` with `input` on its stdin and collects what it writes. The input is written
/// from another thread: a program may fill its stdout before it has read all of it.
pub fn pipe(command: &mut std::process::Command, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // A program that fails early stops reading: not an error here.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("the program ran");
    writer.join().expect("the writer thread");
    output
}
