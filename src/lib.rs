//! migration-hook: a Helm post-renderer that hoists a workload's database-migration container
//! into one `pre-install,pre-upgrade` hook Job, and makes everything that Job needs exist
//! before it runs.
//!
//! Three hops, as in kustomize's kio:
//!
//! ```text
//! stdin ─▶ split ─────────────▶ plan ────────────────────────▶ write ─▶ stdout
//!          documents as byte    pure: marks → Jobs,            untouched documents as
//!          ranges + cheap heads dependencies, labels, edits    bytes, edits applied, new
//!          (document, head)     (select, hoist, dependencies,  documents appended (write)
//!                                hygiene, edit, plan)
//! ```
//!
//! Only what the plan needs is parsed; every other document passes through byte for byte.
//! Errors name the document and field; nothing is written on failure.

mod diagnostic;
mod hash;
mod input;
mod kube;
mod output;
mod plan;
mod settings;
mod threads;
mod yaml;

pub use diagnostic::{Diagnostic, DocLabel, Error, Result, Severity};
pub use output::report;
pub use plan::Plan;
pub use settings::cli::{Cli, Command, RunArgs};
pub use settings::host::Host;
pub use settings::options::Options;

/// Internals the integration tests check directly (the scanners against the parser, the
/// oracle's replay of edits, the schema round trip). Not a stable interface.
#[doc(hidden)]
pub mod testing {
    pub use crate::input::{document, head, stream};
    pub use crate::kube::workload;
    pub use crate::output::write;
    pub use crate::yaml::lex::Scan;
    pub use crate::yaml::{edit, go_safe};

    pub mod yaml {
        pub use crate::yaml::{emit, parse, parse_with_full_pass};
    }

    pub mod validate {
        use serde::{Serialize, de::DeserializeOwned};
        use serde_json::Value;

        /// Paths present in `value` but lost by a round trip through `T`, or the type error's
        /// message.
        pub fn dropped_fields<T: DeserializeOwned + Serialize>(
            value: &Value,
        ) -> Result<Vec<String>, String> {
            crate::kube::validate::dropped_fields::<T>(value).map_err(crate::Error::into_message)
        }
    }

    pub mod plan {
        pub use crate::plan::workload_edit::WorkloadEdit;
        pub use crate::plan::{plan, plan_with};
    }
}

use input::document::Documents;

/// The result of a successful run.
#[derive(Debug)]
pub struct Run {
    /// The output stream (the input itself when nothing changes).
    pub output: Vec<u8>,
    pub plan: Plan,
}

/// A run planned and not yet written: everything that can fail on the input has been checked.
#[derive(Debug)]
pub struct Planned<'a> {
    pub docs: Documents<'a>,
    pub plan: Plan,
}

impl Planned<'_> {
    /// Writes the output stream (the input itself when nothing changes) without assembling it
    /// in memory.
    pub fn write_to(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        output::write::write_to(&self.docs, &self.plan, out)
    }
}

/// Reads `input` and plans.
pub fn prepare<'a>(input: &'a [u8], options: &Options, host: Host) -> Result<Planned<'a>> {
    let docs = Documents::read(input)?;
    refuse_helm3(&docs, host)?;
    let detected;
    let options = if host.argocd && !options.argocd {
        detected = Options {
            argocd: true,
            ..options.clone()
        };
        &detected
    } else {
        options
    };
    let plan = plan::plan(&docs, options)?;
    Ok(Planned { docs, plan })
}

/// Reads `input`, plans, and writes the output stream into memory.
pub fn run(input: &[u8], options: &Options, host: Host) -> Result<Run> {
    let planned = prepare(input, options, host)?;
    let output = if planned.plan.changes_anything() {
        output::write::write(&planned.docs, &planned.plan)
    } else {
        input.to_vec()
    };
    Ok(Run {
        output,
        plan: planned.plan,
    })
}

/// Helm 3 applies a post-renderer's output as ordinary manifests: a hook Job would run next
/// to the new pods instead of before them, and fail on the next upgrade. Refuse, loudly.
fn refuse_helm3(docs: &Documents, host: Host) -> Result<()> {
    if host.helm_parent && !host.helm_plugin && !docs.is_helm4_postrender_input() {
        return Err(Error::new(
            "Helm 3 is running migration-hook as --post-renderer. Helm 3 applies a post-renderer's output as ordinary resources, so the migration hook Job would run alongside the new pods instead of before them, and the next upgrade would fail on the Job's immutable template. Use Helm 4 (helm plugin install <migration-hook dir>, then --post-renderer migration-hook), or render with `helm template … | migration-hook` and apply that (for Argo CD, as a Config Management Plugin)",
        ));
    }
    Ok(())
}
