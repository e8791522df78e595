//! The cheap head scanner against the real parser, on every document of the corpus and of the
//! cases: it must read exactly what the parser reads, or decline. A scanner that guessed would
//! misfile a document (a hook taken for a workload, a mark missed), so this is its contract.

mod common;

use migration_hook::head::{self, Head};
use migration_hook::stream;
use migration_hook::yaml;

fn all_inputs() -> Vec<(String, Vec<u8>)> {
    let mut inputs = Vec::new();
    for dir in ["testdata/corpus", "testdata/cases"] {
        let mut stack = vec![common::root().join(dir)];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "yaml") {
                    inputs.push((path.display().to_string(), std::fs::read(&path).unwrap()));
                }
            }
        }
    }
    inputs.sort();
    inputs
}

#[test]
fn the_scanner_reads_what_the_parser_reads_or_declines() {
    let (mut scanned, mut declined) = (0, 0);
    for (name, input) in all_inputs() {
        let Ok(text) = std::str::from_utf8(&input) else {
            continue;
        };
        for (i, doc) in stream::split(&input).iter().enumerate() {
            let body = &text[doc.body()];
            let Ok(value) = yaml::parse(body) else {
                continue;
            };
            match head::scan(body) {
                Some(fast) => {
                    assert_eq!(fast, Head::from_value(&value), "{name}: document {}", i + 1);
                    scanned += 1;
                }
                None => declined += 1,
            }
        }
    }
    // Real chart output is the scanner's home ground: it must handle nearly all of it.
    eprintln!("scanned {scanned} documents, declined {declined}");
    assert!(scanned > 600, "scanned {scanned}");
    assert!(
        declined * 50 < scanned,
        "declined {declined} of {}",
        scanned + declined
    );
}
