//! Is the migration's database part of the release? Then a `pre-install` hook would wait for a
//! database that does not exist yet (`docs/design.md` §9), and
//! `post-install,pre-upgrade` is the events to use.
//!
//! The evidence: the name of a Service or StatefulSet of the stream, as a host name, in the
//! migration container's command, args, env values, or the data of the ConfigMaps and Secrets
//! it reads its environment from. Secret data is decoded to look, never printed.

use std::collections::HashMap;

use serde_json::Value;

use crate::diagnostic::Result;
use crate::input::document::{Document, Documents, same_namespace};
use crate::kube::label_selector;
use crate::kube::references::RefKind;

/// A database of the release the migration talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InRelease {
    /// `Service/shop-postgresql`.
    pub(crate) target: String,
    /// Where it was named (`env DATABASE_URL`, `args`, `envFrom ConfigMap/app-env`).
    pub(crate) via: String,
}

/// The Services and StatefulSets of the stream (not hooks), gathered once per run and indexed
/// by name, so that each migration looks up the words of its settings instead of searching
/// every setting for every name.
pub(crate) struct Targets<'d> {
    /// The documents, in stream order.
    list: Vec<&'d Document<'d>>,
    /// Name → positions in `list`, for names made of word characters only.
    by_name: HashMap<&'d str, Vec<usize>>,
    /// Positions in `list` of the other names (a StatefulSet may be called `db.main`).
    irregular: Vec<usize>,
    /// The lengths of the regular names, shortest to longest: a word outside is not looked up.
    lengths: std::ops::RangeInclusive<usize>,
}

impl<'d> Targets<'d> {
    pub(crate) fn new(docs: &'d Documents<'d>) -> Targets<'d> {
        let list: Vec<&Document> = docs
            .iter()
            .filter(|d| !d.is_hook() && d.name().is_some())
            .filter(|d| matches!(d.kind(), Some("Service" | "StatefulSet")))
            .collect();
        let mut by_name: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut irregular = Vec::new();
        for (i, doc) in list.iter().enumerate() {
            let name = doc.name().expect("filtered");
            if name.is_empty() {
                // Names nothing (see `names_host`).
            } else if name.chars().all(is_word) {
                by_name.entry(name).or_default().push(i);
            } else {
                irregular.push(i);
            }
        }
        let lengths = by_name.keys().map(|n| n.len()).min().unwrap_or(1)
            ..=by_name.keys().map(|n| n.len()).max().unwrap_or(0);
        Targets {
            list,
            by_name,
            irregular,
            lengths,
        }
    }

    /// The first target in `namespace` (in stream order) that `text` names as a host, other
    /// than those `own` says are the migration's own workload.
    fn first_named(
        &self,
        text: &str,
        hostish: bool,
        namespace: Option<&str>,
        own: &dyn Fn(&Document) -> bool,
    ) -> Option<usize> {
        // A regular name can only be named as a whole run of word characters.
        let words = text
            .split(|c: char| !is_word(c))
            .filter(|w| self.lengths.contains(&w.len()))
            .filter_map(|w| self.by_name.get(w))
            .flatten();
        words
            .chain(&self.irregular)
            .copied()
            .filter(|&i| {
                let doc = self.list[i];
                same_namespace(doc.head.namespace.as_deref(), namespace)
                    && names_host(text, doc.name().unwrap_or_default(), hostish)
                    && !own(doc)
            })
            .min()
    }
}

/// Looks for a Service or StatefulSet of the stream named in the migration's settings: its
/// command, args, environment, and the files of the ConfigMaps and Secrets it mounts
/// (`template` is the Job's pod template, whose first container is the migration). A Service
/// that selects the workload's own pods (an app's settings name its own URL) is not the
/// database.
pub(crate) fn find(
    docs: &Documents,
    targets: &Targets,
    template: &Value,
    namespace: Option<&str>,
) -> Result<Option<InRelease>> {
    let pod = &template["spec"];
    let container = &pod["containers"][0];
    let labels = label_selector::labels_of(template.get("metadata").and_then(|m| m.get("labels")));
    let own = |doc: &Document| -> bool {
        doc.kind() == Some("Service")
            && !labels.is_empty()
            && doc.parse().is_ok_and(|v| {
                v.pointer("/spec/selector")
                    .and_then(Value::as_object)
                    .is_some_and(|sel| {
                        !sel.is_empty()
                            && sel.iter().all(|(k, want)| {
                                labels
                                    .get(k)
                                    .is_some_and(|have| want.as_str() == Some(have.as_str()))
                            })
                    })
            })
    };
    if !targets
        .list
        .iter()
        .any(|d| same_namespace(d.head.namespace.as_deref(), namespace))
    {
        return Ok(None);
    }
    for (via, setting, text) in texts(docs, targets, pod, container, namespace)? {
        if let Some(i) = targets.first_named(&text, is_hostish(&setting), namespace, &own) {
            let doc = targets.list[i];
            return Ok(Some(InRelease {
                target: format!(
                    "{}/{}",
                    doc.kind().unwrap_or_default(),
                    doc.name().unwrap_or_default()
                ),
                via,
            }));
        }
    }
    Ok(None)
}

/// The strings the migration gets: (where, setting name, text).
fn texts(
    docs: &Documents,
    targets: &Targets,
    pod: &Value,
    container: &Value,
    namespace: Option<&str>,
) -> Result<Vec<(String, String, String)>> {
    let mut out = Vec::new();
    for key in ["command", "args"] {
        for item in container
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(s) = item.as_str() {
                out.push((key.to_string(), String::new(), s.to_string()));
            }
        }
    }
    for var in container
        .get("env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = var.get("name").and_then(Value::as_str).unwrap_or_default();
        if let Some(s) = var.get("value").and_then(Value::as_str) {
            out.push((format!("env {name}"), name.to_string(), s.to_string()));
        }
        let from = var.get("valueFrom");
        for (ref_key, kind) in [
            ("configMapKeyRef", RefKind::ConfigMap),
            ("secretKeyRef", RefKind::Secret),
        ] {
            let Some(r) = from.and_then(|f| f.get(ref_key)) else {
                continue;
            };
            let (Some(obj), Some(key)) = (
                r.get("name").and_then(Value::as_str),
                r.get("key").and_then(Value::as_str),
            ) else {
                continue;
            };
            for (k, text) in data(docs, kind, obj, namespace)? {
                if k == key {
                    out.push((format!("env {name}"), name.to_string(), text));
                }
            }
        }
    }
    for source in container
        .get("envFrom")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for (ref_key, kind) in [
            ("configMapRef", RefKind::ConfigMap),
            ("secretRef", RefKind::Secret),
        ] {
            let Some(obj) = source
                .get(ref_key)
                .and_then(|r| r.get("name"))
                .and_then(Value::as_str)
            else {
                continue;
            };
            for (k, text) in data(docs, kind, obj, namespace)? {
                out.push((format!("env {k} from {} {obj}", kind.kind()), k, text));
            }
        }
    }
    // Files: a settings file in a mounted ConfigMap or Secret (`DATABASES.default.HOST`).
    let volumes = pod.get("volumes").and_then(Value::as_array);
    for mount in container
        .get("volumeMounts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = mount.get("name").and_then(Value::as_str);
        let Some(volume) = volumes
            .into_iter()
            .flatten()
            .find(|v| v.get("name").and_then(Value::as_str) == name)
        else {
            continue;
        };
        let mut sources = vec![volume];
        sources.extend(
            volume
                .pointer("/projected/sources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
        for source in sources {
            for (key, name_key, kind) in [
                ("configMap", "name", RefKind::ConfigMap),
                ("secret", "secretName", RefKind::Secret),
                ("secret", "name", RefKind::Secret),
            ] {
                let Some(obj) = source
                    .get(key)
                    .and_then(|r| r.get(name_key))
                    .and_then(Value::as_str)
                else {
                    continue;
                };
                // A ConfigMap whose text names no target as a host is not parsed (settings
                // files are long, and every marked workload may mount one); the raw text holds
                // what the data does, escapes aside, which `names_host` ignores. Secret data is
                // encoded.
                if kind == RefKind::ConfigMap
                    && !docs.find(kind.kind(), namespace, obj).any(|d| {
                        targets
                            .first_named(d.body, false, namespace, &|_| false)
                            .is_some()
                    })
                {
                    continue;
                }
                for (k, text) in data(docs, kind, obj, namespace)? {
                    out.push((format!("file {k} from {} {obj}", kind.kind()), k, text));
                }
            }
        }
    }
    Ok(out)
}

/// The key/value data of a ConfigMap or Secret of the stream (Secret `data` base64-decoded).
fn data(
    docs: &Documents,
    kind: RefKind,
    name: &str,
    namespace: Option<&str>,
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for doc in docs.find(kind.kind(), namespace, name) {
        // Parsed for this and not kept (see `Document::parse`).
        let value = doc.parse()?;
        for field in ["data", "stringData"] {
            for (k, v) in value
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let text = match (kind, field) {
                    (RefKind::Secret, "data") => decode_base64(v),
                    _ => v.as_str().map(str::to_string),
                };
                if let Some(text) = text {
                    out.push((k.clone(), text));
                }
            }
        }
    }
    Ok(out)
}

/// Standard base64 with padding, as Kubernetes writes Secret data.
fn decode_base64(v: &Value) -> Option<String> {
    let text = v.as_str()?.as_bytes();
    if text.len() % 4 != 0 {
        return None;
    }
    let sextet = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    for (i, chunk) in text.chunks(4).enumerate() {
        let last = i + 1 == text.len() / 4;
        let pad = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &c in &chunk[..4 - pad] {
            n = n << 6 | u32::from(sextet(c)?);
        }
        n <<= 6 * pad as u32;
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    String::from_utf8(out).ok()
}

/// Whether `name` appears in `text` as a host name, not just as a word: after `@`, `//`,
/// `host=` or a `--host`/`-h` flag; before `:<port>`; as `name.namespace[.svc…]`; or as the whole
/// value of a setting whose name says it is a host (`DATABASE_HOST`, `DB_URL`, …).
/// `myshop-db`, `shop-db-backup`, `shop_db` and `shop-db.example.com` do not name `shop-db`.
fn names_host(text: &str, name: &str, hostish_setting: bool) -> bool {
    if name.is_empty() {
        return false;
    }
    text.match_indices(name).any(|(i, _)| {
        let before = &text[..i];
        let after = &text[i + name.len()..];
        if before
            .chars()
            .next_back()
            .is_some_and(|c| is_word(c) || c == '.')
            || after.chars().next().is_some_and(is_word)
        {
            return false;
        }
        if let Some(domain) = after.strip_prefix('.') {
            // `name.namespace`, `name.namespace.svc…`: in the cluster; `name.example.com`: not.
            let host: String = domain
                .chars()
                .take_while(|c| is_word(*c) || *c == '.')
                .collect();
            let labels: Vec<&str> = host.split('.').collect();
            return labels.len() == 1 || labels.get(1) == Some(&"svc");
        }
        // `scheme://user:password@host`: before the `@` is the user, not the host.
        let authority_rest: &str = after.split(['/', '?', '#']).next().unwrap_or_default();
        if before.ends_with("//") && authority_rest.contains('@') {
            return false;
        }
        // Quotes around a key and its value (`"HOST": "db"`, `host: 'db'`, JSON escaped in YAML
        // `\"host\":\"db\"`) do not count.
        let lower: String = before
            .chars()
            .rev()
            .take(24)
            .filter(|c| !matches!(c, '"' | '\'' | '\\'))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<String>()
            .to_ascii_lowercase();
        let introduced = [
            "@", "//", "host=", "host:", "host: ", "-h ", "--host ", "--host=", "server=",
            "address=",
        ]
        .iter()
        .any(|p| lower.ends_with(p));
        let port = after
            .strip_prefix(':')
            .is_some_and(|p| p.starts_with(|c: char| c.is_ascii_digit()));
        let whole = before.is_empty() && after.is_empty() && hostish_setting;
        introduced || port || whole
    })
}

/// Characters of a host-name word.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Setting names that hold a host (`DATABASE_HOST`, `PGHOST`, `DB_URL`, `DSN`, …).
fn is_hostish(setting: &str) -> bool {
    let upper = setting.to_ascii_uppercase();
    [
        "HOST", "ADDR", "SERVER", "ENDPOINT", "URL", "URI", "DSN", "SERVICE",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        let named = |text: &str| names_host(text, "shop-db", false);
        assert!(named("postgres://u:p@shop-db:5432/x"));
        assert!(named("postgres://u:p@shop-db/x"));
        assert!(named("shop-db.shop.svc.cluster.local"));
        assert!(named("shop-db.shop"));
        assert!(named("host=shop-db port=5432"));
        assert!(named("shop-db:5432"));
        assert!(names_host("shop-db", "shop-db", true));
        assert!(
            !named("shop-db"),
            "a bare word in a setting that is not a host"
        );
        assert!(!named("myshop-db:5432"));
        assert!(!named("shop-db-backup:5432"));
        assert!(!named("shop_db_production"));
        assert!(!named("x.shop-db:1"));
        assert!(!named("https://shop-db.example.com"));
        assert!(
            !named("postgres://shop-db:secret@other:5432/x"),
            "a user name, not the host"
        );
        assert!(named("postgres://user:secret@shop-db:5432/x"));
        // Settings files: quoted keys and values, and JSON escaped inside YAML.
        assert!(named("    HOST: \"shop-db\"\n"));
        assert!(named("{'host': 'shop-db'}"));
        assert!(named(r#"{\"database\":{\"host\":\"shop-db\"}}"#));
        assert!(!named("\"name\": \"shop-db\""));
        assert!(
            is_hostish("DATABASE_HOST") && is_hostish("db_url") && !is_hostish("DATABASE_USER")
        );
    }

    #[test]
    fn decodes_secret_data() {
        assert_eq!(
            decode_base64(&Value::String("aGVsbG8=".into())).as_deref(),
            Some("hello")
        );
        assert_eq!(decode_base64(&Value::String("!!".into())), None);
    }
}
