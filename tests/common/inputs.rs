//! The inputs the proofs run on: every successful case of `testdata/cases/`, every corpus
//! rendering unmarked and marked as in `testdata/corpus-marks/`, and the corpus with each
//! workload's containers marked in turn (generated marks on real chart text).

use std::path::{Path, PathBuf};

use migration_hook::Options;
use migration_hook::testing::document::Documents;
use migration_hook::testing::workload::WorkloadKind;
use serde_json::Value;

/// One input with the options to run it with.
pub struct Input {
    pub name: String,
    pub input: Vec<u8>,
    pub options: Options,
}

/// The files in `dir` (relative to the crate) whose name passes `keep`, sorted.
pub fn files(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(super::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| keep(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    files.sort();
    files
}

/// The files under `dir` (relative to the crate), at any depth, whose name passes `keep`,
/// sorted.
pub fn files_under(dir: &str, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![super::root().join(dir)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if keep(&path.file_name().unwrap().to_string_lossy()) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The places a workload's `migration-hook/` annotations can be: the object's own metadata and
/// each workload kind's pod template metadata.
pub fn annotation_paths() -> Vec<Vec<&'static str>> {
    let mut paths: Vec<Vec<&'static str>> = WorkloadKind::ALL
        .iter()
        .map(|kind| {
            let mut path = kind.template_path().to_vec();
            path.extend(["metadata", "annotations"]);
            path
        })
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A path relative to the crate, for messages.
pub fn short(path: &Path) -> String {
    path.strip_prefix(super::root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every case of `testdata/cases/` that must succeed, with its arguments.
pub fn cases() -> Vec<Input> {
    files("testdata/cases", |n| {
        n.ends_with(".yaml") && !n.contains(".error.")
    })
    .into_iter()
    .map(|path| {
        let case = super::read_case(&path);
        Input {
            name: short(&path),
            options: super::options(&case.args, path.parent().unwrap()).unwrap(),
            input: case.input,
        }
    })
    .collect()
}

/// Every rendered stream of the corpus (12 charts, 2 of them rendered by Helm 3 too).
pub fn corpus_files() -> Vec<PathBuf> {
    files_under("testdata/corpus", |n| {
        n.starts_with("rendered") && n.ends_with(".yaml")
    })
}

/// The corpus as rendered, nothing marked.
pub fn corpus_unmarked() -> Vec<Input> {
    corpus_files()
        .into_iter()
        .map(|path| Input {
            name: short(&path),
            input: std::fs::read(&path).unwrap(),
            options: Options::default(),
        })
        .collect()
}

/// The corpus cases marked as in `testdata/corpus-marks/<case>.args`.
pub fn corpus_marked() -> Vec<Input> {
    files("testdata/corpus-marks", |n| n.ends_with(".args"))
        .into_iter()
        .map(|marks| {
            let case = marks.file_stem().unwrap().to_string_lossy().to_string();
            let rendered = super::root()
                .join("testdata/corpus")
                .join(&case)
                .join("rendered.yaml");
            let args = super::shell_words(std::fs::read_to_string(&marks).unwrap().trim());
            Input {
                name: format!("{case} {}", args.join(" ")),
                input: std::fs::read(&rendered).unwrap(),
                options: super::options(&args, marks.parent().unwrap()).unwrap(),
            }
        })
        .collect()
}

/// Every corpus rendering with, in turn, each init container (not a native sidecar) of each
/// workload that is not a hook marked, and each workload's first main container marked with a
/// command override. The tool may refuse some (a container that mounts a claim template):
/// callers run them and count those.
pub fn corpus_every_container() -> Vec<Input> {
    let mut out = Vec::new();
    for path in corpus_files() {
        let input = std::fs::read(&path).unwrap();
        for args in container_marks(&input) {
            out.push(Input {
                name: format!("{} {}", short(&path), args.join(" ")),
                options: super::options(&args, Path::new(".")).unwrap(),
                input: input.clone(),
            });
        }
    }
    out
}

/// The argument lists that mark each container of `input` in turn, with `--hook auto` (so a
/// migration whose database is in the release is built, not refused).
pub fn container_marks(input: &[u8]) -> Vec<Vec<String>> {
    let docs = Documents::read(input).unwrap();
    let mut marks = Vec::new();
    for doc in docs.iter() {
        let Some(kind) = WorkloadKind::of(doc.head.api_version.as_deref(), doc.kind()) else {
            continue;
        };
        if doc.is_hook() {
            continue;
        }
        let Some(spec) = doc
            .value()
            .ok()
            .and_then(|v| kind.template(v))
            .and_then(|t| t.get("spec"))
        else {
            continue;
        };
        let target = match &doc.head.namespace {
            Some(ns) => format!("{}/{ns}/{}", kind.kind(), doc.name().unwrap()),
            None => format!("{}/{}", kind.kind(), doc.name().unwrap()),
        };
        let names = |key: &str| -> Vec<(String, bool)> {
            spec.get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    let sidecar = c.get("restartPolicy").and_then(Value::as_str) == Some("Always");
                    Some((c.get("name")?.as_str()?.to_string(), sidecar))
                })
                .collect()
        };
        for (name, sidecar) in names("initContainers") {
            if !sidecar {
                marks.push(vec![
                    "--container".into(),
                    format!("{target}:{name}"),
                    "--hook".into(),
                    "auto".into(),
                ]);
            }
        }
        if let Some((name, _)) = names("containers").into_iter().next() {
            marks.push(vec![
                "--container".into(),
                format!("{target}:{name}"),
                "--command".into(),
                r#"["migrate","--yes"]"#.into(),
                "--hook".into(),
                "auto".into(),
            ]);
        }
    }
    marks
}
