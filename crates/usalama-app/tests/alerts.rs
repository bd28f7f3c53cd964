//! Alerts on the bundled demo data, on every backend: the default rules raise alerts and
//! raise each only once; each rule kind fires as written (index, detectors, forecasts
//! through a closure, events, verified reports); the lifecycle refuses wrong moves and
//! stale writes; deliveries reach a local SMTP sink and a local webhook receiver that
//! checks the HMAC signature and fails the first request, which is retried after the
//! back-off, every attempt logged. Plus an ignored timing of "one new event to alert
//! decision".

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use usalama_app::{
    parse_alert_rules, AlertFilter, App, AppError, Clock, DeliveryConfig, DemoData, ForecastPoint,
    ItemOutcome, NetTransport, PlacePolicy, Principal, ReportInput, SubmitMode, SubscriptionInput,
};
use usalama_domain::alert::{AlertSeverity, AlertStatus, Certainty, DeliveryChannel};
use usalama_domain::{AdminLevel, Channel, Decision, DecisionStatus, Role};
use usalama_test_support::{on_every_backend, t0, TestStore, DEMO_BOUNDARIES, DEMO_EVENTS};

/// A clock the test moves forward.
struct TestClock(Mutex<DateTime<Utc>>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

fn app_with_clock(s: &TestStore) -> (App, Arc<TestClock>) {
    let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
    let clock = Arc::new(TestClock(Mutex::new(t0())));
    (App::new(s.store.clone(), taxonomy, clock.clone()), clock)
}

fn demo(app: &App) -> usize {
    app.prepare_demo(&DemoData {
        boundaries: DEMO_BOUNDARIES.to_vec(),
        ucdp_geojson: DEMO_EVENTS,
    })
    .unwrap()
    .alerts_raised
}

fn token(role: Role) -> Principal {
    Principal::Token {
        label: format!("test-{role}"),
        role,
        org: usalama_domain::DEFAULT_ORG,
    }
}

fn rules(app: &App, text: &str) {
    app.set_alert_rules(parse_alert_rules(text, app.taxonomy()).unwrap());
}

const GRADING: &str =
    "level = \"adm1\"\nseverity = \"severe\"\nurgency = \"expected\"\ncertainty = \"likely\"\n";

/// One rule of `kind` (its lines after `kind = `) named after its id, graded as GRADING.
fn rule(id: &str, kind: &str) -> String {
    format!("[[rule]]\nid = \"{id}\"\nname = \"{id}\"\nkind = {kind}\n{GRADING}")
}

/// Loads the demo under a rule that never fires: the demo raises no alert.
fn quiet_demo(app: &App) {
    rules(app, "[[rule]]\nid = \"none\"\nname = \"n\"\nkind = \"events\"\nmin_fatalities = 100000\nseverity = \"minor\"\nurgency = \"future\"\ncertainty = \"possible\"\n");
    assert_eq!(demo(app), 0);
}

/// The alerts of a rule and/or about a locality (or below it).
fn alerts(
    app: &App,
    rule: Option<&str>,
    locality: Option<&str>,
) -> Vec<usalama_domain::alert::Alert> {
    app.list_alerts(
        &Principal::Operator,
        &AlertFilter {
            rule: rule.map(str::to_string),
            locality: locality.map(str::to_string),
            ..Default::default()
        },
    )
    .unwrap()
}

/// A reporter's armed-violence report through the API, one transaction.
fn report(app: &App, place: &str, day: &str, killed: u32, id: Option<String>) -> ItemOutcome {
    app.submit_reports(
        &token(Role::Reporter),
        Channel::Api,
        vec![ReportInput {
            category: Some("armed_violence".into()),
            occurred_start: Some(day.into()),
            place_code: Some(place.into()),
            killed: Some(killed.to_string()),
            external_id: id,
            ..Default::default()
        }],
        SubmitMode::AllOrNothing,
        PlacePolicy::Strict,
    )
    .unwrap()
    .remove(0)
}

/// A subscription to alerts at least `min` severe, by e-mail or webhook.
fn subscription(
    label: &str,
    locality: Option<&str>,
    min: AlertSeverity,
    channel: DeliveryChannel,
    target: &str,
    secret: Option<&str>,
) -> SubscriptionInput {
    SubscriptionInput {
        label: label.into(),
        locality: locality.map(str::to_string),
        dimension: None,
        min_severity: min,
        channel,
        target: target.into(),
        secret: secret.map(str::to_string),
    }
}

#[test]
fn demo_raises_alerts_once_on_every_backend() {
    on_every_backend(|s| {
        let (app, _) = app_with_clock(s);
        let raised = demo(&app);
        assert!(raised >= 1, "{}: the demo raises alerts", s.name);
        let all = alerts(&app, None, None);
        assert_eq!(all.len(), raised, "{}", s.name);
        // The 51 deaths of 9 December 2022 in Haute-Kotto.
        let mass: Vec<_> = all
            .iter()
            .filter(|a| a.rule == "mass_casualty_event")
            .collect();
        assert_eq!(mass.len(), 1, "{}: {mass:?}", s.name);
        let a = mass[0];
        assert_eq!(a.locality_code.as_deref(), Some("CF52"), "{}", s.name);
        assert_eq!(a.period, "2022-12");
        assert_eq!(a.severity, AlertSeverity::Extreme);
        assert_eq!(a.certainty, Certainty::Observed);
        assert_eq!(a.evidence.value("fatalities"), Some(51.0));
        assert_eq!(a.evidence.events.len(), 1);
        assert_eq!(a.status, AlertStatus::New);
        // Every index alert is at or above its threshold.
        for a in all.iter().filter(|a| a.rule_kind == "index_threshold") {
            assert!(a.evidence.value("index").unwrap() >= a.evidence.value("threshold").unwrap());
        }

        // Evaluating again raises nothing new: one alert per rule, locality and period.
        let again = app.evaluate_alerts(&Principal::Operator).unwrap();
        assert!(again.raised.is_empty(), "{}: {:?}", s.name, again.raised);
        assert_eq!(again.already_raised, raised, "{}", s.name);
        // The forecast rule reads the application's own forecasts: it runs, and any
        // alert it raised carries a probability at or above the rule's.
        assert!(
            !again.notes.iter().any(|n| n.contains("no forecast model")),
            "{}: {:?}",
            s.name,
            again.notes
        );
        for a in all.iter().filter(|a| a.rule_kind == "forecast") {
            assert!(a.evidence.value("probability").unwrap() >= 0.8, "{a:?}");
        }
        // Filters: severity and locality subtree.
        let extreme = app
            .list_alerts(
                &Principal::Operator,
                &AlertFilter {
                    min_severity: Some(AlertSeverity::Extreme),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(extreme.iter().all(|a| a.severity == AlertSeverity::Extreme));
        let in_cf52 = alerts(&app, None, Some("CF52"));
        assert!(!in_cf52.is_empty());
        assert!(in_cf52
            .iter()
            .all(|a| a.locality_code.as_deref() == Some("CF52")));
        // Evaluating needs a role that handles alerts.
        assert!(matches!(
            app.evaluate_alerts(&Principal::Anonymous),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            app.evaluate_alerts(&token(Role::Reporter)),
            Err(AppError::Forbidden(_))
        ));
    });
}

#[test]
fn lifecycle_on_every_backend() {
    on_every_backend(|s| {
        let (app, _) = app_with_clock(s);
        demo(&app);
        let a = alerts(&app, None, None).remove(0);
        let analyst = token(Role::Analyst);
        let responder = token(Role::Responder);
        // Wrong roles and wrong moves.
        assert!(matches!(
            app.change_alert_status(
                &Principal::Anonymous,
                a.id,
                AlertStatus::Acknowledged,
                None,
                None
            ),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            app.change_alert_status(
                &token(Role::Reporter),
                a.id,
                AlertStatus::Acknowledged,
                None,
                None
            ),
            Err(AppError::Forbidden(_))
        ));
        let e = app
            .change_alert_status(&analyst, a.id, AlertStatus::Responded, None, None)
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { field, .. } if field == "status"),
            "{e}"
        );
        // Forward.
        let b = app
            .change_alert_status(
                &analyst,
                a.id,
                AlertStatus::Acknowledged,
                Some(AlertStatus::New),
                Some("looking"),
            )
            .unwrap();
        assert_eq!(b.status, AlertStatus::Acknowledged);
        // Someone who saw it still new is told it changed.
        let e = app
            .change_alert_status(
                &responder,
                a.id,
                AlertStatus::Closed,
                Some(AlertStatus::New),
                None,
            )
            .unwrap_err();
        assert!(
            matches!(
                &e,
                AppError::Conflict {
                    code: "status_conflict",
                    ..
                }
            ),
            "{e}"
        );
        app.change_alert_status(
            &responder,
            a.id,
            AlertStatus::Responded,
            None,
            Some("team sent"),
        )
        .unwrap();
        let c = app
            .change_alert_status(&responder, a.id, AlertStatus::Closed, None, None)
            .unwrap();
        assert_eq!(c.status, AlertStatus::Closed);
        assert!(app
            .change_alert_status(&analyst, a.id, AlertStatus::Acknowledged, None, None)
            .is_err());
        // The history names who and when for readers, and nobody for the public.
        let d = app.alert_detail(&analyst, a.id).unwrap();
        let steps: Vec<_> = d
            .history
            .iter()
            .map(|h| (h.from, h.to, h.by.clone()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (None, AlertStatus::New, "system".to_string()),
                (
                    Some(AlertStatus::New),
                    AlertStatus::Acknowledged,
                    "token:test-analyst".into()
                ),
                (
                    Some(AlertStatus::Acknowledged),
                    AlertStatus::Responded,
                    "token:test-responder".into()
                ),
                (
                    Some(AlertStatus::Responded),
                    AlertStatus::Closed,
                    "token:test-responder".into()
                ),
            ],
            "{}",
            s.name
        );
        assert_eq!(d.history[1].note.as_deref(), Some("looking"));
        // Alerts are for readers of event records: anonymous callers and reporters are
        // refused (the public see coarsened summaries, `public_alerts`).
        assert!(matches!(
            app.alert_detail(&Principal::Anonymous, a.id),
            Err(AppError::Unauthenticated)
        ));
        assert!(matches!(
            app.list_alerts(&token(Role::Reporter), &AlertFilter::default()),
            Err(AppError::Forbidden(_))
        ));
    });
}

#[test]
fn every_rule_kind_fires_as_written() {
    on_every_backend(|s| {
        let (app, _) = app_with_clock(s);
        quiet_demo(&app);
        let op = Principal::Operator;

        // Index: a threshold of 0 fires for every province with a value in the last month.
        rules(&app, &rule("idx", "\"index_threshold\"\nthreshold = 0.0"));
        let e = app.evaluate_alerts(&op).unwrap();
        let table = app
            .index_table(
                &op,
                usalama_app::analytics::panel::Level::Adm1,
                usalama_app::analytics::period::Granularity::Month,
                None,
                None,
            )
            .unwrap();
        let with_value = table.rows.iter().filter(|r| r.value.is_some()).count();
        assert_eq!(e.raised.len(), with_value, "{}", s.name);
        assert!(e.raised.iter().all(|a| a.period == "2022-12"));

        // Detectors: every signal states observed above threshold.
        let detector = |id: &str, method: &str, false_alarm: f64| {
            let kind = format!(
                "\"detector\"\nmethod = \"{method}\"\nmeasure = \"events\"\nfalse_alarm = {false_alarm:?}"
            );
            rule(id, &kind)
        };
        rules(
            &app,
            &(detector("cusum", "nb_cusum", 2.0) + &detector("farr", "farrington", 0.4)),
        );
        let e = app.evaluate_alerts(&op).unwrap();
        assert!(
            !e.raised.is_empty(),
            "{}: permissive detectors signal somewhere",
            s.name
        );
        for a in &e.raised {
            let obs = a.evidence.value("observed").unwrap();
            let exp = a.evidence.value("expected").unwrap();
            assert!(obs > exp, "{}: {a:?}", s.name);
            assert!(a.evidence.method.is_some());
        }

        // Forecasts through the closure the app is given: only probabilities at or above p.
        let cf52 = app.resolve_locality("CF52").unwrap().id;
        let cf71 = app.resolve_locality("CF71").unwrap().id;
        rules(
            &app,
            &rule("fc", "\"forecast\"\nprobability = 0.7\nhorizon = 1"),
        );
        app.set_forecast_source(Arc::new(move |level: AdminLevel, horizon: u8| {
            assert_eq!((level, horizon), (AdminLevel::Adm1, 1));
            Ok(vec![
                ForecastPoint {
                    locality: cf52,
                    period: "2023-01".into(),
                    probability: 0.9,
                },
                ForecastPoint {
                    locality: cf71,
                    period: "2023-01".into(),
                    probability: 0.2,
                },
            ])
        }));
        let e = app.evaluate_alerts(&op).unwrap();
        assert_eq!(e.raised.len(), 1, "{}", s.name);
        assert_eq!(e.raised[0].locality, Some(cf52));
        assert_eq!(e.raised[0].evidence.value("probability"), Some(0.9));

        // Events of chosen categories, within the window before the latest event.
        rules(
            &app,
            &rule(
                "cat",
                "\"events\"\ncategories = [\"violence_against_civilians\"]",
            ),
        );
        let e = app.evaluate_alerts(&op).unwrap();
        assert!(!e.raised.is_empty(), "{}", s.name);
        for a in &e.raised {
            assert!(a.period.as_str() >= "2022-11", "{a:?}");
            assert!(!a.evidence.events.is_empty());
        }

        // A verified report in a watched locality; not before verification.
        rules(
            &app,
            &rule("watch", "\"verified_report\"\nlocalities = [\"CF71\"]"),
        );
        app.evaluate_alerts(&op).unwrap();
        let out = report(&app, "CF71", "2022-12-20", 2, None);
        let ItemOutcome::Stored(r) = &out else {
            panic!("{}: {out:?}", s.name)
        };
        assert!(
            alerts(&app, Some("watch"), None).is_empty(),
            "{}: unverified reports do not fire",
            s.name
        );
        let v = app.get_event_versioned(&op, r.id).unwrap();
        let d = Decision::new(
            DecisionStatus::Verified,
            Some("confirmed by phone"),
            None,
            None,
        )
        .unwrap();
        app.decide(&token(Role::Analyst), r.id, &d, v.version)
            .unwrap();
        let w = alerts(&app, Some("watch"), None);
        assert_eq!(
            w.len(),
            1,
            "{}: the decision raises the alert at once",
            s.name
        );
        assert_eq!(w[0].locality, Some(cf71));
        assert_eq!(w[0].evidence.events, vec![r.id]);
        // A full evaluation reads the verified report too, and raises it no second time.
        let again = app.evaluate_alerts(&op).unwrap();
        assert_eq!(
            (again.raised.len(), again.already_raised),
            (0, 1),
            "{}",
            s.name
        );
        assert!(
            !w[0].description.contains("confirmed"),
            "no words of the report or decision"
        );
    });
}

/// A local server on a free port: `serve` answers each connection (reading from the
/// buffered reader, writing to the stream) and keeps what it got in the shared list.
fn local_server<T: Send + 'static>(
    serve: impl Fn(BufReader<TcpStream>, TcpStream, &Mutex<Vec<T>>) + Send + 'static,
) -> (u16, Arc<Mutex<Vec<T>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(w) = conn else { continue };
            let r = BufReader::new(w.try_clone().unwrap());
            serve(r, w, &keep);
        }
    });
    (port, got)
}

/// A tiny SMTP server: accepts every message and keeps its data.
fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    local_server(|mut r, mut w, keep| {
        let _ = w.write_all(b"220 sink ESMTP\r\n");
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let cmd = line.trim_end().to_ascii_uppercase();
            if cmd.starts_with("EHLO") || cmd.starts_with("HELO") {
                let _ = w.write_all(b"250-sink\r\n250 8BITMIME\r\n");
            } else if cmd.starts_with("DATA") {
                let _ = w.write_all(b"354 go ahead\r\n");
                let mut data = String::new();
                loop {
                    let mut l2 = String::new();
                    if r.read_line(&mut l2).unwrap_or(0) == 0 || l2 == ".\r\n" {
                        break;
                    }
                    // Undo SMTP dot-stuffing (RFC 5321, 4.5.2).
                    if l2.starts_with("..") {
                        l2.remove(0);
                    }
                    data.push_str(&l2);
                }
                keep.lock().unwrap().push(data);
                let _ = w.write_all(b"250 queued\r\n");
            } else if cmd.starts_with("QUIT") {
                let _ = w.write_all(b"221 bye\r\n");
                break;
            } else {
                let _ = w.write_all(b"250 OK\r\n");
            }
        }
    })
}

/// One request the webhook receiver got: headers (lowercase names) and body.
type Hook = (Vec<(String, String)>, Vec<u8>);

/// A tiny HTTP server answering 500 to the first request and 204 to the others.
fn webhook_receiver() -> (u16, Arc<Mutex<Vec<Hook>>>) {
    local_server(|mut r, mut w, keep| {
        let mut headers = Vec::new();
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            let t = line.trim_end();
            if t.is_empty() {
                break;
            }
            if let Some((k, v)) = t.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let first = {
            let mut g = keep.lock().unwrap();
            g.push((headers, body));
            g.len() == 1
        };
        let status = if first {
            "500 Internal Server Error"
        } else {
            "204 No Content"
        };
        let _ = w.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        );
    })
}

/// `sha256=` and the hex HMAC-SHA256 of `"<timestamp>." + body` under `secret`.
fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[test]
fn deliveries_reach_smtp_and_signed_webhook_with_retry_on_every_backend() {
    on_every_backend(|s| {
        let (app, clock) = app_with_clock(s);
        let (smtp_port, mails) = smtp_sink();
        let (hook_port, hooks) = webhook_receiver();
        let admin = Principal::Operator;
        // Subscriptions made before the boundaries exist cannot name a locality; the demo
        // is loaded first without alerts, then the rules are evaluated.
        quiet_demo(&app);
        let secret = "a-long-webhook-secret-0123456789";
        let (extreme, email, webhook) = (
            AlertSeverity::Extreme,
            DeliveryChannel::Email,
            DeliveryChannel::Webhook,
        );
        let hook = format!("http://127.0.0.1:{hook_port}/hook");
        for sub in [
            subscription(
                "desk",
                Some("CF52"),
                extreme,
                email,
                "desk@example.org",
                None,
            ),
            subscription("hook", None, extreme, webhook, &hook, Some(secret)),
            // A subscription about another province gets nothing.
            subscription(
                "bangui",
                Some("CF71"),
                extreme,
                email,
                "bangui@example.org",
                None,
            ),
        ] {
            app.add_subscription(&admin, &sub).unwrap();
        }
        let bad = app.add_subscription(
            &admin,
            &subscription(
                "x",
                None,
                AlertSeverity::Minor,
                webhook,
                "http://127.0.0.1:1/",
                Some("short"),
            ),
        );
        assert!(matches!(bad, Err(AppError::Invalid { ref field, .. }) if field == "secret"));
        app.set_alert_rules(
            parse_alert_rules(usalama_app::DEFAULT_ALERT_RULES, app.taxonomy()).unwrap(),
        );
        let e = app.evaluate_alerts(&admin).unwrap();
        let extreme: Vec<_> = e
            .raised
            .iter()
            .filter(|a| a.severity == AlertSeverity::Extreme)
            .collect();
        assert_eq!(extreme.len(), 1, "{}", s.name);
        let alert = extreme[0].clone();

        let config = DeliveryConfig {
            smtp_host: Some("127.0.0.1".into()),
            smtp_port,
            from: "alerts@usalama.test".into(),
            max_attempts: 3,
            backoff: std::time::Duration::from_secs(60),
            timeout: std::time::Duration::from_secs(5),
            public_url: "http://usalama.test".into(),
            ..Default::default()
        };
        let transport = NetTransport::new(&config);
        let r1 = app.deliver_due(&transport, &config).unwrap();
        assert_eq!(
            (r1.attempted, r1.delivered, r1.retrying),
            (2, 1, 1),
            "{}: {r1:?}",
            s.name
        );
        assert_eq!(mails.lock().unwrap().len(), 1);
        // Undo quoted-printable soft line breaks.
        let mail = mails.lock().unwrap()[0]
            .replace("=\r\n", "")
            .replace("=3D", "=");
        assert!(mail.contains("desk@example.org"), "{mail}");
        assert!(mail.contains("Extreme"), "{mail}");
        assert!(
            mail.contains(&format!(
                "http://usalama.test/api/v1/alerts/{}.cap.xml",
                alert.id
            )),
            "{mail}"
        );

        // Not due before the back-off.
        let r = app.deliver_due(&transport, &config).unwrap();
        assert_eq!(r.attempted, 0, "{}", s.name);
        clock.advance(Duration::seconds(61));
        let r2 = app.deliver_due(&transport, &config).unwrap();
        assert_eq!((r2.attempted, r2.delivered), (1, 1), "{}: {r2:?}", s.name);
        assert_eq!(app.deliver_due(&transport, &config).unwrap().attempted, 0);

        // Both webhook requests carry a valid signature over timestamp and body.
        let hooks = hooks.lock().unwrap().clone();
        assert_eq!(hooks.len(), 2, "{}", s.name);
        for (headers, body) in &hooks {
            let h = |n: &str| {
                headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
                    .unwrap()
            };
            let ts = h("x-usalama-timestamp");
            let expected = signature(secret.as_bytes(), &ts, body);
            assert_eq!(h("x-usalama-signature"), expected, "{}", s.name);
            assert_ne!(
                h("x-usalama-signature"),
                signature(b"another-secret-0123456789", &ts, body)
            );
            let json: serde_json::Value = serde_json::from_slice(body).unwrap();
            assert_eq!(json["id"], alert.id.to_string());
            assert_eq!(json["severity"], "extreme");
            assert_eq!(h("content-type"), "application/json");
        }

        // Every attempt is logged: the email once, the webhook failed then delivered.
        let d = app.alert_detail(&Principal::Operator, alert.id).unwrap();
        let mut log: Vec<_> = d
            .deliveries
            .iter()
            .map(|l| (l.channel, l.attempt, l.ok, l.status.clone()))
            .collect();
        log.sort_by_key(|l| (l.0.as_str(), l.1));
        assert_eq!(
            log,
            vec![
                (DeliveryChannel::Email, 1, true, "delivered".to_string()),
                (DeliveryChannel::Webhook, 1, false, "delivered".to_string()),
                (DeliveryChannel::Webhook, 2, true, "delivered".to_string()),
            ],
            "{}",
            s.name
        );
        let failed = d.deliveries.iter().find(|l| !l.ok).unwrap();
        assert!(
            failed.error.as_deref().unwrap().contains("500"),
            "{failed:?}"
        );
    });
}

#[test]
fn deliveries_give_up_after_max_attempts() {
    on_every_backend(|s| {
        let (app, clock) = app_with_clock(s);
        demo(&app);
        app.add_subscription(
            &Principal::Operator,
            &subscription(
                "nowhere",
                None,
                AlertSeverity::Extreme,
                DeliveryChannel::Email,
                "x@example.org",
                None,
            ),
        )
        .unwrap();
        // A new alert after the subscription: a report with many deaths in Bangui.
        let out = report(&app, "CF71", "2022-12-28", 40, None);
        assert!(matches!(out, ItemOutcome::Stored(_)), "{out:?}");
        let a = alerts(&app, Some("mass_casualty_event"), Some("CF71"));
        assert_eq!(
            a.len(),
            1,
            "{}: the report raised its alert at once",
            s.name
        );
        assert_eq!(a[0].certainty, Certainty::Possible, "an unverified report");
        // No SMTP relay configured: every attempt fails; two attempts, then failed.
        let config = DeliveryConfig {
            max_attempts: 2,
            backoff: std::time::Duration::from_secs(1),
            ..Default::default()
        };
        let t = NetTransport::new(&config);
        assert_eq!(app.deliver_due(&t, &config).unwrap().retrying, 1);
        clock.advance(Duration::seconds(2));
        assert_eq!(app.deliver_due(&t, &config).unwrap().failed, 1);
        clock.advance(Duration::hours(2));
        assert_eq!(app.deliver_due(&t, &config).unwrap().attempted, 0);
        let d = app.alert_detail(&Principal::Operator, a[0].id).unwrap();
        assert_eq!(d.deliveries.len(), 2);
        assert!(d.deliveries.iter().all(|l| l.status == "failed" && !l.ok));
        assert!(d.deliveries[0].error.as_deref().unwrap().contains("SMTP"));
        // Removing the subscription keeps its delivery log; only administrators may.
        let subs = app.list_subscriptions(&Principal::Operator).unwrap();
        assert_eq!(subs.len(), 1);
        assert!(matches!(
            app.list_subscriptions(&token(Role::Analyst)),
            Err(AppError::Forbidden(_))
        ));
        app.delete_subscription(&Principal::Operator, subs[0].id)
            .unwrap();
        assert!(matches!(
            app.delete_subscription(&Principal::Operator, subs[0].id),
            Err(AppError::NotFound(_))
        ));
        assert!(app
            .list_subscriptions(&Principal::Operator)
            .unwrap()
            .is_empty());
        let d = app.alert_detail(&Principal::Operator, a[0].id).unwrap();
        assert_eq!(d.deliveries.len(), 2, "{}", s.name);
    });
}

/// "One new event to alert decision": a report submitted through the application (stored,
/// placed, judged by the event rules, its alert stored) on the demo data, SQLite. Run with
/// `cargo test -p usalama-app --release --test alerts -- --ignored --nocapture`.
#[test]
#[ignore]
fn time_one_new_event_to_alert_decision() {
    let s = usalama_test_support::sqlite();
    let (app, _) = app_with_clock(&s);
    demo(&app);
    let mut times = Vec::new();
    for i in 0..31 {
        let start = std::time::Instant::now();
        let place = ["CF71", "CF11", "CF12", "CF52"][i % 4];
        let out = report(&app, place, "2022-12-20", 25, Some(format!("bench-{i}")));
        times.push(start.elapsed());
        assert!(matches!(out, ItemOutcome::Stored(_)));
    }
    times.sort();
    let median = times[times.len() / 2];
    let raised = alerts(&app, Some("mass_casualty_event"), None).len();
    let start = std::time::Instant::now();
    app.evaluate_alerts(&Principal::Operator).unwrap();
    let full = start.elapsed();
    println!(
        "one new event to alert decision: median {:.1} ms (min {:.1}, max {:.1}, n = {}); {raised} mass-casualty alerts; full evaluation of every rule after the writes: {:.0} ms",
        median.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3,
        times.len(),
        full.as_secs_f64() * 1e3
    );
}
