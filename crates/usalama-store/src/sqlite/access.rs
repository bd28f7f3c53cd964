//! The SQLite side of access control: organisations, sharing agreements, failed log-ins,
//! locks, TOTP secrets and disabled accounts.

use super::{ts, uuid_col, SqliteStore, Sx};
use crate::error::StoreError;
use crate::records::ShareRecord;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use usalama_domain::{OrgId, Organisation, ShareScope};
use uuid::Uuid;

fn org_row(r: &rusqlite::Row) -> rusqlite::Result<Organisation> {
    Ok(Organisation {
        id: OrgId::from_uuid(uuid_col(r, 0)?),
        name: r.get(1)?,
    })
}

impl SqliteStore {
    pub(super) fn access_insert_org(
        &self,
        org: &Organisation,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO organisations (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![org.id.as_uuid(), org.name, ts(&now)],
            )
            .sx()
            .map(|_| ())
    }

    pub(super) fn access_list_orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT id, name FROM organisations ORDER BY name")
            .sx()?;
        let rows = st.query_map([], org_row).sx()?;
        rows.collect::<Result<Vec<_>, _>>().sx()
    }

    pub(super) fn access_find_org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT id, name FROM organisations WHERE name = ?1",
                [name],
                org_row,
            )
            .optional()
            .sx()
    }

    pub(super) fn access_set_share(
        &self,
        from: OrgId,
        to: OrgId,
        scope: Option<ShareScope>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let c = self.conn()?;
        match scope {
            Some(s) => c.execute(
                "INSERT INTO org_shares (from_org, to_org, scope, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (from_org, to_org) DO UPDATE SET scope = excluded.scope",
                params![from.as_uuid(), to.as_uuid(), s.as_str(), ts(&now)],
            ),
            None => c.execute(
                "DELETE FROM org_shares WHERE from_org = ?1 AND to_org = ?2",
                params![from.as_uuid(), to.as_uuid()],
            ),
        }
        .sx()
        .map(|_| ())
    }

    pub(super) fn access_shares_to(&self, to: OrgId) -> Result<Vec<ShareRecord>, StoreError> {
        // Asked on every list request (the caller's visibility): kept per connection.
        let c = self.conn()?;
        let mut st = c
            .prepare_cached(
                "SELECT from_org, scope FROM org_shares WHERE to_org = ?1 ORDER BY from_org",
            )
            .sx()?;
        let rows = st
            .query_map([to.as_uuid()], |r| {
                Ok((uuid_col(r, 0)?, r.get::<_, String>(1)?))
            })
            .sx()?
            .collect::<Result<Vec<_>, _>>()
            .sx()?;
        rows.into_iter()
            .map(|(from, scope)| {
                Ok(ShareRecord {
                    from: OrgId::from_uuid(from),
                    to,
                    scope: scope.parse().map_err(|e: usalama_domain::DomainError| {
                        StoreError::InvalidRecord {
                            id: from.to_string(),
                            reason: e.to_string(),
                        }
                    })?,
                })
            })
            .collect()
    }

    pub(super) fn access_record_login_failure(
        &self,
        user: Uuid,
        lock: &dyn Fn(u32) -> Option<DateTime<Utc>>,
    ) -> Result<u32, StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let n: i64 = tx
            .query_row(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ?1
                 RETURNING failed_logins",
                [user],
                |r| r.get(0),
            )
            .optional()
            .sx()?
            .unwrap_or(0);
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        if let Some(until) = lock(n) {
            tx.execute(
                "UPDATE users SET locked_until = ?2 WHERE id = ?1",
                params![user, ts(&until)],
            )
            .sx()?;
        }
        tx.commit().sx()?;
        Ok(n)
    }

    pub(super) fn access_reset_login_failures(&self, user: Uuid) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?1",
                [user],
            )
            .sx()
            .map(|_| ())
    }

    pub(super) fn access_set_user_totp(
        &self,
        user: Uuid,
        secret: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE users SET totp_sealed = ?2, totp_secret = NULL WHERE id = ?1",
                params![user, secret],
            )
            .sx()
            .map(|_| ())
    }

    pub(super) fn access_set_user_disabled(
        &self,
        user: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        tx.execute(
            "UPDATE users SET disabled_at = ?2 WHERE id = ?1",
            params![user, at.as_ref().map(ts)],
        )
        .sx()?;
        if at.is_some() {
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user])
                .sx()?;
        }
        tx.commit().sx()
    }

    pub(super) fn access_delete_user_sessions(&self, user: Uuid) -> Result<u64, StoreError> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE user_id = ?1", [user])
            .sx()
            .map(|n| n as u64)
    }
}
