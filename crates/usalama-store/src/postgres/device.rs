//! The PostgreSQL side of OpenRosa device passwords (migration 0008).

use super::vault::{append_tx, insert_key, key_at, parse_ts, KEY_COLUMNS};
use super::{PgStore, Px};
use crate::audit::{self, AuditDraft};
use crate::device::DevicePasswordRecord;
use crate::error::StoreError;
use uuid::Uuid;

impl PgStore {
    pub(super) fn device_set(
        &self,
        rec: &DevicePasswordRecord,
        audit: &AuditDraft,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let mut tx = c.transaction().px()?;
        let at = audit::at_text(&rec.created_at);
        tx.execute(
            "UPDATE data_keys SET wrapped_key = NULL, destroyed_at = $2
             WHERE id = (SELECT key_id FROM device_passwords WHERE user_id = $1)
               AND wrapped_key IS NOT NULL",
            &[&rec.user, &at],
        )
        .px()?;
        insert_key(&mut tx, &rec.key)?;
        tx.execute(
            "INSERT INTO device_passwords (user_id, key_id, sealed, created_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE
             SET key_id = excluded.key_id, sealed = excluded.sealed, created_at = excluded.created_at",
            &[&rec.user, &rec.key.id, &rec.sealed, &at],
        )
        .px()?;
        append_tx(&mut tx, std::slice::from_ref(audit))?;
        tx.commit().px()
    }

    pub(super) fn device_get(
        &self,
        user: Uuid,
    ) -> Result<Option<DevicePasswordRecord>, StoreError> {
        let row = self
            .conn()?
            .query_opt(
                &format!(
                    "SELECT d.sealed, d.created_at, k.{} FROM device_passwords d
                     JOIN data_keys k ON k.id = d.key_id WHERE d.user_id = $1",
                    KEY_COLUMNS.replace(", ", ", k.")
                ),
                &[&user],
            )
            .px()?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(DevicePasswordRecord {
            user,
            sealed: r.try_get(0).px()?,
            created_at: parse_ts(&r.try_get::<_, String>(1).px()?)?,
            key: key_at(&r, 2)?,
        }))
    }
}
