//! Alerts as documents others' systems read: a CAP 1.2 message per alert
//! (`urn:oasis:names:tc:emergency:cap:1.2`, valid against the OASIS schema; times are
//! written with an offset, `+00:00`, because the schema's dateTime pattern refuses `Z`)
//! and an Atom feed whose entries link their CAP documents. Pure functions; every text is
//! escaped. Alerts carry aggregate facts only, so these documents are public.

use chrono::{DateTime, Utc};
use std::fmt::Write as _;
use usalama_domain::alert::{Alert, AlertStatus};

/// The media type of CAP documents.
pub const CAP_MEDIA_TYPE: &str = "application/cap+xml";
/// The media type of Atom feeds.
pub const ATOM_MEDIA_TYPE: &str = "application/atom+xml";

/// Escapes text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow are dropped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// A CAP dateTime: seconds and a numeric offset, never `Z` nor fractions.
pub fn cap_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Where the documents point: the server's base address and the sender's name.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    /// `https://usalama.example.org` (no trailing slash).
    pub base: String,
    /// The CAP sender (`usalama@usalama.example.org`).
    pub sender: String,
}

impl Origin {
    /// From a request's host (checked to hold only host characters) and scheme.
    pub fn from_host(host: Option<&str>, https: bool) -> Self {
        let host = host
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.chars().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')
                    })
            })
            .unwrap_or("localhost");
        let name = match host.find(']') {
            Some(end) => &host[..=end],
            None => host.split(':').next().unwrap_or(host),
        };
        Self {
            base: format!("{}://{host}", if https { "https" } else { "http" }),
            sender: format!("usalama@{}", name.trim_matches(['[', ']'])),
        }
    }

    /// The address of an alert's CAP document.
    pub fn cap_url(&self, alert: &Alert) -> String {
        format!("{}/api/v1/alerts/{}.cap.xml", self.base, alert.id)
    }

    /// The address of an alert's page.
    pub fn page_url(&self, alert: &Alert) -> String {
        format!("{}/alerts/{}", self.base, alert.id)
    }
}

/// The CAP identifier of an alert (`usalama-alert-<uuid>`).
pub fn identifier(alert: &Alert) -> String {
    format!("usalama-alert-{}", alert.id)
}

/// The CAP 1.2 message of an alert. A closed alert is a `Cancel` message that references
/// the original `Alert`. `event` is the rule's name for people.
pub fn cap_document(alert: &Alert, event: &str, origin: &Origin) -> String {
    let mut x = String::with_capacity(2048);
    let closed = alert.status == AlertStatus::Closed;
    let original_sent = cap_time(alert.raised_at);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n");
    let id = if closed {
        format!("{}-closed", identifier(alert))
    } else {
        identifier(alert)
    };
    let _ = writeln!(x, "  <identifier>{}</identifier>", esc(&id));
    let _ = writeln!(x, "  <sender>{}</sender>", esc(&origin.sender));
    let sent = if closed {
        cap_time(alert.updated_at)
    } else {
        original_sent.clone()
    };
    let _ = writeln!(x, "  <sent>{sent}</sent>");
    x.push_str("  <status>Actual</status>\n");
    let _ = writeln!(
        x,
        "  <msgType>{}</msgType>",
        if closed { "Cancel" } else { "Alert" }
    );
    x.push_str("  <scope>Public</scope>\n");
    if closed {
        x.push_str("  <note>Closed by the people handling the alert.</note>\n");
        let _ = writeln!(
            x,
            "  <references>{},{},{}</references>",
            esc(&origin.sender),
            esc(&identifier(alert)),
            original_sent
        );
    }
    x.push_str("  <info>\n");
    x.push_str("    <language>en</language>\n");
    x.push_str("    <category>Security</category>\n");
    let _ = writeln!(x, "    <event>{}</event>", esc(event));
    let _ = writeln!(x, "    <urgency>{}</urgency>", alert.urgency.cap_name());
    let _ = writeln!(x, "    <severity>{}</severity>", alert.severity.cap_name());
    let _ = writeln!(
        x,
        "    <certainty>{}</certainty>",
        alert.certainty.cap_name()
    );
    let _ = writeln!(
        x,
        "    <eventCode>\n      <valueName>usalama:rule</valueName>\n      <value>{}</value>\n    </eventCode>",
        esc(&alert.rule)
    );
    x.push_str("    <senderName>Usalama</senderName>\n");
    let _ = writeln!(x, "    <headline>{}</headline>", esc(&alert.headline));
    let _ = writeln!(
        x,
        "    <description>{}</description>",
        esc(&alert.description)
    );
    let _ = writeln!(x, "    <web>{}</web>", esc(&origin.page_url(alert)));
    let mut params: Vec<(String, String)> = vec![
        ("usalama:rule_kind".into(), alert.rule_kind.clone()),
        ("usalama:period".into(), alert.period.clone()),
    ];
    if let Some(d) = alert.dimension {
        params.push(("usalama:dimension".into(), d.as_str().into()));
    }
    for v in &alert.evidence.values {
        params.push((format!("usalama:{}", v.name), format!("{}", v.value)));
    }
    if let Some(m) = &alert.evidence.method {
        params.push(("usalama:method".into(), m.clone()));
    }
    for (k, v) in params {
        let _ = writeln!(
            x,
            "    <parameter>\n      <valueName>{}</valueName>\n      <value>{}</value>\n    </parameter>",
            esc(&k),
            esc(&v)
        );
    }
    x.push_str("    <area>\n");
    let _ = writeln!(
        x,
        "      <areaDesc>{}</areaDesc>",
        esc(alert.locality_name.as_deref().unwrap_or("Unplaced"))
    );
    if let Some(code) = &alert.locality_code {
        let _ = writeln!(
            x,
            "      <geocode>\n        <valueName>P-code</valueName>\n        <value>{}</value>\n      </geocode>",
            esc(code)
        );
    }
    x.push_str("    </area>\n");
    x.push_str("  </info>\n");
    x.push_str("</alert>\n");
    x
}

/// An Atom feed of alerts, newest first; each entry links its CAP document
/// (`rel="alternate" type="application/cap+xml"`) and its page.
pub fn atom_feed(alerts: &[Alert], origin: &Origin, now: DateTime<Utc>) -> String {
    let updated = alerts.iter().map(|a| a.updated_at).max().unwrap_or(now);
    let mut x = String::with_capacity(1024 + alerts.len() * 800);
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let self_url = format!("{}/api/v1/alerts/feed.atom", origin.base);
    let _ = writeln!(x, "  <id>{}</id>", esc(&self_url));
    x.push_str("  <title>Usalama alerts</title>\n");
    let _ = writeln!(x, "  <updated>{}</updated>", cap_time(updated));
    let _ = writeln!(
        x,
        "  <link rel=\"self\" type=\"{ATOM_MEDIA_TYPE}\" href=\"{}\"/>",
        esc(&self_url)
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}/alerts\"/>",
        esc(&origin.base)
    );
    x.push_str("  <author><name>Usalama</name></author>\n");
    for a in alerts {
        x.push_str("  <entry>\n");
        let _ = writeln!(x, "    <id>urn:uuid:{}</id>", a.id);
        let _ = writeln!(x, "    <title>{}</title>", esc(&a.headline));
        let _ = writeln!(x, "    <updated>{}</updated>", cap_time(a.updated_at));
        let _ = writeln!(x, "    <published>{}</published>", cap_time(a.raised_at));
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"{CAP_MEDIA_TYPE}\" href=\"{}\"/>",
            esc(&origin.cap_url(a))
        );
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            esc(&origin.page_url(a))
        );
        let _ = writeln!(
            x,
            "    <category term=\"{}\" label=\"{}\"/>",
            a.severity.as_str(),
            a.severity.cap_name()
        );
        let _ = writeln!(x, "    <summary>{}</summary>", esc(&a.description));
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats_times() {
        assert_eq!(
            esc("a<b & \"c\" 'd'\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;"
        );
        let t = DateTime::parse_from_rfc3339("2022-06-01T12:30:05.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(cap_time(t), "2022-06-01T12:30:05+00:00");
    }

    #[test]
    fn origin_trusts_only_host_characters() {
        let o = Origin::from_host(Some("usalama.example.org:8080"), true);
        assert_eq!(o.base, "https://usalama.example.org:8080");
        assert_eq!(o.sender, "usalama@usalama.example.org");
        let o = Origin::from_host(Some("evil\"><x"), false);
        assert_eq!(o.base, "http://localhost");
    }
}
