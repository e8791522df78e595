//! The shipped corpus of real `helm template` output (`testdata/corpus/`, with each chart's
//! SOURCE.md): untouched when nothing is marked, converted when marked.

mod common;

use migration_hook::Options;

#[test]
fn unmarked_corpus_passes_through_byte_for_byte() {
    let files = common::inputs::corpus_files();
    assert_eq!(
        files.len(),
        14,
        "12 cases, 2 of them with a Helm 3 rendering too"
    );
    for path in files {
        let input = std::fs::read(&path).unwrap();
        let run = common::run(&input, &Options::default()).unwrap();
        assert!(run.plan.migrations.is_empty(), "{}", path.display());
        assert!(run.output == input, "{} changed", path.display());
    }
}

#[test]
fn marked_corpus() {
    insta::glob!("../testdata/corpus-marks", "*.args", |marks| {
        let case = marks.file_stem().unwrap().to_string_lossy().to_string();
        let rendered = common::root()
            .join("testdata/corpus")
            .join(&case)
            .join("rendered.yaml");
        let input = std::fs::read(&rendered).unwrap();
        let args = common::shell_words(std::fs::read_to_string(marks).unwrap().trim());
        let options = common::options(&args, marks.parent().unwrap()).unwrap();
        let result = common::run(&input, &options);
        let run = result.as_ref().unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(!run.plan.migrations.is_empty(), "{case}: nothing converted");
        common::check_invariants(&case, &input, run);
        insta::with_settings!({
            description => format!("{case} marked with: {}", args.join(" ")),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(common::render(&input, &result));
        });
    });
}
