//! What can go wrong in an import: a [`Problem`] rejects one row or feature and the import
//! goes on; an [`IngestError`] means the file cannot be imported at all.

use std::fmt;

/// One rejected row or feature: the 1-based row (for CSV the line of the spreadsheet, the
/// header being row 1; for GeoJSON the feature's index + 1), the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based row or feature number.
    pub row: usize,
    /// The field (column or property) at fault, in the source's own vocabulary.
    pub field: String,
    /// A short human-readable reason.
    pub reason: String,
}

impl Problem {
    /// Builds a problem for `row` and `field`.
    pub fn new(row: usize, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            row,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}, field {}: {}", self.row, self.field, self.reason)
    }
}

impl std::error::Error for Problem {}

/// A fatal import error: the file cannot be imported at all. Each message is one line that
/// names the file problem or the missing columns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// The input could not be read (IO error, or text that is not UTF-8).
    #[error("cannot read the file: {0}")]
    Read(String),
    /// The input is not valid JSON.
    #[error("not valid JSON: {0}")]
    Json(String),
    /// The input is not valid CSV.
    #[error("not valid CSV: {0}")]
    Csv(String),
    /// The input is well-formed but not in the expected format (e.g. JSON that is not a
    /// GeoJSON FeatureCollection).
    #[error("unexpected format: {0}")]
    Format(String),
    /// Columns (or properties) without which no row can be imported are missing.
    #[error("required column(s) missing: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The taxonomy file is invalid; `line` is 1-based where known.
    #[error("taxonomy{}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default(), if key.is_empty() { String::new() } else { format!(", key {key}") })]
    Taxonomy {
        /// 1-based line of the offending value, where known.
        line: Option<usize>,
        /// The offending key (`category.dimension`, `ucdp.type_of_violence.4`, …).
        key: String,
        /// Why it was rejected.
        reason: String,
    },
    /// Another configuration file (`file` names which, e.g. `sms`) is invalid; `line` is
    /// 1-based where known.
    #[error("{file} file{}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default(), if key.is_empty() { String::new() } else { format!(", key {key}") })]
    Config {
        /// Which file: `sms` for the SMS syntax.
        file: &'static str,
        /// 1-based line of the offending value, where known.
        line: Option<usize>,
        /// The offending key.
        key: String,
        /// Why it was rejected.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_displays_row_and_field() {
        let p = Problem::new(12, "latitude", "95 is not between -90 and 90");
        assert_eq!(
            p.to_string(),
            "row 12, field latitude: 95 is not between -90 and 90"
        );
    }

    #[test]
    fn errors_are_one_line_and_name_what_is_wrong() {
        let e = IngestError::MissingColumns(vec!["best".into(), "id".into()]);
        assert_eq!(e.to_string(), "required column(s) missing: best, id");
        let e = IngestError::Taxonomy {
            line: Some(7),
            key: "category.dimension".into(),
            reason: "'live' is not one of lives, livelihood, dignity".into(),
        };
        assert_eq!(
            e.to_string(),
            "taxonomy, line 7, key category.dimension: 'live' is not one of lives, livelihood, dignity"
        );
        let e = IngestError::Taxonomy {
            line: None,
            key: String::new(),
            reason: "x".into(),
        };
        assert_eq!(e.to_string(), "taxonomy: x");
        assert!(
            !IngestError::Json("expected value at line 1 column 1".into())
                .to_string()
                .contains('\n')
        );
    }
}
