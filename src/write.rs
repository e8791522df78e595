//! Hop 3: the output stream. Untouched documents are copied byte for byte; edited ones are
//! written with their edits; new documents are appended.

use crate::document::Documents;
use crate::edit::{self, Edited};
use crate::plan::Plan;
use crate::stream;
use crate::yaml;

/// The whole output. With nothing to change, it is the input.
pub fn write(docs: &Documents, plan: &Plan) -> Vec<u8> {
    let input = docs.input;
    let extra: usize = plan.generated.len() * 2048;
    let mut out = String::with_capacity(input.len() + extra);
    let mut edits = plan.edits.iter().peekable();
    for doc in docs.iter() {
        match edits.next_if(|e| e.doc == doc.index) {
            None => out.push_str(doc.text),
            Some(e) => {
                // The marker line (and anything before the body) stays as it was.
                out.push_str(&input[doc.raw.start..doc.raw.body_start]);
                match &e.edited {
                    Edited::Surgical(ranges) => out.push_str(&edit::cut(doc.body, ranges)),
                    Edited::Reemitted(text) => {
                        // A marker line that carries content (`--- {kind: …}`) is part of the
                        // body, so the re-emitted body has lost it: without a new one, the
                        // document would run into the previous one.
                        if doc.raw.body_start == doc.raw.start && doc.index > 0 {
                            out.push_str("---\n");
                        }
                        out.push_str(text)
                    }
                }
            }
        }
    }
    // New documents follow the input's line breaks (a YAML parser reads both the same).
    let crlf = input.find('\n').is_some_and(|i| input[..i].ends_with('\r'));
    for g in &plan.generated {
        if !stream::ends_with_newline(out.as_bytes()) {
            out.push_str(if crlf { "\r\n" } else { "\n" });
        }
        let mut text = String::from("---\n");
        // `helm template` output names each document's template; Helm 4's input uses the
        // filename annotation instead, which the generated documents carry.
        if !plan.helm4
            && let Some(source) = &g.source
        {
            text.push_str(&format!("# Source: {source}\n"));
        }
        text.push_str(&yaml::emit(&g.value));
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        out.push_str(&text);
    }
    out.into_bytes()
}
