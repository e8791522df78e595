//! Hop 3: the output stream. Untouched documents are copied byte for byte; edited ones are
//! written with their edits; new documents are appended.
//!
//! The output goes straight to a writer: runs of untouched documents are written as one slice
//! of the input, so the output is never assembled in memory (with nothing to change, the input
//! is written as is).

use std::io::{self, Write};

use crate::input::document::Documents;
use crate::input::stream;
use crate::plan::Plan;
use crate::yaml::edit::{self, Edited};

/// Writes the whole output to `out`.
pub(crate) fn write_to(docs: &Documents, plan: &Plan, out: &mut impl Write) -> io::Result<()> {
    let out = &mut LastByte {
        inner: out,
        last: None,
    };
    let input = docs.input;
    // Where the input not yet written starts.
    let mut copied = 0;
    for e in &plan.edits {
        let doc = docs.get(e.doc);
        // The marker line (and anything before the body) stays as it was.
        out.write_all(&input.as_bytes()[copied..doc.raw.body_start])?;
        match &e.edited {
            Edited::Surgical(ranges) => out.write_all(edit::cut(doc.body, ranges).as_bytes())?,
            Edited::Reemitted(text) => {
                // A marker line that carries content (`--- {kind: …}`) is part of the body, so
                // the re-emitted body has lost it: without a new one, the document would run
                // into the previous one.
                if doc.raw.body_start == doc.raw.start && doc.index > 0 {
                    out.write_all(b"---\n")?;
                }
                out.write_all(text.as_bytes())?
            }
        }
        copied = doc.raw.end;
    }
    out.write_all(&input.as_bytes()[copied..])?;
    // New documents follow the input's line breaks (a YAML parser reads both the same).
    let crlf = input.find('\n').is_some_and(|i| input[..i].ends_with('\r'));
    let newline = if crlf { "\r\n" } else { "\n" };
    for g in &plan.generated {
        if !out.at_line_start() {
            out.write_all(newline.as_bytes())?;
        }
        let mut text = String::from("---\n");
        // `helm template` output names each document's template; Helm 4's input uses the
        // filename annotation instead, which the generated documents carry.
        if !plan.helm4
            && let Some(source) = &g.source
        {
            text.push_str(&format!("# Source: {source}\n"));
        }
        text.push_str(&g.text);
        if crlf {
            text = text.replace('\n', "\r\n");
        }
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// A writer that remembers the last byte written, so that a new document's `---` can be put
/// at the start of a line.
struct LastByte<'w, W: Write> {
    inner: &'w mut W,
    last: Option<u8>,
}

impl<W: Write> LastByte<'_, W> {
    fn at_line_start(&self) -> bool {
        self.last.is_none_or(|b| stream::ends_with_newline(&[b]))
    }
}

impl<W: Write> Write for LastByte<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
        }
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.inner.write_all(buf)?;
        if let Some(&b) = buf.last() {
            self.last = Some(b);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The whole output, in memory. With nothing to change, it is the input.
pub fn write(docs: &Documents, plan: &Plan) -> Vec<u8> {
    let mut out = Vec::with_capacity(docs.input.len() + plan.generated.len() * 2048);
    write_to(docs, plan, &mut out).expect("writing to a Vec cannot fail");
    out
}
