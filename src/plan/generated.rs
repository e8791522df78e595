//! The documents a run appends: each one's YAML text, emitted when planned, and their output
//! order (every hook copy just before the first Job that uses it).

use serde_json::Value;

use crate::diagnostic::Result;
use crate::input::document::{self, Documents};
use crate::plan::dependencies::{self, HookCopy};
use crate::threads;
use crate::yaml;

/// A document to append.
#[derive(Debug)]
pub struct Generated {
    pub kind: &'static str,
    pub name: String,
    /// Template path for the `# Source:` line of `helm template`-style output.
    pub source: Option<String>,
    /// Its Helm 4 filename annotation, if it has one.
    pub(crate) filename: Option<String>,
    /// The document's YAML (no `---`), emitted when planned: a parsed value takes several
    /// times the memory of its text, and a run may generate thousands of documents.
    pub text: String,
    /// A Job converted in place: the document it replaces (written there, not appended; its
    /// copies are appended all the same).
    pub(crate) in_place: Option<usize>,
}

/// A generated document's YAML. In debug builds (the tests) it must read back as the value it
/// was emitted from; the oracle test then checks that Kubernetes reads it as we do, so the new
/// documents mean what the plan meant. The message never shows the value (a Secret's data).
pub(crate) fn emit(kind: &str, value: &Value) -> String {
    let text = compact(yaml::emit(value));
    debug_assert!(
        yaml::parse(&text).is_ok_and(|read| read == *value),
        "a generated {kind} reads back differently from the value it was emitted from"
    );
    text
}

/// A generated document's text without the spare capacity emitting left (up to half of it;
/// thousands of them are kept until the output is written).
fn compact(mut text: String) -> String {
    text.shrink_to_fit();
    text
}

/// The Jobs (one per migration, in order) with the copies interleaved: each copy just before
/// the first Job that uses it, a Job's copies by weight, kind and name. A copy takes its Job's
/// `# Source:` and filename. Each copy's original is parsed for it and not kept (thousands of
/// parses kept would take several times their text in memory); with `threads`, on two threads.
pub(crate) fn in_output_order(
    docs: &Documents,
    jobs: Vec<Generated>,
    copies: &[HookCopy],
    threads: bool,
) -> Result<Vec<Generated>> {
    let mut by_user: Vec<Vec<&HookCopy>> = vec![Vec::new(); jobs.len()];
    for copy in copies {
        by_user[copy.first_user].push(copy);
    }
    // (job, copy) in output order.
    let mut order: Vec<(usize, &HookCopy)> = Vec::new();
    for (ji, mine) in by_user.iter_mut().enumerate() {
        mine.sort_by(|a, b| (a.weight, a.kind, &a.name).cmp(&(b.weight, b.kind, &b.name)));
        order.extend(mine.iter().map(|c| (ji, *c)));
    }
    let parallel = threads && order.len() >= document::PARALLEL_PARSES;
    let texts = threads::try_map_halves(&order, parallel, |_, &(ji, copy)| -> Result<String> {
        let original = docs.get(copy.from).parse()?;
        let filename = jobs[ji].filename.as_deref();
        let copied = dependencies::copy_document(&original, copy, filename);
        Ok(emit(copy.kind.kind(), &copied))
    })?;
    let mut generated = Vec::with_capacity(jobs.len() + texts.len());
    let mut texts = texts.into_iter();
    let mut order = order.into_iter().peekable();
    for (ji, job) in jobs.into_iter().enumerate() {
        while let Some((_, copy)) = order.next_if(|(j, _)| *j == ji) {
            generated.push(Generated {
                kind: copy.kind.kind(),
                name: copy.name.clone(),
                source: job.source.clone(),
                filename: job.filename.clone(),
                text: texts.next().expect("one text per copy"),
                in_place: None,
            });
        }
        if job.in_place.is_none() {
            generated.push(job);
        }
    }
    Ok(generated)
}
