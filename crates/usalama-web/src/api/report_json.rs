//! Report objects read straight from the request's JSON text into [`ReportInput`]s,
//! without a `serde_json::Value` tree per report: every field is checked for its JSON type
//! (a wrong type or an unknown field becomes a [`FieldError`] carried along, never a failed
//! parse), with the same problems, in the same order, as reading a `Value` gave (unknown
//! fields first, in key order, then the known fields in a fixed order).

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;
use usalama_app::{FieldError, PersonInput, ReportInput};

/// The fields a report object may carry.
pub(crate) const FIELDS: &[&str] = &[
    "category",
    "occurred_start",
    "occurred_end",
    "latitude",
    "longitude",
    "place",
    "place_code",
    "killed",
    "injured",
    "displaced",
    "abducted",
    "description",
    "people",
    "reporter_contact",
    "external_id",
    "description_sensitive",
    "location_sensitive",
];

/// The fields of a person.
const PERSON_FIELDS: &[&str] = &["name", "age", "sex", "role"];

/// The slot of `people` in [`FIELDS`].
const PEOPLE: usize = 12;

/// A field's JSON value as read: a scalar kept as text, or only its JSON type.
#[derive(Default)]
enum Wire {
    /// Absent or `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A string.
    Str(String),
    /// A number, as JSON writes it back (`serde_json::Number`'s text).
    Num(String),
    /// An array or an object.
    Other,
}

struct WireVisitor;

impl<'de> Visitor<'de> for WireVisitor {
    type Value = Wire;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Wire, E> {
        Ok(Wire::Null)
    }
    fn visit_none<E>(self) -> Result<Wire, E> {
        Ok(Wire::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Wire, E> {
        Ok(Wire::Bool(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Wire, E> {
        Ok(Wire::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Wire, E> {
        Ok(Wire::Str(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Wire, E> {
        Ok(Wire::Num(serde_json::Number::from(v).to_string()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Wire, E> {
        Ok(Wire::Num(serde_json::Number::from(v).to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Wire, E> {
        // JSON holds finite numbers only.
        Ok(Wire::Num(
            serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
        ))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Wire, A::Error> {
        while s.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Wire::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Wire, A::Error> {
        while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Wire::Other)
    }
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WireVisitor)
    }
}

/// An object key: the position of a known field, or the unknown name.
enum Key {
    Known(usize),
    Unknown(String),
}

struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E>(self, v: &str) -> Result<Key, E> {
        Ok(match self.0.iter().position(|k| *k == v) {
            Some(i) => Key::Known(i),
            None => Key::Unknown(v.to_owned()),
        })
    }
}

/// An object's known fields by position (the last value of a repeated key wins, as in a
/// `Value`) and its unknown field names, sorted and without repeats.
struct Slots<T> {
    values: Vec<T>,
    unknown: Vec<String>,
}

fn read_slots<'de, A: MapAccess<'de>, T: Default>(
    mut m: A,
    names: &'static [&'static str],
    mut value: impl FnMut(usize, &mut A) -> Result<T, A::Error>,
) -> Result<Slots<T>, A::Error> {
    let mut values: Vec<T> = (0..names.len()).map(|_| T::default()).collect();
    let mut unknown = Vec::new();
    while let Some(k) = m.next_key_seed(KeySeed(names))? {
        match k {
            Key::Known(i) => values[i] = value(i, &mut m)?,
            Key::Unknown(name) => {
                m.next_value::<IgnoredAny>()?;
                unknown.push(name);
            }
        }
    }
    unknown.sort();
    unknown.dedup();
    Ok(Slots { values, unknown })
}

/// A person as read: its fields, or not an object.
enum PersonWire {
    Object(Slots<Wire>),
    NotObject,
}

impl<'de> Deserialize<'de> for PersonWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PersonWire;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a person")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<PersonWire, A::Error> {
                read_slots(m, PERSON_FIELDS, |_, m| m.next_value::<Wire>()).map(PersonWire::Object)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<PersonWire, A::Error> {
                WireVisitor.visit_seq(s).map(|_| PersonWire::NotObject)
            }
            fn visit_unit<E>(self) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
            fn visit_bool<E>(self, _: bool) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
            fn visit_str<E>(self, _: &str) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
            fn visit_u64<E>(self, _: u64) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
            fn visit_i64<E>(self, _: i64) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
            fn visit_f64<E>(self, _: f64) -> Result<PersonWire, E> {
                Ok(PersonWire::NotObject)
            }
        }
        d.deserialize_any(V)
    }
}

/// `people` as read.
#[derive(Default)]
enum PeopleWire {
    #[default]
    Null,
    List(Vec<PersonWire>),
    /// Not an array.
    Other,
}

impl<'de> Deserialize<'de> for PeopleWire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PeopleWire;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of people")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<PeopleWire, A::Error> {
                let mut out = Vec::with_capacity(s.size_hint().unwrap_or(1).min(100));
                while let Some(p) = s.next_element::<PersonWire>()? {
                    out.push(p);
                }
                Ok(PeopleWire::List(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<PeopleWire, A::Error> {
                WireVisitor.visit_map(m).map(|_| PeopleWire::Other)
            }
            fn visit_unit<E>(self) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Null)
            }
            fn visit_bool<E>(self, _: bool) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<PeopleWire, E> {
                Ok(PeopleWire::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A report field's slot: a scalar, or `people`.
#[derive(Default)]
enum Slot {
    #[default]
    Null,
    Value(Wire),
    People(PeopleWire),
}

fn flag(v: Wire, field: &str, errs: &mut Vec<FieldError>) -> bool {
    match v {
        Wire::Null => false,
        Wire::Bool(b) => b,
        _ => {
            errs.push(FieldError::new(field, "must be true or false"));
            false
        }
    }
}

fn text(v: Wire, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
    match v {
        Wire::Null => None,
        Wire::Str(s) => Some(s),
        _ => {
            errs.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

fn number(v: Wire, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
    match v {
        Wire::Null => None,
        Wire::Num(n) | Wire::Str(n) => Some(n),
        _ => {
            errs.push(FieldError::new(field, "must be a number"));
            None
        }
    }
}

/// At most 40 characters of an unknown field's name, as messages show it.
fn shown(name: &str) -> String {
    name.chars().take(40).collect()
}

/// The report of an object's slots.
fn report_of(slots: Slots<Slot>) -> ReportInput {
    let mut input = ReportInput::default();
    let errs = &mut input.wire_errors;
    for k in &slots.unknown {
        let shown = shown(k);
        let reason = format!("'{shown}' is not a field of a report");
        errs.push(FieldError::new(shown, reason));
    }
    let mut v = slots.values.into_iter().map(|s| match s {
        Slot::Value(w) => w,
        _ => Wire::Null,
    });
    let mut next = || v.next().unwrap_or_default();
    // In the order of FIELDS.
    input.category = text(next(), "category", errs);
    input.occurred_start = text(next(), "occurred_start", errs);
    input.occurred_end = text(next(), "occurred_end", errs);
    input.latitude = number(next(), "latitude", errs);
    input.longitude = number(next(), "longitude", errs);
    input.place = text(next(), "place", errs);
    input.place_code = text(next(), "place_code", errs);
    input.killed = number(next(), "killed", errs);
    input.injured = number(next(), "injured", errs);
    input.displaced = number(next(), "displaced", errs);
    input.abducted = number(next(), "abducted", errs);
    input.description = text(next(), "description", errs);
    // `people` (slot 12) is read by `add_people`, its problems last.
    next();
    input.reporter_contact = text(next(), "reporter_contact", errs);
    input.external_id = text(next(), "external_id", errs);
    input.description_sensitive = flag(next(), "description_sensitive", errs);
    input.location_sensitive = flag(next(), "location_sensitive", errs);
    input
}

/// Adds `people` to a report read by [`report_of`] (its problems come last, as before).
fn add_people(input: &mut ReportInput, people: PeopleWire) {
    let errs = &mut input.wire_errors;
    match people {
        PeopleWire::Null => {}
        PeopleWire::Other => errs.push(FieldError::new("people", "must be a list of people")),
        PeopleWire::List(list) => {
            input.people.reserve(list.len());
            for (i, p) in list.into_iter().enumerate() {
                let PersonWire::Object(p) = p else {
                    errs.push(FieldError::new(
                        format!("people[{i}]"),
                        "must be an object {name, age, sex, role}",
                    ));
                    continue;
                };
                for k in &p.unknown {
                    errs.push(FieldError::new(
                        format!("people[{i}].{}", shown(k)),
                        "is not a field of a person (name, age, sex, role)",
                    ));
                }
                let mut v = p.values.into_iter();
                let mut next = || v.next().unwrap_or_default();
                let (name, age, sex, role) = (next(), next(), next(), next());
                // Field names are only written for a value of the wrong type.
                let f = |n: &str| format!("people[{i}].{n}");
                let mut one = |w: Wire, n: &str, num: bool| match w {
                    Wire::Null => None,
                    Wire::Str(s) => Some(s),
                    Wire::Num(s) if num => Some(s),
                    _ => {
                        errs.push(FieldError::new(
                            f(n),
                            if num {
                                "must be a number"
                            } else {
                                "must be a string"
                            },
                        ));
                        None
                    }
                };
                input.people.push(PersonInput {
                    name: one(name, "name", false),
                    age: one(age, "age", true),
                    sex: one(sex, "sex", false),
                    role: one(role, "role", false),
                });
            }
        }
    }
}

/// One report as read from JSON.
pub(crate) struct WireReport(pub ReportInput);

impl<'de> Deserialize<'de> for WireReport {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireReport;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a report")
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<WireReport, A::Error> {
                let mut slots = read_slots(m, FIELDS, |i, m| {
                    Ok(if i == PEOPLE {
                        Slot::People(m.next_value::<PeopleWire>()?)
                    } else {
                        Slot::Value(m.next_value::<Wire>()?)
                    })
                })?;
                let people = match std::mem::take(&mut slots.values[PEOPLE]) {
                    Slot::People(p) => p,
                    _ => PeopleWire::Null,
                };
                let mut input = report_of(slots);
                add_people(&mut input, people);
                Ok(WireReport(input))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<WireReport, A::Error> {
                WireVisitor.visit_seq(s).map(|_| not_object())
            }
            fn visit_unit<E>(self) -> Result<WireReport, E> {
                Ok(not_object())
            }
            fn visit_bool<E>(self, _: bool) -> Result<WireReport, E> {
                Ok(not_object())
            }
            fn visit_str<E>(self, _: &str) -> Result<WireReport, E> {
                Ok(not_object())
            }
            fn visit_u64<E>(self, _: u64) -> Result<WireReport, E> {
                Ok(not_object())
            }
            fn visit_i64<E>(self, _: i64) -> Result<WireReport, E> {
                Ok(not_object())
            }
            fn visit_f64<E>(self, _: f64) -> Result<WireReport, E> {
                Ok(not_object())
            }
        }
        d.deserialize_any(V)
    }
}

fn not_object() -> WireReport {
    let mut input = ReportInput::default();
    input
        .wire_errors
        .push(FieldError::new("report", "must be a JSON object"));
    WireReport(input)
}

/// A batch body as read: its reports (an array, or `{"reports": [...]}` alone), or not
/// a batch.
pub(crate) enum WireBatch {
    /// The reports, in order.
    Reports(Vec<ReportInput>),
    /// Any other JSON value.
    NotBatch,
}

struct ReportsSeq;

impl<'de> Visitor<'de> for ReportsSeq {
    type Value = Option<Vec<ReportInput>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of reports")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0));
        while let Some(WireReport(r)) = s.next_element::<WireReport>()? {
            out.push(r);
        }
        Ok(Some(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
        WireVisitor.visit_map(m).map(|_| None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
}

impl<'de> DeserializeSeed<'de> for ReportsSeq {
    type Value = Option<Vec<ReportInput>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Deserialize<'de> for WireBatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireBatch;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a batch of reports")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<WireBatch, A::Error> {
                Ok(ReportsSeq
                    .visit_seq(s)?
                    .map_or(WireBatch::NotBatch, WireBatch::Reports))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<WireBatch, A::Error> {
                // `{"reports": [...]}` and nothing else (a repeated key: the last wins).
                let (mut reports, mut other) = (None, false);
                while let Some(k) = m.next_key_seed(KeySeed(&["reports"]))? {
                    match k {
                        Key::Known(_) => reports = m.next_value_seed(ReportsSeq)?,
                        Key::Unknown(_) => {
                            m.next_value::<IgnoredAny>()?;
                            other = true;
                        }
                    }
                }
                Ok(match reports {
                    Some(r) if !other => WireBatch::Reports(r),
                    _ => WireBatch::NotBatch,
                })
            }
            fn visit_unit<E>(self) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
            fn visit_bool<E>(self, _: bool) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
            fn visit_str<E>(self, _: &str) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
            fn visit_u64<E>(self, _: u64) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
            fn visit_i64<E>(self, _: i64) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
            fn visit_f64<E>(self, _: f64) -> Result<WireBatch, E> {
                Ok(WireBatch::NotBatch)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    // The reading through a `Value` tree that this module replaced, kept as the oracle.
    const OLD_FIELDS: &[&str] = FIELDS;
    fn flag(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> bool {
        match v {
            Value::Null => false,
            Value::Bool(b) => *b,
            _ => {
                errs.push(FieldError::new(field, "must be true or false"));
                false
            }
        }
    }

    fn text(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            _ => {
                errs.push(FieldError::new(field, "must be a string"));
                None
            }
        }
    }

    fn number(v: &Value, field: &str, errs: &mut Vec<FieldError>) -> Option<String> {
        match v {
            Value::Null => None,
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) => Some(s.clone()),
            _ => {
                errs.push(FieldError::new(field, "must be a number"));
                None
            }
        }
    }

    /// A report object as the application's input; problems of JSON type are carried along.
    fn reference(v: &Value) -> ReportInput {
        let mut input = ReportInput::default();
        let Value::Object(obj) = v else {
            input
                .wire_errors
                .push(FieldError::new("report", "must be a JSON object"));
            return input;
        };
        let errs = &mut input.wire_errors;
        for k in obj.keys() {
            if !OLD_FIELDS.contains(&k.as_str()) {
                let shown: String = k.chars().take(40).collect();
                errs.push(FieldError::new(
                    shown.clone(),
                    format!("'{shown}' is not a field of a report"),
                ));
            }
        }
        let get = |k: &str| obj.get(k).unwrap_or(&Value::Null);
        input.category = text(get("category"), "category", errs);
        input.occurred_start = text(get("occurred_start"), "occurred_start", errs);
        input.occurred_end = text(get("occurred_end"), "occurred_end", errs);
        input.latitude = number(get("latitude"), "latitude", errs);
        input.longitude = number(get("longitude"), "longitude", errs);
        input.place = text(get("place"), "place", errs);
        input.place_code = text(get("place_code"), "place_code", errs);
        input.killed = number(get("killed"), "killed", errs);
        input.injured = number(get("injured"), "injured", errs);
        input.displaced = number(get("displaced"), "displaced", errs);
        input.abducted = number(get("abducted"), "abducted", errs);
        input.description = text(get("description"), "description", errs);
        input.reporter_contact = text(get("reporter_contact"), "reporter_contact", errs);
        input.external_id = text(get("external_id"), "external_id", errs);
        input.description_sensitive =
            flag(get("description_sensitive"), "description_sensitive", errs);
        input.location_sensitive = flag(get("location_sensitive"), "location_sensitive", errs);
        match get("people") {
            Value::Null => {}
            Value::Array(people) => {
                for (i, p) in people.iter().enumerate() {
                    let f = |n: &str| format!("people[{i}].{n}");
                    let Value::Object(p) = p else {
                        errs.push(FieldError::new(
                            format!("people[{i}]"),
                            "must be an object {name, age, sex, role}",
                        ));
                        continue;
                    };
                    for k in p.keys() {
                        if !["name", "age", "sex", "role"].contains(&k.as_str()) {
                            let shown: String = k.chars().take(40).collect();
                            errs.push(FieldError::new(
                                f(&shown),
                                "is not a field of a person (name, age, sex, role)",
                            ));
                        }
                    }
                    let g = |k: &str| p.get(k).unwrap_or(&Value::Null);
                    input.people.push(PersonInput {
                        name: text(g("name"), &f("name"), errs),
                        age: number(g("age"), &f("age"), errs),
                        sex: text(g("sex"), &f("sex"), errs),
                        role: text(g("role"), &f("role"), errs),
                    });
                }
            }
            _ => errs.push(FieldError::new("people", "must be a list of people")),
        }
        input
    }

    fn one(text: &str) -> ReportInput {
        serde_json::from_str::<WireReport>(text).unwrap().0
    }

    #[test]
    fn json_types_and_unknown_fields_are_named() {
        let r = one(
            r#"{"category": 3, "killed": "4", "injured": -1, "latitude": true, "kiled": 2,
                "people": [{"name": "A", "age": 30, "eyes": "brown"}, 5]}"#,
        );
        let mut fields: Vec<&str> = r.wire_errors.iter().map(|e| e.field.as_str()).collect();
        fields.sort();
        assert_eq!(
            fields,
            vec![
                "category",
                "kiled",
                "latitude",
                "people[0].eyes",
                "people[1]"
            ]
        );
        assert_eq!(r.killed.as_deref(), Some("4"));
        assert_eq!(
            r.injured.as_deref(),
            Some("-1"),
            "checked by the application"
        );
        assert_eq!(r.people[0].age.as_deref(), Some("30"));
        assert_eq!(one("[1]").wire_errors[0].field, "report");
    }

    #[test]
    fn reports_read_straight_from_the_text_equal_those_read_through_a_value() {
        let long = "k".repeat(60);
        let cases = [
            r#"{}"#.to_string(),
            r#"{"category": "armed_violence", "occurred_start": "2024-01-02", "latitude": 4.36,
                "longitude": 18.55, "killed": 2, "injured": 30.0, "displaced": 1e21,
                "abducted": -0.0, "description": "x\u00e9\n", "reporter_contact": "+236",
                "people": [{"name": "A", "age": "31", "sex": "f", "role": "witness"}],
                "external_id": "e-1", "description_sensitive": true, "location_sensitive": false}"#
                .to_string(),
            r#"{"zeta": 1, "alpha": [1, {"b": 2}], "alpha": null, "category": null,
                "people": {"name": "A"}, "description_sensitive": "yes", "place": 5,
                "place_code": ["a"], "occurred_end": {"a": 1}, "killed": true,
                "category": "abduction"}"#
                .to_string(),
            format!(
                r#"{{"{long}": 1, "people": [null, [], "x", {{"{long}": 2, "age": true,
                "sex": 4, "name": null, "role": {{}}}}], "latitude": "4.5", "longitude": 1.25e-3}}"#
            ),
            r#"{"people": "none", "location_sensitive": 0}"#.to_string(),
            r#"{"people": null, "killed": 18446744073709551615, "injured": -9223372036854775808}"#
                .to_string(),
            "5".into(),
            "null".into(),
            r#""text""#.into(),
            "[1, 2]".into(),
        ];
        for c in &cases {
            let v: Value = serde_json::from_str(c).unwrap();
            assert_eq!(one(c), reference(&v), "{c}");
            let a = one(c);
            let b = reference(&v);
            assert_eq!(a.wire_errors, b.wire_errors, "{c}");
            assert_eq!(
                (&a.killed, &a.injured, &a.displaced, &a.abducted),
                (&b.killed, &b.injured, &b.displaced, &b.abducted),
                "{c}"
            );
        }
    }

    #[test]
    fn batches_are_arrays_or_a_lone_reports_key() {
        let n = |t: &str| match serde_json::from_str::<WireBatch>(t).unwrap() {
            WireBatch::Reports(r) => Some(r.len()),
            WireBatch::NotBatch => None,
        };
        assert_eq!(n(r#"[{}, {"category": "x"}, 3]"#), Some(3));
        assert_eq!(n(r#"{"reports": [{}]}"#), Some(1));
        assert_eq!(n(r#"{"reports": []}"#), Some(0));
        assert_eq!(n(r#"{"reports": [{}], "more": 1}"#), None);
        assert_eq!(n(r#"{"reports": {}}"#), None);
        assert_eq!(n(r#"{"other": []}"#), None);
        assert_eq!(n("{}"), None);
        assert_eq!(n("7"), None);
        assert!(serde_json::from_str::<WireBatch>("[{} {}]").is_err());
        assert!(serde_json::from_str::<WireBatch>("[{}] x").is_err());
    }
}
