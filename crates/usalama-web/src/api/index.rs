//! The human-security index in the JSON API, public like the other aggregates:
//! `GET /api/v1/index?level=adm1&period=month&at=2022-06` (every locality of a level in one
//! period, worst first) and `GET /api/v1/index/{locality}/{period}/explain` (every input of
//! one value with its raw value, transform, scaled value, weight and contribution).

use super::params::Params;
use super::run;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use usalama_app::analytics::panel::Level;
use usalama_app::analytics::period::{Granularity, Period};
use usalama_app::{IndexExplanation, IndexTable};
use usalama_store::LocalitySummary;

/// The index routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/index", get(table))
        .route("/api/v1/index/{locality}/{period}/explain", get(explain))
}

/// A locality named in an index answer.
#[derive(Serialize)]
pub struct IndexLocalityDto {
    /// Id.
    pub id: String,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Level.
    pub level: String,
}

impl From<&LocalitySummary> for IndexLocalityDto {
    fn from(l: &LocalitySummary) -> Self {
        Self {
            id: l.id.to_string(),
            code: l.code.as_str().to_string(),
            name: l.name.clone(),
            level: l.level.as_str().to_string(),
        }
    }
}

/// One row of the index table.
#[derive(Serialize)]
pub struct IndexRowDto {
    /// The locality.
    pub locality: IndexLocalityDto,
    /// The index 0–10 (higher is worse), null when too few dimensions had data.
    pub value: Option<f64>,
    /// Lives score 0–10.
    pub lives: Option<f64>,
    /// Livelihood score 0–10.
    pub livelihood: Option<f64>,
    /// Dignity score 0–10.
    pub dignity: Option<f64>,
    /// Dimensions left out for want of data.
    pub missing: Vec<String>,
    /// Whether the value and scores are withheld (too few reports to show: a count of
    /// this locality and period is below the public threshold, or its public figure is
    /// withheld so that such a count cannot be worked out).
    pub withheld: bool,
}

/// The index table.
#[derive(Serialize)]
pub struct IndexTableDto {
    /// The source the index is computed from (null when the store holds no event).
    pub source: Option<String>,
    /// The level.
    pub level: String,
    /// The granularity.
    pub granularity: String,
    /// The period shown.
    pub period: Option<String>,
    /// The first period with data.
    pub first: Option<String>,
    /// The last period with data.
    pub last: Option<String>,
    /// The rows, worst first.
    pub rows: Vec<IndexRowDto>,
}

impl From<&IndexTable> for IndexTableDto {
    fn from(t: &IndexTable) -> Self {
        Self {
            source: t.source.clone(),
            level: t.level.as_str().to_string(),
            granularity: t.granularity.as_str().to_string(),
            period: t.period.map(|p| p.to_string()),
            first: t.range.map(|r| r.first().to_string()),
            last: t.range.map(|r| r.last().to_string()),
            rows: t
                .rows
                .iter()
                .map(|r| IndexRowDto {
                    locality: (&r.locality).into(),
                    value: r.value,
                    lives: r.scores[0],
                    livelihood: r.scores[1],
                    dignity: r.scores[2],
                    missing: r.missing.iter().map(|d| d.as_str().to_string()).collect(),
                    withheld: r.withheld,
                })
                .collect(),
        }
    }
}

/// One dimension of an explanation.
#[derive(Serialize)]
pub struct DimensionPartDto {
    /// The dimension.
    pub dimension: String,
    /// Configured weight.
    pub weight: f64,
    /// Share of the included dimensions' weights.
    pub weight_share: f64,
    /// Score 0–10.
    pub score: Option<f64>,
    /// Whether it entered the geometric mean.
    pub included: bool,
    /// Index points attributed to it.
    pub contribution: f64,
}

/// One input of an explanation.
#[derive(Serialize)]
pub struct InputPartDto {
    /// Indicator code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Dimension.
    pub dimension: String,
    /// Panel measure.
    pub measure: String,
    /// Raw value.
    pub raw: Option<f64>,
    /// Whether it is taken per 100,000 people.
    pub per_100k: bool,
    /// Population used.
    pub population: Option<f64>,
    /// Transform (`log1p` or `none`).
    pub transform: String,
    /// Transformed value.
    pub transformed: Option<f64>,
    /// Reference minimum.
    pub reference_min: Option<f64>,
    /// Reference maximum.
    pub reference_max: Option<f64>,
    /// Whether a higher value is safer.
    pub higher_is_better: bool,
    /// Scaled value 0–10.
    pub scaled: Option<f64>,
    /// Configured weight.
    pub weight: f64,
    /// Share of its dimension's available weights.
    pub weight_share: f64,
    /// Whether it entered its dimension's score.
    pub used: bool,
    /// Why it is missing.
    pub missing: Option<String>,
    /// Index points attributed to it; the contributions add up to the value.
    pub contribution: f64,
}

/// Why one locality has its index value in one period.
#[derive(Serialize)]
pub struct ExplanationDto {
    /// The source.
    pub source: Option<String>,
    /// The locality.
    pub locality: IndexLocalityDto,
    /// The period.
    pub period: String,
    /// The index value.
    pub value: Option<f64>,
    /// First period of the reference window.
    pub reference_from: Option<String>,
    /// Last period of the reference window.
    pub reference_to: Option<String>,
    /// Dimensions needed for a value.
    pub min_dimensions: usize,
    /// The dimensions.
    pub dimensions: Vec<DimensionPartDto>,
    /// Every input.
    pub inputs: Vec<InputPartDto>,
    /// Whether the inputs' values and contributions are withheld (anonymous caller, a
    /// count below the public threshold).
    pub withheld: bool,
}

impl From<&IndexExplanation> for ExplanationDto {
    fn from(x: &IndexExplanation) -> Self {
        let e = &x.explanation;
        Self {
            source: x.source.clone(),
            locality: (&x.locality).into(),
            withheld: x.withheld,
            period: e.period.to_string(),
            value: e.value,
            reference_from: e.reference.0.map(|p| p.to_string()),
            reference_to: e.reference.1.map(|p| p.to_string()),
            min_dimensions: e.min_dimensions,
            dimensions: e
                .dimensions
                .iter()
                .map(|d| DimensionPartDto {
                    dimension: d.dimension.as_str().to_string(),
                    weight: d.weight,
                    weight_share: d.weight_share,
                    score: d.score,
                    included: d.included,
                    contribution: d.contribution,
                })
                .collect(),
            inputs: e
                .inputs
                .iter()
                .map(|i| InputPartDto {
                    code: i.code.clone(),
                    label: i.label.clone(),
                    dimension: i.dimension.as_str().to_string(),
                    measure: i.measure.to_string(),
                    raw: i.raw,
                    per_100k: i.per_100k,
                    population: i.population,
                    transform: i.transform.as_str().to_string(),
                    transformed: i.transformed,
                    reference_min: i.reference_min,
                    reference_max: i.reference_max,
                    higher_is_better: i.higher_is_better,
                    scaled: i.scaled,
                    weight: i.weight,
                    weight_share: i.weight_share,
                    used: i.used,
                    missing: i.missing.map(|m| m.reason().to_string()),
                    contribution: i.contribution,
                })
                .collect(),
        }
    }
}

async fn table(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<IndexTableDto>, ApiError> {
    let p = Params::parse(raw.as_deref(), &["level", "period", "at", "source"])?;
    let level = p
        .parsed::<Level>("level", "one of adm0, adm1, adm2, adm3")?
        .unwrap_or(Level::Adm1);
    let at = p.parsed::<Period>("at", "a period like 2022-06, 2022-W23 or 2022-Q2")?;
    let granularity = match p.parsed::<Granularity>("period", "one of week, month, quarter")? {
        Some(g) => g,
        None => at.map_or(Granularity::Month, |a| a.granularity()),
    };
    let source = p.str("source").map(str::to_string);
    let t = run(&state, move |app| {
        app.index_table(&who, level, granularity, at, source.as_deref())
    })
    .await?;
    Ok(Json((&t).into()))
}

async fn explain(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    Path((locality, period)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ExplanationDto>, ApiError> {
    let p = Params::parse(raw.as_deref(), &["source", "level"])?;
    let period: Period = period.parse().map_err(|_| {
        ApiError::bad_parameter(
            "period",
            format!("'{period}' is not a period like 2022-06, 2022-W23 or 2022-Q2"),
        )
    })?;
    // The level is the locality's own; a `level` given must agree with it.
    let level = p.parsed::<Level>("level", "one of adm0, adm1, adm2, adm3")?;
    let source = p.str("source").map(str::to_string);
    let x = run(&state, move |app| {
        let x = app.index_explain(&who, &locality, period, source.as_deref())?;
        if let Some(l) = level {
            if Level::from(x.locality.level) != l {
                return Err(usalama_app::AppError::invalid(
                    "level",
                    format!("the locality is at level {}", x.locality.level.as_str()),
                ));
            }
        }
        Ok(x)
    })
    .await?;
    Ok(Json((&x).into()))
}
