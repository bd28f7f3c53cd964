//! The PostgreSQL side of access control: organisations, sharing agreements, failed
//! log-ins, locks, TOTP secrets and disabled accounts.

use super::{PgStore, Px};
use crate::error::StoreError;
use crate::records::ShareRecord;
use chrono::{DateTime, Utc};
use usalama_domain::{OrgId, Organisation, ShareScope};
use uuid::Uuid;

fn org_row(r: &postgres::Row) -> Result<Organisation, StoreError> {
    Ok(Organisation {
        id: OrgId::from_uuid(r.try_get(0).px()?),
        name: r.try_get(1).px()?,
    })
}

impl PgStore {
    pub(super) fn access_insert_org(
        &self,
        org: &Organisation,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)",
                &[&org.id.as_uuid(), &org.name, &now],
            )
            .px()
            .map(|_| ())
    }

    pub(super) fn access_list_orgs(&self) -> Result<Vec<Organisation>, StoreError> {
        self.conn()?
            .query("SELECT id, name FROM organisations ORDER BY name", &[])
            .px()?
            .iter()
            .map(org_row)
            .collect()
    }

    pub(super) fn access_find_org(&self, name: &str) -> Result<Option<Organisation>, StoreError> {
        self.conn()?
            .query_opt(
                "SELECT id, name FROM organisations WHERE name = $1",
                &[&name],
            )
            .px()?
            .as_ref()
            .map(org_row)
            .transpose()
    }

    pub(super) fn access_set_share(
        &self,
        from: OrgId,
        to: OrgId,
        scope: Option<ShareScope>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        match scope {
            Some(s) => c.execute(
                "INSERT INTO org_shares (from_org, to_org, scope, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (from_org, to_org) DO UPDATE SET scope = excluded.scope",
                &[&from.as_uuid(), &to.as_uuid(), &s.as_str(), &now],
            ),
            None => c.execute(
                "DELETE FROM org_shares WHERE from_org = $1 AND to_org = $2",
                &[&from.as_uuid(), &to.as_uuid()],
            ),
        }
        .px()
        .map(|_| ())
    }

    pub(super) fn access_shares_to(&self, to: OrgId) -> Result<Vec<ShareRecord>, StoreError> {
        self.conn()?
            .query(
                "SELECT from_org, scope FROM org_shares WHERE to_org = $1 ORDER BY from_org",
                &[&to.as_uuid()],
            )
            .px()?
            .iter()
            .map(|r| {
                let from: Uuid = r.try_get(0).px()?;
                let scope: String = r.try_get(1).px()?;
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
        let mut tx = c.transaction().px()?;
        let n: i32 = tx
            .query_opt(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1
                 RETURNING failed_logins",
                &[&user],
            )
            .px()?
            .map(|r| r.try_get(0))
            .transpose()
            .px()?
            .unwrap_or(0);
        let n = u32::try_from(n).unwrap_or(0);
        if let Some(until) = lock(n) {
            tx.execute(
                "UPDATE users SET locked_until = $2 WHERE id = $1",
                &[&user, &until],
            )
            .px()?;
        }
        tx.commit().px()?;
        Ok(n)
    }

    pub(super) fn access_reset_login_failures(&self, user: Uuid) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1",
                &[&user],
            )
            .px()
            .map(|_| ())
    }

    pub(super) fn access_set_user_totp(
        &self,
        user: Uuid,
        secret: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "UPDATE users SET totp_sealed = $2, totp_secret = NULL WHERE id = $1",
                &[&user, &secret],
            )
            .px()
            .map(|_| ())
    }

    pub(super) fn access_set_user_disabled(
        &self,
        user: Uuid,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        tx.execute(
            "UPDATE users SET disabled_at = $2 WHERE id = $1",
            &[&user, &at],
        )
        .px()?;
        if at.is_some() {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user])
                .px()?;
        }
        tx.commit().px()
    }

    pub(super) fn access_delete_user_sessions(&self, user: Uuid) -> Result<u64, StoreError> {
        self.conn()?
            .execute("DELETE FROM sessions WHERE user_id = $1", &[&user])
            .px()
    }
}
