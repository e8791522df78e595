//! Deterministic input generation for `tests/fuzz.rs`: a xorshift PRNG, synthetic chart streams
//! (workloads of every kind with init containers and marks, the ConfigMaps, Secrets and Services
//! around them, in varied YAML styles and with YAML-1.1-hazardous scalars), and mutations
//! (truncations, swapped bytes, duplicated and dropped documents, odd separators, deep nesting,
//! huge scalars, alias bombs, injected marks, hostile bytes).

/// xorshift64* (Vigna): tiny, fast, and the same sequence everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // SplitMix64 of the seed, so that nearby seeds give unrelated streams (and never 0).
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Scalars YAML 1.1 and Go read in surprising ways, written plain.
const HAZARDS: &[&str] = &[
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "N",
    "tRue",
    "yEs",
    "oN",
    "True",
    "FALSE",
    "0644",
    "0o17",
    "0x1F",
    "1_000",
    "1__0",
    "0.1_0",
    "1e3",
    "1.5",
    ".5",
    "08",
    "1e400",
    "~",
    "null",
    "2001-12-14",
    "1.2.3",
    "v1.0",
    "-0",
    "+12",
    "12345678901234567890123",
    "9223372036854775808",
    "=",
    "<<x",
    "0b101",
];

/// Strings that need quoting, with their quoted spellings.
const QUOTED: &[&str] = &[
    "\"yes\"",
    "'on'",
    "\"0644\"",
    "'1e3'",
    "\"a: b\"",
    "\"#not a comment\"",
    "'- item'",
    "\"line\\nbreak\"",
    "\"tab\\there\"",
    "\"héllo ✓ ünï\"",
    "\"\"",
    "' leading'",
    "'trailing '",
    "'it''s'",
    "\"say \\\"hi\\\"\"",
    "'{\"json\": [1, 2]}'",
    "'*alias'",
    "'&anchor'",
    "'!tag'",
    "'%percent'",
    "'@at'",
    "'`tick`'",
    "'|'",
    "'>'",
    "\"---\"",
    "'...'",
    "\"\\u00e9\\x41\"",
];

/// A scalar as written: plain word, hazard, or quoted.
fn scalar(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => rng.pick(HAZARDS).to_string(),
        1 => rng.pick(QUOTED).to_string(),
        2 => format!("value-{}", rng.below(1000)),
        _ => format!("\"{}\"", rng.pick(HAZARDS)),
    }
}

/// A YAML node to print in a chosen style.
enum Node {
    Map(Vec<(String, Node)>),
    Seq(Vec<Node>),
    /// A scalar exactly as it is written.
    Raw(String),
    /// A block scalar (`|`, `|-`, `>`): header and content lines.
    Block(&'static str, Vec<String>),
}

fn raw(s: impl Into<String>) -> Node {
    Node::Raw(s.into())
}

fn map(entries: Vec<(&str, Node)>) -> Node {
    Node::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Printing style, chosen per document.
struct Style {
    indent: usize,
    /// `- ` items indented under their key (`key:\n  - a`) rather than level with it.
    seq_indented: bool,
    /// Percent of small collections written in flow style.
    flow: u64,
    /// Percent of lines followed by a comment line.
    comments: u64,
}

fn flow_ok(node: &Node) -> bool {
    match node {
        Node::Raw(s) => !s.contains(['#', ':', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>']),
        Node::Map(e) => e.len() <= 4 && e.iter().all(|(k, v)| !k.contains('/') && flow_ok(v)),
        Node::Seq(items) => items.len() <= 4 && items.iter().all(flow_ok),
        Node::Block(..) => false,
    }
}

fn flow(node: &Node) -> String {
    match node {
        Node::Raw(s) => s.clone(),
        Node::Map(e) => format!(
            "{{{}}}",
            e.iter()
                .map(|(k, v)| format!("{k}: {}", flow(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Node::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Node::Block(..) => unreachable!(),
    }
}

fn print(node: &Node, level: usize, style: &Style, rng: &mut Rng, out: &mut String) {
    let pad = " ".repeat(level);
    match node {
        Node::Map(entries) => {
            for (k, v) in entries {
                out.push_str(&format!("{pad}{k}:"));
                value(v, level, style, rng, out);
            }
        }
        Node::Seq(items) => {
            for item in items {
                match item {
                    Node::Map(entries) if !entries.is_empty() => {
                        // `- first: x` then the other keys level with `first`.
                        let mut first = String::new();
                        print(item, level + 2, style, rng, &mut first);
                        out.push_str(&format!("{pad}- {}", &first[level + 2..]));
                    }
                    _ => {
                        out.push_str(&format!("{pad}-"));
                        value(item, level, style, rng, out);
                    }
                }
            }
        }
        _ => value(node, level, style, rng, out),
    }
}

/// Writes the value after `key:` or `-` (a space and a scalar, or a newline and a block).
fn value(v: &Node, level: usize, style: &Style, rng: &mut Rng, out: &mut String) {
    match v {
        Node::Raw(s) => out.push_str(&format!(" {s}\n")),
        Node::Block(header, lines) => {
            out.push_str(&format!(" {header}\n"));
            let pad = " ".repeat(level + style.indent);
            for l in lines {
                if l.is_empty() {
                    out.push('\n');
                } else {
                    out.push_str(&format!("{pad}{l}\n"));
                }
            }
        }
        Node::Map(e) if e.is_empty() => out.push_str(" {}\n"),
        Node::Seq(s) if s.is_empty() => out.push_str(" []\n"),
        _ if flow_ok(v) && rng.chance(style.flow) => out.push_str(&format!(" {}\n", flow(v))),
        Node::Seq(_) => {
            out.push('\n');
            let inner = if style.seq_indented {
                level + style.indent
            } else {
                level
            };
            print(v, inner, style, rng, out);
        }
        Node::Map(_) => {
            out.push('\n');
            print(v, level + style.indent, style, rng, out);
        }
    }
    if rng.chance(style.comments) {
        out.push_str(&format!(
            "{}# comment {}\n",
            " ".repeat(level),
            rng.below(100)
        ));
    }
}

fn block_lines(rng: &mut Rng) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..1 + rng.below(5) {
        lines.push(
            rng.pick(&[
                "production:",
                "  dialect: postgres",
                "---",
                "...",
                "# not a comment here",
                "key: value",
                "- item",
                "",
                "SELECT 1;",
                "  indented more",
                "trailing   ",
            ])
            .to_string(),
        );
    }
    if lines
        .first()
        .is_some_and(|l| l.is_empty() || l.starts_with(' '))
    {
        lines.insert(0, "first".into());
    }
    lines
}

/// One container.
fn container(rng: &mut Rng, name: &str, image: &str, config: &str, secret: &str) -> Node {
    let mut e: Vec<(&str, Node)> = vec![("name", raw(name)), ("image", raw(image))];
    if rng.chance(60) {
        let words = ["migrate", "up", "--yes", "-config=/c/db.yml"];
        let n = 1 + rng.below(words.len());
        e.push((
            "command",
            Node::Seq(words[..n].iter().map(|w| raw(*w)).collect()),
        ));
    }
    if rng.chance(20) {
        e.push(("args", Node::Seq(vec![Node::Block("|", block_lines(rng))])));
    }
    let mut env = Vec::new();
    for i in 0..rng.below(4) {
        env.push(map(vec![
            ("name", raw(format!("VAR_{i}"))),
            ("value", raw(scalar(rng))),
        ]));
    }
    if rng.chance(60) {
        env.push(map(vec![
            ("name", raw("DB_PASSWORD")),
            (
                "valueFrom",
                map(vec![(
                    "secretKeyRef",
                    map(vec![("name", raw(secret)), ("key", raw("password"))]),
                )]),
            ),
        ]));
    }
    if rng.chance(50) {
        env.push(map(vec![
            ("name", raw("DB_HOST")),
            (
                "valueFrom",
                map(vec![(
                    "configMapKeyRef",
                    map(vec![("name", raw(config)), ("key", raw("host"))]),
                )]),
            ),
        ]));
    }
    if !env.is_empty() {
        e.push(("env", Node::Seq(env)));
    }
    if rng.chance(30) {
        e.push((
            "envFrom",
            Node::Seq(vec![map(vec![(
                "configMapRef",
                map(vec![("name", raw(config))]),
            )])]),
        ));
    }
    if rng.chance(40) {
        e.push((
            "volumeMounts",
            Node::Seq(vec![map(vec![
                ("name", raw("config")),
                ("mountPath", raw("/config")),
            ])]),
        ));
    }
    if rng.chance(30) {
        e.push((
            "resources",
            map(vec![(
                "limits",
                map(vec![
                    ("cpu", raw(*rng.pick(&["1", "0.5", "500m", "\"2\""]))),
                    ("memory", raw("128Mi")),
                ]),
            )]),
        ));
    }
    Node::Map(e.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

const KINDS: &[(&str, &str, &str)] = &[
    ("apps/v1", "Deployment", "deploy"),
    ("apps/v1", "StatefulSet", "sts"),
    ("apps/v1", "DaemonSet", "ds"),
    ("apps/v1", "ReplicaSet", "rs"),
    ("batch/v1", "Job", "job"),
    ("batch/v1", "CronJob", "cj"),
    ("v1", "Pod", "po"),
    ("argoproj.io/v1alpha1", "Rollout", "ro"),
];

/// A synthetic `helm template`-style stream and the flags that mark it.
pub fn synthetic(rng: &mut Rng) -> (Vec<u8>, Vec<String>) {
    let release = *rng.pick(&["shop", "blog", "api"]);
    let mut docs: Vec<(String, Node)> = Vec::new();
    let mut args = Vec::new();
    for a in 0..1 + rng.below(3) {
        let name = format!("{release}-app{a}");
        let config = format!("{name}-config");
        let secret = format!("{name}-secret");
        let labels = map(vec![
            ("app.kubernetes.io/name", raw(name.clone())),
            ("app.kubernetes.io/instance", raw(release)),
        ]);
        let mut data = vec![("host".to_string(), raw("db.example.net"))];
        for _ in 0..rng.below(4) {
            let key = if rng.chance(30) {
                rng.pick(HAZARDS).to_string()
            } else {
                format!("key{}", rng.below(100))
            };
            let v = if rng.chance(20) {
                Node::Block(rng.pick::<&str>(&["|", "|-", ">", "|+"]), block_lines(rng))
            } else {
                raw(scalar(rng))
            };
            data.push((key, v));
        }
        docs.push((
            "configmap".into(),
            map(vec![
                ("apiVersion", raw("v1")),
                ("kind", raw("ConfigMap")),
                ("metadata", map(vec![("name", raw(config.clone()))])),
                ("data", Node::Map(data)),
            ]),
        ));
        docs.push((
            "secret".into(),
            map(vec![
                ("apiVersion", raw("v1")),
                ("kind", raw("Secret")),
                ("metadata", map(vec![("name", raw(secret.clone()))])),
                ("type", raw("Opaque")),
                (
                    "stringData",
                    map(vec![("password", raw("\"SENTINEL-s3cr3t\""))]),
                ),
            ]),
        ));
        if rng.chance(40) {
            docs.push((
                "service".into(),
                map(vec![
                    ("apiVersion", raw("v1")),
                    ("kind", raw("Service")),
                    ("metadata", map(vec![("name", raw(name.clone()))])),
                    (
                        "spec",
                        map(vec![
                            (
                                "selector",
                                map(vec![("app.kubernetes.io/name", raw(name.clone()))]),
                            ),
                            ("ports", Node::Seq(vec![map(vec![("port", raw("80"))])])),
                        ]),
                    ),
                ]),
            ));
        }
        let &(api_version, kind, short) = rng.pick(KINDS);
        let mut inits = Vec::new();
        if rng.chance(50) {
            inits.push(container(
                rng,
                "wait-for-db",
                "busybox:1.36",
                &config,
                &secret,
            ));
        }
        inits.push(container(
            rng,
            "migrate",
            "ghcr.io/example/app:1.0",
            &config,
            &secret,
        ));
        if rng.chance(30) {
            inits.push(container(rng, "after", "busybox:1.36", &config, &secret));
        }
        let mut mains = vec![container(
            rng,
            "app",
            "ghcr.io/example/app:1.0",
            &config,
            &secret,
        )];
        if rng.chance(20) {
            mains.push(container(
                rng,
                "cloud-sql-proxy",
                "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11",
                &config,
                &secret,
            ));
        }
        let mut pod = vec![
            ("initContainers", Node::Seq(inits)),
            ("containers", Node::Seq(mains)),
        ];
        if rng.chance(60) {
            pod.push((
                "volumes",
                Node::Seq(vec![map(vec![
                    ("name", raw("config")),
                    ("configMap", map(vec![("name", raw(config.clone()))])),
                ])]),
            ));
        }
        // Where the mark goes: 0 workload annotations, 1 pod annotations, 2 a flag, 3 none.
        let mark = rng.below(4);
        // `--command` applies to every workload marked by flag, so only one may need it.
        let command_taken = args.iter().any(|a| a == "--command");
        let container_name = if rng.chance(90) || (mark == 2 && command_taken) {
            "migrate"
        } else {
            "app"
        };
        let mut mark_annotations = vec![("migration-hook/container", raw(container_name))];
        if container_name == "app" || rng.chance(20) {
            mark_annotations.push(("migration-hook/command", raw("'[\"migrate\",\"up\"]'")));
        }
        if rng.chance(15) {
            mark_annotations.push((
                *rng.pick(&[
                    "migration-hook/weight",
                    "migration-hook/hook",
                    "migration-hook/wieght",
                ]),
                raw(*rng.pick(&["\"-5\"", "post-install,pre-upgrade", "auto", "5"])),
            ));
        }
        let mut template_meta = vec![("labels", labels)];
        if mark == 1 {
            template_meta.push(("annotations", map(std::mem::take(&mut mark_annotations))));
        }
        let template = map(vec![
            (
                "metadata",
                Node::Map(
                    template_meta
                        .into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect(),
                ),
            ),
            ("spec", map(pod)),
        ]);
        let mut meta = vec![("name", raw(name.clone()))];
        if mark == 0 {
            meta.push(("annotations", map(std::mem::take(&mut mark_annotations))));
        }
        if mark == 2 {
            args.push("--container".to_string());
            args.push(format!("{short}/{name}:{container_name}"));
            if container_name == "app" {
                args.push("--command".into());
                args.push("[\"migrate\"]".into());
            }
        }
        let selector = map(vec![(
            "matchLabels",
            map(vec![("app.kubernetes.io/name", raw(name.clone()))]),
        )]);
        let body = match kind {
            "Pod" => {
                let Node::Map(mut t) = template else {
                    unreachable!()
                };
                let spec = t.pop().unwrap().1;
                let Node::Map(tm) = t.pop().unwrap().1 else {
                    unreachable!()
                };
                let mut m: Vec<(String, Node)> =
                    meta.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                m.extend(tm);
                map(vec![
                    ("apiVersion", raw(api_version)),
                    ("kind", raw(kind)),
                    ("metadata", Node::Map(m)),
                    ("spec", spec),
                ])
            }
            "CronJob" => map(vec![
                ("apiVersion", raw(api_version)),
                ("kind", raw(kind)),
                ("metadata", map(meta)),
                (
                    "spec",
                    map(vec![
                        ("schedule", raw("\"*/5 * * * *\"")),
                        (
                            "jobTemplate",
                            map(vec![("spec", map(vec![("template", template)]))]),
                        ),
                    ]),
                ),
            ]),
            "Job" => map(vec![
                ("apiVersion", raw(api_version)),
                ("kind", raw(kind)),
                ("metadata", map(meta)),
                ("spec", map(vec![("template", template)])),
            ]),
            _ => map(vec![
                ("apiVersion", raw(api_version)),
                ("kind", raw(kind)),
                ("metadata", map(meta)),
                (
                    "spec",
                    map(vec![
                        ("replicas", raw(*rng.pick(&["1", "3", "\"2\""]))),
                        ("selector", selector),
                        ("template", template),
                    ]),
                ),
            ]),
        };
        docs.push((kind.to_ascii_lowercase(), body));
    }
    let mut out = String::new();
    if rng.chance(5) {
        out.push('\u{feff}');
    }
    for (file, node) in &docs {
        let style = Style {
            indent: *rng.pick(&[2, 2, 2, 4]),
            seq_indented: rng.chance(50),
            flow: *rng.pick(&[0, 0, 20, 60]),
            comments: *rng.pick(&[0, 0, 5]),
        };
        out.push_str(rng.pick::<&str>(&["---\n", "---\n", "--- # doc\n", "---   \n"]));
        out.push_str(&format!("# Source: {release}/templates/{file}.yaml\n"));
        print(node, 0, &style, rng, &mut out);
        if rng.chance(5) {
            out.push_str("...\n");
        }
    }
    if rng.chance(10) {
        out = out.replace('\n', "\r\n");
    }
    (out.into_bytes(), args)
}

/// Line starts of `input`.
fn line_starts(input: &[u8]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            input
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .filter(|&i| i <= input.len())
        .collect()
}

fn insert_at_line(rng: &mut Rng, input: &mut Vec<u8>, text: &[u8]) {
    let starts = line_starts(input);
    let at = *rng.pick(&starts);
    input.splice(at..at, text.iter().copied());
}

/// Document byte ranges (by the `---` lines).
fn documents(input: &[u8]) -> Vec<std::ops::Range<usize>> {
    migration_hook::testing::stream::split(input)
        .iter()
        .map(|d| d.range())
        .collect()
}

/// How big a generated monster may be in this run.
pub struct Limits {
    pub huge_scalar: usize,
    pub depth: usize,
}

/// Applies one random mutation; returns its name.
pub fn mutate(rng: &mut Rng, input: &mut Vec<u8>, limits: &Limits) -> &'static str {
    let len = input.len();
    match rng.below(17) {
        0 if len > 0 => {
            input.truncate(rng.below(len));
            "truncate"
        }
        1 if len > 1 => {
            let (a, b) = (rng.below(len), rng.below(len));
            input.swap(a, b);
            "swap bytes"
        }
        2 => {
            let docs = documents(input);
            if let Some(d) = docs.get(rng.below(docs.len().max(1))) {
                let copy = input[d.clone()].to_vec();
                let mut copy = copy;
                if !copy.ends_with(b"\n") {
                    copy.push(b'\n');
                }
                let at = docs[rng.below(docs.len())].start;
                input.splice(at..at, copy);
            }
            "duplicate document"
        }
        3 => {
            let docs = documents(input);
            if docs.len() > 1 {
                let d = docs[rng.below(docs.len())].clone();
                input.drain(d);
            }
            "drop document"
        }
        4 => {
            let sep = *rng.pick(&[
                "---\n",
                "--- # c\n",
                "---\t\n",
                "--- |\n  root\n",
                "--- >\n",
                "--- {}\n",
                "...\n",
                "---x\n",
                "----\n",
                "--- !!map\n",
                "%YAML 1.1\n",
                "\u{feff}---\n",
                "--- \"q\"\n",
                "---\r\n",
                "---",
            ]);
            insert_at_line(rng, input, sep.as_bytes());
            "odd separator"
        }
        5 => {
            let depth = 1 + rng.below(limits.depth);
            let text = match rng.below(3) {
                0 => format!("deep: {}{}\n", "[".repeat(depth), "]".repeat(depth)),
                1 => format!("deep: {}1{}\n", "{a: ".repeat(depth), "}".repeat(depth)),
                _ => {
                    let depth = depth.min(2000);
                    let mut t = String::new();
                    for i in 0..depth {
                        t.push_str(&" ".repeat(i));
                        t.push_str("a:\n");
                    }
                    t.push_str(&" ".repeat(depth));
                    t.push_str("b: 1\n");
                    t
                }
            };
            insert_at_line(rng, input, text.as_bytes());
            "deep nesting"
        }
        6 => {
            let size = 1 + rng.below(limits.huge_scalar);
            let body = "x".repeat(size);
            let text = match rng.below(3) {
                0 => format!(
                    "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  big: {body}\n"
                ),
                1 => format!("    big: \"{body}\"\n"),
                _ => format!("{body}\n"),
            };
            insert_at_line(rng, input, text.as_bytes());
            "huge scalar"
        }
        7 => {
            let mut bomb = String::from(
                "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
            );
            for i in 1..10 {
                let refs = vec![format!("*a{}", i - 1); 9].join(", ");
                bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
            }
            let text = if rng.chance(50) {
                format!("---\n{bomb}")
            } else {
                // Inside a document, where the plan may have to read it.
                bomb.lines().map(|l| format!("  {l}\n")).collect()
            };
            insert_at_line(rng, input, text.as_bytes());
            "alias bomb"
        }
        8 if len > 0 => {
            let bytes: &[u8] = b"\0\t\r\xff\xc3:-\"'&*!|>{}[]#%@`,? \n";
            let at = rng.below(len);
            let b = *rng.pick(bytes);
            if rng.chance(50) {
                input[at] = b;
            } else {
                input.insert(at, b);
            }
            "hostile byte"
        }
        9 => {
            let starts = line_starts(input);
            if starts.len() > 1 {
                let i = rng.below(starts.len() - 1);
                let line = input[starts[i]..starts[i + 1]].to_vec();
                match rng.below(4) {
                    0 => {
                        input.drain(starts[i]..starts[i + 1]);
                    }
                    1 => {
                        input.splice(starts[i]..starts[i], line);
                    }
                    2 => {
                        input.splice(starts[i]..starts[i], b"  ".iter().copied());
                    }
                    _ => {
                        if input[starts[i]] == b' ' {
                            input.remove(starts[i]);
                        }
                    }
                }
            }
            "line edit"
        }
        10 => {
            match rng.below(5) {
                0 => {
                    *input = String::from_utf8_lossy(input)
                        .replace('\n', "\r\n")
                        .into_bytes()
                }
                1 => {
                    while input.last() == Some(&b'\n') {
                        input.pop();
                    }
                }
                2 => input.splice(0..0, "\u{feff}".bytes()).for_each(drop),
                3 => input
                    .splice(0..0, b"# leading comment\n".iter().copied())
                    .for_each(drop),
                _ => input.extend_from_slice(b"\n\n   \n"),
            }
            "whole-stream edit"
        }
        11 => {
            // Replace the value on a random `key: value` line by a hazardous scalar.
            let starts = line_starts(input);
            let i = rng.below(starts.len());
            let end = input[starts[i]..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(input.len(), |p| starts[i] + p);
            if let Some(colon) = input[starts[i]..end].windows(2).position(|w| w == b": ") {
                let at = starts[i] + colon + 2;
                let word = scalar(rng);
                input.splice(at..end, word.bytes());
            }
            "hazard scalar"
        }
        12 | 13 => {
            // A mark where the plan will read it.
            let starts = line_starts(input);
            let metas: Vec<usize> = starts
                .iter()
                .copied()
                .filter(|&s| {
                    let rest = &input[s..];
                    let trimmed = rest.iter().position(|b| *b != b' ').unwrap_or(0);
                    rest[trimmed..].starts_with(b"metadata:\n")
                })
                .collect();
            if let Some(&at) = metas.get(rng.below(metas.len().max(1))) {
                let indent = input[at..].iter().position(|b| *b != b' ').unwrap_or(0) + 2;
                let pad = " ".repeat(indent);
                let key = rng.pick(&[
                    "container",
                    "container",
                    "command",
                    "weight",
                    "hook",
                    "sidecars",
                    "job-name",
                    "env",
                    "contaner",
                    "image",
                ]);
                let value = rng.pick(&[
                    "migrate",
                    "app",
                    "'[\"x\"]'",
                    "\"-3\"",
                    "auto",
                    "wait-for-db",
                    "'{\"A\":\"b\"}'",
                    "5",
                    "nginx",
                    "UPPER_case",
                    "\"\"",
                ]);
                let nl = input[at..]
                    .iter()
                    .position(|b| *b == b'\n')
                    .map_or(input.len(), |p| at + p + 1);
                let text = format!("{pad}annotations:\n{pad}  migration-hook/{key}: {value}\n");
                input.splice(nl..nl, text.bytes());
            }
            "inject mark"
        }
        14 => {
            // A second copy of a marked document under the same name: collisions, ambiguity.
            let docs = documents(input);
            let marked: Vec<_> = docs
                .iter()
                .filter(|d| {
                    input[(*d).clone()]
                        .windows(15)
                        .any(|w| w == b"migration-hook/")
                })
                .cloned()
                .collect();
            if let Some(d) = marked.first() {
                let mut copy = input[d.clone()].to_vec();
                if !copy.starts_with(b"---") {
                    copy.splice(0..0, b"---\n".iter().copied());
                }
                if !input.ends_with(b"\n") {
                    input.push(b'\n');
                }
                input.extend(copy);
            }
            "duplicate marked document"
        }
        15 => {
            let doc = *rng.pick(&[
                "---\n- a\n- list\n",
                "---\njust a scalar\n",
                "---\nkind: Deployment\nmetadata:\n  name: no-api-version\n",
                "---\napiVersion: v1\nkind: Job\nmetadata:\n  name: x-migration\n",
                "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: shop-app0-migration\n",
                "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-app0-config-migration-hook\n",
                "---\n~: null-key\n",
                "---\n? [complex, key]\n: v\n",
                "---\n!!binary aGVsbG8=\n",
                "---\nkind: Secret\napiVersion: v1\nmetadata: {name: s}\ndata: {password: SENTINEL-s3cr3t, bad: [unclosed\n",
            ]);
            insert_at_line(rng, input, doc.as_bytes());
            "odd document"
        }
        _ => {
            // Splice a piece of the input somewhere else.
            if len > 2 {
                let a = rng.below(len);
                let b = (a + rng.below(200)).min(len);
                let piece = input[a..b].to_vec();
                let at = rng.below(input.len());
                input.splice(at..at, piece);
            }
            "splice"
        }
    }
}
