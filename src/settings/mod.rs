//! What the user asked for: the command line, the config file, the mark annotations, and the
//! host we run under, merged into [`options::Options`].

pub(crate) mod cli;
pub(crate) mod config;
pub(crate) mod host;
pub(crate) mod mark;
pub mod options;
mod table;
pub(crate) mod values;
