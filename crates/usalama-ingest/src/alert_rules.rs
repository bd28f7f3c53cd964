//! Reads the alert rules file (`config/alerts.toml`, compiled in as
//! [`DEFAULT_ALERT_RULES`]) into the domain's [`Rule`]s. Every mistake names the line and
//! the key: a TOML syntax error, an unknown key, a key the rule's kind does not take, a
//! duplicate id, a category the taxonomy lacks, or a number out of range.

use crate::problem::IngestError;
use serde::Deserialize;
use std::collections::HashSet;
use toml::Spanned;
use usalama_domain::alert::{
    AlertSeverity, Certainty, DetectorKind, Rule, RuleKind, SeriesMeasure, Urgency,
};
use usalama_domain::{AdminLevel, Dimension, Taxonomy};

/// The default alert rules shipped with Usalama.
pub const DEFAULT_ALERT_RULES: &str = include_str!("../../../config/alerts.toml");

/// The rules and when they are evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRules {
    /// The enabled rules, in file order.
    pub rules: Vec<Rule>,
    /// Minutes between scheduled evaluations in the server.
    pub schedule_minutes: u32,
    /// Event rules look at events that ended within this many days of the source's latest.
    pub window_days: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    settings: Settings,
    #[serde(default)]
    rule: Vec<Spanned<RuleEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "default_schedule")]
    schedule_minutes: Spanned<i64>,
    #[serde(default = "default_window")]
    window_days: Spanned<i64>,
}

fn default_schedule() -> Spanned<i64> {
    Spanned::new(0..0, 15)
}
fn default_window() -> Spanned<i64> {
    Spanned::new(0..0, 31)
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            schedule_minutes: default_schedule(),
            window_days: default_window(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleEntry {
    id: Spanned<String>,
    name: Spanned<String>,
    kind: Spanned<String>,
    #[serde(default)]
    level: Option<Spanned<String>>,
    severity: Spanned<String>,
    urgency: Spanned<String>,
    certainty: Spanned<String>,
    #[serde(default)]
    enabled: Option<bool>,
    // index_threshold
    threshold: Option<Spanned<f64>>,
    dimension: Option<Spanned<String>>,
    // detector
    method: Option<Spanned<String>>,
    measure: Option<Spanned<String>>,
    false_alarm: Option<Spanned<f64>>,
    // forecast
    probability: Option<Spanned<f64>>,
    horizon: Option<Spanned<i64>>,
    // events
    #[serde(default)]
    categories: Option<Spanned<Vec<String>>>,
    min_fatalities: Option<Spanned<i64>>,
    // verified_report
    localities: Option<Spanned<Vec<String>>>,
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

fn err<T>(text: &str, at: &Spanned<T>, key: &str, reason: impl Into<String>) -> IngestError {
    let span = at.span();
    IngestError::Config {
        file: "alerts",
        line: (span.end > 0).then(|| line_of(text, span.start)),
        key: key.to_string(),
        reason: reason.into(),
    }
}

fn parse<T: std::str::FromStr<Err = usalama_domain::DomainError>>(
    text: &str,
    v: &Spanned<String>,
    key: &str,
) -> Result<T, IngestError> {
    v.get_ref()
        .parse()
        .map_err(|e: usalama_domain::DomainError| err(text, v, key, e.reason))
}

/// Parses and checks an alert rules file against the taxonomy (event categories must exist).
pub fn parse_alert_rules(text: &str, taxonomy: &Taxonomy) -> Result<AlertRules, IngestError> {
    let file: File = toml::from_str(text).map_err(|e| IngestError::Config {
        file: "alerts",
        line: e.span().map(|s| line_of(text, s.start)),
        key: String::new(),
        reason: e.message().trim().replace('\n', " "),
    })?;
    let schedule = *file.settings.schedule_minutes.get_ref();
    if !(1..=1440).contains(&schedule) {
        return Err(err(
            text,
            &file.settings.schedule_minutes,
            "settings.schedule_minutes",
            "must be 1 to 1440 minutes",
        ));
    }
    let window = *file.settings.window_days.get_ref();
    if !(1..=3660).contains(&window) {
        return Err(err(
            text,
            &file.settings.window_days,
            "settings.window_days",
            "must be 1 to 3660 days",
        ));
    }
    let mut seen = HashSet::new();
    let mut rules = Vec::new();
    for entry in &file.rule {
        let r = entry.get_ref();
        let id = r.id.get_ref().trim().to_string();
        if !seen.insert(id.clone()) {
            return Err(err(text, &r.id, "rule.id", format!("'{id}' is used twice")));
        }
        let kind_name = r.kind.get_ref().trim();
        // Which optional keys each kind takes; any other is a mistake worth naming.
        let given: [(&str, bool); 10] = [
            ("threshold", r.threshold.is_some()),
            ("dimension", r.dimension.is_some()),
            ("method", r.method.is_some()),
            ("measure", r.measure.is_some()),
            ("false_alarm", r.false_alarm.is_some()),
            ("probability", r.probability.is_some()),
            ("horizon", r.horizon.is_some()),
            ("categories", r.categories.is_some()),
            ("min_fatalities", r.min_fatalities.is_some()),
            ("localities", r.localities.is_some()),
        ];
        let allowed: &[&str] = match kind_name {
            "index_threshold" => &["threshold", "dimension"],
            "detector" => &["method", "measure", "false_alarm"],
            "forecast" => &["probability", "horizon"],
            "events" => &["categories", "min_fatalities"],
            "verified_report" => &["localities"],
            other => {
                return Err(err(
                    text,
                    &r.kind,
                    "rule.kind",
                    format!("'{other}' is not one of index_threshold, detector, forecast, events, verified_report"),
                ))
            }
        };
        if let Some((k, _)) = given.iter().find(|(k, set)| *set && !allowed.contains(k)) {
            return Err(err(
                text,
                entry,
                &format!("rule.{k}"),
                format!("rule '{id}' of kind {kind_name} takes no {k}"),
            ));
        }
        let need = |k: &str| {
            err(
                text,
                entry,
                &format!("rule.{k}"),
                format!("rule '{id}' of kind {kind_name} needs {k}"),
            )
        };
        let kind = match kind_name {
            "index_threshold" => RuleKind::IndexThreshold {
                threshold: *r
                    .threshold
                    .as_ref()
                    .ok_or_else(|| need("threshold"))?
                    .get_ref(),
                dimension: r
                    .dimension
                    .as_ref()
                    .map(|d| parse::<Dimension>(text, d, "rule.dimension"))
                    .transpose()?,
            },
            "detector" => {
                let m = r.method.as_ref().ok_or_else(|| need("method"))?;
                let method = match m.get_ref().trim() {
                    "nb_cusum" => DetectorKind::NbCusum,
                    "farrington" => DetectorKind::Farrington,
                    other => {
                        return Err(err(
                            text,
                            m,
                            "rule.method",
                            format!("'{other}' is not one of nb_cusum, farrington"),
                        ))
                    }
                };
                let ms = r.measure.as_ref().ok_or_else(|| need("measure"))?;
                let measure = match ms.get_ref().trim() {
                    "events" => SeriesMeasure::Events,
                    "fatalities" => SeriesMeasure::Fatalities,
                    other => {
                        return Err(err(
                            text,
                            ms,
                            "rule.measure",
                            format!("'{other}' is not one of events, fatalities"),
                        ))
                    }
                };
                RuleKind::Detector {
                    method,
                    measure,
                    false_alarm: *r
                        .false_alarm
                        .as_ref()
                        .ok_or_else(|| need("false_alarm"))?
                        .get_ref(),
                }
            }
            "forecast" => {
                let h = r.horizon.as_ref().ok_or_else(|| need("horizon"))?;
                RuleKind::Forecast {
                    probability: *r
                        .probability
                        .as_ref()
                        .ok_or_else(|| need("probability"))?
                        .get_ref(),
                    horizon: u8::try_from(*h.get_ref())
                        .map_err(|_| err(text, h, "rule.horizon", "must be 1, 2 or 3 months"))?,
                }
            }
            "events" => {
                let categories = r
                    .categories
                    .as_ref()
                    .map(|c| c.get_ref().clone())
                    .unwrap_or_default();
                if let (Some(c), Some(at)) = (
                    categories.iter().find(|c| taxonomy.category(c).is_none()),
                    r.categories.as_ref(),
                ) {
                    return Err(err(
                        text,
                        at,
                        "rule.categories",
                        format!("'{c}' is not a category of the taxonomy"),
                    ));
                }
                let min_fatalities = r
                    .min_fatalities
                    .as_ref()
                    .map(|m| {
                        u32::try_from(*m.get_ref()).map_err(|_| {
                            err(text, m, "rule.min_fatalities", "must be a positive number")
                        })
                    })
                    .transpose()?;
                RuleKind::Events {
                    categories,
                    min_fatalities,
                }
            }
            _ => RuleKind::VerifiedReport {
                localities: r
                    .localities
                    .as_ref()
                    .map(|l| l.get_ref().iter().map(|c| c.trim().to_string()).collect())
                    .unwrap_or_default(),
            },
        };
        let level = match &r.level {
            Some(l) => parse::<AdminLevel>(text, l, "rule.level")?,
            None => AdminLevel::Adm1,
        };
        let rule = Rule {
            id,
            name: r.name.get_ref().trim().to_string(),
            kind,
            level,
            severity: parse::<AlertSeverity>(text, &r.severity, "rule.severity")?,
            urgency: parse::<Urgency>(text, &r.urgency, "rule.urgency")?,
            certainty: parse::<Certainty>(text, &r.certainty, "rule.certainty")?,
        };
        rule.validate()
            .map_err(|e| err(text, entry, &format!("rule.{}", e.field), e.reason))?;
        if r.enabled != Some(false) {
            rules.push(rule);
        }
    }
    Ok(AlertRules {
        rules,
        schedule_minutes: schedule as u32,
        window_days: window as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taxonomy_file::{parse_taxonomy, DEFAULT_TAXONOMY};

    fn tax() -> Taxonomy {
        parse_taxonomy(DEFAULT_TAXONOMY).unwrap()
    }

    #[test]
    fn the_default_file_has_every_kind() {
        let r = parse_alert_rules(DEFAULT_ALERT_RULES, &tax()).unwrap();
        let kinds: HashSet<&str> = r.rules.iter().map(|r| r.kind.name()).collect();
        for k in [
            "index_threshold",
            "detector",
            "forecast",
            "events",
            "verified_report",
        ] {
            assert!(kinds.contains(k), "{k} missing");
        }
        assert_eq!(r.schedule_minutes, 15);
        assert_eq!(r.window_days, 31);
    }

    #[test]
    fn errors_name_line_and_key() {
        let base = "[[rule]]\nid = \"a\"\nname = \"A\"\nkind = \"events\"\nseverity = \"severe\"\nurgency = \"expected\"\ncertainty = \"likely\"\n";
        let e = parse_alert_rules(
            &format!("{base}min_fatalities = 5\nthreshold = 3.0\n"),
            &tax(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line ") && e.contains("rule.threshold"), "{e}");
        let e = parse_alert_rules(&format!("{base}categories = [\"nope\"]\n"), &tax())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 8") && e.contains("nope"), "{e}");
        let e = parse_alert_rules(&base.replace("severe", "awful"), &tax())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 5") && e.contains("rule.severity"), "{e}");
        let e = parse_alert_rules(
            &format!("{base}min_fatalities = 5\n{base}min_fatalities = 5\n"),
            &tax(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 10") && e.contains("twice"), "{e}");
        let e = parse_alert_rules(&format!("{base}\n"), &tax())
            .unwrap_err()
            .to_string();
        assert!(e.contains("rule.categories"), "{e}");
        let e = parse_alert_rules("[settings]\nwindow_days = 0\n", &tax())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("settings.window_days"),
            "{e}"
        );
        let e = parse_alert_rules("[[rule]]\nid = \"a\"\nbogus = 1\n", &tax())
            .unwrap_err()
            .to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn disabled_rules_are_left_out() {
        let text = "[[rule]]\nid = \"a\"\nname = \"A\"\nkind = \"events\"\nmin_fatalities = 5\nseverity = \"severe\"\nurgency = \"expected\"\ncertainty = \"likely\"\nenabled = false\n";
        assert!(parse_alert_rules(text, &tax()).unwrap().rules.is_empty());
    }
}
