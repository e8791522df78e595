//! The fast paths agree with the parser: the line scanners of `head` (a document's head, a
//! Service's selector) read exactly what `yaml::parse` reads, or decline; and a document the
//! line scan of `go_safe` lets skip the Go-compatibility pass reads the same without it. Checked on every
//! document of the corpus and the cases, and on variants of them with constructs inserted that
//! a line scanner could misread (multi-line quoted scalars and flow collections that run onto
//! column 0, lone `\r`s, tabs, duplicate keys, YAML 1.1 scalars).

mod common;

use migration_hook::testing::Scan;
use migration_hook::testing::head::{self, Head};
use migration_hook::testing::stream;
use migration_hook::testing::yaml;
use serde_json::Value;

/// Every document body of the corpus and the cases.
fn bodies() -> Vec<String> {
    bodies_under("testdata")
}

/// The document bodies of the `.yaml` files under `dir` (relative to the repository).
fn bodies_under(dir: &str) -> Vec<String> {
    let mut out = Vec::new();
    for path in common::inputs::files_under(dir, |n| n.ends_with(".yaml")) {
        let input = std::fs::read(&path).unwrap();
        let Ok(text) = std::str::from_utf8(&input) else {
            continue;
        };
        for raw in stream::split(&input) {
            out.push(text[raw.body()].to_string());
        }
    }
    out
}

/// `body` with each trap inserted before each of its lines (and at the end).
fn with_traps<'a>(body: &'a str, traps: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    let lines: Vec<&str> = body.split_inclusive('\n').collect();
    (0..=lines.len()).flat_map(move |at| {
        let (before, after) = (lines[..at].concat(), lines[at..].concat());
        traps.iter().map(move |trap| {
            let mut variant = before.clone();
            if !variant.is_empty() && !variant.ends_with('\n') {
                variant.push('\n');
            }
            variant.push_str(trap);
            variant.push('\n');
            variant.push_str(&after);
            variant
        })
    })
}

/// What the parser reads as a Service selector (`Selector::from_map`'s input, as pairs).
fn parsed_selector(value: &Value) -> Option<Vec<(String, String)>> {
    let map = value.get("spec")?.get("selector")?.as_object()?;
    Some(
        map.iter()
            .map(|(k, v)| {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect(),
    )
}

fn sorted(mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs.sort();
    pairs
}

/// What the parser reads at `path`: the entries whose keys start with `prefix`, or `Err` when
/// one of them is not a string (the scanner must then decline).
fn parsed_entries(value: &Value, path: &[&str], prefix: &str) -> Result<Vec<(String, String)>, ()> {
    let map = path
        .iter()
        .try_fold(value, |v, k| v.get(k))
        .and_then(Value::as_object);
    let mut out = Vec::new();
    for (k, v) in map.into_iter().flatten() {
        if k.starts_with(prefix) {
            out.push((k.clone(), v.as_str().ok_or(())?.to_string()));
        }
    }
    Ok(out)
}

/// Checks one body; returns (head scanned, selector scanned).
fn check(body: &str) -> (bool, bool) {
    let Ok(value) = yaml::parse(body) else {
        // The scanners may read anything from a document the parser rejects: such a document
        // is never acted on unless parsed, and the parse error is what the user sees.
        return (false, false);
    };
    if head::has_lone_cr(body) {
        return (false, false);
    }
    let head = head::scan(body);
    if let Some(head) = &head {
        assert_eq!(head, &Head::from_value(&value), "head of:\n{body}");
    }
    let selector = head::service_selector(body).sure().map(|s| {
        s.map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<Vec<_>>()
        })
    });
    if let Some(scanned) = head::scan_head(body)
        && let Some(from_spec) = head::service_selector_at(body, scanned.spec_line).sure()
    {
        let from_spec = from_spec.map(|pairs| {
            pairs
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect::<Vec<_>>()
        });
        assert_eq!(
            from_spec.map(sorted),
            parsed_selector(&value).map(sorted),
            "selector from spec_line of:\n{body}"
        );
    }
    if let Some(selector) = &selector {
        assert_eq!(
            selector.clone().map(sorted),
            parsed_selector(&value).map(sorted),
            "selector of:\n{body}"
        );
    }
    // The annotation paths select.rs reads with `map_at`.
    for path in common::inputs::annotation_paths() {
        let path = &path[..];
        for prefix in ["migration-hook/", ""] {
            let scanned = head::map_at(body, path, |k| k.starts_with(prefix)).sure();
            if let Some(scanned) = scanned {
                let scanned: Vec<(String, String)> = scanned
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                assert_eq!(
                    Ok(scanned),
                    parsed_entries(&value, path, prefix),
                    "{path:?} of:\n{body}"
                );
            }
        }
    }
    (head.is_some(), selector.is_some())
}

#[test]
fn scanners_agree_with_the_parser_on_every_document() {
    let bodies = bodies();
    let mut parsed = 0;
    let mut heads = 0;
    let mut services = 0;
    let mut selectors = 0;
    for body in &bodies {
        let (head, selector) = check(body);
        if yaml::parse(body).is_ok() {
            parsed += 1;
            heads += usize::from(head);
            if body.contains("kind: Service\n") {
                services += 1;
                selectors += usize::from(selector);
            }
        }
    }
    assert!(parsed > 500, "{parsed} documents");
    // The fast paths are taken, not just correct: nearly every real document is scanned.
    assert!(
        heads * 100 >= parsed * 99,
        "{heads} of {parsed} heads scanned"
    );
    assert!(
        selectors * 100 >= services * 90,
        "{selectors} of {services} Service selectors scanned"
    );
}

/// Lines that a scanner skipping indented content could misread, each inserted after every
/// line of a document in turn.
const TRAPS: &[&str] = &[
    "  trap: \"open\nkind: Trap\nmetadata:\n  name: trap\"",
    "  trap: 'open\nkind: Trap'",
    "  - \"open\nkind: Trap\"",
    "  trap: [open,\nkind: Trap]",
    "  trap: {open: 1,\nkind: Trap}",
    "    \"quoted key\": \"open\nspec:\n  selector:\n    trap: x\"",
    "  trap: |\n    \"not open\nkind: Trap",
    "  trap: >-\n    [not open\nkind: Trap",
    "  trap: |2\n     x\nkind: Trap",
    "  trap: x\rkind: Trap",
    "kind: on",
    "kind: 0123",
    "kind: 1e3",
    "kind: 12",
    "metadata:\n  namespace: trap",
    "metadata: {}",
    "  annotations:\n    trap: x",
    "  name: \"a\\x41\"",
    "  name: y",
    "spec:\n  selector:\n    app: on",
    "spec:\n  selector:\n    app: x\n    app: y",
    "spec:\n  selector:\n    app: \"open\n  trap: x\"",
    "spec:\n  selector: {app: x}",
    "spec:\n  selector:\n  - x",
    "spec:\n  selector:\n    app:\n      deeper: x",
    "spec:\n  selector:\n    \"a\\\"b\": 'c''d'",
    "  trap: [\"a\", 'b', {c: \"d\"}]",
    "  trap: [a\"b, \"c]\nkind: Trap\"",
    "  trap: {\"a\":\"b\"}",
    "  trap: &anchor x",
    "  trap: !!str x",
    "  \ttrap: x",
    "\ttrap: x",
    "  # \"comment\nkind: Trap",
    "  trap: plain \"quote\nkind: Trap",
    "spec:\n  selector: {}",
    "spec:\n  template:\n    metadata:\n      annotations:\n        migration-hook/container: \"open\nkind: Trap\"",
    "spec:\n  template:\n    metadata:\n      annotations:\n        migration-hook/container: m\n        migration-hook/container: n",
    "spec:\n  template:\n    metadata:\n      annotations:\n        migration-hook/weight: 5\n        other: |\n          x: \"y",
    "spec:\n  template:\n    metadata:\n      annotations:\n      - x",
    "spec:\n  template:\n    metadata:\n      annotations: {migration-hook/container: m}",
    "spec:\n  template:\n    metadata:\n      annotations:\n    spec: {}\n  template: {}",
    "  template:\n    metadata:\n      annotations:\n        migration-hook/container: m",
    "    metadata:\n      annotations:\n        migration-hook/container: on",
    "      annotations:\n        migration-hook/container: \"m\"",
    "        migration-hook/hook: auto",
];

#[test]
fn scanners_agree_with_the_parser_on_traps() {
    // A few documents of each shape the scanners care about, from the corpus (not the
    // bad-input matrix: its alias bomb takes a tenth of a second to refuse, each time).
    let bodies = bodies_under("testdata/corpus");
    let mut samples: Vec<&String> = Vec::new();
    for kind in [
        "kind: Service\n",
        "kind: Deployment\n",
        "kind: ConfigMap\n",
        "kind: Secret\n",
    ] {
        samples.extend(
            bodies
                .iter()
                .filter(|b| b.contains(kind) && b.len() < 4000)
                .take(3),
        );
    }
    assert!(samples.len() >= 10);
    let mut checked = 0;
    for body in samples {
        for variant in with_traps(body, TRAPS) {
            check(&variant);
            checked += 1;
        }
    }
    assert!(checked > 1000);
}

#[test]
fn scanners_decline_what_they_cannot_read_exactly() {
    for body in [
        "spec:\n  a: \"x\nkind: B\"\n",
        "spec:\n  a: [x,\nkind: B]\n",
        "a: [x,\nkind: B]\n",
        "kind: on\n",
        "kind: 0123\n",
        "metadata:\n  labels:\n    a: \"x\n  name: evil\"\n",
    ] {
        assert!(yaml::parse(body).is_ok(), "{body}");
        assert_eq!(head::scan(body), None, "{body}");
    }
    assert_eq!(
        head::service_selector("spec:\n  selector:\n    a: \"x\n    b: y\"\n"),
        Scan::Unsure
    );
    assert!(head::has_lone_cr("a: 1\rkind: B\n"));
    assert!(!head::has_lone_cr("a: 1\r\nkind: B\r\n"));
}

#[test]
fn scanners_read_the_usual_shapes() {
    let head = head::scan("# c\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels:\n    a: \"x\"\nspec:\n  x: \"y\n  z\"\n").unwrap();
    assert_eq!(head.kind.as_deref(), Some("Service"));
    assert_eq!(head.name.as_deref(), Some("web"));
    let selector = head::service_selector(
        "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - port: 80\n  selector:\n    app: web\n    'tier': \"api\"\n    app: web2\n",
    );
    assert_eq!(
        selector,
        Scan::Found(vec![
            ("app".into(), "web2".into()),
            ("tier".into(), "api".into())
        ])
    );
    assert_eq!(head::service_selector("kind: Service\n"), Scan::Absent);
    assert_eq!(
        head::service_selector("spec:\n  selector:\n    a: b\nspec:\n  type: X\n"),
        Scan::Absent
    );
}

/// Plain scalars and constructs the Go-compatibility pass cares about, in every context the
/// line scan of `go_safe` reads: block values, sequence items, keys, flow collections.
const GO_TRAPS: &[&str] = &[
    "  a: tRue",
    "  a: yEs",
    "  a: on",
    "  a: Off",
    "  a: y",
    "  a: ~",
    "  a: null",
    "  a: Null",
    "  a: 1_000",
    "  a: 1_",
    "  a: 0.1_0",
    "  a: 1e400",
    "  a: 1e-400",
    "  a: 12e5",
    "  a: 0x1F",
    "  a: -0x1F",
    "  a: 0o17",
    "  a: 0b101",
    "  a: 08",
    "  a: 0644",
    "  a: 00",
    "  a: 0",
    "  a: .5",
    "  a: -.5",
    "  a: +.inf",
    "  a: -.iNf",
    "  a: .NaN",
    "  a: -inf",
    "  a: inf",
    "  a: nan",
    "  a: 1:30",
    "  a: 2001-12-14",
    "  a: 1.2.3",
    "  a: 100m",
    "  a: 256Mi",
    "  a: 25%",
    "  a: 1e2395bd",
    "  a: 0e5",
    "  a: 9223372036854775808",
    "  a: -c",
    "  a: --x",
    "  a: -",
    "  a: +x",
    "  a: -e",
    "  a: -1",
    "  a: +1",
    "  - tRue",
    "  - 0644",
    "  - -c",
    "  - - 1_0",
    "  - 1.2.3",
    "  0644: x",
    "  yes: x",
    "  ~: x",
    "  1_0: x",
    "  1.5e3: x",
    "  100m: x",
    "  -c: x",
    "  a: [x?y]",
    "  a: {:x: y}",
    "  a: [a:b]",
    "  a: {a: 0644}",
    "  a: [tRue, 1_0]",
    "  a: [100m, -c]",
    "  a: [--x]",
    "  a: [\"x\", 'y', 1]",
    "  a: [x",
    "  a: {x: [y, {z: 1e400}]}",
    "  a: [a[b]]",
    "  a: [x] # c",
    "  a: [x] y",
    "  a: !foo x",
    "  a: !!str 0644",
    "  a: &x 0644",
    "  a: *x",
    "  a: \"multi",
    "  a: 'it''s'",
    "  a: \"x\" 0644",
    "  a: |2\n     0644",
    "  a: |\n    0644: tRue\n  b: 0644",
    "  a: >-\n    x\n  b: tRue",
    "  - |\n    1_0\n  - 1_0",
    "  ? a\n  : 0644",
    "  a: b: 0644",
    "  a: x # 0644",
    "  a: x #0644",
    "  \"k: 0644\": x",
    "  'k': 0644",
    "  a: x\r  b: 0644",
    "  a:\ttRue",
    "...",
    "--- x",
    "%YAML 1.1",
    "  a: \u{feff}x",
    "  a: x\n    1_0",
];

#[test]
fn go_safe_documents_read_the_same_without_the_go_pass() {
    // Where the line scan says a document needs no Go-compatibility pass, parsing it without
    // the pass must read exactly what the full pass makes of it, and the full pass must not
    // refuse it.
    let check = |body: &str| -> bool {
        if !migration_hook::testing::go_safe::is_go_safe(body) {
            return false;
        }
        let full = yaml::parse_with_full_pass(body);
        let fast = yaml::parse(body);
        match (&full, &fast) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "the line scan's reading differs:\n{body}"),
            // Both reject: the same document error either way (messages may differ).
            (Err(_), Err(_)) => {}
            _ => panic!(
                "the line scan called this safe, the full pass says {full:?}, the fast one {fast:?}:\n{body}"
            ),
        }
        true
    };
    let mut safe = 0;
    let all = bodies();
    for body in &all {
        safe += check(body) as usize;
    }
    // Most chart documents take the fast path; that is its point.
    assert!(
        safe * 10 > all.len() * 8,
        "{safe} of {} documents safe",
        all.len()
    );
    let samples: Vec<String> = bodies_under("testdata/corpus")
        .into_iter()
        .filter(|b| b.len() < 4000 && b.contains("kind: Deployment\n"))
        .take(4)
        .collect();
    let (mut checked, mut fast) = (0, 0);
    for body in &samples {
        for variant in with_traps(body, GO_TRAPS) {
            fast += check(&variant) as usize;
            checked += 1;
        }
    }
    assert!(
        checked > 5000 && fast > 100,
        "{fast} of {checked} variants safe"
    );
}
