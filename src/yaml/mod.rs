//! YAML as Kubernetes reads it: parsing and emitting over `serde_json::Value`, the scalar rules
//! of Go's YAML 1.1 reader, the scan that proves a document needs none of them, and surgical
//! byte-range edits.

pub mod edit;
pub mod go_safe;
pub(crate) mod resolve;
mod value;

pub use value::{YamlError, emit, parse, parse_at, parse_with_full_pass};
