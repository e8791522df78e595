//! Hop 1, split: the input stream as documents (byte ranges) with cheap heads, read without
//! parsing what the plan never needs.

pub mod document;
pub mod head;
pub(crate) mod lines;
pub mod stream;
