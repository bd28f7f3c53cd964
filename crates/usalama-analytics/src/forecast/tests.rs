//! Tests of the features, the forecasts and the backtest (no leakage).

use super::backtest::backtest_rows;
use super::features::{self, months_since_fatal};
use super::*;
use crate::panel::{EventFact, Level, Panel, PanelSpec, Unit};
use crate::period::{Granularity, Period, PeriodRange};
use chrono::NaiveDate;
use usalama_domain::{Dimension, LocalityId, LocalityPath};

fn months(n: usize) -> PeriodRange {
    let first = Period::new(Granularity::Month, 2010, 1).unwrap();
    PeriodRange::new(first, first.offset(n as i64 - 1).unwrap()).unwrap()
}

fn unit(i: usize) -> Unit {
    Unit::Cell(i as i64 + 1)
}

/// Three units in a row (0 – 1 – 2), 6 months.
fn small() -> ForecastData {
    let f = vec![
        vec![0, 3, 0, 0, 7, 0],
        vec![1, 0, 0, 0, 0, 0],
        vec![0, 0, 0, 0, 0, 2],
    ];
    let e = vec![
        vec![1, 2, 0, 1, 3, 0],
        vec![1, 0, 0, 0, 0, 0],
        vec![0, 0, 0, 0, 0, 1],
    ];
    ForecastData::from_series(
        months(6),
        (0..3).map(unit).collect(),
        &f,
        &e,
        vec![vec![1], vec![0, 2], vec![1]],
        false,
    )
    .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn own_lags_and_windows() {
    let d = small();
    let names = features::names(&d);
    let row = features::row(&d, 0, 5, 1);
    assert_eq!(row.len(), names.len());
    let get = |name: &str| row[names.iter().position(|n| n == name).unwrap()];
    // Origin 5: last month known is 4 (7 deaths), then 3 (0), 2 (0).
    assert!(close(get("own_lag1"), 8f64.ln()));
    assert_eq!(get("own_lag2"), 0.0);
    assert_eq!(get("own_lag3"), 0.0);
    // 12-month mean of ln(1+f): months before the series count as 0.
    assert!(close(get("own_mean12"), (4f64.ln() + 8f64.ln()) / 12.0));
    assert!(close(get("own_fatal_share12"), 2.0 / 12.0));
    assert!(close(get("own_events_lag1"), 4f64.ln()));
}

#[test]
fn neighbours_lags() {
    let d = small();
    let names = features::names(&d);
    let get = |u: usize, o: usize, name: &str| {
        features::row(&d, u, o, 1)[names.iter().position(|n| n == name).unwrap()]
    };
    // Unit 1's neighbours are 0 and 2. At origin 5, month 4: unit 0 had 7, unit 2 had 0.
    assert!(close(get(1, 5, "nbr_lag1"), 8f64.ln() / 2.0));
    // Over 3 months (2, 3, 4): unit 0 → ln 8 / 3, unit 2 → 0.
    assert!(close(get(1, 5, "nbr_mean3"), 8f64.ln() / 3.0 / 2.0));
    // Unit 0's only neighbour is unit 1: one death in month 0.
    assert!(close(get(0, 1, "nbr_lag1"), 2f64.ln()));
    assert_eq!(get(0, 2, "nbr_lag1"), 0.0);
    assert!(close(get(0, 2, "nbr_fatal_share12"), 1.0 / 12.0));
    // Level mean of month 4: (ln 8 + 0 + 0) / 3.
    assert!(close(get(2, 5, "level_lag1"), 8f64.ln() / 3.0));
}

#[test]
fn time_since_last_fatal_month() {
    let d = small();
    assert_eq!(months_since_fatal(&d, 0, 5), Some(0)); // month 4 was fatal
    assert_eq!(months_since_fatal(&d, 0, 4), Some(2)); // month 1, two months before month 3
    assert_eq!(months_since_fatal(&d, 1, 6), Some(5));
    assert_eq!(months_since_fatal(&d, 2, 5), None);
    let names = features::names(&d);
    let row = features::row(&d, 2, 5, 1);
    let get = |name: &str| row[names.iter().position(|n| n == name).unwrap()];
    assert!(close(
        get("since_fatal"),
        (features::MAX_GAP as f64).ln_1p()
    ));
    assert_eq!(get("never_fatal"), 1.0);
    let row = features::row(&d, 0, 4, 1);
    assert!(close(
        row[names.iter().position(|n| n == "since_fatal").unwrap()],
        3f64.ln()
    ));
}

#[test]
fn season_of_the_target_month() {
    let d = small();
    let names = features::names(&d);
    let at = |o: usize, h: usize| {
        let r = features::row(&d, 0, o, h);
        (
            r[names.iter().position(|n| n == "season_sin").unwrap()],
            r[names.iter().position(|n| n == "season_cos").unwrap()],
        )
    };
    // Origin 0 + h 1 → January 2010: angle 0. Origin 2, h 2 → April: angle π/2.
    assert!(close(at(0, 1).1, 1.0));
    assert!(close(at(2, 2).0, 1.0));
    // A target beyond the data (origin 6, h 3 → September 2010).
    let (s, c) = at(6, 3);
    let angle = 2.0 * std::f64::consts::PI * 8.0 / 12.0;
    assert!(close(s, angle.sin()) && close(c, angle.cos()));
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn event_type_mix_and_grid_neighbours_from_a_panel() {
    let fact = |gid: i64, end: &str, category: &str, killed: u32| EventFact {
        path: LocalityPath([Some(LocalityId::derived("CF")), None, None, None]),
        occurred_end: d(end),
        dimension: Dimension::Lives,
        category: category.into(),
        fatalities: Some(killed),
        civilians_targeted: false,
        displaced: None,
        source: "ucdp-ged".into(),
        where_prec: Some(1),
        priogrid: Some(gid),
    };
    let a = 100_000;
    let facts = vec![
        fact(a, "2020-01-10", "armed_violence", 2),
        fact(a, "2020-02-10", "violence_against_civilians", 0),
        fact(a, "2020-02-11", "armed_violence", 1),
        fact(a + 1, "2020-03-01", "armed_violence", 5), // east of a
        fact(a + 720, "2020-03-01", "armed_violence", 1), // north of a
        fact(a + 5, "2020-03-01", "armed_violence", 1), // far away
    ];
    let range =
        PeriodRange::covering(Granularity::Month, d("2020-01-01"), d("2020-03-31")).unwrap();
    let panel = Panel::build(&PanelSpec::new(range), &facts, &[]);
    let data = ForecastData::from_panel(&panel, Level::Grid, &[]).unwrap();
    assert_eq!(data.units().len(), 4);
    let pos = |g: i64| {
        data.units()
            .iter()
            .position(|u| *u == Unit::Cell(g))
            .unwrap()
    };
    let mut n: Vec<usize> = data.neighbours(pos(a)).to_vec();
    n.sort_unstable();
    let mut want = vec![pos(a + 1), pos(a + 720)];
    want.sort_unstable();
    assert_eq!(n, want);
    assert!(data.neighbours(pos(a + 5)).is_empty());
    assert_eq!(
        data.categories(),
        ["armed_violence", "violence_against_civilians"]
    );
    let names = features::names(&data);
    let row = features::row(&data, pos(a), 3, 1);
    let get = |name: &str| row[names.iter().position(|n| n == name).unwrap()];
    assert!(close(get("mix_armed_violence"), 2.0 / 3.0));
    assert!(close(get("mix_violence_against_civilians"), 1.0 / 3.0));
    // Cells are forecast only after their first event.
    assert!(!data.is_active(pos(a + 1), 2));
    assert!(data.is_active(pos(a + 1), 3));
    assert!(data.is_active(pos(a), 1));
    // Only monthly panels.
    let weeks = PeriodRange::covering(Granularity::Week, d("2020-01-01"), d("2020-03-31")).unwrap();
    let panel = Panel::build(&PanelSpec::new(weeks), &facts, &[]);
    assert!(matches!(
        ForecastData::from_panel(&panel, Level::Grid, &[]),
        Err(ForecastError::NotMonthly(_))
    ));
}

/// Eight units over 8 years with a seasonal, spatially correlated pattern, deterministic.
fn synthetic() -> ForecastData {
    let t_len = 96;
    let n = 8;
    let mut f = vec![vec![0u32; t_len]; n];
    let mut e = vec![vec![0u32; t_len]; n];
    let mut state: u64 = 7;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as f64 / (1u64 << 31) as f64
    };
    for u in 0..n {
        for t in 0..t_len {
            let hot = u < 3 || (u == 3 && t > 48);
            let season = if t % 12 < 4 { 2.0 } else { 1.0 };
            let rate: f64 = if hot { 0.5 * season } else { 0.05 };
            if next() < rate.min(0.95) {
                e[u][t] = 1 + (next() * 3.0) as u32;
                f[u][t] = if hot {
                    1 + (next() * 10.0) as u32
                } else {
                    (next() * 2.0) as u32
                };
            }
        }
    }
    let neighbours = (0..n)
        .map(|u| {
            [u.checked_sub(1), (u + 1 < n).then_some(u + 1)]
                .into_iter()
                .flatten()
                .collect()
        })
        .collect();
    ForecastData::from_series(
        months(t_len),
        (0..n).map(unit).collect(),
        &f,
        &e,
        neighbours,
        false,
    )
    .unwrap()
}

#[test]
fn backtest_never_uses_data_at_or_after_the_origin() {
    let data = synthetic();
    let config = BacktestConfig {
        horizons: vec![1, 3],
        from: data.months().get(70),
        to: data.months().get(75),
        min_history: 24,
        ..BacktestConfig::default()
    };
    let rows = backtest_rows(&data, &config).unwrap();
    assert_eq!(rows.len(), 2 * 6 * 8);
    for h in [1usize, 3] {
        for origin in [72usize - h, 76 - h] {
            // The data cut before the origin gives the same forecasts ...
            let cut = data.truncated(origin).unwrap();
            let live = forecast(&cut, &[h], &config.model).unwrap();
            // ... and so does data whose months at and after the origin are changed.
            let mut f: Vec<Vec<u32>> = (0..8)
                .map(|u| (0..96).map(|t| data.fatalities(u, t)).collect())
                .collect();
            let e: Vec<Vec<u32>> = (0..8)
                .map(|u| (0..96).map(|t| data.events(u, t)).collect())
                .collect();
            for s in &mut f {
                for v in s.iter_mut().skip(origin) {
                    *v = 500;
                }
            }
            let changed = ForecastData::from_series(
                data.months(),
                data.units().to_vec(),
                &f,
                &e,
                (0..8).map(|u| data.neighbours(u).to_vec()).collect(),
                false,
            )
            .unwrap();
            let rows_changed = backtest_rows(&changed, &config).unwrap();
            for r in rows.iter().filter(|r| r.h == h && r.origin == origin) {
                let lf = live.iter().find(|x| x.position == r.unit).unwrap();
                let p = lf.horizons[0].prediction;
                assert!(
                    (p.probability - r.model.probability).abs() < 1e-9,
                    "{p:?} {r:?}"
                );
                assert!((p.log1p_fatalities - r.model.log1p_fatalities).abs() < 1e-9);
                let c = rows_changed
                    .iter()
                    .find(|x| x.h == h && x.origin == origin && x.unit == r.unit)
                    .unwrap();
                assert_eq!(c.model, r.model);
                assert_eq!(c.no_change, r.no_change);
                assert_eq!(c.mean_12m, r.mean_12m);
                assert_eq!(r.target, origin + h - 1);
            }
        }
    }
}

#[test]
fn backtest_report_scores_model_and_baselines() {
    let data = synthetic();
    let config = BacktestConfig {
        horizons: vec![1, 2],
        min_history: 36,
        default_months: 48,
        refit_every: 6,
        ..BacktestConfig::default()
    };
    let report = backtest(&data, &config).unwrap();
    assert_eq!(report.from, "2014-01");
    assert_eq!(report.to, "2017-12");
    assert_eq!(report.horizons.len(), 2);
    for h in &report.horizons {
        assert_eq!(h.n, 8 * 48);
        let m = &h.models;
        // Zero: the MSE is the mean squared log1p of what happened, the Brier score the
        // share of fatal unit-months, the AUC one half.
        assert!((m.zero.brier.unwrap() - h.fatal as f64 / h.n as f64).abs() < 1e-12);
        assert_eq!(m.zero.roc_auc, Some(0.5));
        // The model ranks better than chance and beats no_change in MSE on this pattern.
        assert!(m.usalama.roc_auc.unwrap() > 0.75, "{m:?}");
        assert!(
            m.usalama.mse_log1p.unwrap() < m.no_change.mse_log1p.unwrap(),
            "{m:?}"
        );
        assert!(m.usalama.brier.unwrap() < m.zero.brier.unwrap());
    }
    // Bad windows name the field.
    let bad = BacktestConfig {
        from: data.months().get(5),
        ..config.clone()
    };
    assert!(matches!(
        backtest(&data, &bad),
        Err(ForecastError::Invalid { field: "from", .. })
    ));
    let bad = BacktestConfig {
        horizons: vec![0],
        ..config
    };
    assert!(matches!(
        backtest(&data, &bad),
        Err(ForecastError::Invalid {
            field: "horizon",
            ..
        })
    ));
}

#[test]
fn forecasts_are_deterministic_and_follow_the_history() {
    let data = synthetic();
    let a = forecast(&data, &[1, 2, 3], &ModelConfig::default()).unwrap();
    let b = forecast(&data, &[1, 2, 3], &ModelConfig::default()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 8);
    assert_eq!(a[0].horizons[2].period.to_string(), "2018-03");
    // Hot units get higher probabilities than cold ones.
    let p = |u: usize| a[u].horizons[0].prediction.probability;
    assert!(
        p(0) > p(6) && p(1) > p(7),
        "{} {} {} {}",
        p(0),
        p(6),
        p(1),
        p(7)
    );
    for f in &a {
        for h in &f.horizons {
            assert!((0.0..=1.0).contains(&h.prediction.probability));
            assert!(h.prediction.log1p_fatalities >= 0.0);
        }
    }
}

#[test]
fn detectors_are_scored_against_planted_escalations() {
    // Quiet units with one planted escalation each and one loud but steady unit.
    let t_len = 96;
    let mut f = vec![vec![0u32; t_len]; 3];
    for (u, s) in f.iter_mut().enumerate() {
        for (t, v) in s.iter_mut().enumerate() {
            *v = if t % 7 == 0 { 1 } else { 0 };
            if u < 2 && (70 + u * 5..73 + u * 5).contains(&t) {
                *v = 30;
            }
        }
    }
    let e = f.clone();
    let data = ForecastData::from_series(
        months(t_len),
        (0..3).map(unit).collect(),
        &f,
        &e,
        vec![vec![]; 3],
        false,
    )
    .unwrap();
    let def = escalation::EscalationDefinition::default();
    let r = escalation::evaluate_detectors(&data, 48, 95, &def).unwrap();
    assert_eq!(r.escalations, 2);
    for s in [r.nb_cusum, r.farrington] {
        assert_eq!(s.detected, 2, "{s:?}");
        assert_eq!(s.detection_rate, Some(1.0));
        assert_eq!(s.median_delay, Some(0.0));
        assert!(s.false_alarm_rate.unwrap() < 0.05, "{s:?}");
        assert!(s.in_control_months > 100);
    }
}
