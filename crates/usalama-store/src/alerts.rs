//! What the alert methods of the [`Store`](crate::Store) take and return: the alert list
//! filter, the delivery outbox rows and attempts, and the one conversion between an alert
//! row's text columns and the domain's [`Alert`], shared by both backends.

use crate::error::StoreError;
use chrono::{DateTime, Utc};
use usalama_domain::alert::{
    Alert, AlertSeverity, AlertStatus, Certainty, DeliveryChannel, Evidence, Urgency,
};
use usalama_domain::{AlertId, Dimension, LocalityId, SubscriptionId};
use uuid::Uuid;

/// Which alerts to list, newest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertQuery {
    /// Only alerts in this status.
    pub status: Option<AlertStatus>,
    /// Only alerts of this rule.
    pub rule: Option<String>,
    /// Only alerts raised at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// At most this many (1..=1000; 0 means 1000).
    pub limit: u32,
}

impl AlertQuery {
    /// The limit, clamped to 1..=1000.
    pub fn clamped_limit(&self) -> i64 {
        if self.limit == 0 {
            1000
        } else {
            i64::from(self.limit.min(1000))
        }
    }
}

/// A delivery to write with a new alert: one matching subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The subscription.
    pub subscription: SubscriptionId,
    /// Its channel.
    pub channel: DeliveryChannel,
    /// Its address or URL.
    pub target: String,
}

/// A delivery claimed by a worker.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// The outbox row.
    pub id: i64,
    /// The alert to deliver.
    pub alert: AlertId,
    /// The subscription.
    pub subscription: SubscriptionId,
    /// The channel.
    pub channel: DeliveryChannel,
    /// The address or URL.
    pub target: String,
    /// The subscription's signing secret (`None` when the subscription was removed).
    pub secret: Option<String>,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// The outcome of one delivery attempt, to record.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryAttemptWrite {
    /// The outbox row.
    pub delivery: i64,
    /// The attempt's number (1 for the first).
    pub attempt: u32,
    /// When it was made.
    pub at: DateTime<Utc>,
    /// Whether it was accepted.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// When to try again; `None` when delivered or given up.
    pub retry_at: Option<DateTime<Utc>>,
}

/// One delivery attempt as logged.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryLogEntry {
    /// The outbox row.
    pub delivery: i64,
    /// The subscription.
    pub subscription: SubscriptionId,
    /// The channel.
    pub channel: DeliveryChannel,
    /// The address or URL.
    pub target: String,
    /// The delivery's status now (`pending`, `delivered`, `failed`).
    pub status: String,
    /// The attempt's number; 0 for a delivery not yet attempted.
    pub attempt: u32,
    /// When it was made (for 0: when the delivery was queued).
    pub at: DateTime<Utc>,
    /// Whether it was accepted.
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
}

/// What a status change did.
#[derive(Debug, Clone, PartialEq)]
pub enum AlertWriteOutcome {
    /// Changed; the alert as it is now.
    Done(Box<Alert>),
    /// No such alert.
    NotFound,
    /// The alert was no longer in the expected status: it is in this one.
    Conflict(AlertStatus),
}

/// An alert's columns as text, the same for both backends.
pub(crate) struct AlertRow {
    pub id: Uuid,
    pub rule: String,
    pub rule_kind: String,
    pub locality_id: Option<Uuid>,
    pub locality_code: Option<String>,
    pub locality_name: Option<String>,
    pub dimension: Option<String>,
    pub period: String,
    pub severity: String,
    pub urgency: String,
    pub certainty: String,
    pub headline: String,
    pub description: String,
    pub evidence: String,
    pub status: String,
    pub raised_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The alert columns in [`AlertRow`] order.
pub(crate) const ALERT_COLUMNS: &str = "id, rule, rule_kind, locality_id, locality_code, locality_name, dimension, period, severity, urgency, certainty, headline, description, evidence, status, raised_at, updated_at";

fn bad(column: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("alerts.{column}: {e}"))
}

impl AlertRow {
    pub(crate) fn from_alert(a: &Alert) -> Result<Self, StoreError> {
        Ok(Self {
            id: a.id.as_uuid(),
            rule: a.rule.clone(),
            rule_kind: a.rule_kind.clone(),
            locality_id: a.locality.map(|l| l.as_uuid()),
            locality_code: a.locality_code.clone(),
            locality_name: a.locality_name.clone(),
            dimension: a.dimension.map(|d| d.as_str().to_string()),
            period: a.period.clone(),
            severity: a.severity.as_str().into(),
            urgency: a.urgency.as_str().into(),
            certainty: a.certainty.as_str().into(),
            headline: a.headline.clone(),
            description: a.description.clone(),
            evidence: serde_json::to_string(&a.evidence).map_err(|e| bad("evidence", e))?,
            status: a.status.as_str().into(),
            raised_at: a.raised_at,
            updated_at: a.updated_at,
        })
    }

    pub(crate) fn into_alert(self) -> Result<Alert, StoreError> {
        let evidence: Evidence =
            serde_json::from_str(&self.evidence).map_err(|e| bad("evidence", e))?;
        Ok(Alert {
            id: AlertId::from_uuid(self.id),
            rule: self.rule,
            rule_kind: self.rule_kind,
            locality: self.locality_id.map(LocalityId::from_uuid),
            locality_code: self.locality_code,
            locality_name: self.locality_name,
            dimension: self
                .dimension
                .map(|d| d.parse::<Dimension>().map_err(|e| bad("dimension", e)))
                .transpose()?,
            period: self.period,
            severity: self
                .severity
                .parse::<AlertSeverity>()
                .map_err(|e| bad("severity", e))?,
            urgency: self
                .urgency
                .parse::<Urgency>()
                .map_err(|e| bad("urgency", e))?,
            certainty: self
                .certainty
                .parse::<Certainty>()
                .map_err(|e| bad("certainty", e))?,
            headline: self.headline,
            description: self.description,
            evidence,
            status: parse_status(&self.status)?,
            raised_at: self.raised_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) fn parse_status(s: &str) -> Result<AlertStatus, StoreError> {
    s.parse::<AlertStatus>().map_err(|e| bad("status", e))
}

pub(crate) fn parse_channel(s: &str) -> Result<DeliveryChannel, StoreError> {
    s.parse::<DeliveryChannel>().map_err(|e| bad("channel", e))
}

pub(crate) fn parse_severity(s: &str) -> Result<AlertSeverity, StoreError> {
    s.parse::<AlertSeverity>()
        .map_err(|e| bad("min_severity", e))
}

pub(crate) fn parse_dimension(s: Option<String>) -> Result<Option<Dimension>, StoreError> {
    s.map(|d| d.parse::<Dimension>().map_err(|e| bad("dimension", e)))
        .transpose()
}
