//! The human-security taxonomy: three dimensions, their categories, and the tables that map
//! source taxonomies (UCDP `type_of_violence`, ACLED event and sub-event types) into it.
//!
//! The default taxonomy is a data file an administrator can edit (`config/taxonomy.toml`);
//! this module only holds the validated model. Reading the file is the ingest crate's job.

use crate::error::DomainError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// The three dimensions of human security.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// Freedom from fear: violence, hazards, displacement.
    Lives,
    /// Freedom from want: food, water, health, schooling, income.
    Livelihood,
    /// Human rights, identity and respect.
    Dignity,
}

impl Dimension {
    /// All dimensions in their conventional order.
    pub const ALL: [Dimension; 3] = [Self::Lives, Self::Livelihood, Self::Dignity];

    /// The lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Lives => "lives",
            Self::Livelihood => "livelihood",
            Self::Dignity => "dignity",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dimension {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lives" => Ok(Self::Lives),
            "livelihood" => Ok(Self::Livelihood),
            "dignity" => Ok(Self::Dignity),
            _ => Err(DomainError::new(
                "dimension",
                format!("'{s}' is not one of lives, livelihood, dignity"),
            )),
        }
    }
}

/// A category of the taxonomy, such as `violence_against_civilians`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Category {
    /// Stable code, `[a-z0-9_]`.
    pub code: String,
    /// The dimension it belongs to.
    pub dimension: Dimension,
    /// Plain-words labels by language tag (`en`, `fr`, …); `en` is required.
    pub labels: BTreeMap<String, String>,
    /// Whether public figures that count events of this category need the larger
    /// suppression threshold (sexual and gender-based violence, child protection).
    #[serde(default)]
    pub sensitive: bool,
}

impl Category {
    /// The label in `lang`, falling back to English.
    pub fn label(&self, lang: &str) -> &str {
        self.labels
            .get(lang)
            .or_else(|| self.labels.get("en"))
            .map(String::as_str)
            .unwrap_or(&self.code)
    }
}

/// The validated taxonomy with its source mappings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxonomy {
    categories: Vec<Category>,
    index: HashMap<String, usize>,
    ucdp: BTreeMap<u8, String>,
    acled: BTreeMap<(String, String), String>,
}

impl Taxonomy {
    /// Validates categories (unique codes, English labels) and checks that every mapping
    /// targets a known category. `acled` keys are `(event_type, sub_event_type)`; an empty
    /// sub-event type is the fallback for its event type.
    pub fn new(
        categories: Vec<Category>,
        ucdp: BTreeMap<u8, String>,
        acled: BTreeMap<(String, String), String>,
    ) -> Result<Self, DomainError> {
        let mut index = HashMap::new();
        for (i, c) in categories.iter().enumerate() {
            if c.code.is_empty()
                || !c
                    .code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
            {
                return Err(DomainError::new(
                    "category",
                    format!("code '{}' must use lowercase letters, digits and _", c.code),
                ));
            }
            if !c.labels.contains_key("en") {
                return Err(DomainError::new(
                    "category",
                    format!("'{}' has no English label", c.code),
                ));
            }
            if index.insert(c.code.clone(), i).is_some() {
                return Err(DomainError::new(
                    "category",
                    format!("code '{}' appears twice", c.code),
                ));
            }
        }
        for (k, v) in &ucdp {
            if !index.contains_key(v) {
                return Err(DomainError::new(
                    "ucdp",
                    format!("type_of_violence {k} maps to unknown category '{v}'"),
                ));
            }
        }
        for ((t, s), v) in &acled {
            if !index.contains_key(v) {
                return Err(DomainError::new(
                    "acled",
                    format!("'{t}' / '{s}' maps to unknown category '{v}'"),
                ));
            }
        }
        Ok(Self {
            categories,
            index,
            ucdp,
            acled,
        })
    }

    /// All categories in file order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The category with this code.
    pub fn category(&self, code: &str) -> Option<&Category> {
        self.index.get(code).map(|&i| &self.categories[i])
    }

    /// The category for a UCDP `type_of_violence` code.
    pub fn map_ucdp(&self, type_of_violence: u8) -> Option<&Category> {
        self.ucdp
            .get(&type_of_violence)
            .and_then(|c| self.category(c))
    }

    /// The category for an ACLED event type and sub-event type (case-insensitive), falling
    /// back to the event type's default.
    pub fn map_acled(&self, event_type: &str, sub_event_type: &str) -> Option<&Category> {
        let t = event_type.trim().to_lowercase();
        let s = sub_event_type.trim().to_lowercase();
        self.acled
            .get(&(t.clone(), s))
            .or_else(|| self.acled.get(&(t, String::new())))
            .and_then(|c| self.category(c))
    }

    /// The UCDP mapping table.
    pub fn ucdp_mapping(&self) -> &BTreeMap<u8, String> {
        &self.ucdp
    }

    /// The ACLED mapping table (keys lower-cased).
    pub fn acled_mapping(&self) -> &BTreeMap<(String, String), String> {
        &self.acled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cat(code: &str, d: Dimension) -> Category {
        Category {
            code: code.into(),
            dimension: d,
            labels: [("en".to_string(), code.to_string())].into(),
            sensitive: false,
        }
    }

    #[test]
    fn rejects_duplicates_and_dangling_mappings() {
        let dup = vec![cat("a", Dimension::Lives), cat("a", Dimension::Dignity)];
        assert!(Taxonomy::new(dup, Default::default(), Default::default()).is_err());
        let ucdp = [(1u8, "missing".to_string())].into();
        assert_eq!(
            Taxonomy::new(vec![cat("a", Dimension::Lives)], ucdp, Default::default())
                .unwrap_err()
                .field,
            "ucdp"
        );
    }

    #[test]
    fn acled_falls_back_to_event_type() {
        let acled = [
            (("battles".to_string(), String::new()), "a".to_string()),
            (
                (
                    "violence against civilians".to_string(),
                    "sexual violence".to_string(),
                ),
                "b".to_string(),
            ),
        ]
        .into();
        let t = Taxonomy::new(
            vec![cat("a", Dimension::Lives), cat("b", Dimension::Lives)],
            Default::default(),
            acled,
        )
        .unwrap();
        assert_eq!(t.map_acled("Battles", "Armed clash").unwrap().code, "a");
        assert_eq!(
            t.map_acled("Violence against civilians", "Sexual violence")
                .unwrap()
                .code,
            "b"
        );
        assert!(t.map_acled("Protests", "Peaceful protest").is_none());
    }
}
