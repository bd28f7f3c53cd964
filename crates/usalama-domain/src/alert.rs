//! Alerts: what a rule raised about a locality in a period, graded the way the Common
//! Alerting Protocol (CAP 1.2) grades messages (severity, urgency, certainty), with the
//! evidence that raised it and a lifecycle (new → acknowledged → responded → closed) whose
//! every change names who made it and when. Rules and subscriptions are described here;
//! evaluating and delivering them is the application's work.

use crate::error::DomainError;
use crate::ids::{AlertId, EventId, LocalityId, SubscriptionId};
use crate::locality::AdminLevel;
use crate::taxonomy::Dimension;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An enum with lowercase names in files and the database, and CAP's capitalised names.
macro_rules! cap_enum {
    ($(#[$doc:meta])* $ty:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $s:literal / $cap:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $ty { $($(#[$vdoc])* $variant),+ }

        impl $ty {
            /// Every value, in the order of the CAP specification.
            pub const ALL: &'static [$ty] = &[$(Self::$variant),+];
            /// The lowercase name used in files, the API and the database.
            pub fn as_str(&self) -> &'static str {
                match self { $(Self::$variant => $s),+ }
            }
            /// The name CAP 1.2 uses.
            pub fn cap_name(&self) -> &'static str {
                match self { $(Self::$variant => $cap),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $ty {
            type Err = DomainError;
            /// Reads the lowercase or the CAP name.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim().to_ascii_lowercase();
                match t.as_str() {
                    $($s => Ok(Self::$variant),)+
                    _ => Err(DomainError::new($field, format!(
                        "'{s}' is not one of {}", [$($s),+].join(", ")))),
                }
            }
        }
    };
}

cap_enum!(
    /// How bad the threat is (CAP `severity`).
    AlertSeverity, "severity", {
        /// Extraordinary threat to life.
        Extreme => "extreme" / "Extreme",
        /// Significant threat to life.
        Severe => "severe" / "Severe",
        /// Possible threat to life.
        Moderate => "moderate" / "Moderate",
        /// Minimal to no known threat to life.
        Minor => "minor" / "Minor",
        /// Severity unknown.
        Unknown => "unknown" / "Unknown",
    }
);

impl AlertSeverity {
    /// A rank for comparisons: Extreme 4, Severe 3, Moderate 2, Minor 1, Unknown 0.
    pub fn rank(&self) -> u8 {
        match self {
            Self::Extreme => 4,
            Self::Severe => 3,
            Self::Moderate => 2,
            Self::Minor => 1,
            Self::Unknown => 0,
        }
    }

    /// Whether this severity is at least `min`.
    pub fn at_least(&self, min: AlertSeverity) -> bool {
        self.rank() >= min.rank()
    }
}

cap_enum!(
    /// How soon people should act (CAP `urgency`).
    Urgency, "urgency", {
        /// Act now.
        Immediate => "immediate" / "Immediate",
        /// Act within the next hour.
        Expected => "expected" / "Expected",
        /// Act in the near future.
        Future => "future" / "Future",
        /// No longer needed.
        Past => "past" / "Past",
        /// Not known.
        Unknown => "unknown" / "Unknown",
    }
);

cap_enum!(
    /// How sure the system is (CAP `certainty`).
    Certainty, "certainty", {
        /// Determined to have occurred or to be ongoing.
        Observed => "observed" / "Observed",
        /// Likely (p > ~50 %).
        Likely => "likely" / "Likely",
        /// Possible but not likely (p ≤ ~50 %).
        Possible => "possible" / "Possible",
        /// Not expected to occur.
        Unlikely => "unlikely" / "Unlikely",
        /// Not known.
        Unknown => "unknown" / "Unknown",
    }
);

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody has looked at it yet.
    New,
    /// Someone has seen it and is looking into it.
    Acknowledged,
    /// A response is under way.
    Responded,
    /// Nothing more to do (handled, or a false alarm).
    Closed,
}

impl AlertStatus {
    /// Every status in lifecycle order.
    pub const ALL: [AlertStatus; 4] =
        [Self::New, Self::Acknowledged, Self::Responded, Self::Closed];

    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Acknowledged => "acknowledged",
            Self::Responded => "responded",
            Self::Closed => "closed",
        }
    }

    /// The statuses this one may move to: forward only, and any open alert may be closed
    /// (a false alarm need not be acknowledged first). A closed alert stays closed.
    pub fn next(&self) -> &'static [AlertStatus] {
        match self {
            Self::New => &[Self::Acknowledged, Self::Closed],
            Self::Acknowledged => &[Self::Responded, Self::Closed],
            Self::Responded => &[Self::Closed],
            Self::Closed => &[],
        }
    }

    /// Checks the move to `to`, naming both statuses when it is not allowed.
    pub fn transition(&self, to: AlertStatus) -> Result<(), DomainError> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(DomainError::new(
                "status",
                format!("an alert that is {self} cannot become {to}"),
            ))
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertStatus {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or_else(|| {
                DomainError::new(
                    "status",
                    format!("'{s}' is not one of new, acknowledged, responded, closed"),
                )
            })
    }
}

/// The count a detector rule watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeriesMeasure {
    /// Events per period.
    Events,
    /// Fatalities per period.
    Fatalities,
}

impl SeriesMeasure {
    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::Fatalities => "fatalities",
        }
    }
}

/// The escalation detector a rule uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetectorKind {
    /// The negative-binomial CUSUM.
    NbCusum,
    /// The Farrington seasonal baseline.
    Farrington,
}

impl DetectorKind {
    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NbCusum => "nb_cusum",
            Self::Farrington => "farrington",
        }
    }
}

/// What makes a rule fire.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// The human-security index (or one dimension's score) of a locality in the latest
    /// period with data is at or above `threshold` (0–10).
    IndexThreshold {
        /// The value that must be reached.
        threshold: f64,
        /// A dimension score instead of the overall index.
        dimension: Option<Dimension>,
    },
    /// An escalation detector signals on a locality's monthly series in the latest period.
    Detector {
        /// Which detector.
        method: DetectorKind,
        /// Which count.
        measure: SeriesMeasure,
        /// The detector's false-alarm setting: the CUSUM's in-control average run length
        /// (periods between false alarms), or Farrington's α.
        false_alarm: f64,
    },
    /// A forecast puts the probability of at least one fatal event in a locality within
    /// `horizon` months at or above `probability`. Evaluated through the forecast source
    /// the application is given.
    Forecast {
        /// The probability that must be reached (0–1).
        probability: f64,
        /// Months ahead (1–3).
        horizon: u8,
    },
    /// An event of one of `categories`, or with at least `min_fatalities` killed (best
    /// estimate), ended within the evaluation window.
    Events {
        /// Categories that raise an alert whatever the toll (may be empty).
        categories: Vec<String>,
        /// The toll that raises an alert whatever the category.
        min_fatalities: Option<u32>,
    },
    /// A report from a monitor (web form, API, SMS, ODK) was verified in a watched
    /// locality or below it.
    VerifiedReport {
        /// P-codes of the watched localities (their subtrees are watched).
        localities: Vec<String>,
    },
}

impl RuleKind {
    /// The kind's name (`index_threshold`, `detector`, `forecast`, `events`,
    /// `verified_report`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::IndexThreshold { .. } => "index_threshold",
            Self::Detector { .. } => "detector",
            Self::Forecast { .. } => "forecast",
            Self::Events { .. } => "events",
            Self::VerifiedReport { .. } => "verified_report",
        }
    }

    /// Whether the rule judges single events (as they arrive) rather than aggregates.
    pub fn is_event_rule(&self) -> bool {
        matches!(self, Self::Events { .. } | Self::VerifiedReport { .. })
    }
}

/// An alert rule: what fires it and how its alerts are graded.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable id (lowercase letters, digits, `_`), part of every alert's deduplication key.
    pub id: String,
    /// Words for people (the CAP `event`).
    pub name: String,
    /// What fires it.
    pub kind: RuleKind,
    /// The administrative level alerts are raised for (events are counted in the
    /// locality of that level that holds them).
    pub level: AdminLevel,
    /// CAP severity of its alerts.
    pub severity: AlertSeverity,
    /// CAP urgency of its alerts.
    pub urgency: Urgency,
    /// CAP certainty of its alerts (an event rule lowers it to `possible` for an
    /// unverified report).
    pub certainty: Certainty,
}

impl Rule {
    /// Checks the id and the kind's numbers, naming the field.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.id.is_empty()
            || self.id.len() > 64
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(DomainError::new(
                "id",
                format!("'{}' must be 1-64 lowercase letters, digits or _", self.id),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(DomainError::new("name", "must not be empty"));
        }
        match &self.kind {
            RuleKind::IndexThreshold { threshold, .. } => {
                if !(threshold.is_finite() && (0.0..=10.0).contains(threshold)) {
                    return Err(DomainError::new("threshold", "must be between 0 and 10"));
                }
            }
            RuleKind::Detector {
                method,
                false_alarm,
                ..
            } => {
                let ok = match method {
                    DetectorKind::NbCusum => false_alarm.is_finite() && *false_alarm > 1.0,
                    DetectorKind::Farrington => *false_alarm > 0.0 && *false_alarm < 0.5,
                };
                if !ok {
                    return Err(DomainError::new(
                        "false_alarm",
                        "must be an average run length above 1 (nb_cusum) or an alpha in (0, 0.5) (farrington)",
                    ));
                }
            }
            RuleKind::Forecast {
                probability,
                horizon,
            } => {
                if !(*probability > 0.0 && *probability <= 1.0) {
                    return Err(DomainError::new("probability", "must be in (0, 1]"));
                }
                if !(1..=3).contains(horizon) {
                    return Err(DomainError::new("horizon", "must be 1, 2 or 3 months"));
                }
            }
            RuleKind::Events {
                categories,
                min_fatalities,
            } => {
                if categories.is_empty() && min_fatalities.is_none() {
                    return Err(DomainError::new(
                        "categories",
                        "give categories, min_fatalities or both",
                    ));
                }
                if *min_fatalities == Some(0) {
                    return Err(DomainError::new("min_fatalities", "must be at least 1"));
                }
            }
            RuleKind::VerifiedReport { localities } => {
                if localities.is_empty() {
                    return Err(DomainError::new(
                        "localities",
                        "name at least one watched locality (P-code)",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The deduplication key of a firing: one alert per rule, locality and period.
pub fn dedupe_key(rule: &str, locality: Option<LocalityId>, period: &str) -> String {
    let loc = locality.map_or_else(|| "-".to_string(), |l| l.to_string());
    format!("{rule}|{loc}|{period}")
}

/// One number behind an alert, with its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceValue {
    /// What it is (`index`, `observed`, `expected`, `threshold`, `probability`,
    /// `fatalities`, …).
    pub name: String,
    /// The value.
    pub value: f64,
}

/// Why an alert was raised: the values, the thresholds and the events involved. Only
/// aggregate facts and event ids: never names, contacts or descriptions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Evidence {
    /// The rule kind that fired.
    pub kind: String,
    /// The detector or model, when one judged (`nb_cusum`, `farrington`, a forecast
    /// model's name).
    pub method: Option<String>,
    /// The source of the events counted (`ucdp-ged`, `web`, …).
    pub source: Option<String>,
    /// The values, observed first.
    pub values: Vec<EvidenceValue>,
    /// The events that fired an event rule, or the verified report.
    pub events: Vec<EventId>,
}

impl Evidence {
    /// The value named `name`, if any.
    pub fn value(&self, name: &str) -> Option<f64> {
        self.values.iter().find(|v| v.name == name).map(|v| v.value)
    }
}

/// An alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// Id, derived from the deduplication key.
    pub id: AlertId,
    /// The rule that raised it.
    pub rule: String,
    /// The rule's kind name.
    pub rule_kind: String,
    /// The locality it is about.
    pub locality: Option<LocalityId>,
    /// The locality's P-code (kept so the alert reads the same if boundaries change).
    pub locality_code: Option<String>,
    /// The locality's name.
    pub locality_name: Option<String>,
    /// The dimension of human security it concerns, when one.
    pub dimension: Option<Dimension>,
    /// The period it is about (`2022-06`, or a day for a single event).
    pub period: String,
    /// CAP severity.
    pub severity: AlertSeverity,
    /// CAP urgency.
    pub urgency: Urgency,
    /// CAP certainty.
    pub certainty: Certainty,
    /// One line.
    pub headline: String,
    /// A few sentences, from aggregate facts only.
    pub description: String,
    /// The evidence.
    pub evidence: Evidence,
    /// Where it is in its lifecycle.
    pub status: AlertStatus,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When its status last changed.
    pub updated_at: DateTime<Utc>,
}

impl Alert {
    /// The deduplication key.
    pub fn dedupe_key(&self) -> String {
        dedupe_key(&self.rule, self.locality, &self.period)
    }
}

/// One change of an alert's status.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertStatusChange {
    /// The alert.
    pub alert: AlertId,
    /// The status before (`None` for the raising itself).
    pub from: Option<AlertStatus>,
    /// The status after.
    pub to: AlertStatus,
    /// Who: a user name, `token:label`, `cli` or `system`.
    pub by: String,
    /// Why, in the person's words.
    pub note: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// How an alert reaches a subscriber beyond the web pages (where every alert shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryChannel {
    /// An e-mail through the configured SMTP relay.
    Email,
    /// A JSON `POST` signed with HMAC-SHA256.
    Webhook,
}

impl DeliveryChannel {
    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }
}

impl fmt::Display for DeliveryChannel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryChannel {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "email" => Ok(Self::Email),
            "webhook" => Ok(Self::Webhook),
            _ => Err(DomainError::new(
                "channel",
                format!("'{s}' is not one of email, webhook"),
            )),
        }
    }
}

/// Who wants which alerts, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Id.
    pub id: SubscriptionId,
    /// A name for people.
    pub label: String,
    /// Alerts about this locality or below it; `None`: everywhere.
    pub locality: Option<LocalityId>,
    /// Alerts of this dimension only (alerts without a dimension always match).
    pub dimension: Option<Dimension>,
    /// Alerts at least this severe.
    pub min_severity: AlertSeverity,
    /// How.
    pub channel: DeliveryChannel,
    /// The e-mail address or the webhook URL.
    pub target: String,
    /// The webhook's signing secret.
    pub secret: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl Subscription {
    /// Checks the target for the channel, naming the field.
    pub fn validate(&self) -> Result<(), DomainError> {
        let t = self.target.trim();
        match self.channel {
            DeliveryChannel::Email => {
                let ok = t.len() <= 254
                    && t.split_once('@').is_some_and(|(u, d)| {
                        !u.is_empty() && d.contains('.') && !d.starts_with('.')
                    })
                    && !t.chars().any(|c| c.is_whitespace() || c == ',' || c == '<');
                if !ok {
                    return Err(DomainError::new(
                        "target",
                        format!("'{t}' is not an e-mail address"),
                    ));
                }
            }
            DeliveryChannel::Webhook => {
                if !(t.starts_with("http://") || t.starts_with("https://")) || t.len() > 2000 {
                    return Err(DomainError::new(
                        "target",
                        "a webhook URL must start with http:// or https://",
                    ));
                }
                if self.secret.as_deref().is_none_or(|s| s.len() < 16) {
                    return Err(DomainError::new(
                        "secret",
                        "a webhook needs a signing secret of at least 16 characters",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Whether an alert about a locality with this lineage (the locality and its
    /// ancestors) matches.
    pub fn matches(&self, alert: &Alert, lineage: &[LocalityId]) -> bool {
        let place = self.locality.is_none_or(|l| lineage.contains(&l));
        let dim = match (self.dimension, alert.dimension) {
            (Some(d), Some(a)) => d == a,
            _ => true,
        };
        place && dim && alert.severity.at_least(self.min_severity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_moves_forward_only() {
        use AlertStatus::*;
        assert!(New.transition(Acknowledged).is_ok());
        assert!(New.transition(Closed).is_ok());
        assert!(Acknowledged.transition(Responded).is_ok());
        assert!(Responded.transition(Closed).is_ok());
        assert!(New.transition(Responded).is_err());
        assert!(Acknowledged.transition(New).is_err());
        assert!(New.transition(New).is_err());
        let e = Closed.transition(Acknowledged).unwrap_err();
        assert_eq!(e.field, "status");
        assert!(e.reason.contains("closed"), "{e}");
        for s in AlertStatus::ALL {
            assert_eq!(s.as_str().parse::<AlertStatus>().unwrap(), s);
        }
    }

    #[test]
    fn cap_names_and_ranks() {
        assert_eq!(
            "Severe".parse::<AlertSeverity>().unwrap(),
            AlertSeverity::Severe
        );
        assert_eq!(AlertSeverity::Extreme.cap_name(), "Extreme");
        assert!(AlertSeverity::Severe.at_least(AlertSeverity::Moderate));
        assert!(!AlertSeverity::Minor.at_least(AlertSeverity::Moderate));
        assert_eq!(Urgency::Immediate.cap_name(), "Immediate");
        assert_eq!("likely".parse::<Certainty>().unwrap(), Certainty::Likely);
        assert!("bad".parse::<Certainty>().is_err());
    }

    fn rule(kind: RuleKind) -> Rule {
        Rule {
            id: "r1".into(),
            name: "Rule".into(),
            kind,
            level: AdminLevel::Adm1,
            severity: AlertSeverity::Severe,
            urgency: Urgency::Expected,
            certainty: Certainty::Likely,
        }
    }

    #[test]
    fn rules_are_checked() {
        let ok = rule(RuleKind::IndexThreshold {
            threshold: 6.0,
            dimension: None,
        });
        assert!(ok.validate().is_ok());
        let bad = rule(RuleKind::IndexThreshold {
            threshold: 11.0,
            dimension: None,
        });
        assert_eq!(bad.validate().unwrap_err().field, "threshold");
        let bad = rule(RuleKind::Forecast {
            probability: 0.5,
            horizon: 4,
        });
        assert_eq!(bad.validate().unwrap_err().field, "horizon");
        let bad = rule(RuleKind::Events {
            categories: vec![],
            min_fatalities: None,
        });
        assert_eq!(bad.validate().unwrap_err().field, "categories");
        let mut bad = ok.clone();
        bad.id = "Bad Id".into();
        assert_eq!(bad.validate().unwrap_err().field, "id");
        let bad = rule(RuleKind::Detector {
            method: DetectorKind::Farrington,
            measure: SeriesMeasure::Events,
            false_alarm: 50.0,
        });
        assert_eq!(bad.validate().unwrap_err().field, "false_alarm");
    }

    #[test]
    fn subscriptions_match_subtree_dimension_and_severity() {
        let province = LocalityId::derived("CF11");
        let other = LocalityId::derived("CF12");
        let sub = Subscription {
            id: SubscriptionId::derived("s"),
            label: "s".into(),
            locality: Some(province),
            dimension: Some(Dimension::Lives),
            min_severity: AlertSeverity::Moderate,
            channel: DeliveryChannel::Email,
            target: "desk@example.org".into(),
            secret: None,
            created_at: DateTime::<Utc>::MIN_UTC,
        };
        assert!(sub.validate().is_ok());
        let mut a = Alert {
            id: AlertId::derived("k"),
            rule: "r".into(),
            rule_kind: "events".into(),
            locality: Some(LocalityId::derived("CF111")),
            locality_code: None,
            locality_name: None,
            dimension: Some(Dimension::Lives),
            period: "2022-06".into(),
            severity: AlertSeverity::Severe,
            urgency: Urgency::Expected,
            certainty: Certainty::Observed,
            headline: "h".into(),
            description: "d".into(),
            evidence: Evidence::default(),
            status: AlertStatus::New,
            raised_at: DateTime::<Utc>::MIN_UTC,
            updated_at: DateTime::<Utc>::MIN_UTC,
        };
        let lineage = [LocalityId::derived("CF111"), province];
        assert!(sub.matches(&a, &lineage));
        assert!(!sub.matches(&a, &[other]));
        a.severity = AlertSeverity::Minor;
        assert!(!sub.matches(&a, &lineage));
        a.severity = AlertSeverity::Extreme;
        a.dimension = Some(Dimension::Dignity);
        assert!(!sub.matches(&a, &lineage));
        let bad = Subscription {
            channel: DeliveryChannel::Webhook,
            target: "http://x.example/hook".into(),
            secret: Some("short".into()),
            ..sub
        };
        assert_eq!(bad.validate().unwrap_err().field, "secret");
    }
}
