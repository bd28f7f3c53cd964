//! The demo: real boundaries and real events loaded into a store, an administrator account
//! and an API token, so that a newcomer sees Usalama working on real data in one command.
//! Running it again on the same store adds nothing: imports are idempotent, and the demo
//! account's password and token are replaced rather than added.

use crate::auth::{random_password, Principal, TokenSecret};
use crate::error::AppError;
use crate::imports::{BoundaryReport, ImportReport};
use crate::App;
use usalama_domain::{AdminLevel, Role};
use usalama_ingest::BoundaryFields;

/// The demo's data: boundary GeoJSON per level, and UCDP GED events as GeoJSON.
pub struct DemoData<'a> {
    /// `(level, GeoJSON)` pairs, shallowest first.
    pub boundaries: Vec<(AdminLevel, &'a str)>,
    /// UCDP GED GeoJSON.
    pub ucdp_geojson: &'a str,
}

/// What preparing the demo did, and how to get in.
#[derive(Debug)]
pub struct DemoReport {
    /// One report per boundary level.
    pub boundaries: Vec<(AdminLevel, BoundaryReport)>,
    /// The event import.
    pub events: ImportReport,
    /// The administrator's login name.
    pub username: String,
    /// The administrator's password (new each run).
    pub password: String,
    /// An admin API token (new each run; the previous demo token is revoked).
    pub token: TokenSecret,
    /// Alerts the default rules raised on the demo data (none on a second run: the same
    /// alerts exist).
    pub alerts_raised: usize,
}

/// The demo administrator's login name.
pub const DEMO_USER: &str = "admin";
/// The label of the demo's API token.
pub const DEMO_TOKEN_LABEL: &str = "demo";

impl App {
    /// Loads the demo data and (re)sets the demo administrator and token.
    pub fn prepare_demo(&self, data: &DemoData<'_>) -> Result<DemoReport, AppError> {
        let who = Principal::Operator;
        let mut boundaries = Vec::new();
        for (level, json) in &data.boundaries {
            let r =
                self.import_boundaries(&who, json.as_bytes(), *level, &BoundaryFields::default())?;
            boundaries.push((*level, r));
        }
        let events = self.import_ucdp_json(&who, data.ucdp_geojson.into(), None, &mut |_| {})?;
        let password = random_password();
        self.set_password(DEMO_USER, &password, Role::Admin)?;
        self.revoke_tokens(DEMO_TOKEN_LABEL)?;
        let token = self.create_token(Role::Admin, DEMO_TOKEN_LABEL)?;
        let alerts_raised = self.evaluate_alerts(&who)?.raised.len();
        Ok(DemoReport {
            alerts_raised,
            boundaries,
            events,
            username: DEMO_USER.into(),
            password,
            token,
        })
    }
}
