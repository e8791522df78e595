//! What the tool tells the user: errors, warnings and notes, each tied to a document and a field.
//!
//! One format everywhere (`docs/design.md` §10):
//! `Deployment/web (document 3, chart/templates/web.yaml): spec.template.spec.initContainers: …`.

use std::fmt;

/// How serious a diagnostic is. Errors stop the run; the others are reported alongside the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// Names a document the way a user can find it: kind/name, position and template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocLabel {
    /// 0-based position in the input stream (displayed 1-based).
    pub index: usize,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// The template file, from `# Source:` or Helm 4's filename annotation.
    pub source: Option<String>,
}

impl DocLabel {
    /// `Kind/name`, or `Kind/namespace/name`.
    pub(crate) fn id(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("(no kind)");
        let name = self.name.as_deref().unwrap_or("(no name)");
        match &self.namespace {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        }
    }
}

impl fmt::Display for DocLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind.is_some() || self.name.is_some() {
            write!(f, "{} ", self.id())?;
        }
        write!(f, "(document {}", self.index + 1)?;
        if let Some(source) = &self.source {
            write!(f, ", {source}")?;
        }
        f.write_str(")")
    }
}

/// One message for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The document it is about, if any.
    pub doc: Option<DocLabel>,
    /// Dotted path of the field inside that document (or a command-line flag), if any.
    pub(crate) field: Option<String>,
    /// What is wrong and what to do, one line.
    pub(crate) message: String,
}

impl Diagnostic {
    pub(crate) fn new(severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            doc: None,
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn warning(message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, message)
    }

    pub(crate) fn note(message: impl Into<String>) -> Self {
        Self::new(Severity::Note, message)
    }

    pub(crate) fn at(mut self, doc: &DocLabel) -> Self {
        self.doc = Some(doc.clone());
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// `severity: where: field: message` (the caller adds the program name).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.severity)?;
        if let Some(doc) = &self.doc {
            write!(f, "{doc}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A failed run: one error diagnostic. Nothing is written to stdout when this is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub Box<Diagnostic>);

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Error(Box::new(Diagnostic::new(Severity::Error, message)))
    }

    pub(crate) fn at(mut self, doc: &DocLabel) -> Self {
        self.0.doc = Some(doc.clone());
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.0.field = Some(field.into());
        self
    }

    /// What is wrong, without where: for a caller that says where itself.
    pub(crate) fn into_message(self) -> String {
        self.0.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Error {}

/// Result of the library's fallible steps.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format() {
        let doc = DocLabel {
            index: 2,
            kind: Some("Deployment".into()),
            namespace: None,
            name: Some("web".into()),
            source: Some("c/templates/web.yaml".into()),
        };
        let e = Error::new("no container named \"x\"")
            .at(&doc)
            .field("spec.template.spec");
        assert_eq!(
            e.to_string(),
            "error: Deployment/web (document 3, c/templates/web.yaml): spec.template.spec: no container named \"x\""
        );
        let bare = DocLabel {
            kind: None,
            name: None,
            source: None,
            ..doc
        };
        assert_eq!(
            Diagnostic::warning("w").at(&bare).to_string(),
            "warning: (document 3): w"
        );
    }
}
