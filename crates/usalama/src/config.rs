//! Configuration, loaded once: defaults < TOML file < environment < flags. The file is
//! optional (`--config FILE` or `USALAMA_CONFIG`); `config/usalama.example.toml` documents
//! every key and a test keeps it loadable. Secrets can be read from a file named by a
//! `*_FILE` variable, and are redacted in Debug output.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use usalama_store::StoreLocation;

/// The configuration file's shape.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// `[server]`
    #[serde(default)]
    pub server: ServerSection,
    /// `[store]`
    #[serde(default)]
    pub store: StoreSection,
    /// `[log]`
    #[serde(default)]
    pub log: LogSection,
    /// `[security]`
    #[serde(default)]
    pub security: SecuritySection,
    /// `[retention]`
    #[serde(default)]
    pub retention: RetentionSection,
    /// Path of a taxonomy file replacing the built-in one.
    pub taxonomy: Option<PathBuf>,
    /// Path of an SMS keyword file replacing the built-in `config/sms.toml`.
    pub sms_keywords: Option<PathBuf>,
    /// `[privacy]`: the disclosure rules of public outputs.
    #[serde(default)]
    pub privacy: PrivacySection,
    /// `[alerts]`
    #[serde(default)]
    pub alerts: AlertsSection,
}

/// `[privacy]`: smallest published count, the larger one for sensitive categories, and
/// the finest level of place in public outputs.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PrivacySection {
    /// Smallest count shown publicly (default 5).
    pub k: Option<u64>,
    /// Smallest count shown for figures with sensitive categories (default 10).
    pub k_sensitive: Option<u64>,
    /// `adm1` (default), `adm2` or `adm3`.
    pub level: Option<String>,
    /// `[privacy.client_address]`: what each channel keeps of its clients' address and
    /// user agent.
    #[serde(default)]
    pub client_address: ClientAddressSection,
}

/// `[privacy.client_address]`: per channel, `"none"` (default: neither the client's IP
/// address nor its user agent is stored) or `"sealed"` (both stored sealed with the
/// report, readable only by roles that may read personal data, each read audited).
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientAddressSection {
    /// The web form.
    pub web_form: Option<String>,
    /// The JSON API.
    pub api: Option<String>,
    /// The SMS gateway webhook.
    pub sms: Option<String>,
    /// OpenRosa submissions.
    pub openrosa: Option<String>,
}

impl ClientAddressSection {
    /// The policy, or the key and value at fault.
    pub fn policy(&self) -> Result<usalama_app::ClientAddressPolicy, String> {
        let read = |key: &str, v: &Option<String>| match v.as_deref() {
            None => Ok(usalama_app::KeepClient::None),
            Some(v) => usalama_app::KeepClient::parse(v).ok_or_else(|| {
                format!("privacy.client_address.{key}: '{v}' is not \"none\" or \"sealed\"")
            }),
        };
        Ok(usalama_app::ClientAddressPolicy {
            web_form: read("web_form", &self.web_form)?,
            api: read("api", &self.api)?,
            sms: read("sms", &self.sms)?,
            openrosa: read("openrosa", &self.openrosa)?,
        })
    }
}

/// `[alerts]` settings: the rules file and how alerts are delivered.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertsSection {
    /// An alert rules file replacing the built-in `config/alerts.toml`.
    pub rules: Option<PathBuf>,
    /// The SMTP relay's host (plain SMTP, e.g. a local Postfix); none: no e-mail.
    pub smtp_host: Option<String>,
    /// The SMTP relay's port (25).
    pub smtp_port: Option<u16>,
    /// The sender address of alert e-mails.
    pub from: Option<String>,
    /// The public address of the server, for links in messages.
    pub public_url: Option<String>,
    /// Attempts per delivery (6).
    pub max_attempts: Option<u32>,
    /// Seconds before the second attempt, doubling after (30).
    pub backoff_seconds: Option<u64>,
}

impl AlertsSection {
    /// The delivery settings, defaults filled in.
    pub fn delivery(&self) -> usalama_app::DeliveryConfig {
        let d = usalama_app::DeliveryConfig::default();
        usalama_app::DeliveryConfig {
            smtp_host: self.smtp_host.clone(),
            smtp_port: self.smtp_port.unwrap_or(d.smtp_port),
            from: self.from.clone().unwrap_or(d.from.clone()),
            public_url: self.public_url.clone().unwrap_or(d.public_url.clone()),
            max_attempts: self.max_attempts.unwrap_or(d.max_attempts).max(1),
            backoff: self
                .backoff_seconds
                .map_or(d.backoff, std::time::Duration::from_secs),
            ..d
        }
    }
}

/// `[server]` settings.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Address to listen on, e.g. `127.0.0.1:8080`.
    pub bind: Option<String>,
    /// Mark cookies Secure (serving over HTTPS).
    pub secure_cookies: Option<bool>,
    /// Take client addresses from `X-Forwarded-For` (behind a reverse proxy only).
    pub trust_forwarded_for: Option<bool>,
    /// The organisation owning reports from the anonymous web form (default: `default`).
    pub report_org: Option<String>,
    /// The header a trusted reverse proxy puts the client's address in (e.g.
    /// `X-Forwarded-For`, whose last hop is taken, or `X-Real-IP`): used for the client
    /// addresses a channel keeps (`[privacy.client_address]`); unset, the socket's peer.
    pub trusted_proxy: Option<String>,
    /// `[server.rate_limits]`: requests per minute per client address; 0 turns one off.
    #[serde(default)]
    pub rate_limits: RateLimitSection,
}

/// `[server.rate_limits]` settings (requests per minute per client address).
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSection {
    /// `POST /login`.
    pub login: Option<u32>,
    /// `POST /report`.
    pub report_form: Option<u32>,
    /// `POST /api/v1/reports` and `reports:batch`.
    pub report_api: Option<u32>,
    /// `GET /api/v1/places`.
    pub places: Option<u32>,
    /// `POST /api/v1/sms/inbound`.
    pub sms: Option<u32>,
    /// `HEAD`/`POST /submission`.
    pub submission: Option<u32>,
}

impl ServerSection {
    /// The web layer's settings.
    pub fn web_config(&self) -> usalama_web::WebConfig {
        let d = usalama_web::ratelimit::RateLimits::default();
        let r = &self.rate_limits;
        usalama_web::WebConfig {
            secure_cookies: self.secure_cookies.unwrap_or(false),
            trust_forwarded_for: self.trust_forwarded_for.unwrap_or(false),
            trusted_proxy: self
                .trusted_proxy
                .as_deref()
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty()),
            rate_limits: usalama_web::ratelimit::RateLimits {
                login: r.login.unwrap_or(d.login),
                report_form: r.report_form.unwrap_or(d.report_form),
                report_api: r.report_api.unwrap_or(d.report_api),
                places: r.places.unwrap_or(d.places),
                sms: r.sms.unwrap_or(d.sms),
                submission: r.submission.unwrap_or(d.submission),
            },
        }
    }
}

/// `[store]` settings: one of the two.
#[derive(Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreSection {
    /// SQLite data directory.
    pub data_dir: Option<PathBuf>,
    /// `postgres://…` URL.
    pub database_url: Option<String>,
}

impl std::fmt::Debug for StoreSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSection")
            .field("data_dir", &self.data_dir)
            .field("database_url", &self.database_url.as_ref().map(|_| "***"))
            .finish()
    }
}

/// `[security]` settings.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecuritySection {
    /// The master key file (created on first start if missing).
    pub key_file: Option<PathBuf>,
}

/// `[retention]` settings: days personal data is kept; absent keeps it until erased.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RetentionSection {
    /// Days a report's personal data is kept after its event was decided.
    pub personal_data_days: Option<u32>,
    /// Days attachments are kept after they were received.
    pub attachment_days: Option<u32>,
}

/// `[log]` settings.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogSection {
    /// `text` or `json`.
    pub format: Option<String>,
    /// A tracing filter such as `info` or `usalama=debug`.
    pub level: Option<String>,
}

impl FileConfig {
    /// Reads and parses a TOML file, naming the file and the problem on error.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("config file {}: {}", path.display(), e.to_string().trim())
        })
    }
}

/// Where the store is, from flags/environment (already merged by clap) and the file.
pub fn store_location(
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    file: &StoreSection,
    default_dir: Option<PathBuf>,
) -> anyhow::Result<StoreLocation> {
    let url = database_url.or_else(|| read_secret_file("USALAMA_DATABASE_URL_FILE"));
    match (data_dir, url) {
        (Some(_), Some(_)) => bail!("give either --data-dir or --database-url, not both"),
        (Some(d), None) => Ok(StoreLocation::SqliteDir(d)),
        (None, Some(u)) => Ok(StoreLocation::from_url(&u)?),
        (None, None) => match (&file.data_dir, &file.database_url) {
            (Some(_), Some(_)) => {
                bail!("the config file's [store] sets both data_dir and database_url")
            }
            (Some(d), None) => Ok(StoreLocation::SqliteDir(d.clone())),
            (None, Some(u)) => Ok(StoreLocation::from_url(u)?),
            (None, None) => match default_dir {
                Some(d) => Ok(StoreLocation::SqliteDir(d)),
                None => bail!("no store given: use --data-dir DIR or --database-url URL"),
            },
        },
    }
}

/// The trimmed content of the file named by environment variable `var`, if set.
fn read_secret_file(var: &str) -> Option<String> {
    let path = std::env::var_os(var)?;
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_stays_loadable() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/usalama.example.toml"
        );
        let c = FileConfig::load(Path::new(path)).unwrap();
        assert_eq!(c.server.bind.as_deref(), Some("127.0.0.1:8080"));
        assert!(c.store.data_dir.is_some());
    }

    #[test]
    fn client_addresses_are_kept_only_where_configured() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.toml");
        std::fs::write(
            &f,
            "[server]\ntrusted_proxy = 'X-Real-IP'\n[privacy.client_address]\nopenrosa = 'sealed'\nweb_form = 'none'\n",
        )
        .unwrap();
        let c = FileConfig::load(&f).unwrap();
        let p = c.privacy.client_address.policy().unwrap();
        assert_eq!(p.openrosa, usalama_app::KeepClient::Sealed);
        assert_eq!(p.web_form, usalama_app::KeepClient::None);
        assert_eq!(p.api, usalama_app::KeepClient::None, "default");
        assert_eq!(
            c.server.web_config().trusted_proxy.as_deref(),
            Some("x-real-ip")
        );
        assert_eq!(
            FileConfig::default().server.web_config().trusted_proxy,
            None
        );
        std::fs::write(&f, "[privacy.client_address]\nsms = 'clear'\n").unwrap();
        let err = FileConfig::load(&f)
            .unwrap()
            .privacy
            .client_address
            .policy()
            .unwrap_err();
        assert!(
            err.contains("privacy.client_address.sms") && err.contains("clear"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("u.toml");
        std::fs::write(&f, "[server]\nbnd = 'x'\n").unwrap();
        let err = FileConfig::load(&f).unwrap_err().to_string();
        assert!(err.contains("u.toml") && err.contains("bnd"), "{err}");
    }

    #[test]
    fn flags_beat_file_and_both_stores_are_refused() {
        let file = StoreSection {
            data_dir: Some("from-file".into()),
            database_url: None,
        };
        let l = store_location(Some("flag".into()), None, &file, None).unwrap();
        assert_eq!(l, StoreLocation::SqliteDir("flag".into()));
        let l = store_location(None, None, &file, None).unwrap();
        assert_eq!(l, StoreLocation::SqliteDir("from-file".into()));
        assert!(store_location(
            Some("a".into()),
            Some("postgres://h/db".into()),
            &file,
            None
        )
        .is_err());
        assert!(store_location(None, Some("mysql://x".into()), &file, None).is_err());
    }
}
