-- Usalama schema version 7 (SQLite): TOTP secrets sealed at rest, and what finds the
-- personal data stored in clear before encryption at rest (0005) so that it can be sealed.
-- Append-only: never edit a released migration.

-- The TOTP secret sealed by the vault (XChaCha20-Poly1305 under the installation's
-- `totp` key, the account id and field bound as associated data). `totp_secret` keeps
-- only secrets enrolled before this version, until the next start seals and clears them.
ALTER TABLE users ADD COLUMN totp_sealed BLOB;

-- Reports stored before 0005 keep people, the reporter's contact and the SMS as received
-- in clear. These partial indexes hold exactly those rows (none once sealed), so the
-- start-up step that seals them finds them without scanning every event.
CREATE INDEX events_plain_personal ON events(id)
    WHERE people <> '[]' OR reporter_contact IS NOT NULL;
CREATE INDEX report_receipts_plain_text ON report_receipts(event_id)
    WHERE raw_text IS NOT NULL;
