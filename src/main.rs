//! The binary: read, run, write, report. Exit 0 with the whole stream, or non-zero with nothing
//! on stdout (a truncated stream would make Helm delete resources).

use std::ffi::OsString;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use migration_hook::Host;
use migration_hook::report;
use migration_hook::{Cli, Command, RunArgs};
use migration_hook::{Diagnostic, Severity};

/// Prefix of every line this program writes to stderr.
const NAME: &str = "migration-hook";

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let host = Host::detect();
    let cli = match Cli::parse_args(&argv) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e, &argv, host),
    };
    let (explain, args) = match cli.command {
        Some(Command::Explain(args)) => (true, args),
        None => (false, cli.run),
    };
    let channel = Channel::new(args.report.clone(), host);
    match execute(&args, explain, host, &channel) {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            channel.error(&format!("{NAME}: error: {message}"), "");
            ExitCode::from(2)
        }
        Err(Failure::Run(message, account)) => {
            channel.error(&format!("{NAME}: {message}"), &account);
            ExitCode::from(1)
        }
    }
}

/// A command line clap cannot read. Help and version go to stdout as usual; an error takes the
/// same channels as every other error (under Helm 4 the report file and the terminal, since
/// Helm hides stderr), with the arguments exactly as received: Helm 4 passes each
/// `--post-renderer-args` as one argument, which is not always what was typed.
fn usage_error(error: &clap::Error, argv: &[OsString], host: Host) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    // clap's message and tips, without its usage lines.
    let mut lines: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .filter(|l| !l.trim().is_empty())
        .collect();
    let received: Vec<String> = argv[1..]
        .iter()
        .map(|a| format!("{:?}", a.to_string_lossy()))
        .collect();
    let hint = argv[1..]
        .iter()
        .map(|a| a.to_string_lossy())
        .find(|a| a.starts_with("--") && a.contains(' ') && !a.contains('='))
        .map(|a| {
            let fixed = a.replacen(' ', "=", 1);
            format!(
                "  each argument arrives as one word: write {fixed:?} (with Helm: --post-renderer-args={fixed})"
            )
        });
    let received = format!("  arguments as received: [{}]", received.join(", "));
    lines.push(&received);
    if let Some(hint) = &hint {
        lines.push(hint);
    }
    let report = report_path(argv);
    Channel::new(report, host).error(&format!("{NAME}: error: {}", lines.join("\n")), "");
    ExitCode::from(2)
}

/// `--report FILE`, `--report=FILE` or MIGRATION_HOOK_REPORT, read from a command line clap
/// could not parse.
fn report_path(argv: &[OsString]) -> Option<PathBuf> {
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy();
        if text == "--report" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = text.strip_prefix("--report=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("MIGRATION_HOOK_REPORT").map(PathBuf::from)
}

enum Failure {
    /// Bad flags or an unreadable config file (exit 2).
    Usage(String),
    /// Bad input or an I/O error (exit 1), with whatever account there is.
    Run(String, String),
}

fn execute(
    args: &RunArgs,
    explain: bool,
    host: Host,
    channel: &Channel,
) -> Result<ExitCode, Failure> {
    let config_text = match &args.config {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("--config {}: cannot read it", path.display()))
                .map_err(|e| Failure::Usage(format!("{e:#}")))?,
        ),
        None => None,
    };
    let options = args
        .options(config_text.as_deref())
        .map_err(Failure::Usage)?;
    if args.file.is_none() && io::stdin().is_terminal() {
        return Err(Failure::Usage(
            "no input: stdin is a terminal. Pipe a rendered chart in (helm template … | migration-hook …) or name a FILE; see --help".into(),
        ));
    }
    let input = read_input(args.file.as_deref())
        .map_err(|e| Failure::Run(format!("error: {e:#}"), String::new()))?;
    let planned = migration_hook::prepare(&input, &options, host)
        .map_err(|e| Failure::Run(e.to_string(), String::new()))?;
    // The account is long for a large chart (2 MB for 2,000 migrations): made only when used.
    let account = (explain || channel.report.is_some()).then(|| report::explain(&planned.plan));
    // `explain` prints the warnings with the account, on stdout; saying them twice helps nobody.
    let to_stderr = if explain {
        &[][..]
    } else {
        &planned.plan.diagnostics[..]
    };
    let unmarked = (!explain)
        .then(|| report::unmarked_candidates_warning(&planned.plan))
        .flatten();
    channel.success(
        to_stderr,
        unmarked.as_deref(),
        account.as_deref().unwrap_or_default(),
    );
    // stdout as a `File` (a duplicate of fd 1): `Stdout` is line-buffered, and looks for the
    // last line break of every write. Large slices go straight through; the buffer only
    // gathers small pieces.
    let stdout: Box<dyn Write> = match io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(io::stdout().lock()),
    };
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout);
    let written = if explain {
        out.write_all(account.as_deref().unwrap_or_default().as_bytes())
    } else {
        planned.write_to(&mut out)
    };
    let result = match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // A reader that stops early (`| head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(Failure::Run(
            format!("error: writing the output: {e}"),
            account.unwrap_or_else(|| report::explain(&planned.plan)),
        )),
    };
    // The process ends here: freeing the documents and the input one by one would only cost
    // time (a 10 MB chart is tens of thousands of allocations and a large unmapping).
    std::mem::forget(planned);
    std::mem::forget(input);
    result
}

fn read_input(file: Option<&Path>) -> anyhow::Result<Vec<u8>> {
    match file {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display())),
        None => {
            let mut buf = Vec::new();
            // As a `File`, stdin is read into a buffer of the right size at once when it is a
            // file (`< chart.yaml`); a pipe is read as `Stdin` would.
            let stdin = io::stdin()
                .as_fd()
                .try_clone_to_owned()
                .map(std::fs::File::from);
            match stdin {
                Ok(mut file) => file.read_to_end(&mut buf),
                Err(_) => io::stdin().read_to_end(&mut buf),
            }
            .context("reading the manifests from stdin")?;
            Ok(buf)
        }
    }
}

/// Where diagnostics go. stderr always; under Helm 4, which discards a post-renderer's stderr,
/// also the controlling terminal when there is one; and the report file when asked.
struct Channel {
    report: Option<PathBuf>,
    terminal: bool,
}

impl Channel {
    fn new(report: Option<PathBuf>, host: Host) -> Channel {
        Channel {
            report,
            // Under Helm 4, stderr goes to a buffer nobody reads. Anywhere else stderr is seen,
            // and writing to the terminal as well would say everything twice.
            terminal: host.helm_plugin && !io::stderr().is_terminal(),
        }
    }

    fn success(&self, diagnostics: &[Diagnostic], extra: Option<&str>, account: &str) {
        let lines: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.severity <= Severity::Warning)
            .map(|d| format!("{NAME}: {d}"))
            .chain(extra.map(|line| format!("{NAME}: {line}")))
            .collect();
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        let report = match self.report {
            Some(_) => format!("{NAME}: succeeded\n{account}"),
            None => String::new(),
        };
        self.emit(&text, &report);
    }

    fn error(&self, line: &str, account: &str) {
        self.emit(&format!("{line}\n"), &format!("{line}\n{account}"));
    }

    fn emit(&self, text: &str, report: &str) {
        if !text.is_empty() {
            let _ = io::stderr().write_all(text.as_bytes());
            if self.terminal
                && let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty")
            {
                let _ = tty.write_all(text.as_bytes());
            }
        }
        if let Some(path) = &self.report
            && let Err(e) = std::fs::write(path, report)
        {
            let _ = writeln!(
                io::stderr(),
                "{NAME}: warning: cannot write the report to {}: {e}",
                path.display()
            );
        }
    }
}
