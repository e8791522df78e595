//! Differential tests against Kubernetes' own YAML reading (`sigs.k8s.io/yaml` behind kubectl's
//! stream splitter, `tests/oracle/main.go`): for every case of `testdata/cases/` and every
//! corpus rendering (unmarked, marked as in `testdata/corpus-marks/`, and with every container
//! of every workload marked in turn), Kubernetes must read from the output exactly what it
//! reads from the input with the intended edits applied, and read each new document as the
//! value the plan meant to emit. See `common/oracle.rs` for how "intended" is computed.

mod common;

use common::inputs::{self, Input};
use common::oracle::{Compared, Oracle, differential};

/// Runs and compares every input (on every core); returns what was compared and the refused runs.
fn compare_all(oracle: &Oracle, inputs: &[Input]) -> (Compared, Vec<String>) {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = inputs.len().div_ceil(threads).max(1);
    let results: Vec<(Compared, Vec<String>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = inputs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut total = Compared::default();
                    let mut refused = Vec::new();
                    for input in part {
                        match common::run(&input.input, &input.options) {
                            Ok(run) => {
                                common::check_invariants(&input.name, &input.input, &run);
                                total += differential(oracle, &input.name, &input.input, &run);
                            }
                            Err(e) => refused.push(format!("{}: {e}", input.name)),
                        }
                    }
                    (total, refused)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut total = Compared::default();
    let mut refused = Vec::new();
    for (c, r) in results {
        total += c;
        refused.extend(r);
    }
    (total, refused)
}

#[test]
fn cases_read_the_same_to_kubernetes() {
    let Some(oracle) = Oracle::find() else { return };
    let cases = inputs::cases();
    let (total, refused) = compare_all(&oracle, &cases);
    eprintln!("oracle: {} cases: {total:?}", cases.len());
    assert_eq!(refused, Vec::<String>::new());
    // Only `malformed-unread-document` is a stream kubectl rejects.
    assert_eq!(total.streams, cases.len() - 1);
    assert!(cases.len() >= 20 && total.edited >= 19 && total.generated >= 24);
}

#[test]
fn corpus_reads_the_same_to_kubernetes() {
    let Some(oracle) = Oracle::find() else { return };
    let mut all = inputs::corpus_unmarked();
    assert_eq!(all.len(), 14);
    all.extend(inputs::corpus_marked());
    let (total, refused) = compare_all(&oracle, &all);
    eprintln!("oracle: corpus unmarked (14 renderings) and marked (5): {total:?}");
    assert_eq!(refused, Vec::<String>::new());
    assert_eq!(total.streams, 19, "kubectl accepts every corpus stream");
    assert!(total.untouched >= 575 && total.edited >= 7 && total.generated >= 20);
}

/// Every container of every workload in the corpus, marked in turn: the surgical editor on
/// the text of real charts (comments, quoting, odd indentation), and the emitter on their
/// content (env values, scripts, resources).
#[test]
fn every_corpus_container_hoisted_reads_the_same_to_kubernetes() {
    let Some(oracle) = Oracle::find() else { return };
    let runs = inputs::corpus_every_container();
    let (total, refused) = compare_all(&oracle, &runs);
    eprintln!(
        "oracle: {} marked corpus runs ({} refused): {total:?}",
        runs.len(),
        refused.len()
    );
    for r in &refused {
        eprintln!("  refused: {r}");
    }
    assert!(runs.len() >= 200, "only {} runs", runs.len());
    assert_eq!(total.streams, runs.len() - refused.len());
    assert!(total.edited >= 161 && total.generated >= 400);
    // The tool refuses only what it must: a migration that mounts a claim template.
    for r in &refused {
        assert!(
            r.contains("volumeClaimTemplates"),
            "unexpected refusal: {r}"
        );
    }
}
