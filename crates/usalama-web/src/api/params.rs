//! Query-string parsing for the API: every parameter is checked, and a bad or unknown one is
//! answered with 400 naming it.

use crate::error::ApiError;
use chrono::NaiveDate;
use std::collections::HashMap;
use usalama_store::{Cursor, PageRequest};

/// The raw query string as name → value, refusing repeated or unknown names.
pub struct Params(HashMap<String, String>);

impl Params {
    /// Parses `raw`, allowing only `known` names.
    pub fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, ApiError> {
        let mut map = HashMap::new();
        for (k, v) in form_pairs(raw.unwrap_or("")) {
            if !known.contains(&k.as_str()) {
                return Err(ApiError::bad_parameter(
                    &k,
                    format!("unknown parameter '{k}'; known: {}", known.join(", ")),
                ));
            }
            if map.insert(k.clone(), v).is_some() {
                return Err(ApiError::bad_parameter(&k, format!("'{k}' is given twice")));
            }
        }
        Ok(Self(map))
    }

    /// A non-empty string value.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    /// A value parsed with `FromStr`, naming the parameter on failure.
    pub fn parsed<T: std::str::FromStr>(
        &self,
        name: &str,
        expected: &str,
    ) -> Result<Option<T>, ApiError> {
        self.str(name)
            .map(|s| {
                s.parse::<T>()
                    .map_err(|_| ApiError::bad_parameter(name, format!("'{s}' is not {expected}")))
            })
            .transpose()
    }

    /// An ISO 8601 date.
    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        self.parsed(name, "a date in the form YYYY-MM-DD")
    }

    /// `limit` (1..=1000, default 50) and `cursor`.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = self.parsed::<u32>("limit", "a whole number")?.unwrap_or(50);
        if !(1..=usalama_store::query::MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_parameter(
                "limit",
                format!("must be between 1 and {}", usalama_store::query::MAX_LIMIT),
            ));
        }
        let after = self
            .str("cursor")
            .map(|c| {
                Cursor::decode(c).map_err(|_| {
                    ApiError::bad_parameter("cursor", "the cursor is not valid for this list")
                })
            })
            .transpose()?;
        Ok(PageRequest { limit, after })
    }
}

/// Splits `a=1&b=x%20y` into decoded pairs.
pub fn form_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decodes a query component, `+` as space; invalid escapes are kept as typed.
fn decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let escaped = (b == b'%')
            .then(|| Some((hex(*bytes.get(i + 1)?)?, hex(*bytes.get(i + 2)?)?)))
            .flatten();
        match (b, escaped) {
            (_, Some((hi, lo))) => {
                out.push(hi * 16 + lo);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_rejects() {
        assert_eq!(
            form_pairs("q=Bambari+market&x=%C3%A9t%C3%A9&bad=%zz"),
            vec![
                ("q".to_string(), "Bambari market".to_string()),
                ("x".to_string(), "été".to_string()),
                ("bad".to_string(), "%zz".to_string())
            ]
        );
        assert!(Params::parse(Some("limt=5"), &["limit"]).is_err());
        assert!(Params::parse(Some("limit=5&limit=6"), &["limit"]).is_err());
        let p = Params::parse(Some("limit=0"), &["limit"]).unwrap();
        assert_eq!(p.page().unwrap_err().field.as_deref(), Some("limit"));
        let p = Params::parse(Some("from=2022-13-01"), &["from"]).unwrap();
        assert_eq!(p.date("from").unwrap_err().field.as_deref(), Some("from"));
    }
}
