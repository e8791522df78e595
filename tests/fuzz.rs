//! Property test of the real binary over generated and mutated streams: whatever the input, it
//! never panics, never hangs, and either exits 0 with every input document accounted for (in
//! order, unchanged unless the plan edits it, the new documents after them) or exits non-zero
//! with nothing on stdout and an error on stderr.
//!
//! Inputs are deterministic: input `i` of seed `s` is built from `Rng::new(s ^ i)`, so a failure
//! is reproduced by its seed and index (`MIGRATION_HOOK_FUZZ_SEED`, `MIGRATION_HOOK_FUZZ_ONLY`),
//! and each failing input is written to `target/fuzz-failures/`. They start from every case of
//! `testdata/cases/`, the small corpus renderings (marked and unmarked) and synthetic streams
//! (`fuzz/inputs.rs`), and get up to three mutations each. On success the library is run again in
//! the test process (it must give the same bytes) and, when the Go oracle is built, the output
//! must read to Kubernetes as the input with the intended edits (`common/oracle.rs`).
//!
//! `MIGRATION_HOOK_FUZZ_ITERATIONS` sets the number of inputs (default 1500, what CI runs);
//! `MIGRATION_HOOK_FUZZ_REPLAY="file.yaml …"` checks saved inputs instead.

mod common;
#[path = "fuzz/inputs.rs"]
mod fuzz_inputs;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::oracle::Oracle;
use fuzz_inputs::{Limits, Rng};
use migration_hook::testing::document::Documents;
use migration_hook::testing::stream;

const DEFAULT_ITERATIONS: u64 = 1500;
const DEFAULT_SEED: u64 = 0x6d69_6772_6174_6521;
/// Far above what any input here needs (the largest takes well under a second in a debug
/// build); reaching it means a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A starting point: an input and the flags it is run with.
struct Seed {
    name: String,
    input: Vec<u8>,
    args: Vec<String>,
    /// The directory relative paths in `args` are relative to.
    dir: PathBuf,
}

fn seeds() -> Vec<Seed> {
    let mut seeds = Vec::new();
    for path in common::inputs::files("testdata/cases", |n| n.ends_with(".yaml")) {
        let case = common::read_case(&path);
        seeds.push(Seed {
            name: common::inputs::short(&path),
            input: case.input,
            args: case.args,
            dir: path.parent().unwrap().to_path_buf(),
        });
    }
    let marks = common::root().join("testdata/corpus-marks");
    for path in common::inputs::corpus_files() {
        let input = std::fs::read(&path).unwrap();
        // The two GitLab renderings (190-330 kB) would dominate the time; the others are 8-125 kB.
        if input.len() > 150_000 {
            continue;
        }
        let case = path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy();
        let args = std::fs::read_to_string(marks.join(format!("{case}.args")))
            .map(|a| common::shell_words(a.trim()))
            .unwrap_or_default();
        seeds.push(Seed {
            name: common::inputs::short(&path),
            input,
            args,
            dir: marks.clone(),
        });
    }
    seeds
}

/// What one input did.
#[derive(Debug, Default)]
struct Tally {
    inputs: u64,
    succeeded: u64,
    refused: u64,
    edited: u64,
    generated: u64,
    oracle_compared: u64,
    failures: Vec<String>,
}

/// The outcome of running the binary.
struct Outcome {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
}

fn run_binary(args: &[String], dir: &Path, input: &[u8]) -> Result<Outcome, String> {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_migration-hook"))
        .args(args)
        .current_dir(dir)
        .env_remove("MIGRATION_HOOK_REPORT")
        .env_remove("HELM_PLUGIN_NAME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout_pipe = child.stdout.take().unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if start.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hung: killed after {TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    writer.join().unwrap();
    Ok(Outcome {
        code: status.code(),
        stdout: out_reader.join().unwrap(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
    })
}

/// Builds input `index` of `seed`: its text, flags, directory and a description.
fn build(
    seed: u64,
    index: u64,
    seeds: &[Seed],
    limits: &Limits,
) -> (Vec<u8>, Vec<String>, PathBuf, String) {
    let mut rng = Rng::new(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (mut input, mut args, dir, mut what) = if rng.chance(40) {
        let (input, args) = fuzz_inputs::synthetic(&mut rng);
        (input, args, common::root(), "synthetic".to_string())
    } else {
        let s = rng.pick(seeds);
        (
            s.input.clone(),
            s.args.clone(),
            s.dir.clone(),
            s.name.clone(),
        )
    };
    // Sometimes mark one more container by flag (taken from the unmutated input).
    if rng.chance(25) {
        let has_command = args.iter().any(|a| a == "--command");
        let has_hook = args.iter().any(|a| a == "--hook");
        let marks: Vec<Vec<String>> = common::inputs::container_marks(&input)
            .into_iter()
            .filter(|m| !(has_command && m.iter().any(|a| a == "--command")))
            .map(|m| match m.iter().position(|a| a == "--hook") {
                // The seed's own --hook stays; the flag is accepted once.
                Some(at) if has_hook => [&m[..at], &m[at + 2..]].concat(),
                _ => m,
            })
            .collect();
        if !marks.is_empty() {
            args.extend(rng.pick(&marks).iter().cloned());
        }
    }
    let overridden = ["--weight", "--hook", "--sidecars", "--backoff-limit"];
    if rng.chance(10) && !args.iter().any(|a| overridden.contains(&a.as_str())) {
        args.extend(
            rng.pick(&[
                ["--weight", "-7"],
                ["--hook", "post-install,pre-upgrade"],
                ["--sidecars", "cloud-sql-proxy"],
                ["--backoff-limit", "2"],
            ])
            .iter()
            .map(|s| s.to_string()),
        );
    }
    let mutations = match rng.below(8) {
        0 => 0,
        1..=4 => 1,
        5 | 6 => 2,
        _ => 3,
    };
    for _ in 0..mutations {
        what.push_str(" + ");
        what.push_str(fuzz_inputs::mutate(&mut rng, &mut input, limits));
    }
    (input, args, dir, what)
}

/// Checks one input; `Err` describes a failure.
fn check(
    input: &[u8],
    args: &[String],
    dir: &Path,
    oracle: Option<&Oracle>,
    tally: &mut Tally,
) -> Result<(), String> {
    let outcome = run_binary(args, dir, input)?;
    if outcome.stderr.contains("panicked") || outcome.code == Some(101) {
        return Err(format!("panicked: {}", outcome.stderr));
    }
    let Some(code) = outcome.code else {
        return Err(format!(
            "killed by a signal (stack overflow?): {}",
            outcome.stderr
        ));
    };
    if code != 0 {
        if !outcome.stdout.is_empty() {
            return Err(format!(
                "exit {code} with {} bytes on stdout",
                outcome.stdout.len()
            ));
        }
        if code != 1 || !outcome.stderr.starts_with("migration-hook: error: ") {
            return Err(format!("exit {code}, stderr: {}", outcome.stderr));
        }
        if outcome.stderr.contains("SENTINEL") {
            return Err(format!(
                "a Secret's data in the message: {}",
                outcome.stderr
            ));
        }
        tally.refused += 1;
        return Ok(());
    }
    tally.succeeded += 1;
    if !input.is_empty() && outcome.stdout.is_empty() {
        return Err("exit 0 with empty stdout".into());
    }
    // The same run in this process, for the plan: it must give the same bytes.
    let options = common::options(args, dir).map_err(|e| format!("options: {e}"))?;
    let input_copy = input.to_vec();
    let run = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || common::run(&input_copy, &options))
        .unwrap()
        .join()
        .map_err(|_| "the library panicked where the binary did not".to_string())?
        .map_err(|e| format!("the library failed where the binary succeeded: {e}"))?;
    if run.output != outcome.stdout {
        return Err("the binary's output differs from the library's (not deterministic?)".into());
    }
    // Every input document is there, in order: unchanged, or edited by the plan.
    let before = stream::split(input);
    let after = stream::split(&outcome.stdout);
    if after.len() != before.len() + run.plan.generated.len() {
        return Err(format!(
            "{} input documents and {} new ones, but {} output documents",
            before.len(),
            run.plan.generated.len(),
            after.len()
        ));
    }
    let last = before.len().wrapping_sub(1);
    for (i, (b, a)) in before.iter().zip(&after).enumerate() {
        let old = &input[b.range()];
        let new = &outcome.stdout[a.range()];
        if let Some(edit) = run.plan.edits.iter().find(|e| e.doc == i) {
            let docs = Documents::read(&outcome.stdout).unwrap();
            let doc = docs.get(i);
            doc.value()
                .map_err(|e| format!("edited document {} does not parse: {e}", i + 1))?;
            // A Job converted in place may lose a revision suffix from its name.
            if doc.kind() != edit.label.kind.as_deref()
                || (doc.name() != edit.label.name.as_deref() && !edit.converted)
            {
                return Err(format!("edited document {} changed identity", i + 1));
            }
            tally.edited += 1;
        } else if old != new
            && !(i == last
                && !old.ends_with(b"\n")
                && (new == [old, b"\n"].concat() || new == [old, b"\r\n"].concat()))
        {
            return Err(format!("document {} changed but is not edited", i + 1));
        }
    }
    tally.generated += run.plan.generated.len() as u64;
    let name = String::from("fuzz input");
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        common::check_invariants(&name, input, &run);
        if let Some(oracle) = oracle {
            common::oracle::differential(oracle, &name, input, &run);
        }
    }))
    .map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "invariant check panicked".into())
    })?;
    if oracle.is_some() {
        tally.oracle_compared += 1;
    }
    Ok(())
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    Some(match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).unwrap(),
        None => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
    })
}

#[test]
fn the_binary_never_panics_hangs_or_truncates() {
    let iterations = env_u64("MIGRATION_HOOK_FUZZ_ITERATIONS").unwrap_or(DEFAULT_ITERATIONS);
    let seed = env_u64("MIGRATION_HOOK_FUZZ_SEED").unwrap_or(DEFAULT_SEED);
    let only = env_u64("MIGRATION_HOOK_FUZZ_ONLY");
    let oracle = Oracle::find();
    if let Ok(files) = std::env::var("MIGRATION_HOOK_FUZZ_REPLAY") {
        // Check saved inputs (`target/fuzz-failures/*.yaml` with their `.args`) instead.
        let mut failed = Vec::new();
        for file in files.split_whitespace() {
            let input = std::fs::read(file).unwrap();
            let args: Vec<String> = std::fs::read_to_string(Path::new(file).with_extension("args"))
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect();
            let mut tally = Tally::default();
            if let Err(e) = check(&input, &args, &common::root(), oracle.as_ref(), &mut tally) {
                failed.push(format!("{file}: {e}"));
            }
        }
        assert!(failed.is_empty(), "{failed:#?}");
        return;
    }
    let seeds = seeds();
    // Monsters grow with the run: a long local run also tries 8 MB scalars and deeper nests.
    let limits = if iterations > DEFAULT_ITERATIONS {
        Limits {
            huge_scalar: 8 << 20,
            depth: 100_000,
        }
    } else {
        Limits {
            huge_scalar: 1 << 20,
            depth: 20_000,
        }
    };
    let failures_dir = common::root().join("target/fuzz-failures");
    // Failed checks are caught and reported below with their input; the default hook would
    // print each one with a backtrace as well.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let total = Mutex::new(Tally::default());
    let slowest = Mutex::new((Duration::ZERO, String::new()));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for worker in 0..threads {
            let (seeds, limits, oracle, total, slowest) =
                (&seeds, &limits, oracle.as_ref(), &total, &slowest);
            let failures_dir = &failures_dir;
            // Deep inputs that the binary refuses cleanly still recurse deep in the test's
            // own checks (serde_json's recursive drop): room for that.
            std::thread::Builder::new()
                .stack_size(256 << 20)
                .spawn_scoped(scope, move || {
                    let mut tally = Tally::default();
                    let indices = match only {
                        Some(o) => o..o + 1,
                        None => 0..iterations,
                    };
                    for index in indices.skip(worker as usize).step_by(threads as usize) {
                        let (input, args, dir, what) = build(seed, index, seeds, limits);
                        if only.is_some() {
                            // Reproducing one input: keep it for a closer look.
                            std::fs::create_dir_all(failures_dir).unwrap();
                            let file = failures_dir.join(format!("{seed:x}-{index}.only.yaml"));
                            std::fs::write(&file, &input).unwrap();
                            eprintln!(
                                "fuzz: input #{index} ({what}; args {args:?}): {}",
                                file.display()
                            );
                        }
                        tally.inputs += 1;
                        let t = Instant::now();
                        let result = check(&input, &args, &dir, oracle, &mut tally);
                        let elapsed = t.elapsed();
                        {
                            let mut s = slowest.lock().unwrap();
                            if elapsed > s.0 {
                                *s = (elapsed, format!("#{index} {what} ({} bytes)", input.len()));
                            }
                        }
                        if let Err(message) = result {
                            std::fs::create_dir_all(failures_dir).unwrap();
                            let file = failures_dir.join(format!("{seed:x}-{index}.yaml"));
                            std::fs::write(&file, &input).unwrap();
                            std::fs::write(file.with_extension("args"), args.join("\n")).unwrap();
                            let short: String = message.chars().take(600).collect();
                            tally.failures.push(format!(
                                "input #{index} ({what}; args {args:?}; saved as {}): {short}",
                                file.display()
                            ));
                        }
                    }
                    let mut t = total.lock().unwrap();
                    t.inputs += tally.inputs;
                    t.succeeded += tally.succeeded;
                    t.refused += tally.refused;
                    t.edited += tally.edited;
                    t.generated += tally.generated;
                    t.oracle_compared += tally.oracle_compared;
                    t.failures.extend(tally.failures);
                })
                .unwrap();
        }
    });
    std::panic::set_hook(default_hook);
    let total = total.into_inner().unwrap();
    let slowest = slowest.into_inner().unwrap();
    eprintln!(
        "fuzz: seed {seed:#x}: {} inputs in {:.1?} ({} exit 0, {} refused with exit 1; {} edited and {} new documents; {} compared with the oracle); slowest {:.1?}: {}",
        total.inputs,
        started.elapsed(),
        total.succeeded,
        total.refused,
        total.edited,
        total.generated,
        total.oracle_compared,
        slowest.0,
        slowest.1
    );
    assert!(
        total.failures.is_empty(),
        "{} of {} inputs failed:\n{}",
        total.failures.len(),
        total.inputs,
        total
            .failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    if only.is_none() {
        // The run must exercise the planner and the editor, not only error paths.
        assert!(total.succeeded * 4 >= total.inputs, "{total:?}");
        assert!(total.edited * 10 >= total.inputs, "{total:?}");
        assert!(total.refused * 20 >= total.inputs, "{total:?}");
    }
}
