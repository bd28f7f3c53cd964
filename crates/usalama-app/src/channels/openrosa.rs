//! Reports from ODK Collect and KoboCollect over OpenRosa: the report form as an XForm,
//! monitors authenticated by name and password (HTTP Basic, as those apps send it), and
//! submissions read, checked like every other report and stored with their media. The
//! same instance sent again (same `meta/instanceID`) is recognised: nothing is stored
//! twice, and media parts not yet received are added (ODK splits large submissions).

use super::{Extras, FieldError, ItemOutcome, PersonInput, PlacePolicy, ReportInput, SubmitMode};
use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use usalama_domain::Channel;
use usalama_ingest::openrosa::{self, read_submission, split_geopoint, FORM_ID};
use usalama_store::Attachment;

/// Most media parts accepted with one submission.
const MAX_ATTACHMENTS: usize = 20;

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenRosaOutcome {
    /// Stored (or, for a resubmission, found stored).
    Stored(super::Receipt),
    /// Refused, with the fields at fault.
    Refused(Vec<FieldError>),
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(str::to_string)
}

impl App {
    /// The report form as an XForm, and its version.
    pub fn report_xform(&self) -> (String, String) {
        (
            openrosa::xform(&self.taxonomy),
            openrosa::xform_version(&self.taxonomy),
        )
    }

    /// The principal of an account's name and password, without opening a session (for
    /// HTTP Basic, which sends them with every request). Unknown names take as long as
    /// wrong passwords.
    pub fn authenticate_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Principal, AppError> {
        self.authenticate_basic(&crate::LoginAttempt {
            username,
            password,
            ..Default::default()
        })
    }

    /// [`App::authenticate_password`] with a client key for throttling. Basic
    /// authentication cannot carry a TOTP code, so accounts with a second factor are
    /// refused here (they log in to the pages instead).
    pub fn authenticate_basic(
        &self,
        attempt: &crate::LoginAttempt<'_>,
    ) -> Result<Principal, AppError> {
        match self.verify_account(attempt) {
            Ok(u) => Ok(Principal::User {
                id: u.id,
                username: u.username,
                role: u.role,
                org: u.org,
            }),
            Err(AppError::SecondFactorRequired) => Err(AppError::Unauthenticated),
            Err(e) => Err(e),
        }
    }

    /// Receives one OpenRosa submission: the instance XML and its media parts.
    pub fn submit_openrosa(
        &self,
        who: &Principal,
        xml: &[u8],
        media: Vec<Attachment>,
    ) -> Result<OpenRosaOutcome, AppError> {
        self.submit_openrosa_from(who, xml, media, None)
    }

    /// [`App::submit_openrosa`] with the device's network details, kept sealed only when
    /// the OpenRosa channel is configured to keep them.
    pub fn submit_openrosa_from(
        &self,
        who: &Principal,
        xml: &[u8],
        media: Vec<Attachment>,
        client: Option<super::ClientInfo>,
    ) -> Result<OpenRosaOutcome, AppError> {
        self.require(who, usalama_domain::Permission::SubmitReports)?;
        let refuse = |field: &str, reason: String| {
            Ok(OpenRosaOutcome::Refused(vec![FieldError::new(
                field, reason,
            )]))
        };
        let sub = match read_submission(xml) {
            Ok(s) => s,
            Err(e) => return refuse("xml_submission_file", e.0),
        };
        match sub.form_id.as_deref() {
            Some(FORM_ID) => {}
            Some(other) => {
                let other: String = other.chars().take(60).collect();
                return refuse(
                    "form",
                    format!("'{other}' is not a form of this server (expected {FORM_ID})"),
                );
            }
            None => {
                return refuse(
                    "form",
                    format!("the instance has no id (expected {FORM_ID})"),
                )
            }
        }
        if media.len() > MAX_ATTACHMENTS {
            return refuse(
                "media",
                format!("at most {MAX_ATTACHMENTS} files per submission"),
            );
        }
        for m in &media {
            if m.file_name.is_empty()
                || m.file_name.chars().count() > 255
                || m.file_name.chars().any(char::is_control)
                || m.content_type.len() > 100
            {
                return refuse("media", "a file has an unusable name or type".into());
            }
        }
        let mut input = ReportInput {
            category: opt(sub.get("category")),
            occurred_start: opt(sub.get("occurred_start")),
            occurred_end: opt(sub.get("occurred_end")),
            place: opt(sub.get("place")),
            killed: opt(sub.get("killed")),
            injured: opt(sub.get("injured")),
            displaced: opt(sub.get("displaced")),
            description: opt(sub.get("description")),
            reporter_contact: opt(sub.get("reporter_contact")),
            external_id: sub.instance_id.clone(),
            description_sensitive: sub.description_private,
            location_sensitive: sub.location_private,
            client,
            people: sub
                .people
                .iter()
                .map(|p| PersonInput {
                    name: p.name.clone(),
                    age: p.age.clone(),
                    sex: p.sex.clone(),
                    role: p.role.clone(),
                })
                .collect(),
            ..Default::default()
        };
        if let Some(g) = sub.get("location") {
            match split_geopoint(g) {
                Some((lat, lon)) => {
                    input.latitude = Some(lat.to_string());
                    input.longitude = Some(lon.to_string());
                }
                None => input.wire_errors.push(FieldError::new(
                    "location",
                    "is not a geopoint 'latitude longitude [altitude accuracy]'",
                )),
            }
        }
        let mut source_codes = vec![("form_id".to_string(), FORM_ID.to_string())];
        if let Some(v) = &sub.version {
            source_codes.push(("form_version".into(), v.chars().take(60).collect()));
        }
        let extras = Extras {
            attachments: media,
            source_codes,
            ..Default::default()
        };
        let out = self
            .submit(
                who,
                Channel::OpenRosa,
                vec![(input, extras)],
                SubmitMode::AllOrNothing,
                PlacePolicy::Lenient,
            )?
            .pop();
        Ok(match out {
            Some(ItemOutcome::Stored(r)) => OpenRosaOutcome::Stored(r),
            Some(ItemOutcome::Refused(e)) => OpenRosaOutcome::Refused(e),
            _ => OpenRosaOutcome::Refused(vec![FieldError::new(
                "xml_submission_file",
                "could not be stored",
            )]),
        })
    }
}
