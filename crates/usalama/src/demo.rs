//! `usalama demo`: the bundled real data (UCDP GED 23.1 events and OCHA COD-AB boundaries
//! of the Central African Republic, embedded in the binary) loaded into a store, then served.

use crate::cli::{open_app, Settings, StoreArgs};
use std::time::Instant;
use usalama_app::DemoData;
use usalama_domain::AdminLevel;

const ADM1: &str = include_str!("../../../data/demo/caf_admin1.geojson");
const ADM2: &str = include_str!("../../../data/demo/caf_admin2.geojson");
const ADM3: &str = include_str!("../../../data/demo/caf_admin3.geojson");
const EVENTS: &str = include_str!("../../../data/demo/ucdp-ged-caf.geojson");

/// Prepares the demo store and serves it (unless `no_serve`).
pub fn run(
    s: &Settings,
    store: StoreArgs,
    bind: Option<String>,
    no_serve: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    // Without --data-dir or --database-url, a temporary directory that is removed on exit.
    let explicit = store.data_dir.is_some()
        || store.database_url.is_some()
        || s.file.store.data_dir.is_some()
        || s.file.store.database_url.is_some()
        || std::env::var_os("USALAMA_DATABASE_URL_FILE").is_some();
    let temp = if explicit {
        None
    } else {
        Some(tempfile::Builder::new().prefix("usalama-demo-").tempdir()?)
    };
    let app = open_app(s, &store, temp.as_ref().map(|t| t.path().join("data")))?;
    let report = app.prepare_demo(&DemoData {
        boundaries: vec![
            (AdminLevel::Adm1, ADM1),
            (AdminLevel::Adm2, ADM2),
            (AdminLevel::Adm3, ADM3),
        ],
        ucdp_geojson: EVENTS,
    })?;
    for (level, r) in &report.boundaries {
        println!("boundaries {level}: {r}");
    }
    println!("events (UCDP GED 23.1, CC BY 4.0): {}", report.events);
    if let Some(t) = &temp {
        println!(
            "Data directory (temporary, removed on exit): {}",
            t.path().join("data").display()
        );
    }
    println!(
        "alerts raised by the default rules: {} (see /alerts)",
        report.alerts_raised
    );
    println!("Demo ready in {:.1} s.", started.elapsed().as_secs_f64());
    println!("Log in as: {} / {}", report.username, report.password);
    println!("API token: {}", report.token.expose());
    if no_serve {
        return Ok(());
    }
    let bind = bind
        .or_else(|| s.file.server.bind.clone())
        .unwrap_or_else(|| crate::serve::DEFAULT_BIND.into());
    crate::serve::serve(
        app,
        &bind,
        s.file.server.web_config(),
        Some(Box::new(|addr| {
            println!("Serving on http://{addr}/  (Ctrl-C to stop)");
        })),
        s.file.alerts.delivery(),
    )
}
