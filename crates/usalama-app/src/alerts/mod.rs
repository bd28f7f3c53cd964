//! Alerts as use-cases: the rules in force (`config/alerts.toml` by default), their
//! evaluation (all rules, or the event rules on the events just written), the lifecycle,
//! subscriptions and the delivery outbox ([`delivery`]).
//!
//! When rules run:
//! - a report stored or a decision recorded: the event rules judge those events at once
//!   (the "one new event to alert decision" path), and the aggregate rules are marked due;
//! - an import, a merge or a re-placement: every rule is marked due;
//! - [`App::evaluate_alerts`] runs every rule (the server calls it on its schedule and
//!   soon after anything is marked due, through the waker it registers; the command line
//!   calls it after imports and in `usalama alerts evaluate`).
//!
//! Alerts are public aggregates: rule, locality, period, grading and numbers, never names,
//! contacts or descriptions of events. Who changed an alert's status is shown only to
//! people who may read event records.

pub mod delivery;
mod rules;

use crate::auth::Principal;
use crate::error::AppError;
use crate::App;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use usalama_domain::alert::{
    Alert, AlertSeverity, AlertStatus, AlertStatusChange, DeliveryChannel, Subscription,
};
use usalama_domain::{AdminLevel, AlertId, Dimension, EventId, LocalityId, Role, SubscriptionId};
use usalama_ingest::AlertRules;
use usalama_store::{AlertQuery, AlertWriteOutcome, DeliveryLogEntry, NewDelivery, StoredEvent};

pub use delivery::{
    sign_webhook, DeliveryConfig, DeliveryReport, NetTransport, Transport, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};

/// A forecast of fatal violence for one locality, as a forecast model gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastPoint {
    /// The locality.
    pub locality: LocalityId,
    /// The month forecast (`2023-01`).
    pub period: String,
    /// Probability of at least one fatal event in the locality within the horizon.
    pub probability: f64,
}

/// Where forecast rules get their probabilities: the application's own forecasts
/// (`App::forecasts`) unless another model is given with [`App::set_forecast_source`].
pub trait ForecastSource: Send + Sync {
    /// The model's name, kept in the evidence.
    fn name(&self) -> String;
    /// The probability of at least one fatal event within `horizon` months (1–3) for every
    /// locality of `level` the model covers.
    fn fatal_probabilities(
        &self,
        level: AdminLevel,
        horizon: u8,
    ) -> Result<Vec<ForecastPoint>, AppError>;
}

impl<F> ForecastSource for F
where
    F: Fn(AdminLevel, u8) -> Result<Vec<ForecastPoint>, AppError> + Send + Sync,
{
    fn name(&self) -> String {
        "forecast".into()
    }
    fn fatal_probabilities(
        &self,
        level: AdminLevel,
        horizon: u8,
    ) -> Result<Vec<ForecastPoint>, AppError> {
        self(level, horizon)
    }
}

/// Called when alert work is due (rules to evaluate, deliveries to make).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What the application keeps for alerts.
pub(crate) struct AlertState {
    rules: RwLock<Arc<AlertRules>>,
    forecast: RwLock<Option<Arc<dyn ForecastSource>>>,
    /// Aggregate rules must be evaluated again: data changed since the last evaluation.
    dirty: AtomicBool,
    waker: RwLock<Option<Waker>>,
    /// One evaluation at a time, so two never raise the same alert twice in a race (the
    /// store's key would refuse the second anyway).
    lock: Mutex<()>,
}

impl AlertState {
    pub(crate) fn new(taxonomy: &usalama_domain::Taxonomy) -> Self {
        let rules = usalama_ingest::parse_alert_rules(usalama_ingest::DEFAULT_ALERT_RULES, taxonomy)
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "the default alert rules do not fit this taxonomy; no rules in force");
                AlertRules {
                    rules: Vec::new(),
                    schedule_minutes: 15,
                    window_days: 31,
                }
            });
        Self {
            rules: RwLock::new(Arc::new(rules)),
            forecast: RwLock::new(None),
            dirty: AtomicBool::new(true),
            waker: RwLock::new(None),
            lock: Mutex::new(()),
        }
    }
}

/// What one evaluation did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evaluation {
    /// Alerts raised now (not those that already existed).
    pub raised: Vec<Alert>,
    /// Firings that matched an existing alert (same rule, locality and period).
    pub already_raised: usize,
    /// Rules that could not be evaluated, and why (no data, no forecast model).
    pub notes: Vec<String>,
}

/// Filters of the alert list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only alerts at least this severe.
    pub min_severity: Option<AlertSeverity>,
    /// Only alerts about this locality (code or id) or below it.
    pub locality: Option<String>,
    /// Only this dimension.
    pub dimension: Option<Dimension>,
    /// At most this many (0: 1000).
    pub limit: u32,
}

/// An alert with what its reader may see of its history and deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertDetail {
    /// The alert.
    pub alert: Alert,
    /// Status changes, the raising first; `by` is withheld (empty) for readers who may not
    /// read event records.
    pub history: Vec<AlertStatusChange>,
    /// Delivery attempts, only for administrators.
    pub deliveries: Vec<DeliveryLogEntry>,
}

/// A subscription to add.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionInput {
    /// A name for people.
    pub label: String,
    /// A locality code (its subtree); `None`: everywhere.
    pub locality: Option<String>,
    /// A dimension.
    pub dimension: Option<Dimension>,
    /// The least severity delivered.
    pub min_severity: AlertSeverity,
    /// How.
    pub channel: DeliveryChannel,
    /// The address or URL.
    pub target: String,
    /// The webhook secret.
    pub secret: Option<String>,
}

/// Whether a role may move alerts through their lifecycle.
pub fn can_handle_alerts(who: &Principal) -> bool {
    who.role()
        .is_some_and(|r| r.may(usalama_domain::Permission::HandleAlerts))
}

impl App {
    /// Replaces the rules in force (read from an alerts file by the caller).
    pub fn set_alert_rules(&self, rules: AlertRules) {
        if let Ok(mut g) = self.alerts.rules.write() {
            *g = Arc::new(rules);
        }
        self.alerts.dirty.store(true, Ordering::SeqCst);
    }

    /// The rules in force.
    pub fn alert_rules(&self) -> Arc<AlertRules> {
        self.alerts
            .rules
            .read()
            .map(|g| g.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Gives forecast rules their model.
    pub fn set_forecast_source(&self, source: Arc<dyn ForecastSource>) {
        if let Ok(mut g) = self.alerts.forecast.write() {
            *g = Some(source);
        }
        self.alerts.dirty.store(true, Ordering::SeqCst);
    }

    /// Registers what to call when alert work is due (the server's worker).
    pub fn set_alert_waker(&self, waker: Waker) {
        if let Ok(mut g) = self.alerts.waker.write() {
            *g = Some(waker);
        }
    }

    fn wake_alerts(&self) {
        let w = self.alerts.waker.read().ok().and_then(|g| g.clone());
        if let Some(w) = w {
            w();
        }
    }

    /// Data changed in a way only a full evaluation can judge (imports, merges).
    pub(crate) fn alerts_data_changed(&self) {
        self.alerts.dirty.store(true, Ordering::SeqCst);
        self.wake_alerts();
    }

    /// Whether data changed since the last full evaluation.
    pub fn alerts_due(&self) -> bool {
        self.alerts.dirty.load(Ordering::SeqCst)
    }

    /// Events were written one by one (reports, decisions): the event rules judge them now;
    /// the aggregate rules are marked due. A failure is logged, never passed on: the write
    /// itself succeeded.
    pub(crate) fn alerts_events_written(&self, ids: &[EventId]) {
        self.alerts.dirty.store(true, Ordering::SeqCst);
        self.log_evaluation(self.evaluate_events(ids));
        self.wake_alerts();
    }

    /// Like [`App::alerts_events_written`] for events just inserted, judged as the caller
    /// wrote them (a new event is stored exactly as given), so none is read back.
    pub(crate) fn alerts_events_inserted(&self, events: &[StoredEvent]) {
        self.alerts.dirty.store(true, Ordering::SeqCst);
        self.log_evaluation(self.evaluate_stored_events(events));
        self.wake_alerts();
    }

    fn log_evaluation(&self, e: Result<Evaluation, AppError>) {
        match e {
            Ok(e) if !e.raised.is_empty() => {
                tracing::info!(raised = e.raised.len(), "alerts raised");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "alert rules on new events failed"),
        }
    }

    /// Runs the event rules on some events (already stored). Returns what was raised;
    /// nothing when a full evaluation is under way (which the dirty mark repeats after).
    pub fn evaluate_events(&self, ids: &[EventId]) -> Result<Evaluation, AppError> {
        let rules = self.alert_rules();
        if !rules.rules.iter().any(|r| r.kind.is_event_rule()) || ids.is_empty() {
            return Ok(Evaluation::default());
        }
        let mut events = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(e) = self.store.get_event(*id)? {
                events.push(e);
            }
        }
        self.evaluate_stored_events(&events)
    }

    /// Runs the event rules, in one pass, on events as stored (the caller's copies),
    /// under the same terms as [`App::evaluate_events`].
    pub(crate) fn evaluate_stored_events(
        &self,
        events: &[StoredEvent],
    ) -> Result<Evaluation, AppError> {
        let rules = self.alert_rules();
        if !rules.rules.iter().any(|r| r.kind.is_event_rule()) || events.is_empty() {
            return Ok(Evaluation::default());
        }
        // A full evaluation under way holds the lock for as long as it reads the store: the
        // caller (a report being acknowledged) does not wait for it. The events are marked
        // dirty before this call, so the worker's next full run judges them instead.
        let _one = match self.alerts.lock.try_lock() {
            Ok(g) => g,
            Err(std::sync::TryLockError::WouldBlock) => return Ok(Evaluation::default()),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        };
        let mut ctx = rules::Context::new(self, &rules)?;
        let firings = rules::event_rules(&mut ctx, events)?;
        self.raise(&ctx, firings)
    }

    /// Runs every rule once and stores the alerts not raised before. Anyone with a role
    /// that handles alerts, and the operator, may run it.
    pub fn evaluate_alerts(&self, who: &Principal) -> Result<Evaluation, AppError> {
        if !can_handle_alerts(who) {
            return Err(match who.role() {
                None => AppError::Unauthenticated,
                Some(r) => AppError::Forbidden(r.to_string()),
            });
        }
        self.evaluate_all()
    }

    /// Runs every rule if data changed since the last full evaluation (for the server's
    /// worker and the command line after imports).
    pub fn evaluate_alerts_if_due(&self) -> Result<Option<Evaluation>, AppError> {
        if !self.alerts_due() {
            return Ok(None);
        }
        self.evaluate_all().map(Some)
    }

    fn evaluate_all(&self) -> Result<Evaluation, AppError> {
        let rules = self.alert_rules();
        let _one = self.alerts.lock.lock();
        self.alerts.dirty.store(false, Ordering::SeqCst);
        let given = self.alerts.forecast.read().ok().and_then(|g| g.clone());
        let own = crate::forecast::OwnForecasts(self);
        let forecast: &dyn ForecastSource = match &given {
            Some(source) => source.as_ref(),
            None => &own,
        };
        let mut ctx = rules::Context::new(self, &rules)?;
        let mut firings = Vec::new();
        let mut notes = Vec::new();
        firings.extend(rules::aggregate_rules(
            &mut ctx,
            Some(forecast),
            &mut notes,
        )?);
        let recent = rules::recent_events(&mut ctx)?;
        firings.extend(rules::event_rules(&mut ctx, &recent)?);
        let mut e = self.raise(&ctx, firings)?;
        e.notes = notes;
        if !e.raised.is_empty() {
            self.wake_alerts();
        }
        Ok(e)
    }

    /// Stores firings as alerts with their deliveries; counts those that existed.
    fn raise(&self, ctx: &rules::Context, firings: Vec<Alert>) -> Result<Evaluation, AppError> {
        let subs = self.store.list_subscriptions()?;
        let mut out = Evaluation::default();
        for alert in firings {
            let lineage = ctx.lineage(alert.locality);
            let deliveries: Vec<NewDelivery> = subs
                .iter()
                .filter(|s| s.matches(&alert, &lineage))
                .map(|s| NewDelivery {
                    subscription: s.id,
                    channel: s.channel,
                    target: s.target.clone(),
                })
                .collect();
            if self.store.insert_alert(&alert, &deliveries)? {
                out.raised.push(alert);
            } else {
                out.already_raised += 1;
            }
        }
        Ok(out)
    }

    /// Alerts matching the filter, newest first, for readers of event records (an alert
    /// names a locality at any level and its evidence; the public see `public_alerts`).
    pub fn list_alerts(&self, who: &Principal, f: &AlertFilter) -> Result<Vec<Alert>, AppError> {
        self.require_reader(who)?;
        let within = match &f.locality {
            Some(code) => Some(self.resolve_locality(code)?.id),
            None => None,
        };
        let locs = self.localities()?;
        let wanted = if f.limit == 0 {
            1000
        } else {
            f.limit.min(1000)
        } as usize;
        let q = AlertQuery {
            status: f.status,
            rule: f.rule.clone(),
            since: None,
            limit: 1000,
        };
        Ok(self
            .store
            .list_alerts(&q)?
            .into_iter()
            .filter(|a| f.min_severity.is_none_or(|m| a.severity.at_least(m)))
            .filter(|a| f.dimension.is_none_or(|d| a.dimension == Some(d)))
            .filter(|a| {
                within.is_none_or(|w| {
                    a.locality
                        .is_some_and(|l| rules::ancestors(&locs, l).contains(&w))
                })
            })
            .take(wanted)
            .collect())
    }

    /// One alert, for readers of event records.
    pub fn get_alert(&self, who: &Principal, id: AlertId) -> Result<Alert, AppError> {
        self.require_reader(who)?;
        self.store.get_alert(id)?.ok_or(AppError::NotFound("alert"))
    }

    /// One alert with its history (who changed it, with their notes) for readers of event
    /// records and, for administrators, its delivery attempts.
    pub fn alert_detail(&self, who: &Principal, id: AlertId) -> Result<AlertDetail, AppError> {
        let alert = self.get_alert(who, id)?;
        let history = self.store.alert_history(id)?;
        let deliveries = if who.role() == Some(Role::Admin) {
            self.store.delivery_log(id)?
        } else {
            Vec::new()
        };
        Ok(AlertDetail {
            alert,
            history,
            deliveries,
        })
    }

    /// Moves an alert to `to` (analysts, responders, administrators), checking the
    /// lifecycle; `expected` is the status the person saw, if known, so that two people
    /// acting at once do not overwrite each other.
    pub fn change_alert_status(
        &self,
        who: &Principal,
        id: AlertId,
        to: AlertStatus,
        expected: Option<AlertStatus>,
        note: Option<&str>,
    ) -> Result<Alert, AppError> {
        if !can_handle_alerts(who) {
            return Err(match who.role() {
                None => AppError::Unauthenticated,
                Some(r) => AppError::Forbidden(r.to_string()),
            });
        }
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if note.is_some_and(|n| n.chars().count() > 2000) {
            return Err(AppError::invalid("note", "is longer than 2000 characters"));
        }
        let current = self.get_alert(who, id)?.status;
        let from = expected.unwrap_or(current);
        from.transition(to)
            .map_err(|e| AppError::invalid(e.field, e.reason))?;
        let change = AlertStatusChange {
            alert: id,
            from: Some(from),
            to,
            by: who.name().unwrap_or_else(|| "unknown".into()),
            note: note.map(str::to_string),
            at: self.now(),
        };
        match self.store.change_alert_status(&change)? {
            AlertWriteOutcome::Done(a) => Ok(*a),
            AlertWriteOutcome::NotFound => Err(AppError::NotFound("alert")),
            AlertWriteOutcome::Conflict(now) => Err(AppError::Conflict {
                code: "status_conflict",
                message: format!("the alert is {now} now, not {from}: reload it"),
            }),
        }
    }

    /// Adds a subscription (administrators).
    pub fn add_subscription(
        &self,
        who: &Principal,
        input: &SubscriptionInput,
    ) -> Result<Subscription, AppError> {
        // Subscriptions are installation-wide: system administrators only.
        self.require(who, usalama_domain::Permission::ManageOrganisations)?;
        let label = input.label.trim();
        if label.is_empty() || label.chars().count() > 100 {
            return Err(AppError::invalid("label", "must have 1 to 100 characters"));
        }
        let locality = match &input.locality {
            Some(c) => Some(self.resolve_locality(c)?.id),
            None => None,
        };
        let s = Subscription {
            id: SubscriptionId::from_uuid(uuid::Uuid::new_v4()),
            label: label.to_string(),
            locality,
            dimension: input.dimension,
            min_severity: input.min_severity,
            channel: input.channel,
            target: input.target.trim().to_string(),
            secret: input.secret.clone(),
            created_at: self.now(),
        };
        s.validate()
            .map_err(|e| AppError::invalid(e.field, e.reason))?;
        self.store.insert_subscription(&s)?;
        Ok(s)
    }

    /// Every subscription (administrators); secrets are not returned.
    pub fn list_subscriptions(&self, who: &Principal) -> Result<Vec<Subscription>, AppError> {
        // Subscriptions are installation-wide: system administrators only.
        self.require(who, usalama_domain::Permission::ManageOrganisations)?;
        Ok(self
            .store
            .list_subscriptions()?
            .into_iter()
            .map(|mut s| {
                s.secret = s.secret.map(|_| "***".into());
                s
            })
            .collect())
    }

    /// Removes a subscription (administrators).
    pub fn delete_subscription(&self, who: &Principal, id: SubscriptionId) -> Result<(), AppError> {
        // Subscriptions are installation-wide: system administrators only.
        self.require(who, usalama_domain::Permission::ManageOrganisations)?;
        if self.store.delete_subscription(id)? {
            Ok(())
        } else {
            Err(AppError::NotFound("subscription"))
        }
    }
}
