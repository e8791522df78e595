//! The command line, as typed ("low args"), and its translation into [`Options`] ("high args").

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Args, CommandFactory, Parser, Subcommand};

use crate::settings::mark::{Flag, MarkSpec, Origin, SETTINGS, closest};
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

impl Cli {
    /// Parses the command line as people type it: `explain` may come before, between or after
    /// the flags (they are the same for both), `version` is `--version`, and a near miss of a
    /// subcommand that names no file says which subcommand was meant (instead of clap's
    /// reading it as the FILE argument).
    pub fn parse_args(args: &[OsString]) -> Result<Cli, clap::Error> {
        let mut args = args.to_vec();
        if let Some(i) = first_positional(&args) {
            let word = args[i].to_string_lossy().into_owned();
            match word.as_str() {
                "explain" => {
                    let sub = args.remove(i);
                    args.insert(1, sub);
                }
                "version" => args[i] = OsString::from("--version"),
                _ if !Path::new(&word).exists() => {
                    if let Some(meant) = closest(&word, ["explain", "version"]) {
                        return Err(Cli::command().error(
                            ErrorKind::InvalidSubcommand,
                            format!(
                                "{word:?} is neither a file nor a command; did you mean `{meant}`?"
                            ),
                        ));
                    }
                }
                _ => {}
            }
        }
        Cli::try_parse_from(args)
    }
}

/// The index of the first argument that is neither a flag nor a flag's value.
fn first_positional(args: &[OsString]) -> Option<usize> {
    let command = Cli::command();
    let takes_value = |flag: &str| {
        command
            .get_arguments()
            .any(|a| a.get_long() == Some(flag) && a.get_action().takes_values())
    };
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_str()?;
        if arg == "--" {
            return None;
        }
        match arg.strip_prefix("--") {
            Some(flag) if !flag.contains('=') && takes_value(flag) => i += 2,
            Some(_) => i += 1,
            None if arg.starts_with('-') && arg.len() > 1 => i += 1,
            None => return Some(i),
        }
    }
    None
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

    /// The override flags, one per row of the settings table.
    #[command(flatten)]
    pub(crate) overrides: FlagOverrides,

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
        options.flag_overrides = self.overrides.spec()?;
        options.argocd = self.argocd;
        if let (Some(path), Some(text)) = (&self.config, config_text) {
            let shown = path.display().to_string();
            options.config = crate::settings::config::parse(text)
                .map_err(|e| format!("--config {shown}: {e}"))?;
            options.config_path = Some(shown);
        }
        Ok(options)
    }
}

/// The values of the override flags as typed, by setting key, in table order. Its clap
/// arguments are made from the settings table ([`SETTINGS`]).
#[derive(Debug, Default, Clone)]
pub struct FlagOverrides {
    given: Vec<(&'static str, Vec<String>)>,
}

impl FlagOverrides {
    /// The settings the flags make. The error names the flag.
    fn spec(&self) -> Result<MarkSpec, String> {
        let mut spec = MarkSpec::default();
        for (key, values) in &self.given {
            spec.set_flags(key, values, &Origin::CommandLine)
                .map_err(|e| format!("--{key}: {e}"))?;
        }
        Ok(spec)
    }
}

impl clap::FromArgMatches for FlagOverrides {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = SETTINGS
            .iter()
            .filter(|s| s.flag != Flag::None)
            .filter_map(|s| {
                let values = matches.get_many::<String>(s.key)?;
                Some((s.key, values.cloned().collect()))
            })
            .collect();
        Ok(FlagOverrides { given })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for FlagOverrides {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        SETTINGS
            .iter()
            .filter(|s| s.flag != Flag::None)
            .fold(cmd, |cmd, s| {
                let arg = Arg::new(s.key)
                    .long(s.key)
                    .value_name(s.value_name)
                    .help(s.help())
                    .allow_negative_numbers(s.flag == Flag::Negative)
                    .action(if s.flag == Flag::Repeated {
                        ArgAction::Append
                    } else {
                        ArgAction::Set
                    });
                cmd.arg(arg)
            })
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
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
