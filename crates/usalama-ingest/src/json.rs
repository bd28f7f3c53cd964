//! GeoJSON plumbing shared by the readers: splitting a document into features without
//! letting one malformed feature fail the whole file, and reading property values as text.

use crate::problem::IngestError;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A feature's properties and raw geometry, not yet interpreted.
pub(crate) struct RawFeature {
    /// The `properties` object (empty when null or absent).
    pub properties: Map<String, Value>,
    /// The `geometry` member, `None` when null or absent.
    pub geometry: Option<Value>,
}

/// Splits a GeoJSON FeatureCollection (or a single Feature) into its features. A feature
/// that is not an object becomes `Err(reason)` in its place; only a document that is not
/// JSON, or not a FeatureCollection/Feature, is an [`IngestError`].
pub(crate) fn features(json: &str) -> Result<Vec<Result<RawFeature, String>>, IngestError> {
    // A byte-order mark, which some editors write, is not JSON (RFC 8259 §8.1 lets a
    // reader ignore it).
    let json = json.strip_prefix('\u{feff}').unwrap_or(json);
    let doc: Value = serde_json::from_str(json).map_err(|e| IngestError::Json(e.to_string()))?;
    let Value::Object(mut doc) = doc else {
        return Err(IngestError::Format(
            "a GeoJSON FeatureCollection was expected, not a JSON array or value".into(),
        ));
    };
    let kind = doc
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    match kind.as_str() {
        "FeatureCollection" => match doc.remove("features") {
            Some(Value::Array(items)) => Ok(items.into_iter().map(split).collect()),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(_) => Err(IngestError::Format(
                "the FeatureCollection's \"features\" is not an array".into(),
            )),
        },
        "Feature" => Ok(vec![split(Value::Object(doc))]),
        "" => Err(IngestError::Format(
            "a GeoJSON FeatureCollection was expected: the JSON object has no \"type\"".into(),
        )),
        other => Err(IngestError::Format(format!(
            "a GeoJSON FeatureCollection was expected, found type \"{other}\""
        ))),
    }
}

fn split(v: Value) -> Result<RawFeature, String> {
    let Value::Object(mut f) = v else {
        return Err("is not a GeoJSON Feature object".into());
    };
    let properties = match f.remove("properties") {
        Some(Value::Object(p)) => p,
        Some(Value::Null) | None => Map::new(),
        Some(_) => return Err("\"properties\" is not an object".into()),
    };
    let geometry = match f.remove("geometry") {
        Some(Value::Null) | None => None,
        Some(g) => Some(g),
    };
    Ok(RawFeature {
        properties,
        geometry,
    })
}

/// A property value as trimmed text: strings as they are, numbers and booleans as JSON
/// writes them; `None` for null, blank strings, arrays and objects.
pub(crate) fn text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            (!s.is_empty()).then_some(Cow::Borrowed(s))
        }
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Finds a property by name, exactly first and then ignoring ASCII case.
pub(crate) fn get_ci<'a>(props: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    props.get(key).or_else(|| {
        props
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Decodes a GeoJSON geometry object.
pub(crate) fn geometry(v: Value) -> Result<geojson::GeometryValue, String> {
    serde_json::from_value::<geojson::Geometry>(v)
        .map(|g| g.value)
        .map_err(|e| format!("is not a valid GeoJSON geometry ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_collections_and_reports_bad_features_in_place() {
        let fs = features(r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"a":1},"geometry":null}, 3]}"#).unwrap();
        assert_eq!(fs.len(), 2);
        let first = fs[0].as_ref().unwrap();
        assert_eq!(text(&first.properties["a"]).as_deref(), Some("1"));
        assert!(first.geometry.is_none());
        assert!(fs[1].is_err());
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let fs = features("\u{feff}{\"type\":\"FeatureCollection\",\"features\":[]}").unwrap();
        assert!(fs.is_empty());
    }

    #[test]
    fn fatal_errors_for_non_geojson() {
        assert!(matches!(features("not json"), Err(IngestError::Json(_))));
        assert!(matches!(features("[1]"), Err(IngestError::Format(_))));
        assert!(matches!(
            features(r#"{"type":"Point","coordinates":[1,2]}"#),
            Err(IngestError::Format(m)) if m.contains("Point")
        ));
        assert_eq!(
            features(r#"{"type":"Feature","properties":null,"geometry":null}"#)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn text_and_case_insensitive_lookup() {
        let m: Map<String, Value> =
            serde_json::from_str(r#"{"ADM1_PCODE":"X1","n":2.5,"b":" ","z":null}"#).unwrap();
        assert_eq!(
            get_ci(&m, "adm1_pcode").and_then(text).as_deref(),
            Some("X1")
        );
        assert_eq!(get_ci(&m, "n").and_then(text).as_deref(), Some("2.5"));
        assert!(get_ci(&m, "b").and_then(text).is_none());
        assert!(get_ci(&m, "z").and_then(text).is_none());
        assert!(geometry(serde_json::json!({"type":"Polygon","coordinates":"x"})).is_err());
    }
}
