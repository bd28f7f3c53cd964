//! The layering of ARCHITECTURE.md, checked: each crate depends only on the crates (ours
//! and the chosen infrastructure) its row allows, so a shortcut fails here.

use std::path::Path;

/// Our crates each crate may depend on (normal dependencies only).
const RULES: &[(&str, &[&str])] = &[
    ("usalama-domain", &[]),
    ("usalama-analytics", &["usalama-domain"]),
    ("usalama-ingest", &["usalama-domain"]),
    ("usalama-store", &["usalama-domain"]),
    (
        "usalama-app",
        &[
            "usalama-domain",
            "usalama-store",
            "usalama-ingest",
            "usalama-analytics",
        ],
    ),
    (
        "usalama-web",
        &["usalama-domain", "usalama-store", "usalama-app"],
    ),
    (
        "usalama",
        &[
            "usalama-domain",
            "usalama-store",
            "usalama-ingest",
            "usalama-app",
            "usalama-web",
        ],
    ),
];

/// Infrastructure that must not appear below the layer that owns it.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "usalama-domain",
        &[
            "axum",
            "tokio",
            "rusqlite",
            "postgres",
            "serde_json",
            "csv",
            "toml",
            "geo",
            "rand",
        ],
    ),
    (
        "usalama-analytics",
        &["axum", "tokio", "rusqlite", "postgres"],
    ),
    ("usalama-ingest", &["axum", "tokio", "rusqlite", "postgres"]),
    // Crypto lives in the application's vault: the store only moves sealed bytes.
    (
        "usalama-store",
        &[
            "axum",
            "tokio",
            "csv",
            "geojson",
            "chacha20poly1305",
            "chacha20",
            "ring",
        ],
    ),
    (
        "usalama-app",
        &["axum", "tokio", "rusqlite", "postgres", "maud"],
    ),
    (
        "usalama-web",
        &[
            "rusqlite",
            "postgres",
            "clap",
            "anyhow",
            "chacha20poly1305",
            "chacha20",
            "ring",
        ],
    ),
];

fn dependencies(krate: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    doc.get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn crates_depend_only_on_the_layers_below() {
    for (krate, allowed) in RULES {
        for dep in dependencies(krate)
            .iter()
            .filter(|d| d.starts_with("usalama"))
        {
            assert!(
                allowed.contains(&dep.as_str()),
                "{krate} must not depend on {dep}"
            );
        }
    }
    for (krate, banned) in FORBIDDEN {
        for dep in dependencies(krate) {
            assert!(
                !banned.contains(&dep.as_str()),
                "{krate} must not depend on {dep}"
            );
        }
    }
}
