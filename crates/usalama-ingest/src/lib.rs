//! Readers for the external formats Usalama imports: UCDP GED events (CSV and GeoJSON),
//! administrative boundaries (OCHA COD-AB, geoBoundaries, GADM GeoJSON) and the taxonomy
//! file, plus the point-in-polygon [`placement`] of events in localities.
//!
//! Every reader returns domain values built through the domain's validating constructors,
//! and reports each rejected row as a [`Problem`] naming the row and the field, so that one
//! bad row never stops an import. Only a file that cannot be read at all is an
//! [`IngestError`]. This crate does no IO of its own beyond the reader it is handed, reads
//! no clock (`now` is a parameter) and knows nothing about storage or HTTP.

pub mod boundaries;
pub mod gazetteer;
pub mod openrosa;
pub mod placement;
pub mod problem;
pub mod sms;
pub mod taxonomy_file;
pub mod ucdp;

mod json;

pub use boundaries::{read_boundaries, BoundaryFeature, BoundaryFields, BoundarySet};
pub use gazetteer::{Gazetteer, MatchKind, PlaceMatch, Resolution};
pub use placement::Placer;
pub use problem::{IngestError, Problem};
pub use sms::{parse_sms, parse_sms_syntax, SmsSyntax, DEFAULT_SMS_SYNTAX};
pub use taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};
pub use ucdp::{read_ged_csv, read_ged_geojson, ImportedEvent};
pub use usalama_domain::LocalityPath;
