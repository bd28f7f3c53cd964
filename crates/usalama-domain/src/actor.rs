//! Actors: the armed groups, security forces, authorities and communities that events involve.

use crate::error::DomainError;
use crate::ids::ActorId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// What kind of actor this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Army, police, gendarmerie and other state forces.
    StateSecurityForce,
    /// Rebel and other non-state armed groups.
    NonStateArmedGroup,
    /// Militias and community self-defence groups.
    Militia,
    /// Criminal groups and gangs.
    CriminalGroup,
    /// Private security and military companies.
    PrivateSecurityCompany,
    /// Civilians and communities.
    Civilians,
    /// Civil-society organisations.
    CivilSociety,
    /// Government authorities other than security forces.
    GovernmentAuthority,
    /// International organisations and missions.
    InternationalOrganisation,
}

impl ActorKind {
    /// Every kind, in a stable order.
    pub const ALL: [ActorKind; 9] = [
        Self::StateSecurityForce,
        Self::NonStateArmedGroup,
        Self::Militia,
        Self::CriminalGroup,
        Self::PrivateSecurityCompany,
        Self::Civilians,
        Self::CivilSociety,
        Self::GovernmentAuthority,
        Self::InternationalOrganisation,
    ];

    /// The snake_case name used in the API and the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::StateSecurityForce => "state_security_force",
            Self::NonStateArmedGroup => "non_state_armed_group",
            Self::Militia => "militia",
            Self::CriminalGroup => "criminal_group",
            Self::PrivateSecurityCompany => "private_security_company",
            Self::Civilians => "civilians",
            Self::CivilSociety => "civil_society",
            Self::GovernmentAuthority => "government_authority",
            Self::InternationalOrganisation => "international_organisation",
        }
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ActorKind {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| DomainError::new("kind", format!("'{s}' is not an actor kind")))
    }
}

/// Identifiers the actor has in external datasets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalActorIds {
    /// UCDP actor id (`side_a_new_id`, `ActorId` in the actor dataset).
    pub ucdp_id: Option<i64>,
    /// ACLED's actor name, which is ACLED's only actor key.
    pub acled_name: Option<String>,
}

/// A named actor with its aliases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Stable id.
    pub id: ActorId,
    /// Display name.
    pub name: String,
    /// Other names the actor is known by.
    pub aliases: Vec<String>,
    /// What kind of actor it is.
    pub kind: ActorKind,
    /// Ids in UCDP and ACLED.
    pub external: ExternalActorIds,
}

impl Actor {
    /// Builds an actor; the name must be 1-300 characters.
    pub fn new(
        id: ActorId,
        name: &str,
        kind: ActorKind,
        external: ExternalActorIds,
    ) -> Result<Self, DomainError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 300 {
            return Err(DomainError::new("name", "must have 1 to 300 characters"));
        }
        Ok(Self {
            id,
            name: name.to_string(),
            aliases: Vec::new(),
            kind,
            external,
        })
    }

    /// Adds aliases, dropping blanks and duplicates.
    pub fn with_aliases(mut self, aliases: impl IntoIterator<Item = String>) -> Self {
        for a in aliases {
            let a = a.trim().to_string();
            if !a.is_empty() && a != self.name && !self.aliases.contains(&a) {
                self.aliases.push(a);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for k in ActorKind::ALL {
            assert_eq!(k.as_str().parse::<ActorKind>().unwrap(), k);
        }
        assert!("army".parse::<ActorKind>().is_err());
    }

    #[test]
    fn blank_name_rejected_and_aliases_deduplicated() {
        let id = ActorId::derived("a");
        assert!(Actor::new(id, "  ", ActorKind::Militia, Default::default()).is_err());
        let a = Actor::new(id, "LRA", ActorKind::NonStateArmedGroup, Default::default())
            .unwrap()
            .with_aliases(["LRA".into(), "Lord's Resistance Army".into(), " ".into()]);
        assert_eq!(a.aliases, vec!["Lord's Resistance Army".to_string()]);
    }
}
