//! What the user asked for: the command line, the config file, the mark annotations, and the
//! host we run under, merged into [`options::Options`].

pub mod cli;
pub mod config;
pub mod host;
pub mod mark;
pub mod options;
