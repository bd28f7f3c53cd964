//! Roles of the people who use Usalama. Full permissions come with the safety layer; the
//! roles are named here so that tokens and accounts can carry them from the start.

use crate::error::DomainError;
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
        !matches!(self, Self::Reporter)
    }

    /// Whether this role may verify, reject, grade and merge event records (analysts and
    /// administrators).
    pub fn can_verify(&self) -> bool {
        matches!(self, Self::Analyst | Self::Admin)
    }

    /// Whether this role may read the personal data of a record (people involved, the
    /// reporter's contact, sensitive text and exact points, attachments): the roles that
    /// work cases (analysts, responders, ombudsman, vetting and DDR officers) and system
    /// administrators. Not reporters, and not organisation administrators, who manage
    /// accounts rather than cases. Every such read is audited.
    pub fn may_read_personal(&self) -> bool {
        matches!(
            self,
            Self::Analyst
                | Self::Responder
                | Self::OmbudsmanOfficer
                | Self::VettingOfficer
                | Self::DdrOfficer
                | Self::Admin
        )
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
