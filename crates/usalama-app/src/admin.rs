//! What the administration pages list: the accounts an administrator may manage (an
//! organisation admin: its own organisation's; a system admin: every account). The
//! actions themselves (add, disable, unlock, reset the second factor, organisations and
//! sharing) are the same use-cases the command line calls, each audited.

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::collections::HashMap;
use usalama_domain::{Permission, Role};

/// An account as the administration page lists it (no secret, no hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSummary {
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// The organisation's name.
    pub org: String,
    /// Disabled.
    pub disabled: bool,
    /// Locked after failed log-ins (now).
    pub locked: bool,
    /// A TOTP second factor is enrolled.
    pub totp: bool,
}

impl App {
    /// The accounts `who` may manage, by name: an organisation admin's own organisation's,
    /// every account for a system admin (or the operator).
    pub fn list_accounts(&self, who: &Principal) -> Result<Vec<AccountSummary>, AppError> {
        self.require(who, Permission::ManageUsers)?;
        let org = match who.role() {
            Some(Role::Admin) | None => None,
            Some(_) => who.org(),
        };
        let names: HashMap<_, _> = self
            .store
            .list_orgs()?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let now = self.now();
        Ok(self
            .store
            .list_users(org)?
            .into_iter()
            .map(|u| AccountSummary {
                org: names.get(&u.org).cloned().unwrap_or_default(),
                disabled: u.disabled_at.is_some(),
                locked: u.locked_until.is_some_and(|t| t > now),
                totp: u.totp_secret.is_some(),
                role: u.role,
                username: u.username,
            })
            .collect())
    }
}
