//! `usalama alerts …`: evaluate the rules once and print what they raised, list alerts,
//! add, list and remove subscriptions, and make due deliveries once (for a cron job when
//! the server does not run).

use crate::cli::{open_app, ConfigError, Settings, StoreArgs};
use clap::Subcommand;
use std::fmt::Write as _;
use std::path::PathBuf;
use usalama_app::{AlertFilter, NetTransport, Principal, SubscriptionInput};
use usalama_domain::alert::{Alert, AlertSeverity, AlertStatus, DeliveryChannel};
use usalama_domain::{Dimension, SubscriptionId};

/// Alert subcommands.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Run every rule once and print the alerts raised now (those raised before are not
    /// raised again).
    Evaluate {
        /// An alert rules file replacing config/alerts.toml for this run.
        #[arg(long, value_name = "FILE")]
        rules: Option<PathBuf>,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List alerts, newest first.
    List {
        /// Only this status (new, acknowledged, responded, closed).
        #[arg(long)]
        status: Option<String>,
        /// Only alerts at least this severe (extreme, severe, moderate, minor).
        #[arg(long)]
        min_severity: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Subscribe an e-mail address or a webhook to alerts.
    Subscribe {
        /// A name for people.
        #[arg(long)]
        label: String,
        /// Deliver by e-mail to this address.
        #[arg(long, value_name = "ADDRESS", conflicts_with = "webhook")]
        email: Option<String>,
        /// Deliver by POSTing signed JSON to this URL (http://).
        #[arg(long, value_name = "URL", requires = "secret")]
        webhook: Option<String>,
        /// The webhook's signing secret (16 characters or more).
        #[arg(long, env = "USALAMA_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
        /// Only alerts about this locality (P-code) or below it.
        #[arg(long, value_name = "CODE")]
        locality: Option<String>,
        /// Only alerts of this dimension.
        #[arg(long)]
        dimension: Option<Dimension>,
        /// Only alerts at least this severe.
        #[arg(long, default_value = "moderate")]
        min_severity: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List subscriptions (secrets hidden).
    Subscriptions {
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove a subscription.
    Unsubscribe {
        /// The subscription's id.
        id: String,
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make every due delivery once (the server does this continuously).
    Deliver {
        /// Where the data is.
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// One line per alert: raised, severity, status, rule, period, locality, headline.
pub fn alert_lines(alerts: &[Alert]) -> String {
    let mut out = String::new();
    for a in alerts {
        let _ = writeln!(
            out,
            "{}  {:<8}  {:<12}  {:<24}  {:<7}  {:<6}  {}",
            a.id,
            a.severity.as_str(),
            a.status.as_str(),
            a.rule,
            a.period,
            a.locality_code.as_deref().unwrap_or("-"),
            a.headline
        );
    }
    out
}

fn bad(field: &str, e: impl std::fmt::Display) -> anyhow::Error {
    ConfigError(format!("--{field}: {e}")).into()
}

/// Runs an alerts subcommand.
pub fn run(s: &Settings, action: AlertsCommand) -> anyhow::Result<()> {
    let who = Principal::Operator;
    match action {
        AlertsCommand::Evaluate { rules, store } => {
            let app = open_app(s, &store, None)?;
            if let Some(p) = rules {
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", p.display())))?;
                app.set_alert_rules(
                    usalama_app::parse_alert_rules(&text, app.taxonomy())
                        .map_err(|e| ConfigError(format!("{}: {e}", p.display())))?,
                );
            }
            let e = app.evaluate_alerts(&who)?;
            print!("{}", alert_lines(&e.raised));
            println!(
                "{} alert(s) raised, {} already raised before",
                e.raised.len(),
                e.already_raised
            );
            for n in &e.notes {
                eprintln!("note: {n}");
            }
            Ok(())
        }
        AlertsCommand::List {
            status,
            min_severity,
            limit,
            store,
        } => {
            let status = status
                .map(|x| x.parse::<AlertStatus>())
                .transpose()
                .map_err(|e| bad("status", e.reason))?;
            let min_severity = min_severity
                .map(|x| x.parse::<AlertSeverity>())
                .transpose()
                .map_err(|e| bad("min-severity", e.reason))?;
            let app = open_app(s, &store, None)?;
            let alerts = app.list_alerts(
                &who,
                &AlertFilter {
                    status,
                    min_severity,
                    limit,
                    ..Default::default()
                },
            )?;
            print!("{}", alert_lines(&alerts));
            Ok(())
        }
        AlertsCommand::Subscribe {
            label,
            email,
            webhook,
            secret,
            locality,
            dimension,
            min_severity,
            store,
        } => {
            let (channel, target) = match (email, webhook) {
                (Some(e), None) => (DeliveryChannel::Email, e),
                (None, Some(w)) => (DeliveryChannel::Webhook, w),
                _ => return Err(bad("email", "give --email ADDRESS or --webhook URL")),
            };
            let min_severity = min_severity
                .parse::<AlertSeverity>()
                .map_err(|e| bad("min-severity", e.reason))?;
            let app = open_app(s, &store, None)?;
            let sub = app.add_subscription(
                &who,
                &SubscriptionInput {
                    label,
                    locality,
                    dimension,
                    min_severity,
                    channel,
                    target,
                    secret: if channel == DeliveryChannel::Webhook {
                        secret
                    } else {
                        None
                    },
                },
            )?;
            println!(
                "subscription {} ({} to {})",
                sub.id, sub.channel, sub.target
            );
            Ok(())
        }
        AlertsCommand::Subscriptions { store } => {
            let app = open_app(s, &store, None)?;
            for sub in app.list_subscriptions(&who)? {
                println!(
                    "{}  {:<8}  {:<30}  {:<9}  {}",
                    sub.id, sub.channel, sub.target, sub.min_severity, sub.label
                );
            }
            Ok(())
        }
        AlertsCommand::Unsubscribe { id, store } => {
            let id: SubscriptionId = id.parse().map_err(|e| bad("id", e))?;
            let app = open_app(s, &store, None)?;
            app.delete_subscription(&who, id)?;
            println!("subscription {id} removed");
            Ok(())
        }
        AlertsCommand::Deliver { store } => {
            let app = open_app(s, &store, None)?;
            let config = s.file.alerts.delivery();
            let r = app.deliver_due(&NetTransport::new(&config), &config)?;
            println!(
                "{} attempt(s): {} delivered, {} to retry, {} failed",
                r.attempted, r.delivered, r.retrying, r.failed
            );
            Ok(())
        }
    }
}
