//! The command line, as typed ("low args"), and its translation into [`Options`] ("high args").

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::mark::{MarkSpec, Origin};
use crate::settings::options::{ContainerFlag, Options};

/// Hoists a workload's database-migration container into one Helm pre-install/pre-upgrade hook
/// Job. Reads a rendered chart (stdin or FILE), writes it to stdout.
#[derive(Debug, Parser)]
#[command(
    name = "migration-hook",
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Mark the migration with the annotation migration-hook/container: NAME on the workload or its pod template (charts expose podAnnotations), with --container, or with --config.\nExamples:\n  helm template shop ./chart | migration-hook\n  helm template shop ./chart | migration-hook --container deployment/shop-web:migrate\n  helm upgrade --install shop ./chart --post-renderer migration-hook --post-renderer-args=--container=deployment/shop-web:migrate\n  helm template shop ./chart | migration-hook explain"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what would be hoisted, copied and removed, and why, instead of the manifests.
    Explain(RunArgs),
}

/// Options shared by the filter and `explain`.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Read the rendered chart from FILE instead of stdin
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Mark a container as the migration: KIND/NAME:CONTAINER or KIND/NAMESPACE/NAME:CONTAINER
    /// (kinds: deployment|deploy, statefulset|sts, daemonset|ds, replicaset|rs, job, cronjob|cj,
    /// pod|po, rollout|ro; case-insensitive). Repeatable.
    #[arg(long = "container", value_name = "KIND/NAME:CONTAINER")]
    pub(crate) containers: Vec<String>,

    /// Read migrations (selectors and overrides) from a YAML file
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Command of the migration container, as a JSON array of strings
    #[arg(long = "command", value_name = "JSON")]
    pub(crate) command_override: Option<String>,

    /// Args of the migration container, as a JSON array of strings
    #[arg(long = "args", value_name = "JSON")]
    pub(crate) args_override: Option<String>,

    /// Image of the migration container
    #[arg(long, value_name = "IMAGE")]
    pub(crate) image: Option<String>,

    /// Name of the Job (default: <workload>-migration)
    #[arg(long, value_name = "NAME")]
    pub(crate) job_name: Option<String>,

    /// Hook events, comma-separated (default: pre-install,pre-upgrade), or "auto" to use
    /// post-install,pre-upgrade when the database is part of the release
    #[arg(long, value_name = "EVENTS")]
    pub(crate) hook: Option<String>,

    /// Hook weight of the Job (default: -1); its dependencies get a lower one
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub(crate) weight: Option<String>,

    /// Hook delete policy; before-hook-creation is always added
    #[arg(long, value_name = "POLICIES")]
    pub(crate) delete_policy: Option<String>,

    /// backoffLimit of the Job (default: 0)
    #[arg(long, value_name = "N")]
    pub(crate) backoff_limit: Option<String>,

    /// activeDeadlineSeconds of the Job (keep it below Helm's --timeout)
    #[arg(long, value_name = "SECONDS")]
    pub(crate) active_deadline_seconds: Option<String>,

    /// ttlSecondsAfterFinished of the Job
    #[arg(long, value_name = "SECONDS")]
    pub(crate) ttl_seconds_after_finished: Option<String>,

    /// Regular containers to keep as native sidecars, comma-separated (default: Cloud SQL and
    /// AlloyDB proxies; an empty value keeps none)
    #[arg(long, value_name = "NAMES")]
    pub(crate) sidecars: Option<String>,

    /// Extra environment variable for the migration container only. Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub(crate) env: Vec<String>,

    /// Add a Secret to the migration container's envFrom, for the Job only. Repeatable.
    #[arg(long = "env-from-secret", value_name = "SECRET")]
    pub(crate) env_from_secret: Vec<String>,

    /// ServiceAccount for the Job only
    #[arg(long, value_name = "NAME")]
    pub(crate) service_account: Option<String>,

    /// Write the output for Argo CD, which runs pre-install hooks on every sync (automatic when
    /// ARGOCD_APP_NAME is set, as in a Config Management Plugin)
    #[arg(long)]
    pub(crate) argocd: bool,

    /// Also write the explanation, warnings and errors to FILE (Helm 4 hides a post-renderer's
    /// stderr). The environment variable MIGRATION_HOOK_REPORT does the same.
    #[arg(
        long,
        value_name = "FILE",
        env = "MIGRATION_HOOK_REPORT",
        hide_env_values = true
    )]
    pub report: Option<PathBuf>,
}

impl RunArgs {
    /// The validated options (the config file's text is read by the caller).
    pub fn options(&self, config_text: Option<&str>) -> Result<Options, String> {
        let mut options = Options::default();
        for flag in &self.containers {
            options
                .container_flags
                .push(ContainerFlag::parse(flag).map_err(|e| format!("--container {e}"))?);
        }
        options.flag_overrides = self.overrides()?;
        options.argocd = self.argocd;
        if let (Some(path), Some(text)) = (&self.config, config_text) {
            let shown = path.display().to_string();
            options.config = crate::settings::config::parse(text)
                .map_err(|e| format!("--config {shown}: {e}"))?;
            options.config_path = Some(shown);
        }
        Ok(options)
    }

    fn overrides(&self) -> Result<MarkSpec, String> {
        let mut spec = MarkSpec::default();
        let origin = Origin::CommandLine;
        let pairs = [
            ("command", "--command", &self.command_override),
            ("args", "--args", &self.args_override),
            ("image", "--image", &self.image),
            ("job-name", "--job-name", &self.job_name),
            ("hook", "--hook", &self.hook),
            ("weight", "--weight", &self.weight),
            ("delete-policy", "--delete-policy", &self.delete_policy),
            ("backoff-limit", "--backoff-limit", &self.backoff_limit),
            (
                "active-deadline-seconds",
                "--active-deadline-seconds",
                &self.active_deadline_seconds,
            ),
            (
                "ttl-seconds-after-finished",
                "--ttl-seconds-after-finished",
                &self.ttl_seconds_after_finished,
            ),
            ("sidecars", "--sidecars", &self.sidecars),
            (
                "service-account",
                "--service-account",
                &self.service_account,
            ),
        ];
        for (key, flag, value) in pairs {
            if let Some(v) = value {
                spec.set(key, v, &origin)
                    .map_err(|e| format!("{flag}: {e}"))?;
            }
        }
        if !self.env.is_empty() {
            let mut vars = serde_json::Map::new();
            for pair in &self.env {
                let (name, value) = pair
                    .split_once('=')
                    .filter(|(n, _)| !n.is_empty())
                    .ok_or_else(|| format!("--env {pair:?}: expected NAME=VALUE"))?;
                vars.insert(
                    name.to_string(),
                    serde_json::Value::String(value.to_string()),
                );
            }
            spec.set("env", &serde_json::Value::Object(vars).to_string(), &origin)
                .map_err(|e| format!("--env: {e}"))?;
        }
        if !self.env_from_secret.is_empty() {
            spec.set("env-from-secret", &self.env_from_secret.join(","), &origin)
                .map_err(|e| format!("--env-from-secret: {e}"))?;
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_options() {
        let cli = Cli::try_parse_from([
            "migration-hook",
            "--container",
            "deploy/web:migrate",
            "--weight",
            "-5",
            "--env",
            "A=yes",
            "--hook",
            "auto",
        ])
        .unwrap();
        let options = cli.run.options(None).unwrap();
        assert_eq!(options.container_flags[0].name, "web");
        assert_eq!(options.flag_overrides.weight, Some(-5));
        assert_eq!(
            options.flag_overrides.env.as_ref().unwrap()[0]["value"],
            "yes"
        );
    }

    #[test]
    fn explain_is_a_subcommand_and_file_a_positional() {
        let cli = Cli::try_parse_from([
            "migration-hook",
            "explain",
            "in.yaml",
            "--container",
            "sts/db:init",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Explain(args)) => {
                assert_eq!(args.file.unwrap().to_str(), Some("in.yaml"))
            }
            None => panic!("explain not parsed"),
        }
    }

    #[test]
    fn bad_flag_values_name_the_flag() {
        let cli = Cli::try_parse_from(["migration-hook", "--weight", "heavy"]).unwrap();
        assert!(cli.run.options(None).unwrap_err().starts_with("--weight: "));
    }
}
