//! Kubernetes and Helm facts: workload kinds, label selectors, the objects a pod references,
//! naming rules, well-known keys, database-proxy sidecars, field validation.

pub mod keys;
pub mod label_selector;
pub mod naming;
pub mod references;
pub mod sidecars;
pub mod validate;
pub mod workload;
