//! Alerts as public summaries show them (the dashboard and the situation report): the rule
//! kind, the CAP grading, the period, the area coarsened to the public level (ADM1 by
//! default) and the follow-up (when the alert was acknowledged, responded to and closed).
//! No free text: no headline, description, rule name, note or name of who acted.

use crate::error::AppError;
use crate::App;
use chrono::{DateTime, Utc};
use usalama_analytics::period::{Granularity, Period};
use usalama_domain::alert::{Alert, AlertSeverity, AlertStatus, Certainty, Urgency};
use usalama_domain::{AlertId, Dimension};
use usalama_store::{AlertQuery, LocalitySummary};

/// One alert in a public summary.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicAlert {
    /// The alert (its CAP document is public).
    pub id: AlertId,
    /// The rule's kind (`index_threshold`, `detector`, `forecast`, `events`,
    /// `verified_report`).
    pub rule_kind: String,
    /// CAP severity.
    pub severity: AlertSeverity,
    /// CAP urgency.
    pub urgency: Urgency,
    /// CAP certainty.
    pub certainty: Certainty,
    /// The dimension, when the rule watches one.
    pub dimension: Option<Dimension>,
    /// The period the alert is about (`2022-06`).
    pub period: String,
    /// The area at the public level containing the alert's locality (the locality itself
    /// when it is coarser); `None` for the whole country or no place.
    pub area: Option<LocalitySummary>,
    /// The status now.
    pub status: AlertStatus,
    /// When it was raised.
    pub raised_at: DateTime<Utc>,
    /// When it was acknowledged, if it was.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was marked responded, if it was.
    pub responded_at: Option<DateTime<Utc>>,
    /// When it was closed, if it was.
    pub closed_at: Option<DateTime<Utc>>,
}

/// Whether `alert` concerns `month` or was raised in it.
fn in_month(alert: &Alert, month: Period) -> bool {
    if month.contains(alert.raised_at.date_naive()) {
        return true;
    }
    match alert.period.parse::<Period>() {
        Ok(p) if p.granularity() == Granularity::Month => p == month,
        // A week or quarter concerns the month when their days overlap.
        Ok(p) => p.first_day() <= month.last_day() && p.last_day() >= month.first_day(),
        Err(_) => alert.period.starts_with(&month.to_string()),
    }
}

impl App {
    /// The public summary of the alerts about `month` or raised in it, most severe first,
    /// then newest. Anyone may call this.
    pub fn public_alerts_in(&self, month: Period) -> Result<Vec<PublicAlert>, AppError> {
        let mut out = self.public_alerts_where(|a| in_month(a, month), usize::MAX)?;
        out.sort_by(|a, b| {
            b.severity
                .rank()
                .cmp(&a.severity.rank())
                .then(b.raised_at.cmp(&a.raised_at))
                .then(a.period.cmp(&b.period))
        });
        Ok(out)
    }

    /// The public summary of the `n` newest alerts. Anyone may call this.
    pub fn public_alerts_latest(&self, n: usize) -> Result<Vec<PublicAlert>, AppError> {
        self.public_alerts_where(|_| true, n)
    }

    fn public_alerts_where(
        &self,
        keep: impl Fn(&Alert) -> bool,
        n: usize,
    ) -> Result<Vec<PublicAlert>, AppError> {
        let level = self.privacy().level;
        let locs = self.localities()?;
        let alerts = self.store.list_alerts(&AlertQuery {
            status: None,
            rule: None,
            since: None,
            limit: 1000,
        })?;
        let mut out = Vec::new();
        for a in alerts.into_iter().filter(|a| keep(a)).take(n) {
            // Walk up to the public level.
            let mut area = a.locality.and_then(|id| locs.summary(id));
            while let Some(s) = &area {
                if s.level <= level {
                    break;
                }
                area = s.parent.and_then(|p| locs.summary(p));
            }
            let area = area.filter(|s| s.level != usalama_domain::AdminLevel::Adm0);
            let mut when = [None; 3];
            for h in self.store.alert_history(a.id)? {
                let slot = match h.to {
                    AlertStatus::Acknowledged => 0,
                    AlertStatus::Responded => 1,
                    AlertStatus::Closed => 2,
                    AlertStatus::New => continue,
                };
                when[slot].get_or_insert(h.at);
            }
            out.push(PublicAlert {
                id: a.id,
                rule_kind: a.rule_kind.clone(),
                severity: a.severity,
                urgency: a.urgency,
                certainty: a.certainty,
                dimension: a.dimension,
                period: a.period.clone(),
                area,
                status: a.status,
                raised_at: a.raised_at,
                acknowledged_at: when[0],
                responded_at: when[1],
                closed_at: when[2],
            });
        }
        Ok(out)
    }
}
