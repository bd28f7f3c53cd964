//! Usalama's application layer: every use-case the web and the command line offer, with
//! authorization checked here, once, for both. It depends on the domain, the storage API
//! and the format readers, and knows nothing about HTTP or terminals.
//!
//! All methods are synchronous; async callers run them on a blocking thread.

mod admin;
pub mod alerts;
mod audit;
mod auth;
mod channels;
mod clock;
mod demo;
pub mod digest;
mod erasure;
mod error;
mod exports;
mod forecast;
mod imports;
mod index;
mod index_disclosure;
mod legacy;
mod memo;
mod orgs;
mod pages;
mod personal;
mod places;
mod public;
mod public_alerts;
mod queries;
mod recompute;
mod throttle;
pub mod totp;
pub mod vault;
mod verification;

pub use admin::AccountSummary;
pub use alerts::{
    can_handle_alerts, AlertDetail, AlertFilter, DeliveryConfig, DeliveryReport, Evaluation,
    ForecastPoint, ForecastSource, NetTransport, SubscriptionInput, Transport,
};
pub use audit::AuditCheck;
pub use auth::{
    random_password as generate_password, LoginAttempt, PasswordCost, Principal, TokenSecret,
    SESSION_HOURS,
};
pub use channels::{
    normalize_reference, reference_for, FieldError, ItemOutcome, OpenRosaOutcome, PersonInput,
    PlacePolicy, Placement, Receipt, ReportInput, ReportStatus, SmsInput, SmsOutcome, SmsResult,
    SubmitMode, MAX_BATCH, MAX_PLACES, SMS_KEY_SETTING,
};
pub use channels::{ClientAddressPolicy, ClientInfo, KeepClient};
pub use clock::{Clock, FixedClock, SystemClock};
pub use demo::{DemoData, DemoReport, DEMO_TOKEN_LABEL, DEMO_USER};
pub use erasure::{RetentionPolicy, RetentionReport};
pub use error::AppError;
pub use forecast::{BacktestOutcome, ForecastRow, ForecastTable, FORECAST_HORIZONS};
pub use imports::{BoundaryReport, ImportReport};
pub use index::{
    dimension_position, IndexExplanation, IndexPoint, IndexRow, IndexSeries, IndexTable,
};
pub use legacy::{LegacySealed, LEGACY_BATCH};
pub use personal::{OpenedAttachment, PersonalData};
pub use public::{dimension_index, PrivacyConfig, PublicArea, PublicFigures};
pub use public_alerts::PublicAlert;
pub use queries::{EventView, LocalityCount, PublicStats, SourceCount};
pub use recompute::{RecomputeOptions, Recomputed};
pub use throttle::LoginPolicy;
/// The analytics crate, re-exported for the layers above (periods, levels, explanations).
pub use usalama_analytics as analytics;
pub use usalama_ingest::gazetteer::{MatchKind, PlaceMatch, Resolution};
pub use usalama_ingest::openrosa::{
    form_list as openrosa_form_list, response as openrosa_response,
};
pub use usalama_ingest::{parse_alert_rules, AlertRules, DEFAULT_ALERT_RULES};
pub use vault::{ErasureLedger, Keyring, MasterKey, MemoryLedger};
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
    vault: Arc<personal::VaultState>,
    /// Events written per transaction by imports.
    import_batch: usize,
    /// Cost of new password hashes.
    password_cost: PasswordCost,
    /// When failed log-ins lock accounts and block clients.
    login_policy: LoginPolicy,
    /// Failed log-ins per client, in memory.
    throttle: Arc<throttle::ClientThrottle>,
    /// The organisation owning reports from callers without one (the anonymous web form).
    report_org: usalama_domain::OrgId,
    alerts: Arc<alerts::AlertState>,
    /// What each channel keeps of its clients' network details.
    client_policy: channels::ClientAddressPolicy,
    /// OpenRosa HTTP Digest: nonce key and replay window.
    digest: Arc<digest::DigestState>,
}

impl App {
    /// Builds the application over an opened store, with a random master key held in
    /// memory and an in-memory erasure ledger: for tests and throwaway stores. The binary
    /// always calls [`App::with_vault`] with the installation's key file.
    pub fn new(store: Arc<dyn Store>, taxonomy: Taxonomy, clock: Arc<dyn Clock>) -> Self {
        Self {
            vault: Arc::new(personal::VaultState::new(
                Keyring::generate(),
                Arc::new(MemoryLedger::default()),
            )),
            store,
            intake: Arc::new(channels::Intake::new(&taxonomy)),
            alerts: Arc::new(alerts::AlertState::new(&taxonomy)),
            taxonomy: Arc::new(taxonomy),
            clock,
            cache: Arc::default(),
            duplicate_rules: Default::default(),
            import_batch: imports::BATCH,
            password_cost: PasswordCost::default(),
            login_policy: LoginPolicy::default(),
            throttle: Arc::default(),
            report_org: usalama_domain::DEFAULT_ORG,
            client_policy: Default::default(),
            digest: Arc::default(),
        }
    }

    /// Uses another cost for new password hashes; less than
    /// [`PasswordCost::OWASP_MINIMUM`] is refused.
    pub fn with_password_cost(mut self, cost: PasswordCost) -> Result<Self, AppError> {
        let min = PasswordCost::OWASP_MINIMUM;
        if cost.memory_kib < min.memory_kib || cost.iterations < min.iterations {
            return Err(AppError::invalid(
                "password_cost",
                format!(
                    "must be at least {} KiB and {} passes (OWASP)",
                    min.memory_kib, min.iterations
                ),
            ));
        }
        self.password_cost = cost;
        Ok(self)
    }

    /// Uses another log-in throttling policy.
    pub fn with_login_policy(mut self, policy: LoginPolicy) -> Self {
        self.login_policy = policy;
        self
    }

    /// Gives reports from callers without an organisation (the anonymous web form) to
    /// `org` instead of the default organisation.
    pub fn with_report_org(mut self, org: usalama_domain::OrgId) -> Self {
        self.report_org = org;
        self
    }

    /// Keeps (sealed) the client address and user agent of reports on the channels the
    /// policy names; by default no channel keeps them.
    pub fn with_client_addresses(mut self, policy: channels::ClientAddressPolicy) -> Self {
        self.client_policy = policy;
        self
    }

    /// Uses the installation's master keys and erasure ledger (call before any use).
    pub fn with_vault(mut self, keys: Keyring, ledger: Arc<dyn ErasureLedger>) -> Self {
        self.vault = Arc::new(personal::VaultState::new(keys, ledger));
        self.intake = Arc::new(channels::Intake::new(&self.taxonomy));
        self
    }

    /// Sets how many events imports write per transaction (default
    /// 10,000; at least 1). A bulk load starts once an import has written more than one
    /// batch of new events (and at least as many as the store held).
    pub fn with_import_batch(mut self, events: usize) -> Self {
        self.import_batch = events.max(1);
        self
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
