//! The PostgreSQL side of alerts: an alert with its first history entry and its outbox rows
//! in one transaction (nothing when its deduplication key exists), status changes checked
//! against the status the caller saw (`SELECT … FOR UPDATE`), subscriptions, and the
//! delivery outbox (claimed with `FOR UPDATE SKIP LOCKED`, so several workers never take
//! the same row).

use super::{PgStore, Px};
use crate::alerts::{
    parse_channel, parse_dimension, parse_severity, parse_status, AlertQuery, AlertRow,
    AlertWriteOutcome, DeliveryAttemptWrite, DeliveryLogEntry, DueDelivery, NewDelivery,
    ALERT_COLUMNS,
};
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use postgres::Row;
use usalama_domain::alert::{Alert, AlertStatusChange, Subscription};
use usalama_domain::{AlertId, LocalityId, SubscriptionId};
use uuid::Uuid;

fn alert_row(r: &Row) -> Result<AlertRow, StoreError> {
    Ok(AlertRow {
        id: r.try_get(0).px()?,
        rule: r.try_get(1).px()?,
        rule_kind: r.try_get(2).px()?,
        locality_id: r.try_get(3).px()?,
        locality_code: r.try_get(4).px()?,
        locality_name: r.try_get(5).px()?,
        dimension: r.try_get(6).px()?,
        period: r.try_get(7).px()?,
        severity: r.try_get(8).px()?,
        urgency: r.try_get(9).px()?,
        certainty: r.try_get(10).px()?,
        headline: r.try_get(11).px()?,
        description: r.try_get(12).px()?,
        evidence: r.try_get(13).px()?,
        status: r.try_get(14).px()?,
        raised_at: r.try_get(15).px()?,
        updated_at: r.try_get(16).px()?,
    })
}

impl PgStore {
    pub(super) fn alerts_insert(
        &self,
        alert: &Alert,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let row = AlertRow::from_alert(alert)?;
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let n = tx
            .execute(
                &format!(
                    "INSERT INTO alerts ({ALERT_COLUMNS}, dedupe_key) VALUES
                     ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                     ON CONFLICT DO NOTHING"
                ),
                &[
                    &row.id,
                    &row.rule,
                    &row.rule_kind,
                    &row.locality_id,
                    &row.locality_code,
                    &row.locality_name,
                    &row.dimension,
                    &row.period,
                    &row.severity,
                    &row.urgency,
                    &row.certainty,
                    &row.headline,
                    &row.description,
                    &row.evidence,
                    &row.status,
                    &row.raised_at,
                    &row.updated_at,
                    &alert.dedupe_key(),
                ],
            )
            .px()?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO alert_events (alert_id, from_status, to_status, by_name, note, at)
             VALUES ($1, NULL, $2, 'system', NULL, $3)",
            &[&row.id, &row.status, &row.raised_at],
        )
        .px()?;
        for d in deliveries {
            tx.execute(
                "INSERT INTO alert_deliveries (alert_id, subscription_id, channel, target, status, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT DO NOTHING",
                &[
                    &row.id,
                    &d.subscription.as_uuid(),
                    &d.channel.as_str(),
                    &d.target,
                    &row.raised_at,
                ],
            )
            .px()?;
        }
        tx.commit().px()?;
        Ok(true)
    }

    pub(super) fn alerts_get(&self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        self.conn()?
            .query_opt(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"),
                &[&id.as_uuid()],
            )
            .px()?
            .map(|r| alert_row(&r).and_then(AlertRow::into_alert))
            .transpose()
    }

    pub(super) fn alerts_list(&self, q: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        let status = q.status.map(|s| s.as_str().to_string());
        self.conn()?
            .query(
                &format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts
                     WHERE ($1::TEXT IS NULL OR status = $1) AND ($2::TEXT IS NULL OR rule = $2)
                       AND ($3::TIMESTAMPTZ IS NULL OR raised_at >= $3)
                     ORDER BY raised_at DESC, id {}",
                    crate::sql::limit(q.clamped_limit().unsigned_abs())
                ),
                &[&status, &q.rule, &q.since],
            )
            .px()?
            .iter()
            .map(|r| alert_row(r).and_then(AlertRow::into_alert))
            .collect()
    }

    pub(super) fn alerts_change_status(
        &self,
        ch: &AlertStatusChange,
    ) -> Result<AlertWriteOutcome, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let current = tx
            .query_opt(
                "SELECT status FROM alerts WHERE id = $1 FOR UPDATE",
                &[&ch.alert.as_uuid()],
            )
            .px()?;
        let Some(current) = current else {
            return Ok(AlertWriteOutcome::NotFound);
        };
        let current = parse_status(&current.try_get::<_, String>(0).px()?)?;
        if Some(current) != ch.from {
            return Ok(AlertWriteOutcome::Conflict(current));
        }
        tx.execute(
            "UPDATE alerts SET status = $2, updated_at = $3 WHERE id = $1",
            &[&ch.alert.as_uuid(), &ch.to.as_str(), &ch.at],
        )
        .px()?;
        tx.execute(
            "INSERT INTO alert_events (alert_id, from_status, to_status, by_name, note, at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &ch.alert.as_uuid(),
                &current.as_str(),
                &ch.to.as_str(),
                &ch.by,
                &ch.note,
                &ch.at,
            ],
        )
        .px()?;
        let row = tx
            .query_one(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"),
                &[&ch.alert.as_uuid()],
            )
            .px()?;
        let alert = alert_row(&row)?.into_alert()?;
        tx.commit().px()?;
        Ok(AlertWriteOutcome::Done(Box::new(alert)))
    }

    pub(super) fn alerts_history(&self, id: AlertId) -> Result<Vec<AlertStatusChange>, StoreError> {
        self.conn()?
            .query(
                "SELECT from_status, to_status, by_name, note, at FROM alert_events
                 WHERE alert_id = $1 ORDER BY id",
                &[&id.as_uuid()],
            )
            .px()?
            .iter()
            .map(|r| {
                let from: Option<String> = r.try_get(0).px()?;
                Ok(AlertStatusChange {
                    alert: id,
                    from: from.as_deref().map(parse_status).transpose()?,
                    to: parse_status(&r.try_get::<_, String>(1).px()?)?,
                    by: r.try_get(2).px()?,
                    note: r.try_get(3).px()?,
                    at: r.try_get(4).px()?,
                })
            })
            .collect()
    }

    pub(super) fn alerts_insert_subscription(&self, s: &Subscription) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO alert_subscriptions (id, label, locality_id, dimension, min_severity, channel, target, secret, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &s.id.as_uuid(),
                    &s.label,
                    &s.locality.map(|l| l.as_uuid()),
                    &s.dimension.map(|d| d.as_str()),
                    &s.min_severity.as_str(),
                    &s.channel.as_str(),
                    &s.target,
                    &s.secret,
                    &s.created_at,
                ],
            )
            .px()?;
        Ok(())
    }

    pub(super) fn alerts_list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        self.conn()?
            .query(
                "SELECT id, label, locality_id, dimension, min_severity, channel, target, secret, created_at
                 FROM alert_subscriptions ORDER BY created_at, id",
                &[],
            )
            .px()?
            .iter()
            .map(|r| {
                Ok(Subscription {
                    id: SubscriptionId::from_uuid(r.try_get(0).px()?),
                    label: r.try_get(1).px()?,
                    locality: r
                        .try_get::<_, Option<Uuid>>(2)
                        .px()?
                        .map(LocalityId::from_uuid),
                    dimension: parse_dimension(r.try_get(3).px()?)?,
                    min_severity: parse_severity(&r.try_get::<_, String>(4).px()?)?,
                    channel: parse_channel(&r.try_get::<_, String>(5).px()?)?,
                    target: r.try_get(6).px()?,
                    secret: r.try_get(7).px()?,
                    created_at: r.try_get(8).px()?,
                })
            })
            .collect()
    }

    pub(super) fn alerts_delete_subscription(
        &self,
        id: SubscriptionId,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()?
            .execute(
                "DELETE FROM alert_subscriptions WHERE id = $1",
                &[&id.as_uuid()],
            )
            .px()?;
        Ok(n > 0)
    }

    pub(super) fn alerts_claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let rows = tx
            .query(
                &format!(
                    "SELECT d.id, d.alert_id, d.subscription_id, d.channel, d.target, s.secret, d.attempts
                     FROM alert_deliveries d LEFT JOIN alert_subscriptions s ON s.id = d.subscription_id
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                     ORDER BY d.next_attempt_at, d.id {}
                     FOR UPDATE OF d SKIP LOCKED",
                    crate::sql::limit(u64::from(limit.max(1)))
                ),
                &[&now],
            )
            .px()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get(0).px()?;
            tx.execute(
                "UPDATE alert_deliveries SET next_attempt_at = $2 WHERE id = $1",
                &[&id, &lease_until],
            )
            .px()?;
            out.push(DueDelivery {
                id,
                alert: AlertId::from_uuid(r.try_get(1).px()?),
                subscription: SubscriptionId::from_uuid(r.try_get(2).px()?),
                channel: parse_channel(&r.try_get::<_, String>(3).px()?)?,
                target: r.try_get(4).px()?,
                secret: r.try_get(5).px()?,
                attempts: r.try_get::<_, i32>(6).px()? as u32,
            });
        }
        tx.commit().px()?;
        Ok(out)
    }

    pub(super) fn alerts_record_attempt(&self, a: &DeliveryAttemptWrite) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute(
            "INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, ok, error) VALUES ($1, $2, $3, $4, $5)",
            &[&a.delivery, &(a.attempt as i32), &a.at, &a.ok, &a.error],
        )
        .px()?;
        let status = match (a.ok, a.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        tx.execute(
            "UPDATE alert_deliveries SET status = $2, attempts = $3, next_attempt_at = $4,
                    delivered_at = $5, last_error = $6 WHERE id = $1",
            &[
                &a.delivery,
                &status,
                &(a.attempt as i32),
                &a.retry_at.unwrap_or(a.at),
                &a.ok.then_some(a.at),
                &a.error,
            ],
        )
        .px()?;
        tx.commit().px()?;
        Ok(())
    }

    pub(super) fn alerts_delivery_log(
        &self,
        alert: AlertId,
    ) -> Result<Vec<DeliveryLogEntry>, StoreError> {
        self.conn()?
            .query(
                "SELECT d.id, d.subscription_id, d.channel, d.target, d.status,
                        COALESCE(a.attempt, 0), COALESCE(a.at, d.created_at), COALESCE(a.ok, FALSE), a.error
                 FROM alert_deliveries d LEFT JOIN alert_delivery_attempts a ON a.delivery_id = d.id
                 WHERE d.alert_id = $1 ORDER BY d.id, a.attempt",
                &[&alert.as_uuid()],
            )
            .px()?
            .iter()
            .map(|r| {
                Ok(DeliveryLogEntry {
                    delivery: r.try_get(0).px()?,
                    subscription: SubscriptionId::from_uuid(r.try_get(1).px()?),
                    channel: parse_channel(&r.try_get::<_, String>(2).px()?)?,
                    target: r.try_get(3).px()?,
                    status: r.try_get(4).px()?,
                    attempt: r.try_get::<_, i32>(5).px()? as u32,
                    at: r.try_get(6).px()?,
                    ok: r.try_get(7).px()?,
                    error: r.try_get(8).px()?,
                })
            })
            .collect()
    }
}
