//! Sidecars the migration itself needs, and so keeps by default.
//!
//! A Cloud SQL or AlloyDB proxy is how the migration reaches its database: dropping it breaks
//! the migration (chainloop#309, DefectDojo#10824), keeping it as a regular container keeps the
//! Job from ever completing. As a native sidecar (an init container with `restartPolicy:
//! Always`, Kubernetes ≥ 1.29) it runs for as long as the migration and no longer.

use serde_json::Value;

/// Image repositories of database proxies (matched as a path segment of the image name).
const DATABASE_PROXY_IMAGES: &[&str] = &[
    "cloud-sql-proxy",
    "cloudsql-docker/gce-proxy",
    "alloydb-auth-proxy",
];

/// Whether a container runs a well-known database proxy, judged by its image.
pub(crate) fn is_database_proxy(container: &Value) -> bool {
    let Some(image) = container.get("image").and_then(Value::as_str) else {
        return false;
    };
    // Drop the tag or digest: `gcr.io/x/cloud-sql-proxy:2.11` → `gcr.io/x/cloud-sql-proxy`.
    let repository = image.split('@').next().unwrap_or(image);
    let repository = match repository.rfind(':') {
        Some(i) if !repository[i..].contains('/') => &repository[..i],
        _ => repository,
    };
    DATABASE_PROXY_IMAGES
        .iter()
        .any(|proxy| repository == *proxy || repository.ends_with(&format!("/{proxy}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn recognises_proxies_by_image() {
        for image in [
            "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0",
            "gcr.io/cloudsql-docker/gce-proxy:1.33",
            "gcr.io/alloydb-connectors/alloydb-auth-proxy@sha256:abc",
            "localhost:5000/cloud-sql-proxy",
        ] {
            assert!(is_database_proxy(&json!({"image": image})), "{image}");
        }
        for image in [
            "nginx",
            "example/cloud-sql-proxy-exporter:1",
            "istio/proxyv2",
        ] {
            assert!(!is_database_proxy(&json!({"image": image})), "{image}");
        }
    }
}
