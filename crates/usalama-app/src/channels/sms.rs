//! Reports by SMS: a message from a gateway, read with the short syntax
//! (`KILL 3 BAMBARI shooting near the market`), stored as an unverified report with the
//! message as received, and a reply carrying the reference in the keyword's language.
//!
//! The sender's number is never stored: only its HMAC-SHA256 under a random key of this
//! installation (so that reports from one phone can be linked without keeping the number,
//! and the hashes are useless on another installation). The key is generated on first use
//! as an installation data key, wrapped by the master key (see `vault.rs`); the SMS text
//! as received is sealed with the report's personal data.

use super::{Extras, FieldError, ItemOutcome, PlacePolicy, ReportInput, SubmitMode};
use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use usalama_domain::Channel;
use usalama_ingest::sms::{fill_reply, parse_sms, CountKind, SmsPlace};
use usalama_ingest::SmsSyntax;

/// The setting that held the key hashing SMS senders' numbers before the vault (adopted
/// and deleted on first use).
pub const SMS_KEY_SETTING: &str = "sms_sender_hmac_key";
/// Longest message accepted (ten concatenated SMS).
const MAX_SMS: usize = 1600;

/// One message as a gateway delivered it.
#[derive(Clone, Default)]
pub struct SmsInput {
    /// The sender's number (personal data: hashed, never stored or logged).
    pub from: String,
    /// The message.
    pub text: String,
    /// When the phone sent it: Unix seconds or milliseconds, or RFC 3339.
    pub timestamp: Option<String>,
    /// The gateway's id of the message, which makes a re-delivery idempotent.
    pub message_id: Option<String>,
}

impl std::fmt::Debug for SmsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsInput")
            .field("timestamp", &self.timestamp)
            .finish_non_exhaustive()
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    /// Stored as a report.
    Stored(super::Receipt),
    /// Not stored: the part of the message at fault and why.
    NotUnderstood(FieldError),
}

/// The outcome and the reply to send back to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsResult {
    /// What happened.
    pub outcome: SmsOutcome,
    /// The reply text (in the language of the keyword used).
    pub reply: String,
}

/// The date a message's timestamp gives, if it is plausible (not ahead of `now` by more
/// than a day, and not older than a year); otherwise the message is dated by `now`.
fn sent_at(ts: Option<&str>, now: DateTime<Utc>) -> DateTime<Utc> {
    let parsed = ts.map(str::trim).and_then(|s| {
        if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
            let n: i64 = s.parse().ok()?;
            if n >= 100_000_000_000 {
                DateTime::from_timestamp_millis(n)
            } else {
                DateTime::from_timestamp(n, 0)
            }
        } else {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        }
    });
    match parsed {
        Some(t) if t <= now + Duration::days(1) && t >= now - Duration::days(365) => t,
        _ => now,
    }
}

/// The number as compared: digits only, so that `+236 70-00` and `23670 00` agree.
fn normalized_number(from: &str) -> String {
    from.chars().filter(char::is_ascii_digit).collect()
}

impl App {
    /// Uses `syntax` for SMS instead of the built-in `config/sms.toml`.
    pub fn with_sms_syntax(self, syntax: SmsSyntax) -> Self {
        if let Ok(mut g) = self.intake.sms.write() {
            *g = Some(Arc::new(syntax));
        }
        if let Ok(mut g) = self.intake.sms_problem.write() {
            *g = None;
        }
        self
    }

    /// Why SMS cannot be read, when the built-in keywords do not fit a custom taxonomy.
    pub fn sms_problem(&self) -> Option<String> {
        self.intake.sms_problem.read().ok().and_then(|g| g.clone())
    }

    /// The installation's key for hashing senders, created on first use.
    pub(crate) fn sms_key(&self) -> Result<&[u8], AppError> {
        if let Some(k) = self.intake.sms_key.get() {
            return Ok(k);
        }
        // A data key with a fixed id, wrapped by the master key; an install from before
        // the vault has its key in `settings`, which is adopted (wrapped, the row deleted)
        // so that its senders' hashes stay the same.
        let key = self.installation_key(crate::personal::SMS_SENDER_KEY, Some(SMS_KEY_SETTING))?;
        Ok(self.intake.sms_key.get_or_init(|| key))
    }

    /// Creates the installation's keys if they do not exist yet (run at start-up).
    pub fn ensure_channel_keys(&self) -> Result<(), AppError> {
        self.sms_key().map(|_| ())
    }

    /// The keyed hash of a sender's number, as stored.
    pub fn sender_hash(&self, from: &str) -> Result<Vec<u8>, AppError> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.sms_key()?).map_err(|_| AppError::Crypto)?;
        mac.update(normalized_number(from).as_bytes());
        Ok(mac.finalize().into_bytes().to_vec())
    }

    /// Receives one message from an SMS gateway (the caller is the gateway's token). A
    /// message that cannot be read is not stored; the reply explains the syntax.
    pub fn receive_sms(&self, who: &Principal, sms: SmsInput) -> Result<SmsResult, AppError> {
        self.receive_sms_from(who, sms, None)
    }

    /// [`App::receive_sms`] with the gateway's network details, kept sealed only when the
    /// SMS channel is configured to keep them.
    pub fn receive_sms_from(
        &self,
        who: &Principal,
        sms: SmsInput,
        client: Option<super::ClientInfo>,
    ) -> Result<SmsResult, AppError> {
        self.require(who, usalama_domain::Permission::SubmitReports)?;
        let Some(syntax) = self.intake.sms.read().ok().and_then(|g| g.clone()) else {
            return Err(AppError::invalid(
                "sms",
                self.sms_problem()
                    .unwrap_or_else(|| "no SMS keywords are configured".into()),
            ));
        };
        let not_understood = |field: &str, reason: String, lang: &str| {
            let replies = syntax.replies(lang);
            SmsResult {
                outcome: SmsOutcome::NotUnderstood(FieldError::new(field, reason)),
                reply: fill_reply(
                    &replies.not_understood,
                    "",
                    "",
                    &syntax.sample_keywords(lang, 6),
                ),
            }
        };
        let default_lang = syntax.default_lang().to_string();
        if normalized_number(&sms.from).is_empty() {
            return Ok(not_understood(
                "from",
                "the sender's number is missing".into(),
                &default_lang,
            ));
        }
        let text = sms.text.trim();
        if text.chars().count() > MAX_SMS {
            return Ok(not_understood(
                "message",
                format!("is longer than {MAX_SMS} characters"),
                &default_lang,
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Ok(not_understood(
                "message",
                "contains a control character".into(),
                &default_lang,
            ));
        }
        let places = self.place_index()?;
        let parsed = match parse_sms(text, &syntax, &places.gazetteer) {
            Ok(p) => p,
            Err(e) => {
                let reason = e.to_string();
                let reason = reason
                    .split_once(": ")
                    .map_or(reason.clone(), |(_, r)| r.to_string());
                return Ok(not_understood(e.field(), reason, &default_lang));
            }
        };
        let lang = parsed.keyword.lang.clone();
        let date = sent_at(sms.timestamp.as_deref(), self.now())
            .date_naive()
            .to_string();
        let count = parsed.count.map(|n| n.to_string());
        let mut input = ReportInput {
            category: Some(parsed.keyword.category.clone()),
            occurred_start: Some(date),
            description: parsed.description.clone(),
            // The message's free text is sealed like the message itself: a sender cannot
            // mark it sensitive, and it is where names and numbers get written.
            description_sensitive: true,
            external_id: sms
                .message_id
                .as_deref()
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(|m| m.chars().take(200).collect()),
            client,
            ..Default::default()
        };
        match parsed.keyword.count {
            CountKind::Killed => input.killed = count,
            CountKind::Injured => input.injured = count,
            CountKind::Displaced => input.displaced = count,
            CountKind::Abducted => input.abducted = count,
            CountKind::None => {}
        }
        let place_text = match &parsed.place {
            SmsPlace::Found(m) => {
                input.place = Some(m.matched_name.clone());
                input.place_code = Some(m.code.to_string());
                None
            }
            SmsPlace::Unresolved { text, .. } => {
                input.place = Some(text.clone());
                Some(text.clone())
            }
        };
        let extras = Extras {
            sender_hash: Some(self.sender_hash(&sms.from)?),
            raw_text: Some(sms.text.clone()),
            attachments: Vec::new(),
            source_codes: vec![("sms_keyword".into(), parsed.keyword.word.clone())],
        };
        let outcome = self
            .submit(
                who,
                Channel::Sms,
                vec![(input, extras)],
                SubmitMode::AllOrNothing,
                PlacePolicy::Lenient,
            )?
            .pop();
        let replies = syntax.replies(&lang);
        Ok(match outcome {
            Some(ItemOutcome::Stored(r)) => {
                let reply = match &place_text {
                    None => fill_reply(&replies.received, &r.reference, "", ""),
                    Some(p) => fill_reply(&replies.place_unknown, &r.reference, p, ""),
                };
                SmsResult {
                    outcome: SmsOutcome::Stored(r),
                    reply,
                }
            }
            Some(ItemOutcome::Refused(mut errs)) if !errs.is_empty() => {
                let e = errs.remove(0);
                not_understood(&e.field, e.reason, &lang)
            }
            _ => not_understood("message", "could not be stored".into(), &lang),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_seconds_millis_or_rfc3339() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let earlier = DateTime::<Utc>::from_timestamp(1_699_900_000, 0).unwrap();
        assert_eq!(sent_at(Some("1699900000"), now), earlier);
        assert_eq!(sent_at(Some("1699900000000"), now), earlier);
        assert_eq!(sent_at(Some("2023-11-13T18:26:40Z"), now), earlier);
        assert_eq!(sent_at(Some("9999999999999"), now), now, "future");
        assert_eq!(sent_at(Some("1"), now), now, "too old");
        assert_eq!(sent_at(Some("yesterday"), now), now);
        assert_eq!(sent_at(None, now), now);
        assert_eq!(normalized_number("+236 70-00 00 01"), "23670000001");
    }
}
