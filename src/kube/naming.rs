//! Names for the documents we generate: stable across releases, valid, short enough, unique.
//!
//! Stability matters: `before-hook-creation` finds the previous run's Job by name, so a name
//! depends only on the workload's name (never on content or stream order).

/// Longest Job name: the Job controller copies it into a pod label value.
pub(crate) const MAX_JOB_NAME: usize = 63;
/// Longest ConfigMap/Secret name (a DNS-1123 subdomain).
pub(crate) const MAX_OBJECT_NAME: usize = 253;
/// Length of the hash suffix used when a name is shortened or disambiguated.
const HASH_LEN: usize = 5;

/// A DNS-1123 label: 1–63 of `[a-z0-9-]`, starting and ending with a letter or digit.
pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_JOB_NAME
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// FNV-1a, 64 bits: tiny, dependency-free and stable across platforms and releases.
pub(crate) fn stable_hash(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The first `HASH_LEN` hex digits of the stable hash of `text`.
pub(crate) fn short_hash(text: &str) -> String {
    format!("{:016x}", stable_hash(text))[..HASH_LEN].to_string()
}

/// `name` if it fits in `max` bytes; otherwise a prefix of it plus `-<hash of name>`.
pub(crate) fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    with_suffix(name, &short_hash(name), max)
}

/// `name-suffix`, shortening `name` so the whole fits in `max` bytes.
pub(crate) fn with_suffix(name: &str, suffix: &str, max: usize) -> String {
    let room = max.saturating_sub(suffix.len() + 1);
    let mut cut = name.len().min(room);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let prefix = name[..cut].trim_end_matches(['-', '.']);
    format!("{prefix}-{suffix}")
}

/// A DNS-label-safe version of a workload name (lower-cased, other characters become `-`).
pub(crate) fn sanitize(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_matches('-');
    if trimmed.is_empty() {
        "workload".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A Job name made stable across releases: a trailing revision number (`-3`, from
/// `.Release.Revision`: up to 6 digits, so a date stays) or random suffix is dropped, the
/// random one first, then the revision. Random means letters and digits mixed, and either 5
/// of them (`-hhmn4`, `randAlphaNum 5`, Kubernetes' `generateName`) or 6 to 12 hexadecimal
/// ones (`-9fb718c`, a checksum); so `-mysql8`, `-ipv6`, `-v2` stay. Returns the name and what
/// was dropped (empty when nothing was). A name made of such parts only is kept.
pub(crate) fn without_revision_suffix(name: &str) -> (String, String) {
    let mut kept = name;
    let mut dropped = String::new();
    let is_random = |s: &str| {
        let mixed = s.bytes().all(|b| b.is_ascii_alphanumeric())
            && s.bytes().any(|b| b.is_ascii_digit())
            && s.bytes().any(|b| b.is_ascii_alphabetic());
        let hex = s.bytes().all(|b| b.is_ascii_hexdigit());
        mixed && (s.len() == 5 || ((6..=12).contains(&s.len()) && hex))
    };
    let is_revision = |s: &str| (1..=6).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    for strip in [&is_random as &dyn Fn(&str) -> bool, &is_revision] {
        if let Some((head, tail)) = kept.rsplit_once('-')
            && !head.is_empty()
            && strip(tail)
        {
            dropped = format!("-{tail}{dropped}");
            kept = head;
        }
    }
    (kept.to_string(), dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(is_dns_label("web-migration"));
        assert!(!is_dns_label("Web"));
        assert!(!is_dns_label("-a"));
        assert!(!is_dns_label(&"a".repeat(64)));
    }

    #[test]
    fn fitting_keeps_short_names_and_hashes_long_ones() {
        assert_eq!(fit("web-migration", 63), "web-migration");
        let long = format!("{}-migration", "a".repeat(70));
        let fitted = fit(&long, 63);
        assert_eq!(fitted.len(), 63);
        assert!(is_dns_label(&fitted));
        assert_eq!(fitted, fit(&long, 63), "stable");
        assert_ne!(fit(&format!("{}-migration", "a".repeat(71)), 63), fitted);
    }

    #[test]
    fn suffixes_do_not_leave_dangling_dashes() {
        assert_eq!(with_suffix("abc-def", "12345", 10), "abc-12345");
    }

    #[test]
    fn hash_is_stable() {
        // Pinned: changing the hash would rename every generated Job on upgrade.
        assert_eq!(short_hash("Deployment/web"), short_hash("Deployment/web"));
        assert_eq!(format!("{:016x}", stable_hash("")), "cbf29ce484222325");
        assert_eq!(format!("{:016x}", stable_hash("a")), "af63dc4c8601ec8c");
    }

    #[test]
    fn sanitizing() {
        assert_eq!(sanitize("My.App_1"), "my-app-1");
        assert_eq!(sanitize("..."), "workload");
    }

    #[test]
    fn revision_and_random_suffixes_are_dropped() {
        let cases = [
            ("shop-migrate-3", "shop-migrate", "-3"),
            ("shop-migrate-db-1-hhmn4", "shop-migrate-db", "-1-hhmn4"),
            ("shop-migrate-x7k2p", "shop-migrate", "-x7k2p"),
            ("shop-migrate", "shop-migrate", ""),
            ("shop-v2", "shop-v2", ""),
            ("shop-migrate-abcde", "shop-migrate-abcde", ""),
            ("gitlab-migrations-9fb718c", "gitlab-migrations", "-9fb718c"),
            ("app-init-mysql8", "app-init-mysql8", ""),
            ("app-init-ipv6", "app-init-ipv6", ""),
            ("app-seed-20240101", "app-seed-20240101", ""),
            ("app-migrate-k8s", "app-migrate-k8s", ""),
            ("42", "42", ""),
            ("-3", "-3", ""),
        ];
        for (name, kept, dropped) in cases {
            assert_eq!(
                without_revision_suffix(name),
                (kept.to_string(), dropped.to_string()),
                "{name}"
            );
        }
    }
}
