//! Kubernetes and Helm facts: workload kinds, label selectors, the objects a pod references,
//! naming rules, well-known keys, database-proxy sidecars, field validation.

pub(crate) mod keys;
pub(crate) mod label_selector;
pub(crate) mod mesh;
pub(crate) mod naming;
pub(crate) mod references;
pub(crate) mod scheduling;
pub(crate) mod sidecars;
pub mod validate;
pub mod workload;
