//! Usalama's storage: one API by aggregate ([`Store`]) with two real backends, embedded
//! SQLite (the default) and PostgreSQL (the server backend), each owning its append-only
//! migrations. The same conformance tests run against both.
//!
//! Every method is synchronous and transactional on its own; callers in async code run them
//! on a blocking thread. The store knows nothing about HTTP or file formats.

pub mod alerts;
pub mod audit;
mod batch;
mod codes;
pub mod device;
pub mod durability;
mod error;
pub mod export;
pub mod facts;
pub mod intake;
mod location;
mod migrate;
pub mod postgres;
pub mod query;
pub mod records;
mod rows;
mod sql;
pub mod sqlite;
pub mod vault;
pub mod verification;

pub use alerts::{
    AlertQuery, AlertWriteOutcome, DeliveryAttemptWrite, DeliveryLogEntry, DueDelivery, NewDelivery,
};
pub use audit::{AuditDraft, AuditEntry, AuditHead, ChainBreak, ChainVerifier};
pub use batch::EventBatch;
pub use device::DevicePasswordRecord;
pub use durability::{BackupSummary, IntegrityReport, TableCount, TableDigest};
pub use error::StoreError;
pub use export::ExportRow;
pub use facts::{FactBatch, IndexFact, PanelFact, PanelFactBatch, PlacementFact};
pub use intake::{Attachment, NewReport, ReportReceipt, StoredAttachment, StoredReport};
pub use location::StoreLocation;
pub use query::{
    ActorQuery, Alertable, Cursor, EventQuery, GroupBy, GroupCount, LocalityQuery, Page,
    PageRequest, Visibility,
};
pub use records::{
    LocalitySummary, PlacedEvent, SessionRecord, ShareRecord, StoredEvent, TokenRecord,
    UpsertCounts, UserRecord,
};
pub use vault::{
    DataKeyRecord, LegacyPersonal, RetentionCandidate, RewrapCounts, SealedFields, SealedReport,
    StoredSealed,
};
pub use verification::{
    ChangeNote, DecisionWrite, DuplicatePoolQuery, FieldChange, HistoryEntry, HistoryKind,
    MergeWrite, QueueQuery, UnmergeWrite, VersionedEvent, WriteOutcome,
};

use chrono::{DateTime, Utc};
use std::sync::Arc;
use usalama_domain::{
    Actor, ActorId, EventId, Locality, LocalityId, LocalityPath, OrgId, Organisation, ShareScope,
};
use uuid::Uuid;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The storage API. Each method is one transaction.
pub trait Store: Send + Sync {
    /// The backend in use.
    fn backend(&self) -> Backend;
    /// The schema version the database is at.
    fn schema_version(&self) -> Result<i64, StoreError>;

    /// Inserts or updates localities by code, parents first.
    fn upsert_localities(&self, localities: &[Locality]) -> Result<UpsertCounts, StoreError>;
    /// Every locality with its geometry (for placement and maps).
    fn all_localities(&self) -> Result<Vec<Locality>, StoreError>;
    /// One locality.
    fn get_locality(&self, id: LocalityId) -> Result<Option<Locality>, StoreError>;
    /// One locality by code.
    fn locality_by_code(&self, code: &str) -> Result<Option<LocalitySummary>, StoreError>;
    /// A page of localities without geometry.
    fn list_localities(&self, q: &LocalityQuery) -> Result<Page<LocalitySummary>, StoreError>;
    /// A locality and its ancestors, the locality first.
    fn locality_lineage(&self, id: LocalityId) -> Result<Vec<LocalitySummary>, StoreError>;

    /// Inserts or updates actors by id.
    fn upsert_actors(&self, actors: &[Actor]) -> Result<UpsertCounts, StoreError>;
    /// One actor.
    fn get_actor(&self, id: ActorId) -> Result<Option<Actor>, StoreError>;
    /// A page of actors.
    fn list_actors(&self, q: &ActorQuery) -> Result<Page<Actor>, StoreError>;

    /// Inserts events, or updates those whose `(source, external_id)` exists and whose content
    /// changed (keeping the previous version in the history and the analyst's verification).
    fn upsert_events(
        &self,
        events: &[PlacedEvent],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError>;
    /// One event with its placement.
    fn get_event(&self, id: EventId) -> Result<Option<StoredEvent>, StoreError>;
    /// A page of events matching the query, newest first.
    fn list_events(&self, q: &EventQuery) -> Result<Page<StoredEvent>, StoreError>;
    /// Event counts and fatalities matching the query, grouped.
    fn count_events(&self, q: &EventQuery, by: GroupBy) -> Result<Vec<GroupCount>, StoreError>;
    /// Re-places the given events; returns how many changed.
    fn set_placements(&self, placements: &[(EventId, LocalityPath)]) -> Result<u64, StoreError>;
    /// Hands every event that has a point to `f` as a [`PlacementFact`], in batches of at
    /// most `batch` (1..=10,000), in no particular order, from one read snapshot (writes
    /// made by `f` meanwhile go through other connections). An error from `f` stops the
    /// scan and is returned. Returns the number of facts.
    fn scan_placements(
        &self,
        batch: usize,
        f: &mut dyn FnMut(&[PlacementFact]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;

    /// Inserts a user, or updates the password, role and state of the user with that name.
    fn upsert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// A user by name.
    fn find_user(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Stores a new API token (its hash).
    fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// A token by the hash of its secret.
    fn find_token(&self, token_hash: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
    /// Marks tokens with this label revoked; returns how many.
    fn revoke_tokens(&self, label: &str, at: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Stores a login session.
    fn insert_session(&self, session: &SessionRecord) -> Result<(), StoreError>;
    /// A session by the hash of its cookie, with its user.
    fn find_session(
        &self,
        token_hash: &[u8],
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError>;
    /// Deletes a session.
    fn delete_session(&self, token_hash: &[u8]) -> Result<(), StoreError>;

    // Verification
    /// One event with its version.
    fn get_event_versioned(&self, id: EventId) -> Result<Option<VersionedEvent>, StoreError>;
    /// A page of unverified events, most severe first and newest first within equal
    /// severity ([`usalama_domain::Severity`]), with their versions.
    fn verification_queue(&self, q: &QueueQuery) -> Result<Page<VersionedEvent>, StoreError>;
    /// Events that may be duplicates of an event (a coarse filter), newest first.
    fn duplicate_pool(&self, q: &DuplicatePoolQuery) -> Result<Vec<VersionedEvent>, StoreError>;
    /// Writes a decision (status and grading) and its history entry in one transaction, if
    /// the event is still at the expected version.
    fn record_decision(&self, w: &DecisionWrite) -> Result<WriteOutcome, StoreError>;
    /// Marks an event as a duplicate of a root, moves the event's own duplicates to the
    /// root, and writes the history of every record involved, in one transaction, if both
    /// events are still at the expected versions.
    fn merge_event(&self, w: &MergeWrite) -> Result<WriteOutcome, StoreError>;
    /// Makes a duplicate stand on its own again, with the history of both records, in one
    /// transaction, if it is still at the expected version.
    fn unmerge_event(&self, w: &UnmergeWrite) -> Result<WriteOutcome, StoreError>;
    /// Every change of an event, oldest first, with the fields each changed; empty for an
    /// unknown event.
    fn event_history(&self, id: EventId) -> Result<Vec<HistoryEntry>, StoreError>;

    /// Hands every event matching the query's filters to `f`, oldest first (by
    /// `occurred_end`, then id), in batches of at most `batch` events (1..=10,000), without
    /// counting them first; `q.page` is ignored. Memory stays that of one batch whatever the
    /// number of events. The scan reads one consistent snapshot. An error from `f` stops the
    /// scan and is returned. Returns the number of events handed over.
    fn scan_events(
        &self,
        q: &EventQuery,
        batch: usize,
        f: &mut dyn FnMut(&[StoredEvent]) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;

    // Channels
    /// Stores reports from monitors, all in one transaction: each event (which must be
    /// new) with its receipt and attachments. A report whose `(source, external_id)` is
    /// already stored is left as it is (a resubmission): only its attachments not yet
    /// stored (by file name) are added, and the stored event's id and reference returned.
    fn insert_reports(&self, reports: &[NewReport]) -> Result<Vec<StoredReport>, StoreError>;
    /// The verification status name (`unverified`, `verified`, `rejected`, `duplicate`)
    /// of the report with this reference; nothing else about it.
    fn report_status(&self, reference: &str) -> Result<Option<String>, StoreError>;
    /// The receipt of a report.
    fn get_receipt(&self, event: EventId) -> Result<Option<ReportReceipt>, StoreError>;
    /// A report's attachments, by file name.
    fn list_attachments(&self, event: EventId) -> Result<Vec<StoredAttachment>, StoreError>;
    /// The installation setting `key`, storing `initial` first when there is none; when
    /// several callers race, the first write wins and everyone gets it.
    fn ensure_setting(
        &self,
        key: &str,
        initial: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, StoreError>;

    // Vault: encryption at rest, the audit log, retention and erasure (migration 0005).
    // The store moves sealed bytes and wrapped keys; the application's vault seals.
    /// A report's sealed fields with its data key, appending `audit` (a read of personal
    /// data) in the same transaction; `None`, and nothing appended, when it has none.
    fn read_sealed(
        &self,
        event: EventId,
        audit: &AuditDraft,
    ) -> Result<Option<StoredSealed>, StoreError>;
    /// A data key by id.
    fn get_data_key(&self, id: uuid::Uuid) -> Result<Option<DataKeyRecord>, StoreError>;
    /// The installation key with `fresh.id`: the stored one, else `fresh` once stored. When
    /// none is stored and `adopt` names a `settings` row, that row's value is wrapped by
    /// the callback and stored instead, and the row deleted (one transaction).
    fn ensure_data_key(
        &self,
        fresh: &DataKeyRecord,
        adopt: Option<crate::vault::AdoptSetting<'_>>,
    ) -> Result<DataKeyRecord, StoreError>;
    /// How many data keys are live and how many destroyed.
    fn count_data_keys(&self) -> Result<(u64, u64), StoreError>;
    /// Rewraps every live data key with `f` (key rotation) and appends `audit`, in one
    /// transaction; an error from `f` names the key and changes nothing.
    fn rewrap_data_keys(
        &self,
        f: &mut dyn FnMut(&DataKeyRecord) -> Result<DataKeyRecord, String>,
        audit: &AuditDraft,
    ) -> Result<RewrapCounts, StoreError>;
    /// The ids of the live data keys of an event: its own and its attachments'.
    fn event_key_ids(&self, event: EventId) -> Result<Vec<uuid::Uuid>, StoreError>;
    /// Destroys data keys (crypto-shredding): clears the wrapped keys and the blind
    /// indexes of the reports they sealed, and appends `audit`, in one transaction. Keys
    /// already destroyed or unknown are skipped. Returns how many were destroyed now.
    fn destroy_data_keys(
        &self,
        ids: &[uuid::Uuid],
        at: DateTime<Utc>,
        audit: &[AuditDraft],
    ) -> Result<u64, StoreError>;
    /// Reports whose blind index of the reporter's contact equals `index`, appending
    /// `audit` in the same transaction.
    fn find_by_contact_index(
        &self,
        index: &[u8],
        audit: &AuditDraft,
    ) -> Result<Vec<EventId>, StoreError>;
    /// Reports with live personal data whose event was decided (not `unverified`) and
    /// last changed before `before`.
    fn personal_data_due(&self, before: DateTime<Utc>) -> Result<Vec<EventId>, StoreError>;
    /// Attachments with live keys received before `before`.
    fn attachments_due(&self, before: DateTime<Utc>)
        -> Result<Vec<RetentionCandidate>, StoreError>;
    /// Appends entries to the audit log in one transaction; returns the new head.
    fn append_audit(&self, drafts: &[AuditDraft]) -> Result<AuditHead, StoreError>;
    /// The head of the audit log as recorded.
    fn audit_head(&self) -> Result<AuditHead, StoreError>;
    /// Hands every audit entry to `f` in stored order (by `seq`), in one snapshot, and
    /// returns the head recorded in that snapshot.
    fn scan_audit(
        &self,
        f: &mut dyn FnMut(&AuditEntry) -> Result<(), StoreError>,
    ) -> Result<AuditHead, StoreError>;
    // Durability (`durability.rs`, `sqlite/durability.rs`, `postgres/durability.rs`)
    /// Writes a consistent backup of every table to the new file `dest` while others keep
    /// writing (SQLite: `VACUUM INTO` from one snapshot; PostgreSQL: the archive of
    /// [`durability::ARCHIVE_MAGIC`] from one `REPEATABLE READ` transaction). The file
    /// appears under its name only once complete and synced; an existing file is refused.
    fn backup(&self, dest: &std::path::Path) -> Result<BackupSummary, StoreError>;
    /// Replaces this store's content by the backup at `src`, in one transaction: refuses a
    /// backup of the other backend, of another application, with a schema this binary does
    /// not know or newer, or that fails its integrity or digest checks; refuses a store
    /// holding rows (other than its migration records) unless `force`. Migrates the
    /// restored data to this binary's schema and checks the result.
    fn restore(&self, src: &std::path::Path, force: bool) -> Result<BackupSummary, StoreError>;
    /// Every table, by name, with its row count and an order-independent digest of its
    /// content, read from one snapshot.
    fn table_digests(&self) -> Result<Vec<TableDigest>, StoreError>;
    /// Checks the database's physical integrity (SQLite: `PRAGMA integrity_check` and
    /// `foreign_key_check`; PostgreSQL: amcheck's `bt_index_check` with `heapallindexed` on
    /// every B-tree index, installing the extension if needed).
    fn check_integrity(&self) -> Result<IntegrityReport, StoreError>;
    // Bulk loading (imports)
    /// Prepares the store for a large import of events, one that writes many more rows
    /// than the events table holds: SQLite drops the events' secondary (non-unique)
    /// indexes, noting their definitions in `settings` in the same transaction, so that
    /// [`Store::end_bulk_load`] rebuilds each by one sort instead of millions of random
    /// inserts; if the process dies first, the next open of the store rebuilds them.
    /// Uniqueness constraints stay, and readers stay correct meanwhile (only slower).
    /// Returns false, having changed nothing, when the backend has no bulk mode
    /// (PostgreSQL) or a bulk load is already in progress.
    fn begin_bulk_load(&self, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Ends a bulk load: recreates the indexes [`Store::begin_bulk_load`] dropped and
    /// clears its note, in one transaction. Does nothing when no bulk load is in progress.
    fn end_bulk_load(&self) -> Result<(), StoreError>;
    // Access: organisations, sharing, account hardening (migration 0006)
    /// Creates an organisation; a name already taken is a [`StoreError::Conflict`].
    fn insert_org(&self, org: &Organisation, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Every organisation, by name.
    fn list_orgs(&self) -> Result<Vec<Organisation>, StoreError>;
    /// An organisation by name.
    fn find_org(&self, name: &str) -> Result<Option<Organisation>, StoreError>;
    /// Sets what `from` shares with `to`, or with `None` stops sharing.
    fn set_share(
        &self,
        from: OrgId,
        to: OrgId,
        scope: Option<ShareScope>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Every sharing agreement whose receiver is `to`.
    fn shares_to(&self, to: OrgId) -> Result<Vec<ShareRecord>, StoreError>;
    /// Counts a failed log-in of an account and, in the same transaction, locks it until
    /// `lock(count)` (the count after this failure) when that gives a time. Returns the
    /// count.
    fn record_login_failure(
        &self,
        user: Uuid,
        lock: &dyn Fn(u32) -> Option<DateTime<Utc>>,
    ) -> Result<u32, StoreError>;
    /// Forgets an account's failed log-ins and lifts its lock (a successful log-in, or an
    /// administrator unlocking it).
    fn reset_login_failures(&self, user: Uuid) -> Result<(), StoreError>;
    /// Sets or (with `None`) removes an account's TOTP secret.
    fn set_user_totp(&self, user: Uuid, secret: Option<&[u8]>) -> Result<(), StoreError>;
    /// Disables (with a time) or enables an account; disabling also ends its sessions.
    fn set_user_disabled(&self, user: Uuid, at: Option<DateTime<Utc>>) -> Result<(), StoreError>;
    /// Ends every session of an account; returns how many.
    fn delete_user_sessions(&self, user: Uuid) -> Result<u64, StoreError>;
    // Alerts
    /// Stores a new alert with its first history entry (raised by `system`) and one
    /// pending delivery per matching subscription, in one transaction. Returns false and
    /// writes nothing when an alert with the same id or deduplication key exists.
    fn insert_alert(
        &self,
        alert: &usalama_domain::alert::Alert,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError>;
    /// One alert.
    fn get_alert(
        &self,
        id: usalama_domain::AlertId,
    ) -> Result<Option<usalama_domain::alert::Alert>, StoreError>;
    /// Alerts matching the query, newest first.
    fn list_alerts(&self, q: &AlertQuery) -> Result<Vec<usalama_domain::alert::Alert>, StoreError>;
    /// Moves an alert from `change.from` to `change.to` and records the change, in one
    /// transaction, if the alert is still in `change.from`.
    fn change_alert_status(
        &self,
        change: &usalama_domain::alert::AlertStatusChange,
    ) -> Result<AlertWriteOutcome, StoreError>;
    /// Every status change of an alert, the raising first.
    fn alert_history(
        &self,
        id: usalama_domain::AlertId,
    ) -> Result<Vec<usalama_domain::alert::AlertStatusChange>, StoreError>;
    /// Stores a subscription.
    fn insert_subscription(
        &self,
        s: &usalama_domain::alert::Subscription,
    ) -> Result<(), StoreError>;
    /// Every subscription, oldest first.
    fn list_subscriptions(&self) -> Result<Vec<usalama_domain::alert::Subscription>, StoreError>;
    /// Removes a subscription (its delivery log stays); false when there was none.
    fn delete_subscription(&self, id: usalama_domain::SubscriptionId) -> Result<bool, StoreError>;
    /// Claims at most `limit` pending deliveries due at `now`, moving their next attempt to
    /// `lease_until` so that no other worker takes them meanwhile (a worker that stops
    /// leaves them to be claimed again after the lease).
    fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    /// Logs a delivery attempt and sets the delivery delivered, pending (to retry at
    /// `retry_at`) or failed, in one transaction.
    fn record_delivery_attempt(&self, a: &DeliveryAttemptWrite) -> Result<(), StoreError>;
    /// Every delivery of an alert with every attempt (a delivery not yet attempted shows
    /// once with attempt 0).
    fn delivery_log(
        &self,
        alert: usalama_domain::AlertId,
    ) -> Result<Vec<DeliveryLogEntry>, StoreError>;
    // Admin: OpenRosa device passwords for HTTP Digest (migration 0008)
    /// Stores an account's device password (a new data key and the sealed HA1 values),
    /// replacing any previous one and destroying its data key, with `audit` appended, in
    /// one transaction.
    fn set_device_password(
        &self,
        rec: &DevicePasswordRecord,
        audit: &AuditDraft,
    ) -> Result<(), StoreError>;
    /// An account's device password with its data key.
    fn get_device_password(&self, user: Uuid) -> Result<Option<DevicePasswordRecord>, StoreError>;
    /// Every account (of `org` when given), by name.
    fn list_users(&self, org: Option<OrgId>) -> Result<Vec<UserRecord>, StoreError>;
    // Import performance: batches flattened and hashed before the write
    /// [`Store::upsert_events`] for a batch already flattened and hashed (see
    /// [`EventBatch`]), so that an importer can prepare the next batch while this one is
    /// written. Same guarantees: one transaction, insert or update-with-history or
    /// unchanged per event.
    fn upsert_event_batch(
        &self,
        batch: &EventBatch,
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, StoreError>;
    // Sealing secrets kept in clear by older versions (migration 0007; `sqlite/legacy.rs`,
    // `postgres/legacy.rs`).
    /// Seals at most `limit` reports still holding personal data in clear (stored before
    /// encryption at rest, without sealed fields): hands each to `seal`, stores the data key
    /// and sealed fields it returns, blanks the clear columns (`events.people` and
    /// `reporter_contact`, with the content hash recomputed; `report_receipts.raw_text`;
    /// the same two fields in the event's history snapshots) and appends `audit` with the
    /// count, all in one transaction. Returns how many were sealed: 0 (and nothing
    /// appended) when none is left. An error from `seal` names the event and changes
    /// nothing.
    fn seal_legacy_personal(
        &self,
        limit: usize,
        seal: &mut dyn FnMut(&LegacyPersonal) -> Result<SealedReport, String>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError>;
    /// Seals every account's TOTP secret still in clear: `seal` (account id, secret) gives
    /// the sealed bytes, stored in `totp_sealed` while the clear column is emptied, and
    /// `audit` is appended with the count, in one transaction. Returns how many: 0 (and
    /// nothing appended) when none.
    fn seal_legacy_totp(
        &self,
        seal: &mut crate::vault::SecretSealer<'_>,
        audit: &AuditDraft,
    ) -> Result<u64, StoreError>;
    /// Rewrites the tables that held clear values so that no stale copy of one survives in
    /// their free space. A version before `secure_delete` (or any writer without it) left
    /// replaced and moved cells in the free space of SQLite's pages, where blanking the
    /// live row does not reach them; PostgreSQL keeps old row versions until a rewrite.
    /// SQLite: `VACUUM` (every page written anew), then the WAL emptied; PostgreSQL:
    /// `VACUUM FULL` of `events`, `report_receipts`, `event_history` and `users`. Holds the
    /// write lock (PostgreSQL: those tables' exclusive lock) for as long as a backup takes
    /// and needs free disk space of about twice the tables (SQLite: a temporary copy and
    /// the WAL): for one-off maintenance, such as after sealing legacy values at start.
    fn purge_free_space(&self) -> Result<(), StoreError>;

    // Index recompute (`facts.rs`, `sqlite/facts.rs`, `postgres/facts.rs`)
    /// Hands every countable event of `source` (not rejected, not a duplicate) to `f` as
    /// narrow [`IndexFact`]s with its locality at `level`, in batches of at most `batch`
    /// (1..=10,000), in no particular order, from one read snapshot. An error from `f`
    /// stops the scan and is returned. Returns the number of facts handed over.
    fn scan_index_facts(
        &self,
        source: &str,
        level: usalama_domain::AdminLevel,
        batch: usize,
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
    /// The number of countable events (not rejected, not a duplicate) of every source
    /// that has one, by source name, from one read snapshot: what the recompute needs to
    /// choose its source, without reading the events themselves (on SQLite, from the
    /// `(source, external_id)` index and the partial status index only).
    fn countable_events_by_source(&self) -> Result<Vec<(String, u64)>, StoreError>;

    // The application's index and forecast panels (`facts.rs`, `sqlite/facts.rs`,
    // `postgres/facts.rs`)
    /// Hands every countable event of `source` (not rejected, not a duplicate) to `f` as
    /// [`PanelFact`]s (locality at every level, location precision and point), in batches
    /// of at most `batch` (1..=10,000), in no particular order, from one read snapshot. An
    /// error from `f` stops the scan and is returned. Returns the number of facts.
    fn scan_panel_facts(
        &self,
        source: &str,
        batch: usize,
        f: &mut dyn FnMut(PanelFactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;
    /// The first and last end dates of the countable events (not rejected, not a
    /// duplicate) of `source`, or `None` when it has none: the date range a panel of the
    /// source covers, found through the `(source, occurred_end, id)` index rather than by
    /// reading the events.
    fn countable_span(
        &self,
        source: &str,
    ) -> Result<Option<(chrono::NaiveDate, chrono::NaiveDate)>, StoreError>;

    // Exports (`export.rs`, `sqlite/export.rs`, `postgres/export.rs`)
    /// Hands every event matching the query's filters (`q.page` is ignored) to `f` as an
    /// [`ExportRow`]: only the columns the export formats write, with the names of its
    /// first two actors, borrowed from the row being read. Oldest first (by
    /// `occurred_end`, then id), from one read snapshot, one row at a time, so memory does
    /// not grow with the number of events. An error from `f` stops the scan and is
    /// returned. Returns the number of rows handed over.
    fn scan_export_rows(
        &self,
        q: &EventQuery,
        f: &mut dyn FnMut(&ExportRow<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError>;

    // Index recompute read in parts (`sqlite/facts.rs`; PostgreSQL: this default)
    /// Part `part` (from 0) of `parts` of [`scan_index_facts`](Store::scan_index_facts),
    /// so that several threads can read one scan: the parts together hand over every
    /// countable event exactly once, each part from its own read snapshot (a write
    /// committed while the parts start may be seen by some parts only). On SQLite the
    /// parts are equal slices of the table's rowids, each read in table order; this
    /// default (PostgreSQL) reads the whole scan as part 0 and nothing as the others.
    fn scan_index_facts_part(
        &self,
        source: &str,
        level: usalama_domain::AdminLevel,
        batch: usize,
        (part, parts): (usize, usize),
        f: &mut dyn FnMut(FactBatch<'_>) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let _ = parts;
        if part == 0 {
            self.scan_index_facts(source, level, batch, f)
        } else {
            Ok(0)
        }
    }
}

/// The largest batch [`Store::scan_events`] hands over.
pub const MAX_SCAN_BATCH: usize = 10_000;

/// Connections each backend's pool opens at most.
pub const POOL_CONNECTIONS: u32 = 8;

/// Opens (creating if needed) and migrates the store at `location`.
pub fn open(location: &StoreLocation) -> Result<Arc<dyn Store>, StoreError> {
    match location {
        StoreLocation::SqliteDir(dir) => Ok(Arc::new(sqlite::SqliteStore::open_dir(dir)?)),
        StoreLocation::SqliteFile(file) => Ok(Arc::new(sqlite::SqliteStore::open_file(file)?)),
        StoreLocation::Postgres(url) => Ok(Arc::new(postgres::PgStore::open(url, None)?)),
    }
}

/// [`open`] for a command that imports files and serves nothing: a SQLite store that no
/// other process has open writes through a rollback journal instead of the WAL, which
/// writes each page once (`sqlite/journal.rs`). PostgreSQL opens as usual.
pub fn open_for_import(location: &StoreLocation) -> Result<Arc<dyn Store>, StoreError> {
    match location {
        StoreLocation::SqliteDir(dir) => {
            Ok(Arc::new(sqlite::SqliteStore::open_dir_for_import(dir)?))
        }
        StoreLocation::SqliteFile(file) => {
            Ok(Arc::new(sqlite::SqliteStore::open_file_for_import(file)?))
        }
        StoreLocation::Postgres(_) => open(location),
    }
}
