//! Typed identifiers. Every entity has a UUID; the types keep an event id from being passed
//! where a locality id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $ns:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID.
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            /// The inner UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// A stable id derived from a natural key (UUIDv5), so that the same record
            /// imported twice, on any installation, gets the same id.
            pub fn derived(key: &str) -> Self {
                Self(Uuid::new_v5(&$ns, key.as_bytes()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

const NS_EVENT: Uuid = Uuid::from_u128(0x5a1a_4d3e_0001_4000_8000_0000_0000_0001);
const NS_LOCALITY: Uuid = Uuid::from_u128(0x5a1a_4d3e_0002_4000_8000_0000_0000_0002);
const NS_ACTOR: Uuid = Uuid::from_u128(0x5a1a_4d3e_0003_4000_8000_0000_0000_0003);
const NS_ORG: Uuid = Uuid::from_u128(0x5a1a_4d3e_0004_4000_8000_0000_0000_0004);
const NS_ALERT: Uuid = Uuid::from_u128(0x5a1a_4d3e_0006_4000_8000_0000_0000_0006);
const NS_SUBSCRIPTION: Uuid = Uuid::from_u128(0x5a1a_4d3e_0007_4000_8000_0000_0000_0007);

typed_id!(
    /// Identifies an [`Event`](crate::Event).
    EventId,
    NS_EVENT
);
typed_id!(
    /// Identifies a [`Locality`](crate::Locality).
    LocalityId,
    NS_LOCALITY
);
typed_id!(
    /// Identifies an [`Actor`](crate::Actor).
    ActorId,
    NS_ACTOR
);
typed_id!(
    /// Identifies an [`Organisation`](crate::Organisation).
    OrgId,
    NS_ORG
);

typed_id!(
    /// Identifies an [`Alert`](crate::alert::Alert); derived from its deduplication key
    /// (rule, locality, period), so the same firing always gets the same id.
    AlertId,
    NS_ALERT
);
typed_id!(
    /// Identifies an alert [`Subscription`](crate::alert::Subscription).
    SubscriptionId,
    NS_SUBSCRIPTION
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_distinct_per_kind() {
        assert_eq!(EventId::derived("ucdp:1"), EventId::derived("ucdp:1"));
        assert_ne!(EventId::derived("ucdp:1"), EventId::derived("ucdp:2"));
        assert_ne!(
            EventId::derived("x").as_uuid(),
            LocalityId::derived("x").as_uuid()
        );
    }

    #[test]
    fn parses_and_displays() {
        let id = ActorId::derived("ucdp:90");
        assert_eq!(id.to_string().parse::<ActorId>().unwrap(), id);
        assert!("not-a-uuid".parse::<ActorId>().is_err());
    }
}
