//! One snapshot per behaviour: every file in `testdata/cases/` is run through the library and
//! what the user would see (the account, the edited and the new documents, or the error) is
//! compared with its snapshot. Invariants are checked on every successful case.

mod common;

#[test]
fn cases() {
    insta::glob!("../testdata/cases", "*.yaml", |path| {
        let case = common::read_case(path);
        let dir = path.parent().unwrap();
        let result = common::options(&case.args, dir).and_then(|o| common::run(&case.input, &o));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let should_fail = name.contains(".error.");
        match &result {
            Ok(run) => {
                assert!(!should_fail, "{name} should fail but succeeded");
                common::check_invariants(&name, &case.input, run);
                // Idempotence: the output, run again with the same arguments, only loses what
                // was already hoisted (marks are gone), so with annotation marks it is a fixpoint.
                if case.args.is_empty() {
                    let again =
                        common::run(&run.output, &common::options(&[], dir).unwrap()).unwrap();
                    assert_eq!(
                        again.output, run.output,
                        "{name}: a second run changed the output"
                    );
                }
            }
            Err(_) => assert!(should_fail, "{name} failed unexpectedly: {result:?}"),
        }
        let mut description = case.description.clone();
        if !case.args.is_empty() {
            description.push_str(&format!("\nargs: {}", case.args.join(" ")));
        }
        insta::with_settings!({
            description => description,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(common::render(&case.input, &result));
        });
    });
}
