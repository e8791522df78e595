//! A large input is read and planned on two threads (heads, drafts, lookups, parses); the
//! result must be exactly the one-thread result: same output bytes, same diagnostics, same
//! first error.

use migration_hook::Options;
use migration_hook::testing::document::Documents;
use migration_hook::testing::{plan, write};

/// A chart of `units` apps, most with a marked Deployment; `bad` units mark a container that
/// does not exist.
fn chart(units: usize, bad: &[usize]) -> String {
    let mut out = String::new();
    for db in 0..3 {
        out.push_str(&format!(
            "---\n# Source: c/templates/db.yaml\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db-{db}\nspec:\n  template:\n    spec:\n      containers:\n        - name: pg\n          image: postgres\n"
        ));
    }
    for i in 0..units {
        let padding = "x".repeat(600 + i % 7);
        // Units 5, 105, 205… run the same migration (merged into one Job).
        let env = if i % 100 == 5 {
            "shared".to_string()
        } else {
            format!("app-{i}")
        };
        let container = if bad.contains(&i) { "nope" } else { "migrate" };
        let mark = if i % 4 == 3 {
            String::new()
        } else {
            // Pre-install chosen explicitly: the database is in the release, which is then a
            // warning (with the default events it would be refused).
            format!(
                "        migration-hook/container: {container}\n        migration-hook/hook: pre-install,pre-upgrade\n"
            )
        };
        out.push_str(&format!(
            "---\n# Source: c/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-{i}-config\n  labels:\n    app.kubernetes.io/instance: rel\ndata:\n  DATABASE_URL: \"postgres://u@db-{db}:5432/app\"\n  padding: {padding}\n\
---\n# Source: c/templates/secret.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {env}-secret\ntype: Opaque\ndata:\n  password: cGFzcw==\n\
---\n# Source: c/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app-{i}\n\
---\n# Source: c/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    app.kubernetes.io/name: app-{i}\n    app.kubernetes.io/instance: rel\n\
---\n# Source: c/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  labels:\n    app.kubernetes.io/name: app-{i}\nspec:\n  template:\n    metadata:\n      annotations:\n{mark}      labels:\n        app.kubernetes.io/name: app-{i}\n        app.kubernetes.io/instance: rel\n    spec:\n      serviceAccountName: app-{i}\n      initContainers:\n        - name: migrate\n          image: app:1\n          command: [migrate]\n          env:\n            - name: PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: {env}-secret\n                  key: password\n          envFrom:\n            - configMapRef:\n                name: app-{i}-config\n      containers:\n        - name: app\n          image: app:1\n",
            db = i % 3,
        ));
        if i % 40 == 0 {
            out.push_str(&format!(
                "---\n# Source: c/templates/pdb.yaml\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: app-{i}\nspec:\n  selector:\n    matchLabels:\n      app.kubernetes.io/instance: rel\n"
            ));
        }
    }
    out
}

/// What a run produced: output, diagnostics, Job names.
type Outcome = (Vec<u8>, Vec<String>, Vec<String>);

/// The outcome, or the error message.
fn run(input: &str, threads: bool) -> Result<Outcome, String> {
    let docs = Documents::read_with(input.as_bytes(), threads).map_err(|e| e.to_string())?;
    let plan = plan::plan_with(&docs, &Options::default(), threads).map_err(|e| e.to_string())?;
    let diagnostics = plan.diagnostics.iter().map(|d| d.to_string()).collect();
    let jobs = plan.migrations.iter().map(|m| m.job.clone()).collect();
    Ok((write::write(&docs, &plan), diagnostics, jobs))
}

#[test]
fn two_threads_plan_exactly_what_one_does() {
    let input = chart(240, &[]);
    let one = run(&input, false).unwrap();
    let two = run(&input, true).unwrap();
    assert!(one.2.len() > 100, "{} Jobs", one.2.len());
    assert!(one.1.iter().any(|d| d.contains("part of this release")));
    assert!(one.0.len() > input.len());
    assert_eq!(one.1, two.1);
    assert_eq!(one.2, two.2);
    assert!(one.0 == two.0, "outputs differ");

    let heads = |threads| {
        let docs = Documents::read_with(input.as_bytes(), threads).unwrap();
        docs.iter()
            .map(|d| {
                (
                    d.index,
                    d.raw,
                    format!("{:?}", d.head),
                    d.source.clone().map(|s| s.into_owned()),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(heads(false), heads(true));
}

#[test]
fn two_threads_report_the_first_error_in_stream_order() {
    let input = chart(240, &[30, 200]);
    let one = run(&input, false).unwrap_err();
    let two = run(&input, true).unwrap_err();
    assert!(one.contains("app-30"), "{one}");
    assert_eq!(one, two);
}

#[test]
fn two_threads_reject_bad_utf8_as_one_does() {
    let mut input = chart(40, &[]).into_bytes();
    let at = input.len() / 2;
    input[at] = 0xff;
    let one = Documents::read_with(&input, false).unwrap_err().to_string();
    let two = Documents::read_with(&input, true).unwrap_err().to_string();
    assert!(one.contains("not UTF-8"), "{one}");
    assert_eq!(one, two);
}
