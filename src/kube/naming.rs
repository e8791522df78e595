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
}
