//! Webhooks over https (ureq with rustls and the webpki roots): an https URL is accepted as
//! a subscription target, and a TLS failure — here a receiver that speaks plain HTTP on
//! the port an https URL names — is a failed delivery whose logged error names TLS as the
//! cause, on every backend.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use usalama_app::{
    AlertFilter, App, DeliveryConfig, DemoData, FixedClock, NetTransport, PlacePolicy, Principal,
    ReportInput, SubmitMode, SubscriptionInput, Transport,
};
use usalama_domain::alert::{AlertSeverity, DeliveryChannel};
use usalama_domain::{Channel, Role};
use usalama_test_support::{on_every_backend, t0, DEMO_BOUNDARIES, DEMO_EVENTS};

/// A plain-TCP server that answers every connection with a plain HTTP response (no TLS).
fn plain_http_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    port
}

#[test]
fn a_tls_failure_is_named_by_the_transport() {
    let port = plain_http_server();
    let t = NetTransport::new(&DeliveryConfig::default());
    let err = t
        .post_webhook(&format!("https://127.0.0.1:{port}/hook"), &[], b"{}")
        .unwrap_err();
    assert!(err.starts_with("https:"), "{err}");
    assert!(err.contains("TLS"), "{err}");
    // The same receiver over plain http answers, with its status as the error.
    let err = t
        .post_webhook(&format!("http://127.0.0.1:{port}/hook"), &[], b"{}")
        .unwrap_err();
    assert_eq!(err, "http status 400");
}

#[test]
fn https_webhooks_are_accepted_and_tls_failures_logged_on_every_backend() {
    on_every_backend(|s| {
        let port = plain_http_server();
        let taxonomy = usalama_ingest::parse_taxonomy(usalama_ingest::DEFAULT_TAXONOMY).unwrap();
        let app = App::new(s.store.clone(), taxonomy, Arc::new(FixedClock(t0())));
        app.prepare_demo(&DemoData {
            boundaries: DEMO_BOUNDARIES.to_vec(),
            ucdp_geojson: DEMO_EVENTS,
        })
        .unwrap();
        let sub = app
            .add_subscription(
                &Principal::Operator,
                &SubscriptionInput {
                    label: "tls".into(),
                    locality: None,
                    dimension: None,
                    min_severity: AlertSeverity::Extreme,
                    channel: DeliveryChannel::Webhook,
                    target: format!("https://127.0.0.1:{port}/hook"),
                    secret: Some("0123456789abcdef0123".into()),
                },
            )
            .unwrap();
        assert!(sub.target.starts_with("https://"), "{}", s.name);
        // A report with many deaths in Bangui raises an alert for the subscription.
        app.submit_reports(
            &Principal::Token {
                label: "r".into(),
                role: Role::Reporter,
                org: usalama_domain::DEFAULT_ORG,
            },
            Channel::Api,
            vec![ReportInput {
                category: Some("armed_violence".into()),
                occurred_start: Some("2022-12-28".into()),
                place_code: Some("CF71".into()),
                killed: Some("40".into()),
                ..Default::default()
            }],
            SubmitMode::AllOrNothing,
            PlacePolicy::Strict,
        )
        .unwrap();
        let a = app
            .list_alerts(
                &Principal::Operator,
                &AlertFilter {
                    locality: Some("CF71".into()),
                    rule: Some("mass_casualty_event".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(a.len(), 1, "{}", s.name);
        let config = DeliveryConfig {
            max_attempts: 1,
            ..Default::default()
        };
        let r = app
            .deliver_due(&NetTransport::new(&config), &config)
            .unwrap();
        assert_eq!((r.attempted, r.failed), (1, 1), "{}: {r:?}", s.name);
        let d = app.alert_detail(&Principal::Operator, a[0].id).unwrap();
        assert_eq!(d.deliveries.len(), 1, "{}", s.name);
        let e = d.deliveries[0].error.as_deref().unwrap();
        assert!(e.contains("TLS"), "{}: {e}", s.name);
    });
}
