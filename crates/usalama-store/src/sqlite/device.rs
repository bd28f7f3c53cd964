//! The SQLite side of OpenRosa device passwords (migration 0008).

use super::vault::{append_tx, insert_key, key_row, KEY_COLUMNS};
use super::{parse_ts, ts, SqliteStore, Sx};
use crate::audit::AuditDraft;
use crate::device::DevicePasswordRecord;
use crate::error::StoreError;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

impl SqliteStore {
    pub(super) fn device_set(
        &self,
        rec: &DevicePasswordRecord,
        audit: &AuditDraft,
    ) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .sx()?;
        let at = ts(&rec.created_at);
        tx.execute(
            "UPDATE data_keys SET wrapped_key = NULL, destroyed_at = ?2
             WHERE id = (SELECT key_id FROM device_passwords WHERE user_id = ?1)
               AND wrapped_key IS NOT NULL",
            params![rec.user, at],
        )
        .sx()?;
        insert_key(&tx, &rec.key)?;
        tx.execute(
            "INSERT INTO device_passwords (user_id, key_id, sealed, created_at)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id) DO UPDATE
             SET key_id = excluded.key_id, sealed = excluded.sealed, created_at = excluded.created_at",
            params![rec.user, rec.key.id, rec.sealed, at],
        )
        .sx()?;
        append_tx(&tx, std::slice::from_ref(audit))?;
        tx.commit().sx()
    }

    pub(super) fn device_get(
        &self,
        user: Uuid,
    ) -> Result<Option<DevicePasswordRecord>, StoreError> {
        let c = self.conn()?;
        let found: Option<(Uuid, Vec<u8>, String)> = c
            .query_row(
                "SELECT key_id, sealed, created_at FROM device_passwords WHERE user_id = ?1",
                [user],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .sx()?;
        let Some((key_id, sealed, created_at)) = found else {
            return Ok(None);
        };
        let key = c
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM data_keys WHERE id = ?1"),
                [key_id],
                key_row,
            )
            .sx()?;
        Ok(Some(DevicePasswordRecord {
            user,
            key,
            sealed,
            created_at: parse_ts(&created_at).sx()?,
        }))
    }
}
