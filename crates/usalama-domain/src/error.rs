//! The one error type of the domain: a value that failed validation, naming the field.

/// A value was rejected by a domain constructor. `field` names what was wrong in the
/// vocabulary of the entity (e.g. `latitude`, `killed_low`), so that importers and the API
/// can point the user at the exact field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct DomainError {
    /// The field that failed validation.
    pub field: &'static str,
    /// A short human-readable reason.
    pub reason: String,
}

impl DomainError {
    /// Builds an error for `field` with `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
