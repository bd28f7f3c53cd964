//! The SQLite side of alerts: an alert with its first history entry and its outbox rows in
//! one transaction (nothing when its deduplication key exists), status changes checked
//! against the status the caller saw, subscriptions, and the delivery outbox.

use super::{map_err, opt_ts, parse_ts, ts, SqliteStore, Sx};
use crate::alerts::{
    parse_channel, parse_dimension, parse_severity, parse_status, AlertQuery, AlertRow,
    AlertWriteOutcome, DeliveryAttemptWrite, DeliveryLogEntry, DueDelivery, NewDelivery,
    ALERT_COLUMNS,
};
use crate::error::StoreError;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, TransactionBehavior};
use usalama_domain::alert::{Alert, AlertStatusChange, Subscription};
use usalama_domain::{AlertId, LocalityId, SubscriptionId};
use uuid::Uuid;

fn alert_row(r: &Row) -> rusqlite::Result<AlertRow> {
    Ok(AlertRow {
        id: r.get(0)?,
        rule: r.get(1)?,
        rule_kind: r.get(2)?,
        locality_id: r.get(3)?,
        locality_code: r.get(4)?,
        locality_name: r.get(5)?,
        dimension: r.get(6)?,
        period: r.get(7)?,
        severity: r.get(8)?,
        urgency: r.get(9)?,
        certainty: r.get(10)?,
        headline: r.get(11)?,
        description: r.get(12)?,
        evidence: r.get(13)?,
        status: r.get(14)?,
        raised_at: parse_ts(&r.get::<_, String>(15)?)?,
        updated_at: parse_ts(&r.get::<_, String>(16)?)?,
    })
}

impl SqliteStore {
    pub(super) fn alerts_insert(
        &self,
        alert: &Alert,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let row = AlertRow::from_alert(alert)?;
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let n = tx
            .execute(
                &format!(
                    "INSERT INTO alerts ({ALERT_COLUMNS}, dedupe_key) VALUES
                     (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
                     ON CONFLICT DO NOTHING"
                ),
                params![
                    row.id,
                    row.rule,
                    row.rule_kind,
                    row.locality_id,
                    row.locality_code,
                    row.locality_name,
                    row.dimension,
                    row.period,
                    row.severity,
                    row.urgency,
                    row.certainty,
                    row.headline,
                    row.description,
                    row.evidence,
                    row.status,
                    ts(&row.raised_at),
                    ts(&row.updated_at),
                    alert.dedupe_key(),
                ],
            )
            .sx()?;
        if n == 0 {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO alert_events (alert_id, from_status, to_status, by_name, note, at)
             VALUES (?1, NULL, ?2, 'system', NULL, ?3)",
            params![row.id, row.status, ts(&row.raised_at)],
        )
        .sx()?;
        for d in deliveries {
            tx.execute(
                "INSERT INTO alert_deliveries (alert_id, subscription_id, channel, target, status, attempts, next_attempt_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5) ON CONFLICT DO NOTHING",
                params![
                    row.id,
                    d.subscription.as_uuid(),
                    d.channel.as_str(),
                    d.target,
                    ts(&row.raised_at)
                ],
            )
            .sx()?;
        }
        tx.commit().sx()?;
        Ok(true)
    }

    pub(super) fn alerts_get(&self, id: AlertId) -> Result<Option<Alert>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                [id.as_uuid()],
                alert_row,
            )
            .optional()
            .sx()?
            .map(AlertRow::into_alert)
            .transpose()
    }

    pub(super) fn alerts_list(&self, q: &AlertQuery) -> Result<Vec<Alert>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {ALERT_COLUMNS} FROM alerts
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR rule = ?2)
                   AND (?3 IS NULL OR raised_at >= ?3)
                 ORDER BY raised_at DESC, id {}",
                crate::sql::limit(q.clamped_limit().unsigned_abs())
            ))
            .sx()?;
        let rows = st
            .query_map(
                params![
                    q.status.map(|s| s.as_str()),
                    q.rule,
                    q.since.as_ref().map(ts)
                ],
                alert_row,
            )
            .sx()?;
        rows.map(|r| r.map_err(map_err).and_then(AlertRow::into_alert))
            .collect()
    }

    pub(super) fn alerts_change_status(
        &self,
        ch: &AlertStatusChange,
    ) -> Result<AlertWriteOutcome, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let current: Option<String> = tx
            .query_row(
                "SELECT status FROM alerts WHERE id = ?1",
                [ch.alert.as_uuid()],
                |r| r.get(0),
            )
            .optional()
            .sx()?;
        let Some(current) = current else {
            return Ok(AlertWriteOutcome::NotFound);
        };
        let current = parse_status(&current)?;
        if Some(current) != ch.from {
            return Ok(AlertWriteOutcome::Conflict(current));
        }
        tx.execute(
            "UPDATE alerts SET status = ?2, updated_at = ?3 WHERE id = ?1",
            params![ch.alert.as_uuid(), ch.to.as_str(), ts(&ch.at)],
        )
        .sx()?;
        tx.execute(
            "INSERT INTO alert_events (alert_id, from_status, to_status, by_name, note, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                ch.alert.as_uuid(),
                current.as_str(),
                ch.to.as_str(),
                ch.by,
                ch.note,
                ts(&ch.at)
            ],
        )
        .sx()?;
        let row = tx
            .query_row(
                &format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"),
                [ch.alert.as_uuid()],
                alert_row,
            )
            .sx()?;
        tx.commit().sx()?;
        Ok(AlertWriteOutcome::Done(Box::new(row.into_alert()?)))
    }

    pub(super) fn alerts_history(&self, id: AlertId) -> Result<Vec<AlertStatusChange>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT from_status, to_status, by_name, note, at FROM alert_events
                 WHERE alert_id = ?1 ORDER BY id",
            )
            .sx()?;
        let rows = st
            .query_map([id.as_uuid()], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    parse_ts(&r.get::<_, String>(4)?)?,
                ))
            })
            .sx()?;
        rows.map(|r| {
            let (from, to, by, note, at) = r.map_err(map_err)?;
            Ok(AlertStatusChange {
                alert: id,
                from: from.as_deref().map(parse_status).transpose()?,
                to: parse_status(&to)?,
                by,
                note,
                at,
            })
        })
        .collect()
    }

    pub(super) fn alerts_insert_subscription(&self, s: &Subscription) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO alert_subscriptions (id, label, locality_id, dimension, min_severity, channel, target, secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    s.id.as_uuid(),
                    s.label,
                    s.locality.map(|l| l.as_uuid()),
                    s.dimension.map(|d| d.as_str()),
                    s.min_severity.as_str(),
                    s.channel.as_str(),
                    s.target,
                    s.secret,
                    ts(&s.created_at)
                ],
            )
            .sx()?;
        Ok(())
    }

    pub(super) fn alerts_list_subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT id, label, locality_id, dimension, min_severity, channel, target, secret, created_at
                 FROM alert_subscriptions ORDER BY created_at, id",
            )
            .sx()?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, Uuid>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<Uuid>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<String>>(7)?,
                    parse_ts(&r.get::<_, String>(8)?)?,
                ))
            })
            .sx()?;
        rows.map(|r| {
            let (id, label, loc, dim, sev, channel, target, secret, created_at) =
                r.map_err(map_err)?;
            Ok(Subscription {
                id: SubscriptionId::from_uuid(id),
                label,
                locality: loc.map(LocalityId::from_uuid),
                dimension: parse_dimension(dim)?,
                min_severity: parse_severity(&sev)?,
                channel: parse_channel(&channel)?,
                target,
                secret,
                created_at,
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
                "DELETE FROM alert_subscriptions WHERE id = ?1",
                [id.as_uuid()],
            )
            .sx()?;
        Ok(n > 0)
    }

    pub(super) fn alerts_claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let due = {
            let mut st = tx
                .prepare(&format!(
                    "SELECT d.id, d.alert_id, d.subscription_id, d.channel, d.target, s.secret, d.attempts
                     FROM alert_deliveries d LEFT JOIN alert_subscriptions s ON s.id = d.subscription_id
                     WHERE d.status = 'pending' AND d.next_attempt_at <= ?1
                     ORDER BY d.next_attempt_at, d.id {}",
                    crate::sql::limit(u64::from(limit.max(1)))
                ))
                .sx()?;
            let rows = st
                .query_map(params![ts(&now)], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Uuid>(1)?,
                        r.get::<_, Uuid>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                })
                .sx()?;
            rows.collect::<Result<Vec<_>, _>>().sx()?
        };
        let mut out = Vec::with_capacity(due.len());
        for (id, alert, sub, channel, target, secret, attempts) in due {
            tx.execute(
                "UPDATE alert_deliveries SET next_attempt_at = ?2 WHERE id = ?1",
                params![id, ts(&lease_until)],
            )
            .sx()?;
            out.push(DueDelivery {
                id,
                alert: AlertId::from_uuid(alert),
                subscription: SubscriptionId::from_uuid(sub),
                channel: parse_channel(&channel)?,
                target,
                secret,
                attempts: attempts as u32,
            });
        }
        tx.commit().sx()?;
        Ok(out)
    }

    pub(super) fn alerts_record_attempt(&self, a: &DeliveryAttemptWrite) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        tx.execute(
            "INSERT INTO alert_delivery_attempts (delivery_id, attempt, at, ok, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![a.delivery, i64::from(a.attempt), ts(&a.at), a.ok, a.error],
        )
        .sx()?;
        let status = match (a.ok, a.retry_at) {
            (true, _) => "delivered",
            (false, Some(_)) => "pending",
            (false, None) => "failed",
        };
        tx.execute(
            "UPDATE alert_deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4,
                    delivered_at = ?5, last_error = ?6 WHERE id = ?1",
            params![
                a.delivery,
                status,
                i64::from(a.attempt),
                ts(&a.retry_at.unwrap_or(a.at)),
                a.ok.then(|| ts(&a.at)),
                a.error
            ],
        )
        .sx()?;
        tx.commit().sx()?;
        Ok(())
    }

    pub(super) fn alerts_delivery_log(
        &self,
        alert: AlertId,
    ) -> Result<Vec<DeliveryLogEntry>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT d.id, d.subscription_id, d.channel, d.target, d.status,
                        COALESCE(a.attempt, 0), COALESCE(a.at, d.created_at), COALESCE(a.ok, 0), a.error
                 FROM alert_deliveries d LEFT JOIN alert_delivery_attempts a ON a.delivery_id = d.id
                 WHERE d.alert_id = ?1 ORDER BY d.id, a.attempt",
            )
            .sx()?;
        let rows = st
            .query_map([alert.as_uuid()], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Uuid>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    opt_ts(r.get::<_, Option<String>>(6)?)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, Option<String>>(8)?,
                ))
            })
            .sx()?;
        rows.map(|r| {
            let (delivery, sub, channel, target, status, attempt, at, ok, error) =
                r.map_err(map_err)?;
            Ok(DeliveryLogEntry {
                delivery,
                subscription: SubscriptionId::from_uuid(sub),
                channel: parse_channel(&channel)?,
                target,
                status,
                attempt: attempt as u32,
                at: at.unwrap_or_default(),
                ok,
                error,
            })
        })
        .collect()
    }
}
