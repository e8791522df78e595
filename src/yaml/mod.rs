//! YAML as Kubernetes reads it: parsing and emitting over `serde_json::Value`, the lexical
//! pieces the line scanners share, the scalar rules of Go's YAML 1.1 reader, the rewrite that
//! makes serde-saphyr read what Go reads, the scan that proves a document needs none of it,
//! and surgical byte-range edits.
//!
//! Imports go one way: `lex`, `scalar` ← `go_safe` ← `go_compat` ← `value`.

pub mod edit;
pub(crate) mod go_compat;
pub mod go_safe;
pub(crate) mod lex;
pub(crate) mod scalar;
mod value;

pub use value::{YamlError, emit, parse, parse_at, parse_with_full_pass};
