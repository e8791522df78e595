//! The Kubernetes-meaning oracle (`tests/oracle/main.go`, built by `scripts/install-oracle.sh`
//! into `.tools/oracle/yamlcheck`) and the differential check built on it: what Kubernetes reads
//! from the output must be what it reads from the input with exactly the intended edits applied.
//!
//! The intended edits are applied here, to the oracle's JSON of the input, from the plan's data
//! (`WorkloadEdit::removals`; `Generated::text` read back, which a debug assertion in the planner
//! checks is the value it was emitted from), by code that shares nothing with the tool's text
//! edits. So a surgical cut that removes one byte too many, an emitter that writes `on`
//! unquoted, or a splitter that merges two documents all show up as a difference.

use std::path::PathBuf;
use std::process::Command;

use migration_hook::Run;
use migration_hook::testing::document::Documents;
use migration_hook::testing::edit::{Edited, Removal};
use migration_hook::testing::plan::WorkloadEdit;
use serde_json::Value;

/// How Kubernetes reads one stream: its non-null documents as canonical JSON (compact, keys
/// sorted, so equal text is equal meaning), or why it rejects the stream.
pub type Reading = Result<Vec<String>, String>;

/// One canonical JSON document as a value.
pub fn value(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("yamlcheck printed {json:?}: {e}"))
}

/// The oracle binary.
pub struct Oracle {
    bin: PathBuf,
}

impl Oracle {
    /// The oracle, if it is built. Without it a test skips locally, and fails under CI (where
    /// `scripts/test.sh` builds it first): a proof that silently does not run proves nothing.
    pub fn find() -> Option<Oracle> {
        let root = super::root();
        let bin = root.join(".tools/oracle/yamlcheck");
        let source = root.join("tests/oracle/main.go");
        let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let problem = match (modified(&bin), modified(&source)) {
            (None, _) => Some("is not built"),
            (Some(b), Some(s)) if b < s => Some("is older than tests/oracle/main.go"),
            _ => None,
        };
        match problem {
            None => Some(Oracle { bin }),
            Some(problem) if std::env::var_os("CI").is_some() => panic!(
                "the oracle {} {problem}; scripts/test.sh builds it (scripts/install-oracle.sh)",
                bin.display()
            ),
            Some(problem) => {
                eprintln!(
                    "SKIPPED: the oracle {} {problem}; run scripts/install-oracle.sh",
                    bin.display()
                );
                None
            }
        }
    }

    /// Reads each stream on its own, as if it were the whole input (one process for all).
    pub fn read_each(&self, streams: &[&[u8]]) -> Vec<Reading> {
        // A NUL byte separates streams, so a stream holding one is read by a process of its own.
        let (batch, alone): (Vec<usize>, Vec<usize>) =
            (0..streams.len()).partition(|&i| !streams[i].contains(&0));
        let mut out: Vec<Option<Reading>> = vec![None; streams.len()];
        if !batch.is_empty() {
            let mut stdin = Vec::new();
            for (k, &i) in batch.iter().enumerate() {
                if k > 0 {
                    stdin.push(0);
                }
                stdin.extend_from_slice(streams[i]);
            }
            let (code, stdout, stderr) = self.call(&["-streams"], stdin);
            assert_eq!(code, Some(0), "yamlcheck -streams failed: {stderr}");
            let lines: Vec<&str> = stdout.lines().collect();
            assert_eq!(lines.len(), batch.len(), "yamlcheck -streams: {stderr}");
            for (line, &i) in lines.iter().zip(&batch) {
                let (_, reading) = line.split_once('\t').expect("`<n>\\t…`");
                out[i] = Some(match reading.strip_prefix('!') {
                    Some(message) => Err(message.to_string()),
                    None => Ok(split_array(reading)),
                });
            }
        }
        for i in alone {
            out[i] = Some(self.read(streams[i]));
        }
        out.into_iter().map(Option::unwrap).collect()
    }

    /// Reads one stream.
    pub fn read(&self, stream: &[u8]) -> Reading {
        let (code, stdout, stderr) = self.call(&[], stream.to_vec());
        match code {
            Some(0) => Ok(stdout.lines().map(str::to_string).collect()),
            Some(1) => Err(stderr.trim().to_string()),
            _ => panic!("yamlcheck crashed ({code:?}): {stderr}"),
        }
    }

    fn call(&self, args: &[&str], stdin: Vec<u8>) -> (Option<i32>, String, String) {
        let output = super::pipe(Command::new(&self.bin).args(args), &stdin);
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("yamlcheck writes UTF-8");
        (
            output.status.code(),
            text(output.stdout),
            text(output.stderr),
        )
    }
}

/// `[doc,doc]` (compact JSON documents) → the documents' texts, without parsing them.
fn split_array(text: &str) -> Vec<String> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or_else(|| panic!("yamlcheck printed {text:?}"));
    let mut docs = Vec::new();
    let (mut depth, mut in_string, mut escaped, mut start) = (0usize, false, false, 0);
    for (i, b) in inner.bytes().enumerate() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => {
                docs.push(inner[start..i].to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !inner.is_empty() {
        docs.push(inner[start..].to_string());
    }
    docs
}

/// What one differential comparison looked at.
#[derive(Debug, Default, Clone, Copy)]
pub struct Compared {
    /// Input documents compared (untouched ones, null documents included).
    pub untouched: usize,
    pub edited: usize,
    pub generated: usize,
    /// Whole streams compared as kubectl's reader splits them (those it accepts).
    pub streams: usize,
}

impl std::ops::AddAssign for Compared {
    fn add_assign(&mut self, o: Compared) {
        self.untouched += o.untouched;
        self.edited += o.edited;
        self.generated += o.generated;
        self.streams += o.streams;
    }
}

/// Asserts that Kubernetes reads from `run.output` exactly what it reads from `input` with the
/// plan's edits applied, document by document and as a whole stream; and that it reads every
/// generated document as the value the plan meant to emit. Panics with the first difference.
pub fn differential(oracle: &Oracle, name: &str, input: &[u8], run: &Run) -> Compared {
    let docs = Documents::read(input).unwrap();
    let n = docs.docs.len();
    let out = super::output_docs(&run.output);
    assert_eq!(
        out.len(),
        n + run.plan.generated.len(),
        "{name}: the output has {} documents, expected {n} input documents and {} new ones",
        out.len(),
        run.plan.generated.len()
    );
    let per_doc: Vec<Vec<u8>> = docs
        .iter()
        .map(|d| chunk(d.text.as_bytes(), d.index == 0))
        .chain(out.iter().enumerate().map(|(i, d)| chunk(d, i == 0)))
        .collect();
    let mut streams: Vec<&[u8]> = per_doc.iter().map(Vec::as_slice).collect();
    streams.push(input);
    streams.push(&run.output);
    let readings = oracle.read_each(&streams);
    let (input_docs, rest) = readings.split_at(n);
    let (output_docs, rest) = rest.split_at(out.len());
    let (input_stream, output_stream) = (&rest[0], &rest[1]);

    let mut compared = Compared::default();
    let mut expected_stream: Vec<String> = Vec::new();
    for (i, (before, after)) in input_docs.iter().zip(output_docs).enumerate() {
        let Some(edit) = run.plan.edits.iter().find(|e| e.doc == i) else {
            compared.untouched += 1;
            // Rejected both times is the same reading (Go's messages can differ from run to
            // run: they name whichever bad map entry its random iteration met first).
            if !(after.is_err() && before.is_err()) {
                assert_eq!(
                    after,
                    before,
                    "{name}: Kubernetes reads untouched document {} differently in the output",
                    i + 1
                );
            }
            expected_stream.extend(before.iter().flatten().cloned());
            continue;
        };
        compared.edited += 1;
        let read = |reading: &Reading, what: &str| -> Value {
            match reading {
                Ok(docs) if docs.len() == 1 => value(&docs[0]),
                other => panic!(
                    "{name}: edited document {}: Kubernetes reads the {what} document as {other:?}",
                    i + 1
                ),
            }
        };
        let expected = match (&edit.edited, edit.converted) {
            // A Job replaced by its hook Job: it must read as the Job we meant to write.
            (Edited::Reemitted(text), true) => migration_hook::testing::yaml::parse(text)
                .unwrap_or_else(|e| panic!("{name}: converted Job {} does not parse: {e}", i + 1)),
            _ => intended(name, &read(before, "input"), edit),
        };
        let differences = differences(&read(after, "output"), &expected);
        assert!(
            differences.is_empty(),
            "{name}: Kubernetes reads edited document {} differently from the input with the intended edits: {differences:#?}",
            i + 1
        );
        expected_stream.push(after.as_ref().unwrap()[0].clone());
    }
    for (j, g) in run.plan.generated.iter().enumerate() {
        compared.generated += 1;
        let read = match &output_docs[n + j] {
            Ok(docs) if docs.len() == 1 => value(&docs[0]),
            other => panic!(
                "{name}: Kubernetes reads new document {} as {other:?}",
                n + j + 1
            ),
        };
        // What the plan meant: the text reads back as the value it was emitted from (a debug
        // assertion in the planner), so Kubernetes' reading must equal ours.
        let meant = migration_hook::testing::yaml::parse(&g.text)
            .unwrap_or_else(|e| panic!("{name}: new document {} does not parse: {e}", n + j + 1));
        let differences = differences(&read, &meant);
        assert!(
            differences.is_empty(),
            "{name}: Kubernetes reads the new {} {:?} (output document {}) differently from the value we meant to emit: {differences:#?}",
            g.kind,
            g.name,
            n + j + 1
        );
        expected_stream.push(output_docs[n + j].as_ref().unwrap()[0].clone());
    }
    // The whole stream, split by kubectl's reader rather than ours.
    match input_stream {
        Ok(values) => {
            let per_doc: Vec<String> = input_docs
                .iter()
                .flat_map(|r| r.clone().unwrap_or_default())
                .collect();
            assert_eq!(
                values, &per_doc,
                "{name}: kubectl splits the input into other documents than migration-hook does"
            );
            assert_eq!(
                output_stream,
                &Ok(expected_stream),
                "{name}: Kubernetes reads the output stream differently from the input with the intended edits"
            );
            compared.streams += 1;
        }
        // kubectl rejects the input (a `--- {…}` marker line, say). If it accepts the output
        // (the tool re-emitted that document under a plain `---`), it must read what Helm 4
        // read from the input, with the intended edits.
        Err(e) => {
            if let Ok(values) = output_stream {
                assert_eq!(
                    values, &expected_stream,
                    "{name}: kubectl rejects the input ({e}); it accepts the output but reads it differently from the input with the intended edits"
                );
                compared.streams += 1;
            }
        }
    }
    compared
}

/// One document's text as the chunk Kubernetes reads for it in the stream:
/// - kubectl's reader swallows the `---` line that ends the previous chunk, so a document
///   after the first is read without its bare marker line (which matters: `---⏎...⏎x: 1` is
///   an empty document followed by another, `...⏎x: 1` is `x: 1`);
/// - kubectl's reader rejects a `---` line that carries content (`--- {kind: A}`, `--- |`);
///   Helm 4's splitter (`(?m)^---[ \t]*`) takes the content as the start of the document,
///   and so does this.
///
/// Whole streams are read as kubectl reads them, rejections and all.
fn chunk(text: &[u8], first: bool) -> Vec<u8> {
    let bom = if text.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let Some(rest) = text[bom..].strip_prefix(b"---") else {
        return text.to_vec();
    };
    let content = rest
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(rest.len());
    match rest.get(content) {
        // A bare marker (maybe with a comment).
        Some(b'#' | b'\n' | b'\r') | None => {
            if first {
                text.to_vec()
            } else {
                let line_end = rest
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(rest.len(), |i| i + 1);
                rest[line_end..].to_vec()
            }
        }
        Some(_) if content > 0 => [b"---\n".as_slice(), &rest[content..]].concat(),
        _ => text.to_vec(),
    }
}

/// `before` (Kubernetes' reading of a marked workload) with the edit's removals applied: an
/// item or an entry goes, and a mapping value or list left empty goes with its key, upwards.
/// A dependency promoted to a hook in place has no removals, only its hook annotations set.
fn intended(name: &str, before: &Value, edit: &WorkloadEdit) -> Value {
    let mut value = before.clone();
    if !edit.set_annotations.is_empty() {
        assert!(
            edit.removals.is_empty(),
            "{name}: a promoted document loses nothing"
        );
        for (key, text) in &edit.set_annotations {
            assert!(
                key.starts_with("helm.sh/hook"),
                "{name}: the promotion sets {key:?}, which is not a hook annotation"
            );
            let meta = value
                .as_object_mut()
                .unwrap_or_else(|| panic!("{name}: a promoted document is a mapping"))
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if !meta.is_object() {
                *meta = Value::Object(Default::default());
            }
            let annotations = meta
                .as_object_mut()
                .unwrap()
                .entry("annotations")
                .or_insert_with(|| Value::Object(Default::default()));
            if !annotations.is_object() {
                *annotations = Value::Object(Default::default());
            }
            annotations
                .as_object_mut()
                .unwrap()
                .insert(key.clone(), Value::String(text.clone()));
        }
        return value;
    }
    // Later sequence items first, so that earlier indices stay valid.
    let mut removals = edit.removals.clone();
    removals.sort_by_key(|r| match r {
        Removal::Item { index, .. } => std::cmp::Reverse(*index),
        Removal::Key { .. } => std::cmp::Reverse(usize::MAX),
    });
    for removal in &removals {
        let path = match removal {
            Removal::Item { path, index } => {
                let items = at(&mut value, path)
                    .and_then(Value::as_array_mut)
                    .unwrap_or_else(|| panic!("{name}: no list at {path:?}"));
                let item = items.remove(*index);
                assert!(
                    item.get("name").and_then(Value::as_str).is_some(),
                    "{name}: removed {path:?}[{index}] is not a container: {item}"
                );
                path
            }
            Removal::Key { path, key } => {
                assert!(
                    key.starts_with("migration-hook/"),
                    "{name}: the edit removes {key:?}, which is not one of the tool's annotations"
                );
                let map = at(&mut value, path)
                    .and_then(Value::as_object_mut)
                    .unwrap_or_else(|| panic!("{name}: no mapping at {path:?}"));
                map.shift_remove(key)
                    .unwrap_or_else(|| panic!("{name}: no {key:?} at {path:?}"));
                path
            }
        };
        prune_empty(&mut value, path);
    }
    for path in super::inputs::annotation_paths() {
        if let Some(map) = at(&mut value, &path).and_then(|v| v.as_object())
            && let Some(key) = map.keys().find(|k| k.starts_with("migration-hook/"))
        {
            panic!("{name}: the edit leaves {key:?} at {path:?}")
        }
    }
    value
}

fn at<'v>(value: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter().try_fold(value, |v, k| v.get_mut(*k))
}

/// Removes the value at `path` if it became an empty mapping or list, then its parent, and so on.
fn prune_empty(value: &mut Value, path: &[&str]) {
    let mut path = path.to_vec();
    while let Some(key) = path.pop() {
        let empty = match at(value, &path).and_then(|p| p.get(key)) {
            Some(Value::Object(m)) => m.is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if !empty {
            return;
        }
        at(value, &path)
            .and_then(Value::as_object_mut)
            .expect("a parent mapping")
            .shift_remove(key);
    }
}

/// Numbers are equal as JSON numbers: Go writes the float 1000.0 as `1000`, and the API server
/// reads both the same. Integers compare exactly (no rounding through f64).
fn same_number(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    match (x.as_i128(), y.as_i128()) {
        (Some(a), Some(b)) => a == b,
        _ => x.as_f64() == y.as_f64(),
    }
}

/// Where two values differ: `path: read ≠ expected` lines (empty when equal; numbers as JSON
/// numbers).
pub fn differences(read: &Value, expected: &Value) -> Vec<String> {
    fn walk(a: &Value, b: &Value, path: String, out: &mut Vec<String>) {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for (k, v) in x {
                    match y.get(k) {
                        Some(w) => walk(v, w, format!("{path}.{k}"), out),
                        None => out.push(format!("{path}.{k}: {v} ≠ (absent)")),
                    }
                }
                for (k, w) in y {
                    if !x.contains_key(k) {
                        out.push(format!("{path}.{k}: (absent) ≠ {w}"));
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    walk(v, w, format!("{path}[{i}]"), out);
                }
            }
            (Value::Number(x), Value::Number(y)) if same_number(x, y) => {}
            _ if a != b => out.push(format!("{path}: {a} ≠ {b}")),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(read, expected, String::new(), &mut out);
    out
}
