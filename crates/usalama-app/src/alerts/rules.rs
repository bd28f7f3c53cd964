//! Evaluating each rule kind into firings (alerts not yet stored): the index and the
//! detectors on the latest month of the index's panel, forecasts through the given source,
//! and the event rules on events grouped by rule, locality and month.

use super::{AlertRules, ForecastSource};
use crate::error::AppError;
use crate::queries::Localities;
use crate::App;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use usalama_analytics::detect::{CusumConfig, Farrington, FarringtonConfig, NbCusum};
use usalama_analytics::panel::Unit;
use usalama_analytics::period::Granularity;
use usalama_domain::alert::{
    dedupe_key, Alert, AlertStatus, Certainty, DetectorKind, Evidence, EvidenceValue, Rule,
    RuleKind, SeriesMeasure,
};
use usalama_domain::{AlertId, Channel, Dimension, LocalityId, VerificationStatus};
use usalama_store::{Alertable, EventQuery, PageRequest, StoredEvent};

/// Events read per batch when gathering recent events.
const SCAN_BATCH: usize = 2_000;

/// What an evaluation works with.
pub(super) struct Context<'a> {
    app: &'a App,
    rules: &'a AlertRules,
    locs: Arc<Localities>,
    now: DateTime<Utc>,
    /// The end date of the latest countable event (the data's clock), read once.
    latest: Option<Option<NaiveDate>>,
}

impl<'a> Context<'a> {
    pub(super) fn new(app: &'a App, rules: &'a AlertRules) -> Result<Self, AppError> {
        Ok(Self {
            app,
            rules,
            locs: app.localities()?,
            now: app.now(),
            latest: None,
        })
    }

    /// The locality and its ancestors (ids), for subscription matching.
    pub(super) fn lineage(&self, id: Option<LocalityId>) -> Vec<LocalityId> {
        id.map(|l| ancestors(&self.locs, l)).unwrap_or_default()
    }

    fn latest(&mut self) -> Result<Option<NaiveDate>, AppError> {
        if let Some(l) = self.latest {
            return Ok(l);
        }
        let q = EventQuery {
            page: PageRequest {
                limit: 1,
                after: None,
            },
            skip_total: true,
            countable_only: true,
            ..Default::default()
        };
        let l = self
            .app
            .store
            .list_events(&q)?
            .items
            .first()
            .map(|e| e.event.occurred_end);
        self.latest = Some(l);
        Ok(l)
    }

    /// The first day of the event window.
    fn window_start(&mut self) -> Result<Option<NaiveDate>, AppError> {
        let days = i64::from(self.rules.window_days);
        Ok(self.latest()?.map(|l| l - Duration::days(days)))
    }

    /// An alert about `locality` (code and name from the cache).
    #[allow(clippy::too_many_arguments)]
    fn alert(
        &self,
        rule: &Rule,
        locality: Option<LocalityId>,
        period: String,
        dimension: Option<Dimension>,
        certainty: Certainty,
        headline: String,
        description: String,
        mut evidence: Evidence,
    ) -> Alert {
        // A detector's threshold can be infinite (no count could signal); JSON has no
        // such number, and the evidence keeps only values it can state.
        evidence.values.retain(|v| v.value.is_finite());
        let summary = locality.and_then(|l| self.locs.summary(l));
        Alert {
            id: AlertId::derived(&dedupe_key(&rule.id, locality, &period)),
            rule: rule.id.clone(),
            rule_kind: rule.kind.name().to_string(),
            locality,
            locality_code: summary.as_ref().map(|s| s.code.as_str().to_string()),
            locality_name: summary.map(|s| s.name),
            dimension,
            period,
            severity: rule.severity,
            urgency: rule.urgency,
            certainty,
            headline,
            description,
            evidence,
            status: AlertStatus::New,
            raised_at: self.now,
            updated_at: self.now,
        }
    }

    fn place_name(&self, id: Option<LocalityId>) -> String {
        id.and_then(|l| self.locs.summary(l))
            .map_or_else(|| "an unplaced area".to_string(), |s| s.name)
    }
}

/// A locality and its ancestors, the locality first.
pub(super) fn ancestors(locs: &Localities, id: LocalityId) -> Vec<LocalityId> {
    let mut out = Vec::with_capacity(4);
    let mut cur = Some(id);
    while let Some(c) = cur.take() {
        if out.len() > 4 {
            break;
        }
        out.push(c);
        cur = locs.summary(c).and_then(|s| s.parent);
    }
    out
}

fn value(name: &str, v: f64) -> EvidenceValue {
    EvidenceValue {
        name: name.to_string(),
        value: v,
    }
}

/// The index, detector and forecast rules.
pub(super) fn aggregate_rules(
    ctx: &mut Context<'_>,
    forecast: Option<&dyn ForecastSource>,
    notes: &mut Vec<String>,
) -> Result<Vec<Alert>, AppError> {
    let rules: Vec<&Rule> = ctx
        .rules
        .rules
        .iter()
        .filter(|r| !r.kind.is_event_rule())
        .collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let needs_index = rules.iter().any(|r| {
        matches!(
            r.kind,
            RuleKind::IndexThreshold { .. } | RuleKind::Detector { .. }
        )
    });
    let computed = if needs_index {
        Some(ctx.app.computed_index(None, Granularity::Month)?)
    } else {
        None
    };
    let mut out = Vec::new();
    for rule in rules {
        let level = rule.level;
        let units: Vec<LocalityId> = ctx
            .locs
            .all
            .iter()
            .filter(|l| l.level == level)
            .map(|l| l.id)
            .collect();
        match &rule.kind {
            RuleKind::IndexThreshold {
                threshold,
                dimension,
            } => {
                let Some((index, source)) = computed
                    .as_ref()
                    .and_then(|c| c.index.as_ref().map(|i| (i, c.source.clone())))
                else {
                    notes.push(format!("{}: no events, no index", rule.id));
                    continue;
                };
                let period = index.range().last();
                for id in units {
                    let Some(v) = index.get(&Unit::Locality(id), period) else {
                        continue;
                    };
                    let x = match dimension {
                        Some(d) => v.score(*d),
                        None => Some(v.value),
                    };
                    let Some(x) = x.filter(|x| x >= threshold) else {
                        continue;
                    };
                    let what = dimension.map_or_else(
                        || "human-security index".to_string(),
                        |d| format!("{d} score"),
                    );
                    let place = ctx.place_name(Some(id));
                    let mut values = vec![value("index", x), value("threshold", *threshold)];
                    for (d, s) in Dimension::ALL.iter().zip(v.scores) {
                        if let Some(s) = s {
                            values.push(value(&format!("score_{d}"), s));
                        }
                    }
                    out.push(ctx.alert(
                        rule,
                        Some(id),
                        period.to_string(),
                        *dimension,
                        rule.certainty,
                        format!("{}: {place}, {period}", rule.name),
                        format!(
                            "The {what} of {place} is {x:.1} out of 10 in {period} (higher is worse), at or above the threshold of {threshold:.1}. Computed from {} data.",
                            source.as_deref().unwrap_or("the stored")
                        ),
                        Evidence {
                            kind: rule.kind.name().into(),
                            method: Some("index".into()),
                            source: source.clone(),
                            values,
                            events: Vec::new(),
                        },
                    ));
                }
            }
            RuleKind::Detector {
                method,
                measure,
                false_alarm,
            } => {
                let Some((panel, source)) = computed
                    .as_ref()
                    .and_then(|c| c.panel.as_ref().map(|p| (p, c.source.clone())))
                else {
                    notes.push(format!("{}: no events, no series", rule.id));
                    continue;
                };
                let periods = panel.periods();
                if periods == 0 {
                    continue;
                }
                let last = periods - 1;
                let period = panel.range().last();
                let mut cusum = match method {
                    DetectorKind::NbCusum => Some(
                        NbCusum::new(CusumConfig {
                            arl0: *false_alarm,
                            ..CusumConfig::default()
                        })
                        .map_err(|e| {
                            AppError::invalid(format!("rule {}", rule.id), e.to_string())
                        })?,
                    ),
                    DetectorKind::Farrington => None,
                };
                let farrington = match method {
                    DetectorKind::Farrington => Some(
                        Farrington::new(
                            FarringtonConfig {
                                alpha: *false_alarm,
                                ..FarringtonConfig::for_granularity(Granularity::Month)
                            },
                            12,
                        )
                        .map_err(|e| {
                            AppError::invalid(format!("rule {}", rule.id), e.to_string())
                        })?,
                    ),
                    DetectorKind::NbCusum => None,
                };
                for id in units {
                    let Some(u) = panel.unit_index(&Unit::Locality(id)) else {
                        continue;
                    };
                    let series: Vec<u64> = (0..periods)
                        .map(|t| match measure {
                            SeriesMeasure::Events => panel.events(u, t, None),
                            SeriesMeasure::Fatalities => panel.fatalities(u, t, None),
                        })
                        .collect();
                    let a = match (&mut cusum, &farrington) {
                        (Some(c), _) => c.assess(&series).into_iter().find(|a| a.index == last),
                        (_, Some(f)) => f.assess_at(&series, last),
                        _ => None,
                    };
                    let Some(a) = a.filter(|a| a.signal) else {
                        continue;
                    };
                    let place = ctx.place_name(Some(id));
                    let m = measure.as_str();
                    out.push(ctx.alert(
                        rule,
                        Some(id),
                        period.to_string(),
                        Some(Dimension::Lives),
                        rule.certainty,
                        format!("{}: {place}, {period}", rule.name),
                        format!(
                            "{} {m} in {place} in {period} against {:.1} expected; the {} detector's threshold was {:.1}. Computed from {} data.",
                            a.observed,
                            a.expected,
                            method.as_str(),
                            a.threshold,
                            source.as_deref().unwrap_or("the stored")
                        ),
                        Evidence {
                            kind: rule.kind.name().into(),
                            method: Some(method.as_str().into()),
                            source: source.clone(),
                            values: vec![
                                value("observed", a.observed as f64),
                                value("expected", a.expected),
                                value("threshold", a.threshold),
                                value("score", a.score),
                            ],
                            events: Vec::new(),
                        },
                    ));
                }
            }
            RuleKind::Forecast {
                probability,
                horizon,
            } => {
                let Some(source) = forecast else {
                    notes.push(format!(
                        "{}: no forecast model is connected; forecast rules wait for one",
                        rule.id
                    ));
                    continue;
                };
                let name = source.name();
                for p in source.fatal_probabilities(level, *horizon)? {
                    if p.probability.is_nan() || p.probability < *probability {
                        continue;
                    }
                    let place = ctx.place_name(Some(p.locality));
                    out.push(ctx.alert(
                        rule,
                        Some(p.locality),
                        p.period.clone(),
                        Some(Dimension::Lives),
                        rule.certainty,
                        format!("{}: {place}, {}", rule.name, p.period),
                        format!(
                            "The forecast puts the probability of at least one fatal event in {place} within {horizon} month(s) (to {}) at {:.0} %, at or above {:.0} %.",
                            p.period,
                            p.probability * 100.0,
                            probability * 100.0
                        ),
                        Evidence {
                            kind: rule.kind.name().into(),
                            method: Some(name.clone()),
                            source: None,
                            values: vec![
                                value("probability", p.probability),
                                value("threshold", *probability),
                                value("horizon", f64::from(*horizon)),
                            ],
                            events: Vec::new(),
                        },
                    ));
                }
            }
            RuleKind::Events { .. } | RuleKind::VerifiedReport { .. } => {}
        }
    }
    Ok(out)
}

/// What the event rules in force look at (see [`Alertable`]); `None` without event rules.
fn alertable(rules: &[Rule]) -> Option<Alertable> {
    if !rules.iter().any(|r| r.kind.is_event_rule()) {
        return None;
    }
    let mut out = Alertable::default();
    for r in rules {
        match &r.kind {
            RuleKind::Events {
                categories,
                min_fatalities,
            } => {
                for c in categories {
                    if !out.categories.contains(c) {
                        out.categories.push(c.clone());
                    }
                }
                if let Some(m) = *min_fatalities {
                    out.min_killed = Some(out.min_killed.map_or(m, |k| k.min(m)));
                }
            }
            RuleKind::VerifiedReport { .. } => out.verified_reports = true,
            _ => {}
        }
    }
    Some(out)
}

/// Countable events that ended within the window before the latest event and that some
/// event rule could fire on: the store leaves out the others (most events, with the
/// default rules), so they are neither read whole nor held.
pub(super) fn recent_events(ctx: &mut Context<'_>) -> Result<Vec<StoredEvent>, AppError> {
    let Some(alertable) = alertable(&ctx.rules.rules) else {
        return Ok(Vec::new());
    };
    let Some(from) = ctx.window_start()? else {
        return Ok(Vec::new());
    };
    let q = EventQuery {
        from: Some(from),
        countable_only: true,
        alertable: Some(alertable),
        ..Default::default()
    };
    let mut out = Vec::new();
    ctx.app.store.scan_events(&q, SCAN_BATCH, &mut |batch| {
        out.extend_from_slice(batch);
        Ok(())
    })?;
    Ok(out)
}

/// Events grouped for one rule, locality and month.
#[derive(Default)]
struct Group {
    events: Vec<usalama_domain::EventId>,
    killed: u64,
    verified: bool,
    sources: Vec<String>,
    channels: Vec<Channel>,
    dimension: Option<Dimension>,
}

/// The event rules on `events`: one firing per rule, locality (at the rule's level) and
/// month of the events' end dates.
pub(super) fn event_rules(
    ctx: &mut Context<'_>,
    events: &[StoredEvent],
) -> Result<Vec<Alert>, AppError> {
    let rules: Vec<&Rule> = ctx
        .rules
        .rules
        .iter()
        .filter(|r| r.kind.is_event_rule())
        .collect();
    if rules.is_empty() || events.is_empty() {
        return Ok(Vec::new());
    }
    let Some(start) = ctx.window_start()? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for rule in rules {
        let watched: Vec<LocalityId> = match &rule.kind {
            RuleKind::VerifiedReport { localities } => localities
                .iter()
                .filter_map(|code| {
                    ctx.locs
                        .all
                        .iter()
                        .find(|l| l.code.as_str().eq_ignore_ascii_case(code))
                        .map(|l| l.id)
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut groups: BTreeMap<(Option<LocalityId>, String), Group> = BTreeMap::new();
        for p in events {
            let e = &p.event;
            if matches!(
                e.status,
                VerificationStatus::Rejected | VerificationStatus::DuplicateOf(_)
            ) || e.occurred_end < start
            {
                continue;
            }
            let killed = e.casualties.killed_best.unwrap_or(0);
            let fires = match &rule.kind {
                RuleKind::Events {
                    categories,
                    min_fatalities,
                } => {
                    categories.iter().any(|c| c == &e.category)
                        || min_fatalities.is_some_and(|m| killed >= m)
                }
                RuleKind::VerifiedReport { .. } => {
                    e.channel != Channel::Import
                        && e.status == VerificationStatus::Verified
                        && p.path.0.iter().flatten().any(|l| watched.contains(l))
                }
                _ => false,
            };
            if !fires {
                continue;
            }
            let locality = p.path.at(rule.level).or_else(|| p.path.deepest());
            let month = format!("{:04}-{:02}", e.occurred_end.year(), e.occurred_end.month());
            let g = groups.entry((locality, month)).or_default();
            g.events.push(e.id);
            g.killed += u64::from(killed);
            g.verified |= e.status == VerificationStatus::Verified;
            if !g.sources.contains(&e.source) {
                g.sources.push(e.source.clone());
            }
            if !g.channels.contains(&e.channel) {
                g.channels.push(e.channel);
            }
            g.dimension = match g.dimension {
                None if g.events.len() == 1 => Some(e.dimension),
                Some(d) if d == e.dimension => Some(d),
                _ => None,
            };
        }
        for ((locality, month), g) in groups {
            let place = ctx.place_name(locality);
            let n = g.events.len();
            let certainty = if g.verified {
                rule.certainty
            } else {
                Certainty::Possible
            };
            let sources = g.sources.join(", ");
            let (description, values) = match &rule.kind {
                RuleKind::Events {
                    categories,
                    min_fatalities,
                } => {
                    let mut why = Vec::new();
                    if !categories.is_empty() {
                        why.push(format!("of a watched category ({})", categories.join(", ")));
                    }
                    if let Some(m) = min_fatalities {
                        why.push(format!("with at least {m} killed"));
                    }
                    let mut values = vec![
                        value("events", n as f64),
                        value("fatalities", g.killed as f64),
                    ];
                    if let Some(m) = min_fatalities {
                        values.push(value("min_fatalities", f64::from(*m)));
                    }
                    (
                        format!(
                            "{n} event(s) {} ended in {place} in {month}, with {} people killed in all (best estimates; source: {sources}){}.",
                            why.join(" or "),
                            g.killed,
                            if g.verified { "" } else { "; not yet verified" }
                        ),
                        values,
                    )
                }
                _ => (
                    format!(
                        "{n} report(s) from monitors ({}) verified in {place}, a watched area, in {month}.",
                        g.channels
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    vec![value("reports", n as f64)],
                ),
            };
            out.push(ctx.alert(
                rule,
                locality,
                month.clone(),
                g.dimension,
                certainty,
                format!("{}: {place}, {month}", rule.name),
                description,
                Evidence {
                    kind: rule.kind.name().into(),
                    method: None,
                    source: Some(sources),
                    values,
                    events: g.events,
                },
            ));
        }
    }
    Ok(out)
}
