//! The situation report on the demo data: the headline figures of June 2022 and May 2022
//! equal counts made independently from the stored events (when at least k; "withheld"
//! otherwise), hotspots are provinces with published counts, and the page is public,
//! printable and free of scripts, in English and French.

use std::collections::HashMap;
use std::sync::Arc;
use usalama_app::analytics::period::Period;
use usalama_app::{App, DemoData, FixedClock};
use usalama_domain::VerificationStatus;
use usalama_store::EventQuery;
use usalama_test_support::{stores, t0, DEMO_BOUNDARIES, DEMO_EVENTS};
use usalama_web::ui::i18n::Lang;
use usalama_web::{AppState, WebConfig};

#[test]
fn sitrep_headlines_match_independent_counts() {
    for s in stores() {
        let name = s.name;
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        // Independent count: events by month of their end date, by dimension.
        let mut by_month: HashMap<String, (u64, u64, [u64; 3])> = HashMap::new();
        s.store
            .scan_events(&EventQuery::default(), 500, &mut |batch| {
                for p in batch {
                    let e = &p.event;
                    if matches!(
                        e.status,
                        VerificationStatus::Rejected | VerificationStatus::DuplicateOf(_)
                    ) {
                        continue;
                    }
                    let m = e.occurred_end.format("%Y-%m").to_string();
                    let c = by_month.entry(m).or_default();
                    c.0 += 1;
                    c.1 += u64::from(e.fatalities());
                    c.2[usalama_app::dimension_index(e.dimension)] += 1;
                }
                Ok(())
            })
            .unwrap();
        let figures = app.public_figures(None).unwrap();
        for month in ["2022-06", "2022-05"] {
            let p: Period = month.parse().unwrap();
            let i = figures.month_index(p).unwrap();
            let got = &figures.cube.months[i];
            let want = by_month[month];
            assert!(want.0 >= 5, "{name}: {month} has {} events", want.0);
            match got.total.events {
                Some(n) => {
                    assert_eq!(n, want.0, "{name}: {month}");
                    assert_eq!(got.total.fatalities, Some(want.1), "{name}: {month}");
                }
                None => panic!("{name}: {month} total ({}) withheld", want.0),
            }
            for d in 0..3 {
                match got.by_dimension[d].events {
                    Some(n) => assert_eq!(n, want.2[d], "{name}: {month} dim {d}"),
                    None => assert!(want.2[d] > 0, "{name}: a zero is never withheld"),
                }
            }
        }
        let state = AppState::new(app.clone(), WebConfig::default());
        let june: Period = "2022-06".parse().unwrap();
        let html = usalama_web::sitrep_html(&state, june, None, Lang::En).unwrap();
        let (events, fatalities, _) = by_month["2022-06"];
        let (may_events, _, _) = by_month["2022-05"];
        assert!(html.contains("Situation report, 2022-06"), "{name}");
        assert!(
            html.contains(&format!("<td class=\"n\">{events}</td>")),
            "{name}"
        );
        assert!(
            html.contains(&format!("<td class=\"n\">{fatalities}</td>")),
            "{name}"
        );
        let diff = events as i64 - may_events as i64;
        let shown = if diff > 0 {
            format!("+{diff}")
        } else if diff < 0 {
            format!("−{}", -diff)
        } else {
            "0".into()
        };
        assert!(
            html.contains(&format!("<td class=\"n\">{shown}</td>")),
            "{name}"
        );
        assert!(html.contains("Alerts: not available in this build."));
        assert!(html.contains("<svg") && html.contains("<style>"));
        assert!(!html.contains("<script"));
        let fr = usalama_web::sitrep_html(&state, june, None, Lang::Fr).unwrap();
        assert!(fr.contains("Rapport de situation, 2022-06"));
        // A month without data is refused.
        assert!(
            usalama_web::sitrep_html(&state, "1970-01".parse().unwrap(), None, Lang::En).is_err()
        );
        drop(s);
    }
}
