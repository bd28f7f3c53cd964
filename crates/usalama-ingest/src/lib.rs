//! Readers and writers for the external formats Usalama exchanges: UCDP GED events (CSV
//! and GeoJSON), ACLED export CSV, HXL-tagged CSV and GeoJSON events, administrative
//! boundaries (OCHA COD-AB, geoBoundaries, GADM, MIMU GeoJSON) and the taxonomy file; the
//! streaming [`export`] writers (HXL, GeoJSON, CSV) and the [`rejects`] file of an import;
//! plus the point-in-polygon [`placement`] of events in localities.
//!
//! Every reader returns domain values built through the domain's validating constructors,
//! and reports each rejected row as a [`Problem`] naming the row and the field, so that one
//! bad row never stops an import. Only a file that cannot be read at all is an
//! [`IngestError`]. This crate does no IO of its own beyond the readers and writers it is
//! handed and the JSON files named to it ([`JsonSource::File`], opened once per pass, its
//! rows mapped on a thread of their own: [`JsonRows`]), reads no clock (`now` is a
//! parameter) and knows nothing about storage or HTTP.

pub mod acled;
pub mod adjacency;
pub mod alert_rules;
pub mod boundaries;
pub mod country;
pub mod export;
pub mod gazetteer;
pub mod geojson_events;
pub mod hxl;
pub mod imported;
pub mod json_file;
pub mod openrosa;
pub mod placement;
pub mod problem;
pub mod rejects;
pub mod sms;
pub mod taxonomy_file;
pub mod ucdp;

mod csvin;
mod json;
mod json_scan;
mod text;

pub use acled::{read_acled_csv, read_acled_json};
pub use alert_rules::{parse_alert_rules, AlertRules, DEFAULT_ALERT_RULES};
pub use boundaries::{read_boundaries, BoundaryFeature, BoundaryFields, BoundarySet};
pub use csvin::not_text;
pub use export::{EventWriter, ExportFormat, ExportPlace, ExportRecord};
pub use gazetteer::{Gazetteer, MatchKind, PlaceMatch, Resolution};
pub use geojson_events::read_events_geojson;
pub use hxl::{hxl_json_to_csv, read_hxl_csv};
pub use imported::{ImportRow, PlaceHints, ReadOptions, Rows};
pub use json::not_geojson;
pub use json_file::{JsonRows, JsonSource};
pub use placement::Placer;
pub use problem::{IngestError, Problem};
pub use rejects::{write_csv_rejects, write_geojson_rejects, RejectsLayout};
pub use sms::{parse_sms, parse_sms_syntax, SmsSyntax, DEFAULT_SMS_SYNTAX};
pub use taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
pub use text::{fold_name, DateOrder};
pub use ucdp::{read_ged_csv, read_ged_json, ImportedEvent};
pub use usalama_domain::LocalityPath;
