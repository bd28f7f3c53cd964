//! Who uses Usalama and what they may do: roles, the one table of permissions per role
//! ([`Role::permissions`]), organisations and what they share with each other.

use crate::error::DomainError;
use crate::OrgId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A role granted to an account or an API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Submits reports.
    Reporter,
    /// Verifies and analyses events.
    Analyst,
    /// Protection teams responding to alerts.
    Responder,
    /// Handles complaints against security providers.
    OmbudsmanOfficer,
    /// Vets security-force candidates.
    VettingOfficer,
    /// Registers ex-combatants.
    DdrOfficer,
    /// Administers one organisation.
    OrgAdmin,
    /// Administers the installation.
    Admin,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 8] = [
        Self::Reporter,
        Self::Analyst,
        Self::Responder,
        Self::OmbudsmanOfficer,
        Self::VettingOfficer,
        Self::DdrOfficer,
        Self::OrgAdmin,
        Self::Admin,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Reporter => "reporter",
            Self::Analyst => "analyst",
            Self::Responder => "responder",
            Self::OmbudsmanOfficer => "ombudsman_officer",
            Self::VettingOfficer => "vetting_officer",
            Self::DdrOfficer => "ddr_officer",
            Self::OrgAdmin => "org_admin",
            Self::Admin => "admin",
        }
    }

    /// Whether this role may read event records beyond public aggregates.
    pub fn can_read_events(&self) -> bool {
        self.may(Permission::ReadEvents)
    }

    /// Whether this role may verify, reject, grade and merge event records (analysts and
    /// administrators).
    pub fn can_verify(&self) -> bool {
        self.may(Permission::VerifyEvents)
    }

    /// THE permission table: what each role may do. Every use-case checks one of these
    /// permissions; the web layer's route table names the permission of each route.
    pub fn permissions(&self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Reporter => &[SubmitReports],
            Self::Analyst => &[
                ReadEvents,
                ExportEvents,
                VerifyEvents,
                SubmitReports,
                ReadPersonal,
                HandleAlerts,
            ],
            Self::Responder => &[
                ReadEvents,
                ExportEvents,
                SubmitReports,
                ReadPersonal,
                HandleAlerts,
            ],
            Self::OmbudsmanOfficer => &[ReadEvents, ExportEvents, SubmitReports, ReadPersonal],
            Self::VettingOfficer => &[ReadEvents, ExportEvents, SubmitReports, ReadPersonal],
            Self::DdrOfficer => &[ReadEvents, ExportEvents, SubmitReports, ReadPersonal],
            Self::OrgAdmin => &[ReadEvents, ExportEvents, SubmitReports, ManageUsers],
            Self::Admin => &Permission::ALL,
        }
    }

    /// Whether the role holds `p`.
    pub fn may(&self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }

    /// Whether this role may read the personal data of a record (people involved, the
    /// reporter's contact, sensitive text and exact points, attachments): the roles that
    /// work cases (analysts, responders, ombudsman, vetting and DDR officers) and system
    /// administrators. Not reporters, and not organisation administrators, who manage
    /// accounts rather than cases. Every such read is audited.
    pub fn may_read_personal(&self) -> bool {
        self.may(Permission::ReadPersonal)
    }
}

/// Something a role may be allowed to do. Anonymous callers hold none: they see public
/// pages and aggregates and may use the anonymous report form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read event records (lists, pages, history), localities and actors, within the
    /// records the caller's organisation may see.
    ReadEvents,
    /// Export event records (HXL, GeoJSON, CSV), without personal fields.
    ExportEvents,
    /// Verify, reject, grade, merge and un-merge events; see the verification queue.
    VerifyEvents,
    /// Submit reports through the authenticated channels (API, SMS gateway, OpenRosa).
    SubmitReports,
    /// See the personal fields of records (people involved, reporter contact).
    ReadPersonal,
    /// Import datasets and boundaries.
    Import,
    /// Manage accounts and API tokens (an organisation admin: of their own organisation).
    ManageUsers,
    /// Create organisations and sharing agreements; see every organisation's records.
    ManageOrganisations,
    /// Acknowledge, respond to and close alerts.
    HandleAlerts,
}

impl Permission {
    /// Every permission.
    pub const ALL: [Permission; 9] = [
        Self::ReadEvents,
        Self::ExportEvents,
        Self::VerifyEvents,
        Self::SubmitReports,
        Self::ReadPersonal,
        Self::Import,
        Self::ManageUsers,
        Self::ManageOrganisations,
        Self::HandleAlerts,
    ];

    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReadEvents => "read_events",
            Self::ExportEvents => "export_events",
            Self::VerifyEvents => "verify_events",
            Self::SubmitReports => "submit_reports",
            Self::ReadPersonal => "read_personal",
            Self::Import => "import",
            Self::ManageUsers => "manage_users",
            Self::ManageOrganisations => "manage_organisations",
            Self::HandleAlerts => "handle_alerts",
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organisation every installation starts with; accounts, tokens and reports made
/// before organisations existed belong to it. (An identifier, not a secret.)
pub const DEFAULT_ORG: OrgId = OrgId(uuid::Uuid::from_u128(
    0x5a1a_4d3e_0004_4000_8000_0000_0000_0001,
));

/// An organisation: users, tokens and the records they create belong to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Id.
    pub id: OrgId,
    /// Unique short name (`unhcr-north`, `default`).
    pub name: String,
}

impl Organisation {
    /// Checks an organisation name: 1 to 64 letters, digits, `.`, `_` or `-`.
    pub fn check_name(name: &str) -> Result<&str, DomainError> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(DomainError::new(
                "organisation",
                "use 1-64 letters, digits, '.', '_' or '-'",
            ));
        }
        Ok(name)
    }
}

/// What one organisation shares with another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShareScope {
    /// Every record the organisation owns.
    All,
    /// Only its verified records.
    Verified,
}

impl ShareScope {
    /// The snake_case name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Verified => "verified",
        }
    }
}

impl FromStr for ShareScope {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(Self::All),
            "verified" => Ok(Self::Verified),
            _ => Err(DomainError::new(
                "scope",
                format!("'{s}' is not a sharing scope (all, verified)"),
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|r| r.as_str()).collect();
                DomainError::new(
                    "role",
                    format!("'{s}' is not a role (one of {})", names.join(", ")),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_manage_organisations_and_reporters_read_nothing() {
        for r in Role::ALL {
            assert_eq!(
                r.may(Permission::ManageOrganisations),
                r == Role::Admin,
                "{r}"
            );
            assert_eq!(r.may(Permission::Import), r == Role::Admin, "{r}");
        }
        assert_eq!(Role::Reporter.permissions(), &[Permission::SubmitReports]);
        assert!(Role::Analyst.can_verify() && !Role::Responder.can_verify());
        assert!(Role::OrgAdmin.may(Permission::ManageUsers));
        assert!("none".parse::<ShareScope>().is_err());
        assert!(Organisation::check_name("a b").is_err());
    }
}
