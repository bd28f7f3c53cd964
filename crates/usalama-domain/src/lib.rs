//! The domain model of Usalama: localities, actors, events, indicator observations and the
//! human-security taxonomy, as typed values that are valid by construction.
//!
//! This crate knows nothing about HTTP, databases, files, the clock or randomness: callers
//! pass ids and timestamps in, and every constructor validates what it is given.

pub mod actor;
pub mod alert;
pub mod error;
pub mod event;
pub mod ids;
pub mod indicator;
pub mod locality;
pub mod place;
pub mod source_codes;
pub mod taxonomy;
pub mod user;
pub mod verification;

pub use actor::{Actor, ActorKind, ExternalActorIds};
pub use error::DomainError;
pub use event::{
    ActorRole, Casualties, Channel, DatePrecision, Event, EventActor, EventData,
    InformationCredibility, Person, RecordMeta, Sex, SourceReliability, VerificationStatus,
};
pub use ids::{ActorId, AlertId, EventId, LocalityId, OrgId, SubscriptionId};
pub use indicator::IndicatorObservation;
pub use locality::{AdminLevel, Locality, LocalityCode, LocalityPath};
pub use place::{GeoPoint, LocationPrecision};
pub use source_codes::SourceCodes;
pub use taxonomy::{Category, Dimension, Taxonomy};
pub use user::{Organisation, Permission, Role, ShareScope, DEFAULT_ORG};
pub use verification::{
    Decision, DecisionStatus, DuplicateMatch, DuplicateRules, MergeRefusal, Severity,
};
