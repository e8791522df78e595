//! Hop 3, write: the output stream and the account of what was done.

pub mod report;
pub mod write;
