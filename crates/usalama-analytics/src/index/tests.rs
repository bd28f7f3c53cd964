//! Tests of the index: the shipped configuration, hand-computed values, the missing-data
//! rules and explanations whose contributions add up to the value.

use super::*;
use crate::panel::{EventFact, PanelSpec};
use chrono::NaiveDate;
use usalama_domain::{AdminLevel, IndicatorObservation, LocalityId, LocalityPath};

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn loc(code: &str) -> LocalityId {
    LocalityId::derived(code)
}

fn p(s: &str) -> Period {
    s.parse().unwrap()
}

fn range(a: &str, b: &str) -> PeriodRange {
    PeriodRange::new(p(a), p(b)).unwrap()
}

fn event(l: &str, level: usize, end: &str, dimension: Dimension, fatalities: u32) -> EventFact {
    let mut path = [None; 4];
    path[level] = Some(loc(l));
    EventFact {
        path: LocalityPath(path),
        occurred_end: d(end),
        dimension,
        category: format!("{dimension}_category"),
        fatalities: Some(fatalities),
        civilians_targeted: false,
        displaced: None,
        source: "test".into(),
        where_prec: Some(1),
        priogrid: None,
    }
}

fn events(n: usize, l: &str, end: &str, dimension: Dimension) -> Vec<EventFact> {
    (0..n).map(|_| event(l, 1, end, dimension, 1)).collect()
}

fn obs(l: &str, start: &str, code: &str, v: f64) -> IndicatorObservation {
    IndicatorObservation::new(loc(l), d(start), d(start), code, v, "", "test").unwrap()
}

fn config(text: &str) -> IndexConfig {
    let c: IndexConfig = toml::from_str(text).unwrap();
    c.validate().unwrap();
    c
}

const THREE: &str = r#"
[[indicator]]
code = "lives_events"
dimension = "lives"
measure = "events:lives"
transform = "log1p"

[[indicator]]
code = "food"
dimension = "livelihood"
measure = "indicator:food_insecure_share"
transform = "none"

[[indicator]]
code = "dignity_events"
dimension = "dignity"
measure = "events:dignity"
transform = "log1p"
"#;

/// Two provinces, two months: A has 3 then 1 lives events and 1 dignity event in January;
/// B has 0 then 7 lives events; food insecurity is 0.2 in A and 0.6 in B.
fn small_panel() -> Panel {
    let spec = PanelSpec::new(range("2022-01", "2022-02"))
        .with_localities([(loc("A"), AdminLevel::Adm1), (loc("B"), AdminLevel::Adm1)]);
    let mut facts = events(3, "A", "2022-01-10", Dimension::Lives);
    facts.extend(events(1, "A", "2022-02-10", Dimension::Lives));
    facts.extend(events(7, "B", "2022-02-10", Dimension::Lives));
    facts.extend(events(1, "A", "2022-01-20", Dimension::Dignity));
    let observations = [
        obs("A", "2022-01-01", "food_insecure_share", 0.2),
        obs("B", "2022-01-01", "food_insecure_share", 0.6),
    ];
    Panel::build(&spec, &facts, &observations)
}

fn unit(code: &str) -> Unit {
    Unit::Locality(loc(code))
}

#[test]
fn the_shipped_file_is_the_default_configuration() {
    let parsed: IndexConfig = toml::from_str(DEFAULT_INDEX_CONFIG).unwrap();
    assert_eq!(parsed, IndexConfig::default());
    parsed.validate().unwrap();
    assert_eq!(parsed.indicators.len(), 10);
    for d in Dimension::ALL {
        assert!(parsed.indicators.iter().any(|i| i.dimension == d));
    }
}

#[test]
fn configuration_mistakes_are_refused() {
    // Unknown keys and bad measures fail when the file is read.
    assert!(toml::from_str::<IndexConfig>(&format!("{THREE}\nextra = 1")).is_err());
    assert!(toml::from_str::<IndexConfig>(&THREE.replace("events:lives", "events:war")).is_err());
    assert!(toml::from_str::<IndexConfig>(&THREE.replace("\"log1p\"", "\"sqrt\"")).is_err());
    let bad = |edit: &dyn Fn(&mut IndexConfig)| {
        let mut c = config(THREE);
        edit(&mut c);
        c.validate().unwrap_err().to_string()
    };
    assert!(bad(&|c| c.indicators[1].code = "lives_events".into()).contains("twice"));
    assert!(bad(&|c| c.indicators[0].code = "Lives".into()).contains("lowercase"));
    assert!(bad(&|c| c.indicators[0].weight = -1.0).contains("weight"));
    assert!(bad(&|c| c.indicators[0].weight = f64::NAN).contains("weight"));
    assert!(bad(&|c| c.min_dimensions = 0).contains("min_dimensions"));
    assert!(bad(&|c| c.reference.upper_quantile = 0.0).contains("upper_quantile"));
    assert!(bad(&|c| c.dimensions = DimensionWeights {
        lives: 0.0,
        livelihood: 0.0,
        dignity: 0.0
    })
    .contains("every dimension"));
    assert!(bad(&|c| c.indicators.clear()).contains("no [[indicator]]"));
    assert!(bad(&|c| {
        c.reference.from = Some(p("2022-03"));
        c.reference.to = Some(p("2022-01"));
    })
    .contains("forward"));
}

#[test]
fn values_match_a_hand_computation() {
    let panel = small_panel();
    let index = HumanSecurityIndex::compute(&panel, &config(THREE)).unwrap();
    let (a, b) = (
        panel.unit_index(&unit("A")).unwrap(),
        panel.unit_index(&unit("B")).unwrap(),
    );
    // Lives: log1p of [3, 1] (A) and [0, 7] (B) → min 0, max ln 8; A in January is
    // 10·ln 4/ln 8 = 20/3. Dignity: only A in January, so 10. Food: 0.2 → 0, 0.6 → 10.
    let a_jan = index.at(a, 0).unwrap();
    assert!((a_jan.score(Dimension::Lives).unwrap() - 20.0 / 3.0).abs() < 1e-12);
    assert_eq!(a_jan.score(Dimension::Livelihood), Some(0.0));
    assert_eq!(a_jan.score(Dimension::Dignity), Some(10.0));
    let expected = ((1.0 + 20.0 / 3.0) * 1.0 * 11.0f64).cbrt() - 1.0;
    assert!((a_jan.value - expected).abs() < 1e-12, "{}", a_jan.value);
    assert!(a_jan.missing_dimensions().is_empty());

    let b_feb = index.at(b, 1).unwrap();
    let expected = (11.0 * 11.0 * 1.0f64).cbrt() - 1.0;
    assert!((b_feb.value - expected).abs() < 1e-12);
    // B in January: nothing happened (0, explicit), food 10.
    let b_jan = index.get(&unit("B"), p("2022-01")).unwrap();
    assert!((b_jan.value - (11.0f64.cbrt() - 1.0)).abs() < 1e-12);
    // The extremes: all dimensions 0 gives 0 and all 10 gives 10.
    let scaling = index.scaling("lives_events", Level::Adm1).unwrap();
    assert_eq!(
        (scaling.min, scaling.max, scaling.values),
        (0.0, 8f64.ln(), 4)
    );
}

#[test]
fn the_geometric_mean_keeps_the_ends_of_the_scale() {
    // One locality at the top of every dimension, one at the bottom.
    let spec = PanelSpec::new(range("2022-01", "2022-01"))
        .with_localities([(loc("A"), AdminLevel::Adm1), (loc("B"), AdminLevel::Adm1)]);
    let mut facts = events(5, "A", "2022-01-10", Dimension::Lives);
    facts.extend(events(5, "A", "2022-01-10", Dimension::Dignity));
    let observations = [
        obs("A", "2022-01-01", "food_insecure_share", 0.9),
        obs("B", "2022-01-01", "food_insecure_share", 0.1),
    ];
    let panel = Panel::build(&spec, &facts, &observations);
    let index = HumanSecurityIndex::compute(&panel, &config(THREE)).unwrap();
    assert_eq!(index.get(&unit("A"), p("2022-01")).unwrap().value, 10.0);
    assert_eq!(index.get(&unit("B"), p("2022-01")).unwrap().value, 0.0);
}

#[test]
fn a_dimension_without_indicators_is_left_out_and_reported() {
    // Only lives events: livelihood has no observation, dignity no variation.
    let spec = PanelSpec::new(range("2022-01", "2022-03"))
        .with_localities([(loc("A"), AdminLevel::Adm1), (loc("B"), AdminLevel::Adm1)]);
    let mut facts = events(4, "A", "2022-01-10", Dimension::Lives);
    facts.extend(events(1, "B", "2022-03-10", Dimension::Lives));
    let panel = Panel::build(&spec, &facts, &[]);
    let index = HumanSecurityIndex::compute(&panel, &config(THREE)).unwrap();
    let v = index.get(&unit("A"), p("2022-01")).unwrap();
    assert_eq!(
        v.missing_dimensions(),
        [Dimension::Livelihood, Dimension::Dignity]
    );
    // The geometric mean of one dimension is that dimension.
    assert!((v.value - v.score(Dimension::Lives).unwrap()).abs() < 1e-12);
    assert_eq!(v.value, 10.0);
    let e = index.explain(&panel, &unit("A"), p("2022-01")).unwrap();
    assert_eq!(
        e.missing_dimensions(),
        [Dimension::Livelihood, Dimension::Dignity]
    );
    let reasons: Vec<Option<Missing>> = e.inputs.iter().map(|i| i.missing).collect();
    assert_eq!(
        reasons,
        [
            None,
            Some(Missing::NotInPanel),
            Some(Missing::NotInformative)
        ]
    );
    // Requiring all three dimensions leaves every cell without a value: never 0.
    let mut strict = config(THREE);
    strict.min_dimensions = 3;
    let index = HumanSecurityIndex::compute(&panel, &strict).unwrap();
    for u in 0..panel.units().len() {
        for t in 0..3 {
            assert_eq!(index.value(u, t), None);
        }
    }
}

#[test]
fn a_cell_with_no_data_gets_no_value() {
    // Only a measured indicator: the locality without observations has no value.
    let only_food = config(
        r#"
[[indicator]]
code = "food"
dimension = "livelihood"
measure = "indicator:food_insecure_share"
transform = "none"
"#,
    );
    let spec = PanelSpec::new(range("2022-01", "2022-02")).with_localities([
        (loc("A"), AdminLevel::Adm1),
        (loc("B"), AdminLevel::Adm1),
        (loc("C"), AdminLevel::Adm1),
    ]);
    let observations = [
        obs("A", "2022-02-01", "food_insecure_share", 0.3),
        obs("B", "2022-01-01", "food_insecure_share", 0.5),
    ];
    let panel = Panel::build(&spec, &[], &observations);
    let index = HumanSecurityIndex::compute(&panel, &only_food).unwrap();
    assert_eq!(index.get(&unit("C"), p("2022-01")), None);
    assert_eq!(index.get(&unit("A"), p("2022-01")), None);
    assert_eq!(index.get(&unit("A"), p("2022-02")).unwrap().value, 0.0);
    assert_eq!(index.get(&unit("B"), p("2022-02")).unwrap().value, 10.0);
    let e = index.explain(&panel, &unit("C"), p("2022-01")).unwrap();
    assert_eq!(e.value, None);
    assert_eq!(e.inputs[0].missing, Some(Missing::NoValue));
    assert_eq!(e.total_contribution(), 0.0);
}

#[test]
fn per_100k_indicators_need_a_population() {
    let cfg = config(
        r#"
[[indicator]]
code = "rate"
dimension = "lives"
measure = "fatalities"
transform = "none"
per_100k = true
"#,
    );
    let spec = PanelSpec::new(range("2022-01", "2022-01")).with_localities([
        (loc("A"), AdminLevel::Adm1),
        (loc("B"), AdminLevel::Adm1),
        (loc("C"), AdminLevel::Adm1),
    ]);
    let mut facts = vec![event("A", 1, "2022-01-05", Dimension::Lives, 10)];
    facts.push(event("B", 1, "2022-01-05", Dimension::Lives, 10));
    facts.push(event("C", 1, "2022-01-05", Dimension::Lives, 10));
    let observations = [
        obs("A", "2020-01-01", "population", 50_000.0),
        obs("B", "2020-01-01", "population", 200_000.0),
    ];
    let panel = Panel::build(&spec, &facts, &observations);
    let index = HumanSecurityIndex::compute(&panel, &cfg).unwrap();
    let e = index.explain(&panel, &unit("A"), p("2022-01")).unwrap();
    assert_eq!(e.inputs[0].raw, Some(10.0));
    assert_eq!(e.inputs[0].population, Some(50_000.0));
    assert_eq!(e.inputs[0].transformed, Some(20.0));
    assert_eq!(e.value, Some(10.0));
    let e = index.explain(&panel, &unit("B"), p("2022-01")).unwrap();
    assert_eq!(e.inputs[0].transformed, Some(5.0));
    assert_eq!(e.value, Some(0.0));
    let e = index.explain(&panel, &unit("C"), p("2022-01")).unwrap();
    assert_eq!(e.inputs[0].missing, Some(Missing::NoPopulation));
    assert_eq!(e.value, None);
}

#[test]
fn higher_is_better_turns_the_scale_around() {
    let cfg = config(
        r#"
[[indicator]]
code = "schools"
dimension = "livelihood"
measure = "indicator:schools_open_share"
transform = "none"
higher_is_better = true
"#,
    );
    let spec = PanelSpec::new(range("2022-01", "2022-01"))
        .with_localities([(loc("A"), AdminLevel::Adm1), (loc("B"), AdminLevel::Adm1)]);
    let observations = [
        obs("A", "2022-01-01", "schools_open_share", 0.95),
        obs("B", "2022-01-01", "schools_open_share", 0.15),
    ];
    let panel = Panel::build(&spec, &[], &observations);
    let index = HumanSecurityIndex::compute(&panel, &cfg).unwrap();
    assert_eq!(index.get(&unit("A"), p("2022-01")).unwrap().value, 0.0);
    assert_eq!(index.get(&unit("B"), p("2022-01")).unwrap().value, 10.0);
}

#[test]
fn the_reference_window_and_quantile_set_the_scale() {
    let cfg = |from: &str, to: &str, q: f64| {
        let mut c = config(
            r#"
[[indicator]]
code = "events"
dimension = "lives"
measure = "events"
transform = "none"
"#,
        );
        c.reference = ReferenceConfig {
            from: Some(p(from)),
            to: Some(p(to)),
            upper_quantile: q,
        };
        c
    };
    // A: 2 events in January, 4 in February, 8 in March; B: none.
    let spec = PanelSpec::new(range("2022-01", "2022-03"))
        .with_localities([(loc("A"), AdminLevel::Adm1), (loc("B"), AdminLevel::Adm1)]);
    let mut facts = events(2, "A", "2022-01-05", Dimension::Lives);
    facts.extend(events(4, "A", "2022-02-05", Dimension::Lives));
    facts.extend(events(8, "A", "2022-03-05", Dimension::Lives));
    let panel = Panel::build(&spec, &facts, &[]);
    let a = panel.unit_index(&unit("A")).unwrap();

    // Reference January–February: max 4, so March (8) is clamped to 10 and January is 5.
    let index = HumanSecurityIndex::compute(&panel, &cfg("2022-01", "2022-02", 1.0)).unwrap();
    assert_eq!(index.reference(), 0..2);
    assert_eq!(index.value(a, 0), Some(5.0));
    assert_eq!(index.value(a, 2), Some(10.0));
    // Whole range, the maximum the 0.6 quantile of [0, 0, 0, 2, 4, 8] (nearest rank 4: 2).
    let index = HumanSecurityIndex::compute(&panel, &cfg("2021-01", "2023-12", 0.6)).unwrap();
    assert_eq!(index.reference(), 0..3);
    assert_eq!(index.scaling("events", Level::Adm1).unwrap().max, 2.0);
    assert_eq!(index.value(a, 0), Some(10.0));
    // The median is 0, the minimum: no spread, so the indicator ranks nothing.
    let index = HumanSecurityIndex::compute(&panel, &cfg("2022-01", "2022-03", 0.5)).unwrap();
    assert_eq!(index.scaling("events", Level::Adm1), None);
    assert_eq!(index.value(a, 2), None);
    // A window outside the panel, or of another granularity, is refused.
    let err = HumanSecurityIndex::compute(&panel, &cfg("2023-01", "2023-12", 1.0)).unwrap_err();
    assert!(matches!(err, IndexError::Reference(_)));
    let err = HumanSecurityIndex::compute(&panel, &cfg("2022-Q1", "2022-Q2", 1.0)).unwrap_err();
    assert!(matches!(err, IndexError::Reference(_)));
}

#[test]
fn each_level_has_its_own_scale() {
    // A country with 30 events and its province with 3: both are the worst of their level.
    let spec = PanelSpec::new(range("2022-01", "2022-02")).with_localities([
        (loc("C"), AdminLevel::Adm0),
        (loc("P"), AdminLevel::Adm1),
        (loc("Q"), AdminLevel::Adm1),
    ]);
    let mut facts: Vec<EventFact> = (0..30)
        .map(|_| event("C", 0, "2022-01-10", Dimension::Lives, 0))
        .collect();
    for f in facts.iter_mut().take(3) {
        f.path.0[1] = Some(loc("P"));
    }
    let panel = Panel::build(&spec, &facts, &[]);
    let index = HumanSecurityIndex::compute(&panel, &config(THREE)).unwrap();
    assert_eq!(index.get(&unit("C"), p("2022-01")).unwrap().value, 10.0);
    assert_eq!(index.get(&unit("P"), p("2022-01")).unwrap().value, 10.0);
    assert_eq!(index.get(&unit("Q"), p("2022-01")).unwrap().value, 0.0);
    assert_eq!(
        index.scaling("lives_events", Level::Adm0).unwrap().max,
        31f64.ln()
    );
    assert_eq!(
        index.scaling("lives_events", Level::Adm1).unwrap().max,
        4f64.ln()
    );
}

/// A deterministic generator (splitmix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn contributions_reproduce_every_index_value() {
    // 1 country, 4 provinces, 12 districts, 24 months; events of every dimension, some
    // populations and measured indicators, so that every missing-data rule occurs.
    let country = loc("country");
    let provinces: Vec<LocalityId> = (0..4).map(|i| loc(&format!("p{i}"))).collect();
    let districts: Vec<LocalityId> = (0..12).map(|i| loc(&format!("d{i}"))).collect();
    let mut spec =
        PanelSpec::new(range("2020-01", "2021-12")).with_localities([(country, AdminLevel::Adm0)]);
    spec.localities
        .extend(provinces.iter().map(|&p| (p, AdminLevel::Adm1)));
    spec.localities
        .extend(districts.iter().map(|&d| (d, AdminLevel::Adm2)));
    let mut rng = Rng(7);
    let facts: Vec<EventFact> = (0..3_000)
        .map(|_| {
            let di = rng.below(12) as usize;
            let dimension = Dimension::ALL[rng.below(3) as usize];
            EventFact {
                path: LocalityPath([
                    Some(country),
                    Some(provinces[di % 4]),
                    (rng.below(5) > 0).then_some(districts[di]),
                    None,
                ]),
                occurred_end: d("2020-01-01") + chrono::Days::new(rng.below(730)),
                dimension,
                category: format!("{dimension}_c{}", rng.below(2)),
                fatalities: (rng.below(3) > 0).then(|| rng.below(6) as u32),
                civilians_targeted: rng.below(4) == 0,
                displaced: (rng.below(10) == 0).then(|| rng.below(500) as u32),
                source: "synthetic".into(),
                where_prec: Some(1),
                priogrid: None,
            }
        })
        .collect();
    let mut observations = Vec::new();
    for (i, &p) in provinces.iter().enumerate().take(3) {
        observations.push(
            IndicatorObservation::new(
                p,
                d("2019-01-01"),
                d("2019-12-31"),
                "population",
                100_000.0 * (i + 1) as f64,
                "people",
                "census",
            )
            .unwrap(),
        );
        for m in [1, 7, 13] {
            let start =
                NaiveDate::from_ymd_opt(2020 + (m - 1) / 12, ((m - 1) % 12 + 1) as u32, 1).unwrap();
            for (code, v) in [
                ("food_insecure_share", rng.below(100) as f64 / 100.0),
                ("schools_open_share", rng.below(100) as f64 / 100.0),
            ] {
                observations.push(
                    IndicatorObservation::new(p, start, start, code, v, "", "survey").unwrap(),
                );
            }
        }
    }
    let panel = Panel::build(&spec, &facts, &observations);
    let index = HumanSecurityIndex::compute(&panel, &IndexConfig::default()).unwrap();
    let mut with_value = 0;
    let mut reasons = std::collections::HashSet::new();
    for (u, info) in panel.units().iter().enumerate() {
        for (t, period) in panel.range().iter().enumerate() {
            let e = index.explain(&panel, &info.unit, period).unwrap();
            assert_eq!(e.value, index.value(u, t));
            assert_eq!(e.inputs.len(), 10);
            reasons.extend(e.inputs.iter().filter_map(|i| i.missing));
            let Some(value) = e.value else { continue };
            with_value += 1;
            assert!((0.0..=10.0).contains(&value));
            let total = e.total_contribution();
            assert!(
                (total - value).abs() < 1e-9,
                "{} {period}: {total} vs {value}",
                info.unit
            );
            let by_dimension: f64 = e.dimensions.iter().map(|d| d.contribution).sum();
            assert!((by_dimension - value).abs() < 1e-9);
            for part in &e.dimensions {
                let of_inputs: f64 = e
                    .inputs
                    .iter()
                    .filter(|i| i.dimension == part.dimension)
                    .map(|i| i.contribution)
                    .sum();
                assert!((of_inputs - part.contribution).abs() < 1e-9);
            }
            // Each used input's scaled value is its transformed value on the level's scale.
            for i in e.inputs.iter().filter(|i| i.used) {
                let (lo, hi) = (i.reference_min.unwrap(), i.reference_max.unwrap());
                let s = (10.0 * (i.transformed.unwrap() - lo) / (hi - lo)).clamp(0.0, 10.0);
                let s = if i.higher_is_better { 10.0 - s } else { s };
                assert!((s - i.scaled.unwrap()).abs() < 1e-12);
            }
        }
    }
    assert!(with_value > 300, "{with_value}");
    for r in [Missing::NoValue, Missing::NoPopulation] {
        assert!(reasons.contains(&r), "{r:?} never occurred");
    }
}

#[test]
fn explain_refuses_another_panel_unit_or_period() {
    let panel = small_panel();
    let index = HumanSecurityIndex::compute(&panel, &config(THREE)).unwrap();
    let other = Panel::build(&PanelSpec::new(range("2022-01", "2022-03")), &[], &[]);
    assert_eq!(
        index.explain(&other, &unit("A"), p("2022-01")).unwrap_err(),
        IndexError::PanelMismatch
    );
    assert!(matches!(
        index.explain(&panel, &unit("Z"), p("2022-01")),
        Err(IndexError::UnknownUnit(_))
    ));
    assert!(matches!(
        index.explain(&panel, &unit("A"), p("2022-05")),
        Err(IndexError::UnknownPeriod(..))
    ));
}
