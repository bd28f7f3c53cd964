//! Forecasts in the JSON API: `GET /api/v1/forecasts?level=adm1|adm2|pgm[&source=…]` — for
//! every unit, the probability of at least one death and the expected fatalities in each of
//! the next three months. Public at the public level (ADM1 by default); finer levels and the
//! grid need a caller who may read events.

use super::index::IndexLocalityDto;
use super::params::Params;
use super::run;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use usalama_app::analytics::panel::Level;
use usalama_app::ForecastTable;

/// The forecast route.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/forecasts", get(forecasts))
}

/// One month ahead.
#[derive(Serialize)]
pub struct HorizonDto {
    /// Months after the data (1, 2, 3).
    pub h: usize,
    /// The month (YYYY-MM).
    pub period: String,
    /// Probability of at least one death.
    pub p_fatal: f64,
    /// Expected fatalities: `exp(E[ln(1 + deaths)]) − 1`.
    pub fatalities: f64,
    /// Expected `ln(1 + deaths)`.
    pub log1p_fatalities: f64,
}

/// One unit's forecasts.
#[derive(Serialize)]
pub struct ForecastRowDto {
    /// The P-code, or `priogrid:GID`.
    pub code: String,
    /// The locality (administrative levels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality: Option<IndexLocalityDto>,
    /// The PRIO-GRID cell (grid level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priogrid_gid: Option<i64>,
    /// One entry per horizon.
    pub horizons: Vec<HorizonDto>,
}

/// The forecast table.
#[derive(Serialize)]
pub struct ForecastTableDto {
    /// The source (null when the store holds no event).
    pub source: Option<String>,
    /// `adm1`, `adm2`, … or `pgm`.
    pub level: String,
    /// The first month of the data the model was trained on.
    pub first: Option<String>,
    /// The last.
    pub last: Option<String>,
    /// Why there is no forecast, if so.
    pub note: Option<String>,
    /// The rows, highest probability next month first.
    pub rows: Vec<ForecastRowDto>,
}

impl From<&ForecastTable> for ForecastTableDto {
    fn from(t: &ForecastTable) -> Self {
        Self {
            source: t.source.clone(),
            level: match t.level {
                Level::Grid => "pgm".into(),
                l => l.as_str().into(),
            },
            first: t.trained_on.map(|r| r.first().to_string()),
            last: t.trained_on.map(|r| r.last().to_string()),
            note: t.note.clone(),
            rows: t
                .rows
                .iter()
                .map(|r| ForecastRowDto {
                    code: r.code(),
                    locality: r.locality.as_ref().map(Into::into),
                    priogrid_gid: r.cell,
                    horizons: r
                        .horizons
                        .iter()
                        .map(|h| HorizonDto {
                            h: h.h,
                            period: h.period.to_string(),
                            p_fatal: h.prediction.probability,
                            fatalities: h.prediction.fatalities(),
                            log1p_fatalities: h.prediction.log1p_fatalities,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

async fn forecasts(
    State(state): State<AppState>,
    super::MaybeCaller(who): super::MaybeCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<ForecastTableDto>, ApiError> {
    let p = Params::parse(raw.as_deref(), &["level", "source"])?;
    let level = p
        .parsed::<Level>("level", "one of adm1, adm2, adm3, pgm")?
        .unwrap_or(Level::Adm1);
    if level == Level::Adm0 {
        return Err(ApiError::bad_parameter(
            "level",
            "one of adm1, adm2, adm3, pgm".to_string(),
        ));
    }
    let source = p.str("source").map(str::to_string);
    let t = run(&state, move |app| {
        app.forecasts(&who, level, source.as_deref())
    })
    .await?;
    Ok(Json(t.as_ref().into()))
}
