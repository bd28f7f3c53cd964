//! The situation report on the demo data: the headline figures of June 2022 and May 2022
//! equal counts made independently from the stored events (when at least k; "withheld"
//! otherwise), hotspots are provinces with published counts, and the page is public,
//! printable and free of scripts, in English and French.

use std::collections::HashMap;
use std::sync::Arc;
use usalama_app::analytics::period::Period;
use usalama_app::{AlertFilter, App, DemoData, FixedClock, Principal};
use usalama_domain::alert::AlertStatus;
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
        // The alerts section: June 2022 lists the alerts about it, or says there is none.
        let june_alerts = app.public_alerts_in(june).unwrap();
        if june_alerts.is_empty() {
            assert!(
                html.contains("No alert was raised about this month."),
                "{name}"
            );
        } else {
            for a in &june_alerts {
                assert!(html.contains(&format!("/alerts/{}", a.id)), "{name}");
            }
        }
        assert!(html.contains("<svg") && html.contains("<style>"));
        assert!(!html.contains("<script"));
        let fr = usalama_web::sitrep_html(&state, june, None, Lang::Fr).unwrap();
        assert!(fr.contains("Rapport de situation, 2022-06"));
        // The last month of the demo has its alerts: each listed, with its area at the
        // public level (no ADM2 code), no free text (headline, note), and its follow-up.
        let last = *figures.months.last().unwrap();
        let all = app
            .list_alerts(&Principal::Operator, &AlertFilter::default())
            .unwrap();
        let about: Vec<_> = all
            .iter()
            .filter(|a| a.period == last.to_string())
            .collect();
        assert!(
            !about.is_empty(),
            "{name}: the demo raises alerts about {last}"
        );
        app.change_alert_status(
            &Principal::Operator,
            about[0].id,
            AlertStatus::Acknowledged,
            None,
            Some("plantednotetext"),
        )
        .unwrap();
        let html = usalama_web::sitrep_html(&state, last, None, Lang::En).unwrap();
        assert!(!html.contains("No alert was raised"), "{name}");
        for a in &about {
            assert!(html.contains(&format!("/alerts/{}", a.id)), "{name}");
            assert!(!html.contains(&a.headline), "{name}: {}", a.headline);
            if let Some(code) = a.locality_code.as_deref().filter(|c| c.len() > 4) {
                assert!(!html.contains(code), "{name}: {code} is finer than ADM1");
            }
        }
        assert!(html.contains("<td>Acknowledged</td>"), "{name}");
        assert!(!html.contains("plantednotetext"), "{name}");
        let row_of = |id: &str| {
            let i = html.find(&format!("/alerts/{id}")).unwrap();
            html[i..].split("</tr>").next().unwrap().to_string()
        };
        let acked = row_of(&about[0].id.to_string());
        assert!(
            acked.contains(&format!("<td>{}</td>", t0().format("%Y-%m-%d %H:%M"))),
            "{name}: {acked}"
        );
        // A month without data is refused.
        assert!(
            usalama_web::sitrep_html(&state, "1970-01".parse().unwrap(), None, Lang::En).is_err()
        );
        drop(s);
    }
}
