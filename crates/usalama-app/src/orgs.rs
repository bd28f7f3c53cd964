//! Organisations and what they share: the use-cases that create them and their sharing
//! agreements, and [`App::visibility`], the filter every record query gets from its caller.
//!
//! The model: every account and token belongs to one organisation; every record created
//! through a channel or by an organisation's import belongs to that organisation, while
//! open datasets (UCDP, ACLED, the operator's imports) are public data with no owner. A
//! caller sees public data, its organisation's records and what other organisations share
//! with it (all their records or only verified ones). Administrators see everything.

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use usalama_domain::{Event, OrgId, Organisation, Permission, ShareScope, VerificationStatus};
use usalama_store::{StoreError, Visibility};
use uuid::Uuid;

impl App {
    /// The records `who` may see. Administrators (and the operator) see all; everyone
    /// else public data, their organisation's records and what is shared with it. An
    /// anonymous caller sees public data only (and may read no records anyway).
    pub fn visibility(&self, who: &Principal) -> Result<Visibility, AppError> {
        if who.may(Permission::ManageOrganisations) {
            return Ok(Visibility::All);
        }
        let Some(org) = who.org() else {
            return Ok(Visibility::Org {
                org: OrgId::from_uuid(Uuid::nil()),
                shared: Vec::new(),
            });
        };
        let shared = self
            .store
            .shares_to(org)?
            .into_iter()
            .map(|s| (s.from, s.scope))
            .collect();
        Ok(Visibility::Org { org, shared })
    }

    /// Whether `v` admits the event.
    pub(crate) fn admits(v: &Visibility, e: &Event) -> bool {
        v.admits(
            e.meta.owner_org,
            matches!(e.status, VerificationStatus::Verified),
        )
    }

    /// Fails with `NotFound` (never "forbidden": that would tell the record exists) when
    /// `who` may not see the event.
    pub(crate) fn require_visible(&self, who: &Principal, e: &Event) -> Result<(), AppError> {
        if Self::admits(&self.visibility(who)?, e) {
            Ok(())
        } else {
            Err(AppError::NotFound("event"))
        }
    }

    /// Creates an organisation (administrators only).
    pub fn create_org(&self, who: &Principal, name: &str) -> Result<Organisation, AppError> {
        self.require(who, Permission::ManageOrganisations)?;
        let name = Organisation::check_name(name)
            .map_err(|e| AppError::invalid("organisation", e.to_string()))?;
        let org = Organisation {
            id: OrgId::from_uuid(Uuid::new_v4()),
            name: name.to_string(),
        };
        match self.store.insert_org(&org, self.now()) {
            Ok(()) => {
                self.audit(
                    who,
                    "org.add",
                    ("organisation", org.name.clone()),
                    serde_json::json!({}),
                )?;
                Ok(org)
            }
            Err(StoreError::Conflict(_)) => Err(AppError::invalid(
                "organisation",
                format!("an organisation named '{name}' exists"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// An organisation by name, or an invalid-parameter error naming it.
    pub fn org_by_name(&self, name: &str) -> Result<Organisation, AppError> {
        self.store.find_org(name.trim())?.ok_or_else(|| {
            AppError::invalid(
                "organisation",
                format!("no organisation is named '{}'", name.trim()),
            )
        })
    }

    /// Every organisation (administrators only).
    pub fn list_orgs(&self, who: &Principal) -> Result<Vec<Organisation>, AppError> {
        self.require(who, Permission::ManageOrganisations)?;
        Ok(self.store.list_orgs()?)
    }

    /// Lets `to` see `from`'s records (all or verified ones), or with `None` stops it
    /// (administrators only). Takes effect at the next request of `to`'s members.
    pub fn set_share(
        &self,
        who: &Principal,
        from: OrgId,
        to: OrgId,
        scope: Option<ShareScope>,
    ) -> Result<(), AppError> {
        self.require(who, Permission::ManageOrganisations)?;
        if from == to {
            return Err(AppError::invalid(
                "to",
                "an organisation always sees its own records",
            ));
        }
        self.store.set_share(from, to, scope, self.now())?;
        self.audit(
            who,
            "org.share",
            ("organisation", from.to_string()),
            serde_json::json!({"to": to.to_string(), "scope": scope.map(|s| s.as_str())}),
        )?;
        // Cached totals are per filter, and the filter now means something else.
        self.cache.events_changed();
        Ok(())
    }
}
