//! Every annotation key, prefix and well-known value the tool reads or writes, in one place.

/// Prefix of every key this tool owns. Keys under it are stripped from the output.
pub(crate) const MARK_PREFIX: &str = "migration-hook/";

/// Names the container to hoist; the other mark keys only refine it.
pub(crate) const MARK_CONTAINER: &str = "migration-hook/container";

/// Helm hook annotation: comma-separated events.
pub(crate) const HOOK: &str = "helm.sh/hook";
/// Helm hook weight (a decimal integer in a string).
pub(crate) const HOOK_WEIGHT: &str = "helm.sh/hook-weight";
/// Helm hook delete policy (comma-separated).
pub(crate) const HOOK_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
/// Helm ≥ 3.18 / 4: copy the hook's pod logs into Helm's output.
pub(crate) const HOOK_OUTPUT_LOG_POLICY: &str = "helm.sh/hook-output-log-policy";
/// Helm's "do not delete" policy; meaningless on a hook, so never copied onto one.
pub(crate) const RESOURCE_POLICY: &str = "helm.sh/resource-policy";

/// Helm 4 sets this on every document it hands to a post-renderer and strips it afterwards.
pub(crate) const POSTRENDER_FILENAME: &str = "postrenderer.helm.sh/postrender-filename";

/// `before-hook-creation`: always in the delete policy of everything we emit as a hook, so a
/// leftover from an interrupted run never blocks (or, under server-side apply, fakes) the next one.
pub(crate) const BEFORE_HOOK_CREATION: &str = "before-hook-creation";
/// `hook-succeeded`.
pub(crate) const HOOK_SUCCEEDED: &str = "hook-succeeded";
/// `hook-failed`.
pub(crate) const HOOK_FAILED: &str = "hook-failed";

/// Every hook event Helm knows. A document whose `helm.sh/hook` holds anything else is dropped
/// by Helm ("skipping unknown hooks"), so we never emit one.
pub(crate) const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];
