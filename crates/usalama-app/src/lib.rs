//! Usalama's application layer: every use-case the web and the command line offer, with
//! authorization checked here, once, for both. It depends on the domain, the storage API
//! and the format readers, and knows nothing about HTTP or terminals.
//!
//! All methods are synchronous; async callers run them on a blocking thread.

pub mod alerts;
mod auth;
mod channels;
mod clock;
mod demo;
mod error;
mod exports;
mod imports;
mod index;
mod places;
mod queries;
mod verification;

pub use alerts::{
    can_handle_alerts, AlertDetail, AlertFilter, DeliveryConfig, DeliveryReport, Evaluation,
    ForecastPoint, ForecastSource, NetTransport, SubscriptionInput, Transport,
};
pub use auth::{random_password as generate_password, Principal, TokenSecret, SESSION_HOURS};
pub use channels::{
    normalize_reference, reference_for, FieldError, ItemOutcome, OpenRosaOutcome, PersonInput,
    PlacePolicy, Placement, Receipt, ReportInput, ReportStatus, SmsInput, SmsOutcome, SmsResult,
    SubmitMode, MAX_BATCH, MAX_PLACES, SMS_KEY_SETTING,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use demo::{DemoData, DemoReport, DEMO_TOKEN_LABEL, DEMO_USER};
pub use error::AppError;
pub use imports::{BoundaryReport, ImportReport};
pub use index::{
    dimension_position, IndexExplanation, IndexPoint, IndexRow, IndexSeries, IndexTable,
};
pub use queries::{EventView, LocalityCount, PublicStats, SourceCount};
/// The analytics crate, re-exported for the layers above (periods, levels, explanations).
pub use usalama_analytics as analytics;
pub use usalama_ingest::gazetteer::{MatchKind, PlaceMatch, Resolution};
pub use usalama_ingest::openrosa::{
    form_list as openrosa_form_list, response as openrosa_response,
};
pub use usalama_ingest::{parse_alert_rules, AlertRules, DEFAULT_ALERT_RULES};
pub use verification::{DuplicateCandidate, Duplicates, QueueItem, VersionedView};

use std::sync::Arc;
use usalama_domain::Taxonomy;
use usalama_store::Store;

/// The application: the store, the taxonomy and the clock, shared by every request.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    taxonomy: Arc<Taxonomy>,
    clock: Arc<dyn Clock>,
    cache: Arc<queries::LocalityCache>,
    duplicate_rules: usalama_domain::DuplicateRules,
    intake: Arc<channels::Intake>,
    alerts: Arc<alerts::AlertState>,
}

impl App {
    /// Builds the application over an opened store.
    pub fn new(store: Arc<dyn Store>, taxonomy: Taxonomy, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            intake: Arc::new(channels::Intake::new(&taxonomy)),
            alerts: Arc::new(alerts::AlertState::new(&taxonomy)),
            taxonomy: Arc::new(taxonomy),
            clock,
            cache: Arc::default(),
            duplicate_rules: Default::default(),
        }
    }

    /// The taxonomy in use.
    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    /// The store (for health checks and administrative commands).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The current time from the injected clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
